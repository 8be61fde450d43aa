/* ask.c - putting things in front of the person through the host (the
 * tool.h hook): the video agent's questions as a form, and the links a
 * person must open (out of credits, a plan that blocks export).
 *
 * Answers go to the agent as the next message within the same call; the
 * result lists what was asked and answered. Declined, dismissed, no answer
 * or a host that cannot ask: the result stays what it was (needs_input
 * with the questions, or the error with its link), so the model asks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/json.h"
#include "nemo/log.h"
#include "tools_internal.h"

#define ASK_MAX_ROUNDS 3          /* questions answered within one call */

/* ---- the agent's questions ---- */

static const cJSON *st_get(const tool_output *out, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(out->result.structured, key);
}

static int needs_input(const tool_output *out)
{
    const char *status = cJSON_GetStringValue(st_get(out, "status"));

    return !out->result.is_error && status &&
           strcmp(status, "needs_input") == 0 &&
           cJSON_GetArraySize(st_get(out, "questions")) > 0;
}

/* The form's heading: the agent's own words when it wrote any. */
static void ask_message(const tool_output *out, char *msg, size_t n)
{
    /* Redacted before it is cut: a cut token is no longer recognised. */
    char *reply = log_redact_dup(cJSON_GetStringValue(st_get(out, "reply")));

    snprintf(msg, n, "NemoVideo's video agent asks%s%.600s",
             reply && reply[0] ? ": " : " a question before it continues.",
             reply ? reply : "");
    free(reply);
}

/* The message sent to the agent for answers, and the `answered` entries
 * (appended to answered). NULL when nothing was answered. */
static char *answer_prompt(const cJSON *questions, const cJSON *answers,
                           cJSON *answered)
{
    nemo_buf b = NEMO_BUF_INIT;
    const cJSON *q;

    cJSON_ArrayForEach(q, questions) {
        const char *id = json_str(q, "id");
        const char *prompt = json_str(q, "prompt");
        const char *a = id ? json_str(answers, id)
                           : NULL;
        cJSON *e;

        if (!a || !prompt)
            continue;
        buf_printf(&b, "%sMy answer to \"%s\": %s", b.len ? "\n" : "",
                   prompt, a);
        e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", id);
        cJSON_AddStringToObject(e, "prompt", prompt);
        cJSON_AddStringToObject(e, "answer", a);
        cJSON_AddItemToArray(answered, e);
    }
    return buf_detach(&b);
}

/* Say in out what the person answered (structured and text). */
static void note_answered(tool_output *out, const cJSON *answered)
{
    nemo_buf b = NEMO_BUF_INIT;
    const cJSON *e;
    nemo_result *r = &out->result;

    if (cJSON_GetArraySize(answered) == 0)
        return;
    buf_puts(&b, "The user answered the video agent's question through the "
                 "host, and the answer was sent to the agent:");
    cJSON_ArrayForEach(e, answered)
        buf_printf(&b, "\n- %s -> %s",
                   json_str(e, "prompt"),
                   json_str(e, "answer"));
    if (r->text && r->text[0])
        buf_printf(&b, "\n\n%s", r->text);
    free(r->text);
    r->text = buf_detach(&b);
    if (cJSON_IsObject(r->structured)) {
        cJSON_DeleteItemFromObjectCaseSensitive(r->structured, "answered");
        cJSON_AddItemToObject(r->structured, "answered",
                              cJSON_Duplicate(answered, 1));
    }
}

/* Where the answer goes: a new turn started by the call (turn), or the
 * next turn inside the job the question came from (job_turn). */
typedef struct ask_turner {
    tool_turn_fn turn;
    tool_job_turn_fn job_turn;
    nemo_job *job;
    void *arg;
} ask_turner;

/* Send the answers to the agent on sid; out gets the new turn. */
static void send_answers(tool_call *call, const ask_turner *t,
                         const char *sid, const cJSON *questions,
                         const cJSON *answers, cJSON *answered,
                         tool_output *out)
{
    char *prompt = answer_prompt(questions, answers, answered);

    if (!prompt)
        return;
    LOG_INFO("generate", "the user answered through the host; sending the "
             "answer to the agent");
    result_free(&out->result);
    result_init(&out->result);
    if (t->job_turn)
        t->job_turn(t->job, t->arg, sid, prompt, &out->result);
    else
        t->turn(call, sid, prompt, NULL, out);
    free(prompt);
}

/* The resume data of a question: the session, the needs_input result (for
 * a declined retry) and what was answered so far. */
static cJSON *answer_resume(const tool_output *out, const char *sid,
                            const cJSON *answered)
{
    cJSON *r = cJSON_CreateObject();

    cJSON_AddStringToObject(r, "kind", "answer");
    cJSON_AddStringToObject(r, "session", sid);
    cJSON_AddItemToObject(r, "result", result_to_json(&out->result));
    cJSON_AddItemToObject(r, "answered", cJSON_Duplicate(answered, 1));
    return r;
}

/* Ask while the agent asks; answered collects the answers. */
static void ask_rounds(tool_call *call, const ask_turner *t,
                       tool_output *out, cJSON *answered)
{
    int round;

    for (round = 0; round < ASK_MAX_ROUNDS && needs_input(out); round++) {
        char msg[1024], sid[API_SESSION_MAX];
        cJSON *questions = cJSON_Duplicate(st_get(out, "questions"), 1);
        cJSON *answers = NULL, *resume;
        tool_ask q;
        tool_ask_status st;

        snprintf(sid, sizeof sid, "%s",
                 cJSON_GetStringValue(st_get(out, "session"))
                     ? cJSON_GetStringValue(st_get(out, "session")) : "");
        ask_message(out, msg, sizeof msg);
        resume = answer_resume(out, sid, answered);
        memset(&q, 0, sizeof q);
        q.message = msg;
        q.questions = questions;
        q.resume = resume;
        st = tool_ask_person(call, &q, &answers);
        cJSON_Delete(resume);
        if (st == TOOL_ASK_ACCEPTED && sid[0])
            send_answers(call, t, sid, questions, answers, answered, out);
        cJSON_Delete(answers);
        cJSON_Delete(questions);
        if (st != TOOL_ASK_ACCEPTED)
            break;    /* suspended: the MCP layer sends the question */
    }
}

static void follow_up(tool_call *call, const ask_turner *t,
                      tool_output *out)
{
    cJSON *answered;

    if (!needs_input(out) || !call->asker)
        return;
    answered = cJSON_CreateArray();
    ask_rounds(call, t, out, answered);
    note_answered(out, answered);
    cJSON_Delete(answered);
}

void tool_ask_follow_up(tool_call *call, tool_turn_fn turn, tool_output *out)
{
    ask_turner t = { turn, NULL, NULL, NULL };

    follow_up(call, &t, out);
}

/* ---- inside a task's job: the question waits on the job ---- */

typedef struct job_asker {
    nemo_job *job;
    long long wait_ms;
} job_asker;

/* The tool_asker of a task's job: the question is posted on the job (the
 * MCP layer shows it as input_required) and recorded in the journal, so a
 * restarted server can say what was asked (tool_ask_restarted). */
static tool_ask_status job_ask(void *ctx, const tool_ask *q, cJSON **answers)
{
    job_asker *ja = ctx;
    cJSON *question, *reply = NULL;
    const char *action;
    tool_ask_status st = TOOL_ASK_FAILED;
    int rc;

    if (!q->questions)
        return TOOL_ASK_UNSUPPORTED;   /* links are not offered in tasks */
    question = cJSON_CreateObject();
    if (!question)
        return TOOL_ASK_FAILED;
    cJSON_AddStringToObject(question, "message", q->message);
    cJSON_AddItemToObject(question, "questions",
                          cJSON_Duplicate(q->questions, 1));
    if (q->resume)
        job_record_set(ja->job, "asking", cJSON_Duplicate(q->resume, 1));
    job_record_set(ja->job, "phase", cJSON_CreateString("asking"));
    progress_report(job_progress(ja->job), -1, "waiting for the user's "
                    "answer to the video agent's question");
    rc = job_input_wait(ja->job, question, ja->wait_ms, &reply);
    /* Stopped by a shutdown, the record stays "asking" for the next
     * process (generate.c's resumer). */
    if (rc == 0) {
        job_record_set(ja->job, "phase", cJSON_CreateString("answered"));
        progress_report(job_progress(ja->job), -1, "the user answered");
    }
    action = json_str(reply, "action");
    if (rc == 0 && action && strcmp(action, "accept") == 0) {
        *answers = cJSON_DetachItemFromObjectCaseSensitive(reply, "answers");
        st = *answers ? TOOL_ASK_ACCEPTED : TOOL_ASK_DECLINED;
    } else if (rc == 0) {
        st = TOOL_ASK_DECLINED;
    } else if (rc > 0) {
        LOG_INFO("generate", "no answer to the agent's question in time");
    }
    cJSON_Delete(reply);
    return st;
}

void tool_job_ask_follow_up(nemo_job *j, long long wait_ms,
                            tool_job_turn_fn turn, void *arg,
                            nemo_result *out)
{
    job_asker ja = { j, wait_ms };
    tool_asker asker = { job_ask, NULL, &ja };
    ask_turner t = { NULL, turn, j, arg };
    tool_call call;
    tool_output o;

    if (wait_ms <= 0)
        return;
    memset(&call, 0, sizeof call);
    call.cancel = job_cancel_token(j);
    call.progress = job_progress(j);
    call.asker = &asker;
    memset(&o, 0, sizeof o);
    o.result = *out;
    follow_up(&call, &t, &o);
    *out = o.result;
}

int tool_ask_restarted(const cJSON *asking, nemo_result *out)
{
    tool_output o;
    nemo_buf b = NEMO_BUF_INIT;
    cJSON *answered;

    memset(&o, 0, sizeof o);
    result_init(&o.result);
    if (result_from_json(&o.result,
                         cJSON_GetObjectItemCaseSensitive(asking, "result"))
        != 0 || !needs_input(&o)) {
        result_free(&o.result);
        return -1;
    }
    answered = cJSON_GetObjectItemCaseSensitive(asking, "answered");
    if (cJSON_IsArray(answered))
        note_answered(&o, answered);
    buf_printf(&b, "The server restarted while waiting for the user's "
               "answer, so the question was not answered through the "
               "host.\n\n%s", o.result.text ? o.result.text : "");
    free(o.result.text);
    o.result.text = buf_detach(&b);
    result_free(out);
    *out = o.result;
    return 0;
}

int tool_ask_resumed(tool_call *call, tool_turn_fn turn, tool_output *out)
{
    const cJSON *r = call->resumed.resume;
    const char *kind = json_str(r, "kind");
    const char *sid = json_str(r, "session");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(r, "answered");
    tool_output before;
    cJSON *answered;

    if (!kind || strcmp(kind, "answer") != 0)
        return 0;
    memset(&before, 0, sizeof before);
    result_init(&before.result);
    if (result_from_json(&before.result,
                         cJSON_GetObjectItemCaseSensitive(r, "result")) != 0
        || !sid) {
        result_free(&before.result);
        tool_fail_msg(out, "The question this call answers could not be "
                      "read back; call `generate` with the user's answer "
                      "as the prompt.");
        return 1;
    }
    answered = cJSON_IsArray(prev) ? cJSON_Duplicate(prev, 1)
                                   : cJSON_CreateArray();
    result_free(&out->result);
    out->result = before.result;       /* declined: as without asking */
    if (call->resumed.status == TOOL_ASK_ACCEPTED) {
        cJSON *questions = cJSON_Duplicate(st_get(out, "questions"), 1);
        ask_turner t = { turn, NULL, NULL, NULL };

        send_answers(call, &t, sid, questions, call->resumed.answers,
                     answered, out);
        cJSON_Delete(questions);
        ask_rounds(call, &t, out, answered);
    }
    note_answered(out, answered);
    cJSON_Delete(answered);
    return 1;
}

/* ---- links: out of credits, a plan that blocks export ---- */

/* What the person is asked to do, by the error's kind. */
static const struct {
    const char *kind;
    const char *message;
} link_messages[] = {
    { "credits", "You are out of NemoVideo credits. Register (free) on the "
                 "NemoVideo page to get more credits and keep this project, "
                 "or top up a registered account. When you are done, "
                 "confirm here and the request is sent again." },
    { "plan", "Your NemoVideo plan does not allow export. Register or "
              "upgrade on the NemoVideo page. When you are done, confirm "
              "here and the export is tried again." },
};

static const char *link_message(const char *kind)
{
    size_t i;

    for (i = 0; kind && i < sizeof link_messages / sizeof link_messages[0];
         i++)
        if (strcmp(link_messages[i].kind, kind) == 0)
            return link_messages[i].message;
    return NULL;
}

/* A page the backend named is offered only when it is a plain https link
 * (the host shows it and opens it in a browser). */
static int link_ok(const char *url)
{
    const char *p;

    if (!url || strncmp(url, "https://", 8) != 0 || !url[8])
        return 0;
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* out failed with a link to open: offer it. 1: the person accepted, run
 * again. */
static int link_offer(tool_call *call, tool_output *out)
{
    const cJSON *st = out->result.structured;
    const char *kind = json_str(st, "error");
    const char *url = json_str(st, "link");
    cJSON *resume, *answers = NULL;
    tool_ask q;
    tool_ask_status s;

    if (!out->result.is_error || !link_ok(url) || !link_message(kind))
        return 0;
    resume = cJSON_CreateObject();
    cJSON_AddStringToObject(resume, "kind", "link");
    cJSON_AddItemToObject(resume, "result", result_to_json(&out->result));
    memset(&q, 0, sizeof q);
    q.message = link_message(kind);
    q.url = url;
    q.resume = resume;
    s = tool_ask_person(call, &q, &answers);
    cJSON_Delete(resume);
    cJSON_Delete(answers);
    if (s == TOOL_ASK_ACCEPTED)
        LOG_INFO("tools", "the user opened the %s link; trying again once",
                 kind);
    return s == TOOL_ASK_ACCEPTED;
}

int tool_with_link_retry(tool_call *call, tool_output *out,
                         int (*run)(tool_call *call, tool_output *out))
{
    const cJSON *r = call->resumed.resume;
    const char *kind = json_str(r, "kind");
    int rc;

    if (kind && strcmp(kind, "link") == 0) {
        /* The retried call of a link offer (stateless era). */
        if (call->resumed.status == TOOL_ASK_ACCEPTED)
            return run(call, out);          /* the one retry */
        result_free(&out->result);
        if (result_from_json(&out->result,
                             cJSON_GetObjectItemCaseSensitive(r, "result"))
            != 0)
            tool_fail_msg(out, "The request failed earlier and its error "
                          "could not be read back; call the tool again.");
        return 0;
    }
    rc = run(call, out);
    if (call->task_mode || !link_offer(call, out))
        return rc;
    result_free(&out->result);
    result_init(&out->result);
    out->job_id[0] = '\0';
    rc = run(call, out);
    if (!out->result.is_error && call->asker->link_done)
        call->asker->link_done(call->asker->ctx);
    return rc;
}
