/* fspolicy.h - where nemo-mcp may read (uploads) and write (downloads).
 *
 * One module decides, for every local path the model hands us: upload
 * (read), export's download_to (write), and the MCP roots capability (the
 * folders the host says the user opened) all go through it. The allowed
 * set for an access is the intersection of two lists, each "no limit"
 * when absent:
 *   - the environment: NEMO_UPLOAD_ROOTS (read) / NEMO_DOWNLOAD_ROOTS
 *     (write), colon-separated;
 *   - the host's roots, set by the MCP layer (src/mcp/roots.c).
 * Paths are judged after realpath, component-wise (/data/up does not admit
 * /data/upload-other). Thread-safe: roots change on the protocol thread
 * while tool calls read them on workers. */
#ifndef NEMO_FSPOLICY_H
#define NEMO_FSPOLICY_H

#include <stddef.h>

typedef enum { FSP_READ = 0, FSP_WRITE = 1 } fsp_access;

/* Replace the host's roots with dirs[0..n) (absolute paths; copied).
 * n == 0 clears them: the host gave none, so the host sets no limit.
 * Returns 0, or -1 when out of memory (the old roots stay). */
int fsp_set_host_roots(const char *const *dirs, size_t n);
/* Non-zero when the host has given roots. */
int fsp_have_host_roots(void);

/* 0 when the resolved absolute path may be used for access; -1 with a
 * reason for a person naming the allowed folders. */
int fsp_check(fsp_access access, const char *resolved, char *reason,
              size_t n);

/* The folders that bound access, one per line prefixed by "  - ", into
 * out (for messages and completion); "" when nothing bounds it. */
void fsp_describe(fsp_access access, char *out, size_t n);

/* Each allowed folder (realpath'd, host roots inside env roots listed as
 * they are) is passed to fn; fn returns non-zero to stop. Returns the
 * number visited; 0 means nothing bounds access (or none resolve). */
size_t fsp_each_root(fsp_access access,
                     int (*fn)(void *ctx, const char *dir), void *ctx);

/* Non-zero when resolved equals root or lies below it (both absolute,
 * root realpath'd, no trailing slash except "/"). */
int fsp_inside(const char *resolved, const char *root);

/* Where a download may be written: export's download_to, and a resumed
 * export's recorded dest, checked again before anything is written.
 *   - path as given ("~/" is $HOME, relative to the working directory);
 *     when it names an existing folder and name is not NULL, the file is
 *     <folder>/<name>.mp4; with name NULL a folder is refused;
 *   - the file name ends in ".mp4" and does not start with '.';
 *   - its folder exists (resolved with realpath) and is writable; none of
 *     the folder's components starts with '.' (~/.ssh, ~/.config, ...)
 *     unless an allowed root (NEMO_DOWNLOAD_ROOTS or the host's roots)
 *     holds the target; when roots are set, nothing outside them;
 *   - an existing target must be a regular file (not a symlink) and is
 *     refused unless overwrite.
 * 0 with out = the absolute target (folder realpath'd) and *exists (an
 * existing regular file: the caller replaces it only if it is an MP4);
 * -1 with a reason for a person. */
int fsp_download_target(const char *path, const char *name, int overwrite,
                        char *out, size_t n, int *exists, char *reason,
                        size_t rn);

/* Free the host roots (tests, shutdown). */
void fsp_reset(void);

#endif
