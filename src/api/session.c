/* session.c - editing sessions: the language of the first prompt, the
 * process's current session (remembered in session.json so a restarted
 * server continues it), and recovery after a 1002.
 *
 * session.json: {session_id, task_id, language, created_at_ms, base_url,
 * known[{session_id, task_id}]}; it is reused only for the same base URL. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/num.h"
#include "nemo/store.h"

#define SESSION_FILE "session.json"
#define SESSION_LOCK "session"
#define SESSION_NEW_PATH "/api/tasks/me/with-session/nemo_agent"
#define SESSION_KNOWN_MAX 16

/* ---- language ---- */

/* Scripts that name a language outright. Kana wins over Han (Japanese
 * writes kanji too), Hangul next, then Han alone means Chinese. */
static const struct {
    unsigned lo, hi;
    int lang;   /* index into lang_names */
} lang_ranges[] = {
    { 0x3040, 0x309F, 0 },   /* Hiragana */
    { 0x30A0, 0x30FF, 0 },   /* Katakana */
    { 0x31F0, 0x31FF, 0 },   /* Katakana phonetic extensions */
    { 0xFF66, 0xFF9F, 0 },   /* halfwidth Katakana */
    { 0x1100, 0x11FF, 1 },   /* Hangul Jamo */
    { 0x3130, 0x318F, 1 },   /* Hangul compatibility Jamo */
    { 0xA960, 0xA97F, 1 },   /* Hangul Jamo extended-A */
    { 0xAC00, 0xD7AF, 1 },   /* Hangul syllables */
    { 0xD7B0, 0xD7FF, 1 },   /* Hangul Jamo extended-B */
    { 0x3400, 0x4DBF, 2 },   /* CJK extension A */
    { 0x4E00, 0x9FFF, 2 },   /* CJK unified ideographs */
    { 0xF900, 0xFAFF, 2 },   /* CJK compatibility ideographs */
    { 0x20000, 0x2FA1F, 2 }, /* CJK extensions B..F, supplement */
};
static const char *const lang_names[] = { "ja", "ko", "zh" };

/* Next code point of a UTF-8 string; invalid bytes decode as themselves. */
static unsigned utf8_next(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    unsigned c = *p, need = 0, i;

    if (c >= 0xF0 && c < 0xF8) {
        need = 3;
        c &= 0x07;
    } else if (c >= 0xE0) {
        need = c < 0xF0 ? 2 : 0;
        c &= 0x0F;
    } else if (c >= 0xC0) {
        need = 1;
        c &= 0x1F;
    }
    if (need == 0 && *p >= 0x80) {
        *pp = p + 1;
        return 0xFFFD;
    }
    for (i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *pp = p + 1;
            return 0xFFFD;
        }
        c = (c << 6) | (p[i] & 0x3F);
    }
    *pp = p + need + 1;
    return need ? c : *p;
}

static int script_lang(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    int seen[3] = { 0, 0, 0 }, i;

    while (p && *p) {
        unsigned c = utf8_next(&p);
        size_t k;

        if (c < 0x1100)
            continue;
        for (k = 0; k < sizeof lang_ranges / sizeof lang_ranges[0]; k++)
            if (c >= lang_ranges[k].lo && c <= lang_ranges[k].hi)
                seen[lang_ranges[k].lang] = 1;
    }
    for (i = 0; i < 3; i++)
        if (seen[i])
            return i;
    return -1;
}

/* LANG=de_DE.UTF-8 -> "de"; C/POSIX -> "en"; anything odd -> "". */
static void env_lang(char *out, size_t n)
{
    const char *lang = getenv("LANG");
    char code[8];
    size_t i = 0;

    out[0] = '\0';
    if (!lang || !*lang)
        return;
    while (lang[i] && lang[i] != '_' && lang[i] != '.' && lang[i] != '@' &&
           lang[i] != '-' && i < sizeof code - 1) {
        code[i] = (char)tolower((unsigned char)lang[i]);
        i++;
    }
    code[i] = '\0';
    if (strcmp(code, "c") == 0 || strcmp(code, "posix") == 0) {
        snprintf(out, n, "en");
        return;
    }
    if (i < 2 || i > 3)
        return;
    for (i = 0; code[i]; i++)
        if (!isalpha((unsigned char)code[i]))
            return;
    snprintf(out, n, "%s", code);
}

void api_detect_language(const char *prompt, char *out, size_t n)
{
    int l = prompt ? script_lang(prompt) : -1;

    if (n == 0)
        return;
    if (l >= 0) {
        snprintf(out, n, "%s", lang_names[l]);
        return;
    }
    env_lang(out, n);
    if (!out[0])
        snprintf(out, n, "en");
}

/* ---- creating sessions ---- */

static int json_id(const cJSON *data, const char *a, const char *b,
                   char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, a);
    long long num;

    if (!v)
        v = cJSON_GetObjectItemCaseSensitive(data, b);
    if (cJSON_IsString(v) && v->valuestring[0] &&
        strlen(v->valuestring) < n) {
        snprintf(out, n, "%s", v->valuestring);
        return 0;
    }
    /* A numeric id only while a double holds it exactly (2^53). */
    if (num_ll(v, 0, 9007199254740992LL, &num) == 0) {
        snprintf(out, n, "%lld", num);
        return 0;
    }
    out[0] = '\0';
    return -1;
}

int api_session_parse(const cJSON *data, api_session *out, nemo_err *err)
{
    const char *u;

    memset(out, 0, sizeof *out);
    if (json_id(data, "session_id", "sessionId", out->id,
                sizeof out->id) != 0) {
        err_set(err, NEMO_E_PROTOCOL,
                "The backend created a session but sent no session_id");
        return -1;
    }
    json_id(data, "task_id", "taskId", out->task_id, sizeof out->task_id);
    if ((u = api_user_id_of(data)) != NULL)
        snprintf(out->user_id, sizeof out->user_id, "%s", u);
    return 0;
}

int api_session_new(nemo_api *api, api_ctl *ctl, const char *language,
                    api_session *out, nemo_err *err)
{
    cJSON *body = cJSON_CreateObject(), *data = NULL;
    char lang[16];
    int rc = -1;

    memset(out, 0, sizeof *out);
    snprintf(lang, sizeof lang, "%s", language && *language ? language
                                                            : "en");
    snprintf(out->language, sizeof out->language, "%s", lang);
    if (!body || !cJSON_AddStringToObject(body, "task_name", "project") ||
        !cJSON_AddStringToObject(body, "language", out->language)) {
        err_set(err, NEMO_E_IO, "out of memory");
        goto out;
    }
    /* Marked idempotent: a repeat after a lost answer only leaves an empty
     * session behind, which costs nothing. */
    if (api_call(api, ctl, "POST", SESSION_NEW_PATH, body, 1, &data, err))
        goto out;
    if (api_session_parse(data, out, err) != 0)
        goto out;
    snprintf(out->language, sizeof out->language, "%s", lang);
    if (out->user_id[0])
        api_note_user_id(api, data);
    out->created = 1;
    LOG_INFO("session", "new session %s (language %s)", out->id,
             out->language);
    rc = 0;
out:
    cJSON_Delete(body);
    cJSON_Delete(data);
    return rc;
}

/* ---- session.json ---- */

static int saved_read(nemo_api *api, api_session *s)
{
    char *data = NULL;
    cJSON *root = NULL;
    const cJSON *base, *lang;
    int rc = -1;

    memset(s, 0, sizeof *s);
    if (store_read(SESSION_FILE, &data, NULL) != 0)
        goto out;
    root = cJSON_Parse(data);
    base = cJSON_GetObjectItemCaseSensitive(root, "base_url");
    /* A session belongs to one backend. */
    if (!cJSON_IsString(base) || strcmp(base->valuestring, api->base) != 0)
        goto out;
    if (json_id(root, "session_id", "sessionId", s->id, sizeof s->id) != 0)
        goto out;
    json_id(root, "task_id", "taskId", s->task_id, sizeof s->task_id);
    lang = cJSON_GetObjectItemCaseSensitive(root, "language");
    snprintf(s->language, sizeof s->language, "%s",
             cJSON_IsString(lang) ? lang->valuestring : "en");
    /* The account's id, for the 2001 registration link after a restart. */
    api_note_user_id(api, root);
    rc = 0;
out:
    cJSON_Delete(root);
    free(data);
    return rc;
}

/* session.json's "known": the {session_id, task_id} of the sessions this
 * nemo-mcp started on this backend, newest first, so a session named by id
 * later (no longer current) still gets its claim link, which needs the
 * task id the backend gave only at creation. */
static cJSON *saved_known(nemo_api *api)
{
    char *data = NULL;
    cJSON *root = NULL, *known = NULL, *old, *e;
    const cJSON *base;

    if (store_read(SESSION_FILE, &data, NULL) == 0 &&
        (root = cJSON_Parse(data)) != NULL &&
        cJSON_IsString(base = cJSON_GetObjectItemCaseSensitive(root,
                                                              "base_url")) &&
        strcmp(base->valuestring, api->base) == 0) {
        old = cJSON_DetachItemFromObjectCaseSensitive(root, "known");
        /* The session the file names as current goes first (files of
         * older versions have only that one). */
        if ((known = cJSON_CreateArray()) != NULL) {
            cJSON_AddItemToArray(known, root);
            root = NULL;
        }
        while (known && cJSON_IsArray(old) &&
               (e = cJSON_DetachItemFromArray(old, 0)) != NULL)
            cJSON_AddItemToArray(known, e);
        cJSON_Delete(old);
    }
    cJSON_Delete(root);
    free(data);
    return known;
}

/* The task id of a known session from session.json's list; 0 and out. */
static int known_task_id(nemo_api *api, const char *sid, char *out, size_t n)
{
    cJSON *known = saved_known(api);
    const cJSON *e;
    char id[API_SESSION_MAX];
    int rc = -1;

    cJSON_ArrayForEach(e, known) {
        if (json_id(e, "session_id", "sessionId", id, sizeof id) == 0 &&
            strcmp(id, sid) == 0 &&
            json_id(e, "task_id", "taskId", out, n) == 0) {
            rc = 0;
            break;
        }
    }
    cJSON_Delete(known);
    return rc;
}

int api_session_task_id(nemo_api *api, const char *sid, char *out, size_t n)
{
    out[0] = '\0';
    pthread_mutex_lock(&api->mu);
    if (strcmp(api->current.id, sid) == 0)
        snprintf(out, n, "%s", api->current.task_id);
    pthread_mutex_unlock(&api->mu);
    if (out[0])
        return 0;
    return known_task_id(api, sid, out, n);
}

/* The known list with s first (once), at most SESSION_KNOWN_MAX long. */
static cJSON *known_with(nemo_api *api, const api_session *s)
{
    cJSON *old = saved_known(api), *known = cJSON_CreateArray(), *e;
    cJSON *item = cJSON_CreateObject();
    char id[API_SESSION_MAX];
    int count = 1;

    if (!known || !item || !s->task_id[0] ||
        !cJSON_AddStringToObject(item, "session_id", s->id) ||
        !cJSON_AddStringToObject(item, "task_id", s->task_id)) {
        cJSON_Delete(item);
        item = NULL;
        count = 0;
    }
    if (item)
        cJSON_AddItemToArray(known, item);
    while (known && old && count < SESSION_KNOWN_MAX &&
           (e = cJSON_DetachItemFromArray(old, 0)) != NULL) {
        if (json_id(e, "session_id", "sessionId", id, sizeof id) != 0 ||
            strcmp(id, s->id) == 0) {
            cJSON_Delete(e);
            continue;
        }
        cJSON_AddItemToArray(known, e);
        count++;
    }
    cJSON_Delete(old);
    return known;
}

static void saved_write(nemo_api *api, const api_session *s)
{
    cJSON *o = cJSON_CreateObject(), *known = known_with(api, s);
    char *json = NULL, user[API_USER_ID_MAX];

    pthread_mutex_lock(&api->mu);
    snprintf(user, sizeof user, "%s", s->user_id[0] ? s->user_id
                                                    : api->user_id);
    pthread_mutex_unlock(&api->mu);
    if (o && cJSON_AddStringToObject(o, "session_id", s->id) &&
        cJSON_AddStringToObject(o, "task_id", s->task_id) &&
        cJSON_AddStringToObject(o, "language", s->language) &&
        cJSON_AddStringToObject(o, "user_id", user) &&
        cJSON_AddNumberToObject(o, "created_at_ms",
                                (double)clock_wall_ms()) &&
        cJSON_AddStringToObject(o, "base_url", api->base) && known &&
        cJSON_AddItemToObject(o, "known", known) &&
        (known = NULL, json = cJSON_PrintUnformatted(o)) != NULL &&
        store_write(SESSION_FILE, json, strlen(json), 0600) == 0) {
        free(json);
        cJSON_Delete(o);
        return;
    }
    LOG_WARN("session", "could not remember session %s in the state dir; "
             "a restarted server will start a new one", s->id);
    free(json);
    cJSON_Delete(known);
    cJSON_Delete(o);
}

static void set_current(nemo_api *api, const api_session *s)
{
    pthread_mutex_lock(&api->mu);
    api->current = *s;
    api->current.created = 0;
    pthread_mutex_unlock(&api->mu);
}

static int get_current(nemo_api *api, api_session *out)
{
    int have;

    pthread_mutex_lock(&api->mu);
    have = api->current.id[0] != '\0';
    if (have)
        *out = api->current;
    pthread_mutex_unlock(&api->mu);
    if (have)
        out->created = 0;
    return have;
}

int api_session_current(nemo_api *api, api_ctl *ctl, const char *first_prompt,
                        api_session *out, nemo_err *err)
{
    char lang[16];
    int fd, rc = 0;

    if (get_current(api, out))
        return 0;
    pthread_mutex_lock(&api->session_mu);
    if (get_current(api, out))
        goto out;
    /* Another process (or this one before a restart) may have one. */
    fd = store_lock(SESSION_LOCK, 1);
    if (saved_read(api, out) == 0) {
        LOG_INFO("session", "continuing session %s", out->id);
        set_current(api, out);
    } else {
        api_detect_language(first_prompt, lang, sizeof lang);
        rc = api_session_new(api, ctl, lang, out, err);
        if (rc == 0) {
            saved_write(api, out);
            set_current(api, out);
        }
    }
    store_unlock(fd);
out:
    pthread_mutex_unlock(&api->session_mu);
    return rc;
}

int api_session_known(nemo_api *api, api_session *out)
{
    if (get_current(api, out))
        return 0;
    return saved_read(api, out);
}

static int sid_ok(const char *sid)
{
    size_t n = strlen(sid), i;

    if (n == 0 || n >= API_SESSION_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)sid[i] < 0x20 || sid[i] == 0x7f)
            return 0;
    return 1;
}

int api_session_resolve(nemo_api *api, api_ctl *ctl, const char *given,
                        const char *first_prompt, char *out, size_t n,
                        nemo_err *err)
{
    api_session s;

    if (given && *given) {
        if (!sid_ok(given) || strlen(given) >= n) {
            err_set(err, NEMO_E_INVALID, "'%.80s' is not a session id",
                    given);
            return -1;
        }
        snprintf(out, n, "%s", given);
        return 0;
    }
    if (api_session_current(api, ctl, first_prompt, &s, err) != 0)
        return -1;
    if (strlen(s.id) >= n) {
        err_set(err, NEMO_E_INVALID, "session id too long");
        return -1;
    }
    snprintf(out, n, "%s", s.id);
    return 0;
}

int api_session_recover(nemo_api *api, api_ctl *ctl, const char *old_sid,
                        char *new_sid, size_t n, nemo_err *err)
{
    api_session cur, fresh;
    char lang[16] = "";
    int fd, rc = -1;

    pthread_mutex_lock(&api->session_mu);
    /* Several calls on the same lost session: the first one replaces it,
     * the others continue in its replacement. */
    if (old_sid && get_current(api, &cur) &&
        strcmp(api->recovered_from, old_sid) == 0 &&
        strcmp(cur.id, old_sid) != 0) {
        fresh = cur;
        rc = 0;
        goto done;
    }
    if (old_sid && get_current(api, &cur) && strcmp(cur.id, old_sid) == 0)
        snprintf(lang, sizeof lang, "%s", cur.language);
    if (!lang[0])
        api_detect_language(NULL, lang, sizeof lang);
    if (api_session_new(api, ctl, lang, &fresh, err) != 0)
        goto out;
    fd = store_lock(SESSION_LOCK, 1);
    saved_write(api, &fresh);
    store_unlock(fd);
    set_current(api, &fresh);
    snprintf(api->recovered_from, sizeof api->recovered_from, "%s",
             old_sid ? old_sid : "");
    LOG_WARN("session", "session %s was lost on the backend; continuing in "
             "new session %s (the timeline starts empty)",
             old_sid ? old_sid : "?", fresh.id);
    rc = 0;
done:
    if (strlen(fresh.id) >= n) {
        err_set(err, NEMO_E_INVALID, "session id too long");
        rc = -1;
        goto out;
    }
    snprintf(new_sid, n, "%s", fresh.id);
    if (ctl) {
        ctl->session_reset = 1;
        snprintf(ctl->new_session, sizeof ctl->new_session, "%s", fresh.id);
    }
out:
    pthread_mutex_unlock(&api->session_mu);
    return rc;
}

int api_session_set_current(nemo_api *api, const api_session *s,
                            nemo_err *err)
{
    int fd;

    if (!sid_ok(s->id)) {
        err_set(err, NEMO_E_INVALID, "'%s' is not a session id", s->id);
        return -1;
    }
    pthread_mutex_lock(&api->session_mu);
    fd = store_lock(SESSION_LOCK, 1);
    saved_write(api, s);
    set_current(api, s);
    store_unlock(fd);
    pthread_mutex_unlock(&api->session_mu);
    return 0;
}
