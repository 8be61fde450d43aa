/* test_agent.c - agent turns over SSE and uploads against the reference
 * backend: text shown once, silent turns, error events, heartbeats, a
 * dropped stream (reported, never resent), a lost session (resent once on
 * a new one), envelopes instead of streams, cancellation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/api.h"
#include "nemo/cancel.h"
#include "nemo/clock.h"
#include "nemo/error.h"
#include "nemo/store.h"
#include "refbackend.h"
#include "unit.h"

static mb_backend B;
static nemo_api *api;
static char sid[API_SESSION_MAX];

typedef struct sink {
    nemo_buf msgs;
    nemo_cancel *cancel_on;   /* cancelled at the first message matching */
    const char *cancel_when;
} sink;

static void sink_report(void *ctx, double fraction, const char *message)
{
    sink *s = ctx;

    buf_printf(&s->msgs, "%s\n", message);
    if (s->cancel_on && s->cancel_when && strstr(message, s->cancel_when))
        cancel_request(s->cancel_on);
}

static int setup(void)
{
    nemo_skill skill;
    nemo_err err;
    api_ctl ctl;
    api_session s;

    if (mb_start(&B) != 0)
        return -1;
    memset(&skill, 0, sizeof skill);
    snprintf(skill.name, sizeof skill.name, "nemo-mcp");
    snprintf(skill.version, sizeof skill.version, "0.1.0");
    snprintf(skill.platform, sizeof skill.platform, "unknown");
    if (!(api = api_new(&skill, &err))) {
        printf("# api_new: %s\n", err.message);
        return -1;
    }
    memset(&ctl, 0, sizeof ctl);
    if (api_session_new(api, &ctl, "en", &s, &err) != 0) {
        printf("# session: %s\n", err.message);
        return -1;
    }
    snprintf(sid, sizeof sid, "%s", s.id);
    return 0;
}

static void next_turn(const char *json)
{
    CHECK_INT(mb_control(&B, "/_control/next_turn", json, NULL), 0);
}

TEST(text_turn_reply_shown_once_with_progress)
{
    sink k = { NEMO_BUF_INIT, NULL, NULL };
    nemo_progress p = { sink_report, &k };
    api_ctl ctl;
    api_turn t;
    nemo_err err;
    cJSON *reqs, *req, *body;

    memset(&ctl, 0, sizeof ctl);
    ctl.progress = &p;
    next_turn("{\"mode\":\"text\",\"text\":\"I added lo-fi music at 35% "
              "volume. Click Export to download.\"}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add lo-fi background music",
                             &t, &err), 0);
    CHECK_STR(t.reply, "I added lo-fi music at 35% volume. Click Export to "
                       "download.");
    CHECK(t.saw_text);
    CHECK(t.function_calls >= 1);
    CHECK(t.last_tool[0] != '\0');
    CHECK(t.heartbeats >= 1);
    CHECK_CONTAINS(k.msgs.data, "thinking\n");
    CHECK_CONTAINS(k.msgs.data, "running ");
    CHECK_CONTAINS(k.msgs.data, " done\n");
    CHECK_CONTAINS(k.msgs.data, "writing reply");
    /* What went over the wire. */
    reqs = mb_requests(&B, "/run_sse");
    req = cJSON_GetArrayItem(reqs, cJSON_GetArraySize(reqs) - 1);
    body = cJSON_GetObjectItem(req, "json");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "app_name")),
              "nemo_agent");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "user_id")),
              "me");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "session_id")),
              sid);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
                  cJSON_GetObjectItem(cJSON_GetObjectItem(body, "new_message"),
                                      "parts"), 0), "text")),
              "add lo-fi background music");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetObjectItem(req, "headers_lower"), "accept")),
              "text/event-stream");
    cJSON_Delete(reqs);
    api_turn_free(&t);
    buf_free(&k.msgs);
}

TEST(recorded_stream_replayed)
{
    char *raw = NULL;
    size_t len = 0;
    cJSON *spec;
    char *json;
    api_ctl ctl;
    api_turn t;
    nemo_err err;

    memset(&ctl, 0, sizeof ctl);
    CHECK_INT(fs_read_all("tests/fixtures/media/adk_turn.sse", &raw, &len,
                          1 << 20), 0);
    spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "events", raw ? raw : "");
    json = cJSON_PrintUnformatted(spec);
    next_turn(json);
    CHECK_INT(api_agent_turn(api, &ctl, sid, "replay", &t, &err), 0);
    CHECK_STR(t.reply, "I added a lo-fi background track at 35% volume "
                       "\xE2\x80\x94 \xe9\x9f\xb3\xe4\xb9\x90\xe5\xb7\xb2\xe6"
                       "\xb7\xbb\xe5\x8a\xa0\xe3\x80\x82\n\nClick the "
                       "**Export** button to download.");
    CHECK_INT(t.function_calls, 1);
    CHECK_STR(t.last_tool, "add_bgm");
    CHECK_INT(t.heartbeats, 3);
    api_turn_free(&t);
    free(json);
    cJSON_Delete(spec);
    free(raw);
}

TEST(silent_turn)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;

    memset(&ctl, 0, sizeof ctl);
    next_turn("{\"mode\":\"silent\"}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "make the music quieter", &t,
                             &err), 0);
    CHECK(t.reply == NULL);
    CHECK(!t.saw_text);
    api_turn_free(&t);
}

TEST(error_event_fails_the_turn)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;

    memset(&ctl, 0, sizeof ctl);
    next_turn("{\"mode\":\"error\",\"error_code\":\"MODEL_OVERLOADED\","
              "\"error_message\":\"The model is overloaded\"}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add a title", &t, &err), -1);
    CHECK_INT(err.kind, NEMO_E_BACKEND);
    CHECK_CONTAINS(err.message, "The model is overloaded (MODEL_OVERLOADED)");
    api_turn_free(&t);
    /* The error_event fault: an error in the middle of a normal turn. */
    CHECK_INT(mb_control(&B, "/_control/fault",
                         "{\"path\":\"/run_sse\",\"kind\":\"error_event\","
                         "\"after\":1,\"error_message\":\"quota hit\"}", NULL),
              0);
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add a title", &t, &err), -1);
    CHECK_CONTAINS(err.message, "quota hit");
    api_turn_free(&t);
}

TEST(dropped_stream_is_reported_not_resent)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;
    int before = mb_count(&B, "/run_sse");

    memset(&ctl, 0, sizeof ctl);
    next_turn("{\"mode\":\"text\",\"text\":\"This reply will be cut off "
              "half way through, in several pieces.\"}");
    CHECK_INT(mb_control(&B, "/_control/fault",
                         "{\"path\":\"/run_sse\",\"kind\":\"drop\","
                         "\"after\":3}", NULL), 0);
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add music and a title", &t,
                             &err), -1);
    CHECK_INT(err.kind, NEMO_E_NETWORK);
    CHECK_CONTAINS(err.message, "the stream was interrupted");
    CHECK_INT(mb_count(&B, "/run_sse") - before, 1);     /* never resent */
    CHECK(t.interrupted);               /* the caller reads the state */
    api_turn_free(&t);
}

TEST(stream_closed_mid_event_is_interrupted_with_partial_text)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;

    memset(&ctl, 0, sizeof ctl);
    next_turn("{\"events\":[\"data: {\\\"partial\\\":true,\\\"content\\\":"
              "{\\\"parts\\\":[{\\\"text\\\":\\\"Half a \\\"}]}}\\n\\n\","
              "\"data: {\\\"partial\\\":true,\\\"con\"]}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "hello", &t, &err), -1);
    CHECK_INT(err.kind, NEMO_E_NETWORK);
    CHECK_CONTAINS(err.message, "interrupted");
    CHECK_STR(t.reply, "Half a ");
    CHECK(t.interrupted);
    api_turn_free(&t);
}

TEST(trailing_temporary_issue_dropped_and_flagged)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;

    memset(&ctl, 0, sizeof ctl);
    next_turn("{\"mode\":\"text\",\"text\":\"Added the music.\","
              "\"temporary_issue\":true}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add music", &t, &err), 0);
    CHECK_STR(t.reply, "Added the music.");
    CHECK(t.noise_dropped);
    CHECK(!t.interrupted);
    api_turn_free(&t);
    next_turn("{\"mode\":\"text\",\"text\":\"Added the music.\","
              "\"temporary_issue\":false}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add music", &t, &err), 0);
    CHECK_STR(t.reply, "Added the music.");
    CHECK(!t.noise_dropped);
    api_turn_free(&t);
}

TEST(heartbeats_only_is_a_timeout)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;
    long long t0 = clock_mono_ms();

    memset(&ctl, 0, sizeof ctl);
    setenv("NEMO_SSE_IDLE_MS", "200", 1);
    next_turn("{\"mode\":\"heartbeats\",\"delay_ms\":20000}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "hello", &t, &err), -1);
    unsetenv("NEMO_SSE_IDLE_MS");
    CHECK_INT(err.kind, NEMO_E_TIMEOUT);
    CHECK_CONTAINS(err.message, "only heartbeats");
    CHECK(t.interrupted);
    CHECK(t.heartbeats > 2);
    CHECK(clock_mono_ms() - t0 < 5000);
    api_turn_free(&t);
}

TEST(lost_session_resent_once_on_a_new_one)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;
    char body[300];
    int before = mb_count(&B, "/run_sse");

    memset(&ctl, 0, sizeof ctl);
    snprintf(body, sizeof body, "{\"session_id\":\"%s\"}", sid);
    CHECK_INT(mb_control(&B, "/_control/lose_session", body, NULL), 0);
    next_turn("{\"mode\":\"text\",\"text\":\"Started fresh.\"}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "animate this image", &t, &err),
              0);
    CHECK_STR(t.reply, "Started fresh.");
    CHECK(ctl.session_reset);
    CHECK(ctl.new_session[0] && strcmp(ctl.new_session, sid) != 0);
    CHECK_INT(mb_count(&B, "/run_sse") - before, 2);
    snprintf(sid, sizeof sid, "%s", ctl.new_session);
    api_turn_free(&t);
}

TEST(envelope_instead_of_stream_is_the_error)
{
    api_ctl ctl;
    api_turn t;
    nemo_err err;
    int before = mb_count(&B, "/run_sse");

    memset(&ctl, 0, sizeof ctl);
    CHECK_INT(mb_control(&B, "/_control/fault",
                         "{\"path\":\"/run_sse\",\"kind\":\"code\","
                         "\"code\":2001}", NULL), 0);
    CHECK_INT(api_agent_turn(api, &ctl, sid, "generate a video", &t, &err),
              -1);
    CHECK_INT(err.kind, NEMO_E_CREDITS);
    CHECK_INT(mb_count(&B, "/run_sse") - before, 1);
    api_turn_free(&t);
}

TEST(heartbeats_become_progress)
{
    sink k = { NEMO_BUF_INIT, NULL, NULL };
    nemo_progress p = { sink_report, &k };
    api_ctl ctl;
    api_turn t;
    nemo_err err;

    setenv("NEMO_HEARTBEAT_MS", "1", 1);
    memset(&ctl, 0, sizeof ctl);
    ctl.progress = &p;
    next_turn("{\"mode\":\"text\",\"text\":\"Done.\",\"delay_ms\":200}");
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add captions", &t, &err), 0);
    CHECK_CONTAINS(k.msgs.data, "still working, 0s");
    CHECK(t.heartbeats >= 3);
    CHECK_STR(t.reply, "Done.");
    api_turn_free(&t);
    buf_free(&k.msgs);
    unsetenv("NEMO_HEARTBEAT_MS");
}

TEST(cancel_aborts_promptly)
{
    nemo_cancel c;
    sink k = { NEMO_BUF_INIT, &c, "running " };
    nemo_progress p = { sink_report, &k };
    api_ctl ctl;
    api_turn t;
    nemo_err err;
    long long t0;

    cancel_init(&c);
    memset(&ctl, 0, sizeof ctl);
    ctl.progress = &p;
    ctl.cancel = &c;
    /* A 20 s turn, cancelled as soon as the first tool call shows. */
    next_turn("{\"mode\":\"text\",\"text\":\"never\",\"delay_ms\":20000}");
    t0 = clock_mono_ms();
    CHECK_INT(api_agent_turn(api, &ctl, sid, "add music", &t, &err), -1);
    CHECK_INT(err.kind, NEMO_E_CANCELLED);
    CHECK(clock_mono_ms() - t0 < 5000);
    api_turn_free(&t);
    buf_free(&k.msgs);
    cancel_destroy(&c);
}

TEST(upload_file_and_urls)
{
    api_upload_answer ans;
    api_ctl ctl;
    nemo_err err;
    cJSON *data = NULL, *f, *reqs, *parts;
    const char *urls[] = { "https://example.com/clips/beach.mp4" };
    char body[300];

    memset(&ctl, 0, sizeof ctl);
    CHECK_INT(mb_upload_path(api, &ctl, sid, "tests/fixtures/media/sample.png",
                             "sample.png", "image/png", &data, &err), 0);
    /* Today's answer: files[{filename, file_type, cdn_url, ...}]. */
    CHECK_INT(upload_answer_parse(data, &ans, &err), 0);
    CHECK_INT((int)ans.n, 1);
    CHECK_STR(ans.items[0].name, "sample.png");
    CHECK_STR(ans.items[0].type, "image");
    CHECK_CONTAINS(ans.items[0].url, "/files/");
    CHECK_INT(ans.state_applied, 1);
    upload_answer_free(&ans);
    cJSON_Delete(data);
    /* The older answer: files[{file_id, name, type, url}]. */
    CHECK_INT(mb_control(&B, "/_control/config", "{\"shapes\":\"seeds\"}",
                         NULL), 0);
    CHECK_INT(mb_upload_path(api, &ctl, sid, "tests/fixtures/media/sample.png",
                             "sample.png", "image/png", &data, &err), 0);
    CHECK_INT(mb_control(&B, "/_control/config",
                         "{\"shapes\":\"current\"}", NULL), 0);
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(data, "files"), 0);
    CHECK(cJSON_GetStringValue(cJSON_GetObjectItem(f, "file_id")) != NULL);
    CHECK_INT(upload_answer_parse(data, &ans, &err), 0);
    CHECK_STR(ans.items[0].name, "sample.png");
    CHECK_CONTAINS(ans.items[0].url, "/files/");
    CHECK_INT(ans.state_applied, -1);
    upload_answer_free(&ans);
    cJSON_Delete(data);
    reqs = mb_requests(&B, "/api/upload-video/");
    parts = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs,
                                cJSON_GetArraySize(reqs) - 1), "parts");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetArrayItem(parts, 0), "name")), "files");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetArrayItem(parts, 0), "content_type")), "image/png");
    cJSON_Delete(reqs);

    CHECK_INT(api_upload_urls(api, &ctl, sid, urls, 1, &data, &err), 0);
    CHECK_INT(upload_answer_parse(data, &ans, &err), 0);
    CHECK_STR(ans.items[0].name, "beach.mp4");
    CHECK_STR(ans.items[0].url, urls[0]);
    CHECK(ans.items[0].duration_ms == 10000);
    upload_answer_free(&ans);
    cJSON_Delete(data);
    reqs = mb_requests(&B, "/api/upload-video/");
    f = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs,
                            cJSON_GetArraySize(reqs) - 1), "json");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(f, "source_type")),
              "url");
    cJSON_Delete(reqs);

    /* 4001 from the backend becomes a typed error. */
    CHECK_INT(mb_control(&B, "/_control/fault",
                         "{\"path\":\"/api/upload-video/\",\"kind\":\"code\","
                         "\"code\":4001}", NULL), 0);
    CHECK_INT(api_upload_urls(api, &ctl, sid, urls, 1, &data, &err), -1);
    CHECK_INT(err.kind, NEMO_E_FILE_TYPE);

    /* A lost session: recovered and the upload sent once more. */
    snprintf(body, sizeof body, "{\"session_id\":\"%s\"}", sid);
    CHECK_INT(mb_control(&B, "/_control/lose_session", body, NULL), 0);
    CHECK_INT(mb_upload_path(api, &ctl, sid, "tests/fixtures/media/sample.mp4",
                             "sample.mp4", "video/mp4", &data, &err), 0);
    CHECK(ctl.session_reset);
    CHECK(strcmp(ctl.new_session, sid) != 0);
    cJSON_Delete(data);
    snprintf(sid, sizeof sid, "%s", ctl.new_session);
}

int main(void)
{
    if (setup() != 0) {
        printf("not ok backend_setup\n");
        mb_stop(&B);
        return 1;
    }
    RUN(text_turn_reply_shown_once_with_progress);
    RUN(recorded_stream_replayed);
    RUN(silent_turn);
    RUN(error_event_fails_the_turn);
    RUN(dropped_stream_is_reported_not_resent);
    RUN(stream_closed_mid_event_is_interrupted_with_partial_text);
    RUN(lost_session_resent_once_on_a_new_one);
    RUN(envelope_instead_of_stream_is_the_error);
    RUN(heartbeats_become_progress);
    RUN(cancel_aborts_promptly);
    RUN(trailing_temporary_issue_dropped_and_flagged);
    RUN(heartbeats_only_is_a_timeout);
    RUN(upload_file_and_urls);
    api_free(api);
    mb_stop(&B);
    return unit_done();
}
