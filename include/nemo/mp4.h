/* mp4.h - is a byte stream a whole ISO-BMFF (MP4) file?
 *
 * The check is structural, top level only: an `ftyp` box first at offset
 * 0 (of a plausible size), every top-level box header well formed and its
 * size consistent up to the exact end of the data (size 0 = "to the end",
 * size 1 = a 64-bit largesize), and a `moov` box somewhere. It refuses
 * error pages, shell scripts that start with "#   ftyp", truncated and
 * padded downloads. Pure functions: bytes in, verdict out (the fd walker
 * only adds pread). */
#ifndef NEMO_MP4_H
#define NEMO_MP4_H

#include <stddef.h>

#define MP4_MAX_BOXES 1000000u    /* top-level boxes; real files have few */

typedef struct mp4_box {
    char type[5];
    unsigned long long start;   /* offset of the header */
    unsigned long long end;     /* offset just past the box; 0 = to end */
    unsigned header;            /* 8, or 16 with a largesize */
} mp4_box;

/* The box header at h[0..n), found at offset pos. 0 with *box; 1 when
 * n is too short to tell; -1 when invalid (reason filled). */
int mp4_box_parse(const unsigned char *h, size_t n, unsigned long long pos,
                  mp4_box *box, char *reason, size_t rn);

/* Streaming check, fed as the bytes arrive (a download). */
typedef struct mp4_scan {
    unsigned long long pos;     /* bytes fed so far */
    unsigned long long next;    /* offset of the next top-level header */
    unsigned char hdr[16];      /* a header split across feeds */
    size_t hdr_len;
    unsigned nboxes;
    int to_end;                 /* the last box runs to the end */
    int have_moov;
    int failed;
    char reason[160];
} mp4_scan;

void mp4_scan_init(mp4_scan *s);
/* 0 while the bytes so far can still be an MP4; -1 (s->reason) once they
 * cannot. Sticky. */
int mp4_scan_feed(mp4_scan *s, const void *data, size_t n);
/* 0 when everything fed is one whole MP4; -1 with s->reason. */
int mp4_scan_finish(mp4_scan *s);

/* The whole check on a buffer (what the fuzz target calls). */
int mp4_check_parse(const void *data, size_t n, char *reason, size_t rn);

/* The same on an open file, reading only the box headers. */
int mp4_check_fd(int fd, char *reason, size_t rn);

#endif
