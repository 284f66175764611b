/* bench/redis/hiredis.c: the hiredis side of the Redis benchmarks (rtt and
 * pipelineN, see common.h): hiredis's async API on its libev adapter, the
 * pairing Debian ships (libhiredis-dev 0.14, libev-dev). */
#include <ev.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common.h"

static struct bench_redis_args args;
static redisAsyncContext *ctx;
static double t_start, t_end, t_measure, t_stop;
static unsigned long long measured_ops;
static int errs, in_batch, measuring, done;

static int tick_clock(void) {
  double now = bench_now();

  if (!measuring && now >= t_measure) {
    measuring = 1;
    measured_ops = 0;
    t_start = now;
  }
  return now < t_end;
}

static void send_batch(void);

static void on_reply(redisAsyncContext *c, void *r, void *priv) {
  redisReply *reply = r;

  (void)c;
  (void)priv;
  if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
    errs++;
  measured_ops++;
  if (--in_batch > 0 || done)
    return;
  if (tick_clock()) {
    send_batch();
  } else {
    done = 1;
    t_stop = bench_now();
    redisAsyncDisconnect(ctx);
  }
}

static void send_batch(void) {
  int i;

  for (i = 0; i < args.depth; i++) {
    int rc;
    if (args.depth > 1 && (i & 1) == 0)
      rc = redisAsyncCommand(ctx, on_reply, NULL, "SET %s %s", BENCH_KEY,
                             BENCH_VALUE);
    else
      rc = redisAsyncCommand(ctx, on_reply, NULL, "GET %s", BENCH_KEY);
    if (rc != REDIS_OK)
      errs++;
    else
      in_batch++;
  }
}

static void on_connect(const redisAsyncContext *c, int status) {
  (void)c;
  if (status != REDIS_OK) {
    fprintf(stderr, "connect: %s\n", c->errstr);
    errs++;
    return;
  }
}

static void on_disconnect(const redisAsyncContext *c, int status) {
  (void)c;
  if (status != REDIS_OK && !done) {
    fprintf(stderr, "disconnect: %s\n", c->errstr);
    errs++;
  }
}

static void on_set(redisAsyncContext *c, void *r, void *priv) {
  double now = bench_now();

  (void)c;
  (void)priv;
  if (r == NULL)
    errs++;
  t_measure = now + args.seconds / 10;
  t_end = t_measure + args.seconds;
  send_batch();
}

int main(int argc, char **argv) {
  struct ev_loop *loop = EV_DEFAULT;

  args = bench_redis_parse(argc, argv);
  if (args.cache) {
    fprintf(stderr, "hiredis 0.14 has no RESP3: no cache mode\n");
    return 2;
  }
  ctx = redisAsyncConnect("127.0.0.1", args.port);
  if (ctx == NULL || ctx->err) {
    fprintf(stderr, "connect failed\n");
    return 1;
  }
  redisLibevAttach(loop, ctx);
  redisAsyncSetConnectCallback(ctx, on_connect);
  redisAsyncSetDisconnectCallback(ctx, on_disconnect);
  redisAsyncCommand(ctx, on_set, NULL, "SET %s %s", BENCH_KEY, BENCH_VALUE);
  ev_run(loop, 0);
  if (t_stop > t_start)
    printf("ops_per_s=%.0f\n", (double)measured_ops / (t_stop - t_start));
  else
    errs++;
  printf("version=%d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
  printf("errors=%d\n", errs);
  return errs != 0;
}
