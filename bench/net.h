/* bench/net.h: helpers the network benchmarks share (eddy, libuv, libev and
 * libevent sides alike): a watchdog that bounds every run in time, the
 * loopback address, the resident set size, descriptor limits, the byte
 * pattern tcp_pump sends, and the plain-socket set-up the libev and
 * libevent sides need (those libraries watch descriptors; the program
 * makes the sockets). Header-only, no event loop; plain POSIX so that every
 * side measures with the same code. */
#ifndef EDDY_BENCH_NET_H
#define EDDY_BENCH_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- watchdog ---------------------------------------------------------- */

static void bench_watchdog_fired(int sig) {
  static const char msg[] = "watchdog: run took too long, giving up\n";

  ssize_t r;

  (void)sig;
  /* Only async-signal-safe calls here. */
  r = write(2, msg, sizeof(msg) - 1);
  (void)r;
  _exit(1);
}

/* Exit 1 with a message if the program is still running after seconds: a
 * peer that never answers must fail the run, not hang the suite. */
static inline void bench_watchdog(unsigned seconds) {
  signal(SIGALRM, bench_watchdog_fired);
  alarm(seconds);
}

/* ---- addresses --------------------------------------------------------- */

/* 127.0.0.1:port (port in host order). */
static inline struct sockaddr_in bench_loopback(int port) {
  struct sockaddr_in a;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* argv[i] as a non-negative count, or def when absent. Exits on garbage. */
static inline long bench_argn_long(int argc, char **argv, int i, long def) {
  char *end;
  long v;

  if (argc <= i) return def;
  v = strtol(argv[i], &end, 10);
  if (*end != '\0' || v < 0) {
    fprintf(stderr, "bad count: %s\n", argv[i]);
    exit(2);
  }
  return v;
}

/* ---- memory and descriptors -------------------------------------------- */

/* Resident set size of this process now, bytes (/proc/self/statm), or -1. */
static inline long bench_rss_bytes(void) {
  long size, resident;
  FILE *f = fopen("/proc/self/statm", "r");

  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* Raise the soft RLIMIT_NOFILE to at least need (up to the hard limit).
 * Returns 0 when the limit is now >= need, -1 otherwise. */
static inline int bench_raise_nofile(long need) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need) {
    rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max >= need)
                      ? (rlim_t)need
                      : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  }
  return (rl.rlim_cur == RLIM_INFINITY || (long)rl.rlim_cur >= need) ? 0 : -1;
}

/* ---- tcp_idle_rss's client ------------------------------------------------
 */

/* The client process of tcp_idle_rss (plain blocking sockets, the same for
 * every side): connect n sockets to 127.0.0.1:port, send nothing, then
 * wait until ctl_fd reads EOF (the server has measured), close every
 * socket with a reset (SO_LINGER 0: no TIME_WAIT is left behind, so runs
 * do not use up ports) and exit 0. On a failure it says why, fires the
 * parent's watchdog so the run fails at once, and exits 1. Never
 * returns. */
static inline void bench_idle_client(int port, long n, int ctl_fd) {
  struct sockaddr_in a = bench_loopback(port);
  struct linger lg = {1, 0};
  int *fds = malloc((size_t)n * sizeof(*fds));
  char c;
  long i = 0;

  if (fds == NULL) goto fail;
  for (i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i] == -1) {
      perror("client socket");
      goto fail;
    }
    if (connect(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0) {
      perror("client connect");
      goto fail;
    }
  }
  while (read(ctl_fd, &c, 1) > 0) {
  }
  for (i = 0; i < n; i++) {
    setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fds[i]);
  }
  _exit(0);
fail:
  fprintf(stderr, "client: failed after %ld connections\n", i);
  kill(getppid(), SIGALRM);
  _exit(1);
}

/* ---- tcp_pump's stream --------------------------------------------------- */

/* The sender writes BENCH_PUMP_CHUNK-byte chunks cut in turn from a
 * BENCH_PUMP_PERIOD-byte block of pseudo-random bytes, so byte i of the
 * stream is pattern[i % BENCH_PUMP_PERIOD]: the receiver checks every
 * byte with memcmp, which is cheap next to the copy the kernel does, and
 * a lost, repeated or reordered chunk shows (the period holds several
 * chunks that differ). */
#define BENCH_PUMP_CHUNK 65536
#define BENCH_PUMP_PERIOD (5 * BENCH_PUMP_CHUNK)

static inline void bench_pump_pattern(unsigned char *p, size_t len) {
  uint64_t x = 0x9e3779b97f4a7c15u;

  for (size_t i = 0; i < len; i++) {
    x ^= x << 13; /* xorshift64 */
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (unsigned char)(x >> 24);
  }
}

/* Non-zero if data[0..len) is what the stream holds at offset off. */
static inline int bench_pump_check(const unsigned char *pattern, uint64_t off,
                                   const unsigned char *data, size_t len) {
  while (len > 0) {
    size_t at = (size_t)(off % BENCH_PUMP_PERIOD);
    size_t n = BENCH_PUMP_PERIOD - at;

    if (n > len) n = len;
    if (memcmp(pattern + at, data, n) != 0) return 0;
    data += n;
    off += n;
    len -= n;
  }
  return 1;
}

/* ---- plain sockets (libev and libevent sides) ---------------------------- */

/* A listening, non-blocking stream socket with a backlog of 128: on
 * 127.0.0.1 at a port the kernel picks when path is NULL, else on the Unix
 * socket path (which must not exist). Returns the descriptor, or -1 with
 * errno set. */
static inline int bench_listen_fd(const char *path) {
  int fd, err;

  if (path == NULL) {
    struct sockaddr_in a = bench_loopback(0);

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        listen(fd, 128) == 0)
      return fd;
  } else {
    struct sockaddr_un a;

    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a.sun_path)) {
      errno = ENAMETOOLONG;
      return -1;
    }
    strcpy(a.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        listen(fd, 128) == 0)
      return fd;
  }
  err = errno;
  close(fd);
  errno = err;
  return -1;
}

/* Start a non-blocking connect to the socket bench_listen_fd made: lfd's
 * TCP address when path is NULL, else the Unix socket path. Returns the new
 * descriptor with *done set to 1 when the connection is already made, or to
 * 0 when it completes later (wait until the descriptor is writable, then
 * ask bench_connect_result); -1 with errno set on failure. */
static inline int bench_connect_fd(int lfd, const char *path, int *done) {
  struct sockaddr_storage a;
  socklen_t len = sizeof(a);
  int fd, err;

  memset(&a, 0, sizeof(a));
  if (path == NULL) {
    if (getsockname(lfd, (struct sockaddr *)&a, &len) != 0) return -1;
  } else {
    struct sockaddr_un *u = (struct sockaddr_un *)&a;

    u->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(u->sun_path)) {
      errno = ENAMETOOLONG;
      return -1;
    }
    strcpy(u->sun_path, path);
    len = sizeof(*u);
  }
  fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1) return -1;
  if (connect(fd, (struct sockaddr *)&a, len) == 0) {
    *done = 1;
    return fd;
  }
  if (errno == EINPROGRESS) {
    *done = 0;
    return fd;
  }
  err = errno;
  close(fd);
  errno = err;
  return -1;
}

/* The outcome of a connect bench_connect_fd left in progress, once fd is
 * writable: 0 when connected, else the errno value of the failure. */
static inline int bench_connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);

  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

/* TCP_NODELAY on fd. Returns 0 or -1. */
static inline int bench_nodelay(int fd) {
  int one = 1;

  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

#endif /* EDDY_BENCH_NET_H */
