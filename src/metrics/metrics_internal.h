/* metrics_internal.h: a loop's metrics state, shared by the files of
 * src/metrics/ (the loop hooks and readers, the watchdog, the text
 * format). */
#ifndef EDDY_METRICS_METRICS_INTERNAL_H
#define EDDY_METRICS_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "core/loop_internal.h"
#include "eddy/metrics.h"
#include "eddy/timer.h"
#include "metrics/histogram.h"

struct eddy__watchdog;

/* Allocated by eddy_metrics_enable, freed by the loop part's close. The
 * histograms have one writer, the loop thread; the figures marked atomic
 * are written by it and read by any thread. */
struct eddy__metrics_state {
  eddy__hist_t delay;       /* per iteration */
  eddy__hist_t timer_delay; /* timer-based, as Node's */
  eddy__hist_t pool_wait[EDDY_METRICS_POOL_KINDS];
  struct eddy__loop_part part;
  uint64_t start_ns;  /* when enabled (set before readers can see it) */
  uint64_t last_wake; /* loop thread: ns the previous wait returned */
  uint64_t late_ns;   /* loop thread: lateness of timers since then */
  uint64_t pool_done[EDDY_METRICS_POOL_KINDS]; /* atomic */
  uint64_t phase_ns[EDDY__PHASE_COUNT];        /* atomic */
  uint64_t phase_at;                           /* loop thread */
  enum eddy__metrics_phase phase;              /* loop thread */
  eddy_timer_t timer;                          /* timer-based mode */
  uint64_t timer_prev;
  int timer_on;
  int timer_closing; /* stopped, its close callback still to come */
  struct eddy__watchdog *watchdog;
};

/* The state of a loop, or NULL before eddy_metrics_enable (acquire: it
 * was filled before it was published). */
static inline struct eddy__metrics_state *
eddy__metrics_of(const eddy_loop_t *loop) {
  return __atomic_load_n(&loop->priv.metrics.state, __ATOMIC_ACQUIRE);
}

/* Summary of a live histogram (a snapshot: 35 KiB, on the heap).
 * Returns 0 or EDDY_ENOMEM. Any thread. */
int eddy__metrics_summary(const eddy__hist_t *h, eddy_metrics_histogram_t *o);

/* The watchdog's part of eddy_loop_close (watchdog.c). */
void eddy__watchdog_release(struct eddy__metrics_state *st);

#endif /* EDDY_METRICS_METRICS_INTERNAL_H */
