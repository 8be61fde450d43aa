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
    pthread_mutex_lock(&fsp_mu);
    fsp_free_list(fsp_host, fsp_nhost);
    fsp_host = list;
    fsp_nhost = kept;
    /* Roots given but none usable: keep bounding (admit nothing) rather
     * than fall back to "no limit". */
    if (n && !kept) {
        fsp_host = calloc(1, sizeof *fsp_host);
        if (fsp_host && (fsp_host[0] = strdup("/nonexistent/nemo-no-roots")))
            fsp_nhost = 1;
        free(list);
    }
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
