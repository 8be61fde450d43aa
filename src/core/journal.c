/* journal.c - durable job records in <state dir>/jobs/.
 *
 * Layout:
 *   jobs/<id>.json       the record, replaced atomically by its owner
 *   jobs/<id>.lock       flock held by the process running the job
 *   jobs/req-<key>       request_id claim: the job id, created with link()
 *                        so it appears complete or not at all
 * Each record has one writer (the lock holder), so two processes never
 * overwrite each other's records; claims are first-come via link(). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "nemo/buf.h"
#include "nemo/clock.h"
#include "nemo/journal.h"
#include "nemo/json.h"
#include "nemo/log.h"
#include "nemo/num.h"
#include "nemo/store.h"

#define JOURNAL_DIR "jobs"
/* A record holds a job's resume data and result: replies are capped
 * (adk.h) and drafts kept as a digest, so a real record is a few KB. One
 * past this is refused on write and on read. */
#define JOURNAL_MAX_RECORD (4u << 20)
#define JOURNAL_SCAN_MAX 4096

int journal_id_valid(const char *id)
{
    size_t n = 0;

    if (!id)
        return 0;
    for (; id[n]; n++) {
        char c = id[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
        if (n >= 64)
            return 0;
    }
    return n >= 8;
}

static int record_name(const char *id, const char *suffix, char *out,
                       size_t n)
{
    int len;

    if (!journal_id_valid(id))
        return -1;
    len = snprintf(out, n, JOURNAL_DIR "/%s%s", id, suffix);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

/* Claim file name for a request id: hex of the id when short, else two
 * FNV-1a hashes (collisions need 128 bits to line up). */
static void claim_name(const char *request_id, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(request_id), i, o;

    o = (size_t)snprintf(out, n, JOURNAL_DIR "/req-");
    if (len <= 100) {
        for (i = 0; i < len && o + 2 < n; i++) {
            out[o++] = hex[(unsigned char)request_id[i] >> 4];
            out[o++] = hex[(unsigned char)request_id[i] & 15];
        }
        out[o] = '\0';
    } else {
        unsigned long long h1 = 1469598103934665603ULL, h2 = 0x9e3779b97f4a7c15ULL;

        for (i = 0; i < len; i++) {
            h1 = (h1 ^ (unsigned char)request_id[i]) * 1099511628211ULL;
            h2 = (h2 ^ (unsigned char)request_id[i]) * 0x100000001b3ULL + i;
        }
        snprintf(out + o, n - o, "h%016llx%016llx", h1, h2);
    }
}

/* An old record or claim is taken only if the journal would read it:
 * <valid id>.json holding an object whose "id" is that id, or a claim
 * naming a valid job id. Other names (lock and temp files) are not
 * records at all: -1. */
static int legacy_keep(const char *name, const char *data, size_t len)
{
    char id[80], claim[80];
    size_t n = strlen(name);
    const cJSON *v;
    cJSON *rec;
    int ok;

    if (strncmp(name, "req-", 4) == 0) {
        if (n <= 4 || strspn(name + 4, "0123456789abcdefh") != n - 4)
            return -1;
        if (len >= sizeof claim)
            return 0;
        memcpy(claim, data, len);
        claim[len] = '\0';
        while (len && (claim[len - 1] == '\n' || claim[len - 1] == ' '))
            claim[--len] = '\0';
        return journal_id_valid(claim);
    }
    if (n < 6 || n - 5 >= sizeof id || strcmp(name + n - 5, ".json") != 0)
        return -1;
    memcpy(id, name, n - 5);
    id[n - 5] = '\0';
    if (!journal_id_valid(id))
        return -1;
    if (!(rec = json_parse(data, len, NULL)))
        return 0;
    v = cJSON_GetObjectItemCaseSensitive(rec, "id");
    ok = cJSON_IsObject(rec) && cJSON_IsString(v) &&
         strcmp(v->valuestring, id) == 0;
    cJSON_Delete(rec);
    return ok;
}

/* The state dir, with the journal an older nemo-mcp kept in the shared
 * config dir moved in (once), so its unfinished jobs are resumed. */
static int journal_dir_ready(void)
{
    return store_migrate_subdir(JOURNAL_DIR, legacy_keep,
                                JOURNAL_MAX_RECORD) == 0;
}

int journal_available(void)
{
    return journal_dir_ready();
}

int journal_write(const cJSON *record)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(record, "id");
    char name[128];
    char *text;
    int rc;

    if (!cJSON_IsString(id) ||
        record_name(id->valuestring, ".json", name, sizeof name) != 0)
        return -1;
    text = cJSON_PrintUnformatted(record);
    /* A record holds results and progress text: never the token. */
    if (text && log_contains_secret(text)) {
        char *r = log_redact_dup(text);

        free(text);
        text = r;
    }
    if (!text)
        return -1;
    if (strlen(text) > JOURNAL_MAX_RECORD) {
        LOG_WARN("journal", "job record %s is larger than %u MB; not "
                 "written", id->valuestring, JOURNAL_MAX_RECORD >> 20);
        free(text);
        return -1;
    }
    rc = store_write(name, text, strlen(text), 0600);
    free(text);
    return rc;
}

cJSON *journal_read(const char *id)
{
    char name[128], *text = NULL;
    size_t len = 0;
    cJSON *rec;

    if (record_name(id, ".json", name, sizeof name) != 0 ||
        !journal_dir_ready())
        return NULL;
    if (store_read(name, &text, &len) != 0)
        return NULL;
    rec = len <= JOURNAL_MAX_RECORD ? json_parse(text, len, NULL) : NULL;
    free(text);
    if (rec && !cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        rec = NULL;
    }
    if (!rec)
        LOG_WARN("journal", "job record %s is corrupt; ignoring it", id);
    return rec;
}

int journal_remove(const char *id)
{
    char name[128];
    int rc = 0;

    if (record_name(id, ".json", name, sizeof name) != 0)
        return -1;
    rc |= store_remove(name);
    record_name(id, ".lock", name, sizeof name);
    rc |= store_remove(name);
    return rc ? -1 : 0;
}

static int read_claim(const char *path, char *existing, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    int rc = -1;

    if (fs_read_all(path, &text, &len, 256) == 0) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
            text[--len] = '\0';
        if (journal_id_valid(text)) {
            snprintf(existing, n, "%s", text);
            rc = 0;
        }
    }
    free(text);
    return rc;
}

int journal_claim_request(const char *request_id, const char *job_id,
                          char *existing, size_t n)
{
    char name[300], path[PATH_MAX], tmp[PATH_MAX + 16];
    int fd, rc = -1;

    if (!request_id || !*request_id || !journal_id_valid(job_id))
        return -1;
    claim_name(request_id, name, sizeof name);
    if (store_path(name, path, sizeof path) != 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    if (write(fd, job_id, strlen(job_id)) == (ssize_t)strlen(job_id) &&
        fsync(fd) == 0) {
        /* link() never replaces: exactly one process wins the name. */
        if (link(tmp, path) == 0) {
            fs_fsync_dir_of(path);
            rc = 0;
        } else if (errno == EEXIST) {
            rc = read_claim(path, existing, n) == 0 ? 1 : -1;
        }
    }
    close(fd);
    unlink(tmp);
    return rc;
}

int journal_lock_job(const char *id)
{
    char name[128], path[PATH_MAX];
    int fd;

    if (record_name(id, ".lock", name, sizeof name) != 0 ||
        store_path(name, path, sizeof path) != 0)
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void journal_unlock_job(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

long long journal_num(const cJSON *rec, const char *key)
{
    /* Records are files anyone with the user's rights can edit: no cast
     * of an out-of-range double. */
    return num_ll_or(cJSON_GetObjectItemCaseSensitive(rec, key), LLONG_MIN,
                     LLONG_MAX, 0);
}

const char *journal_str(const cJSON *rec, const char *key)
{
    return json_str(rec, key);
}

/* Calls fn for every record file; stops early when fn returns non-zero. */
static void for_each_record(int (*fn)(void *ctx, const char *id, cJSON *rec),
                            void *ctx)
{
    char dir[PATH_MAX];
    DIR *d;
    struct dirent *de;
    int seen = 0;

    if (!journal_dir_ready() ||
        store_path(JOURNAL_DIR "/x", dir, sizeof dir) != 0)
        return;
    dir[strlen(dir) - 2] = '\0';
    d = opendir(dir);
    if (!d)
        return;
    while ((de = readdir(d)) != NULL && seen < JOURNAL_SCAN_MAX) {
        char id[80];
        size_t len = strlen(de->d_name);
        cJSON *rec;

        if (len < 6 || len - 5 >= sizeof id ||
            strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        memcpy(id, de->d_name, len - 5);
        id[len - 5] = '\0';
        if (!journal_id_valid(id))
            continue;
        seen++;
        rec = journal_read(id);
        if (rec && fn(ctx, id, rec) != 0)
            break;
    }
    closedir(d);
}

struct list_ctx {
    const char *session;
    cJSON *out;
};

static int list_one(void *vctx, const char *id, cJSON *rec)
{
    struct list_ctx *ctx = vctx;
    const char *sess = journal_str(rec, "session");

    (void)id;
    if (ctx->session && (!sess || strcmp(sess, ctx->session) != 0)) {
        cJSON_Delete(rec);
        return 0;
    }
    cJSON_AddItemToArray(ctx->out, rec);
    return 0;
}

static int by_created_desc(const void *a, const void *b)
{
    long long ca = journal_num(*(cJSON *const *)a, "created_ms");
    long long cb = journal_num(*(cJSON *const *)b, "created_ms");

    return ca < cb ? 1 : ca > cb ? -1 : 0;
}

cJSON *journal_list(const char *session, int max)
{
    struct list_ctx ctx = { session, cJSON_CreateArray() };
    cJSON **items = NULL, *out = NULL;
    int n, i;

    if (!ctx.out)
        return NULL;
    for_each_record(list_one, &ctx);
    n = cJSON_GetArraySize(ctx.out);
    items = calloc((size_t)n + 1, sizeof *items);
    out = cJSON_CreateArray();
    if (!items || !out)
        goto fail;
    for (i = n - 1; i >= 0; i--)
        items[i] = cJSON_DetachItemFromArray(ctx.out, i);
    qsort(items, (size_t)n, sizeof *items, by_created_desc);
    for (i = 0; i < n; i++) {
        if (max <= 0 || i < max)
            cJSON_AddItemToArray(out, items[i]);
        else
            cJSON_Delete(items[i]);
    }
    free(items);
    cJSON_Delete(ctx.out);
    return out;
fail:
    free(items);
    cJSON_Delete(out);
    cJSON_Delete(ctx.out);
    return NULL;
}

struct prune_ctx {
    long long now;
    long long ttl;
    int removed;
};

static void remove_job_files(const char *id, const char *request_id)
{
    char name[300];

    if (request_id && *request_id) {
        char existing[80] = "";
        char path[PATH_MAX];

        claim_name(request_id, name, sizeof name);
        /* Only drop the claim if it still points at this job. */
        if (store_path(name, path, sizeof path) == 0 &&
            read_claim(path, existing, sizeof existing) == 0 &&
            strcmp(existing, id) == 0)
            store_remove(name);
    }
    journal_remove(id);
}

static int prune_one(void *vctx, const char *id, cJSON *rec)
{
    struct prune_ctx *ctx = vctx;
    const char *status = journal_str(rec, "status");
    long long updated = journal_num(rec, "updated_ms");
    int running = status && strcmp(status, "running") == 0;

    if (ctx->now - updated > ctx->ttl) {
        int fd = running ? journal_lock_job(id) : -2;

        /* A running record is only old news when its owner is gone. */
        if (fd != -1) {
            remove_job_files(id, journal_str(rec, "request_id"));
            ctx->removed++;
        }
        if (fd >= 0)
            journal_unlock_job(fd);
    }
    cJSON_Delete(rec);
    return 0;
}

int journal_prune(long long ttl_ms)
{
    struct prune_ctx ctx = { clock_wall_ms(), ttl_ms, 0 };

    for_each_record(prune_one, &ctx);
    if (ctx.removed)
        LOG_INFO("journal", "pruned %d finished job record(s)", ctx.removed);
    return ctx.removed;
}
