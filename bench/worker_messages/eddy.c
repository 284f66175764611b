/* worker_messages, eddy side: messages between the main loop and one
 * worker thread (node.js is the peer, on worker_threads). Measures, in
 * one run: one-way small messages/s (N 8-byte messages, worker to main),
 * ping-pong round trips/s, transfers/s of 1 KiB and of 1 MiB buffers
 * (moved, not copied, each way round a ping-pong), worker start to first
 * message (ms, median of 20), and RSS added per idle worker (KiB, 20
 * workers). argv[1]: N (default 1,000,000).
 * Verifies: every message arrived, in order, with its length; the loops
 * close cleanly. Exits 1 if any check fails.
 * Output: impl, then key=value lines (higher is better except ms, KiB). */
#include <eddy.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common.h"

static long n = 1000000;
static long got, rounds;
static int mode; /* 0 one-way, 1 ping-pong, 2 transfer */
static eddy_worker_t w;
static double t0, t1;
static size_t want_len;
static int bad; /* a check failed: exit 1 */

static void worker_msg(eddy_port_t *port, eddy_port_message_t *m) {
  eddy_buf_t buf;

  if (m->bufs[0].len == 1 && *(char *)m->bufs[0].base == 'q') {
    eddy_close(&port->handle, NULL);
    return;
  }
  if (m->bufs[0].len == 1 && *(char *)m->bufs[0].base == 'o') {
    long i;
    uint64_t v = 1;

    for (i = 0; i < n;) {
      buf = eddy_buf_init(&v, sizeof(v));
      if (eddy_port_post(port, &buf, 0) == 0) {
        i++;
        v++;
      }
      else
        eddy_run(eddy_worker_loop(eddy_worker_self()), EDDY_RUN_NOWAIT);
    }
    return;
  }
  if (mode == 2) {
    buf.len = m->bufs[0].len;
    buf.base = eddy_port_message_take(m, 0);
    eddy_port_post(port, &buf, EDDY_PORT_TRANSFER);
  } else {
    eddy_port_post(port, &m->bufs[0], 0);
  }
}

static int entry(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  memcpy(&mode, data->base, sizeof(mode));
  return eddy_port_start(eddy_worker_parent_port(ctx), worker_msg);
}

static void post_char(char c) {
  eddy_buf_t buf = eddy_buf_init(&c, 1);

  eddy_worker_post(&w, &buf, 0);
}

static void on_message(eddy_worker_t *wk, eddy_port_message_t *m) {
  eddy_buf_t buf;

  (void)wk;
  got++;
  if (m->nbufs != 1 || m->bufs[0].len != want_len)
    bad = 1;
  if (mode == 0) {
    uint64_t v;

    memcpy(&v, m->bufs[0].base, sizeof(v));
    if (v != (uint64_t)got)
      bad = 1; /* out of order */
    if (got == n) {
      t1 = bench_now();
      post_char('q');
    }
    return;
  }
  if (got == rounds) {
    t1 = bench_now();
    post_char('q');
    return;
  }
  if (mode == 2) {
    buf.len = m->bufs[0].len;
    buf.base = eddy_port_message_take(m, 0);
    eddy_worker_post(&w, &buf, EDDY_PORT_TRANSFER);
  } else {
    eddy_worker_post(&w, &m->bufs[0], 0);
  }
}

static void on_exit_(eddy_worker_t *wk, int code) {
  (void)code;
  eddy_close(&wk->handle, NULL);
}

static double run(int m, long count, size_t size) {
  eddy_loop_t loop;
  eddy_worker_options_t opts;
  eddy_buf_t data = eddy_buf_init(&m, sizeof(m));

  memset(&opts, 0, sizeof(opts));
  opts.events.message = on_message;
  opts.events.exit = on_exit_;
  mode = m;
  got = 0;
  want_len = m == 2 ? size : sizeof(uint64_t);
  rounds = count;
  eddy_loop_init(&loop);
  eddy_worker_start(&loop, &w, entry, &data, &opts);
  t0 = bench_now();
  if (m == 0) {
    post_char('o');
  } else {
    eddy_buf_t buf;
    uint64_t v = 1;

    if (m == 2) {
      buf.base = calloc(1, size);
      buf.len = size;
      eddy_worker_post(&w, &buf, EDDY_PORT_TRANSFER);
    } else {
      buf = eddy_buf_init(&v, sizeof(v));
      eddy_worker_post(&w, &buf, 0);
    }
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0 || got != (m == 0 ? n : count))
    bad = 1;
  return (m == 0 ? (double)n : (double)count) / (t1 - t0);
}

/* Start to first message. */
static double first_at;
static void first_message(eddy_worker_t *wk, eddy_port_message_t *m) {
  (void)m;
  first_at = bench_now();
  eddy_worker_terminate(wk);
}
static int hello(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  char c = 'h';
  eddy_buf_t buf = eddy_buf_init(&c, 1);

  (void)data;
  return eddy_port_post(eddy_worker_parent_port(ctx), &buf, 0);
}
static int idle(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  (void)data;
  return eddy_port_start(eddy_worker_parent_port(ctx), worker_msg);
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, rss = 0;

  if (f != NULL) {
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
      rss = 0;
    fclose(f);
  }
  return rss * 4;
}

int main(int argc, char **argv) {
  eddy_worker_options_t opts;
  double starts[20];
  static eddy_worker_t idle_workers[20];
  eddy_loop_t loop;
  long before;
  int i;

  if (argc > 1)
    n = atol(argv[1]);
  printf("impl=eddy\nversion=%s\n", eddy_version_string());
  printf("oneway_msgs_per_s=%.0f\n", run(0, n, 0));
  printf("pingpong_rt_per_s=%.0f\n", run(1, n / 10, 0));
  printf("transfer_1k_per_s=%.0f\n", run(2, n / 10, 1024));
  printf("transfer_1m_per_s=%.0f\n", run(2, n / 10, 1 << 20));
  memset(&opts, 0, sizeof(opts));
  opts.events.message = first_message;
  opts.events.exit = on_exit_;
  for (i = 0; i < 20; i++) {
    eddy_loop_init(&loop);
    t0 = bench_now();
    eddy_worker_start(&loop, &w, hello, NULL, &opts);
    eddy_run(&loop, EDDY_RUN_DEFAULT);
    eddy_loop_close(&loop);
    starts[i] = (first_at - t0) * 1000;
  }
  qsort(starts, 20, sizeof(double), cmp);
  printf("start_to_first_ms=%.3f\n", starts[10]);
  eddy_loop_init(&loop);
  memset(&opts, 0, sizeof(opts));
  before = rss_kib();
  for (i = 0; i < 20; i++)
    eddy_worker_start(&loop, &idle_workers[i], idle, NULL, &opts);
  usleep(300000);
  printf("rss_per_idle_worker_kib=%.0f\n", (rss_kib() - before) / 20.0);
  for (i = 0; i < 20; i++)
    eddy_close(&idle_workers[i].handle, NULL);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0)
    bad = 1;
  return bad;
}
