/* store.c - the state dir, the shared config dir, and crash-safe file
 * writes.
 *
 * Writes go to a unique temp file in the target's directory, are fsynced,
 * renamed over the target and the directory is fsynced: a reader (or another
 * process) sees the old file or the new one, never a torn one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/log.h"
#include "nemo/store.h"

/* Files looked at in an old subdir, at most (a hostile dir is bounded). */
#define STORE_MIGRATE_MAX 4096

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

/* ---- the two directories ----
 *
 * The shared config dir belongs to the NemoVideo ecosystem (other skills
 * read and write its client_id, and it promises to hold no credentials);
 * nemo-mcp's own state (token store, session, job journal) lives in the
 * state dir. Both are refused when someone else could have planted files
 * in them: a dir (or the target of a symlink) owned by another user or
 * writable by group or others. A refused dir means "no persistence": reads
 * find nothing, writes fail, and the reason is logged once and shown by
 * `nemo-mcp doctor`. */

typedef struct store_root {
    const char *what;           /* "state dir" | "config dir" */
    const char *env;            /* NEMO_STATE_DIR | NEMO_CONFIG_DIR */
    const char *xdg;            /* XDG_STATE_HOME | XDG_CONFIG_HOME */
    const char *xdg_sub;        /* "nemo-mcp" | "nemovideo" */
    const char *home_sub;       /* ".local/state/nemo-mcp" | ... */
    int warned;                 /* refusal logged (atomic) */
} store_root;

static store_root store_roots[] = {
    { "state dir", "NEMO_STATE_DIR", "XDG_STATE_HOME", "nemo-mcp",
      ".local/state/nemo-mcp", 0 },
    { "config dir", "NEMO_CONFIG_DIR", "XDG_CONFIG_HOME", "nemovideo",
      ".config/nemovideo", 0 },
};

static int root_name(const store_root *r, char *out, size_t n)
{
    const char *env = getenv(r->env);
    const char *xdg = getenv(r->xdg);
    const char *home = getenv("HOME");
    int len;

    if (env && *env)
        len = snprintf(out, n, "%s", env);
    else if (xdg && *xdg == '/')
        len = snprintf(out, n, "%s/%s", xdg, r->xdg_sub);
    else if (home && *home)
        len = snprintf(out, n, "%s/%s", home, r->home_sub);
    else
        return -1;
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int store_dir_check(const char *dir, char *why, size_t n)
{
    struct stat st;

    if (stat(dir, &st) != 0) {
        snprintf(why, n, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, n, "%s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, n, "%s belongs to another user (uid %u); fix: remove "
                 "it or name a dir of your own", dir, (unsigned)st.st_uid);
        return -1;
    }
    if (st.st_mode & 022) {
        snprintf(why, n, "%s is writable by %s (mode %04o); fix: chmod go-w "
                 "%s", dir, (st.st_mode & 002) ? "everyone" : "its group",
                 (unsigned)(st.st_mode & 07777), dir);
        return -1;
    }
    return 0;
}

static int root_resolve(store_root *r, char *out, size_t n, char *why,
                        size_t whyn)
{
    char tmp[512];

    if (!why) {
        why = tmp;
        whyn = sizeof tmp;
    }
    why[0] = '\0';
    if (root_name(r, out, n) != 0) {
        snprintf(why, whyn, "cannot name the %s (set %s or HOME)", r->what,
                 r->env);
        return -1;
    }
    if (fs_mkdirs(out, 0700) != 0) {
        snprintf(why, whyn, "cannot create %s: %s", out, strerror(errno));
        goto refused;
    }
    if (store_dir_check(out, why, whyn) != 0)
        goto refused;
    return 0;
refused:
    if (!__atomic_exchange_n(&r->warned, 1, __ATOMIC_RELAXED))
        LOG_WARN("store", "not using the %s: %s; running without saving "
                 "state", r->what, why);
    return -1;
}

static void migrate_once(const char *state);
static int create_new(const char *path, const void *data, size_t len,
                      mode_t mode);

int store_dir(char *out, size_t n)
{
    if (root_resolve(&store_roots[0], out, n, NULL, 0) != 0)
        return -1;
    migrate_once(out);
    return 0;
}

int store_config_dir(char *out, size_t n)
{
    return root_resolve(&store_roots[1], out, n, NULL, 0);
}

int store_dir_status(int config, char *dir, size_t n, char *why, size_t whyn)
{
    return root_resolve(&store_roots[config ? 1 : 0], dir, n, why, whyn);
}

/* ---- moving nemo-mcp's files out of the shared dir ----
 *
 * Older nemo-mcp versions kept their token store (and session) in the
 * shared config dir. Each such file is moved once into the state dir when
 * the state dir has none; a file that is not a regular file of ours, or
 * sits in a refused config dir, is left alone and never read. */

static int is_legacy_file(const char *name)
{
    size_t l = strlen(name);

    if (strcmp(name, "session.json") == 0)
        return 1;
    return strncmp(name, "token", 5) == 0 && l > 5 &&
           (name[5] == '.' || name[5] == '-') &&
           strcmp(name + l - 5, ".json") == 0 && !strchr(name, '/');
}

static void migrate_file(const char *from, const char *to)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;

    if (lstat(from, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != geteuid() || access(to, F_OK) == 0)
        return;
    if (rename(from, to) == 0) {
        LOG_INFO("store", "moved %s to %s", from, to);
        return;
    }
    /* Another file system: copy, then remove the original. */
    if (errno != EXDEV || fs_read_all(from, &data, &len, 1u << 20) != 0)
        goto out;
    if (fs_write_atomic(to, data, len, 0600) == 0 && unlink(from) == 0)
        LOG_INFO("store", "moved %s to %s", from, to);
out:
    if (data) {
        memset(data, 0, len);
        free(data);
    }
}

static void migrate_run(const char *state)
{
    char cfg[PATH_MAX], from[PATH_MAX + 256], to[PATH_MAX + 256];
    struct dirent *e;
    DIR *d;

    if (store_config_dir(cfg, sizeof cfg) != 0 || strcmp(cfg, state) == 0 ||
        !(d = opendir(cfg)))
        return;
    while ((e = readdir(d)) != NULL) {
        if (!is_legacy_file(e->d_name))
            continue;
        snprintf(from, sizeof from, "%s/%s", cfg, e->d_name);
        snprintf(to, sizeof to, "%s/%s", state, e->d_name);
        migrate_file(from, to);
    }
    closedir(d);
}

int store_legacy_left(char *out, size_t n)
{
    char cfg[PATH_MAX];
    struct dirent *e;
    DIR *d;
    int found = 0;

    if (store_config_dir(cfg, sizeof cfg) != 0 || !(d = opendir(cfg)))
        return 0;
    while (!found && (e = readdir(d)) != NULL)
        if ((found = is_legacy_file(e->d_name)) != 0)
            snprintf(out, n, "%s/%s", cfg, e->d_name);
    closedir(d);
    return found;
}

/* One file of <cfg>/<sub>: read without following a symlink, only a
 * regular file of ours; created in the state dir only when keep() accepts
 * the bytes read (the very bytes written) and no such file is there; the
 * original is removed once it is safely in place. */
static void migrate_sub_file(const char *from, const char *to,
                             const char *name, store_keep_fn keep,
                             size_t max)
{
    struct stat st;
    char *data = NULL;
    ssize_t got = 0;
    int ok, fd = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != geteuid() || (size_t)st.st_size > max ||
        !(data = malloc((size_t)st.st_size + 1)))
        goto out;
    while ((size_t)got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - (size_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += r;
    }
    data[got] = '\0';
    if ((ok = keep(name, data, (size_t)got)) <= 0) {
        if (ok == 0)
            LOG_WARN("store", "not moving %s: not a valid record", from);
        goto out;
    }
    if (create_new(to, data, (size_t)got, 0600) == 0 && unlink(from) == 0)
        LOG_INFO("store", "moved %s to %s", from, to);
out:
    free(data);
    close(fd);
}

int store_migrate_subdir(const char *sub, store_keep_fn keep, size_t max)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char done[PATH_MAX + 64];
    char state[PATH_MAX], cfg[PATH_MAX], key[PATH_MAX + 64];
    char from[PATH_MAX * 2], to[PATH_MAX * 2], why[512];
    struct dirent *e;
    DIR *d = NULL;
    int n = 0;

    if (!sub || !*sub || strchr(sub, '/') || strstr(sub, "..") ||
        store_dir(state, sizeof state) != 0)
        return -1;
    snprintf(key, sizeof key, "%s/%s", state, sub);
    pthread_mutex_lock(&mu);
    if (strcmp(done, key) == 0)
        goto out;
    snprintf(done, sizeof done, "%s", key);
    /* Only from a safe shared dir, and a safe subdir in it. */
    if (store_config_dir(cfg, sizeof cfg) != 0 || strcmp(cfg, state) == 0)
        goto out;
    snprintf(from, sizeof from, "%s/%s", cfg, sub);
    if (access(from, F_OK) != 0)
        goto out;
    if (store_dir_check(from, why, sizeof why) != 0) {
        LOG_WARN("store", "not moving old records: %s", why);
        goto out;
    }
    snprintf(to, sizeof to, "%s/%s", state, sub);
    if (fs_mkdirs(to, 0700) != 0 || !(d = opendir(from)))
        goto out;
    while ((e = readdir(d)) != NULL && n++ < STORE_MIGRATE_MAX) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(from, sizeof from, "%s/%s/%s", cfg, sub, e->d_name);
        snprintf(to, sizeof to, "%s/%s/%s", state, sub, e->d_name);
        migrate_sub_file(from, to, e->d_name, keep, max);
    }
    closedir(d);
out:
    pthread_mutex_unlock(&mu);
    return 0;
}

/* Once per process (and per state dir, for tests that switch dirs). */
static void migrate_once(const char *state)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char done[PATH_MAX];

    pthread_mutex_lock(&mu);
    if (strcmp(done, state) != 0) {
        snprintf(done, sizeof done, "%s", state);
        migrate_run(state);
    }
    pthread_mutex_unlock(&mu);
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

/* ---- files in the shared config dir ---- */

static int config_path(const char *name, char *out, size_t n)
{
    char dir[PATH_MAX];
    int len;

    if (!name || !*name || strchr(name, '/') || strstr(name, ".."))
        return -1;
    if (store_config_dir(dir, sizeof dir) != 0)
        return -1;
    len = snprintf(out, n, "%s/%s", dir, name);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int store_config_read(const char *name, char **data, size_t *len,
                      size_t max)
{
    char path[PATH_MAX];

    *data = NULL;
    if (config_path(name, path, sizeof path) != 0)
        return -1;
    return fs_read_all(path, data, len, max);
}

/* Write path only if it does not exist: 0 created, 1 already there, -1
 * error. The file appears complete or not at all. */
static int create_new(const char *path, const void *data, size_t len,
                      mode_t mode)
{
    char tmp[PATH_MAX + 16];
    int fd, rc = -1, n;

    n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp || (fd = mkstemp(tmp)) < 0)
        return -1;
    if (fchmod(fd, mode) != 0 || write_full(fd, data, len) != 0 ||
        fsync(fd) != 0) {
        close(fd);
        goto out;
    }
    if (close(fd) != 0)
        goto out;
    /* link() never replaces: a file another process made first wins. */
    if (link(tmp, path) == 0) {
        fs_fsync_dir_of(path);
        rc = 0;
    } else {
        rc = errno == EEXIST ? 1 : -1;
    }
out:
    unlink(tmp);
    return rc;
}

int store_config_create(const char *name, const void *data, size_t len,
                        mode_t mode)
{
    char path[PATH_MAX];

    if (config_path(name, path, sizeof path) != 0)
        return -1;
    return create_new(path, data, len, mode);
}

int store_config_path(const char *name, char *out, size_t n)
{
    return config_path(name, out, n);
}
