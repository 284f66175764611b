/* test_metrics.c: eddy_metrics_info and eddy_metrics_idle_time: counts
 * per iteration and per event, idle time only once asked for, Node's
 * event-loop utilisation of a loop that blocks half of a window, reads
 * from another thread while the loop runs (TSan). Then what
 * eddy_metrics_enable turns on: utilisation between two readings, the
 * per-iteration and the timer-based delay histograms (percentiles against
 * a reference), counters by type and phase, the pool's figures, the
 * Prometheus text (parsed), and every reader from another thread. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "metrics/metrics_internal.h"
#include "test_util.h"

static void on_idle_count(eddy_idle_t *h) {
  (void)h;
}

static void on_readable_stop(eddy_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  eddy_poll_stop(p);
}

static void test_loop_count_and_events(void **state) {
  eddy_loop_t loop;
  eddy_metrics_t m;
  eddy_idle_t idle;
  eddy_poll_t p;
  int fds[2];

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_int_equal(m.loop_count, 0);
  assert_int_equal(m.events, 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, on_idle_count), 0);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_int_equal(m.loop_count, 3);
  assert_int_equal(m.events, 0);
  assert_int_equal(m.events_waiting, 0);
  /* one readable descriptor: one event */
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, on_readable_stop), 0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_int_equal(m.loop_count, 4);
  assert_int_equal(m.events, 1);
  assert_int_equal(m.events_waiting, 1);
  for (unsigned i = 0; i < 13; i++)
    assert_int_equal(m.reserved[i], 0);
  eddy_close(&p.handle, NULL);
  eddy_close(&idle.handle, NULL);
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

static void test_errors(void **state) {
  eddy_loop_t loop;
  eddy_metrics_t m;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_info(NULL, &m), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_info(&loop, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_idle_time(NULL), 0);
  assert_int_equal(eddy_metrics_idle_time(&loop), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Idle time counts only once asked for, and only time parked in the
 * wait: a loop that spins 50 ms, then waits 50 ms, is half busy. */
static void on_spin(eddy_timer_t *t) {
  test_busy_wait_ms(50);
  eddy_close(&t->handle, NULL);
}

static void on_end(eddy_timer_t *t) {
  eddy_close(&t->handle, NULL);
}

static void test_idle_time_and_utilization(void **state) {
  eddy_loop_t loop;
  eddy_timer_t spin, end, wait;
  uint64_t t0, elapsed, idle;
  double utilization;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  /* not asked for: a blocking wait adds nothing */
  assert_int_equal(eddy_timer_init(&loop, &wait), 0);
  assert_int_equal(eddy_timer_start(&wait, on_end, 20, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_metrics_idle_time(&loop), 0);

  assert_int_equal(eddy_loop_configure(&loop, EDDY_METRICS_IDLE_TIME), 0);
  assert_int_equal(eddy_timer_init(&loop, &spin), 0);
  assert_int_equal(eddy_timer_init(&loop, &end), 0);
  eddy_update_time(&loop);
  t0 = eddy_hrtime();
  assert_int_equal(eddy_timer_start(&spin, on_spin, 0, 0), 0);
  assert_int_equal(eddy_timer_start(&end, on_end, 100, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  elapsed = eddy_hrtime() - t0;
  idle = eddy_metrics_idle_time(&loop);
  assert_true(idle > 0 && idle < elapsed);
  utilization = 1.0 - (double)idle / (double)elapsed;
  assert_true(utilization >= 0.4 && utilization <= 0.6);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Another thread reads while the loop runs: every figure only grows. */
#define READER_ITERS 2000

static int reader_done;

static void *read_metrics(void *arg) {
  eddy_loop_t *loop = arg;
  uint64_t last = 0, idle_last = 0;
  int ok = 1;

  while (!__atomic_load_n(&reader_done, __ATOMIC_ACQUIRE)) {
    eddy_metrics_t m;
    uint64_t idle = eddy_metrics_idle_time(loop);

    if (eddy_metrics_info(loop, &m) != 0 || m.loop_count < last ||
        idle < idle_last)
      ok = 0;
    last = m.loop_count;
    idle_last = idle;
  }
  return (void *)(intptr_t)ok;
}

static int idle_runs;

static void on_idle_stop_at(eddy_idle_t *h) {
  if (++idle_runs == READER_ITERS)
    eddy_close(&h->handle, NULL);
}

static void test_read_from_another_thread(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;
  eddy_metrics_t m;
  pthread_t reader;
  void *ok;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_loop_configure(&loop, EDDY_METRICS_IDLE_TIME), 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, on_idle_stop_at), 0);
  idle_runs = 0;
  reader_done = 0;
  assert_int_equal(pthread_create(&reader, NULL, read_metrics, &loop), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  __atomic_store_n(&reader_done, 1, __ATOMIC_RELEASE);
  assert_int_equal(pthread_join(reader, &ok), 0);
  assert_true((intptr_t)ok);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_true(m.loop_count >= READER_ITERS);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* ---- eddy_metrics_enable and what it turns on ----------------------- */

static void test_enable_errors(void **state) {
  eddy_loop_t loop;
  eddy_metrics_elu_t elu, d;
  eddy_metrics_histogram_t h;
  eddy_metrics_loop_t lm;
  eddy_metrics_pool_t pm;
  char small[16];

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_enable(NULL, EDDY_METRICS_LOOP), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_enable(&loop, 0), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_enable(&loop, 64), EDDY_EINVAL);
  /* not enabled yet */
  assert_int_equal(eddy_metrics_elu(&loop, &elu), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_delay(&loop, &h), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_delay_timer(&loop, &h), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_delay_timer_stop(&loop), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_loop(&loop, &lm), 0); /* counters: always */
  assert_int_equal(eddy_metrics_pool(&loop, &pm), 0);
  assert_int_equal(pm.kinds[EDDY_METRICS_POOL_CPU].completed, 0);
  /* NULL arguments */
  assert_int_equal(eddy_metrics_elu(NULL, &elu), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_loop(NULL, &lm), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_loop(&loop, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_pool(NULL, &pm), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_pool(&loop, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_format(NULL, small, sizeof(small)),
                   EDDY_EINVAL);
  assert_int_equal(eddy_metrics_format(&loop, NULL, 16), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_format(&loop, small, sizeof(small)),
                   EDDY_ENOBUFS);
  assert_int_equal(eddy_metrics_delay_timer_start(NULL, 10), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_delay_timer_start(&loop, 0), EDDY_EINVAL);
  assert_string_equal(eddy_metrics_phase_name(EDDY_METRICS_PHASE_POLL_WAIT),
                      "poll_wait");
  assert_string_equal(eddy_metrics_phase_name(EDDY_METRICS_PHASE_COUNT),
                      "unknown");
  d = eddy_metrics_elu_diff(NULL, NULL);
  assert_int_equal(d.idle_ns + d.active_ns, 0);

  assert_int_equal(eddy_metrics_enable(&loop, EDDY_METRICS_LOOP), 0);
  assert_int_equal(eddy_metrics_enable(&loop, EDDY_METRICS_PHASES), 0);
  assert_int_equal(eddy_metrics_elu(&loop, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_delay(&loop, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_delay(&loop, &h), 0);
  assert_int_equal(h.count, 0);
  assert_int_equal(eddy_metrics_delay_timer_start(&loop, 10), 0);
  assert_int_equal(eddy_metrics_delay_timer_start(&loop, 10), EDDY_EBUSY);
  assert_int_equal(eddy_metrics_delay_timer_stop(&loop), 0);
  assert_int_equal(eddy_metrics_delay_timer_stop(&loop), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_delay_timer_start(&loop, 10), EDDY_EBUSY);
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY); /* timer closing */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_loop_close(&loop), 0); /* frees the state */
}

/* Node's eventLoopUtilization(a, b): a loop that spins 50 ms of a 100 ms
 * window is about half busy. The machine the suite runs on is shared: a
 * window in which the test thread lost the CPU for tens of ms is measured
 * again, up to three windows. */
static double elu_one_window(void) {
  eddy_loop_t loop;
  eddy_timer_t spin, end;
  eddy_metrics_elu_t a, b, d;

  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_enable(&loop, EDDY_METRICS_LOOP), 0);
  assert_int_equal(eddy_timer_init(&loop, &spin), 0);
  assert_int_equal(eddy_timer_init(&loop, &end), 0);
  eddy_update_time(&loop);
  assert_int_equal(eddy_metrics_elu(&loop, &a), 0);
  assert_int_equal(eddy_timer_start(&spin, on_spin, 0, 0), 0);
  assert_int_equal(eddy_timer_start(&end, on_end, 100, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_metrics_elu(&loop, &b), 0);
  assert_true(b.idle_ns >= a.idle_ns && b.active_ns >= a.active_ns);
  d = eddy_metrics_elu_diff(&b, &a);
  assert_true(d.active_ns > 0);
  /* one reading alone is its own window */
  a = eddy_metrics_elu_diff(&b, NULL);
  assert_int_equal(a.idle_ns, b.idle_ns);
  assert_int_equal(eddy_loop_close(&loop), 0);
  return d.utilization;
}

static void test_elu_half_busy(void **state) {
  double u = 0;
  int tries;

  (void)state;
  for (tries = 0; tries < 3; tries++) {
    u = elu_one_window();
    if (u >= 0.4 && u <= 0.6)
      break;
  }
  assert_true(u >= 0.4 && u <= 0.6);
}

/* The per-iteration delay: each of the iterations spins a known time, so
 * each sample is at least that long; the percentiles are compared with
 * those of the spins themselves (nearest rank, computed here). */
#define DELAY_RUNS 20

static int delay_runs;
static eddy_timer_t delay_timer;

static void on_delay_spin(eddy_timer_t *t) {
  delay_runs++;
  test_busy_wait_ms((uint64_t)delay_runs); /* 1, 2, ... 20 ms */
  if (delay_runs == DELAY_RUNS)
    eddy_close(&t->handle, NULL);
  else
    eddy_timer_start(t, on_delay_spin, 1, 0);
}

static uint64_t nearest_rank(const uint64_t *sorted, unsigned n, double p) {
  unsigned rank = (unsigned)(p / 100.0 * n + 0.999999);

  return sorted[(rank < 1 ? 1 : rank) - 1];
}

static void test_delay_per_iteration(void **state) {
  eddy_loop_t loop;
  eddy_metrics_histogram_t h;
  uint64_t spins[DELAY_RUNS];
  unsigned i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_enable(&loop, EDDY_METRICS_LOOP), 0);
  assert_int_equal(eddy_timer_init(&loop, &delay_timer), 0);
  delay_runs = 0;
  assert_int_equal(eddy_timer_start(&delay_timer, on_delay_spin, 1, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_metrics_delay(&loop, &h), 0);
  for (i = 0; i < DELAY_RUNS; i++)
    spins[i] = (uint64_t)(i + 1) * 1000000u;
  /* every spin is in some sample, beside short wake-ups between them */
  assert_true(h.count >= DELAY_RUNS - 1);
  assert_true(h.max >= spins[DELAY_RUNS - 2]);
  assert_true(h.p999 >= nearest_rank(spins, DELAY_RUNS, 90));
  assert_true(h.min <= h.p50 && h.p50 <= h.p90 && h.p90 <= h.p99 &&
              h.p99 <= h.p999 && h.p999 <= h.max);
  assert_true(h.mean > 0 && h.stddev > 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* The histogram behind every summary, against a reference: values with a
 * known spread, percentiles by nearest rank on the sorted values, within
 * the documented bound (never below, less than 1/128 above). */
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_summary_vs_reference(void **state) {
  static eddy__hist_t hist;
  static uint64_t values[10000];
  static const double ps[] = {50, 90, 99, 99.9};
  eddy_metrics_histogram_t h;
  uint64_t seed = 12345, got[4];
  double sum = 0, sq = 0, mean;
  unsigned i, n = 10000;

  (void)state;
  eddy__hist_init(&hist);
  for (i = 0; i < n; i++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    /* a long tail: mostly microseconds, some tens of milliseconds */
    values[i] = 1000 + (seed >> 33) % 50000 +
                ((seed >> 20) % 100 == 0 ? (seed >> 40) % 50000000 : 0);
    eddy__hist_record(&hist, values[i]);
    sum += (double)values[i];
  }
  mean = sum / n;
  for (i = 0; i < n; i++)
    sq += ((double)values[i] - mean) * ((double)values[i] - mean);
  qsort(values, n, sizeof(values[0]), cmp_u64);
  assert_int_equal(eddy__metrics_summary(&hist, &h), 0);
  assert_int_equal(h.count, n);
  assert_int_equal(h.min, values[0]);
  assert_int_equal(h.max, values[n - 1]);
  assert_true(fabs(h.mean - mean) < 1e-6 * mean);
  assert_true(fabs(h.stddev - sqrt(sq / n)) < 1e-6 * sqrt(sq / n));
  got[0] = h.p50;
  got[1] = h.p90;
  got[2] = h.p99;
  got[3] = h.p999;
  for (i = 0; i < 4; i++) {
    uint64_t ref = nearest_rank(values, n, ps[i]);

    assert_true(got[i] >= ref);
    assert_true(got[i] <= ref + ref / 128);
  }
}

/* Timer-based, as Node's monitorEventLoopDelay: values are the time
 * between the timer's runs, so mostly the resolution; a spin shows. */
static void on_spin_30(eddy_timer_t *t) {
  test_busy_wait_ms(30);
  eddy_close(&t->handle, NULL);
}

static void on_end_stop_monitor(eddy_timer_t *t) {
  eddy_metrics_delay_timer_stop(t->handle.loop);
  eddy_close(&t->handle, NULL);
}

static void test_delay_timer_mode(void **state) {
  eddy_loop_t loop;
  eddy_timer_t spin, end;
  eddy_metrics_histogram_t h;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_delay_timer_start(&loop, 5), 0);
  assert_int_equal(eddy_timer_init(&loop, &spin), 0);
  assert_int_equal(eddy_timer_init(&loop, &end), 0);
  assert_int_equal(eddy_timer_start(&spin, on_spin_30, 40, 0), 0);
  assert_int_equal(eddy_timer_start(&end, on_end_stop_monitor, 120, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_metrics_delay_timer(&loop, &h), 0);
  assert_true(h.count >= 5);
  /* mostly the resolution; right after the spin the timer is overdue and
   * runs again at once, as libuv's (and so Node's) does */
  assert_true(h.p50 >= 4000000u);
  assert_true(h.max >= 30000000u); /* the spin */
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Active handles by type, requests, per-phase time. */
static void test_counters(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;
  eddy_idle_t idle;
  eddy_metrics_loop_t m;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(
      eddy_metrics_enable(&loop, EDDY_METRICS_LOOP | EDDY_METRICS_PHASES), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, on_end, 20, 0), 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, on_idle_count), 0);
  assert_int_equal(eddy_metrics_loop(&loop, &m), 0);
  assert_int_equal(m.active_handles[EDDY_TIMER], 1);
  assert_int_equal(m.active_handles[EDDY_IDLE], 1);
  assert_int_equal(m.active_handles[EDDY_TCP], 0);
  assert_int_equal(m.active_requests, 0);
  eddy_idle_stop(&idle);
  eddy_close(&idle.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0); /* waits 20 ms */
  assert_int_equal(eddy_metrics_loop(&loop, &m), 0);
  assert_int_equal(m.active_handles[EDDY_TIMER], 0);
  assert_int_equal(m.active_handles[EDDY_IDLE], 0);
  assert_true(m.iterations >= 1);
  assert_true(m.phase_ns[EDDY_METRICS_PHASE_POLL_WAIT] >= 10000000u);
  assert_true(m.phase_ns[EDDY_METRICS_PHASE_POLL_WAIT] < 2000000000u);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* The pool: jobs completed by kind and their queue wait. */
#define POOL_JOBS 12

static int pool_done;

static void pool_job(eddy_work_t *w) {
  (void)w;
  usleep(2000);
}

static void pool_after(eddy_work_t *w, int status) {
  (void)w;
  assert_int_equal(status, 0);
  pool_done++;
}

static void test_pool(void **state) {
  eddy_loop_t loop;
  eddy_work_t reqs[POOL_JOBS];
  eddy_metrics_pool_t m;
  eddy_metrics_loop_t lm;
  unsigned i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_enable(&loop, EDDY_METRICS_LOOP), 0);
  pool_done = 0;
  for (i = 0; i < POOL_JOBS; i++)
    assert_int_equal(eddy_queue_work(&loop, &reqs[i], pool_job, pool_after),
                     0);
  assert_int_equal(eddy_metrics_pool(&loop, &m), 0);
  assert_true(m.threads >= 1);
  assert_int_equal(eddy_metrics_loop(&loop, &lm), 0);
  assert_int_equal(lm.requests[EDDY_WORK], POOL_JOBS);
  assert_int_equal(lm.requests[EDDY_FS], 0);
  assert_int_equal(lm.active_requests, POOL_JOBS);
  assert_true(m.queued <= POOL_JOBS);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(pool_done, POOL_JOBS);
  assert_int_equal(eddy_metrics_pool(&loop, &m), 0);
  assert_int_equal(m.kinds[EDDY_METRICS_POOL_CPU].completed, POOL_JOBS);
  assert_int_equal(m.kinds[EDDY_METRICS_POOL_FS].completed, 0);
  /* more jobs than threads: the last ones waited at least one job */
  if (m.threads < POOL_JOBS)
    assert_true(m.kinds[EDDY_METRICS_POOL_CPU].wait_p99_ns >= 1000000u);
  assert_true(m.kinds[EDDY_METRICS_POOL_CPU].wait_p50_ns <=
              m.kinds[EDDY_METRICS_POOL_CPU].wait_p99_ns);
  assert_int_equal(m.queued, 0);
  assert_int_equal(eddy_metrics_loop(&loop, &lm), 0);
  assert_int_equal(lm.requests[EDDY_WORK], 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* The Prometheus text parses: every line a comment or "name{labels}
 * value", every sample's name announced by a TYPE line, the figures
 * there. */
static int prom_line_ok(const char *line, char *types) {
  char name[128];
  const char *p = line;
  size_t n = 0;
  char *end;

  if (strncmp(line, "# HELP ", 7) == 0)
    return 1;
  if (strncmp(line, "# TYPE ", 7) == 0) {
    strncat(types, line + 7, 200);
    strcat(types, "\n");
    return 1;
  }
  while ((*p >= 'a' && *p <= 'z') || *p == '_' || (*p >= '0' && *p <= '9'))
    name[n++] = *p++;
  name[n] = '\0';
  if (n == 0)
    return 0;
  if (*p == '{') {
    p = strchr(p, '}');
    if (p == NULL)
      return 0;
    p++;
  }
  if (*p != ' ')
    return 0;
  strtod(p + 1, &end);
  if (end == p + 1 || *end != '\0')
    return 0;
  /* a summary's _sum, _count, _min ... belong to its family */
  for (;;) {
    char want[160];

    snprintf(want, sizeof(want), "%s ", name);
    if (strstr(types, want) != NULL)
      return 1;
    end = strrchr(name, '_');
    if (end == NULL)
      return 0;
    *end = '\0';
  }
}

static void test_format_parses(void **state) {
  static char buf[32768], types[16384];
  eddy_loop_t loop;
  eddy_timer_t spin, end;
  char *line, *save;
  int n, lines = 0;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_delay_timer_start(&loop, 5), 0);
  assert_int_equal(eddy_timer_init(&loop, &spin), 0);
  assert_int_equal(eddy_timer_init(&loop, &end), 0);
  assert_int_equal(eddy_timer_start(&spin, on_spin_30, 10, 0), 0);
  assert_int_equal(eddy_timer_start(&end, on_end_stop_monitor, 60, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  n = eddy_metrics_format(&loop, buf, sizeof(buf));
  assert_true(n > 0 && (size_t)n == strlen(buf));
  assert_int_equal(eddy_metrics_format(&loop, buf, 100), EDDY_ENOBUFS);
  n = eddy_metrics_format(&loop, buf, sizeof(buf)); /* time moved on */
  assert_true(n > 0 && (size_t)n == strlen(buf));
  assert_non_null(strstr(buf, "eddy_loop_utilization "));
  assert_non_null(strstr(buf, "eddy_loop_delay_seconds{quantile=\"0.99\"} "));
  assert_non_null(strstr(buf, "eddy_loop_delay_timer_seconds_count "));
  assert_non_null(strstr(buf, "eddy_loop_active_handles{type=\"tcp\"} 0\n"));
  assert_non_null(strstr(buf, "eddy_pool_queue_depth "));
  assert_non_null(strstr(buf, "eddy_loop_phase_seconds_total{phase=\"poll\"}"));
  types[0] = '\0';
  for (line = strtok_r(buf, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save), lines++)
    if (!prom_line_ok(line, types))
      fail_msg("not Prometheus text: %s", line);
  assert_true(lines > 40);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Every reader from another thread while the loop runs (TSan). */
static void *read_everything(void *arg) {
  static char buf[32768];
  eddy_loop_t *loop = arg;
  int ok = 1;

  while (!__atomic_load_n(&reader_done, __ATOMIC_ACQUIRE)) {
    eddy_metrics_elu_t elu;
    eddy_metrics_histogram_t h;
    eddy_metrics_loop_t m;
    eddy_metrics_pool_t pm;

    if (eddy_metrics_elu(loop, &elu) != 0 || elu.utilization < 0 ||
        elu.utilization > 1 || eddy_metrics_delay(loop, &h) != 0 ||
        h.min > h.max || eddy_metrics_delay_timer(loop, &h) != 0 ||
        eddy_metrics_loop(loop, &m) != 0 || eddy_metrics_pool(loop, &pm) != 0 ||
        eddy_metrics_format(loop, buf, sizeof(buf)) <= 0)
      ok = 0;
  }
  return (void *)(intptr_t)ok;
}

static void on_idle_stop_monitor(eddy_idle_t *h) {
  if (++idle_runs == READER_ITERS) {
    eddy_metrics_delay_timer_stop(h->handle.loop);
    eddy_close(&h->handle, NULL);
  } else if (idle_runs % 100 == 0)
    usleep(1000); /* a late timer now and then */
}

static void test_readers_while_running(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;
  eddy_work_t reqs[4];
  pthread_t reader;
  void *ok;
  unsigned i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(
      eddy_metrics_enable(&loop, EDDY_METRICS_LOOP | EDDY_METRICS_PHASES), 0);
  assert_int_equal(eddy_metrics_delay_timer_start(&loop, 1), 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, on_idle_stop_monitor), 0);
  pool_done = 0;
  for (i = 0; i < 4; i++)
    assert_int_equal(eddy_queue_work(&loop, &reqs[i], pool_job, pool_after),
                     0);
  idle_runs = 0;
  reader_done = 0;
  assert_int_equal(pthread_create(&reader, NULL, read_everything, &loop), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  __atomic_store_n(&reader_done, 1, __ATOMIC_RELEASE);
  assert_int_equal(pthread_join(reader, &ok), 0);
  assert_true((intptr_t)ok);
  assert_int_equal(pool_done, 4);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loop_count_and_events),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_idle_time_and_utilization),
      cmocka_unit_test(test_read_from_another_thread),
      cmocka_unit_test(test_enable_errors),
      cmocka_unit_test(test_elu_half_busy),
      cmocka_unit_test(test_delay_per_iteration),
      cmocka_unit_test(test_summary_vs_reference),
      cmocka_unit_test(test_delay_timer_mode),
      cmocka_unit_test(test_counters),
      cmocka_unit_test(test_pool),
      cmocka_unit_test(test_format_parses),
      cmocka_unit_test(test_readers_while_running),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
