/* timers_million, libevent side: libuv's million-timers shape, 10,000,000
 * timers by default (argv[1] overrides). Assign+add N plain evtimers (a
 * caller-owned array of struct event, no per-timer malloc, no common-timeout
 * queues) whose timeout rises by 1 ms every 1,000 timers, run the loop until
 * all fire, then delete them all (libevent has no close) and run again.
 *
 * Two choices keep the workload the same as on the other sides:
 * - The base is made with EVENT_BASE_FLAG_NOLOCK and
 *   EVENT_BASE_FLAG_PRECISE_TIMER. Without the latter, libevent 2.1 keeps
 *   time with CLOCK_MONOTONIC_COARSE (a 4 ms tick on this kernel), so it
 *   would fire these 1 ms steps in 4 ms batches; libuv, libev and eddy all
 *   keep time at 1 ms or finer.
 * - The timers are added from a callback of the loop's first iteration.
 *   libevent caches the time only while the loop runs: outside it, every
 *   evtimer_add reads the clock, and deadlines drift by the length of the
 *   start phase. libuv, libev and eddy start timers against the loop's
 *   cached time wherever they are started; inside the loop libevent does
 *   too, so every deadline is one loop time + the timer's timeout.
 * struct event has no user data field: a bitmap (1 bit per timer, counted
 * in rss_mib) catches a timer that fires twice.
 *
 * Verifies: every timer fired exactly once, fire order follows due times and
 * loop time never goes backwards, no timer fired early (1 ms slack:
 * event_base_gettimeofday_cached is the monotonic clock plus a wall-clock
 * offset that libevent re-reads every 5 s), no event pending after the
 * delete pass, the loop then finds no events. Exits 1 if any check fails.
 * Output: impl, version, n, start_s (assign+add wall), cpu_s (user+sys over
 * start+dispatch+delete), rss_mib (peak RSS), wall_s (start to all
 * deleted). */
#include <event2/event.h>
#include <event2/event_struct.h> /* caller-owned struct event */
#include <stdint.h>

#include "../common.h"

static struct event_base *base;
static struct event *timers;
static unsigned char *seen; /* bit i: timer i fired */
static long n, fired, dups, misordered, early;
static int64_t t0, last_now;
static long last_due;
static double cpu0, w0, w1;

/* libevent's cached loop time, microseconds. */
static int64_t loop_now_us(void) {
  struct timeval tv;

  event_base_gettimeofday_cached(base, &tv);
  return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  long i = (struct event *)arg - timers;
  long due = 1 + i / 1000;
  int64_t now = loop_now_us();

  (void)fd;
  (void)what;
  if (seen[i / 8] & (1u << (i % 8))) dups++;
  seen[i / 8] |= (unsigned char)(1u << (i % 8));
  if (due < last_due || now + 1000 < last_now) misordered++;
  if (now + 1000 < t0 + (int64_t)due * 1000) early++;
  last_due = due;
  last_now = now;
  fired++;
}

/* The loop's first callback: assign and add every timer. */
static void start_all(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  cpu0 = bench_cpu();
  w0 = bench_now();
  t0 = loop_now_us();
  for (long i = 0; i < n; i++) {
    long due = 1 + i / 1000;
    struct timeval tv = {due / 1000, (due % 1000) * 1000};

    event_assign(&timers[i], base, -1, 0, on_timer, &timers[i]);
    evtimer_add(&timers[i], &tv);
  }
  w1 = bench_now();
}

int main(int argc, char **argv) {
  struct event_config *cfg = event_config_new();
  struct event starter;
  long errs = 0, pending = 0;

  n = bench_arg_long(argc, argv, 10000000L);
  if (cfg == NULL) return 1;
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
  base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base == NULL) return 1;
  timers = malloc((size_t)n * sizeof *timers);
  seen = calloc((size_t)n / 8 + 1, 1);
  if (timers == NULL || seen == NULL) return 1;

  event_assign(&starter, base, -1, 0, start_all, NULL);
  event_active(&starter, EV_TIMEOUT, 1);
  BENCH_CHECK(event_base_dispatch(base) == 1, errs); /* 1: no events left */
  for (long i = 0; i < n; i++) {
    event_del(&timers[i]);
    if (event_pending(&timers[i], EV_TIMEOUT, NULL)) pending++;
  }
  BENCH_CHECK(event_base_dispatch(base) == 1, errs);
  double w2 = bench_now(), cpu1 = bench_cpu();

  BENCH_CHECK(fired == n, errs);
  BENCH_CHECK(dups == 0, errs);
  BENCH_CHECK(misordered == 0, errs);
  BENCH_CHECK(early == 0, errs);
  BENCH_CHECK(pending == 0, errs);
  event_base_free(base);
  printf("impl=event\nversion=%s\nn=%ld\n", event_get_version(), n);
  printf("start_s=%.6f\ncpu_s=%.6f\nrss_mib=%.3f\nwall_s=%.6f\n", w1 - w0,
         cpu1 - cpu0, bench_maxrss_mib(), w2 - w0);
  free(seen);
  free(timers);
  return errs ? 1 : 0;
}
