/* filecheck.h - decide, before any byte leaves the machine, whether a local
 * file may be uploaded: regular + readable, accepted extension, magic bytes
 * of that extension's family, size limit, NEMO_UPLOAD_ROOTS. */
#ifndef NEMO_FILECHECK_H
#define NEMO_FILECHECK_H

#include <stddef.h>

typedef struct filecheck_info {
    char resolved[4096];     /* realpath */
    char name[256];          /* basename */
    char ext[16];            /* lower-case, no dot */
    char family[16];         /* "video" | "image" | "audio" */
    char content_type[64];   /* "video/mp4" */
    long long bytes;
    long long mtime_ns;      /* st_mtim of the checked file */
    int fd;                  /* accepted: the checked file, still open
                              * (upload sends from it); else -1 */
    char reason[512];        /* why it was rejected, for a person */
} filecheck_info;

/* "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac" */
const char *filecheck_accepted_list(void);
/* 0 accepted (info->fd open: the caller owns it, filecheck_close); -1
 * rejected with info->reason (info->fd -1). max_bytes <= 0: 500 MB. */
int filecheck_file(const char *path, long long max_bytes,
                   filecheck_info *info);
/* Close info->fd if open (safe to call twice). */
void filecheck_close(filecheck_info *info);
/* 0 when http(s) URL, else -1 with reason. */
int filecheck_url(const char *url, char *reason, size_t n);

#endif
