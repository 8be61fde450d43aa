/* roots.c - the folders the host says the user opened (MCP roots) bound
 * where upload reads and export writes.
 *
 * Handshake era only: after notifications/initialized, and again on each
 * notifications/roots/list_changed, a client that declared `roots` is
 * asked roots/list (clientreq.c's async request: the answer arrives on
 * the reader thread). Its file:// URIs, percent-decoded, become the host
 * roots of fspolicy, which intersects them with NEMO_UPLOAD_ROOTS /
 * NEMO_DOWNLOAD_ROOTS and names the allowed folders in every refusal.
 * Non-file URIs are refused (logged); a list whose every entry was
 * refused admits nothing rather than everything.
 *
 * Until the answer arrives, tool calls wait for it (bounded, and only
 * until one wait has run out), so a call made right after the handshake
 * or a change is not judged by stale roots.
 *
 * The 2026-07-28 era deprecates roots and has no list-changed
 * notification; this server does not ask for them there (an
 * input_required roots request is allowed but not needed). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nemo/json.h"
#include "nemo/clock.h"
#include "nemo/fspolicy.h"
#include "nemo/platform.h"
#include "mcp_internal.h"

#define ROOTS_MAX 256
#define ROOTS_PATH_MAX 4096

static pthread_mutex_t roots_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t roots_cv;   /* plat_cond_init'ed: use roots_cond() */
static pthread_once_t roots_cv_once = PTHREAD_ONCE_INIT;
static int roots_pending;      /* a roots/list is out, none answered yet */
static int roots_asked;        /* a request is out now (no second one) */
static int roots_again;        /* list_changed while one was out */

static void roots_cv_init(void)
{
    plat_cond_init(&roots_cv);
}

/* The condition variable, initialised on first use with the clock that
 * plat_cond_wait_ms expects (a static initializer would use another). */
static pthread_cond_t *roots_cond(void)
{
    pthread_once(&roots_cv_once, roots_cv_init);
    return &roots_cv;
}

static void set_pending(int pending)
{
    pthread_mutex_lock(&roots_mu);
    roots_pending = pending;
    if (!pending)
        pthread_cond_broadcast(roots_cond());
    pthread_mutex_unlock(&roots_mu);
}

/* The client's roots into fspolicy; 0 when applied. */
int mcp_roots_apply(const cJSON *result)
{
    const cJSON *roots = cJSON_GetObjectItemCaseSensitive(result, "roots");
    const cJSON *r;
    char **dirs;
    size_t n = 0, i;
    int rc;

    if (!cJSON_IsArray(roots)) {
        LOG_WARN("mcp", "roots/list answer has no \"roots\" array; the "
                 "previous roots stay");
        return -1;
    }
    dirs = calloc(ROOTS_MAX, sizeof *dirs);
    if (!dirs)
        return -1;
    cJSON_ArrayForEach(r, roots) {
        const char *uri = json_str(r, "uri");
        char path[ROOTS_PATH_MAX];

        if (n == ROOTS_MAX)
            break;
        /* A refused entry stays as NULL: it still counts as a root, so
         * a list of only refused entries admits nothing. */
        if (uri && mcp_file_uri_path(uri, path, sizeof path) == 0 &&
            path[0] == '/')
            dirs[n] = strdup(path);
        else
            LOG_WARN("mcp", "ignoring root %.200s: only file:// URIs of "
                     "local folders are roots", uri ? uri : "(no uri)");
        n++;
    }
    rc = fsp_set_host_roots((const char *const *)dirs, n);
    LOG_INFO("mcp", "the host shared %zu root(s)", n);
    for (i = 0; i < n; i++)
        free(dirs[i]);
    free(dirs);
    return rc;
}

static void ask(mcp_server *s);

static void answered(void *ctx, int status, const cJSON *result,
                     const cJSON *error)
{
    mcp_server *s = ctx;
    int again;

    const char *why = json_str(error, "message");

    if (status == MCP_CREQ_OK)
        mcp_roots_apply(result);
    else
        LOG_WARN("mcp", "roots/list was not answered (%.200s); the previous "
                 "roots stay", status == MCP_CREQ_TIMEOUT ? "timeout"
                               : status == MCP_CREQ_ERROR && why ? why
                               : status == MCP_CREQ_ERROR ? "error"
                                                           : "closed");
    pthread_mutex_lock(&roots_mu);
    roots_asked = 0;
    again = roots_again && status != MCP_CREQ_CLOSED;
    roots_again = 0;
    pthread_mutex_unlock(&roots_mu);
    if (again)
        ask(s);            /* still pending: the list changed meanwhile */
    else
        set_pending(0);
}

/* On the reader thread. One request at a time; a change notice while one
 * is out asks again when it is answered (the answer may predate it). */
static void ask(mcp_server *s)
{
    int busy;

    pthread_mutex_lock(&roots_mu);
    busy = roots_asked;
    if (busy)
        roots_again = 1;
    else
        roots_asked = 1;
    pthread_mutex_unlock(&roots_mu);
    if (busy)
        return;
    if (mcp_client_request_async(s, "roots/list", NULL, answered, s) !=
        MCP_CREQ_OK) {
        LOG_WARN("mcp", "could not ask the client for its roots");
        pthread_mutex_lock(&roots_mu);
        roots_asked = 0;
        pthread_mutex_unlock(&roots_mu);
        set_pending(0);
    }
}

static int client_has_roots(mcp_server *s)
{
    unsigned caps;

    pthread_mutex_lock(&s->mu);
    caps = s->session ? s->client_caps : 0;
    pthread_mutex_unlock(&s->mu);
    return (caps & MCP_CAP_ROOTS) != 0;
}

void mcp_roots_notification(mcp_server *s, const char *method)
{
    if (!client_has_roots(s) ||
        (strcmp(method, "notifications/initialized") != 0 &&
         strcmp(method, "notifications/roots/list_changed") != 0))
        return;
    set_pending(1);
    ask(s);
}

/* A host that never answers holds up one call, not every call: once a
 * wait runs out, later calls go on at once (the answer, when it comes,
 * still applies). */
void mcp_roots_wait(long long ms)
{
    long long until, now;
    pthread_cond_t *cv = roots_cond();
    int gave_up = 0;

    ms = clock_env_ms("NEMO_ROOTS_WAIT_MS", ms, 10, 600000);
    until = clock_mono_ms() + ms;
    pthread_mutex_lock(&roots_mu);
    while (roots_pending && (now = clock_mono_ms()) < until)
        plat_cond_wait_ms(cv, &roots_mu, until - now);
    if (roots_pending) {
        gave_up = 1;
        roots_pending = 0;
    }
    pthread_mutex_unlock(&roots_mu);
    if (gave_up)
        LOG_WARN("mcp", "no roots/list answer within %lld ms; files are "
                 "judged without the host's roots until it comes", ms);
}

void mcp_roots_reset(void)
{
    pthread_mutex_lock(&roots_mu);
    roots_pending = roots_asked = roots_again = 0;
    pthread_cond_broadcast(roots_cond());
    pthread_mutex_unlock(&roots_mu);
    fsp_reset();
}
