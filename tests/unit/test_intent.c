/* test_intent.c - the seeds' routing table, English and Chinese, and the
 * prompts that merely mention a keyword. */
#include "nemo/intent.h"
#include "unit.h"

static const struct {
    const char *prompt;
    intent_route want;
} cases[] = {
    { "export", INTENT_EXPORT },
    { "Export it", INTENT_EXPORT },
    { "export 1080p MP4", INTENT_EXPORT },
    { "download the video", INTENT_EXPORT },
    { "Send me the video", INTENT_EXPORT },
    { "please send me the video now!", INTENT_EXPORT },
    { "导出", INTENT_EXPORT },
    { "导出视频", INTENT_EXPORT },
    { "帮我下载视频", INTENT_EXPORT },
    { "credits", INTENT_CREDITS },
    { "How many credits do I have?", INTENT_CREDITS },
    { "what's my balance", INTENT_CREDITS },
    { "check balance", INTENT_CREDITS },
    { "积分", INTENT_CREDITS },
    { "还有多少余额", INTENT_CREDITS },
    { "status", INTENT_STATE },
    { "status?", INTENT_STATE },
    { "Show tracks", INTENT_STATE },
    { "show the tracks please", INTENT_STATE },
    { "状态", INTENT_STATE },
    { "查看状态", INTENT_STATE },
    { "upload", INTENT_UPLOAD },
    { "how do I upload a file", INTENT_UPLOAD },
    { "上传", INTENT_UPLOAD },
    { "上传文件", INTENT_UPLOAD },
    /* Everything else, including prompts that only mention a keyword. */
    { "add a title that says 'Download now'", INTENT_AGENT },
    { "make the export look cinematic and add music", INTENT_AGENT },
    { "animate this image into a 5-second video with smooth motion",
      INTENT_AGENT },
    { "add background music", INTENT_AGENT },
    { "cut the pauses, add background music, and generate captions",
      INTENT_AGENT },
    { "Put \"Export sale\" as the title", INTENT_AGENT },
    { "the video downloaded fine, now make it shorter", INTENT_AGENT },
    { "添加背景音乐", INTENT_AGENT },
    { "生成一个导出按钮的动画", INTENT_AGENT },
    { "给视频加上字幕“上传成功”", INTENT_AGENT },
    { "turn these images into a 30-second promo video with music and text "
      "overlays", INTENT_AGENT },
    { "exported", INTENT_AGENT },
    { "", INTENT_AGENT },
    { "status of the world economy explained in a long rambling video about "
      "markets and history", INTENT_AGENT },
};

TEST(routes_table)
{
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        intent_route got = intent_classify(cases[i].prompt);
        if (got != cases[i].want)
            printf("#   \"%s\" -> %s, expected %s\n", cases[i].prompt,
                   intent_name(got), intent_name(cases[i].want));
        CHECK(got == cases[i].want);
    }
    CHECK(intent_classify(NULL) == INTENT_AGENT);
}

TEST(names)
{
    CHECK_STR(intent_name(INTENT_AGENT), "agent");
    CHECK_STR(intent_name(INTENT_EXPORT), "export");
    CHECK_STR(intent_name(INTENT_CREDITS), "credits");
    CHECK_STR(intent_name(INTENT_STATE), "state");
    CHECK_STR(intent_name(INTENT_UPLOAD), "upload");
}

TEST(long_input_is_safe)
{
    char big[4096];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(intent_classify(big) == INTENT_AGENT);
}

int main(void)
{
    RUN(routes_table);
    RUN(names);
    RUN(long_input_is_safe);
    return unit_done();
}
