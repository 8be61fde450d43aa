/* test_core.c - buffers, logging redaction, store, cancel, results. */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/buf.h"
#include "nemo/cancel.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/num.h"
#include "nemo/result.h"
#include "nemo/store.h"
#include "unit.h"

TEST(buf_base64_pads)
{
    static const struct { const char *in, *out; } cases[] = {
        { "", "" }, { "M", "TQ==" }, { "Ma", "TWE=" }, { "Man", "TWFu" },
        { "<svg/>", "PHN2Zy8+" }, { "\xff\xfe\xfd\xfc", "//79/A==" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nemo_buf b = NEMO_BUF_INIT;

        CHECK_INT(buf_base64(&b, cases[i].in, strlen(cases[i].in)), 0);
        CHECK_STR(buf_str(&b), cases[i].out);
        buf_free(&b);
    }
}

TEST(buf_grows_and_consumes)
{
    nemo_buf b = NEMO_BUF_INIT;
    int i;

    CHECK_STR(buf_str(&b), "");
    for (i = 0; i < 1000; i++)
        buf_printf(&b, "%03d", i % 1000);
    CHECK_INT(b.len, 3000);
    CHECK(strncmp(b.data, "000001002", 9) == 0);
    buf_consume(&b, 2997);
    CHECK_STR(b.data, "999");
    buf_consume(&b, 10);
    CHECK_INT(b.len, 0);
    buf_putc(&b, 'x');
    char *s = buf_detach(&b);
    CHECK_STR(s, "x");
    CHECK(b.data == NULL);
    free(s);
    buf_free(&b);
}

static void vformat(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vformat(out, cap, fmt, ap);
    va_end(ap);
}

TEST(log_redacts_secrets)
{
    char line[128], cut[40], big[3000], shown[64];
    cJSON *j;
    char *r;

    /* a short secret counts too, but only as a whole token */
    log_add_secret("short");
    log_add_secret("tok_abcdefghijklmnop");
    snprintf(line, sizeof line, "Bearer tok_abcdefghijklmnop and short, "
             "shortcut=short");
    log_redact(line, sizeof line);
    CHECK_STR(line, "Bearer [redacted] and [redacted], shortcut=[redacted]");
    CHECK(log_contains_secret("x tok_abcdefghijklmnop y"));
    CHECK(log_contains_secret("xtok_abcdefghijklmnopy"));  /* long: anywhere */
    CHECK(!log_contains_secret("nothing here"));
    CHECK(!log_contains_secret("shortcut"));
    /* a one-character token */
    log_add_secret("Q");
    r = log_redact_dup("token=Q; QQ and Q");
    CHECK_STR(r, "token=[redacted]; QQ and [redacted]");
    free(r);
    /* No room to expand: cut, never left readable. */
    char tight[30] = "tok_abcdefghijklmnop";
    log_redact(tight, 21);
    CHECK(strstr(tight, "tok_abc") == NULL);
    /* Redacted before it is cut: a secret straddling the cut leaves no
     * prefix behind (it used to leave "tok_abcdefg"). */
    vformat(cut, sizeof cut, "%s%s", "0123456789012345678901234567890",
            "tok_abcdefghijklmnop");
    CHECK(strstr(cut, "tok_") == NULL);
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    memcpy(big + 2040, " tok_abcdefghijklmnop", 21);
    vformat(line, sizeof line, "%s", big);
    CHECK(strstr(line, "tok_") == NULL);
    /* JSON trees: tool results and journal records */
    j = cJSON_Parse("{\"a\":[\"x tok_abcdefghijklmnop\",{\"b\":\"short\"}],"
                    "\"c\":\"fine\"}");
    log_redact_json(j);
    r = cJSON_PrintUnformatted(j);
    CHECK_STR(r, "{\"a\":[\"x [redacted]\",{\"b\":\"[redacted]\"}],"
                 "\"c\":\"fine\"}");
    free(r);
    cJSON_Delete(j);
    log_free_secrets();
    log_add_secret("tok_abcdefghijklmnop");   /* later tests rely on it */
    /* control characters from the backend are shown, not obeyed */
    log_escape(shown, sizeof shown, "a\x1b[2Jb\nFAKE\x7f \xc2\x9b \xff ok \xc3\xa9");
    CHECK_STR(shown, "a\\x1b[2Jb\\x0aFAKE\\x7f \\xc2\\x9b \\xff ok \xc3\xa9");
}

TEST(store_refuses_unsafe_dirs)
{
    char dir[] = "/tmp/nemo-unsafe-XXXXXX", why[256], out[512], link[600];

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_dir_check(dir, why, sizeof why), 0);
    chmod(dir, 0775);
    CHECK_INT(store_dir_check(dir, why, sizeof why), -1);
    CHECK_CONTAINS(why, "writable by its group");
    chmod(dir, 0757);
    CHECK_INT(store_dir_check(dir, why, sizeof why), -1);
    CHECK_CONTAINS(why, "writable by everyone");
    /* a symlink is judged by what it points to */
    snprintf(link, sizeof link, "%s-link", dir);
    CHECK(symlink(dir, link) == 0);
    setenv("NEMO_STATE_DIR", link, 1);
    CHECK(store_dir(out, sizeof out) != 0);
    CHECK(store_write("x.json", "{}", 2, 0600) != 0);
    chmod(dir, 0700);
    CHECK(store_dir(out, sizeof out) == 0);
    CHECK(store_write("x.json", "{}", 2, 0600) == 0);
    /* "/" belongs to root: refused for any other user */
    if (geteuid() != 0)
        CHECK_INT(store_dir_check("/", why, sizeof why), -1);
    unlink(link);
}

TEST(log_levels_parse)
{
    enum log_level lv;

    CHECK(log_level_parse("debug", &lv) == 0 && lv == NLOG_DEBUG);
    CHECK(log_level_parse("WARNING", &lv) == 0 && lv == NLOG_WARN);
    CHECK(log_level_parse("emergency", &lv) == 0 && lv == NLOG_ERROR);
    CHECK(log_level_parse("loud", &lv) != 0);
}

static char tmpdir[256];

static void use_tmp_config(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nemo-unit-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    strcat(tmpdir, "/cfg/nested");
    setenv("NEMO_STATE_DIR", tmpdir, 1);
    setenv("NEMO_CONFIG_DIR", tmpdir, 1);
}

TEST(store_atomic_write_and_modes)
{
    char dir[512], *data = NULL;
    size_t len = 0;
    struct stat st;

    use_tmp_config();
    CHECK(store_dir(dir, sizeof dir) == 0);
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK(store_read("missing", &data, &len) == 1);
    CHECK(store_write("jobs/a.json", "{\"x\":1}", 7, 0600) == 0);
    CHECK(store_read("jobs/a.json", &data, &len) == 0);
    CHECK_STR(data, "{\"x\":1}");
    CHECK_INT(len, 7);
    free(data);
    char path[600];
    CHECK(store_path("jobs/a.json", path, sizeof path) == 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(store_path("../escape", path, sizeof path) != 0);
    CHECK(store_path("/abs", path, sizeof path) != 0);
    CHECK(store_remove("jobs/a.json") == 0);
    CHECK(store_read("jobs/a.json", &data, &len) == 1);
}

TEST(store_lock_excludes)
{
    int a = store_lock("token", 1);

    CHECK(a >= 0);
    char path[600];
    CHECK(store_path("token.lock", path, sizeof path) == 0);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK(flock(fd, LOCK_EX | LOCK_NB) != 0);  /* held by a */
    store_unlock(a);
    CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
    close(fd);
}

static void *cancel_later(void *arg)
{
    cancel_sleep_ms(NULL, 20);
    cancel_request(arg);
    return NULL;
}

TEST(cancel_wakes_sleepers)
{
    nemo_cancel parent, child;
    pthread_t th;
    long long t0 = clock_mono_ms();

    cancel_init(&parent);
    cancel_init_child(&child, &parent);
    CHECK(!cancel_requested(&child));
    pthread_create(&th, NULL, cancel_later, &parent);
    CHECK(cancel_sleep_ms(&child, 10000) == 1);
    CHECK(clock_mono_ms() - t0 < 5000);
    pthread_join(th, NULL);
    CHECK(cancel_requested(&child));
    CHECK(cancel_sleep_ms(NULL, 1) == 0);
    cancel_destroy(&child);
    cancel_destroy(&parent);
}

TEST(result_roundtrip)
{
    nemo_result r, back;
    cJSON *j;

    result_init(&r);
    result_error(&r, NULL, "failed: %s", "tok_abcdefghijklmnop leaked?");
    CHECK(r.is_error);
    CHECK(strstr(r.text, "tok_abc") == NULL);
    j = result_to_json(&r);
    CHECK(result_from_json(&back, j) == 0);
    CHECK(back.is_error);
    CHECK_STR(back.text, r.text);
    cJSON_Delete(j);
    result_free(&back);
    result_free(&r);
}

TEST(clock_env_bounds)
{
    setenv("NEMO_TEST_MS", "250", 1);
    CHECK_INT(clock_env_ms("NEMO_TEST_MS", 5, 0, 1000), 250);
    setenv("NEMO_TEST_MS", "abc", 1);
    CHECK_INT(clock_env_ms("NEMO_TEST_MS", 5, 0, 1000), 5);
    setenv("NEMO_TEST_MS", "5000", 1);
    CHECK_INT(clock_env_ms("NEMO_TEST_MS", 5, 0, 1000), 5);
    char iso[32];
    clock_iso8601(0, iso, sizeof iso);
    CHECK_STR(iso, "1970-01-01T00:00:00.000Z");
}

TEST(num_conversion_is_range_checked)
{
    cJSON *j = cJSON_Parse("[1e19, -1e19, 42.9, \"7\", null, 1e308]");
    long long x = -5;

    CHECK(j != NULL);
    CHECK_INT(num_ll(cJSON_GetArrayItem(j, 0), 0, 1000, &x), -1);
    CHECK_INT(x, -5);
    CHECK_INT(num_ll(cJSON_GetArrayItem(j, 1), -1000, 0, &x), -1);
    CHECK_INT(num_ll(cJSON_GetArrayItem(j, 2), 0, 100, &x), 0);
    CHECK_INT(x, 42);
    CHECK_INT(num_ll(cJSON_GetArrayItem(j, 3), 0, 100, &x), -1);
    CHECK_INT(num_ll(cJSON_GetArrayItem(j, 4), 0, 100, &x), -1);
    CHECK_INT(num_ll_or(cJSON_GetArrayItem(j, 5), 0, 100, 9), 9);
    CHECK_INT(num_ll_of(NAN, 0, 1, &x), -1);
    CHECK_INT(num_ll_of(INFINITY, 0, 1, &x), -1);
    CHECK_INT(num_ll_of(9223372036854775808.0, 0, 9223372036854775807LL, &x),
              -1);
    CHECK_INT(num_ll_of(101, 0, 100, &x), -1);
    cJSON_Delete(j);
}

int main(void)
{
    log_set_level(NLOG_ERROR);
    RUN(buf_grows_and_consumes);
    RUN(buf_base64_pads);
    RUN(num_conversion_is_range_checked);
    RUN(log_redacts_secrets);
    RUN(store_refuses_unsafe_dirs);
    RUN(log_levels_parse);
    RUN(store_atomic_write_and_modes);
    RUN(store_lock_excludes);
    RUN(cancel_wakes_sleepers);
    RUN(result_roundtrip);
    RUN(clock_env_bounds);
    log_free_secrets();
    return unit_done();
}
