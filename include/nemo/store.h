/* store.h - the config dir shared with other NemoVideo skills, and safe
 * file writes.
 *
 * Dir: NEMO_CONFIG_DIR, else $XDG_CONFIG_HOME/nemovideo, else
 * ~/.config/nemovideo. Created 0700. Files written here are 0600 unless
 * stated. */
#ifndef NEMO_STORE_H
#define NEMO_STORE_H

#include <stddef.h>
#include <sys/types.h>

/* Resolve (and create, mode 0700) the config dir. 0 on success. */
int store_dir(char *out, size_t n);
/* Resolve only: nothing is created. 0 on success. */
int store_dir_name(char *out, size_t n);
/* Whether the config dir can be used, without creating anything: it, or
 * the nearest existing folder above it, is a writable folder. -1 with the
 * reason in why. */
int store_dir_usable(char *why, size_t n);
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
