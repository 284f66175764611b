/* addr.c: IP address helpers over inet_pton/inet_ntop, with IPv6 zones. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy/addr.h"

/* Longest IPv6 text without a zone, with its NUL (INET6_ADDRSTRLEN). */
#define EDDY__IP6_TEXT 46

static int eddy__port_ok(int port) {
  return port >= 0 && port <= 65535;
}

/* Leave "" in dst for a failed conversion, so nobody prints garbage. */
static int eddy__no_space(char *dst, size_t size) {
  if (dst != NULL && size > 0)
    dst[0] = '\0';
  return EDDY_ENOSPC;
}

int eddy_ip4_addr(const char *ip, int port, struct sockaddr_in *addr) {
  if (ip == NULL || addr == NULL || !eddy__port_ok(port))
    return EDDY_EINVAL;
  memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, ip, &addr->sin_addr) != 1)
    return EDDY_EINVAL;
  return 0;
}

/* A zone is an interface number ("2") or name ("eth0"). */
static int eddy__parse_zone(const char *zone, uint32_t *scope) {
  char *end;
  unsigned long n;

  if (*zone == '\0')
    return EDDY_EINVAL;
  if (*zone >= '0' && *zone <= '9') {
    errno = 0;
    n = strtoul(zone, &end, 10);
    if (*end != '\0' || errno != 0 || n > UINT32_MAX)
      return EDDY_EINVAL;
    *scope = (uint32_t)n;
    return 0;
  }
  *scope = if_nametoindex(zone);
  return *scope != 0 ? 0 : EDDY_ENODEV;
}

/* Split "addr%zone" into the address text (copied into head) and the zone
 * (NULL when there is none). */
static int eddy__split_zone(const char *ip, char head[EDDY__IP6_TEXT],
                            const char **zone) {
  const char *pct = strchr(ip, '%');
  size_t len = pct != NULL ? (size_t)(pct - ip) : strlen(ip);

  if (len >= EDDY__IP6_TEXT)
    return EDDY_EINVAL;
  memcpy(head, ip, len);
  head[len] = '\0';
  *zone = pct != NULL ? pct + 1 : NULL;
  return 0;
}

int eddy_ip6_addr(const char *ip, int port, struct sockaddr_in6 *addr) {
  char head[EDDY__IP6_TEXT];
  const char *zone;
  uint32_t scope = 0;
  int err;

  if (ip == NULL || addr == NULL || !eddy__port_ok(port))
    return EDDY_EINVAL;
  memset(addr, 0, sizeof(*addr));
  addr->sin6_family = AF_INET6;
  addr->sin6_port = htons((uint16_t)port);
  err = eddy__split_zone(ip, head, &zone);
  if (err != 0)
    return err;
  if (inet_pton(AF_INET6, head, &addr->sin6_addr) != 1)
    return EDDY_EINVAL;
  if (zone != NULL) {
    err = eddy__parse_zone(zone, &scope);
    if (err != 0)
      return err;
  }
  addr->sin6_scope_id = scope;
  return 0;
}

int eddy_ip4_name(const struct sockaddr_in *src, char *dst, size_t size) {
  if (src == NULL)
    return EDDY_EINVAL;
  return eddy_inet_ntop(AF_INET, &src->sin_addr, dst, size);
}

int eddy_ip6_name(const struct sockaddr_in6 *src, char *dst, size_t size) {
  char text[EDDY_IP6_NAMELEN];
  char ifname[IF_NAMESIZE];
  size_t len;
  int err;

  if (src == NULL || dst == NULL)
    return EDDY_EINVAL;
  err = eddy_inet_ntop(AF_INET6, &src->sin6_addr, text, sizeof(text));
  if (err != 0)
    return err;
  len = strlen(text);
  if (src->sin6_scope_id != 0) {
    if (if_indextoname(src->sin6_scope_id, ifname) != NULL)
      snprintf(text + len, sizeof(text) - len, "%%%s", ifname);
    else
      snprintf(text + len, sizeof(text) - len, "%%%u",
               (unsigned)src->sin6_scope_id);
    len = strlen(text);
  }
  if (len >= size)
    return eddy__no_space(dst, size);
  memcpy(dst, text, len + 1);
  return 0;
}

int eddy_ip_name(const struct sockaddr *src, char *dst, size_t size) {
  if (src == NULL)
    return EDDY_EINVAL;
  switch (src->sa_family) {
  case AF_INET:
    return eddy_ip4_name((const struct sockaddr_in *)src, dst, size);
  case AF_INET6:
    return eddy_ip6_name((const struct sockaddr_in6 *)src, dst, size);
  default:
    return EDDY_EAFNOSUPPORT;
  }
}

int eddy_inet_pton(int af, const char *src, void *dst) {
  char head[EDDY__IP6_TEXT];
  const char *zone;
  int err;

  if (src == NULL || dst == NULL)
    return EDDY_EINVAL;
  switch (af) {
  case AF_INET:
    return inet_pton(AF_INET, src, dst) == 1 ? 0 : EDDY_EINVAL;
  case AF_INET6:
    err = eddy__split_zone(src, head, &zone);
    if (err != 0)
      return err;
    return inet_pton(AF_INET6, head, dst) == 1 ? 0 : EDDY_EINVAL;
  default:
    return EDDY_EAFNOSUPPORT;
  }
}

int eddy_inet_ntop(int af, const void *src, char *dst, size_t size) {
  if (af != AF_INET && af != AF_INET6)
    return EDDY_EAFNOSUPPORT;
  if (src == NULL || dst == NULL)
    return EDDY_EINVAL;
  /* socklen_t is narrower than size_t; no address text needs more. */
  if (size > EDDY_IP6_NAMELEN)
    size = EDDY_IP6_NAMELEN;
  if (inet_ntop(af, src, dst, (socklen_t)size) == NULL)
    return eddy__no_space(dst, size);
  return 0;
}

int eddy_sockaddr_len(const struct sockaddr *sa) {
  if (sa == NULL)
    return EDDY_EINVAL;
  switch (sa->sa_family) {
  case AF_INET:
    return (int)sizeof(struct sockaddr_in);
  case AF_INET6:
    return (int)sizeof(struct sockaddr_in6);
  default:
    return EDDY_EAFNOSUPPORT;
  }
}
