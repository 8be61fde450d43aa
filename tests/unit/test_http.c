/* test_http.c - URL policy tables, Retry-After, and http_perform against a
 * tiny in-process HTTP server: redirects (and where the Authorization
 * header may go), error pages, streaming, multipart upload progress,
 * timeouts and prompt cancellation of a hung request. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/api/api_internal.h"
#include "nemo/clock.h"
#include "nemo/http.h"
#include "unit.h"

/* ---- pure logic ---- */

TEST(url_policy_table)
{
    static const struct {
        const char *url;
        int loopback;
        int allowed;
    } rows[] = {
        { "https://mega-api-prod.nemovideo.ai", 0, 1 },
        { "https://mega-api-prod.nemovideo.ai/api/x?y=1", 0, 1 },
        { "https://127.0.0.1/", 1, 1 },
        { "http://127.0.0.1:8080/x", 1, 1 },
        { "http://127.9.8.7/", 1, 1 },
        { "http://localhost:1/", 1, 1 },
        { "http://LOCALHOST/", 1, 1 },
        { "http://[::1]:9/", 1, 1 },
        { "http://[::ffff:127.0.0.1]/", 1, 1 },
        { "http://evil.com@127.0.0.1/", 1, 1 },
        { "http://127.0.0.1.evil.com/", 0, 0 },
        { "http://127.0.0.1@evil.com/", 0, 0 },
        { "http://127.0.0.1:80@evil.com/", 0, 0 },
        { "http://user:pw@evil.com:8080/", 0, 0 },
        { "http://localhost.evil.com/", 0, 0 },
        { "http://evil-localhost/", 0, 0 },
        { "http://128.0.0.1/", 0, 0 },
        { "http://10.0.0.1/", 0, 0 },
        { "http://[::2]/", 0, 0 },
        { "http://[fe80::1]/", 0, 0 },
        { "http://mega-api-prod.nemovideo.ai", 0, 0 },
        { "ftp://127.0.0.1/", 1, 0 },
        { "file:///etc/passwd", 0, 0 },
        { "not a url", 0, 0 },
        { "", 0, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        nemo_err e;
        int lb = http_url_is_loopback(rows[i].url);
        int ok;

        err_clear(&e);
        ok = http_url_allowed(rows[i].url, &e) == 0;
        if (lb != rows[i].loopback || ok != rows[i].allowed)
            printf("#   %s: loopback %d allowed %d\n", rows[i].url, lb, ok);
        CHECK_INT(lb, rows[i].loopback);
        CHECK_INT(ok, rows[i].allowed);
        if (!ok)
            CHECK_INT(e.kind, NEMO_E_CONFIG);
    }
}

TEST(url_host_and_origin)
{
    char host[64];

    CHECK_INT(http_url_host("http://a@[::1]:80/x", host, sizeof host), 0);
    CHECK_STR(host, "[::1]");
    CHECK_INT(http_url_host("https://u:p@Example.COM:444/p?q#f", host,
                            sizeof host), 0);
    CHECK(strcasecmp(host, "example.com") == 0);
    CHECK_INT(http_url_host("::nope", host, sizeof host), -1);

    CHECK(http_same_origin("https://a.example/x", "https://a.example:443/y"));
    CHECK(http_same_origin("http://127.0.0.1:5/a", "http://127.0.0.1:5/b?c"));
    CHECK(!http_same_origin("http://127.0.0.1:5/", "http://localhost:5/"));
    CHECK(!http_same_origin("http://127.0.0.1:5/", "http://127.0.0.1:6/"));
    CHECK(!http_same_origin("https://a.example/", "http://a.example/"));
    CHECK(!http_same_origin("https://a.example/", "https://b.a.example/"));
    CHECK(!http_same_origin("https://a.example/", "garbage"));

    CHECK(http_host_is_loopback("127.0.0.1"));
    CHECK(!http_host_is_loopback("127.0.0.1.nip.io"));
    CHECK(!http_host_is_loopback(""));
    CHECK(!http_host_is_loopback("[::1"));
}

TEST(retry_after_parsing)
{
    long long now = 1445412470000LL;   /* 2015-10-21 07:27:50 GMT */

    CHECK_INT(api_retry_after_ms("120", now), 120000);
    CHECK_INT(api_retry_after_ms(" 5 \r\n", now), 5000);
    CHECK_INT(api_retry_after_ms("0", now), 0);
    CHECK_INT(api_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", now),
              10000);
    CHECK_INT(api_retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", now), 0);
    CHECK_INT(api_retry_after_ms("soon", now), -1);
    CHECK_INT(api_retry_after_ms("", now), -1);
    CHECK_INT(api_retry_after_ms(NULL, now), -1);
    CHECK_INT(api_retry_after_ms("-5", now), -1);
}

TEST(escape_segment)
{
    char out[32];

    CHECK_INT(api_escape_segment("abc-1_2.3~", out, sizeof out), 0);
    CHECK_STR(out, "abc-1_2.3~");
    CHECK_INT(api_escape_segment("a/b c?#%", out, sizeof out), 0);
    CHECK_STR(out, "a%2Fb%20c%3F%23%25");
    CHECK_INT(api_escape_segment("../x", out, sizeof out), 0);
    CHECK_STR(out, "..%2Fx");
    CHECK_INT(api_escape_segment("abcdef", out, 4), -1);
    CHECK_INT(api_escape_segment("//", out, 6), -1);
}

/* ---- a tiny HTTP/1.1 server (one request per connection) ---- */

typedef struct srv {
    int fd;
    int port;
    pthread_t th;
    volatile int stop;
    volatile int requests;
} srv;

static srv S;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int status, const char *extra, const char *ctype,
                  const char *body)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                     status, ctype, strlen(body), extra ? extra : "");

    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

static void header_of(const char *req, const char *name, char *out, size_t n)
{
    const char *p = req;
    size_t l = strlen(name);

    out[0] = '\0';
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, l) == 0 && p[l] == ':') {
            const char *v = p + l + 1, *e = strstr(v, "\r\n");

            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)(e - v), v);
            return;
        }
    }
}

static void wait_client_gone(int fd)
{
    char c;

    while (!S.stop) {
        struct pollfd pf = { fd, POLLIN, 0 };

        if (poll(&pf, 1, 50) > 0 && recv(fd, &c, 1, 0) <= 0)
            return;
    }
}

static void *conn_main(void *arg)
{
    int fd = (int)(long)arg;
    char req[16384], method[16], path[256], auth[512], ua[128], ctype[256],
        clen[32], extra[512], body[2048];
    size_t got = 0;
    long long want, have;
    char *end = NULL;

    while (got < sizeof req - 1) {
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);

        if (r <= 0)
            goto out;
        got += (size_t)r;
        req[got] = '\0';
        if ((end = strstr(req, "\r\n\r\n")) != NULL)
            break;
    }
    if (!end || sscanf(req, "%15s %255s", method, path) != 2)
        goto out;
    __atomic_add_fetch(&S.requests, 1, __ATOMIC_SEQ_CST);
    header_of(req, "Authorization", auth, sizeof auth);
    header_of(req, "User-Agent", ua, sizeof ua);
    header_of(req, "Content-Type", ctype, sizeof ctype);
    header_of(req, "Content-Length", clen, sizeof clen);
    want = atoll(clen);
    have = (long long)(got - (size_t)(end + 4 - req));
    while (have < want) {   /* read (and count) the body */
        char chunk[65536];
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);

        if (r <= 0)
            break;
        have += r;
    }
    if (strcmp(path, "/hang") == 0) {
        wait_client_gone(fd);
    } else if (strncmp(path, "/redir/", 7) == 0) {
        const char *to = "/echo";
        int st = 302;

        if (strcmp(path, "/redir/other") == 0) {
            snprintf(extra, sizeof extra,
                     "Location: http://localhost:%d/echo\r\n", S.port);
        } else if (strcmp(path, "/redir/twice") == 0) {
            snprintf(extra, sizeof extra,
                     "Location: http://localhost:%d/redir/back\r\n", S.port);
        } else if (strcmp(path, "/redir/back") == 0) {
            snprintf(extra, sizeof extra,
                     "Location: http://127.0.0.1:%d/echo\r\n", S.port);
        } else if (strcmp(path, "/redir/remote") == 0) {
            snprintf(extra, sizeof extra,
                     "Location: http://example.com/echo\r\n");
        } else {
            if (strcmp(path, "/redir/loop") == 0)
                to = "/redir/loop";
            if (strcmp(path, "/redir/303") == 0)
                st = 303;
            if (strcmp(path, "/redir/307") == 0)
                st = 307;
            snprintf(extra, sizeof extra, "Location: %s\r\n", to);
        }
        reply(fd, st, extra, "text/html", "<p>moved</p>");
    } else if (strcmp(path, "/forged-status") == 0) {
        /* a header line that looks like a status line, mid-block */
        reply(fd, 200, "HTTP/1.1 500 Forged: yes\r\n", "application/json",
              "{\"code\":0,\"data\":{}}");
    } else if (strcmp(path, "/error-page") == 0) {
        reply(fd, 503, "Retry-After: 7\r\n", "text/html",
              "<html><title>503 Service Unavailable</title></html>");
    } else if (strcmp(path, "/stream") == 0) {
        const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"
                        "\r\nConnection: close\r\n\r\n";
        int i;

        send_all(fd, h, strlen(h));
        for (i = 0; i < 5; i++) {
            send_all(fd, "data: x\n\n", 9);
            usleep(2000);
        }
    } else if (strcmp(path, "/big") == 0) {
        static char blob[1 << 20];
        const char *h = "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n"
                        "Content-Length: 4194304\r\nConnection: close\r\n\r\n";
        int i;

        memset(blob, 'v', sizeof blob);
        send_all(fd, h, strlen(h));
        for (i = 0; i < 4; i++) {
            send_all(fd, blob, sizeof blob);
            usleep(150000);   /* spread over ~600 ms for progress */
        }
    } else {
        snprintf(body, sizeof body,
                 "{\"code\":0,\"data\":{\"method\":\"%s\",\"path\":\"%s\","
                 "\"auth\":\"%s\",\"ua\":\"%s\",\"ctype\":\"%.100s\","
                 "\"body_len\":%lld}}", method, path, auth, ua, ctype, have);
        reply(fd, 200, NULL, "application/json", body);
    }
out:
    close(fd);
    return NULL;
}

static void *srv_main(void *arg)
{
    (void)arg;
    while (!S.stop) {
        struct pollfd pf = { S.fd, POLLIN, 0 };
        pthread_t t;
        int c;

        if (poll(&pf, 1, 50) <= 0)
            continue;
        c = accept(S.fd, NULL, NULL);
        if (c < 0)
            continue;
        if (pthread_create(&t, NULL, conn_main, (void *)(long)c) == 0)
            pthread_detach(t);
        else
            close(c);
    }
    return NULL;
}

static int srv_start(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    S.fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(S.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (S.fd < 0 || bind(S.fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(S.fd, 64) != 0 ||
        getsockname(S.fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    S.port = ntohs(a.sin_port);
    return pthread_create(&S.th, NULL, srv_main, NULL);
}

static void srv_stop(void)
{
    S.stop = 1;
    pthread_join(S.th, NULL);
    close(S.fd);
}

/* ---- requests ---- */

static char *url_of(const char *path)
{
    static char u[256];

    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", S.port, path);
    return u;
}

static const char *const auth_headers[] = {
    "Authorization: Bearer tok_test_1234567890", "Accept: application/json",
    NULL };

/* Perform and parse the echo envelope's data. */
static cJSON *echo(const char *method, const char *path, const char *body,
                   int *rc, nemo_err *e, http_response *r)
{
    http_request q;
    cJSON *d = NULL;

    memset(&q, 0, sizeof q);
    q.method = method;
    q.url = url_of(path);
    q.headers = auth_headers;
    q.body = body;
    q.body_len = body ? strlen(body) : 0;
    http_response_init(r);
    err_clear(e);
    *rc = http_perform(&q, r, e);
    if (*rc == 0 && r->status == 200)
        api_envelope_parse(r->status, r->body.data, r->body.len, &d, e);
    return d;
}

static const char *jstr(const cJSON *d, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(d, k);

    return cJSON_IsString(v) ? v->valuestring : "(missing)";
}

TEST(http_basic_headers)
{
    http_response r;
    nemo_err e;
    int rc;
    cJSON *d = echo("GET", "/echo", NULL, &rc, &e, &r);

    CHECK_INT(rc, 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(jstr(d, "auth"), "Bearer tok_test_1234567890");
    CHECK_STR(jstr(d, "ua"), "nemo-mcp/" NEMO_VERSION);
    CHECK_STR(jstr(d, "method"), "GET");
    CHECK_CONTAINS(r.content_type, "application/json");
    CHECK(r.content_length > 0);
    CHECK(r.request_sent);
    cJSON_Delete(d);
    http_response_free(&r);
}

TEST(http_redirect_same_origin_keeps_auth)
{
    http_response r;
    nemo_err e;
    int rc;
    cJSON *d = echo("GET", "/redir/same", NULL, &rc, &e, &r);

    CHECK_INT(rc, 0);
    CHECK_INT(r.redirects, 1);
    CHECK_STR(jstr(d, "path"), "/echo");
    CHECK_STR(jstr(d, "auth"), "Bearer tok_test_1234567890");
    cJSON_Delete(d);
    http_response_free(&r);
}

TEST(http_redirect_other_host_drops_auth)
{
    http_response r;
    nemo_err e;
    int rc;
    cJSON *d = echo("GET", "/redir/other", NULL, &rc, &e, &r);

    CHECK_INT(rc, 0);
    CHECK_INT(r.redirects, 1);
    CHECK_STR(jstr(d, "path"), "/echo");
    CHECK_STR(jstr(d, "auth"), "");   /* localhost != 127.0.0.1 */
    cJSON_Delete(d);
    http_response_free(&r);
    /* ...and it is not restored when a later hop comes back */
    d = echo("GET", "/redir/twice", NULL, &rc, &e, &r);
    CHECK_INT(rc, 0);
    CHECK_INT(r.redirects, 2);
    CHECK_STR(jstr(d, "auth"), "");
    cJSON_Delete(d);
    http_response_free(&r);
}

TEST(http_redirect_methods)
{
    http_response r;
    nemo_err e;
    int rc;
    cJSON *d = echo("POST", "/redir/303", "{\"a\":1}", &rc, &e, &r);

    CHECK_INT(rc, 0);
    CHECK_STR(jstr(d, "method"), "GET");
    CHECK_INT(cJSON_GetObjectItem(d, "body_len")->valueint, 0);
    cJSON_Delete(d);
    http_response_free(&r);
    d = echo("POST", "/redir/307", "{\"a\":1}", &rc, &e, &r);
    CHECK_INT(rc, 0);
    CHECK_STR(jstr(d, "method"), "POST");
    CHECK_INT(cJSON_GetObjectItem(d, "body_len")->valueint, 7);
    cJSON_Delete(d);
    http_response_free(&r);
}

TEST(http_redirect_refusals)
{
    http_response r;
    nemo_err e;
    int rc, before = S.requests;
    cJSON *d = echo("GET", "/redir/remote", NULL, &rc, &e, &r);

    CHECK_INT(rc, -1);
    CHECK(d == NULL);
    CHECK_INT(e.kind, NEMO_E_PROTOCOL);
    CHECK_CONTAINS(e.message, "example.com");
    http_response_free(&r);
    d = echo("GET", "/redir/loop", NULL, &rc, &e, &r);
    CHECK_INT(rc, -1);
    CHECK_CONTAINS(e.message, "Too many redirects");
    CHECK_INT(S.requests - before, 1 + 4);   /* 1 + first + 3 follows */
    http_response_free(&r);
}

TEST(http_error_page_headers)
{
    http_response r;
    nemo_err e;
    int rc;
    cJSON *d = echo("GET", "/error-page", NULL, &rc, &e, &r);

    CHECK_INT(rc, 0);   /* a response is a response */
    CHECK(d == NULL);
    CHECK_INT(r.status, 503);
    CHECK_STR(r.retry_after, "7");
    CHECK_CONTAINS(r.content_type, "text/html");
    CHECK_INT(api_envelope_parse(r.status, r.body.data, r.body.len, &d, &e),
              -1);
    CHECK_INT(e.kind, NEMO_E_SERVER);
    CHECK_CONTAINS(e.message, "503 Service Unavailable");
    http_response_free(&r);
}

/* issue 11 #14: a header line starting with HTTP/ reset the response. */
TEST(http_forged_status_line_is_a_header)
{
    http_response r;
    nemo_err e;
    int rc;
    cJSON *d = echo("GET", "/forged-status", NULL, &rc, &e, &r);

    if (rc != 0)
        printf("#   %s\n", e.message);
    CHECK_INT(rc, 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.content_type, "application/json");
    CHECK(r.content_length > 0);
    CHECK(cJSON_IsObject(d));
    cJSON_Delete(d);
    http_response_free(&r);
}

/* One line fed from an exact-size heap copy: no NUL after it, so ASan
 * catches any read past the length. */
static int hdr_feed(http_header_state *st, const char *line,
                    http_response *r)
{
    size_t n = strlen(line);
    char *copy = malloc(n ? n : 1);
    int rc;

    memcpy(copy, line, n);
    rc = http_header_parse(st, copy, n, r);
    free(copy);
    return rc;
}

TEST(header_parse_is_pure_and_bounded)
{
    http_header_state st;
    http_response r;

    http_response_init(&r);
    http_header_init(&st);
    /* an interim 100, then the real response */
    CHECK_INT(hdr_feed(&st, "HTTP/1.1 100 Continue\r\n", &r), 0);
    CHECK_INT(r.status, 100);
    CHECK_INT(hdr_feed(&st, "\r\n", &r), 0);
    CHECK_INT(hdr_feed(&st, "HTTP/2 429\r\n", &r), 0);
    CHECK_INT(r.status, 429);
    CHECK_INT(hdr_feed(&st, "Retry-After:  12 \r\n", &r), 0);
    CHECK_INT(hdr_feed(&st, "content-type: text/html; charset=x\r\n", &r),
              0);
    CHECK_INT(hdr_feed(&st, "Content-Length: 42\r\n", &r), 0);
    /* mid-block: a header, not a status line */
    CHECK_INT(hdr_feed(&st, "HTTP/1.1 200 OK\r\n", &r), 0);
    CHECK_INT(r.status, 429);
    CHECK_STR(r.retry_after, "12");
    CHECK_STR(r.content_type, "text/html; charset=x");
    CHECK_INT(r.content_length, 42);
    CHECK_INT(hdr_feed(&st, "\r\n", &r), 0);
    /* body bytes, then a trailer that looks like a status line */
    st.body_started = 1;
    CHECK_INT(hdr_feed(&st, "HTTP/1.1 200 OK\r\n", &r), 0);
    CHECK_INT(r.status, 429);
    CHECK_STR(r.content_type, "text/html; charset=x");

    /* malformed status lines and lengths, and no terminating NUL */
    http_header_init(&st);
    CHECK_INT(hdr_feed(&st, "HTTP/1.1 2000 X\r\n", &r), -1);
    CHECK_INT(r.status, 0);
    http_header_init(&st);
    CHECK_INT(hdr_feed(&st, "HTTP/1.1", &r), -1);
    http_header_init(&st);
    CHECK_INT(hdr_feed(&st, "HTTP/1.1 20", &r), -1);
    http_header_init(&st);
    CHECK_INT(hdr_feed(&st, "HTTP/1.1 204", &r), 0);
    CHECK_INT(r.status, 204);
    CHECK_INT(hdr_feed(&st, "Content-Length: 12abc", &r), 0);
    CHECK_INT(r.content_length, -1);
    CHECK_INT(hdr_feed(&st, "Content-Length: 99999999999999999999", &r), 0);
    CHECK_INT(r.content_length, -1);
    CHECK_INT(hdr_feed(&st, "Content-Length: -5", &r), 0);
    CHECK_INT(r.content_length, -1);
    CHECK_INT(hdr_feed(&st, "Content-Length:", &r), 0);
    CHECK_INT(hdr_feed(&st, "", &r), 0);
    CHECK_INT(http_header_parse(&st, NULL, 0, &r), 0);
    http_response_free(&r);
}

TEST(http_plain_http_refused_before_connecting)
{
    http_request q;
    http_response r;
    nemo_err e;

    memset(&q, 0, sizeof q);
    q.method = "GET";
    q.url = "http://example.com/";
    http_response_init(&r);
    CHECK_INT(http_perform(&q, &r, &e), -1);
    CHECK_INT(e.kind, NEMO_E_CONFIG);
    CHECK_INT(r.status, 0);
    CHECK_INT(r.request_sent, 0);
    http_response_free(&r);
}

TEST(http_connection_refused)
{
    http_request q;
    http_response r;
    nemo_err e;

    memset(&q, 0, sizeof q);
    q.method = "GET";
    q.url = "http://127.0.0.1:1/";
    http_response_init(&r);
    CHECK_INT(http_perform(&q, &r, &e), -1);
    CHECK_INT(e.kind, NEMO_E_NETWORK);
    CHECK_INT(r.request_sent, 0);
    CHECK_INT(r.transport_error, CURLE_COULDNT_CONNECT);
    http_response_free(&r);
}

typedef struct stream_seen {
    http_response *resp;
    int first_status;
    int chunks;
    size_t bytes;
} stream_seen;

static int on_stream(void *ctx, const char *d, size_t n)
{
    stream_seen *s = ctx;

    (void)d;
    if (s->chunks++ == 0)
        s->first_status = s->resp->status;
    s->bytes += n;
    return 0;
}

TEST(http_streaming_sees_status_first)
{
    http_request q;
    http_response r;
    stream_seen s;
    nemo_err e;

    memset(&q, 0, sizeof q);
    memset(&s, 0, sizeof s);
    http_response_init(&r);
    s.resp = &r;
    q.method = "GET";
    q.url = url_of("/stream");
    q.on_data = on_stream;
    q.on_data_ctx = &s;
    CHECK_INT(http_perform(&q, &r, &e), 0);
    CHECK_INT(s.first_status, 200);
    CHECK_INT(s.bytes, 45);
    CHECK_INT(r.body.len, 0);   /* streamed, not collected */
    CHECK_CONTAINS(r.content_type, "text/event-stream");
    http_response_free(&r);
}

typedef struct canceller {
    nemo_cancel *c;
    long long delay_ms;
    long long at;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;

    usleep((useconds_t)k->delay_ms * 1000);
    k->at = clock_mono_ms();
    cancel_request(k->c);
    return NULL;
}

TEST(http_cancel_hung_request_promptly)
{
    http_request q;
    http_response r;
    nemo_cancel c;
    canceller k;
    pthread_t t;
    nemo_err e;
    long long done, t0;

    cancel_init(&c);
    memset(&q, 0, sizeof q);
    http_response_init(&r);
    q.method = "GET";
    q.url = url_of("/hang");
    q.cancel = &c;
    k.c = &c;
    k.delay_ms = 300;
    t0 = clock_mono_ms();
    pthread_create(&t, NULL, cancel_later, &k);
    CHECK_INT(http_perform(&q, &r, &e), -1);
    done = clock_mono_ms();
    pthread_join(t, NULL);
    CHECK_INT(e.kind, NEMO_E_CANCELLED);
    printf("#   cancelled %lld ms after the request (%lld ms in all)\n",
           done - k.at, done - t0);
    CHECK(done - t0 >= k.delay_ms);
    CHECK(done - k.at < 250);   /* idle transfer: polled every 50 ms */
    CHECK(r.request_sent);
    http_response_free(&r);
    cancel_destroy(&c);
}

TEST(http_total_timeout)
{
    http_request q;
    http_response r;
    nemo_err e;
    long long t0 = clock_mono_ms();

    memset(&q, 0, sizeof q);
    http_response_init(&r);
    q.method = "GET";
    q.url = url_of("/hang");
    q.total_timeout_ms = 300;
    CHECK_INT(http_perform(&q, &r, &e), -1);
    CHECK_INT(e.kind, NEMO_E_TIMEOUT);
    CHECK(clock_mono_ms() - t0 < 2000);
    http_response_free(&r);
}

typedef struct prog_seen {
    int reports;
    double last;
    char msg[256];
    long long first_ms, last_ms;
} prog_seen;

static void on_progress(void *ctx, double f, const char *msg)
{
    prog_seen *p = ctx;

    if (p->reports++ == 0)
        p->first_ms = clock_mono_ms();
    p->last_ms = clock_mono_ms();
    p->last = f;
    snprintf(p->msg, sizeof p->msg, "%s", msg);
}

TEST(http_multipart_upload_streams_with_progress)
{
    char path[] = "/tmp/nemo-upload-XXXXXX";
    int fd = mkstemp(path);
    static char chunk[1 << 16];
    http_part part = { "files", -1, 48LL << 16, 0, "clip.mp4", "video/mp4" };
    prog_seen ps;
    nemo_progress prog = { on_progress, &ps };
    http_request q;
    http_response r;
    nemo_err e;
    cJSON *d = NULL;
    int i;

    memset(chunk, 'm', sizeof chunk);
    for (i = 0; i < 48; i++)   /* 3 MB */
        CHECK(write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk);
    part.fd = fd;
    memset(&ps, 0, sizeof ps);
    memset(&q, 0, sizeof q);
    http_response_init(&r);
    q.method = "POST";
    q.url = url_of("/upload");
    q.headers = auth_headers;
    q.parts = &part;
    q.nparts = 1;
    q.progress = &prog;
    q.progress_label = "uploading clip.mp4";
    CHECK_INT(http_perform(&q, &r, &e), 0);
    CHECK_INT(r.status, 200);
    api_envelope_parse(r.status, r.body.data, r.body.len, &d, &e);
    CHECK_CONTAINS(jstr(d, "ctype"), "multipart/form-data");
    CHECK(cJSON_GetObjectItem(d, "body_len")->valuedouble > 3 * 1048576);
    CHECK(ps.reports >= 1);
    CHECK(ps.last == 1.0);
    CHECK_CONTAINS(ps.msg, "uploading clip.mp4: 100%");
    CHECK(r.upload_bytes > 3 * 1048576);
    cJSON_Delete(d);
    http_response_free(&r);
    close(fd);
    unlink(path);
}

/* The part is the first `size` bytes of the descriptor, whatever the
 * file does meanwhile: one that ends early fails at once, one that is
 * longer at the end fails before the body completes. */
TEST(http_upload_sends_the_checked_size_only)
{
    char path[] = "/tmp/nemo-upload-XXXXXX";
    int fd = mkstemp(path);
    static char chunk[1 << 16];
    http_part part = { "files", -1, 0, 0, "clip.mp4", "video/mp4" };
    http_request q;
    http_response r;
    nemo_err e;
    int i;

    memset(chunk, 'm', sizeof chunk);
    for (i = 0; i < 16; i++)   /* 1 MB */
        CHECK(write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk);
    part.fd = fd;
    memset(&q, 0, sizeof q);
    q.method = "POST";
    q.url = url_of("/upload");
    q.headers = auth_headers;
    q.parts = &part;
    q.nparts = 1;
    /* checked at 1 MB + 1: it "shrank" */
    part.size = (16LL << 16) + 1;
    http_response_init(&r);
    CHECK_INT(http_perform(&q, &r, &e), -1);
    CHECK_INT(e.kind, NEMO_E_IO);
    CHECK_CONTAINS(e.message, "clip.mp4 shrank after it was checked");
    CHECK(r.upload_bytes <= (double)(16LL << 16) + 1024);
    http_response_free(&r);
    /* checked at 512 KB: it "grew"; no more than 512 KB was read */
    part.size = 8LL << 16;
    http_response_init(&r);
    CHECK_INT(http_perform(&q, &r, &e), -1);
    CHECK_INT(e.kind, NEMO_E_IO);
    CHECK_CONTAINS(e.message, "clip.mp4 grew after it was checked");
    CHECK(r.upload_bytes <= (double)(8LL << 16) + 1024);
    CHECK(r.status == 0 || r.status >= 400);
    http_response_free(&r);
    /* the same size but modified since the check */
    part.size = 16LL << 16;
    part.mtime_ns = 1;
    http_response_init(&r);
    CHECK_INT(http_perform(&q, &r, &e), -1);
    CHECK_CONTAINS(e.message, "was modified after it was checked");
    http_response_free(&r);
    close(fd);
    unlink(path);
}

TEST(http_download_progress_is_throttled)
{
    prog_seen ps;
    nemo_progress prog = { on_progress, &ps };
    http_request q;
    http_response r;
    nemo_err e;

    memset(&ps, 0, sizeof ps);
    memset(&q, 0, sizeof q);
    http_response_init(&r);
    q.method = "GET";
    q.url = url_of("/big");
    q.progress = &prog;
    q.progress_label = "downloading";
    CHECK_INT(http_perform(&q, &r, &e), 0);
    CHECK_INT(r.body.len, 4194304);
    CHECK(ps.last == 1.0);
    CHECK_CONTAINS(ps.msg, "downloading: 100% (4.2 of 4.2 MB)");
    /* ~600 ms of transfer at most every 250 ms, plus the final 100% */
    printf("#   %d progress reports over %lld ms\n", ps.reports,
           ps.last_ms - ps.first_ms);
    CHECK(ps.reports >= 2);
    CHECK(ps.reports <= 2 + (int)((ps.last_ms - ps.first_ms) / 250));
    http_response_free(&r);
}

TEST(http_missing_upload_file)
{
    http_part part = { "files", -1, 10, 0, "clip.mp4", "video/mp4" };
    http_request q;
    http_response r;
    nemo_err e;

    memset(&q, 0, sizeof q);
    http_response_init(&r);
    q.method = "POST";
    q.url = url_of("/upload");
    q.parts = &part;
    q.nparts = 1;
    CHECK_INT(http_perform(&q, &r, &e), -1);
    CHECK_INT(e.kind, NEMO_E_IO);
    http_response_free(&r);
}

int main(void)
{
    RUN(url_policy_table);
    RUN(url_host_and_origin);
    RUN(retry_after_parsing);
    RUN(escape_segment);
    if (http_global_init() != 0 || srv_start() != 0) {
        printf("not ok http_server_start\n");
        return 1;
    }
    RUN(http_basic_headers);
    RUN(http_redirect_same_origin_keeps_auth);
    RUN(http_redirect_other_host_drops_auth);
    RUN(http_redirect_methods);
    RUN(http_redirect_refusals);
    RUN(http_error_page_headers);
    RUN(http_plain_http_refused_before_connecting);
    RUN(http_connection_refused);
    RUN(http_streaming_sees_status_first);
    RUN(http_cancel_hung_request_promptly);
    RUN(http_total_timeout);
    RUN(http_multipart_upload_streams_with_progress);
    RUN(http_download_progress_is_throttled);
    RUN(http_upload_sends_the_checked_size_only);
    RUN(http_missing_upload_file);
    RUN(http_forged_status_line_is_a_header);
    RUN(header_parse_is_pure_and_bounded);
    srv_stop();
    http_global_cleanup();
    return unit_done();
}
