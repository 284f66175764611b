/* immediate_vs_timeout.c: inside an I/O callback, setImmediate always runs
 * before setTimeout(..., 0).
 *
 * Each round writes a byte into a pipe and waits for it with a poll handle.
 * In the I/O callback it sets a 0 ms timeout (eddy_set_timeout: Node's
 * rules, so 1 ms) and an immediate (eddy_set_immediate). Output,
 * for every one of 5 rounds:
 *
 *   round 0: immediate
 *   round 0: timeout
 *   ...
 *
 * Why: I/O callbacks run in the poll phase. The check phase comes right
 * after poll in the same iteration, while timers are only looked at again
 * at the end of the iteration, after check (and close). So from I/O the
 * order is fixed, however fast the machine. From the main program, before
 * the loop runs, it is not: whether the 0 ms timer is already due at the
 * first timers pass depends on how much time has passed, which is why
 * Node's docs call that order non-deterministic.
 *
 * A pending immediate keeps the poll phase from blocking, as in Node.
 * Exit status 0 if every round printed immediate first. */
#include <eddy.h>
#include <stdio.h>
#include <unistd.h>

#define ROUNDS 5

static int fds[2];
static int round_no, wrong_order, immediate_seen;
static eddy_poll_t io;
static eddy_timeout_t timeout;
static eddy_immediate_t immediate;

static void on_readable(eddy_poll_t *poll, int status, int events);

static void start_round(void) {
  immediate_seen = 0;
  if (write(fds[1], "x", 1) != 1 ||
      eddy_poll_start(&io, EDDY_READABLE, on_readable) != 0)
    wrong_order++;
}

static void on_timeout(eddy_timeout_t *t) {
  (void)t;
  printf("round %d: timeout\n", round_no);
  if (!immediate_seen)
    wrong_order++;
  if (++round_no < ROUNDS) {
    start_round();
  } else {
    eddy_close(&io.handle, NULL);
  }
}

static void on_immediate(eddy_immediate_t *im) {
  (void)im;
  printf("round %d: immediate\n", round_no);
  immediate_seen = 1;
}

static void on_readable(eddy_poll_t *poll, int status, int events) {
  char byte;

  (void)events;
  if (status != 0 || read(fds[0], &byte, 1) != 1)
    wrong_order++;
  eddy_poll_stop(poll);
  eddy_set_timeout(poll->handle.loop, &timeout, on_timeout, 0);
  eddy_set_immediate(poll->handle.loop, &immediate, on_immediate);
}

int main(void) {
  eddy_loop_t loop;

  if (pipe(fds) != 0 || eddy_loop_init(&loop) != 0 ||
      eddy_poll_init(&loop, &io, fds[0]) != 0)
    return 1;
  immediate_seen = 0;
  if (write(fds[1], "x", 1) != 1 ||
      eddy_poll_start(&io, EDDY_READABLE, on_readable) != 0)
    return 1;
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  close(fds[0]);
  close(fds[1]);
  if (eddy_loop_close(&loop) != 0)
    return 1;
  return wrong_order == 0 && round_no == ROUNDS ? 0 : 1;
}
