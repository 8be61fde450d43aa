/* test_roots.c - the host's roots into fspolicy (src/mcp/roots.c): file://
 * URIs percent-decoded (plain, localhost, %20), everything else refused,
 * a list of only refused entries admits nothing, an empty list no limit;
 * reads (upload) and writes (export's download_to, once it goes through
 * fspolicy) are both bounded and intersected with the env roots. Plus the
 * URI decoder's edge cases and the event hook the resources listen to. */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/event.h"
#include "nemo/fspolicy.h"
#include "nemo/log.h"
#include "../../src/mcp/mcp_internal.h"
#include "unit.h"

static char base[PATH_MAX / 2];

static void mk(const char *rel, char *out)
{
    snprintf(out, PATH_MAX, "%s/%s", base, rel);
    mkdir(out, 0700);
}

static int apply(const char *json)
{
    cJSON *r = cJSON_Parse(json);
    int rc = mcp_roots_apply(r);

    cJSON_Delete(r);
    return rc;
}

static int allowed(fsp_access a, const char *dir, const char *file)
{
    char path[PATH_MAX + 64], why[1024];

    snprintf(path, sizeof path, "%s/%s", dir, file);
    return fsp_check(a, path, why, sizeof why) == 0;
}

TEST(file_uris_bound_reads_and_writes)
{
    char media[PATH_MAX], other[PATH_MAX], json[3 * PATH_MAX];
    char why[2048];

    mk("my media", media);
    mk("other", other);
    /* The folder with a space arrives as %20. */
    snprintf(json, sizeof json,
             "{\"roots\":[{\"uri\":\"file://localhost%s/my%%20media\","
             "\"name\":\"m\"}]}", base);
    CHECK_INT(apply(json), 0);
    CHECK(fsp_have_host_roots());
    CHECK(allowed(FSP_READ, media, "a.mp4"));
    CHECK(allowed(FSP_WRITE, media, "out.mp4"));
    CHECK(!allowed(FSP_READ, other, "a.mp4"));
    CHECK(!allowed(FSP_WRITE, other, "out.mp4"));
    snprintf(json, sizeof json, "%s/a.mp4", other);
    fsp_check(FSP_WRITE, json, why, sizeof why);
    CHECK_CONTAINS(why, media);
    /* Intersected with the env roots: the host's root outside them
     * admits nothing. */
    setenv("NEMO_DOWNLOAD_ROOTS", other, 1);
    CHECK(!allowed(FSP_WRITE, media, "out.mp4"));
    CHECK(allowed(FSP_READ, media, "a.mp4"));
    unsetenv("NEMO_DOWNLOAD_ROOTS");
    mcp_roots_reset();
    CHECK(!fsp_have_host_roots());
}

TEST(refused_entries_admit_nothing)
{
    char media[PATH_MAX];

    mk("my media", media);
    CHECK_INT(apply("{\"roots\":[{\"uri\":\"https://example.com/\"},"
                    "{\"uri\":\"file://host/share\"},{\"name\":\"x\"}]}"),
              0);
    CHECK(fsp_have_host_roots());
    CHECK(!allowed(FSP_READ, media, "a.mp4"));
    /* An empty list: the host bounds nothing. */
    CHECK_INT(apply("{\"roots\":[]}"), 0);
    CHECK(!fsp_have_host_roots());
    CHECK(allowed(FSP_READ, media, "a.mp4"));
    /* Not a roots result: the previous roots stay. */
    CHECK_INT(apply("{\"nope\":1}"), -1);
    mcp_roots_reset();
}

TEST(uri_decoding)
{
    char out[64];

    CHECK_INT(mcp_file_uri_path("file:///a%20b/c", out, sizeof out), 0);
    CHECK_STR(out, "/a b/c");
    CHECK_INT(mcp_file_uri_path("file://localhost/x", out, sizeof out), 0);
    CHECK_STR(out, "/x");
    CHECK_INT(mcp_file_uri_path("file:///a%00b", out, sizeof out), -1);
    CHECK_INT(mcp_file_uri_path("file:///a%0", out, sizeof out), -1);
    CHECK_INT(mcp_file_uri_path("file:///a%zz", out, sizeof out), -1);
    CHECK_INT(mcp_file_uri_path("file:///a?q", out, sizeof out), -1);
    CHECK_INT(mcp_file_uri_path("file://evil/a", out, sizeof out), -1);
    CHECK_INT(mcp_file_uri_path("http:///a", out, sizeof out), -1);
    CHECK_INT(mcp_file_uri_path(NULL, out, sizeof out), -1);
    CHECK_INT(mcp_file_uri_path("file:///0123456789012345678901234567890"
                                "1234567890123456789012345678901234567",
                                out, sizeof out), -1);
}

typedef struct seen {
    int n;
    event_kind kind;
    char what[64];
    long long bytes;
} seen;

static void on_ev(void *ctx, const nemo_event *ev)
{
    seen *s = ctx;

    s->n++;
    s->kind = ev->kind;
    snprintf(s->what, sizeof s->what, "%s%s", ev->session, ev->path);
    s->bytes = ev->bytes;
}

TEST(events_reach_listeners_until_removed)
{
    seen a = { 0 }, b = { 0 };

    CHECK_INT(event_listen(on_ev, &a), 0);
    CHECK_INT(event_listen(on_ev, &b), 0);
    event_timeline_changed("s1");
    CHECK_INT(a.n, 1);
    CHECK_INT(b.n, 1);
    CHECK_STR(a.what, "s1");
    event_unlisten(on_ev, &b);
    event_video_saved("/v/x.mp4", 42);
    CHECK_INT(a.kind, EVENT_VIDEO_SAVED);
    CHECK_STR(a.what, "/v/x.mp4");
    CHECK_INT(a.bytes, 42);
    CHECK_INT(b.n, 1);
    /* Nothing to say: no event. */
    event_video_saved("relative.mp4", 1);
    event_timeline_changed("");
    event_session_changed(NULL);
    CHECK_INT(a.n, 2);
    event_session_changed("s2");
    CHECK_INT(a.kind, EVENT_SESSION_CHANGED);
    event_unlisten(on_ev, &a);
    event_timeline_changed("s3");
    CHECK_INT(a.n, 3);
}

int main(void)
{
    char tmpl[] = "/tmp/nemo-roots-XXXXXX", real[PATH_MAX];

    if (!mkdtemp(tmpl) || !realpath(tmpl, real) ||
        strlen(real) >= sizeof base)
        return 1;
    snprintf(base, sizeof base, "%.2000s", real);
    log_set_level(NLOG_ERROR);   /* the refused roots are warned about */
    unsetenv("NEMO_UPLOAD_ROOTS");
    unsetenv("NEMO_DOWNLOAD_ROOTS");
    RUN(file_uris_bound_reads_and_writes);
    RUN(refused_entries_admit_nothing);
    RUN(uri_decoding);
    RUN(events_reach_listeners_until_removed);
    {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
        if (system(cmd) != 0)
            return 1;
    }
    return unit_done();
}
