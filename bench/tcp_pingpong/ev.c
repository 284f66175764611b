/* tcp_pingpong, libev side: one TCP connection on 127.0.0.1, client and
 * server on the same loop in one process (libuv's own benchmark shape).
 * The client sends a 4-byte message (the round-trip number), the server
 * echoes whatever it reads, the client checks the echo and sends the next
 * one; one message in flight. Runs for argv[1] seconds (default 5), or,
 * when argv[2] is given, for exactly that many round trips (what
 * bench/syscalls.sh uses). TCP_NODELAY on both ends.
 * libev watches descriptors and has no streams: the plain-socket program
 * of plain.h (shared with the libevent side) under ev_io watchers.
 * Built with BENCH_PIPE defined (bench/pipe_pingpong), the same program
 * runs over a Unix socket in a fresh directory under /tmp.
 * Verifies: every echo equals the message sent, the connect succeeded,
 * every write completed, the server saw EOF after the last round trip, all
 * descriptors closed and watchers stopped, ev_run then finds no active
 * watcher. Exits 1 if any check fails or the run overstays its watchdog.
 * Output: impl, version, transport, round_trips, wall_s, round_trips_per_s
 * (higher is better). */
#include <ev.h>

#define PLAIN_WATCHER ev_io
#include "plain.h"

static struct ev_loop *loop;
static ev_io listen_w;
static ev_timer timer;

static void watch_read(struct end *e) { ev_io_start(loop, &e->rd); }

static void watch_write(struct end *e, int on) {
  if (on)
    ev_io_start(loop, &e->wr);
  else
    ev_io_stop(loop, &e->wr);
}

static void unwatch_end(struct end *e) {
  ev_io_stop(loop, &e->rd);
  ev_io_stop(loop, &e->wr);
}

static void unwatch_listener(void) { ev_io_stop(loop, &listen_w); }

static void stop_timer(void) { ev_timer_stop(loop, &timer); }

static void on_server_readable(struct ev_loop *l, ev_io *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  plain_server_readable();
}

static void on_server_writable(struct ev_loop *l, ev_io *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  flush_out(&conn);
}

static void on_client_readable(struct ev_loop *l, ev_io *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  plain_client_readable();
}

static void on_client_writable(struct ev_loop *l, ev_io *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  plain_client_writable();
}

static void on_timer(struct ev_loop *l, ev_timer *t, int revents) {
  (void)l;
  (void)t;
  (void)revents;
  stopping = 1; /* the client stops at the next echo */
}

static void watch_conn(int fd) {
  ev_io_init(&conn.rd, on_server_readable, fd, EV_READ);
  ev_io_init(&conn.wr, on_server_writable, fd, EV_WRITE);
  ev_io_start(loop, &conn.rd);
}

static void on_accept(struct ev_loop *l, ev_io *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  plain_accept();
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 5.0);
  const char *path = NULL;
  char version[32];

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
  if (plain_open(path) != 0) return 1;
  ev_io_init(&listen_w, on_accept, listen_fd, EV_READ);
  ev_io_start(loop, &listen_w);
  /* Connected at once or not, the connect completes from the loop (the
   * socket turns writable), as libuv's and eddy's connect callbacks do. */
  ev_io_init(&client.rd, on_client_readable, client.fd, EV_READ);
  ev_io_init(&client.wr, on_client_writable, client.fd, EV_WRITE);
  ev_io_start(loop, &client.wr);
  ev_timer_init(&timer, on_timer, seconds, 0.0);
  if (target == 0) ev_timer_start(loop, &timer);
  BENCH_CHECK(ev_run(loop, 0) == 0, errs); /* 0: no active watcher left */
  ev_loop_destroy(loop);
#ifdef BENCH_PIPE
  unlink(path);
  rmdir(dir);
#endif
  snprintf(version, sizeof(version), "%d.%d", ev_version_major(),
           ev_version_minor());
  return plain_report("ev", version);
}
