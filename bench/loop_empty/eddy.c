/* loop_empty, eddy side: the cost of one loop iteration. One idle handle
 * whose callback counts; eddy_run(EDDY_RUN_NOWAIT) is called in batches of
 * 1,000 until ~1 s has passed (argv[1] overrides the seconds), then the
 * handle is closed.
 * Verifies: the idle callback ran exactly once per iteration, the handle
 * closed, the loop closes cleanly. Exits 1 if any check fails.
 * Output: impl, version, iters, wall_s, iters_per_s (higher is better).
 * EDDY_BENCH_METRICS=1 runs it with eddy_metrics_enable (metrics_cost.sh). */
#include <eddy.h>

#include "../common.h"
#include "../metrics.h"

#define BATCH 1000

static long ticks, closed;

static void on_idle(eddy_idle_t *h) {
  (void)h;
  ticks++;
}

static void on_close(eddy_handle_t *h) {
  (void)h;
  closed++;
}

int main(int argc, char **argv) {
  double secs = bench_arg_double(argc, argv, 1.0), w0, w1;
  long iters = 0, errs = 0;
  eddy_loop_t loop;
  eddy_idle_t idle;
  if (eddy_loop_init(&loop) != 0) return 1;
  if (bench_eddy_metrics(&loop) != 0) return 1;
  eddy_idle_init(&loop, &idle);
  eddy_idle_start(&idle, on_idle);

  w0 = bench_now();
  do {
    for (int k = 0; k < BATCH; k++) eddy_run(&loop, EDDY_RUN_NOWAIT);
    iters += BATCH;
    w1 = bench_now();
  } while (w1 - w0 < secs);

  eddy_idle_stop(&idle);
  eddy_close((eddy_handle_t *)&idle, on_close);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  BENCH_CHECK(ticks == iters, errs);
  BENCH_CHECK(closed == 1, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nversion=%s\niters=%ld\n", eddy_version_string(), iters);
  printf("wall_s=%.4f\niters_per_s=%.0f\n", w1 - w0,
         (double)iters / (w1 - w0));
  return errs ? 1 : 0;
}
