/* loop_empty, libevent side: the cost of one loop iteration.
 * libevent has no idle watcher (a callback run on every iteration). The
 * closest equivalent: one user event (no descriptor, no timeout) made
 * active with event_active before each iteration, and one
 * event_base_loop(EVLOOP_NONBLOCK | EVLOOP_ONCE) pass, which polls the
 * backend with a zero timeout, runs the active callback and returns. So one
 * iteration here is what it is on the other sides: a zero-timeout poll of
 * the backend plus one callback from the loop's run queue. The
 * event_active call (a flag and a queue insert, made outside the loop
 * because an event re-activated from its own callback runs again in the
 * same pass) stands in for the idle list an idle watcher sits on; it is
 * counted in the figure. Passes run in batches of 1,000 until ~1 s has
 * passed (argv[1] overrides the seconds). The base is made with
 * EVENT_BASE_FLAG_NOLOCK.
 * Verifies: the callback ran exactly once per pass, the event is not
 * pending afterwards, the loop then finds no events. Exits 1 if any check
 * fails.
 * Output: impl, version, iters, wall_s, iters_per_s (higher is better). */
#include <event2/event.h>
#include <event2/event_struct.h> /* caller-owned struct event */

#include "../common.h"

#define BATCH 1000

static long ticks;

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  ticks++;
}

int main(int argc, char **argv) {
  double secs = bench_arg_double(argc, argv, 1.0), w0, w1;
  long iters = 0, errs = 0;
  struct event_config *cfg = event_config_new();
  struct event_base *base;
  struct event tick;

  if (cfg == NULL) return 1;
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base == NULL) return 1;
  event_assign(&tick, base, -1, 0, on_tick, NULL);

  w0 = bench_now();
  do {
    for (int k = 0; k < BATCH; k++) {
      event_active(&tick, EV_TIMEOUT, 1);
      event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
    }
    iters += BATCH;
    w1 = bench_now();
  } while (w1 - w0 < secs);

  BENCH_CHECK(ticks == iters, errs);
  BENCH_CHECK(!event_pending(&tick, EV_TIMEOUT | EV_READ | EV_WRITE, NULL),
              errs);
  BENCH_CHECK(event_base_loop(base, EVLOOP_NONBLOCK) == 1, errs);
  event_base_free(base);
  printf("impl=event\nversion=%s\niters=%ld\n", event_get_version(), iters);
  printf("wall_s=%.4f\niters_per_s=%.0f\n", w1 - w0,
         (double)iters / (w1 - w0));
  return errs ? 1 : 0;
}
