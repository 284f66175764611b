/* wakeup.c: the loop's wake-up descriptor.
 *
 * One descriptor per loop, created on first use, lets other threads and
 * signal handlers interrupt the poll phase: an eventfd on Linux, a
 * non-blocking pipe elsewhere. Writers only set a flag on what they want run
 * and then write; the loop drains the descriptor and asks each user (async
 * handles, signals, work-pool completions) to look at its flags. The watcher is not a handle, so it
 * never keeps the loop alive by itself. */
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "internal.h"

static void eddy__wakeup_read(eddy_loop_t *loop, eddy_io_t *io,
                              unsigned events) {
  char buf[64];
  ssize_t r;

  (void)events;
  /* Drain: an eventfd reads whole in one go (8 bytes); a pipe is empty once
   * a read comes back short. */
  do
    r = read(io->fd, buf, sizeof(buf));
  while (r == (ssize_t)sizeof(buf) || (r == -1 && errno == EINTR));
  eddy__signal_dispatch(loop);
  eddy__async_dispatch(loop);
  eddy__work_dispatch(loop);
}

int eddy__wakeup_open(eddy_loop_t *loop) {
  int fds[2];
  int err;

  if (loop->priv.wakeup_io.fd != -1)
    return 0;
#ifdef __linux__
  fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fds[0] == -1)
    return -errno;
  fds[1] = fds[0];
#else
  if (pipe(fds) != 0)
    return -errno;
  if ((err = eddy__set_nonblock(fds[0], 1)) != 0 ||
      (err = eddy__set_nonblock(fds[1], 1)) != 0 ||
      (err = eddy__set_cloexec(fds[0], 1)) != 0 ||
      (err = eddy__set_cloexec(fds[1], 1)) != 0) {
    close(fds[0]);
    close(fds[1]);
    return err;
  }
#endif
  eddy__io_init(&loop->priv.wakeup_io, eddy__wakeup_read, fds[0]);
  err = eddy__io_start(loop, &loop->priv.wakeup_io, EDDY__IO_READ);
  if (err != 0) {
    if (fds[1] != fds[0])
      close(fds[1]);
    close(fds[0]);
    loop->priv.wakeup_io.fd = -1;
    return err;
  }
  loop->priv.wakeup_wfd = fds[1];
  return 0;
}

void eddy__wakeup_close(eddy_loop_t *loop) {
  if (loop->priv.wakeup_io.fd == -1)
    return;
  eddy__io_close(loop, &loop->priv.wakeup_io);
  if (loop->priv.wakeup_wfd != loop->priv.wakeup_io.fd)
    close(loop->priv.wakeup_wfd);
  close(loop->priv.wakeup_io.fd);
  loop->priv.wakeup_io.fd = -1;
  loop->priv.wakeup_wfd = -1;
}

/* Any thread, and signal handlers: write(2) is async-signal-safe. A full
 * pipe or a saturated eventfd already means "wake up", so errors are
 * ignored. errno is preserved for the interrupted code. */
void eddy__wakeup_signal(eddy_loop_t *loop) {
  int saved = errno;
  ssize_t r;
#ifdef __linux__
  uint64_t one = 1;
  do
    r = write(loop->priv.wakeup_wfd, &one, sizeof(one));
  while (r == -1 && errno == EINTR);
#else
  char one = 1;
  do
    r = write(loop->priv.wakeup_wfd, &one, 1);
  while (r == -1 && errno == EINTR);
#endif
  errno = saved;
}
