/* buf.h - growable byte buffer, always NUL-terminated. */
#ifndef NEMO_BUF_H
#define NEMO_BUF_H

#include <stddef.h>
#include <stdarg.h>

typedef struct nemo_buf {
    char *data;   /* NULL until the first append; data[len] == '\0' after */
    size_t len;
    size_t cap;
} nemo_buf;

#define NEMO_BUF_INIT { NULL, 0, 0 }

void buf_init(nemo_buf *b);
int buf_reserve(nemo_buf *b, size_t extra);
int buf_append(nemo_buf *b, const void *p, size_t n);
int buf_puts(nemo_buf *b, const char *s);
int buf_putc(nemo_buf *b, char c);
int buf_printf(nemo_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(nemo_buf *b, const char *fmt, va_list ap);
/* Append data[0..n) as standard base64 (RFC 4648, padded). */
int buf_base64(nemo_buf *b, const void *data, size_t n);
/* Drop the first n bytes (used by stream parsers). */
void buf_consume(nemo_buf *b, size_t n);
void buf_reset(nemo_buf *b);          /* len = 0, keeps memory */
char *buf_detach(nemo_buf *b);        /* caller frees; never NULL unless OOM */
const char *buf_str(const nemo_buf *b); /* "" when empty */
void buf_free(nemo_buf *b);

#endif
