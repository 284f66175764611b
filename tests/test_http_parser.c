/* Tests for the HTTP/1.1 request parser and chunked decoder
 * (include/eddy/http_parser.h).
 *
 * Most tests run a request through a small "server" (driver) that feeds the
 * parser the way eddy's server does: it keeps unconsumed bytes, appends each
 * read and calls again; it skips Content-Length bodies and decodes chunked
 * ones. The driver writes a transcript of everything it saw; the same input
 * fed whole, byte by byte, split at every point, or moved to a new buffer on
 * every read must give the same transcript.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eddy/http_parser.h"

#include "../src/http/http_chars.h"

#define S(lit) lit, sizeof(lit) - 1

/* ---- a growable byte string ---------------------------------------------- */

typedef struct {
  char *p;
  size_t len, cap;
} text;

/* Appends n bytes to t. */
static void text_add(text *t, const void *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->p = realloc(t->p, t->cap);
    assert_non_null(t->p);
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = '\0';
}

/* Appends formatted text to t. */
static void text_printf(text *t, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof(tmp));
  text_add(t, tmp, (size_t)n);
}

/* Builds "prefix" + n copies of c + "suffix" in a new text. */
static text text_fill(const char *prefix, char c, size_t n,
                      const char *suffix) {
  text t = {0};
  text_add(&t, prefix, strlen(prefix));
  while (n--)
    text_add(&t, &c, 1);
  text_add(&t, suffix, strlen(suffix));
  return t;
}

/* ---- the driver: a server's use of the parser ---------------------------- */

enum { PH_HEAD, PH_BODY, PH_CHUNKED, PH_FAILED };
enum { MODE_WHOLE, MODE_SPLIT, MODE_BYTES, MODE_BYTES_MOVING };

typedef struct {
  eddy_http_limits_t limits;
  char *buf; /* unconsumed bytes */
  size_t len, cap;
  int moving; /* put the bytes at a new address on every read */
  int phase;
  uint64_t left; /* Content-Length bytes still to come */
  eddy_http_header_t hdrs[128];
  eddy_http_request_t req;
  eddy_http_chunked_decoder_t dec;
  text out;   /* transcript */
  int status; /* status of the first error, 0 if none */
  int requests;
} driver;

/* What one run of the driver produced. */
typedef struct {
  text out;
  int status;
  int requests;
} result;

/* Chunked data callback: body bytes go to the transcript. */
static void on_body(void *arg, const char *data, size_t n) {
  driver *d = arg;
  text_add(&d->out, data, n);
}

/* Writes every field of a complete request head to the transcript. */
static void record_request(driver *d) {
  const eddy_http_request_t *r = &d->req;
  size_t i;

  text_printf(&d->out,
              "REQ %d %.*s %.*s 1.%d body=%d cl=%llu ka=%d ec=%d "
              "host=%d n=%zu\n",
              (int)r->method, (int)r->method_len, r->method_str,
              (int)r->target_len, r->target, r->version_minor, (int)r->body,
              (unsigned long long)r->content_length, r->keep_alive,
              r->expect_continue, r->has_host, r->num_headers);
  for (i = 0; i < r->num_headers; i++) {
    text_add(&d->out, r->headers[i].name, r->headers[i].name_len);
    text_add(&d->out, ": [", 3);
    text_add(&d->out, r->headers[i].value, r->headers[i].value_len);
    text_add(&d->out, "]\n", 2);
  }
}

/* Records an error; the connection is closed, nothing more is read. */
static void driver_fail(driver *d, int err) {
  text_printf(&d->out, "ERR %d\n", err);
  d->status = eddy_http_error_status(err);
  d->phase = PH_FAILED;
}

/* Processes as much of the unconsumed bytes as possible, then keeps the
 * rest at the front of the buffer (like a server compacting its buffer). */
static void driver_process(driver *d) {
  size_t off = 0;
  int r;

  while (d->phase != PH_FAILED) {
    if (d->phase == PH_HEAD) {
      r = eddy_http_parse_request(d->buf + off, d->len - off, &d->req,
                                  &d->limits);
      if (r == EDDY_HTTP_INCOMPLETE)
        break;
      if (r < 0) {
        driver_fail(d, r);
        break;
      }
      assert_true((size_t)r <= d->len - off);
      off += (size_t)r;
      record_request(d);
      d->requests++;
      if (d->req.body == EDDY_HTTP_BODY_LENGTH && d->req.content_length) {
        d->left = d->req.content_length;
        d->phase = PH_BODY;
      } else if (d->req.body == EDDY_HTTP_BODY_CHUNKED) {
        eddy_http_chunked_init(&d->dec, &d->limits);
        d->phase = PH_CHUNKED;
      } else {
        text_add(&d->out, "END\n", 4);
      }
    } else if (d->phase == PH_BODY) {
      size_t n = d->len - off;
      if (n == 0)
        break;
      if (n > d->left)
        n = (size_t)d->left;
      text_add(&d->out, d->buf + off, n);
      off += n;
      d->left -= n;
      if (d->left == 0) {
        text_add(&d->out, "\nEND\n", 5);
        d->phase = PH_HEAD;
      }
    } else {
      if (off == d->len)
        break;
      r = eddy_http_chunked_decode(&d->dec, d->buf + off, d->len - off, on_body,
                                   d);
      if (r == EDDY_HTTP_INCOMPLETE) {
        off = d->len;
        break;
      }
      if (r <= 0) {
        driver_fail(d, r);
        break;
      }
      off += (size_t)r;
      text_add(&d->out, "\nEND\n", 5);
      d->phase = PH_HEAD;
    }
  }
  memmove(d->buf, d->buf + off, d->len - off);
  d->len -= off;
}

/* Delivers one read of n bytes to the driver. */
static void driver_feed(driver *d, const char *data, size_t n) {
  if (d->phase == PH_FAILED)
    return;
  if (d->moving) {
    char *nb = malloc(d->len + n + 1); /* a new address every time */
    assert_non_null(nb);
    memcpy(nb, d->buf, d->len);
    free(d->buf);
    d->buf = nb;
    d->cap = d->len + n + 1;
  } else if (d->len + n > d->cap) {
    d->cap = d->len + n;
    d->buf = realloc(d->buf, d->cap);
    assert_non_null(d->buf);
  }
  memcpy(d->buf + d->len, data, n);
  d->len += n;
  driver_process(d);
}

/* Runs input through a fresh driver, delivered as the mode says. */
static result run(const char *in, size_t n, const eddy_http_limits_t *lim,
                  int mode, size_t split) {
  driver *d = calloc(1, sizeof(*d));
  result res;
  size_t i;

  assert_non_null(d);
  d->limits = lim ? *lim : eddy_http_limits_default();
  d->cap = n + 1;
  d->buf = malloc(d->cap);
  assert_non_null(d->buf);
  d->moving = mode == MODE_BYTES_MOVING;
  eddy_http_request_init(&d->req, d->hdrs, 128);
  text_add(&d->out, "", 0);
  if (mode == MODE_WHOLE) {
    driver_feed(d, in, n);
  } else if (mode == MODE_SPLIT) {
    driver_feed(d, in, split);
    driver_feed(d, in + split, n - split);
  } else {
    for (i = 0; i < n; i++)
      driver_feed(d, in + i, 1);
  }
  res.out = d->out;
  res.status = d->status;
  res.requests = d->requests;
  free(d->buf);
  free(d);
  return res;
}

/* Fails the test, naming the case, if two runs differ. */
static void expect_same(const result *a, const result *b, const char *what,
                        const char *how, size_t split) {
  if (a->out.len != b->out.len || memcmp(a->out.p, b->out.p, a->out.len) ||
      a->status != b->status || a->requests != b->requests)
    fail_msg("%s: %s (split %zu) differs from whole:\n%s\n---\n%s", what, how,
             split, a->out.p, b->out.p);
}

/* Runs input whole, byte by byte, byte by byte from a moving buffer, and
 * split at every point (or at a sample of points for big inputs); checks
 * all give the same transcript and returns the whole run's result. */
static result run_all(const char *in, size_t n, const eddy_http_limits_t *lim,
                      const char *what) {
  result whole = run(in, n, lim, MODE_WHOLE, 0), other;
  size_t k, step = n <= 2048 ? 1 : n / 97;

  other = run(in, n, lim, MODE_BYTES, 0);
  expect_same(&whole, &other, what, "byte by byte", 0);
  free(other.out.p);
  if (n <= 4096) {
    other = run(in, n, lim, MODE_BYTES_MOVING, 0);
    expect_same(&whole, &other, what, "byte by byte, moving", 0);
    free(other.out.p);
  }
  for (k = 1; k < n; k += step) {
    other = run(in, n, lim, MODE_SPLIT, k);
    expect_same(&whole, &other, what, "split", k);
    free(other.out.p);
  }
  return whole;
}

/* Checks that input gets the expected status (0: all fine) in every way of
 * delivering it; returns how many requests were complete. */
static int expect_status(const char *in, size_t n,
                         const eddy_http_limits_t *lim, int status,
                         const char *what) {
  result r = run_all(in, n, lim, what);
  int requests = r.requests;

  if (r.status != status)
    fail_msg("%s: status %d, expected %d\n%s", what, r.status, status, r.out.p);
  free(r.out.p);
  return requests;
}

/* ---- the hostile-request table of spec/http.md --------------------------- */

typedef struct {
  int row;
  const char *req;
  size_t len;
  int status; /* the "ours" column; 0: served */
} hostile_case;

#define H11 " HTTP/1.1\r\nHost: a\r\n"

static const hostile_case hostile[] = {
    {1,
     S("POST /" H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n"),
     400},
    {2,
     S("POST /" H11 "Transfer-Encoding: chunked\r\nContent-Length: 35\r\n\r\n"
       "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"),
     400},
    {3, S("POST /" H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
     400},
    {4, S("POST /" H11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
     400},
    {5, S("POST /" H11 "Content-Length: 2, 2\r\n\r\nhi"), 400},
    {6, S("POST /" H11 "Content-Length: -1\r\n\r\n"), 400},
    {6, S("POST /" H11 "Content-Length: +2\r\n\r\nhi"), 400},
    {7, S("POST /" H11 "Content-Length: 18446744073709551616\r\n\r\n"), 400},
    {7, S("POST /" H11 "Content-Length: 99999999999999999999999\r\n\r\n"), 400},
    {8, S("POST /" H11 "Transfer-Encoding: gzip\r\n\r\n"), 400},
    {9, S("POST /" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
     400},
    {10, S("POST /" H11 "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"), 400},
    {11, S("POST /" H11 "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"), 400},
    {12, S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
     400},
    {13, S("GET /" H11 "X-A: a\r\n b\r\n\r\n"), 400},
    {14, S("POST /" H11 "Transfer-Encoding: gzip\r\n chunked\r\n\r\n0\r\n\r\n"),
     400},
    {15, S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400},
    {16, S("GET / HTTP/1.1\nHost: a\n\n"), 400},
    {16, S("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400},
    {17, S("GET /" H11 "X-A: a\rb\r\n\r\n"), 400},
    {18, S("GET /" H11 "X-A: a\0b\r\n\r\n"), 400},
    {19, S("GET /" H11 "X A: b\r\n\r\n"), 400},
    {19, S("GET /" H11 "X\001A: b\r\n\r\n"), 400},
    {19, S("GET /" H11 ": b\r\n\r\n"), 400},
    {19, S("GET /" H11 "NoColon\r\n\r\n"), 400},
    {20, S("GET / HTTP/1.1\r\n\r\n"), 400},
    {21, S("GET /" H11 "Host: b\r\n\r\n"), 400},
    {22, S("G(T /" H11 "\r\n"), 400},
    {23, S("FOO /" H11 "\r\n"), 501},
    {23, S("get /" H11 "\r\n"), 501},
    {24, S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0},
    {24, S("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), 400},
    {25, S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505},
    {26, S("GET /\r\n\r\n"), 400},
    {27, S("GET /a b" H11 "\r\n"), 400},
    {27, S("GET /a\001b" H11 "\r\n"), 400},
    {27, S("GET /a\tb" H11 "\r\n"), 400},
    {31, S("POST /" H11 "Transfer-Encoding: chunked\r\n\r\nzz\r\n"), 400},
    {31, S("POST /" H11 "Transfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n"),
     400},
    {31,
     S("POST /" H11 "Transfer-Encoding: chunked\r\n\r\n2   \r\nab\r\n"
       "0\r\n\r\n"),
     400},
    {32,
     S("POST /" H11 "Transfer-Encoding: chunked\r\n\r\n"
       "10000000000000000\r\n"),
     400},
    {33,
     S("POST /" H11 "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n"
       "0\r\n\r\n"),
     400},
    {34, S("POST /" H11 "Transfer-Encoding: chunked\r\n\r\n2\nab\n0\n\n"), 400},
    {36, S("GET /" H11 "Expect: foo\r\n\r\n"), 417},
    {37, S("POST /" H11 "Content-Length: 2147483648\r\n\r\n"), 413},
    {38, S("GET /1" H11 "\r\nGET /2" H11 "\r\n"), 0},
    {39, S("\r\nGET /" H11 "\r\n"), 0},
};

/* Each row of the table gets the status of the "ours" column, however the
 * bytes are split. */
static void test_hostile_table(void **state) {
  size_t i;
  char what[64];

  (void)state;
  for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
    snprintf(what, sizeof(what), "row %d (case %zu)", hostile[i].row, i);
    expect_status(hostile[i].req, hostile[i].len, NULL, hostile[i].status,
                  what);
  }
}

/* Row 2: the request CL hides is never parsed. */
static void test_row2_hidden_request_never_parsed(void **state) {
  const hostile_case *c = &hostile[1];
  result r;

  (void)state;
  assert_int_equal(c->row, 2);
  r = run_all(c->req, c->len, NULL, "row 2");
  assert_int_equal(r.status, 400);
  assert_int_equal(r.requests, 0);
  assert_null(strstr(r.out.p, "admin"));
  free(r.out.p);
}

/* Row 28: a 20 KiB header value is 431. */
static void test_row28_huge_header_value(void **state) {
  text t = text_fill("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", 'v', 20 * 1024,
                     "\r\n\r\n");
  (void)state;
  expect_status(t.p, t.len, NULL, 431, "row 28");
  free(t.p);
}

/* Row 29: a 20 KiB request-target is 414 (not 431). */
static void test_row29_huge_target(void **state) {
  text t = text_fill("GET /", 'a', 20 * 1024, " HTTP/1.1\r\nHost: a\r\n\r\n");
  (void)state;
  expect_status(t.p, t.len, NULL, 414, "row 29");
  free(t.p);
}

/* Row 30: 3000 headers (~18 KB) is 431. */
static void test_row30_three_thousand_headers(void **state) {
  text t = {0};
  int i;

  (void)state;
  text_add(&t, S("GET / HTTP/1.1\r\nHost: a\r\n"));
  for (i = 0; i < 3000; i++)
    text_add(&t, S("X: 1\r\n"));
  text_add(&t, S("\r\n"));
  expect_status(t.p, t.len, NULL, 431, "row 30");
  free(t.p);
}

/* Row 35: a 20 KiB chunk extension is 413. */
static void test_row35_huge_chunk_extension(void **state) {
  text t = text_fill("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n1;e=",
                     'x', 20 * 1024, "\r\na\r\n0\r\n\r\n");
  (void)state;
  expect_status(t.p, t.len, NULL, 413, "row 35");
  free(t.p);
}

/* Row 38: two pipelined GETs in one write are both parsed, in order. */
static void test_row38_pipelined_pair(void **state) {
  const hostile_case *c = &hostile[sizeof(hostile) / sizeof(hostile[0]) - 2];
  result r;

  (void)state;
  assert_int_equal(c->row, 38);
  r = run_all(c->req, c->len, NULL, "row 38");
  assert_int_equal(r.status, 0);
  assert_int_equal(r.requests, 2);
  assert_true(strstr(r.out.p, " /1 ") < strstr(r.out.p, " /2 "));
  free(r.out.p);
}

/* ---- valid requests: exact fields, and the same under every split -------- */

/* Parses a complete head in one call, asserting it consumed exactly want. */
static void parse_ok(eddy_http_request_t *req, eddy_http_header_t *hdrs,
                     const char *buf, size_t len, int want) {
  int r;

  eddy_http_request_init(req, hdrs, 100);
  r = eddy_http_parse_request(buf, len, req, NULL);
  if (r != want)
    fail_msg("got %d (%s), expected %d", r, eddy_http_strerror(r), want);
}

/* Parses a head in one call and returns the result (an error). */
static int parse_one(const char *buf, size_t len,
                     const eddy_http_limits_t *limits) {
  eddy_http_header_t hdrs[128];
  eddy_http_request_t req;

  eddy_http_request_init(&req, hdrs, 128);
  return eddy_http_parse_request(buf, len, &req, limits);
}

/* Fails unless s[0..n) is the string lit. */
static void assert_span(const char *s, size_t n, const char *lit) {
  if (n != strlen(lit) || memcmp(s, lit, n) != 0)
    fail_msg("got \"%.*s\", expected \"%s\"", (int)n, s, lit);
}

static void test_get_with_headers(void **state) {
  static const char in[] =
      "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
      "User-Agent:  curl/8.0 \t\r\nAccept: */*\r\nX-Empty:\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_int_equal(req.method, EDDY_HTTP_GET);
  assert_ptr_equal(req.method_str, in); /* zero copy */
  assert_span(req.target, req.target_len, "/index.html?q=1");
  assert_ptr_equal(req.target, in + 4);
  assert_int_equal(req.version_minor, 1);
  assert_int_equal(req.num_headers, 4);
  assert_span(req.headers[0].name, req.headers[0].name_len, "Host");
  assert_span(req.headers[0].value, req.headers[0].value_len, "example.com");
  assert_span(req.headers[1].value, req.headers[1].value_len, "curl/8.0");
  assert_span(req.headers[2].name, req.headers[2].name_len, "Accept");
  assert_span(req.headers[3].value, req.headers[3].value_len, "");
  assert_int_equal(req.body, EDDY_HTTP_BODY_NONE);
  assert_true(req.keep_alive);
  assert_false(req.expect_continue);
  assert_true(req.has_host);
  expect_status(in, sizeof(in) - 1, NULL, 0, "GET with headers");
}

static void test_post_content_length(void **state) {
  static const char in[] =
      "POST /form HTTP/1.1\r\nHost: a\r\ncontent-length: 11\r\n"
      "Content-Type: text/plain\r\n\r\nhello world";
  eddy_http_header_t h[100];
  eddy_http_request_t req;
  result r;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1 - 11);
  assert_int_equal(req.method, EDDY_HTTP_POST);
  assert_int_equal(req.body, EDDY_HTTP_BODY_LENGTH);
  assert_int_equal(req.content_length, 11);
  r = run_all(in, sizeof(in) - 1, NULL, "POST CL");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out.p, "]\nhello world\nEND\n"));
  free(r.out.p);
}

static void test_post_chunked_with_extensions_and_trailers(void **state) {
  static const char in[] =
      "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;name=value;flag\r\nhello\r\n"
      "6 ; q=\"a \\\"b\\\" c\" ;x\r\n world\r\n"
      "000\r\nX-Checksum: abc\r\nX-Other:  1 \r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;
  result r;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)(strstr(in, "5;") - in));
  assert_int_equal(req.body, EDDY_HTTP_BODY_CHUNKED);
  r = run_all(in, sizeof(in) - 1, NULL, "chunked POST");
  assert_int_equal(r.status, 0);
  assert_int_equal(r.requests, 1);
  assert_non_null(strstr(r.out.p, "]\nhello world\nEND\n"));
  free(r.out.p);
}

static void test_http10_keep_alive(void **state) {
  static const char in[] = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
  static const char plain[] = "GET / HTTP/1.0\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_int_equal(req.version_minor, 0);
  assert_true(req.keep_alive);
  assert_false(req.has_host); /* fine in 1.0 */
  parse_ok(&req, h, plain, sizeof(plain) - 1, (int)sizeof(plain) - 1);
  assert_false(req.keep_alive);
  expect_status(in, sizeof(in) - 1, NULL, 0, "HTTP/1.0 keep-alive");
}

static void test_pipelined_pair_offsets(void **state) {
  static const char in[] =
      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  size_t first = (size_t)(strstr(in, "abc") - in);
  eddy_http_header_t h[100];
  eddy_http_request_t req;
  result r;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)first);
  /* the next request starts after the body; the same req restarts itself */
  assert_int_equal(eddy_http_parse_request(
                       in + first + 3, sizeof(in) - 1 - first - 3, &req, NULL),
                   (int)(sizeof(in) - 1 - first - 3));
  assert_span(req.target, req.target_len, "/b");
  assert_false(req.keep_alive);
  r = run_all(in, sizeof(in) - 1, NULL, "pipelined pair");
  assert_int_equal(r.requests, 2);
  assert_int_equal(r.status, 0);
  free(r.out.p);
}

static void test_leading_empty_line_skipped(void **state) {
  static const char in[] = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_ptr_equal(req.method_str, in + 4);
  expect_status(in, sizeof(in) - 1, NULL, 0, "leading empty lines");
}

static void test_too_many_leading_empty_lines(void **state) {
  text t = {0};
  int i;

  (void)state;
  for (i = 0; i < EDDY_HTTP_MAX_EMPTY_LINES; i++)
    text_add(&t, S("\r\n"));
  text_add(&t, S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  expect_status(t.p, t.len, NULL, 0, "max empty lines");
  t.len = 0;
  for (i = 0; i <= EDDY_HTTP_MAX_EMPTY_LINES; i++)
    text_add(&t, S("\r\n"));
  text_add(&t, S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  assert_int_equal(parse_one(t.p, t.len, NULL), EDDY_HTTP_E_EMPTY_LINES);
  expect_status(t.p, t.len, NULL, 400, "one empty line too many");
  assert_int_equal(parse_one(S("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), NULL),
                   EDDY_HTTP_E_BAD_NEWLINE);
  assert_int_equal(parse_one(S("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), NULL),
                   EDDY_HTTP_E_BAD_NEWLINE);
  free(t.p);
}

static void test_head_request(void **state) {
  static const char in[] = "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_int_equal(req.method, EDDY_HTTP_HEAD);
  expect_status(in, sizeof(in) - 1, NULL, 0, "HEAD");
}

static void test_options_asterisk(void **state) {
  static const char in[] = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_int_equal(req.method, EDDY_HTTP_OPTIONS);
  assert_span(req.target, req.target_len, "*");
  expect_status(in, sizeof(in) - 1, NULL, 0, "OPTIONS *");
}

static void test_absolute_form_target(void **state) {
  static const char in[] =
      "GET http://example.com:8080/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_span(req.target, req.target_len, "http://example.com:8080/p?q");
  expect_status(in, sizeof(in) - 1, NULL, 0, "absolute-form");
}

static void test_connect_authority_form(void **state) {
  static const char in[] =
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_int_equal(req.method, EDDY_HTTP_CONNECT);
  assert_span(req.target, req.target_len, "example.com:443");
  expect_status(in, sizeof(in) - 1, NULL, 0, "CONNECT");
}

static void test_all_known_methods(void **state) {
  static const struct {
    const char *name;
    eddy_http_method m;
  } ms[] = {{"GET", EDDY_HTTP_GET},       {"HEAD", EDDY_HTTP_HEAD},
            {"POST", EDDY_HTTP_POST},     {"PUT", EDDY_HTTP_PUT},
            {"DELETE", EDDY_HTTP_DELETE}, {"OPTIONS", EDDY_HTTP_OPTIONS},
            {"TRACE", EDDY_HTTP_TRACE},   {"PATCH", EDDY_HTTP_PATCH}};
  eddy_http_header_t h[100];
  eddy_http_request_t req;
  char buf[128];
  size_t i;
  int n;

  (void)state;
  for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
    n = snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\nHost: a\r\n\r\n",
                 ms[i].name);
    parse_ok(&req, h, buf, (size_t)n, n);
    assert_int_equal(req.method, ms[i].m);
  }
}

/* ---- framing details ------------------------------------------------------
 */

static void test_connection_options(void **state) {
  static const struct {
    const char *req;
    int keep_alive;
  } cs[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", 1},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", 1},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0},
      {"GET / HTTP/1.0\r\nConnection: x\r\nConnection: keep-alive\r\n\r\n", 1},
      {"GET / HTTP/1.0\r\nConnection: ,keep-alive,\r\n\r\n", 1},
  };
  eddy_http_header_t h[100];
  eddy_http_request_t req;
  size_t i, n;

  (void)state;
  for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
    n = strlen(cs[i].req);
    parse_ok(&req, h, cs[i].req, n, (int)n);
    if (req.keep_alive != cs[i].keep_alive)
      fail_msg("case %zu: keep_alive %d", i, req.keep_alive);
  }
}

/* A head and the result the parser must give for it: an error code, or OK
 * for "complete, all bytes consumed". */
typedef struct {
  const char *req;
  size_t len;
  int want;
} parse_case;

#define OK 1
#define G11 "GET / HTTP/1.1\r\nHost: a\r\n"
#define P11 "POST / HTTP/1.1\r\nHost: a\r\n"
#define CASES(t) t, sizeof(t) / sizeof(t[0])

/* Checks every case in one call, and its status however it is split. */
static void expect_results(const parse_case *c, size_t n, const char *what) {
  char name[64];
  size_t i;
  int r, want;

  for (i = 0; i < n; i++) {
    want = c[i].want == OK ? (int)c[i].len : c[i].want;
    r = parse_one(c[i].req, c[i].len, NULL);
    if (r != want)
      fail_msg("%s case %zu: got %d (%s), expected %d (%s)", what, i, r,
               eddy_http_strerror(r), want, eddy_http_strerror(want));
    snprintf(name, sizeof(name), "%s case %zu", what, i);
    expect_status(c[i].req, c[i].len, NULL, eddy_http_error_status(want), name);
  }
}

static void test_method_and_target_errors(void **state) {
  static const parse_case cases[] = {
      {S("GETS /" H11 "\r\n"), EDDY_HTTP_E_UNKNOWN_METHOD},
      {S("PATCX /" H11 "\r\n"), EDDY_HTTP_E_UNKNOWN_METHOD},
      {S("DELETX /" H11 "\r\n"), EDDY_HTTP_E_UNKNOWN_METHOD},
      {S("CONNECX /" H11 "\r\n"), EDDY_HTTP_E_UNKNOWN_METHOD},
      {S("M-SEARCH *" H11 "\r\n"), EDDY_HTTP_E_UNKNOWN_METHOD},
      {S(" GET /" H11 "\r\n"), EDDY_HTTP_E_BAD_METHOD},
      {S("GET\t/" H11 "\r\n"), EDDY_HTTP_E_BAD_METHOD},
      {S("GET  /" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("GET *" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("GET /\xc3\xa9" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("GET /a\x7f" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("GET /a#frag" H11 "\r\n"), OK},
      {S("GET 1http://x/" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("GET example.com" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("GET h+t.t-p:x" H11 "\r\n"), OK},
      {S("CONNECT [::1]:8443" H11 "\r\n"), OK},
      {S("CONNECT /" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("CONNECT a.com" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("CONNECT a.com:" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("CONNECT :443" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("CONNECT a:123456" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("CONNECT u@a:1" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
      {S("CONNECT a/b:1" H11 "\r\n"), EDDY_HTTP_E_BAD_TARGET},
  };
  (void)state;
  expect_results(CASES(cases), "method/target");
}

static void test_version_errors(void **state) {
  static const parse_case cases[] = {
      {S("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), OK},
      {S("GET / HTTP/0.9\r\n\r\n"), EDDY_HTTP_E_VERSION_UNSUPPORTED},
      {S("GET / HTTP/3.0\r\n\r\n"), EDDY_HTTP_E_VERSION_UNSUPPORTED},
      {S("GET / HTTP/10.0\r\n\r\n"), EDDY_HTTP_E_BAD_VERSION},
      {S("GET / http/1.1\r\n\r\n"), EDDY_HTTP_E_BAD_VERSION},
      {S("GET / HTTP/1.1 \r\n\r\n"), EDDY_HTTP_E_BAD_VERSION},
      {S("GET / HTTP/1.\r\n\r\n"), EDDY_HTTP_E_BAD_VERSION},
      {S("GET / HTTP/1.10\r\n\r\n"), EDDY_HTTP_E_BAD_VERSION},
      {S("GET / HTTP/1.1\rX"), EDDY_HTTP_E_BAD_NEWLINE},
      {S("GET / HTTP/1.1\n"), EDDY_HTTP_E_BAD_NEWLINE},
  };
  (void)state;
  expect_results(CASES(cases), "version");
}

static void test_field_line_errors(void **state) {
  static const parse_case cases[] = {
      {S(G11 "X: a\x7f\r\n\r\n"), EDDY_HTTP_E_BAD_HEADER_VALUE},
      {S(G11 "X: a\x01\r\n\r\n"), EDDY_HTTP_E_BAD_HEADER_VALUE},
      {S(G11 "X: a\n\r\n"), EDDY_HTTP_E_BAD_NEWLINE},
      {S(G11 "\rX"), EDDY_HTTP_E_BAD_NEWLINE},
      {S(G11 "\n"), EDDY_HTTP_E_BAD_NEWLINE},
      {S(G11 "\tX: a\r\n\r\n"), EDDY_HTTP_E_OBS_FOLD},
      {S(G11 "X\"Y: a\r\n\r\n"), EDDY_HTTP_E_BAD_HEADER_NAME},
      {S(G11 "X\xc3\xa9: a\r\n\r\n"), EDDY_HTTP_E_BAD_HEADER_NAME},
      {S(G11 "X:\r\n\r\n"), OK},
      {S(G11 "X: \x80\xff\r\n\r\n"), OK},
  };
  (void)state;
  expect_results(CASES(cases), "field line");
}

static void test_framing_field_errors(void **state) {
  static const parse_case cases[] = {
      {S(P11 "Transfer-Encoding: gzip, chunked\r\n\r\n"),
       EDDY_HTTP_E_CODING_UNSUPPORTED},
      {S(P11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
       EDDY_HTTP_E_CODING_UNSUPPORTED},
      {S(P11 "Transfer-Encoding: chunked, chunked\r\n\r\n"),
       EDDY_HTTP_E_BAD_TRANSFER_ENCODING},
      {S(P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"),
       EDDY_HTTP_E_BAD_TRANSFER_ENCODING},
      {S(P11 "Transfer-Encoding:\r\n\r\n"), EDDY_HTTP_E_BAD_TRANSFER_ENCODING},
      {S(P11 "Transfer-Encoding: chunked;q=1\r\n\r\n"),
       EDDY_HTTP_E_BAD_TRANSFER_ENCODING},
      {S(P11 "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"),
       EDDY_HTTP_E_AMBIGUOUS_FRAMING},
      {S(P11 "Transfer-Encoding: , CHUNKED ,\r\n\r\n"), OK},
      {S(P11 "Content-Length:\r\n\r\n"), EDDY_HTTP_E_BAD_CONTENT_LENGTH},
      {S(P11 "Content-Length: 1 2\r\n\r\n"), EDDY_HTTP_E_BAD_CONTENT_LENGTH},
      {S(P11 "Content-Length: 0x10\r\n\r\n"), EDDY_HTTP_E_BAD_CONTENT_LENGTH},
      {S(P11 "Content-Length: 18446744073709551615\r\n\r\n"),
       EDDY_HTTP_E_BODY_TOO_LARGE},
      {S(P11 "Content-Length:  0 \r\n\r\n"), OK},
      {S(G11 "Expect: foo\r\n\r\n"), EDDY_HTTP_E_EXPECTATION_FAILED},
      {S(G11 "Expect: 100-continue, foo\r\n\r\n"),
       EDDY_HTTP_E_EXPECTATION_FAILED},
      {S("GET / HTTP/1.0\r\nExpect: foo\r\n\r\n"), OK}, /* 9110 §10.1.1 */
      {S("GET / HTTP/1.1\r\nExpect: foo\r\n\r\n"), EDDY_HTTP_E_BAD_HOST},
      {S("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), EDDY_HTTP_E_BAD_HOST},
      {S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), OK},
  };
  (void)state;
  expect_results(CASES(cases), "framing field");
}

static void test_expect_continue_flag(void **state) {
  static const char in[] = P11 "Expect: 100-Continue\r\nContent-Length: 1"
                               "\r\n\r\n";
  static const char old[] = "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_true(req.expect_continue);
  parse_ok(&req, h, old, sizeof(old) - 1, (int)sizeof(old) - 1);
  assert_false(req.expect_continue);
}

static void test_content_length_zero_and_max(void **state) {
  static const char zero[] = P11 "Content-Length: 0\r\n\r\n";
  static const char max[] = P11 "Content-Length: 018446744073709551615\r\n\r\n";
  eddy_http_limits_t lim = eddy_http_limits_default();
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, zero, sizeof(zero) - 1, (int)sizeof(zero) - 1);
  assert_int_equal(req.body, EDDY_HTTP_BODY_LENGTH);
  assert_int_equal(req.content_length, 0);
  lim.body_max = 0; /* no limit */
  eddy_http_request_init(&req, h, 100);
  assert_int_equal(eddy_http_parse_request(max, sizeof(max) - 1, &req, &lim),
                   (int)sizeof(max) - 1);
  assert_int_equal(req.content_length, UINT64_MAX);
}

static void test_version_1_9_read_as_1_1(void **state) {
  static const char in[] = "GET / HTTP/1.9\r\nHost: a\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_int_equal(req.version_minor, 1);
  assert_true(req.keep_alive);
}

static void test_header_value_trimmed_not_altered(void **state) {
  static const char in[] = G11 "X: \t a\xff \tb \t\r\n\r\n";
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, in, sizeof(in) - 1, (int)sizeof(in) - 1);
  assert_span(req.headers[1].value, req.headers[1].value_len, "a\xff \tb");
}

/* A buffer that moves between calls (realloc) gives the same result as one
 * that stays put; the parser restarts on the new buffer. */
static void test_moved_buffer_restarts(void **state) {
  static const char in[] = "GET /moved HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
  char *a = malloc(sizeof(in)), *b = malloc(sizeof(in));
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  memcpy(a, in, sizeof(in));
  memcpy(b, in, sizeof(in));
  eddy_http_request_init(&req, h, 100);
  assert_int_equal(eddy_http_parse_request(a, 25, &req, NULL),
                   EDDY_HTTP_INCOMPLETE);
  free(a);
  assert_int_equal(eddy_http_parse_request(b, sizeof(in) - 1, &req, NULL),
                   (int)sizeof(in) - 1);
  assert_ptr_equal(req.target, b + 4);
  assert_ptr_equal(req.headers[0].name, b + 21);
  assert_int_equal(req.num_headers, 2);
  free(b);
}

/* Resuming costs linear time: a head fed one byte per call is parsed with
 * each byte examined a bounded number of times. Checked indirectly: a
 * 16 KiB head fed byte by byte must finish quickly even under sanitizers. */
static void test_byte_by_byte_is_incremental(void **state) {
  text t =
      text_fill("GET / HTTP/1.1\r\nHost: a\r\nX: ", 'v', 16000, "\r\n\r\n");
  eddy_http_header_t h[100];
  eddy_http_request_t req;
  size_t i;
  int r = EDDY_HTTP_INCOMPLETE;

  (void)state;
  eddy_http_request_init(&req, h, 100);
  for (i = 1; i <= t.len; i++) {
    r = eddy_http_parse_request(t.p, i, &req, NULL);
    if (i < t.len)
      assert_int_equal(r, EDDY_HTTP_INCOMPLETE);
  }
  assert_int_equal(r, (int)t.len);
  assert_int_equal(req.headers[1].value_len, 16000);
  free(t.p);
}

/* ---- limits: exactly at the limit is fine, one byte over is refused ------ */

/* Builds a complete head of exactly size bytes (request line + fields +
 * final CRLF), padding one field value. */
static text head_of_size(size_t size) {
  static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  size_t fixed = sizeof(pre) - 1 + 4;
  assert_true(size > fixed);
  return text_fill(pre, 'p', size - fixed, "\r\n\r\n");
}

static void test_limit_header_block(void **state) {
  text ok = head_of_size(16384), over = head_of_size(16385);
  text lead = {0};

  (void)state;
  assert_int_equal(parse_one(ok.p, ok.len, NULL), 16384);
  assert_int_equal(parse_one(over.p, over.len, NULL),
                   EDDY_HTTP_E_HEADERS_TOO_LARGE);
  /* leading empty lines do not count */
  text_add(&lead, S("\r\n"));
  text_add(&lead, ok.p, ok.len);
  assert_int_equal(parse_one(lead.p, lead.len, NULL), 16386);
  expect_status(ok.p, ok.len, NULL, 0, "header block at limit");
  expect_status(over.p, over.len, NULL, 431, "header block over limit");
  /* a head still incomplete at the limit is refused at once */
  assert_int_equal(parse_one(over.p, 16384, NULL),
                   EDDY_HTTP_E_HEADERS_TOO_LARGE);
  free(ok.p);
  free(over.p);
  free(lead.p);
}

static void test_limit_target(void **state) {
  text ok = text_fill("GET /", 't', 8191, " HTTP/1.1\r\nHost: a\r\n\r\n");
  text over = text_fill("GET /", 't', 8192, " HTTP/1.1\r\nHost: a\r\n\r\n");
  eddy_http_header_t h[100];
  eddy_http_request_t req;

  (void)state;
  parse_ok(&req, h, ok.p, ok.len, (int)ok.len);
  assert_int_equal(req.target_len, 8192);
  assert_int_equal(parse_one(over.p, over.len, NULL),
                   EDDY_HTTP_E_TARGET_TOO_LONG);
  /* refused as soon as the 8193rd byte is seen */
  assert_int_equal(parse_one(over.p, 5 + 8192, NULL),
                   EDDY_HTTP_E_TARGET_TOO_LONG);
  expect_status(over.p, over.len, NULL, 414, "target over limit");
  free(ok.p);
  free(over.p);
}

/* Builds a head with n fields (Host first). */
static text head_with_fields(int n) {
  text t = {0};
  int i;

  text_add(&t, S("GET / HTTP/1.1\r\nHost: a\r\n"));
  for (i = 1; i < n; i++)
    text_printf(&t, "X-%d: %d\r\n", i, i);
  text_add(&t, S("\r\n"));
  return t;
}

static void test_limit_header_count(void **state) {
  text ok = head_with_fields(100), over = head_with_fields(101);
  eddy_http_header_t small[10];
  eddy_http_request_t req;

  (void)state;
  assert_int_equal(parse_one(ok.p, ok.len, NULL), (int)ok.len);
  assert_int_equal(parse_one(over.p, over.len, NULL),
                   EDDY_HTTP_E_TOO_MANY_HEADERS);
  expect_status(over.p, over.len, NULL, 431, "101 fields");
  /* the caller's array caps the count too */
  eddy_http_request_init(&req, small, 10);
  assert_int_equal(eddy_http_parse_request(ok.p, ok.len, &req, NULL),
                   EDDY_HTTP_E_TOO_MANY_HEADERS);
  assert_int_equal(req.num_headers, 10);
  free(ok.p);
  free(over.p);
}

static void test_limit_content_length(void **state) {
  (void)state;
  assert_true(parse_one(S("POST / HTTP/1.1\r\nHost: a\r\n"
                          "Content-Length: 1048576\r\n\r\n"),
                        NULL) > 0);
  assert_int_equal(parse_one(S("POST / HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 1048577\r\n\r\n"),
                             NULL),
                   EDDY_HTTP_E_BODY_TOO_LARGE);
}

static void test_custom_limits(void **state) {
  eddy_http_limits_t lim = {64, 4, 2, 10, 3};

  (void)state;
  assert_true(parse_one(S("GET /abc HTTP/1.1\r\nHost: a\r\n\r\n"), &lim) > 0);
  assert_int_equal(parse_one(S("GET /abcd HTTP/1.1\r\nHost: a\r\n\r\n"), &lim),
                   EDDY_HTTP_E_TARGET_TOO_LONG);
  assert_int_equal(parse_one(S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2"
                               "\r\n\r\n"),
                             &lim),
                   EDDY_HTTP_E_TOO_MANY_HEADERS);
  assert_int_equal(parse_one(S("POST / HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 11\r\n\r\n"),
                             &lim),
                   EDDY_HTTP_E_BODY_TOO_LARGE);
  expect_status(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
                  "\r\n\r\n5;ab\r\n12345\r\n5\r\n12345\r\n0\r\n\r\n"),
                &lim, 0, "chunked body at body_max, ext at chunk_ext_max");
  expect_status(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
                  "\r\n\r\n5\r\n12345\r\n6\r\n123456\r\n0\r\n\r\n"),
                &lim, 413, "chunked body over body_max");
  expect_status(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
                  "\r\n\r\n5;abc\r\n12345\r\n0\r\n\r\n"),
                &lim, 413, "chunk ext over chunk_ext_max");
}

/* ---- chunked decoder ------------------------------------------------------
 */

/* Collects data spans. */
static void collect(void *arg, const char *data, size_t n) {
  text_add(arg, data, n);
}

/* Decodes body delivered in pieces of `piece` bytes (0: whole), or split
 * once at `split` when piece is SIZE_MAX. Returns the error, or
 * EDDY_HTTP_INCOMPLETE, or the offset in body where the body ended (also
 * stored in *used). */
static int decode(const char *body, size_t n, const eddy_http_limits_t *lim,
                  size_t piece, size_t split, text *out, size_t *used) {
  eddy_http_chunked_decoder_t dec;
  size_t off = 0, len;
  int r = EDDY_HTTP_INCOMPLETE;

  eddy_http_chunked_init(&dec, lim);
  text_add(out, "", 0);
  *used = 0;
  while (off < n) {
    len = n - off;
    if (piece == SIZE_MAX)
      len = off < split ? split - off : n - off;
    else if (piece != 0 && len > piece)
      len = piece;
    r = eddy_http_chunked_decode(&dec, body + off, len, collect, out);
    if (r != EDDY_HTTP_INCOMPLETE) {
      assert_int_equal(eddy_http_chunked_decode(&dec, body, n, collect, out),
                       r > 0 ? 0 : r); /* sticky end / error */
      if (r <= 0)
        return r;
      *used = off + (size_t)r;
      return (int)*used;
    }
    off += len;
  }
  return r;
}

/* Decodes body whole, byte by byte and split at every point; all must agree
 * on the data, the result and the end offset. Returns the whole result. */
static int decode_all(const char *body, size_t n, const eddy_http_limits_t *lim,
                      text *out, size_t *used, const char *what) {
  int r = decode(body, n, lim, 0, 0, out, used), r2;
  size_t k, used2, step = n <= 4096 ? 1 : n / 97;
  text o2;

  for (k = 0; k < n; k += step) {
    o2 = (text){0};
    if (k == 0)
      r2 = decode(body, n, lim, 1, 0, &o2, &used2);
    else
      r2 = decode(body, n, lim, SIZE_MAX, k, &o2, &used2);
    if (r2 != r || used2 != *used || o2.len != out->len ||
        memcmp(o2.p, out->p, o2.len) != 0)
      fail_msg("%s: %s %zu: result %d/%d used %zu/%zu data \"%s\"/\"%s\"", what,
               k ? "split" : "bytes", k, r2, r, used2, *used, o2.p, out->p);
    free(o2.p);
  }
  return r;
}

/* Checks a body decodes to data and ends right before the tail. */
static void expect_body(const char *body, size_t n, const char *data,
                        size_t tail) {
  text out = {0};
  size_t used;
  int r = decode_all(body, n, NULL, &out, &used, body);

  if (r <= 0)
    fail_msg("\"%s\": result %d (%s)", body, r, eddy_http_strerror(r));
  assert_int_equal(used, n - tail);
  assert_string_equal(out.p, data);
  free(out.p);
}

/* Checks a body fails with err, however it is split. */
static void expect_body_error(const char *body, size_t n,
                              const eddy_http_limits_t *lim, int err) {
  text out = {0};
  size_t used;
  int r = decode_all(body, n, lim, &out, &used, body);

  if (r != err)
    fail_msg("\"%.40s\": result %d (%s), expected %d", body, r,
             eddy_http_strerror(r), err);
  free(out.p);
}

static void test_chunked_simple_body(void **state) {
  (void)state;
  expect_body(S("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "hello world", 0);
  expect_body(S("0\r\n\r\n"), "", 0);
  expect_body(S("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n"),
              "0123456789abcdefghij", 0);
}

static void test_chunked_extensions_and_trailers(void **state) {
  (void)state;
  expect_body(S("3;a=b;c;d=\"q \\\" \\\\ t\"\r\nabc\r\n"
                "2 ; x = y ;z\r\nde\r\n"
                "1;n =\"v\" ;m\t=\t\"\"\t;k\r\nf\r\n"
                "0;last\r\nTrailer-A: 1\r\nB:\r\n\r\n"),
              "abcdef", 0);
}

static void test_chunked_end_offset_for_pipelining(void **state) {
  (void)state;
  expect_body(S("1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), "x",
              sizeof("GET / HTTP/1.1\r\n") - 1);
}

static void test_chunked_large_body_spans_are_zero_copy(void **state) {
  text body = text_fill("4000\r\n", 'z', 0x4000, "\r\n0\r\n\r\n");
  text out = {0};
  size_t used;

  (void)state;
  assert_int_equal(decode_all(body.p, body.len, NULL, &out, &used, "16K"),
                   (int)body.len);
  assert_int_equal(out.len, 0x4000);
  free(out.p);
  free(body.p);
}

static void test_chunked_bad_sizes(void **state) {
  (void)state;
  expect_body_error(S("zz\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_SIZE);
  expect_body_error(S("0x2\r\nab\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_SIZE);
  expect_body_error(S("2   \r\nab\r\n0\r\n\r\n"), NULL,
                    EDDY_HTTP_E_BAD_CHUNK_SIZE);
  expect_body_error(S("\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_SIZE);
  expect_body_error(S("-1\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_SIZE);
  /* 2^64 and beyond: overflow caught before it happens */
  expect_body_error(S("10000000000000000\r\n"), NULL,
                    EDDY_HTTP_E_BAD_CHUNK_SIZE);
  expect_body_error(S("FFFFFFFFFFFFFFFFF\r\n"), NULL,
                    EDDY_HTTP_E_BAD_CHUNK_SIZE);
  /* 2^64-1 is a valid size, then over the default body limit */
  expect_body_error(S("FFFFFFFFFFFFFFFF\r\n"), NULL,
                    EDDY_HTTP_E_BODY_TOO_LARGE);
  /* leading zeros are fine up to 32 digits */
  expect_body(S("00000000000000000000000000000001\r\nx\r\n0\r\n\r\n"), "x", 0);
  expect_body_error(S("000000000000000000000000000000001\r\n"), NULL,
                    EDDY_HTTP_E_BAD_CHUNK_SIZE);
}

static void test_chunked_bad_framing(void **state) {
  (void)state;
  /* data not followed by CRLF */
  expect_body_error(S("2\r\nabc\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_DATA);
  expect_body_error(S("2\rab"), NULL, EDDY_HTTP_E_BAD_NEWLINE);
  expect_body_error(S("2\r\nab\rX"), NULL, EDDY_HTTP_E_BAD_CHUNK_DATA);
  /* bare LF */
  expect_body_error(S("2\nab\n0\n\n"), NULL, EDDY_HTTP_E_BAD_NEWLINE);
  expect_body_error(S("2\r\nab\n0\r\n\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_DATA);
  expect_body_error(S("0\r\n\n"), NULL, EDDY_HTTP_E_BAD_NEWLINE);
  expect_body_error(S("0\r\nA: b\n\r\n"), NULL, EDDY_HTTP_E_BAD_NEWLINE);
  expect_body_error(S("0\r\n\rX"), NULL, EDDY_HTTP_E_BAD_NEWLINE);
}

static void test_chunked_bad_extensions(void **state) {
  (void)state;
  expect_body_error(S("1;\r\nx\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_EXT);
  expect_body_error(S("1;a=\r\nx\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_EXT);
  expect_body_error(S("1;a \r\nx\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_EXT);
  expect_body_error(S("1;a=\"x\r\nx\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_EXT);
  expect_body_error(S("1;a=b c\r\nx\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_EXT);
  expect_body_error(S("1;a\001\r\nx\r\n"), NULL, EDDY_HTTP_E_BAD_CHUNK_EXT);
}

static void test_chunked_extension_limit(void **state) {
  /* "1;e=" + value: the extension is everything after the size */
  text ok = text_fill("1;e=", 'x', 16384 - 3, "\r\na\r\n0\r\n\r\n");
  text over = text_fill("1;e=", 'x', 16384 - 2, "\r\na\r\n0\r\n\r\n");
  text big = text_fill("1;e=", 'x', 20 * 1024, "\r\na\r\n0\r\n\r\n");
  text out = {0};
  size_t used;

  (void)state;
  assert_int_equal(decode_all(ok.p, ok.len, NULL, &out, &used, "ext 16 KiB"),
                   (int)ok.len);
  assert_string_equal(out.p, "a");
  expect_body_error(over.p, over.len, NULL, EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE);
  expect_body_error(big.p, big.len, NULL, EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE);
  assert_int_equal(eddy_http_error_status(EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE),
                   413);
  free(out.p);
  free(ok.p);
  free(over.p);
  free(big.p);
}

static void test_chunked_trailer_limits(void **state) {
  eddy_http_limits_t lim = {16, 8192, 2, 0, 16};
  text out = {0};
  size_t used;

  (void)state;
  /* trailer section "A: 123456789\r\n\r\n" is exactly 16 bytes */
  assert_true(decode_all(S("0\r\nA: 123456789\r\n\r\n"), &lim, &out, &used,
                         "trailers at limit") > 0);
  expect_body_error(S("0\r\nA: 1234567890\r\n\r\n"), &lim,
                    EDDY_HTTP_E_HEADERS_TOO_LARGE);
  expect_body_error(S("0\r\nA:1\r\nB:2\r\nC:3\r\n\r\n"), &lim,
                    EDDY_HTTP_E_TOO_MANY_HEADERS);
  expect_body_error(S("0\r\nA:1\r\n folded\r\n\r\n"), NULL,
                    EDDY_HTTP_E_OBS_FOLD);
  expect_body_error(S("0\r\nA B:1\r\n\r\n"), NULL, EDDY_HTTP_E_BAD_HEADER_NAME);
  expect_body_error(S("0\r\n:1\r\n\r\n"), NULL, EDDY_HTTP_E_BAD_HEADER_NAME);
  expect_body_error(S("0\r\nA:\0\r\n\r\n"), NULL, EDDY_HTTP_E_BAD_HEADER_VALUE);
  free(out.p);
}

static void test_chunked_body_limit(void **state) {
  eddy_http_limits_t lim = eddy_http_limits_default();
  text out = {0};
  size_t used;

  (void)state;
  lim.body_max = 10;
  assert_true(decode_all(S("4\r\n1234\r\n6\r\n123456\r\n0\r\n\r\n"), &lim, &out,
                         &used, "body at limit") > 0);
  expect_body_error(S("4\r\n1234\r\n7\r\n1234567\r\n0\r\n\r\n"), &lim,
                    EDDY_HTTP_E_BODY_TOO_LARGE);
  free(out.p);
}

/* body_len counts the data; after the end, calls return 0. */
static void test_chunked_state_after_end(void **state) {
  eddy_http_chunked_decoder_t dec;

  (void)state;
  eddy_http_chunked_init(&dec, NULL);
  assert_int_equal(
      eddy_http_chunked_decode(&dec, S("3\r\nabc\r\n"), NULL, NULL),
      EDDY_HTTP_INCOMPLETE);
  assert_int_equal(dec.body_len, 3);
  assert_int_equal(eddy_http_chunked_decode(&dec, S("0\r\n\r\nX"), NULL, NULL),
                   5);
  assert_int_equal(eddy_http_chunked_decode(&dec, S("0\r\n\r\n"), NULL, NULL),
                   0);
  assert_int_equal(eddy_http_chunked_decode(&dec, NULL, 0, NULL, NULL), 0);
}

/* ---- odds and ends --------------------------------------------------------
 */

static void test_error_status_mapping(void **state) {
  static const struct {
    int err, status;
  } m[] = {
      {EDDY_HTTP_E_BAD_METHOD, 400},
      {EDDY_HTTP_E_UNKNOWN_METHOD, 501},
      {EDDY_HTTP_E_BAD_TARGET, 400},
      {EDDY_HTTP_E_TARGET_TOO_LONG, 414},
      {EDDY_HTTP_E_BAD_VERSION, 400},
      {EDDY_HTTP_E_VERSION_UNSUPPORTED, 505},
      {EDDY_HTTP_E_BAD_NEWLINE, 400},
      {EDDY_HTTP_E_EMPTY_LINES, 400},
      {EDDY_HTTP_E_BAD_HEADER_NAME, 400},
      {EDDY_HTTP_E_BAD_HEADER_VALUE, 400},
      {EDDY_HTTP_E_OBS_FOLD, 400},
      {EDDY_HTTP_E_HEADERS_TOO_LARGE, 431},
      {EDDY_HTTP_E_TOO_MANY_HEADERS, 431},
      {EDDY_HTTP_E_BAD_CONTENT_LENGTH, 400},
      {EDDY_HTTP_E_BAD_TRANSFER_ENCODING, 400},
      {EDDY_HTTP_E_CODING_UNSUPPORTED, 501},
      {EDDY_HTTP_E_AMBIGUOUS_FRAMING, 400},
      {EDDY_HTTP_E_BAD_HOST, 400},
      {EDDY_HTTP_E_BODY_TOO_LARGE, 413},
      {EDDY_HTTP_E_EXPECTATION_FAILED, 417},
      {EDDY_HTTP_E_BAD_CHUNK_SIZE, 400},
      {EDDY_HTTP_E_BAD_CHUNK_EXT, 400},
      {EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE, 413},
      {EDDY_HTTP_E_BAD_CHUNK_DATA, 400},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
    assert_int_equal(eddy_http_error_status(m[i].err), m[i].status);
    assert_string_not_equal(eddy_http_strerror(m[i].err), "unknown error");
  }
  assert_int_equal(eddy_http_error_status(EDDY_HTTP_INCOMPLETE), 0);
  assert_int_equal(eddy_http_error_status(42), 0);
  assert_int_equal(eddy_http_error_status(-1), 500);
  assert_string_equal(eddy_http_strerror(-1), "unknown error");
}

static void test_limits_default_values(void **state) {
  eddy_http_limits_t lim = eddy_http_limits_default();

  (void)state;
  assert_int_equal(lim.header_max, 16384);
  assert_int_equal(lim.target_max, 8192);
  assert_int_equal(lim.headers_max, 100);
  assert_int_equal(lim.body_max, 1048576);
  assert_int_equal(lim.chunk_ext_max, 16384);
}

/* The generated character table matches the RFC definitions. */
static void test_char_table_matches_rfc(void **state) {
  static const char tchar[] = "!#$%&'*+-.^_`|~";
  int c;

  (void)state;
  for (c = 0; c < 256; c++) {
    int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                (c >= 'A' && c <= 'Z');
    int token = alnum || (c != 0 && strchr(tchar, c) != NULL);
    int value = c == '\t' || (c >= 0x20 && c != 0x7f);
    int target = c > 0x20 && c < 0x7f;
    int qd = c == '\t' || c == ' ' || c == '!' || (c >= 0x23 && c <= 0x5b) ||
             (c >= 0x5d && c <= 0x7e) || c >= 0x80;
    int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F');
    if (eddy__http_is((unsigned char)c, EDDY__HTTP_TOKEN) != token ||
        eddy__http_is((unsigned char)c, EDDY__HTTP_VALUE) != value ||
        eddy__http_is((unsigned char)c, EDDY__HTTP_TARGET) != target ||
        eddy__http_is((unsigned char)c, EDDY__HTTP_QDTEXT) != qd ||
        eddy__http_is((unsigned char)c, EDDY__HTTP_HEX) != hex)
      fail_msg("byte 0x%02x misclassified", c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hostile_table),
      cmocka_unit_test(test_row2_hidden_request_never_parsed),
      cmocka_unit_test(test_row28_huge_header_value),
      cmocka_unit_test(test_row29_huge_target),
      cmocka_unit_test(test_row30_three_thousand_headers),
      cmocka_unit_test(test_row35_huge_chunk_extension),
      cmocka_unit_test(test_row38_pipelined_pair),
      cmocka_unit_test(test_get_with_headers),
      cmocka_unit_test(test_post_content_length),
      cmocka_unit_test(test_post_chunked_with_extensions_and_trailers),
      cmocka_unit_test(test_http10_keep_alive),
      cmocka_unit_test(test_pipelined_pair_offsets),
      cmocka_unit_test(test_leading_empty_line_skipped),
      cmocka_unit_test(test_too_many_leading_empty_lines),
      cmocka_unit_test(test_head_request),
      cmocka_unit_test(test_options_asterisk),
      cmocka_unit_test(test_absolute_form_target),
      cmocka_unit_test(test_connect_authority_form),
      cmocka_unit_test(test_all_known_methods),
      cmocka_unit_test(test_connection_options),
      cmocka_unit_test(test_method_and_target_errors),
      cmocka_unit_test(test_version_errors),
      cmocka_unit_test(test_field_line_errors),
      cmocka_unit_test(test_framing_field_errors),
      cmocka_unit_test(test_expect_continue_flag),
      cmocka_unit_test(test_content_length_zero_and_max),
      cmocka_unit_test(test_version_1_9_read_as_1_1),
      cmocka_unit_test(test_header_value_trimmed_not_altered),
      cmocka_unit_test(test_moved_buffer_restarts),
      cmocka_unit_test(test_byte_by_byte_is_incremental),
      cmocka_unit_test(test_limit_header_block),
      cmocka_unit_test(test_limit_target),
      cmocka_unit_test(test_limit_header_count),
      cmocka_unit_test(test_limit_content_length),
      cmocka_unit_test(test_custom_limits),
      cmocka_unit_test(test_chunked_simple_body),
      cmocka_unit_test(test_chunked_extensions_and_trailers),
      cmocka_unit_test(test_chunked_end_offset_for_pipelining),
      cmocka_unit_test(test_chunked_large_body_spans_are_zero_copy),
      cmocka_unit_test(test_chunked_bad_sizes),
      cmocka_unit_test(test_chunked_bad_framing),
      cmocka_unit_test(test_chunked_bad_extensions),
      cmocka_unit_test(test_chunked_extension_limit),
      cmocka_unit_test(test_chunked_trailer_limits),
      cmocka_unit_test(test_chunked_body_limit),
      cmocka_unit_test(test_chunked_state_after_end),
      cmocka_unit_test(test_error_status_mapping),
      cmocka_unit_test(test_limits_default_values),
      cmocka_unit_test(test_char_table_matches_rfc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
