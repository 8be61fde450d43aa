/* test_intent.c - prompt routing per the seeds' table, English and
 * Chinese: short commands skip the agent, anything that asks for an edit
 * (even one that mentions a keyword) goes to it. */
#include <stdlib.h>

#include "nemo/intent.h"
#include "unit.h"

static const struct {
    const char *prompt;
    intent_route want;
} cases[] = {
    /* export / 导出 / download / send me the video */
    { "export", INTENT_EXPORT },
    { "export 1080p MP4", INTENT_EXPORT },   /* a seed's "Try saying" */
    { "export in high quality", INTENT_EXPORT },
    { "Export it", INTENT_EXPORT },
    { "export it!", INTENT_EXPORT },
    { "EXPORT", INTENT_EXPORT },
    { "Download.", INTENT_EXPORT },
    { "download the video", INTENT_EXPORT },
    { "please export my video", INTENT_EXPORT },
    { "can you export the final video?", INTENT_EXPORT },
    { "send me the video", INTENT_EXPORT },
    { "render it", INTENT_EXPORT },
    { "export as mp4", INTENT_EXPORT },
    { "export ~/Videos/out.mp4", INTENT_EXPORT },
    { "\xF0\x9F\x8E\xAC export", INTENT_EXPORT },
    { "导出", INTENT_EXPORT },
    { "导出视频", INTENT_EXPORT },
    { "下载视频", INTENT_EXPORT },
    { "帮我导出一下", INTENT_EXPORT },
    { "请把视频发给我", INTENT_EXPORT },
    { "帮我 export 一下", INTENT_EXPORT },
    { "导出视频。", INTENT_EXPORT },
    /* credits / 积分 / balance / 余额 */
    { "credits", INTENT_CREDITS },
    { "how many credits do I have", INTENT_CREDITS },
    { "what's my balance?", INTENT_CREDITS },
    { "check balance", INTENT_CREDITS },
    { "credit balance", INTENT_CREDITS },
    { "积分", INTENT_CREDITS },
    { "余额", INTENT_CREDITS },
    { "我还有多少积分？", INTENT_CREDITS },
    { "查询余额", INTENT_CREDITS },
    /* status / 状态 / show tracks */
    { "status?", INTENT_STATE },
    { "show tracks", INTENT_STATE },
    { "show me the timeline", INTENT_STATE },
    { "what's the status", INTENT_STATE },
    { "状态", INTENT_STATE },
    { "查看状态", INTENT_STATE },
    { "显示轨道", INTENT_STATE },
    { "看看时间线", INTENT_STATE },
    /* upload / 上传 / a file */
    { "upload", INTENT_UPLOAD },
    { "upload a file", INTENT_UPLOAD },
    { "upload /tmp/clip.mp4", INTENT_UPLOAD },
    { "upload these photos", INTENT_UPLOAD },
    { "/home/me/clip.mov", INTENT_UPLOAD },
    { "clip.mp4 https://example.com/b.png", INTENT_UPLOAD },
    { "上传", INTENT_UPLOAD },
    { "上传视频", INTENT_UPLOAD },
    { "请上传照片", INTENT_UPLOAD },
    /* everything else: the agent */
    { "add a title that says 'Download now'", INTENT_AGENT },
    { "make the export look cinematic and add music", INTENT_AGENT },
    { "generate a 10-second product clip", INTENT_AGENT },
    { "add lo-fi background music", INTENT_AGENT },
    { "animate this image into a 5-second video with smooth motion",
      INTENT_AGENT },
    { "don't export yet", INTENT_AGENT },
    { "trim the intro to 3 seconds", INTENT_AGENT },
    { "the credits roll at the end should be white", INTENT_AGENT },
    { "status: add more energy to the intro", INTENT_AGENT },
    { "add subtitles then export", INTENT_AGENT },
    { "export \"final cut\"", INTENT_AGENT },
    { "export and upload", INTENT_AGENT }, /* two actions: let the agent */
    { "please please please please please please please please please "
      "please please export it", INTENT_AGENT },
    { "给视频加上'立即下载'的字幕", INTENT_AGENT },
    { "把导出的视频调成电影感", INTENT_AGENT },
    { "生成一个猫的视频", INTENT_AGENT },
    { "导出前先加背景音乐", INTENT_AGENT },
    { "在片尾显示积分规则", INTENT_AGENT },
    { "添加「下载」按钮的动画", INTENT_AGENT },
    { "hello", INTENT_AGENT },
    { "", INTENT_AGENT },
    { "   ?! ", INTENT_AGENT },
    { "exporting", INTENT_AGENT },
    { "downloads folder cleanup", INTENT_AGENT },
};

TEST(table)
{
    size_t i, zh = 0;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        intent_route got = intent_classify(cases[i].prompt);

        if (got != cases[i].want)
            printf("#   \"%s\" -> %s, expected %s\n", cases[i].prompt,
                   intent_name(got), intent_name(cases[i].want));
        CHECK_INT(got, cases[i].want);
        if ((unsigned char)cases[i].prompt[0] >= 0xE0)
            zh++;
    }
    printf("# %zu prompts (%zu starting in Chinese)\n", i, zh);
    CHECK(i >= 30);
    CHECK(zh >= 10);
}

TEST(names)
{
    CHECK_STR(intent_name(INTENT_AGENT), "agent");
    CHECK_STR(intent_name(INTENT_EXPORT), "export");
    CHECK_STR(intent_name(INTENT_CREDITS), "credits");
    CHECK_STR(intent_name(INTENT_STATE), "state");
    CHECK_STR(intent_name(INTENT_UPLOAD), "upload");
    CHECK_STR(intent_name((intent_route)42), "agent");
    CHECK_STR(intent_name((intent_route)-1), "agent");
}

TEST(hostile)
{
    char big[4096];
    size_t i;

    CHECK_INT(intent_classify(NULL), INTENT_AGENT);
    CHECK_INT(intent_classify("\xFF\xFE export"), INTENT_EXPORT);
    CHECK_INT(intent_classify("export \xE4\xB8"), INTENT_EXPORT);
    CHECK_INT(intent_classify("\xE4\xB8"), INTENT_AGENT);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(intent_classify(big), INTENT_AGENT);
    /* a very long single word is content, not a keyword */
    memcpy(big, "export ", 7);
    big[120] = '\0';
    CHECK_INT(intent_classify(big), INTENT_AGENT);
    for (i = 0; i < 2000; i++) {
        char buf[64];
        size_t j;

        for (j = 0; j < sizeof buf - 1; j++)
            buf[j] = (char)(1 + (i * 131 + j * 17) % 255);
        buf[sizeof buf - 1] = '\0';
        CHECK((int)intent_classify(buf) >= INTENT_AGENT &&
              (int)intent_classify(buf) <= INTENT_UPLOAD);
    }
}

int main(void)
{
    RUN(table);
    RUN(names);
    RUN(hostile);
    return unit_done();
}
