/* libFuzzer target for the HTTP request parser and chunked decoder.
 *
 * Build and run:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *     tests/fuzz/fuzz_http_parser.c src/http/parser.c src/http/chunked.c \
 *     -o /tmp/fuzz_http
 *   /tmp/fuzz_http -max_total_time=60 tests/fuzz/corpus_http
 *
 * Input: byte 0 picks the limits (defaults or tiny ones that make every
 * limit reachable), bytes 1-2 pick a split point, the rest is the stream a
 * client sent. Properties checked, besides the sanitizers' memory checks:
 *   1. eddy_http_parse_request gives the same result whether the head comes
 *      whole or as a prefix and then the whole buffer (resumed in place, or
 *      restarted on a moved buffer); a prefix never gives a different
 *      non-INCOMPLETE result.
 *   2. A "server" feeding the stream through the parser and the chunked
 *      decoder (pipelining, Content-Length and chunked bodies) produces the
 *      same transcript for the whole stream, the stream split in two at the
 *      chosen point, and (for short inputs) the stream byte by byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eddy/http_parser.h"

#define MAX_HEADERS 128

/* Aborts (a crash libFuzzer reports) when a property does not hold. */
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      abort();                                                                 \
  } while (0)

/* ---- property 1: one request head ---------------------------------------- */

/* A parse result with pointers turned into offsets, so results from two
 * buffers holding the same bytes compare equal. */
typedef struct {
  int r, pad; /* pad: no hidden padding bytes in memcmp */
  int method, version_minor, body, keep_alive, expect_continue, has_host;
  size_t method_off, method_len, target_off, target_len, num_headers;
  uint64_t content_length;
  size_t hdr[MAX_HEADERS][4];
} snapshot;

/* Records the outcome of a parse of buf into s. */
static void snap(snapshot *s, int r, const eddy_http_request_t *q,
                 const char *buf) {
  size_t i;

  memset(s, 0, sizeof(*s));
  s->r = r;
  if (r <= 0)
    return;
  s->method = (int)q->method;
  s->method_off = (size_t)(q->method_str - buf);
  s->method_len = q->method_len;
  s->target_off = (size_t)(q->target - buf);
  s->target_len = q->target_len;
  s->version_minor = q->version_minor;
  s->num_headers = q->num_headers;
  s->body = (int)q->body;
  s->content_length = q->content_length;
  s->keep_alive = q->keep_alive;
  s->expect_continue = q->expect_continue;
  s->has_host = q->has_host;
  CHECK(q->num_headers <= MAX_HEADERS);
  for (i = 0; i < q->num_headers; i++) {
    s->hdr[i][0] = (size_t)(q->headers[i].name - buf);
    s->hdr[i][1] = q->headers[i].name_len;
    s->hdr[i][2] = (size_t)(q->headers[i].value - buf);
    s->hdr[i][3] = q->headers[i].value_len;
    CHECK(s->hdr[i][0] + s->hdr[i][1] <= (size_t)r);
    CHECK(s->hdr[i][2] + s->hdr[i][3] <= (size_t)r);
  }
}

/* Checks property 1 for in[0..n) split at k. */
static void check_head(const char *in, size_t n, size_t k,
                       const eddy_http_limits_t *lim) {
  eddy_http_header_t hdrs[MAX_HEADERS];
  eddy_http_request_t req;
  snapshot whole, part;
  char *a = malloc(n + 1), *b = malloc(k + 1);
  int r;

  CHECK(a && b);
  memcpy(a, in, n);
  memcpy(b, in, k);
  eddy_http_request_init(&req, hdrs, MAX_HEADERS);
  snap(&whole, eddy_http_parse_request(a, n, &req, lim), &req, a);
  CHECK(whole.r != 0 && (whole.r < 0 || (size_t)whole.r <= n));
  /* parsing again (a fresh request on the same bytes) is deterministic */
  snap(&part, eddy_http_parse_request(a, n, &req, lim), &req, a);
  CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);

  /* prefix, then resume in place */
  r = eddy_http_parse_request(a, k, &req, lim);
  if (r != EDDY_HTTP_INCOMPLETE) {
    snap(&part, r, &req, a);
    CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);
  } else {
    snap(&part, eddy_http_parse_request(a, n, &req, lim), &req, a);
    CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);
  }

  /* prefix in one buffer, then the whole stream in another */
  r = eddy_http_parse_request(b, k, &req, lim);
  CHECK(r == EDDY_HTTP_INCOMPLETE || r == whole.r);
  if (r == EDDY_HTTP_INCOMPLETE) {
    snap(&part, eddy_http_parse_request(a, n, &req, lim), &req, a);
    CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);
  }
  free(a);
  free(b);
}

/* ---- property 2: a server's stream --------------------------------------- */

typedef struct {
  char *p;
  size_t len, cap;
} bytes;

/* Appends n bytes to t. */
static void bytes_add(bytes *t, const void *s, size_t n) {
  if (n == 0)
    return;
  if (t->len + n > t->cap) {
    t->cap = (t->len + n) * 2;
    t->p = realloc(t->p, t->cap);
    CHECK(t->p != NULL);
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
}

enum { PH_HEAD, PH_BODY, PH_CHUNKED, PH_FAILED };

typedef struct {
  const eddy_http_limits_t *lim;
  char *buf; /* unconsumed bytes, at a new address after every read */
  size_t len;
  int phase;
  uint64_t left;
  eddy_http_header_t hdrs[MAX_HEADERS];
  eddy_http_request_t req;
  eddy_http_chunked_decoder_t dec;
  bytes out;
} server;

/* Chunked data goes to the transcript. */
static void on_data(void *arg, const char *data, size_t n) {
  server *s = arg;
  CHECK(n > 0);
  bytes_add(&s->out, data, n);
}

/* Writes a complete head to the transcript (as bytes, not pointers). */
static void record(server *s) {
  const eddy_http_request_t *q = &s->req;
  int f[6] = {(int)q->method, q->version_minor,   (int)q->body,
              q->keep_alive,  q->expect_continue, q->has_host};
  size_t i;

  bytes_add(&s->out, "R", 1);
  bytes_add(&s->out, f, sizeof(f));
  bytes_add(&s->out, &q->content_length, sizeof(q->content_length));
  bytes_add(&s->out, q->method_str, q->method_len);
  bytes_add(&s->out, "|", 1);
  bytes_add(&s->out, q->target, q->target_len);
  for (i = 0; i < q->num_headers; i++) {
    bytes_add(&s->out, "|", 1);
    bytes_add(&s->out, q->headers[i].name, q->headers[i].name_len);
    bytes_add(&s->out, ":", 1);
    bytes_add(&s->out, q->headers[i].value, q->headers[i].value_len);
  }
  bytes_add(&s->out, "\n", 1);
}

/* Consumes what it can of the unconsumed bytes, keeps the rest. */
static void process(server *s) {
  size_t off = 0;
  int r;

  while (s->phase != PH_FAILED) {
    if (s->phase == PH_HEAD) {
      r = eddy_http_parse_request(s->buf + off, s->len - off, &s->req, s->lim);
      if (r == EDDY_HTTP_INCOMPLETE)
        break;
      if (r < 0) {
        CHECK(eddy_http_error_status(r) >= 400);
        bytes_add(&s->out, "E", 1);
        bytes_add(&s->out, &r, sizeof(r));
        s->phase = PH_FAILED;
        break;
      }
      CHECK((size_t)r <= s->len - off);
      off += (size_t)r;
      record(s);
      if (s->req.body == EDDY_HTTP_BODY_LENGTH && s->req.content_length) {
        s->left = s->req.content_length;
        s->phase = PH_BODY;
      } else if (s->req.body == EDDY_HTTP_BODY_CHUNKED) {
        eddy_http_chunked_init(&s->dec, s->lim);
        s->phase = PH_CHUNKED;
      }
    } else if (s->phase == PH_BODY) {
      size_t n = s->len - off;
      if (n == 0)
        break;
      if (n > s->left)
        n = (size_t)s->left;
      bytes_add(&s->out, s->buf + off, n);
      off += n;
      s->left -= n;
      if (s->left == 0)
        s->phase = PH_HEAD;
    } else {
      if (off == s->len)
        break;
      r = eddy_http_chunked_decode(&s->dec, s->buf + off, s->len - off, on_data,
                                   s);
      if (r == EDDY_HTTP_INCOMPLETE) {
        off = s->len;
        break;
      }
      CHECK(r != 0);
      if (r < 0) {
        bytes_add(&s->out, "C", 1);
        bytes_add(&s->out, &r, sizeof(r));
        s->phase = PH_FAILED;
        break;
      }
      CHECK((size_t)r <= s->len - off);
      off += (size_t)r;
      bytes_add(&s->out, "Z", 1);
      s->phase = PH_HEAD;
    }
  }
  memmove(s->buf, s->buf + off, s->len - off);
  s->len -= off;
}

/* Delivers one read. With move set the bytes go to a new buffer (the
 * parser restarts there); otherwise the buffer grows in place when it can
 * (the parser resumes). */
static void feed(server *s, const char *data, size_t n, int move) {
  char *nb;

  if (s->phase == PH_FAILED)
    return;
  if (move) {
    nb = malloc(s->len + n + 1);
    CHECK(nb != NULL);
    memcpy(nb, s->buf, s->len);
    free(s->buf);
  } else {
    nb = realloc(s->buf, s->len + n + 1);
    CHECK(nb != NULL);
  }
  memcpy(nb + s->len, data, n);
  s->buf = nb;
  s->len += n;
  process(s);
}

/* Runs the stream through a server; pieces: 0 whole, 1 split at k, 2 byte
 * by byte. Returns the transcript (caller frees). */
static bytes serve(const char *in, size_t n, size_t k, int pieces,
                   const eddy_http_limits_t *lim) {
  server *s = calloc(1, sizeof(*s));
  bytes out;
  size_t i;

  CHECK(s != NULL);
  s->lim = lim;
  s->buf = malloc(1);
  CHECK(s->buf != NULL);
  eddy_http_request_init(&s->req, s->hdrs, MAX_HEADERS);
  if (pieces == 0) {
    feed(s, in, n, 0);
  } else if (pieces == 1) {
    feed(s, in, k, 0);
    feed(s, in + k, n - k, (k & 1) != 0);
  } else {
    for (i = 0; i < n; i++)
      feed(s, in + i, 1, (int)(i & 1));
  }
  out = s->out;
  free(s->buf);
  free(s);
  return out;
}

/* Fails unless two transcripts are identical. */
static void check_same(const bytes *a, const bytes *b) {
  CHECK(a->len == b->len);
  CHECK(a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const eddy_http_limits_t tiny = {96, 24, 6, 40, 8};
  const eddy_http_limits_t *lim;
  const char *in;
  bytes whole, other;
  size_t n, k;

  if (size < 3)
    return 0;
  lim = (data[0] & 1) ? &tiny : NULL;
  in = (const char *)data + 3;
  n = size - 3;
  k = ((size_t)data[1] | (size_t)data[2] << 8) % (n + 1);

  check_head(in, n, k, lim);

  whole = serve(in, n, 0, 0, lim);
  other = serve(in, n, k, 1, lim);
  check_same(&whole, &other);
  free(other.p);
  if (n <= 512) {
    other = serve(in, n, 0, 2, lim);
    check_same(&whole, &other);
    free(other.p);
  }
  free(whole.p);
  return 0;
}
