/* test_http_server.c: the HTTP/1.1 server against real sockets.
 *
 * The server runs on the test's loop (main thread); each test's client runs
 * on a second thread with plain blocking sockets (10 s receive/send
 * timeouts, so nothing can hang), then wakes the loop with an async handle
 * that closes the server. Clients record failures in a log checked after
 * the join (cmocka asserts are not for other threads). Waits are on events
 * (a response, EOF, a flag the server sets), never on a sleep's length.
 *
 * Covered: every row of spec/http.md's hostile table (status, "Connection:
 * close", EOF, and a fresh connection served after); requests whole, byte
 * by byte and split at every point; pipelining in order with asynchronous
 * handlers (timer, work pool); chunked uploads; 100-continue; HEAD;
 * HTTP/1.0 with and without keep-alive; header, idle and body deadlines; a
 * slow reader (pipelined and streamed responses: the write queue stays
 * bounded); max requests per connection; peers that stop or reset in the
 * middle; the API's error paths; graceful server close; no fd leaks. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_util.h"

/* ---- the fixture -------------------------------------------------------- */

struct fx {
  eddy_loop_t loop;
  eddy_http_server_t server;
  eddy_async_t done;
  pthread_t thread;
  int port;
  void (*client)(void);
  pthread_mutex_t lock;
  char failures[16384];
  size_t flen;
  /* what the server side saw (loop thread; atomics where the client
   * thread waits on them) */
  int requests;
  int emfile_seen;  /* on_client_error heard EMFILE or ENFILE */
  int errors[1024]; /* client-error callback: err, status pairs */
  int nerrors;
  size_t max_wq_entry; /* write queue at the request callback */
  int idle_without_rstate; /* /idle-check: idle connections holding none */
  int busy_with_rstate;    /* /idle-check: connections holding one */
  size_t max_wq;       /* write queue after a response was written */
  int paused_seen;     /* atomic: the queue went over the high water mark */
  int drains;
  int aborts;
  int abort_err;
  int closed_cb;
  int send_timeouts; /* atomic: client errors ETIMEDOUT with no status */
  int api_checked;
  eddy_http_exchange_t *held;
};

static struct fx fx;

static void fail_at(int line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail_at(int line, const char *fmt, ...) {
  va_list ap;
  int n;

  pthread_mutex_lock(&fx.lock);
  n = snprintf(fx.failures + fx.flen, sizeof(fx.failures) - fx.flen,
               "line %d: ", line);
  if (n > 0 && (size_t)n < sizeof(fx.failures) - fx.flen)
    fx.flen += (size_t)n;
  va_start(ap, fmt);
  n = vsnprintf(fx.failures + fx.flen, sizeof(fx.failures) - fx.flen, fmt, ap);
  va_end(ap);
  if (n > 0 && (size_t)n < sizeof(fx.failures) - fx.flen)
    fx.flen += (size_t)n;
  if (fx.flen + 1 < sizeof(fx.failures))
    fx.failures[fx.flen++] = '\n';
  fx.failures[fx.flen] = '\0';
  pthread_mutex_unlock(&fx.lock);
}

/* Usable on both threads. */
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      fail_at(__LINE__, __VA_ARGS__);                                          \
  } while (0)

static void on_server_closed(eddy_http_server_t *server) {
  (void)server;
  fx.closed_cb++;
}

static void on_done(eddy_async_t *async) {
  eddy_close(&async->handle, NULL);
  if (!fx.server.priv.closing)
    eddy_http_server_close(&fx.server, on_server_closed);
}

static void *client_main(void *arg) {
  (void)arg;
  fx.client();
  eddy_async_send(&fx.done);
  return NULL;
}

static void on_client_error(eddy_http_server_t *server, int err, int status) {
  (void)server;
  if (err == EDDY_ETIMEDOUT && status == 0)
    __atomic_add_fetch(&fx.send_timeouts, 1, __ATOMIC_RELEASE);
  if (err == EDDY_EMFILE || err == EDDY_ENFILE)
    __atomic_store_n(&fx.emfile_seen, 1, __ATOMIC_RELEASE);
  if (fx.nerrors + 2 <= (int)(sizeof(fx.errors) / sizeof(fx.errors[0]))) {
    fx.errors[fx.nerrors++] = err;
    fx.errors[fx.nerrors++] = status;
  }
}

/* True if the client-error callback reported err (and status, if >= 0). */
static int saw_error(int err, int status) {
  int i;

  for (i = 0; i + 1 < fx.nerrors; i += 2)
    if (fx.errors[i] == err && (status < 0 || fx.errors[i + 1] == status))
      return 1;
  return 0;
}

static void handler(eddy_http_server_t *server, eddy_http_exchange_t *ex);

/* Serve with opts (NULL: defaults) while client() runs on its thread. */
static void run_with(const eddy_http_server_options_t *opts,
                     void (*client)(void)) {
  struct sockaddr_in addr;
  int len = sizeof(addr);
  int fds = test_count_fds();

  memset(&fx, 0, sizeof(fx));
  pthread_mutex_init(&fx.lock, NULL);
  fx.client = client;
  assert_int_equal(eddy_loop_init(&fx.loop), 0);
  assert_int_equal(eddy_http_server_init(&fx.loop, &fx.server, opts, handler),
                   0);
  fx.server.on_client_error = on_client_error;
  fx.server.data = &fx;
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 0, &addr), 0);
  assert_int_equal(
      eddy_http_server_listen(&fx.server, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(
      eddy_http_server_getsockname(&fx.server, (struct sockaddr *)&addr, &len),
      0);
  fx.port = ntohs(addr.sin_port);
  assert_int_equal(eddy_async_init(&fx.loop, &fx.done, on_done), 0);
  assert_int_equal(pthread_create(&fx.thread, NULL, client_main, NULL), 0);
  assert_int_equal(eddy_run(&fx.loop, EDDY_RUN_DEFAULT), 0);
  pthread_join(fx.thread, NULL);
  if (fx.flen != 0)
    fail_msg("%s", fx.failures);
  assert_int_equal(fx.closed_cb, 1);
  test_assert_loop_clean(&fx.loop);
  pthread_mutex_destroy(&fx.lock);
  assert_int_equal(test_count_fds(), fds);
}

/* ---- the client side (second thread) ------------------------------------ */

struct cl {
  int fd;
  size_t len;
  char buf[65536];
};

struct resp {
  int status;
  int close;      /* "Connection: close" */
  int keep_alive; /* "Connection: keep-alive" */
  int chunked;
  long long clen; /* -1: none */
  char head[4096];
  char *body;
  size_t body_len, body_cap;
};

static void resp_free(struct resp *r) {
  free(r->body);
  memset(r, 0, sizeof(*r));
}

static int cl_open_rcvbuf(struct cl *c, int rcvbuf) {
  struct sockaddr_in a;
  struct timeval tv = {10, 0};
  int one = 1;

  c->len = 0;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return -1;
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (rcvbuf > 0)
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)fx.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  return 0;
}

static int cl_open(struct cl *c) {
  return cl_open_rcvbuf(c, 0);
}

static void cl_close(struct cl *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

/* Close with a reset (SO_LINGER 0). */
static void cl_reset(struct cl *c) {
  struct linger l = {1, 0};

  setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  cl_close(c);
}

static int cl_send(struct cl *c, const void *data, size_t len) {
  const char *p = data;

  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int cl_sends(struct cl *c, const char *s) {
  return cl_send(c, s, strlen(s));
}

/* Reads more into the buffer: > 0 bytes, 0 at EOF, < 0 on error. */
static ssize_t cl_fill(struct cl *c) {
  ssize_t n;

  if (c->len == sizeof(c->buf))
    return -ENOBUFS;
  do
    n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  c->len += (size_t)n;
  return n;
}

static void cl_consume(struct cl *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

/* Moves n body bytes (reading as needed) into r. Returns 0 or -1. */
static int cl_take(struct cl *c, struct resp *r, size_t n) {
  while (n > 0) {
    size_t k;

    if (c->len == 0 && cl_fill(c) <= 0)
      return -1;
    k = c->len < n ? c->len : n;
    if (r->body_len + k + 1 > r->body_cap) {
      size_t cap = r->body_cap ? r->body_cap : 256;
      while (cap < r->body_len + k + 1)
        cap *= 2;
      r->body = realloc(r->body, cap);
      r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, c->buf, k);
    r->body_len += k;
    r->body[r->body_len] = '\0';
    cl_consume(c, k);
    n -= k;
  }
  return 0;
}

/* The offset just past the next CRLF in the buffer, reading as needed;
 * 0 on error or EOF. */
static size_t cl_line(struct cl *c) {
  for (;;) {
    char *p = memmem(c->buf, c->len, "\r\n", 2);
    if (p != NULL)
      return (size_t)(p - c->buf) + 2;
    if (cl_fill(c) <= 0)
      return 0;
  }
}

static int has_field(const char *head, const char *field) {
  return strcasestr(head, field) != NULL;
}

/* Reads one response. head_req: the request was HEAD (no body). Returns 0,
 * 1 at EOF before any byte, -1 on error. */
static int cl_response(struct cl *c, struct resp *r, int head_req) {
  char *end, *p;
  size_t hlen;

  memset(r, 0, sizeof(*r));
  r->clen = -1;
  for (;;) {
    ssize_t n;

    end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (end != NULL)
      break;
    n = cl_fill(c);
    if (n == 0)
      return c->len == 0 ? 1 : -1;
    if (n < 0)
      return -1;
  }
  hlen = (size_t)(end - c->buf) + 4;
  if (hlen >= sizeof(r->head) || hlen < 12 ||
      memcmp(c->buf, "HTTP/1.1 ", 9) != 0)
    return -1;
  memcpy(r->head, c->buf, hlen);
  r->head[hlen] = '\0';
  cl_consume(c, hlen);
  r->status = atoi(r->head + 9);
  r->close = has_field(r->head, "\r\nConnection: close\r\n");
  r->keep_alive = has_field(r->head, "\r\nConnection: keep-alive\r\n");
  r->chunked = has_field(r->head, "\r\nTransfer-Encoding: chunked\r\n");
  p = strcasestr(r->head, "\r\nContent-Length: ");
  if (p != NULL)
    r->clen = atoll(p + 18);
  if (head_req || r->status < 200 || r->status == 204 || r->status == 304)
    return 0;
  if (r->chunked) {
    for (;;) {
      size_t line = cl_line(c), size;

      if (line == 0)
        return -1;
      size = strtoul(c->buf, NULL, 16);
      cl_consume(c, line);
      if (size == 0)
        break;
      if (cl_take(c, r, size) != 0 || cl_line(c) != 2)
        return -1;
      cl_consume(c, 2);
    }
    if (cl_line(c) != 2) /* no trailers: the final CRLF */
      return -1;
    cl_consume(c, 2);
    return 0;
  }
  if (r->clen >= 0)
    return cl_take(c, r, (size_t)r->clen);
  for (;;) { /* close-delimited */
    ssize_t n;

    if (c->len > 0 && cl_take(c, r, c->len) != 0)
      return -1;
    n = cl_fill(c);
    if (n == 0)
      return 0;
    if (n < 0)
      return -1;
  }
}

/* 1 if the server closed with nothing more to read, 0 if bytes came, -1
 * on an error (a reset, or no EOF within the receive timeout). */
static int cl_eof(struct cl *c) {
  ssize_t n;

  if (c->len != 0)
    return 0;
  n = cl_fill(c);
  return n == 0 ? 1 : n > 0 ? 0 : -1;
}

/* One request on a fresh connection, one response. */
static int fetch(const char *req, struct resp *r) {
  struct cl *c = malloc(sizeof(*c));
  int err = -1;

  memset(r, 0, sizeof(*r));
  if (c != NULL && cl_open(c) == 0) {
    if (cl_sends(c, req) == 0)
      err = cl_response(c, r, strncmp(req, "HEAD ", 5) == 0);
    cl_close(c);
  }
  free(c);
  return err;
}

/* The server still answers a plain GET on a new connection. */
static void check_still_serving(int line) {
  struct resp r;
  int err = fetch("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r);

  if (err != 0 || r.status != 200 || strcmp(r.body ? r.body : "", "hello\n"))
    fail_at(line, "server no longer serving (err %d status %d)", err, r.status);
  resp_free(&r);
}

/* Spin until *flag is set (by the loop thread), at most 10 s. */
static int wait_flag(int *flag) {
  int i;

  for (i = 0; i < 10000; i++) {
    if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
      return 1;
    usleep(1000);
  }
  return 0;
}

/* ---- the server side (loop thread) -------------------------------------- */

/* White-box: the connection behind an exchange, to read its write queue
 * after a response was ended (its memory lives until the close). */
#include "http/server_internal.h"

static const eddy_http_field_t text_type[] = {{"Content-Type", "text/plain"}};
static char big_body[1 << 20];

static int path_is(const eddy_http_request_t *q, const char *path) {
  size_t n = strlen(path), len = q->target_len;
  const char *mark = memchr(q->target, '?', len);

  if (mark != NULL)
    len = (size_t)(mark - q->target);
  return len == n && memcmp(q->target, path, n) == 0;
}

/* The number after key (e.g. "n=") in the query, or def. */
static long query_num(const eddy_http_request_t *q, const char *key, long def) {
  size_t klen = strlen(key), i;

  for (i = 0; i + klen < q->target_len; i++)
    if ((q->target[i] == '?' || q->target[i] == '&') &&
        memcmp(q->target + i + 1, key, klen) == 0)
      return strtol(q->target + i + 1 + klen, NULL, 10);
  return def;
}

static int reply(eddy_http_exchange_t *ex, int status, const char *text) {
  return eddy_http_respond(ex, status, text_type, 1, text, strlen(text));
}

/* A response with n fields "X-Field-NN: value-NN-" plus padding, so that
 * enough of them make the head outgrow its inline scratch. */
#define FIELDS_MAX 64
#define FIELD_PAD "0123456789abcdef0123456789abcdef"

static void field_line(size_t i, char *name, size_t nlen, char *value,
                       size_t vlen) {
  snprintf(name, nlen, "X-Field-%02u", (unsigned)(i % 100));
  snprintf(value, vlen, "value-%02u-" FIELD_PAD, (unsigned)(i % 100));
}

static void reply_with_fields(eddy_http_exchange_t *ex, size_t n) {
  static char names[FIELDS_MAX][16], values[FIELDS_MAX][48];
  eddy_http_field_t f[FIELDS_MAX];
  size_t i;

  CHECK(n <= FIELDS_MAX, "too many fields");
  for (i = 0; i < n && i < FIELDS_MAX; i++) {
    field_line(i, names[i], sizeof(names[i]), values[i], sizeof(values[i]));
    f[i].name = names[i];
    f[i].value = values[i];
  }
  CHECK(eddy_http_respond(ex, 200, f, i, "fields\n", 7) == 0, "respond");
}

static void note_queue(size_t wq) {
  if (wq > fx.max_wq)
    fx.max_wq = wq;
  if (wq > fx.server.opts.write_high_water)
    __atomic_store_n(&fx.paused_seen, 1, __ATOMIC_RELEASE);
}

/* An answer from a timer, ms later. */
struct later {
  eddy_timer_t timer;
  eddy_http_exchange_t *ex;
  const char *text;
};

static void later_closed(eddy_handle_t *h) {
  free(h->data);
}

static void later_fire(eddy_timer_t *timer) {
  struct later *l = timer->handle.data;

  CHECK(reply(l->ex, 200, l->text) == 0, "late reply failed");
  eddy_close(&timer->handle, later_closed);
}

static void answer_later(eddy_http_exchange_t *ex, uint64_t ms,
                         const char *text) {
  struct later *l = malloc(sizeof(*l));

  l->ex = ex;
  l->text = text;
  eddy_timer_init(&fx.loop, &l->timer);
  l->timer.handle.data = l;
  eddy_timer_start(&l->timer, later_fire, ms, 0);
}

/* An answer from a work-pool job. */
struct job {
  eddy_work_t work;
  eddy_http_exchange_t *ex;
};

static void job_work(eddy_work_t *w) {
  (void)w;
  usleep(20000); /* pool time: the loop goes on meanwhile */
}

static void job_done(eddy_work_t *w, int status) {
  struct job *j = (struct job *)w;

  CHECK(status == 0, "job status %d", status);
  CHECK(reply(j->ex, 200, "pool\n") == 0, "pool reply failed");
  free(j);
}

/* The status a handler answers a body error with. */
static int body_error_status(int err) {
  if (err == EDDY_ETIMEDOUT)
    return 408;
  if (err == EDDY_EOF)
    return 400;
  return eddy_http_error_status(err) ? eddy_http_error_status(err) : 500;
}

/* /echo: stream the body in, answer it back. */
struct echo {
  char *buf;
  size_t len, cap;
};

static void echo_data(eddy_http_exchange_t *ex, const char *data, size_t len) {
  struct echo *e = ex->data;

  if (e->len + len > e->cap) {
    e->cap = (e->len + len) * 2;
    e->buf = realloc(e->buf, e->cap);
  }
  memcpy(e->buf + e->len, data, len);
  e->len += len;
}

static void echo_end(eddy_http_exchange_t *ex, int status) {
  struct echo *e = ex->data;

  if (status == 0)
    eddy_http_respond(ex, 200, text_type, 1, e->buf, e->len);
  else
    reply(ex, body_error_status(status), "body error\n");
  free(e->buf);
  free(e);
}

static void buffer_end(eddy_http_exchange_t *ex, int status) {
  if (status == 0)
    eddy_http_respond(ex, 200, text_type, 1, ex->body, ex->body_len);
  else
    reply(ex, body_error_status(status), "body error\n");
}

/* /stream?n=: a chunked body of n bytes in 64 KiB writes, with drain. */
static void stream_pump(eddy_http_exchange_t *ex) {
  size_t *left = ex->data;

  while (*left > 0) {
    size_t n = *left < 65536 ? *left : 65536;
    int r = eddy_http_res_write(ex, big_body, n);

    *left -= n;
    note_queue(eddy_http_write_queue_size(ex));
    if (r == EDDY_HTTP_DRAIN) {
      fx.drains++;
      return; /* stream_drain continues */
    }
    if (r != 0)
      break;
  }
  eddy_http_res_end(ex);
  free(left);
}

static void stream_drain(eddy_http_exchange_t *ex, int status) {
  if (status != 0) {
    eddy_http_res_end(ex);
    free(ex->data);
    return;
  }
  stream_pump(ex);
}

/* /early: answers at the first body byte; the rest is dropped. */
static void early_data(eddy_http_exchange_t *ex, const char *data, size_t len) {
  (void)data;
  (void)len;
  if (ex->data == NULL) {
    ex->data = ex; /* answered */
    CHECK(reply(ex, 200, "early\n") == 0, "early reply");
  }
}

static void early_end(eddy_http_exchange_t *ex, int status) {
  (void)ex;
  (void)status;
  CHECK(0, "on_end after the response was ended");
}

/* /late: asks for the body 20 ms after the request (100-continue then). */
static void late_fire(eddy_timer_t *timer) {
  struct later *l = timer->handle.data;

  l->ex->data = calloc(1, sizeof(struct echo));
  CHECK(eddy_http_body_read(l->ex, echo_data, echo_end) == 0, "late read");
  eddy_close(&timer->handle, later_closed);
}

/* /paused: pauses at the first span, resumes 20 ms later. */
struct paused {
  struct echo echo;
  eddy_timer_t timer;
  eddy_http_exchange_t *ex;
  int paused, ended;
};

static void paused_closed(eddy_handle_t *h) {
  struct paused *p = h->data;

  free(p->echo.buf);
  free(p);
}

static void paused_resume(eddy_timer_t *timer) {
  struct paused *p = timer->handle.data;

  CHECK(eddy_http_body_resume(p->ex) == 0, "resume");
  CHECK(eddy_http_body_resume(p->ex) == 0, "resume twice");
}

static void paused_data(eddy_http_exchange_t *ex, const char *data,
                        size_t len) {
  struct paused *p = ex->data;

  if (p->echo.len + len > p->echo.cap) {
    p->echo.cap = (p->echo.len + len) * 2;
    p->echo.buf = realloc(p->echo.buf, p->echo.cap);
  }
  memcpy(p->echo.buf + p->echo.len, data, len);
  p->echo.len += len;
  if (!p->paused) {
    p->paused = 1;
    CHECK(eddy_http_body_pause(ex) == 0, "pause");
    eddy_timer_start(&p->timer, paused_resume, 20, 0);
  }
}

static void paused_end(eddy_http_exchange_t *ex, int status) {
  struct paused *p = ex->data;

  CHECK(status == 0 && p->paused, "paused end %d", status);
  eddy_http_respond(ex, 200, NULL, 0, p->echo.buf, p->echo.len);
  eddy_close(&p->timer.handle, paused_closed);
}

static int held_flag;

static void hold_abort(eddy_http_exchange_t *ex, int err) {
  fx.aborts++;
  fx.abort_err = err;
  CHECK(reply(ex, 200, "too late\n") < 0, "answer after abort succeeded");
}

/* /api: the response API's error paths, then a streamed answer. */
static void api_checks(eddy_http_exchange_t *ex) {
  static const eddy_http_field_t crlf[] = {{"X-A", "a\r\nInjected: 1"}};
  static const eddy_http_field_t space[] = {{"Bad Name", "v"}};
  static const eddy_http_field_t empty[] = {{"", "v"}};
  static const eddy_http_field_t framing[] = {{"content-length", "5"}};
  static const eddy_http_field_t te[] = {{"Transfer-Encoding", "chunked"}};
  static const eddy_http_field_t good[] = {{"X-Test", "1"}};
  const eddy_http_header_t *h;
  struct sockaddr_storage ss;
  int len = sizeof(ss);

  CHECK(eddy_http_res_write(ex, "x", 1) == EDDY_EINVAL, "write unstarted");
  CHECK(reply(ex, 100, "") == EDDY_EINVAL, "status 100");
  CHECK(reply(ex, 199, "") == EDDY_EINVAL, "status 199");
  CHECK(reply(ex, 1000, "") == EDDY_EINVAL, "status 1000");
  CHECK(eddy_http_respond(ex, 204, NULL, 0, "x", 1) == EDDY_EINVAL, "204");
  CHECK(eddy_http_respond(ex, 200, NULL, 0, NULL, 1) == EDDY_EINVAL, "NULL");
  CHECK(eddy_http_respond(ex, 200, crlf, 1, "", 0) == EDDY_EINVAL, "crlf");
  CHECK(eddy_http_respond(ex, 200, space, 1, "", 0) == EDDY_EINVAL, "sp");
  CHECK(eddy_http_respond(ex, 200, empty, 1, "", 0) == EDDY_EINVAL, "empty");
  CHECK(eddy_http_respond(ex, 200, framing, 1, "", 0) == EDDY_EINVAL, "cl");
  CHECK(eddy_http_respond(ex, 200, te, 1, "", 0) == EDDY_EINVAL, "te");
  CHECK(eddy_http_respond(ex, 200, NULL, 1, "", 0) == EDDY_EINVAL, "fields");
  CHECK(eddy_http_res_start(ex, 200, NULL, 0, -2) == EDDY_EINVAL, "cl -2");
  CHECK(eddy_http_res_start(ex, 304, NULL, 0, 5) == EDDY_EINVAL, "304 body");
  CHECK(eddy_http_body_read(ex, NULL, NULL) == EDDY_EINVAL, "no on_end");
  CHECK(eddy_http_body_pause(ex) == EDDY_EINVAL, "pause unread");
  CHECK(eddy_http_body_resume(ex) == EDDY_EINVAL, "resume unread");
  h = eddy_http_find_header(ex->req, "HOST");
  CHECK(h != NULL && h->value_len == 1 && h->value[0] == 'a', "Host");
  CHECK(eddy_http_find_header(ex->req, "x-mixed-case") != NULL, "ci");
  CHECK(eddy_http_find_header(ex->req, "nope") == NULL, "absent");
  CHECK(strcmp(eddy_http_status_text(404), "Not Found") == 0, "404 text");
  CHECK(strcmp(eddy_http_status_text(799), "Unknown") == 0, "799 text");
  CHECK(eddy_http_getpeername(ex, (struct sockaddr *)&ss, &len) == 0 &&
            ss.ss_family == AF_INET,
        "peer");
  CHECK(eddy_http_write_queue_size(ex) == 0, "queue");
  CHECK(eddy_http_res_start(ex, 200, good, 1, 4) == 0, "start");
  CHECK(eddy_http_res_start(ex, 200, good, 1, 4) == EDDY_EINVAL, "restart");
  CHECK(reply(ex, 200, "") == EDDY_EINVAL, "respond after start");
  CHECK(eddy_http_res_write(ex, "abcde", 5) == EDDY_EINVAL, "over length");
  CHECK(eddy_http_res_write(ex, "api\n", 4) == 0, "write");
  CHECK(eddy_http_res_write(ex, "", 0) == 0, "empty write");
  CHECK(eddy_http_res_end(ex) == 0, "end");
  fx.api_checked = 1;
}

static void handler(eddy_http_server_t *server, eddy_http_exchange_t *ex) {
  const eddy_http_request_t *q = ex->req;
  size_t wq = eddy_http_write_queue_size(ex);

  CHECK(ex->server == server && ex->data == NULL, "exchange fields");
  __atomic_add_fetch(&fx.requests, 1, __ATOMIC_RELEASE);
  if (wq > fx.max_wq_entry)
    fx.max_wq_entry = wq;
  if (path_is(q, "/")) {
    reply(ex, 200, "hello\n");
  } else if (path_is(q, "/idle-check")) {
    eddy_queue_t *node;

    /* The connections that answered already are idle: their read state,
     * and with it the request, the decoder and the head scratch, went back
     * to the server; this one holds its own. */
    for (node = server->priv.conns.next; node != &server->priv.conns;
         node = node->next) {
      struct eddy__http_conn *c =
          eddy__container_of(node, struct eddy__http_conn, node);

      if (c == eddy__http_conn_of(ex))
        fx.busy_with_rstate += c->rstate != NULL && c->preq == ex->req &&
                               c->hbuf == eddy__http_hsmall(c);
      else
        fx.idle_without_rstate += c->rstate == NULL && c->preq == NULL &&
                                  c->hbuf == NULL && c->rbuf == NULL;
    }
    reply(ex, 200, "checked\n");
  } else if (path_is(q, "/fast")) {
    reply(ex, 200, "fast\n");
  } else if (path_is(q, "/slow")) {
    answer_later(ex, 30, "slow\n");
  } else if (path_is(q, "/pool")) {
    struct job *j = malloc(sizeof(*j));
    j->ex = ex;
    CHECK(eddy_queue_work(&fx.loop, &j->work, job_work, job_done) == 0,
          "queue work");
  } else if (path_is(q, "/echo")) {
    ex->data = calloc(1, sizeof(struct echo));
    CHECK(eddy_http_body_read(ex, echo_data, echo_end) == 0, "body_read");
    CHECK(eddy_http_body_read(ex, echo_data, echo_end) == EDDY_EINVAL,
          "body_read twice");
  } else if (path_is(q, "/buffer")) {
    CHECK(eddy_http_body_buffer(ex, (size_t)query_num(q, "max=", 0),
                                buffer_end) == 0,
          "body_buffer");
  } else if (path_is(q, "/fields")) {
    reply_with_fields(ex, (size_t)query_num(q, "n=", 0));
  } else if (path_is(q, "/reject")) {
    reply(ex, 403, "no\n");
  } else if (path_is(q, "/chunked")) {
    eddy_http_res_start(ex, 200, text_type, 1, EDDY_HTTP_LENGTH_UNKNOWN);
    eddy_http_res_write(ex, "one\n", 4);
    eddy_http_res_write(ex, "two\n", 4);
    eddy_http_res_write(ex, "three\n", 6);
    eddy_http_res_end(ex);
  } else if (path_is(q, "/length")) {
    eddy_http_res_start(ex, 200, NULL, 0, 10);
    eddy_http_res_write(ex, "01234", 5);
    eddy_http_res_write(ex, "56789", 5);
    CHECK(eddy_http_res_end(ex) == 0, "length end");
  } else if (path_is(q, "/short")) {
    eddy_http_res_start(ex, 200, NULL, 0, 10);
    eddy_http_res_write(ex, "01234", 5);
    CHECK(eddy_http_res_end(ex) == EDDY_EINVAL, "short end");
    CHECK(eddy_http_res_end(ex) == EDDY_EINVAL, "end twice");
  } else if (path_is(q, "/nocontent")) {
    CHECK(eddy_http_respond(ex, 204, NULL, 0, NULL, 0) == 0, "204");
  } else if (path_is(q, "/close")) {
    static const eddy_http_field_t f[] = {{"Connection", "close"}};
    eddy_http_respond(ex, 200, f, 1, "bye\n", 4);
  } else if (path_is(q, "/big")) {
    struct eddy__http_conn *c = eddy__http_conn_of(ex);
    size_t n = (size_t)query_num(q, "n=", 1000);
    int sndbuf = (int)query_num(q, "sndbuf=", 0);

    if (sndbuf > 0) /* a small kernel buffer keeps the answer queued */
      setsockopt(c->tcp.stream.priv.io.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
                 sizeof(sndbuf));
    eddy_http_respond(ex, 200, NULL, 0, big_body, n);
    note_queue(c->tcp.stream.write_queue_size);
  } else if (path_is(q, "/stream")) {
    size_t *left = malloc(sizeof(*left));
    *left = (size_t)query_num(q, "n=", 1000);
    ex->data = left;
    eddy_http_on_drain(ex, stream_drain);
    eddy_http_res_start(ex, 200, NULL, 0, EDDY_HTTP_LENGTH_UNKNOWN);
    stream_pump(ex);
  } else if (path_is(q, "/early")) {
    CHECK(eddy_http_body_read(ex, early_data, early_end) == 0, "early read");
  } else if (path_is(q, "/late")) {
    struct later *l = malloc(sizeof(*l));
    l->ex = ex;
    eddy_timer_init(&fx.loop, &l->timer);
    l->timer.handle.data = l;
    eddy_timer_start(&l->timer, late_fire, 20, 0);
  } else if (path_is(q, "/paused")) {
    struct paused *p = calloc(1, sizeof(*p));
    p->ex = ex;
    ex->data = p;
    eddy_timer_init(&fx.loop, &p->timer);
    p->timer.handle.data = p;
    CHECK(eddy_http_body_read(ex, paused_data, paused_end) == 0, "read");
  } else if (path_is(q, "/hold")) {
    fx.held = ex;
    eddy_http_on_abort(ex, hold_abort);
    __atomic_store_n(&held_flag, 1, __ATOMIC_RELEASE);
  } else if (path_is(q, "/close-server")) {
    CHECK(eddy_http_server_close(server, on_server_closed) == 0, "close");
    CHECK(eddy_http_server_close(server, on_server_closed) == EDDY_EINVAL,
          "close twice");
    answer_later(ex, 20, "closing\n");
  } else if (path_is(q, "/api")) {
    api_checks(ex);
  } else {
    reply(ex, 404, "not found\n");
  }
}

/* ---- helpers for the client tests --------------------------------------- */

/* Sends req on c, reads one response, checks status and body (body NULL:
 * not checked). Returns 0 if all matched. */
static int expect(int line, struct cl *c, const char *req, int status,
                  const char *body, struct resp *out) {
  struct resp r;
  int err;

  if (req != NULL && cl_sends(c, req) != 0) {
    fail_at(line, "send failed");
    return -1;
  }
  err = cl_response(c, &r, req != NULL && strncmp(req, "HEAD ", 5) == 0);
  if (err != 0 || r.status != status ||
      (body != NULL && strcmp(r.body ? r.body : "", body) != 0)) {
    fail_at(line, "expected %d \"%s\", got err %d status %d \"%s\"", status,
            body ? body : "", err, r.status, r.body ? r.body : "");
    resp_free(&r);
    return -1;
  }
  if (out != NULL)
    *out = r;
  else
    resp_free(&r);
  return 0;
}

/* The response said "Connection: close" and the server then closed. */
static void expect_closed(int line, struct cl *c, const struct resp *r) {
  int eof;

  if (r != NULL && !r->close)
    fail_at(line, "no Connection: close in\n%s", r->head);
  eof = cl_eof(c);
  if (eof != 1)
    fail_at(line, "connection not closed cleanly (%d)", eof);
}

#define EXPECT(c, req, status, body)                                           \
  expect(__LINE__, c, req, status, body, NULL)

/* ---- basic exchanges ---------------------------------------------------- */

static void client_basic(void) {
  struct cl *c = malloc(sizeof(*c));
  struct resp r;

  CHECK(cl_open(c) == 0, "connect");
  if (expect(__LINE__, c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, "hello\n",
             &r) == 0) {
    CHECK(!r.close && r.clen == 6, "keep-alive framing:\n%s", r.head);
    CHECK(has_field(r.head, "\r\nContent-Type: text/plain\r\n"), "type");
    CHECK(strstr(r.head, "\r\nDate: ") != NULL &&
              strstr(r.head, " GMT\r\n") != NULL,
          "Date:\n%s", r.head);
    resp_free(&r);
  }
  EXPECT(c, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, "not found\n");
  EXPECT(c, "GET /api HTTP/1.1\r\nHost: a\r\nX-Mixed-CASE: 1\r\n\r\n", 200,
         "api\n");
  EXPECT(c, "GET /length HTTP/1.1\r\nHost: a\r\n\r\n", 200, "0123456789");
  if (expect(__LINE__, c, "GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n", 200,
             "one\ntwo\nthree\n", &r) == 0) {
    CHECK(r.chunked && r.clen == -1, "chunked:\n%s", r.head);
    resp_free(&r);
  }
  if (expect(__LINE__, c, "GET /nocontent HTTP/1.1\r\nHost: a\r\n\r\n", 204, "",
             &r) == 0) {
    CHECK(r.clen == -1 && !r.chunked, "204 framing:\n%s", r.head);
    resp_free(&r);
  }
  if (expect(__LINE__, c, "GET /close HTTP/1.1\r\nHost: a\r\n\r\n", 200,
             "bye\n", &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);

  /* A body shorter than its Content-Length: the server closes. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "GET /short HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(cl_response(c, &r, 0) == -1, "short body read whole");
  resp_free(&r);
  cl_close(c);
  free(c);
}

static void test_basic(void **state) {
  (void)state;
  run_with(NULL, client_basic);
  assert_int_equal(fx.api_checked, 1);
  assert_int_equal(fx.requests, 8);
}

/* ---- the hostile table (spec/http.md) ----------------------------------- */

struct row {
  const char *name;
  const char *req;
  size_t len;
  int status, alt; /* expected status (alt: also accepted) */
  int nresp;       /* responses expected (default 1) */
  int keep;        /* the connection stays open */
};

#define ROW(name, req, status, ...)                                            \
  { name, req, sizeof(req) - 1, status, __VA_ARGS__ }

#define H "Host: a\r\n"

/* clang-format off */
static const struct row rows[] = {
    ROW("1 CL+TE", "POST / HTTP/1.1\r\n" H "Content-Length: 3\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, 0, 1, 0),
    ROW("2 TE+CL hides a request", "POST / HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\n" H "\r\n", 400, 0, 1, 0),
    ROW("3 two different CL", "POST / HTTP/1.1\r\n" H "Content-Length: 1\r\n"
        "Content-Length: 2\r\n\r\nab", 400, 0, 1, 0),
    ROW("4 two identical CL", "POST / HTTP/1.1\r\n" H "Content-Length: 2\r\n"
        "Content-Length: 2\r\n\r\nab", 400, 0, 1, 0),
    ROW("5 CL list", "POST / HTTP/1.1\r\n" H "Content-Length: 2, 2\r\n\r\nab",
        400, 0, 1, 0),
    ROW("6 CL -1", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 400,
        0, 1, 0),
    ROW("6 CL +2", "POST / HTTP/1.1\r\n" H "Content-Length: +2\r\n\r\nab", 400,
        0, 1, 0),
    ROW("7 CL > 2^64", "POST / HTTP/1.1\r\n" H
        "Content-Length: 18446744073709551617\r\n\r\n", 400, 0, 1, 0),
    ROW("8 TE gzip", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n",
        400, 0, 1, 0),
    ROW("9 TE chunked, gzip", "POST / HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked, gzip\r\n\r\n", 400, 0, 1, 0),
    ROW("10 TE xchunked", "POST / HTTP/1.1\r\n" H
        "Transfer-Encoding: xchunked\r\n\r\n", 400, 501, 1, 0),
    ROW("11 space before colon", "POST / HTTP/1.1\r\n" H
        "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, 0, 1, 0),
    ROW("12 1.0 + TE", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n", 400, 0, 1, 0),
    ROW("13 obs-fold", "GET / HTTP/1.1\r\n" H "X-A: a\r\n b\r\n\r\n", 400, 0,
        1, 0),
    ROW("14 obs-fold in TE", "POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n"
        " chunked\r\n\r\n0\r\n\r\n", 400, 0, 1, 0),
    ROW("15 whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n"
        "\r\n", 400, 0, 1, 0),
    ROW("16 bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400, 0, 1, 0),
    ROW("17 bare CR in a value", "GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n",
        400, 0, 1, 0),
    ROW("18 NUL in a value", "GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n", 400,
        0, 1, 0),
    ROW("19 space in a name", "GET / HTTP/1.1\r\n" H "X A: b\r\n\r\n", 400, 0,
        1, 0),
    ROW("19 empty name", "GET / HTTP/1.1\r\n" H ": b\r\n\r\n", 400, 0, 1, 0),
    ROW("19 no colon", "GET / HTTP/1.1\r\n" H "Xyz\r\n\r\n", 400, 0, 1, 0),
    ROW("20 no Host", "GET / HTTP/1.1\r\n\r\n", 400, 0, 1, 0),
    ROW("21 two Host", "GET / HTTP/1.1\r\n" H H "\r\n", 400, 0, 1, 0),
    ROW("22 G(T", "G(T / HTTP/1.1\r\n" H "\r\n", 400, 0, 1, 0),
    ROW("23 FOO", "FOO / HTTP/1.1\r\n" H "\r\n", 501, 0, 1, 0),
    ROW("23 get", "get / HTTP/1.1\r\n" H "\r\n", 501, 0, 1, 0),
    ROW("24 HTTP/1.2", "GET / HTTP/1.2\r\n" H "\r\n", 200, 0, 1, 1),
    ROW("24 HTTP/1.1x", "GET / HTTP/1.1x\r\n" H "\r\n", 400, 0, 1, 0),
    ROW("25 HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", 505, 0, 1, 0),
    ROW("26 HTTP/0.9", "GET /\r\n", 400, 0, 1, 0),
    ROW("27 space in target", "GET /a b HTTP/1.1\r\n" H "\r\n", 400, 0, 1, 0),
    ROW("27 CTL in target", "GET /a\x01z HTTP/1.1\r\n" H "\r\n", 400, 0, 1, 0),
    ROW("31 chunk size zz", "POST /echo HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, 0, 1, 0),
    ROW("31 chunk size 0x2", "POST /echo HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n", 400, 0, 1,
        0),
    ROW("31 chunk size with spaces", "POST /echo HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked\r\n\r\n2   \r\nab\r\n0\r\n\r\n", 400, 0, 1,
        0),
    ROW("32 chunk size > 2^64", "POST /echo HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n", 400, 0, 1,
        0),
    ROW("33 no CRLF after data", "POST /echo HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n", 400, 0, 1, 0),
    ROW("34 chunk lines with bare LF", "POST /echo HTTP/1.1\r\n" H
        "Transfer-Encoding: chunked\r\n\r\n2\nab\n0\n\n", 400, 0, 1, 0),
    ROW("36 Expect: foo", "GET / HTTP/1.1\r\n" H "Expect: foo\r\n\r\n", 417,
        0, 1, 0),
    ROW("37 CL 2 GB", "POST / HTTP/1.1\r\n" H
        "Content-Length: 2147483648\r\n\r\n", 413, 0, 1, 0),
    ROW("38 two pipelined GETs", "GET / HTTP/1.1\r\n" H "\r\nGET / HTTP/1.1\r\n"
        H "\r\n", 200, 0, 2, 1),
    ROW("39 empty line first", "\r\nGET / HTTP/1.1\r\n" H "\r\n", 200, 0, 1,
        1),
};
/* clang-format on */

static int rows_passed;

/* Sends one hostile request; checks the status(es), and for errors the
 * "Connection: close" and the clean close; then that the server serves a
 * new connection. */
static void run_row(const char *name, const char *req, size_t len, int status,
                    int alt, int nresp, int keep) {
  struct cl *c = malloc(sizeof(*c));
  int ok = 1, i;

  if (cl_open(c) != 0 || cl_send(c, req, len) != 0) {
    fail_at(__LINE__, "row %s: send", name);
    ok = 0;
  }
  for (i = 0; ok && i < (nresp ? nresp : 1); i++) {
    struct resp r;
    int err = cl_response(c, &r, 0);

    if (err != 0 || (r.status != status && r.status != alt)) {
      fail_at(__LINE__, "row %s: err %d status %d, want %d", name, err,
              r.status, status);
      ok = 0;
    } else if (!keep && !r.close) {
      fail_at(__LINE__, "row %s: no Connection: close", name);
      ok = 0;
    } else if (keep && r.close) {
      fail_at(__LINE__, "row %s: closed", name);
      ok = 0;
    }
    resp_free(&r);
  }
  if (ok && !keep && cl_eof(c) != 1) {
    fail_at(__LINE__, "row %s: not closed cleanly after the response", name);
    ok = 0;
  }
  cl_close(c);
  free(c);
  check_still_serving(__LINE__);
  rows_passed += ok;
}

/* Rows 28, 29, 30, 35: built at run time (sizes). */
static void run_big_rows(void) {
  size_t cap = 64 * 1024, n;
  char *req = malloc(cap);
  int i;

  /* 28: a 20 KiB header value. */
  n = (size_t)snprintf(req, cap, "GET / HTTP/1.1\r\n" H "X-Big: ");
  memset(req + n, 'v', 20480);
  n += 20480;
  n += (size_t)snprintf(req + n, cap - n, "\r\n\r\n");
  run_row("28 20 KiB value", req, n, 431, 0, 1, 0);
  /* 29: a 20 KiB request-target. */
  n = (size_t)snprintf(req, cap, "GET /");
  memset(req + n, 'a', 20480);
  n += 20480;
  n += (size_t)snprintf(req + n, cap - n, " HTTP/1.1\r\n" H "\r\n");
  run_row("29 20 KiB target", req, n, 414, 0, 1, 0);
  /* 30: 3000 header fields (~18 KB... here 24 KB). */
  n = (size_t)snprintf(req, cap, "GET / HTTP/1.1\r\n" H);
  for (i = 0; i < 3000; i++)
    n += (size_t)snprintf(req + n, cap - n, "X-%d: v\r\n", i % 10);
  n += (size_t)snprintf(req + n, cap - n, "\r\n");
  run_row("30 3000 fields", req, n, 431, 0, 1, 0);
  /* 35: a 20 KiB chunk extension. */
  n = (size_t)snprintf(req, cap,
                       "POST /echo HTTP/1.1\r\n" H
                       "Transfer-Encoding: chunked\r\n\r\n2;e=");
  memset(req + n, 'x', 20480);
  n += 20480;
  n += (size_t)snprintf(req + n, cap - n, "\r\nab\r\n0\r\n\r\n");
  run_row("35 20 KiB chunk extension", req, n, 413, 0, 1, 0);
  free(req);
}

/* 40: slowloris, one header line every 20 ms: 408 at the header deadline
 * (1 s here) from the first byte, however the bytes trickle. */
static void run_slowloris(void) {
  struct cl *c = malloc(sizeof(*c));
  struct pollfd p;
  struct resp r;
  int i, ok = 0;

  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "GET / HTTP/1.1\r\n" H);
  for (i = 0; i < 500; i++) { /* at most 10 s */
    p.fd = c->fd;
    p.events = POLLIN;
    if (poll(&p, 1, 20) > 0)
      break; /* the answer is there */
    if (cl_sends(c, "X-Slow: 1\r\n") != 0)
      break;
  }
  if (cl_response(c, &r, 0) == 0 && r.status == 408 && r.close &&
      cl_eof(c) == 1)
    ok = 1;
  else
    fail_at(__LINE__, "slowloris: status %d", r.status);
  resp_free(&r);
  cl_close(c);
  free(c);
  check_still_serving(__LINE__);
  rows_passed += ok;
}

static void client_hostile(void) {
  size_t i;

  for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    run_row(rows[i].name, rows[i].req, rows[i].len, rows[i].status, rows[i].alt,
            rows[i].nresp, rows[i].keep);
  run_big_rows();
  run_slowloris();
}

static void test_hostile_table(void **state) {
  eddy_http_server_options_t o = eddy_http_server_options_default();
  size_t n = sizeof(rows) / sizeof(rows[0]) + 5;

  (void)state;
  o.header_timeout = 1000;
  rows_passed = 0;
  run_with(&o, client_hostile);
  print_message("hostile table: %d of %zu requests as specified\n", rows_passed,
                n);
  assert_int_equal(rows_passed, (int)n);
  /* The parser's verdicts reached the error callback with their status. */
  assert_true(saw_error(EDDY_HTTP_E_AMBIGUOUS_FRAMING, 400));
  assert_true(saw_error(EDDY_HTTP_E_TARGET_TOO_LONG, 414));
  assert_true(saw_error(EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE, 0));
  assert_true(saw_error(EDDY_ETIMEDOUT, 408));
}

/* ---- split invariance --------------------------------------------------- */

static const char *split_reqs[] = {
    "GET /?a=b HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n"
    "Accept: */*\r\n\r\n",
    "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;x=\"y\"\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n",
    "POST /buffer HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"
    "hello world",
    "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\n"
    "\r\n",
};

/* All responses to req, sent in pieces: each response's head without its
 * Date line, then its body, concatenated. step 0: whole; 1: byte by byte;
 * k > 1: split once at offset k. */
static char *answers(const char *req, size_t step, int nresp) {
  size_t len = strlen(req), cap = 4096, n = 0, off = 0;
  struct cl *c = malloc(sizeof(*c));
  char *out = calloc(1, cap);
  int i;

  if (cl_open(c) != 0)
    goto done;
  while (off < len) {
    size_t k = step == 0 ? len : step == 1 ? 1 : (off == 0 ? step : len - off);
    if (off + k > len)
      k = len - off;
    if (cl_send(c, req + off, k) != 0)
      break;
    off += k;
    if (off < len)
      usleep(200); /* gives the server a chance to read the piece alone */
  }
  for (i = 0; i < nresp; i++) {
    struct resp r;
    char *date, *eol;

    if (cl_response(c, &r, 0) != 0) {
      n += (size_t)snprintf(out + n, cap - n, "<error>");
      break;
    }
    date = strstr(r.head, "\r\nDate: ");
    if (date != NULL && (eol = strstr(date + 2, "\r\n")) != NULL)
      memmove(date, eol, strlen(eol) + 1);
    n += (size_t)snprintf(out + n, cap - n, "%s%s|", r.head,
                          r.body ? r.body : "");
    resp_free(&r);
  }
done:
  cl_close(c);
  free(c);
  return out;
}

static void client_split(void) {
  size_t i, k;

  for (i = 0; i < sizeof(split_reqs) / sizeof(split_reqs[0]); i++) {
    int nresp = i == 3 ? 2 : 1;
    char *whole = answers(split_reqs[i], 0, nresp), *other;

    CHECK(strstr(whole, "<error>") == NULL && strstr(whole, " 200 OK"),
          "request %zu whole: %s", i, whole);
    other = answers(split_reqs[i], 1, nresp);
    CHECK(strcmp(whole, other) == 0, "request %zu byte by byte:\n%s\n%s", i,
          whole, other);
    free(other);
    for (k = 2; k < strlen(split_reqs[i]); k++) {
      other = answers(split_reqs[i], k, nresp);
      CHECK(strcmp(whole, other) == 0, "request %zu split at %zu:\n%s", i, k,
            other);
      free(other);
    }
    free(whole);
  }
}

static void test_split_requests(void **state) {
  (void)state;
  run_with(NULL, client_split);
}

/* ---- pipelining --------------------------------------------------------- */

#define GET(path) "GET " path " HTTP/1.1\r\nHost: a\r\n\r\n"

static void client_pipeline(void) {
  struct cl *c = malloc(sizeof(*c));
  char *many;
  size_t i, n;

  CHECK(cl_open(c) == 0, "connect");
  /* The first is answered from a timer, after the second has arrived. */
  cl_sends(c, GET("/slow") GET("/fast"));
  EXPECT(c, NULL, 200, "slow\n");
  EXPECT(c, NULL, 200, "fast\n");
  /* ... or from a pool job. */
  cl_sends(c, GET("/pool") GET("/fast") GET("/"));
  EXPECT(c, NULL, 200, "pool\n");
  EXPECT(c, NULL, 200, "fast\n");
  EXPECT(c, NULL, 200, "hello\n");
  /* Bodies in between. */
  cl_sends(c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
              "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
              "\r\n3\r\ndef\r\n0\r\n\r\n" GET(
                  "/slow") "POST /reject HTTP/1.1\r\nHost: "
                           "a\r\nContent-Length: 4\r\n\r\n"
                           "skip" GET("/fast"));
  EXPECT(c, NULL, 200, "abc");
  EXPECT(c, NULL, 200, "def");
  EXPECT(c, NULL, 200, "slow\n");
  EXPECT(c, NULL, 403, "no\n");
  EXPECT(c, NULL, 200, "fast\n");
  /* 100 in one write, more than the first read buffer holds. */
  many = malloc(100 * 64);
  for (i = 0, n = 0; i < 100; i++)
    n += (size_t)sprintf(many + n, i % 2 ? GET("/fast") : GET("/slow?%zu"), i);
  cl_send(c, many, n);
  for (i = 0; i < 100; i++)
    if (EXPECT(c, NULL, 200, i % 2 ? "fast\n" : "slow\n") != 0)
      break;
  free(many);
  cl_close(c);
  free(c);
}

static void test_pipelining(void **state) {
  (void)state;
  run_with(NULL, client_pipeline);
  assert_int_equal(fx.requests, 110);
}

/* ---- request bodies ----------------------------------------------------- */

static void client_bodies(void) {
  struct cl *c = malloc(sizeof(*c));
  struct resp r;
  char *big;
  size_t i, n;

  CHECK(cl_open(c) == 0, "connect");
  /* Chunked uploads reach the body callback decoded. */
  EXPECT(c,
         "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
         "\r\n5\r\nhello\r\n6;ext=1;q=\"x y\"\r\n world\r\n0\r\n"
         "Trailer-A: 1\r\n\r\n",
         200, "hello world");
  EXPECT(c,
         "POST /buffer HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
         "\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
         200, "hello world");
  EXPECT(c, "POST /buffer HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
         200, "");
  EXPECT(c, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 200, "");
  /* A 300 KB body, many times the read buffer, both framings. */
  n = 300000;
  big = malloc(n + 64);
  for (i = 0; i < n; i++)
    big[i] = (char)('a' + i % 26);
  cl_sends(c,
           "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n");
  cl_send(c, big, n);
  if (expect(__LINE__, c, NULL, 200, NULL, &r) == 0) {
    CHECK(r.body_len == n && memcmp(r.body, big, n) == 0, "big CL body");
    resp_free(&r);
  }
  cl_sends(c, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
              "\r\n493e0\r\n");
  cl_send(c, big, n);
  cl_sends(c, "\r\n0\r\n\r\n");
  if (expect(__LINE__, c, NULL, 200, NULL, &r) == 0) {
    CHECK(r.body_len == n && memcmp(r.body, big, n) == 0, "big chunked");
    resp_free(&r);
  }
  /* A body the handler did not read is dropped, and the connection goes on. */
  cl_sends(
      c, "POST /reject HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n");
  cl_send(c, big, n);
  EXPECT(c, NULL, 403, "no\n");
  cl_sends(c,
           "POST /reject HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
           "\r\n493e0\r\n");
  cl_send(c, big, n);
  cl_sends(c, "\r\n0\r\n\r\n");
  EXPECT(c, NULL, 403, "no\n");
  EXPECT(c, GET("/"), 200, "hello\n");
  /* The handler answers inside its data callback; the rest is dropped. */
  cl_sends(c,
           "POST /early HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
           "\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n" GET("/"));
  EXPECT(c, NULL, 200, "early\n");
  EXPECT(c, NULL, 200, "hello\n");
  cl_sends(c,
           "POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n");
  cl_send(c, big, n);
  EXPECT(c, NULL, 200, "early\n");
  /* The body asked for later (from a timer), and paused then resumed. */
  EXPECT(c, "POST /late HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nlate",
         200, "late");
  cl_sends(
      c, "POST /paused HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n");
  cl_send(c, big, n);
  if (expect(__LINE__, c, NULL, 200, NULL, &r) == 0) {
    CHECK(r.body_len == n && memcmp(r.body, big, n) == 0, "paused body");
    resp_free(&r);
  }
  cl_close(c);

  /* Over the handler's limit: 413 before reading (Content-Length) or as
   * soon as it passes (chunked); then the connection closes. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "POST /buffer?max=4 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n"
              "\r\nhello world");
  if (expect(__LINE__, c, NULL, 413, NULL, &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "POST /buffer?max=4 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
              "chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
  if (expect(__LINE__, c, NULL, 413, NULL, &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  /* Over the server's body limit (1 MiB): a chunk-size says so at once. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
              "\r\n200000\r\n");
  if (expect(__LINE__, c, NULL, 413, NULL, &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  free(big);
  free(c);
}

static void test_bodies(void **state) {
  (void)state;
  run_with(NULL, client_bodies);
  assert_true(saw_error(EDDY_HTTP_E_BODY_TOO_LARGE, 0));
}

/* A head that ends exactly where the first read buffer (4 KiB) ends, with
 * its body still to come: the body needs room after the head, which stays
 * pinned where it is while the exchange lives. Both with a request before
 * it in the buffer and alone, with either framing. (The random exchanges
 * test found it under ASan: the connection stalled with a full buffer.) */
static void client_head_fills_buffer(void) {
  static const char *const framings[] = {"Content-Length: 5\r\n",
                                         "Transfer-Encoding: chunked\r\n"};
  static const char *const bodies[] = {"hello", "5\r\nhello\r\n0\r\n\r\n"};
  struct cl *c = malloc(sizeof(*c));
  char *out = malloc(4097);
  int pipelined, f;

  for (pipelined = 0; pipelined <= 1; pipelined++)
    for (f = 0; f <= 1; f++) {
      size_t len;

      snprintf(out, 4097, "%sPOST /echo HTTP/1.1\r\nHost: a\r\n%sX-Pad: ",
               pipelined ? GET("/") : "", framings[f]);
      len = strlen(out);
      memset(out + len, 'p', 4096 - len - 4);
      memcpy(out + 4096 - 4, "\r\n\r\n", 4);
      CHECK(cl_open(c) == 0, "connect");
      cl_send(c, out, 4096);
      cl_sends(c, bodies[f]);
      if (pipelined)
        EXPECT(c, NULL, 200, "hello\n");
      EXPECT(c, NULL, 200, "hello");
      cl_close(c);
    }
  free(out);
  free(c);
}

static void test_head_fills_buffer(void **state) {
  (void)state;
  run_with(NULL, client_head_fills_buffer);
  assert_int_equal(fx.requests, 6);
}

/* ---- 100-continue ------------------------------------------------------- */

static void client_continue(void) {
  struct cl *c = malloc(sizeof(*c));
  struct resp r;

  CHECK(cl_open(c) == 0, "connect");
  /* The handler reads the body: "100 Continue" first, then the answer. */
  EXPECT(c,
         "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
         "Content-Length: 5\r\n\r\n",
         100, NULL);
  EXPECT(c, "hello", 200, "hello");
  EXPECT(c,
         "POST /buffer HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         100, NULL);
  EXPECT(c, "2\r\nhi\r\n0\r\n\r\n", 200, "hi");
  /* Asked for from a timer: the 100 comes then. */
  EXPECT(c,
         "POST /late HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
         "Content-Length: 3\r\n\r\n",
         100, NULL);
  EXPECT(c, "abc", 200, "abc");
  /* Expect with no body: nothing to continue. */
  EXPECT(c,
         "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
         "Content-Length: 0\r\n\r\n",
         200, "");
  EXPECT(c, GET("/"), 200, "hello\n");
  /* The handler answers without the body: no 100, and the connection
   * closes (the client may never send the body). */
  cl_sends(c, "POST /reject HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
              "Content-Length: 5\r\n\r\n");
  if (expect(__LINE__, c, NULL, 403, "no\n", &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  free(c);
}

static void test_expect_continue(void **state) {
  (void)state;
  run_with(NULL, client_continue);
}

/* ---- HEAD and HTTP/1.0 -------------------------------------------------- */

static void client_head_http10(void) {
  struct cl *c = malloc(sizeof(*c));
  struct resp r;

  CHECK(cl_open(c) == 0, "connect");
  if (expect(__LINE__, c, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200, "", &r) ==
      0) {
    CHECK(r.clen == 6 && !r.close, "HEAD keeps Content-Length:\n%s", r.head);
    resp_free(&r);
  }
  if (expect(__LINE__, c, "HEAD /chunked HTTP/1.1\r\nHost: a\r\n\r\n", 200, "",
             &r) == 0) {
    CHECK(r.chunked, "HEAD of a chunked response:\n%s", r.head);
    resp_free(&r);
  }
  if (expect(__LINE__, c, "HEAD /length HTTP/1.1\r\nHost: a\r\n\r\n", 200, "",
             &r) == 0) {
    CHECK(r.clen == 10, "HEAD of a streamed length:\n%s", r.head);
    resp_free(&r);
  }
  /* No body bytes were sent: the next response parses. */
  EXPECT(c, GET("/"), 200, "hello\n");
  cl_close(c);

  /* HTTP/1.0 without keep-alive: answered, then closed. */
  CHECK(cl_open(c) == 0, "connect");
  if (expect(__LINE__, c, "GET / HTTP/1.0\r\n\r\n", 200, "hello\n", &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  /* HTTP/1.0 with keep-alive: kept; an unknown length ends with the close. */
  CHECK(cl_open(c) == 0, "connect");
  if (expect(__LINE__, c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
             200, "hello\n", &r) == 0) {
    CHECK(r.keep_alive && !r.close, "1.0 keep-alive:\n%s", r.head);
    resp_free(&r);
  }
  if (expect(__LINE__, c,
             "GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n"
             "\r\n",
             200, "one\ntwo\nthree\n", &r) == 0) {
    CHECK(r.close && !r.chunked && r.clen == -1, "1.0 stream:\n%s", r.head);
    resp_free(&r);
  }
  cl_close(c);
  /* HTTP/1.1 "Connection: close" from the client. */
  CHECK(cl_open(c) == 0, "connect");
  if (expect(__LINE__, c,
             "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
             "\r\n",
             200, "hello\n", &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  free(c);
}

static void test_head_and_http10(void **state) {
  (void)state;
  run_with(NULL, client_head_http10);
}

/* ---- long response heads ------------------------------------------------ */

/* Heads longer than the inline scratch move it to the heap; the
 * connection keeps that across idle periods (its read state goes back to
 * the server in between), and short heads after long ones, and long after
 * short, come out whole. */
static void client_long_heads(void) {
  static const size_t counts[] = {40, 0, 3, 48, 1, 40};
  char req[64], name[16], value[48], line[96];
  struct cl *c = malloc(sizeof(*c));
  struct resp r;
  size_t k, i;

  CHECK(cl_open(c) == 0, "connect");
  for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
    snprintf(req, sizeof(req), "GET /fields?n=%zu HTTP/1.1\r\nHost: a\r\n\r\n",
             counts[k]);
    if (expect(__LINE__, c, req, 200, "fields\n", &r) != 0)
      break;
    CHECK(strlen(r.head) > (counts[k] > 10 ? 2000u : 0u),
          "head of %zu fields is short", counts[k]);
    for (i = 0; i < counts[k]; i++) {
      field_line(i, name, sizeof(name), value, sizeof(value));
      snprintf(line, sizeof(line), "\r\n%s: %s\r\n", name, value);
      CHECK(has_field(r.head, line), "field %zu of %zu missing:\n%s", i,
            counts[k], r.head);
    }
    snprintf(line, sizeof(line), "X-Field-%02zu:", counts[k]);
    CHECK(!has_field(r.head, line), "field %zu is extra", counts[k]);
    CHECK(!r.close && r.clen == 7, "framing:\n%s", r.head);
    resp_free(&r);
  }
  cl_close(c);
  free(c);
}

static void test_long_heads(void **state) {
  (void)state;
  run_with(NULL, client_long_heads);
  assert_int_equal(fx.requests, 6);
}

/* ---- deadlines ---------------------------------------------------------- */

static void client_timeouts(void) {
  struct cl *c = malloc(sizeof(*c));
  struct resp r;

  /* A head that does not complete: 408 and close. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "GET / HTTP/1.1\r\nHost: a\r\n");
  if (expect(__LINE__, c, NULL, 408, NULL, &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  /* An idle kept-alive connection is closed, without a response. */
  CHECK(cl_open(c) == 0, "connect");
  EXPECT(c, GET("/"), 200, "hello\n");
  CHECK(cl_eof(c) == 1, "idle connection not closed");
  cl_close(c);
  /* So is a connection that never says anything. */
  CHECK(cl_open(c) == 0, "connect");
  CHECK(cl_eof(c) == 1, "silent connection not closed");
  cl_close(c);
  /* A body that stops coming: the handler hears EDDY_ETIMEDOUT. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
              "01234");
  if (expect(__LINE__, c, NULL, 408, NULL, &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  check_still_serving(__LINE__);
  free(c);
}

static void test_timeouts(void **state) {
  eddy_http_server_options_t o = eddy_http_server_options_default();

  (void)state;
  o.header_timeout = 200;
  o.keepalive_timeout = 200;
  o.request_timeout = 200;
  o.linger_timeout = 200;
  run_with(&o, client_timeouts);
  assert_true(saw_error(EDDY_ETIMEDOUT, 408));
  assert_true(saw_error(EDDY_ETIMEDOUT, 0));
}

/* ---- a slow reader ------------------------------------------------------ */

#define HIGH_WATER 16384
#define BIG 262144

static void client_slow_reader(void) {
  struct cl *c = malloc(sizeof(*c));
  char *reqs = malloc(64 * 64);
  struct resp r;
  size_t n = 0;
  int i;

  /* 64 pipelined requests for 256 KiB each (16 MiB, more than the kernel
   * buffers), and no reading until the server's queue is over the mark. */
  CHECK(cl_open_rcvbuf(c, 4096) == 0, "connect");
  for (i = 0; i < 64; i++)
    n += (size_t)sprintf(reqs + n, GET("/big?n=%d"), BIG);
  cl_send(c, reqs, n);
  CHECK(wait_flag(&fx.paused_seen), "the write queue never filled");
  for (i = 0; i < 64; i++) {
    if (cl_response(c, &r, 0) != 0 || r.status != 200 || r.body_len != BIG) {
      fail_at(__LINE__, "response %d: status %d len %zu", i, r.status,
              r.body_len);
      resp_free(&r);
      break;
    }
    resp_free(&r);
  }
  cl_close(c);

  /* A streamed 8 MiB answer: the handler waits for drain callbacks. */
  __atomic_store_n(&fx.paused_seen, 0, __ATOMIC_RELEASE);
  CHECK(cl_open_rcvbuf(c, 4096) == 0, "connect");
  cl_sends(c, GET("/stream?n=8388608"));
  CHECK(wait_flag(&fx.paused_seen), "the stream never filled the queue");
  if (expect(__LINE__, c, NULL, 200, NULL, &r) == 0) {
    CHECK(r.chunked && r.body_len == 8388608, "stream len %zu", r.body_len);
    resp_free(&r);
  }
  cl_close(c);
  free(reqs);
  free(c);
}

static void test_slow_reader(void **state) {
  eddy_http_server_options_t o = eddy_http_server_options_default();

  (void)state;
  o.write_high_water = HIGH_WATER;
  memset(big_body, 'x', sizeof(big_body));
  run_with(&o, client_slow_reader);
  /* A request is taken only while the queue is under the mark, so the
   * queue never holds more than the mark plus one response. */
  assert_true(fx.max_wq_entry <= HIGH_WATER);
  assert_true(fx.max_wq > HIGH_WATER);
  assert_true(fx.max_wq <= HIGH_WATER + BIG + 512);
  assert_true(fx.drains > 0);
  assert_int_equal(fx.requests, 65);
}

/* ---- send timeout ------------------------------------------------------- */

#define SEND_TIMEOUT 100

static void client_send_timeout(void) {
  struct cl *c = malloc(sizeof(*c));
  char *reqs = malloc(4 * 64);
  size_t got = 0, n = 0;
  uint64_t start;
  ssize_t r;
  int i;

  /* A client that asks for 8 MiB and stops reading: once send_timeout
   * passes with no byte written, the server drops the connection. */
  CHECK(cl_open_rcvbuf(c, 4096) == 0, "connect");
  cl_sends(c, GET("/stream?n=8388608"));
  CHECK(wait_flag(&fx.send_timeouts), "no send timeout");
  cl_close(c);
  check_still_serving(__LINE__);

  /* A slow but steady reader: four 1 MiB answers through a 4 KiB server
   * send buffer, 16 KiB read every 2 ms. Each answer sits in the server's
   * queue as one block for longer than send_timeout, but bytes keep
   * moving, and any byte written starts the count again. */
  CHECK(cl_open_rcvbuf(c, 16384) == 0, "connect");
  for (i = 0; i < 4; i++)
    n += (size_t)sprintf(reqs + n, GET("/big?n=1048576&sndbuf=4096"));
  start = eddy_hrtime();
  cl_send(c, reqs, n);
  while (got < 4 * 1048576) {
    r = recv(c->fd, c->buf, 16384, 0);
    if (r <= 0) {
      fail_at(__LINE__, "slow reader cut off after %zu bytes", got);
      break;
    }
    got += (size_t)r;
    usleep(2000);
  }
  CHECK(eddy_hrtime() - start > 4 * SEND_TIMEOUT * 1000000ull,
        "the reader was not slow enough to test anything");
  CHECK(__atomic_load_n(&fx.send_timeouts, __ATOMIC_ACQUIRE) == 1,
        "the steady reader was timed out");
  cl_close(c);
  free(reqs);
  free(c);
}

static void test_send_timeout(void **state) {
  eddy_http_server_options_t o = eddy_http_server_options_default();

  (void)state;
  assert_int_equal(o.send_timeout, 60000);
  o.send_timeout = SEND_TIMEOUT;
  o.write_high_water = HIGH_WATER;
  memset(big_body, 'x', sizeof(big_body));
  run_with(&o, client_send_timeout);
  assert_int_equal(fx.send_timeouts, 1);
  assert_true(fx.drains > 0);
}

/* ---- idle connections hold no read state --------------------------------- */

static void client_idle_memory(void) {
  struct cl *c = malloc(sizeof(*c) * 4);
  int i;

  for (i = 0; i < 3; i++) {
    CHECK(cl_open(&c[i]) == 0, "connect");
    expect(__LINE__, &c[i], GET("/"), 200, "hello\n", NULL);
  }
  CHECK(cl_open(&c[3]) == 0, "connect");
  expect(__LINE__, &c[3], GET("/idle-check"), 200, "checked\n", NULL);
  for (i = 0; i < 4; i++)
    cl_close(&c[i]);
  free(c);
}

/* An idle keep-alive connection gives its header array and read buffer
 * back (nginx-like memory per idle connection); the one being served has
 * its own. */
static void test_idle_connections_hold_no_read_state(void **state) {
  (void)state;
  run_with(NULL, client_idle_memory);
  assert_int_equal(fx.idle_without_rstate, 3);
  assert_int_equal(fx.busy_with_rstate, 1);
}

/* ---- random pipelined exchanges ------------------------------------------ */

/* Growable byte buffer for the client's request stream. */
struct obuf {
  char *p;
  size_t len, cap;
};

static void ob_add(struct obuf *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    b->cap = (b->len + len) * 2 + 256;
    b->p = realloc(b->p, b->cap);
    CHECK(b->p != NULL, "out of memory");
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

static void ob_printf(struct obuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ob_printf(struct obuf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  CHECK(n > 0 && (size_t)n < sizeof(tmp), "format");
  ob_add(b, tmp, (size_t)n);
}

enum {
  RX_HELLO,
  RX_FAST,
  RX_HEAD,
  RX_ECHO_LENGTH,
  RX_ECHO_CHUNKED,
  RX_CHUNKED,
  RX_KINDS
};

#define RX_PER_CONN 12
#define RX_BODY_MAX 3000

struct rx {
  int kind;
  char body[RX_BODY_MAX]; /* what the answer's body must be */
  size_t body_len;
};

/* Append one request of a random kind to b and what its answer must be to
 * x. Bodies are random letters; chunked ones go in random chunk sizes. */
static void rx_request(unsigned *seed, struct obuf *b, struct rx *x) {
  size_t i, at, n;

  x->kind = (int)(rand_r(seed) % RX_KINDS);
  x->body_len = 0;
  switch (x->kind) {
  case RX_HELLO:
    ob_printf(b, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    memcpy(x->body, "hello\n", x->body_len = 6);
    break;
  case RX_FAST:
    ob_printf(b, "GET /fast HTTP/1.1\r\nHost: a\r\nX-Pad: %u\r\n\r\n",
              (unsigned)rand_r(seed));
    memcpy(x->body, "fast\n", x->body_len = 5);
    break;
  case RX_HEAD:
    ob_printf(b, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    break;
  case RX_CHUNKED:
    ob_printf(b, "GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n");
    memcpy(x->body, "one\ntwo\nthree\n", x->body_len = 14);
    break;
  default: /* the echoes */
    x->body_len = (size_t)(rand_r(seed) % RX_BODY_MAX);
    for (i = 0; i < x->body_len; i++)
      x->body[i] = (char)('a' + rand_r(seed) % 26);
    if (x->kind == RX_ECHO_LENGTH) {
      ob_printf(b,
                "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n",
                x->body_len);
      ob_add(b, x->body, x->body_len);
      break;
    }
    ob_printf(b, "POST /echo HTTP/1.1\r\nHost: a\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
    for (at = 0; at < x->body_len; at += n) {
      n = 1 + (size_t)(rand_r(seed) % 700);
      if (n > x->body_len - at)
        n = x->body_len - at;
      ob_printf(b, "%zx\r\n", n);
      ob_add(b, x->body + at, n);
      ob_printf(b, "\r\n");
    }
    ob_printf(b, "0\r\n\r\n");
  }
}

/* Send b in pieces of random size, so that requests and their parts are
 * split at arbitrary bytes across reads; or, one time in three, at once,
 * so that the server's read buffer fills up with a head cut at its end. */
static int rx_send_split(unsigned *seed, struct cl *c, const struct obuf *b,
                         size_t upto) {
  size_t at, n;

  if (rand_r(seed) % 3 == 0)
    return cl_send(c, b->p, upto);
  for (at = 0; at < upto; at += n) {
    n = 1 + (size_t)(rand_r(seed) % (rand_r(seed) % 4 == 0 ? 8 : 2000));
    if (n > upto - at)
      n = upto - at;
    if (cl_send(c, b->p + at, n) != 0)
      return -1;
  }
  return 0;
}

static int rx_answered;

/* 600 connections with 1 to 12 pipelined requests of random kinds, sent
 * in random pieces; every answer must come back whole and in order. One
 * connection in eight sends a random prefix and resets instead, and the
 * server must go on serving the others. The seed is fixed: a failure
 * replays. */
static void client_random_exchanges(void) {
  static struct rx xs[RX_PER_CONN];
  struct obuf b = {NULL, 0, 0};
  struct cl *c = malloc(sizeof(*c));
  unsigned seed = 20261123;
  int conn, k, nreq;

  for (conn = 0; conn < 600 && fx.flen == 0; conn++) {
    b.len = 0;
    nreq = 1 + (int)(rand_r(&seed) % RX_PER_CONN);
    for (k = 0; k < nreq; k++)
      rx_request(&seed, &b, &xs[k]);
    CHECK(cl_open(c) == 0, "connect");
    if (rand_r(&seed) % 8 == 0) { /* a peer that gives up half way */
      rx_send_split(&seed, c, &b, (size_t)(rand_r(&seed) % b.len));
      cl_reset(c);
      continue;
    }
    CHECK(rx_send_split(&seed, c, &b, b.len) == 0, "send");
    for (k = 0; k < nreq; k++) {
      struct resp r;

      if (cl_response(c, &r, xs[k].kind == RX_HEAD) != 0) {
        fail_at(__LINE__, "conn %d request %d (kind %d): no answer", conn, k,
                xs[k].kind);
        break;
      }
      CHECK(r.status == 200 && r.body_len == xs[k].body_len &&
                (r.body_len == 0 ||
                 memcmp(r.body, xs[k].body, r.body_len) == 0) &&
                !r.close,
            "conn %d request %d (kind %d): status %d, %zu body bytes:\n%s",
            conn, k, xs[k].kind, r.status, r.body_len, r.head);
      resp_free(&r);
      rx_answered++;
    }
    cl_close(c);
  }
  check_still_serving(__LINE__);
  free(b.p);
  free(c);
}

static void test_random_exchanges(void **state) {
  (void)state;
  rx_answered = 0;
  run_with(NULL, client_random_exchanges);
  assert_true(rx_answered > 1200);
  assert_true(fx.requests >= rx_answered + 1);
}

/* ---- requests per connection -------------------------------------------- */

static void client_max_requests(void) {
  struct cl *c = malloc(sizeof(*c));
  struct resp r;

  CHECK(cl_open(c) == 0, "connect");
  if (expect(__LINE__, c, GET("/"), 200, "hello\n", &r) == 0) {
    CHECK(!r.close, "first response closes");
    resp_free(&r);
  }
  if (expect(__LINE__, c, GET("/"), 200, "hello\n", &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  /* Pipelined past the limit: the third is not answered. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, GET("/") GET("/fast") GET("/"));
  EXPECT(c, NULL, 200, "hello\n");
  if (expect(__LINE__, c, NULL, 200, "fast\n", &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  free(c);
}

static void test_max_requests(void **state) {
  eddy_http_server_options_t o = eddy_http_server_options_default();

  (void)state;
  o.max_requests = 2;
  run_with(&o, client_max_requests);
  assert_int_equal(fx.requests, 4);
}

/* ---- peers that stop or reset ------------------------------------------- */

static void client_peer_errors(void) {
  struct cl *c = malloc(sizeof(*c));
  struct resp r;

  /* EOF in the middle of a head: 400. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "GET / HTTP/1.1\r\nHo");
  shutdown(c->fd, SHUT_WR);
  if (expect(__LINE__, c, NULL, 400, NULL, &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  /* EOF in the middle of a body: the handler hears EDDY_EOF. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01");
  shutdown(c->fd, SHUT_WR);
  if (expect(__LINE__, c, NULL, 400, "body error\n", &r) == 0) {
    expect_closed(__LINE__, c, &r);
    resp_free(&r);
  }
  cl_close(c);
  /* Requests complete before a half-close are all answered. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, GET("/slow") GET("/") "POST /echo HTTP/1.1\r\nHost: a\r\n"
                                    "Content-Length: 2\r\n\r\nok");
  shutdown(c->fd, SHUT_WR);
  EXPECT(c, NULL, 200, "slow\n");
  EXPECT(c, NULL, 200, "hello\n");
  EXPECT(c, NULL, 200, "ok");
  CHECK(cl_eof(c) == 1, "not closed after the last answer");
  cl_close(c);
  /* A reset in the middle of a head. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, "GET / HTTP/1.1\r\nHo");
  cl_reset(c);
  check_still_serving(__LINE__);
  /* A reset while the handler holds the exchange: its abort callback. */
  CHECK(cl_open(c) == 0, "connect");
  cl_sends(c, GET("/hold"));
  CHECK(wait_flag(&held_flag), "/hold not dispatched");
  cl_reset(c);
  check_still_serving(__LINE__);
  free(c);
}

static void test_peer_errors(void **state) {
  (void)state;
  held_flag = 0;
  run_with(NULL, client_peer_errors);
  assert_true(saw_error(EDDY_EOF, 400));
  assert_true(saw_error(EDDY_EOF, 0));
  assert_int_equal(fx.aborts, 1);
  assert_int_equal(fx.abort_err, EDDY_ECONNRESET);
}

/* ---- out of descriptors -------------------------------------------------- */

/* The process runs out of descriptors but for one, which the client's
 * socket takes: the server cannot accept that connection, so it drops it
 * (the client sees EOF or a reset instead of waiting for ever) and tells
 * on_client_error; once descriptors free up it serves again. */
static void client_emfile(void) {
  static struct test_fd_fill fill;
  struct cl *c = malloc(sizeof(*c));
  ssize_t n;
  char byte;

  CHECK(c != NULL, "out of memory");
  CHECK(test_fds_exhaust(&fill, 1) == 0, "descriptors not exhausted");
  CHECK(cl_open(c) == 0, "connect on the last descriptor");
  n = read(c->fd, &byte, 1);
  CHECK(n == 0 || (n == -1 && errno == ECONNRESET),
        "connection not dropped (read %zd, errno %d)", n, errno);
  /* The server drops every connection waiting while it is out of
   * descriptors, and only then reports: a client that came earlier would
   * be dropped too. */
  CHECK(wait_flag(&fx.emfile_seen), "EMFILE not reported");
  cl_close(c);
  CHECK(test_fds_release(&fill) == 0, "restore the limit");
  check_still_serving(__LINE__);
  free(c);
}

static void test_emfile(void **state) {
  (void)state;
  run_with(NULL, client_emfile);
  assert_true(saw_error(EDDY_EMFILE, 0) || saw_error(EDDY_ENFILE, 0));
  assert_int_equal(fx.requests, 1);
}

/* ---- closing the server ------------------------------------------------- */

static void client_close_server(void) {
  struct cl *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
  struct resp r;

  CHECK(cl_open(a) == 0, "connect");
  EXPECT(a, GET("/"), 200, "hello\n");
  CHECK(cl_open(b) == 0, "connect");
  /* The handler closes the server and answers 20 ms later. */
  if (expect(__LINE__, b, GET("/close-server") GET("/"), 200, "closing\n",
             &r) == 0) {
    expect_closed(__LINE__, b, &r); /* the pipelined GET is not served */
    resp_free(&r);
  }
  CHECK(cl_eof(a) == 1, "idle connection not closed");
  cl_close(a);
  cl_close(b);
  CHECK(cl_open(a) != 0, "still accepting");
  free(a);
  free(b);
}

static void test_server_close(void **state) {
  (void)state;
  run_with(NULL, client_close_server);
  assert_int_equal(fx.requests, 2);
}

/* After b closed the server: a's request is still answered, with
 * "Connection: close", and then a is closed. */
static void expect_last_answer(struct cl *a, struct cl *b) {
  struct resp r;

  EXPECT(b, GET("/close-server"), 200, "closing\n");
  if (expect(__LINE__, a, GET("/"), 200, "hello\n", &r) == 0) {
    CHECK(r.close, "no Connection: close");
    resp_free(&r);
  }
  CHECK(cl_eof(a) == 1, "not closed after its answer");
  cl_close(a);
  cl_close(b);
  free(a);
  free(b);
}

/* A connection the server accepted before its close, that had not sent
 * its first request yet, still gets that request answered (with
 * "Connection: close"), then closes: a rolling reload relies on it. */
static void client_close_spares_fresh(void) {
  struct cl *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

  CHECK(cl_open(a) == 0, "connect");
  CHECK(cl_open(b) == 0, "connect"); /* accepted after a */
  expect_last_answer(a, b);
}

static void test_server_close_spares_fresh(void **state) {
  (void)state;
  run_with(NULL, client_close_spares_fresh);
  assert_int_equal(fx.requests, 2);
}

/* An idle keep-alive connection whose next request is sent just after
 * the server closed gets that request answered (with "Connection:
 * close") instead of a reset: close_idle_timeout. */
static void client_close_answers_idle(void) {
  struct cl *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

  CHECK(cl_open(a) == 0, "connect");
  EXPECT(a, GET("/"), 200, "hello\n"); /* a is kept alive, idle */
  CHECK(cl_open(b) == 0, "connect");
  expect_last_answer(a, b);
}

static void test_server_close_answers_idle(void **state) {
  (void)state;
  run_with(NULL, client_close_answers_idle);
  assert_int_equal(fx.requests, 3);
}

/* ---- server API errors -------------------------------------------------- */

static void count_close(eddy_http_server_t *server) {
  (*(int *)server->data)++;
}

static void test_server_api(void **state) {
  eddy_http_server_options_t o = EDDY_HTTP_SERVER_OPTIONS_INIT;
  eddy_http_server_t a, b;
  struct sockaddr_in addr;
  int len = sizeof(addr), closes = 0, fds = test_count_fds();
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_http_server_init(&loop, &a, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_http_server_init(NULL, &a, NULL, handler), EDDY_EINVAL);
  o.write_high_water = 0;
  assert_int_equal(eddy_http_server_init(&loop, &a, &o, handler), EDDY_EINVAL);
  o = eddy_http_server_options_default();
  o.limits.header_max = 0;
  assert_int_equal(eddy_http_server_init(&loop, &a, &o, handler), EDDY_EINVAL);
  o = eddy_http_server_options_default();
  assert_int_equal(o.header_timeout, 60000);
  assert_int_equal(o.keepalive_timeout, 5000);
  assert_int_equal(o.close_idle_timeout, 1000);
  assert_int_equal(o.limits.header_max, 16384);
  assert_int_equal(o.limits.target_max, 8192);
  assert_int_equal(o.limits.body_max, 1048576);

  assert_int_equal(eddy_http_server_init(&loop, &a, NULL, handler), 0);
  assert_int_equal(eddy_http_server_init(&loop, &b, NULL, handler), 0);
  a.data = b.data = &closes;
  assert_int_equal(eddy_http_server_listen(&a, NULL, 0), EDDY_EINVAL);
  eddy_ip4_addr("127.0.0.1", 0, &addr);
  assert_int_equal(eddy_http_server_listen(&a, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(
      eddy_http_server_getsockname(&a, (struct sockaddr *)&addr, &len), 0);
  assert_int_equal(eddy_http_server_listen(&b, (struct sockaddr *)&addr, 0),
                   EDDY_EADDRINUSE);
  assert_int_equal(eddy_http_server_close(&a, count_close), 0);
  assert_int_equal(eddy_http_server_close(&a, count_close), EDDY_EINVAL);
  assert_int_equal(eddy_http_server_listen(&a, (struct sockaddr *)&addr, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_http_server_close(&b, count_close), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(closes, 2);
  test_assert_loop_clean(&loop);
  assert_int_equal(test_count_fds(), fds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_hostile_table),
      cmocka_unit_test(test_split_requests),
      cmocka_unit_test(test_pipelining),
      cmocka_unit_test(test_bodies),
      cmocka_unit_test(test_head_fills_buffer),
      cmocka_unit_test(test_expect_continue),
      cmocka_unit_test(test_head_and_http10),
      cmocka_unit_test(test_long_heads),
      cmocka_unit_test(test_timeouts),
      cmocka_unit_test(test_slow_reader),
      cmocka_unit_test(test_send_timeout),
      cmocka_unit_test(test_max_requests),
      cmocka_unit_test(test_random_exchanges),
      cmocka_unit_test(test_idle_connections_hold_no_read_state),
      cmocka_unit_test(test_peer_errors),
      cmocka_unit_test(test_emfile),
      cmocka_unit_test(test_server_close),
      cmocka_unit_test(test_server_close_spares_fresh),
      cmocka_unit_test(test_server_close_answers_idle),
      cmocka_unit_test(test_server_api),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
