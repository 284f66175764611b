/* tcp.c: TCP streams: sockets, bind, connect, listen and options. The
 * reading and writing are stream.c's. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "eddy/addr.h"
#include "eddy/tcp.h"
#include "net/stream_internal.h"
#include "net/tcp_share.h"

/* Options remembered until the socket exists (priv.options). */
enum { EDDY__TCP_NODELAY = 1, EDDY__TCP_KEEPALIVE = 2 };

static int eddy__tcp_fd(const eddy_tcp_t *tcp) {
  return eddy__stream_fd(&tcp->stream);
}

static int eddy__setsockopt_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof(value)) != 0 ? -errno : 0;
}

static int eddy__tcp_apply_nodelay(int fd, int on) {
  return eddy__setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, on != 0);
}

/* Keep-alive: the first probe after idle_s idle seconds, then one every
 * intvl_s seconds, and the connection is dead after cnt unanswered. */
static int eddy__tcp_apply_keepalive(int fd, int on, unsigned idle_s,
                                     unsigned intvl_s, unsigned cnt) {
  int err = eddy__setsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, on != 0);

  if (err != 0 || !on)
    return err;
#ifdef TCP_KEEPIDLE
  if ((err = eddy__setsockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE,
                                  (int)idle_s)) != 0)
    return err;
#endif
#ifdef TCP_KEEPINTVL
  if ((err = eddy__setsockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL,
                                  (int)intvl_s)) != 0)
    return err;
#endif
#ifdef TCP_KEEPCNT
  err = eddy__setsockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)cnt);
#endif
  return err;
}

/* Give the handle a socket of this family if it has none. */
static int eddy__tcp_socket(eddy_tcp_t *tcp, int family, unsigned flags) {
  int fd;
  int err;

  if (eddy__tcp_fd(tcp) != -1)
    return 0;
  fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return -errno;
  err = 0;
  if (tcp->priv.options & EDDY__TCP_NODELAY)
    err = eddy__tcp_apply_nodelay(fd, 1);
  if (err == 0 && (tcp->priv.options & EDDY__TCP_KEEPALIVE))
    err = eddy__tcp_apply_keepalive(fd, 1, tcp->priv.keepalive_delay,
                                    tcp->priv.keepalive_intvl,
                                    tcp->priv.keepalive_cnt);
  if (err == 0)
    err = eddy__stream_open(&tcp->stream, fd, EDDY__STREAM_SOCKET | flags);
  if (err != 0)
    close(fd);
  return err;
}

int eddy_tcp_init(eddy_loop_t *loop, eddy_tcp_t *tcp) {
  eddy__stream_init(loop, &tcp->stream, EDDY_TCP);
  tcp->priv.options = 0;
  tcp->priv.keepalive_delay = 0;
  tcp->priv.keepalive_intvl = 0;
  tcp->priv.keepalive_cnt = 0;
  tcp->priv.share = NULL;
  return 0;
}

int eddy_tcp_init_ex(eddy_loop_t *loop, eddy_tcp_t *tcp, int family) {
  int fd;

  if (family == AF_UNSPEC)
    return eddy_tcp_init(loop, tcp);
  if (family != AF_INET && family != AF_INET6)
    return EDDY_EINVAL;
  fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return -errno;
  eddy_tcp_init(loop, tcp);
  eddy__stream_open(&tcp->stream, fd, EDDY__STREAM_SOCKET);
  return 0;
}

int eddy_tcp_open(eddy_tcp_t *tcp, int fd) {
  int err;

  if (eddy__handle_closing(&tcp->stream.handle))
    return EDDY_EINVAL;
  if (eddy__tcp_fd(tcp) != -1)
    return EDDY_EBUSY;
  if (eddy__io_fd_in_use(tcp->stream.handle.loop, fd))
    return EDDY_EEXIST;
  if ((err = eddy__set_nonblock(fd, 1)) != 0)
    return err;
  eddy__set_cloexec(fd, 1);
  /* An adopted socket is what it is: connected, listening (eddy_listen
   * goes on from there) or not yet connected (eddy_tcp_connect may). */
  return eddy__stream_open(&tcp->stream, fd, eddy__stream_socket_state(fd));
}

static const struct eddy__tcp_share_hooks *eddy__tcp_share;

void eddy__tcp_set_share_hooks(const struct eddy__tcp_share_hooks *hooks) {
  eddy__tcp_share = hooks;
}

int eddy__tcp_adopt_shared(eddy_tcp_t *tcp, int fd) {
  assert(eddy__tcp_fd(tcp) == -1);
  return eddy__stream_open(&tcp->stream, fd, EDDY__STREAM_SOCKET);
}

int eddy_tcp_bind(eddy_tcp_t *tcp, const struct sockaddr *addr,
                  unsigned flags) {
  int len = eddy_sockaddr_len(addr);

  if (len < 0 || (flags & ~(unsigned)(EDDY_TCP_IPV6ONLY | EDDY_TCP_REUSEPORT)) ||
      eddy__handle_closing(&tcp->stream.handle) || tcp->priv.share != NULL)
    return EDDY_EINVAL;
  if ((flags & EDDY_TCP_IPV6ONLY) && addr->sa_family != AF_INET6)
    return EDDY_EINVAL;
  if (eddy__tcp_share != NULL)
    return eddy__tcp_share->bind(tcp, addr, flags);
  return eddy__tcp_bind_local(tcp, addr, flags);
}

int eddy__tcp_bind_local(eddy_tcp_t *tcp, const struct sockaddr *addr,
                         unsigned flags) {
  int len = eddy_sockaddr_len(addr);
  int fd;
  int err;

  if ((err = eddy__tcp_socket(tcp, addr->sa_family, 0)) != 0)
    return err;
  fd = eddy__tcp_fd(tcp);
  if ((err = eddy__setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) != 0)
    return err;
  if (addr->sa_family == AF_INET6 &&
      (err = eddy__setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                                  (flags & EDDY_TCP_IPV6ONLY) != 0)) != 0)
    return err;
  if (flags & EDDY_TCP_REUSEPORT) {
#ifdef SO_REUSEPORT
    if ((err = eddy__setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)) != 0)
      return err;
#else
    return EDDY_ENOTSUP;
#endif
  }
  if (bind(fd, addr, (socklen_t)len) != 0)
    return -errno;
  return 0;
}

int eddy_tcp_connect(eddy_connect_t *req, eddy_tcp_t *tcp,
                     const struct sockaddr *addr, eddy_connect_cb cb) {
  int len = eddy_sockaddr_len(addr);
  int err;
  int r;

  if (len < 0 || eddy__handle_closing(&tcp->stream.handle))
    return EDDY_EINVAL;
  if (tcp->stream.priv.connect_req != NULL)
    return EDDY_EALREADY;
  if (tcp->stream.priv.flags &
      (EDDY__STREAM_LISTENING | EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE))
    return EDDY_EISCONN;
  if (tcp->priv.share != NULL && (err = eddy__tcp_share->unshare(tcp)) != 0)
    return err;
  if ((err = eddy__tcp_socket(tcp, addr->sa_family, 0)) != 0)
    return err;
  do
    r = connect(eddy__tcp_fd(tcp), addr, (socklen_t)len);
  while (r == -1 && errno == EINTR);
  err = r == 0 ? 0 : -errno;
  if (err == EDDY_EISCONN || err == EDDY_EALREADY)
    return err;
  eddy__stream_connect(&tcp->stream, req, err, cb);
  return 0;
}

static int eddy__tcp_listen(eddy_stream_t *s, int backlog,
                            eddy_connection_cb cb) {
  eddy_tcp_t *tcp = (eddy_tcp_t *)s;
  int err;

  if (tcp->priv.share != NULL)
    return eddy__tcp_share->listen(tcp, backlog, cb);
  /* Listening without a bind takes an ephemeral IPv4 port, as listen(2)
   * does on an unbound socket. */
  if ((err = eddy__tcp_socket(tcp, AF_INET, 0)) != 0)
    return err;
  return eddy__stream_listen(s, backlog, cb);
}

int eddy_tcp_nodelay(eddy_tcp_t *tcp, int on) {
  int err = 0;

  if (eddy__handle_closing(&tcp->stream.handle))
    return EDDY_EINVAL;
  if (eddy__tcp_fd(tcp) != -1)
    err = eddy__tcp_apply_nodelay(eddy__tcp_fd(tcp), on);
  if (err == 0) {
    if (on)
      tcp->priv.options |= EDDY__TCP_NODELAY;
    else
      tcp->priv.options &= ~(unsigned)EDDY__TCP_NODELAY;
  }
  return err;
}

int eddy_tcp_keepalive_ex(eddy_tcp_t *tcp, int on, unsigned idle_s,
                          unsigned intvl_s, unsigned cnt) {
  int err = 0;

  if ((on && (idle_s < 1 || intvl_s < 1 || cnt < 1 || idle_s > INT32_MAX ||
              intvl_s > INT32_MAX || cnt > INT32_MAX)) ||
      eddy__handle_closing(&tcp->stream.handle))
    return EDDY_EINVAL;
  if (eddy__tcp_fd(tcp) != -1)
    err = eddy__tcp_apply_keepalive(eddy__tcp_fd(tcp), on, idle_s, intvl_s,
                                    cnt);
  if (err == 0) {
    if (on)
      tcp->priv.options |= EDDY__TCP_KEEPALIVE;
    else
      tcp->priv.options &= ~(unsigned)EDDY__TCP_KEEPALIVE;
    tcp->priv.keepalive_delay = idle_s;
    tcp->priv.keepalive_intvl = intvl_s;
    tcp->priv.keepalive_cnt = cnt;
  }
  return err;
}

/* libuv >= 1.49's choice: after the first probe one a second, ten of
 * them before the connection is dead. */
int eddy_tcp_keepalive(eddy_tcp_t *tcp, int on, unsigned delay_s) {
  return eddy_tcp_keepalive_ex(tcp, on, delay_s, 1, 10);
}

int eddy_tcp_getsockname(const eddy_tcp_t *tcp, struct sockaddr *name,
                         int *namelen) {
  return eddy__socket_name(eddy__tcp_fd(tcp), name, namelen, 0);
}

int eddy_tcp_getpeername(const eddy_tcp_t *tcp, struct sockaddr *name,
                         int *namelen) {
  return eddy__socket_name(eddy__tcp_fd(tcp), name, namelen, 1);
}

int eddy_tcp_close_reset(eddy_tcp_t *tcp, eddy_close_cb close_cb) {
  struct linger l = {1, 0};
  int fd = eddy__tcp_fd(tcp);

  if (eddy__handle_closing(&tcp->stream.handle) ||
      tcp->stream.priv.shutdown_req != NULL)
    return EDDY_EINVAL;
  /* A zero linger turns close(2) into a reset. */
  if (fd != -1 && setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0)
    return -errno;
  return eddy_close(&tcp->stream.handle, close_cb);
}

static void eddy__tcp_close(eddy_handle_t *h) {
  eddy_tcp_t *tcp = (eddy_tcp_t *)h;

  if (tcp->priv.share != NULL)
    eddy__tcp_share->forget(tcp);
  eddy__stream_close(h);
}

const struct eddy__handle_ops eddy__tcp_ops = {
    .close = eddy__tcp_close,
    .finish_close = eddy__stream_finish_close,
    .listen = eddy__tcp_listen,
    .fileno = eddy__stream_handle_fd,
};
