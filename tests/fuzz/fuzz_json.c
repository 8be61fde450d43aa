/* fuzz_json.c - the JSON limits: a text that passes them parses into at
 * most JSON_MAX_NODES values nested at most JSON_MAX_DEPTH deep. */
#include "fuzz.h"
#include "nemo/json.h"

static size_t count(const cJSON *v, size_t depth, size_t *max_depth)
{
    size_t n = 1;
    const cJSON *c;

    if (depth > *max_depth)
        *max_depth = depth;
    for (c = v->child; c; c = c->next)
        n += count(c, depth + (cJSON_IsArray(v) || cJSON_IsObject(v)),
                   max_depth);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact(data, size);
    cJSON *v = json_parse(text, size, NULL);
    size_t depth = 0;

    if (v && count(v, 0, &depth) > JSON_MAX_NODES)
        abort();
    if (v && depth > JSON_MAX_DEPTH)
        abort();
    cJSON_Delete(v);
    free(text);
    return 0;
}
