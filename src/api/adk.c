/* adk.c - turn Google ADK events (JSON in SSE data) into a reply and
 * progress messages.
 *
 * With streaming on, ADK sends the text as partial chunks and then once more
 * as one final (non-partial) event. The final text is the reply; partial
 * chunks only feed progress, and become the reply only when no final text
 * ever arrives. Function calls and responses stay internal. Anything that is
 * not a JSON object (empty data, "ping", ...) is a heartbeat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nemo/adk.h"
#include "nemo/clock.h"
#include "nemo/log.h"

#define ADK_PREVIEW_BYTES 60

void adk_init(adk_state *s, const nemo_progress *progress)
{
    memset(s, 0, sizeof *s);
    buf_init(&s->partial);
    buf_init(&s->reply);
    s->progress = progress;
    s->started_ms = clock_mono_ms();
    s->beat_every_ms = clock_env_ms("NEMO_HEARTBEAT_MS", 10000, 1, 3600000);
}

void adk_free(adk_state *s)
{
    buf_free(&s->partial);
    buf_free(&s->reply);
    adk_questions_free(&s->questions);
}

/* camelCase as ADK writes it, or the snake_case some servers use. */
static const cJSON *adk_get(const cJSON *o, const char *camel,
                            const char *snake)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, camel);

    if (!v && snake)
        v = cJSON_GetObjectItemCaseSensitive(o, snake);
    return v;
}

/* Copy at most max - 1 bytes of s into out, runs of whitespace folded into
 * one space, never ending inside a UTF-8 character. Returns 1 when cut. */
static int adk_preview(const char *s, size_t len, char *out, size_t max)
{
    size_t i, o = 0, k;
    int space = 0, cut = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            space = o > 0;
            continue;
        }
        if (o + 1 + (size_t)space >= max) {
            cut = 1;
            break;
        }
        if (space)
            out[o++] = ' ';
        space = 0;
        out[o++] = (char)c;
    }
    if (cut && o > 0) {
        size_t need;
        unsigned char lead;

        for (k = o; k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80; k--)
            ;
        if (k > 0) {
            lead = (unsigned char)out[k - 1];
            need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (o - (k - 1) < need)
                o = k - 1;
        }
    }
    out[o] = '\0';
    return cut;
}

static void adk_set_tool(adk_state *s, const char *name)
{
    size_t i;

    snprintf(s->last_tool, sizeof s->last_tool, "%s", name);
    for (i = 0; s->last_tool[i]; i++)      /* a name, not a log injection */
        if ((unsigned char)s->last_tool[i] < 0x20)
            s->last_tool[i] = ' ';
}

static const char *adk_name_of(const cJSON *call)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(call, "name");

    return cJSON_IsString(name) && name->valuestring[0] ? name->valuestring
                                                          : "a tool";
}

/* ---- the agent's questions (ask_question) ---- */

#define ADK_ASK_TOOL "ask_question"
#define ADK_ID_MAX 64
#define ADK_PROMPT_MAX 2000
#define ADK_OPTION_MAX 200

/* A redacted copy of text cut to at most max bytes, never inside a UTF-8
 * character, control characters but newline turned into spaces. NULL for
 * "". */
static char *adk_text_dup(const char *text, size_t max)
{
    char *s = log_redact_dup(text), *d;   /* redacted before it is cut */
    size_t n = s ? strlen(s) : 0, i;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    d = n ? malloc(n + 1) : NULL;
    for (i = 0; d && i < n; i++)
        d[i] = (unsigned char)s[i] < 0x20 && s[i] != '\n' ? ' ' : s[i];
    if (d)
        d[n] = '\0';
    free(s);
    return d;
}

/* A string member among keys, or the value itself when it is a string. */
static const char *adk_str_of(const cJSON *v, const char *const *keys)
{
    size_t i;

    if (cJSON_IsString(v))
        return v->valuestring;
    for (i = 0; keys[i]; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, keys[i]);

        if (cJSON_IsString(m) && m->valuestring[0])
            return m->valuestring;
    }
    return NULL;
}

static void adk_question_free(adk_question *it)
{
    int k;

    free(it->id);
    free(it->prompt);
    for (k = 0; k < it->noptions; k++)
        free(it->options[k]);
    free(it->options);
    memset(it, 0, sizeof *it);
}

void adk_questions_free(adk_questions *q)
{
    int i;

    if (!q)
        return;
    for (i = 0; i < q->n; i++)
        adk_question_free(&q->items[i]);
    free(q->items);
    q->items = NULL;
    q->n = 0;
}

/* One question from its object (or a bare string); 0 when usable. */
static int adk_question_parse(const cJSON *v, int index, adk_question *out)
{
    static const char *const prompt_keys[] = { "prompt", "question", "text",
                                               "label", NULL };
    static const char *const option_keys[] = { "label", "value", "text",
                                               "title", NULL };
    static const char *const id_keys[] = { "id", NULL };
    const char *prompt = adk_str_of(v, prompt_keys), *id;
    const cJSON *opts, *o;
    char idbuf[16];

    memset(out, 0, sizeof *out);
    if (!prompt || !(out->prompt = adk_text_dup(prompt, ADK_PROMPT_MAX)))
        return -1;   /* nothing allocated */
    id = cJSON_IsObject(v) ? adk_str_of(cJSON_GetObjectItemCaseSensitive(
                                            v, "id"), id_keys) : NULL;
    snprintf(idbuf, sizeof idbuf, "q%d", index + 1);
    out->id = adk_text_dup(id ? id : idbuf, ADK_ID_MAX);
    if (!out->id)
        out->id = strdup(idbuf);
    opts = cJSON_IsObject(v) ? adk_get(v, "options", "choices") : NULL;
    out->options = calloc(ADK_MAX_OPTIONS, sizeof *out->options);
    if (!out->id || !out->options) {
        adk_question_free(out);
        return -1;
    }
    if (!cJSON_IsArray(opts))
        opts = NULL;
    cJSON_ArrayForEach(o, opts) {
        const char *t = adk_str_of(o, option_keys);
        char *d;

        if (out->noptions == ADK_MAX_OPTIONS)
            break;
        if (t && (d = adk_text_dup(t, ADK_OPTION_MAX)) != NULL)
            out->options[out->noptions++] = d;
    }
    return 0;
}

int adk_questions_parse(const cJSON *args, adk_questions *q)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(args, "questions");
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(args, "question");
    const cJSON *v;
    int i = 0;

    memset(q, 0, sizeof *q);
    q->items = calloc(ADK_MAX_QUESTIONS, sizeof *q->items);
    if (!q->items)
        return -1;
    if (!cJSON_IsArray(list) && cJSON_IsString(one)) {
        /* {"question": "...", "options": [...]}: the args are the one
         * question. */
        if (adk_question_parse(args, 0, &q->items[0]) == 0)
            q->n = 1;
    }
    if (!cJSON_IsArray(list))
        list = NULL;
    cJSON_ArrayForEach(v, list) {
        if (q->n == ADK_MAX_QUESTIONS)
            break;
        if (adk_question_parse(v, i++, &q->items[q->n]) == 0)
            q->n++;
    }
    if (q->n == 0) {
        adk_questions_free(q);
        return -1;
    }
    return 0;
}

static int adk_is_blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
            return 0;
    return 1;
}

/* Is t already one of the final texts joined into the reply? */
static int adk_reply_has(const nemo_buf *reply, const char *t, size_t n)
{
    const char *r = reply->data, *p;
    size_t rn = reply->len;

    if (!r || rn < n)
        return 0;
    for (p = r; (p = strstr(p, t)) != NULL; p++) {
        size_t off = (size_t)(p - r);
        int starts = off == 0 || (off >= 2 && memcmp(p - 2, "\n\n", 2) == 0);
        int ends = off + n == rn ||
                   (off + n + 2 <= rn && memcmp(p + n, "\n\n", 2) == 0);

        if (starts && ends)
            return 1;
    }
    return 0;
}

static void adk_final_text(adk_state *s, const char *t, size_t n)
{
    /* The final event repeats the partial chunks: they are now shown. */
    buf_reset(&s->partial);
    if (adk_is_blank(t, n) || adk_reply_has(&s->reply, t, n))
        return;
    if (s->reply.len)
        buf_puts(&s->reply, "\n\n");
    buf_append(&s->reply, t, n);
    s->saw_final_text = 1;
}

static void adk_partial_text(adk_state *s, const char *t, size_t n)
{
    char preview[ADK_PREVIEW_BYTES + 1];
    char *safe;
    int cut;

    buf_append(&s->partial, t, n);
    /* Redacted before it is cut, and a secret still arriving too. */
    safe = log_redact_stream_dup(buf_str(&s->partial));
    if (!safe)
        return;
    cut = adk_preview(safe, strlen(safe), preview, sizeof preview);
    free(safe);
    progress_report(s->progress, -1, "writing reply\xE2\x80\xA6 \"%s%s\"",
                    preview, cut ? "\xE2\x80\xA6" : "");
}

/* The agent asks the person: keep its questions (the latest ask wins). */
static void adk_ask(adk_state *s, const cJSON *call)
{
    adk_questions q;

    if (adk_questions_parse(adk_get(call, "args", "arguments"), &q) != 0) {
        progress_report(s->progress, -1, "the agent asked a question");
        return;
    }
    adk_questions_free(&s->questions);
    s->questions = q;
    progress_report(s->progress, -1, "the agent has a question");
}

/* A function response: answered within the turn, so nothing is waiting
 * for it any more. */
static void adk_response(adk_state *s, const cJSON *resp)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(resp, "id");
    char name[64];

    snprintf(name, sizeof name, "%s", adk_name_of(resp));
    if (strcmp(name, ADK_ASK_TOOL) == 0)
        adk_questions_free(&s->questions);
    if (cJSON_IsString(id) && strcmp(id->valuestring, s->waiting_call) == 0)
        s->waiting_call[0] = '\0';
    progress_report(s->progress, -1, "%s done", name);
}

/* ADK marks calls the agent waits on outside the turn (a person's answer)
 * in longRunningToolIds. */
static void adk_long_running(adk_state *s, const cJSON *ev)
{
    const cJSON *ids = adk_get(ev, "longRunningToolIds",
                               "long_running_tool_ids");
    const cJSON *id;

    if (!cJSON_IsArray(ids))
        return;
    cJSON_ArrayForEach(id, ids) {
        if (cJSON_IsString(id) && id->valuestring[0]) {
            snprintf(s->waiting_call, sizeof s->waiting_call, "%s",
                     id->valuestring);
            return;
        }
    }
}

int adk_needs_input(const adk_state *s)
{
    return s->questions.n > 0 || s->waiting_call[0] != '\0';
}

static void adk_parts(adk_state *s, const cJSON *parts, int partial)
{
    const cJSON *part;
    nemo_buf text = NEMO_BUF_INIT;

    cJSON_ArrayForEach(part, parts) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
        const cJSON *call = adk_get(part, "functionCall", "function_call");
        const cJSON *resp = adk_get(part, "functionResponse",
                                    "function_response");

        if (cJSON_IsString(t) &&
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "thought")))
            buf_puts(&text, t->valuestring);
        if (cJSON_IsObject(call)) {
            s->function_calls++;
            adk_set_tool(s, adk_name_of(call));
            if (strcmp(adk_name_of(call), ADK_ASK_TOOL) == 0)
                adk_ask(s, call);
            else
                progress_report(s->progress, -1, "running %s", s->last_tool);
        }
        if (cJSON_IsObject(resp))
            adk_response(s, resp);
    }
    if (text.len) {
        if (partial)
            adk_partial_text(s, text.data, text.len);
        else
            adk_final_text(s, text.data, text.len);
    }
    buf_free(&text);
}

/* An error event: errorCode / errorMessage, either spelling, or "error". */
static int adk_error(adk_state *s, const cJSON *ev)
{
    const cJSON *code = adk_get(ev, "errorCode", "error_code");
    const cJSON *msg = adk_get(ev, "errorMessage", "error_message");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(ev, "error");
    char codebuf[64] = "";

    if (cJSON_IsObject(err)) {
        if (!msg)
            msg = cJSON_GetObjectItemCaseSensitive(err, "message");
        if (!code)
            code = cJSON_GetObjectItemCaseSensitive(err, "code");
    } else if (cJSON_IsString(err) && !msg) {
        msg = err;
    }
    if (cJSON_IsString(code) && code->valuestring[0])
        snprintf(codebuf, sizeof codebuf, "%s", code->valuestring);
    else if (cJSON_IsNumber(code) && code->valuedouble != 0)
        snprintf(codebuf, sizeof codebuf, "%.0f", code->valuedouble);
    if (!codebuf[0] && !(cJSON_IsString(msg) && msg->valuestring[0]))
        return 0;
    s->error = 1;
    if (cJSON_IsString(msg) && msg->valuestring[0])
        snprintf(s->error_message, sizeof s->error_message, "%s%s%s%s",
                 msg->valuestring, codebuf[0] ? " (" : "", codebuf,
                 codebuf[0] ? ")" : "");
    else
        snprintf(s->error_message, sizeof s->error_message,
                 "the agent stopped with error %s", codebuf);
    return 1;
}

int adk_event(adk_state *s, const char *data, size_t n)
{
    cJSON *ev;
    const cJSON *content;
    int partial;

    if (n == 0 || adk_is_blank(data, n)) {
        adk_heartbeat(s);
        return 0;
    }
    ev = cJSON_ParseWithLength(data, n);
    if (!cJSON_IsObject(ev)) {
        cJSON_Delete(ev);
        adk_heartbeat(s);
        return 0;
    }
    if (adk_error(s, ev)) {
        cJSON_Delete(ev);
        return 1;
    }
    partial = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "partial"));
    content = cJSON_GetObjectItemCaseSensitive(ev, "content");
    if (cJSON_IsObject(content))
        adk_parts(s, cJSON_GetObjectItemCaseSensitive(content, "parts"),
                  partial);
    adk_long_running(s, ev);
    if (cJSON_IsTrue(adk_get(ev, "turnComplete", "turn_complete")))
        s->turn_complete = 1;
    cJSON_Delete(ev);
    return 0;
}

static void adk_duration(long long ms, char *out, size_t n)
{
    long long secs = ms / 1000;

    if (secs >= 60)
        snprintf(out, n, "%lldm%llds", secs / 60, secs % 60);
    else
        snprintf(out, n, "%llds", secs);
}

void adk_heartbeat(adk_state *s)
{
    long long turn = clock_mono_ms() - s->started_ms;
    char when[32];

    s->heartbeats++;
    if (turn - s->last_beat_ms < s->beat_every_ms)
        return;
    s->last_beat_ms = turn;
    adk_duration(turn, when, sizeof when);
    progress_report(s->progress, -1, "still working, %s", when);
}

char *adk_take_reply(adk_state *s)
{
    nemo_buf *b = s->reply.len ? &s->reply : &s->partial;

    if (adk_is_blank(buf_str(b), b->len)) {
        buf_reset(b);
        return NULL;
    }
    return buf_detach(b);
}
