/* bench/redis/eddy.c: the eddy side of the Redis benchmarks (see
 * common.h for the modes). */
#include <eddy.h>

#include "common.h"

static eddy_loop_t loop;
static eddy_redis_t cli, writer;
static struct bench_redis_args args;
static double t_start, t_end, t_measure, t_stop;
static unsigned long long ops, measured_ops;
static int errs, in_batch, measuring;
static const char *get_argv[] = {"GET", BENCH_KEY};
static const char *set_argv[] = {"SET", BENCH_KEY, BENCH_VALUE};

static void finish(void) {
  t_stop = bench_now();
  eddy_redis_close(&cli, NULL);
  if (args.cache)
    eddy_redis_close(&writer, NULL);
}

/* Warm-up ends at t_measure; the figure counts from there. */
static int tick_clock(void) {
  double now = bench_now();

  if (!measuring && now >= t_measure) {
    measuring = 1;
    measured_ops = 0;
    t_start = now;
  }
  return now < t_end;
}

/* ---- rtt and pipelineN --------------------------------------------------- */

static void send_batch(void);

static void on_reply(eddy_redis_t *r, int status, const eddy_resp_node_t *rep,
                     void *arg) {
  (void)r;
  (void)arg;
  if (status != 0 || eddy_resp_is_error(rep))
    errs++;
  ops++;
  measured_ops++;
  if (--in_batch > 0)
    return;
  if (tick_clock())
    send_batch();
  else
    finish();
}

static void send_batch(void) {
  int i;

  for (i = 0; i < args.depth; i++) {
    int set = args.depth > 1 && (i & 1) == 0;
    if (eddy_redis_command(&cli, set ? 3 : 2, set ? set_argv : get_argv, NULL,
                           on_reply, NULL) != 0)
      errs++;
    else
      in_batch++;
  }
}

/* ---- cache --------------------------------------------------------------- */

static int phase; /* 0: uncached GETs, 1: cached hits, 2: invalidations */
static double uncached_rate, cached_rate;
static double delays[4096];
static int ndelays, want_delays;
static uint64_t write_ns;
static void next_phase(void);
static void fill_then_write(void);

static void on_plain(eddy_redis_t *r, int status, const eddy_resp_node_t *rep,
                     void *arg) {
  (void)r;
  (void)arg;
  if (status != 0 || rep->type != EDDY_RESP_BULK)
    errs++;
  measured_ops++;
  if (tick_clock())
    eddy_redis_command(&cli, 2, get_argv, NULL, on_plain, NULL);
  else
    next_phase();
}

static void on_cached(eddy_redis_t *r, int status, const eddy_resp_node_t *rep,
                      void *arg) {
  (void)r;
  (void)arg;
  if (status != 0 || rep->type != EDDY_RESP_BULK || rep->len != 3)
    errs++;
  measured_ops++;
  /* the clock is read once per 256 hits: a hit costs less than reading it */
  if ((measured_ops & 255) != 0 || tick_clock())
    eddy_redis_cached(&cli, 2, get_argv, NULL, on_cached, NULL);
  else
    next_phase();
}

static void on_invalidate(eddy_redis_t *r, const char *key, size_t len) {
  (void)r;
  (void)key;
  (void)len;
  if (phase != 2 || write_ns == 0)
    return;
  delays[ndelays++] = (double)(eddy_hrtime() - write_ns) / 1000.0;
  write_ns = 0;
  if (ndelays == want_delays)
    next_phase();
  else
    fill_then_write();
}

static void on_fill(eddy_redis_t *r, int status, const eddy_resp_node_t *rep,
                    void *arg) {
  eddy_redis_stats_t st;

  (void)arg;
  if (status != 0 || rep->type != EDDY_RESP_BULK)
    errs++;
  eddy_redis_get_stats(r, &st);
  if (st.cache_entries != 1) { /* not cached yet: read again */
    fill_then_write();
    return;
  }
  write_ns = eddy_hrtime();
  eddy_redis_command(&writer, 3, set_argv, NULL, NULL, NULL);
}

static void fill_then_write(void) {
  eddy_redis_cached(&cli, 2, get_argv, NULL, on_fill, NULL);
}

static void start_timed(double seconds) {
  double now = bench_now();

  measuring = 0;
  measured_ops = 0;
  t_measure = now + seconds / 10;
  t_end = t_measure + seconds;
}

static void next_phase(void) {
  double now = bench_now();

  switch (phase++) {
  case 0:
    uncached_rate = (double)measured_ops / (now - t_start);
    start_timed(args.seconds);
    eddy_redis_cached(&cli, 2, get_argv, NULL, on_cached, NULL);
    break;
  case 1:
    cached_rate = (double)measured_ops / (now - t_start);
    fill_then_write();
    break;
  default:
    finish();
  }
}

static void on_event(eddy_redis_t *r, const eddy_redis_event_t *ev) {
  static int ready;

  (void)r;
  if (ev->type == EDDY_REDIS_EV_DISCONNECTED) {
    fprintf(stderr, "disconnected: %s\n", eddy_strerror(ev->status));
    errs++;
    eddy_stop(&loop);
    return;
  }
  if (ev->type != EDDY_REDIS_EV_READY || ++ready < (args.cache ? 2 : 1))
    return;
  start_timed(args.seconds);
  if (args.cache)
    eddy_redis_command(&cli, 2, get_argv, NULL, on_plain, NULL);
  else
    send_batch();
}

int main(int argc, char **argv) {
  eddy_redis_options_t o;
  args = bench_redis_parse(argc, argv);
  want_delays = args.seconds < 1 ? 100 : 1000;
  eddy_loop_init(&loop);
  eddy_redis_options_init(&o);
  o.on_event = on_event;
  o.no_reconnect = 1;
  if (args.cache) {
    eddy_redis_init(&loop, &writer, &o);
    eddy_redis_connect(&writer, "127.0.0.1", args.port);
    o.cache_mode = EDDY_REDIS_CACHE_DEFAULT;
    o.on_invalidate = on_invalidate;
  }
  eddy_redis_init(&loop, &cli, &o);
  eddy_redis_cmd(&cli, NULL, NULL, "SET", BENCH_KEY, BENCH_VALUE, NULL);
  eddy_redis_connect(&cli, "127.0.0.1", args.port);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0)
    errs++;
  if (args.cache) {
    qsort(delays, (size_t)ndelays, sizeof(double), bench_cmp_double);
    printf("uncached_gets_per_s=%.0f\n", uncached_rate);
    printf("gets_per_s=%.0f\n", cached_rate);
    printf("cached_over_uncached=%.1f\n",
           uncached_rate > 0 ? cached_rate / uncached_rate : 0);
    if (ndelays > 0) {
      printf("inval_p50_us=%.1f\n", delays[ndelays / 2]);
      printf("inval_p99_us=%.1f\n", delays[(ndelays * 99) / 100]);
      printf("invalidations=%d\n", ndelays);
    } else {
      errs++;
    }
  } else {
    printf("ops_per_s=%.0f\n", (double)measured_ops / (t_stop - t_start));
  }
  printf("version=%s\n", eddy_version_string());
  printf("errors=%d\n", errs);
  return errs != 0;
}
