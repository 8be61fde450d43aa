/* common.c - helpers every tool uses: arguments, results, errors written for
 * a person, the optional session argument, and reporting a job after a
 * bounded wait. */
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/json.h"
#include "nemo/event.h"
#include "nemo/log.h"
#include "nemo/num.h"
#include "tools_internal.h"

const char *tool_arg_str(const cJSON *args, const char *key)
{
    return json_str(args, key);
}

long long tool_arg_int(const cJSON *args, const char *key, long long def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);

    return num_ll_or(v, LLONG_MIN, LLONG_MAX, def);
}

int tool_arg_bool(const cJSON *args, const char *key, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);

    if (!cJSON_IsBool(v))
        return def;
    return cJSON_IsTrue(v);
}

void tool_ctl_init(api_ctl *ctl, nemo_cancel *cancel,
                   const nemo_progress *progress)
{
    memset(ctl, 0, sizeof *ctl);
    ctl->cancel = cancel;
    ctl->progress = progress;
}

void tool_ok(tool_output *out, cJSON *structured, const char *text)
{
    result_free(&out->result);
    out->result.structured = structured;
    out->result.text = strdup(text ? text : "");
    out->result.is_error = 0;
}

/* The tools' own messages already say what to do: no generic advice. */
void tool_fail_msg(tool_output *out, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    log_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    result_error(&out->result, NULL, "%s", msg);
    out->job_id[0] = '\0';
}

/* Registration link for an anonymous account out of credits: the link the
 * backend gave, with ?bind=<id> added when it is not there yet. */
static void credits_link(const nemo_err *err, nemo_buf *b)
{
    if (err->link[0]) {
        buf_printf(b, " Register (free) to keep going: %s", err->link);
        if (err->bind_id[0] && !strstr(err->link, "bind="))
            buf_printf(b, "%sbind=%s", strchr(err->link, '?') ? "&" : "?",
                       err->bind_id);
        buf_puts(b, " (registered accounts can top up their credits "
                    "instead).");
    } else if (err->bind_id[0]) {
        buf_printf(b, " Register (free) and bind this anonymous account "
                      "with ?bind=%s, or top up a registered account.",
                   err->bind_id);
    }
}

char *tool_err_text(const nemo_err *err)
{
    nemo_buf b = NEMO_BUF_INIT;
    const char *advice = err_advice(err->kind);
    char *s;

    if (err->message[0])
        buf_puts(&b, err->message);
    else
        buf_printf(&b, "The call failed (%s).", err_kind_name(err->kind));
    if (b.len && !strchr(".!?", b.data[b.len - 1]))
        buf_putc(&b, '.');
    /* An out-of-credits message that already carries the registration
     * link (or bind id) is complete. */
    if (err->kind == NEMO_E_CREDITS &&
        ((err->link[0] && strstr(buf_str(&b), err->link)) ||
         (err->bind_id[0] && strstr(buf_str(&b), err->bind_id))))
        advice = NULL;
    else if (err->kind == NEMO_E_CREDITS)
        credits_link(err, &b);
    if (advice && advice[0] && !strstr(buf_str(&b), advice))
        buf_printf(&b, " %s", advice);
    s = buf_detach(&b);
    if (s)
        log_redact(s, strlen(s) + 1);
    return s;
}

/* The link a person must open for this error (registration, upgrade),
 * or "": the backend's own, or for an out-of-credits anonymous account the
 * registration link the API layer builds on the web base
 * (api_register_url, filled into err->link by api_send). */
static const char *err_link(const nemo_err *err)
{
    if (err->kind != NEMO_E_CREDITS && err->kind != NEMO_E_PLAN)
        return "";
    return err->link;
}

void tool_result_err(nemo_result *r, const nemo_err *err)
{
    tool_result_err_note(r, err, NULL);
}

void tool_result_err_note(nemo_result *r, const nemo_err *err,
                          const char *note)
{
    char *text = tool_err_text(err);
    cJSON *st = NULL;

    /* Hosts never see the structured part of an error; it tells ask.c
     * which link to offer. */
    if (err_link(err)[0]) {
        st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "error", err_kind_name(err->kind));
        cJSON_AddStringToObject(st, "link", err_link(err));
    }
    result_error(r, st, "%s%s", text ? text : "The call failed.",
                 note ? note : "");
    free(text);
}

void tool_fail_err(tool_output *out, const nemo_err *err)
{
    tool_result_err(&out->result, err);
    out->job_id[0] = '\0';
}

tool_ask_status tool_ask_person(tool_call *call, const tool_ask *q,
                                cJSON **answers)
{
    *answers = NULL;
    if (!call->asker || !call->asker->ask)
        return TOOL_ASK_UNSUPPORTED;
    return call->asker->ask(call->asker->ctx, q, answers);
}

int tool_session(tool_call *call, api_ctl *ctl, const char *first_prompt,
                 char *sid, size_t n, tool_output *out)
{
    nemo_err err;

    err_clear(&err);
    if (api_session_resolve(call->env->api, ctl,
                            tool_arg_str(call->args, "session"),
                            first_prompt, sid, n, &err) != 0) {
        tool_fail_err(out, &err);
        return -1;
    }
    return 0;
}

void tool_session_reset_note(const char *old_sid, const char *new_sid,
                             cJSON *st, nemo_buf *text)
{
    if (text)
        buf_printf(text, "\n\nNote: session %s no longer existed on the "
                         "server, so a new session %s was started. Its "
                         "timeline is new and empty; upload the media "
                         "again if the request needs it.",
                   old_sid, new_sid);
    if (st) {
        cJSON_DeleteItemFromObjectCaseSensitive(st, "session");
        cJSON_AddStringToObject(st, "session", new_sid);
        cJSON_DeleteItemFromObjectCaseSensitive(st, "session_reset");
        cJSON_AddBoolToObject(st, "session_reset", 1);
    }
}

void tool_session_note(const api_ctl *ctl, char *sid, size_t n,
                       cJSON *st, nemo_buf *text)
{
    if (!ctl->session_reset || !ctl->new_session[0])
        return;
    tool_session_reset_note(sid, ctl->new_session, st, text);
    snprintf(sid, n, "%s", ctl->new_session);
}

int tool_snapshot_read(tool_call *call, tool_snapshot *snap,
                       tool_output *out)
{
    nemo_err err;

    memset(snap, 0, sizeof *snap);
    tool_ctl_init(&snap->ctl, call->cancel, call->progress);
    err_clear(&err);
    if (tool_session(call, &snap->ctl, NULL, snap->sid, sizeof snap->sid,
                     out) != 0)
        return -1;
    if (tool_state_get(call->env->api, &snap->ctl, snap->sid, &snap->state,
                       &err) != 0) {
        tool_fail_err(out, &err);
        return -1;
    }
    if (timeline_from_draft(tool_state_draft(snap->state), &snap->tl) != 0 ||
        !(snap->summary = timeline_summary(&snap->tl))) {
        tool_fail_msg(out, "The timeline of session %s could not be read.",
                      snap->sid);
        tool_snapshot_free(snap);
        return -1;
    }
    return 0;
}

void tool_snapshot_free(tool_snapshot *snap)
{
    free(snap->summary);
    snap->summary = NULL;
    cJSON_Delete(snap->state);
    snap->state = NULL;
    timeline_free(&snap->tl);
}

int tool_state_get(nemo_api *api, api_ctl *ctl, const char *sid,
                   cJSON **state, nemo_err *err)
{
    api_session fresh;
    char lang[16];

    if (api_state_get(api, ctl, sid, state, err) == 0)
        return 0;
    if (err->kind != NEMO_E_SESSION)
        return -1;
    /* The seeds: 1002 -> create a new session. Its timeline is empty; the
     * caller tells the user (tool_session_note). */
    LOG_WARN("tools", "session %s is gone on the backend; starting a new "
             "one", sid);
    api_detect_language(NULL, lang, sizeof lang);
    err_clear(err);
    if (api_session_new(api, ctl, lang, &fresh, err) != 0 ||
        api_session_set_current(api, &fresh, err) != 0)
        return -1;
    ctl->session_reset = 1;
    snprintf(ctl->new_session, sizeof ctl->new_session, "%s", fresh.id);
    event_session_changed(fresh.id);
    return api_state_get(api, ctl, fresh.id, state, err);
}

void tool_fmt_duration(long long ms, char *buf, size_t n)
{
    long long s = ms < 0 ? 0 : ms / 1000;

    if (s < 60)
        snprintf(buf, n, "%llds", s);
    else if (s < 3600)
        snprintf(buf, n, "%lldm%02llds", s / 60, s % 60);
    else
        snprintf(buf, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
}

void tool_fmt_bytes(long long bytes, char *buf, size_t n)
{
    static const char *const unit[] = { "KB", "MB", "GB", "TB" };
    double v = (double)bytes;
    int i = -1;

    if (bytes < 1024) {
        snprintf(buf, n, "%lld byte%s", bytes, bytes == 1 ? "" : "s");
        return;
    }
    while (v >= 1024.0 && i < 3) {
        v /= 1024.0;
        i++;
    }
    snprintf(buf, n, i >= 2 ? "%.2f %s" : "%.1f %s", v, unit[i]);
}

const cJSON *tool_state_draft(const cJSON *state)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(state, "draft");

    return cJSON_IsObject(d) ? d : NULL;
}

/* generated_media may be an array, a single object or missing: always give
 * the caller an array. */
cJSON *tool_state_media(const cJSON *state)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(state,
                                                      "generated_media");
    cJSON *arr;

    if (cJSON_IsArray(m))
        return cJSON_Duplicate(m, 1);
    arr = cJSON_CreateArray();
    if (arr && cJSON_IsObject(m))
        cJSON_AddItemToArray(arr, cJSON_Duplicate(m, 1));
    return arr;
}

long long tool_wait_ms(const cJSON *args)
{
    long long s = tool_arg_int(args, "wait_seconds", TOOL_WAIT_DEFAULT_S);

    if (s < 0)
        s = 0;
    if (s > 900)
        s = 900;
    return s * 1000;
}

void tool_json_merge(cJSON *dst, const cJSON *src)
{
    const cJSON *it;

    if (!cJSON_IsObject(dst) || !cJSON_IsObject(src))
        return;
    cJSON_ArrayForEach(it, src) {
        cJSON_DeleteItemFromObjectCaseSensitive(dst, it->string);
        cJSON_AddItemToObject(dst, it->string, cJSON_Duplicate(it, 1));
    }
}

char *tool_bullets(const cJSON *array)
{
    nemo_buf b = NEMO_BUF_INIT;
    const cJSON *it;

    cJSON_ArrayForEach(it, array) {
        if (!cJSON_IsString(it))
            continue;
        buf_printf(&b, "%s- %s", b.len ? "\n" : "", it->valuestring);
    }
    return buf_detach(&b);
}

cJSON *tool_action(const char *tool, cJSON *arguments, const char *why)
{
    cJSON *a = cJSON_CreateObject();

    cJSON_AddStringToObject(a, "tool", tool);
    cJSON_AddItemToObject(a, "arguments",
                          arguments ? arguments : cJSON_CreateObject());
    cJSON_AddStringToObject(a, "why", why);
    return a;
}

void tool_actions_text(const cJSON *actions, nemo_buf *text)
{
    const cJSON *a;

    if (cJSON_GetArraySize(actions) == 0)
        return;
    buf_puts(text, "\n\nNext steps:");
    cJSON_ArrayForEach(a, actions) {
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(a, "arguments");
        char *json = cJSON_GetArraySize(args) > 0
                         ? cJSON_PrintUnformatted(args) : NULL;
        const char *tool = json_str(a, "tool");
        const char *why = json_str(a, "why");

        buf_printf(text, "\n- `%s`%s%s: %s", tool ? tool : "?",
                   json ? " " : "", json ? json : "", why ? why : "");
        cJSON_free(json);
    }
}

/* A short label for one generated media item, for the text: the link
 * when there is no name, so the model can hand the clip over. */
static const char *media_label(const cJSON *m)
{
    static const char *const keys[] = { "name", "title", "filename", "url",
                                        "type", "id" };
    size_t i;

    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, keys[i]);
        if (cJSON_IsString(v) && v->valuestring[0])
            return v->valuestring;
    }
    return cJSON_IsString(m) ? m->valuestring : "item";
}

void tool_media_text(const cJSON *media, nemo_buf *text)
{
    int n = cJSON_GetArraySize(media), i = 0;
    const cJSON *m;

    if (n == 0)
        return;
    buf_printf(text, "\nGenerated media (%d):", n);
    cJSON_ArrayForEach(m, media) {
        if (i++ == TOOL_MEDIA_SHOWN) {
            buf_printf(text, "\n- and %d more", n - TOOL_MEDIA_SHOWN);
            break;
        }
        buf_printf(text, "\n- %s", media_label(m));
    }
}

/* What a running job is, by tool, for the "still running" text. */
static const struct {
    const char *tool;
    const char *what;
} job_phrases[] = {
    { "generate", "The video agent's turn" },
    { "export", "The render" },
    { "upload", "The upload" },
};

static const char *job_what(const char *tool)
{
    size_t i;

    for (i = 0; i < sizeof job_phrases / sizeof job_phrases[0]; i++)
        if (tool && strcmp(tool, job_phrases[i].tool) == 0)
            return job_phrases[i].what;
    return "The job";
}

/* One builder for both sides: the structured report and its text say the
 * same things (hosts hand the model only one of them). */
static void report_running(nemo_job *j, const cJSON *extra,
                           tool_output *out)
{
    char progress[512], took[32];
    nemo_buf text = NEMO_BUF_INIT;
    cJSON *st = cJSON_CreateObject(), *actions, *args;
    long long elapsed = job_elapsed_ms(j);

    job_progress_text(j, progress, sizeof progress);
    tool_fmt_duration(elapsed, took, sizeof took);
    cJSON_AddStringToObject(st, "status", "running");
    cJSON_AddStringToObject(st, "job", job_id(j));
    cJSON_AddNumberToObject(st, "elapsed_ms", (double)elapsed);
    cJSON_AddStringToObject(st, "progress", progress);
    tool_json_merge(st, extra);
    args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "job", job_id(j));
    actions = cJSON_AddArrayToObject(st, "actions");
    cJSON_AddItemToArray(actions, tool_action("job", args,
        "wait for the result (waiting costs nothing). Do not repeat the "
        "original call; that would start the work again."));
    buf_printf(&text, "%s is still running (job %s, %s so far",
               job_what(job_tool(j)), job_id(j), took);
    if (progress[0])
        buf_printf(&text, "; latest: %s", progress);
    buf_puts(&text, ") and carries on in the background.");
    tool_actions_text(actions, &text);
    tool_ok(out, st, buf_str(&text));
    buf_free(&text);
}

static void report_cancelled(nemo_job *j, const cJSON *extra,
                             tool_output *out)
{
    nemo_result r;
    nemo_buf text = NEMO_BUF_INIT;
    cJSON *st = cJSON_CreateObject();

    cJSON_AddStringToObject(st, "status", "cancelled");
    cJSON_AddStringToObject(st, "job", job_id(j));
    tool_json_merge(st, extra);
    buf_printf(&text, "Job %s (%s) was cancelled.", job_id(j), job_tool(j));
    result_init(&r);
    if (job_result(j, &r) == 0 && r.text && r.text[0] &&
        !strstr(r.text, "cancel"))
        buf_printf(&text, " %s", r.text);
    result_free(&r);
    tool_ok(out, st, buf_str(&text));
    buf_free(&text);
}

/* How long a cancelled call gives its job to stop (the transfer aborts
 * within ~100 ms; this only bounds a misbehaving one). */
#define TOOL_CANCEL_SETTLE_MS 2000

job_status tool_job_wait(tool_call *call, nemo_job *j, int owned,
                         long long wait_ms)
{
    job_status st = job_wait(j, wait_ms, call->cancel, call->progress);
    char note[256];

    if (st == JOB_RUNNING && owned && cancel_requested(call->cancel)) {
        job_cancel(j, note, sizeof note);
        st = job_wait(j, TOOL_CANCEL_SETTLE_MS, NULL, NULL);
    }
    return st;
}

void tool_job_report(nemo_job *j, job_status st, const cJSON *extra,
                     tool_output *out)
{
    out->job_id[0] = '\0';
    if (st == JOB_RUNNING) {
        report_running(j, extra, out);
        return;
    }
    if (st == JOB_CANCELLED) {
        report_cancelled(j, extra, out);
        return;
    }
    result_free(&out->result);
    if (job_result(j, &out->result) != 0)
        tool_fail_msg(out, "Job %s ended (%s) but its "
                      "result could not be read.", job_id(j),
                      job_status_name(st));
}

void tool_job_handoff(nemo_job *j, const cJSON *extra, tool_output *out)
{
    report_running(j, extra, out);
    snprintf(out->job_id, sizeof out->job_id, "%s", job_id(j));
}

/* ---- the canvas ---- */

void tool_canvas_report(const cJSON *state, cJSON *st, nemo_buf *text)
{
    api_canvas c;
    cJSON *o;

    if (!state_canvas_parse(state, &c) || !(o = cJSON_CreateObject()))
        return;
    buf_puts(text, "\nCanvas: ");
    if (c.width > 0) {
        cJSON_AddNumberToObject(o, "width", (double)c.width);
        cJSON_AddNumberToObject(o, "height", (double)c.height);
        buf_printf(text, "%lldx%lld%s", c.width, c.height,
                   c.ratio[0] ? " (" : "");
    }
    if (c.ratio[0]) {
        cJSON_AddStringToObject(o, "aspect_ratio", c.ratio);
        buf_printf(text, "%s%s", c.width > 0 ? "" : "aspect ratio ",
                   c.ratio);
        if (c.width > 0)
            buf_puts(text, ")");
    }
    buf_puts(text, ".");
    cJSON_AddItemToObject(st, "canvas", o);
}

/* ---- the claim link ---- */

int tool_claim_url(nemo_api *api, nemo_cancel *cancel, const char *sid,
                   char *out, size_t n)
{
    api_ctl ctl;

    /* Its own ctl: nothing the link request does touches the tool's. */
    tool_ctl_init(&ctl, cancel, NULL);
    return api && sid ? api_claim_url(api, &ctl, sid, NULL, out, n) : -1;
}

void tool_claim_missing_text(nemo_buf *b, int rc)
{
    if (rc == API_CLAIM_NO_TASK)
        buf_puts(b, "\nNo link to open this project in the browser: that "
                    "link is available for the current session only (and "
                    "for sessions nemo-mcp started).");
}

void tool_claim_text(nemo_buf *b, const char *url)
{
    buf_printf(b, "\nOpen the project in the browser (to view, edit or keep "
                  "it in a NemoVideo account): %s", url);
}
