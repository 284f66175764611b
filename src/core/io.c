/* io.c: file-descriptor watchers, shared by every handle that owns an fd.
 *
 * The loop keeps an fd-indexed table of watchers and a list of watchers
 * whose wanted events differ from what the backend was told. Changes are
 * applied once, just before the backend waits, so a watcher started and
 * stopped within one iteration costs no system call. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/backend.h"
#include "internal.h"

void eddy__io_init(eddy_io_t *io, eddy_io_cb cb, int fd) {
  io->cb = cb;
  io->fd = fd;
  io->events = 0;
  io->registered = 0;
  io->slot = -1;
  eddy__queue_init(&io->change_node);
  eddy__queue_init(&io->pending_node);
}

/* Grow the fd table so that fd is a valid index. */
static int eddy__watchers_reserve(eddy_loop_t *loop, int fd) {
  eddy_io_t **grown;
  unsigned n;

  if ((unsigned)fd < loop->priv.nwatchers)
    return 0;
  n = loop->priv.nwatchers != 0 ? loop->priv.nwatchers : 64;
  while (n <= (unsigned)fd)
    n *= 2;
  grown = realloc(loop->priv.watchers, n * sizeof(*grown));
  if (grown == NULL)
    return EDDY_ENOMEM;
  memset(grown + loop->priv.nwatchers, 0,
         (n - loop->priv.nwatchers) * sizeof(*grown));
  loop->priv.watchers = grown;
  loop->priv.nwatchers = n;
  return 0;
}

/* Put io on the change list if the backend must hear of it, or take it
 * off if its wanted events are back to what the backend has. */
static void eddy__io_mark_changed(eddy_loop_t *loop, eddy_io_t *io) {
  if (io->events == io->registered)
    eddy__queue_remove(&io->change_node);
  else if (eddy__queue_empty(&io->change_node))
    eddy__queue_insert_tail(&loop->priv.io_changes, &io->change_node);
}

int eddy__io_start(eddy_loop_t *loop, eddy_io_t *io, unsigned events) {
  int err;

  assert(io->fd >= 0);
  assert((events & ~(EDDY__IO_READ | EDDY__IO_WRITE | EDDY__IO_RDHUP)) == 0);
  err = eddy__watchers_reserve(loop, io->fd);
  if (err != 0)
    return err;
  if (loop->priv.watchers[io->fd] != NULL && loop->priv.watchers[io->fd] != io)
    return EDDY_EEXIST;
  loop->priv.watchers[io->fd] = io;
  io->events |= events;
  eddy__io_mark_changed(loop, io);
  return 0;
}

void eddy__io_stop(eddy_loop_t *loop, eddy_io_t *io, unsigned events) {
  io->events &= ~events;
  eddy__io_mark_changed(loop, io);
}

void eddy__io_close(eddy_loop_t *loop, eddy_io_t *io) {
  eddy__queue_remove(&io->change_node);
  eddy__queue_remove(&io->pending_node);
  if (io->fd >= 0 && (unsigned)io->fd < loop->priv.nwatchers &&
      loop->priv.watchers[io->fd] == io) {
    loop->priv.backend->forget(loop, io);
    loop->priv.watchers[io->fd] = NULL;
  }
  io->events = 0;
  io->registered = 0;
}

int eddy__io_check_fd(eddy_loop_t *loop, int fd) {
  if (fd < 0 || fcntl(fd, F_GETFD) == -1)
    return EDDY_EBADF;
  return loop->priv.backend->check_fd(loop, fd);
}

void eddy__io_feed(eddy_loop_t *loop, eddy_io_t *io) {
  if (eddy__queue_empty(&io->pending_node))
    eddy__queue_insert_tail(&loop->priv.pending, &io->pending_node);
}

/* Tell the backend about every changed watcher. A watcher the kernel refuses
 * (its fd was closed behind our back) is stopped and told with
 * EDDY__IO_ERROR, in this poll phase. */
void eddy__io_apply_changes(eddy_loop_t *loop) {
  while (!eddy__queue_empty(&loop->priv.io_changes)) {
    eddy_queue_t *node = loop->priv.io_changes.next;
    eddy_io_t *io = eddy__container_of(node, eddy_io_t, change_node);

    eddy__queue_remove(node);
    if (loop->priv.backend->update(loop, io) != 0) {
      io->events = 0;
      io->cb(loop, io, EDDY__IO_ERROR);
    }
  }
}

void eddy__io_dispatch(eddy_loop_t *loop, int fd, unsigned events) {
  eddy_io_t *io;
  unsigned ready;

  if (fd < 0 || (unsigned)fd >= loop->priv.nwatchers)
    return;
  io = loop->priv.watchers[fd];
  if (io == NULL)
    return;
  ready = events & (io->events | EDDY__IO_ERROR);
  if (ready != 0)
    io->cb(loop, io, ready);
}

void eddy__io_free(eddy_loop_t *loop) {
  free(loop->priv.watchers);
  loop->priv.watchers = NULL;
  loop->priv.nwatchers = 0;
}

int eddy__socket_name(int fd, struct sockaddr *name, int *namelen,
                      int peer) {
  socklen_t len;
  int r;

  if (name == NULL || namelen == NULL || *namelen < 0)
    return EDDY_EINVAL;
  if (fd < 0)
    return EDDY_EBADF;
  len = (socklen_t)*namelen;
  r = peer ? getpeername(fd, name, &len) : getsockname(fd, name, &len);
  if (r != 0)
    return -errno;
  *namelen = (int)len;
  return 0;
}

int eddy__set_nonblock(int fd, int on) {
  int flags = fcntl(fd, F_GETFL);

  if (flags == -1)
    return -errno;
  flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  return fcntl(fd, F_SETFL, flags) == -1 ? -errno : 0;
}

int eddy__set_cloexec(int fd, int on) {
  int flags = fcntl(fd, F_GETFD);

  if (flags == -1)
    return -errno;
  flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  return fcntl(fd, F_SETFD, flags) == -1 ? -errno : 0;
}
