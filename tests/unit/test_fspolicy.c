/* test_fspolicy.c - the one module that says where files may be read and
 * written: env roots, host roots, and their intersection. */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/fspolicy.h"
#include "unit.h"

static char dir[PATH_MAX / 2];

static void sub(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
    mkdir(out, 0700);
}

TEST(no_limits_admit_everything)
{
    char why[512];

    unsetenv("NEMO_UPLOAD_ROOTS");
    unsetenv("NEMO_DOWNLOAD_ROOTS");
    fsp_reset();
    CHECK_INT(fsp_check(FSP_READ, "/etc/hosts", why, sizeof why), 0);
    CHECK_INT(fsp_check(FSP_WRITE, "/tmp/x.mp4", why, sizeof why), 0);
    CHECK_INT(fsp_check(FSP_READ, "relative.mp4", why, sizeof why), -1);
    CHECK_INT(fsp_each_root(FSP_READ, NULL, NULL), 0);
}

TEST(inside_is_component_wise)
{
    CHECK(fsp_inside("/data/up/a.mp4", "/data/up"));
    CHECK(fsp_inside("/data/up", "/data/up"));
    CHECK(!fsp_inside("/data/upload-other/a.mp4", "/data/up"));
    CHECK(fsp_inside("/anything", "/"));
    CHECK(!fsp_inside("/a", ""));
}

TEST(env_roots_per_access)
{
    char a[PATH_MAX], b[PATH_MAX], p[PATH_MAX + 16], why[2048];

    sub(a, "a");
    sub(b, "b");
    setenv("NEMO_UPLOAD_ROOTS", a, 1);
    setenv("NEMO_DOWNLOAD_ROOTS", b, 1);
    snprintf(p, sizeof p, "%s/clip.mp4", a);
    CHECK_INT(fsp_check(FSP_READ, p, why, sizeof why), 0);
    CHECK_INT(fsp_check(FSP_WRITE, p, why, sizeof why), -1);
    CHECK_CONTAINS(why, "outside the folders exports may be saved to");
    CHECK_CONTAINS(why, b);
    CHECK_CONTAINS(why, "NEMO_DOWNLOAD_ROOTS");
    unsetenv("NEMO_UPLOAD_ROOTS");
    unsetenv("NEMO_DOWNLOAD_ROOTS");
}

static int count_dirs(void *ctx, const char *d)
{
    (void)d;
    (*(int *)ctx)++;
    return 0;
}

TEST(host_roots_intersect_env_roots)
{
    char a[PATH_MAX], b[PATH_MAX], p[PATH_MAX + 16], why[2048];
    const char *roots[2];
    int n = 0;

    sub(a, "a");
    sub(b, "b");
    roots[0] = a;
    CHECK_INT(fsp_set_host_roots(roots, 1), 0);
    CHECK(fsp_have_host_roots());
    snprintf(p, sizeof p, "%s/clip.mp4", b);
    CHECK_INT(fsp_check(FSP_READ, p, why, sizeof why), -1);
    CHECK_CONTAINS(why, "MCP roots");
    snprintf(p, sizeof p, "%s/clip.mp4", a);
    CHECK_INT(fsp_check(FSP_READ, p, why, sizeof why), 0);
    /* Env says b only: a host root outside it admits nothing. */
    setenv("NEMO_UPLOAD_ROOTS", b, 1);
    CHECK_INT(fsp_check(FSP_READ, p, why, sizeof why), -1);
    CHECK_INT(fsp_each_root(FSP_READ, count_dirs, &n), 0);
    unsetenv("NEMO_UPLOAD_ROOTS");
    CHECK_INT(fsp_each_root(FSP_READ, count_dirs, &n), 1);
    CHECK_INT(n, 1);
    /* Roots given but none usable bound everything. */
    roots[0] = "relative/dir";
    CHECK_INT(fsp_set_host_roots(roots, 1), 0);
    CHECK_INT(fsp_check(FSP_READ, p, why, sizeof why), -1);
    CHECK_INT(fsp_set_host_roots(NULL, 0), 0);
    CHECK(!fsp_have_host_roots());
    CHECK_INT(fsp_check(FSP_READ, p, why, sizeof why), 0);
}

/* The download rules (issue 11, finding 2), including the host's roots
 * admitting a hidden folder the user opened. */
TEST(download_targets)
{
    char d[PATH_MAX], hidden[PATH_MAX], p[PATH_MAX + 32], out[PATH_MAX];
    char why[2048];
    const char *roots[1];
    FILE *f;
    int exists = -1;

    unsetenv("NEMO_DOWNLOAD_ROOTS");
    fsp_reset();
    sub(d, "dl");
    /* a folder: the given name + .mp4; with no name a folder is refused */
    CHECK_INT(fsp_download_target(d, "render_7", 0, out, sizeof out,
                                  &exists, why, sizeof why), 0);
    snprintf(p, sizeof p, "%s/render_7.mp4", d);
    CHECK_STR(out, p);
    CHECK_INT(exists, 0);
    CHECK_INT(fsp_download_target(d, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), -1);
    CHECK_CONTAINS(why, "is a folder");
    /* an existing file: refused, or reported to the caller (overwrite) */
    f = fopen(p, "w");
    if (f)
        fclose(f);
    CHECK_INT(fsp_download_target(p, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), -1);
    CHECK_CONTAINS(why, "already exists");
    CHECK_INT(fsp_download_target(p, NULL, 1, out, sizeof out, &exists, why,
                                  sizeof why), 0);
    CHECK_INT(exists, 1);
    unlink(p);
    /* names: .mp4 only, never hidden; upper case .MP4 is fine */
    snprintf(p, sizeof p, "%s/clip.MP4", d);
    CHECK_INT(fsp_download_target(p, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), 0);
    snprintf(p, sizeof p, "%s/.mp4", d);
    CHECK_INT(fsp_download_target(p, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), -1);
    snprintf(p, sizeof p, "%s/clip.mp4.sh", d);
    CHECK_INT(fsp_download_target(p, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), -1);
    CHECK_CONTAINS(why, "does not end in .mp4");
    /* a hidden folder: refused until a root (here the host's) holds it */
    sub(hidden, ".hidden");
    snprintf(p, sizeof p, "%s/clip.mp4", hidden);
    CHECK_INT(fsp_download_target(p, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), -1);
    CHECK_CONTAINS(why, "hidden folder (.hidden)");
    roots[0] = hidden;
    CHECK_INT(fsp_set_host_roots(roots, 1), 0);
    CHECK_INT(fsp_download_target(p, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), 0);
    /* ... and then nothing outside it */
    snprintf(p, sizeof p, "%s/clip.mp4", d);
    CHECK_INT(fsp_download_target(p, NULL, 0, out, sizeof out, &exists, why,
                                  sizeof why), -1);
    CHECK_CONTAINS(why, "MCP roots");
    fsp_reset();
}

int main(void)
{
    char tmpl[] = "/tmp/nemo-fsp-XXXXXX", real[PATH_MAX], cmd[PATH_MAX + 16];
    int rc;

    if (!mkdtemp(tmpl) || !realpath(tmpl, real) || strlen(real) >= sizeof dir)
        return 1;
    memcpy(dir, real, strlen(real) + 1);
    RUN(no_limits_admit_everything);
    RUN(inside_is_component_wise);
    RUN(env_roots_per_access);
    RUN(host_roots_intersect_env_roots);
    RUN(download_targets);
    fsp_reset();
    rc = unit_done();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
