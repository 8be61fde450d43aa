/* result.h - what a tool call (or a job) produces: the CallToolResult body. */
#ifndef NEMO_RESULT_H
#define NEMO_RESULT_H

#include <cjson/cJSON.h>

typedef struct nemo_result {
    cJSON *structured;  /* owned; matches the tool's output schema */
    char *text;         /* owned; human-readable content text */
    int is_error;
} nemo_result;

void result_init(nemo_result *r);
void result_free(nemo_result *r);
/* Deep copy; 0 on success. */
int result_copy(nemo_result *dst, const nemo_result *src);
/* Error result with a message the model can act on (structured stays NULL
 * unless given). Takes ownership of structured. */
void result_error(nemo_result *r, cJSON *structured, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replace every registered secret in text and structured. */
void result_redact(nemo_result *r);
/* Serialise to {"text":..,"structured":..,"isError":..} and back (journal). */
cJSON *result_to_json(const nemo_result *r);
int result_from_json(nemo_result *r, const cJSON *j);

#endif
