/* test_schema.c - the argument validator (src/mcp/validate.c). */
#include <stdlib.h>

#include "nemo/schema.h"
#include "unit.h"

static const char *SCHEMA =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    " \"required\":[\"prompt\"],"
    " \"properties\":{"
    "  \"prompt\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8},"
    "  \"wait_seconds\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":900},"
    "  \"ratio\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
    "  \"format\":{\"type\":\"string\",\"enum\":[\"mp4\",\"webm\"]},"
    "  \"kind\":{\"const\":\"video\"},"
    "  \"url\":{\"type\":\"string\",\"format\":\"uri\"},"
    "  \"files\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":2,"
    "            \"items\":{\"type\":\"string\"}},"
    "  \"opts\":{\"type\":\"object\",\"required\":[\"a\"],"
    "           \"additionalProperties\":false,"
    "           \"properties\":{\"a\":{\"type\":\"boolean\"}}},"
    "  \"either\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"
    "  \"exactly\":{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]},"
    "  \"ref\":{\"$ref\":\"#/$defs/small\"},"
    "  \"many\":{\"type\":[\"string\",\"null\"]}"
    " },"
    " \"$defs\":{\"small\":{\"type\":\"integer\",\"maximum\":3}}}";

static cJSON *schema;

/* Validate a JSON text; returns rc and leaves the message in err. */
static int check(const char *json, char *err, size_t n)
{
    cJSON *v = cJSON_Parse(json);
    int rc;

    if (!v) {
        snprintf(err, n, "test bug: bad JSON %s", json);
        return 99;
    }
    rc = schema_validate(schema, v, "arguments", err, n);
    cJSON_Delete(v);
    return rc;
}

#define VALID(json)                                                          \
    do {                                                                     \
        char e_[512];                                                        \
        int r_ = check(json, e_, sizeof e_);                                 \
        if (r_ != 0)                                                         \
            printf("#   %s -> %s\n", json, e_);                            \
        CHECK_INT(r_, 0);                                                    \
    } while (0)

#define INVALID(json, msg)                                                   \
    do {                                                                     \
        char e_[512];                                                        \
        CHECK_INT(check(json, e_, sizeof e_), -1);                           \
        CHECK_STR(e_, msg);                                                  \
    } while (0)

TEST(valid_arguments)
{
    VALID("{\"prompt\":\"cut\"}");
    VALID("{\"prompt\":\"cut\",\"wait_seconds\":900,\"format\":\"webm\","
          "\"kind\":\"video\",\"url\":\"https://example.com/a.mp4\","
          "\"files\":[\"a\",\"b\"],\"opts\":{\"a\":true},\"either\":3,"
          "\"ref\":2,\"many\":null,\"ratio\":0.5}");
    /* 1.0 is an integer as far as JSON Schema is concerned. */
    VALID("{\"prompt\":\"x\",\"wait_seconds\":1.0}");
    /* Length counts characters, not bytes: 8 three-byte characters. */
    VALID("{\"prompt\":\"\xe5\x89\xaa\xe5\x89\xaa\xe5\x89\xaa\xe5\x89\xaa"
          "\xe5\x89\xaa\xe5\x89\xaa\xe5\x89\xaa\xe5\x89\xaa\"}");
}

TEST(type_errors_name_the_value)
{
    INVALID("{\"prompt\":7}",
            "arguments.prompt: must be a string, got integer 7");
    INVALID("{\"prompt\":\"a\",\"wait_seconds\":1.5}",
            "arguments.wait_seconds: must be an integer, got number 1.5");
    INVALID("{\"prompt\":\"a\",\"wait_seconds\":\"5\"}",
            "arguments.wait_seconds: must be an integer, got string \"5\"");
    INVALID("{\"prompt\":\"a\",\"many\":3}",
            "arguments.many: must be string or null, got integer 3");
    INVALID("[]", "arguments: must be an object, got array []");
}

TEST(required_and_unknown_properties)
{
    INVALID("{}", "arguments: missing required property \"prompt\"");
    INVALID("{\"prompt\":\"a\",\"promt\":\"b\"}",
            "arguments: unknown property \"promt\" (allowed: prompt, "
            "wait_seconds, ratio, format, kind, url, files, opts, either, "
            "exactly, ref, many)");
    INVALID("{\"prompt\":\"a\",\"opts\":{}}",
            "arguments.opts: missing required property \"a\"");
    INVALID("{\"prompt\":\"a\",\"opts\":{\"a\":true,\"b\":1}}",
            "arguments.opts: unknown property \"b\" (allowed: a)");
    INVALID("{\"prompt\":\"a\",\"opts\":{\"a\":1}}",
            "arguments.opts.a: must be a boolean, got integer 1");
}

TEST(bounds)
{
    INVALID("{\"prompt\":\"a\",\"wait_seconds\":901}",
            "arguments.wait_seconds: must be <= 900");
    INVALID("{\"prompt\":\"a\",\"wait_seconds\":-1}",
            "arguments.wait_seconds: must be >= 0");
    INVALID("{\"prompt\":\"a\",\"ratio\":0}", "arguments.ratio: must be > 0");
    INVALID("{\"prompt\":\"\"}", "arguments.prompt: must not be empty");
    INVALID("{\"prompt\":\"123456789\"}",
            "arguments.prompt: must be at most 8 characters long (got 9)");
    INVALID("{\"prompt\":\"a\",\"files\":[]}",
            "arguments.files: must have at least 1 item");
    INVALID("{\"prompt\":\"a\",\"files\":[\"a\",\"b\",\"c\"]}",
            "arguments.files: must have at most 2 items (got 3)");
    INVALID("{\"prompt\":\"a\",\"files\":[\"a\",2]}",
            "arguments.files[1]: must be a string, got integer 2");
    INVALID("{\"prompt\":\"a\",\"ref\":4}", "arguments.ref: must be <= 3");
}

TEST(enum_const_format)
{
    INVALID("{\"prompt\":\"a\",\"format\":\"avi\"}",
            "arguments.format: must be one of \"mp4\", \"webm\" "
            "(got \"avi\")");
    INVALID("{\"prompt\":\"a\",\"kind\":\"audio\"}",
            "arguments.kind: must be \"video\"");
    INVALID("{\"prompt\":\"a\",\"url\":\"file:///etc/passwd\"}",
            "arguments.url: must be an absolute http:// or https:// URL");
    INVALID("{\"prompt\":\"a\",\"url\":\"https://\"}",
            "arguments.url: must be an absolute http:// or https:// URL");
    INVALID("{\"prompt\":\"a\",\"url\":\"http://a b\"}",
            "arguments.url: must be an absolute http:// or https:// URL");
}

TEST(combinators)
{
    INVALID("{\"prompt\":\"a\",\"either\":true}",
            "arguments.either: matches none of the 2 allowed forms (first: "
            "arguments.either: must be a string, got boolean true)");
    /* 2 is both a number and an integer: oneOf wants exactly one. */
    INVALID("{\"prompt\":\"a\",\"exactly\":2}",
            "arguments.exactly: matches 2 of the allowed forms; it must "
            "match exactly one");
    VALID("{\"prompt\":\"a\",\"exactly\":2.5}");
}

TEST(boolean_schemas_and_unresolved_refs)
{
    cJSON *t = cJSON_CreateTrue(), *f = cJSON_CreateFalse();
    cJSON *v = cJSON_CreateNumber(1);
    cJSON *bad = cJSON_Parse("{\"$ref\":\"#/$defs/missing\"}");
    char err[200];

    CHECK_INT(schema_validate(t, v, "x", err, sizeof err), 0);
    CHECK_INT(schema_validate(f, v, "x", err, sizeof err), -1);
    CHECK_STR(err, "x: is not allowed");
    CHECK_INT(schema_validate(bad, v, "x", err, sizeof err), -1);
    CHECK_STR(err, "x: schema reference #/$defs/missing cannot be resolved");
    /* A NULL message buffer is allowed. */
    CHECK_INT(schema_validate(f, v, "x", NULL, 0), -1);
    cJSON_Delete(t);
    cJSON_Delete(f);
    cJSON_Delete(v);
    cJSON_Delete(bad);
}

TEST(deep_nesting_is_bounded)
{
    /* A self-referencing schema must not recurse forever. */
    cJSON *s = cJSON_Parse("{\"$defs\":{\"n\":{\"type\":\"array\","
                           "\"items\":{\"$ref\":\"#/$defs/n\"}}},"
                           "\"$ref\":\"#/$defs/n\"}");
    cJSON *v = cJSON_CreateArray(), *at = v;
    char err[300];
    int i;

    for (i = 0; i < 100; i++) {
        cJSON *inner = cJSON_CreateArray();
        cJSON_AddItemToArray(at, inner);
        at = inner;
    }
    CHECK_INT(schema_validate(s, v, "v", err, sizeof err), -1);
    CHECK_CONTAINS(err, "nested too deeply");
    cJSON_Delete(s);
    cJSON_Delete(v);
}

/* schema_args: the arguments a tool gets. */
static char *args_of(const char *json, char *err, size_t n)
{
    cJSON *in = json ? cJSON_Parse(json) : NULL;
    cJSON *out = schema_args(schema, in, err, n);
    char *s = out ? cJSON_PrintUnformatted(out) : NULL;

    cJSON_Delete(in);
    cJSON_Delete(out);
    return s;
}

#define ARGS(json, want)                                                     \
    do {                                                                     \
        char e_[512];                                                        \
        char *got_ = args_of(json, e_, sizeof e_);                           \
        if (!got_)                                                           \
            printf("#   %s -> %s\n", json, e_);                            \
        CHECK_STR(got_ ? got_ : "(refused)", want);                          \
        free(got_);                                                          \
    } while (0)

#define ARGS_REFUSED(json, msg)                                              \
    do {                                                                     \
        char e_[512];                                                        \
        char *got_ = args_of(json, e_, sizeof e_);                           \
        CHECK(got_ == NULL);                                                 \
        CHECK_STR(e_, msg);                                                  \
        free(got_);                                                          \
    } while (0)

TEST(args_null_means_not_given)
{
    ARGS("{\"prompt\":\"a\",\"wait_seconds\":null,\"files\":null}",
         "{\"prompt\":\"a\"}");
    /* Only at the top level: inside a value null is checked as usual. */
    ARGS_REFUSED("{\"prompt\":\"a\",\"opts\":{\"a\":null}}",
                 "arguments.opts.a: must be a boolean, got null");
    /* A required argument may not be null. */
    ARGS_REFUSED("{\"prompt\":null}",
                 "arguments.prompt: must be a string, got null");
    /* No arguments at all, or JSON null, is {}. */
    ARGS_REFUSED(NULL, "arguments: missing required property \"prompt\"");
    ARGS_REFUSED("null", "arguments: missing required property \"prompt\"");
    ARGS_REFUSED("[1]", "arguments: must be an object");
}

TEST(args_host_additions_are_ignored)
{
    /* Gemini CLI adds wait_for_previous to every call. */
    ARGS("{\"prompt\":\"a\",\"wait_for_previous\":true}",
         "{\"prompt\":\"a\"}");
    ARGS("{\"wait_for_previous\":false,\"prompt\":\"a\"}",
         "{\"prompt\":\"a\"}");
    /* A misspelt argument still names the allowed ones, and the ignored
     * host argument is not among them. */
    ARGS_REFUSED("{\"prompt\":\"a\",\"wait_for_previous\":true,"
                 "\"wait_second\":3}",
                 "arguments: unknown property \"wait_second\" (allowed: "
                 "prompt, wait_seconds, ratio, format, kind, url, files, "
                 "opts, either, exactly, ref, many)");
    /* Other values are still validated after the clean-up. */
    ARGS_REFUSED("{\"prompt\":\"a\",\"wait_for_previous\":true,"
                 "\"wait_seconds\":901}",
                 "arguments.wait_seconds: must be <= 900");
}

TEST(args_declared_property_wins)
{
    cJSON *s = cJSON_Parse("{\"type\":\"object\",\"additionalProperties\":"
                           "false,\"properties\":{\"wait_for_previous\":"
                           "{\"type\":\"integer\"}}}");
    cJSON *v = cJSON_Parse("{\"wait_for_previous\":\"x\"}");
    cJSON *ok = cJSON_Parse("{\"wait_for_previous\":2}"), *out;
    char err[200];

    CHECK(schema_args(s, v, err, sizeof err) == NULL);
    CHECK_STR(err, "arguments.wait_for_previous: must be an integer, got "
                   "string \"x\"");
    out = schema_args(s, ok, err, sizeof err);
    CHECK(out && cJSON_GetObjectItemCaseSensitive(out, "wait_for_previous"));
    cJSON_Delete(out);
    cJSON_Delete(s);
    cJSON_Delete(v);
    cJSON_Delete(ok);
}

int main(void)
{
    schema = cJSON_Parse(SCHEMA);
    if (!schema) {
        printf("not ok schema_parse\n");
        return 1;
    }
    RUN(valid_arguments);
    RUN(type_errors_name_the_value);
    RUN(required_and_unknown_properties);
    RUN(bounds);
    RUN(enum_const_format);
    RUN(combinators);
    RUN(boolean_schemas_and_unresolved_refs);
    RUN(deep_nesting_is_bounded);
    RUN(args_null_means_not_given);
    RUN(args_host_additions_are_ignored);
    RUN(args_declared_property_wins);
    cJSON_Delete(schema);
    return unit_done();
}
