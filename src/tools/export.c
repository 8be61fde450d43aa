/* export.c - the `export` tool: render the timeline into an MP4 and,
 * optionally, download it.
 *
 * The render id is chosen here and journalled before the start request is
 * sent, so a process that dies mid-render can be replaced by one that polls
 * the same render (never a second one) and still downloads the file. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/json.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/event.h"
#include "nemo/num.h"
#include "tools_internal.h"

#define RENDER_POLL_DEFAULT_MS 30000
/* A render that has not finished after this long (NEMO_RENDER_MAX_MS) is
 * reported as failed. The seeds speak of 30-90 seconds and the skill gives
 * up after 10 polls (5 minutes); here the wait runs in a job the model
 * collects later, so a slow render is waited for much longer rather than
 * lost. */
#define RENDER_MAX_MS (2LL * 60 * 60 * 1000)
/* Consecutive status reads that may fail before the job gives up. */
#define RENDER_MAX_FAILURES 5

/* What cancelling an export cannot stop; set as soon as the job exists. */
#define EXPORT_CANCEL_NOTE "A render already started keeps running on the " \
                           "NemoVideo servers (it cannot be stopped from " \
                           "here); nothing will be downloaded."

typedef struct export_arg {
    nemo_api *api;
    char *session;
    char *render_id;     /* the id sent (a retry sends a new one) */
    char *poll_id;       /* the id the start answer named; NULL: render_id */
    cJSON *draft;        /* NULL when resuming */
    char *format;
    char *quality;
    char *dest;          /* NULL: no download */
    char *phase;         /* resumed: how far the dead process got */
    char *file_sha;      /* resumed: the finished download's SHA-256 */
    char *temp;          /* resumed: the dead process's temp file */
    long long file_bytes; /* ... and size, recorded before its rename */
    nemo_job *job;       /* while running: where to record the file */
    int overwrite;
    int generate_shape;
    int resumed;
    int proxy_url;       /* the URL is the API's own download fallback */
} export_arg;

static void export_arg_free(void *p)
{
    export_arg *a = p;

    if (!a)
        return;
    free(a->session);
    free(a->render_id);
    free(a->poll_id);
    cJSON_Delete(a->draft);
    free(a->format);
    free(a->quality);
    free(a->dest);
    free(a->phase);
    free(a->file_sha);
    free(a->temp);
    free(a);
}

/* ---- pure helpers ---- */

static const struct {
    const char *word;
    int phase;
} render_words[] = {
    { "completed", 1 }, { "complete", 1 }, { "done", 1 },
    { "success", 1 },   { "succeeded", 1 }, { "finished", 1 },
    { "failed", -1 },   { "failure", -1 },  { "error", -1 },
    { "errored", -1 },  { "cancelled", -1 }, { "canceled", -1 },
    { "timeout", -1 },  { "expired", -1 },
};

int tool_render_phase(const char *status)
{
    size_t i;

    for (i = 0; status && i < sizeof render_words / sizeof render_words[0];
         i++)
        if (strcasecmp(status, render_words[i].word) == 0)
            return render_words[i].phase;
    return 0;
}

/* The rules live in fspolicy (paths) and api (overwrite only an MP4). */
int tool_download_target(const char *download_to, const char *name,
                         int overwrite, char *out, size_t n, char *msg,
                         size_t mn)
{
    msg[0] = '\0';
    return api_download_target(download_to, name, overwrite, out, n, msg,
                               mn);
}

/* "render_<ms>", unique within the process even for two exports started in
 * the same millisecond. */
static pthread_mutex_t render_id_mu = PTHREAD_MUTEX_INITIALIZER;
static long long render_id_last;

static void next_render_id(char *out, size_t n)
{
    long long ms = clock_wall_ms();

    pthread_mutex_lock(&render_id_mu);
    if (ms <= render_id_last)
        ms = render_id_last + 1;
    render_id_last = ms;
    pthread_mutex_unlock(&render_id_mu);
    snprintf(out, n, "render_%lld", ms);
}

/* ---- results ---- */

static cJSON *shape_new(const export_arg *a, const char *status,
                        const char *text)
{
    cJSON *st;

    if (a->generate_shape) {
        st = tool_generate_shape(status, "export", text);
    } else {
        st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "status", status);
    }
    cJSON_AddStringToObject(st, "session", a->session);
    cJSON_AddStringToObject(st, "render_id", a->render_id);
    return st;
}

static void set_result(nemo_result *out, cJSON *st, const char *text)
{
    result_free(out);
    out->structured = st;
    out->text = strdup(text);
}

static void export_done(nemo_job *j, const export_arg *a, api_ctl *ctl,
                        const char *url, long long bytes, nemo_result *out)
{
    nemo_buf text = NEMO_BUF_INIT;
    char size[32], claim[1024];
    int has_claim, claim_rc;
    cJSON *st;

    /* The documented delivery: the video and the project's claim link. */
    claim_rc = tool_claim_url(a->api, ctl->cancel, a->session, claim,
                              sizeof claim);
    has_claim = claim_rc == 0;
    buf_printf(&text, "Your video is ready: %s", url);
    if (a->dest) {
        tool_fmt_bytes(bytes, size, sizeof size);
        buf_printf(&text, "\nSaved to %s (%s).", a->dest, size);
    } else if (a->proxy_url) {
        buf_puts(&text, "\nThe backend gave no public link; this one is "
                        "served by the NemoVideo API and needs its sign-in, "
                        "so call `export` with `download_to` to save the "
                        "file here.");
    }
    if (has_claim)
        tool_claim_text(&text, claim);
    else
        tool_claim_missing_text(&text, claim_rc);
    st = shape_new(a, "completed", buf_str(&text));
    cJSON_AddStringToObject(st, "job", job_id(j));
    cJSON_AddStringToObject(st, "url", url);
    if (has_claim)
        cJSON_AddStringToObject(st, "claim_url", claim);
    if (a->dest && !a->generate_shape) {
        cJSON_AddStringToObject(st, "path", a->dest);
        cJSON_AddNumberToObject(st, "bytes", (double)bytes);
    }
    set_result(out, st, buf_str(&text));
    buf_free(&text);
}

static void export_interrupted(nemo_job *j, const export_arg *a,
                               const char *why, nemo_result *out)
{
    nemo_buf text = NEMO_BUF_INIT;
    cJSON *st, *actions;

    buf_printf(&text, "The export was interrupted: %s", why);
    st = shape_new(a, "interrupted", buf_str(&text));
    if (j)
        cJSON_AddStringToObject(st, "job", job_id(j));
    actions = cJSON_GetObjectItemCaseSensitive(st, "actions");
    if (!actions)
        actions = cJSON_AddArrayToObject(st, "actions");
    cJSON_AddItemToArray(actions, tool_action("export", NULL, "render the "
                                              "video again"));
    tool_actions_text(actions, &text);
    set_result(out, st, buf_str(&text));
    buf_free(&text);
    if (j)
        job_set_outcome(j, JOB_INTERRUPTED);
}

/* ---- the render job ---- */

/* The id the backend knows the render by. */
static const char *poll_id(const export_arg *a)
{
    return a->poll_id && a->poll_id[0] ? a->poll_id : a->render_id;
}

static int not_found(const nemo_err *err)
{
    return err->kind == NEMO_E_NOT_FOUND || err->http_status == 404;
}

/* Poll until the render finishes. 0 with url; -1 with err; -2 when a
 * resumed render turns out never to have been started. */
static int render_poll(nemo_job *j, export_arg *a, api_ctl *ctl,
                       char *url, size_t un, long long *size, nemo_err *err)
{
    long long poll_ms = clock_env_ms("NEMO_RENDER_POLL_MS",
                                     RENDER_POLL_DEFAULT_MS, 1, 600000);
    long long max_ms = clock_env_ms("NEMO_RENDER_MAX_MS", RENDER_MAX_MS, 1,
                                    24LL * 60 * 60 * 1000);
    long long deadline = clock_mono_ms() + max_ms;
    char waited[32];
    const nemo_progress *p = job_progress(j);
    int failures = 0;

    for (;;) {
        api_render_status rs;
        int phase;

        memset(&rs, 0, sizeof rs);
        if (api_render_status_get(a->api, ctl, poll_id(a), &rs, err)
            == 0) {
            failures = 0;
            phase = tool_render_phase(rs.status);
            if (phase > 0 && !rs.url[0]) {
                /* Documented fallback: the API serves the file itself. */
                a->proxy_url = 1;
                *size = rs.bytes;
                return api_render_download_url(a->api, poll_id(a), url, un,
                                               err);
            }
            if (phase > 0) {
                snprintf(url, un, "%s", rs.url);
                *size = rs.bytes;
                return 0;
            }
            if (phase < 0) {
                err_set(err, NEMO_E_BACKEND, "The render %s failed: %s",
                        a->render_id, rs.message[0] ? rs.message
                                                    : rs.status);
                return -1;
            }
            if (rs.progress >= 0)
                progress_report(p, rs.progress / 100.0, "rendering %.0f%%",
                                rs.progress);
            else if (strcmp(rs.status, "rendering") == 0)
                progress_report(p, -1, "rendering");
            else
                progress_report(p, -1, "rendering (%s)",
                                rs.status[0] ? rs.status : "queued");
        } else if (err->kind == NEMO_E_CANCELLED) {
            return -1;
        } else if (a->resumed && not_found(err) && a->phase &&
                   strcmp(a->phase, "starting") == 0) {
            return -2;
        } else if (++failures >= RENDER_MAX_FAILURES) {
            return -1;
        } else {
            LOG_WARN("export", "render %s status: %s (try %d)",
                     a->render_id, err->message, failures);
        }
        if (clock_mono_ms() > deadline) {
            tool_fmt_duration(max_ms, waited, sizeof waited);
            err_set(err, NEMO_E_TIMEOUT, "The render %s has not finished "
                    "after %s, so this export gave up waiting "
                    "(NEMO_RENDER_MAX_MS). The NemoVideo servers may still "
                    "finish it; call `export` again later to render the "
                    "timeline anew.", a->render_id, waited);
            return -1;
        }
        if (cancel_sleep_ms(job_cancel_token(j), poll_ms)) {
            err_set(err, NEMO_E_CANCELLED, "The export was cancelled.");
            return -1;
        }
    }
}

/* A resumed job whose previous process was downloading when it died may
 * already have renamed the file into place. It claims the file at dest
 * only when it is the one that process wrote: the size and SHA-256
 * recorded just before the rename must match. Anything else at dest (a
 * file planted there, or the user's own) is left alone, and the download
 * below then refuses to replace it. */
static int already_downloaded(const export_arg *a, long long *bytes)
{
    if (!a->resumed || !a->phase || strcmp(a->phase, "downloading") != 0 ||
        !a->file_sha || !api_download_is_ours(a->dest, a->file_bytes,
                                              a->file_sha))
        return 0;
    *bytes = a->file_bytes;
    return 1;
}

/* Journalled as soon as it exists, so a resumed job can remove it. */
static void record_temp(void *ctx, const char *tmp)
{
    export_arg *a = ctx;

    job_record_set(a->job, "temp", cJSON_CreateString(tmp));
}

/* Journalled before the rename, so a resumed job can recognise it. */
static void record_file(void *ctx, long long bytes, const char *sha256)
{
    export_arg *a = ctx;
    cJSON *f = cJSON_CreateObject();

    cJSON_AddNumberToObject(f, "bytes", (double)bytes);
    cJSON_AddStringToObject(f, "sha256", sha256);
    job_record_set(a->job, "file", f);
}

static void download_failed(const export_arg *a, const char *url,
                            const nemo_err *err, nemo_result *out)
{
    char *why = tool_err_text(err);

    result_error(out, NULL, "The render finished (%s), but saving it to %s "
                 "failed: %s Nothing was left at %s; the link still works "
                 "for a while, or call `export` again.", url, a->dest,
                 why ? why : "", a->dest);
    free(why);
}

/* Start failures worth one more try with a new render id (the skill: "on
 * failure -> new id, retry once"). Refusals that would only repeat (plan,
 * credits, a bad request, a cancel) are not retried. */
static const nemo_err_kind start_retry_kinds[] = {
    NEMO_E_NETWORK, NEMO_E_SERVER, NEMO_E_PROTOCOL, NEMO_E_BACKEND,
    NEMO_E_TIMEOUT, NEMO_E_NOT_FOUND,
};

static int start_retryable(const nemo_err *err)
{
    size_t i;

    for (i = 0; i < sizeof start_retry_kinds / sizeof start_retry_kinds[0];
         i++)
        if (err->kind == start_retry_kinds[i])
            return 1;
    return 0;
}

/* Replace *slot with a copy of id and journal it under key. */
static void set_id(nemo_job *j, char **slot, const char *key, const char *id)
{
    char *copy = strdup(id);

    if (!copy)
        return;
    free(*slot);
    *slot = copy;
    job_record_set(j, key, cJSON_CreateString(id));
}

/* Start the render: once, and once more with a new id when the first start
 * failed. The id to poll is the one the answer names, else the one sent.
 * Every id is journalled before its request goes out. */
static int render_start(nemo_job *j, export_arg *a, api_ctl *ctl,
                        nemo_err *err)
{
    api_render_start_info info;
    char rid[64];
    int attempt;

    job_record_set(j, "phase", cJSON_CreateString("starting"));
    progress_report(job_progress(j), 0, "starting the render");
    for (attempt = 0; attempt < 2; attempt++) {
        if (attempt > 0) {
            LOG_WARN("export", "render %s did not start (%s); retrying once "
                     "with a new id", a->render_id, err->message);
            next_render_id(rid, sizeof rid);
            set_id(j, &a->render_id, "render_id", rid);
        }
        if (api_render_start(a->api, ctl, a->session, a->render_id, a->draft,
                             a->format, a->quality, &info, err) == 0)
            break;
        if (cancel_requested(ctl->cancel) || !start_retryable(err) ||
            attempt > 0)
            return -1;
    }
    if (info.render_id[0] && strcmp(info.render_id, a->render_id) != 0)
        set_id(j, &a->poll_id, "poll_id", info.render_id);
    job_record_set(j, "phase", cJSON_CreateString("rendering"));
    return 0;
}

/* A render refused for the account (a plan without export, or a token
 * without the render scope, as anonymous ones may be): the claim link is
 * then the user's way to the project, so the error offers it. */
static void start_failed(export_arg *a, api_ctl *ctl, const nemo_err *err,
                         nemo_result *out)
{
    nemo_buf note = NEMO_BUF_INIT;
    char claim[1024];

    if ((err->kind == NEMO_E_PLAN || err->http_status == 403) &&
        tool_claim_url(a->api, ctl->cancel, a->session, claim,
                       sizeof claim) == 0)
        tool_claim_text(&note, claim);
    tool_result_err_note(out, err, note.len ? buf_str(&note) : NULL);
    buf_free(&note);
}

static void export_job(nemo_job *j, void *argp, nemo_result *out)
{
    export_arg *a = argp;
    const nemo_progress *p = job_progress(j);
    char url[2048];
    long long bytes = 0, size = -1;
    api_download_req dl;
    api_ctl ctl;
    nemo_err err;
    int rc;

    tool_ctl_init(&ctl, job_cancel_token(j), p);
    err_clear(&err);
    job_set_cancel_note(j, EXPORT_CANCEL_NOTE);
    if (!a->resumed) {
        if (render_start(j, a, &ctl, &err) != 0) {
            start_failed(a, &ctl, &err, out);
            return;
        }
    }
    rc = render_poll(j, a, &ctl, url, sizeof url, &size, &err);
    if (rc == -2) {
        export_interrupted(j, a, "the server process restarted before the "
                           "render was started.", out);
        return;
    }
    if (rc != 0) {
        tool_result_err(out, &err);
        return;
    }
    job_record_set(j, "url", cJSON_CreateString(url));
    if (a->dest && !already_downloaded(a, &bytes)) {
        job_record_set(j, "phase", cJSON_CreateString("downloading"));
        progress_report(p, -1, "downloading to %s", a->dest);
        memset(&dl, 0, sizeof dl);
        dl.url = url;
        dl.dest = a->dest;
        dl.overwrite = a->overwrite;
        dl.expect_bytes = size;
        dl.before_place = record_file;
        dl.on_temp = record_temp;
        dl.ctx = a;
        if (a->temp)
            api_download_drop_temp(a->dest, a->temp);
        a->job = j;
        if (api_download(a->api, &ctl, &dl, &bytes, &err) != 0) {
            download_failed(a, url, &err, out);
            return;
        }
    }
    job_record_set(j, "phase", cJSON_CreateString("done"));
    export_done(j, a, &ctl, url, bytes, out);
    if (a->dest)
        event_video_saved(a->dest, bytes);
}

static char *dup_str(const cJSON *obj, const char *key)
{
    const char *v = json_str(obj, key);

    return v ? strdup(v) : NULL;
}

/* What the dead process recorded about its download: the temp file it
 * was writing, and the finished file's size and hash. */
static void resume_download_state(export_arg *a, const cJSON *res)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(res, "file");

    a->temp = dup_str(res, "temp");
    a->file_sha = dup_str(f, "sha256");
    a->file_bytes = num_ll_or(cJSON_GetObjectItemCaseSensitive(f, "bytes"),
                              0, 1LL << 50, -1);
}

/* A dest read back from the journal obeys the same rules as download_to
 * (the file may already be there: the download it made, checked later by
 * its hash). */
static int resume_dest_ok(export_arg *a, nemo_result *out)
{
    char path[PATH_MAX], why[PATH_MAX + 512], text[640];

    if (api_download_target(a->dest, NULL, 1, path, sizeof path, why,
                            sizeof why) == 0) {
        free(a->dest);
        a->dest = strdup(path);
        return a->dest ? 0 : -1;
    }
    snprintf(text, sizeof text, "the server process restarted, and the "
             "download path it had recorded is not allowed: %.500s", why);
    export_interrupted(NULL, a, text, out);
    return -1;
}

int tool_export_resume(const cJSON *record, job_fn *fn, void **arg,
                       void (**arg_free)(void *), nemo_result *out)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(record, "resume");
    export_arg *a = calloc(1, sizeof *a);

    if (!a)
        return -1;
    a->api = tool_resume_api();
    a->session = dup_str(res, "session");
    a->render_id = dup_str(res, "render_id");
    a->poll_id = dup_str(res, "poll_id");
    a->format = dup_str(res, "format");
    a->quality = dup_str(res, "quality");
    a->dest = dup_str(res, "dest");
    a->phase = dup_str(res, "phase");
    resume_download_state(a, res);
    a->overwrite = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        res, "overwrite"));
    a->generate_shape = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        res, "generate_shape"));
    a->resumed = 1;
    if (!a->session)
        a->session = strdup("");
    if (!a->render_id)
        a->render_id = strdup("");
    if (!a->api || !a->session || !a->render_id || !a->render_id[0]) {
        export_interrupted(NULL, a, "the server process restarted and the "
                           "render could not be identified.", out);
        goto fail;
    }
    if (!a->phase || strcmp(a->phase, "created") == 0) {
        export_interrupted(NULL, a, "the server process restarted before the "
                           "render was started.", out);
        goto fail;
    }
    if (a->dest && resume_dest_ok(a, out) != 0)
        goto fail;
    *fn = export_job;
    *arg = a;
    *arg_free = export_arg_free;
    return 0;
fail:
    export_arg_free(a);
    return -1;
}

/* ---- the tool ---- */

/* Read the draft to render; refuse an empty one. 0 with *draft (owned). */
static int export_draft(tool_call *call, api_ctl *ctl, char *sid, size_t n,
                        cJSON **draft, tool_output *out)
{
    cJSON *state = NULL;
    char old[API_SESSION_MAX];
    timeline tl;
    nemo_err err;
    int empty;

    err_clear(&err);
    snprintf(old, sizeof old, "%s", sid);
    if (tool_state_get(call->env->api, ctl, sid, &state, &err) != 0) {
        tool_fail_err(out, &err);
        return -1;
    }
    memset(&tl, 0, sizeof tl);
    timeline_from_draft(tool_state_draft(state), &tl);
    empty = timeline_is_empty(&tl);
    timeline_free(&tl);
    if (ctl->session_reset && ctl->new_session[0]) {
        snprintf(sid, n, "%s", ctl->new_session);
        tool_fail_msg(out, "Session %s no longer existed on "
                      "the server, so a new session %s was started. Its "
                      "timeline is new and empty, so there is nothing to "
                      "export: upload the media again and describe the "
                      "video with `generate` first.", old, sid);
        cJSON_Delete(state);
        return -1;
    }
    if (empty) {
        tool_fail_msg(out, "There is nothing to export yet: "
                      "the timeline of session %s is empty. Add media with "
                      "`upload` and create or edit the video with "
                      "`generate` first.", sid);
        cJSON_Delete(state);
        return -1;
    }
    *draft = cJSON_Duplicate(tool_state_draft(state), 1);
    cJSON_Delete(state);
    return *draft ? 0 : -1;
}

static cJSON *export_resume_data(const export_arg *a)
{
    cJSON *r = cJSON_CreateObject();

    cJSON_AddStringToObject(r, "session", a->session);
    cJSON_AddStringToObject(r, "render_id", a->render_id);
    cJSON_AddStringToObject(r, "format", a->format);
    cJSON_AddStringToObject(r, "quality", a->quality);
    if (a->dest)
        cJSON_AddStringToObject(r, "dest", a->dest);
    cJSON_AddBoolToObject(r, "overwrite", a->overwrite);
    cJSON_AddBoolToObject(r, "generate_shape", a->generate_shape);
    cJSON_AddStringToObject(r, "phase", "created");
    return r;
}

int tool_export_begin(tool_call *call, const tool_export_req *req,
                      tool_output *out)
{
    char rid[64], dest[PATH_MAX], msg[PATH_MAX + 256];
    char sid[API_SESSION_MAX], errbuf[512] = "";
    export_arg *a = NULL;
    cJSON *draft = NULL, *extra;
    api_ctl ctl;
    nemo_err err;
    job_spec spec;
    nemo_job *j;
    int existed = 0;

    next_render_id(rid, sizeof rid);
    /* The target is checked before anything is rendered, so the user hears
     * about an existing file now rather than minutes later. */
    if (req->download_to &&
        tool_download_target(req->download_to, rid, req->overwrite, dest,
                             sizeof dest, msg, sizeof msg) != 0) {
        tool_fail_msg(out, "%s", msg);
        return 0;
    }
    tool_ctl_init(&ctl, call->cancel, call->progress);
    err_clear(&err);
    if (api_session_resolve(call->env->api, &ctl, req->session, NULL, sid,
                            sizeof sid, &err) != 0) {
        tool_fail_err(out, &err);
        return 0;
    }
    if (export_draft(call, &ctl, sid, sizeof sid, &draft, out) != 0)
        return 0;
    a = calloc(1, sizeof *a);
    if (!a || !(a->session = strdup(sid)) || !(a->render_id = strdup(rid)) ||
        !(a->format = strdup(req->format ? req->format : "mp4")) ||
        !(a->quality = strdup(req->quality ? req->quality : "high")) ||
        (req->download_to && !(a->dest = strdup(dest)))) {
        export_arg_free(a);
        cJSON_Delete(draft);
        tool_fail_msg(out, "Out of memory.");
        return 0;
    }
    a->api = call->env->api;
    a->draft = draft;
    a->overwrite = req->overwrite;
    a->generate_shape = req->generate_shape;
    memset(&spec, 0, sizeof spec);
    spec.tool = "export";
    spec.session = sid;
    spec.resume = export_resume_data(a);
    j = job_start(call->env->jobs, &spec, export_job, a, export_arg_free,
                  &existed, errbuf, sizeof errbuf);
    if (!j) {
        tool_fail_msg(out, "Could not start the export: %s",
                      errbuf[0] ? errbuf : "unknown error");
        return 0;
    }
    job_set_cancel_note(j, EXPORT_CANCEL_NOTE);
    extra = cJSON_CreateObject();
    if (req->generate_shape)
        cJSON_AddStringToObject(extra, "route", "export");
    cJSON_AddStringToObject(extra, "session", sid);
    cJSON_AddStringToObject(extra, "render_id", rid);
    if (call->task_mode)
        tool_job_handoff(j, extra, out);
    else
        tool_job_report(j, tool_job_wait(call, j, !existed, req->wait_ms),
                        extra, out);
    cJSON_Delete(extra);
    job_unref(j);
    return 0;
}

static int export_once(tool_call *call, tool_output *out)
{
    tool_export_req req;

    memset(&req, 0, sizeof req);
    req.session = tool_arg_str(call->args, "session");
    req.quality = tool_arg_str(call->args, "quality");
    req.format = tool_arg_str(call->args, "format");
    req.download_to = tool_arg_str(call->args, "download_to");
    req.overwrite = tool_arg_bool(call->args, "overwrite", 0);
    req.wait_ms = tool_wait_ms(call->args);
    return tool_export_begin(call, &req, out);
}

/* A plan that blocks export: the person may register or upgrade through
 * the host and the export goes again once. */
static int export_run(tool_call *call, tool_output *out)
{
    return tool_with_link_retry(call, out, export_once);
}

const tool_def tool_export_def = { "export", export_run, 1 };
