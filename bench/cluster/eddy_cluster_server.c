/* bench/cluster/eddy_cluster_server.c: eddy's side of the cluster
 * benchmark: a primary and WORKERS workers serving one port, each request
 * answered 200 text/plain "hello\n" (as bench/http's servers).
 *   bench_cluster_eddy_server PORT [WORKERS [pid]]    (2 workers)
 * With "pid" the answer is "hello PID\n" instead (distribution.sh counts
 * which worker served each connection).
 * The scheduling is EDDY_CLUSTER_SCHED's (rr when unset). PORT 0 takes a
 * free port; "listening PORT" says which, once every worker listens.
 * SIGTERM: the workers finish and go, then the primary. SIGHUP: a rolling
 * reload (eddy_cluster_reload). */
#include <arpa/inet.h>
#include <eddy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static eddy_loop_t loop;
static eddy_cluster_t cluster;
static eddy_http_server_t server;
static eddy_signal_t sigterm, sighup;
static int nworkers = 2, nlistening, with_pid;

static void on_request(eddy_http_server_t *srv, eddy_http_exchange_t *ex) {
  static const eddy_http_field_t type[] = {{"Content-Type", "text/plain"}};

  char text[32];
  int n;

  (void)srv;
  if (!with_pid) {
    eddy_http_respond(ex, 200, type, 1, "hello\n", 6);
    return;
  }
  n = snprintf(text, sizeof(text), "hello %d\n", (int)getpid());
  eddy_http_respond(ex, 200, type, 1, text, (size_t)n);
}

static void on_event(eddy_cluster_t *c, const eddy_cluster_event_t *ev) {
  (void)c;
  if (ev->type == EDDY_CLUSTER_EV_DISCONNECT && ev->worker == NULL)
    eddy_http_server_close(&server, NULL);
  if (ev->type == EDDY_CLUSTER_EV_LISTENING && ++nlistening == nworkers) {
    printf("listening %d\n",
           ntohs(((const struct sockaddr_in *)ev->address)->sin_port));
    fflush(stdout);
  }
}

static void on_sigterm(eddy_signal_t *s, int signum) {
  (void)s;
  (void)signum;
  eddy_cluster_disconnect(&cluster);
  eddy_close(&sigterm.handle, NULL);
  eddy_close(&sighup.handle, NULL);
}

static void on_sighup(eddy_signal_t *s, int signum) {
  (void)s;
  (void)signum;
  eddy_cluster_reload(&cluster); /* EDDY_EALREADY: one is running */
}

int main(int argc, char **argv) {
  eddy_cluster_options_t o;
  struct sockaddr_in a;
  int i;

  if (argc > 2)
    nworkers = atoi(argv[2]);
  with_pid = argc > 3 && strcmp(argv[3], "pid") == 0;
  eddy_loop_init(&loop);
  if (eddy_cluster_options_init(&o) != 0)
    return 2;
  o.on_event = on_event;
  if (eddy_cluster_init(&loop, &cluster, &o) != 0)
    return 1;
  if (!eddy_cluster_is_primary()) {
    signal(SIGINT, SIG_IGN);
    eddy_ip4_addr("127.0.0.1", argc > 1 ? atoi(argv[1]) : 0, &a);
    eddy_http_server_init(&loop, &server, NULL, on_request);
    if (eddy_http_server_listen(&server, (struct sockaddr *)&a, 0) != 0)
      return 1;
  } else {
    for (i = 0; i < nworkers; i++)
      if (eddy_cluster_fork(&cluster, NULL) != 0)
        return 1;
    eddy_signal_init(&loop, &sigterm);
    eddy_signal_start(&sigterm, on_sigterm, SIGTERM);
    eddy_unref(&sigterm.handle);
    eddy_signal_init(&loop, &sighup);
    eddy_signal_start(&sighup, on_sighup, SIGHUP);
    eddy_unref(&sighup.handle);
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  eddy_cluster_close(&cluster);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  return 0;
}
