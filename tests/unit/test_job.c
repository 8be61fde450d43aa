/* test_job.c - jobs, the journal, request ids, resume after a dead owner. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nemo/clock.h"
#include "nemo/job.h"
#include "nemo/journal.h"
#include "nemo/log.h"
#include "nemo/store.h"
#include "unit.h"

static int runs;  /* how many times a job function started (this process) */

struct work {
    long long sleep_ms;
    int fail;
    int pipe_fd;   /* >= 0: write one byte when started, then block */
};

static void work_free(void *p)
{
    free(p);
}

static struct work *work_new(long long sleep_ms, int fail)
{
    struct work *w = calloc(1, sizeof *w);

    w->sleep_ms = sleep_ms;
    w->fail = fail;
    w->pipe_fd = -1;
    return w;
}

static void work_fn(nemo_job *j, void *arg, nemo_result *out)
{
    struct work *w = arg;

    __atomic_add_fetch(&runs, 1, __ATOMIC_SEQ_CST);
    progress_report(job_progress(j), -1, "step one");
    job_record_set(j, "render_id", cJSON_CreateString("render_42"));
    if (w->pipe_fd >= 0) {
        char c = 'x';
        if (write(w->pipe_fd, &c, 1) != 1)
            _exit(3);
    }
    if (cancel_sleep_ms(job_cancel_token(j), w->sleep_ms)) {
        job_set_cancel_note(j, "the render keeps going on the backend");
        return;
    }
    progress_report(job_progress(j), -1, "step two");
    if (w->fail) {
        result_error(out, NULL, "it broke");
        return;
    }
    out->text = strdup("done");
    out->structured = cJSON_CreateObject();
    cJSON_AddStringToObject(out->structured, "status", "completed");
}

static void fresh_config(void)
{
    char dir[] = "/tmp/nemo-job-XXXXXX";

    CHECK(mkdtemp(dir) != NULL);
    setenv("NEMO_CONFIG_DIR", dir, 1);
    setenv("NEMO_STATE_DIR", dir, 1);
}

struct sink_log {
    int count;
    char last[256];
};

static void sink_cb(void *ctx, double f, const char *msg)
{
    struct sink_log *s = ctx;

    (void)f;
    s->count++;
    snprintf(s->last, sizeof s->last, "%s", msg);
}

static nemo_job *start(job_table *t, const char *req, struct work *w,
                       int *existed)
{
    job_spec spec = { "generate", "sess_1", req, NULL };
    char err[256] = "";
    nemo_job *j = job_start(t, &spec, work_fn, w, work_free, existed, err,
                            sizeof err);

    if (!j)
        printf("#   job_start: %s\n", err);
    return j;
}

TEST(job_completes_and_is_journalled)
{
    job_table *t;
    nemo_job *j;
    nemo_result r;
    cJSON *rec;

    fresh_config();
    t = job_table_new();
    j = start(t, NULL, work_new(0, 0), NULL);
    CHECK(j != NULL);
    CHECK(strncmp(job_id(j), "job_", 4) == 0 && strlen(job_id(j)) == 36);
    CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_COMPLETED);
    CHECK(job_result(j, &r) == 0);
    CHECK_STR(r.text, "done");
    result_free(&r);
    rec = journal_read(job_id(j));
    CHECK(rec != NULL);
    CHECK_STR(cJSON_GetObjectItem(rec, "status")->valuestring, "completed");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "resume"),
                                  "render_id")->valuestring, "render_42");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "result"),
                                  "text")->valuestring, "done");
    cJSON_Delete(rec);
    job_unref(j);
    job_table_free(t);
}

TEST(job_wait_is_bounded_and_forwards_progress)
{
    job_table *t;
    nemo_job *j;
    struct sink_log log = { 0, "" };
    nemo_progress sink = { sink_cb, &log };
    long long t0;

    fresh_config();
    t = job_table_new();
    j = start(t, NULL, work_new(3000, 0), NULL);
    for (int i = 0; i < 100 && log.count == 0; i++) {
        t0 = clock_mono_ms();
        CHECK_INT(job_wait(j, 30, NULL, &sink), JOB_RUNNING);
        CHECK(clock_mono_ms() - t0 < 1000);
    }
    CHECK(log.count >= 1);
    CHECK_STR(log.last, "step one");
    CHECK_INT(job_wait(j, 5000, NULL, &sink), JOB_COMPLETED);
    job_unref(j);
    job_table_free(t);
}

TEST(failed_and_cancelled_jobs)
{
    job_table *t;
    nemo_job *a, *b;
    nemo_result r;
    char note[256];

    fresh_config();
    t = job_table_new();
    a = start(t, NULL, work_new(0, 1), NULL);
    CHECK_INT(job_wait(a, 5000, NULL, NULL), JOB_FAILED);
    CHECK(job_result(a, &r) == 0 && r.is_error);
    result_free(&r);
    b = start(t, NULL, work_new(60000, 0), NULL);
    job_wait(b, 20, NULL, NULL);
    CHECK_INT(job_cancel(b, note, sizeof note), 0);
    CHECK_INT(job_wait(b, 5000, NULL, NULL), JOB_CANCELLED);
    CHECK(job_cancel(b, note, sizeof note) == 1);
    CHECK_CONTAINS(note, "already");
    job_unref(a);
    job_unref(b);
    job_table_free(t);
}

TEST(request_id_returns_the_same_job)
{
    job_table *t;
    nemo_job *a, *b;
    int existed = -1;

    fresh_config();
    runs = 0;
    t = job_table_new();
    a = start(t, "req-1", work_new(0, 0), &existed);
    CHECK_INT(existed, 0);
    b = start(t, "req-1", work_new(0, 0), &existed);
    CHECK_INT(existed, 1);
    CHECK(a == b);
    job_wait(a, 5000, NULL, NULL);
    CHECK_INT(runs, 1);
    job_unref(a);
    job_unref(b);
    job_table_free(t);

    /* A new process (table) still knows the request from the journal. */
    t = job_table_new();
    b = start(t, "req-1", work_new(0, 0), &existed);
    CHECK_INT(existed, 1);
    CHECK_INT(runs, 1);
    CHECK(b && job_get_status(b) == JOB_COMPLETED);
    job_unref(b);
    job_table_free(t);
}

/* The resumer used after a dead owner: continue with a quick job. */
static int resumed;

static int resume_fn(const cJSON *record, job_fn *fn, void **arg,
                     void (**arg_free)(void *), nemo_result *out)
{
    const cJSON *resume = cJSON_GetObjectItem(record, "resume");
    const cJSON *rid = cJSON_GetObjectItem(resume, "render_id");

    (void)out;
    resumed++;
    if (!cJSON_IsString(rid) || strcmp(rid->valuestring, "render_42") != 0)
        return -1;
    *fn = work_fn;
    *arg = work_new(0, 0);
    *arg_free = work_free;
    return 0;
}

/* Fork a child that starts a job which blocks; return its pid and the job
 * id once the job is running. */
static pid_t child_with_running_job(const char *req, char *id, size_t n)
{
    int ready[2], idp[2];
    pid_t pid;
    char c;

    CHECK(pipe(ready) == 0 && pipe(idp) == 0);
    pid = fork();
    if (pid == 0) {
        job_table *t = job_table_new();
        struct work *w = work_new(60000, 0);
        nemo_job *j;

        w->pipe_fd = ready[1];
        j = start(t, req, w, NULL);
        if (!j)
            _exit(2);
        if (write(idp[1], job_id(j), strlen(job_id(j)) + 1) < 0)
            _exit(2);
        for (;;)
            pause();
    }
    close(ready[1]);
    close(idp[1]);
    CHECK(read(ready[0], &c, 1) == 1);
    CHECK(read(idp[0], id, n) > 0);
    close(ready[0]);
    close(idp[0]);
    return pid;
}

TEST(dead_owner_is_resumed_by_a_new_process)
{
    job_table *t;
    nemo_job *j, *again;
    char id[64] = "";
    pid_t pid;
    int existed = 0;

    fresh_config();
    pid = child_with_running_job("req-dead", id, sizeof id);

    /* While the owner lives, we only watch. */
    t = job_table_new();
    job_table_set_resumer(t, "generate", resume_fn);
    j = job_lookup(t, id);
    CHECK(j != NULL);
    CHECK_INT(job_get_status(j), JOB_RUNNING);
    CHECK_INT(resumed, 0);
    char text[128];
    job_progress_text(j, text, sizeof text);
    CHECK_STR(text, "step one");

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* The watcher notices the lock is free and resumes through the tool. */
    CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_COMPLETED);
    CHECK_INT(resumed, 1);

    /* The retried request id finds the finished job, nothing new runs. */
    again = start(t, "req-dead", work_new(0, 0), &existed);
    CHECK(again == j);
    CHECK_INT(existed, 1);
    job_unref(again);
    job_unref(j);
    job_table_free(t);
}

TEST(unresumable_job_is_interrupted_not_silent)
{
    job_table *t;
    nemo_job *j;
    nemo_result r;
    char id[64] = "";
    pid_t pid;

    fresh_config();
    pid = child_with_running_job(NULL, id, sizeof id);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    t = job_table_new();  /* no resumer registered */
    j = job_lookup(t, id);
    CHECK(j != NULL);
    CHECK_INT(job_get_status(j), JOB_INTERRUPTED);
    CHECK(job_result(j, &r) == 0 && r.is_error);
    CHECK_CONTAINS(r.text, "Ask again");
    result_free(&r);
    job_unref(j);
    job_table_free(t);
}

TEST(shutdown_leaves_jobs_resumable)
{
    job_table *t = NULL;
    nemo_job *j;
    cJSON *rec;
    char id[64];
    int before = resumed;

    fresh_config();
    t = job_table_new();
    j = start(t, NULL, work_new(60000, 0), NULL);
    CHECK(j != NULL);
    snprintf(id, sizeof id, "%s", job_id(j));
    job_wait(j, 50, NULL, NULL);
    job_unref(j);
    job_table_free(t);  /* the process goes away: cancel, but resumable */
    rec = journal_read(id);
    CHECK(rec != NULL);
    CHECK_STR(cJSON_GetObjectItem(rec, "status")->valuestring, "running");
    cJSON_Delete(rec);

    t = job_table_new();
    job_table_set_resumer(t, "generate", resume_fn);
    j = job_lookup(t, id);
    CHECK(j != NULL);
    CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_COMPLETED);
    CHECK_INT(resumed, before + 1);
    job_unref(j);
    job_table_free(t);
}

TEST(two_processes_write_the_journal_at_once)
{
    pid_t kids[2];
    int k, i, status;
    cJSON *all, *e;
    int completed = 0;

    fresh_config();
    for (k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            job_table *t = job_table_new();
            for (i = 0; i < 40; i++) {
                char req[32];
                nemo_job *j;

                snprintf(req, sizeof req, "shared-%d", i);  /* same ids! */
                j = start(t, req, work_new(0, 0), NULL);
                if (!j)
                    _exit(1);
                job_wait(j, 5000, NULL, NULL);
                job_unref(j);
            }
            job_table_free(t);
            _exit(0);
        }
    }
    for (k = 0; k < 2; k++) {
        waitpid(kids[k], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    all = journal_list(NULL, 0);
    cJSON_ArrayForEach(e, all) {
        if (strcmp(cJSON_GetObjectItem(e, "status")->valuestring,
                   "completed") == 0)
            completed++;
    }
    /* One job per request id: 40 records, none lost or torn. */
    CHECK_INT(cJSON_GetArraySize(all), 40);
    CHECK_INT(completed, 40);
    cJSON_Delete(all);
}

TEST(list_and_prune)
{
    job_table *t;
    nemo_job *a, *b;
    cJSON *list, *old;

    fresh_config();
    t = job_table_new();
    a = start(t, NULL, work_new(0, 0), NULL);
    b = start(t, NULL, work_new(0, 0), NULL);
    job_wait(a, 5000, NULL, NULL);
    job_wait(b, 5000, NULL, NULL);
    list = job_list(t, "sess_1", 10);
    CHECK_INT(cJSON_GetArraySize(list), 2);
    cJSON_Delete(list);
    list = job_list(t, "other", 10);
    CHECK_INT(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);

    /* A finished record older than the TTL is pruned. */
    old = journal_read(job_id(a));
    cJSON_ReplaceItemInObject(old, "updated_ms",
                              cJSON_CreateNumber(1000.0));
    CHECK(journal_write(old) == 0);
    cJSON_Delete(old);
    CHECK_INT(journal_prune(60000), 1);
    CHECK(journal_read(job_id(a)) == NULL);
    old = journal_read(job_id(b));
    CHECK(old != NULL);
    cJSON_Delete(old);
    CHECK(!journal_id_valid("../../etc"));
    CHECK(job_lookup(t, "../../etc/passwd") == NULL);
    CHECK(job_lookup(t, "job_doesnotexist000") == NULL);
    job_unref(a);
    job_unref(b);
    job_table_free(t);
}

/* A job that asks: the question waits on the job until answered, and the
 * answer (or the timeout, or a cancel) is what the job function sees. */
struct asking {
    long long wait_ms;
    int rc;
    char answer[64];
};

static void ask_fn(nemo_job *j, void *arg, nemo_result *out)
{
    struct asking *a = arg;
    cJSON *q = cJSON_CreateObject(), *reply = NULL;

    cJSON_AddStringToObject(q, "message", "which one?");
    a->rc = job_input_wait(j, q, a->wait_ms, &reply);
    snprintf(a->answer, sizeof a->answer, "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(reply, "action"))
                 ? cJSON_GetStringValue(cJSON_GetObjectItem(reply, "action"))
                 : "");
    cJSON_Delete(reply);
    out->text = strdup("asked");
}

static nemo_job *start_asking(job_table *t, struct asking *a)
{
    job_spec spec = { "generate", "sess_1", NULL, NULL };
    char err[256] = "";

    return job_start(t, &spec, ask_fn, a, NULL, NULL, err, sizeof err);
}

/* The pending question (bounded wait for the job thread to post it). */
static cJSON *pending(nemo_job *j, unsigned *seq)
{
    cJSON *q = NULL;

    for (int i = 0; i < 500 && !(q = job_input_pending(j, seq)); i++)
        job_wait(j, 10, NULL, NULL);
    return q;
}

TEST(job_waits_for_input)
{
    struct asking a = { 5000, 9, "" }, b = { 50, 9, "" }, c = { 5000, 9, "" };
    job_table *t;
    nemo_job *j;
    unsigned seq = 0;
    cJSON *q;
    char note[256];

    fresh_config();
    t = job_table_new();
    /* Answered. */
    j = start_asking(t, &a);
    q = pending(j, &seq);
    CHECK(q != NULL);
    CHECK_STR(cJSON_GetObjectItem(q, "message")->valuestring, "which one?");
    CHECK_INT(seq, 1);
    CHECK_INT(job_get_status(j), JOB_RUNNING);
    CHECK(job_input_answer(j, seq + 1, cJSON_CreateObject()) != 0);
    {
        cJSON *reply = cJSON_CreateObject();

        cJSON_AddStringToObject(reply, "action", "accept");
        CHECK_INT(job_input_answer(j, seq, reply), 0);
    }
    CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_COMPLETED);
    CHECK_INT(a.rc, 0);
    CHECK_STR(a.answer, "accept");
    CHECK(job_input_pending(j, &seq) == NULL);
    CHECK(job_input_answer(j, seq, cJSON_CreateObject()) != 0);
    cJSON_Delete(q);
    job_unref(j);
    /* No answer in time. */
    j = start_asking(t, &b);
    CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_COMPLETED);
    CHECK_INT(b.rc, 1);
    job_unref(j);
    /* Cancelled while waiting. */
    j = start_asking(t, &c);
    q = pending(j, &seq);
    CHECK(q != NULL);
    cJSON_Delete(q);
    CHECK_INT(job_cancel(j, note, sizeof note), 0);
    CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_CANCELLED);
    CHECK_INT(c.rc, -1);
    job_unref(j);
    job_table_free(t);
}

int main(void)
{
    log_set_level(NLOG_ERROR);
    RUN(job_completes_and_is_journalled);
    RUN(job_wait_is_bounded_and_forwards_progress);
    RUN(failed_and_cancelled_jobs);
    RUN(request_id_returns_the_same_job);
    RUN(dead_owner_is_resumed_by_a_new_process);
    RUN(unresumable_job_is_interrupted_not_silent);
    RUN(shutdown_leaves_jobs_resumable);
    RUN(two_processes_write_the_journal_at_once);
    RUN(list_and_prune);
    RUN(job_waits_for_input);
    return unit_done();
}
