/* test_redis_util.h: what the Redis client tests share: a real
 * redis-server started by the test (127.0.0.1 on a free port and a Unix
 * socket in a mkdtemp directory, no persistence), a scripted fake server
 * on the test's loop, and helpers that run the loop until something
 * happened. */
#ifndef EDDY_TEST_REDIS_UTIL_H
#define EDDY_TEST_REDIS_UTIL_H

#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "test_util.h"

extern char **environ;

struct test_redis_server {
  pid_t pid;
  int port;
  char dir[64];
  char sock[128];
  char bin[256];
  const char *extra[8]; /* more arguments, NULL-terminated */
};

/* redis-server's path into bin; 0, or -1 when it is not installed. */
static inline int test_redis_find(char *bin, size_t cap) {
  static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin",
                                     "/usr/local/sbin"};
  const char *path = getenv("PATH");
  char buf[1024];
  size_t i;

  if (path != NULL && strlen(path) < sizeof(buf)) {
    char *save = NULL, *d;
    strcpy(buf, path);
    for (d = strtok_r(buf, ":", &save); d != NULL;
         d = strtok_r(NULL, ":", &save)) {
      snprintf(bin, cap, "%s/redis-server", d);
      if (access(bin, X_OK) == 0)
        return 0;
    }
  }
  for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    snprintf(bin, cap, "%s/redis-server", dirs[i]);
    if (access(bin, X_OK) == 0)
      return 0;
  }
  return -1;
}

/* A free TCP port on 127.0.0.1 (bound to 0, read back, released). */
static inline int test_free_port(void) {
  struct sockaddr_in a = test_loopback4(0);
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;

  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static inline void test_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* True once something accepts on 127.0.0.1:port. */
static inline int test_port_open(int port) {
  struct sockaddr_in a = test_loopback4(port);
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

  ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  close(fd);
  return ok;
}

/* Starts (or restarts, on the same port and socket) the server. */
static inline void test_redis_spawn(struct test_redis_server *srv) {
  const char *argv[32];
  char port[16];
  int n = 0, i;

  snprintf(port, sizeof(port), "%d", srv->port);
  argv[n++] = srv->bin;
  argv[n++] = "--port";
  argv[n++] = port;
  argv[n++] = "--bind";
  argv[n++] = "127.0.0.1";
  argv[n++] = "--unixsocket";
  argv[n++] = srv->sock;
  argv[n++] = "--save";
  argv[n++] = "";
  argv[n++] = "--appendonly";
  argv[n++] = "no";
  argv[n++] = "--dir";
  argv[n++] = srv->dir;
  argv[n++] = "--daemonize";
  argv[n++] = "no";
  argv[n++] = "--logfile";
  argv[n++] = "redis.log";
  argv[n++] = "--enable-debug-command";
  argv[n++] = "local";
  for (i = 0; srv->extra[i] != NULL; i++)
    argv[n++] = srv->extra[i];
  argv[n] = NULL;
  /* fork + exec rather than posix_spawn: on Linux the server is told to
   * die with the test, so a test killed by a timeout leaves none behind */
  srv->pid = fork();
  assert_true(srv->pid >= 0);
  if (srv->pid == 0) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    execve(srv->bin, (char *const *)argv, environ);
    _exit(127);
  }
  for (i = 0; i < 500 && !test_port_open(srv->port); i++)
    test_sleep_ms(10);
  if (!test_port_open(srv->port))
    fail_msg("redis-server did not start on port %d (see %s/redis.log)",
             srv->port, srv->dir);
}

/* Starts a fresh server; fails the test with a clear message when
 * redis-server is not installed (it never passes silently). */
static inline void test_redis_start(struct test_redis_server *srv) {
  if (test_redis_find(srv->bin, sizeof(srv->bin)) != 0)
    fail_msg("redis-server not found: these tests need a real server "
             "(apt-get install redis-server; make test installs it)");
  strcpy(srv->dir, "/tmp/eddy-redis-XXXXXX");
  assert_non_null(mkdtemp(srv->dir));
  snprintf(srv->sock, sizeof(srv->sock), "%s/redis.sock", srv->dir);
  srv->port = test_free_port();
  test_redis_spawn(srv);
}

/* Stops the server: SIGKILL (a crash) or SIGTERM; waits for it. */
static inline void test_redis_kill(struct test_redis_server *srv, int sig) {
  int status;

  if (srv->pid <= 0)
    return;
  kill(srv->pid, sig);
  waitpid(srv->pid, &status, 0);
  srv->pid = 0;
}

/* Stops the server and removes its directory. */
static inline void test_redis_stop(struct test_redis_server *srv) {
  char path[256];

  test_redis_kill(srv, SIGTERM);
  snprintf(path, sizeof(path), "%s/redis.log", srv->dir);
  unlink(path);
  unlink(srv->sock);
  rmdir(srv->dir);
}

/* Runs the loop until cond holds, failing after 10 s. Ticks queued from
 * here (a cache hit) run first: eddy_run would block before noticing. */
#define test_run_until(loop, cond)                                             \
  do {                                                                         \
    uint64_t deadline_ = eddy_hrtime() + 10000000000ull;                       \
    eddy_drain_ticks(loop);                                                    \
    while (!(cond)) {                                                          \
      if (eddy_hrtime() > deadline_)                                           \
        fail_msg("timed out waiting for %s", #cond);                           \
      eddy_run((loop), EDDY_RUN_ONCE);                                         \
    }                                                                          \
  } while (0)

/* ---- recording replies -------------------------------------------------- */

/* One command's outcome, filled by test_reply_cb (arg: the struct). */
struct test_reply {
  int done; /* callbacks run (must end at 1) */
  int status;
  int type;
  long long integer;
  char str[256];
  size_t len;
  size_t elements;
};

static inline void test_reply_cb(eddy_redis_t *r, int status,
                                 const eddy_resp_node_t *reply, void *arg) {
  struct test_reply *t = arg;

  (void)r;
  t->done++;
  t->status = status;
  if (reply != NULL) {
    t->type = reply->type;
    t->integer = (long long)reply->integer;
    t->elements = reply->len;
    t->len = 0;
    if (reply->str != NULL) {
      t->len =
          reply->len < sizeof(t->str) - 1 ? reply->len : sizeof(t->str) - 1;
      memcpy(t->str, reply->str, t->len);
    }
    t->str[t->len] = '\0';
  }
}

/* Issues argv... (NULL-terminated) and runs the loop until its reply. */
static inline struct test_reply test_sync(eddy_redis_t *r, ...) {
  const char *argv[16];
  struct test_reply t;
  const char *a;
  va_list ap;
  int argc = 0;

  memset(&t, 0, sizeof(t));
  va_start(ap, r);
  while ((a = va_arg(ap, const char *)) != NULL)
    argv[argc++] = a;
  va_end(ap);
  assert_int_equal(eddy_redis_command(r, argc, argv, NULL, test_reply_cb, &t),
                   0);
  test_run_until(r->loop, t.done);
  assert_int_equal(t.done, 1);
  return t;
}

/* A cached read of argv... and runs the loop until its reply. */
static inline struct test_reply test_sync_cached(eddy_redis_t *r, ...) {
  const char *argv[16];
  struct test_reply t;
  const char *a;
  va_list ap;
  int argc = 0;

  memset(&t, 0, sizeof(t));
  va_start(ap, r);
  while ((a = va_arg(ap, const char *)) != NULL)
    argv[argc++] = a;
  va_end(ap);
  assert_int_equal(eddy_redis_cached(r, argc, argv, NULL, test_reply_cb, &t),
                   0);
  assert_int_equal(t.done, 0); /* never inside the call */
  test_run_until(r->loop, t.done);
  assert_int_equal(t.done, 1);
  return t;
}

/* ---- events ------------------------------------------------------------- */

struct test_events {
  struct test_log log;
  int ready, disconnected, stopped, errors;
  int last_status;
};

static inline void test_event_cb(eddy_redis_t *r,
                                 const eddy_redis_event_t *ev) {
  struct test_events *e = r->data;

  if (e == NULL)
    return;
  switch (ev->type) {
  case EDDY_REDIS_EV_READY:
    e->ready++;
    break;
  case EDDY_REDIS_EV_DISCONNECTED:
    e->disconnected++;
    e->last_status = ev->status;
    break;
  case EDDY_REDIS_EV_STOPPED:
    e->stopped++;
    break;
  case EDDY_REDIS_EV_ERROR:
    e->errors++;
    e->last_status = ev->status;
    break;
  default:
    break;
  }
  if (e->log.len < sizeof(e->log.buf) - 128)
    test_log_printf(&e->log, "%s:%s:%u;", eddy_redis_event_name(ev->type),
                    ev->status ? eddy_err_name(ev->status) : "0",
                    ev->type == EDDY_REDIS_EV_RECONNECTING ||
                            ev->type == EDDY_REDIS_EV_CONNECTING
                        ? ev->attempt
                        : 0);
}

/* Initialises r with opts (event log in ev) and connects it over TCP. */
static inline void test_client_tcp(eddy_loop_t *loop, eddy_redis_t *r,
                                   eddy_redis_options_t *opts,
                                   struct test_events *ev, int port) {
  memset(ev, 0, sizeof(*ev));
  opts->on_event = test_event_cb;
  assert_int_equal(eddy_redis_init(loop, r, opts), 0);
  r->data = ev;
  assert_int_equal(eddy_redis_connect(r, "127.0.0.1", port), 0);
}

static int test_closed_count;
static inline void test_client_closed(eddy_redis_t *r) {
  (void)r;
  test_closed_count++;
}

/* Closes r and runs the loop until its close callback. */
static inline void test_client_close(eddy_redis_t *r) {
  int before = test_closed_count;

  assert_int_equal(eddy_redis_close(r, test_client_closed), 0);
  test_run_until(r->loop, test_closed_count > before);
}

/* ---- the fake server ---------------------------------------------------- */

/* A scripted server on the test's loop: it parses each command (a RESP
 * array, with eddy_resp_parse) and calls `on_command`, which answers with
 * test_fake_send or closes. Accepts one connection at a time (a new one
 * replaces the old). */
struct test_fake;
typedef void (*test_fake_cmd_cb)(struct test_fake *f,
                                 const eddy_resp_node_t *cmd);

struct test_fake {
  eddy_tcp_t server;
  eddy_tcp_t *conn; /* the current connection: its own memory, freed at close */
  int conn_open;
  int port;
  int accepts;
  int commands;
  char in[65536];
  size_t inlen;
  eddy_resp_parser_t parser;
  eddy_resp_node_t nodes[64];
  test_fake_cmd_cb on_command;
  void *data;
  eddy_write_t wreq[64];
  char wbuf[64][512];
  unsigned wnext;
};

static inline int test_fake_is(const eddy_resp_node_t *cmd, size_t i,
                               const char *lit) {
  const eddy_resp_node_t *a = eddy_resp_element(cmd, i);
  return a != NULL && a->len == strlen(lit) &&
         strncasecmp(a->str, lit, a->len) == 0;
}

static inline void test_fake_send(struct test_fake *f, const char *bytes,
                                  size_t n) {
  eddy_buf_t b;
  unsigned i = f->wnext++ % 64;

  assert_true(n <= sizeof(f->wbuf[i]));
  memcpy(f->wbuf[i], bytes, n);
  b = eddy_buf_init(f->wbuf[i], n);
  if (f->conn_open)
    eddy_write(&f->wreq[i], &f->conn->stream, &b, 1, NULL);
}

static inline void test_fake_sends(struct test_fake *f, const char *s) {
  test_fake_send(f, s, strlen(s));
}

static inline void test_fake_conn_closed(eddy_handle_t *h) {
  free(h); /* the eddy_tcp_t, which starts with its handle */
}

static inline void test_fake_drop(struct test_fake *f) {
  if (f->conn_open) {
    f->conn_open = 0;
    eddy_close(&f->conn->stream.handle, test_fake_conn_closed);
    f->conn = NULL;
  }
}

static inline void test_fake_alloc(eddy_handle_t *h, size_t s, eddy_buf_t *b) {
  struct test_fake *f = h->data;
  (void)s;
  *b = eddy_buf_init(f->in + f->inlen, sizeof(f->in) - f->inlen);
}

static inline void test_fake_read(eddy_stream_t *st, ssize_t n,
                                  const eddy_buf_t *b) {
  struct test_fake *f = st->handle.data;
  size_t pos = 0;

  (void)b;
  if (n < 0) {
    test_fake_drop(f);
    return;
  }
  f->inlen += (size_t)n;
  while (f->conn_open && pos < f->inlen) {
    int r = eddy_resp_parse(&f->parser, f->in + pos, f->inlen - pos, NULL);
    if (r <= 0)
      break;
    pos += (size_t)r;
    f->commands++;
    f->on_command(f, f->nodes);
  }
  memmove(f->in, f->in + pos, f->inlen - pos);
  f->inlen -= pos;
}

static inline void test_fake_connection(eddy_stream_t *server, int status) {
  struct test_fake *f = server->handle.data;

  assert_int_equal(status, 0);
  if (f->conn_open) { /* the client reconnected: the old one is done */
    test_fake_drop(f);
  }
  /* A new handle each time: the old one's memory is in use until its
   * close callback. */
  f->conn = malloc(sizeof(*f->conn));
  assert_non_null(f->conn);
  eddy_tcp_init(server->handle.loop, f->conn);
  f->conn->stream.handle.data = f;
  assert_int_equal(eddy_accept(server, &f->conn->stream), 0);
  f->conn_open = 1;
  f->accepts++;
  f->inlen = 0;
  eddy_resp_parser_init(&f->parser, f->nodes, 64);
  eddy_read_start(&f->conn->stream, test_fake_alloc, test_fake_read);
}

static inline void test_fake_start(eddy_loop_t *loop, struct test_fake *f,
                                   test_fake_cmd_cb cb) {
  struct sockaddr_in a = test_loopback4(0);
  int len = sizeof(a);

  memset(f, 0, sizeof(*f));
  f->on_command = cb;
  assert_int_equal(eddy_tcp_init(loop, &f->server), 0);
  f->server.stream.handle.data = f;
  assert_int_equal(eddy_tcp_bind(&f->server, (struct sockaddr *)&a, 0), 0);
  assert_int_equal(eddy_listen(&f->server.stream, 16, test_fake_connection), 0);
  assert_int_equal(
      eddy_tcp_getsockname(&f->server, (struct sockaddr *)&a, &len), 0);
  f->port = ntohs(a.sin_port);
}

static inline void test_fake_stop(struct test_fake *f) {
  test_fake_drop(f);
  eddy_close(&f->server.stream.handle, NULL);
}

#endif /* EDDY_TEST_REDIS_UTIL_H */
