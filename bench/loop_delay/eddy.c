/* loop_delay, eddy side: the loop delay a blocking program shows, in the
 * timer-based mode Node's monitorEventLoopDelay uses, for comparison with
 * node.js in this directory (same workload, same resolution).
 *
 * Workload: a 50 ms repeating timer whose i-th run busy-waits
 * (i * 7 % 10) * 3 ms (0 to 27 ms, the same sequence on both sides), for
 * argv[1] seconds (default 5). The delay monitor runs at a 10 ms
 * resolution; the per-iteration histogram is printed too.
 * Verifies: the monitor took samples, the loop closes cleanly.
 * Output: impl, version, runs, and the timer-based histogram's p50_ms,
 * p99_ms, max_ms, count; iter_p50_ms, iter_p99_ms (eddy's own mode). */
#include <eddy.h>

#include "../common.h"

#define PERIOD_MS 50
#define RESOLUTION_MS 10

static eddy_timer_t work, end;
static long runs;

static void spin_ms(uint64_t ms) {
  uint64_t until = eddy_hrtime() + ms * 1000000u;
  while (eddy_hrtime() < until)
    ;
}

static void on_work(eddy_timer_t *t) {
  (void)t;
  spin_ms((uint64_t)(runs * 7 % 10) * 3);
  runs++;
}

static void on_end(eddy_timer_t *t) {
  eddy_metrics_delay_timer_stop(t->handle.loop);
  eddy_close(&work.handle, NULL);
  eddy_close(&end.handle, NULL);
}

int main(int argc, char **argv) {
  double secs = bench_arg_double(argc, argv, 5.0);
  eddy_metrics_histogram_t h, it;
  eddy_loop_t loop;
  long errs = 0;

  if (eddy_loop_init(&loop) != 0) return 1;
  BENCH_CHECK(eddy_metrics_delay_timer_start(&loop, RESOLUTION_MS) == 0, errs);
  eddy_timer_init(&loop, &work);
  eddy_timer_init(&loop, &end);
  eddy_timer_start(&work, on_work, PERIOD_MS, PERIOD_MS);
  eddy_timer_start(&end, on_end, (uint64_t)(secs * 1000), 0);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  BENCH_CHECK(eddy_metrics_delay_timer(&loop, &h) == 0 && h.count > 0, errs);
  BENCH_CHECK(eddy_metrics_delay(&loop, &it) == 0, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nversion=%s\nruns=%ld\n", eddy_version_string(), runs);
  printf("p50_ms=%.3f\np99_ms=%.3f\nmax_ms=%.3f\ncount=%llu\n", h.p50 / 1e6,
         h.p99 / 1e6, h.max / 1e6, (unsigned long long)h.count);
  printf("iter_p50_ms=%.3f\niter_p99_ms=%.3f\n", it.p50 / 1e6, it.p99 / 1e6);
  return errs ? 1 : 0;
}
