/* poll.c: the portable poll(2) backend. The pollfd array holds one entry per
 * watched fd; io->slot is its index. Entries are removed by marking them
 * (fd = -1, which poll ignores) and compacting just before the next wait, so
 * removal from a callback never disturbs the array being dispatched. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "internal.h"
#include "backend.h"

struct eddy__pollfd {
  struct pollfd *fds;
  unsigned n;
  unsigned cap;
  int holes; /* entries marked for removal */
};

static struct eddy__pollfd *eddy__pollfd_state(eddy_loop_t *loop) {
  return loop->priv.backend_state;
}

static int eddy__pollfd_init(eddy_loop_t *loop) {
  struct eddy__pollfd *st = calloc(1, sizeof(*st));

  if (st == NULL)
    return EDDY_ENOMEM;
  loop->priv.backend_state = st;
  return 0;
}

static void eddy__pollfd_close(eddy_loop_t *loop) {
  struct eddy__pollfd *st = eddy__pollfd_state(loop);

  free(st->fds);
  free(st);
  loop->priv.backend_state = NULL;
}

static short eddy__pollfd_mask(unsigned events) {
  short mask = 0;

  if (events & EDDY__IO_READ)
    mask |= POLLIN;
  if (events & EDDY__IO_WRITE)
    mask |= POLLOUT;
#ifdef POLLRDHUP
  if (events & EDDY__IO_RDHUP)
    mask |= POLLRDHUP;
#endif
  return mask;
}

/* Mark io's entry for removal. */
static void eddy__pollfd_unslot(struct eddy__pollfd *st, eddy_io_t *io) {
  if (io->slot < 0)
    return;
  st->fds[io->slot].fd = -1;
  st->fds[io->slot].revents = 0;
  io->slot = -1;
  st->holes++;
}

static int eddy__pollfd_update(eddy_loop_t *loop, eddy_io_t *io) {
  struct eddy__pollfd *st = eddy__pollfd_state(loop);

  if (io->events == 0) {
    eddy__pollfd_unslot(st, io);
    io->registered = 0;
    return 0;
  }
  if (io->slot < 0) {
    if (st->n == st->cap) {
      unsigned cap = st->cap != 0 ? st->cap * 2 : 64;
      struct pollfd *fds = realloc(st->fds, cap * sizeof(*fds));
      if (fds == NULL)
        return EDDY_ENOMEM;
      st->fds = fds;
      st->cap = cap;
    }
    st->fds[st->n].fd = io->fd;
    st->fds[st->n].revents = 0;
    io->slot = (int)st->n++;
  }
  st->fds[io->slot].events = eddy__pollfd_mask(io->events);
  io->registered = io->events;
  return 0;
}

static void eddy__pollfd_forget(eddy_loop_t *loop, eddy_io_t *io) {
  eddy__pollfd_unslot(eddy__pollfd_state(loop), io);
}

static int eddy__pollfd_check_fd(eddy_loop_t *loop, int fd) {
  (void)loop;
  (void)fd;
  return 0;
}

/* Close the holes left by removals, keeping each moved watcher's slot. */
static void eddy__pollfd_compact(eddy_loop_t *loop, struct eddy__pollfd *st) {
  unsigned i = 0;

  while (st->holes != 0 && i < st->n) {
    if (st->fds[i].fd != -1) {
      i++;
      continue;
    }
    st->fds[i] = st->fds[--st->n];
    st->holes--;
    if (st->fds[i].fd != -1)
      loop->priv.watchers[st->fds[i].fd]->slot = (int)i;
  }
  st->holes = 0;
}

static unsigned eddy__pollfd_events(short mask) {
  unsigned events = 0;

  if (mask & POLLIN)
    events |= EDDY__IO_READ;
  if (mask & POLLOUT)
    events |= EDDY__IO_WRITE;
#ifdef POLLRDHUP
  if (mask & POLLRDHUP)
    events |= EDDY__IO_RDHUP;
#endif
  if (mask & (POLLERR | POLLHUP))
    events |= EDDY__IO_READ | EDDY__IO_WRITE | EDDY__IO_RDHUP;
  if (mask & POLLNVAL)
    events |= EDDY__IO_ERROR;
  return events;
}

static void eddy__pollfd_wait(eddy_loop_t *loop, int timeout) {
  struct eddy__pollfd *st = eddy__pollfd_state(loop);
  uint64_t start = loop->priv.time;
  unsigned n, i;
  int r;

  eddy__pollfd_compact(loop, st);
  for (;;) {
    r = poll(st->fds, st->n, timeout);
    eddy_update_time(loop);
    if (r >= 0 || errno != EINTR || timeout == 0)
      break;
    if (timeout > 0) {
      uint64_t spent = loop->priv.time - start;
      if (spent >= (uint64_t)timeout)
        return;
      timeout -= (int)spent;
      start = loop->priv.time;
    }
  }
  if (r <= 0)
    return;
  /* Entries added by callbacks land past n and are not dispatched now;
   * entries removed by callbacks read as fd -1 / revents 0. */
  n = st->n;
  for (i = 0; i < n; i++) {
    struct pollfd *p = &st->fds[i];
    if (p->fd == -1 || p->revents == 0)
      continue;
    eddy__io_dispatch(loop, p->fd, eddy__pollfd_events(p->revents));
    st->fds[i].revents = 0;
  }
}

const struct eddy_backend eddy__backend_poll = {
    "poll",           eddy__pollfd_init,     eddy__pollfd_close,
    eddy__pollfd_update, eddy__pollfd_forget, eddy__pollfd_check_fd,
    eddy__pollfd_wait,
};
