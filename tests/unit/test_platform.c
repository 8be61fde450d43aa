/* test_platform.c - src/core/platform.c, built twice by `make test`: with
 * the Linux calls (build/) and with the POSIX/macOS fallbacks forced on
 * (build-portable/, -DNEMO_FORCE_PORTABLE), so both paths run here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/clock.h"
#include "nemo/platform.h"
#include "unit.h"

static char tmpdir[] = "/tmp/nemo-plat-XXXXXX";

static const char *in_tmp(const char *name)
{
    static char path[4][PATH_MAX];
    static int slot;
    char *p = path[slot++ % 4];

    snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *read_file(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

TEST(name_matches_the_build)
{
#ifdef NEMO_FORCE_PORTABLE
    CHECK_STR(plat_name(), "posix");
#elif defined(__linux__)
    CHECK_STR(plat_name(), "linux");
#endif
}

TEST(random_bytes)
{
    unsigned char a[600], b[600];   /* more than getentropy's 256 a call */
    size_t i, same = 0, zero = 0;

    CHECK_INT(plat_random(a, sizeof a), 0);
    CHECK_INT(plat_random(b, sizeof b), 0);
    for (i = 0; i < sizeof a; i++) {
        same += a[i] == b[i];
        zero += a[i] == 0;
    }
    CHECK(same < 20);   /* ~2.3 expected */
    CHECK(zero < 20);
    CHECK_INT(plat_random(a, 0), 0);
}

struct waker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int flag;
};

static void *wake_later(void *arg)
{
    struct waker *w = arg;

    pthread_mutex_lock(&w->mu);
    w->flag = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

TEST(timed_wait_times_out_after_the_full_wait)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv;
    long long t0, until, now;
    int rc = 0;

    CHECK_INT(plat_cond_init(&cv), 0);
    pthread_mutex_lock(&mu);
    t0 = clock_mono_ms();
    until = t0 + 60;
    /* the callers' loop: re-check the monotonic deadline after each */
    while ((now = clock_mono_ms()) < until)
        rc = plat_cond_wait_ms(&cv, &mu, until - now);
    pthread_mutex_unlock(&mu);
    CHECK(clock_mono_ms() - t0 >= 60);
    CHECK(clock_mono_ms() - t0 < 5000);
    CHECK_INT(rc, ETIMEDOUT);
    /* a zero or negative wait returns at once */
    pthread_mutex_lock(&mu);
    t0 = clock_mono_ms();
    CHECK_INT(plat_cond_wait_ms(&cv, &mu, 0), ETIMEDOUT);
    CHECK_INT(plat_cond_wait_ms(&cv, &mu, -5), ETIMEDOUT);
    pthread_mutex_unlock(&mu);
    CHECK(clock_mono_ms() - t0 < 1000);
    /* longer than the portable build's 1 s slice: it comes back early
     * (0, not ETIMEDOUT) and the caller's loop waits out the rest */
    pthread_mutex_lock(&mu);
    t0 = clock_mono_ms();
    until = t0 + 1100;
    {
        int calls = 0, early = 0;

        while ((now = clock_mono_ms()) < until) {
            rc = plat_cond_wait_ms(&cv, &mu, until - now);
            calls++;
            early += rc == 0;
        }
#ifdef NEMO_FORCE_PORTABLE
        CHECK(early >= 1);
        CHECK(calls >= 2);
#else
        CHECK(calls >= 1);
#endif
    }
    pthread_mutex_unlock(&mu);
    CHECK(clock_mono_ms() - t0 >= 1100);
    pthread_cond_destroy(&cv);
}

TEST(timed_wait_wakes_on_signal)
{
    struct waker w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                       0 };
    pthread_t th;
    long long t0 = clock_mono_ms();

    CHECK_INT(plat_cond_init(&w.cv), 0);
    pthread_mutex_lock(&w.mu);
    CHECK_INT(pthread_create(&th, NULL, wake_later, &w), 0);
    while (!w.flag && clock_mono_ms() - t0 < 30000)
        plat_cond_wait_ms(&w.cv, &w.mu, 30000);
    pthread_mutex_unlock(&w.mu);
    pthread_join(th, NULL);
    CHECK_INT(w.flag, 1);
    CHECK(clock_mono_ms() - t0 < 10000);   /* woken, not timed out */
    pthread_cond_destroy(&w.cv);
}

TEST(exclusive_rename)
{
    write_file(in_tmp("a"), "new");
    CHECK_INT(plat_rename_excl(in_tmp("a"), in_tmp("b")), 0);
    CHECK(access(in_tmp("a"), F_OK) != 0);
    CHECK_STR(read_file(in_tmp("b")), "new");
    /* an existing destination is never replaced; the source stays */
    write_file(in_tmp("c"), "other");
    errno = 0;
    CHECK_INT(plat_rename_excl(in_tmp("c"), in_tmp("b")), -1);
    CHECK_INT(errno, EEXIST);
    CHECK_STR(read_file(in_tmp("b")), "new");
    CHECK_STR(read_file(in_tmp("c")), "other");
    /* a missing source is an error, not a success */
    CHECK_INT(plat_rename_excl(in_tmp("nope"), in_tmp("d")), -1);
    CHECK_INT(errno, ENOENT);
}

TEST(exe_path)
{
    char out[PATH_MAX], real[PATH_MAX];
    const char *old_path = getenv("PATH");
    char *saved = old_path ? strdup(old_path) : NULL;

    mkdir(in_tmp("bin"), 0755);
    write_file(in_tmp("bin/tool"), "#!/bin/sh\n");
    chmod(in_tmp("bin/tool"), 0755);
    CHECK(realpath(in_tmp("bin/tool"), real) != NULL);
    /* a path in argv[0] */
    CHECK_INT(plat_exe_path(in_tmp("bin/../bin/tool"), out, sizeof out), 0);
    CHECK_STR(out, real);
    /* a bare name, found on PATH */
    setenv("PATH", in_tmp("bin"), 1);
    CHECK_INT(plat_exe_path("tool", out, sizeof out), 0);
    CHECK_STR(out, real);
    /* a buffer too small is an error, not a truncated path */
    CHECK_INT(plat_exe_path(in_tmp("bin/tool"), out, 4), -1);
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
    /* no usable argv[0]: the system's answer where there is one */
#ifdef NEMO_FORCE_PORTABLE
    CHECK_INT(plat_exe_path(NULL, out, sizeof out), -1);
    CHECK_INT(plat_exe_path("no-such-command-here", out, sizeof out), -1);
#else
    CHECK_INT(plat_exe_path(NULL, out, sizeof out), 0);
    CHECK(strstr(out, "test_platform") != NULL);
#endif
    CHECK_INT(plat_exe_path(NULL, NULL, 0), -1);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(name_matches_the_build);
    RUN(random_bytes);
    RUN(timed_wait_times_out_after_the_full_wait);
    RUN(timed_wait_wakes_on_signal);
    RUN(exclusive_rename);
    RUN(exe_path);
    {
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return unit_done();
}
