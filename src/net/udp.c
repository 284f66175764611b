/* udp.c: UDP handles: lazy sockets, a send queue drained in order
 * (sendmmsg where it exists), bounded reads per readiness event (recvmmsg
 * batches on request). Socket options live in udp_options.c.
 *
 * A send request lives on one of two handle lists: send_queue while the
 * kernel has not taken it, then completed until its callback runs. A send
 * the kernel takes at once goes straight to completed and the watcher is
 * fed to the pending phase, so no callback runs inside eddy_udp_send.
 * completed is always drained from its head, which keeps callbacks in
 * submission order whichever path a request took. */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "eddy/addr.h"
#include "eddy/udp.h"
#include "net/udp_internal.h"

/* udp->priv.flags */
enum {
  EDDY__UDP_CONNECTED = 1 << 0,
  EDDY__UDP_READING = 1 << 1,
  EDDY__UDP_RECVMMSG = 1 << 2,
  EDDY__UDP_RECVERR = 1 << 3 /* errors queued by IP_RECVERR are drained */
};

#if defined(__linux__)
#define EDDY__UDP_HAVE_MMSG 1
#endif

/* How many queued sends one sendmmsg call may carry. */
#define EDDY__UDP_SEND_BATCH 32

#ifdef MSG_NOSIGNAL
#define EDDY__UDP_SEND_FLAGS MSG_NOSIGNAL
#else
#define EDDY__UDP_SEND_FLAGS 0
#endif

static void eddy__udp_io(eddy_loop_t *loop, eddy_io_t *io, unsigned events);

/* errno to an eddy error, folding EWOULDBLOCK into EAGAIN where they
 * differ. */
static int eddy__udp_err(int e) {
  return e == EWOULDBLOCK ? EDDY_EAGAIN : -e;
}

static size_t eddy__bufs_bytes(const eddy_buf_t *bufs, unsigned nbufs) {
  size_t n = 0;
  unsigned i;

  for (i = 0; i < nbufs; i++)
    n += bufs[i].len;
  return n;
}

/* ---- the socket ---------------------------------------------------- */

/* A new non-blocking, close-on-exec datagram socket, or a negative
 * error. */
static int eddy__udp_socket(int family) {
  int fd;
  int err;

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  /* One call, so no fork on another thread sees the fd inheritable. */
  fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  err = fd < 0 ? -errno : 0;
#else
  fd = socket(family, SOCK_DGRAM, 0);
  if (fd < 0)
    return -errno;
  err = eddy__set_nonblock(fd, 1);
  if (err == 0)
    err = eddy__set_cloexec(fd, 1);
  if (err != 0)
    close(fd);
#endif
  return err != 0 ? err : fd;
}

static void eddy__udp_adopt(eddy_udp_t *udp, int fd, int family) {
  eddy__io_init(&udp->priv.io, eddy__udp_io, fd);
  udp->priv.family = family;
}

/* Undo a socket made by a call that then failed. Nothing watches it yet. */
static void eddy__udp_unmake(eddy_udp_t *udp) {
  close(udp->priv.io.fd);
  eddy__udp_adopt(udp, -1, AF_UNSPEC);
}

/* IP_RECVERR for the socket's family (Linux; elsewhere nothing to do). */
static int eddy__udp_set_recverr(int fd, int family) {
#ifdef __linux__
  int on = 1;

  if (family == AF_INET6)
    return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on)) != 0
               ? -errno
               : 0;
  if (family == AF_INET)
    return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)) != 0
               ? -errno
               : 0;
#else
  (void)fd;
  (void)family;
#endif
  return 0;
}

static int eddy__udp_bind_fd(int fd, const struct sockaddr *addr, socklen_t len,
                             unsigned flags) {
  int on = 1;

  if ((flags & EDDY_UDP_REUSEADDR) &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
    return -errno;
  if (flags & EDDY_UDP_REUSEPORT) {
#ifdef SO_REUSEPORT
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
      return errno == ENOPROTOOPT ? EDDY_ENOTSUP : -errno;
#else
    return EDDY_ENOTSUP;
#endif
  }
  if ((flags & EDDY_UDP_LINUX_RECVERR) != 0) {
    int err = eddy__udp_set_recverr(fd, addr->sa_family);

    if (err != 0)
      return err;
  }
  if ((flags & EDDY_UDP_IPV6ONLY) &&
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
    return -errno;
  if (bind(fd, addr, len) != 0)
    /* An address of the other family than the socket's. */
    return errno == EAFNOSUPPORT ? EDDY_EINVAL : -errno;
  return 0;
}

/* Bind, making the socket first if there is none (and dropping it again
 * if the bind fails, so a later call may pick another family). */
static int eddy__udp_bind(eddy_udp_t *udp, const struct sockaddr *addr,
                          socklen_t len, unsigned flags) {
  int made = 0;
  int fd;
  int err;

  if (udp->priv.io.fd < 0) {
    fd = eddy__udp_socket(addr->sa_family);
    if (fd < 0)
      return fd;
    eddy__udp_adopt(udp, fd, addr->sa_family);
    made = 1;
  }
  err = eddy__udp_bind_fd(udp->priv.io.fd, addr, len, flags);
  if (err != 0 && made)
    eddy__udp_unmake(udp);
  if (err == 0 && (flags & EDDY_UDP_LINUX_RECVERR))
    udp->priv.flags |= EDDY__UDP_RECVERR;
  return err;
}

/* The length of a destination or local address: IPv4, IPv6, or a Unix
 * datagram socket's path. */
static int eddy__udp_addr_len(const struct sockaddr *addr) {
  if (addr != NULL && addr->sa_family == AF_UNIX)
    return (int)sizeof(struct sockaddr_un);
  return eddy_sockaddr_len(addr);
}

int eddy__udp_lazy(eddy_udp_t *udp, int family, unsigned flags) {
  struct sockaddr_storage any;
  socklen_t len;

  if (udp->priv.io.fd >= 0)
    return 0;
  if (family == AF_UNIX) { /* sends from an unnamed socket: no bind */
    int fd = eddy__udp_socket(AF_UNIX);

    if (fd < 0)
      return fd;
    eddy__udp_adopt(udp, fd, AF_UNIX);
    return 0;
  }
  /* INADDR_ANY and in6addr_any are all zero bits. */
  memset(&any, 0, sizeof(any));
  any.ss_family = (sa_family_t)family;
  len = family == AF_INET6 ? sizeof(struct sockaddr_in6)
                           : sizeof(struct sockaddr_in);
  return eddy__udp_bind(udp, (struct sockaddr *)&any, len, flags);
}

static int eddy__udp_closing(const eddy_udp_t *udp) {
  return eddy__handle_closing(&udp->handle);
}

/* Active while receiving or while a send waits for the kernel or for its
 * callback (libuv's rule). */
static void eddy__udp_update_active(eddy_udp_t *udp) {
  if (eddy__udp_closing(udp))
    return;
  if ((udp->priv.flags & EDDY__UDP_READING) ||
      !eddy__queue_empty(&udp->priv.send_queue) ||
      !eddy__queue_empty(&udp->priv.completed))
    eddy__handle_start(&udp->handle);
  else
    eddy__handle_stop(&udp->handle);
}

/* ---- lifecycle ------------------------------------------------------ */

int eddy_udp_init(eddy_loop_t *loop, eddy_udp_t *udp) {
  return eddy_udp_init_ex(loop, udp, AF_UNSPEC);
}

int eddy_udp_init_ex(eddy_loop_t *loop, eddy_udp_t *udp, unsigned flags) {
  int family = (int)(flags & 0xFFu);
  int fd = -1;

  if ((flags & ~(0xFFu | EDDY_UDP_RECVMMSG)) != 0)
    return EDDY_EINVAL;
  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6 &&
      family != AF_UNIX)
    return EDDY_EINVAL;
  if (family != AF_UNSPEC) {
    fd = eddy__udp_socket(family);
    if (fd < 0)
      return fd;
  }
  eddy__handle_init(loop, &udp->handle, EDDY_UDP);
  udp->send_queue_size = 0;
  udp->send_queue_count = 0;
  udp->priv.alloc_cb = NULL;
  udp->priv.recv_cb = NULL;
  eddy__queue_init(&udp->priv.send_queue);
  eddy__queue_init(&udp->priv.completed);
  udp->priv.flags = 0;
#ifdef EDDY__UDP_HAVE_MMSG
  if (flags & EDDY_UDP_RECVMMSG)
    udp->priv.flags |= EDDY__UDP_RECVMMSG;
#endif
  eddy__udp_adopt(udp, fd, family);
  return 0;
}

int eddy_udp_open(eddy_udp_t *udp, int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int type = 0;
  socklen_t tlen = sizeof(type);
  int err;

  if (eddy__udp_closing(udp))
    return EDDY_EINVAL;
  if (udp->priv.io.fd >= 0)
    return EDDY_EBUSY;
  err = eddy__io_check_fd(udp->handle.loop, fd);
  if (err != 0)
    return err;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0)
    return -errno;
  if (type != SOCK_DGRAM)
    return EDDY_EPROTOTYPE;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
    return -errno;
  err = eddy__set_nonblock(fd, 1);
  if (err != 0)
    return err;
  eddy__udp_adopt(udp, fd, ss.ss_family);
  len = sizeof(ss);
  if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
    udp->priv.flags |= EDDY__UDP_CONNECTED;
  return 0;
}

int eddy_udp_fileno(const eddy_udp_t *udp) {
  return udp->priv.io.fd >= 0 ? udp->priv.io.fd : EDDY_EBADF;
}

int eddy_udp_using_recvmmsg(const eddy_udp_t *udp) {
  return (udp->priv.flags & EDDY__UDP_RECVMMSG) != 0;
}

size_t eddy_udp_get_send_queue_size(const eddy_udp_t *udp) {
  return udp->send_queue_size;
}

size_t eddy_udp_get_send_queue_count(const eddy_udp_t *udp) {
  return udp->send_queue_count;
}

/* ---- addresses ------------------------------------------------------ */

int eddy_udp_bind(eddy_udp_t *udp, const struct sockaddr *addr,
                  unsigned flags) {
  int len;

  if (eddy__udp_closing(udp) || addr == NULL ||
      (flags & ~(unsigned)(EDDY_UDP_IPV6ONLY | EDDY_UDP_REUSEADDR |
                           EDDY_UDP_REUSEPORT | EDDY_UDP_LINUX_RECVERR)) != 0)
    return EDDY_EINVAL;
  len = eddy__udp_addr_len(addr);
  if (len < 0)
    return EDDY_EINVAL;
  if ((flags & EDDY_UDP_IPV6ONLY) && addr->sa_family != AF_INET6)
    return EDDY_EINVAL;
  return eddy__udp_bind(udp, addr, (socklen_t)len, flags);
}

static int eddy__udp_disconnect(eddy_udp_t *udp) {
  struct sockaddr_storage none;

  memset(&none, 0, sizeof(none));
  none.ss_family = AF_UNSPEC;
  /* Some systems refuse AF_UNSPEC yet dissolve the association anyway. */
  if (connect(udp->priv.io.fd, (struct sockaddr *)&none, sizeof(none)) != 0 &&
      errno != EAFNOSUPPORT)
    return -errno;
  udp->priv.flags &= ~(unsigned)EDDY__UDP_CONNECTED;
  return 0;
}

int eddy_udp_connect(eddy_udp_t *udp, const struct sockaddr *addr) {
  int len;
  int err;

  if (eddy__udp_closing(udp))
    return EDDY_EINVAL;
  if (addr == NULL) {
    if (!(udp->priv.flags & EDDY__UDP_CONNECTED))
      return EDDY_ENOTCONN;
    return eddy__udp_disconnect(udp);
  }
  len = eddy__udp_addr_len(addr);
  if (len < 0)
    return EDDY_EINVAL;
  if (udp->priv.flags & EDDY__UDP_CONNECTED)
    return EDDY_EISCONN;
  err = eddy__udp_lazy(udp, addr->sa_family, 0);
  if (err != 0)
    return err;
  do
    err = connect(udp->priv.io.fd, addr, (socklen_t)len);
  while (err != 0 && errno == EINTR);
  if (err != 0) /* EAFNOSUPPORT: an address of another family than ours */
    return errno == EAFNOSUPPORT ? EDDY_EINVAL : -errno;
  udp->priv.flags |= EDDY__UDP_CONNECTED;
  return 0;
}

static int eddy__udp_name(const eddy_udp_t *udp, struct sockaddr *name,
                          int *namelen, int peer) {
  if (eddy__udp_closing(udp))
    return EDDY_EINVAL;
  return eddy__socket_name(udp->priv.io.fd, name, namelen, peer);
}

int eddy_udp_getsockname(const eddy_udp_t *udp, struct sockaddr *name,
                         int *namelen) {
  return eddy__udp_name(udp, name, namelen, 0);
}

int eddy_udp_getpeername(const eddy_udp_t *udp, struct sockaddr *name,
                         int *namelen) {
  return eddy__udp_name(udp, name, namelen, 1);
}

/* ---- sending -------------------------------------------------------- */

/* libuv's rules: a connected handle takes no address, another needs one.
 * Makes the socket for a first send. *len gets the address length. */
static int eddy__udp_check_dest(eddy_udp_t *udp, const struct sockaddr *addr,
                                socklen_t *len) {
  int n;

  *len = 0;
  if (addr == NULL)
    return (udp->priv.flags & EDDY__UDP_CONNECTED) ? 0 : EDDY_EDESTADDRREQ;
  if (udp->priv.flags & EDDY__UDP_CONNECTED)
    return EDDY_EISCONN;
  n = eddy__udp_addr_len(addr);
  if (n < 0)
    return EDDY_EINVAL;
  *len = (socklen_t)n;
  return eddy__udp_lazy(udp, addr->sa_family, 0);
}

static void eddy__udp_msghdr(struct msghdr *msg, const eddy_buf_t *bufs,
                             unsigned nbufs, const void *addr,
                             socklen_t addrlen) {
  memset(msg, 0, sizeof(*msg));
  msg->msg_name = addrlen != 0 ? (void *)addr : NULL;
  msg->msg_namelen = addrlen;
  msg->msg_iov = (struct iovec *)bufs;
  msg->msg_iovlen = nbufs;
}

/* One sendmsg: bytes sent or a negative error. */
static ssize_t eddy__udp_sendmsg(int fd, const eddy_buf_t *bufs, unsigned nbufs,
                                 const void *addr, socklen_t addrlen) {
  struct msghdr msg;
  ssize_t n;

  eddy__udp_msghdr(&msg, bufs, nbufs, addr, addrlen);
  do
    n = sendmsg(fd, &msg, EDDY__UDP_SEND_FLAGS);
  while (n == -1 && errno == EINTR);
  return n >= 0 ? n : eddy__udp_err(errno);
}

/* The request is done (sent, failed or cancelled): off the send queue,
 * onto completed. Its callback runs from eddy__udp_run_completed. */
static void eddy__udp_sent(eddy_udp_t *udp, eddy_udp_send_t *req, int status) {
  assert(udp->send_queue_count > 0);
  eddy__queue_remove(&req->priv.node);
  udp->send_queue_size -= eddy__bufs_bytes(req->priv.bufs, req->priv.nbufs);
  udp->send_queue_count--;
  if (req->priv.bufs != req->priv.bufsml)
    free(req->priv.bufs);
  req->priv.bufs = NULL;
  req->priv.status = status;
  eddy__queue_insert_tail(&udp->priv.completed, &req->priv.node);
}

/* Queue a send the kernel could not take, copying what the caller may
 * reuse after eddy_udp_send returns: the buffer array and the address. */
static int eddy__udp_enqueue(eddy_udp_t *udp, eddy_udp_send_t *req,
                             const eddy_buf_t *bufs, unsigned nbufs,
                             const struct sockaddr *addr, socklen_t addrlen) {
  int err;

  req->priv.bufs = req->priv.bufsml;
  if (nbufs > sizeof(req->priv.bufsml) / sizeof(req->priv.bufsml[0])) {
    req->priv.bufs = malloc(nbufs * sizeof(*bufs));
    if (req->priv.bufs == NULL)
      return EDDY_ENOMEM;
  }
  err = eddy__io_start(udp->handle.loop, &udp->priv.io, EDDY__IO_WRITE);
  if (err != 0) {
    if (req->priv.bufs != req->priv.bufsml)
      free(req->priv.bufs);
    return err;
  }
  if (nbufs > 0)
    memcpy(req->priv.bufs, bufs, nbufs * sizeof(*bufs));
  req->priv.nbufs = nbufs;
  if (addrlen != 0)
    memcpy(&req->priv.addr, addr, addrlen);
  req->priv.addrlen = addrlen;
  eddy__queue_insert_tail(&udp->priv.send_queue, &req->priv.node);
  udp->send_queue_size += eddy__bufs_bytes(bufs, nbufs);
  udp->send_queue_count++;
  return 0;
}

int eddy_udp_send(eddy_udp_send_t *req, eddy_udp_t *udp,
                  const eddy_buf_t bufs[], unsigned nbufs,
                  const struct sockaddr *addr, eddy_udp_send_cb cb) {
  socklen_t addrlen;
  ssize_t n;
  int err;

  if (req == NULL || (bufs == NULL && nbufs > 0) || eddy__udp_closing(udp))
    return EDDY_EINVAL;
  err = eddy__udp_check_dest(udp, addr, &addrlen);
  if (err != 0)
    return err;
  eddy__req_init(&req->req, EDDY_UDP_SEND);
  req->handle = udp;
  req->priv.cb = cb;
  req->priv.bufs = NULL;
  req->priv.nbufs = 0;
  req->priv.status = 0;
  n = EDDY_EAGAIN;
  /* Only an empty queue may be overtaken. */
  if (eddy__queue_empty(&udp->priv.send_queue))
    n = eddy__udp_sendmsg(udp->priv.io.fd, bufs, nbufs, addr, addrlen);
  if (n == EDDY_EAGAIN) {
    err = eddy__udp_enqueue(udp, req, bufs, nbufs, addr, addrlen);
    if (err != 0)
      return err;
  } else {
    req->priv.status = n < 0 ? (int)n : 0;
    eddy__queue_insert_tail(&udp->priv.completed, &req->priv.node);
    eddy__io_feed(udp->handle.loop, &udp->priv.io);
  }
  eddy__req_register(udp->handle.loop, EDDY_UDP_SEND);
  eddy__udp_update_active(udp);
  return 0;
}

int eddy_udp_try_send(eddy_udp_t *udp, const eddy_buf_t bufs[], unsigned nbufs,
                      const struct sockaddr *addr) {
  socklen_t addrlen;
  ssize_t n;
  int err;

  if ((bufs == NULL && nbufs > 0) || eddy__udp_closing(udp))
    return EDDY_EINVAL;
  if (udp->send_queue_count != 0)
    return EDDY_EAGAIN;
  err = eddy__udp_check_dest(udp, addr, &addrlen);
  if (err != 0)
    return err;
  n = eddy__udp_sendmsg(udp->priv.io.fd, bufs, nbufs, addr, addrlen);
  return (int)n;
}

#define EDDY__UDP_TRY_SEND2_MAX 1024

int eddy_udp_try_send2(eddy_udp_t *udp, unsigned int count,
                       eddy_buf_t *bufs[], unsigned int nbufs[],
                       struct sockaddr *addrs[], unsigned int flags) {
  socklen_t addrlen[EDDY__UDP_TRY_SEND2_MAX];
  unsigned i;
  int err;

  if (udp == NULL || count == 0 || count > EDDY__UDP_TRY_SEND2_MAX ||
      bufs == NULL || nbufs == NULL || flags != 0 || eddy__udp_closing(udp))
    return EDDY_EINVAL;
  if (udp->send_queue_count != 0)
    return EDDY_EAGAIN;
  for (i = 0; i < count; i++) {
    if (bufs[i] == NULL && nbufs[i] > 0)
      return EDDY_EINVAL;
    err = eddy__udp_check_dest(udp, addrs != NULL ? addrs[i] : NULL,
                               &addrlen[i]);
    if (err != 0)
      return err;
  }
#ifdef EDDY__UDP_HAVE_MMSG
  {
    struct mmsghdr h[EDDY__UDP_SEND_BATCH];
    unsigned done = 0;

    /* In slices, so the headers stay on the stack. */
    while (done < count) {
      unsigned n = count - done, k;
      int r;

      if (n > EDDY__UDP_SEND_BATCH)
        n = EDDY__UDP_SEND_BATCH;
      for (k = 0; k < n; k++) {
        unsigned j = done + k;

        eddy__udp_msghdr(&h[k].msg_hdr, bufs[j], nbufs[j],
                         addrs != NULL ? addrs[j] : NULL, addrlen[j]);
        h[k].msg_len = 0;
      }
      do
        r = sendmmsg(udp->priv.io.fd, h, n, EDDY__UDP_SEND_FLAGS);
      while (r == -1 && errno == EINTR);
      if (r < 0)
        return done > 0 ? (int)done : eddy__udp_err(errno);
      done += (unsigned)r;
      if ((unsigned)r < n)
        break;
    }
    return (int)done;
  }
#else
  for (i = 0; i < count; i++) {
    ssize_t n = eddy__udp_sendmsg(udp->priv.io.fd, bufs[i], nbufs[i],
                                  addrs != NULL ? addrs[i] : NULL, addrlen[i]);

    if (n < 0)
      return i > 0 ? (int)i : (int)n;
  }
  return (int)count;
#endif
}

static eddy_udp_send_t *eddy__udp_head(eddy_queue_t *q) {
  return eddy__container_of(q->next, eddy_udp_send_t, priv.node);
}

/* Hand the oldest queued sends to the kernel. Returns how many it took
 * (failures count: they are done too) or EDDY_EAGAIN. */
static int eddy__udp_send_some(eddy_udp_t *udp) {
  eddy_udp_send_t *req = eddy__udp_head(&udp->priv.send_queue);
  ssize_t n;

#ifdef EDDY__UDP_HAVE_MMSG
  if (udp->send_queue_count > 1) {
    struct mmsghdr h[EDDY__UDP_SEND_BATCH];
    eddy_udp_send_t *reqs[EDDY__UDP_SEND_BATCH];
    eddy_queue_t *node;
    int count = 0;
    int i, r;

    for (node = udp->priv.send_queue.next;
         node != &udp->priv.send_queue && count < EDDY__UDP_SEND_BATCH;
         node = node->next) {
      req = eddy__container_of(node, eddy_udp_send_t, priv.node);
      reqs[count] = req;
      eddy__udp_msghdr(&h[count].msg_hdr, req->priv.bufs, req->priv.nbufs,
                       &req->priv.addr, req->priv.addrlen);
      h[count].msg_len = 0;
      count++;
    }
    do
      r = sendmmsg(udp->priv.io.fd, h, (unsigned)count, EDDY__UDP_SEND_FLAGS);
    while (r == -1 && errno == EINTR);
    if (r > 0) {
      for (i = 0; i < r; i++)
        eddy__udp_sent(udp, reqs[i], 0);
      return r;
    }
    /* The first datagram failed: it alone carries the error. */
    n = eddy__udp_err(errno);
    if (n == EDDY_EAGAIN)
      return EDDY_EAGAIN;
    eddy__udp_sent(udp, reqs[0], (int)n);
    return 1;
  }
#endif
  n = eddy__udp_sendmsg(udp->priv.io.fd, req->priv.bufs, req->priv.nbufs,
                        &req->priv.addr, req->priv.addrlen);
  if (n == EDDY_EAGAIN)
    return EDDY_EAGAIN;
  eddy__udp_sent(udp, req, n < 0 ? (int)n : 0);
  return 1;
}

/* Send what the kernel takes, in order; stop watching for writability
 * once the queue is empty. */
static void eddy__udp_flush(eddy_udp_t *udp) {
  while (!eddy__queue_empty(&udp->priv.send_queue))
    if (eddy__udp_send_some(udp) == EDDY_EAGAIN)
      break;
  if (eddy__queue_empty(&udp->priv.send_queue))
    eddy__io_stop(udp->handle.loop, &udp->priv.io, EDDY__IO_WRITE);
}

static void eddy__udp_finish_req(eddy_udp_send_t *req) {
  eddy__req_unregister(req->handle->handle.loop, EDDY_UDP_SEND);
  if (req->priv.cb != NULL)
    req->priv.cb(req, req->priv.status);
}

/* Run the callbacks of the requests completed so far, oldest first. Those
 * completed meanwhile (sends made from a callback) wait for their own
 * pending turn. A callback may close the handle: the close hook then runs
 * every remaining one, and this loop finds the list empty. */
static void eddy__udp_run_completed(eddy_udp_t *udp) {
  eddy_loop_t *loop = udp->handle.loop;
  eddy_queue_t *last;
  eddy_queue_t *node;
  int done = 0;

  if (eddy__queue_empty(&udp->priv.completed))
    return;
  last = udp->priv.completed.prev;
  while (!done && !eddy__queue_empty(&udp->priv.completed)) {
    node = udp->priv.completed.next;
    done = node == last;
    eddy__queue_remove(node);
    eddy__udp_finish_req(eddy__container_of(node, eddy_udp_send_t, priv.node));
    eddy__after_callback(loop);
  }
  eddy__udp_update_active(udp);
}

/* ---- receiving ------------------------------------------------------ */

/* Report a read that got no datagram: 0 for "nothing more now" (EAGAIN),
 * else the error. The buffer goes back with it. */
static void eddy__udp_read_end(eddy_udp_t *udp, eddy_udp_recv_cb cb,
                               const eddy_buf_t *buf, int err) {
  cb(udp, err == EDDY_EAGAIN ? 0 : err, buf, NULL, 0);
  eddy__after_callback(udp->handle.loop);
}

static unsigned eddy__udp_msg_flags(int msg_flags) {
  return (msg_flags & MSG_TRUNC) ? EDDY_UDP_PARTIAL : 0;
}

/* An unnamed sender (an AF_UNIX socketpair via eddy_udp_open) leaves the
 * address empty: still report a datagram, with family AF_UNSPEC. */
static const struct sockaddr *eddy__udp_peer(struct sockaddr_storage *ss,
                                             socklen_t len) {
  if (len == 0)
    ss->ss_family = AF_UNSPEC;
  return (const struct sockaddr *)ss;
}

/* With IP_RECVERR an ICMP error is reported twice by the kernel: as the
 * socket's pending error, which the failed receive just returned, and as
 * an entry of the error queue, which keeps the descriptor flagged (a
 * level-triggered wait would report it forever). Take the entry off; the
 * kernel then makes the next entry, if any, the pending error. */
static void eddy__udp_pop_error(eddy_udp_t *udp) {
#ifdef __linux__
  char control[512];
  struct msghdr msg;
  ssize_t n;

  if (!(udp->priv.flags & EDDY__UDP_RECVERR))
    return;
  memset(&msg, 0, sizeof(msg));
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  do
    n = recvmsg(udp->priv.io.fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
  while (n == -1 && errno == EINTR);
#else
  (void)udp;
#endif
}

/* One datagram into buf. Returns 1 if one was delivered, 0 when reading
 * must stop for this event. */
static int eddy__udp_read_one(eddy_udp_t *udp, const eddy_buf_t *buf) {
  eddy_udp_recv_cb cb = udp->priv.recv_cb;
  struct sockaddr_storage peer;
  struct msghdr msg;
  ssize_t n;

  peer.ss_family = AF_UNSPEC; /* GCC -O0 cannot see that recvmsg fills it */
  eddy__udp_msghdr(&msg, buf, 1, &peer, sizeof(peer));
  do
    n = recvmsg(udp->priv.io.fd, &msg, 0);
  while (n == -1 && errno == EINTR);
  if (n == -1) {
    int err = eddy__udp_err(errno);

    if (err != EDDY_EAGAIN)
      eddy__udp_pop_error(udp);
    eddy__udp_read_end(udp, cb, buf, err);
    return 0;
  }
  cb(udp, n, buf, eddy__udp_peer(&peer, msg.msg_namelen),
     eddy__udp_msg_flags(msg.msg_flags));
  eddy__after_callback(udp->handle.loop);
  return 1;
}

#ifdef EDDY__UDP_HAVE_MMSG
/* Up to max datagrams into the slots of buf with one recvmmsg; each is
 * delivered as a CHUNK, then the buffer comes back with FREE. The whole
 * batch goes to the callback it started with, even if the program stops
 * or closes meanwhile: the datagrams are out of the kernel already.
 * Returns how many were delivered, 0 when reading must stop. */
static int eddy__udp_read_batch(eddy_udp_t *udp, const eddy_buf_t *buf,
                                int max) {
  eddy_udp_recv_cb cb = udp->priv.recv_cb;
  eddy_loop_t *loop = udp->handle.loop;
  struct mmsghdr h[EDDY_UDP_MMSG_SLOTS];
  eddy_buf_t slot[EDDY_UDP_MMSG_SLOTS];
  struct sockaddr_storage peer[EDDY_UDP_MMSG_SLOTS];
  size_t nslots = buf->len / EDDY_UDP_DGRAM_MAX;
  int i, r;

  if (nslots > EDDY_UDP_MMSG_SLOTS)
    nslots = EDDY_UDP_MMSG_SLOTS;
  if (nslots > (size_t)max)
    nslots = (size_t)max;
  for (i = 0; i < (int)nslots; i++) {
    slot[i] = eddy_buf_init((char *)buf->base + (size_t)i * EDDY_UDP_DGRAM_MAX,
                            EDDY_UDP_DGRAM_MAX);
    eddy__udp_msghdr(&h[i].msg_hdr, &slot[i], 1, &peer[i], sizeof(peer[i]));
    h[i].msg_len = 0;
  }
  do
    r = recvmmsg(udp->priv.io.fd, h, (unsigned)nslots, 0, NULL);
  while (r == -1 && errno == EINTR);
  if (r <= 0) {
    eddy__udp_read_end(udp, cb, buf, r == 0 ? 0 : eddy__udp_err(errno));
    return 0;
  }
  for (i = 0; i < r; i++) {
    cb(udp, (ssize_t)h[i].msg_len, &slot[i],
       eddy__udp_peer(&peer[i], h[i].msg_hdr.msg_namelen),
       EDDY_UDP_MMSG_CHUNK | eddy__udp_msg_flags(h[i].msg_hdr.msg_flags));
    eddy__after_callback(loop);
  }
  cb(udp, 0, buf, NULL, EDDY_UDP_MMSG_FREE);
  eddy__after_callback(loop);
  return r;
}
#endif

/* Ask for a buffer and fill it. Returns datagrams delivered, 0 to stop.
 * No tick drain after the allocator: a read callback always follows it
 * and drains then. */
static int eddy__udp_read_some(eddy_udp_t *udp, int max) {
  size_t suggested = EDDY_UDP_DGRAM_MAX;
  eddy_buf_t buf = eddy_buf_init(NULL, 0);

  if (udp->priv.flags & EDDY__UDP_RECVMMSG)
    suggested *= EDDY_UDP_MMSG_SLOTS;
  udp->priv.alloc_cb(&udp->handle, suggested, &buf);
  if (buf.base == NULL || buf.len == 0) {
    eddy__udp_read_end(udp, udp->priv.recv_cb, &buf, EDDY_ENOBUFS);
    return 0;
  }
#ifdef EDDY__UDP_HAVE_MMSG
  if ((udp->priv.flags & EDDY__UDP_RECVMMSG) && buf.len >= EDDY_UDP_DGRAM_MAX)
    return eddy__udp_read_batch(udp, &buf, max);
#else
  (void)max;
#endif
  return eddy__udp_read_one(udp, &buf);
}

/* A readiness event: read up to EDDY_UDP_READS_PER_EVENT datagrams while
 * the program keeps receiving. */
static void eddy__udp_read(eddy_udp_t *udp) {
  int budget = EDDY_UDP_READS_PER_EVENT;
  int got;

  while (budget > 0 && (udp->priv.flags & EDDY__UDP_READING) &&
         !eddy__udp_closing(udp)) {
    got = eddy__udp_read_some(udp, budget);
    if (got <= 0)
      break;
    budget -= got;
  }
}

int eddy_udp_recv_start(eddy_udp_t *udp, eddy_alloc_cb alloc_cb,
                        eddy_udp_recv_cb recv_cb) {
  int err;

  if (alloc_cb == NULL || recv_cb == NULL || eddy__udp_closing(udp))
    return EDDY_EINVAL;
  if (udp->priv.flags & EDDY__UDP_READING)
    return EDDY_EALREADY;
  err = eddy__udp_lazy(udp, AF_INET, 0);
  if (err == 0)
    err = eddy__io_start(udp->handle.loop, &udp->priv.io, EDDY__IO_READ);
  if (err != 0)
    return err;
  udp->priv.alloc_cb = alloc_cb;
  udp->priv.recv_cb = recv_cb;
  udp->priv.flags |= EDDY__UDP_READING;
  eddy__udp_update_active(udp);
  return 0;
}

int eddy_udp_recv_stop(eddy_udp_t *udp) {
  eddy__io_stop(udp->handle.loop, &udp->priv.io, EDDY__IO_READ);
  udp->priv.flags &= ~(unsigned)EDDY__UDP_READING;
  eddy__udp_update_active(udp);
  return 0;
}

/* ---- readiness and close -------------------------------------------- */

/* The backend refused the descriptor (closed behind the handle's back):
 * fail the queued sends and the reader with EDDY_EBADF. */
static void eddy__udp_io_error(eddy_udp_t *udp) {
  eddy_udp_recv_cb cb = udp->priv.recv_cb;
  eddy_buf_t none = eddy_buf_init(NULL, 0);
  int reading = (udp->priv.flags & EDDY__UDP_READING) != 0;

  while (!eddy__queue_empty(&udp->priv.send_queue))
    eddy__udp_sent(udp, eddy__udp_head(&udp->priv.send_queue), EDDY_EBADF);
  eddy__io_stop(udp->handle.loop, &udp->priv.io, EDDY__IO_WRITE);
  if (reading) {
    eddy_udp_recv_stop(udp);
    eddy__udp_read_end(udp, cb, &none, EDDY_EBADF);
  }
  eddy__udp_run_completed(udp);
}

static void eddy__udp_io(eddy_loop_t *loop, eddy_io_t *io, unsigned events) {
  eddy_udp_t *udp = eddy__container_of(io, eddy_udp_t, priv.io);

  (void)loop;
  if (events & EDDY__IO_ERROR) {
    eddy__udp_io_error(udp);
    return;
  }
  if (events & EDDY__IO_READ)
    eddy__udp_read(udp);
  /* Also the pending-phase feed of sends that completed at once. */
  if ((events & EDDY__IO_WRITE) && !eddy__udp_closing(udp)) {
    eddy__udp_flush(udp);
    eddy__udp_run_completed(udp);
  }
}

static void eddy__udp_close(eddy_handle_t *h) {
  eddy_udp_t *udp = (eddy_udp_t *)h;

  eddy__io_close(h->loop, &udp->priv.io);
  if (udp->priv.io.fd >= 0)
    close(udp->priv.io.fd);
  udp->priv.io.fd = -1;
  udp->priv.flags &= ~(unsigned)(EDDY__UDP_READING | EDDY__UDP_CONNECTED);
  eddy__handle_stop(h);
}

/* Close phase, before the close callback: every request still held
 * completes, in submission order: those the kernel took with their own
 * status, the queued ones with EDDY_ECANCELED. */
static void eddy__udp_finish_close(eddy_handle_t *h) {
  eddy_udp_t *udp = (eddy_udp_t *)h;
  eddy_queue_t *node;

  while (!eddy__queue_empty(&udp->priv.send_queue))
    eddy__udp_sent(udp, eddy__udp_head(&udp->priv.send_queue), EDDY_ECANCELED);
  while (!eddy__queue_empty(&udp->priv.completed)) {
    node = udp->priv.completed.next;
    eddy__queue_remove(node);
    eddy__udp_finish_req(eddy__container_of(node, eddy_udp_send_t, priv.node));
    eddy__after_callback(h->loop);
  }
}

static int eddy__udp_handle_fd(const eddy_handle_t *h) {
  return ((const eddy_udp_t *)h)->priv.io.fd;
}

const struct eddy__handle_ops eddy__udp_ops = {
    .fileno = eddy__udp_handle_fd,
    .close = eddy__udp_close,
    .finish_close = eddy__udp_finish_close,
};
