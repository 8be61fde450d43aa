/* gui.c - the backend writes as if the user sat in front of a visual
 * editor ("click the Export button", "drag the clip onto the timeline",
 * "点击导出按钮"). There is no editor: the agent has tools. This rewrites
 * those instructions into what the agent can do, in English and Chinese,
 * and lists the next steps as actions.
 *
 * One table drives it. Each rule is a phrase pattern, the text that
 * replaces the phrase (NULL: keep it as written, which shields phrases such
 * as "已导出" or "click the link below" from the rules after it) and the
 * tool it points to. The reply is scanned left to right; at each position
 * the rules are tried in table order and the first match wins.
 *
 * Pattern language (patterns are written in lower case):
 *   word       matches case-insensitively; a word that begins or ends with
 *              an ASCII letter or digit must do so at a word boundary, so
 *              "click" does not match "clicked" and "open" not "opening"
 *   a b        a, then b: between words any spaces, tabs and decoration
 *              (quotes, **, 「」 ...) may appear, but no line break
 *   [a|b c]    optional alternatives     {a|b c}   required alternatives
 *   (a|b)      look-ahead: must follow, is not consumed
 *   *          any one ASCII word        ^         start of a sentence
 *
 * Decoration that opened just before the last matched word (the quote in
 * `click "Export"`) is consumed when it closes right after the match.
 * URLs and `code spans` in the reply are never rewritten. A replacement
 * starting a sentence gets a capital letter when the phrase had one.
 *
 * Cost is linear in the reply (times the rules that can start at a byte):
 * the space and decoration between two words, and the look back for a
 * sentence start, are at most GUI_SEP_MAX bytes (a longer run of "****"
 * separates nothing), so no attempt rescans a run of any length. Only the
 * first GUI_SCAN_MAX bytes are scanned, the rest of an absurdly long reply
 * is copied as it is, and the cancel token is checked every
 * GUI_CANCEL_EVERY bytes. */
#include <stdlib.h>
#include <string.h>

#include "nemo/buf.h"
#include "nemo/gui.h"

#define GUI_SCAN_MAX (1024 * 1024)
#define GUI_SEP_MAX 32
#define GUI_CANCEL_EVERY 4096
#define GUI_NO_SEP ((size_t)-1)

typedef struct gui_rule {
    const char *pattern;
    const char *text;  /* replacement; NULL keeps the phrase */
    const char *tool;  /* next step, or NULL */
} gui_rule;

static const struct {
    const char *tool;
    const char *why;
} gui_whys[] = {
    { "export", "render the timeline to MP4 and download it (pass "
                "download_to to save it locally)" },
    { "generate", "describe the edit in a prompt; the video agent applies "
                  "it" },
    { "state", "read the timeline: tracks, segments and a text summary" },
    { "upload", "upload local files (files: [paths]) or web addresses "
                "(urls)" },
};

/* English building blocks */
#define EN_PRESS "{click|tap|press|hit|select|choose|double-click|double click}"
#define EN_LOC                                                                \
    " [{in|at|on|from} [the] {top-right|top right|top-left|top left|upper-right|" \
    "upper right|upper-left|upper left|bottom-right|bottom right|"            \
    "bottom-left|bottom left|lower-right|lower right|lower-left|lower left|"  \
    "top|bottom|right|left|toolbar|sidebar|menu} [corner|side|bar|panel] "    \
    "[of the {screen|page|editor|window|app}]]"
#define EN_DRAG "{drag and drop|drag & drop|drag-and-drop|drag|drop}"
#define EN_OBJ "(your|the|it|this|my|now|a|them)"
/* Chinese building blocks */
#define ZH_PRESS "{点一下|点击|单击|双击|点按|轻点|按下|选择}"
#define ZH_LOC                                                                \
    " [页面] [{右上角|左上角|右下角|左下角|上方|下方|顶部|底部|右侧|左侧|"    \
    "上面|下面|右边|左边}] [的] "

static const gui_rule gui_rules[] = {
    /* ---- English: phrases that are not instructions to rewrite ---- */
    { "drag {race|races|racing|queen|queens|show|strip}", NULL, NULL },
    { "{click|open|tap|visit|follow|press} [on] [the|this] "
      "[following|registration|sign-up|signup|below] {link|url|address}",
      NULL, NULL },
    { "{click|tap} here to {register|sign up|log in|top up|upgrade|"
      "subscribe|buy|get more credits}", NULL, NULL },

    /* ---- English: export ---- */
    { EN_PRESS " [on] [the] {export video|download video|"
      "render video|save video|export|download|render} [button|icon|option|tab|"
      "menu item|link]" EN_LOC " to {download|save|get}",
      "call the `export` tool to render and download", "export" },
    { EN_PRESS " [on] [the] {export video|download video|"
      "render video|save video|export|download|render} [button|icon|option|tab|"
      "menu item|link]" EN_LOC,
      "call the `export` tool", "export" },
    { "{export|download|render} [video] {button|icon}" EN_LOC,
      "`export` tool", "export" },
    { "{go to|navigate to|switch to|head to|head over to|open} [the] "
      "{export|download|render} {tab|page|panel|menu|section|screen|dialog|"
      "window|settings}", "call the `export` tool", "export" },
    { "{click|tap} here to {download|export|save|render}",
      "call the `export` tool to download", "export" },
    { "^ {export|download} " EN_OBJ,
      "use the `export` tool to download", "export" },
    { "then {export|download} " EN_OBJ,
      "then use the `export` tool to download", "export" },
    { "{you can|now you can} [now] {export|download} " EN_OBJ,
      "you can now use the `export` tool to download", "export" },
    { "ready {to|for} {export|download|exporting|downloading}",
      "ready for the `export` tool", "export" },

    /* ---- English: upload ---- */
    { EN_DRAG " {your|the|any} [video|media|audio|image] {file|files|"
      "footage|media|clip|clips|video|videos|image|images|photo|photos|"
      "assets} {in here|here|into the {editor|upload area|upload box|window|"
      "page|box|media library|library}|onto the {editor|page|upload area|"
      "canvas}|into this {window|area|box}} [to upload [it|them]]",
      "pass your files to the `upload` tool", "upload" },
    { EN_DRAG " {files|media|videos|images|clips|footage} {here|into the "
      "editor} [to upload [it|them]]",
      "pass your files to the `upload` tool", "upload" },
    { EN_PRESS " [on] [the] {upload media|upload files|"
      "upload videos|upload video|upload|import|add media|add files|add file|"
      "+|plus} "
      "[media|files|file|video|videos] [button|icon|area|tab]" EN_LOC,
      "call the `upload` tool", "upload" },
    { "{upload|import} [media|files|video] {button|icon|area|tab}",
      "`upload` tool", "upload" },
    { "{click|tap} here to upload", "call the `upload` tool to upload",
      "upload" },
    { "^ upload (your|the|a|some|more|it|them|this|any|additional)",
      "use the `upload` tool to upload", "upload" },

    /* ---- English: state (open, preview) ---- */
    { "preview [it|this|them|the video|your video|the result|the changes|"
      "the edit|your edit|the clip|the new version] {in|on} [the] timeline",
      "check the timeline summary from the `state` tool", "state" },
    { EN_PRESS " [on] [the] {play|preview} [button|icon]",
      "check the timeline summary from the `state` tool", "state" },
    { "{open|view|go to|switch to|head to} [the|your] {timeline|tracks|"
      "track list|layers} [panel|view|tab|editor|window]",
      "read the timeline with the `state` tool", "state" },
    { "open [the|your] {project|editor|draft|preview|preview window|player|"
      "media library}", "read the project state with the `state` tool",
      "state" },
    { "{open|go to|switch to|head to} [the|a] [*] [*] {panel|tab|menu|"
      "sidebar|library|window|settings|section|toolbar|drawer|dialog|"
      "inspector|pane}", "read the timeline with the `state` tool", "state" },
    { "{refresh|reload} [the] {page|editor|browser|preview|window|app}",
      "call the `state` tool again", "state" },
    { "{preview|play} button", "`state` tool", "state" },

    /* ---- English: generate (apply, drag) and any other click ---- */
    { EN_PRESS " [on] [the] {generate video|generate|"
      "create video|create|make video|apply|confirm|submit|send|start} [button|icon]",
      "call the `generate` tool", "generate" },
    { "{generate|create} [video] {button|icon}", "`generate` tool",
      "generate" },
    { "{dragging and dropping|dragging}",
      "asking the `generate` tool to move", "generate" },
    { "{drag and drop|drag & drop|drag-and-drop|drag}",
      "ask the `generate` tool to move", "generate" },
    { "{double-click|double click|right-click|right click|single-click|"
      "click} [on]", "choose (via the `generate` tool)", "generate" },
    { "clicking [on]", "choosing (via the `generate` tool)", "generate" },
    { "{tap|press} [on] (the|a|an|your|this|that|each)",
      "choose (via the `generate` tool)", "generate" },

    /* ---- Chinese: phrases to keep as written ---- */
    { "工具 {导出|下载|上传|查看|移动} [并 {导出|下载}]", NULL, NULL },
    { "{已|已经|正在|开始|成功|完成} {导出|下载|上传}", NULL, NULL },
    { "{导出|下载|上传|渲染} {完成|成功|失败|中|进度|链接|地址|的|后|时|"
      "格式|速度|记录}", NULL, NULL },
    { "{点击|打开|访问} [以下|下方|该|此|这个] [注册] {链接|网址|网页|地址}",
      NULL, NULL },

    /* ---- Chinese: export ---- */
    { ZH_PRESS ZH_LOC "{导出|下载|渲染} [视频] [按钮|图标|选项] "
      "{下载|来下载|以下载|即可下载|进行下载}",
      "调用 `export` 工具导出并下载", "export" },
    { ZH_PRESS ZH_LOC "{导出|下载|渲染} 视频 {按钮|图标|选项}",
      "调用 `export` 工具导出视频", "export" },
    { ZH_PRESS ZH_LOC "{导出|下载|渲染} [按钮|图标|选项]",
      "调用 `export` 工具导出", "export" },
    { "{导出|下载|渲染} [视频] {按钮|图标|选项}", "`export` 工具", "export" },
    { "打开" ZH_LOC "{导出|下载} [设置|面板|窗口|选项|页面|对话框|菜单]",
      "调用 `export` 工具", "export" },

    /* ---- Chinese: upload ---- */
    { "{拖拽到|拖动到|拖放到|拖到|拖入|拖进|拖拽至|拖动至|拖至|拖曳到|"
      "拖放至} {此处|这里|这儿|上传区域|上传区|编辑器中|编辑器|窗口中|"
      "页面中|页面|画布} [即可|来|以] [上传]",
      "用 `upload` 工具上传", "upload" },
    { ZH_PRESS ZH_LOC "{添加素材|添加文件|添加媒体|上传|导入} "
      "[文件|素材|视频|媒体] [按钮|图标|区域]",
      "调用 `upload` 工具", "upload" },
    { "{上传|导入} {按钮|图标|区域}", "`upload` 工具", "upload" },
    { "打开" ZH_LOC "{上传|导入} [面板|窗口|页面|对话框|区域]",
      "调用 `upload` 工具", "upload" },

    /* ---- Chinese: state ---- */
    { "{在|于} {时间线|时间轴} {中|上|里} {预览|查看} [一下] [效果]",
      "用 `state` 工具查看时间线摘要", "state" },
    { ZH_PRESS ZH_LOC "{预览|播放} [按钮|图标] [{预览|观看|查看} [一下] "
      "[效果]]", "用 `state` 工具查看时间线摘要", "state" },
    { "打开 {时间线|时间轴} [面板|视图|窗口]",
      "用 `state` 工具查看时间线", "state" },
    { "预览 {图|链接|地址|图片}", NULL, NULL },

    /* ---- Chinese: generate and any other click ---- */
    { ZH_PRESS ZH_LOC "{生成视频|开始生成|生成|创建|应用|确认|提交} "
      "[按钮|图标]", "调用 `generate` 工具", "generate" },
    { "{生成|创建} {按钮|图标}", "`generate` 工具", "generate" },
    { "{拖拽|拖动|拖放|拖曳}", "通过 `generate` 工具移动", "generate" },
    { "{拖到|拖至|拖进}", "通过 `generate` 工具移动到", "generate" },
    { "{点击|单击|双击|点按|轻点|点一下}", "通过 `generate` 工具选择",
      "generate" },

    /* ---- Chinese: bare verbs last, after every longer phrase ---- */
    { "导出", "用 `export` 工具导出", "export" },
    { "下载", "用 `export` 工具下载", "export" },
    { "上传", "用 `upload` 工具上传", "upload" },
    { "打开", "用 `state` 工具查看", "state" },
    { "预览", "用 `state` 工具查看", "state" },
};

/* ---- matching --------------------------------------------------------- */

typedef struct gui_match {
    const char *t;     /* the reply */
    size_t len;
    size_t start;      /* where this attempt began */
    size_t end;        /* set on success */
    size_t dec_at;     /* decoration skipped before the last word */
    size_t dec_len;
} gui_match;

/* The rest of an enclosing sequence, for backtracking into groups. */
typedef struct gui_cont {
    const char *p, *pe;
    const struct gui_cont *next;
} gui_cont;

static const char *const gui_decor[] = {
    "\"", "'", "*", "`", "_", "\xE2\x80\x9C", "\xE2\x80\x9D", /* “ ” */
    "\xE2\x80\x98", "\xE2\x80\x99",                           /* ‘ ’ */
    "\xE3\x80\x8C", "\xE3\x80\x8D", "\xE3\x80\x8E", "\xE3\x80\x8F", /* 「」『』 */
    "\xE3\x80\x90", "\xE3\x80\x91", "\xE3\x80\x8A", "\xE3\x80\x8B", /* 【】《》 */
};

/* Closing partner of each decoration above (same order). */
static const char *const gui_decor_close[] = {
    "\"", "'", "*", "`", "_", "\xE2\x80\x9D", "\xE2\x80\x9D",
    "\xE2\x80\x99", "\xE2\x80\x99",
    "\xE3\x80\x8D", "\xE3\x80\x8D", "\xE3\x80\x8F", "\xE3\x80\x8F",
    "\xE3\x80\x91", "\xE3\x80\x91", "\xE3\x80\x8B", "\xE3\x80\x8B",
};

static int gui_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static unsigned char gui_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Index of the decoration at t[pos], or -1. */
static int gui_decor_at(const gui_match *m, size_t pos)
{
    unsigned char c = (unsigned char)m->t[pos];
    size_t i;

    /* the scan asks at nearly every byte: reject the common case fast */
    if (c != '"' && c != '\'' && c != '*' && c != '`' && c != '_' &&
        c != 0xE2 && c != 0xE3)
        return -1;
    for (i = 0; i < sizeof gui_decor / sizeof gui_decor[0]; i++) {
        size_t n = strlen(gui_decor[i]);

        if (pos + n <= m->len && memcmp(m->t + pos, gui_decor[i], n) == 0)
            return (int)i;
    }
    return -1;
}

/* Skip spaces, tabs and decoration between two words; *dec_at and *dec_len
 * get the decoration run just before the next word. GUI_NO_SEP when the
 * run is longer than GUI_SEP_MAX. */
static size_t gui_skip_sep(const gui_match *m, size_t pos, size_t *dec_at,
                           size_t *dec_len)
{
    size_t from = pos;

    *dec_at = pos;
    *dec_len = 0;
    while (pos < m->len) {
        int d;

        if (pos - from > GUI_SEP_MAX)
            return GUI_NO_SEP;

        if (m->t[pos] == ' ' || m->t[pos] == '\t') {
            pos++;
            *dec_at = pos;
            *dec_len = 0;
            continue;
        }
        d = gui_decor_at(m, pos);
        if (d < 0)
            break;
        pos += strlen(gui_decor[d]);
        *dec_len = pos - *dec_at;
    }
    return pos;
}

/* Is there a word character just outside [pos, pos + n)? Hyphenated
 * compounds count as one word: "click-to-play" is not "click". */
static int gui_joined_before(const gui_match *m, size_t pos)
{
    if (pos == 0)
        return 0;
    if (gui_alnum((unsigned char)m->t[pos - 1]))
        return 1;
    return m->t[pos - 1] == '-' && pos >= 2 &&
           gui_alnum((unsigned char)m->t[pos - 2]);
}

static int gui_joined_after(const gui_match *m, size_t end)
{
    if (end >= m->len)
        return 0;
    if (gui_alnum((unsigned char)m->t[end]))
        return 1;
    return m->t[end] == '-' && end + 1 < m->len &&
           gui_alnum((unsigned char)m->t[end + 1]);
}

/* Match one pattern word at pos; returns the end or (size_t)-1. */
static size_t gui_word(const gui_match *m, size_t pos, const char *w,
                       size_t wn)
{
    size_t i;

    if (pos + wn > m->len)
        return (size_t)-1;
    for (i = 0; i < wn; i++)
        if (gui_lower((unsigned char)m->t[pos + i]) != (unsigned char)w[i])
            return (size_t)-1;
    if (gui_alnum((unsigned char)w[0]) && gui_joined_before(m, pos))
        return (size_t)-1;
    if (gui_alnum((unsigned char)w[wn - 1]) && gui_joined_after(m, pos + wn))
        return (size_t)-1;
    return pos + wn;
}

/* A sentence starts at pos: start of text, or after . ! ? : ; a line
 * break, a list bullet, or their full-width forms. */
static int gui_sentence_start(const gui_match *m, size_t pos)
{
    static const char *const fullwidth[] = {
        "\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F", "\xEF\xBC\x9A",
        "\xEF\xBC\x9B",
    };
    size_t i, low = pos > GUI_SEP_MAX ? pos - GUI_SEP_MAX : 0;

    while (pos > low && (m->t[pos - 1] == ' ' || m->t[pos - 1] == '\t' ||
                         m->t[pos - 1] == '*'))
        pos--;
    if (pos == low && low > 0)
        return 0;                 /* a run that long starts nothing */
    if (pos == 0 || strchr(".!?:;\n\r-)>", m->t[pos - 1]))
        return 1;
    for (i = 0; i < sizeof fullwidth / sizeof fullwidth[0]; i++)
        if (pos >= 3 && memcmp(m->t + pos - 3, fullwidth[i], 3) == 0)
            return 1;
    return 0;
}

/* End of the pattern item at p: a group with its closer, or a word. */
static const char *gui_item_end(const char *p, const char *pe)
{
    if (*p == '[' || *p == '{' || *p == '(') {
        int depth = 0;

        for (; p < pe; p++) {
            if (*p == '[' || *p == '{' || *p == '(')
                depth++;
            else if ((*p == ']' || *p == '}' || *p == ')') && --depth == 0)
                return p + 1;
        }
        return pe;
    }
    if (*p == '^' || *p == '*')
        return p + 1;
    while (p < pe && *p != ' ' && *p != '[' && *p != ']' && *p != '{' &&
           *p != '}' && *p != '(' && *p != ')' && *p != '|')
        p++;
    return p;
}

/* Next alternative inside a group body [a, ae): returns its end. */
static const char *gui_alt_end(const char *a, const char *ae)
{
    int depth = 0;

    for (; a < ae; a++) {
        if (*a == '[' || *a == '{' || *a == '(')
            depth++;
        else if (*a == ']' || *a == '}' || *a == ')')
            depth--;
        else if (*a == '|' && depth == 0)
            return a;
    }
    return ae;
}

static int gui_seq(gui_match *m, const char *p, const char *pe,
                   const gui_cont *k, size_t pos, size_t dat, size_t dlen);

/* Try each alternative of the group body [a, ae), then the rest. */
static int gui_group(gui_match *m, const char *a, const char *ae,
                     const char *rest, const char *pe, const gui_cont *k,
                     size_t pos, size_t dat, size_t dlen)
{
    gui_cont k2 = { rest, pe, k };

    while (a <= ae) {
        const char *e = gui_alt_end(a, ae);

        if (gui_seq(m, a, e, &k2, pos, dat, dlen))
            return 1;
        a = e + 1;
    }
    return 0;
}

static int gui_seq(gui_match *m, const char *p, const char *pe,
                   const gui_cont *k, size_t pos, size_t dat, size_t dlen)
{
    const char *q;

    while (p < pe && *p == ' ')
        p++;
    if (p >= pe) {
        if (k)
            return gui_seq(m, k->p, k->pe, k->next, pos, dat, dlen);
        m->end = pos;
        m->dec_at = dat;
        m->dec_len = dlen;
        return 1;
    }
    q = gui_item_end(p, pe);
    if (q == p) /* a stray closer: a bug in the table, never a crash */
        return 0;
    switch (*p) {
    case '^':
        return pos == m->start && gui_sentence_start(m, pos) &&
               gui_seq(m, q, pe, k, pos, dat, dlen);
    case '[':
        return gui_group(m, p + 1, q - 1, q, pe, k, pos, dat, dlen) ||
               gui_seq(m, q, pe, k, pos, dat, dlen);
    case '{':
        return gui_group(m, p + 1, q - 1, q, pe, k, pos, dat, dlen);
    case '(': {
        gui_match probe = *m;

        return gui_group(&probe, p + 1, q - 1, q, q, NULL, pos, dat, dlen) &&
               gui_seq(m, q, pe, k, pos, dat, dlen);
    }
    case '*': {
        size_t at = pos, da = pos, dl = 0, e;

        if (pos > m->start)
            at = gui_skip_sep(m, pos, &da, &dl);
        if (at == GUI_NO_SEP || (at == pos && pos > m->start))
            return 0;
        for (e = at; e < m->len && (gui_alnum((unsigned char)m->t[e]) ||
                                    m->t[e] == '-');
             e++)
            ;
        return e > at && gui_seq(m, q, pe, k, e, da, dl);
    }
    default: {
        size_t at = pos, da = dat, dl = dlen, e;

        if (pos > m->start)
            at = gui_skip_sep(m, pos, &da, &dl);
        if (at == GUI_NO_SEP)
            return 0;
        e = gui_word(m, at, p, (size_t)(q - p));
        return e != (size_t)-1 && gui_seq(m, q, pe, k, e, da, dl);
    }
    }
}

/* After the match: close the decoration opened before the last word. */
static size_t gui_close_decor(const gui_match *m)
{
    size_t end = m->end, i = m->dec_at + m->dec_len;

    while (i > m->dec_at) {
        size_t j = m->dec_at, last = m->dec_at;
        int d = -1;

        /* find the decoration that ends at i */
        while (j < i) {
            int dj = gui_decor_at(m, j);

            if (dj < 0)
                return end;
            last = j;
            d = dj;
            j += strlen(gui_decor[dj]);
        }
        {
            const char *c = gui_decor_close[d];
            size_t n = strlen(c);

            if (end + n > m->len || memcmp(m->t + end, c, n) != 0)
                return end;
            end += n;
        }
        i = last;
    }
    return end;
}

/* ---- first bytes: which rules can start at a given byte --------------- */

typedef struct gui_first {
    unsigned char bits[32];
} gui_first;

static void gui_first_add(gui_first *f, unsigned char c)
{
    f->bits[c >> 3] |= (unsigned char)(1u << (c & 7));
    if (c >= 'a' && c <= 'z') /* words match either case */
        gui_first_add(f, (unsigned char)(c - 32));
}

/* Add the bytes a match of [p, pe) can begin with; 1 when it can be empty
 * (then the caller must allow anything that follows). */
static int gui_first_of(const char *p, const char *pe, gui_first *f)
{
    while (p < pe) {
        const char *q;
        int nullable = 0;

        while (p < pe && *p == ' ')
            p++;
        if (p >= pe)
            break;
        q = gui_item_end(p, pe);
        if (q == p)
            return 1;
        if (*p == '[' || *p == '{') {
            const char *a = p + 1, *ae = q - 1;

            while (a <= ae) {
                const char *e = gui_alt_end(a, ae);

                nullable |= gui_first_of(a, e, f);
                a = e + 1;
            }
            if (*p == '[')
                nullable = 1;
        } else if (*p == '^' || *p == '(') {
            nullable = 1; /* consumes nothing */
        } else if (*p == '*') {
            unsigned c;

            for (c = 0; c < 128; c++)
                if (gui_alnum((unsigned char)c))
                    gui_first_add(f, (unsigned char)c);
        } else {
            gui_first_add(f, (unsigned char)*p);
        }
        if (!nullable)
            return 0;
        p = q;
    }
    return 1;
}

static void gui_first_all(gui_first *f)
{
    memset(f->bits, 0xff, sizeof f->bits);
}

static int gui_first_has(const gui_first *f, unsigned char c)
{
    return f->bits[c >> 3] & (1u << (c & 7));
}

/* ---- the scan --------------------------------------------------------- */

static size_t gui_utf8_len(const unsigned char *s, size_t avail)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3
             : s[0] >= 0xC0 ? 2 : 1;
    size_t i;

    if (n > avail)
        return 1;
    for (i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

/* A URL or a `code span` at pos: its length, else 0. */
static size_t gui_verbatim(const char *t, size_t len, size_t pos)
{
    size_t e = pos;

    if ((len - pos >= 8 && strncmp(t + pos, "https://", 8) == 0) ||
        (len - pos >= 7 && strncmp(t + pos, "http://", 7) == 0)) {
        while (e < len && t[e] != ' ' && t[e] != '\t' && t[e] != '\n' &&
               t[e] != '\r' && (unsigned char)t[e] < 0x80)
            e++;
        return e - pos;
    }
    if (t[pos] == '`') {
        const char *close = memchr(t + pos + 1, '`', len - pos - 1);

        if (close && !memchr(t + pos + 1, '\n', (size_t)(close - t) - pos))
            return (size_t)(close - t) - pos + 1;
    }
    return 0;
}

static const char *gui_why(const char *tool)
{
    size_t i;

    for (i = 0; i < sizeof gui_whys / sizeof gui_whys[0]; i++)
        if (strcmp(gui_whys[i].tool, tool) == 0)
            return gui_whys[i].why;
    return "";
}

static int gui_add_action(cJSON *actions, const char *tool)
{
    const cJSON *a;
    cJSON *item;

    cJSON_ArrayForEach(a, actions) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "tool");

        if (cJSON_IsString(t) && strcmp(t->valuestring, tool) == 0)
            return 0;
    }
    item = cJSON_CreateObject();
    if (!item || !cJSON_AddStringToObject(item, "tool", tool) ||
        !cJSON_AddObjectToObject(item, "arguments") ||
        !cJSON_AddStringToObject(item, "why", gui_why(tool)) ||
        !cJSON_AddItemToArray(actions, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

static int gui_emit(nemo_buf *out, const gui_match *m, const gui_rule *r,
                    size_t end)
{
    const char *text = r->text;

    if (!text)
        return buf_append(out, m->t + m->start, end - m->start);
    if (m->t[m->start] >= 'A' && m->t[m->start] <= 'Z' && text[0] >= 'a' &&
        text[0] <= 'z') {
        if (buf_putc(out, (char)(text[0] - 32)) < 0)
            return -1;
        text++;
    }
    return buf_puts(out, text);
}

#define GUI_NRULES (sizeof gui_rules / sizeof gui_rules[0])

int gui_translate(const char *reply, char **rewritten, cJSON **actions)
{
    return gui_translate_cancel(reply, NULL, rewritten, actions);
}

int gui_translate_cancel(const char *reply, nemo_cancel *cancel,
                         char **rewritten, cJSON **actions)
{
    size_t next_check = GUI_CANCEL_EVERY;
    nemo_buf out = NEMO_BUF_INIT;
    cJSON *acts = cJSON_CreateArray();
    gui_first first[GUI_NRULES];
    size_t plen[GUI_NRULES];
    gui_match m;
    size_t pos = 0, i;

    if (rewritten)
        *rewritten = NULL;
    if (actions)
        *actions = NULL;
    if (!acts || !reply)
        goto fail;
    memset(&m, 0, sizeof m);
    m.t = reply;
    m.len = strlen(reply);
    if (buf_reserve(&out, m.len + 1) < 0 || buf_puts(&out, "") < 0)
        goto fail;
    /* cheap per call, and it keeps the scan from trying every rule at
     * every byte of a long reply */
    for (i = 0; i < GUI_NRULES; i++) {
        plen[i] = strlen(gui_rules[i].pattern);
        memset(&first[i], 0, sizeof first[i]);
        if (gui_first_of(gui_rules[i].pattern, gui_rules[i].pattern + plen[i],
                         &first[i]))
            gui_first_all(&first[i]);
    }
    while (pos < m.len && pos < GUI_SCAN_MAX) {
        size_t v;
        int hit = 0;

        if (pos >= next_check) {
            if (cancel_requested(cancel))
                goto fail;
            next_check = pos + GUI_CANCEL_EVERY;
        }
        v = gui_verbatim(reply, m.len, pos);
        if (v) {
            if (buf_append(&out, reply + pos, v) < 0)
                goto fail;
            pos += v;
            continue;
        }
        /* inside an ASCII word nothing can start */
        if (!(pos > 0 && gui_alnum((unsigned char)reply[pos]) &&
              gui_alnum((unsigned char)reply[pos - 1]))) {
            for (i = 0; i < GUI_NRULES; i++) {
                const char *p = gui_rules[i].pattern;
                size_t end;

                if (!gui_first_has(&first[i], (unsigned char)reply[pos]))
                    continue;
                m.start = pos;
                if (!gui_seq(&m, p, p + plen[i], NULL, pos, pos, 0))
                    continue;
                end = gui_close_decor(&m);
                if (gui_emit(&out, &m, &gui_rules[i], end) < 0 ||
                    (gui_rules[i].tool &&
                     gui_add_action(acts, gui_rules[i].tool) < 0))
                    goto fail;
                pos = end;
                hit = 1;
                break;
            }
        }
        if (!hit) {
            size_t n = gui_utf8_len((const unsigned char *)reply + pos,
                                    m.len - pos);

            if (buf_append(&out, reply + pos, n) < 0)
                goto fail;
            pos += n;
        }
    }
    if (pos < m.len && buf_append(&out, reply + pos, m.len - pos) < 0)
        goto fail;
    if (rewritten) {
        *rewritten = buf_detach(&out);
        if (!*rewritten)
            goto fail;
    }
    buf_free(&out);
    if (actions)
        *actions = acts;
    else
        cJSON_Delete(acts);
    return 0;
fail:
    if (rewritten) {
        free(*rewritten);
        *rewritten = NULL;
    }
    buf_free(&out);
    cJSON_Delete(acts);
    return -1;
}
