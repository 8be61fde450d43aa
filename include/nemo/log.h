/* log.h - diagnostics on stderr, levels from NEMO_LOG, secret redaction. */
#ifndef NEMO_LOG_H
#define NEMO_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { NLOG_ERROR = 0, NLOG_WARN, NLOG_INFO, NLOG_DEBUG };

/* Reads NEMO_LOG (error|warn|info|debug); default warn. */
void log_init_from_env(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_enabled(enum log_level level);
/* 0 on success; accepts the names above plus MCP's syslog names
 * (notice, critical, alert, emergency, warning). */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Register a secret (the token). Every log line, every err_set message,
 * every tool result and journal record, and every string passed to
 * log_redact has each registered secret replaced by "[redacted]": one of 8
 * bytes or more wherever it appears, a shorter one where it stands as a
 * whole token (not next to a letter, digit or one of "_-.~+/"). The whole
 * text is redacted before anything is cut. Thread-safe. */
void log_add_secret(const char *secret);
/* Redact in place (the result cut to cap); returns s. */
char *log_redact(char *s, size_t cap);
/* A redacted copy (malloc'd; NULL when out of memory). */
char *log_redact_dup(const char *s);
/* The same for text that is still arriving (a streamed reply): a tail
 * that begins a secret (4 bytes or more of one of 8 or more) is redacted
 * too, since the rest of the secret may be on its way. */
char *log_redact_stream_dup(const char *s);
/* vsnprintf into out, redacting the whole text before it is cut to cap. */
void log_vformat(char *out, size_t cap, const char *fmt, va_list ap);
/* Redact every string in a JSON tree (tool results, journal records). */
struct cJSON;
void log_redact_json(struct cJSON *j);
/* s with control characters and invalid UTF-8 shown as \xNN. */
void log_escape(char *out, size_t cap, const char *s);
/* Non-zero when s contains a registered secret. */
int log_contains_secret(const char *s);
/* Optional observer (the MCP layer forwards to notifications/message). */
typedef void (*log_observer_fn)(void *ctx, enum log_level level,
                                const char *module, const char *line);
void log_set_observer(log_observer_fn fn, void *ctx);
void log_free_secrets(void);

#define LOG_ERROR(mod, ...) log_msg(NLOG_ERROR, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...)  log_msg(NLOG_WARN, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...)  log_msg(NLOG_INFO, mod, __VA_ARGS__)
#define LOG_DEBUG(mod, ...) log_msg(NLOG_DEBUG, mod, __VA_ARGS__)

#endif
