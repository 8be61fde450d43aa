/* upload.c - send local files (streamed from disk) or URLs to a session.
 *
 * Files have been judged by filecheck before they get here, and arrive as
 * the descriptor filecheck judged: the bytes sent are the bytes checked,
 * whatever happens to the path in between (a symlink swapped in, a file
 * renamed over it). An upload is
 * not retried blindly once its body went out; the one retry is after a
 * 1002 (session not found), which the backend answers without keeping the
 * file, on the new session api_session_recover creates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "nemo/log.h"

#define UPLOAD_TIMEOUT_MS (2LL * 60 * 60 * 1000)  /* 500 MB on a slow line */
#define UPLOAD_STALL_SECS 60                      /* no progress at all */

static int upload_path(const char *sid, char *out, size_t n, nemo_err *err)
{
    char esc[API_SESSION_MAX * 3 + 1];

    if (!sid || !*sid || api_escape_segment(sid, esc, sizeof esc) != 0) {
        err_set(err, NEMO_E_INVALID, "a valid session id is required");
        return -1;
    }
    snprintf(out, n, "/api/upload-video/nemo_agent/me/%s", esc);
    return 0;
}

/* Send o (its path filled in here for sid), once more on a new session
 * after a 1002. */
static int upload_send(nemo_api *api, api_ctl *ctl, const char *sid,
                       api_send_opts *o, cJSON **data, nemo_err *err)
{
    char path[512], cur[API_SESSION_MAX], fresh[API_SESSION_MAX];
    int attempt, rc = -1;

    snprintf(cur, sizeof cur, "%s", sid ? sid : "");
    for (attempt = 0; attempt < 2; attempt++) {
        if (upload_path(cur, path, sizeof path, err) != 0)
            return -1;
        o->path = path;
        *data = NULL;
        rc = api_send(api, ctl, o, data, err);
        if (rc == 0 || err->kind != NEMO_E_SESSION || attempt > 0)
            break;
        LOG_INFO("upload", "session %s not found; starting a new one", cur);
        if (api_session_recover(api, ctl, cur, fresh, sizeof fresh, err) != 0)
            return -1;
        snprintf(cur, sizeof cur, "%s", fresh);
    }
    return rc;
}

int api_upload_file(nemo_api *api, api_ctl *ctl, const char *sid,
                    const api_upload_src *src, cJSON **data, nemo_err *err)
{
    http_part part;
    api_send_opts o;
    char label[300];

    err_clear(err);
    *data = NULL;
    if (!src || src->fd < 0 || src->bytes < 0) {
        err_set(err, NEMO_E_INVALID, "no file to upload");
        return -1;
    }
    memset(&part, 0, sizeof part);
    part.field = "files";
    part.fd = src->fd;
    part.size = src->bytes;
    part.mtime_ns = src->mtime_ns;
    part.filename = src->filename && *src->filename ? src->filename
                                                    : "upload";
    part.content_type = src->content_type;
    snprintf(label, sizeof label, "uploading %s", part.filename);
    memset(&o, 0, sizeof o);
    o.method = "POST";
    o.parts = &part;
    o.nparts = 1;
    o.idempotent = 0;
    o.total_timeout_ms = UPLOAD_TIMEOUT_MS;
    o.low_speed_secs = UPLOAD_STALL_SECS;
    o.progress_label = label;
    return upload_send(api, ctl, sid, &o, data, err);
}

int api_upload_urls(nemo_api *api, api_ctl *ctl, const char *sid,
                    const char *const *urls, size_t n, cJSON **data,
                    nemo_err *err)
{
    cJSON *root = NULL, *arr;
    char *body = NULL;
    api_send_opts o;
    size_t i;
    int rc = -1;

    err_clear(err);
    *data = NULL;
    if (!urls || n == 0) {
        err_set(err, NEMO_E_INVALID, "no URLs to upload");
        return -1;
    }
    root = cJSON_CreateObject();
    arr = root ? cJSON_AddArrayToObject(root, "urls") : NULL;
    for (i = 0; arr && i < n; i++)
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(urls[i])))
            arr = NULL;
    if (!arr || !cJSON_AddStringToObject(root, "source_type", "url") ||
        !(body = cJSON_PrintUnformatted(root))) {
        err_set(err, NEMO_E_IO, "out of memory");
        goto out;
    }
    memset(&o, 0, sizeof o);
    o.method = "POST";
    o.body = body;
    o.body_len = strlen(body);
    o.idempotent = 0;
    o.progress_label = "uploading URLs";
    rc = upload_send(api, ctl, sid, &o, data, err);
out:
    free(body);
    cJSON_Delete(root);
    return rc;
}
