/* test_filecheck.c - every upload rejection, every accepted type, roots,
 * and URLs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nemo/filecheck.h"
#include "unit.h"

static char dir[256];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *name, const void *data, size_t len)
{
    char p[512];
    FILE *f;

    path_in(p, sizeof p, name);
    f = fopen(p, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    if (len)
        CHECK(fwrite(data, 1, len, f) == len);
    /* Some payload after the magic, like a real file. */
    fputs("........................................", f);
    fclose(f);
}

static int check_name(const char *name, long long max, filecheck_info *fi)
{
    char p[512];

    path_in(p, sizeof p, name);
    return filecheck_file(p, max, fi);
}

static const struct {
    const char *name;
    const char *magic;
    size_t len;
    const char *family;
    const char *content_type;
} good[] = {
    { "clip.mp4", "\0\0\0\x18" "ftypisom", 12, "video", "video/mp4" },
    { "CLIP.MOV", "\0\0\0\x14" "ftypqt  ", 12, "video", "video/quicktime" },
    { "old.mov", "\0\0\0\x08" "wide", 8, "video", "video/quicktime" },
    { "a.avi", "RIFF\x10\0\0\0" "AVI LIST", 16, "video", "video/x-msvideo" },
    { "a.webm", "\x1A\x45\xDF\xA3\x9F\x42\x86\x81", 8, "video", "video/webm" },
    { "a.mkv", "\x1A\x45\xDF\xA3\x01\0\0\0", 8, "video", "video/x-matroska" },
    { "p.jpg", "\xFF\xD8\xFF\xE0\0\x10JFIF", 10, "image", "image/jpeg" },
    { "p.JPEG", "\xFF\xD8\xFF\xDB", 4, "image", "image/jpeg" },
    { "p.png", "\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR", 16, "image", "image/png" },
    { "p.gif", "GIF89a\x01\0", 8, "image", "image/gif" },
    { "p.webp", "RIFF\x20\0\0\0WEBPVP8 ", 16, "image", "image/webp" },
    { "s.mp3", "ID3\x04\0\0\0\0\0\0", 10, "audio", "audio/mpeg" },
    { "s2.mp3", "\xFF\xFB\x90\x64", 4, "audio", "audio/mpeg" },
    { "s.wav", "RIFF\x24\0\0\0WAVEfmt ", 16, "audio", "audio/wav" },
    { "s.m4a", "\0\0\0\x1C" "ftypM4A ", 12, "audio", "audio/mp4" },
    { "s.aac", "\xFF\xF1\x50\x80", 4, "audio", "audio/aac" },
    { "s2.aac", "\xFF\xF9\x50\x80", 4, "audio", "audio/aac" },
    { "s3.aac", "ADIF\0\0", 6, "audio", "audio/aac" },
};

TEST(accepted_types_and_their_magic)
{
    filecheck_info fi;
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        write_file(good[i].name, good[i].magic, good[i].len);
        if (check_name(good[i].name, 0, &fi) != 0) {
            printf("#   %s rejected: %s\n", good[i].name, fi.reason);
            CHECK(0);
            continue;
        }
        CHECK_STR(fi.family, good[i].family);
        CHECK_STR(fi.content_type, good[i].content_type);
        CHECK_STR(fi.name, good[i].name);
        CHECK_INT(fi.bytes, (long long)good[i].len + 40);
        CHECK(fi.resolved[0] == '/');
        CHECK_STR(fi.reason, "");
    }
    /* The bundled samples. */
    CHECK_INT(filecheck_file("tests/fixtures/media/sample.png", 0, &fi), 0);
    CHECK_STR(fi.content_type, "image/png");
    CHECK_INT(filecheck_file("tests/fixtures/media/sample.mp4", 0, &fi), 0);
    CHECK_STR(fi.family, "video");
    CHECK_STR(filecheck_accepted_list(),
              "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, "
              "aac");
}

TEST(mismatched_magic_is_rejected_with_what_it_is)
{
    static const char png[] = "\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR";
    filecheck_info fi;

    write_file("holiday.mp4", png, 16);
    CHECK_INT(check_name("holiday.mp4", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "holiday.mp4 is named .mp4 (video)");
    CHECK_CONTAINS(fi.reason, "its content is a PNG image");
    write_file("pic.jpg", "GIF89a", 6);
    CHECK_INT(check_name("pic.jpg", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "a GIF image");
    write_file("song.wav", "RIFF\x20\0\0\0WEBPVP8 ", 16);   /* WebP as .wav */
    CHECK_INT(check_name("song.wav", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "WebP");
    write_file("notes.mp3", "hello, plain text", 17);
    CHECK_INT(check_name("notes.mp3", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "not a recognised media format");
    write_file("a.aac", "\xFF\xFB\x90\x64", 4);   /* MP3 frame as .aac */
    CHECK_INT(check_name("a.aac", 0, &fi), -1);
    write_file("tiny.mp4", "\0\0", 2);
    CHECK_INT(check_name("tiny.mp4", 0, &fi), -1);
}

TEST(wrong_or_missing_extension)
{
    filecheck_info fi;

    write_file("readme.txt", "\0\0\0\x18" "ftypisom", 12);
    CHECK_INT(check_name("readme.txt", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, ".txt files are not accepted");
    CHECK_CONTAINS(fi.reason, "mp4, mov, avi");
    write_file("noext", "\0\0\0\x18" "ftypisom", 12);
    CHECK_INT(check_name("noext", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "has no file extension");
    write_file(".mp4", "\0\0\0\x18" "ftypisom", 12);   /* a dot file */
    CHECK_INT(check_name(".mp4", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "no file extension");
    write_file("x.mp4extra", "\0\0\0\x18" "ftypisom", 12);
    CHECK_INT(check_name("x.mp4extra", 0, &fi), -1);
}

TEST(not_regular_files)
{
    filecheck_info fi;
    char p[512];
    struct sockaddr_un sa;
    int s;

    path_in(p, sizeof p, "folder.mp4");
    CHECK_INT(mkdir(p, 0755), 0);
    CHECK_INT(filecheck_file(p, 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "is a directory");

    /* A FIFO must be refused, not block waiting for a writer. */
    path_in(p, sizeof p, "pipe.mp4");
    CHECK_INT(mkfifo(p, 0644), 0);
    CHECK_INT(filecheck_file(p, 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "FIFO");

    CHECK_INT(filecheck_file("/dev/null", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "character device");

    path_in(p, sizeof p, "sock.mp4");
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    CHECK(strlen(p) < sizeof sa.sun_path);
    memcpy(sa.sun_path, p, strlen(p) + 1);
    CHECK_INT(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_INT(filecheck_file(p, 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "socket");
    close(s);

    path_in(p, sizeof p, "missing.mp4");
    CHECK_INT(filecheck_file(p, 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "does not exist");
    CHECK_INT(filecheck_file("", 0, &fi), -1);
    CHECK_INT(filecheck_file(NULL, 0, &fi), -1);
}

/* As an unprivileged user: 0 when filecheck refused p as unreadable. */
static int unreadable_as_nobody(const char *p)
{
    filecheck_info fi;
    pid_t pid;
    int status = 0;

    pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        if (filecheck_file(p, 0, &fi) != -1)
            _exit(1);
        _exit(strstr(fi.reason, "not readable") ? 0 : 2);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

TEST(unreadable_file)
{
    filecheck_info fi;
    char p[512];
    int fd;

    write_file("locked.mp4", "\0\0\0\x18" "ftypisom", 12);
    path_in(p, sizeof p, "locked.mp4");
    CHECK_INT(chmod(p, 0), 0);
    fd = open(p, O_RDONLY);
    if (fd < 0) {
        CHECK_INT(filecheck_file(p, 0, &fi), -1);
        CHECK_CONTAINS(fi.reason, "not readable");
    } else {
        /* Root reads mode-000 files, so there is nothing to refuse as
         * root; check the refusal as user nobody instead, if possible. */
        close(fd);
        CHECK_INT(filecheck_file(p, 0, &fi), 0);
        chmod(dir, 0755);
        fd = unreadable_as_nobody(p);
        chmod(dir, 0700);
        if (fd == 3) {
            printf("# note: running as uid %d, which reads mode-000 files, "
                   "and cannot switch to nobody: the unreadable-file "
                   "assertion is skipped\n", (int)geteuid());
        } else {
            printf("# note: running as uid %d; unreadable file checked as "
                   "user nobody\n", (int)geteuid());
            CHECK_INT(fd, 0);
        }
    }
    chmod(p, 0644);
}

TEST(empty_and_too_large)
{
    filecheck_info fi;
    char p[512];
    int fd;

    path_in(p, sizeof p, "empty.mp4");
    fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    close(fd);
    CHECK_INT(filecheck_file(p, 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "empty.mp4 is empty");

    /* 501 MB, sparse: no disk used. */
    path_in(p, sizeof p, "huge.mp4");
    fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(write(fd, "\0\0\0\x18" "ftypisom", 12) == 12);
    CHECK_INT(ftruncate(fd, 501LL * 1024 * 1024), 0);
    close(fd);
    CHECK_INT(filecheck_file(p, 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "huge.mp4 is 501.0 MB, over the 500.0 MB");
    /* A limit above the default does not lift it. */
    CHECK_INT(filecheck_file(p, 800LL * 1024 * 1024, &fi), -1);

    /* Exactly at the limit is accepted. */
    fd = open(p, O_WRONLY);
    CHECK_INT(ftruncate(fd, 500LL * 1024 * 1024), 0);
    close(fd);
    CHECK_INT(filecheck_file(p, 0, &fi), 0);
    CHECK_INT(fi.bytes, 500LL * 1024 * 1024);

    /* The caller's smaller limit (SKILL.md frontmatter: 200 MB). */
    CHECK_INT(filecheck_file(p, 200LL * 1024 * 1024, &fi), -1);
    CHECK_CONTAINS(fi.reason, "over the 200.0 MB upload limit");
    unlink(p);
}

TEST(upload_roots)
{
    filecheck_info fi;
    char in[512], out[512], p[512], link[512], sib[512], roots[1200];

    path_in(in, sizeof in, "up");
    path_in(out, sizeof out, "elsewhere");
    path_in(sib, sizeof sib, "up-sibling");
    mkdir(in, 0755);
    mkdir(out, 0755);
    mkdir(sib, 0755);
    write_file("up/ok.mp4", "\0\0\0\x18" "ftypisom", 12);
    write_file("elsewhere/secret.mp4", "\0\0\0\x18" "ftypisom", 12);
    write_file("up-sibling/near.mp4", "\0\0\0\x18" "ftypisom", 12);
    /* Roots given with a trailing slash and a missing dir in the list. */
    snprintf(roots, sizeof roots, "/nonexistent-nemo-root::%s/", in);
    setenv("NEMO_UPLOAD_ROOTS", roots, 1);

    CHECK_INT(check_name("up/ok.mp4", 0, &fi), 0);
    CHECK_INT(check_name("elsewhere/secret.mp4", 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "outside the folders uploads are allowed from");
    /* /x/up must not admit /x/up-sibling. */
    CHECK_INT(check_name("up-sibling/near.mp4", 0, &fi), -1);
    /* A symlink inside the root that points outside it. */
    path_in(link, sizeof link, "up/innocent.mp4");
    path_in(p, sizeof p, "elsewhere/secret.mp4");
    CHECK_INT(symlink(p, link), 0);
    CHECK_INT(filecheck_file(link, 0, &fi), -1);
    CHECK_CONTAINS(fi.reason, "elsewhere/secret.mp4 is outside");
    /* A path that climbs out with "..". */
    path_in(p, sizeof p, "up/../elsewhere/secret.mp4");
    CHECK_INT(filecheck_file(p, 0, &fi), -1);
    /* A symlinked root is resolved too. */
    path_in(link, sizeof link, "rootlink");
    CHECK_INT(symlink(in, link), 0);
    setenv("NEMO_UPLOAD_ROOTS", link, 1);
    CHECK_INT(check_name("up/ok.mp4", 0, &fi), 0);
    CHECK_INT(check_name("elsewhere/secret.mp4", 0, &fi), -1);
    /* Only nonexistent roots: nothing may be uploaded. */
    setenv("NEMO_UPLOAD_ROOTS", "/nonexistent-nemo-root", 1);
    CHECK_INT(check_name("up/ok.mp4", 0, &fi), -1);
    /* "/" admits everything; unset and empty mean no restriction. */
    setenv("NEMO_UPLOAD_ROOTS", "/", 1);
    CHECK_INT(check_name("elsewhere/secret.mp4", 0, &fi), 0);
    setenv("NEMO_UPLOAD_ROOTS", "", 1);
    CHECK_INT(check_name("elsewhere/secret.mp4", 0, &fi), 0);
    unsetenv("NEMO_UPLOAD_ROOTS");
    CHECK_INT(check_name("elsewhere/secret.mp4", 0, &fi), 0);
}

TEST(urls)
{
    char why[256];
    static const char *const ok[] = {
        "https://example.com/a.mp4", "http://127.0.0.1:8080/x",
        "HTTPS://cdn.example.com", "https://user:pw@host.example/v?a=1#f",
        "https://[::1]:443/v.mp4",
    };
    static const char *const bad[] = {
        "ftp://example.com/a.mp4", "file:///etc/passwd", "https://",
        "https:///path", "https://:80/x", "http://exa mple.com/",
        "https://example.com/\na", "javascript:alert(1)", "example.com/a.mp4",
        "https://user@/x", "https://[]/x", "",
    };
    size_t i;

    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (filecheck_url(ok[i], why, sizeof why) != 0) {
            printf("#   %s refused: %s\n", ok[i], why);
            CHECK(0);
        }
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (filecheck_url(bad[i], why, sizeof why) == 0) {
            printf("#   %s accepted\n", bad[i]);
            CHECK(0);
        }
        CHECK(why[0] != '\0');
    }
    CHECK_INT(filecheck_url("ftp://x/y", why, sizeof why), -1);
    CHECK_CONTAINS(why, "only http and https");
}

static void rm_rf(const char *path)
{
    char cmd[600];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nemo-filecheck-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    unsetenv("NEMO_UPLOAD_ROOTS");
    RUN(accepted_types_and_their_magic);
    RUN(mismatched_magic_is_rejected_with_what_it_is);
    RUN(wrong_or_missing_extension);
    RUN(not_regular_files);
    RUN(unreadable_file);
    RUN(empty_and_too_large);
    RUN(upload_roots);
    RUN(urls);
    rm_rf(dir);
    return unit_done();
}
