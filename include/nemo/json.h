/* json.h - parse untrusted JSON (backend replies, ADK events, journal
 * records) within fixed limits.
 *
 * cJSON spends about 80 bytes of heap per value, so 30 MB of "[0,0,..."
 * becomes more than a gigabyte of nodes. Every parse of bytes that came
 * from outside goes through json_parse, which measures the text first (one
 * linear pass, no allocation) and refuses it before cJSON builds anything
 * when it is too large, has too many values or nests too deep. */
#ifndef NEMO_JSON_H
#define NEMO_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define JSON_MAX_BYTES (4u << 20)   /* text (the SSE line cap too) */
#define JSON_MAX_NODES 100000       /* values (~8 MB of cJSON nodes) */
#define JSON_MAX_DEPTH 64           /* nested arrays and objects */

typedef struct json_shape {
    size_t nodes;    /* an upper bound on the values cJSON would make */
    size_t depth;    /* deepest nesting of arrays and objects */
} json_shape;

/* Measure s[0..n) without parsing it: strings are skipped, brackets and
 * commas counted. Never reads past n; stops counting at the limits. */
void json_measure(const char *s, size_t n, json_shape *out);
/* Within the limits: NULL when it fits, else why not ("too large", ...). */
const char *json_over_limits(const char *s, size_t n);
/* cJSON_ParseWithLength after the limit check. NULL when the text is over
 * the limits (*why says which) or not JSON (*why "not valid JSON"). why
 * may be NULL. */
cJSON *json_parse(const char *s, size_t n, const char **why);

/* obj[key] when it is a string, else NULL (obj may be NULL). The one way
 * code here reads an optional string member. */
const char *json_str(const cJSON *obj, const char *key);

#endif
