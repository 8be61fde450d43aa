/* http.c - one HTTP request on libcurl.
 *
 * Each request gets a fresh easy handle, driven through a multi handle taken
 * from a small pool: the multi handle keeps the connection cache (keep-alive
 * and TLS reuse across requests) and lets us poll the cancel flag every
 * 50 ms, so even a request that is idle waiting for a hung server aborts
 * promptly (the xferinfo callback alone can be as slow as once a second).
 *
 * Redirects are followed here, not by libcurl, so that the policy is ours:
 * at most 3 hops, https (or loopback http) only, and the Authorization
 * header is dropped as soon as a hop changes scheme, host or port. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "curl_dyn.h"
#include "nemo/clock.h"
#include "nemo/http.h"
#include "nemo/log.h"
#include "nemo/netaddr.h"

#define HTTP_MAX_REDIRECTS 3
#define HTTP_URL_MAX 4096
#define HTTP_BODY_MAX (32u << 20)   /* collected (non-streamed) bodies */
#define HTTP_POLL_MS 50
#define HTTP_POOL_MAX 4
#define HTTP_PROGRESS_MS 250
#define HTTP_USER_AGENT "nemo-mcp/" NEMO_VERSION

/* ---- process-wide libcurl state (owned here) ---- */

static pthread_mutex_t http_mu = PTHREAD_MUTEX_INITIALIZER;
static int http_refs;
static int http_curl_up;     /* libcurl set up: share, mutexes, global init */
static CURLSH *http_share;
static pthread_mutex_t http_share_mu[CURL_LOCK_DATA_LAST];
static CURLM *http_pool[HTTP_POOL_MAX];
static int http_npool;
/* A forked child's inheritance; volatile so the parking is not optimised
 * away (it keeps the handles reachable, deliberately never cleaned up). */
static CURLM *volatile http_orphans[HTTP_POOL_MAX];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
                       void *ctx)
{
    (void)h; (void)a; (void)ctx;
    pthread_mutex_lock(&http_share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
    (void)h; (void)ctx;
    pthread_mutex_unlock(&http_share_mu[data]);
}

/* A forked child must not share the parent's pooled connections (two
 * processes writing into one TCP or TLS stream). Park them unused, without
 * cleanup: closing could send a TLS close_notify on the parent's behalf. */
static void http_atfork_child(void)
{
    int i;

    for (i = 0; i < http_npool; i++)
        http_orphans[i] = http_pool[i];
    http_npool = 0;
    pthread_mutex_init(&http_mu, NULL);
}

/* Reference counted so that api_new/api_free and main can both call it.
 * Touches no libcurl: that is loaded and set up by the first request
 * (http_curl_start), so a server that only lists tools never maps it. */
int http_global_init(void)
{
    static int atfork_done;

    pthread_mutex_lock(&http_mu);
    if (!atfork_done && pthread_atfork(NULL, NULL, http_atfork_child) == 0)
        atfork_done = 1;
    http_refs++;
    pthread_mutex_unlock(&http_mu);
    return 0;
}

/* Needs a reference (http_global_init) held by the caller. */
static int http_curl_start(nemo_err *err)
{
    int rc = 0, i;

    pthread_mutex_lock(&http_mu);
    if (http_curl_up)
        goto out;
    if (curldyn_load(err) != 0) {
        rc = -1;
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        err_set(err, NEMO_E_NETWORK, "libcurl failed to initialise");
        rc = -1;
        goto out;
    }
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&http_share_mu[i], NULL);
    /* DNS and TLS sessions only: libcurl does not support sharing the
     * connection cache between concurrent threads (the multi pool does
     * that part). */
    http_share = curl_share_init();
    if (http_share) {
        curl_share_setopt(http_share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(http_share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(http_share, CURLSHOPT_SHARE,
                          CURL_LOCK_DATA_SSL_SESSION);
    }
    http_curl_up = 1;
out:
    pthread_mutex_unlock(&http_mu);
    return rc;
}

void http_global_cleanup(void)
{
    int i;

    pthread_mutex_lock(&http_mu);
    if (http_refs == 0 || --http_refs > 0 || !http_curl_up)
        goto out;
    while (http_npool > 0)
        curl_multi_cleanup(http_pool[--http_npool]);
    if (http_share)
        curl_share_cleanup(http_share);
    http_share = NULL;
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&http_share_mu[i]);
    curl_global_cleanup();
    http_curl_up = 0;
out:
    pthread_mutex_unlock(&http_mu);
}

static CURLM *pool_get(void)
{
    CURLM *m = NULL;

    pthread_mutex_lock(&http_mu);
    if (http_npool > 0)
        m = http_pool[--http_npool];
    pthread_mutex_unlock(&http_mu);
    return m ? m : curl_multi_init();
}

static void pool_put(CURLM *m)
{
    pthread_mutex_lock(&http_mu);
    if (http_refs > 0 && http_npool < HTTP_POOL_MAX) {
        http_pool[http_npool++] = m;
        m = NULL;
    }
    pthread_mutex_unlock(&http_mu);
    if (m)
        curl_multi_cleanup(m);
}

/* ---- URLs ---- */

typedef struct url_parts {
    char scheme[16];
    char host[256];
    char port[8];
} url_parts;

static int copy_part(CURLU *u, CURLUPart what, unsigned flags, char *out,
                     size_t n)
{
    char *v = NULL;
    int rc = -1;

    if (curl_url_get(u, what, &v, flags) == CURLUE_OK && v &&
        strlen(v) < n) {
        memcpy(out, v, strlen(v) + 1);
        rc = 0;
    }
    curl_free(v);
    return rc;
}

/* Parse with libcurl's own parser, so the host we check is the host
 * libcurl will connect to (userinfo, brackets, ports, odd spellings). */
static int url_parse(const char *url, url_parts *p)
{
    CURLU *u = curl_url();
    int rc = -1;
    size_t i;

    memset(p, 0, sizeof *p);
    if (!u || !url)
        goto out;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (copy_part(u, CURLUPART_SCHEME, 0, p->scheme, sizeof p->scheme) ||
        copy_part(u, CURLUPART_HOST, 0, p->host, sizeof p->host) ||
        copy_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, p->port,
                  sizeof p->port))
        goto out;
    for (i = 0; p->scheme[i]; i++)
        p->scheme[i] = (char)(p->scheme[i] | 0x20);
    rc = 0;
out:
    curl_url_cleanup(u);
    return rc;
}

int http_host_is_loopback(const char *host)
{
    char bare[256];
    unsigned char a[16];
    size_t n;

    if (!host || !*host)
        return 0;
    if (strcasecmp(host, "localhost") == 0)
        return 1;   /* libcurl resolves it to loopback without DNS */
    n = strlen(host);
    if (host[0] == '[') {
        if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof bare)
            return 0;
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
        /* a zone id ("%25eth0") does not change loopback-ness */
        if (strchr(bare, '%'))
            *strchr(bare, '%') = '\0';
        if (inet_pton(AF_INET6, bare, a) != 1)
            return 0;
        if (IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a))
            return 1;
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a) && a[12] == 127;
    }
    /* Strict dotted quad: "127.0.0.1.evil.com" and "127.1" are not. */
    if (inet_pton(AF_INET, host, a) != 1)
        return 0;
    return a[0] == 127;
}

/* A URL allowed without asking libcurl. api_new checks the API base URL
 * at startup, before libcurl is loaded (curl_dyn.c), so the common shapes
 * are recognised here: "https://" or "http://" to a loopback host, a host
 * of plain DNS labels or a strict dotted quad, an optional port 1-65535,
 * an optional path of printable ASCII without escapes. This only ever
 * accepts, and only what libcurl's parser accepts too (test_curldyn.c
 * compares the two); anything else, and every refusal with its message,
 * is libcurl's. */
static int url_plainly_allowed(const char *url)
{
    static const char path_bad[] = "\"%<>\\^`{|}";
    char host[256];
    const char *h, *p;
    long port;
    int https, digits;

    if (!url)
        return 0;
    https = strncmp(url, "https://", 8) == 0;
    if (!https && strncmp(url, "http://", 7) != 0)
        return 0;
    h = url + (https ? 8 : 7);
    for (p = h;; p++) {                 /* label(.label)* */
        const char *label = p;

        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
               (*p >= '0' && *p <= '9') || *p == '-')
            p++;
        if (p == label)
            return 0;
        if (*p != '.')
            break;
    }
    if ((size_t)(p - h) >= sizeof host)
        return 0;
    memcpy(host, h, (size_t)(p - h));
    host[p - h] = '\0';
    if (*p == ':') {                    /* 1-65535, no leading zero */
        if (*++p < '1' || *p > '9')
            return 0;
        for (port = 0, digits = 0; *p >= '0' && *p <= '9'; p++)
            if (++digits > 5 || (port = port * 10 + (*p - '0')) > 65535)
                return 0;
    }
    if (*p && *p != '/')
        return 0;
    for (; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr(path_bad, *p))
            return 0;
    if (https)
        return 1;
    /* "localhost" or a strict dotted quad: libcurl leaves these as they
     * are (it rewrites other numeric hosts: "0x7f.1" is 127.0.0.1, which
     * is left to it). */
    return http_host_is_loopback(host);
}

int http_url_host(const char *url, char *out, size_t n)
{
    url_parts p;

    if (url_parse(url, &p) != 0 || strlen(p.host) >= n)
        return -1;
    memcpy(out, p.host, strlen(p.host) + 1);
    return 0;
}

int http_url_is_loopback(const char *url)
{
    url_parts p;

    return url_parse(url, &p) == 0 && http_host_is_loopback(p.host);
}

int http_url_allowed(const char *url, nemo_err *err)
{
    url_parts p;

    if (url_plainly_allowed(url))
        return 0;
    if (curldyn_load(err) != 0)
        return -1;
    if (url_parse(url, &p) != 0) {
        err_set(err, NEMO_E_CONFIG, "'%s' is not a valid http(s) URL",
                url ? url : "(null)");
        return -1;
    }
    if (strcmp(p.scheme, "https") == 0)
        return 0;
    if (strcmp(p.scheme, "http") == 0) {
        if (http_host_is_loopback(p.host))
            return 0;
        err_set(err, NEMO_E_CONFIG,
                "Refusing plain http:// to %s: the token would travel "
                "unencrypted. Use an https:// URL (plain http is allowed "
                "only to loopback addresses, for local testing).", p.host);
        return -1;
    }
    err_set(err, NEMO_E_CONFIG,
            "Unsupported URL scheme '%s' (only https, or http to loopback)",
            p.scheme);
    return -1;
}

int http_same_origin(const char *a, const char *b)
{
    url_parts pa, pb;

    if (url_parse(a, &pa) != 0 || url_parse(b, &pb) != 0)
        return 0;
    return strcmp(pa.scheme, pb.scheme) == 0 &&
           strcasecmp(pa.host, pb.host) == 0 && strcmp(pa.port, pb.port) == 0;
}

/* ---- responses ---- */

void http_response_init(http_response *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
    r->content_length = -1;
}

void http_response_free(http_response *r)
{
    buf_free(&r->body);
}

/* Forget what a previous hop (or an interim 1xx response) said. */
static void response_reset_headers(http_response *r)
{
    r->content_length = -1;
    r->content_type[0] = '\0';
    r->retry_after[0] = '\0';
}

static int is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 ||
           status == 307 || status == 308;
}

/* ---- one transfer ---- */

typedef struct xfer {
    const http_request *req;
    http_response *resp;
    int reader_abort;
    int too_large;
    int cancelled;
    char part_error[256];        /* an upload's file failed us: why */
    char refused_addr[64];       /* a non-public address we would not
                                  * connect to, "" when none */
    netaddr_class refused_class;
    long long last_report_ms;
    int last_pct;
    int done_reported;
    http_header_state hdr;
} xfer;

/* ---- response headers ---- */

/* The value of a "Name: value" line, trimmed, NUL-terminated in out. */
static void header_value(const char *line, size_t n, size_t name_len,
                         char *out, size_t cap)
{
    const char *v = line + name_len, *end = line + n;

    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
                       end[-1] == ' ' || end[-1] == '\t'))
        end--;
    n = (size_t)(end - v);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static int header_is(const char *line, size_t n, const char *name)
{
    size_t l = strlen(name);

    return n > l && strncasecmp(line, name, l) == 0;
}

/* "HTTP/1.1 200 OK", "HTTP/2 404": the code, or -1 when malformed. */
static int status_line_code(const char *line, size_t n)
{
    size_t i = 5;
    int code = 0, digits;

    while (i < n && line[i] != ' ' && line[i] != '\r' && line[i] != '\n')
        i++;                                    /* the version */
    if (i >= n || line[i] != ' ')
        return -1;
    for (i++, digits = 0; i < n && line[i] >= '0' && line[i] <= '9';
         i++, digits++)
        if (digits < 3)
            code = code * 10 + (line[i] - '0');
    if (digits != 3 || (i < n && line[i] != ' ' && line[i] != '\r' &&
                        line[i] != '\n'))
        return -1;
    return code;
}

/* Strict decimal, at most 18 digits; -1 otherwise. */
static long long header_length(const char *v)
{
    long long x = 0;
    int digits = 0;

    for (; *v >= '0' && *v <= '9'; v++)
        if (++digits > 18)
            return -1;
        else
            x = x * 10 + (*v - '0');
    return digits && !*v ? x : -1;
}

void http_header_init(http_header_state *st)
{
    st->block_start = 1;
    st->body_started = 0;
}

int http_header_parse(http_header_state *st, const char *line, size_t n,
                      http_response *r)
{
    char tmp[64];
    int start = st->block_start;

    if (!line)
        n = 0;
    st->block_start = 0;
    /* The blank line ends a block; another may follow (after a 1xx or a
     * proxy's CONNECT answer), but never once the body has begun: later
     * lines are trailers. */
    if (n == 0 || (n <= 2 && (line[0] == '\r' || line[0] == '\n'))) {
        st->block_start = !st->body_started;
        return 0;
    }
    if (start && !st->body_started && n > 5 &&
        memcmp(line, "HTTP/", 5) == 0) {
        int code = status_line_code(line, n);

        response_reset_headers(r);
        r->status = code > 0 ? code : 0;
        return code > 0 ? 0 : -1;
    }
    if (header_is(line, n, "content-length:")) {
        header_value(line, n, 15, tmp, sizeof tmp);
        r->content_length = header_length(tmp);
    } else if (header_is(line, n, "content-type:")) {
        header_value(line, n, 13, r->content_type, sizeof r->content_type);
    } else if (header_is(line, n, "retry-after:")) {
        header_value(line, n, 12, r->retry_after, sizeof r->retry_after);
    }
    return 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
    xfer *x = ctx;
    size_t n = size * nmemb;

    http_header_parse(&x->hdr, line, n, x->resp);
    return n;
}

static size_t body_max(const http_request *req)
{
    return req->body_max && req->body_max < HTTP_BODY_MAX ? req->body_max
                                                          : HTTP_BODY_MAX;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ctx)
{
    xfer *x = ctx;
    size_t n = size * nmemb;

    x->hdr.body_started = 1;
    if (is_redirect(x->resp->status))
        return n;   /* a redirect's body is never anyone's data */
    if (x->req->on_data) {
        if (x->req->on_data(x->req->on_data_ctx, p, n) != 0) {
            x->reader_abort = 1;
            return 0;
        }
        return n;
    }
    if (x->resp->body.len + n > body_max(x->req)) {
        x->too_large = 1;
        return 0;
    }
    return buf_append(&x->resp->body, p, n) == 0 ? n : 0;
}

static void report_progress(xfer *x, curl_off_t total, curl_off_t now)
{
    const http_request *req = x->req;
    long long t = clock_mono_ms();
    double mb = (double)now / 1e6;
    int pct = total > 0 ? (int)(now * 100 / total) : -1;

    if (x->done_reported || now <= 0)
        return;
    if (total > 0 && now >= total) {
        x->done_reported = 1;   /* 100% once, unthrottled */
    } else {
        if (t - x->last_report_ms < HTTP_PROGRESS_MS)
            return;
        if (pct >= 0 && pct == x->last_pct)
            return;
    }
    x->last_report_ms = t;
    x->last_pct = pct;
    if (total > 0)
        progress_report(req->progress, (double)now / (double)total,
                        "%s: %d%% (%.1f of %.1f MB)", req->progress_label,
                        pct, mb, (double)total / 1e6);
    else
        progress_report(req->progress, -1, "%s: %.1f MB",
                        req->progress_label, mb);
}

static int on_xferinfo(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    xfer *x = ctx;

    if (cancel_requested(x->req->cancel)) {
        x->cancelled = 1;
        return 1;
    }
    /* Uploads report the bytes sent, bodiless requests (downloads) the
     * bytes received; a JSON body is too small to be worth reporting. */
    if (x->req->progress && x->req->progress_label) {
        if (x->req->parts)
            report_progress(x, ultotal, ulnow);
        else if (!x->req->body)
            report_progress(x, dltotal, dlnow);
    }
    return 0;
}

static struct curl_slist *build_headers(const http_request *req,
                                        int send_auth)
{
    struct curl_slist *l = NULL, *t;
    const char *const *h;

    for (h = req->headers; h && *h; h++) {
        if (!send_auth && strncasecmp(*h, "authorization:", 14) == 0)
            continue;
        if (!(t = curl_slist_append(l, *h)))
            goto fail;
        l = t;
    }
    /* No "Expect: 100-continue" stall against servers that ignore it. */
    if (!(t = curl_slist_append(l, "Expect:")))
        goto fail;
    return t;
fail:
    curl_slist_free_all(l);
    return NULL;
}

/* ---- uploads: exactly the checked bytes of an open file ---- */

typedef struct part_src {
    const http_part *part;
    xfer *x;
    long long off;
} part_src;

static long long mtime_ns_of(const struct stat *st)
{
    return (long long)st->st_mtim.tv_sec * 1000000000LL +
           st->st_mtim.tv_nsec;
}

/* The file ended early, or at the end it is no longer what was checked:
 * fail before the body is complete, so no whole file reaches the server. */
static size_t part_fail(part_src *s, const char *what)
{
    snprintf(s->x->part_error, sizeof s->x->part_error,
             "%s %s after it was checked; the upload was stopped before "
             "the server got a whole file. Upload it again once it is no "
             "longer being changed.",
             s->part->filename ? s->part->filename : "the file", what);
    return CURL_READFUNC_ABORT;
}

/* The file as it is now against what was checked; NULL when the same. */
static const char *part_changed(const part_src *s)
{
    struct stat st;

    if (fstat(s->part->fd, &st) != 0)
        return "could not be checked again";
    if ((long long)st.st_size > s->part->size)
        return "grew";
    if ((long long)st.st_size < s->part->size)
        return "shrank";
    if (s->part->mtime_ns && mtime_ns_of(&st) != s->part->mtime_ns)
        return "was modified";
    return NULL;
}

/* libcurl stops asking once it has size bytes, so the last chunk is held
 * back until the file is seen unchanged: a changed file never reaches
 * the server whole. */
static size_t part_read(char *buf, size_t size, size_t nitems, void *arg)
{
    part_src *s = arg;
    size_t want = size * nitems;
    const char *changed;
    ssize_t got;

    if (s->off >= s->part->size)
        return 0;
    if ((long long)want > s->part->size - s->off)
        want = (size_t)(s->part->size - s->off);
    do
        got = pread(s->part->fd, buf, want, (off_t)s->off);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return part_fail(s, "could not be read");
    if (got == 0)
        return part_fail(s, "shrank");
    if (s->off + got == s->part->size && (changed = part_changed(s)))
        return part_fail(s, changed);
    s->off += got;
    return (size_t)got;
}

/* libcurl rewinds a body it must send again. */
static int part_seek(void *arg, curl_off_t offset, int origin)
{
    part_src *s = arg;

    if (origin != SEEK_SET || offset < 0 || offset > s->part->size)
        return CURL_SEEKFUNC_CANTSEEK;
    s->off = offset;
    return CURL_SEEKFUNC_OK;
}

/* srcs[0..nparts) are owned by the caller and outlive the transfer. */
static curl_mime *build_mime(CURL *h, const http_request *req, xfer *x,
                             part_src *srcs, nemo_err *err)
{
    curl_mime *mime = curl_mime_init(h);
    size_t i;

    if (!mime) {
        err_set(err, NEMO_E_IO, "out of memory building an upload");
        return NULL;
    }
    for (i = 0; i < req->nparts; i++) {
        const http_part *p = &req->parts[i];
        curl_mimepart *part = curl_mime_addpart(mime);

        srcs[i].part = p;
        srcs[i].x = x;
        srcs[i].off = 0;
        if (!part || p->fd < 0 || p->size < 0 ||
            curl_mime_name(part, p->field) != CURLE_OK ||
            curl_mime_data_cb(part, (curl_off_t)p->size, part_read,
                              part_seek, NULL, &srcs[i]) != CURLE_OK ||
            (p->filename && curl_mime_filename(part, p->filename) !=
                                CURLE_OK) ||
            (p->content_type && curl_mime_type(part, p->content_type) !=
                                    CURLE_OK)) {
            err_set(err, NEMO_E_IO, "cannot attach %s to the upload",
                    p->filename ? p->filename : "a file");
            curl_mime_free(mime);
            return NULL;
        }
    }
    return mime;
}

/* ---- links from the backend: public https addresses only ---- */

/* Refuse to open a socket to anything but a public address. This sees
 * the address libcurl resolved and is about to connect to, so a name
 * that resolves to 127.0.0.1 (or rebinds to it) is caught too. */
static curl_socket_t public_socket(void *ctx, curlsocktype purpose,
                                   struct curl_sockaddr *a)
{
    xfer *x = ctx;
    netaddr_class c = netaddr_classify_sockaddr(&a->addr,
                                                (size_t)a->addrlen);

    (void)purpose;
    if (c != NETADDR_PUBLIC) {
        netaddr_sockaddr_text(&a->addr, (size_t)a->addrlen, x->refused_addr,
                              sizeof x->refused_addr);
        x->refused_class = c;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* With a proxy, the socket goes to the proxy, which connects for us:
 * then only the URL can be judged here. */
static int proxy_in_env(void)
{
    static const char *const names[] = { "https_proxy", "HTTPS_PROXY",
                                         "all_proxy", "ALL_PROXY",
                                         "http_proxy" };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (getenv(names[i]) && getenv(names[i])[0])
            return 1;
    return 0;
}

/* The URL part of the rule: https, and not a literal non-public address
 * (names are judged by public_socket once resolved). */
static int public_url_ok(const url_parts *u, nemo_err *err)
{
    netaddr_class c;

    if (strcmp(u->scheme, "https") != 0) {
        err_set(err, NEMO_E_PROTOCOL, "Refusing a link to %s from the "
                "backend: only https links are followed", u->host);
        return -1;
    }
    c = netaddr_classify_text(u->host);
    if (c != NETADDR_PUBLIC && c != NETADDR_INVALID) {
        err_set(err, NEMO_E_PROTOCOL, "Refusing a link to %s from the "
                "backend: it is %s, not a public server", u->host,
                netaddr_class_name(c));
        return -1;
    }
    return 0;
}

static void set_method(CURL *h, const http_request *req, const char *method,
                       int with_body, curl_mime *mime)
{
    if (mime) {
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        const char *body = with_body && req->body ? req->body : "";
        curl_off_t len = with_body && req->body ? (curl_off_t)req->body_len
                                                : 0;

        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* Drive one easy handle to completion through a pooled multi handle,
 * checking the cancel flag at least every HTTP_POLL_MS. */
static CURLcode run_transfer(CURL *h, xfer *x)
{
    CURLM *m = pool_get();
    CURLcode rc = CURLE_FAILED_INIT;
    int running = 1;

    if (!m)
        return CURLE_OUT_OF_MEMORY;
    if (curl_multi_add_handle(m, h) != CURLM_OK) {
        pool_put(m);
        return CURLE_FAILED_INIT;
    }
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (cancel_requested(x->req->cancel)) {
            x->cancelled = 1;
            break;
        }
        if (running &&
            curl_multi_poll(m, NULL, 0, HTTP_POLL_MS, NULL) != CURLM_OK)
            break;
    }
    if (x->cancelled) {
        rc = CURLE_ABORTED_BY_CALLBACK;
    } else {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == h)
                rc = msg->data.result;
    }
    curl_multi_remove_handle(m, h);
    pool_put(m);
    return rc;
}

static void transport_error(nemo_err *err, CURLcode rc, const xfer *x,
                            const url_parts *u, const char *detail)
{
    const char *d = detail && *detail ? detail : curl_easy_strerror(rc);

    if (x->cancelled) {
        err_set(err, NEMO_E_CANCELLED, "The request was cancelled");
        return;
    }
    if (x->part_error[0]) {
        err_set(err, NEMO_E_IO, "%s", x->part_error);
        return;
    }
    if (x->refused_addr[0]) {
        err_set(err, NEMO_E_PROTOCOL, "Refusing to connect to %s (%s) for "
                "a link from the backend: %s is %s; only public https "
                "servers are allowed", u->host, x->refused_addr,
                x->refused_addr, netaddr_class_name(x->refused_class));
        return;
    }
    if (x->reader_abort) {
        err_set(err, NEMO_E_PROTOCOL,
                "The response stream was abandoned by its reader");
        return;
    }
    if (x->too_large) {
        err_set(err, NEMO_E_PROTOCOL,
                "The response from %s was larger than %zu MB; refusing it",
                u->host, body_max(x->req) >> 20);
        return;
    }
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        err_set(err, NEMO_E_TIMEOUT, "The request to %s timed out (%s)",
                u->host, d);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        err_set(err, NEMO_E_NETWORK,
                "Cannot resolve %s: check the network connection and the "
                "API address", u->host);
        break;
    case CURLE_COULDNT_CONNECT:
        err_set(err, NEMO_E_NETWORK,
                "Cannot connect to %s port %s (%s)", u->host, u->port, d);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        err_set(err, NEMO_E_NETWORK,
                "The TLS certificate of %s could not be verified (%s); "
                "refusing to talk to it", u->host, d);
        break;
    case CURLE_READ_ERROR:
        err_set(err, NEMO_E_IO, "Could not read the file being uploaded "
                "(%s)", d);
        break;
    default:
        err_set(err, NEMO_E_NETWORK, "Network error talking to %s: %s",
                u->host, d);
        break;
    }
}

typedef struct hop {
    const char *url;
    const char *method;
    int with_body;
    int send_auth;
    int public_only;           /* this hop must reach a public address */
    char next[HTTP_URL_MAX];   /* redirect target, "" when none */
} hop;

static int perform_hop(const http_request *req, hop *hp, http_response *resp,
                       nemo_err *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    curl_mime *mime = NULL;
    part_src *srcs = NULL;
    CURLU *cu = NULL;
    CURL *h = NULL;
    url_parts u;
    xfer x;
    CURLcode rc;
    long status = 0, reqsize = 0;
    curl_off_t up = 0, down = 0;
    char *redir = NULL;
    int ret = -1;

    memset(&x, 0, sizeof x);
    x.req = req;
    x.resp = resp;
    x.last_pct = -1;
    http_header_init(&x.hdr);
    hp->next[0] = '\0';
    if (http_url_allowed(hp->url, err) != 0 || url_parse(hp->url, &u) != 0)
        return -1;
    if (hp->public_only && public_url_ok(&u, err) != 0)
        return -1;
    h = curl_easy_init();
    cu = curl_url();
    hdrs = build_headers(req, hp->send_auth);
    if (!h || !cu || !hdrs ||
        curl_url_set(cu, CURLUPART_URL, hp->url, 0) != CURLUE_OK) {
        err_set(err, NEMO_E_IO, "out of memory preparing a request");
        goto out;
    }
    if (hp->with_body && req->parts && req->nparts &&
        (!(srcs = calloc(req->nparts, sizeof *srcs)) ||
         !(mime = build_mime(h, req, &x, srcs, err)))) {
        if (!srcs)
            err_set(err, NEMO_E_IO, "out of memory building an upload");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_CURLU, cu);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, HTTP_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms > 0 ? req->connect_timeout_ms
                                                 : 10000L);
    if (req->total_timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->total_timeout_ms);
    if (req->low_speed_secs > 0) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->low_speed_secs);
    }
    /* Long idle streams: keep NATs from dropping the connection. */
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
    if (http_host_is_loopback(u.host))
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (hp->public_only && !proxy_in_env()) {
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, public_socket);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &x);
        /* a pooled connection was opened without this check */
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    }
    if (http_share)
        curl_easy_setopt(h, CURLOPT_SHARE, http_share);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    set_method(h, req, hp->method, hp->with_body, mime);
    /* Larger reads from the file: fewer callbacks and syscalls for a
     * 500 MB upload (libcurl's default is 64 KB). */
    if (mime)
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);

    rc = run_transfer(h, &x);

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &reqsize);
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
    resp->upload_bytes += (double)up;
    resp->download_bytes += (double)down;
    resp->status = (int)status;
    resp->request_sent = resp->request_sent || reqsize > 0;
    resp->transport_error = (int)rc;
    resp->reader_aborted = x.reader_abort;
    if (rc != CURLE_OK) {
        transport_error(err, rc, &x, &u, errbuf);
        goto out;
    }
    if (is_redirect(resp->status) &&
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redir) == CURLE_OK &&
        redir) {
        if (strlen(redir) >= sizeof hp->next) {
            err_set(err, NEMO_E_PROTOCOL, "%s sent an over-long redirect",
                    u.host);
            goto out;
        }
        memcpy(hp->next, redir, strlen(redir) + 1);
    }
    ret = 0;
out:
    if (h)
        curl_easy_cleanup(h);
    curl_mime_free(mime);
    free(srcs);
    curl_url_cleanup(cu);
    curl_slist_free_all(hdrs);
    return ret;
}

int http_perform(const http_request *req, http_response *resp, nemo_err *err)
{
    char cur[HTTP_URL_MAX];
    hop hp;
    int hops, rc = -1;

    if (!req || !req->url || !req->method ||
        strlen(req->url) >= sizeof cur) {
        err_set(err, NEMO_E_INVALID, "invalid HTTP request");
        return -1;
    }
    http_global_init();
    if (http_curl_start(err) != 0) {
        http_global_cleanup();
        return -1;
    }
    memcpy(cur, req->url, strlen(req->url) + 1);
    hp.url = cur;
    hp.method = req->method;
    hp.with_body = 1;
    hp.send_auth = 1;
    for (hops = 0;; hops++) {
        char host[256] = "?";

        hp.public_only = req->public_only == HTTP_PUBLIC_ALL ||
                         (req->public_only == HTTP_PUBLIC_REDIRECTS &&
                          hops > 0);

        if (perform_hop(req, &hp, resp, err) != 0)
            break;
        if (!hp.next[0]) {
            rc = 0;
            break;
        }
        if (hops == HTTP_MAX_REDIRECTS) {
            err_set(err, NEMO_E_PROTOCOL,
                    "Too many redirects (more than %d)", HTTP_MAX_REDIRECTS);
            break;
        }
        if (http_url_allowed(hp.next, err) != 0) {
            http_url_host(hp.next, host, sizeof host);
            err_set(err, NEMO_E_PROTOCOL,
                    "Refusing a redirect to %s: only https redirects are "
                    "followed", host);
            break;
        }
        /* The token belongs to the origin it was given for; once dropped
         * it stays dropped, even if a later hop comes back. */
        if (!http_same_origin(cur, hp.next))
            hp.send_auth = 0;
        if (resp->status == 303 ||
            ((resp->status == 301 || resp->status == 302) &&
             strcmp(hp.method, "POST") == 0)) {
            hp.method = "GET";
            hp.with_body = 0;
        }
        LOG_DEBUG("http", "following a %d redirect", resp->status);
        memcpy(cur, hp.next, strlen(hp.next) + 1);
        buf_reset(&resp->body);
        resp->redirects++;
    }
    http_global_cleanup();
    return rc;
}
