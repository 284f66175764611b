/* request.c: the request side of an exchange: header lookup and the body,
 * streamed to the handler, collected for it, or dropped.
 *
 * Body bytes wait in the connection's read buffer until the handler asks
 * for them; server.c's conn_process() then calls eddy__http_feed_body(),
 * the only place that hands them out, so handler callbacks never nest and
 * never run inside a call of the API. */
#include <stdlib.h>
#include <string.h>

#include "http_chars.h"
#include "server_internal.h"

const eddy_http_header_t *eddy_http_find_header(const eddy_http_request_t *req,
                                                const char *name) {
  size_t n = strlen(name), i;

  for (i = 0; i < req->num_headers; i++) {
    const eddy_http_header_t *h = &req->headers[i];

    if (eddy__http_equals_ci(h->name, h->name_len, name, n))
      return h;
  }
  return NULL;
}

int eddy_http_getpeername(const eddy_http_exchange_t *ex, struct sockaddr *name,
                          int *namelen) {
  const struct eddy__http_conn *c = eddy__http_conn_of(ex);

  return eddy_tcp_getpeername(&c->tcp, name, namelen);
}

/* ---- ending the body ---------------------------------------------------- */

static int handler_reads(const struct eddy__http_conn *c) {
  return (c->flags & EDDY__HC_USER) &&
         (c->body_mode == EDDY__HB_STREAM || c->body_mode == EDDY__HB_BUFFER);
}

/* The body cannot be read to its end: tell the reader, and close the
 * connection after the exchange (what follows means nothing). */
void eddy__http_body_fail(struct eddy__http_conn *c, int err) {
  c->flags |= EDDY__HC_BODY_DONE | EDDY__HC_CLOSE_AFTER;
  c->flags &= ~EDDY__HC_END_PENDING;
  c->rpos = c->rlen;
  eddy__http_clear_deadline(c, EDDY__HDL_BODY);
  eddy__http_client_error(c, err, 0);
  if (handler_reads(c))
    c->on_end(&c->ex, err);
  eddy__http_exchange_maybe_finish(c);
}

void eddy__http_body_done(struct eddy__http_conn *c) {
  c->flags |= EDDY__HC_BODY_DONE;
  c->flags &= ~EDDY__HC_END_PENDING;
  eddy__http_clear_deadline(c, EDDY__HDL_BODY);
  if (c->body_mode == EDDY__HB_BUFFER) {
    c->ex.body = c->bbuf != NULL ? c->bbuf : "";
    c->ex.body_len = c->blen;
  }
  if (handler_reads(c))
    c->on_end(&c->ex, 0);
  eddy__http_exchange_maybe_finish(c);
}

/* ---- feeding ------------------------------------------------------------ */

/* Hands one span of decoded body to whoever reads it. */
static void deliver(struct eddy__http_conn *c, const char *data, size_t n) {
  char *p;
  size_t cap;

  if ((c->flags & (EDDY__HC_DEAD | EDDY__HC_BODY_DONE)) || n == 0)
    return;
  if (c->body_mode == EDDY__HB_STREAM) {
    if (c->on_data != NULL)
      c->on_data(&c->ex, data, n);
    return;
  }
  if (c->body_mode != EDDY__HB_BUFFER)
    return; /* dropped */
  if (n > c->bmax - c->blen) {
    eddy__http_body_fail(c, EDDY_HTTP_E_BODY_TOO_LARGE);
    return;
  }
  if (c->blen + n > c->bcap) {
    for (cap = c->bcap ? c->bcap : 1024; cap < c->blen + n;)
      cap *= 2;
    p = realloc(c->bbuf, cap);
    if (p == NULL) {
      eddy__http_body_fail(c, EDDY_ENOMEM);
      return;
    }
    c->bbuf = p;
    c->bcap = cap;
  }
  memcpy(c->bbuf + c->blen, data, n);
  c->blen += n;
}

static void on_chunk_data(void *arg, const char *data, size_t len) {
  deliver(arg, data, len);
}

/* Still the same live exchange, still reading its body? A callback may
 * have ended it, failed it or closed the connection. */
static int body_live(const struct eddy__http_conn *c) {
  return (c->flags & (EDDY__HC_EXCHANGE | EDDY__HC_BODY_DONE | EDDY__HC_DEAD |
                      EDDY__HC_CLOSING)) == EDDY__HC_EXCHANGE;
}

/* Feed the buffered body bytes to the reader (or drop them), until they
 * run out, the body ends, or the reader pauses. */
void eddy__http_feed_body(struct eddy__http_conn *c) {
  if (c->body_error != 0 && body_live(c)) {
    int err = c->body_error;
    c->body_error = 0;
    eddy__http_body_fail(c, err);
    return;
  }
  while (body_live(c) && c->body_mode != EDDY__HB_WAIT &&
         !(c->flags & EDDY__HC_BODY_PAUSED)) {
    const char *data = c->rbuf + c->rpos;
    size_t avail = c->rlen - c->rpos;

    if (avail == 0) {
      if (c->flags & EDDY__HC_PEER_EOF)
        eddy__http_body_fail(c, EDDY_EOF);
      return;
    }
    if (c->preq->body == EDDY_HTTP_BODY_LENGTH) {
      size_t n = avail < c->body_left ? avail : (size_t)c->body_left;

      c->rpos += n; /* consumed before the callback sees it */
      c->body_left -= n;
      deliver(c, data, n);
      if (c->body_left == 0 && body_live(c))
        eddy__http_body_done(c);
    } else {
      int r = eddy_http_chunked_decode(&c->rstate->dec, data, avail,
                                       on_chunk_data, c);

      if (!body_live(c))
        return; /* a callback ended it; the offsets are not ours now */
      if (r == EDDY_HTTP_INCOMPLETE) {
        c->rpos = c->rlen;
      } else if (r >= 0) {
        c->rpos += (size_t)r;
        eddy__http_body_done(c);
      } else {
        eddy__http_body_fail(c, r);
      }
    }
    if (body_live(c) && c->rpos == c->rlen)
      c->rpos = c->rlen = c->pin;
  }
}

/* ---- the body API ------------------------------------------------------- */

static int body_start(eddy_http_exchange_t *ex, int mode,
                      eddy_http_body_data_cb on_data,
                      eddy_http_body_end_cb on_end) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);
  uint64_t timeout = c->server->opts.request_timeout;

  if (on_end == NULL || !(c->flags & EDDY__HC_USER) ||
      c->body_mode != EDDY__HB_WAIT)
    return EDDY_EINVAL;
  if (c->flags & EDDY__HC_DEAD)
    return c->error;
  c->body_mode = mode;
  c->on_data = on_data;
  c->on_end = on_end;
  if (c->flags & EDDY__HC_BODY_DONE) {
    c->flags |= EDDY__HC_END_PENDING; /* reported from the loop */
  } else {
    if (c->preq->expect_continue && c->res_state == EDDY__HR_NONE &&
        !(c->flags & EDDY__HC_CONTINUE_SENT)) {
      int err = eddy__http_send_continue(c);
      if (err != 0)
        return err;
    }
    if (timeout != 0)
      eddy__http_set_deadline(c, EDDY__HDL_BODY,
                              eddy_now(c->server->loop) + timeout);
  }
  eddy__http_kick(c);
  return 0;
}

int eddy_http_body_read(eddy_http_exchange_t *ex,
                        eddy_http_body_data_cb on_data,
                        eddy_http_body_end_cb on_end) {
  return body_start(ex, EDDY__HB_STREAM, on_data, on_end);
}

int eddy_http_body_buffer(eddy_http_exchange_t *ex, size_t max,
                          eddy_http_body_end_cb on_end) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);
  uint64_t limit = c->server->opts.limits.body_max;
  int err;

  if (max == 0)
    max = limit != 0 && limit < SIZE_MAX ? (size_t)limit : SIZE_MAX;
  err = body_start(ex, EDDY__HB_BUFFER, NULL, on_end);
  if (err != 0)
    return err;
  c->bmax = max;
  c->blen = 0;
  /* A Content-Length over the limit fails before any byte is read. */
  if (c->preq->body == EDDY_HTTP_BODY_LENGTH && c->body_left > max &&
      !(c->flags & EDDY__HC_BODY_DONE))
    c->body_error = EDDY_HTTP_E_BODY_TOO_LARGE;
  return 0;
}

int eddy_http_body_pause(eddy_http_exchange_t *ex) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);

  if (!handler_reads(c))
    return EDDY_EINVAL;
  c->flags |= EDDY__HC_BODY_PAUSED;
  /* The handler's time, not the client's: no deadline while paused. */
  eddy__http_clear_deadline(c, EDDY__HDL_BODY);
  return 0;
}

int eddy_http_body_resume(eddy_http_exchange_t *ex) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);
  uint64_t timeout = c->server->opts.request_timeout;

  if (!handler_reads(c))
    return EDDY_EINVAL;
  if (!(c->flags & EDDY__HC_BODY_PAUSED))
    return 0;
  c->flags &= ~EDDY__HC_BODY_PAUSED;
  if (!(c->flags & (EDDY__HC_BODY_DONE | EDDY__HC_DEAD)) && timeout != 0)
    eddy__http_set_deadline(c, EDDY__HDL_BODY,
                            eddy_now(c->server->loop) + timeout);
  eddy__http_kick(c);
  return 0;
}
