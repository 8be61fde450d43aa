/* intent.c - route a user prompt the way the seeds' table does:
 *
 *   "export" / "导出" / "download" / "send me the video"   -> export
 *   "credits" / "积分" / "balance" / "余额"                 -> credits
 *   "status" / "状态" / "show tracks"                       -> state
 *   "upload" / "上传" / the user sends a file               -> upload
 *   everything else (generate, edit, add BGM...)           -> agent
 *
 * The rule: a prompt skips the agent only when it is a short command.
 * It is split into words (English: runs of letters, digits and inner
 * apostrophes, case-insensitive; Chinese, Japanese, Korean: the longest
 * entry of the table below that matches, character by character). The
 * prompt routes to an action when
 *   - every word is either a keyword of that action or a filler word
 *     (please, can you, my, the, video, 请, 帮我, 视频, 多少 ...), or a file
 *     path / URL,
 *   - at least one keyword is present, and all keywords name the same
 *     action (a bare file path counts as an upload),
 *   - and it has at most INTENT_MAX_WORDS words.
 * Any other word ("title", "cinematic", "music", "don't", "加", "电影感")
 * means the prompt asks for an edit and goes to the agent, so "add a title
 * that says 'Download now'" and "make the export look cinematic and add
 * music" reach the agent while "export it", "download the video", "导出视
 * 频", "how many credits do I have", "余额", "show tracks" and "status?"
 * route to their action. Text in double quotes is content, never a
 * command. */
#include <string.h>

#include "nemo/intent.h"

#define INTENT_MAX_WORDS 12
#define INTENT_MAX_BYTES 240
#define INTENT_FILLER (-1)

static const struct {
    const char *word;
    int route;  /* intent_route, or INTENT_FILLER */
} intent_words[] = {
    /* English keywords */
    { "export", INTENT_EXPORT }, { "download", INTENT_EXPORT },
    { "render", INTENT_EXPORT }, { "send", INTENT_EXPORT },
    { "credits", INTENT_CREDITS }, { "credit", INTENT_CREDITS },
    { "balance", INTENT_CREDITS },
    { "status", INTENT_STATE }, { "tracks", INTENT_STATE },
    { "track", INTENT_STATE }, { "timeline", INTENT_STATE },
    { "state", INTENT_STATE },
    { "upload", INTENT_UPLOAD },
    /* Chinese keywords */
    { "导出", INTENT_EXPORT }, { "下载", INTENT_EXPORT },
    { "渲染", INTENT_EXPORT }, { "发给我", INTENT_EXPORT },
    { "积分", INTENT_CREDITS }, { "余额", INTENT_CREDITS },
    { "点数", INTENT_CREDITS },
    { "状态", INTENT_STATE }, { "轨道", INTENT_STATE },
    { "时间线", INTENT_STATE }, { "时间轴", INTENT_STATE },
    { "上传", INTENT_UPLOAD },
    /* English fillers: politeness, pronouns, question words, objects */
    { "please", INTENT_FILLER }, { "pls", INTENT_FILLER },
    { "plz", INTENT_FILLER }, { "can", INTENT_FILLER },
    { "could", INTENT_FILLER }, { "would", INTENT_FILLER },
    { "will", INTENT_FILLER }, { "you", INTENT_FILLER },
    { "i", INTENT_FILLER }, { "i'd", INTENT_FILLER },
    { "i'm", INTENT_FILLER }, { "me", INTENT_FILLER },
    { "my", INTENT_FILLER }, { "we", INTENT_FILLER },
    { "our", INTENT_FILLER }, { "the", INTENT_FILLER },
    { "a", INTENT_FILLER }, { "an", INTENT_FILLER },
    { "it", INTENT_FILLER }, { "this", INTENT_FILLER },
    { "that", INTENT_FILLER }, { "these", INTENT_FILLER },
    { "those", INTENT_FILLER }, { "them", INTENT_FILLER },
    { "video", INTENT_FILLER }, { "videos", INTENT_FILLER },
    { "clip", INTENT_FILLER }, { "clips", INTENT_FILLER },
    { "file", INTENT_FILLER }, { "files", INTENT_FILLER },
    { "photo", INTENT_FILLER }, { "photos", INTENT_FILLER },
    { "image", INTENT_FILLER }, { "images", INTENT_FILLER },
    { "media", INTENT_FILLER }, { "footage", INTENT_FILLER },
    { "movie", INTENT_FILLER }, { "project", INTENT_FILLER },
    { "final", INTENT_FILLER }, { "result", INTENT_FILLER },
    { "mp4", INTENT_FILLER }, { "as", INTENT_FILLER },
    /* output settings, as in the seeds' "export 1080p MP4" */
    { "1080p", INTENT_FILLER }, { "720p", INTENT_FILLER },
    { "4k", INTENT_FILLER }, { "hd", INTENT_FILLER },
    { "in", INTENT_FILLER }, { "high", INTENT_FILLER },
    { "quality", INTENT_FILLER },
    { "now", INTENT_FILLER }, { "just", INTENT_FILLER },
    { "again", INTENT_FILLER }, { "current", INTENT_FILLER },
    { "remaining", INTENT_FILLER }, { "left", INTENT_FILLER },
    { "do", INTENT_FILLER }, { "does", INTENT_FILLER },
    { "have", INTENT_FILLER }, { "has", INTENT_FILLER },
    { "is", INTENT_FILLER }, { "are", INTENT_FILLER },
    { "what", INTENT_FILLER }, { "what's", INTENT_FILLER },
    { "whats", INTENT_FILLER }, { "how", INTENT_FILLER },
    { "many", INTENT_FILLER }, { "much", INTENT_FILLER },
    { "show", INTENT_FILLER }, { "check", INTENT_FILLER },
    { "get", INTENT_FILLER }, { "give", INTENT_FILLER },
    { "see", INTENT_FILLER }, { "view", INTENT_FILLER },
    { "tell", INTENT_FILLER }, { "let", INTENT_FILLER },
    { "let's", INTENT_FILLER }, { "lets", INTENT_FILLER },
    { "want", INTENT_FILLER }, { "need", INTENT_FILLER },
    { "like", INTENT_FILLER }, { "to", INTENT_FILLER },
    { "for", INTENT_FILLER }, { "of", INTENT_FILLER },
    { "and", INTENT_FILLER }, { "ok", INTENT_FILLER },
    { "okay", INTENT_FILLER }, { "go", INTENT_FILLER },
    { "ahead", INTENT_FILLER }, { "yes", INTENT_FILLER },
    { "thanks", INTENT_FILLER }, { "hey", INTENT_FILLER },
    /* Chinese fillers */
    { "请", INTENT_FILLER }, { "帮我", INTENT_FILLER },
    { "帮忙", INTENT_FILLER }, { "帮", INTENT_FILLER },
    { "给我", INTENT_FILLER }, { "我的", INTENT_FILLER },
    { "我要", INTENT_FILLER }, { "我想", INTENT_FILLER },
    { "我", INTENT_FILLER }, { "你", INTENT_FILLER },
    { "您", INTENT_FILLER }, { "的", INTENT_FILLER },
    { "一下", INTENT_FILLER }, { "吧", INTENT_FILLER },
    { "吗", INTENT_FILLER }, { "呢", INTENT_FILLER },
    { "了", INTENT_FILLER }, { "啊", INTENT_FILLER },
    { "视频", INTENT_FILLER }, { "现在", INTENT_FILLER },
    { "查看", INTENT_FILLER }, { "看看", INTENT_FILLER },
    { "看", INTENT_FILLER }, { "显示", INTENT_FILLER },
    { "查询", INTENT_FILLER }, { "查", INTENT_FILLER },
    { "还有", INTENT_FILLER }, { "还剩", INTENT_FILLER },
    { "剩余", INTENT_FILLER }, { "剩下", INTENT_FILLER },
    { "多少", INTENT_FILLER }, { "几个", INTENT_FILLER },
    { "把", INTENT_FILLER }, { "能", INTENT_FILLER },
    { "可以", INTENT_FILLER }, { "当前", INTENT_FILLER },
    { "目前", INTENT_FILLER }, { "是", INTENT_FILLER },
    { "什么", INTENT_FILLER }, { "这个", INTENT_FILLER },
    { "文件", INTENT_FILLER }, { "素材", INTENT_FILLER },
    { "照片", INTENT_FILLER }, { "图片", INTENT_FILLER },
    { "最终", INTENT_FILLER }, { "成品", INTENT_FILLER },
    { "有", INTENT_FILLER }, { "要", INTENT_FILLER },
    { "想", INTENT_FILLER }, { "就", INTENT_FILLER },
    { "开始", INTENT_FILLER }, { "马上", INTENT_FILLER },
    { "所有", INTENT_FILLER }, { "全部", INTENT_FILLER },
    { "个", INTENT_FILLER }, { "好", INTENT_FILLER },
};

static const char *const intent_names[] = {
    "agent", "export", "credits", "state", "upload",
};

const char *intent_name(intent_route r)
{
    if ((int)r < 0 || (size_t)r >= sizeof intent_names / sizeof *intent_names)
        return "agent";
    return intent_names[r];
}

/* Decode one UTF-8 character; returns its length (1 for a bad byte). */
static size_t intent_utf8(const unsigned char *s, unsigned long *cp)
{
    size_t n, i;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (!n) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = s[0] & (0x3F >> (n - 1));
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    return n;
}

enum { CH_SEP, CH_LATIN, CH_CJK, CH_QUOTE };

static int intent_class(unsigned long cp)
{
    if (cp == '"' || cp == 0x201C || cp == 0x201D || cp == 0x300C ||
        cp == 0x300D || cp == 0x300E || cp == 0x300F)
        return CH_QUOTE;
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
            (cp >= '0' && cp <= '9') || cp == '\'')
            return CH_LATIN;
        return CH_SEP;
    }
    if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x9FFF) ||
        (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF))
        return CH_CJK;
    if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
        (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
        (cp >= 0xFF5B && cp <= 0xFF65) || cp >= 0x1F000 || cp == 0xA0 ||
        cp == 0xFFFD)
        return CH_SEP; /* punctuation, symbols, emoji */
    return CH_LATIN;   /* accented letters and other scripts' letters */
}

/* Route of a whole word, INTENT_FILLER, or -2 when unknown. */
static int intent_lookup(const char *w, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof intent_words / sizeof *intent_words; i++)
        if (strlen(intent_words[i].word) == n &&
            memcmp(intent_words[i].word, w, n) == 0)
            return intent_words[i].route;
    return -2;
}

/* Longest table entry at the start of a CJK run; its length, or 0. */
static size_t intent_cjk_match(const char *s, size_t avail, int *route)
{
    size_t i, best = 0;

    for (i = 0; i < sizeof intent_words / sizeof *intent_words; i++) {
        size_t n = strlen(intent_words[i].word);

        if ((unsigned char)intent_words[i].word[0] >= 0x80 && n <= avail &&
            n > best && memcmp(intent_words[i].word, s, n) == 0) {
            best = n;
            *route = intent_words[i].route;
        }
    }
    return best;
}

/* A path or URL token ("/tmp/a.mp4", "~/clip.mov", "https://..."): an
 * object, not a word. Scans the whitespace-delimited token at s. */
static size_t intent_path_token(const char *s, size_t len)
{
    size_t n = 0;
    int path = 0;

    while (n < len && s[n] != ' ' && s[n] != '\t' && s[n] != '\n' &&
           s[n] != '\r')
        n++;
    if (n == 0)
        return 0;
    if (s[0] == '/' || s[0] == '~' || (n > 2 && s[0] == '.' && s[1] == '/'))
        path = 1;
    {
        size_t i;

        for (i = 0; i + 3 <= n; i++)
            if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
                path = 1;
    }
    if (!path) {
        const char *dot = memchr(s, '.', n);

        /* name.ext with a short alphanumeric extension: clip.mp4 */
        if (dot && dot > s && (size_t)(s + n - dot) >= 3 &&
            (size_t)(s + n - dot) <= 5) {
            const char *e;

            path = 1;
            for (e = dot + 1; e < s + n; e++)
                if (!((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
                      (*e >= '0' && *e <= '9')))
                    path = 0;
        }
    }
    return path ? n : 0;
}

typedef struct intent_tally {
    int words;
    int route;    /* the one route seen, 0 when none */
    int conflict;
    int content;
    int paths;
} intent_tally;

static void intent_count(intent_tally *t, int route)
{
    t->words++;
    if (route == -2) {
        t->content = 1;
    } else if (route != INTENT_FILLER) {
        if (t->route && t->route != route)
            t->conflict = 1;
        t->route = route;
    }
}

intent_route intent_classify(const char *prompt)
{
    intent_tally t = { 0, 0, 0, 0, 0 };
    size_t len, pos = 0;

    if (!prompt)
        return INTENT_AGENT;
    len = strlen(prompt);
    if (len > INTENT_MAX_BYTES)
        return INTENT_AGENT;
    while (pos < len && !t.content && t.words <= INTENT_MAX_WORDS) {
        const char *s = prompt + pos;
        unsigned long cp;
        size_t n = intent_utf8((const unsigned char *)s, &cp), w;
        int cls = intent_class(cp);

        if ((pos == 0 || strchr(" \t\n\r", prompt[pos - 1])) &&
            (w = intent_path_token(s, len - pos)) > 0) {
            t.paths++;
            t.words++;
            pos += w;
            continue;
        }
        if (cls == CH_QUOTE) {
            t.content = 1;
        } else if (cls == CH_SEP) {
            pos += n;
        } else if (cls == CH_CJK) {
            int route = -2;
            size_t m = intent_cjk_match(s, len - pos, &route);

            intent_count(&t, m ? route : -2);
            pos += m ? m : n;
        } else {
            char word[48];
            size_t wl = 0;

            /* an English word: letters, digits, inner apostrophes */
            while (pos < len) {
                n = intent_utf8((const unsigned char *)prompt + pos, &cp);
                if (intent_class(cp) != CH_LATIN)
                    break;
                if (wl + n < sizeof word) {
                    size_t i;

                    for (i = 0; i < n; i++) {
                        char c = prompt[pos + i];

                        word[wl++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32)
                                                            : c;
                    }
                } else {
                    wl = sizeof word; /* too long to be a keyword */
                }
                pos += n;
            }
            while (wl > 0 && wl < sizeof word && word[wl - 1] == '\'')
                wl--;
            {
                size_t start = 0;

                while (start < wl && wl < sizeof word && word[start] == '\'')
                    start++;
                if (wl - start > 0)
                    intent_count(&t, wl >= sizeof word ? -2
                                     : intent_lookup(word + start,
                                                     wl - start));
            }
        }
    }
    if (t.content || t.conflict || t.words > INTENT_MAX_WORDS)
        return INTENT_AGENT;
    if (t.route)
        return (intent_route)t.route;
    return t.paths ? INTENT_UPLOAD : INTENT_AGENT;
}
