/* links.c - links a person opens in the browser: the claim link of a
 * project and the registration link of an anonymous account.
 *
 * Both live on the web base (NEMO_WEB_URL, default https://nemovideo.com),
 * never on the API base, and neither ever carries the API token: the claim
 * link holds a claim token made for the purpose (POST
 * /api/auth/claim-token), which is safe to show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/num.h"

#define LINKS_CLAIM_PATH "/api/auth/claim-token"
#define LINKS_CLAIM_PAGE "/workspace/claim?ct="
/* The registration page is not documented by NemoVideo (the skill says
 * only "a registration URL with ?bind=<id>"); this is our best guess at
 * the path, and the only place it is spelled. */
#define LINKS_REGISTER_PAGE "/register?bind="
#define LINKS_CLAIM_TTL_MAX_S (366LL * 24 * 3600)
/* A cached link is renewed this long before its claim token expires. */
#define LINKS_CLAIM_MARGIN_MS (10LL * 60 * 1000)
#define LINKS_CLAIM_TIMEOUT_MS 15000

int api_set_web(nemo_api *api, nemo_err *err)
{
    const char *env = getenv("NEMO_WEB_URL");
    const char *web = API_DEFAULT_WEB, *src = "default";

    if (env && *env) {
        web = env;
        src = "NEMO_WEB_URL";
    }
    if (api_url_set(api->web, sizeof api->web, api->web_source,
                    sizeof api->web_source, web, src, "Web URL", err) != 0)
        return -1;
    if (strchr(api->web, '?') || strchr(api->web, '#')) {
        err_set(err, NEMO_E_CONFIG, "The web URL from %s must not have a "
                "query or fragment", src);
        return -1;
    }
    return 0;
}

const char *api_web_url(const nemo_api *api)
{
    return api->web;
}

/* ---- user id ---- */

const char *api_user_id_of(const cJSON *data)
{
    /* user_id today; the seeds' answers called it bind_id. */
    static const char *const keys[] = { "user_id", "userId", "bind_id",
                                        "bindId" };
    size_t i;

    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, keys[i]);

        if (cJSON_IsString(v))
            return api_user_id_usable(v->valuestring) ? v->valuestring
                                                      : NULL;
    }
    return NULL;
}

void api_note_user_id(nemo_api *api, const cJSON *data)
{
    const char *v = api_user_id_of(data);

    if (!v)
        return;
    pthread_mutex_lock(&api->mu);
    snprintf(api->user_id, sizeof api->user_id, "%s", v);
    pthread_mutex_unlock(&api->mu);
}

int api_register_url(nemo_api *api, const char *bind_id, char *out, size_t n)
{
    char id[API_USER_ID_MAX] = "";
    int len;

    if (bind_id && *bind_id) {
        snprintf(id, sizeof id, "%s", bind_id);
    } else {
        pthread_mutex_lock(&api->mu);
        /* Registered accounts top up instead: no bind link for them. */
        if (strncmp(api->user_id, "anon_", 5) == 0)
            snprintf(id, sizeof id, "%s", api->user_id);
        pthread_mutex_unlock(&api->mu);
    }
    if (!id[0] || !api_user_id_usable(id))
        return -1;
    len = snprintf(out, n, "%s" LINKS_REGISTER_PAGE "%s", api->web, id);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

/* ---- claim link ---- */

int api_claim_parse(const cJSON *data, long long now_ms, char *token,
                    size_t n, long long *expires_ms, nemo_err *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(data, "claim_token");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(data, "expires_in");
    long long s;
    size_t i;

    if (!cJSON_IsString(t))
        t = cJSON_GetObjectItemCaseSensitive(data, "claimToken");
    if (!cJSON_IsString(t) || !t->valuestring[0] ||
        strlen(t->valuestring) >= n) {
        err_set(err, NEMO_E_PROTOCOL, "The claim-token answer had no "
                "claim_token");
        return -1;
    }
    /* It goes into a URL query unescaped: only URL-safe characters. */
    for (i = 0; t->valuestring[i]; i++) {
        char c = t->valuestring[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("_-.~", c))) {
            err_set(err, NEMO_E_PROTOCOL, "The claim token has characters "
                    "that do not belong in a link");
            return -1;
        }
    }
    snprintf(token, n, "%s", t->valuestring);
    if (!e)
        e = cJSON_GetObjectItemCaseSensitive(data, "expiresIn");
    *expires_ms = num_ll(e, 1, LINKS_CLAIM_TTL_MAX_S, &s) == 0
                      ? now_ms + s * 1000 : 0;
    return 0;
}

static int claim_cached(nemo_api *api, const char *sid, char *out, size_t n)
{
    long long now = clock_wall_ms();
    int hit = 0;
    size_t i;

    pthread_mutex_lock(&api->mu);
    for (i = 0; i < API_CLAIM_CACHE && !hit; i++) {
        api_claim *c = &api->claims[i];

        if (c->session[0] && strcmp(c->session, sid) == 0 &&
            now < c->expires_ms - LINKS_CLAIM_MARGIN_MS &&
            strlen(c->url) < n) {
            snprintf(out, n, "%s", c->url);
            hit = 1;
        }
    }
    pthread_mutex_unlock(&api->mu);
    return hit;
}

/* Replace this session's entry, else the one expiring first. */
static void claim_store(nemo_api *api, const char *sid, const char *url,
                        long long expires_ms)
{
    size_t i, pick = 0;

    pthread_mutex_lock(&api->mu);
    for (i = 0; i < API_CLAIM_CACHE; i++) {
        if (strcmp(api->claims[i].session, sid) == 0 ||
            !api->claims[i].session[0]) {
            pick = i;
            break;
        }
        if (api->claims[i].expires_ms < api->claims[pick].expires_ms)
            pick = i;
    }
    snprintf(api->claims[pick].session, sizeof api->claims[pick].session,
             "%s", sid);
    snprintf(api->claims[pick].url, sizeof api->claims[pick].url, "%s", url);
    api->claims[pick].expires_ms = expires_ms;
    pthread_mutex_unlock(&api->mu);
}

/* The backend gives a session's task id only when it creates it (the
 * state answer has none): known for the current session and the ones this
 * nemo-mcp started (session.c keeps them), not for one made elsewhere. */
static int claim_task_id(nemo_api *api, const char *sid, const char *given,
                         char *out, size_t n)
{
    if (given && *given) {
        snprintf(out, n, "%s", given);
        return 0;
    }
    return api_session_task_id(api, sid, out, n);
}

int api_claim_url(nemo_api *api, api_ctl *ctl, const char *sid,
                  const char *task_id, char *out, size_t n)
{
    char task[API_SESSION_MAX], ct[512], url[1024];
    cJSON *body = NULL, *data = NULL;
    long long expires = 0;
    char *json = NULL;
    api_send_opts o;
    nemo_err err;
    int rc = -1, len;

    if (!sid || !*sid)
        return -1;
    if (claim_cached(api, sid, out, n))
        return 0;
    /* The endpoint wants the task too. */
    if (claim_task_id(api, sid, task_id, task, sizeof task) != 0) {
        LOG_INFO("links", "no claim link for session %s: its task id is "
                 "not known", sid);
        return API_CLAIM_NO_TASK;
    }
    err_clear(&err);
    body = cJSON_CreateObject();
    if (!body || !cJSON_AddStringToObject(body, "task_id", task) ||
        !cJSON_AddStringToObject(body, "session_id", sid) ||
        !(json = cJSON_PrintUnformatted(body)))
        goto out;
    memset(&o, 0, sizeof o);
    o.method = "POST";
    o.path = LINKS_CLAIM_PATH;
    o.body = json;
    o.body_len = strlen(json);
    /* No retries on a server error: a missing link must not hold up the
     * tool (the next call asks again). */
    o.idempotent = 0;
    o.no_rate_retry = 1;
    o.total_timeout_ms = LINKS_CLAIM_TIMEOUT_MS;
    if (api_send(api, ctl, &o, &data, &err) != 0 ||
        api_claim_parse(data, clock_wall_ms(), ct, sizeof ct, &expires,
                        &err) != 0) {
        /* Only a link is missing: the tool still succeeds. */
        if (err.kind != NEMO_E_CANCELLED)
            LOG_WARN("links", "no claim link for session %s: %s", sid,
                     err.message);
        goto out;
    }
    len = snprintf(url, sizeof url, "%s" LINKS_CLAIM_PAGE "%s", api->web,
                   ct);
    if (len < 0 || (size_t)len >= sizeof url || (size_t)len >= n)
        goto out;
    /* Expiry not said: renew it after an hour. */
    claim_store(api, sid, url, expires ? expires
                                       : clock_wall_ms() + 3600 * 1000LL);
    snprintf(out, n, "%s", url);
    rc = 0;
out:
    free(json);
    cJSON_Delete(body);
    cJSON_Delete(data);
    return rc;
}
