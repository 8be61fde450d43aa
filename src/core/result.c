/* result.c - tool/job results. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/log.h"
#include "nemo/result.h"

void result_init(nemo_result *r)
{
    r->structured = NULL;
    r->text = NULL;
    r->is_error = 0;
}

void result_free(nemo_result *r)
{
    cJSON_Delete(r->structured);
    free(r->text);
    result_init(r);
}

int result_copy(nemo_result *dst, const nemo_result *src)
{
    result_init(dst);
    dst->is_error = src->is_error;
    if (src->text && !(dst->text = strdup(src->text)))
        goto fail;
    if (src->structured &&
        !(dst->structured = cJSON_Duplicate(src->structured, 1)))
        goto fail;
    return 0;
fail:
    result_free(dst);
    return -1;
}

void result_error(nemo_result *r, cJSON *structured, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    log_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    result_free(r);
    r->is_error = 1;
    r->text = strdup(msg);
    r->structured = structured;
}

void result_redact(nemo_result *r)
{
    if (r->text && log_contains_secret(r->text)) {
        char *t = log_redact_dup(r->text);

        free(r->text);
        r->text = t ? t : strdup("[redacted]");
    }
    log_redact_json(r->structured);
}

cJSON *result_to_json(const nemo_result *r)
{
    cJSON *j = cJSON_CreateObject();

    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "text", r->text ? r->text : "");
    cJSON_AddBoolToObject(j, "isError", r->is_error);
    if (r->structured)
        cJSON_AddItemToObject(j, "structured",
                              cJSON_Duplicate(r->structured, 1));
    return j;
}

int result_from_json(nemo_result *r, const cJSON *j)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "structured");

    result_init(r);
    if (!cJSON_IsObject(j) || !cJSON_IsString(text))
        return -1;
    r->text = strdup(text->valuestring);
    r->is_error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "isError"));
    if (st)
        r->structured = cJSON_Duplicate(st, 1);
    return r->text ? 0 : -1;
}
