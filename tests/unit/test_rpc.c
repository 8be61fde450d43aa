/* test_rpc.c - framing (line reader), message classification, UTF-8
 * checks and the single writer (src/mcp/rpc.c, src/mcp/out.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/mcp/mcp_internal.h"
#include "unit.h"

/* ---- classification ---- */

static rpc_msg parse(const char *s)
{
    rpc_msg m;

    rpc_parse(s, strlen(s), &m);
    return m;
}

/* The error a line gets: its code, and the id it is answered with
 * ("null" when none could be read). */
#define PARSE_ERROR(line, want_code, want_id)                                \
    do {                                                                     \
        rpc_msg m_ = parse(line);                                            \
        char *id_ = m_.err_id ? cJSON_PrintUnformatted(m_.err_id) : NULL;    \
        CHECK_INT(m_.kind, RPC_MSG_ERROR);                                   \
        CHECK_INT(m_.code, want_code);                                       \
        CHECK_STR(id_ ? id_ : "null", want_id);                              \
        free(id_);                                                           \
        rpc_msg_free(&m_);                                                   \
    } while (0)

TEST(requests_and_notifications)
{
    rpc_msg m = parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}");

    CHECK_INT(m.kind, RPC_MSG_REQUEST);
    CHECK_STR(m.method, "ping");
    CHECK(m.params == NULL);
    CHECK(cJSON_IsNumber(m.id) && m.id->valuedouble == 7);
    rpc_msg_free(&m);
    m = parse("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/list\","
              "\"params\":{\"cursor\":\"x\"}}");
    CHECK_INT(m.kind, RPC_MSG_REQUEST);
    CHECK(cJSON_IsObject(m.params));
    rpc_msg_free(&m);
    m = parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    CHECK_INT(m.kind, RPC_MSG_NOTIFICATION);
    rpc_msg_free(&m);
    /* A notification with bad params is still never answered. */
    m = parse("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":[1]}");
    CHECK_INT(m.kind, RPC_MSG_NOTIFICATION);
    rpc_msg_free(&m);
    /* Responses sent by the client are recognised (and ignored). */
    m = parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}");
    CHECK_INT(m.kind, RPC_MSG_RESPONSE);
    rpc_msg_free(&m);
    m = parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":1}}");
    CHECK_INT(m.kind, RPC_MSG_RESPONSE);
    rpc_msg_free(&m);
    m = parse("   \t ");
    CHECK_INT(m.kind, RPC_MSG_EMPTY);
    rpc_msg_free(&m);
}

TEST(malformed_messages)
{
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",", RPC_PARSE_ERROR, "null");
    PARSE_ERROR("nonsense", RPC_PARSE_ERROR, "null");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"} trailing",
                RPC_PARSE_ERROR, "null");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
                RPC_PARSE_ERROR, "null");
    PARSE_ERROR("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
                RPC_INVALID_REQUEST, "null");
    PARSE_ERROR("[]", RPC_INVALID_REQUEST, "null");
    PARSE_ERROR("42", RPC_INVALID_REQUEST, "null");
    PARSE_ERROR("null", RPC_INVALID_REQUEST, "null");
    PARSE_ERROR("{\"id\":5,\"method\":\"ping\"}", RPC_INVALID_REQUEST, "5");
    PARSE_ERROR("{\"jsonrpc\":\"1.0\",\"id\":\"x\",\"method\":\"ping\"}",
                RPC_INVALID_REQUEST, "\"x\"");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
                RPC_INVALID_REQUEST, "null");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
                RPC_INVALID_REQUEST, "null");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
                RPC_INVALID_REQUEST, "null");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":12}",
                RPC_INVALID_REQUEST, "9");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":9}", RPC_INVALID_REQUEST, "9");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"a\","
                "\"params\":[1]}", RPC_INVALID_PARAMS, "9");
    PARSE_ERROR("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"a\","
                "\"params\":\"p\"}", RPC_INVALID_REQUEST, "9");
}

TEST(nul_byte_is_a_parse_error)
{
    static const char line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\0\"}";
    rpc_msg m;

    rpc_parse(line, sizeof line - 1, &m);
    CHECK_INT(m.kind, RPC_MSG_ERROR);
    CHECK_INT(m.code, RPC_PARSE_ERROR);
    rpc_msg_free(&m);
}

/* A host line of "[0,0,..." must not become a gigabyte of cJSON nodes. */
TEST(amplifying_lines_are_refused_before_parsing)
{
    size_t n = 300000, i, len = 0;
    char *line = malloc(n * 2 + 64);
    rpc_msg m;

    len += (size_t)sprintf(line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
                                 "\"method\":\"a\",\"params\":{\"x\":[");
    for (i = 0; i < n; i++) {
        line[len++] = '0';
        line[len++] = ',';
    }
    line[len - 1] = ']';
    line[len++] = '}';
    line[len++] = '}';
    rpc_parse(line, len, &m);
    CHECK_INT(m.kind, RPC_MSG_ERROR);
    CHECK_INT(m.code, RPC_PARSE_ERROR);
    rpc_msg_free(&m);
    len = 0;
    for (i = 0; i < 100; i++)
        line[len++] = '[';
    for (i = 0; i < 100; i++)
        line[len++] = ']';
    rpc_parse(line, len, &m);
    CHECK_INT(m.kind, RPC_MSG_ERROR);
    CHECK_INT(m.code, RPC_PARSE_ERROR);
    CHECK_CONTAINS(m.message, "nested too deeply");
    rpc_msg_free(&m);
    free(line);
}

TEST(id_keys_keep_types_apart)
{
    cJSON *s = cJSON_CreateString("1"), *n = cJSON_CreateNumber(1);
    cJSON *big = cJSON_CreateNumber(9007199254740991.0);
    cJSON *f = cJSON_CreateNumber(1.5);
    char *ks = rpc_id_key(s), *kn = rpc_id_key(n), *kb = rpc_id_key(big);

    CHECK_STR(ks, "s:1");
    CHECK_STR(kn, "n:1");
    CHECK_STR(kb, "n:9007199254740991");
    CHECK(rpc_id_key(f) == NULL);
    CHECK(rpc_id_key(NULL) == NULL);
    free(ks);
    free(kn);
    free(kb);
    cJSON_Delete(s);
    cJSON_Delete(n);
    cJSON_Delete(big);
    cJSON_Delete(f);
}

TEST(utf8_rules)
{
    CHECK(rpc_utf8_valid("plain", 5));
    CHECK(rpc_utf8_valid("\xc3\xa9\xe5\x89\xaa\xf0\x9f\x8e\xac", 9));
    CHECK(!rpc_utf8_valid("\xc0\x80", 2));          /* overlong NUL */
    CHECK(!rpc_utf8_valid("\xe0\x80\xaf", 3));      /* overlong */
    CHECK(!rpc_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    CHECK(!rpc_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    CHECK(!rpc_utf8_valid("\xe5\x89", 2));          /* truncated */
    CHECK(!rpc_utf8_valid("\x80", 1));              /* lone continuation */
}

TEST(sanitize_replaces_bad_bytes)
{
    nemo_buf b = NEMO_BUF_INIT;

    CHECK_INT(mcp_utf8_sanitize("a\xff" "b\xc3\xa9", 5, &b), 0);
    CHECK_STR(buf_str(&b), "a\xef\xbf\xbd" "b\xc3\xa9");
    buf_free(&b);
}

TEST(builders)
{
    cJSON *id = cJSON_CreateString("q");
    cJSON *m = rpc_error(id, -32601, "Method not found: x", NULL);
    char *s = cJSON_PrintUnformatted(m);

    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"error\":{\"code\":-32601,"
                 "\"message\":\"Method not found: x\"}}");
    free(s);
    cJSON_Delete(m);
    m = rpc_error(NULL, -32700, "Parse error", NULL);
    s = cJSON_PrintUnformatted(m);
    /* JSON-RPC 2.0 section 5: an unreadable id is answered with null. */
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
                 "-32700,\"message\":\"Parse error\"}}");
    free(s);
    cJSON_Delete(m);
    m = rpc_notification("notifications/progress", cJSON_CreateObject());
    s = cJSON_PrintUnformatted(m);
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                 "\"params\":{}}");
    free(s);
    cJSON_Delete(m);
    cJSON_Delete(id);
}

/* ---- the reader ---- */

static void put(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

TEST(reader_lines_crlf_and_last_line)
{
    int p[2];
    rpc_reader r;
    char *line;
    size_t len;

    CHECK(pipe(p) == 0);
    put(p[1], "one\r\n\ntwo\nthree", 15);
    close(p[1]);
    rpc_reader_init(&r, p[0], -1, 64);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_STR(line, "one");
    CHECK_INT(len, 3);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_INT(len, 0);   /* the caller ignores empty lines */
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_STR(line, "two");
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_STR(line, "three");
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_EOF);
    rpc_reader_free(&r);
    close(p[0]);
}

TEST(reader_skips_overlong_lines_and_stays_in_sync)
{
    int p[2];
    rpc_reader r;
    char *line, big[300];
    size_t len;

    memset(big, 'x', sizeof big);
    CHECK(pipe(p) == 0);
    put(p[1], "short\n", 6);
    put(p[1], big, sizeof big);    /* over the 64-byte cap */
    put(p[1], "\nafter\n", 7);
    put(p[1], big, 65);            /* just over, complete in one read */
    put(p[1], "\nlast\n", 6);
    put(p[1], big, 100);           /* over the cap, then end of input */
    close(p[1]);
    rpc_reader_init(&r, p[0], -1, 64);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_STR(line, "short");
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_TOOLONG);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_STR(line, "after");
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_TOOLONG);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_STR(line, "last");
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_TOOLONG);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_EOF);
    /* The buffer never held the whole over-long line. */
    CHECK(r.buf.cap <= 2 * (64 + 65536 + 1));
    rpc_reader_free(&r);
    close(p[0]);
}

TEST(reader_exactly_at_the_cap_is_fine)
{
    int p[2];
    rpc_reader r;
    char *line, big[64];
    size_t len;

    memset(big, 'y', sizeof big);
    CHECK(pipe(p) == 0);
    put(p[1], big, sizeof big);
    put(p[1], "\n", 1);
    close(p[1]);
    rpc_reader_init(&r, p[0], -1, 64);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_LINE);
    CHECK_INT(len, 64);
    rpc_reader_free(&r);
    close(p[0]);
}

TEST(reader_wakes_on_the_wake_fd)
{
    int in[2], wake[2];
    rpc_reader r;
    char *line;
    size_t len;

    CHECK(pipe(in) == 0 && pipe(wake) == 0);
    put(in[1], "partial", 7);
    put(wake[1], "x", 1);
    rpc_reader_init(&r, in[0], wake[0], 64);
    CHECK_INT(rpc_read_line(&r, &line, &len), RPC_WOKEN);
    rpc_reader_free(&r);
    close(in[0]);
    close(in[1]);
    close(wake[0]);
    close(wake[1]);
}

/* ---- the writer ---- */

TEST(writer_whole_lines_and_sanitized)
{
    int p[2];
    mcp_out o;
    cJSON *m = cJSON_CreateObject();
    char got[256];
    ssize_t n;

    CHECK(pipe(p) == 0);
    mcp_out_init(&o, p[1], -1);
    cJSON_AddStringToObject(m, "text", "bad \xff byte");
    CHECK_INT(mcp_out_send(&o, m), 0);
    CHECK_INT(mcp_out_send_text(&o, "{}", 2), 0);
    n = read(p[0], got, sizeof got - 1);
    CHECK(n > 0);
    got[n > 0 ? n : 0] = '\0';
    CHECK_STR(got, "{\"text\":\"bad \xef\xbf\xbd byte\"}\n{}\n");
    cJSON_Delete(m);
    mcp_out_destroy(&o);
    close(p[0]);
    close(p[1]);
}

TEST(writer_broken_pipe_wakes_the_reader)
{
    int p[2], wake[2];
    mcp_out o;
    char c;

    signal(SIGPIPE, SIG_IGN);
    CHECK(pipe(p) == 0 && pipe(wake) == 0);
    close(p[0]);
    mcp_out_init(&o, p[1], wake[1]);
    CHECK_INT(mcp_out_send_text(&o, "{}", 2), -1);
    CHECK(mcp_out_broken(&o));
    CHECK_INT(read(wake[0], &c, 1), 1);
    /* Later sends fail at once, without writing. */
    CHECK_INT(mcp_out_send_text(&o, "{}", 2), -1);
    mcp_out_destroy(&o);
    close(p[1]);
    close(wake[0]);
    close(wake[1]);
}

int main(void)
{
    RUN(requests_and_notifications);
    RUN(malformed_messages);
    RUN(nul_byte_is_a_parse_error);
    RUN(amplifying_lines_are_refused_before_parsing);
    RUN(id_keys_keep_types_apart);
    RUN(utf8_rules);
    RUN(sanitize_replaces_bad_bytes);
    RUN(builders);
    RUN(reader_lines_crlf_and_last_line);
    RUN(reader_skips_overlong_lines_and_stays_in_sync);
    RUN(reader_exactly_at_the_cap_is_fine);
    RUN(reader_wakes_on_the_wake_fd);
    RUN(writer_whole_lines_and_sanitized);
    RUN(writer_broken_pipe_wakes_the_reader);
    return unit_done();
}
