/* test_scenarios.c: Node's event-order scenarios replayed with the C API.
 *
 * Each test is the C twin of ../shared/spec/node-scenarios/NAME.js (the
 * expected outputs are copied into tests/scenarios/) and must print the
 * same lines in the same order. Mapping: setTimeout -> eddy_timer_t,
 * setImmediate -> a check handle that runs once, process.nextTick ->
 * eddy_next_tick, promises and queueMicrotask -> eddy_queue_microtask.
 * fs.readFile and fs.stat map onto eddy_fs_read_file and eddy_fs_stat.
 * Where a script needs some other I/O source, a pipe watched by a poll
 * handle is it. */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "core/phases.h"
#include "test_util.h"

static struct test_log out;

static void compare_with(const char *name) {
  static char expected[8192];

  test_read_scenario(name, expected, sizeof(expected));
  out.buf[out.len] = '\0';
  assert_string_equal(out.buf, expected);
}

static void say(eddy_loop_t *loop, void *line) {
  (void)loop;
  test_log_printf(&out, "%s\n", (const char *)line);
}

/* setImmediate(fn, arg): a check handle that runs fn once, then closes.
 * As in Node, an idle handle stays active while the immediate waits, so
 * poll does not block with an immediate pending. */
struct immediate {
  eddy_check_t check;
  eddy_idle_t idle;
  eddy_task_cb fn;
  void *arg;
};

static void immediate_closed(eddy_handle_t *h) {
  free(h->data);
}

static void idle_noop(eddy_idle_t *idle) {
  (void)idle;
}

static void immediate_run(eddy_check_t *check) {
  struct immediate *im = check->handle.data;

  eddy_close(&im->idle.handle, NULL);
  eddy_close(&check->handle, immediate_closed);
  im->fn(check->handle.loop, im->arg);
}

static void set_immediate(eddy_loop_t *loop, eddy_task_cb fn, void *arg) {
  struct immediate *im = malloc(sizeof(*im));

  assert_non_null(im);
  im->fn = fn;
  im->arg = arg;
  assert_int_equal(eddy_check_init(loop, &im->check), 0);
  im->check.handle.data = im;
  assert_int_equal(eddy_check_start(&im->check, immediate_run), 0);
  assert_int_equal(eddy_idle_init(loop, &im->idle), 0);
  assert_int_equal(eddy_idle_start(&im->idle, idle_noop), 0);
}

/* setTimeout(fn, ms, arg): a timer that runs fn once, then closes. */
struct timeout {
  eddy_timer_t timer;
  eddy_task_cb fn;
  void *arg;
};

static void timeout_run(eddy_timer_t *t) {
  struct timeout *to = t->handle.data;

  eddy_close(&t->handle, immediate_closed);
  to->fn(t->handle.loop, to->arg);
}

static void set_timeout(eddy_loop_t *loop, eddy_task_cb fn, uint64_t ms,
                        void *arg) {
  struct timeout *to = malloc(sizeof(*to));

  assert_non_null(to);
  to->fn = fn;
  to->arg = arg;
  assert_int_equal(eddy_timer_init(loop, &to->timer), 0);
  to->timer.handle.data = to;
  assert_int_equal(eddy_timer_start(&to->timer, timeout_run, ms, 0), 0);
}

/* 01: inside an I/O callback, setImmediate always precedes setTimeout 0. */
static int round01;
static int pipe01[2];
static eddy_poll_t io01;
static char line01[2][64];

static void s01_timeout(eddy_loop_t *loop, void *arg);
static void s01_immediate(eddy_loop_t *loop, void *arg) {
  (void)arg;
  (void)loop;
  test_log_printf(&out, "round %d immediate\n", round01);
}
static void s01_read_done(eddy_poll_t *p, int status, int events) {
  char c;

  assert_int_equal(status, 0);
  assert_true(events & EDDY_READABLE);
  assert_int_equal(read(pipe01[0], &c, 1), 1);
  eddy_poll_stop(p);
  set_timeout(p->handle.loop, s01_timeout, 0, NULL);
  set_immediate(p->handle.loop, s01_immediate, NULL);
}
static void s01_once(void) {
  assert_int_equal(write(pipe01[1], "r", 1), 1);
  assert_int_equal(eddy_poll_start(&io01, EDDY_READABLE, s01_read_done), 0);
}
static void s01_timeout(eddy_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  test_log_printf(&out, "round %d timeout\n", round01);
  if (++round01 < 5)
    s01_once();
  else
    eddy_close(&io01.handle, NULL);
}

static void test_01_timeout_vs_immediate_in_io(void **state) {
  eddy_loop_t loop;

  (void)state;
  (void)line01;
  out.len = 0;
  round01 = 0;
  assert_int_equal(pipe(pipe01), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &io01, pipe01[0]), 0);
  s01_once();
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("01_timeout_vs_immediate_in_io.out");
  assert_int_equal(eddy_loop_close(&loop), 0);
  close(pipe01[0]);
  close(pipe01[1]);
}

/* 02: nextTick / microtask drain order after the main script. */
static void s02_tick_1_1(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_next_tick(loop, say, "tick 1.1.1 (nested twice)");
}
static void s02_tick_1(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_next_tick(loop, s02_tick_1_1, "tick 1.1 (nested)");
  eddy_queue_microtask(loop, say, "promise queued from tick 1");
}
static void s02_promise_1(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_next_tick(loop, say, "tick queued from promise 1");
  eddy_queue_microtask(loop, say, "promise 1.1 (nested microtask)");
}

static void test_02_nexttick_microtask_order(void **state) {
  eddy_loop_t loop;

  (void)state;
  out.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  say(&loop, "main start");
  set_timeout(&loop, say, 1, "timeout");
  set_immediate(&loop, say, "immediate");
  eddy_queue_microtask(&loop, s02_promise_1, "promise 1");
  eddy_queue_microtask(&loop, say, "queueMicrotask 1");
  eddy_next_tick(&loop, s02_tick_1, "tick 1");
  eddy_next_tick(&loop, say, "tick 2");
  test_busy_wait_ms(2);
  eddy_update_time(&loop); /* Node reads the clock after the main script */
  say(&loop, "main end");
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("02_nexttick_microtask_order.out");
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* 03: equal deadlines in insertion order; a timer created in a timer
 * callback waits for the next iteration, after the immediate. */
static void s03_a(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_next_tick(loop, say, "  tick from A");
  eddy_queue_microtask(loop, say, "  promise from A");
  set_timeout(loop, say, 0, "A.child timeout(0) created in A");
  set_immediate(loop, say, "A.child immediate created in A");
}

static void test_03_timers_equal_deadline_and_nested(void **state) {
  eddy_loop_t loop;

  (void)state;
  out.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  set_timeout(&loop, s03_a, 10, "A (10ms, inserted 1st)");
  set_timeout(&loop, say, 10, "B (10ms, inserted 2nd)");
  set_timeout(&loop, say, 5, "C (5ms, inserted 3rd)");
  set_timeout(&loop, say, 10, "D (10ms, inserted 4th)");
  test_busy_wait_ms(20);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("03_timers_equal_deadline_and_nested.out");
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* 04: an interval cleared inside its own callback. */
static int ticks04;
static void s04_interval(eddy_timer_t *t) {
  test_log_printf(&out, "interval tick %d\n", ++ticks04);
  if (ticks04 == 3) {
    eddy_close(&t->handle, NULL);
    say(t->handle.loop, "cleared inside own callback");
    set_immediate(t->handle.loop, say, "immediate after clear");
  }
}

static void test_04_interval_cancel_self(void **state) {
  eddy_loop_t loop;
  eddy_timer_t iv;
  uint64_t t0 = eddy_hrtime();

  (void)state;
  out.len = 0;
  ticks04 = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &iv);
  assert_int_equal(eddy_timer_start(&iv, s04_interval, 10, 10), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  test_log_printf(&out, "exit, ticks=%d, >=30ms elapsed: %s\n", ticks04,
                  eddy_hrtime() - t0 >= 30000000u ? "true" : "false");
  compare_with("04_interval_cancel_self.out");
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* 05: immediates queued during the check phase wait for the next
 * iteration, after its due timers. */
static void s05_immediate_1(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  set_immediate(loop, say, "immediate 3 (queued during check -> next iteration)");
  set_timeout(loop, say, 0, "timeout 0 (queued during check)");
  eddy_next_tick(loop, say, "  tick from immediate 1");
}
static void s05_immediate_2(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  test_busy_wait_ms(5);
}

static void test_05_immediate_queued_in_check(void **state) {
  eddy_loop_t loop;

  (void)state;
  out.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  set_immediate(&loop, s05_immediate_1, "immediate 1");
  set_immediate(&loop, s05_immediate_2, "immediate 2");
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("05_immediate_queued_in_check.out");
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* 11: a nextTick chain runs to its end before a due timer; an immediate
 * chain advances one hop per iteration and lets timers run in between.
 * The script starts its 5 ms and 20 ms timers from the main module; on a
 * loaded machine both could be due before the chain starts. To keep the
 * replay deterministic the 5 ms timer is started by the chain's first hop,
 * and the stop comes from a 0 ms timer that the 5 ms timer starts. */
static int ticks11, hops11, stop11;
static eddy_check_t hop11;
static eddy_idle_t hop11_idle;
static void s11_tick(eddy_loop_t *loop, void *arg) {
  if (++ticks11 < 1000)
    eddy_next_tick(loop, s11_tick, arg);
}
static void s11_timeout0(eddy_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  test_log_printf(&out, "timeout 0 saw ticks=%d (tick chain of 1000 finished first)\n",
                  ticks11);
}
static void s11_immediate_a(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  eddy_queue_microtask(loop, say, "  promise from A");
}
static void s11_stop(eddy_loop_t *loop, void *arg) {
  (void)arg;
  stop11 = 1;
  say(loop, "stopped immediate chain");
}
static void s11_timeout5(eddy_loop_t *loop, void *arg) {
  (void)arg;
  test_log_printf(&out, "timeout 5ms fired while immediate chain running: hops=%s\n",
                  hops11 > 0 && !stop11 && eddy_is_active(&hop11.handle)
                      ? "in progress"
                      : "done");
  set_timeout(loop, s11_stop, 0, NULL);
}
/* The chain re-queues itself: a check handle left active runs once per
 * iteration (with an idle handle so poll does not block meanwhile). */
static void s11_hop(eddy_check_t *c) {
  if (++hops11 == 1)
    set_timeout(c->handle.loop, s11_timeout5, 5, NULL);
  if (!(hops11 < 100000 && !stop11)) {
    eddy_close(&c->handle, NULL);
    eddy_close(&hop11_idle.handle, NULL);
  }
}

static void test_11_microtasks_between_immediates(void **state) {
  eddy_loop_t loop;

  (void)state;
  out.len = 0;
  ticks11 = hops11 = stop11 = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  set_immediate(&loop, s11_immediate_a, "immediate A");
  set_immediate(&loop, say, "immediate B");
  set_timeout(&loop, s11_timeout0, 1, NULL);
  eddy_next_tick(&loop, s11_tick, NULL);
  eddy_check_init(&loop, &hop11);
  eddy_check_start(&hop11, s11_hop);
  eddy_idle_init(&loop, &hop11_idle);
  eddy_idle_start(&hop11_idle, idle_noop);
  test_busy_wait_ms(2);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("11_microtasks_between_immediates_and_starvation.out");
  assert_true(hops11 > 1);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* 07: fs.readFile is several pool round trips (open, fstat, read, close),
 * fs.stat one, so the stat's callback comes in the first poll phase and the
 * read_file's last. Node's script busy-waits 2 ms so that the pool has
 * finished the stat before the loop starts; a loaded machine may not
 * schedule a pool thread within 2 ms, so the test also waits until the
 * stat's completion is on the loop's completion stack (what Node's 2 ms
 * stand for), then runs the loop. */
static eddy_fs_t stat07, file07;

static void s07_stat_done(eddy_fs_t *req) {
  assert_int_equal(req->result, 0);
  test_log_printf(&out, "stat callback (single pool round-trip)\n");
  eddy_fs_req_cleanup(req);
}

static void s07_file_done(eddy_fs_t *req) {
  assert_true(req->result > 0);
  test_log_printf(&out, "readFile callback\n");
  eddy_fs_req_cleanup(req);
}

static int s07_stat_completed(eddy_loop_t *loop) {
  eddy__work_t *w = __atomic_load_n(&loop->priv.work.done, __ATOMIC_ACQUIRE);

  for (; w != NULL; w = w->next_done)
    if (w == &stat07.priv.work)
      return 1;
  return 0;
}

static void test_07_readfile_vs_timers(void **state) {
  const char *path = EDDY_TEST_SCENARIOS "/07_readfile_vs_timers.out";
  eddy_loop_t loop;

  (void)state;
  out.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_fs_read_file(&loop, &file07, path, s07_file_done), 0);
  assert_int_equal(eddy_fs_stat(&loop, &stat07, path, s07_stat_done), 0);
  set_timeout(&loop, say, 0, "timeout 0");
  set_immediate(&loop, say, "immediate");
  eddy_next_tick(&loop, say, "nextTick");
  eddy_queue_microtask(&loop, say, "promise");
  test_busy_wait_ms(2);
  while (!s07_stat_completed(&loop))
    sched_yield();
  eddy_update_time(&loop);
  say(&loop, "main end");
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("07_readfile_vs_timers.out");
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* 12: a blocking callback delays every later timer. */
static uint64_t t0_12;
static void s12_late(eddy_loop_t *loop, void *arg) {
  uint64_t late_ms = (eddy_hrtime() - t0_12) / 1000000u;

  (void)loop;
  (void)arg;
  if (late_ms >= 50)
    test_log_printf(&out, "10ms timer fired late: yes (>=50ms)\n");
  else
    test_log_printf(&out, "10ms timer fired late: NO %llu\n",
                    (unsigned long long)late_ms);
}
static void s12_blocker(eddy_loop_t *loop, void *arg) {
  say(loop, arg);
  test_busy_wait_ms(50);
}

static void test_12_blocking_delays_timers(void **state) {
  eddy_loop_t loop;

  (void)state;
  out.len = 0;
  t0_12 = eddy_hrtime();
  assert_int_equal(eddy_loop_init(&loop), 0);
  set_timeout(&loop, s12_late, 10, NULL);
  set_timeout(&loop, s12_blocker, 5, "5ms timer runs first, then blocks 50ms");
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("12_blocking_delays_timers.out");
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* 12 again with timers that stay open after they ran (the usual case;
 * the version above closes them, and a closing handle alone keeps the next
 * poll from sleeping). After the blocker, the 10 ms timer is overdue: the
 * poll phase right after must not sleep at all (Node runs it at 55-57 ms),
 * where a clock cached before the blocker would give it 5 ms more. */
static eddy_timer_t t12_late, t12_blocker;
static eddy_prepare_t p12;
static int p12_armed, p12_timeout;

static void s12b_late(eddy_timer_t *t) {
  s12_late(t->handle.loop, NULL);
}
static void s12b_blocker(eddy_timer_t *t) {
  s12_blocker(t->handle.loop, "5ms timer runs first, then blocks 50ms");
  p12_armed = 1;
}
static void s12b_prepare(eddy_prepare_t *p) {
  if (p12_armed) {
    p12_timeout = eddy_backend_timeout(p->handle.loop);
    p12_armed = 0;
    eddy_prepare_stop(p);
  }
}

static void test_12_timers_left_open(void **state) {
  eddy_loop_t loop;

  (void)state;
  out.len = 0;
  p12_armed = 0;
  p12_timeout = -2;
  t0_12 = eddy_hrtime();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &t12_late), 0);
  assert_int_equal(eddy_timer_init(&loop, &t12_blocker), 0);
  assert_int_equal(eddy_prepare_init(&loop, &p12), 0);
  assert_int_equal(eddy_prepare_start(&p12, s12b_prepare), 0);
  assert_int_equal(eddy_timer_start(&t12_late, s12b_late, 10, 0), 0);
  assert_int_equal(eddy_timer_start(&t12_blocker, s12b_blocker, 5, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  compare_with("12_blocking_delays_timers.out");
  assert_int_equal(p12_timeout, 0);
  test_teardown_loop(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_01_timeout_vs_immediate_in_io),
      cmocka_unit_test(test_02_nexttick_microtask_order),
      cmocka_unit_test(test_03_timers_equal_deadline_and_nested),
      cmocka_unit_test(test_04_interval_cancel_self),
      cmocka_unit_test(test_05_immediate_queued_in_check),
      cmocka_unit_test(test_07_readfile_vs_timers),
      cmocka_unit_test(test_11_microtasks_between_immediates),
      cmocka_unit_test(test_12_blocking_delays_timers),
      cmocka_unit_test(test_12_timers_left_open),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
