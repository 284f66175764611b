/* bench/http/idle_clients.c: many idle keep-alive HTTP connections, for
 * run.sh's idle_rss mode (the server's resident memory per connection).
 *
 *   idle_clients PORT [N [TIMEOUT_S [WINDOW]]]
 *
 * One process, plain sockets and epoll, the same for every server. Opens N
 * connections (default 10000) to 127.0.0.1:PORT with non-blocking connects,
 * sends one "GET / HTTP/1.1" on each and reads the whole response (status
 * 200, framed by Content-Length or chunked without trailers, no
 * "Connection: close"), then leaves the
 * connection open and idle. At most WINDOW connections (default 256) are
 * between connect and a complete response at once: more would overflow the
 * servers' listen backlog (511 for eddy, nginx and Node), and a dropped SYN
 * is retried only a second or more later.
 *
 * Once all N are idle it prints ready=N and open_ms, then waits until its
 * standard input ends (run.sh reads the server's RSS meanwhile). Then it
 * checks that the server closed none of them (a keep-alive timeout would
 * have: run.sh sets the servers' timeouts well above the run's length),
 * prints closed_by_server, and closes every connection with a reset
 * (SO_LINGER 0), which leaves no TIME_WAIT to use up local ports over the
 * next runs.
 *
 * The soft RLIMIT_NOFILE is raised to N + 64 (up to the hard limit).
 * Exits 0 when all N were served and none was closed by the server, 1 on
 * any failure (a message on stderr), 2 when TIMEOUT_S (default 60) passes
 * first. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr, SOCK_NONBLOCK */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX 2048 /* the three servers answer in under 300 bytes */

static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/* A connection between connect and its complete response. */
struct slot {
  int fd;
  int connected;
  size_t got;
  char buf[RESP_MAX + 1];
};

static struct sockaddr_in server_addr;
static int ep = -1;
static int *idle_fds;
static long n, started, nidle;

static void fail(const char *what) {
  fprintf(stderr, "idle_clients: %s (after %ld idle connections)\n", what,
          nidle);
  exit(1);
}

static void on_alarm(int sig) {
  static const char msg[] = "idle_clients: timed out\n";

  (void)sig;
  (void)!write(2, msg, sizeof(msg) - 1);
  _exit(2);
}

static long arg_long(int argc, char **argv, int i, long dflt) {
  long v = argc > i ? strtol(argv[i], NULL, 10) : dflt;

  if (v <= 0) {
    fprintf(stderr, "idle_clients: bad argument %s\n", argv[i]);
    exit(1);
  }
  return v;
}

static double now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One descriptor per connection, plus a few for stdio and epoll. */
static void raise_nofile(long want) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) fail("getrlimit");
  if (rl.rlim_cur >= (rlim_t)want) return;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)want) {
    fprintf(stderr, "idle_clients: needs %ld descriptors, hard limit %llu\n",
            want, (unsigned long long)rl.rlim_max);
    exit(1);
  }
  rl.rlim_cur = (rlim_t)want;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) fail("setrlimit");
}

/* Start the next connection in s. */
static void slot_open(struct slot *s, unsigned index) {
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = index};

  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd == -1) fail(errno == EMFILE ? "socket: EMFILE" : "socket");
  if (connect(s->fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) !=
          0 &&
      errno != EINPROGRESS)
    fail("connect");
  s->connected = 0;
  s->got = 0;
  started++;
  /* A connect that completed at once is writable at once too. */
  if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) fail("epoll_ctl add");
}

static void slot_send(struct slot *s, unsigned index) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = index};
  int err = 0;
  socklen_t len = sizeof(err);

  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    errno = err;
    fail("connect (deferred)");
  }
  /* A fresh socket's send buffer takes the whole small request. */
  if (send(s->fd, request, sizeof(request) - 1, MSG_NOSIGNAL) !=
      (ssize_t)(sizeof(request) - 1))
    fail("send");
  s->connected = 1;
  if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev) != 0) fail("epoll_ctl mod");
}

/* 1 once s->buf holds a whole valid response, 0 while more must come. */
static int response_complete(struct slot *s) {
  char *end, *cl;
  size_t head, body;
  int chunked;

  s->buf[s->got] = '\0';
  end = strstr(s->buf, "\r\n\r\n");
  if (end == NULL) return 0;
  head = (size_t)(end - s->buf) + 4;
  *end = '\0'; /* search the head only */
  if (strncmp(s->buf, "HTTP/1.1 200 ", 13) != 0) fail("status is not 200");
  if (strcasestr(s->buf, "\r\nconnection: close") != NULL)
    fail("server refused keep-alive");
  cl = strcasestr(s->buf, "\r\ncontent-length:");
  chunked = strcasestr(s->buf, "\r\ntransfer-encoding: chunked") != NULL;
  *end = '\r';
  if (cl == NULL && chunked) /* ends with the last chunk, no trailers */
    return s->got >= head + 5 &&
           memcmp(s->buf + s->got - 5, "0\r\n\r\n", 5) == 0;
  if (cl == NULL) fail("no Content-Length in the response");
  body = (size_t)strtoul(cl + 17, NULL, 10);
  if (s->got < head + body) return 0;
  if (s->got > head + body) fail("bytes after the response");
  return 1;
}

static void slot_read(struct slot *s, unsigned index) {
  ssize_t r = recv(s->fd, s->buf + s->got, RESP_MAX - s->got, 0);

  if (r == 0) fail("server closed before answering");
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    fail("recv");
  }
  s->got += (size_t)r;
  if (!response_complete(s)) {
    if (s->got == RESP_MAX) fail("response too large");
    return;
  }
  /* Idle from now on: nothing to wait for on it until the check. */
  if (epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL) != 0) fail("epoll_ctl del");
  idle_fds[nidle++] = s->fd;
  s->fd = -1;
  if (started < n) slot_open(s, index);
}

static void open_all(long window) {
  struct slot *slots = calloc((size_t)window, sizeof(*slots));
  struct epoll_event evs[256];

  if (slots == NULL) fail("out of memory");
  for (long i = 0; i < window && started < n; i++)
    slot_open(&slots[i], (unsigned)i);
  while (nidle < n) {
    int k = epoll_wait(ep, evs, 256, -1);

    if (k < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < k; i++) {
      unsigned index = evs[i].data.u32;
      struct slot *s = &slots[index];

      if (!s->connected)
        slot_send(s, index);
      else
        slot_read(s, index);
    }
  }
  free(slots);
}

/* How many idle connections the server has closed (EOF or reset), and
 * how many got bytes they should not have. */
static void check_all(long *closed, long *unexpected) {
  *closed = *unexpected = 0;
  for (long i = 0; i < n; i++) {
    char c;
    ssize_t r = recv(idle_fds[i], &c, 1, MSG_PEEK | MSG_DONTWAIT);

    if (r > 0)
      ++*unexpected;
    else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
      ++*closed;
  }
}

int main(int argc, char **argv) {
  long port, timeout, window, closed, unexpected;
  struct linger lg = {1, 0};
  char c;
  double t0;

  if (argc < 2) {
    fprintf(stderr, "usage: idle_clients PORT [N [TIMEOUT_S [WINDOW]]]\n");
    return 1;
  }
  port = arg_long(argc, argv, 1, 0);
  n = arg_long(argc, argv, 2, 10000);
  timeout = arg_long(argc, argv, 3, 60);
  window = arg_long(argc, argv, 4, 256);
  signal(SIGALRM, on_alarm);
  alarm((unsigned)timeout);
  raise_nofile(n + 64);
  server_addr.sin_family = AF_INET;
  server_addr.sin_port = htons((uint16_t)port);
  server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  idle_fds = malloc((size_t)n * sizeof(*idle_fds));
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (idle_fds == NULL || ep == -1) fail("setup");

  t0 = now_ms();
  open_all(window);
  printf("ready=%ld\nopen_ms=%.0f\n", nidle, now_ms() - t0);
  fflush(stdout);

  while (read(0, &c, 1) > 0) {
  }
  check_all(&closed, &unexpected);
  printf("closed_by_server=%ld\nunexpected_data=%ld\n", closed, unexpected);
  for (long i = 0; i < n; i++) {
    setsockopt(idle_fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(idle_fds[i]);
  }
  return closed == 0 && unexpected == 0 ? 0 : 1;
}
