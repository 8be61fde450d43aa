/* json.c - JSON parsing within limits; see json.h. */
#include <string.h>

#include "nemo/json.h"

void json_measure(const char *s, size_t n, json_shape *out)
{
    size_t i, depth = 0;
    int in_str = 0, opened = 0;

    /* values = the root + the members of every non-empty container, and
     * a container's members are its commas + 1 */
    out->nodes = 1;
    out->depth = 0;
    for (i = 0; s && i < n; i++) {
        char c = s[i];

        if (in_str) {
            if (c == '\\')
                i++;                 /* skip the escaped byte */
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (opened && c != ']' && c != '}')
            out->nodes++;            /* its first member */
        opened = 0;
        switch (c) {
        case '"':
            in_str = 1;
            break;
        case '[':
        case '{':
            opened = 1;
            if (++depth > out->depth)
                out->depth = depth;
            break;
        case ']':
        case '}':
            if (depth)
                depth--;
            break;
        case ',':
            out->nodes++;
            break;
        default:
            break;
        }
        if (out->nodes > JSON_MAX_NODES || out->depth > JSON_MAX_DEPTH)
            return;                  /* already over: no need to go on */
    }
}

const char *json_over_limits(const char *s, size_t n)
{
    json_shape sh;

    if (n > JSON_MAX_BYTES)
        return "too large";
    json_measure(s, n, &sh);
    if (sh.nodes > JSON_MAX_NODES)
        return "too many values";
    if (sh.depth > JSON_MAX_DEPTH)
        return "nested too deeply";
    return NULL;
}

cJSON *json_parse(const char *s, size_t n, const char **why)
{
    const char *over = s ? json_over_limits(s, n) : "empty";
    cJSON *v = NULL;

    if (!over) {
        v = cJSON_ParseWithLength(s, n);
        if (!v)
            over = "not valid JSON";
    }
    if (why)
        *why = over;
    return v;
}

const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = obj && key ? cJSON_GetObjectItemCaseSensitive(obj, key)
                                : NULL;

    return cJSON_IsString(v) ? v->valuestring : NULL;
}
