/* state.c - credits balance and the session's timeline state.
 *
 * A 1002 from the state endpoint is returned as NEMO_E_SESSION and not
 * recovered here: a lost session means its timeline is gone, and a new,
 * empty session would answer a different question than the caller asked.
 * The tool decides what to tell the user (and may start a new session). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define CREDITS_PATH "/api/credits/balance/simple"

/* A number, or a number written as a string ("12.5"). */
static int num_field(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char *end;

    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 0;
    }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        double d = strtod(v->valuestring, &end);

        if (*end == '\0') {
            *out = d;
            return 0;
        }
    }
    return -1;
}

int api_credits_get(nemo_api *api, api_ctl *ctl, api_credits *out,
                    nemo_err *err)
{
    cJSON *data = NULL;
    int have_a, have_f, have_t, rc = -1;

    memset(out, 0, sizeof *out);
    if (api_call(api, ctl, "GET", CREDITS_PATH, NULL, 1, &data, err) != 0)
        return -1;
    if (!cJSON_IsObject(data)) {
        err_set(err, NEMO_E_PROTOCOL,
                "The credits answer from the backend had no balance");
        goto out;
    }
    have_a = num_field(data, "available", &out->available) == 0;
    have_f = num_field(data, "frozen", &out->frozen) == 0;
    have_t = num_field(data, "total", &out->total) == 0;
    if (!have_a && !have_t) {
        err_set(err, NEMO_E_PROTOCOL,
                "The credits answer from the backend had no 'available' or "
                "'total' balance");
        goto out;
    }
    if (!have_t)
        out->total = out->available + (have_f ? out->frozen : 0);
    if (!have_a)
        out->available = out->total - (have_f ? out->frozen : 0);
    rc = 0;
out:
    cJSON_Delete(data);
    return rc;
}

int api_state_get(nemo_api *api, api_ctl *ctl, const char *sid,
                  cJSON **state, nemo_err *err)
{
    char esc[3 * API_SESSION_MAX + 1], path[3 * API_SESSION_MAX + 64];
    cJSON *data = NULL, *st;

    *state = NULL;
    if (!sid || !*sid || api_escape_segment(sid, esc, sizeof esc) != 0) {
        err_set(err, NEMO_E_INVALID, "invalid session id");
        return -1;
    }
    snprintf(path, sizeof path, "/api/state/nemo_agent/me/%s/latest", esc);
    if (api_call(api, ctl, "GET", path, NULL, 1, &data, err) != 0)
        return -1;
    api_note_user_id(api, data);   /* for the 2001 registration link */
    st = cJSON_GetObjectItemCaseSensitive(data, "state");
    if (st) {
        *state = cJSON_DetachItemViaPointer(data, st);
        cJSON_Delete(data);
    } else if (cJSON_IsObject(data)) {
        /* Tolerated: a backend that answers with the state itself. */
        *state = data;
    } else {
        cJSON_Delete(data);
        err_set(err, NEMO_E_PROTOCOL,
                "The backend's state answer for session %s had no state",
                sid);
        return -1;
    }
    return 0;
}
