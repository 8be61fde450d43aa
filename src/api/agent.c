/* agent.c - one agent turn: POST /run_sse and read the ADK event stream.
 *
 * A turn spends credits, so it is never retried blindly. The one retry is
 * after a 1002 envelope (session not found): the backend answered before
 * the agent saw the message, so resending on a new session is safe. A
 * stream that stops early, or that sends nothing but heartbeats for
 * NEMO_SSE_IDLE_MS (the skill: "10 min heartbeats-only -> assume
 * timeout"), is reported with out->interrupted set and left to the caller,
 * who reads the state to see what the agent managed to do. A trailing
 * "I encountered a temporary issue" after a normal reply is dropped (the
 * phrase table is in noise.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "nemo/adk.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/noise.h"
#include "nemo/sse.h"

#define AGENT_APP "nemo_agent"
#define AGENT_USER "me"
#define AGENT_CAP_MS (15LL * 60 * 1000)   /* the seeds' stream limit */
/* The skill: "10 min heartbeats-only -> assume timeout". */
#define AGENT_IDLE_MS (10LL * 60 * 1000)

typedef struct agent_stream {
    sse_parser *sse;
    adk_state adk;
    nemo_cancel *cancel;
    long long bytes;      /* stream bytes received */
    int too_long;         /* the SSE line cap was hit */
    long long idle_ms;    /* NEMO_SSE_IDLE_MS */
    long long last_news;  /* mono ms of the last event that was not a
                           * heartbeat (or of the start) */
    int idle;             /* only heartbeats for idle_ms: stopped */
} agent_stream;

/* Anything but a heartbeat is news that the agent is working. */
static void agent_note(agent_stream *a, int beats_before)
{
    if (a->adk.heartbeats == beats_before)
        a->last_news = clock_mono_ms();
}

static int agent_on_event(void *ctx, const sse_event *ev)
{
    agent_stream *a = ctx;
    int beats = a->adk.heartbeats, rc;

    /* Some servers name the event instead of (or besides) using ADK's
     * errorMessage field: an "error" event whose data is plain text. */
    if (strcmp(ev->type, "error") == 0) {
        if (adk_event(&a->adk, ev->data, ev->data_len) == 0) {
            a->adk.error = 1;
            snprintf(a->adk.error_message, sizeof a->adk.error_message, "%s",
                     ev->data_len ? ev->data : "no details given");
        }
        return 1;
    }
    if (strcmp(ev->type, "heartbeat") == 0 || strcmp(ev->type, "ping") == 0) {
        adk_heartbeat(&a->adk);
        return 0;
    }
    rc = adk_event(&a->adk, ev->data, ev->data_len) ? 1 : 0;
    agent_note(a, beats);
    return rc;
}

static int agent_on_comment(void *ctx, const char *text, size_t n)
{
    agent_stream *a = ctx;

    adk_heartbeat(&a->adk);
    return 0;
}

static int agent_on_data(void *ctx, const char *data, size_t n)
{
    agent_stream *a = ctx;
    int rc;

    a->bytes += (long long)n;
    if (cancel_requested(a->cancel))
        return 1;
    rc = sse_feed(a->sse, data, n);
    if (rc < 0)
        a->too_long = 1;
    if (rc == 0 && clock_mono_ms() - a->last_news >= a->idle_ms) {
        a->idle = 1;
        return 1;
    }
    return rc != 0;
}

static int agent_stream_init(agent_stream *a, api_ctl *ctl)
{
    sse_handlers h = { agent_on_event, agent_on_comment, a };

    memset(a, 0, sizeof *a);
    adk_init(&a->adk, ctl ? ctl->progress : NULL);
    a->cancel = ctl ? ctl->cancel : NULL;
    a->idle_ms = clock_env_ms("NEMO_SSE_IDLE_MS", AGENT_IDLE_MS, 1,
                              AGENT_CAP_MS);
    a->last_news = clock_mono_ms();
    a->sse = sse_new(&h);
    return a->sse ? 0 : -1;
}

static void agent_stream_free(agent_stream *a)
{
    sse_free(a->sse);
    adk_free(&a->adk);
}

static char *agent_body(const char *sid, const char *text)
{
    cJSON *root = cJSON_CreateObject(), *msg, *parts, *part;
    char *s = NULL;

    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "app_name", AGENT_APP);
    cJSON_AddStringToObject(root, "user_id", AGENT_USER);
    cJSON_AddStringToObject(root, "session_id", sid);
    msg = cJSON_AddObjectToObject(root, "new_message");
    parts = msg ? cJSON_AddArrayToObject(msg, "parts") : NULL;
    part = cJSON_CreateObject();
    if (parts && part && cJSON_AddItemToArray(parts, part) &&
        cJSON_AddStringToObject(part, "text", text))
        s = cJSON_PrintUnformatted(root);
    else
        cJSON_Delete(part);
    cJSON_Delete(root);
    return s;
}

/* A turn that waits for the person without an ask_question call: its
 * reply is the question. */
static void agent_reply_question(api_turn *out)
{
    cJSON *args = cJSON_CreateObject();

    cJSON_AddStringToObject(args, "question",
                            out->reply ? out->reply
                                       : "The video agent is waiting for "
                                         "your input.");
    if (adk_questions_parse(args, &out->questions) != 0)
        out->needs_input = 0;
    cJSON_Delete(args);
}

static void agent_fill(agent_stream *a, api_turn *out, long long started)
{
    out->reply = adk_take_reply(&a->adk);
    if (out->reply) {
        size_t len = strlen(out->reply),
               keep = noise_trim_trailing(out->reply, len);

        if (keep < len) {
            out->reply[keep] = '\0';
            out->noise_dropped = 1;
            LOG_INFO("agent", "dropped a trailing \"temporary issue\" "
                     "after a normal reply");
        }
    }
    out->saw_text = out->reply != NULL;
    out->function_calls = a->adk.function_calls;
    snprintf(out->last_tool, sizeof out->last_tool, "%s", a->adk.last_tool);
    out->heartbeats = a->adk.heartbeats;
    out->elapsed_ms = clock_mono_ms() - started;
    out->needs_input = adk_needs_input(&a->adk);
    if (!out->needs_input)
        return;
    out->questions = a->adk.questions;      /* moved */
    memset(&a->adk.questions, 0, sizeof a->adk.questions);
    if (out->questions.n == 0)
        agent_reply_question(out);
}

/* Decide how the turn ended. rc/err come from api_send. */
static int agent_finish(agent_stream *a, api_ctl *ctl, int rc, api_turn *out,
                        long long started, nemo_err *err)
{
    int pending = sse_pending(a->sse);
    long long secs;

    sse_finish(a->sse);
    agent_fill(a, out, started);
    /* The transfer also stops when not even heartbeats arrive (libcurl's
     * low-speed limit, set to the idle time): the same timeout. */
    if (rc != 0 && !a->idle && !cancel_requested(ctl ? ctl->cancel : NULL)
        && clock_mono_ms() - a->last_news >= a->idle_ms)
        a->idle = 1;
    secs = out->elapsed_ms / 1000;
    if (a->adk.error) {
        err_set(err, NEMO_E_BACKEND, "the agent reported an error: %s",
                a->adk.error_message);
        return -1;
    }
    if (a->too_long) {
        err_set(err, NEMO_E_PROTOCOL,
                "the agent's stream sent a line longer than 4 MiB; the turn "
                "was stopped");
        return -1;
    }
    if (a->idle) {
        out->interrupted = 1;
        err_set(err, NEMO_E_TIMEOUT,
                "the agent sent only heartbeats for %llds, so the turn "
                "timed out", (a->idle_ms + 999) / 1000);
        return -1;
    }
    if (rc != 0 && cancel_requested(ctl ? ctl->cancel : NULL)) {
        err_set(err, NEMO_E_CANCELLED,
                "the turn was cancelled after %llds; the agent may still "
                "finish it on the backend", secs);
        return -1;
    }
    if (rc != 0) {
        char why[sizeof err->message];

        if (a->bytes == 0)
            return -1;                    /* api_send's error stands */
        out->interrupted = 1;
        snprintf(why, sizeof why, "%s",
                 err->message[0] ? err->message : "connection lost");
        if (err->kind == NEMO_E_TIMEOUT)
            err_set(err, NEMO_E_TIMEOUT,
                    "the turn did not finish within the 15-minute limit; "
                    "the stream was closed");
        else
            err_set(err, NEMO_E_NETWORK,
                    "the stream was interrupted after %llds (%s)", secs,
                    why);
        return -1;
    }
    /* A clean close mid-event, or chunks of text that never got their
     * final event, means the connection dropped between events. */
    if (!a->adk.turn_complete &&
        (pending || (a->adk.partial.len && !a->adk.saw_final_text))) {
        out->interrupted = 1;
        err_set(err, NEMO_E_NETWORK,
                "the stream was interrupted after %llds (closed before the "
                "turn completed)", secs);
        return -1;
    }
    return 0;
}

void api_turn_free(api_turn *t)
{
    if (!t)
        return;
    free(t->reply);
    adk_questions_free(&t->questions);
    memset(t, 0, sizeof *t);
}

int api_agent_turn(nemo_api *api, api_ctl *ctl, const char *sid,
                   const char *text, api_turn *out, nemo_err *err)
{
    char cur[API_SESSION_MAX], fresh[API_SESSION_MAX];
    long long started = clock_mono_ms();
    int attempt, rc = -1;

    memset(out, 0, sizeof *out);
    err_clear(err);
    if (!sid || !*sid || !text || !*text) {
        err_set(err, NEMO_E_INVALID, "a session and a prompt are required");
        return -1;
    }
    snprintf(cur, sizeof cur, "%s", sid);
    for (attempt = 0; attempt < 2; attempt++) {
        agent_stream a;
        api_send_opts o;
        cJSON *data = NULL;
        char *body;

        if (agent_stream_init(&a, ctl) != 0 ||
            !(body = agent_body(cur, text))) {
            agent_stream_free(&a);
            err_set(err, NEMO_E_IO, "out of memory");
            return -1;
        }
        memset(&o, 0, sizeof o);
        o.method = "POST";
        o.path = "/run_sse";
        o.body = body;
        o.body_len = strlen(body);
        o.accept = "text/event-stream";
        o.idempotent = 0;                 /* spends credits */
        o.on_data = agent_on_data;
        o.on_data_ctx = &a;
        o.total_timeout_ms = AGENT_CAP_MS;
        o.low_speed_secs = (long)(a.idle_ms / 1000);
        progress_report(ctl ? ctl->progress : NULL, -1, "thinking");
        rc = api_send(api, ctl, &o, &data, err);
        cJSON_Delete(data);
        free(body);
        if (rc != 0 && err->kind == NEMO_E_SESSION && a.bytes == 0 &&
            attempt == 0) {
            /* The message never reached the agent: a new session is safe. */
            agent_stream_free(&a);
            LOG_INFO("agent", "session %s not found; starting a new one", cur);
            if (api_session_recover(api, ctl, cur, fresh, sizeof fresh,
                                    err) != 0)
                return -1;
            snprintf(cur, sizeof cur, "%s", fresh);
            err_clear(err);
            continue;
        }
        rc = agent_finish(&a, ctl, rc, out, started, err);
        agent_stream_free(&a);
        break;
    }
    if (rc == 0)
        err_clear(err);
    return rc;
}
