/* upload_answer.c - what the backend says about the files it took: a pure
 * parser (cJSON in, typed list out) that the upload tool reports from.
 *
 * Tolerant: the documented fields (filename, file_type, cdn_url, duration
 * in seconds, width, height) are read first, the older spellings (name,
 * type, url) after; a number that is not finite or out of range is left
 * out rather than converted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "nemo/num.h"

/* The list a response may keep its per-file entries in. */
static const char *const upload_list_keys[] = {
    "files", "items", "results", "uploads", "media", "list", "data",
};

const cJSON *upload_answer_item(const cJSON *data, int idx)
{
    size_t i;

    if (cJSON_IsArray(data))
        return cJSON_GetArrayItem(data, idx);
    if (!cJSON_IsObject(data))
        return NULL;
    for (i = 0; i < sizeof upload_list_keys / sizeof upload_list_keys[0];
         i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(
            data, upload_list_keys[i]);

        if (cJSON_IsArray(l))
            return cJSON_GetArrayItem(l, idx);
        if (cJSON_IsObject(l) && idx == 0)
            return l;
    }
    return idx == 0 ? data : NULL;
}

/* The first of keys that is a non-empty string, copied when it fits. */
static void upload_str(const cJSON *o, const char *const *keys, char *out,
                       size_t n)
{
    out[0] = '\0';
    for (; *keys; keys++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, *keys);

        if (cJSON_IsString(v) && v->valuestring[0]) {
            if (strlen(v->valuestring) < n)
                snprintf(out, n, "%s", v->valuestring);
            return;
        }
    }
}

static void upload_item_parse(const cJSON *o, api_upload_item *it)
{
    static const char *const name_keys[] = { "filename", "name",
                                             "file_name", NULL };
    static const char *const type_keys[] = { "file_type", "type",
                                             "media_type", NULL };
    static const char *const url_keys[] = { "cdn_url", "url", "cdnUrl",
                                            NULL };
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "duration");
    long long ms;

    upload_str(o, name_keys, it->name, sizeof it->name);
    upload_str(o, type_keys, it->type, sizeof it->type);
    upload_str(o, url_keys, it->url, sizeof it->url);
    /* Seconds, fractions allowed; at most a week. */
    it->duration_ms = cJSON_IsNumber(d) &&
                      num_ll_of(d->valuedouble * 1000, 0,
                                7LL * 24 * 3600 * 1000, &ms) == 0 ? ms : -1;
    it->width = num_ll_or(cJSON_GetObjectItemCaseSensitive(o, "width"), 1,
                          1000000, -1);
    it->height = num_ll_or(cJSON_GetObjectItemCaseSensitive(o, "height"), 1,
                           1000000, -1);
}

int upload_answer_parse(const cJSON *data, api_upload_answer *out,
                        nemo_err *err)
{
    const cJSON *applied, *o;
    size_t n = 0;

    memset(out, 0, sizeof *out);
    out->state_applied = -1;
    if (!data || cJSON_IsNull(data))
        return 0;               /* a 2xx with no body: nothing to report */
    if (!cJSON_IsObject(data) && !cJSON_IsArray(data)) {
        err_set(err, NEMO_E_PROTOCOL, "the upload answer was not a JSON "
                                      "object");
        return -1;
    }
    applied = cJSON_GetObjectItemCaseSensitive(data,
                                               "session_state_applied");
    if (cJSON_IsBool(applied))
        out->state_applied = cJSON_IsTrue(applied);
    while (n < API_UPLOAD_FILES_MAX &&
           upload_answer_item(data, (int)n) != NULL)
        n++;
    if (n == 0)
        return 0;
    out->items = calloc(n, sizeof *out->items);
    if (!out->items) {
        err_set(err, NEMO_E_IO, "out of memory");
        return -1;
    }
    for (out->n = 0; out->n < n; out->n++) {
        o = upload_answer_item(data, (int)out->n);
        upload_item_parse(cJSON_IsObject(o) ? o : NULL, &out->items[out->n]);
    }
    return 0;
}

void upload_answer_free(api_upload_answer *a)
{
    if (!a)
        return;
    free(a->items);
    memset(a, 0, sizeof *a);
}
