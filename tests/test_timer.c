/* test_timer.c: timer handles and the timer heap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "core/phases.h"
#include "test_util.h"

static int fired;
static void count_cb(eddy_timer_t *t) {
  (void)t;
  fired++;
}

static void test_start_stop_errors(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_handle_get_type(&t.handle), EDDY_TIMER);
  assert_int_equal(eddy_timer_start(&t, NULL, 1, 0), EDDY_EINVAL);
  assert_int_equal(eddy_timer_again(&t), EDDY_EINVAL); /* never started */
  assert_int_equal(eddy_timer_stop(&t), 0);            /* not active: ok */
  assert_int_equal(eddy_timer_get_due_in(&t), 0);
  assert_int_equal(eddy_timer_start(&t, count_cb, 50, 0), 0);
  assert_true(eddy_timer_get_due_in(&t) == 50);
  assert_int_equal(eddy_timer_stop(&t), 0);
  assert_false(eddy_is_active(&t.handle));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fired, 0);
  assert_int_equal(eddy_close(&t.handle, NULL), 0);
  assert_int_equal(eddy_timer_start(&t, count_cb, 1, 0), EDDY_EINVAL);
  test_assert_loop_clean(&loop);
  assert_int_equal(fired, 0);
}

static void test_huge_timeout_saturates(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, count_cb, UINT64_MAX, 0), 0);
  /* Saturates at 2^40 ms after loop start (about 34 years). */
  assert_true(eddy_timer_get_due_in(&t) > ((uint64_t)1 << 40) - 1000);
  assert_true(eddy_timer_get_due_in(&t) < ((uint64_t)1 << 40));
  eddy_unref(&t.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  test_teardown_loop(&loop);
}

static void test_repeat_get_set_and_again(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, count_cb, 1000, 0), 0);
  assert_int_equal(eddy_timer_get_repeat(&t), 0);
  /* again without repeat leaves the timer as it is */
  assert_int_equal(eddy_timer_again(&t), 0);
  assert_int_equal(eddy_timer_get_due_in(&t), 1000);
  eddy_timer_set_repeat(&t, 30);
  assert_int_equal(eddy_timer_get_repeat(&t), 30);
  assert_int_equal(eddy_timer_again(&t), 0);
  assert_int_equal(eddy_timer_get_due_in(&t), 30);
  test_teardown_loop(&loop);
}

/* Equal deadlines fire in start order; earlier deadlines first. */
static struct test_log order_log;
static void log_name(eddy_timer_t *t) {
  test_log_printf(&order_log, "%s ", (const char *)t->handle.data);
}

static void test_order_by_due_then_start(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t[5];
  const char *names[] = {"a10", "b10", "c5", "d10", "e0"};
  uint64_t timeouts[] = {10, 10, 5, 10, 0};
  int i;

  (void)state;
  order_log.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < 5; i++) {
    eddy_timer_init(&loop, &t[i]);
    t[i].handle.data = (void *)names[i];
    assert_int_equal(eddy_timer_start(&t[i], log_name, timeouts[i], 0), 0);
  }
  test_busy_wait_ms(20); /* all due at the first timers pass */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  order_log.buf[order_log.len] = '\0';
  assert_string_equal(order_log.buf, "e0 c5 a10 b10 d10 ");
  test_teardown_loop(&loop);
}

/* A 0 ms timer started in a timer callback runs in the next iteration,
 * after that iteration's check phase. */
static struct test_log nested_log;
static eddy_timer_t child;
static eddy_check_t check;
static void nested_child(eddy_timer_t *t) {
  (void)t;
  test_log_printf(&nested_log, "child-timer ");
}
static void nested_check(eddy_check_t *c) {
  test_log_printf(&nested_log, "check ");
  eddy_check_stop(c);
}
static void nested_parent(eddy_timer_t *t) {
  test_log_printf(&nested_log, "parent ");
  eddy_timer_start(&child, nested_child, 0, 0);
  eddy_check_start(&check, nested_check);
  (void)t;
}
static void nested_sibling(eddy_timer_t *t) {
  (void)t;
  test_log_printf(&nested_log, "sibling ");
}

static void test_zero_timer_from_timer_runs_next_iteration(void **state) {
  eddy_loop_t loop;
  eddy_timer_t parent, sibling;

  (void)state;
  nested_log.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &parent);
  eddy_timer_init(&loop, &sibling);
  eddy_timer_init(&loop, &child);
  eddy_check_init(&loop, &check);
  eddy_timer_start(&parent, nested_parent, 0, 0);
  eddy_timer_start(&sibling, nested_sibling, 0, 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  nested_log.buf[nested_log.len] = '\0';
  assert_string_equal(nested_log.buf, "parent sibling check child-timer ");
  test_teardown_loop(&loop);
}

/* An interval is re-armed from the start of its callback: a slow callback
 * delays the next run to the next timers phase, with no catch-up burst. */
static int interval_runs;
static uint64_t due_in_seen;
static void slow_interval(eddy_timer_t *t) {
  interval_runs++;
  /* Re-armed before the callback, relative to the callback's start. */
  due_in_seen = eddy_timer_get_due_in(t);
  if (interval_runs == 1)
    test_busy_wait_ms(60); /* six intervals' worth */
  if (interval_runs == 3)
    eddy_timer_stop(t);
}

static void test_interval_rearmed_from_callback_start(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;
  uint64_t start_runs;

  (void)state;
  interval_runs = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &t);
  assert_int_equal(eddy_timer_start(&t, slow_interval, 10, 10), 0);
  /* First run: busy 60 ms. */
  while (interval_runs == 0)
    eddy_run(&loop, EDDY_RUN_ONCE);
  assert_int_equal(due_in_seen, 10);
  /* The next timers pass runs it once, not six times. */
  start_runs = (uint64_t)interval_runs;
  eddy_run(&loop, EDDY_RUN_ONCE);
  assert_int_equal(interval_runs, start_runs + 1);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(interval_runs, 3);
  test_teardown_loop(&loop);
}

static void close_self(eddy_timer_t *t) {
  fired++;
  eddy_close(&t->handle, NULL);
}

static void test_close_in_own_callback(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &t);
  eddy_timer_start(&t, close_self, 1, 1); /* repeating: close stops it */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fired, 1);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* A timer stopped by an earlier callback of the same pass does not run. */
static eddy_timer_t victim;
static void stop_victim(eddy_timer_t *t) {
  (void)t;
  eddy_timer_stop(&victim);
}

static void test_stop_other_due_timer(void **state) {
  eddy_loop_t loop;
  eddy_timer_t first;

  (void)state;
  fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &first);
  eddy_timer_init(&loop, &victim);
  eddy_timer_start(&first, stop_victim, 0, 0);
  eddy_timer_start(&victim, count_cb, 0, 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fired, 0);
  test_teardown_loop(&loop);
}

/* Unreferenced timers fire while a referenced one keeps the loop alive. */
static void test_unref_timer_fires_while_loop_alive(void **state) {
  eddy_loop_t loop;
  eddy_timer_t unref_early, ref_late, unref_never;

  (void)state;
  fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &unref_early);
  eddy_timer_init(&loop, &ref_late);
  eddy_timer_init(&loop, &unref_never);
  eddy_timer_start(&unref_early, count_cb, 1, 0);
  eddy_unref(&unref_early.handle);
  eddy_timer_start(&ref_late, count_cb, 20, 0);
  eddy_timer_start(&unref_never, count_cb, 60000, 0);
  eddy_unref(&unref_never.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fired, 2);
  assert_true(eddy_is_active(&unref_never.handle));
  test_teardown_loop(&loop);
}

/* Heap stress: many timers with random timeouts, a third stopped and a few
 * restarted; the survivors fire in (due, start) order exactly once. */
#define STRESS_N 20000
struct stress_timer {
  eddy_timer_t timer;
  uint64_t due;
  uint64_t seq;
  int fired;
};
static struct stress_timer *stress;
static uint64_t last_due, last_seq;
static int stress_fired, stress_misordered;

static void stress_cb(eddy_timer_t *t) {
  struct stress_timer *s = (struct stress_timer *)t;
  if (s->due < last_due || (s->due == last_due && s->seq < last_seq))
    stress_misordered++;
  last_due = s->due;
  last_seq = s->seq;
  s->fired++;
  stress_fired++;
}

static void heap_stress(int n) {
  eddy_loop_t loop;
  uint64_t seq = 0;
  int i, expected = 0;

  srand(42);
  stress = calloc((size_t)n, sizeof(*stress));
  assert_non_null(stress);
  stress_fired = stress_misordered = 0;
  last_due = last_seq = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < n; i++) {
    uint64_t timeout = (uint64_t)(rand() % 40);
    eddy_timer_init(&loop, &stress[i].timer);
    assert_int_equal(eddy_timer_start(&stress[i].timer, stress_cb, timeout, 0), 0);
    stress[i].due = eddy_now(&loop) + timeout;
    stress[i].seq = seq++;
  }
  for (i = 0; i < n; i += 3)
    eddy_timer_stop(&stress[i].timer);
  for (i = 0; i < n; i += 9) { /* restart some stopped ones */
    uint64_t timeout = (uint64_t)(rand() % 40);
    eddy_timer_start(&stress[i].timer, stress_cb, timeout, 0);
    stress[i].due = eddy_now(&loop) + timeout;
    stress[i].seq = seq++;
  }
  for (i = 0; i < n; i++)
    expected += eddy_is_active(&stress[i].timer.handle);
  /* The root fills the last 16-byte slot of a cache line, so the four
   * children of every slot share one line. */
  assert_int_equal((uintptr_t)loop.priv.timers.heap % 64, 48);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(stress_fired, expected);
  assert_int_equal(stress_misordered, 0);
  for (i = 0; i < n; i++)
    assert_true(stress[i].fired <= 1);
  test_teardown_loop(&loop);
  free(stress);
}

static void test_heap_stress(void **state) {
  (void)state;
  heap_stress(STRESS_N);
}

/* Past 2 MiB the heap array moves to its own (huge-page) mapping, grown
 * by mremap: order and bookkeeping must survive the moves. */
static void test_heap_stress_big(void **state) {
  (void)state;
  heap_stress(600000);
}


/* Every open timer is walked exactly once, whether never started, started
 * or stopped, also when the walk callback closes timers it has not visited
 * yet (which moves slots around the loop's timer array). */
#define WALK_N 999
static eddy_timer_t walk_timers[WALK_N];
static int walk_counts[WALK_N], walk_closed;
static void walk_timer_cb(eddy_timer_t *t) { (void)t; }
static void walk_count_close(eddy_handle_t *h) {
  (void)h;
  walk_closed++;
}
static void walk_close_two(eddy_handle_t *h, void *arg) {
  int *prey = arg;

  assert_int_equal(eddy_handle_get_type(h), EDDY_TIMER);
  walk_counts[(eddy_timer_t *)h - walk_timers]++;
  if (!eddy_is_closing(h))
    eddy_close(h, walk_count_close);
  /* and one from the other end, not visited yet */
  while (*prey >= 0 && eddy_is_closing(&walk_timers[*prey].handle))
    (*prey)--;
  if (*prey >= 0)
    eddy_close(&walk_timers[(*prey)--].handle, walk_count_close);
}

static void test_walk_visits_every_open_timer(void **state) {
  eddy_loop_t loop;
  int i, prey = WALK_N - 1;

  (void)state;
  walk_closed = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < WALK_N; i++) {
    walk_counts[i] = 0;
    assert_int_equal(eddy_timer_init(&loop, &walk_timers[i]), 0);
    if (i % 3 != 0)
      assert_int_equal(
          eddy_timer_start(&walk_timers[i], walk_timer_cb, 1000 + i % 7, 0),
          0);
    if (i % 3 == 2)
      eddy_timer_stop(&walk_timers[i]);
  }
  eddy_walk(&loop, walk_close_two, &prey);
  for (i = 0; i < WALK_N; i++) {
    assert_int_equal(walk_counts[i], 1);
    assert_true(eddy_is_closing(&walk_timers[i].handle));
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(walk_closed, WALK_N);
  test_teardown_loop(&loop);
}

/* An open timer that was never started still keeps eddy_loop_close busy
 * (but not the loop alive). */
static void test_loop_close_busy_with_unstarted_timer(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_loop_alive(&loop), 0);
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY);
  eddy_close(&t.handle, NULL);
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY); /* still closing */
  test_teardown_loop(&loop);
}

/* A closing timer's callback and repeat are gone (their bytes link it on
 * the closing list): it cannot be restarted and reports no repeat. */
static void test_closing_timer_keeps_no_repeat(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
#if UINTPTR_MAX == UINT64_MAX
  assert_int_equal(sizeof(eddy_timer_t), 48);
#endif
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, walk_timer_cb, 10, 5), 0);
  assert_int_equal(eddy_timer_get_repeat(&t), 5);
  eddy_close(&t.handle, NULL);
  assert_int_equal(eddy_timer_get_repeat(&t), 0);
  eddy_timer_set_repeat(&t, 7);
  assert_int_equal(eddy_timer_get_repeat(&t), 0);
  assert_int_equal(eddy_timer_again(&t), EDDY_EINVAL);
  assert_int_equal(eddy_timer_start(&t, walk_timer_cb, 1, 0), EDDY_EINVAL);
  assert_int_equal(eddy_timer_stop(&t), 0);
  assert_int_equal(eddy_timer_get_due_in(&t), 0);
  test_teardown_loop(&loop);
}

/* Random start, stop, restart, close and timers-phase runs (at loop times
 * the test sets) on a small set of timers, against a model: after every
 * step the array's invariants hold, eddy_walk and eddy_loop_close see
 * exactly the open and closing timers, activity and due times match, and
 * each timers phase fires exactly the due timers in (due, start) order. */
#define MODEL_N 64
enum { M_FREE, M_STOPPED, M_ACTIVE, M_CLOSING };
static struct {
  int state;
  uint64_t due, seq, repeat;
} model[MODEL_N];
static eddy_timer_t model_timers[MODEL_N];
static uint64_t model_seq, model_now;
static int model_fired[MODEL_N * 2], model_nfired, model_walked;

static void model_cb(eddy_timer_t *t) {
  int i = (int)(t - model_timers);
  model_fired[model_nfired++] = i;
  if (model[i].repeat != 0) { /* re-armed from the callback's start */
    model[i].due = model_now + model[i].repeat;
    model[i].seq = model_seq++;
  } else {
    model[i].state = M_STOPPED;
  }
}

/* Model time t is loop time timer_base + MODEL_EPOCH + t: far enough ahead
 * of the real clock that an eddy_run (which reads the clock) finds nothing
 * due and only runs the close phase. */
#define MODEL_EPOCH ((uint64_t)1 << 32)

static void model_close_cb(eddy_handle_t *h) {
  model[(eddy_timer_t *)h - model_timers].state = M_FREE;
}

static void model_close_phase(eddy_loop_t *loop) {
  eddy_run(loop, EDDY_RUN_NOWAIT);
  loop->priv.core.time = loop->priv.timers.base + MODEL_EPOCH + model_now;
}

static void model_walk_cb(eddy_handle_t *h, void *arg) {
  (void)h;
  (void)arg;
  model_walked++;
}

static int model_before(int a, int b) {
  return model[a].due != model[b].due ? model[a].due < model[b].due
                                      : model[a].seq < model[b].seq;
}

/* Fire what is due at model_now and check the order against the model. */
static void model_run_phase(eddy_loop_t *loop) {
  int expect[MODEL_N], n = 0, i, j;

  for (i = 0; i < MODEL_N; i++)
    if (model[i].state == M_ACTIVE && model[i].due <= model_now)
      expect[n++] = i;
  for (i = 1; i < n; i++) /* insertion sort by (due, seq) */
    for (j = i; j > 0 && model_before(expect[j], expect[j - 1]); j--) {
      int t = expect[j];
      expect[j] = expect[j - 1];
      expect[j - 1] = t;
    }
  model_nfired = 0;
  loop->priv.core.time = loop->priv.timers.base + MODEL_EPOCH + model_now;
  eddy__run_timers(loop);
  assert_int_equal(model_nfired, n);
  for (i = 0; i < n; i++)
    assert_int_equal(model_fired[i], expect[i]);
}

static void model_check(eddy_loop_t *loop) {
  int i, open = 0, closing = 0;

  assert_int_equal(eddy__timer_verify(loop), 0);
  for (i = 0; i < MODEL_N; i++) {
    eddy_timer_t *t = &model_timers[i];
    open += model[i].state == M_STOPPED || model[i].state == M_ACTIVE;
    closing += model[i].state == M_CLOSING;
    if (model[i].state == M_FREE)
      continue;
    assert_int_equal(eddy_is_active(&t->handle), model[i].state == M_ACTIVE);
    assert_int_equal(eddy_is_closing(&t->handle), model[i].state == M_CLOSING);
    if (model[i].state == M_ACTIVE)
      assert_int_equal(eddy_timer_get_due_in(t),
                       model[i].due > model_now ? model[i].due - model_now
                                                : 0);
  }
  assert_int_equal(eddy__timer_open_count(loop), (uint32_t)open);
  model_walked = 0;
  eddy_walk(loop, model_walk_cb, NULL);
  assert_int_equal(model_walked, open + closing);
  assert_int_equal(eddy_loop_close(loop),
                   open + closing != 0 ? EDDY_EBUSY : 0);
}

static void test_random_ops_against_model(void **state) {
  eddy_loop_t loop;
  int step, i;

  (void)state;
  srand(7);
  memset(model, 0, sizeof(model));
  model_seq = model_now = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  loop.priv.core.time = loop.priv.timers.base + MODEL_EPOCH; /* model time 0 */
  for (step = 0; step < 20000; step++) {
    int op = rand() % 100;
    i = rand() % MODEL_N;
    if (op < 5) {
      model_now += (uint64_t)(rand() % 8);
      model_run_phase(&loop);
    } else if (op < 8) {
      model_close_phase(&loop);
    } else if (model[i].state == M_FREE) {
      assert_int_equal(eddy_timer_init(&loop, &model_timers[i]), 0);
      model[i].state = M_STOPPED;
    } else if (model[i].state == M_CLOSING) {
      continue;
    } else if (op < 55) {
      uint64_t timeout = (uint64_t)(rand() % 20);
      model[i].repeat = rand() % 4 == 0 ? 1 + (uint64_t)(rand() % 5) : 0;
      assert_int_equal(eddy_timer_start(&model_timers[i], model_cb, timeout,
                                        model[i].repeat),
                       0);
      model[i].state = M_ACTIVE;
      model[i].due = model_now + timeout;
      model[i].seq = model_seq++;
    } else if (op < 85) {
      assert_int_equal(eddy_timer_stop(&model_timers[i]), 0);
      model[i].state = M_STOPPED;
    } else {
      eddy_close(&model_timers[i].handle, model_close_cb);
      model[i].state = M_CLOSING;
    }
    if (step % 97 == 0)
      model_check(&loop);
  }
  model_check(&loop);
  assert_true(model_seq > 5000); /* the mix kept timers busy */
  test_teardown_loop(&loop);
}

/* When the start sequence runs out, live timers are renumbered in order:
 * ties still fire in start order across the wrap, also for timers started
 * during the timers phase. */
static struct test_log wrap_log;
static eddy_timer_t wrap_timers[8];
static void wrap_cb(eddy_timer_t *t) {
  test_log_printf(&wrap_log, "%d ", (int)(t - wrap_timers));
}
static void wrap_starter(eddy_timer_t *t) {
  int i;
  /* Started inside the phase, across the wrap: deferred, then renumbered. */
  t->handle.loop->priv.timers.seq = ((uint64_t)1 << EDDY__TIMER_SEQ_BITS) - 2;
  for (i = 4; i < 8; i++)
    eddy_timer_start(&wrap_timers[i], wrap_cb, 0, 0);
}

static void test_sequence_wrap_keeps_order(void **state) {
  eddy_loop_t loop;
  eddy_timer_t starter;
  int i;

  (void)state;
  wrap_log.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < 8; i++)
    eddy_timer_init(&loop, &wrap_timers[i]);
  eddy_timer_init(&loop, &starter);
  loop.priv.timers.seq = ((uint64_t)1 << EDDY__TIMER_SEQ_BITS) - 2;
  for (i = 0; i < 4; i++) /* two before the wrap, two after */
    assert_int_equal(eddy_timer_start(&wrap_timers[i], wrap_cb, 5, 0), 0);
  assert_true(loop.priv.timers.seq < 100); /* renumbered */
  assert_int_equal(eddy_timer_start(&starter, wrap_starter, 0, 0), 0);
  test_busy_wait_ms(6);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  wrap_log.buf[wrap_log.len] = '\0';
  assert_string_equal(wrap_log.buf, "0 1 2 3 4 5 6 7 ");
  test_teardown_loop(&loop);
}

/* A timer started during the timers phase and stopped before the phase
 * ends never runs; one started and restarted keeps its latest timeout. */
static eddy_timer_t deferred_a, deferred_b;
static void deferred_starter(eddy_timer_t *t) {
  (void)t;
  eddy_timer_start(&deferred_a, count_cb, 0, 0);
  eddy_timer_start(&deferred_b, count_cb, 0, 0);
  eddy_timer_stop(&deferred_a);
  eddy_timer_start(&deferred_b, count_cb, 40, 0);
  assert_int_equal(eddy_timer_get_due_in(&deferred_b), 40);
}

static void test_deferred_stop_and_restart(void **state) {
  eddy_loop_t loop;
  eddy_timer_t starter;

  (void)state;
  fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &starter);
  eddy_timer_init(&loop, &deferred_a);
  eddy_timer_init(&loop, &deferred_b);
  eddy_timer_start(&starter, deferred_starter, 0, 0);
  eddy_run(&loop, EDDY_RUN_ONCE);
  assert_false(eddy_is_active(&deferred_a.handle));
  assert_true(eddy_is_active(&deferred_b.handle));
  assert_int_equal(fired, 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fired, 1);
  test_teardown_loop(&loop);
}

/* A callback that blocks must not make later timers later still: the poll
 * phase after it sleeps only what is left until the next timer, counted
 * from the clock, not from the time cached before the callback ran. Seen
 * where it is decided: in the prepare phase right after a 40 ms interval's
 * callback that took 30 ms, the poll phase is to sleep at most the 10 ms
 * left (the clock only moves on, so this holds however slow the machine),
 * not the 40 ms the cached time would give. */
static int prepare_after_slow;
static int prepare_timeout_seen;

static void slow_interval_cb(eddy_timer_t *t) {
  (void)t;
  test_busy_wait_ms(30);
  prepare_after_slow = 1;
}

static void prepare_sees_timeout(eddy_prepare_t *p) {
  if (!prepare_after_slow)
    return;
  prepare_timeout_seen = eddy_backend_timeout(p->handle.loop);
  eddy_stop(p->handle.loop);
}

static void test_poll_sleeps_what_is_left(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;
  eddy_prepare_t p;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_prepare_init(&loop, &p), 0);
  prepare_after_slow = 0;
  prepare_timeout_seen = -2;
  assert_int_equal(eddy_timer_start(&t, slow_interval_cb, 40, 40), 0);
  assert_int_equal(eddy_prepare_start(&p, prepare_sees_timeout), 0);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  assert_true(prepare_timeout_seen >= 0 && prepare_timeout_seen <= 10);
  test_teardown_loop(&loop);
}

static void poll_never(eddy_poll_t *p, int status, int events) {
  (void)p;
  (void)status;
  (void)events;
  fail();
}

static void timer_never(eddy_timer_t *t) {
  (void)t;
  fail();
}

static void idle_never(eddy_idle_t *i) {
  (void)i;
  fail();
}

/* eddy_backend_timeout: -1 with only I/O to wait for, 0 with nothing to
 * wait for or something to run, else what is left until the timer. */
static void test_backend_timeout(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;
  eddy_idle_t idle;
  eddy_poll_t poll;
  int fds[2];
  int ms;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_backend_timeout(&loop), 0); /* not alive */
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_poll_init(&loop, &poll, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&poll, EDDY_READABLE, poll_never), 0);
  assert_int_equal(eddy_backend_timeout(&loop), -1);
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, timer_never, 5000, 0), 0);
  ms = eddy_backend_timeout(&loop);
  assert_true(ms > 4000 && ms <= 5000);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, idle_never), 0);
  assert_int_equal(eddy_backend_timeout(&loop), 0);
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_start_stop_errors),
      cmocka_unit_test(test_huge_timeout_saturates),
      cmocka_unit_test(test_repeat_get_set_and_again),
      cmocka_unit_test(test_order_by_due_then_start),
      cmocka_unit_test(test_zero_timer_from_timer_runs_next_iteration),
      cmocka_unit_test(test_interval_rearmed_from_callback_start),
      cmocka_unit_test(test_close_in_own_callback),
      cmocka_unit_test(test_stop_other_due_timer),
      cmocka_unit_test(test_unref_timer_fires_while_loop_alive),
      cmocka_unit_test(test_heap_stress),
      cmocka_unit_test(test_heap_stress_big),
      cmocka_unit_test(test_walk_visits_every_open_timer),
      cmocka_unit_test(test_loop_close_busy_with_unstarted_timer),
      cmocka_unit_test(test_closing_timer_keeps_no_repeat),
      cmocka_unit_test(test_random_ops_against_model),
      cmocka_unit_test(test_sequence_wrap_keeps_order),
      cmocka_unit_test(test_deferred_stop_and_restart),
      cmocka_unit_test(test_poll_sleeps_what_is_left),
      cmocka_unit_test(test_backend_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
