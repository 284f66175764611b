/* tcp_pump, libuv side: one TCP connection on 127.0.0.1, client and server
 * on the same loop in one process. The client writes 64 KiB chunks, four
 * in flight (each completion writes the next), for argv[1] seconds
 * (default 3); then it shuts its side down, and the server, reading into a
 * 64 KiB buffer, sees EOF. Throughput is the bytes the server received
 * over the time from the first write to its EOF.
 * Verifies: every byte the server read is the byte the client sent at
 * that stream offset (bench/net.h: a pseudo-random pattern, compared with
 * memcmp), the server received exactly as many bytes as the client wrote,
 * every write and the shutdown completed with status 0, all handles
 * closed, the loop closes cleanly. Exits 1 if any check fails or the run
 * overstays its watchdog.
 * Output: impl, version, bytes, wall_s, mb_per_s (10^6 bytes per second,
 * higher is better). */
#include <uv.h>

#include "../common.h"
#include "../net.h"

#define INFLIGHT 4

static uv_loop_t loop;
static uv_tcp_t server, conn, client;
static uv_connect_t connect_req;
static uv_shutdown_t shutdown_req;
static uv_timer_t timer;
static uv_write_t wreqs[INFLIGHT];
static unsigned char pattern[BENCH_PUMP_PERIOD];
static char server_space[65536], client_space[4096];
static uint64_t chunks_sent, bytes_written, bytes_received;
static long errs, closes, writes_busy, server_eof, client_eof, bad_data;
static int stopping;
static double t0, t1;

static void on_close(uv_handle_t *h) {
  (void)h;
  closes++;
}

static void alloc_client(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = uv_buf_init(client_space, sizeof(client_space));
}

static void alloc_server(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = uv_buf_init(server_space, sizeof(server_space));
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  BENCH_CHECK(status == 0, errs);
}

static void on_written(uv_write_t *req, int status);

/* Write the next chunk of the stream with req. */
static void write_chunk(uv_write_t *req) {
  size_t at = (size_t)(chunks_sent % (BENCH_PUMP_PERIOD / BENCH_PUMP_CHUNK));
  uv_buf_t b =
      uv_buf_init((char *)pattern + at * BENCH_PUMP_CHUNK, BENCH_PUMP_CHUNK);

  if (uv_write(req, (uv_stream_t *)&client, &b, 1, on_written) != 0) {
    errs++;
    return;
  }
  chunks_sent++;
  writes_busy++;
}

static void on_written(uv_write_t *req, int status) {
  BENCH_CHECK(status == 0, errs);
  writes_busy--;
  if (status == 0) bytes_written += BENCH_PUMP_CHUNK;
  if (!stopping && status == 0) {
    write_chunk(req);
    return;
  }
  if (writes_busy == 0)
    BENCH_CHECK(
        uv_shutdown(&shutdown_req, (uv_stream_t *)&client, on_shutdown) == 0,
        errs);
}

static void on_server_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  if (nread > 0) {
    if (!bench_pump_check(pattern, bytes_received,
                          (const unsigned char *)buf->base, (size_t)nread))
      bad_data++;
    bytes_received += (uint64_t)nread;
    return;
  }
  if (nread == 0) return;
  t1 = bench_now();
  if (nread == UV_EOF) {
    server_eof++;
  } else {
    fprintf(stderr, "server read: %s\n", uv_strerror((int)nread));
    errs++;
  }
  uv_close((uv_handle_t *)s, on_close);
  uv_close((uv_handle_t *)&server, on_close);
}

/* The client reads only to see the server close after its EOF. */
static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  if (nread == 0) return;
  if (nread == UV_EOF)
    client_eof++;
  else
    errs++; /* the server never sends */
  uv_close((uv_handle_t *)s, on_close);
}

static void on_timer(uv_timer_t *t) {
  stopping = 1; /* completions stop writing; the last one shuts down */
  uv_close((uv_handle_t *)t, on_close);
}

static void on_connect(uv_connect_t *req, int status) {
  (void)req;
  BENCH_CHECK(status == 0, errs);
  if (status != 0) {
    uv_close((uv_handle_t *)&client, on_close);
    uv_close((uv_handle_t *)&server, on_close);
    return;
  }
  BENCH_CHECK(
      uv_read_start((uv_stream_t *)&client, alloc_client, on_client_read) == 0,
      errs);
  t0 = bench_now();
  for (int i = 0; i < INFLIGHT; i++)
    write_chunk(&wreqs[i]);
}

static void on_connection(uv_stream_t *s, int status) {
  BENCH_CHECK(status == 0, errs);
  if (status != 0) return;
  uv_tcp_init(&loop, &conn);
  BENCH_CHECK(uv_accept(s, (uv_stream_t *)&conn) == 0, errs);
  BENCH_CHECK(
      uv_read_start((uv_stream_t *)&conn, alloc_server, on_server_read) == 0,
      errs);
}

int main(int argc, char **argv) {
  double seconds = bench_arg_double(argc, argv, 3.0);
  struct sockaddr_in addr = bench_loopback(0);
  struct sockaddr_storage bound;
  int len = sizeof(bound);

  bench_watchdog((unsigned)seconds + 60);
  bench_pump_pattern(pattern, sizeof(pattern));
  if (uv_loop_init(&loop) != 0) return 1;
  uv_tcp_init(&loop, &server);
  uv_tcp_init(&loop, &client);
  BENCH_CHECK(uv_tcp_bind(&server, (struct sockaddr *)&addr, 0) == 0, errs);
  BENCH_CHECK(uv_listen((uv_stream_t *)&server, 128, on_connection) == 0, errs);
  BENCH_CHECK(uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) == 0,
              errs);
  addr.sin_port = ((struct sockaddr_in *)&bound)->sin_port;
  BENCH_CHECK(uv_tcp_connect(&connect_req, &client, (struct sockaddr *)&addr,
                             on_connect) == 0,
              errs);
  if (errs) return 1;
  uv_timer_init(&loop, &timer);
  uv_timer_start(&timer, on_timer, (uint64_t)(seconds * 1000), 0);
  uv_run(&loop, UV_RUN_DEFAULT);

  BENCH_CHECK(closes == 4, errs);
  BENCH_CHECK(server_eof == 1 && client_eof == 1, errs);
  BENCH_CHECK(writes_busy == 0, errs);
  BENCH_CHECK(bytes_written == chunks_sent * BENCH_PUMP_CHUNK, errs);
  BENCH_CHECK(bytes_received == bytes_written, errs);
  BENCH_CHECK(bad_data == 0, errs);
  BENCH_CHECK(bytes_received > 0, errs);
  BENCH_CHECK(uv_loop_close(&loop) == 0, errs);
  printf("impl=uv\nversion=%s\n", uv_version_string());
  printf("bytes=%llu\nwall_s=%.4f\nmb_per_s=%.1f\n",
         (unsigned long long)bytes_received, t1 - t0,
         (double)bytes_received / (t1 - t0) / 1e6);
  return errs ? 1 : 0;
}
