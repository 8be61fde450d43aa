/* log.c - diagnostics on stderr. Owns the log level and the secret list:
 * every line passes through the redactor before it is written, so a token
 * cannot leak through a log call even by mistake. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "nemo/clock.h"
#include "nemo/log.h"

#define LOG_MAX_SECRETS 8
#define LOG_REDACTED "[redacted]"
#define LOG_SUBSTRING_MIN 8
#define LOG_TAIL_MIN 4

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

    if (!secret || !*secret)
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

/* ---- redaction ----
 *
 * Rule: a secret of LOG_SUBSTRING_MIN bytes or more is redacted wherever
 * it appears, even inside a longer word; a shorter one (a user may set
 * NEMO_TOKEN to anything) only where it stands as a whole token, i.e. not
 * next to another token character. Redacting a 3-byte secret inside every
 * word would make all output unreadable and would itself reveal the
 * secret by where the holes are; a short secret is only ever printed on
 * its own (a header value, a JSON string, a "token=" parameter), which the
 * whole-token match catches. */

static int log_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
           c == '~' || c == '+' || c == '/' || c >= 0x80;
}

/* Length of the secret matching at s[i], or 0. Caller holds log_mu. */
static size_t log_match(const char *s, size_t i, size_t len)
{
    size_t k;

    for (k = 0; k < LOG_MAX_SECRETS; k++) {
        const char *sec = log_secrets[k];
        size_t sl;

        if (!sec || s[i] != sec[0])
            continue;
        sl = strlen(sec);
        if (sl > len - i || memcmp(s + i, sec, sl) != 0)
            continue;
        if (sl >= LOG_SUBSTRING_MIN ||
            ((i == 0 || !log_token_char((unsigned char)s[i - 1])) &&
             (i + sl == len || !log_token_char((unsigned char)s[i + sl]))))
            return sl;
    }
    return 0;
}

char *log_redact_dup(const char *s)
{
    size_t len, i, o = 0, cap, hits = 0;
    char *out;

    if (!s)
        return NULL;
    len = strlen(s);
    pthread_mutex_lock(&log_mu);
    for (i = 0; i < len; i++) {
        size_t m = log_match(s, i, len);

        if (m) {
            hits++;
            i += m - 1;
        }
    }
    cap = len + hits * sizeof LOG_REDACTED + 1;
    out = malloc(cap);
    for (i = 0; out && i < len; i++) {
        size_t m = log_match(s, i, len);

        if (m) {
            memcpy(out + o, LOG_REDACTED, sizeof LOG_REDACTED - 1);
            o += sizeof LOG_REDACTED - 1;
            i += m - 1;
        } else {
            out[o++] = s[i];
        }
    }
    pthread_mutex_unlock(&log_mu);
    if (out)
        out[o] = '\0';
    return out;
}

/* Bytes at the end of s (len) that begin a long secret, or 0. Fewer than
 * LOG_TAIL_MIN bytes tell nothing worth hiding. Caller holds log_mu. */
static size_t log_tail_match(const char *s, size_t len)
{
    size_t k, m, best = 0;

    for (k = 0; k < LOG_MAX_SECRETS; k++) {
        const char *sec = log_secrets[k];
        size_t sl = sec ? strlen(sec) : 0;

        if (sl < LOG_SUBSTRING_MIN)
            continue;
        for (m = sl - 1 < len ? sl - 1 : len; m >= LOG_TAIL_MIN; m--)
            if (m > best && memcmp(s + len - m, sec, m) == 0) {
                best = m;
                break;
            }
    }
    return best;
}

char *log_redact_stream_dup(const char *s)
{
    char *r = log_redact_dup(s), *out;
    size_t len, tail;

    if (!r)
        return NULL;
    len = strlen(r);
    pthread_mutex_lock(&log_mu);
    tail = log_tail_match(r, len);
    pthread_mutex_unlock(&log_mu);
    if (!tail)
        return r;
    out = malloc(len - tail + sizeof LOG_REDACTED);
    if (out) {
        memcpy(out, r, len - tail);
        memcpy(out + len - tail, LOG_REDACTED, sizeof LOG_REDACTED);
    }
    free(r);
    return out;
}

/* Copy src into out (cap bytes), cut at a UTF-8 character boundary. */
static void log_copy_cut(char *out, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memmove(out, src, n);
    out[n] = '\0';
}

char *log_redact(char *s, size_t cap)
{
    char *r;

    if (!s || cap == 0)
        return s;
    r = log_redact_dup(s);
    if (r) {
        log_copy_cut(s, cap, r);
        free(r);
    } else if (log_contains_secret(s)) {
        snprintf(s, cap, "%s", LOG_REDACTED);  /* no memory: drop it all */
    }
    return s;
}

void log_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
    char *full = NULL, *r = NULL;
    va_list ap2;
    int n;

    if (cap == 0)
        return;
    va_copy(ap2, ap);
    n = vsnprintf(out, cap, fmt, ap2);
    va_end(ap2);
    /* Redact the whole text, then cut: a secret straddling the cut would
     * otherwise leave its first part behind. */
    if (n >= 0 && (size_t)n >= cap && (full = malloc((size_t)n + 1))) {
        vsnprintf(full, (size_t)n + 1, fmt, ap);
        r = log_redact_dup(full);
    }
    if (r) {
        log_copy_cut(out, cap, r);
    } else if (n >= 0 && (size_t)n >= cap) {
        snprintf(out, cap, "%s", LOG_REDACTED);   /* cannot check it */
    } else {
        log_redact(out, cap);
    }
    free(r);
    if (full) {
        memset(full, 0, (size_t)n);
        free(full);
    }
}

static void log_redact_node(cJSON *j, int depth)
{
    cJSON *c;

    if (!j || depth > 256)
        return;
    if (cJSON_IsString(j) && j->valuestring && log_contains_secret(
                                                     j->valuestring)) {
        char *r = log_redact_dup(j->valuestring);

        if (r)
            cJSON_SetValuestring(j, r);
        else
            cJSON_SetValuestring(j, LOG_REDACTED);
        free(r);
    }
    for (c = j->child; c; c = c->next)
        log_redact_node(c, depth + 1);
}

void log_redact_json(cJSON *j)
{
    log_redact_node(j, 0);
}

int log_contains_secret(const char *s)
{
    size_t i, len;
    int hit = 0;

    if (!s)
        return 0;
    len = strlen(s);
    pthread_mutex_lock(&log_mu);
    for (i = 0; i < len && !hit; i++)
        hit = log_match(s, i, len) != 0;
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

/* Backend strings reach log lines: a terminal escape or a newline in them
 * must not repaint the terminal or forge a log line. Control characters
 * (C0, DEL, C1) and invalid UTF-8 bytes are shown as \xNN; valid UTF-8
 * text passes. */
void log_escape(char *out, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;

    if (cap == 0)
        return;
    while (*p && o + 5 < cap) {
        unsigned c = *p;
        size_t need = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 && c < 0xF0 ? 3
                      : c >= 0xC2 && c < 0xE0 ? 2 : 1, k;
        int ok = 1;

        for (k = 1; k < need; k++)
            ok = ok && (p[k] & 0xC0) == 0x80;
        /* U+0080..U+009F (C2 80..C2 9F) are C1 controls. */
        if (need == 2 && c == 0xC2 && p[1] < 0xA0)
            ok = 0;
        if (c >= 0x80 && need == 1)
            ok = 0;
        if (c < 0x20 || c == 0x7f || !ok) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
            p++;
            continue;
        }
        if (o + need >= cap)
            break;
        memcpy(out + o, p, need);
        o += need;
        p += need;
    }
    out[o] = '\0';
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
    log_vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_enabled(level)) {
        char shown[sizeof line * 4];

        log_escape(shown, sizeof shown, line);
        clock_iso8601(clock_wall_ms(), stamp, sizeof stamp);
        fprintf(stderr, "%s nemo-mcp %-5s [%s] %s\n", stamp,
                log_level_name(level), module ? module : "-", shown);
    }
    if (obs)
        obs(obs_ctx, level, module ? module : "-", line);
}
