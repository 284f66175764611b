/* spawn, libuv side: start /bin/true and wait for it, one child at a time,
 * 2,000 times by default (argv[1] overrides). Each exit callback starts the
 * next child.
 * Verifies: every child exited with status 0 and no signal, every handle
 * closed, the loop closes cleanly. Exits 1 if any check fails.
 * Output: impl, version, n, wall_s, spawns_per_s (higher is better). */
#include <stdlib.h>
#include <uv.h>

#include "../common.h"

static long n, started, exited, bad;
static uv_process_options_t options;
static char *args[] = {"/bin/true", NULL};

static void start_one(uv_loop_t *loop);

static void on_closed(uv_handle_t *h) {
  free(h);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig) {
  if (status != 0 || sig != 0) bad++;
  exited++;
  uv_close((uv_handle_t *)p, on_closed);
  if (started < n) start_one(p->loop);
}

static void start_one(uv_loop_t *loop) {
  uv_process_t *p = malloc(sizeof(*p));

  if (p == NULL) {
    bad++;
    return;
  }
  if (uv_spawn(loop, p, &options) != 0) {
    uv_close((uv_handle_t *)p, on_closed); /* libuv needs the close */
    bad++;
    return;
  }
  started++;
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  uv_stdio_container_t stdio[3];
  double w0, w1;
  long errs = 0;
  int i;

  n = bench_arg_long(argc, argv, 2000);
  for (i = 0; i < 3; i++) {
    stdio[i].flags = UV_INHERIT_FD;
    stdio[i].data.fd = i;
  }
  options.file = args[0];
  options.args = args;
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = on_exit_cb;
  if (uv_loop_init(&loop) != 0) return 1;
  w0 = bench_now();
  start_one(&loop);
  uv_run(&loop, UV_RUN_DEFAULT);
  w1 = bench_now();
  BENCH_CHECK(exited == n, errs);
  BENCH_CHECK(bad == 0, errs);
  BENCH_CHECK(uv_loop_close(&loop) == 0, errs);
  printf("impl=uv\nversion=%s\nn=%ld\nwall_s=%.4f\nspawns_per_s=%.0f\n",
         uv_version_string(), n, w1 - w0, (double)n / (w1 - w0));
  return errs ? 1 : 0;
}
