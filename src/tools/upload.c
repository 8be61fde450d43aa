/* upload.c - the `upload` tool: check every local file before any byte
 * leaves the machine, then stream the accepted ones (and hand the accepted
 * URLs to the backend). One entry per input, in input order. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/json.h"
#include "nemo/filecheck.h"
#include "nemo/log.h"
#include "nemo/num.h"
#include "nemo/event.h"
#include "tools_internal.h"

/* In task mode, uploads bigger than this run as a journalled job. */
#define UPLOAD_JOB_BYTES (50LL * 1024 * 1024)

#define UPLOAD_CANCEL_NOTE "Files already sent stay in the session."

typedef struct up_item {
    int is_url;
    int accepted;
    filecheck_info info;   /* local files */
    cJSON *entry;          /* borrowed from up_arg.entries */
} up_item;

typedef struct up_arg {
    nemo_api *api;
    char *session;
    up_item *items;
    size_t n;
    cJSON *entries;        /* owned: the per-input result array */
    int state_applied;     /* session_state_applied over every answer:
                            * 1 all said yes, 0 one said no, -1 unknown */
} up_arg;

static void up_arg_free(void *p)
{
    up_arg *a = p;
    size_t i;

    if (!a)
        return;
    for (i = 0; a->items && i < a->n; i++)
        if (!a->items[i].is_url)
            filecheck_close(&a->items[i].info);
    free(a->session);
    free(a->items);
    cJSON_Delete(a->entries);
    free(a);
}

/* ---- backend ids ---- */

static const char *const id_keys[] = {
    "id", "file_id", "fileId", "media_id", "mediaId", "asset_id", "assetId",
    "video_id", "videoId", "upload_id", "uploadId", "url",
};

void tool_upload_copy_ids(const cJSON *item, cJSON *entry)
{
    size_t i;

    if (!cJSON_IsObject(item))
        return;
    for (i = 0; i < sizeof id_keys / sizeof id_keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, id_keys[i]);
        if (!v || !(cJSON_IsString(v) || cJSON_IsNumber(v)))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(entry, id_keys[i]);
        /* The schema says id is a string: numbers are written as text. */
        if (cJSON_IsNumber(v)) {
            char num[32];
            snprintf(num, sizeof num, "%.0f", v->valuedouble);
            cJSON_AddStringToObject(entry, id_keys[i], num);
        } else {
            cJSON_AddStringToObject(entry, id_keys[i], v->valuestring);
        }
    }
}

const cJSON *tool_upload_item(const cJSON *data, int idx)
{
    return upload_answer_item(data, idx);
}

/* ---- entries ---- */

/* NULL leaves the field out: strict host validators warn about null
 * (and about ["string","null"] types in the schema). */
static void entry_set_str(cJSON *e, const char *key, const char *v)
{
    /* No value: the key is left out (output schemas avoid null types). */
    cJSON_DeleteItemFromObjectCaseSensitive(e, key);
    if (v)
        cJSON_AddStringToObject(e, key, v);
}

static void entry_status(cJSON *e, const char *status, const char *reason)
{
    entry_set_str(e, "status", status);
    entry_set_str(e, "reason", reason);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s && s[1] ? s + 1 : path;
}

/* The last path segment of a URL, without query or fragment. */
static void url_name(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://"), *end, *seg;
    size_t len;

    p = p ? p + 3 : url;
    end = p + strcspn(p, "?#");
    seg = end;
    while (seg > p && seg[-1] != '/')
        seg--;
    if (seg == p) {       /* no path: the host */
        len = strcspn(p, "/?#");
        seg = p;
        end = p + len;
    }
    len = (size_t)(end - seg);
    if (len >= n)
        len = n - 1;
    memcpy(out, seg, len);
    out[len] = '\0';
}

static cJSON *entry_file(const char *source, const filecheck_info *fi,
                         int accepted)
{
    cJSON *e = cJSON_CreateObject();

    cJSON_AddStringToObject(e, "source", source);
    cJSON_AddStringToObject(e, "name", fi->name[0] ? fi->name
                                                    : base_name(source));
    if (accepted || fi->bytes > 0)
        cJSON_AddNumberToObject(e, "bytes", (double)fi->bytes);
    cJSON_AddStringToObject(e, "type", fi->family);
    if (fi->content_type[0])
        cJSON_AddStringToObject(e, "content_type", fi->content_type);
    if (accepted)
        entry_status(e, "pending", NULL);
    else
        entry_status(e, "rejected", fi->reason[0] ? fi->reason
                                                  : "not accepted");
    return e;
}

static cJSON *entry_url(const char *url, const char *reason)
{
    cJSON *e = cJSON_CreateObject();
    char name[256];

    url_name(url, name, sizeof name);
    cJSON_AddStringToObject(e, "source", url);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "type", "url");
    if (reason)
        entry_status(e, "rejected", reason);
    else
        entry_status(e, "pending", NULL);
    return e;
}

/* "~/x" -> "$HOME/x". */
static void expand_home(const char *in, char *out, size_t n)
{
    const char *home = getenv("HOME");

    if (strncmp(in, "~/", 2) == 0 && home && home[0])
        snprintf(out, n, "%s%s", home, in + 1);
    else
        snprintf(out, n, "%s", in);
}

/* Check every input; nothing is sent here. */
static up_arg *up_check(tool_call *call, const cJSON *files,
                        const cJSON *urls, size_t *accepted,
                        long long *bytes)
{
    const nemo_skill *skill = call->env->skill;
    long long max = skill && skill->max_upload_bytes > 0
                        ? skill->max_upload_bytes : 0;
    size_t n = (size_t)cJSON_GetArraySize(files) +
               (size_t)cJSON_GetArraySize(urls), k = 0;
    up_arg *a = calloc(1, sizeof *a);
    const cJSON *it;

    if (!a || !(a->items = calloc(n ? n : 1, sizeof *a->items)) ||
        !(a->entries = cJSON_CreateArray())) {
        up_arg_free(a);
        return NULL;
    }
    a->n = n;
    a->state_applied = -1;
    cJSON_ArrayForEach(it, files) {
        up_item *u = &a->items[k++];
        const char *src = cJSON_GetStringValue(it);
        char path[4096];

        u->info.fd = -1;
        expand_home(src ? src : "", path, sizeof path);
        u->accepted = src && filecheck_file(path, max, &u->info) == 0;
        if (!src)
            snprintf(u->info.reason, sizeof u->info.reason,
                     "not a file path");
        u->entry = entry_file(src ? src : "", &u->info, u->accepted);
        cJSON_AddItemToArray(a->entries, u->entry);
        if (u->accepted) {
            (*accepted)++;
            *bytes += u->info.bytes;
        }
    }
    cJSON_ArrayForEach(it, urls) {
        up_item *u = &a->items[k++];
        const char *src = cJSON_GetStringValue(it);
        char reason[512] = "not a URL";

        u->is_url = 1;
        u->accepted = src && filecheck_url(src, reason, sizeof reason) == 0;
        u->entry = entry_url(src ? src : "", u->accepted ? NULL : reason);
        cJSON_AddItemToArray(a->entries, u->entry);
        if (u->accepted)
            (*accepted)++;
    }
    return a;
}

/* ---- what the backend said ---- */

/* The answer's facts about one file on its entry: the backend's type,
 * URL, duration and size when given. Ids are copied raw as before. */
static void entry_answer(up_arg *a, cJSON *e, const cJSON *data, int idx)
{
    api_upload_answer ans;
    const api_upload_item *it;
    nemo_err err;

    tool_upload_copy_ids(tool_upload_item(data, idx), e);
    err_clear(&err);
    if (upload_answer_parse(data, &ans, &err) != 0) {
        LOG_WARN("upload", "upload answer: %s", err.message);
        return;
    }
    if (ans.state_applied >= 0)
        a->state_applied = a->state_applied == 0 ? 0 : ans.state_applied;
    if (idx >= 0 && (size_t)idx < ans.n) {
        it = &ans.items[idx];
        if (it->type[0])
            entry_set_str(e, "file_type", it->type);
        if (it->url[0])
            entry_set_str(e, "url", it->url);
        if (it->duration_ms >= 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(e, "duration");
            cJSON_AddNumberToObject(e, "duration",
                                    (double)it->duration_ms / 1000.0);
        }
        if (it->width > 0 && it->height > 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(e, "width");
            cJSON_DeleteItemFromObjectCaseSensitive(e, "height");
            cJSON_AddNumberToObject(e, "width", (double)it->width);
            cJSON_AddNumberToObject(e, "height", (double)it->height);
        }
    }
    upload_answer_free(&ans);
}

/* ---- sending ---- */

/* Per-file byte progress from the backend client, turned into overall
 * progress with the file's name. */
typedef struct up_prog {
    const nemo_progress *sink;
    long long base, size, total;
    const char *name;
    size_t k, n;
} up_prog;

static void up_prog_report(void *ctx, double f, const char *msg)
{
    up_prog *u = ctx;
    double overall = -1;

    (void)msg;
    if (f >= 0 && u->total > 0)
        overall = ((double)u->base + f * (double)u->size) / (double)u->total;
    if (f >= 0)
        progress_report(u->sink, overall, "uploading %s (%zu of %zu) %.0f%%",
                        u->name, u->k, u->n, f * 100.0);
    else
        progress_report(u->sink, overall, "uploading %s (%zu of %zu)",
                        u->name, u->k, u->n);
}

/* A backend refusal of the file itself is a rejection; anything else a
 * failure. */
static void entry_error(cJSON *e, const nemo_err *err)
{
    char *why = tool_err_text(err);
    int rejected = err->kind == NEMO_E_FILE_TYPE ||
                   err->kind == NEMO_E_FILE_SIZE;

    entry_status(e, rejected ? "rejected" : "failed",
                 why ? why : "upload failed");
    free(why);
}

static void send_file(up_arg *a, up_item *u, api_ctl *ctl, up_prog *up)
{
    const nemo_progress *outer = ctl->progress;
    nemo_progress wrap = { up_prog_report, up };
    api_upload_src src;
    cJSON *data = NULL;
    nemo_err err;

    err_clear(&err);
    memset(&src, 0, sizeof src);
    src.fd = u->info.fd;
    src.bytes = u->info.bytes;
    src.mtime_ns = u->info.mtime_ns;
    src.filename = u->info.name;
    src.content_type = u->info.content_type;
    up->name = u->info.name;
    up->size = u->info.bytes;
    up_prog_report(up, -1, "");
    ctl->progress = &wrap;
    if (api_upload_file(a->api, ctl, a->session, &src, &data, &err) == 0) {
        entry_status(u->entry, "uploaded", NULL);
        entry_answer(a, u->entry, data, 0);
    } else {
        entry_error(u->entry, &err);
    }
    ctl->progress = outer;
    filecheck_close(&u->info);
    cJSON_Delete(data);
}

static void send_urls(up_arg *a, api_ctl *ctl)
{
    const char **urls = calloc(a->n ? a->n : 1, sizeof *urls);
    cJSON *data = NULL;
    nemo_err err;
    size_t i, n = 0;
    int k = 0;

    if (!urls)
        return;
    for (i = 0; i < a->n; i++)
        if (a->items[i].is_url && a->items[i].accepted)
            urls[n++] = json_str(a->items[i].entry, "source");
    err_clear(&err);
    if (n && !cancel_requested(ctl->cancel)) {
        progress_report(ctl->progress, -1, "sending %zu link%s", n,
                        n == 1 ? "" : "s");
        if (api_upload_urls(a->api, ctl, a->session, urls, n, &data,
                            &err) != 0) {
            for (i = 0; i < a->n; i++)
                if (a->items[i].is_url && a->items[i].accepted)
                    entry_error(a->items[i].entry, &err);
        } else {
            for (i = 0; i < a->n; i++) {
                if (!a->items[i].is_url || !a->items[i].accepted)
                    continue;
                entry_status(a->items[i].entry, "uploaded", NULL);
                entry_answer(a, a->items[i].entry, data, k++);
            }
        }
    }
    cJSON_Delete(data);
    free(urls);
}

static void adopt_session(up_arg *a, api_ctl *ctl, char *old, size_t on)
{
    if (!ctl->session_reset || !ctl->new_session[0] ||
        strcmp(a->session, ctl->new_session) == 0)
        return;
    if (!old[0])
        snprintf(old, on, "%s", a->session);
    free(a->session);
    a->session = strdup(ctl->new_session);
}

static void mark_left(up_arg *a, const char *reason)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        const char *s = json_str(a->items[i].entry, "status");
        if (s && strcmp(s, "pending") == 0)
            entry_status(a->items[i].entry, "failed", reason);
    }
}

static void count(const cJSON *entries, int *up, int *rej, int *fail)
{
    const cJSON *e;

    *up = *rej = *fail = 0;
    cJSON_ArrayForEach(e, entries) {
        const char *s = json_str(e, "status");
        if (!s)
            continue;
        if (strcmp(s, "uploaded") == 0)
            (*up)++;
        else if (strcmp(s, "rejected") == 0)
            (*rej)++;
        else
            (*fail)++;
    }
}

/* What the backend reported about an uploaded file, for the text. */
static void entry_facts_text(const cJSON *e, nemo_buf *text)
{
    const char *ftype = json_str(e, "file_type");
    const char *url = json_str(e, "url");
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(e, "duration");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "width");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "height");
    const char *sep = " (";

    if (ftype) {
        buf_printf(text, "%sbackend type %s", sep, ftype);
        sep = ", ";
    }
    if (cJSON_IsNumber(dur)) {
        buf_printf(text, "%s%.1f s", sep, dur->valuedouble);
        sep = ", ";
    }
    if (cJSON_IsNumber(w) && cJSON_IsNumber(h)) {
        buf_printf(text, "%s%.0fx%.0f", sep, w->valuedouble, h->valuedouble);
        sep = ", ";
    }
    if (sep[0] == ',')
        buf_puts(text, ")");
    if (url)
        buf_printf(text, " at %s", url);
}

static void entries_text(const cJSON *entries, nemo_buf *text)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, entries) {
        const char *name = json_str(e, "name");
        const char *status = json_str(e, "status");
        const char *reason = json_str(e, "reason");
        const char *type = json_str(e, "type");
        const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(e, "bytes");
        long long nbytes;

        buf_printf(text, "\n- %s", name && name[0] ? name : "?");
        if (num_ll(bytes, 0, LLONG_MAX, &nbytes) == 0 && status &&
            strcmp(status, "uploaded") == 0) {
            char size[32];
            tool_fmt_bytes(nbytes, size, sizeof size);
            buf_printf(text, " (%s, %s)", size, type ? type : "");
        }
        buf_printf(text, ": %s", status ? status : "?");
        if (reason)
            buf_printf(text, " - %s", reason);
        entry_facts_text(e, text);
    }
}

/* The structured result and its text, from the entries. Takes entries. */
static void up_result(const char *sid, const char *old_sid, cJSON *entries,
                      int state_applied, nemo_result *out)
{
    cJSON *st = cJSON_CreateObject();
    nemo_buf text = NEMO_BUF_INIT;
    int up, rej, fail;

    count(entries, &up, &rej, &fail);
    if (sid)
        cJSON_AddStringToObject(st, "session", sid);
    cJSON_AddNumberToObject(st, "uploaded", up);
    cJSON_AddNumberToObject(st, "rejected", rej);
    cJSON_AddNumberToObject(st, "failed", fail);
    cJSON_AddItemToObject(st, "files", entries);
    if (state_applied >= 0)
        cJSON_AddBoolToObject(st, "session_state_applied", state_applied);
    if (up == 0)
        buf_puts(&text, "Nothing was uploaded:");
    else
        buf_printf(&text, "Uploaded %d of %d to session %s:", up,
                   cJSON_GetArraySize(entries), sid ? sid : "");
    entries_text(entries, &text);
    if (state_applied == 1)
        buf_puts(&text, "\nThe backend added the media to the session's "
                        "state.");
    else if (state_applied == 0)
        buf_puts(&text, "\nThe backend took the media but did not add it "
                        "to the session's state yet; call `state` to "
                        "check before editing with it.");
    if (rej)
        buf_printf(&text, "\nAccepted types: %s.", filecheck_accepted_list());
    if (old_sid && old_sid[0])
        tool_session_reset_note(old_sid, sid, st, &text);
    result_free(out);
    out->structured = st;
    out->text = buf_detach(&text);
}

/* Send every accepted input; j (may be NULL) journals what was sent. */
static void up_send(up_arg *a, api_ctl *ctl, nemo_job *j, long long total,
                    size_t accepted, nemo_result *out)
{
    char old_sid[API_SESSION_MAX] = "";
    up_prog up;
    size_t i;

    memset(&up, 0, sizeof up);
    up.sink = ctl->progress;
    up.total = total;
    up.n = accepted;
    for (i = 0; i < a->n; i++) {
        up_item *u = &a->items[i];

        if (u->is_url || !u->accepted)
            continue;
        if (cancel_requested(ctl->cancel))
            break;
        up.k++;
        send_file(a, u, ctl, &up);
        up.base += u->info.bytes;
        adopt_session(a, ctl, old_sid, sizeof old_sid);
        if (j)
            job_record_set(j, "entries", cJSON_Duplicate(a->entries, 1));
    }
    send_urls(a, ctl);
    adopt_session(a, ctl, old_sid, sizeof old_sid);
    mark_left(a, "cancelled before it was sent");
    up_result(a->session, old_sid, a->entries, a->state_applied, out);
    a->entries = NULL;
    if (old_sid[0])
        event_session_changed(a->session);
    if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
            out->structured, "uploaded")) > 0)
        event_timeline_changed(a->session);
}

typedef struct up_job_arg {
    up_arg *a;
    long long total;
    size_t accepted;
} up_job_arg;

static void up_job_arg_free(void *p)
{
    up_job_arg *ja = p;

    if (ja) {
        up_arg_free(ja->a);
        free(ja);
    }
}

static void up_job(nemo_job *j, void *argp, nemo_result *out)
{
    up_job_arg *ja = argp;
    api_ctl ctl;

    tool_ctl_init(&ctl, job_cancel_token(j), job_progress(j));
    job_set_cancel_note(j, UPLOAD_CANCEL_NOTE);
    up_send(ja->a, &ctl, j, ja->total, ja->accepted, out);
}

/* After a restart: an upload cannot be resumed mid-stream, so report what
 * was sent and what must be sent again. */
int tool_upload_resume(const cJSON *record, job_fn *fn, void **arg,
                       void (**arg_free)(void *), nemo_result *out)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(record, "resume");
    const char *sid = json_str(res, "session");
    cJSON *entries = cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(res, "entries"), 1);
    cJSON *e;

    (void)fn;
    (void)arg;
    (void)arg_free;
    if (!cJSON_IsArray(entries)) {
        cJSON_Delete(entries);
        entries = cJSON_CreateArray();
    }
    cJSON_ArrayForEach(e, entries) {
        const char *s = json_str(e, "status");
        if (s && strcmp(s, "pending") == 0)
            entry_status(e, "failed", "interrupted: the server process "
                         "stopped before this was sent; upload it again");
    }
    up_result(sid, NULL, entries, -1, out);
    return -1;
}

static int upload_run(tool_call *call, tool_output *out)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(call->args,
                                                          "files");
    const cJSON *urls = cJSON_GetObjectItemCaseSensitive(call->args, "urls");
    char sid[API_SESSION_MAX], errbuf[512] = "";
    size_t accepted = 0;
    long long total = 0;
    up_job_arg *ja;
    api_ctl ctl;
    job_spec spec;
    nemo_job *j;
    up_arg *a;
    int existed = 0;

    if (cJSON_GetArraySize(files) + cJSON_GetArraySize(urls) == 0) {
        tool_fail_msg(out, "Give local file paths in `files` "
                      "or http(s) links in `urls`.");
        return 0;
    }
    a = up_check(call, files, urls, &accepted, &total);
    if (!a) {
        tool_fail_msg(out, "Out of memory.");
        return 0;
    }
    /* Nothing acceptable: the backend is not contacted at all. */
    if (accepted == 0) {
        up_result(NULL, NULL, a->entries, -1, &out->result);
        a->entries = NULL;
        up_arg_free(a);
        return 0;
    }
    tool_ctl_init(&ctl, call->cancel, call->progress);
    if (tool_session(call, &ctl, NULL, sid, sizeof sid, out) != 0 ||
        !(a->session = strdup(sid))) {
        up_arg_free(a);
        return 0;
    }
    a->api = call->env->api;
    if (!call->task_mode || total <= UPLOAD_JOB_BYTES) {
        up_send(a, &ctl, NULL, total, accepted, &out->result);
        up_arg_free(a);
        return 0;
    }
    ja = calloc(1, sizeof *ja);
    if (!ja) {
        up_arg_free(a);
        tool_fail_msg(out, "Out of memory.");
        return 0;
    }
    ja->a = a;
    ja->total = total;
    ja->accepted = accepted;
    memset(&spec, 0, sizeof spec);
    spec.tool = "upload";
    spec.session = sid;
    spec.resume = cJSON_CreateObject();
    cJSON_AddStringToObject(spec.resume, "session", sid);
    cJSON_AddItemToObject(spec.resume, "entries",
                          cJSON_Duplicate(a->entries, 1));
    j = job_start(call->env->jobs, &spec, up_job, ja, up_job_arg_free,
                  &existed, errbuf, sizeof errbuf);
    if (!j) {
        tool_fail_msg(out, "Could not start the upload: %s",
                      errbuf[0] ? errbuf : "unknown error");
        return 0;
    }
    job_set_cancel_note(j, UPLOAD_CANCEL_NOTE);
    tool_job_handoff(j, NULL, out);
    job_unref(j);
    return 0;
}

const tool_def tool_upload_def = { "upload", upload_run, 1 };

const char *tool_upload_types(void)
{
    return filecheck_accepted_list();
}
