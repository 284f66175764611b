/* The Redis client's life: options, init, connecting (resolving, every
 * address in turn, the connect timeout), losing the connection (failing
 * what was in flight, flushing the cache), reconnecting with backoff, and
 * closing. See eddy/redis.h for the rules. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "eddy/addr.h"
#include "eddy/work.h"
#include "redis_internal.h"

#define NODES_START 64

static eddy_redis_options_t options_defaults(void) {
  eddy_redis_options_t o;

  memset(&o, 0, sizeof(o));
  o.protocol = 3;
  o.connect_timeout_ms = 5000;
  o.reconnect_initial_ms = 100;
  o.reconnect_factor = 2.0;
  o.reconnect_max_ms = 5000;
  o.max_pending = 100000;
  o.max_reply_bytes = (size_t)512 << 20;
  o.max_reply_nodes = 1048576;
  o.cache_max_entries = 10000;
  o.cache_max_bytes = (size_t)64 << 20;
  return o;
}

/* Public: see the header. */
void eddy_redis_options_init(eddy_redis_options_t *opts) {
  memset(opts, 0, sizeof(*opts));
}

static char *str_dup(const char *s) {
  size_t n;
  char *d;

  if (s == NULL)
    return NULL;
  n = strlen(s) + 1;
  d = malloc(n);
  if (d != NULL)
    memcpy(d, s, n);
  return d;
}

static void options_free(eddy_redis_options_t *o) {
  size_t i;

  free((char *)o->username);
  free((char *)o->password);
  free((char *)o->client_name);
  for (i = 0; i < o->cache_nprefixes; i++)
    free((char *)o->cache_prefixes[i]);
  free((void *)o->cache_prefixes);
  memset(o, 0, sizeof(*o));
}

/* *dst = src with zeros replaced by defaults and strings copied. */
static int options_copy(eddy_redis_options_t *dst,
                        const eddy_redis_options_t *src) {
  eddy_redis_options_t d = options_defaults(), z;
  char **pre = NULL;
  size_t i;

  if (src == NULL) {
    memset(&z, 0, sizeof(z));
    src = &z;
  }
  if ((src->protocol != 0 && src->protocol != 2 && src->protocol != 3) ||
      src->cache_mode < EDDY_REDIS_CACHE_OFF ||
      src->cache_mode > EDDY_REDIS_CACHE_OPTIN ||
      !(src->reconnect_jitter >= 0 && src->reconnect_jitter <= 1) ||
      src->reconnect_factor < 0 || src->max_reply_bytes > EDDY_RESP_REPLY_CAP ||
      (src->cache_nprefixes > 0 && src->cache_prefixes == NULL))
    return EDDY_EINVAL;
#define TAKE(f)                                                                \
  if (src->f)                                                                  \
  d.f = src->f
  TAKE(protocol);
  TAKE(connect_timeout_ms);
  TAKE(reconnect_initial_ms);
  TAKE(reconnect_max_ms);
  TAKE(max_pending);
  TAKE(max_reply_bytes);
  TAKE(max_reply_nodes);
  TAKE(cache_max_entries);
  TAKE(cache_max_bytes);
#undef TAKE
  if (src->reconnect_factor >= 1)
    d.reconnect_factor = src->reconnect_factor;
  d.reconnect_jitter = src->reconnect_jitter;
  d.command_timeout_ms = src->command_timeout_ms;
  d.reconnect_max_attempts = src->reconnect_max_attempts;
  d.no_reconnect = src->no_reconnect;
  d.fail_while_disconnected = src->fail_while_disconnected;
  d.db = src->db;
  d.cache_mode = src->cache_mode;
  d.cache_max_age_ms = src->cache_max_age_ms;
  d.on_event = src->on_event;
  d.on_message = src->on_message;
  d.on_push = src->on_push;
  d.on_invalidate = src->on_invalidate;
  d.username = str_dup(src->username);
  d.password = str_dup(src->password);
  d.client_name = str_dup(src->client_name);
  if (src->cache_nprefixes > 0) {
    pre = calloc(src->cache_nprefixes, sizeof(*pre));
    if (pre != NULL)
      for (i = 0; i < src->cache_nprefixes; i++)
        if ((pre[i] = str_dup(src->cache_prefixes[i])) == NULL)
          break;
    d.cache_prefixes = (const char *const *)pre;
    d.cache_nprefixes = pre == NULL ? 0 : i;
  }
  *dst = d;
  if ((src->username && !d.username) || (src->password && !d.password) ||
      (src->client_name && !d.client_name) ||
      d.cache_nprefixes != src->cache_nprefixes) {
    options_free(dst);
    return EDDY_ENOMEM;
  }
  return 0;
}

/* ---- connecting ---------------------------------------------------------- */

static void attempt_start(struct eddy__redis *s);
static void conn_open(struct eddy__redis *s);

static void close_step(struct eddy__redis *s);

static void on_conn_closed(eddy_handle_t *h) {
  struct eddy__redis *s = h->data;

  s->conn_open = 0;
  s->conn_closing = 0;
  if (s->state == EDDY_REDIS_CLOSING) {
    close_step(s);
    return;
  }
  if (s->connect_due) {
    s->connect_due = 0;
    conn_open(s);
  }
}

static void conn_close(struct eddy__redis *s) {
  if (s->conn_open && !s->conn_closing) {
    s->conn_closing = 1;
    eddy_read_stop(eddy__redis_stream(s));
    eddy_close(&eddy__redis_stream(s)->handle, on_conn_closed);
  }
}

static void on_connected(eddy_connect_t *req, int status) {
  struct eddy__redis *s = req->req.data;

  if (status == EDDY_ECANCELED || s->state != EDDY_REDIS_CONNECTING)
    return;
  if (status < 0) {
    s->last_cause = status;
    if (s->target == TARGET_TCP && s->addr_next < s->naddrs) {
      s->connect_due = 1; /* the next address, on a fresh handle */
      conn_close(s);
      return;
    }
    eddy__redis_drop(s, status, 0);
    return;
  }
  s->connected = 1;
  if (s->target == TARGET_TCP)
    eddy_tcp_nodelay(&s->conn.tcp, 1);
  if (eddy__redis_read_begin(s) != 0) {
    eddy__redis_drop(s, EDDY_ECONNRESET, 0);
    return;
  }
  eddy__redis_hs_start(s);
}

/* Connects a fresh handle to the next address (or the socket path). */
static void conn_open(struct eddy__redis *s) {
  eddy_stream_t *st;
  int err;

  assert(!s->conn_open);
  if (s->target == TARGET_UNIX) {
    eddy_pipe_init(s->loop, &s->conn.pipe, 0);
    s->conn_open = 1;
    st = &s->conn.pipe.stream;
    st->handle.data = s;
    s->connect_req.req.data = s;
    err = eddy_pipe_connect(&s->connect_req, &s->conn.pipe, s->path,
                            on_connected);
  } else {
    const struct sockaddr *a =
        (const struct sockaddr *)&s->addrs[s->addr_next++];
    eddy_tcp_init(s->loop, &s->conn.tcp);
    s->conn_open = 1;
    st = &s->conn.tcp.stream;
    st->handle.data = s;
    s->connect_req.req.data = s;
    err = eddy_tcp_connect(&s->connect_req, &s->conn.tcp, a, on_connected);
  }
  if (err != 0) {
    s->last_cause = err;
    eddy__redis_drop(s, err, 0);
  }
}

static void on_resolved(eddy_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  struct eddy__redis *s = req->req.data;
  struct addrinfo *ai;

  s->gai_active = 0;
  s->naddrs = s->addr_next = 0;
  for (ai = res; ai != NULL && s->naddrs < REDIS_MAX_ADDRS; ai = ai->ai_next)
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
        ai->ai_addrlen <= sizeof(s->addrs[0]))
      memcpy(&s->addrs[s->naddrs++], ai->ai_addr, ai->ai_addrlen);
  eddy_freeaddrinfo(res);
  if (s->state == EDDY_REDIS_CLOSING) {
    close_step(s);
    return;
  }
  if (s->state != EDDY_REDIS_CONNECTING)
    return;
  if (status == 0 && s->naddrs == 0)
    status = EDDY_EAI_NONAME;
  if (status < 0) {
    eddy__redis_drop(s, status, 0);
    return;
  }
  if (s->conn_open)
    s->connect_due = 1;
  else
    conn_open(s);
}

static void on_timer(eddy_timer_t *t);

/* A new attempt: resolve (names only), then connect. */
static void attempt_start(struct eddy__redis *s) {
  struct addrinfo hints;
  char port[16];
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  int err;

  s->state = EDDY_REDIS_CONNECTING;
  s->attempt++;
  s->hs_step = HS_NONE;
  s->protocol = 0;
  eddy__redis_event(s, EDDY_REDIS_EV_CONNECTING, 0);
  if (s->state != EDDY_REDIS_CONNECTING)
    return; /* closed from the event */
  eddy_timer_start(&s->timer, on_timer, s->opt.connect_timeout_ms, 0);
  if (s->target == TARGET_UNIX ||
      (s->target == TARGET_TCP && s->naddrs > 0 && s->host == NULL)) {
    if (s->conn_open)
      s->connect_due = 1;
    else
      conn_open(s);
    return;
  }
  s->naddrs = s->addr_next = 0;
  if (eddy_ip4_addr(s->host, s->port, &a4) == 0) {
    memcpy(&s->addrs[0], &a4, sizeof(a4));
    s->naddrs = 1;
  } else if (eddy_ip6_addr(s->host, s->port, &a6) == 0) {
    memcpy(&s->addrs[0], &a6, sizeof(a6));
    s->naddrs = 1;
  }
  if (s->naddrs == 1) {
    if (s->conn_open)
      s->connect_due = 1;
    else
      conn_open(s);
    return;
  }
  if (s->gai_active)
    return; /* a lookup is still running: its answer serves this attempt */
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  snprintf(port, sizeof(port), "%d", s->port);
  s->gai.req.data = s;
  err = eddy_getaddrinfo(s->loop, &s->gai, on_resolved, s->host, port, &hints);
  if (err != 0) {
    eddy__redis_drop(s, err, 0);
    return;
  }
  s->gai_active = 1;
}

/* The reconnect delay for attempt n (>= 1 after a loss). */
static uint64_t backoff_ms(struct eddy__redis *s, unsigned n) {
  double d = (double)s->opt.reconnect_initial_ms;
  unsigned i;

  for (i = 1; i < n && d < (double)s->opt.reconnect_max_ms; i++)
    d *= s->opt.reconnect_factor;
  if (d > (double)s->opt.reconnect_max_ms)
    d = (double)s->opt.reconnect_max_ms;
  if (s->opt.reconnect_jitter > 0)
    d -= d * s->opt.reconnect_jitter * ((double)rand() / RAND_MAX);
  return (uint64_t)d;
}

static void on_timer(eddy_timer_t *t) {
  struct eddy__redis *s = t->handle.data;

  if (s->state == EDDY_REDIS_CONNECTING)
    eddy__redis_drop(s, EDDY_ETIMEDOUT, 0); /* connect timeout */
  else if (s->state == EDDY_REDIS_WAITING) {
    s->stats.reconnects++;
    attempt_start(s);
  }
}

/* The connection is lost, or an attempt failed (see the header). */
void eddy__redis_drop(struct eddy__redis *s, int cause, int detail) {
  eddy_redis_event_t ev;
  size_t n;
  int was_connected = s->connected, head_status;

  if (s->state != EDDY_REDIS_CONNECTING && s->state != EDDY_REDIS_READY)
    return;
  s->state = EDDY_REDIS_WAITING;
  s->connected = 0;
  s->connect_due = 0;
  s->last_cause = cause;
  eddy_timer_stop(&s->timer);
  eddy_prepare_stop(&s->flush);
  conn_close(s);
  s->hs_step = HS_NONE;
  s->server_subs = 0;
  s->server_ssubs = 0;
  s->tracking_on = 0;
  s->barrier_on = 0;
  if (s->cache != NULL)
    eddy__redis_cache_flush(s); /* rule 1 */
  if (was_connected)
    s->stats.disconnects++;
  /* The records in flight fail, the first with the cause when it is the
   * command's own (timeout, bad reply), the rest with ECONNRESET. */
  n = s->rsent;
  head_status = (cause == EDDY_ETIMEDOUT || cause == EDDY_EPROTO ||
                 cause == EDDY_EMSGSIZE)
                    ? cause
                    : EDDY_ECONNRESET;
  eddy__redis_fail_sent(s, n, head_status);
  if (s->state != EDDY_REDIS_WAITING)
    return; /* closed by a callback */
  s->protocol = 0;
  if (s->opt.on_event != NULL) {
    memset(&ev, 0, sizeof(ev));
    ev.type = EDDY_REDIS_EV_DISCONNECTED;
    ev.status = cause;
    ev.detail = detail;
    ev.attempt = s->attempt;
    ev.failed = n;
    s->opt.on_event(s->self, &ev);
    if (s->state != EDDY_REDIS_WAITING)
      return;
  }
  if (s->opt.no_reconnect || (s->opt.reconnect_max_attempts != 0 &&
                              s->attempt >= s->opt.reconnect_max_attempts)) {
    s->state = EDDY_REDIS_STOPPED;
    eddy__redis_fail_all(s, EDDY_ENOTCONN);
    if (s->state == EDDY_REDIS_STOPPED)
      eddy__redis_event(s, EDDY_REDIS_EV_STOPPED, cause);
    return;
  }
  if (s->opt.fail_while_disconnected)
    eddy__redis_fail_all(s, EDDY_ENOTCONN);
  if (s->state != EDDY_REDIS_WAITING)
    return;
  if (s->opt.on_event != NULL) {
    memset(&ev, 0, sizeof(ev));
    ev.type = EDDY_REDIS_EV_RECONNECTING;
    ev.status = cause;
    ev.attempt = s->attempt + 1;
    ev.delay_ms = backoff_ms(s, s->attempt);
    s->opt.on_event(s->self, &ev);
    if (s->state != EDDY_REDIS_WAITING)
      return;
    eddy_timer_start(&s->timer, on_timer, ev.delay_ms, 0);
  } else {
    eddy_timer_start(&s->timer, on_timer, backoff_ms(s, s->attempt), 0);
  }
}

/* The handshake is done: commands flow. */
void eddy__redis_ready(struct eddy__redis *s) {
  s->state = EDDY_REDIS_READY;
  s->attempt = 0;
  s->hs_step = HS_DONE;
  s->stats.connects++;
  eddy_timer_stop(&s->timer);
  eddy__redis_event(s, EDDY_REDIS_EV_READY, 0);
  eddy__redis_kick(s);
}

/* ---- the public calls ---------------------------------------------------- */

/* Public: see the header. */
int eddy_redis_init(eddy_loop_t *loop, eddy_redis_t *r,
                    const eddy_redis_options_t *opts) {
  struct eddy__redis *s;
  int err;

  if (loop == NULL || r == NULL)
    return EDDY_EINVAL;
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return EDDY_ENOMEM;
  if ((err = options_copy(&s->opt, opts)) != 0) {
    free(s);
    return err;
  }
  s->ncap = NODES_START;
  s->nodes = malloc(s->ncap * sizeof(*s->nodes));
  if (s->opt.cache_mode != EDDY_REDIS_CACHE_OFF)
    s->cache = eddy__redis_cache_new(&s->opt);
  if (s->nodes == NULL ||
      (s->opt.cache_mode != EDDY_REDIS_CACHE_OFF && s->cache == NULL)) {
    free(s->nodes);
    eddy__redis_cache_free(s->cache);
    options_free(&s->opt);
    free(s);
    return EDDY_ENOMEM;
  }
  r->loop = loop;
  r->priv.s = s;
  s->self = r;
  s->loop = loop;
  s->limits = eddy_resp_limits_default();
  s->limits.reply_max = s->opt.max_reply_bytes;
  if (s->limits.bulk_max > s->opt.max_reply_bytes)
    s->limits.bulk_max = s->opt.max_reply_bytes;
  eddy_resp_parser_init(&s->parser, s->nodes, s->ncap);
  eddy_timer_init(loop, &s->timer);
  eddy_timer_init(loop, &s->cmd_timer);
  eddy_prepare_init(loop, &s->flush);
  s->timer.handle.data = s->cmd_timer.handle.data = s->flush.handle.data = s;
  s->wreq.req.data = s->hsreq.req.data = s;
  s->stats.state = EDDY_REDIS_IDLE;
  return 0;
}

static int connect_check(struct eddy__redis *s) {
  if (s->state == EDDY_REDIS_CLOSING)
    return EDDY_EINVAL;
  if (s->state != EDDY_REDIS_IDLE && s->state != EDDY_REDIS_STOPPED)
    return EDDY_EISCONN;
  return 0;
}

/* Public: see the header. */
int eddy_redis_connect(eddy_redis_t *r, const char *host, int port) {
  struct eddy__redis *s = eddy__redis_state(r);
  char *h;
  int err;

  if (host == NULL || port < 1 || port > 65535)
    return EDDY_EINVAL;
  if ((err = connect_check(s)) != 0)
    return err;
  if ((h = str_dup(host)) == NULL)
    return EDDY_ENOMEM;
  free(s->host);
  free(s->path);
  s->path = NULL;
  s->host = h;
  s->port = port;
  s->target = TARGET_TCP;
  s->attempt = 0;
  attempt_start(s);
  return 0;
}

/* Public: see the header. */
int eddy_redis_connect_unix(eddy_redis_t *r, const char *path) {
  struct eddy__redis *s = eddy__redis_state(r);
  struct sockaddr_un un;
  char *p;
  int err;

  if (path == NULL || strlen(path) >= sizeof(un.sun_path))
    return EDDY_EINVAL;
  if ((err = connect_check(s)) != 0)
    return err;
  if ((p = str_dup(path)) == NULL)
    return EDDY_ENOMEM;
  free(s->host);
  free(s->path);
  s->host = NULL;
  s->path = p;
  s->target = TARGET_UNIX;
  s->attempt = 0;
  attempt_start(s);
  return 0;
}

/* ---- closing ------------------------------------------------------------- */

static void finish_close(struct eddy__redis *s) {
  eddy_redis_t *r = s->self;
  eddy_redis_close_cb cb = s->close_cb;

  eddy__redis_fail_all(s, EDDY_ECANCELED);
  eddy__redis_hits_drop(s);
  eddy__redis_cache_free(s->cache);
  eddy__redis_subs_free(s);
  eddy__redis_bytes_free(&s->out);
  eddy__redis_bytes_free(&s->wbuf);
  eddy__redis_bytes_free(&s->hsbuf);
  eddy__redis_bytes_free(&s->in);
  free(s->ring);
  free(s->nodes);
  free(s->hits);
  free(s->host);
  free(s->path);
  free(s->redirect);
  options_free(&s->opt);
  free(s);
  r->priv.s = NULL;
  if (cb != NULL)
    cb(r);
}

/* One of the things close waits for is done. */
static void close_step(struct eddy__redis *s) {
  assert(s->close_waits > 0);
  if (--s->close_waits == 0 && !s->tick_pending)
    finish_close(s);
}

static void on_handle_closed(eddy_handle_t *h) {
  close_step(h->data);
}

static void on_redirect_closed(eddy_redis_t *r) {
  close_step(r->data);
}

/* Called by cache.c when its tick ran while closing. */
void eddy__redis_tick_done(struct eddy__redis *s) {
  if (s->state == EDDY_REDIS_CLOSING && s->close_waits == 0)
    finish_close(s);
}

/* Public: see the header. */
int eddy_redis_close(eddy_redis_t *r, eddy_redis_close_cb cb) {
  struct eddy__redis *s = eddy__redis_state(r);

  if (s->state == EDDY_REDIS_CLOSING)
    return EDDY_EINVAL;
  s->state = EDDY_REDIS_CLOSING;
  s->close_cb = cb;
  s->connected = 0;
  s->close_waits = 1; /* released below, once everything is started */
  s->close_waits += 3;
  eddy_close(&s->timer.handle, on_handle_closed);
  eddy_close(&s->cmd_timer.handle, on_handle_closed);
  eddy_close(&s->flush.handle, on_handle_closed);
  if (s->conn_open) {
    s->close_waits++;
    if (!s->conn_closing)
      conn_close(s);
  }
  if (s->gai_active) {
    s->close_waits++;
    eddy_cancel(&s->gai.req);
  }
  if (s->redirect != NULL) {
    s->close_waits++;
    s->redirect->data = s;
    eddy_redis_close(s->redirect, on_redirect_closed);
  }
  close_step(s);
  return 0;
}

/* Public: see the header. */
const char *eddy_redis_state_name(eddy_redis_state state) {
  switch (state) {
  case EDDY_REDIS_IDLE:
    return "idle";
  case EDDY_REDIS_CONNECTING:
    return "connecting";
  case EDDY_REDIS_READY:
    return "ready";
  case EDDY_REDIS_WAITING:
    return "waiting";
  case EDDY_REDIS_STOPPED:
    return "stopped";
  case EDDY_REDIS_CLOSING:
    return "closing";
  }
  return "unknown";
}

/* Public: see the header. */
const char *eddy_redis_event_name(eddy_redis_event_type type) {
  switch (type) {
  case EDDY_REDIS_EV_CONNECTING:
    return "connecting";
  case EDDY_REDIS_EV_READY:
    return "ready";
  case EDDY_REDIS_EV_DISCONNECTED:
    return "disconnected";
  case EDDY_REDIS_EV_RECONNECTING:
    return "reconnecting";
  case EDDY_REDIS_EV_STOPPED:
    return "stopped";
  case EDDY_REDIS_EV_ERROR:
    return "error";
  }
  return "unknown";
}
