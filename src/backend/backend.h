/* backend.h: the interface every poll backend implements.
 *
 * A backend is one file with a handful of functions behind this table (the
 * redis ae_* model). The loop owns the fd -> watcher table
 * (loop->priv.watchers) and the change list; a backend only mirrors wanted
 * events into the kernel and dispatches what the kernel reports. */
#ifndef EDDY_BACKEND_H
#define EDDY_BACKEND_H

#include "eddy/loop.h"

struct eddy_backend {
  const char *name;
  /* Create the backend state in loop->priv.backend_state. */
  int (*init)(eddy_loop_t *loop);
  void (*close)(eddy_loop_t *loop);
  /* Make the kernel watch io->events for io->fd (0 = stop watching).
   * Returns 0 or a negative errno; on success io->registered = io->events. */
  int (*update)(eddy_loop_t *loop, eddy_io_t *io);
  /* fd is about to be closed: forget it now and drop any event for it that
   * is still waiting to be dispatched in this poll phase. */
  void (*forget)(eddy_loop_t *loop, eddy_io_t *io);
  /* Can this fd be watched at all? 0 or a negative errno. */
  int (*check_fd)(eddy_loop_t *loop, int fd);
  /* Wait up to timeout ms (-1: forever, 0: not at all) and call each ready
   * watcher's callback. Returns after dispatching, on timeout, or when a
   * signal interrupted the wait. */
  void (*wait)(eddy_loop_t *loop, int timeout);
};

extern const struct eddy_backend eddy__backend_poll;
#ifdef __linux__
extern const struct eddy_backend eddy__backend_epoll;
#endif

/* Translate, then call the watcher registered for fd with the events it
 * wants (plus error reports). Shared by the backends; io.c. */
void eddy__io_dispatch(eddy_loop_t *loop, int fd, unsigned events);

#endif /* EDDY_BACKEND_H */
