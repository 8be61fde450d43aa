/* netaddr.c - address classification by prefix tables (see netaddr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nemo/netaddr.h"

typedef struct {
    unsigned char prefix[16];
    unsigned bits;
    netaddr_class cls;
} netaddr_range;

/* IANA special-purpose registry, the parts that are not reachable public
 * hosts. Longest prefixes need no ordering: ranges do not overlap. */
static const netaddr_range netaddr_v4[] = {
    { { 0 }, 8, NETADDR_UNSPECIFIED },
    { { 10 }, 8, NETADDR_PRIVATE },
    { { 100, 64 }, 10, NETADDR_SHARED },
    { { 127 }, 8, NETADDR_LOOPBACK },
    { { 169, 254 }, 16, NETADDR_LINK_LOCAL },
    { { 172, 16 }, 12, NETADDR_PRIVATE },
    { { 192, 0, 0 }, 24, NETADDR_RESERVED },
    { { 192, 0, 2 }, 24, NETADDR_RESERVED },
    { { 192, 88, 99 }, 24, NETADDR_RESERVED },
    { { 192, 168 }, 16, NETADDR_PRIVATE },
    { { 198, 18 }, 15, NETADDR_RESERVED },
    { { 198, 51, 100 }, 24, NETADDR_RESERVED },
    { { 203, 0, 113 }, 24, NETADDR_RESERVED },
    { { 224 }, 4, NETADDR_MULTICAST },
    { { 240 }, 4, NETADDR_RESERVED },
};

static const netaddr_range netaddr_v6[] = {
    { { 0 }, 128, NETADDR_UNSPECIFIED },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128,
      NETADDR_LOOPBACK },
    { { 0 }, 96, NETADDR_RESERVED },                  /* v4-compatible */
    { { 0x01 }, 64, NETADDR_RESERVED },               /* 100::/64 discard */
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, NETADDR_RESERVED },  /* docs */
    { { 0x20, 0x01 }, 23, NETADDR_RESERVED },         /* IETF, Teredo */
    { { 0xfc }, 7, NETADDR_ULA },
    { { 0xfe, 0x80 }, 10, NETADDR_LINK_LOCAL },
    { { 0xfe, 0xc0 }, 10, NETADDR_PRIVATE },          /* site-local */
    { { 0xff }, 8, NETADDR_MULTICAST },
};

/* IPv6 prefixes that carry an IPv4 address: prefix, its length, where the
 * IPv4 address sits. */
static const struct {
    unsigned char prefix[12];
    unsigned bits;
    unsigned v4_at;
} netaddr_embed[] = {
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 12 },  /* mapped */
    { { 0, 0x64, 0xff, 0x9b }, 96, 12 },                         /* NAT64 */
    { { 0x20, 0x02 }, 16, 2 },                                   /* 6to4 */
};

static int netaddr_match(const unsigned char *a, const unsigned char *p,
                         unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;

    if (memcmp(a, p, full) != 0)
        return 0;
    return rest == 0 ||
           ((a[full] ^ p[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

static netaddr_class netaddr_lookup(const unsigned char *a,
                                    const netaddr_range *t, size_t n)
{
    size_t i, best = n;

    for (i = 0; i < n; i++)
        if (netaddr_match(a, t[i].prefix, t[i].bits) &&
            (best == n || t[i].bits > t[best].bits))
            best = i;
    return best == n ? NETADDR_PUBLIC : t[best].cls;
}

netaddr_class netaddr_classify_v4(const unsigned char *a)
{
    return netaddr_lookup(a, netaddr_v4,
                          sizeof netaddr_v4 / sizeof netaddr_v4[0]);
}

netaddr_class netaddr_classify_v6(const unsigned char *a)
{
    size_t i;

    for (i = 0; i < sizeof netaddr_embed / sizeof netaddr_embed[0]; i++)
        if (netaddr_match(a, netaddr_embed[i].prefix, netaddr_embed[i].bits))
            return netaddr_classify_v4(a + netaddr_embed[i].v4_at);
    return netaddr_lookup(a, netaddr_v6,
                          sizeof netaddr_v6 / sizeof netaddr_v6[0]);
}

netaddr_class netaddr_classify_text(const char *ip)
{
    unsigned char a[16];
    char bare[64];
    size_t n;

    if (!ip || !*ip)
        return NETADDR_INVALID;
    n = strlen(ip);
    if (ip[0] == '[') {
        if (n < 3 || ip[n - 1] != ']')
            return NETADDR_INVALID;
        ip++;
        n -= 2;
    }
    if (n >= sizeof bare)
        return NETADDR_INVALID;
    memcpy(bare, ip, n);
    bare[n] = '\0';
    if (strchr(bare, '%'))          /* a zone id does not change the kind */
        *strchr(bare, '%') = '\0';
    if (inet_pton(AF_INET, bare, a) == 1)
        return netaddr_classify_v4(a);
    if (inet_pton(AF_INET6, bare, a) == 1)
        return netaddr_classify_v6(a);
    return NETADDR_INVALID;
}

netaddr_class netaddr_classify_sockaddr(const struct sockaddr *sa,
                                        size_t len)
{
    if (!sa)
        return NETADDR_INVALID;
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
        return netaddr_classify_v4((const unsigned char *)&(
            (const struct sockaddr_in *)(const void *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
        return netaddr_classify_v6((const unsigned char *)&(
            (const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return NETADDR_INVALID;
}

const char *netaddr_class_name(netaddr_class c)
{
    static const char *const names[] = {
        [NETADDR_PUBLIC] = "a public address",
        [NETADDR_LOOPBACK] = "a loopback address (this machine)",
        [NETADDR_PRIVATE] = "a private network address",
        [NETADDR_LINK_LOCAL] = "a link-local address",
        [NETADDR_ULA] = "a unique local (private) IPv6 address",
        [NETADDR_UNSPECIFIED] = "an unspecified address (this machine)",
        [NETADDR_SHARED] = "a carrier-grade NAT address",
        [NETADDR_MULTICAST] = "a multicast address",
        [NETADDR_RESERVED] = "a reserved address",
        [NETADDR_INVALID] = "not an address",
    };

    return (unsigned)c < sizeof names / sizeof names[0] ? names[c]
                                                        : "not an address";
}

void netaddr_sockaddr_text(const struct sockaddr *sa, size_t len, char *out,
                           size_t n)
{
    const void *a = NULL;

    if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
        a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa && sa->sa_family == AF_INET6 &&
             len >= sizeof(struct sockaddr_in6))
        a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (!a || !inet_ntop(sa->sa_family, a, out, (socklen_t)n))
        snprintf(out, n, "?");
}
