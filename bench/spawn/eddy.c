/* spawn, eddy side: start /bin/true and wait for it, one child at a time,
 * 2,000 times by default (argv[1] overrides). Each exit callback starts the
 * next child, so the figure is the whole round trip: spawn, exit, SIGCHLD,
 * reap, callback.
 * Verifies: every child exited with status 0 and no signal, every handle
 * closed, the loop closes cleanly. Exits 1 if any check fails.
 * Output: impl, n, wall_s, spawns_per_s (higher is better). */
#include <eddy.h>

#include "../common.h"

static long n, started, exited, bad;
static eddy_process_options_t options;
static char *args[] = {"/bin/true", NULL};

static void start_one(eddy_loop_t *loop);

static void on_closed(eddy_handle_t *h) {
  free(h);
}

static void on_exit_cb(eddy_process_t *p, int64_t status, int sig) {
  if (status != 0 || sig != 0) bad++;
  exited++;
  eddy_close(&p->handle, on_closed);
  if (started < n) start_one(p->handle.loop);
}

static void start_one(eddy_loop_t *loop) {
  eddy_process_t *p = malloc(sizeof(*p));

  if (p == NULL || eddy_spawn(loop, p, &options) != 0) {
    free(p);
    bad++;
    return;
  }
  started++;
}

int main(int argc, char **argv) {
  eddy_loop_t loop;
  eddy_stdio_container_t stdio[3];
  double w0, w1;
  long errs = 0;
  int i;

  n = bench_arg_long(argc, argv, 2000);
  for (i = 0; i < 3; i++) {
    stdio[i].flags = EDDY_INHERIT_FD; /* as the uv side: no pipes */
    stdio[i].data.fd = i;
  }
  options.file = args[0];
  options.args = args;
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = on_exit_cb;
  if (eddy_loop_init(&loop) != 0) return 1;
  w0 = bench_now();
  start_one(&loop);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  w1 = bench_now();
  BENCH_CHECK(exited == n, errs);
  BENCH_CHECK(bad == 0, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nn=%ld\nwall_s=%.4f\nspawns_per_s=%.0f\n", n, w1 - w0,
         (double)n / (w1 - w0));
  return errs ? 1 : 0;
}
