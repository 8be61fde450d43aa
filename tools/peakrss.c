/* peakrss.c - run a command and report its peak resident set size.
 *
 *   peakrss OUTFILE COMMAND [ARG...]
 *
 * Writes "<peak KB> <exit status>" to OUTFILE and exits with the command's
 * status. Exists because a child started from a big process (Python's
 * posix_spawn uses vfork) inherits that process's high-water mark in
 * ru_maxrss; forked from this small program, the figure is the command's
 * own. Used by bench/hostile_rss.py. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct rusage ru;
    int status = 0;
    pid_t pid;
    FILE *f;

    if (argc < 3) {
        fprintf(stderr, "usage: peakrss OUTFILE COMMAND [ARG...]\n");
        return 2;
    }
    pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0)
        return 2;
    f = fopen(argv[1], "w");
    if (f) {
        fprintf(f, "%ld %d\n", ru.ru_maxrss,
                WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status));
        fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
