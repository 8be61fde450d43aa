/* doctor.c - `nemo-mcp doctor`: what a person needs to see when something
 * does not work, one line per check, never the token. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_internal.h"
#include "curl_dyn.h"
#include "nemo/clock.h"
#include "nemo/doctor.h"
#include "nemo/log.h"
#include "nemo/store.h"

enum { DOC_OK, DOC_WARN, DOC_FAIL };

typedef struct doctor {
    FILE *out;
    int fails;
} doctor;

static void line(doctor *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line(doctor *d, int level, const char *fmt, ...)
{
    static const char *const tags[] = { "OK  ", "WARN", "FAIL" };
    char text[1536];
    va_list ap;

    va_start(ap, fmt);
    log_vformat(text, sizeof text, fmt, ap);   /* never the token */
    va_end(ap);
    fprintf(d->out, "%s %s\n", tags[level], text);
    if (level == DOC_FAIL)
        d->fails++;
}

/* "2026-11-28 08:00 UTC" */
static void utc_minutes(long long ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
}

/* "6d 23h", "4h 12m", "3m" */
static void span(long long ms, char *out, size_t n)
{
    long long m = ms / 60000, d = m / 1440, h = (m % 1440) / 60;

    if (d > 0)
        snprintf(out, n, "%lldd %lldh", d, h);
    else if (h > 0)
        snprintf(out, n, "%lldh %lldm", h, m % 60);
    else
        snprintf(out, n, "%lldm", m);
}

/* The version line, with libcurl's. libcurl is loaded on first use
 * (curl_dyn.c); doctor loads it here so that a missing or broken library
 * is one clear FAIL line rather than a puzzling backend failure. */
static void check_version(doctor *d)
{
    nemo_err err;

    err_clear(&err);
    if (curldyn_load(&err) == 0) {
        line(d, DOC_OK, "nemo-mcp %s (%s)", NEMO_VERSION, curl_version());
        return;
    }
    line(d, DOC_OK, "nemo-mcp %s", NEMO_VERSION);
    line(d, DOC_FAIL, "libcurl: %s", err.message);
}

/* One of the two dirs: refused or unusable means no persistence. */
static void check_dir(doctor *d, int config)
{
    char dir[PATH_MAX] = "", why[768];

    if (store_dir_status(config, dir, sizeof dir, why, sizeof why) != 0) {
        if (config)
            line(d, DOC_WARN, "config dir: not used: %s. Another user or "
                 "program could plant a client id there, so nemo-mcp never "
                 "reads nor writes it and does not share the client id of "
                 "the other NemoVideo skills", why);
        else
            line(d, DOC_WARN, "state dir: not used: %s; nemo-mcp runs "
                 "without saving the token, session and jobs (a restart "
                 "loses them)", why);
        return;
    }
    if (!config) {
        if (store_write(".doctor-probe", "ok", 2, 0600) != 0) {
            line(d, DOC_FAIL, "state dir: %s is not writable", dir);
            return;
        }
        store_remove(".doctor-probe");
        line(d, DOC_OK, "state dir: %s (token store, session, jobs; "
             "NEMO_STATE_DIR)", dir);
    } else if (store_legacy_left(why, sizeof why)) {
        line(d, DOC_WARN, "config dir: %s still holds %s from an older "
             "nemo-mcp, which the state dir replaces; remove it (the shared "
             "dir should hold no credentials)", dir, why);
    } else {
        line(d, DOC_OK, "config dir: %s (shared with other NemoVideo "
             "skills: client_id only; NEMO_CONFIG_DIR)", dir);
    }
}

static void check_client_id(doctor *d, const api_auth_info *ai)
{
    const char *path = ai->client_id_path[0] ? ai->client_id_path
                                             : "the config dir";

    if (strcmp(ai->client_id_source, "NEMO_CLIENT_ID") == 0)
        line(d, DOC_OK, "client id: %s (from NEMO_CLIENT_ID)",
             ai->client_id);
    else if (strcmp(ai->client_id_source, "shared") == 0)
        line(d, DOC_OK, "client id: %s (%s, shared with other NemoVideo "
             "skills)", ai->client_id, path);
    else if (strcmp(ai->client_id_source, "own") == 0)
        line(d, DOC_WARN, "client id: %s, nemo-mcp's own (the backend "
             "refused the one in %s, which is left as it is)",
             ai->client_id, path);
    else if (strcmp(ai->client_id_source, "state") == 0)
        line(d, DOC_WARN, "client id: %s, nemo-mcp's own, kept in the state "
             "dir because the shared config dir is not used (see above)",
             ai->client_id);
    else if (strcmp(ai->client_id_source, "unusable") == 0)
        line(d, DOC_WARN, "client id: %s holds no usable id (it is left as "
             "it is); nemo-mcp uses its own%s%s", path,
             ai->client_id[0] ? ": " : "", ai->client_id);
    else if (!ai->client_id_path[0])
        line(d, DOC_WARN, "client id: the config dir is not used (see "
             "above); %s", ai->store_path[0] ? "nemo-mcp makes its own on "
             "first use and keeps it in the state dir" : "nor is the state "
             "dir, so each start uses a new one");
    else
        line(d, DOC_OK, "client id: none yet; one is created on first use "
             "(%s)", path);
    if (ai->user_id[0])
        line(d, DOC_OK, "account: %s%s", ai->user_id,
             strncmp(ai->user_id, "anon_", 5) == 0 ? " (anonymous)" : "");
}

static void check_skill(doctor *d, const nemo_skill *s)
{
    if (s->named_broken)
        line(d, DOC_FAIL, "skill: NEMO_SKILL_FILE: %s; the server refuses "
             "every tool call until it names a readable SKILL.md with a name "
             "and a version (or is unset)", s->warning);
    else if (s->from_file && !s->warning[0])
        line(d, DOC_OK, "skill: source=%s version=%s platform=%s (from %s)",
             s->name, s->version, s->platform, s->path);
    else
        line(d, DOC_WARN, "skill: using built-in defaults source=%s "
             "version=%s platform=%s%s%s; exports may fail with HTTP 402 "
             "without the real attribution", s->name, s->version,
             s->platform, s->warning[0] ? ": " : "", s->warning);
}

static void check_base(doctor *d, const nemo_api *api)
{
    if (strncmp(api->base, "http://", 7) == 0)
        line(d, DOC_WARN, "base URL: %s (from %s): plain http to a loopback "
             "address, for testing only", api->base, api->base_source);
    else
        line(d, DOC_OK, "base URL: %s (from %s)", api->base,
             api->base_source);
    line(d, DOC_OK, "web URL: %s (from %s; project and registration links)",
         api->web, api->web_source);
}

static void check_backend(doctor *d, nemo_api *api)
{
    api_credits c;
    api_ctl ctl;
    nemo_err err;
    long long t0 = clock_mono_ms();

    memset(&ctl, 0, sizeof ctl);
    err_clear(&err);
    if (api_credits_get(api, &ctl, &c, &err) != 0) {
        line(d, DOC_FAIL, "backend: %s [%s] (after %lld ms)", err.message,
             err_kind_name(err.kind), clock_mono_ms() - t0);
        return;
    }
    line(d, c.available > 0 ? DOC_OK : DOC_WARN,
         "backend: reachable, credits available %.0f (frozen %.0f, total "
         "%.0f), %lld ms", c.available, c.frozen, c.total,
         clock_mono_ms() - t0);
}

static void check_token(doctor *d, const api_auth_info *ai)
{
    long long now = clock_wall_ms();
    char when[40], left[32];
    struct stat st;

    if (strcmp(ai->source, "env") == 0) {
        line(d, DOC_OK, "token: from NEMO_TOKEN (expiry not known; the "
             "backend decides)");
        return;
    }
    if (strcmp(ai->source, "none") == 0 || !ai->source[0]) {
        line(d, DOC_WARN, "token: none yet (no NEMO_TOKEN, nothing in %s); "
             "an anonymous token is requested on first use", ai->store_path);
        return;
    }
    if (ai->expires_ms == 0) {
        line(d, DOC_OK, "token: from %s, expiry not known", ai->source);
    } else if (ai->expires_ms <= now) {
        utc_minutes(ai->expires_ms, when, sizeof when);
        line(d, DOC_WARN, "token: from %s, expired %s; a new one is "
             "requested on next use", ai->source, when);
    } else {
        utc_minutes(ai->expires_ms, when, sizeof when);
        span(ai->expires_ms - now, left, sizeof left);
        line(d, DOC_OK, "token: %s, expires %s (in %s)",
             strcmp(ai->source, "new") == 0 ? "new anonymous token, saved"
                                            : "from store", when, left);
    }
    if (stat(ai->store_path, &st) == 0 && (st.st_mode & 0077) != 0)
        line(d, DOC_WARN, "token store: %s is mode %04o; should be 0600 "
             "(chmod 600 %s)", ai->store_path, (unsigned)(st.st_mode & 0777),
             ai->store_path);
}

int doctor_run(nemo_api *api, FILE *out)
{
    doctor d = { out, 0 };
    api_auth_info ai;

    check_version(&d);
    check_dir(&d, 0);
    check_dir(&d, 1);
    check_skill(&d, &api->skill);
    check_base(&d, api);
    check_backend(&d, api);
    /* After the live call: it reports the token actually in use. */
    api_auth_describe(api, &ai);
    check_token(&d, &ai);
    check_client_id(&d, &ai);
    fflush(out);
    return d.fails ? 1 : 0;
}

int doctor_run_skill(const nemo_skill *skill, FILE *out)
{
    doctor d = { out, 0 };
    nemo_err err;
    nemo_api *api;
    int rc;

    err_clear(&err);
    api = api_new(skill, &err);
    if (!api) {
        check_version(&d);
        check_dir(&d, 0);
        check_dir(&d, 1);
        if (skill)
            check_skill(&d, skill);
        line(&d, DOC_FAIL, "base URL: %s", err.message);
        fflush(out);
        return 1;
    }
    rc = doctor_run(api, out);
    api_free(api);
    return rc;
}
