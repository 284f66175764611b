/* poll.c: poll handles, readiness of a descriptor the caller owns. */
#include "eddy/poll.h"
#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"

#define EDDY__POLL_EVENTS                                                      \
  (EDDY_READABLE | EDDY_WRITABLE | EDDY_DISCONNECT | EDDY_PRIORITIZED)
#define EDDY__POLL_IO_EVENTS                                                   \
  (EDDY__IO_READ | EDDY__IO_WRITE | EDDY__IO_RDHUP | EDDY__IO_PRI)

static unsigned eddy__poll_to_io(int events) {
  return ((events & EDDY_READABLE) ? EDDY__IO_READ : 0) |
         ((events & EDDY_WRITABLE) ? EDDY__IO_WRITE : 0) |
         ((events & EDDY_DISCONNECT) ? EDDY__IO_RDHUP : 0) |
         ((events & EDDY_PRIORITIZED) ? EDDY__IO_PRI : 0);
}

static int eddy__io_to_poll(unsigned events) {
  return ((events & EDDY__IO_READ) ? EDDY_READABLE : 0) |
         ((events & EDDY__IO_WRITE) ? EDDY_WRITABLE : 0) |
         ((events & EDDY__IO_RDHUP) ? EDDY_DISCONNECT : 0) |
         ((events & EDDY__IO_PRI) ? EDDY_PRIORITIZED : 0);
}

static void eddy__poll_io(eddy_loop_t *loop, eddy_io_t *io, unsigned events) {
  eddy_poll_t *poll = eddy__container_of(io, eddy_poll_t, priv.io);

  if (events & EDDY__IO_ERROR) {
    eddy_poll_stop(poll);
    poll->priv.cb(poll, EDDY_EBADF, 0);
  } else {
    poll->priv.cb(poll, 0, eddy__io_to_poll(events));
  }
  eddy__after_callback(loop);
}

int eddy_poll_init(eddy_loop_t *loop, eddy_poll_t *poll, int fd) {
  int err = eddy__io_check_fd(loop, fd);

  if (err == 0)
    err = eddy__set_nonblock(fd, 1);
  if (err != 0)
    return err;
  eddy__handle_init(loop, &poll->handle, EDDY_POLL);
  eddy__io_init(&poll->priv.io, eddy__poll_io, fd);
  poll->priv.cb = NULL;
  return 0;
}

int eddy_poll_start(eddy_poll_t *poll, int events, eddy_poll_cb cb) {
  eddy_loop_t *loop = poll->handle.loop;
  int err;

  if (cb == NULL || (events & ~EDDY__POLL_EVENTS) != 0 ||
      eddy__handle_closing(&poll->handle))
    return EDDY_EINVAL;
  if (events == 0)
    return eddy_poll_stop(poll);
  eddy__io_stop(loop, &poll->priv.io, ~eddy__poll_to_io(events));
  err = eddy__io_start(loop, &poll->priv.io, eddy__poll_to_io(events));
  if (err != 0)
    return err;
  poll->priv.cb = cb;
  eddy__handle_start(&poll->handle);
  return 0;
}

int eddy_poll_stop(eddy_poll_t *poll) {
  eddy__io_stop(poll->handle.loop, &poll->priv.io, EDDY__POLL_IO_EVENTS);
  eddy__handle_stop(&poll->handle);
  return 0;
}

int eddy_poll_fileno(const eddy_poll_t *poll) {
  return poll->priv.io.fd;
}

static void eddy__poll_close(eddy_handle_t *h) {
  eddy_poll_t *poll = (eddy_poll_t *)h;

  eddy__io_close(h->loop, &poll->priv.io);
  eddy__handle_stop(h);
}

static int eddy__poll_handle_fd(const eddy_handle_t *h) {
  return ((const eddy_poll_t *)h)->priv.io.fd;
}

const struct eddy__handle_ops eddy__poll_ops = {
    .close = eddy__poll_close,
    .fileno = eddy__poll_handle_fd,
};
