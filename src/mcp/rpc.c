/* rpc.c - newline-delimited JSON-RPC 2.0 framing.
 *
 * The reader hands out one line at a time. A line longer than the cap is
 * never buffered whole: once it passes the cap the reader drops what it
 * holds and skips to the next newline, so a hostile 17 MiB line costs
 * 16 MiB of memory at most and the next message is read in sync.
 *
 * rpc_parse turns a line into a request, a notification, a client response
 * (ignored) or the error to answer with, following JSON-RPC 2.0 as MCP
 * narrows it (request ids are strings or integers, never null; no
 * batches). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcp_internal.h"
#include "nemo/json.h"

#define RPC_CHUNK 65536
#define RPC_MAX_SAFE_INT 9007199254740991.0

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid:
 * no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned char hi = c == 0xED ? 0x9F : 0xBF;

        if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;

        if (n < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

int rpc_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t k;

        /* Fast path over ASCII. */
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        k = utf8_seq(p + i, len - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

int mcp_utf8_sanitize(const char *s, size_t len, nemo_buf *b)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (buf_reserve(b, len + 16) != 0)
        return -1;
    while (i < len) {
        size_t k = utf8_seq(p + i, len - i);

        if (k) {
            if (buf_append(b, s + i, k) != 0)
                return -1;
            i += k;
        } else {
            if (buf_append(b, "\xEF\xBF\xBD", 3) != 0)
                return -1;
            i++;
        }
    }
    return 0;
}

/* ---- the line reader ---- */

void rpc_reader_init(rpc_reader *r, int fd, int wake_fd, size_t max_line)
{
    r->fd = fd;
    r->wake_fd = wake_fd;
    r->max_line = max_line;
    buf_init(&r->buf);
    r->scanned = 0;
    r->consumed = 0;
    r->discarding = 0;
    r->eof = 0;
}

void rpc_reader_free(rpc_reader *r)
{
    buf_free(&r->buf);
}

/* Move the unread tail to the front, once per read rather than per line. */
static void reader_compact(rpc_reader *r)
{
    if (r->consumed) {
        buf_consume(&r->buf, r->consumed);
        r->scanned -= r->consumed;
        r->consumed = 0;
    }
}

/* Wait for input (or the wake fd) and append one chunk. */
static rpc_read_status reader_fill(rpc_reader *r)
{
    struct pollfd pf[2];
    nfds_t nf = 1;
    ssize_t n;

    pf[0].fd = r->fd;
    pf[0].events = POLLIN;
    if (r->wake_fd >= 0) {
        pf[1].fd = r->wake_fd;
        pf[1].events = POLLIN;
        nf = 2;
    }
    for (;;) {
        pf[0].revents = 0;
        if (nf == 2)
            pf[1].revents = 0;
        if (poll(pf, nf, -1) < 0) {
            if (errno == EINTR)
                continue;
            return RPC_IOERR;
        }
        if (nf == 2 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
            return RPC_WOKEN;
        if (pf[0].revents)
            break;
    }
    reader_compact(r);
    if (buf_reserve(&r->buf, RPC_CHUNK) != 0)
        return RPC_IOERR;
    do
        n = read(r->fd, r->buf.data + r->buf.len, RPC_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? RPC_LINE : RPC_IOERR;
    if (n == 0) {
        r->eof = 1;
        return RPC_LINE;
    }
    r->buf.len += (size_t)n;
    r->buf.data[r->buf.len] = '\0';
    return RPC_LINE;  /* "filled": the caller scans again */
}

static void reader_take(rpc_reader *r, size_t end, size_t next, char **line,
                        size_t *len)
{
    char *start = r->buf.data + r->consumed;
    size_t n = end - r->consumed;

    if (n > 0 && start[n - 1] == '\r')
        n--;
    start[n] = '\0';
    *line = start;
    *len = n;
    r->consumed = next;
    r->scanned = next;
}

rpc_read_status rpc_read_line(rpc_reader *r, char **line, size_t *len)
{
    for (;;) {
        size_t from = r->scanned > r->consumed ? r->scanned : r->consumed;
        char *nl = NULL;
        rpc_read_status st;

        if (r->buf.len > from)
            nl = memchr(r->buf.data + from, '\n', r->buf.len - from);
        if (nl) {
            size_t end = (size_t)(nl - r->buf.data);

            if (r->discarding || end - r->consumed > r->max_line) {
                r->discarding = 0;
                r->consumed = r->scanned = end + 1;
                return RPC_TOOLONG;
            }
            reader_take(r, end, end + 1, line, len);
            return RPC_LINE;
        }
        r->scanned = r->buf.len;
        if (r->buf.len - r->consumed > r->max_line)
            r->discarding = 1;
        if (r->discarding) {
            /* Keep nothing of an over-long line. */
            buf_reset(&r->buf);
            r->consumed = r->scanned = 0;
        }
        if (r->eof) {
            if (r->discarding) {
                r->discarding = 0;
                return RPC_TOOLONG;
            }
            if (r->buf.len > r->consumed) {
                /* A last message without its newline still counts. */
                if (buf_reserve(&r->buf, 1) != 0)
                    return RPC_IOERR;
                reader_take(r, r->buf.len, r->buf.len, line, len);
                return RPC_LINE;
            }
            return RPC_EOF;
        }
        st = reader_fill(r);
        if (st != RPC_LINE)
            return st;
    }
}

/* ---- classification ---- */

static int id_valid(const cJSON *id)
{
    double v;

    if (cJSON_IsString(id))
        return 1;
    if (!cJSON_IsNumber(id))
        return 0;
    v = id->valuedouble;
    return v >= -RPC_MAX_SAFE_INT && v <= RPC_MAX_SAFE_INT &&
           v == (double)(long long)v;
}

static int all_space(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static void set_error(rpc_msg *m, int code, const cJSON *id, const char *msg)
{
    m->kind = RPC_MSG_ERROR;
    m->code = code;
    snprintf(m->message, sizeof m->message, "%s", msg);
    m->err_id = id && id_valid(id) ? cJSON_Duplicate(id, 1) : NULL;
}

void rpc_parse(const char *line, size_t len, rpc_msg *m)
{
    const char *end = NULL;
    const cJSON *id, *method, *params, *ver;
    json_shape shape;

    memset(m, 0, sizeof *m);
    if (all_space(line, len)) {
        m->kind = RPC_MSG_EMPTY;
        return;
    }
    if (!rpc_utf8_valid(line, len)) {
        set_error(m, RPC_PARSE_ERROR, NULL, "Parse error: invalid UTF-8");
        return;
    }
    if (memchr(line, '\0', len)) {
        set_error(m, RPC_PARSE_ERROR, NULL, "Parse error: NUL byte in message");
        return;
    }
    /* Long strings cost what they weigh, but "[0,0,..." costs ~80 bytes of
     * nodes per 2 bytes of line: bound values and nesting before cJSON
     * builds anything (the line itself is bounded by the reader). */
    json_measure(line, len, &shape);
    if (shape.nodes > JSON_MAX_NODES || shape.depth > JSON_MAX_DEPTH) {
        set_error(m, RPC_PARSE_ERROR, NULL,
                  shape.depth > JSON_MAX_DEPTH
                      ? "Parse error: nested too deeply"
                      : "Parse error: too many values in one message");
        return;
    }
    m->root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!m->root || !end || !all_space(end, len - (size_t)(end - line))) {
        cJSON_Delete(m->root);
        m->root = NULL;
        set_error(m, RPC_PARSE_ERROR, NULL, "Parse error: not valid JSON");
        return;
    }
    if (cJSON_IsArray(m->root)) {
        set_error(m, RPC_INVALID_REQUEST, NULL,
                  "Invalid Request: batches (JSON arrays) are not supported; "
                  "send one message per line");
        return;
    }
    if (!cJSON_IsObject(m->root)) {
        set_error(m, RPC_INVALID_REQUEST, NULL,
                  "Invalid Request: a message must be a JSON object");
        return;
    }
    id = cJSON_GetObjectItemCaseSensitive(m->root, "id");
    method = cJSON_GetObjectItemCaseSensitive(m->root, "method");
    params = cJSON_GetObjectItemCaseSensitive(m->root, "params");
    ver = cJSON_GetObjectItemCaseSensitive(m->root, "jsonrpc");
    if (!method && (cJSON_GetObjectItemCaseSensitive(m->root, "result") ||
                    cJSON_GetObjectItemCaseSensitive(m->root, "error"))) {
        m->kind = RPC_MSG_RESPONSE;
        m->id = id;
        return;
    }
    if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0) {
        set_error(m, RPC_INVALID_REQUEST, id,
                  "Invalid Request: \"jsonrpc\" must be \"2.0\"");
        return;
    }
    if (id && !id_valid(id)) {
        set_error(m, RPC_INVALID_REQUEST, NULL,
                  "Invalid Request: \"id\" must be a string or an integer");
        return;
    }
    if (!cJSON_IsString(method)) {
        set_error(m, RPC_INVALID_REQUEST, id,
                  "Invalid Request: \"method\" must be a string");
        return;
    }
    if (params && !cJSON_IsObject(params)) {
        if (!id) {
            /* A notification is never answered, even a bad one. */
            m->kind = RPC_MSG_NOTIFICATION;
            m->method = method->valuestring;
            m->params = NULL;
            return;
        }
        set_error(m, cJSON_IsArray(params) ? RPC_INVALID_PARAMS
                                           : RPC_INVALID_REQUEST,
                  id, "Invalid params: \"params\" must be an object");
        return;
    }
    m->kind = id ? RPC_MSG_REQUEST : RPC_MSG_NOTIFICATION;
    m->id = id;
    m->method = method->valuestring;
    m->params = params;
}

void rpc_msg_free(rpc_msg *m)
{
    cJSON_Delete(m->root);
    cJSON_Delete(m->err_id);
    memset(m, 0, sizeof *m);
}

char *rpc_id_key(const cJSON *id)
{
    char num[40];
    size_t n;
    char *k;

    if (cJSON_IsString(id)) {
        n = strlen(id->valuestring);
        k = malloc(n + 3);
        if (k) {
            memcpy(k, "s:", 2);
            memcpy(k + 2, id->valuestring, n + 1);
        }
        return k;
    }
    if (!id_valid(id))
        return NULL;
    snprintf(num, sizeof num, "n:%.0f", id->valuedouble);
    return strdup(num);
}

/* ---- builders ---- */

static cJSON *envelope(const cJSON *id, int with_id)
{
    cJSON *m = cJSON_CreateObject();

    if (!m)
        return NULL;
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    if (with_id)
        cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1)
                                          : cJSON_CreateNull());
    return m;
}

cJSON *rpc_result(const cJSON *id, cJSON *result)
{
    cJSON *m = envelope(id, 1);

    if (!m) {
        cJSON_Delete(result);
        return NULL;
    }
    cJSON_AddItemToObject(m, "result", result ? result : cJSON_CreateObject());
    return m;
}

/* When the request's id could not be read (parse error, invalid request)
 * the error carries "id": null, as JSON-RPC 2.0 section 5 requires. MCP's
 * schemas type id as string or integer, but no well-formed request from a
 * client can draw such an error, so SDK clients never see it. */
cJSON *rpc_error(const cJSON *id, int code, const char *message, cJSON *data)
{
    cJSON *m = envelope(id, 1), *e = cJSON_CreateObject();

    if (!m || !e) {
        cJSON_Delete(m);
        cJSON_Delete(e);
        cJSON_Delete(data);
        return NULL;
    }
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    if (data)
        cJSON_AddItemToObject(e, "data", data);
    cJSON_AddItemToObject(m, "error", e);
    return m;
}

cJSON *rpc_notification(const char *method, cJSON *params)
{
    cJSON *m = envelope(NULL, 0);

    if (!m) {
        cJSON_Delete(params);
        return NULL;
    }
    cJSON_AddStringToObject(m, "method", method);
    if (params)
        cJSON_AddItemToObject(m, "params", params);
    return m;
}
