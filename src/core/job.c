/* job.c - background jobs with durable handles.
 *
 * A job is journalled (journal.c) before job_start returns its handle, and
 * its record is rewritten as it moves (progress at most every
 * JOB_PROGRESS_WRITE_MS, resume data and the end at once). While it runs,
 * this process holds the job's flock; a process that finds a RUNNING record
 * whose lock it can take knows the owner died and hands the record to the
 * tool's resumer.
 *
 * Threads are joinable: a finishing thread hands its pthread_t to the
 * table, which joins it at the next job_start or at job_table_free, so no
 * thread outlives the table (valgrind-clean exits). Lock order: job->io_mu, then job->mu,
 * then table->mu is never held while taking a job lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nemo/clock.h"
#include "nemo/job.h"
#include "nemo/journal.h"
#include "nemo/log.h"
#include "nemo/platform.h"

#define JOB_ID_BYTES 16              /* 128 random bits */
#define JOB_PROGRESS_WRITE_MS 1000
#define JOB_FOREIGN_POLL_MS 200
#define JOB_MAX_RESUMERS 8
#define JOB_DEFAULT_TTL_MS (24LL * 3600 * 1000)
#define JOB_PROGRESS_RING 16

struct nemo_job {
    int refs;                        /* atomic */
    job_table *table;
    char id[48];
    char tool[32];
    char *session;
    char *request_id;

    pthread_mutex_t io_mu;           /* serialises journal writes */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_status status;
    int outcome;                     /* -1 or a job_status override */
    int finished;
    int finalizing;                  /* result set, record being written */
    int foreign;                     /* running in another live process */
    long long created_ms, updated_ms, started_mono, last_write_mono;
    char progress_text[512];         /* the latest message */
    unsigned progress_seq;           /* messages so far */
    /* The last JOB_PROGRESS_RING messages, so a waiter forwards each one
     * even when several arrive between its wake-ups. */
    char progress_ring[JOB_PROGRESS_RING][256];
    char cancel_note[512];
    cJSON *resume;
    /* A question the job waits on (job_input_wait), its number within
     * the job, and the answer once given. */
    cJSON *input_q;
    unsigned input_seq;
    cJSON *input_reply;
    nemo_result result;
    nemo_cancel cancel;
    nemo_progress sink;
    int lock_fd;
    int memory_only;                 /* no usable state dir: no journal */

    job_fn fn;
    void *arg;
    void (*arg_free)(void *);
};

struct resumer_entry {
    char tool[32];
    job_resumer fn;
};

struct job_table {
    pthread_mutex_t mu;
    pthread_cond_t idle;
    nemo_job **jobs;
    size_t njobs, cap;
    int live_threads;
    pthread_t *finished_threads;     /* to join */
    size_t nfinished, finished_cap;
    int closing;
    long long ttl_ms;
    long long last_prune_mono;
    struct resumer_entry resumers[JOB_MAX_RESUMERS];
};

static const char *const status_names[] = {
    [JOB_RUNNING] = "running",       [JOB_COMPLETED] = "completed",
    [JOB_FAILED] = "failed",         [JOB_CANCELLED] = "cancelled",
    [JOB_INTERRUPTED] = "interrupted",
};

const char *job_status_name(job_status s)
{
    return (unsigned)s < sizeof status_names / sizeof status_names[0]
               ? status_names[s] : "unknown";
}

static job_status status_from_name(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof status_names / sizeof status_names[0]; i++)
        if (strcmp(status_names[i], name) == 0)
            return (job_status)i;
    return JOB_INTERRUPTED;
}

/* ---- ids ---------------------------------------------------------------- */

static int make_id(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[JOB_ID_BYTES];
    size_t i;

    if (plat_random(raw, sizeof raw) != 0)
        return -1;
    if (n < 4 + 2 * sizeof raw + 1)
        return -1;
    memcpy(out, "job_", 4);
    for (i = 0; i < sizeof raw; i++) {
        out[4 + 2 * i] = hex[raw[i] >> 4];
        out[5 + 2 * i] = hex[raw[i] & 15];
    }
    out[4 + 2 * sizeof raw] = '\0';
    return 0;
}

/* ---- life cycle of one job ---------------------------------------------- */

static void job_progress_cb(void *ctx, double fraction, const char *message);

static nemo_job *job_alloc(job_table *t, const char *id, const char *tool,
                           const char *session, const char *request_id)
{
    nemo_job *j = calloc(1, sizeof *j);

    if (!j)
        return NULL;
    j->refs = 1;
    j->table = t;
    snprintf(j->id, sizeof j->id, "%s", id);
    snprintf(j->tool, sizeof j->tool, "%s", tool ? tool : "");
    j->session = session ? strdup(session) : NULL;
    j->request_id = request_id ? strdup(request_id) : NULL;
    pthread_mutex_init(&j->io_mu, NULL);
    pthread_mutex_init(&j->mu, NULL);
    plat_cond_init(&j->cv);
    j->outcome = -1;
    j->created_ms = j->updated_ms = clock_wall_ms();
    j->started_mono = clock_mono_ms();
    result_init(&j->result);
    cancel_init(&j->cancel);
    j->sink.report = job_progress_cb;
    j->sink.ctx = j;
    j->lock_fd = -1;
    if ((session && !j->session) || (request_id && !j->request_id)) {
        job_unref(j);
        return NULL;
    }
    return j;
}

void job_ref(nemo_job *j)
{
    if (j)
        __atomic_add_fetch(&j->refs, 1, __ATOMIC_ACQ_REL);
}

void job_unref(nemo_job *j)
{
    if (!j || __atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (j->arg_free && j->arg)
        j->arg_free(j->arg);
    journal_unlock_job(j->lock_fd);
    result_free(&j->result);
    cJSON_Delete(j->resume);
    cJSON_Delete(j->input_q);
    cJSON_Delete(j->input_reply);
    cancel_destroy(&j->cancel);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    pthread_mutex_destroy(&j->io_mu);
    free(j->session);
    free(j->request_id);
    free(j);
}

/* The journal record of a job; caller holds j->mu. */
static cJSON *record_locked(nemo_job *j)
{
    cJSON *rec = cJSON_CreateObject();

    if (!rec)
        return NULL;
    cJSON_AddStringToObject(rec, "id", j->id);
    cJSON_AddStringToObject(rec, "tool", j->tool);
    if (j->session)
        cJSON_AddStringToObject(rec, "session", j->session);
    if (j->request_id)
        cJSON_AddStringToObject(rec, "request_id", j->request_id);
    cJSON_AddStringToObject(rec, "status", job_status_name(j->status));
    cJSON_AddNumberToObject(rec, "created_ms", (double)j->created_ms);
    cJSON_AddNumberToObject(rec, "updated_ms", (double)j->updated_ms);
    cJSON_AddNumberToObject(rec, "pid", (double)getpid());
    cJSON_AddStringToObject(rec, "progress", j->progress_text);
    if (j->cancel_note[0])
        cJSON_AddStringToObject(rec, "cancel_note", j->cancel_note);
    cJSON_AddItemToObject(rec, "resume", j->resume
                                             ? cJSON_Duplicate(j->resume, 1)
                                             : cJSON_CreateObject());
    if (j->finished || j->finalizing)
        cJSON_AddItemToObject(rec, "result", result_to_json(&j->result));
    return rec;
}

/* Write the record through; only the owner (lock holder) writes. */
static int job_persist(nemo_job *j)
{
    cJSON *rec;
    int rc = -1;

    if (j->memory_only)
        return 0;
    pthread_mutex_lock(&j->io_mu);
    pthread_mutex_lock(&j->mu);
    rec = j->foreign ? NULL : record_locked(j);
    j->last_write_mono = clock_mono_ms();
    pthread_mutex_unlock(&j->mu);
    if (rec) {
        rc = journal_write(rec);
        if (rc != 0)
            LOG_WARN("job", "could not journal job %s", j->id);
    }
    pthread_mutex_unlock(&j->io_mu);
    cJSON_Delete(rec);
    return rc;
}

/* Record a progress message; caller holds j->mu. */
static void progress_push_locked(nemo_job *j, const char *message)
{
    snprintf(j->progress_text, sizeof j->progress_text, "%s", message);
    snprintf(j->progress_ring[j->progress_seq % JOB_PROGRESS_RING],
             sizeof j->progress_ring[0], "%s", message);
    j->progress_seq++;
}

static void job_progress_cb(void *ctx, double fraction, const char *message)
{
    nemo_job *j = ctx;
    int write_now;

    (void)fraction;
    pthread_mutex_lock(&j->mu);
    progress_push_locked(j, message);
    j->updated_ms = clock_wall_ms();
    write_now = clock_mono_ms() - j->last_write_mono >= JOB_PROGRESS_WRITE_MS;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (write_now)
        job_persist(j);
}

static void table_thread_done(job_table *t, int joinable)
{
    pthread_mutex_lock(&t->mu);
    if (joinable && t->nfinished == t->finished_cap) {
        size_t cap = t->finished_cap ? t->finished_cap * 2 : 8;
        pthread_t *p = realloc(t->finished_threads, cap * sizeof *p);

        if (p) {
            t->finished_threads = p;
            t->finished_cap = cap;
        }
    }
    if (joinable && t->nfinished < t->finished_cap)
        t->finished_threads[t->nfinished++] = pthread_self();
    else if (joinable)
        pthread_detach(pthread_self());  /* no memory: let it go */
    t->live_threads--;
    pthread_cond_broadcast(&t->idle);
    pthread_mutex_unlock(&t->mu);
}

static int table_closing(job_table *t)
{
    int v;

    pthread_mutex_lock(&t->mu);
    v = t->closing;
    pthread_mutex_unlock(&t->mu);
    return v;
}

/* The job is over in this process: waiters may go, the run lock goes
 * (another process may now read the record as final or resume it). */
static void job_release(nemo_job *j)
{
    int fd;

    pthread_mutex_lock(&j->mu);
    j->finished = 1;
    fd = j->lock_fd;
    j->lock_fd = -1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    journal_unlock_job(fd);
}

/* Stopped by a shutdown: leave the record "running" for the next process
 * (it resumes renders and reports turns honestly) and let the lock go. */
static void job_abandon(nemo_job *j, nemo_result *out)
{
    LOG_INFO("job", "leaving %s job %s to the next server process", j->tool,
             j->id);
    result_free(out);
    pthread_mutex_lock(&j->mu);
    j->status = JOB_INTERRUPTED;
    j->result.is_error = 1;
    free(j->result.text);
    j->result.text = strdup("The server stopped; the next nemo-mcp process "
                            "picks this job up.");
    pthread_mutex_unlock(&j->mu);
    job_release(j);
}

static void job_finish(nemo_job *j, nemo_result *out)
{
    if (j->outcome < 0 && cancel_requested(&j->cancel) &&
        table_closing(j->table)) {
        job_abandon(j, out);
        return;
    }

    pthread_mutex_lock(&j->mu);
    result_free(&j->result);
    j->result = *out;
    result_init(out);
    if (j->outcome >= 0)
        j->status = (job_status)j->outcome;
    else if (cancel_requested(&j->cancel))
        j->status = JOB_CANCELLED;
    else
        j->status = j->result.is_error ? JOB_FAILED : JOB_COMPLETED;
    if (!j->result.text)
        j->result.text = strdup(j->status == JOB_CANCELLED
                                    ? "The job was cancelled."
                                    : "The job ended without a result.");
    j->finalizing = 1;
    j->updated_ms = clock_wall_ms();
    pthread_mutex_unlock(&j->mu);
    /* Durable first: a waiter that sees "finished" can rely on the record. */
    job_persist(j);
    job_release(j);
}

static void *job_thread(void *vj)
{
    nemo_job *j = vj;
    job_table *t = j->table;
    nemo_result out;

    result_init(&out);
    j->fn(j, j->arg, &out);
    job_finish(j, &out);
    if (j->arg_free && j->arg) {
        j->arg_free(j->arg);
        j->arg = NULL;
    }
    job_unref(j);
    table_thread_done(t, 1);
    return NULL;
}

static int job_spawn(nemo_job *j)
{
    job_table *t = j->table;
    pthread_attr_t attr;
    pthread_t th;
    int rc;

    pthread_mutex_lock(&t->mu);
    t->live_threads++;
    pthread_mutex_unlock(&t->mu);
    job_ref(j);  /* the thread's reference */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    rc = pthread_create(&th, &attr, job_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        job_unref(j);
        table_thread_done(t, 0);
        return -1;
    }
    return 0;
}

/* ---- the table ----------------------------------------------------------- */

job_table *job_table_new(void)
{
    job_table *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->idle, NULL);
    t->ttl_ms = clock_env_ms("NEMO_JOB_TTL_MS", JOB_DEFAULT_TTL_MS, 1000,
                             365LL * 24 * 3600 * 1000);
    t->last_prune_mono = -1;
    return t;
}

/* Join threads that have finished their job. */
static void table_reap(job_table *t)
{
    pthread_t *done;
    size_t n, i;

    pthread_mutex_lock(&t->mu);
    done = t->finished_threads;
    n = t->nfinished;
    t->finished_threads = NULL;
    t->nfinished = t->finished_cap = 0;
    pthread_mutex_unlock(&t->mu);
    for (i = 0; i < n; i++)
        pthread_join(done[i], NULL);
    free(done);
}

void job_table_shutdown(job_table *t)
{
    pthread_mutex_lock(&t->mu);
    t->closing = 1;
    pthread_mutex_unlock(&t->mu);
}

void job_table_free(job_table *t)
{
    size_t i;

    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->closing = 1;
    for (i = 0; i < t->njobs; i++)
        cancel_request(&t->jobs[i]->cancel);
    while (t->live_threads > 0)
        pthread_cond_wait(&t->idle, &t->mu);
    pthread_mutex_unlock(&t->mu);
    table_reap(t);
    for (i = 0; i < t->njobs; i++)
        job_unref(t->jobs[i]);
    free(t->jobs);
    pthread_cond_destroy(&t->idle);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

void job_table_set_resumer(job_table *t, const char *tool, job_resumer r)
{
    size_t i;

    pthread_mutex_lock(&t->mu);
    for (i = 0; i < JOB_MAX_RESUMERS; i++) {
        struct resumer_entry *e = &t->resumers[i];

        if (!e->fn || strcmp(e->tool, tool) == 0) {
            snprintf(e->tool, sizeof e->tool, "%s", tool);
            e->fn = r;
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

static job_resumer find_resumer(job_table *t, const char *tool)
{
    job_resumer r = NULL;
    size_t i;

    pthread_mutex_lock(&t->mu);
    for (i = 0; tool && i < JOB_MAX_RESUMERS && t->resumers[i].fn; i++)
        if (strcmp(t->resumers[i].tool, tool) == 0)
            r = t->resumers[i].fn;
    pthread_mutex_unlock(&t->mu);
    return r;
}

/* Drop finished jobs older than the TTL from memory and disk, at most once
 * a minute (and lazily: never at start-up). */
static void table_prune(job_table *t)
{
    long long now = clock_mono_ms(), wall = clock_wall_ms();
    nemo_job **drop = NULL;
    size_t i, k = 0, ndrop = 0;

    pthread_mutex_lock(&t->mu);
    if (t->last_prune_mono >= 0 && now - t->last_prune_mono < 60000) {
        pthread_mutex_unlock(&t->mu);
        return;
    }
    t->last_prune_mono = now;
    drop = calloc(t->njobs + 1, sizeof *drop);
    for (i = 0; i < t->njobs; i++) {
        nemo_job *j = t->jobs[i];
        int old;

        pthread_mutex_lock(&j->mu);
        old = (j->finished || j->foreign) && wall - j->updated_ms > t->ttl_ms;
        pthread_mutex_unlock(&j->mu);
        if (old && drop)
            drop[ndrop++] = j;
        else
            t->jobs[k++] = j;
    }
    t->njobs = k;
    pthread_mutex_unlock(&t->mu);
    for (i = 0; i < ndrop; i++)
        job_unref(drop[i]);
    free(drop);
    journal_prune(t->ttl_ms);
}

static int table_add(job_table *t, nemo_job *j)
{
    pthread_mutex_lock(&t->mu);
    if (t->njobs == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        nemo_job **p = realloc(t->jobs, cap * sizeof *p);

        if (!p) {
            pthread_mutex_unlock(&t->mu);
            return -1;
        }
        t->jobs = p;
        t->cap = cap;
    }
    job_ref(j);
    t->jobs[t->njobs++] = j;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

static void table_remove(job_table *t, nemo_job *j)
{
    size_t i;

    pthread_mutex_lock(&t->mu);
    for (i = 0; i < t->njobs; i++) {
        if (t->jobs[i] == j) {
            memmove(t->jobs + i, t->jobs + i + 1,
                    (t->njobs - i - 1) * sizeof *t->jobs);
            t->njobs--;
            pthread_mutex_unlock(&t->mu);
            job_unref(j);
            return;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

/* In-memory lookup by id or by request id; returns a reference. */
static nemo_job *table_find(job_table *t, const char *id, const char *req)
{
    nemo_job *found = NULL;
    size_t i;

    pthread_mutex_lock(&t->mu);
    for (i = 0; i < t->njobs && !found; i++) {
        nemo_job *j = t->jobs[i];

        if ((id && strcmp(j->id, id) == 0) ||
            (req && j->request_id && strcmp(j->request_id, req) == 0))
            found = j;
    }
    job_ref(found);
    pthread_mutex_unlock(&t->mu);
    return found;
}

/* ---- start ---------------------------------------------------------------- */

static nemo_job *start_fail(nemo_job *j, void *arg, void (*arg_free)(void *),
                            char *errbuf, size_t errlen, const char *why)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", why);
    if (j) {
        j->arg = NULL;
        journal_unlock_job(j->lock_fd);
        j->lock_fd = -1;
        job_unref(j);
    }
    if (arg_free && arg)
        arg_free(arg);
    return NULL;
}

nemo_job *job_start(job_table *t, const job_spec *spec, job_fn fn, void *arg,
                    void (*arg_free)(void *), int *existed, char *errbuf,
                    size_t errlen)
{
    char id[48], prior[80];
    nemo_job *j = NULL, *old;
    int claim;

    if (existed)
        *existed = 0;
    table_reap(t);
    table_prune(t);
    if (spec->request_id && *spec->request_id &&
        (old = table_find(t, NULL, spec->request_id)) != NULL) {
        if (existed)
            *existed = 1;
        cJSON_Delete(spec->resume);
        if (arg_free && arg)
            arg_free(arg);
        return old;
    }
    if (make_id(id, sizeof id) != 0) {
        cJSON_Delete(spec->resume);
        return start_fail(NULL, arg, arg_free, errbuf, errlen,
                          "no randomness for a job id");
    }
    j = job_alloc(t, id, spec->tool, spec->session,
                  spec->request_id && *spec->request_id ? spec->request_id
                                                         : NULL);
    if (!j) {
        cJSON_Delete(spec->resume);
        return start_fail(NULL, arg, arg_free, errbuf, errlen, "out of memory");
    }
    j->resume = spec->resume ? spec->resume : cJSON_CreateObject();
    j->fn = fn;
    j->arg = arg;
    j->arg_free = arg_free;
    /* A refused state dir (see store.h): the job runs, unjournalled; it
     * does not survive a restart. */
    j->memory_only = !journal_available();
    j->lock_fd = j->memory_only ? -1 : journal_lock_job(id);
    if (!j->memory_only && (j->lock_fd < 0 || job_persist(j) != 0))
        return start_fail(j, arg, arg_free, errbuf, errlen,
                          "cannot write the job journal in the state dir");
    if (j->request_id && !j->memory_only) {
        claim = journal_claim_request(j->request_id, id, prior, sizeof prior);
        if (claim != 0) {
            /* Another job (here, in another process, or before a restart)
             * owns this request: drop ours and hand back that one. */
            journal_remove(id);
            if (claim < 0)
                return start_fail(j, arg, arg_free, errbuf, errlen,
                                  "cannot record request_id in the job "
                                  "journal");
            start_fail(j, arg, arg_free, NULL, 0, "");
            old = job_lookup(t, prior);
            if (old && existed)
                *existed = 1;
            if (!old && errbuf && errlen)
                snprintf(errbuf, errlen, "request_id was already used for "
                         "job %s, which is no longer known", prior);
            return old;
        }
    }
    if (table_add(t, j) != 0)
        goto no_thread;
    if (job_spawn(j) != 0) {
        table_remove(t, j);
        goto no_thread;
    }
    return j;
no_thread:
    journal_remove(id);
    return start_fail(j, arg, arg_free, errbuf, errlen,
                      "cannot start a worker thread");
}

/* ---- lookup and resume ---------------------------------------------------- */

/* Refresh a job from its record (foreign or finished-on-disk jobs). */
static void absorb_record(nemo_job *j, const cJSON *rec)
{
    const char *progress = journal_str(rec, "progress");
    const char *note = journal_str(rec, "cancel_note");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(rec, "result");
    job_status st = status_from_name(journal_str(rec, "status"));

    pthread_mutex_lock(&j->mu);
    j->created_ms = journal_num(rec, "created_ms");
    j->updated_ms = journal_num(rec, "updated_ms");
    if (progress && strcmp(progress, j->progress_text) != 0)
        progress_push_locked(j, progress);
    if (note)
        snprintf(j->cancel_note, sizeof j->cancel_note, "%s", note);
    if (st != JOB_RUNNING) {
        result_free(&j->result);
        if (!res || result_from_json(&j->result, res) != 0) {
            result_free(&j->result);
            j->result.is_error = 1;
            j->result.text = strdup("The job ended, but its result was not "
                                    "recorded.");
        }
        j->status = st;
        j->finished = 1;
        j->foreign = 0;
    }
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* A RUNNING record whose owner is gone: hand it to the tool's resumer. */
static void resume_orphan(job_table *t, nemo_job *j, const cJSON *rec, int fd)
{
    job_resumer r = find_resumer(t, j->tool);
    const cJSON *resume = cJSON_GetObjectItemCaseSensitive(rec, "resume");
    nemo_result out;

    result_init(&out);
    j->lock_fd = fd;
    cJSON_Delete(j->resume);
    j->resume = cJSON_IsObject(resume) ? cJSON_Duplicate(resume, 1)
                                       : cJSON_CreateObject();
    if (r && r(rec, &j->fn, &j->arg, &j->arg_free, &out) == 0) {
        LOG_INFO("job", "resuming %s job %s left by process %lld", j->tool,
                 j->id, journal_num(rec, "pid"));
        progress_report(&j->sink, -1, "resumed after a restart");
        if (job_spawn(j) == 0)
            return;
        result_error(&out, NULL, "could not resume the job: no thread");
    }
    if (!out.text)
        result_error(&out, NULL, "The process running this job stopped "
                     "before it finished, and it cannot be picked up again. "
                     "Ask again.");
    j->outcome = JOB_INTERRUPTED;
    job_finish(j, &out);
    result_free(&out);
}

/* The lock is ours, so the owner has finished or died: its last write is
 * final. Returns 1 when that write says the job ended. */
static int reread_after_lock(nemo_job *j, cJSON **rec)
{
    cJSON *fresh = journal_read(j->id);
    const char *st;

    if (!fresh)
        return 0;
    cJSON_Delete(*rec);
    *rec = fresh;
    st = journal_str(fresh, "status");
    if (st && strcmp(st, "running") != 0) {
        absorb_record(j, fresh);
        return 1;
    }
    return 0;
}

nemo_job *job_lookup(job_table *t, const char *id)
{
    nemo_job *j;
    cJSON *rec;
    int fd;

    if (!id || !journal_id_valid(id))
        return NULL;
    if ((j = table_find(t, id, NULL)) != NULL)
        return j;
    if (!(rec = journal_read(id)))
        return NULL;
    j = job_alloc(t, id, journal_str(rec, "tool"), journal_str(rec, "session"),
                  journal_str(rec, "request_id"));
    if (!j)
        goto out;
    absorb_record(j, rec);
    if (!j->finished) {
        fd = journal_lock_job(id);
        if (fd < 0) {
            j->foreign = 1;  /* a live process runs it; we watch the file */
        } else if (reread_after_lock(j, &rec)) {
            journal_unlock_job(fd);  /* it finished just before we looked */
        } else {
            pthread_mutex_lock(&j->mu);
            j->status = JOB_RUNNING;
            j->started_mono = clock_mono_ms() -
                              (clock_wall_ms() - j->created_ms);
            pthread_mutex_unlock(&j->mu);
            resume_orphan(t, j, rec, fd);
        }
    }
    if (table_add(t, j) != 0) {
        job_unref(j);
        j = NULL;
        goto out;
    }
out:
    cJSON_Delete(rec);
    return j;
}

/* Foreign jobs: re-read the record; take over if the owner died. */
static void refresh_foreign(nemo_job *j)
{
    cJSON *rec = journal_read(j->id);
    int fd;

    if (!rec)
        return;
    absorb_record(j, rec);
    pthread_mutex_lock(&j->mu);
    fd = (!j->finished && j->foreign) ? journal_lock_job(j->id) : -1;
    if (fd >= 0)
        j->foreign = 0;
    pthread_mutex_unlock(&j->mu);
    if (fd >= 0) {
        if (reread_after_lock(j, &rec))
            journal_unlock_job(fd);
        else
            resume_orphan(j->table, j, rec, fd);
    }
    cJSON_Delete(rec);
}

/* ---- waiting ---------------------------------------------------------------- */

job_status job_wait(nemo_job *j, long long timeout_ms, nemo_cancel *waiter,
                    const nemo_progress *sink)
{
    long long until = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    long long last_foreign = 0;
    unsigned seen;

    /* A late waiter hears the latest message first, then every new one. */
    pthread_mutex_lock(&j->mu);
    seen = j->progress_seq ? j->progress_seq - 1 : 0;
    pthread_mutex_unlock(&j->mu);
    for (;;) {
        char msgs[JOB_PROGRESS_RING][256];
        int nmsgs = 0, foreign, finished, i;
        job_status st;
        long long now = clock_mono_ms();

        pthread_mutex_lock(&j->mu);
        foreign = j->foreign;
        pthread_mutex_unlock(&j->mu);
        if (foreign && now - last_foreign >= JOB_FOREIGN_POLL_MS) {
            refresh_foreign(j);
            last_foreign = now;
        }
        pthread_mutex_lock(&j->mu);
        if (j->progress_seq - seen > JOB_PROGRESS_RING)
            seen = j->progress_seq - JOB_PROGRESS_RING;
        for (; seen != j->progress_seq; seen++)
            snprintf(msgs[nmsgs++], sizeof msgs[0], "%s",
                     j->progress_ring[seen % JOB_PROGRESS_RING]);
        finished = j->finished;
        st = finished ? j->status : JOB_RUNNING;
        if (!nmsgs && !finished && now < until && !cancel_requested(waiter)) {
            /* Short slices: notice the waiter's cancel promptly. */
            plat_cond_wait_ms(&j->cv, &j->mu,
                              until - now < 100 ? until - now : 100);
        }
        pthread_mutex_unlock(&j->mu);
        for (i = 0; sink && i < nmsgs; i++)
            progress_report(sink, -1, "%s", msgs[i]);
        if (finished)
            return st;
        if (clock_mono_ms() >= until || cancel_requested(waiter))
            return JOB_RUNNING;
    }
}

/* ---- accessors ---------------------------------------------------------------- */

const char *job_id(const nemo_job *j) { return j->id; }
const char *job_tool(const nemo_job *j) { return j->tool; }
const char *job_session(const nemo_job *j) { return j->session; }

job_status job_get_status(nemo_job *j)
{
    job_status st;

    pthread_mutex_lock(&j->mu);
    st = j->finished ? j->status : JOB_RUNNING;
    pthread_mutex_unlock(&j->mu);
    return st;
}

/* One field read under the job's lock. */
static long long locked_ll(nemo_job *j, const long long *field)
{
    long long v;

    pthread_mutex_lock(&j->mu);
    v = *field;
    pthread_mutex_unlock(&j->mu);
    return v;
}

long long job_created_ms(nemo_job *j)
{
    return locked_ll(j, &j->created_ms);
}

long long job_updated_ms(nemo_job *j)
{
    return locked_ll(j, &j->updated_ms);
}

long long job_elapsed_ms(nemo_job *j)
{
    long long v;

    pthread_mutex_lock(&j->mu);
    v = (j->finished ? j->updated_ms : clock_wall_ms()) - j->created_ms;
    pthread_mutex_unlock(&j->mu);
    return v < 0 ? 0 : v;
}

void job_progress_text(nemo_job *j, char *buf, size_t n)
{
    pthread_mutex_lock(&j->mu);
    snprintf(buf, n, "%s", j->progress_text);
    pthread_mutex_unlock(&j->mu);
}

int job_result(nemo_job *j, nemo_result *out)
{
    int rc = -1;

    result_init(out);
    pthread_mutex_lock(&j->mu);
    if (j->finished)
        rc = result_copy(out, &j->result);
    pthread_mutex_unlock(&j->mu);
    return rc;
}

const nemo_progress *job_progress(nemo_job *j) { return &j->sink; }
nemo_cancel *job_cancel_token(nemo_job *j) { return &j->cancel; }

void job_record_set(nemo_job *j, const char *key, cJSON *value)
{
    if (!value)
        return;
    pthread_mutex_lock(&j->mu);
    if (!j->resume)
        j->resume = cJSON_CreateObject();
    if (cJSON_GetObjectItemCaseSensitive(j->resume, key))
        cJSON_ReplaceItemInObjectCaseSensitive(j->resume, key, value);
    else
        cJSON_AddItemToObject(j->resume, key, value);
    pthread_mutex_unlock(&j->mu);
    job_persist(j);
}

void job_set_outcome(nemo_job *j, job_status s)
{
    pthread_mutex_lock(&j->mu);
    j->outcome = (int)s;
    pthread_mutex_unlock(&j->mu);
}

void job_set_cancel_note(nemo_job *j, const char *note)
{
    pthread_mutex_lock(&j->mu);
    snprintf(j->cancel_note, sizeof j->cancel_note, "%s", note ? note : "");
    pthread_mutex_unlock(&j->mu);
}

int job_cancel(nemo_job *j, char *note, size_t n)
{
    int finished, foreign;

    pthread_mutex_lock(&j->mu);
    finished = j->finished;
    foreign = j->foreign;
    pthread_mutex_unlock(&j->mu);
    if (finished) {
        snprintf(note, n, "The job had already %s; nothing to stop.",
                 job_status_name(job_get_status(j)));
        return 1;
    }
    if (foreign) {
        snprintf(note, n, "This job is running in another nemo-mcp process; "
                 "it can only be cancelled there.");
        return 0;
    }
    cancel_request(&j->cancel);
    pthread_mutex_lock(&j->mu);
    pthread_cond_broadcast(&j->cv);   /* a job waiting for input wakes */
    if (j->cancel_note[0])
        snprintf(note, n, "Cancelled. %s", j->cancel_note);
    else
        snprintf(note, n, "Cancelled: the work in this process was stopped.");
    pthread_mutex_unlock(&j->mu);
    return 0;
}

/* ---- input from the person (the Tasks extension's input_required) ---- */

/* Take the answer when there is one; caller holds j->mu. */
static int input_take_locked(nemo_job *j, cJSON **reply)
{
    if (!j->input_reply)
        return 0;
    *reply = j->input_reply;
    j->input_reply = NULL;
    return 1;
}

int job_input_wait(nemo_job *j, cJSON *question, long long timeout_ms,
                   cJSON **reply)
{
    long long until = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc;

    *reply = NULL;
    if (!question)
        return -1;
    pthread_mutex_lock(&j->mu);
    cJSON_Delete(j->input_q);
    cJSON_Delete(j->input_reply);
    j->input_q = question;
    j->input_reply = NULL;
    j->input_seq++;
    j->updated_ms = clock_wall_ms();
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (;;) {
        long long now = clock_mono_ms();

        /* The cancel token has its own lock: never taken under j->mu. */
        if (cancel_requested(&j->cancel)) {
            rc = -1;
            break;
        }
        pthread_mutex_lock(&j->mu);
        if (input_take_locked(j, reply)) {
            pthread_mutex_unlock(&j->mu);
            rc = 0;
            break;
        }
        if (now >= until) {
            pthread_mutex_unlock(&j->mu);
            rc = 1;
            break;
        }
        /* Short slices: a cancel is noticed promptly either way. */
        plat_cond_wait_ms(&j->cv, &j->mu,
                          until - now < 100 ? until - now : 100);
        pthread_mutex_unlock(&j->mu);
    }
    pthread_mutex_lock(&j->mu);
    cJSON_Delete(j->input_q);
    j->input_q = NULL;
    if (rc != 0 && input_take_locked(j, reply)) {
        /* Answered at the last moment: an answer is never dropped. */
        rc = 0;
    }
    j->updated_ms = clock_wall_ms();
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return rc;
}

cJSON *job_input_pending(nemo_job *j, unsigned *seq)
{
    cJSON *q = NULL;

    pthread_mutex_lock(&j->mu);
    if (j->input_q && !j->input_reply && !j->finished) {
        q = cJSON_Duplicate(j->input_q, 1);
        *seq = j->input_seq;
    }
    pthread_mutex_unlock(&j->mu);
    return q;
}

int job_input_answer(nemo_job *j, unsigned seq, cJSON *reply)
{
    int rc = -1;

    pthread_mutex_lock(&j->mu);
    if (reply && j->input_q && !j->input_reply && seq == j->input_seq) {
        j->input_reply = reply;
        reply = NULL;
        j->updated_ms = clock_wall_ms();
        pthread_cond_broadcast(&j->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&j->mu);
    cJSON_Delete(reply);
    return rc;
}

/* ---- listing ---------------------------------------------------------------- */

static cJSON *list_entry(const char *id, const char *tool, const char *status,
                         const char *session, long long created_ms)
{
    cJSON *e = cJSON_CreateObject();

    cJSON_AddStringToObject(e, "job", id);
    cJSON_AddStringToObject(e, "tool", tool ? tool : "");
    cJSON_AddStringToObject(e, "status", status ? status : "unknown");
    cJSON_AddNumberToObject(e, "age_ms",
                            (double)(clock_wall_ms() - created_ms));
    if (session)
        cJSON_AddStringToObject(e, "session", session);
    return e;
}

static int listed(const cJSON *arr, const char *id)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, arr) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "job");
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return 1;
    }
    return 0;
}

cJSON *job_list(job_table *t, const char *session, int max)
{
    cJSON *out = cJSON_CreateArray(), *recs, *rec;
    size_t i;

    if (!out)
        return NULL;
    table_prune(t);
    /* The journal knows every job this and other processes wrote. */
    recs = journal_list(session, max);
    cJSON_ArrayForEach(rec, recs) {
        const char *id = journal_str(rec, "id");
        nemo_job *live = id ? table_find(t, id, NULL) : NULL;
        const char *status = journal_str(rec, "status");

        if (!id)
            continue;
        if (live)
            status = job_status_name(job_get_status(live));
        cJSON_AddItemToArray(out, list_entry(id, journal_str(rec, "tool"), status,
                                             journal_str(rec, "session"),
                                             journal_num(rec, "created_ms")));
        job_unref(live);
    }
    cJSON_Delete(recs);
    /* Jobs in memory that the journal could not show (it was unwritable). */
    pthread_mutex_lock(&t->mu);
    for (i = 0; i < t->njobs; i++) {
        nemo_job *j = t->jobs[i];

        if ((max > 0 && cJSON_GetArraySize(out) >= max) ||
            (session && (!j->session || strcmp(j->session, session) != 0)) ||
            listed(out, j->id))
            continue;
        cJSON_AddItemToArray(out, list_entry(j->id, j->tool,
                                             job_status_name(j->status),
                                             j->session, j->created_ms));
    }
    pthread_mutex_unlock(&t->mu);
    return out;
}
