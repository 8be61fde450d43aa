/* test_json.c - parsing untrusted JSON within limits (issue 11 #5: a
 * 31 MB draft of [0,0,...] cost 1.25 GB of cJSON nodes). */
#include <stdlib.h>
#include <string.h>

#include "nemo/json.h"
#include "unit.h"

static char *zeros(size_t values, size_t *len)
{
    char *s = malloc(values * 2 + 2);
    size_t i, o = 0;

    s[o++] = '[';
    for (i = 0; i < values; i++) {
        s[o++] = '0';
        s[o++] = i + 1 < values ? ',' : ']';
    }
    s[o] = '\0';
    *len = o;
    return s;
}

TEST(ordinary_json_parses)
{
    const char *doc = "{\"a\":[1,2,{\"b\":\"x,y[{\\\"\"}],\"c\":null}";
    const char *why = "unset";
    cJSON *v = json_parse(doc, strlen(doc), &why);

    CHECK(cJSON_IsObject(v));
    CHECK(why == NULL);
    cJSON_Delete(v);
    v = json_parse("[1,", 3, &why);
    CHECK(v == NULL);
    CHECK_STR(why, "not valid JSON");
    CHECK(json_parse(NULL, 0, &why) == NULL);
}

TEST(node_amplification_is_refused_before_parsing)
{
    size_t len;
    char *s = zeros(JSON_MAX_NODES + 10, &len);
    const char *why = NULL;
    json_shape sh;

    CHECK(json_parse(s, len, &why) == NULL);
    CHECK_STR(why, "too many values");
    free(s);
    s = zeros(JSON_MAX_NODES / 2, &len);   /* under the cap: fine */
    json_measure(s, len, &sh);
    CHECK_INT(sh.nodes, JSON_MAX_NODES / 2 + 1);   /* exact for valid JSON */
    CHECK_INT(sh.depth, 1);
    cJSON *v = json_parse(s, len, &why);
    CHECK(cJSON_GetArraySize(v) == (int)(JSON_MAX_NODES / 2));
    cJSON_Delete(v);
    free(s);
}

TEST(depth_and_size_limits)
{
    char deep[2 * (JSON_MAX_DEPTH + 1) + 1];
    size_t i, n = JSON_MAX_DEPTH + 1;
    const char *why = NULL;
    char *big;

    for (i = 0; i < n; i++) {
        deep[i] = '[';
        deep[n + i] = ']';
    }
    deep[2 * n] = '\0';
    CHECK(json_parse(deep, 2 * n, &why) == NULL);
    CHECK_STR(why, "nested too deeply");
    /* exactly at the limit is fine */
    CHECK(json_over_limits(deep + 1, 2 * n - 2) == NULL);
    big = malloc(JSON_MAX_BYTES + 3);
    big[0] = '"';
    memset(big + 1, 'a', JSON_MAX_BYTES);
    big[JSON_MAX_BYTES + 1] = '"';
    big[JSON_MAX_BYTES + 2] = '\0';
    CHECK(json_parse(big, JSON_MAX_BYTES + 2, &why) == NULL);
    CHECK_STR(why, "too large");
    free(big);
}

TEST(brackets_inside_strings_do_not_count)
{
    const char *s = "[\"[[[[,,,,{{{{\\\"]]]]\",1]";
    json_shape sh;

    json_measure(s, strlen(s), &sh);
    CHECK_INT(sh.depth, 1);
    CHECK_INT(sh.nodes, 3);
    json_measure("{\"a\": [ ], \"b\": {\"c\": [1, 2]}}", 31, &sh);
    CHECK_INT(sh.nodes, 6);
    /* a measure never reads past n, even inside an open string */
    json_measure("\"abc\\", 5, &sh);
    CHECK_INT(sh.depth, 0);
}

int main(void)
{
    RUN(ordinary_json_parses);
    RUN(node_amplification_is_refused_before_parsing);
    RUN(depth_and_size_limits);
    RUN(brackets_inside_strings_do_not_count);
    return unit_done();
}
