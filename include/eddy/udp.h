/* eddy/udp.h: UDP sockets (libuv's uv_udp, Node's dgram).
 *
 * A UDP handle owns one datagram socket, non-blocking and close-on-exec.
 * The socket is made lazily by the first bind, connect, send, membership
 * change or recv_start, in the family of the address given (recv_start
 * alone makes an IPv4 socket bound to 0.0.0.0, port 0), unless
 * eddy_udp_init_ex() names a family or eddy_udp_open() adopts one. Lazily
 * made sockets are bound to the wildcard address at once (port 0), so
 * eddy_udp_getsockname() works right after the first send.
 *
 * Sending. eddy_udp_send() hands the datagram to the kernel at once when
 * nothing is queued; its callback still runs later, from the loop's next
 * pending phase, never inside eddy_udp_send(). When the kernel has no room
 * (EAGAIN) the send is queued and the handle watches for writability;
 * queued sends leave in submission order (batched with sendmmsg on Linux)
 * and their callbacks run in that order. A send request counts as active
 * (keeps the loop alive) until its callback has run.
 *
 * Receiving. Between eddy_udp_recv_start() and eddy_udp_recv_stop(), each
 * readiness event reads at most EDDY_UDP_READS_PER_EVENT datagrams, so one
 * busy socket cannot starve the rest of the loop. Before each read the
 * allocator is asked for a buffer.
 *
 * Closing (eddy_close). The socket is closed at once; no read callback
 * runs afterwards, except to finish a batch in progress (see
 * eddy_udp_recv_cb). In the close phase, just before the close callback,
 * every send callback still due runs, in submission order: sends the
 * kernel had taken with their own status, queued ones with
 * EDDY_ECANCELED.
 *
 * Functions return 0 (or a count) or a negative error. Once eddy_close()
 * was called, those that act on the socket return EDDY_EINVAL (fileno:
 * EDDY_EBADF; recv_stop: 0). Loop thread only; none of them runs a
 * callback before returning.
 */
#ifndef EDDY_UDP_H
#define EDDY_UDP_H

#include "export.h"

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of eddy_udp_bind, eddy_udp_init_ex and the receive callback. The
 * values are libuv's. */
enum {
  EDDY_UDP_IPV6ONLY = 1,   /* bind: IPv6 only, no IPv4-mapped traffic */
  EDDY_UDP_PARTIAL = 2,    /* recv: datagram truncated to the buffer */
  EDDY_UDP_REUSEADDR = 4,  /* bind: SO_REUSEADDR, share the address */
  EDDY_UDP_MMSG_CHUNK = 8, /* recv: buf is a slot inside a batch buffer */
  EDDY_UDP_MMSG_FREE = 16, /* recv: end of a batch, buf is returned */
  /* bind (Linux): IP_RECVERR / IPV6_RECVERR, so that ICMP errors (an
   * unreachable port, a route that fails) reach the receive callback as
   * nread < 0 (EDDY_ECONNREFUSED, EDDY_EHOSTUNREACH, ...) instead of being
   * dropped by the kernel for an unconnected socket. Ignored elsewhere. */
  EDDY_UDP_LINUX_RECVERR = 32,
  EDDY_UDP_RECVMMSG = 256, /* init_ex: receive in batches (recvmmsg) */
  /* bind: SO_REUSEPORT, several sockets on one address with the kernel
   * spreading datagrams among them (EDDY_ENOTSUP where it cannot) */
  EDDY_UDP_REUSEPORT = 512
};

/* eddy_udp_set_membership / eddy_udp_set_source_membership. */
typedef enum { EDDY_LEAVE_GROUP = 0, EDDY_JOIN_GROUP = 1 } eddy_membership;

/* Receive limits. A datagram slot is 64 KiB (the largest UDP payload
 * fits); a batch uses at most EDDY_UDP_MMSG_SLOTS slots. */
#define EDDY_UDP_DGRAM_MAX 65536
#define EDDY_UDP_MMSG_SLOTS 16
#define EDDY_UDP_READS_PER_EVENT 32

typedef struct eddy_udp_s eddy_udp_t;
typedef struct eddy_udp_send_s eddy_udp_send_t;

/* status: 0 once the kernel took the datagram, EDDY_ECANCELED if the
 * handle was closed first, or the send error (EDDY_EMSGSIZE,
 * EDDY_ENETUNREACH, EDDY_ECONNREFUSED, ...). */
typedef void (*eddy_udp_send_cb)(eddy_udp_send_t *req, int status);

/* One call per datagram, end of input or error:
 *   nread > 0, addr set     a datagram of nread bytes from addr
 *   nread == 0, addr set    an empty datagram from addr
 *   nread == 0, addr NULL   nothing more to read now; buf is handed back
 *   nread < 0               an error (addr NULL): EDDY_ENOBUFS when the
 *                           allocator gave no buffer, or the socket's error
 *                           (EDDY_ECONNREFUSED on a connected socket, ...)
 * flags: EDDY_UDP_PARTIAL if the datagram was longer than the buffer (the
 * rest is lost), EDDY_UDP_MMSG_CHUNK / EDDY_UDP_MMSG_FREE (batches below).
 *
 * Buffer ownership, one rule for both modes: the buffer the allocator gave
 * comes back to the program in exactly one callback, the first one whose
 * flags lack EDDY_UDP_MMSG_CHUNK; free or reuse it there. Without
 * EDDY_UDP_RECVMMSG no callback has that flag, so every callback returns
 * its buffer, as in libuv.
 *
 * Batches (EDDY_UDP_RECVMMSG, Linux): the allocator is asked for
 * EDDY_UDP_MMSG_SLOTS * EDDY_UDP_DGRAM_MAX bytes and its buffer is cut
 * into EDDY_UDP_DGRAM_MAX-byte slots (at most EDDY_UDP_MMSG_SLOTS). One
 * recvmmsg fills several slots; the callback then runs once per datagram
 * with EDDY_UDP_MMSG_CHUNK and buf = that slot (inside the buffer: do not
 * free it), then once more with nread 0, addr NULL, EDDY_UDP_MMSG_FREE and
 * buf = the whole buffer. A batch always completes: if the callback stops
 * receiving or closes the handle meanwhile, the rest of the batch (already
 * taken from the kernel) and the FREE call are still delivered, to the
 * callback the batch started with. A buffer smaller than one slot is used
 * for a single plain read. */
typedef void (*eddy_udp_recv_cb)(eddy_udp_t *udp, ssize_t nread,
                                 const eddy_buf_t *buf,
                                 const struct sockaddr *addr, unsigned flags);

struct eddy_udp_s {
  eddy_handle_t handle;
  /* Read only: bytes and requests accepted by eddy_udp_send() that the
   * kernel has not taken yet (what backpressure should watch). */
  size_t send_queue_size;
  size_t send_queue_count;
  struct {
    eddy_io_t io;
    eddy_alloc_cb alloc_cb;
    eddy_udp_recv_cb recv_cb;
    eddy_queue_t send_queue; /* accepted, waiting for the kernel */
    eddy_queue_t completed;  /* sent or failed, callback not yet run */
    int family;              /* the socket's, AF_UNSPEC before it exists */
    unsigned flags;          /* EDDY__UDP_* in udp.c */
  } priv;
};

struct eddy_udp_send_s {
  eddy_req_t req;     /* req.data is yours */
  eddy_udp_t *handle; /* read only */
  struct {
    eddy_udp_send_cb cb;
    eddy_queue_t node; /* the handle's send_queue, then completed */
    eddy_buf_t *bufs;  /* while queued: bufsml or a heap copy */
    unsigned nbufs;
    int status;
    socklen_t addrlen; /* 0: no address (connected socket) */
    struct sockaddr_storage addr;
    eddy_buf_t bufsml[4];
  } priv;
};

/* Initialise a handle; no socket yet (see the top of this file). Returns
 * 0. */
EDDY_EXTERN int eddy_udp_init(eddy_loop_t *loop, eddy_udp_t *udp);

/* Like eddy_udp_init, with flags: the low 8 bits an address family
 * (AF_UNSPEC: lazily, as eddy_udp_init; AF_INET, AF_INET6 or AF_UNIX: the
 * socket is made now, unbound) and optionally EDDY_UDP_RECVMMSG (batched
 * receives; accepted and ignored where recvmmsg does not exist). Returns
 * EDDY_EINVAL for another family or unknown bits, or the socket(2) error
 * (EDDY_EMFILE, EDDY_EAFNOSUPPORT, ...), in which case the handle is not
 * initialised. */
EDDY_EXTERN int eddy_udp_init_ex(eddy_loop_t *loop, eddy_udp_t *udp,
                                 unsigned flags);

/* Adopt an existing datagram socket, which is made non-blocking; the
 * handle closes it on eddy_close. A connected socket is detected (send
 * then takes no address). Its close-on-exec flag is left as it is.
 * Returns EDDY_EBUSY if the handle has a socket already, EDDY_EBADF for a
 * descriptor that is not open, EDDY_EEXIST for one a started handle of
 * this loop watches, EDDY_ENOTSOCK for one that is no socket. */
EDDY_EXTERN int eddy_udp_open(eddy_udp_t *udp, int fd);

/* Bind to addr (AF_INET or AF_INET6, the port may be 0; or a struct
 * sockaddr_un: a Unix datagram socket at that path, which the program
 * unlinks when done). Sends to a sockaddr_un from a handle without a
 * socket use an unnamed Unix datagram socket. flags:
 * EDDY_UDP_REUSEADDR (several sockets share the address; each must set
 * it), EDDY_UDP_REUSEPORT, EDDY_UDP_LINUX_RECVERR (see the flags),
 * EDDY_UDP_IPV6ONLY (IPv6 addresses only). Returns EDDY_EINVAL for
 * other flags, IPV6ONLY with IPv4, another family, or a socket already
 * bound; EDDY_EADDRINUSE, EDDY_EADDRNOTAVAIL, EDDY_EACCES from bind(2). */
EDDY_EXTERN int eddy_udp_bind(eddy_udp_t *udp, const struct sockaddr *addr,
                              unsigned flags);

/* Connect to addr: sends then take no address and only datagrams from
 * addr are received. A NULL addr disconnects. Returns EDDY_EISCONN if
 * already connected (disconnect first), EDDY_ENOTCONN when disconnecting
 * a handle that is not connected, EDDY_EINVAL for another family, or the
 * connect(2) error. */
EDDY_EXTERN int eddy_udp_connect(eddy_udp_t *udp, const struct sockaddr *addr);

/* The local / remote address. *namelen is the size of name on entry and
 * the address length on return. Returns EDDY_EBADF before the socket
 * exists, EDDY_ENOTCONN (peer) when not connected, EDDY_EINVAL for NULL
 * arguments. */
EDDY_EXTERN int eddy_udp_getsockname(const eddy_udp_t *udp,
                                     struct sockaddr *name, int *namelen);
EDDY_EXTERN int eddy_udp_getpeername(const eddy_udp_t *udp,
                                     struct sockaddr *name, int *namelen);

/* The socket descriptor, or EDDY_EBADF before it exists or once closed.
 * Do not close it yourself. */
EDDY_EXTERN int eddy_udp_fileno(const eddy_udp_t *udp);

/* Send one datagram made of nbufs buffers (nbufs may be 0: an empty
 * datagram). addr must be NULL on a connected handle and set otherwise.
 * req and the bytes the buffers point to must stay valid until cb (may be
 * NULL) runs; the bufs array and *addr are copied when needed, so they may
 * be reused at once. Returns 0 (cb will run), or
 * EDDY_EDESTADDRREQ (no addr, not connected), EDDY_EISCONN (addr on a
 * connected handle), EDDY_EINVAL (NULL req, NULL bufs with nbufs > 0,
 * another address family, a closing handle), EDDY_ENOMEM, or an error
 * making the socket. Errors of the send itself go to cb. */
EDDY_EXTERN int eddy_udp_send(eddy_udp_send_t *req, eddy_udp_t *udp,
                              const eddy_buf_t bufs[], unsigned nbufs,
                              const struct sockaddr *addr, eddy_udp_send_cb cb);

/* Send now or not at all: returns the bytes sent, EDDY_EAGAIN if the
 * kernel has no room or sends are queued (they must go first), or the
 * errors of eddy_udp_send and of sendmsg(2). Never queues, no callback. */
EDDY_EXTERN int eddy_udp_try_send(eddy_udp_t *udp, const eddy_buf_t bufs[],
                                  unsigned nbufs, const struct sockaddr *addr);

/* Several datagrams at once (sendmmsg on Linux, a loop elsewhere):
 * datagram i is bufs[i] (nbufs[i] buffers) to addrs[i] (NULL entries, or
 * addrs NULL, on a connected handle). flags must be 0. Returns how many
 * datagrams the kernel took (from the first: fewer than count when it ran
 * out of room), or an error if it took none: EDDY_EAGAIN (no room, or
 * sends are queued), EDDY_EINVAL (count 0 or more than 1024, NULL arrays,
 * flags), the errors of eddy_udp_try_send. */
EDDY_EXTERN int eddy_udp_try_send2(eddy_udp_t *udp, unsigned int count,
                                   eddy_buf_t *bufs[], unsigned int nbufs[],
                                   struct sockaddr *addrs[],
                                   unsigned int flags);

/* Start receiving (see eddy_udp_recv_cb). Returns EDDY_EINVAL for a NULL
 * callback, EDDY_EALREADY if already receiving, an error making the
 * socket, or EDDY_ENOMEM. */
EDDY_EXTERN int eddy_udp_recv_start(eddy_udp_t *udp, eddy_alloc_cb alloc_cb,
                                    eddy_udp_recv_cb recv_cb);

/* Stop receiving; no read callback runs after it (except the rest of a
 * batch in progress, see eddy_udp_recv_cb). Returns 0. */
EDDY_EXTERN int eddy_udp_recv_stop(eddy_udp_t *udp);

/* Non-zero if the handle receives in batches (EDDY_UDP_RECVMMSG on a
 * system that has recvmmsg). */
EDDY_EXTERN int eddy_udp_using_recvmmsg(const eddy_udp_t *udp);

/* The send_queue_size and send_queue_count fields, as functions. */
EDDY_EXTERN size_t eddy_udp_get_send_queue_size(const eddy_udp_t *udp);
EDDY_EXTERN size_t eddy_udp_get_send_queue_count(const eddy_udp_t *udp);

/* Socket options. All return EDDY_EBADF before the socket exists (except
 * membership changes, which make it), EDDY_EINVAL for a value out of
 * range, or the setsockopt(2) error. */

/* SO_BROADCAST on (non-zero) or off. */
EDDY_EXTERN int eddy_udp_set_broadcast(eddy_udp_t *udp, int on);

/* Unicast TTL / hop limit, 1..255. */
EDDY_EXTERN int eddy_udp_set_ttl(eddy_udp_t *udp, int ttl);

/* Multicast TTL / hop limit, 0..255 (0: this host only). */
EDDY_EXTERN int eddy_udp_set_multicast_ttl(eddy_udp_t *udp, int ttl);

/* Whether multicast datagrams sent come back to this host's members. */
EDDY_EXTERN int eddy_udp_set_multicast_loop(eddy_udp_t *udp, int on);

/* The interface multicast datagrams leave by: an IPv4 address of it for
 * an IPv4 socket; for an IPv6 socket an address whose "%zone" names it
 * (e.g. "::%eth0"). NULL lets the kernel choose. Returns EDDY_EINVAL for
 * an address that does not parse in the socket's family. */
EDDY_EXTERN int eddy_udp_set_multicast_interface(eddy_udp_t *udp,
                                                 const char *interface_addr);

/* Join or leave a multicast group (IPv4 or IPv6, by the text of
 * multicast_addr) on the interface interface_addr names (as above; NULL:
 * the kernel's choice). Makes the socket if there is none yet: bound to
 * the wildcard address, port 0, with SO_REUSEADDR. Returns EDDY_EINVAL for
 * malformed addresses or a bad membership value, EDDY_ENODEV when no
 * interface can reach the group, EDDY_EADDRNOTAVAIL when leaving a group
 * not joined. */
EDDY_EXTERN int eddy_udp_set_membership(eddy_udp_t *udp,
                                        const char *multicast_addr,
                                        const char *interface_addr,
                                        eddy_membership membership);

/* Like eddy_udp_set_membership, receiving only from source_addr
 * (source-specific multicast); source and group in the same family. */
EDDY_EXTERN int eddy_udp_set_source_membership(eddy_udp_t *udp,
                                               const char *multicast_addr,
                                               const char *interface_addr,
                                               const char *source_addr,
                                               eddy_membership membership);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_UDP_H */
