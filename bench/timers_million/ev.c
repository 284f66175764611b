/* timers_million, libev side: libuv's million-timers shape, 10,000,000 timers
 * by default (argv[1] overrides). Init+start N ev_timers whose timeout rises
 * by 1 ms every 1,000 timers, run the loop until all fire, then stop them all
 * (libev has no close) and run again.
 * Verifies: every timer fired exactly once, fire order follows due times and
 * loop time never goes backwards, no timer fired early (1 ms slack: ev_now()
 * is wall-clock based while libev's timers run on the monotonic clock), every
 * watcher inactive after the stop pass. Exits 1 if any check fails.
 * Output: impl, version, n, start_s (init+start wall), cpu_s (user+sys over
 * start+dispatch+stop), rss_mib (peak RSS), wall_s (start to all stopped). */
#include <ev.h>

#include "../common.h"

static ev_timer *timers;
static long fired, dups, misordered, early, still_active;
static double t0, last_now;
static long last_due;

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents) {
  (void)revents;
  long due = 1 + (t - timers) / 1000;
  double now = ev_now(loop);
  if (t->data != NULL) dups++;
  t->data = t;
  if (due < last_due || now < last_now) misordered++;
  if ((now - t0) * 1000.0 + 1.0 < (double)due) early++;
  last_due = due;
  last_now = now;
  fired++;
}

int main(int argc, char **argv) {
  long n = bench_arg_long(argc, argv, 10000000L), errs = 0;
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  if (loop == NULL) return 1;
  timers = malloc((size_t)n * sizeof *timers);
  if (timers == NULL) return 1;

  double cpu0 = bench_cpu(), w0 = bench_now();
  t0 = ev_now(loop);
  for (long i = 0; i < n; i++) {
    ev_timer_init(&timers[i], on_timer, (double)(1 + i / 1000) / 1000.0, 0.0);
    timers[i].data = NULL;
    ev_timer_start(loop, &timers[i]);
  }
  double w1 = bench_now();
  ev_run(loop, 0);
  for (long i = 0; i < n; i++) {
    ev_timer_stop(loop, &timers[i]);
    if (ev_is_active(&timers[i])) still_active++;
  }
  ev_run(loop, 0);
  double w2 = bench_now(), cpu1 = bench_cpu();

  BENCH_CHECK(fired == n, errs);
  BENCH_CHECK(dups == 0, errs);
  BENCH_CHECK(misordered == 0, errs);
  BENCH_CHECK(early == 0, errs);
  BENCH_CHECK(still_active == 0, errs);
  ev_loop_destroy(loop);
  printf("impl=ev\nversion=%d.%d\nn=%ld\n", ev_version_major(),
         ev_version_minor(), n);
  printf("start_s=%.6f\ncpu_s=%.6f\nrss_mib=%.3f\nwall_s=%.6f\n", w1 - w0,
         cpu1 - cpu0, bench_maxrss_mib(), w2 - w0);
  free(timers);
  return errs ? 1 : 0;
}
