/* test_clock.c: eddy_clock_gettime: the monotonic clock agrees with
 * eddy_hrtime and never goes back, the real-time clock agrees with time(2),
 * and bad arguments are refused. */
#include <time.h>

#include "test_util.h"

static void test_monotonic(void **state) {
  eddy_timespec64_t a, b;
  uint64_t before, after, ns;

  (void)state;
  before = eddy_hrtime();
  assert_int_equal(eddy_clock_gettime(EDDY_CLOCK_MONOTONIC, &a), 0);
  after = eddy_hrtime();
  assert_true(a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
  ns = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
  /* the same clock as eddy_hrtime: read between two of its readings */
  assert_true(ns >= before && ns <= after);
  assert_int_equal(eddy_clock_gettime(EDDY_CLOCK_MONOTONIC, &b), 0);
  assert_true(b.tv_sec > a.tv_sec ||
              (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
}

static void test_realtime(void **state) {
  eddy_timespec64_t ts;
  time_t before, after;

  (void)state;
  before = time(NULL);
  assert_int_equal(eddy_clock_gettime(EDDY_CLOCK_REALTIME, &ts), 0);
  after = time(NULL);
  assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
  assert_true(ts.tv_sec >= (int64_t)before - 1 &&
              ts.tv_sec <= (int64_t)after + 1);
  assert_true(ts.tv_sec > 1600000000); /* after September 2020 */
}

static void test_errors(void **state) {
  eddy_timespec64_t ts;

  (void)state;
  assert_int_equal(eddy_clock_gettime(EDDY_CLOCK_MONOTONIC, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_clock_gettime(EDDY_CLOCK_REALTIME, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_clock_gettime((eddy_clock_id)2, &ts), EDDY_EINVAL);
  assert_int_equal(eddy_clock_gettime((eddy_clock_id)-1, &ts), EDDY_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_monotonic),
      cmocka_unit_test(test_realtime),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
