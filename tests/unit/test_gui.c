/* test_gui.c - GUI instructions rewritten into tool calls: the corpus in
 * tests/fixtures/gui_corpus.tsv (English, Chinese, mixed; positive cases
 * lose every GUI verb, negative cases come back untouched), plus actions,
 * decoration, URLs, UTF-8 safety and big or hostile input. Runs from the
 * repository root (tests/run.py sets the cwd). */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "nemo/gui.h"
#include "unit.h"

#define CORPUS "tests/fixtures/gui_corpus.tsv"

/* GUI verbs that must not survive in a rewritten positive case. English
 * ones are matched as whole words. */
static const char *const gui_verbs_en[] = {
    "click", "clicking", "double-click", "right-click", "tap", "press",
    "drag", "dragging", "drop", "open",
};
static const char *const gui_verbs_zh[] = {
    "点击", "单击", "双击", "点按", "拖拽", "拖动", "拖放", "打开",
};

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

/* A GUI verb left in s (outside `code`), or NULL. */
static const char *gui_verb_left(const char *s)
{
    size_t i, n = strlen(s), k;
    int in_code = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '`') {
            in_code = !in_code;
            continue;
        }
        if (in_code)
            continue;
        for (k = 0; k < sizeof gui_verbs_zh / sizeof *gui_verbs_zh; k++)
            if (strncmp(s + i, gui_verbs_zh[k], strlen(gui_verbs_zh[k])) == 0)
                return gui_verbs_zh[k];
        if (i > 0 && is_word_char(s[i - 1]))
            continue;
        for (k = 0; k < sizeof gui_verbs_en / sizeof *gui_verbs_en; k++) {
            size_t wl = strlen(gui_verbs_en[k]);

            if (strncasecmp(s + i, gui_verbs_en[k], wl) == 0 &&
                !is_word_char(s[i + wl]))
                return gui_verbs_en[k];
        }
    }
    return NULL;
}

static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3
                 : (*p >> 3) == 30 ? 4 : 0;
        size_t i;

        if (!n)
            return 0;
        for (i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

/* "export,state" from an actions array; checks each action's shape. */
static void action_tools(const cJSON *actions, char *out, size_t cap)
{
    const cJSON *a;

    out[0] = '\0';
    cJSON_ArrayForEach(a, actions) {
        const cJSON *tool = cJSON_GetObjectItemCaseSensitive(a, "tool");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(a, "arguments");
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(a, "why");

        CHECK(cJSON_IsString(tool));
        CHECK(cJSON_IsObject(args));
        CHECK(cJSON_IsString(why) && strlen(why->valuestring) > 10);
        if (!cJSON_IsString(tool))
            continue;
        if (out[0])
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, tool->valuestring, cap - strlen(out) - 1);
    }
    if (!out[0])
        snprintf(out, cap, "-");
}

static void unescape(char *s)
{
    char *w = s;

    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *w++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

TEST(corpus)
{
    FILE *f = fopen(CORPUS, "r");
    char line[8192];
    int rows = 0, pos = 0, neg = 0, zh = 0, lineno = 0;

    CHECK(f != NULL);
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *kind, *tools, *reply, *expected, *out = NULL, *again = NULL;
        cJSON *actions = NULL, *actions2 = NULL;
        char got_tools[256];
        const char *left;

        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        kind = strtok(line, "\t");
        tools = strtok(NULL, "\t");
        reply = strtok(NULL, "\t");
        expected = strtok(NULL, "\t");
        CHECK(kind && tools && reply && expected);
        if (!kind || !tools || !reply || !expected)
            continue;
        unescape(reply);
        unescape(expected);
        rows++;
        if (strstr(reply, "\xE7\x82\xB9") || strstr(reply, "\xE6\x89\x93") ||
            strstr(reply, "\xE6\x8B\x96") || strstr(reply, "\xE5\xAF\xBC") ||
            strstr(reply, "\xE4\xB8\x8A\xE4\xBC\xA0"))
            zh++;
        CHECK_INT(gui_translate(reply, &out, &actions), 0);
        if (!out) {
            cJSON_Delete(actions);
            continue;
        }
        action_tools(actions, got_tools, sizeof got_tools);
        if (strcmp(kind, "neg") == 0) {
            neg++;
            CHECK_STR(out, reply);
            CHECK_STR(got_tools, "-");
        } else {
            pos++;
            CHECK_STR(out, expected);
            CHECK_STR(got_tools, tools);
            left = gui_verb_left(out);
            CHECK(left == NULL);
            if (left)
                printf("#   line %d: \"%s\" left in: %s\n", lineno, left, out);
            CHECK(strcmp(got_tools, "-") != 0);
            CHECK(strcmp(out, reply) != 0);
        }
        CHECK(utf8_valid(out));
        /* a second pass changes nothing: the rewrite is idempotent */
        CHECK_INT(gui_translate(out, &again, &actions2), 0);
        CHECK_STR(again, out);
        free(again);
        cJSON_Delete(actions2);
        free(out);
        cJSON_Delete(actions);
    }
    fclose(f);
    printf("# corpus: %d replies (%d positive, %d negative, %d with Chinese)\n",
           rows, pos, neg, zh);
    CHECK(rows >= 40);
    CHECK(pos >= 30);
    CHECK(neg >= 10);
    CHECK(zh >= 12);
}

static void check_rewrite(const char *in, const char *want_text,
                          const char *want_tools)
{
    char *out = NULL;
    cJSON *actions = NULL;
    char tools[256];

    CHECK_INT(gui_translate(in, &out, &actions), 0);
    CHECK_STR(out, want_text);
    action_tools(actions, tools, sizeof tools);
    CHECK_STR(tools, want_tools);
    free(out);
    cJSON_Delete(actions);
}

TEST(brief_examples)
{
    check_rewrite("Click the Export button to download your video.",
                  "Call the `export` tool to render and download your video.",
                  "export");
    check_rewrite("点击导出按钮下载视频", "调用 `export` 工具导出并下载视频",
                  "export");
    check_rewrite("click Generate", "call the `generate` tool", "generate");
    check_rewrite("I clicked through your clips", "I clicked through your clips",
                  "-");
    check_rewrite("I exported nothing", "I exported nothing", "-");
    check_rewrite("The opening scene is ready.", "The opening scene is ready.",
                  "-");
}

TEST(each_mapping)
{
    /* click -> the relevant tool */
    check_rewrite("Click Upload.", "Call the `upload` tool.", "upload");
    check_rewrite("Please click on the \"Generate Video\" button.",
                  "Please call the `generate` tool.", "generate");
    /* open -> state */
    check_rewrite("Open the timeline.",
                  "Read the timeline with the `state` tool.", "state");
    check_rewrite("打开时间轴", "用 `state` 工具查看时间线", "state");
    /* drag and drop -> generate */
    check_rewrite("Drag and drop the logo onto the top-left corner.",
                  "Ask the `generate` tool to move the logo onto the top-left "
                  "corner.", "generate");
    check_rewrite("拖动字幕到画面底部", "通过 `generate` 工具移动字幕到画面底部",
                  "generate");
    check_rewrite("把片头拖到最后", "把片头通过 `generate` 工具移动到最后",
                  "generate");
    /* preview in timeline -> state */
    check_rewrite("preview in timeline",
                  "check the timeline summary from the `state` tool", "state");
    check_rewrite("在时间线中预览", "用 `state` 工具查看时间线摘要", "state");
    check_rewrite("预览效果", "用 `state` 工具查看效果", "state");
    /* export / download buttons -> export */
    check_rewrite("Use the download button.", "Use the `export` tool.",
                  "export");
    check_rewrite("导出", "用 `export` 工具导出", "export");
    check_rewrite("下载视频", "用 `export` 工具下载视频", "export");
    /* upload button -> upload */
    check_rewrite("Use the upload button.", "Use the `upload` tool.", "upload");
    check_rewrite("上传视频", "用 `upload` 工具上传视频", "upload");
    check_rewrite("点击上传按钮", "调用 `upload` 工具", "upload");
}

TEST(actions_dedup_and_order)
{
    check_rewrite("Drag the clip left. Click Export. Open the timeline. "
                  "Click Export again, then drag the title.",
                  "Ask the `generate` tool to move the clip left. Call the "
                  "`export` tool. Read the timeline with the `state` tool. "
                  "Call the `export` tool again, then ask the `generate` tool "
                  "to move the title.", "generate,export,state");
    check_rewrite("先点击上传，再点击导出。",
                  "先调用 `upload` 工具，再调用 `export` 工具导出。",
                  "upload,export");
    /* only the actions */
    {
        cJSON *actions = NULL;
        char tools[64];

        CHECK_INT(gui_translate("Click Export", NULL, &actions), 0);
        action_tools(actions, tools, sizeof tools);
        CHECK_STR(tools, "export");
        cJSON_Delete(actions);
    }
    /* only the text */
    {
        char *out = NULL;

        CHECK_INT(gui_translate("Click Export", &out, NULL), 0);
        CHECK_STR(out, "Call the `export` tool");
        free(out);
    }
}

TEST(case_and_words)
{
    check_rewrite("CLICK THE EXPORT BUTTON", "Call the `export` tool", "export");
    check_rewrite("cLiCk ExPoRt", "call the `export` tool", "export");
    check_rewrite("Reopen the panel", "Reopen the panel", "-");
    check_rewrite("an export-ready file", "an export-ready file", "-");
    check_rewrite("a click-to-play ad", "a click-to-play ad", "-");
    check_rewrite("Clicks and pops were removed from the audio.",
                  "Clicks and pops were removed from the audio.", "-");
    check_rewrite("Your drop shadow is softer now.",
                  "Your drop shadow is softer now.", "-");
    check_rewrite("The bass drop lands at 0:12.", "The bass drop lands at 0:12.",
                  "-");
    check_rewrite("Press the button", "Choose (via the `generate` tool) the "
                  "button", "generate");
    check_rewrite("Press coverage", "Press coverage", "-");
    check_rewrite("视频已导出", "视频已导出", "-");
    check_rewrite("导出完成后即可分享", "导出完成后即可分享", "-");
    check_rewrite("正在上传", "正在上传", "-");
    check_rewrite("请打开以下链接完成注册", "请打开以下链接完成注册", "-");
}

TEST(decoration_and_verbatim)
{
    check_rewrite("Click \"Export\".", "Call the `export` tool.", "export");
    check_rewrite("Click 'Export' now", "Call the `export` tool now", "export");
    check_rewrite("Click **Export**!", "Call the `export` tool!", "export");
    check_rewrite("Click \xE2\x80\x9C" "Export" "\xE2\x80\x9D" " to finish",
                  "Call the `export` tool to finish", "export");
    check_rewrite("**Click Export**", "**Call the `export` tool**", "export");
    check_rewrite("点击「导出」", "调用 `export` 工具导出", "export");
    check_rewrite("点击【上传】按钮", "调用 `upload` 工具", "upload");
    check_rewrite("See https://x.example/click/export?open=1 and `click export`.",
                  "See https://x.example/click/export?open=1 and `click export`.",
                  "-");
    check_rewrite("Click\nExport", "Choose (via the `generate` tool)\nExport",
                  "generate");
}

TEST(utf8_safety)
{
    static const char bad[] = "\xFF\xFE click \xE4\xB8 Export \xC3";
    char *out = NULL;
    cJSON *actions = NULL;

    /* invalid bytes are copied through as they are */
    CHECK_INT(gui_translate(bad, &out, &actions), 0);
    CHECK_STR(out, "\xFF\xFE choose (via the `generate` tool) \xE4\xB8 Export "
                   "\xC3");
    free(out);
    cJSON_Delete(actions);
    check_rewrite("\xF0\x9F\x8E\xAC" "Click Export" "\xF0\x9F\x8E\xAC",
                  "\xF0\x9F\x8E\xAC" "Call the `export` tool" "\xF0\x9F\x8E\xAC",
                  "export");
    check_rewrite("", "", "-");
    CHECK_INT(gui_translate(NULL, &out, &actions), -1);
    CHECK(out == NULL && actions == NULL);
}

static uint64_t rng = 88172645463325252ull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

TEST(hostile_and_big_input)
{
    static const char *const parts[] = {
        "click", " ", "the", "Export", "button", "\"", "**", "导出", "点击",
        "打开", "拖", "拖拽", "到", "此处", "上传", "「", "」", "\xE4\xB8",
        "\xFF", "\n", "open", "drag and drop", "https://", "`", "Preview",
        "in the timeline", "^", "[", "{", "|", "*", "-", ".", "you can",
        "ready to", "\xF0\x9F\x8E\xAC", "here", "to download",
    };
    char buf[512];
    size_t big = 2 * 1024 * 1024, i;
    char *text = malloc(big + 1), *out = NULL;
    cJSON *actions = NULL;
    int iter;
    clock_t t0;

    for (iter = 0; iter < 5000; iter++) {
        size_t n = 0;

        while (n < sizeof buf - 40) {
            const char *p = parts[next_rand() % (sizeof parts / sizeof *parts)];
            size_t l = strlen(p);

            memcpy(buf + n, p, l);
            n += l;
            if (next_rand() % 8 == 0)
                break;
        }
        buf[n] = '\0';
        CHECK_INT(gui_translate(buf, &out, &actions), 0);
        CHECK(out != NULL && cJSON_IsArray(actions));
        free(out);
        cJSON_Delete(actions);
    }
    /* 2 MB: linear, text without GUI phrases is unchanged, and past the
     * first MiB the reply is copied as it is */
    for (i = 0; i < big; i++)
        text[i] = "abcdefgh ij.\n"[i % 13];
    text[big] = '\0';
    /* at line starts (the pattern repeats every 13 bytes) */
    memcpy(text + 100009, "Click Export", 12);
    memcpy(text + (big - 100000) / 13 * 13, "Click Upload", 12);
    t0 = clock();
    CHECK_INT(gui_translate(text, &out, &actions), 0);
    CHECK((clock() - t0) / CLOCKS_PER_SEC < 60); /* linear, even in valgrind */
    CHECK(out && strlen(out) == big - 12 + strlen("Call the `export` tool"));
    CHECK(out && strstr(out, "Click Upload") != NULL);
    CHECK_INT(cJSON_GetArraySize(actions), 1);
    free(out);
    cJSON_Delete(actions);
    /* 256 KiB of nothing but GUI verbs: every position a match */
    for (i = 0; i + 6 <= big / 8; i += 6)
        memcpy(text + i, "\xE7\x82\xB9\xE5\x87\xBB", 6); /* 点击 */
    text[i] = '\0';
    CHECK_INT(gui_translate(text, &out, &actions), 0);
    CHECK(out && !strstr(out, "\xE7\x82\xB9\xE5\x87\xBB"));
    free(out);
    cJSON_Delete(actions);
    free(text);
}

/* issue 11 #17: "Click ****...Export****..." took 4 s for 40 KB and grew
 * with the square of the run (a 1 MB reply: about 40 minutes). Linear now:
 * a 1 MB run takes a fraction of a second; the runner's timeout is the
 * bound, no clock is read here. */
TEST(decoration_runs_are_linear)
{
    size_t n = 1u << 20, half = n / 2, o = 0;
    char *t = malloc(n + 64), *out = NULL;
    cJSON *actions = NULL;

    o += (size_t)sprintf(t, "Click ");
    while (o < half)
        t[o++] = '*';
    o += (size_t)sprintf(t + o, "Export");
    while (o < n)
        t[o++] = '*';
    t[o] = '\0';
    CHECK_INT(gui_translate(t, &out, &actions), 0);
    /* the run separates nothing: "Export" is not the object of "Click" */
    CHECK(out && strstr(out, "*****Export*****") != NULL);
    CHECK(out && strstr(out, "export` tool") == NULL);
    free(out);
    cJSON_Delete(actions);
    /* short decoration still separates words as before */
    CHECK_INT(gui_translate("Click **\"Export\"** to save it.", &out,
                            &actions), 0);
    CHECK_STR(out, "Call the `export` tool to render and download it.");
    free(out);
    cJSON_Delete(actions);
    free(t);
}

TEST(translation_checks_the_cancel_token)
{
    size_t n = 512u << 10, i;
    char *t = malloc(n + 1), *out = (char *)1;
    cJSON *actions = (cJSON *)1;
    nemo_cancel c;

    for (i = 0; i < n; i++)
        t[i] = "click the export button. "[i % 25];
    t[n] = '\0';
    cancel_init(&c);
    cancel_request(&c);
    CHECK_INT(gui_translate_cancel(t, &c, &out, &actions), -1);
    CHECK(out == NULL && actions == NULL);
    cancel_destroy(&c);
    CHECK_INT(gui_translate_cancel("click export", NULL, &out, &actions), 0);
    free(out);
    cJSON_Delete(actions);
    free(t);
}

int main(void)
{
    RUN(corpus);
    RUN(brief_examples);
    RUN(each_mapping);
    RUN(actions_dedup_and_order);
    RUN(case_and_words);
    RUN(decoration_and_verbatim);
    RUN(utf8_safety);
    RUN(decoration_runs_are_linear);
    RUN(translation_checks_the_cancel_token);
    RUN(hostile_and_big_input);
    return unit_done();
}
