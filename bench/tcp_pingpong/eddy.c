/* tcp_pingpong, eddy side: one TCP connection on 127.0.0.1, client and
 * server on the same loop in one process (libuv's own benchmark shape).
 * The client sends a 4-byte message (the round-trip number), the server
 * echoes whatever it reads, the client checks the echo and sends the next
 * one; one message in flight. Runs for argv[1] seconds (default 5), or,
 * when argv[2] is given, for exactly that many round trips (what
 * bench/syscalls.sh uses). TCP_NODELAY on both ends.
 * Built with BENCH_PIPE defined (bench/pipe_pingpong), the same program
 * runs over a Unix socket in a fresh directory under /tmp.
 * Verifies: every echo equals the message sent, the connect succeeded,
 * every write completed with status 0, the server saw EOF after the last
 * round trip, all handles closed, the loop closes cleanly. Exits 1 if any
 * check fails or the run overstays its watchdog.
 * Output: impl, version, transport, round_trips, wall_s, round_trips_per_s
 * (higher is better). */
#include <eddy.h>

#include "../metrics.h"
#include "../common.h"
#include "../net.h"

#ifdef BENCH_PIPE
#include <sys/stat.h>
typedef eddy_pipe_t sock_t;
#define TRANSPORT "unix"
#else
typedef eddy_tcp_t sock_t;
#define TRANSPORT "tcp"
#endif

#define MSG_LEN 4
#define NWREQ 8 /* write requests per side; one is ever in use */

struct wreq {
  eddy_write_t req;
  int busy;
  char data[64];
};

static eddy_loop_t loop;
static sock_t server, conn, client;
static eddy_connect_t connect_req;
static eddy_timer_t timer;
static struct wreq client_w[NWREQ], server_w[NWREQ];
static char client_space[65536], server_space[65536];
static unsigned char inbox[MSG_LEN];
static size_t inbox_len;
static uint32_t seq;
static long round_trips, target, errs, closes, server_eof;
static int stopping;
static double t0, t1;

static void on_close(eddy_handle_t *h) {
  (void)h;
  closes++;
}

static void alloc_client(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = eddy_buf_init(client_space, sizeof(client_space));
}

static void alloc_server(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = eddy_buf_init(server_space, sizeof(server_space));
}

static void on_written(eddy_write_t *req, int status) {
  struct wreq *w = (struct wreq *)req; /* req is the first member */

  BENCH_CHECK(status == 0, errs);
  w->busy = 0;
}

/* Write a copy of data[0..len) from a free request of pool. */
static void send_copy(struct wreq *pool, eddy_stream_t *s, const void *data,
                      size_t len) {
  for (int i = 0; i < NWREQ; i++) {
    if (pool[i].busy) continue;
    if (len > sizeof(pool[i].data)) break;
    eddy_buf_t b = eddy_buf_init(pool[i].data, len);
    memcpy(pool[i].data, data, len);
    pool[i].busy = 1;
    if (eddy_write(&pool[i].req, s, &b, 1, on_written) != 0) {
      pool[i].busy = 0;
      errs++;
    }
    return;
  }
  fprintf(stderr, "no free write request (or %zu bytes too many)\n", len);
  errs++;
}

static void send_ping(void) {
  unsigned char msg[MSG_LEN];

  memcpy(msg, &seq, MSG_LEN);
  send_copy(client_w, &client.stream, msg, MSG_LEN);
}

static void on_server_read(eddy_stream_t *s, ssize_t nread,
                           const eddy_buf_t *buf) {
  if (nread == EDDY_EOF) {
    server_eof++;
    eddy_close(&s->handle, on_close);
    eddy_close(&server.stream.handle, on_close);
    return;
  }
  if (nread < 0) {
    fprintf(stderr, "server read: %s\n", eddy_strerror((int)nread));
    errs++;
    eddy_close(&s->handle, on_close);
    eddy_close(&server.stream.handle, on_close);
    return;
  }
  if (nread > 0) send_copy(server_w, s, buf->base, (size_t)nread);
}

static void finish(void) {
  t1 = bench_now();
  eddy_close(&client.stream.handle, on_close);
  eddy_close(&timer.handle, on_close);
}

static void on_client_read(eddy_stream_t *s, ssize_t nread,
                           const eddy_buf_t *buf) {
  (void)s;
  if (nread < 0) {
    fprintf(stderr, "client read: %s\n", eddy_strerror((int)nread));
    errs++;
    finish();
    return;
  }
  if (inbox_len + (size_t)nread > MSG_LEN) {
    fprintf(stderr, "client read: %zd bytes more than sent\n", nread);
    errs++;
    finish();
    return;
  }
  memcpy(inbox + inbox_len, buf->base, (size_t)nread);
  inbox_len += (size_t)nread;
  if (inbox_len < MSG_LEN) return;
  inbox_len = 0;
  if (memcmp(inbox, &seq, MSG_LEN) != 0) errs++;
  round_trips++;
  seq++;
  if (stopping || (target > 0 && round_trips >= target)) {
    finish();
    return;
  }
  send_ping();
}

static void on_timer(eddy_timer_t *t) {
  (void)t;
  stopping = 1; /* the client stops at the next echo */
}

static void on_connect(eddy_connect_t *req, int status) {
  (void)req;
  BENCH_CHECK(status == 0, errs);
  if (status != 0) {
    eddy_close(&client.stream.handle, on_close);
    eddy_close(&server.stream.handle, on_close);
    eddy_close(&timer.handle, on_close);
    return;
  }
#ifndef BENCH_PIPE
  BENCH_CHECK(eddy_tcp_nodelay(&client, 1) == 0, errs);
#endif
  BENCH_CHECK(
      eddy_read_start(&client.stream, alloc_client, on_client_read) == 0, errs);
  t0 = bench_now();
  send_ping();
}

static void on_connection(eddy_stream_t *s, int status) {
  BENCH_CHECK(status == 0, errs);
  if (status != 0) return;
#ifdef BENCH_PIPE
  eddy_pipe_init(&loop, &conn, 0);
#else
  eddy_tcp_init(&loop, &conn);
#endif
  BENCH_CHECK(eddy_accept(s, &conn.stream) == 0, errs);
#ifndef BENCH_PIPE
  BENCH_CHECK(eddy_tcp_nodelay(&conn, 1) == 0, errs);
#endif
  BENCH_CHECK(eddy_read_start(&conn.stream, alloc_server, on_server_read) == 0,
              errs);
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 5.0);
  target = bench_argn_long(argc, argv, 2, 0);
  bench_watchdog(target > 0 ? 300 : (unsigned)seconds + 60);

  if (eddy_loop_init(&loop) != 0) return 1;
  if (bench_eddy_metrics(&loop) != 0) return 1;
#ifdef BENCH_PIPE
  char dir[] = "/tmp/eddy-bench-XXXXXX", path[64];
  if (mkdtemp(dir) == NULL) return 1;
  snprintf(path, sizeof(path), "%s/s", dir);
  eddy_pipe_init(&loop, &server, 0);
  eddy_pipe_init(&loop, &client, 0);
  BENCH_CHECK(eddy_pipe_bind(&server, path) == 0, errs);
  BENCH_CHECK(eddy_listen(&server.stream, 128, on_connection) == 0, errs);
  BENCH_CHECK(eddy_pipe_connect(&connect_req, &client, path, on_connect) == 0,
              errs);
#else
  struct sockaddr_in addr = bench_loopback(0);
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  eddy_tcp_init(&loop, &server);
  eddy_tcp_init(&loop, &client);
  BENCH_CHECK(eddy_tcp_bind(&server, (struct sockaddr *)&addr, 0) == 0, errs);
  BENCH_CHECK(eddy_listen(&server.stream, 128, on_connection) == 0, errs);
  BENCH_CHECK(eddy_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) ==
                  0,
              errs);
  addr.sin_port = ((struct sockaddr_in *)&bound)->sin_port;
  BENCH_CHECK(eddy_tcp_connect(&connect_req, &client, (struct sockaddr *)&addr,
                               on_connect) == 0,
              errs);
#endif
  if (errs) return 1;
  eddy_timer_init(&loop, &timer);
  if (target == 0)
    eddy_timer_start(&timer, on_timer, (uint64_t)(seconds * 1000), 0);
  eddy_run(&loop, EDDY_RUN_DEFAULT);

  BENCH_CHECK(closes == 4, errs);
  BENCH_CHECK(server_eof == 1, errs);
  BENCH_CHECK(round_trips > 0, errs);
  BENCH_CHECK(target == 0 || round_trips == target, errs);
  for (int i = 0; i < NWREQ; i++)
    BENCH_CHECK(!client_w[i].busy && !server_w[i].busy, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
#ifdef BENCH_PIPE
  unlink(path);
  rmdir(dir);
#endif
  printf("impl=eddy\nversion=%s\ntransport=%s\n", eddy_version_string(),
         TRANSPORT);
  printf("round_trips=%ld\nwall_s=%.4f\nround_trips_per_s=%.0f\n", round_trips,
         t1 - t0, (double)round_trips / (t1 - t0));
  return errs ? 1 : 0;
}
