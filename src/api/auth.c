/* auth.c - where the token comes from, and how processes share it.
 *
 *   1. NEMO_TOKEN in the environment wins (never written anywhere); empty
 *      or an unexpanded "${...}" placeholder counts as unset.
 *   2. Else the token store in nemo-mcp's state dir: token.json (0600, one
 *      file per backend base URL), shared by every nemo-mcp process; it
 *      keeps the token's user_id and expiry too.
 *   3. Else a new anonymous token for the client id: NEMO_CLIENT_ID, else
 *      the ecosystem's <config dir>/client_id (shared with other NemoVideo
 *      skills: read and trimmed, created only when absent, never
 *      rewritten).
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
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "api_internal.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/num.h"
#include "nemo/store.h"

#define AUTH_CLIENT_FILE "client_id"
#define AUTH_MARGIN_MS (5LL * 60 * 1000)          /* "expired" this early */
#define AUTH_DEFAULT_TTL_MS (7LL * 24 * 3600 * 1000)
#define AUTH_TOKEN_PATH "/api/auth/anonymous-token"
#define AUTH_FALLBACK_FILE "client_id_fallback.json"
/* The fallback key when the shared dir itself is refused: spaces make it
 * something no usable shared id can equal. */
#define AUTH_NO_SHARED_KEY "(shared config dir not used)"
#define AUTH_CLIENT_READ_MAX 4096
/* Expiries further out than this are not believed ("unknown"). */
#define AUTH_MAX_TTL_MS (10LL * 366 * 24 * 3600 * 1000)
#define AUTH_MAX_WALL_MS 4102444800000LL    /* 2100-01-01 */

typedef api_token auth_stored;

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

/* ---- client id ----
 *
 * The shared file may hold any id another skill wrote (`uuidgen`, or
 * "client-<epoch>-<random>" where uuidgen is missing): it is read, trimmed
 * and sent as it is. nemo-mcp writes it only when it does not exist. When
 * the id cannot be used (unprintable, too long, or refused by the backend
 * with HTTP 400), nemo-mcp does not touch the shared file: it keeps its own
 * replacement id in its state dir (client_id_fallback.json, keyed by a hash
 * of the refused id), so it stays stable across restarts and the other
 * skills keep theirs. */

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;

    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

/* Usable in an X-Client-Id header: 1..63 visible ASCII characters. */
static int client_id_usable(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
            return 0;
    return n > 0 && n < API_CLIENT_ID_MAX;
}

static void fnv_hex(const char *s, char *out, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    snprintf(out, n, "%016llx", h);
}

static void uuid_new(char out[37])
{
    uuid_t u;

    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

/* The shared file: 0 and out, 1 when absent, 2 when present but unusable
 * (raw: its trimmed content, for the fallback key), -1 on error. */
static int client_id_load(char *out, size_t n, char *raw, size_t rawn)
{
    char *data = NULL;
    int rc = store_config_read(AUTH_CLIENT_FILE, &data, NULL,
                               AUTH_CLIENT_READ_MAX);

    if (rc == 0) {
        trim(data);
        snprintf(raw, rawn, "%s", data);
        rc = client_id_usable(data) && strlen(data) < n ? 0 : 2;
        if (rc == 0)
            snprintf(out, n, "%s", data);
    } else if (rc < 0 && errno == EFBIG) {
        snprintf(raw, rawn, "(more than %d bytes)", AUTH_CLIENT_READ_MAX);
        rc = 2;
    }
    free(data);
    return rc;
}

/* nemo-mcp's own id for a shared id it cannot use; created on demand.
 * 0: found or created and kept; 1: created (out set) but not kept (state
 * dir not usable); -1: none. */
static int client_id_fallback(const char *rejected, int create, char *out,
                              size_t n)
{
    char key[20], *data = NULL, *json = NULL, id[37];
    cJSON *root = NULL, *o = NULL;
    const cJSON *k, *v;
    int rc = -1;

    fnv_hex(rejected, key, sizeof key);
    if (store_read(AUTH_FALLBACK_FILE, &data, NULL) == 0 &&
        (root = cJSON_Parse(data)) != NULL) {
        k = cJSON_GetObjectItemCaseSensitive(root, "rejected");
        v = cJSON_GetObjectItemCaseSensitive(root, "client_id");
        if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0 &&
            cJSON_IsString(v) && client_id_usable(v->valuestring) &&
            strlen(v->valuestring) < n) {
            snprintf(out, n, "%s", v->valuestring);
            rc = 0;
            goto out;
        }
    }
    if (!create)
        goto out;
    uuid_new(id);
    snprintf(out, n, "%s", id);
    o = cJSON_CreateObject();
    rc = o && cJSON_AddStringToObject(o, "rejected", key) &&
         cJSON_AddStringToObject(o, "client_id", id) &&
         (json = cJSON_PrintUnformatted(o)) != NULL &&
         store_write(AUTH_FALLBACK_FILE, json, strlen(json), 0600) == 0
         ? 0 : 1;
out:
    free(json);
    cJSON_Delete(o);
    cJSON_Delete(root);
    free(data);
    return rc;
}

/* The id to send. *src: "NEMO_CLIENT_ID" | "shared" | "own" | "state"
 * (the shared dir is refused) | "memory". */
static int client_id_get(nemo_api *api, char *out, size_t n,
                         const char **src, nemo_err *err)
{
    const char *env = getenv("NEMO_CLIENT_ID");
    char raw[API_CLIENT_ID_MAX * 2] = "", id[37], dir[PATH_MAX];
    int rc;

    if (env && *env) {
        snprintf(out, n, "%s", env);
        trim(out);
        *src = "NEMO_CLIENT_ID";
        if (client_id_usable(out) && strlen(env) < n)
            return 0;
        err_set(err, NEMO_E_CONFIG, "NEMO_CLIENT_ID is not usable as a "
                "client id: use 1-%d visible ASCII characters",
                API_CLIENT_ID_MAX - 1);
        return -1;
    }
    /* A refused shared dir is never read nor written: nemo-mcp's own id,
     * kept in the state dir so it is the same after a restart. */
    if (store_config_dir(dir, sizeof dir) != 0) {
        *src = "state";
        if (client_id_fallback(AUTH_NO_SHARED_KEY, 1, out, n) == 0)
            return 0;
        goto memory;
    }
    for (int tries = 0; tries < 2; tries++) {
        rc = client_id_load(out, n, raw, sizeof raw);
        if (rc == 0) {
            *src = "shared";
            /* Refused before (HTTP 400): our own replacement. */
            if (client_id_fallback(out, 0, out, n) == 0)
                *src = "own";
            return 0;
        }
        if (rc == 2) {
            LOG_WARN("auth", "the shared client_id file holds no usable id; "
                     "leaving it as it is and using nemo-mcp's own");
            *src = "own";
            if (client_id_fallback(raw, 1, out, n) == 0)
                return 0;
            goto memory;
        }
        if (rc != 1)
            break;
        uuid_new(id);
        rc = store_config_create(AUTH_CLIENT_FILE, id, strlen(id), 0600);
        if (rc == 0) {
            snprintf(out, n, "%s", id);
            *src = "shared";
            LOG_INFO("auth", "created client id %s", out);
            return 0;
        }
        if (rc < 0)
            break;
        /* rc 1: another process created it first; read theirs. */
    }
memory:
    /* Nowhere to keep an id: one for this process, never written. */
    pthread_mutex_lock(&api->mu);
    if (!api->client_id_mem[0]) {
        uuid_new(id);
        snprintf(api->client_id_mem, sizeof api->client_id_mem, "%s", id);
        LOG_WARN("auth", "cannot keep a client id in the shared config "
                 "dir nor in the state dir (see `nemo-mcp doctor`); using "
                 "a client id for this process only");
    }
    snprintf(out, n, "%s", api->client_id_mem);
    pthread_mutex_unlock(&api->mu);
    *src = "memory";
    return 0;
}

/* ---- the token answer (pure) ---- */

/* ISO 8601 "2026-11-28T08:00:00(.sss)(Z|+hh:mm)" -> ms; 0 when it is not
 * one. Field widths are bounded, so no conversion can overflow. */
static long long iso_ms(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
    const char *p;
    long long t;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
               &n) != 6 || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 ||
        sec < 0)
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
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) >= 1)
        t -= (*p == '+' ? 1 : -1) * ((long long)oh * 60 + om) * 60000;
    return t;
}

/* Seconds, milliseconds or ISO text, whatever the backend sends. -1: no
 * expiry given; 0: one was given but is not believable ("unknown": an
 * absurd number must not make the token look expired, or every call would
 * ask for a new one and the backend would answer 429); else wall ms. */
static long long expiry_of(const cJSON *data, long long now)
{
    static const char *const abs_keys[] = {
        "expires_at_ms", "expires_at", "expiresAt", "expire_at", "expireAt",
        "expired_at", "expiredAt", "expire_time", "expireTime", NULL };
    static const char *const rel_keys[] = { "expires_in", "expiresIn", NULL };
    long long v, ms = -1;
    size_t i;

    for (i = 0; abs_keys[i] && ms < 0; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(data, abs_keys[i]);

        if (cJSON_IsString(e))
            ms = iso_ms(e->valuestring);
        else if (cJSON_IsNumber(e))
            ms = num_ll(e, 1, AUTH_MAX_WALL_MS, &v) != 0 ? 0
                 : v > 100000000000LL ? v : v * 1000;   /* s or ms */
    }
    for (i = 0; rel_keys[i] && ms < 0; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(data, rel_keys[i]);

        if (e)
            ms = num_ll(e, 1, AUTH_MAX_TTL_MS / 1000, &v) == 0
                     ? now + v * 1000 : 0;
    }
    /* A token that was just issued is valid now: an expiry in the past (a
     * skewed clock) or absurdly far away is not believed. */
    if (ms > 0 && (ms <= now + AUTH_MARGIN_MS || ms > now + AUTH_MAX_TTL_MS))
        ms = 0;
    return ms;
}

static void copy_str(const cJSON *o, const char *a, const char *b, char *out,
                     size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    if (!cJSON_IsString(v) && b)
        v = cJSON_GetObjectItemCaseSensitive(o, b);
    out[0] = '\0';
    if (cJSON_IsString(v) && strlen(v->valuestring) < n)
        snprintf(out, n, "%s", v->valuestring);
}

int auth_token_parse(const cJSON *data, long long now_ms, api_token *out,
                     nemo_err *err)
{
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(data, "token");

    memset(out, 0, sizeof *out);
    if (!cJSON_IsString(tok))
        tok = cJSON_GetObjectItemCaseSensitive(data, "access_token");
    if (!cJSON_IsString(tok) || !tok->valuestring[0] ||
        strlen(tok->valuestring) >= sizeof out->token) {
        err_set(err, NEMO_E_PROTOCOL,
                "The backend's anonymous-token answer had no token");
        return -1;
    }
    snprintf(out->token, sizeof out->token, "%s", tok->valuestring);
    copy_str(data, "user_id", "userId", out->user_id, sizeof out->user_id);
    if (!api_user_id_usable(out->user_id))
        out->user_id[0] = '\0';
    out->obtained_ms = now_ms;
    out->expires_ms = expiry_of(data, now_ms);
    if (out->expires_ms < 0)   /* not said: the documented 7 days */
        out->expires_ms = now_ms + AUTH_DEFAULT_TTL_MS;
    return 0;
}

int api_user_id_usable(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && !strchr("_-.:", s[n]))
            return 0;
    return n > 0 && n < API_USER_ID_MAX;
}

/* ---- token store ---- */

/* 0 when a token was read (and registered as a secret). Numbers that do
 * not fit mean "unknown", never a cast of garbage. */
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
    st->expires_ms = num_ll_or(cJSON_GetObjectItemCaseSensitive(
                                   root, "expires_at_ms"),
                               0, AUTH_MAX_WALL_MS, 0);
    st->obtained_ms = num_ll_or(cJSON_GetObjectItemCaseSensitive(
                                    root, "obtained_at_ms"),
                                0, AUTH_MAX_WALL_MS, 0);
    copy_str(root, "user_id", NULL, st->user_id, sizeof st->user_id);
    if (!api_user_id_usable(st->user_id))
        st->user_id[0] = '\0';
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
    char *json = NULL, iso[40] = "";
    int rc = -1;

    if (st->expires_ms > 0)
        clock_iso8601(st->expires_ms, iso, sizeof iso);
    if (!o || !cJSON_AddStringToObject(o, "token", st->token) ||
        !cJSON_AddStringToObject(o, "user_id", st->user_id) ||
        !cJSON_AddStringToObject(o, "expires_at", iso) ||
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
    if (st->user_id[0] || strcmp(source, "env") == 0)
        snprintf(api->user_id, sizeof api->user_id, "%s", st->user_id);
    api->token_keep = keep;
    api->token_generation++;
    pthread_mutex_unlock(&api->mu);
}

/* ---- the token request ---- */

static int request_token(nemo_api *api, api_ctl *ctl, const char *client_id,
                         int no_rate_retry, auth_stored *out, nemo_err *err)
{
    char hdr[96];
    const char *extra[] = { hdr, NULL };
    api_send_opts o;
    cJSON *data = NULL;
    int rc;

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
    rc = auth_token_parse(data, clock_wall_ms(), out, err);
    if (rc == 0) {
        log_add_secret(out->token);
        snprintf(out->client_id, sizeof out->client_id, "%s", client_id);
    }
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
    char file[64], lock[64], cid[API_CLIENT_ID_MAX];
    const char *cid_src = "";
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
    if (client_id_get(api, cid, sizeof cid, &cid_src, err) != 0)
        goto out;
    rc = request_token(api, ctl, cid, stale_ok, &fresh_st, err);
    if (rc != 0 && err->kind == NEMO_E_CLIENT_ID &&
        strcmp(cid_src, "shared") == 0) {
        /* Never replace the shared file: keep our own id instead. */
        LOG_WARN("auth", "the backend rejected the shared client id %s "
                 "(HTTP 400); leaving the shared file untouched and using "
                 "nemo-mcp's own client id", cid);
        client_id_fallback(cid, 1, cid, sizeof cid);
        rc = request_token(api, ctl, cid, stale_ok, &fresh_st, err);
    }
    if (rc != 0 && err->kind == NEMO_E_CLIENT_ID &&
        strcmp(cid_src, "NEMO_CLIENT_ID") == 0)
        err_set(err, NEMO_E_CONFIG, "The backend rejected the client id in "
                "NEMO_CLIENT_ID (HTTP 400). Set NEMO_CLIENT_ID to another "
                "id, or unset it to use the shared one.");
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

/* NEMO_TOKEN, trimmed, into out (n bytes); 0 when it is unset, empty or
 * an unexpanded placeholder such as "${user_config.token}" (MCP bundle
 * hosts pass that for a blank optional field), with a warning once. */
int api_env_token(char *out, size_t n)
{
    static int warned;
    const char *env = getenv("NEMO_TOKEN");
    const char *why;
    size_t l = 0;

    out[0] = '\0';
    if (!env)
        return 0;
    if (strlen(env) < n) {
        snprintf(out, n, "%s", env);
        trim(out);
        l = strlen(out);
    }
    if (strlen(env) >= n)
        why = "too long to be a token";
    else if (l == 0)
        why = "empty";
    else if (l >= 3 && strncmp(out, "${", 2) == 0 && out[l - 1] == '}')
        why = "an unexpanded placeholder (the host left a blank field)";
    else
        return 1;
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        LOG_WARN("auth", "NEMO_TOKEN is %s; treating it as unset (an "
                 "anonymous token is used)", why);
    memset(out, 0, n);
    return 0;
}

static int env_token(nemo_api *api)
{
    auth_stored st;

    memset(&st, 0, sizeof st);
    if (!api_env_token(st.token, sizeof st.token))
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
    char file[64], envtok[API_TOKEN_MAX], raw[API_CLIENT_ID_MAX * 2];
    char dir[PATH_MAX];
    auth_stored st;
    int have_env = api_env_token(envtok, sizeof envtok);
    const char *cid_env = getenv("NEMO_CLIENT_ID");
    int rc;

    memset(envtok, 0, sizeof envtok);
    memset(out, 0, sizeof *out);
    token_file(api, file, sizeof file);
    if (store_path(file, out->store_path, sizeof out->store_path) != 0)
        out->store_path[0] = '\0';
    store_config_path(AUTH_CLIENT_FILE, out->client_id_path,
                      sizeof out->client_id_path);
    /* Say which client id would be sent, without creating one. */
    if (cid_env && *cid_env) {
        snprintf(out->client_id, sizeof out->client_id, "%s", cid_env);
        snprintf(out->client_id_source, sizeof out->client_id_source,
                 "NEMO_CLIENT_ID");
    } else if (store_config_dir(dir, sizeof dir) != 0) {
        if (client_id_fallback(AUTH_NO_SHARED_KEY, 0, out->client_id,
                               sizeof out->client_id) == 0)
            snprintf(out->client_id_source, sizeof out->client_id_source,
                     "state");
    } else if ((rc = client_id_load(out->client_id, sizeof out->client_id,
                                    raw, sizeof raw)) == 0) {
        snprintf(out->client_id_source, sizeof out->client_id_source,
                 client_id_fallback(out->client_id, 0, out->client_id,
                                    sizeof out->client_id) == 0
                     ? "own" : "shared");
    } else if (rc == 2) {
        snprintf(out->client_id_source, sizeof out->client_id_source,
                 "unusable");
        client_id_fallback(raw, 0, out->client_id, sizeof out->client_id);
    }
    pthread_mutex_lock(&api->mu);
    if (api->token[0]) {
        snprintf(out->source, sizeof out->source, "%s", api->token_source);
        out->expires_ms = api->token_expires_ms;
        if (!out->client_id[0])
            snprintf(out->client_id, sizeof out->client_id, "%s",
                     api->client_id);
    }
    snprintf(out->user_id, sizeof out->user_id, "%s", api->user_id);
    pthread_mutex_unlock(&api->mu);
    /* Not acquired yet: say what would be used, without acquiring. */
    if (!out->source[0]) {
        if (have_env) {
            snprintf(out->source, sizeof out->source, "env");
        } else if (stored_read(file, &st) == 0) {
            snprintf(out->source, sizeof out->source, "store");
            out->expires_ms = st.expires_ms;
            if (!out->user_id[0])
                snprintf(out->user_id, sizeof out->user_id, "%s",
                         st.user_id);
            if (!out->client_id[0])
                snprintf(out->client_id, sizeof out->client_id, "%s",
                         st.client_id);
        } else {
            snprintf(out->source, sizeof out->source, "none");
        }
        memset(&st, 0, sizeof st);
    }
}
