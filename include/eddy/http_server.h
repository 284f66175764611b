/* eddy/http_server.h: an HTTP/1.1 server on TCP streams.
 *
 * A server listens on one TCP socket and calls the request callback once per
 * request with an exchange: the parsed request head (ex->req, see
 * eddy/http_parser.h) and the response to give. The handler answers at once
 * or later (after a timer, a pool job...): the exchange stays valid until the
 * handler ends the response, and it MUST end it exactly once, with
 * eddy_http_respond() or eddy_http_res_end(), even after an error (the call
 * then returns the error and only releases the exchange).
 *
 *   static void on_request(eddy_http_server_t *srv, eddy_http_exchange_t *ex) {
 *     static const eddy_http_field_t type = {"Content-Type", "text/plain"};
 *     eddy_http_respond(ex, 200, &type, 1, "hello\n", 6);
 *   }
 *   eddy_http_server_init(loop, &srv, NULL, on_request);
 *   eddy_http_server_listen(&srv, (struct sockaddr *)&addr, 0);
 *
 * Connections (RFC 9112 §9): HTTP/1.1 keeps the connection open unless the
 * request says "Connection: close"; HTTP/1.0 only with "Connection:
 * keep-alive". Requests on one connection are handled one at a time, in
 * order, as nginx does: a pipelined request waits, parsed later from the
 * connection's buffer, until the response before it has been ended, so
 * responses can never be reordered and a client cannot make the server hold
 * more than one exchange per connection. (Node dispatches pipelined requests
 * at once and queues their responses; the order seen by the client is the
 * same.) Once the buffer is full, reading stops until the exchange is done.
 *
 * Request bodies stay in the connection until the handler asks for them:
 * streamed with eddy_http_body_read() (decoded chunks as they arrive) or
 * collected with eddy_http_body_buffer(). Asking for the body sends
 * "100 Continue" first when the client expects it. A body the handler did
 * not read is read and dropped once the response is ended, so the connection
 * can serve the next request (if the client was still waiting for a 100
 * Continue, the connection is closed instead). Once the response is ended,
 * no callback of that exchange runs again: body bytes still coming are
 * dropped.
 *
 * Responses: eddy_http_respond() sends status, fields and a whole body in
 * one write; eddy_http_res_start/res_write/res_end stream a body with a
 * Content-Length, or chunked when the length is not known (close-delimited
 * for HTTP/1.0). The server adds Date (cached, refreshed once a second),
 * Content-Length or Transfer-Encoding, and Connection when it closes or
 * keeps an HTTP/1.0 connection open. Data given to these calls is written
 * at once when the socket takes it, else copied: the caller's buffers are
 * free again when the call returns. For HEAD the body is dropped and the
 * Content-Length the GET would carry is kept.
 *
 * Backpressure: a connection stops reading, and parses no new request,
 * while its write queue holds more than write_high_water bytes; it resumes
 * below half of that. eddy_http_res_write() returns EDDY_HTTP_DRAIN when the
 * queue is above the mark after the write: stop writing and wait for the
 * drain callback (eddy_http_on_drain), as with Node's write() === false.
 *
 * Errors from a peer never stop the server. A malformed request, a head over
 * a limit, or a head deadline passed gets the status of
 * eddy_http_error_status() (400, 408, 413, 414, 417, 431, 501, 505) with
 * "Connection: close", then a graceful close: the write side is shut once
 * the response is written, input is read and dropped until the peer closes
 * or linger_timeout passes, then the socket is closed (never a reset that
 * could destroy the response in flight). on_client_error, when set, hears of
 * each such error. A connection lost while a handler holds an exchange is
 * reported to the handler's callbacks (body end, drain, abort) with the
 * error; the handler still ends the exchange.
 *
 * Not supported: protocol upgrades and CONNECT tunnels (the handler gets the
 * request like any other), trailers in responses. A client that stops
 * reading holds at most write_high_water bytes plus one response, and for
 * at most send_timeout.
 *
 * Threads: a server and its exchanges belong to the loop's thread; every
 * function here must be called there. Callbacks run there too.
 */
#ifndef EDDY_HTTP_SERVER_H
#define EDDY_HTTP_SERVER_H

#include "export.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http_parser.h"
#include "loop.h"
#include "tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* eddy_http_res_write(): accepted, but the write queue is above the high
 * water mark: wait for the drain callback before writing more. */
#define EDDY_HTTP_DRAIN 1

/* eddy_http_res_start(): the body length is not known in advance. */
#define EDDY_HTTP_LENGTH_UNKNOWN (-1)

typedef struct eddy_http_server_s eddy_http_server_t;
typedef struct eddy_http_exchange_s eddy_http_exchange_t;
struct eddy__http_block;

/* A response header field: NUL-terminated name and value, copied by the
 * call that takes them. */
typedef struct eddy_http_field {
  const char *name;
  const char *value;
} eddy_http_field_t;

/* A request head is complete; ex->req holds it. */
typedef void (*eddy_http_request_cb)(eddy_http_server_t *server,
                                     eddy_http_exchange_t *ex);
/* A peer's error, for logging: err is an EDDY_HTTP_E_* parser code,
 * EDDY_ETIMEDOUT (a deadline passed), EDDY_EOF (the peer closed in the
 * middle of a request), a socket error (EDDY_ECONNRESET, EDDY_EPIPE...) or
 * an accept error (EDDY_EMFILE: the server keeps listening). status is the
 * HTTP status sent for it, 0 when none was. */
typedef void (*eddy_http_client_error_cb)(eddy_http_server_t *server, int err,
                                          int status);
typedef void (*eddy_http_server_close_cb)(eddy_http_server_t *server);
/* A span of request body, decoded; valid during the call only. */
typedef void (*eddy_http_body_data_cb)(eddy_http_exchange_t *ex,
                                       const char *data, size_t len);
/* The body ended: status 0, or the error that ended it (an EDDY_HTTP_E_*
 * code for a malformed chunked body or one over the limit, EDDY_EOF when the
 * peer closed first, EDDY_ETIMEDOUT after request_timeout, a socket error).
 * After an error the connection closes once the response is ended; answer
 * with eddy_http_error_status(status) (408 for EDDY_ETIMEDOUT) if no
 * response was started. */
typedef void (*eddy_http_body_end_cb)(eddy_http_exchange_t *ex, int status);
/* After EDDY_HTTP_DRAIN: 0 when the queue went below half the high water
 * mark (write more), or the error that broke the connection. */
typedef void (*eddy_http_drain_cb)(eddy_http_exchange_t *ex, int status);
/* The connection was lost before the response was ended. */
typedef void (*eddy_http_abort_cb)(eddy_http_exchange_t *ex, int err);

/* Limits and timeouts. Start from EDDY_HTTP_SERVER_OPTIONS_INIT or
 * eddy_http_server_options_default(); each field's comment gives
 * its default. A timeout of 0 disables it. */
typedef struct eddy_http_server_options {
  /* Parser limits (eddy/http_parser.h): header block 16 KiB (431),
   * request-target 8 KiB (414), 100 fields (431), body 1 MiB (413), chunk
   * extensions 16 KiB (413). */
  eddy_http_limits_t limits;
  /* From the first byte of a request until its head is complete, in ms;
   * trickling bytes does not extend it. Passed: 408 and close. Also how
   * long a new connection may stay silent (then closed without a
   * response). Default 60000. */
  uint64_t header_timeout;
  /* Time allowed for a request body to arrive, in ms, counted from when
   * the server starts reading it (the handler asked for it, or the
   * response was ended and the rest is being dropped); not while the
   * handler has not asked or has paused. Passed: the body ends with
   * EDDY_ETIMEDOUT and the connection closes after the response. Default
   * 300000 (Node's requestTimeout). */
  uint64_t request_timeout;
  /* Idle time allowed between two requests on a kept-alive connection, in
   * ms; then the connection is closed. Default 5000 (Node). */
  uint64_t keepalive_timeout;
  /* Graceful close: how long to read and drop input after the write side
   * was shut, waiting for the peer to close, in ms. Default 5000 (nginx's
   * lingering_timeout). 0 closes as soon as the response is written. */
  uint64_t linger_timeout;
  /* Requests served on one connection; the last response carries
   * "Connection: close". 0 (the default) means no limit. */
  unsigned max_requests;
  /* Bytes queued for writing above which a connection stops reading and
   * res_write returns EDDY_HTTP_DRAIN. Default 65536; at least 1. */
  size_t write_high_water;
  /* listen(2) backlog. Default 511. */
  int backlog;
  /* How long queued response bytes may wait with not one of them written,
   * in ms (a client that stops reading); then the connection is closed at
   * once, the exchange's abort callback gets EDDY_ETIMEDOUT and
   * on_client_error hears of it. Any byte written starts the count again
   * (checked when it runs out). Default 60000 (nginx's send_timeout). */
  uint64_t send_timeout;
  /* eddy_http_server_close: how long an idle keep-alive connection may
   * still send one request, in ms; that request is answered with
   * "Connection: close", and a connection that sends none is closed when
   * the time is up. A client that sends its next request just as the
   * server closes (the close would otherwise race it, and the client
   * would see a reset) is answered instead. Default 1000; 0 closes idle
   * connections at once. */
  uint64_t close_idle_timeout;
} eddy_http_server_options_t;

#define EDDY_HTTP_SERVER_OPTIONS_INIT                                          \
  { EDDY_HTTP_LIMITS_INIT, 60000, 300000, 5000, 5000, 0, 65536, 511, 60000, 1000 }

/* Returns the defaults (the values of EDDY_HTTP_SERVER_OPTIONS_INIT). */
EDDY_EXTERN eddy_http_server_options_t eddy_http_server_options_default(void);

struct eddy_http_server_s {
  void *data;        /* yours */
  eddy_loop_t *loop; /* read only */
  eddy_tcp_t tcp;    /* the listening socket (getsockname, ...) */
  eddy_http_request_cb on_request;
  eddy_http_client_error_cb on_client_error; /* optional; set it freely */
  eddy_http_server_options_t opts;           /* read only after init */
  struct {
    eddy_queue_t conns; /* every connection not yet freed */
    unsigned nconns;
    int closing;
    int listener_closed;
    eddy_http_server_close_cb close_cb;
    eddy_tcp_t reject; /* takes a connection there is no memory for */
    int reject_busy;
    struct eddy__http_block *free_blocks; /* recycled write buffers */
    unsigned nfree_blocks;
    void *free_rstates; /* recycled read states (header array + buffer) */
    unsigned nfree_rstates;
    uint64_t date_next; /* loop time when the Date line goes stale */
    size_t date_len;
    char date[48]; /* "Date: ...\r\n" */
  } priv;
};

/* One request and its response. Lives inside the server's connection; valid
 * from the request callback until the response is ended. */
struct eddy_http_exchange_s {
  void *data;                 /* yours; NULL at the request callback */
  eddy_http_server_t *server; /* read only */
  /* The head: pointers into the connection's buffer, valid until the
   * response is ended. */
  const eddy_http_request_t *req;
  /* The body, after eddy_http_body_buffer() ended with status 0; valid
   * until the response is ended. */
  const char *body;
  size_t body_len;
};

/* ---- the server --------------------------------------------------------- */

/* Initialise a server on loop: its TCP handle, options (NULL: defaults,
 * copied) and the request callback (required). Returns 0 or EDDY_EINVAL
 * (NULL on_request, write_high_water 0, or limits.header_max,
 * limits.target_max or limits.headers_max of 0). Nothing is allocated. */
EDDY_EXTERN int eddy_http_server_init(eddy_loop_t *loop,
                                      eddy_http_server_t *server,
                                      const eddy_http_server_options_t *opts,
                                      eddy_http_request_cb on_request);

/* Bind to addr (sockaddr_in or sockaddr_in6; port 0 picks a free one) and
 * start accepting. flags are eddy_tcp_bind's (EDDY_TCP_REUSEPORT to share
 * the port with other processes, EDDY_TCP_IPV6ONLY). Returns 0 or the error
 * of bind/listen (EDDY_EADDRINUSE, EDDY_EINVAL, ...). */
EDDY_EXTERN int eddy_http_server_listen(eddy_http_server_t *server,
                                        const struct sockaddr *addr,
                                        unsigned flags);

/* The bound address (to learn the port picked for port 0); as
 * eddy_tcp_getsockname. */
EDDY_EXTERN int eddy_http_server_getsockname(const eddy_http_server_t *server,
                                             struct sockaddr *name,
                                             int *namelen);

/* Stop accepting and close the server gracefully: an idle keep-alive
 * connection may send one more request within close_idle_timeout (answered
 * with "Connection: close"), then closes; a connection in the middle of an exchange closes
 * once that response is written ("Connection: close" is added if its head
 * was not sent yet), and so does a connection that has not had its first
 * request yet or has one partly received: that request is still answered
 * (within the header timeout), so a client whose connection the server
 * accepted just before loses nothing (a rolling reload relies on it).
 * cb (may be NULL) runs once the listener and every connection are closed
 * (a handler that never ends its exchange delays it forever). The server's
 * memory may be reused after cb. Safe in any callback. Returns 0 or
 * EDDY_EINVAL (already closing). */
EDDY_EXTERN int eddy_http_server_close(eddy_http_server_t *server,
                                       eddy_http_server_close_cb cb);

/* ---- the request ------------------------------------------------------- */

/* The first header field named name (ASCII case-insensitive) of req, or
 * NULL. */
EDDY_EXTERN const eddy_http_header_t *
eddy_http_find_header(const eddy_http_request_t *req, const char *name);

/* The client's address, as eddy_tcp_getpeername. */
EDDY_EXTERN int eddy_http_getpeername(const eddy_http_exchange_t *ex,
                                      struct sockaddr *name, int *namelen);

/* Stream the body: on_data (may be NULL to drop the bytes) gets each
 * decoded span as it arrives, then on_end(ex, status) runs once (required).
 * A request without a body ends at once with 0. Callbacks never run inside
 * this call; they start from the loop (next tick). Sends "100 Continue"
 * first if the client asked for it and no response was started. Returns 0,
 * EDDY_EINVAL (on_end NULL, the body was asked for already, or the
 * response was ended), or the connection's error if it is gone. */
EDDY_EXTERN int eddy_http_body_read(eddy_http_exchange_t *ex,
                                    eddy_http_body_data_cb on_data,
                                    eddy_http_body_end_cb on_end);

/* Collect the whole body, at most max bytes (0: the server's body limit),
 * then run on_end(ex, status); with status 0, ex->body and ex->body_len
 * hold it. A larger body ends with EDDY_HTTP_E_BODY_TOO_LARGE (answer
 * 413). The buffer belongs to the connection and is reused. Same rules and
 * errors as eddy_http_body_read, plus EDDY_ENOMEM. */
EDDY_EXTERN int eddy_http_body_buffer(eddy_http_exchange_t *ex, size_t max,
                                      eddy_http_body_end_cb on_end);

/* Stop delivering the body (on_data may still get the rest of the bytes of
 * the current read); bytes wait in the connection, which stops reading when
 * its buffer is full. Resume delivers them. Both return 0, or EDDY_EINVAL
 * when the body is not being read. */
EDDY_EXTERN int eddy_http_body_pause(eddy_http_exchange_t *ex);
EDDY_EXTERN int eddy_http_body_resume(eddy_http_exchange_t *ex);

/* ---- the response ------------------------------------------------------ */

/* The whole response in one call: status (200-999; 1xx are refused),
 * nfields fields and a body of len bytes (body may be NULL when len is 0).
 * Content-Length is set to len (omitted for 204 and 304, which take no
 * body). Ends the response. fields must not name Content-Length or
 * Transfer-Encoding (the server frames the body); "Connection: close"
 * makes the connection close after this response; a Date field replaces
 * the server's. Returns 0; EDDY_EINVAL (bad status, a field with CR, LF or
 * NUL, a bad name, a framing field, a body with 204/304, or the response
 * was already started or ended: the exchange is then left as it was); or
 * the connection's error (EDDY_EPIPE, EDDY_ECONNRESET, ...) when it is
 * gone: the exchange is released all the same. */
EDDY_EXTERN int eddy_http_respond(eddy_http_exchange_t *ex, int status,
                                  const eddy_http_field_t *fields,
                                  size_t nfields, const void *body, size_t len);

/* Start a streamed response: content_length is the exact number of body
 * bytes to follow, or EDDY_HTTP_LENGTH_UNKNOWN for a chunked body (HTTP/1.1
 * clients) or one ended by closing the connection (HTTP/1.0 clients). The
 * head is sent with the first res_write or with res_end. Fields as for
 * eddy_http_respond. Returns 0 or EDDY_EINVAL (as eddy_http_respond; also a
 * content_length below -1). */
EDDY_EXTERN int eddy_http_res_start(eddy_http_exchange_t *ex, int status,
                                    const eddy_http_field_t *fields,
                                    size_t nfields, int64_t content_length);

/* Write len bytes of body (one chunk when chunked; len 0 writes nothing).
 * Returns 0 (write more), EDDY_HTTP_DRAIN (accepted; the write queue is
 * above write_high_water: wait for the drain callback), EDDY_EINVAL (no
 * response started, or more bytes than the Content-Length announced), or
 * the connection's error when it is gone. */
EDDY_EXTERN int eddy_http_res_write(eddy_http_exchange_t *ex, const void *data,
                                    size_t len);

/* End the response (the last chunk, for chunked ones) and release the
 * exchange. Without res_start it sends "200 OK" with an empty body, as
 * Node's res.end(). Returns 0; EDDY_EINVAL if the response was already
 * ended (nothing changes) or if fewer bytes than the announced
 * Content-Length were written (the response is ended and the connection
 * closed, the only way to tell the client the body is short); or the
 * connection's error when it is gone (the exchange is released). */
EDDY_EXTERN int eddy_http_res_end(eddy_http_exchange_t *ex);

/* Set the callback for EDDY_HTTP_DRAIN (see eddy_http_drain_cb). */
EDDY_EXTERN void eddy_http_on_drain(eddy_http_exchange_t *ex,
                                    eddy_http_drain_cb cb);

/* Set the callback run if the connection is lost before the response is
 * ended (e.g. to cancel a pool job); it runs from the loop, never inside a
 * call of this API. */
EDDY_EXTERN void eddy_http_on_abort(eddy_http_exchange_t *ex,
                                    eddy_http_abort_cb cb);

/* Bytes of this exchange's connection waiting to be written. */
EDDY_EXTERN size_t eddy_http_write_queue_size(const eddy_http_exchange_t *ex);

/* The reason phrase of a status code ("Not Found"), "Unknown" when eddy
 * has none. Static string. */
EDDY_EXTERN const char *eddy_http_status_text(int status);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_HTTP_SERVER_H */
