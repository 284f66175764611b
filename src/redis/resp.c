/* RESP2/RESP3 reply parser and command encoder (see eddy/resp.h).
 *
 * The parser is a resumable state machine over three states: at the type
 * byte of an element, inside the element's header line, and waiting for a
 * bulk's data. A line is scanned once: when it is cut short, the scan
 * position is saved and the next call continues from there; a bulk's data
 * is never scanned at all, only its length compared. Open aggregates sit
 * on a fixed stack (depth_max <= EDDY_RESP_DEPTH_CAP), each frame counting
 * the elements still to come. Everything is kept as offsets from the
 * reply's first byte, so the caller may move the buffer between calls;
 * the str pointers are set once, when the reply is complete.
 *
 * Split invariance: every check is made at a fixed offset (the first byte
 * that shows the problem), and limits are compared with offsets, never
 * with how much happens to be buffered, so the result cannot depend on
 * where reads end.
 */
#include "eddy/resp.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ST_TYPE = 0, ST_LINE, ST_BULK, ST_DONE };

/* Doubles longer than this are refused (17 significant digits and an
 * exponent need far less). */
#define DOUBLE_TEXT_MAX 255

static const eddy_resp_limits_t default_limits = EDDY_RESP_LIMITS_INIT;

/* Public: see the header. */
eddy_resp_limits_t eddy_resp_limits_default(void) {
  return default_limits;
}

/* The limits in force: zeros replaced by defaults, caps applied. */
static eddy_resp_limits_t limits_resolve(const eddy_resp_limits_t *l) {
  eddy_resp_limits_t r = default_limits;

  if (l != NULL) {
    if (l->depth_max != 0)
      r.depth_max = l->depth_max;
    if (l->line_max != 0)
      r.line_max = l->line_max;
    if (l->bulk_max != 0)
      r.bulk_max = l->bulk_max;
    if (l->aggregate_max != 0)
      r.aggregate_max = l->aggregate_max;
    if (l->reply_max != 0)
      r.reply_max = l->reply_max;
  }
  if (r.depth_max > EDDY_RESP_DEPTH_CAP)
    r.depth_max = EDDY_RESP_DEPTH_CAP;
  if (r.reply_max > EDDY_RESP_REPLY_CAP)
    r.reply_max = EDDY_RESP_REPLY_CAP;
  if (r.reply_max < 3) /* the smallest reply, "_\r\n" */
    r.reply_max = 3;
  return r;
}

/* Starts a new reply at offset 0. */
static void parser_reset(eddy_resp_parser_t *p) {
  p->count = 0;
  p->priv.pos = 0;
  p->priv.mark = 0;
  p->priv.need = 0;
  p->priv.length = 0;
  p->priv.depth = 0;
  p->priv.type = 0;
  p->priv.state = ST_TYPE;
}

/* Public: see the header. */
void eddy_resp_parser_init(eddy_resp_parser_t *p, eddy_resp_node_t *nodes,
                           size_t cap) {
  assert(p != NULL);
  assert(nodes != NULL && cap >= 1);
  memset(p, 0, sizeof(*p));
  p->nodes = nodes;
  p->cap = cap;
  parser_reset(p);
  p->priv.state = ST_DONE; /* the first call starts a reply */
}

/* Public: see the header. */
void eddy_resp_parser_set_nodes(eddy_resp_parser_t *p, eddy_resp_node_t *nodes,
                                size_t cap) {
  assert(p != NULL && nodes != NULL);
  assert(cap > p->count);
  p->nodes = nodes;
  p->cap = cap;
}

static int is_type_byte(unsigned char c) {
  switch (c) {
  case '+':
  case '-':
  case ':':
  case '$':
  case '*':
  case '_':
  case ',':
  case '#':
  case '(':
  case '!':
  case '=':
  case '%':
  case '~':
  case '|':
  case '>':
    return 1;
  default:
    return 0;
  }
}

static int is_aggregate(unsigned char t) {
  return t == '*' || t == '%' || t == '~' || t == '|' || t == '>';
}

/* A signed 64-bit integer: [+|-]1*19DIGIT, overflow-checked. */
static int parse_int64(const char *s, size_t n, int64_t *out) {
  uint64_t v = 0, lim = (uint64_t)INT64_MAX;
  size_t i = 0;
  int neg = 0;

  if (n > 0 && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n)
    return -1;
  if (neg)
    lim += 1; /* INT64_MIN's magnitude */
  for (; i < n; i++) {
    unsigned d = (unsigned char)s[i] - (unsigned)'0';
    if (d > 9 || v > (lim - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  if (neg)
    *out = v == lim ? INT64_MIN : -(int64_t)v;
  else
    *out = (int64_t)v;
  return 0;
}

/* A length: 1*DIGIT (no sign) into *out, capped at max + 1 so that an
 * absurd value is "over the limit", never an overflow. */
static int parse_length(const char *s, size_t n, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  size_t i;

  if (n == 0)
    return -1;
  for (i = 0; i < n; i++) {
    unsigned d = (unsigned char)s[i] - (unsigned)'0';
    if (d > 9)
      return -1;
    if (v <= max)
      v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* A RESP3 double: "inf", "-inf", "nan", or a decimal number with an
 * optional exponent. strtod does the conversion after the characters were
 * checked (so hex floats and "infinity" are refused). */
static int parse_double(const char *s, size_t n, double *out) {
  char text[DOUBLE_TEXT_MAX + 1];
  char *end;
  size_t i, digits = 0;

  if (n == 3 && memcmp(s, "inf", 3) == 0) {
    *out = HUGE_VAL;
    return 0;
  }
  if (n == 4 && (memcmp(s, "-inf", 4) == 0 || memcmp(s, "+inf", 4) == 0)) {
    *out = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    return 0;
  }
  if (n == 3 && memcmp(s, "nan", 3) == 0) {
    *out = NAN;
    return 0;
  }
  if (n == 0 || n > DOUBLE_TEXT_MAX)
    return -1;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9')
      digits++;
    else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
      return -1;
  }
  if (digits == 0)
    return -1;
  memcpy(text, s, n);
  text[n] = '\0';
  *out = strtod(text, &end);
  return end == text + n ? 0 : -1;
}

static int parse_bignum(const char *s, size_t n) {
  size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;

  if (i == n)
    return -1;
  for (; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return -1;
  return 0;
}

/* The node of the element that starts at mark. */
static eddy_resp_node_t *node_new(eddy_resp_parser_t *p) {
  eddy_resp_node_t *n;

  assert(p->count < p->cap);
  n = &p->nodes[p->count++];
  memset(n, 0, sizeof(*n));
  n->type = p->priv.type;
  n->size = 1;
  return n;
}

/* An element (value or attribute) is complete: count it in the open
 * aggregates, closing those that are full. Returns 1 when the whole reply
 * is complete. An attribute does not take a slot of its aggregate, and a
 * reply is not complete after an attribute: its value follows. */
static int element_done(eddy_resp_parser_t *p, int is_attr) {
  for (;;) {
    eddy_resp_node_t *agg;
    unsigned top;

    if (p->priv.depth == 0)
      return !is_attr;
    top = p->priv.depth - 1;
    if (!is_attr) {
      assert(p->priv.stack[top].left > 0);
      p->priv.stack[top].left--;
    }
    if (p->priv.stack[top].left > 0)
      return 0;
    agg = &p->nodes[p->priv.stack[top].node];
    agg->size = (uint32_t)(p->count - p->priv.stack[top].node);
    is_attr = agg->type == EDDY_RESP_ATTRIBUTE;
    p->priv.depth--;
  }
}

/* Scans the current line for its CR LF. Returns 1 with *cr at the CR when
 * the line is complete, 0 when more bytes are needed (the scan position
 * is saved), or an error. */
static int line_scan(eddy_resp_parser_t *p, const char *buf, size_t len,
                     const eddy_resp_limits_t *lim, size_t *cr) {
  size_t start = p->priv.mark + 1, cr_max, stop, i;
  int line_limited;

  /* The CR may sit at start + line_max at most, and its LF must be inside
   * the reply (offset reply_max - 1 at most). */
  cr_max = start + lim->line_max;
  line_limited = 1;
  if (cr_max > lim->reply_max - 2) {
    cr_max = lim->reply_max - 2;
    line_limited = 0;
  }
  if (start > cr_max)
    return EDDY_RESP_E_REPLY_TOO_LARGE;
  stop = len < cr_max + 1 ? len : cr_max + 1;
  for (i = p->priv.pos; i < stop; i++) {
    char c = buf[i];
    if (c == '\r' || c == '\n')
      break;
  }
  if (i == stop) {
    if (stop == cr_max + 1)
      return line_limited ? EDDY_RESP_E_LINE_TOO_LONG
                          : EDDY_RESP_E_REPLY_TOO_LARGE;
    p->priv.pos = i;
    return 0;
  }
  if (buf[i] == '\n')
    return EDDY_RESP_E_BAD_NEWLINE;
  if (i + 1 >= len) {
    p->priv.pos = i; /* resume at the CR: its LF is still to come */
    return 0;
  }
  if (buf[i + 1] != '\n')
    return EDDY_RESP_E_BAD_NEWLINE;
  *cr = i;
  return 1;
}

/* A bulk header ($, !, =) was read; set up the wait for its data. */
static int bulk_begin(eddy_resp_parser_t *p, const char *s, size_t n,
                      size_t next, const eddy_resp_limits_t *lim) {
  uint64_t blen;

  if (n == 1 && s[0] == '?')
    return EDDY_RESP_E_UNSUPPORTED;
  if (n == 2 && s[0] == '-' && s[1] == '1' && p->priv.type == '$') {
    p->priv.type = EDDY_RESP_NULL; /* RESP2 null bulk */
    node_new(p);
    return element_done(p, 0);
  }
  if (parse_length(s, n, lim->bulk_max, &blen) != 0)
    return EDDY_RESP_E_BAD_LENGTH;
  if (blen > lim->bulk_max)
    return EDDY_RESP_E_BULK_TOO_LARGE;
  if (p->priv.type == '=' && blen < 4)
    return EDDY_RESP_E_BAD_VERBATIM;
  if (blen + 2 > lim->reply_max - next)
    return EDDY_RESP_E_REPLY_TOO_LARGE;
  p->priv.length = (int64_t)blen;
  p->priv.mark = next; /* the data's first byte */
  p->priv.need = next + (size_t)blen + 2;
  p->priv.state = ST_BULK;
  return 0;
}

/* An aggregate header was read: its node, then a frame unless empty. */
static int aggregate_begin(eddy_resp_parser_t *p, const char *s, size_t n,
                           const eddy_resp_limits_t *lim) {
  eddy_resp_node_t *node;
  uint64_t count;
  unsigned char t = p->priv.type;

  if (n == 1 && s[0] == '?')
    return EDDY_RESP_E_UNSUPPORTED;
  if (n == 2 && s[0] == '-' && s[1] == '1' && t == '*') {
    p->priv.type = EDDY_RESP_NULL; /* RESP2 null array */
    node_new(p);
    return element_done(p, 0);
  }
  if (parse_length(s, n, lim->aggregate_max, &count) != 0)
    return EDDY_RESP_E_BAD_LENGTH;
  if (count > lim->aggregate_max)
    return EDDY_RESP_E_AGGREGATE_TOO_LARGE;
  node = node_new(p);
  node->len = (size_t)count;
  if (count == 0)
    return element_done(p, t == EDDY_RESP_ATTRIBUTE);
  if (p->priv.depth >= lim->depth_max)
    return EDDY_RESP_E_TOO_DEEP;
  p->priv.stack[p->priv.depth].node = (uint32_t)(p->count - 1);
  p->priv.stack[p->priv.depth].left =
      (t == EDDY_RESP_MAP || t == EDDY_RESP_ATTRIBUTE) ? count * 2 : count;
  p->priv.depth++;
  return 0;
}

/* A scalar line (+ - : , # ( _) is complete: its node. */
static int scalar_line(eddy_resp_parser_t *p, const char *s, size_t n,
                       size_t s_off) {
  eddy_resp_node_t *node;
  int64_t iv = 0;
  double dv = 0;

  switch (p->priv.type) {
  case ':':
    if (parse_int64(s, n, &iv) != 0)
      return EDDY_RESP_E_BAD_INTEGER;
    break;
  case ',':
    if (parse_double(s, n, &dv) != 0)
      return EDDY_RESP_E_BAD_DOUBLE;
    break;
  case '#':
    if (n != 1 || (s[0] != 't' && s[0] != 'f'))
      return EDDY_RESP_E_BAD_BOOLEAN;
    iv = s[0] == 't';
    break;
  case '(':
    if (parse_bignum(s, n) != 0)
      return EDDY_RESP_E_BAD_BIGNUM;
    break;
  case '_':
    if (n != 0)
      return EDDY_RESP_E_BAD_NULL;
    break;
  }
  node = node_new(p);
  node->integer = iv;
  node->number = dv;
  if (p->priv.type == '+' || p->priv.type == '-' || p->priv.type == ',' ||
      p->priv.type == '(') {
    node->priv.off = s_off;
    node->len = n;
  }
  return element_done(p, 0);
}

/* The current element's header line ends at cr: act on it. Returns 1 when
 * the reply is complete, 0 to go on, or an error. */
static int line_done(eddy_resp_parser_t *p, const char *buf, size_t cr,
                     const eddy_resp_limits_t *lim) {
  size_t s_off = p->priv.mark + 1, n = cr - s_off;
  const char *s = buf + s_off;
  unsigned char t = p->priv.type;

  p->priv.pos = cr + 2;
  p->priv.state = ST_TYPE;
  if (t == '$' || t == '!' || t == '=')
    return bulk_begin(p, s, n, cr + 2, lim);
  if (is_aggregate(t))
    return aggregate_begin(p, s, n, lim);
  return scalar_line(p, s, n, s_off);
}

/* The bulk's data and CRLF are all there: its node. */
static int bulk_done(eddy_resp_parser_t *p, const char *buf) {
  const char *data = buf + p->priv.mark;
  size_t n = (size_t)p->priv.length;
  eddy_resp_node_t *node;

  if (data[n] != '\r' || data[n + 1] != '\n')
    return EDDY_RESP_E_BAD_NEWLINE;
  if (p->priv.type == '=' && data[3] != ':')
    return EDDY_RESP_E_BAD_VERBATIM;
  node = node_new(p);
  if (p->priv.type == '=') {
    memcpy(node->format, data, 3);
    node->format[3] = '\0';
    node->priv.off = p->priv.mark + 4;
    node->len = n - 4;
  } else {
    node->priv.off = p->priv.mark;
    node->len = n;
  }
  p->priv.pos = p->priv.need;
  p->priv.state = ST_TYPE;
  return element_done(p, 0);
}

/* The reply is complete: turn offsets into pointers into buf. */
static void nodes_fix(eddy_resp_parser_t *p, const char *buf) {
  size_t i;

  for (i = 0; i < p->count; i++) {
    eddy_resp_node_t *n = &p->nodes[i];
    switch (n->type) {
    case '+':
    case '-':
    case ',':
    case '(':
    case '$':
    case '!':
    case '=':
      n->str = buf + n->priv.off;
      break;
    default:
      n->str = NULL;
    }
  }
}

/* One step of the machine. Returns 1 (reply complete), 0 (go on),
 * EDDY_RESP_INCOMPLETE, EDDY_RESP_NEED_NODES or an error. */
static int parse_step(eddy_resp_parser_t *p, const char *buf, size_t len,
                      const eddy_resp_limits_t *lim) {
  size_t cr = 0;
  int r;

  switch (p->priv.state) {
  case ST_TYPE:
    if (p->priv.pos >= lim->reply_max - 2)
      return EDDY_RESP_E_REPLY_TOO_LARGE;
    if (p->priv.pos >= len)
      return EDDY_RESP_INCOMPLETE;
    if (p->count == p->cap)
      return EDDY_RESP_NEED_NODES;
    if (!is_type_byte((unsigned char)buf[p->priv.pos]))
      return EDDY_RESP_E_BAD_TYPE;
    p->priv.type = (unsigned char)buf[p->priv.pos];
    p->priv.mark = p->priv.pos;
    p->priv.pos++;
    p->priv.state = ST_LINE;
    return 0;
  case ST_LINE:
    r = line_scan(p, buf, len, lim, &cr);
    if (r <= 0)
      return r == 0 ? EDDY_RESP_INCOMPLETE : r;
    return line_done(p, buf, cr, lim);
  case ST_BULK:
    if (len < p->priv.need)
      return EDDY_RESP_INCOMPLETE;
    return bulk_done(p, buf);
  }
  assert(0 && "bad parser state");
  return EDDY_RESP_E_BAD_TYPE;
}

/* Public: see the header. */
int eddy_resp_parse(eddy_resp_parser_t *p, const char *buf, size_t len,
                    const eddy_resp_limits_t *limits) {
  eddy_resp_limits_t lim;
  int r;

  assert(p != NULL);
  assert(buf != NULL || len == 0);
  lim = limits_resolve(limits);
  if (p->priv.state == ST_DONE || len < p->priv.pos)
    parser_reset(p);
  for (;;) {
    r = parse_step(p, buf, len, &lim);
    if (r == 0)
      continue;
    if (r == 1) {
      size_t used = p->priv.pos;
      nodes_fix(p, buf);
      p->priv.state = ST_DONE;
      assert(used > 0 && used <= EDDY_RESP_REPLY_CAP);
      return (int)used;
    }
    if (r != EDDY_RESP_INCOMPLETE && r != EDDY_RESP_NEED_NODES)
      p->priv.state = ST_DONE; /* an error: the next call starts over */
    return r;
  }
}

/* Public: see the header. */
const eddy_resp_node_t *
eddy_resp_skip_attributes(const eddy_resp_node_t *node) {
  assert(node != NULL);
  while (node->type == EDDY_RESP_ATTRIBUTE)
    node += node->size;
  return node;
}

/* Public: see the header. */
const eddy_resp_node_t *eddy_resp_element(const eddy_resp_node_t *node,
                                          size_t i) {
  const eddy_resp_node_t *e;
  size_t n;

  if (node == NULL || !is_aggregate(node->type))
    return NULL;
  n = (node->type == EDDY_RESP_MAP || node->type == EDDY_RESP_ATTRIBUTE)
          ? node->len * 2
          : node->len;
  if (i >= n)
    return NULL;
  e = eddy_resp_skip_attributes(node + 1);
  while (i-- > 0)
    e = eddy_resp_skip_attributes(e + e->size);
  return e;
}

/* Public: see the header. */
int eddy_resp_is_error(const eddy_resp_node_t *node) {
  return node != NULL &&
         (node->type == EDDY_RESP_ERROR || node->type == EDDY_RESP_BULK_ERROR);
}

/* Decimal digits of v. */
static size_t digits(size_t v) {
  size_t d = 1;

  if (v < 10)
    return 1;
  while (v >= 10) {
    v /= 10;
    d++;
  }
  return d;
}

static size_t arg_len(const char *const *argv, const size_t *argvlen, int i) {
  return argvlen != NULL ? argvlen[i] : strlen(argv[i]);
}

/* Public: see the header. */
size_t eddy_resp_encoded_size(int argc, const char *const *argv,
                              const size_t *argvlen) {
  size_t total;
  int i;

  if (argc < 1 || argv == NULL)
    return 0;
  total = 1 + digits((size_t)argc) + 2;
  for (i = 0; i < argc; i++) {
    size_t n = arg_len(argv, argvlen, i);
    total += 1 + digits(n) + 2 + n + 2;
  }
  return total;
}

/* Writes "<c><v>\r\n" at out; returns the bytes written. */
static size_t put_header(char *out, char c, size_t v) {
  char tmp[24];
  size_t n = 0, i;

  if (v < 10) { /* most lengths and counts */
    out[0] = c;
    out[1] = (char)('0' + v);
    out[2] = '\r';
    out[3] = '\n';
    return 4;
  }
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  out[0] = c;
  for (i = 0; i < n; i++)
    out[1 + i] = tmp[n - 1 - i];
  out[1 + n] = '\r';
  out[2 + n] = '\n';
  return n + 3;
}

/* Public: see the header. */
long eddy_resp_encode(char *out, size_t cap, int argc, const char *const *argv,
                      const size_t *argvlen) {
  size_t need, pos;
  int i;

  if (argc < 1 || argv == NULL)
    return -EINVAL;
  need = eddy_resp_encoded_size(argc, argv, argvlen);
  if (need > (size_t)LONG_MAX)
    return -EINVAL;
  if (out == NULL || cap < need)
    return -ENOSPC;
  pos = put_header(out, '*', (size_t)argc);
  for (i = 0; i < argc; i++) {
    size_t n = arg_len(argv, argvlen, i);
    pos += put_header(out + pos, '$', n);
    if (n > 0)
      memcpy(out + pos, argv[i], n);
    pos += n;
    out[pos++] = '\r';
    out[pos++] = '\n';
  }
  assert(pos == need);
  return (long)pos;
}

/* Public: see the header. */
const char *eddy_resp_strerror(int err) {
  switch (err) {
  case EDDY_RESP_INCOMPLETE:
    return "incomplete reply: more bytes needed";
  case EDDY_RESP_NEED_NODES:
    return "the reply needs more nodes";
  case EDDY_RESP_E_BAD_TYPE:
    return "unknown RESP type byte";
  case EDDY_RESP_E_BAD_NEWLINE:
    return "missing or bare CR/LF";
  case EDDY_RESP_E_BAD_LENGTH:
    return "malformed length";
  case EDDY_RESP_E_BAD_INTEGER:
    return "malformed integer";
  case EDDY_RESP_E_BAD_DOUBLE:
    return "malformed double";
  case EDDY_RESP_E_BAD_BOOLEAN:
    return "malformed boolean";
  case EDDY_RESP_E_BAD_BIGNUM:
    return "malformed big number";
  case EDDY_RESP_E_BAD_VERBATIM:
    return "malformed verbatim string";
  case EDDY_RESP_E_BAD_NULL:
    return "malformed null";
  case EDDY_RESP_E_LINE_TOO_LONG:
    return "line over the limit";
  case EDDY_RESP_E_BULK_TOO_LARGE:
    return "bulk string over the limit";
  case EDDY_RESP_E_AGGREGATE_TOO_LARGE:
    return "aggregate over the limit";
  case EDDY_RESP_E_TOO_DEEP:
    return "nesting over the limit";
  case EDDY_RESP_E_REPLY_TOO_LARGE:
    return "reply over the size limit";
  case EDDY_RESP_E_UNSUPPORTED:
    return "streamed RESP3 types not supported";
  default:
    return "unknown";
  }
}

/* Public: see the header. */
const char *eddy_resp_type_name(int type) {
  switch (type) {
  case EDDY_RESP_STRING:
    return "simple string";
  case EDDY_RESP_ERROR:
    return "error";
  case EDDY_RESP_INTEGER:
    return "integer";
  case EDDY_RESP_BULK:
    return "bulk";
  case EDDY_RESP_ARRAY:
    return "array";
  case EDDY_RESP_NULL:
    return "null";
  case EDDY_RESP_DOUBLE:
    return "double";
  case EDDY_RESP_BOOLEAN:
    return "boolean";
  case EDDY_RESP_BIGNUM:
    return "big number";
  case EDDY_RESP_BULK_ERROR:
    return "bulk error";
  case EDDY_RESP_VERBATIM:
    return "verbatim";
  case EDDY_RESP_MAP:
    return "map";
  case EDDY_RESP_SET:
    return "set";
  case EDDY_RESP_ATTRIBUTE:
    return "attribute";
  case EDDY_RESP_PUSH:
    return "push";
  default:
    return "unknown";
  }
}
