/* loop_metrics.c: the loop's hooks into its metrics state (the loop
 * reports here, this file reads the loop), enabling them, and the
 * readers of eddy/metrics.h. */
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "metrics/metrics_internal.h"
#include "pool/work_internal.h"

_Static_assert((unsigned)EDDY_METRICS_PHASES == EDDY__METRICS_PHASES_ON,
               "the loop tests the phase flag by its value");
_Static_assert((int)EDDY_METRICS_PHASE_COUNT == (int)EDDY__PHASE_COUNT,
               "public and internal phases are the same list");
_Static_assert((int)EDDY_METRICS_POOL_CPU == EDDY__WORK_CPU &&
                   (int)EDDY_METRICS_POOL_FS == EDDY__WORK_FAST_IO &&
                   (int)EDDY_METRICS_POOL_DNS == EDDY__WORK_SLOW_IO,
               "pool kinds are the work kinds");

/* ---- the loop's hooks (loop thread) --------------------------------- */

void eddy__metrics_woke(eddy_loop_t *loop, uint64_t waited_ns) {
  struct eddy__metrics_state *st = loop->priv.metrics.state;
  uint64_t now = loop->priv.metrics.hrtime;

  if (st->last_wake != 0 && now >= st->last_wake + waited_ns) {
    uint64_t busy = now - st->last_wake - waited_ns;

    eddy__hist_record(&st->delay, busy > st->late_ns ? busy : st->late_ns);
  }
  st->last_wake = now;
  st->late_ns = 0;
  __atomic_store_n(&loop->priv.metrics.run_cb, NULL, __ATOMIC_RELAXED);
  /* wait_since was cleared by the wait itself (io.c), if it was set */
  __atomic_store_n(&loop->priv.metrics.wake, now, __ATOMIC_RELEASE);
  if (loop->priv.metrics.flags & EDDY_METRICS_PHASES) {
    /* The wait's share is what it was parked; the rest of the stretch
     * since the mark (entering it, leaving it) counts as poll. */
    uint64_t spent = now - st->phase_at;
    uint64_t *wait = &st->phase_ns[EDDY__PHASE_POLL_WAIT];
    uint64_t *poll = &st->phase_ns[EDDY__PHASE_POLL];

    if (waited_ns > spent)
      waited_ns = spent;
    eddy__metrics_add(wait, waited_ns);
    eddy__metrics_add(poll, spent - waited_ns);
    st->phase_at = now;
    st->phase = EDDY__PHASE_POLL;
  }
}

void eddy__metrics_timer_late(eddy_loop_t *loop, uint64_t due_ms) {
  struct eddy__metrics_state *st = loop->priv.metrics.state;
  uint64_t due_ns = due_ms * UINT64_C(1000000);
  uint64_t now = loop->priv.metrics.hrtime;

  if (now > due_ns && now - due_ns > st->late_ns)
    st->late_ns = now - due_ns;
}

void eddy__metrics_phase_mark(eddy_loop_t *loop, enum eddy__metrics_phase p) {
  struct eddy__metrics_state *st = loop->priv.metrics.state;
  uint64_t now = eddy_hrtime();

  if (p == EDDY__PHASE_TIMERS)
    now = loop->priv.metrics.hrtime; /* the loop has just read the clock */
  if (st->phase_at != 0 && now > st->phase_at)
    eddy__metrics_add(&st->phase_ns[st->phase], now - st->phase_at);
  st->phase_at = now;
  st->phase = p;
}

void eddy__metrics_pool_job(eddy_loop_t *loop, int kind, uint64_t wait_ns) {
  struct eddy__metrics_state *st = loop->priv.metrics.state;

  assert(kind >= 0 && kind < EDDY_METRICS_POOL_KINDS);
  if (st == NULL)
    return; /* queued with metrics on, by a job racing the enable */
  eddy__hist_record(&st->pool_wait[kind], wait_ns);
  eddy__metrics_add(&st->pool_done[kind], 1);
}

/* ---- enabling ------------------------------------------------------- */

static void eddy__metrics_part_close(eddy_loop_t *loop,
                                     struct eddy__loop_part *part) {
  struct eddy__metrics_state *st =
      eddy__container_of(part, struct eddy__metrics_state, part);

  eddy__watchdog_release(st);
  __atomic_store_n(&loop->priv.metrics.state, NULL, __ATOMIC_RELEASE);
  loop->priv.metrics.flags = 0;
  free(st);
}

static const struct eddy__loop_part_ops eddy__metrics_part = {
    .name = "metrics",
    .order = EDDY__PART_METRICS,
    .close = eddy__metrics_part_close,
};

static struct eddy__metrics_state *eddy__metrics_create(eddy_loop_t *loop) {
  struct eddy__metrics_state *st;
  size_t size = (sizeof(*st) + 63) & ~(size_t)63;
  unsigned k;

  st = aligned_alloc(64, size);
  if (st == NULL)
    return NULL;
  memset(st, 0, sizeof(*st));
  eddy__hist_init(&st->delay);
  eddy__hist_init(&st->timer_delay);
  for (k = 0; k < EDDY_METRICS_POOL_KINDS; k++)
    eddy__hist_init(&st->pool_wait[k]);
  st->start_ns = eddy_hrtime();
  eddy__loop_part_add(loop, &st->part, &eddy__metrics_part);
  loop->priv.metrics.idle_on = 1;
  __atomic_store_n(&loop->priv.metrics.state, st, __ATOMIC_RELEASE);
  return st;
}

int eddy_metrics_enable(eddy_loop_t *loop, unsigned flags) {
  struct eddy__metrics_state *st;

  if (loop == NULL || flags == 0 ||
      (flags & ~(unsigned)(EDDY_METRICS_LOOP | EDDY_METRICS_PHASES)) != 0)
    return EDDY_EINVAL;
  st = loop->priv.metrics.state;
  if (st == NULL && (st = eddy__metrics_create(loop)) == NULL)
    return EDDY_ENOMEM;
  if ((flags & EDDY_METRICS_PHASES) && st->phase_at == 0) {
    st->phase_at = eddy_hrtime();
    st->phase = EDDY__PHASE_TIMERS;
  }
  loop->priv.metrics.flags |= flags | EDDY_METRICS_LOOP;
  return 0;
}

/* ---- the timer-based mode (Node's monitorEventLoopDelay) ------------ */

static void eddy__delay_timer_cb(eddy_timer_t *timer) {
  struct eddy__metrics_state *st =
      eddy__container_of(timer, struct eddy__metrics_state, timer);
  uint64_t now = eddy_hrtime();

  /* As Node's RecordDelta: the time since the previous run. */
  if (st->timer_prev != 0 && now > st->timer_prev)
    eddy__hist_record(&st->timer_delay, now - st->timer_prev);
  st->timer_prev = now;
}

int eddy_metrics_delay_timer_start(eddy_loop_t *loop, unsigned resolution_ms) {
  struct eddy__metrics_state *st;
  int err;

  if (loop == NULL || resolution_ms == 0)
    return EDDY_EINVAL;
  if ((err = eddy_metrics_enable(loop, EDDY_METRICS_LOOP)) != 0)
    return err;
  st = loop->priv.metrics.state;
  if (st->timer_on || st->timer_closing)
    return EDDY_EBUSY;
  if ((err = eddy_timer_init(loop, &st->timer)) != 0)
    return err;
  eddy_unref(&st->timer.handle);
  st->timer_prev = 0;
  err = eddy_timer_start(&st->timer, eddy__delay_timer_cb, resolution_ms,
                         resolution_ms);
  if (err != 0) {
    eddy_close(&st->timer.handle, NULL);
    return err;
  }
  st->timer_on = 1;
  return 0;
}

static void eddy__delay_timer_closed(eddy_handle_t *h) {
  struct eddy__metrics_state *st =
      eddy__container_of(h, struct eddy__metrics_state, timer.handle);

  st->timer_closing = 0;
}

int eddy_metrics_delay_timer_stop(eddy_loop_t *loop) {
  struct eddy__metrics_state *st;

  if (loop == NULL || (st = loop->priv.metrics.state) == NULL || !st->timer_on)
    return EDDY_EINVAL;
  st->timer_closing = 1;
  eddy_close(&st->timer.handle, eddy__delay_timer_closed);
  st->timer_on = 0;
  return 0;
}

/* ---- readers (any thread) ------------------------------------------- */

int eddy__metrics_summary(const eddy__hist_t *h, eddy_metrics_histogram_t *o) {
  eddy__hist_snap_t *s = malloc(sizeof(*s));

  memset(o, 0, sizeof(*o));
  if (s == NULL)
    return EDDY_ENOMEM;
  eddy__hist_snapshot(h, s);
  o->count = eddy__hist_snap_count(s);
  if (o->count != 0) {
    o->min = eddy__hist_snap_min(s);
    o->max = eddy__hist_snap_max(s);
    o->mean = eddy__hist_snap_mean(s);
    o->stddev = eddy__hist_snap_stddev(s);
    o->p50 = eddy__hist_snap_percentile(s, 50);
    o->p90 = eddy__hist_snap_percentile(s, 90);
    o->p99 = eddy__hist_snap_percentile(s, 99);
    o->p999 = eddy__hist_snap_percentile(s, 99.9);
  }
  free(s);
  return 0;
}

int eddy_metrics_elu(const eddy_loop_t *loop, eddy_metrics_elu_t *elu) {
  const struct eddy__metrics_state *st;
  uint64_t now, idle, since, elapsed;

  if (loop == NULL || elu == NULL || (st = eddy__metrics_of(loop)) == NULL)
    return EDDY_EINVAL;
  /* The wait in progress counts as idle already; read it first, so a
   * wait that ends meanwhile is counted at most once. */
  since = __atomic_load_n(&loop->priv.metrics.wait_since, __ATOMIC_ACQUIRE);
  idle = __atomic_load_n(&loop->priv.metrics.idle_ns, __ATOMIC_RELAXED);
  now = eddy_hrtime();
  if (since != 0 && now > since &&
      __atomic_load_n(&loop->priv.metrics.wait_since, __ATOMIC_ACQUIRE) ==
          since)
    idle += now - since;
  elapsed = now > st->start_ns ? now - st->start_ns : 0;
  if (idle > elapsed)
    idle = elapsed;
  elu->idle_ns = idle;
  elu->active_ns = elapsed - idle;
  elu->utilization =
      elapsed != 0 ? (double)elu->active_ns / (double)elapsed : 0.0;
  return 0;
}

eddy_metrics_elu_t eddy_metrics_elu_diff(const eddy_metrics_elu_t *now,
                                         const eddy_metrics_elu_t *before) {
  eddy_metrics_elu_t d = {0, 0, 0.0};
  uint64_t total;

  if (now == NULL)
    return d;
  d = *now;
  if (before != NULL) {
    d.idle_ns =
        now->idle_ns > before->idle_ns ? now->idle_ns - before->idle_ns : 0;
    d.active_ns = now->active_ns > before->active_ns
                      ? now->active_ns - before->active_ns
                      : 0;
  }
  total = d.idle_ns + d.active_ns;
  d.utilization = total != 0 ? (double)d.active_ns / (double)total : 0.0;
  return d;
}

int eddy_metrics_delay(const eddy_loop_t *loop, eddy_metrics_histogram_t *out) {
  const struct eddy__metrics_state *st;

  if (loop == NULL || out == NULL || (st = eddy__metrics_of(loop)) == NULL)
    return EDDY_EINVAL;
  return eddy__metrics_summary(&st->delay, out);
}

int eddy_metrics_delay_timer(const eddy_loop_t *loop,
                             eddy_metrics_histogram_t *out) {
  const struct eddy__metrics_state *st;

  if (loop == NULL || out == NULL || (st = eddy__metrics_of(loop)) == NULL)
    return EDDY_EINVAL;
  return eddy__metrics_summary(&st->timer_delay, out);
}

int eddy_metrics_loop(const eddy_loop_t *loop, eddy_metrics_loop_t *out) {
  const struct eddy__metrics_state *st;
  unsigned i;

  if (loop == NULL || out == NULL)
    return EDDY_EINVAL;
  memset(out, 0, sizeof(*out));
  out->iterations =
      __atomic_load_n(&loop->priv.metrics.loop_count, __ATOMIC_RELAXED);
  out->events = __atomic_load_n(&loop->priv.metrics.events, __ATOMIC_RELAXED);
  out->events_waiting =
      __atomic_load_n(&loop->priv.metrics.events_waiting, __ATOMIC_RELAXED);
  for (i = 0; i < EDDY_HANDLE_TYPE_MAX; i++)
    out->active_handles[i] =
        __atomic_load_n(&loop->priv.metrics.active[i], __ATOMIC_RELAXED);
  out->active_requests =
      __atomic_load_n(&loop->priv.core.active_reqs, __ATOMIC_RELAXED);
  if ((st = eddy__metrics_of(loop)) == NULL)
    return 0;
  for (i = 0; i < EDDY_METRICS_PHASE_COUNT; i++)
    out->phase_ns[i] = __atomic_load_n(&st->phase_ns[i], __ATOMIC_RELAXED);
  for (i = 0; i < EDDY_REQ_TYPE_MAX; i++) {
    int n = __atomic_load_n(&loop->priv.metrics.reqs[i], __ATOMIC_RELAXED);

    out->requests[i] = n > 0 ? (unsigned)n : 0;
  }
  return 0;
}

int eddy_metrics_pool(const eddy_loop_t *loop, eddy_metrics_pool_t *out) {
  const struct eddy__metrics_state *st;
  unsigned k;

  if (loop == NULL || out == NULL)
    return EDDY_EINVAL;
  memset(out, 0, sizeof(*out));
  eddy__pool_stats(&out->threads, &out->busy, &out->queued);
  if ((st = eddy__metrics_of(loop)) == NULL)
    return 0;
  for (k = 0; k < EDDY_METRICS_POOL_KINDS; k++) {
    eddy_metrics_histogram_t h;

    out->kinds[k].completed =
        __atomic_load_n(&st->pool_done[k], __ATOMIC_RELAXED);
    if (eddy__metrics_summary(&st->pool_wait[k], &h) != 0)
      return EDDY_ENOMEM;
    out->kinds[k].wait_p50_ns = h.p50;
    out->kinds[k].wait_p99_ns = h.p99;
  }
  return 0;
}

const char *eddy_metrics_phase_name(eddy_metrics_phase phase) {
  static const char *const names[EDDY_METRICS_PHASE_COUNT] = {
      "timers",    "pending", "idle",  "prepare",
      "poll_wait", "poll",    "check", "close"};

  if ((unsigned)phase >= EDDY_METRICS_PHASE_COUNT)
    return "unknown";
  return names[phase];
}
