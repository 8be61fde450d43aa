/* clientreq.c - requests from this server to the client (handshake era):
 * elicitation/create, roots/list, ...
 *
 * The stateless era (2026-07-28) has no server-to-client requests: there
 * everything the server needs goes back in an input_required result (see
 * elicitation.c), so these functions refuse to send to such a client.
 *
 * A request gets a fresh integer id (the client's ids are its own
 * namespace) and a pending record, registered before the request is
 * written so an instant answer finds it. The main thread's reader hands
 * every response to mcp_clientreq_route, which wakes the waiting worker or
 * runs the asynchronous callback. A waiter gives up on timeout, on its
 * call's cancellation and on shutdown, and then tells the client with
 * notifications/cancelled. The number of requests outstanding is bounded.
 *
 * Also here: the client's declared capabilities as flags, read from
 * initialize (handshake era) or from each request's _meta (stateless). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nemo/clock.h"
#include "nemo/num.h"
#include "nemo/platform.h"
#include "mcp_internal.h"

#define CREQ_MAX_PENDING 64
#define CREQ_SLICE_MS 50          /* cancel tokens have no wake-up hook */
#define CREQ_ASYNC_TTL_MS 60000   /* an async request nobody answers */

struct mcp_pending {
    long long id;
    pthread_cond_t cv;
    int state;                /* 0 waiting, 1 answered */
    cJSON *result;            /* owned until taken */
    cJSON *error;
    long long deadline_ms;    /* async only: dropped after this */
    mcp_creq_cb cb;           /* NULL: a thread waits on cv */
    void *cb_ctx;
    struct mcp_pending *next;
};

/* ---- capabilities ---- */

static const cJSON *caps_get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsObject(v) ? v : NULL;
}

unsigned mcp_client_caps_parse(const cJSON *caps)
{
    const cJSON *el = caps_get(caps, "elicitation");
    const cJSON *roots = caps_get(caps, "roots");
    unsigned f = 0;

    if (el) {
        int form = caps_get(el, "form") != NULL;
        int url = caps_get(el, "url") != NULL;

        /* The spec: an empty elicitation object means form mode only. */
        if (form || !url)
            f |= MCP_CAP_ELICIT_FORM;
        if (url)
            f |= MCP_CAP_ELICIT_URL;
    }
    if (roots) {
        f |= MCP_CAP_ROOTS;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(roots,
                                                          "listChanged")))
            f |= MCP_CAP_ROOTS_CHANGED;
    }
    if (caps_get(caps, "sampling"))
        f |= MCP_CAP_SAMPLING;
    if (caps_get(caps_get(caps, "extensions"), MCP_EXT_TASKS))
        f |= MCP_CAP_TASKS;
    return f;
}

/* ---- the pending table (under s->mu) ---- */

static void pending_free(mcp_pending *p)
{
    cJSON_Delete(p->result);
    cJSON_Delete(p->error);
    if (!p->cb)
        pthread_cond_destroy(&p->cv);
    free(p);
}

static void pending_unlink(mcp_server *s, mcp_pending *p)
{
    mcp_pending **pp;

    for (pp = &s->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            p->next = NULL;
            return;
        }
}

static size_t pending_count(mcp_server *s)
{
    size_t n = 0;
    mcp_pending *p;

    for (p = s->pending; p; p = p->next)
        n++;
    return n;
}

/* Take the async requests whose time is up out of the table; the caller
 * runs their callbacks once it has let go of s->mu. */
static mcp_pending *expire_async(mcp_server *s, long long now)
{
    mcp_pending **pp = &s->pending, *gone = NULL, *p;

    while ((p = *pp) != NULL) {
        if (p->cb && p->deadline_ms <= now) {
            *pp = p->next;
            p->next = gone;
            gone = p;
        } else {
            pp = &p->next;
        }
    }
    return gone;
}

static void run_callbacks(mcp_pending *list, int status)
{
    mcp_pending *p, *next;

    for (p = list; p; p = next) {
        next = p->next;
        p->cb(p->cb_ctx, status, NULL, NULL);
        pending_free(p);
    }
}

/* Register p and write the request. 0: sent; else an MCP_CREQ_ status. */
static int creq_send(mcp_server *s, const mcp_req *req, mcp_pending *p,
                     const char *method, cJSON *params)
{
    mcp_pending *expired;
    cJSON *msg;
    int rc = MCP_CREQ_OK;

    pthread_mutex_lock(&s->mu);
    expired = expire_async(s, clock_mono_ms());
    if (s->stopping)
        rc = MCP_CREQ_CLOSED;
    else if ((req && req->modern) || !s->session)
        rc = MCP_CREQ_UNSUPPORTED;   /* never a request to a 2026 client */
    else if (pending_count(s) >= CREQ_MAX_PENDING)
        rc = MCP_CREQ_BUSY;
    if (rc == MCP_CREQ_OK) {
        p->id = ++s->creq_next_id;
        p->next = s->pending;
        s->pending = p;
    }
    pthread_mutex_unlock(&s->mu);
    run_callbacks(expired, MCP_CREQ_TIMEOUT);
    if (rc != MCP_CREQ_OK) {
        cJSON_Delete(params);
        return rc;
    }
    msg = cJSON_CreateObject();
    if (msg) {
        cJSON_AddStringToObject(msg, "jsonrpc", "2.0");
        cJSON_AddNumberToObject(msg, "id", (double)p->id);
        cJSON_AddStringToObject(msg, "method", method);
        cJSON_AddItemToObject(msg, "params",
                              params ? params : cJSON_CreateObject());
    } else {
        cJSON_Delete(params);
    }
    if (!msg || mcp_out_send(&s->out, msg) != 0)
        rc = MCP_CREQ_CLOSED;
    cJSON_Delete(msg);
    if (rc != MCP_CREQ_OK) {
        pthread_mutex_lock(&s->mu);
        pending_unlink(s, p);
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

/* Tell the client we no longer wait for request id. */
static void creq_cancelled(mcp_server *s, long long id, const char *why)
{
    cJSON *params = cJSON_CreateObject(), *n;

    cJSON_AddNumberToObject(params, "requestId", (double)id);
    cJSON_AddStringToObject(params, "reason", why);
    n = rpc_notification("notifications/cancelled", params);
    if (n)
        mcp_out_send(&s->out, n);
    cJSON_Delete(n);
}

/* Wait on p (registered) until answered, timed out, cancelled or the
 * server stops. Caller holds s->mu. */
static int creq_wait_locked(mcp_server *s, mcp_pending *p,
                            nemo_cancel *cancel, long long deadline)
{
    while (!p->state) {
        long long now = clock_mono_ms(), slice;

        if (s->stopping)
            return MCP_CREQ_CLOSED;
        if (cancel_requested(cancel))
            return MCP_CREQ_CANCELLED;
        if (now >= deadline)
            return MCP_CREQ_TIMEOUT;
        slice = deadline - now;
        if (cancel && slice > CREQ_SLICE_MS)
            slice = CREQ_SLICE_MS;
        plat_cond_wait_ms(&p->cv, &s->mu, slice);
    }
    return p->error ? MCP_CREQ_ERROR : MCP_CREQ_OK;
}

int mcp_client_request(mcp_server *s, const mcp_req *req, nemo_cancel *cancel,
                       const char *method, cJSON *params, long long timeout_ms,
                       cJSON **result, cJSON **error)
{
    mcp_pending *p = calloc(1, sizeof *p);
    int rc;

    *result = NULL;
    if (error)
        *error = NULL;
    if (!p) {
        cJSON_Delete(params);
        return MCP_CREQ_CLOSED;
    }
    plat_cond_init(&p->cv);
    rc = creq_send(s, req, p, method, params);
    if (rc != MCP_CREQ_OK) {
        pending_free(p);
        return rc;
    }
    LOG_DEBUG("mcp", "sent %s (id %lld) to the client", method, p->id);
    pthread_mutex_lock(&s->mu);
    rc = creq_wait_locked(s, p, cancel, clock_mono_ms() + timeout_ms);
    pending_unlink(s, p);
    pthread_mutex_unlock(&s->mu);
    if (rc == MCP_CREQ_OK) {
        *result = p->result;
        p->result = NULL;
    } else if (rc == MCP_CREQ_ERROR && error) {
        *error = p->error;
        p->error = NULL;
    } else if (rc == MCP_CREQ_TIMEOUT || rc == MCP_CREQ_CANCELLED) {
        LOG_INFO("mcp", "%s (id %lld): %s", method, p->id,
                 rc == MCP_CREQ_TIMEOUT ? "no answer in time" : "cancelled");
        creq_cancelled(s, p->id, rc == MCP_CREQ_TIMEOUT
                                     ? "the server stopped waiting (timeout)"
                                     : "the tool call was cancelled");
    }
    pending_free(p);
    return rc;
}

int mcp_client_request_async(mcp_server *s, const char *method,
                             cJSON *params, mcp_creq_cb cb, void *ctx)
{
    mcp_pending *p = calloc(1, sizeof *p);
    int rc;

    if (!p) {
        cJSON_Delete(params);
        return MCP_CREQ_CLOSED;
    }
    p->cb = cb;
    p->cb_ctx = ctx;
    p->deadline_ms = clock_mono_ms() + CREQ_ASYNC_TTL_MS;
    rc = creq_send(s, NULL, p, method, params);
    if (rc != MCP_CREQ_OK)
        free(p);
    return rc;
}

void mcp_clientreq_route(mcp_server *s, rpc_msg *m)
{
    mcp_pending *p = NULL, *done = NULL;
    cJSON *res, *err;
    long long id;

    /* Our ids are positive integers; anything else is not an answer to
     * us. */
    if (num_ll(m->id, 1, (1LL << 53), &id) != 0 ||
        (double)id != m->id->valuedouble) {
        LOG_DEBUG("mcp", "ignoring a response with an id we never sent");
        return;
    }
    res = cJSON_DetachItemFromObjectCaseSensitive(m->root, "result");
    err = cJSON_DetachItemFromObjectCaseSensitive(m->root, "error");
    pthread_mutex_lock(&s->mu);
    for (p = s->pending; p; p = p->next)
        if (p->id == id && !p->state)
            break;
    if (p) {
        /* A malformed answer (neither an object result nor an error
         * object) counts as an error, so the waiter never misreads it. */
        if (cJSON_IsObject(err) || !cJSON_IsObject(res)) {
            p->error = cJSON_IsObject(err) ? err : cJSON_CreateObject();
            if (!cJSON_IsObject(err))
                cJSON_Delete(err);
            cJSON_Delete(res);
        } else {
            p->result = res;
            cJSON_Delete(err);
        }
        res = err = NULL;
        p->state = 1;
        if (p->cb) {
            pending_unlink(s, p);
            done = p;
        } else {
            pthread_cond_broadcast(&p->cv);
        }
    }
    pthread_mutex_unlock(&s->mu);
    cJSON_Delete(res);
    cJSON_Delete(err);
    if (!p)
        LOG_DEBUG("mcp", "ignoring a response to id %lld (not waiting for "
                  "it)", id);
    if (done) {
        done->cb(done->cb_ctx, done->error ? MCP_CREQ_ERROR : MCP_CREQ_OK,
                 done->result, done->error);
        pending_free(done);
    }
}

void mcp_clientreq_stop(mcp_server *s)
{
    mcp_pending **pp, *p, *gone = NULL;

    pthread_mutex_lock(&s->mu);
    pp = &s->pending;
    while ((p = *pp) != NULL) {
        if (p->cb) {
            *pp = p->next;
            p->next = gone;
            gone = p;
        } else {
            pthread_cond_broadcast(&p->cv);   /* sees s->stopping */
            pp = &p->next;
        }
    }
    pthread_mutex_unlock(&s->mu);
    run_callbacks(gone, MCP_CREQ_CLOSED);
}
