/* fuzz_adk.c - ADK events: each line of the input is one event's data;
 * the reply (capped, deduplicated) is taken at the end. */
#include "fuzz.h"
#include "nemo/adk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    adk_state s;
    size_t off = 0;
    char *reply;

    setenv("NEMO_HEARTBEAT_MS", "1", 0);
    adk_init(&s, NULL);
    while (off <= size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
        char *ev = fuzz_exact(data + off, n);

        adk_event(&s, ev, n);
        free(ev);
        off += n + 1;
    }
    reply = adk_take_reply(&s);
    if (reply && strlen(reply) > ADK_REPLY_MAX + 200)
        abort();                     /* the cap must hold */
    free(reply);
    adk_free(&s);
    return 0;
}
