/* store.c - the config dir and crash-safe file writes.
 *
 * Writes go to a unique temp file in the target's directory, are fsynced,
 * renamed over the target and the directory is fsynced: a reader (or another
 * process) sees the old file or the new one, never a torn one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/log.h"
#include "nemo/store.h"

int fs_mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        tmp[i] = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        tmp[i] = i < n ? '/' : '\0';
    }
    return 0;
}

int store_dir_name(char *out, size_t n)
{
    const char *env = getenv("NEMO_CONFIG_DIR");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int len;

    if (env && *env)
        len = snprintf(out, n, "%s", env);
    else if (xdg && *xdg)
        len = snprintf(out, n, "%s/nemovideo", xdg);
    else if (home && *home)
        len = snprintf(out, n, "%s/.config/nemovideo", home);
    else
        return -1;
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* The dir, or its nearest existing ancestor when it does not exist yet,
 * must be a directory we can write into. */
int store_dir_usable(char *why, size_t n)
{
    char dir[PATH_MAX], at[PATH_MAX];
    struct stat st;
    char *cut;

    if (store_dir_name(dir, sizeof dir) != 0) {
        snprintf(why, n, "no config dir: NEMO_CONFIG_DIR, XDG_CONFIG_HOME "
                 "and HOME are unset (or the path is too long)");
        return -1;
    }
    snprintf(at, sizeof at, "%s", dir);
    while (stat(at, &st) != 0) {
        if (errno != ENOENT || strcmp(at, ".") == 0 || strcmp(at, "/") == 0) {
            snprintf(why, n, "config dir %s: %s%s%s", dir,
                     strcmp(at, dir) ? at : "", strcmp(at, dir) ? ": " : "",
                     strerror(errno));
            return -1;
        }
        cut = strrchr(at, '/');
        if (!cut)
            snprintf(at, sizeof at, ".");
        else if (cut == at)
            at[1] = '\0';
        else
            *cut = '\0';
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, n, "config dir %s: %s is not a folder", dir, at);
        return -1;
    }
    if (access(at, W_OK | X_OK) != 0) {
        snprintf(why, n, "config dir %s: %s is not writable (%s)", dir, at,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int store_dir(char *out, size_t n)
{
    if (store_dir_name(out, n) != 0)
        return -1;
    if (fs_mkdirs(out, 0700) != 0) {
        LOG_ERROR("store", "cannot create config dir %s: %s", out,
                  strerror(errno));
        return -1;
    }
    return 0;
}

int store_path(const char *name, char *out, size_t n)
{
    char dir[PATH_MAX];
    const char *slash;
    int len;

    if (!name || !*name || name[0] == '/' || strstr(name, ".."))
        return -1;
    if (store_dir(dir, sizeof dir) != 0)
        return -1;
    len = snprintf(out, n, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= n)
        return -1;
    slash = strrchr(name, '/');
    if (slash) {
        char sub[PATH_MAX];
        char *cut;

        memcpy(sub, out, (size_t)len + 1);
        cut = strrchr(sub, '/');
        *cut = '\0';
        if (fs_mkdirs(sub, 0700) != 0)
            return -1;
    }
    return 0;
}

int fs_read_all(const char *path, char **data, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, used = 0;

    *data = NULL;
    if (len)
        *len = 0;
    if (!f)
        return errno == ENOENT ? 1 : -1;
    for (;;) {
        size_t got;

        if (cap - used < 4096) {
            char *p;

            cap = cap ? cap * 2 : 8192;
            if (cap > max + 1)
                cap = max + 1;
            if (cap <= used) {
                errno = EFBIG;
                goto fail;
            }
            p = realloc(buf, cap + 1);
            if (!p)
                goto fail;
            buf = p;
        }
        got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || used > max)
        goto fail;
    fclose(f);
    if (!buf && !(buf = malloc(1)))
        return -1;
    buf[used] = '\0';
    *data = buf;
    if (len)
        *len = used;
    return 0;
fail:
    free(buf);
    fclose(f);
    return -1;
}

int store_read(const char *name, char **data, size_t *len)
{
    char path[PATH_MAX];

    *data = NULL;
    if (store_path(name, path, sizeof path) != 0)
        return -1;
    return fs_read_all(path, data, len, 16u << 20);
}

int fs_fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd, rc;

    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_full(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len,
                    mode_t mode)
{
    char tmp[PATH_MAX];
    int fd, n;

    n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    if (fchmod(fd, mode) != 0 || write_full(fd, data, len) != 0 ||
        fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    fs_fsync_dir_of(path);
    return 0;
}

int store_write(const char *name, const void *data, size_t len, mode_t mode)
{
    char path[PATH_MAX];

    if (store_path(name, path, sizeof path) != 0)
        return -1;
    if (fs_write_atomic(path, data, len, mode) != 0) {
        LOG_ERROR("store", "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int store_remove(const char *name)
{
    char path[PATH_MAX];

    if (store_path(name, path, sizeof path) != 0)
        return -1;
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int store_lock(const char *name, int exclusive)
{
    char path[PATH_MAX], lock[PATH_MAX + 8];
    int fd;

    if (store_path(name, path, sizeof path) != 0)
        return -1;
    snprintf(lock, sizeof lock, "%s.lock", path);
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void store_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}
