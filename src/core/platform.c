/* platform.c - every Linux-only call of the program, with its POSIX or
 * macOS replacement, chosen here at compile time.
 *
 *   PLAT_LINUX   getrandom, CLOCK_MONOTONIC condition variables,
 *                /proc/self/exe, renameat2(RENAME_NOREPLACE)
 *   PLAT_MACOS   getentropy, pthread_cond_timedwait_relative_np,
 *                _NSGetExecutablePath, renamex_np(RENAME_EXCL)
 *   otherwise    getentropy, wall-clock waits in slices of at most 1 s,
 *                argv[0] and PATH only, link() + unlink()
 *
 * NEMO_FORCE_PORTABLE selects the last set on any system, so that Linux
 * CI runs the suite through it (`make portable`). */
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE 1      /* renamex_np, _NSGetExecutablePath */
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nemo/platform.h"

#if defined(NEMO_FORCE_PORTABLE)
#define PLAT_POSIX 1
#elif defined(__linux__)
#define PLAT_LINUX 1
#include <fcntl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)       /* <linux/fs.h>; glibc hides it */
#endif
#elif defined(__APPLE__)
#define PLAT_MACOS 1
#include <mach-o/dyld.h>
#include <stdint.h>
#else
#define PLAT_POSIX 1
#endif

#if defined(PLAT_POSIX) || defined(PLAT_MACOS)
#include <sys/random.h>         /* getentropy on macOS; unistd.h on glibc */
#endif

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

const char *plat_name(void)
{
#if defined(PLAT_LINUX)
    return "linux";
#elif defined(PLAT_MACOS)
    return "macos";
#else
    return "posix";
#endif
}

/* ---- randomness ------------------------------------------------------ */

int plat_random(void *buf, size_t n)
{
    unsigned char *p = buf;

    while (n > 0) {
#if defined(PLAT_LINUX)
        ssize_t r = getrandom(p, n, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
#else
        /* getentropy gives at most 256 bytes a call. */
        size_t r = n < 256 ? n : 256;

        if (getentropy(p, r) != 0)
            return -1;
#endif
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* ---- timed waits ----------------------------------------------------- */

static void plat_add_ms(struct timespec *ts, long long ms)
{
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int plat_cond_init(pthread_cond_t *cv)
{
#if defined(PLAT_LINUX)
    pthread_condattr_t ca;
    int rc;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
#else
    return pthread_cond_init(cv, NULL);
#endif
}

/* Without a monotonic condvar the deadline is on the wall clock; slices of
 * at most 1 s bound what a clock step can do to one wait (the caller's
 * loop re-checks its own monotonic deadline after each). */
#define PLAT_SLICE_MS 1000

/* Longer waits come back after a day (as if woken): no timespec overflow
 * whatever a caller computes. */
#define PLAT_MAX_WAIT_MS (24LL * 3600 * 1000)

int plat_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long long ms)
{
    struct timespec ts;
    int rc;

    if (ms < 0)
        ms = 0;
    if (ms > PLAT_MAX_WAIT_MS) {
        (void)plat_cond_wait_ms(cv, mu, PLAT_MAX_WAIT_MS);
        return 0;
    }
#if defined(PLAT_LINUX)
    clock_gettime(CLOCK_MONOTONIC, &ts);
    plat_add_ms(&ts, ms);
    rc = pthread_cond_timedwait(cv, mu, &ts);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
#elif defined(PLAT_MACOS)
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    rc = pthread_cond_timedwait_relative_np(cv, mu, &ts);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
#else
    {
        long long slice = ms < PLAT_SLICE_MS ? ms : PLAT_SLICE_MS;

        clock_gettime(CLOCK_REALTIME, &ts);
        plat_add_ms(&ts, slice);
        rc = pthread_cond_timedwait(cv, mu, &ts);
        if (rc == ETIMEDOUT && slice == ms)
            return ETIMEDOUT;
        return 0;       /* woken, or a slice of a longer wait ended */
    }
#endif
}

/* ---- the running executable ----------------------------------------- */

static int plat_put_real(const char *path, char *out, size_t cap)
{
    char *real = realpath(path, NULL);
    int n;

    if (!real)
        return -1;
    n = snprintf(out, cap, "%s", real);
    free(real);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* argv0 names a path ("./x", "/usr/bin/x"), or a command found on PATH. */
static int plat_exe_from_argv0(const char *argv0, char *out, size_t cap)
{
    const char *path = getenv("PATH");

    if (!argv0 || !*argv0)
        return -1;
    if (strchr(argv0, '/'))
        return plat_put_real(argv0, out, cap);
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        char cand[PATH_MAX];

        if (n > 0 && n < sizeof cand - 2 &&
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, argv0) <
                (int)sizeof cand &&
            access(cand, X_OK) == 0 && plat_put_real(cand, out, cap) == 0)
            return 0;
        path = end ? end + 1 : NULL;
    }
    return -1;
}

/* The system's own answer, where it has one. */
static int plat_exe_native(char *out, size_t cap)
{
#if defined(PLAT_LINUX)
    return plat_put_real("/proc/self/exe", out, cap);
#elif defined(PLAT_MACOS)
    char buf[PATH_MAX];
    uint32_t size = sizeof buf;

    if (_NSGetExecutablePath(buf, &size) != 0)
        return -1;
    return plat_put_real(buf, out, cap);
#else
    (void)out;
    (void)cap;
    return -1;
#endif
}

/* argv[0] first: it is what the user (or a test) ran, and it resolves a
 * symlinked install to the real file like the system's answer does. */
int plat_exe_path(const char *argv0, char *out, size_t cap)
{
    if (!out || cap == 0)
        return -1;
    if (plat_exe_from_argv0(argv0, out, cap) == 0)
        return 0;
    return plat_exe_native(out, cap);
}

/* ---- exclusive rename ------------------------------------------------ */

/* link() then unlink(): atomic "create if absent" on every POSIX file
 * system that has hard links. */
static int plat_link_rename(const char *from, const char *to)
{
    if (link(from, to) == 0) {
        unlink(from);
        return 0;
    }
    if (errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK ||
        errno == ENOSYS)
        errno = ENOTSUP;
    return -1;
}

int plat_rename_excl(const char *from, const char *to)
{
#if defined(PLAT_LINUX) && defined(SYS_renameat2)
    if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to,
                RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL && errno != ENOTSUP &&
        errno != EOPNOTSUPP)
        return -1;
#elif defined(PLAT_MACOS)
    if (renamex_np(from, to, RENAME_EXCL) == 0)
        return 0;
    if (errno != ENOTSUP && errno != EINVAL)
        return -1;
#endif
    return plat_link_rename(from, to);
}
