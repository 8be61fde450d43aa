/* netaddr.h - what kind of address is this? (loopback, private, ...)
 *
 * Links handed over by the backend (download URLs, redirects) may only
 * lead to public addresses: otherwise a hostile backend could make the
 * user's machine call its own local services or its LAN. The HTTP code
 * classifies the address it is about to connect to with these pure
 * functions. */
#ifndef NEMO_NETADDR_H
#define NEMO_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

typedef enum {
    NETADDR_PUBLIC = 0,
    NETADDR_LOOPBACK,       /* 127/8, ::1 */
    NETADDR_PRIVATE,        /* 10/8, 172.16/12, 192.168/16, fec0::/10 */
    NETADDR_LINK_LOCAL,     /* 169.254/16, fe80::/10 */
    NETADDR_ULA,            /* fc00::/7 */
    NETADDR_UNSPECIFIED,    /* 0/8, :: */
    NETADDR_SHARED,         /* 100.64/10 (carrier-grade NAT) */
    NETADDR_MULTICAST,      /* 224/4, ff00::/8 */
    NETADDR_RESERVED,       /* documentation, benchmarking, 240/4, ... */
    NETADDR_INVALID         /* not an address */
} netaddr_class;

/* a[4], network byte order. */
netaddr_class netaddr_classify_v4(const unsigned char *a);
/* a[16]; v4-mapped, NAT64 and 6to4 addresses are judged by the IPv4
 * address they carry. */
netaddr_class netaddr_classify_v6(const unsigned char *a);
/* "192.0.2.1", "::1", "[fe80::1%eth0]" (strict: inet_pton forms only). */
netaddr_class netaddr_classify_text(const char *ip);
netaddr_class netaddr_classify_sockaddr(const struct sockaddr *sa,
                                        size_t len);
/* "a loopback address", ... for messages. */
const char *netaddr_class_name(netaddr_class c);
/* Text form of sa into out ("?" when it cannot be printed). */
void netaddr_sockaddr_text(const struct sockaddr *sa, size_t len, char *out,
                           size_t n);

#endif
