/* filecheck.c - may this local file be uploaded?
 *
 * Runs before any byte leaves the machine. The file is opened (O_NONBLOCK,
 * so a FIFO cannot hang us) and judged by fstat on that descriptor, so what
 * is checked is what was opened; an accepted file's descriptor is handed
 * to the upload, which sends from it (never re-opening the path). The content must match the extension's
 * family by its magic bytes: a PNG renamed to .mp4 is refused here with a
 * reason, rather than by the backend after the upload. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nemo/filecheck.h"
#include "nemo/fspolicy.h"

#define FC_DEFAULT_MAX (500LL * 1024 * 1024)
#define FC_MAGIC_BYTES 16
#define FC_URL_MAX 2048

/* What the first bytes say the content is. */
typedef enum {
    FC_UNKNOWN, FC_ISO,    /* ftyp box: mp4, mov, m4a */
    FC_QT_OLD,             /* QuickTime without ftyp (moov/mdat/wide first) */
    FC_AVI, FC_WAV, FC_WEBP, FC_RIFF, FC_EBML, FC_JPEG, FC_PNG, FC_GIF,
    FC_ID3, FC_MPEG_AUDIO, FC_ADTS, FC_ADIF
} fc_magic;

static const char *const fc_magic_names[] = {
    [FC_UNKNOWN] = "not a recognised media format",
    [FC_ISO] = "an MP4/MOV/M4A (ISO media) file",
    [FC_QT_OLD] = "a QuickTime movie",
    [FC_AVI] = "an AVI video", [FC_WAV] = "a WAV audio file",
    [FC_WEBP] = "a WebP image", [FC_RIFF] = "a RIFF file",
    [FC_EBML] = "a WebM/MKV (Matroska) file", [FC_JPEG] = "a JPEG image",
    [FC_PNG] = "a PNG image", [FC_GIF] = "a GIF image",
    [FC_ID3] = "an audio file with an ID3 tag",
    [FC_MPEG_AUDIO] = "MPEG audio (MP3)", [FC_ADTS] = "AAC (ADTS) audio",
    [FC_ADIF] = "AAC (ADIF) audio",
};

#define M(x) (1u << (x))

/* Accepted extensions: family, content type, the magic kinds that fit. */
static const struct {
    const char *ext;
    const char *family;
    const char *content_type;
    unsigned magic;
} fc_types[] = {
    { "mp4", "video", "video/mp4", M(FC_ISO) },
    { "mov", "video", "video/quicktime", M(FC_ISO) | M(FC_QT_OLD) },
    { "avi", "video", "video/x-msvideo", M(FC_AVI) },
    { "webm", "video", "video/webm", M(FC_EBML) },
    { "mkv", "video", "video/x-matroska", M(FC_EBML) },
    { "jpg", "image", "image/jpeg", M(FC_JPEG) },
    { "jpeg", "image", "image/jpeg", M(FC_JPEG) },
    { "png", "image", "image/png", M(FC_PNG) },
    { "gif", "image", "image/gif", M(FC_GIF) },
    { "webp", "image", "image/webp", M(FC_WEBP) },
    { "mp3", "audio", "audio/mpeg", M(FC_ID3) | M(FC_MPEG_AUDIO) },
    { "wav", "audio", "audio/wav", M(FC_WAV) },
    { "m4a", "audio", "audio/mp4", M(FC_ISO) },
    { "aac", "audio", "audio/aac", M(FC_ADTS) | M(FC_ADIF) | M(FC_ID3) },
};
#define FC_NTYPES (sizeof fc_types / sizeof fc_types[0])

const char *filecheck_accepted_list(void)
{
    return "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, "
           "aac";
}

static void fc_reason(filecheck_info *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reasons quote paths; a long path is cut, never overflows. */
static void fc_reason(filecheck_info *info, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(info->reason, sizeof info->reason, fmt, ap);
    va_end(ap);
}

static fc_magic fc_sniff(const unsigned char *b, size_t n)
{
    static const char *const qt_atoms[] = { "moov", "mdat", "wide", "free",
                                            "skip", "pnot" };
    size_t i;

    if (n >= 8 && memcmp(b + 4, "ftyp", 4) == 0)
        return FC_ISO;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0) {
        if (memcmp(b + 8, "AVI ", 4) == 0)
            return FC_AVI;
        if (memcmp(b + 8, "WAVE", 4) == 0)
            return FC_WAV;
        if (memcmp(b + 8, "WEBP", 4) == 0)
            return FC_WEBP;
        return FC_RIFF;
    }
    if (n >= 4 && memcmp(b, "\x1A\x45\xDF\xA3", 4) == 0)
        return FC_EBML;
    if (n >= 3 && memcmp(b, "\xFF\xD8\xFF", 3) == 0)
        return FC_JPEG;
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1A\n", 8) == 0)
        return FC_PNG;
    if (n >= 4 && memcmp(b, "GIF8", 4) == 0)
        return FC_GIF;
    if (n >= 3 && memcmp(b, "ID3", 3) == 0)
        return FC_ID3;
    if (n >= 4 && memcmp(b, "ADIF", 4) == 0)
        return FC_ADIF;
    /* 12 sync bits; layer bits 00 is ADTS (AAC), anything else MPEG audio */
    if (n >= 2 && b[0] == 0xFF && (b[1] & 0xF0) == 0xF0 && (b[1] & 6) == 0)
        return FC_ADTS;
    if (n >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0)
        return FC_MPEG_AUDIO;
    for (i = 0; n >= 8 && i < sizeof qt_atoms / sizeof qt_atoms[0]; i++)
        if (memcmp(b + 4, qt_atoms[i], 4) == 0)
            return FC_QT_OLD;
    return FC_UNKNOWN;
}

/* The brief's "mp3: frame sync FF Ex/Fx" includes ADTS bytes: an .mp3 whose
 * first frame header reads as ADTS is still accepted as MPEG audio. */
static int fc_magic_fits(unsigned accepted, fc_magic m)
{
    if (accepted & M(m))
        return 1;
    return m == FC_ADTS && (accepted & M(FC_MPEG_AUDIO));
}

static void fc_size_text(long long bytes, char *out, size_t n)
{
    if (bytes >= 1024LL * 1024)
        snprintf(out, n, "%.1f MB", (double)bytes / (1024.0 * 1024.0));
    else if (bytes >= 1024)
        snprintf(out, n, "%.1f KB", (double)bytes / 1024.0);
    else
        snprintf(out, n, "%lld bytes", bytes);
}

static const char *fc_kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

static int fc_check_roots(filecheck_info *info)
{
    return fsp_check(FSP_READ, info->resolved, info->reason,
                     sizeof info->reason);
}

static int fc_extension(const char *name, filecheck_info *info, size_t *type)
{
    const char *dot = strrchr(name, '.');
    size_t i, n;

    if (!dot || dot == name || !dot[1]) {
        fc_reason(info,
                 "%s has no file extension; accepted types: %s", name,
                 filecheck_accepted_list());
        return -1;
    }
    n = strlen(dot + 1);
    for (i = 0; i < n && i + 1 < sizeof info->ext; i++)
        info->ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    info->ext[i] = '\0';
    for (i = 0; n < sizeof info->ext && i < FC_NTYPES; i++) {
        if (strcmp(info->ext, fc_types[i].ext) == 0) {
            *type = i;
            snprintf(info->family, sizeof info->family, "%s",
                     fc_types[i].family);
            snprintf(info->content_type, sizeof info->content_type, "%s",
                     fc_types[i].content_type);
            return 0;
        }
    }
    fc_reason(info,
             "%s: .%.*s files are not accepted; accepted types: %s", name,
             (int)(n > 16 ? 16 : n), dot + 1, filecheck_accepted_list());
    return -1;
}

static int fc_magic_check(int fd, size_t type, filecheck_info *info)
{
    unsigned char head[FC_MAGIC_BYTES];
    ssize_t got;
    fc_magic m;

    do
        got = pread(fd, head, sizeof head, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
        fc_reason(info, "cannot read %s: %s",
                 info->name, strerror(errno));
        return -1;
    }
    m = fc_sniff(head, (size_t)got);
    if (fc_magic_fits(fc_types[type].magic, m))
        return 0;
    fc_reason(info,
             "%s is named .%s (%s) but its content is %s; rename it to its "
             "real type or pick the right file", info->name, info->ext,
             info->family, fc_magic_names[m]);
    return -1;
}

/* The opened file's path, symlinks resolved. */
static int fc_resolve(const char *path, const struct stat *st,
                      filecheck_info *info)
{
    char real[PATH_MAX];
    struct stat rs;

    if (!realpath(path, real) || stat(real, &rs) != 0 ||
        rs.st_dev != st->st_dev || rs.st_ino != st->st_ino) {
        fc_reason(info,
                 "%s changed while it was being checked", info->name);
        return -1;
    }
    snprintf(info->resolved, sizeof info->resolved, "%s", real);
    return 0;
}

static const char *fc_basename(const char *path)
{
    const char *s = strrchr(path, '/');

    return s && s[1] ? s + 1 : path;
}

static int fc_open(const char *path, filecheck_info *info)
{
    struct stat st;
    int fd;

    /* Refuse special files before opening them: opening a device can have
     * side effects. fstat after open is the authoritative check. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        fc_reason(info,
                 "%s is %s, not a regular file", path, fc_kind_of(st.st_mode));
        return -1;
    }
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    if (errno == ENOENT || errno == ENOTDIR)
        fc_reason(info, "%s does not exist",
                 path);
    else if (errno == EACCES || errno == EPERM)
        fc_reason(info,
                 "%s is not readable (permission denied)", path);
    else
        fc_reason(info, "cannot open %s: %s",
                 path, strerror(errno));
    return -1;
}

int filecheck_file(const char *path, long long max_bytes,
                   filecheck_info *info)
{
    struct stat st;
    size_t type = 0;
    char have[32], limit[32];
    int fd = -1, rc = -1;

    memset(info, 0, sizeof *info);
    info->fd = -1;
    if (max_bytes <= 0 || max_bytes > FC_DEFAULT_MAX)
        max_bytes = FC_DEFAULT_MAX;
    if (!path || !*path) {
        fc_reason(info, "no file path given");
        return -1;
    }
    snprintf(info->name, sizeof info->name, "%s", fc_basename(path));
    if ((fd = fc_open(path, info)) < 0)
        goto out;
    if (fstat(fd, &st) != 0) {
        fc_reason(info, "cannot stat %s: %s",
                 path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        fc_reason(info,
                 "%s is %s, not a regular file", path, fc_kind_of(st.st_mode));
        goto out;
    }
    if (fc_resolve(path, &st, info) || fc_check_roots(info) ||
        fc_extension(info->name, info, &type))
        goto out;
    info->bytes = (long long)st.st_size;
    if (info->bytes == 0) {
        fc_reason(info, "%s is empty",
                 info->name);
        goto out;
    }
    if (info->bytes > max_bytes) {
        fc_size_text(info->bytes, have, sizeof have);
        fc_size_text(max_bytes, limit, sizeof limit);
        fc_reason(info,
                 "%s is %s, over the %s upload limit; compress or trim it "
                 "first", info->name, have, limit);
        goto out;
    }
    if (fc_magic_check(fd, type, info))
        goto out;
    info->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
                     st.st_mtim.tv_nsec;
    /* The upload sends from this very descriptor: nothing done to the
     * path after this point changes what goes out. */
    info->fd = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

void filecheck_close(filecheck_info *info)
{
    if (info && info->fd >= 0) {
        close(info->fd);
        info->fd = -1;
    }
}

int filecheck_url(const char *url, char *reason, size_t n)
{
    const char *p, *host, *end;
    size_t len;

    if (!url || !*url) {
        snprintf(reason, n, "empty URL");
        return -1;
    }
    len = strlen(url);
    if (len > FC_URL_MAX) {
        snprintf(reason, n, "URL is longer than %d characters", FC_URL_MAX);
        return -1;
    }
    for (p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7F) {
            snprintf(reason, n, "URL contains spaces or control characters");
            return -1;
        }
    if (strncasecmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        host = url + 7;
    else {
        snprintf(reason, n, "only http and https URLs can be uploaded: %.200s",
                 url);
        return -1;
    }
    end = host + strcspn(host, "/?#");
    /* userinfo@host:port - the host is what lies between. */
    for (p = end; p > host; p--)
        if (p[-1] == '@') {
            host = p;
            break;
        }
    if (host < end && *host == '[') {
        p = memchr(host, ']', (size_t)(end - host));
        if (!p || p == host + 1) {
            snprintf(reason, n, "URL has no valid host: %.200s", url);
            return -1;
        }
        return 0;
    }
    p = memchr(host, ':', (size_t)(end - host));
    if ((p ? p : end) == host) {
        snprintf(reason, n, "URL has no host: %.200s", url);
        return -1;
    }
    return 0;
}
