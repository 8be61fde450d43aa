/* cli.c - `nemo-mcp tools`, `nemo-mcp call TOOL ...`, --help.
 *
 * `call` runs a tool in this process through the same schema validation
 * the MCP server uses. Long-running tools are started in task mode and
 * waited for (job_wait) so a script gets the final result; --no-wait gets
 * what an MCP host would see (the tool's bounded wait and a job handle).
 * Ctrl-C cancels: the signal handler only writes to a pipe that a watcher
 * thread turns into cancel_request(). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nemo/cli.h"
#include "nemo/clock.h"
#include "nemo/log.h"
#include "nemo/schema.h"

#define CLI_WAIT_SLICE_MS (3600LL * 1000)

/* ---- parsing ---- */

void cli_usage(FILE *f)
{
    fprintf(f,
"usage: nemo-mcp [COMMAND]\n"
"\n"
"Make and edit videos with the NemoVideo AI backend from any MCP host.\n"
"\n"
"commands:\n"
"  (none), serve           serve the Model Context Protocol on stdin/stdout\n"
"  tools                   list the tools\n"
"  call TOOL [JSON | key=value ...] [--json] [--no-wait]\n"
"                          run one tool and print its text; values parse as\n"
"                          JSON when they can (42, true, [\"a\"]), else are\n"
"                          strings; --json prints the structured result;\n"
"                          long work (generate, export) is waited for unless\n"
"                          --no-wait; `call TOOL --help` shows its arguments\n"
"  doctor                  check configuration, token, attribution and the\n"
"                          backend; exit 3 when a check fails\n"
"  --help, --version\n"
"\n"
"exit codes:\n"
"  0    success\n"
"  1    the tool reported an error (its message is printed)\n"
"  2    usage: bad command line, unknown tool or invalid arguments\n"
"  3    configuration refused or backend unreachable\n"
"  4    internal error (the server could not start)\n"
"  130  interrupted (Ctrl-C or SIGTERM during `call`)\n"
"\n"
"environment: NEMO_TOKEN, NEMO_API_URL (or NEMO_API_BASE), NEMO_WEB_URL,\n"
"NEMO_CLIENT_ID, NEMO_CONFIG_DIR (shared client id), NEMO_STATE_DIR (token,\n"
"session, jobs), NEMO_LOG (error|warn|info|debug, on stderr),\n"
"NEMO_SKILL_FILE, SKILL_SOURCE, NEMO_UPLOAD_ROOTS, NEMO_HEARTBEAT_MS,\n"
"NEMO_RENDER_POLL_MS, NEMO_JOB_TTL_MS.\n");
}

static const struct {
    const char *word;
    cli_cmd cmd;
} commands[] = {
    { "serve", CLI_SERVE },     { "--help", CLI_HELP },
    { "-h", CLI_HELP },         { "help", CLI_HELP },
    { "--version", CLI_VERSION }, { "-V", CLI_VERSION },
    { "version", CLI_VERSION }, { "tools", CLI_TOOLS },
    { "call", CLI_CALL },       { "doctor", CLI_DOCTOR },
};

static int parse_call(int argc, char **argv, cli_opts *o, char *err,
                      size_t n)
{
    int i;

    o->args = calloc((size_t)argc + 1, sizeof *o->args);
    if (!o->args) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            o->json = 1;
        else if (strcmp(argv[i], "--no-wait") == 0)
            o->no_wait = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            o->tool_help = 1;
        else if (!o->tool)
            o->tool = argv[i];
        else
            o->args[o->nargs++] = argv[i];
    }
    if (!o->tool) {
        snprintf(err, n, "call: which tool? (see `nemo-mcp tools`)");
        return -1;
    }
    return 0;
}

void cli_opts_free(cli_opts *o)
{
    free(o->args);
    o->args = NULL;
}

int cli_parse(int argc, char **argv, cli_opts *o, char *err, size_t n)
{
    size_t i;

    memset(o, 0, sizeof *o);
    err[0] = '\0';
    if (argc < 2)
        return 0;
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].word) != 0)
            continue;
        o->cmd = commands[i].cmd;
        if (o->cmd == CLI_CALL)
            return parse_call(argc, argv, o, err, n);
        if (argc > 2) {
            snprintf(err, n, "%s takes no arguments", argv[1]);
            return -1;
        }
        return 0;
    }
    snprintf(err, n, "unknown command \"%s\"", argv[1]);
    return -1;
}

/* A strict JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * ("007" stays a string, as an id should). */
static int json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return 0;
    if (*s == '.') {
        if (!(*++s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static cJSON *word_value(const char *v)
{
    cJSON *j;

    if (json_number(v))
        return cJSON_Parse(v);
    if (strchr("[{\"", v[0]) || strcmp(v, "true") == 0 ||
        strcmp(v, "false") == 0 || strcmp(v, "null") == 0) {
        const char *end = NULL;

        j = cJSON_ParseWithOpts(v, &end, 1);
        if (j)
            return j;
    }
    return cJSON_CreateString(v);
}

cJSON *cli_args(char **words, int n, char *err, size_t errn)
{
    cJSON *args;
    int i;

    if (n == 1 && words[0][0] == '{') {
        args = cJSON_Parse(words[0]);
        if (!cJSON_IsObject(args)) {
            cJSON_Delete(args);
            snprintf(err, errn, "the arguments are not a valid JSON object");
            return NULL;
        }
        return args;
    }
    args = cJSON_CreateObject();
    for (i = 0; args && i < n; i++) {
        char *eq = strchr(words[i], '=');
        char key[128];
        size_t kl;

        if (!eq || eq == words[i] ||
            (kl = (size_t)(eq - words[i])) >= sizeof key) {
            snprintf(err, errn, "expected key=value or one JSON object, got "
                     "\"%s\"", words[i]);
            cJSON_Delete(args);
            return NULL;
        }
        memcpy(key, words[i], kl);
        key[kl] = '\0';
        cJSON_DeleteItemFromObjectCaseSensitive(args, key);
        cJSON_AddItemToObject(args, key, word_value(eq + 1));
    }
    return args;
}

/* ---- tools ---- */

static const char *str_of(const cJSON *o, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : def;
}

/* First sentence of a description, at most max bytes. */
static void one_line(const char *s, char *out, size_t max)
{
    size_t n = 0;

    while (s[n] && s[n] != '\n' && n + 1 < max) {
        if (s[n] == '.' && (s[n + 1] == ' ' || s[n + 1] == '\0' ||
                            s[n + 1] == '\n'))
            break;
        n++;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

int cli_tools(FILE *out)
{
    const cJSON *t;
    char line[100];

    cJSON_ArrayForEach(t, schema_tools()) {
        one_line(str_of(t, "description", ""), line, sizeof line);
        fprintf(out, "%-10s %-26s %s\n", str_of(t, "name", "?"),
                str_of(t, "title", ""), line);
    }
    return CLI_EXIT_OK;
}

static void tool_help(FILE *f, const cJSON *tool)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(tool, "inputSchema");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(in, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(in, "required"), *p, *r;

    fprintf(f, "%s - %s\n\n%s\n\narguments:\n", str_of(tool, "name", "?"),
            str_of(tool, "title", ""), str_of(tool, "description", ""));
    cJSON_ArrayForEach(p, props) {
        int required = 0;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
        char *types = type && !cJSON_IsString(type)
                          ? cJSON_PrintUnformatted(type) : NULL;

        cJSON_ArrayForEach(r, req)
            required |= cJSON_IsString(r) &&
                        strcmp(r->valuestring, p->string) == 0;
        fprintf(f, "  %-16s %-8s %s%s\n", p->string,
                types ? types : str_of(p, "type", ""),
                required ? "(required) " : "", str_of(p, "description", ""));
        free(types);
    }
}

/* ---- call: signals, progress line ---- */

static volatile int cli_sig_fd = -1;

static void cli_on_signal(int sig)
{
    int saved = errno, fd = cli_sig_fd;
    char c = (char)sig;

    if (fd >= 0 && write(fd, &c, 1) < 0) {
        /* full pipe: a wake-up is already pending */
    }
    errno = saved;
}

typedef struct cli_run {
    nemo_cancel cancel;
    int pipe[2];
    int interrupted;
    pthread_mutex_t mu;    /* the progress line */
    int tty;
    long long started_ms, last_ms;
    int spin;
    int shown;
} cli_run;

static void *cli_watch(void *arg)
{
    cli_run *r = arg;
    struct pollfd pf = { r->pipe[0], POLLIN, 0 };
    char c;

    while (poll(&pf, 1, -1) < 0 && errno == EINTR)
        ;
    if (read(r->pipe[0], &c, 1) == 1 && c != 0) {
        r->interrupted = 1;
        cancel_request(&r->cancel);
    }
    return NULL;
}

static void cli_progress(void *ctx, double fraction, const char *message)
{
    static const char spin[] = "|/-\\";
    cli_run *r = ctx;
    long long now = clock_mono_ms();
    char pct[16] = "";

    if (!r->tty)
        return;
    pthread_mutex_lock(&r->mu);
    if (now - r->last_ms >= 100) {
        if (fraction >= 0 && fraction <= 1)
            snprintf(pct, sizeof pct, " %3d%%", (int)(fraction * 100 + 0.5));
        fprintf(stderr, "\r\033[K[%c]%s %.60s (%llds)", spin[r->spin++ & 3],
                pct, message, (now - r->started_ms) / 1000);
        fflush(stderr);
        r->last_ms = now;
        r->shown = 1;
    }
    pthread_mutex_unlock(&r->mu);
}

static void cli_progress_clear(cli_run *r)
{
    pthread_mutex_lock(&r->mu);
    if (r->shown)
        fprintf(stderr, "\r\033[K");
    r->shown = 0;
    pthread_mutex_unlock(&r->mu);
}

/* Wait for a job the tool started; its result replaces out->result. */
static void cli_wait_job(tool_env *env, cli_run *r, const char *id,
                         const nemo_progress *sink, nemo_result *out)
{
    nemo_job *j = job_lookup(env->jobs, id);
    job_status st;
    char note[256];

    if (!j) {
        result_error(out, NULL, "the job %s that the tool started cannot be "
                     "found", id);
        return;
    }
    do
        st = job_wait(j, CLI_WAIT_SLICE_MS, &r->cancel, sink);
    while (st == JOB_RUNNING && !cancel_requested(&r->cancel));
    if (st == JOB_RUNNING) {
        note[0] = '\0';
        job_cancel(j, note, sizeof note);
        job_wait(j, 2000, NULL, NULL);
        result_error(out, NULL, "cancelled%s%s", note[0] ? ": " : "", note);
    } else {
        result_free(out);
        if (job_result(j, out) != 0)
            result_error(out, NULL, "job %s ended (%s) without a result", id,
                         job_status_name(st));
    }
    job_unref(j);
}

static void print_result(const cli_opts *o, const nemo_result *res)
{
    if (o->json && res->structured && !res->is_error) {
        char *s = cJSON_Print(res->structured);

        if (s)
            printf("%s\n", s);
        free(s);
        return;
    }
    if (res->text && res->text[0])
        fprintf(res->is_error && o->json ? stderr : stdout, "%s\n", res->text);
}

static int cli_prepare(const cli_opts *o, const tool_def **def,
                       const cJSON **tool, cJSON **args)
{
    char err[512];
    cJSON *raw;

    *def = tool_find(o->tool);
    *tool = schema_tool(o->tool);
    if (!*def || !*tool) {
        fprintf(stderr, "nemo-mcp: unknown tool \"%s\" (see `nemo-mcp "
                "tools`)\n", o->tool);
        return CLI_EXIT_USAGE;
    }
    if (o->tool_help) {
        tool_help(stdout, *tool);
        return CLI_EXIT_OK;
    }
    raw = cli_args(o->args, o->nargs, err, sizeof err);
    if (!raw) {
        fprintf(stderr, "nemo-mcp: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    *args = schema_args(cJSON_GetObjectItemCaseSensitive(*tool, "inputSchema"),
                        raw, err, sizeof err);
    cJSON_Delete(raw);
    if (!*args) {
        fprintf(stderr, "nemo-mcp: invalid arguments for %s: %s\n"
                "(see `nemo-mcp call %s --help`)\n", o->tool, err, o->tool);
        return CLI_EXIT_USAGE;
    }
    return -1;  /* go on */
}

static int cli_setup(cli_run *r, struct sigaction old[2])
{
    struct sigaction sa;

    memset(r, 0, sizeof *r);
    cancel_init(&r->cancel);
    pthread_mutex_init(&r->mu, NULL);
    r->tty = isatty(2);
    r->started_ms = clock_mono_ms();
    if (pipe(r->pipe) != 0)
        return -1;
    fcntl(r->pipe[1], F_SETFL, fcntl(r->pipe[1], F_GETFL) | O_NONBLOCK);
    cli_sig_fd = r->pipe[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cli_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void cli_teardown(cli_run *r, pthread_t watcher,
                         const struct sigaction old[2])
{
    char zero = 0;

    /* A zero byte only stops the watcher. */
    if (write(r->pipe[1], &zero, 1) < 0) {
        /* the watcher already ended on a signal */
    }
    pthread_join(watcher, NULL);
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
    cli_sig_fd = -1;
    close(r->pipe[0]);
    close(r->pipe[1]);
    cancel_destroy(&r->cancel);
    pthread_mutex_destroy(&r->mu);
}

int cli_call(tool_env *env, const cli_opts *o)
{
    const tool_def *def;
    const cJSON *tool;
    cJSON *args = NULL;
    struct sigaction old[2];
    nemo_progress sink;
    tool_output out;
    tool_call tc;
    pthread_t watcher;
    cli_run r;
    int rc;

    rc = cli_prepare(o, &def, &tool, &args);
    if (rc >= 0)
        return rc;
    if (cli_setup(&r, old) != 0 ||
        pthread_create(&watcher, NULL, cli_watch, &r) != 0) {
        fprintf(stderr, "nemo-mcp: cannot set up signal handling\n");
        cJSON_Delete(args);
        return CLI_EXIT_INTERNAL;
    }
    sink.report = cli_progress;
    sink.ctx = &r;
    memset(&tc, 0, sizeof tc);
    memset(&out, 0, sizeof out);
    result_init(&out.result);
    tc.env = env;
    tc.args = args;
    tc.cancel = &r.cancel;
    tc.progress = &sink;
    tc.task_mode = def->long_running && !o->no_wait;
    if (tool_run(def, &tc, &out) != 0 && !out.result.text &&
        !out.result.is_error)
        result_error(&out.result, NULL, "the %s tool failed unexpectedly",
                     def->name);
    if (tc.task_mode && out.job_id[0] && !cancel_requested(&r.cancel))
        cli_wait_job(env, &r, out.job_id, &sink, &out.result);
    cli_progress_clear(&r);
    result_redact(&out.result);
    print_result(o, &out.result);
    rc = r.interrupted ? CLI_EXIT_INTERRUPTED
         : out.result.is_error ? CLI_EXIT_TOOL : CLI_EXIT_OK;
    result_free(&out.result);
    cli_teardown(&r, watcher, old);
    cJSON_Delete(args);
    return rc;
}
