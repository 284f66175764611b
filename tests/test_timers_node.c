/* test_timers_node.c: Node's setTimeout, setInterval, setImmediate and
 * their clear, refresh and ref functions (eddy/timers_node.h). */
#include <stdlib.h>

#include "test_util.h"

static struct test_log out;

static void log_reset(void) {
  out.len = 0;
  out.buf[0] = '\0';
}

static void assert_log(const char *expected) {
  out.buf[out.len] = '\0';
  assert_string_equal(out.buf, expected);
}

/* ---- timeouts --------------------------------------------------------------
 */

static void say_timeout(eddy_timeout_t *t) {
  test_log_printf(&out, "%s\n", (const char *)t->data);
}

/* A timeout runs once; its memory is free in its own callback: it can be
 * set again there. */
static int again_runs;
static void set_again(eddy_timeout_t *t) {
  test_log_printf(&out, "run %d\n", ++again_runs);
  assert_false(eddy_timeout_is_armed(t));
  if (again_runs < 3)
    assert_int_equal(eddy_set_timeout(t->loop, t, set_again, 1), 0);
}

static void test_timeout_runs_once_and_is_reusable(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t t = {0};

  (void)state;
  log_reset();
  again_runs = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_set_timeout(&loop, &t, set_again, 5), 0);
  assert_true(eddy_timeout_is_armed(&t));
  assert_ptr_equal(t.loop, &loop);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_log("run 1\nrun 2\nrun 3\n");
  test_assert_loop_clean(&loop);
}

/* 0 ms and anything above TIMEOUT_MAX become 1 ms, so equal due times keep
 * the order of the calls: a 1 ms timeout set before a 0 ms one runs
 * first (with libuv's rules the 0 ms one would). */
static void test_delay_coercion_keeps_call_order(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t a = {0}, b = {0}, c = {0};

  (void)state;
  log_reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  a.data = "one";
  b.data = "zero";
  c.data = "too long";
  assert_int_equal(eddy_set_timeout(&loop, &a, say_timeout, 1), 0);
  assert_int_equal(eddy_set_timeout(&loop, &b, say_timeout, 0), 0);
  assert_int_equal(
      eddy_set_timeout(&loop, &c, say_timeout, (uint64_t)EDDY_TIMEOUT_MAX + 1),
      0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_log("one\nzero\ntoo long\n");
  test_assert_loop_clean(&loop);
}

/* A timeout counts from the call, not from the loop's cached time: set
 * after 50 ms of work in a callback, a 20 ms timeout still waits 20 ms
 * (eddy_timer_start would count from before the work and run at once). */
static uint64_t set_at, fired_at;
static eddy_timeout_t later;

static void fired(eddy_timeout_t *t) {
  (void)t;
  fired_at = eddy_hrtime();
}

static void slow_then_set(eddy_timeout_t *t) {
  test_busy_wait_ms(50);
  set_at = eddy_hrtime();
  assert_int_equal(eddy_set_timeout(t->loop, &later, fired, 20), 0);
}

static void test_timeout_counts_from_the_call(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t first = {0};

  (void)state;
  memset(&later, 0, sizeof(later));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_set_timeout(&loop, &first, slow_then_set, 1), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  /* The clock's millisecond may tick just after the read: 19 ms at least. */
  assert_true(fired_at - set_at >= 19 * 1000000u);
  test_assert_loop_clean(&loop);
}

/* An interval is re-armed from the start of its callback: a callback
 * slower than the period runs again right after, never in a burst, so two
 * starts are always at least a period apart. setInterval(f, 0) repeats
 * every 1 ms. */
static uint64_t starts[6];
static int nstarts;

static void slow_tick(eddy_timeout_t *t) {
  starts[nstarts++] = eddy_hrtime();
  if (nstarts == 4) {
    eddy_clear_interval(t);
    assert_false(eddy_timeout_is_armed(t));
    return;
  }
  assert_true(eddy_timeout_is_armed(t));
  test_busy_wait_ms(30);
}

static void quick_tick(eddy_timeout_t *t) {
  starts[nstarts++] = eddy_hrtime();
  if (nstarts == 6)
    eddy_clear_timeout(t); /* clearTimeout clears intervals too */
}

static void test_interval_rearms_from_callback_start(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t t = {0};
  int i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  nstarts = 0;
  assert_int_equal(eddy_set_interval(&loop, &t, slow_tick, 20), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(nstarts, 4);
  for (i = 1; i < 4; i++)
    assert_true(starts[i] - starts[i - 1] >= 19 * 1000000u);
  nstarts = 0;
  assert_int_equal(eddy_set_interval(&loop, &t, quick_tick, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(nstarts, 6);
  for (i = 1; i < 6; i++)
    assert_true(starts[i] > starts[i - 1]);
  test_assert_loop_clean(&loop);
}

/* Clearing: an armed timeout from another callback (it never runs), one
 * that is not armed (nothing happens), and setting an armed one again
 * (it runs once, with the new callback). */
static eddy_timeout_t victim;

static void clear_victim(eddy_timeout_t *t) {
  say_timeout(t);
  eddy_clear_timeout(&victim);
  eddy_clear_timeout(&victim);
}

static void test_clear_and_set_again(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t killer = {0}, twice = {0}, never = {0};

  (void)state;
  log_reset();
  memset(&victim, 0, sizeof(victim));
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_clear_timeout(&never); /* zero-filled: not armed */
  eddy_clear_timeout(NULL);
  killer.data = "killer";
  victim.data = "victim";
  twice.data = "twice";
  assert_int_equal(eddy_set_timeout(&loop, &killer, clear_victim, 5), 0);
  assert_int_equal(eddy_set_timeout(&loop, &victim, say_timeout, 10), 0);
  assert_int_equal(eddy_set_timeout(&loop, &twice, clear_victim, 1), 0);
  assert_int_equal(eddy_set_timeout(&loop, &twice, say_timeout, 15), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_log("killer\ntwice\n");
  test_assert_loop_clean(&loop);
}

/* refresh() re-arms for the same delay from now; on a timeout that is not
 * armed it is an error. */
static int refreshes;
static eddy_timeout_t refreshed;

static void refresh_other(eddy_timeout_t *t) {
  if (++refreshes < 3) {
    assert_int_equal(eddy_timeout_refresh(&refreshed), 0);
    assert_int_equal(eddy_set_timeout(t->loop, t, refresh_other, 2), 0);
  }
}

static void test_refresh(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t pusher = {0};

  (void)state;
  log_reset();
  memset(&refreshed, 0, sizeof(refreshed));
  refreshes = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timeout_refresh(&refreshed), EDDY_EINVAL);
  assert_int_equal(eddy_timeout_refresh(NULL), EDDY_EINVAL);
  refreshed.data = "refreshed";
  /* Pushed back by 2 ms three times before it may run (at 5 ms). */
  assert_int_equal(eddy_set_timeout(&loop, &refreshed, say_timeout, 5), 0);
  assert_int_equal(eddy_set_timeout(&loop, &pusher, refresh_other, 2), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(refreshes, 3);
  assert_log("refreshed\n");
  assert_int_equal(eddy_timeout_refresh(&refreshed), EDDY_EINVAL);
  test_assert_loop_clean(&loop);
}

/* An unreferenced interval does not keep the loop alive, fires while
 * something else does, and an armed one keeps the loop from closing. */
static int unref_ticks;
static void count_tick(eddy_timeout_t *t) {
  (void)t;
  unref_ticks++;
}

static void test_unref(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t iv = {0}, keeper = {0};

  (void)state;
  unref_ticks = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_true(eddy_timeout_has_ref(&iv));
  eddy_timeout_unref(&iv); /* before it is set: the state is kept */
  assert_false(eddy_timeout_has_ref(&iv));
  assert_int_equal(eddy_set_interval(&loop, &iv, count_tick, 1), 0);
  assert_false(eddy_loop_alive(&loop));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(unref_ticks, 0);
  keeper.data = "keeper";
  assert_int_equal(eddy_set_timeout(&loop, &keeper, count_tick, 30), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_true(unref_ticks >= 1); /* the interval ran while keeper waited */
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY); /* iv is armed */
  eddy_timeout_ref(&iv);
  assert_true(eddy_timeout_has_ref(&iv));
  assert_true(eddy_loop_alive(&loop));
  eddy_clear_interval(&iv);
  assert_false(eddy_loop_alive(&loop));
  test_assert_loop_clean(&loop);
}

/* Timeouts are not handles: eddy_walk does not visit them, so closing
 * every handle it sees leaves them armed. */
static int walked;
static void count_walk(eddy_handle_t *h, void *arg) {
  (void)h;
  (void)arg;
  walked++;
}

static void test_walk_skips_timeouts(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t t = {0};
  eddy_timer_t timer;

  (void)state;
  walked = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_int_equal(eddy_set_timeout(&loop, &t, count_tick, 1000), 0);
  eddy_walk(&loop, count_walk, NULL);
  assert_int_equal(walked, 1); /* the timer only */
  eddy_close(&timer.handle, NULL);
  eddy_clear_timeout(&t);
  test_assert_loop_clean(&loop);
}

static void test_timeout_errors(void **state) {
  eddy_loop_t loop;
  eddy_timeout_t t = {0};

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_set_timeout(NULL, &t, count_tick, 1), EDDY_EINVAL);
  assert_int_equal(eddy_set_timeout(&loop, NULL, count_tick, 1), EDDY_EINVAL);
  assert_int_equal(eddy_set_timeout(&loop, &t, NULL, 1), EDDY_EINVAL);
  assert_int_equal(eddy_set_interval(&loop, &t, NULL, 1), EDDY_EINVAL);
  assert_false(eddy_timeout_is_armed(&t));
  test_assert_loop_clean(&loop);
}

/* ---- immediates ---------------------------------------------------------- */

static void say_immediate(eddy_immediate_t *im) {
  test_log_printf(&out, "%s\n", (const char *)im->data);
}

static void say_task(eddy_loop_t *loop, void *arg) {
  (void)loop;
  test_log_printf(&out, "%s\n", (const char *)arg);
}

static int iteration;
static void count_iteration(eddy_prepare_t *p) {
  (void)p;
  iteration++;
}

/* Immediates run in the order they were set, ticks and microtasks drained
 * after each; one set during the check phase runs in the next iteration. */
static eddy_immediate_t im_a, im_b, im_c;
static void immediate_c(eddy_immediate_t *im);

static void immediate_a(eddy_immediate_t *im) {
  test_log_printf(&out, "a in iteration %d\n", iteration);
  eddy_next_tick(im->loop, say_task, "tick after a");
  eddy_queue_microtask(im->loop, say_task, "microtask after a");
  im_c.data = "c";
  assert_int_equal(eddy_set_immediate(im->loop, &im_c, immediate_c), 0);
}

static void immediate_c(eddy_immediate_t *im) {
  test_log_printf(&out, "c in iteration %d\n", iteration);
  (void)im;
}

static void test_immediates_order(void **state) {
  eddy_loop_t loop;
  eddy_prepare_t prep;

  (void)state;
  log_reset();
  memset(&im_a, 0, sizeof(im_a));
  memset(&im_b, 0, sizeof(im_b));
  memset(&im_c, 0, sizeof(im_c));
  iteration = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_prepare_init(&loop, &prep), 0);
  assert_int_equal(eddy_prepare_start(&prep, count_iteration), 0);
  eddy_unref(&prep.handle);
  im_b.data = "b";
  assert_int_equal(eddy_set_immediate(&loop, &im_a, immediate_a), 0);
  assert_int_equal(eddy_set_immediate(&loop, &im_b, say_immediate), 0);
  assert_true(eddy_immediate_is_pending(&im_a));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_log("a in iteration 1\ntick after a\nmicrotask after a\nb\n"
             "c in iteration 2\n");
  assert_false(eddy_immediate_is_pending(&im_a));
  test_teardown_loop(&loop);
}

/* A waiting immediate keeps the poll phase from blocking, whatever else is
 * watched (here a pipe nobody writes to): the program does not hang. */
static eddy_poll_t idle_pipe;

static void never_readable(eddy_poll_t *p, int status, int events) {
  (void)p;
  (void)status;
  (void)events;
  fail();
}

static void close_pipe_watch(eddy_immediate_t *im) {
  (void)im;
  eddy_close(&idle_pipe.handle, NULL);
}

static void test_immediate_does_not_block_poll(void **state) {
  eddy_loop_t loop;
  eddy_immediate_t im = {0};
  int fds[2];

  (void)state;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &idle_pipe, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&idle_pipe, EDDY_READABLE, never_readable),
                   0);
  assert_int_equal(eddy_set_immediate(&loop, &im, close_pipe_watch), 0);
  assert_int_equal(eddy_backend_timeout(&loop), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  test_assert_loop_clean(&loop);
  close(fds[0]);
  close(fds[1]);
}

/* clearImmediate, also of one later in the same check phase; setting a
 * pending one again moves it to the back. */
static eddy_immediate_t doomed, moved;

static void clear_doomed(eddy_immediate_t *im) {
  say_immediate(im);
  eddy_clear_immediate(&doomed);
}

static void test_clear_immediate(void **state) {
  eddy_loop_t loop;
  eddy_immediate_t first = {0}, gone = {0};

  (void)state;
  log_reset();
  memset(&doomed, 0, sizeof(doomed));
  memset(&moved, 0, sizeof(moved));
  assert_int_equal(eddy_loop_init(&loop), 0);
  first.data = "first";
  doomed.data = "doomed";
  moved.data = "moved";
  gone.data = "gone";
  eddy_clear_immediate(&gone); /* not pending: nothing */
  eddy_clear_immediate(NULL);
  assert_int_equal(eddy_set_immediate(&loop, &moved, say_immediate), 0);
  assert_int_equal(eddy_set_immediate(&loop, &first, clear_doomed), 0);
  assert_int_equal(eddy_set_immediate(&loop, &doomed, say_immediate), 0);
  assert_int_equal(eddy_set_immediate(&loop, &gone, say_immediate), 0);
  assert_int_equal(eddy_set_immediate(&loop, &moved, say_immediate), 0);
  eddy_clear_immediate(&gone);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_log("first\nmoved\n");
  test_assert_loop_clean(&loop);
}

/* An unreferenced immediate keeps nothing alive: alone, the loop ends
 * without it, and it still holds the loop from closing until cleared; with
 * other work it runs. */
static void test_immediate_unref(void **state) {
  eddy_loop_t loop;
  eddy_immediate_t im = {0};
  eddy_timeout_t keeper = {0};

  (void)state;
  log_reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  im.data = "unref'd";
  eddy_immediate_unref(&im);
  assert_false(eddy_immediate_has_ref(&im));
  assert_int_equal(eddy_set_immediate(&loop, &im, say_immediate), 0);
  assert_false(eddy_loop_alive(&loop));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_log("");
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY);
  assert_int_equal(eddy_set_timeout(&loop, &keeper, count_tick, 1), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_log("unref'd\n");
  eddy_immediate_ref(&im);
  assert_true(eddy_immediate_has_ref(&im));
  assert_int_equal(eddy_set_immediate(&loop, &im, say_immediate), 0);
  assert_true(eddy_loop_alive(&loop));
  eddy_immediate_unref(&im); /* while pending */
  assert_false(eddy_loop_alive(&loop));
  eddy_clear_immediate(&im);
  test_assert_loop_clean(&loop);
}

static void test_immediate_errors(void **state) {
  eddy_loop_t loop;
  eddy_immediate_t im = {0};

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_set_immediate(NULL, &im, say_immediate), EDDY_EINVAL);
  assert_int_equal(eddy_set_immediate(&loop, NULL, say_immediate), EDDY_EINVAL);
  assert_int_equal(eddy_set_immediate(&loop, &im, NULL), EDDY_EINVAL);
  assert_false(eddy_immediate_is_pending(&im));
  test_assert_loop_clean(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timeout_runs_once_and_is_reusable),
      cmocka_unit_test(test_delay_coercion_keeps_call_order),
      cmocka_unit_test(test_timeout_counts_from_the_call),
      cmocka_unit_test(test_interval_rearms_from_callback_start),
      cmocka_unit_test(test_clear_and_set_again),
      cmocka_unit_test(test_refresh),
      cmocka_unit_test(test_unref),
      cmocka_unit_test(test_walk_skips_timeouts),
      cmocka_unit_test(test_timeout_errors),
      cmocka_unit_test(test_immediates_order),
      cmocka_unit_test(test_immediate_does_not_block_poll),
      cmocka_unit_test(test_clear_immediate),
      cmocka_unit_test(test_immediate_unref),
      cmocka_unit_test(test_immediate_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
