/* tcp_pingpong over plain sockets: the part the libev and libevent sides
 * share (ev.c, event.c). Neither library has streams, so the program makes
 * non-blocking sockets (bench/net.h), reads once per readiness into a
 * 64 KiB buffer, and writes at once, as libuv's and eddy's writes do;
 * bytes the kernel does not take wait for a write watcher.
 *
 * The including file defines PLAIN_WATCHER (its descriptor watcher type)
 * and, after this header, the hooks declared at the end: starting and
 * stopping watchers is all that differs between the two libraries. Its
 * callbacks call plain_server_readable, plain_client_readable,
 * plain_client_writable and plain_accept. */
#ifndef BENCH_TCP_PINGPONG_PLAIN_H
#define BENCH_TCP_PINGPONG_PLAIN_H

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
  PLAIN_WATCHER rd, wr;
  unsigned char out[OUT_MAX];
  size_t out_len;
};

static int listen_fd = -1;
static struct end conn = {.fd = -1}, client = {.fd = -1};
static char client_space[65536], server_space[65536];
static unsigned char inbox[MSG_LEN];
static size_t inbox_len;
static uint32_t seq;
static long round_trips, target, errs, closes, server_eof;
static int stopping, connected;
static double t0, t1;

/* The including file's hooks. */
static void watch_read(struct end *e);
static void watch_write(struct end *e, int on);
static void unwatch_end(struct end *e);      /* both watchers */
static void unwatch_listener(void);
static void stop_timer(void);
static void watch_conn(int fd); /* set conn's watchers up, start reading */

static void end_close(struct end *e) {
  unwatch_end(e);
  close(e->fd);
  e->fd = -1;
  closes++;
}

static void listener_close(void) {
  unwatch_listener();
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
  watch_write(e, 1);
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
  if (e->out_len == 0) watch_write(e, 0);
}

static void send_ping(void) {
  unsigned char msg[MSG_LEN];

  memcpy(msg, &seq, MSG_LEN);
  send_bytes(&client, msg, MSG_LEN);
}

/* The server echoes what it reads; EOF closes it and the listener. */
static void plain_server_readable(void) {
  ssize_t n = read(conn.fd, server_space, sizeof(server_space));

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

static void finish(void) {
  t1 = bench_now();
  end_close(&client);
  stop_timer();
  closes++;
}

static void plain_client_readable(void) {
  ssize_t n = read(client.fd, client_space, sizeof(client_space));

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
static void plain_client_writable(void) {
  int err;

  if (connected) {
    flush_out(&client);
    return;
  }
  watch_write(&client, 0);
  err = bench_connect_result(client.fd);
  BENCH_CHECK(err == 0, errs);
  if (err != 0) {
    fprintf(stderr, "connect: %s\n", strerror(err));
    end_close(&client);
    listener_close();
    stop_timer();
    closes++;
    return;
  }
  connected = 1;
#ifndef BENCH_PIPE
  BENCH_CHECK(bench_nodelay(client.fd) == 0, errs);
#endif
  watch_read(&client);
  t0 = bench_now();
  send_ping();
}

static void plain_accept(void) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

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
  watch_conn(fd);
}

/* The listener and the client's socket (its connect under way); path is
 * the Unix socket's, NULL for TCP. Returns 0, or -1 after a message. */
static int plain_open(const char *path) {
  int done;

  listen_fd = bench_listen_fd(path);
  if (listen_fd == -1) {
    perror("listen");
    return -1;
  }
  client.fd = bench_connect_fd(listen_fd, path, &done);
  if (client.fd == -1) {
    perror("connect");
    return -1;
  }
  return 0;
}

/* The checks once the loop has run out, then the output. */
static int plain_report(const char *impl, const char *version) {
  BENCH_CHECK(closes == 4, errs);
  BENCH_CHECK(server_eof == 1, errs);
  BENCH_CHECK(round_trips > 0, errs);
  BENCH_CHECK(target == 0 || round_trips == target, errs);
  BENCH_CHECK(client.out_len == 0 && conn.out_len == 0, errs);
  printf("impl=%s\nversion=%s\ntransport=%s\n", impl, version, TRANSPORT);
  printf("round_trips=%ld\nwall_s=%.4f\nround_trips_per_s=%.0f\n", round_trips,
         t1 - t0, (double)round_trips / (t1 - t0));
  return errs ? 1 : 0;
}

#endif /* BENCH_TCP_PINGPONG_PLAIN_H */
