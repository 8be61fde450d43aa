/* progress.c - report through an optional sink. */
#include <stdarg.h>
#include <stdio.h>

#include "nemo/progress.h"

void progress_report(const nemo_progress *p, double fraction,
                     const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!p || !p->report)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->report(p->ctx, fraction, msg);
}
