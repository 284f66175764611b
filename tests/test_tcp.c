/* test_tcp.c: TCP streams on 127.0.0.1 and ::1: connect, echo, EOF,
 * shutdown, reset, backpressure, write order and cancellation on close,
 * closing from callbacks, EMFILE on accept, options and error paths, and
 * Node's scenario 08 (close order). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test_stream_model.h"
#include "test_util.h"

/* ---- shared pieces ----------------------------------------------------- */

static int bound_port(eddy_tcp_t *tcp) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);

  assert_int_equal(eddy_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len), 0);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Listen on 127.0.0.1 at an ephemeral port; returns the port. */
static int listen_loopback(eddy_loop_t *loop, eddy_tcp_t *server,
                           eddy_connection_cb cb) {
  struct sockaddr_in a = test_loopback4(0);

  assert_int_equal(eddy_tcp_init(loop, server), 0);
  assert_int_equal(eddy_tcp_bind(server, (struct sockaddr *)&a, 0), 0);
  assert_int_equal(eddy_listen(&server->stream, 128, cb), 0);
  return bound_port(server);
}

static char read_space[65536];

static void alloc_static(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = eddy_buf_init(read_space, sizeof(read_space));
}

static void alloc_heap(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  (void)h;
  *buf = eddy_buf_init(malloc(suggested), suggested);
}

/* ---- echo: connect, write, read, EOF ---------------------------------- */

struct echo_state {
  eddy_tcp_t server;
  eddy_tcp_t conn; /* the server's side */
  eddy_tcp_t client;
  eddy_connect_t connect_req;
  eddy_write_t write_req;
  eddy_write_t echo_req;
  eddy_shutdown_t shutdown_req;
  char received[64];
  size_t received_len;
  int connect_status;
  int connects;
  int writes;
  int shutdowns;
  int server_eof;
  int client_eof;
  int closes;
};

static struct echo_state es;

static void echo_closed(eddy_handle_t *h) {
  (void)h;
  es.closes++;
}

static void echo_write_done(eddy_write_t *req, int status) {
  assert_int_equal(status, 0);
  assert_non_null(req->handle);
  es.writes++;
}

static void echo_server_read(eddy_stream_t *s, ssize_t nread,
                             const eddy_buf_t *buf) {
  if (nread == EDDY_EOF) {
    es.server_eof++;
    assert_false(eddy_is_readable(s));
    eddy_close(&s->handle, echo_closed);
    eddy_close(&es.server.stream.handle, echo_closed);
    return;
  }
  assert_true(nread >= 0);
  if (nread > 0) {
    static char copy[64];
    eddy_buf_t out;

    assert_true((size_t)nread <= sizeof(copy));
    memcpy(copy, buf->base, (size_t)nread);
    out = eddy_buf_init(copy, (size_t)nread);
    assert_int_equal(eddy_write(&es.echo_req, s, &out, 1, echo_write_done), 0);
  }
}

static void echo_on_connection(eddy_stream_t *server, int status) {
  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(server->handle.loop, &es.conn), 0);
  assert_int_equal(eddy_accept(server, &es.conn.stream), 0);
  assert_int_equal(eddy_accept(server, &es.conn.stream), EDDY_EBUSY);
  assert_true(eddy_is_readable(&es.conn.stream));
  assert_true(eddy_is_writable(&es.conn.stream));
  assert_int_equal(eddy_read_start(&es.conn.stream, alloc_static,
                                   echo_server_read),
                   0);
}

static void echo_shutdown_done(eddy_shutdown_t *req, int status) {
  assert_int_equal(status, 0);
  assert_ptr_equal(req->handle, &es.client.stream);
  assert_false(eddy_is_writable(req->handle));
  es.shutdowns++;
}

static void echo_client_read(eddy_stream_t *s, ssize_t nread,
                             const eddy_buf_t *buf) {
  if (nread == EDDY_EOF) {
    es.client_eof++;
    eddy_close(&s->handle, echo_closed);
    return;
  }
  assert_true(nread >= 0);
  memcpy(es.received + es.received_len, buf->base, (size_t)nread);
  es.received_len += (size_t)nread;
  if (es.received_len == 5)
    assert_int_equal(eddy_shutdown(&es.shutdown_req, s, echo_shutdown_done),
                     0);
}

static void echo_connected(eddy_connect_t *req, int status) {
  static char hello[] = "hello";
  eddy_buf_t buf = eddy_buf_init(hello, 5);

  es.connects++;
  es.connect_status = status;
  assert_int_equal(req->req.type, EDDY_CONNECT);
  assert_int_equal(status, 0);
  assert_int_equal(eddy_write(&es.write_req, req->handle, &buf, 1,
                              echo_write_done),
                   0);
  assert_int_equal(es.writes, 0); /* never from inside eddy_write */
  assert_int_equal(eddy_read_start(req->handle, alloc_static,
                                   echo_client_read),
                   0);
}

static void test_echo_round_trip(void **state) {
  eddy_loop_t loop;
  struct sockaddr_in addr;
  int port;

  (void)state;
  memset(&es, 0, sizeof(es));
  assert_int_equal(eddy_loop_init(&loop), 0);
  port = listen_loopback(&loop, &es.server, echo_on_connection);
  assert_int_equal(eddy_handle_get_type(&es.server.stream.handle), EDDY_TCP);
  assert_int_equal(eddy_tcp_init(&loop, &es.client), 0);
  addr = test_loopback4(port);
  assert_int_equal(eddy_tcp_connect(&es.connect_req, &es.client,
                                    (struct sockaddr *)&addr, echo_connected),
                   0);
  assert_int_equal(es.connects, 0); /* never from inside eddy_tcp_connect */
  assert_int_equal(eddy_tcp_connect(&es.connect_req, &es.client,
                                    (struct sockaddr *)&addr, echo_connected),
                   EDDY_EALREADY);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(es.connects, 1);
  assert_int_equal(es.writes, 2);
  assert_int_equal(es.received_len, 5);
  assert_memory_equal(es.received, "hello", 5);
  assert_int_equal(es.shutdowns, 1);
  assert_int_equal(es.server_eof, 1);
  assert_int_equal(es.client_eof, 1);
  assert_int_equal(es.closes, 3);
  test_assert_loop_clean(&loop);
}

/* ---- IPv6 ---------------------------------------------------------------- */

static void test_ipv6_loopback(void **state) {
  eddy_loop_t loop;
  struct sockaddr_in6 addr;
  int port;
  int probe;

  (void)state;
  probe = socket(AF_INET6, SOCK_STREAM, 0);
  memset(&addr, 0, sizeof(addr));
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  if (probe < 0 || bind(probe, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    if (probe >= 0)
      close(probe);
    skip(); /* no IPv6 loopback on this machine */
  }
  close(probe);
  memset(&es, 0, sizeof(es));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tcp_init(&loop, &es.server), 0);
  assert_int_equal(eddy_tcp_bind(&es.server, (struct sockaddr *)&addr,
                                 EDDY_TCP_IPV6ONLY),
                   0);
  assert_int_equal(eddy_listen(&es.server.stream, 16, echo_on_connection), 0);
  port = bound_port(&es.server);
  addr.sin6_port = htons((uint16_t)port);
  assert_int_equal(eddy_tcp_init(&loop, &es.client), 0);
  assert_int_equal(eddy_tcp_connect(&es.connect_req, &es.client,
                                    (struct sockaddr *)&addr, echo_connected),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(es.received_len, 5);
  assert_memory_equal(es.received, "hello", 5);
  assert_int_equal(es.closes, 3);
  test_assert_loop_clean(&loop);
}

/* ---- 64 MiB through a slow reader --------------------------------------- */

#define BULK_TOTAL (64u << 20)
#define BULK_CHUNK (1u << 20)
#define BULK_PAUSE_EVERY (256u << 10)

struct bulk_state {
  eddy_tcp_t server, conn, client;
  eddy_connect_t connect_req;
  eddy_write_t writes[BULK_TOTAL / BULK_CHUNK];
  unsigned char *data;
  size_t received;
  size_t since_pause;
  unsigned pauses;
  unsigned writes_done;
  size_t max_queue;
  int mismatch;
  eddy_timer_t resume;
};

static struct bulk_state bs;

static void bulk_write_done(eddy_write_t *req, int status) {
  assert_int_equal(status, 0);
  /* In order: the request that completes is the next one. */
  assert_ptr_equal(req, &bs.writes[bs.writes_done]);
  bs.writes_done++;
  if (bs.writes_done == BULK_TOTAL / BULK_CHUNK) {
    assert_int_equal(eddy_stream_get_write_queue_size(&bs.conn.stream), 0);
    eddy_close(&bs.conn.stream.handle, NULL);
  }
}

static void bulk_on_connection(eddy_stream_t *server, int status) {
  unsigned i;

  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(server->handle.loop, &bs.conn), 0);
  assert_int_equal(eddy_accept(server, &bs.conn.stream), 0);
  eddy_close(&server->handle, NULL);
  for (i = 0; i < BULK_TOTAL / BULK_CHUNK; i++) {
    eddy_buf_t buf = eddy_buf_init(bs.data + (size_t)i * BULK_CHUNK,
                                   BULK_CHUNK);

    assert_int_equal(eddy_write(&bs.writes[i], &bs.conn.stream, &buf, 1,
                                bulk_write_done),
                     0);
  }
  /* The kernel cannot take 64 MiB at once: the rest waits in the queue. */
  bs.max_queue = bs.conn.stream.write_queue_size;
  assert_true(bs.max_queue > 0);
  assert_true(bs.max_queue <= BULK_TOTAL);
}

static void bulk_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf);

static void bulk_resume(eddy_timer_t *t) {
  (void)t;
  assert_int_equal(eddy_read_start(&bs.client.stream, alloc_static, bulk_read),
                   0);
}

static void bulk_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  if (nread == EDDY_EOF) {
    eddy_close(&s->handle, NULL);
    eddy_close(&bs.resume.handle, NULL);
    return;
  }
  assert_true(nread >= 0);
  if (memcmp(buf->base, bs.data + bs.received, (size_t)nread) != 0)
    bs.mismatch = 1;
  bs.received += (size_t)nread;
  bs.since_pause += (size_t)nread;
  if (bs.since_pause >= BULK_PAUSE_EVERY) {
    /* A slow reader: stop, and resume on the next timers phase. */
    bs.since_pause = 0;
    bs.pauses++;
    eddy_read_stop(s);
    eddy_timer_start(&bs.resume, bulk_resume, 0, 0);
  }
}

static void bulk_connected(eddy_connect_t *req, int status) {
  assert_int_equal(status, 0);
  assert_int_equal(eddy_read_start(req->handle, alloc_static, bulk_read), 0);
}

static void test_64mib_slow_reader(void **state) {
  eddy_loop_t loop;
  struct sockaddr_in addr;
  size_t i;

  (void)state;
  memset(&bs, 0, sizeof(bs));
  bs.data = malloc(BULK_TOTAL);
  assert_non_null(bs.data);
  for (i = 0; i < BULK_TOTAL; i++)
    bs.data[i] = (unsigned char)(i * 31 + (i >> 16));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &bs.resume), 0);
  addr = test_loopback4(listen_loopback(&loop, &bs.server, bulk_on_connection));
  assert_int_equal(eddy_tcp_init(&loop, &bs.client), 0);
  assert_int_equal(eddy_tcp_connect(&bs.connect_req, &bs.client,
                                    (struct sockaddr *)&addr, bulk_connected),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(bs.received, BULK_TOTAL);
  assert_int_equal(bs.mismatch, 0);
  assert_int_equal(bs.writes_done, BULK_TOTAL / BULK_CHUNK);
  /* Each pause comes after at most BULK_PAUSE_EVERY plus one read. */
  assert_true(bs.pauses >= BULK_TOTAL / (BULK_PAUSE_EVERY + sizeof(read_space)));
  test_assert_loop_clean(&loop);
  free(bs.data);
}

/* ---- reset, close in read callback, write cancellation ------------------ */

struct pair_state {
  eddy_tcp_t server, conn, client;
  eddy_connect_t connect_req;
  eddy_write_t writes[64];
  int order[64];
  int norder;
  int statuses[64];
  int read_error;
  int reads;
  int closed;
  int close_seen_writes;
  int ready_count;
  void (*on_ready)(void);
};

static struct pair_state ps;

/* Both ends exist once the server accepted and the client's connect
 * completed, in whichever order the loop reports them. */
static void pair_maybe_ready(void) {
  if (++ps.ready_count == 2)
    ps.on_ready();
}

static void pair_on_connection(eddy_stream_t *server, int status) {
  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(server->handle.loop, &ps.conn), 0);
  assert_int_equal(eddy_accept(server, &ps.conn.stream), 0);
  eddy_close(&server->handle, NULL);
  pair_maybe_ready();
}

static void pair_connected(eddy_connect_t *req, int status) {
  (void)req;
  assert_int_equal(status, 0);
  pair_maybe_ready();
}

/* Connect a client to a fresh server; on_ready runs when both ends are
 * up: ps.client and ps.conn (the server's end). */
static void pair_start(eddy_loop_t *loop, void (*on_ready)(void)) {
  struct sockaddr_in addr;

  memset(&ps, 0, sizeof(ps));
  ps.on_ready = on_ready;
  addr = test_loopback4(listen_loopback(loop, &ps.server, pair_on_connection));
  assert_int_equal(eddy_tcp_init(loop, &ps.client), 0);
  assert_int_equal(eddy_tcp_connect(&ps.connect_req, &ps.client,
                                    (struct sockaddr *)&addr, pair_connected),
                   0);
}

/* Peer reset: the reader gets ECONNRESET, not EOF. */
static void reset_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  (void)buf;
  if (nread == 0)
    return;
  ps.read_error = (int)nread;
  eddy_close(&s->handle, NULL);
}

static void reset_on_ready(void) {
  assert_int_equal(eddy_read_start(&ps.client.stream, alloc_static,
                                   reset_read),
                   0);
  assert_int_equal(eddy_tcp_close_reset(&ps.conn, NULL), 0);
  assert_int_equal(eddy_tcp_close_reset(&ps.conn, NULL), EDDY_EINVAL);
}

static void test_peer_reset(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  pair_start(&loop, reset_on_ready);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(ps.read_error, EDDY_ECONNRESET);
  test_assert_loop_clean(&loop);
}

/* After a read error the stream stops reading and is neither readable nor
 * writable, as after EOF: no EOF or other read follows, and the loop ends
 * without the program closing the stream (the test closes it after). */
static int reads_after_error;
static void error_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  (void)buf;
  if (nread == 0)
    return;
  if (ps.read_error != 0) {
    reads_after_error++;
    return;
  }
  ps.read_error = (int)nread;
  assert_false(eddy_is_readable(s));
  assert_false(eddy_is_writable(s));
  assert_false(eddy_is_active(&s->handle));
  assert_int_equal(eddy_read_start(s, alloc_static, error_read),
                   EDDY_ENOTCONN);
}

static void error_on_ready(void) {
  assert_int_equal(eddy_read_start(&ps.client.stream, alloc_static,
                                   error_read),
                   0);
  assert_int_equal(eddy_tcp_close_reset(&ps.conn, NULL), 0);
}

static void test_read_error_ends_reading(void **state) {
  eddy_loop_t loop;

  (void)state;
  reads_after_error = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  pair_start(&loop, error_on_ready);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(ps.read_error, EDDY_ECONNRESET);
  assert_int_equal(reads_after_error, 0);
  eddy_close(&ps.client.stream.handle, NULL);
  test_assert_loop_clean(&loop);
}

/* Closing a stream inside its own read callback: no further callbacks
 * (the peer's EOF is never reported), and the close callback runs. */
static void close_in_read(eddy_stream_t *s, ssize_t nread,
                          const eddy_buf_t *buf) {
  free(buf->base);
  if (nread == 0)
    return;
  ps.reads++;
  assert_true(nread > 0);
  eddy_close(&s->handle, NULL);
  /* A second close and reading again are refused. */
  assert_int_equal(eddy_close(&s->handle, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_read_start(s, alloc_heap, close_in_read), EDDY_EINVAL);
}

static void close_in_read_on_ready(void) {
  static char data[] = "0123456789";
  eddy_buf_t buf = eddy_buf_init(data, 10);
  int i;

  assert_int_equal(eddy_read_start(&ps.client.stream, alloc_heap,
                                   close_in_read),
                   0);
  for (i = 0; i < 4; i++)
    assert_int_equal(eddy_write(&ps.writes[i], &ps.conn.stream, &buf, 1, NULL),
                     0);
  eddy_close(&ps.conn.stream.handle, NULL);
}

static void test_close_inside_read_cb(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  pair_start(&loop, close_in_read_on_ready);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(ps.reads, 1);
  test_assert_loop_clean(&loop);
}

static void dummy_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  (void)s;
  (void)nread;
  (void)buf;
}

/* Writes queued behind a peer that does not read: closing completes the
 * finished ones with 0 and the rest with ECANCELED, in order, before the
 * close callback. */
static void cancel_write_done(eddy_write_t *req, int status) {
  int i = (int)(req - ps.writes);

  assert_int_equal(ps.closed, 0);
  ps.order[ps.norder++] = i;
  ps.statuses[i] = status;
}

static void cancel_closed(eddy_handle_t *h) {
  (void)h;
  ps.closed = 1;
  ps.close_seen_writes = ps.norder;
}

static unsigned char *cancel_data;

/* The server side reads nothing. */
static void cancel_on_ready(void) {
  int i;

  for (i = 0; i < 64; i++) {
    eddy_buf_t buf = eddy_buf_init(cancel_data, 1u << 20);

    assert_int_equal(eddy_write(&ps.writes[i], &ps.client.stream, &buf, 1,
                                cancel_write_done),
                     0);
  }
  assert_true(ps.client.stream.write_queue_size > 0);
  eddy_close(&ps.client.stream.handle, cancel_closed);
  assert_int_equal(ps.norder, 0); /* callbacks come later */
  eddy_close(&ps.conn.stream.handle, NULL);
}

static void test_close_cancels_writes_in_order(void **state) {
  eddy_loop_t loop;
  int i, cancelled = 0;

  (void)state;
  cancel_data = calloc(1, 1u << 20);
  assert_non_null(cancel_data);
  assert_int_equal(eddy_loop_init(&loop), 0);
  pair_start(&loop, cancel_on_ready);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(ps.norder, 64);
  assert_int_equal(ps.close_seen_writes, 64);
  for (i = 0; i < 64; i++) {
    assert_int_equal(ps.order[i], i);
    if (ps.statuses[i] == EDDY_ECANCELED)
      cancelled++;
    else
      assert_int_equal(ps.statuses[i], 0);
    /* Once one is cancelled, all later ones are. */
    if (i > 0 && ps.statuses[i - 1] == EDDY_ECANCELED)
      assert_int_equal(ps.statuses[i], EDDY_ECANCELED);
  }
  assert_true(cancelled > 0);
  test_assert_loop_clean(&loop);
  free(cancel_data);
}

/* ---- random operations against a byte-stream model ----------------------- */

static void model_ready(void) {
}

static void test_random_ops_against_model(void **state) {
  eddy_loop_t loop;
  unsigned seed;

  (void)state;
  for (seed = 1; seed <= 8; seed++) {
    assert_int_equal(eddy_loop_init(&loop), 0);
    pair_start(&loop, model_ready);
    while (ps.ready_count < 2)
      assert_true(eddy_run(&loop, EDDY_RUN_ONCE) >= 0);
    stream_model_run(&loop, &ps.client.stream, &ps.conn.stream, seed,
                     seed % 2 == 0);
    test_teardown_loop(&loop);
  }
}

/* ---- try_write, nodelay, keepalive, names, ENOBUFS ---------------------- */

static int enobufs_seen;

static void alloc_none(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = eddy_buf_init(NULL, 0);
}

static void enobufs_read(eddy_stream_t *s, ssize_t nread,
                         const eddy_buf_t *buf) {
  (void)buf;
  assert_int_equal(nread, EDDY_ENOBUFS);
  enobufs_seen++;
  eddy_read_stop(s);
  eddy_close(&s->handle, NULL);
  eddy_close(&ps.conn.stream.handle, NULL);
}

static int tcp_sockopt(eddy_tcp_t *t, int level, int name) {
  int v = -1, fd = -1;
  socklen_t len = sizeof(v);

  assert_int_equal(eddy_stream_fileno(&t->stream, &fd), 0);
  assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

static void options_on_ready(void) {
  static char data[] = "abc";
  eddy_buf_t buf = eddy_buf_init(data, 3);
  struct sockaddr_storage ss;
  int len = sizeof(ss);

  assert_int_equal(eddy_try_write(&ps.conn.stream, &buf, 1), 3);
  assert_int_equal(eddy_try_write(&ps.conn.stream, &buf, 0), 0);
  assert_int_equal(eddy_tcp_getpeername(&ps.conn, (struct sockaddr *)&ss,
                                        &len),
                   0);
  assert_int_equal(ss.ss_family, AF_INET);
  assert_int_equal(eddy_tcp_nodelay(&ps.conn, 1), 0);
  assert_int_equal(eddy_tcp_keepalive(&ps.conn, 1, 60), 0);
  assert_int_equal(tcp_sockopt(&ps.conn, SOL_SOCKET, SO_KEEPALIVE), 1);
  assert_int_equal(tcp_sockopt(&ps.conn, IPPROTO_TCP, TCP_KEEPIDLE), 60);
  assert_int_equal(tcp_sockopt(&ps.conn, IPPROTO_TCP, TCP_KEEPINTVL), 1);
  assert_int_equal(tcp_sockopt(&ps.conn, IPPROTO_TCP, TCP_KEEPCNT), 10);
  assert_int_equal(eddy_tcp_keepalive(&ps.conn, 1, 0), EDDY_EINVAL);
  /* every parameter */
  assert_int_equal(eddy_tcp_keepalive_ex(&ps.conn, 1, 30, 5, 3), 0);
  assert_int_equal(tcp_sockopt(&ps.conn, IPPROTO_TCP, TCP_KEEPIDLE), 30);
  assert_int_equal(tcp_sockopt(&ps.conn, IPPROTO_TCP, TCP_KEEPINTVL), 5);
  assert_int_equal(tcp_sockopt(&ps.conn, IPPROTO_TCP, TCP_KEEPCNT), 3);
  assert_int_equal(eddy_tcp_keepalive_ex(&ps.conn, 1, 0, 5, 3), EDDY_EINVAL);
  assert_int_equal(eddy_tcp_keepalive_ex(&ps.conn, 1, 30, 0, 3), EDDY_EINVAL);
  assert_int_equal(eddy_tcp_keepalive_ex(&ps.conn, 1, 30, 5, 0), EDDY_EINVAL);
  assert_int_equal(eddy_tcp_keepalive(&ps.conn, 0, 0), 0);
  assert_int_equal(tcp_sockopt(&ps.conn, SOL_SOCKET, SO_KEEPALIVE), 0);
  assert_int_equal(eddy_tcp_keepalive_ex(&ps.conn, 0, 0, 0, 0), 0);
  assert_int_equal(eddy_read_start(&ps.client.stream, alloc_none,
                                   enobufs_read),
                   0);
}

static void test_try_write_options_enobufs(void **state) {
  eddy_loop_t loop;

  (void)state;
  enobufs_seen = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  pair_start(&loop, options_on_ready);
  /* Options set before the socket exists are applied when it is made. */
  assert_int_equal(eddy_tcp_nodelay(&ps.server, 1), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(enobufs_seen, 1);
  test_assert_loop_clean(&loop);
}

/* ---- error paths -------------------------------------------------------- */

static int refused_status;

static void refused_connected(eddy_connect_t *req, int status) {
  refused_status = status;
  eddy_close(&req->handle->handle, NULL);
}

static void noop_connection(eddy_stream_t *server, int status) {
  (void)server;
  (void)status;
}

static void test_errors(void **state) {
  eddy_loop_t loop;
  eddy_tcp_t a, b, c, lazy;
  eddy_connect_t req;
  eddy_write_t wreq;
  eddy_shutdown_t sreq;
  struct sockaddr_in addr = test_loopback4(0), bad = test_loopback4(0);
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int port, closed_port;
  eddy_buf_t buf = eddy_buf_init("x", 1);

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tcp_init(&loop, &a), 0);
  assert_int_equal(eddy_tcp_init(&loop, &b), 0);
  assert_int_equal(eddy_tcp_init(&loop, &lazy), 0);
  /* Nothing to read, write or name yet. */
  assert_int_equal(eddy_read_start(&a.stream, alloc_static, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_read_start(&a.stream, alloc_static,
                                   dummy_read),
                   EDDY_ENOTCONN);
  assert_int_equal(eddy_write(&wreq, &a.stream, &buf, 1, NULL), EDDY_EBADF);
  assert_int_equal(eddy_write(&wreq, &a.stream, &buf, 0, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_try_write(&a.stream, &buf, 1), EDDY_EBADF);
  assert_int_equal(eddy_shutdown(&sreq, &a.stream, NULL), EDDY_ENOTCONN);
  assert_int_equal(eddy_tcp_getsockname(&a, (struct sockaddr *)&ss, &len),
                   EDDY_EBADF);
  assert_int_equal(eddy_accept(&a.stream, &b.stream), EDDY_EAGAIN);
  assert_int_equal(eddy_listen(&a.stream, 1, NULL), EDDY_EINVAL);
  /* Bad flags and families. */
  assert_int_equal(eddy_tcp_bind(&a, (struct sockaddr *)&addr, 99),
                   EDDY_EINVAL);
  assert_int_equal(eddy_tcp_bind(&a, (struct sockaddr *)&addr,
                                 EDDY_TCP_IPV6ONLY),
                   EDDY_EINVAL);
  bad.sin_family = AF_UNIX;
  assert_int_equal(eddy_tcp_bind(&a, (struct sockaddr *)&bad, 0), EDDY_EINVAL);
  assert_int_equal(eddy_tcp_init_ex(&loop, &c, AF_UNIX), EDDY_EINVAL);
  /* Address in use without REUSEPORT; shared with it on both sides. */
  assert_int_equal(eddy_tcp_bind(&a, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(eddy_listen(&a.stream, 8, noop_connection), 0);
  port = bound_port(&a);
  addr = test_loopback4(port);
  assert_int_equal(eddy_tcp_bind(&b, (struct sockaddr *)&addr, 0),
                   EDDY_EADDRINUSE);
  assert_int_equal(eddy_tcp_getpeername(&a, (struct sockaddr *)&ss, &len),
                   EDDY_ENOTCONN);
  assert_int_equal(eddy_read_start(&a.stream, alloc_static,
                                   dummy_read),
                   EDDY_EINVAL);
  eddy_close(&a.stream.handle, NULL);
  eddy_close(&b.stream.handle, NULL);
  eddy_run(&loop, EDDY_RUN_NOWAIT); /* the close callbacks: reusable now */

  assert_int_equal(eddy_tcp_init_ex(&loop, &a, AF_INET), 0);
  assert_int_equal(eddy_tcp_init_ex(&loop, &b, AF_INET), 0);
  addr = test_loopback4(0);
  assert_int_equal(eddy_tcp_bind(&a, (struct sockaddr *)&addr,
                                 EDDY_TCP_REUSEPORT),
                   0);
  addr = test_loopback4(bound_port(&a));
  assert_int_equal(eddy_tcp_bind(&b, (struct sockaddr *)&addr,
                                 EDDY_TCP_REUSEPORT),
                   0);
  closed_port = bound_port(&b); /* bound, never listening: refuses */
  assert_int_equal(eddy_tcp_open(&a, 0), EDDY_EBUSY);
  eddy_close(&a.stream.handle, NULL);

  /* Connecting to a port nobody listens on: ECONNREFUSED, from the loop. */
  refused_status = 1;
  addr = test_loopback4(closed_port);
  eddy_close(&b.stream.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_tcp_connect(&req, &lazy, (struct sockaddr *)&addr,
                                    refused_connected),
                   0);
  assert_int_equal(refused_status, 1);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(refused_status, EDDY_ECONNREFUSED);
  test_assert_loop_clean(&loop);
}

/* ---- EMFILE on accept ---------------------------------------------------- */

#define EMFILE_CLIENTS 3

struct emfile_state {
  eddy_tcp_t server;
  eddy_tcp_t accepted[EMFILE_CLIENTS + 1];
  int naccepted;
  int emfile_errors;
};

static struct emfile_state ms;

static void emfile_on_connection(eddy_stream_t *server, int status) {
  if (status != 0) {
    assert_true(status == EDDY_EMFILE || status == EDDY_ENFILE);
    ms.emfile_errors++;
    return;
  }
  assert_int_equal(eddy_tcp_init(server->handle.loop,
                                 &ms.accepted[ms.naccepted]),
                   0);
  assert_int_equal(eddy_accept(server, &ms.accepted[ms.naccepted].stream), 0);
  ms.naccepted++;
}

/* A blocking client: connect, then wait for the server to react. Returns
 * what read(2) saw: 0 for EOF, -ECONNRESET, or 1 if data. */
static int blocking_connect(int port) {
  struct sockaddr_in addr = test_loopback4(port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true(fd >= 0);
  assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  return fd;
}

static void test_emfile_keeps_serving(void **state) {
  eddy_loop_t loop;
  struct test_fd_fill fill;
  int clients[EMFILE_CLIENTS];
  int port, i;
  char c;

  (void)state;
  memset(&ms, 0, sizeof(ms));
  assert_int_equal(eddy_loop_init(&loop), 0);
  port = listen_loopback(&loop, &ms.server, emfile_on_connection);
  /* Clients connect first (the kernel completes the handshake for the
   * backlog), then the process runs out of descriptors. */
  for (i = 0; i < EMFILE_CLIENTS; i++)
    clients[i] = blocking_connect(port);
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  /* The server cannot accept: the waiting clients are dropped, not left
   * hanging, and the program hears of it. */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 1);
  assert_true(ms.emfile_errors >= 1);
  assert_int_equal(ms.naccepted, 0);
  for (i = 0; i < EMFILE_CLIENTS; i++) {
    ssize_t r = read(clients[i], &c, 1);

    assert_true(r == 0 || (r == -1 && errno == ECONNRESET));
    close(clients[i]);
  }
  /* Descriptors free up: the server accepts again. */
  assert_int_equal(test_fds_release(&fill), 0);
  clients[0] = blocking_connect(port);
  while (ms.naccepted == 0)
    eddy_run(&loop, EDDY_RUN_ONCE);
  close(clients[0]);
  assert_int_equal(ms.naccepted, 1);
  test_teardown_loop(&loop);
}

/* Out of descriptors on the client side: connect and init_ex cannot create
 * their socket and say EMFILE; once descriptors free up, the same handle
 * connects. */
static int oc_status = 1;

static void oc_connected(eddy_connect_t *req, int status) {
  (void)req;
  oc_status = status;
}

static void test_connect_out_of_descriptors(void **state) {
  eddy_loop_t loop;
  eddy_tcp_t server, client, other;
  eddy_connect_t req;
  struct test_fd_fill fill;
  struct sockaddr_in addr;
  int err_connect, err_init;

  (void)state;
  memset(&ms, 0, sizeof(ms));
  assert_int_equal(eddy_loop_init(&loop), 0);
  addr = test_loopback4(listen_loopback(&loop, &server, emfile_on_connection));
  assert_int_equal(eddy_tcp_init(&loop, &client), 0);
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  err_connect = eddy_tcp_connect(&req, &client, (struct sockaddr *)&addr,
                                 oc_connected);
  err_init = eddy_tcp_init_ex(&loop, &other, AF_INET);
  assert_int_equal(test_fds_release(&fill), 0);
  assert_true(err_connect == EDDY_EMFILE || err_connect == EDDY_ENFILE);
  assert_true(err_init == EDDY_EMFILE || err_init == EDDY_ENFILE);
  oc_status = 1;
  assert_int_equal(eddy_tcp_connect(&req, &client, (struct sockaddr *)&addr,
                                    oc_connected),
                   0);
  while (oc_status == 1 || ms.naccepted == 0)
    assert_true(eddy_run(&loop, EDDY_RUN_ONCE) >= 0);
  assert_int_equal(oc_status, 0);
  test_teardown_loop(&loop);
}

/* ---- scenario 08: close order --------------------------------------------- */

static struct test_log s08_log;
static eddy_tcp_t s08_server, s08_client, s08_conn;
static eddy_connect_t s08_connect;
static eddy_check_t s08_immediate;
static eddy_idle_t s08_idle;

static void s08_say(eddy_loop_t *loop, void *line) {
  (void)loop;
  test_log_printf(&s08_log, "%s\n", (const char *)line);
}

static void s08_client_closed(eddy_handle_t *h) {
  s08_say(h->loop, "client socket close event");
}

static void s08_server_closed(eddy_handle_t *h) {
  s08_say(h->loop, "server close callback");
}

static void s08_immediate_run(eddy_check_t *check) {
  eddy_close(&check->handle, NULL);
  eddy_close(&s08_idle.handle, NULL);
  s08_say(check->handle.loop, "immediate queued right after destroy()");
}

static void s08_idle_noop(eddy_idle_t *idle) {
  (void)idle;
}

static void s08_on_connection(eddy_stream_t *server, int status) {
  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(server->handle.loop, &s08_conn), 0);
  assert_int_equal(eddy_accept(server, &s08_conn.stream), 0);
  eddy_close(&s08_conn.stream.handle, NULL);
}

static void s08_connected(eddy_connect_t *req, int status) {
  eddy_loop_t *loop = req->handle->handle.loop;

  assert_int_equal(status, 0);
  s08_say(loop, "client connected");
  eddy_close(&s08_client.stream.handle, s08_client_closed); /* destroy() */
  assert_int_equal(eddy_check_init(loop, &s08_immediate), 0);
  assert_int_equal(eddy_check_start(&s08_immediate, s08_immediate_run), 0);
  assert_int_equal(eddy_idle_init(loop, &s08_idle), 0);
  assert_int_equal(eddy_idle_start(&s08_idle, s08_idle_noop), 0);
  eddy_next_tick(loop, s08_say, "nextTick queued right after destroy()");
  eddy_close(&s08_server.stream.handle, s08_server_closed);
}

static void s08_listening(eddy_loop_t *loop, void *arg) {
  struct sockaddr_in addr = test_loopback4(bound_port(&s08_server));

  (void)arg;
  s08_say(loop, "listening");
  assert_int_equal(eddy_tcp_init(loop, &s08_client), 0);
  assert_int_equal(eddy_tcp_connect(&s08_connect, &s08_client,
                                    (struct sockaddr *)&addr, s08_connected),
                   0);
}

static void test_scenario08_close_order(void **state) {
  eddy_loop_t loop;
  static char expected[1024];

  (void)state;
  memset(&s08_log, 0, sizeof(s08_log));
  assert_int_equal(eddy_loop_init(&loop), 0);
  listen_loopback(&loop, &s08_server, s08_on_connection);
  eddy_next_tick(&loop, s08_listening, NULL); /* 'listening' is emitted async */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  test_read_scenario("08_close_callbacks.out", expected, sizeof(expected));
  s08_log.buf[s08_log.len] = '\0';
  assert_string_equal(s08_log.buf, expected);
  test_teardown_loop(&loop);
}

/* Writes queued while a connect is in progress, when the connect fails:
 * the connect callback gets the error, then each write ECANCELED, in order
 * (the connect's error is the connect's). */
static int failed_order[3], failed_status[3], failed_n;

static void failed_connect(eddy_connect_t *req, int status) {
  (void)req;
  failed_order[failed_n] = 0;
  failed_status[failed_n++] = status;
}

static void failed_write(eddy_write_t *req, int status) {
  failed_order[failed_n] = (int)(intptr_t)req->req.data;
  failed_status[failed_n++] = status;
  if (failed_n == 3)
    eddy_close(&req->handle->handle, NULL);
}

static void test_writes_cancelled_when_connect_fails(void **state) {
  eddy_loop_t loop;
  eddy_tcp_t tcp;
  eddy_connect_t creq;
  eddy_write_t w1, w2;
  eddy_buf_t buf = eddy_buf_init("x", 1);
  struct sockaddr_in addr = test_loopback4(0);
  socklen_t alen = sizeof(addr);
  int holder = socket(AF_INET, SOCK_STREAM, 0);

  (void)state;
  /* A bound socket that never listens: connects to its port are refused. */
  assert_true(holder >= 0);
  assert_int_equal(bind(holder, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(getsockname(holder, (struct sockaddr *)&addr, &alen), 0);
  failed_n = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tcp_init(&loop, &tcp), 0);
  assert_int_equal(eddy_tcp_connect(&creq, &tcp, (struct sockaddr *)&addr,
                                    failed_connect),
                   0);
  w1.req.data = (void *)1;
  w2.req.data = (void *)2;
  assert_int_equal(eddy_write(&w1, &tcp.stream, &buf, 1, failed_write), 0);
  assert_int_equal(eddy_write(&w2, &tcp.stream, &buf, 1, failed_write), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(failed_n, 3);
  assert_int_equal(failed_order[0], 0);
  assert_int_equal(failed_status[0], EDDY_ECONNREFUSED);
  assert_int_equal(failed_order[1], 1);
  assert_int_equal(failed_status[1], EDDY_ECANCELED);
  assert_int_equal(failed_order[2], 2);
  assert_int_equal(failed_status[2], EDDY_ECANCELED);
  assert_int_equal(eddy_stream_get_write_queue_size(&tcp.stream), 0);
  test_assert_loop_clean(&loop);
  close(holder);
}

/* eddy_tcp_open finds out what the socket is: unconnected (connect
 * works), listening (neither readable nor writable; eddy_listen goes on),
 * or connected (readable and writable). */
static int open_connected_status = 1;

static void closed_free(eddy_handle_t *h) {
  free(h->data);
}

static void open_connected(eddy_connect_t *req, int status) {
  open_connected_status = status;
  eddy_close(&req->handle->handle, NULL);
}

static int open_accepted;

/* Takes the peer's and the client's connections, then stops listening. */
static void open_accept(eddy_stream_t *server, int status) {
  eddy_tcp_t *conn = malloc(sizeof(*conn));

  assert_int_equal(status, 0);
  assert_non_null(conn);
  assert_int_equal(eddy_tcp_init(server->handle.loop, conn), 0);
  assert_int_equal(eddy_accept(server, &conn->stream), 0);
  conn->stream.handle.data = conn;
  eddy_close(&conn->stream.handle, closed_free);
  if (++open_accepted == 2)
    eddy_close(&server->handle, NULL);
}

static void test_open_finds_socket_state(void **state) {
  eddy_loop_t loop;
  eddy_tcp_t server, client, connected;
  eddy_connect_t req;
  struct sockaddr_in addr = test_loopback4(0);
  socklen_t alen = sizeof(addr);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int cfd = socket(AF_INET, SOCK_STREAM, 0);
  int peer = socket(AF_INET, SOCK_STREAM, 0);

  (void)state;
  assert_true(lfd >= 0 && cfd >= 0 && peer >= 0);
  open_accepted = 0;
  assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &alen), 0);
  assert_int_equal(listen(lfd, 8), 0);
  assert_int_equal(connect(peer, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  /* Listening: */
  assert_int_equal(eddy_tcp_init(&loop, &server), 0);
  assert_int_equal(eddy_tcp_open(&server, lfd), 0);
  assert_false(eddy_is_readable(&server.stream));
  assert_false(eddy_is_writable(&server.stream));
  assert_int_equal(eddy_listen(&server.stream, 8, open_accept), 0);
  /* Connected (the peer of a connection the listener queued): */
  assert_int_equal(eddy_tcp_init(&loop, &connected), 0);
  assert_int_equal(eddy_tcp_open(&connected, peer), 0);
  assert_true(eddy_is_readable(&connected.stream));
  assert_true(eddy_is_writable(&connected.stream));
  eddy_close(&connected.stream.handle, NULL);
  /* Unconnected: connect goes ahead (was EISCONN). */
  assert_int_equal(eddy_tcp_init(&loop, &client), 0);
  assert_int_equal(eddy_tcp_open(&client, cfd), 0);
  assert_false(eddy_is_readable(&client.stream));
  assert_int_equal(eddy_tcp_connect(&req, &client, (struct sockaddr *)&addr,
                                    open_connected),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(open_connected_status, 0);
  test_assert_loop_clean(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo_round_trip),
      cmocka_unit_test(test_ipv6_loopback),
      cmocka_unit_test(test_64mib_slow_reader),
      cmocka_unit_test(test_peer_reset),
      cmocka_unit_test(test_read_error_ends_reading),
      cmocka_unit_test(test_writes_cancelled_when_connect_fails),
      cmocka_unit_test(test_open_finds_socket_state),
      cmocka_unit_test(test_close_inside_read_cb),
      cmocka_unit_test(test_close_cancels_writes_in_order),
      cmocka_unit_test(test_random_ops_against_model),
      cmocka_unit_test(test_try_write_options_enobufs),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_emfile_keeps_serving),
      cmocka_unit_test(test_connect_out_of_descriptors),
      cmocka_unit_test(test_scenario08_close_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
