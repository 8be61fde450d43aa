/* test_skill.c - SKILL.md discovery, attribution values, header safety,
 * platform detection, and the loud defaults when SKILL.md is missing or
 * broken. Runs from the repository root (tests/run.py sets the cwd). */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/frontmatter.h"
#include "nemo/log.h"
#include "nemo/skill.h"
#include "unit.h"

static char tmp[256];
static int warn_lines;
static char last_warn[2048];

static void observe(void *ctx, enum log_level level, const char *module,
                    const char *line)
{
    (void)ctx;
    if (level == NLOG_WARN && strcmp(module, "skill") == 0) {
        warn_lines++;
        snprintf(last_warn, sizeof last_warn, "%s", line);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    if (!f) {
        printf("#   cannot write %s\n", path);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static void mkdirs(const char *path)
{
    char buf[1024];
    char *p;

    snprintf(buf, sizeof buf, "%s", path);
    for (p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0700);
            *p = '/';
        }
    }
    mkdir(buf, 0700);
}

static char *in_tmp(const char *rel)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];

    snprintf(b, 1024, "%s/%s", tmp, rel);
    return b;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

TEST(repo_skill_md)
{
    nemo_skill s;
    char err[256];
    cJSON *fm;
    FILE *f;
    static char text[65536];
    size_t n;
    const cJSON *oc;

    warn_lines = 0;
    CHECK_INT(skill_load_file(&s, "SKILL.md"), 0);
    CHECK_STR(s.name, "nemo-mcp");
    CHECK_STR(s.version, "0.1.0");
    CHECK_STR(s.version, NEMO_VERSION); /* SKILL.md and the build agree */
    CHECK_STR(s.api_domain, "https://mega-api-prod.nemovideo.ai");
    CHECK_INT(s.from_file, 1);
    CHECK_STR(s.warning, "");
    CHECK_INT(s.max_upload_bytes, 0);
    CHECK(strstr(s.path, "/SKILL.md") != NULL && s.path[0] == '/');
    CHECK_INT(warn_lines, 0);

    /* The ecosystem's shape, checked field by field. */
    f = fopen("SKILL.md", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    fm = fm_parse(text, n, err, sizeof err);
    CHECK(fm != NULL);
    CHECK_STR(fm_get_string(fm, "displayName"), "NemoVideo MCP Server");
    CHECK_STR(fm_get_string(fm, "license"), "MIT");
    CHECK(fm_get_string(fm, "description") &&
          strstr(fm_get_string(fm, "description"), "NemoVideo") &&
          !strstr(fm_get_string(fm, "description"), "  "));
    oc = cJSON_GetObjectItem(cJSON_GetObjectItem(fm, "metadata"), "openclaw");
    CHECK_STR(fm_get_string(oc, "primaryEnv"), "NEMO_TOKEN");
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(
                  cJSON_GetObjectItem(oc, "requires"), "env"), 0)->valuestring,
              "NEMO_TOKEN");
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(
                  cJSON_GetObjectItem(oc, "requires"), "configPaths"), 0)
                  ->valuestring, "~/.config/nemovideo/");
    cJSON_Delete(fm);
    /* The body teaches the tools and never asks the user to click. */
    CHECK_CONTAINS(text, "`job`");
    CHECK_CONTAINS(text, "download_to");
    CHECK_CONTAINS(text, "\"running\"");
    CHECK_CONTAINS(text, "402");
    CHECK_CONTAINS(text, "1002");
    CHECK_CONTAINS(text, "?bind=");
}

TEST(env_skill_file_wins)
{
    nemo_skill s;

    write_file(in_tmp("custom.md"),
               "---\nname: custom-skill\nversion: '2.3.4'\n---\nbody\n");
    setenv("NEMO_SKILL_FILE", in_tmp("custom.md"), 1);
    skill_load(&s, "/nonexistent/bin/nemo-mcp");
    CHECK_STR(s.name, "custom-skill");
    CHECK_STR(s.version, "2.3.4");
    CHECK_INT(s.from_file, 1);
    CHECK_STR(s.warning, "");
    CHECK(strstr(s.path, "custom.md") != NULL);
    /* explicitly set but missing: loud, defaults, no silent fallback */
    warn_lines = 0;
    setenv("NEMO_SKILL_FILE", in_tmp("missing.md"), 1);
    skill_load(&s, NULL);
    CHECK_STR(s.name, SKILL_DEFAULT_NAME);
    CHECK_STR(s.version, NEMO_VERSION);
    CHECK_INT(s.from_file, 0);
    CHECK_CONTAINS(s.warning, "missing.md");
    CHECK_CONTAINS(s.warning, "cannot open");
    CHECK_INT(warn_lines, 1);
    CHECK_CONTAINS(last_warn, "X-Skill-Source: nemo-mcp");
    unsetenv("NEMO_SKILL_FILE");
}

TEST(beside_the_executable)
{
    nemo_skill s;
    char cwd[1024];

    unsetenv("NEMO_SKILL_FILE");
    mkdirs(in_tmp("inst/bin"));
    mkdirs(in_tmp("links"));
    write_file(in_tmp("inst/bin/nemo-mcp"), "#!/bin/sh\n");
    chmod(in_tmp("inst/bin/nemo-mcp"), 0755);
    write_file(in_tmp("inst/bin/SKILL.md"),
               "---\nname: beside-exe\nversion: \"9.9\"\n---\n");
    skill_load(&s, in_tmp("inst/bin/nemo-mcp"));
    CHECK_STR(s.name, "beside-exe");
    CHECK_STR(s.version, "9.9");

    /* argv[0] is a symlink elsewhere: SKILL.md is found beside the target */
    symlink(in_tmp("inst/bin/nemo-mcp"), in_tmp("links/nemo"));
    skill_load(&s, in_tmp("links/nemo"));
    CHECK_STR(s.name, "beside-exe");

    /* a relative argv[0] */
    if (getcwd(cwd, sizeof cwd) && chdir(in_tmp("links")) == 0) {
        skill_load(&s, "./nemo");
        CHECK_STR(s.name, "beside-exe");
        CHECK(chdir(cwd) == 0);
    }

    /* a bare argv[0] is looked up in PATH */
    {
        char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

        setenv("PATH", in_tmp("links"), 1);
        skill_load(&s, "nemo");
        CHECK_STR(s.name, "beside-exe");
        if (old) {
            setenv("PATH", old, 1);
            free(old);
        }
    }

    /* a skill dir with the binary in bin/: <exe dir>/../SKILL.md */
    mkdirs(in_tmp("skilldir/bin"));
    write_file(in_tmp("skilldir/bin/nemo-mcp"), "");
    write_file(in_tmp("skilldir/SKILL.md"),
               "---\nname: skill-root\nversion: \"2\"\n---\n");
    skill_load(&s, in_tmp("skilldir/bin/nemo-mcp"));
    CHECK_STR(s.name, "skill-root");
    CHECK(strstr(s.path, "/skilldir/SKILL.md") != NULL);

    /* a relocated tree: <exe dir>/../share/nemo-mcp/SKILL.md */
    remove(in_tmp("inst/bin/SKILL.md"));
    mkdirs(in_tmp("inst/share/nemo-mcp"));
    write_file(in_tmp("inst/share/nemo-mcp/SKILL.md"),
               "---\nname: from-share\nversion: \"1\"\n---\n");
    skill_load(&s, in_tmp("links/nemo"));
    CHECK_STR(s.name, "from-share");
    CHECK(strstr(s.path, "/inst/share/nemo-mcp/SKILL.md") != NULL);
}

/* The built binary (BUILD/nemo-mcp, beside BUILD/tests/) finds the
 * repository's SKILL.md one level up, so a dev build is attributed right. */
TEST(build_tree_finds_repo_skill_md)
{
    char self[1024], bin[1100], *slash, *want;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    nemo_skill s;

    unsetenv("NEMO_SKILL_FILE");
    CHECK(n > 0);
    if (n <= 0)
        return;
    self[n] = '\0';
    slash = strrchr(self, '/');
    *slash = '\0'; /* BUILD/tests */
    slash = strrchr(self, '/');
    *slash = '\0'; /* BUILD */
    snprintf(bin, sizeof bin, "%s/nemo-mcp", self);
    if (access(bin, F_OK) != 0) {
        /* `make unit` alone does not build the binary; `make test` does */
        printf("# %s not built yet; only checking SKILL.md exists\n", bin);
        CHECK(access("SKILL.md", R_OK) == 0);
        return;
    }
    skill_load(&s, bin);
    want = realpath("SKILL.md", NULL);
    CHECK_STR(s.name, "nemo-mcp");
    CHECK_STR(s.path, want);
    CHECK_STR(s.warning, "");
    free(want);
}

TEST(missing_everywhere_is_loud)
{
    nemo_skill s;
    struct stat st;

    unsetenv("NEMO_SKILL_FILE");
    mkdirs(in_tmp("bare/bin"));
    write_file(in_tmp("bare/bin/nemo-mcp"), "");
    warn_lines = 0;
    skill_load(&s, in_tmp("bare/bin/nemo-mcp"));
    if (stat(NEMO_PREFIX "/share/nemo-mcp/SKILL.md", &st) == 0) {
        printf("# an installed SKILL.md exists; skipping the missing case\n");
        CHECK(s.name[0] != '\0');
        return;
    }
    CHECK_STR(s.name, SKILL_DEFAULT_NAME);
    CHECK_STR(s.version, NEMO_VERSION);
    CHECK_INT(s.from_file, 0);
    CHECK_STR(s.path, "");
    CHECK_CONTAINS(s.warning, "no SKILL.md found");
    CHECK_CONTAINS(s.warning, "bare/bin/SKILL.md");
    CHECK_CONTAINS(s.warning, "bare/SKILL.md");
    CHECK_CONTAINS(s.warning, "bare/share/nemo-mcp/SKILL.md");
    CHECK_CONTAINS(s.warning, NEMO_PREFIX "/share/nemo-mcp/SKILL.md");
    CHECK_INT(warn_lines, 1);
    CHECK_CONTAINS(last_warn, "402");
}

TEST(broken_skill_md)
{
    nemo_skill s;

    write_file(in_tmp("broken.md"),
               "---\nname: ok\nversion: \"1.0\nlicense: MIT\n---\n");
    warn_lines = 0;
    CHECK_INT(skill_load_file(&s, in_tmp("broken.md")), -1);
    CHECK_STR(s.name, SKILL_DEFAULT_NAME);
    CHECK_STR(s.version, NEMO_VERSION);
    CHECK_INT(s.from_file, 0);
    CHECK_CONTAINS(s.warning, "broken frontmatter");
    CHECK_CONTAINS(s.warning, "line 3:");
    CHECK_INT(warn_lines, 1);

    write_file(in_tmp("noname.md"), "---\nversion: \"3.1\"\n---\n");
    CHECK_INT(skill_load_file(&s, in_tmp("noname.md")), -1);
    CHECK_STR(s.name, SKILL_DEFAULT_NAME);
    CHECK_STR(s.version, "3.1");
    CHECK_CONTAINS(s.warning, "no 'name'");

    write_file(in_tmp("noversion.md"), "---\nname: only-name\n---\n");
    CHECK_INT(skill_load_file(&s, in_tmp("noversion.md")), -1);
    CHECK_STR(s.name, "only-name");
    CHECK_STR(s.version, NEMO_VERSION);
    CHECK_INT(s.from_file, 1);
    CHECK_CONTAINS(s.warning, "no 'version'");

    write_file(in_tmp("listname.md"), "---\nname: [a, b]\nversion: ''\n---\n");
    CHECK_INT(skill_load_file(&s, in_tmp("listname.md")), -1);
    CHECK_STR(s.name, SKILL_DEFAULT_NAME);
    CHECK_CONTAINS(s.warning, "not a string");
    CHECK_CONTAINS(s.warning, "'version' in the frontmatter is empty");

    write_file(in_tmp("nofm.md"), "# Just markdown\n");
    CHECK_INT(skill_load_file(&s, in_tmp("nofm.md")), -1);
    CHECK_CONTAINS(s.warning, "no frontmatter");

    /* not a regular file: a directory, and a FIFO (must not block) */
    CHECK_INT(skill_load_file(&s, tmp), -1);
    CHECK_CONTAINS(s.warning, "not a regular file");
    mkfifo(in_tmp("fifo.md"), 0600);
    CHECK_INT(skill_load_file(&s, in_tmp("fifo.md")), -1);
    CHECK_CONTAINS(s.warning, "not a regular file");
    CHECK_INT(skill_load_file(&s, NULL), -1);
    CHECK_INT(skill_load_file(&s, ""), -1);
}

TEST(big_and_binary_files)
{
    nemo_skill s;
    FILE *f = fopen(in_tmp("big.md"), "wb");
    size_t i;

    if (!f)
        return;
    fputs("---\nname: big-one\nversion: \"4.0\"\n---\n", f);
    for (i = 0; i < 10 * 1024 * 1024 / 64; i++)
        fputs("body text body text body text body text body text body text\n",
              f);
    fclose(f);
    CHECK_INT(skill_load_file(&s, in_tmp("big.md")), 0);
    CHECK_STR(s.name, "big-one");

    f = fopen(in_tmp("big2.md"), "wb");
    fputs("---\nname: never-closed\ndescription: >\n", f);
    for (i = 0; i < 10 * 1024 * 1024 / 64; i++)
        fputs("  folded text folded text folded text folded text folded te\n",
              f);
    fclose(f);
    CHECK_INT(skill_load_file(&s, in_tmp("big2.md")), -1);
    CHECK_STR(s.name, SKILL_DEFAULT_NAME);
    CHECK_CONTAINS(s.warning, "only the first 1 MiB is read");

    f = fopen(in_tmp("junk.md"), "wb");
    for (i = 0; i < 100000; i++)
        fputc((int)((i * 2654435761u) >> 13) & 0xff, f);
    fclose(f);
    CHECK_INT(skill_load_file(&s, in_tmp("junk.md")), -1);
    CHECK_STR(s.name, SKILL_DEFAULT_NAME);

    f = fopen(in_tmp("junkfm.md"), "wb");
    fputs("---\nname: x\x01\xff\n---\n", f);
    fclose(f);
    CHECK_INT(skill_load_file(&s, in_tmp("junkfm.md")), -1);
    CHECK_CONTAINS(s.warning, "line 2:");
}

TEST(header_values_are_safe)
{
    nemo_skill s;
    char longname[1200];
    size_t i;

    write_file(in_tmp("inject.md"),
               "---\nname: \"evil\\r\\nX-Injected: 1\"\n"
               "version: \"1.0\\n\\u0085\\t \"\n---\n");
    CHECK_INT(skill_load_file(&s, in_tmp("inject.md")), 0);
    CHECK_STR(s.name, "evilX-Injected: 1");
    CHECK_STR(s.version, "1.0");
    CHECK(!strpbrk(s.name, "\r\n") && !strpbrk(s.version, "\r\n\t"));

    /* long names are capped without splitting a UTF-8 character */
    strcpy(longname, "---\nname: ");
    for (i = 0; i < 300; i++)
        strcat(longname, "\xE4\xB8\xAD"); /* 3-byte character */
    strcat(longname, "\nversion: \"");
    for (i = 0; i < 200; i++)
        strcat(longname, "9");
    strcat(longname, "\"\n---\n");
    write_file(in_tmp("long.md"), longname);
    CHECK_INT(skill_load_file(&s, in_tmp("long.md")), 0);
    CHECK(strlen(s.name) < sizeof s.name);
    CHECK_INT(strlen(s.name) % 3, 0);
    CHECK_INT(strlen(s.name), 126);
    CHECK_INT(strlen(s.version), sizeof s.version - 1);
}

TEST(optional_keys)
{
    nemo_skill s;

    write_file(in_tmp("opt.md"),
               "---\nname: o\nversion: \"1\"\n"
               "apiDomain: http://127.0.0.1:8080//\nmaxUploadMB: 200\n---\n");
    CHECK_INT(skill_load_file(&s, in_tmp("opt.md")), 0);
    CHECK_STR(s.api_domain, "http://127.0.0.1:8080");
    CHECK_INT(s.max_upload_bytes, 200LL * 1024 * 1024);
    CHECK_STR(s.warning, "");

    write_file(in_tmp("opt2.md"),
               "---\nname: o\nversion: \"1\"\nmax_upload_mb: 1.5\n---\n");
    CHECK_INT(skill_load_file(&s, in_tmp("opt2.md")), 0);
    CHECK_INT(s.max_upload_bytes, 1572864);
    CHECK_STR(s.api_domain, "");

    write_file(in_tmp("opt3.md"),
               "---\nname: o\nversion: \"1\"\nmaxUploadMB: lots\n"
               "apiDomain: ftp://example.com\n---\n");
    warn_lines = 0;
    CHECK_INT(skill_load_file(&s, in_tmp("opt3.md")), 0); /* name ok */
    CHECK_INT(s.max_upload_bytes, 0);
    CHECK_STR(s.api_domain, "");
    CHECK_CONTAINS(s.warning, "maxUploadMB ignored");
    CHECK_CONTAINS(s.warning, "apiDomain ignored");
    CHECK_INT(warn_lines, 1);

    write_file(in_tmp("opt4.md"),
               "---\nname: o\nversion: \"1\"\nmaxUploadMB: 0\n---\n");
    skill_load_file(&s, in_tmp("opt4.md"));
    CHECK_INT(s.max_upload_bytes, 0);
    CHECK_CONTAINS(s.warning, "maxUploadMB ignored");

    write_file(in_tmp("opt5.md"),
               "---\nname: o\nversion: \"1\"\nmaxUploadMB: -5\n---\n");
    skill_load_file(&s, in_tmp("opt5.md"));
    CHECK_INT(s.max_upload_bytes, 0);
}

TEST(platform_from_path)
{
    char home[1024];

    snprintf(home, sizeof home, "%s", in_tmp("home"));
    unsetenv("NEMO_SKILL_PLATFORM");
    unsetenv("SKILL_SOURCE");
    mkdirs(in_tmp("home/.clawhub/skills/nemo"));
    mkdirs(in_tmp("home/.clawhub-old/skills/nemo"));
    mkdirs(in_tmp("home/.cursor/skills/nemo"));
    mkdirs(in_tmp("home/.cursor/other"));
    mkdirs(in_tmp("elsewhere/real"));
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.clawhub/skills/nemo/SKILL.md"), home),
              "clawhub");
    CHECK_STR(skill_platform_for_path(in_tmp("home/.clawhub"), home),
              "clawhub");
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.clawhub-old/skills/nemo/SKILL.md"), home),
              "unknown");
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.cursor/skills/nemo/SKILL.md"), home),
              "cursor");
    CHECK_STR(skill_platform_for_path(in_tmp("home/.cursor/other/x"), home),
              "unknown");
    CHECK_STR(skill_platform_for_path(in_tmp("home/.cursor/skillsX/a"), home),
              "unknown");
    CHECK_STR(skill_platform_for_path("/usr/local/share/nemo-mcp/SKILL.md",
                                      home), "unknown");
    /* "~/" expands; ".." is resolved before matching */
    CHECK_STR(skill_platform_for_path("~/.clawhub/skills/x/SKILL.md", home),
              "clawhub");
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.clawhub/../elsewhere/SKILL.md"), home),
              "unknown");
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.cursor/skills/../../.clawhub/skills/a"),
                  home), "clawhub");
    /* a trailing slash on home does not matter */
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.clawhub/skills/nemo/SKILL.md"),
                  in_tmp("home/")), "clawhub");
    /* symlinks are resolved: a link inside ~/.clawhub pointing elsewhere
     * is not a clawhub install, a link from elsewhere into it is */
    symlink(in_tmp("elsewhere/real"), in_tmp("home/.clawhub/skills/linked"));
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.clawhub/skills/linked/SKILL.md"), home),
              "unknown");
    symlink(in_tmp("home/.cursor/skills/nemo"), in_tmp("elsewhere/tocursor"));
    CHECK_STR(skill_platform_for_path(in_tmp("elsewhere/tocursor"), home),
              "cursor");
    /* the install dir itself may be a symlink to another disk */
    mkdirs(in_tmp("disk2/clawhub/skills/s"));
    mkdirs(in_tmp("home2"));
    symlink(in_tmp("disk2/clawhub"), in_tmp("home2/.clawhub"));
    CHECK_STR(skill_platform_for_path(in_tmp("disk2/clawhub/skills/s"),
                                      in_tmp("home2")), "clawhub");
    /* the ecosystem's other install places */
    mkdirs(in_tmp("home/.openclaw/skills/nemo"));
    mkdirs(in_tmp("home/.claude/skills/nemo"));
    mkdirs(in_tmp("home/.claude/other"));
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.openclaw/skills/nemo/SKILL.md"), home),
              "openclaw");
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.claude/skills/nemo/SKILL.md"), home),
              "claude_code");
    CHECK_STR(skill_platform_for_path(in_tmp("home/.claude/other/x"), home),
              "unknown");
    CHECK_STR(skill_platform_for_path(NULL, home), "unknown");
    CHECK_STR(skill_platform_for_path("", home), "unknown");
    CHECK_STR(skill_platform_for_path("relative/x", "not-absolute"),
              "unknown");
}

TEST(platform_override)
{
    nemo_skill s;

    setenv("NEMO_SKILL_PLATFORM", "my_host-2", 1);
    CHECK_STR(skill_platform_for_path("/anything", "/home/x"), "my_host-2");
    write_file(in_tmp("p.md"), "---\nname: p\nversion: \"1\"\n---\n");
    skill_load_file(&s, in_tmp("p.md"));
    CHECK_STR(s.platform, "my_host-2");

    warn_lines = 0;
    setenv("NEMO_SKILL_PLATFORM", "Bad Value\r\nX: y", 1);
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.cursor/skills/nemo/SKILL.md"),
                  in_tmp("home")), "cursor");
    CHECK_INT(warn_lines, 1);
    CHECK_CONTAINS(last_warn, "ignored");
    CHECK(!strpbrk(last_warn, "\r\n"));
    setenv("NEMO_SKILL_PLATFORM", "waytoolongplatformnamethatexceeds31", 1);
    CHECK_STR(skill_platform_for_path("/x", "/home/x"), "unknown");
    /* SKILL_SOURCE (the ecosystem's name) comes first */
    setenv("NEMO_SKILL_PLATFORM", "ours", 1);
    setenv("SKILL_SOURCE", "openclaw", 1);
    CHECK_STR(skill_platform_for_path(
                  in_tmp("home/.cursor/skills/nemo/SKILL.md"),
                  in_tmp("home")), "openclaw");
    setenv("SKILL_SOURCE", "Bad Value", 1);
    CHECK_STR(skill_platform_for_path("/x", "/home/x"), "ours");
    unsetenv("SKILL_SOURCE");
    unsetenv("NEMO_SKILL_PLATFORM");

    /* skill_load_file derives the platform from where SKILL.md lives */
    setenv("HOME", in_tmp("home"), 1);
    write_file(in_tmp("home/.clawhub/skills/nemo/SKILL.md"),
               "---\nname: installed\nversion: \"1\"\n---\n");
    skill_load_file(&s, in_tmp("home/.clawhub/skills/nemo/SKILL.md"));
    CHECK_STR(s.name, "installed");
    CHECK_STR(s.platform, "clawhub");
    write_file(in_tmp("home/.cursor/skills/nemo/SKILL.md"),
               "---\nname: installed\nversion: \"1\"\n---\n");
    setenv("NEMO_SKILL_FILE", in_tmp("home/.cursor/skills/nemo/SKILL.md"), 1);
    skill_load(&s, NULL);
    CHECK_STR(s.platform, "cursor");
    unsetenv("NEMO_SKILL_FILE");
}

int main(void)
{
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

    snprintf(tmp, sizeof tmp, "/tmp/nemo-skill-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    log_set_observer(observe, NULL);
    log_set_level(NLOG_ERROR); /* keep the expected warnings off stderr */
    RUN(repo_skill_md);
    RUN(env_skill_file_wins);
    RUN(beside_the_executable);
    RUN(build_tree_finds_repo_skill_md);
    RUN(missing_everywhere_is_loud);
    RUN(broken_skill_md);
    RUN(big_and_binary_files);
    RUN(header_values_are_safe);
    RUN(optional_keys);
    RUN(platform_from_path);
    RUN(platform_override);
    log_set_observer(NULL, NULL);
    if (old_home) {
        setenv("HOME", old_home, 1);
        free(old_home);
    }
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return unit_done();
}
