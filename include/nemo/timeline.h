/* timeline.h - the draft (short keys t/tt/sg/d/m) as tracks and segments,
 * its one-line summary in the seeds' format, and the difference between two
 * drafts. Tolerant: unknown track types and odd drafts never crash. */
#ifndef NEMO_TIMELINE_H
#define NEMO_TIMELINE_H

#include <stddef.h>
#include <cjson/cJSON.h>

typedef enum { TRACK_VIDEO, TRACK_AUDIO, TRACK_TEXT, TRACK_OTHER } track_kind;

typedef struct tl_segment {
    char *label;            /* "city timelapse", never NULL */
    long long start_ms;
    long long end_ms;
    int volume_pct;         /* -1 when not given */
    int is_text;            /* label is on-screen text: quoted in summaries */
} tl_segment;

typedef struct tl_track {
    track_kind kind;
    int raw_type;           /* tt */
    char *name;             /* "Video", "BGM", "Title", never NULL */
    tl_segment *segs;
    size_t nsegs;
} tl_track;

typedef struct timeline {
    long long duration_ms;
    tl_track *tracks;
    size_t ntracks;
} timeline;

/* Parse data.state.draft (NULL or non-object: an empty timeline). */
int timeline_from_draft(const cJSON *draft, timeline *out);
void timeline_free(timeline *t);
int timeline_is_empty(const timeline *t);
const char *timeline_kind_name(track_kind k);   /* "video", "audio", ... */
/* `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi
 * (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`; "Timeline is empty." */
char *timeline_summary(const timeline *t);
/* {"duration_ms","tracks":[{"type","name","segments":[{label,start_ms,
 * end_ms,volume?}]}]} */
cJSON *timeline_to_json(const timeline *t);
/* A compact digest of t (for the job journal: what timeline_diff needs,
 * not the draft); timeline_from_digest reads it back, -1 when it is not a
 * well-formed digest. timeline_is_digest tells a digest from a draft. */
cJSON *timeline_digest(const timeline *t);
int timeline_from_digest(const cJSON *d, timeline *out);
int timeline_is_digest(const cJSON *d);
/* Changes as an array of strings ("added track 2 BGM: Lo-fi (0-10s, 35%)",
 * "removed ...", "changed ..."); empty array when nothing visible changed. */
cJSON *timeline_diff(const timeline *before, const timeline *after);

#endif
