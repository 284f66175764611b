/* event_order.c: why a blocked loop prints B, E, A, D, C.
 *
 * The program schedules A with a 0 ms timer, prints B, schedules C at
 * 100 ms and D at 0 ms, then busy-loops on the loop thread for half a
 * second and prints E. Output:
 *
 *   B
 *   E
 *   A
 *   D
 *   C
 *
 * Why: timers only run when the loop gets to its timers phase, and the loop
 * is not running while the program's own code runs: B and E are printed
 * synchronously, so they come first, however long the busy loop takes.
 * When eddy_run starts, all three timeouts are overdue (even C: 500 ms have
 * passed). The timers phase runs every due timeout in order of due time,
 * and those with the same due time in the order they were set: A and D
 * were both due 1 ms after they were set (0 ms means 1, as in Node; A was
 * set first), C 100 ms after. A timer is a
 * lower bound on the delay, never a promise: the busy loop delayed all of
 * them (Node's setTimeout behaves the same way).
 *
 * Exit status 0 if the order was B E A D C. */
#include <eddy.h>
#include <stdio.h>
#include <string.h>

static char order[16];

static void note(const char *what) {
  printf("%s\n", what);
  strncat(order, what, sizeof(order) - strlen(order) - 1);
}

static void on_timeout(eddy_timeout_t *t) {
  note(t->data);
}

/* setTimeout(note(name), ms), with Node's rules (eddy/timers_node.h). */
static void schedule(eddy_loop_t *loop, eddy_timeout_t *t, const char *name,
                     uint64_t ms) {
  t->data = (void *)name;
  eddy_set_timeout(loop, t, on_timeout, ms);
}

int main(void) {
  eddy_loop_t loop;
  eddy_timeout_t a = {0}, c = {0}, d = {0};
  uint64_t until;

  if (eddy_loop_init(&loop) != 0)
    return 1;
  schedule(&loop, &a, "A", 0);
  note("B");
  schedule(&loop, &c, "C", 100);
  schedule(&loop, &d, "D", 0);
  until = eddy_hrtime() + 500 * 1000000ull; /* busy for ~0.5 s */
  while (eddy_hrtime() < until)
    ;
  note("E");
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0)
    return 1;
  return strcmp(order, "BEADC") == 0 ? 0 : 1;
}
