/* test_adk.c - ADK events: the reply shown once, tool calls as progress,
 * error events, heartbeats; the recorded stream through SSE at every chunk
 * boundary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/adk.h"
#include "nemo/buf.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/sse.h"
#include "nemo/store.h"
#include "unit.h"

#define FIXTURES "tests/fixtures/media/"

typedef struct sink {
    nemo_buf msgs;    /* every progress message, one per line */
    int count;
} sink;

static void sink_report(void *ctx, double fraction, const char *message)
{
    sink *s = ctx;

    s->count++;
    buf_printf(&s->msgs, "%s\n", message);
}

static int feed(adk_state *s, const char *json)
{
    return adk_event(s, json, strlen(json));
}

#define PART(t) "{\"partial\":true,\"content\":{\"parts\":[{\"text\":\"" t "\"}]}}"
#define FINAL(t) "{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"" t "\"}]}}"

TEST(final_text_repeating_partials_is_shown_once)
{
    sink k = { NEMO_BUF_INIT, 0 };
    nemo_progress p = { sink_report, &k };
    adk_state s;
    char *reply;

    adk_init(&s, &p);
    CHECK_INT(feed(&s, PART("Adding ")), 0);
    CHECK_INT(feed(&s, PART("music now.")), 0);
    CHECK_INT(feed(&s, FINAL("Adding music now.")), 0);
    reply = adk_take_reply(&s);
    CHECK_STR(reply, "Adding music now.");
    CHECK(s.saw_final_text);
    CHECK_CONTAINS(k.msgs.data, "writing reply\xE2\x80\xA6 \"Adding\"");
    CHECK_CONTAINS(k.msgs.data, "writing reply\xE2\x80\xA6 \"Adding music now.\"");
    free(reply);
    adk_free(&s);
    buf_free(&k.msgs);
}

TEST(several_finals_joined_and_duplicates_skipped)
{
    adk_state s;
    char *reply;

    adk_init(&s, NULL);
    feed(&s, PART("Let me"));
    feed(&s, FINAL("Let me look at your clip."));
    feed(&s, "{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"trim\","
             "\"args\":{}}}]}}");
    feed(&s, FINAL("Let me look at your clip."));  /* exact repeat */
    feed(&s, PART("Trimmed"));
    feed(&s, FINAL("Trimmed to 10s."));
    feed(&s, FINAL("Let me"));    /* only part of a shown text: new text */
    reply = adk_take_reply(&s);
    CHECK_STR(reply, "Let me look at your clip.\n\nTrimmed to 10s.\n\nLet me");
    CHECK_INT(s.function_calls, 1);
    CHECK_STR(s.last_tool, "trim");
    free(reply);
    adk_free(&s);
}

TEST(partials_become_reply_only_without_final_text)
{
    adk_state s;
    char *reply;

    adk_init(&s, NULL);
    feed(&s, PART("Half a "));
    feed(&s, PART("sentence"));
    reply = adk_take_reply(&s);
    CHECK_STR(reply, "Half a sentence");
    CHECK(!s.saw_final_text);
    free(reply);
    adk_free(&s);

    /* With a final text, trailing partials are not appended. */
    adk_init(&s, NULL);
    feed(&s, FINAL("Done."));
    feed(&s, PART("stray"));
    reply = adk_take_reply(&s);
    CHECK_STR(reply, "Done.");
    free(reply);
    adk_free(&s);
}

TEST(silent_turn_has_no_reply)
{
    adk_state s;

    adk_init(&s, NULL);
    feed(&s, "{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"add_bgm\"}}]}}");
    feed(&s, "{\"content\":{\"parts\":[{\"functionResponse\":{\"name\":\"add_bgm\","
             "\"response\":{\"ok\":true}}}]}}");
    feed(&s, FINAL("   \\n "));   /* whitespace only */
    CHECK(adk_take_reply(&s) == NULL);
    CHECK_INT(s.function_calls, 1);
    adk_free(&s);
}

TEST(function_calls_are_progress_not_text)
{
    sink k = { NEMO_BUF_INIT, 0 };
    nemo_progress p = { sink_report, &k };
    adk_state s;
    char *reply;

    adk_init(&s, &p);
    feed(&s, "{\"author\":\"nemo_agent\",\"content\":{\"parts\":[{\"functionCall\":"
             "{\"id\":\"1\",\"name\":\"add_bgm\",\"args\":{\"style\":\"lo-fi\"}}}]}}");
    feed(&s, "{\"content\":{\"parts\":[{\"functionResponse\":{\"id\":\"1\","
             "\"name\":\"add_bgm\",\"response\":{\"result\":\"ok\"}}}]}}");
    /* Reasoning ("thought") parts are not reply text. */
    feed(&s, "{\"content\":{\"parts\":[{\"text\":\"planning...\",\"thought\":true},"
             "{\"text\":\"Music added.\"}]}}");
    reply = adk_take_reply(&s);
    CHECK_STR(reply, "Music added.");
    CHECK_STR(k.msgs.data, "running add_bgm\nadd_bgm done\n");
    free(reply);
    adk_free(&s);
    buf_free(&k.msgs);
}

TEST(snake_case_and_unknown_fields)
{
    adk_state s;
    char *reply;

    adk_init(&s, NULL);
    feed(&s, "{\"invocation_id\":\"x\",\"new_field\":[1,{\"a\":null}],\"content\":"
             "{\"parts\":[{\"function_call\":{\"name\":\"cut\"}},{\"unknown\":1}]}}");
    feed(&s, "{\"content\":{\"parts\":[{\"function_response\":{\"name\":\"cut\"}}]}}");
    feed(&s, "{\"content\":{\"parts\":[{\"text\":\"Cut.\"}]},\"turn_complete\":true}");
    CHECK_INT(s.function_calls, 1);
    CHECK_STR(s.last_tool, "cut");
    CHECK(s.turn_complete);
    reply = adk_take_reply(&s);
    CHECK_STR(reply, "Cut.");
    free(reply);
    /* Junk shapes never crash. */
    CHECK_INT(feed(&s, "{\"content\":[1,2]}"), 0);
    CHECK_INT(feed(&s, "{\"content\":{\"parts\":{\"text\":1}}}"), 0);
    CHECK_INT(feed(&s, "{\"content\":{\"parts\":[null,7,{\"text\":5}]}}"), 0);
    CHECK_INT(feed(&s, "[\"not\",\"an\",\"event\"]"), 0);
    adk_free(&s);
}

TEST(error_events_fail_the_turn)
{
    adk_state s;

    adk_init(&s, NULL);
    CHECK_INT(feed(&s, "{\"errorCode\":\"MALFORMED_FUNCTION_CALL\","
                       "\"errorMessage\":\"The model produced a bad call\"}"), 1);
    CHECK(s.error);
    CHECK_STR(s.error_message,
              "The model produced a bad call (MALFORMED_FUNCTION_CALL)");
    adk_free(&s);

    adk_init(&s, NULL);
    CHECK_INT(feed(&s, "{\"error_message\":\"quota exceeded\"}"), 1);
    CHECK_STR(s.error_message, "quota exceeded");
    adk_free(&s);

    adk_init(&s, NULL);
    CHECK_INT(feed(&s, "{\"error_code\":500}"), 1);
    CHECK_STR(s.error_message, "the agent stopped with error 500");
    adk_free(&s);

    adk_init(&s, NULL);
    CHECK_INT(feed(&s, "{\"error\":{\"message\":\"boom\",\"code\":13}}"), 1);
    CHECK_STR(s.error_message, "boom (13)");
    adk_free(&s);

    /* Null / empty error fields are not errors. */
    adk_init(&s, NULL);
    CHECK_INT(feed(&s, "{\"errorCode\":null,\"errorMessage\":\"\",\"content\":"
                       "{\"parts\":[{\"text\":\"fine\"}]}}"), 0);
    CHECK(!s.error);
    adk_free(&s);
}

TEST(heartbeats_report_at_most_every_interval)
{
    sink k = { NEMO_BUF_INIT, 0 };
    nemo_progress p = { sink_report, &k };
    adk_state s;

    unsetenv("NEMO_HEARTBEAT_MS");
    adk_init(&s, &p);
    CHECK_INT(s.beat_every_ms, 10000);
    CHECK_INT(adk_event(&s, "", 0), 0);           /* empty data: */
    CHECK_INT(feed(&s, "ping"), 0);                /* non-JSON keep-alive */
    adk_heartbeat(&s);                             /* ": heartbeat" */
    CHECK_INT(s.heartbeats, 3);
    CHECK_INT(k.count, 0);                         /* turn time < 10 s */
    /* Pretend the turn started 2m10s ago: no sleeping in tests. */
    s.started_ms = clock_mono_ms() - 130000;
    adk_heartbeat(&s);
    adk_heartbeat(&s);                             /* too soon to repeat */
    CHECK_INT(k.count, 1);
    CHECK_STR(k.msgs.data, "still working, 2m10s\n");
    s.started_ms -= 10000;
    feed(&s, "   ");
    CHECK_INT(k.count, 2);
    CHECK_CONTAINS(k.msgs.data, "still working, 2m20s\n");
    adk_free(&s);
    buf_free(&k.msgs);

    setenv("NEMO_HEARTBEAT_MS", "1000", 1);
    k.msgs = (nemo_buf)NEMO_BUF_INIT;
    k.count = 0;
    adk_init(&s, &p);
    s.started_ms = clock_mono_ms() - 45500;
    adk_heartbeat(&s);
    CHECK_STR(k.msgs.data, "still working, 45s\n");
    adk_free(&s);
    buf_free(&k.msgs);
    unsetenv("NEMO_HEARTBEAT_MS");
}

TEST(preview_is_short_and_utf8_safe)
{
    sink k = { NEMO_BUF_INIT, 0 };
    nemo_progress p = { sink_report, &k };
    adk_state s;
    nemo_buf big = NEMO_BUF_INIT;
    const char *q;
    int i;

    adk_init(&s, &p);
    buf_puts(&big, "{\"partial\":true,\"content\":{\"parts\":[{\"text\":\"");
    for (i = 0; i < 40; i++)
        buf_puts(&big, "\xe9\x9f\xb3");      /* 音, 3 bytes each */
    buf_puts(&big, "\"}]}}");
    adk_event(&s, big.data, big.len);
    q = strstr(k.msgs.data, "\"");
    CHECK(q != NULL);
    /* 60 bytes fit 20 whole characters, then the ellipsis. */
    if (q) {
        CHECK(strlen(q) < 80);
        CHECK_CONTAINS(q, "\xe9\x9f\xb3\xE2\x80\xA6\"");
    }
    adk_free(&s);
    buf_free(&k.msgs);
    buf_free(&big);
}

/* A secret the preview would cut in half is redacted first: no part of
 * it reaches a progress message. */
TEST(preview_redacts_before_cutting)
{
    static const char secret[] = "bSoowVvwXOsxcgZJBihO8FEYwWpouiIGoRypHPWEP"
                                 "pXu0nQ3r7TzLm2Kd9Vw4";
    sink k = { NEMO_BUF_INIT, 0 };
    nemo_progress p = { sink_report, &k };
    adk_state s;

    log_add_secret(secret);
    adk_init(&s, &p);
    /* The preview (60 bytes) ends inside the secret. */
    CHECK_INT(feed(&s, PART("Your token is bSoowVvwXOsxcgZJBihO8FEYwWpouiIGo"
                            "RypHPWEPpXu0nQ3r7TzLm2Kd9Vw4 and more")), 0);
    CHECK(strstr(k.msgs.data, "bSoowVvw") == NULL);
    CHECK_CONTAINS(k.msgs.data, "Your token is [redacted]");
    adk_free(&s);
    buf_free(&k.msgs);
    log_free_secrets();
}

/* ---- the recorded stream through SSE at every split ---- */

typedef struct pipe_ctx {
    adk_state *s;
} pipe_ctx;

static int on_ev(void *ctx, const sse_event *ev)
{
    pipe_ctx *c = ctx;

    return adk_event(c->s, ev->data, ev->data_len);
}

static int on_comment(void *ctx, const char *t, size_t n)
{
    pipe_ctx *c = ctx;

    adk_heartbeat(c->s);
    return 0;
}

static char *run_stream(const char *s, size_t n, size_t cut, sink *k,
                        adk_state *st)
{
    nemo_progress p = { sink_report, k };
    pipe_ctx c = { st };
    sse_handlers h = { on_ev, on_comment, &c };
    sse_parser *sp;

    adk_init(st, &p);
    sp = sse_new(&h);
    CHECK_INT(sse_feed(sp, s, cut), 0);
    CHECK_INT(sse_feed(sp, s + cut, n - cut), 0);
    sse_finish(sp);
    sse_free(sp);
    return adk_take_reply(st);
}

TEST(recorded_turn_every_chunk_boundary)
{
    static const char want[] =
        "I added a lo-fi background track at 35% volume \xE2\x80\x94 "
        "\xe9\x9f\xb3\xe4\xb9\x90\xe5\xb7\xb2\xe6\xb7\xbb\xe5\x8a\xa0\xe3\x80\x82"
        "\n\nClick the **Export** button to download.";
    char *s = NULL, *reply;
    size_t n = 0, cut, bad = 0;
    adk_state st;
    sink k;

    if (fs_read_all(FIXTURES "adk_turn.sse", &s, &n, 1 << 20) != 0) {
        CHECK(0);
        return;
    }
    for (cut = 0; cut <= n; cut++) {
        k = (sink){ NEMO_BUF_INIT, 0 };
        reply = run_stream(s, n, cut, &k, &st);
        if (!reply || strcmp(reply, want) != 0 || st.function_calls != 1 ||
            !st.turn_complete || st.heartbeats != 3 ||
            !strstr(k.msgs.data, "running add_bgm\nadd_bgm done\n")) {
            if (bad++ < 3)
                printf("#   split at %zu: reply=%s\n", cut,
                       reply ? reply : "(null)");
        }
        free(reply);
        adk_free(&st);
        buf_free(&k.msgs);
    }
    CHECK_INT(bad, 0);
    free(s);
}

/* ---- the agent's questions ---- */

#define ASK(args) "{\"content\":{\"parts\":[{\"functionCall\":{\"id\":" \
    "\"c1\",\"name\":\"ask_question\",\"args\":" args "}}]}," \
    "\"longRunningToolIds\":[\"c1\"]}"

TEST(ask_question_becomes_questions)
{
    adk_state s;

    adk_init(&s, NULL);
    CHECK(!adk_needs_input(&s));
    CHECK_INT(feed(&s, ASK("{\"questions\":[{\"id\":\"ar\",\"prompt\":"
                           "\"Which ratio?\",\"options\":[\"16:9\","
                           "{\"label\":\"9:16\"},7]},{\"question\":"
                           "\"Who is it for?\"}]}")), 0);
    CHECK(adk_needs_input(&s));
    CHECK_INT(s.questions.n, 2);
    CHECK_STR(s.questions.items[0].id, "ar");
    CHECK_STR(s.questions.items[0].prompt, "Which ratio?");
    CHECK_INT(s.questions.items[0].noptions, 2);
    CHECK_STR(s.questions.items[0].options[1], "9:16");
    CHECK_STR(s.questions.items[1].id, "q2");          /* no id given */
    CHECK_STR(s.questions.items[1].prompt, "Who is it for?");
    CHECK_INT(s.questions.items[1].noptions, 0);
    CHECK(s.function_calls == 1);
    adk_free(&s);
}

TEST(answered_within_the_turn_is_not_waiting)
{
    adk_state s;

    adk_init(&s, NULL);
    feed(&s, ASK("{\"question\":\"Bold?\",\"options\":[\"yes\","
                 "\"no\"]}"));
    CHECK_INT(s.questions.n, 1);
    CHECK_INT(s.questions.items[0].noptions, 2);
    feed(&s, "{\"content\":{\"parts\":[{\"functionResponse\":{\"id\":"
             "\"c1\",\"name\":\"ask_question\",\"response\":{}}}]}}");
    CHECK(!adk_needs_input(&s));
    /* A long-running call of another tool, never answered, waits too. */
    feed(&s, "{\"content\":{\"parts\":[{\"functionCall\":{\"id\":\"c2\","
             "\"name\":\"request_user_input\",\"args\":{}}}]},"
             "\"long_running_tool_ids\":[\"c2\"]}");
    CHECK(adk_needs_input(&s));
    CHECK_INT(s.questions.n, 0);
    adk_free(&s);
}

TEST(hostile_questions_are_bounded)
{
    nemo_buf b = NEMO_BUF_INIT;
    adk_questions q;
    cJSON *args;
    int i;

    buf_puts(&b, "{\"questions\":[");
    for (i = 0; i < 20; i++)
        buf_printf(&b, "%s{\"prompt\":\"q%d\",\"options\":[\"a\",\"b\","
                   "\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\","
                   "\"k\",\"l\",\"m\",\"n\"]}", i ? "," : "", i);
    buf_puts(&b, "]}");
    args = cJSON_Parse(b.data);
    CHECK_INT(adk_questions_parse(args, &q), 0);
    CHECK_INT(q.n, ADK_MAX_QUESTIONS);
    CHECK_INT(q.items[0].noptions, ADK_MAX_OPTIONS);
    adk_questions_free(&q);
    cJSON_Delete(args);
    buf_reset(&b);

    /* A long prompt is cut on a character boundary. */
    buf_puts(&b, "{\"question\":\"");
    for (i = 0; i < 1500; i++)
        buf_puts(&b, "\xC3\xA9");     /* 3000 bytes of e-acute */
    buf_puts(&b, "\"}");
    args = cJSON_Parse(b.data);
    CHECK_INT(adk_questions_parse(args, &q), 0);
    CHECK(strlen(q.items[0].prompt) <= 2000);
    CHECK_INT(strlen(q.items[0].prompt) % 2, 0);
    adk_questions_free(&q);
    cJSON_Delete(args);

    /* Nothing usable: no questions, no leak. */
    args = cJSON_Parse("{\"questions\":[1,{\"options\":[\"a\"]},\"\"]}");
    CHECK_INT(adk_questions_parse(args, &q), -1);
    CHECK_INT(q.n, 0);
    cJSON_Delete(args);
    CHECK_INT(adk_questions_parse(NULL, &q), -1);
    buf_free(&b);
}

/* The reply streams in pieces: a preview never shows a secret, whether the
 * piece so far ends inside it or the preview's cut falls inside it; nor
 * does a question cut to its length limit. */
TEST(previews_and_questions_never_show_part_of_a_secret)
{
    sink k = { NEMO_BUF_INIT, 0 };
    nemo_progress p = { sink_report, &k };
    adk_state s;
    adk_questions q;
    nemo_buf b = NEMO_BUF_INIT;
    cJSON *args;
    int i;

    log_add_secret("tokSECRETabcdefghijklmnopqrstuvwxyz0123456789");
    adk_init(&s, &p);
    feed(&s, PART("Your token is tokSECRETabcdef"));
    feed(&s, PART("ghijklmnopqrstuvwxyz0123456789 ok"));
    feed(&s, PART(" and here it is again: "
                  "tokSECRETabcdefghijklmnopqrstuvwxyz0123456789"));
    CHECK(strstr(k.msgs.data, "tokSEC") == NULL);
    CHECK(strstr(k.msgs.data, "klmnop") == NULL);
    CHECK_CONTAINS(k.msgs.data, "Your token is");
    adk_free(&s);

    buf_puts(&b, "{\"question\":\"");
    for (i = 0; i < 1990; i++)
        buf_putc(&b, 'x');
    buf_puts(&b, " tokSECRETabcdefghijklmnopqrstuvwxyz0123456789\"}");
    args = cJSON_Parse(b.data);
    CHECK_INT(adk_questions_parse(args, &q), 0);
    CHECK(strstr(q.items[0].prompt, "tokSEC") == NULL);
    adk_questions_free(&q);
    cJSON_Delete(args);
    log_free_secrets();
    buf_free(&b);
    buf_free(&k.msgs);
}

int main(void)
{
    RUN(final_text_repeating_partials_is_shown_once);
    RUN(previews_and_questions_never_show_part_of_a_secret);
    RUN(several_finals_joined_and_duplicates_skipped);
    RUN(partials_become_reply_only_without_final_text);
    RUN(silent_turn_has_no_reply);
    RUN(function_calls_are_progress_not_text);
    RUN(snake_case_and_unknown_fields);
    RUN(error_events_fail_the_turn);
    RUN(heartbeats_report_at_most_every_interval);
    RUN(preview_is_short_and_utf8_safe);
    RUN(recorded_turn_every_chunk_boundary);
    RUN(ask_question_becomes_questions);
    RUN(answered_within_the_turn_is_not_waiting);
    RUN(hostile_questions_are_bounded);
    RUN(preview_redacts_before_cutting);
    return unit_done();
}
