/* session.c - the `session` tool: show the current session or start a new
 * one (which becomes current). */
#include <stdio.h>
#include <string.h>

#include "nemo/buf.h"
#include "nemo/event.h"

#include "tools_internal.h"

static int session_run(tool_call *call, tool_output *out)
{
    const char *action = tool_arg_str(call->args, "action");
    const char *language = tool_arg_str(call->args, "language");
    api_session s;
    api_ctl ctl;
    nemo_err err;
    nemo_buf text = NEMO_BUF_INIT;
    char claim[1024];
    int rc;
    cJSON *st;

    tool_ctl_init(&ctl, call->cancel, call->progress);
    err_clear(&err);
    memset(&s, 0, sizeof s);
    if (action && strcmp(action, "new") == 0) {
        char lang[16];

        if (!language || !language[0]) {
            api_detect_language(NULL, lang, sizeof lang);
            language = lang;
        }
        /* A new project replaces the current one for every later call. */
        rc = api_session_new(call->env->api, &ctl, language, &s, &err);
        if (rc == 0)
            rc = api_session_set_current(call->env->api, &s, &err);
        if (rc == 0)
            event_session_changed(s.id);
    } else if (!action || strcmp(action, "current") == 0) {
        rc = api_session_current(call->env->api, &ctl, NULL, &s, &err);
    } else {
        tool_fail_msg(out, "Unknown action \"%s\": use "
                      "\"current\" or \"new\".", action);
        return 0;
    }
    if (rc != 0) {
        tool_fail_err(out, &err);
        return 0;
    }
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "session", s.id);
    cJSON_AddBoolToObject(st, "created", s.created);
    cJSON_AddStringToObject(st, "language", s.language[0] ? s.language
                                                          : "en");
    if (s.created)
        buf_printf(&text, "Started a new editing session %s (language %s). "
                   "The other tools use it from now on.", s.id,
                   s.language[0] ? s.language : "en");
    else
        buf_printf(&text, "The current editing session is %s (language "
                   "%s).", s.id, s.language[0] ? s.language : "en");
    /* Once a session exists the user gets its browser link. */
    rc = api_claim_url(call->env->api, &ctl, s.id, s.task_id, claim,
                       sizeof claim);
    if (rc == 0) {
        cJSON_AddStringToObject(st, "claim_url", claim);
        tool_claim_text(&text, claim);
    } else {
        tool_claim_missing_text(&text, rc);
    }
    tool_ok(out, st, buf_str(&text));
    buf_free(&text);
    return 0;
}

const tool_def tool_session_def = { "session", session_run, 0 };
