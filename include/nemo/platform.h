/* platform.h - the few calls that differ between Linux, macOS and other
 * POSIX systems, chosen at compile time in src/core/platform.c and nowhere
 * else. Building with -DNEMO_FORCE_PORTABLE takes the non-Linux path on
 * Linux too (`make portable`), so the suite exercises it here. */
#ifndef NEMO_PLATFORM_H
#define NEMO_PLATFORM_H

#include <pthread.h>
#include <stddef.h>

/* The libcurl that curl_dyn.c loads when the build does not name one. */
#if defined(__APPLE__)
#define PLAT_CURL_SONAME "libcurl.4.dylib"
#else
#define PLAT_CURL_SONAME "libcurl.so.4"
#endif

/* Which paths this binary was built with, for `doctor`: "linux",
 * "macos" or "posix" (the portable fallbacks). */
const char *plat_name(void);

/* n bytes from the kernel's CSPRNG; 0, or -1 with errno. */
int plat_random(void *buf, size_t n);

/* Condition variables whose timed waits do not jump with the wall clock
 * where the system allows it. Every cv waited on with plat_cond_wait_ms
 * must be initialised here. */
int plat_cond_init(pthread_cond_t *cv);
/* Wait at most ms (mu held). Returns 0 when woken (or spuriously), or
 * ETIMEDOUT. Callers loop and re-check their monotonic deadline. */
int plat_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long long ms);

/* Absolute path of the running executable into out: the system's own
 * answer where there is one, else argv0 (a path, or a name searched on
 * PATH). 0, or -1 when it cannot be found. */
int plat_exe_path(const char *argv0, char *out, size_t cap);

/* rename(from, to) that never replaces an existing `to`: -1 with errno
 * EEXIST when it exists; ENOTSUP when the file system offers no atomic
 * way (the caller may then fall back to reserving the name itself). */
int plat_rename_excl(const char *from, const char *to);

#endif
