/* api.h - the NemoVideo backend client.
 *
 * Wraps every call in the envelope {code,msg,data}, adds auth and
 * attribution headers, and applies the recovery table:
 *   1001 -> one new anonymous token, retry;  1002 -> new session, retry,
 *   ctl->session_reset = 1;  429 -> wait Retry-After/30 s
 *   (NEMO_RETRY_429_MS), retry once;  HTTP 400 on token acquisition ->
 *   nemo-mcp's own client id (the shared one is never replaced), retry
 *   once;  network/5xx -> bounded backoff retries for reads
 *   only. Requests that spend credits (run_sse) are never retried blindly.
 *
 * Thread-safe: one nemo_api is shared by all tool calls. */
#ifndef NEMO_API_H
#define NEMO_API_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "nemo/adk.h"
#include "nemo/cancel.h"
#include "nemo/error.h"
#include "nemo/progress.h"
#include "nemo/skill.h"

#define API_DEFAULT_BASE "https://mega-api-prod.nemovideo.ai"
#define API_SESSION_MAX 128
#define API_CLIENT_ID_MAX 64
#define API_USER_ID_MAX 128
#define API_DEFAULT_WEB "https://nemovideo.com"

typedef struct nemo_api nemo_api;

/* Per-call controls and side outputs. */
typedef struct api_ctl {
    nemo_cancel *cancel;            /* may be NULL */
    const nemo_progress *progress;  /* may be NULL */
    /* Set when a 1002 made the client create a new session: the new id. */
    int session_reset;
    char new_session[API_SESSION_MAX];
} api_ctl;

/* Base URL: NEMO_API_URL, else NEMO_API_BASE (older name), else
 * skill->api_domain, else API_DEFAULT_BASE. Web URL (links for the
 * browser): NEMO_WEB_URL, else API_DEFAULT_WEB. Plain http only to
 * loopback for both. skill is copied. NULL + err on refused
 * configuration. */
nemo_api *api_new(const nemo_skill *skill, nemo_err *err);
void api_free(nemo_api *api);
const char *api_base_url(const nemo_api *api);
const nemo_skill *api_skill(const nemo_api *api);

/* ---- auth (api/auth.c) ---- */
typedef struct api_auth_info {
    char source[32];        /* "env" | "store" | "new" | "none" */
    long long expires_ms;   /* wall clock, 0 when unknown */
    char client_id[API_CLIENT_ID_MAX];
    /* "NEMO_CLIENT_ID" | "shared" (the ecosystem's file) | "own" (nemo-mcp's
     * replacement for a shared id it cannot use) | "unusable" | "" */
    char client_id_source[32];
    char client_id_path[512];
    char user_id[API_USER_ID_MAX];
    char store_path[512];
} api_auth_info;
/* NEMO_TOKEN trimmed into out; 0 when unset, empty or an unexpanded
 * "${...}" placeholder (warned once on stderr). */
int api_env_token(char *out, size_t n);
/* Make sure a token is available (env, store, or a new anonymous one,
 * shared safely between processes). Never exposes the token. */
int api_auth_ensure(nemo_api *api, api_ctl *ctl, nemo_err *err);
void api_auth_describe(nemo_api *api, api_auth_info *out);

/* ---- generic calls (api/client.c) ---- */
/* JSON request to path (e.g. "/api/credits/balance/simple"); *data gets the
 * envelope's data (owned by caller, may be JSON null). body may be NULL.
 * idempotent: allow retries on network errors/5xx. */
int api_call(nemo_api *api, api_ctl *ctl, const char *method,
             const char *path, const cJSON *body, int idempotent,
             cJSON **data, nemo_err *err);

/* ---- sessions (api/session.c) ---- */
typedef struct api_session {
    char id[API_SESSION_MAX];
    char task_id[API_SESSION_MAX];
    char language[16];
    char user_id[API_USER_ID_MAX];  /* from the answer, "" when not given */
    int created;   /* 1 when made by this call */
} api_session;
/* Language for a first prompt: Chinese/Japanese/Korean scripts -> zh/ja/ko,
 * else LANG's language, else "en". */
void api_detect_language(const char *prompt, char *out, size_t n);
int api_session_new(nemo_api *api, api_ctl *ctl, const char *language,
                    api_session *out, nemo_err *err);
/* The process's current session: remembered in the config dir
 * (session.json), created on first need with the language of first_prompt
 * (may be NULL). */
int api_session_current(nemo_api *api, api_ctl *ctl, const char *first_prompt,
                        api_session *out, nemo_err *err);
/* Make s the process's current session (in memory and in session.json),
 * as the `session` tool does after starting a new one. */
int api_session_set_current(nemo_api *api, const api_session *s,
                            nemo_err *err);
/* The current session if there is one (in memory, else the one the config
 * dir remembers for this backend), without creating one or touching the
 * network: 0 and *out, or -1 when there is none yet. */
int api_session_known(nemo_api *api, api_session *out);
/* Resolve a tool's optional "session" argument: the given id or current. */
int api_session_resolve(nemo_api *api, api_ctl *ctl, const char *given,
                        const char *first_prompt, char *out, size_t n,
                        nemo_err *err);

/* ---- links for the browser (api/links.c) ---- */
/* The claim link of a session ("open the project in the browser"):
 * <web>/workspace/claim?ct=<claim_token>, from POST /api/auth/claim-token,
 * cached per session until the claim token expires. task_id may be NULL
 * (the current session's, or that of a session this nemo-mcp started, is
 * used). 0 and out; -1 when there is none (logged, never an error for the
 * caller); API_CLAIM_NO_TASK when the session's task id is not known (a
 * session started elsewhere). Never contains the API token. */
#define API_CLAIM_NO_TASK (-2)
int api_claim_url(nemo_api *api, api_ctl *ctl, const char *sid,
                  const char *task_id, char *out, size_t n);
/* The registration link for an anonymous account out of credits:
 * <web>/register?bind=<id>. bind_id NULL: the account's user_id when it is
 * anonymous ("anon_..."). 0 and out; -1 when no id is known. */
int api_register_url(nemo_api *api, const char *bind_id, char *out,
                     size_t n);
const char *api_web_url(const nemo_api *api);

/* ---- credits, state ---- */
typedef struct api_credits { double available, frozen, total; } api_credits;
int api_credits_get(nemo_api *api, api_ctl *ctl, api_credits *out,
                    nemo_err *err);
/* data.state of /api/state/nemo_agent/me/<sid>/latest (owned by caller). */
int api_state_get(nemo_api *api, api_ctl *ctl, const char *sid,
                  cJSON **state, nemo_err *err);

/* The canvas of data.state.canvas_config ("canvas config: size, ratio"
 * in the skill; its fields are not documented, so the usual spellings are
 * read: width/height, size {width,height} or "1920x1080", ratio /
 * aspect_ratio as "16:9" or a number). */
typedef struct api_canvas {
    long long width, height;   /* pixels; -1 unknown */
    char ratio[48];            /* "16:9"; "" unknown */
} api_canvas;
/* Pure: 1 with *out when the state names a size or a ratio, else 0. */
int state_canvas_parse(const cJSON *state, api_canvas *out);

/* ---- upload (api/upload.c) ---- */
/* One local file, already checked by filecheck and still open: exactly
 * its first `bytes` bytes are sent from fd (never re-opened by path), and
 * a file that changes meanwhile fails the upload (see http_part). */
typedef struct api_upload_src {
    int fd;
    long long bytes;
    long long mtime_ns;          /* as checked; 0: not compared */
    const char *filename;        /* name sent to the server */
    const char *content_type;
} api_upload_src;
/* Stream src as multipart field "files". *data: the envelope data. */
int api_upload_file(nemo_api *api, api_ctl *ctl, const char *sid,
                    const api_upload_src *src, cJSON **data, nemo_err *err);
int api_upload_urls(nemo_api *api, api_ctl *ctl, const char *sid,
                    const char *const *urls, size_t n, cJSON **data,
                    nemo_err *err);

/* The upload answer, parsed (api/upload_answer.c). NemoVideo documents
 * data.files[{filename, file_type, cdn_url, duration, width, height}] and
 * session_state_applied; older answers said name/type/url/file_id. */
#define API_UPLOAD_FILES_MAX 64
typedef struct api_upload_item {
    char name[256];          /* filename | name; "" when not given */
    char type[32];           /* file_type | type */
    char url[2048];          /* cdn_url | url */
    long long duration_ms;   /* duration (seconds) * 1000; -1 unknown */
    long long width, height; /* pixels; -1 unknown */
} api_upload_item;
typedef struct api_upload_answer {
    api_upload_item *items;  /* owned; one per file the answer lists */
    size_t n;
    int state_applied;       /* session_state_applied: 1, 0, -1 unknown */
} api_upload_answer;
/* The idx-th per-file object of an answer (data.files[idx], or the other
 * list names servers use, or data itself for idx 0); NULL when none. */
const cJSON *upload_answer_item(const cJSON *data, int idx);
/* Pure: 0 and *out (free with upload_answer_free), or -1 with err for an
 * answer that is not an object or list. Absurd numbers are left out. */
int upload_answer_parse(const cJSON *data, api_upload_answer *out,
                        nemo_err *err);
void upload_answer_free(api_upload_answer *a);

/* ---- render + download (api/render.c, api/render_parse.c) ---- */
#define API_RENDER_ID_MAX 128
typedef struct api_render_status {
    char status[32];        /* queued | rendering | completed | failed |
                             * cancelled | unknown | the backend's word */
    double progress;        /* 0..100, -1 unknown (never NaN) */
    char url[2048];         /* output.url when completed, "" when none */
    long long bytes;        /* output.size when reported, else -1 */
    char message[256];      /* failure reason when failed */
} api_render_status;
typedef struct api_render_start_info {
    char render_id[API_RENDER_ID_MAX]; /* the id to poll; "" = the one sent */
} api_render_start_info;
/* Pure parsers of the backend's answers (the envelope's data, or the bare
 * answer when it has no envelope). 0 and *out, or -1 with err. */
int render_start_parse(const cJSON *answer, api_render_start_info *out,
                       nemo_err *err);
int render_status_parse(const cJSON *answer, api_render_status *out,
                        nemo_err *err);
/* Starts a render of draft; render_id ("render_<ms>") is chosen by the
 * caller so it can be journalled before the request is sent. info (may be
 * NULL) gets what the answer says, such as the id to poll. */
int api_render_start(nemo_api *api, api_ctl *ctl, const char *sid,
                     const char *render_id, const cJSON *draft,
                     const char *format, const char *quality,
                     api_render_start_info *info, nemo_err *err);
int api_render_status_get(nemo_api *api, api_ctl *ctl, const char *render_id,
                          api_render_status *out, nemo_err *err);
/* The documented fallback for a completed render without output.url:
 * <api>/api/render/proxy/<id>/download (same origin: sent with auth). */
int api_render_download_url(const nemo_api *api, const char *render_id,
                            char *out, size_t n, nemo_err *err);
/* A download of a finished render (or any backend-given link). */
typedef struct api_download_req {
    const char *url;
    const char *dest;          /* file path; checked again here by the
                                * download rules (fsp_download_target) */
    int overwrite;             /* replace an existing dest that is an MP4 */
    long long expect_bytes;    /* size the render reported; -1 unknown */
    /* Called once the file is complete, checked and synced, just before
     * it is renamed into place: the caller records what it will claim. */
    void (*before_place)(void *ctx, long long bytes, const char *sha256);
    /* Called with the temp file's path once it exists (a process killed
     * mid-download leaves it; whoever resumes can remove it). */
    void (*on_temp)(void *ctx, const char *tmp);
    void *ctx;
} api_download_req;

/* Default hard cap on a download (NEMO_DOWNLOAD_MAX_BYTES overrides). */
#define API_DOWNLOAD_MAX_DEFAULT (4LL << 30)

/* Stream req->url to a temp file beside dest: at most expect_bytes (when
 * known) and NEMO_DOWNLOAD_MAX_BYTES; a Content-Length that disagrees, a
 * short or long body, or a body that is not a whole ISO-BMFF file (see
 * mp4.h) fails. Then fsync, before_place, rename into place. Never
 * replaces an existing dest unless overwrite, and then only an MP4.
 * Backend links are https to public addresses only, unless the API base
 * itself is loopback (tests). Leaves nothing behind on failure. */
int api_download(nemo_api *api, api_ctl *ctl, const api_download_req *req,
                 long long *bytes, nemo_err *err);

/* Where a download goes (fsp_download_target), plus: an existing file is
 * replaced (overwrite) only when it is itself an MP4. 0 with out; -1 with
 * a reason for a person. */
int api_download_target(const char *download_to, const char *name,
                        int overwrite, char *out, size_t n, char *reason,
                        size_t rn);

/* Remove a temp file an earlier api_download of dest left behind (a
 * process killed mid-download): only a regular file beside dest named
 * like the ones api_download makes. */
void api_download_drop_temp(const char *dest, const char *tmp);

/* 1 when path is a regular file (not a symlink) of exactly bytes bytes
 * whose SHA-256 is sha256 (hex): the file a download wrote. */
int api_download_is_ours(const char *path, long long bytes,
                         const char *sha256);

/* Non-zero when links handed over by the backend may use plain http and
 * loopback addresses: only when the API base itself is loopback (local
 * tests). NEMO_TEST_REMOTE_BASE=1 makes a loopback base count as remote
 * for this decision alone, so tests can exercise the remote rules without
 * TLS; it can only make the rules stricter. */
int api_backend_links_local_ok(const nemo_api *api);

/* ---- agent turn over SSE (api/agent.c) ---- */
typedef struct api_turn {
    char *reply;            /* final text, owned; NULL when silent */
    int saw_text;
    int function_calls;     /* count */
    char last_tool[64];     /* last function call name */
    int heartbeats;
    long long elapsed_ms;
    /* Set when the call failed after the request reached the agent (the
     * stream dropped, timed out, or sent only heartbeats for
     * NEMO_SSE_IDLE_MS): the turn may still finish on the backend, so the
     * caller reads the state instead of sending the prompt again. */
    int interrupted;
    int noise_dropped;      /* a trailing "temporary issue" was cut */
    /* The turn ended waiting for the person: the agent's questions (at
     * least one; a turn that waits without an ask_question call gets its
     * reply as the one question). */
    int needs_input;
    adk_questions questions;
} api_turn;
void api_turn_free(api_turn *t);
/* POST /run_sse and read the stream to its end (cap 15 minutes; only
 * heartbeats for NEMO_SSE_IDLE_MS, default 10 minutes, is a timeout too).
 * Progress
 * messages: "thinking", "running add_bgm", "still working, 2m10s". An ADK
 * error event fails the call (NEMO_E_BACKEND with its message). */
int api_agent_turn(nemo_api *api, api_ctl *ctl, const char *sid,
                   const char *text, api_turn *out, nemo_err *err);

#endif
