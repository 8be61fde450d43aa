/* sse.h - incremental Server-Sent Events parser (WHATWG "event stream
 * interpretation"): LF, CRLF or CR line ends, multi-line data joined with
 * "\n", comments reported separately, any byte split across feeds. */
#ifndef NEMO_SSE_H
#define NEMO_SSE_H

#include <stddef.h>

typedef struct sse_event {
    const char *type;   /* "message" when no event: field */
    const char *data;   /* joined data lines, NUL-terminated */
    size_t data_len;
    const char *id;     /* last event id, "" when none */
} sse_event;

typedef struct sse_handlers {
    /* return non-zero to stop parsing (sse_feed then returns that value) */
    int (*on_event)(void *ctx, const sse_event *ev);
    int (*on_comment)(void *ctx, const char *text, size_t n); /* ": ..." */
    void *ctx;
} sse_handlers;

typedef struct sse_parser sse_parser;

sse_parser *sse_new(const sse_handlers *h);
/* Feed bytes; 0 or the handler's non-zero stop value (the rest of that feed
 * is dropped); -1 when a single line or one event's data exceeds the cap
 * (4 MiB), after which every feed returns -1. */
int sse_feed(sse_parser *p, const char *bytes, size_t n);
/* Non-zero when an unterminated line or an undispatched event is buffered
 * (the stream stopped mid-event). */
int sse_pending(const sse_parser *p);
/* End of stream: a pending unterminated event is discarded, per spec. */
void sse_finish(sse_parser *p);
void sse_free(sse_parser *p);

#endif
