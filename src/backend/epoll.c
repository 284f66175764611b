/* epoll.c: the Linux backend. Level-triggered; each registered fd carries
 * its own number as epoll data, so an event for an fd whose watcher is gone
 * is recognised (and unregistered) instead of touching freed memory. */
#ifdef __linux__

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"
#include "backend.h"

#define EDDY__EPOLL_BATCH 1024

struct eddy__epoll {
  int epfd;
  int nready; /* events of the current wait still being dispatched */
  struct epoll_event ready[EDDY__EPOLL_BATCH];
};

static struct eddy__epoll *eddy__epoll_state(eddy_loop_t *loop) {
  return loop->priv.backend_state;
}

static int eddy__epoll_init(eddy_loop_t *loop) {
  struct eddy__epoll *st = malloc(sizeof(*st));

  if (st == NULL)
    return EDDY_ENOMEM;
  st->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (st->epfd == -1) {
    int err = -errno;
    free(st);
    return err;
  }
  st->nready = 0;
  loop->priv.backend_state = st;
  return 0;
}

static void eddy__epoll_close(eddy_loop_t *loop) {
  struct eddy__epoll *st = eddy__epoll_state(loop);

  close(st->epfd);
  free(st);
  loop->priv.backend_state = NULL;
}

static uint32_t eddy__epoll_mask(unsigned events) {
  uint32_t mask = 0;

  if (events & EDDY__IO_READ)
    mask |= EPOLLIN;
  if (events & EDDY__IO_WRITE)
    mask |= EPOLLOUT;
  if (events & EDDY__IO_RDHUP)
    mask |= EPOLLRDHUP;
  return mask;
}

static int eddy__epoll_update(eddy_loop_t *loop, eddy_io_t *io) {
  struct eddy__epoll *st = eddy__epoll_state(loop);
  struct epoll_event ev;
  int op;

  if (io->events == 0) {
    if (io->registered != 0)
      epoll_ctl(st->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->registered = 0;
    return 0;
  }
  ev.events = eddy__epoll_mask(io->events);
  ev.data.u64 = 0;
  ev.data.fd = io->fd;
  op = io->registered != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(st->epfd, op, io->fd, &ev) != 0) {
    /* The kernel's view may differ from ours after a dup'd fd was closed:
     * try the other operation once. */
    if ((op == EPOLL_CTL_ADD && errno == EEXIST) ||
        (op == EPOLL_CTL_MOD && errno == ENOENT)) {
      op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      if (epoll_ctl(st->epfd, op, io->fd, &ev) != 0)
        return -errno;
    } else {
      return -errno;
    }
  }
  io->registered = io->events;
  return 0;
}

static void eddy__epoll_forget(eddy_loop_t *loop, eddy_io_t *io) {
  struct eddy__epoll *st = eddy__epoll_state(loop);
  int i;

  if (io->registered != 0)
    epoll_ctl(st->epfd, EPOLL_CTL_DEL, io->fd, NULL);
  for (i = 0; i < st->nready; i++)
    if (st->ready[i].data.fd == io->fd)
      st->ready[i].data.fd = -1;
}

static int eddy__epoll_check_fd(eddy_loop_t *loop, int fd) {
  struct eddy__epoll *st = eddy__epoll_state(loop);
  struct epoll_event ev = {0};

  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
    return errno == EEXIST ? 0 : -errno;
  epoll_ctl(st->epfd, EPOLL_CTL_DEL, fd, NULL);
  return 0;
}

static unsigned eddy__epoll_events(uint32_t mask) {
  unsigned events = 0;

  if (mask & EPOLLIN)
    events |= EDDY__IO_READ;
  if (mask & EPOLLOUT)
    events |= EDDY__IO_WRITE;
  if (mask & EPOLLRDHUP)
    events |= EDDY__IO_RDHUP;
  /* An error or hang-up is news for whoever reads or writes: report it as
   * every kind of readiness, and the next read or write returns it. */
  if (mask & (EPOLLERR | EPOLLHUP))
    events |= EDDY__IO_READ | EDDY__IO_WRITE | EDDY__IO_RDHUP;
  return events;
}

static void eddy__epoll_wait(eddy_loop_t *loop, int timeout) {
  struct eddy__epoll *st = eddy__epoll_state(loop);
  uint64_t start = loop->priv.time;
  int n, i;

  for (;;) {
    n = epoll_wait(st->epfd, st->ready, EDDY__EPOLL_BATCH, timeout);
    eddy_update_time(loop);
    if (n >= 0 || errno != EINTR || timeout == 0)
      break;
    /* Interrupted: wait out the rest of the timeout. */
    if (timeout > 0) {
      uint64_t spent = loop->priv.time - start;
      if (spent >= (uint64_t)timeout)
        return;
      timeout -= (int)spent;
      start = loop->priv.time;
    }
  }
  if (n <= 0)
    return;
  st->nready = n;
  for (i = 0; i < n; i++) {
    int fd = st->ready[i].data.fd;

    if (fd == -1)
      continue; /* forgotten by an earlier callback of this batch */
    if ((unsigned)fd >= loop->priv.nwatchers ||
        loop->priv.watchers[fd] == NULL) {
      epoll_ctl(st->epfd, EPOLL_CTL_DEL, fd, NULL);
      continue;
    }
    eddy__io_dispatch(loop, fd, eddy__epoll_events(st->ready[i].events));
  }
  st->nready = 0;
}

const struct eddy_backend eddy__backend_epoll = {
    "epoll",          eddy__epoll_init,     eddy__epoll_close,
    eddy__epoll_update, eddy__epoll_forget, eddy__epoll_check_fd,
    eddy__epoll_wait,
};

#endif /* __linux__ */
