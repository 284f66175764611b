/* server_internal.h: what the HTTP server's files share: server.c runs
 * connections (reading, parsing, dispatching, deadlines, closing),
 * request.c hands out request bodies, response.c writes responses. */
#ifndef EDDY_HTTP_SERVER_INTERNAL_H
#define EDDY_HTTP_SERVER_INTERNAL_H

#include <assert.h>

#include "core/queue.h"
#include "eddy/http_server.h"
#include "eddy/stream.h"
#include "eddy/timer.h"

/* Connection flags (conn->flags). */
enum {
  EDDY__HC_EXCHANGE = 1u << 0,    /* a request was dispatched, not finished */
  EDDY__HC_USER = 1u << 1,        /* the handler holds it: response not ended */
  EDDY__HC_BODY_DONE = 1u << 2,   /* the request body ended (or none) */
  EDDY__HC_READING = 1u << 3,     /* eddy_read_start is in force */
  EDDY__HC_PROCESSING = 1u << 4,  /* inside conn_process (no re-entry) */
  EDDY__HC_CLOSE_AFTER = 1u << 5, /* close once the exchange is done */
  EDDY__HC_PEER_EOF = 1u << 6,    /* the peer shut its write side */
  EDDY__HC_CLOSING = 1u << 7,     /* graceful close under way */
  EDDY__HC_SHUT = 1u << 8,        /* our write side is shut */
  EDDY__HC_DEAD = 1u << 9,        /* handles closing; no more I/O */
  EDDY__HC_CONTINUE_SENT = 1u << 10, /* "100 Continue" went out */
  EDDY__HC_HEAD = 1u << 11,          /* the request is a HEAD: no body sent */
  EDDY__HC_DRAIN_WANTED = 1u << 12,  /* res_write returned EDDY_HTTP_DRAIN */
  EDDY__HC_PAUSED_WQ = 1u << 13,     /* write queue over the high water mark */
  EDDY__HC_BODY_PAUSED = 1u << 14,   /* eddy_http_body_pause */
  EDDY__HC_TICK = 1u << 15,          /* a conn_process tick is queued */
  EDDY__HC_HEAD_PENDING = 1u << 16,  /* res_start's head waits in hbuf */
  EDDY__HC_END_PENDING = 1u << 17    /* body asked for after it ended */
};

/* What the request body is doing (conn->body_mode). */
enum {
  EDDY__HB_WAIT = 0, /* not asked for: bytes wait in the buffer */
  EDDY__HB_STREAM,   /* eddy_http_body_read */
  EDDY__HB_BUFFER,   /* eddy_http_body_buffer */
  EDDY__HB_DISCARD   /* response ended first: read and drop */
};

/* The response (conn->res_state, conn->res_framing). */
enum { EDDY__HR_NONE = 0, EDDY__HR_STARTED, EDDY__HR_ENDED };
enum {
  EDDY__HF_LENGTH = 0, /* Content-Length */
  EDDY__HF_CHUNKED,    /* Transfer-Encoding: chunked */
  EDDY__HF_CLOSE,      /* HTTP/1.0, length unknown: ends with the close */
  EDDY__HF_NONE        /* 204/304: no body at all */
};

/* A queued write: bytes the socket did not take at once, copied. Blocks of
 * the standard size are recycled through the server's free list. */
struct eddy__http_block {
  eddy_write_t req;
  struct eddy__http_conn *conn;
  struct eddy__http_block *next; /* free list */
  size_t cap;
  char data[];
};

#define EDDY__HTTP_BLOCK_SIZE 16384 /* data bytes of a standard block */
#define EDDY__HTTP_FREE_BLOCKS 64   /* blocks kept per server */
#define EDDY__HTTP_RBUF_INIT 4096   /* first read buffer */
#define EDDY__HTTP_BODY_ROOM 1024   /* room after a head whose body comes */
#define EDDY__HTTP_FREE_RSTATES 256 /* read states kept per server */
#define EDDY__HTTP_HBUF_INIT 512    /* response head scratch, in rstate */

/* The read state: one mapping, recycled per server. After the header
 * array (limits.headers_max slots, at most 100,000) come the first read
 * buffer (EDDY__HTTP_RBUF_INIT bytes) and the response head scratch
 * (EDDY__HTTP_HBUF_INIT). */
struct eddy__http_rstate {
  eddy_http_request_t req;
  eddy_http_chunked_decoder_t dec;
  eddy_http_header_t headers[];
};

struct eddy__http_conn {
  eddy_http_exchange_t ex; /* the one exchange of this connection */
  eddy_http_server_t *server;
  eddy_tcp_t tcp;
  eddy_timer_t timer;
  eddy_shutdown_t shutdown_req;
  eddy_queue_t node; /* server->priv.conns */
  unsigned flags;
  int refs;  /* handles (tcp, timer) not closed yet, + notifications */
  int error; /* why the connection died, once DEAD */
  unsigned requests;

  /* Read state, held only while there is input or an exchange (rbuf
   * points into it until a long head needs a bigger one). An idle
   * keep-alive connection holds none of it; rstate and preq
   * (&rstate->req) are NULL then. */
  struct eddy__http_rstate *rstate;
  eddy_http_request_t *preq;
  /* Read buffer: [pin] bytes hold the current head while an exchange is
   * live; [rpos, rlen) is unconsumed input; [rlen, rcap) is free. */
  char *rbuf;
  size_t rcap, rpos, rlen, pin;
  size_t rmax;         /* largest rcap: header_max plus room */
  uint64_t head_start; /* loop time of the first byte of this request */

  /* One timer for every deadline; it may be armed earlier than deadline
   * (then it re-arms itself), never later. */
  uint64_t deadline;  /* loop time, 0: none */
  uint64_t timer_due; /* when the timer is armed for, 0: not armed */
  int deadline_kind;
  /* Queued response bytes must make progress by then (send_timeout); kept
   * apart because it runs alongside the other deadlines. 0: none. */
  uint64_t send_deadline;
  uint64_t send_queued; /* bytes ever handed to eddy_write */
  uint64_t send_mark;   /* bytes written when send_deadline was set */

  /* Request body. */
  int body_mode;
  int body_error;     /* latched error, reported when the body is asked for */
  uint64_t body_left; /* Content-Length bytes still to come */
  eddy_http_body_data_cb on_data;
  eddy_http_body_end_cb on_end;
  char *bbuf; /* eddy_http_body_buffer's buffer */
  size_t bcap, blen, bmax;

  /* Response. */
  int res_state;
  int res_framing;
  uint64_t res_left; /* Content-Length bytes still to write */
  eddy_http_drain_cb on_drain;
  eddy_http_abort_cb on_abort;
  /* Head scratch: the read state's (eddy__http_hsmall, so an idle
   * connection holds none) or the heap once a head needed more; NULL while
   * neither. */
  char *hbuf;
  size_t hcap, hlen;
  char line[24]; /* a chunk-size line */
};

#define eddy__http_conn_of(ex)                                                 \
  eddy__container_of((ex), struct eddy__http_conn, ex)

/* The read state's first read buffer and its head scratch; NULL without a
 * read state. */
static inline char *eddy__http_rbuf_inline(const struct eddy__http_conn *c) {
  return c->rstate == NULL
             ? NULL
             : (char *)(c->rstate->headers + c->preq->max_headers);
}

static inline char *eddy__http_hsmall(const struct eddy__http_conn *c) {
  return c->rstate == NULL ? NULL
                           : eddy__http_rbuf_inline(c) + EDDY__HTTP_RBUF_INIT;
}

/* Flags that belong to one exchange: set only while EDDY__HC_EXCHANGE is,
 * and cleared with it (exchange_finish). */
#define EDDY__HC_PER_EXCHANGE                                                  \
  (EDDY__HC_USER | EDDY__HC_HEAD | EDDY__HC_CONTINUE_SENT |                    \
   EDDY__HC_BODY_PAUSED | EDDY__HC_HEAD_PENDING | EDDY__HC_DRAIN_WANTED |      \
   EDDY__HC_END_PENDING)

/* What holds for a connection between any two events: its references, the
 * combinations of its flags and the layout of its read buffer. Checked
 * where the state changes (assert: not in release builds). */
static inline void eddy__http_conn_check(const struct eddy__http_conn *c) {
  (void)c; /* with NDEBUG nothing below remains */
  /* Both handles stay open (2 references) until the connection dies. */
  assert(c->refs >= 0 && c->refs <= 2);
  assert((c->flags & EDDY__HC_DEAD) || c->refs == 2);
  assert((c->flags & EDDY__HC_EXCHANGE) || !(c->flags & EDDY__HC_PER_EXCHANGE));
  /* Reading stops when the connection dies or the peer's side ends. */
  assert(!(c->flags & EDDY__HC_READING) ||
         !(c->flags & (EDDY__HC_DEAD | EDDY__HC_PEER_EOF)));
  assert(!(c->flags & EDDY__HC_SHUT) || (c->flags & EDDY__HC_CLOSING));
  /* [0, pin) the head in use, [rpos, rlen) input, [rlen, rcap) free. */
  assert(c->pin <= c->rpos && c->rpos <= c->rlen && c->rlen <= c->rcap);
  assert(c->rcap <= c->rmax);
  assert((c->flags & EDDY__HC_EXCHANGE) || c->pin == 0);
  assert(c->rstate != NULL ||
         (c->preq == NULL && c->rbuf == NULL && c->rcap == 0));
  assert(c->rstate == NULL || (c->preq == &c->rstate->req && c->rbuf != NULL));
  assert(!(c->flags & EDDY__HC_EXCHANGE) || c->rstate != NULL);
  assert((c->flags & EDDY__HC_EXCHANGE) ||
         (c->res_state == EDDY__HR_NONE && c->body_mode == EDDY__HB_WAIT));
}

/* Deadlines (conn->deadline_kind). */
enum {
  EDDY__HDL_IDLE = 1, /* between requests: close */
  EDDY__HDL_HEAD,     /* head incomplete: 408 */
  EDDY__HDL_BODY,     /* body incomplete: the body fails, EDDY_ETIMEDOUT */
  EDDY__HDL_LINGER    /* graceful close: close now */
};

/* response.c */
int eddy__http_send(struct eddy__http_conn *c, const eddy_buf_t *bufs,
                    unsigned n);
int eddy__http_send_continue(struct eddy__http_conn *c);
void eddy__http_send_error(struct eddy__http_conn *c, int status);
void eddy__http_blocks_free(eddy_http_server_t *server);

/* request.c */
void eddy__http_feed_body(struct eddy__http_conn *c);
void eddy__http_body_done(struct eddy__http_conn *c);
void eddy__http_body_fail(struct eddy__http_conn *c, int err);

/* server.c */
void eddy__http_set_deadline(struct eddy__http_conn *c, int kind, uint64_t at);
void eddy__http_clear_deadline(struct eddy__http_conn *c, int kind);
void eddy__http_kick(struct eddy__http_conn *c);
void eddy__http_exchange_maybe_finish(struct eddy__http_conn *c);
void eddy__http_conn_fail(struct eddy__http_conn *c, int err);
void eddy__http_wrote(struct eddy__http_conn *c, int status);
void eddy__http_send_queued(struct eddy__http_conn *c);
void eddy__http_response_ended(struct eddy__http_conn *c);
void eddy__http_client_error(struct eddy__http_conn *c, int err, int status);

#endif /* EDDY_HTTP_SERVER_INTERNAL_H */
