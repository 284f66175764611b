/* tcp_pingpong, io_uring side: the same ping-pong as eddy.c and uv.c (one
 * TCP connection on 127.0.0.1, client and server in one thread, a 4-byte
 * message carrying the round-trip number, the server echoing what it reads,
 * one message in flight), driven by io_uring (liburing) instead of epoll.
 * It answers one question: would a completion-based design make fewer
 * system calls pay here? One io_uring_enter submits the send that is due
 * and waits for the next receive, so a round trip costs 2 system calls
 * where epoll needs 6 (epoll_wait, read, send on each side). Successful
 * sends post no completion (IOSQE_CQE_SKIP_SUCCESS); a short or failed
 * send does, and fails the run.
 * Runs for argv[1] seconds (default 5), or, when argv[2] is given, for
 * exactly that many round trips. TCP_NODELAY on both ends. Built with
 * BENCH_PIPE defined, the same program runs over a Unix socket.
 * Verifies: every echo equals the message sent, every send wrote all its
 * bytes, the server saw EOF after the client shut its side down, every
 * descriptor closed. Exits 1 if any check fails or the run overstays its
 * watchdog.
 * Output: impl, version, transport, round_trips, wall_s, round_trips_per_s
 * (higher is better). */
#include <liburing.h>
#include <poll.h>

#include "../common.h"
#include "../net.h"

#ifdef BENCH_PIPE
#define TRANSPORT "unix"
#else
#define TRANSPORT "tcp"
#endif

#ifndef BENCH_URING_VERSION /* bench/CMakeLists.txt passes pkg-config's */
#define BENCH_URING_VERSION "unknown"
#endif

#define MSG_LEN 4

enum { TAG_SERVER_RECV = 1, TAG_CLIENT_RECV, TAG_SEND };

static struct io_uring ring;
static char server_space[65536], client_space[65536];
static unsigned char inbox[MSG_LEN], out[MSG_LEN];
static size_t inbox_len;
static uint32_t seq;
static long round_trips, target, errs, server_eof;
static double deadline;

static struct io_uring_sqe *next_sqe(void) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

  if (sqe == NULL) { /* the queue is full: hand it to the kernel first */
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

static void queue_recv(int fd, char *space, size_t len, int tag) {
  struct io_uring_sqe *sqe = next_sqe();

  io_uring_prep_recv(sqe, fd, space, len, 0);
  io_uring_sqe_set_data64(sqe, (uint64_t)tag);
}

static void queue_send(int fd, const void *data, size_t len) {
  struct io_uring_sqe *sqe = next_sqe();

  io_uring_prep_send(sqe, fd, data, len, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, TAG_SEND);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

static void send_ping(int fd) {
  memcpy(out, &seq, MSG_LEN);
  queue_send(fd, out, MSG_LEN);
}

/* Block (untimed set-up) until fd has one of events. */
static void wait_fd(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};

  while (poll(&p, 1, -1) == -1 && errno == EINTR) {
  }
}

/* The client's receive: check the echo, send the next message. Returns 0
 * when the run is over (the clock is read every 1024 round trips). */
static int client_got(int client_fd, int n) {
  if (n <= 0 || inbox_len + (size_t)n > MSG_LEN) {
    fprintf(stderr, "client recv: %d\n", n);
    errs++;
    return 0;
  }
  memcpy(inbox + inbox_len, client_space, (size_t)n);
  inbox_len += (size_t)n;
  if (inbox_len == MSG_LEN) {
    inbox_len = 0;
    if (memcmp(inbox, &seq, MSG_LEN) != 0) errs++;
    round_trips++;
    seq++;
    if (target > 0 ? round_trips >= target
                   : (round_trips & 1023) == 0 && bench_now() >= deadline)
      return 0;
    send_ping(client_fd);
  }
  queue_recv(client_fd, client_space, sizeof(client_space), TAG_CLIENT_RECV);
  return 1;
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 5.0);
  char dir[] = "/tmp/eddy-bench-XXXXXX";
  char path[64];
  const char *where = NULL;
  int lfd, client_fd, server_fd, done, running = 1;
  double t0, t1;

  target = bench_argn_long(argc, argv, 2, 0);
  bench_watchdog((unsigned)seconds + 60);
#ifdef BENCH_PIPE
  if (mkdtemp(dir) == NULL) return 1;
  snprintf(path, sizeof(path), "%s/sock", dir);
  where = path;
#else
  (void)dir;
  (void)path;
#endif
  lfd = bench_listen_fd(where);
  if (lfd == -1) return 1;
  client_fd = bench_connect_fd(lfd, where, &done);
  if (client_fd == -1) return 1;
  if (!done) {
    wait_fd(client_fd, POLLOUT);
    BENCH_CHECK(bench_connect_result(client_fd) == 0, errs);
  }
  wait_fd(lfd, POLLIN);
  server_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (server_fd == -1) return 1;
#ifndef BENCH_PIPE
  BENCH_CHECK(bench_nodelay(client_fd) == 0, errs);
  BENCH_CHECK(bench_nodelay(server_fd) == 0, errs);
#endif
  if (io_uring_queue_init(16, &ring, 0) != 0) {
    fprintf(stderr, "io_uring_queue_init failed\n");
    return 1;
  }

  queue_recv(server_fd, server_space, sizeof(server_space), TAG_SERVER_RECV);
  queue_recv(client_fd, client_space, sizeof(client_space), TAG_CLIENT_RECV);
  t0 = bench_now();
  deadline = t0 + seconds;
  send_ping(client_fd);
  while (running) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;

    if (io_uring_submit_and_wait(&ring, 1) < 0) {
      errs++;
      break;
    }
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      switch (cqe->user_data) {
      case TAG_SERVER_RECV: /* echo what came */
        if (cqe->res <= 0) {
          fprintf(stderr, "server recv: %d\n", cqe->res);
          errs++;
          running = 0;
          break;
        }
        queue_send(server_fd, server_space, (size_t)cqe->res);
        queue_recv(server_fd, server_space, sizeof(server_space),
                   TAG_SERVER_RECV);
        break;
      case TAG_CLIENT_RECV:
        if (running && !client_got(client_fd, cqe->res))
          running = 0;
        break;
      default: /* only a failed or short send posts a completion */
        fprintf(stderr, "send: %d\n", cqe->res);
        errs++;
        running = 0;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  t1 = bench_now();

  /* The client shuts its side down; the server's pending receive sees
   * EOF. Then everything closes. */
  BENCH_CHECK(shutdown(client_fd, SHUT_WR) == 0, errs);
  while (!server_eof && errs == 0) {
    struct io_uring_cqe *cqe;

    if (io_uring_wait_cqe(&ring, &cqe) != 0) {
      errs++;
      break;
    }
    if (cqe->user_data == TAG_SERVER_RECV) {
      if (cqe->res == 0)
        server_eof++;
      else if (cqe->res < 0)
        errs++;
      else /* a last echo would be a protocol error: none is in flight */
        errs++;
    }
    io_uring_cqe_seen(&ring, cqe);
  }
  io_uring_queue_exit(&ring);
  BENCH_CHECK(close(server_fd) == 0, errs);
  BENCH_CHECK(close(client_fd) == 0, errs);
  BENCH_CHECK(close(lfd) == 0, errs);
#ifdef BENCH_PIPE
  unlink(path);
  rmdir(dir);
#endif
  BENCH_CHECK(server_eof == 1, errs);
  BENCH_CHECK(round_trips > 0, errs);
  printf("impl=uring\nversion=liburing %s\ntransport=%s\n",
         BENCH_URING_VERSION, TRANSPORT);
  printf("round_trips=%ld\nwall_s=%.4f\nround_trips_per_s=%.0f\n",
         round_trips, t1 - t0, (double)round_trips / (t1 - t0));
  return errs ? 1 : 0;
}
