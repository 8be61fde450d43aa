/* num.h - numbers from untrusted JSON, converted without undefined
 * behaviour.
 *
 * cJSON keeps every number as a double. Casting a double that is NaN,
 * infinite or outside the target range to an integer type is undefined
 * behaviour in C (UBSan aborts on it; release builds get garbage), so
 * every number read from the backend, the journal or the host goes
 * through here. */
#ifndef NEMO_NUM_H
#define NEMO_NUM_H

#include <cjson/cJSON.h>

/* 0 with *out = the value truncated toward zero when v is a finite number
 * in [lo, hi]; -1 (and *out untouched) otherwise, including when v is not
 * a number at all. */
int num_ll(const cJSON *v, long long lo, long long hi, long long *out);
/* The same for a plain double. */
int num_ll_of(double d, long long lo, long long hi, long long *out);
/* v as a long long in [lo, hi], or def when it is absent or unfit. */
long long num_ll_or(const cJSON *v, long long lo, long long hi,
                    long long def);

#endif
