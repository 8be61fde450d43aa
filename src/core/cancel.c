/* cancel.c - cancellation flags that sleepers wake on. */
#include <errno.h>
#include <time.h>

#include "nemo/cancel.h"
#include "nemo/clock.h"
#include "nemo/platform.h"

void cancel_init(nemo_cancel *c)
{
    pthread_mutex_init(&c->mu, NULL);
    plat_cond_init(&c->cv);
    c->cancelled = 0;
    c->parent = NULL;
}

void cancel_init_child(nemo_cancel *c, nemo_cancel *parent)
{
    cancel_init(c);
    c->parent = parent;
}

void cancel_destroy(nemo_cancel *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

void cancel_request(nemo_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->cancelled = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

int cancel_requested(nemo_cancel *c)
{
    int v;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    v = c->cancelled;
    pthread_mutex_unlock(&c->mu);
    if (!v && c->parent)
        v = cancel_requested(c->parent);
    return v;
}

int cancel_sleep_ms(nemo_cancel *c, long long ms)
{
    long long until;

    if (!c) {
        struct timespec req = { (time_t)(ms / 1000), (ms % 1000) * 1000000L };
        while (nanosleep(&req, &req) != 0 && errno == EINTR)
            ;
        return 0;
    }
    until = clock_mono_ms() + ms;
    for (;;) {
        long long left = until - clock_mono_ms();

        if (cancel_requested(c))
            return 1;
        if (left <= 0)
            return 0;
        /* Wake at least every 50 ms so a parent's cancel is noticed. */
        pthread_mutex_lock(&c->mu);
        if (!c->cancelled)
            plat_cond_wait_ms(&c->cv, &c->mu, left < 50 ? left : 50);
        pthread_mutex_unlock(&c->mu);
    }
}
