/* loop_internal.h: what the loop offers the parts of the library built on
 * it: the epilogue every callback the library invokes must run, and the
 * registration of per-loop parts. */
#ifndef EDDY_CORE_LOOP_INTERNAL_H
#define EDDY_CORE_LOOP_INTERNAL_H

#include "eddy/loop.h"

/* Next-tick / microtask queues (tick.c). The library calls
 * eddy__after_callback after every user callback; the empty case is one
 * branch. */
void eddy__drain_ticks_slow(eddy_loop_t *loop);
static inline void eddy__after_callback(eddy_loop_t *loop) {
  if (loop->priv.ticks.ticks.count != 0 ||
      loop->priv.ticks.microtasks.count != 0)
    eddy__drain_ticks_slow(loop);
}

/* Loop metrics (eddy/metrics.h): written only by the loop's thread, read
 * from any, so every access is atomic; relaxed, since each figure stands
 * alone. A plain load and store, not a locked add: one writer. */
static inline void eddy__metrics_add(uint64_t *counter, uint64_t n) {
  __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n,
                   __ATOMIC_RELAXED);
}
static inline void eddy__metrics_set(uint64_t *counter, uint64_t v) {
  __atomic_store_n(counter, v, __ATOMIC_RELAXED);
}

/* The loop reports to the metrics layer (src/metrics/loop_metrics.c)
 * only once eddy_metrics_enable has set loop->priv.metrics.state: while
 * it is off each hook is one branch on a field the loop reads anyway. */
#define EDDY__METRICS_PHASES_ON 2u /* == EDDY_METRICS_PHASES */
#define EDDY__METRICS_RUN_REQ 256u /* run_type of a request: 256 + type */

/* Phases timed with EDDY_METRICS_PHASES, in loop order. */
enum eddy__metrics_phase {
  EDDY__PHASE_TIMERS = 0,
  EDDY__PHASE_PENDING,
  EDDY__PHASE_IDLE,
  EDDY__PHASE_PREPARE,
  EDDY__PHASE_POLL_WAIT,
  EDDY__PHASE_POLL,
  EDDY__PHASE_CHECK,
  EDDY__PHASE_CLOSE,
  EDDY__PHASE_COUNT
};

/* The wait returned after waited_ns parked in it (0 for a wait that did
 * not block). The loop time (priv.metrics.hrtime) is fresh. */
void eddy__metrics_woke(eddy_loop_t *loop, uint64_t waited_ns);
/* The timers phase starts with a timer due at due_ms (loop time, ms). */
void eddy__metrics_timer_late(eddy_loop_t *loop, uint64_t due_ms);
/* eddy_run starts (inside 1) or returns (0): the epoch is odd inside
 * it, and moves on at each change, so the watchdog tells runs apart. A
 * change that is already so (metrics enabled from a callback) is kept. */
static inline void eddy__metrics_run_epoch(eddy_loop_t *loop, unsigned inside) {
  unsigned epoch = loop->priv.metrics.run_epoch;

  if (loop->priv.metrics.state != NULL && (epoch & 1u) != inside)
    __atomic_store_n(&loop->priv.metrics.run_epoch, epoch + 1,
                     __ATOMIC_RELEASE);
}

/* A pool job of kind (enum eddy__work_kind) waited wait_ns for a thread;
 * its completion is being delivered. */
void eddy__metrics_pool_job(eddy_loop_t *loop, int kind, uint64_t wait_ns);
/* Phase `phase` starts now: the time since the last mark goes to the
 * phase that was running. eddy_run reads the flag once per iteration and
 * passes it as timed. */
void eddy__metrics_phase_mark(eddy_loop_t *loop, enum eddy__metrics_phase p);

static inline void eddy__metrics_phase(eddy_loop_t *loop, unsigned timed,
                                       enum eddy__metrics_phase p) {
  if (__builtin_expect(timed != 0, 0))
    eddy__metrics_phase_mark(loop, p);
}

/* A callback of a handle (type: its eddy_handle_type) or a request
 * (EDDY__METRICS_RUN_REQ + its eddy_req_type) is about to run, for the
 * watchdog's report. Two plain stores when metrics are on. */
static inline void eddy__metrics_running(eddy_loop_t *loop, unsigned type,
                                         const void *cb) {
  if (loop->priv.metrics.state != NULL) {
    __atomic_store_n(&loop->priv.metrics.run_type, type, __ATOMIC_RELAXED);
    __atomic_store_n(&loop->priv.metrics.run_cb, cb, __ATOMIC_RELAXED);
  }
}

/* A part of the library with per-loop state registers it once, on the
 * loop's thread, when it first needs it (the first async handle, signal
 * handle, pool job, child process, ...). The loop keeps the parts sorted
 * by order: after a wake-up it calls every part's wakeup in that order, and
 * when it closes, every part's close in the reverse order. A part may use
 * only parts of a lower order, so that each closes before what it stands
 * on. */
struct eddy__loop_part_ops {
  const char *name;
  int order;
  /* Another thread or a signal handler woke the loop: look at your own
   * flags and run what is due (NULL: nothing to look at). Poll phase. */
  void (*wakeup)(eddy_loop_t *loop, struct eddy__loop_part *part);
  /* eddy_loop_close(): release the part's state (NULL: nothing to
   * release). No handle is open and no request in flight by then. */
  void (*close)(eddy_loop_t *loop, struct eddy__loop_part *part);
};

/* The orders of the parts that exist (lower runs first). */
enum {
  EDDY__PART_SIGNAL = 10,
  EDDY__PART_ASYNC = 20,
  EDDY__PART_WORK = 30,
  EDDY__PART_PROCESS = 40,
  EDDY__PART_FS_EVENT = 50, /* src/fs/fs_inotify.c: no wake-up, a close */
  EDDY__PART_PORT = 60,     /* src/worker/mailbox.c: ports and workers */
  EDDY__PART_METRICS = 70   /* src/metrics/loop_metrics.c: a close */
};

/* Register part (idempotent: a registered part is left as it is). */
void eddy__loop_part_add(eddy_loop_t *loop, struct eddy__loop_part *part,
                         const struct eddy__loop_part_ops *ops);
/* The registered part with these ops, or NULL. */
struct eddy__loop_part *
eddy__loop_part_find(const eddy_loop_t *loop,
                     const struct eddy__loop_part_ops *ops);

#endif /* EDDY_CORE_LOOP_INTERNAL_H */
