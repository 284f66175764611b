/* cluster_counter.c: state shared by several processes lives in Redis.
 *
 *   cluster_counter [HOST:PORT [WORKERS [INCRS]]]   (127.0.0.1:6379, 3, 1000)
 *
 * The primary forks WORKERS processes (eddy_fork, each with a channel to
 * it). Every worker connects to Redis, serves HTTP on its own port, and
 * increments one counter INCRS times, all at once (pipelined), as its
 * share of the traffic. Each worker's HTTP answer is the counter as that
 * worker reads it (through its client-side cache: the other workers'
 * INCRs invalidate it). Once every worker reported done, the primary asks
 * each one over HTTP: they all say WORKERS * INCRS, exactly, because
 * INCR is atomic in Redis however many processes share it; a counter kept
 * in each process's memory would have split into WORKERS parts.
 *
 * Expected output (pids and ports vary):
 *   worker 4242 serving http://127.0.0.1:40001/
 *   ... (one line per worker)
 *   worker 4242 did its 1000 INCRs
 *   ...
 *   http://127.0.0.1:40001/ says counter=3000 (worker 4242)
 *   ...
 *   total exact: 3000 = 3 workers x 1000
 * It exits non-zero if a total differs or a worker fails. */
#include <arpa/inet.h>
#include <eddy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY "cluster_counter:total"
#define MAX_WORKERS 16

static eddy_loop_t loop;
static char host[256] = "127.0.0.1";
static int port = 6379, nworkers = 3;
static long incrs = 1000;
static int failed;

static void parse_args(int argc, char **argv, int first) {
  if (argc > first) {
    const char *colon = strrchr(argv[first], ':');
    if (colon != NULL && colon - argv[first] < (long)sizeof(host)) {
      memcpy(host, argv[first], (size_t)(colon - argv[first]));
      host[colon - argv[first]] = '\0';
      port = atoi(colon + 1);
    }
  }
  if (argc > first + 1)
    nworkers = atoi(argv[first + 1]);
  if (argc > first + 2)
    incrs = atol(argv[first + 2]);
  if (nworkers < 1 || nworkers > MAX_WORKERS || incrs < 1) {
    fprintf(stderr, "usage: cluster_counter [HOST:PORT [WORKERS [INCRS]]]\n");
    exit(2);
  }
}

/* ---- a worker ------------------------------------------------------------ */

static eddy_channel_t channel;
static eddy_redis_t redis;
static eddy_http_server_t http;
static eddy_channel_send_t sends[2];
static char msg[2][64];
static long replied;

static void send_msg(int i, const char *text) {
  snprintf(msg[i], sizeof(msg[i]), "%s", text);
  eddy_channel_send(&channel, &sends[i], msg[i], strlen(msg[i]), NULL, NULL);
}

static void on_incr(eddy_redis_t *r, int status, const eddy_resp_node_t *reply,
                    void *arg) {
  (void)r;
  (void)arg;
  if (status != 0 || reply->type != EDDY_RESP_INTEGER)
    failed = 1;
  if (++replied == incrs)
    send_msg(1, failed ? "failed" : "done");
}

/* GET / : the counter, read through the cache. */
static void on_counter(eddy_redis_t *r, int status,
                       const eddy_resp_node_t *reply, void *arg) {
  eddy_http_exchange_t *ex = arg;
  static const eddy_http_field_t text[] = {{"Content-Type", "text/plain"}};
  char body[96];
  int n;

  (void)r;
  if (status != 0 || reply->type != EDDY_RESP_BULK)
    n = snprintf(body, sizeof(body), "error %s\n", eddy_err_name(status));
  else
    n = snprintf(body, sizeof(body), "counter=%.*s (worker %d)\n",
                 (int)reply->len, reply->str, (int)getpid());
  eddy_http_respond(ex, status == 0 ? 200 : 503, text, 1, body, (size_t)n);
}

static void on_request(eddy_http_server_t *s, eddy_http_exchange_t *ex) {
  const char *argv[] = {"GET", KEY};

  (void)s;
  if (eddy_redis_cached(&redis, 2, argv, NULL, on_counter, ex) != 0)
    eddy_http_respond(ex, 503, NULL, 0, "busy\n", 5);
}

static void on_ready(eddy_redis_t *r, const eddy_redis_event_t *ev) {
  long i;

  if (ev->type != EDDY_REDIS_EV_READY || replied > 0)
    return;
  for (i = 0; i < incrs; i++)
    eddy_redis_cmd(r, on_incr, NULL, "INCR", KEY, NULL);
}

static void worker_message(eddy_channel_t *c, const void *data, size_t len,
                           int has_handle) {
  (void)has_handle;
  if (len == 4 && memcmp(data, "exit", 4) == 0) {
    eddy_http_server_close(&http, NULL);
    eddy_redis_close(&redis, NULL);
    eddy_channel_close(c, NULL);
  }
}

static void worker_gone(eddy_channel_t *c, int status) {
  (void)status;
  worker_message(c, "exit", 4, 0); /* the primary went away: stop too */
}

static int worker_main(void) {
  eddy_redis_options_t o;
  struct sockaddr_in a;
  int alen = sizeof(a);
  char line[64];

  eddy_loop_init(&loop);
  if (eddy_channel_open_parent(&loop, &channel, worker_message, worker_gone) !=
      0)
    return 1;
  eddy_http_server_init(&loop, &http, NULL, on_request);
  eddy_ip4_addr("127.0.0.1", 0, &a);
  if (eddy_http_server_listen(&http, (struct sockaddr *)&a, 0) != 0)
    return 1;
  eddy_http_server_getsockname(&http, (struct sockaddr *)&a, &alen);
  printf("worker %d serving http://127.0.0.1:%d/\n", (int)getpid(),
         ntohs(a.sin_port));
  fflush(stdout);
  snprintf(line, sizeof(line), "port %d", ntohs(a.sin_port));
  send_msg(0, line);
  eddy_redis_options_init(&o);
  o.cache_mode = EDDY_REDIS_CACHE_DEFAULT;
  o.on_event = on_ready;
  eddy_redis_init(&loop, &redis, &o);
  eddy_redis_connect(&redis, host, port);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  eddy_loop_close(&loop);
  return failed;
}

/* ---- the primary --------------------------------------------------------- */

struct worker {
  eddy_process_t proc;
  eddy_channel_t ch;
  eddy_channel_send_t send;
  int port, done, exited;
  /* one HTTP GET */
  eddy_tcp_t tcp;
  eddy_connect_t conn;
  eddy_write_t wreq;
  char resp[1024];
  size_t resp_len;
};

static struct worker workers[MAX_WORKERS];
static int ndone, nexited, nanswers;
static eddy_redis_t admin;

static void ask_all(void);

static void primary_message(eddy_channel_t *c, const void *data, size_t len,
                            int has_handle) {
  struct worker *w = c->data;
  char text[64];

  (void)has_handle;
  if (len >= sizeof(text))
    return;
  memcpy(text, data, len);
  text[len] = '\0';
  if (strncmp(text, "port ", 5) == 0) {
    w->port = atoi(text + 5);
  } else if (strcmp(text, "done") == 0 || strcmp(text, "failed") == 0) {
    if (text[0] == 'f')
      failed = 1;
    printf("worker %d did its %ld INCRs\n", w->proc.pid, incrs);
    if (++ndone == nworkers)
      ask_all();
  }
}

static void on_exit_cb(eddy_process_t *p, int64_t status, int signal) {
  struct worker *w = (struct worker *)p;

  if (status != 0 || signal != 0) {
    fprintf(stderr, "worker %d exited %lld (signal %d)\n", p->pid,
            (long long)status, signal);
    failed = 1;
  }
  w->exited = 1;
  eddy_close(&p->handle, NULL);
  eddy_channel_close(&w->ch, NULL);
  if (++nexited == nworkers)
    eddy_redis_close(&admin, NULL);
}

static void http_alloc(eddy_handle_t *h, size_t n, eddy_buf_t *b) {
  struct worker *w = h->data;
  (void)n;
  *b = eddy_buf_init(w->resp + w->resp_len, sizeof(w->resp) - 1 - w->resp_len);
}

/* The worker's answer came (the connection closes after it). */
static void http_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *b) {
  struct worker *w = s->handle.data;
  char want[32];
  const char *body;
  int i;

  (void)b;
  if (n > 0) {
    w->resp_len += (size_t)n;
    return;
  }
  if (n == 0)
    return;
  eddy_close(&s->handle, NULL);
  w->resp[w->resp_len] = '\0';
  body = strstr(w->resp, "\r\n\r\n");
  body = body ? body + 4 : "";
  printf("http://127.0.0.1:%d/ says %s", w->port, body);
  snprintf(want, sizeof(want), "counter=%ld ", (long)nworkers * incrs);
  if (strncmp(body, want, strlen(want)) != 0) {
    fprintf(stderr, "FAILED: expected %s\n", want);
    failed = 1;
  }
  if (++nanswers == nworkers) {
    if (!failed)
      printf("total exact: %ld = %d workers x %ld\n", (long)nworkers * incrs,
             nworkers, incrs);
    for (i = 0; i < nworkers; i++)
      eddy_channel_send(&workers[i].ch, &workers[i].send, "exit", 4, NULL,
                        NULL);
  }
}

static void http_connected(eddy_connect_t *req, int status) {
  struct worker *w = req->req.data;
  static const char get[] =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  eddy_buf_t b = eddy_buf_init((void *)get, sizeof(get) - 1);

  if (status != 0) {
    failed = 1;
    eddy_close(&w->tcp.stream.handle, NULL);
    return;
  }
  eddy_write(&w->wreq, &w->tcp.stream, &b, 1, NULL);
  eddy_read_start(&w->tcp.stream, http_alloc, http_read);
}

static void ask_all(void) {
  struct sockaddr_in a;
  int i;

  for (i = 0; i < nworkers; i++) {
    struct worker *w = &workers[i];
    eddy_tcp_init(&loop, &w->tcp);
    w->tcp.stream.handle.data = w;
    w->conn.req.data = w;
    eddy_ip4_addr("127.0.0.1", w->port, &a);
    eddy_tcp_connect(&w->conn, &w->tcp, (struct sockaddr *)&a, http_connected);
  }
}

static void start_workers(eddy_redis_t *r, int status,
                          const eddy_resp_node_t *reply, void *arg) {
  char n[16], *args[6];
  eddy_process_options_t po;
  int i;

  (void)r;
  (void)reply;
  (void)arg;
  if (status != 0) {
    fprintf(stderr, "Redis at %s:%d: %s\n", host, port, eddy_strerror(status));
    failed = 1;
    eddy_redis_close(&admin, NULL);
    return;
  }
  snprintf(n, sizeof(n), "%ld", incrs);
  args[0] = (char *)"cluster_counter";
  args[1] = (char *)"--worker";
  args[3] = (char *)"1";
  args[4] = n;
  args[5] = NULL;
  {
    static char hp[300];
    snprintf(hp, sizeof(hp), "%s:%d", host, port);
    args[2] = hp;
  }
  memset(&po, 0, sizeof(po));
  po.file = "/proc/self/exe";
  po.args = args;
  po.exit_cb = on_exit_cb;
  for (i = 0; i < nworkers; i++) {
    eddy_channel_init(&loop, &workers[i].ch, primary_message, NULL);
    workers[i].ch.data = &workers[i];
    if (eddy_fork(&loop, &workers[i].proc, &workers[i].ch, &po) != 0) {
      fprintf(stderr, "fork failed\n");
      exit(1);
    }
  }
}

int main(int argc, char **argv) {
  eddy_redis_options_t o;

  if (argc > 1 && strcmp(argv[1], "--worker") == 0) {
    parse_args(argc, argv, 2);
    return worker_main();
  }
  parse_args(argc, argv, 1);
  eddy_loop_init(&loop);
  eddy_redis_options_init(&o);
  o.no_reconnect = 1;
  eddy_redis_init(&loop, &admin, &o);
  eddy_redis_connect(&admin, host, port);
  /* a fresh counter, then the workers */
  eddy_redis_cmd(&admin, start_workers, NULL, "DEL", KEY, NULL);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  eddy_loop_close(&loop);
  return failed;
}
