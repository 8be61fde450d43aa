/* adk.h - interpret Agent Development Kit events carried in SSE data lines:
 * partial text chunks, the final text (shown once), function calls and
 * responses (internal; progress only), error events, heartbeats. */
#ifndef NEMO_ADK_H
#define NEMO_ADK_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "nemo/buf.h"
#include "nemo/progress.h"

/* A hostile stream can send text without end: what is kept is capped, and
 * a reply that hit the cap ends with a "(cut: ...)" note. */
#define ADK_REPLY_MAX (256u << 10)
#define ADK_PARTIAL_MAX (256u << 10)

typedef struct adk_seen {   /* a final text joined into the reply */
    unsigned long long hash;
    size_t off, len;        /* where in reply; len 0: free slot */
} adk_seen;
/* A question the video agent asks the person (its ask_question call). */
#define ADK_MAX_QUESTIONS 8
#define ADK_MAX_OPTIONS 12
typedef struct adk_question {
    char *id;          /* the agent's id, or "q<n>" when it gave none */
    char *prompt;
    char **options;    /* noptions strings; may be 0 (free answer) */
    int noptions;
} adk_question;

typedef struct adk_questions {
    adk_question *items;
    int n;
} adk_questions;

void adk_questions_free(adk_questions *q);
/* The args of an ask_question call -> questions: {"questions":[{id,
 * prompt|question|text, options:[string | {label|value|text}]}]} or one
 * {"question", "options"}. Bounded (ADK_MAX_*; long texts cut on a UTF-8
 * boundary). 0 with q->n >= 1, or -1 (nothing usable; q empty). */
int adk_questions_parse(const cJSON *args, adk_questions *q);

typedef struct adk_state {
    nemo_buf partial;      /* text of partial chunks since the last final */
    nemo_buf reply;        /* final text, events joined with "\n\n" */
    int reply_cut;         /* ADK_REPLY_MAX reached */
    int partial_cut;       /* ADK_PARTIAL_MAX reached */
    adk_seen *seen;        /* hash set of the texts in reply */
    size_t seen_n, seen_cap;
    unsigned long long seed;
    int saw_final_text;
    int function_calls;
    char last_tool[64];
    int heartbeats;
    int error;             /* an error event arrived */
    char error_message[512];
    int turn_complete;
    adk_questions questions;  /* the agent's open ask_question, if any */
    char waiting_call[128];   /* a long-running call still unanswered */
    long long started_ms;  /* mono */
    long long beat_every_ms;  /* NEMO_HEARTBEAT_MS, default 10000 */
    long long last_beat_ms;   /* turn time of the last "still working" */
    const nemo_progress *progress;
} adk_state;

void adk_init(adk_state *s, const nemo_progress *progress);
void adk_free(adk_state *s);
/* One SSE event's data. Empty data or a non-JSON keep-alive counts as a
 * heartbeat. Returns 0, or 1 when an error event arrived. */
int adk_event(adk_state *s, const char *data, size_t n);
void adk_heartbeat(adk_state *s);  /* SSE comment line */
/* Final reply: final texts, else (stream ended without a final event) the
 * partial text, with the "(cut: ...)" note when it hit its cap; NULL when
 * the turn was silent. Caller frees. */
char *adk_take_reply(adk_state *s);
/* Did the turn end waiting for the person: an ask_question call, or a
 * long-running tool call (longRunningToolIds) with no response? */
int adk_needs_input(const adk_state *s);

#endif
