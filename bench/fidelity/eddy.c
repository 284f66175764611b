/* fidelity, eddy side: does the loop keep Node's timing and ordering?
 * Not a speed benchmark: each mode prints what Node prints for the same
 * program (bench/fidelity/node.js), and run.sh compares the two.
 *
 *   interval PERIOD BUSY   a repeating PERIOD ms timer whose callback
 *                          blocks BUSY ms; prints the first 5 start times
 *                          (ms since the timer was armed)
 *   behind                 a 5 ms timer that blocks 50 ms and a 10 ms
 *                          timer armed with it; prints when the 10 ms one
 *                          ran (ms)
 *   exit_order N           N times, a child writes a line, closes its
 *                          stdout and exits; prints how many times the
 *                          exit was reported before the end of its output
 * Uses only the libuv-style API (timers, spawn, pipes), so it also builds
 * against older eddy trees for before/after figures. */
#include <eddy.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t t0;

static double ms_since_start(void) {
  return (double)(eddy_hrtime() - t0) / 1e6;
}

static void busy_ms(unsigned ms) {
  uint64_t end = eddy_hrtime() + (uint64_t)ms * 1000000u;

  while (eddy_hrtime() < end) {
  }
}

/* ---- interval ---------------------------------------------------------- */

static unsigned busy, ticks;
static double starts[5];

static void on_interval(eddy_timer_t *t) {
  starts[ticks++] = ms_since_start();
  if (ticks == 5) {
    eddy_close(&t->handle, NULL);
    return;
  }
  busy_ms(busy);
}

static int run_interval(unsigned period, unsigned busy_for) {
  eddy_loop_t loop;
  eddy_timer_t t;
  unsigned i;

  busy = busy_for;
  if (eddy_loop_init(&loop) != 0 || eddy_timer_init(&loop, &t) != 0)
    return 1;
  t0 = eddy_hrtime();
  eddy_update_time(&loop);
  eddy_timer_start(&t, on_interval, period, period);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  for (i = 0; i < 5; i++)
    printf("%s%.0f", i ? " " : "", starts[i]);
  printf("\n");
  return eddy_loop_close(&loop) != 0;
}

/* ---- behind ------------------------------------------------------------ */

static double fired_at;

static void on_blocker(eddy_timer_t *t) {
  busy_ms(50);
  eddy_close(&t->handle, NULL);
}

static void on_late(eddy_timer_t *t) {
  fired_at = ms_since_start();
  eddy_close(&t->handle, NULL);
}

static int run_behind(void) {
  eddy_loop_t loop;
  eddy_timer_t a, b;

  if (eddy_loop_init(&loop) != 0 || eddy_timer_init(&loop, &a) != 0 ||
      eddy_timer_init(&loop, &b) != 0)
    return 1;
  t0 = eddy_hrtime();
  eddy_update_time(&loop);
  eddy_timer_start(&a, on_blocker, 5, 0);
  eddy_timer_start(&b, on_late, 10, 0);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  printf("%.0f\n", fired_at);
  return eddy_loop_close(&loop) != 0;
}

/* ---- exit_order -------------------------------------------------------- */

struct child {
  eddy_process_t proc;
  eddy_pipe_t out;
  int eof_seen, exit_seen, exit_first;
};

static void on_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char space[256];

  (void)h;
  (void)size;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void on_out(eddy_stream_t *s, ssize_t n, const eddy_buf_t *buf) {
  struct child *c = s->handle.data;

  (void)buf;
  if (n < 0) {
    c->eof_seen = 1;
    eddy_close(&s->handle, NULL);
  }
}

static void on_exit_cb(eddy_process_t *p, int64_t status, int sig) {
  struct child *c = p->handle.data;

  (void)status;
  (void)sig;
  c->exit_seen = 1;
  c->exit_first = !c->eof_seen;
  eddy_close(&p->handle, NULL);
}

static int run_exit_order(int n) {
  char *args[] = {"sh", "-c", "echo data", NULL};
  int i, early = 0;

  for (i = 0; i < n; i++) {
    eddy_loop_t loop;
    struct child c;
    eddy_stdio_container_t stdio[3];
    eddy_process_options_t o;

    memset(&c, 0, sizeof(c));
    memset(&o, 0, sizeof(o));
    if (eddy_loop_init(&loop) != 0 || eddy_pipe_init(&loop, &c.out, 0) != 0)
      return 1;
    stdio[0].flags = EDDY_IGNORE;
    stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
    stdio[1].data.stream = &c.out.stream;
    stdio[2].flags = EDDY_INHERIT_FD;
    stdio[2].data.fd = 2;
    o.file = "sh";
    o.args = args;
    o.exit_cb = on_exit_cb;
    o.stdio = stdio;
    o.stdio_count = 3;
    c.proc.handle.data = &c;
    c.out.stream.handle.data = &c;
    if (eddy_spawn(&loop, &c.proc, &o) != 0 ||
        eddy_read_start(&c.out.stream, on_alloc, on_out) != 0)
      return 1;
    eddy_run(&loop, EDDY_RUN_DEFAULT);
    if (!c.exit_seen || !c.eof_seen || eddy_loop_close(&loop) != 0)
      return 1;
    early += c.exit_first;
  }
  printf("%d of %d\n", early, n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "interval") == 0)
    return run_interval((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
  if (argc >= 2 && strcmp(argv[1], "behind") == 0)
    return run_behind();
  if (argc >= 3 && strcmp(argv[1], "exit_order") == 0)
    return run_exit_order(atoi(argv[2]));
  fprintf(stderr, "usage: %s interval PERIOD BUSY | behind | exit_order N\n",
          argv[0]);
  return 2;
}
