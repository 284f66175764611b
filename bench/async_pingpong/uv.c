/* async_pingpong, libuv side: two threads, each running its own loop with
 * one async handle. The main thread (A) sends to B's handle; B's callback
 * sends back to A's; A's callback sends to B again, for 40,000 round trips
 * by default (argv[1] overrides). Each side sends only after it received,
 * so coalescing cannot merge two sends: every send must give exactly one
 * callback. At the end A raises a stop flag and sends once more; B closes
 * its handle instead of answering, and both loops run out.
 * Verifies: A saw exactly n callbacks and B n + 1 (the stop), each callback
 * saw the round-trip number it expected (the ball), both handles closed,
 * both loops close cleanly. Exits 1 if any check fails.
 * Output: impl, version, n, wall_s, round_trips_per_s (higher is better). */
#include <pthread.h>

#include <uv.h>

#include "../common.h"

static uv_loop_t loop_a, loop_b;
static uv_async_t async_a, async_b;
static long n, errs;
static long a_calls, b_calls, a_bad, b_bad, closed_a, closed_b;
static long ball; /* atomic: round trip in play, written by A, read by B */
static int stop;  /* atomic: set by A before its last send */
static double w1;

static void on_close_a(uv_handle_t *h) {
  (void)h;
  closed_a++;
}

static void on_close_b(uv_handle_t *h) {
  (void)h;
  closed_b++;
}

/* Loop B's thread: answer each send, or close on the stop send. */
static void on_b(uv_async_t *a) {
  b_calls++;
  if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    uv_close((uv_handle_t *)a, on_close_b);
    return;
  }
  if (__atomic_load_n(&ball, __ATOMIC_ACQUIRE) != b_calls) b_bad++;
  uv_async_send(&async_a);
}

/* Loop A's thread: count the answer, serve the next ball or stop. */
static void on_a(uv_async_t *a) {
  a_calls++;
  if (__atomic_load_n(&ball, __ATOMIC_ACQUIRE) != a_calls) a_bad++;
  if (a_calls < n) {
    __atomic_store_n(&ball, a_calls + 1, __ATOMIC_RELEASE);
    uv_async_send(&async_b);
    return;
  }
  w1 = bench_now();
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  uv_async_send(&async_b);
  uv_close((uv_handle_t *)a, on_close_a);
}

static void *thread_b(void *arg) {
  (void)arg;
  uv_run(&loop_b, UV_RUN_DEFAULT);
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t tid;
  n = bench_arg_long(argc, argv, 40000L);

  /* Both handles exist before either loop runs, so no send can find its
   * target missing. */
  if (uv_loop_init(&loop_a) != 0 || uv_loop_init(&loop_b) != 0) return 1;
  if (uv_async_init(&loop_a, &async_a, on_a) != 0 ||
      uv_async_init(&loop_b, &async_b, on_b) != 0)
    return 1;
  if (pthread_create(&tid, NULL, thread_b, NULL) != 0) return 1;

  double w0 = bench_now();
  __atomic_store_n(&ball, 1, __ATOMIC_RELEASE);
  uv_async_send(&async_b);
  uv_run(&loop_a, UV_RUN_DEFAULT);
  pthread_join(tid, NULL);

  BENCH_CHECK(a_calls == n, errs);
  BENCH_CHECK(b_calls == n + 1, errs);
  BENCH_CHECK(a_bad == 0, errs);
  BENCH_CHECK(b_bad == 0, errs);
  BENCH_CHECK(closed_a == 1 && closed_b == 1, errs);
  BENCH_CHECK(uv_loop_close(&loop_a) == 0, errs);
  BENCH_CHECK(uv_loop_close(&loop_b) == 0, errs);
  printf("impl=uv\nversion=%s\nn=%ld\n", uv_version_string(), n);
  printf("wall_s=%.4f\nround_trips_per_s=%.0f\n", w1 - w0,
         (double)n / (w1 - w0));
  return errs ? 1 : 0;
}
