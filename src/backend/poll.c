/* poll.c: the portable poll(2) backend. The pollfd array holds one entry per
 * watched fd, and an fd-indexed table gives each fd's entry. Entries are
 * removed by marking them (fd = -1, which poll ignores) and compacting just
 * before the next wait, so removal never disturbs the array during a
 * wait's bookkeeping. */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

struct eddy__pollfd {
  struct pollfd *fds;
  unsigned n;
  unsigned cap;
  unsigned holes; /* entries marked for removal */
  int *slot_of;   /* fd -> index in fds, -1 when none */
  unsigned nslots;
};

static int eddy__pollfd_init(void **state) {
  struct eddy__pollfd *st = calloc(1, sizeof(*st));

  if (st == NULL)
    return -ENOMEM;
  *state = st;
  return 0;
}

static void eddy__pollfd_close(void *state) {
  struct eddy__pollfd *st = state;

  free(st->fds);
  free(st->slot_of);
  free(st);
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
  if (events & EDDY__IO_PRI)
    mask |= POLLPRI;
  return mask;
}

static int eddy__pollfd_slot(const struct eddy__pollfd *st, int fd) {
  return (unsigned)fd < st->nslots ? st->slot_of[fd] : -1;
}

/* Make room for fd in the slot table and for one more entry. */
static int eddy__pollfd_reserve(struct eddy__pollfd *st, int fd) {
  if ((unsigned)fd >= st->nslots) {
    unsigned n = st->nslots != 0 ? st->nslots : 64;
    int *grown;

    while (n <= (unsigned)fd)
      n *= 2;
    grown = realloc(st->slot_of, n * sizeof(*grown));
    if (grown == NULL)
      return -ENOMEM;
    memset(grown + st->nslots, 0xff, (n - st->nslots) * sizeof(*grown));
    st->slot_of = grown;
    st->nslots = n;
  }
  if (st->n == st->cap) {
    unsigned cap = st->cap != 0 ? st->cap * 2 : 64;
    struct pollfd *fds = realloc(st->fds, cap * sizeof(*fds));

    if (fds == NULL)
      return -ENOMEM;
    st->fds = fds;
    st->cap = cap;
  }
  return 0;
}

static int eddy__pollfd_watch(void *state, int fd, unsigned registered,
                              unsigned events) {
  struct eddy__pollfd *st = state;
  int slot = eddy__pollfd_slot(st, fd);
  int err;

  (void)registered;
  assert(events != 0);
  if (slot < 0) {
    if ((err = eddy__pollfd_reserve(st, fd)) != 0)
      return err;
    slot = (int)st->n++;
    st->fds[slot].fd = fd;
    st->fds[slot].revents = 0;
    st->slot_of[fd] = slot;
  }
  st->fds[slot].events = eddy__pollfd_mask(events);
  return 0;
}

static void eddy__pollfd_forget(void *state, int fd, unsigned registered) {
  struct eddy__pollfd *st = state;
  int slot = eddy__pollfd_slot(st, fd);

  (void)registered;
  if (slot < 0)
    return;
  assert(st->fds[slot].fd == fd);
  st->fds[slot].fd = -1;
  st->fds[slot].revents = 0;
  st->slot_of[fd] = -1;
  st->holes++;
}

static int eddy__pollfd_check_fd(void *state, int fd) {
  (void)state;
  (void)fd;
  return 0;
}

/* Close the holes left by removals, keeping the slot table in step. */
static void eddy__pollfd_compact(struct eddy__pollfd *st) {
  unsigned i = 0;

  while (st->holes != 0 && i < st->n) {
    if (st->fds[i].fd != -1) {
      i++;
      continue;
    }
    st->fds[i] = st->fds[--st->n];
    st->holes--;
    if (st->fds[i].fd != -1)
      st->slot_of[st->fds[i].fd] = (int)i;
  }
  assert(st->holes == 0);
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
  if (mask & POLLPRI)
    events |= EDDY__IO_PRI;
  if (mask & (POLLERR | POLLHUP))
    events |= EDDY__IO_READ | EDDY__IO_WRITE | EDDY__IO_RDHUP | EDDY__IO_PRI;
  if (mask & POLLNVAL)
    events |= EDDY__IO_ERROR;
  return events;
}

static int eddy__pollfd_wait(void *state, struct eddy__fired *fired, int max,
                             int timeout, const sigset_t *mask) {
  struct eddy__pollfd *st = state;
  unsigned i;
  int r, n = 0;

  eddy__pollfd_compact(st);
  if (mask == NULL) {
    r = poll(st->fds, st->n, timeout);
  } else {
    struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000};

    r = ppoll(st->fds, st->n, timeout < 0 ? NULL : &ts, mask);
  }
  if (r < 0)
    return -errno;
  for (i = 0; i < st->n && n < max && r > 0; i++) {
    struct pollfd *p = &st->fds[i];

    if (p->revents == 0)
      continue;
    fired[n].fd = p->fd;
    fired[n].events = eddy__pollfd_events(p->revents);
    p->revents = 0;
    n++;
    r--;
  }
  return n;
}

const struct eddy_backend eddy__backend_poll = {
    .name = "poll",
    .init = eddy__pollfd_init,
    .close = eddy__pollfd_close,
    .watch = eddy__pollfd_watch,
    .forget = eddy__pollfd_forget,
    .check_fd = eddy__pollfd_check_fd,
    .wait = eddy__pollfd_wait,
};
