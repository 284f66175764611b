/* tcp_idle_rss, eddy side: resident memory per idle TCP connection. The
 * program listens on 127.0.0.1 and forks a client process (bench/net.h,
 * plain sockets, the same for every side) that opens argv[1] connections
 * (default 10,000) and sends nothing. The server accepts each into a
 * malloc'd handle and starts reading on it, as a real server would. Once
 * all are accepted and the loop has gone round for 200 ms more (so every
 * watcher is registered), the server's RSS growth since just after listen,
 * divided by the connections, is the figure: the handle, its share of the
 * loop's tables, allocator overhead. Kernel socket memory is not in RSS and
 * is the same for every side.
 * The soft RLIMIT_NOFILE is raised to fit (up to the hard limit); when it
 * cannot be, the program says so, prints skipped=1 and exits 0.
 * Verifies: exactly n connections accepted, no byte read on any, each one
 * then ends (the client resets them all) with an error or EOF and is
 * closed, the client exits 0, the loop closes cleanly. Exits 1 if any check
 * fails or the run overstays its watchdog.
 * Output: impl, version, connections, rss_before_kib, rss_after_kib,
 * conn_rss_bytes (lower is better). */
#include <sys/wait.h>

#include <eddy.h>

#include "../common.h"
#include "../net.h"

static eddy_loop_t loop;
static eddy_tcp_t server;
static eddy_timer_t timer;
static long n, accepted, ended, freed, bytes_read, errs, closes;
static long rss0, rss1;
static int ctl[2] = {-1, -1};
static char read_space[4096];

static void on_close(eddy_handle_t *h) {
  (void)h;
  closes++;
}

static void on_conn_closed(eddy_handle_t *h) {
  free(h);
  if (++freed == n) eddy_close(&server.stream.handle, on_close);
}

static void alloc_conn(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = eddy_buf_init(read_space, sizeof(read_space));
}

static void on_conn_read(eddy_stream_t *s, ssize_t nread,
                         const eddy_buf_t *buf) {
  (void)buf;
  if (nread == 0) return;
  if (nread > 0) {
    bytes_read += nread; /* the client never sends */
    return;
  }
  ended++; /* reset by the client (or EOF): done with it */
  eddy_close(&s->handle, on_conn_closed);
}

/* All connections are in and registered: measure, then let the client
 * reset them. */
static void on_settled(eddy_timer_t *t) {
  rss1 = bench_rss_bytes();
  eddy_close(&t->handle, on_close);
  close(ctl[1]);
  ctl[1] = -1;
}

static void on_connection(eddy_stream_t *s, int status) {
  eddy_tcp_t *c;

  BENCH_CHECK(status == 0, errs);
  if (status != 0) return;
  c = malloc(sizeof(*c));
  if (c == NULL) {
    errs++;
    return;
  }
  eddy_tcp_init(&loop, c);
  BENCH_CHECK(eddy_accept(s, &c->stream) == 0, errs);
  BENCH_CHECK(eddy_read_start(&c->stream, alloc_conn, on_conn_read) == 0, errs);
  if (++accepted == n) eddy_timer_start(&timer, on_settled, 200, 0);
}

int main(int argc, char **argv) {
  struct sockaddr_in addr = bench_loopback(0);
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  int status;
  pid_t pid;

  n = bench_arg_long(argc, argv, 10000);
  bench_watchdog(120);
  if (bench_raise_nofile(n + 64) != 0) {
    struct rlimit rl;

    getrlimit(RLIMIT_NOFILE, &rl);
    fprintf(stderr,
            "tcp_idle_rss: skipped: needs %ld descriptors, "
            "RLIMIT_NOFILE hard limit is %llu\n",
            n + 64, (unsigned long long)rl.rlim_max);
    printf("impl=eddy\nversion=%s\nskipped=1\n", eddy_version_string());
    return 0;
  }
  if (eddy_loop_init(&loop) != 0 || pipe(ctl) != 0) return 1;
  eddy_tcp_init(&loop, &server);
  eddy_timer_init(&loop, &timer);
  BENCH_CHECK(eddy_tcp_bind(&server, (struct sockaddr *)&addr, 0) == 0, errs);
  BENCH_CHECK(eddy_listen(&server.stream, 4096, on_connection) == 0, errs);
  BENCH_CHECK(eddy_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) ==
                  0,
              errs);
  if (errs) return 1;
  fflush(stdout);
  pid = fork();
  if (pid == -1) return 1;
  if (pid == 0) {
    close(ctl[1]);
    bench_idle_client(ntohs(((struct sockaddr_in *)&bound)->sin_port), n,
                      ctl[0]);
  }
  close(ctl[0]);
  rss0 = bench_rss_bytes();
  eddy_run(&loop, EDDY_RUN_DEFAULT);

  BENCH_CHECK(waitpid(pid, &status, 0) == pid, errs);
  BENCH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, errs);
  BENCH_CHECK(accepted == n, errs);
  BENCH_CHECK(ended == n && freed == n, errs);
  BENCH_CHECK(bytes_read == 0, errs);
  BENCH_CHECK(closes == 2, errs);
  BENCH_CHECK(rss0 > 0 && rss1 > 0, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nversion=%s\nconnections=%ld\n", eddy_version_string(), n);
  printf("rss_before_kib=%ld\nrss_after_kib=%ld\nconn_rss_bytes=%.0f\n",
         rss0 / 1024, rss1 / 1024, (double)(rss1 - rss0) / (double)n);
  return errs ? 1 : 0;
}
