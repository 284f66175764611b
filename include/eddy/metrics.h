/* eddy/metrics.h: what the loop did, readable while it runs.
 *
 * The figures libuv gives (uv_metrics_info, uv_metrics_idle_time), kept by
 * the loop as it goes and readable from any thread without stopping it:
 * each figure is read atomically on its own (two figures read one after
 * the other may come from different iterations). Counting costs a few
 * stores per iteration; idle time is counted only once asked for with
 * eddy_loop_configure(loop, EDDY_METRICS_IDLE_TIME), before the loop
 * runs, since it reads the clock around each wait that blocks. */
#ifndef EDDY_METRICS_H
#define EDDY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_metrics_s {
  uint64_t loop_count;     /* iterations completed */
  uint64_t events;         /* I/O events dispatched, in all */
  uint64_t events_waiting; /* events the last poll wait returned */
  uint64_t reserved[13];   /* zero; room for more without a new ABI */
} eddy_metrics_t;

/* Fill *metrics. Returns 0, or EDDY_EINVAL for a NULL argument. Any
 * thread, while the loop runs. */
EDDY_EXTERN int eddy_metrics_info(const eddy_loop_t *loop,
                                  eddy_metrics_t *metrics);

/* Nanoseconds the loop spent blocked in its poll wait since
 * EDDY_METRICS_IDLE_TIME was set (0 before, or for a NULL loop). With
 * eddy_hrtime() this gives Node's event-loop utilisation: over a window,
 * 1 - idle / elapsed. Any thread, while the loop runs. */
EDDY_EXTERN uint64_t eddy_metrics_idle_time(const eddy_loop_t *loop);

/* ---- seeing the loop: utilisation, loop delay, counters, the pool ------
 *
 * eddy_metrics_enable turns on what costs something: per iteration, one
 * histogram record (about 5 ns) and a few stores; per callback, two
 * stores (which callback runs, for the watchdog); per blocking wait, two
 * clock reads. While it is off every hook is one branch. The readers
 * below take any thread, while the loop runs, once eddy_metrics_enable
 * has returned, and until eddy_loop_close. */

/* What eddy_metrics_enable turns on (OR them). */
enum {
  /* utilisation, the loop-delay histogram, the pool's queue wait */
  EDDY_METRICS_LOOP = 1,
  /* time per phase: a clock read at each of the 8 phase changes of an
   * iteration (about 20 ns each), so it is separate */
  EDDY_METRICS_PHASES = 2
};

/* Phases timed with EDDY_METRICS_PHASES, in the loop's order. POLL_WAIT
 * is the time parked in the wait, POLL the I/O callbacks after it. */
typedef enum {
  EDDY_METRICS_PHASE_TIMERS = 0,
  EDDY_METRICS_PHASE_PENDING,
  EDDY_METRICS_PHASE_IDLE,
  EDDY_METRICS_PHASE_PREPARE,
  EDDY_METRICS_PHASE_POLL_WAIT,
  EDDY_METRICS_PHASE_POLL,
  EDDY_METRICS_PHASE_CHECK,
  EDDY_METRICS_PHASE_CLOSE,
  EDDY_METRICS_PHASE_COUNT
} eddy_metrics_phase;

/* Kinds of pool jobs: eddy_queue_work and crypto; file system; DNS. */
typedef enum {
  EDDY_METRICS_POOL_CPU = 0,
  EDDY_METRICS_POOL_FS,
  EDDY_METRICS_POOL_DNS,
  EDDY_METRICS_POOL_KINDS
} eddy_metrics_pool_kind;

/* Event-loop utilisation, as Node's performance.eventLoopUtilization():
 * idle is the time parked in the poll wait, active the rest of the time
 * since eddy_metrics_enable (time outside eddy_run counts as active),
 * utilization = active / (idle + active), 0 for an empty window. */
typedef struct eddy_metrics_elu_s {
  uint64_t idle_ns;
  uint64_t active_ns;
  double utilization;
} eddy_metrics_elu_t;

/* A histogram summary, nanoseconds. Percentiles are within 0.8% above
 * the true value (nearest rank); every field is 0 while count is 0. */
typedef struct eddy_metrics_histogram_s {
  uint64_t count;
  uint64_t min, max;
  double mean, stddev;
  uint64_t p50, p90, p99, p999;
} eddy_metrics_histogram_t;

/* Counters of one loop. */
typedef struct eddy_metrics_loop_s {
  uint64_t iterations;     /* as eddy_metrics_t.loop_count */
  uint64_t events;         /* I/O events dispatched */
  uint64_t events_waiting; /* events the last wait returned */
  /* active handles (started, referenced or not), by eddy_handle_type */
  unsigned active_handles[EDDY_HANDLE_TYPE_MAX];
  unsigned active_requests; /* requests in flight, all types */
  /* of them, by eddy_req_type: counted from eddy_metrics_enable on (0
   * without it; a request already in flight then is not counted) */
  unsigned requests[EDDY_REQ_TYPE_MAX];
  /* ns per phase since EDDY_METRICS_PHASES was enabled (0 without it) */
  uint64_t phase_ns[EDDY_METRICS_PHASE_COUNT];
} eddy_metrics_loop_t;

/* The work pool (process-wide figures) and this loop's jobs on it. */
typedef struct eddy_metrics_pool_s {
  unsigned threads; /* started */
  unsigned busy;    /* not asleep waiting for a job */
  unsigned queued;  /* jobs waiting for a thread, from every loop */
  struct {
    uint64_t completed;   /* this loop's jobs delivered since enable */
    uint64_t wait_p50_ns; /* their time queued before a thread took them */
    uint64_t wait_p99_ns;
  } kinds[EDDY_METRICS_POOL_KINDS];
} eddy_metrics_pool_t;

/* Turn on the metrics in flags (EDDY_METRICS_*) for loop. The first call
 * allocates the loop's metrics state (about 200 KiB: five histograms),
 * released by eddy_loop_close; later calls add flags. Also turns on
 * EDDY_METRICS_IDLE_TIME. Returns 0, EDDY_EINVAL (loop NULL, flags 0 or
 * unknown) or EDDY_ENOMEM. Loop thread, best before eddy_run (the
 * watchdog sees a run only from its next eddy_run). */
EDDY_EXTERN int eddy_metrics_enable(eddy_loop_t *loop, unsigned flags);

/* Utilisation since eddy_metrics_enable into *elu. Returns 0, or
 * EDDY_EINVAL (NULL argument, metrics not enabled). Any thread. */
EDDY_EXTERN int eddy_metrics_elu(const eddy_loop_t *loop,
                                 eddy_metrics_elu_t *elu);

/* Utilisation between two readings, as eventLoopUtilization(now, before):
 * the differences of idle and active and the utilisation of that window.
 * before NULL gives now itself. Plain arithmetic; any thread. */
EDDY_EXTERN eddy_metrics_elu_t
eddy_metrics_elu_diff(const eddy_metrics_elu_t *now,
                      const eddy_metrics_elu_t *before);

/* The loop delay sampled once per iteration into *out: each time the poll
 * wait returns, the larger of (a) the time since the previous wait
 * returned minus the time parked in this one: how long the callbacks in
 * between kept the loop from waiting, and (b) how late past its due time
 * the earliest timer of that stretch ran. No timer and no extra wake-up:
 * an idle loop records one sample per real wake-up. Returns 0 or
 * EDDY_EINVAL (NULL argument, metrics not enabled). Any thread. */
EDDY_EXTERN int eddy_metrics_delay(const eddy_loop_t *loop,
                                   eddy_metrics_histogram_t *out);

/* The timer-based loop delay, as Node's monitorEventLoopDelay(): an
 * unreferenced repeating timer of resolution_ms records, at each run,
 * the time since its previous run (so values are mostly the resolution
 * plus the delay, exactly as Node's are). Enables EDDY_METRICS_LOOP if
 * needed. Returns 0, EDDY_EINVAL (loop NULL, resolution 0), EDDY_EBUSY
 * (already running) or EDDY_ENOMEM. Loop thread. Stop it before
 * eddy_loop_close. */
EDDY_EXTERN int eddy_metrics_delay_timer_start(eddy_loop_t *loop,
                                               unsigned resolution_ms);

/* Stops the timer-based sampling (the histogram keeps its values); its
 * timer is closed in the loop's next close phase, so run the loop before
 * eddy_loop_close, and before starting the mode again (EDDY_EBUSY until
 * then). Returns 0 or EDDY_EINVAL (not running). Loop thread. */
EDDY_EXTERN int eddy_metrics_delay_timer_stop(eddy_loop_t *loop);

/* The timer-based histogram into *out. Returns 0 or EDDY_EINVAL (NULL
 * argument, metrics not enabled). Any thread. */
EDDY_EXTERN int eddy_metrics_delay_timer(const eddy_loop_t *loop,
                                         eddy_metrics_histogram_t *out);

/* The loop's counters into *out (works without eddy_metrics_enable;
 * phase times are 0 then). Returns 0 or EDDY_EINVAL (NULL argument).
 * Any thread; each figure is read atomically on its own. */
EDDY_EXTERN int eddy_metrics_loop(const eddy_loop_t *loop,
                                  eddy_metrics_loop_t *out);

/* The pool's figures into *out (per-kind ones are 0 unless metrics are
 * enabled). Returns 0 or EDDY_EINVAL (NULL argument). Any thread. */
EDDY_EXTERN int eddy_metrics_pool(const eddy_loop_t *loop,
                                  eddy_metrics_pool_t *out);

/* The name of a phase ("timers", "poll_wait", ...) or "unknown". */
EDDY_EXTERN const char *eddy_metrics_phase_name(eddy_metrics_phase phase);

/* Every figure above as Prometheus text exposition (format 0.0.4) into
 * buf: gauges and counters named eddy_*, the histograms as summaries
 * with quantile labels. Returns the length written (buf NUL-terminated),
 * EDDY_ENOBUFS when len was too small (16 KiB is plenty), or EDDY_EINVAL
 * (NULL argument). Any thread. */
EDDY_EXTERN int eddy_metrics_format(const eddy_loop_t *loop, char *buf,
                                    size_t len);

/* ---- the watchdog: who blocks the loop --------------------------------
 * An opt-in monitor thread per loop, looking every threshold/4 ms (kept
 * between 1 and 100 ms): when the loop has been inside eddy_run, out of its
 * poll wait, for threshold_ms, it reports once, and again when the loop
 * gets back to its wait. Time parked in the wait never counts, so an
 * idle loop is never reported. */

typedef struct eddy_watchdog_report_s {
  const eddy_loop_t *loop;
  int ended;           /* 0: the stall was seen; 1: the loop is back */
  uint64_t blocked_ms; /* how long the loop has been (was) out of its wait */
  const char *type;    /* handle or request type of the callback running:
                          "timer", "tcp", "work", ... or "unknown" */
  const void *cb;      /* that callback's address, or NULL */
  const char *symbol;  /* its name ("on_request+0x0", "app+0x1234") */
  const char *stack;   /* the loop thread's stack, one frame a line
                          "#0 0x... name+0x12"; "" when not taken */
  const char *line;    /* all of it as one line, as the default prints */
} eddy_watchdog_report_t;

/* Receives a report on the watchdog's thread; the strings live until it
 * returns. */
typedef void (*eddy_watchdog_cb)(const eddy_watchdog_report_t *report,
                                 void *arg);

/* Start the watchdog of loop: report stalls of threshold_ms or longer to
 * cb(report, arg) (cb NULL: one line on stderr). The calling thread must
 * be the loop's thread (its stack is the one captured, on Linux with
 * glibc, by a signal; see the notes on SIGRTMIN+4 in the docs). Enables
 * EDDY_METRICS_LOOP. Returns 0, EDDY_EINVAL (loop NULL, threshold 0),
 * EDDY_EBUSY (already started), EDDY_ENOMEM or EDDY_EAGAIN (no thread).
 * Loop thread. */
EDDY_EXTERN int eddy_watchdog_start(eddy_loop_t *loop, unsigned threshold_ms,
                                    eddy_watchdog_cb cb, void *arg);

/* Stop and join the watchdog thread (a report being delivered finishes
 * first). eddy_loop_close stops it too. Returns 0 or EDDY_EINVAL (not
 * started). Loop thread, never from the report callback. */
EDDY_EXTERN int eddy_watchdog_stop(eddy_loop_t *loop);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_METRICS_H */
