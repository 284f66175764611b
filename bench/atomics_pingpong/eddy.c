/* atomics_pingpong, eddy side: two threads pass the turn through one
 * 32-bit word with eddy_atomic_wait / eddy_atomic_notify, the C form of
 * Node's Atomics.wait / Atomics.notify (node.js is the peer). The word
 * counts moves: thread A makes it odd (2i + 1), thread B even (2i + 2);
 * each stores its move, notifies one waiter, and waits until the word
 * holds the other's next move. 300,000 round trips by default (argv[1]
 * overrides); the clock runs from when both threads passed a barrier to
 * A's last turn.
 * Verifies: the word ends at 2n, no wait timed out or failed, each side
 * saw every move of the other in order. Exits 1 if any check fails.
 * Output: impl, version, n, wall_s, round_trips_per_s (higher is better). */
#include <eddy.h>

#include "../common.h"

static uint32_t word;
static long n, errs_a, errs_b;
static eddy_barrier_t start;
static double w0, w1;

/* Wait until the word holds want; 0, or -1 on a failed or timed-out
 * wait (10 s: a lost wake-up is a failure, not a hang). */
static int await_move(uint32_t want) {
  uint32_t cur;
  int r;

  while ((cur = __atomic_load_n(&word, __ATOMIC_ACQUIRE)) != want) {
    if (cur > want)
      return -1; /* a move skipped: the protocol broke */
    r = eddy_atomic_wait(&word, cur, 10LL * 1000 * 1000 * 1000);
    if (r != EDDY_ATOMIC_OK && r != EDDY_ATOMIC_NOT_EQUAL)
      return -1;
  }
  return 0;
}

static void side_a(void *arg) {
  long i;

  (void)arg;
  eddy_barrier_wait(&start);
  w0 = bench_now();
  for (i = 0; i < n; i++) {
    __atomic_store_n(&word, (uint32_t)(2 * i + 1), __ATOMIC_RELEASE);
    eddy_atomic_notify(&word, 1);
    if (await_move((uint32_t)(2 * i + 2)) != 0) {
      errs_a++;
      break;
    }
  }
  w1 = bench_now();
}

static void side_b(void *arg) {
  long i;

  (void)arg;
  eddy_barrier_wait(&start);
  for (i = 0; i < n; i++) {
    if (await_move((uint32_t)(2 * i + 1)) != 0) {
      errs_b++;
      break;
    }
    __atomic_store_n(&word, (uint32_t)(2 * i + 2), __ATOMIC_RELEASE);
    eddy_atomic_notify(&word, 1);
  }
}

int main(int argc, char **argv) {
  eddy_thread_t a, b;
  long errs = 0;

  n = bench_arg_long(argc, argv, 300000L);
  if (n > 0x7fffffffL) {
    fprintf(stderr, "at most 2^31 - 1 round trips\n");
    return 2;
  }
  if (eddy_barrier_init(&start, 2) != 0) return 1;
  if (eddy_thread_create(&a, side_a, NULL) != 0 ||
      eddy_thread_create(&b, side_b, NULL) != 0)
    return 1;
  BENCH_CHECK(eddy_thread_join(&a) == 0, errs);
  BENCH_CHECK(eddy_thread_join(&b) == 0, errs);
  eddy_barrier_destroy(&start);
  BENCH_CHECK(errs_a == 0 && errs_b == 0, errs);
  BENCH_CHECK(word == (uint32_t)(2 * n), errs);
  printf("impl=eddy\nversion=%s\nn=%ld\n", eddy_version_string(), n);
  printf("wall_s=%.4f\nround_trips_per_s=%.0f\n", w1 - w0,
         (double)n / (w1 - w0));
  return errs ? 1 : 0;
}
