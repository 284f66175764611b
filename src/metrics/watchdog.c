/* watchdog.c: a monitor thread per loop that notices when the loop has
 * been out of its poll wait too long, and names the callback running and
 * the loop thread's stack (symbol.c, stack.c).
 *
 * It only reads what the loop publishes anyway with metrics on: whether
 * eddy_run runs (run_epoch odd), whether the loop is parked in a wait
 * (wait_since), when a wait last returned (wake) and which callback was
 * last started (run_type, run_cb). A stall is counted from the latest of
 * those moments the watchdog knows the loop was not stuck: the last wake,
 * the start of this eddy_run, the last time it saw the loop parked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics_internal.h"
#include "metrics/stack.h"

#define EDDY__WATCHDOG_STACK_TEXT 4096
#define EDDY__WATCHDOG_LINE 6144
#define EDDY__WATCHDOG_CAPTURE_MS 200

struct eddy__watchdog {
  eddy_loop_t *loop;
  pthread_t thread;
  pthread_t target; /* the loop's thread */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stop; /* under lock */
  unsigned threshold_ms;
  eddy_watchdog_cb cb;
  void *arg;
  /* the monitor thread's own */
  eddy_watchdog_report_t report;
  char type[32];
  char symbol[EDDY__SYMBOL_MAX];
  char stack[EDDY__WATCHDOG_STACK_TEXT];
  char line[EDDY__WATCHDOG_LINE];
  void *frames[EDDY__STACK_FRAMES_MAX];
};

/* What the watchdog knows of the loop at one look. */
struct eddy__watch_look {
  uint64_t now;
  unsigned epoch;
  uint64_t wait_since;
  uint64_t wake;
};

static void eddy__watchdog_default(const eddy_watchdog_report_t *r, void *arg) {
  (void)arg;
  fprintf(stderr, "%s\n", r->line);
}

static const char *eddy__watch_type_name(unsigned type) {
  const char *name = NULL;

  if (type >= EDDY__METRICS_RUN_REQ)
    name = eddy_req_type_name((eddy_req_type)(type - EDDY__METRICS_RUN_REQ));
  else
    name = eddy_handle_type_name((eddy_handle_type)type);
  return name != NULL ? name : "unknown";
}

/* The callback running now, into the report. */
static void eddy__watch_name_callback(struct eddy__watchdog *wd) {
  const eddy_loop_t *loop = wd->loop;
  const void *cb =
      __atomic_load_n(&loop->priv.metrics.run_cb, __ATOMIC_RELAXED);
  unsigned type =
      __atomic_load_n(&loop->priv.metrics.run_type, __ATOMIC_RELAXED);

  wd->report.cb = cb;
  if (cb == NULL) {
    snprintf(wd->type, sizeof(wd->type), "unknown");
    snprintf(wd->symbol, sizeof(wd->symbol), "?");
    return;
  }
  snprintf(wd->type, sizeof(wd->type), "%s", eddy__watch_type_name(type));
  eddy__symbol_name(cb, wd->symbol, sizeof(wd->symbol));
}

/* The loop thread's stack, one frame a line, or "" when it is not taken. */
static void eddy__watch_take_stack(struct eddy__watchdog *wd) {
  int n = eddy__stack_capture(wd->target, wd->frames, EDDY__STACK_FRAMES_MAX,
                              EDDY__WATCHDOG_CAPTURE_MS);

  wd->stack[0] = '\0';
  if (n > 0 &&
      eddy__stack_format_buf(wd->frames, n, wd->stack, sizeof(wd->stack)) < 0)
    wd->stack[sizeof(wd->stack) - 1] = '\0'; /* the frames that fitted */
}

/* The one-line form: the stack's lines joined by " | ". */
static void eddy__watch_make_line(struct eddy__watchdog *wd) {
  const eddy_watchdog_report_t *r = &wd->report;
  size_t at;
  int n;

  if (r->ended)
    n = snprintf(wd->line, sizeof(wd->line),
                 "eddy watchdog: loop %p back in its poll wait after %llu ms "
                 "(%s callback %p %s)",
                 (const void *)r->loop, (unsigned long long)r->blocked_ms,
                 r->type, r->cb, r->symbol);
  else
    n = snprintf(wd->line, sizeof(wd->line),
                 "eddy watchdog: loop %p blocked for %llu ms in %s callback "
                 "%p %s; stack: %s",
                 (const void *)r->loop, (unsigned long long)r->blocked_ms,
                 r->type, r->cb, r->symbol,
                 r->stack[0] != '\0' ? r->stack : "(not available)");
  if (n < 0)
    wd->line[0] = '\0';
  for (at = 0; wd->line[at] != '\0'; at++)
    if (wd->line[at] == '\n')
      wd->line[at] = wd->line[at + 1] != '\0' ? '|' : '\0';
}

static void eddy__watch_deliver(struct eddy__watchdog *wd, int ended,
                                uint64_t blocked_ns) {
  wd->report.loop = wd->loop;
  wd->report.ended = ended;
  wd->report.blocked_ms = blocked_ns / 1000000u;
  wd->report.type = wd->type;
  wd->report.symbol = wd->symbol;
  wd->report.stack = ended ? "" : wd->stack;
  eddy__watch_make_line(wd);
  wd->report.line = wd->line;
  wd->cb(&wd->report, wd->arg);
}

static void eddy__watch_look(const eddy_loop_t *loop,
                             struct eddy__watch_look *l) {
  l->epoch = __atomic_load_n(&loop->priv.metrics.run_epoch, __ATOMIC_ACQUIRE);
  l->wait_since =
      __atomic_load_n(&loop->priv.metrics.wait_since, __ATOMIC_ACQUIRE);
  l->wake = __atomic_load_n(&loop->priv.metrics.wake, __ATOMIC_RELAXED);
  l->now = eddy_hrtime();
}

/* Sleeps up to ms; returns non-zero when asked to stop. */
static int eddy__watch_sleep(struct eddy__watchdog *wd, unsigned ms) {
  struct timespec until;
  int stop;

  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&wd->lock);
  while (!wd->stop && pthread_cond_timedwait(&wd->cond, &wd->lock, &until) == 0)
    ;
  stop = wd->stop;
  pthread_mutex_unlock(&wd->lock);
  return stop;
}

static void *eddy__watchdog_main(void *arg) {
  struct eddy__watchdog *wd = arg;
  uint64_t threshold = (uint64_t)wd->threshold_ms * 1000000u;
  unsigned interval = wd->threshold_ms / 4;
  unsigned seen_epoch = 0;
  uint64_t calm = eddy_hrtime(); /* latest moment the loop was not stuck */
  uint64_t stall_from = 0, stall_wake = 0;
  unsigned stall_epoch = 0;
  int stalled = 0;
  struct eddy__watch_look l;

  interval = interval < 1 ? 1 : interval > 100 ? 100 : interval;
  while (!eddy__watch_sleep(wd, interval)) {
    eddy__watch_look(wd->loop, &l);
    if (l.epoch != seen_epoch) {
      seen_epoch = l.epoch;
      calm = l.now;
    }
    if (!(l.epoch & 1u) || l.wait_since != 0)
      calm = l.now; /* out of eddy_run, or parked: not stuck */
    if (l.wake > calm && l.wake <= l.now)
      calm = l.wake;
    if (stalled &&
        (calm > stall_from || l.wake != stall_wake || l.epoch != stall_epoch)) {
      uint64_t end = l.wait_since != 0      ? l.wait_since
                     : l.wake != stall_wake ? l.wake
                                            : l.now;

      eddy__watch_deliver(wd, 1, end > stall_from ? end - stall_from : 0);
      stalled = 0;
    }
    if (!stalled && l.now - calm >= threshold) {
      eddy__watch_name_callback(wd);
      eddy__watch_take_stack(wd);
      stalled = 1;
      stall_from = calm;
      stall_wake = l.wake;
      stall_epoch = l.epoch;
      eddy__watch_deliver(wd, 0, eddy_hrtime() - stall_from);
    }
  }
  return NULL;
}

int eddy_watchdog_start(eddy_loop_t *loop, unsigned threshold_ms,
                        eddy_watchdog_cb cb, void *arg) {
  struct eddy__metrics_state *st;
  struct eddy__watchdog *wd;
  pthread_condattr_t attr;
  int err;

  if (loop == NULL || threshold_ms == 0)
    return EDDY_EINVAL;
  if ((err = eddy_metrics_enable(loop, EDDY_METRICS_LOOP)) != 0)
    return err;
  st = loop->priv.metrics.state;
  if (st->watchdog != NULL)
    return EDDY_EBUSY;
  if ((wd = calloc(1, sizeof(*wd))) == NULL)
    return EDDY_ENOMEM;
  wd->loop = loop;
  wd->target = pthread_self();
  wd->threshold_ms = threshold_ms;
  wd->cb = cb != NULL ? cb : eddy__watchdog_default;
  wd->arg = arg;
  (void)eddy__stack_capture_init(); /* loads the unwinder now, not later */
  pthread_mutex_init(&wd->lock, NULL);
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&wd->cond, &attr);
  pthread_condattr_destroy(&attr);
  if (pthread_create(&wd->thread, NULL, eddy__watchdog_main, wd) != 0) {
    pthread_cond_destroy(&wd->cond);
    pthread_mutex_destroy(&wd->lock);
    free(wd);
    return EDDY_EAGAIN;
  }
  st->watchdog = wd;
  return 0;
}

int eddy_watchdog_stop(eddy_loop_t *loop) {
  struct eddy__metrics_state *st;

  if (loop == NULL || (st = loop->priv.metrics.state) == NULL ||
      st->watchdog == NULL)
    return EDDY_EINVAL;
  eddy__watchdog_release(st);
  return 0;
}

void eddy__watchdog_release(struct eddy__metrics_state *st) {
  struct eddy__watchdog *wd = st->watchdog;

  if (wd == NULL)
    return;
  pthread_mutex_lock(&wd->lock);
  wd->stop = 1;
  pthread_cond_signal(&wd->cond);
  pthread_mutex_unlock(&wd->lock);
  pthread_join(wd->thread, NULL);
  pthread_cond_destroy(&wd->cond);
  pthread_mutex_destroy(&wd->lock);
  free(wd);
  st->watchdog = NULL;
}
