/* http_server.c: the Node course's demo server, on one event loop.
 *
 *   http_server [PORT]      (default 3000; 0 picks a free port)
 *
 * Prints "listening on http://127.0.0.1:PORT/" and serves until SIGINT or
 * SIGTERM. Three routes tell the story of the event loop:
 *
 *   /              answers at once.
 *
 *   /timer?ms=N    busy-waits N ms ON THE LOOP before answering (N <= 10000,
 *                  default 1000). While it spins, every other client waits,
 *                  even those asking for "/": one blocking handler stalls
 *                  the whole server. Try it in a shell:
 *
 *                    curl localhost:3000/timer?ms=5000 &
 *                    time curl localhost:3000/
 *
 *   /hash          runs PBKDF2 (SHA-512, 100,000 iterations) on the work
 *                  pool and answers when it is done. The loop stays free
 *                  meanwhile: "/" keeps answering at once. Four requests
 *                  run in parallel (the pool has 4 threads,
 *                  EDDY_THREADPOOL_SIZE changes it); the fifth waits for a
 *                  free thread.
 *
 *   /metrics       the loop's figures as Prometheus text: utilisation,
 *                  the loop-delay histogram (per iteration, and timer-
 *                  based at 10 ms as Node's monitorEventLoopDelay), the
 *                  pool. After a /timer?ms=2000 its delay p99 shows it.
 *
 * A watchdog watches the loop: a /timer of more than 100 ms (or
 * EDDY_WATCHDOG_MS) prints one line on stderr naming the callback and the
 * loop's stack while it blocks, and one when the loop is back.
 *
 * Anything else is a 404. Each answer says how long it took, so
 *   curl -s localhost:3000/hash
 * prints something like "pbkdf2 done in 45 ms: 3a5f...". */
#include <arpa/inet.h>
#include <eddy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_http.h"

#define HASH_ITERATIONS 100000
#define HASH_BYTES 64

struct hash_job {
  eddy_crypto_req_t req;
  eddy_http_exchange_t *ex;
  uint64_t start_ns;
  uint8_t out[HASH_BYTES];
};

static eddy_http_server_t server;
static eddy_signal_t sigint, sigterm;

static char metrics_text[32768];

static void on_hash_done(eddy_crypto_req_t *req, int status) {
  struct hash_job *job = (struct hash_job *)req;
  char text[256];
  int n, i;

  if (status != 0) {
    reply(job->ex, 500, "pbkdf2 failed\n");
    free(job);
    return;
  }
  n = snprintf(
      text, sizeof(text), "pbkdf2 done in %llu ms: ",
      (unsigned long long)((eddy_hrtime() - job->start_ns) / 1000000u));
  for (i = 0; i < 16; i++)
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", job->out[i]);
  snprintf(text + n, sizeof(text) - (size_t)n, "...\n");
  reply(job->ex, 200, text); /* the client may be gone: that is fine */
  free(job);
}

static void start_hash(eddy_http_server_t *srv, eddy_http_exchange_t *ex) {
  struct hash_job *job = malloc(sizeof(*job));

  if (job == NULL) {
    reply(ex, 503, "out of memory\n");
    return;
  }
  job->ex = ex;
  job->start_ns = eddy_hrtime();
  if (eddy_queue_pbkdf2(srv->loop, &job->req, EDDY_HASH_SHA512, "password", 8,
                        "salt", 4, HASH_ITERATIONS, job->out, HASH_BYTES,
                        on_hash_done) != 0) {
    free(job);
    reply(ex, 500, "cannot queue pbkdf2\n");
  }
}

static void on_request(eddy_http_server_t *srv, eddy_http_exchange_t *ex) {
  const eddy_http_request_t *req = ex->req;
  char text[128];

  if (path_is(req, "/")) {
    reply(ex, 200, "hello from eddy\n");
  } else if (path_is(req, "/timer")) {
    long ms = query_ms(req, 1000);
    uint64_t end;

    if (ms > 10000)
      ms = 10000;
    end = eddy_hrtime() + (uint64_t)ms * 1000000u;
    while (eddy_hrtime() < end)
      ; /* blocking the loop on purpose: the point of the demo */
    snprintf(text, sizeof(text), "blocked the loop for %ld ms\n", ms);
    reply(ex, 200, text);
  } else if (path_is(req, "/hash")) {
    start_hash(srv, ex);
  } else if (path_is(req, "/metrics")) {
    static const eddy_http_field_t prom[] = {
        {"Content-Type", "text/plain; version=0.0.4"}};
    int n = eddy_metrics_format(srv->loop, metrics_text, sizeof(metrics_text));

    if (n < 0)
      reply(ex, 500, "metrics did not fit\n");
    else
      eddy_http_respond(ex, 200, prom, 1, metrics_text, (size_t)n);
  } else {
    reply(ex, 404, "not found\n");
  }
}

static void on_client_error(eddy_http_server_t *srv, int err, int status) {
  (void)srv;
  if (status != 0)
    fprintf(stderr, "client error: %s (answered %d)\n",
            err <= -3001 && err >= -3024 ? eddy_http_strerror(err)
                                         : eddy_strerror(err),
            status);
}

static void on_signal(eddy_signal_t *sig, int signum) {
  (void)sig;
  printf("signal %d: closing\n", signum);
  fflush(stdout);
  eddy_http_server_close(&server, NULL);
  eddy_metrics_delay_timer_stop(sig->handle.loop);
  eddy_watchdog_stop(sig->handle.loop);
  eddy_close(&sigint.handle, NULL);
  eddy_close(&sigterm.handle, NULL);
}

int main(int argc, char **argv) {
  eddy_loop_t *loop = eddy_default_loop();
  struct sockaddr_in addr;
  int port = argc > 1 ? atoi(argv[1]) : 3000;
  int len = sizeof(addr);
  const char *watchdog_ms = getenv("EDDY_WATCHDOG_MS");
  int err;

  eddy_ip4_addr("127.0.0.1", port, &addr);
  if ((err = eddy_http_server_init(loop, &server, NULL, on_request)) != 0 ||
      (err = eddy_http_server_listen(&server, (struct sockaddr *)&addr, 0)) !=
          0 ||
      (err = eddy_http_server_getsockname(&server, (struct sockaddr *)&addr,
                                          &len)) != 0) {
    fprintf(stderr, "http server: %s\n", eddy_strerror(err));
    return 1;
  }
  server.on_client_error = on_client_error;
  if ((err = eddy_metrics_enable(loop, EDDY_METRICS_LOOP)) != 0 ||
      (err = eddy_metrics_delay_timer_start(loop, 10)) != 0 ||
      (err = eddy_watchdog_start(
           loop, watchdog_ms != NULL ? (unsigned)atoi(watchdog_ms) : 100, NULL,
           NULL)) != 0) {
    fprintf(stderr, "metrics: %s\n", eddy_strerror(err));
    return 1;
  }
  eddy_signal_init(loop, &sigint);
  eddy_signal_start(&sigint, on_signal, SIGINT);
  eddy_signal_init(loop, &sigterm);
  eddy_signal_start(&sigterm, on_signal, SIGTERM);
  printf("listening on http://127.0.0.1:%d/\n", ntohs(addr.sin_port));
  fflush(stdout);
  eddy_run(loop, EDDY_RUN_DEFAULT);
  return eddy_loop_close(loop) == 0 ? 0 : 1;
}
