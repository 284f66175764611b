/* test_redis_cache.c: client-side caching against a real redis-server
 * (the default tracking mode, BCAST, OPTIN, and RESP2 with the redirect
 * connection) and the "caching in progress" race against a scripted
 * server that sends the invalidation before the reply. */
#include <strings.h>

#include "test_redis_util.h"

static struct test_redis_server srv;

static int group_setup(void **state) {
  (void)state;
  test_redis_start(&srv);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  test_redis_stop(&srv);
  return 0;
}

static int invalidations;
static void invalidate_cb(eddy_redis_t *r, const char *key, size_t len) {
  (void)r;
  (void)key;
  (void)len;
  invalidations++;
}

/* In a write's callback (its invalidation not read yet), a cached read of
 * the same key (rule 4). */
static struct test_reply after_write;
static const char *after_write_key;
static void read_after_write_cb(eddy_redis_t *r, int status,
                                const eddy_resp_node_t *reply, void *arg) {
  const char *argv[2];

  (void)status;
  (void)reply;
  (void)arg;
  argv[0] = "GET";
  argv[1] = after_write_key;
  assert_int_equal(
      eddy_redis_cached(r, 2, argv, NULL, test_reply_cb, &after_write), 0);
}

static eddy_redis_stats_t stats_of(eddy_redis_t *r) {
  eddy_redis_stats_t st;
  eddy_redis_get_stats(r, &st);
  return st;
}

/* The story every mode must tell: a miss, a hit, a write from another
 * connection invalidates, the next read is fresh; FLUSHALL drops all; the
 * client's own write is never hidden by the cache. */
static void cache_story(eddy_redis_cache_mode mode, int proto,
                        const char *key) {
  eddy_loop_t loop;
  eddy_redis_t r, w;
  eddy_redis_options_t o;
  struct test_events ev, evw;
  struct test_reply t;
  eddy_redis_stats_t st;
  const char *prefix[] = {"user:"};
  int before;

  invalidations = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &w, &o, &evw, srv.port);
  test_sync(&w, "SET", key, "v1", NULL);
  o.protocol = proto;
  o.cache_mode = mode;
  o.on_invalidate = invalidate_cb;
  if (mode == EDDY_REDIS_CACHE_BCAST) {
    o.cache_prefixes = prefix;
    o.cache_nprefixes = 1;
  }
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_run_until(&loop, ev.ready && stats_of(&r).state == EDDY_REDIS_READY);
  /* tracking with RESP2 waits for the redirect connection */
  test_sync(&r, "PING", NULL);
  t = test_sync_cached(&r, "GET", key, NULL);
  assert_string_equal(t.str, "v1");
  t = test_sync_cached(&r, "GET", key, NULL);
  assert_string_equal(t.str, "v1");
  st = stats_of(&r);
  assert_int_equal(st.cache_misses, 1);
  assert_int_equal(st.cache_hits, 1);
  assert_int_equal(st.cache_entries, 1);
  /* another connection writes: the invalidation comes, the next read is
   * a miss with the new value */
  before = invalidations;
  test_sync(&w, "SET", key, "v2", NULL);
  test_run_until(&loop, invalidations > before);
  assert_int_equal(stats_of(&r).cache_entries, 0);
  t = test_sync_cached(&r, "GET", key, NULL);
  assert_string_equal(t.str, "v2");
  assert_int_equal(stats_of(&r).cache_misses, 2);
  t = test_sync_cached(&r, "GET", key, NULL);
  assert_int_equal(stats_of(&r).cache_hits, 2);
  /* FLUSHALL: a null invalidation flushes everything */
  before = (int)stats_of(&r).cache_flushes;
  test_sync(&w, "FLUSHALL", NULL);
  test_run_until(&loop, (int)stats_of(&r).cache_flushes > before);
  assert_int_equal(stats_of(&r).cache_entries, 0);
  t = test_sync_cached(&r, "GET", key, NULL);
  assert_int_equal(t.type, EDDY_RESP_NULL);
  t = test_sync_cached(&r, "GET", key, NULL); /* a null is cached too */
  assert_int_equal(t.type, EDDY_RESP_NULL);
  assert_int_equal(stats_of(&r).cache_hits, 3);
  /* our own write: read back in its callback's wake, never stale */
  {
    struct test_reply set, get;
    const char *argv[] = {"GET", key};
    memset(&set, 0, sizeof(set));
    memset(&get, 0, sizeof(get));
    assert_int_equal(
        eddy_redis_cmd(&r, test_reply_cb, &set, "SET", key, "mine", NULL), 0);
    /* issued while the write is in flight: goes to the server, in order */
    assert_int_equal(eddy_redis_cached(&r, 2, argv, NULL, test_reply_cb, &get),
                     0);
    test_run_until(&loop, set.done && get.done);
    assert_string_equal(get.str, "mine");
    t = test_sync_cached(&r, "GET", key, NULL);
    assert_string_equal(t.str, "mine");
    t = test_sync_cached(&r, "GET", key, NULL); /* cached again */
    assert_string_equal(t.str, "mine");
    memset(&after_write, 0, sizeof(after_write));
    after_write_key = key;
    assert_int_equal(eddy_redis_cmd(&r, read_after_write_cb, NULL, "SET", key,
                                    "mine2", NULL),
                     0);
    test_run_until(&loop, after_write.done);
    assert_string_equal(after_write.str, "mine2");
  }
  /* an error reply is not cached */
  test_sync(&w, "LPUSH", "user:list", "x", NULL);
  t = test_sync_cached(&r, "GET", "user:list", NULL);
  assert_int_equal(t.type, EDDY_RESP_ERROR);
  t = test_sync_cached(&r, "GET", "user:list", NULL);
  assert_int_equal(t.type, EDDY_RESP_ERROR);
  test_sync(&w, "DEL", "user:list", NULL);
  test_client_close(&r);
  test_client_close(&w);
  test_teardown_loop(&loop);
}

static void test_default_mode(void **state) {
  (void)state;
  cache_story(EDDY_REDIS_CACHE_DEFAULT, 3, "user:1234");
}

static void test_bcast_mode(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  const char *prefix[] = {"user:"};

  (void)state;
  cache_story(EDDY_REDIS_CACHE_BCAST, 3, "user:b");
  /* keys outside the prefixes are never cached */
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.cache_mode = EDDY_REDIS_CACHE_BCAST;
  o.cache_prefixes = prefix;
  o.cache_nprefixes = 1;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_sync(&r, "PING", NULL);
  test_sync_cached(&r, "GET", "other:1", NULL);
  test_sync_cached(&r, "GET", "other:1", NULL);
  assert_int_equal(stats_of(&r).cache_hits, 0);
  assert_int_equal(stats_of(&r).cache_entries, 0);
  test_client_close(&r);
  test_teardown_loop(&loop);
}

static void test_optin_mode(void **state) {
  (void)state;
  cache_story(EDDY_REDIS_CACHE_OPTIN, 3, "user:o");
}

static void test_resp2_redirect(void **state) {
  (void)state;
  cache_story(EDDY_REDIS_CACHE_DEFAULT, 2, "user:r2");
  cache_story(EDDY_REDIS_CACHE_OPTIN, 2, "user:r2o");
}

/* Rule 1: the cache is dropped when the connection drops, and a read
 * after the reconnect goes to the server. */
static void test_drop_on_disconnect(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r, admin;
  eddy_redis_options_t o;
  struct test_events ev, eva;
  struct test_reply t;
  char id[32];
  int proto;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &admin, &o, &eva, srv.port);
  test_sync(&admin, "SET", "drop:k", "v", NULL);
  for (proto = 3; proto >= 2; proto--) {
    eddy_redis_options_init(&o);
    o.protocol = proto;
    o.cache_mode = EDDY_REDIS_CACHE_DEFAULT;
    o.reconnect_initial_ms = 1;
    test_client_tcp(&loop, &r, &o, &ev, srv.port);
    test_sync(&r, "PING", NULL);
    test_sync_cached(&r, "GET", "drop:k", NULL);
    test_sync_cached(&r, "GET", "drop:k", NULL);
    assert_int_equal(stats_of(&r).cache_hits, 1);
    t = test_sync(&r, "CLIENT", "ID", NULL);
    snprintf(id, sizeof(id), "%lld", t.integer);
    test_sync(&admin, "CLIENT", "KILL", "ID", id, NULL);
    test_run_until(&loop, ev.disconnected == 1);
    assert_int_equal(stats_of(&r).cache_entries, 0);
    test_run_until(&loop, ev.ready == 2);
    test_sync(&r, "PING", NULL);
    t = test_sync_cached(&r, "GET", "drop:k", NULL);
    assert_string_equal(t.str, "v");
    assert_int_equal(stats_of(&r).cache_misses, 2);
    if (proto == 2) {
      /* the invalidation connection dropping empties the cache too */
      test_sync_cached(&r, "GET", "drop:k", NULL);
      assert_int_equal(stats_of(&r).cache_entries, 1);
      t = test_sync(&admin, "CLIENT", "KILL", "TYPE", "pubsub", NULL);
      assert_true(t.integer >= 1);
      test_run_until(&loop, stats_of(&r).cache_entries == 0);
      /* it comes back, tracking is turned on again with its new id, and
       * the cache works again, invalidations included */
      for (;;) {
        unsigned long long hits = stats_of(&r).cache_hits;
        test_sync(&r, "PING", NULL);
        test_sync_cached(&r, "GET", "drop:k", NULL);
        test_sync_cached(&r, "GET", "drop:k", NULL);
        if (stats_of(&r).cache_hits > hits)
          break;
        test_sleep_ms(5);
      }
      {
        unsigned long long inv = stats_of(&r).cache_invalidations;
        test_sync(&admin, "SET", "drop:k", "v2", NULL);
        test_run_until(&loop, stats_of(&r).cache_invalidations > inv);
        t = test_sync_cached(&r, "GET", "drop:k", NULL);
        assert_string_equal(t.str, "v2");
        test_sync(&admin, "SET", "drop:k", "v", NULL);
      }
    }
    test_client_close(&r);
  }
  test_client_close(&admin);
  test_teardown_loop(&loop);
}

/* The entries, bytes and age bounds, LRU order. */
static void test_bounds_and_eviction(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  eddy_redis_stats_t st;
  char key[16];
  int i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.cache_mode = EDDY_REDIS_CACHE_DEFAULT;
  o.cache_max_entries = 3;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_sync(&r, "PING", NULL);
  for (i = 1; i <= 3; i++) {
    snprintf(key, sizeof(key), "ev:%d", i);
    test_sync_cached(&r, "GET", key, NULL);
  }
  test_sync_cached(&r, "GET", "ev:1", NULL); /* ev:1 is now the newest */
  test_sync_cached(&r, "GET", "ev:4", NULL); /* evicts ev:2 */
  st = stats_of(&r);
  assert_int_equal(st.cache_entries, 3);
  assert_int_equal(st.cache_evictions, 1);
  test_sync_cached(&r, "GET", "ev:1", NULL);
  test_sync_cached(&r, "GET", "ev:3", NULL);
  assert_int_equal(stats_of(&r).cache_hits, 3);
  test_sync_cached(&r, "GET", "ev:2", NULL);
  assert_int_equal(stats_of(&r).cache_misses, 5);
  /* two commands on one key: two entries, one invalidation drops both */
  test_sync(&r, "PING", NULL);
  assert_int_equal(eddy_redis_cache_flush(&r), 0);
  assert_int_equal(stats_of(&r).cache_entries, 0);
  test_client_close(&r);
  /* bytes: nothing larger than the bound is kept */
  o.cache_max_entries = 0;
  o.cache_max_bytes = 400;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_sync(&r, "SET", "ev:big",
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789",
            NULL);
  test_sync_cached(&r, "GET", "ev:big", NULL);
  assert_int_equal(stats_of(&r).cache_entries, 0);
  test_sync_cached(&r, "GET", "ev:1", NULL);
  test_sync_cached(&r, "GET", "ev:2", NULL);
  st = stats_of(&r);
  assert_true(st.cache_bytes <= 400);
  assert_true(st.cache_entries >= 1);
  test_client_close(&r);
  /* age */
  o.cache_max_bytes = 0;
  o.cache_max_age_ms = 20;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_sync(&r, "PING", NULL);
  test_sync_cached(&r, "GET", "ev:1", NULL);
  test_sync_cached(&r, "GET", "ev:1", NULL);
  assert_int_equal(stats_of(&r).cache_hits, 1);
  test_sleep_ms(30);
  eddy_update_time(&loop);
  test_sync_cached(&r, "GET", "ev:1", NULL);
  st = stats_of(&r);
  assert_int_equal(st.cache_hits, 1);
  assert_int_equal(st.cache_misses, 2);
  assert_int_equal(st.cache_evictions, 1);
  test_client_close(&r);
  test_teardown_loop(&loop);
}

/* Rule 6: a hit whose entry is dropped before its tick goes to the
 * server; hits never run inside the call. */
static void test_hit_then_flush(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_reply t;
  const char *argv[] = {"GET", "hf:k"};

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.cache_mode = EDDY_REDIS_CACHE_DEFAULT;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_sync(&r, "SET", "hf:k", "a", NULL);
  test_sync(&r, "PING", NULL);
  test_sync_cached(&r, "GET", "hf:k", NULL);
  memset(&t, 0, sizeof(t));
  assert_int_equal(eddy_redis_cached(&r, 2, argv, NULL, test_reply_cb, &t), 0);
  assert_int_equal(t.done, 0);
  eddy_redis_cache_flush(&r);
  test_run_until(&loop, t.done);
  assert_string_equal(t.str, "a");
  assert_int_equal(stats_of(&r).cache_hits, 0);
  assert_int_equal(stats_of(&r).cache_misses, 2);
  test_client_close(&r);
  test_teardown_loop(&loop);
}

/* ---- the race, on a scripted server -------------------------------------- */

static int race_gets;
static int race_order; /* 1: invalidate before the reply, 0: after */
static void race_cmd(struct test_fake *f, const eddy_resp_node_t *cmd) {
  static const char inval[] = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
  if (test_fake_is(cmd, 0, "HELLO")) {
    test_fake_sends(f, "%1\r\n$5\r\nproto\r\n:3\r\n");
    return;
  }
  if (!test_fake_is(cmd, 0, "GET")) {
    test_fake_sends(f, "+OK\r\n");
    return;
  }
  race_gets++;
  if (race_gets == 1 && race_order == 1) {
    /* The value changed while the reply was on its way: the server
     * invalidates first, then the (now stale) reply arrives. */
    test_fake_sends(f, inval);
    test_fake_sends(f, "$5\r\nstale\r\n");
  } else if (race_gets == 1) {
    test_fake_sends(f, "$5\r\nfirst\r\n");
    test_fake_sends(f, inval);
  } else {
    test_fake_sends(f, "$5\r\nfresh\r\n");
  }
}

static void race_round(int order) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_fake f;
  struct test_reply t;

  race_gets = 0;
  race_order = order;
  invalidations = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  test_fake_start(&loop, &f, race_cmd);
  eddy_redis_options_init(&o);
  o.cache_mode = EDDY_REDIS_CACHE_DEFAULT;
  o.on_invalidate = invalidate_cb;
  test_client_tcp(&loop, &r, &o, &ev, f.port);
  test_run_until(&loop, ev.ready);
  t = test_sync_cached(&r, "GET", "k", NULL);
  assert_string_equal(t.str, order ? "stale" : "first"); /* delivered... */
  test_run_until(&loop, invalidations == 1);
  assert_int_equal(stats_of(&r).cache_entries, 0); /* ...never cached */
  t = test_sync_cached(&r, "GET", "k", NULL);
  assert_string_equal(t.str, "fresh");
  assert_int_equal(race_gets, 2);
  t = test_sync_cached(&r, "GET", "k", NULL);
  assert_string_equal(t.str, "fresh");
  assert_int_equal(race_gets, 2); /* a hit */
  test_client_close(&r);
  test_fake_stop(&f);
  test_teardown_loop(&loop);
}

static void test_race_caching_in_progress(void **state) {
  (void)state;
  race_round(1);
  race_round(0);
}

/* Without a cache, eddy_redis_cached is a plain read. */
static void test_no_cache(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_sync_cached(&r, "GET", "nc:k", NULL);
  test_sync_cached(&r, "GET", "nc:k", NULL);
  assert_int_equal(stats_of(&r).cache_hits, 0);
  test_client_close(&r);
  test_teardown_loop(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_mode),
      cmocka_unit_test(test_bcast_mode),
      cmocka_unit_test(test_optin_mode),
      cmocka_unit_test(test_resp2_redirect),
      cmocka_unit_test(test_drop_on_disconnect),
      cmocka_unit_test(test_bounds_and_eviction),
      cmocka_unit_test(test_hit_then_flush),
      cmocka_unit_test(test_race_caching_in_progress),
      cmocka_unit_test(test_no_cache),
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
