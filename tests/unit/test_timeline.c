/* test_timeline.c - draft parsing, the seeds' summary format, diffs, and
 * odd drafts that must never crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/buf.h"
#include "nemo/timeline.h"
#include "unit.h"

static const char seeds_draft[] =
    "{\"d\": 10000, \"t\": ["
    " {\"tt\": 0, \"m\": {\"name\": \"Video\"}, \"sg\": [{\"s\": 0, \"d\": 10000,"
    "   \"m\": {\"label\": \"city timelapse\", \"src\": \"f_123\"}}]},"
    " {\"tt\": 1, \"m\": {\"name\": \"BGM\"}, \"sg\": [{\"d\": 10000,"
    "   \"m\": {\"label\": \"Lo-fi\", \"volume\": 0.35}}]},"
    " {\"tt\": 7, \"m\": {\"name\": \"Title\"}, \"sg\": [{\"s\": 0, \"d\": 3000,"
    "   \"m\": {\"text\": \"Urban Dreams\"}}]}"
    "]}";

/* Summary of a draft given as JSON text. */
static char *summary_of(const char *json)
{
    cJSON *d = cJSON_Parse(json);
    timeline t;
    char *s;

    if (timeline_from_draft(d, &t) != 0) {
        cJSON_Delete(d);
        return NULL;
    }
    s = timeline_summary(&t);
    timeline_free(&t);
    cJSON_Delete(d);
    return s;
}

/* Diff of two drafts as one string, changes separated by " | ". */
static char *diff_of(const char *a, const char *b)
{
    cJSON *da = cJSON_Parse(a), *db = cJSON_Parse(b), *arr, *it;
    timeline ta, tb;
    nemo_buf out = NEMO_BUF_INIT;

    timeline_from_draft(da, &ta);
    timeline_from_draft(db, &tb);
    arr = timeline_diff(&ta, &tb);
    CHECK(cJSON_IsArray(arr));
    cJSON_ArrayForEach(it, arr) {
        if (out.len)
            buf_puts(&out, " | ");
        buf_puts(&out, it->valuestring);
    }
    buf_puts(&out, "");
    cJSON_Delete(arr);
    timeline_free(&ta);
    timeline_free(&tb);
    cJSON_Delete(da);
    cJSON_Delete(db);
    return buf_detach(&out);
}

TEST(seeds_example_summary_exactly)
{
    char *s = summary_of(seeds_draft);

    CHECK_STR(s, "Timeline (3 tracks): 1. Video: city timelapse (0-10s) "
                 "2. BGM: Lo-fi (0-10s, 35%) 3. Title: \"Urban Dreams\" (0-3s)");
    free(s);
}

TEST(tracks_and_segments_parsed)
{
    cJSON *d = cJSON_Parse(seeds_draft), *j;
    timeline t;
    char *txt;

    CHECK_INT(timeline_from_draft(d, &t), 0);
    CHECK_INT(t.duration_ms, 10000);
    CHECK_INT(t.ntracks, 3);
    CHECK_INT(t.tracks[0].kind, TRACK_VIDEO);
    CHECK_INT(t.tracks[1].kind, TRACK_AUDIO);
    CHECK_INT(t.tracks[2].kind, TRACK_TEXT);
    CHECK_INT(t.tracks[1].segs[0].volume_pct, 35);
    CHECK_INT(t.tracks[0].segs[0].volume_pct, -1);
    CHECK(t.tracks[2].segs[0].is_text);
    CHECK(!timeline_is_empty(&t));
    j = timeline_to_json(&t);
    txt = cJSON_PrintUnformatted(j);
    CHECK_STR(txt, "{\"duration_ms\":10000,\"tracks\":["
                   "{\"type\":\"video\",\"name\":\"Video\",\"segments\":[{\"label\":"
                   "\"city timelapse\",\"start_ms\":0,\"end_ms\":10000}]},"
                   "{\"type\":\"audio\",\"name\":\"BGM\",\"segments\":[{\"label\":"
                   "\"Lo-fi\",\"start_ms\":0,\"end_ms\":10000,\"volume\":35}]},"
                   "{\"type\":\"text\",\"name\":\"Title\",\"segments\":[{\"label\":"
                   "\"Urban Dreams\",\"start_ms\":0,\"end_ms\":3000}]}]}");
    free(txt);
    cJSON_Delete(j);
    timeline_free(&t);
    cJSON_Delete(d);
}

TEST(segments_placed_one_after_another_and_labels)
{
    char *s = summary_of(
        "{\"t\":[{\"tt\":0,\"sg\":["
        "{\"d\":5000,\"m\":{\"label\":\"city\"}},"
        "{\"d\":5000,\"m\":{\"src\":\"uploads/u1/beach.mp4\"}},"
        "{\"d\":2500,\"m\":{\"title\":\"sunset\"}},"
        "{\"start\":20000,\"end\":21250},"
        "{\"start_ms\":\"22000\",\"d\":\"1000\",\"m\":{\"name\":\"n\"}}]}]}");

    CHECK_STR(s, "Timeline (1 track): 1. Video: city (0-5s), "
                 "beach.mp4 (5-10s), sunset (10-12.5s), segment 4 (20-21.3s), "
                 "n (22-23s)");
    free(s);
}

TEST(track_names_types_and_volume_scales)
{
    char *s = summary_of(
        "{\"t\":[{\"tt\":1,\"sg\":[{\"d\":4000,\"m\":{\"label\":\"a\","
        "\"volume\":80}},{\"d\":1000,\"m\":{\"label\":\"b\",\"volume\":1}},"
        "{\"d\":1000,\"m\":{\"label\":\"c\",\"volume\":\"0.5\"}},"
        "{\"d\":1000,\"m\":{\"label\":\"d\",\"volume\":0}}]},"
        "{\"tt\":3,\"sg\":[]},{\"tt\":7,\"sg\":[{\"d\":1500,\"m\":{\"text\":"
        "\"Hi\\nthere\"}}]},{\"sg\":[{\"d\":100}]}]}");

    CHECK_STR(s, "Timeline (4 tracks): 1. Audio: a (0-4s, 80%), "
                 "b (4-5s, 100%), c (5-6s, 50%), d (6-7s, 0%) "
                 "2. Track (type 3): (empty) 3. Text: \"Hi there\" (0-1.5s) "
                 "4. Track: segment 1 (0-0.1s)");
    free(s);
}

TEST(empty_and_singular)
{
    char *s = summary_of("{\"d\":0,\"t\":[]}");
    cJSON *d;
    timeline t;

    CHECK_STR(s, "Timeline is empty.");
    free(s);
    s = summary_of("null");
    CHECK_STR(s, "Timeline is empty.");
    free(s);
    CHECK_INT(timeline_from_draft(NULL, &t), 0);
    CHECK(timeline_is_empty(&t));
    timeline_free(&t);
    d = cJSON_Parse("{\"t\":[{\"tt\":0,\"sg\":[]}]}");
    timeline_from_draft(d, &t);
    CHECK(timeline_is_empty(&t));      /* tracks but nothing on them */
    s = timeline_summary(&t);
    CHECK_STR(s, "Timeline (1 track): 1. Video: (empty)");
    free(s);
    timeline_free(&t);
    cJSON_Delete(d);
}

TEST(draft_given_as_json_string)
{
    cJSON *wrapped = cJSON_CreateString(seeds_draft);
    cJSON *twice;
    char *inner, *s;
    timeline t;

    CHECK_INT(timeline_from_draft(wrapped, &t), 0);
    CHECK_INT(t.ntracks, 3);
    timeline_free(&t);
    inner = cJSON_PrintUnformatted(wrapped);     /* a string of a string */
    twice = cJSON_CreateString(inner);
    CHECK_INT(timeline_from_draft(twice, &t), 0);
    s = timeline_summary(&t);
    CHECK_CONTAINS(s, "3. Title: \"Urban Dreams\" (0-3s)");
    free(s);
    timeline_free(&t);
    free(inner);
    cJSON_Delete(twice);
    cJSON_Delete(wrapped);
    /* {"draft": {...}} wrapper */
    s = summary_of("{\"draft\":{\"t\":[{\"tt\":0,\"sg\":[{\"d\":1000}]}]}}");
    CHECK_STR(s, "Timeline (1 track): 1. Video: segment 1 (0-1s)");
    free(s);
}

TEST(odd_drafts_never_crash)
{
    static const char *const odd[] = {
        "\"not json at all {\"",
        "[1,2,3]",
        "42",
        "{\"t\":\"tracks\"}",
        "{\"t\":{\"tt\":0}}",
        "{\"t\":[1,\"x\",null,true,[],{\"sg\":\"no\"},{\"sg\":[1,null,[],"
        "{\"m\":[]},{\"m\":\"str\",\"d\":{}},{\"s\":[],\"d\":[1]}]}]}",
        "{\"d\":\"soon\",\"t\":[{\"tt\":\"video\",\"sg\":[{\"d\":-5000,"
        "\"m\":{\"label\":\"neg\"}},{\"s\":-100,\"d\":1e300,\"m\":{\"label\":"
        "123,\"volume\":-1}}]}]}",
        "{\"d\":-10,\"t\":[{\"tt\":1e40,\"sg\":[{\"d\":\"NaN\"},{\"d\":"
        "\"1e400\"},{\"d\":1.5e19,\"m\":{\"volume\":1e30}}]}]}",
        "{\"t\":[{\"tt\":-3,\"m\":{\"name\":\"\"},\"sg\":[{\"m\":{\"label\":\"\","
        "\"text\":\"  \",\"src\":\"/\"}}]}]}",
        "{\"t\":[{\"tt\":0,\"m\":{\"name\":{\"nested\":[{\"deep\":[[[[1]]]]}]}},"
        "\"sg\":[{\"m\":{\"label\":{\"x\":1},\"text\":[\"a\"]}}]}]}",
    };
    size_t i;
    char *s;

    for (i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        cJSON *d = cJSON_Parse(odd[i]);
        timeline t, e;
        cJSON *j, *diff;

        CHECK_INT(timeline_from_draft(d, &t), 0);
        s = timeline_summary(&t);
        CHECK(s != NULL && strlen(s) > 0);
        free(s);
        j = timeline_to_json(&t);
        CHECK(j != NULL);
        cJSON_Delete(j);
        memset(&e, 0, sizeof e);
        diff = timeline_diff(&e, &t);
        CHECK(cJSON_IsArray(diff));
        cJSON_Delete(diff);
        timeline_free(&t);
        cJSON_Delete(d);
    }
    /* Negative durations are zero-length, negative starts clamp to 0,
     * absurd numbers clamp instead of overflowing. */
    s = summary_of(odd[6]);
    CHECK_CONTAINS(s, "neg (0-0s)");
    CHECK_CONTAINS(s, "1. Video:");
    free(s);
    s = summary_of(odd[8]);
    CHECK_STR(s, "Timeline (1 track): 1. Track (type -3): / (0-0s)");
    free(s);
}

TEST(huge_arrays_are_summarised_briefly)
{
    nemo_buf b = NEMO_BUF_INIT;
    cJSON *d;
    timeline t, t2;
    char *s;
    cJSON *diff;
    int i;

    buf_puts(&b, "{\"t\":[{\"tt\":0,\"sg\":[");
    for (i = 0; i < 50000; i++)
        buf_printf(&b, "%s{\"d\":100,\"m\":{\"label\":\"c%d\"}}", i ? "," : "",
                   i);
    buf_puts(&b, "]}");
    for (i = 0; i < 200; i++)
        buf_puts(&b, ",{\"tt\":1}");
    buf_puts(&b, "]}");
    d = cJSON_Parse(b.data);
    CHECK(d != NULL);
    CHECK_INT(timeline_from_draft(d, &t), 0);
    CHECK_INT(t.ntracks, 201);
    CHECK_INT(t.tracks[0].nsegs, 50000);
    CHECK_INT(t.duration_ms, 5000000);
    s = timeline_summary(&t);
    CHECK(strlen(s) < 4000);
    CHECK_CONTAINS(s, "c19 (1.9-2s) and 49980 more");
    CHECK_CONTAINS(s, "and 151 more tracks");
    free(s);
    /* A diff of two huge drafts finishes (no quadratic pairing). */
    CHECK_INT(timeline_from_draft(d, &t2), 0);
    diff = timeline_diff(&t, &t2);
    CHECK_INT(cJSON_GetArraySize(diff), 0);
    cJSON_Delete(diff);
    timeline_free(&t2);
    timeline_free(&t);
    cJSON_Delete(d);
    buf_free(&b);
}

/* issue 11 #5: the journal keeps a digest of the timeline, not the draft;
 * read back it diffs exactly like the draft it came from. */
TEST(digest_round_trip_and_hostile_digests)
{
    static const char *const bad[] = {
        "{\"v\":1,\"d\":1e19,\"t\":[]}",
        "{\"v\":1,\"d\":0,\"t\":[[9,0,\"x\",[]]]}",
        "{\"v\":1,\"d\":0,\"t\":[[0,0,\"x\",[[\"a\",1e300,0,-1,0]]]]}",
        "{\"v\":1,\"d\":0,\"t\":[[0,0,\"x\",[[\"a\",0,0,-1,7]]]]}",
        "{\"v\":1,\"d\":0,\"t\":[[0,0,null,[]]]}",
        "{\"v\":1,\"d\":0,\"t\":{}}",
        "{\"v\":2,\"d\":0,\"t\":[]}",
    };
    cJSON *draft = cJSON_Parse(seeds_draft), *dg, *diff;
    timeline a, b;
    char *text, *sa, *sb;
    size_t i;

    CHECK_INT(timeline_from_draft(draft, &a), 0);
    dg = timeline_digest(&a);
    CHECK(timeline_is_digest(dg));
    CHECK(!timeline_is_digest(draft));
    text = cJSON_PrintUnformatted(dg);
    CHECK(text && strlen(text) < strlen(seeds_draft));
    CHECK_INT(timeline_from_digest(dg, &b), 0);
    diff = timeline_diff(&a, &b);
    CHECK_INT(cJSON_GetArraySize(diff), 0);
    sa = timeline_summary(&a);
    sb = timeline_summary(&b);
    CHECK_STR(sb, sa);
    free(sa);
    free(sb);
    free(text);
    cJSON_Delete(diff);
    cJSON_Delete(dg);
    timeline_free(&b);
    timeline_free(&a);
    cJSON_Delete(draft);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *d = cJSON_Parse(bad[i]);

        CHECK_INT(timeline_from_digest(d, &b), -1);
        CHECK(b.ntracks == 0 && b.tracks == NULL);
        cJSON_Delete(d);
    }
}

TEST(diff_nothing_visible_changed)
{
    char *s = diff_of(seeds_draft, seeds_draft);

    CHECK_STR(s, "");
    free(s);
    /* Key order and a 20 ms wobble are not visible changes. */
    s = diff_of("{\"t\":[{\"tt\":0,\"sg\":[{\"d\":5000,\"m\":{\"label\":\"a\"}}]}]}",
                "{\"t\":[{\"sg\":[{\"m\":{\"label\":\"a\"},\"d\":5020}],\"tt\":0}]}");
    CHECK_STR(s, "");
    free(s);
}

TEST(diff_added_and_removed_tracks)
{
    char *s = diff_of(
        "{\"d\":10000,\"t\":[{\"tt\":0,\"m\":{\"name\":\"Video\"},\"sg\":[{\"d\":10000,"
        "\"m\":{\"label\":\"city timelapse\"}}]},{\"tt\":7,\"m\":{\"name\":"
        "\"Title\"},\"sg\":[{\"d\":3000,\"m\":{\"text\":\"Urban Dreams\"}}]}]}",
        "{\"d\":10000,\"t\":[{\"tt\":0,\"m\":{\"name\":\"Video\"},\"sg\":[{\"d\":10000,"
        "\"m\":{\"label\":\"city timelapse\"}}]},{\"tt\":1,\"m\":{\"name\":\"BGM\"},"
        "\"sg\":[{\"d\":10000,\"m\":{\"label\":\"Lo-fi\",\"volume\":0.35}}]}]}");

    CHECK_STR(s, "removed track 2 Title: \"Urban Dreams\" (0-3s) | "
                 "added track 2 BGM: Lo-fi (0-10s, 35%)");
    free(s);
}

TEST(diff_volume_timing_and_segments)
{
    char *s = diff_of(
        "{\"d\":10000,\"t\":[{\"tt\":0,\"m\":{\"name\":\"Video\"},\"sg\":["
        "{\"d\":5000,\"m\":{\"label\":\"city\"}},{\"d\":5000,\"m\":{\"label\":"
        "\"beach\"}}]},{\"tt\":1,\"m\":{\"name\":\"BGM\"},\"sg\":[{\"d\":10000,"
        "\"m\":{\"label\":\"Lo-fi\",\"volume\":0.35}}]}]}",
        "{\"d\":12000,\"t\":[{\"tt\":0,\"m\":{\"name\":\"Video\"},\"sg\":["
        "{\"d\":8000,\"m\":{\"label\":\"city\"}},{\"d\":4000,\"m\":{\"label\":"
        "\"forest\"}}]},{\"tt\":1,\"m\":{\"name\":\"BGM\"},\"sg\":[{\"s\":2000,"
        "\"d\":10000,\"m\":{\"label\":\"Lo-fi\",\"volume\":0.5}}]}]}");

    CHECK_STR(s, "changed the timing of city in Video from 0-5s to 0-8s | "
                 "replaced beach (5-10s) with forest (8-12s) in Video | "
                 "moved Lo-fi in BGM from 0-10s to 2-12s | "
                 "changed the volume of Lo-fi in BGM from 35% to 50% | "
                 "the video is now 12s long (was 10s)");
    free(s);
}

TEST(diff_added_removed_segments_and_rename)
{
    char *s = diff_of(
        "{\"t\":[{\"tt\":0,\"sg\":[{\"d\":5000,\"m\":{\"label\":\"a\"}}]},"
        "{\"tt\":1,\"m\":{\"name\":\"BGM\"},\"sg\":[{\"d\":5000,\"m\":{\"label\":"
        "\"song\"}},{\"d\":1000,\"m\":{\"label\":\"ding\"}}]}]}",
        "{\"t\":[{\"tt\":0,\"sg\":[{\"d\":5000,\"m\":{\"label\":\"a\"}},{\"d\":"
        "2000,\"m\":{\"label\":\"b\"}}]},{\"tt\":1,\"m\":{\"name\":\"Music\"},"
        "\"sg\":[{\"d\":5000,\"m\":{\"label\":\"song\",\"volume\":20}}]}]}");

    CHECK_STR(s, "added b (5-7s) to Video | "
                 "renamed track 2 from \"BGM\" to \"Music\" | "
                 "removed ding (5-6s) from Music | "
                 "set the volume of song in Music to 20% | "
                 "the video is now 7s long (was 6s)");
    free(s);
    /* From nothing to something and back. */
    s = diff_of("{}", "{\"t\":[{\"tt\":7,\"sg\":[{\"d\":2000,\"m\":{\"text\":"
                      "\"Hello\"}}]}]}");
    CHECK_STR(s, "added track 1 Text: \"Hello\" (0-2s) | "
                 "the video is now 2s long (was 0s)");
    free(s);
}

int main(void)
{
    RUN(seeds_example_summary_exactly);
    RUN(tracks_and_segments_parsed);
    RUN(segments_placed_one_after_another_and_labels);
    RUN(track_names_types_and_volume_scales);
    RUN(empty_and_singular);
    RUN(draft_given_as_json_string);
    RUN(odd_drafts_never_crash);
    RUN(huge_arrays_are_summarised_briefly);
    RUN(digest_round_trip_and_hostile_digests);
    RUN(diff_nothing_visible_changed);
    RUN(diff_added_and_removed_tracks);
    RUN(diff_volume_timing_and_segments);
    RUN(diff_added_removed_segments_and_rename);
    return unit_done();
}
