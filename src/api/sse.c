/* sse.c - incremental Server-Sent Events parser.
 *
 * Follows the WHATWG "interpreting an event stream" algorithm: a line ends
 * at LF, CRLF or CR; a CR that ends one feed and an LF that starts the next
 * are one line end, so the parser remembers a pending CR. Bytes of an
 * unfinished line are kept until its end arrives, so an event may be split
 * across feeds at any byte. */
#include <stdlib.h>
#include <string.h>

#include "nemo/buf.h"
#include "nemo/sse.h"

#define SSE_LINE_MAX (4u * 1024 * 1024)   /* one line, and one event's data */

struct sse_parser {
    sse_handlers h;
    nemo_buf line;       /* bytes of the current, unterminated line */
    nemo_buf data;       /* data buffer: each data line + "\n" */
    nemo_buf type;       /* event type buffer */
    nemo_buf id;         /* last event id (persists across events) */
    int in_event;        /* a field line arrived since the last dispatch */
    int skip_lf;         /* the previous byte was a CR */
    int first_line;      /* a BOM may still be stripped */
    int failed;          /* a line went over the cap: stays failed */
};

sse_parser *sse_new(const sse_handlers *h)
{
    sse_parser *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    if (h)
        p->h = *h;
    p->first_line = 1;
    return p;
}

void sse_free(sse_parser *p)
{
    if (!p)
        return;
    buf_free(&p->line);
    buf_free(&p->data);
    buf_free(&p->type);
    buf_free(&p->id);
    free(p);
}

static int sse_dispatch(sse_parser *p)
{
    sse_event ev;
    int rc = 0;

    p->in_event = 0;
    /* Spec: no data lines means no event, only the type is forgotten. */
    if (p->data.len == 0) {
        buf_reset(&p->type);
        return 0;
    }
    p->data.len--;                       /* the last "\n" is not data */
    p->data.data[p->data.len] = '\0';
    ev.type = p->type.len ? p->type.data : "message";
    ev.data = p->data.data;
    ev.data_len = p->data.len;
    ev.id = buf_str(&p->id);
    if (p->h.on_event)
        rc = p->h.on_event(p->h.ctx, &ev);
    buf_reset(&p->data);
    buf_reset(&p->type);
    return rc;
}

static int sse_field(sse_parser *p, const char *name, size_t nlen,
                     const char *val, size_t vlen)
{
#define FIELD_IS(s) (nlen == sizeof(s) - 1 && memcmp(name, s, nlen) == 0)
    int bad = 0;

    if (FIELD_IS("data")) {
        /* The cap also bounds an event made of many data lines. */
        bad = p->data.len + vlen + 1 > SSE_LINE_MAX ||
              buf_append(&p->data, val, vlen) || buf_putc(&p->data, '\n');
    } else if (FIELD_IS("event")) {
        buf_reset(&p->type);
        bad = buf_append(&p->type, val, vlen);
    } else if (FIELD_IS("id")) {
        if (!memchr(val, '\0', vlen)) {  /* spec: ids with NUL are ignored */
            buf_reset(&p->id);
            bad = buf_append(&p->id, val, vlen);
        }
    }
    /* "retry" and unknown fields are ignored. */
#undef FIELD_IS
    if (bad) {
        p->failed = 1;
        return -1;
    }
    return 0;
}

/* One complete line, without its line end. */
static int sse_line(sse_parser *p, const char *s, size_t n)
{
    const char *colon, *val;
    size_t vlen;

    if (p->first_line) {
        p->first_line = 0;
        if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
    }
    if (n == 0)
        return p->in_event || p->data.len ? sse_dispatch(p) : 0;
    if (s[0] == ':') {
        s++, n--;
        if (n && s[0] == ' ')
            s++, n--;
        return p->h.on_comment ? p->h.on_comment(p->h.ctx, s, n) : 0;
    }
    p->in_event = 1;
    colon = memchr(s, ':', n);
    if (!colon)
        return sse_field(p, s, n, "", 0);
    val = colon + 1;
    vlen = n - (size_t)(val - s);
    if (vlen && val[0] == ' ')
        val++, vlen--;
    return sse_field(p, s, (size_t)(colon - s), val, vlen);
}

int sse_feed(sse_parser *p, const char *bytes, size_t n)
{
    size_t i = 0;
    int rc;

    if (p->failed)
        return -1;
    while (i < n) {
        size_t j = i;

        if (p->skip_lf) {
            p->skip_lf = 0;
            if (bytes[i] == '\n') {
                i++;
                continue;
            }
        }
        while (j < n && bytes[j] != '\n' && bytes[j] != '\r')
            j++;
        if (p->line.len + (j - i) > SSE_LINE_MAX) {
            p->failed = 1;
            buf_free(&p->line);
            return -1;
        }
        if (j == n) {                    /* no line end yet: keep the bytes */
            if (buf_append(&p->line, bytes + i, j - i))
                goto oom;
            break;
        }
        p->skip_lf = bytes[j] == '\r';
        if (p->line.len == 0) {          /* whole line in this feed */
            rc = sse_line(p, bytes + i, j - i);
        } else {
            if (buf_append(&p->line, bytes + i, j - i))
                goto oom;
            rc = sse_line(p, p->line.data, p->line.len);
            buf_reset(&p->line);
        }
        i = j + 1;
        if (p->failed)
            return -1;
        if (rc)
            return rc;            /* the handler asked to stop */
    }
    return 0;
oom:
    p->failed = 1;
    return -1;
}

int sse_pending(const sse_parser *p)
{
    return p->line.len > 0 || p->in_event || p->data.len > 0;
}

void sse_finish(sse_parser *p)
{
    /* Spec: an event not closed by a blank line is discarded at EOF. */
    buf_reset(&p->line);
    buf_reset(&p->data);
    buf_reset(&p->type);
    p->in_event = 0;
    p->skip_lf = 0;
}
