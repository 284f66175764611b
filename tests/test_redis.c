/* test_redis.c: the Redis client against a real redis-server (started
 * here; see test_redis_util.h) and a scripted fake server: reply types,
 * pipelining, pub/sub, AUTH and ACL, SELECT, reconnects, timeouts, limits,
 * bad replies, closing. The cache has its own file, test_redis_cache.c. */
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

/* ---- argument errors ----------------------------------------------------- */

static void test_errors(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_reply t;
  const char *sub[] = {"SUBSCRIBE", "x"}, *mon[] = {"monitor"};

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.protocol = 4;
  assert_int_equal(eddy_redis_init(&loop, &r, &o), EDDY_EINVAL);
  o.protocol = 0;
  o.reconnect_jitter = 2;
  assert_int_equal(eddy_redis_init(&loop, &r, &o), EDDY_EINVAL);
  o.reconnect_jitter = 0;
  o.cache_mode = (eddy_redis_cache_mode)9;
  assert_int_equal(eddy_redis_init(&loop, &r, &o), EDDY_EINVAL);
  o.cache_mode = EDDY_REDIS_CACHE_OFF;
  o.max_reply_bytes = EDDY_RESP_REPLY_CAP + 1;
  assert_int_equal(eddy_redis_init(&loop, &r, &o), EDDY_EINVAL);
  assert_int_equal(eddy_redis_init(&loop, &r, NULL), 0);
  assert_int_equal(eddy_redis_get_state(&r), EDDY_REDIS_IDLE);
  assert_int_equal(eddy_redis_connect(&r, NULL, 1), EDDY_EINVAL);
  assert_int_equal(eddy_redis_connect(&r, "127.0.0.1", 0), EDDY_EINVAL);
  assert_int_equal(eddy_redis_connect(&r, "127.0.0.1", 70000), EDDY_EINVAL);
  assert_int_equal(eddy_redis_connect_unix(&r, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_redis_command(&r, 0, sub, NULL, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_redis_command(&r, 2, sub, NULL, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_redis_command(&r, 1, mon, NULL, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_redis_cached(&r, 1, sub + 1, NULL, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(
      eddy_redis_subscribe(&r, (eddy_redis_sub_kind)7, "a", 1, NULL, NULL),
      EDDY_EINVAL);
  /* queued before connecting: answered once connected */
  memset(&t, 0, sizeof(t));
  assert_int_equal(eddy_redis_cmd(&r, test_reply_cb, &t, "PING", NULL), 0);
  assert_int_equal(eddy_redis_connect(&r, "127.0.0.1", srv.port), 0);
  assert_int_equal(eddy_redis_connect(&r, "127.0.0.1", srv.port), EDDY_EISCONN);
  test_run_until(&loop, t.done);
  assert_int_equal(t.status, 0);
  assert_string_equal(t.str, "PONG");
  assert_string_equal(eddy_redis_state_name(EDDY_REDIS_READY), "ready");
  assert_string_equal(eddy_redis_event_name(EDDY_REDIS_EV_STOPPED), "stopped");
  test_client_close(&r);
  test_teardown_loop(&loop);
}

/* ---- every reply type (DEBUG PROTOCOL, RESP3) ---------------------------- */

static void test_reply_types(void **state) {
  static const struct {
    const char *arg;
    int type;
  } cases[] = {
      {"string", EDDY_RESP_BULK},       {"integer", EDDY_RESP_INTEGER},
      {"double", EDDY_RESP_DOUBLE},     {"bignum", EDDY_RESP_BIGNUM},
      {"null", EDDY_RESP_NULL},         {"array", EDDY_RESP_ARRAY},
      {"set", EDDY_RESP_SET},           {"map", EDDY_RESP_MAP},
      {"true", EDDY_RESP_BOOLEAN},      {"false", EDDY_RESP_BOOLEAN},
      {"verbatim", EDDY_RESP_VERBATIM}, {"attrib", EDDY_RESP_BULK},
  };
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_reply t;
  size_t i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    t = test_sync(&r, "DEBUG", "PROTOCOL", cases[i].arg, NULL);
    assert_int_equal(t.status, 0);
    if (t.type != cases[i].type)
      fail_msg("DEBUG PROTOCOL %s: type %c", cases[i].arg, t.type);
  }
  t = test_sync(&r, "DEBUG", "PROTOCOL", "true", NULL);
  assert_int_equal(t.integer, 1);
  t = test_sync(&r, "SET", "types:k", "v", NULL);
  assert_int_equal(t.type, EDDY_RESP_STRING);
  assert_string_equal(t.str, "OK");
  t = test_sync(&r, "GET", "types:k", NULL);
  assert_string_equal(t.str, "v");
  t = test_sync(&r, "GET", "types:none", NULL);
  assert_int_equal(t.type, EDDY_RESP_NULL);
  t = test_sync(&r, "NOSUCHCOMMAND", NULL);
  assert_int_equal(t.status, 0);
  assert_int_equal(t.type, EDDY_RESP_ERROR);
  t = test_sync(&r, "HSET", "types:h", "a", "1", "b", "2", NULL);
  assert_int_equal(t.integer, 2);
  t = test_sync(&r, "HGETALL", "types:h", NULL);
  assert_int_equal(t.type, EDDY_RESP_MAP);
  assert_int_equal(t.elements, 2);
  {
    eddy_redis_stats_t st;
    eddy_redis_get_stats(&r, &st);
    assert_int_equal(st.protocol, 3);
    assert_true(st.error_replies >= 1);
    assert_true(st.bytes_sent > 0 && st.bytes_received > 0);
    assert_int_equal(st.connects, 1);
  }
  test_client_close(&r);
  test_teardown_loop(&loop);
}

/* A push from DEBUG PROTOCOL goes to on_push. */
static int pushes;
static void push_cb(eddy_redis_t *r, const eddy_resp_node_t *push) {
  (void)r;
  if (push->type == EDDY_RESP_PUSH)
    pushes++;
}

static void test_push_and_resp2(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_reply t;

  (void)state;
  pushes = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.on_push = push_cb;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  t = test_sync(&r, "DEBUG", "PROTOCOL", "push", NULL);
  assert_int_equal(t.status, 0);
  assert_int_equal(pushes, 1);
  test_client_close(&r);
  /* RESP2: maps are arrays, doubles bulk strings */
  o.protocol = 2;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  t = test_sync(&r, "HGETALL", "types:h", NULL);
  assert_int_equal(t.type, EDDY_RESP_ARRAY);
  assert_int_equal(t.elements, 4);
  {
    eddy_redis_stats_t st;
    eddy_redis_get_stats(&r, &st);
    assert_int_equal(st.protocol, 2);
  }
  test_client_close(&r);
  test_teardown_loop(&loop);
}

/* ---- pipelining ---------------------------------------------------------- */

#define PIPE_N 10000
static long long pipe_next;
static int pipe_bad;
static void pipe_cb(eddy_redis_t *r, int status, const eddy_resp_node_t *reply,
                    void *arg) {
  (void)r;
  if (status != 0 || reply->type != EDDY_RESP_INTEGER ||
      reply->integer != pipe_next + 1 || (intptr_t)arg != pipe_next)
    pipe_bad++;
  pipe_next++;
}

static void test_pipeline_10000(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  eddy_redis_stats_t st;
  intptr_t i;

  (void)state;
  pipe_next = 0;
  pipe_bad = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_sync(&r, "DEL", "pipe:n", NULL);
  for (i = 0; i < PIPE_N; i++)
    assert_int_equal(
        eddy_redis_cmd(&r, pipe_cb, (void *)i, "INCR", "pipe:n", NULL), 0);
  eddy_redis_get_stats(&r, &st);
  assert_int_equal(st.pending, PIPE_N);
  test_run_until(&loop, pipe_next == PIPE_N);
  assert_int_equal(pipe_bad, 0);
  eddy_redis_get_stats(&r, &st);
  assert_int_equal(st.pending, 0);
  assert_true(st.commands >= PIPE_N);
  test_client_close(&r);
  test_teardown_loop(&loop);
}

/* ---- Unix socket, SELECT, AUTH and ACL ----------------------------------- */

static void test_unix_and_select(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r, r0;
  eddy_redis_options_t o;
  struct test_events ev, ev0;
  struct test_reply t;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.db = 3;
  memset(&ev, 0, sizeof(ev));
  o.on_event = test_event_cb;
  assert_int_equal(eddy_redis_init(&loop, &r, &o), 0);
  r.data = &ev;
  assert_int_equal(eddy_redis_connect_unix(&r, srv.sock), 0);
  t = test_sync(&r, "SET", "select:k", "in3", NULL);
  assert_string_equal(t.str, "OK");
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &r0, &o, &ev0, srv.port);
  t = test_sync(&r0, "GET", "select:k", NULL);
  assert_int_equal(t.type, EDDY_RESP_NULL); /* db 0 */
  t = test_sync(&r, "GET", "select:k", NULL);
  assert_string_equal(t.str, "in3");
  test_client_close(&r);
  /* SELECT out of range: an error event, then a reconnect that fails
   * again until the attempts run out */
  eddy_redis_options_init(&o);
  o.db = 100000;
  o.reconnect_max_attempts = 1;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_run_until(&loop, ev.stopped);
  assert_int_equal(ev.errors, 1);
  assert_int_equal(ev.last_status, EDDY_EINVAL);
  test_client_close(&r);
  test_client_close(&r0);
  test_teardown_loop(&loop);
}

static void test_auth_acl(void **state) {
  eddy_loop_t loop;
  eddy_redis_t admin, r;
  eddy_redis_options_t o;
  struct test_events ev, eva;
  struct test_reply t;
  int proto;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &admin, &o, &eva, srv.port);
  t = test_sync(&admin, "ACL", "SETUSER", "alice", "on", ">secret", "~*",
                "+@all", "-flushall", NULL);
  assert_string_equal(t.str, "OK");
  for (proto = 3; proto >= 2; proto--) {
    /* the right password, as an ACL user */
    eddy_redis_options_init(&o);
    o.protocol = proto;
    o.username = "alice";
    o.password = "secret";
    o.client_name = "eddy-test";
    test_client_tcp(&loop, &r, &o, &ev, srv.port);
    t = test_sync(&r, "ACL", "WHOAMI", NULL);
    assert_string_equal(t.str, "alice");
    t = test_sync(&r, "CLIENT", "GETNAME", NULL);
    assert_string_equal(t.str, "eddy-test");
    /* a command the ACL denies: an error reply, the connection stays */
    t = test_sync(&r, "FLUSHALL", NULL);
    assert_int_equal(t.type, EDDY_RESP_ERROR);
    assert_memory_equal(t.str, "NOPERM", 6);
    t = test_sync(&r, "PING", NULL);
    assert_string_equal(t.str, "PONG");
    test_client_close(&r);
    /* a wrong password: an error event (EACCES), no READY, and the
     * command queued meanwhile fails when the client stops */
    o.password = "wrong";
    o.reconnect_max_attempts = 2;
    o.reconnect_initial_ms = 5;
    test_client_tcp(&loop, &r, &o, &ev, srv.port);
    memset(&t, 0, sizeof(t));
    assert_int_equal(eddy_redis_cmd(&r, test_reply_cb, &t, "PING", NULL), 0);
    test_run_until(&loop, ev.stopped);
    assert_int_equal(ev.ready, 0);
    assert_int_equal(ev.errors, 2);
    assert_int_equal(ev.last_status, EDDY_EACCES);
    assert_int_equal(t.done, 1);
    assert_int_equal(t.status, EDDY_ENOTCONN);
    assert_int_equal(eddy_redis_cmd(&r, NULL, NULL, "PING", NULL),
                     EDDY_ENOTCONN);
    test_client_close(&r);
  }
  test_sync(&admin, "ACL", "DELUSER", "alice", NULL);
  test_client_close(&admin);
  test_teardown_loop(&loop);
}

/* ---- pub/sub ------------------------------------------------------------- */

static struct test_log msg_log;
static int msgs;
static void message_cb(eddy_redis_t *r, eddy_redis_sub_kind kind,
                       const eddy_resp_node_t *pattern,
                       const eddy_resp_node_t *channel,
                       const eddy_resp_node_t *payload) {
  (void)r;
  msgs++;
  test_log_printf(&msg_log, "%d %.*s %.*s %.*s;", (int)kind,
                  pattern ? (int)pattern->len : 1, pattern ? pattern->str : "-",
                  (int)channel->len, channel->str, (int)payload->len,
                  payload->str);
}

static void pubsub_round(eddy_loop_t *loop, int proto) {
  eddy_redis_t sub, pub;
  eddy_redis_options_t o;
  struct test_events ev, evp;
  struct test_reply c1, c2, t;

  msg_log.len = 0;
  msgs = 0;
  eddy_redis_options_init(&o);
  o.protocol = proto;
  o.on_message = message_cb;
  test_client_tcp(loop, &sub, &o, &ev, srv.port);
  memset(&c1, 0, sizeof(c1));
  memset(&c2, 0, sizeof(c2));
  assert_int_equal(eddy_redis_subscribe(&sub, EDDY_REDIS_CHANNEL, "news", 4,
                                        test_reply_cb, &c1),
                   0);
  assert_int_equal(eddy_redis_subscribe(&sub, EDDY_REDIS_PATTERN, "ev:*", 4,
                                        test_reply_cb, &c2),
                   0);
  test_run_until(loop, c1.done && c2.done);
  assert_int_equal(c1.status, 0);
  assert_int_equal(c2.status, 0);
  assert_int_equal(c2.elements, 3);
  eddy_redis_options_init(&o);
  test_client_tcp(loop, &pub, &o, &evp, srv.port);
  t = test_sync(&pub, "PUBLISH", "news", "hello", NULL);
  assert_int_equal(t.integer, 1);
  t = test_sync(&pub, "PUBLISH", "ev:1", "x", NULL);
  assert_int_equal(t.integer, 1);
  test_run_until(loop, msgs == 2);
  msg_log.buf[msg_log.len] = '\0';
  assert_string_equal(msg_log.buf, "0 - news hello;1 ev:* ev:1 x;");
  if (proto == 3) { /* RESP3: other commands on the same connection */
    t = test_sync(&sub, "SET", "ps:k", "1", NULL);
    assert_string_equal(t.str, "OK");
  } else {
    t = test_sync(&sub, "PING", NULL);
    assert_int_equal(t.type, EDDY_RESP_ARRAY); /* RESP2 subscribed PING */
  }
  memset(&c1, 0, sizeof(c1));
  assert_int_equal(eddy_redis_unsubscribe(&sub, EDDY_REDIS_CHANNEL, "news", 4,
                                          test_reply_cb, &c1),
                   0);
  test_run_until(loop, c1.done);
  t = test_sync(&pub, "PUBLISH", "news", "gone", NULL);
  assert_int_equal(t.integer, 0);
  test_client_close(&sub);
  test_client_close(&pub);
}

static void test_pubsub(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  pubsub_round(&loop, 3);
  pubsub_round(&loop, 2);
  test_teardown_loop(&loop);
}

/* ---- reconnect ----------------------------------------------------------- */

static struct test_reply inflight[4];

/* The server is killed with commands in flight (a BLPOP that blocks, and
 * commands behind it): each fails once with ECONNRESET; commands issued
 * while it is down wait and run after the restart; subscriptions come
 * back. */
static void test_reconnect_server_restart(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r, pub;
  eddy_redis_options_t o;
  struct test_events ev, evp;
  struct test_reply t, later, c;
  eddy_redis_stats_t st;
  int i;

  (void)state;
  msgs = 0;
  msg_log.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.reconnect_initial_ms = 20;
  o.reconnect_max_ms = 40;
  o.on_message = message_cb;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  memset(&c, 0, sizeof(c));
  eddy_redis_subscribe(&r, EDDY_REDIS_CHANNEL, "restart", 7, test_reply_cb, &c);
  test_run_until(&loop, c.done);
  memset(inflight, 0, sizeof(inflight));
  eddy_redis_cmd(&r, test_reply_cb, &inflight[0], "BLPOP", "rc:none", "0",
                 NULL);
  for (i = 1; i < 4; i++)
    eddy_redis_cmd(&r, test_reply_cb, &inflight[i], "PING", NULL);
  /* let them be written */
  for (i = 0; i < 20; i++)
    eddy_run(&loop, EDDY_RUN_NOWAIT);
  eddy_redis_get_stats(&r, &st);
  assert_int_equal(st.pending, 4);
  test_redis_kill(&srv, SIGKILL);
  test_run_until(&loop, inflight[0].done && ev.disconnected);
  for (i = 0; i < 4; i++) {
    assert_int_equal(inflight[i].done, 1);
    assert_int_equal(inflight[i].status, EDDY_ECONNRESET);
  }
  /* issued while the server is down: waits */
  memset(&later, 0, sizeof(later));
  assert_int_equal(
      eddy_redis_cmd(&r, test_reply_cb, &later, "SET", "rc:k", "after", NULL),
      0);
  test_run_until(&loop, ev.disconnected >= 2); /* a failed attempt or two */
  assert_int_equal(later.done, 0);
  test_redis_spawn(&srv);
  test_run_until(&loop, later.done);
  assert_int_equal(later.status, 0);
  assert_string_equal(later.str, "OK");
  for (i = 0; i < 4; i++)
    assert_int_equal(inflight[i].done, 1); /* never twice */
  /* re-subscribed before READY */
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &pub, &o, &evp, srv.port);
  t = test_sync(&pub, "PUBLISH", "restart", "back", NULL);
  assert_int_equal(t.integer, 1);
  test_run_until(&loop, msgs == 1);
  eddy_redis_get_stats(&r, &st);
  assert_true(st.reconnects >= 1);
  assert_int_equal(st.connects, 2);
  assert_true(st.disconnects >= 1);
  assert_true(st.failed >= 4);
  ev.log.buf[ev.log.len] = '\0';
  if (strstr(ev.log.buf, "disconnected:ECONNRESET:0;reconnecting:ECONNRESET:1;"
                         "connecting:0:1;") == NULL)
    fail_msg("events: %s", ev.log.buf);
  test_client_close(&r);
  test_client_close(&pub);
  test_teardown_loop(&loop);
}

/* CLIENT KILL from another connection: replies stay in order across the
 * reconnect, each callback exactly once. */
static long long order_next;
static int order_bad;
static void order_cb(eddy_redis_t *r, int status, const eddy_resp_node_t *rep,
                     void *arg) {
  (void)r;
  (void)rep;
  if ((intptr_t)arg != order_next)
    order_bad++;
  (void)status;
  order_next++;
}

static void test_reconnect_client_kill(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r, admin;
  eddy_redis_options_t o;
  struct test_events ev, eva;
  struct test_reply t;
  char id[32];
  intptr_t i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.reconnect_initial_ms = 1;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  eddy_redis_options_init(&o);
  test_client_tcp(&loop, &admin, &o, &eva, srv.port);
  t = test_sync(&r, "CLIENT", "ID", NULL);
  snprintf(id, sizeof(id), "%lld", t.integer);
  order_next = 0;
  order_bad = 0;
  for (i = 0; i < 100; i++)
    eddy_redis_cmd(&r, order_cb, (void *)i, "INCR", "kill:n", NULL);
  t = test_sync(&admin, "CLIENT", "KILL", "ID", id, NULL);
  for (i = 100; i < 200; i++)
    eddy_redis_cmd(&r, order_cb, (void *)i, "INCR", "kill:n", NULL);
  test_run_until(&loop, order_next == 200);
  assert_int_equal(order_bad, 0);
  t = test_sync(&r, "PING", NULL);
  assert_string_equal(t.str, "PONG");
  test_client_close(&r);
  test_client_close(&admin);
  test_teardown_loop(&loop);
}

/* ---- refusals, timeouts, bounds ------------------------------------------ */

static void test_refused_and_stopped(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_reply t;
  int port = test_free_port();

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.reconnect_initial_ms = 5;
  o.reconnect_max_attempts = 3;
  test_client_tcp(&loop, &r, &o, &ev, port);
  memset(&t, 0, sizeof(t));
  eddy_redis_cmd(&r, test_reply_cb, &t, "PING", NULL);
  test_run_until(&loop, ev.stopped);
  ev.log.buf[ev.log.len] = '\0';
  assert_string_equal(ev.log.buf,
                      "connecting:0:1;disconnected:ECONNREFUSED:0;"
                      "reconnecting:ECONNREFUSED:2;connecting:0:2;"
                      "disconnected:ECONNREFUSED:0;"
                      "reconnecting:ECONNREFUSED:3;connecting:0:3;"
                      "disconnected:ECONNREFUSED:0;stopped:ECONNREFUSED:0;");
  assert_int_equal(t.status, EDDY_ENOTCONN);
  assert_int_equal(eddy_redis_get_state(&r), EDDY_REDIS_STOPPED);
  /* connect again from STOPPED */
  assert_int_equal(eddy_redis_connect(&r, "127.0.0.1", srv.port), 0);
  t = test_sync(&r, "PING", NULL);
  assert_string_equal(t.str, "PONG");
  test_client_close(&r);
  /* a name, resolved on the pool */
  eddy_redis_options_init(&o);
  memset(&ev, 0, sizeof(ev));
  o.on_event = test_event_cb;
  assert_int_equal(eddy_redis_init(&loop, &r, &o), 0);
  r.data = &ev;
  assert_int_equal(eddy_redis_connect(&r, "localhost", srv.port), 0);
  t = test_sync(&r, "PING", NULL);
  assert_string_equal(t.str, "PONG");
  test_client_close(&r);
  test_teardown_loop(&loop);
}

static void test_command_timeout(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_reply t, behind;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.command_timeout_ms = 200;
  o.reconnect_initial_ms = 1;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_run_until(&loop, ev.ready == 1);
  memset(&t, 0, sizeof(t));
  memset(&behind, 0, sizeof(behind));
  eddy_redis_cmd(&r, test_reply_cb, &t, "BLPOP", "to:none", "0", NULL);
  eddy_redis_cmd(&r, test_reply_cb, &behind, "PING", NULL);
  test_run_until(&loop, t.done && behind.done);
  assert_int_equal(t.status, EDDY_ETIMEDOUT);
  assert_int_equal(behind.status, EDDY_ECONNRESET);
  assert_int_equal(ev.last_status, EDDY_ETIMEDOUT);
  test_run_until(&loop, ev.ready == 2); /* reconnected */
  t = test_sync(&r, "PING", NULL);
  assert_string_equal(t.str, "PONG");
  test_client_close(&r);
  /* queued while nothing listens: times out in the queue */
  o.reconnect_initial_ms = 1000;
  test_client_tcp(&loop, &r, &o, &ev, test_free_port());
  memset(&t, 0, sizeof(t));
  eddy_redis_cmd(&r, test_reply_cb, &t, "PING", NULL);
  test_run_until(&loop, t.done);
  assert_int_equal(t.status, EDDY_ETIMEDOUT);
  test_client_close(&r);
  test_teardown_loop(&loop);
}

static void test_bounds(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_reply a, b;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  o.max_pending = 2;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  assert_int_equal(eddy_redis_cmd(&r, test_reply_cb, &a, "PING", NULL), 0);
  assert_int_equal(eddy_redis_cmd(&r, test_reply_cb, &b, "PING", NULL), 0);
  assert_int_equal(eddy_redis_cmd(&r, NULL, NULL, "PING", NULL), EDDY_ENOBUFS);
  test_run_until(&loop, a.done && b.done);
  test_client_close(&r);
  /* fail_while_disconnected: refused before READY */
  eddy_redis_options_init(&o);
  o.fail_while_disconnected = 1;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  assert_int_equal(eddy_redis_cmd(&r, NULL, NULL, "PING", NULL), EDDY_ENOTCONN);
  test_run_until(&loop, ev.ready);
  a = test_sync(&r, "PING", NULL);
  assert_string_equal(a.str, "PONG");
  test_client_close(&r);
  /* a reply over max_reply_bytes: EMSGSIZE, reconnect, go on */
  eddy_redis_options_init(&o);
  o.max_reply_bytes = 1024;
  o.reconnect_initial_ms = 1;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  a = test_sync(&r, "SET", "big:k", "x", NULL);
  a = test_sync(&r, "SETRANGE", "big:k", "5000", "y", NULL);
  a = test_sync(&r, "GET", "big:k", NULL);
  assert_int_equal(a.status, EDDY_EMSGSIZE);
  a = test_sync(&r, "STRLEN", "big:k", NULL);
  assert_int_equal(a.integer, 5001);
  test_client_close(&r);
  /* max_reply_nodes */
  eddy_redis_options_init(&o);
  o.max_reply_nodes = 100;
  o.reconnect_initial_ms = 1;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  {
    int i;
    for (i = 0; i < 150; i++)
      eddy_redis_cmd(&r, NULL, NULL, "RPUSH", "big:l", "e", NULL);
  }
  a = test_sync(&r, "LRANGE", "big:l", "0", "-1", NULL);
  assert_int_equal(a.status, EDDY_EMSGSIZE);
  a = test_sync(&r, "LRANGE", "big:l", "0", "9", NULL);
  assert_int_equal(a.elements, 10);
  test_sync(&r, "DEL", "big:l", "big:k", NULL);
  test_client_close(&r);
  test_teardown_loop(&loop);
}

/* ---- closing ------------------------------------------------------------- */

static struct test_log close_log;
static void close_log_cb(eddy_redis_t *r, int status,
                         const eddy_resp_node_t *reply, void *arg) {
  (void)r;
  (void)reply;
  test_log_printf(&close_log, "%d:%s;", (int)(intptr_t)arg,
                  status ? eddy_err_name(status) : "ok");
}
static void close_done(eddy_redis_t *r) {
  (void)r;
  test_log_printf(&close_log, "closed;");
}
static void close_in_cb(eddy_redis_t *r, int status,
                        const eddy_resp_node_t *reply, void *arg) {
  close_log_cb(r, status, reply, arg);
  assert_int_equal(eddy_redis_close(r, close_done), 0);
  assert_int_equal(eddy_redis_close(r, close_done), EDDY_EINVAL);
  assert_int_equal(eddy_redis_cmd(r, NULL, NULL, "PING", NULL), EDDY_ECANCELED);
}

static void test_close(void **state) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_redis_options_init(&o);
  /* closed before connecting: every queued command gets ECANCELED first */
  close_log.len = 0;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  eddy_redis_cmd(&r, close_log_cb, (void *)1, "PING", NULL);
  eddy_redis_cmd(&r, close_log_cb, (void *)2, "PING", NULL);
  assert_int_equal(eddy_redis_close(&r, close_done), 0);
  assert_int_equal(close_log.len, 0); /* not inside the call */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  close_log.buf[close_log.len] = '\0';
  assert_string_equal(close_log.buf, "1:ECANCELED;2:ECANCELED;closed;");
  /* closed inside a reply callback, with commands still in flight */
  close_log.len = 0;
  test_client_tcp(&loop, &r, &o, &ev, srv.port);
  test_run_until(&loop, ev.ready);
  eddy_redis_cmd(&r, close_in_cb, (void *)1, "PING", NULL);
  eddy_redis_cmd(&r, close_log_cb, (void *)2, "BLPOP", "close:none", "0", NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  close_log.buf[close_log.len] = '\0';
  assert_string_equal(close_log.buf, "1:ok;2:ECANCELED;closed;");
  test_teardown_loop(&loop);
}

/* ---- a scripted server: bad replies ---------------------------------------
 */

static int fake_mode;
enum {
  FAKE_MALFORMED = 1,
  FAKE_OVERSIZED,
  FAKE_LONG_LINE,
  FAKE_TRUNCATED,
  FAKE_SILENT
};

static void fake_cmd(struct test_fake *f, const eddy_resp_node_t *cmd) {
  if (test_fake_is(cmd, 0, "HELLO")) { /* an "old server": RESP2 */
    test_fake_sends(f, "-ERR unknown command 'HELLO'\r\n");
    return;
  }
  if (!test_fake_is(cmd, 0, "GET")) {
    test_fake_sends(f, "+PONG\r\n");
    return;
  }
  switch (f->accepts == 1 ? fake_mode : 0) {
  case FAKE_MALFORMED:
    test_fake_sends(f, "$3\r\nabc\r\n?what\r\n"); /* a good one, then bad */
    break;
  case FAKE_OVERSIZED:
    test_fake_sends(f, "$100000000\r\n");
    break;
  case FAKE_LONG_LINE: {
    char line[400];
    int i;
    line[0] = '+';
    for (i = 1; i < 400; i++)
      line[i] = 'a';
    for (i = 0; i < 10; i++) /* 4000 bytes, no CRLF */
      test_fake_send(f, line + (i ? 1 : 0), i ? 399 : 400);
    break;
  }
  case FAKE_TRUNCATED:
    test_fake_sends(f, "$10\r\nabc");
    test_fake_drop(f);
    break;
  case FAKE_SILENT:
    break;
  default:
    test_fake_sends(f, "$2\r\nok\r\n");
  }
}

static void bad_reply_round(int mode, int want_first, int want_second) {
  eddy_loop_t loop;
  eddy_redis_t r;
  eddy_redis_options_t o;
  struct test_events ev;
  struct test_fake f;
  struct test_reply a, b, c;
  eddy_redis_stats_t st;

  fake_mode = mode;
  assert_int_equal(eddy_loop_init(&loop), 0);
  test_fake_start(&loop, &f, fake_cmd);
  eddy_redis_options_init(&o);
  o.max_reply_bytes = 1024;
  o.reconnect_initial_ms = 1;
  o.command_timeout_ms = mode == FAKE_SILENT ? 200 : 0;
  test_client_tcp(&loop, &r, &o, &ev, f.port);
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  eddy_redis_cmd(&r, test_reply_cb, &a, "GET", "k", NULL);
  eddy_redis_cmd(&r, test_reply_cb, &b, "GET", "k", NULL);
  test_run_until(&loop, a.done && b.done && ev.ready >= 2);
  if (a.status != want_first || b.status != want_second)
    fail_msg("mode %d: %s %s", mode, eddy_err_name(a.status),
             eddy_err_name(b.status));
  c = test_sync(&r, "GET", "k", NULL); /* reconnected, served */
  assert_int_equal(c.status, 0);
  assert_string_equal(c.str, "ok");
  assert_int_equal(a.done + b.done, 2);
  eddy_redis_get_stats(&r, &st);
  assert_int_equal(st.protocol, 2);
  test_client_close(&r);
  test_fake_stop(&f);
  test_teardown_loop(&loop);
}

static void test_bad_replies(void **state) {
  (void)state;
  bad_reply_round(FAKE_MALFORMED, 0, EDDY_EPROTO);
  bad_reply_round(FAKE_OVERSIZED, EDDY_EMSGSIZE, EDDY_ECONNRESET);
  bad_reply_round(FAKE_LONG_LINE, EDDY_EMSGSIZE, EDDY_ECONNRESET);
  bad_reply_round(FAKE_TRUNCATED, EDDY_ECONNRESET, EDDY_ECONNRESET);
  bad_reply_round(FAKE_SILENT, EDDY_ETIMEDOUT, EDDY_ECONNRESET);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_reply_types),
      cmocka_unit_test(test_push_and_resp2),
      cmocka_unit_test(test_pipeline_10000),
      cmocka_unit_test(test_unix_and_select),
      cmocka_unit_test(test_auth_acl),
      cmocka_unit_test(test_pubsub),
      cmocka_unit_test(test_reconnect_client_kill),
      cmocka_unit_test(test_refused_and_stopped),
      cmocka_unit_test(test_command_timeout),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_close),
      cmocka_unit_test(test_bad_replies),
      cmocka_unit_test(test_reconnect_server_restart),
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
