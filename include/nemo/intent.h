/* intent.h - route a user prompt the way the seeds' table does:
 * export / credits / state / upload skip the agent; everything else goes to
 * it. English and Chinese keywords. */
#ifndef NEMO_INTENT_H
#define NEMO_INTENT_H

typedef enum {
    INTENT_AGENT = 0,
    INTENT_EXPORT,
    INTENT_CREDITS,
    INTENT_STATE,
    INTENT_UPLOAD
} intent_route;

intent_route intent_classify(const char *prompt);
const char *intent_name(intent_route r);  /* "agent", "export", ... */

#endif
