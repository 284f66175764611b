/* response.c: writing HTTP/1.1 responses.
 *
 * A response head is formatted into the connection's scratch buffer and
 * goes out together with the body in one eddy_try_write (a gathered
 * sendmsg): on the fast path nothing is copied, queued or allocated, and no
 * write callback is needed. Only what the socket does not take is copied
 * into a block and queued with eddy_write; blocks of the standard size are
 * recycled through the server's free list. Once anything is queued,
 * eddy_try_write refuses (EAGAIN) and later data queues behind it, so the
 * order on the wire is the order of the calls.
 *
 * The Date line is formatted at most once a second and shared by every
 * connection of the server. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_chars.h"
#include "server_internal.h"

/* ---- status lines and the Date field ------------------------------------ */

/* clang-format off */
const char *eddy_http_status_text(int status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 203: return "Non-Authoritative Information";
  case 204: return "No Content";
  case 205: return "Reset Content";
  case 206: return "Partial Content";
  case 300: return "Multiple Choices";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 402: return "Payment Required";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 407: return "Proxy Authentication Required";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 421: return "Misdirected Request";
  case 422: return "Unprocessable Content";
  case 426: return "Upgrade Required";
  case 428: return "Precondition Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 451: return "Unavailable For Legal Reasons";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}
/* clang-format on */

/* The server's "Date: ...\r\n" line (RFC 9110 §6.6.1, IMF-fixdate),
 * refreshed when the loop time passes the next wall-clock second. */
static const char *date_line(eddy_http_server_t *s, size_t *len) {
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                  "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  uint64_t now = eddy_now(s->loop);
  struct timespec ts;
  struct tm tm;
  int n;

  if (s->priv.date_len != 0 && now < s->priv.date_next) {
    *len = s->priv.date_len;
    return s->priv.date;
  }
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  n = snprintf(s->priv.date, sizeof(s->priv.date),
               "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
               days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
               tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  s->priv.date_len = n > 0 && (size_t)n < sizeof(s->priv.date) ? (size_t)n : 0;
  s->priv.date_next = now + 1000 - (uint64_t)(ts.tv_nsec / 1000000);
  *len = s->priv.date_len;
  return s->priv.date;
}

/* ---- formatting --------------------------------------------------------- */

/* What the caller's fields say beyond themselves. */
enum { FF_CLOSE = 1, FF_DATE = 2 };

/* Checks the fields (a token name; a value of field-vchar, SP, HTAB: no CR,
 * LF or NUL, so no header injection) and adds up their bytes. */
static int check_fields(const eddy_http_field_t *fields, size_t n,
                        size_t *bytes, unsigned *found) {
  size_t i, total = 0;

  *found = 0;
  if (n > 0 && fields == NULL)
    return EDDY_EINVAL;
  for (i = 0; i < n; i++) {
    const char *name = fields[i].name, *value = fields[i].value, *p;
    size_t nlen, vlen;

    if (name == NULL || value == NULL || *name == '\0')
      return EDDY_EINVAL;
    for (p = name; *p != '\0'; p++)
      if (!eddy__http_is((unsigned char)*p, EDDY__HTTP_TOKEN))
        return EDDY_EINVAL;
    nlen = (size_t)(p - name);
    for (p = value; *p != '\0'; p++)
      if (!eddy__http_is((unsigned char)*p, EDDY__HTTP_VALUE))
        return EDDY_EINVAL;
    vlen = (size_t)(p - value);
    if (eddy__http_equals_ci(name, nlen, EDDY__HTTP_LIT("content-length")) ||
        eddy__http_equals_ci(name, nlen, EDDY__HTTP_LIT("transfer-encoding")))
      return EDDY_EINVAL;
    if (eddy__http_equals_ci(name, nlen, EDDY__HTTP_LIT("connection"))) {
      if (eddy__http_equals_ci(value, vlen, EDDY__HTTP_LIT("close")))
        *found |= FF_CLOSE;
      continue; /* the server writes its own */
    }
    if (eddy__http_equals_ci(name, nlen, EDDY__HTTP_LIT("date")))
      *found |= FF_DATE;
    total += vlen + nlen + 4;
  }
  *bytes = total;
  return 0;
}

static char *put(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *put_u64(char *p, uint64_t v) {
  char tmp[20];
  size_t n = 0;

  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0)
    *p++ = tmp[--n];
  return p;
}

/* Makes sure hbuf holds need bytes. */
static int hbuf_reserve(struct eddy__http_conn *c, size_t need) {
  char *p;

  if (need <= c->hcap)
    return 0;
  /* The read state's scratch (or none yet) moves to the heap. */
  p = c->hbuf == NULL || c->hbuf == eddy__http_hsmall(c)
          ? malloc(need)
          : realloc(c->hbuf, need);
  if (p == NULL)
    return EDDY_ENOMEM;
  c->hbuf = p;
  c->hcap = need;
  return 0;
}

/* Formats the head into hbuf (hlen) and records the framing. Decides the
 * connection's fate first, so that "Connection: close" goes out with it. */
static int build_head(struct eddy__http_conn *c, int status,
                      const eddy_http_field_t *fields, size_t nfields,
                      int framing, uint64_t length) {
  eddy_http_server_t *server = c->server;
  const char *reason = eddy_http_status_text(status), *date;
  size_t bytes, date_len, need, i;
  unsigned found;
  char *p;
  int err;

  err = check_fields(fields, nfields, &bytes, &found);
  if (err != 0)
    return err;
  date = date_line(server, &date_len);
  /* 128 covers the rest: the status line's fixed part, Content-Length or
   * Transfer-Encoding, Connection and the final CRLF (79 bytes at most). */
  need = bytes + strlen(reason) + date_len + 128;
  err = hbuf_reserve(c, need);
  if (err != 0)
    return err;
  if ((found & FF_CLOSE) || framing == EDDY__HF_CLOSE)
    c->flags |= EDDY__HC_CLOSE_AFTER;
  /* Answered without asking for the body while the client waits for
   * "100 Continue": the body will not come, so the connection ends. */
  if (c->preq->expect_continue && c->body_mode == EDDY__HB_WAIT &&
      !(c->flags & (EDDY__HC_CONTINUE_SENT | EDDY__HC_BODY_DONE)))
    c->flags |= EDDY__HC_CLOSE_AFTER;

  p = PUT_LIT(c->hbuf, "HTTP/1.1 ");
  *p++ = (char)('0' + status / 100);
  *p++ = (char)('0' + status / 10 % 10);
  *p++ = (char)('0' + status % 10);
  *p++ = ' ';
  p = put(p, reason, strlen(reason));
  p = PUT_LIT(p, "\r\n");
  for (i = 0; i < nfields; i++) {
    size_t nlen = strlen(fields[i].name);

    if (eddy__http_equals_ci(fields[i].name, nlen,
                             EDDY__HTTP_LIT("connection")))
      continue;
    p = put(p, fields[i].name, nlen);
    p = PUT_LIT(p, ": ");
    p = put(p, fields[i].value, strlen(fields[i].value));
    p = PUT_LIT(p, "\r\n");
  }
  if (!(found & FF_DATE))
    p = put(p, date, date_len);
  if (framing == EDDY__HF_LENGTH) {
    p = PUT_LIT(p, "Content-Length: ");
    p = put_u64(p, length);
    p = PUT_LIT(p, "\r\n");
  } else if (framing == EDDY__HF_CHUNKED) {
    p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
  }
  if (c->flags & EDDY__HC_CLOSE_AFTER)
    p = PUT_LIT(p, "Connection: close\r\n");
  else if (c->preq->version_minor == 0)
    p = PUT_LIT(p, "Connection: keep-alive\r\n");
  p = PUT_LIT(p, "\r\n");
  c->hlen = (size_t)(p - c->hbuf);
  assert(c->hlen <= need && need <= c->hcap);
  c->res_framing = framing;
  c->res_left = length;
  return 0;
}

/* ---- sending ------------------------------------------------------------ */

static struct eddy__http_block *block_get(eddy_http_server_t *s, size_t need) {
  struct eddy__http_block *b;

  if (need <= EDDY__HTTP_BLOCK_SIZE && s->priv.free_blocks != NULL) {
    b = s->priv.free_blocks;
    s->priv.free_blocks = b->next;
    s->priv.nfree_blocks--;
    return b;
  }
  if (need < EDDY__HTTP_BLOCK_SIZE)
    need = EDDY__HTTP_BLOCK_SIZE;
  b = malloc(sizeof(*b) + need);
  if (b != NULL)
    b->cap = need;
  assert(b == NULL || b->cap >= need);
  return b;
}

static void block_put(eddy_http_server_t *s, struct eddy__http_block *b) {
  assert(b->cap >= EDDY__HTTP_BLOCK_SIZE);
  if (b->cap == EDDY__HTTP_BLOCK_SIZE &&
      s->priv.nfree_blocks < EDDY__HTTP_FREE_BLOCKS) {
    b->next = s->priv.free_blocks;
    s->priv.free_blocks = b;
    s->priv.nfree_blocks++;
    return;
  }
  free(b);
}

void eddy__http_blocks_free(eddy_http_server_t *server) {
  while (server->priv.free_blocks != NULL) {
    struct eddy__http_block *b = server->priv.free_blocks;
    server->priv.free_blocks = b->next;
    free(b);
  }
  server->priv.nfree_blocks = 0;
}

static void on_block_written(eddy_write_t *req, int status) {
  struct eddy__http_block *b =
      eddy__container_of(req, struct eddy__http_block, req);
  struct eddy__http_conn *c = b->conn;

  block_put(c->server, b);
  eddy__http_wrote(c, status);
}

/* Writes bufs in order: at once if the socket takes them, the rest copied
 * and queued. Returns 0, or the connection's error (it is then failed). */
int eddy__http_send(struct eddy__http_conn *c, const eddy_buf_t *bufs,
                    unsigned n) {
  eddy_stream_t *s = &c->tcp.stream;
  struct eddy__http_block *b;
  size_t total = 0, skip, off = 0;
  eddy_buf_t out;
  ssize_t r;
  unsigned i;
  int err;

  if (c->flags & EDDY__HC_DEAD)
    return c->error;
  for (i = 0; i < n; i++)
    total += bufs[i].len;
  if (total == 0)
    return 0;
  r = eddy_try_write(s, bufs, n);
  if (r == (ssize_t)total)
    return 0;
  if (r < 0 && r != EDDY_EAGAIN) {
    eddy__http_conn_fail(c, (int)r);
    return (int)r;
  }
  skip = r > 0 ? (size_t)r : 0;
  assert(skip < total);
  b = block_get(c->server, total - skip);
  if (b == NULL) {
    eddy__http_conn_fail(c, EDDY_ENOMEM);
    return EDDY_ENOMEM;
  }
  b->conn = c;
  for (i = 0; i < n; i++) {
    size_t len = bufs[i].len;
    const char *base = bufs[i].base;

    if (skip >= len) {
      skip -= len;
      continue;
    }
    memcpy(b->data + off, base + skip, len - skip);
    off += len - skip;
    skip = 0;
  }
  assert(skip == 0 && off > 0 && off <= b->cap);
  out = eddy_buf_init(b->data, off);
  err = eddy_write(&b->req, s, &out, 1, on_block_written);
  if (err != 0) {
    block_put(c->server, b);
    eddy__http_conn_fail(c, err);
    return err;
  }
  c->send_queued += off;
  if (s->write_queue_size > c->server->opts.write_high_water)
    c->flags |= EDDY__HC_PAUSED_WQ;
  eddy__http_send_queued(c);
  return 0;
}

int eddy__http_send_continue(struct eddy__http_conn *c) {
  static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
  eddy_buf_t b = eddy_buf_init((void *)line, sizeof(line) - 1);

  c->flags |= EDDY__HC_CONTINUE_SENT;
  return eddy__http_send(c, &b, 1);
}

/* A server-made error response: no body, "Connection: close". */
void eddy__http_send_error(struct eddy__http_conn *c, int status) {
  const char *reason = eddy_http_status_text(status), *date;
  char head[256], *p = head;
  size_t date_len;
  eddy_buf_t b;

  date = date_line(c->server, &date_len);
  p = PUT_LIT(p, "HTTP/1.1 ");
  p = put_u64(p, (uint64_t)status);
  *p++ = ' ';
  p = put(p, reason, strlen(reason));
  p = PUT_LIT(p, "\r\n");
  p = put(p, date, date_len);
  p = PUT_LIT(p, "Content-Length: 0\r\nConnection: close\r\n\r\n");
  b = eddy_buf_init(head, (size_t)(p - head));
  eddy__http_send(c, &b, 1);
}

/* ---- the response API --------------------------------------------------- */

/* Status codes a handler may send; 1xx are the server's business. */
static int status_ok(int status) {
  return status >= 200 && status <= 999;
}

static int status_has_body(int status) {
  return status != 204 && status != 304;
}

/* Bodies up to this size are copied after the head, so the response goes
 * out as one buffer (send) instead of two (sendmsg). */
#define EDDY__HTTP_INLINE_BODY 1024

int eddy_http_respond(eddy_http_exchange_t *ex, int status,
                      const eddy_http_field_t *fields, size_t nfields,
                      const void *body, size_t len) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);
  eddy_buf_t bufs[2];
  unsigned n = 0;
  int err;

  if (!(c->flags & EDDY__HC_USER) || c->res_state != EDDY__HR_NONE ||
      !status_ok(status) || (body == NULL && len > 0) ||
      (!status_has_body(status) && len > 0))
    return EDDY_EINVAL;
  if (c->flags & EDDY__HC_DEAD) {
    err = c->error;
    eddy__http_response_ended(c);
    return err;
  }
  err = build_head(c, status, fields, nfields,
                   status_has_body(status) ? EDDY__HF_LENGTH : EDDY__HF_NONE,
                   len);
  if (err != 0)
    return err;
  c->res_state = EDDY__HR_STARTED;
  if (c->flags & EDDY__HC_HEAD)
    len = 0;
  assert(c->res_state == EDDY__HR_STARTED && c->hlen <= c->hcap);
  if (len <= EDDY__HTTP_INLINE_BODY && c->hlen + len <= c->hcap) {
    /* A small body rides in the head's buffer: one buffer, one send(). */
    if (len > 0)
      memcpy(c->hbuf + c->hlen, body, len);
    bufs[n++] = eddy_buf_init(c->hbuf, c->hlen + len);
  } else {
    bufs[n++] = eddy_buf_init(c->hbuf, c->hlen);
    bufs[n++] = eddy_buf_init((void *)body, len);
  }
  err = eddy__http_send(c, bufs, n);
  eddy__http_response_ended(c);
  return err;
}

int eddy_http_res_start(eddy_http_exchange_t *ex, int status,
                        const eddy_http_field_t *fields, size_t nfields,
                        int64_t content_length) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);
  int framing;
  int err;

  if (!(c->flags & EDDY__HC_USER) || c->res_state != EDDY__HR_NONE ||
      !status_ok(status) || content_length < EDDY_HTTP_LENGTH_UNKNOWN ||
      (!status_has_body(status) && content_length > 0))
    return EDDY_EINVAL;
  if (c->flags & EDDY__HC_DEAD)
    return c->error;
  if (!status_has_body(status))
    framing = EDDY__HF_NONE;
  else if (content_length >= 0)
    framing = EDDY__HF_LENGTH;
  else if (c->preq->version_minor == 1)
    framing = EDDY__HF_CHUNKED;
  else
    framing = EDDY__HF_CLOSE;
  err = build_head(c, status, fields, nfields, framing,
                   content_length > 0 ? (uint64_t)content_length : 0);
  if (err != 0)
    return err;
  c->res_state = EDDY__HR_STARTED;
  c->flags |= EDDY__HC_HEAD_PENDING;
  return 0;
}

/* "%zx\r\n" for a chunk-size line. */
static size_t chunk_line(char *out, size_t len) {
  static const char hex[] = "0123456789abcdef";
  char tmp[16];
  size_t n = 0, i;

  do {
    assert(n < sizeof(tmp));
    tmp[n++] = hex[len & 15];
    len >>= 4;
  } while (len != 0);
  for (i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n++] = '\r';
  out[n++] = '\n';
  return n;
}

int eddy_http_res_write(eddy_http_exchange_t *ex, const void *data,
                        size_t len) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);
  eddy_buf_t bufs[4];
  unsigned n = 0;
  int err;

  if (!(c->flags & EDDY__HC_USER) || c->res_state != EDDY__HR_STARTED ||
      (data == NULL && len > 0))
    return EDDY_EINVAL;
  if (c->flags & EDDY__HC_DEAD)
    return c->error;
  if (len > 0 && c->res_framing == EDDY__HF_NONE)
    return EDDY_EINVAL;
  if (c->res_framing == EDDY__HF_LENGTH) {
    if (len > c->res_left)
      return EDDY_EINVAL;
    c->res_left -= len;
  }
  if (c->flags & EDDY__HC_HEAD_PENDING) {
    c->flags &= ~EDDY__HC_HEAD_PENDING;
    bufs[n++] = eddy_buf_init(c->hbuf, c->hlen);
  }
  if (len > 0 && !(c->flags & EDDY__HC_HEAD)) {
    if (c->res_framing == EDDY__HF_CHUNKED) {
      bufs[n++] = eddy_buf_init(c->line, chunk_line(c->line, len));
      bufs[n++] = eddy_buf_init((void *)data, len);
      bufs[n++] = eddy_buf_init((void *)"\r\n", 2);
    } else {
      bufs[n++] = eddy_buf_init((void *)data, len);
    }
  }
  if (n > 0) {
    err = eddy__http_send(c, bufs, n);
    if (err != 0)
      return err;
  }
  if (c->tcp.stream.write_queue_size > c->server->opts.write_high_water) {
    c->flags |= EDDY__HC_DRAIN_WANTED;
    return EDDY_HTTP_DRAIN;
  }
  return 0;
}

int eddy_http_res_end(eddy_http_exchange_t *ex) {
  struct eddy__http_conn *c = eddy__http_conn_of(ex);
  eddy_buf_t bufs[2];
  unsigned n = 0;
  int err = 0, short_body = 0;

  if (!(c->flags & EDDY__HC_USER))
    return EDDY_EINVAL;
  if (c->res_state == EDDY__HR_NONE)
    return eddy_http_respond(ex, 200, NULL, 0, NULL, 0);
  if (c->flags & EDDY__HC_DEAD) {
    err = c->error;
    eddy__http_response_ended(c);
    return err;
  }
  if (c->flags & EDDY__HC_HEAD_PENDING) {
    c->flags &= ~EDDY__HC_HEAD_PENDING;
    bufs[n++] = eddy_buf_init(c->hbuf, c->hlen);
  }
  if (c->res_framing == EDDY__HF_CHUNKED && !(c->flags & EDDY__HC_HEAD))
    bufs[n++] = eddy_buf_init((void *)"0\r\n\r\n", 5);
  if (c->res_framing == EDDY__HF_LENGTH && c->res_left > 0 &&
      !(c->flags & EDDY__HC_HEAD)) {
    short_body = 1; /* only a close tells the client the body is short */
    c->flags |= EDDY__HC_CLOSE_AFTER;
  }
  if (n > 0)
    err = eddy__http_send(c, bufs, n);
  eddy__http_response_ended(c);
  if (err != 0)
    return err;
  return short_body ? EDDY_EINVAL : 0;
}
/* ---- callbacks and queries ---------------------------------------------- */

void eddy_http_on_drain(eddy_http_exchange_t *ex, eddy_http_drain_cb cb) {
  eddy__http_conn_of(ex)->on_drain = cb;
}

void eddy_http_on_abort(eddy_http_exchange_t *ex, eddy_http_abort_cb cb) {
  eddy__http_conn_of(ex)->on_abort = cb;
}

size_t eddy_http_write_queue_size(const eddy_http_exchange_t *ex) {
  return eddy__http_conn_of(ex)->tcp.stream.write_queue_size;
}
