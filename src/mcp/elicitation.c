/* elicitation.c - the tools' "ask the person" hook (tool.h), per era.
 *
 * Handshake era: an elicitation/create request to the client (clientreq.c),
 * form mode for questions, URL mode for links, only in the modes the
 * client declared; the worker waits for the answer.
 *
 * Stateless era (2026-07-28): no request ever goes to the client. The hook
 * records the question and answers TOOL_ASK_SUSPENDED; when the tool has
 * returned, the call's result becomes an input_required result carrying
 * the elicitation as an input request and a requestState. The client
 * retries the call with inputResponses and that requestState; the tool
 * then runs again with the answer in call->resumed.
 *
 * The requestState is a random token naming an entry kept here (question,
 * tool, the tool's resume data), single use, for ASK_STATE_TTL_MS, at most
 * ASK_STATE_MAX at once. A forged or stale token finds nothing and the
 * retried call gets an error that says what to do: tampering can cause no
 * more than a failed request.
 *
 * A form has, per question, a choice among its options (when it has any)
 * and a free-text field; the answer is the free text, the choice, or both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "nemo/json.h"
#include "nemo/clock.h"
#include "mcp_internal.h"

#define ASK_KEY "nemo_ask"                 /* our one inputRequests key */
#define ASK_STATE_TTL_MS (30LL * 60 * 1000)
#define ASK_STATE_MAX 32
#define ASK_ANSWER_MAX 2000                /* bytes of one answer */
#define ASK_TIMEOUT_DEFAULT_MS (10LL * 60 * 1000)

struct mcp_askstate {
    char token[40];
    char tool[64];
    cJSON *saved;           /* {message, questions?, url?, resume} */
    long long expires_ms;
    struct mcp_askstate *next;
};

/* Elicitation came with 2025-06-18 (form), URL mode with 2025-11-25;
 * revision names are dates, so they compare as strings. */
static const char *const ask_since[] = { "2025-06-18", "2025-11-25" };

/* ---- the form ---- */

static void field_key(char *out, size_t n, int index, int other)
{
    snprintf(out, n, "q%d%s", index + 1, other ? "_other" : "");
}

static cJSON *form_schema(const cJSON *questions)
{
    cJSON *schema = cJSON_CreateObject(), *props, *f, *e;
    const cJSON *q, *o;
    char key[32];
    int i = 0;

    cJSON_AddStringToObject(schema, "type", "object");
    props = cJSON_AddObjectToObject(schema, "properties");
    cJSON_ArrayForEach(q, questions) {
        const char *prompt = json_str(q, "prompt");
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
        int has_opts = cJSON_GetArraySize(opts) > 0;

        if (has_opts) {
            field_key(key, sizeof key, i, 0);
            f = cJSON_AddObjectToObject(props, key);
            cJSON_AddStringToObject(f, "type", "string");
            cJSON_AddStringToObject(f, "title", prompt ? prompt : key);
            e = cJSON_AddArrayToObject(f, "enum");
            cJSON_ArrayForEach(o, opts)
                cJSON_AddItemToArray(e, cJSON_Duplicate(o, 0));
        }
        field_key(key, sizeof key, i, 1);
        f = cJSON_AddObjectToObject(props, key);
        cJSON_AddStringToObject(f, "type", "string");
        cJSON_AddStringToObject(f, "title",
                                has_opts ? "Or in your own words"
                                         : prompt ? prompt : key);
        if (has_opts && prompt)
            cJSON_AddStringToObject(f, "description", prompt);
        cJSON_AddNumberToObject(f, "maxLength", ASK_ANSWER_MAX);
        i++;
    }
    return schema;
}

/* A submitted value, bounded; NULL when absent or not a string. */
static const char *form_value(const cJSON *content, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(content, key);

    if (!cJSON_IsString(v) || !v->valuestring[0] ||
        strlen(v->valuestring) > ASK_ANSWER_MAX)
        return NULL;
    return v->valuestring;
}

/* {"<question id>": "<answer>"} from the form's content; NULL when the
 * person answered nothing at all. */
static cJSON *form_answers(const cJSON *questions, const cJSON *content)
{
    cJSON *ans = cJSON_CreateObject();
    const cJSON *q;
    char key[32], both[2 * ASK_ANSWER_MAX + 8];
    int i = 0;

    cJSON_ArrayForEach(q, questions) {
        const char *id = json_str(q, "id");
        const char *choice, *other;

        field_key(key, sizeof key, i, 0);
        choice = form_value(content, key);
        field_key(key, sizeof key, i, 1);
        other = form_value(content, key);
        i++;
        if (!id || (!choice && !other))
            continue;
        if (choice && other)
            snprintf(both, sizeof both, "%s; %s", choice, other);
        cJSON_AddStringToObject(ans, id, choice && other ? both
                                         : choice ? choice : other);
    }
    if (cJSON_GetArraySize(ans) == 0) {
        cJSON_Delete(ans);
        return NULL;
    }
    return ans;
}

/* elicitation/create params for q, as revision v defines them. */
static cJSON *elicit_params(const tool_ask *q, const mcp_version *v)
{
    cJSON *p = cJSON_CreateObject();
    int modern = (v->features & MCP_F_MODERN) != 0;

    if (q->questions) {
        /* 2025-06-18 has no "mode" (form is all there is). */
        if (strcmp(v->name, ask_since[1]) >= 0)
            cJSON_AddStringToObject(p, "mode", "form");
        cJSON_AddStringToObject(p, "message", q->message);
        cJSON_AddItemToObject(p, "requestedSchema",
                              form_schema(q->questions));
    } else {
        uuid_t u;
        char id[40];

        cJSON_AddStringToObject(p, "mode", "url");
        cJSON_AddStringToObject(p, "message", q->message);
        cJSON_AddStringToObject(p, "url", q->url);
        if (!modern) {   /* 2026-07-28 has no elicitationId */
            uuid_generate_random(u);
            uuid_unparse_lower(u, id);
            cJSON_AddStringToObject(p, "elicitationId", id);
        }
    }
    return p;
}

/* An ElicitResult -> status and answers. */
static tool_ask_status elicit_outcome(const cJSON *res,
                                      const cJSON *questions,
                                      cJSON **answers)
{
    const char *action = json_str(res, "action");

    if (!action)
        return TOOL_ASK_FAILED;
    if (strcmp(action, "accept") != 0)
        return strcmp(action, "decline") == 0 || strcmp(action, "cancel") == 0
                   ? TOOL_ASK_DECLINED : TOOL_ASK_FAILED;
    if (!questions)
        return TOOL_ASK_ACCEPTED;
    *answers = form_answers(questions,
                            cJSON_GetObjectItemCaseSensitive(res, "content"));
    /* An empty form is no answer. */
    return *answers ? TOOL_ASK_ACCEPTED : TOOL_ASK_DECLINED;
}

static long long elicit_timeout_ms(void)
{
    return clock_env_ms("NEMO_ELICIT_TIMEOUT_MS", ASK_TIMEOUT_DEFAULT_MS, 100,
                        24LL * 3600 * 1000);
}

/* The client takes this mode (form, else URL) in this revision. */
static int mode_allowed(const mcp_call *c, int form)
{
    unsigned need = form ? MCP_CAP_ELICIT_FORM : MCP_CAP_ELICIT_URL;

    if (strcmp(c->req.version->name, ask_since[form ? 0 : 1]) < 0)
        return 0;
    return (c->req.client_caps & need) != 0;
}

static int ask_allowed(const mcp_call *c, const tool_ask *q)
{
    if (!q->message || (!q->questions && !q->url))
        return 0;
    return mode_allowed(c, q->questions != NULL);
}

/* ---- handshake era: ask and wait ---- */

static tool_ask_status ask_now(mcp_call *c, const tool_ask *q,
                               cJSON **answers)
{
    long long timeout = elicit_timeout_ms();
    cJSON *res = NULL, *err = NULL;
    cJSON *params = elicit_params(q, c->req.version);
    const char *eid = json_str(params, "elicitationId");
    tool_ask_status st;
    char id[40];
    int rc;

    /* The id of a URL elicitation, for its completion notice. */
    snprintf(id, sizeof id, "%s", eid ? eid : "");
    rc = mcp_client_request(c->srv, &c->req, &c->cancel, "elicitation/create",
                            params, timeout, &res, &err);
    if (rc == MCP_CREQ_UNSUPPORTED)
        return TOOL_ASK_UNSUPPORTED;
    if (rc == MCP_CREQ_CLOSED) {
        /* The server is going away: like every call in flight, this one
         * ends without a response. */
        cancel_request(&c->cancel);
        return TOOL_ASK_FAILED;
    }
    if (rc != MCP_CREQ_OK) {
        if (rc == MCP_CREQ_ERROR)
            LOG_INFO("mcp", "elicitation refused by the client: %s",
                     json_str(err, "message"));
        cJSON_Delete(err);
        return TOOL_ASK_FAILED;
    }
    st = elicit_outcome(res, q->questions, answers);
    cJSON_Delete(res);
    if (st == TOOL_ASK_ACCEPTED && !q->questions)
        snprintf(c->url_elicit_id, sizeof c->url_elicit_id, "%s", id);
    return st;
}

/* ---- stateless era: the question leaves with the result ---- */

static tool_ask_status ask_later(mcp_call *c, const tool_ask *q)
{
    cJSON *saved = cJSON_CreateObject();

    if (!saved)
        return TOOL_ASK_FAILED;
    cJSON_AddStringToObject(saved, "message", q->message);
    if (q->questions)
        cJSON_AddItemToObject(saved, "questions",
                              cJSON_Duplicate(q->questions, 1));
    else
        cJSON_AddStringToObject(saved, "url", q->url);
    cJSON_AddItemToObject(saved, "resume",
                          q->resume ? cJSON_Duplicate(q->resume, 1)
                                    : cJSON_CreateObject());
    cJSON_Delete(c->ask_saved);
    c->ask_saved = saved;
    return TOOL_ASK_SUSPENDED;
}

static tool_ask_status elicit_ask(void *ctx, const tool_ask *q,
                                  cJSON **answers)
{
    mcp_call *c = ctx;

    *answers = NULL;
    if (!ask_allowed(c, q))
        return TOOL_ASK_UNSUPPORTED;
    if (cancel_requested(&c->cancel))
        return TOOL_ASK_FAILED;
    return c->req.modern ? ask_later(c, q) : ask_now(c, q, answers);
}

/* The retried request succeeded, so the person finished what the link
 * was for: 2025-11-25 lets the server say so to the client that got the
 * URL elicitation (notifications/elicitation/complete, with its id). The
 * stateless era has no elicitationId and no such notice. */
static void elicit_link_done(void *ctx)
{
    mcp_call *c = ctx;
    cJSON *p, *n;

    if (c->req.modern || !c->url_elicit_id[0])
        return;
    p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "elicitationId", c->url_elicit_id);
    c->url_elicit_id[0] = '\0';
    n = rpc_notification("notifications/elicitation/complete", p);
    if (n)
        mcp_out_send(&c->srv->out, n);
    cJSON_Delete(n);
}

void mcp_elicit_setup(mcp_call *c)
{
    c->asker.ask = elicit_ask;
    c->asker.link_done = elicit_link_done;
    c->asker.ctx = c;
}

/* ---- the requestState table (under srv->mu) ---- */

static void state_free(mcp_askstate *a)
{
    cJSON_Delete(a->saved);
    free(a);
}

static void state_prune_locked(mcp_server *s, long long now)
{
    mcp_askstate **pp = &s->asks, *a;
    int n = 0;

    while ((a = *pp) != NULL) {
        if (a->expires_ms <= now || ++n > ASK_STATE_MAX - 1) {
            *pp = a->next;
            state_free(a);
        } else {
            pp = &a->next;
        }
    }
}

/* Keep saved (taken) under a new token; the token or NULL. */
static const char *state_put(mcp_server *s, const char *tool, cJSON *saved,
                             char *token, size_t n)
{
    mcp_askstate *a = calloc(1, sizeof *a);
    uuid_t u;

    if (!a) {
        cJSON_Delete(saved);
        return NULL;
    }
    uuid_generate_random(u);
    uuid_unparse_lower(u, a->token);
    snprintf(a->tool, sizeof a->tool, "%s", tool);
    a->saved = saved;
    a->expires_ms = clock_mono_ms() + ASK_STATE_TTL_MS;
    snprintf(token, n, "%s", a->token);
    pthread_mutex_lock(&s->mu);
    state_prune_locked(s, clock_mono_ms());   /* newest first: keeps room */
    a->next = s->asks;
    s->asks = a;
    pthread_mutex_unlock(&s->mu);
    return token;
}

/* Take the entry for token (it leaves the table) when it belongs to
 * tool; NULL when unknown, expired or another tool's. */
static mcp_askstate *state_take(mcp_server *s, const char *token,
                                const char *tool)
{
    mcp_askstate **pp, *a = NULL;

    pthread_mutex_lock(&s->mu);
    state_prune_locked(s, clock_mono_ms());
    for (pp = &s->asks; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->token, token) == 0 &&
            strcmp((*pp)->tool, tool) == 0) {
            a = *pp;
            *pp = a->next;
            a->next = NULL;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    return a;
}

void mcp_elicit_free_all(mcp_server *s)
{
    mcp_askstate *a, *next;

    for (a = s->asks; a; a = next) {
        next = a->next;
        state_free(a);
    }
    s->asks = NULL;
}

/* {method, params}: the elicitation/create input request for a saved
 * question {message, questions?, url?}. */
static cJSON *input_request(const cJSON *saved, const mcp_version *v)
{
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(saved, "questions");
    tool_ask q;
    cJSON *r = cJSON_CreateObject();

    memset(&q, 0, sizeof q);
    q.message = json_str(saved, "message");
    q.questions = cJSON_IsArray(qs) ? qs : NULL;
    q.url = json_str(saved, "url");
    cJSON_AddStringToObject(r, "method", "elicitation/create");
    cJSON_AddItemToObject(r, "params", elicit_params(&q, v));
    return r;
}

/* The input_required result for a saved question (saved is taken). */
static cJSON *input_required(mcp_call *c, const char *tool, cJSON *saved)
{
    cJSON *res, *reqs;
    char token[40];

    res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "resultType", "input_required");
    reqs = cJSON_AddObjectToObject(res, "inputRequests");
    cJSON_AddItemToObject(reqs, ASK_KEY,
                          input_request(saved, c->req.version));
    if (!state_put(c->srv, tool, saved, token, sizeof token)) {
        cJSON_Delete(res);
        return NULL;
    }
    cJSON_AddStringToObject(res, "requestState", token);
    return res;
}

cJSON *mcp_elicit_suspended(mcp_call *c, const char *tool)
{
    cJSON *saved = c->ask_saved, *res;

    if (!saved)
        return NULL;
    c->ask_saved = NULL;
    res = input_required(c, tool, saved);
    if (!res)
        return rpc_error(c->req.id, RPC_INTERNAL_ERROR, "out of memory",
                         NULL);
    LOG_INFO("mcp", "%s: asking the person through the client "
             "(input_required)", tool);
    return rpc_result(c->req.id, mcp_result_finish(&c->req, res));
}

/* A tool error result (the text a model reads). */
static cJSON *tool_error(mcp_call *c, const char *text)
{
    nemo_result r;
    cJSON *res;

    result_init(&r);
    result_error(&r, NULL, "%s", text);
    res = mcp_call_result(&c->req, &r);
    result_free(&r);
    return rpc_result(c->req.id, mcp_result_finish(&c->req, res));
}

cJSON *mcp_elicit_resume(mcp_call *c, const char *tool, tool_call *tc)
{
    const cJSON *p = c->req.params;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(p, "requestState");
    const cJSON *ir = cJSON_GetObjectItemCaseSensitive(p, "inputResponses");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(ir, ASK_KEY);
    mcp_askstate *a;
    cJSON *answers = NULL;
    tool_ask_status st;

    if (!rs)
        return NULL;    /* a fresh call */
    if (!c->req.modern || !cJSON_IsString(rs) ||
        !(a = state_take(c->srv, rs->valuestring, tool)))
        return tool_error(c, "This call answers a question that is no "
                             "longer pending (it expired, was already "
                             "answered, or the server restarted). Nothing "
                             "was done: call the tool again without "
                             "requestState (for `generate`, with the user's "
                             "answer as the prompt).");
    if (!cJSON_IsObject(resp)) {
        /* The spec: ask again rather than fail. */
        cJSON *saved = a->saved;

        a->saved = NULL;
        state_free(a);
        return rpc_result(c->req.id,
                          mcp_result_finish(&c->req,
                                            input_required(c, tool, saved)));
    }
    st = elicit_outcome(resp, cJSON_GetObjectItemCaseSensitive(a->saved,
                                                               "questions"),
                        &answers);
    tc->resumed.status = st == TOOL_ASK_ACCEPTED ? TOOL_ASK_ACCEPTED
                                                 : TOOL_ASK_DECLINED;
    tc->resumed.answers = answers;
    tc->resumed.resume = cJSON_GetObjectItemCaseSensitive(a->saved,
                                                          "resume");
    /* The call keeps both alive until the tool has run. */
    c->resumed_saved = a->saved;
    c->resumed_answers = answers;
    a->saved = NULL;
    state_free(a);
    return NULL;
}

/* ---- tasks: a question a task's job waits on (tasks.c) ---- */

/* Keys are unique over a task's life (the extension says so): one per
 * question the job posted. */
static void task_key(char *out, size_t n, unsigned seq)
{
    snprintf(out, n, ASK_KEY "_%u", seq);
}

long long mcp_elicit_task_wait_ms(const mcp_call *c)
{
    return mode_allowed(c, 1) ? elicit_timeout_ms() : 0;
}

cJSON *mcp_elicit_task_requests(const mcp_req *req, const cJSON *question,
                                unsigned seq)
{
    cJSON *reqs = cJSON_CreateObject();
    char key[40];

    task_key(key, sizeof key, seq);
    cJSON_AddItemToObject(reqs, key, input_request(question, req->version));
    return reqs;
}

int mcp_elicit_task_reply(const cJSON *responses, const cJSON *question,
                          unsigned seq, cJSON **reply)
{
    const cJSON *resp;
    cJSON *answers = NULL;
    tool_ask_status st;
    char key[40];

    *reply = NULL;
    task_key(key, sizeof key, seq);
    resp = cJSON_GetObjectItemCaseSensitive(responses, key);
    if (!resp)
        return 1;
    st = cJSON_IsObject(resp)
             ? elicit_outcome(resp, cJSON_GetObjectItemCaseSensitive(
                                        question, "questions"), &answers)
             : TOOL_ASK_FAILED;
    if (st == TOOL_ASK_FAILED)
        return -1;
    *reply = cJSON_CreateObject();
    cJSON_AddStringToObject(*reply, "action", st == TOOL_ASK_ACCEPTED
                                                  ? "accept" : "decline");
    if (answers)
        cJSON_AddItemToObject(*reply, "answers", answers);
    return 0;
}
