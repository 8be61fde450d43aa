/* client.c - the backend client: base URL, envelopes, and api_send, which
 * carries every request through the recovery table:
 *
 *   1001 (or HTTP 401)  one token refresh (api_auth_refresh), then retry
 *   HTTP 429            wait Retry-After (else 30 s; NEMO_RETRY_429_MS
 *                       overrides), retry once, then a clear error
 *   network error/5xx   up to 3 tries with exponential backoff for
 *                       idempotent requests, and for any request that
 *                       never reached the wire; never a blind retry of a
 *                       request that may have spent credits
 *
 * 1002 is returned to the caller, who knows which session the request was
 * about (api_session_recover). */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/num.h"

#define API_TRIES 3
#define API_BACKOFF_MS 500
#define API_RATE_WAIT_MS 30000
#define API_RATE_WAIT_MAX_MS 120000   /* longer asks are reported, not slept */
#define API_JSON_TIMEOUT_MS 60000
#define API_UPLOAD_LOW_SPEED_S 60
#define API_ERR_BODY_MAX (1u << 20)
#define API_URL_MAX 4096
#define API_MAX_HEADERS 16

/* ---- construction ---- */

static void skill_defaults(nemo_skill *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", SKILL_DEFAULT_NAME);
    snprintf(s->version, sizeof s->version, "%s", SKILL_DEFAULT_VERSION);
    snprintf(s->platform, sizeof s->platform, "unknown");
    snprintf(s->warning, sizeof s->warning, "no skill information given");
}

static int set_base(nemo_api *api, nemo_err *err)
{
    static const char *const names[] = { "NEMO_API_URL", "NEMO_API_BASE" };
    const char *env = NULL;
    const char *base = API_DEFAULT_BASE, *src = "default";
    size_t i;

    /* The ecosystem's name first; NEMO_API_BASE is the older alias. */
    for (i = 0; i < 2 && !(env && *env); i++) {
        env = getenv(names[i]);
        src = names[i];
    }
    if (env && *env) {
        base = env;
    } else if (api->skill.api_domain[0]) {
        base = api->skill.api_domain;
        src = "SKILL.md apiDomain";
    } else {
        src = "default";
    }
    return api_url_set(api->base, sizeof api->base, api->base_source,
                       sizeof api->base_source, base, src, "API base URL",
                       err);
}

int api_url_set(char *dst, size_t cap, char *src_dst, size_t src_cap,
                const char *url, const char *src, const char *what,
                nemo_err *err)
{
    size_t n = strlen(url);

    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n == 0 || n >= cap) {
        err_set(err, NEMO_E_CONFIG, "%s from %s is %s", what, src,
                n ? "too long" : "empty");
        return -1;
    }
    memcpy(dst, url, n);
    dst[n] = '\0';
    snprintf(src_dst, src_cap, "%s", src);
    if (http_url_allowed(dst, err) != 0) {
        char why[sizeof err->message];

        snprintf(why, sizeof why, "%s", err->message);
        err_set(err, NEMO_E_CONFIG, "%s from %s: %s", what, src, why);
        return -1;
    }
    return 0;
}

nemo_api *api_new(const nemo_skill *skill, nemo_err *err)
{
    nemo_api *api = calloc(1, sizeof *api);

    if (!api) {
        err_set(err, NEMO_E_IO, "out of memory");
        return NULL;
    }
    if (skill)
        api->skill = *skill;
    else
        skill_defaults(&api->skill);
    if (set_base(api, err) != 0 || api_set_web(api, err) != 0) {
        free(api);
        return NULL;
    }
    if (http_global_init() != 0) {
        err_set(err, NEMO_E_NETWORK, "libcurl failed to initialise");
        free(api);
        return NULL;
    }
    snprintf(api->user_agent, sizeof api->user_agent, "nemo-mcp/%s",
             NEMO_VERSION);
    snprintf(api->token_source, sizeof api->token_source, "none");
    pthread_mutex_init(&api->mu, NULL);
    pthread_mutex_init(&api->auth_mu, NULL);
    pthread_mutex_init(&api->session_mu, NULL);
    return api;
}

void api_free(nemo_api *api)
{
    if (!api)
        return;
    pthread_mutex_destroy(&api->mu);
    pthread_mutex_destroy(&api->auth_mu);
    pthread_mutex_destroy(&api->session_mu);
    /* Don't leave the token lying around in freed memory. */
    memset(api->token, 0, sizeof api->token);
    free(api);
    http_global_cleanup();
}

const char *api_base_url(const nemo_api *api)
{
    return api->base;
}

int api_backend_links_local_ok(const nemo_api *api)
{
    const char *knob = getenv("NEMO_TEST_REMOTE_BASE");

    if (knob && strcmp(knob, "1") == 0)
        return 0;
    return http_url_is_loopback(api->base);
}

const nemo_skill *api_skill(const nemo_api *api)
{
    return &api->skill;
}

int api_url(const nemo_api *api, const char *path, char *out, size_t n,
            nemo_err *err)
{
    int len;

    if (!path || !*path) {
        err_set(err, NEMO_E_INVALID, "empty request path");
        return -1;
    }
    if (strncasecmp(path, "http://", 7) == 0 ||
        strncasecmp(path, "https://", 8) == 0) {
        if (http_url_allowed(path, err) != 0)
            return -1;
        len = snprintf(out, n, "%s", path);
    } else if (path[0] == '/') {
        len = snprintf(out, n, "%s%s", api->base, path);
    } else {
        err_set(err, NEMO_E_INVALID, "request path must start with '/'");
        return -1;
    }
    if (len < 0 || (size_t)len >= n) {
        err_set(err, NEMO_E_INVALID, "request URL too long");
        return -1;
    }
    return 0;
}

int api_escape_segment(const char *in, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; in && *in; in++) {
        unsigned char c = (unsigned char)*in;

        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            if (o + 1 >= n)
                return -1;
            out[o++] = (char)c;
        } else {
            if (o + 3 >= n)
                return -1;
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= n)
        return -1;
    out[o] = '\0';
    return 0;
}

/* ---- envelopes ---- */

/* Length of s[0..o) without a trailing, incomplete UTF-8 sequence. */
static size_t utf8_complete(const char *s, size_t o)
{
    size_t k = o, need;
    unsigned char lead;

    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0)
        return o;
    lead = (unsigned char)s[k - 1];
    if (lead < 0xC0)
        return o;
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return o - (k - 1) < need ? k - 1 : o;
}

void api_snippet(const char *body, size_t len, char *out, size_t n)
{
    const char *p = body, *end = body + len;
    size_t o = 0;
    int in_tag = 0, space = 1;

    if (n == 0)
        return;
    out[0] = '\0';
    if (!body || n < 8)
        return;
    /* An HTML error page's <title> says it best ("502 Bad Gateway"). */
    for (const char *t = body; t + 7 <= end; t++) {
        if (strncasecmp(t, "<title>", 7) == 0) {
            const char *te;

            p = t + 7;
            for (te = p; te + 8 <= end && strncasecmp(te, "</title>", 8);)
                te++;
            if (te + 8 <= end)
                end = te;
            break;
        }
    }
    for (; p < end && o + 4 < n; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '<') {
            in_tag = 1;
            continue;
        }
        if (in_tag) {
            in_tag = c != '>';
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                out[o++] = ' ';
            space = 1;
            continue;
        }
        out[o++] = (char)c;
        space = 0;
    }
    o = utf8_complete(out, o);
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (p < end) {
        memcpy(out + o, "...", 3);   /* the loop left room for it */
        o += 3;
    }
    out[o] = '\0';
}

static long envelope_code(const cJSON *root, int *present)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "code");

    *present = c != NULL;
    /* Out of range ({"code":1e19}) is an unknown error, not a cast. */
    if (cJSON_IsNumber(c))
        return (long)num_ll_or(c, -2147483647LL, 2147483647LL, -1);
    if (cJSON_IsString(c)) {
        char *end;
        long v = strtol(c->valuestring, &end, 10);

        return *end == '\0' ? v : -1;
    }
    return 0;
}

static const char *envelope_msg(const cJSON *root)
{
    static const char *const keys[] = { "msg", "message", "error", NULL };
    size_t i;

    for (i = 0; keys[i]; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, keys[i]);

        if (cJSON_IsString(m))
            return m->valuestring;
    }
    return NULL;
}

static int non_json_body(int status, const char *body, size_t len,
                         nemo_err *err)
{
    char snip[200];

    api_snippet(body, len, snip, sizeof snip);
    if (status >= 500) {
        err_set(err, NEMO_E_SERVER,
                "The NemoVideo backend had an internal error (HTTP %d: %s). "
                "Try again in a minute.", status, snip[0] ? snip : "no body");
        err->http_status = status;
    } else if (status >= 200 && status < 300) {
        err_set(err, NEMO_E_PROTOCOL,
                "The backend answered HTTP %d with something that is not a "
                "JSON envelope: %s", status, snip[0] ? snip : "empty body");
        err->http_status = status;
    } else {
        err_from_response(err, status, 0, snip[0] ? snip : NULL, NULL);
    }
    return -1;
}

int api_envelope_parse(int http_status, const char *body, size_t len,
                       cJSON **data, nemo_err *err)
{
    int ok_status = http_status >= 200 && http_status < 300;
    cJSON *root, *d;
    int has_code;
    long code;

    if (data)
        *data = NULL;
    if (ok_status && (!body || len == 0))
        return 0;   /* 204-style: success without data */
    root = body ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return non_json_body(http_status, body, len, err);
    }
    code = envelope_code(root, &has_code);
    d = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (code != 0 || !ok_status) {
        err_from_response(err, http_status, code, envelope_msg(root), d);
        cJSON_Delete(root);
        return -1;
    }
    if (data) {
        if (d)
            *data = cJSON_DetachItemViaPointer(root, d);
        else if (!has_code)
            /* Not an envelope at all: the object is the data. */
            *data = cJSON_Duplicate(root, 1);
    }
    cJSON_Delete(root);
    return 0;
}

/* ---- Retry-After ---- */

long long api_retry_after_ms(const char *value, long long now_wall_ms)
{
    char v[64];
    size_t n, i;
    time_t t;

    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' ||
                     value[n - 1] == '\r' || value[n - 1] == '\n'))
        n--;
    if (n == 0 || n >= sizeof v)
        return -1;
    memcpy(v, value, n);
    v[n] = '\0';
    for (i = 0; i < n && isdigit((unsigned char)v[i]); i++)
        ;
    if (i == n) {
        long long s = n > 9 ? 999999999LL : strtoll(v, NULL, 10);

        return s * 1000;
    }
    /* HTTP-date; a time in the past means "now". */
    t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    return (long long)t * 1000 > now_wall_ms
               ? (long long)t * 1000 - now_wall_ms : 0;
}

/* ---- api_send ---- */

typedef struct send_stream {
    const api_send_opts *o;
    http_response *resp;
    nemo_buf collect;
    int streamed;
} send_stream;

static int is_json_type(const char *ct)
{
    for (; ct && *ct; ct++)
        if (strncasecmp(ct, "json", 4) == 0)
            return 1;
    return 0;
}

/* Streamed requests: a 2xx non-JSON body goes to the caller's reader;
 * anything else (error envelopes, error pages) is collected for parsing. */
static int stream_cb(void *ctx, const char *d, size_t n)
{
    send_stream *s = ctx;
    int st = s->resp->status;

    if (st >= 200 && st < 300 && !is_json_type(s->resp->content_type)) {
        s->streamed = 1;
        return s->o->on_data(s->o->on_data_ctx, d, n);
    }
    if (s->collect.len + n > API_ERR_BODY_MAX)
        return 1;
    return buf_append(&s->collect, d, n);
}

/* Copy a header value without control characters (no header injection
 * from a hand-edited SKILL.md). */
static void header_line(char *out, size_t n, const char *name,
                        const char *value)
{
    size_t o = (size_t)snprintf(out, n, "%s: ", name), i;

    for (i = 0; value && value[i] && o + 1 < n; i++)
        if ((unsigned char)value[i] >= 0x20 && value[i] != 0x7f)
            out[o++] = value[i];
    out[o < n ? o : n - 1] = '\0';
}

typedef struct send_headers {
    char auth[API_TOKEN_MAX + 32];
    char source[160], version[96], platform[64], accept[96];
    const char *list[API_MAX_HEADERS + 8];
} send_headers;

static void build_headers(const nemo_api *api, const api_send_opts *o,
                          int with_auth, send_headers *h)
{
    size_t n = 0, i;

    if (with_auth)
        h->list[n++] = h->auth;
    header_line(h->source, sizeof h->source, "X-Skill-Source",
                api->skill.name);
    header_line(h->version, sizeof h->version, "X-Skill-Version",
                api->skill.version);
    header_line(h->platform, sizeof h->platform, "X-Skill-Platform",
                api->skill.platform);
    header_line(h->accept, sizeof h->accept, "Accept",
                o->accept ? o->accept : "application/json");
    h->list[n++] = h->source;
    h->list[n++] = h->version;
    h->list[n++] = h->platform;
    h->list[n++] = h->accept;
    if (o->body && !o->parts)
        h->list[n++] = "Content-Type: application/json";
    for (i = 0; o->extra_headers && o->extra_headers[i] &&
                i < API_MAX_HEADERS; i++)
        h->list[n++] = o->extra_headers[i];
    h->list[n] = NULL;
}

/* The path for logs: no query string (signed URLs carry secrets there). */
static void log_path(const char *path, char *out, size_t n)
{
    size_t l = strcspn(path, "?#");

    if (l >= n)
        l = n - 1;
    memcpy(out, path, l);
    out[l] = '\0';
}

static long long backoff_ms(int attempt)
{
    long long base = clock_env_ms("NEMO_RETRY_BACKOFF_MS", API_BACKOFF_MS, 0,
                                  60000);
    long long ms = base << (attempt - 1);

    /* a little jitter so several clients do not retry in lockstep */
    return ms + (base ? clock_mono_ms() % (base / 4 + 1) : 0);
}

/* Out of credits with no link from the backend: the registration link
 * for the anonymous account (the bind id it sent, else our user_id). */
static void credits_link(nemo_api *api, nemo_err *err)
{
    char link[sizeof err->link];

    if (api_register_url(api, err->bind_id[0] ? err->bind_id : NULL, link,
                         sizeof link) == 0)
        err_credits_link(err, link);
}

static int wait_or_cancel(api_ctl *ctl, long long ms, nemo_err *err)
{
    if (cancel_sleep_ms(ctl ? ctl->cancel : NULL, ms)) {
        err_set(err, NEMO_E_CANCELLED, "The request was cancelled");
        return -1;
    }
    return 0;
}

/* One attempt: 0 with *data on success, -1 with err. */
static int send_once(nemo_api *api, api_ctl *ctl, const api_send_opts *o,
                     const char *url, const send_headers *h,
                     http_response *resp, int *streamed, cJSON **data,
                     nemo_err *err)
{
    send_stream ss;
    http_request rq;
    int rc;

    memset(&rq, 0, sizeof rq);
    memset(&ss, 0, sizeof ss);
    ss.o = o;
    ss.resp = resp;
    buf_init(&ss.collect);
    rq.method = o->method ? o->method : "GET";
    rq.url = url;
    rq.headers = h->list;
    rq.body = o->body;
    rq.body_len = o->body && !o->body_len ? strlen(o->body) : o->body_len;
    rq.parts = o->parts;
    rq.nparts = o->nparts;
    if (o->on_data) {
        rq.on_data = stream_cb;
        rq.on_data_ctx = &ss;
    }
    rq.total_timeout_ms = o->total_timeout_ms;
    if (!rq.total_timeout_ms && !o->on_data && !o->parts)
        rq.total_timeout_ms = API_JSON_TIMEOUT_MS;
    rq.low_speed_secs = o->low_speed_secs;
    if (!rq.low_speed_secs && o->parts)
        rq.low_speed_secs = API_UPLOAD_LOW_SPEED_S;
    rq.cancel = ctl ? ctl->cancel : NULL;
    rq.progress = ctl ? ctl->progress : NULL;
    rq.progress_label = o->progress_label;
    /* The API base is the user's choice; where it redirects us is the
     * backend's, and must be a public https server. */
    rq.public_only = api_backend_links_local_ok(api) ? HTTP_PUBLIC_NONE
                                                     : HTTP_PUBLIC_REDIRECTS;

    rc = http_perform(&rq, resp, err);
    *streamed = ss.streamed;
    if (rc == 0) {
        if (ss.streamed)
            rc = 0;
        else if (o->on_data)
            rc = api_envelope_parse(resp->status, ss.collect.data,
                                    ss.collect.len, data, err);
        else
            rc = api_envelope_parse(resp->status, resp->body.data,
                                    resp->body.len, data, err);
    }
    buf_free(&ss.collect);
    return rc;
}

static int rate_wait_ms(const http_response *resp, long long *ms)
{
    long long knob = clock_env_ms("NEMO_RETRY_429_MS", -1, 0, 3600000);
    long long ra = api_retry_after_ms(resp->retry_after, clock_wall_ms());

    if (knob >= 0) {
        *ms = knob;
        return 0;
    }
    *ms = ra >= 0 ? ra : API_RATE_WAIT_MS;
    return *ms <= API_RATE_WAIT_MAX_MS ? 0 : -1;
}

/* Worth another try: the network or the server hiccupped. A certificate
 * that fails verification will fail again. */
static int transient(const nemo_err *e, const http_response *r)
{
    if (r->transport_error == CURLE_PEER_FAILED_VERIFICATION)
        return 0;
    /* A request that timed out after it was sent would most likely time
     * out again: three 60 s waits help nobody. */
    if (e->kind == NEMO_E_TIMEOUT)
        return !r->request_sent;
    return e->kind == NEMO_E_NETWORK || e->kind == NEMO_E_SERVER;
}

/* The request cannot have reached the server: safe to repeat anything. */
static int never_connected(const http_response *r)
{
    if (r->request_sent || r->status)
        return 0;
    return r->transport_error == CURLE_COULDNT_CONNECT ||
           r->transport_error == CURLE_COULDNT_RESOLVE_HOST ||
           r->transport_error == CURLE_COULDNT_RESOLVE_PROXY ||
           r->transport_error == CURLE_OPERATION_TIMEDOUT;
}

int api_send(nemo_api *api, api_ctl *ctl, const api_send_opts *o,
             cJSON **data, nemo_err *err)
{
    char url[API_URL_MAX], lpath[256];
    send_headers *h = NULL;
    int tries = 0, auth_retried = 0, rate_retried = 0, rc = -1, with_auth;

    if (data)
        *data = NULL;
    if (api_url(api, o->path, url, sizeof url, err) != 0)
        return -1;
    log_path(o->path, lpath, sizeof lpath);
    /* The token is for our backend only, never for a foreign absolute URL. */
    with_auth = !o->no_auth &&
                (o->path[0] == '/' || http_same_origin(url, api->base));
    if (!(h = calloc(1, sizeof *h))) {
        err_set(err, NEMO_E_IO, "out of memory");
        return -1;
    }
    for (;;) {
        http_response resp;
        unsigned gen = 0;
        long long t0, wait;
        int streamed = 0;

        if (cancel_requested(ctl ? ctl->cancel : NULL)) {
            err_set(err, NEMO_E_CANCELLED, "The request was cancelled");
            break;
        }
        if (with_auth) {
            if (api_auth_ensure(api, ctl, err) != 0)
                break;
            pthread_mutex_lock(&api->mu);
            snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s",
                     api->token);
            gen = api->token_generation;
            pthread_mutex_unlock(&api->mu);
        }
        build_headers(api, o, with_auth, h);
        tries++;
        t0 = clock_mono_ms();
        http_response_init(&resp);
        rc = send_once(api, ctl, o, url, h, &resp, &streamed, data, err);
        LOG_DEBUG("api", "%s %s -> %d (%lld ms)",
                  o->method ? o->method : "GET", lpath,
                  resp.status, clock_mono_ms() - t0);
        if (rc == 0 || err->kind == NEMO_E_CANCELLED) {
            http_response_free(&resp);
            break;
        }
        /* 1001: one new token, then the same request again (it was
         * rejected before doing anything, so this cannot double-spend). */
        if (err->kind == NEMO_E_AUTH && with_auth && !auth_retried &&
            resp.status) {
            http_response_free(&resp);
            auth_retried = 1;
            LOG_INFO("api", "%s: token rejected; getting a new one", lpath);
            if (api_auth_refresh(api, ctl, gen, err) != 0)
                break;
            continue;
        }
        if (err->kind == NEMO_E_RATE) {
            int too_long = rate_wait_ms(&resp, &wait) != 0;

            http_response_free(&resp);
            if (too_long) {
                err_set(err, NEMO_E_RATE,
                        "The backend is rate limiting requests (HTTP 429) "
                        "and asks to wait %lld minutes before retrying.",
                        (wait + 59999) / 60000);
                break;
            }
            if (o->no_rate_retry)
                break;
            if (rate_retried) {
                err_set(err, NEMO_E_RATE,
                        "The backend is still rate limiting requests "
                        "(HTTP 429) after waiting and retrying once. Try "
                        "again in a few minutes.");
                break;
            }
            rate_retried = 1;
            LOG_INFO("api", "%s: rate limited; retrying in %lld ms", lpath,
                     wait);
            if (wait_or_cancel(ctl, wait, err) != 0)
                break;
            continue;
        }
        /* Retry only what cannot have had an effect twice: reads, or a
         * request that never left this machine. Never after part of a
         * stream was handed to the reader. */
        if (transient(err, &resp) && !streamed && tries < API_TRIES &&
            (o->idempotent || never_connected(&resp))) {
            http_response_free(&resp);
            wait = backoff_ms(tries);
            LOG_INFO("api", "%s: %s; retry %d of %d in %lld ms", lpath,
                     err_kind_name(err->kind), tries, API_TRIES - 1, wait);
            if (wait_or_cancel(ctl, wait, err) != 0)
                break;
            continue;
        }
        if (err->kind == NEMO_E_CREDITS && !err->link[0])
            credits_link(api, err);
        /* HTTP 400 means "client id" only at the token endpoint. */
        if (err->kind == NEMO_E_CLIENT_ID && !o->no_auth)
            err->kind = NEMO_E_BACKEND;
        if (err->kind == NEMO_E_SERVER && !o->idempotent)
            LOG_INFO("api", "%s: not retried: the request may have had an "
                     "effect (it can spend credits)", lpath);
        http_response_free(&resp);
        break;
    }
    memset(h->auth, 0, sizeof h->auth);
    free(h);
    return rc;
}

int api_call(nemo_api *api, api_ctl *ctl, const char *method,
             const char *path, const cJSON *body, int idempotent,
             cJSON **data, nemo_err *err)
{
    api_send_opts o;
    char *json = NULL;
    int rc;

    memset(&o, 0, sizeof o);
    if (body && !(json = cJSON_PrintUnformatted(body))) {
        err_set(err, NEMO_E_IO, "out of memory");
        return -1;
    }
    o.method = method;
    o.path = path;
    o.body = json;
    o.body_len = json ? strlen(json) : 0;
    o.idempotent = idempotent;
    rc = api_send(api, ctl, &o, data, err);
    free(json);
    return rc;
}
