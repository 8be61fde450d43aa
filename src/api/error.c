/* error.c - one typed error, with messages written for a person.
 *
 * err_from_response follows the seeds' error table: envelope codes first
 * (a non-zero code is an error even with HTTP 200), then HTTP statuses.
 * Every message goes through log_redact, so a token can never end up in an
 * error text even if a backend echoes it back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/error.h"
#include "nemo/log.h"
#include "nemo/num.h"

#define ERR_ACCEPTED_FORMATS \
    "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac"

static const struct {
    nemo_err_kind kind;
    const char *name;
    const char *advice;
} err_kinds[] = {
    { NEMO_OK, "ok", "" },
    { NEMO_E_AUTH, "auth",
      "Set NEMO_TOKEN to a valid token, or unset it so an anonymous token "
      "is obtained automatically." },
    { NEMO_E_SESSION, "session",
      "Start a new session; the previous timeline is no longer available." },
    { NEMO_E_CREDITS, "credits",
      "Register (or top up a registered account) to get more credits." },
    { NEMO_E_FILE_TYPE, "file_type",
      "Convert the file to one of: " ERR_ACCEPTED_FORMATS "." },
    { NEMO_E_FILE_SIZE, "file_size",
      "Compress the file or trim it to a shorter clip, then upload again." },
    { NEMO_E_CLIENT_ID, "client_id",
      "The backend refused the client id. The shared id in "
      "~/.config/nemovideo/client_id is never changed; set NEMO_CLIENT_ID "
      "to another id, or check `nemo-mcp doctor`." },
    { NEMO_E_PLAN, "plan",
      "Register or upgrade the NemoVideo plan to unlock export." },
    { NEMO_E_RATE, "rate",
      "Wait a minute and try again." },
    { NEMO_E_NETWORK, "network",
      "Check the network connection and try again; `nemo-mcp doctor` "
      "checks the setup." },
    { NEMO_E_SERVER, "server",
      "The backend had a problem; try again in a minute." },
    { NEMO_E_PROTOCOL, "protocol",
      "The backend answered in an unexpected way; try again, and run "
      "`nemo-mcp doctor` if it persists." },
    { NEMO_E_BACKEND, "backend",
      "Read the backend's message above; rephrase or adjust the request." },
    { NEMO_E_CANCELLED, "cancelled", "" },
    { NEMO_E_TIMEOUT, "timeout",
      "The backend did not answer in time; try again." },
    { NEMO_E_INVALID, "invalid",
      "Fix the arguments and call again." },
    { NEMO_E_IO, "io",
      "Check the path, permissions and free disk space." },
    { NEMO_E_NOT_FOUND, "not_found",
      "Check the id or path; it may have expired." },
    { NEMO_E_CONFIG, "config",
      "Fix the configuration (see `nemo-mcp doctor`)." },
};

#define ERR_NKINDS (sizeof err_kinds / sizeof err_kinds[0])

const char *err_kind_name(nemo_err_kind kind)
{
    size_t i;

    for (i = 0; i < ERR_NKINDS; i++)
        if (err_kinds[i].kind == kind)
            return err_kinds[i].name;
    return "unknown";
}

const char *err_advice(nemo_err_kind kind)
{
    size_t i;

    for (i = 0; i < ERR_NKINDS; i++)
        if (err_kinds[i].kind == kind)
            return err_kinds[i].advice;
    return "";
}

void err_clear(nemo_err *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

static void err_vset(nemo_err *e, nemo_err_kind kind, const char *fmt,
                     va_list ap)
{
    e->kind = kind;
    log_vformat(e->message, sizeof e->message, fmt, ap);
}

void err_set(nemo_err *e, nemo_err_kind kind, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return;
    va_start(ap, fmt);
    err_vset(e, kind, fmt, ap);
    va_end(ap);
}

/* ---- response mapping ---- */

/* First string (or number) member of data among keys. */
static int data_field(const cJSON *data, const char *const *keys, char *out,
                      size_t n)
{
    long long num;
    size_t i;

    for (i = 0; data && keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, keys[i]);

        if (cJSON_IsString(v) && v->valuestring[0]) {
            snprintf(out, n, "%s", v->valuestring);
            return 0;
        }
        if (num_ll(v, 0, 9007199254740992LL, &num) == 0) {
            snprintf(out, n, "%lld", num);
            return 0;
        }
    }
    return -1;
}

/* The backend's msg as a suffix " (backend: <msg>)", or "" when it adds
 * nothing. Redacted before it is cut, so no part of a secret survives. */
static void msg_suffix(const char *msg, char *out, size_t n)
{
    char *r = msg && *msg ? log_redact_dup(msg) : NULL;

    if (r)
        snprintf(out, n, " (backend: %.300s)", r);
    else
        out[0] = '\0';
    free(r);
}

static void credits_compose(nemo_err *e)
{
    if (e->link[0])
        err_set(e, NEMO_E_CREDITS,
                "Out of credits%s. Register at %s to get more credits and "
                "keep this anonymous account's work; registered accounts "
                "can top up instead.", e->detail, e->link);
    else if (e->bind_id[0])
        err_set(e, NEMO_E_CREDITS,
                "Out of credits%s. Register to get more credits and bind "
                "this anonymous account (bind id %s); registered accounts "
                "can top up instead.", e->detail, e->bind_id);
    else
        err_set(e, NEMO_E_CREDITS,
                "Out of credits%s. Anonymous users can register to get more "
                "credits; registered accounts can top up in their account.",
                e->detail);
}

void err_credits_link(nemo_err *e, const char *link)
{
    if (!e || e->kind != NEMO_E_CREDITS || !link || !*link)
        return;
    snprintf(e->link, sizeof e->link, "%s", link);
    credits_compose(e);
}

/* Where the backend may put the page a person must open. */
static const char *const link_keys[] = { "register_url", "registerUrl",
                                         "upgrade_url", "upgradeUrl", "url",
                                         "link", NULL };

static void credits_message(nemo_err *e, const char *msg, const cJSON *data)
{
    static const char *const bind_keys[] = { "bind_id", "bindId", "user_id",
                                             "userId", "id", NULL };

    if (!cJSON_IsObject(data))
        data = NULL;
    data_field(data, bind_keys, e->bind_id, sizeof e->bind_id);
    data_field(data, link_keys, e->link, sizeof e->link);
    /* The registration link binds the anonymous account via ?bind=<id>. */
    if (e->link[0] && e->bind_id[0] && !strstr(e->link, "bind=")) {
        size_t l = strlen(e->link);

        snprintf(e->link + l, sizeof e->link - l, "%cbind=%s",
                 strchr(e->link, '?') ? '&' : '?', e->bind_id);
    }
    msg_suffix(msg, e->detail, sizeof e->detail);
    credits_compose(e);
}

/* The seeds' error table. message has one "%s": the backend's own words
 * (msg_suffix). Codes are matched first, then HTTP statuses. */
static const struct {
    long code;              /* envelope code; 0: match on status */
    int status;             /* HTTP status when code is 0 */
    nemo_err_kind kind;
    const char *message;    /* NULL: credits_message */
} err_table[] = {
    { 1001, 0, NEMO_E_AUTH,
      "The access token was rejected as expired or invalid%s." },
    { 1002, 0, NEMO_E_SESSION,
      "The editing session was not found on the backend%s; its timeline is "
      "gone." },
    { 2001, 0, NEMO_E_CREDITS, NULL },
    { 4001, 0, NEMO_E_FILE_TYPE,
      "This file type is not supported%s. Accepted formats: "
      ERR_ACCEPTED_FORMATS "." },
    { 4002, 0, NEMO_E_FILE_SIZE,
      "The file is too large for the backend%s. Compress it (lower "
      "resolution or bitrate) or trim it to a shorter clip, then upload it "
      "again." },
    /* At the token endpoint 400 means a missing/invalid X-Client-Id (the
     * caller regenerates it); elsewhere it is a plain bad request. */
    { 0, 400, NEMO_E_CLIENT_ID,
      "The backend rejected the request (HTTP 400)%s." },
    { 0, 401, NEMO_E_AUTH,
      "The backend refused the credentials (HTTP 401)%s." },
    { 0, 402, NEMO_E_PLAN,
      "Export is blocked by a plan restriction (HTTP 402)%s. This is a plan "
      "restriction, not a credits problem: register or upgrade your plan to "
      "unlock export. (Missing skill attribution headers also cause this; "
      "`nemo-mcp doctor` shows them.)" },
    { 0, 404, NEMO_E_NOT_FOUND,
      "The backend has no such resource (HTTP 404)%s." },
    { 0, 429, NEMO_E_RATE,
      "The backend is rate limiting requests (HTTP 429)%s. Wait about 30 "
      "seconds and try again." },
};

static int err_table_find(long code, int http_status)
{
    size_t i, n = sizeof err_table / sizeof err_table[0];

    for (i = 0; code && i < n; i++)
        if (err_table[i].code == code)
            return (int)i;
    for (i = 0; i < n; i++)
        if (!err_table[i].code && err_table[i].status == http_status)
            return (int)i;
    return -1;
}

void err_from_response(nemo_err *e, int http_status, long code,
                       const char *msg, const cJSON *data)
{
    char sfx[400];
    int row;

    if (!e)
        return;
    err_clear(e);
    e->http_status = http_status;
    e->code = code;
    row = err_table_find(code, http_status);
    if (row >= 0 && !err_table[row].message) {
        credits_message(e, msg, data);
        goto out;
    }
    if (row >= 0) {
        msg_suffix(msg, sfx, sizeof sfx);
        err_set(e, err_table[row].kind, err_table[row].message, sfx);
        /* A plan block may come with the page to register or upgrade. */
        if (e->kind == NEMO_E_PLAN && cJSON_IsObject(data) &&
            data_field(data, link_keys, e->link, sizeof e->link) == 0) {
            size_t l = strlen(e->message);

            snprintf(e->message + l, sizeof e->message - l, " Page: %s",
                     e->link);
        }
        goto out;
    }
    msg_suffix(msg, sfx, sizeof sfx);
    if (http_status >= 500)
        err_set(e, NEMO_E_SERVER,
                "The NemoVideo backend had an internal error (HTTP %d)%s. "
                "Try again in a minute.", http_status, sfx);
    else if (code)
        /* err_set redacts the whole text before cutting it. */
        err_set(e, NEMO_E_BACKEND, "The backend refused the request: %s "
                "(code %ld)", msg && *msg ? msg : "no reason given", code);
    else
        err_set(e, NEMO_E_BACKEND, "The backend refused the request "
                "(HTTP %d)%s.", http_status, sfx);
out:
    /* err_set resets nothing, but keep the status and code explicit. */
    e->http_status = http_status;
    e->code = code;
}
