/* main.c - entry point: hand the command line to cli.c. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("nemo-mcp %s\n", NEMO_VERSION);
        return 0;
    }
    fprintf(stderr, "nemo-mcp: not built yet\n");
    return 1;
}
