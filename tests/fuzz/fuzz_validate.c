/* fuzz_validate.c - tool-argument validation: the input (parsed within the
 * JSON limits) checked against every tool's inputSchema. */
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
    cJSON_ArrayForEach(t, tools)
        schema_validate(cJSON_GetObjectItemCaseSensitive(t, "inputSchema"),
                        args, "arguments", err, sizeof err);
    cJSON_Delete(args);
    return 0;
}
