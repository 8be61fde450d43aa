/* tool.h - the contract between the MCP layer and the tools.
 *
 * The MCP layer validates arguments against the inputSchema of
 * schemas/<tool>.json, then calls the tool's function on a worker thread.
 * Tools never see JSON-RPC: they read args, report progress, honour cancel,
 * and fill a nemo_result whose structured part matches that file's
 * outputSchema. */
#ifndef NEMO_TOOL_H
#define NEMO_TOOL_H

#include <cjson/cJSON.h>
#include "nemo/api.h"
#include "nemo/cancel.h"
#include "nemo/job.h"
#include "nemo/progress.h"
#include "nemo/result.h"
#include "nemo/skill.h"

/* Shared by every call; owned by main/cli. */
typedef struct tool_env {
    nemo_api *api;              /* NULL when the base URL was refused */
    job_table *jobs;
    const nemo_skill *skill;
    /* What is wrong with the configuration and how to fix it, or NULL.
     * When set the server still starts (hosts show only "failed to
     * connect" for a server that exits), and every tool call fails with
     * this text instead of running. */
    const char *config_problem;
} tool_env;

/* ---- asking the person (the MCP layer implements this per era) ----
 * A tool may put a question, or a link to open, in front of the person
 * through the host. Handshake era: the hook waits for the answer. Stateless
 * era (2026-07-28): the hook answers TOOL_ASK_SUSPENDED; the tool returns
 * at once (what it fills in is not sent), the question leaves with the
 * call's result, and the host calls the tool again with the person's
 * answer in call->resumed, together with the `resume` the tool gave. */
typedef enum {
    TOOL_ASK_ACCEPTED = 0,   /* answered (form: *answers), link accepted */
    TOOL_ASK_DECLINED,       /* declined or dismissed */
    TOOL_ASK_UNSUPPORTED,    /* the host cannot ask this way */
    TOOL_ASK_SUSPENDED,      /* stateless era: return now, see above */
    TOOL_ASK_FAILED          /* no answer: timeout, error, cancelled */
} tool_ask_status;

typedef struct tool_ask {
    const char *message;     /* what the person reads */
    /* A form: [{id, prompt, options[]}] (each question a choice among its
     * options plus a free answer); or NULL with url set: a link. */
    const cJSON *questions;
    const char *url;
    const cJSON *resume;     /* stateless era: handed back; copied */
} tool_ask;

typedef struct tool_asker {
    /* *answers (form, accepted): {"<question id>": "<answer>"}, owned by
     * the caller; questions left blank are absent. */
    tool_ask_status (*ask)(void *ctx, const tool_ask *q, cJSON **answers);
    /* A link the person accepted, then the request ran again and
     * succeeded: the step in the browser is complete (the MCP layer may
     * tell the host so). May be NULL. */
    void (*link_done)(void *ctx);
    void *ctx;
} tool_asker;

/* A call retried with the person's answer (stateless era). */
typedef struct tool_resumed {
    const cJSON *resume;     /* the tool's own resume; NULL: a fresh call */
    tool_ask_status status;  /* TOOL_ASK_ACCEPTED or TOOL_ASK_DECLINED */
    const cJSON *answers;    /* form answers, as above; may be NULL */
} tool_resumed;

typedef struct tool_call {
    tool_env *env;
    const cJSON *args;               /* validated arguments object */
    nemo_cancel *cancel;             /* the request's cancel token */
    const nemo_progress *progress;   /* NULL-safe */
    /* Set by the MCP layer when the caller accepts a task (Tasks
     * extension): long-capable tools start their job and return at once
     * with result->job_id set. */
    int task_mode;
    /* Task mode: how long the task's job may wait for the person's answer
     * to the agent's question (0: the client cannot answer one). The job
     * posts the question with job_input_wait as {"message", "questions"}
     * (tool_ask's fields); the MCP layer shows it as the task's
     * input_required and answers with job_input_answer:
     * {"action": "accept", "answers": {...}} (answers as tool_asker's) or
     * {"action": "decline"}. */
    long long task_ask_ms;
    const tool_asker *asker;         /* NULL: nobody to ask (CLI, tasks) */
    tool_resumed resumed;
} tool_call;

/* call->asker->ask, or TOOL_ASK_UNSUPPORTED without one. */
tool_ask_status tool_ask_person(tool_call *call, const tool_ask *q,
                                cJSON **answers);

typedef struct tool_output {
    nemo_result result;
    /* The id of the background job still running for this call, or "" when
     * the result is final. The MCP layer turns it into a task. */
    char job_id[80];
} tool_output;

typedef int (*tool_fn)(tool_call *call, tool_output *out);

typedef struct tool_def {
    const char *name;
    tool_fn run;
    int long_running;   /* can return a job (generate, export, upload) */
} tool_def;

/* Run def for call: the tool itself, or env->config_problem as the
 * call's error. Returns what the tool returned (0 when it filled out). */
int tool_run(const tool_def *def, tool_call *call, tool_output *out);
/* All tools, in the fixed order tools/list uses; NULL-terminated. */
const tool_def *const *tool_all(void);
const tool_def *tool_find(const char *name);
/* Register each tool's job resumer with env->jobs (journal resume). The
 * resumed jobs use env->api, so env must outlive the job table. */
void tool_register_resumers(tool_env *env);

/* The timeline of session sid as the `state` tool reports it (structured
 * + text), for readers outside a tool call (MCP resources). Never creates
 * or replaces a session: a session the backend lost is an error (err). */
int tool_timeline_read(tool_env *env, const char *sid, nemo_cancel *cancel,
                       nemo_result *out, nemo_err *err);
/* The file types upload accepts: "mp4, mov, ..." (completion offers
 * only these). */
const char *tool_upload_types(void);

/* Helpers for tool implementations (src/tools/common.c). An argument that
 * is missing, JSON null or of another type counts as not given: the
 * string helper gives NULL, the others def. (The MCP layer already drops
 * nulls for optional arguments; the helpers do not rely on it.) */
const char *tool_arg_str(const cJSON *args, const char *key);   /* or NULL */
long long tool_arg_int(const cJSON *args, const char *key, long long def);
int tool_arg_bool(const cJSON *args, const char *key, int def);
/* Fill out->result as an error from a nemo_err: message + advice as text,
 * isError true, no structured content (hosts validate structuredContent
 * against the output schema, which describes success). */
void tool_fail_err(tool_output *out, const nemo_err *err);

#endif
