/* timeline.c - the draft as tracks and segments, its summary, and what
 * changed between two drafts.
 *
 * The draft format is only known from the seeds (t tracks, tt type, sg
 * segments, d duration, m metadata), so every reader here is tolerant:
 * long key spellings are accepted, numbers may arrive as strings, junk
 * entries are skipped, and a draft sent as a JSON string is parsed. Nothing
 * in a draft can make these functions fail except running out of memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/buf.h"
#include "nemo/json.h"
#include "nemo/num.h"
#include "nemo/timeline.h"

#define TL_MAX_MS 1000000000000LL     /* ~31 years: clamps absurd numbers */
#define TL_LABEL_MAX 1000             /* bytes kept of a label */
#define TL_SUMMARY_LABEL 80           /* bytes of a label in a summary */
#define TL_SUMMARY_SEGS 20            /* segments listed per track */
#define TL_SUMMARY_TRACKS 50          /* tracks listed */
#define TL_NEST_MAX 4                 /* draft-in-a-string-in-a-draft */

/* Key spellings, short first. */
static const char *const tl_k_tracks[] = { "t", "tracks", NULL };
static const char *const tl_k_type[] = { "tt", "type", "track_type", NULL };
static const char *const tl_k_segs[] = { "sg", "segments", "segs", NULL };
static const char *const tl_k_dur[] = { "d", "dur", "duration",
                                        "duration_ms", NULL };
static const char *const tl_k_meta[] = { "m", "meta", "metadata", NULL };
static const char *const tl_k_start[] = { "s", "st", "start", "start_ms",
                                          "offset", NULL };
static const char *const tl_k_end[] = { "e", "end", "end_ms", NULL };
static const char *const tl_k_vol[] = { "volume", "vol", NULL };
static const char *const tl_k_tname[] = { "name", "title", "label", NULL };
static const char *const tl_k_label[] = { "label", "name", "title", NULL };

static const struct {
    int tt;
    track_kind kind;
    const char *word;      /* a type given as a word */
    const char *kind_name; /* timeline_kind_name */
    const char *default_name;
} tl_types[] = {
    { 0, TRACK_VIDEO, "video", "video", "Video" },
    { 1, TRACK_AUDIO, "audio", "audio", "Audio" },
    { 7, TRACK_TEXT, "text", "text", "Text" },
};
#define TL_NTYPES (sizeof tl_types / sizeof tl_types[0])

const char *timeline_kind_name(track_kind k)
{
    size_t i;

    for (i = 0; i < TL_NTYPES; i++)
        if (tl_types[i].kind == k)
            return tl_types[i].kind_name;
    return "other";
}

static const cJSON *tl_get(const cJSON *o, const char *const *keys)
{
    const cJSON *v;

    if (!cJSON_IsObject(o))
        return NULL;
    for (; *keys; keys++)
        if ((v = cJSON_GetObjectItemCaseSensitive(o, *keys)) != NULL &&
            !cJSON_IsNull(v))
            return v;
    return NULL;
}

/* A finite number, or a string holding only one. */
static int tl_num(const cJSON *v, double *out)
{
    double d;
    char *end;

    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring[0]) {
        d = strtod(v->valuestring, &end);
        while (*end == ' ')
            end++;
        if (*end)
            return 0;
    } else {
        return 0;
    }
    if (!isfinite(d))
        return 0;
    *out = d;
    return 1;
}

/* Milliseconds clamped to [0, TL_MAX_MS]; 0 when absent or junk. */
static int tl_ms(const cJSON *v, long long *out)
{
    double d;

    if (!tl_num(v, &d))
        return 0;
    if (d < 0)
        d = 0;
    if (d > (double)TL_MAX_MS)
        d = (double)TL_MAX_MS;
    *out = (long long)(d + 0.5);   /* d >= 0: rounds half up */
    return 1;
}

/* The first of keys holding a string with something besides blanks. */
static const char *tl_str(const cJSON *o, const char *const *keys)
{
    for (; cJSON_IsObject(o) && *keys; keys++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, *keys);
        const char *p;

        if (!cJSON_IsString(v))
            continue;
        for (p = v->valuestring; *p && (unsigned char)*p <= ' '; p++)
            ;
        if (*p)
            return v->valuestring;
    }
    return NULL;
}

/* A copy with control characters as spaces, trimmed, at most max bytes,
 * cut on a UTF-8 boundary. */
static char *tl_clean(const char *s, size_t max)
{
    size_t n = strlen(s), i, o = 0;
    char *out;

    /* Trim after the cut, and DEL like the other control characters, so
     * that cleaning a clean label changes nothing (the journal's timeline
     * digest is cleaned again when read back). */
    while (n && ((unsigned char)*s <= ' ' || *s == 0x7F))
        s++, n--;
    if (n > max) {
        n = max;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    while (n && ((unsigned char)s[n - 1] <= ' ' || s[n - 1] == 0x7F))
        n--;
    out = malloc(n + 1);
    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        out[o++] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
    }
    out[o] = '\0';
    return out;
}

static const char *tl_basename(const char *s)
{
    const char *q = strrchr(s, '/');

    return q && q[1] ? q + 1 : s;
}

static char *tl_label(const cJSON *seg, const cJSON *m, size_t n,
                      int *is_text)
{
    const char *s;
    char fallback[32];

    *is_text = 0;
    if ((s = tl_str(m, tl_k_label)) || (s = tl_str(seg, tl_k_label)))
        return tl_clean(s, TL_LABEL_MAX);
    {
        static const char *const text[] = { "text", "content", NULL };

        if ((s = tl_str(m, text)) || (s = tl_str(seg, text))) {
            *is_text = 1;
            return tl_clean(s, TL_LABEL_MAX);
        }
    }
    {
        static const char *const src[] = { "src", "url", "file", "path",
                                           NULL };

        if ((s = tl_str(m, src)) || (s = tl_str(seg, src)))
            return tl_clean(tl_basename(s), TL_LABEL_MAX);
    }
    snprintf(fallback, sizeof fallback, "segment %zu", n);
    return tl_clean(fallback, sizeof fallback);
}

/* Volume 0..1, or 0..100 when above 1, as a percentage. */
static int tl_volume(const cJSON *seg, const cJSON *m)
{
    const cJSON *v = tl_get(m, tl_k_vol);
    double d;

    if (!v)
        v = tl_get(seg, tl_k_vol);
    if (!tl_num(v, &d) || d < 0)
        return -1;
    d = d <= 1.0 ? d * 100.0 : d;
    return d > 1000.0 ? 1000 : (int)(d + 0.5);
}

static int tl_segment_parse(const cJSON *sg, size_t n, long long *cursor,
                            long long draft_ms, tl_segment *out)
{
    const cJSON *m = tl_get(sg, tl_k_meta);
    long long start = *cursor, dur, end;

    if (!tl_ms(tl_get(sg, tl_k_start), &start))
        tl_ms(tl_get(m, tl_k_start), &start);
    if (tl_ms(tl_get(sg, tl_k_dur), &dur)) {
        end = start + dur;
    } else if (tl_ms(tl_get(sg, tl_k_end), &end)) {
        end = end < start ? start : end;
    } else {
        /* No length at all (a BGM bed): it runs to the end of the draft. */
        end = draft_ms > start ? draft_ms : start;
    }
    out->start_ms = start;
    out->end_ms = end;
    out->volume_pct = tl_volume(sg, m);
    out->label = tl_label(sg, m, n, &out->is_text);
    *cursor = end;
    return out->label ? 0 : -1;
}

static void tl_track_kind(const cJSON *track, tl_track *t)
{
    const cJSON *tt = tl_get(track, tl_k_type);
    double d;
    size_t i;

    t->kind = TRACK_OTHER;
    t->raw_type = -1;
    if (tl_num(tt, &d) && d >= -1e9 && d <= 1e9) {
        t->raw_type = (int)d;
        for (i = 0; i < TL_NTYPES; i++)
            if (tl_types[i].tt == t->raw_type && (double)t->raw_type == d)
                t->kind = tl_types[i].kind;
    } else if (cJSON_IsString(tt)) {
        for (i = 0; i < TL_NTYPES; i++)
            if (strcmp(tt->valuestring, tl_types[i].word) == 0) {
                t->kind = tl_types[i].kind;
                t->raw_type = tl_types[i].tt;
            }
    }
}

static char *tl_track_name(const cJSON *track, const tl_track *t)
{
    const char *s = tl_str(tl_get(track, tl_k_meta), tl_k_tname);
    char fallback[48];
    size_t i;

    if (!s)
        s = tl_str(track, tl_k_tname);
    if (s)
        return tl_clean(s, TL_LABEL_MAX);
    for (i = 0; i < TL_NTYPES; i++)
        if (tl_types[i].kind == t->kind)
            return tl_clean(tl_types[i].default_name, 16);
    if (t->raw_type >= 0 || t->raw_type < -1)
        snprintf(fallback, sizeof fallback, "Track (type %d)", t->raw_type);
    else
        snprintf(fallback, sizeof fallback, "Track");
    return tl_clean(fallback, sizeof fallback);
}

static int tl_track_parse(const cJSON *track, long long draft_ms,
                          tl_track *t)
{
    const cJSON *segs = tl_get(track, tl_k_segs), *sg;
    long long cursor = 0;
    size_t cap;

    tl_track_kind(track, t);
    t->name = tl_track_name(track, t);
    if (!t->name)
        return -1;
    if (!cJSON_IsArray(segs))
        return 0;
    cap = (size_t)cJSON_GetArraySize(segs);
    if (cap == 0)
        return 0;
    t->segs = calloc(cap, sizeof *t->segs);
    if (!t->segs)
        return -1;
    cJSON_ArrayForEach(sg, segs) {
        if (!cJSON_IsObject(sg))          /* junk entries are skipped */
            continue;
        if (tl_segment_parse(sg, t->nsegs + 1, &cursor, draft_ms,
                             &t->segs[t->nsegs]) != 0)
            return -1;
        t->nsegs++;
    }
    return 0;
}

/* The draft object: parses a draft sent as a JSON string, and steps into
 * a {"draft": ...} wrapper. *owned receives anything parsed here. */
static const cJSON *tl_unwrap(const cJSON *d, cJSON **owned)
{
    int depth;

    *owned = NULL;
    for (depth = 0; depth < TL_NEST_MAX; depth++) {
        if (cJSON_IsString(d)) {
            cJSON *p = json_parse(d->valuestring,
                                   strlen(d->valuestring), NULL);

            cJSON_Delete(*owned);
            *owned = p;
            d = p;
        } else if (cJSON_IsObject(d) && !tl_get(d, tl_k_tracks) &&
                   cJSON_GetObjectItemCaseSensitive(d, "draft")) {
            d = cJSON_GetObjectItemCaseSensitive(d, "draft");
        } else {
            break;
        }
    }
    return cJSON_IsObject(d) ? d : NULL;
}

int timeline_from_draft(const cJSON *draft, timeline *out)
{
    cJSON *owned;
    const cJSON *d, *tracks, *tr;
    long long draft_ms = 0, max_end = 0;
    size_t cap, i, j;
    int rc = -1;

    memset(out, 0, sizeof *out);
    d = tl_unwrap(draft, &owned);
    if (!d) {
        rc = 0;
        goto out;
    }
    tl_ms(tl_get(d, tl_k_dur), &draft_ms);
    tracks = tl_get(d, tl_k_tracks);
    cap = cJSON_IsArray(tracks) ? (size_t)cJSON_GetArraySize(tracks) : 0;
    if (cap) {
        out->tracks = calloc(cap, sizeof *out->tracks);
        if (!out->tracks)
            goto out;
    }
    for (tr = cap ? tracks->child : NULL; tr; tr = tr->next) {
        if (!cJSON_IsObject(tr))
            continue;
        out->ntracks++;
        if (tl_track_parse(tr, draft_ms, &out->tracks[out->ntracks - 1]))
            goto out;
    }
    for (i = 0; i < out->ntracks; i++)
        for (j = 0; j < out->tracks[i].nsegs; j++)
            if (out->tracks[i].segs[j].end_ms > max_end)
                max_end = out->tracks[i].segs[j].end_ms;
    out->duration_ms = draft_ms > 0 ? draft_ms : max_end;
    rc = 0;
out:
    cJSON_Delete(owned);
    if (rc != 0)
        timeline_free(out);
    return rc;
}

void timeline_free(timeline *t)
{
    size_t i, j;

    for (i = 0; i < t->ntracks; i++) {
        for (j = 0; j < t->tracks[i].nsegs; j++)
            free(t->tracks[i].segs[j].label);
        free(t->tracks[i].segs);
        free(t->tracks[i].name);
    }
    free(t->tracks);
    memset(t, 0, sizeof *t);
}

int timeline_is_empty(const timeline *t)
{
    size_t i;

    for (i = 0; i < t->ntracks; i++)
        if (t->tracks[i].nsegs)
            return 0;
    return 1;
}

/* ---- text ---- */

/* What a person sees of a time: tenths of a second. */
static long long tl_tenths(long long ms)
{
    return (ms + 50) / 100;
}

/* Seconds with at most one decimal: 10000 -> "10", 2500 -> "2.5". */
static void tl_secs(nemo_buf *b, long long ms)
{
    long long tenths = tl_tenths(ms);

    if (tenths % 10)
        buf_printf(b, "%lld.%lld", tenths / 10, tenths % 10);
    else
        buf_printf(b, "%lld", tenths / 10);
}

static void tl_span(nemo_buf *b, long long start, long long end)
{
    tl_secs(b, start);
    buf_putc(b, '-');
    tl_secs(b, end);
    buf_putc(b, 's');
}

static void tl_put_label(nemo_buf *b, const tl_segment *s, size_t max)
{
    size_t n = strlen(s->label);
    int cut = n > max;

    if (cut) {
        n = max;
        while (n && ((unsigned char)s->label[n] & 0xC0) == 0x80)
            n--;
    }
    if (s->is_text)
        buf_putc(b, '"');
    buf_append(b, s->label, n);
    if (cut)
        buf_puts(b, "\xE2\x80\xA6");
    if (s->is_text)
        buf_putc(b, '"');
}

/* `city timelapse (0-10s)`, `Lo-fi (0-10s, 35%)`, `"Urban Dreams" (0-3s)` */
static void tl_put_segment(nemo_buf *b, const tl_segment *s)
{
    tl_put_label(b, s, TL_SUMMARY_LABEL);
    buf_puts(b, " (");
    tl_span(b, s->start_ms, s->end_ms);
    if (s->volume_pct >= 0)
        buf_printf(b, ", %d%%", s->volume_pct);
    buf_putc(b, ')');
}

/* `BGM: Lo-fi (0-10s, 35%)`, segments comma-separated. */
static void tl_put_track(nemo_buf *b, const tl_track *t)
{
    size_t j;

    buf_printf(b, "%s: ", t->name);
    if (t->nsegs == 0)
        buf_puts(b, "(empty)");
    for (j = 0; j < t->nsegs && j < TL_SUMMARY_SEGS; j++) {
        if (j)
            buf_puts(b, ", ");
        tl_put_segment(b, &t->segs[j]);
    }
    if (t->nsegs > TL_SUMMARY_SEGS)
        buf_printf(b, " and %zu more", t->nsegs - TL_SUMMARY_SEGS);
}

char *timeline_summary(const timeline *t)
{
    nemo_buf b = NEMO_BUF_INIT;
    size_t i;

    if (t->ntracks == 0) {
        buf_puts(&b, "Timeline is empty.");
        return buf_detach(&b);
    }
    buf_printf(&b, "Timeline (%zu track%s):", t->ntracks,
               t->ntracks == 1 ? "" : "s");
    for (i = 0; i < t->ntracks && i < TL_SUMMARY_TRACKS; i++) {
        buf_printf(&b, " %zu. ", i + 1);
        tl_put_track(&b, &t->tracks[i]);
    }
    if (t->ntracks > TL_SUMMARY_TRACKS)
        buf_printf(&b, " and %zu more tracks",
                   t->ntracks - TL_SUMMARY_TRACKS);
    return buf_detach(&b);
}

cJSON *timeline_to_json(const timeline *t)
{
    cJSON *root = cJSON_CreateObject(), *tracks, *tr, *segs, *sg;
    size_t i, j;

    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "duration_ms", (double)t->duration_ms);
    tracks = cJSON_AddArrayToObject(root, "tracks");
    for (i = 0; tracks && i < t->ntracks; i++) {
        const tl_track *k = &t->tracks[i];

        tr = cJSON_CreateObject();
        if (!tr || !cJSON_AddItemToArray(tracks, tr))
            goto fail;
        cJSON_AddStringToObject(tr, "type", timeline_kind_name(k->kind));
        cJSON_AddStringToObject(tr, "name", k->name);
        segs = cJSON_AddArrayToObject(tr, "segments");
        for (j = 0; segs && j < k->nsegs; j++) {
            const tl_segment *s = &k->segs[j];

            sg = cJSON_CreateObject();
            if (!sg || !cJSON_AddItemToArray(segs, sg))
                goto fail;
            cJSON_AddStringToObject(sg, "label", s->label);
            cJSON_AddNumberToObject(sg, "start_ms", (double)s->start_ms);
            cJSON_AddNumberToObject(sg, "end_ms", (double)s->end_ms);
            if (s->volume_pct >= 0)
                cJSON_AddNumberToObject(sg, "volume", s->volume_pct);
        }
        if (!segs)
            goto fail;
    }
    if (!tracks)
        goto fail;
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

/* ---- digest: what a diff needs, for the job journal ----
 * {"v":1, "d":duration, "t":[[kind, tt, name, [[label, start, end,
 * volume, is_text], ...]], ...]}: a few dozen bytes a segment instead of
 * the whole draft. Read back
 * from a file anyone with the user's rights can edit, so every field is
 * checked and numbers are range-checked. */

#define TL_DIGEST_VERSION 1

static cJSON *tl_digest_segment(const tl_segment *s)
{
    cJSON *a = cJSON_CreateArray();

    if (!a)
        return NULL;
    cJSON_AddItemToArray(a, cJSON_CreateString(s->label));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s->start_ms));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s->end_ms));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(s->volume_pct));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(s->is_text));
    return a;
}

cJSON *timeline_digest(const timeline *t)
{
    cJSON *root = cJSON_CreateObject(), *tracks;
    size_t i, j;

    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "v", TL_DIGEST_VERSION);
    cJSON_AddNumberToObject(root, "d", (double)t->duration_ms);
    tracks = cJSON_AddArrayToObject(root, "t");
    for (i = 0; tracks && i < t->ntracks; i++) {
        const tl_track *k = &t->tracks[i];
        cJSON *tr = cJSON_CreateArray(), *segs = cJSON_CreateArray();

        if (!tr || !segs || !cJSON_AddItemToArray(tracks, tr)) {
            cJSON_Delete(tr);
            cJSON_Delete(segs);
            goto fail;
        }
        cJSON_AddItemToArray(tr, cJSON_CreateNumber(k->kind));
        cJSON_AddItemToArray(tr, cJSON_CreateNumber(k->raw_type));
        cJSON_AddItemToArray(tr, cJSON_CreateString(k->name));
        cJSON_AddItemToArray(tr, segs);
        for (j = 0; j < k->nsegs; j++) {
            cJSON *sg = tl_digest_segment(&k->segs[j]);

            if (!sg || !cJSON_AddItemToArray(segs, sg)) {
                cJSON_Delete(sg);
                goto fail;
            }
        }
    }
    if (!tracks)
        goto fail;
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

int timeline_is_digest(const cJSON *d)
{
    return num_ll_or(cJSON_GetObjectItemCaseSensitive(d, "v"), 0, 1000,
                     0) == TL_DIGEST_VERSION;
}

static int tl_digest_ll(const cJSON *arr, int i, long long lo, long long hi,
                        long long *out)
{
    return num_ll(cJSON_GetArrayItem(arr, i), lo, hi, out);
}

static int tl_undigest_segment(const cJSON *a, tl_segment *s)
{
    const char *label = cJSON_GetStringValue(cJSON_GetArrayItem(a, 0));
    long long st, en, vol, txt;

    if (!label || tl_digest_ll(a, 1, 0, TL_MAX_MS, &st) ||
        tl_digest_ll(a, 2, 0, TL_MAX_MS, &en) ||
        tl_digest_ll(a, 3, -1, 100000, &vol) ||
        tl_digest_ll(a, 4, 0, 1, &txt))
        return -1;
    if (!(s->label = tl_clean(label, TL_LABEL_MAX)))
        return -1;
    s->start_ms = st;
    s->end_ms = en;
    s->volume_pct = (int)vol;
    s->is_text = (int)txt;
    return 0;
}

static int tl_undigest_track(const cJSON *a, tl_track *k)
{
    const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(a, 2));
    const cJSON *segs = cJSON_GetArrayItem(a, 3), *sg;
    long long kind, tt;
    size_t cap;

    if (!name || !cJSON_IsArray(segs) ||
        tl_digest_ll(a, 0, TRACK_VIDEO, TRACK_OTHER, &kind) ||
        tl_digest_ll(a, 1, -2147483647LL, 2147483647LL, &tt))
        return -1;
    k->kind = (track_kind)kind;
    k->raw_type = (int)tt;
    if (!(k->name = tl_clean(name, TL_LABEL_MAX)))
        return -1;
    cap = (size_t)cJSON_GetArraySize(segs);
    if (cap && !(k->segs = calloc(cap, sizeof *k->segs)))
        return -1;
    for (sg = segs->child; sg && k->nsegs < cap; sg = sg->next) {
        if (tl_undigest_segment(sg, &k->segs[k->nsegs]) != 0) {
            free(k->segs[k->nsegs].label);
            return -1;
        }
        k->nsegs++;
    }
    return 0;
}

int timeline_from_digest(const cJSON *d, timeline *out)
{
    const cJSON *tracks = cJSON_GetObjectItemCaseSensitive(d, "t"), *tr;
    size_t cap;

    memset(out, 0, sizeof *out);
    if (!timeline_is_digest(d) || !cJSON_IsArray(tracks) ||
        num_ll(cJSON_GetObjectItemCaseSensitive(d, "d"), 0, TL_MAX_MS,
               &out->duration_ms) != 0)
        return -1;
    cap = (size_t)cJSON_GetArraySize(tracks);
    if (cap && !(out->tracks = calloc(cap, sizeof *out->tracks)))
        return -1;
    for (tr = tracks->child; tr && out->ntracks < cap; tr = tr->next) {
        out->ntracks++;
        if (!cJSON_IsArray(tr) ||
            tl_undigest_track(tr, &out->tracks[out->ntracks - 1]) != 0) {
            timeline_free(out);
            return -1;
        }
    }
    return 0;
}

/* ---- diff ---- */

static void tl_change(cJSON *arr, nemo_buf *b)
{
    if (b->len)
        cJSON_AddItemToArray(arr, cJSON_CreateString(b->data));
    buf_reset(b);
}

static int tl_same_label(const tl_segment *a, const tl_segment *b)
{
    return strcmp(a->label, b->label) == 0;
}

/* Above this many comparisons, pairing by label is skipped (a huge draft
 * is compared position by position instead of taking quadratic time). */
#define TL_PAIR_WORK 4000000.0

/* Pair segments: same label and start, then same label, then what is left
 * in order (a replacement). */
static void tl_pair_segments(const tl_track *a, const tl_track *b,
                             long *pa, long *pb)
{
    size_t i, j;
    int pass;

    if ((double)a->nsegs * (double)b->nsegs > TL_PAIR_WORK)
        return;
    for (pass = 0; pass < 2; pass++)
        for (j = 0; j < b->nsegs; j++)
            for (i = 0; pb[j] < 0 && i < a->nsegs; i++)
                if (pa[i] < 0 && tl_same_label(&a->segs[i], &b->segs[j]) &&
                    (pass || a->segs[i].start_ms == b->segs[j].start_ms)) {
                    pa[i] = (long)j;
                    pb[j] = (long)i;
                }
}

static void tl_diff_pair(cJSON *arr, nemo_buf *b, const char *track,
                         const tl_segment *x, const tl_segment *y)
{
    if (!tl_same_label(x, y) || x->is_text != y->is_text) {
        buf_puts(b, "replaced ");
        tl_put_segment(b, x);
        buf_puts(b, " with ");
        tl_put_segment(b, y);
        buf_printf(b, " in %s", track);
        tl_change(arr, b);
        return;
    }
    if (tl_tenths(x->start_ms) != tl_tenths(y->start_ms) ||
        tl_tenths(x->end_ms) != tl_tenths(y->end_ms)) {
        int moved = x->end_ms - x->start_ms == y->end_ms - y->start_ms;

        buf_printf(b, "%s ", moved ? "moved" : "changed the timing of");
        tl_put_label(b, y, TL_SUMMARY_LABEL);
        buf_printf(b, " in %s from ", track);
        tl_span(b, x->start_ms, x->end_ms);
        buf_puts(b, " to ");
        tl_span(b, y->start_ms, y->end_ms);
        tl_change(arr, b);
    }
    if (x->volume_pct != y->volume_pct) {
        if (y->volume_pct < 0) {
            buf_puts(b, "cleared the volume of ");
            tl_put_label(b, y, TL_SUMMARY_LABEL);
            buf_printf(b, " in %s (was %d%%)", track, x->volume_pct);
        } else {
            buf_puts(b, x->volume_pct < 0 ? "set the volume of "
                                          : "changed the volume of ");
            tl_put_label(b, y, TL_SUMMARY_LABEL);
            buf_printf(b, " in %s ", track);
            if (x->volume_pct >= 0)
                buf_printf(b, "from %d%% ", x->volume_pct);
            buf_printf(b, "to %d%%", y->volume_pct);
        }
        tl_change(arr, b);
    }
}

static int tl_diff_segments(cJSON *arr, nemo_buf *b, const tl_track *ta,
                            const tl_track *tb)
{
    long *pa = malloc((ta->nsegs + 1) * sizeof *pa);
    long *pb = malloc((tb->nsegs + 1) * sizeof *pb);
    size_t i, j;

    if (!pa || !pb) {
        free(pa);
        free(pb);
        return -1;
    }
    for (i = 0; i < ta->nsegs; i++)
        pa[i] = -1;
    for (j = 0; j < tb->nsegs; j++)
        pb[j] = -1;
    tl_pair_segments(ta, tb, pa, pb);
    /* What is left on both sides, in order, was replaced. */
    for (i = 0, j = 0; i < ta->nsegs && j < tb->nsegs;) {
        if (pa[i] >= 0) {
            i++;
        } else if (pb[j] >= 0) {
            j++;
        } else {
            pa[i] = (long)j;
            pb[j] = (long)i;
        }
    }
    for (i = 0; i < ta->nsegs; i++) {
        if (pa[i] >= 0)
            continue;
        buf_puts(b, "removed ");
        tl_put_segment(b, &ta->segs[i]);
        buf_printf(b, " from %s", tb->name);
        tl_change(arr, b);
    }
    for (j = 0; j < tb->nsegs; j++) {
        if (pb[j] >= 0) {
            tl_diff_pair(arr, b, tb->name, &ta->segs[pb[j]], &tb->segs[j]);
            continue;
        }
        buf_puts(b, "added ");
        tl_put_segment(b, &tb->segs[j]);
        buf_printf(b, " to %s", tb->name);
        tl_change(arr, b);
    }
    free(pa);
    free(pb);
    return 0;
}

/* Pair tracks: same kind and name first, then same kind (a rename). */
static void tl_pair_tracks(const timeline *a, const timeline *b, long *pa,
                           long *pb)
{
    size_t i, j;
    int pass;

    if ((double)a->ntracks * (double)b->ntracks > TL_PAIR_WORK) {
        for (i = 0; i < a->ntracks && i < b->ntracks; i++)
            if (a->tracks[i].kind == b->tracks[i].kind) {
                pa[i] = (long)i;
                pb[i] = (long)i;
            }
        return;
    }
    for (pass = 0; pass < 2; pass++)
        for (j = 0; j < b->ntracks; j++)
            for (i = 0; pb[j] < 0 && i < a->ntracks; i++)
                if (pa[i] < 0 && a->tracks[i].kind == b->tracks[j].kind &&
                    a->tracks[i].raw_type == b->tracks[j].raw_type &&
                    (pass ||
                     strcmp(a->tracks[i].name, b->tracks[j].name) == 0)) {
                    pa[i] = (long)j;
                    pb[j] = (long)i;
                }
}

cJSON *timeline_diff(const timeline *before, const timeline *after)
{
    cJSON *arr = cJSON_CreateArray();
    nemo_buf b = NEMO_BUF_INIT;
    long *pa = malloc((before->ntracks + 1) * sizeof *pa);
    long *pb = malloc((after->ntracks + 1) * sizeof *pb);
    size_t i, j;

    if (!arr || !pa || !pb)
        goto fail;
    for (i = 0; i < before->ntracks; i++)
        pa[i] = -1;
    for (j = 0; j < after->ntracks; j++)
        pb[j] = -1;
    tl_pair_tracks(before, after, pa, pb);
    for (i = 0; i < before->ntracks; i++) {
        if (pa[i] >= 0)
            continue;
        buf_printf(&b, "removed track %zu ", i + 1);
        tl_put_track(&b, &before->tracks[i]);
        tl_change(arr, &b);
    }
    for (j = 0; j < after->ntracks; j++) {
        const tl_track *tb = &after->tracks[j];

        if (pb[j] < 0) {
            buf_printf(&b, "added track %zu ", j + 1);
            tl_put_track(&b, tb);
            tl_change(arr, &b);
            continue;
        }
        if (strcmp(before->tracks[pb[j]].name, tb->name) != 0) {
            buf_printf(&b, "renamed track %zu from \"%s\" to \"%s\"", j + 1,
                       before->tracks[pb[j]].name, tb->name);
            tl_change(arr, &b);
        }
        if (tl_diff_segments(arr, &b, &before->tracks[pb[j]], tb) != 0)
            goto fail;
    }
    if (tl_tenths(before->duration_ms) != tl_tenths(after->duration_ms)) {
        buf_puts(&b, "the video is now ");
        tl_secs(&b, after->duration_ms);
        buf_puts(&b, "s long (was ");
        tl_secs(&b, before->duration_ms);
        buf_puts(&b, "s)");
        tl_change(arr, &b);
    }
    free(pa);
    free(pb);
    buf_free(&b);
    return arr;
fail:
    free(pa);
    free(pb);
    buf_free(&b);
    cJSON_Delete(arr);
    return NULL;
}
