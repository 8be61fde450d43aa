/* test_error.c - the error table, envelopes and error-text redaction. */
#include <stdlib.h>

#include "../../src/api/api_internal.h"
#include "nemo/error.h"
#include "nemo/log.h"
#include "unit.h"

static cJSON *json(const char *s)
{
    return cJSON_Parse(s);
}

/* The seeds' table: envelope code or HTTP status -> kind. */
TEST(error_table_kinds)
{
    static const struct {
        int status;
        long code;
        nemo_err_kind kind;
        const char *needle;
    } rows[] = {
        { 200, 1001, NEMO_E_AUTH, "expired or invalid" },
        { 401, 1001, NEMO_E_AUTH, "expired or invalid" },
        { 401, 0, NEMO_E_AUTH, "HTTP 401" },
        { 200, 1002, NEMO_E_SESSION, "timeline is gone" },
        { 200, 2001, NEMO_E_CREDITS, "Out of credits" },
        { 200, 4001, NEMO_E_FILE_TYPE, "mp4, mov, avi, webm, mkv, jpg, png, "
                                       "gif, webp, mp3, wav, m4a, aac" },
        { 413, 4002, NEMO_E_FILE_SIZE, "Compress it" },
        { 400, 0, NEMO_E_CLIENT_ID, "HTTP 400" },
        { 402, 0, NEMO_E_PLAN, "not a credits problem: register or upgrade "
                               "your plan to unlock export" },
        { 429, 0, NEMO_E_RATE, "Wait about 30 seconds" },
        { 429, 429, NEMO_E_RATE, "HTTP 429" },
        { 500, 0, NEMO_E_SERVER, "HTTP 500" },
        { 503, 503, NEMO_E_SERVER, "HTTP 503" },
        { 404, 0, NEMO_E_NOT_FOUND, "HTTP 404" },
        { 200, 3007, NEMO_E_BACKEND, "code 3007" },
        { 409, 0, NEMO_E_BACKEND, "HTTP 409" },
    };
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        nemo_err e;

        err_from_response(&e, rows[i].status, rows[i].code, NULL, NULL);
        if (e.kind != rows[i].kind)
            printf("#   row %zu: %d/%ld gave %s\n", i, rows[i].status,
                   rows[i].code, err_kind_name(e.kind));
        CHECK_INT(e.kind, rows[i].kind);
        CHECK_CONTAINS(e.message, rows[i].needle);
        CHECK_INT(e.http_status, rows[i].status);
        CHECK_INT(e.code, rows[i].code);
        CHECK(err_advice(e.kind)[0] != '\0');
    }
}

TEST(error_backend_msg_kept)
{
    nemo_err e;

    err_from_response(&e, 200, 3007, "prompt too long", NULL);
    CHECK_INT(e.kind, NEMO_E_BACKEND);
    CHECK_CONTAINS(e.message, "prompt too long");
    err_from_response(&e, 200, 4002, "the limit is 500 MB", NULL);
    CHECK_CONTAINS(e.message, "the limit is 500 MB");
    CHECK_CONTAINS(e.message, "trim");
}

TEST(error_credits_link_and_bind)
{
    nemo_err e;
    cJSON *d;

    /* link without ?bind=: appended */
    d = json("{\"bind_id\":\"bind_42\",\"register_url\":"
             "\"https://nemo.example/register\"}");
    err_from_response(&e, 200, 2001, "insufficient credits", d);
    CHECK_INT(e.kind, NEMO_E_CREDITS);
    CHECK_STR(e.bind_id, "bind_42");
    CHECK_STR(e.link, "https://nemo.example/register?bind=bind_42");
    CHECK_CONTAINS(e.message, "https://nemo.example/register?bind=bind_42");
    cJSON_Delete(d);

    /* link already carrying bind: kept as is */
    d = json("{\"bindId\":\"b7\",\"url\":\"https://x.example/r?bind=b7\"}");
    err_from_response(&e, 200, 2001, NULL, d);
    CHECK_STR(e.bind_id, "b7");
    CHECK_STR(e.link, "https://x.example/r?bind=b7");
    cJSON_Delete(d);

    /* other query parameters: & */
    d = json("{\"id\":123,\"link\":\"https://x.example/r?src=mcp\"}");
    err_from_response(&e, 200, 2001, NULL, d);
    CHECK_STR(e.bind_id, "123");
    CHECK_STR(e.link, "https://x.example/r?src=mcp&bind=123");
    cJSON_Delete(d);

    /* only a bind id */
    d = json("{\"bind_id\":\"bind_only\"}");
    err_from_response(&e, 200, 2001, NULL, d);
    CHECK_STR(e.link, "");
    CHECK_CONTAINS(e.message, "Register to get more credits and bind this "
                              "anonymous account (bind id bind_only)");
    cJSON_Delete(d);

    /* nothing at all */
    err_from_response(&e, 200, 2001, NULL, NULL);
    CHECK_STR(e.bind_id, "");
    CHECK_CONTAINS(e.message, "top up");
}

TEST(envelope_success_and_errors)
{
    nemo_err e;
    cJSON *d = NULL;
    const char *ok = "{\"code\":0,\"msg\":\"ok\",\"data\":{\"x\":1}}";
    const char *bad200 = "{\"code\":1002,\"msg\":\"session not found\"}";
    const char *strcode = "{\"code\":\"2001\",\"data\":{\"bind_id\":\"q\"}}";

    err_clear(&e);
    CHECK_INT(api_envelope_parse(200, ok, strlen(ok), &d, &e), 0);
    CHECK(d && cJSON_GetObjectItem(d, "x")->valueint == 1);
    cJSON_Delete(d);

    /* HTTP 200 + non-zero code is an error */
    CHECK_INT(api_envelope_parse(200, bad200, strlen(bad200), &d, &e), -1);
    CHECK(d == NULL);
    CHECK_INT(e.kind, NEMO_E_SESSION);
    CHECK_INT(e.code, 1002);
    CHECK_INT(e.http_status, 200);

    /* code as a string, data used for the bind id */
    CHECK_INT(api_envelope_parse(200, strcode, strlen(strcode), &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_CREDITS);
    CHECK_STR(e.bind_id, "q");

    /* missing msg and data: fine */
    CHECK_INT(api_envelope_parse(200, "{\"code\":0}", 10, &d, &e), 0);
    CHECK(d == NULL);

    /* not an envelope at all: the object is the data */
    CHECK_INT(api_envelope_parse(200, "{\"available\":5}", 15, &d, &e), 0);
    CHECK(d && cJSON_GetObjectItem(d, "available")->valueint == 5);
    cJSON_Delete(d);

    /* empty 2xx body */
    CHECK_INT(api_envelope_parse(204, "", 0, &d, &e), 0);
    CHECK(d == NULL);

    /* a code no long can hold is an error, not a cast (UBSan-checked) */
    CHECK_INT(api_envelope_parse(200, "{\"code\":1e19}", 13, &d, &e), -1);
    CHECK(d == NULL);
    CHECK_INT(e.code, -1);
    CHECK_INT(e.kind, NEMO_E_BACKEND);
    /* a numeric bind id a double cannot hold exactly is not used */
    CHECK_INT(api_envelope_parse(200, "{\"code\":2001,\"data\":{\"bind_id\":"
                                 "1e300}}", 38, &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_CREDITS);
    CHECK_STR(e.bind_id, "");
}

TEST(envelope_non_json_bodies)
{
    nemo_err e;
    cJSON *d = NULL;
    const char *html = "<html><head><title>502 Bad Gateway</title></head>"
                       "<body><h1>502</h1><p>nginx</p></body></html>";
    const char *garbage = "upstream connect error\nor disconnect";

    CHECK_INT(api_envelope_parse(502, html, strlen(html), &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_SERVER);
    CHECK_CONTAINS(e.message, "502 Bad Gateway");
    CHECK(strstr(e.message, "<") == NULL);
    CHECK_INT(e.http_status, 502);

    CHECK_INT(api_envelope_parse(200, garbage, strlen(garbage), &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_PROTOCOL);
    CHECK_CONTAINS(e.message, "upstream connect error or disconnect");

    CHECK_INT(api_envelope_parse(429, "slow down", 9, &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_RATE);

    CHECK_INT(api_envelope_parse(200, "[1,2]", 5, &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_PROTOCOL);
    CHECK(d == NULL);
}

TEST(snippet_is_short_and_clean)
{
    char big[4000], out[64];
    size_t i;

    for (i = 0; i < sizeof big - 1; i++)
        big[i] = "abc \t\n"[i % 6];
    big[sizeof big - 1] = '\0';
    api_snippet(big, strlen(big), out, sizeof out);
    CHECK(strlen(out) < sizeof out);
    CHECK(strstr(out, "\n") == NULL && strstr(out, "\t") == NULL);
    CHECK(strstr(out, "...") != NULL);
    /* never splits a UTF-8 sequence */
    api_snippet("\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0"
                "\xe5\xa5\xbd", 18, out, 12);
    for (i = 0; out[i]; i++)
        if (out[i] == '.')
            break;
    CHECK(i % 3 == 0);
}

TEST(error_text_is_redacted)
{
    nemo_err e;
    const char *tok = "tok_SECRETSECRETSECRET_1234";
    char msg[128];

    log_add_secret(tok);
    err_set(&e, NEMO_E_BACKEND, "echo: Bearer %s", tok);
    CHECK(strstr(e.message, tok) == NULL);
    CHECK_CONTAINS(e.message, "[redacted]");
    snprintf(msg, sizeof msg, "invalid token %s", tok);
    err_from_response(&e, 200, 1001, msg, NULL);
    CHECK(strstr(e.message, tok) == NULL);
    err_from_response(&e, 200, 3000, msg, NULL);
    CHECK(strstr(e.message, tok) == NULL);
}

TEST(error_kind_names)
{
    CHECK_STR(err_kind_name(NEMO_E_CREDITS), "credits");
    CHECK_STR(err_kind_name(NEMO_E_PLAN), "plan");
    CHECK_STR(err_kind_name(NEMO_E_CONFIG), "config");
    CHECK_STR(err_advice(NEMO_E_CANCELLED), "");
    CHECK_CONTAINS(err_advice(NEMO_E_FILE_SIZE), "Compress");
}

/* issue 11 #13 and #15: empty error bodies and out-of-range codes. */
TEST(envelope_hostile_shapes)
{
    char snip[64] = "x";
    nemo_err e;
    cJSON *d = NULL;
    static const char *const absurd[] = {
        "{\"code\":1e19,\"msg\":\"m\"}", "{\"code\":-1e300}",
        "{\"code\":\"99999999999999999999\"}", "{\"code\":\"\"}",
        "{\"code\":2147483648}",
    };
    size_t i;

    api_snippet(NULL, 0, snip, sizeof snip);
    CHECK_STR(snip, "");
    api_snippet("", 0, snip, sizeof snip);
    CHECK_STR(snip, "");
    /* a load balancer's 401/404/502 with no body at all */
    CHECK_INT(api_envelope_parse(401, NULL, 0, &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_AUTH);
    CHECK_INT(api_envelope_parse(502, NULL, 0, &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_SERVER);
    CHECK_CONTAINS(e.message, "no body");
    CHECK_INT(api_envelope_parse(404, "", 0, &d, &e), -1);
    for (i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        CHECK_INT(api_envelope_parse(200, absurd[i], strlen(absurd[i]), &d,
                                     &e), -1);
        CHECK_INT(e.code, -1);
        CHECK(d == NULL);
    }
}

/* issue 11 #5: a 2xx reply over the JSON limits is refused, not parsed. */
TEST(envelope_over_limits)
{
    size_t n = 3u << 20, i;
    char *s = malloc(n);
    nemo_err e;
    cJSON *d = NULL;

    memcpy(s, "{\"code\":0,\"data\":[", 19);
    for (i = 19; i + 3 < n; i += 2)
        memcpy(s + i, "0,", 2);
    memcpy(s + i, "0]}", 3);
    i += 3;
    CHECK_INT(api_envelope_parse(200, s, i, &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_PROTOCOL);
    CHECK_CONTAINS(e.message, "too many values");
    CHECK(d == NULL);
    free(s);
}

int main(void)
{
    RUN(error_table_kinds);
    RUN(error_backend_msg_kept);
    RUN(error_credits_link_and_bind);
    RUN(envelope_success_and_errors);
    RUN(envelope_non_json_bodies);
    RUN(snippet_is_short_and_clean);
    RUN(error_text_is_redacted);
    RUN(error_kind_names);
    RUN(envelope_hostile_shapes);
    RUN(envelope_over_limits);
    log_free_secrets();
    return unit_done();
}
