/* event.h - what happened to the user's project, for whoever shows it.
 *
 * Tools say "the timeline of session X changed" (a turn, an upload), "the
 * current session is now X" and "a video was saved at P"; listeners (the
 * MCP layer's resources, which know nothing of the tools' internals) turn
 * that into notifications. The tools know nothing of MCP: they only emit.
 *
 * Emitting is cheap and safe from any thread, with or without listeners.
 * Listeners run on the emitting thread and must not block nor call
 * event_listen/event_unlisten. */
#ifndef NEMO_EVENT_H
#define NEMO_EVENT_H

typedef enum {
    EVENT_TIMELINE_CHANGED = 0,  /* session */
    EVENT_SESSION_CHANGED,       /* session: the new current session */
    EVENT_VIDEO_SAVED            /* path (absolute), bytes */
} event_kind;

typedef struct nemo_event {
    event_kind kind;
    const char *session;   /* "" when not about a session */
    const char *path;      /* "" when not about a file */
    long long bytes;
} nemo_event;

typedef void (*event_fn)(void *ctx, const nemo_event *ev);

#define EVENT_MAX_LISTENERS 4

/* 0, or -1 when every slot is taken. */
int event_listen(event_fn fn, void *ctx);
/* After it returns, fn is not running and will not be called again. */
void event_unlisten(event_fn fn, void *ctx);

void event_emit(const nemo_event *ev);
void event_timeline_changed(const char *session);
void event_session_changed(const char *session);
void event_video_saved(const char *path, long long bytes);

#endif
