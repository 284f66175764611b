/* epoll.c: the Linux backend. Level-triggered; each registered fd carries
 * its own number as epoll data, so the loop can recognise an event for an
 * fd whose watcher is gone. */
#ifdef __linux__

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backend.h"

#define EDDY__EPOLL_BATCH 1024

struct eddy__epoll {
  int epfd;
  struct epoll_event ready[EDDY__EPOLL_BATCH];
};

static int eddy__epoll_init(void **state) {
  struct eddy__epoll *st = malloc(sizeof(*st));

  if (st == NULL)
    return -ENOMEM;
  st->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (st->epfd == -1) {
    int err = -errno;
    free(st);
    return err;
  }
  *state = st;
  return 0;
}

static void eddy__epoll_close(void *state) {
  struct eddy__epoll *st = state;

  close(st->epfd);
  free(st);
}

static uint32_t eddy__epoll_mask(unsigned events) {
  uint32_t mask = 0;

  if (events & EDDY__IO_READ)
    mask |= EPOLLIN;
  if (events & EDDY__IO_WRITE)
    mask |= EPOLLOUT;
  if (events & EDDY__IO_RDHUP)
    mask |= EPOLLRDHUP;
  if (events & EDDY__IO_PRI)
    mask |= EPOLLPRI;
  return mask;
}

static int eddy__epoll_watch(void *state, int fd, unsigned registered,
                             unsigned events) {
  struct eddy__epoll *st = state;
  struct epoll_event ev;
  int op = registered != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

  assert(events != 0);
  ev.events = eddy__epoll_mask(events);
  ev.data.u64 = 0;
  ev.data.fd = fd;
  if (epoll_ctl(st->epfd, op, fd, &ev) == 0)
    return 0;
  /* The kernel's view may differ from ours after a dup'd fd was closed:
   * try the other operation once. */
  if ((op == EPOLL_CTL_ADD && errno == EEXIST) ||
      (op == EPOLL_CTL_MOD && errno == ENOENT)) {
    op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(st->epfd, op, fd, &ev) == 0)
      return 0;
  }
  return -errno;
}

static void eddy__epoll_forget(void *state, int fd, unsigned registered) {
  struct eddy__epoll *st = state;

  if (registered != 0)
    epoll_ctl(st->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* epoll refuses what it cannot watch (regular files: EPERM). */
static int eddy__epoll_check_fd(void *state, int fd) {
  struct eddy__epoll *st = state;
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
  if (mask & EPOLLPRI)
    events |= EDDY__IO_PRI;
  /* An error or hang-up is news for whoever reads or writes: report it as
   * every kind of readiness, and the next read or write returns it. */
  if (mask & (EPOLLERR | EPOLLHUP))
    events |= EDDY__IO_READ | EDDY__IO_WRITE | EDDY__IO_RDHUP | EDDY__IO_PRI;
  return events;
}

static int eddy__epoll_fd(const void *state) {
  return ((const struct eddy__epoll *)state)->epfd;
}

static int eddy__epoll_wait(void *state, struct eddy__fired *fired, int max,
                            int timeout, const sigset_t *mask) {
  struct eddy__epoll *st = state;
  int n, i;

  if (max > EDDY__EPOLL_BATCH)
    max = EDDY__EPOLL_BATCH;
  /* epoll_pwait with no mask still costs the kernel a signal-mask step on
   * every call: the plain call unless a signal is to be blocked. */
  if (mask == NULL)
    n = epoll_wait(st->epfd, st->ready, max, timeout);
  else
    n = epoll_pwait(st->epfd, st->ready, max, timeout, mask);
  if (n < 0)
    return -errno;
  for (i = 0; i < n; i++) {
    fired[i].fd = st->ready[i].data.fd;
    fired[i].events = eddy__epoll_events(st->ready[i].events);
  }
  return n;
}

const struct eddy_backend eddy__backend_epoll = {
    .name = "epoll",
    .init = eddy__epoll_init,
    .close = eddy__epoll_close,
    .watch = eddy__epoll_watch,
    .forget = eddy__epoll_forget,
    .check_fd = eddy__epoll_check_fd,
    .wait = eddy__epoll_wait,
    .fd = eddy__epoll_fd,
};

#endif /* __linux__ */
