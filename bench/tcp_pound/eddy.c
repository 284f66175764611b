/* tcp_pound, eddy side: connections set up and torn down per second on
 * 127.0.0.1, client and server on the same loop in one process. 32 client
 * slots each connect; the server accepts each connection and closes it at
 * once; the client sees EOF, closes and connects again, for argv[1]
 * seconds (default 3). Server handles are malloc'd per connection and
 * freed in their close callback.
 * TIME_WAIT: the server closes first (a FIN), and the client closes with
 * a reset (eddy_tcp_close_reset, SO_LINGER 0) once it has seen the EOF, so
 * neither side keeps a TIME_WAIT socket and repeated runs do not use up
 * the ephemeral ports. The libuv side does the same (uv_tcp_close_reset).
 * Verifies: every connect succeeded, every client saw EOF and no data,
 * the server accepted exactly as many connections as the clients
 * completed, every handle closed, the loop closes cleanly. Exits 1 if any
 * check fails or the run overstays its watchdog.
 * Output: impl, version, slots, connections, wall_s, connections_per_s
 * (higher is better). */
#include <eddy.h>

#include "../common.h"
#include "../net.h"

#define SLOTS 32

struct slot {
  eddy_tcp_t tcp;
  eddy_connect_t req;
};

static eddy_loop_t loop;
static eddy_tcp_t server;
static eddy_timer_t timer;
static struct slot slots[SLOTS];
static struct sockaddr_in addr;
static char read_space[4096];
static long accepted, server_closed, completed, client_closed, active;
static long errs, closes;
static int stopping;
static double t0, t1;

static void on_close(eddy_handle_t *h) {
  (void)h;
  closes++;
}

static void on_server_conn_closed(eddy_handle_t *h) {
  server_closed++;
  free(h);
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
  accepted++;
  eddy_close(&c->stream.handle, on_server_conn_closed);
}

static void start_slot(struct slot *sl);

/* Once every slot is idle after the timer, the run is over. */
static void slot_idle(void) {
  if (--active > 0) return;
  t1 = bench_now();
  eddy_close(&server.stream.handle, on_close);
}

static void on_client_closed(eddy_handle_t *h) {
  struct slot *sl = (struct slot *)h; /* the handle is the first member */

  client_closed++;
  if (stopping)
    slot_idle();
  else
    start_slot(sl);
}

static void alloc_client(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = eddy_buf_init(read_space, sizeof(read_space));
}

static void on_client_read(eddy_stream_t *s, ssize_t nread,
                           const eddy_buf_t *buf) {
  eddy_tcp_t *tcp = (eddy_tcp_t *)s;

  (void)buf;
  if (nread == 0) return;
  if (nread == EDDY_EOF) {
    completed++;
    BENCH_CHECK(eddy_tcp_close_reset(tcp, on_client_closed) == 0, errs);
    return;
  }
  fprintf(stderr, "client read: %zd\n", nread);
  errs++;
  eddy_close(&s->handle, on_client_closed);
}

static void on_connect(eddy_connect_t *req, int status) {
  struct slot *sl = (struct slot *)req->handle; /* tcp is the first member */

  if (status != 0) {
    fprintf(stderr, "connect: %s\n", eddy_strerror(status));
    errs++;
    eddy_close(&sl->tcp.stream.handle, on_close);
    slot_idle();
    return;
  }
  BENCH_CHECK(eddy_read_start(&sl->tcp.stream, alloc_client, on_client_read) ==
                  0,
              errs);
}

static void start_slot(struct slot *sl) {
  int err;

  eddy_tcp_init(&loop, &sl->tcp);
  err = eddy_tcp_connect(&sl->req, &sl->tcp, (struct sockaddr *)&addr,
                         on_connect);
  if (err != 0) {
    fprintf(stderr, "connect: %s\n", eddy_strerror(err));
    errs++;
    eddy_close(&sl->tcp.stream.handle, on_close);
    slot_idle();
  }
}

static void on_timer(eddy_timer_t *t) {
  stopping = 1; /* slots stop reconnecting */
  eddy_close(&t->handle, on_close);
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 3.0);
  struct sockaddr_storage bound;
  int len = sizeof(bound);

  bench_watchdog((unsigned)seconds + 60);
  addr = bench_loopback(0);
  if (eddy_loop_init(&loop) != 0) return 1;
  eddy_tcp_init(&loop, &server);
  BENCH_CHECK(eddy_tcp_bind(&server, (struct sockaddr *)&addr, 0) == 0, errs);
  BENCH_CHECK(eddy_listen(&server.stream, 1024, on_connection) == 0, errs);
  BENCH_CHECK(eddy_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) ==
                  0,
              errs);
  if (errs) return 1;
  addr.sin_port = ((struct sockaddr_in *)&bound)->sin_port;
  eddy_timer_init(&loop, &timer);
  eddy_timer_start(&timer, on_timer, (uint64_t)(seconds * 1000), 0);
  t0 = bench_now();
  active = SLOTS;
  for (int i = 0; i < SLOTS; i++)
    start_slot(&slots[i]);
  eddy_run(&loop, EDDY_RUN_DEFAULT);

  BENCH_CHECK(completed > 0, errs);
  BENCH_CHECK(accepted == completed, errs);
  BENCH_CHECK(server_closed == accepted, errs);
  BENCH_CHECK(client_closed == completed, errs);
  BENCH_CHECK(closes == 2, errs);
  BENCH_CHECK(active == 0, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nversion=%s\nslots=%d\n", eddy_version_string(), SLOTS);
  printf("connections=%ld\nwall_s=%.4f\nconnections_per_s=%.0f\n", completed,
         t1 - t0, (double)completed / (t1 - t0));
  return errs ? 1 : 0;
}
