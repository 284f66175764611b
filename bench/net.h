/* bench/net.h: helpers the network benchmarks share (eddy and libuv sides
 * alike): a watchdog that bounds every run in time, the loopback address,
 * the resident set size, descriptor limits and the byte pattern tcp_pump
 * sends. Header-only, no event loop; plain POSIX so that both sides measure
 * with the same code. */
#ifndef EDDY_BENCH_NET_H
#define EDDY_BENCH_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

#endif /* EDDY_BENCH_NET_H */
