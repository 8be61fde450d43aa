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
#include "nemo/num.h"

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

/* ---- canvas ---- */

#define CANVAS_MAX_PX 100000

/* "1920x1080" (x, X or *), both sides in range. */
static int canvas_size_text(const char *s, long long *w, long long *h)
{
    char *end;
    long long a, b;

    if (!s || *s < '0' || *s > '9')
        return -1;
    a = strtoll(s, &end, 10);
    if (*end != 'x' && *end != 'X' && *end != '*')
        return -1;
    s = end + 1;
    if (*s < '0' || *s > '9')
        return -1;
    b = strtoll(s, &end, 10);
    if (*end || a < 1 || b < 1 || a > CANVAS_MAX_PX || b > CANVAS_MAX_PX)
        return -1;
    *w = a;
    *h = b;
    return 0;
}

static long long canvas_num(const cJSON *o, const char *a, const char *b)
{
    long long v = num_ll_or(cJSON_GetObjectItemCaseSensitive(o, a), 1,
                            CANVAS_MAX_PX, -1);

    return v > 0 ? v : num_ll_or(cJSON_GetObjectItemCaseSensitive(o, b), 1,
                                 CANVAS_MAX_PX, -1);
}

static void canvas_size(const cJSON *c, api_canvas *out)
{
    static const char *const text_keys[] = { "size", "resolution",
                                             "dimensions" };
    size_t i;

    out->width = canvas_num(c, "width", "w");
    out->height = canvas_num(c, "height", "h");
    for (i = 0; i < sizeof text_keys / sizeof text_keys[0] &&
                (out->width < 0 || out->height < 0); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, text_keys[i]);

        if (cJSON_IsObject(v)) {
            out->width = canvas_num(v, "width", "w");
            out->height = canvas_num(v, "height", "h");
        } else if (cJSON_IsString(v)) {
            canvas_size_text(v->valuestring, &out->width, &out->height);
        }
    }
    if (out->width < 0 || out->height < 0)
        out->width = out->height = -1;
}

/* "16:9" (or "16/9") kept as written when short and plain; a number such
 * as 1.7778 kept to three decimals; else derived from the size. */
static void canvas_ratio(const cJSON *c, api_canvas *out)
{
    static const char *const keys[] = { "ratio", "aspect_ratio",
                                        "aspectRatio", "aspect" };
    long long milli, a, b, t;
    size_t i;

    for (i = 0; i < sizeof keys / sizeof keys[0] && !out->ratio[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, keys[i]);

        if (cJSON_IsString(v) && v->valuestring[0] &&
            strlen(v->valuestring) < 16 &&
            strspn(v->valuestring, "0123456789:/.") ==
                strlen(v->valuestring))
            snprintf(out->ratio, sizeof out->ratio, "%s", v->valuestring);
        else if (cJSON_IsNumber(v) &&
                 num_ll_of(v->valuedouble * 1000, 1, 1000000, &milli) == 0)
            snprintf(out->ratio, sizeof out->ratio, "%lld.%03lld",
                     milli / 1000, milli % 1000);
    }
    if (!out->ratio[0] && out->width > 0) {
        for (a = out->width, b = out->height; b; t = a % b, a = b, b = t)
            ;
        snprintf(out->ratio, sizeof out->ratio, "%lld:%lld",
                 out->width / a, out->height / a);
    }
}

int state_canvas_parse(const cJSON *state, api_canvas *out)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(state, "canvas_config");

    memset(out, 0, sizeof *out);
    out->width = out->height = -1;
    if (!cJSON_IsObject(c)) {
        c = cJSON_GetObjectItemCaseSensitive(state, "canvas");
        if (!cJSON_IsObject(c))
            return 0;
    }
    canvas_size(c, out);
    canvas_ratio(c, out);
    return out->width > 0 || out->ratio[0];
}
