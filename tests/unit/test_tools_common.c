/* test_tools_common.c - the pure parts of src/tools: argument helpers,
 * formatting, errors written for a person, download targets, render status
 * words, backend upload ids, result shapes and the registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/tools/tools_internal.h"

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);

    if (!j)
        printf("#   bad test JSON: %s\n", s);
    return j;
}

TEST(args)
{
    cJSON *a = parse("{\"s\":\"x\",\"n\":12,\"b\":true,\"f\":false,"
                     "\"big\":1e300,\"w\":-5,\"w2\":5000}");

    CHECK_STR(tool_arg_str(a, "s"), "x");
    CHECK(tool_arg_str(a, "n") == NULL);
    CHECK(tool_arg_str(a, "missing") == NULL);
    CHECK_INT(tool_arg_int(a, "n", 7), 12);
    CHECK_INT(tool_arg_int(a, "s", 7), 7);
    CHECK_INT(tool_arg_int(a, "big", 7), 7);
    CHECK_INT(tool_arg_bool(a, "b", 0), 1);
    CHECK_INT(tool_arg_bool(a, "f", 1), 0);
    CHECK_INT(tool_arg_bool(a, "n", 1), 1);
    CHECK_INT(tool_wait_ms(a), 45000);
    cJSON_Delete(a);
    /* null is "not given": the default, never 0 or false. */
    a = parse("{\"s\":null,\"n\":null,\"b\":null,\"wait_seconds\":null}");
    CHECK(tool_arg_str(a, "s") == NULL);
    CHECK_INT(tool_arg_int(a, "n", 7), 7);
    CHECK_INT(tool_arg_bool(a, "b", 1), 1);
    CHECK_INT(tool_wait_ms(a), 45000);
    cJSON_Delete(a);
    a = parse("{\"wait_seconds\":-5}");
    CHECK_INT(tool_wait_ms(a), 0);
    cJSON_Delete(a);
    a = parse("{\"wait_seconds\":5000}");
    CHECK_INT(tool_wait_ms(a), 900000);
    cJSON_Delete(a);
    a = parse("{\"wait_seconds\":3}");
    CHECK_INT(tool_wait_ms(a), 3000);
    cJSON_Delete(a);
}

TEST(durations_and_sizes)
{
    char b[32];

    tool_fmt_duration(0, b, sizeof b);
    CHECK_STR(b, "0s");
    tool_fmt_duration(45999, b, sizeof b);
    CHECK_STR(b, "45s");
    tool_fmt_duration(130000, b, sizeof b);
    CHECK_STR(b, "2m10s");
    tool_fmt_duration(3720000, b, sizeof b);
    CHECK_STR(b, "1h02m");
    tool_fmt_duration(-5, b, sizeof b);
    CHECK_STR(b, "0s");
    tool_fmt_bytes(1, b, sizeof b);
    CHECK_STR(b, "1 byte");
    tool_fmt_bytes(812, b, sizeof b);
    CHECK_STR(b, "812 bytes");
    tool_fmt_bytes(3482, b, sizeof b);
    CHECK_STR(b, "3.4 KB");
    tool_fmt_bytes(12897485, b, sizeof b);
    CHECK_STR(b, "12.3 MB");
    tool_fmt_bytes(1288490188LL, b, sizeof b);
    CHECK_STR(b, "1.20 GB");
}

TEST(credits_sentence)
{
    api_credits c = { 90, 0, 100 };
    char b[256];

    tool_credits_sentence(&c, b, sizeof b);
    CHECK_STR(b, "You have 90 credits available (0 frozen, 100 total).");
    c.available = 1;
    c.frozen = 2.5;
    c.total = 3.5;
    tool_credits_sentence(&c, b, sizeof b);
    CHECK_STR(b, "You have 1 credit available (2.5 frozen, 3.5 total).");
}

TEST(state_parts)
{
    cJSON *s = parse("{\"draft\":{\"t\":[]},\"generated_media\":[{\"url\":"
                     "\"u\"}]}");
    cJSON *m = tool_state_media(s);

    CHECK(tool_state_draft(s) != NULL);
    CHECK_INT(cJSON_GetArraySize(m), 1);
    cJSON_Delete(m);
    cJSON_Delete(s);
    /* odd shapes: media as one object, as a string, draft not an object */
    s = parse("{\"draft\":[1],\"generated_media\":{\"url\":\"u\"}}");
    m = tool_state_media(s);
    CHECK(tool_state_draft(s) == NULL);
    CHECK(cJSON_IsArray(m));
    CHECK_INT(cJSON_GetArraySize(m), 1);
    cJSON_Delete(m);
    cJSON_Delete(s);
    s = parse("{\"generated_media\":\"nope\"}");
    m = tool_state_media(s);
    CHECK(cJSON_IsArray(m));
    CHECK_INT(cJSON_GetArraySize(m), 0);
    cJSON_Delete(m);
    cJSON_Delete(s);
    m = tool_state_media(NULL);
    CHECK_INT(cJSON_GetArraySize(m), 0);
    CHECK(tool_state_draft(NULL) == NULL);
    cJSON_Delete(m);
}

TEST(json_helpers)
{
    cJSON *a = parse("{\"x\":1,\"y\":2}"), *b = parse("{\"y\":3,\"z\":\"q\"}");
    cJSON *list = parse("[\"added a\",5,\"removed b\"]");
    char *s;

    tool_json_merge(a, b);
    CHECK_INT(cJSON_GetObjectItem(a, "y")->valueint, 3);
    CHECK_STR(cJSON_GetObjectItem(a, "z")->valuestring, "q");
    CHECK_INT(cJSON_GetArraySize(a), 3);
    tool_json_merge(a, NULL);
    CHECK_INT(cJSON_GetArraySize(a), 3);
    s = tool_bullets(list);
    CHECK_STR(s, "- added a\n- removed b");
    free(s);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(list);
}

TEST(error_text)
{
    nemo_err e;
    char *t;

    err_clear(&e);
    e.kind = NEMO_E_CREDITS;
    snprintf(e.message, sizeof e.message, "You are out of credits");
    snprintf(e.bind_id, sizeof e.bind_id, "bind_42");
    snprintf(e.link, sizeof e.link, "https://www.nemovideo.ai/register");
    t = tool_err_text(&e);
    CHECK_CONTAINS(t, "You are out of credits.");
    CHECK_CONTAINS(t, "https://www.nemovideo.ai/register?bind=bind_42");
    free(t);
    /* a link that already binds is kept as it is */
    snprintf(e.link, sizeof e.link, "https://x.example/r?bind=bind_42");
    t = tool_err_text(&e);
    CHECK_CONTAINS(t, "https://x.example/r?bind=bind_42");
    CHECK(strstr(t, "bind=bind_42&bind") == NULL);
    CHECK(strstr(t, "bind=bind_42?bind") == NULL);
    free(t);
    /* no link, only the id */
    e.link[0] = '\0';
    t = tool_err_text(&e);
    CHECK_CONTAINS(t, "?bind=bind_42");
    free(t);
    /* a message that already carries the link does not repeat it */
    snprintf(e.link, sizeof e.link, "https://r.example/?bind=b7");
    snprintf(e.message, sizeof e.message, "Out of credits. Register at "
             "https://r.example/?bind=b7 to get more.");
    t = tool_err_text(&e);
    CHECK(strstr(t, "bind=b7") != NULL);
    CHECK(strstr(strstr(t, "bind=b7") + 1, "bind=b7") == NULL);
    free(t);
    /* an empty message still says something */
    err_clear(&e);
    e.kind = NEMO_E_NETWORK;
    t = tool_err_text(&e);
    CHECK(t && strlen(t) > 10);
    free(t);
}

TEST(fail_err_result)
{
    tool_output out;
    nemo_err e;

    memset(&out, 0, sizeof out);
    result_init(&out.result);
    snprintf(out.job_id, sizeof out.job_id, "job_x");
    err_clear(&e);
    e.kind = NEMO_E_PLAN;
    snprintf(e.message, sizeof e.message, "Export is blocked on the free "
             "plan");
    tool_fail_err(&out, &e);
    CHECK_INT(out.result.is_error, 1);
    CHECK(out.result.structured == NULL);
    CHECK_CONTAINS(out.result.text, "Export is blocked on the free plan");
    CHECK_STR(out.job_id, "");
    result_free(&out.result);
}

TEST(session_note)
{
    api_ctl ctl;
    char sid[API_SESSION_MAX] = "old-sid";
    cJSON *st = cJSON_CreateObject();
    nemo_buf text = NEMO_BUF_INIT;

    tool_ctl_init(&ctl, NULL, NULL);
    tool_session_note(&ctl, sid, sizeof sid, st, &text);
    CHECK_STR(sid, "old-sid");
    CHECK_INT(text.len, 0);
    ctl.session_reset = 1;
    snprintf(ctl.new_session, sizeof ctl.new_session, "new-sid");
    cJSON_AddStringToObject(st, "session", "old-sid");
    tool_session_note(&ctl, sid, sizeof sid, st, &text);
    CHECK_STR(sid, "new-sid");
    CHECK_STR(cJSON_GetObjectItem(st, "session")->valuestring, "new-sid");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(st, "session_reset")));
    CHECK_CONTAINS(buf_str(&text), "session old-sid no longer existed");
    CHECK_CONTAINS(buf_str(&text), "new and empty");
    buf_free(&text);
    cJSON_Delete(st);
}

TEST(render_phase)
{
    CHECK_INT(tool_render_phase("completed"), 1);
    CHECK_INT(tool_render_phase("COMPLETED"), 1);
    CHECK_INT(tool_render_phase("succeeded"), 1);
    CHECK_INT(tool_render_phase("failed"), -1);
    CHECK_INT(tool_render_phase("error"), -1);
    CHECK_INT(tool_render_phase("queued"), 0);
    CHECK_INT(tool_render_phase("rendering"), 0);
    CHECK_INT(tool_render_phase(""), 0);
    CHECK_INT(tool_render_phase(NULL), 0);
}

static void copy_file(const char *from, const char *to)
{
    char buf[4096];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;

    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

/* The attacks of issue 11: shell start-up files, key files, hidden
 * folders, names that are not .mp4, and roots. */
TEST(download_target_refuses_what_is_not_a_video_place)
{
    char dir[] = "/tmp/nemo-tools-XXXXXX", out[4096], msg[4608], p[4200];
    char home[4200];

    CHECK(mkdtemp(dir) != NULL);
    setenv("HOME", dir, 1);
    unsetenv("NEMO_DOWNLOAD_ROOTS");
    snprintf(home, sizeof home, "%s/.bashrc", dir);
    copy_file("tests/fixtures/sample.png", home);
    CHECK_INT(tool_download_target("~/.bashrc", "r", 1, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "hidden file name");
    CHECK_INT(tool_download_target("~/notes.txt", "r", 1, out, sizeof out,
                                   msg, sizeof msg), -1);
    CHECK_CONTAINS(msg, "does not end in .mp4");
    snprintf(p, sizeof p, "%s/.ssh", dir);
    mkdir(p, 0700);
    CHECK_INT(tool_download_target("~/.ssh/authorized_keys", "r", 1, out,
                                   sizeof out, msg, sizeof msg), -1);
    CHECK_INT(tool_download_target("~/.ssh/", "r", 0, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "hidden folder (.ssh)");
    CHECK_INT(tool_download_target("~/.ssh/x.mp4", "r", 0, out, sizeof out,
                                   msg, sizeof msg), -1);
    CHECK_CONTAINS(msg, "hidden folder");
    /* ... through a symlinked folder too */
    snprintf(home, sizeof home, "%s/videos", dir);
    CHECK_INT(symlink(p, home), 0);
    CHECK_INT(tool_download_target("~/videos/x.mp4", "r", 0, out, sizeof out,
                                   msg, sizeof msg), -1);
    CHECK_CONTAINS(msg, "hidden folder");
    /* a root that holds the hidden folder admits it; outside: nothing */
    setenv("NEMO_DOWNLOAD_ROOTS", p, 1);
    CHECK_INT(tool_download_target("~/.ssh/x.mp4", "r", 0, out, sizeof out,
                                   msg, sizeof msg), 0);
    CHECK_INT(tool_download_target("~/x.mp4", "r", 0, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "outside the folders");
    unsetenv("NEMO_DOWNLOAD_ROOTS");
    unlink(home);
    rmdir(p);
    snprintf(p, sizeof p, "%s/.bashrc", dir);
    unlink(p);
    CHECK_INT(rmdir(dir), 0);
}

TEST(download_target)
{
    char dir[] = "/tmp/nemo-tools-XXXXXX", out[4096], msg[4608], p[4200];
    char cwd[4096];
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    /* an existing folder: a file named after the render inside it */
    CHECK_INT(tool_download_target(dir, "render_1", 0, out, sizeof out, msg,
                                   sizeof msg), 0);
    snprintf(p, sizeof p, "%s/render_1.mp4", dir);
    CHECK_STR(out, p);
    snprintf(p, sizeof p, "%s/", dir);
    CHECK_INT(tool_download_target(p, "render_1", 0, out, sizeof out, msg,
                                   sizeof msg), 0);
    snprintf(p, sizeof p, "%s/render_1.mp4", dir);
    CHECK_STR(out, p);
    /* a new file in an existing folder */
    snprintf(p, sizeof p, "%s/out.mp4", dir);
    CHECK_INT(tool_download_target(p, "r", 0, out, sizeof out, msg,
                                   sizeof msg), 0);
    CHECK_STR(out, p);
    /* an existing file: refused unless overwrite */
    f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK_INT(tool_download_target(p, "r", 0, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "already exists");
    CHECK_CONTAINS(msg, "overwrite");
    /* overwrite replaces an MP4 only: this one is empty */
    CHECK_INT(tool_download_target(p, "r", 1, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "not an MP4");
    copy_file("tests/fixtures/sample.mp4", p);
    CHECK_INT(tool_download_target(p, "r", 1, out, sizeof out, msg,
                                   sizeof msg), 0);
    CHECK_STR(out, p);
    /* the same inside a folder target */
    snprintf(p, sizeof p, "%s/r.mp4", dir);
    f = fopen(p, "w");
    if (f)
        fclose(f);
    CHECK_INT(tool_download_target(dir, "r", 0, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "already exists");
    unlink(p);
    /* missing folders */
    snprintf(p, sizeof p, "%s/nope/out.mp4", dir);
    CHECK_INT(tool_download_target(p, "r", 0, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "does not exist");
    snprintf(p, sizeof p, "%s/nope/", dir);
    CHECK_INT(tool_download_target(p, "r", 0, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "does not exist");
    /* a directory where the file would go */
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/sub/r.mp4", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/sub", dir);
    CHECK_INT(tool_download_target(p, "r", 1, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "not a regular file");
    /* a symlink is never replaced, even one to an MP4 */
    snprintf(p, sizeof p, "%s/sub/link.mp4", dir);
    snprintf(cwd, sizeof cwd, "%s/out.mp4", dir);
    CHECK_INT(symlink(cwd, p), 0);
    CHECK_INT(tool_download_target(p, "r", 1, out, sizeof out, msg,
                                   sizeof msg), -1);
    CHECK_CONTAINS(msg, "symbolic link");
    unlink(p);
    snprintf(p, sizeof p, "%s/sub/r.mp4", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    /* relative paths are made absolute */
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK_INT(chdir(dir), 0);
    CHECK_INT(tool_download_target("rel.mp4", "r", 0, out, sizeof out, msg,
                                   sizeof msg), 0);
    CHECK(out[0] == '/');
    CHECK_CONTAINS(out, "/rel.mp4");
    CHECK_INT(chdir(cwd), 0);
    /* ~/ is the home directory */
    setenv("HOME", dir, 1);
    CHECK_INT(tool_download_target("~/x.mp4", "r", 0, out, sizeof out, msg,
                                   sizeof msg), 0);
    snprintf(p, sizeof p, "%s/x.mp4", dir);
    CHECK_STR(out, p);
    CHECK_INT(tool_download_target("", "r", 0, out, sizeof out, msg,
                                   sizeof msg), -1);
    snprintf(p, sizeof p, "%s/out.mp4", dir);
    unlink(p);
    CHECK_INT(rmdir(dir), 0);
}

TEST(upload_ids)
{
    /* the reference backend's shape */
    cJSON *data = parse("{\"files\":[{\"file_id\":\"file_1\",\"name\":\"a\","
                        "\"size\":3,\"url\":\"http://x/a\"},{\"file_id\":"
                        "\"file_2\"}]}");
    cJSON *e = cJSON_CreateObject();

    tool_upload_copy_ids(tool_upload_item(data, 0), e);
    CHECK_STR(cJSON_GetObjectItem(e, "file_id")->valuestring, "file_1");
    CHECK_STR(cJSON_GetObjectItem(e, "url")->valuestring, "http://x/a");
    CHECK(cJSON_GetObjectItem(e, "name") == NULL);
    CHECK(cJSON_GetObjectItem(e, "size") == NULL);
    CHECK_STR(cJSON_GetObjectItem(tool_upload_item(data, 1), "file_id")
                  ->valuestring, "file_2");
    CHECK(tool_upload_item(data, 2) == NULL);
    cJSON_Delete(data);
    cJSON_Delete(e);
    /* a bare object, an array, numeric ids */
    data = parse("{\"id\":17}");
    e = cJSON_CreateObject();
    tool_upload_copy_ids(tool_upload_item(data, 0), e);
    CHECK_STR(cJSON_GetObjectItem(e, "id")->valuestring, "17");
    CHECK(tool_upload_item(data, 1) == NULL);
    cJSON_Delete(data);
    cJSON_Delete(e);
    data = parse("[{\"media_id\":\"m\"}]");
    e = cJSON_CreateObject();
    tool_upload_copy_ids(tool_upload_item(data, 0), e);
    CHECK_STR(cJSON_GetObjectItem(e, "media_id")->valuestring, "m");
    cJSON_Delete(data);
    cJSON_Delete(e);
    CHECK(tool_upload_item(NULL, 0) == NULL);
}

TEST(generate_shapes)
{
    cJSON *st = tool_generate_shape("completed", "credits", "hi");
    cJSON *none = cJSON_CreateArray(), *some = parse("[\"added track 1\"]");
    char *r;

    CHECK_STR(cJSON_GetObjectItem(st, "status")->valuestring, "completed");
    CHECK_STR(cJSON_GetObjectItem(st, "route")->valuestring, "credits");
    CHECK_STR(cJSON_GetObjectItem(st, "reply")->valuestring, "hi");
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(st, "actions")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(st, "timeline_changed")));
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(st, "changes")));
    CHECK(cJSON_IsString(cJSON_GetObjectItem(st, "timeline_summary")));
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(st, "generated_media")));
    r = tool_silent_reply(none);
    CHECK_CONTAINS(r, "nothing visible changed");
    free(r);
    r = tool_silent_reply(some);
    CHECK_CONTAINS(r, "without a written reply");
    CHECK_CONTAINS(r, "- added track 1");
    free(r);
    cJSON_Delete(st);
    cJSON_Delete(none);
    cJSON_Delete(some);
}

TEST(registry)
{
    static const char *const order[] = { "credits", "session", "upload",
                                         "generate", "job", "state",
                                         "export" };
    const tool_def *const *all = tool_all();
    size_t i;

    for (i = 0; i < 7; i++) {
        CHECK(all[i] != NULL);
        if (all[i]) {
            CHECK_STR(all[i]->name, order[i]);
            CHECK(all[i]->run != NULL);
            CHECK(tool_find(order[i]) == all[i]);
        }
    }
    CHECK(all[7] == NULL);
    CHECK(tool_find("nope") == NULL);
    CHECK(tool_find(NULL) == NULL);
    CHECK_INT(tool_find("generate")->long_running, 1);
    CHECK_INT(tool_find("export")->long_running, 1);
    CHECK_INT(tool_find("upload")->long_running, 1);
    CHECK_INT(tool_find("credits")->long_running, 0);
    CHECK_INT(tool_find("job")->long_running, 0);
}

/* ---- reporting jobs (real job table, temporary config dir) ---- */

static void job_done_fn(nemo_job *j, void *arg, nemo_result *out)
{
    cJSON *st = cJSON_CreateObject();

    (void)arg;
    cJSON_AddStringToObject(st, "status", "completed");
    cJSON_AddStringToObject(st, "job", job_id(j));
    out->structured = st;
    out->text = strdup("all done");
}

static void job_block_fn(nemo_job *j, void *arg, nemo_result *out)
{
    (void)arg;
    progress_report(job_progress(j), -1, "running add_bgm");
    while (!cancel_sleep_ms(job_cancel_token(j), 10))
        ;
    result_error(out, NULL, "cancelled");
}

TEST(job_reports)
{
    char dir[] = "/tmp/nemo-tools-jobs-XXXXXX";
    job_table *t;
    job_spec spec;
    nemo_job *j;
    tool_output out;
    cJSON *extra = cJSON_CreateObject();
    char err[256];
    int existed;

    CHECK(mkdtemp(dir) != NULL);
    setenv("NEMO_CONFIG_DIR", dir, 1);
    setenv("NEMO_STATE_DIR", dir, 1);
    t = job_table_new();
    memset(&spec, 0, sizeof spec);
    memset(&out, 0, sizeof out);
    result_init(&out.result);
    cJSON_AddStringToObject(extra, "route", "agent");

    /* finished: the job's own result, as the original call would give */
    spec.tool = "generate";
    spec.session = "s1";
    j = job_start(t, &spec, job_done_fn, NULL, NULL, &existed, err,
                  sizeof err);
    CHECK(j != NULL);
    if (j) {
        CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_COMPLETED);
        tool_job_report(j, JOB_COMPLETED, extra, &out);
        CHECK_STR(out.result.text, "all done");
        CHECK_STR(cJSON_GetObjectItem(out.result.structured, "job")
                      ->valuestring, job_id(j));
        CHECK(cJSON_GetObjectItem(out.result.structured, "route") == NULL);
        CHECK_STR(out.job_id, "");
        job_unref(j);
    }

    /* running: status, handle, progress, how to collect it */
    j = job_start(t, &spec, job_block_fn, NULL, NULL, &existed, err,
                  sizeof err);
    CHECK(j != NULL);
    if (j) {
        char note[256];

        CHECK_INT(job_wait(j, 50, NULL, NULL), JOB_RUNNING);
        tool_job_report(j, JOB_RUNNING, extra, &out);
        CHECK_STR(cJSON_GetObjectItem(out.result.structured, "status")
                      ->valuestring, "running");
        CHECK_STR(cJSON_GetObjectItem(out.result.structured, "job")
                      ->valuestring, job_id(j));
        CHECK_STR(cJSON_GetObjectItem(out.result.structured, "route")
                      ->valuestring, "agent");
        CHECK_STR(cJSON_GetObjectItem(out.result.structured, "progress")
                      ->valuestring, "running add_bgm");
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(out.result.structured,
                                                 "elapsed_ms")));
        CHECK_CONTAINS(out.result.text, "still running");
        {
            /* The next step is in both halves (hosts show only one). */
            cJSON *a = cJSON_GetArrayItem(
                cJSON_GetObjectItem(out.result.structured, "actions"), 0);
            CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(a, "tool")),
                      "job");
            CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
                          cJSON_GetObjectItem(a, "arguments"), "job")),
                      job_id(j));
            CHECK_CONTAINS(out.result.text, "Next steps:");
        }
        CHECK_CONTAINS(out.result.text, job_id(j));
        CHECK_CONTAINS(out.result.text, "`job`");
        /* task mode: the same report plus the handle for the MCP layer */
        tool_job_handoff(j, extra, &out);
        CHECK_STR(out.job_id, job_id(j));
        /* cancelled */
        CHECK_INT(job_cancel(j, note, sizeof note), 0);
        CHECK_INT(job_wait(j, 5000, NULL, NULL), JOB_CANCELLED);
        tool_job_report(j, JOB_CANCELLED, extra, &out);
        CHECK_STR(cJSON_GetObjectItem(out.result.structured, "status")
                      ->valuestring, "cancelled");
        CHECK_INT(out.result.is_error, 0);
        CHECK_CONTAINS(out.result.text, "was cancelled");
        CHECK_STR(out.job_id, "");
        job_unref(j);
    }
    result_free(&out.result);
    cJSON_Delete(extra);
    job_table_free(t);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK_INT(system(cmd), 0);
    }
}

int main(void)
{
    RUN(args);
    RUN(durations_and_sizes);
    RUN(credits_sentence);
    RUN(state_parts);
    RUN(json_helpers);
    RUN(error_text);
    RUN(fail_err_result);
    RUN(session_note);
    RUN(render_phase);
    RUN(download_target);
    RUN(download_target_refuses_what_is_not_a_video_place);
    RUN(upload_ids);
    RUN(generate_shapes);
    RUN(registry);
    RUN(job_reports);
    return unit_done();
}
