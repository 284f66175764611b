/* HTTP/1.1 request-head parser: request line + header section.
 *
 * A small resumable state machine. Each state scans a run of bytes with a
 * tight table-driven loop; when the bytes run out, the state and offsets go
 * into req->priv and the next call continues from there. Results are written
 * as pointers into the caller's buffer as soon as they are known; if the
 * buffer moved between two calls the parse restarts on the new buffer, so no
 * stale pointer survives.
 *
 * Split invariance: every check happens at a fixed byte position (the first
 * offending byte wins, and "the block passed its size limit" is the byte at
 * offset start + header_max), so the outcome cannot depend on where reads end.
 */
#include "eddy/errno.h"
#include "eddy/http_parser.h"

#include <assert.h>
#include <string.h>

#include "http_chars.h"

/* The parser's results and the resolver's codes share no value. */
_Static_assert((int)EDDY_EAI_ADDRFAMILY<(int)EDDY_HTTP_E_BAD_CHUNK_DATA &&
                                        EDDY_HTTP_INCOMPLETE> -
                   3100,
               "HTTP parser results overlap the EAI codes");

/* Parser states (req->priv.state). */
enum {
  ST_START = 0, /* before the request line: skipping empty lines */
  ST_START_LF,  /* CR of an empty line seen, LF must follow */
  ST_METHOD,
  ST_TARGET,
  ST_VERSION, /* "HTTP/d.d" CR LF, checked byte by byte */
  ST_LINE,    /* start of a field line or of the final empty line */
  ST_NAME,
  ST_OWS, /* whitespace after the colon */
  ST_VALUE,
  ST_VALUE_LF, /* CR ending a field line seen, LF must follow */
  ST_END_LF,   /* CR of the final empty line seen, LF must follow */
  ST_DONE,
  ST_ERROR
};

/* Framing facts collected from the fields (req->priv.flags). */
enum {
  F_CL = 1 << 0,         /* Content-Length present */
  F_TE = 1 << 1,         /* Transfer-Encoding present */
  F_TE_CHUNKED = 1 << 2, /* "chunked" listed */
  F_TE_TWICE = 1 << 3,   /* "chunked" listed more than once */
  F_TE_LAST = 1 << 4,    /* the last coding listed so far is "chunked" */
  F_TE_OTHER = 1 << 5,   /* a coding other than "chunked" listed */
  F_CLOSE = 1 << 6,      /* Connection: close */
  F_KEEP_ALIVE = 1 << 7, /* Connection: keep-alive */
  F_EXPECT_BAD = 1 << 8  /* HTTP/1.1 Expect other than 100-continue */
};

/* Cap on header_max so that every offset fits the int result. */
#define HEADER_MAX_CAP ((size_t)1 << 30)

static const eddy_http_limits_t default_limits = EDDY_HTTP_LIMITS_INIT;

/* Returns the defaults documented in the header. */
eddy_http_limits_t eddy_http_limits_default(void) {
  return default_limits;
}

/* Clears every result and the parser state; keeps the caller's array. */
static void request_reset(eddy_http_request_t *req, const char *buf) {
  eddy_http_header_t *headers = req->headers;
  size_t max_headers = req->max_headers;

  memset(req, 0, sizeof(*req));
  req->headers = headers;
  req->max_headers = max_headers;
  req->priv.base = (uintptr_t)buf;
}

/* Public: see the header. */
void eddy_http_request_init(eddy_http_request_t *req,
                            eddy_http_header_t *headers, size_t max_headers) {
  assert(req != NULL);
  assert(headers != NULL || max_headers == 0);
  req->headers = headers;
  req->max_headers = max_headers;
  request_reset(req, NULL);
  req->priv.state = ST_DONE; /* the first call starts a fresh request */
}

/* Returns the first byte in [p, stop) outside class cls, or stop. Unrolled
 * because this loop is where the parser spends its time. */
static inline const char *scan(const char *p, const char *stop, unsigned cls) {
  while (stop - p >= 4) {
    if (!eddy__http_is((unsigned char)p[0], cls))
      return p;
    if (!eddy__http_is((unsigned char)p[1], cls))
      return p + 1;
    if (!eddy__http_is((unsigned char)p[2], cls))
      return p + 2;
    if (!eddy__http_is((unsigned char)p[3], cls))
      return p + 3;
    p += 4;
  }
  while (p < stop && eddy__http_is((unsigned char)*p, cls))
    p++;
  return p;
}

/* Returns the first byte in [p, stop) that cannot be in a field value, or
 * stop. Values are most of a head (cookies, user agents), so this checks
 * eight bytes per step (SWAR): a word passes if no byte is below 0x20 (CTL;
 * HTAB takes the byte loop) and none is 0x7f (DEL). Bytes >= 0x80 pass. */
static inline const char *scan_value(const char *p, const char *stop) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;

  while (stop - p >= 8) {
    uint64_t w, del;
    memcpy(&w, p, 8);
    del = w ^ (ones * 0x7f);
    if (((w - ones * 0x20) & ~w & highs) | ((del - ones) & ~del & highs))
      break;
    p += 8;
  }
  return scan(p, stop, EDDY__HTTP_VALUE);
}

/* Maps a method token to its eddy_http_method; 0 if it is not known. */
static int method_lookup(const char *s, size_t n) {
#define M(lit, m)                                                              \
  if (n == sizeof(lit) - 1 && memcmp(s, lit, n) == 0)                          \
  return m
  switch (n) {
  case 3:
    M("GET", EDDY_HTTP_GET);
    M("PUT", EDDY_HTTP_PUT);
    break;
  case 4:
    M("POST", EDDY_HTTP_POST);
    M("HEAD", EDDY_HTTP_HEAD);
    break;
  case 5:
    M("PATCH", EDDY_HTTP_PATCH);
    M("TRACE", EDDY_HTTP_TRACE);
    break;
  case 6:
    M("DELETE", EDDY_HTTP_DELETE);
    break;
  case 7:
    M("OPTIONS", EDDY_HTTP_OPTIONS);
    M("CONNECT", EDDY_HTTP_CONNECT);
    break;
  }
#undef M
  return 0;
}

/* authority-form (CONNECT only, RFC 9112 §3.2.3): host ":" 1*5DIGIT, where
 * host holds no '/', '?', '#' or '@'. */
static int authority_form_ok(const char *t, size_t n) {
  size_t colon = n, i;

  while (colon > 0 && t[colon - 1] >= '0' && t[colon - 1] <= '9')
    colon--;
  if (colon == n || n - colon > 5 || colon < 2 || t[colon - 1] != ':')
    return 0;
  for (i = 0; i < colon - 1; i++)
    if (t[i] == '/' || t[i] == '?' || t[i] == '#' || t[i] == '@')
      return 0;
  return 1;
}

/* absolute-form (§3.2.2): scheme ":" ..., scheme = ALPHA *(ALPHA / DIGIT /
 * "+" / "-" / "."). The rest was already checked to be VCHAR. */
static int absolute_form_ok(const char *t, size_t n) {
  size_t i;

  if (!((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z'))
    return 0;
  for (i = 1; i < n; i++) {
    unsigned char c = (unsigned char)t[i];
    if (c == ':')
      return 1;
    if (!(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
          c == '+' || c == '-' || c == '.'))
      return 0;
  }
  return 0;
}

/* Checks the request-target form against the method (RFC 9112 §3.2):
 * CONNECT takes authority-form, "*" is for OPTIONS only, anything else is
 * origin-form ("/...") or absolute-form. */
static int target_form_ok(eddy_http_method m, const char *t, size_t n) {
  assert(n > 0);
  if (m == EDDY_HTTP_CONNECT)
    return authority_form_ok(t, n);
  if (t[0] == '/')
    return 1;
  if (n == 1 && t[0] == '*')
    return m == EDDY_HTTP_OPTIONS;
  return absolute_form_ok(t, n);
}

/* Steps through a comma-separated list (RFC 9110 §5.6.1): stores the next
 * non-empty element, OWS-trimmed, in (*e, *en) and returns 1; returns 0 at the
 * end. *s is advanced past the element. */
static int list_next(const char **s, const char *end, const char **e,
                     size_t *en) {
  const char *p = *s;

  for (;;) {
    const char *q, *t;
    while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
      p++;
    if (p == end) {
      *s = p;
      return 0;
    }
    q = p;
    while (q < end && *q != ',')
      q++;
    t = q;
    while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
      t--;
    *e = p;
    *en = (size_t)(t - p);
    *s = q;
    assert(*en > 0);
    return 1;
  }
}

/* Content-Length = 1*DIGIT, overflow-checked (RFC 9110 §8.6). A list such
 * as "2, 2" is refused: strict, as nginx and Node are. */
static int parse_content_length(const eddy_http_header_t *h, uint64_t *out) {
  uint64_t v = 0;
  size_t i;

  if (h->value_len == 0)
    return EDDY_HTTP_E_BAD_CONTENT_LENGTH;
  for (i = 0; i < h->value_len; i++) {
    unsigned d = (unsigned char)h->value[i] - (unsigned)'0';
    if (d > 9)
      return EDDY_HTTP_E_BAD_CONTENT_LENGTH;
    if (v > (UINT64_MAX - d) / 10)
      return EDDY_HTTP_E_BAD_CONTENT_LENGTH;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* Records the codings of one Transfer-Encoding field; the verdict comes in
 * finish_head once every field has been seen. */
static void parse_transfer_encoding(const eddy_http_header_t *h,
                                    unsigned *flags) {
  const char *s = h->value, *end = h->value + h->value_len, *e;
  size_t en;

  *flags |= F_TE;
  while (list_next(&s, end, &e, &en)) {
    if (eddy__http_equals_ci(e, en, EDDY__HTTP_LIT("chunked"))) {
      if (*flags & F_TE_CHUNKED)
        *flags |= F_TE_TWICE;
      *flags |= F_TE_CHUNKED | F_TE_LAST;
    } else {
      *flags |= F_TE_OTHER;
      *flags &= ~(unsigned)F_TE_LAST;
    }
  }
}

/* Records the "close" and "keep-alive" options of a Connection field. */
static void parse_connection(const eddy_http_header_t *h, unsigned *flags) {
  const char *s = h->value, *end = h->value + h->value_len, *e;
  size_t en;

  while (list_next(&s, end, &e, &en)) {
    if (eddy__http_equals_ci(e, en, EDDY__HTTP_LIT("close")))
      *flags |= F_CLOSE;
    else if (eddy__http_equals_ci(e, en, EDDY__HTTP_LIT("keep-alive")))
      *flags |= F_KEEP_ALIVE;
  }
}

/* Looks at one complete field line. Only the framing fields matter here, and
 * a name is compared only when its length matches one of them. */
static int on_field(eddy_http_request_t *req, const eddy_http_header_t *h) {
  switch (h->name_len) {
  case 4:
    if (eddy__http_equals_ci(h->name, h->name_len, EDDY__HTTP_LIT("host"))) {
      if (req->has_host)
        return EDDY_HTTP_E_BAD_HOST;
      req->has_host = true;
    }
    break;
  case 6:
    /* RFC 9110 §10.1.1: ignore Expect in HTTP/1.0 requests (as Node). */
    if (eddy__http_equals_ci(h->name, h->name_len, EDDY__HTTP_LIT("expect")) &&
        req->version_minor == 1) {
      if (eddy__http_equals_ci(h->value, h->value_len,
                               EDDY__HTTP_LIT("100-continue")))
        req->expect_continue = true;
      else
        req->priv.flags |= F_EXPECT_BAD;
    }
    break;
  case 10:
    if (eddy__http_equals_ci(h->name, h->name_len,
                             EDDY__HTTP_LIT("connection")))
      parse_connection(h, &req->priv.flags);
    break;
  case 14:
    if (eddy__http_equals_ci(h->name, h->name_len,
                             EDDY__HTTP_LIT("content-length"))) {
      if (req->priv.flags & F_CL)
        return EDDY_HTTP_E_BAD_CONTENT_LENGTH;
      req->priv.flags |= F_CL;
      return parse_content_length(h, &req->content_length);
    }
    break;
  case 17:
    if (eddy__http_equals_ci(h->name, h->name_len,
                             EDDY__HTTP_LIT("transfer-encoding")))
      parse_transfer_encoding(h, &req->priv.flags);
    break;
  }
  return 0;
}

/* Derives framing from the collected facts once the head is complete, in a
 * fixed order: framing errors (400/501), Host (400), body size (413),
 * expectation (417). */
static int finish_head(eddy_http_request_t *req,
                       const eddy_http_limits_t *limits) {
  unsigned f = req->priv.flags;

  if (f & F_TE) {
    /* RFC 9112 §6.1: TE in 1.0 means faulty framing; §6.3(3): TE + CL is a
     * smuggling vector, refuse it (and the connection closes). */
    if (req->version_minor == 0 || (f & F_CL))
      return EDDY_HTTP_E_AMBIGUOUS_FRAMING;
    /* §6.3(4): chunked must be the final coding, applied once. */
    if (!(f & F_TE_LAST) || (f & F_TE_TWICE))
      return EDDY_HTTP_E_BAD_TRANSFER_ENCODING;
    /* "gzip, chunked": valid, but we decode no other coding (501). */
    if (f & F_TE_OTHER)
      return EDDY_HTTP_E_CODING_UNSUPPORTED;
    req->body = EDDY_HTTP_BODY_CHUNKED;
  } else if (f & F_CL) {
    req->body = EDDY_HTTP_BODY_LENGTH;
  } else {
    req->body = EDDY_HTTP_BODY_NONE;
  }
  if (req->version_minor == 1 && !req->has_host)
    return EDDY_HTTP_E_BAD_HOST;
  if (req->body == EDDY_HTTP_BODY_LENGTH && limits->body_max != 0 &&
      req->content_length > limits->body_max)
    return EDDY_HTTP_E_BODY_TOO_LARGE;
  if (f & F_EXPECT_BAD)
    return EDDY_HTTP_E_EXPECTATION_FAILED;
  if (req->version_minor == 1)
    req->keep_alive = !(f & F_CLOSE);
  else
    req->keep_alive = (f & F_KEEP_ALIVE) && !(f & F_CLOSE);
  return 0;
}

/* One call's view of the bytes: each step below reads from p (never past
 * stop) and moves it on. Steps return 0 to go on, STEP_DONE when the head
 * is complete, or a parse error; the state they leave in req->priv.state
 * picks the next step. */
struct cursor {
  const char *buf;  /* the caller's buffer */
  const char *p;    /* next byte to look at, p < stop when a step runs */
  const char *stop; /* end of the data, or the header block limit */
  int at_limit;     /* stop is the limit: reaching it is an error */
  size_t len;       /* bytes in buf */
  const eddy_http_limits_t *limits;
};

#define STEP_DONE 1

/* Offset of the cursor's next byte in the buffer. */
static inline size_t cur_off(const struct cursor *c) {
  return (size_t)(c->p - c->buf);
}

/* Sets c->stop to where scanning must pause: the end of the data, or the
 * header block limit (start + header_max) if that comes first; then
 * c->at_limit is 1 and reaching stop means the block is too large. */
static void block_stop(struct cursor *c, size_t start) {
  size_t header_max = c->limits->header_max < HEADER_MAX_CAP
                          ? c->limits->header_max
                          : HEADER_MAX_CAP;
  size_t lim = start + header_max;

  c->at_limit = lim <= c->len;
  c->stop = c->buf + (c->at_limit ? lim : c->len);
}

/* ---- request-line steps ------------------------------------------------- */

/* ST_START: skip the empty lines a client may send before a request (RFC
 * 9112 §2.2), at most EDDY_HTTP_MAX_EMPTY_LINES; the first other byte
 * starts the request line and the header block limit counts from it. */
static int step_start(eddy_http_request_t *req, struct cursor *c) {
  if (*c->p == '\r') {
    if (req->priv.empty_lines == EDDY_HTTP_MAX_EMPTY_LINES)
      return EDDY_HTTP_E_EMPTY_LINES;
    req->priv.state = ST_START_LF;
    c->p++;
    return 0;
  }
  if (*c->p == '\n')
    return EDDY_HTTP_E_BAD_NEWLINE;
  req->priv.start = req->priv.mark = cur_off(c);
  req->priv.state = ST_METHOD;
  block_stop(c, req->priv.start);
  return 0;
}

/* ST_START_LF: the LF of an empty line. */
static int step_start_lf(eddy_http_request_t *req, struct cursor *c) {
  if (*c->p != '\n')
    return EDDY_HTTP_E_BAD_NEWLINE;
  req->priv.empty_lines++;
  req->priv.state = ST_START;
  c->p++;
  return 0;
}

/* ST_METHOD: a token ended by SP, one of the methods eddy knows. */
static int step_method(eddy_http_request_t *req, struct cursor *c) {
  const char *p = scan(c->p, c->stop, EDDY__HTTP_TOKEN);
  int m;

  c->p = p;
  if (p == c->stop)
    return 0;
  if (*p != ' ' || p == c->buf + req->priv.mark)
    return EDDY_HTTP_E_BAD_METHOD;
  req->method_str = c->buf + req->priv.mark;
  req->method_len = (size_t)(p - req->method_str);
  m = method_lookup(req->method_str, req->method_len);
  if (m == 0)
    return EDDY_HTTP_E_UNKNOWN_METHOD;
  req->method = (eddy_http_method)m;
  c->p++;
  req->priv.mark = cur_off(c);
  req->priv.state = ST_TARGET;
  return 0;
}

/* ST_TARGET: VCHARs ended by SP, within target_max, in a form the method
 * allows. */
static int step_target(eddy_http_request_t *req, struct cursor *c) {
  const char *p = scan(c->p, c->stop, EDDY__HTTP_TARGET);

  if ((size_t)(p - c->buf) - req->priv.mark > c->limits->target_max)
    return EDDY_HTTP_E_TARGET_TOO_LONG;
  c->p = p;
  if (p == c->stop)
    return 0;
  if (*p != ' ' || p == c->buf + req->priv.mark) {
    /* "GET /" CRLF is HTTP/0.9: no version. */
    return (*p == '\r' || *p == '\n') ? EDDY_HTTP_E_BAD_VERSION
                                      : EDDY_HTTP_E_BAD_TARGET;
  }
  req->target = c->buf + req->priv.mark;
  req->target_len = (size_t)(p - req->target);
  if (!target_form_ok(req->method, req->target, req->target_len))
    return EDDY_HTTP_E_BAD_TARGET;
  c->p++;
  req->priv.mark = cur_off(c);
  req->priv.state = ST_VERSION;
  return 0;
}

/* ST_VERSION: HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF: 10 bytes,
 * checked one per call so that any split gives the same verdict. */
static int step_version(eddy_http_request_t *req, struct cursor *c) {
  size_t i = cur_off(c) - req->priv.mark;
  unsigned char ch = (unsigned char)*c->p;
  const char *v = c->buf + req->priv.mark;

  assert(i < 10);
  if (i < 5) {
    if (ch != (unsigned char)"HTTP/"[i])
      return EDDY_HTTP_E_BAD_VERSION;
  } else if (i == 5 || i == 7) {
    if (ch < '0' || ch > '9')
      return EDDY_HTTP_E_BAD_VERSION;
  } else if (i == 6) {
    if (ch != '.')
      return EDDY_HTTP_E_BAD_VERSION;
  } else if (i == 8 && ch != '\r') {
    return ch == '\n' ? EDDY_HTTP_E_BAD_NEWLINE : EDDY_HTTP_E_BAD_VERSION;
  } else if (i == 9 && ch != '\n') {
    return EDDY_HTTP_E_BAD_NEWLINE;
  }
  c->p++;
  if (i == 9) {
    if (v[5] != '1')
      return EDDY_HTTP_E_VERSION_UNSUPPORTED; /* HTTP/2.0 etc: 505 */
    req->version_minor = v[7] == '0' ? 0 : 1; /* 1.2-1.9 read as 1.1 */
    req->priv.state = ST_LINE;
  }
  return 0;
}

/* ---- field steps -------------------------------------------------------- */

/* ST_LINE: a field line starts here, or the CR of the final empty line. */
static int step_line(eddy_http_request_t *req, struct cursor *c) {
  if (*c->p == '\r') {
    req->priv.state = ST_END_LF;
    c->p++;
    return 0;
  }
  if (*c->p == '\n')
    return EDDY_HTTP_E_BAD_NEWLINE;
  if (*c->p == ' ' || *c->p == '\t') {
    /* obs-fold, or whitespace before the first field (§2.2, §5.2) */
    return EDDY_HTTP_E_OBS_FOLD;
  }
  /* The caller's array and the limit both bound the count. */
  if (req->num_headers >= req->max_headers ||
      req->num_headers >= c->limits->headers_max)
    return EDDY_HTTP_E_TOO_MANY_HEADERS;
  req->priv.mark = cur_off(c);
  req->priv.state = ST_NAME;
  return 0;
}

/* ST_NAME: a token ended by ':'. */
static int step_name(eddy_http_request_t *req, struct cursor *c) {
  const char *p = scan(c->p, c->stop, EDDY__HTTP_TOKEN);
  eddy_http_header_t *h;

  c->p = p;
  if (p == c->stop)
    return 0;
  if (*p != ':' || p == c->buf + req->priv.mark)
    return EDDY_HTTP_E_BAD_HEADER_NAME;
  assert(req->num_headers < req->max_headers);
  h = &req->headers[req->num_headers];
  h->name = c->buf + req->priv.mark;
  h->name_len = (size_t)(p - h->name);
  c->p++;
  req->priv.state = ST_OWS;
  return 0;
}

/* ST_OWS: whitespace between the colon and the value. */
static int step_ows(eddy_http_request_t *req, struct cursor *c) {
  const char *p = c->p;

  while (p < c->stop && (*p == ' ' || *p == '\t'))
    p++;
  c->p = p;
  if (p == c->stop)
    return 0;
  req->priv.mark = cur_off(c);
  req->priv.state = ST_VALUE;
  return 0;
}

/* ST_VALUE: field-vchars, SP and HTAB up to the CR; trailing whitespace is
 * not part of the value. */
static int step_value(eddy_http_request_t *req, struct cursor *c) {
  const char *p = scan_value(c->p, c->stop), *q;
  eddy_http_header_t *h;

  c->p = p;
  if (p == c->stop)
    return 0;
  if (*p != '\r')
    return *p == '\n' ? EDDY_HTTP_E_BAD_NEWLINE : EDDY_HTTP_E_BAD_HEADER_VALUE;
  h = &req->headers[req->num_headers];
  h->value = c->buf + req->priv.mark;
  q = p;
  while (q > h->value && (q[-1] == ' ' || q[-1] == '\t'))
    q--;
  h->value_len = (size_t)(q - h->value);
  c->p++;
  req->priv.state = ST_VALUE_LF;
  return 0;
}

/* ST_VALUE_LF: the LF ending a field line; the field is then complete. */
static int step_value_lf(eddy_http_request_t *req, struct cursor *c) {
  int err;

  if (*c->p != '\n')
    return EDDY_HTTP_E_BAD_NEWLINE; /* bare CR inside a value */
  c->p++;
  err = on_field(req, &req->headers[req->num_headers]);
  if (err)
    return err;
  req->num_headers++;
  req->priv.state = ST_LINE;
  return 0;
}

/* ST_END_LF: the LF of the final empty line; the head is complete. */
static int step_end_lf(eddy_http_request_t *req, struct cursor *c) {
  int err;

  if (*c->p != '\n')
    return EDDY_HTTP_E_BAD_NEWLINE;
  c->p++;
  err = finish_head(req, c->limits);
  if (err)
    return err;
  req->priv.state = ST_DONE;
  return STEP_DONE;
}

/* Runs the step of the current state on the next byte(s). */
static int step(eddy_http_request_t *req, struct cursor *c) {
  assert(c->p < c->stop);
  switch (req->priv.state) {
  case ST_START:
    return step_start(req, c);
  case ST_START_LF:
    return step_start_lf(req, c);
  case ST_METHOD:
    return step_method(req, c);
  case ST_TARGET:
    return step_target(req, c);
  case ST_VERSION:
    return step_version(req, c);
  case ST_LINE:
    return step_line(req, c);
  case ST_NAME:
    return step_name(req, c);
  case ST_OWS:
    return step_ows(req, c);
  case ST_VALUE:
    return step_value(req, c);
  case ST_VALUE_LF:
    return step_value_lf(req, c);
  case ST_END_LF:
    return step_end_lf(req, c);
  }
  assert(0 && "unreachable parser state");
  return EDDY_HTTP_E_BAD_METHOD;
}

/* Points the cursor at this call's bytes, from where the last call paused;
 * once the request line has started, the header block limit applies. */
static void cursor_init(struct cursor *c, const char *buf, size_t len,
                        const eddy_http_request_t *req,
                        const eddy_http_limits_t *limits) {
  c->buf = buf;
  c->len = len;
  c->limits = limits;
  c->p = buf + req->priv.pos;
  c->stop = buf + len;
  c->at_limit = 0;
  if (req->priv.state >= ST_METHOD)
    block_stop(c, req->priv.start);
}

/* Public: see the header. */
int eddy_http_parse_request(const char *buf, size_t len,
                            eddy_http_request_t *req,
                            const eddy_http_limits_t *limits) {
  struct cursor c;
  int r;

  assert(req != NULL);
  assert(buf != NULL || len == 0);
  if (limits == NULL)
    limits = &default_limits;
  /* A fresh request when the last one ended, the buffer moved or shrank. */
  if (req->priv.state >= ST_DONE || req->priv.base != (uintptr_t)buf ||
      len < req->priv.pos)
    request_reset(req, buf);
  if (buf == NULL)
    return EDDY_HTTP_INCOMPLETE;

  cursor_init(&c, buf, len, req, limits);
  do {
    assert(c.p <= c.stop);
    if (c.p == c.stop) {
      if (c.at_limit) {
        r = EDDY_HTTP_E_HEADERS_TOO_LARGE;
        break;
      }
      req->priv.pos = cur_off(&c);
      return EDDY_HTTP_INCOMPLETE;
    }
    r = step(req, &c);
  } while (r == 0);

  if (r == STEP_DONE) {
    req->priv.pos = cur_off(&c);
    assert(req->priv.pos <= (size_t)0x7fffffff);
    return (int)req->priv.pos;
  }
  assert(r < 0 && r != EDDY_HTTP_INCOMPLETE);
  req->priv.state = ST_ERROR;
  return r;
}

/* Public: see the header. */
int eddy_http_error_status(int err) {
  switch (err) {
  case EDDY_HTTP_E_UNKNOWN_METHOD:
  case EDDY_HTTP_E_CODING_UNSUPPORTED:
    return 501;
  case EDDY_HTTP_E_TARGET_TOO_LONG:
    return 414;
  case EDDY_HTTP_E_VERSION_UNSUPPORTED:
    return 505;
  case EDDY_HTTP_E_HEADERS_TOO_LARGE:
  case EDDY_HTTP_E_TOO_MANY_HEADERS:
    return 431;
  case EDDY_HTTP_E_BODY_TOO_LARGE:
  case EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE:
    return 413;
  case EDDY_HTTP_E_EXPECTATION_FAILED:
    return 417;
  case EDDY_HTTP_E_BAD_METHOD:
  case EDDY_HTTP_E_BAD_TARGET:
  case EDDY_HTTP_E_BAD_VERSION:
  case EDDY_HTTP_E_BAD_NEWLINE:
  case EDDY_HTTP_E_EMPTY_LINES:
  case EDDY_HTTP_E_BAD_HEADER_NAME:
  case EDDY_HTTP_E_BAD_HEADER_VALUE:
  case EDDY_HTTP_E_OBS_FOLD:
  case EDDY_HTTP_E_BAD_CONTENT_LENGTH:
  case EDDY_HTTP_E_BAD_TRANSFER_ENCODING:
  case EDDY_HTTP_E_AMBIGUOUS_FRAMING:
  case EDDY_HTTP_E_BAD_HOST:
  case EDDY_HTTP_E_BAD_CHUNK_SIZE:
  case EDDY_HTTP_E_BAD_CHUNK_EXT:
  case EDDY_HTTP_E_BAD_CHUNK_DATA:
    return 400;
  }
  return err >= 0 || err == EDDY_HTTP_INCOMPLETE ? 0 : 500;
}

/* Public: see the header. */
const char *eddy_http_strerror(int err) {
  switch (err) {
  case EDDY_HTTP_INCOMPLETE:
    return "incomplete request, need more data";
  case EDDY_HTTP_E_BAD_METHOD:
    return "invalid method";
  case EDDY_HTTP_E_UNKNOWN_METHOD:
    return "method not implemented";
  case EDDY_HTTP_E_BAD_TARGET:
    return "invalid request-target";
  case EDDY_HTTP_E_TARGET_TOO_LONG:
    return "request-target too long";
  case EDDY_HTTP_E_BAD_VERSION:
    return "invalid HTTP version";
  case EDDY_HTTP_E_VERSION_UNSUPPORTED:
    return "HTTP version not supported";
  case EDDY_HTTP_E_BAD_NEWLINE:
    return "bare CR or LF";
  case EDDY_HTTP_E_EMPTY_LINES:
    return "too many empty lines";
  case EDDY_HTTP_E_BAD_HEADER_NAME:
    return "invalid header name";
  case EDDY_HTTP_E_BAD_HEADER_VALUE:
    return "invalid header value";
  case EDDY_HTTP_E_OBS_FOLD:
    return "obsolete line folding";
  case EDDY_HTTP_E_HEADERS_TOO_LARGE:
    return "header section too large";
  case EDDY_HTTP_E_TOO_MANY_HEADERS:
    return "too many header fields";
  case EDDY_HTTP_E_BAD_CONTENT_LENGTH:
    return "invalid Content-Length";
  case EDDY_HTTP_E_BAD_TRANSFER_ENCODING:
    return "invalid Transfer-Encoding";
  case EDDY_HTTP_E_CODING_UNSUPPORTED:
    return "transfer coding not supported";
  case EDDY_HTTP_E_AMBIGUOUS_FRAMING:
    return "ambiguous message framing";
  case EDDY_HTTP_E_BAD_HOST:
    return "missing or repeated Host";
  case EDDY_HTTP_E_BODY_TOO_LARGE:
    return "body too large";
  case EDDY_HTTP_E_EXPECTATION_FAILED:
    return "expectation not supported";
  case EDDY_HTTP_E_BAD_CHUNK_SIZE:
    return "invalid chunk size";
  case EDDY_HTTP_E_BAD_CHUNK_EXT:
    return "invalid chunk extension";
  case EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE:
    return "chunk extension too large";
  case EDDY_HTTP_E_BAD_CHUNK_DATA:
    return "chunk data not followed by CRLF";
  }
  return err >= 0 ? "success" : "unknown error";
}
