/* fuzz_answers.c - the other backend answers read in the tools: upload
 * (per file), the state's canvas, and the agent's questions. */
#include "fuzz.h"
#include "nemo/adk.h"
#include "nemo/api.h"
#include "nemo/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *v = json_parse((const char *)data, size, NULL);
    api_upload_answer ua;
    api_canvas cv;
    adk_questions q;
    nemo_err e;

    if (!v)
        return 0;
    memset(&ua, 0, sizeof ua);
    err_clear(&e);
    if (upload_answer_parse(v, &ua, &e) == 0)
        upload_answer_free(&ua);
    state_canvas_parse(v, &cv);
    memset(&q, 0, sizeof q);
    if (adk_questions_parse(v, &q) == 0 &&
        (q.n < 1 || q.n > ADK_MAX_QUESTIONS))
        abort();
    adk_questions_free(&q);
    cJSON_Delete(v);
    return 0;
}
