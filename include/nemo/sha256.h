/* sha256.h - SHA-256 (FIPS 180-4), streaming, no dependency.
 *
 * Used to recognise a file this program wrote (export records the size and
 * hash of a download before renaming it into place, and a resumed export
 * claims a file at its destination only when both match). */
#ifndef NEMO_SHA256_H
#define NEMO_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t len;            /* bytes hashed */
    unsigned char block[64];
    size_t used;             /* bytes in block */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
/* 64 lower-case hex digits + NUL into hex (at least 65 bytes). */
void sha256_final_hex(sha256_ctx *c, char *hex);

/* Hash fd from offset 0 to its end: 0 with *bytes and hex, -1 on a read
 * error. At most max_bytes are read (-1 when the file is longer). */
int sha256_fd(int fd, long long max_bytes, long long *bytes, char *hex);

#endif
