/* test_api.c - the backend client against the reference backend.
 *
 * Starts `python3 tests/backend/refbackend.py --port 0` (NEMO_REFBACKEND
 * overrides the path), reads its READY line, and drives the client while
 * asserting on what the backend saw (GET /_control/requests): token
 * acquisition and sharing, the recovery table, attribution headers,
 * cancellation, and that the token never shows up in any output. */
#define _XOPEN_SOURCE 700   /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/api/api_internal.h"
#include "nemo/clock.h"
#include "nemo/doctor.h"
#include "nemo/log.h"
#include "nemo/store.h"
#include "refbackend.h"
#include "unit.h"

static char backend_url[256];
static char tmp_root[256];
static char config_dir[300];
static char state_dir[300];
static nemo_skill test_skill;

/* ---- backend process ---- */

static mb_backend backend;

static int backend_start(void)
{
    if (mb_start(&backend) != 0)
        return -1;
    snprintf(backend_url, sizeof backend_url, "%s", backend.url);
    return 0;
}

static void backend_stop(void)
{
    mb_stop(&backend);
}

/* A control call; returns the envelope data (caller frees) or NULL. */
static cJSON *control(const char *method, const char *path,
                      const char *body)
{
    char url[512];
    http_request q;
    http_response r;
    nemo_err e;
    cJSON *d = NULL;

    snprintf(url, sizeof url, "%s%s", backend_url, path);
    memset(&q, 0, sizeof q);
    q.method = method;
    q.url = url;
    q.body = body;
    q.body_len = body ? strlen(body) : 0;
    http_response_init(&r);
    if (http_perform(&q, &r, &e) == 0)
        api_envelope_parse(r.status, r.body.data, r.body.len, &d, &e);
    http_response_free(&r);
    return d;
}

static void control_ok(const char *path, const char *body)
{
    cJSON_Delete(control("POST", path, body));
}

/* Requests whose path starts with prefix (a JSON array, caller frees). */
static cJSON *requests(const char *prefix)
{
    char path[256];
    cJSON *d, *arr;

    snprintf(path, sizeof path, "/_control/requests?path=%s", prefix);
    d = control("GET", path, NULL);
    arr = cJSON_DetachItemFromObject(d, "requests");
    cJSON_Delete(d);
    return arr ? arr : cJSON_CreateArray();
}

static int count(const char *prefix)
{
    cJSON *a = requests(prefix);
    int n = cJSON_GetArraySize(a);

    cJSON_Delete(a);
    return n;
}

static const char *req_header(const cJSON *entry, const char *lower)
{
    const cJSON *h = cJSON_GetObjectItem(
        cJSON_GetObjectItem(entry, "headers_lower"), lower);

    return cJSON_IsString(h) ? h->valuestring : NULL;
}

/* ---- per-test environment ---- */

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void env_fresh(void)
{
    if (tmp_root[0])
        nftw(tmp_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    snprintf(tmp_root, sizeof tmp_root, "/tmp/nemo-api-test-XXXXXX");
    if (!mkdtemp(tmp_root))
        abort();
    /* a subdir, so that store_dir creates it (and its mode) itself */
    snprintf(config_dir, sizeof config_dir, "%s/nemovideo", tmp_root);
    setenv("NEMO_CONFIG_DIR", config_dir, 1);
    snprintf(state_dir, sizeof state_dir, "%s/state/nemo-mcp", tmp_root);
    setenv("NEMO_STATE_DIR", state_dir, 1);
    unsetenv("NEMO_CLIENT_ID");
    unsetenv("NEMO_API_URL");
    unsetenv("NEMO_WEB_URL");
    setenv("NEMO_API_BASE", backend_url, 1);
    setenv("NEMO_RETRY_429_MS", "10", 1);
    setenv("NEMO_RETRY_BACKOFF_MS", "5", 1);
    unsetenv("NEMO_TOKEN");
    control_ok("/_control/reset", "{}");
}

static nemo_api *new_api(void)
{
    nemo_err e;
    nemo_api *api = api_new(&test_skill, &e);

    if (!api)
        printf("#   api_new: %s\n", e.message);
    return api;
}

static int mode_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static char *read_text(const char *path)
{
    char *d = NULL;

    fs_read_all(path, &d, NULL, 1 << 24);
    return d;
}

/* ---- pure ---- */

TEST(language_detection)
{
    char l[16];

    unsetenv("LANG");
    api_detect_language("make it 5 seconds", l, sizeof l);
    CHECK_STR(l, "en");
    api_detect_language("把视频剪短一点", l, sizeof l);
    CHECK_STR(l, "zh");
    api_detect_language("この動画を短くして", l, sizeof l);  /* kana+kanji */
    CHECK_STR(l, "ja");
    api_detect_language("カット", l, sizeof l);
    CHECK_STR(l, "ja");
    api_detect_language("영상을 짧게 만들어 줘", l, sizeof l);
    CHECK_STR(l, "ko");
    api_detect_language("add BGM 音乐", l, sizeof l);
    CHECK_STR(l, "zh");
    setenv("LANG", "de_DE.UTF-8", 1);
    api_detect_language("mach es kürzer", l, sizeof l);
    CHECK_STR(l, "de");
    api_detect_language(NULL, l, sizeof l);
    CHECK_STR(l, "de");
    setenv("LANG", "C", 1);
    api_detect_language("x", l, sizeof l);
    CHECK_STR(l, "en");
    setenv("LANG", "POSIX", 1);
    api_detect_language("x", l, sizeof l);
    CHECK_STR(l, "en");
    setenv("LANG", "pt_BR", 1);
    api_detect_language("", l, sizeof l);
    CHECK_STR(l, "pt");
    setenv("LANG", "1234", 1);
    api_detect_language("x", l, sizeof l);
    CHECK_STR(l, "en");
    /* invalid UTF-8 does not confuse it */
    unsetenv("LANG");
    api_detect_language("\xe4\xbd abc \xff\xfe", l, sizeof l);
    CHECK_STR(l, "en");
}

TEST(base_url_policy)
{
    nemo_err e;
    nemo_api *api;
    nemo_skill s = test_skill;
    char url[600];

    setenv("NEMO_API_BASE", "http://api.example.com", 1);
    CHECK(api_new(&s, &e) == NULL);
    CHECK_INT(e.kind, NEMO_E_CONFIG);
    CHECK_CONTAINS(e.message, "NEMO_API_BASE");
    setenv("NEMO_API_BASE", "http://127.0.0.1.evil.com:8080", 1);
    CHECK(api_new(&s, &e) == NULL);
    /* apiDomain from SKILL.md when NEMO_API_BASE is unset */
    unsetenv("NEMO_API_BASE");
    snprintf(s.api_domain, sizeof s.api_domain, "https://x.example///");
    api = api_new(&s, &e);
    CHECK(api != NULL);
    CHECK_STR(api_base_url(api), "https://x.example");
    CHECK_STR(api->base_source, "SKILL.md apiDomain");
    CHECK_INT(api_url(api, "/api/x", url, sizeof url, &e), 0);
    CHECK_STR(url, "https://x.example/api/x");
    CHECK_INT(api_url(api, "http://evil.example/x", url, sizeof url, &e),
              -1);
    CHECK_INT(api_url(api, "relative", url, sizeof url, &e), -1);
    api_free(api);
    s.api_domain[0] = '\0';
    api = api_new(&s, &e);
    CHECK_STR(api_base_url(api), API_DEFAULT_BASE);
    api_free(api);
    snprintf(url, sizeof url, "%s/", backend_url);
    setenv("NEMO_API_BASE", url, 1);
    api = api_new(&s, &e);
    CHECK_STR(api_base_url(api), backend_url);
    CHECK_STR(api->base_source, "NEMO_API_BASE");
    api_free(api);
}

/* ---- tokens ---- */

TEST(anonymous_token_acquired_stored_and_reused)
{
    nemo_api *api, *api2;
    api_credits c;
    api_auth_info ai;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *toks;
    char *cid, *store;
    char cid_path[512];

    env_fresh();
    api = new_api();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(c.available == 100 && c.total == 100 && c.frozen == 0);
    api_auth_describe(api, &ai);
    CHECK_STR(ai.source, "new");
    CHECK(ai.expires_ms > clock_wall_ms() + 6LL * 24 * 3600 * 1000);
    /* files and modes */
    CHECK_INT(mode_of(config_dir), 0700);
    snprintf(cid_path, sizeof cid_path, "%s/client_id", config_dir);
    CHECK_INT(mode_of(cid_path), 0600);
    CHECK_INT(mode_of(ai.store_path), 0600);
    cid = read_text(cid_path);
    CHECK(cid && strlen(cid) == 36);
    CHECK_STR(ai.client_id, cid);
    store = read_text(ai.store_path);
    CHECK_CONTAINS(store, "\"expires_at_ms\"");
    CHECK_CONTAINS(store, cid);
    /* the token answer's user_id and expiry are kept with the token, in
     * the state dir; the shared dir holds only the client id */
    CHECK_CONTAINS(store, "\"user_id\":\"anon_");
    CHECK_CONTAINS(store, "\"expires_at\":\"20");
    CHECK(strncmp(ai.store_path, state_dir, strlen(state_dir)) == 0);
    CHECK_INT(mode_of(state_dir), 0700);
    CHECK(strncmp(ai.user_id, "anon_", 5) == 0);
    /* the backend saw one token request, with that client id */
    toks = requests("/api/auth/anonymous-token");
    CHECK_INT(cJSON_GetArraySize(toks), 1);
    CHECK_STR(req_header(cJSON_GetArrayItem(toks, 0), "x-client-id"), cid);
    CHECK(req_header(cJSON_GetArrayItem(toks, 0), "authorization") == NULL);
    cJSON_Delete(toks);
    /* a second process (a new client) reuses the stored token */
    api2 = new_api();
    CHECK_INT(api_credits_get(api2, &ctl, &c, &e), 0);
    api_auth_describe(api2, &ai);
    CHECK_STR(ai.source, "store");
    CHECK_INT(count("/api/auth/anonymous-token"), 1);
    CHECK_INT(count("/api/credits"), 2);
    free(cid);
    free(store);
    api_free(api);
    api_free(api2);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
}

static void write_client_id(const char *text)
{
    char path[512];

    fs_mkdirs(config_dir, 0700);
    snprintf(path, sizeof path, "%s/client_id", config_dir);
    write_file(path, text, 0644);
}

static char *sent_client_id(int i)
{
    cJSON *toks = requests("/api/auth/anonymous-token");
    const char *h = req_header(cJSON_GetArrayItem(toks, i), "x-client-id");
    char *r = h ? strdup(h) : NULL;

    cJSON_Delete(toks);
    return r;
}

TEST(shared_client_id_is_read_trimmed_and_never_rewritten)
{
    nemo_api *api;
    api_ctl ctl = { 0 };
    nemo_err e;
    char path[512], *cid, *sent;

    /* a UUID with blanks around it */
    env_fresh();
    write_client_id("  1b4e28ba-2fa1-11d2-883f-0016d3cca427\n");
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    sent = sent_client_id(0);
    CHECK_STR(sent, "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    free(sent);
    api_free(api);

    /* what other skills write without uuidgen: sent as it is, kept */
    env_fresh();
    write_client_id("client-1700000000-12345\n");
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    sent = sent_client_id(0);
    CHECK_STR(sent, "client-1700000000-12345");
    free(sent);
    snprintf(path, sizeof path, "%s/client_id", config_dir);
    cid = read_text(path);
    CHECK_STR(cid, "client-1700000000-12345\n");
    free(cid);
    api_free(api);

    /* NEMO_CLIENT_ID wins and is never written */
    env_fresh();
    setenv("NEMO_CLIENT_ID", "my-own-id-42", 1);
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    sent = sent_client_id(0);
    CHECK_STR(sent, "my-own-id-42");
    free(sent);
    snprintf(path, sizeof path, "%s/client_id", config_dir);
    CHECK(access(path, F_OK) != 0);
    unsetenv("NEMO_CLIENT_ID");
    api_free(api);
}

TEST(rejected_client_id_leaves_shared_file_alone)
{
    nemo_api *api;
    api_ctl ctl = { 0 };
    nemo_err e;
    char path[512], *cid, *first, *second, *third;

    env_fresh();
    control_ok("/_control/config", "{\"client_id_uuid_only\":true,"
               "\"token_rate_limit\":false}");
    write_client_id("client-1700000000-12345\n");
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    first = sent_client_id(0);
    second = sent_client_id(1);
    CHECK_STR(first, "client-1700000000-12345");
    CHECK(second && strlen(second) == 36);
    snprintf(path, sizeof path, "%s/client_id", config_dir);
    cid = read_text(path);
    CHECK_STR(cid, "client-1700000000-12345\n");   /* byte for byte */
    free(cid);
    api_free(api);
    /* a restarted server goes straight to its own replacement id */
    control_ok("/_control/expire_token", "{}");
    snprintf(path, sizeof path, "%s/token-", state_dir);
    {
        char cmd[700];

        snprintf(cmd, sizeof cmd, "rm -f '%s'/token*.json", state_dir);
        CHECK(system(cmd) == 0);
    }
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    CHECK_INT(count("/api/auth/anonymous-token"), 3);
    third = sent_client_id(2);
    CHECK_STR(third, second);
    free(first);
    free(second);
    free(third);
    api_free(api);

    /* an id from NEMO_CLIENT_ID that is refused is reported */
    env_fresh();
    control_ok("/_control/config", "{\"client_id_uuid_only\":true}");
    setenv("NEMO_CLIENT_ID", "not-a-uuid", 1);
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), -1);
    CHECK_CONTAINS(e.message, "NEMO_CLIENT_ID");
    CHECK_INT(count("/api/auth/anonymous-token"), 1);
    unsetenv("NEMO_CLIENT_ID");
    api_free(api);
}

TEST(legacy_token_moved_once_and_unsafe_dirs_refused)
{
    nemo_api *api;
    api_ctl ctl = { 0 };
    api_auth_info ai;
    api_credits c;
    nemo_err e;
    char old[700], moved[700], *txt;
    cJSON *d;
    char tok[256], json[600];

    /* a token store left in the shared dir by an older version (the move
     * happens once per process and state dir, at the first use of the
     * state dir: learn the file name in a throwaway dir first) */
    env_fresh();
    api = new_api();
    api_auth_describe(api, &ai);
    api_free(api);
    snprintf(tok, sizeof tok, "%s", strrchr(ai.store_path, '/') + 1);
    env_fresh();
    snprintf(old, sizeof old, "%s/%s", config_dir, tok);
    snprintf(moved, sizeof moved, "%s/%s", state_dir, tok);
    d = control("POST", "/_control/issue_token", "{\"credits\":42}");
    snprintf(tok, sizeof tok, "%s",
             cJSON_GetObjectItem(d, "token")->valuestring);
    cJSON_Delete(d);
    fs_mkdirs(config_dir, 0700);
    snprintf(json, sizeof json, "{\"token\":\"%s\",\"expires_at_ms\":0,"
             "\"base_url\":\"%s\"}", tok, backend_url);
    write_file(old, json, 0600);
    api = new_api();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(c.available == 42);
    CHECK_INT(count("/api/auth/anonymous-token"), 0);
    CHECK(access(old, F_OK) != 0);
    txt = read_text(moved);
    CHECK_CONTAINS(txt, tok);
    CHECK_INT(mode_of(moved), 0600);
    free(txt);
    api_free(api);
    /* one more left behind while the state dir has its own: kept, and
     * doctor asks for it to be removed */
    write_file(old, json, 0600);
    {
        char path[700];
        FILE *f;

        snprintf(path, sizeof path, "%s/doctor.txt", tmp_root);
        f = fopen(path, "w");
        doctor_run_skill(&test_skill, f);
        fclose(f);
        txt = read_text(path);
        CHECK_CONTAINS(txt, "WARN config dir: ");
        CHECK_CONTAINS(txt, "from an older nemo-mcp");
        free(txt);
    }
    CHECK(access(old, F_OK) == 0);

    /* a state dir others can write to is not trusted: a planted token is
     * not used, nothing is written there */
    {
        char name[128];

        snprintf(name, sizeof name, "%s", strrchr(moved, '/') + 1);
        env_fresh();
        snprintf(moved, sizeof moved, "%s/%s", state_dir, name);
    }
    fs_mkdirs(state_dir, 0700);
    chmod(state_dir, 0777);
    write_file(moved, json, 0600);
    api = new_api();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(c.available == 100);                 /* a new token, not 42 */
    CHECK_INT(count("/api/auth/anonymous-token"), 1);
    txt = read_text(moved);
    CHECK_STR(txt, json);                      /* not overwritten either */
    free(txt);
    api_free(api);
    chmod(state_dir, 0700);

    /* a config dir that is a symlink to someone else's writable dir: the
     * client id in it is neither read nor written */
    env_fresh();
    {
        char target[300];

        snprintf(target, sizeof target, "%s/planted", tmp_root);
        CHECK(mkdir(target, 0777) == 0);
        chmod(target, 0777);
        snprintf(old, sizeof old, "%s/client_id", target);
        write_file(old, "planted-client-id", 0644);
        CHECK(symlink(target, config_dir) == 0);
    }
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    txt = sent_client_id(0);
    CHECK(txt && strcmp(txt, "planted-client-id") != 0 && strlen(txt) == 36);
    free(txt);
    txt = read_text(old);
    CHECK_STR(txt, "planted-client-id");
    free(txt);
    api_free(api);
}

TEST(env_token_wins_and_is_not_stored)
{
    nemo_api *api;
    api_credits c;
    api_auth_info ai;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *d, *creds;
    char tok[256];

    env_fresh();
    d = control("POST", "/_control/issue_token", "{\"credits\":55}");
    snprintf(tok, sizeof tok, "%s",
             cJSON_GetObjectItem(d, "token")->valuestring);
    cJSON_Delete(d);
    setenv("NEMO_TOKEN", tok, 1);
    api = new_api();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(c.available == 55);
    api_auth_describe(api, &ai);
    CHECK_STR(ai.source, "env");
    CHECK_INT(count("/api/auth/anonymous-token"), 0);
    CHECK(access(ai.store_path, F_OK) != 0);
    creds = requests("/api/credits");
    CHECK(strstr(req_header(cJSON_GetArrayItem(creds, 0), "authorization"),
                 tok) != NULL);
    cJSON_Delete(creds);
    /* a rejected env token is reported, not silently replaced */
    control_ok("/_control/expire_token", "{}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_AUTH);
    CHECK_CONTAINS(e.message, "NEMO_TOKEN");
    CHECK_INT(count("/api/auth/anonymous-token"), 0);
    unsetenv("NEMO_TOKEN");
    api_free(api);
}

TEST(expired_token_refreshed_exactly_once)
{
    nemo_api *api;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *creds;
    char a1[256], a2[256];

    env_fresh();
    control_ok("/_control/config", "{\"token_rate_limit\":false}");
    api = new_api();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    control_ok("/_control/expire_token", "{}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK_INT(count("/api/auth/anonymous-token"), 2);
    creds = requests("/api/credits");
    CHECK_INT(cJSON_GetArraySize(creds), 3);   /* ok, 1001, ok */
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(creds, 1),
                                  "code")->valueint, 1001);
    snprintf(a1, sizeof a1, "%s",
             req_header(cJSON_GetArrayItem(creds, 1), "authorization"));
    snprintf(a2, sizeof a2, "%s",
             req_header(cJSON_GetArrayItem(creds, 2), "authorization"));
    CHECK(strcmp(a1, a2) != 0);
    cJSON_Delete(creds);
    /* a backend that keeps saying 1001: one refresh, then the error */
    control_ok("/_control/fault", "{\"kind\":\"code\",\"code\":1001,"
               "\"path\":\"/api/credits\",\"count\":5}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_AUTH);
    CHECK_INT(count("/api/auth/anonymous-token"), 3);
    CHECK_INT(count("/api/credits"), 5);
    control_ok("/_control/fault/clear", "{}");
    api_free(api);
}

TEST(refresh_adopts_token_another_process_stored)
{
    nemo_api *a, *b;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;

    env_fresh();
    control_ok("/_control/config", "{\"token_rate_limit\":false}");
    a = new_api();
    b = new_api();
    CHECK_INT(api_credits_get(a, &ctl, &c, &e), 0);
    CHECK_INT(api_credits_get(b, &ctl, &c, &e), 0);
    CHECK_INT(count("/api/auth/anonymous-token"), 1);
    control_ok("/_control/expire_token", "{}");
    CHECK_INT(api_credits_get(a, &ctl, &c, &e), 0);   /* refreshes */
    CHECK_INT(api_credits_get(b, &ctl, &c, &e), 0);   /* adopts a's */
    CHECK_INT(count("/api/auth/anonymous-token"), 2);
    api_free(a);
    api_free(b);
}

TEST(refresh_rate_limited_is_explained)
{
    nemo_api *api;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;

    env_fresh();   /* the backend's one-token-per-client-id limit is on */
    api = new_api();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    control_ok("/_control/expire_token", "{}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_RATE);
    CHECK_CONTAINS(e.message, "one anonymous token per client id");
    CHECK_CONTAINS(e.message, "NEMO_TOKEN");
    /* the token request: once, plus one retry after the 429 wait */
    CHECK_INT(count("/api/auth/anonymous-token"), 3);
    api_free(api);
}

TEST(token_near_expiry_kept_when_renewal_refused)
{
    nemo_api *api;
    api_credits c;
    api_auth_info ai;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *st;
    char *txt, *json;
    long long t0;

    env_fresh();
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    api_auth_describe(api, &ai);
    api_free(api);
    /* pretend it expires in 2 minutes (inside the 5-minute margin) */
    txt = read_text(ai.store_path);
    st = cJSON_Parse(txt);
    cJSON_ReplaceItemInObject(st, "expires_at_ms",
        cJSON_CreateNumber((double)(clock_wall_ms() + 120000)));
    json = cJSON_PrintUnformatted(st);
    fs_write_atomic(ai.store_path, json, strlen(json), 0600);
    unsetenv("NEMO_RETRY_429_MS");   /* prove there is no 30 s wait */
    t0 = clock_mono_ms();
    api = new_api();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(clock_mono_ms() - t0 < 5000);
    api_auth_describe(api, &ai);
    CHECK_STR(ai.source, "store");
    CHECK_INT(count("/api/auth/anonymous-token"), 2);   /* tried once */
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);   /* no new try */
    CHECK_INT(count("/api/auth/anonymous-token"), 2);
    setenv("NEMO_RETRY_429_MS", "10", 1);
    free(txt);
    free(json);
    cJSON_Delete(st);
    api_free(api);
}

TEST(http_400_uses_own_client_id_once)
{
    nemo_api *api;
    api_ctl ctl = { 0 };
    nemo_err e;
    char path[512], *cid, *first, *second;

    env_fresh();
    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":400,"
               "\"path\":\"/api/auth/anonymous-token\",\"count\":1}");
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    CHECK_INT(count("/api/auth/anonymous-token"), 2);
    first = sent_client_id(0);
    second = sent_client_id(1);
    snprintf(path, sizeof path, "%s/client_id", config_dir);
    cid = read_text(path);
    /* the shared file keeps the id it was created with */
    CHECK_STR(cid, first);
    CHECK(strcmp(first, second) != 0);
    free(cid);
    free(first);
    free(second);
    api_free(api);
    /* a backend that always says 400: one other id, then give up */
    env_fresh();
    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":400,"
               "\"path\":\"/api/auth/anonymous-token\",\"count\":9}");
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), -1);
    CHECK_INT(e.kind, NEMO_E_CLIENT_ID);
    CHECK_INT(count("/api/auth/anonymous-token"), 2);
    control_ok("/_control/fault/clear", "{}");
    api_free(api);
}

TEST(two_processes_share_one_token)
{
    int go[2], i, status, ok = 0;
    pid_t kids[2];
    cJSON *creds;

    env_fresh();
    CHECK(pipe(go) == 0);
    fflush(stdout);
    for (i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            nemo_api *api;
            api_credits c;
            api_ctl ctl = { 0 };
            nemo_err e;
            char ch;

            close(go[1]);
            (void)!read(go[0], &ch, 1);   /* both start together */
            api = new_api();
            status = api && api_credits_get(api, &ctl, &c, &e) == 0 ? 0 : 1;
            api_free(api);
            _exit(status);
        }
    }
    close(go[0]);
    close(go[1]);
    for (i = 0; i < 2; i++)
        if (waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0)
            ok++;
    CHECK_INT(ok, 2);
    CHECK_INT(count("/api/auth/anonymous-token"), 1);
    creds = requests("/api/credits");
    CHECK_INT(cJSON_GetArraySize(creds), 2);
    if (cJSON_GetArraySize(creds) == 2)
        CHECK_STR(req_header(cJSON_GetArrayItem(creds, 0), "authorization"),
                  req_header(cJSON_GetArrayItem(creds, 1), "authorization"));
    cJSON_Delete(creds);
}

/* ---- sessions and state ---- */

TEST(session_current_language_and_restart)
{
    nemo_api *api;
    api_session s, s2;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *sess;
    char sid[API_SESSION_MAX];

    env_fresh();
    api = new_api();
    CHECK_INT(api_session_current(api, &ctl, "把这段视频剪成10秒", &s, &e), 0);
    CHECK(s.id[0] != '\0');
    CHECK_INT(s.created, 1);
    CHECK_STR(s.language, "zh");
    sess = requests("/api/tasks/me/with-session/nemo_agent");
    CHECK_INT(cJSON_GetArraySize(sess), 1);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(sess, 0), "json"), "language")->valuestring, "zh");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(sess, 0), "json"), "task_name")->valuestring,
        "project");
    cJSON_Delete(sess);
    /* again: the same one, no request */
    CHECK_INT(api_session_current(api, &ctl, "other", &s2, &e), 0);
    CHECK_STR(s2.id, s.id);
    CHECK_INT(s2.created, 0);
    api_free(api);
    /* a restarted server continues it */
    api = new_api();
    CHECK_INT(api_session_resolve(api, &ctl, NULL, "x", sid, sizeof sid, &e),
              0);
    CHECK_STR(sid, s.id);
    CHECK_INT(api_session_resolve(api, &ctl, "given-id", NULL, sid,
                                  sizeof sid, &e), 0);
    CHECK_STR(sid, "given-id");
    CHECK_INT(api_session_resolve(api, &ctl, "bad\nid", NULL, sid,
                                  sizeof sid, &e), -1);
    CHECK_INT(e.kind, NEMO_E_INVALID);
    CHECK_INT(count("/api/tasks/me/with-session/nemo_agent"), 1);
    api_free(api);
}

TEST(session_lost_1002_recovered)
{
    nemo_api *api;
    api_session s;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *state = NULL;
    char sid2[API_SESSION_MAX], sid3[API_SESSION_MAX], *saved;
    char path[512];

    env_fresh();
    api = new_api();
    CHECK_INT(api_session_current(api, &ctl, "hello", &s, &e), 0);
    CHECK_INT(api_state_get(api, &ctl, s.id, &state, &e), 0);
    CHECK(cJSON_GetObjectItem(state, "draft") != NULL);
    cJSON_Delete(state);
    control_ok("/_control/lose_session", "{}");
    /* state does not recover by itself: the timeline is gone */
    CHECK_INT(api_state_get(api, &ctl, s.id, &state, &e), -1);
    CHECK_INT(e.kind, NEMO_E_SESSION);
    CHECK_INT(e.code, 1002);
    CHECK(state == NULL);
    CHECK_INT(api_session_recover(api, &ctl, s.id, sid2, sizeof sid2, &e),
              0);
    CHECK(strcmp(sid2, s.id) != 0);
    CHECK_INT(ctl.session_reset, 1);
    CHECK_STR(ctl.new_session, sid2);
    snprintf(path, sizeof path, "%s/session.json", state_dir);
    saved = read_text(path);
    CHECK_CONTAINS(saved, sid2);
    /* the account's id survives a restart (for the 2001 link) */
    CHECK_CONTAINS(saved, "\"user_id\":\"anon_");
    CHECK_INT(mode_of(path), 0600);
    free(saved);
    CHECK_INT(api_state_get(api, &ctl, sid2, &state, &e), 0);
    cJSON_Delete(state);
    /* a second caller on the same lost session joins the replacement */
    CHECK_INT(api_session_recover(api, &ctl, s.id, sid3, sizeof sid3, &e),
              0);
    CHECK_STR(sid3, sid2);
    CHECK_INT(count("/api/tasks/me/with-session/nemo_agent"), 2);
    api_free(api);
}

TEST(state_and_credits_shapes)
{
    nemo_api *api;
    api_session s;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *state = NULL, *st;
    char body[512];

    env_fresh();
    api = new_api();
    CHECK_INT(api_session_current(api, &ctl, NULL, &s, &e), 0);
    snprintf(body, sizeof body, "{\"session_id\":\"%s\",\"draft\":{\"t\":"
             "[{\"tt\":0,\"sg\":[{\"d\":5000}]}],\"d\":5000}}", s.id);
    control_ok("/_control/set_state", body);
    CHECK_INT(api_state_get(api, &ctl, s.id, &state, &e), 0);
    st = cJSON_GetObjectItem(state, "draft");
    CHECK(st && cJSON_GetObjectItem(st, "d")->valueint == 5000);
    cJSON_Delete(state);
    /* ids are escaped into the path */
    CHECK_INT(api_state_get(api, &ctl, "a/b?c", &state, &e), -1);
    CHECK_INT(e.kind, NEMO_E_SESSION);
    /* (the control query decodes once: %25 is '%') */
    CHECK_INT(count("/api/state/nemo_agent/me/a%252Fb%253Fc/latest"), 1);
    /* numbers as strings */
    control_ok("/_control/fault", "{\"kind\":\"code\",\"code\":0,\"path\":"
               "\"/api/credits\",\"data\":{\"available\":\"12.5\","
               "\"frozen\":\"1\",\"total\":\"13.5\"}}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(c.available == 12.5 && c.frozen == 1 && c.total == 13.5);
    api_free(api);
}

/* ---- error table end to end ---- */

TEST(backend_errors_become_typed_errors)
{
    nemo_api *api;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;

    env_fresh();
    api = new_api();
    control_ok("/_control/fault", "{\"kind\":\"code\",\"code\":2001,"
               "\"path\":\"/api/credits\"}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_CREDITS);
    /* no link from the backend: built on the web base for the anonymous
     * user_id the token answer gave */
    CHECK(e.bind_id[0] == '\0');
    CHECK(strncmp(e.link, "https://nemovideo.com/register?bind=anon_",
                  41) == 0);
    CHECK_CONTAINS(e.message, e.link);
    /* the older backend shape: its own link wins */
    control_ok("/_control/config", "{\"credits_error_link\":true}");
    control_ok("/_control/fault", "{\"kind\":\"code\",\"code\":2001,"
               "\"path\":\"/api/credits\"}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK(strncmp(e.bind_id, "anon_", 5) == 0);
    CHECK_CONTAINS(e.link, "www.nemovideo.ai/register?bind=anon_");
    CHECK_CONTAINS(e.message, e.link);

    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":402,"
               "\"path\":\"/api/credits\"}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_PLAN);
    CHECK_CONTAINS(e.message, "not a credits problem");

    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":502,"
               "\"path\":\"/api/credits\",\"count\":3,\"body\":"
               "\"<html><title>502 Bad Gateway</title></html>\"}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_SERVER);
    CHECK_CONTAINS(e.message, "502 Bad Gateway");
    CHECK_INT(e.http_status, 502);
    api_free(api);
}

TEST(rate_limit_waits_and_retries_once)
{
    nemo_api *api;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;
    long long t0;

    env_fresh();
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    control_ok("/_control/requests/clear", "{}");
    control_ok("/_control/fault", "{\"kind\":\"rate_limit\",\"path\":"
               "\"/api/credits\",\"count\":1}");
    t0 = clock_mono_ms();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(clock_mono_ms() - t0 < 2000);   /* NEMO_RETRY_429_MS=10 */
    CHECK_INT(count("/api/credits"), 2);
    control_ok("/_control/fault", "{\"kind\":\"rate_limit\",\"path\":"
               "\"/api/credits\",\"count\":2}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_RATE);
    CHECK_CONTAINS(e.message, "retrying once");
    CHECK_INT(count("/api/credits"), 4);
    /* Retry-After honoured when no override is set */
    unsetenv("NEMO_RETRY_429_MS");
    control_ok("/_control/fault", "{\"kind\":\"rate_limit\",\"path\":"
               "\"/api/credits\",\"retry_after\":1}");
    t0 = clock_mono_ms();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK(clock_mono_ms() - t0 >= 1000);
    /* an absurd wait is reported, not slept */
    control_ok("/_control/fault", "{\"kind\":\"rate_limit\",\"path\":"
               "\"/api/credits\",\"retry_after\":3600}");
    t0 = clock_mono_ms();
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_RATE);
    CHECK_CONTAINS(e.message, "60 minutes");
    CHECK(clock_mono_ms() - t0 < 1000);
    setenv("NEMO_RETRY_429_MS", "10", 1);
    api_free(api);
}

static int discard(void *ctx, const char *d, size_t n)
{
    (void)ctx; (void)d; (void)n;
    return 0;
}

TEST(server_errors_retry_reads_only)
{
    nemo_api *api;
    api_session s;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;
    api_send_opts o;
    cJSON *data = NULL;
    char body[512];

    env_fresh();
    api = new_api();
    CHECK_INT(api_session_current(api, &ctl, NULL, &s, &e), 0);
    control_ok("/_control/requests/clear", "{}");
    /* a read: two 503s, then success on the third try */
    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":503,"
               "\"path\":\"/api/credits\",\"count\":2}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK_INT(count("/api/credits"), 3);
    /* a dropped connection on a read: retried too */
    control_ok("/_control/fault", "{\"kind\":\"drop\",\"path\":"
               "\"/api/credits\",\"count\":1}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK_INT(count("/api/credits"), 5);
    /* three 503s: the read gives up after 3 tries */
    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":503,"
               "\"path\":\"/api/credits\",\"count\":3}");
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), -1);
    CHECK_INT(e.kind, NEMO_E_SERVER);
    CHECK_INT(count("/api/credits"), 8);
    /* a generation turn (spends credits): never retried */
    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":500,"
               "\"path\":\"/run_sse\",\"count\":1}");
    snprintf(body, sizeof body, "{\"app_name\":\"nemo_agent\",\"user_id\":"
             "\"me\",\"session_id\":\"%s\",\"new_message\":{\"parts\":"
             "[{\"text\":\"make a video\"}]}}", s.id);
    memset(&o, 0, sizeof o);
    o.method = "POST";
    o.path = "/run_sse";
    o.body = body;
    o.body_len = strlen(body);
    o.accept = "text/event-stream";
    o.on_data = discard;
    CHECK_INT(api_send(api, &ctl, &o, &data, &e), -1);
    CHECK_INT(e.kind, NEMO_E_SERVER);
    CHECK_INT(count("/run_sse"), 1);
    control_ok("/_control/fault/clear", "{}");
    /* the same call streams normally when the backend is fine */
    CHECK_INT(api_send(api, &ctl, &o, &data, &e), 0);
    CHECK(data == NULL);
    CHECK_INT(count("/run_sse"), 2);
    api_free(api);
}

TEST(never_connected_requests_are_retried)
{
    nemo_api *api;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *d = NULL;
    long long t0;

    env_fresh();
    setenv("NEMO_TOKEN", "tok_unused_for_this_test_123", 1);
    setenv("NEMO_API_BASE", "http://127.0.0.1:1", 1);
    setenv("NEMO_RETRY_BACKOFF_MS", "100", 1);
    api = new_api();
    t0 = clock_mono_ms();
    /* not idempotent, but it never left the machine: 3 tries */
    CHECK_INT(api_call(api, &ctl, "POST", "/api/x", NULL, 0, &d, &e), -1);
    CHECK_INT(e.kind, NEMO_E_NETWORK);
    CHECK(clock_mono_ms() - t0 >= 300);   /* 100 + 200 ms of backoff */
    setenv("NEMO_RETRY_BACKOFF_MS", "5", 1);
    unsetenv("NEMO_TOKEN");
    api_free(api);
}

typedef struct canceller {
    nemo_cancel *c;
    long long at;
} canceller;

static void *cancel_soon(void *arg)
{
    canceller *k = arg;

    usleep(200000);
    k->at = clock_mono_ms();
    cancel_request(k->c);
    return NULL;
}

static long long cancelled_call(nemo_api *api, nemo_err *e, int *rc)
{
    nemo_cancel c;
    canceller k;
    api_ctl ctl = { 0 };
    api_credits cr;
    pthread_t t;
    long long done;

    cancel_init(&c);
    ctl.cancel = &c;
    k.c = &c;
    pthread_create(&t, NULL, cancel_soon, &k);
    *rc = api_credits_get(api, &ctl, &cr, e);
    done = clock_mono_ms();
    pthread_join(t, NULL);
    cancel_destroy(&c);
    return done - k.at;
}

TEST(cancellation_of_hung_and_waiting_requests)
{
    nemo_api *api;
    api_ctl ctl = { 0 };
    nemo_err e;
    long long after;
    int rc;

    env_fresh();
    api = new_api();
    CHECK_INT(api_auth_ensure(api, &ctl, &e), 0);
    control_ok("/_control/fault", "{\"kind\":\"hang\",\"path\":"
               "\"/api/credits\"}");
    after = cancelled_call(api, &e, &rc);
    printf("#   hung request cancelled in %lld ms\n", after);
    CHECK_INT(rc, -1);
    CHECK_INT(e.kind, NEMO_E_CANCELLED);
    CHECK(after < 1000);
    control_ok("/_control/fault/clear", "{}");
    /* cancelled while waiting out a 429 */
    unsetenv("NEMO_RETRY_429_MS");
    control_ok("/_control/fault", "{\"kind\":\"rate_limit\",\"path\":"
               "\"/api/credits\",\"retry_after\":30}");
    after = cancelled_call(api, &e, &rc);
    printf("#   429 wait cancelled in %lld ms\n", after);
    CHECK_INT(rc, -1);
    CHECK_INT(e.kind, NEMO_E_CANCELLED);
    CHECK(after < 1000);
    setenv("NEMO_RETRY_429_MS", "10", 1);
    api_free(api);
}

TEST(attribution_headers_on_every_request)
{
    nemo_api *api;
    api_session s;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *all, *it, *st = NULL;
    int n = 0, authed = 0;

    env_fresh();
    api = new_api();
    CHECK_INT(api_session_current(api, &ctl, NULL, &s, &e), 0);
    CHECK_INT(api_credits_get(api, &ctl, &c, &e), 0);
    CHECK_INT(api_state_get(api, &ctl, s.id, &st, &e), 0);
    cJSON_Delete(st);
    all = requests("/");
    cJSON_ArrayForEach(it, all) {
        const char *path = cJSON_GetObjectItem(it, "path")->valuestring;
        const char *auth = req_header(it, "authorization");

        n++;
        CHECK_STR(req_header(it, "x-skill-source"), "test-skill");
        CHECK_STR(req_header(it, "x-skill-version"), "9.9.9");
        CHECK_STR(req_header(it, "x-skill-platform"), "cursor");
        CHECK_STR(req_header(it, "user-agent"), "nemo-mcp/" NEMO_VERSION);
        CHECK_STR(req_header(it, "accept"), "application/json");
        if (strcmp(path, "/api/auth/anonymous-token") == 0) {
            CHECK(auth == NULL);
            CHECK(req_header(it, "x-client-id") != NULL);
        } else {
            CHECK(auth && strncmp(auth, "Bearer ", 7) == 0);
            authed++;
        }
    }
    CHECK_INT(n, 4);
    CHECK_INT(authed, 3);
    cJSON_Delete(all);
    api_free(api);
}

/* ---- the token never leaks ---- */

static void run_noisy_child(const char *out_path)
{
    nemo_api *api;
    api_session s;
    api_credits c;
    api_ctl ctl = { 0 };
    nemo_err e;
    cJSON *st = NULL;
    char sid[API_SESSION_MAX];
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    setenv("NEMO_LOG", "debug", 1);
    log_init_from_env();
    api = new_api();
    api_session_current(api, &ctl, "make a video", &s, &e);
    api_credits_get(api, &ctl, &c, &e);
    control_ok("/_control/expire_token", "{}");
    api_credits_get(api, &ctl, &c, &e);          /* 1001 -> refresh */
    printf("credits error: %s\n", e.message);
    control_ok("/_control/fault", "{\"kind\":\"code\",\"code\":2001,"
               "\"path\":\"/api/credits\"}");
    api_credits_get(api, &ctl, &c, &e);
    printf("2001: %s | %s\n", e.message, err_advice(e.kind));
    control_ok("/_control/lose_session", "{}");
    if (api_state_get(api, &ctl, s.id, &st, &e) != 0) {
        printf("state: %s\n", e.message);
        api_session_recover(api, &ctl, s.id, sid, sizeof sid, &e);
    }
    cJSON_Delete(st);
    control_ok("/_control/fault", "{\"kind\":\"code\",\"code\":1001,"
               "\"path\":\"/api/credits\",\"count\":3}");
    api_credits_get(api, &ctl, &c, &e);
    printf("auth: %s\n", e.message);
    control_ok("/_control/fault/clear", "{}");
    doctor_run(api, stdout);
    fflush(stdout);
    api_free(api);
}

TEST(token_never_printed)
{
    char out_path[400];
    cJSON *all, *it;
    char *out;
    pid_t kid;
    int status = -1, tokens = 0, leaks = 0;

    env_fresh();
    control_ok("/_control/config", "{\"token_rate_limit\":false}");
    snprintf(out_path, sizeof out_path, "%s/noisy.out", tmp_root);
    fflush(stdout);
    kid = fork();
    if (kid == 0) {
        run_noisy_child(out_path);
        _exit(0);
    }
    waitpid(kid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    out = read_text(out_path);
    CHECK(out != NULL);
    /* the scan means something: debug request lines and doctor lines */
    CHECK_CONTAINS(out, "GET /api/credits/balance/simple -> 200");
    CHECK_CONTAINS(out, "OK   backend: reachable");
    CHECK_CONTAINS(out, "bind=");
    all = requests("/");
    cJSON_ArrayForEach(it, all) {
        const char *a = req_header(it, "authorization");

        if (!a || strncmp(a, "Bearer ", 7) != 0)
            continue;
        tokens++;
        if (out && strstr(out, a + 7)) {
            leaks++;
            printf("#   token of request %d found in the output\n",
                   cJSON_GetObjectItem(it, "seq")->valueint);
        }
    }
    CHECK(tokens >= 5);
    CHECK_INT(leaks, 0);
    cJSON_Delete(all);
    free(out);
    unlink(out_path);
}

TEST(doctor_report)
{
    nemo_api *api;
    char path[400], *txt, *line;
    FILE *f;
    int rc, lines = 0, bad = 0;

    env_fresh();
    api = new_api();
    snprintf(path, sizeof path, "%s/doctor.out", tmp_root);
    f = fopen(path, "w");
    rc = doctor_run(api, f);
    fclose(f);
    CHECK_INT(rc, 0);
    txt = read_text(path);
    CHECK_CONTAINS(txt, "OK   config dir: ");
    CHECK_CONTAINS(txt, "OK   state dir: ");
    CHECK_CONTAINS(txt, "OK   web URL: https://nemovideo.com");
    CHECK_CONTAINS(txt, "OK   account: anon_");
    CHECK_CONTAINS(txt, "OK   token: new anonymous token, saved, expires ");
    CHECK_CONTAINS(txt, "(in 6d 23h)");
    CHECK_CONTAINS(txt, "OK   client id: ");
    CHECK_CONTAINS(txt, "skill: source=test-skill version=9.9.9 "
                        "platform=cursor (from /opt/skills/SKILL.md)");
    CHECK_CONTAINS(txt, "WARN base URL: http://127.0.0.1");
    CHECK_CONTAINS(txt, "OK   backend: reachable, credits available 100");
    for (line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        lines++;
        if (strncmp(line, "OK   ", 5) && strncmp(line, "WARN ", 5) &&
            strncmp(line, "FAIL ", 5))
            bad++;
    }
    CHECK(lines >= 7);
    CHECK_INT(bad, 0);
    free(txt);
    api_free(api);
    /* backend down: FAIL and a non-zero result; defaults warned about */
    setenv("NEMO_API_BASE", "http://127.0.0.1:1", 1);
    f = fopen(path, "w");
    rc = doctor_run_skill(NULL, f);
    fclose(f);
    CHECK_INT(rc, 1);
    txt = read_text(path);
    CHECK_CONTAINS(txt, "FAIL backend: Cannot connect");
    CHECK_CONTAINS(txt, "WARN skill: using built-in defaults");
    CHECK_CONTAINS(txt, "WARN token: none yet");
    free(txt);
    setenv("NEMO_API_BASE", "http://example.com", 1);
    f = fopen(path, "w");
    rc = doctor_run_skill(NULL, f);
    fclose(f);
    CHECK_INT(rc, 1);
    txt = read_text(path);
    CHECK_CONTAINS(txt, "FAIL base URL: ");
    free(txt);
    /* the ecosystem's names: NEMO_API_URL before NEMO_API_BASE; a remote
     * plain-http web URL is refused like the API base */
    setenv("NEMO_API_URL", "http://127.0.0.1:1", 1);
    setenv("NEMO_WEB_URL", "http://127.0.0.1:2/", 1);
    chmod(state_dir, 0770);
    f = fopen(path, "w");
    rc = doctor_run_skill(NULL, f);
    fclose(f);
    txt = read_text(path);
    CHECK_CONTAINS(txt, "base URL: http://127.0.0.1:1 (from NEMO_API_URL)");
    CHECK_CONTAINS(txt, "web URL: http://127.0.0.1:2 (from NEMO_WEB_URL");
    /* a refused state dir: said why, and that nothing is saved */
    CHECK_CONTAINS(txt, "WARN state dir: not used: ");
    CHECK_CONTAINS(txt, "writable by its group");
    free(txt);
    chmod(state_dir, 0700);
    setenv("NEMO_WEB_URL", "http://example.com", 1);
    f = fopen(path, "w");
    rc = doctor_run_skill(NULL, f);
    fclose(f);
    CHECK_INT(rc, 1);
    txt = read_text(path);
    CHECK_CONTAINS(txt, "Web URL from NEMO_WEB_URL");
    free(txt);
    unsetenv("NEMO_API_URL");
    unsetenv("NEMO_WEB_URL");
    unlink(path);
}

/* ---- pure parsers of backend answers ---- */

static int token_parse(const char *json, long long now, api_token *t)
{
    cJSON *d = cJSON_Parse(json);
    nemo_err e;
    int rc;

    err_clear(&e);
    rc = auth_token_parse(d, now, t, &e);
    cJSON_Delete(d);
    return rc;
}

TEST(token_answer_parse)
{
    const long long now = 1764633600000LL;   /* 2025-12-02T00:00:00Z */
    const long long week = 7LL * 24 * 3600 * 1000;
    api_token t;

    /* the documented shape */
    CHECK_INT(token_parse("{\"token\":\"nmv_usr_abc\",\"user_id\":"
                          "\"anon_123\",\"credits\":100,\"expires_at\":"
                          "\"2025-12-09T00:00:00Z\"}", now, &t), 0);
    CHECK_STR(t.token, "nmv_usr_abc");
    CHECK_STR(t.user_id, "anon_123");
    CHECK(t.expires_ms == now + week);
    /* offsets and fractions */
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_at\":"
                          "\"2025-12-09T02:00:00.5+02:00\"}", now, &t), 0);
    CHECK(t.expires_ms == now + week);
    /* the older shape: seconds since the epoch, or expires_in */
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_at\":1765238400}",
                          now, &t), 0);
    CHECK(t.expires_ms == now + week);
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_in\":604800}", now,
                          &t), 0);
    CHECK(t.expires_ms == now + week);
    /* nothing said: the documented 7 days */
    CHECK_INT(token_parse("{\"token\":\"x\"}", now, &t), 0);
    CHECK(t.expires_ms == now + week);
    CHECK_STR(t.user_id, "");
    /* absurd numbers mean "unknown" (0), never "expired": no refresh storm
     * and no undefined float-to-integer conversion */
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_in\":1e300}", now,
                          &t), 0);
    CHECK(t.expires_ms == 0);
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_in\":-5}", now, &t),
              0);
    CHECK(t.expires_ms == 0);
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_at\":1e19}", now,
                          &t), 0);
    CHECK(t.expires_ms == 0);
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_at\":"
                          "\"2001-01-01T00:00:00Z\"}", now, &t), 0);
    CHECK(t.expires_ms == 0);       /* in the past: a skewed clock */
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_at\":"
                          "\"99999999999-01-01T00:00:00Z\"}", now, &t), 0);
    CHECK(t.expires_ms == 0);
    CHECK_INT(token_parse("{\"token\":\"x\",\"expires_at\":\"soon\"}",
                          now, &t), 0);
    CHECK(t.expires_ms == 0);
    /* a user id that could not go into a link is dropped */
    CHECK_INT(token_parse("{\"token\":\"x\",\"user_id\":\"a b&c\"}", now,
                          &t), 0);
    CHECK_STR(t.user_id, "");
    /* no token */
    CHECK_INT(token_parse("{\"user_id\":\"anon_1\"}", now, &t), -1);
    CHECK_INT(token_parse("{\"token\":\"\"}", now, &t), -1);
    CHECK_INT(token_parse("[]", now, &t), -1);
}

TEST(session_and_claim_answers_parse)
{
    api_session s;
    nemo_err e;
    cJSON *d;
    char ct[64];
    long long exp;

    err_clear(&e);
    d = cJSON_Parse("{\"task_id\":\"task_1\",\"session_id\":\"s1\","
                    "\"user_id\":\"anon_9\"}");
    CHECK_INT(api_session_parse(d, &s, &e), 0);
    CHECK_STR(s.id, "s1");
    CHECK_STR(s.task_id, "task_1");
    CHECK_STR(s.user_id, "anon_9");
    cJSON_Delete(d);
    /* the seeds' shape names the account bind_id */
    d = cJSON_Parse("{\"session_id\":\"s2\",\"task_id\":\"t\","
                    "\"bind_id\":\"anon_7\"}");
    CHECK_INT(api_session_parse(d, &s, &e), 0);
    CHECK_STR(s.user_id, "anon_7");
    cJSON_Delete(d);
    d = cJSON_Parse("{\"sessionId\":552979870602441,\"taskId\":\"t\"}");
    CHECK_INT(api_session_parse(d, &s, &e), 0);
    CHECK_STR(s.id, "552979870602441");
    CHECK_STR(s.user_id, "");
    cJSON_Delete(d);
    /* a number a double cannot hold exactly is no id (digits would be
     * lost), nor is an absurd one */
    d = cJSON_Parse("{\"session_id\":5529798706024415232}");
    CHECK_INT(api_session_parse(d, &s, &e), -1);
    cJSON_Delete(d);
    d = cJSON_Parse("{\"session_id\":1e300}");
    CHECK_INT(api_session_parse(d, &s, &e), -1);
    cJSON_Delete(d);
    d = cJSON_Parse("{\"task_id\":\"t\"}");
    CHECK_INT(api_session_parse(d, &s, &e), -1);
    CHECK_INT(e.kind, NEMO_E_PROTOCOL);
    cJSON_Delete(d);

    d = cJSON_Parse("{\"claim_token\":\"clm_abc\",\"expires_in\":604800}");
    CHECK_INT(api_claim_parse(d, 1000, ct, sizeof ct, &exp, &e), 0);
    CHECK_STR(ct, "clm_abc");
    CHECK(exp == 1000 + 604800000LL);
    cJSON_Delete(d);
    d = cJSON_Parse("{\"claim_token\":\"clm_abc\",\"expires_in\":1e300}");
    CHECK_INT(api_claim_parse(d, 1000, ct, sizeof ct, &exp, &e), 0);
    CHECK(exp == 0);
    cJSON_Delete(d);
    /* nothing that could break out of the link's query */
    d = cJSON_Parse("{\"claim_token\":\"clm&token=x\"}");
    CHECK_INT(api_claim_parse(d, 1000, ct, sizeof ct, &exp, &e), -1);
    cJSON_Delete(d);
    d = cJSON_Parse("{\"expires_in\":5}");
    CHECK_INT(api_claim_parse(d, 1000, ct, sizeof ct, &exp, &e), -1);
    cJSON_Delete(d);
}

TEST(placeholder_token_counts_as_unset)
{
    char out[64];

    setenv("NEMO_TOKEN", "${user_config.nemo_token}", 1);
    CHECK_INT(api_env_token(out, sizeof out), 0);
    CHECK_STR(out, "");
    setenv("NEMO_TOKEN", "  ", 1);
    CHECK_INT(api_env_token(out, sizeof out), 0);
    setenv("NEMO_TOKEN", " real-token ", 1);
    CHECK_INT(api_env_token(out, sizeof out), 1);
    CHECK_STR(out, "real-token");
    unsetenv("NEMO_TOKEN");
    CHECK_INT(api_env_token(out, sizeof out), 0);
}

TEST(claim_link_cached_and_never_fatal)
{
    nemo_api *api;
    api_ctl ctl = { 0 };
    api_session s;
    nemo_err e;
    char url[1024], url2[1024];
    cJSON *claims;

    env_fresh();
    setenv("NEMO_WEB_URL", "https://web.example/", 1);
    api = new_api();
    CHECK_INT(api_session_current(api, &ctl, NULL, &s, &e), 0);
    CHECK_INT(api_claim_url(api, &ctl, s.id, NULL, url, sizeof url), 0);
    CHECK(strncmp(url, "https://web.example/workspace/claim?ct=clm_", 43) == 0);
    /* cached per session: no second request */
    CHECK_INT(api_claim_url(api, &ctl, s.id, NULL, url2, sizeof url2), 0);
    CHECK_STR(url2, url);
    claims = requests("/api/auth/claim-token");
    CHECK_INT(cJSON_GetArraySize(claims), 1);
    {
        const cJSON *j = cJSON_GetObjectItem(cJSON_GetArrayItem(claims, 0),
                                             "json");
        const cJSON *task = cJSON_GetObjectItem(j, "task_id");
        const cJSON *sess = cJSON_GetObjectItem(j, "session_id");

        CHECK(cJSON_IsString(task) && strcmp(task->valuestring,
                                             s.task_id) == 0);
        CHECK(cJSON_IsString(sess) && strcmp(sess->valuestring, s.id) == 0);
    }
    cJSON_Delete(claims);
    /* a failing claim request is no error, just no link */
    control_ok("/_control/fault", "{\"kind\":\"status\",\"status\":500,"
               "\"path\":\"/api/auth/claim-token\",\"count\":9}");
    CHECK_INT(api_claim_url(api, &ctl, "other-session", "task_x", url,
                            sizeof url), -1);
    /* a session whose task is unknown gets none, without a request */
    CHECK_INT(api_claim_url(api, &ctl, "unknown-session", NULL, url,
                            sizeof url), API_CLAIM_NO_TASK);
    control_ok("/_control/fault/clear", "{}");
    unsetenv("NEMO_WEB_URL");
    api_free(api);
}

int main(void)
{
    memset(&test_skill, 0, sizeof test_skill);
    snprintf(test_skill.name, sizeof test_skill.name, "test-skill");
    snprintf(test_skill.version, sizeof test_skill.version, "9.9.9");
    snprintf(test_skill.platform, sizeof test_skill.platform, "cursor");
    snprintf(test_skill.path, sizeof test_skill.path, "/opt/skills/SKILL.md");
    test_skill.from_file = 1;
    signal(SIGPIPE, SIG_IGN);
    http_global_init();
    RUN(language_detection);
    RUN(token_answer_parse);
    RUN(session_and_claim_answers_parse);
    RUN(placeholder_token_counts_as_unset);
    if (backend_start() != 0) {
        printf("not ok reference_backend_started\n");
        return 1;
    }
    RUN(base_url_policy);
    RUN(anonymous_token_acquired_stored_and_reused);
    RUN(shared_client_id_is_read_trimmed_and_never_rewritten);
    RUN(rejected_client_id_leaves_shared_file_alone);
    RUN(legacy_token_moved_once_and_unsafe_dirs_refused);
    RUN(env_token_wins_and_is_not_stored);
    RUN(expired_token_refreshed_exactly_once);
    RUN(refresh_adopts_token_another_process_stored);
    RUN(refresh_rate_limited_is_explained);
    RUN(token_near_expiry_kept_when_renewal_refused);
    RUN(http_400_uses_own_client_id_once);
    RUN(two_processes_share_one_token);
    RUN(session_current_language_and_restart);
    RUN(session_lost_1002_recovered);
    RUN(state_and_credits_shapes);
    RUN(backend_errors_become_typed_errors);
    RUN(rate_limit_waits_and_retries_once);
    RUN(server_errors_retry_reads_only);
    RUN(never_connected_requests_are_retried);
    RUN(cancellation_of_hung_and_waiting_requests);
    RUN(attribution_headers_on_every_request);
    RUN(token_never_printed);
    RUN(doctor_report);
    RUN(claim_link_cached_and_never_fatal);
    backend_stop();
    if (tmp_root[0])
        nftw(tmp_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    http_global_cleanup();
    log_free_secrets();
    return unit_done();
}
