/* server.c: the HTTP/1.1 server: accepting, reading, parsing in place,
 * dispatching, deadlines and graceful closing. request.c hands out request
 * bodies, response.c writes responses.
 *
 * One connection runs one exchange at a time. Its read buffer holds the
 * current request head (pinned: the handler reads it in place until it ends
 * the response), then unconsumed input: body bytes and any pipelined
 * requests, which are parsed once the exchange is done. So the buffer is
 * the only per-request memory, responses cannot be reordered, and a client
 * can make a connection hold at most one buffer and one exchange.
 *
 * The buffer comes in a "read state" with everything else a request needs
 * (the parsed head, the chunked decoder, the header array, the response
 * head scratch). A connection takes one, from a per-server free list, when
 * input arrives and gives it back once it is idle: an idle keep-alive
 * connection is the struct alone (656 bytes on x86-64).
 *
 * conn_process() is the one place that parses and dispatches; it never
 * re-enters itself. Work that a handler's call makes possible while no
 * conn_process() is running (ending a response from a timer, asking for the
 * body later) is queued as a next tick, so handler callbacks never run
 * inside a call of the API.
 *
 * Deadlines share one timer per connection. The timer may be armed for an
 * earlier time than the deadline and then re-arms itself, so moving a
 * deadline later (every keep-alive request does) costs no heap operation. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "eddy/tick.h"
#include "server_internal.h"

/* A body buffer bigger than this is freed after its exchange. */
#define BODY_BUFFER_KEEP 65536

static const eddy_http_server_options_t default_options =
    EDDY_HTTP_SERVER_OPTIONS_INIT;

eddy_http_server_options_t eddy_http_server_options_default(void) {
  return default_options;
}

static void conn_process(struct eddy__http_conn *c);
static void update_reading(struct eddy__http_conn *c);
static void close_graceful(struct eddy__http_conn *c);

/* ---- small helpers ------------------------------------------------------ */

void eddy__http_client_error(struct eddy__http_conn *c, int err, int status) {
  eddy_http_server_t *server = c->server;

  if (server->on_client_error != NULL)
    server->on_client_error(server, err, status);
}

static void server_error(eddy_http_server_t *server, int err) {
  if (server->on_client_error != NULL)
    server->on_client_error(server, err, 0);
}

static uint64_t loop_now(const struct eddy__http_conn *c) {
  return eddy_now(c->server->loop);
}

static void on_timer(eddy_timer_t *timer);

/* Make the timer fire by at; re-armed only if it would fire too late. */
static void arm_timer(struct eddy__http_conn *c, uint64_t at) {
  uint64_t now;

  if (c->timer_due != 0 && c->timer_due <= at)
    return;
  now = loop_now(c);
  if (eddy_timer_start(&c->timer, on_timer, at > now ? at - now : 0, 0) == 0)
    c->timer_due = at;
}

/* Sets the deadline; re-arms the timer only if it would fire too late. */
void eddy__http_set_deadline(struct eddy__http_conn *c, int kind, uint64_t at) {
  if (c->flags & EDDY__HC_DEAD)
    return;
  c->deadline = at;
  c->deadline_kind = kind;
  arm_timer(c, at);
}

/* Bytes of the response the kernel has taken so far. */
static uint64_t send_written(const struct eddy__http_conn *c) {
  return c->send_queued - c->tcp.stream.write_queue_size;
}

/* Response bytes were queued (response.c): some of them must reach the
 * kernel within send_timeout. An armed deadline stands: queuing more is no
 * progress. */
void eddy__http_send_queued(struct eddy__http_conn *c) {
  uint64_t timeout = c->server->opts.send_timeout;

  if ((c->flags & EDDY__HC_DEAD) || timeout == 0 || c->send_deadline != 0)
    return;
  c->send_deadline = loop_now(c) + timeout;
  c->send_mark = send_written(c);
  arm_timer(c, c->send_deadline);
}

/* The send deadline came: fail the connection if not one byte was written
 * since it was set (as nginx's send_timeout), else set the next. Returns 1
 * if the connection failed. */
static int send_deadline_passed(struct eddy__http_conn *c) {
  if (c->tcp.stream.write_queue_size == 0) {
    c->send_deadline = 0;
    return 0;
  }
  if (send_written(c) == c->send_mark) {
    /* The client stopped reading: nothing graceful can get through. */
    eddy__http_conn_fail(c, EDDY_ETIMEDOUT);
    return 1;
  }
  c->send_deadline = 0;
  eddy__http_send_queued(c);
  return 0;
}

void eddy__http_clear_deadline(struct eddy__http_conn *c, int kind) {
  if (c->deadline_kind == kind)
    c->deadline = 0;
}

/* Runs conn_process from the loop, not from inside the caller's call. */
static void process_tick(eddy_loop_t *loop, void *arg) {
  struct eddy__http_conn *c = arg;

  (void)loop;
  assert(c->flags & EDDY__HC_TICK);
  c->flags &= ~EDDY__HC_TICK;
  conn_process(c);
}

void eddy__http_kick(struct eddy__http_conn *c) {
  if (c->flags & (EDDY__HC_PROCESSING | EDDY__HC_TICK | EDDY__HC_DEAD))
    return;
  if (eddy_next_tick(c->server->loop, process_tick, c) == 0)
    c->flags |= EDDY__HC_TICK;
  else
    conn_process(c); /* no memory for a tick: do it now */
}

/* ---- read state ---------------------------------------------------------- */

/* Header slots per request (the parser's limit, bounded). */
static size_t rstate_headers(const eddy_http_server_t *server) {
  size_t nh = server->opts.limits.headers_max;

  return nh > 100000 ? 100000 : nh;
}

static size_t rstate_size(const eddy_http_server_t *server) {
  return sizeof(struct eddy__http_rstate) +
         rstate_headers(server) * sizeof(eddy_http_header_t) +
         EDDY__HTTP_RBUF_INIT + EDDY__HTTP_HBUF_INIT;
}

/* Take a read state for c: a recycled one, or a new mapping (only its
 * touched pages become resident, and unmapping gives them back at once,
 * where free() would keep them in the heap). */
static int rstate_acquire(struct eddy__http_conn *c) {
  eddy_http_server_t *server = c->server;
  size_t nh = rstate_headers(server);
  void *st;

  if (c->rstate != NULL)
    return 0;
  st = server->priv.free_rstates;
  if (st != NULL) {
    assert(server->priv.nfree_rstates > 0);
    memcpy(&server->priv.free_rstates, st, sizeof(void *));
    server->priv.nfree_rstates--;
  } else {
    st = mmap(NULL, rstate_size(server), PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (st == MAP_FAILED)
      return EDDY_ENOMEM;
  }
  c->rstate = st;
  c->preq = &c->rstate->req;
  eddy_http_request_init(c->preq, c->rstate->headers, nh);
  c->rbuf = eddy__http_rbuf_inline(c);
  c->rcap = EDDY__HTTP_RBUF_INIT;
  c->rpos = c->rlen = c->pin = 0;
  if (c->hbuf == NULL) {
    c->hbuf = eddy__http_hsmall(c);
    c->hcap = EDDY__HTTP_HBUF_INIT;
  }
  return 0;
}

static int rbuf_is_inline(const struct eddy__http_conn *c) {
  return c->rstate != NULL && c->rbuf == eddy__http_rbuf_inline(c);
}

/* Give the read state back; nothing may point into it any more. */
static void rstate_release(struct eddy__http_conn *c) {
  eddy_http_server_t *server = c->server;

  if (c->rstate == NULL)
    return;
  if (!rbuf_is_inline(c))
    free(c->rbuf);
  if (c->hbuf == eddy__http_hsmall(c)) {
    c->hbuf = NULL;
    c->hcap = 0;
  }
  if (server->priv.nfree_rstates < EDDY__HTTP_FREE_RSTATES &&
      !server->priv.closing) {
    memcpy(c->rstate, &server->priv.free_rstates, sizeof(void *));
    server->priv.free_rstates = c->rstate;
    server->priv.nfree_rstates++;
  } else {
    munmap(c->rstate, rstate_size(server));
  }
  c->rstate = NULL;
  c->rbuf = NULL;
  c->rcap = c->rpos = c->rlen = c->pin = 0;
  c->preq = NULL;
}

static void rstates_free(eddy_http_server_t *server) {
  while (server->priv.free_rstates != NULL) {
    void *st = server->priv.free_rstates;

    memcpy(&server->priv.free_rstates, st, sizeof(void *));
    munmap(st, rstate_size(server));
  }
  server->priv.nfree_rstates = 0;
}

/* ---- freeing ------------------------------------------------------------ */

static void server_maybe_closed(eddy_http_server_t *server) {
  if (!server->priv.closing || !server->priv.listener_closed ||
      server->priv.nconns != 0 || server->priv.reject_busy)
    return;
  eddy__http_blocks_free(server);
  rstates_free(server);
  server->priv.closing = 2; /* done: the callback runs once */
  if (server->priv.close_cb != NULL)
    server->priv.close_cb(server);
}

/* Memory goes once both handles have closed and the handler let go. */
static void conn_maybe_free(struct eddy__http_conn *c) {
  eddy_http_server_t *server = c->server;

  if (c->refs != 0 || (c->flags & EDDY__HC_USER))
    return;
  assert((c->flags & EDDY__HC_DEAD) && server->priv.nconns > 0);
  eddy__queue_remove(&c->node);
  server->priv.nconns--;
  rstate_release(c);
  free(c->bbuf);
  free(c->hbuf); /* NULL unless a long head moved it to the heap */
  free(c);
  server_maybe_closed(server);
}

/* Tell a handler that still holds the exchange that the connection is
 * gone: body end, drain, abort, in that order, each at most once. */
static void notify_lost(struct eddy__http_conn *c) {
  eddy_http_exchange_t *ex = &c->ex;
  int err = c->error != 0 ? c->error : EDDY_ECONNRESET;

  if ((c->flags & EDDY__HC_USER) &&
      (c->body_mode == EDDY__HB_STREAM || c->body_mode == EDDY__HB_BUFFER) &&
      (!(c->flags & EDDY__HC_BODY_DONE) || (c->flags & EDDY__HC_END_PENDING))) {
    c->flags |= EDDY__HC_BODY_DONE;
    c->flags &= ~EDDY__HC_END_PENDING;
    c->on_end(ex, err);
  }
  if ((c->flags & (EDDY__HC_USER | EDDY__HC_DRAIN_WANTED)) ==
      (EDDY__HC_USER | EDDY__HC_DRAIN_WANTED)) {
    c->flags &= ~EDDY__HC_DRAIN_WANTED;
    if (c->on_drain != NULL)
      c->on_drain(ex, err);
  }
  if ((c->flags & EDDY__HC_USER) && c->on_abort != NULL) {
    eddy_http_abort_cb cb = c->on_abort;
    c->on_abort = NULL;
    cb(ex, err);
  }
}

static void on_handle_closed(eddy_handle_t *h) {
  struct eddy__http_conn *c = h->data;

  /* Only conn_destroy closes the handles, one reference each. */
  assert((c->flags & EDDY__HC_DEAD) && c->refs > 0);
  if (--c->refs != 0)
    return;
  c->refs = 1; /* the handler may end the exchange from these callbacks */
  notify_lost(c);
  c->refs = 0;
  conn_maybe_free(c);
}

/* Close both handles now; err says why (0: a normal close). */
static void conn_destroy(struct eddy__http_conn *c, int err) {
  if (c->flags & EDDY__HC_DEAD)
    return;
  c->flags |= EDDY__HC_DEAD;
  c->flags &= ~EDDY__HC_READING;
  c->error = err != 0 ? err : EDDY_EPIPE;
  c->deadline = 0;
  eddy_close(&c->tcp.stream.handle, on_handle_closed);
  eddy_close(&c->timer.handle, on_handle_closed);
}

void eddy__http_conn_fail(struct eddy__http_conn *c, int err) {
  if (c->flags & EDDY__HC_DEAD)
    return;
  eddy__http_client_error(c, err, 0);
  conn_destroy(c, err);
}

/* ---- graceful close ----------------------------------------------------- */

static void on_shutdown(eddy_shutdown_t *req, int status) {
  struct eddy__http_conn *c =
      eddy__container_of(req, struct eddy__http_conn, shutdown_req);
  uint64_t linger = c->server->opts.linger_timeout;

  if (c->flags & EDDY__HC_DEAD)
    return;
  c->flags |= EDDY__HC_SHUT;
  if (status != 0 || (c->flags & EDDY__HC_PEER_EOF) || linger == 0) {
    conn_destroy(c, status);
    return;
  }
  eddy__http_set_deadline(c, EDDY__HDL_LINGER, loop_now(c) + linger);
}

/* Shut the write side once the queue is written, read and drop input until
 * the peer closes or linger_timeout passes, then close (RFC 9112 §9.6). */
static void close_graceful(struct eddy__http_conn *c) {
  if (c->flags & (EDDY__HC_CLOSING | EDDY__HC_DEAD))
    return;
  c->flags |= EDDY__HC_CLOSING;
  c->flags &= ~EDDY__HC_PAUSED_WQ;
  c->deadline = 0;
  c->rpos = c->rlen = c->pin = 0;
  if (eddy_shutdown(&c->shutdown_req, &c->tcp.stream, on_shutdown) != 0) {
    conn_destroy(c, 0);
    return;
  }
  update_reading(c);
}

/* Answer a bad request with status and "Connection: close", then close. */
static void fail_request(struct eddy__http_conn *c, int err, int status) {
  eddy__http_client_error(c, err, status);
  c->flags |= EDDY__HC_CLOSE_AFTER;
  eddy__http_send_error(c, status);
  close_graceful(c);
}

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  struct eddy__http_conn *c = h->data;

  (void)suggested;
  if (rstate_acquire(c) != 0)
    *buf = eddy_buf_init(NULL, 0); /* the read fails with ENOBUFS */
  else if (c->flags & EDDY__HC_CLOSING)
    *buf = eddy_buf_init(c->rbuf, c->rcap); /* input is dropped */
  else
    *buf = eddy_buf_init(c->rbuf + c->rlen, c->rcap - c->rlen);
}

static void on_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf);

/* Read while there is room, the write queue is below the high water mark,
 * and the connection is not done; during a graceful close, always. */
static void update_reading(struct eddy__http_conn *c) {
  int want;

  eddy__http_conn_check(c);
  if (c->flags & (EDDY__HC_DEAD | EDDY__HC_PEER_EOF))
    return;
  if (c->flags & EDDY__HC_CLOSING) {
    want = 1;
  } else {
    if (c->rpos == c->rlen)
      c->rpos = c->rlen = c->pin;
    /* No read state yet: the next read brings one. */
    want = !(c->flags & EDDY__HC_PAUSED_WQ) &&
           (c->rstate == NULL || c->rlen < c->rcap);
  }
  if (want && !(c->flags & EDDY__HC_READING)) {
    int err = eddy_read_start(&c->tcp.stream, on_alloc, on_read);
    if (err != 0) {
      eddy__http_conn_fail(c, err);
      return;
    }
    c->flags |= EDDY__HC_READING;
  } else if (!want && (c->flags & EDDY__HC_READING)) {
    eddy_read_stop(&c->tcp.stream);
    c->flags &= ~EDDY__HC_READING;
  }
}

static void on_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  struct eddy__http_conn *c = s->handle.data;

  (void)buf;
  if (nread == 0 || (c->flags & EDDY__HC_DEAD))
    return;
  if (nread > 0) {
    if (c->flags & EDDY__HC_CLOSING)
      return; /* lingering: dropped */
    if (!(c->flags & EDDY__HC_EXCHANGE) && c->rpos == c->rlen)
      c->head_start = loop_now(c);
    c->rlen += (size_t)nread;
    conn_process(c);
    return;
  }
  if (nread == EDDY_EOF) {
    c->flags |= EDDY__HC_PEER_EOF;
    c->flags &= ~EDDY__HC_READING; /* the stream stopped by itself */
    if (c->flags & EDDY__HC_CLOSING) {
      if (c->flags & EDDY__HC_SHUT)
        conn_destroy(c, 0);
      return;
    }
    /* Requests already buffered are still answered (conn_process). */
    conn_process(c);
    return;
  }
  if (c->flags & EDDY__HC_CLOSING) {
    conn_destroy(c, (int)nread);
    return;
  }
  eddy__http_conn_fail(c, (int)nread);
}

/* Move the unconsumed input to the front of the buffer. Only between
 * exchanges, when nothing in the buffer is pinned. */
static void compact(struct eddy__http_conn *c) {
  assert(c->pin == 0);
  memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
  c->rlen -= c->rpos;
  c->rpos = 0;
}

/* Double the buffer, up to rmax (the caller checks rcap < rmax). Only
 * between exchanges, for the same reason. */
static int grow(struct eddy__http_conn *c) {
  size_t cap = c->rcap * 2 < c->rmax ? c->rcap * 2 : c->rmax;
  char *p;

  assert(c->pin == 0 && c->rcap < c->rmax);
  if (rbuf_is_inline(c)) { /* the first buffer lives in the read state */
    p = malloc(cap);
    if (p != NULL)
      memcpy(p, c->rbuf, c->rlen);
  } else {
    p = realloc(c->rbuf, cap);
  }
  if (p == NULL)
    return EDDY_ENOMEM;
  c->rbuf = p;
  c->rcap = cap;
  return 0;
}

/* The head being parsed does not fit: compact, or grow up to rmax. */
static int make_room(struct eddy__http_conn *c) {
  if (c->rlen < c->rcap)
    return 0;
  if (c->rpos > 0) {
    compact(c);
    return 0;
  }
  if (c->rcap >= c->rmax)
    return EDDY_EINVAL; /* the parser refuses a head this long first */
  return grow(c);
}

/* A body that is not all in the buffer is read into the space after its
 * head, and the head stays pinned where it is while the exchange lives: a
 * head that ended at the end of the buffer left no room, and the exchange
 * waited for a body it could never read. Before the head is handed out,
 * make at least EDDY__HTTP_BODY_ROOM bytes of room (or what rmax allows):
 * move the head to the front, or grow. Returns 1 if the bytes moved (the
 * head must be parsed again where it is now), 0 if not, or EDDY_ENOMEM. */
static int room_for_body(struct eddy__http_conn *c, size_t head_len) {
  const eddy_http_request_t *q = c->preq;
  size_t end = c->rpos + head_len;
  int moved = 0, err;

  if (q->body == EDDY_HTTP_BODY_NONE ||
      (q->body == EDDY_HTTP_BODY_LENGTH &&
       q->content_length <= c->rlen - end) ||
      c->rcap - end >= EDDY__HTTP_BODY_ROOM)
    return 0;
  if (c->rpos > 0) {
    compact(c);
    moved = 1;
  }
  if (c->rcap - head_len < EDDY__HTTP_BODY_ROOM && c->rcap < c->rmax) {
    if ((err = grow(c)) != 0)
      return err;
    moved = 1;
  }
  return moved;
}

/* ---- exchanges ---------------------------------------------------------- */

/* The response is ended and the body is in: ready for the next request. */
static void exchange_finish(struct eddy__http_conn *c) {
  assert(!(c->flags & (EDDY__HC_USER | EDDY__HC_DEAD)) &&
         (c->flags & EDDY__HC_BODY_DONE) && c->res_state == EDDY__HR_ENDED);
  c->flags &= ~(EDDY__HC_EXCHANGE | EDDY__HC_PER_EXCHANGE);
  c->pin = 0;
  if (c->rpos == c->rlen)
    c->rpos = c->rlen = 0;
  c->head_start = loop_now(c);
  c->body_mode = EDDY__HB_WAIT;
  c->res_state = EDDY__HR_NONE;
  c->on_data = NULL;
  c->on_end = NULL;
  c->on_drain = NULL;
  c->on_abort = NULL;
  c->ex.data = NULL;
  c->ex.body = NULL;
  c->ex.body_len = 0;
  c->blen = 0;
  if (c->bcap > BODY_BUFFER_KEEP) {
    free(c->bbuf);
    c->bbuf = NULL;
    c->bcap = 0;
  }
  c->deadline = 0;
  if (c->flags & EDDY__HC_CLOSE_AFTER) {
    close_graceful(c);
    return;
  }
  eddy__http_kick(c);
}

void eddy__http_exchange_maybe_finish(struct eddy__http_conn *c) {
  if ((c->flags & (EDDY__HC_EXCHANGE | EDDY__HC_USER | EDDY__HC_BODY_DONE |
                   EDDY__HC_DEAD)) == (EDDY__HC_EXCHANGE | EDDY__HC_BODY_DONE))
    exchange_finish(c);
}

/* The handler ended the response (response.c). A body it did not read is
 * dropped, unless the client still waits for "100 Continue": then the
 * connection closes instead of reading a body that may never come. */
void eddy__http_response_ended(struct eddy__http_conn *c) {
  assert((c->flags & EDDY__HC_USER) && c->res_state != EDDY__HR_ENDED);
  c->flags &= ~(EDDY__HC_USER | EDDY__HC_DRAIN_WANTED | EDDY__HC_BODY_PAUSED);
  c->res_state = EDDY__HR_ENDED;
  if (c->flags & EDDY__HC_DEAD) {
    conn_maybe_free(c);
    return;
  }
  if (!(c->flags & EDDY__HC_BODY_DONE)) {
    if ((c->flags & EDDY__HC_CLOSE_AFTER) ||
        (c->body_mode == EDDY__HB_WAIT && c->preq->expect_continue &&
         !(c->flags & EDDY__HC_CONTINUE_SENT))) {
      c->flags |= EDDY__HC_BODY_DONE | EDDY__HC_CLOSE_AFTER;
    } else {
      uint64_t timeout = c->server->opts.request_timeout;

      /* The rest is dropped, within the same time a reader would get. */
      if (timeout != 0)
        eddy__http_set_deadline(c, EDDY__HDL_BODY, loop_now(c) + timeout);
      c->body_mode = EDDY__HB_DISCARD;
      eddy__http_kick(c);
      return;
    }
  }
  eddy__http_exchange_maybe_finish(c);
}

static void dispatch(struct eddy__http_conn *c, size_t head_len) {
  eddy_http_server_t *server = c->server;
  const eddy_http_request_t *q = c->preq;
  unsigned max = server->opts.max_requests;

  assert(!(c->flags & EDDY__HC_EXCHANGE) && head_len <= c->rlen - c->rpos);
  c->rpos += head_len;
  c->pin = c->rpos;
  c->requests++;
  c->flags |= EDDY__HC_EXCHANGE | EDDY__HC_USER;
  c->flags &= ~EDDY__HC_BODY_DONE;
  if (q->method == EDDY_HTTP_HEAD)
    c->flags |= EDDY__HC_HEAD;
  if (!q->keep_alive || (max != 0 && c->requests >= max) ||
      server->priv.closing)
    c->flags |= EDDY__HC_CLOSE_AFTER;
  c->body_error = 0;
  c->body_left = 0;
  if (q->body == EDDY_HTTP_BODY_LENGTH && q->content_length > 0)
    c->body_left = q->content_length;
  else if (q->body == EDDY_HTTP_BODY_CHUNKED)
    eddy_http_chunked_init(&c->rstate->dec, &server->opts.limits);
  else
    c->flags |= EDDY__HC_BODY_DONE;
  c->deadline = 0;
  c->ex.data = NULL;
  c->ex.server = server;
  c->ex.req = q;
  c->ex.body = NULL;
  c->ex.body_len = 0;
  eddy__http_conn_check(c);
  server->on_request(server, &c->ex);
}

/* Parse the next request out of the buffer. Returns 1 if one was
 * dispatched, 0 when there is nothing more to do now. */
static int next_request(struct eddy__http_conn *c) {
  const eddy_http_server_options_t *o = &c->server->opts;
  size_t avail = c->rlen - c->rpos;
  int r, err;

  if (avail == 0) {
    rstate_release(c); /* idle: nothing buffered, no exchange */
    if (c->flags & EDDY__HC_PEER_EOF)
      close_graceful(c);
    else if (c->requests > 0 && o->keepalive_timeout != 0)
      eddy__http_set_deadline(c, EDDY__HDL_IDLE,
                              loop_now(c) + o->keepalive_timeout);
    return 0;
  }
  r = eddy_http_parse_request(c->rbuf + c->rpos, avail, c->preq, &o->limits);
  if (r == EDDY_HTTP_INCOMPLETE) {
    if (c->flags & EDDY__HC_PEER_EOF) {
      fail_request(c, EDDY_EOF, 400); /* the peer stopped mid-head */
      return 0;
    }
    if (o->header_timeout != 0)
      eddy__http_set_deadline(c, EDDY__HDL_HEAD,
                              c->head_start + o->header_timeout);
    r = make_room(c);
    if (r != 0)
      fail_request(c, r, r == EDDY_ENOMEM ? 503 : 431);
    return 0;
  }
  if (r < 0) {
    fail_request(c, r, eddy_http_error_status(r));
    return 0;
  }
  err = room_for_body(c, (size_t)r);
  if (err < 0) {
    fail_request(c, err, 503);
    return 0;
  }
  if (err > 0) /* the same head, where it is now */
    r = eddy_http_parse_request(c->rbuf + c->rpos, c->rlen - c->rpos, c->preq,
                                &o->limits);
  dispatch(c, (size_t)r);
  return 1;
}

/* The connection's engine: feed the current exchange's body, or parse and
 * dispatch the next request, until it must wait for something. */
static void conn_process(struct eddy__http_conn *c) {
  eddy__http_conn_check(c);
  if (c->flags & EDDY__HC_PROCESSING)
    return;
  c->flags |= EDDY__HC_PROCESSING;
  while (!(c->flags & (EDDY__HC_DEAD | EDDY__HC_CLOSING))) {
    if (c->flags & EDDY__HC_EXCHANGE) {
      if (c->flags & EDDY__HC_END_PENDING) {
        c->flags &= ~EDDY__HC_END_PENDING;
        eddy__http_body_done(
            c); /* a body that had ended before it was asked for */
      } else {
        eddy__http_feed_body(c);
      }
      if (c->flags & EDDY__HC_EXCHANGE)
        break;
      continue;
    }
    if ((c->flags & EDDY__HC_PAUSED_WQ) || !next_request(c))
      break;
  }
  c->flags &= ~EDDY__HC_PROCESSING;
  update_reading(c);
}

/* A queued write finished (response.c). Below half the high water mark,
 * the handler may write again and the connection may read again. */
void eddy__http_wrote(struct eddy__http_conn *c, int status) {
  if ((c->flags & EDDY__HC_DEAD) || status == EDDY_ECANCELED)
    return;
  if (status != 0) {
    eddy__http_conn_fail(c, status);
    return;
  }
  if (c->tcp.stream.write_queue_size == 0)
    c->send_deadline = 0; /* all written */
  if (c->tcp.stream.write_queue_size > c->server->opts.write_high_water / 2)
    return;
  if (c->flags & EDDY__HC_DRAIN_WANTED) {
    c->flags &= ~EDDY__HC_DRAIN_WANTED;
    if (c->on_drain != NULL)
      c->on_drain(&c->ex, 0);
  }
  if ((c->flags & EDDY__HC_PAUSED_WQ) && !(c->flags & EDDY__HC_DEAD)) {
    c->flags &= ~EDDY__HC_PAUSED_WQ;
    conn_process(c);
  }
}

/* ---- deadlines ---------------------------------------------------------- */

static void on_timer(eddy_timer_t *timer) {
  struct eddy__http_conn *c = timer->handle.data;
  uint64_t now = loop_now(c);
  int kind = c->deadline_kind;

  c->timer_due = 0;
  if (c->flags & EDDY__HC_DEAD)
    return;
  if (c->send_deadline != 0) {
    if (now >= c->send_deadline && send_deadline_passed(c))
      return;
    if (c->send_deadline != 0)
      arm_timer(c, c->send_deadline);
  }
  if (c->deadline == 0)
    return;
  if (now < c->deadline) {
    eddy__http_set_deadline(c, kind, c->deadline);
    return;
  }
  c->deadline = 0;
  switch (kind) {
  case EDDY__HDL_IDLE:
    close_graceful(c); /* nothing to answer */
    break;
  case EDDY__HDL_HEAD:
    fail_request(c, EDDY_ETIMEDOUT, 408);
    break;
  case EDDY__HDL_BODY:
    if ((c->flags & (EDDY__HC_EXCHANGE | EDDY__HC_BODY_DONE)) ==
        EDDY__HC_EXCHANGE)
      eddy__http_body_fail(c, EDDY_ETIMEDOUT);
    break;
  case EDDY__HDL_LINGER:
    conn_destroy(c, 0);
    break;
  }
  if (!(c->flags & EDDY__HC_DEAD))
    update_reading(c);
}

/* ---- accepting ---------------------------------------------------------- */

static void on_reject_closed(eddy_handle_t *h) {
  eddy_http_server_t *server = h->data;

  server->priv.reject_busy = 0;
  server_maybe_closed(server);
}

/* No memory for a connection: take it anyway and close it, so the
 * listener keeps accepting (a connection left waiting stops it). */
static void reject_connection(eddy_http_server_t *server) {
  server_error(server, EDDY_ENOMEM);
  if (server->priv.reject_busy)
    return;
  eddy_tcp_init(server->loop, &server->priv.reject);
  server->priv.reject.stream.handle.data = server;
  eddy_accept(&server->tcp.stream, &server->priv.reject.stream);
  server->priv.reject_busy = 1;
  eddy_close(&server->priv.reject.stream.handle, on_reject_closed);
}

static struct eddy__http_conn *conn_new(eddy_http_server_t *server) {
  struct eddy__http_conn *c;

  c = malloc(sizeof(*c));
  if (c == NULL)
    return NULL;
  memset(c, 0, sizeof(*c));
  c->rmax =
      server->opts.limits.header_max + 4096 + 2 * EDDY_HTTP_MAX_EMPTY_LINES;
  if (c->rmax < EDDY__HTTP_RBUF_INIT)
    c->rmax = EDDY__HTTP_RBUF_INIT;
  c->server = server;
  /* The request comes with the read state (rstate_acquire); ex.req is set
   * when one is dispatched. */
  c->ex.server = server;
  return c;
}

static void on_connection(eddy_stream_t *listener, int status) {
  eddy_http_server_t *server = listener->handle.data;
  struct eddy__http_conn *c;
  int err;

  if (status != 0) {
    server_error(server, status);
    return; /* EMFILE and friends: the stream layer keeps listening */
  }
  c = conn_new(server);
  if (c != NULL && eddy_timer_init(server->loop, &c->timer) != 0) {
    free(c);
    c = NULL;
  }
  if (c == NULL) {
    reject_connection(server);
    return;
  }
  eddy__queue_insert_tail(&server->priv.conns, &c->node);
  server->priv.nconns++;
  eddy_tcp_init(server->loop, &c->tcp);
  c->tcp.stream.handle.data = c;
  c->timer.handle.data = c;
  c->refs = 2;
  err = eddy_accept(listener, &c->tcp.stream);
  if (err != 0) {
    eddy__http_conn_fail(c, err);
    return;
  }
  eddy_tcp_nodelay(&c->tcp, 1); /* responses go out at once */
  c->head_start = loop_now(c);
  if (server->opts.header_timeout != 0)
    eddy__http_set_deadline(c, EDDY__HDL_IDLE,
                            c->head_start + server->opts.header_timeout);
  update_reading(c);
}

/* ---- the server --------------------------------------------------------- */

int eddy_http_server_init(eddy_loop_t *loop, eddy_http_server_t *server,
                          const eddy_http_server_options_t *opts,
                          eddy_http_request_cb on_request) {
  int err;

  if (loop == NULL || server == NULL || on_request == NULL)
    return EDDY_EINVAL;
  if (opts == NULL)
    opts = &default_options;
  if (opts->write_high_water == 0 || opts->limits.header_max == 0 ||
      opts->limits.target_max == 0 || opts->limits.headers_max == 0)
    return EDDY_EINVAL;
  memset(server, 0, sizeof(*server));
  server->loop = loop;
  server->opts = *opts;
  if (server->opts.backlog <= 0)
    server->opts.backlog = 511;
  /* The read buffer must hold a whole head: keep it within reason. */
  if (server->opts.limits.header_max > ((size_t)1 << 30))
    server->opts.limits.header_max = (size_t)1 << 30;
  server->on_request = on_request;
  eddy__queue_init(&server->priv.conns);
  err = eddy_tcp_init(loop, &server->tcp);
  if (err != 0)
    return err;
  server->tcp.stream.handle.data = server;
  return 0;
}

int eddy_http_server_listen(eddy_http_server_t *server,
                            const struct sockaddr *addr, unsigned flags) {
  int err;

  if (server->priv.closing || addr == NULL)
    return EDDY_EINVAL;
  err = eddy_tcp_bind(&server->tcp, addr, flags);
  if (err != 0)
    return err;
  return eddy_listen(&server->tcp.stream, server->opts.backlog, on_connection);
}

int eddy_http_server_getsockname(const eddy_http_server_t *server,
                                 struct sockaddr *name, int *namelen) {
  return eddy_tcp_getsockname(&server->tcp, name, namelen);
}

static void on_listener_closed(eddy_handle_t *h) {
  eddy_http_server_t *server = h->data;

  server->priv.listener_closed = 1;
  server_maybe_closed(server);
}

int eddy_http_server_close(eddy_http_server_t *server,
                           eddy_http_server_close_cb cb) {
  eddy_queue_t *q;

  if (server->priv.closing)
    return EDDY_EINVAL;
  server->priv.closing = 1;
  server->priv.close_cb = cb;
  eddy_close(&server->tcp.stream.handle, on_listener_closed);
  for (q = server->priv.conns.next; q != &server->priv.conns; q = q->next) {
    struct eddy__http_conn *c =
        eddy__container_of(q, struct eddy__http_conn, node);

    if (c->flags & (EDDY__HC_DEAD | EDDY__HC_CLOSING))
      continue;
    if (c->flags & EDDY__HC_EXCHANGE)
      c->flags |= EDDY__HC_CLOSE_AFTER;
    else if (c->requests == 0 || c->rlen > c->rpos)
      continue; /* its request is coming: dispatch sees closing */
    else if (server->opts.close_idle_timeout == 0)
      close_graceful(c);
    else if (c->deadline == 0 ||
             c->deadline > loop_now(c) + server->opts.close_idle_timeout)
      /* its next request may be on the way: answer it, with close */
      eddy__http_set_deadline(c, EDDY__HDL_IDLE,
                              loop_now(c) + server->opts.close_idle_timeout);
  }
  return 0;
}
