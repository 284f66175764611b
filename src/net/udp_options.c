/* udp_options.c: UDP socket options and multicast membership. Each maps
 * one call to setsockopt(2), choosing the IPv4 or IPv6 option by the
 * socket's family. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/handle.h"
#include "eddy/addr.h"
#include "eddy/udp.h"
#include "net/udp_internal.h"

static int eddy__udp_closing(const eddy_udp_t *udp) {
  return eddy__handle_closing(&udp->handle);
}

static int eddy__udp_fd(const eddy_udp_t *udp) {
  if (eddy__udp_closing(udp))
    return EDDY_EINVAL;
  return udp->priv.io.fd >= 0 ? udp->priv.io.fd : EDDY_EBADF;
}

static int eddy__udp_setopt(const eddy_udp_t *udp, int level, int name,
                            const void *value, socklen_t len) {
  int fd = eddy__udp_fd(udp);

  if (fd < 0)
    return fd;
  return setsockopt(fd, level, name, value, len) == 0 ? 0 : -errno;
}

/* An int option that has one name per IP family. */
static int eddy__udp_setopt_ip(const eddy_udp_t *udp, int v4name, int v6name,
                               int value) {
  int fd = eddy__udp_fd(udp);

  if (fd < 0)
    return fd;
  if (udp->priv.family == AF_INET6)
    return eddy__udp_setopt(udp, IPPROTO_IPV6, v6name, &value, sizeof(value));
  if (udp->priv.family == AF_INET)
    return eddy__udp_setopt(udp, IPPROTO_IP, v4name, &value, sizeof(value));
  return EDDY_ENOTSUP;
}

int eddy_udp_set_broadcast(eddy_udp_t *udp, int on) {
  on = on != 0;
  return eddy__udp_setopt(udp, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
}

int eddy_udp_set_ttl(eddy_udp_t *udp, int ttl) {
  if (eddy__udp_closing(udp) || ttl < 1 || ttl > 255)
    return EDDY_EINVAL;
  return eddy__udp_setopt_ip(udp, IP_TTL, IPV6_UNICAST_HOPS, ttl);
}

int eddy_udp_set_multicast_ttl(eddy_udp_t *udp, int ttl) {
  if (eddy__udp_closing(udp) || ttl < 0 || ttl > 255)
    return EDDY_EINVAL;
  return eddy__udp_setopt_ip(udp, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, ttl);
}

int eddy_udp_set_multicast_loop(eddy_udp_t *udp, int on) {
  return eddy__udp_setopt_ip(udp, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP,
                             on != 0);
}

/* An IPv4 interface address (NULL: any), as multicast options take it. */
static int eddy__udp_iface4(const char *iface, struct in_addr *out) {
  if (iface == NULL) {
    out->s_addr = htonl(INADDR_ANY);
    return 0;
  }
  return eddy_inet_pton(AF_INET, iface, out);
}

/* An IPv6 interface index from an address's zone (NULL: 0, any). */
static int eddy__udp_iface6(const char *iface, unsigned *index) {
  struct sockaddr_in6 a6;
  int err;

  *index = 0;
  if (iface == NULL)
    return 0;
  err = eddy_ip6_addr(iface, 0, &a6);
  if (err != 0)
    return EDDY_EINVAL;
  *index = a6.sin6_scope_id;
  return 0;
}

int eddy_udp_set_multicast_interface(eddy_udp_t *udp,
                                     const char *interface_addr) {
  struct in_addr a4;
  unsigned index;
  int fd = eddy__udp_fd(udp);

  if (fd < 0)
    return fd;
  if (udp->priv.family == AF_INET) {
    if (eddy__udp_iface4(interface_addr, &a4) != 0)
      return EDDY_EINVAL;
    return eddy__udp_setopt(udp, IPPROTO_IP, IP_MULTICAST_IF, &a4, sizeof(a4));
  }
  if (udp->priv.family == AF_INET6) {
    if (eddy__udp_iface6(interface_addr, &index) != 0)
      return EDDY_EINVAL;
    return eddy__udp_setopt(udp, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
                            sizeof(index));
  }
  return EDDY_ENOTSUP;
}

static int eddy__udp_membership4(eddy_udp_t *udp, const struct in_addr *group,
                                 const char *iface, int join) {
  struct ip_mreq mreq;
  int err;

  memset(&mreq, 0, sizeof(mreq));
  mreq.imr_multiaddr = *group;
  if (eddy__udp_iface4(iface, &mreq.imr_interface) != 0)
    return EDDY_EINVAL;
  err = eddy__udp_lazy(udp, AF_INET, EDDY_UDP_REUSEADDR);
  if (err != 0)
    return err;
  return eddy__udp_setopt(udp, IPPROTO_IP,
                          join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq,
                          sizeof(mreq));
}

static int eddy__udp_membership6(eddy_udp_t *udp, const struct in6_addr *group,
                                 const char *iface, int join) {
  struct ipv6_mreq mreq;
  unsigned index;
  int err;

  memset(&mreq, 0, sizeof(mreq));
  mreq.ipv6mr_multiaddr = *group;
  if (eddy__udp_iface6(iface, &index) != 0)
    return EDDY_EINVAL;
  mreq.ipv6mr_interface = index;
  err = eddy__udp_lazy(udp, AF_INET6, EDDY_UDP_REUSEADDR);
  if (err != 0)
    return err;
  return eddy__udp_setopt(udp, IPPROTO_IPV6,
                          join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mreq,
                          sizeof(mreq));
}

int eddy_udp_set_membership(eddy_udp_t *udp, const char *multicast_addr,
                            const char *interface_addr,
                            eddy_membership membership) {
  struct in_addr a4;
  struct in6_addr a6;
  int join = membership == EDDY_JOIN_GROUP;

  if (eddy__udp_closing(udp) || multicast_addr == NULL ||
      (membership != EDDY_JOIN_GROUP && membership != EDDY_LEAVE_GROUP))
    return EDDY_EINVAL;
  if (eddy_inet_pton(AF_INET, multicast_addr, &a4) == 0)
    return eddy__udp_membership4(udp, &a4, interface_addr, join);
  if (eddy_inet_pton(AF_INET6, multicast_addr, &a6) == 0)
    return eddy__udp_membership6(udp, &a6, interface_addr, join);
  return EDDY_EINVAL;
}

#ifdef IP_ADD_SOURCE_MEMBERSHIP
static int eddy__udp_source4(eddy_udp_t *udp, const char *group,
                             const char *iface, const char *source, int join) {
  struct ip_mreq_source mreq;
  int err;

  memset(&mreq, 0, sizeof(mreq));
  if (eddy_inet_pton(AF_INET, group, &mreq.imr_multiaddr) != 0 ||
      eddy_inet_pton(AF_INET, source, &mreq.imr_sourceaddr) != 0 ||
      eddy__udp_iface4(iface, &mreq.imr_interface) != 0)
    return EDDY_EINVAL;
  err = eddy__udp_lazy(udp, AF_INET, EDDY_UDP_REUSEADDR);
  if (err != 0)
    return err;
  return eddy__udp_setopt(udp, IPPROTO_IP,
                          join ? IP_ADD_SOURCE_MEMBERSHIP
                               : IP_DROP_SOURCE_MEMBERSHIP,
                          &mreq, sizeof(mreq));
}
#endif

#ifdef MCAST_JOIN_SOURCE_GROUP
static int eddy__udp_source6(eddy_udp_t *udp, const char *group,
                             const char *iface, const char *source, int join) {
  struct group_source_req req;
  struct sockaddr_in6 g, s;
  unsigned index;
  int err;

  if (eddy_ip6_addr(group, 0, &g) != 0 || eddy_ip6_addr(source, 0, &s) != 0 ||
      eddy__udp_iface6(iface, &index) != 0)
    return EDDY_EINVAL;
  memset(&req, 0, sizeof(req));
  req.gsr_interface = index;
  memcpy(&req.gsr_group, &g, sizeof(g));
  memcpy(&req.gsr_source, &s, sizeof(s));
  err = eddy__udp_lazy(udp, AF_INET6, EDDY_UDP_REUSEADDR);
  if (err != 0)
    return err;
  return eddy__udp_setopt(udp, IPPROTO_IPV6,
                          join ? MCAST_JOIN_SOURCE_GROUP
                               : MCAST_LEAVE_SOURCE_GROUP,
                          &req, sizeof(req));
}
#endif

int eddy_udp_set_source_membership(eddy_udp_t *udp, const char *multicast_addr,
                                   const char *interface_addr,
                                   const char *source_addr,
                                   eddy_membership membership) {
  struct in_addr a4;
  int join = membership == EDDY_JOIN_GROUP;

  if (eddy__udp_closing(udp) || multicast_addr == NULL || source_addr == NULL ||
      (membership != EDDY_JOIN_GROUP && membership != EDDY_LEAVE_GROUP))
    return EDDY_EINVAL;
  if (eddy_inet_pton(AF_INET, multicast_addr, &a4) == 0) {
#ifdef IP_ADD_SOURCE_MEMBERSHIP
    return eddy__udp_source4(udp, multicast_addr, interface_addr, source_addr,
                             join);
#else
    return EDDY_ENOSYS;
#endif
  }
#ifdef MCAST_JOIN_SOURCE_GROUP
  return eddy__udp_source6(udp, multicast_addr, interface_addr, source_addr,
                           join);
#else
  (void)join;
  return EDDY_ENOSYS;
#endif
}
