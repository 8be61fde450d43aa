/* test_answers.c - the pure parsers of backend answers, without a network:
 * render start and render status (enveloped data or bare answers, every
 * documented status, hostile numbers), upload answers (today's and the
 * older shape), the canvas of a state, and the trailing-noise table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nemo/api.h"
#include "nemo/noise.h"
#include "unit.h"

static int status_of(const char *json, api_render_status *st)
{
    cJSON *v = cJSON_Parse(json);
    nemo_err err;
    int rc;

    err_clear(&err);
    rc = render_status_parse(v, st, &err);
    cJSON_Delete(v);
    return rc;
}

TEST(render_status_documented_lifecycle)
{
    api_render_status st;

    /* Bare, status at the top level, as the skill documents. */
    CHECK_INT(status_of("{\"taskId\":\"r\",\"status\":\"pending\","
                        "\"progress\":0}", &st), 0);
    CHECK_STR(st.status, "queued");
    CHECK(st.progress == 0);
    CHECK_INT(status_of("{\"status\":\"processing\",\"progress\":45}", &st),
              0);
    CHECK_STR(st.status, "rendering");
    CHECK(st.progress == 45);
    CHECK_INT(status_of("{\"status\":\"completed\",\"progress\":100,"
                        "\"output\":{\"url\":\"https://cdn.x/o.mp4\","
                        "\"duration\":30.5,\"size\":15728640}}", &st), 0);
    CHECK_STR(st.status, "completed");
    CHECK_STR(st.url, "https://cdn.x/o.mp4");
    CHECK(st.bytes == 15728640);
    CHECK(st.progress == 100);
    CHECK_INT(status_of("{\"status\":\"failed\",\"error\":\"GPU melted\"}",
                        &st), 0);
    CHECK_STR(st.status, "failed");
    CHECK_STR(st.message, "GPU melted");
    /* The envelope's data one level down (older answers). */
    CHECK_INT(status_of("{\"render\":{\"state\":\"Rendering\","
                        "\"percent\":\"12.5%\"}}", &st), 0);
    CHECK_STR(st.status, "rendering");
    CHECK(st.progress == 12.5);
    /* Completed without a URL: the caller falls back to /download. */
    CHECK_INT(status_of("{\"status\":\"completed\",\"output\":{}}", &st), 0);
    CHECK_STR(st.status, "completed");
    CHECK_STR(st.url, "");
    CHECK(st.bytes == -1);
    /* A URL alone means done. */
    CHECK_INT(status_of("{\"output_url\":\"https://cdn.x/a.mp4\"}", &st), 0);
    CHECK_STR(st.status, "completed");
}

TEST(render_progress_never_nan_or_absurd)
{
    static const char *const bad[] = {
        "\"nan%\"", "\"NaN\"", "\"inf%\"", "\"-inf\"", "\"1e999\"", "1e999",
        "-1e999", "-5", "\"-3%\"", "\"12abc\"", "\"\"", "true", "[]",
        "1e300", "\"1e300%\"",
    };
    api_render_status st;
    char json[128];
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json, "{\"status\":\"processing\","
                 "\"progress\":%s}", bad[i]);
        CHECK_INT(status_of(json, &st), 0);
        CHECK(!isnan(st.progress));
        CHECK(st.progress == -1 || (st.progress >= 0 && st.progress <= 100));
    }
    CHECK_INT(status_of("{\"status\":\"processing\",\"progress\":\"nan%\"}",
                        &st), 0);
    CHECK(st.progress == -1);
    /* Over 100 is clamped; a fraction is a fraction. */
    CHECK_INT(status_of("{\"status\":\"processing\",\"progress\":250}", &st),
              0);
    CHECK(st.progress == 100);
    CHECK_INT(status_of("{\"status\":\"processing\",\"progress\":0.5}", &st),
              0);
    CHECK(st.progress == 50);
    /* Sizes out of range are unknown, not wrapped. */
    CHECK_INT(status_of("{\"status\":\"completed\",\"output\":{\"url\":"
                        "\"https://x/a.mp4\",\"size\":1e300}}", &st), 0);
    CHECK(st.bytes == -1);
}

TEST(render_status_refuses_non_objects_and_cleans_words)
{
    api_render_status st;
    nemo_err err;
    cJSON *v = cJSON_CreateString("completed");

    err_clear(&err);
    CHECK_INT(render_status_parse(v, &st, &err), -1);
    CHECK_INT(err.kind, NEMO_E_PROTOCOL);
    CHECK_INT(render_status_parse(NULL, &st, &err), -1);
    cJSON_Delete(v);
    CHECK_INT(status_of("{\"status\":\"Weird\\u001b[31m\"}", &st), 0);
    CHECK_STR(st.status, "weird?[31m");
}

static int start_of(const char *json, api_render_start_info *info,
                    nemo_err *err)
{
    cJSON *v = json ? cJSON_Parse(json) : NULL;
    int rc;

    err_clear(err);
    rc = render_start_parse(v, info, err);
    cJSON_Delete(v);
    return rc;
}

TEST(render_start_answer)
{
    api_render_start_info info;
    nemo_err err;

    CHECK_INT(start_of("{\"render_id\":\"lambda_1\",\"status\":\"pending\"}",
                       &info, &err), 0);
    CHECK_STR(info.render_id, "lambda_1");
    CHECK_INT(start_of("{\"renderId\":\"r9\"}", &info, &err), 0);
    CHECK_STR(info.render_id, "r9");
    CHECK_INT(start_of("{\"data\":{\"render_id\":\"deep\"}}", &info, &err),
              0);
    CHECK_STR(info.render_id, "deep");
    /* No id: the caller polls the one it sent. */
    CHECK_INT(start_of("{\"id\":\"render_1\",\"status\":\"queued\"}", &info,
                       &err), 0);
    CHECK_STR(info.render_id, "");
    CHECK_INT(start_of(NULL, &info, &err), 0);
    CHECK_INT(start_of("null", &info, &err), 0);
    /* Unusable ids and a start that failed at once. */
    CHECK_INT(start_of("{\"render_id\":42}", &info, &err), -1);
    CHECK_INT(err.kind, NEMO_E_PROTOCOL);
    CHECK_INT(start_of("{\"render_id\":\"a b\"}", &info, &err), -1);
    CHECK_INT(start_of("{\"render_id\":\"../x\"}", &info, &err), -1);
    CHECK_INT(start_of("{\"render_id\":\"\"}", &info, &err), -1);
    CHECK_INT(start_of("{\"status\":\"failed\",\"message\":\"no GPU\"}",
                       &info, &err), -1);
    CHECK_INT(err.kind, NEMO_E_BACKEND);
    CHECK_CONTAINS(err.message, "no GPU");
    CHECK_INT(start_of("[1]", &info, &err), -1);
}

static int upload_of(const char *json, api_upload_answer *a)
{
    cJSON *v = cJSON_Parse(json);
    nemo_err err;
    int rc;

    err_clear(&err);
    rc = upload_answer_parse(v, a, &err);
    cJSON_Delete(v);
    return rc;
}

TEST(upload_answer_documented_shape)
{
    api_upload_answer a;

    CHECK_INT(upload_of("{\"files\":[{\"filename\":\"video.mp4\","
                        "\"file_type\":\"video\",\"cdn_url\":"
                        "\"https://cdn.example.com/v.mp4\",\"duration\":30.5,"
                        "\"width\":1920,\"height\":1080},{\"filename\":"
                        "\"a.mp3\",\"file_type\":\"audio\"}],"
                        "\"session_state_applied\":true}", &a), 0);
    CHECK_INT((int)a.n, 2);
    CHECK_INT(a.state_applied, 1);
    CHECK_STR(a.items[0].name, "video.mp4");
    CHECK_STR(a.items[0].type, "video");
    CHECK_STR(a.items[0].url, "https://cdn.example.com/v.mp4");
    CHECK(a.items[0].duration_ms == 30500);
    CHECK(a.items[0].width == 1920 && a.items[0].height == 1080);
    CHECK_STR(a.items[1].url, "");
    CHECK(a.items[1].duration_ms == -1 && a.items[1].width == -1);
    upload_answer_free(&a);
    CHECK_INT(upload_of("{\"files\":[],\"session_state_applied\":false}",
                        &a), 0);
    CHECK_INT((int)a.n, 0);
    CHECK_INT(a.state_applied, 0);
    upload_answer_free(&a);
}

TEST(upload_answer_older_shape_and_hostile_numbers)
{
    api_upload_answer a;
    nemo_err err;
    cJSON *s = cJSON_CreateString("x");

    CHECK_INT(upload_of("{\"files\":[{\"file_id\":\"f1\",\"name\":\"c.mov\","
                        "\"type\":\"video\",\"url\":\"https://x/c.mov\","
                        "\"size\":7}]}", &a), 0);
    CHECK_INT((int)a.n, 1);
    CHECK_STR(a.items[0].name, "c.mov");
    CHECK_STR(a.items[0].url, "https://x/c.mov");
    CHECK_INT(a.state_applied, -1);
    upload_answer_free(&a);
    CHECK_INT(upload_of("{\"files\":[{\"duration\":1e999,\"width\":-4,"
                        "\"height\":1e30},{\"duration\":-1,\"width\":\"9\"}]}",
                        &a), 0);
    CHECK(a.items[0].duration_ms == -1);
    CHECK(a.items[0].width == -1 && a.items[0].height == -1);
    CHECK(a.items[1].duration_ms == -1 && a.items[1].width == -1);
    upload_answer_free(&a);
    /* A bare object is the one file; a bare list is the files. */
    CHECK_INT(upload_of("{\"filename\":\"solo.png\"}", &a), 0);
    CHECK_INT((int)a.n, 1);
    CHECK_STR(a.items[0].name, "solo.png");
    upload_answer_free(&a);
    CHECK_INT(upload_of("[{\"name\":\"l1\"},{\"name\":\"l2\"}]", &a), 0);
    CHECK_INT((int)a.n, 2);
    upload_answer_free(&a);
    err_clear(&err);
    CHECK_INT(upload_answer_parse(s, &a, &err), -1);
    CHECK_INT(err.kind, NEMO_E_PROTOCOL);
    cJSON_Delete(s);
}

static int canvas_of(const char *json, api_canvas *c)
{
    cJSON *v = cJSON_Parse(json);
    int rc = state_canvas_parse(v, c);

    cJSON_Delete(v);
    return rc;
}

TEST(canvas_config_spellings)
{
    api_canvas c;

    CHECK_INT(canvas_of("{\"canvas_config\":{\"width\":1920,\"height\":1080,"
                        "\"ratio\":\"16:9\"}}", &c), 1);
    CHECK(c.width == 1920 && c.height == 1080);
    CHECK_STR(c.ratio, "16:9");
    CHECK_INT(canvas_of("{\"canvas_config\":{\"size\":{\"w\":1080,"
                        "\"h\":1920}}}", &c), 1);
    CHECK(c.width == 1080 && c.height == 1920);
    CHECK_STR(c.ratio, "9:16");
    CHECK_INT(canvas_of("{\"canvas_config\":{\"resolution\":\"1280x720\"}}",
                        &c), 1);
    CHECK(c.width == 1280);
    CHECK_STR(c.ratio, "16:9");
    CHECK_INT(canvas_of("{\"canvas_config\":{\"aspect_ratio\":\"1:1\"}}",
                        &c), 1);
    CHECK(c.width == -1);
    CHECK_STR(c.ratio, "1:1");
    CHECK_INT(canvas_of("{\"canvas_config\":{\"aspectRatio\":1.7777}}", &c),
              1);
    CHECK_STR(c.ratio, "1.777");
    /* Nothing usable: no canvas. */
    CHECK_INT(canvas_of("{\"draft\":{}}", &c), 0);
    CHECK_INT(canvas_of("{\"canvas_config\":{}}", &c), 0);
    CHECK_INT(canvas_of("{\"canvas_config\":{\"width\":1e999,\"height\":5,"
                        "\"ratio\":\"\\u001b[2J\"}}", &c), 0);
    CHECK_INT(canvas_of("{\"canvas_config\":{\"size\":\"99999999x1\"}}",
                        &c), 0);
    CHECK_INT(canvas_of("{\"canvas_config\":\"16:9\"}", &c), 0);
}

static void trimmed(const char *in, const char *want)
{
    size_t n = noise_trim_trailing(in, strlen(in));
    char out[512];

    snprintf(out, sizeof out, "%.*s", (int)n, in);
    CHECK_STR(out, want);
}

TEST(trailing_temporary_issue_is_dropped_after_normal_text)
{
    trimmed("Added music.\n\nI encountered a temporary issue. Please try "
            "again later.", "Added music.");
    trimmed("Added music. I encountered a temporary issue.", "Added music.");
    trimmed("Added music. Sorry, I encountered a temporary issue!",
            "Added music.");
    trimmed("Added music.\n\ni ENCOUNTERED a temporary issue",
            "Added music.");
    /* Chinese. */
    trimmed("\xE5\xB7\xB2\xE6\xB7\xBB\xE5\x8A\xA0\xE9\x9F\xB3\xE4\xB9\x90"
            "\xE3\x80\x82\n\n\xE6\x88\x91\xE9\x81\x87\xE5\x88\xB0\xE4\xBA\x86"
            "\xE4\xB8\x80\xE4\xB8\xAA\xE4\xB8\xB4\xE6\x97\xB6\xE9\x97\xAE"
            "\xE9\xA2\x98\xEF\xBC\x8C\xE8\xAF\xB7\xE7\xA8\x8D\xE5\x90\x8E"
            "\xE5\x86\x8D\xE8\xAF\x95\xE3\x80\x82",
            "\xE5\xB7\xB2\xE6\xB7\xBB\xE5\x8A\xA0\xE9\x9F\xB3\xE4\xB9\x90"
            "\xE3\x80\x82");
    trimmed("\xE5\xA5\xBD\xE3\x80\x82\xE9\x81\x87\xE5\x88\xB0\xE4\xBA\x86"
            "\xE4\xB8\xB4\xE6\x97\xB6\xE9\x97\xAE\xE9\xA2\x98",
            "\xE5\xA5\xBD\xE3\x80\x82");
}

TEST(temporary_issue_kept_when_alone_or_not_trailing)
{
    /* All the agent said: it is the news, kept. */
    trimmed("I encountered a temporary issue. Please try again.",
            "I encountered a temporary issue. Please try again.");
    trimmed("  I encountered a temporary issue", "  I encountered a "
            "temporary issue");
    /* Followed by another paragraph: part of the reply. */
    trimmed("I encountered a temporary issue with the first clip.\n\nSo I "
            "used the second one.", "I encountered a temporary issue with "
            "the first clip.\n\nSo I used the second one.");
    trimmed("Nothing to drop here.", "Nothing to drop here.");
    /* Followed by a long story: the agent talking, not boilerplate. */
    trimmed("Done. I encountered a temporary issue with clip 2, so I used "
            "clip 3 instead, trimmed it to six seconds, added the lo-fi "
            "track at 35 percent, put the title on top for three seconds "
            "and checked that the captions still line up with the voice.",
            "Done. I encountered a temporary issue with clip 2, so I used "
            "clip 3 instead, trimmed it to six seconds, added the lo-fi "
            "track at 35 percent, put the title on top for three seconds "
            "and checked that the captions still line up with the voice.");
    trimmed("", "");
    CHECK(noise_trim_trailing(NULL, 0) == 0);
}

int main(void)
{
    RUN(render_status_documented_lifecycle);
    RUN(render_progress_never_nan_or_absurd);
    RUN(render_status_refuses_non_objects_and_cleans_words);
    RUN(render_start_answer);
    RUN(upload_answer_documented_shape);
    RUN(upload_answer_older_shape_and_hostile_numbers);
    RUN(canvas_config_spellings);
    RUN(trailing_temporary_issue_is_dropped_after_normal_text);
    RUN(temporary_issue_kept_when_alone_or_not_trailing);
    return unit_done();
}
