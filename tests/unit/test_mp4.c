/* test_mp4.c - the pure checks behind downloads and resumed exports:
 * the ISO-BMFF top-level structure (streamed and on disk), SHA-256, and
 * the classification of network addresses. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>

#include "nemo/mp4.h"
#include "nemo/netaddr.h"
#include "nemo/sha256.h"
#include "unit.h"

/* A box of type t with n payload bytes of 'x', appended at out[*len]. */
static void box(unsigned char *out, size_t *len, const char *t, size_t n)
{
    size_t size = 8 + n;

    out[*len] = (unsigned char)(size >> 24);
    out[*len + 1] = (unsigned char)(size >> 16);
    out[*len + 2] = (unsigned char)(size >> 8);
    out[*len + 3] = (unsigned char)size;
    memcpy(out + *len + 4, t, 4);
    memset(out + *len + 8, 'x', n);
    *len += size;
}

/* ftyp(24) moov(40) mdat(100) */
static size_t good_mp4(unsigned char *out)
{
    size_t len = 0;

    box(out, &len, "ftyp", 16);
    box(out, &len, "moov", 32);
    box(out, &len, "mdat", 92);
    return len;
}

TEST(mp4_whole_files)
{
    unsigned char b[512];
    char why[200];
    size_t n = good_mp4(b), len;

    CHECK_INT(mp4_check_parse(b, n, why, sizeof why), 0);
    /* truncated, padded, empty */
    CHECK_INT(mp4_check_parse(b, n - 1, why, sizeof why), -1);
    CHECK_CONTAINS(why, "truncated");
    b[n] = 0;
    CHECK_INT(mp4_check_parse(b, n + 1, why, sizeof why), -1);
    CHECK_INT(mp4_check_parse(b, 0, why, sizeof why), -1);
    CHECK_CONTAINS(why, "empty");
    /* no moov */
    len = 0;
    box(b, &len, "ftyp", 16);
    box(b, &len, "mdat", 10);
    CHECK_INT(mp4_check_parse(b, len, why, sizeof why), -1);
    CHECK_CONTAINS(why, "moov");
    /* ftyp not first */
    len = 0;
    box(b, &len, "moov", 16);
    box(b, &len, "ftyp", 16);
    CHECK_INT(mp4_check_parse(b, len, why, sizeof why), -1);
    CHECK_CONTAINS(why, "ftyp");
}

TEST(mp4_shell_script_with_ftyp_is_refused)
{
    static const char evil[] = "#   ftypisom\necho owned > /tmp/x\n";
    char why[200];

    CHECK_INT(mp4_check_parse(evil, sizeof evil - 1, why, sizeof why), -1);
    CHECK_CONTAINS(why, "ftyp box has an implausible size");
}

TEST(mp4_size_zero_and_largesize)
{
    unsigned char b[512];
    char why[200];
    size_t len = 0;

    box(b, &len, "ftyp", 16);
    box(b, &len, "moov", 8);
    memcpy(b + len, "\0\0\0\0mdat", 8);      /* size 0: to the end */
    len += 8 + 50;
    CHECK_INT(mp4_check_parse(b, len, why, sizeof why), 0);
    /* largesize: size 1, then 64-bit 16 + 20 */
    len = 0;
    box(b, &len, "ftyp", 16);
    box(b, &len, "moov", 8);
    memcpy(b + len, "\0\0\0\1mdat\0\0\0\0\0\0\0\x24", 16);
    len += 36;
    CHECK_INT(mp4_check_parse(b, len, why, sizeof why), 0);
    CHECK_INT(mp4_check_parse(b, len - 1, why, sizeof why), -1);
    /* largesize smaller than its header */
    b[len - 21] = 8;
    CHECK_INT(mp4_check_parse(b, len, why, sizeof why), -1);
    /* sizes 2..7 and a size that overflows */
    len = 0;
    box(b, &len, "ftyp", 16);
    memcpy(b + len, "\0\0\0\3moov", 8);
    CHECK_INT(mp4_check_parse(b, len + 8, why, sizeof why), -1);
    memcpy(b + len, "\0\0\0\1moov\xff\xff\xff\xff\xff\xff\xff\xf0", 16);
    CHECK_INT(mp4_check_parse(b, len + 16, why, sizeof why), -1);
    CHECK_CONTAINS(why, "overflow");
}

TEST(mp4_streaming_in_every_split)
{
    unsigned char b[512];
    size_t n = good_mp4(b), cut, i;
    mp4_scan s;
    int ok = 1;

    /* one byte at a time, and split at every offset */
    mp4_scan_init(&s);
    for (i = 0; i < n; i++)
        ok &= mp4_scan_feed(&s, b + i, 1) == 0;
    CHECK(ok && mp4_scan_finish(&s) == 0);
    for (cut = 0; cut <= n; cut++) {
        mp4_scan_init(&s);
        if (mp4_scan_feed(&s, b, cut) != 0 ||
            mp4_scan_feed(&s, b + cut, n - cut) != 0 ||
            mp4_scan_finish(&s) != 0)
            ok = 0;
    }
    CHECK(ok);
    /* a bad start fails at once, before the end is seen */
    mp4_scan_init(&s);
    CHECK_INT(mp4_scan_feed(&s, "<html><body>", 12), -1);
    CHECK_INT(mp4_scan_feed(&s, "more", 4), -1);
}

TEST(mp4_on_disk)
{
    unsigned char b[512];
    char path[] = "/tmp/nemo-mp4-XXXXXX", why[200];
    size_t n = good_mp4(b);
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    CHECK_INT(write(fd, b, n), (long long)n);
    CHECK_INT(mp4_check_fd(fd, why, sizeof why), 0);
    CHECK_INT(write(fd, "junk", 4), 4);
    CHECK_INT(mp4_check_fd(fd, why, sizeof why), -1);
    CHECK_INT(ftruncate(fd, 0), 0);
    CHECK_INT(write(fd, "# shell\n", 8), 8);
    CHECK_INT(mp4_check_fd(fd, why, sizeof why), -1);
    close(fd);
    fd = open("tests/fixtures/sample.mp4", O_RDONLY);
    CHECK_INT(mp4_check_fd(fd, why, sizeof why), 0);
    close(fd);
    unlink(path);
}

static void sha(const char *in, size_t n, char *hex)
{
    sha256_ctx c;

    sha256_init(&c);
    sha256_update(&c, in, n);
    sha256_final_hex(&c, hex);
}

TEST(sha256_vectors)
{
    static char million[1000000];
    char hex[SHA256_HEX_LEN + 1];
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnop"
                      "nopq";
    sha256_ctx c;
    size_t i;

    sha("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                   "7852b855");
    sha("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
                   "f20015ad");
    sha(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
                   "19db06c1");
    /* a million 'a', fed in odd pieces */
    memset(million, 'a', sizeof million);
    sha256_init(&c);
    for (i = 0; i < sizeof million; i += 997)
        sha256_update(&c, million + i,
                      sizeof million - i < 997 ? sizeof million - i : 997);
    sha256_final_hex(&c, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39cc"
                   "c7112cd0");
}

TEST(sha256_of_a_file)
{
    char path[] = "/tmp/nemo-sha-XXXXXX", hex[SHA256_HEX_LEN + 1];
    long long bytes = -1;
    int fd = mkstemp(path);

    CHECK_INT(write(fd, "abc", 3), 3);
    CHECK_INT(sha256_fd(fd, -1, &bytes, hex), 0);
    CHECK_INT(bytes, 3);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
                   "f20015ad");
    CHECK_INT(sha256_fd(fd, 2, &bytes, hex), -1);    /* longer than max */
    close(fd);
    unlink(path);
}

TEST(address_classes)
{
    static const struct {
        const char *ip;
        netaddr_class c;
    } cases[] = {
        { "8.8.8.8", NETADDR_PUBLIC },
        { "93.184.216.34", NETADDR_PUBLIC },
        { "127.0.0.1", NETADDR_LOOPBACK },
        { "127.255.1.2", NETADDR_LOOPBACK },
        { "0.0.0.0", NETADDR_UNSPECIFIED },
        { "0.1.2.3", NETADDR_UNSPECIFIED },
        { "10.0.0.1", NETADDR_PRIVATE },
        { "172.16.0.1", NETADDR_PRIVATE },
        { "172.31.255.255", NETADDR_PRIVATE },
        { "172.32.0.1", NETADDR_PUBLIC },
        { "192.168.1.1", NETADDR_PRIVATE },
        { "169.254.169.254", NETADDR_LINK_LOCAL },
        { "100.64.0.1", NETADDR_SHARED },
        { "100.128.0.1", NETADDR_PUBLIC },
        { "224.0.0.1", NETADDR_MULTICAST },
        { "255.255.255.255", NETADDR_RESERVED },
        { "198.18.0.1", NETADDR_RESERVED },
        { "::1", NETADDR_LOOPBACK },
        { "[::1]", NETADDR_LOOPBACK },
        { "::", NETADDR_UNSPECIFIED },
        { "::ffff:127.0.0.1", NETADDR_LOOPBACK },
        { "::ffff:10.1.2.3", NETADDR_PRIVATE },
        { "::ffff:8.8.8.8", NETADDR_PUBLIC },
        { "64:ff9b::7f00:1", NETADDR_LOOPBACK },
        { "2002:c0a8:0101::1", NETADDR_PRIVATE },
        { "::127.0.0.1", NETADDR_RESERVED },
        { "fe80::1", NETADDR_LINK_LOCAL },
        { "[fe80::1%eth0]", NETADDR_LINK_LOCAL },
        { "fc00::1", NETADDR_ULA },
        { "fd12:3456::1", NETADDR_ULA },
        { "fec0::1", NETADDR_PRIVATE },
        { "ff02::1", NETADDR_MULTICAST },
        { "2001:db8::1", NETADDR_RESERVED },
        { "2606:4700::1111", NETADDR_PUBLIC },
        { "2a00:1450:4001::200e", NETADDR_PUBLIC },
        { "localhost", NETADDR_INVALID },
        { "127.1", NETADDR_INVALID },
        { "", NETADDR_INVALID },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        netaddr_class got = netaddr_classify_text(cases[i].ip);

        if (got != cases[i].c)
            printf("#   %s: %s\n", cases[i].ip, netaddr_class_name(got));
        CHECK_INT(got, cases[i].c);
    }
}

TEST(address_of_a_socket)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    char text[64];

    memset(&v4, 0, sizeof v4);
    v4.sin_family = AF_INET;
    v4.sin_addr.s_addr = htonl(0x7f000001);
    CHECK_INT(netaddr_classify_sockaddr((struct sockaddr *)&v4, sizeof v4),
              NETADDR_LOOPBACK);
    netaddr_sockaddr_text((struct sockaddr *)&v4, sizeof v4, text,
                          sizeof text);
    CHECK_STR(text, "127.0.0.1");
    CHECK_INT(netaddr_classify_sockaddr((struct sockaddr *)&v4, 4),
              NETADDR_INVALID);
    memset(&v6, 0, sizeof v6);
    v6.sin6_family = AF_INET6;
    v6.sin6_addr.s6_addr[10] = 0xff;
    v6.sin6_addr.s6_addr[11] = 0xff;
    v6.sin6_addr.s6_addr[12] = 192;
    v6.sin6_addr.s6_addr[13] = 168;
    CHECK_INT(netaddr_classify_sockaddr((struct sockaddr *)&v6, sizeof v6),
              NETADDR_PRIVATE);
}

int main(void)
{
    RUN(mp4_whole_files);
    RUN(mp4_shell_script_with_ftyp_is_refused);
    RUN(mp4_size_zero_and_largesize);
    RUN(mp4_streaming_in_every_split);
    RUN(mp4_on_disk);
    RUN(sha256_vectors);
    RUN(sha256_of_a_file);
    RUN(address_classes);
    RUN(address_of_a_socket);
    return unit_done();
}
