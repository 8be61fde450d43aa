/* clock.h - millisecond clocks and environment-number helpers. */
#ifndef NEMO_CLOCK_H
#define NEMO_CLOCK_H

#include <stddef.h>

long long clock_mono_ms(void);   /* CLOCK_MONOTONIC */
long long clock_wall_ms(void);   /* CLOCK_REALTIME, ms since the epoch */
/* Timed waits on a condition variable: plat_cond_wait_ms (platform.h),
 * whose clock matches plat_cond_init's. */
/* ISO 8601 UTC with milliseconds, e.g. 2026-11-21T08:00:00.123Z; out >= 32 */
void clock_iso8601(long long wall_ms, char *out, size_t n);
/* Integer from the environment, def when unset, unparsable or out of
 * [min,max] (a warning is logged for the last two). */
long long clock_env_ms(const char *name, long long def, long long min,
                       long long max);

#endif
