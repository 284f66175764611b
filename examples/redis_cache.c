/* redis_cache.c: client-side caching, the GET user:1234 story.
 *
 *   redis_cache [HOST:PORT]      (default 127.0.0.1:6379)
 *
 * Two connections to one Redis: a reader with the local cache on (CLIENT
 * TRACKING, RESP3: the server tells it when a key it read changes) and a
 * writer. The story, one line per step:
 *
 *   1. the reader's first GET user:1234 goes to Redis (a miss);
 *   2. the second is answered from the process's own memory (a hit), with
 *      no round trip: a hundred times faster and more;
 *   3. the writer changes user:1234 on its connection; Redis sends the
 *      reader an invalidation for the key, and the entry is dropped;
 *   4. the next GET goes to Redis again and sees the new value;
 *   5. a hit again, then the counters.
 *
 * Expected output (times vary):
 *   1. GET user:1234 -> {"name":"Ada"}  from Redis (miss), 38.2 us
 *   2. GET user:1234 -> {"name":"Ada"}  from the local cache (hit), 0.4 us
 *   3. SET user:1234 by another connection; invalidation of user:1234 seen
 *      after 32 us
 *   4. GET user:1234 -> {"name":"Grace"}  from Redis (miss), 24.5 us
 *   5. GET user:1234 -> {"name":"Grace"}  from the local cache (hit), 0.3 us
 *   hits 2, misses 2, invalidations 1
 * It exits non-zero if any step does not happen as told. */
#include <eddy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static eddy_loop_t loop;
static eddy_redis_t reader, writer;
static int step, failed, have, closed;
static uint64_t t0, write_ns;
static const char *key = "user:1234";

static void next_step(void);

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    failed = 1;
  }
}

/* Step 1 starts once both connections are up and the value is written. */
static void prerequisite(void) {
  if (++have == 3)
    next_step();
}

static void on_event(eddy_redis_t *r, const eddy_redis_event_t *ev) {
  if (ev->type == EDDY_REDIS_EV_READY)
    prerequisite();
  else if (ev->type == EDDY_REDIS_EV_DISCONNECTED ||
           ev->type == EDDY_REDIS_EV_ERROR) {
    fprintf(stderr, "%s: %s (%s)\n", r == &reader ? "reader" : "writer",
            eddy_redis_event_name(ev->type), eddy_strerror(ev->status));
    failed = 1;
    eddy_stop(&loop);
  }
}

/* Step 3's second half: the server's invalidation reached the reader. */
static void on_invalidate(eddy_redis_t *r, const char *k, size_t len) {
  (void)r;
  if (step == 3 && k != NULL && len == strlen(key) &&
      memcmp(k, key, len) == 0) {
    printf("3. SET %s by another connection; invalidation of %s seen "
           "after %llu us\n",
           key, key, (unsigned long long)((eddy_hrtime() - write_ns) / 1000));
    next_step();
  }
}

static void on_get(eddy_redis_t *r, int status, const eddy_resp_node_t *reply,
                   void *arg) {
  eddy_redis_stats_t st;
  const char *want = arg;
  double us = (double)(eddy_hrtime() - t0) / 1000.0;
  static uint64_t last_hits;
  int hit;

  eddy_redis_get_stats(r, &st);
  hit = st.cache_hits > last_hits;
  last_hits = st.cache_hits;
  if (status != 0 || reply->type != EDDY_RESP_BULK) {
    check(0, "GET answered");
    eddy_stop(&loop);
    return;
  }
  printf("%d. GET %s -> %.*s  %s, %.1f us\n", step, key, (int)reply->len,
         reply->str, hit ? "from the local cache (hit)" : "from Redis (miss)",
         us);
  check(reply->len == strlen(want) && memcmp(reply->str, want, reply->len) == 0,
        "the value read is the value written");
  check(hit == (step == 2 || step == 5), "a hit exactly at steps 2 and 5");
  next_step();
}

static void get(const char *want) {
  const char *argv[] = {"GET", key};

  t0 = eddy_hrtime();
  if (eddy_redis_cached(&reader, 2, argv, NULL, on_get, (void *)want) != 0)
    check(0, "GET issued");
}

static void on_set(eddy_redis_t *r, int status, const eddy_resp_node_t *reply,
                   void *arg) {
  (void)r;
  (void)arg;
  check(status == 0 && !eddy_resp_is_error(reply), "SET done");
  if (step == 0)
    prerequisite();
}

static void next_step(void) {
  eddy_redis_stats_t st;

  switch (++step) {
  case 1:
  case 2:
    get("{\"name\":\"Ada\"}");
    break;
  case 3:
    write_ns = eddy_hrtime();
    eddy_redis_cmd(&writer, on_set, NULL, "SET", key, "{\"name\":\"Grace\"}",
                   NULL);
    break;
  case 4:
  case 5:
    get("{\"name\":\"Grace\"}");
    break;
  default:
    eddy_redis_get_stats(&reader, &st);
    printf("hits %llu, misses %llu, invalidations %llu\n",
           (unsigned long long)st.cache_hits,
           (unsigned long long)st.cache_misses,
           (unsigned long long)st.cache_invalidations);
    check(st.cache_hits == 2 && st.cache_misses == 2, "2 hits, 2 misses");
    closed = 1;
    eddy_redis_close(&reader, NULL);
    eddy_redis_close(&writer, NULL);
  }
}

int main(int argc, char **argv) {
  eddy_redis_options_t o;
  char host[256] = "127.0.0.1";
  int port = 6379;

  if (argc > 1) {
    const char *colon = strrchr(argv[1], ':');
    if (colon == NULL || colon - argv[1] >= (long)sizeof(host)) {
      fprintf(stderr, "usage: %s [HOST:PORT]\n", argv[0]);
      return 2;
    }
    memcpy(host, argv[1], (size_t)(colon - argv[1]));
    host[colon - argv[1]] = '\0';
    port = atoi(colon + 1);
  }
  eddy_loop_init(&loop);
  eddy_redis_options_init(&o);
  o.on_event = on_event;
  o.no_reconnect = 1;
  eddy_redis_init(&loop, &writer, &o);
  o.cache_mode = EDDY_REDIS_CACHE_DEFAULT;
  o.on_invalidate = on_invalidate;
  eddy_redis_init(&loop, &reader, &o);
  /* the starting value, written before the reader reads it */
  eddy_redis_cmd(&writer, on_set, NULL, "SET", key, "{\"name\":\"Ada\"}", NULL);
  if (eddy_redis_connect(&writer, host, port) != 0 ||
      eddy_redis_connect(&reader, host, port) != 0) {
    fprintf(stderr, "bad address %s:%d\n", host, port);
    return 2;
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (!closed) {
    fprintf(stderr, "FAILED: the story stopped at step %d\n", step);
    failed = 1;
    eddy_redis_close(&reader, NULL);
    eddy_redis_close(&writer, NULL);
    eddy_run(&loop, EDDY_RUN_DEFAULT);
  }
  eddy_loop_close(&loop);
  return failed;
}
