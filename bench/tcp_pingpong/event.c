/* tcp_pingpong, libevent side: one TCP connection on 127.0.0.1, client and
 * server on the same loop in one process (libuv's own benchmark shape).
 * The client sends a 4-byte message (the round-trip number), the server
 * echoes whatever it reads, the client checks the echo and sends the next
 * one; one message in flight. Runs for argv[1] seconds (default 5), or,
 * when argv[2] is given, for exactly that many round trips (what
 * bench/syscalls.sh uses). TCP_NODELAY on both ends.
 * libevent's plain events, as a user of its core writes a loop: the
 * plain-socket program of plain.h (shared with the libev side) under
 * persistent events. Bufferevents are left out: their evbuffer copies would be measured
 * on top of the loop (libev's side has no such layer either). The base is
 * made with EVENT_BASE_FLAG_NOLOCK; its default clock is fine for the one
 * timeout here.
 * Built with BENCH_PIPE defined (bench/pipe_pingpong), the same program
 * runs over a Unix socket in a fresh directory under /tmp.
 * Verifies: every echo equals the message sent, the connect succeeded,
 * every write completed, the server saw EOF after the last round trip, all
 * descriptors closed and events deleted, the loop then finds no
 * events. Exits 1 if any check fails or the run overstays its watchdog.
 * Output: impl, version, transport, round_trips, wall_s, round_trips_per_s
 * (higher is better). */
#include <event2/event.h>
#include <event2/event_struct.h> /* caller-owned struct event */

#define PLAIN_WATCHER struct event
#include "plain.h"

static struct event_base *base;
static struct event listen_ev;
static struct event timer;

static void watch_read(struct end *e) { event_add(&e->rd, NULL); }

static void watch_write(struct end *e, int on) {
  if (on)
    event_add(&e->wr, NULL);
  else
    event_del(&e->wr);
}

static void unwatch_end(struct end *e) {
  event_del(&e->rd);
  event_del(&e->wr);
}

static void unwatch_listener(void) { event_del(&listen_ev); }

static void stop_timer(void) { evtimer_del(&timer); }

static void on_server_readable(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  plain_server_readable();
}

static void on_server_writable(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  flush_out(&conn);
}

static void on_client_readable(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  plain_client_readable();
}

static void on_client_writable(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  plain_client_writable();
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  stopping = 1; /* the client stops at the next echo */
}

static void watch_conn(int fd) {
  event_assign(&conn.rd, base, fd, EV_READ | EV_PERSIST, on_server_readable,
               NULL);
  event_assign(&conn.wr, base, fd, EV_WRITE | EV_PERSIST, on_server_writable,
               NULL);
  event_add(&conn.rd, NULL);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg) {
  (void)lfd;
  (void)what;
  (void)arg;
  plain_accept();
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 5.0);
  struct event_config *cfg = event_config_new();
  const char *path = NULL;

  target = bench_argn_long(argc, argv, 2, 0);
  bench_watchdog(target > 0 ? 300 : (unsigned)seconds + 60);

  if (cfg == NULL) return 1;
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base == NULL) return 1;
#ifdef BENCH_PIPE
  char dir[] = "/tmp/eddy-bench-XXXXXX", sock_path[64];
  if (mkdtemp(dir) == NULL) return 1;
  snprintf(sock_path, sizeof(sock_path), "%s/s", dir);
  path = sock_path;
#endif
  if (plain_open(path) != 0) return 1;
  event_assign(&listen_ev, base, listen_fd, EV_READ | EV_PERSIST, on_accept,
               NULL);
  event_add(&listen_ev, NULL);
  /* Connected at once or not, the connect completes from the loop (the
   * socket turns writable), as libuv's and eddy's connect callbacks do. */
  event_assign(&client.rd, base, client.fd, EV_READ | EV_PERSIST,
               on_client_readable, NULL);
  event_assign(&client.wr, base, client.fd, EV_WRITE | EV_PERSIST,
               on_client_writable, NULL);
  event_add(&client.wr, NULL);
  evtimer_assign(&timer, base, on_timer, NULL);
  if (target == 0) {
    struct timeval tv = {(time_t)seconds,
                         (suseconds_t)((seconds - (double)(time_t)seconds) *
                                       1e6)};

    evtimer_add(&timer, &tv);
  }
  BENCH_CHECK(event_base_dispatch(base) == 1, errs); /* 1: no events left */
  event_base_free(base);
#ifdef BENCH_PIPE
  unlink(path);
  rmdir(dir);
#endif
  return plain_report("event", event_get_version());
}
