/* timers_million, eddy side: libuv's million-timers shape, 10,000,000 timers
 * by default (argv[1] overrides). Init+start N timers whose timeout rises by
 * 1 ms every 1,000 timers, run the loop until all fire, close them all and
 * run again.
 * Verifies: every timer fired exactly once, fire order follows due times and
 * loop time never goes backwards, no timer fired early, every handle closed,
 * the loop closes cleanly. Exits 1 if any check fails.
 * Output: impl, version, n, start_s (init+start wall), cpu_s (user+sys over
 * start+dispatch+close), rss_mib (peak RSS), wall_s (start to all closed). */
#include <eddy.h>

#include "../common.h"

static eddy_timer_t *timers;
static long fired, closed, dups, misordered, early;
static uint64_t t0, last_due, last_now;

static void on_timer(eddy_timer_t *t) {
  uint64_t due = 1 + (uint64_t)(t - timers) / 1000;
  uint64_t now = eddy_now(t->handle.loop);
  if (t->handle.data != NULL) dups++;
  t->handle.data = t;
  if (due < last_due || now < last_now) misordered++;
  if (now < t0 + due) early++;
  last_due = due;
  last_now = now;
  fired++;
}

static void on_close(eddy_handle_t *h) {
  (void)h;
  closed++;
}

int main(int argc, char **argv) {
  long n = bench_arg_long(argc, argv, 10000000L), errs = 0;
  eddy_loop_t loop;
  if (eddy_loop_init(&loop) != 0) return 1;
  timers = malloc((size_t)n * sizeof *timers);
  if (timers == NULL) return 1;

  double cpu0 = bench_cpu(), w0 = bench_now();
  t0 = eddy_now(&loop);
  for (long i = 0; i < n; i++) {
    eddy_timer_init(&loop, &timers[i]);
    timers[i].handle.data = NULL;
    eddy_timer_start(&timers[i], on_timer, 1 + (uint64_t)i / 1000, 0);
  }
  double w1 = bench_now();
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  for (long i = 0; i < n; i++)
    eddy_close((eddy_handle_t *)&timers[i], on_close);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  double w2 = bench_now(), cpu1 = bench_cpu();

  BENCH_CHECK(fired == n, errs);
  BENCH_CHECK(dups == 0, errs);
  BENCH_CHECK(misordered == 0, errs);
  BENCH_CHECK(early == 0, errs);
  BENCH_CHECK(closed == n, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nversion=%s\nn=%ld\n", eddy_version_string(), n);
  printf("start_s=%.6f\ncpu_s=%.6f\nrss_mib=%.3f\nwall_s=%.6f\n", w1 - w0,
         cpu1 - cpu0, bench_maxrss_mib(), w2 - w0);
  free(timers);
  return errs ? 1 : 0;
}
