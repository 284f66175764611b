/* eddy/poll.h: watch a file descriptor the caller owns.
 *
 * The callback reports readiness, not data: read or write the descriptor
 * yourself (non-blocking). At most one poll handle per descriptor per loop.
 * Close the handle before closing the descriptor. Loop thread only.
 */
#ifndef EDDY_POLL_H
#define EDDY_POLL_H

#include "export.h"

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  EDDY_READABLE = 1,
  EDDY_WRITABLE = 2,
  EDDY_DISCONNECT = 4, /* the peer closed its write side (where supported) */
  EDDY_PRIORITIZED = 8 /* out-of-band data (TCP urgent data, a sysfs
                          attribute that changed: POLLPRI) */
};

typedef struct eddy_poll_s eddy_poll_t;
/* status is 0 or a negative error (EDDY_EBADF if the descriptor became
 * invalid; the handle is then stopped). events is a mask of the above. */
typedef void (*eddy_poll_cb)(eddy_poll_t *poll, int status, int events);

struct eddy_poll_s {
  eddy_handle_t handle;
  struct {
    eddy_poll_cb cb;
    eddy_io_t io;
  } priv;
};

/* Initialise a poll handle for fd, which is set non-blocking. Returns
 * EDDY_EBADF for a descriptor that is not open, EDDY_EPERM for one the
 * backend cannot watch (e.g. a regular file under epoll), EDDY_EEXIST
 * when a started handle of this loop watches fd, EDDY_ENOMEM. */
EDDY_EXTERN int eddy_poll_init(eddy_loop_t *loop, eddy_poll_t *poll, int fd);

/* Watch for events (a mask of EDDY_READABLE, EDDY_WRITABLE,
 * EDDY_DISCONNECT, EDDY_PRIORITIZED); calling it again changes the mask. A zero mask stops.
 * Returns EDDY_EINVAL for a NULL cb, unknown bits or a closing handle,
 * EDDY_EEXIST if another handle of the loop watches the same fd,
 * EDDY_ENOMEM. */
EDDY_EXTERN int eddy_poll_start(eddy_poll_t *poll, int events, eddy_poll_cb cb);

/* Stop watching. Returns 0. */
EDDY_EXTERN int eddy_poll_stop(eddy_poll_t *poll);

/* The watched descriptor. */
EDDY_EXTERN int eddy_poll_fileno(const eddy_poll_t *poll);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_POLL_H */
