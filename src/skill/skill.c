/* skill.c - which skill this binary runs as.
 *
 * The backend attributes every request to a skill: X-Skill-Source is the
 * SKILL.md frontmatter `name`, X-Skill-Version its `version`, and
 * X-Skill-Platform comes from where the skill is installed. Exports fail
 * with HTTP 402 when the attribution is wrong, so a missing or broken
 * SKILL.md is never silent: it is logged loudly, defaults are used, and
 * out->warning says why (doctor prints it).
 *
 * SKILL.md is looked for, first found wins:
 *   1. $NEMO_SKILL_FILE (when set, nothing else is tried)
 *   2. beside the executable, after resolving symlinks
 *   3. <exe dir>/../SKILL.md (a skill dir with the binary in bin/, and the
 *      build tree: build/nemo-mcp finds the repository's SKILL.md)
 *   4. <exe dir>/../share/nemo-mcp/SKILL.md (a relocated install tree)
 *   5. NEMO_PREFIX/share/nemo-mcp/SKILL.md (the compiled-in prefix)
 *
 * Frontmatter keys read here:
 *   name, version    attribution (required; defaults when absent)
 *   apiDomain        backend base URL (http:// or https://)
 *   maxUploadMB      upload size limit in MiB (1 MiB = 1048576 bytes), a
 *                    positive number, fractions allowed; `max_upload_mb` is
 *                    accepted as an alias. The upload tool uses the smaller
 *                    of this and its built-in 500 MB limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/frontmatter.h"
#include "nemo/log.h"
#include "nemo/platform.h"
#include "nemo/skill.h"

#ifndef NEMO_PREFIX
#define NEMO_PREFIX "/usr/local"
#endif

#define SKILL_SHARE "/share/nemo-mcp/SKILL.md"
/* The frontmatter parser refuses more than 1 MiB, so reading more of a
 * file than that (plus slack for the opening line) is pointless. */
#define SKILL_READ_CAP (1024 * 1024 + 4096)
#define SKILL_MIB (1024.0 * 1024.0)
#define SKILL_MAX_UPLOAD_MIB (1024.0 * 1024.0) /* 1 TiB: beyond is a typo */

/* Install locations, relative to $HOME, matched on whole path components
 * after resolving symlinks. */
static const struct {
    const char *dir;
    const char *platform;
} skill_platforms[] = {
    { ".clawhub", "clawhub" },
    { ".cursor/skills", "cursor" },
    { ".openclaw", "openclaw" },
    { ".claude/skills", "claude_code" },
};

/* The platform named outright: SKILL_SOURCE (the ecosystem's name), then
 * NEMO_SKILL_PLATFORM (ours), both before the install path. */
static const char *const skill_platform_envs[] = { "SKILL_SOURCE",
                                                   "NEMO_SKILL_PLATFORM" };

static const char *const skill_upload_keys[] = { "maxUploadMB",
                                                 "max_upload_mb" };

__attribute__((format(printf, 2, 3)))
static void skill_warn(nemo_skill *out, const char *fmt, ...)
{
    size_t used = strlen(out->warning);
    va_list ap;

    if (used && used + 2 < sizeof out->warning) {
        memcpy(out->warning + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= sizeof out->warning)
        return;
    va_start(ap, fmt);
    vsnprintf(out->warning + used, sizeof out->warning - used, fmt, ap);
    va_end(ap);
}

/* Copy src into dst (cap bytes) as a value that is safe in an HTTP header:
 * no C0/C1 control characters or DEL (so no CR/LF injection), no leading
 * or trailing white space, and truncated on a UTF-8 boundary. */
static void skill_header_value(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t n = 0;

    while (*s == ' ')
        s++;
    for (; *s && n + 1 < cap; s++) {
        if (*s < 0x20 || *s == 0x7f)
            continue;
        if (*s == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F) { /* U+0080-009F */
            s++;
            continue;
        }
        dst[n++] = (char)*s;
    }
    /* do not leave half a UTF-8 sequence behind after truncation */
    if (*s && n > 0) {
        size_t k = n;

        while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && ((unsigned char)dst[k - 1] & 0x80)) {
            unsigned char lead = (unsigned char)dst[k - 1];
            size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;

            if (n - (k - 1) < want)
                n = k - 1;
        }
    }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

/* Text from the environment or a file, made printable for a log line. */
static void skill_printable(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    for (; *src && n + 1 < cap; src++)
        dst[n++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? '?' : *src;
    dst[n] = '\0';
}

static void skill_defaults(nemo_skill *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", SKILL_DEFAULT_NAME);
    snprintf(out->version, sizeof out->version, "%s", SKILL_DEFAULT_VERSION);
    snprintf(out->platform, sizeof out->platform, "unknown");
}

/* ---- paths ----------------------------------------------------------- */

/* Lexically clean an absolute path: no "//", "." or "..". */
static void skill_clean_path(char *p)
{
    char *out = p, *in = p;

    while (*in) {
        char *seg;
        size_t len;

        while (*in == '/')
            in++;
        seg = in;
        while (*in && *in != '/')
            in++;
        len = (size_t)(in - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out > p && *--out != '/')
                ;
            continue;
        }
        *out++ = '/';
        memmove(out, seg, len);
        out += len;
    }
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

/* Absolute, symlink-free form of path ("~/" expands to home). Falls back
 * to a lexical clean-up when the path does not exist. 0 ok, -1 too long. */
static int skill_canon(const char *path, const char *home, char *out,
                       size_t cap)
{
    char tmp[PATH_MAX * 2];
    char *real;
    int n;

    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home)
        n = snprintf(tmp, sizeof tmp, "%s/%s", home, path + 1);
    else if (path[0] == '/')
        n = snprintf(tmp, sizeof tmp, "%s", path);
    else {
        char cwd[PATH_MAX];

        if (!getcwd(cwd, sizeof cwd))
            return -1;
        n = snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
    }
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    /* Resolve the longest existing ancestor; keep the rest as written. */
    {
        char head[sizeof tmp];
        char *cut = NULL;

        memcpy(head, tmp, sizeof head);
        while (!(real = realpath(head, NULL))) {
            char *slash = strrchr(head, '/');

            if (!slash || slash == head)
                break;
            *slash = '\0';
            cut = slash;
        }
        if (real) {
            n = snprintf(out, cap, "%s%s%s", real, cut ? "/" : "",
                         cut ? tmp + (cut - head) + 1 : "");
            free(real);
        } else {
            n = snprintf(out, cap, "%s", tmp);
        }
    }
    if (n < 0 || (size_t)n >= cap)
        return -1;
    skill_clean_path(out);
    return 0;
}

/* path is prefix itself or lies below it (whole components only, so
 * "~/.clawhub-old" is not under "~/.clawhub"). */
static int skill_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    while (n > 1 && prefix[n - 1] == '/')
        n--;
    if (strncmp(path, prefix, n) != 0)
        return 0;
    return path[n] == '\0' || path[n] == '/' || (n == 1 && prefix[0] == '/');
}

static int skill_platform_valid(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++) {
        char c = s[n];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return 0;
    }
    return n > 0 && n < sizeof ((nemo_skill *)0)->platform;
}

const char *skill_platform_for_path(const char *path, const char *home)
{
    char canon[PATH_MAX], home_canon[PATH_MAX];
    size_t i;

    for (i = 0; i < sizeof skill_platform_envs / sizeof *skill_platform_envs;
         i++) {
        const char *env = getenv(skill_platform_envs[i]);
        char shown[40];

        if (!env || !*env)
            continue;
        if (skill_platform_valid(env))
            return env;
        skill_printable(shown, sizeof shown, env);
        LOG_WARN("skill", "%s=\"%s\" ignored: use 1-31 characters from "
                 "[a-z0-9_-]", skill_platform_envs[i], shown);
    }
    if (!home)
        home = getenv("HOME");
    if (!path || !*path || !home || home[0] != '/')
        return "unknown";
    if (skill_canon(path, home, canon, sizeof canon) < 0 ||
        skill_canon(home, NULL, home_canon, sizeof home_canon) < 0)
        return "unknown";
    for (i = 0; i < sizeof skill_platforms / sizeof skill_platforms[0]; i++) {
        char prefix[PATH_MAX * 2], real_prefix[PATH_MAX];

        snprintf(prefix, sizeof prefix, "%s/%s", home_canon,
                 skill_platforms[i].dir);
        /* the install dir itself may be a symlink (e.g. to another disk) */
        if (skill_under(canon, prefix) ||
            (skill_canon(prefix, NULL, real_prefix, sizeof real_prefix) == 0
             && skill_under(canon, real_prefix)))
            return skill_platforms[i].platform;
    }
    return "unknown";
}

/* ---- reading SKILL.md ------------------------------------------------ */

/* Read at most SKILL_READ_CAP bytes of a regular file. NULL + reason. */
static char *skill_read(const char *path, size_t *len, char *why,
                        size_t whylen)
{
    struct stat st;
    char *data = NULL;
    size_t got = 0;
    int fd;

    /* O_NONBLOCK: a FIFO planted at the path must not hang the server */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open it: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "it is not a regular file");
        goto out;
    }
    data = malloc(SKILL_READ_CAP + 1);
    if (!data) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    while (got < SKILL_READ_CAP) {
        ssize_t r = read(fd, data + got, SKILL_READ_CAP - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, whylen, "cannot read it: %s", strerror(errno));
            free(data);
            data = NULL;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    data[got] = '\0';
    *len = got;
out:
    close(fd);
    return data;
}

static void skill_read_upload_limit(nemo_skill *out, const cJSON *fm)
{
    const cJSON *v = NULL;
    const char *key = NULL;
    double mib = 0;
    size_t i;

    for (i = 0; !v && i < sizeof skill_upload_keys / sizeof *skill_upload_keys;
         i++) {
        key = skill_upload_keys[i];
        v = cJSON_GetObjectItemCaseSensitive(fm, key);
    }
    if (!v || cJSON_IsNull(v))
        return;
    if (cJSON_IsNumber(v)) {
        mib = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        char *end;

        errno = 0;
        mib = strtod(v->valuestring, &end);
        while (*end == ' ')
            end++;
        if (errno || end == v->valuestring || *end)
            mib = -1;
    } else {
        mib = -1;
    }
    if (!(mib > 0 && mib <= SKILL_MAX_UPLOAD_MIB)) {
        skill_warn(out, "%s ignored: expected a number of MiB between 0 and "
                        "%.0f", key, SKILL_MAX_UPLOAD_MIB);
        return;
    }
    out->max_upload_bytes = (long long)(mib * SKILL_MIB);
    if (out->max_upload_bytes < 1)
        out->max_upload_bytes = 1;
}

static void skill_read_api_domain(nemo_skill *out, const cJSON *fm)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(fm, "apiDomain");
    char val[sizeof out->api_domain];
    size_t n;

    if (!v || cJSON_IsNull(v))
        return;
    if (!cJSON_IsString(v)) {
        skill_warn(out, "apiDomain ignored: not a string");
        return;
    }
    skill_header_value(val, sizeof val, v->valuestring);
    if (strncmp(val, "https://", 8) != 0 && strncmp(val, "http://", 7) != 0) {
        skill_warn(out, "apiDomain ignored: not an http(s) URL");
        return;
    }
    n = strlen(val);
    while (n > 8 && val[n - 1] == '/')
        val[--n] = '\0';
    memcpy(out->api_domain, val, n + 1);
}

/* name or version into dst; 0 when the frontmatter gave a usable one. */
static int skill_attr(nemo_skill *out, const cJSON *fm, const char *key,
                      char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(fm, key);
    char val[256];

    if (!v || cJSON_IsNull(v)) {
        skill_warn(out, "no '%s' in the frontmatter", key);
        return -1;
    }
    if (!cJSON_IsString(v)) {
        skill_warn(out, "'%s' in the frontmatter is not a string", key);
        return -1;
    }
    skill_header_value(val, cap < sizeof val ? cap : sizeof val,
                       v->valuestring);
    if (!val[0]) {
        skill_warn(out, "'%s' in the frontmatter is empty", key);
        return -1;
    }
    memcpy(dst, val, strlen(val) + 1); /* fits: val was capped to cap */
    return 0;
}

int skill_load_file(nemo_skill *out, const char *path)
{
    char why[300], shown[200];
    cJSON *fm = NULL;
    char *text = NULL;
    size_t len = 0;
    int name_ok, version_ok, rc = -1;

    skill_defaults(out);
    if (!path || !*path) {
        skill_warn(out, "no SKILL.md path given");
        goto out;
    }
    if (skill_canon(path, getenv("HOME"), out->path, sizeof out->path) < 0)
        snprintf(out->path, sizeof out->path, "%s", path);
    skill_printable(shown, sizeof shown, out->path);
    text = skill_read(out->path, &len, why, sizeof why);
    if (!text) {
        skill_warn(out, "SKILL.md at %s: %s", shown, why);
        goto out;
    }
    fm = fm_parse(text, len, why, sizeof why);
    if (!fm) {
        skill_warn(out, "SKILL.md at %s has a broken frontmatter (%s%s)",
                   shown, why, len >= SKILL_READ_CAP ? "; only the first "
                   "1 MiB is read" : "");
        goto out;
    }
    name_ok = skill_attr(out, fm, "name", out->name, sizeof out->name) == 0;
    version_ok = skill_attr(out, fm, "version", out->version,
                            sizeof out->version) == 0;
    out->from_file = name_ok;
    if (!name_ok || !version_ok)
        skill_warn(out, "in SKILL.md at %s", shown);
    else
        rc = 0;
    skill_read_api_domain(out, fm);
    skill_read_upload_limit(out, fm);
out:
    snprintf(out->platform, sizeof out->platform, "%s",
             skill_platform_for_path(out->path[0] ? out->path : NULL, NULL));
    free(text);
    cJSON_Delete(fm);
    if (out->warning[0]) {
        LOG_WARN("skill", "%s; using X-Skill-Source: %s, X-Skill-Version: %s "
                          "(exports fail with HTTP 402 when the backend does "
                          "not accept these)",
                 out->warning, out->name, out->version);
    }
    return rc;
}

/* ---- finding SKILL.md ------------------------------------------------ */

/* Resolve the running executable: argv[0] when it names a path, else the
 * PATH entry it was found in, else what the system says (platform.c). */
static int skill_resolve_exe(const char *exe_path, char *out, size_t cap)
{
    return plat_exe_path(exe_path, out, cap);
}

static int skill_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

void skill_load(nemo_skill *out, const char *exe_path)
{
    const char *env = getenv("NEMO_SKILL_FILE");
    char exe[PATH_MAX], dir[PATH_MAX], cand[4][PATH_MAX + 64];
    char looked[4 * (PATH_MAX + 64)];
    int ncand = 0, i;

    if (env && *env) {
        /* Named on purpose: a file that cannot be used is a configuration
         * error, not a reason to run with made-up attribution. */
        out->named_broken = skill_load_file(out, env) != 0;
        return;
    }
    if (skill_resolve_exe(exe_path, exe, sizeof exe) == 0) {
        char *slash;

        snprintf(dir, sizeof dir, "%s", exe);
        slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        snprintf(cand[ncand++], sizeof cand[0], "%s/SKILL.md", dir);
        snprintf(cand[ncand], sizeof cand[0], "%s/../SKILL.md", dir);
        skill_clean_path(cand[ncand++]);
        snprintf(cand[ncand], sizeof cand[0], "%s/..%s", dir, SKILL_SHARE);
        skill_clean_path(cand[ncand++]);
    } else {
        exe[0] = '\0';
    }
    snprintf(cand[ncand++], sizeof cand[0], "%s%s", NEMO_PREFIX, SKILL_SHARE);
    looked[0] = '\0';
    for (i = 0; i < ncand; i++) {
        if (skill_exists(cand[i])) {
            skill_load_file(out, cand[i]);
            return;
        }
        if (i == 0 || strcmp(cand[i], cand[i - 1]) != 0) {
            strncat(looked, i ? ", " : "", sizeof looked - strlen(looked) - 1);
            strncat(looked, cand[i], sizeof looked - strlen(looked) - 1);
        }
    }
    skill_defaults(out);
    {
        char shown[800];

        skill_printable(shown, sizeof shown, looked);
        skill_warn(out, "no SKILL.md found (NEMO_SKILL_FILE is not set; "
                        "looked in %s)", shown);
    }
    snprintf(out->platform, sizeof out->platform, "%s",
             skill_platform_for_path(exe[0] ? exe : NULL, NULL));
    LOG_WARN("skill", "%s; using X-Skill-Source: %s, X-Skill-Version: %s "
                      "(exports fail with HTTP 402 when the backend does not "
                      "accept these)", out->warning, out->name, out->version);
}
