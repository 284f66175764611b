/* tick_order.c: process.nextTick, queueMicrotask, setImmediate and
 * setTimeout, queued from one callback: in which order do they run?
 *
 * The program does what this Node script does (inside a timer callback,
 * so that the order is fixed; from the main script the order of the last
 * two lines would depend on timing, see immediate_vs_timeout.c):
 *
 *   const log = console.log;
 *   setTimeout(() => {
 *     log('timer: start');
 *     setTimeout(() => log('setTimeout 0'), 0);
 *     setImmediate(() => log('setImmediate'));
 *     queueMicrotask(() => {
 *       log('microtask 1');
 *       process.nextTick(() => log('nextTick 4 (from microtask 1)'));
 *       queueMicrotask(() => log('microtask 2 (from microtask 1)'));
 *     });
 *     process.nextTick(() => {
 *       log('nextTick 1');
 *       process.nextTick(() => log('nextTick 3 (from nextTick 1)'));
 *     });
 *     process.nextTick(() => log('nextTick 2'));
 *     log('timer: end');
 *   }, 0);
 *
 * and prints what Node 20 prints:
 *
 *   timer: start
 *   timer: end
 *   nextTick 1
 *   nextTick 2
 *   nextTick 3 (from nextTick 1)
 *   microtask 1
 *   microtask 2 (from microtask 1)
 *   nextTick 4 (from microtask 1)
 *   setImmediate
 *   setTimeout 0
 *
 * Why: the callback runs to its end first; nothing interrupts it. When it
 * returns, the loop drains the next-tick queue (eddy_next_tick), including
 * ticks queued while draining (nextTick 3), then the microtask queue
 * (eddy_queue_microtask), including microtasks queued while draining
 * (microtask 2), and repeats while either has work: nextTick 4, queued by a
 * microtask, waits until the microtask queue is empty. Only then does the
 * loop move on: the check phase of this same iteration runs setImmediate
 * (eddy_set_immediate), and the timeout (eddy_set_timeout: 0 ms becomes
 * 1 ms, as in Node), set during the timers phase, runs in a later one.
 *
 * Exit status 0 when the order is exactly the one above. */
#include <eddy.h>
#include <stdio.h>
#include <string.h>

static const char *const expected[] = {
    "timer: start",
    "timer: end",
    "nextTick 1",
    "nextTick 2",
    "nextTick 3 (from nextTick 1)",
    "microtask 1",
    "microtask 2 (from microtask 1)",
    "nextTick 4 (from microtask 1)",
    "setImmediate",
    "setTimeout 0",
};
#define EXPECTED (sizeof(expected) / sizeof(expected[0]))

static const char *seen[EXPECTED + 8];
static size_t nseen;
static eddy_timeout_t outer, timeout0;
static eddy_immediate_t immediate;

/* console.log, and remember the line to compare at the end. */
static void log_line(const char *line) {
  printf("%s\n", line);
  if (nseen < sizeof(seen) / sizeof(seen[0]))
    seen[nseen++] = line;
}

/* A task that only logs its argument. */
static void log_task(eddy_loop_t *loop, void *arg) {
  (void)loop;
  log_line(arg);
}

static void on_microtask1(eddy_loop_t *loop, void *arg) {
  (void)arg;
  log_line("microtask 1");
  eddy_next_tick(loop, log_task, "nextTick 4 (from microtask 1)");
  eddy_queue_microtask(loop, log_task, "microtask 2 (from microtask 1)");
}

static void on_tick1(eddy_loop_t *loop, void *arg) {
  (void)arg;
  log_line("nextTick 1");
  eddy_next_tick(loop, log_task, "nextTick 3 (from nextTick 1)");
}

static void on_immediate(eddy_immediate_t *im) {
  (void)im;
  log_line("setImmediate");
}

static void on_timeout0(eddy_timeout_t *t) {
  (void)t;
  log_line("setTimeout 0");
}

static void on_outer(eddy_timeout_t *t) {
  eddy_loop_t *loop = t->loop;

  log_line("timer: start");
  eddy_set_timeout(loop, &timeout0, on_timeout0, 0);
  eddy_set_immediate(loop, &immediate, on_immediate);
  eddy_queue_microtask(loop, on_microtask1, NULL);
  eddy_next_tick(loop, on_tick1, NULL);
  eddy_next_tick(loop, log_task, "nextTick 2");
  log_line("timer: end");
}

int main(void) {
  eddy_loop_t loop;
  size_t i;
  int ok;

  if (eddy_loop_init(&loop) != 0 ||
      eddy_set_timeout(&loop, &outer, on_outer, 0) != 0)
    return 1;
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  ok = eddy_loop_close(&loop) == 0 && nseen == EXPECTED;
  for (i = 0; ok && i < EXPECTED; i++)
    ok = strcmp(seen[i], expected[i]) == 0;
  if (!ok)
    fprintf(stderr, "tick_order: not the order Node prints\n");
  return ok ? 0 : 1;
}
