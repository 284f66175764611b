/* test_watchdog.c: the watchdog names the callback that blocks a loop
 * (type and symbol) and reports once when the stall is seen and once when
 * it ends; a loop parked idle in its wait for long is never reported; the
 * errors of start and stop; the default report on stderr. */
#include <pthread.h>

#include "test_util.h"

#define REPORTS_MAX 8

struct seen {
  pthread_mutex_t lock;
  int count;
  int ended[REPORTS_MAX];
  uint64_t blocked_ms[REPORTS_MAX];
  char type[REPORTS_MAX][32];
  char symbol[REPORTS_MAX][128];
  char line[REPORTS_MAX][512];
  int has_stack[REPORTS_MAX];
};

static struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_report(const eddy_watchdog_report_t *r, void *arg) {
  struct seen *s = arg;

  pthread_mutex_lock(&s->lock);
  if (s->count < REPORTS_MAX) {
    int i = s->count;

    s->ended[i] = r->ended;
    s->blocked_ms[i] = r->blocked_ms;
    snprintf(s->type[i], sizeof(s->type[i]), "%s", r->type);
    snprintf(s->symbol[i], sizeof(s->symbol[i]), "%s", r->symbol);
    snprintf(s->line[i], sizeof(s->line[i]), "%s", r->line);
    s->has_stack[i] = r->stack[0] != '\0';
  }
  s->count++;
  pthread_mutex_unlock(&s->lock);
}

static void seen_reset(void) {
  pthread_mutex_lock(&seen.lock);
  seen.count = 0;
  pthread_mutex_unlock(&seen.lock);
}

static int seen_count(void) {
  int n;

  pthread_mutex_lock(&seen.lock);
  n = seen.count;
  pthread_mutex_unlock(&seen.lock);
  return n;
}

/* Blocks until the watchdog has reported (bounded), so the report comes
 * while the callback still runs, whatever the machine's load. */
static void block_until_reported(int want, uint64_t min_ms) {
  uint64_t start = eddy_hrtime();

  test_busy_wait_ms(min_ms);
  while (seen_count() < want &&
         eddy_hrtime() - start < UINT64_C(5000) * 1000000u)
    test_busy_wait_ms(1);
}

static void on_blocking_timer(eddy_timer_t *t) {
  block_until_reported(1, 120);
  eddy_close(&t->handle, NULL);
}

static void test_blocked_callback_named(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  seen_reset();
  assert_int_equal(eddy_watchdog_start(&loop, 50, on_report, &seen), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, on_blocking_timer, 10, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  /* the end is seen within a few looks after the loop went back to wait;
   * the loop ended, which ends the stall too */
  while (seen_count() < 2)
    usleep(1000);
  assert_int_equal(eddy_watchdog_stop(&loop), 0);
  pthread_mutex_lock(&seen.lock);
  assert_int_equal(seen.count, 2);
  assert_int_equal(seen.ended[0], 0);
  assert_string_equal(seen.type[0], "timer");
  assert_true(strncmp(seen.symbol[0], "on_blocking_timer", 17) == 0);
  assert_true(seen.blocked_ms[0] >= 50);
  assert_non_null(strstr(seen.line[0], "on_blocking_timer"));
  assert_non_null(strstr(seen.line[0], "blocked for"));
  assert_int_equal(seen.ended[1], 1);
  assert_string_equal(seen.symbol[1], seen.symbol[0]);
  assert_true(seen.blocked_ms[1] >= seen.blocked_ms[0]);
  assert_non_null(strstr(seen.line[1], "back in its poll wait"));
  pthread_mutex_unlock(&seen.lock);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* The stack shows the blocking function too, where the platform can take
 * it (not under TSan, which delays the signal; see metrics/stack.h). */
__attribute__((noinline)) static void deep_blocking_function(void) {
  block_until_reported(1, 120);
  __asm__ volatile("" ::: "memory");
}

static void on_blocking_deep(eddy_timer_t *t) {
  deep_blocking_function();
  eddy_close(&t->handle, NULL);
}

static void test_stack_in_report(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;
  char stack_line[512];

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  seen_reset();
  assert_int_equal(eddy_watchdog_start(&loop, 50, on_report, &seen), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, on_blocking_deep, 1, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_watchdog_stop(&loop), 0);
  pthread_mutex_lock(&seen.lock);
  assert_true(seen.count >= 1);
  snprintf(stack_line, sizeof(stack_line), "%s", seen.line[0]);
  if (seen.has_stack[0])
    assert_non_null(strstr(stack_line, "on_blocking_deep"));
  else
    assert_non_null(strstr(stack_line, "(not available)"));
  pthread_mutex_unlock(&seen.lock);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Parked in the wait for 400 ms with a 30 ms threshold: nothing. */
static void on_quiet(eddy_timer_t *t) {
  eddy_close(&t->handle, NULL);
}

static void test_no_report_when_idle(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  seen_reset();
  assert_int_equal(eddy_watchdog_start(&loop, 30, on_report, &seen), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, on_quiet, 400, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  /* out of eddy_run is not a stall either */
  usleep(100000);
  assert_int_equal(eddy_watchdog_stop(&loop), 0);
  assert_int_equal(seen_count(), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Many short iterations in a row (an idle handle: the wait never blocks)
 * are not a stall: a second of 1 ms iterations, with a 300 ms threshold
 * (well above what a busy machine takes the CPU away for). */
static int spins;

static void on_idle_short(eddy_idle_t *h) {
  test_busy_wait_ms(1);
  if (++spins == 1000)
    eddy_close(&h->handle, NULL);
}

static void test_no_report_for_short_iterations(void **state) {
  eddy_loop_t loop;
  eddy_idle_t idle;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  seen_reset();
  spins = 0;
  assert_int_equal(eddy_watchdog_start(&loop, 300, on_report, &seen), 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, on_idle_short), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_watchdog_stop(&loop), 0);
  assert_int_equal(seen_count(), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

static void test_errors(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_watchdog_start(NULL, 10, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_watchdog_start(&loop, 0, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_watchdog_stop(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_watchdog_stop(&loop), EDDY_EINVAL);
  assert_int_equal(eddy_watchdog_start(&loop, 10, NULL, NULL), 0);
  assert_int_equal(eddy_watchdog_start(&loop, 10, NULL, NULL), EDDY_EBUSY);
  assert_int_equal(eddy_watchdog_stop(&loop), 0);
  assert_int_equal(eddy_watchdog_stop(&loop), EDDY_EINVAL);
  /* eddy_loop_close stops a watchdog left running */
  assert_int_equal(eddy_watchdog_start(&loop, 10, NULL, NULL), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* With no callback the report is one line on stderr (seen in the test's
 * output). */
static void on_block_briefly(eddy_timer_t *t) {
  test_busy_wait_ms(150);
  eddy_close(&t->handle, NULL);
}

static void test_default_report(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_watchdog_start(&loop, 40, NULL, NULL), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, on_block_briefly, 1, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_watchdog_stop(&loop), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blocked_callback_named),
      cmocka_unit_test(test_stack_in_report),
      cmocka_unit_test(test_no_report_when_idle),
      cmocka_unit_test(test_no_report_for_short_iterations),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_default_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
