/* progress.h - where long work reports what it is doing.
 *
 * Producers (api, tools, jobs) call progress_report(); the consumer (the MCP
 * layer, the CLI progress bar, a job's record) decides what to do with it.
 * A NULL sink is allowed and ignores everything. */
#ifndef NEMO_PROGRESS_H
#define NEMO_PROGRESS_H

typedef struct nemo_progress {
    /* fraction: 0..1 when known, -1 when not. message: never NULL. */
    void (*report)(void *ctx, double fraction, const char *message);
    void *ctx;
} nemo_progress;

void progress_report(const nemo_progress *p, double fraction,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
