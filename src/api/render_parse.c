/* render_parse.c - the render start answer and the render poll answer, as
 * pure parsers (cJSON in, typed value or error out) that api/render.c
 * calls after the HTTP exchange.
 *
 * Tolerant by design: NemoVideo documents the poll answer with `status` at
 * the top level (`pending` -> `processing` -> `completed` / `failed`, the
 * file at `output.url`), older copies put it inside the {code,data}
 * envelope and other spellings are seen in the wild, so the status, the
 * progress and the URL are looked for in the answer itself and one level
 * down. Numbers are range-checked: "nan%", 1e999 or a string of digits
 * never reach the progress bar as NaN or infinity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "nemo/num.h"

/* What the backend says -> the one word the tools act on. */
static const struct {
    const char *said;
    const char *status;
} render_states[] = {
    { "completed", "completed" }, { "complete", "completed" },
    { "done", "completed" },      { "succeeded", "completed" },
    { "success", "completed" },   { "successful", "completed" },
    { "finished", "completed" },  { "ready", "completed" },
    { "failed", "failed" },       { "failure", "failed" },
    { "error", "failed" },        { "errored", "failed" },
    { "cancelled", "cancelled" }, { "canceled", "cancelled" },
    { "queued", "queued" },       { "pending", "queued" },
    { "waiting", "queued" },      { "submitted", "queued" },
    { "created", "queued" },      { "rendering", "rendering" },
    { "processing", "rendering" }, { "running", "rendering" },
    { "in_progress", "rendering" }, { "started", "rendering" },
};

/* The objects a status may live in: the answer itself, or one level down. */
static size_t render_scopes(const cJSON *data, const cJSON **out, size_t max)
{
    static const char *const nested[] = { "render", "job", "result", "data",
                                          "task", "status" };
    size_t n = 0, i;

    if (cJSON_IsObject(data))
        out[n++] = data;
    for (i = 0; n < max && i < sizeof nested / sizeof nested[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, nested[i]);

        if (cJSON_IsObject(v))
            out[n++] = v;
    }
    return n;
}

static const cJSON *render_find(const cJSON *const *scopes, size_t n,
                                const char *const *keys)
{
    size_t i;
    const char *const *k;

    for (i = 0; i < n; i++)
        for (k = keys; *k; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(scopes[i], *k);

            if (v && !cJSON_IsNull(v))
                return v;
        }
    return NULL;
}

static void render_status_word(const cJSON *v, char *out, size_t n)
{
    size_t i;

    out[0] = '\0';
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return;
    for (i = 0; i < sizeof render_states / sizeof render_states[0]; i++)
        if (strcasecmp(v->valuestring, render_states[i].said) == 0) {
            snprintf(out, n, "%s", render_states[i].status);
            return;
        }
    /* An unknown word is kept (lower-case, printable) for the progress. */
    for (i = 0; v->valuestring[i] && i + 1 < n; i++) {
        unsigned char c = (unsigned char)v->valuestring[i];

        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32
                        : c < 0x20 || c == 0x7F ? '?' : c);
    }
    out[i] = '\0';
}

/* 0..100 or 0..1 (a fraction when below 1, or exactly 1 once done), or a
 * string such as "45%" or "0.5". -1 when absent or absurd. Values are kept
 * in thousandths of a percent through num_ll_of, which refuses NaN,
 * infinities and anything out of range. */
static double render_progress(const cJSON *v, const char *status)
{
    long long milli;
    double d;
    char *end;
    int pct = 0;

    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        d = strtod(v->valuestring, &end);
        if (end == v->valuestring)
            return -1;
        while (*end == ' ')
            end++;
        pct = *end == '%';
        if (*end && !(pct && end[1] == '\0'))
            return -1;
    } else {
        return strcmp(status, "completed") == 0 ? 100 : -1;
    }
    if (!isfinite(d) || d < 0)
        return -1;
    if (!pct && (d < 1 || (d == 1 && strcmp(status, "completed") == 0)))
        d *= 100;
    if (num_ll_of(d * 1000, 0, 1000LL * 1000 * 1000, &milli) != 0)
        return -1;
    return milli > 100000 ? 100 : (double)milli / 1000;
}

static void render_url(const cJSON *const *scopes, size_t n, char *out,
                       size_t cap)
{
    static const char *const keys[] = { "url", "output_url", "outputUrl",
                                        "download_url", "downloadUrl",
                                        "video_url", "videoUrl", NULL };
    static const char *const output[] = { "output", "outputs", NULL };
    const cJSON *o = render_find(scopes, n, output), *v;

    out[0] = '\0';
    if (cJSON_IsArray(o))
        o = cJSON_GetArrayItem(o, 0);
    if (cJSON_IsString(o)) {
        v = o;
    } else {
        v = cJSON_IsObject(o) ? render_find(&o, 1, keys) : NULL;
        if (!cJSON_IsString(v))
            v = render_find(scopes, n, keys);
    }
    /* A URL that does not fit is not a URL: better none than a cut one. */
    if (cJSON_IsString(v) && strlen(v->valuestring) < cap)
        snprintf(out, cap, "%s", v->valuestring);
}

/* The output's size in bytes, when the backend says: the download stops
 * there. -1 when absent or absurd. */
static long long render_size(const cJSON *const *scopes, size_t n)
{
    static const char *const keys[] = { "size", "bytes", "file_size",
                                        "fileSize", NULL };
    static const char *const output[] = { "output", "outputs", NULL };
    const cJSON *o = render_find(scopes, n, output);

    if (cJSON_IsArray(o))
        o = cJSON_GetArrayItem(o, 0);
    if (!cJSON_IsObject(o))
        return -1;
    return num_ll_or(render_find(&o, 1, keys), 1, 1LL << 50, -1);
}

static void render_message(const cJSON *const *scopes, size_t n, char *out,
                           size_t cap)
{
    static const char *const keys[] = { "error", "errorMessage",
                                        "error_message", "message", "reason",
                                        "failure_reason", "failureReason",
                                        NULL };
    const cJSON *v = render_find(scopes, n, keys);

    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "message");
    snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int render_status_parse(const cJSON *answer, api_render_status *out,
                        nemo_err *err)
{
    static const char *const status_keys[] = { "status", "state",
                                               "render_status",
                                               "renderStatus", NULL };
    static const char *const progress_keys[] = { "progress", "percent",
                                                 "percentage", NULL };
    const cJSON *scopes[8];
    size_t n;

    memset(out, 0, sizeof *out);
    out->progress = -1;
    out->bytes = -1;
    if (!cJSON_IsObject(answer)) {
        err_set(err, NEMO_E_PROTOCOL, "the render status answer was not a "
                                      "JSON object");
        return -1;
    }
    n = render_scopes(answer, scopes, sizeof scopes / sizeof scopes[0]);
    render_status_word(render_find(scopes, n, status_keys), out->status,
                       sizeof out->status);
    render_url(scopes, n, out->url, sizeof out->url);
    if (!out->status[0])
        snprintf(out->status, sizeof out->status, "%s",
                 out->url[0] ? "completed" : "unknown");
    out->progress = render_progress(render_find(scopes, n, progress_keys),
                                    out->status);
    out->bytes = render_size(scopes, n);
    if (strcmp(out->status, "failed") == 0 ||
        strcmp(out->status, "cancelled") == 0)
        render_message(scopes, n, out->message, sizeof out->message);
    return 0;
}

/* A render id we may put in a URL path: printable, bounded. */
static int render_id_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7F || s[i] == '/')
            return 0;
    return i > 0 && i < API_RENDER_ID_MAX;
}

int render_start_parse(const cJSON *answer, api_render_start_info *out,
                       nemo_err *err)
{
    static const char *const id_keys[] = { "render_id", "renderId", NULL };
    const cJSON *scopes[8], *v;
    api_render_status st;
    size_t n;

    memset(out, 0, sizeof *out);
    /* An empty 2xx answer (or JSON null) is a start without details. */
    if (!answer || cJSON_IsNull(answer))
        return 0;
    if (!cJSON_IsObject(answer)) {
        err_set(err, NEMO_E_PROTOCOL, "the render start answer was not a "
                                      "JSON object");
        return -1;
    }
    n = render_scopes(answer, scopes, sizeof scopes / sizeof scopes[0]);
    v = render_find(scopes, n, id_keys);
    if (v) {
        if (!cJSON_IsString(v) || !render_id_ok(v->valuestring)) {
            err_set(err, NEMO_E_PROTOCOL, "the render start answer gave an "
                                          "unusable render_id");
            return -1;
        }
        snprintf(out->render_id, sizeof out->render_id, "%s",
                 v->valuestring);
    }
    /* A start that says at once that it failed is a failed start. */
    if (render_status_parse(answer, &st, err) == 0 &&
        (strcmp(st.status, "failed") == 0 ||
         strcmp(st.status, "cancelled") == 0)) {
        err_set(err, NEMO_E_BACKEND, "the render could not be started: %s",
                st.message[0] ? st.message : st.status);
        return -1;
    }
    return 0;
}
