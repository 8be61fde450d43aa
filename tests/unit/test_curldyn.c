/* test_curldyn.c - libcurl loaded on first use (src/api/curl_dyn.c).
 *
 * The first tests run in forked children that point the loader at a
 * library that is missing, or that is not libcurl: every libcurl call and
 * every request must then fail cleanly with one clear message (and doctor
 * must say FAIL), while the common API base URLs are still accepted
 * without libcurl. Then, in this process, the real library: option values
 * of each type must reach libcurl intact through the variadic wrappers. */
#define _XOPEN_SOURCE 700   /* nftw */
#include <curl/curl.h>
#include <dlfcn.h>
#include <ftw.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/api/api_internal.h"
#include "../../src/api/curl_dyn.h"
#include "nemo/doctor.h"
#include "nemo/http.h"
#include "nemo/log.h"
#include "unit.h"

#define NO_SUCH_CURL "libnemo-no-such-curl.so.4"

static char tmp_root[64];

/* Run fn in a child that loads soname instead of libcurl; the child's
 * failed checks come back as its exit status (its own lines go to the
 * same stdout). */
static int in_child(const char *soname, void (*fn)(void))
{
    pid_t pid;
    int st;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        unit_failed_checks = 0;
        curldyn_set_library_for_test(soname);
        fn();
        fflush(stdout);
        _exit(unit_failed_checks ? 1 : 0);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static char *read_all(FILE *f)
{
    long n;
    char *s;

    fflush(f);
    n = ftell(f);
    if (n < 0 || !(s = calloc(1, (size_t)n + 1)))
        return NULL;
    rewind(f);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        return NULL;
    }
    return s;
}

/* ---- no libcurl ---- */

static void missing_library_child(void)
{
    static const char *const hdrs[] = { "Accept: */*", NULL };
    http_request rq;
    http_response resp;
    nemo_err e;
    long l = 0;

    err_clear(&e);
    CHECK_INT(curldyn_load(&e), -1);
    CHECK_INT(e.kind, NEMO_E_CONFIG);
    CHECK_CONTAINS(e.message, "libcurl could not be loaded: ");
    CHECK_CONTAINS(e.message, NO_SUCH_CURL);
    CHECK_CONTAINS(e.message, "; install libcurl4");
    /* Every wrapper fails the way libcurl reports failure. */
    CHECK(curl_easy_init() == NULL);
    CHECK(curl_url() == NULL);
    CHECK(curl_multi_init() == NULL);
    CHECK(curl_share_init() == NULL);
    CHECK(curl_slist_append(NULL, "X: y") == NULL);
    CHECK_INT(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_FAILED_INIT);
    CHECK_INT(curl_easy_setopt(NULL, CURLOPT_URL, "http://127.0.0.1/"),
              CURLE_FAILED_INIT);
    CHECK_INT(curl_easy_getinfo(NULL, CURLINFO_RESPONSE_CODE, &l),
              CURLE_FAILED_INIT);
    CHECK_INT(curl_share_setopt(NULL, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS),
              CURLSHE_INVALID);
    CHECK_INT(curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL), -1);
    CHECK_CONTAINS(curl_version(), "not loaded");
    CHECK_CONTAINS(curl_easy_strerror(CURLE_OK), "not loaded");
    curl_free(NULL);
    curl_slist_free_all(NULL);
    curl_easy_cleanup(NULL);
    curl_global_cleanup();
    /* A request fails with that message, before anything is sent. */
    memset(&rq, 0, sizeof rq);
    rq.method = "GET";
    rq.url = "http://127.0.0.1:1/x";
    rq.headers = hdrs;
    http_response_init(&resp);
    err_clear(&e);
    CHECK_INT(http_perform(&rq, &resp, &e), -1);
    CHECK_INT(e.kind, NEMO_E_CONFIG);
    CHECK_CONTAINS(e.message, "libcurl could not be loaded: ");
    CHECK_INT(resp.status, 0);
    CHECK_INT(resp.request_sent, 0);
    http_response_free(&resp);
}

TEST(missing_library_fails_cleanly)
{
    CHECK_INT(in_child(NO_SUCH_CURL, missing_library_child), 0);
}

static void not_curl_child(void)
{
    nemo_err e;

    err_clear(&e);
    CHECK_INT(curldyn_load(&e), -1);
    CHECK_INT(e.kind, NEMO_E_CONFIG);
    CHECK_CONTAINS(e.message, "libcurl could not be loaded: ");
    CHECK_CONTAINS(e.message, "undefined symbol: curl_");
    CHECK_CONTAINS(e.message, "; install libcurl4");
    CHECK(curl_easy_init() == NULL);
    /* Asked twice, the same answer (it is not retried). */
    err_clear(&e);
    CHECK_INT(curldyn_load(&e), -1);
    CHECK_CONTAINS(e.message, "undefined symbol: curl_");
}

TEST(library_without_curl_symbols)
{
    CHECK_INT(in_child("libc.so.6", not_curl_child), 0);
}

static void doctor_child(void)
{
    FILE *f = tmpfile();
    char *out;

    CHECK(f != NULL);
    if (!f)
        return;
    setenv("NEMO_API_BASE", "http://127.0.0.1:1", 1);
    CHECK_INT(doctor_run_skill(NULL, f), 1);
    out = read_all(f);
    CHECK_CONTAINS(out, "OK   nemo-mcp " NEMO_VERSION "\n");
    CHECK_CONTAINS(out, "FAIL libcurl: libcurl could not be loaded: ");
    CHECK_CONTAINS(out, "install libcurl4");
    free(out);
    fclose(f);
    unsetenv("NEMO_API_BASE");
}

TEST(doctor_says_fail_without_libcurl)
{
    CHECK_INT(in_child(NO_SUCH_CURL, doctor_child), 0);
}

/* ---- URLs accepted without libcurl ----
 *
 * http.c accepts the plain shapes of URL itself, so that the API base URL
 * is checked at startup without loading libcurl. It must never accept what
 * libcurl's parser would refuse: a child without libcurl says which it
 * accepts, and this process (with libcurl) checks each of those. */

static const struct {
    const char *url;
    int plain;   /* must be accepted without libcurl */
} url_rows[] = {
    { "https://mega-api-prod.nemovideo.ai", 1 },
    { "https://mega-api-prod.nemovideo.ai/api/x?y=1&z=a,b", 1 },
    { "https://x.example/", 1 },
    { "https://EXAMPLE.com:443/a/b", 1 },
    { "https://a-b.c-d/x#frag", 1 },
    { "https://127.0.0.1:8443", 1 },
    { "https://0x7f.1/", 1 },
    { "https://999.1.1.1/", 1 },
    { "https://1.2.3.4.5/", 1 },
    { "https://h:65535/~u/x.y_z-(1)!$*'+;:@/", 1 },
    { "http://127.0.0.1:8080/x", 1 },
    { "http://127.9.8.7/", 1 },
    { "http://localhost:1/", 1 },
    { "http://LOCALHOST/", 1 },
    { "http://localhost", 1 },
    /* left to libcurl, whatever it says */
    { "http://0x7f.0.0.1/", 0 },
    { "http://127.1/", 0 },
    { "http://2130706433/", 0 },
    { "http://127.000.000.001/", 0 },
    { "http://[::1]:9/", 0 },
    { "http://evil.com@127.0.0.1/", 0 },
    { "http://127.0.0.1@evil.com/", 0 },
    { "http://127.0.0.1.evil.com/", 0 },
    { "http://localhost.evil.com/", 0 },
    { "http://api.example.com", 0 },
    { "https://h:0/", 0 },
    { "https://h:65536/", 0 },
    { "https://h:08080/", 0 },
    { "https://h:/", 0 },
    { "https://h:1234567/", 0 },
    { "https://h:99999999999999999999999/", 0 },
    { "https://a..b/", 0 },
    { "https://.a/", 0 },
    { "https://a./", 0 },
    { "https://h?x=1", 0 },
    { "https://h/a b", 0 },
    { "https://h/%zz", 0 },
    { "https://h\\evil/", 0 },
    { "https://h/\x01", 0 },
    { "https://h/\x7f", 0 },
    { "https://h_x/", 0 },
    { "HTTPS://h/", 0 },
    { "https:/h", 0 },
    { "https:///h", 0 },
    { "https://", 0 },
    { "http://", 0 },
    { "https://h\xc3\xa9.example/", 0 },
    { "ftp://127.0.0.1/", 0 },
    { "file:///etc/passwd", 0 },
    { "not a url", 0 },
    { "", 0 },
};
#define N_URL_ROWS (sizeof url_rows / sizeof url_rows[0])

static char plain_verdicts[N_URL_ROWS + 1];
static int verdict_fd = -1;

static void plain_urls_child(void)
{
    nemo_api *api;
    nemo_err e;
    size_t i;

    for (i = 0; i < N_URL_ROWS; i++) {
        err_clear(&e);
        plain_verdicts[i] = http_url_allowed(url_rows[i].url, &e) == 0
                                ? '1' : '0';
        if (url_rows[i].plain && plain_verdicts[i] != '1')
            printf("#   %s needed libcurl\n", url_rows[i].url);
        CHECK(!url_rows[i].plain || plain_verdicts[i] == '1');
    }
    CHECK(write(verdict_fd, plain_verdicts, N_URL_ROWS) ==
          (ssize_t)N_URL_ROWS);
    /* So the server starts without libcurl: the default base URL, and a
     * loopback one, as api_new checks them. */
    unsetenv("NEMO_API_BASE");
    err_clear(&e);
    api = api_new(NULL, &e);
    CHECK(api != NULL);
    api_free(api);
    setenv("NEMO_API_BASE", "http://127.0.0.1:8080/", 1);
    api = api_new(NULL, &e);
    CHECK(api != NULL);
    api_free(api);
    /* A refusal needs libcurl's parser; without it, still a refusal. */
    setenv("NEMO_API_BASE", "http://api.example.com", 1);
    err_clear(&e);
    CHECK(api_new(NULL, &e) == NULL);
    CHECK_INT(e.kind, NEMO_E_CONFIG);
    unsetenv("NEMO_API_BASE");
}

/* What http.c's url_parse + http_url_allowed decide, straight from
 * libcurl (the same parts, the same size limits). */
static int libcurl_allows(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int ok = 0;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK &&
        strlen(scheme) < 16 && strlen(host) < 256 && strlen(port) < 8)
        ok = strcasecmp(scheme, "https") == 0 ||
             (strcasecmp(scheme, "http") == 0 && http_host_is_loopback(host));
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

TEST(plain_urls_accepted_without_libcurl_only_if_libcurl_agrees)
{
    int p[2];
    size_t i;

    CHECK(pipe(p) == 0);
    verdict_fd = p[1];
    CHECK_INT(in_child(NO_SUCH_CURL, plain_urls_child), 0);
    close(p[1]);
    memset(plain_verdicts, 0, sizeof plain_verdicts);
    CHECK(read(p[0], plain_verdicts, N_URL_ROWS) == (ssize_t)N_URL_ROWS);
    close(p[0]);
    for (i = 0; i < N_URL_ROWS; i++) {
        nemo_err e;
        int lib = libcurl_allows(url_rows[i].url);

        if (plain_verdicts[i] == '1' && !lib)
            printf("#   %s accepted without libcurl, refused by it\n",
                   url_rows[i].url);
        CHECK(plain_verdicts[i] != '1' || lib);
        /* and with libcurl loaded, http.c decides as libcurl does */
        err_clear(&e);
        CHECK_INT(http_url_allowed(url_rows[i].url, &e) == 0, lib);
    }
}

/* ---- the real library ---- */

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
    nemo_buf *b = ctx;

    return buf_append(b, data, size * n) == 0 ? size * n : 0;
}

/* One file:// transfer: the resume options say where it starts. */
static CURLcode fetch_file(const char *url, CURLoption resume, long from,
                           nemo_buf *out, curl_off_t *size)
{
    CURL *h = curl_easy_init();
    CURLcode rc;

    if (!h)
        return CURLE_OUT_OF_MEMORY;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (resume == CURLOPT_RESUME_FROM_LARGE)
        curl_easy_setopt(h, resume, (curl_off_t)from);
    else
        curl_easy_setopt(h, resume, from);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, size);
    curl_easy_cleanup(h);
    return rc;
}

TEST(options_reach_libcurl_by_type)
{
    char path[128], url[160];
    nemo_buf b;
    curl_off_t size = -1;
    nemo_err e;
    CURL *h;
    void *priv = NULL;
    FILE *f;

    err_clear(&e);
    CHECK_INT(curldyn_load(&e), 0);
    CHECK_CONTAINS(curl_version(), "libcurl/");
    CHECK_STR(curl_easy_strerror(CURLE_OK), "No error");
    CHECK_INT(curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL),
              784111777);
    snprintf(path, sizeof path, "%s/ten", tmp_root);
    snprintf(url, sizeof url, "file://%s", path);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("0123456789", f);
    fclose(f);
    /* long, string, function and callback-data pointers */
    buf_init(&b);
    CHECK_INT(fetch_file(url, CURLOPT_RESUME_FROM, 7, &b, &size), CURLE_OK);
    CHECK_INT(b.len, 3);
    CHECK(b.len == 3 && memcmp(b.data, "789", 3) == 0);
    CHECK_INT(size, 3);   /* getinfo into a curl_off_t */
    buf_free(&b);
    /* curl_off_t */
    buf_init(&b);
    CHECK_INT(fetch_file(url, CURLOPT_RESUME_FROM_LARGE, 4, &b, &size),
              CURLE_OK);
    CHECK(b.len == 6 && memcmp(b.data, "456789", 6) == 0);
    buf_free(&b);
    /* an object pointer comes back unchanged; an unknown option is
     * libcurl's own error */
    h = curl_easy_init();
    CHECK(h != NULL);
    CHECK_INT(curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)path), CURLE_OK);
    CHECK_INT(curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv), CURLE_OK);
    CHECK(priv == (void *)path);
    CHECK_INT(curl_easy_setopt(h, (CURLoption)9999, 1L),
              CURLE_UNKNOWN_OPTION);
    curl_easy_cleanup(h);
    unlink(path);
}

static int locks;

static void count_lock(CURL *h, curl_lock_data d, curl_lock_access a,
                       void *ctx)
{
    (void)h; (void)d; (void)a;
    (*(int *)ctx)++;
}

static void count_unlock(CURL *h, curl_lock_data d, void *ctx)
{
    (void)h; (void)d; (void)ctx;
}

TEST(share_options_reach_libcurl)
{
    CURLSH *sh = curl_share_init();
    CURL *h = curl_easy_init();

    CHECK(sh != NULL && h != NULL);
    locks = 0;
    CHECK_INT(curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, count_lock),
              CURLSHE_OK);
    CHECK_INT(curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, count_unlock),
              CURLSHE_OK);
    CHECK_INT(curl_share_setopt(sh, CURLSHOPT_USERDATA, &locks), CURLSHE_OK);
    CHECK_INT(curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS),
              CURLSHE_OK);
    CHECK_INT(curl_share_setopt(sh, CURLSHOPT_NONE, 0), CURLSHE_BAD_OPTION);
    /* Attaching the share takes its lock: our function, our data. */
    CHECK_INT(curl_easy_setopt(h, CURLOPT_SHARE, sh), CURLE_OK);
    CHECK(locks > 0);
    curl_easy_cleanup(h);
    CHECK_INT(curl_share_cleanup(sh), CURLSHE_OK);
}

/* The wrappers must not be visible to the dynamic linker: libcurl's own
 * calls to its API would bind to them. */
TEST(wrappers_are_not_exported)
{
    CHECK(dlsym(RTLD_DEFAULT, "curl_easy_init") == NULL);
    CHECK(dlsym(RTLD_DEFAULT, "curl_easy_setopt") == NULL);
}

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

int main(void)
{
    char cfg[128];

    snprintf(tmp_root, sizeof tmp_root, "/tmp/nemo-curldyn-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        printf("not ok temp_dir\n");
        return 1;
    }
    snprintf(cfg, sizeof cfg, "%s/config", tmp_root);
    setenv("NEMO_CONFIG_DIR", cfg, 1);
    setenv("NEMO_STATE_DIR", cfg, 1);
    unsetenv("NEMO_TOKEN");
    unsetenv("NEMO_SKILL_FILE");
    /* Children first: this process has not touched libcurl yet. */
    RUN(missing_library_fails_cleanly);
    RUN(library_without_curl_symbols);
    RUN(doctor_says_fail_without_libcurl);
    RUN(plain_urls_accepted_without_libcurl_only_if_libcurl_agrees);
    RUN(options_reach_libcurl_by_type);
    RUN(share_options_reach_libcurl);
    RUN(wrappers_are_not_exported);
    nftw(tmp_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    log_free_secrets();
    return unit_done();
}
