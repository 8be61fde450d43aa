/* buf.c - growable byte buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/buf.h"

void buf_init(nemo_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int buf_reserve(nemo_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > ((size_t)-1) / 2 - b->len - 1)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(nemo_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(nemo_buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(nemo_buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_vprintf(nemo_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(nemo_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_consume(nemo_buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void buf_reset(nemo_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *buf_detach(nemo_buf *b)
{
    char *p = b->data;

    if (!p)
        p = calloc(1, 1);
    buf_init(b);
    return p;
}

const char *buf_str(const nemo_buf *b)
{
    return b->data ? b->data : "";
}

void buf_free(nemo_buf *b)
{
    free(b->data);
    buf_init(b);
}

int buf_base64(nemo_buf *b, const void *data, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t i;
    char q[4];

    if (n == 0)
        return 0;   /* buf_reserve alone would leave data unterminated */
    if (buf_reserve(b, (n + 2) / 3 * 4) != 0)
        return -1;
    for (i = 0; i + 2 < n; i += 3) {
        q[0] = tab[p[i] >> 2];
        q[1] = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        q[3] = tab[p[i + 2] & 63];
        buf_append(b, q, 4);
    }
    if (i < n) {
        q[0] = tab[p[i] >> 2];
        q[1] = tab[((p[i] & 3) << 4) | (i + 1 < n ? p[i + 1] >> 4 : 0)];
        q[2] = i + 1 < n ? tab[(p[i + 1] & 15) << 2] : '=';
        q[3] = '=';
        buf_append(b, q, 4);
    }
    return 0;
}
