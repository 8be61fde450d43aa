/* cancel.h - a cancellation flag that sleepers can wait on. */
#ifndef NEMO_CANCEL_H
#define NEMO_CANCEL_H

#include <pthread.h>

typedef struct nemo_cancel {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int cancelled;
    struct nemo_cancel *parent;  /* cancelled when the parent is */
} nemo_cancel;

void cancel_init(nemo_cancel *c);
/* A child also reports cancelled when its parent is (one level is enough:
 * job -> request). parent may be NULL. */
void cancel_init_child(nemo_cancel *c, nemo_cancel *parent);
void cancel_destroy(nemo_cancel *c);
void cancel_request(nemo_cancel *c);
int cancel_requested(nemo_cancel *c);   /* NULL-safe: 0 */
/* Sleep up to ms; returns 1 if cancelled (before or during), else 0.
 * A parent's cancellation is noticed within 50 ms. NULL c just sleeps. */
int cancel_sleep_ms(nemo_cancel *c, long long ms);

#endif
