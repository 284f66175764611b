/* tcp_pingpong, libev side: one TCP connection on 127.0.0.1, client and
 * server on the same loop in one process (libuv's own benchmark shape).
 * The client sends a 4-byte message (the round-trip number), the server
 * echoes whatever it reads, the client checks the echo and sends the next
 * one; one message in flight. Runs for argv[1] seconds (default 5), or,
 * when argv[2] is given, for exactly that many round trips (what
 * bench/syscalls.sh uses). TCP_NODELAY on both ends.
 * libev watches descriptors and has no streams: the program makes
 * non-blocking sockets (bench/net.h), reads once per readiness into a
 * 64 KiB buffer, and writes at once, as libuv's and eddy's writes do; bytes
 * the kernel does not take wait for an ev_io write watcher.
 * Built with BENCH_PIPE defined (bench/pipe_pingpong), the same program
 * runs over a Unix socket in a fresh directory under /tmp.
 * Verifies: every echo equals the message sent, the connect succeeded,
 * every write completed, the server saw EOF after the last round trip, all
 * descriptors closed and watchers stopped, ev_run then finds no active
 * watcher. Exits 1 if any check fails or the run overstays its watchdog.
 * Output: impl, version, transport, round_trips, wall_s, round_trips_per_s
 * (higher is better). */
#include <ev.h>

#include "../common.h"
#include "../net.h"

#ifdef BENCH_PIPE
#define TRANSPORT "unix"
#else
#define TRANSPORT "tcp"
#endif

#define MSG_LEN 4
#define OUT_MAX 64 /* bytes an end may hold unwritten; 4 are ever in flight */

/* One end of the connection: its descriptor, its read and write watchers,
 * and the bytes the kernel did not take yet. */
struct end {
  int fd;
  ev_io rd, wr;
  unsigned char out[OUT_MAX];
  size_t out_len;
};

static struct ev_loop *loop;
static int listen_fd = -1;
static ev_io listen_w;
static struct end conn = {.fd = -1}, client = {.fd = -1};
static ev_timer timer;
static char client_space[65536], server_space[65536];
static unsigned char inbox[MSG_LEN];
static size_t inbox_len;
static uint32_t seq;
static long round_trips, target, errs, closes, server_eof;
static int stopping, connected;
static double t0, t1;

static void end_close(struct end *e) {
  ev_io_stop(loop, &e->rd);
  ev_io_stop(loop, &e->wr);
  close(e->fd);
  e->fd = -1;
  closes++;
}

static void listener_close(void) {
  ev_io_stop(loop, &listen_w);
  close(listen_fd);
  listen_fd = -1;
  closes++;
}

/* Write data[0..len) on e now; keep what the kernel does not take for the
 * write watcher. MSG_NOSIGNAL: a broken connection is an error, not a
 * SIGPIPE. */
static void send_bytes(struct end *e, const void *data, size_t len) {
  ssize_t n = 0;

  if (e->out_len == 0) {
    n = send(e->fd, data, len, MSG_NOSIGNAL);
    if (n == (ssize_t)len) return;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        perror("write");
        errs++;
        return;
      }
      n = 0;
    }
  }
  if (e->out_len + len - (size_t)n > OUT_MAX) {
    fprintf(stderr, "%zu bytes more than an end may hold\n", len);
    errs++;
    return;
  }
  memcpy(e->out + e->out_len, (const char *)data + n, len - (size_t)n);
  e->out_len += len - (size_t)n;
  ev_io_start(loop, &e->wr);
}

/* e is writable: write what it holds. */
static void flush_out(struct end *e) {
  ssize_t n = send(e->fd, e->out, e->out_len, MSG_NOSIGNAL);

  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    perror("write");
    errs++;
    e->out_len = 0;
  } else {
    memmove(e->out, e->out + n, e->out_len - (size_t)n);
    e->out_len -= (size_t)n;
  }
  if (e->out_len == 0) ev_io_stop(loop, &e->wr);
}

static void send_ping(void) {
  unsigned char msg[MSG_LEN];

  memcpy(msg, &seq, MSG_LEN);
  send_bytes(&client, msg, MSG_LEN);
}

static void on_server_readable(struct ev_loop *l, ev_io *w, int revents) {
  ssize_t n = read(conn.fd, server_space, sizeof(server_space));

  (void)l;
  (void)w;
  (void)revents;
  if (n > 0) {
    send_bytes(&conn, server_space, (size_t)n);
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n == 0) {
    server_eof++;
  } else {
    perror("server read");
    errs++;
  }
  end_close(&conn);
  listener_close();
}

static void on_server_writable(struct ev_loop *l, ev_io *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  flush_out(&conn);
}

static void finish(void) {
  t1 = bench_now();
  end_close(&client);
  ev_timer_stop(loop, &timer);
  closes++;
}

static void on_client_readable(struct ev_loop *l, ev_io *w, int revents) {
  ssize_t n = read(client.fd, client_space, sizeof(client_space));

  (void)l;
  (void)w;
  (void)revents;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) {
    if (n == 0)
      fprintf(stderr, "client read: unexpected EOF\n");
    else
      perror("client read");
    errs++;
    finish();
    return;
  }
  if (inbox_len + (size_t)n > MSG_LEN) {
    fprintf(stderr, "client read: %zd bytes more than sent\n", n);
    errs++;
    finish();
    return;
  }
  memcpy(inbox + inbox_len, client_space, (size_t)n);
  inbox_len += (size_t)n;
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

/* The connect's completion first (the watcher starts for it), then the
 * bytes the client could not write at once. */
static void on_client_writable(struct ev_loop *l, ev_io *w, int revents) {
  int err;

  (void)l;
  (void)w;
  (void)revents;
  if (connected) {
    flush_out(&client);
    return;
  }
  ev_io_stop(loop, &client.wr);
  err = bench_connect_result(client.fd);
  BENCH_CHECK(err == 0, errs);
  if (err != 0) {
    fprintf(stderr, "connect: %s\n", strerror(err));
    end_close(&client);
    listener_close();
    ev_timer_stop(loop, &timer);
    closes++;
    return;
  }
  connected = 1;
#ifndef BENCH_PIPE
  BENCH_CHECK(bench_nodelay(client.fd) == 0, errs);
#endif
  ev_io_start(loop, &client.rd);
  t0 = bench_now();
  send_ping();
}

static void on_timer(struct ev_loop *l, ev_timer *t, int revents) {
  (void)l;
  (void)t;
  (void)revents;
  stopping = 1; /* the client stops at the next echo */
}

static void on_accept(struct ev_loop *l, ev_io *w, int revents) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

  (void)l;
  (void)w;
  (void)revents;
  if (fd == -1) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    perror("accept");
    errs++;
    return;
  }
  if (conn.fd != -1) { /* only the client connects */
    fprintf(stderr, "accept: a second connection\n");
    errs++;
    close(fd);
    return;
  }
  conn.fd = fd;
#ifndef BENCH_PIPE
  BENCH_CHECK(bench_nodelay(fd) == 0, errs);
#endif
  ev_io_init(&conn.rd, on_server_readable, fd, EV_READ);
  ev_io_init(&conn.wr, on_server_writable, fd, EV_WRITE);
  ev_io_start(loop, &conn.rd);
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 5.0);
  const char *path = NULL;
  int done;

  target = bench_argn_long(argc, argv, 2, 0);
  bench_watchdog(target > 0 ? 300 : (unsigned)seconds + 60);

  loop = ev_loop_new(EVFLAG_AUTO);
  if (loop == NULL) return 1;
#ifdef BENCH_PIPE
  char dir[] = "/tmp/eddy-bench-XXXXXX", sock_path[64];
  if (mkdtemp(dir) == NULL) return 1;
  snprintf(sock_path, sizeof(sock_path), "%s/s", dir);
  path = sock_path;
#endif
  listen_fd = bench_listen_fd(path);
  if (listen_fd == -1) {
    perror("listen");
    return 1;
  }
  ev_io_init(&listen_w, on_accept, listen_fd, EV_READ);
  ev_io_start(loop, &listen_w);
  client.fd = bench_connect_fd(listen_fd, path, &done);
  if (client.fd == -1) {
    perror("connect");
    return 1;
  }
  /* Connected at once or not, the connect completes from the loop (the
   * socket turns writable), as libuv's and eddy's connect callbacks do. */
  ev_io_init(&client.rd, on_client_readable, client.fd, EV_READ);
  ev_io_init(&client.wr, on_client_writable, client.fd, EV_WRITE);
  ev_io_start(loop, &client.wr);
  ev_timer_init(&timer, on_timer, seconds, 0.0);
  if (target == 0) ev_timer_start(loop, &timer);
  BENCH_CHECK(ev_run(loop, 0) == 0, errs); /* 0: no active watcher left */

  BENCH_CHECK(closes == 4, errs);
  BENCH_CHECK(server_eof == 1, errs);
  BENCH_CHECK(round_trips > 0, errs);
  BENCH_CHECK(target == 0 || round_trips == target, errs);
  BENCH_CHECK(client.out_len == 0 && conn.out_len == 0, errs);
  ev_loop_destroy(loop);
#ifdef BENCH_PIPE
  unlink(path);
  rmdir(dir);
#endif
  printf("impl=ev\nversion=%d.%d\ntransport=%s\n", ev_version_major(),
         ev_version_minor(), TRANSPORT);
  printf("round_trips=%ld\nwall_s=%.4f\nround_trips_per_s=%.0f\n", round_trips,
         t1 - t0, (double)round_trips / (t1 - t0));
  return errs ? 1 : 0;
}
