/* state.c - the `state` tool: the timeline as tracks and segments, the
 * generated media, and the seeds' one-line summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools_internal.h"

/* The state tool's structured result and text for one session. */
static cJSON *state_build(const char *sid, const cJSON *state,
                          const timeline *tl, const char *summary,
                          nemo_buf *text)
{
    cJSON *st, *tl_json = timeline_to_json(tl);

    if (!tl_json)
        return NULL;
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "session", sid);
    tool_json_merge(st, tl_json);
    cJSON_Delete(tl_json);
    cJSON_AddItemToObject(st, "generated_media", tool_state_media(state));
    cJSON_AddStringToObject(st, "summary", summary);
    buf_puts(text, summary);
    tool_canvas_report(state, st, text);
    tool_media_text(cJSON_GetObjectItemCaseSensitive(st, "generated_media"),
                    text);
    return st;
}

static int state_run(tool_call *call, tool_output *out)
{
    nemo_buf text = NEMO_BUF_INIT;
    tool_snapshot snap;
    cJSON *st;

    if (tool_snapshot_read(call, &snap, out) != 0)
        return 0;
    st = state_build(snap.sid, snap.state, &snap.tl, snap.summary, &text);
    if (!st) {
        tool_fail_msg(out, "The timeline of session %s could not be read.",
                      snap.sid);
        goto out;
    }
    tool_session_note(&snap.ctl, snap.sid, sizeof snap.sid, st, &text);
    tool_ok(out, st, buf_str(&text));
out:
    tool_snapshot_free(&snap);
    buf_free(&text);
    return 0;
}

int tool_timeline_read(tool_env *env, const char *sid, nemo_cancel *cancel,
                       nemo_result *out, nemo_err *err)
{
    nemo_buf text = NEMO_BUF_INIT;
    cJSON *state = NULL, *st = NULL;
    char *summary = NULL;
    timeline tl;
    api_ctl ctl;
    int rc = -1;

    memset(&tl, 0, sizeof tl);
    if (env->config_problem || !env->api) {
        /* The configuration was refused: nothing may reach the backend. */
        err_set(err, NEMO_E_CONFIG, "%s", env->config_problem
                ? env->config_problem : "no backend client");
        return -1;
    }
    tool_ctl_init(&ctl, cancel, NULL);
    /* api_state_get, not tool_state_get: reading must never replace a
     * lost session with a new one. */
    if (api_state_get(env->api, &ctl, sid, &state, err) != 0)
        goto out;
    if (timeline_from_draft(tool_state_draft(state), &tl) != 0 ||
        !(summary = timeline_summary(&tl)) ||
        !(st = state_build(sid, state, &tl, summary, &text))) {
        err_set(err, NEMO_E_PROTOCOL, "The timeline of session %s could not "
                "be read.", sid);
        goto out;
    }
    result_free(out);
    out->structured = st;
    out->text = buf_detach(&text);
    out->is_error = 0;
    rc = out->text ? 0 : -1;
out:
    cJSON_Delete(state);
    timeline_free(&tl);
    free(summary);
    buf_free(&text);
    return rc;
}

const tool_def tool_state_def = { "state", state_run, 0 };
