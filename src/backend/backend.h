/* backend.h: the interface every poll backend implements.
 *
 * A backend is one small file behind this table (the redis ae_* model). It
 * knows descriptors and event bits, nothing of the loop: it mirrors what
 * the loop wants watched into the kernel and, when asked to wait, fills an
 * array of fired (descriptor, events) pairs and returns their count. The
 * loop (src/core/io.c) owns the watchers, retries an interrupted wait,
 * keeps the time and dispatches. Backends include this header and system
 * headers only, and return 0 or a negative errno value. */
#ifndef EDDY_BACKEND_H
#define EDDY_BACKEND_H

#include <signal.h>

/* Event bits, backend-neutral. */
enum {
  EDDY__IO_READ = 1 << 0,
  EDDY__IO_WRITE = 1 << 1,
  EDDY__IO_RDHUP = 1 << 2, /* the peer shut down its side */
  EDDY__IO_ERROR = 1 << 3, /* descriptor invalid; reported, never requested */
  EDDY__IO_PRI = 1 << 4,   /* out-of-band (priority) data to read */
  EDDY__IO_UNKNOWN = ~0u /* forget(): what the fd was watched for is unknown */
};

/* One descriptor a wait found ready. */
struct eddy__fired {
  int fd;
  unsigned events; /* EDDY__IO_*; an error or hang-up reports every kind */
};

struct eddy_backend {
  const char *name;
  /* Make the backend's state. */
  int (*init)(void **state);
  void (*close)(void *state);
  /* Watch events (not 0) for fd, which was being watched for registered
   * (0: not at all). */
  int (*watch)(void *state, int fd, unsigned registered, unsigned events);
  /* Stop watching fd: it is about to be closed, or the loop has no watcher
   * for it. registered: what it was last watched for (0: nothing, so
   * there is nothing to undo), or EDDY__IO_UNKNOWN. */
  void (*forget)(void *state, int fd, unsigned registered);
  /* Can fd be watched at all? */
  int (*check_fd)(void *state, int fd);
  /* Wait up to timeout ms (-1: forever, 0: not at all) and fill fired with
   * at most max entries, with the thread's signal mask set to *mask during
   * the wait if mask is not NULL. Returns their count, or a negative errno
   * value (-EINTR when a signal interrupted the wait). */
  int (*wait)(void *state, struct eddy__fired *fired, int max, int timeout,
              const sigset_t *mask);
  /* The one descriptor that is readable when a wait would return, or -1
   * if the backend has none. */
  int (*fd)(const void *state);
};

extern const struct eddy_backend eddy__backend_poll;
#ifdef __linux__
extern const struct eddy_backend eddy__backend_epoll;
#endif

#endif /* EDDY_BACKEND_H */
