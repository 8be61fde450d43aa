/* fuzz_validate.c - tool-argument validation: the input (parsed within the
 * JSON limits) checked against every tool's inputSchema, directly and
 * through schema_args (host additions and nulls dropped first), which is
 * how arguments reach a tool. */
#include "fuzz.h"
#include "nemo/json.h"
#include "nemo/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int loaded;
    const cJSON *tools, *t;
    cJSON *args;
    char err[512];

    if (!loaded)
        loaded = schema_load() == 0 ? 1 : -1;
    if (loaded < 0)
        abort();
    args = json_parse((const char *)data, size, NULL);
    if (!args)
        return 0;
    tools = schema_tools();
    cJSON_ArrayForEach(t, tools) {
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "inputSchema");
        cJSON *clean = schema_args(in, args, err, sizeof err);

        /* what schema_args lets through is valid */
        if (clean && schema_validate(in, clean, "arguments", err,
                                     sizeof err) != 0)
            abort();
        cJSON_Delete(clean);
        schema_validate(in, args, "arguments", err, sizeof err);
    }
    cJSON_Delete(args);
    return 0;
}
