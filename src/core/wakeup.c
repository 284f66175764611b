/* wakeup.c: the loop's wake-up descriptor.
 *
 * One descriptor per loop, created on first use, lets other threads and
 * signal handlers interrupt the poll phase: an eventfd on Linux, a
 * non-blocking pipe elsewhere. Writers set a flag on what they want run
 * (an async handle's, a signal's, the work pool's completion stack) and
 * then call eddy__wakeup_signal; after the poll phase's I/O the loop asks
 * each registered part (core/loop_internal.h) to look at its flags. The
 * watcher is not a handle, so it never keeps the loop alive by itself.
 *
 * The descriptor is written only when the loop may be asleep. The loop
 * announces that it is about to block (sleeping = 1) and then checks the
 * pending flag; a writer sets pending and then checks sleeping. With both
 * sides sequentially consistent, at least one of them sees the other: the
 * loop does not block, or the writer writes. A loop that is busy anyway
 * finds the pending flag after its poll phase without a system call.
 *
 * A loop that has just been woken is likely to be woken again soon (a
 * ping-pong between threads, a stream of pool completions): on a machine
 * with more than one CPU it watches the pending flag for a few
 * microseconds before it blocks, which saves the sleep and the wake-up
 * when the answer comes quickly. An idle loop never spins: the spin needs
 * a wake-up in the poll phase before. */
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <assert.h>
#include <errno.h>
#include <stdint.h>

#include "core/io.h"
#include "core/loop_internal.h"
#include "core/queue.h"
#include "core/wakeup.h"

/* How long a recently woken loop watches for the next wake-up. */
#define EDDY__WAKEUP_SPIN_NS 20000

/* Every registered part with a wakeup function, in the parts' order. A
 * part registered by one of these calls is met in the same round. */
static void eddy__wakeup_parts(eddy_loop_t *loop) {
  eddy_queue_t *parts = &loop->priv.core.parts;
  eddy_queue_t *at;

  for (at = parts->next; at != parts; at = at->next) {
    struct eddy__loop_part *p =
        eddy__container_of(at, struct eddy__loop_part, node);

    if (p->ops->wakeup != NULL)
      p->ops->wakeup(loop, p);
  }
}

static void eddy__wakeup_dispatch(eddy_loop_t *loop) {
  /* Every poll phase comes here: a plain load keeps the common case (no
   * wake-up) free of a locked instruction. A flag set just after it is
   * seen before the loop next blocks (eddy__wakeup_before_wait). */
  if (!__atomic_load_n(&loop->priv.wakeup.pending, __ATOMIC_RELAXED) ||
      __atomic_exchange_n(&loop->priv.wakeup.pending, 0, __ATOMIC_SEQ_CST) == 0)
    return;
  loop->priv.wakeup.hot = 1;
  eddy__wakeup_parts(loop);
}

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
  /* The parts run from eddy__wakeup_after_wait, once the whole batch of
   * I/O is dispatched: a child's exit must not overtake the end of its
   * output that the same wait reported, later in the batch. */
  (void)loop;
}

int eddy__wakeup_open(eddy_loop_t *loop) {
  int fds[2];
  int err;

  if (loop->priv.wakeup.io.fd != -1)
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
  eddy__io_init(&loop->priv.wakeup.io, eddy__wakeup_read, fds[0]);
  err = eddy__io_start(loop, &loop->priv.wakeup.io, EDDY__IO_READ);
  if (err != 0) {
    if (fds[1] != fds[0])
      close(fds[1]);
    close(fds[0]);
    loop->priv.wakeup.io.fd = -1;
    return err;
  }
  loop->priv.wakeup.wfd = fds[1];
  return 0;
}

void eddy__wakeup_close(eddy_loop_t *loop) {
  if (loop->priv.wakeup.io.fd == -1)
    return;
  assert(loop->priv.wakeup.wfd != -1);
  eddy__io_close(loop, &loop->priv.wakeup.io);
  if (loop->priv.wakeup.wfd != loop->priv.wakeup.io.fd)
    close(loop->priv.wakeup.wfd);
  close(loop->priv.wakeup.io.fd);
  loop->priv.wakeup.io.fd = -1;
  loop->priv.wakeup.wfd = -1;
}

/* Any thread, and signal handlers: atomics and write(2) are
 * async-signal-safe. A full pipe or a saturated eventfd already means "wake
 * up", so errors are ignored. errno is preserved for the interrupted
 * code. */
void eddy__wakeup_signal(eddy_loop_t *loop) {
  int saved;
  ssize_t r;

  /* Already pending: the loop has yet to look, and will see ours too. */
  if (__atomic_exchange_n(&loop->priv.wakeup.pending, 1, __ATOMIC_SEQ_CST) != 0)
    return;
  if (!__atomic_load_n(&loop->priv.wakeup.sleeping, __ATOMIC_SEQ_CST))
    return;
  saved = errno;
#ifdef __linux__
  {
    uint64_t one = 1;
    do
      r = write(loop->priv.wakeup.wfd, &one, sizeof(one));
    while (r == -1 && errno == EINTR);
  }
#else
  {
    char one = 1;
    do
      r = write(loop->priv.wakeup.wfd, &one, 1);
    while (r == -1 && errno == EINTR);
  }
#endif
  errno = saved;
}

static int eddy__wakeup_spin_allowed(void) {
  static int cpus; /* 0: not asked yet */
  int n = __atomic_load_n(&cpus, __ATOMIC_RELAXED);

  if (n == 0) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);

    n = online > 0 ? (int)online : 1;
    __atomic_store_n(&cpus, n, __ATOMIC_RELAXED);
  }
  return n > 1;
}

static inline void eddy__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Watch the pending flag for a short while. Returns non-zero if it was
 * set. */
static int eddy__wakeup_spin(eddy_loop_t *loop) {
  uint64_t deadline = eddy_hrtime() + EDDY__WAKEUP_SPIN_NS;
  unsigned i;

  for (i = 1;; i++) {
    if (__atomic_load_n(&loop->priv.wakeup.pending, __ATOMIC_RELAXED))
      return 1;
    if ((i & 63) == 0 && eddy_hrtime() >= deadline)
      return 0;
    eddy__cpu_relax();
  }
}

int eddy__wakeup_before_wait(eddy_loop_t *loop, int timeout) {
  int hot = loop->priv.wakeup.hot;

  /* The loop is awake here: nobody may have been told it sleeps. */
  assert(!__atomic_load_n(&loop->priv.wakeup.sleeping, __ATOMIC_RELAXED));
  loop->priv.wakeup.hot = 0;
  if (loop->priv.wakeup.io.fd == -1 || timeout == 0)
    return timeout;
  if (hot && eddy__wakeup_spin_allowed() && eddy__wakeup_spin(loop))
    return 0;
  __atomic_store_n(&loop->priv.wakeup.sleeping, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&loop->priv.wakeup.pending, __ATOMIC_SEQ_CST))
    return 0;
  return timeout;
}

void eddy__wakeup_after_wait(eddy_loop_t *loop) {
  if (loop->priv.wakeup.io.fd == -1)
    return;
  __atomic_store_n(&loop->priv.wakeup.sleeping, 0, __ATOMIC_RELAXED);
  eddy__wakeup_dispatch(loop);
}
