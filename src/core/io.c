/* io.c: file-descriptor watchers, shared by every handle that owns an fd,
 * and the loop's side of the backend: the wait, its retry, dispatch.
 *
 * The loop keeps an fd-indexed table of watchers and a list of watchers
 * whose wanted events differ from what the backend was told. Changes are
 * applied once, just before the backend waits, so a watcher started and
 * stopped within one iteration costs no system call. The backend fills the
 * fired array; dispatch walks it, and a watcher closed meanwhile has its
 * entries still to come cleared, so no callback reaches freed memory. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"

/* Entries one wait reports at most. */
#define EDDY__IO_BATCH 1024

int eddy__io_loop_init(eddy_loop_t *loop) {
  int err;

  eddy__queue_init(&loop->priv.io.changes);
  eddy__queue_init(&loop->priv.io.pending);
  loop->priv.io.fired = malloc(EDDY__IO_BATCH * sizeof(*loop->priv.io.fired));
  if (loop->priv.io.fired == NULL)
    return EDDY_ENOMEM;
  err = loop->priv.io.backend->init(&loop->priv.io.backend_state);
  if (err != 0) {
    free(loop->priv.io.fired);
    loop->priv.io.fired = NULL;
  }
  return err;
}

void eddy__io_loop_close(eddy_loop_t *loop) {
  assert(loop->priv.io.nfired == 0);
  loop->priv.io.backend->close(loop->priv.io.backend_state);
  loop->priv.io.backend_state = NULL;
  free(loop->priv.io.fired);
  loop->priv.io.fired = NULL;
  free(loop->priv.io.watchers);
  loop->priv.io.watchers = NULL;
  loop->priv.io.nwatchers = 0;
}

void eddy__io_init(eddy_io_t *io, eddy_io_cb cb, int fd) {
  io->cb = cb;
  io->fd = fd;
  io->events = 0;
  io->registered = 0;
  eddy__queue_init(&io->change_node);
  eddy__queue_init(&io->pending_node);
}

/* Grow the fd table so that fd is a valid index. */
static int eddy__watchers_reserve(eddy_loop_t *loop, int fd) {
  eddy_io_t **grown;
  unsigned n;

  if ((unsigned)fd < loop->priv.io.nwatchers)
    return 0;
  n = loop->priv.io.nwatchers != 0 ? loop->priv.io.nwatchers : 64;
  while (n <= (unsigned)fd)
    n *= 2;
  grown = realloc(loop->priv.io.watchers, n * sizeof(*grown));
  if (grown == NULL)
    return EDDY_ENOMEM;
  memset(grown + loop->priv.io.nwatchers, 0,
         (n - loop->priv.io.nwatchers) * sizeof(*grown));
  loop->priv.io.watchers = grown;
  loop->priv.io.nwatchers = n;
  return 0;
}

/* Put io on the change list if the backend must hear of it, or take it
 * off if its wanted events are back to what the backend has. */
static void eddy__io_mark_changed(eddy_loop_t *loop, eddy_io_t *io) {
  if (io->events == io->registered)
    eddy__queue_remove(&io->change_node);
  else if (eddy__queue_empty(&io->change_node))
    eddy__queue_insert_tail(&loop->priv.io.changes, &io->change_node);
}

int eddy__io_start(eddy_loop_t *loop, eddy_io_t *io, unsigned events) {
  int err;

  assert(io->fd >= 0);
  assert((events & ~(EDDY__IO_READ | EDDY__IO_WRITE | EDDY__IO_RDHUP |
                     EDDY__IO_PRI)) == 0);
  err = eddy__watchers_reserve(loop, io->fd);
  if (err != 0)
    return err;
  if (loop->priv.io.watchers[io->fd] != NULL &&
      loop->priv.io.watchers[io->fd] != io)
    return EDDY_EEXIST;
  loop->priv.io.watchers[io->fd] = io;
  io->events |= events;
  eddy__io_mark_changed(loop, io);
  return 0;
}

/* A watcher that wants nothing gives its descriptor back at once, so that
 * another watcher may take it (two poll handles on one fd, one stopped);
 * the backend hears of it with the other changes. */
void eddy__io_stop(eddy_loop_t *loop, eddy_io_t *io, unsigned events) {
  io->events &= ~events;
  eddy__io_mark_changed(loop, io);
  if (io->events == 0 && io->fd >= 0 &&
      (unsigned)io->fd < loop->priv.io.nwatchers &&
      loop->priv.io.watchers[io->fd] == io)
    loop->priv.io.watchers[io->fd] = NULL;
}

/* Events of fd that the running dispatch has yet to deliver are dropped. */
static void eddy__io_unfire(eddy_loop_t *loop, int fd) {
  int i;

  for (i = 0; i < loop->priv.io.nfired; i++)
    if (loop->priv.io.fired[i].fd == fd)
      loop->priv.io.fired[i].fd = -1;
}

void eddy__io_close(eddy_loop_t *loop, eddy_io_t *io) {
  int owner = io->fd >= 0 && (unsigned)io->fd < loop->priv.io.nwatchers &&
              loop->priv.io.watchers[io->fd] == io;

  eddy__queue_remove(&io->change_node);
  eddy__queue_remove(&io->pending_node);
  /* A stopped watcher gave its slot back but the kernel may still watch
   * the fd for it: no other watcher has been told to the backend since
   * (that change would come after this one's), so forgetting is safe. */
  if (owner || io->registered != 0)
    loop->priv.io.backend->forget(loop->priv.io.backend_state, io->fd,
                                  io->registered);
  if (owner) {
    eddy__io_unfire(loop, io->fd);
    loop->priv.io.watchers[io->fd] = NULL;
  }
  io->events = 0;
  io->registered = 0;
}

int eddy__io_fd_in_use(const eddy_loop_t *loop, int fd) {
  return fd >= 0 && (unsigned)fd < loop->priv.io.nwatchers &&
         loop->priv.io.watchers[fd] != NULL;
}

int eddy__io_check_fd(eddy_loop_t *loop, int fd) {
  if (fd < 0 || fcntl(fd, F_GETFD) == -1)
    return EDDY_EBADF;
  if (eddy__io_fd_in_use(loop, fd))
    return EDDY_EEXIST;
  return loop->priv.io.backend->check_fd(loop->priv.io.backend_state, fd);
}

void eddy__io_feed(eddy_loop_t *loop, eddy_io_t *io) {
  if (eddy__queue_empty(&io->pending_node))
    eddy__queue_insert_tail(&loop->priv.io.pending, &io->pending_node);
}

int eddy__io_run_pending(eddy_loop_t *loop) {
  eddy_queue_t batch;
  eddy_queue_t *node;
  eddy_io_t *io;

  if (eddy__queue_empty(&loop->priv.io.pending))
    return 0;
  eddy__queue_move(&loop->priv.io.pending, &batch);
  while (!eddy__queue_empty(&batch)) {
    node = batch.next;
    eddy__queue_remove(node);
    io = eddy__container_of(node, eddy_io_t, pending_node);
    io->cb(loop, io, EDDY__IO_WRITE);
  }
  return 1;
}

/* Make the backend watch what io wants now (nothing: forget the fd). */
static int eddy__io_update(eddy_loop_t *loop, eddy_io_t *io) {
  const struct eddy_backend *b = loop->priv.io.backend;
  int err = 0;

  if (io->events == 0)
    b->forget(loop->priv.io.backend_state, io->fd, io->registered);
  else
    err = b->watch(loop->priv.io.backend_state, io->fd, io->registered,
                   io->events);
  if (err == 0)
    io->registered = io->events;
  return err;
}

void eddy__io_apply_changes(eddy_loop_t *loop) {
  while (!eddy__queue_empty(&loop->priv.io.changes)) {
    eddy_queue_t *node = loop->priv.io.changes.next;
    eddy_io_t *io = eddy__container_of(node, eddy_io_t, change_node);

    eddy__queue_remove(node);
    if (eddy__io_update(loop, io) != 0) {
      io->events = 0;
      io->cb(loop, io, EDDY__IO_ERROR);
    }
  }
}

/* The backend's wait, retried after a signal until the timeout is used
 * up. The loop time is fresh afterwards. Returns the number of entries
 * fired (0 on timeout or error). */
static int eddy__io_wait(eddy_loop_t *loop, int timeout, uint64_t *waited_ns) {
  const struct eddy_backend *b = loop->priv.io.backend;
  uint64_t start = loop->priv.core.time;
  sigset_t mask, *maskp = NULL;
  int n;

  if (loop->priv.io.blocked_signals != 0 &&
      pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0) {
    int sig;

    /* The thread's own mask plus the signals asked for: libuv replaces
     * the mask instead, unblocking what the program had blocked. */
    for (sig = 1; sig <= 64; sig++)
      if (loop->priv.io.blocked_signals & (UINT64_C(1) << (sig - 1)))
        sigaddset(&mask, sig);
    maskp = &mask;
  }
  for (;;) {
    uint64_t t0 = 0;

    if (loop->priv.metrics.idle_on && timeout != 0) {
      t0 = eddy_hrtime();
      if (loop->priv.metrics.state != NULL) /* parked: never a stall */
        __atomic_store_n(&loop->priv.metrics.wait_since, t0, __ATOMIC_RELEASE);
    }
    n = b->wait(loop->priv.io.backend_state, loop->priv.io.fired,
                EDDY__IO_BATCH, timeout, maskp);
    eddy_update_time(loop);
    if (t0 != 0) {
      uint64_t waited = loop->priv.metrics.hrtime - t0;

      /* Out of the wait before its time joins idle_ns, so a reader never
       * counts it twice (eddy_metrics_elu). */
      if (loop->priv.metrics.state != NULL)
        __atomic_store_n(&loop->priv.metrics.wait_since, 0, __ATOMIC_RELEASE);

      eddy__metrics_add(&loop->priv.metrics.idle_ns, waited);
      *waited_ns += waited;
    }
    if (n != -EINTR || timeout == 0)
      break;
    if (timeout > 0) {
      uint64_t spent = loop->priv.core.time - start;
      if (spent >= (uint64_t)timeout)
        return 0;
      timeout -= (int)spent;
      start = loop->priv.core.time;
    }
  }
  assert(n <= EDDY__IO_BATCH);
  return n > 0 ? n : 0;
}

void eddy__io_poll(eddy_loop_t *loop, int timeout) {
  uint64_t waited = 0;
  int n = eddy__io_wait(loop, timeout, &waited);
  int i;

  if (loop->priv.metrics.state != NULL)
    eddy__metrics_woke(loop, waited);

  loop->priv.io.nfired = n;
  eddy__metrics_set(&loop->priv.metrics.events_waiting, (uint64_t)n);
  eddy__metrics_add(&loop->priv.metrics.events, (uint64_t)n);
  for (i = 0; i < n; i++) {
    struct eddy__fired *f = &loop->priv.io.fired[i];
    eddy_io_t *io;
    unsigned ready;

    if (f->fd == -1)
      continue; /* closed by an earlier callback of this batch */
    io = (unsigned)f->fd < loop->priv.io.nwatchers
             ? loop->priv.io.watchers[f->fd]
             : NULL;
    if (io == NULL) {
      /* The kernel still watches an fd the loop forgot (a duplicate of a
       * closed descriptor): stop it. */
      loop->priv.io.backend->forget(loop->priv.io.backend_state, f->fd,
                                    EDDY__IO_UNKNOWN);
      continue;
    }
    ready = f->events & (io->events | EDDY__IO_ERROR);
    if (ready != 0) {
      eddy__metrics_running(loop, EDDY_POLL, (const void *)io->cb);
      io->cb(loop, io, ready);
    }
  }
  loop->priv.io.nfired = 0;
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
