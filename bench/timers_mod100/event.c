/* timers_mod100, libevent side: 1,000,000 plain evtimers by default (argv[1]
 * overrides; a caller-owned array of struct event, no per-timer malloc, no
 * common-timeout queues), timer i due in i % 100 ms, so adds arrive out of
 * due order and the last deadline (99 ms) is far below the CPU time: wall
 * time here is a speed. Assign+add all, run until all fire, then delete them
 * all (libevent has no close) and run again.
 * As in timers_million/event.c (see there why): the base has
 * EVENT_BASE_FLAG_NOLOCK and EVENT_BASE_FLAG_PRECISE_TIMER, the timers are
 * added from the loop's first callback so that every deadline is one cached
 * loop time + the timeout (added outside the loop, each would read the
 * clock, and with a start phase longer than 99 ms the due order would no
 * longer be the fire order), and a bitmap catches a timer that fires twice.
 * Verifies: every timer fired exactly once, fire order follows due times and
 * loop time never goes backwards, no timer fired early (1 ms slack, as in
 * timers_million/event.c), no event pending after the delete pass, the loop
 * then finds no events. Exits 1 if any check fails.
 * Output: impl, version, n, wall_s (start to all fired and deleted), cpu_s
 * (user+sys over the same span). */
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
static double cpu0, w0;

/* libevent's cached loop time, microseconds. */
static int64_t loop_now_us(void) {
  struct timeval tv;

  event_base_gettimeofday_cached(base, &tv);
  return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  long i = (struct event *)arg - timers;
  long due = i % 100;
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
    struct timeval tv = {0, (i % 100) * 1000};

    event_assign(&timers[i], base, -1, 0, on_timer, &timers[i]);
    evtimer_add(&timers[i], &tv);
  }
}

int main(int argc, char **argv) {
  struct event_config *cfg = event_config_new();
  struct event starter;
  long errs = 0, pending = 0;

  n = bench_arg_long(argc, argv, 1000000L);
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
  double w1 = bench_now(), cpu1 = bench_cpu();

  BENCH_CHECK(fired == n, errs);
  BENCH_CHECK(dups == 0, errs);
  BENCH_CHECK(misordered == 0, errs);
  BENCH_CHECK(early == 0, errs);
  BENCH_CHECK(pending == 0, errs);
  event_base_free(base);
  printf("impl=event\nversion=%s\nn=%ld\n", event_get_version(), n);
  printf("wall_s=%.4f\ncpu_s=%.4f\n", w1 - w0, cpu1 - cpu0);
  free(seen);
  free(timers);
  return errs ? 1 : 0;
}
