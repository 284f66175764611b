/* cluster_server.c: the course's demo server (see http_server.c) in
 * cluster mode: one program on every core, behind one port.
 *
 *   cluster_server [WORKERS [PORT]]   (online CPUs, 3000; 0: a free port)
 *   cluster_server --check [WORKERS]  (the story, checked; 2 workers)
 *
 * The primary forks WORKERS copies of this program (eddy_cluster_fork);
 * each one serves HTTP on the same port (the primary owns the socket and
 * hands connections round-robin), with the same routes as http_server:
 *
 *   /              answers at once
 *   /timer?ms=N    busy-waits N ms ON ITS LOOP (N <= 10000, default 1000)
 *   /hash          PBKDF2 on the worker's pool
 *
 * and every answer names the pid of the worker that served it. One
 * blocked worker no longer stalls the server: the others keep answering.
 * A worker that crashes is restarted (with backoff); SIGINT or SIGTERM
 * asks every worker to finish what it serves and go.
 *
 * --check tells that story and exits non-zero if it does not hold: it
 * asks /timer?ms=1500, then / on a new connection, and prints
 *   / answered by worker 4243 while worker 4242 was blocked
 *   /timer answered by worker 4242
 * (pids vary): "/" came back first, from another pid. */
#include <arpa/inet.h>
#include <eddy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo_http.h"

#define HASH_ITERATIONS 100000
#define HASH_BYTES 64

static eddy_loop_t loop;
static eddy_cluster_t cluster;

/* ---- a worker: the demo server, answers naming its pid ------------------- */

static eddy_http_server_t server;

struct hash_job {
  eddy_crypto_req_t req;
  eddy_http_exchange_t *ex;
  uint8_t out[HASH_BYTES];
};

static void on_hash_done(eddy_crypto_req_t *req, int status) {
  struct hash_job *job = (struct hash_job *)req;
  char text[128];
  int n, i;

  n = snprintf(text, sizeof(text), "worker %d: pbkdf2 %s ", (int)getpid(),
               status == 0 ? "done" : "failed");
  for (i = 0; i < 8 && status == 0; i++)
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", job->out[i]);
  snprintf(text + n, sizeof(text) - (size_t)n, "\n");
  reply(job->ex, status == 0 ? 200 : 500, text);
  free(job);
}

static void on_request(eddy_http_server_t *srv, eddy_http_exchange_t *ex) {
  const eddy_http_request_t *req = ex->req;
  char text[128];

  if (path_is(req, "/")) {
    snprintf(text, sizeof(text), "hello from worker %d\n", (int)getpid());
    reply(ex, 200, text);
  } else if (path_is(req, "/timer")) {
    long ms = query_ms(req, 1000);
    uint64_t end;

    if (ms > 10000)
      ms = 10000;
    end = eddy_hrtime() + (uint64_t)ms * 1000000u;

    while (eddy_hrtime() < end)
      ; /* blocking this worker's loop on purpose: the others go on */
    snprintf(text, sizeof(text), "worker %d blocked its loop for %ld ms\n",
             (int)getpid(), ms);
    reply(ex, 200, text);
  } else if (path_is(req, "/hash")) {
    struct hash_job *job = malloc(sizeof(*job));
    if (job == NULL) {
      reply(ex, 503, "out of memory\n");
      return;
    }
    job->ex = ex;
    if (eddy_queue_pbkdf2(srv->loop, &job->req, EDDY_HASH_SHA512, "password", 8,
                          "salt", 4, HASH_ITERATIONS, job->out, HASH_BYTES,
                          on_hash_done) != 0) {
      free(job);
      reply(ex, 500, "cannot queue pbkdf2\n");
    }
  } else {
    reply(ex, 404, "not found\n");
  }
}

/* Asked to go: stop serving; open connections finish, then the loop ends. */
static void worker_event(eddy_cluster_t *c, const eddy_cluster_event_t *ev) {
  (void)c;
  if (ev->type == EDDY_CLUSTER_EV_DISCONNECT)
    eddy_http_server_close(&server, NULL);
}

static int worker_main(int port) {
  eddy_cluster_options_t o;
  struct sockaddr_in addr;
  int err;

  signal(SIGINT, SIG_IGN); /* the primary decides when workers go */
  eddy_loop_init(&loop);
  eddy_cluster_options_init(&o);
  o.on_event = worker_event;
  if ((err = eddy_cluster_init(&loop, &cluster, &o)) != 0) {
    fprintf(stderr, "worker: %s\n", eddy_strerror(err));
    return 1;
  }
  eddy_ip4_addr("127.0.0.1", port, &addr);
  eddy_http_server_init(&loop, &server, NULL, on_request);
  /* through the primary: every worker gets the same port, 0 included */
  if ((err = eddy_http_server_listen(&server, (struct sockaddr *)&addr, 0)) !=
      0) {
    fprintf(stderr, "worker %d: listen: %s\n", (int)getpid(),
            eddy_strerror(err));
    return 1;
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  eddy_cluster_close(&cluster);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  return eddy_loop_close(&loop) == 0 ? 0 : 1;
}

/* ---- --check: a blocked worker does not block the server ---------------- */

struct get {
  eddy_tcp_t tcp;
  eddy_connect_t connect;
  eddy_write_t write;
  const char *path;
  char text[512];
  size_t len;
  int pid;
};

static struct get timer_get, fast_get;
static void get_start(struct get *g, const char *path);
static int check_port, check_failed, fast_first;

static int answer_pid(const char *text) {
  const char *p = strstr(text, "worker ");

  return p == NULL ? -1 : atoi(p + 7);
}

static void get_alloc(eddy_handle_t *h, size_t n, eddy_buf_t *b) {
  struct get *g = h->data;

  (void)n;
  *b = eddy_buf_init(g->text + g->len, sizeof(g->text) - 1 - g->len);
}

static void get_done(struct get *g) {
  g->text[g->len] = '\0';
  g->pid = answer_pid(g->text);
  if (g == &fast_get) {
    fast_first = timer_get.pid == 0;
    return;
  }
  printf("/ answered by worker %d while worker %d was blocked\n", fast_get.pid,
         timer_get.pid);
  printf("/timer answered by worker %d\n", timer_get.pid);
  if (!fast_first || fast_get.pid <= 0 || timer_get.pid <= 0 ||
      fast_get.pid == timer_get.pid) {
    fprintf(stderr, "FAILED: the blocked worker held up the server\n");
    check_failed = 1;
  }
  eddy_cluster_disconnect(&cluster);
}

static void get_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *b) {
  struct get *g = s->handle.data;

  (void)b;
  if (n > 0) {
    g->len += (size_t)n;
    return;
  }
  eddy_close(&s->handle, NULL);
  get_done(g);
}

static void get_connected(eddy_connect_t *req, int status) {
  struct get *g = req->req.data;
  static char line[2][128];
  eddy_buf_t b;
  int i = g == &fast_get;

  if (status != 0) {
    eddy_close(&g->tcp.stream.handle, NULL);
    get_done(g);
    return;
  }
  snprintf(line[i], sizeof(line[i]),
           "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", g->path);
  b = eddy_buf_init(line[i], strlen(line[i]));
  eddy_write(&g->write, &g->tcp.stream, &b, 1, NULL);
  eddy_read_start(&g->tcp.stream, get_alloc, get_read);
  if (g == &timer_get)
    get_start(&fast_get, "/"); /* the next connection, the next worker */
}

static void get_start(struct get *g, const char *path) {
  struct sockaddr_in a;

  memset(g, 0, sizeof(*g));
  g->path = path;
  eddy_tcp_init(&loop, &g->tcp);
  g->tcp.stream.handle.data = g;
  g->connect.req.data = g;
  eddy_ip4_addr("127.0.0.1", check_port, &a);
  eddy_tcp_connect(&g->connect, &g->tcp, (struct sockaddr *)&a, get_connected);
}

/* ---- the primary ------------------------------------------------------------
 */

static int nworkers, nlistening, check_mode;
static eddy_signal_t sigint, sigterm;

static void primary_event(eddy_cluster_t *c, const eddy_cluster_event_t *ev) {
  const struct sockaddr_in *a = (const struct sockaddr_in *)ev->address;

  (void)c;
  if (ev->type == EDDY_CLUSTER_EV_LISTENING && ++nlistening == nworkers) {
    check_port = ntohs(a->sin_port);
    printf("primary %d: %d workers on http://127.0.0.1:%d/\n", (int)getpid(),
           nworkers, check_port);
    fflush(stdout);
    if (check_mode)
      get_start(&timer_get, "/timer?ms=1500");
  } else if (ev->type == EDDY_CLUSTER_EV_EXIT && !check_mode) {
    printf("worker %d exited (code %lld, signal %d)%s\n", ev->worker->pid,
           (long long)ev->exit_status, ev->term_signal,
           ev->worker->exited_after_disconnect ? "" : ": restarting");
    fflush(stdout);
  } else if (ev->type == EDDY_CLUSTER_EV_ERRORED) {
    fprintf(stderr, "slot %d crashes at start: not restarted\n",
            ev->worker->slot);
  }
}

static void on_signal(eddy_signal_t *sig, int signum) {
  (void)sig;
  printf("signal %d: workers finish and go\n", signum);
  fflush(stdout);
  eddy_cluster_disconnect(&cluster);
  eddy_close(&sigint.handle, NULL);
  eddy_close(&sigterm.handle, NULL);
}

int main(int argc, char **argv) {
  eddy_cluster_options_t o;
  int first = 1, port = 3000, i, err;

  if (argc > 1 && strcmp(argv[1], "--check") == 0) {
    check_mode = 1;
    first = 2;
    port = 0;
  }
  nworkers = check_mode ? 2 : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (argc > first)
    nworkers = atoi(argv[first]);
  if (argc > first + 1 && !check_mode)
    port = atoi(argv[first + 1]);
  if (!eddy_cluster_is_primary())
    return worker_main(port);
  if (nworkers < 1 || nworkers > EDDY_CLUSTER_MAX_WORKERS ||
      (check_mode && nworkers < 2)) {
    fprintf(stderr,
            "usage: cluster_server [WORKERS [PORT]] | --check [N>=2]\n");
    return 2;
  }
  eddy_loop_init(&loop);
  eddy_cluster_options_init(&o);
  o.on_event = primary_event;
  o.restart = !check_mode;
  if ((err = eddy_cluster_init(&loop, &cluster, &o)) != 0) {
    fprintf(stderr, "cluster: %s\n", eddy_strerror(err));
    return 1;
  }
  for (i = 0; i < nworkers; i++)
    if ((err = eddy_cluster_fork(&cluster, NULL)) != 0) {
      fprintf(stderr, "fork: %s\n", eddy_strerror(err));
      return 1;
    }
  eddy_signal_init(&loop, &sigint);
  eddy_signal_start(&sigint, on_signal, SIGINT);
  eddy_signal_init(&loop, &sigterm);
  eddy_signal_start(&sigterm, on_signal, SIGTERM);
  eddy_unref(&sigint.handle);
  eddy_unref(&sigterm.handle);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (!eddy_is_closing(&sigint.handle)) {
    eddy_close(&sigint.handle, NULL);
    eddy_close(&sigterm.handle, NULL);
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  eddy_cluster_close(&cluster);
  return eddy_loop_close(&loop) == 0 && !check_failed ? 0 : 1;
}
