/* fuzz_gui.c - GUI translation of a reply. */
#include "fuzz.h"
#include "nemo/gui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *reply = fuzz_cstr(data, size), *out = NULL;
    cJSON *actions = NULL;

    if (gui_translate(reply, &out, &actions) == 0 && (!out || !actions))
        abort();
    free(out);
    cJSON_Delete(actions);
    free(reply);
    return 0;
}
