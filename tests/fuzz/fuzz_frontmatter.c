/* fuzz_frontmatter.c - SKILL.md frontmatter (a YAML subset). */
#include "fuzz.h"
#include "nemo/frontmatter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact(data, size), err[256];
    cJSON *fm = fm_parse(text, size, err, sizeof err);

    if (fm)
        fm_get_string(fm, "name");
    cJSON_Delete(fm);
    free(text);
    return 0;
}
