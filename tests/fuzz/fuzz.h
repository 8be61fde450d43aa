/* fuzz.h - shared by the libFuzzer targets in this directory.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput; it is linked either
 * with libFuzzer (clang -fsanitize=fuzzer: `make fuzz`) or with replay.c
 * (any cc, ASan + UBSan: `make test` replays corpus/<target>/ once). */
#ifndef NEMO_FUZZ_H
#define NEMO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy for parsers that take C strings. Caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* An exact-size heap copy (no NUL after it): ASan sees any over-read. */
static inline char *fuzz_exact(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);

    if (s && size)
        memcpy(s, data, size);
    else if (s)
        s[0] = '\0';                /* never read: n is 0 */
    return s;
}

#endif
