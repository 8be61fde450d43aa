/* cli.h - the command line for people and scripts: serve, tools, call,
 * doctor, --help, --version. main.c wires the environment; cli.c parses
 * and runs the commands. */
#ifndef NEMO_CLI_H
#define NEMO_CLI_H

#include <stdio.h>
#include <cjson/cJSON.h>
#include "nemo/tool.h"

/* Exit codes (documented in --help and the README). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_TOOL = 1,         /* the tool reported an error */
    CLI_EXIT_USAGE = 2,        /* bad command line or tool arguments */
    CLI_EXIT_CONFIG = 3,       /* configuration refused / backend unreachable */
    CLI_EXIT_INTERNAL = 4,     /* the server could not start */
    CLI_EXIT_INTERRUPTED = 130 /* Ctrl-C / SIGTERM during `call` */
};

typedef enum {
    CLI_SERVE = 0,
    CLI_HELP,
    CLI_VERSION,
    CLI_TOOLS,
    CLI_CALL,
    CLI_DOCTOR
} cli_cmd;

typedef struct cli_opts {
    cli_cmd cmd;
    const char *tool;      /* CLI_CALL */
    char **args;           /* CLI_CALL: JSON or key=value words */
    int nargs;
    int json;              /* --json */
    int no_wait;           /* --no-wait */
    int tool_help;         /* call TOOL --help */
} cli_opts;

/* 0 ok; -1 usage error with a message in err. args point into argv. */
int cli_parse(int argc, char **argv, cli_opts *o, char *err, size_t n);
void cli_opts_free(cli_opts *o);
void cli_usage(FILE *f);
/* Build the arguments object of `call`: one JSON object, or key=value
 * words whose values are JSON when they parse as JSON (numbers, true,
 * arrays, "quoted"), else strings. NULL + err on a malformed word. */
cJSON *cli_args(char **words, int n, char *err, size_t errn);
/* `nemo-mcp tools`: name, title, one-line description. */
int cli_tools(FILE *out);
/* `nemo-mcp call`: run the tool in-process; text (or --json structured
 * content) on stdout, progress on stderr when it is a terminal. Returns
 * the exit code. */
int cli_call(tool_env *env, const cli_opts *o);

#endif
