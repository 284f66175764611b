/* stream.c: the byte-stream base of TCP and Unix pipes.
 *
 * One watcher per stream. Its callback serves, in order: a listening
 * socket's accepts; a connect in progress; reads; then writes, their
 * callbacks, and a shutdown waiting for the queue to drain. Writes and
 * connects that finish without waiting still report from the loop's
 * pending phase (eddy__io_feed), never from inside the call that started
 * them.
 *
 * Writes are tried at once when nothing is queued; what the kernel does
 * not take stays at the head of the queue and the watcher asks for
 * writability. A partial write means the socket buffer is full, so the
 * next attempt waits for the kernel to say so rather than spending a
 * system call on EAGAIN. Reads stop early for the same reason: a read
 * that did not fill the buffer drained the socket (unless it brought
 * descriptors, which end a read early). */
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "net/stream_internal.h"

#define EDDY__READ_SIZE 65536
/* Reads per readiness event, so that one busy stream cannot starve the
 * others. */
#define EDDY__READS_PER_EVENT 32
/* Descriptors one IPC message may carry. */
#define EDDY__IPC_MAX_FDS 8

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

static void eddy__stream_io(eddy_loop_t *loop, eddy_io_t *io,
                            unsigned events);
static size_t eddy__bufs_size(const eddy_buf_t *bufs, unsigned nbufs);

#ifndef NDEBUG
/* The invariants of a stream's flags and write queue (assert builds only:
 * the queue walk is O(queued writes)). */
static int eddy__stream_sound(const eddy_stream_t *s) {
  unsigned f = s->priv.flags;
  size_t queued = 0;
  const eddy_queue_t *q;

  if ((f & EDDY__STREAM_LISTENING) && (f & EDDY__STREAM_READING))
    return 0; /* a listener accepts, it does not read */
  if ((f & EDDY__STREAM_SHUTTING) && (f & EDDY__STREAM_SHUT))
    return 0;
  if ((f & (EDDY__STREAM_SHUTTING | EDDY__STREAM_SHUT)) &&
      (f & EDDY__STREAM_WRITABLE))
    return 0; /* shut down (or going to be): no more writes */
  if (((f & EDDY__STREAM_SHUTTING) != 0) != (s->priv.shutdown_req != NULL))
    return 0;
  for (q = s->priv.write_queue.next; q != &s->priv.write_queue; q = q->next) {
    const eddy_write_t *w = eddy__container_of(q, eddy_write_t, priv.node);

    if (w->priv.index > w->priv.nbufs)
      return 0;
    queued += eddy__bufs_size(w->priv.bufs + w->priv.index,
                              w->priv.nbufs - w->priv.index);
  }
  return queued == s->write_queue_size;
}
#endif

void eddy__stream_init(eddy_loop_t *loop, eddy_stream_t *s,
                       eddy_handle_type type) {
  eddy__handle_init(loop, &s->handle, type);
  memset(&s->priv, 0, sizeof(s->priv));
  eddy__io_init(&s->priv.io, eddy__stream_io, -1);
  eddy__queue_init(&s->priv.write_queue);
  eddy__queue_init(&s->priv.write_done);
  s->priv.accepted_fd = -1;
  s->write_queue_size = 0;
}

unsigned eddy__stream_socket_state(int fd) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof(peer);
  int listening = 0;
  socklen_t optlen = sizeof(listening);

  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) == 0 &&
      listening)
    return EDDY__STREAM_SOCKET;
  if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
    return EDDY__STREAM_SOCKET | EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE;
  return EDDY__STREAM_SOCKET;
}

int eddy__stream_open(eddy_stream_t *s, int fd, unsigned flags) {
  if (s->priv.io.fd != -1)
    return EDDY_EBUSY;
  s->priv.io.fd = fd;
  s->priv.flags |= flags;
  return 0;
}

/* Active (keeping the loop alive) while reading or listening; requests
 * count on their own. */
static void eddy__stream_update_active(eddy_stream_t *s) {
  if (s->priv.flags & (EDDY__STREAM_READING | EDDY__STREAM_LISTENING))
    eddy__handle_start(&s->handle);
  else
    eddy__handle_stop(&s->handle);
}

static int eddy__stream_closing(const eddy_stream_t *s) {
  return eddy__handle_closing(&s->handle);
}

/* ---- accepting --------------------------------------------------------- */

/* Out of descriptors: give up the reserve, accept every waiting connection
 * and close it (its client sees the connection end instead of waiting
 * forever), then take the reserve back. */
static void eddy__stream_drop_waiting(eddy_loop_t *loop, int listen_fd) {
  int fd;

  if (loop->priv.net.reserve_fd == -1)
    return;
  close(loop->priv.net.reserve_fd);
  loop->priv.net.reserve_fd = -1;
  for (;;) {
    fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd == -1) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      break;
    }
    close(fd);
  }
  loop->priv.net.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void eddy__stream_accept_ready(eddy_stream_t *s) {
  eddy_loop_t *loop = s->handle.loop;
  int listen_fd = s->priv.io.fd;
  int fd;
  int err;

  while (s->priv.accepted_fd == -1 &&
         (s->priv.flags & EDDY__STREAM_LISTENING)) {
    fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd == -1) {
      err = -errno;
      if (err == EDDY_EINTR || err == EDDY_ECONNABORTED)
        continue;
      if (err == EDDY_EAGAIN || err == -EWOULDBLOCK)
        return;
      if (err == EDDY_EMFILE || err == EDDY_ENFILE)
        eddy__stream_drop_waiting(loop, listen_fd);
      s->priv.connection_cb(s, err);
      eddy__after_callback(loop);
      return; /* retried on the next readiness event */
    }
    s->priv.accepted_fd = fd;
    s->priv.connection_cb(s, 0);
    eddy__after_callback(loop);
    if (eddy__stream_closing(s))
      return;
  }
  /* A connection was not taken: stop accepting until it is. */
  if (s->priv.accepted_fd != -1)
    eddy__io_stop(loop, &s->priv.io, EDDY__IO_READ);
}

int eddy__stream_listen(eddy_stream_t *s, int backlog, eddy_connection_cb cb) {
  eddy_loop_t *loop = s->handle.loop;
  int err;

  if (listen(s->priv.io.fd, backlog) != 0)
    return -errno;
  if (loop->priv.net.reserve_fd == -1)
    loop->priv.net.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  err = eddy__io_start(loop, &s->priv.io, EDDY__IO_READ);
  if (err != 0)
    return err;
  s->priv.connection_cb = cb;
  s->priv.flags |= EDDY__STREAM_LISTENING;
  eddy__stream_update_active(s);
  return 0;
}

void eddy__stream_listen_remote(eddy_stream_t *s, eddy_connection_cb cb) {
  s->priv.connection_cb = cb;
  s->priv.flags |= EDDY__STREAM_LISTENING | EDDY__STREAM_REMOTE_ACCEPT;
  eddy__stream_update_active(s);
}

/* The close hook eddy_accept gives a delivered connection's stream. */
static void (*eddy__stream_delivered_hook)(eddy_stream_t *client);

int eddy__stream_deliver(eddy_stream_t *s, int fd,
                         void (*closed_hook)(eddy_stream_t *client)) {
  eddy_loop_t *loop = s->handle.loop;
  int taken;

  if (eddy__stream_closing(s) || !(s->priv.flags & EDDY__STREAM_LISTENING) ||
      s->priv.accepted_fd != -1)
    return EDDY_EINVAL;
  s->priv.accepted_fd = fd;
  eddy__stream_delivered_hook = closed_hook;
  s->priv.connection_cb(s, 0);
  eddy__stream_delivered_hook = NULL;
  eddy__after_callback(loop);
  taken = s->priv.accepted_fd != fd;
  s->priv.accepted_fd = -1;
  return taken;
}

void eddy__stream_listen_stop(eddy_stream_t *s) {
  if (!(s->priv.flags & EDDY__STREAM_LISTENING))
    return;
  if (!(s->priv.flags & EDDY__STREAM_REMOTE_ACCEPT))
    eddy__io_stop(s->handle.loop, &s->priv.io, EDDY__IO_READ);
  s->priv.flags &= ~(unsigned)EDDY__STREAM_LISTENING;
  eddy__stream_update_active(s);
}

int eddy_listen(eddy_stream_t *server, int backlog, eddy_connection_cb cb) {
  const struct eddy__handle_ops *ops;

  if (cb == NULL || eddy__stream_closing(server))
    return EDDY_EINVAL;
  ops = eddy__handle_ops_of(&server->handle);
  if (ops->listen == NULL)
    return EDDY_EINVAL;
  return ops->listen(server, backlog, cb);
}

/* The oldest descriptor received over an IPC pipe, or -1. */
static int eddy__stream_ipc_take(eddy_stream_t *s) {
  int fd;

  if (s->priv.ipc_nfds == 0)
    return -1;
  fd = s->priv.ipc_fds[0];
  s->priv.ipc_nfds--;
  memmove(s->priv.ipc_fds, s->priv.ipc_fds + 1,
          s->priv.ipc_nfds * sizeof(*s->priv.ipc_fds));
  return fd;
}

int eddy_accept(eddy_stream_t *server, eddy_stream_t *client) {
  int fd;
  int err;

  if (eddy__stream_closing(server) || eddy__stream_closing(client))
    return EDDY_EINVAL;
  if (client->priv.io.fd != -1)
    return EDDY_EBUSY;
  if (server->priv.flags & EDDY__STREAM_IPC) {
    if (server->priv.ipc_nfds == 0)
      return EDDY_EAGAIN;
    fd = eddy__stream_ipc_take(server);
    err = eddy__stream_open(client, fd,
                            EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE |
                                EDDY__STREAM_SOCKET);
    if (err != 0)
      close(fd);
    return err;
  }
  if (server->handle.priv.type != client->handle.priv.type)
    return EDDY_EINVAL;
  if (server->priv.accepted_fd == -1)
    return EDDY_EAGAIN;
  err = eddy__stream_open(client, server->priv.accepted_fd,
                          EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE |
                              EDDY__STREAM_SOCKET);
  if (err != 0)
    return err;
  server->priv.accepted_fd = -1;
  if ((server->priv.flags & EDDY__STREAM_REMOTE_ACCEPT) &&
      client->priv.close_hook == NULL)
    client->priv.close_hook = eddy__stream_delivered_hook;
  if ((server->priv.flags &
       (EDDY__STREAM_LISTENING | EDDY__STREAM_REMOTE_ACCEPT)) ==
      EDDY__STREAM_LISTENING)
    eddy__io_start(server->handle.loop, &server->priv.io, EDDY__IO_READ);
  return 0;
}

/* ---- connecting -------------------------------------------------------- */

void eddy__stream_connect(eddy_stream_t *s, eddy_connect_t *req, int err,
                          eddy_connect_cb cb) {
  eddy_loop_t *loop = s->handle.loop;

  eddy__req_init(&req->req, EDDY_CONNECT);
  req->handle = s;
  req->priv.cb = cb;
  s->priv.connect_req = req;
  eddy__req_register(loop, EDDY_CONNECT);
  if (err == -EINPROGRESS) {
    /* Writable once connected or failed. If the fd table cannot grow,
     * report that from the pending phase like any other failure. */
    err = eddy__io_start(loop, &s->priv.io, EDDY__IO_WRITE);
    if (err == 0)
      return;
  }
  s->priv.delayed_error = err;
  eddy__io_feed(loop, &s->priv.io);
}

static void eddy__write_finish(eddy_stream_t *s, eddy_write_t *req, int err);
static void eddy__stream_write_callbacks(eddy_stream_t *s, int on_close);

/* A connect ended: on success the stream is readable and writable; on
 * failure the connect callback has the error, and the writes queued behind
 * the connect end after it with ECANCELED (as libuv does). */
static void eddy__stream_connect_done(eddy_stream_t *s) {
  eddy_connect_t *req = s->priv.connect_req;
  int err = s->priv.delayed_error;
  socklen_t len = sizeof(err);

  if (err == 0 && (s->priv.flags & EDDY__STREAM_SOCKET)) {
    if (getsockopt(s->priv.io.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
    err = -err;
    if (err == -EINPROGRESS)
      return; /* not yet: a spurious wake-up */
  }
  s->priv.delayed_error = 0;
  s->priv.connect_req = NULL;
  if (err == 0)
    s->priv.flags |= EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE;
  else
    while (!eddy__queue_empty(&s->priv.write_queue))
      eddy__write_finish(s, eddy__container_of(s->priv.write_queue.next,
                                               eddy_write_t, priv.node),
                         EDDY_ECANCELED);
  if (eddy__queue_empty(&s->priv.write_queue))
    eddy__io_stop(s->handle.loop, &s->priv.io, EDDY__IO_WRITE);
  eddy__req_unregister(s->handle.loop, EDDY_CONNECT);
  if (req->priv.cb != NULL) {
    req->priv.cb(req, err);
    eddy__after_callback(s->handle.loop);
  }
  if (err != 0 && !eddy__stream_closing(s))
    eddy__stream_write_callbacks(s, 0);
}

/* ---- reading ----------------------------------------------------------- */

/* Keep the descriptors that came with a message for eddy_accept. */
static int eddy__stream_ipc_keep(eddy_stream_t *s, const struct msghdr *msg) {
  struct cmsghdr *c;
  int err = 0;

  for (c = CMSG_FIRSTHDR((struct msghdr *)msg); c != NULL;
       c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
    const unsigned char *data = CMSG_DATA(c);
    size_t n, i;

    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (i = 0; i < n; i++) {
      int fd;

      memcpy(&fd, data + i * sizeof(int), sizeof(int));
      if (err == 0 && s->priv.ipc_nfds == s->priv.ipc_cap) {
        unsigned cap = s->priv.ipc_cap ? s->priv.ipc_cap * 2 : 4;
        int *grown = realloc(s->priv.ipc_fds, cap * sizeof(*grown));

        if (grown == NULL) {
          err = EDDY_ENOMEM;
        } else {
          s->priv.ipc_fds = grown;
          s->priv.ipc_cap = cap;
        }
      }
      if (err != 0) {
        close(fd); /* nowhere to keep it: do not leak it */
        continue;
      }
      s->priv.ipc_fds[s->priv.ipc_nfds++] = fd; /* MSG_CMSG_CLOEXEC set it */
    }
  }
  return err;
}

static ssize_t eddy__stream_read_once(eddy_stream_t *s, eddy_buf_t *buf) {
  ssize_t n;

  if (s->priv.flags & EDDY__STREAM_IPC) {
    union {
      char space[CMSG_SPACE(EDDY__IPC_MAX_FDS * sizeof(int))];
      struct cmsghdr align;
    } control;
    struct msghdr msg;
    struct iovec iov = {buf->base, buf->len};
    int err;

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof(control.space);
    do
      n = recvmsg(s->priv.io.fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    while (n == -1 && errno == EINTR);
    if (n == -1)
      return -errno;
    if ((err = eddy__stream_ipc_keep(s, &msg)) != 0)
      return err;
    if (msg.msg_flags & MSG_CTRUNC)
      return EDDY_ENOBUFS; /* descriptors were lost: say so */
    return n;
  }
  /* A socket a child inherited may be blocking (process.c): recv with
   * MSG_DONTWAIT never waits, whatever its mode. */
  do
    n = (s->priv.flags & EDDY__STREAM_SOCKET)
            ? recv(s->priv.io.fd, buf->base, buf->len, MSG_DONTWAIT)
            : read(s->priv.io.fd, buf->base, buf->len);
  while (n == -1 && errno == EINTR);
  return n == -1 ? -errno : n;
}

/* The end of reading: at EOF the stream is no longer readable; after a
 * read error (a reset peer), not writable either, as in libuv. */
static void eddy__stream_read_end(eddy_stream_t *s, unsigned lost) {
  s->priv.flags &= ~(EDDY__STREAM_READING | lost);
  eddy__io_stop(s->handle.loop, &s->priv.io,
                EDDY__IO_READ | EDDY__IO_RDHUP);
  eddy__stream_update_active(s);
}

/* Read what is there. A short read means the socket is drained, unless the
 * peer has hung up (events carries RDHUP): then one more read gives the
 * end, delivered now rather than after another poll phase, so that it
 * comes before anything the hang-up caused (a child's exit). */
static void eddy__stream_read(eddy_stream_t *s, unsigned events) {
  eddy_loop_t *loop = s->handle.loop;
  int count = EDDY__READS_PER_EVENT;
  eddy_buf_t buf;
  ssize_t n;

  eddy__metrics_running(loop, s->handle.priv.type,
                        (const void *)s->priv.read_cb);
  while ((s->priv.flags & EDDY__STREAM_READING) && count-- > 0) {
    unsigned fds_before = s->priv.ipc_nfds;
    int got_fds;

    buf = eddy_buf_init(NULL, 0);
    s->priv.alloc_cb(&s->handle, EDDY__READ_SIZE, &buf);
    if (buf.base == NULL || buf.len == 0) {
      s->priv.read_cb(s, EDDY_ENOBUFS, &buf);
      eddy__after_callback(loop);
      return;
    }
    n = eddy__stream_read_once(s, &buf);
    got_fds = s->priv.ipc_nfds > fds_before;
    if (n == EDDY_EAGAIN || n == -EWOULDBLOCK) {
      s->priv.read_cb(s, 0, &buf); /* the buffer goes back */
      eddy__after_callback(loop);
      return;
    }
    if (n == 0) {
      eddy__stream_read_end(s, EDDY__STREAM_READABLE);
      s->priv.read_cb(s, EDDY_EOF, &buf);
      eddy__after_callback(loop);
      return;
    }
    /* Descriptors lost to a short control buffer (ENOBUFS) leave the
     * stream usable; any other error ends it. */
    if (n < 0 && n != EDDY_ENOBUFS)
      eddy__stream_read_end(s, EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE);
    if (n > 0)
      eddy__stream_touch(s);
    s->priv.read_cb(s, n, &buf);
    eddy__after_callback(loop);
    /* A read that brought descriptors ends at the message that carried
     * them, whatever follows it: short, it does not mean drained. */
    if (n < 0 ||
        ((size_t)n < buf.len && !(events & EDDY__IO_RDHUP) && !got_fds) ||
        (s->priv.flags & EDDY__STREAM_BLOCKING))
      return; /* an error, the socket is drained, or it might block */
  }
}

int eddy_read_start(eddy_stream_t *s, eddy_alloc_cb alloc_cb,
                    eddy_read_cb read_cb) {
  int err;

  if (alloc_cb == NULL || read_cb == NULL || eddy__stream_closing(s) ||
      (s->priv.flags & EDDY__STREAM_LISTENING))
    return EDDY_EINVAL;
  if (s->priv.flags & EDDY__STREAM_READING)
    return EDDY_EALREADY;
  if (s->priv.io.fd == -1 || !(s->priv.flags & EDDY__STREAM_READABLE))
    return EDDY_ENOTCONN;
  err = eddy__io_start(s->handle.loop, &s->priv.io,
                       EDDY__IO_READ | EDDY__IO_RDHUP);
  if (err != 0)
    return err;
  s->priv.alloc_cb = alloc_cb;
  s->priv.read_cb = read_cb;
  s->priv.flags |= EDDY__STREAM_READING;
  eddy__stream_update_active(s);
  return 0;
}

int eddy_read_stop(eddy_stream_t *s) {
  if (!(s->priv.flags & EDDY__STREAM_READING))
    return 0;
  s->priv.flags &= ~EDDY__STREAM_READING;
  eddy__io_stop(s->handle.loop, &s->priv.io,
                EDDY__IO_READ | EDDY__IO_RDHUP);
  eddy__stream_update_active(s);
  return 0;
}

/* ---- writing ----------------------------------------------------------- */

/* One attempt at the request's remaining buffers. Sockets use sendmsg with
 * MSG_NOSIGNAL so a peer that went away is an EPIPE, not a SIGPIPE; a
 * descriptor to pass rides with the first bytes. */
static ssize_t eddy__stream_writev(eddy_stream_t *s, eddy_write_t *req) {
  struct iovec *iov = (struct iovec *)(req->priv.bufs + req->priv.index);
  unsigned n = req->priv.nbufs - req->priv.index;
  /* A stream set blocking (eddy_stream_set_blocking) waits in the send. */
  int flags = MSG_NOSIGNAL |
              ((s->priv.flags & EDDY__STREAM_BLOCKING) ? 0 : MSG_DONTWAIT);
  ssize_t r;

  if (n > IOV_MAX)
    n = IOV_MAX;
  if ((s->priv.flags & EDDY__STREAM_SOCKET) && n == 1 &&
      req->priv.send_fd == -1) {
    /* One buffer (most writes): send() skips sendmsg's copy-in of the
     * message header and iovec array. */
    do
      r = send(s->priv.io.fd, iov->iov_base, iov->iov_len, flags);
    while (r == -1 && errno == EINTR);
  } else if (s->priv.flags & EDDY__STREAM_SOCKET) {
    union {
      char space[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } control;
    struct msghdr msg;

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    if (req->priv.send_fd != -1) {
      struct cmsghdr *c;

      memset(&control, 0, sizeof(control));
      msg.msg_control = control.space;
      msg.msg_controllen = sizeof(control.space);
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &req->priv.send_fd, sizeof(int));
    }
    do
      r = sendmsg(s->priv.io.fd, &msg, flags);
    while (r == -1 && errno == EINTR);
    if (r >= 0)
      req->priv.send_fd = -1; /* sent with these bytes */
  } else {
    do
      r = writev(s->priv.io.fd, iov, (int)n);
    while (r == -1 && errno == EINTR);
  }
  return r == -1 ? -errno : r;
}

static size_t eddy__bufs_size(const eddy_buf_t *bufs, unsigned nbufs) {
  size_t total = 0;
  unsigned i;

  for (i = 0; i < nbufs; i++)
    total += bufs[i].len;
  return total;
}

/* Move the request past n written bytes. Returns non-zero when all is
 * written. */
static int eddy__write_advance(eddy_write_t *req, size_t n) {
  while (req->priv.index < req->priv.nbufs) {
    eddy_buf_t *b = &req->priv.bufs[req->priv.index];

    if (n < b->len) {
      b->base = (char *)b->base + n;
      b->len -= n;
      return 0;
    }
    n -= b->len;
    req->priv.index++;
  }
  return 1;
}

static void eddy__write_finish(eddy_stream_t *s, eddy_write_t *req, int err) {
  if (err != 0) {
    size_t left = eddy__bufs_size(req->priv.bufs + req->priv.index,
                                  req->priv.nbufs - req->priv.index);

    assert(s->write_queue_size >= left);
    s->write_queue_size -= left;
  }
  req->priv.error = err;
  eddy__queue_remove(&req->priv.node);
  eddy__queue_insert_tail(&s->priv.write_done, &req->priv.node);
}

/* Write as much of the queue as the kernel takes. Returns non-zero if a
 * request finished (its callback is due). */
static int eddy__stream_write(eddy_stream_t *s) {
  eddy_loop_t *loop = s->handle.loop;
  int finished = 0;

  while (!eddy__queue_empty(&s->priv.write_queue)) {
    eddy_write_t *req = eddy__container_of(s->priv.write_queue.next,
                                           eddy_write_t, priv.node);
    ssize_t n = eddy__stream_writev(s, req);

    if (n == EDDY_EAGAIN || n == -EWOULDBLOCK)
      break;
    if (n < 0) {
      eddy__write_finish(s, req, (int)n);
      finished = 1;
      continue;
    }
    assert(s->write_queue_size >= (size_t)n);
    s->write_queue_size -= (size_t)n;
    if (!eddy__write_advance(req, (size_t)n))
      break; /* partial: the socket buffer is full */
    eddy__write_finish(s, req, 0);
    finished = 1;
  }
  if (eddy__queue_empty(&s->priv.write_queue)) {
    if (s->priv.connect_req == NULL)
      eddy__io_stop(loop, &s->priv.io, EDDY__IO_WRITE);
  } else if (eddy__io_start(loop, &s->priv.io, EDDY__IO_WRITE) != 0) {
    /* Cannot wait for writability: fail what is queued. */
    while (!eddy__queue_empty(&s->priv.write_queue))
      eddy__write_finish(s, eddy__container_of(s->priv.write_queue.next,
                                               eddy_write_t, priv.node),
                         EDDY_ENOMEM);
    finished = 1;
  }
  assert(eddy__stream_sound(s));
  return finished;
}

static void eddy__write_release(eddy_write_t *req) {
  if (req->priv.bufs != req->priv.bufsml)
    free(req->priv.bufs);
  req->priv.bufs = NULL;
}

/* Run the callbacks of the writes finished so far, oldest first. A write
 * that a callback starts and the kernel takes at once reports in the next
 * pending round: a writer that refills from its callback then alternates
 * with the loop's other work, a few buffers at a time, instead of filling
 * the socket in one go (which also keeps its data in the cache). At close
 * (on_close), every finished write reports now. */
static void eddy__stream_write_callbacks(eddy_stream_t *s, int on_close) {
  eddy_loop_t *loop = s->handle.loop;
  eddy_queue_t batch;

  eddy__queue_move(&s->priv.write_done, &batch);
  while (!eddy__queue_empty(&batch)) {
    eddy_write_t *req = eddy__container_of(batch.next, eddy_write_t,
                                           priv.node);

    if (!on_close && eddy__stream_closing(s)) {
      /* Closed from a callback: the close phase reports the rest, in
       * order, ahead of the writes finished since. */
      while (!eddy__queue_empty(&s->priv.write_done)) {
        eddy_queue_t *later = s->priv.write_done.next;

        eddy__queue_remove(later);
        eddy__queue_insert_tail(&batch, later);
      }
      eddy__queue_move(&batch, &s->priv.write_done);
      return;
    }
    eddy__queue_remove(&req->priv.node);
    eddy__write_release(req);
    eddy__req_unregister(loop, EDDY_WRITE);
    eddy__stream_touch(s);
    if (req->priv.cb != NULL) {
      req->priv.cb(req, req->priv.error);
      eddy__after_callback(loop);
    }
  }
}

int eddy__stream_write2(eddy_write_t *req, eddy_stream_t *s,
                        const eddy_buf_t bufs[], unsigned nbufs, int send_fd,
                        eddy_write_cb cb) {
  eddy_loop_t *loop = s->handle.loop;
  int was_empty;

  if (nbufs == 0 || bufs == NULL || eddy__stream_closing(s))
    return EDDY_EINVAL;
  if (s->priv.io.fd == -1)
    return EDDY_EBADF;
  if (!(s->priv.flags & EDDY__STREAM_WRITABLE) && s->priv.connect_req == NULL)
    return EDDY_EPIPE;
  req->priv.bufs = req->priv.bufsml;
  if (nbufs > sizeof(req->priv.bufsml) / sizeof(req->priv.bufsml[0])) {
    req->priv.bufs = malloc(nbufs * sizeof(*bufs));
    if (req->priv.bufs == NULL)
      return EDDY_ENOMEM;
  }
  memcpy(req->priv.bufs, bufs, nbufs * sizeof(*bufs));
  eddy__req_init(&req->req, EDDY_WRITE);
  req->handle = s;
  req->priv.cb = cb;
  req->priv.nbufs = nbufs;
  req->priv.index = 0;
  req->priv.error = 0;
  req->priv.send_fd = send_fd;
  s->write_queue_size += eddy__bufs_size(bufs, nbufs);
  eddy__req_register(loop, EDDY_WRITE);
  eddy__stream_touch(s);
  was_empty = eddy__queue_empty(&s->priv.write_queue);
  eddy__queue_insert_tail(&s->priv.write_queue, &req->priv.node);
  /* Behind other writes or a connect, it waits for its turn. */
  if (was_empty && s->priv.connect_req == NULL && eddy__stream_write(s))
    eddy__io_feed(loop, &s->priv.io);
  assert(eddy__stream_sound(s));
  return 0;
}

int eddy_write(eddy_write_t *req, eddy_stream_t *s, const eddy_buf_t bufs[],
               unsigned nbufs, eddy_write_cb cb) {
  return eddy__stream_write2(req, s, bufs, nbufs, -1, cb);
}

ssize_t eddy_try_write(eddy_stream_t *s, const eddy_buf_t bufs[],
                       unsigned nbufs) {
  eddy_write_t probe;
  ssize_t n;

  if (eddy__stream_closing(s))
    return EDDY_EINVAL;
  if (s->priv.io.fd == -1)
    return EDDY_EBADF;
  if (!(s->priv.flags & EDDY__STREAM_WRITABLE))
    return EDDY_EPIPE;
  if (!eddy__queue_empty(&s->priv.write_queue) || s->priv.connect_req != NULL)
    return EDDY_EAGAIN;
  if (nbufs == 0)
    return 0;
  probe.priv.bufs = (eddy_buf_t *)bufs; /* read only: index stays 0 */
  probe.priv.nbufs = nbufs;
  probe.priv.index = 0;
  probe.priv.send_fd = -1;
  n = eddy__stream_writev(s, &probe);
  return n == -EWOULDBLOCK ? EDDY_EAGAIN : n;
}

/* ---- shutdown ---------------------------------------------------------- */

/* Once the queue is empty, a pending shutdown goes out. */
static void eddy__stream_drain(eddy_stream_t *s) {
  eddy_shutdown_t *req = s->priv.shutdown_req;
  int err = 0;

  if (req == NULL || !eddy__queue_empty(&s->priv.write_queue) ||
      s->priv.connect_req != NULL)
    return;
  s->priv.shutdown_req = NULL;
  s->priv.flags &= ~EDDY__STREAM_SHUTTING;
  s->priv.flags |= EDDY__STREAM_SHUT;
  if (shutdown(s->priv.io.fd, SHUT_WR) != 0)
    err = -errno;
  eddy__req_unregister(s->handle.loop, EDDY_SHUTDOWN);
  if (req->priv.cb != NULL) {
    req->priv.cb(req, err);
    eddy__after_callback(s->handle.loop);
  }
}

int eddy_shutdown(eddy_shutdown_t *req, eddy_stream_t *s,
                  eddy_shutdown_cb cb) {
  if (eddy__stream_closing(s))
    return EDDY_EINVAL;
  if (s->priv.io.fd == -1 ||
      (s->priv.flags & (EDDY__STREAM_SHUTTING | EDDY__STREAM_SHUT)) ||
      (!(s->priv.flags & EDDY__STREAM_WRITABLE) && s->priv.connect_req == NULL))
    return EDDY_ENOTCONN;
  eddy__req_init(&req->req, EDDY_SHUTDOWN);
  req->handle = s;
  req->priv.cb = cb;
  s->priv.shutdown_req = req;
  s->priv.flags |= EDDY__STREAM_SHUTTING;
  s->priv.flags &= ~EDDY__STREAM_WRITABLE;
  eddy__req_register(s->handle.loop, EDDY_SHUTDOWN);
  eddy__io_feed(s->handle.loop, &s->priv.io);
  assert(eddy__stream_sound(s));
  return 0;
}

/* ---- the watcher ------------------------------------------------------- */

static void eddy__stream_io(eddy_loop_t *loop, eddy_io_t *io,
                            unsigned events) {
  eddy_stream_t *s = eddy__container_of(io, eddy_stream_t, priv.io);

  (void)loop;
  assert(eddy__stream_sound(s));
  if (s->priv.flags & EDDY__STREAM_LISTENING) {
    eddy__stream_accept_ready(s);
    return;
  }
  if (s->priv.connect_req != NULL) {
    eddy__stream_connect_done(s);
    if (s->priv.connect_req != NULL || eddy__stream_closing(s))
      return;
  }
  if (events & (EDDY__IO_READ | EDDY__IO_RDHUP | EDDY__IO_ERROR)) {
    eddy__stream_read(s, events);
    if (eddy__stream_closing(s))
      return;
  }
  if (events & (EDDY__IO_WRITE | EDDY__IO_ERROR)) {
    if (s->priv.io.fd != -1)
      eddy__stream_write(s);
    eddy__stream_write_callbacks(s, 0);
    if (eddy__stream_closing(s))
      return;
    eddy__stream_drain(s);
  }
}

/* ---- queries and close ------------------------------------------------- */

int eddy_is_readable(const eddy_stream_t *s) {
  return (s->priv.flags & EDDY__STREAM_READABLE) != 0;
}

int eddy_is_writable(const eddy_stream_t *s) {
  return (s->priv.flags & EDDY__STREAM_WRITABLE) != 0;
}

size_t eddy_stream_get_write_queue_size(const eddy_stream_t *s) {
  return s->write_queue_size;
}

int eddy_stream_set_blocking(eddy_stream_t *s, int blocking) {
  int err;

  if (s == NULL || eddy__stream_closing(s))
    return EDDY_EINVAL;
  if (s->priv.io.fd == -1)
    return EDDY_EBADF;
  if ((err = eddy__set_nonblock(s->priv.io.fd, !blocking)) != 0)
    return err;
  if (blocking)
    s->priv.flags |= EDDY__STREAM_BLOCKING;
  else
    s->priv.flags &= ~(unsigned)EDDY__STREAM_BLOCKING;
  return 0;
}

int eddy__stream_handle_fd(const eddy_handle_t *h) {
  return ((const eddy_stream_t *)h)->priv.io.fd;
}

int eddy_stream_fileno(const eddy_stream_t *s, int *fd) {
  if (s->priv.io.fd == -1)
    return EDDY_EBADF;
  *fd = s->priv.io.fd;
  return 0;
}

void eddy__stream_close(eddy_handle_t *h) {
  eddy_stream_t *s = (eddy_stream_t *)h;
  eddy_loop_t *loop = s->handle.loop;

  eddy__io_close(loop, &s->priv.io);
  eddy__stream_timeout_close(s);
  if (s->priv.io.fd != -1)
    close(s->priv.io.fd);
  s->priv.io.fd = -1;
  /* A connection being delivered stays its deliverer's (who gets it
   * back as not taken). */
  if (s->priv.accepted_fd != -1 &&
      !(s->priv.flags & EDDY__STREAM_REMOTE_ACCEPT)) {
    close(s->priv.accepted_fd);
    s->priv.accepted_fd = -1;
  }
  while (s->priv.ipc_nfds > 0)
    close(eddy__stream_ipc_take(s));
  free(s->priv.ipc_fds);
  s->priv.ipc_fds = NULL;
  s->priv.ipc_cap = 0;
  s->priv.flags &= ~(EDDY__STREAM_READING | EDDY__STREAM_LISTENING |
                     EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE);
  assert(eddy__stream_sound(s));
}

/* Close phase, before the close callback: writes finished earlier report
 * their own status; writes still queued, a connect and a shutdown report
 * EDDY_ECANCELED. */
void eddy__stream_finish_close(eddy_handle_t *h) {
  eddy_stream_t *s = (eddy_stream_t *)h;
  eddy_loop_t *loop = s->handle.loop;
  eddy_connect_t *creq = s->priv.connect_req;
  eddy_shutdown_t *sreq = s->priv.shutdown_req;

  while (!eddy__queue_empty(&s->priv.write_queue))
    eddy__write_finish(s, eddy__container_of(s->priv.write_queue.next,
                                             eddy_write_t, priv.node),
                       EDDY_ECANCELED);
  while (!eddy__queue_empty(&s->priv.write_done))
    eddy__stream_write_callbacks(s, 1);
  assert(s->write_queue_size == 0);
  s->priv.connect_req = NULL;
  s->priv.shutdown_req = NULL;
  if (creq != NULL) {
    eddy__req_unregister(loop, EDDY_CONNECT);
    if (creq->priv.cb != NULL) {
      creq->priv.cb(creq, EDDY_ECANCELED);
      eddy__after_callback(loop);
    }
  }
  if (sreq != NULL) {
    eddy__req_unregister(loop, EDDY_SHUTDOWN);
    if (sreq->priv.cb != NULL) {
      sreq->priv.cb(sreq, EDDY_ECANCELED);
      eddy__after_callback(loop);
    }
  }
  if (s->priv.close_hook != NULL)
    s->priv.close_hook(s);
}
