/* store.h - nemo-mcp's state dir, the config dir shared with other
 * NemoVideo skills, and safe file writes.
 *
 * State dir (token store, session, job journal; every store_* call below
 * without "config" in its name): NEMO_STATE_DIR, else
 * $XDG_STATE_HOME/nemo-mcp, else ~/.local/state/nemo-mcp.
 * Shared config dir (only the ecosystem's client_id): NEMO_CONFIG_DIR, else
 * $XDG_CONFIG_HOME/nemovideo, else ~/.config/nemovideo.
 * Both are created 0700 and refused (no persistence, logged once) when they
 * belong to another user or are writable by group or others. Files
 * written here are 0600 unless stated. */
#ifndef NEMO_STORE_H
#define NEMO_STORE_H

#include <stddef.h>
#include <sys/types.h>

/* Resolve (and create, mode 0700) the state dir; the first call moves a
 * token store left in the config dir by older versions. 0 on success, -1
 * when it cannot be created or is refused. */
int store_dir(char *out, size_t n);
/* 1 and out when a file of an older nemo-mcp is still in the shared
 * config dir (not moved: the state dir already had one). */
int store_legacy_left(char *out, size_t n);
/* Decides whether an old file (name, its bytes) may be moved: 1 yes, 0 no
 * (a damaged or forged record: logged), -1 not one of ours (lock files,
 * temp files: left silently). */
typedef int (*store_keep_fn)(const char *name, const char *data, size_t len);
/* Once per process and state dir: move the files of <config dir>/<sub>/
 * that an older nemo-mcp left there into <state dir>/<sub>/. Only from a
 * safe config dir and a safe subdir, only regular files of this user (no
 * symlinks) up to max bytes that keep() accepts; an existing file in the
 * state dir is never replaced. 0, or -1 when the state dir is not usable. */
int store_migrate_subdir(const char *sub, store_keep_fn keep, size_t max);
/* The same for the shared config dir (nothing is moved). */
int store_config_dir(char *out, size_t n);
/* For doctor: dir and, on -1, why it is not used. config: 0 state dir,
 * 1 config dir. */
int store_dir_status(int config, char *dir, size_t n, char *why,
                     size_t whyn);
/* 0 when dir (symlinks followed) is a directory owned by this user and not
 * writable by group or others; -1 with the reason in why. */
int store_dir_check(const char *dir, char *why, size_t n);
/* Files directly in the shared config dir: read (1 when absent), and
 * create without ever replacing (1 when the file already exists). */
int store_config_read(const char *name, char **data, size_t *len,
                      size_t max);
int store_config_create(const char *name, const void *data, size_t len,
                        mode_t mode);
int store_config_path(const char *name, char *out, size_t n);
/* <dir>/<name>; subdirs in name are created 0700 on demand. */
int store_path(const char *name, char *out, size_t n);
/* Whole file; *data NUL-terminated, caller frees. 1 when the file does not
 * exist, 0 on success, -1 on error. */
int store_read(const char *name, char **data, size_t *len);
/* Atomic replace: temp file in the same dir, write, fsync, rename, fsync dir. */
int store_write(const char *name, const void *data, size_t len, mode_t mode);
int store_remove(const char *name);
/* Advisory lock on <dir>/<name>.lock (flock). Returns an fd >= 0 or -1. */
int store_lock(const char *name, int exclusive);
void store_unlock(int fd);

/* Same for any path (download targets use these). */
int fs_write_atomic(const char *path, const void *data, size_t len,
                    mode_t mode);
int fs_read_all(const char *path, char **data, size_t *len, size_t max);
int fs_fsync_dir_of(const char *path);
int fs_mkdirs(const char *path, mode_t mode);

#endif
