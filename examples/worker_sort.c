/* worker_sort.c: CPU-heavy work off the main loop, on worker threads.
 *
 * A 10 ms interval ticks on the main loop and records its worst lag (how
 * late a tick came). First four workers each sort an array of N random
 * integers (4 million by default, argv[1] to change) and send it back by
 * transfer (no copy); then the main loop sorts the same four arrays
 * itself. Expected output, roughly (the figures depend on the machine):
 *
 *   on 4 workers: 4 arrays of 4000000 sorted in 1900 ms, worst tick lag 2 ms
 *   on the main loop: 4 arrays of 4000000 sorted in 2600 ms, worst tick lag
 * 2600 ms
 *
 * Why: each worker has a loop and a thread of its own, so the main loop
 * stays free to run its timer while they sort; sorting on the main loop
 * blocks it, and the interval waits for the whole sort. The seeds'
 * lesson, in C. Exit status 0 when every array came back sorted. */
#include <eddy.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS 4

static size_t count = 4000000;
static eddy_timer_t ticker;
static uint64_t last_tick, worst_lag;
static eddy_worker_t workers[WORKERS];
static int32_t *arrays[WORKERS];
static int done, failed;

static int compare(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

  return (x > y) - (x < y);
}

static int32_t *random_array(unsigned seed) {
  int32_t *a = malloc(count * sizeof(*a));
  size_t i;

  if (a == NULL)
    return NULL;
  for (i = 0; i < count; i++) {
    seed = seed * 1103515245u + 12345u;
    a[i] = (int32_t)(seed >> 1);
  }
  return a;
}

static int is_sorted(const int32_t *a, size_t n) {
  size_t i;

  for (i = 1; i < n; i++)
    if (a[i - 1] > a[i])
      return 0;
  return 1;
}

static void on_tick(eddy_timer_t *t) {
  uint64_t now = eddy_hrtime() / 1000000;

  if (last_tick != 0 && now - last_tick > 10 &&
      now - last_tick - 10 > worst_lag)
    worst_lag = now - last_tick - 10;
  last_tick = now;
  (void)t;
}

/* Worker: receive an array, sort it, send it back; the worker ends when
 * its parent port closes. */
static void sort_message(eddy_port_t *port, eddy_port_message_t *m) {
  eddy_buf_t buf;

  buf.len = m->bufs[0].len;
  buf.base = eddy_port_message_take(m, 0);
  qsort(buf.base, buf.len / sizeof(int32_t), sizeof(int32_t), compare);
  eddy_port_post(port, &buf, EDDY_PORT_TRANSFER);
  eddy_close(&port->handle, NULL);
}

static int sorter(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  (void)data;
  return eddy_port_start(eddy_worker_parent_port(ctx), sort_message);
}

static void on_sorted(eddy_worker_t *w, eddy_port_message_t *m) {
  int i = (int)(w - workers);

  arrays[i] = eddy_port_message_take(m, 0);
  if (arrays[i] == NULL || !is_sorted(arrays[i], count))
    failed = 1;
}

static void on_exit_(eddy_worker_t *w, int code) {
  if (code != 0)
    failed = 1;
  eddy_close(&w->handle, NULL);
  if (++done == WORKERS)
    eddy_timer_stop(&ticker);
}

int main(int argc, char **argv) {
  eddy_worker_options_t opts;
  eddy_loop_t *loop = eddy_default_loop();
  uint64_t start;
  int i;

  if (argc > 1)
    count = strtoul(argv[1], NULL, 10);
  memset(&opts, 0, sizeof(opts));
  opts.events.message = on_sorted;
  opts.events.exit = on_exit_;
  opts.name = "sorter";
  eddy_timer_init(loop, &ticker);

  start = eddy_hrtime();
  eddy_timer_start(&ticker, on_tick, 10, 10);
  for (i = 0; i < WORKERS; i++) {
    eddy_buf_t buf;

    buf.base = random_array((unsigned)i + 1);
    buf.len = count * sizeof(int32_t);
    if (buf.base == NULL ||
        eddy_worker_start(loop, &workers[i], sorter, NULL, &opts) != 0 ||
        eddy_worker_post(&workers[i], &buf, EDDY_PORT_TRANSFER) != 0)
      return 1;
  }
  eddy_run(loop, EDDY_RUN_DEFAULT);
  printf("on %d workers: %d arrays of %zu sorted in %llu ms, worst tick lag "
         "%llu ms\n",
         WORKERS, WORKERS, count,
         (unsigned long long)((eddy_hrtime() - start) / 1000000),
         (unsigned long long)worst_lag);

  /* The same work on the main loop: the interval cannot run meanwhile. */
  for (i = 0; i < WORKERS; i++) {
    free(arrays[i]);
    arrays[i] = random_array((unsigned)i + 1);
  }
  last_tick = 0;
  worst_lag = 0;
  start = eddy_hrtime();
  eddy_timer_start(&ticker, on_tick, 10, 10);
  eddy_run(loop, EDDY_RUN_NOWAIT);
  for (i = 0; i < WORKERS; i++)
    qsort(arrays[i], count, sizeof(int32_t), compare);
  eddy_run(loop, EDDY_RUN_NOWAIT); /* the tick that waited */
  eddy_timer_stop(&ticker);
  printf("on the main loop: %d arrays of %zu sorted in %llu ms, worst tick "
         "lag %llu ms\n",
         WORKERS, count,
         (unsigned long long)((eddy_hrtime() - start) / 1000000),
         (unsigned long long)worst_lag);
  for (i = 0; i < WORKERS; i++) {
    if (!is_sorted(arrays[i], count))
      failed = 1;
    free(arrays[i]);
  }
  eddy_close(&ticker.handle, NULL);
  eddy_run(loop, EDDY_RUN_DEFAULT);
  return failed;
}
