/* test_download.c - render start/status and api_download against the
 * reference backend: the happy path, and every failure leaving nothing
 * behind (dropped connection, HTTP error, not an MP4, disk full, cancel),
 * never replacing an existing file without overwrite, and no token sent to
 * another origin. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/api.h"
#include "nemo/cancel.h"
#include "nemo/error.h"
#include "nemo/store.h"
#include "refbackend.h"
#include "unit.h"

static mb_backend B;
static nemo_api *api;
static char sid[API_SESSION_MAX];
static char dir[256];
static char mp4_url[2048];

static void in_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* Names in dir other than the ones the test made on purpose. */
static int count_entries(const char *prefix_dot)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!prefix_dot || e->d_name[0] == '.')
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static long long file_size(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static int setup(void)
{
    nemo_skill skill;
    nemo_err err;
    api_ctl ctl;
    api_session s;

    if (mb_start(&B) != 0)
        return -1;
    memset(&skill, 0, sizeof skill);
    snprintf(skill.name, sizeof skill.name, "nemo-mcp");
    snprintf(skill.version, sizeof skill.version, "0.1.0");
    snprintf(skill.platform, sizeof skill.platform, "unknown");
    api = api_new(&skill, &err);
    if (!api) {
        printf("# api_new: %s\n", err.message);
        return -1;
    }
    memset(&ctl, 0, sizeof ctl);
    if (api_session_new(api, &ctl, "en", &s, &err) != 0) {
        printf("# session: %s\n", err.message);
        return -1;
    }
    snprintf(sid, sizeof sid, "%s", s.id);
    snprintf(dir, sizeof dir, "/tmp/nemo-dl-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

/* api_download without a reported size (the cap still applies). */
static int dl(api_ctl *ctl, const char *url, const char *dest, int overwrite,
              long long *bytes, nemo_err *err)
{
    api_download_req rq;

    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.dest = dest;
    rq.overwrite = overwrite;
    rq.expect_bytes = -1;
    return api_download(api, ctl, &rq, bytes, err);
}

typedef struct placed {
    long long bytes;
    char sha[80];
    int calls;
    int existed;        /* dest existed when before_place ran */
    const char *dest;
} placed;

static void on_place(void *ctx, long long bytes, const char *sha256)
{
    placed *p = ctx;
    struct stat st;

    p->bytes = bytes;
    snprintf(p->sha, sizeof p->sha, "%s", sha256);
    p->calls++;
    p->existed = stat(p->dest, &st) == 0;
}

static const char draft_json[] =
    "{\"d\":10000,\"t\":[{\"tt\":0,\"m\":{\"name\":\"Video\"},\"sg\":[{\"s\":0,"
    "\"d\":10000,\"m\":{\"label\":\"city timelapse\"}}]}]}";

TEST(render_start_and_poll_to_completed)
{
    cJSON *draft = cJSON_Parse(draft_json), *reqs, *body;
    api_render_status st;
    api_ctl ctl;
    nemo_err err;
    char rid[64];
    int polls = 0;
    double last = -1;

    memset(&ctl, 0, sizeof ctl);
    snprintf(rid, sizeof rid, "render_%d", (int)getpid());
    CHECK_INT(api_render_start(api, &ctl, sid, rid, draft, "mp4", "high", NULL,
                               &err), 0);
    reqs = mb_requests(&B, "/api/render/proxy/lambda");
    body = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "json");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "id")), rid);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "sessionId")),
              sid);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItem(body, "output"), "quality")), "high");
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "draft"), "d")
                  ->valueint, 10000);
    cJSON_Delete(reqs);
    do {
        CHECK_INT(api_render_status_get(api, &ctl, rid, &st, &err), 0);
        CHECK(st.progress >= last);     /* progress only moves forward */
        last = st.progress;
        polls++;
    } while (strcmp(st.status, "completed") != 0 &&
             strcmp(st.status, "failed") != 0 && polls < 10);
    CHECK_STR(st.status, "completed");
    CHECK(st.progress == 100);
    CHECK(polls >= 3);                  /* queued, rendering..., completed */
    CHECK_CONTAINS(st.url, "/files/");
    snprintf(mp4_url, sizeof mp4_url, "%s", st.url);
    /* Unknown render: a typed error, not a crash. */
    CHECK_INT(api_render_status_get(api, &ctl, "render_nope", &st, &err), -1);
    CHECK(err.kind == NEMO_E_NOT_FOUND || err.kind == NEMO_E_BACKEND);
    cJSON_Delete(draft);
}

TEST(render_failure_reports_its_reason)
{
    cJSON *draft = cJSON_Parse(draft_json);
    api_render_status st;
    api_ctl ctl;
    nemo_err err;
    int polls = 0;

    memset(&ctl, 0, sizeof ctl);
    CHECK_INT(mb_control(&B, "/_control/config",
                         "{\"fail_next_render\":\"encoder crashed\"}", NULL),
              0);
    CHECK_INT(api_render_start(api, &ctl, sid, "render_fail_1", draft, NULL, NULL,
                               NULL, &err), 0);
    do
        CHECK_INT(api_render_status_get(api, &ctl, "render_fail_1", &st,
                                        &err), 0);
    while (strcmp(st.status, "failed") != 0 && ++polls < 10);
    CHECK_STR(st.status, "failed");
    CHECK_STR(st.message, "encoder crashed");
    cJSON_Delete(draft);
}

TEST(download_happy_path)
{
    api_ctl ctl;
    nemo_err err;
    char dest[512], *data = NULL;
    size_t len = 0;
    long long bytes = -1;

    memset(&ctl, 0, sizeof ctl);
    in_dir(dest, sizeof dest, "video.mp4");
    CHECK_INT(dl(&ctl, mp4_url, dest, 0, &bytes, &err), 0);
    CHECK(bytes > 100);
    CHECK_INT(file_size(dest), bytes);
    CHECK_INT(fs_read_all(dest, &data, &len, 1 << 20), 0);
    CHECK(len >= 8 && memcmp(data + 4, "ftyp", 4) == 0);
    free(data);
    CHECK_INT(count_entries(NULL), 1);      /* no temp file left */
}

/* Finding 10: what a resumed export may claim is what was recorded just
 * before the rename: the size and SHA-256 of the bytes written. */
TEST(download_records_what_it_will_claim)
{
    api_download_req rq;
    api_ctl ctl;
    nemo_err err;
    placed p;
    char dest[512], link[520];
    long long bytes = -1;
    FILE *f;

    memset(&ctl, 0, sizeof ctl);
    memset(&p, 0, sizeof p);
    in_dir(dest, sizeof dest, "claimed.mp4");
    p.dest = dest;
    memset(&rq, 0, sizeof rq);
    rq.url = mp4_url;
    rq.dest = dest;
    rq.expect_bytes = -1;
    rq.before_place = on_place;
    rq.ctx = &p;
    CHECK_INT(api_download(api, &ctl, &rq, &bytes, &err), 0);
    CHECK_INT(p.calls, 1);
    CHECK(!p.existed);                    /* recorded before the rename */
    CHECK_INT(p.bytes, bytes);
    CHECK_INT(strlen(p.sha), 64);
    CHECK(api_download_is_ours(dest, p.bytes, p.sha));
    CHECK(!api_download_is_ours(dest, p.bytes + 1, p.sha));
    /* a symlink to it is not it */
    snprintf(link, sizeof link, "%s.lnk", dest);
    CHECK_INT(symlink(dest, link), 0);
    CHECK(!api_download_is_ours(link, p.bytes, p.sha));
    unlink(link);
    /* the same size, other bytes */
    f = fopen(dest, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, -1, SEEK_END);
        fputc('!', f);
        fclose(f);
    }
    CHECK(!api_download_is_ours(dest, p.bytes, p.sha));
    unlink(dest);
    /* a reported size the body does not have fails, leaving nothing */
    rq.expect_bytes = bytes + 10;
    CHECK_INT(api_download(api, &ctl, &rq, &bytes, &err), -1);
    CHECK_CONTAINS(err.message, "but the render reported");
    rq.expect_bytes = 100;
    CHECK_INT(api_download(api, &ctl, &rq, &bytes, &err), -1);
    CHECK_CONTAINS(err.message, "the render reported 100");
    CHECK_INT(count_entries(NULL), 1);
}

TEST(existing_file_is_not_replaced_without_overwrite)
{
    api_ctl ctl;
    nemo_err err;
    char dest[512], *data = NULL;
    size_t len = 0;
    long long bytes = -1;
    struct stat before, after;

    memset(&ctl, 0, sizeof ctl);
    in_dir(dest, sizeof dest, "mine.mp4");
    CHECK_INT(fs_write_atomic(dest, "precious", 8, 0644), 0);
    stat(dest, &before);
    CHECK_INT(dl(&ctl, mp4_url, dest, 0, &bytes, &err), -1);
    CHECK_CONTAINS(err.message, "already exists");
    CHECK_INT(fs_read_all(dest, &data, &len, 1024), 0);
    CHECK_STR(data, "precious");
    free(data);
    CHECK_INT(count_entries("."), 0);
    /* overwrite replaces only an MP4: "precious" is not one. */
    CHECK_INT(dl(&ctl, mp4_url, dest, 1, &bytes, &err), -1);
    CHECK_CONTAINS(err.message, "not an MP4");
    CHECK_INT(fs_read_all(dest, &data, &len, 1024), 0);
    CHECK_STR(data, "precious");
    free(data);
    /* An MP4 is replaced (a new file, renamed into place). */
    CHECK_INT(fs_read_all("tests/fixtures/sample.mp4", &data, &len, 1 << 20),
              0);
    CHECK_INT(fs_write_atomic(dest, data, len, 0644), 0);
    free(data);
    stat(dest, &before);
    CHECK_INT(dl(&ctl, mp4_url, dest, 1, &bytes, &err), 0);
    stat(dest, &after);
    CHECK(after.st_ino != before.st_ino);
    CHECK_INT(file_size(dest), bytes);
    CHECK_INT(count_entries("."), 0);
    unlink(dest);
}

/* Another process creates the target while the download runs: the first
 * progress report is our cue. It must survive untouched. */
typedef struct race_ctx {
    const char *dest;
    int created;
} race_ctx;

static void race_report(void *ctx, double fraction, const char *message)
{
    race_ctx *r = ctx;

    if (!r->created && strstr(message, "downloading")) {
        r->created = fs_write_atomic(r->dest, "theirs", 6, 0644) == 0;
    }
}

TEST(file_created_during_download_is_not_clobbered)
{
    char dest[512], *data = NULL;
    size_t len = 0;
    race_ctx r;
    nemo_progress p = { race_report, &r };
    api_ctl ctl;
    nemo_err err;
    long long bytes;

    in_dir(dest, sizeof dest, "race.mp4");
    r.dest = dest;
    r.created = 0;
    memset(&ctl, 0, sizeof ctl);
    ctl.progress = &p;
    CHECK_INT(dl(&ctl, mp4_url, dest, 0, &bytes, &err), -1);
    CHECK(r.created);
    CHECK_CONTAINS(err.message, "already exists");
    CHECK_INT(fs_read_all(dest, &data, &len, 1024), 0);
    CHECK_STR(data, "theirs");
    free(data);
    CHECK_INT(count_entries("."), 0);
    unlink(dest);
}

TEST(interrupted_download_leaves_nothing)
{
    api_ctl ctl;
    nemo_err err;
    char dest[512];
    long long bytes = -1;

    memset(&ctl, 0, sizeof ctl);
    CHECK_INT(mb_control(&B, "/_control/fault",
                         "{\"path\":\"/files/\",\"kind\":\"drop\","
                         "\"after\":1000}", NULL), 0);
    in_dir(dest, sizeof dest, "dropped.mp4");
    CHECK_INT(dl(&ctl, mp4_url, dest, 0, &bytes, &err), -1);
    CHECK_INT(err.kind, NEMO_E_NETWORK);
    CHECK_CONTAINS(err.message, "interrupted");
    CHECK_INT(file_size(dest), -1);
    CHECK_INT(count_entries(NULL), 1);      /* only video.mp4 from before */
}

TEST(http_error_and_not_mp4_leave_nothing)
{
    api_ctl ctl;
    nemo_err err;
    char dest[512], url[2100];
    long long bytes = -1;
    api_upload_answer ans;
    cJSON *data = NULL;

    memset(&ctl, 0, sizeof ctl);
    in_dir(dest, sizeof dest, "missing.mp4");
    snprintf(url, sizeof url, "%s/files/nothing_here.mp4", B.url);
    CHECK_INT(dl(&ctl, url, dest, 0, &bytes, &err), -1);
    CHECK_INT(err.kind, NEMO_E_NOT_FOUND);
    CHECK_CONTAINS(err.message, "HTTP 404");
    CHECK_INT(file_size(dest), -1);

    /* A PNG served where an MP4 was expected. */
    CHECK_INT(mb_upload_path(api, &ctl, sid, "tests/fixtures/media/sample.png",
                             "sample.png", "image/png", &data, &err), 0);
    CHECK_INT(upload_answer_parse(data, &ans, &err), 0);
    CHECK_INT((int)ans.n, 1);
    snprintf(url, sizeof url, "%s", ans.items[0].url);
    upload_answer_free(&ans);
    cJSON_Delete(data);
    CHECK_INT(dl(&ctl, url, dest, 0, &bytes, &err), -1);
    CHECK_INT(err.kind, NEMO_E_PROTOCOL);
    CHECK_CONTAINS(err.message, "not an MP4");
    CHECK_INT(file_size(dest), -1);
    CHECK_INT(count_entries(NULL), 1);
}

TEST(disk_full_leaves_nothing)
{
    api_ctl ctl;
    nemo_err err;
    char dest[512];
    long long bytes = -1;
    struct rlimit old, small = { 512, 512 };

    /* RLIMIT_FSIZE makes write() fail (EFBIG) like a full disk would. */
    memset(&ctl, 0, sizeof ctl);
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &small), 0);
    in_dir(dest, sizeof dest, "full.mp4");
    CHECK_INT(dl(&ctl, mp4_url, dest, 0, &bytes, &err), -1);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK_INT(err.kind, NEMO_E_IO);
    CHECK_CONTAINS(err.message, "cannot write the download");
    CHECK_INT(file_size(dest), -1);
    CHECK_INT(count_entries(NULL), 1);
}

TEST(cancelled_download_leaves_nothing)
{
    nemo_cancel c;
    api_ctl ctl;
    nemo_err err;
    char dest[512];
    long long bytes = -1;

    cancel_init(&c);
    cancel_request(&c);
    memset(&ctl, 0, sizeof ctl);
    ctl.cancel = &c;
    in_dir(dest, sizeof dest, "cancelled.mp4");
    CHECK_INT(dl(&ctl, mp4_url, dest, 0, &bytes, &err), -1);
    CHECK_INT(err.kind, NEMO_E_CANCELLED);
    CHECK_INT(file_size(dest), -1);
    CHECK_INT(count_entries(NULL), 1);
    cancel_destroy(&c);
}

TEST(directory_and_bad_destinations_are_refused)
{
    api_ctl ctl;
    nemo_err err;
    char dest[600];
    long long bytes = -1;

    memset(&ctl, 0, sizeof ctl);
    CHECK_INT(dl(&ctl, mp4_url, dir, 1, &bytes, &err), -1);
    CHECK_INT(err.kind, NEMO_E_INVALID);
    CHECK_CONTAINS(err.message, "is a folder");
    snprintf(dest, sizeof dest, "%s/no/such/dir/v.mp4", dir);
    CHECK_INT(dl(&ctl, mp4_url, dest, 0, &bytes, &err), -1);
    CHECK_CONTAINS(err.message, "does not exist");
    CHECK_INT(dl(&ctl, "ftp://example.com/v.mp4", dest, 0,
                           &bytes, &err), -1);
    CHECK_INT(dl(&ctl, mp4_url, "", 0, &bytes, &err), -1);
    CHECK_INT(count_entries(NULL), 1);
}

/* The token goes to the API's origin only; a CDN on another host (here
 * "localhost" instead of 127.0.0.1) never sees it. */
TEST(no_token_to_another_origin)
{
    api_ctl ctl;
    nemo_err err;
    char dest[512], url[400];
    const char *host;
    long long bytes;
    cJSON *reqs, *last, *hl;
    int n;

    memset(&ctl, 0, sizeof ctl);
    host = strstr(mp4_url, "127.0.0.1");
    if (!host) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "%.*slocalhost%s", (int)(host - mp4_url),
             mp4_url, host + strlen("127.0.0.1"));
    in_dir(dest, sizeof dest, "cdn.mp4");
    CHECK_INT(dl(&ctl, url, dest, 0, &bytes, &err), 0);
    reqs = mb_requests(&B, "/files/");
    n = cJSON_GetArraySize(reqs);
    last = cJSON_GetArrayItem(reqs, n - 1);
    hl = cJSON_GetObjectItem(last, "headers_lower");
    CHECK(cJSON_GetObjectItem(hl, "authorization") == NULL);
    CHECK(cJSON_GetObjectItem(hl, "x-skill-source") == NULL);
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(hl, "host")),
                   "localhost");
    /* The API's own origin does get the credentials. */
    last = cJSON_GetArrayItem(reqs, 0);
    hl = cJSON_GetObjectItem(last, "headers_lower");
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(hl,
                                                            "authorization")),
                   "Bearer ");
    cJSON_Delete(reqs);
    unlink(dest);
}

int main(void)
{
    char cmd[300];

    if (setup() != 0) {
        printf("not ok backend_setup\n");
        mb_stop(&B);
        return 1;
    }
    RUN(render_start_and_poll_to_completed);
    RUN(render_failure_reports_its_reason);
    RUN(download_happy_path);
    RUN(download_records_what_it_will_claim);
    RUN(existing_file_is_not_replaced_without_overwrite);
    RUN(file_created_during_download_is_not_clobbered);
    RUN(interrupted_download_leaves_nothing);
    RUN(http_error_and_not_mp4_leave_nothing);
    RUN(disk_full_leaves_nothing);
    RUN(cancelled_download_leaves_nothing);
    RUN(directory_and_bad_destinations_are_refused);
    RUN(no_token_to_another_origin);
    api_free(api);
    mb_stop(&B);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return unit_done();
}
