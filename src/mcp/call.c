/* call.c - one tools/call, run on its own worker thread.
 *
 * The worker validates the arguments against the tool's input schema,
 * runs the tool with the request's cancel token and a progress sink, and
 * answers - unless the client cancelled the request, in which case no
 * response is sent at all. Everything the call writes (progress, log
 * lines, the response) is ordered by the call's mutex: once `done` is set
 * nothing more goes out for it.
 *
 * Log lines reach the client as notifications/message when the client
 * asked: per request in the stateless era (only lines emitted by the
 * thread running that request), per session after logging/setLevel in
 * the handshake era. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/clock.h"
#include "nemo/schema.h"
#include "mcp_internal.h"

#define CALL_PROGRESS_MIN_MS 100   /* at most ~10 progress messages/s */

static _Thread_local mcp_call *tl_call;  /* the call this thread runs */
static _Thread_local int tl_sending;     /* inside a send: no log echo */

/* The server the log observer forwards to; cleared (under the write lock)
 * before the server goes away, so a late log line from a job thread never
 * touches a dead server. */
static pthread_rwlock_t obs_lock = PTHREAD_RWLOCK_INITIALIZER;
static mcp_server *obs_srv;

void mcp_log_attach(mcp_server *srv)
{
    pthread_rwlock_wrlock(&obs_lock);
    obs_srv = srv;
    pthread_rwlock_unlock(&obs_lock);
    log_set_observer(srv ? mcp_log_observer : NULL, NULL);
}

static void call_free(mcp_call *c)
{
    cJSON_Delete(c->msg);
    cJSON_Delete(c->progress_token);
    cJSON_Delete(c->ask_saved);
    cJSON_Delete(c->resumed_saved);
    cJSON_Delete(c->resumed_answers);
    cancel_destroy(&c->cancel);
    pthread_mutex_destroy(&c->mu);
    free(c->key);
    free(c);
}

void mcp_call_unref(mcp_call *c)
{
    mcp_server *s = c->srv;
    int last;

    pthread_mutex_lock(&s->mu);
    last = --c->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last)
        call_free(c);
}

/* ---- progress ---- */

/* Caller holds c->mu. */
static void progress_send_locked(mcp_call *c, const char *message,
                                 long long now)
{
    cJSON *params, *n;

    params = cJSON_CreateObject();
    cJSON_AddItemToObject(params, "progressToken",
                          cJSON_Duplicate(c->progress_token, 1));
    cJSON_AddNumberToObject(params, "progress", ++c->progress_seq);
    cJSON_AddStringToObject(params, "message", message);
    n = rpc_notification("notifications/progress", params);
    if (n)
        mcp_out_send(&c->srv->out, n);
    cJSON_Delete(n);
    c->last_sent_ms = now;
    c->progress_held = 0;
}

void mcp_call_progress(mcp_call *c, const char *message, int heartbeat)
{
    long long now = clock_mono_ms();

    if (!c->progress_token)
        return;
    tl_sending = 1;
    pthread_mutex_lock(&c->mu);
    if (c->done || c->cancelled)
        goto out;
    if (!heartbeat && c->progress_seq > 0 &&
        now - c->last_sent_ms < CALL_PROGRESS_MIN_MS) {
        c->progress_held = 1;   /* the next heartbeat or the end sends it */
        goto out;
    }
    if (heartbeat && now - c->last_sent_ms < c->srv->heartbeat_ms)
        goto out;
    progress_send_locked(c, message, now);
out:
    pthread_mutex_unlock(&c->mu);
    tl_sending = 0;
}

/* A message the throttle held back is sent before the response, so the
 * host always sees the last step the call reached. Caller holds c->mu. */
static void progress_flush_locked(mcp_call *c)
{
    if (c->progress_token && c->progress_held && c->last_message[0]) {
        tl_sending = 1;
        progress_send_locked(c, c->last_message, clock_mono_ms());
        tl_sending = 0;
    }
}

static void call_report(void *ctx, double fraction, const char *message)
{
    mcp_call *c = ctx;
    char msg[sizeof c->last_message];

    if (fraction >= 0 && fraction <= 1 && !strchr(message, '%'))
        snprintf(msg, sizeof msg, "%s (%d%%)", message,
                 (int)(fraction * 100 + 0.5));
    else
        snprintf(msg, sizeof msg, "%s", message);
    pthread_mutex_lock(&c->mu);
    memcpy(c->last_message, msg, sizeof msg);
    pthread_mutex_unlock(&c->mu);
    mcp_call_progress(c, msg, 0);
}

/* ---- log lines -> notifications/message ---- */

static void send_log(mcp_server *s, enum log_level level, const char *module,
                     const char *line)
{
    cJSON *p = cJSON_CreateObject(), *n;

    cJSON_AddStringToObject(p, "level", mcp_log_level_name(level));
    cJSON_AddStringToObject(p, "logger", module);
    cJSON_AddStringToObject(p, "data", line);
    n = rpc_notification("notifications/message", p);
    if (n)
        mcp_out_send(&s->out, n);
    cJSON_Delete(n);
}

void mcp_log_observer(void *ctx, enum log_level level, const char *module,
                      const char *line)
{
    mcp_call *c = tl_call;
    mcp_server *s;
    int sev = mcp_log_severity_of(level), min;

    (void)ctx;
    if (tl_sending)
        return;
    pthread_rwlock_rdlock(&obs_lock);
    s = obs_srv;
    if (!s)
        goto out;
    tl_sending = 1;
    if (c && c->req.modern) {
        /* Stateless era: only what this request asked for, only before
         * its response. */
        if (c->req.log_severity >= 0 && sev >= c->req.log_severity) {
            pthread_mutex_lock(&c->mu);
            if (!c->done && !c->cancelled)
                send_log(s, level, module, line);
            pthread_mutex_unlock(&c->mu);
        }
    } else {
        pthread_mutex_lock(&s->mu);
        min = s->session_log_severity;
        pthread_mutex_unlock(&s->mu);
        if (min >= 0 && sev >= min)
            send_log(s, level, module, line);
    }
    tl_sending = 0;
out:
    pthread_rwlock_unlock(&obs_lock);
}

/* ---- running the call ---- */

static cJSON *invalid_params(mcp_call *c, const char *msg)
{
    return rpc_error(c->req.id, RPC_INVALID_PARAMS, msg, NULL);
}

/* The tool's result does not match its own output schema: a bug on our
 * side that hosts would reject. Say so loudly on stderr. */
static void check_output(const cJSON *tool, const char *name,
                         const nemo_result *r)
{
    const cJSON *os = cJSON_GetObjectItemCaseSensitive(tool, "outputSchema");
    char err[300];

    if (r->is_error || !os)
        return;
    if (!r->structured)
        LOG_WARN("mcp", "tool %s returned no structured content", name);
    else if (schema_validate(os, r->structured, "structuredContent", err,
                             sizeof err) != 0)
        LOG_WARN("mcp", "tool %s output does not match its schema: %s", name,
                 err);
}

static cJSON *run_tool(mcp_call *c, const tool_def *def, const cJSON *tool,
                       const cJSON *args)
{
    tool_env *env = c->srv->env;
    tool_call tc;
    tool_output out;
    cJSON *res, *err = NULL;
    int rc;

    memset(&tc, 0, sizeof tc);
    memset(&out, 0, sizeof out);
    result_init(&out.result);
    tc.env = env;
    tc.args = args;
    tc.cancel = &c->cancel;
    tc.progress = &c->sink;
    tc.task_mode = c->req.modern && c->req.tasks_ok && def->long_running;
    /* Right after the handshake the host's roots may still be on their
     * way: judge no path without them. */
    mcp_roots_wait(MCP_ROOTS_WAIT_MS);
    /* A task runs on unseen: its job asks the person itself, through the
     * task's input_required (tasks.c). */
    tc.asker = tc.task_mode ? NULL : &c->asker;
    tc.task_ask_ms = tc.task_mode ? mcp_elicit_task_wait_ms(c) : 0;
    res = mcp_elicit_resume(c, def->name, &tc);
    if (res)
        return res;
    /* On this thread, so a request that set a log level sees it. */
    LOG_DEBUG("mcp", "calling tool %s%s", def->name,
              tc.task_mode ? " (task mode)" : "");
    rc = tool_run(def, &tc, &out);
    LOG_DEBUG("mcp", "tool %s returned after %lld ms%s", def->name,
              clock_mono_ms() - c->started_ms,
              out.result.is_error ? " with an error" : "");
    if (rc != 0 && !out.result.text && !out.result.is_error)
        result_error(&out.result, NULL, "The %s tool failed unexpectedly; "
                     "see the server log for details.", def->name);
    if (cancel_requested(&c->cancel)) {
        result_free(&out.result);
        return NULL;
    }
    if ((res = mcp_elicit_suspended(c, def->name)) != NULL) {
        result_free(&out.result);
        return res;
    }
    if (tc.task_mode && out.job_id[0]) {
        res = mcp_task_created(&c->req, env, out.job_id, &err);
        result_free(&out.result);
        return res ? rpc_result(c->req.id, mcp_result_finish(&c->req, res))
                   : err;
    }
    check_output(tool, def->name, &out.result);
    res = mcp_call_result(&c->req, &out.result);
    result_free(&out.result);
    return rpc_result(c->req.id, mcp_result_finish(&c->req, res));
}

/* The response to send, or NULL for none (cancelled). */
static cJSON *call_run(mcp_call *c)
{
    const cJSON *p = c->req.params;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(p, "arguments");
    const cJSON *tool;
    const tool_def *def;
    cJSON *clean, *res;
    char err[512];

    if (!cJSON_IsString(name))
        return invalid_params(c, "Invalid params: \"name\" must be a string");
    def = tool_find(name->valuestring);
    tool = schema_tool(name->valuestring);
    if (!def || !tool) {
        snprintf(err, sizeof err, "Unknown tool: %.200s (tools/list names "
                 "the tools)", name->valuestring);
        return invalid_params(c, err);
    }
    if (args && !cJSON_IsNull(args) && !cJSON_IsObject(args))
        return invalid_params(c, "Invalid params: \"arguments\" must be an "
                              "object");
    clean = schema_args(cJSON_GetObjectItemCaseSensitive(tool, "inputSchema"),
                        args, err, sizeof err);
    if (!clean) {
        nemo_result r;

        result_init(&r);
        result_error(&r, NULL, "Invalid arguments for %s: %s. Fix the "
                     "arguments and call %s again.", def->name, err,
                     def->name);
        res = rpc_result(c->req.id,
                         mcp_result_finish(&c->req, mcp_call_result(&c->req,
                                                                    &r)));
        result_free(&r);
    } else {
        res = run_tool(c, def, tool, clean);
    }
    cJSON_Delete(clean);
    return res;
}

void mcp_call_setup(mcp_call *c)
{
    c->sink.report = call_report;
    c->sink.ctx = c;
    mcp_elicit_setup(c);
}

void *mcp_call_main(void *arg)
{
    mcp_call *c = arg;
    mcp_server *s = c->srv;
    cJSON *resp;
    int cancelled;

    tl_call = c;
    resp = c->run ? c->run(c) : call_run(c);
    tl_call = NULL;
    /* Leave the in-flight table first: the client may reuse the id as
     * soon as it sees the response. */
    pthread_mutex_lock(&s->mu);
    mcp_server_unlink(s, c);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&c->mu);
    cancelled = c->cancelled || cancel_requested(&c->cancel);
    if (resp && !cancelled)
        progress_flush_locked(c);
    c->done = 1;
    pthread_mutex_unlock(&c->mu);
    if (resp && !cancelled)
        mcp_out_send(&s->out, resp);
    else if (cancelled)
        LOG_DEBUG("mcp", "call %s cancelled; no response sent", c->key);
    cJSON_Delete(resp);
    mcp_call_unref(c);
    mcp_server_worker_done(s);
    return NULL;
}
