/* test_sse.c - the SSE parser: spec edge cases, every chunk boundary of
 * recorded streams, the line cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo/buf.h"
#include "nemo/sse.h"
#include "nemo/store.h"
#include "unit.h"

#define FIXTURES "tests/fixtures/media/"

/* Every event and comment as one line of text, so two parses compare with
 * strcmp. */
typedef struct rec {
    nemo_buf log;
    int events;
    int comments;
    int stop_after;   /* on_event returns 7 after this many; 0 never */
} rec;

static void rec_escaped(nemo_buf *b, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '\n')
            buf_puts(b, "\\n");
        else if (s[i] == '\0')
            buf_puts(b, "\\0");
        else
            buf_putc(b, s[i]);
    }
}

static int rec_event(void *ctx, const sse_event *ev)
{
    rec *r = ctx;

    r->events++;
    buf_printf(&r->log, "E[%s|%s|", ev->type, ev->id);
    rec_escaped(&r->log, ev->data, ev->data_len);
    buf_puts(&r->log, "]\n");
    CHECK(ev->data[ev->data_len] == '\0');
    return r->stop_after && r->events >= r->stop_after ? 7 : 0;
}

static int rec_comment(void *ctx, const char *text, size_t n)
{
    rec *r = ctx;

    r->comments++;
    buf_puts(&r->log, "C[");
    rec_escaped(&r->log, text, n);
    buf_puts(&r->log, "]\n");
    return 0;
}

/* Parse s in pieces: cut[] are split offsets (ascending), ncut of them. */
static char *parse_split(const char *s, size_t n, const size_t *cut,
                         size_t ncut)
{
    rec r = { NEMO_BUF_INIT, 0, 0, 0 };
    sse_handlers h = { rec_event, rec_comment, &r };
    sse_parser *p = sse_new(&h);
    size_t i, at = 0;

    for (i = 0; i <= ncut; i++) {
        size_t end = i < ncut ? cut[i] : n;

        CHECK_INT(sse_feed(p, s + at, end - at), 0);
        at = end;
    }
    sse_finish(p);
    sse_free(p);
    buf_puts(&r.log, "");
    return buf_detach(&r.log);
}

static char *read_fixture(const char *name, size_t *n)
{
    char *data = NULL;

    if (fs_read_all(name, &data, n, 1 << 20) != 0) {
        printf("#   cannot read %s (run from the project root)\n", name);
        return NULL;
    }
    return data;
}

static const char spec_expected[] =
    "C[hello]\n"
    "E[add||73857293]\n"
    "E[message||YHOO\\n+2\\n\\n 10]\n"
    "E[message|42|first]\n"
    "E[message|42|]\n"
    "E[message|42|x]\n"
    "C[keep-alive]\n"
    "E[message||y]\n"
    "E[message||z]\n"
    "E[multi||line one\\nline two\\n\xe4\xb8\xad\xe6\x96\x87]\n";

TEST(spec_edge_cases_in_one_feed)
{
    size_t n;
    char *s = read_fixture(FIXTURES "spec_edges.sse", &n);
    char *got;

    if (!s) {
        CHECK(0);
        return;
    }
    got = parse_split(s, n, NULL, 0);
    CHECK_STR(got, spec_expected);
    free(got);
    free(s);
}

/* Same events whatever the chunking: every single split point, every pair
 * of split points, and one byte at a time. */
static void check_all_splits(const char *file)
{
    size_t n, i, j, bad = 0;
    char *s = read_fixture(file, &n);
    char *whole, *got;
    size_t *cuts;

    if (!s) {
        CHECK(0);
        return;
    }
    whole = parse_split(s, n, NULL, 0);
    for (i = 0; i <= n; i++) {
        got = parse_split(s, n, &i, 1);
        if (strcmp(got, whole) != 0 && bad++ < 3)
            printf("#   %s split at %zu differs:\n%s\n", file, i, got);
        free(got);
    }
    for (i = 1; i < n && n <= 600; i++)
        for (j = i; j < n; j++) {
            size_t two[2] = { i, j };

            got = parse_split(s, n, two, 2);
            if (strcmp(got, whole) != 0 && bad++ < 3)
                printf("#   %s split at %zu,%zu differs\n", file, i, j);
            free(got);
        }
    cuts = malloc((n + 1) * sizeof *cuts);
    for (i = 0; i < n; i++)
        cuts[i] = i + 1;
    got = parse_split(s, n, cuts, n ? n - 1 : 0);
    CHECK_STR(got, whole);
    free(got);
    free(cuts);
    CHECK_INT(bad, 0);
    free(whole);
    free(s);
}

TEST(spec_stream_every_chunk_boundary)
{
    check_all_splits(FIXTURES "spec_edges.sse");
}

TEST(recorded_adk_stream_every_chunk_boundary)
{
    size_t n;
    char *s = read_fixture(FIXTURES "adk_turn.sse", &n), *got;
    int events = 0;
    const char *p;

    check_all_splits(FIXTURES "adk_turn.sse");
    if (!s)
        return;
    got = parse_split(s, n, NULL, 0);
    for (p = got; (p = strstr(p, "E[message|")) != NULL; p++)
        events++;
    CHECK_INT(events, 8);   /* 3 + 4 partial + 1 final; comments apart */
    CHECK_CONTAINS(got, "C[connected]");
    CHECK_CONTAINS(got, "E[message||]");
    free(got);
    free(s);
}

/* The recorded stream with every LF turned into CRLF, and into CR. */
TEST(recorded_stream_with_crlf_and_cr_line_ends)
{
    size_t n, i;
    char *s = read_fixture(FIXTURES "adk_turn.sse", &n);
    nemo_buf crlf = NEMO_BUF_INIT, cr = NEMO_BUF_INIT;
    char *a, *b, *c;
    size_t mid;

    if (!s) {
        CHECK(0);
        return;
    }
    for (i = 0; i < n; i++) {
        if (s[i] == '\n') {
            buf_puts(&crlf, "\r\n");
            buf_putc(&cr, '\r');
        } else {
            buf_putc(&crlf, s[i]);
            buf_putc(&cr, s[i]);
        }
    }
    a = parse_split(s, n, NULL, 0);
    b = parse_split(crlf.data, crlf.len, NULL, 0);
    c = parse_split(cr.data, cr.len, NULL, 0);
    CHECK_STR(b, a);
    CHECK_STR(c, a);
    free(b);
    /* CR at the end of one feed, LF at the start of the next: one line end
     * (a blank line here would dispatch nothing extra, so check events). */
    for (i = 0; i < crlf.len; i++) {
        if (crlf.data[i] != '\r')
            continue;
        mid = i + 1;
        b = parse_split(crlf.data, crlf.len, &mid, 1);
        CHECK_STR(b, a);
        free(b);
    }
    free(a);
    free(c);
    free(s);
    buf_free(&crlf);
    buf_free(&cr);
}

TEST(cr_then_lf_across_feeds_is_one_line_end)
{
    /* "data: a\r" | "\ndata: b\r\n\r\n": if the LF were a second line end
     * it would be a blank line and dispatch "a" alone. */
    rec r = { NEMO_BUF_INIT, 0, 0, 0 };
    sse_handlers h = { rec_event, rec_comment, &r };
    sse_parser *p = sse_new(&h);

    CHECK_INT(sse_feed(p, "data: a\r", 8), 0);
    CHECK(sse_pending(p));
    CHECK_INT(sse_feed(p, "\ndata: b\r\n\r\n", 12), 0);
    CHECK_STR(buf_str(&r.log), "E[message||a\\nb]\n");
    CHECK(!sse_pending(p));
    sse_free(p);
    buf_free(&r.log);
}

TEST(bom_only_at_stream_start_and_split)
{
    rec r = { NEMO_BUF_INIT, 0, 0, 0 };
    sse_handlers h = { rec_event, rec_comment, &r };
    sse_parser *p = sse_new(&h);

    CHECK_INT(sse_feed(p, "\xEF", 1), 0);
    CHECK_INT(sse_feed(p, "\xBB\xBF" "data: 1\n\n", 11), 0);
    /* A second BOM is not stripped: the field name is then unknown. */
    CHECK_INT(sse_feed(p, "\xEF\xBB\xBF" "data: 2\n\ndata: 3\n\n", 21), 0);
    CHECK_STR(buf_str(&r.log), "E[message||1]\nE[message||3]\n");
    sse_free(p);
    buf_free(&r.log);
}

TEST(unterminated_event_at_eof_is_discarded)
{
    rec r = { NEMO_BUF_INIT, 0, 0, 0 };
    sse_handlers h = { rec_event, rec_comment, &r };
    sse_parser *p = sse_new(&h);

    CHECK_INT(sse_feed(p, "data: done\n\ndata: half\n", 23), 0);
    CHECK(sse_pending(p));
    sse_finish(p);
    CHECK(!sse_pending(p));
    CHECK_STR(buf_str(&r.log), "E[message||done]\n");
    CHECK_INT(r.events, 1);
    sse_free(p);
    buf_free(&r.log);
}

TEST(handler_stop_value_is_returned)
{
    rec r = { NEMO_BUF_INIT, 0, 0, 1 };
    sse_handlers h = { rec_event, NULL, &r };
    sse_parser *p = sse_new(&h);

    CHECK_INT(sse_feed(p, ": c\ndata: a\n\ndata: b\n\n", 22), 7);
    CHECK_INT(r.events, 1);
    sse_free(p);
    buf_free(&r.log);
}

TEST(line_cap_errors_without_crashing)
{
    rec r = { NEMO_BUF_INIT, 0, 0, 0 };
    sse_handlers h = { rec_event, NULL, &r };
    sse_parser *p = sse_new(&h);
    size_t chunk = 64 * 1024, sent = 0;
    char *junk = malloc(chunk);
    int rc = 0;

    memset(junk, 'a', chunk);
    CHECK_INT(sse_feed(p, "data: ", 6), 0);
    while (rc == 0 && sent <= 5u * 1024 * 1024) {
        rc = sse_feed(p, junk, chunk);
        sent += chunk;
    }
    CHECK_INT(rc, -1);
    CHECK(sent > 4u * 1024 * 1024 - chunk);
    CHECK_INT(sse_feed(p, "\n\ndata: x\n\n", 11), -1);   /* stays failed */
    CHECK_INT(r.events, 0);
    sse_free(p);

    /* Many short data lines adding up past the cap: also an error. */
    p = sse_new(&h);
    rc = 0;
    memcpy(junk, "data: ", 6);
    junk[chunk - 1] = '\n';
    for (sent = 0; rc == 0 && sent <= 5u * 1024 * 1024; sent += chunk)
        rc = sse_feed(p, junk, chunk);
    CHECK_INT(rc, -1);
    sse_free(p);

    /* Just under the cap is fine. */
    p = sse_new(&h);
    {
        size_t big = 4u * 1024 * 1024 - 16;
        char *line = malloc(big + 8);

        memcpy(line, "data: ", 6);
        memset(line + 6, 'b', big - 6);
        memcpy(line + big, "\n\n", 2);
        CHECK_INT(sse_feed(p, line, big + 2), 0);
        CHECK_INT(r.events, 1);
        free(line);
    }
    sse_free(p);
    free(junk);
    buf_free(&r.log);
}

int main(void)
{
    RUN(spec_edge_cases_in_one_feed);
    RUN(spec_stream_every_chunk_boundary);
    RUN(recorded_adk_stream_every_chunk_boundary);
    RUN(recorded_stream_with_crlf_and_cr_line_ends);
    RUN(cr_then_lf_across_feeds_is_one_line_end);
    RUN(bom_only_at_stream_start_and_split);
    RUN(unterminated_event_at_eof_is_discarded);
    RUN(handler_stop_value_is_returned);
    RUN(line_cap_errors_without_crashing);
    return unit_done();
}
