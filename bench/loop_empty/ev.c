/* loop_empty, libev side: the cost of one loop iteration. One ev_idle
 * watcher whose callback counts; ev_run(EVRUN_NOWAIT) is called in batches of
 * 1,000 until ~1 s has passed (argv[1] overrides the seconds), then the
 * watcher is stopped (libev has no close).
 * Verifies: the idle callback ran exactly once per iteration, the watcher is
 * inactive after the stop. Exits 1 if any check fails.
 * Output: impl, version, iters, wall_s, iters_per_s (higher is better). */
#include <ev.h>

#include "../common.h"

#define BATCH 1000

static long ticks;

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
  ticks++;
}

int main(int argc, char **argv) {
  double secs = bench_arg_double(argc, argv, 1.0), w0, w1;
  long iters = 0, errs = 0;
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  ev_idle idle;
  if (loop == NULL) return 1;
  ev_idle_init(&idle, on_idle);
  ev_idle_start(loop, &idle);

  w0 = bench_now();
  do {
    for (int k = 0; k < BATCH; k++) ev_run(loop, EVRUN_NOWAIT);
    iters += BATCH;
    w1 = bench_now();
  } while (w1 - w0 < secs);

  ev_idle_stop(loop, &idle);
  BENCH_CHECK(ticks == iters, errs);
  BENCH_CHECK(!ev_is_active(&idle), errs);
  ev_loop_destroy(loop);
  printf("impl=ev\nversion=%d.%d\niters=%ld\n", ev_version_major(),
         ev_version_minor(), iters);
  printf("wall_s=%.4f\niters_per_s=%.0f\n", w1 - w0,
         (double)iters / (w1 - w0));
  return errs ? 1 : 0;
}
