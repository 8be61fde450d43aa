/* resources.c - the project as MCP resources.
 *
 * Two kinds: a session's timeline, nemo://sessions/{session}/timeline (the
 * `state` tool's JSON plus its text summary; listed for the current
 * session, any session through the template), and every video this
 * process saved (file:// URIs, video/mp4, their size).
 *
 * Change notices come from the tools' events (event.h), never from the
 * tools knowing MCP: "timeline of X changed" becomes
 * notifications/resources/updated for clients that subscribed to X's
 * timeline; "video saved" and "current session changed" become
 * notifications/resources/list_changed. Subscribing differs by era:
 * resources/subscribe + unsubscribe (handshake; notices go to the one
 * initialized client), or a subscriptions/listen stream (2026-07-28; each
 * notice goes to the streams that asked for it, tagged with the stream's
 * id, and only after its acknowledgement).
 *
 * State lives here (one server per process), behind res_mu. Notices are
 * written under res_mu so that an acknowledgement always precedes the
 * stream's first notice. Lock order: res_mu, then the server's mu. */
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nemo/json.h"
#include "nemo/api.h"
#include "nemo/event.h"
#include "nemo/store.h"
#include "nemo/num.h"
#include "mcp_internal.h"

#define RES_PREFIX "nemo://sessions/"
#define RES_SUFFIX "/timeline"
#define RES_TEMPLATE MCP_RES_TEMPLATE
#define RES_MAX_VIDEOS 256
#define RES_MAX_SUBS 64
#define RES_MAX_LISTENS 16
#define RES_MAX_LISTEN_URIS 64
#define RES_MAX_SESSIONS 16
#define RES_READ_MAX (8 * 1024 * 1024)   /* larger videos: open the file */
#define RES_NOT_FOUND (-32002)            /* the spec's "Resource not found" */
#define MCP_META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"

typedef struct res_video {
    char *path;
    long long bytes;
} res_video;

typedef struct res_listen {
    char *key;          /* rpc_id_key of the listen request */
    cJSON *id;          /* the request id, echoed as the subscription id */
    int list_changed;
    char *uris[RES_MAX_LISTEN_URIS];
    size_t nuris;
} res_listen;

static pthread_mutex_t res_mu = PTHREAD_MUTEX_INITIALIZER;
static mcp_server *res_srv;                  /* attached server or NULL */
static res_video res_videos[RES_MAX_VIDEOS];
static size_t res_nvideos;
static char *res_subs[RES_MAX_SUBS];         /* handshake subscriptions */
static size_t res_nsubs;
static res_listen res_listens[RES_MAX_LISTENS];
static size_t res_nlistens;
static char res_sessions[RES_MAX_SESSIONS][API_SESSION_MAX];  /* newest 1st */
static size_t res_nsessions;

/* ---- URIs ---- */

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Percent-encode s; bytes in keep stay as they are. */
static void pct_encode(nemo_buf *b, const char *s, const char *keep)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (unreserved(c) || (c && strchr(keep, c)))
            buf_putc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mcp_uri_decode(const char *s, size_t len, char *out, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        int c = (unsigned char)s[i];

        if (c == '%') {
            int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(s[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        /* No NUL or control characters: they name no real file. */
        if (c < 0x20 || c == 0x7f || o + 1 >= n)
            return -1;
        out[o++] = (char)c;
    }
    if (o == 0)
        return -1;
    out[o] = '\0';
    return 0;
}

int mcp_file_uri_path(const char *uri, char *out, size_t n)
{
    const char *p;

    if (!uri || strncmp(uri, "file://", 7) != 0)
        return -1;
    p = uri + 7;
    /* file:///path or file://localhost/path; no other hosts. */
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/' || strpbrk(p, "?#"))
        return -1;
    return mcp_uri_decode(p, strlen(p), out, n);
}

static void file_uri(nemo_buf *b, const char *path)
{
    buf_puts(b, "file://");
    pct_encode(b, path, "/");
}

static void timeline_uri(nemo_buf *b, const char *sid)
{
    buf_puts(b, RES_PREFIX);
    pct_encode(b, sid, "");
    buf_puts(b, RES_SUFFIX);
}

/* The session of a timeline URI into sid; -1 when uri is not one. */
static int timeline_sid(const char *uri, char *sid, size_t n)
{
    size_t plen = strlen(RES_PREFIX), slen = strlen(RES_SUFFIX), len;

    if (!uri || strncmp(uri, RES_PREFIX, plen) != 0)
        return -1;
    len = strlen(uri);
    if (len <= plen + slen || strcmp(uri + len - slen, RES_SUFFIX) != 0)
        return -1;
    if (mcp_uri_decode(uri + plen, len - plen - slen, sid, n) != 0)
        return -1;
    return strchr(sid, '/') ? -1 : 0;
}

/* ---- notices (caller holds res_mu) ---- */

static void send_notice(const char *method, const char *uri,
                        const cJSON *sub_id)
{
    cJSON *p = NULL, *n;

    if (uri || sub_id)
        p = cJSON_CreateObject();
    if (sub_id) {
        cJSON *meta = cJSON_AddObjectToObject(p, "_meta");
        cJSON_AddItemToObject(meta, MCP_META_SUBSCRIPTION,
                              cJSON_Duplicate(sub_id, 1));
    }
    if (uri)
        cJSON_AddStringToObject(p, "uri", uri);
    n = rpc_notification(method, p);
    if (n && res_srv)
        mcp_out_send(&res_srv->out, n);
    cJSON_Delete(n);
}

/* A handshake client that initialized gets unsolicited notices. */
static int handshake_client(void)
{
    int yes;

    if (!res_srv)
        return 0;
    pthread_mutex_lock(&res_srv->mu);
    yes = res_srv->session != NULL;
    pthread_mutex_unlock(&res_srv->mu);
    return yes;
}

static void notice_updated(const char *uri)
{
    size_t i, k;

    for (i = 0; i < res_nsubs; i++)
        if (strcmp(res_subs[i], uri) == 0 && handshake_client())
            send_notice("notifications/resources/updated", uri, NULL);
    for (i = 0; i < res_nlistens; i++)
        for (k = 0; k < res_listens[i].nuris; k++)
            if (strcmp(res_listens[i].uris[k], uri) == 0)
                send_notice("notifications/resources/updated", uri,
                            res_listens[i].id);
}

static void notice_list_changed(void)
{
    size_t i;

    if (handshake_client())
        send_notice("notifications/resources/list_changed", NULL, NULL);
    for (i = 0; i < res_nlistens; i++)
        if (res_listens[i].list_changed)
            send_notice("notifications/resources/list_changed", NULL,
                        res_listens[i].id);
}

/* ---- what the events tell us ---- */

static void remember_session(const char *sid)
{
    size_t i;

    if (strlen(sid) >= API_SESSION_MAX)
        return;
    for (i = 0; i < res_nsessions; i++)
        if (strcmp(res_sessions[i], sid) == 0)
            break;
    if (i == res_nsessions && res_nsessions < RES_MAX_SESSIONS)
        res_nsessions++;
    if (i == RES_MAX_SESSIONS)
        i = RES_MAX_SESSIONS - 1;       /* full: the oldest goes */
    memmove(res_sessions[1], res_sessions[0], i * sizeof res_sessions[0]);
    snprintf(res_sessions[0], sizeof res_sessions[0], "%s", sid);
}

/* 1 when the list changed. */
static int remember_video(const char *path, long long bytes)
{
    size_t i;

    for (i = 0; i < res_nvideos; i++)
        if (strcmp(res_videos[i].path, path) == 0) {
            res_videos[i].bytes = bytes;
            return 1;   /* replaced: its size changed */
        }
    if (res_nvideos == RES_MAX_VIDEOS) {
        LOG_WARN("mcp", "more than %d saved videos: %s is not listed as a "
                 "resource", RES_MAX_VIDEOS, path);
        return 0;
    }
    if (!(res_videos[res_nvideos].path = strdup(path)))
        return 0;
    res_videos[res_nvideos++].bytes = bytes;
    return 1;
}

static void on_event(void *ctx, const nemo_event *ev)
{
    nemo_buf uri = NEMO_BUF_INIT;

    (void)ctx;
    pthread_mutex_lock(&res_mu);
    switch (ev->kind) {
    case EVENT_TIMELINE_CHANGED:
        remember_session(ev->session);
        timeline_uri(&uri, ev->session);
        if (uri.data)
            notice_updated(uri.data);
        break;
    case EVENT_SESSION_CHANGED:
        /* The current session's timeline is listed: the list changed. */
        remember_session(ev->session);
        notice_list_changed();
        break;
    case EVENT_VIDEO_SAVED:
        if (remember_video(ev->path, ev->bytes))
            notice_list_changed();
        break;
    }
    pthread_mutex_unlock(&res_mu);
    buf_free(&uri);
}

/* ---- lifecycle ---- */

void mcp_resources_attach(mcp_server *s)
{
    pthread_mutex_lock(&res_mu);
    res_srv = s;
    pthread_mutex_unlock(&res_mu);
    if (event_listen(on_event, s) != 0)
        LOG_WARN("mcp", "no event slot left: resource notices are off");
}

static void listen_free(res_listen *l)
{
    size_t k;

    for (k = 0; k < l->nuris; k++)
        free(l->uris[k]);
    free(l->key);
    cJSON_Delete(l->id);
    memset(l, 0, sizeof *l);
}

/* The graceful end of a stream: its (otherwise empty) listen result. */
static void listen_close(res_listen *l)
{
    cJSON *res = cJSON_CreateObject(), *meta;

    cJSON_AddStringToObject(res, "resultType", "complete");
    meta = cJSON_AddObjectToObject(res, "_meta");
    cJSON_AddItemToObject(meta, MCP_META_SUBSCRIPTION,
                          cJSON_Duplicate(l->id, 1));
    cJSON_AddItemToObject(meta, MCP_META_SERVERINFO,
                          mcp_server_info(mcp_version_modern()));
    res = rpc_result(l->id, res);
    if (res && res_srv)
        mcp_out_send(&res_srv->out, res);
    cJSON_Delete(res);
}

void mcp_resources_detach(mcp_server *s)
{
    size_t i;

    event_unlisten(on_event, s);
    pthread_mutex_lock(&res_mu);
    for (i = 0; i < res_nlistens; i++) {
        listen_close(&res_listens[i]);
        listen_free(&res_listens[i]);
    }
    res_nlistens = 0;
    for (i = 0; i < res_nsubs; i++)
        free(res_subs[i]);
    res_nsubs = 0;
    for (i = 0; i < res_nvideos; i++)
        free(res_videos[i].path);
    res_nvideos = 0;
    res_nsessions = 0;
    res_srv = NULL;
    pthread_mutex_unlock(&res_mu);
}

/* ---- results ---- */

static cJSON *finish(const mcp_req *req, cJSON *res, long long ttl_ms,
                     const char *scope)
{
    if (req->modern) {
        cJSON_AddNumberToObject(res, "ttlMs", (double)ttl_ms);
        cJSON_AddStringToObject(res, "cacheScope", scope);
    }
    return rpc_result(req->id, mcp_result_finish(req, res));
}

static cJSON *not_found(const mcp_req *req, const char *uri, const char *why)
{
    cJSON *data = cJSON_CreateObject();
    char msg[512];

    cJSON_AddStringToObject(data, "uri", uri ? uri : "");
    snprintf(msg, sizeof msg, "Resource not found: %s", why);
    return rpc_error(req->id, RES_NOT_FOUND, msg, data);
}

static const char *uri_param(const mcp_req *req)
{
    return json_str(req->params, "uri");
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash && slash[1] ? slash + 1 : path;
}

static cJSON *timeline_resource(const mcp_req *req, const char *sid)
{
    cJSON *r = cJSON_CreateObject();
    nemo_buf uri = NEMO_BUF_INIT;
    char text[API_SESSION_MAX + 64];

    timeline_uri(&uri, sid);
    cJSON_AddStringToObject(r, "uri", buf_str(&uri));
    snprintf(text, sizeof text, "timeline-%s", sid);
    cJSON_AddStringToObject(r, "name", text);
    if (req->version->features & MCP_F_STRUCTURED) {
        snprintf(text, sizeof text, "Timeline of session %s", sid);
        cJSON_AddStringToObject(r, "title", text);
    }
    cJSON_AddStringToObject(r, "description", "The current editing "
                            "session's timeline: tracks, segments and a "
                            "one-line summary (what the state tool shows).");
    cJSON_AddStringToObject(r, "mimeType", "application/json");
    buf_free(&uri);
    return r;
}

static cJSON *video_resource(const mcp_req *req, const char *path,
                             long long bytes)
{
    cJSON *r = cJSON_CreateObject();
    nemo_buf uri = NEMO_BUF_INIT;

    file_uri(&uri, path);
    cJSON_AddStringToObject(r, "uri", buf_str(&uri));
    cJSON_AddStringToObject(r, "name", base_name(path));
    if (req->version->features & MCP_F_STRUCTURED)
        cJSON_AddStringToObject(r, "title", "Exported video");
    cJSON_AddStringToObject(r, "description", path);
    cJSON_AddStringToObject(r, "mimeType", "video/mp4");
    cJSON_AddNumberToObject(r, "size", (double)bytes);
    buf_free(&uri);
    return r;
}

static cJSON *no_cursor(const mcp_req *req, const char *method)
{
    char msg[160];

    if (!cJSON_GetObjectItemCaseSensitive(req->params, "cursor"))
        return NULL;
    snprintf(msg, sizeof msg, "Invalid params: unknown cursor (%s is not "
             "paginated)", method);
    return rpc_error(req->id, RPC_INVALID_PARAMS, msg, NULL);
}

cJSON *mcp_m_resources_list(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    cJSON *res, *arr, *err = no_cursor(req, "resources/list");
    api_session cur;
    struct stat st;
    size_t i;

    (void)m;
    if (err)
        return err;
    res = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(res, "resources");
    if (s->env && s->env->api && api_session_known(s->env->api, &cur) == 0)
        cJSON_AddItemToArray(arr, timeline_resource(req, cur.id));
    pthread_mutex_lock(&res_mu);
    for (i = 0; i < res_nvideos; i++)
        /* A video the user since moved or deleted is not offered. */
        if (stat(res_videos[i].path, &st) == 0 && S_ISREG(st.st_mode))
            cJSON_AddItemToArray(arr, video_resource(req, res_videos[i].path,
                                                     (long long)st.st_size));
    pthread_mutex_unlock(&res_mu);
    return finish(req, res, 0, "private");
}

cJSON *mcp_m_resources_templates(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    cJSON *res, *t, *err = no_cursor(req, "resources/templates/list");

    (void)s;
    (void)m;
    if (err)
        return err;
    res = cJSON_CreateObject();
    t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "uriTemplate", RES_TEMPLATE);
    cJSON_AddStringToObject(t, "name", "session-timeline");
    if (req->version->features & MCP_F_STRUCTURED)
        cJSON_AddStringToObject(t, "title", "Session timeline");
    cJSON_AddStringToObject(t, "description", "The timeline of an editing "
                            "session: tracks, segments and a one-line "
                            "summary, as JSON (the state tool's structure) "
                            "and as text.");
    cJSON_AddStringToObject(t, "mimeType", "application/json");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "resourceTemplates"), t);
    return finish(req, res, MCP_LIST_TTL_MS, "public");
}

/* ---- resources/read (on a worker: it may call the backend) ---- */

static void add_text(cJSON *contents, const char *uri, const char *mime,
                     const char *text)
{
    cJSON *c = cJSON_CreateObject();

    cJSON_AddStringToObject(c, "uri", uri);
    cJSON_AddStringToObject(c, "mimeType", mime);
    cJSON_AddStringToObject(c, "text", text);
    cJSON_AddItemToArray(contents, c);
}

static cJSON *read_timeline(mcp_call *c, const char *uri, const char *sid)
{
    nemo_result r;
    nemo_err err;
    cJSON *res = NULL, *contents;
    char *json, msg[1024];

    result_init(&r);
    err_clear(&err);
    if (tool_timeline_read(c->srv->env, sid, &c->cancel, &r, &err) != 0) {
        if (cancel_requested(&c->cancel))
            return NULL;
        if (err.kind == NEMO_E_SESSION)
            return not_found(&c->req, uri, "the backend has no session with "
                             "this id (it may have expired); the session "
                             "tool starts a new one");
        snprintf(msg, sizeof msg, "Reading the timeline of session %.128s "
                 "failed: %.800s", sid, err.message[0] ? err.message
                                                   : err_kind_name(err.kind));
        return rpc_error(c->req.id, RPC_INTERNAL_ERROR, msg, NULL);
    }
    json = cJSON_PrintUnformatted(r.structured);
    res = cJSON_CreateObject();
    contents = cJSON_AddArrayToObject(res, "contents");
    add_text(contents, uri, "application/json", json ? json : "{}");
    add_text(contents, uri, "text/plain", r.text ? r.text : "");
    free(json);
    result_free(&r);
    return finish(&c->req, res, 0, "private");
}

/* Only a video this process saved is served: resources/read is not a way
 * to read arbitrary files. */
static cJSON *read_video(mcp_call *c, const char *uri, const char *path)
{
    nemo_buf b64 = NEMO_BUF_INIT;
    cJSON *res, *item;
    char *data = NULL, msg[600];
    size_t i, len = 0;
    int known = 0;
    struct stat st;

    pthread_mutex_lock(&res_mu);
    for (i = 0; i < res_nvideos && !known; i++)
        known = strcmp(res_videos[i].path, path) == 0;
    pthread_mutex_unlock(&res_mu);
    if (!known)
        return not_found(&c->req, uri, "only the timeline and the videos "
                         "this server saved are resources");
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return not_found(&c->req, uri, "the saved video is no longer there");
    if (st.st_size > RES_READ_MAX) {
        snprintf(msg, sizeof msg, "The video %.400s is %lld bytes, too large to "
                 "send inline (limit %d MB); open the file itself.", path,
                 (long long)st.st_size, RES_READ_MAX / (1024 * 1024));
        return rpc_error(c->req.id, RPC_INVALID_PARAMS, msg, NULL);
    }
    if (fs_read_all(path, &data, &len, RES_READ_MAX) != 0 ||
        buf_base64(&b64, data, len) != 0) {
        free(data);
        buf_free(&b64);
        snprintf(msg, sizeof msg, "The video %.400s could not be read.", path);
        return rpc_error(c->req.id, RPC_INTERNAL_ERROR, msg, NULL);
    }
    free(data);
    res = cJSON_CreateObject();
    item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "uri", uri);
    cJSON_AddStringToObject(item, "mimeType", "video/mp4");
    cJSON_AddStringToObject(item, "blob", buf_str(&b64));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "contents"), item);
    buf_free(&b64);
    return finish(&c->req, res, 0, "private");
}

static cJSON *read_run(mcp_call *c)
{
    const char *uri = uri_param(&c->req);
    char sid[API_SESSION_MAX], path[4096];

    if (timeline_sid(uri, sid, sizeof sid) == 0)
        return read_timeline(c, uri, sid);
    if (mcp_file_uri_path(uri, path, sizeof path) == 0)
        return read_video(c, uri, path);
    return not_found(&c->req, uri, "resources are " RES_TEMPLATE
                     " and the file:// videos resources/list shows");
}

cJSON *mcp_m_resources_read(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    if (!uri_param(req))
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: \"uri\" must be a string", NULL);
    return mcp_server_start_worker(s, req, m, read_run);
}

/* ---- subscriptions ---- */

/* The URIs a subscription can follow: timelines (the only ones that
 * change). */
static int subscribable(const char *uri)
{
    char sid[API_SESSION_MAX];

    return timeline_sid(uri, sid, sizeof sid) == 0;
}

cJSON *mcp_m_resources_subscribe(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    const char *uri = uri_param(req);
    int sub = strcmp(req->method, "resources/subscribe") == 0;
    size_t i;
    char *copy;

    (void)s;
    (void)m;
    if (req->modern)
        return rpc_error(req->id, RPC_METHOD_NOT_FOUND, sub
                         ? "Method not found: resources/subscribe was "
                           "replaced by subscriptions/listen in 2026-07-28"
                         : "Method not found: resources/unsubscribe was "
                           "replaced by subscriptions/listen in 2026-07-28",
                         NULL);
    if (!uri)
        return rpc_error(req->id, RPC_INVALID_PARAMS,
                         "Invalid params: \"uri\" must be a string", NULL);
    if (sub && !subscribable(uri))
        return not_found(req, uri, "only timelines (" RES_TEMPLATE ") can "
                         "be subscribed to; saved videos do not change");
    pthread_mutex_lock(&res_mu);
    for (i = 0; i < res_nsubs; i++)
        if (strcmp(res_subs[i], uri) == 0)
            break;
    if (!sub && i < res_nsubs) {
        free(res_subs[i]);
        res_subs[i] = res_subs[--res_nsubs];
    } else if (sub && i == res_nsubs && res_nsubs < RES_MAX_SUBS &&
               (copy = strdup(uri))) {
        res_subs[res_nsubs++] = copy;
    } else if (sub && i == res_nsubs) {
        pthread_mutex_unlock(&res_mu);
        return rpc_error(req->id, RPC_INVALID_PARAMS, "Invalid params: too "
                         "many subscriptions (64); unsubscribe from one "
                         "first", NULL);
    }
    pthread_mutex_unlock(&res_mu);
    return rpc_result(req->id, cJSON_CreateObject());
}

/* What the server honours of a listen filter, into l and the ack. */
static cJSON *listen_filter(const cJSON *want, res_listen *l)
{
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(want,
                                                         "resourceSubscriptions");
    cJSON *got = cJSON_CreateObject(), *arr, *u;

    /* Tools and prompts never change in a running server: not honoured. */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            want, "resourcesListChanged"))) {
        l->list_changed = 1;
        cJSON_AddBoolToObject(got, "resourcesListChanged", 1);
    }
    if (!cJSON_IsArray(subs))
        return got;
    arr = cJSON_AddArrayToObject(got, "resourceSubscriptions");
    cJSON_ArrayForEach(u, subs) {
        if (!cJSON_IsString(u) || !subscribable(u->valuestring) ||
            l->nuris == RES_MAX_LISTEN_URIS)
            continue;
        if (!(l->uris[l->nuris] = strdup(u->valuestring)))
            continue;
        l->nuris++;
        cJSON_AddItemToArray(arr, cJSON_CreateString(u->valuestring));
    }
    return got;
}

cJSON *mcp_m_subscriptions_listen(mcp_server *s, mcp_req *req, rpc_msg *m)
{
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(req->params,
                                                         "notifications");
    res_listen l;
    cJSON *ack, *p, *meta, *n;
    char *key;
    size_t i;

    (void)s;
    (void)m;
    if (!req->modern)
        return rpc_error(req->id, RPC_METHOD_NOT_FOUND, "Method not found: "
                         "subscriptions/listen is a 2026-07-28 method; use "
                         "resources/subscribe", NULL);
    if (!cJSON_IsObject(want))
        return rpc_error(req->id, RPC_INVALID_PARAMS, "Invalid params: "
                         "\"notifications\" must be an object", NULL);
    if (!(key = rpc_id_key(req->id)))
        return rpc_error(req->id, RPC_INTERNAL_ERROR, "out of memory", NULL);
    memset(&l, 0, sizeof l);
    l.key = key;
    l.id = cJSON_Duplicate(req->id, 1);
    ack = listen_filter(want, &l);
    pthread_mutex_lock(&res_mu);
    for (i = 0; i < res_nlistens; i++)
        if (strcmp(res_listens[i].key, key) == 0)
            break;
    if (i < res_nlistens || res_nlistens == RES_MAX_LISTENS) {
        int dup = i < res_nlistens;

        pthread_mutex_unlock(&res_mu);
        listen_free(&l);
        cJSON_Delete(ack);
        return rpc_error(req->id, dup ? RPC_INVALID_REQUEST
                                      : RPC_INTERNAL_ERROR,
                         dup ? "Invalid Request: a subscription with this id "
                               "is already open"
                             : "Too many open subscriptions (16); close one "
                               "first", NULL);
    }
    /* Acknowledge before the stream can carry anything (under res_mu). */
    p = cJSON_CreateObject();
    meta = cJSON_AddObjectToObject(p, "_meta");
    cJSON_AddItemToObject(meta, MCP_META_SUBSCRIPTION,
                          cJSON_Duplicate(req->id, 1));
    cJSON_AddItemToObject(p, "notifications", ack);
    n = rpc_notification("notifications/subscriptions/acknowledged", p);
    if (n)
        mcp_out_send(&s->out, n);
    cJSON_Delete(n);
    res_listens[res_nlistens++] = l;
    pthread_mutex_unlock(&res_mu);
    return NULL;   /* the answer comes when the stream ends */
}

int mcp_resources_cancel(const char *key)
{
    size_t i;
    int found = 0;

    pthread_mutex_lock(&res_mu);
    for (i = 0; i < res_nlistens && !found; i++) {
        if (strcmp(res_listens[i].key, key) == 0) {
            /* Cancelled by the client: no response, as for any request. */
            listen_free(&res_listens[i]);
            res_listens[i] = res_listens[--res_nlistens];
            memset(&res_listens[res_nlistens], 0, sizeof res_listens[0]);
            found = 1;
        }
    }
    pthread_mutex_unlock(&res_mu);
    return found;
}

/* ---- links and sessions ---- */

void mcp_resource_links(const mcp_req *req, const nemo_result *r,
                        cJSON *content)
{
    const cJSON *st = r->structured;
    const char *status = json_str(st, "status");
    const char *path = json_str(st, "path");
    const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(st, "bytes");
    cJSON *link;

    if (!(req->version->features & MCP_F_LINKS) || r->is_error || !status ||
        strcmp(status, "completed") != 0 || !path || path[0] != '/' ||
        !cJSON_IsNumber(bytes))
        return;
    /* a result can come back from the journal: no unchecked cast */
    link = video_resource(req, path, num_ll_or(bytes, 0, LLONG_MAX, 0));
    cJSON_DeleteItemFromObjectCaseSensitive(link, "description");
    cJSON_AddStringToObject(link, "type", "resource_link");
    cJSON_AddItemToArray(content, link);
}

cJSON *mcp_resources_sessions(mcp_server *s)
{
    cJSON *arr = cJSON_CreateArray();
    api_session cur;
    size_t i;

    if (s->env && s->env->api && api_session_known(s->env->api, &cur) == 0)
        cJSON_AddItemToArray(arr, cJSON_CreateString(cur.id));
    pthread_mutex_lock(&res_mu);
    for (i = 0; i < res_nsessions; i++)
        if (!cJSON_GetArraySize(arr) ||
            strcmp(cJSON_GetArrayItem(arr, 0)->valuestring,
                   res_sessions[i]) != 0)
            cJSON_AddItemToArray(arr, cJSON_CreateString(res_sessions[i]));
    pthread_mutex_unlock(&res_mu);
    return arr;
}
