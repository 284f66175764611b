/* eddy/addr.h: IP address helpers (text <-> binary), libuv-shaped.
 *
 * Plain functions with no loop and no state: any thread. Each returns 0 or
 * a negative error:
 *   EDDY_EINVAL        malformed text, a NULL argument, a port out of range
 *   EDDY_ENOSPC        the output buffer is too small (it then holds ""
 *                      when size > 0)
 *   EDDY_EAFNOSUPPORT  a family other than AF_INET / AF_INET6
 *   EDDY_ENODEV        an IPv6 "%zone" that names no interface
 *
 * Buffers of EDDY_IP4_NAMELEN / EDDY_IP6_NAMELEN bytes always suffice
 * (the IPv6 size includes room for a "%zone" suffix).
 */
#ifndef EDDY_ADDR_H
#define EDDY_ADDR_H

#include "export.h"

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "errno.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for "255.255.255.255" and for a full IPv6 address plus "%" and an
 * interface name or number, both with the terminating NUL. */
#define EDDY_IP4_NAMELEN 16
#define EDDY_IP6_NAMELEN (46 + 1 + 16)

/* Fill *addr (zeroed first) from a dotted-quad ip and a port (0..65535,
 * host order). Returns EDDY_EINVAL for a malformed ip or a bad port. */
EDDY_EXTERN int eddy_ip4_addr(const char *ip, int port,
                              struct sockaddr_in *addr);

/* Fill *addr (zeroed first) from an IPv6 ip and a port (0..65535). ip may
 * end in "%zone" for link-local addresses: an interface name ("eth0") or
 * number ("2"), stored in sin6_scope_id. Returns EDDY_EINVAL for a
 * malformed ip or a bad port, EDDY_ENODEV for an unknown interface name. */
EDDY_EXTERN int eddy_ip6_addr(const char *ip, int port,
                              struct sockaddr_in6 *addr);

/* Write src's address (no port) as text into dst, NUL-terminated. Returns
 * EDDY_ENOSPC if size is too small. */
EDDY_EXTERN int eddy_ip4_name(const struct sockaddr_in *src, char *dst,
                              size_t size);

/* Like eddy_ip4_name for IPv6. A non-zero sin6_scope_id is appended as
 * "%name" (or "%number" when the interface is unknown), as Node reports
 * link-local addresses, so the text goes back through eddy_ip6_addr. */
EDDY_EXTERN int eddy_ip6_name(const struct sockaddr_in6 *src, char *dst,
                              size_t size);

/* eddy_ip4_name or eddy_ip6_name, by src->sa_family; EDDY_EAFNOSUPPORT
 * for any other family. */
EDDY_EXTERN int eddy_ip_name(const struct sockaddr *src, char *dst,
                             size_t size);

/* Text to binary: dst receives a struct in_addr (AF_INET) or a struct
 * in6_addr (AF_INET6). An IPv6 "%zone" suffix is accepted and ignored (an
 * in6_addr has no room for it; use eddy_ip6_addr to keep it). Returns
 * EDDY_EINVAL for malformed text, EDDY_EAFNOSUPPORT for another family. */
EDDY_EXTERN int eddy_inet_pton(int af, const char *src, void *dst);

/* Binary to text: src is a struct in_addr or struct in6_addr. Returns
 * EDDY_ENOSPC if size is too small, EDDY_EAFNOSUPPORT for another
 * family. */
EDDY_EXTERN int eddy_inet_ntop(int af, const void *src, char *dst, size_t size);

/* The length of the socket address sa points to, for bind/connect/sendto:
 * sizeof(struct sockaddr_in) or sizeof(struct sockaddr_in6). Returns
 * EDDY_EINVAL for NULL, EDDY_EAFNOSUPPORT for another family. */
EDDY_EXTERN int eddy_sockaddr_len(const struct sockaddr *sa);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_ADDR_H */
