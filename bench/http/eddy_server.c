/* bench/http/eddy_server.c: the eddy side of the HTTP benchmark.
 *
 *   eddy_server PORT [KEEPALIVE_MS]
 *
 * Answers every request with "200 OK", Content-Type text/plain and the
 * 6-byte body "hello\n" (nginx's and Node's programs in this directory
 * answer the same), keep-alive, one loop, default options except the
 * keep-alive idle timeout when KEEPALIVE_MS is given (run.sh's idle_rss
 * mode raises it above the default 5 s so idle connections stay open while
 * it measures). PORT 0 (what run.sh passes) takes a port the kernel
 * picks. Prints "listening PORT" with the port it got once ready; SIGTERM
 * or SIGINT stops it. EDDY_BENCH_METRICS=1 turns the loop's metrics on
 * (bench/metrics_cost.sh). */
#include <arpa/inet.h>
#include <eddy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "../metrics.h"

static eddy_http_server_t server;
static eddy_signal_t sigint, sigterm;
static const eddy_http_field_t fields[] = {{"Content-Type", "text/plain"}};

static void on_request(eddy_http_server_t *srv, eddy_http_exchange_t *ex) {
  (void)srv;
  eddy_http_respond(ex, 200, fields, 1, "hello\n", 6);
}

static void on_signal(eddy_signal_t *sig, int signum) {
  (void)sig;
  (void)signum;
  eddy_http_server_close(&server, NULL);
  eddy_close(&sigint.handle, NULL);
  eddy_close(&sigterm.handle, NULL);
}

int main(int argc, char **argv) {
  eddy_loop_t *loop = eddy_default_loop();
  struct sockaddr_in addr;
  int len = sizeof(addr);
  eddy_http_server_options_t opts = eddy_http_server_options_default();
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  int err;

  if (argc > 2)
    opts.keepalive_timeout = strtoull(argv[2], NULL, 10);

  eddy_ip4_addr("127.0.0.1", port, &addr);
  if ((err = eddy_http_server_init(loop, &server, &opts, on_request)) != 0 ||
      (err = eddy_http_server_listen(&server, (struct sockaddr *)&addr, 0)) ||
      (err = eddy_http_server_getsockname(&server, (struct sockaddr *)&addr,
                                          &len))) {
    fprintf(stderr, "eddy_server: %s\n", eddy_strerror(err));
    return 1;
  }
  if (bench_eddy_metrics(loop) != 0)
    return 1;
  eddy_signal_init(loop, &sigint);
  eddy_signal_start(&sigint, on_signal, SIGINT);
  eddy_signal_init(loop, &sigterm);
  eddy_signal_start(&sigterm, on_signal, SIGTERM);
  printf("listening %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  eddy_run(loop, EDDY_RUN_DEFAULT);
  return eddy_loop_close(loop) == 0 ? 0 : 1;
}
