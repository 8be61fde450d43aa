/* fuzz_render.c - the render answers: start and status (the envelope's
 * data, parsed within the JSON limits). */
#include <math.h>

#include "fuzz.h"
#include "nemo/json.h"
#include "../../src/api/api_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *v = json_parse((const char *)data, size, NULL);
    api_render_status st;
    api_render_start_info info;
    nemo_err e;

    if (!v)
        return 0;
    err_clear(&e);
    if (render_status_parse(v, &st, &e) == 0 &&
        (isnan(st.progress) || st.progress > 100 ||
         (st.progress < 0 && st.progress != -1) ||
         memchr(st.status, '\0', sizeof st.status) == NULL ||
         memchr(st.url, '\0', sizeof st.url) == NULL ||
         st.bytes < -1))
        abort();                 /* progress 0..100 or -1, never NaN */
    err_clear(&e);
    render_start_parse(v, &info, &e);
    cJSON_Delete(v);
    return 0;
}
