/* mp4.c - the ISO-BMFF top-level structure check (see mp4.h).
 *
 * One set of rules (mp4_accept) serves the streaming scanner used while
 * downloading and the header walker used on files already on disk. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/mp4.h"

/* ftyp: 8 header + major brand + minor version + 4-byte brands. A real
 * one lists a handful of brands; 4 KB is far above any. */
#define MP4_FTYP_MIN 16
#define MP4_FTYP_MAX 4096

static unsigned long long be32(const unsigned char *p)
{
    return (unsigned long long)p[0] << 24 | (unsigned long long)p[1] << 16 |
           (unsigned long long)p[2] << 8 | p[3];
}

static int mp4_fail(char *reason, size_t rn, const char *msg,
                    unsigned long long pos)
{
    if (reason && rn)
        snprintf(reason, rn, "%s (at byte %llu)", msg, pos);
    return -1;
}

int mp4_box_parse(const unsigned char *h, size_t n, unsigned long long pos,
                  mp4_box *box, char *reason, size_t rn)
{
    unsigned long long size;
    int i;

    if (n < 8)
        return 1;
    for (i = 0; i < 4; i++)
        if (h[4 + i] < 0x20 || h[4 + i] > 0x7e)
            return mp4_fail(reason, rn, "a box type is not printable", pos);
    memcpy(box->type, h + 4, 4);
    box->type[4] = '\0';
    box->start = pos;
    box->header = 8;
    size = be32(h);
    if (size == 0) {
        box->end = 0;
        return 0;
    }
    if (size == 1) {
        if (n < 16)
            return 1;
        size = be32(h + 8) << 32 | be32(h + 12);
        box->header = 16;
    }
    if (size < box->header)
        return mp4_fail(reason, rn, "a box is smaller than its header", pos);
    if (size > ~0ULL - pos)
        return mp4_fail(reason, rn, "a box size overflows", pos);
    box->end = pos + size;
    return 0;
}

/* The rules for the next top-level box, given those before it. */
static int mp4_accept(mp4_scan *s, const mp4_box *b)
{
    const char *r = NULL;

    if (s->nboxes == 0) {
        unsigned long long size = b->end - b->start;

        if (strcmp(b->type, "ftyp") != 0)
            r = "the file does not start with an ftyp box";
        else if (b->end == 0 || b->header != 8 || size < MP4_FTYP_MIN ||
                 size > MP4_FTYP_MAX || (size - MP4_FTYP_MIN) % 4 != 0)
            r = "the ftyp box has an implausible size";
    } else if (s->nboxes >= MP4_MAX_BOXES) {
        r = "too many top-level boxes";
    }
    if (r) {
        s->failed = 1;
        return mp4_fail(s->reason, sizeof s->reason, r, b->start);
    }
    s->nboxes++;
    if (strcmp(b->type, "moov") == 0)
        s->have_moov = 1;
    if (b->end == 0)
        s->to_end = 1;
    else
        s->next = b->end;
    return 0;
}

void mp4_scan_init(mp4_scan *s)
{
    memset(s, 0, sizeof *s);
}

/* A header starts at s->pos: collect it (it may span feeds) and judge it. */
static int mp4_header_bytes(mp4_scan *s, const unsigned char **p, size_t *n)
{
    mp4_box b;
    size_t take = sizeof s->hdr - s->hdr_len;
    int rc;

    if (take > *n)
        take = *n;
    memcpy(s->hdr + s->hdr_len, *p, take);
    rc = mp4_box_parse(s->hdr, s->hdr_len + take, s->next, &b, s->reason,
                       sizeof s->reason);
    if (rc < 0) {
        s->failed = 1;
        return -1;
    }
    if (rc > 0) {               /* need more: keep what we have */
        s->hdr_len += take;
        s->pos += take;
        *p += take;
        *n -= take;
        return 0;
    }
    /* Only the header's own bytes are consumed here; the rest of take is
     * the box body and is skipped by the caller. */
    take = b.header - s->hdr_len;
    s->hdr_len = 0;
    s->pos += take;
    *p += take;
    *n -= take;
    return mp4_accept(s, &b);
}

int mp4_scan_feed(mp4_scan *s, const void *data, size_t n)
{
    const unsigned char *p = data;

    if (s->failed)
        return -1;
    while (n > 0) {
        unsigned long long skip;

        if (s->to_end) {
            s->pos += n;
            return 0;
        }
        if (s->pos < s->next) {
            skip = s->next - s->pos;
            if (skip > n)
                skip = n;
            s->pos += skip;
            p += skip;
            n -= (size_t)skip;
            continue;
        }
        if (mp4_header_bytes(s, &p, &n) != 0)
            return -1;
    }
    return 0;
}

int mp4_scan_finish(mp4_scan *s)
{
    const char *r = NULL;

    if (s->failed)
        return -1;
    if (s->nboxes == 0 && s->hdr_len == 0 && s->pos == 0)
        r = "the file is empty";
    else if (s->hdr_len > 0)
        r = "the file ends inside a box header";
    else if (!s->to_end && s->pos < s->next)
        r = "the file ends before its last box does (truncated)";
    else if (s->nboxes == 0)
        r = "the file does not start with an ftyp box";
    else if (!s->have_moov)
        r = "the file has no moov box";
    if (!r)
        return 0;
    s->failed = 1;
    return mp4_fail(s->reason, sizeof s->reason, r, s->pos);
}

int mp4_check_parse(const void *data, size_t n, char *reason, size_t rn)
{
    mp4_scan s;

    mp4_scan_init(&s);
    if (mp4_scan_feed(&s, data, n) == 0 && mp4_scan_finish(&s) == 0)
        return 0;
    if (reason && rn)
        snprintf(reason, rn, "%s", s.reason);
    return -1;
}

int mp4_check_fd(int fd, char *reason, size_t rn)
{
    unsigned char h[16];
    struct stat st;
    mp4_scan s;
    mp4_box b;
    ssize_t got;
    int rc;

    mp4_scan_init(&s);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return mp4_fail(reason, rn, "not a regular file", 0);
    while (!s.to_end && s.next < (unsigned long long)st.st_size) {
        do
            got = pread(fd, h, sizeof h, (off_t)s.next);
        while (got < 0 && errno == EINTR);
        if (got < 0)
            return mp4_fail(reason, rn, "cannot read the file", s.next);
        rc = mp4_box_parse(h, (size_t)got, s.next, &b, s.reason,
                           sizeof s.reason);
        if (rc == 0)
            rc = mp4_accept(&s, &b);
        else if (rc > 0)
            rc = mp4_fail(s.reason, sizeof s.reason,
                          "the file ends inside a box header", s.next);
        if (rc != 0)
            goto bad;
    }
    s.pos = (unsigned long long)st.st_size;
    if (mp4_scan_finish(&s) == 0)
        return 0;
bad:
    if (reason && rn)
        snprintf(reason, rn, "%s", s.reason);
    return -1;
}
