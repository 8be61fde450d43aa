/* event.c - a fixed table of listeners behind a read-write lock: emitters
 * (job and worker threads) share the read side, so a listener being
 * removed is never running when event_unlisten returns. */
#include <pthread.h>
#include <stddef.h>

#include "nemo/event.h"

static pthread_rwlock_t event_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct {
    event_fn fn;
    void *ctx;
} event_slots[EVENT_MAX_LISTENERS];

int event_listen(event_fn fn, void *ctx)
{
    int i, rc = -1;

    pthread_rwlock_wrlock(&event_lock);
    for (i = 0; i < EVENT_MAX_LISTENERS && rc != 0; i++) {
        if (!event_slots[i].fn) {
            event_slots[i].fn = fn;
            event_slots[i].ctx = ctx;
            rc = 0;
        }
    }
    pthread_rwlock_unlock(&event_lock);
    return rc;
}

void event_unlisten(event_fn fn, void *ctx)
{
    int i;

    pthread_rwlock_wrlock(&event_lock);
    for (i = 0; i < EVENT_MAX_LISTENERS; i++) {
        if (event_slots[i].fn == fn && event_slots[i].ctx == ctx) {
            event_slots[i].fn = NULL;
            event_slots[i].ctx = NULL;
        }
    }
    pthread_rwlock_unlock(&event_lock);
}

void event_emit(const nemo_event *ev)
{
    int i;

    pthread_rwlock_rdlock(&event_lock);
    for (i = 0; i < EVENT_MAX_LISTENERS; i++)
        if (event_slots[i].fn)
            event_slots[i].fn(event_slots[i].ctx, ev);
    pthread_rwlock_unlock(&event_lock);
}

void event_timeline_changed(const char *session)
{
    nemo_event ev = { EVENT_TIMELINE_CHANGED, session ? session : "", "",
                      0 };

    if (session && session[0])
        event_emit(&ev);
}

void event_session_changed(const char *session)
{
    nemo_event ev = { EVENT_SESSION_CHANGED, session ? session : "", "", 0 };

    if (session && session[0])
        event_emit(&ev);
}

void event_video_saved(const char *path, long long bytes)
{
    nemo_event ev = { EVENT_VIDEO_SAVED, "", path ? path : "", bytes };

    if (path && path[0] == '/')
        event_emit(&ev);
}
