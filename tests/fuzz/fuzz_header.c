/* fuzz_header.c - response header lines as libcurl hands them over (no
 * NUL); a 0x01 byte on its own line stands for "body bytes arrived". */
#include "fuzz.h"
#include "nemo/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_header_state st;
    http_response r;
    size_t off = 0;

    http_response_init(&r);
    http_header_init(&st);
    while (off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
        char *line;

        if (n == 2 && data[off] == 0x01) {
            st.body_started = 1;
        } else {
            line = fuzz_exact(data + off, n);
            http_header_parse(&st, line, n, &r);
            free(line);
        }
        if (r.status < 0 || r.status > 999 ||
            strlen(r.content_type) >= sizeof r.content_type ||
            strlen(r.retry_after) >= sizeof r.retry_after)
            abort();
        off += n;
    }
    http_response_free(&r);
    return 0;
}
