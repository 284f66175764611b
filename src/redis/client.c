/* The Redis client: the command ring, writing and reading (see
 * eddy/redis.h for the rules). connection.c makes and keeps the
 * connection, session.c does the handshake and pub/sub, cache.c the cache.
 * Only eddy's public API is used.
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

#include "eddy/tick.h"
#include "redis_internal.h"

#define IN_CHUNK 65536 /* free room asked for each read */
#define IN_KEEP                                                                \
  ((size_t)1 << 20) /* an empty input buffer above this shrinks                \
                     */
#define OUT_KEEP ((size_t)1 << 20)
#define CMD_ARGS_MAX 64

/* ---- small helpers ------------------------------------------------------- */

/* Makes room for n more bytes at b->len. */
int eddy__redis_bytes_reserve(struct rbytes *b, size_t n) {
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
  int err = eddy__redis_bytes_reserve(b, n);

  if (err == 0) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
  }
  return err;
}

void eddy__redis_bytes_free(struct rbytes *b) {
  free(b->data);
  memset(b, 0, sizeof(*b));
}

/* An empty buffer that grew past keep goes back to nothing. */
void eddy__redis_bytes_trim(struct rbytes *b, size_t keep) {
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

/* A command name and its length, so lookups compare lengths first. */
struct cmd_name {
  const char *s;
  size_t n;
};
#define NAME(lit)                                                              \
  { lit, sizeof(lit) - 1 }

static int name_in(const char *cmd, size_t n, const struct cmd_name *v,
                   size_t count) {
  size_t i;

  for (i = 0; i < count; i++)
    if (v[i].n == n && strncasecmp(cmd, v[i].s, n) == 0)
      return 1;
  return 0;
}

/* Commands the client knows not to write (rule 4 of the cache). */
static int is_known_read(const char *cmd, size_t n) {
  static const struct cmd_name reads[] = {
      NAME("GET"),       NAME("MGET"),     NAME("STRLEN"), NAME("EXISTS"),
      NAME("GETRANGE"),  NAME("HGET"),     NAME("HMGET"),  NAME("HGETALL"),
      NAME("HEXISTS"),   NAME("HLEN"),     NAME("HKEYS"),  NAME("HVALS"),
      NAME("LLEN"),      NAME("LRANGE"),   NAME("LINDEX"), NAME("SCARD"),
      NAME("SISMEMBER"), NAME("SMEMBERS"), NAME("ZCARD"),  NAME("ZSCORE"),
      NAME("ZRANGE"),    NAME("ZRANK"),    NAME("TTL"),    NAME("PTTL"),
      NAME("TYPE"),      NAME("PING"),     NAME("ECHO"),   NAME("DBSIZE"),
      NAME("TIME"),      NAME("SCAN"),     NAME("KEYS"),   NAME("INFO")};

  return name_in(cmd, n, reads, sizeof(reads) / sizeof(reads[0]));
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
  size_t need, lens[CMD_ARGS_MAX];
  long n;
  int err, i;

  if ((err = record_check(s)) != 0)
    return err;
  if (argvlen == NULL && argc <= CMD_ARGS_MAX) { /* strlen once, not thrice */
    for (i = 0; i < argc; i++)
      lens[i] = strlen(argv[i]);
    argvlen = lens;
  }
  need = eddy_resp_encoded_size(argc, argv, argvlen);
  if ((err = eddy__redis_bytes_reserve(&s->out, need)) != 0)
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
  n = eddy_try_write(eddy__redis_stream(s), &b, 1);
  if (n == (ssize_t)b.len) {
    s->out.start = s->out.len = 0;
    eddy__redis_bytes_trim(&s->out, OUT_KEEP);
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
  err = eddy_write(&s->wreq, eddy__redis_stream(s), &b, 1, on_write);
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
  eddy__redis_bytes_trim(&s->wbuf, OUT_KEEP);
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
  if ((err = eddy__redis_bytes_reserve(&s->hsbuf, need)) != 0)
    return err;
  s->hsbuf.len =
      (size_t)eddy_resp_encode(s->hsbuf.data, need, argc, argv, argvlen);
  b = eddy_buf_init(s->hsbuf.data, s->hsbuf.len);
  s->stats.bytes_sent += b.len;
  err = eddy_write(&s->hsreq, eddy__redis_stream(s), &b, 1, on_hs_write);
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
      eddy__redis_bytes_reserve(in, want - in->len);
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
    eddy__redis_bytes_trim(in, IN_KEEP);
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

/* A new connection: a fresh parser and buffer, and reading starts. */
int eddy__redis_read_begin(struct eddy__redis *s) {
  eddy_resp_parser_init(&s->parser, s->nodes, s->ncap);
  s->in.start = s->in.len = 0;
  return eddy_read_start(eddy__redis_stream(s), on_alloc, on_read);
}

/* Fails every queued record (the client stopped or closed). */
void eddy__redis_fail_all(struct eddy__redis *s, int status) {
  size_t n = s->rcount;

  s->out.start = s->out.len = 0;
  while (n-- > 0 && s->rcount > 0) {
    struct redis_cmd c = ring_pop(s);
    cmd_finish(s, &c, status, NULL);
  }
}

/* Fails the first n records (those in flight): the first with
 * head_status, the others with EDDY_ECONNRESET. */
void eddy__redis_fail_sent(struct eddy__redis *s, size_t n, int head_status) {
  size_t i;

  for (i = 0; i < n && s->rsent > 0; i++) {
    struct redis_cmd c = ring_pop(s);
    cmd_finish(s, &c, i == 0 ? head_status : EDDY_ECONNRESET, NULL);
  }
}

/* Commands that would change the connection behind the client. */
static int is_refused(const char *cmd, size_t n) {
  static const struct cmd_name refused[] = {
      NAME("SUBSCRIBE"),   NAME("PSUBSCRIBE"),   NAME("SSUBSCRIBE"),
      NAME("UNSUBSCRIBE"), NAME("PUNSUBSCRIBE"), NAME("SUNSUBSCRIBE"),
      NAME("MONITOR"),     NAME("RESET"),        NAME("HELLO")};

  return name_in(cmd, n, refused, sizeof(refused) / sizeof(refused[0]));
}

/* Public: see the header. */
int eddy_redis_command(eddy_redis_t *r, int argc, const char *const *argv,
                       const size_t *argvlen, eddy_redis_reply_cb cb,
                       void *arg) {
  struct eddy__redis *s = eddy__redis_state(r);

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
  struct eddy__redis *s = eddy__redis_state(r);

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
  struct eddy__redis *s = eddy__redis_state(r);

  if (s->cache != NULL)
    eddy__redis_cache_flush(s);
  return 0;
}

/* Public: see the header. */
void eddy_redis_get_stats(const eddy_redis_t *r, eddy_redis_stats_t *out) {
  const struct eddy__redis *s = eddy__redis_state(r);

  *out = s->stats;
  out->pending = s->rcount;
  out->state = s->state;
  out->protocol = s->state == EDDY_REDIS_READY ? s->protocol : 0;
}

/* Public: see the header. */
eddy_redis_state eddy_redis_get_state(const eddy_redis_t *r) {
  return eddy__redis_state(r)->state;
}
