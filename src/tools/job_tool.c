/* job_tool.c - the `job` tool: collect, wait for, cancel or list the
 * background work that generate, export and upload hand back. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/json.h"
#include "nemo/num.h"
#include "tools_internal.h"

#define JOB_LIST_MAX 20
/* After a cancel, how long to wait for the job to wind down so the answer
 * can say how it ended. */
#define JOB_CANCEL_SETTLE_MS 5000

static void list_text(const cJSON *jobs, nemo_buf *text)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, jobs) {
        const cJSON *age = cJSON_GetObjectItemCaseSensitive(it, "age_ms");
        char ago[32];

        tool_fmt_duration(num_ll_or(age, 0, LLONG_MAX, 0), ago, sizeof ago);
        buf_printf(text, "\n- %s: %s, %s (started %s ago)",
                   json_str(it, "job"),
                   json_str(it, "tool"),
                   json_str(it, "status"),
                   ago);
    }
}

/* Keep only the fields the output schema lists, with the right types. */
static cJSON *list_clean(const cJSON *raw)
{
    static const char *const str_keys[] = { "job", "tool", "status",
                                            "session" };
    cJSON *arr = cJSON_CreateArray();
    const cJSON *it;
    size_t i;

    cJSON_ArrayForEach(it, raw) {
        cJSON *o = cJSON_CreateObject();
        const cJSON *age = cJSON_GetObjectItemCaseSensitive(it, "age_ms");

        for (i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
            const char *v = json_str(it, str_keys[i]);
            if (v || i < 3)
                cJSON_AddStringToObject(o, str_keys[i], v ? v : "");
        }
        if (cJSON_IsNumber(age))
            cJSON_AddNumberToObject(o, "age_ms",
                                    (double)num_ll_or(age, 0, LLONG_MAX, 0));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* No handle: the recent jobs of the current session. An empty journal is
 * answered without resolving (and perhaps creating) a session. */
static int job_list_run(tool_call *call, tool_output *out)
{
    cJSON *all = job_list(call->env->jobs, NULL, 1), *raw, *st;
    char sid[API_SESSION_MAX];
    nemo_buf text = NEMO_BUF_INIT;
    api_ctl ctl;
    int n;

    if (cJSON_GetArraySize(all) == 0) {
        cJSON_Delete(all);
        st = cJSON_CreateObject();
        cJSON_AddItemToObject(st, "jobs", cJSON_CreateArray());
        tool_ok(out, st, "There are no background jobs.");
        return 0;
    }
    cJSON_Delete(all);
    tool_ctl_init(&ctl, call->cancel, call->progress);
    if (tool_session(call, &ctl, NULL, sid, sizeof sid, out) != 0)
        return 0;
    raw = job_list(call->env->jobs, sid, JOB_LIST_MAX);
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "session", sid);
    cJSON_AddItemToObject(st, "jobs", list_clean(raw));
    n = cJSON_GetArraySize(raw);
    if (n == 0)
        buf_printf(&text, "Session %s has no background jobs.", sid);
    else
        buf_printf(&text, "Recent jobs of session %s, newest first:", sid);
    list_text(cJSON_GetObjectItemCaseSensitive(st, "jobs"), &text);
    cJSON_Delete(raw);
    tool_ok(out, st, buf_str(&text));
    buf_free(&text);
    return 0;
}

static void cancel_report(nemo_job *j, tool_call *call, tool_output *out)
{
    char note[512] = "";
    nemo_buf text = NEMO_BUF_INIT;
    job_status s;
    cJSON *st;
    int was_running = job_cancel(j, note, sizeof note) == 0;

    if (!was_running) {
        s = job_get_status(j);
        buf_printf(&text, "Job %s (%s) had already finished (%s); there was "
                   "nothing to cancel. Call `job` without cancel to get its "
                   "result.", job_id(j), job_tool(j), job_status_name(s));
        st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "status", job_status_name(s));
        cJSON_AddStringToObject(st, "job", job_id(j));
        cJSON_AddStringToObject(st, "tool", job_tool(j));
        tool_ok(out, st, buf_str(&text));
        buf_free(&text);
        return;
    }
    s = job_wait(j, JOB_CANCEL_SETTLE_MS, call->cancel, NULL);
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "status", s == JOB_RUNNING
                                              ? "running"
                                              : job_status_name(s));
    cJSON_AddStringToObject(st, "job", job_id(j));
    cJSON_AddStringToObject(st, "tool", job_tool(j));
    if (note[0])
        cJSON_AddStringToObject(st, "note", note);
    if (s == JOB_RUNNING)
        buf_printf(&text, "Cancellation of job %s (%s) was requested; it is "
                   "still running while it winds down.", job_id(j),
                   job_tool(j));
    else if (s == JOB_CANCELLED)
        buf_printf(&text, "Cancelled job %s (%s).", job_id(j), job_tool(j));
    else
        buf_printf(&text, "Job %s (%s) finished (%s) before it could be "
                   "stopped.", job_id(j), job_tool(j), job_status_name(s));
    if (note[0])
        buf_printf(&text, " %s", note);
    tool_ok(out, st, buf_str(&text));
    buf_free(&text);
}

static int job_run(tool_call *call, tool_output *out)
{
    const char *id = tool_arg_str(call->args, "job");
    nemo_job *j;
    cJSON *extra;
    job_status s;

    /* The user's answer to a question a collected turn asked (stateless
     * era retry). */
    if (tool_ask_resumed(call, tool_generate_turn, out))
        return 0;
    if (!id || !id[0])
        return job_list_run(call, out);
    j = job_lookup(call->env->jobs, id);
    if (!j) {
        tool_fail_msg(out, "There is no job \"%s\" (jobs "
                      "are kept for 24 hours). Call `job` without arguments "
                      "to list the recent ones.", id);
        return 0;
    }
    if (tool_arg_bool(call->args, "cancel", 0)) {
        cancel_report(j, call, out);
        job_unref(j);
        return 0;
    }
    s = job_wait(j, tool_wait_ms(call->args), call->cancel, call->progress);
    extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "tool", job_tool(j));
    if (job_session(j) && job_session(j)[0])
        cJSON_AddStringToObject(extra, "session", job_session(j));
    tool_job_report(j, s, extra, out);
    cJSON_Delete(extra);
    /* A turn that ended with a question: ask the person, as generate
     * does. */
    if (job_tool(j) && strcmp(job_tool(j), "generate") == 0)
        tool_ask_follow_up(call, tool_generate_turn, out);
    job_unref(j);
    return 0;
}

const tool_def tool_job_def = { "job", job_run, 0 };
