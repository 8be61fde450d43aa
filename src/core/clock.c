/* clock.c - clocks and numeric environment knobs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nemo/clock.h"
#include "nemo/log.h"

static long long ts_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_mono_ms(void)
{
    return ts_ms(CLOCK_MONOTONIC);
}

long long clock_wall_ms(void)
{
    return ts_ms(CLOCK_REALTIME);
}

void clock_iso8601(long long wall_ms, char *out, size_t n)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

long long clock_env_ms(const char *name, long long def, long long min,
                       long long max)
{
    const char *s = getenv(name);
    char *end;
    long long v;

    if (!s || !*s)
        return def;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        LOG_WARN("config", "%s=%s is not a number in [%lld, %lld]; using %lld",
                 name, s, min, max, def);
        return def;
    }
    return v;
}
