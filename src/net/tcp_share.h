/* tcp_share.h: the hook through which a cluster worker's TCP servers
 * listen on a socket its primary owns (src/cluster/worker.c sets it).
 *
 * The network layer cannot name the cluster (it sits below it), so the
 * cluster registers these functions once, and tcp.c calls them for a
 * handle whose bind they took (priv.share set). */
#ifndef EDDY_NET_TCP_SHARE_H
#define EDDY_NET_TCP_SHARE_H

#include "eddy/tcp.h"

struct eddy__tcp_share_hooks {
  /* eddy_tcp_bind, checked: remember addr and flags (set tcp->priv.share)
   * or do the bind now. Returns as eddy_tcp_bind. */
  int (*bind)(eddy_tcp_t *tcp, const struct sockaddr *addr, unsigned flags);
  /* eddy_listen on a handle with priv.share. Returns as eddy_listen. */
  int (*listen)(eddy_tcp_t *tcp, int backlog, eddy_connection_cb cb);
  /* The handle connects instead: bind for real, forget the share. */
  int (*unshare)(eddy_tcp_t *tcp);
  /* The handle is closing: forget the share. */
  void (*forget)(eddy_tcp_t *tcp);
};

/* NULL (the default) or the hooks; set on the loop's thread before any
 * TCP handle binds. */
void eddy__tcp_set_share_hooks(const struct eddy__tcp_share_hooks *hooks);
/* The bind eddy_tcp_bind does without hooks. */
int eddy__tcp_bind_local(eddy_tcp_t *tcp, const struct sockaddr *addr,
                         unsigned flags);
/* Give a handle with no descriptor the shared socket fd (its owner now). */
int eddy__tcp_adopt_shared(eddy_tcp_t *tcp, int fd);

#endif /* EDDY_NET_TCP_SHARE_H */
