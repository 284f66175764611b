/* eddy/tcp.h: TCP streams (eddy/stream.h has reading, writing, listen).
 *
 * The socket is created by eddy_tcp_init_ex, or on the first bind, connect
 * or listen, with the family of the address given; it is non-blocking and
 * close-on-exec. Options set before the socket exists are applied when it
 * is created.
 */
#ifndef EDDY_TCP_H
#define EDDY_TCP_H

#include "export.h"

#include <sys/socket.h>

#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  EDDY_TCP_IPV6ONLY = 1,  /* bind: an IPv6 socket that refuses IPv4 */
  EDDY_TCP_REUSEPORT = 2  /* bind: SO_REUSEPORT, the kernel spreads
                             connections over the sockets that share it */
};

typedef struct eddy_tcp_s {
  eddy_stream_t stream;
  struct {
    unsigned options; /* remembered nodelay/keepalive */
    unsigned keepalive_delay; /* idle seconds before the first probe */
    unsigned keepalive_intvl; /* seconds between probes */
    unsigned keepalive_cnt;   /* unanswered probes before it is dead */
    struct eddy__tcp_share *share; /* a cluster worker's shared server */
  } priv;
} eddy_tcp_t;

/* Initialise a TCP handle without a socket. Returns 0. */
EDDY_EXTERN int eddy_tcp_init(eddy_loop_t *loop, eddy_tcp_t *tcp);

/* Initialise and create the socket now, of family AF_INET or AF_INET6
 * (AF_UNSPEC: no socket, like eddy_tcp_init). Returns 0, EDDY_EINVAL, or
 * socket(2)'s error (EDDY_EMFILE, ...); on error nothing is initialised. */
EDDY_EXTERN int eddy_tcp_init_ex(eddy_loop_t *loop, eddy_tcp_t *tcp,
                                 int family);

/* Adopt an existing socket (made non-blocking). Returns 0, EDDY_EBUSY (the
 * handle already has a socket), EDDY_EEXIST (a started handle of this loop
 * watches fd), EDDY_EINVAL (closing) or EDDY_EBADF. */
EDDY_EXTERN int eddy_tcp_open(eddy_tcp_t *tcp, int fd);

/* Bind to addr (sockaddr_in or sockaddr_in6). SO_REUSEADDR is always set,
 * so a restarted server can rebind at once. flags: EDDY_TCP_IPV6ONLY,
 * EDDY_TCP_REUSEPORT. Returns 0, EDDY_EINVAL (bad flags or family),
 * EDDY_EADDRINUSE, EDDY_EADDRNOTAVAIL, EDDY_ENOTSUP (REUSEPORT
 * unsupported). The error comes from the call that caused it: libuv keeps
 * a bind error for the next listen or connect, eddy returns it here (a
 * kernel that reports EADDRINUSE only at listen gives it there). */
EDDY_EXTERN int eddy_tcp_bind(eddy_tcp_t *tcp, const struct sockaddr *addr,
                              unsigned flags);

/* Connect to addr; cb gets 0 or the error (EDDY_ECONNREFUSED, ...), never
 * before eddy_tcp_connect returns. Returns 0, EDDY_EALREADY (a connect is
 * in progress), EDDY_EISCONN, EDDY_EINVAL or socket(2)'s error. */
EDDY_EXTERN int eddy_tcp_connect(eddy_connect_t *req, eddy_tcp_t *tcp,
                                 const struct sockaddr *addr,
                                 eddy_connect_cb cb);

/* TCP_NODELAY (on: send small writes at once). Returns 0 or an error. */
EDDY_EXTERN int eddy_tcp_nodelay(eddy_tcp_t *tcp, int on);

/* SO_KEEPALIVE with the first probe after delay_s idle seconds, then one
 * a second, ten before the connection is declared dead (as libuv >= 1.49;
 * delay_s ignored when off, >= 1 when on). Kept for a socket made later.
 * Returns 0, EDDY_EINVAL (delay_s 0, a closing handle) or an error. */
EDDY_EXTERN int eddy_tcp_keepalive(eddy_tcp_t *tcp, int on, unsigned delay_s);

/* SO_KEEPALIVE with every parameter: the first probe after idle_s idle
 * seconds, then one every intvl_s seconds; cnt unanswered probes end the
 * connection (its reads and writes then fail with EDDY_ETIMEDOUT). All
 * three >= 1 when on, ignored when off. Returns as eddy_tcp_keepalive. */
EDDY_EXTERN int eddy_tcp_keepalive_ex(eddy_tcp_t *tcp, int on, unsigned idle_s,
                                      unsigned intvl_s, unsigned cnt);

/* The local / peer address, into name with *namelen its size on entry and
 * the address length on return. Returns 0, EDDY_EBADF (no socket),
 * EDDY_ENOTCONN (peer of an unconnected socket). */
EDDY_EXTERN int eddy_tcp_getsockname(const eddy_tcp_t *tcp,
                                     struct sockaddr *name, int *namelen);
EDDY_EXTERN int eddy_tcp_getpeername(const eddy_tcp_t *tcp,
                                     struct sockaddr *name, int *namelen);

/* Close with a reset: the peer gets ECONNRESET instead of EOF (SO_LINGER
 * with a zero timeout). Queued writes are cancelled as with eddy_close.
 * Returns 0, EDDY_EINVAL (closing already, or a shutdown is pending). */
EDDY_EXTERN int eddy_tcp_close_reset(eddy_tcp_t *tcp, eddy_close_cb close_cb);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_TCP_H */
