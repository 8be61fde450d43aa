/* tools_internal.h - shared by the files of src/tools/ only. */
#ifndef NEMO_TOOLS_INTERNAL_H
#define NEMO_TOOLS_INTERNAL_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "nemo/api.h"
#include "nemo/buf.h"
#include "nemo/error.h"
#include "nemo/job.h"
#include "nemo/timeline.h"
#include "nemo/tool.h"

#define TOOL_WAIT_DEFAULT_S 45

/* The tool definitions (one per file), in registry.c's order. */
extern const tool_def tool_credits_def;
extern const tool_def tool_session_def;
extern const tool_def tool_upload_def;
extern const tool_def tool_generate_def;
extern const tool_def tool_job_def;
extern const tool_def tool_state_def;
extern const tool_def tool_export_def;

/* Resumers (registered by tool_register_resumers). */
int tool_generate_resume(const cJSON *record, job_fn *fn, void **arg,
                         void (**arg_free)(void *), nemo_result *out);
int tool_export_resume(const cJSON *record, job_fn *fn, void **arg,
                       void (**arg_free)(void *), nemo_result *out);
int tool_upload_resume(const cJSON *record, job_fn *fn, void **arg,
                       void (**arg_free)(void *), nemo_result *out);
/* The backend client resumed jobs use (set by tool_register_resumers);
 * NULL before. */
nemo_api *tool_resume_api(void);

/* ---- common.c ---- */
void tool_ctl_init(api_ctl *ctl, nemo_cancel *cancel,
                   const nemo_progress *progress);
/* Replace out's result with a success: structured (taken) + text. */
void tool_ok(tool_output *out, cJSON *structured, const char *text);
void tool_fail_msg(tool_output *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text a person reads for an error: message, what to do, and for
 * out-of-credits the registration link with ?bind=. Caller frees. */
char *tool_err_text(const nemo_err *err);
/* Same as tool_fail_err but into a job's result. */
void tool_result_err(nemo_result *r, const nemo_err *err);
/* The same with note (text only) added after the error's text. */
void tool_result_err_note(nemo_result *r, const nemo_err *err,
                          const char *note);
/* Resolve the optional "session" argument into sid; on failure fills out
 * with the error and returns -1. */
int tool_session(tool_call *call, api_ctl *ctl, const char *first_prompt,
                 char *sid, size_t n, tool_output *out);
/* After a call that may have hit 1002: adopt the new session id into sid,
 * mark st (may be NULL) and add a sentence to text (may be NULL). */
void tool_session_note(const api_ctl *ctl, char *sid, size_t n,
                       cJSON *st, nemo_buf *text);
void tool_session_reset_note(const char *old_sid, const char *new_sid,
                             cJSON *st, nemo_buf *text);
/* api_state_get, and when the backend lost the session (1002) a new
 * current session in its place: ctl->session_reset/new_session are set and
 * the new (empty) state returned. sid is not changed. */
int tool_state_get(nemo_api *api, api_ctl *ctl, const char *sid,
                   cJSON **state, nemo_err *err);
/* "45s", "2m10s", "1h02m". */
void tool_fmt_duration(long long ms, char *buf, size_t n);
/* "812 bytes", "3.4 KB", "12.3 MB", "1.20 GB". */
void tool_fmt_bytes(long long bytes, char *buf, size_t n);
/* The session's claim link (api_claim_url); -1 when there is none, which
 * never fails the tool, API_CLAIM_NO_TASK for a session started elsewhere.
 * tool_claim_text adds the line that offers it; tool_claim_missing_text
 * the line that says why there is none (for rc API_CLAIM_NO_TASK). */
int tool_claim_url(nemo_api *api, nemo_cancel *cancel, const char *sid,
                   char *out, size_t n);
void tool_claim_text(nemo_buf *b, const char *url);
void tool_claim_missing_text(nemo_buf *b, int rc);
/* canvas_config, when the state gives one: st.canvas {width, height,
 * aspect_ratio} and "Canvas: 1920x1080 (16:9)." in the text (the `state`
 * tool and generate's state route). */
void tool_canvas_report(const cJSON *state, cJSON *st, nemo_buf *text);
/* The draft in a state object (borrowed, may be NULL) and a copy of its
 * generated media as an array (never NULL unless out of memory). */
const cJSON *tool_state_draft(const cJSON *state);
cJSON *tool_state_media(const cJSON *state);
/* The session's timeline as a tool reads it: session resolved, state
 * fetched, draft parsed and summarised. */
typedef struct tool_snapshot {
    char sid[API_SESSION_MAX];
    api_ctl ctl;
    cJSON *state;       /* data.state */
    timeline tl;
    char *summary;      /* timeline_summary(&tl) */
} tool_snapshot;
/* 0 and *snap filled (free with tool_snapshot_free), or -1 with the error
 * already in out. */
int tool_snapshot_read(tool_call *call, tool_snapshot *snap,
                       tool_output *out);
void tool_snapshot_free(tool_snapshot *snap);
/* wait_seconds argument in milliseconds (default 45 s, clamped 0..900). */
long long tool_wait_ms(const cJSON *args);
/* Wait for j up to wait_ms, forwarding progress to the call. When the
 * call itself is cancelled (notifications/cancelled) and this call started
 * the job (owned: nobody else holds its handle), the job is cancelled too,
 * so its HTTP transfer stops now rather than running on unseen. */
job_status tool_job_wait(tool_call *call, nemo_job *j, int owned,
                         long long wait_ms);
/* Turn the state of j after a wait into out: the job's own final result
 * when finished, else a running or cancelled report. extra (borrowed, may
 * be NULL) is merged into those reports. */
void tool_job_report(nemo_job *j, job_status st, const cJSON *extra,
                     tool_output *out);
/* Set out->job_id and a running report (task mode: return at once). */
void tool_job_handoff(nemo_job *j, const cJSON *extra, tool_output *out);
/* Merge every member of src (borrowed) into dst, replacing same keys. */
void tool_json_merge(cJSON *dst, const cJSON *src);
/* A suggested next call {tool, arguments (taken; NULL: {}), why}: the
 * `actions` of a result. */
cJSON *tool_action(const char *tool, cJSON *arguments, const char *why);
/* The text of a result's actions: "\n\nNext steps:\n- `tool` {args}: why"
 * (nothing when there are none). The one renderer, so the text and the
 * structured result name the same calls. */
void tool_actions_text(const cJSON *actions, nemo_buf *text);
/* "\nGenerated media (n):\n- label" for the first TOOL_MEDIA_SHOWN items
 * of a generated_media array (nothing when empty). */
#define TOOL_MEDIA_SHOWN 5
void tool_media_text(const cJSON *media, nemo_buf *text);
/* Strings: a JSON array of strings joined as "- a\n- b". Caller frees. */
char *tool_bullets(const cJSON *array);

/* ---- credits.c ---- */
/* "You have 90 credits available (0 frozen, 100 total)." */
void tool_credits_sentence(const api_credits *c, char *buf, size_t n);

/* ---- export.c ---- */
typedef struct tool_export_req {
    const char *session;      /* NULL: current */
    const char *quality;      /* NULL: "high" */
    const char *format;       /* NULL: "mp4" */
    const char *download_to;  /* NULL: no download */
    int overwrite;
    long long wait_ms;
    int generate_shape;       /* report as generate {route:"export"} */
} tool_export_req;
int tool_export_begin(tool_call *call, const tool_export_req *req,
                      tool_output *out);
/* Where a download goes: download_to as a file path, or an existing
 * directory + "/<name>.mp4", under the rules of api_download_target
 * (fsp_download_target: .mp4 only, no hidden folders, roots; overwrite
 * replaces only an MP4). -1 with msg when refused. */
int tool_download_target(const char *download_to, const char *name,
                         int overwrite, char *out, size_t n, char *msg,
                         size_t mn);
/* Render status word -> 1 done, -1 failed, 0 still going. */
int tool_render_phase(const char *status);

/* ---- upload.c ---- */
/* Copy the id-like fields of a backend item (id, file_id, media_id...)
 * into entry. */
void tool_upload_copy_ids(const cJSON *item, cJSON *entry);
/* The backend's entry for the idx-th uploaded input of one response, or
 * NULL (borrowed). */
const cJSON *tool_upload_item(const cJSON *data, int idx);

/* ---- ask.c: asking the person through the host ---- */
/* One agent turn on session sid as a job, reported into out. */
typedef int (*tool_turn_fn)(tool_call *call, const char *sid,
                            const char *prompt, const char *request_id,
                            tool_output *out);
/* out holds a generate result. While it is "needs_input" and the person
 * can be asked, ask and send the answer to the agent as the next turn
 * (bounded rounds); the result then lists what was `answered`. */
void tool_ask_follow_up(tool_call *call, tool_turn_fn turn,
                        tool_output *out);
/* One agent turn on session sid inside job j (arg: the job's own), into
 * out. */
typedef void (*tool_job_turn_fn)(nemo_job *j, void *arg, const char *sid,
                                 const char *prompt, nemo_result *out);
/* The same inside a task's job (Tasks extension): while out is
 * "needs_input", the question waits on the job (job_input_wait, up to
 * wait_ms; 0: return at once) and an answer goes to the agent through
 * turn. Declined, cancelled or no answer: out stays needs_input. */
void tool_job_ask_follow_up(nemo_job *j, long long wait_ms,
                            tool_job_turn_fn turn, void *arg,
                            nemo_result *out);
/* A job journalled while it waited for the person (its resume "asking"
 * record) whose process died: out becomes that needs_input result, saying
 * the question went unanswered. -1 when the record cannot be read back. */
int tool_ask_restarted(const cJSON *asking, nemo_result *out);
/* A call retried with the person's answer (stateless era): out filled,
 * 1. 0: not such a call. */
int tool_ask_resumed(tool_call *call, tool_turn_fn turn, tool_output *out);
/* run(call, out); when that fails with a link the person must open (out
 * of credits, a plan that blocks export) and the host can show links, the
 * link is offered and, once the person accepts, run goes again once. */
int tool_with_link_retry(tool_call *call, tool_output *out,
                         int (*run)(tool_call *call, tool_output *out));

/* ---- generate.c ---- */
/* A generate-shaped result object with every field at its neutral value. */
cJSON *tool_generate_shape(const char *status, const char *route,
                           const char *reply);
/* The reply for a turn that ended without text. Caller frees. */
char *tool_silent_reply(const cJSON *changes);
/* One agent turn on session sid as a job, waited for as the call's
 * wait_seconds says (the tool_turn_fn of ask.c). */
int tool_generate_turn(tool_call *call, const char *sid, const char *prompt,
                       const char *request_id, tool_output *out);
/* The agent's questions as the output schema's `questions` array. */
cJSON *tool_questions_json(const adk_questions *q);

#endif
