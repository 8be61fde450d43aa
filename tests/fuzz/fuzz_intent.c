/* fuzz_intent.c - routing a prompt. */
#include "fuzz.h"
#include "nemo/intent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *prompt = fuzz_cstr(data, size);

    if (!intent_name(intent_classify(prompt)))
        abort();
    free(prompt);
    return 0;
}
