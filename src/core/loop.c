/* loop.c: the event loop core: lifecycle, the phase sequence of eddy_run,
 * liveness, time, and the registry of per-loop parts. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "core/phases.h"
#include "core/wakeup.h"

/* How many extra rounds of pending callbacks one poll phase may run (libuv
 * runs up to 8 so writes completed by callbacks do not wait an iteration). */
#define EDDY__PENDING_ROUNDS 8

static const struct eddy_backend *eddy__choose_backend(void) {
  const char *forced = getenv("EDDY_BACKEND");
  if (forced != NULL && strcmp(forced, "poll") == 0)
    return &eddy__backend_poll;
#ifdef __linux__
  return &eddy__backend_epoll;
#else
  return &eddy__backend_poll;
#endif
}

static eddy_loop_t eddy__default_loop_storage;
static eddy_loop_t *eddy__default_loop_ptr;
static pthread_mutex_t eddy__default_loop_lock = PTHREAD_MUTEX_INITIALIZER;

/* A closed default loop is made anew by the next eddy_default_loop(). */
static void eddy__forget_default_loop(eddy_loop_t *loop) {
  pthread_mutex_lock(&eddy__default_loop_lock);
  if (eddy__default_loop_ptr == loop)
    eddy__default_loop_ptr = NULL;
  pthread_mutex_unlock(&eddy__default_loop_lock);
}

int eddy_loop_init(eddy_loop_t *loop) {
  int err;

  /* data is the caller's: set before init, it stays. */
  memset(&loop->priv, 0, sizeof(loop->priv));
  eddy__queue_init(&loop->priv.core.handles);
  eddy__queue_init(&loop->priv.core.closing);
  eddy__queue_init(&loop->priv.core.parts);
  eddy__queue_init(&loop->priv.immediates.queue);
  eddy__queue_init(&loop->priv.watchers.idle);
  eddy__queue_init(&loop->priv.watchers.prepare);
  eddy__queue_init(&loop->priv.watchers.check);
  eddy__queue_init(&loop->priv.async.handles);
  eddy__queue_init(&loop->priv.work.batch);
  loop->priv.wakeup.io.fd = -1;
  loop->priv.wakeup.wfd = -1;
  loop->priv.net.reserve_fd = -1;
  loop->priv.io.backend = eddy__choose_backend();
  err = eddy__io_loop_init(loop);
  if (err != 0)
    return err;
  eddy_update_time(loop);
  loop->priv.timers.base = loop->priv.core.time;
  return 0;
}

/* The parts' close functions, last registered first. */
static void eddy__loop_parts_close(eddy_loop_t *loop) {
  eddy_queue_t *parts = &loop->priv.core.parts;

  while (!eddy__queue_empty(parts)) {
    struct eddy__loop_part *p =
        eddy__container_of(parts->prev, struct eddy__loop_part, node);

    const struct eddy__loop_part_ops *ops = p->ops;

    eddy__queue_remove(&p->node);
    p->ops = NULL; /* close may free the part */
    if (ops->close != NULL)
      ops->close(loop, p);
  }
}

int eddy_loop_close(eddy_loop_t *loop) {
  if (!eddy__queue_empty(&loop->priv.core.handles) ||
      eddy__timer_open_count(loop) != 0 ||
      !eddy__queue_empty(&loop->priv.core.closing) ||
      !eddy__queue_empty(&loop->priv.immediates.queue) ||
      eddy__reqs_active(loop) != 0)
    return EDDY_EBUSY;
  eddy__loop_parts_close(loop);
  eddy__wakeup_close(loop);
  if (loop->priv.net.reserve_fd != -1)
    close(loop->priv.net.reserve_fd);
  loop->priv.net.reserve_fd = -1;
  eddy__io_loop_close(loop);
  eddy__tick_free(loop);
  eddy__timer_loop_close(loop);
  eddy__forget_default_loop(loop);
  return 0;
}

eddy_loop_t *eddy_default_loop(void) {
  eddy_loop_t *loop;

  pthread_mutex_lock(&eddy__default_loop_lock);
  if (eddy__default_loop_ptr == NULL &&
      eddy_loop_init(&eddy__default_loop_storage) == 0)
    eddy__default_loop_ptr = &eddy__default_loop_storage;
  loop = eddy__default_loop_ptr;
  pthread_mutex_unlock(&eddy__default_loop_lock);
  return loop;
}

void eddy__loop_part_add(eddy_loop_t *loop, struct eddy__loop_part *part,
                         const struct eddy__loop_part_ops *ops) {
  eddy_queue_t *parts = &loop->priv.core.parts;
  eddy_queue_t *at;

  if (part->ops != NULL) {
    assert(part->ops == ops);
    return;
  }
  assert(eddy__loop_part_find(loop, ops) == NULL);
  for (at = parts->next; at != parts; at = at->next)
    if (eddy__container_of(at, struct eddy__loop_part, node)->ops->order >
        ops->order)
      break;
  part->ops = ops;
  eddy__queue_insert_tail(at, &part->node); /* just before at */
}

struct eddy__loop_part *
eddy__loop_part_find(const eddy_loop_t *loop,
                     const struct eddy__loop_part_ops *ops) {
  const eddy_queue_t *parts = &loop->priv.core.parts;
  eddy_queue_t *at;

  for (at = parts->next; at != parts; at = at->next) {
    struct eddy__loop_part *p =
        eddy__container_of(at, struct eddy__loop_part, node);
    if (p->ops == ops)
      return p;
  }
  return NULL;
}

int eddy_loop_alive(const eddy_loop_t *loop) {
  return loop->priv.core.active_handles != 0 || eddy__reqs_active(loop) != 0 ||
         !eddy__queue_empty(&loop->priv.core.closing) ||
         eddy__immediates_waiting(loop);
}

/* How long poll may block: not at all when something is already waiting to
 * run or nothing could ever wake it; else until the nearest timer, counted
 * from the clock: the cached time is from before this iteration's
 * callbacks, and sleeping from it would add their run time to every timer
 * that a slow callback already made late (one clock read, and only when
 * the loop would sleep until a timer). */
static int eddy__poll_timeout(const eddy_loop_t *loop) {
  int timeout;

  if (loop->priv.core.stop_flag != 0)
    return 0;
  if (loop->priv.core.active_handles == 0 && eddy__reqs_active(loop) == 0)
    return 0;
  if (eddy__idle_active(loop) || eddy__io_has_pending(loop) ||
      eddy__immediates_waiting(loop) ||
      !eddy__queue_empty(&loop->priv.core.closing))
    return 0;
  timeout = eddy__next_timeout(loop, loop->priv.core.time);
  if (timeout <= 0)
    return timeout;
  return eddy__next_timeout(loop, eddy_hrtime() / 1000000u);
}

int eddy_backend_timeout(const eddy_loop_t *loop) {
  return eddy__poll_timeout(loop);
}

int eddy_backend_fd(const eddy_loop_t *loop) {
  const struct eddy_backend *b = loop->priv.io.backend;

  return b->fd != NULL ? b->fd(loop->priv.io.backend_state) : -1;
}

int eddy_loop_configure(eddy_loop_t *loop, eddy_loop_option option, ...) {
  va_list ap;
  int signum;

  if (loop == NULL)
    return EDDY_EINVAL;
  switch (option) {
  case EDDY_LOOP_BLOCK_SIGNAL:
    va_start(ap, option);
    signum = va_arg(ap, int);
    va_end(ap);
    if (signum <= 0 || signum > 64 || signum >= NSIG)
      return EDDY_EINVAL;
    /* Blocking those would hide a crash or could not be done at all. */
    if (signum == SIGKILL || signum == SIGSTOP || signum == SIGSEGV ||
        signum == SIGBUS || signum == SIGFPE || signum == SIGILL)
      return EDDY_EINVAL;
    loop->priv.io.blocked_signals |= UINT64_C(1) << (signum - 1);
    return 0;
  case EDDY_METRICS_IDLE_TIME:
    loop->priv.metrics.idle_on = 1;
    return 0;
  }
  return EDDY_ENOSYS;
}

/* Requests a handle still had when it was closed get their callbacks
 * (EDDY_ECANCELED for those never done) just before its close callback. */
static void eddy__finish_close(eddy_handle_t *h) {
  const struct eddy__handle_ops *ops = eddy__handle_ops_of(h);

  if (ops->finish_close != NULL)
    ops->finish_close(h);
}

/* Close phase: run the close callbacks of handles closed so far. Handles
 * closed from a close callback wait for the next iteration. */
static void eddy__run_closing(eddy_loop_t *loop) {
  eddy_queue_t batch;
  eddy_queue_t *node;
  eddy_handle_t *h;

  eddy__queue_move(&loop->priv.core.closing, &batch);
  while (!eddy__queue_empty(&batch)) {
    node = batch.next;
    eddy__queue_remove(node);
    h = eddy__container_of(node, eddy_handle_t, priv.u.node);
    assert(h->priv.flags & EDDY__HANDLE_CLOSING);
    assert(!(h->priv.flags & EDDY__HANDLE_ACTIVE));
    eddy__finish_close(h);
    if (h->priv.close_cb != NULL) {
      eddy__metrics_running(loop, h->priv.type, (const void *)h->priv.close_cb);
      h->priv.close_cb(h);
      eddy__after_callback(loop);
    }
  }
}

int eddy_loop_set_before_exit(eddy_loop_t *loop, eddy_before_exit_cb cb) {
  if (loop == NULL)
    return EDDY_EINVAL;
  loop->priv.core.before_exit = cb;
  return 0;
}

/* Whether the loop is alive; in DEFAULT mode, if it is not, the
 * before-exit callback may make it so again. */
static int eddy__alive_after_before_exit(eddy_loop_t *loop,
                                         eddy_run_mode mode) {
  if (eddy_loop_alive(loop))
    return 1;
  if (mode != EDDY_RUN_DEFAULT || loop->priv.core.before_exit == NULL ||
      loop->priv.core.stop_flag != 0)
    return 0;
  loop->priv.core.before_exit(loop);
  eddy__after_callback(loop);
  return eddy_loop_alive(loop);
}

int eddy_run(eddy_loop_t *loop, eddy_run_mode mode) {
  int alive;
  int rounds;

  eddy__metrics_run_epoch(loop, 1); /* for the watchdog */
  /* Work queued before the loop started (Node: after the main script). */
  eddy__after_callback(loop);
  alive = eddy__alive_after_before_exit(loop, mode);
  if (!alive)
    eddy_update_time(loop);
  /* As in libuv >= 1.45, DEFAULT runs due timers once before the first
   * iteration; afterwards timers run at the end of each iteration. */
  if (mode == EDDY_RUN_DEFAULT && alive && loop->priv.core.stop_flag == 0) {
    eddy_update_time(loop);
    eddy__run_timers(loop);
  }
  while (alive && loop->priv.core.stop_flag == 0) {
    /* Read once per iteration, so that each phase mark is a register
     * test. (Two copies of the iteration, with and without, cost more:
     * the compiler then stops inlining the phases.) */
    unsigned timed = loop->priv.metrics.flags & EDDY__METRICS_PHASES_ON;
    int can_block = !eddy__io_has_pending(loop) && !eddy__idle_active(loop) &&
                    !eddy__immediates_waiting(loop);
    int timeout = 0;

    eddy__metrics_phase(loop, timed, EDDY__PHASE_PENDING);
    eddy__io_run_pending(loop);
    eddy__metrics_phase(loop, timed, EDDY__PHASE_IDLE);
    eddy__run_idle(loop);
    eddy__metrics_phase(loop, timed, EDDY__PHASE_PREPARE);
    eddy__run_prepare(loop);
    /* Registering changed watchers may report a dead fd (a callback), so
     * the poll timeout is decided after it. */
    eddy__io_apply_changes(loop);
    if ((mode == EDDY_RUN_ONCE && can_block) || mode == EDDY_RUN_DEFAULT)
      timeout = eddy__poll_timeout(loop);
    eddy__metrics_phase(loop, timed, EDDY__PHASE_POLL_WAIT);
    timeout = eddy__wakeup_before_wait(loop, timeout);
    eddy__io_poll(loop, timeout);
    eddy__wakeup_after_wait(loop);
    for (rounds = 0; rounds < EDDY__PENDING_ROUNDS; rounds++)
      if (!eddy__io_run_pending(loop))
        break;
    eddy__metrics_phase(loop, timed, EDDY__PHASE_CHECK);
    eddy__run_immediates(loop);
    eddy__run_check(loop);
    eddy__metrics_phase(loop, timed, EDDY__PHASE_CLOSE);
    eddy__run_closing(loop);
    eddy_update_time(loop);
    eddy__metrics_phase(loop, timed, EDDY__PHASE_TIMERS);
    eddy__run_timers(loop);
    eddy__metrics_add(&loop->priv.metrics.loop_count, 1);
    alive = eddy__alive_after_before_exit(loop, mode);
    if (mode != EDDY_RUN_DEFAULT)
      break;
  }
  loop->priv.core.stop_flag = 0;
  eddy__metrics_run_epoch(loop, 0);
  return alive;
}

void eddy_stop(eddy_loop_t *loop) {
  loop->priv.core.stop_flag = 1;
}

uint64_t eddy_hrtime(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t eddy_now(const eddy_loop_t *loop) {
  return loop->priv.core.time;
}

void eddy_update_time(eddy_loop_t *loop) {
  uint64_t now = eddy_hrtime();

  loop->priv.metrics.hrtime = now; /* the metrics' clock, no second read */
  loop->priv.core.time = now / 1000000u;
}

const char *eddy_backend_name(const eddy_loop_t *loop) {
  return loop->priv.io.backend->name;
}
