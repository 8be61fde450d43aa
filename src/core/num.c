/* num.c - range-checked number conversion; see num.h. */
#include <math.h>

#include "nemo/num.h"

/* The largest doubles that convert to long long without overflow: 2^63 is
 * exactly representable and already out of range, so compare with < on
 * the upper side. */
#define NUM_LL_LIMIT 9223372036854775808.0

int num_ll_of(double d, long long lo, long long hi, long long *out)
{
    long long x;

    if (!isfinite(d) || d >= NUM_LL_LIMIT || d < -NUM_LL_LIMIT)
        return -1;
    x = (long long)d;
    if (x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int num_ll(const cJSON *v, long long lo, long long hi, long long *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    return num_ll_of(v->valuedouble, lo, hi, out);
}

long long num_ll_or(const cJSON *v, long long lo, long long hi,
                    long long def)
{
    long long x;

    return num_ll(v, lo, hi, &x) == 0 ? x : def;
}
