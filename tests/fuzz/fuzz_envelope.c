/* fuzz_envelope.c - the backend envelope and error parse: the first two
 * bytes pick the HTTP status, the rest is the body. */
#include "fuzz.h"
#include "../../src/api/api_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = { 200, 201, 204, 301, 400, 401, 402, 403,
                                    404, 413, 415, 429, 500, 502, 503, 0 };
    char snip[200];
    cJSON *d = NULL;
    nemo_err e;
    char *body;
    int status;

    if (size < 1)
        return 0;
    status = statuses[data[0] % (sizeof statuses / sizeof *statuses)];
    body = size > 1 ? fuzz_exact(data + 1, size - 1) : NULL;
    api_snippet(body, body ? size - 1 : 0, snip, sizeof snip);
    if (strlen(snip) >= sizeof snip)
        abort();
    err_clear(&e);
    api_envelope_parse(status, body, body ? size - 1 : 0, &d, &e);
    cJSON_Delete(d);
    free(body);
    return 0;
}
