/* main.c - wire the process together, then serve or run one command.
 *
 * Startup does no network and no disk scans beyond reading SKILL.md: the
 * HTTP layer initialises itself on first use, the tool descriptions are
 * compiled in. Everything made here is freed before exit.
 *
 * A configuration that cannot work (a refused base URL, a SKILL.md named
 * by NEMO_SKILL_FILE that cannot be used) does not stop the server: hosts show only "failed to connect"
 * for a server that exits at start, and bury the reason in a log. The
 * server starts, lists its tools, and every tool call answers with the
 * problem and its fix. `call` and `doctor` still exit 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/api.h"
#include "nemo/buf.h"
#include "nemo/cli.h"
#include "nemo/doctor.h"
#include "nemo/job.h"
#include "nemo/log.h"
#include "nemo/mcp.h"
#include "nemo/schema.h"
#include "nemo/skill.h"
#include "nemo/tool.h"

/* ---- configuration problems ---- */

static int problem_skill(const nemo_skill *skill, char *why, size_t n)
{
    if (!skill->named_broken)
        return 0;
    snprintf(why, n, "NEMO_SKILL_FILE: %s", skill->warning);
    return 1;
}

static const struct {
    int (*found)(const nemo_skill *skill, char *why, size_t n);
    const char *fix;
} problems[] = {
    { problem_skill, "Point NEMO_SKILL_FILE at a readable SKILL.md whose "
                     "frontmatter has a name and a version, or unset it." },
    /* Not here: a config or state dir that cannot be used. The server then
     * runs without saving state (store.c), says so on stderr, and doctor
     * says FAIL; refusing every call would be worse than that. */
};

static void problem_line(nemo_buf *b, const char *why, const char *fix)
{
    buf_printf(b, "\n- %s", why);
    if (b->len && !strchr(".!?", b->data[b->len - 1]))
        buf_putc(b, '.');
    buf_printf(b, " %s", fix);
}

/* Everything wrong with the configuration, as one text for a person (and
 * the model relaying it), or NULL. api_err: why api_new refused, or NULL. */
static char *config_problems(const nemo_skill *skill, const nemo_err *api_err)
{
    nemo_buf b = NEMO_BUF_INIT;
    char why[1024];
    size_t i, head;

    buf_puts(&b, "nemo-mcp cannot work with its current configuration, so "
                 "no tool can run:");
    head = b.len;
    if (api_err)
        problem_line(&b, api_err->message, "Set NEMO_API_URL (or its "
                     "older alias NEMO_API_BASE) to the backend's https:// "
                     "URL, or unset it to use the default.");
    for (i = 0; i < sizeof problems / sizeof problems[0]; i++)
        if (problems[i].found(skill, why, sizeof why))
            problem_line(&b, why, problems[i].fix);
    if (b.len == head) {
        buf_free(&b);
        return NULL;
    }
    buf_puts(&b, "\nFix the server's environment in the MCP host's "
                 "configuration and restart the server; `nemo-mcp doctor` "
                 "checks the setup.");
    return buf_detach(&b);
}

static int run(const cli_opts *o, tool_env *env)
{
    switch (o->cmd) {
    case CLI_TOOLS:
        return cli_tools(stdout);
    case CLI_CALL:
        return cli_call(env, o);
    case CLI_SERVE:
        return mcp_serve(env, 0, 1) == 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
    default:
        return CLI_EXIT_USAGE;
    }
}

int main(int argc, char **argv)
{
    static nemo_skill skill;
    tool_env env = { NULL, NULL, &skill, NULL };
    cli_opts o;
    nemo_err err;
    char msg[256], *problem = NULL;
    int rc;

    if (cli_parse(argc, argv, &o, msg, sizeof msg) != 0) {
        fprintf(stderr, "nemo-mcp: %s\n", msg);
        cli_usage(stderr);
        cli_opts_free(&o);
        return CLI_EXIT_USAGE;
    }
    if (o.cmd == CLI_HELP || o.cmd == CLI_VERSION) {
        if (o.cmd == CLI_HELP)
            cli_usage(stdout);
        else
            printf("nemo-mcp %s\n", NEMO_VERSION);
        return CLI_EXIT_OK;
    }
    log_init_from_env();
    skill_load(&skill, argv[0]);
    if (o.cmd == CLI_DOCTOR) {
        /* Before api_new: a refused base URL is one of its FAIL lines. */
        rc = doctor_run_skill(&skill, stdout) == 0 ? CLI_EXIT_OK
                                                   : CLI_EXIT_CONFIG;
        log_free_secrets();
        cli_opts_free(&o);
        return rc;
    }
    err_clear(&err);
    env.api = api_new(&skill, &err);
    problem = config_problems(&skill, env.api ? NULL : &err);
    if (problem && o.cmd == CLI_CALL) {
        fprintf(stderr, "nemo-mcp: %s\n", problem);
        rc = CLI_EXIT_CONFIG;
        goto out;
    }
    if (!env.api && !problem) {
        fprintf(stderr, "nemo-mcp: %s\n", err.message);  /* out of memory */
        rc = CLI_EXIT_INTERNAL;
        goto out;
    }
    if (problem)
        LOG_ERROR("config", "%s", problem);
    env.config_problem = problem;
    env.jobs = job_table_new();
    if (!env.jobs || schema_load() != 0) {
        fprintf(stderr, "nemo-mcp: cannot start (out of memory or broken "
                "tool descriptions)\n");
        rc = CLI_EXIT_INTERNAL;
        goto out;
    }
    /* With a problem no job may be picked up: resuming needs the backend,
     * and a failed resume would close a job that is still good. */
    if (!problem)
        tool_register_resumers(&env);
    rc = run(&o, &env);
out:
    if (env.jobs)
        job_table_free(env.jobs);
    api_free(env.api);
    free(problem);
    schema_unload();
    log_free_secrets();
    cli_opts_free(&o);
    return rc;
}
