/* journal.h - durable job records in <config dir>/jobs/.
 *
 * One file per job (<id>.json), written atomically and only by the process
 * that holds the job's lock (<id>.lock, flock, held while the job runs; the
 * kernel drops it when the process dies, even on SIGKILL). request_id claims
 * are O_EXCL files, so two processes cannot both claim one request. */
#ifndef NEMO_JOURNAL_H
#define NEMO_JOURNAL_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* 1 when the state dir can hold the journal (not refused, see store.h). */
int journal_available(void);
int journal_write(const cJSON *record);        /* needs record.id */
cJSON *journal_read(const char *id);           /* NULL when unknown/corrupt */
/* Remove a record and its lock file (not its request claim). */
int journal_remove(const char *id);
/* 0: claimed for job_id; 1: already claimed (existing filled); -1: error. */
int journal_claim_request(const char *request_id, const char *job_id,
                          char *existing, size_t n);
/* Take the job's run lock without blocking. fd >= 0 on success, -1 when
 * another live process holds it. */
int journal_lock_job(const char *id);
void journal_unlock_job(int fd);
/* Records (newest first), optionally of one session. */
cJSON *journal_list(const char *session, int max);
/* Drop finished records older than ttl_ms and their request claims. */
int journal_prune(long long ttl_ms);
/* A record's number / string field; 0 / NULL when absent or mistyped. */
long long journal_num(const cJSON *rec, const char *key);
const char *journal_str(const cJSON *rec, const char *key);
/* Reject ids that are not ours (path safety): [A-Za-z0-9_-]{8,64}. */
int journal_id_valid(const char *id);

#endif
