/* auth.c - where the token comes from, and how processes share it.
 *
 *   1. NEMO_TOKEN in the environment wins (never written anywhere).
 *   2. Else the token store in the config dir: token.json (0600, one file
 *      per backend base URL), shared by every nemo-mcp process.
 *   3. Else a new anonymous token for the ecosystem's client id
 *      (<config>/client_id, shared with other NemoVideo skills).
 *
 * The backend hands out one anonymous token per client id per 7 days, so
 * two servers started at once must not both ask: "read store -> request if
 * missing/expired -> write" runs under an exclusive file lock, and the store
 * is re-read after the lock is taken. Inside one process auth_mu does the
 * same for threads.
 *
 * The token is registered with log_add_secret the moment it is read or
 * received, so no log line or error message can show it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "api_internal.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/store.h"

#define AUTH_CLIENT_FILE "client_id"
#define AUTH_MARGIN_MS (5LL * 60 * 1000)          /* "expired" this early */
#define AUTH_DEFAULT_TTL_MS (7LL * 24 * 3600 * 1000)
#define AUTH_TOKEN_PATH "/api/auth/anonymous-token"

typedef struct auth_stored {
    char token[API_TOKEN_MAX];
    long long expires_ms;       /* 0: unknown */
    long long obtained_ms;
    char client_id[64];
} auth_stored;

/* ---- file names ---- */

/* token.json for the production backend; token-<hash>.json for any other
 * base URL, so a token for a test or staging backend never replaces (and
 * burns the rate limit of) the production one. */
static void token_file(const nemo_api *api, char *out, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;   /* FNV-1a */
    const char *p;

    if (strcmp(api->base, API_DEFAULT_BASE) == 0) {
        snprintf(out, n, "token.json");
        return;
    }
    for (p = api->base; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    snprintf(out, n, "token-%016llx.json", h);
}

/* The lock file beside it: "<name>.lock" without the .json. */
static void token_lock_name(const char *file, char *out, size_t n)
{
    size_t l = strlen(file);

    if (l > 5 && strcmp(file + l - 5, ".json") == 0)
        l -= 5;
    snprintf(out, n, "%.*s", (int)l, file);
}

/* ---- client id ---- */

static int uuid_ok(const char *s)
{
    uuid_t u;

    return strlen(s) == 36 && uuid_parse(s, u) == 0;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;

    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

/* 0 and out filled, 1 when absent, -1 when present but not a UUID. */
static int client_id_load(char *out, size_t n)
{
    char *data = NULL;
    int rc = store_read(AUTH_CLIENT_FILE, &data, NULL);

    if (rc != 0) {
        free(data);
        return rc > 0 ? 1 : -1;
    }
    trim(data);
    rc = uuid_ok(data) && strlen(data) < n ? 0 : -1;
    if (rc == 0)
        snprintf(out, n, "%s", data);
    free(data);
    return rc;
}

static int client_id_create(char *out, size_t n)
{
    uuid_t u;
    char s[37];

    uuid_generate_random(u);
    uuid_unparse_lower(u, s);
    if (store_write(AUTH_CLIENT_FILE, s, strlen(s), 0600) != 0)
        return -1;
    snprintf(out, n, "%s", s);
    return 0;
}

static int client_id_get(char *out, size_t n, nemo_err *err)
{
    int rc = client_id_load(out, n);

    if (rc == 0)
        return 0;
    if (rc < 0)
        LOG_WARN("auth", "the client_id file is not a UUID; replacing it");
    if (client_id_create(out, n) != 0) {
        err_set(err, NEMO_E_IO, "Cannot save a client id in the config dir "
                "(see `nemo-mcp doctor`)");
        return -1;
    }
    LOG_INFO("auth", "created client id %s", out);
    return 0;
}

/* ---- token store ---- */

static long long json_ll(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* 0 when a token was read (and registered as a secret). */
static int stored_read(const char *file, auth_stored *st)
{
    char *data = NULL;
    cJSON *root = NULL;
    const cJSON *tok, *cid;
    int rc = -1;

    memset(st, 0, sizeof *st);
    if (store_read(file, &data, NULL) != 0)
        goto out;
    root = cJSON_Parse(data);
    tok = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (!cJSON_IsString(tok) || !tok->valuestring[0] ||
        strlen(tok->valuestring) >= sizeof st->token) {
        if (root || data[0])
            LOG_WARN("auth", "ignoring an unreadable token store %s", file);
        goto out;
    }
    log_add_secret(tok->valuestring);
    snprintf(st->token, sizeof st->token, "%s", tok->valuestring);
    st->expires_ms = json_ll(root, "expires_at_ms");
    st->obtained_ms = json_ll(root, "obtained_at_ms");
    cid = cJSON_GetObjectItemCaseSensitive(root, "client_id");
    if (cJSON_IsString(cid))
        snprintf(st->client_id, sizeof st->client_id, "%s", cid->valuestring);
    rc = 0;
out:
    cJSON_Delete(root);
    if (data) {
        memset(data, 0, strlen(data));
        free(data);
    }
    return rc;
}

static int stored_write(const nemo_api *api, const char *file,
                        const auth_stored *st)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL;
    int rc = -1;

    if (!o || !cJSON_AddStringToObject(o, "token", st->token) ||
        !cJSON_AddNumberToObject(o, "expires_at_ms",
                                 (double)st->expires_ms) ||
        !cJSON_AddStringToObject(o, "client_id", st->client_id) ||
        !cJSON_AddNumberToObject(o, "obtained_at_ms",
                                 (double)st->obtained_ms) ||
        !cJSON_AddStringToObject(o, "base_url", api->base))
        goto out;
    if (!(json = cJSON_PrintUnformatted(o)))
        goto out;
    rc = store_write(file, json, strlen(json), 0600);
out:
    if (json) {
        memset(json, 0, strlen(json));
        free(json);
    }
    cJSON_Delete(o);
    return rc;
}

static int fresh(long long expires_ms, long long now)
{
    return expires_ms == 0 || now < expires_ms - AUTH_MARGIN_MS;
}

/* Make st the process's token. Called with auth_mu held. */
static void adopt(nemo_api *api, const auth_stored *st, const char *source,
                  int keep)
{
    log_add_secret(st->token);
    pthread_mutex_lock(&api->mu);
    snprintf(api->token, sizeof api->token, "%s", st->token);
    api->token_expires_ms = st->expires_ms;
    snprintf(api->token_source, sizeof api->token_source, "%s", source);
    if (st->client_id[0])
        snprintf(api->client_id, sizeof api->client_id, "%s", st->client_id);
    api->token_keep = keep;
    api->token_generation++;
    pthread_mutex_unlock(&api->mu);
}

/* ---- the token request ---- */

/* ISO 8601 "2026-11-28T08:00:00(.sss)(Z|+hh:mm)" -> ms; 0 on failure. */
static long long iso_ms(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
    const char *p;
    long long t;

    if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &sec, &n) !=
        6)
        return 0;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = (long long)timegm(&tm) * 1000;
    p = s + n;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%d:%d", &oh, &om) >= 1)
        t -= (*p == '+' ? 1 : -1) * ((long long)oh * 60 + om) * 60000;
    return t;
}

/* Seconds, milliseconds or ISO text: whatever the backend sends. */
static long long expiry_of(const cJSON *data, long long now)
{
    static const char *const abs_keys[] = {
        "expires_at_ms", "expires_at", "expiresAt", "expire_at", "expireAt",
        "expired_at", "expiredAt", "expire_time", "expireTime", NULL };
    static const char *const rel_keys[] = { "expires_in", "expiresIn", NULL };
    size_t i;

    for (i = 0; abs_keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, abs_keys[i]);

        if (cJSON_IsNumber(v) && v->valuedouble > 0)
            return v->valuedouble > 1e11 ? (long long)v->valuedouble
                                         : (long long)v->valuedouble * 1000;
        if (cJSON_IsString(v) && iso_ms(v->valuestring) > 0)
            return iso_ms(v->valuestring);
    }
    for (i = 0; rel_keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, rel_keys[i]);

        if (cJSON_IsNumber(v) && v->valuedouble > 0)
            return now + (long long)(v->valuedouble * 1000);
    }
    return now + AUTH_DEFAULT_TTL_MS;
}

static int request_token(nemo_api *api, api_ctl *ctl, const char *client_id,
                         int no_rate_retry, auth_stored *out, nemo_err *err)
{
    char hdr[96];
    const char *extra[] = { hdr, NULL };
    api_send_opts o;
    cJSON *data = NULL;
    const cJSON *tok;
    int rc = -1;

    memset(&o, 0, sizeof o);
    snprintf(hdr, sizeof hdr, "X-Client-Id: %s", client_id);
    o.method = "POST";
    o.path = AUTH_TOKEN_PATH;
    o.body = "{}";
    o.body_len = 2;
    o.no_auth = 1;
    o.idempotent = 0;   /* one token per client id: never a blind repeat */
    o.extra_headers = extra;
    o.no_rate_retry = no_rate_retry;
    if (api_send(api, ctl, &o, &data, err) != 0)
        return -1;
    tok = cJSON_GetObjectItemCaseSensitive(data, "token");
    if (!cJSON_IsString(tok))
        tok = cJSON_GetObjectItemCaseSensitive(data, "access_token");
    if (!cJSON_IsString(tok) || !tok->valuestring[0] ||
        strlen(tok->valuestring) >= sizeof out->token) {
        err_set(err, NEMO_E_PROTOCOL,
                "The backend's anonymous-token answer had no token");
        goto out;
    }
    log_add_secret(tok->valuestring);
    memset(out, 0, sizeof *out);
    snprintf(out->token, sizeof out->token, "%s", tok->valuestring);
    out->obtained_ms = clock_wall_ms();
    out->expires_ms = expiry_of(data, out->obtained_ms);
    snprintf(out->client_id, sizeof out->client_id, "%s", client_id);
    rc = 0;
out:
    cJSON_Delete(data);
    return rc;
}

static void rate_limited_message(nemo_err *err, const char *client_id)
{
    err_set(err, NEMO_E_RATE,
            "Could not get an anonymous NemoVideo token: the backend gives "
            "one anonymous token per client id every 7 days, and this "
            "machine's client id (%s) already received one (HTTP 429). Retry "
            "later, or set NEMO_TOKEN to a token you have.", client_id);
}

/* Read the store or get a new token. failed: the token the backend just
 * rejected (never adopted again), or NULL. Called with auth_mu held. */
static int acquire(nemo_api *api, api_ctl *ctl, const char *failed,
                   nemo_err *err)
{
    char file[64], lock[64], cid[64];
    auth_stored st, fresh_st;
    long long now = clock_wall_ms();
    int fd, have, stale_ok, rc = -1;

    token_file(api, file, sizeof file);
    token_lock_name(file, lock, sizeof lock);
    fd = store_lock(lock, 1);
    if (fd < 0)
        LOG_WARN("auth", "cannot lock the token store; continuing without "
                 "the cross-process lock");
    /* Re-read under the lock: another process may have just done this. */
    have = stored_read(file, &st) == 0 &&
           !(failed && strcmp(st.token, failed) == 0);
    if (have && fresh(st.expires_ms, now)) {
        adopt(api, &st, "store", 0);
        rc = 0;
        goto out;
    }
    /* Still valid, only inside the safety margin: usable if no new one. */
    stale_ok = have && st.expires_ms > now;
    if (client_id_get(cid, sizeof cid, err) != 0)
        goto out;
    rc = request_token(api, ctl, cid, stale_ok, &fresh_st, err);
    if (rc != 0 && err->kind == NEMO_E_CLIENT_ID) {
        LOG_WARN("auth", "the backend rejected client id %s; generating a "
                 "new one", cid);
        if (client_id_create(cid, sizeof cid) != 0) {
            err_set(err, NEMO_E_IO, "Cannot save a new client id in the "
                    "config dir");
            goto out;
        }
        rc = request_token(api, ctl, cid, stale_ok, &fresh_st, err);
    }
    if (rc != 0 && stale_ok && err->kind != NEMO_E_CANCELLED) {
        LOG_WARN("auth", "could not renew the token before it expires (%s); "
                 "using it until then", err_kind_name(err->kind));
        adopt(api, &st, "store", 1);
        rc = 0;
        goto out;
    }
    if (rc != 0) {
        if (err->kind == NEMO_E_RATE)
            rate_limited_message(err, cid);
        goto out;
    }
    if (stored_write(api, file, &fresh_st) != 0)
        LOG_WARN("auth", "could not save the new token; other processes "
                 "will not see it");
    adopt(api, &fresh_st, "new", 0);
    LOG_INFO("auth", "obtained a new anonymous token for client id %s", cid);
out:
    memset(&st, 0, sizeof st);
    memset(&fresh_st, 0, sizeof fresh_st);
    store_unlock(fd);
    return rc;
}

/* ---- public ---- */

static int env_token(nemo_api *api)
{
    const char *env = getenv("NEMO_TOKEN");
    auth_stored st;

    if (!env || !*env || strlen(env) >= sizeof st.token)
        return 0;
    memset(&st, 0, sizeof st);
    snprintf(st.token, sizeof st.token, "%s", env);
    trim(st.token);
    if (!st.token[0])
        return 0;
    adopt(api, &st, "env", 0);
    memset(&st, 0, sizeof st);
    return 1;
}

static int current_usable(nemo_api *api)
{
    long long now = clock_wall_ms();
    int ok;

    pthread_mutex_lock(&api->mu);
    ok = api->token[0] &&
         (strcmp(api->token_source, "env") == 0 ||
          fresh(api->token_expires_ms, now) ||
          (api->token_keep && now < api->token_expires_ms));
    pthread_mutex_unlock(&api->mu);
    return ok;
}

int api_auth_ensure(nemo_api *api, api_ctl *ctl, nemo_err *err)
{
    int rc = 0;

    if (current_usable(api))
        return 0;
    pthread_mutex_lock(&api->auth_mu);
    if (!current_usable(api) && !env_token(api))
        rc = acquire(api, ctl, NULL, err);
    pthread_mutex_unlock(&api->auth_mu);
    return rc;
}

int api_auth_refresh(nemo_api *api, api_ctl *ctl, unsigned seen_generation,
                     nemo_err *err)
{
    char failed[API_TOKEN_MAX];
    int rc = 0, is_env;

    pthread_mutex_lock(&api->auth_mu);
    pthread_mutex_lock(&api->mu);
    if (api->token_generation != seen_generation) {
        /* Another thread already replaced the token that failed. */
        pthread_mutex_unlock(&api->mu);
        goto out;
    }
    is_env = strcmp(api->token_source, "env") == 0;
    snprintf(failed, sizeof failed, "%s", api->token);
    pthread_mutex_unlock(&api->mu);
    if (is_env) {
        err_set(err, NEMO_E_AUTH,
                "The token in NEMO_TOKEN was rejected by the backend "
                "(expired or invalid). Set NEMO_TOKEN to a valid token, or "
                "unset it to use an anonymous token.");
        rc = -1;
        goto out;
    }
    rc = acquire(api, ctl, failed, err);
    memset(failed, 0, sizeof failed);
out:
    pthread_mutex_unlock(&api->auth_mu);
    return rc;
}

void api_auth_describe(nemo_api *api, api_auth_info *out)
{
    char file[64];
    auth_stored st;
    const char *env = getenv("NEMO_TOKEN");

    memset(out, 0, sizeof *out);
    token_file(api, file, sizeof file);
    if (store_path(file, out->store_path, sizeof out->store_path) != 0)
        out->store_path[0] = '\0';
    /* The shared client_id file is the truth; else the token's record. */
    if (client_id_load(out->client_id, sizeof out->client_id) != 0)
        out->client_id[0] = '\0';
    pthread_mutex_lock(&api->mu);
    if (api->token[0]) {
        snprintf(out->source, sizeof out->source, "%s", api->token_source);
        out->expires_ms = api->token_expires_ms;
        if (!out->client_id[0])
            snprintf(out->client_id, sizeof out->client_id, "%s",
                     api->client_id);
    }
    pthread_mutex_unlock(&api->mu);
    /* Not acquired yet: say what would be used, without acquiring. */
    if (!out->source[0]) {
        if (env && *env) {
            snprintf(out->source, sizeof out->source, "env");
        } else if (stored_read(file, &st) == 0) {
            snprintf(out->source, sizeof out->source, "store");
            out->expires_ms = st.expires_ms;
            if (!out->client_id[0])
                snprintf(out->client_id, sizeof out->client_id, "%s",
                         st.client_id);
        } else {
            snprintf(out->source, sizeof out->source, "none");
        }
        memset(&st, 0, sizeof st);
    }
}
