/* test_tick.c: next-tick and microtask queues, drained in Node's order. */
#include "test_util.h"

static struct test_log wlog;

static void say(eddy_loop_t *loop, void *arg) {
  (void)loop;
  test_log_printf(&wlog, "%s\n", (const char *)arg);
}

/* Scenario 02's shape: nested ticks first, then all microtasks (nested
 * appended), then a tick queued from a microtask in a new round. */
static void promise_1(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_next_tick(loop, say, "tick queued from promise 1");
  eddy_queue_microtask(loop, say, "promise 1.1 (nested microtask)");
}
static void tick_1_1(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_next_tick(loop, say, "tick 1.1.1 (nested twice)");
}
static void tick_1(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_next_tick(loop, tick_1_1, "tick 1.1 (nested)");
  eddy_queue_microtask(loop, say, "promise queued from tick 1");
}

static void test_drain_order(void **state) {
  eddy_loop_t loop;

  (void)state;
  wlog.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_microtask(&loop, promise_1, "promise 1"), 0);
  assert_int_equal(eddy_queue_microtask(&loop, say, "queueMicrotask 1"), 0);
  assert_int_equal(eddy_next_tick(&loop, tick_1, "tick 1"), 0);
  assert_int_equal(eddy_next_tick(&loop, say, "tick 2"), 0);
  /* No handle: eddy_run drains the queues and returns. */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  wlog.buf[wlog.len] = '\0';
  assert_string_equal(wlog.buf, "tick 1\n"
                               "tick 2\n"
                               "tick 1.1 (nested)\n"
                               "tick 1.1.1 (nested twice)\n"
                               "promise 1\n"
                               "queueMicrotask 1\n"
                               "promise queued from tick 1\n"
                               "promise 1.1 (nested microtask)\n"
                               "tick queued from promise 1\n");
  test_assert_loop_clean(&loop);
}

static void test_errors(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_next_tick(&loop, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_queue_microtask(&loop, NULL, NULL), EDDY_EINVAL);
  test_assert_loop_clean(&loop);
}

/* Queues drain between two timer callbacks of the same pass. */
static void timer_a(eddy_timer_t *t) {
  test_log_printf(&wlog, "A\n");
  eddy_next_tick(t->handle.loop, say, "tick from A");
  eddy_queue_microtask(t->handle.loop, say, "micro from A");
}
static void timer_b(eddy_timer_t *t) {
  (void)t;
  test_log_printf(&wlog, "B\n");
}

static void test_drained_after_each_callback(void **state) {
  eddy_loop_t loop;
  eddy_timer_t a, b;

  (void)state;
  wlog.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &a);
  eddy_timer_init(&loop, &b);
  eddy_timer_start(&a, timer_a, 0, 0);
  eddy_timer_start(&b, timer_b, 0, 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  wlog.buf[wlog.len] = '\0';
  assert_string_equal(wlog.buf, "A\ntick from A\nmicro from A\nB\n");
  test_teardown_loop(&loop);
}

/* A long tick chain runs to the end before a due timer (scenario 11). */
static int chain;
static void chain_tick(eddy_loop_t *loop, void *arg) {
  (void)arg;
  if (++chain < 100000)
    eddy_next_tick(loop, chain_tick, NULL);
}
static int chain_seen_by_timer;
static void chain_timer(eddy_timer_t *t) {
  (void)t;
  chain_seen_by_timer = chain;
}

static void test_tick_chain_starves_timers(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  chain = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &t);
  eddy_timer_start(&t, chain_timer, 0, 0);
  eddy_next_tick(&loop, chain_tick, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(chain_seen_by_timer, 100000);
  test_teardown_loop(&loop);
}

/* The ring grows past its first capacity, also while wrapped, and keeps
 * FIFO order. */
static int next_expected, out_of_order;
static void ordered(eddy_loop_t *loop, void *arg) {
  (void)loop;
  if ((int)(intptr_t)arg != next_expected)
    out_of_order++;
  next_expected++;
}
static void ordered_then_enqueue(eddy_loop_t *loop, void *arg) {
  int i;

  ordered(loop, arg);
  /* The head has moved past this task: these pushes wrap and then grow. */
  for (i = 40; i < 5040; i++)
    eddy_queue_microtask(loop, ordered, (void *)(intptr_t)i);
}

static void test_ring_growth_keeps_order(void **state) {
  eddy_loop_t loop;
  int i;

  (void)state;
  next_expected = 0;
  out_of_order = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < 10000; i++)
    assert_int_equal(eddy_next_tick(&loop, ordered, (void *)(intptr_t)i), 0);
  eddy_drain_ticks(&loop);
  assert_int_equal(next_expected, 10000);
  assert_int_equal(out_of_order, 0);
  next_expected = 0;
  for (i = 0; i < 40; i++)
    eddy_queue_microtask(&loop, i == 0 ? ordered_then_enqueue : ordered,
                         (void *)(intptr_t)i);
  eddy_drain_ticks(&loop);
  assert_int_equal(next_expected, 5040);
  assert_int_equal(out_of_order, 0);
  test_assert_loop_clean(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_drain_order),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_drained_after_each_callback),
      cmocka_unit_test(test_tick_chain_starves_timers),
      cmocka_unit_test(test_ring_growth_keeps_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
