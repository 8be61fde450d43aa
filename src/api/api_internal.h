/* api_internal.h - shared by the files of src/api/ only. */
#ifndef NEMO_API_INTERNAL_H
#define NEMO_API_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "nemo/api.h"
#include "nemo/http.h"

#define API_TOKEN_MAX 2048
#define API_CLAIM_CACHE 8

/* A token with what the backend said about it. */
typedef struct api_token {
    char token[API_TOKEN_MAX];
    char user_id[API_USER_ID_MAX];  /* "anon_..." for anonymous accounts */
    long long expires_ms;           /* wall clock; 0: unknown */
    long long obtained_ms;
    char client_id[API_CLIENT_ID_MAX];
} api_token;

/* A cached claim link (api/links.c). */
typedef struct api_claim {
    char session[API_SESSION_MAX];
    char url[1024];
    long long expires_ms;           /* wall clock */
} api_claim;

struct nemo_api {
    char base[512];             /* no trailing slash */
    char base_source[32];       /* NEMO_API_BASE | SKILL.md | default */
    nemo_skill skill;
    char user_agent[64];        /* "nemo-mcp/<version>" */
    pthread_mutex_t mu;         /* guards everything below */
    char token[API_TOKEN_MAX];  /* "" until api_auth_ensure */
    long long token_expires_ms; /* wall clock; 0 unknown */
    char token_source[32];      /* env | store | new */
    char client_id[API_CLIENT_ID_MAX];
    char client_id_mem[API_CLIENT_ID_MAX]; /* no usable config dir: this
                                 * process's own id, never written */
    char user_id[API_USER_ID_MAX]; /* the account's id ("anon_..."), from
                                 * the token, session or state answer */
    char web[512];              /* NEMO_WEB_URL, no trailing slash */
    char web_source[32];
    api_claim claims[API_CLAIM_CACHE]; /* guarded by mu */
    unsigned token_generation;  /* bumped on every new token */
    /* Added by api/auth.c + api/session.c: */
    pthread_mutex_t auth_mu;    /* one token acquisition at a time; taken
                                 * before mu, never while holding it */
    pthread_mutex_t session_mu; /* one session creation at a time */
    api_session current;        /* guarded by mu; id "" until known */
    char recovered_from[API_SESSION_MAX]; /* session the current one
                                 * replaced after a 1002 (session_mu) */
    int token_keep;             /* a refresh near expiry was refused: keep
                                 * using the token until it really expires */
};

/* One request through the recovery table (see api.h). */
typedef struct api_send_opts {
    const char *method;          /* "GET" | "POST" */
    const char *path;            /* "/api/..." or an absolute URL */
    const char *body;            /* JSON body or NULL */
    size_t body_len;
    const http_part *parts;      /* multipart instead of body */
    size_t nparts;
    const char *accept;          /* "text/event-stream"; NULL: JSON */
    int idempotent;              /* network/5xx retries allowed */
    int no_auth;                 /* token request itself */
    /* Streaming: a 2xx response whose Content-Type is not JSON goes here;
     * JSON envelopes (errors included) are always collected and parsed. */
    int (*on_data)(void *ctx, const char *data, size_t n);
    void *on_data_ctx;
    long total_timeout_ms;       /* 0: 60 s for JSON calls, none if on_data
                                  * or parts (uploads: low_speed 60 s) */
    long low_speed_secs;
    const char *progress_label;
    const char *const *extra_headers;  /* NULL-terminated, may be NULL */
    int no_rate_retry;           /* 429: fail at once, no wait + retry */
} api_send_opts;

/* Returns 0 and *data (envelope data, may be NULL for streamed bodies) on
 * success; -1 with err otherwise. 1001 triggers one token refresh + retry;
 * 429 one wait + retry; network errors/5xx up to 3 tries with backoff when
 * idempotent (or when the connection was never made); the backoff starts
 * at 500 ms (NEMO_RETRY_BACKOFF_MS overrides, for tests). With on_data, a
 * 2xx JSON answer (instead of a stream) is parsed and returned in *data.
 * HTTP 400 is NEMO_E_CLIENT_ID only for no_auth (token) requests, else
 * NEMO_E_BACKEND. 1002 is returned as NEMO_E_SESSION: the caller knows the
 * session and calls api_session_recover. */
int api_send(nemo_api *api, api_ctl *ctl, const api_send_opts *o,
             cJSON **data, nemo_err *err);

/* Parse a {code,msg,data} envelope. 0 and *data (may be NULL) when code 0
 * and 2xx; -1 with err (err_from_response) otherwise. */
int api_envelope_parse(int http_status, const char *body, size_t len,
                       cJSON **data, nemo_err *err);

/* Absolute URL for a path ("/api/x" -> base + path; absolute URLs pass
 * through after http_url_allowed). */
int api_url(const nemo_api *api, const char *path, char *out, size_t n,
            nemo_err *err);

/* The task id of sid: the current session's, else one this nemo-mcp
 * started (session.json). 0 and out; -1 when not known. */
int api_session_task_id(nemo_api *api, const char *sid, char *out, size_t n);

/* After a 1002: create a new session (language of the old one if known),
 * make it current, set ctl->session_reset/new_session. */
int api_session_recover(nemo_api *api, api_ctl *ctl, const char *old_sid,
                        char *new_sid, size_t n, nemo_err *err);

/* Force a new token (after 1001 with token_generation == seen_generation:
 * only one thread/process refreshes; the others reuse its token). */
int api_auth_refresh(nemo_api *api, api_ctl *ctl, unsigned seen_generation,
                     nemo_err *err);

/* The anonymous-token answer (data of the envelope) -> token, user_id and
 * expiry. now_ms: the wall clock at receipt. An absurd, past or missing
 * expiry never makes the token look expired: absent means the documented
 * 7 days, unbelievable means 0 ("unknown"). Pure; -1 with err when there
 * is no token. */
int auth_token_parse(const cJSON *data, long long now_ms, api_token *out,
                     nemo_err *err);
/* The session answer -> id, task id, user_id (out->user_id, "" when not
 * given). Pure; -1 with err when there is no session id. */
int api_session_parse(const cJSON *data, api_session *out, nemo_err *err);
/* The claim-token answer -> claim token and its expiry (now_ms + expires_in;
 * 0 when not said or absurd). Pure; -1 with err when there is none. */
int api_claim_parse(const cJSON *data, long long now_ms, char *token,
                    size_t n, long long *expires_ms, nemo_err *err);
/* A user id fit for a URL query (letters, digits, "_-.:", bounded). */
int api_user_id_usable(const char *s);
/* The account's user id in an answer (user_id, or the seeds' bind_id),
 * borrowed; NULL when there is none fit for a URL. */
const char *api_user_id_of(const cJSON *data);
/* Remember the account's user id from any answer that carries one. */
void api_note_user_id(nemo_api *api, const cJSON *data);
/* NEMO_WEB_URL (default https://nemovideo.com), checked like the API
 * base. */
int api_set_web(nemo_api *api, nemo_err *err);
/* url without trailing slashes into dst (cap bytes) and src (where it came
 * from) into src_dst, once http_url_allowed accepts it; what names it in
 * errors ("API base URL"). 0, or -1 with err. */
int api_url_set(char *dst, size_t cap, char *src_dst, size_t src_cap,
                const char *url, const char *src, const char *what,
                nemo_err *err);

/* URL-escape one path segment (session ids, render ids). */
int api_escape_segment(const char *in, char *out, size_t n);

/* Milliseconds a Retry-After value asks for (delta-seconds or HTTP-date,
 * relative to now_wall_ms); -1 when absent or unparsable. */
long long api_retry_after_ms(const char *value, long long now_wall_ms);

/* A short, single-line, printable excerpt of a (non-JSON) body for error
 * messages: an HTML page's <title> or its text without tags. */
void api_snippet(const char *body, size_t len, char *out, size_t n);

#endif
