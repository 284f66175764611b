/* udp_pingpong, eddy side: two UDP sockets on 127.0.0.1 on the same loop
 * in one process. The client sends a 4-byte datagram (the round-trip
 * number) to the server, the server sends each datagram back to its
 * sender, the client checks it and sends the next; one datagram in
 * flight. Runs for argv[1] seconds (default 5), or, when argv[2] is given,
 * for exactly that many round trips (bench/syscalls.sh). A lost datagram
 * stalls the run, which the watchdog then fails.
 * Verifies: every reply is 4 bytes, comes from the server's address and
 * equals the datagram sent; every send completed with status 0; all
 * handles closed; the loop closes cleanly. Exits 1 if any check fails or
 * the run overstays its watchdog.
 * Output: impl, version, transport, round_trips, wall_s,
 * round_trips_per_s (higher is better). */
#include <eddy.h>

#include "../common.h"
#include "../net.h"

#define MSG_LEN 4
#define NSREQ 8 /* send requests per side; one is ever in use */

struct sreq {
  eddy_udp_send_t req;
  int busy;
  char data[64];
};

static eddy_loop_t loop;
static eddy_udp_t server, client;
static eddy_timer_t timer;
static struct sockaddr_in server_addr;
static struct sreq client_s[NSREQ], server_s[NSREQ];
static char client_space[65536], server_space[65536];
static uint32_t seq;
static long round_trips, target, errs, closes;
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

static void on_sent(eddy_udp_send_t *req, int status) {
  struct sreq *s = (struct sreq *)req; /* req is the first member */

  BENCH_CHECK(status == 0, errs);
  s->busy = 0;
}

/* Send a copy of data[0..len) to addr from a free request of pool. */
static void send_copy(struct sreq *pool, eddy_udp_t *udp, const void *data,
                      size_t len, const struct sockaddr *addr) {
  for (int i = 0; i < NSREQ; i++) {
    if (pool[i].busy) continue;
    if (len > sizeof(pool[i].data)) break;
    eddy_buf_t b = eddy_buf_init(pool[i].data, len);
    memcpy(pool[i].data, data, len);
    pool[i].busy = 1;
    if (eddy_udp_send(&pool[i].req, udp, &b, 1, addr, on_sent) != 0) {
      pool[i].busy = 0;
      errs++;
    }
    return;
  }
  fprintf(stderr, "no free send request (or %zu bytes too many)\n", len);
  errs++;
}

static void send_ping(void) {
  send_copy(client_s, &client, &seq, MSG_LEN,
            (const struct sockaddr *)&server_addr);
}

static void on_server_recv(eddy_udp_t *udp, ssize_t nread,
                           const eddy_buf_t *buf, const struct sockaddr *addr,
                           unsigned flags) {
  (void)flags;
  if (nread < 0) {
    fprintf(stderr, "server recv: %s\n", eddy_strerror((int)nread));
    errs++;
    return;
  }
  if (addr == NULL) return; /* nothing more to read now */
  send_copy(server_s, udp, buf->base, (size_t)nread, addr);
}

static void finish(void) {
  t1 = bench_now();
  eddy_close(&client.handle, on_close);
  eddy_close(&server.handle, on_close);
  eddy_close(&timer.handle, on_close);
}

static void on_client_recv(eddy_udp_t *udp, ssize_t nread,
                           const eddy_buf_t *buf, const struct sockaddr *addr,
                           unsigned flags) {
  const struct sockaddr_in *from = (const struct sockaddr_in *)addr;

  (void)udp;
  (void)flags;
  if (nread < 0) {
    fprintf(stderr, "client recv: %s\n", eddy_strerror((int)nread));
    errs++;
    finish();
    return;
  }
  if (addr == NULL) return;
  if (nread != MSG_LEN || memcmp(buf->base, &seq, MSG_LEN) != 0 ||
      from->sin_port != server_addr.sin_port)
    errs++;
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
  stopping = 1; /* the client stops at the next reply */
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 5.0);
  struct sockaddr_in any = bench_loopback(0);
  int len = sizeof(server_addr);

  target = bench_argn_long(argc, argv, 2, 0);
  bench_watchdog(target > 0 ? 300 : (unsigned)seconds + 60);
  if (eddy_loop_init(&loop) != 0) return 1;
  eddy_udp_init(&loop, &server);
  eddy_udp_init(&loop, &client);
  BENCH_CHECK(eddy_udp_bind(&server, (struct sockaddr *)&any, 0) == 0, errs);
  BENCH_CHECK(eddy_udp_bind(&client, (struct sockaddr *)&any, 0) == 0, errs);
  BENCH_CHECK(
      eddy_udp_getsockname(&server, (struct sockaddr *)&server_addr, &len) == 0,
      errs);
  BENCH_CHECK(eddy_udp_recv_start(&server, alloc_server, on_server_recv) == 0,
              errs);
  BENCH_CHECK(eddy_udp_recv_start(&client, alloc_client, on_client_recv) == 0,
              errs);
  if (errs) return 1;
  eddy_timer_init(&loop, &timer);
  if (target == 0)
    eddy_timer_start(&timer, on_timer, (uint64_t)(seconds * 1000), 0);
  t0 = bench_now();
  send_ping();
  eddy_run(&loop, EDDY_RUN_DEFAULT);

  BENCH_CHECK(closes == 3, errs);
  BENCH_CHECK(round_trips > 0, errs);
  BENCH_CHECK(target == 0 || round_trips == target, errs);
  for (int i = 0; i < NSREQ; i++)
    BENCH_CHECK(!client_s[i].busy && !server_s[i].busy, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nversion=%s\ntransport=udp\n", eddy_version_string());
  printf("round_trips=%ld\nwall_s=%.4f\nround_trips_per_s=%.0f\n", round_trips,
         t1 - t0, (double)round_trips / (t1 - t0));
  return errs ? 1 : 0;
}
