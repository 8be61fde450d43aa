/* state.c - the `state` tool: the timeline as tracks and segments, the
 * generated media, and the seeds' one-line summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools_internal.h"

static int state_run(tool_call *call, tool_output *out)
{
    nemo_buf text = NEMO_BUF_INIT;
    tool_snapshot snap;
    cJSON *st, *tl_json;

    if (tool_snapshot_read(call, &snap, out) != 0)
        return 0;
    if (!(tl_json = timeline_to_json(&snap.tl))) {
        tool_fail_msg(out, "The timeline of session %s could not be read.",
                      snap.sid);
        goto out;
    }
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "session", snap.sid);
    tool_json_merge(st, tl_json);
    cJSON_Delete(tl_json);
    cJSON_AddItemToObject(st, "generated_media",
                          tool_state_media(snap.state));
    cJSON_AddStringToObject(st, "summary", snap.summary);
    buf_puts(&text, snap.summary);
    tool_media_text(cJSON_GetObjectItemCaseSensitive(st, "generated_media"),
                    &text);
    tool_session_note(&snap.ctl, snap.sid, sizeof snap.sid, st, &text);
    tool_ok(out, st, buf_str(&text));
out:
    tool_snapshot_free(&snap);
    buf_free(&text);
    return 0;
}

const tool_def tool_state_def = { "state", state_run, 0 };
