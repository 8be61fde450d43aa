/* credits.c - the `credits` tool: the account's balance. */
#include <stdio.h>

#include "tools_internal.h"

void tool_credits_sentence(const api_credits *c, char *buf, size_t n)
{
    snprintf(buf, n, "You have %g credit%s available (%g frozen, %g total).",
             c->available, c->available == 1 ? "" : "s", c->frozen,
             c->total);
}

static int credits_run(tool_call *call, tool_output *out)
{
    api_credits c;
    api_ctl ctl;
    nemo_err err;
    char text[256];
    cJSON *st;

    tool_ctl_init(&ctl, call->cancel, call->progress);
    err_clear(&err);
    if (api_credits_get(call->env->api, &ctl, &c, &err) != 0) {
        tool_fail_err(out, &err);
        return 0;
    }
    st = cJSON_CreateObject();
    cJSON_AddNumberToObject(st, "available", c.available);
    cJSON_AddNumberToObject(st, "frozen", c.frozen);
    cJSON_AddNumberToObject(st, "total", c.total);
    tool_credits_sentence(&c, text, sizeof text);
    tool_ok(out, st, text);
    return 0;
}

const tool_def tool_credits_def = { "credits", credits_run, 0 };
