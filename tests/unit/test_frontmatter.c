/* test_frontmatter.c - the SKILL.md YAML subset: scalars of every style,
 * block scalars with chomping and indentation, comments, flow collections,
 * nesting, hostile input (CRLF, BOM, tabs, binary, 10 MB, deep nesting)
 * and a mutation fuzz loop that must never crash or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nemo/frontmatter.h"
#include "unit.h"

static char fm_err[256];

static cJSON *parse(const char *s)
{
    return fm_parse(s, strlen(s), fm_err, sizeof fm_err);
}

/* Parse "---\n<body>---\n" and return the string value of key. */
static char *value_of(const char *body, const char *key)
{
    size_t n = strlen(body) + 16;
    char *doc = malloc(n);
    cJSON *fm;
    const cJSON *v;
    char *out = NULL;

    snprintf(doc, n, "---\n%s---\n", body);
    fm = parse(doc);
    free(doc);
    if (!fm) {
        printf("#   parse failed: %s\n", fm_err);
        return NULL;
    }
    v = cJSON_GetObjectItemCaseSensitive(fm, key);
    if (cJSON_IsString(v))
        out = strdup(v->valuestring);
    else if (v)
        out = cJSON_PrintUnformatted(v);
    cJSON_Delete(fm);
    return out;
}

#define CHECK_VALUE(body, key, expected)                                     \
    do {                                                                     \
        char *got_ = value_of(body, key);                                    \
        CHECK_STR(got_, expected);                                           \
        free(got_);                                                          \
    } while (0)

/* Parsing must fail, with an error that names the expected line. */
#define CHECK_ERROR_LINE(doc, line_prefix)                                   \
    do {                                                                     \
        cJSON *fm_ = parse(doc);                                             \
        CHECK(fm_ == NULL);                                                  \
        cJSON_Delete(fm_);                                                   \
        CHECK(strncmp(fm_err, line_prefix, strlen(line_prefix)) == 0);       \
        if (strncmp(fm_err, line_prefix, strlen(line_prefix)) != 0)          \
            printf("#   error was: %s\n", fm_err);                           \
    } while (0)

static const char *ecosystem_doc =
    "---\n"
    "name: home-organization-video\n"
    "version: \"1.0.1\"\n"
    "displayName: \"Home Organization Video Maker\"\n"
    "description: >\n"
    "  Describe your project and NemoVideo creates the video.\n"
    "\n"
    "  Works by connecting to the NemoVideo AI backend.\n"
    "metadata: {\"openclaw\": {\"emoji\": \"\xF0\x9F\x8E\xAC\", \"requires\": "
    "{\"env\": [\"NEMO_TOKEN\"], \"configPaths\": [\"~/.config/nemovideo/\"]}, "
    "\"primaryEnv\": \"NEMO_TOKEN\"}}\n"
    "apiDomain: https://mega-api-prod.nemovideo.ai\n"
    "license: MIT-0\n"
    "---\n"
    "\n# Body\n\nSome markdown with key: value lines and --- rules.\n";

TEST(ecosystem_frontmatter)
{
    cJSON *fm = parse(ecosystem_doc);
    const cJSON *oc, *req;

    CHECK(fm != NULL);
    if (!fm) {
        printf("#   %s\n", fm_err);
        return;
    }
    CHECK_STR(fm_get_string(fm, "name"), "home-organization-video");
    CHECK_STR(fm_get_string(fm, "version"), "1.0.1");
    CHECK_STR(fm_get_string(fm, "displayName"),
              "Home Organization Video Maker");
    CHECK_STR(fm_get_string(fm, "description"),
              "Describe your project and NemoVideo creates the video.\n"
              "Works by connecting to the NemoVideo AI backend.\n");
    CHECK_STR(fm_get_string(fm, "apiDomain"),
              "https://mega-api-prod.nemovideo.ai");
    CHECK_STR(fm_get_string(fm, "license"), "MIT-0");
    oc = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(fm, "metadata"), "openclaw");
    CHECK(cJSON_IsObject(oc));
    CHECK_STR(fm_get_string(oc, "emoji"), "\xF0\x9F\x8E\xAC");
    CHECK_STR(fm_get_string(oc, "primaryEnv"), "NEMO_TOKEN");
    req = cJSON_GetObjectItemCaseSensitive(oc, "requires");
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(req, "env"), 0)
                  ->valuestring, "NEMO_TOKEN");
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(req, "configPaths"), 0)
                  ->valuestring, "~/.config/nemovideo/");
    CHECK(fm_get_string(fm, "metadata") == NULL); /* not a string */
    CHECK(fm_get_string(fm, "missing") == NULL);
    CHECK(fm_get_string(NULL, "name") == NULL);
    CHECK_INT(cJSON_GetArraySize(fm), 7);
    cJSON_Delete(fm);
}

TEST(plain_scalars_and_comments)
{
    CHECK_VALUE("name: foo # a comment\n", "name", "foo");
    CHECK_VALUE("name: foo\t# tab comment\n", "name", "foo");
    CHECK_VALUE("lang: C# rocks\n", "lang", "C# rocks");
    CHECK_VALUE("url: https://a.example/x#frag\n", "url",
                "https://a.example/x#frag");
    CHECK_VALUE("t: 10:30 sharp\n", "t", "10:30 sharp");
    CHECK_VALUE("version: 1.0\n", "version", "1.0"); /* stays a string */
    CHECK_VALUE("flag: true\n", "flag", "true");
    CHECK_VALUE("# leading comment\nname: x\n# trailing\n", "name", "x");
    CHECK_VALUE("name:   spaced out   \n", "name", "spaced out");
    CHECK_VALUE("key:\tvalue\n", "key", "value");
    CHECK_VALUE("d: a plain\n  scalar that\n\n  continues\n", "d",
                "a plain scalar that\ncontinues");
    CHECK_VALUE("emoji: \xF0\x9F\x8E\xAC \xE4\xB8\xAD\xE6\x96\x87\n",
                "emoji", "\xF0\x9F\x8E\xAC \xE4\xB8\xAD\xE6\x96\x87");
    CHECK_VALUE("\"quoted key\": v\n", "quoted key", "v");
    CHECK_VALUE("'single key' : v\n", "single key", "v");
}

TEST(empty_values_and_duplicates)
{
    CHECK_VALUE("a:\nb: 1\n", "a", "null");
    CHECK_VALUE("a: # only a comment\nb: 1\n", "a", "null");
    CHECK_VALUE("a: \"\"\n", "a", "");
    CHECK_VALUE("a: ''\n", "a", "");
    CHECK_VALUE("name: first\nname: second\n", "name", "second");
    CHECK_VALUE("m:\n  k: 1\n  k: 2\n", "m", "{\"k\":\"2\"}");
    CHECK_VALUE("last:\n", "last", "null");
}

TEST(single_quoted)
{
    CHECK_VALUE("a: 'it''s # not a comment'\n", "a", "it's # not a comment");
    CHECK_VALUE("a: 'back\\slash \\n stays'\n", "a", "back\\slash \\n stays");
    CHECK_VALUE("a: 'one\n  two\n\n  three'\n", "a", "one two\nthree");
    CHECK_VALUE("a: ''''\n", "a", "'");
}

TEST(double_quoted_escapes)
{
    CHECK_VALUE("a: \"q\\\" b\\\\ n\\n t\\t\"\n", "a", "q\" b\\ n\n t\t");
    CHECK_VALUE("a: \"\\u00e9\\u4e2d\"\n", "a", "\xC3\xA9\xE4\xB8\xAD");
    CHECK_VALUE("a: \"\\ud83c\\udfac\"\n", "a", "\xF0\x9F\x8E\xAC");
    CHECK_VALUE("a: \"\\U0001F3AC\"\n", "a", "\xF0\x9F\x8E\xAC");
    CHECK_VALUE("a: \"\\x41\\/\\ \"\n", "a", "A/ ");
    CHECK_VALUE("a: \"# not a comment\" # but this is\n", "a",
                "# not a comment");
    CHECK_VALUE("a: \"folded\n  over lines\\\n  joined\"\n", "a",
                "folded over linesjoined");
    CHECK_VALUE("a: \"keep \\t\n  x\"\n", "a", "keep \t x");
}

TEST(literal_block_scalars)
{
    CHECK_VALUE("a: |\n  line one\n  line two\n\n\nb: x\n", "a",
                "line one\nline two\n");
    CHECK_VALUE("a: |-\n  line one\n  line two\n\nb: x\n", "a",
                "line one\nline two");
    CHECK_VALUE("a: |+\n  line one\n  line two\n\n\nb: x\n", "a",
                "line one\nline two\n\n\n");
    CHECK_VALUE("a: |\n    indented\n      more\n    back\n", "a",
                "indented\n  more\nback\n");
    CHECK_VALUE("a: |2\n    two extra\n  base\n", "a", "  two extra\nbase\n");
    CHECK_VALUE("a: |2-\n    x\n", "a", "  x");
    CHECK_VALUE("a: |-2\n    x\n", "a", "  x");
    CHECK_VALUE("a: | # header comment\n  text\n", "a", "text\n");
    CHECK_VALUE("a: |\n\n  after a blank\n", "a", "\nafter a blank\n");
    CHECK_VALUE("a: |\n  # not a comment\n  ---\n  still text\n", "a",
                "# not a comment\n---\nstill text\n");
    CHECK_VALUE("a: |\nb: x\n", "a", "");
    CHECK_VALUE("a: |\n  tab\tinside\n", "a", "tab\tinside\n");
    CHECK_VALUE("a: |\n  x\n# comment ends it\nb: y\n", "b", "y");
}

TEST(folded_block_scalars)
{
    CHECK_VALUE("a: >\n  one\n  two\n\n  three\n", "a", "one two\nthree\n");
    CHECK_VALUE("a: >-\n  one\n  two\n", "a", "one two");
    CHECK_VALUE("a: >+\n  one\n\n", "a", "one\n\n");
    CHECK_VALUE("a: >\n  one\n\n\n  two\n", "a", "one\n\ntwo\n");
    /* YAML 1.2 spec example 8.10: more-indented lines keep their breaks */
    CHECK_VALUE("a: >\n\n folded\n line\n\n next\n line\n   * bullet\n\n"
                "   * list\n   * lines\n\n last\n line\n\n# Comment\n",
                "a",
                "\nfolded line\nnext line\n  * bullet\n\n  * list\n"
                "  * lines\n\nlast line\n");
}

TEST(folded_in_sequence)
{
    cJSON *fm = parse("---\nitems:\n  - >\n    in a\n    sequence\n"
                      "  - |-\n    lit\n---\n");

    CHECK(fm != NULL);
    if (fm) {
        cJSON *items = cJSON_GetObjectItem(fm, "items");

        CHECK_STR(cJSON_GetArrayItem(items, 0)->valuestring,
                  "in a sequence\n");
        CHECK_STR(cJSON_GetArrayItem(items, 1)->valuestring, "lit");
    }
    cJSON_Delete(fm);
}

TEST(flow_collections)
{
    CHECK_VALUE("m: {a: 1, b: [x, y], c: true, d: null, e: \"q\", f: 1.5, "
                "g: ~, h: hello world, i: -3, j: 0x1F, k: 1e3, l: v1.2}\n",
                "m",
                "{\"a\":1,\"b\":[\"x\",\"y\"],\"c\":true,\"d\":null,"
                "\"e\":\"q\",\"f\":1.5,\"g\":null,\"h\":\"hello world\","
                "\"i\":-3,\"j\":31,\"k\":1000,\"l\":\"v1.2\"}");
    CHECK_VALUE("m: {\"a\":{\"b\":[1,2,{\"c\":\"d\"}]},\"e\":[]}\n", "m",
                "{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]},\"e\":[]}");
    CHECK_VALUE("s: [a, 'b c', \"d\", ]\n", "s", "[\"a\",\"b c\",\"d\"]");
    CHECK_VALUE("s: []\n", "s", "[]");
    CHECK_VALUE("m: {}\n", "m", "{}");
    CHECK_VALUE("m: {url: https://x.example/a?b=c, k}\n", "m",
                "{\"url\":\"https://x.example/a?b=c\",\"k\":null}");
    CHECK_VALUE("m: {\n  \"a\": 1,   # comment\n  b: [\n    x,\n    y\n"
                "  ]\n}\nnext: 1\n", "m", "{\"a\":1,\"b\":[\"x\",\"y\"]}");
    CHECK_VALUE("m: {a: 1, a: 2}\n", "m", "{\"a\":2}");
    CHECK_VALUE("m: {a: multi\n  line}\n", "m", "{\"a\":\"multi line\"}");
    CHECK_VALUE("m: [1, 2] # trailing comment\n", "m", "[1,2]");
}

TEST(block_collections)
{
    CHECK_VALUE("m:\n  a: 1\n  b:\n    c: deep\n  d: |\n    lit\n", "m",
                "{\"a\":\"1\",\"b\":{\"c\":\"deep\"},\"d\":\"lit\\n\"}");
    CHECK_VALUE("s:\n  - one\n  - two # c\n  -\n  - 'four'\n", "s",
                "[\"one\",\"two\",null,\"four\"]");
    CHECK_VALUE("s:\n- one\n- two\nnext: x\n", "s", "[\"one\",\"two\"]");
    CHECK_VALUE("s:\n- one\n- two\nnext: x\n", "next", "x");
    CHECK_VALUE("s:\n  - name: a\n    v: 1\n  - name: b\n", "s",
                "[{\"name\":\"a\",\"v\":\"1\"},{\"name\":\"b\"}]");
    CHECK_VALUE("s:\n  - - x\n    - y\n  - z\n", "s",
                "[[\"x\",\"y\"],\"z\"]");
    CHECK_VALUE("s:\n  - [a, b]\n  - {k: v}\n", "s",
                "[[\"a\",\"b\"],{\"k\":\"v\"}]");
    CHECK_VALUE("m:\n  \"quoted\": yes\n  'single': no\n", "m",
                "{\"quoted\":\"yes\",\"single\":\"no\"}");
    CHECK_VALUE("m:\n  \"x\"\n", "m", "x");
    CHECK_VALUE("m:\n  [1, 2]\n", "m", "[1,2]");
    CHECK_VALUE("s:\n  - a\n    continued\n", "s", "[\"a continued\"]");
    CHECK_VALUE("  indented: root\n  works: too\n", "works", "too");
}

TEST(line_endings_bom_tabs)
{
    cJSON *fm = parse("\xEF\xBB\xBF---\r\nname: crlf\r\nd: |\r\n  a\r\n  b\r\n"
                      "---\r\nbody\r\n");

    CHECK(fm != NULL);
    CHECK_STR(fm_get_string(fm, "name"), "crlf");
    CHECK_STR(fm_get_string(fm, "d"), "a\nb\n");
    cJSON_Delete(fm);
    fm = parse("---\rname: cr\r---\r");
    CHECK(fm != NULL);
    CHECK_STR(fm_get_string(fm, "name"), "cr");
    cJSON_Delete(fm);
    fm = parse("---   \nname: trailing spaces on the delimiters\n---\t\n");
    CHECK(fm != NULL);
    cJSON_Delete(fm);
    CHECK_ERROR_LINE("---\nname: x\n\tversion: 1\n---\n", "line 3:");
    CHECK_ERROR_LINE("---\nm:\n \tk: v\n---\n", "line 3:");
    CHECK_ERROR_LINE("---\r\na: 1\r\nb: [\r\n---\r\n", "line 3:");
}

TEST(delimiters)
{
    cJSON *fm;

    CHECK_ERROR_LINE("name: x\n", "line 1: no frontmatter");
    CHECK_ERROR_LINE("", "line 1: no frontmatter");
    CHECK_ERROR_LINE("\n---\nname: x\n---\n", "line 1: no frontmatter");
    CHECK_ERROR_LINE("----\nname: x\n---\n", "line 1: no frontmatter");
    CHECK_ERROR_LINE("---\nname: x\n", "line 1: unterminated frontmatter");
    CHECK_ERROR_LINE("---", "line 1: unterminated frontmatter");
    CHECK_ERROR_LINE("---\nname: x\n  ---\n", "line 1: unterminated");
    /* A column-0 "---" ends the frontmatter even inside a block scalar;
     * an indented one is content. */
    fm = parse("---\nd: |\n  text\n  ---\n---\nafter: body\n---\n");
    CHECK(fm != NULL);
    CHECK_STR(fm_get_string(fm, "d"), "text\n---\n");
    CHECK(cJSON_GetObjectItem(fm, "after") == NULL);
    cJSON_Delete(fm);
    fm = parse("---\n---\n");
    CHECK(cJSON_IsObject(fm) && cJSON_GetArraySize(fm) == 0);
    cJSON_Delete(fm);
    fm = parse("---\n# only comments\n\n---\n");
    CHECK(cJSON_IsObject(fm) && cJSON_GetArraySize(fm) == 0);
    cJSON_Delete(fm);
    CHECK(fm_parse(NULL, 0, fm_err, sizeof fm_err) == NULL);
    fm = fm_parse("---\nname: x\n---\n", 16, NULL, 0); /* no err buffer */
    CHECK_STR(fm_get_string(fm, "name"), "x");
    cJSON_Delete(fm);
}

TEST(malformed_input_errors)
{
    CHECK_ERROR_LINE("---\na: 1\nb: \"unterminated\nc: 2\n---\n", "line 3:");
    CHECK_ERROR_LINE("---\na: 'open\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: 1\nb: {x: 1\n---\n", "line 3:");
    CHECK_ERROR_LINE("---\na: [1, 2\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: [1, 2}\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: {x: 1]\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\n- a\n- b\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\njust a string\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: 1\nb: c: d\n---\n", "line 3:");
    CHECK_ERROR_LINE("---\na: Note: quote me\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: &anchor x\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: *alias\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: !!str x\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: |x\n  t\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: |\n  t\n b: 1\n---\n", "line 4:");
    CHECK_ERROR_LINE("---\na: 1\n  b: 2\n---\n", "line 3:");
    CHECK_ERROR_LINE("---\na:\n  b: 1\n c: 2\n---\n", "line 4:");
    CHECK_ERROR_LINE("---\na: \"\\q\"\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: \"\\ud800\"\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: \"\\u00\"\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: \"\\u0000\"\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: \"x\" trailing\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: [a] b\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: - b\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\nm:\n  a: 1\n  - b\n---\n", "line 4:");
    CHECK_ERROR_LINE("---\na: {[k]: v}\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: [,]\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\na: %x\n---\n", "line 2:");
    CHECK_ERROR_LINE("---\nno colon here\nb: 1\n---\n", "line 2:");
}

/* Valid YAML the old hand-written parser refused; libyaml reads them as
 * PyYAML does. */
TEST(yaml_forms_pyyaml_accepts)
{
    CHECK_VALUE("? complex\n", "complex", "null");
    CHECK_VALUE("a: [x: y]\n", "a", "[{\"x\":\"y\"}]");
    CHECK_VALUE("a: \"\\ud83c\\udfac and \\ud83d\\ude00\"\n", "a",
                "\xF0\x9F\x8E\xAC and \xF0\x9F\x98\x80");
    CHECK_ERROR_LINE("---\na: 1\nb: \"\\udfac\\ud83c\"\n---\n", "line 3:");
    CHECK_ERROR_LINE("---\na: 1\n...\nb: 2\n---\n", "line 4:");
}

TEST(binary_junk)
{
    static const char nul[] = "---\nname: a\nb: x\0y\n---\n";
    static const char ctl[] = "---\nname: a\nb: \x01\n---\n";
    static const char bad_utf8[] = "---\nname: a\n\nb: \xC3\x28\n---\n";
    static const char overlong[] = "---\nb: \xC0\xAF\n---\n";
    static const char surrogate[] = "---\nb: \xED\xA0\x80\n---\n";
    static const char truncated[] = "---\nb: \xE4\xB8\n---\n";
    cJSON *fm;

    fm = fm_parse(nul, sizeof nul - 1, fm_err, sizeof fm_err);
    CHECK(fm == NULL);
    CHECK_CONTAINS(fm_err, "line 3: NUL byte");
    fm = fm_parse(ctl, sizeof ctl - 1, fm_err, sizeof fm_err);
    CHECK(fm == NULL);
    CHECK_CONTAINS(fm_err, "line 3: control character");
    fm = fm_parse(bad_utf8, sizeof bad_utf8 - 1, fm_err, sizeof fm_err);
    CHECK(fm == NULL);
    CHECK_CONTAINS(fm_err, "line 4: invalid UTF-8");
    CHECK(fm_parse(overlong, sizeof overlong - 1, fm_err, 256) == NULL);
    CHECK(fm_parse(surrogate, sizeof surrogate - 1, fm_err, 256) == NULL);
    CHECK(fm_parse(truncated, sizeof truncated - 1, fm_err, 256) == NULL);
    /* Binary junk in the body after the frontmatter does not matter. */
    {
        static const char body[] = "---\nname: ok\n---\n\0\xFF\xFE junk";

        fm = fm_parse(body, sizeof body - 1, fm_err, sizeof fm_err);
        CHECK_STR(fm_get_string(fm, "name"), "ok");
        cJSON_Delete(fm);
    }
}

TEST(size_and_depth_limits)
{
    size_t big = 10 * 1024 * 1024, i;
    char *doc = malloc(big + 64);
    cJSON *fm;
    clock_t t0 = clock();

    /* small frontmatter, 10 MB body */
    strcpy(doc, "---\nname: big\n---\n");
    for (i = strlen(doc); i < big; i++)
        doc[i] = (i % 80 == 79) ? '\n' : 'x';
    fm = fm_parse(doc, big, fm_err, sizeof fm_err);
    CHECK_STR(fm_get_string(fm, "name"), "big");
    cJSON_Delete(fm);
    /* 10 MB, never closed */
    memcpy(doc, "---\nname: big\nd: >\n", 19);
    for (i = 19; i < big; i++)
        doc[i] = (i % 80 == 79) ? '\n' : ((i % 80 < 2) ? ' ' : 'y');
    fm = fm_parse(doc, big, fm_err, sizeof fm_err);
    CHECK(fm == NULL);
    CHECK_CONTAINS(fm_err, "larger than");
    /* 10 MB frontmatter, closed at the end */
    memcpy(doc + big - 5, "\n---\n", 5);
    fm = fm_parse(doc, big, fm_err, sizeof fm_err);
    CHECK(fm == NULL);
    CHECK_CONTAINS(fm_err, "larger than");
    /* 10 MB on one line without a newline */
    memset(doc, 'z', big);
    fm = fm_parse(doc, big, fm_err, sizeof fm_err);
    CHECK(fm == NULL);
    /* 900 KB of folded description parses */
    {
        size_t n = 900 * 1024, j;
        size_t off;

        off = (size_t)sprintf(doc, "---\nname: long\nd: >-\n");
        for (j = 0; j < n; j++)
            doc[off + j] = (j % 64 == 63) ? '\n' : (j % 64 < 2 ? ' ' : 'w');
        off += n;
        off += (size_t)sprintf(doc + off, "\n---\n");
        fm = fm_parse(doc, off, fm_err, sizeof fm_err);
        CHECK(fm != NULL);
        CHECK(fm_get_string(fm, "d") && strlen(fm_get_string(fm, "d")) >
                                            800 * 1024);
        cJSON_Delete(fm);
    }
    /* deep flow nesting: a clean error, not a stack overflow */
    {
        size_t off = (size_t)sprintf(doc, "---\na: ");

        for (i = 0; i < 100000; i++)
            doc[off++] = '[';
        off += (size_t)sprintf(doc + off, "\n---\n");
        fm = fm_parse(doc, off, fm_err, sizeof fm_err);
        CHECK(fm == NULL);
        CHECK_CONTAINS(fm_err, "nesting deeper");
    }
    /* deep block nesting */
    {
        size_t off = (size_t)sprintf(doc, "---\n");

        for (i = 0; i < 200; i++)
            off += (size_t)sprintf(doc + off, "%*sk%zu:\n", (int)i, "", i);
        off += (size_t)sprintf(doc + off, "---\n");
        fm = fm_parse(doc, off, fm_err, sizeof fm_err);
        CHECK(fm == NULL);
        CHECK_CONTAINS(fm_err, "nesting deeper");
    }
    /* many keys: bounded, not quadratic forever */
    {
        size_t off = (size_t)sprintf(doc, "---\n");

        for (i = 0; i < 50000; i++)
            off += (size_t)sprintf(doc + off, "k%zu: v\n", i);
        off += (size_t)sprintf(doc + off, "---\n");
        fm = fm_parse(doc, off, fm_err, sizeof fm_err);
        CHECK(fm == NULL);
        CHECK_CONTAINS(fm_err, "more than 4096 entries");
    }
    CHECK((clock() - t0) / CLOCKS_PER_SEC < 20);
    free(doc);
}

/* ---- fuzz: random mutations of a real frontmatter -------------------- */

static uint64_t fuzz_state = 0x9E3779B97F4A7C15ull;

static uint32_t fuzz_rand(void)
{
    fuzz_state ^= fuzz_state << 13;
    fuzz_state ^= fuzz_state >> 7;
    fuzz_state ^= fuzz_state << 17;
    return (uint32_t)(fuzz_state >> 11);
}

static const char fuzz_seed[] =
    "---\n"
    "name: nemo-mcp\n"
    "version: \"0.1.0\"\n"
    "displayName: 'Nemo ''MCP'' Server'\n"
    "description: >\n"
    "  Lets an agent edit video.\n"
    "\n"
    "    kept indented\n"
    "  back # not a comment here\n"
    "notes: |-\n"
    "  literal \\n text\n"
    "  ---\n"
    "metadata: {\"openclaw\": {\"emoji\": \"\xF0\x9F\x8E\xAC\", \"requires\": "
    "{\"env\": [\"NEMO_TOKEN\"], \"configPaths\": [\"~/.config/nemovideo/\"]}, "
    "\"primaryEnv\": \"NEMO_TOKEN\"}}\n"
    "flow: {a: 1, b: [x, y], c: \"\\u00e9\\ud83c\\udfac\"}\n"
    "nested:\n"
    "  key: value # comment\n"
    "  list:\n"
    "    - one\n"
    "    - two: 2\n"
    "      three: 3\n"
    "    - [a, b]\n"
    "apiDomain: https://mega-api-prod.nemovideo.ai\n"
    "maxUploadMB: 200\n"
    "---\n"
    "# body\n";

static const char fuzz_alphabet[] = ":\"'{}[]|>-#\n\t\r ,\\&*!?%@`0123456789"
                                    "abcxyz\xC3\xA9\xE4\xB8\xAD\xFF\x00+~.";

static size_t fuzz_mutate(char *buf, size_t len, size_t cap)
{
    int rounds = 1 + (int)(fuzz_rand() % 6), r;

    for (r = 0; r < rounds; r++) {
        size_t at = len ? fuzz_rand() % len : 0, n;

        switch (fuzz_rand() % 7) {
        case 0: /* flip a byte */
            if (len)
                buf[at] ^= (char)(1u << (fuzz_rand() % 8));
            break;
        case 1: /* overwrite with a syntax character */
            if (len)
                buf[at] = fuzz_alphabet[fuzz_rand() %
                                        (sizeof fuzz_alphabet - 1)];
            break;
        case 2: /* insert a syntax character */
            if (len + 1 < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = fuzz_alphabet[fuzz_rand() %
                                        (sizeof fuzz_alphabet - 1)];
                len++;
            }
            break;
        case 3: /* delete a range */
            n = fuzz_rand() % 16;
            if (at + n > len)
                n = len - at;
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        case 4: /* duplicate a range */
            n = fuzz_rand() % 32;
            if (at + n > len)
                n = len - at;
            if (len + n < cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        case 5: /* truncate */
            len = at;
            break;
        default: /* swap two bytes */
            if (len) {
                size_t b = fuzz_rand() % len;
                char t = buf[at];

                buf[at] = buf[b];
                buf[b] = t;
            }
            break;
        }
    }
    return len;
}

TEST(fuzz_mutations)
{
    enum { CAP = 4096 };
    const char *env = getenv("NEMO_FUZZ_ITER"); /* longer runs by hand */
    int iter = env ? atoi(env) : 20000;
    char buf[CAP];
    int i, ok = 0, failed = 0, bad_err = 0;

    for (i = 0; i < iter; i++) {
        size_t len = sizeof fuzz_seed - 1;
        cJSON *fm;

        memcpy(buf, fuzz_seed, len);
        len = fuzz_mutate(buf, len, CAP);
        fm_err[0] = '\0';
        fm = fm_parse(buf, len, fm_err, sizeof fm_err);
        if (fm) {
            char *json = cJSON_PrintUnformatted(fm);

            CHECK(cJSON_IsObject(fm));
            CHECK(json != NULL);
            free(json);
            cJSON_Delete(fm);
            ok++;
        } else {
            failed++;
            if (strncmp(fm_err, "line ", 5) != 0)
                bad_err++;
        }
    }
    printf("# fuzz: %d parsed, %d rejected\n", ok, failed);
    CHECK_INT(bad_err, 0);
    CHECK(ok > 100);
    CHECK(failed > 100);
    /* and the unmutated seed itself parses */
    {
        cJSON *fm = parse(fuzz_seed);

        CHECK(fm != NULL);
        CHECK_STR(fm_get_string(fm, "description"),
                  "Lets an agent edit video.\n\n  kept indented\n"
                  "back # not a comment here\n");
        CHECK_STR(fm_get_string(fm, "notes"), "literal \\n text\n---");
        cJSON_Delete(fm);
    }
}

/* ---- the same documents through PyYAML ------------------------------ */

/* Frontmatters the real world writes; each also goes through PyYAML. */
static const char *const pyyaml_corpus[] = {
    "name: foo # a comment\nlang: C# rocks\nurl: https://a.example/x#f\n"
    "t: 10:30 sharp\nversion: 1.0\nflag: true\nn: 42\nz: 0x1F\n",
    "d: a plain\n  scalar that\n\n  continues\nq: 'it''s'\n"
    "e: \"tab\\t nl\\n \\u00e9 \\x41 \\/\"\n",
    "a: |\n  line one\n  line two\n\n\nb: |-\n  x\n  y\nc: |+\n  k\n\n"
    "d: |2\n    two extra\n  base\n",
    "a: >\n\n folded\n line\n\n next\n line\n   * bullet\n\n"
    "   * list\n   * lines\n\n last\n line\n\n# Comment\n",
    "m: {a: 1, b: [x, y], c: true, d: null, e: \"q\", f: 1.5, g: ~, "
    "h: hello world, i: -3, j: 0x1F, k: 1e3, l: v1.2}\n",
    "m: {\n  \"a\": 1,   # comment\n  b: [\n    x,\n    y\n  ]\n  }\n"
    "s: [a, 'b c', \"d\", ]\nu: {url: https://x.example/a/b, k}\n",
    "m:\n  a: 1\n  b:\n    c: deep\n  d: |\n    lit\n"
    "s:\n  - one\n  -\n  - name: a\n    v: 1\n  - - x\n    - y\n"
    "  - [a, b]\n  - {k: v}\n",
    "a:\nb: ''\nc: \"\"\nname: first\nname: second\n? complex\n",
    "items:\n  - >\n    in a\n    sequence\n  - |-\n    lit\n",
    "  indented: root\n  works: too\n",
};

static char *read_all(FILE *f)
{
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);

    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *bigger = realloc(buf, cap * 2);

            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* PyYAML's readings (tests/unit/pyyaml_ref.py) of an array of texts. */
static cJSON *pyyaml_read(const cJSON *texts)
{
    char path[] = "/tmp/nemo-fm-XXXXXX", cmd[128], *json, *out;
    int fd = mkstemp(path);
    FILE *f;
    cJSON *res = NULL;

    json = cJSON_PrintUnformatted(texts);
    if (fd < 0 || !json || write(fd, json, strlen(json)) < 0) {
        free(json);
        return NULL;
    }
    close(fd);
    free(json);
    snprintf(cmd, sizeof cmd, "python3 tests/unit/pyyaml_ref.py < %s", path);
    f = popen(cmd, "r");
    if (f) {
        out = read_all(f);
        if (pclose(f) == 0 && out)
            res = cJSON_Parse(out);
        free(out);
    }
    unlink(path);
    return res;
}

/* The frontmatter text of a whole document, when it has the simple shape
 * "---\n<text>---\n..." (what the comparison sends PyYAML). */
static char *inner_text(const char *doc, size_t len)
{
    const char *end;
    char *copy;

    if (len < 8 || memcmp(doc, "---\n", 4) != 0 || memchr(doc, '\0', len) ||
        memchr(doc, '\r', len))
        return NULL;
    copy = malloc(len + 1);
    memcpy(copy, doc, len);
    copy[len] = '\0';
    end = strstr(copy + 3, "\n---\n");
    if (!end) {
        free(copy);
        return NULL;
    }
    memmove(copy, copy + 4, (size_t)(end - copy) - 3);
    copy[end - copy - 3] = '\0';
    return copy;
}

/* Where ours refuses on purpose what PyYAML reads, or PyYAML's YAML 1.1
 * differs from libyaml's reading: left out of the comparison. */
static int deliberate_refusal(const char *err)
{
    static const char *const why[] = { "not supported", "surrogate",
                                       "NUL", "control character",
                                       "invalid UTF-8", "more than" };
    size_t i;

    for (i = 0; i < sizeof why / sizeof why[0]; i++)
        if (strstr(err, why[i]))
            return 1;
    return 0;
}

TEST(pyyaml_agrees)
{
    cJSON *texts = cJSON_CreateArray(), *ours = cJSON_CreateArray(), *ref;
    const char *files[] = { "SKILL.md", "packaging/skill/SKILL.md" };
    char buf[4096];
    size_t i;
    int n, compared = 0, mismatches = 0, tabs = 0, kinds[3] = { 0, 0, 0 };

    for (i = 0; i < sizeof pyyaml_corpus / sizeof pyyaml_corpus[0]; i++) {
        snprintf(buf, sizeof buf, "---\n%s---\n", pyyaml_corpus[i]);
        cJSON_AddItemToArray(texts, cJSON_CreateString(pyyaml_corpus[i]));
        cJSON_AddItemToArray(ours, parse(buf));
    }
    for (i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "rb");
        char *doc = f ? read_all(f) : NULL, *inner;

        if (f)
            fclose(f);
        CHECK(doc != NULL);
        inner = doc ? inner_text(doc, strlen(doc)) : NULL;
        CHECK(inner != NULL);
        if (inner) {
            cJSON_AddItemToArray(texts, cJSON_CreateString(inner));
            cJSON_AddItemToArray(ours, parse(doc));
        }
        free(inner);
        free(doc);
    }
    /* and mutations of a real frontmatter, both verdicts compared */
    fuzz_state = 0x2545F4914F6CDD1Dull;
    for (n = 0; n < 3000; n++) {
        size_t len;
        char *inner;
        cJSON *fm;

        memcpy(buf, fuzz_seed, sizeof fuzz_seed - 1);
        len = fuzz_mutate(buf, sizeof fuzz_seed - 1, sizeof buf - 1);
        inner = inner_text(buf, len);
        if (!inner)
            continue;
        fm = fm_parse(buf, len, fm_err, sizeof fm_err);
        if (fm || !deliberate_refusal(fm_err)) {
            cJSON_AddItemToArray(texts, cJSON_CreateString(inner));
            cJSON_AddItemToArray(ours, fm ? fm : cJSON_CreateNull());
        }
        free(inner);
    }
    ref = pyyaml_read(texts);
    CHECK(ref != NULL);
    if (!ref)
        printf("#   python3 with PyYAML is needed (apt-get install "
               "python3-yaml)\n");
    for (n = 0; ref && n < cJSON_GetArraySize(ref); n++) {
        const cJSON *r = cJSON_GetArrayItem(ref, n);
        const cJSON *o = cJSON_GetArrayItem(ours, n);
        int ref_err = cJSON_IsObject(r) &&
                      cJSON_GetObjectItem(r, "error") &&
                      cJSON_GetArraySize(r) == 1;
        int agree = cJSON_IsNull(o) ? ref_err
                                    : !ref_err && cJSON_Compare(o, r, 1);

        /* libyaml takes a tab as separating white space (YAML 1.2 does);
         * PyYAML's own scanner refuses it in some places. */
        if (!agree && !cJSON_IsNull(o) && ref_err &&
            strstr(cJSON_GetObjectItem(r, "error")->valuestring, "'\\t'")) {
            tabs++;
            continue;
        }

        compared++;
        if (!agree)
            kinds[cJSON_IsNull(o) ? 0 : ref_err ? 1 : 2]++;
        if (!agree && mismatches++ < 5) {
            char *a = cJSON_PrintUnformatted(o), *b = cJSON_PrintUnformatted(r);

            printf("#   differs from PyYAML: %s\n#     text: %.300s\n"
                   "#     ours: %.300s\n#     PyYAML: %.300s\n",
                   n < 12 ? "corpus" : "mutation",
                   cJSON_GetArrayItem(texts, n)->valuestring, a, b);
            free(a);
            free(b);
        }
    }
    printf("# pyyaml: %d documents compared, %d differ (%d we refuse, %d "
           "PyYAML refuses, %d values); %d with tabs PyYAML refuses\n",
           compared, mismatches, kinds[0], kinds[1], kinds[2], tabs);
    CHECK_INT(mismatches, 0);
    CHECK(compared > 1000);
    cJSON_Delete(ref);
    cJSON_Delete(texts);
    cJSON_Delete(ours);
}

int main(void)
{
    RUN(ecosystem_frontmatter);
    RUN(plain_scalars_and_comments);
    RUN(empty_values_and_duplicates);
    RUN(single_quoted);
    RUN(double_quoted_escapes);
    RUN(literal_block_scalars);
    RUN(folded_block_scalars);
    RUN(folded_in_sequence);
    RUN(flow_collections);
    RUN(block_collections);
    RUN(line_endings_bom_tabs);
    RUN(delimiters);
    RUN(malformed_input_errors);
    RUN(yaml_forms_pyyaml_accepts);
    RUN(binary_junk);
    RUN(size_and_depth_limits);
    RUN(fuzz_mutations);
    RUN(pyyaml_agrees);
    return unit_done();
}
