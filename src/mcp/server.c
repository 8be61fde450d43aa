/* server.c - the MCP server loop.
 *
 * The main thread reads lines and dispatches. Everything but tools/call is
 * answered inline (all quick); each tools/call gets a detached worker
 * thread, so a slow tool never holds up ping, tools/list or other calls. The
 * in-flight table maps request ids to calls for notifications/cancelled. A
 * single ticker thread, started on the first call that asks for progress,
 * sends the time-based heartbeats.
 *
 * Shutdown: end of input (after a short grace for calls about to finish),
 * SIGTERM/SIGINT (through a self-pipe: the handler only writes one byte) or
 * a broken stdout. Calls in flight are cancelled and get no response; the
 * workers are waited for, bounded so the process exits within 2 s. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nemo/buf.h"
#include "nemo/clock.h"
#include "nemo/platform.h"
#include "nemo/schema.h"
#include "mcp_internal.h"

#define SERVE_EOF_GRACE_MS 300     /* let calls about to finish answer */
#define SERVE_STOP_WAIT_MS 1200    /* cancelled calls must end by then */

/* Write end of the self-pipe for the signal handler (async-signal-safe:
 * the handler does nothing but write(2)). Owned by mcp_serve. */
static volatile int serve_sig_fd = -1;

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    int fd = serve_sig_fd;

    if (fd >= 0 && write(fd, &c, 1) < 0) {
        /* Nothing to do: the pipe is full, so a wake-up is pending. */
    }
    errno = saved;
}

/* ---- small helpers ---- */

static void send_msg(mcp_server *s, cJSON *msg)
{
    if (msg)
        mcp_out_send(&s->out, msg);
    cJSON_Delete(msg);
}

static mcp_call *find_call(mcp_server *s, const char *key)
{
    mcp_call *c;

    for (c = s->calls; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

void mcp_server_unlink(mcp_server *s, mcp_call *c)
{
    mcp_call **pp;

    for (pp = &s->calls; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            c->next = NULL;
            c->refs--;
            return;
        }
    }
}

void mcp_server_worker_done(mcp_server *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->nended == s->ended_cap) {
        size_t cap = s->ended_cap ? s->ended_cap * 2 : 8;
        pthread_t *p = realloc(s->ended, cap * sizeof *p);

        if (p) {
            s->ended = p;
            s->ended_cap = cap;
        }
    }
    if (s->nended < s->ended_cap)
        s->ended[s->nended++] = pthread_self();
    else
        pthread_detach(pthread_self());   /* out of memory: nobody joins */
    s->active--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Join the workers that have finished (they are at most returning). */
static void reap_workers(mcp_server *s)
{
    pthread_t batch[16];
    size_t n, i;

    do {
        pthread_mutex_lock(&s->mu);
        n = s->nended < 16 ? s->nended : 16;
        s->nended -= n;
        if (n)
            memcpy(batch, s->ended + s->nended, n * sizeof batch[0]);
        pthread_mutex_unlock(&s->mu);
        for (i = 0; i < n; i++)
            pthread_join(batch[i], NULL);
    } while (n == 16);
}

/* ---- heartbeats ---- */

static void heartbeat(mcp_call *c)
{
    long long secs = (clock_mono_ms() - c->started_ms) / 1000;
    char msg[sizeof c->last_message + 64], when[32];

    if (secs >= 60)
        snprintf(when, sizeof when, "%lldm%02llds", secs / 60, secs % 60);
    else
        snprintf(when, sizeof when, "%llds", secs);
    pthread_mutex_lock(&c->mu);
    if (c->last_message[0])
        snprintf(msg, sizeof msg, "still working (%s): %s", when,
                 c->last_message);
    else
        snprintf(msg, sizeof msg, "still working (%s)", when);
    pthread_mutex_unlock(&c->mu);
    mcp_call_progress(c, msg, 1);
}

static void *ticker_main(void *arg)
{
    mcp_server *s = arg;
    mcp_call *due[MCP_MAX_CALLS], *c;

    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        long long now = clock_mono_ms(), next = now + s->heartbeat_ms;
        int n = 0, i;

        for (c = s->calls; c && n < MCP_MAX_CALLS; c = c->next) {
            long long at;

            if (!c->progress_token)
                continue;
            pthread_mutex_lock(&c->mu);
            at = (c->last_sent_ms > c->started_ms ? c->last_sent_ms
                                                  : c->started_ms) +
                 s->heartbeat_ms;
            if (c->cancelled || c->done)
                at = -1;   /* nothing more goes out for it */
            pthread_mutex_unlock(&c->mu);
            if (at < 0)
                continue;
            if (at <= now) {
                c->refs++;
                due[n++] = c;
            } else if (at < next) {
                next = at;
            }
        }
        if (n) {
            pthread_mutex_unlock(&s->mu);
            for (i = 0; i < n; i++) {
                heartbeat(due[i]);
                mcp_call_unref(due[i]);
            }
            pthread_mutex_lock(&s->mu);
            continue;
        }
        plat_cond_wait_ms(&s->cv, &s->mu, next - now);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Threads we start take no signals: they belong to the main thread's
 * self-pipe. All are joined (workers via reap_workers) so none outlives
 * the server. */
static int spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Caller holds s->mu. */
static void ticker_start_locked(mcp_server *s)
{
    if (s->ticker_started || s->stopping)
        return;
    if (spawn(&s->ticker, ticker_main, s) == 0)
        s->ticker_started = 1;
    else
        LOG_WARN("mcp", "cannot start the heartbeat thread");
}

/* ---- methods ---- */

typedef cJSON *(*method_fn)(mcp_server *s, mcp_req *req, rpc_msg *m);

static cJSON *capabilities(const mcp_version *v)
{
    cJSON *caps = cJSON_CreateObject();
    cJSON *tools = cJSON_AddObjectToObject(caps, "tools");
    cJSON *res = cJSON_AddObjectToObject(caps, "resources");

    cJSON_AddBoolToObject(tools, "listChanged", 0);
    cJSON_AddObjectToObject(caps, "logging");
    cJSON_AddBoolToObject(res, "subscribe", 1);
    cJSON_AddBoolToObject(res, "listChanged", 1);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "prompts"),
                          "listChanged", 0);
    if (v->features & MCP_F_COMPLETIONS)
        cJSON_AddObjectToObject(caps, "completions");
    if (v->features & MCP_F_MODERN) {
        cJSON *ext = cJSON_AddObjectToObject(caps, "extensions");
        cJSON_AddObjectToObject(ext, MCP_EXT_TASKS);
    }
    return caps;
}

/* The instructions; with a refused configuration the problem comes
 * first, so the model knows before its first call why tools fail. */
static void add_instructions(const mcp_server *s, cJSON *res)
{
    const char *problem = s->env ? s->env->config_problem : NULL;
    nemo_buf b = NEMO_BUF_INIT;

    if (!problem) {
        cJSON_AddStringToObject(res, "instructions", mcp_instructions());
        return;
    }
    buf_printf(&b, "%s\n\n%s", problem, mcp_instructions());
    cJSON_AddStringToObject(res, "instructions", buf_str(&b));
    buf_free(&b);
}

static cJSON *m_initialize(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(req->params,
                                                       "protocolVersion");
    const mcp_version *v;
    cJSON *res, *info;

    (void)m;
    if (!cJSON_IsString(pv))
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: \"protocolVersion\" must be a "
                         "string", NULL);
    /* The spec: answer with the requested version when supported, else
     * with the newest one we support (the handshake has no 2026 era). */
    v = mcp_version_find(pv->valuestring);
    if (!v || (v->features & MCP_F_MODERN))
        v = mcp_version_latest_handshake();
    /* Job threads read it (resource notices go to an initialized client). */
    pthread_mutex_lock(&s->mu);
    s->session = v;
    s->client_caps = mcp_client_caps_parse(
        cJSON_GetObjectItemCaseSensitive(req->params, "capabilities"));
    pthread_mutex_unlock(&s->mu);
    res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "protocolVersion", v->name);
    cJSON_AddItemToObject(res, "capabilities", capabilities(v));
    info = mcp_server_info(v);
    mcp_icons_add(info, "server", v);
    cJSON_AddItemToObject(res, "serverInfo", info);
    add_instructions(s, res);
    LOG_INFO("mcp", "initialize: client asked %s, serving %s",
             pv->valuestring, v->name);
    return rpc_result(req->id, res);
}

static cJSON *m_ping(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    (void)s;
    (void)m;
    return rpc_result(req->id, mcp_result_finish(req, cJSON_CreateObject()));
}

static cJSON *m_set_level(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(req->params, "level");
    int sev = cJSON_IsString(lv) ? mcp_log_severity(lv->valuestring) : -1;

    (void)m;
    if (req->modern)
        return rpc_error(req->id, RPC_METHOD_NOT_FOUND,
                         "Method not found: logging/setLevel was removed in "
                         "2026-07-28; set _meta \"" MCP_META_LOGLEVEL
                         "\" on each request instead", NULL);
    if (sev < 0)
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: \"level\" must be one of debug, "
                         "info, notice, warning, error, critical, alert, "
                         "emergency", NULL);
    pthread_mutex_lock(&s->mu);
    s->session_log_severity = sev;
    pthread_mutex_unlock(&s->mu);
    return rpc_result(req->id, cJSON_CreateObject());
}

static cJSON *m_discover(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    mcp_req modern = *req;
    cJSON *res = cJSON_CreateObject();

    (void)m;
    /* Always the modern shape: discover exists only in that era. */
    modern.modern = 1;
    modern.version = mcp_version_modern();
    cJSON_AddItemToObject(res, "supportedVersions", mcp_versions_json());
    cJSON_AddItemToObject(res, "capabilities",
                          capabilities(mcp_version_modern()));
    add_instructions(s, res);
    cJSON_AddNumberToObject(res, "ttlMs", MCP_LIST_TTL_MS);
    cJSON_AddStringToObject(res, "cacheScope", "public");
    res = mcp_result_finish(&modern, res);
    /* The client shows the server as discover describes it. */
    mcp_icons_add(cJSON_GetObjectItemCaseSensitive(
                      cJSON_GetObjectItemCaseSensitive(res, "_meta"),
                      MCP_META_SERVERINFO), "server", modern.version);
    return rpc_result(req->id, res);
}

static cJSON *m_tools_list(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    (void)s;
    (void)m;
    if (cJSON_GetObjectItemCaseSensitive(req->params, "cursor"))
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: unknown cursor (tools/list is not "
                         "paginated)", NULL);
    return rpc_result(req->id,
                      mcp_result_finish(req, mcp_tools_list(req->version)));
}

static cJSON *m_tasks(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    (void)m;
    return mcp_task_method(req, s->env);
}

/* Start a worker that answers the request with run (NULL: tools/call);
 * takes m->root on success. NULL: started, else the error to send. */
cJSON *mcp_server_start_worker(mcp_server *s, mcp_req *req, rpc_msg *m,
                               cJSON *(*run)(mcp_call *c))
{
    mcp_call *c;
    char *key = rpc_id_key(req->id);
    const char *why = NULL;
    int code = RPC_INTERNAL_ERROR;
    pthread_t t;

    if (!key)
        return rpc_error(req->id, RPC_INTERNAL_ERROR, "out of memory", NULL);
    reap_workers(s);
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        why = "Server is shutting down";
    } else if (find_call(s, key)) {
        why = "Invalid Request: this id is already used by a request that "
              "is still running";
        code = RPC_INVALID_REQUEST;
    } else if (s->active >= MCP_MAX_CALLS) {
        why = "Server busy: 32 tool calls are already running; retry when "
              "one finishes";
    }
    pthread_mutex_unlock(&s->mu);
    if (why) {
        free(key);
        return rpc_error(req->id, code, why, NULL);
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        free(key);
        return rpc_error(req->id, RPC_INTERNAL_ERROR, "out of memory", NULL);
    }
    c->srv = s;
    c->run = run;
    c->refs = 2;   /* the in-flight list + the worker */
    c->key = key;
    c->msg = m->root;
    c->req = *req;
    if (req->progress_token)
        c->progress_token = cJSON_Duplicate(req->progress_token, 1);
    cancel_init(&c->cancel);
    pthread_mutex_init(&c->mu, NULL);
    c->started_ms = clock_mono_ms();
    mcp_call_setup(c);
    pthread_mutex_lock(&s->mu);
    c->next = s->calls;
    s->calls = c;
    s->active++;
    if (c->progress_token)
        ticker_start_locked(s);
    pthread_cond_broadcast(&s->cv);  /* the ticker may need to wake sooner */
    pthread_mutex_unlock(&s->mu);
    m->root = NULL;  /* now owned by the call; req points into it */
    if (spawn(&t, mcp_call_main, c) != 0) {
        cJSON *err = rpc_error(c->req.id, RPC_INTERNAL_ERROR,
                               "Cannot start a worker thread", NULL);

        pthread_mutex_lock(&s->mu);
        mcp_server_unlink(s, c);
        s->active--;
        pthread_mutex_unlock(&s->mu);
        mcp_call_unref(c);
        return err;
    }
    return NULL;
}

static cJSON *m_tools_call(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    return mcp_server_start_worker(s, req, m, NULL);
}

static const struct {
    const char *method;
    method_fn fn;
} methods[] = {
    { "initialize", m_initialize },
    { "ping", m_ping },
    { "logging/setLevel", m_set_level },
    { "server/discover", m_discover },
    { "tools/list", m_tools_list },
    { "tools/call", m_tools_call },
    { "tasks/get", m_tasks },
    { "tasks/cancel", m_tasks },
    { "tasks/update", m_tasks },
    { "resources/list", mcp_m_resources_list },
    { "resources/templates/list", mcp_m_resources_templates },
    { "resources/read", mcp_m_resources_read },
    { "resources/subscribe", mcp_m_resources_subscribe },
    { "resources/unsubscribe", mcp_m_resources_subscribe },
    { "subscriptions/listen", mcp_m_subscriptions_listen },
    { "prompts/list", mcp_m_prompts_list },
    { "prompts/get", mcp_m_prompts_get },
    { "completion/complete", mcp_m_complete },
};

static void handle_request(mcp_server *s, rpc_msg *m)
{
    mcp_req req;
    cJSON *err = NULL;
    char msg[200];
    size_t i;

    if (mcp_req_init(&req, m, s->session, &err) != 0) {
        send_msg(s, err);
        return;
    }
    if (!req.modern) {
        pthread_mutex_lock(&s->mu);
        req.client_caps = s->client_caps;
        pthread_mutex_unlock(&s->mu);
    }
    for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].method, req.method) == 0) {
            send_msg(s, methods[i].fn(s, &req, m));
            return;
        }
    snprintf(msg, sizeof msg, "Method not found: %.120s", req.method);
    send_msg(s, rpc_error(req.id, RPC_METHOD_NOT_FOUND, msg, NULL));
}

static void cancel_call(mcp_server *s, const cJSON *params)
{
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(params, "requestId");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(params, "reason");
    char *key = rpc_id_key(rid);
    mcp_call *c = NULL;

    if (!key)
        return;
    if (mcp_resources_cancel(key)) {
        LOG_INFO("mcp", "subscription %s closed by the client", key);
        free(key);
        return;
    }
    pthread_mutex_lock(&s->mu);
    c = find_call(s, key);
    if (c)
        c->refs++;
    pthread_mutex_unlock(&s->mu);
    if (c) {
        LOG_INFO("mcp", "request %s cancelled by the client%s%s", key,
                 cJSON_IsString(why) ? ": " : "",
                 cJSON_IsString(why) ? why->valuestring : "");
        pthread_mutex_lock(&c->mu);
        c->cancelled = 1;
        pthread_mutex_unlock(&c->mu);
        cancel_request(&c->cancel);
        mcp_call_unref(c);
    } else {
        LOG_DEBUG("mcp", "cancel for %s: not in flight", key);
    }
    free(key);
}

static void handle_notification(mcp_server *s, rpc_msg *m)
{
    if (strcmp(m->method, "notifications/cancelled") == 0)
        cancel_call(s, m->params);
    else
        LOG_DEBUG("mcp", "notification %s", m->method);
    mcp_roots_notification(s, m->method);
}

static void handle_line(mcp_server *s, const char *line, size_t len)
{
    rpc_msg m;

    rpc_parse(line, len, &m);
    switch (m.kind) {
    case RPC_MSG_REQUEST:
        handle_request(s, &m);
        break;
    case RPC_MSG_NOTIFICATION:
        handle_notification(s, &m);
        break;
    case RPC_MSG_ERROR:
        LOG_INFO("mcp", "rejected a message: %s", m.message);
        send_msg(s, rpc_error(m.err_id, m.code, m.message, NULL));
        break;
    case RPC_MSG_RESPONSE:
        mcp_clientreq_route(s, &m);
        break;
    case RPC_MSG_EMPTY:
        break;
    }
    rpc_msg_free(&m);
}

/* ---- lifecycle ---- */

static void wait_idle(mcp_server *s, long long ms)
{
    long long until = clock_mono_ms() + ms, now;

    while (s->active > 0 && (now = clock_mono_ms()) < until)
        plat_cond_wait_ms(&s->cv, &s->mu, until - now);
}

static void stop_calls(mcp_server *s, long long grace_ms)
{
    mcp_call *list[MCP_MAX_CALLS], *c;
    int n = 0, i, left;

    pthread_mutex_lock(&s->mu);
    if (grace_ms > 0)
        wait_idle(s, grace_ms);
    s->stopping = 1;
    /* Calls cancelled from here on are the process going away, not the
     * user: their background jobs stay resumable. */
    if (s->env && s->env->jobs)
        job_table_shutdown(s->env->jobs);
    for (c = s->calls; c && n < MCP_MAX_CALLS; c = c->next) {
        c->refs++;
        list[n++] = c;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    mcp_clientreq_stop(s);
    for (i = 0; i < n; i++) {
        pthread_mutex_lock(&list[i]->mu);
        list[i]->cancelled = 1;
        pthread_mutex_unlock(&list[i]->mu);
        cancel_request(&list[i]->cancel);
        mcp_call_unref(list[i]);
    }
    pthread_mutex_lock(&s->mu);
    wait_idle(s, SERVE_STOP_WAIT_MS);
    left = s->active;
    pthread_mutex_unlock(&s->mu);
    if (s->ticker_started)
        pthread_join(s->ticker, NULL);
    reap_workers(s);
    if (left > 0) {
        /* A tool ignored its cancel token. Its thread still uses the
         * server and the tool environment, so nothing can be freed:
         * leave now (stdout is unbuffered, nothing is lost). */
        LOG_WARN("mcp", "%d tool call(s) did not stop in time; exiting", left);
        _exit(0);
    }
}

static int make_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    return 0;
}

static void server_init(mcp_server *s, tool_env *env, int out_fd,
                        const int wake[2])
{
    memset(s, 0, sizeof *s);
    s->env = env;
    pthread_mutex_init(&s->mu, NULL);
    plat_cond_init(&s->cv);
    s->session_log_severity = -1;
    s->heartbeat_ms = clock_env_ms("NEMO_HEARTBEAT_MS", 10000, 10, 3600000);
    s->wake[0] = wake[0];
    s->wake[1] = wake[1];
    mcp_out_init(&s->out, out_fd, wake[1]);
}

int mcp_serve(tool_env *env, int in_fd, int out_fd)
{
    struct sigaction sa, old_term, old_int, old_pipe;
    mcp_server s;
    rpc_reader rd;
    rpc_read_status st = RPC_LINE;
    int wake[2];
    char *line;
    size_t len;

    if (schema_load() != 0) {
        LOG_ERROR("mcp", "the tool descriptions could not be loaded");
        return 1;
    }
    if (make_pipe(wake) != 0) {
        LOG_ERROR("mcp", "pipe: %s", strerror(errno));
        return 1;
    }
    server_init(&s, env, out_fd, wake);
    serve_sig_fd = wake[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);
    mcp_log_attach(&s);
    mcp_resources_attach(&s);
    rpc_reader_init(&rd, in_fd, wake[0], MCP_MAX_LINE);
    LOG_INFO("mcp", "serving on stdio");
    while (!mcp_out_broken(&s.out)) {
        st = rpc_read_line(&rd, &line, &len);
        if (st == RPC_LINE)
            handle_line(&s, line, len);
        else if (st == RPC_TOOLONG)
            send_msg(&s, rpc_error(NULL, RPC_PARSE_ERROR,
                                   "Parse error: message longer than 16 MiB "
                                   "was discarded", NULL));
        else
            break;
    }
    LOG_INFO("mcp", "stopping (%s)",
             st == RPC_EOF ? "end of input" : st == RPC_WOKEN ? "signal"
                                                             : "I/O error");
    stop_calls(&s, st == RPC_EOF ? SERVE_EOF_GRACE_MS : 0);
    mcp_resources_detach(&s);
    mcp_roots_reset();
    mcp_log_attach(NULL);
    rpc_reader_free(&rd);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    serve_sig_fd = -1;
    close(wake[0]);
    close(wake[1]);
    mcp_out_destroy(&s.out);
    mcp_elicit_free_all(&s);
    free(s.ended);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return 0;
}
