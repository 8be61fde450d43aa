/* log.c - diagnostics on stderr. Owns the log level and the secret list:
 * every line passes through the redactor before it is written, so a token
 * cannot leak through a log call even by mistake. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nemo/clock.h"
#include "nemo/log.h"

#define LOG_MAX_SECRETS 8
#define LOG_REDACTED "[redacted]"

static enum log_level log_level = NLOG_WARN;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_secrets[LOG_MAX_SECRETS];
static log_observer_fn log_observer;
static void *log_observer_ctx;

static const struct {
    const char *name;
    enum log_level level;
} log_names[] = {
    { "error", NLOG_ERROR },  { "warn", NLOG_WARN },
    { "info", NLOG_INFO },    { "debug", NLOG_DEBUG },
    /* MCP (syslog) names map onto ours. */
    { "warning", NLOG_WARN }, { "notice", NLOG_INFO },
    { "critical", NLOG_ERROR }, { "alert", NLOG_ERROR },
    { "emergency", NLOG_ERROR },
};

int log_level_parse(const char *name, enum log_level *out)
{
    size_t i;

    for (i = 0; name && i < sizeof log_names / sizeof log_names[0]; i++) {
        if (strcasecmp(name, log_names[i].name) == 0) {
            *out = log_names[i].level;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    static const char *names[] = { "error", "warn", "info", "debug" };

    return level <= NLOG_DEBUG ? names[level] : "debug";
}

void log_init_from_env(void)
{
    const char *s = getenv("NEMO_LOG");
    enum log_level lv;

    if (s && *s) {
        if (log_level_parse(s, &lv) == 0)
            log_set_level(lv);
        else
            fprintf(stderr, "nemo-mcp: NEMO_LOG=%s is not one of error, "
                            "warn, info, debug; using warn\n", s);
    }
}

void log_set_level(enum log_level level)
{
    __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

enum log_level log_get_level(void)
{
    return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int log_enabled(enum log_level level)
{
    return level <= log_get_level();
}

void log_add_secret(const char *secret)
{
    size_t i;

    if (!secret || strlen(secret) < 8)
        return;
    pthread_mutex_lock(&log_mu);
    for (i = 0; i < LOG_MAX_SECRETS; i++) {
        if (log_secrets[i] && strcmp(log_secrets[i], secret) == 0)
            break;
        if (!log_secrets[i]) {
            log_secrets[i] = strdup(secret);
            break;
        }
    }
    if (i == LOG_MAX_SECRETS) {
        /* Full: forget the oldest; it is no longer in use. */
        free(log_secrets[0]);
        memmove(log_secrets, log_secrets + 1,
                sizeof log_secrets[0] * (LOG_MAX_SECRETS - 1));
        log_secrets[LOG_MAX_SECRETS - 1] = strdup(secret);
    }
    pthread_mutex_unlock(&log_mu);
}

void log_free_secrets(void)
{
    size_t i;

    pthread_mutex_lock(&log_mu);
    for (i = 0; i < LOG_MAX_SECRETS; i++) {
        free(log_secrets[i]);
        log_secrets[i] = NULL;
    }
    pthread_mutex_unlock(&log_mu);
}

static void redact_one(char *s, size_t cap, const char *secret)
{
    size_t sl = strlen(secret), rl = strlen(LOG_REDACTED);
    char *hit;

    while ((hit = strstr(s, secret)) != NULL) {
        size_t tail = strlen(hit + sl);

        if (rl <= sl || (size_t)(hit - s) + rl + tail < cap) {
            memmove(hit + rl, hit + sl, tail + 1);
            memcpy(hit, LOG_REDACTED, rl);
        } else {
            memset(hit, '*', sl);  /* no room to expand: mask in place */
        }
    }
}

char *log_redact(char *s, size_t cap)
{
    size_t i;

    if (!s)
        return s;
    pthread_mutex_lock(&log_mu);
    for (i = 0; i < LOG_MAX_SECRETS; i++)
        if (log_secrets[i])
            redact_one(s, cap, log_secrets[i]);
    pthread_mutex_unlock(&log_mu);
    return s;
}

int log_contains_secret(const char *s)
{
    size_t i;
    int hit = 0;

    if (!s)
        return 0;
    pthread_mutex_lock(&log_mu);
    for (i = 0; i < LOG_MAX_SECRETS && !hit; i++)
        hit = log_secrets[i] && strstr(s, log_secrets[i]) != NULL;
    pthread_mutex_unlock(&log_mu);
    return hit;
}

void log_set_observer(log_observer_fn fn, void *ctx)
{
    pthread_mutex_lock(&log_mu);
    log_observer = fn;
    log_observer_ctx = ctx;
    pthread_mutex_unlock(&log_mu);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    char line[2048], stamp[32];
    log_observer_fn obs;
    void *obs_ctx;
    va_list ap;

    pthread_mutex_lock(&log_mu);
    obs = log_observer;
    obs_ctx = log_observer_ctx;
    pthread_mutex_unlock(&log_mu);
    if (!log_enabled(level) && !obs)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_redact(line, sizeof line);
    if (log_enabled(level)) {
        clock_iso8601(clock_wall_ms(), stamp, sizeof stamp);
        fprintf(stderr, "%s nemo-mcp %-5s [%s] %s\n", stamp,
                log_level_name(level), module ? module : "-", line);
    }
    if (obs)
        obs(obs_ctx, level, module ? module : "-", line);
}
