/* The Redis client: the connection, the command ring, writing and reading
 * (see eddy/redis.h for the rules). The handshake and pub/sub are in
 * session.c, the cache in cache.c. Only eddy's public API is used.
 *
 * Commands live in a ring in issue order. Their encoded bytes go to `out`
 * when issued; a prepare handle writes `out` once per loop iteration, and
 * the records written so far (the first `rsent` of the ring) are in
 * flight. Replies are matched to the ring's head. When the connection
 * drops, the records in flight fail; the others, whose bytes are still in
 * `out`, wait for the next connection.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "eddy/addr.h"
#include "eddy/tick.h"
#include "eddy/work.h"
#include "redis_internal.h"

#define IN_CHUNK 65536            /* free room asked for each read */
#define IN_KEEP ((size_t)1 << 20) /* an empty input buffer above this shrinks  \
                                   */
#define OUT_KEEP ((size_t)1 << 20)
#define NODES_START 64
#define CMD_ARGS_MAX 64

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

/* ---- small helpers ------------------------------------------------------- */

/* Makes room for n more bytes at b->len. */
static int bytes_reserve(struct rbytes *b, size_t n) {
  size_t cap;
  char *p;

  if (b->cap - b->len >= n)
    return 0;
  if (b->start > 0 && b->start == b->len) { /* empty: restart at 0 */
    b->start = b->len = 0;
    if (b->cap >= n)
      return 0;
  }
  cap = b->cap ? b->cap : 4096;
  while (cap - b->len < n)
    cap *= 2;
  p = realloc(b->data, cap);
  if (p == NULL)
    return EDDY_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int eddy__redis_bytes_append(struct rbytes *b, const char *p, size_t n) {
  int err = bytes_reserve(b, n);

  if (err == 0) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
  }
  return err;
}

static void bytes_free(struct rbytes *b) {
  free(b->data);
  memset(b, 0, sizeof(*b));
}

/* An empty buffer that grew past keep goes back to nothing. */
static void bytes_trim(struct rbytes *b, size_t keep) {
  if (b->start == b->len) {
    b->start = b->len = 0;
    if (b->cap > keep) {
      free(b->data);
      b->data = NULL;
      b->cap = 0;
    }
  }
}

/* True if a string node equals lit, ignoring ASCII case. */
int eddy__redis_node_is(const eddy_resp_node_t *n, const char *lit) {
  size_t len = strlen(lit);

  return n != NULL && n->str != NULL && n->len == len &&
         strncasecmp(n->str, lit, len) == 0;
}

static struct eddy__redis *state_of(const eddy_redis_t *r) {
  assert(r != NULL && r->priv.s != NULL);
  return r->priv.s;
}

void eddy__redis_event(struct eddy__redis *s, eddy_redis_event_type type,
                       int status) {
  eddy_redis_event_t ev;

  if (s->opt.on_event == NULL)
    return;
  memset(&ev, 0, sizeof(ev));
  ev.type = type;
  ev.status = status;
  ev.attempt = s->attempt;
  ev.protocol = s->protocol;
  s->opt.on_event(s->self, &ev);
}

void eddy__redis_error_event(struct eddy__redis *s, int status,
                             const eddy_resp_node_t *reply) {
  eddy_redis_event_t ev;

  if (s->opt.on_event == NULL)
    return;
  memset(&ev, 0, sizeof(ev));
  ev.type = EDDY_REDIS_EV_ERROR;
  ev.status = status;
  ev.attempt = s->attempt;
  if (reply != NULL && reply->str != NULL) {
    ev.message = reply->str;
    ev.message_len = reply->len;
  }
  s->opt.on_event(s->self, &ev);
}

/* ---- the command ring ---------------------------------------------------- */

static struct redis_cmd *ring_at(struct eddy__redis *s, size_t i) {
  assert(i < s->rcount);
  return &s->ring[(s->rhead + i) & (s->rcap - 1)];
}

static int ring_grow(struct eddy__redis *s) {
  size_t cap = s->rcap ? s->rcap * 2 : 64, i;
  struct redis_cmd *v = malloc(cap * sizeof(*v));

  if (v == NULL)
    return EDDY_ENOMEM;
  for (i = 0; i < s->rcount; i++)
    v[i] = *ring_at(s, i);
  free(s->ring);
  s->ring = v;
  s->rcap = cap;
  s->rhead = 0;
  return 0;
}

/* Removes and returns the head record (a copy: callbacks may grow the
 * ring). */
static struct redis_cmd ring_pop(struct eddy__redis *s) {
  struct redis_cmd c = *ring_at(s, 0);

  s->rhead = (s->rhead + 1) & (s->rcap - 1);
  s->rcount--;
  if (s->rsent > 0)
    s->rsent--;
  s->stats.pending = s->rcount;
  return c;
}

/* Commands the client knows not to write (rule 4 of the cache). */
static int is_known_read(const char *cmd, size_t n) {
  static const char *const reads[] = {
      "GET",   "MGET",    "STRLEN",  "EXISTS", "GETRANGE",  "HGET",
      "HMGET", "HGETALL", "HEXISTS", "HLEN",   "HKEYS",     "HVALS",
      "LLEN",  "LRANGE",  "LINDEX",  "SCARD",  "SISMEMBER", "SMEMBERS",
      "ZCARD", "ZSCORE",  "ZRANGE",  "ZRANK",  "TTL",       "PTTL",
      "TYPE",  "PING",    "ECHO",    "DBSIZE", "TIME",      "SCAN",
      "KEYS",  "INFO"};
  size_t i;

  for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
    if (strlen(reads[i]) == n && strncasecmp(cmd, reads[i], n) == 0)
      return 1;
  return 0;
}

/* Runs a record's callback with a reply or a failure. */
static void cmd_finish(struct eddy__redis *s, struct redis_cmd *c, int status,
                       const eddy_resp_node_t *reply) {
  if (c->flags & CMD_F_WRITE) {
    assert(s->write_inflight > 0);
    s->write_inflight--;
  }
  if (status < 0)
    s->stats.failed++;
  if (c->kind == CMD_CACHED)
    eddy__redis_cache_done(s, c, status == 0 ? reply : NULL);
  if (c->kind == CMD_INTERNAL) {
    if (c->cb.internal != NULL)
      c->cb.internal(s, status, reply, c->arg);
  } else if (c->cb.user != NULL) {
    c->cb.user(s->self, status, reply, c->arg);
  }
}

static void cmd_timer_arm(struct eddy__redis *s);
void eddy__redis_kick(struct eddy__redis *s);

/* Appends a record for the bytes just added to `out` (n of them). */
static struct redis_cmd *record_add(struct eddy__redis *s, size_t n,
                                    unsigned kind, void *cb, void *arg) {
  struct redis_cmd *c = &s->ring[(s->rhead + s->rcount) & (s->rcap - 1)];

  s->rcount++;
  s->stats.pending = s->rcount;
  memset(c, 0, sizeof(*c));
  if (kind == CMD_INTERNAL)
    c->cb.internal = (redis_internal_cb)cb;
  else
    c->cb.user = (eddy_redis_reply_cb)cb;
  c->arg = arg;
  c->kind = (unsigned char)kind;
  c->bytes = n;
  c->issued_ms = eddy_now(s->loop);
  c->seq = s->next_seq++;
  return c;
}

/* Whether a record may be added now; 0 or the error for the caller. */
static int record_check(struct eddy__redis *s) {
  if (s->state == EDDY_REDIS_CLOSING)
    return EDDY_ECANCELED;
  if (s->state == EDDY_REDIS_STOPPED)
    return EDDY_ENOTCONN;
  if (s->opt.fail_while_disconnected && s->state != EDDY_REDIS_READY)
    return EDDY_ENOTCONN;
  if (s->rcount >= s->opt.max_pending)
    return EDDY_ENOBUFS;
  if (s->rcount == s->rcap)
    return ring_grow(s);
  return 0;
}

static void record_queued(struct eddy__redis *s) {
  cmd_timer_arm(s);
  eddy__redis_kick(s);
}

/* Queues a command: encodes it into `out` and appends its record. */
int eddy__redis_push_cmd(struct eddy__redis *s, int argc,
                         const char *const *argv, const size_t *argvlen,
                         unsigned kind, void *cb, void *arg,
                         struct redis_cmd **out) {
  struct redis_cmd *c;
  size_t need;
  long n;
  int err;

  if ((err = record_check(s)) != 0)
    return err;
  need = eddy_resp_encoded_size(argc, argv, argvlen);
  if ((err = bytes_reserve(&s->out, need)) != 0)
    return err;
  n = eddy_resp_encode(s->out.data + s->out.len, need, argc, argv, argvlen);
  if (n < 0)
    return (int)n;
  s->out.len += (size_t)n;
  c = record_add(s, (size_t)n, kind, cb, arg);
  if (kind == CMD_USER && s->cache != NULL &&
      !is_known_read(argv[0], argvlen ? argvlen[0] : strlen(argv[0]))) {
    c->flags |= CMD_F_WRITE;
    s->write_inflight++;
  }
  if (out != NULL)
    *out = c;
  record_queued(s);
  return 0;
}

/* Queues an encoded command (never a write: the cache's reads). */
int eddy__redis_push_raw(struct eddy__redis *s, const char *bytes, size_t n,
                         unsigned kind, void *cb, void *arg,
                         struct redis_cmd **out) {
  struct redis_cmd *c;
  int err;

  if ((err = record_check(s)) != 0)
    return err;
  if ((err = eddy__redis_bytes_append(&s->out, bytes, n)) != 0)
    return err;
  c = record_add(s, n, kind, cb, arg);
  if (out != NULL)
    *out = c;
  record_queued(s);
  return 0;
}

/* ---- command timeouts ---------------------------------------------------- */

static void on_cmd_timer(eddy_timer_t *t);

static void cmd_timer_arm(struct eddy__redis *s) {
  uint64_t now, due;

  if (s->opt.command_timeout_ms == 0 || s->rcount == 0 ||
      eddy_is_active(&s->cmd_timer.handle) || s->state == EDDY_REDIS_CLOSING)
    return;
  now = eddy_now(s->loop);
  due = ring_at(s, 0)->issued_ms + s->opt.command_timeout_ms;
  eddy_timer_start(&s->cmd_timer, on_cmd_timer, due > now ? due - now : 0, 0);
}

/* The head timed out: one in flight drops the connection (its reply may
 * still come, and order must hold); one still queued is just removed. */
static void on_cmd_timer(eddy_timer_t *t) {
  struct eddy__redis *s = t->handle.data;
  uint64_t now = eddy_now(s->loop);

  while (s->rcount > 0 && s->state != EDDY_REDIS_CLOSING) {
    struct redis_cmd *h = ring_at(s, 0), c;
    if (h->issued_ms + s->opt.command_timeout_ms > now)
      break;
    s->stats.timeouts++;
    if (s->rsent > 0) {
      eddy__redis_drop(s, EDDY_ETIMEDOUT, 0);
      continue;
    }
    assert(s->out.len - s->out.start >= h->bytes);
    s->out.start += h->bytes;
    c = ring_pop(s);
    cmd_finish(s, &c, EDDY_ETIMEDOUT, NULL);
  }
  cmd_timer_arm(s);
}

/* ---- writing ------------------------------------------------------------- */

static eddy_stream_t *conn_stream(struct eddy__redis *s) {
  return s->target == TARGET_UNIX ? &s->conn.pipe.stream : &s->conn.tcp.stream;
}

static void on_write(eddy_write_t *req, int status);

/* Writes everything in `out`: what the kernel takes now, the rest through
 * a queued write from the other buffer. Every record written is in
 * flight from here on. */
static void flush_out(struct eddy__redis *s) {
  eddy_buf_t b;
  ssize_t n;
  struct rbytes tmp;
  int err;

  if (s->state != EDDY_REDIS_READY || s->writing || s->out.len == s->out.start)
    return;
  s->stats.commands += s->rcount - s->rsent;
  s->rsent = s->rcount;
  b = eddy_buf_init(s->out.data + s->out.start, s->out.len - s->out.start);
  s->stats.bytes_sent += b.len;
  n = eddy_try_write(conn_stream(s), &b, 1);
  if (n == (ssize_t)b.len) {
    s->out.start = s->out.len = 0;
    bytes_trim(&s->out, OUT_KEEP);
    return;
  }
  if (n < 0 && n != EDDY_EAGAIN) {
    eddy__redis_drop(s, (int)n, 0);
    return;
  }
  if (n > 0)
    s->out.start += (size_t)n;
  tmp = s->wbuf; /* the buffer being written becomes wbuf */
  s->wbuf = s->out;
  s->out = tmp;
  s->out.start = s->out.len = 0;
  b = eddy_buf_init(s->wbuf.data + s->wbuf.start, s->wbuf.len - s->wbuf.start);
  err = eddy_write(&s->wreq, conn_stream(s), &b, 1, on_write);
  if (err != 0) {
    eddy__redis_drop(s, err, 0);
    return;
  }
  s->writing = 1;
}

static void on_write(eddy_write_t *req, int status) {
  struct eddy__redis *s = req->req.data;

  s->writing = 0;
  s->wbuf.start = s->wbuf.len = 0;
  bytes_trim(&s->wbuf, OUT_KEEP);
  if (status == EDDY_ECANCELED)
    return; /* the connection is closing */
  if (status < 0) {
    eddy__redis_drop(s, status, 0);
    return;
  }
  eddy__redis_kick(s);
}

static void on_flush(eddy_prepare_t *p) {
  struct eddy__redis *s = p->handle.data;

  eddy_prepare_stop(p);
  flush_out(s);
}

/* Something is waiting to be written: write it before the loop waits. */
void eddy__redis_kick(struct eddy__redis *s) {
  if (s->state == EDDY_REDIS_READY && !s->writing && s->out.len > s->out.start)
    eddy_prepare_start(&s->flush, on_flush);
}

static void on_hs_write(eddy_write_t *req, int status) {
  struct eddy__redis *s = req->req.data;

  s->hs_writing = 0;
  s->hsbuf.start = s->hsbuf.len = 0;
  if (status < 0 && status != EDDY_ECANCELED)
    eddy__redis_drop(s, status, 0);
}

/* Sends one handshake command (they go one at a time, before any queued
 * command). */
int eddy__redis_hs_send(struct eddy__redis *s, int argc,
                        const char *const *argv, const size_t *argvlen) {
  size_t need = eddy_resp_encoded_size(argc, argv, argvlen);
  eddy_buf_t b;
  int err;

  assert(!s->hs_writing);
  s->hsbuf.start = s->hsbuf.len = 0;
  if ((err = bytes_reserve(&s->hsbuf, need)) != 0)
    return err;
  s->hsbuf.len =
      (size_t)eddy_resp_encode(s->hsbuf.data, need, argc, argv, argvlen);
  b = eddy_buf_init(s->hsbuf.data, s->hsbuf.len);
  s->stats.bytes_sent += b.len;
  err = eddy_write(&s->hsreq, conn_stream(s), &b, 1, on_hs_write);
  if (err == 0)
    s->hs_writing = 1;
  return err;
}

/* ---- reading ------------------------------------------------------------- */

static void on_alloc(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  struct eddy__redis *s = h->data;
  struct rbytes *in = &s->in;
  size_t limit = s->opt.max_reply_bytes + IN_CHUNK;

  (void)suggested;
  if (in->cap - in->len < IN_CHUNK && in->start > 0) {
    memmove(in->data, in->data + in->start, in->len - in->start);
    in->len -= in->start;
    in->start = 0;
  }
  if (in->cap - in->len < IN_CHUNK && in->cap < limit) {
    size_t want = in->len + IN_CHUNK;
    if (want > limit)
      want = limit;
    if (want > in->cap)
      bytes_reserve(in, want - in->len);
  }
  *buf = eddy_buf_init(in->data + in->len, in->cap - in->len);
}

/* Makes the node array larger for a reply that needs it (up to
 * max_reply_nodes). */
static int nodes_grow(struct eddy__redis *s) {
  size_t cap = s->ncap * 2;
  eddy_resp_node_t *v;

  if (s->ncap >= s->opt.max_reply_nodes)
    return EDDY_EMSGSIZE;
  if (cap > s->opt.max_reply_nodes)
    cap = s->opt.max_reply_nodes;
  v = realloc(s->nodes, cap * sizeof(*v));
  if (v == NULL)
    return EDDY_ENOMEM;
  s->nodes = v;
  s->ncap = cap;
  eddy_resp_parser_set_nodes(&s->parser, v, cap);
  return 0;
}

/* One reply or push arrived: route it. */
static void dispatch(struct eddy__redis *s, const eddy_resp_node_t *root) {
  const eddy_resp_node_t *v = eddy_resp_skip_attributes(root);
  struct redis_cmd c;

  if (eddy__redis_is_push(s, v)) {
    s->stats.pushes++;
    eddy__redis_push(s, v);
    return;
  }
  s->stats.replies++;
  if (eddy_resp_is_error(v))
    s->stats.error_replies++;
  if (s->state == EDDY_REDIS_CONNECTING) {
    eddy__redis_hs_reply(s, v);
    return;
  }
  if (s->rsent == 0) { /* a reply nobody asked for */
    eddy__redis_drop(s, EDDY_EPROTO, 0);
    return;
  }
  c = ring_pop(s);
  if (s->barrier_on && s->redirect == NULL && c.seq >= s->barrier_seq)
    s->barrier_on = 0; /* rule 4: a later command's reply */
  if ((c.flags & CMD_F_WRITE) && s->cache != NULL) {
    s->barrier_seq = s->next_seq;
    s->barrier_on = 1;
    if (s->redirect != NULL)
      eddy__redis_redirect_barrier(s);
  }
  cmd_finish(s, &c, 0, v);
}

/* A confirmation answers the (un)subscribe record at the head. */
void eddy__redis_head_reply(struct eddy__redis *s, const eddy_resp_node_t *v) {
  struct redis_cmd c;

  assert(s->rsent > 0);
  c = ring_pop(s);
  cmd_finish(s, &c, 0, v);
}

/* Parses and dispatches what was read, until the buffer holds no whole
 * reply or the connection went away. */
static void process_input(struct eddy__redis *s) {
  struct rbytes *in = &s->in;

  while (in->len > in->start && s->connected) {
    int r = eddy_resp_parse(&s->parser, in->data + in->start,
                            in->len - in->start, &s->limits);
    if (r > 0) {
      const eddy_resp_node_t *root = s->nodes;
      in->start += (size_t)r;
      dispatch(s, root);
      continue;
    }
    if (r == EDDY_RESP_INCOMPLETE)
      break;
    if (r == EDDY_RESP_NEED_NODES) {
      int err = nodes_grow(s);
      if (err == 0)
        continue;
      s->stats.protocol_errors++;
      eddy__redis_drop(s, EDDY_EMSGSIZE, r);
      return;
    }
    s->stats.protocol_errors++;
    eddy__redis_drop(s,
                     r == EDDY_RESP_E_REPLY_TOO_LARGE ||
                             r == EDDY_RESP_E_BULK_TOO_LARGE
                         ? EDDY_EMSGSIZE
                         : EDDY_EPROTO,
                     r);
    return;
  }
  if (in->start == in->len)
    bytes_trim(in, IN_KEEP);
}

static void on_read(eddy_stream_t *st, ssize_t nread, const eddy_buf_t *buf) {
  struct eddy__redis *s = st->handle.data;

  (void)buf;
  if (nread > 0) {
    s->in.len += (size_t)nread;
    s->stats.bytes_received += (uint64_t)nread;
    process_input(s);
  } else if (nread < 0) {
    eddy__redis_drop(s, nread == EDDY_EOF ? EDDY_ECONNRESET : (int)nread, 0);
  }
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
    eddy_read_stop(conn_stream(s));
    eddy_close(&conn_stream(s)->handle, on_conn_closed);
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
  eddy_resp_parser_init(&s->parser, s->nodes, s->ncap);
  s->in.start = s->in.len = 0;
  if (eddy_read_start(conn_stream(s), on_alloc, on_read) != 0) {
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

/* Fails every queued record (the client stopped or closed). */
static void fail_all(struct eddy__redis *s, int status) {
  size_t n = s->rcount;

  s->out.start = s->out.len = 0;
  while (n-- > 0 && s->rcount > 0) {
    struct redis_cmd c = ring_pop(s);
    cmd_finish(s, &c, status, NULL);
  }
}

/* The connection is lost, or an attempt failed (see the header). */
void eddy__redis_drop(struct eddy__redis *s, int cause, int detail) {
  eddy_redis_event_t ev;
  size_t n, i;
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
  for (i = 0; i < n && s->rsent > 0; i++) {
    struct redis_cmd c = ring_pop(s);
    cmd_finish(s, &c, i == 0 ? head_status : EDDY_ECONNRESET, NULL);
  }
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
    fail_all(s, EDDY_ENOTCONN);
    if (s->state == EDDY_REDIS_STOPPED)
      eddy__redis_event(s, EDDY_REDIS_EV_STOPPED, cause);
    return;
  }
  if (s->opt.fail_while_disconnected)
    fail_all(s, EDDY_ENOTCONN);
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
  struct eddy__redis *s = state_of(r);
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
  struct eddy__redis *s = state_of(r);
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

/* Commands that would change the connection behind the client. */
static int is_refused(const char *cmd, size_t n) {
  static const char *const refused[] = {
      "SUBSCRIBE",    "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE",
      "SUNSUBSCRIBE", "MONITOR",    "RESET",      "HELLO"};
  size_t i;

  for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
    if (strlen(refused[i]) == n && strncasecmp(cmd, refused[i], n) == 0)
      return 1;
  return 0;
}

/* Public: see the header. */
int eddy_redis_command(eddy_redis_t *r, int argc, const char *const *argv,
                       const size_t *argvlen, eddy_redis_reply_cb cb,
                       void *arg) {
  struct eddy__redis *s = state_of(r);

  if (argc < 1 || argv == NULL || argv[0] == NULL)
    return EDDY_EINVAL;
  if (is_refused(argv[0], argvlen ? argvlen[0] : strlen(argv[0])))
    return EDDY_EINVAL;
  return eddy__redis_push_cmd(s, argc, argv, argvlen, CMD_USER, (void *)cb, arg,
                              NULL);
}

/* Public: see the header. */
int eddy_redis_cmd(eddy_redis_t *r, eddy_redis_reply_cb cb, void *arg, ...) {
  const char *argv[CMD_ARGS_MAX];
  const char *a;
  va_list ap;
  int argc = 0;

  va_start(ap, arg);
  while ((a = va_arg(ap, const char *)) != NULL) {
    if (argc == CMD_ARGS_MAX) {
      va_end(ap);
      return EDDY_EINVAL;
    }
    argv[argc++] = a;
  }
  va_end(ap);
  return eddy_redis_command(r, argc, argv, NULL, cb, arg);
}

/* Public: see the header. */
int eddy_redis_cached(eddy_redis_t *r, int argc, const char *const *argv,
                      const size_t *argvlen, eddy_redis_reply_cb cb,
                      void *arg) {
  struct eddy__redis *s = state_of(r);

  if (argc < 2 || argv == NULL || argv[0] == NULL || argv[1] == NULL)
    return EDDY_EINVAL;
  if (is_refused(argv[0], argvlen ? argvlen[0] : strlen(argv[0])))
    return EDDY_EINVAL;
  if (s->cache == NULL)
    return eddy__redis_push_cmd(s, argc, argv, argvlen, CMD_USER, (void *)cb,
                                arg, NULL);
  return eddy__redis_cache_try(s, argc, argv, argvlen, cb, arg);
}

/* Public: see the header. */
int eddy_redis_cache_flush(eddy_redis_t *r) {
  struct eddy__redis *s = state_of(r);

  if (s->cache != NULL)
    eddy__redis_cache_flush(s);
  return 0;
}

/* Public: see the header. */
void eddy_redis_get_stats(const eddy_redis_t *r, eddy_redis_stats_t *out) {
  const struct eddy__redis *s = state_of(r);

  *out = s->stats;
  out->pending = s->rcount;
  out->state = s->state;
  out->protocol = s->state == EDDY_REDIS_READY ? s->protocol : 0;
}

/* Public: see the header. */
eddy_redis_state eddy_redis_get_state(const eddy_redis_t *r) {
  return state_of(r)->state;
}

/* ---- closing ------------------------------------------------------------- */

static void finish_close(struct eddy__redis *s) {
  eddy_redis_t *r = s->self;
  eddy_redis_close_cb cb = s->close_cb;

  fail_all(s, EDDY_ECANCELED);
  eddy__redis_hits_drop(s);
  eddy__redis_cache_free(s->cache);
  eddy__redis_subs_free(s);
  bytes_free(&s->out);
  bytes_free(&s->wbuf);
  bytes_free(&s->hsbuf);
  bytes_free(&s->in);
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
  struct eddy__redis *s = state_of(r);

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
