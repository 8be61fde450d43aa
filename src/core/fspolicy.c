/* fspolicy.c - the one place that says where local files may be read and
 * written. See fspolicy.h for the rules.
 *
 * Environment roots are read from the environment on every check (tests
 * and `call` set them per process; reading is cheap next to a realpath).
 * Host roots are owned here, behind a mutex, and replaced whole. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/fspolicy.h"

#define FSP_MAX_HOST_ROOTS 256

static pthread_mutex_t fsp_mu = PTHREAD_MUTEX_INITIALIZER;
static char **fsp_host;        /* realpath'd where they resolve */
static size_t fsp_nhost;

static const char *const fsp_env_names[] = {
    [FSP_READ] = "NEMO_UPLOAD_ROOTS",
    [FSP_WRITE] = "NEMO_DOWNLOAD_ROOTS",
};

static const char *fsp_env(fsp_access access)
{
    const char *v = getenv(fsp_env_names[access]);

    return v && *v ? v : NULL;
}

int fsp_inside(const char *resolved, const char *root)
{
    size_t n = strlen(root);

    if (n == 0)
        return 0;
    if (n == 1 && root[0] == '/')
        return resolved[0] == '/';
    return strncmp(resolved, root, n) == 0 &&
           (resolved[n] == '/' || resolved[n] == '\0');
}

/* realpath of dir[0..len) into out; -1 when it does not resolve. */
static int fsp_real(const char *dir, size_t len, char *out)
{
    char want[PATH_MAX];

    if (len == 0 || len >= sizeof want)
        return -1;
    memcpy(want, dir, len);
    want[len] = '\0';
    return realpath(want, out) ? 0 : -1;
}

typedef int (*fsp_dir_fn)(void *ctx, const char *dir);

/* Each resolvable entry of a colon-separated list; returns how many. */
static size_t fsp_each_env(const char *list, fsp_dir_fn fn, void *ctx)
{
    const char *p, *colon;
    char real[PATH_MAX];
    size_t count = 0;

    for (p = list; *p; p = *colon ? colon + 1 : colon) {
        colon = strchr(p, ':');
        if (!colon)
            colon = p + strlen(p);
        if (fsp_real(p, (size_t)(colon - p), real) != 0)
            continue;
        count++;
        if (fn && fn(ctx, real))
            break;
    }
    return count;
}

typedef struct {
    const char *resolved;
    int inside;
} fsp_probe;

static int fsp_match(void *ctx, const char *dir)
{
    fsp_probe *probe = ctx;

    probe->inside = fsp_inside(probe->resolved, dir);
    return probe->inside;
}

static int fsp_in_env(const char *list, const char *resolved)
{
    fsp_probe probe = { resolved, 0 };

    fsp_each_env(list, fsp_match, &probe);
    return probe.inside;
}

/* Caller holds fsp_mu. */
static int fsp_in_host(const char *resolved)
{
    size_t i;

    for (i = 0; i < fsp_nhost; i++)
        if (fsp_inside(resolved, fsp_host[i]))
            return 1;
    return 0;
}

int fsp_check(fsp_access access, const char *resolved, char *reason,
              size_t n)
{
    const char *env = fsp_env(access);
    char allowed[2048];
    int ok;

    if (!resolved || resolved[0] != '/') {
        snprintf(reason, n, "%s is not an absolute path",
                 resolved ? resolved : "(null)");
        return -1;
    }
    pthread_mutex_lock(&fsp_mu);
    ok = (!env || fsp_in_env(env, resolved)) &&
         (fsp_nhost == 0 || fsp_in_host(resolved));
    pthread_mutex_unlock(&fsp_mu);
    if (ok)
        return 0;
    fsp_describe(access, allowed, sizeof allowed);
    snprintf(reason, n, "%s is outside the folders %s:\n%s", resolved,
             access == FSP_READ ? "uploads are allowed from"
                                : "exports may be saved to", allowed);
    return -1;
}

typedef struct {
    char *out;
    size_t n, used;
    const char *source;
} fsp_text;

static int fsp_append(void *ctx, const char *dir)
{
    fsp_text *t = ctx;
    int w;

    if (t->used >= t->n)
        return 1;
    w = snprintf(t->out + t->used, t->n - t->used, "  - %s (%s)\n", dir,
                 t->source);
    if (w < 0 || (size_t)w >= t->n - t->used) {
        t->used = t->n;
        return 1;
    }
    t->used += (size_t)w;
    return 0;
}

void fsp_describe(fsp_access access, char *out, size_t n)
{
    const char *env = fsp_env(access);
    fsp_text t = { out, n, 0, fsp_env_names[access] };
    size_t i;

    if (n == 0)
        return;
    out[0] = '\0';
    if (env)
        fsp_each_env(env, fsp_append, &t);
    t.source = "a folder the host shared (MCP roots)";
    pthread_mutex_lock(&fsp_mu);
    for (i = 0; i < fsp_nhost; i++)
        if (fsp_append(&t, fsp_host[i]))
            break;
    pthread_mutex_unlock(&fsp_mu);
}

size_t fsp_each_root(fsp_access access, fsp_dir_fn fn, void *ctx)
{
    const char *env = fsp_env(access);
    char **copy = NULL;
    size_t i, count = 0, nhost;

    pthread_mutex_lock(&fsp_mu);
    nhost = fsp_nhost;
    if (nhost && (copy = calloc(nhost, sizeof *copy)))
        for (i = 0; i < nhost; i++)
            copy[i] = strdup(fsp_host[i]);
    pthread_mutex_unlock(&fsp_mu);
    if (nhost && !copy)
        return 0;
    /* Host roots bound the set when given (each still has to lie inside
     * an env root to count); else the env roots do. */
    for (i = 0; i < nhost; i++) {
        if (!copy[i] || (env && !fsp_in_env(env, copy[i])))
            continue;
        count++;
        if (fn && fn(ctx, copy[i]))
            break;
    }
    if (!nhost && env)
        count = fsp_each_env(env, fn, ctx);
    for (i = 0; i < nhost; i++)
        free(copy[i]);
    free(copy);
    return count;
}

static void fsp_free_list(char **list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

int fsp_set_host_roots(const char *const *dirs, size_t n)
{
    char **list = NULL, real[PATH_MAX];
    size_t i, kept = 0;

    if (n > FSP_MAX_HOST_ROOTS)
        n = FSP_MAX_HOST_ROOTS;
    if (n && !(list = calloc(n, sizeof *list)))
        return -1;
    for (i = 0; i < n; i++) {
        const char *d = dirs[i];

        if (!d || d[0] != '/')
            continue;
        /* A root that does not exist (yet) is kept as given: it admits
         * nothing until it does, but still bounds. */
        if (!(list[kept] = strdup(realpath(d, real) ? real : d))) {
            fsp_free_list(list, kept);
            return -1;
        }
        kept++;
    }
    /* Roots given but none usable: keep bounding (admit nothing) rather
     * than fall back to "no limit". Out of memory here keeps the old
     * roots, never none. */
    if (n && !kept) {
        if (!(list[0] = strdup("/nonexistent/nemo-no-roots"))) {
            free(list);
            return -1;
        }
        kept = 1;
    }
    pthread_mutex_lock(&fsp_mu);
    fsp_free_list(fsp_host, fsp_nhost);
    fsp_host = list;
    fsp_nhost = kept;
    pthread_mutex_unlock(&fsp_mu);
    return 0;
}

int fsp_have_host_roots(void)
{
    int have;

    pthread_mutex_lock(&fsp_mu);
    have = fsp_nhost > 0;
    pthread_mutex_unlock(&fsp_mu);
    return have;
}

void fsp_reset(void)
{
    pthread_mutex_lock(&fsp_mu);
    fsp_free_list(fsp_host, fsp_nhost);
    fsp_host = NULL;
    fsp_nhost = 0;
    pthread_mutex_unlock(&fsp_mu);
}

/* ---- download targets ---- */

/* path with "~/" expanded and made absolute, trailing slashes dropped;
 * *slash when there was one. */
static int fsp_absolute(const char *in, char *out, size_t n, int *slash)
{
    const char *home = getenv("HOME");
    char cwd[PATH_MAX];
    size_t len;
    int w;

    if ((strcmp(in, "~") == 0 || strncmp(in, "~/", 2) == 0) && home &&
        home[0])
        w = snprintf(out, n, "%s%s", home, in + 1);
    else if (in[0] == '/')
        w = snprintf(out, n, "%s", in);
    else if (getcwd(cwd, sizeof cwd))
        w = snprintf(out, n, "%s/%s", cwd, in);
    else
        return -1;
    if (w < 0 || (size_t)w >= n)
        return -1;
    len = strlen(out);
    *slash = len > 1 && out[len - 1] == '/';
    while (len > 1 && out[len - 1] == '/')
        out[--len] = '\0';
    return 0;
}

/* A video file name: "<something>.mp4", not hidden, no control bytes. */
static int fsp_video_name(const char *base, char *reason, size_t rn)
{
    size_t len = strlen(base), i;

    for (i = 0; i < len; i++)
        if ((unsigned char)base[i] < 0x20 || base[i] == 0x7f) {
            snprintf(reason, rn, "The file name has control characters; "
                     "choose another download_to.");
            return -1;
        }
    if (base[0] == '.') {
        snprintf(reason, rn, "%s is a hidden file name (it starts with "
                 "'.'); exports are saved as visible .mp4 files.", base);
        return -1;
    }
    if (len < 5 || strcasecmp(base + len - 4, ".mp4") != 0) {
        snprintf(reason, rn, "%s does not end in .mp4; exports are saved "
                 "only as .mp4 files (give a path such as "
                 "~/Videos/clip.mp4, or a folder).", base);
        return -1;
    }
    return 0;
}

/* A component of dir starting with '.' ("/home/u/.ssh"); NULL if none. */
static const char *fsp_dot_component(const char *dir)
{
    const char *p;

    for (p = dir; (p = strchr(p, '/')) != NULL; p++)
        if (p[1] == '.')
            return p + 1;
    return NULL;
}

/* Split abs into its real folder and its file name (name used for an
 * existing folder). */
static int fsp_split(const char *abs, int slash, const char *name,
                     char *dir, char *base, size_t bn, char *reason,
                     size_t rn)
{
    char parent[PATH_MAX];
    struct stat st;
    const char *cut;

    if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!name) {
            snprintf(reason, rn, "%s is a folder; give a file path inside "
                     "it, such as %s/video.mp4", abs, abs);
            return -1;
        }
        if (!realpath(abs, dir) ||
            (size_t)snprintf(base, bn, "%s.mp4", name) >= bn) {
            snprintf(reason, rn, "download_to is too long.");
            return -1;
        }
        return 0;
    }
    if (slash) {
        snprintf(reason, rn, "The folder %s does not exist.", abs);
        return -1;
    }
    cut = strrchr(abs, '/');
    snprintf(parent, sizeof parent, "%.*s", cut == abs ? 1 : (int)(cut - abs),
             abs);
    if ((size_t)snprintf(base, bn, "%s", cut + 1) >= bn) {
        snprintf(reason, rn, "The file name is too long.");
        return -1;
    }
    if (!realpath(parent, dir) || stat(dir, &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
        snprintf(reason, rn, "The folder %s does not exist; create it first "
                 "or choose another download_to.", parent);
        return -1;
    }
    return 0;
}

/* What is at target now: 0 nothing, 1 a regular file, -1 refused. */
static int fsp_existing(const char *target, int overwrite, char *reason,
                        size_t rn)
{
    struct stat st;

    if (lstat(target, &st) != 0)
        return 0;
    if (S_ISLNK(st.st_mode)) {
        snprintf(reason, rn, "%s is a symbolic link; it will not be "
                 "replaced. Choose another download_to.", target);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(reason, rn, "%s exists and is not a regular file; choose "
                 "another download_to.", target);
        return -1;
    }
    if (!overwrite) {
        snprintf(reason, rn, "%s already exists. Pass overwrite: true to "
                 "replace it, or choose another download_to.", target);
        return -1;
    }
    return 1;
}

int fsp_download_target(const char *path, const char *name, int overwrite,
                        char *out, size_t n, int *exists, char *reason,
                        size_t rn)
{
    char abs[PATH_MAX], dir[PATH_MAX], base[NAME_MAX + 1];
    const char *dot;
    int slash = 0, have;

    *exists = 0;
    if (!path || !path[0] ||
        fsp_absolute(path, abs, sizeof abs, &slash) != 0) {
        snprintf(reason, rn, "download_to is empty or too long.");
        return -1;
    }
    if (fsp_split(abs, slash, name, dir, base, sizeof base, reason, rn) != 0 ||
        fsp_video_name(base, reason, rn) != 0)
        return -1;
    if ((size_t)snprintf(out, n, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
                         base) >= n) {
        snprintf(reason, rn, "download_to is too long.");
        return -1;
    }
    /* Hidden folders hold configuration (~/.ssh, ~/.config/autostart):
     * only a root the user set explicitly may admit one. */
    dot = fsp_dot_component(dir);
    if (dot && fsp_each_root(FSP_WRITE, NULL, NULL) == 0) {
        snprintf(reason, rn, "%s is inside a hidden folder (%.*s); exports "
                 "are not saved there unless NEMO_DOWNLOAD_ROOTS (or the "
                 "host's roots) include it.", out,
                 (int)strcspn(dot, "/"), dot);
        return -1;
    }
    if (fsp_check(FSP_WRITE, out, reason, rn) != 0)
        return -1;
    if (access(dir, W_OK) != 0) {
        snprintf(reason, rn, "The folder %s is not writable.", dir);
        return -1;
    }
    if ((have = fsp_existing(out, overwrite, reason, rn)) < 0)
        return -1;
    *exists = have;
    return 0;
}
