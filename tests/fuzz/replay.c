/* replay.c - feed every file of a corpus directory to a fuzz target once.
 *
 * Built with the target and the library under ASan + UBSan by any C
 * compiler (no libFuzzer needed), so `make test` runs each corpus on every
 * machine. Prints "ok corpus_<target> (N inputs)" or "not ok ..." the way
 * tests/run.py counts; a sanitizer report aborts the process, which the
 * runner reports with its output. Usage: test_fuzz_<target> [DIR|FILE...]
 * (default tests/fuzz/corpus/<target>). */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET must name the target"
#endif

#define REPLAY_MAX_INPUT (1u << 20)   /* corpus files are small */

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (!f)
        return -1;
    buf = malloc(REPLAY_MAX_INPUT);
    n = buf ? fread(buf, 1, REPLAY_MAX_INPUT, f) : 0;
    fclose(f);
    if (!buf)
        return -1;
    /* an exact-size copy, so an over-read is caught */
    {
        uint8_t *exact = malloc(n ? n : 1);

        memcpy(exact, buf, n);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    free(buf);
    return 0;
}

/* Open descriptors: an input must not leave one behind (libFuzzer only
 * notices when a long run hits the limit). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static int replay_path(const char *path, int *count)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    char sub[4096];
    int rc = 0;

    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path);
    }
    if (!(d = opendir(path)))
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
            (*count)++;
            rc |= replay_file(sub);
        }
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    const char *def = "tests/fuzz/corpus/" FUZZ_TARGET;
    int count = 0, rc = 0, i, fds = open_fds();

    if (argc < 2)
        rc = replay_path(def, &count);
    for (i = 1; i < argc; i++)
        rc |= replay_path(argv[i], &count);
    if (rc != 0 || count == 0) {
        printf("not ok corpus_%s (unreadable or empty corpus)\n",
               FUZZ_TARGET);
        return 1;
    }
    if (open_fds() > fds) {
        printf("not ok corpus_%s (%d descriptors left open)\n", FUZZ_TARGET,
               open_fds() - fds);
        return 1;
    }
    printf("ok corpus_%s (%d inputs)\n", FUZZ_TARGET, count);
    return 0;
}
