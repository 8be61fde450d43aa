/* job.h - background work with a handle: generate turns, renders, large
 * uploads. A job id is also the MCP task id. Every job is journalled (see
 * journal.h) before its handle is returned, so another process can pick it
 * up after this one dies.
 *
 * Ownership: job_start/job_lookup return a referenced job; release it with
 * job_unref. The table keeps its own reference until the job is pruned. */
#ifndef NEMO_JOB_H
#define NEMO_JOB_H

#include <cjson/cJSON.h>
#include "nemo/cancel.h"
#include "nemo/progress.h"
#include "nemo/result.h"

typedef enum {
    JOB_RUNNING = 0,
    JOB_COMPLETED,
    JOB_FAILED,
    JOB_CANCELLED,
    JOB_INTERRUPTED   /* the process running it died; see the tool's resumer */
} job_status;

typedef struct nemo_job nemo_job;
typedef struct job_table job_table;

/* Runs on the job's own thread. Reads its inputs from arg, reports through
 * job_progress(j), stops early when cancel_requested(job_cancel_token(j)),
 * records resume data with job_record_set(), and fills out. When out is an
 * error the job ends FAILED; when the token was cancelled, CANCELLED;
 * otherwise COMPLETED. */
typedef void (*job_fn)(nemo_job *j, void *arg, nemo_result *out);

typedef struct job_spec {
    const char *tool;        /* "generate", "export", "upload" */
    const char *session;     /* may be NULL */
    const char *request_id;  /* may be NULL; idempotency key */
    cJSON *resume;           /* taken: tool-specific data to pick it up again */
} job_spec;

/* A resumer restarts a job that a dead process left RUNNING. It receives the
 * journal record (with its "resume" object) and returns 0 with *fn and *arg set
 * to continue it on a new thread under the same id (a render resumes
 * polling; a generate turn whose stream died reads the timeline and reports
 * what changed, calling job_set_outcome(j, JOB_INTERRUPTED) when nothing
 * did), or -1 when it cannot be picked up: the job is then marked
 * INTERRUPTED with *out as its result. */
typedef int (*job_resumer)(const cJSON *record, job_fn *fn, void **arg,
                           void (**arg_free)(void *), nemo_result *out);

job_table *job_table_new(void);
/* The process is going away (end of input, SIGTERM): from now on a job
 * that stops because it was cancelled is NOT recorded as cancelled; its
 * journal record stays "running" and its lock is released, so the next
 * server process resumes it. Call before cancelling tool calls. */
void job_table_shutdown(job_table *t);
/* job_table_shutdown, then cancels running jobs, joins their threads,
 * frees everything. */
void job_table_free(job_table *t);
void job_table_set_resumer(job_table *t, const char *tool, job_resumer r);

/* Start fn(arg) in the background. With a request_id already seen (in this
 * process or, via the journal, in another one) the existing job is returned,
 * *existed is set to 1, fn is not run and arg is freed with arg_free.
 * Returns NULL on failure (errbuf filled). */
nemo_job *job_start(job_table *t, const job_spec *spec, job_fn fn, void *arg,
                    void (*arg_free)(void *), int *existed,
                    char *errbuf, size_t errlen);

/* Find a job by id: in memory, else in the journal (resuming it through the
 * tool's resumer when its owner is gone). NULL when unknown. */
nemo_job *job_lookup(job_table *t, const char *id);
void job_ref(nemo_job *j);
void job_unref(nemo_job *j);

/* Wait up to timeout_ms (0: just look) for the job to finish, forwarding its
 * progress messages to sink while waiting. Returns the status at return.
 * Returns early (status RUNNING) when waiter is cancelled. */
job_status job_wait(nemo_job *j, long long timeout_ms, nemo_cancel *waiter,
                    const nemo_progress *sink);

/* Accessors (thread-safe). */
const char *job_id(const nemo_job *j);
const char *job_tool(const nemo_job *j);
const char *job_session(const nemo_job *j);
job_status job_get_status(nemo_job *j);
const char *job_status_name(job_status s);
long long job_created_ms(nemo_job *j);   /* wall clock */
long long job_updated_ms(nemo_job *j);
long long job_elapsed_ms(nemo_job *j);
/* Latest progress message, copied into buf. */
void job_progress_text(nemo_job *j, char *buf, size_t n);
/* Copy of the final result; 0 when finished, -1 while running. */
int job_result(nemo_job *j, nemo_result *out);

/* For the job function. */
const nemo_progress *job_progress(nemo_job *j);
nemo_cancel *job_cancel_token(nemo_job *j);
/* Set a key in the journal record's "resume" object and write it through.
 * Takes value. */
void job_record_set(nemo_job *j, const char *key, cJSON *value);
/* Override the status the job ends with (e.g. JOB_INTERRUPTED). */
void job_set_outcome(nemo_job *j, job_status s);
/* What cancelling could not stop, said to the user (e.g. the render keeps
 * running server-side). */
void job_set_cancel_note(nemo_job *j, const char *note);

/* Request cancellation. Returns immediately; note receives what could and
 * could not be stopped. 0 if the job was running, 1 if already finished. */
int job_cancel(nemo_job *j, char *note, size_t n);

/* Asking the person from inside a job (the MCP Tasks extension's
 * input_required). The job function posts a question (opaque JSON, taken;
 * numbered 1, 2, ... within the job) and waits up to timeout_ms for
 * job_input_answer. Returns 0 with *reply (caller frees), 1 when no answer
 * came in time, -1 when the job was cancelled (or question was NULL). The
 * job stays RUNNING throughout. */
int job_input_wait(nemo_job *j, cJSON *question, long long timeout_ms,
                   cJSON **reply);
/* A copy of the question the job waits on, with its number in *seq; NULL
 * when it waits on none (or was answered and has not taken it yet). */
cJSON *job_input_pending(nemo_job *j, unsigned *seq);
/* Answer question seq (reply taken). 0: delivered; -1: that question is
 * not pending (answered, timed out, or another one's number). */
int job_input_answer(nemo_job *j, unsigned seq, cJSON *reply);

/* Recent jobs of a session (NULL: all), newest first, from memory and the
 * journal: [{"job","tool","status","age_ms","session"}]. */
cJSON *job_list(job_table *t, const char *session, int max);

#endif
