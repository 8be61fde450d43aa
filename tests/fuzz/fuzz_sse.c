/* fuzz_sse.c - the SSE parser, the stream cut into chunks of the sizes the
 * first byte picks (so every line split is tried). */
#include "fuzz.h"
#include "nemo/sse.h"

static int on_event(void *ctx, const sse_event *ev)
{
    size_t *seen = ctx;

    *seen += ev->data_len + strlen(ev->type) + strlen(ev->id);
    if (ev->data[ev->data_len] != '\0')
        abort();                     /* data must be NUL-terminated */
    return 0;
}

static int on_comment(void *ctx, const char *text, size_t n)
{
    size_t *seen = ctx;

    *seen += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t seen = 0, step, off = 0;
    sse_handlers h = { on_event, on_comment, &seen };
    sse_parser *p;

    if (size < 1)
        return 0;
    step = (size_t)data[0] % 17 + 1;
    data++;
    size--;
    p = sse_new(&h);
    if (!p)
        return 0;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        char *chunk = fuzz_exact(data + off, n);

        if (sse_feed(p, chunk, n) != 0) {
            free(chunk);
            break;
        }
        free(chunk);
        off += n;
    }
    sse_pending(p);
    sse_finish(p);
    sse_free(p);
    return 0;
}
