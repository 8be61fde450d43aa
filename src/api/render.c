/* render.c - start a render, read its status, download the result.
 *
 * The download never leaves a half-written file: bytes go to a temporary
 * file beside the target (same directory, so the final step is a rename on
 * one file system), are capped (the render's reported size, else
 * NEMO_DOWNLOAD_MAX_BYTES), counted against Content-Length, checked as a
 * whole ISO-BMFF file while they stream (mp4.h), hashed, synced, and only
 * then linked into place. Without overwrite the final step refuses to
 * replace a file, even one created while the download ran. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_internal.h"
#include "nemo/clock.h"
#include "nemo/fspolicy.h"
#include "nemo/log.h"
#include "nemo/mp4.h"
#include "nemo/num.h"
#include "nemo/platform.h"
#include "nemo/sha256.h"
#include "nemo/store.h"


#define RENDER_PATH "/api/render/proxy/lambda"
#define RENDER_DL_PATH "/api/render/proxy"
#define DL_TIMEOUT_MS (60LL * 60 * 1000)
#define DL_STALL_SECS 60

/* ---- start ---- */

int api_render_start(nemo_api *api, api_ctl *ctl, const char *sid,
                     const char *render_id, const cJSON *draft,
                     const char *format, const char *quality,
                     api_render_start_info *info, nemo_err *err)
{
    cJSON *root = NULL, *out, *data = NULL;
    api_render_start_info dummy;
    char *body = NULL;
    api_send_opts o;
    int rc = -1;

    err_clear(err);
    if (info)
        memset(info, 0, sizeof *info);
    if (!sid || !*sid || !render_id || !*render_id || !draft) {
        err_set(err, NEMO_E_INVALID, "a session, a render id and a draft "
                                     "are required to export");
        return -1;
    }
    root = cJSON_CreateObject();
    if (!root || !cJSON_AddStringToObject(root, "id", render_id) ||
        !cJSON_AddStringToObject(root, "sessionId", sid) ||
        !cJSON_AddItemToObject(root, "draft", cJSON_Duplicate(draft, 1)) ||
        !(out = cJSON_AddObjectToObject(root, "output")) ||
        !cJSON_AddStringToObject(out, "format", format ? format : "mp4") ||
        !cJSON_AddStringToObject(out, "quality", quality ? quality : "high") ||
        !(body = cJSON_PrintUnformatted(root))) {
        err_set(err, NEMO_E_IO, "out of memory");
        goto out;
    }
    memset(&o, 0, sizeof o);
    o.method = "POST";
    o.path = RENDER_PATH;
    o.body = body;
    o.body_len = strlen(body);
    o.idempotent = 0;           /* a second POST would start a second job */
    rc = api_send(api, ctl, &o, &data, err);
    if (rc == 0)
        rc = render_start_parse(data, info ? info : &dummy, err);
out:
    cJSON_Delete(data);
    free(body);
    cJSON_Delete(root);
    return rc;
}

/* ---- status ---- */

int api_render_status_get(nemo_api *api, api_ctl *ctl, const char *render_id,
                          api_render_status *out, nemo_err *err)
{
    char esc[3 * API_RENDER_ID_MAX + 1], path[3 * API_RENDER_ID_MAX + 64];
    cJSON *data = NULL;
    api_send_opts o;
    int rc;

    memset(out, 0, sizeof *out);
    out->progress = -1;
    out->bytes = -1;
    err_clear(err);
    if (!render_id || !*render_id ||
        api_escape_segment(render_id, esc, sizeof esc) != 0) {
        err_set(err, NEMO_E_INVALID, "a valid render id is required");
        return -1;
    }
    snprintf(path, sizeof path, RENDER_PATH "/%s", esc);
    memset(&o, 0, sizeof o);
    o.method = "GET";
    o.path = path;
    o.idempotent = 1;
    /* Enveloped or bare: api_send hands back the data, or the whole
     * answer when it is not an envelope. */
    if (api_send(api, ctl, &o, &data, err) != 0)
        return -1;
    rc = render_status_parse(data, out, err);
    cJSON_Delete(data);
    return rc;
}

int api_render_download_url(const nemo_api *api, const char *render_id,
                            char *out, size_t n, nemo_err *err)
{
    char esc[3 * API_RENDER_ID_MAX + 1];

    if (!render_id || !*render_id ||
        api_escape_segment(render_id, esc, sizeof esc) != 0 ||
        (size_t)snprintf(out, n, "%s" RENDER_DL_PATH "/%s/download",
                         api->base, esc) >= n) {
        err_set(err, NEMO_E_INVALID, "a valid render id is required");
        return -1;
    }
    return 0;
}

/* ---- download ---- */

/* scheme://host:port, lower-case, default port filled in: two URLs with
 * the same origin may share credentials. 0 on success. */
static int dl_origin(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://"), *host, *end, *at, *colon;
    const char *port;
    size_t i, hl;

    if (!p)
        return -1;
    host = p + 3;
    end = host + strcspn(host, "/?#");
    for (at = end; at > host && at[-1] != '@'; at--)
        ;
    if (at > host)
        host = at;
    colon = NULL;
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(end - host));

        if (!rb)
            return -1;
        if (rb + 1 < end && rb[1] == ':')
            colon = rb + 1;
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
    }
    hl = (size_t)((colon ? colon : end) - host);
    if (strncasecmp(url, "https", 5) == 0 && url[5] == ':')
        port = colon ? NULL : "443";
    else if (strncasecmp(url, "http", 4) == 0 && url[4] == ':')
        port = colon ? NULL : "80";
    else
        return -1;
    if ((size_t)(p - url) + hl + 16 >= n || hl == 0)
        return -1;
    snprintf(out, n, "%.*s://%.*s:%.*s", (int)(p - url), url, (int)hl, host,
             port ? 3 : (int)(end - colon - 1), port ? port : colon + 1);
    for (i = 0; out[i]; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] + 32);
    return 0;
}

/* Non-zero when a and b share scheme, host and port. */
static int dl_same_origin(const char *a, const char *b)
{
    char oa[600], ob[600];

    return dl_origin(a, oa, sizeof oa) == 0 &&
           dl_origin(b, ob, sizeof ob) == 0 && strcmp(oa, ob) == 0;
}

typedef struct dl_ctx {
    int fd;
    long long bytes;
    long long limit;            /* no more than this may arrive */
    long long expect;           /* the render's reported size, -1 */
    const http_response *resp;
    mp4_scan scan;
    sha256_ctx sha;
    int started;                /* the first chunk was seen */
    int bad_announce;           /* a Content-Length that did not fit */
    long long announced;
    int too_big;
    int bad_mp4;
    int bad_status;
    int write_errno;
    nemo_cancel *cancel;
} dl_ctx;

/* The first chunk: headers are known. An error page is not data; a
 * Content-Length past the cap or other than the render's size is a lie
 * we need not wait for. */
static int dl_start(dl_ctx *d)
{
    long long cl = d->resp->content_length;

    d->started = 1;
    if (d->resp->status < 200 || d->resp->status > 299) {
        d->bad_status = 1;
        return 1;
    }
    if (cl >= 0 && (cl > d->limit || (d->expect >= 0 && cl != d->expect))) {
        d->bad_announce = 1;
        d->announced = cl;
        return 1;
    }
    return 0;
}

static int dl_write(void *ctx, const char *data, size_t n)
{
    dl_ctx *d = ctx;

    if (cancel_requested(d->cancel))
        return 1;
    if (!d->started && dl_start(d) != 0)
        return 1;
    if ((long long)n > d->limit - d->bytes) {
        d->too_big = 1;
        return 1;
    }
    /* Not an MP4 (an error page, a script): stop as soon as that shows. */
    if (mp4_scan_feed(&d->scan, data, n) != 0) {
        d->bad_mp4 = 1;
        return 1;
    }
    sha256_update(&d->sha, data, n);
    while (n > 0) {
        ssize_t w = write(d->fd, data, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            d->write_errno = w < 0 ? errno : EIO;
            return 1;
        }
        data += w;
        n -= (size_t)w;
        d->bytes += w;
    }
    return 0;
}

/* Create the temp file beside dest: ".<name>.<unique>.part", O_EXCL. */
static int dl_temp(const char *dest, char *tmp, size_t n, nemo_err *err)
{
    const char *slash = strrchr(dest, '/');
    const char *base = slash ? slash + 1 : dest;
    int dirlen = slash ? (int)(slash - dest + 1) : 0;
    int attempt, fd;

    for (attempt = 0; attempt < 100; attempt++) {
        unsigned long long u = (unsigned long long)clock_mono_ms() * 7919u +
                               (unsigned long long)getpid() * 131u +
                               (unsigned long long)attempt;

        /* Long names are shortened so the temp name fits NAME_MAX. */
        if ((size_t)snprintf(tmp, n, "%.*s.%.180s.%llx.part", dirlen, dest,
                             base, u) >= n) {
            err_set(err, NEMO_E_INVALID, "the download path is too long");
            return -1;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            break;
    }
    if (errno == ENOENT || errno == ENOTDIR)
        err_set(err, NEMO_E_IO, "the folder for %s does not exist", dest);
    else
        err_set(err, NEMO_E_IO, "cannot create a file beside %s: %s", dest,
                strerror(errno));
    return -1;
}

/* Move tmp to dest. Without overwrite an existing dest is never replaced:
 * plat_rename_excl (renameat2, renamex_np or link), else reserving the
 * name with O_EXCL before renaming over our own placeholder. */
static int dl_place(const char *tmp, const char *dest, int overwrite,
                    nemo_err *err)
{
    int fd;

    if (overwrite) {
        if (rename(tmp, dest) == 0)
            return 0;
        goto fail;
    }
    if (plat_rename_excl(tmp, dest) == 0)
        return 0;
    if (errno == EEXIST)
        goto exists;
    if (errno != ENOTSUP)
        goto fail;
    fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == EEXIST)
            goto exists;
        goto fail;
    }
    close(fd);
    if (rename(tmp, dest) == 0)
        return 0;
    unlink(dest);                /* our own empty placeholder */
fail:
    err_set(err, NEMO_E_IO, "cannot move the download into place at %s: %s",
            dest, strerror(errno));
    return -1;
exists:
    err_set(err, NEMO_E_IO, "%s already exists (it appeared during the "
                            "download); nothing was replaced", dest);
    return -1;
}

/* "Name: value" without control characters: a hand-edited SKILL.md must
 * not be able to inject header lines. */
static void dl_header(char *out, size_t n, const char *name,
                      const char *value)
{
    size_t o = (size_t)snprintf(out, n, "%s: ", name), i;

    for (i = 0; value && value[i] && o + 1 < n; i++)
        if ((unsigned char)value[i] >= 0x20 && value[i] != 0x7F)
            out[o++] = value[i];
    out[o < n ? o : n - 1] = '\0';
}

/* Headers: credentials only for the API's own origin, never a CDN's. */
static void dl_headers(nemo_api *api, const char *url, char *auth, size_t an,
                       char extra[4][256], const char *hdrs[7])
{
    size_t h = 0;

    dl_header(extra[0], sizeof extra[0], "User-Agent", api->user_agent);
    hdrs[h++] = extra[0];
    if (dl_same_origin(url, api->base)) {
        pthread_mutex_lock(&api->mu);
        if (api->token[0])
            snprintf(auth, an, "Authorization: Bearer %s", api->token);
        pthread_mutex_unlock(&api->mu);
        if (auth[0])
            hdrs[h++] = auth;
        dl_header(extra[1], sizeof extra[1], "X-Skill-Source",
                  api->skill.name);
        dl_header(extra[2], sizeof extra[2], "X-Skill-Version",
                  api->skill.version);
        dl_header(extra[3], sizeof extra[3], "X-Skill-Platform",
                  api->skill.platform);
        hdrs[h++] = extra[1];
        hdrs[h++] = extra[2];
        hdrs[h++] = extra[3];
    }
    hdrs[h] = NULL;
}

/* Why the transfer failed, in order of what a person should hear. */
static int dl_judge(int rc, const http_response *resp, dl_ctx *d,
                    nemo_cancel *cancel, nemo_err *err)
{
    if (rc != 0 && cancel_requested(cancel)) {
        err_set(err, NEMO_E_CANCELLED, "the download was cancelled");
        return -1;
    }
    if (resp->status && (resp->status < 200 || resp->status > 299)) {
        err_set(err, resp->status == 404 ? NEMO_E_NOT_FOUND : NEMO_E_BACKEND,
                "the download failed: the server answered HTTP %d",
                resp->status);
        err->http_status = resp->status;
        return -1;
    }
    if (d->write_errno) {
        err_set(err, NEMO_E_IO, "cannot write the download: %s",
                strerror(d->write_errno));
        return -1;
    }
    if (d->bad_announce) {
        err_set(err, NEMO_E_PROTOCOL, "the server announced %lld bytes, but "
                "%s %lld; nothing was saved", d->announced,
                d->expect >= 0 ? "the render reported"
                               : "downloads are limited to", d->limit);
        return -1;
    }
    if (d->too_big) {
        err_set(err, NEMO_E_PROTOCOL, "the server sent more than %s %lld "
                "bytes; nothing was saved", d->expect >= 0
                ? "the render's reported" : "the download limit of",
                d->limit);
        return -1;
    }
    if (d->bad_mp4) {
        err_set(err, NEMO_E_PROTOCOL, "the downloaded file is not an MP4 "
                "video (%s); nothing was saved", d->scan.reason);
        return -1;
    }
    if (rc != 0) {
        char why[sizeof err->message];

        snprintf(why, sizeof why, "%s", err->message);
        err_set(err, err->kind, "the download was interrupted after %lld "
                                "bytes: %s", d->bytes, why);
        return -1;
    }
    if ((resp->content_length >= 0 && d->bytes != resp->content_length) ||
        (d->expect >= 0 && d->bytes != d->expect)) {
        err_set(err, NEMO_E_NETWORK, "the download was cut short: %lld of "
                                     "%lld bytes arrived", d->bytes,
                d->expect >= 0 ? d->expect : resp->content_length);
        return -1;
    }
    if (mp4_scan_finish(&d->scan) != 0) {
        err_set(err, NEMO_E_PROTOCOL, "the downloaded file is not an MP4 "
                "video (%s); nothing was saved", d->scan.reason);
        return -1;
    }
    return 0;
}

int api_download_target(const char *download_to, const char *name,
                        int overwrite, char *out, size_t n, char *reason,
                        size_t rn)
{
    char why[200];
    int exists = 0, fd, rc;

    if (fsp_download_target(download_to, name, overwrite, out, n, &exists,
                            reason, rn) != 0)
        return -1;
    if (!exists)
        return 0;
    /* overwrite replaces a video, never a script or a key file that
     * happens to be named .mp4. */
    fd = open(out, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                   O_CLOEXEC);
    rc = fd >= 0 ? mp4_check_fd(fd, why, sizeof why) : -1;
    if (fd < 0)
        snprintf(why, sizeof why, "%s", strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        snprintf(reason, rn, "%s exists and is not an MP4 video (%s); "
                 "overwrite only replaces an MP4. Choose another "
                 "download_to.", out, why);
    return rc;
}

void api_download_drop_temp(const char *dest, const char *tmp)
{
    const char *ds = dest ? strrchr(dest, '/') : NULL;
    const char *ts = tmp ? strrchr(tmp, '/') : NULL;
    size_t tl, nl;
    struct stat st;

    if (!ds || !ts || ds - dest != ts - tmp ||
        strncmp(dest, tmp, (size_t)(ds - dest)) != 0)
        return;
    tl = strlen(ts + 1);
    nl = strlen(ds + 1);
    /* ".<name>.<hex>.part", as dl_temp names them */
    if (ts[1] != '.' || tl < nl + 8 || strcmp(ts + 1 + tl - 5, ".part") ||
        strncmp(ts + 2, ds + 1, nl < 180 ? nl : 180) != 0)
        return;
    if (lstat(tmp, &st) == 0 && S_ISREG(st.st_mode) && unlink(tmp) == 0)
        LOG_INFO("download", "removed %s, left by an interrupted download",
                 tmp);
}

int api_download_is_ours(const char *path, long long bytes,
                         const char *sha256)
{
    char hex[SHA256_HEX_LEN + 1];
    struct stat st;
    long long got = -1;
    int fd, ours;

    if (!path || !sha256 || strlen(sha256) != SHA256_HEX_LEN || bytes < 0)
        return 0;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                    O_CLOEXEC);
    if (fd < 0)
        return 0;
    ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
           (long long)st.st_size == bytes &&
           sha256_fd(fd, bytes, &got, hex) == 0 && got == bytes &&
           strcmp(hex, sha256) == 0;
    close(fd);
    return ours;
}

/* The cap for this download: the render's size when it said, never more
 * than NEMO_DOWNLOAD_MAX_BYTES. */
static int dl_limits(dl_ctx *d, long long expect, nemo_err *err)
{
    long long max = clock_env_ms("NEMO_DOWNLOAD_MAX_BYTES",
                                 API_DOWNLOAD_MAX_DEFAULT, 1, 1LL << 50);

    d->expect = expect > 0 ? expect : -1;
    d->limit = d->expect >= 0 ? d->expect : max;
    if (d->expect > max) {
        err_set(err, NEMO_E_PROTOCOL, "the render is %lld bytes, over the "
                "download limit of %lld bytes (NEMO_DOWNLOAD_MAX_BYTES)",
                d->expect, max);
        return -1;
    }
    return 0;
}

static int dl_finish(dl_ctx *d, const api_download_req *rq, const char *tmp,
                     const char *dest, nemo_err *err)
{
    char hex[SHA256_HEX_LEN + 1];

    if (fsync(d->fd) != 0 || close(d->fd) != 0) {
        d->fd = -1;
        err_set(err, NEMO_E_IO, "cannot save the download: %s",
                strerror(errno));
        return -1;
    }
    d->fd = -1;
    sha256_final_hex(&d->sha, hex);
    if (rq->before_place)
        rq->before_place(rq->ctx, d->bytes, hex);
    return dl_place(tmp, dest, rq->overwrite, err);
}

int api_download(nemo_api *api, api_ctl *ctl, const api_download_req *rq,
                 long long *bytes, nemo_err *err)
{
    char tmp[PATH_MAX + 64], auth[API_TOKEN_MAX + 32] = "", label[300];
    char dest[PATH_MAX], reason[PATH_MAX + 512], extra[4][256];
    const char *hdrs[7];
    const char *name;
    http_request req;
    http_response resp;
    dl_ctx d;
    nemo_cancel *cancel = ctl ? ctl->cancel : NULL;
    int rc = -1, prc;

    err_clear(err);
    if (bytes)
        *bytes = 0;
    memset(&d, 0, sizeof d);
    d.fd = -1;
    tmp[0] = '\0';
    http_response_init(&resp);
    if (!rq || !rq->url || http_url_allowed(rq->url, err) != 0)
        goto out;
    /* The same rules as when the export was asked for: a dest read back
     * from the journal is not trusted more than the model's argument. */
    if (!rq->dest || api_download_target(rq->dest, NULL, rq->overwrite,
                                         dest, sizeof dest, reason,
                                         sizeof reason) != 0) {
        err_set(err, NEMO_E_INVALID, "%s",
                rq->dest ? reason : "no download path given");
        goto out;
    }
    if (dl_limits(&d, rq->expect_bytes, err) != 0)
        goto out;
    if (dl_same_origin(rq->url, api->base) &&
        api_auth_ensure(api, ctl, err) != 0)
        goto out;
    if ((d.fd = dl_temp(dest, tmp, sizeof tmp, err)) < 0) {
        tmp[0] = '\0';
        goto out;
    }
    if (rq->on_temp)
        rq->on_temp(rq->ctx, tmp);
    d.cancel = cancel;
    d.resp = &resp;
    mp4_scan_init(&d.scan);
    sha256_init(&d.sha);
    name = strrchr(dest, '/') + 1;
    snprintf(label, sizeof label, "downloading %s", name);
    dl_headers(api, rq->url, auth, sizeof auth, extra, hdrs);
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = rq->url;
    req.headers = hdrs;
    req.on_data = dl_write;
    req.on_data_ctx = &d;
    req.total_timeout_ms = DL_TIMEOUT_MS;
    req.low_speed_secs = DL_STALL_SECS;
    req.cancel = cancel;
    req.progress = ctl ? ctl->progress : NULL;
    req.progress_label = label;
    req.public_only = api_backend_links_local_ok(api) ? HTTP_PUBLIC_NONE
                                                      : HTTP_PUBLIC_ALL;
    prc = http_perform(&req, &resp, err);
    memset(auth, 0, sizeof auth);
    if (dl_judge(prc, &resp, &d, cancel, err) != 0 ||
        dl_finish(&d, rq, tmp, dest, err) != 0)
        goto out;
    tmp[0] = '\0';                        /* it is dest now */
    fs_fsync_dir_of(dest);
    if (bytes)
        *bytes = d.bytes;
    rc = 0;
out:
    if (d.fd >= 0)
        close(d.fd);
    if (tmp[0] && unlink(tmp) != 0 && errno != ENOENT)
        LOG_WARN("download", "could not remove %s: %s", tmp, strerror(errno));
    http_response_free(&resp);
    return rc;
}
