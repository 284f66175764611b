/* test_metrics.c: eddy_metrics_info and eddy_metrics_idle_time: counts
 * per iteration and per event, idle time only once asked for, Node's
 * event-loop utilisation of a loop that blocks half of a window, reads
 * from another thread while the loop runs (TSan). */
#include <pthread.h>

#include "test_util.h"

static void on_idle_count(eddy_idle_t *h) {
  (void)h;
}

static void on_readable_stop(eddy_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  eddy_poll_stop(p);
}

static void test_loop_count_and_events(void **state) {
  eddy_loop_t loop;
  eddy_metrics_t m;
  eddy_idle_t idle;
  eddy_poll_t p;
  int fds[2];

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_int_equal(m.loop_count, 0);
  assert_int_equal(m.events, 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, on_idle_count), 0);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_int_equal(m.loop_count, 3);
  assert_int_equal(m.events, 0);
  assert_int_equal(m.events_waiting, 0);
  /* one readable descriptor: one event */
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, on_readable_stop), 0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_int_equal(m.loop_count, 4);
  assert_int_equal(m.events, 1);
  assert_int_equal(m.events_waiting, 1);
  for (unsigned i = 0; i < 13; i++)
    assert_int_equal(m.reserved[i], 0);
  eddy_close(&p.handle, NULL);
  eddy_close(&idle.handle, NULL);
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

static void test_errors(void **state) {
  eddy_loop_t loop;
  eddy_metrics_t m;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_metrics_info(NULL, &m), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_info(&loop, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_metrics_idle_time(NULL), 0);
  assert_int_equal(eddy_metrics_idle_time(&loop), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Idle time counts only once asked for, and only time parked in the
 * wait: a loop that spins 50 ms, then waits 50 ms, is half busy. */
static void on_spin(eddy_timer_t *t) {
  test_busy_wait_ms(50);
  eddy_close(&t->handle, NULL);
}

static void on_end(eddy_timer_t *t) {
  eddy_close(&t->handle, NULL);
}

static void test_idle_time_and_utilization(void **state) {
  eddy_loop_t loop;
  eddy_timer_t spin, end, wait;
  uint64_t t0, elapsed, idle;
  double utilization;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  /* not asked for: a blocking wait adds nothing */
  assert_int_equal(eddy_timer_init(&loop, &wait), 0);
  assert_int_equal(eddy_timer_start(&wait, on_end, 20, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_metrics_idle_time(&loop), 0);

  assert_int_equal(eddy_loop_configure(&loop, EDDY_METRICS_IDLE_TIME), 0);
  assert_int_equal(eddy_timer_init(&loop, &spin), 0);
  assert_int_equal(eddy_timer_init(&loop, &end), 0);
  eddy_update_time(&loop);
  t0 = eddy_hrtime();
  assert_int_equal(eddy_timer_start(&spin, on_spin, 0, 0), 0);
  assert_int_equal(eddy_timer_start(&end, on_end, 100, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  elapsed = eddy_hrtime() - t0;
  idle = eddy_metrics_idle_time(&loop);
  assert_true(idle > 0 && idle < elapsed);
  utilization = 1.0 - (double)idle / (double)elapsed;
  assert_true(utilization >= 0.4 && utilization <= 0.6);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Another thread reads while the loop runs: every figure only grows. */
#define READER_ITERS 2000

static int reader_done;

static void *read_metrics(void *arg) {
  eddy_loop_t *loop = arg;
  uint64_t last = 0, idle_last = 0;
  int ok = 1;

  while (!__atomic_load_n(&reader_done, __ATOMIC_ACQUIRE)) {
    eddy_metrics_t m;
    uint64_t idle = eddy_metrics_idle_time(loop);

    if (eddy_metrics_info(loop, &m) != 0 || m.loop_count < last ||
        idle < idle_last)
      ok = 0;
    last = m.loop_count;
    idle_last = idle;
  }
  return (void *)(intptr_t)ok;
}

static int idle_runs;

static void on_idle_stop_at(eddy_idle_t *h) {
  if (++idle_runs == READER_ITERS)
    eddy_close(&h->handle, NULL);
}

static void test_read_from_another_thread(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;
  eddy_metrics_t m;
  pthread_t reader;
  void *ok;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_loop_configure(&loop, EDDY_METRICS_IDLE_TIME), 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, on_idle_stop_at), 0);
  idle_runs = 0;
  reader_done = 0;
  assert_int_equal(pthread_create(&reader, NULL, read_metrics, &loop), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  __atomic_store_n(&reader_done, 1, __ATOMIC_RELEASE);
  assert_int_equal(pthread_join(reader, &ok), 0);
  assert_true((intptr_t)ok);
  assert_int_equal(eddy_metrics_info(&loop, &m), 0);
  assert_true(m.loop_count >= READER_ITERS);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loop_count_and_events),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_idle_time_and_utilization),
      cmocka_unit_test(test_read_from_another_thread),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
