/* test_clientreq.c - requests from the server to the client
 * (src/mcp/clientreq.c): ids, routing of the answer to the waiting thread,
 * errors, timeout, cancellation, shutdown, the async form, and the
 * capability flags. The "client" is this test: it reads the server's pipe
 * and answers through mcp_clientreq_route as the reader thread would. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/mcp/mcp_internal.h"
#include "unit.h"

typedef struct fixture {
    mcp_server s;
    int out[2];        /* server writes out[1], the test reads out[0] */
} fixture;

static void fx_init(fixture *f, int handshake)
{
    memset(f, 0, sizeof *f);
    if (pipe(f->out) != 0)
        abort();
    pthread_mutex_init(&f->s.mu, NULL);
    pthread_cond_init(&f->s.cv, NULL);
    mcp_out_init(&f->s.out, f->out[1], -1);
    f->s.session = handshake ? mcp_version_latest_handshake() : NULL;
}

static void fx_free(fixture *f)
{
    mcp_out_destroy(&f->s.out);
    close(f->out[0]);
    close(f->out[1]);
    pthread_cond_destroy(&f->s.cv);
    pthread_mutex_destroy(&f->s.mu);
}

/* One line the server wrote, parsed. */
static cJSON *read_msg(fixture *f)
{
    char line[4096];
    size_t n = 0;

    while (n + 1 < sizeof line && read(f->out[0], line + n, 1) == 1 &&
           line[n] != '\n')
        n++;
    line[n] = '\0';
    return cJSON_Parse(line);
}

static void answer(fixture *f, const char *json)
{
    rpc_msg m;

    rpc_parse(json, strlen(json), &m);
    CHECK_INT(m.kind, RPC_MSG_RESPONSE);
    mcp_clientreq_route(&f->s, &m);
    rpc_msg_free(&m);
}

typedef struct waiter {
    fixture *f;
    mcp_req req;
    nemo_cancel *cancel;
    long long timeout_ms;
    int rc;
    cJSON *result, *error;
    pthread_t t;
} waiter;

static void *wait_main(void *arg)
{
    waiter *w = arg;
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "message", "which one?");
    w->rc = mcp_client_request(&w->f->s, &w->req, w->cancel,
                               "elicitation/create", p, w->timeout_ms,
                               &w->result, &w->error);
    return NULL;
}

static void start(waiter *w, fixture *f, long long timeout_ms)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->timeout_ms = timeout_ms;
    pthread_create(&w->t, NULL, wait_main, w);
}

static void finish_free(waiter *w)
{
    cJSON_Delete(w->result);
    cJSON_Delete(w->error);
}

TEST(result_reaches_the_waiting_thread)
{
    fixture f;
    waiter w;
    cJSON *req;
    char resp[200];

    fx_init(&f, 1);
    start(&w, &f, 5000);
    req = read_msg(&f);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(req, "method")),
              "elicitation/create");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(req, "id")));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(req, "jsonrpc")),
              "2.0");
    /* An answer to an id we never sent changes nothing. */
    answer(&f, "{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":{}}");
    answer(&f, "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":{}}");
    answer(&f, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":{}}");
    answer(&f, "{\"jsonrpc\":\"2.0\",\"id\":1e300,\"result\":{}}");
    snprintf(resp, sizeof resp, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
             "\"result\":{\"action\":\"accept\"}}",
             cJSON_GetObjectItem(req, "id")->valueint);
    answer(&f, resp);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_OK);
    CHECK(f.s.creq_next_id == 1);
    /* Only the answer with our id reached the waiter. */
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(w.result, "action")),
              "accept");
    finish_free(&w);
    cJSON_Delete(req);
    fx_free(&f);
}

TEST(result_object_is_handed_over)
{
    fixture f;
    waiter w;
    cJSON *req;
    char resp[200];

    fx_init(&f, 1);
    start(&w, &f, 5000);
    req = read_msg(&f);
    snprintf(resp, sizeof resp, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
             "\"result\":{\"action\":\"decline\"}}",
             cJSON_GetObjectItem(req, "id")->valueint);
    answer(&f, resp);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_OK);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(w.result, "action")),
              "decline");
    CHECK(w.error == NULL);
    cJSON_Delete(w.result);
    cJSON_Delete(req);
    CHECK(f.s.pending == NULL);
    fx_free(&f);
}

TEST(error_and_malformed_answers)
{
    fixture f;
    waiter w;
    cJSON *req;
    char resp[200];

    fx_init(&f, 1);
    start(&w, &f, 5000);
    req = read_msg(&f);
    snprintf(resp, sizeof resp, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"error\":"
             "{\"code\":-32601,\"message\":\"no\"}}",
             cJSON_GetObjectItem(req, "id")->valueint);
    answer(&f, resp);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_ERROR);
    CHECK_INT(cJSON_GetObjectItem(w.error, "code")->valueint, -32601);
    cJSON_Delete(w.error);
    cJSON_Delete(req);

    /* A "result" that is not an object is an error, never a result. */
    start(&w, &f, 5000);
    req = read_msg(&f);
    snprintf(resp, sizeof resp, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
             "\"result\":\"yes\"}", cJSON_GetObjectItem(req, "id")->valueint);
    answer(&f, resp);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_ERROR);
    CHECK(w.result == NULL);
    cJSON_Delete(w.error);
    cJSON_Delete(req);
    fx_free(&f);
}

TEST(timeout_tells_the_client)
{
    fixture f;
    waiter w;
    cJSON *req, *note;

    fx_init(&f, 1);
    start(&w, &f, 30);
    req = read_msg(&f);
    note = read_msg(&f);   /* written when the wait ends */
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_TIMEOUT);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(note, "method")),
              "notifications/cancelled");
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(note, "params"),
                                  "requestId")->valueint,
              cJSON_GetObjectItem(req, "id")->valueint);
    CHECK(f.s.pending == NULL);
    cJSON_Delete(req);
    cJSON_Delete(note);
    fx_free(&f);
}

TEST(cancel_and_shutdown_end_the_wait)
{
    fixture f;
    waiter w;
    nemo_cancel c;
    cJSON *req, *note;

    fx_init(&f, 1);
    cancel_init(&c);
    memset(&w, 0, sizeof w);
    w.f = &f;
    w.cancel = &c;
    w.timeout_ms = 60000;
    pthread_create(&w.t, NULL, wait_main, &w);
    req = read_msg(&f);
    cancel_request(&c);
    note = read_msg(&f);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_CANCELLED);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(note, "method")),
              "notifications/cancelled");
    cJSON_Delete(req);
    cJSON_Delete(note);
    cancel_destroy(&c);

    start(&w, &f, 60000);
    req = read_msg(&f);
    pthread_mutex_lock(&f.s.mu);
    f.s.stopping = 1;
    pthread_mutex_unlock(&f.s.mu);
    mcp_clientreq_stop(&f.s);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_CLOSED);
    cJSON_Delete(req);
    /* Once stopping, nothing more is sent. */
    start(&w, &f, 60000);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_CLOSED);
    fx_free(&f);
}

TEST(never_to_a_stateless_client)
{
    fixture f;
    waiter w;

    fx_init(&f, 0);        /* no initialize: a 2026-07-28 client */
    start(&w, &f, 1000);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_UNSUPPORTED);
    fx_free(&f);

    fx_init(&f, 1);        /* handshake session, but a 2026 request */
    memset(&w, 0, sizeof w);
    w.f = &f;
    w.timeout_ms = 1000;
    w.req.modern = 1;
    pthread_create(&w.t, NULL, wait_main, &w);
    pthread_join(w.t, NULL);
    CHECK_INT(w.rc, MCP_CREQ_UNSUPPORTED);
    fx_free(&f);
}

static int async_status = -1;
static char async_seen[64];

static void on_answer(void *ctx, int status, const cJSON *result,
                      const cJSON *error)
{
    const cJSON *roots = cJSON_GetObjectItem(result, "roots");

    (void)ctx;
    (void)error;
    async_status = status;
    snprintf(async_seen, sizeof async_seen, "%d",
             cJSON_GetArraySize(roots));
}

TEST(async_request_runs_its_callback)
{
    fixture f;
    cJSON *req;
    char resp[200];

    fx_init(&f, 1);
    CHECK_INT(mcp_client_request_async(&f.s, "roots/list", NULL, on_answer,
                                       NULL), 0);
    req = read_msg(&f);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(req, "method")),
              "roots/list");
    snprintf(resp, sizeof resp, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":"
             "{\"roots\":[{\"uri\":\"file:///tmp\"}]}}",
             cJSON_GetObjectItem(req, "id")->valueint);
    answer(&f, resp);
    CHECK_INT(async_status, MCP_CREQ_OK);
    CHECK_STR(async_seen, "1");
    cJSON_Delete(req);

    /* Shutdown answers the ones still out. */
    async_status = -1;
    CHECK_INT(mcp_client_request_async(&f.s, "roots/list", NULL, on_answer,
                                       NULL), 0);
    cJSON_Delete(read_msg(&f));
    mcp_clientreq_stop(&f.s);
    CHECK_INT(async_status, MCP_CREQ_CLOSED);
    CHECK(f.s.pending == NULL);
    fx_free(&f);
}

static unsigned caps(const char *json)
{
    cJSON *c = cJSON_Parse(json);
    unsigned f = mcp_client_caps_parse(c);

    cJSON_Delete(c);
    return f;
}

TEST(capability_flags)
{
    CHECK_INT(caps("{}"), 0);
    CHECK_INT(caps("{\"elicitation\":{}}"), MCP_CAP_ELICIT_FORM);
    CHECK_INT(caps("{\"elicitation\":{\"form\":{}}}"), MCP_CAP_ELICIT_FORM);
    CHECK_INT(caps("{\"elicitation\":{\"url\":{}}}"), MCP_CAP_ELICIT_URL);
    CHECK_INT(caps("{\"elicitation\":{\"form\":{},\"url\":{}}}"),
              MCP_CAP_ELICIT_FORM | MCP_CAP_ELICIT_URL);
    CHECK_INT(caps("{\"elicitation\":true}"), 0);
    CHECK_INT(caps("{\"roots\":{\"listChanged\":true}}"),
              MCP_CAP_ROOTS | MCP_CAP_ROOTS_CHANGED);
    CHECK_INT(caps("{\"roots\":{}}"), MCP_CAP_ROOTS);
    CHECK_INT(caps("{\"sampling\":{},\"extensions\":{"
                   "\"io.modelcontextprotocol/tasks\":{}}}"),
              MCP_CAP_SAMPLING | MCP_CAP_TASKS);
    CHECK_INT(caps("null"), 0);
}

int main(void)
{
    RUN(result_reaches_the_waiting_thread);
    RUN(result_object_is_handed_over);
    RUN(error_and_malformed_answers);
    RUN(timeout_tells_the_client);
    RUN(cancel_and_shutdown_end_the_wait);
    RUN(never_to_a_stateless_client);
    RUN(async_request_runs_its_callback);
    RUN(capability_flags);
    return unit_done();
}
