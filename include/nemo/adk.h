/* adk.h - interpret Agent Development Kit events carried in SSE data lines:
 * partial text chunks, the final text (shown once), function calls and
 * responses (internal; progress only), error events, heartbeats. */
#ifndef NEMO_ADK_H
#define NEMO_ADK_H

#include <stddef.h>
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

#endif
