/* fuzz_timeline.c - a draft (any JSON) as a timeline: summary, JSON view,
 * digest and its read-back, and the diff against itself and an empty one. */
#include "fuzz.h"
#include "nemo/json.h"
#include "nemo/timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *draft = json_parse((const char *)data, size, NULL), *j, *dg, *df;
    timeline t, back, empty;
    char *s;

    if (!draft)
        return 0;
    memset(&empty, 0, sizeof empty);
    if (timeline_from_draft(draft, &t) == 0) {
        s = timeline_summary(&t);
        free(s);
        j = timeline_to_json(&t);
        cJSON_Delete(j);
        dg = timeline_digest(&t);
        if (dg && timeline_from_digest(dg, &back) == 0) {
            df = timeline_diff(&t, &back);
            if (cJSON_GetArraySize(df) != 0)
                abort();             /* a digest diffs like its draft */
            cJSON_Delete(df);
            timeline_free(&back);
        }
        cJSON_Delete(dg);
        df = timeline_diff(&empty, &t);
        cJSON_Delete(df);
        timeline_free(&t);
    }
    /* the input itself as a (hostile) digest */
    if (timeline_from_digest(draft, &back) == 0)
        timeline_free(&back);
    cJSON_Delete(draft);
    return 0;
}
