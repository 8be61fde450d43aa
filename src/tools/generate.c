/* generate.c - the `generate` tool.
 *
 * A prompt is routed first, as the seeds' table does: export, credits and
 * state requests are answered here without the agent, an upload request is
 * told how to use `upload`, and everything else is one agent turn run as a
 * job. The turn reads the timeline before it starts (journalled, so a new
 * process can tell what a turn it lost did), streams the reply, rewrites GUI
 * talk into tool calls, and reads the timeline again to list the changes.
 * A stream that drops or times out is never sent again: the state is read
 * the documented way (after 30 s, then every 60 s, five reads) and the
 * change is reported once the timeline moved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/json.h"
#include "nemo/clock.h"
#include "nemo/gui.h"
#include "nemo/intent.h"
#include "nemo/log.h"
#include "nemo/filecheck.h"
#include "nemo/event.h"
#include "tools_internal.h"

/* What cancelling a turn cannot undo. Set as soon as the job exists, so a
 * cancel that beats the job's thread still says it. */
#define GEN_CANCEL_NOTE "Edits the agent already made stay on the " \
                        "timeline; call `state` to see it."

#define GEN_DIGEST_MAX (1u << 20)   /* journalled timeline digest, bytes */

typedef struct gen_arg {
    nemo_api *api;
    char *session;
    char *prompt;
    char *phase;        /* resumed: how far the dead process got */
    cJSON *before;      /* resumed: timeline digest recorded before the turn
                         * (the draft, in records of older versions) */
    int have_before;
    long long ask_ms;   /* task: may wait this long for the person */
} gen_arg;

static void gen_arg_free(void *p)
{
    gen_arg *a = p;

    if (!a)
        return;
    free(a->session);
    free(a->prompt);
    free(a->phase);
    cJSON_Delete(a->before);
    free(a);
}

cJSON *tool_generate_shape(const char *status, const char *route,
                           const char *reply)
{
    cJSON *st = cJSON_CreateObject();

    cJSON_AddStringToObject(st, "status", status);
    cJSON_AddStringToObject(st, "route", route);
    cJSON_AddStringToObject(st, "reply", reply ? reply : "");
    cJSON_AddItemToObject(st, "actions", cJSON_CreateArray());
    cJSON_AddBoolToObject(st, "timeline_changed", 0);
    cJSON_AddItemToObject(st, "changes", cJSON_CreateArray());
    cJSON_AddStringToObject(st, "timeline_summary", "");
    cJSON_AddItemToObject(st, "generated_media", cJSON_CreateArray());
    return st;
}

static void set_item(cJSON *st, const char *key, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(st, key);
    cJSON_AddItemToObject(st, key, v);
}

char *tool_silent_reply(const cJSON *changes)
{
    nemo_buf b = NEMO_BUF_INIT;
    char *list;

    if (cJSON_GetArraySize(changes) == 0) {
        buf_puts(&b, "The agent finished without a written reply, and "
                     "nothing visible changed on the timeline. Call `state` "
                     "to check, or rephrase the request.");
        return buf_detach(&b);
    }
    list = tool_bullets(changes);
    buf_printf(&b, "The agent made these changes without a written reply:\n"
                   "%s", list ? list : "");
    free(list);
    return buf_detach(&b);
}

/* Timeline fields of a generate result: changes between before and after,
 * the summary after, and the generated media. */
static void fill_timeline(cJSON *st, const timeline *before,
                          const timeline *after, const cJSON *state_after)
{
    cJSON *changes = timeline_diff(before, after);
    char *summary = timeline_summary(after);

    if (!changes)
        changes = cJSON_CreateArray();
    cJSON_DeleteItemFromObjectCaseSensitive(st, "timeline_changed");
    cJSON_AddBoolToObject(st, "timeline_changed",
                          cJSON_GetArraySize(changes) > 0);
    set_item(st, "changes", changes);
    set_item(st, "timeline_summary", cJSON_CreateString(summary ? summary
                                                                : ""));
    set_item(st, "generated_media", tool_state_media(state_after));
    free(summary);
}

/* ---- the agent's questions (status "needs_input") ---- */

cJSON *tool_questions_json(const adk_questions *q)
{
    cJSON *arr = cJSON_CreateArray(), *o, *opts;
    int i, k;

    for (i = 0; arr && i < q->n; i++) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", q->items[i].id);
        cJSON_AddStringToObject(o, "prompt", q->items[i].prompt);
        opts = cJSON_AddArrayToObject(o, "options");
        for (k = 0; k < q->items[i].noptions; k++)
            cJSON_AddItemToArray(opts,
                                 cJSON_CreateString(q->items[i].options[k]));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* Each question with its options, and what the model should do. */
static void questions_text(const cJSON *questions, nemo_buf *text)
{
    const cJSON *q, *o;
    int i = 0;

    if (cJSON_GetArraySize(questions) == 0)
        return;
    buf_puts(text, "\n\nThe video agent needs an answer before it can "
                   "continue:");
    cJSON_ArrayForEach(q, questions) {
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
        int k = 0;

        buf_printf(text, "\n%d. %s", ++i, json_str(q, "prompt"));
        cJSON_ArrayForEach(o, opts)
            buf_printf(text, "%s%s", k++ ? " | " : " Options: ",
                       cJSON_GetStringValue(o));
    }
    buf_puts(text, "\nAsk the user (show the options; they may also answer "
                   "in their own words) and do not answer for them.");
}

/* The next step after a question, in both halves of the result: the
 * user's answer goes back through generate, in the same session. */
static void add_answer_action(cJSON *st, const char *sid)
{
    cJSON *args = cJSON_CreateObject();

    cJSON_AddStringToObject(args, "session", sid);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(st, "actions"),
                         tool_action("generate", args, "then send their "
                                     "answer with `generate` (as the prompt, "
                                     "same session) so the agent "
                                     "continues"));
}

/* The text a person reads: the reply, the changes when the reply did not
 * already list them, the timeline, and the suggested next steps. */
static void result_text(const cJSON *st, int silent, nemo_buf *text)
{
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(st, "changes");
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(st, "actions");
    const char *summary = json_str(st, "timeline_summary");

    buf_puts(text, json_str(st, "reply"));
    questions_text(cJSON_GetObjectItemCaseSensitive(st, "questions"), text);
    if (!silent && cJSON_GetArraySize(changes) > 0) {
        char *list = tool_bullets(changes);
        buf_printf(text, "\n\nTimeline changes:\n%s", list ? list : "");
        free(list);
    }
    if (summary && summary[0] && !strstr(buf_str(text), summary))
        buf_printf(text, "\n\n%s", summary);
    tool_media_text(cJSON_GetObjectItemCaseSensitive(st, "generated_media"),
                    text);
    tool_actions_text(actions, text);
}

static void result_set(nemo_result *out, cJSON *st, const char *text)
{
    result_free(out);
    out->structured = st;
    out->text = strdup(text);
}

/* A 1002 during a call moved the work to a new session: keep using it. */
static void adopt_session(const api_ctl *ctl, char *sid, size_t n,
                          char *old, size_t on)
{
    if (ctl->session_reset && ctl->new_session[0] &&
        strcmp(sid, ctl->new_session) != 0) {
        if (!old[0])
            snprintf(old, on, "%s", sid);
        snprintf(sid, n, "%s", ctl->new_session);
    }
}

/* The reply and actions of a turn with text, GUI talk rewritten. */
static void take_reply(cJSON *st, const char *raw, nemo_cancel *cancel)
{
    char *rewritten = NULL;
    cJSON *actions = NULL;

    if (gui_translate_cancel(raw, cancel, &rewritten, &actions) != 0) {
        LOG_WARN("generate", "GUI translation failed; reply kept as is");
        set_item(st, "reply", cJSON_CreateString(raw));
        cJSON_Delete(actions);
        free(rewritten);
        return;
    }
    set_item(st, "reply", cJSON_CreateString(rewritten ? rewritten : raw));
    set_item(st, "actions", actions ? actions : cJSON_CreateArray());
    free(rewritten);
}

/* ---- a stream that dropped or timed out ---- */

/* The skill's recovery: never send the prompt again; read the state after
 * 30 s, then every 60 s, five reads in all, and report the change the turn
 * made once the timeline moved. NEMO_RECOVER_POLL_MS sets the first wait
 * (the later ones are twice that). */
#define RECOVER_READS 5
#define RECOVER_FIRST_MS 30000LL

/* Two drafts alike, absent ones included (cJSON_Compare says NULL is
 * unlike everything). */
static int drafts_same(const cJSON *a, const cJSON *b)
{
    return (!a && !b) || (a && b && cJSON_Compare(a, b, 1));
}

/* 0 with *state (owned) once the timeline differs from before; 1 when it
 * never did (*reads: how many reads succeeded; err: the last read error);
 * -1 with err when cancelled. */
static int recover_turn(nemo_job *j, gen_arg *a, api_ctl *ctl,
                        const char *sid, const timeline *before,
                        const cJSON *before_draft, cJSON **state, int *reads,
                        nemo_err *err)
{
    long long base = clock_env_ms("NEMO_RECOVER_POLL_MS", RECOVER_FIRST_MS,
                                  1, 3600000);
    int i;

    *state = NULL;
    *reads = 0;
    for (i = 0; i < RECOVER_READS; i++) {
        timeline now;
        cJSON *changes;
        nemo_err rerr;
        int moved;

        progress_report(job_progress(j), -1, "the connection to the agent "
                        "was lost; checking the timeline (%d of %d)", i + 1,
                        RECOVER_READS);
        if (cancel_sleep_ms(job_cancel_token(j), i == 0 ? base : 2 * base)) {
            err_set(err, NEMO_E_CANCELLED, "The request was cancelled while "
                    "checking what the interrupted turn did.");
            return -1;
        }
        err_clear(&rerr);
        if (api_state_get(a->api, ctl, sid, state, &rerr) != 0) {
            LOG_WARN("generate", "recovery read %d: %s", i + 1,
                     rerr.message);
            *err = rerr;
            continue;
        }
        (*reads)++;
        memset(&now, 0, sizeof now);
        timeline_from_draft(tool_state_draft(*state), &now);
        changes = timeline_diff(before, &now);
        /* Moved: a visible change, or any change to the draft at all. */
        moved = cJSON_GetArraySize(changes) > 0 ||
                !drafts_same(before_draft, tool_state_draft(*state));
        cJSON_Delete(changes);
        timeline_free(&now);
        if (moved)
            return 0;
        cJSON_Delete(*state);
        *state = NULL;
    }
    return 1;
}

/* The result of a recovered turn: what changed, said plainly. */
static void recovered_result(nemo_job *j, const char *sid, const char *why,
                             const char *partial, const timeline *before,
                             const cJSON *state, nemo_result *out)
{
    cJSON *st = tool_generate_shape("completed", "agent", "");
    nemo_buf text = NEMO_BUF_INIT;
    timeline after;
    char *list;

    memset(&after, 0, sizeof after);
    timeline_from_draft(tool_state_draft(state), &after);
    fill_timeline(st, before, &after, state);
    list = tool_bullets(cJSON_GetObjectItemCaseSensitive(st, "changes"));
    buf_printf(&text, "The connection to the video agent was lost (%s), so "
               "its written reply is %s, but the turn went on and changed "
               "the timeline", why, partial && partial[0] ? "cut short"
               : "missing");
    if (list && list[0]) {
        buf_printf(&text, ":\n%s", list);
    } else {
        /* The draft changed in ways the track summary does not show. */
        buf_puts(&text, " (in details the track summary does not show; "
                        "call `state` to see it).");
        cJSON_DeleteItemFromObjectCaseSensitive(st, "timeline_changed");
        cJSON_AddBoolToObject(st, "timeline_changed", 1);
    }
    if (partial && partial[0]) {
        char *rewritten = NULL;
        cJSON *actions = NULL;

        /* GUI talk rewritten as in a normal reply; its actions dropped
         * (the turn's outcome is the timeline above). */
        if (gui_translate_cancel(partial, job_cancel_token(j), &rewritten,
                                 &actions) != 0) {
            free(rewritten);
            rewritten = NULL;
        }
        buf_printf(&text, "\n\nWhat it had said so far: %s",
                   rewritten ? rewritten : partial);
        free(rewritten);
        cJSON_Delete(actions);
    }
    set_item(st, "reply", cJSON_CreateString(buf_str(&text)));
    buf_reset(&text);
    cJSON_AddStringToObject(st, "job", job_id(j));
    cJSON_AddStringToObject(st, "session", sid);
    result_text(st, 1, &text);
    result_set(out, st, buf_str(&text));
    free(list);
    timeline_free(&after);
    buf_free(&text);
}

/* Five reads, nothing moved: the turn most likely never ran. */
static void recover_failed(const char *why, int reads, const nemo_err *last,
                           nemo_result *out)
{
    long long base = clock_env_ms("NEMO_RECOVER_POLL_MS", RECOVER_FIRST_MS,
                                  1, 3600000);
    char span[32];

    /* The waits: base, then 2 * base for each later read. */
    tool_fmt_duration(base * (2 * RECOVER_READS - 1), span, sizeof span);
    if (reads == 0) {
        result_error(out, NULL, "The video agent did not finish: %s. The "
                     "prompt was not sent again (that could spend credits "
                     "twice), and the timeline could not be read to see "
                     "what the turn did (%s). Call `state` to check before "
                     "asking again.", why, last->message);
        return;
    }
    result_error(out, NULL, "The video agent did not finish: %s. The prompt "
                 "was not sent again (that could spend credits twice), and "
                 "the timeline was read %d times over %s without any "
                 "change, so the request most likely did not go through. "
                 "Try again: call `generate` with the same prompt.", why,
                 reads, span);
}

/* The turn's stream failed after the prompt reached the agent. */
static void gen_recover(nemo_job *j, gen_arg *a, api_ctl *ctl,
                        const char *sid, const timeline *before,
                        const cJSON *before_draft, const api_turn *turn,
                        const nemo_err *turn_err, nemo_result *out)
{
    char why[sizeof turn_err->message];
    cJSON *state = NULL;
    nemo_err err;
    int rc, reads;

    snprintf(why, sizeof why, "%s", turn_err->message);
    err_clear(&err);
    job_record_set(j, "phase", cJSON_CreateString("recovering"));
    rc = recover_turn(j, a, ctl, sid, before, before_draft, &state, &reads,
                      &err);
    if (rc == 0)
        recovered_result(j, sid, why, turn->reply, before, state, out);
    else if (rc < 0)
        tool_result_err(out, &err);
    else
        recover_failed(why, reads, &err, out);
    cJSON_Delete(state);
}

/* What the journal keeps of the timeline before a turn: the digest a
 * resumed job diffs against (timeline.h), or false when even that is too
 * big to journal (the resumed turn then says it cannot tell). */
static cJSON *gen_digest(const timeline *t)
{
    cJSON *d = timeline_digest(t);
    char *text = d ? cJSON_PrintUnformatted(d) : NULL;

    if (!text || strlen(text) > GEN_DIGEST_MAX) {
        if (text)
            LOG_WARN("generate", "the timeline is too large to journal "
                     "(%zu bytes); a restart could not tell what the turn "
                     "changed", strlen(text));
        cJSON_Delete(d);
        d = cJSON_CreateFalse();
    }
    free(text);
    return d;
}

static void gen_job(nemo_job *j, void *argp, nemo_result *out)
{
    gen_arg *a = argp;
    const nemo_progress *p = job_progress(j);
    char sid[API_SESSION_MAX], old_sid[API_SESSION_MAX] = "";
    cJSON *state = NULL, *after_state = NULL, *st = NULL;
    timeline before, after;
    nemo_buf text = NEMO_BUF_INIT;
    api_turn turn;
    api_ctl ctl;
    nemo_err err;
    char *after_err = NULL;
    int has_text;

    memset(&before, 0, sizeof before);
    memset(&after, 0, sizeof after);
    memset(&turn, 0, sizeof turn);
    snprintf(sid, sizeof sid, "%s", a->session);
    tool_ctl_init(&ctl, job_cancel_token(j), p);
    err_clear(&err);
    job_set_cancel_note(j, GEN_CANCEL_NOTE);

    progress_report(p, -1, "reading the timeline");
    if (tool_state_get(a->api, &ctl, sid, &state, &err) != 0) {
        tool_result_err(out, &err);
        goto out;
    }
    adopt_session(&ctl, sid, sizeof sid, old_sid, sizeof old_sid);
    timeline_from_draft(tool_state_draft(state), &before);
    job_record_set(j, "before", gen_digest(&before));
    if (old_sid[0])
        job_record_set(j, "session", cJSON_CreateString(sid));
    job_record_set(j, "phase", cJSON_CreateString("turn"));
    progress_report(p, -1, "sending the request to the video agent");
    if (api_agent_turn(a->api, &ctl, sid, a->prompt, &turn, &err) != 0) {
        adopt_session(&ctl, sid, sizeof sid, old_sid, sizeof old_sid);
        if (turn.interrupted && !cancel_requested(job_cancel_token(j)))
            gen_recover(j, a, &ctl, sid, &before, tool_state_draft(state),
                        &turn, &err, out);
        else
            tool_result_err(out, &err);
        goto out;
    }
    adopt_session(&ctl, sid, sizeof sid, old_sid, sizeof old_sid);
    job_record_set(j, "phase", cJSON_CreateString("after"));

    progress_report(p, -1, "reading the timeline after the turn");
    st = tool_generate_shape(turn.needs_input ? "needs_input" : "completed",
                             "agent", "");
    if (turn.needs_input)
        cJSON_AddItemToObject(st, "questions",
                              tool_questions_json(&turn.questions));
    has_text = turn.reply && turn.reply[0];
    if (api_state_get(a->api, &ctl, sid, &after_state, &err) == 0) {
        adopt_session(&ctl, sid, sizeof sid, old_sid, sizeof old_sid);
        timeline_from_draft(tool_state_draft(after_state), &after);
        fill_timeline(st, &before, &after, after_state);
    } else {
        LOG_WARN("generate", "state after the turn: %s", err.message);
        after_err = tool_err_text(&err);
    }
    if (has_text) {
        take_reply(st, turn.reply, job_cancel_token(j));
    } else if (turn.needs_input) {
        /* A question is never "nothing changed". */
        set_item(st, "reply", cJSON_CreateString(
                                  "The video agent has a question before it "
                                  "continues."));
    } else if (!after_err) {
        char *r = tool_silent_reply(
            cJSON_GetObjectItemCaseSensitive(st, "changes"));
        set_item(st, "reply", cJSON_CreateString(r ? r : ""));
        free(r);
    } else {
        buf_printf(&text, "The agent finished without a written reply, and "
                   "the timeline could not be read to see what it did (%s) "
                   "Call `state` to check.", after_err);
        set_item(st, "reply", cJSON_CreateString(buf_str(&text)));
        buf_reset(&text);
    }
    if (turn.needs_input)
        add_answer_action(st, sid);
    cJSON_AddStringToObject(st, "job", job_id(j));
    cJSON_AddStringToObject(st, "session", sid);
    result_text(st, !has_text, &text);
    if (old_sid[0])
        tool_session_reset_note(old_sid, sid, st, &text);
    result_set(out, st, buf_str(&text));
    st = NULL;
    if (old_sid[0])
        event_session_changed(sid);
    event_timeline_changed(sid);
out:
    free(after_err);
    cJSON_Delete(st);
    cJSON_Delete(state);
    cJSON_Delete(after_state);
    timeline_free(&before);
    timeline_free(&after);
    api_turn_free(&turn);
    buf_free(&text);
}

/* ---- a task's turn: the agent's question goes to the person ---- */

/* The person's answer as the next turn of the same job (journalled as its
 * prompt, so a restart during it is reported like any turn). */
static void gen_answer_turn(nemo_job *j, void *argp, const char *sid,
                            const char *prompt, nemo_result *out)
{
    gen_arg *a = argp;
    char *s = strdup(sid), *p = strdup(prompt);

    if (!s || !p) {
        free(s);
        free(p);
        result_error(out, NULL, "Out of memory.");
        return;
    }
    free(a->session);
    a->session = s;
    free(a->prompt);
    a->prompt = p;
    job_record_set(j, "session", cJSON_CreateString(sid));
    job_record_set(j, "prompt", cJSON_CreateString(prompt));
    gen_job(j, a, out);
}

static void gen_task_job(nemo_job *j, void *argp, nemo_result *out)
{
    gen_arg *a = argp;

    gen_job(j, a, out);
    tool_job_ask_follow_up(j, a->ask_ms, gen_answer_turn, a, out);
}

/* ---- after a restart: the stream died with the old process ---- */

static cJSON *interrupted_shape(const char *prompt, const char *why)
{
    char reply[1024];

    snprintf(reply, sizeof reply, "The request \"%.200s%s\" was interrupted: "
             "%s Please ask again.",
             prompt ? prompt : "", prompt && strlen(prompt) > 200 ? "..." : "",
             why);
    return tool_generate_shape("interrupted", "agent", reply);
}

static void interrupted_result(nemo_result *out, const char *sid,
                               const char *prompt, const char *why)
{
    cJSON *st = interrupted_shape(prompt, why);
    const char *reply = json_str(st, "reply");

    if (sid && sid[0])
        cJSON_AddStringToObject(st, "session", sid);
    result_free(out);
    out->text = strdup(reply);
    out->structured = st;
}

static void gen_resume_job(nemo_job *j, void *argp, nemo_result *out)
{
    gen_arg *a = argp;
    static const char restart[] = "the server process restarted while the "
                                  "agent was working on it, and nothing "
                                  "changed on the timeline.";
    char sid[API_SESSION_MAX], old_sid[API_SESSION_MAX] = "";
    cJSON *state = NULL, *st = NULL;
    timeline before, after;
    nemo_buf text = NEMO_BUF_INIT;
    api_ctl ctl;
    nemo_err err;
    char *list = NULL;

    memset(&before, 0, sizeof before);
    memset(&after, 0, sizeof after);
    snprintf(sid, sizeof sid, "%s", a->session);
    tool_ctl_init(&ctl, job_cancel_token(j), job_progress(j));
    err_clear(&err);
    if (!a->have_before || !a->phase ||
        (strcmp(a->phase, "turn") != 0 && strcmp(a->phase, "after") != 0 &&
         strcmp(a->phase, "recovering") != 0)) {
        job_set_outcome(j, JOB_INTERRUPTED);
        interrupted_result(out, sid, a->prompt, "the server process "
                           "restarted before the request reached the "
                           "agent.");
        goto out;
    }
    progress_report(job_progress(j), -1, "reading the timeline to see what "
                    "the interrupted turn did");
    if (api_state_get(a->api, &ctl, sid, &state, &err) != 0) {
        char *msg = tool_err_text(&err);
        job_set_outcome(j, JOB_INTERRUPTED);
        buf_printf(&text, "the server process restarted while the agent "
                   "was working on it, and the timeline could not be read to "
                   "check what it did (%s)", msg ? msg : "");
        free(msg);
        interrupted_result(out, sid, a->prompt, buf_str(&text));
        goto out;
    }
    adopt_session(&ctl, sid, sizeof sid, old_sid, sizeof old_sid);
    /* A digest (or, in a record from an older version, the draft). */
    if (timeline_is_digest(a->before)
            ? timeline_from_digest(a->before, &before) != 0
            : cJSON_IsFalse(a->before)) {
        job_set_outcome(j, JOB_INTERRUPTED);
        interrupted_result(out, sid, a->prompt, "the server process "
                           "restarted while the agent was working on it, "
                           "and the timeline before the turn was not "
                           "recorded, so what it did cannot be checked. "
                           "Call `state` to see the timeline.");
        goto out;
    }
    if (!timeline_is_digest(a->before))
        timeline_from_draft(a->before, &before);
    timeline_from_draft(tool_state_draft(state), &after);
    st = tool_generate_shape("completed", "agent", "");
    fill_timeline(st, &before, &after, state);
    cJSON_AddStringToObject(st, "job", job_id(j));
    cJSON_AddStringToObject(st, "session", sid);
    if (old_sid[0] || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                          st, "timeline_changed"))) {
        cJSON_Delete(st);
        st = NULL;
        job_set_outcome(j, JOB_INTERRUPTED);
        interrupted_result(out, sid, a->prompt, restart);
        goto out;
    }
    list = tool_bullets(cJSON_GetObjectItemCaseSensitive(st, "changes"));
    buf_printf(&text, "This server restarted while the agent was working, so "
               "its written reply was lost, but the turn changed the "
               "timeline:\n%s", list ? list : "");
    set_item(st, "reply", cJSON_CreateString(buf_str(&text)));
    buf_reset(&text);
    result_text(st, 1, &text);
    result_set(out, st, buf_str(&text));
    st = NULL;
    event_timeline_changed(sid);
out:
    free(list);
    cJSON_Delete(st);
    cJSON_Delete(state);
    timeline_free(&before);
    timeline_free(&after);
    buf_free(&text);
}

static char *dup_str(const cJSON *obj, const char *key)
{
    const char *v = json_str(obj, key);

    return v ? strdup(v) : NULL;
}

int tool_generate_resume(const cJSON *record, job_fn *fn, void **arg,
                         void (**arg_free)(void *), nemo_result *out)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(record, "resume");
    const char *phase = json_str(res, "phase");
    gen_arg *a;
    const cJSON *before;

    /* It died waiting for the person's answer: the question stands. */
    if (phase && strcmp(phase, "asking") == 0 &&
        tool_ask_restarted(cJSON_GetObjectItemCaseSensitive(res, "asking"),
                           out) == 0)
        return -1;
    a = calloc(1, sizeof *a);
    if (!a)
        goto fail;
    a->api = tool_resume_api();
    a->session = dup_str(res, "session");
    if (!a->session)
        a->session = dup_str(record, "session");
    a->prompt = dup_str(res, "prompt");
    a->phase = dup_str(res, "phase");
    before = cJSON_GetObjectItemCaseSensitive(res, "before");
    if (before) {
        a->have_before = 1;
        a->before = cJSON_Duplicate(before, 1);
    }
    if (!a->api || !a->session)
        goto fail;
    *fn = gen_resume_job;
    *arg = a;
    *arg_free = gen_arg_free;
    return 0;
fail:
    interrupted_result(out, a ? a->session : NULL, a ? a->prompt : NULL,
                       "the server process restarted while the agent was "
                       "working on it, and the turn cannot be checked.");
    gen_arg_free(a);
    return -1;
}

/* ---- routes ---- */

static int route_credits(tool_call *call, const char *prompt,
                         tool_output *out)
{
    api_credits c;
    api_ctl ctl;
    nemo_err err;
    char text[256];

    tool_ctl_init(&ctl, call->cancel, call->progress);
    err_clear(&err);
    if (api_credits_get(call->env->api, &ctl, &c, &err) != 0) {
        tool_fail_err(out, &err);
        return 0;
    }
    tool_credits_sentence(&c, text, sizeof text);
    tool_ok(out, tool_generate_shape("completed", "credits", text), text);
    return 0;
}

static int route_state(tool_call *call, const char *prompt, tool_output *out)
{
    nemo_buf text = NEMO_BUF_INIT;
    tool_snapshot snap;
    cJSON *st;

    if (tool_snapshot_read(call, &snap, out) != 0)
        return 0;
    st = tool_generate_shape("completed", "state", snap.summary);
    set_item(st, "timeline_summary", cJSON_CreateString(snap.summary));
    set_item(st, "generated_media", tool_state_media(snap.state));
    cJSON_AddStringToObject(st, "session", snap.sid);
    buf_puts(&text, snap.summary);
    tool_canvas_report(snap.state, st, &text);
    tool_media_text(cJSON_GetObjectItemCaseSensitive(st, "generated_media"),
                    &text);
    tool_session_note(&snap.ctl, snap.sid, sizeof snap.sid, st, &text);
    tool_ok(out, st, buf_str(&text));
    tool_snapshot_free(&snap);
    buf_free(&text);
    return 0;
}

static int route_upload(tool_call *call, const char *prompt,
                        tool_output *out)
{
    nemo_buf text = NEMO_BUF_INIT;
    char reply[1024];
    cJSON *st, *args, *files;

    snprintf(reply, sizeof reply, "To add media, call the `upload` tool with "
             "the local file paths in `files` (or http/https links in "
             "`urls`); it checks each file and sends it to the session. "
             "Accepted types: %s.", filecheck_accepted_list());
    st = tool_generate_shape("completed", "upload", reply);
    args = cJSON_CreateObject();
    files = cJSON_CreateArray();
    cJSON_AddItemToArray(files, cJSON_CreateString("/path/to/clip.mp4"));
    cJSON_AddItemToObject(args, "files", files);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(st, "actions"),
                         tool_action("upload", args, "send the user's files "
                                     "to the editing session"));
    result_text(st, 1, &text);
    tool_ok(out, st, buf_str(&text));
    buf_free(&text);
    return 0;
}

static int route_export(tool_call *call, const char *prompt,
                        tool_output *out)
{
    tool_export_req req;

    memset(&req, 0, sizeof req);
    req.session = tool_arg_str(call->args, "session");
    req.wait_ms = tool_wait_ms(call->args);
    req.generate_shape = 1;
    return tool_export_begin(call, &req, out);
}

/* One agent turn on session sid as a job, waited for as the call asks.
 * request_id: the caller's, or NULL (an answer the person gave). */
int tool_generate_turn(tool_call *call, const char *sid, const char *prompt,
                       const char *request_id, tool_output *out)
{
    char errbuf[512] = "";
    job_spec spec;
    gen_arg *a;
    nemo_job *j;
    cJSON *resume, *extra;
    int existed = 0;

    a = calloc(1, sizeof *a);
    resume = cJSON_CreateObject();
    if (!a || !resume || !(a->session = strdup(sid)) ||
        !(a->prompt = strdup(prompt))) {
        gen_arg_free(a);
        cJSON_Delete(resume);
        tool_fail_msg(out, "Out of memory.");
        return 0;
    }
    a->api = call->env->api;
    a->ask_ms = call->task_mode ? call->task_ask_ms : 0;
    cJSON_AddStringToObject(resume, "session", sid);
    cJSON_AddStringToObject(resume, "prompt", prompt);
    cJSON_AddStringToObject(resume, "phase", "queued");
    memset(&spec, 0, sizeof spec);
    spec.tool = "generate";
    spec.session = sid;
    spec.request_id = request_id;
    spec.resume = resume;
    j = job_start(call->env->jobs, &spec,
                  a->ask_ms > 0 ? gen_task_job : gen_job, a, gen_arg_free,
                  &existed, errbuf, sizeof errbuf);
    if (!j) {
        tool_fail_msg(out, "Could not start the request: %s",
                      errbuf[0] ? errbuf : "unknown error");
        return 0;
    }
    if (existed)
        LOG_INFO("generate", "request_id %s: returning job %s, prompt not "
                 "sent again", spec.request_id, job_id(j));
    else
        job_set_cancel_note(j, GEN_CANCEL_NOTE);
    extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "route", "agent");
    cJSON_AddStringToObject(extra, "session",
                            job_session(j) && job_session(j)[0]
                                ? job_session(j) : sid);
    if (call->task_mode)
        tool_job_handoff(j, extra, out);
    else
        tool_job_report(j, tool_job_wait(call, j, !existed,
                                         tool_wait_ms(call->args)),
                        extra, out);
    cJSON_Delete(extra);
    job_unref(j);
    return 0;
}

static int route_agent(tool_call *call, const char *prompt, tool_output *out)
{
    char sid[API_SESSION_MAX];
    api_ctl ctl;

    tool_ctl_init(&ctl, call->cancel, call->progress);
    if (tool_session(call, &ctl, prompt, sid, sizeof sid, out) != 0)
        return 0;
    tool_generate_turn(call, sid, prompt,
                       tool_arg_str(call->args, "request_id"), out);
    /* The agent asked something: put it to the person when the host can. */
    tool_ask_follow_up(call, tool_generate_turn, out);
    return 0;
}

static const struct {
    intent_route route;
    int (*run)(tool_call *call, const char *prompt, tool_output *out);
} routes[] = {
    { INTENT_EXPORT, route_export },
    { INTENT_CREDITS, route_credits },
    { INTENT_STATE, route_state },
    { INTENT_UPLOAD, route_upload },
    { INTENT_AGENT, route_agent },
};

static int generate_route(tool_call *call, tool_output *out)
{
    const char *prompt = tool_arg_str(call->args, "prompt");
    intent_route r;
    size_t i;

    /* The person's answer to the agent's question, given through the host
     * (stateless era): it goes to the agent, not the original prompt. */
    if (tool_ask_resumed(call, tool_generate_turn, out))
        return 0;
    if (!prompt || !prompt[0]) {
        tool_fail_msg(out, "Give the user's request as "
                      "`prompt`.");
        return 0;
    }
    r = intent_classify(prompt);
    for (i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (routes[i].route == r)
            return routes[i].run(call, prompt, out);
    return route_agent(call, prompt, out);
}

/* Out of credits: the person may register through the host and the
 * request goes again once. */
static int generate_run(tool_call *call, tool_output *out)
{
    return tool_with_link_retry(call, out, generate_route);
}

const tool_def tool_generate_def = { "generate", generate_run, 1 };
