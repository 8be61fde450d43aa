/* progress.c - report through an optional sink. */
#include <stdarg.h>
#include <stdio.h>

#include "nemo/log.h"
#include "nemo/progress.h"

void progress_report(const nemo_progress *p, double fraction,
                     const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!p || !p->report)
        return;
    /* Progress text reaches the host (and the journal): never the token. */
    va_start(ap, fmt);
    log_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->report(p->ctx, fraction, msg);
}
