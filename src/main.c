/* main.c - wire the process together, then serve or run one command.
 *
 * Startup does no network and no disk scans beyond reading SKILL.md: the
 * HTTP layer initialises itself on first use, the tool descriptions are
 * compiled in. Everything made here is freed before exit. */
#include <stdio.h>
#include <string.h>

#include "nemo/api.h"
#include "nemo/cli.h"
#include "nemo/doctor.h"
#include "nemo/job.h"
#include "nemo/log.h"
#include "nemo/mcp.h"
#include "nemo/schema.h"
#include "nemo/skill.h"
#include "nemo/tool.h"

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
    tool_env env = { NULL, NULL, &skill };
    cli_opts o;
    nemo_err err;
    char msg[256];
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
    if (!env.api) {
        fprintf(stderr, "nemo-mcp: %s\n", err.message);
        cli_opts_free(&o);
        return CLI_EXIT_CONFIG;
    }
    env.jobs = job_table_new();
    if (!env.jobs || schema_load() != 0) {
        fprintf(stderr, "nemo-mcp: cannot start (out of memory or broken "
                "tool descriptions)\n");
        rc = CLI_EXIT_INTERNAL;
        goto out;
    }
    tool_register_resumers(&env);
    rc = run(&o, &env);
out:
    if (env.jobs)
        job_table_free(env.jobs);
    api_free(env.api);
    schema_unload();
    log_free_secrets();
    cli_opts_free(&o);
    return rc;
}
