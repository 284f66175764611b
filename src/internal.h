/* internal.h: what the loop core shares with the handle subsystems.
 * Users never see this. Subsystems include only what they need from here:
 * handle bookkeeping, the callback epilogue (tick draining), and the I/O
 * watcher functions. */
#ifndef EDDY_INTERNAL_H
#define EDDY_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <sys/uio.h>

#include "eddy/loop.h"
#include "eddy/stream.h"
#include "core/queue.h"

/* eddy_buf_t arrays are passed to readv/writev as struct iovec arrays. */
_Static_assert(sizeof(eddy_buf_t) == sizeof(struct iovec) &&
                   offsetof(eddy_buf_t, base) == offsetof(struct iovec, iov_base) &&
                   offsetof(eddy_buf_t, len) == offsetof(struct iovec, iov_len),
               "eddy_buf_t must match struct iovec");

/* eddy_handle_t.priv.flags */
enum {
  EDDY__HANDLE_ACTIVE = 1 << 0,
  EDDY__HANDLE_REF = 1 << 1,
  EDDY__HANDLE_CLOSING = 1 << 2,
  EDDY__HANDLE_WALKED = 1 << 3 /* visited by the running eddy_walk */
};

/* eddy_io_t event bits (backend-neutral). */
enum {
  EDDY__IO_READ = 1 << 0,
  EDDY__IO_WRITE = 1 << 1,
  EDDY__IO_RDHUP = 1 << 2,
  EDDY__IO_ERROR = 1 << 3 /* descriptor invalid; reported, never requested */
};

/* Handle lifecycle. Inline: timers are initialised by the million. Timers
 * use eddy__handle_setup alone (they are not on the open-handle list). */
static inline void eddy__handle_setup(eddy_loop_t *loop, eddy_handle_t *h,
                                      eddy_handle_type type) {
  h->loop = loop;
  h->priv.close_cb = NULL;
  h->priv.type = (uint16_t)type;
  h->priv.flags = EDDY__HANDLE_REF;
}

static inline void eddy__handle_init(eddy_loop_t *loop, eddy_handle_t *h,
                                     eddy_handle_type type) {
  eddy__handle_setup(loop, h, type);
  eddy__queue_insert_tail(&loop->priv.handles, &h->priv.u.node);
}

static inline int eddy__handle_active(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_ACTIVE) != 0;
}

static inline int eddy__handle_closing(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_CLOSING) != 0;
}

/* Mark active / inactive, keeping the loop's count of referenced active
 * handles (its liveness) in step. Idempotent. */
static inline void eddy__handle_start(eddy_handle_t *h) {
  if (h->priv.flags & EDDY__HANDLE_ACTIVE)
    return;
  h->priv.flags |= EDDY__HANDLE_ACTIVE;
  if (h->priv.flags & EDDY__HANDLE_REF)
    h->loop->priv.active_handles++;
}

static inline void eddy__handle_stop(eddy_handle_t *h) {
  if (!(h->priv.flags & EDDY__HANDLE_ACTIVE))
    return;
  h->priv.flags &= ~EDDY__HANDLE_ACTIVE;
  if (h->priv.flags & EDDY__HANDLE_REF) {
    assert(h->loop->priv.active_handles > 0);
    h->loop->priv.active_handles--;
  }
}

/* Per-type close hooks, called by eddy_close() before the handle is queued
 * for its close callback. Each stops the handle and releases what it holds. */
void eddy__timer_close(eddy_handle_t *h);
void eddy__loopwatch_close(eddy_handle_t *h);
void eddy__async_close(eddy_handle_t *h);
void eddy__poll_close(eddy_handle_t *h);
void eddy__signal_close(eddy_handle_t *h);
void eddy__process_close(eddy_handle_t *h);
void eddy__process_loop_close(eddy_loop_t *loop);
void eddy__udp_close(eddy_handle_t *h);
void eddy__udp_finish_close(eddy_handle_t *h); /* close phase, udp.c */

/* Timers (timer.c). Start sequence numbers have this many bits; when they
 * run out, eddy__timer_renumber compacts them (exposed for tests). */
#define EDDY__TIMER_SEQ_BITS 24
void eddy__run_timers(eddy_loop_t *loop);
void eddy__timer_renumber(eddy_loop_t *loop);
void eddy__timer_loop_close(eddy_loop_t *loop); /* frees the heap array */
/* The loop's open timers (not on the open-handle list): i < count. */
uint32_t eddy__timer_open_count(const eddy_loop_t *loop);
eddy_handle_t *eddy__timer_open_at(const eddy_loop_t *loop, uint32_t i);
uint32_t eddy__timer_verify(const eddy_loop_t *loop); /* tests: 0 = sound */
/* ms until the nearest timer is due, 0 if due, -1 if there is none. */
int eddy__next_timeout(const eddy_loop_t *loop);

/* Loop phases run by eddy_run (loopwatch.c). */
void eddy__run_idle(eddy_loop_t *loop);
void eddy__run_prepare(eddy_loop_t *loop);
void eddy__run_check(eddy_loop_t *loop);

/* Next-tick / microtask queues (tick.c). The loop calls this after every
 * user callback; the empty case is one branch. */
void eddy__drain_ticks_slow(eddy_loop_t *loop);
static inline void eddy__after_callback(eddy_loop_t *loop) {
  if (loop->priv.ticks.count != 0 || loop->priv.microtasks.count != 0)
    eddy__drain_ticks_slow(loop);
}
void eddy__tick_free(eddy_loop_t *loop);

/* I/O watchers (io.c). A watcher is bound to one fd; start/stop record the
 * wanted events and the change reaches the backend just before it waits.
 * eddy__io_close must be called before the fd is closed. */
void eddy__io_init(eddy_io_t *io, eddy_io_cb cb, int fd);
int eddy__io_start(eddy_loop_t *loop, eddy_io_t *io, unsigned events);
void eddy__io_stop(eddy_loop_t *loop, eddy_io_t *io, unsigned events);
void eddy__io_close(eddy_loop_t *loop, eddy_io_t *io);
int eddy__io_check_fd(eddy_loop_t *loop, int fd);
void eddy__io_apply_changes(eddy_loop_t *loop);
/* Defer a write-readiness callback to the next pending phase (streams use
 * this for writes that completed without waiting). */
void eddy__io_feed(eddy_loop_t *loop, eddy_io_t *io);
void eddy__io_free(eddy_loop_t *loop);

/* The loop's wake-up descriptor (wakeup.c), shared by async handles,
 * signals and later the work pool. Created on first use. */
int eddy__wakeup_open(eddy_loop_t *loop);
void eddy__wakeup_close(eddy_loop_t *loop);
void eddy__wakeup_signal(eddy_loop_t *loop); /* any thread, signal-safe */
/* Around the backend's wait: the timeout to use, then the dispatch of
 * what was signalled without a write to the descriptor. */
int eddy__wakeup_before_wait(eddy_loop_t *loop, int timeout);
void eddy__wakeup_after_wait(eddy_loop_t *loop);
void eddy__async_dispatch(eddy_loop_t *loop);  /* async.c */
void eddy__signal_dispatch(eddy_loop_t *loop); /* signal.c */
void eddy__signal_loop_close(eddy_loop_t *loop);

/* Requests in flight keep the loop alive. Pool jobs may be queued from a
 * pool thread, so the count is atomic. */
static inline void eddy__req_register(eddy_loop_t *loop) {
  __atomic_fetch_add(&loop->priv.active_reqs, 1, __ATOMIC_RELAXED);
}
static inline void eddy__req_unregister(eddy_loop_t *loop) {
  __atomic_fetch_sub(&loop->priv.active_reqs, 1, __ATOMIC_RELAXED);
}
static inline unsigned eddy__reqs_active(const eddy_loop_t *loop) {
  return __atomic_load_n(&loop->priv.active_reqs, __ATOMIC_RELAXED);
}

/* The work pool (work.c). Every pool request embeds an eddy__work_t and
 * submits it with a kind: slow jobs (DNS) may hold at most half the
 * threads, rounded up, so they cannot starve file-system jobs. done runs on
 * the loop thread with 0 or EDDY_ECANCELED; the request counts as active
 * until then. */
enum { EDDY__WORK_CPU = 0, EDDY__WORK_FAST_IO, EDDY__WORK_SLOW_IO };
int eddy__work_submit(eddy_loop_t *loop, eddy__work_t *w, int kind,
                      void (*work)(eddy__work_t *w),
                      void (*done)(eddy__work_t *w, int status));
int eddy__work_cancel(eddy__work_t *w);
void eddy__work_dispatch(eddy_loop_t *loop); /* from the wake-up reader */
void eddy__work_loop_close(eddy_loop_t *loop);

/* Streams (stream.c), the base of tcp.c and pipe.c. */
enum {
  EDDY__STREAM_READING = 1 << 0,
  EDDY__STREAM_READABLE = 1 << 1, /* connected, no EOF yet */
  EDDY__STREAM_WRITABLE = 1 << 2, /* connected, not shut down */
  EDDY__STREAM_LISTENING = 1 << 3,
  EDDY__STREAM_SHUTTING = 1 << 4,
  EDDY__STREAM_SHUT = 1 << 5,
  EDDY__STREAM_SOCKET = 1 << 6, /* sendmsg/recvmsg rather than writev/read */
  EDDY__STREAM_IPC = 1 << 7     /* descriptors travel with the data */
};
void eddy__stream_init(eddy_loop_t *loop, eddy_stream_t *s,
                       eddy_handle_type type);
/* Give the stream its descriptor; flags: EDDY__STREAM_* it starts with. */
int eddy__stream_open(eddy_stream_t *s, int fd, unsigned flags);
int eddy__stream_listen(eddy_stream_t *s, int backlog, eddy_connection_cb cb);
/* Track a connect(2) that returned err (0, -EINPROGRESS or an error). */
void eddy__stream_connect(eddy_stream_t *s, eddy_connect_t *req, int err,
                          eddy_connect_cb cb);
int eddy__stream_write2(eddy_write_t *req, eddy_stream_t *s,
                        const eddy_buf_t bufs[], unsigned nbufs, int send_fd,
                        eddy_write_cb cb);
void eddy__stream_close(eddy_stream_t *s);
void eddy__stream_finish_close(eddy_stream_t *s);
static inline int eddy__stream_fd(const eddy_stream_t *s) {
  return s->priv.io.fd;
}
int eddy__tcp_listen(eddy_stream_t *s, int backlog, eddy_connection_cb cb);
int eddy__pipe_listen(eddy_stream_t *s, int backlog, eddy_connection_cb cb);

/* Descriptor helpers (io.c). */
int eddy__set_nonblock(int fd, int on);
/* getsockname/getpeername into name, *namelen in and out: 0, EDDY_EINVAL,
 * EDDY_EBADF (fd < 0) or the call's error. */
struct sockaddr;
int eddy__socket_name(int fd, struct sockaddr *name, int *namelen, int peer);
int eddy__set_cloexec(int fd, int on);

#endif /* EDDY_INTERNAL_H */
