/* io.h: descriptor watchers, shared by every handle that owns an fd, and
 * small descriptor helpers.
 *
 * A watcher is bound to one fd; start/stop record the wanted events and the
 * change reaches the backend just before it waits. eddy__io_close must be
 * called before the fd is closed. */
#ifndef EDDY_CORE_IO_H
#define EDDY_CORE_IO_H

#include <stddef.h>
#include <sys/uio.h>

#include "backend/backend.h"
#include "eddy/loop.h"

/* eddy_buf_t arrays are passed to readv/writev as struct iovec arrays. */
_Static_assert(sizeof(eddy_buf_t) == sizeof(struct iovec) &&
                   offsetof(eddy_buf_t, base) ==
                       offsetof(struct iovec, iov_base) &&
                   offsetof(eddy_buf_t, len) == offsetof(struct iovec, iov_len),
               "eddy_buf_t must match struct iovec");

void eddy__io_init(eddy_io_t *io, eddy_io_cb cb, int fd);
int eddy__io_start(eddy_loop_t *loop, eddy_io_t *io, unsigned events);
void eddy__io_stop(eddy_loop_t *loop, eddy_io_t *io, unsigned events);
void eddy__io_close(eddy_loop_t *loop, eddy_io_t *io);
/* Can fd be watched? 0, EDDY_EBADF, EDDY_EEXIST (another handle of this
 * loop watches it) or the backend's refusal. */
int eddy__io_check_fd(eddy_loop_t *loop, int fd);
/* Does a started watcher of this loop own fd? (libuv's uv__fd_exists) */
int eddy__io_fd_in_use(const eddy_loop_t *loop, int fd);
/* Defer a write-readiness callback to the next pending phase (streams use
 * this for writes that completed without waiting). */
void eddy__io_feed(eddy_loop_t *loop, eddy_io_t *io);

/* The loop's side (loop.c). */
int eddy__io_loop_init(eddy_loop_t *loop);
void eddy__io_loop_close(eddy_loop_t *loop);
/* Tell the backend about every changed watcher. A watcher the kernel
 * refuses (its fd was closed behind our back) is stopped and told with
 * EDDY__IO_ERROR, in this poll phase. */
void eddy__io_apply_changes(eddy_loop_t *loop);
/* Wait for events up to timeout ms (a signal does not shorten it), update
 * the loop time and dispatch what fired. */
void eddy__io_poll(eddy_loop_t *loop, int timeout);
/* Run the pending callbacks queued so far. Returns non-zero if any ran. */
int eddy__io_run_pending(eddy_loop_t *loop);
static inline int eddy__io_has_pending(const eddy_loop_t *loop) {
  return loop->priv.io.pending.next != &loop->priv.io.pending;
}

/* Descriptor helpers. */
int eddy__set_nonblock(int fd, int on);
int eddy__set_cloexec(int fd, int on);
/* getsockname/getpeername into name, *namelen in and out: 0, EDDY_EINVAL,
 * EDDY_EBADF (fd < 0) or the call's error. */
struct sockaddr;
int eddy__socket_name(int fd, struct sockaddr *name, int *namelen, int peer);

#endif /* EDDY_CORE_IO_H */
