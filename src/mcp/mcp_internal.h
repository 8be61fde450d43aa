/* mcp_internal.h - what the files of src/mcp/ share: the writer, the line
 * reader, request classification, protocol-version features, the server
 * state and the in-flight call record. Not a public contract. */
#ifndef NEMO_MCP_INTERNAL_H
#define NEMO_MCP_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "nemo/buf.h"
#include "nemo/cancel.h"
#include "nemo/log.h"
#include "nemo/mcp.h"
#include "nemo/progress.h"
#include "nemo/tool.h"

/* JSON-RPC and MCP error codes. */
#define RPC_PARSE_ERROR       (-32700)
#define RPC_INVALID_REQUEST   (-32600)
#define RPC_METHOD_NOT_FOUND  (-32601)
#define RPC_INVALID_PARAMS    (-32602)
#define RPC_INTERNAL_ERROR    (-32603)
#define MCP_MISSING_CLIENT_CAP (-32021)
#define MCP_UNSUPPORTED_VERSION (-32022)

#define MCP_MAX_CALLS 32              /* tool calls running at once */
#define MCP_SERVER_NAME "nemo-mcp"
#define MCP_SERVER_TITLE "NemoVideo"
#define MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_LOGLEVEL "io.modelcontextprotocol/logLevel"
#define MCP_META_SERVERINFO "io.modelcontextprotocol/serverInfo"
#define MCP_EXT_TASKS "io.modelcontextprotocol/tasks"
#define MCP_LIST_TTL_MS 3600000       /* tools never change within a binary */

/* ---- out.c: the one writer of stdout ---- */
typedef struct mcp_out {
    int fd;
    pthread_mutex_t mu;
    int broken;         /* EPIPE or another write error: stop writing */
    int wake_fd;        /* written once when the stream breaks; -1 none */
} mcp_out;

void mcp_out_init(mcp_out *o, int fd, int wake_fd);
void mcp_out_destroy(mcp_out *o);
/* Serialise msg and write it plus '\n' whole. Takes nothing. 0 ok. */
int mcp_out_send(mcp_out *o, const cJSON *msg);
/* Write one already-serialised message (no newline inside). 0 ok. */
int mcp_out_send_text(mcp_out *o, const char *text, size_t len);
int mcp_out_broken(mcp_out *o);
/* Replace each invalid UTF-8 sequence of s (len bytes) by U+FFFD into b. */
int mcp_utf8_sanitize(const char *s, size_t len, nemo_buf *b);

/* ---- rpc.c: framing and classification ---- */
typedef enum {
    RPC_LINE = 0,   /* *line holds one message (without LF / CR) */
    RPC_TOOLONG,    /* a line over MCP_MAX_LINE was skipped */
    RPC_EOF,
    RPC_WOKEN,      /* the wake fd became readable */
    RPC_IOERR
} rpc_read_status;

typedef struct rpc_reader {
    int fd;
    int wake_fd;            /* -1: none */
    size_t max_line;
    nemo_buf buf;           /* bytes read, not yet returned */
    size_t scanned;         /* buf[0..scanned) holds no LF */
    size_t consumed;        /* bytes of buf already handed out */
    int discarding;         /* inside an over-long line */
    int eof;
} rpc_reader;

void rpc_reader_init(rpc_reader *r, int fd, int wake_fd, size_t max_line);
void rpc_reader_free(rpc_reader *r);
/* Next line; *line stays valid until the next call. Blocks in poll(). */
rpc_read_status rpc_read_line(rpc_reader *r, char **line, size_t *len);

int rpc_utf8_valid(const char *s, size_t len);

typedef enum {
    RPC_MSG_REQUEST = 0,
    RPC_MSG_NOTIFICATION,
    RPC_MSG_RESPONSE,   /* a response sent by the client: ignored */
    RPC_MSG_ERROR,      /* answer with code/message/id */
    RPC_MSG_EMPTY       /* blank line: ignored */
} rpc_msg_kind;

typedef struct rpc_msg {
    rpc_msg_kind kind;
    cJSON *root;          /* owned: the parsed message (NULL on error) */
    const cJSON *id;      /* in root; NULL for notifications */
    const char *method;   /* in root */
    const cJSON *params;  /* in root; NULL when absent */
    int code;             /* RPC_MSG_ERROR */
    char message[160];
    cJSON *err_id;        /* RPC_MSG_ERROR: owned id copy, NULL -> null */
} rpc_msg;

/* Parse and classify one line. Always fills m; free with rpc_msg_free. */
void rpc_parse(const char *line, size_t len, rpc_msg *m);
void rpc_msg_free(rpc_msg *m);
/* Canonical text of an id for table keys: "s:<str>" or "n:<int>";
 * malloc'd, NULL when id is not a valid request id. */
char *rpc_id_key(const cJSON *id);
/* Message builders (return owned trees). rpc_result: id NULL -> null;
 * rpc_error: id NULL -> no "id" member (MCP's schema has no null ids). */
cJSON *rpc_result(const cJSON *id, cJSON *result);
cJSON *rpc_error(const cJSON *id, int code, const char *message, cJSON *data);
cJSON *rpc_notification(const char *method, cJSON *params);

/* ---- proto.c: protocol versions, per-request context ---- */
enum {
    MCP_F_ANNOTATIONS = 1 << 0,   /* tool annotations (2025-03-26) */
    MCP_F_STRUCTURED = 1 << 1,    /* outputSchema, structuredContent, title */
    MCP_F_MODERN = 1 << 2,        /* stateless: resultType, _meta, caching */
    MCP_F_STRUCT_ANY = 1 << 3,    /* structuredContent may be a non-object */
    MCP_F_COMPLETIONS = 1 << 4,   /* completions capability (2025-03-26) */
    MCP_F_LINKS = 1 << 5,         /* resource_link content (2025-06-18) */
    MCP_F_ICONS = 1 << 6          /* icons on server, tools (2025-11-25) */
};

typedef struct mcp_version {
    const char *name;
    unsigned features;
} mcp_version;

/* Newest handshake version, and the lookup; NULL when unknown. */
const mcp_version *mcp_version_find(const char *name);
const mcp_version *mcp_version_latest_handshake(void);
const mcp_version *mcp_version_modern(void);
/* All supported versions, newest first (owned array). */
cJSON *mcp_versions_json(void);

/* MCP log severities, ascending (debug = 0 .. emergency = 7). */
int mcp_log_severity(const char *name);       /* -1 when not a level */
int mcp_log_severity_of(enum log_level level);
const char *mcp_log_level_name(enum log_level level);

typedef struct mcp_req {
    const cJSON *id;
    const char *method;
    const cJSON *params;             /* may be NULL */
    const mcp_version *version;      /* shapes of results for this request */
    int modern;                      /* served statelessly (2026-07-28) */
    int log_severity;                /* modern: -1 = no notifications/message */
    int tasks_ok;                    /* client declared the tasks extension */
    const cJSON *progress_token;     /* in params._meta; NULL none */
    unsigned client_caps;            /* MCP_CAP_*: this request's era */
} mcp_req;

/* Fill req from a request (or notification) message and the handshake
 * version. On a protocol problem returns -1 and *err is an error response
 * to send (owned). */
int mcp_req_init(mcp_req *req, const rpc_msg *m, const mcp_version *session,
                 cJSON **err);
/* Finish a result for the request's era: resultType "complete" and the
 * serverInfo _meta when modern. Returns result. */
cJSON *mcp_result_finish(const mcp_req *req, cJSON *result);
cJSON *mcp_server_info(const mcp_version *v);
const char *mcp_instructions(void);
/* tools/list result body for a version (owned). */
cJSON *mcp_tools_list(const mcp_version *v);
/* CallToolResult body from a tool result (owned). */
cJSON *mcp_call_result(const mcp_req *req, const nemo_result *r);

/* ---- server.c / call.c: the server and its calls ---- */
typedef struct mcp_server mcp_server;
typedef struct mcp_pending mcp_pending;   /* clientreq.c */
typedef struct mcp_askstate mcp_askstate; /* elicitation.c */

typedef struct mcp_call {
    mcp_server *srv;
    int refs;                   /* under srv->mu */
    char *key;                  /* rpc_id_key of the request id, owned */
    cJSON *msg;                 /* owned request message */
    mcp_req req;                /* points into msg */
    cJSON *progress_token;      /* owned copy or NULL */
    nemo_cancel cancel;
    pthread_mutex_t mu;         /* guards the fields below + writes */
    int done;                   /* response sent (or suppressed) */
    int cancelled;              /* notifications/cancelled arrived */
    long long started_ms;       /* monotonic */
    long long last_sent_ms;     /* last progress notification, monotonic */
    double progress_seq;        /* last progress value sent */
    int progress_held;          /* a throttled message is not sent yet */
    char last_message[256];
    nemo_progress sink;
    /* What answers the request on the worker: NULL for tools/call, else
     * another slow method (resources/read). Returns the response or NULL
     * for none. */
    cJSON *(*run)(struct mcp_call *c);
    tool_asker asker;           /* elicitation.c */
    char url_elicit_id[40];     /* an accepted URL elicitation's id */
    cJSON *ask_saved;           /* stateless era: the question to send */
    cJSON *resumed_saved;       /* a retried call's question + resume */
    cJSON *resumed_answers;     /* and the person's answers */
    struct mcp_call *next;      /* in srv->calls */
} mcp_call;

struct mcp_server {
    tool_env *env;
    mcp_out out;
    pthread_mutex_t mu;         /* calls, active, ticker state, session */
    pthread_cond_t cv;
    mcp_call *calls;
    int active;                 /* worker threads alive */
    pthread_t *ended;           /* workers that finished, to be joined */
    size_t nended, ended_cap;
    int stopping;
    const mcp_version *session;  /* negotiated by initialize; NULL before */
    int session_log_severity;    /* logging/setLevel; -1 none */
    long long heartbeat_ms;
    int ticker_started;
    pthread_t ticker;
    int wake[2];                /* writer -> reader: the stream broke */
    unsigned client_caps;       /* MCP_CAP_* declared by initialize */
    mcp_pending *pending;       /* requests sent to the client */
    long long creq_next_id;
    mcp_askstate *asks;         /* stateless-era questions awaiting answers */
};

/* server.c: answer req on a worker thread with run (NULL: tools/call),
 * tracked like a tool call (cancellable, counted against MCP_MAX_CALLS).
 * Takes m->root when started (returns NULL); else the error to send. */
cJSON *mcp_server_start_worker(mcp_server *srv, mcp_req *req, rpc_msg *m,
                               cJSON *(*run)(mcp_call *c));
/* server.c: remove c from the in-flight list and drop the list's
 * reference (never the last one). Caller holds srv->mu. */
void mcp_server_unlink(mcp_server *srv, mcp_call *c);
/* The last thing a worker does: count itself out, leave its thread id to
 * be joined. */
void mcp_server_worker_done(mcp_server *srv);

/* call.c */
void mcp_call_setup(mcp_call *c);
void *mcp_call_main(void *arg);
void mcp_call_unref(mcp_call *c);
/* Send a progress notification now (heartbeat or report). Locks c->mu. */
void mcp_call_progress(mcp_call *c, const char *message, int heartbeat);
/* Route log lines of this process to srv (NULL: stop). */
void mcp_log_attach(mcp_server *srv);
/* The log observer: forwards log lines as notifications/message. */
void mcp_log_observer(void *ctx, enum log_level level, const char *module,
                      const char *line);

/* ---- icons.c ---- */
/* The icons array for "server" or a tool name (owned), NULL when none. */
cJSON *mcp_icons(const char *name);
/* Add "icons" to obj when the revision has them. */
void mcp_icons_add(cJSON *obj, const char *name, const mcp_version *v);

/* ---- resources.c: timeline and saved videos as resources ---- */
#define MCP_RES_TEMPLATE "nemo://sessions/{session}/timeline"
/* Listen to the tools' events (timeline changed, video saved) for s. */
void mcp_resources_attach(mcp_server *s);
/* Stop listening; end open subscriptions/listen streams gracefully. */
void mcp_resources_detach(mcp_server *s);
/* Method handlers (the server's method table). */
cJSON *mcp_m_resources_list(mcp_server *s, mcp_req *req, rpc_msg *m);
cJSON *mcp_m_resources_templates(mcp_server *s, mcp_req *req, rpc_msg *m);
cJSON *mcp_m_resources_read(mcp_server *s, mcp_req *req, rpc_msg *m);
cJSON *mcp_m_resources_subscribe(mcp_server *s, mcp_req *req, rpc_msg *m);
cJSON *mcp_m_subscriptions_listen(mcp_server *s, mcp_req *req, rpc_msg *m);
/* notifications/cancelled for a subscriptions/listen id: 1 when key was
 * an open stream (now closed), else 0. */
int mcp_resources_cancel(const char *key);
/* A result that saved a file (structured "status":"completed" with "path"
 * and "bytes") gets a resource_link to it, where the revision has them. */
void mcp_resource_links(const mcp_req *req, const nemo_result *r,
                        cJSON *content);
/* Percent-decode s[0..len) into out (no NUL or control characters,
 * not empty); 0 ok. */
int mcp_uri_decode(const char *s, size_t len, char *out, size_t n);
/* The local path of a file:// URI (file:///p or file://localhost/p),
 * percent-decoded; -1 for anything else. */
int mcp_file_uri_path(const char *uri, char *out, size_t n);
/* Sessions to offer for the template's {session} (owned array). */
cJSON *mcp_resources_sessions(mcp_server *s);

/* ---- roots.c: the host's folders bound file access (handshake era) ---- */
#define MCP_ROOTS_WAIT_MS 5000   /* a tool call waits this long for them */
/* notifications/initialized and notifications/roots/list_changed: ask a
 * client that declared roots for them (reader thread). */
void mcp_roots_notification(mcp_server *s, const char *method);
/* A roots/list result into fspolicy's host roots; 0 when applied. */
int mcp_roots_apply(const cJSON *result);
/* Wait (at most ms) while a roots/list is unanswered. */
void mcp_roots_wait(long long ms);
/* Forget the host's roots (shutdown). */
void mcp_roots_reset(void);

/* ---- prompts.c / completion.c ---- */
cJSON *mcp_m_prompts_list(mcp_server *s, mcp_req *req, rpc_msg *m);
cJSON *mcp_m_prompts_get(mcp_server *s, mcp_req *req, rpc_msg *m);
cJSON *mcp_m_complete(mcp_server *s, mcp_req *req, rpc_msg *m);
/* How a prompt argument is completed (completion.c reads prompts.c's
 * table). */
typedef enum {
    MCP_ARG_FREE = 0,     /* no suggestions */
    MCP_ARG_CHOICE,       /* one of choices[] (fixed set or suggestions) */
    MCP_ARG_MEDIA_FILE,   /* a file upload accepts, inside the read roots */
    MCP_ARG_FOLDER        /* a folder inside the write roots */
} mcp_arg_kind;
/* The argument's kind and, for MCP_ARG_CHOICE, its NULL-terminated
 * choices; -1 when the prompt or argument does not exist. */
int mcp_prompt_arg(const char *prompt, const char *arg, mcp_arg_kind *kind,
                   const char *const **choices);

/* ---- clientreq.c: requests to the client, its capabilities ---- */
/* What a client declared. Handshake era: initialize's capabilities, kept
 * in mcp_server.client_caps and copied into every request's
 * mcp_req.client_caps; stateless era: each request's _meta
 * io.modelcontextprotocol/clientCapabilities. Read req->client_caps: it
 * is right for the request's era. */
enum {
    MCP_CAP_ELICIT_FORM = 1 << 0,    /* elicitation {} or {form} */
    MCP_CAP_ELICIT_URL = 1 << 1,     /* elicitation {url} */
    MCP_CAP_ROOTS = 1 << 2,
    MCP_CAP_ROOTS_CHANGED = 1 << 3,  /* roots.listChanged (handshake era) */
    MCP_CAP_SAMPLING = 1 << 4,
    MCP_CAP_TASKS = 1 << 5           /* extensions: tasks (2026-07-28) */
};
unsigned mcp_client_caps_parse(const cJSON *caps);

enum {
    MCP_CREQ_OK = 0,        /* *result: the client's result object */
    MCP_CREQ_ERROR,         /* *error: the client's error object */
    MCP_CREQ_TIMEOUT,
    MCP_CREQ_CANCELLED,     /* the call's cancel token fired */
    MCP_CREQ_CLOSED,        /* shutting down, or stdout is gone */
    MCP_CREQ_UNSUPPORTED,   /* stateless-era request, or no handshake */
    MCP_CREQ_BUSY           /* too many requests outstanding */
};
/* Send method(params) to the client and wait for its answer, at most
 * timeout_ms, giving up when cancel (may be NULL) fires or the server
 * stops; then the client gets notifications/cancelled. Takes params.
 * req: the request being served (refused when it is stateless-era), or
 * NULL for session-level requests. Never call it on the main (reader)
 * thread: the answer arrives there. Returns MCP_CREQ_*; caller owns
 * *result / *error (error may be NULL: not wanted). */
int mcp_client_request(mcp_server *s, const mcp_req *req, nemo_cancel *cancel,
                       const char *method, cJSON *params, long long timeout_ms,
                       cJSON **result, cJSON **error);
/* The same without waiting: cb runs once, on the reader thread, with the
 * answer (borrowed), or MCP_CREQ_TIMEOUT after a minute, or
 * MCP_CREQ_CLOSED at shutdown. Safe on the reader thread. Returns 0 when
 * sent, else an MCP_CREQ_* status and cb never runs. */
typedef void (*mcp_creq_cb)(void *ctx, int status, const cJSON *result,
                            const cJSON *error);
int mcp_client_request_async(mcp_server *s, const char *method,
                             cJSON *params, mcp_creq_cb cb, void *ctx);
/* The reader got a response (m->kind RPC_MSG_RESPONSE): hand it on. */
void mcp_clientreq_route(mcp_server *s, rpc_msg *m);
/* Shutdown (after s->stopping is set): wake every waiter. */
void mcp_clientreq_stop(mcp_server *s);

/* ---- elicitation.c: the tools' "ask the person" hook, per era ---- */
void mcp_elicit_setup(mcp_call *c);
/* Stateless era, before the tool runs: a call carrying requestState is
 * the retry of a question. Fills tc->resumed and returns NULL (run the
 * tool), or returns the response to send instead (the question again when
 * the answer is missing; an error result for an unknown state). NULL for a
 * fresh call. */
cJSON *mcp_elicit_resume(mcp_call *c, const char *tool, tool_call *tc);
/* After the tool returned: the input_required response when it asked
 * (stateless era), else NULL. */
cJSON *mcp_elicit_suspended(mcp_call *c, const char *tool);
void mcp_elicit_free_all(mcp_server *s);
/* Tasks (the job asks, tool.h's task_ask_ms): how long a task of this call
 * may wait for the person's answer to a form; 0 when the client declared
 * no form elicitation on the request. */
long long mcp_elicit_task_wait_ms(const mcp_call *c);
/* The inputRequests object for question (a job's {message, questions}),
 * the job's seq-th, under a key unique within the task. */
cJSON *mcp_elicit_task_requests(const mcp_req *req, const cJSON *question,
                                unsigned seq);
/* The answer to that question in a tasks/update's inputResponses: 0 and
 * *reply (for job_input_answer); 1 when there is none for it (other keys
 * are ignored, as the extension says); -1 when it is no ElicitResult. */
int mcp_elicit_task_reply(const cJSON *responses, const cJSON *question,
                          unsigned seq, cJSON **reply);

/* tasks.c */
cJSON *mcp_task_created(const mcp_req *req, tool_env *env,
                        const char *job_id, cJSON **err);
/* tasks/get, tasks/cancel, tasks/update: a response message (owned). */
cJSON *mcp_task_method(const mcp_req *req, tool_env *env);
long long mcp_task_ttl_ms(void);

#endif
