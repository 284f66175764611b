/* test_loopwatch.c: idle, prepare and check handles. */
#include "test_util.h"

static int idle_runs, prepare_runs, check_runs;

static void idle_cb(eddy_idle_t *h) {
  if (++idle_runs == 3)
    eddy_idle_stop(h);
}
static void prepare_cb(eddy_prepare_t *h) {
  (void)h;
  prepare_runs++;
}
static void check_cb(eddy_check_t *h) {
  (void)h;
  check_runs++;
}

static void test_each_runs_once_per_iteration(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;
  eddy_prepare_t prepare;
  eddy_check_t check;

  (void)state;
  idle_runs = prepare_runs = check_runs = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_prepare_init(&loop, &prepare), 0);
  assert_int_equal(eddy_check_init(&loop, &check), 0);
  assert_int_equal(eddy_handle_get_type(&idle.handle), EDDY_IDLE);
  assert_int_equal(eddy_handle_get_type(&prepare.handle), EDDY_PREPARE);
  assert_int_equal(eddy_handle_get_type(&check.handle), EDDY_CHECK);
  assert_int_equal(eddy_idle_start(&idle, idle_cb), 0);
  assert_int_equal(eddy_prepare_start(&prepare, prepare_cb), 0);
  assert_int_equal(eddy_check_start(&check, check_cb), 0);
  /* prepare and check alone keep the loop alive; unref them so the idle
   * handle decides when the loop ends. */
  eddy_unref(&prepare.handle);
  eddy_unref(&check.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(idle_runs, 3);
  assert_int_equal(prepare_runs, 3);
  assert_int_equal(check_runs, 3);
  test_teardown_loop(&loop);
}

static void test_errors_and_idempotence(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;
  eddy_prepare_t prepare;
  eddy_check_t check;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_idle_init(&loop, &idle);
  eddy_prepare_init(&loop, &prepare);
  eddy_check_init(&loop, &check);
  assert_int_equal(eddy_idle_start(&idle, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_prepare_start(&prepare, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_check_start(&check, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_idle_stop(&idle), 0); /* inactive: no-op */
  assert_int_equal(eddy_check_start(&check, check_cb), 0);
  assert_int_equal(eddy_check_start(&check, check_cb), 0); /* again: ok */
  assert_true(eddy_is_active(&check.handle));
  assert_int_equal(eddy_check_stop(&check), 0);
  assert_int_equal(eddy_check_stop(&check), 0);
  assert_false(eddy_is_active(&check.handle));
  assert_int_equal(eddy_prepare_stop(&prepare), 0); /* inactive: no-op */
  assert_int_equal(eddy_prepare_start(&prepare, prepare_cb), 0);
  assert_true(eddy_is_active(&prepare.handle));
  assert_int_equal(eddy_prepare_stop(&prepare), 0);
  assert_false(eddy_is_active(&prepare.handle));
  prepare_runs = 0;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0); /* nothing runs */
  assert_int_equal(prepare_runs, 0);
  eddy_close(&idle.handle, NULL);
  eddy_close(&prepare.handle, NULL);
  eddy_close(&check.handle, NULL);
  assert_int_equal(eddy_idle_start(&idle, idle_cb), EDDY_EINVAL);
  assert_int_equal(eddy_prepare_start(&prepare, prepare_cb), EDDY_EINVAL);
  assert_int_equal(eddy_check_start(&check, check_cb), EDDY_EINVAL);
  test_assert_loop_clean(&loop);
}

static int closed;
static void on_closed(eddy_handle_t *h) {
  (void)h;
  closed++;
}
static void idle_close_self(eddy_idle_t *h) {
  idle_runs++;
  eddy_close(&h->handle, on_closed);
}
static void prepare_close_self(eddy_prepare_t *h) {
  prepare_runs++;
  eddy_close(&h->handle, on_closed);
}
static void check_close_self(eddy_check_t *h) {
  check_runs++;
  eddy_close(&h->handle, on_closed);
}

static void test_close_in_own_callback(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;
  eddy_prepare_t prepare;
  eddy_check_t check;

  (void)state;
  idle_runs = prepare_runs = check_runs = closed = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_idle_init(&loop, &idle);
  eddy_prepare_init(&loop, &prepare);
  eddy_check_init(&loop, &check);
  eddy_idle_start(&idle, idle_close_self);
  eddy_prepare_start(&prepare, prepare_close_self);
  eddy_check_start(&check, check_close_self);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(idle_runs + prepare_runs + check_runs, 3);
  assert_int_equal(closed, 3);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* A check handle started from a check callback first runs next iteration;
 * one stopped by an earlier callback of the same phase does not run. */
static eddy_check_t second, third;
static struct test_log wlog;
static void third_cb(eddy_check_t *h) {
  test_log_printf(&wlog, "third ");
  eddy_check_stop(h);
}
static void second_cb(eddy_check_t *h) {
  test_log_printf(&wlog, "second ");
  eddy_check_stop(h);
}
static void first_cb(eddy_check_t *h) {
  test_log_printf(&wlog, "first ");
  eddy_check_stop(h);
  eddy_check_stop(&second);
  eddy_check_start(&third, third_cb);
}

static void test_start_and_stop_during_phase(void **state) {
  eddy_loop_t loop;
  eddy_check_t first;

  (void)state;
  wlog.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_check_init(&loop, &first);
  eddy_check_init(&loop, &second);
  eddy_check_init(&loop, &third);
  eddy_check_start(&first, first_cb);
  eddy_check_start(&second, second_cb);
  assert_int_not_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  wlog.buf[wlog.len] = '\0';
  assert_string_equal(wlog.buf, "first ");
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  wlog.buf[wlog.len] = '\0';
  assert_string_equal(wlog.buf, "first third ");
  test_teardown_loop(&loop);
}

static void test_unref_idle_does_not_keep_loop(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;

  (void)state;
  idle_runs = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_idle_init(&loop, &idle);
  eddy_idle_start(&idle, idle_cb);
  eddy_unref(&idle.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(idle_runs, 0);
  test_teardown_loop(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_runs_once_per_iteration),
      cmocka_unit_test(test_errors_and_idempotence),
      cmocka_unit_test(test_close_in_own_callback),
      cmocka_unit_test(test_start_and_stop_during_phase),
      cmocka_unit_test(test_unref_idle_does_not_keep_loop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
