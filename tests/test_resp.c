/* test_resp.c: the RESP2/RESP3 reply parser and the command encoder.
 *
 * Every input is parsed whole, byte by byte, and at seeded random split
 * points, each time in a fresh buffer (so the parser never sees the same
 * address twice); the outcomes, printed as text, must be identical. */
#include <math.h>
#include <stdlib.h>

#include "test_util.h"

#include "eddy/resp.h"

#define MAX_NODES 256

/* The text form of a parse: the result code, then one line per node. */
struct outcome {
  char text[16384];
  size_t len;
};

static void out_printf(struct outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void out_printf(struct outcome *o, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof(o->text) - o->len);
  o->len += (size_t)n;
}

static void out_node(struct outcome *o, const eddy_resp_node_t *n) {
  size_t i;

  out_printf(o, "%c size=%u len=%zu", n->type, (unsigned)n->size, n->len);
  switch (n->type) {
  case EDDY_RESP_INTEGER:
  case EDDY_RESP_BOOLEAN:
    out_printf(o, " int=%lld", (long long)n->integer);
    break;
  case EDDY_RESP_DOUBLE:
    out_printf(o, " num=%.17g", n->number);
    break;
  case EDDY_RESP_VERBATIM:
    out_printf(o, " fmt=%s", n->format);
    break;
  }
  if (n->str != NULL) {
    out_printf(o, " str=");
    for (i = 0; i < n->len; i++) {
      unsigned char c = (unsigned char)n->str[i];
      if (c >= 0x20 && c < 0x7f && c != '\\')
        out_printf(o, "%c", c);
      else
        out_printf(o, "\\x%02x", c);
    }
  }
  out_printf(o, "\n");
}

/* Parses every reply in in[0 .. len), delivering the bytes in pieces cut
 * at splits[] (sorted offsets), each time copying what is buffered into a
 * fresh allocation. Records each reply and the final code. */
static void parse_split(const char *in, size_t len, const size_t *splits,
                        size_t nsplits, const eddy_resp_limits_t *lim,
                        struct outcome *o) {
  eddy_resp_node_t nodes[MAX_NODES];
  eddy_resp_parser_t p;
  size_t avail = 0, consumed = 0, next_split = 0;
  int r = EDDY_RESP_INCOMPLETE;

  o->len = 0;
  eddy_resp_parser_init(&p, nodes, MAX_NODES);
  for (;;) {
    char *copy;
    size_t i;

    /* Deliver the next piece. */
    avail = next_split < nsplits ? splits[next_split++] : len;
    if (avail < consumed)
      continue;
    for (;;) {
      copy = malloc(avail - consumed + 1);
      assert_non_null(copy);
      memcpy(copy, in + consumed, avail - consumed);
      r = eddy_resp_parse(&p, copy, avail - consumed, lim);
      if (r > 0) {
        out_printf(o, "reply %d bytes\n", r);
        for (i = 0; i < p.count; i++)
          out_node(o, &nodes[i]);
        consumed += (size_t)r;
      }
      free(copy);
      if (r > 0 && consumed < avail)
        continue;
      break;
    }
    if (r < 0 && r != EDDY_RESP_INCOMPLETE) {
      out_printf(o, "error %d\n", r);
      return;
    }
    if (avail == len)
      break;
  }
  if (consumed == len)
    out_printf(o, "end\n");
  else
    out_printf(o, "incomplete at %zu\n", consumed);
}

static unsigned rng_state = 12345;
static unsigned rng(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (rng_state >> 8) & 0xffffff;
}

/* Parses in whole, byte by byte and at 20 random sets of split points;
 * asserts the same outcome each time and returns it in o. */
static void parse_all_ways(const char *in, size_t len,
                           const eddy_resp_limits_t *lim, struct outcome *o) {
  static struct outcome other;
  size_t *splits = malloc((len + 1) * sizeof(size_t));
  size_t i, k;

  assert_non_null(splits);
  parse_split(in, len, NULL, 0, lim, o);
  for (i = 0; i < len; i++)
    splits[i] = i;
  parse_split(in, len, splits, len, lim, &other);
  if (other.len != o->len || memcmp(other.text, o->text, o->len) != 0) {
    print_error("whole:\n%.*s\nbyte by byte:\n%.*s\n", (int)o->len, o->text,
                (int)other.len, other.text);
    fail();
  }
  for (k = 0; k < 20 && len > 1; k++) {
    size_t n = 1 + rng() % 4, j;
    for (j = 0; j < n; j++)
      splits[j] = rng() % len;
    /* sort (tiny n) */
    for (i = 1; i < n; i++)
      for (j = i; j > 0 && splits[j - 1] > splits[j]; j--) {
        size_t t = splits[j];
        splits[j] = splits[j - 1];
        splits[j - 1] = t;
      }
    parse_split(in, len, splits, n, lim, &other);
    assert_memory_equal(other.text, o->text, o->len);
    assert_int_equal(other.len, o->len);
  }
  free(splits);
  o->text[o->len] = '\0';
}

static void expect(const char *in, const char *want) {
  static struct outcome o;

  parse_all_ways(in, strlen(in), NULL, &o);
  if (strcmp(o.text, want) != 0) {
    print_error("input %s\ngot:\n%s\nwant:\n%s\n", in, o.text, want);
    fail();
  }
}

static void expect_lim(const char *in, size_t len, const eddy_resp_limits_t *l,
                       const char *want) {
  static struct outcome o;

  parse_all_ways(in, len, l, &o);
  if (strcmp(o.text, want) != 0) {
    print_error("got:\n%s\nwant:\n%s\n", o.text, want);
    fail();
  }
}

static void expect_error(const char *in, int err) {
  char want[64];

  snprintf(want, sizeof(want), "error %d\n", err);
  expect(in, want);
}

static void test_scalars(void **state) {
  (void)state;
  expect("+OK\r\n", "reply 5 bytes\n+ size=1 len=2 str=OK\nend\n");
  expect("-ERR bad\r\n", "reply 10 bytes\n- size=1 len=7 str=ERR bad\nend\n");
  expect(":0\r\n", "reply 4 bytes\n: size=1 len=0 int=0\nend\n");
  expect(":-9223372036854775808\r\n",
         "reply 23 bytes\n: size=1 len=0 int=-9223372036854775808\nend\n");
  expect(":+42\r\n", "reply 6 bytes\n: size=1 len=0 int=42\nend\n");
  expect("$5\r\nhe\r\no\r\n",
         "reply 11 bytes\n$ size=1 len=5 str=he\\x0d\\x0ao\nend\n");
  expect("$0\r\n\r\n", "reply 6 bytes\n$ size=1 len=0 str=\nend\n");
  expect("$-1\r\n", "reply 5 bytes\n_ size=1 len=0\nend\n");
  expect("*-1\r\n", "reply 5 bytes\n_ size=1 len=0\nend\n");
  expect("_\r\n", "reply 3 bytes\n_ size=1 len=0\nend\n");
  expect(",1.5\r\n", "reply 6 bytes\n, size=1 len=3 num=1.5 str=1.5\nend\n");
  expect(",-2e3\r\n",
         "reply 7 bytes\n, size=1 len=4 num=-2000 str=-2e3\nend\n");
  expect("#t\r\n", "reply 4 bytes\n# size=1 len=0 int=1\nend\n");
  expect("#f\r\n", "reply 4 bytes\n# size=1 len=0 int=0\nend\n");
  expect("(3492890328409238509324850943850943825024385\r\n",
         "reply 46 bytes\n( size=1 len=43 "
         "str=3492890328409238509324850943850943825024385\nend\n");
  expect("!21\r\nSYNTAX invalid syntax\r\n",
         "reply 28 bytes\n! size=1 len=21 str=SYNTAX invalid syntax\nend\n");
  expect("=15\r\ntxt:Some string\r\n",
         "reply 22 bytes\n= size=1 len=11 fmt=txt str=Some string\nend\n");
}

static void test_doubles(void **state) {
  eddy_resp_node_t nodes[4];
  eddy_resp_parser_t p;
  const char *inf = ",inf\r\n", *ninf = ",-inf\r\n", *nan_ = ",nan\r\n";

  (void)state;
  eddy_resp_parser_init(&p, nodes, 4);
  assert_int_equal(eddy_resp_parse(&p, inf, strlen(inf), NULL), 6);
  assert_true(isinf(nodes[0].number) && nodes[0].number > 0);
  assert_int_equal(eddy_resp_parse(&p, ninf, strlen(ninf), NULL), 7);
  assert_true(isinf(nodes[0].number) && nodes[0].number < 0);
  assert_int_equal(eddy_resp_parse(&p, nan_, strlen(nan_), NULL), 6);
  assert_true(isnan(nodes[0].number));
  expect_error(",1.2.3\r\n", EDDY_RESP_E_BAD_DOUBLE);
  expect_error(",0x10\r\n", EDDY_RESP_E_BAD_DOUBLE);
  expect_error(",\r\n", EDDY_RESP_E_BAD_DOUBLE);
  expect_error(",infinity\r\n", EDDY_RESP_E_BAD_DOUBLE);
  expect_error(",.\r\n", EDDY_RESP_E_BAD_DOUBLE);
}

static void test_aggregates(void **state) {
  (void)state;
  expect("*2\r\n$3\r\nfoo\r\n:1\r\n", "reply 17 bytes\n"
                                      "* size=3 len=2\n"
                                      "$ size=1 len=3 str=foo\n"
                                      ": size=1 len=0 int=1\n"
                                      "end\n");
  expect("*0\r\n", "reply 4 bytes\n* size=1 len=0\nend\n");
  expect("%1\r\n+a\r\n*1\r\n#t\r\n", "reply 16 bytes\n"
                                     "% size=4 len=1\n"
                                     "+ size=1 len=1 str=a\n"
                                     "* size=2 len=1\n"
                                     "# size=1 len=0 int=1\n"
                                     "end\n");
  expect("~2\r\n:1\r\n:2\r\n", "reply 12 bytes\n"
                               "~ size=3 len=2\n"
                               ": size=1 len=0 int=1\n"
                               ": size=1 len=0 int=2\n"
                               "end\n");
  expect(">2\r\n$10\r\ninvalidate\r\n_\r\n", "reply 24 bytes\n"
                                             "> size=3 len=2\n"
                                             "$ size=1 len=10 str=invalidate\n"
                                             "_ size=1 len=0\n"
                                             "end\n");
  /* nested, with empty aggregates inside */
  expect("*3\r\n*0\r\n*1\r\n%0\r\n~0\r\n", "reply 20 bytes\n"
                                           "* size=5 len=3\n"
                                           "* size=1 len=0\n"
                                           "* size=2 len=1\n"
                                           "% size=1 len=0\n"
                                           "~ size=1 len=0\n"
                                           "end\n");
}

static void test_attributes(void **state) {
  eddy_resp_node_t nodes[16];
  eddy_resp_parser_t p;
  const char *in = "|1\r\n+ttl\r\n:3600\r\n*2\r\n:1\r\n|0\r\n:2\r\n";
  const eddy_resp_node_t *v;
  int r;

  (void)state;
  /* An attribute before the reply, and one inside an array that takes no
   * slot of it. */
  expect(in, "reply 33 bytes\n"
             "| size=3 len=1\n"
             "+ size=1 len=3 str=ttl\n"
             ": size=1 len=0 int=3600\n"
             "* size=4 len=2\n"
             ": size=1 len=0 int=1\n"
             "| size=1 len=0\n"
             ": size=1 len=0 int=2\n"
             "end\n");
  eddy_resp_parser_init(&p, nodes, 16);
  r = eddy_resp_parse(&p, in, strlen(in), NULL);
  assert_int_equal(r, (int)strlen(in));
  v = eddy_resp_skip_attributes(&nodes[0]);
  assert_ptr_equal(v, &nodes[3]);
  assert_int_equal(eddy_resp_element(v, 0)->integer, 1);
  assert_int_equal(eddy_resp_element(v, 1)->integer, 2);
  assert_null(eddy_resp_element(v, 2));
  assert_null(eddy_resp_element(&nodes[1], 0));
  assert_null(eddy_resp_element(NULL, 0));
}

static void test_pipelined_and_incomplete(void **state) {
  (void)state;
  expect("+a\r\n:1\r\n$1\r\nx\r\n", "reply 4 bytes\n+ size=1 len=1 str=a\n"
                                    "reply 4 bytes\n: size=1 len=0 int=1\n"
                                    "reply 7 bytes\n$ size=1 len=1 str=x\n"
                                    "end\n");
  expect("*2\r\n+a\r\n", "incomplete at 0\n");
  expect("$3\r\nab", "incomplete at 0\n");
  expect("+a\r\n+b\r", "reply 4 bytes\n+ size=1 len=1 str=a\n"
                       "incomplete at 4\n");
}

static void test_errors(void **state) {
  (void)state;
  expect_error("x\r\n", EDDY_RESP_E_BAD_TYPE);
  expect_error("*1\r\n@\r\n", EDDY_RESP_E_BAD_TYPE);
  expect_error("+a\nb\r\n", EDDY_RESP_E_BAD_NEWLINE);
  expect_error("+a\rb\r\n", EDDY_RESP_E_BAD_NEWLINE);
  expect_error("$1\r\nab\r\n", EDDY_RESP_E_BAD_NEWLINE);
  expect_error("$x\r\n", EDDY_RESP_E_BAD_LENGTH);
  expect_error("$\r\n", EDDY_RESP_E_BAD_LENGTH);
  expect_error("$-2\r\n", EDDY_RESP_E_BAD_LENGTH);
  expect_error("!-1\r\n", EDDY_RESP_E_BAD_LENGTH);
  expect_error("%-1\r\n", EDDY_RESP_E_BAD_LENGTH);
  expect_error("*+1\r\n", EDDY_RESP_E_BAD_LENGTH);
  expect_error(":9223372036854775808\r\n", EDDY_RESP_E_BAD_INTEGER);
  expect_error(":\r\n", EDDY_RESP_E_BAD_INTEGER);
  expect_error(":1a\r\n", EDDY_RESP_E_BAD_INTEGER);
  expect_error(":-\r\n", EDDY_RESP_E_BAD_INTEGER);
  expect_error("#x\r\n", EDDY_RESP_E_BAD_BOOLEAN);
  expect_error("#tt\r\n", EDDY_RESP_E_BAD_BOOLEAN);
  expect_error("(12a\r\n", EDDY_RESP_E_BAD_BIGNUM);
  expect_error("(\r\n", EDDY_RESP_E_BAD_BIGNUM);
  expect_error("=3\r\ntxt\r\n", EDDY_RESP_E_BAD_VERBATIM);
  expect_error("=5\r\ntxt-a\r\n", EDDY_RESP_E_BAD_VERBATIM);
  expect_error("_x\r\n", EDDY_RESP_E_BAD_NULL);
  expect_error("$?\r\n", EDDY_RESP_E_UNSUPPORTED);
  expect_error("*?\r\n", EDDY_RESP_E_UNSUPPORTED);
  expect_error("$99999999999999999999999\r\n", EDDY_RESP_E_BULK_TOO_LARGE);
  expect_error("*99999999999999999999999\r\n", EDDY_RESP_E_AGGREGATE_TOO_LARGE);
  /* An error after a good reply: the good one is delivered first. */
  expect("+ok\r\n?\r\n", "reply 5 bytes\n+ size=1 len=2 str=ok\nerror -3210\n");
}

static void test_limits(void **state) {
  eddy_resp_limits_t l = EDDY_RESP_LIMITS_INIT;
  char deep[200];
  size_t i;

  (void)state;
  /* line_max: 4 bytes fit, 5 do not; refused at the 5th byte even when
   * the CRLF never comes. */
  l.line_max = 4;
  expect_lim("+abcd\r\n", 7, &l,
             "reply 7 bytes\n+ size=1 len=4 str=abcd\nend\n");
  expect_lim("+abcde\r\n", 8, &l, "error -3219\n");
  expect_lim("+abcde", 6, &l, "error -3219\n");
  expect_lim("+abcd", 5, &l, "incomplete at 0\n");
  /* bulk_max */
  l = eddy_resp_limits_default();
  l.bulk_max = 3;
  expect_lim("$3\r\nabc\r\n", 9, &l,
             "reply 9 bytes\n$ size=1 len=3 str=abc\nend\n");
  expect_lim("$4\r\n", 4, &l, "error -3220\n");
  /* aggregate_max */
  l = eddy_resp_limits_default();
  l.aggregate_max = 2;
  expect_lim("%3\r\n", 4, &l, "error -3221\n");
  /* depth_max: 3 levels fit, 4 do not */
  l = eddy_resp_limits_default();
  l.depth_max = 3;
  expect_lim("*1\r\n*1\r\n*1\r\n:1\r\n", 16, &l,
             "reply 16 bytes\n* size=4 len=1\n* size=3 len=1\n"
             "* size=2 len=1\n: size=1 len=0 int=1\nend\n");
  expect_lim("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 20, &l, "error -3222\n");
  /* the default depth (32) and the cap (64) */
  for (i = 0; i < 40; i++)
    memcpy(deep + 4 * i, "*1\r\n", 4);
  memcpy(deep + 160, ":1\r\n", 4);
  expect_lim(deep, 164, NULL, "error -3222\n");
  l = eddy_resp_limits_default();
  l.depth_max = 1000; /* clamped to EDDY_RESP_DEPTH_CAP */
  {
    static struct outcome o;
    parse_all_ways(deep, 164, &l, &o);
    assert_non_null(strstr(o.text, "reply 164 bytes"));
  }
  /* reply_max: the whole reply, a bulk refused at its header */
  l = eddy_resp_limits_default();
  l.reply_max = 12;
  expect_lim("$5\r\nabcde\r\n", 11, &l,
             "reply 11 bytes\n$ size=1 len=5 str=abcde\nend\n");
  expect_lim("$7\r\n", 4, &l, "error -3223\n");
  expect_lim("*3\r\n:1\r\n:2\r\n", 12, &l, "error -3223\n");
  expect_lim("+abcdefghij\r\n", 13, &l, "error -3223\n");
  expect_lim("+abcdefghi\r\n", 12, &l,
             "reply 12 bytes\n+ size=1 len=9 str=abcdefghi\nend\n");
  assert_int_equal(eddy_resp_limits_default().depth_max, 32);
}

/* NEED_NODES: the parse goes on with a larger array. */
static void test_need_nodes(void **state) {
  eddy_resp_node_t *nodes = malloc(2 * sizeof(*nodes));
  eddy_resp_parser_t p;
  const char *in = "*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n";
  size_t cap = 2, len = strlen(in);
  int r, grows = 0;

  (void)state;
  assert_non_null(nodes);
  eddy_resp_parser_init(&p, nodes, cap);
  while ((r = eddy_resp_parse(&p, in, len, NULL)) == EDDY_RESP_NEED_NODES) {
    cap *= 2;
    nodes = realloc(nodes, cap * sizeof(*nodes));
    assert_non_null(nodes);
    eddy_resp_parser_set_nodes(&p, nodes, cap);
    grows++;
  }
  assert_int_equal(r, (int)len);
  assert_int_equal(grows, 2);
  assert_int_equal(p.count, 5);
  assert_int_equal(nodes[0].size, 5);
  assert_int_equal(nodes[4].integer, 4);
  free(nodes);
}

/* A parse interrupted by an incomplete read resumes in place: the line is
 * not scanned again from its start (checked through the result only:
 * a 1 MiB simple string fed 1 byte at a time finishes quickly). */
static void test_linear_resume(void **state) {
  size_t n = 1 << 20, i;
  char *buf = malloc(n + 3);
  eddy_resp_limits_t l = EDDY_RESP_LIMITS_INIT;
  eddy_resp_node_t nodes[1];
  eddy_resp_parser_t p;
  int r = EDDY_RESP_INCOMPLETE;

  (void)state;
  assert_non_null(buf);
  buf[0] = '+';
  memset(buf + 1, 'a', n);
  memcpy(buf + n + 1, "\r\n", 2);
  l.line_max = n;
  eddy_resp_parser_init(&p, nodes, 1);
  for (i = 1; i <= n + 2 && r == EDDY_RESP_INCOMPLETE; i++)
    r = eddy_resp_parse(&p, buf, i, &l);
  assert_int_equal(r, EDDY_RESP_INCOMPLETE);
  r = eddy_resp_parse(&p, buf, n + 3, &l);
  assert_int_equal(r, (int)(n + 3));
  assert_int_equal(nodes[0].len, n);
  free(buf);
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(eddy_resp_type_name(EDDY_RESP_MAP), "map");
  assert_string_equal(eddy_resp_type_name('?'), "unknown");
  assert_string_equal(eddy_resp_strerror(EDDY_RESP_E_TOO_DEEP),
                      "nesting over the limit");
  assert_string_equal(eddy_resp_strerror(1), "unknown");
  {
    eddy_resp_node_t e;
    memset(&e, 0, sizeof(e));
    e.type = EDDY_RESP_BULK_ERROR;
    assert_true(eddy_resp_is_error(&e));
    e.type = EDDY_RESP_BULK;
    assert_false(eddy_resp_is_error(&e));
    assert_false(eddy_resp_is_error(NULL));
  }
}

static void test_encode(void **state) {
  const char *argv[] = {"SET", "k\r\n", ""};
  size_t lens[] = {3, 3, 0};
  const char *want = "*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n";
  char out[64];
  eddy_resp_node_t nodes[8];
  eddy_resp_parser_t p;
  long n;

  (void)state;
  assert_int_equal(eddy_resp_encoded_size(3, argv, lens), strlen(want));
  n = eddy_resp_encode(out, sizeof(out), 3, argv, lens);
  assert_int_equal(n, (long)strlen(want));
  assert_memory_equal(out, want, (size_t)n);
  /* The encoding is itself a reply the parser reads back. */
  eddy_resp_parser_init(&p, nodes, 8);
  assert_int_equal(eddy_resp_parse(&p, out, (size_t)n, NULL), n);
  assert_int_equal(nodes[0].len, 3);
  assert_memory_equal(nodes[2].str, "k\r\n", 3);
  /* strlen form */
  n = eddy_resp_encode(out, sizeof(out), 2, argv, NULL);
  assert_int_equal(n, 22);
  assert_int_equal(eddy_resp_encode(out, 10, 3, argv, lens), EDDY_ENOSPC);
  assert_int_equal(eddy_resp_encode(NULL, 0, 3, argv, lens), EDDY_ENOSPC);
  assert_int_equal(eddy_resp_encode(out, 64, 0, argv, lens), EDDY_EINVAL);
  assert_int_equal(eddy_resp_encode(out, 64, 1, NULL, lens), EDDY_EINVAL);
  assert_int_equal(eddy_resp_encoded_size(0, argv, lens), 0);
}

/* ---- random replies ------------------------------------------------------ */

struct gen {
  char buf[8192];
  size_t len;
};

static void gen_put(struct gen *g, const char *s, size_t n) {
  assert_true(g->len + n <= sizeof(g->buf));
  memcpy(g->buf + g->len, s, n);
  g->len += n;
}

static void gen_str(struct gen *g, const char *fmt, long long v) {
  char tmp[64];
  int n = snprintf(tmp, sizeof(tmp), fmt, v);
  gen_put(g, tmp, (size_t)n);
}

/* Writes one random value of depth at most d; returns its node count. */
static size_t gen_value(struct gen *g, int d) {
  static const char aggs[] = "*%~>|";
  unsigned k = rng() % (d > 0 ? 14 : 9);
  size_t nodes = 1, i, n;
  char data[40];

  switch (k) {
  case 0:
    gen_put(g, "+simple\r\n", 9);
    break;
  case 1:
    gen_put(g, "-ERR e\r\n", 8);
    break;
  case 2:
    gen_str(g, ":%lld\r\n", (long long)rng() - 8000000);
    break;
  case 3:
    n = rng() % 30;
    for (i = 0; i < n; i++)
      data[i] = (char)(rng() & 0xff);
    gen_str(g, "$%lld\r\n", (long long)n);
    gen_put(g, data, n);
    gen_put(g, "\r\n", 2);
    break;
  case 4:
    gen_put(g, "_\r\n", 3);
    break;
  case 5:
    gen_put(g, ",3.25\r\n", 7);
    break;
  case 6:
    gen_put(g, rng() & 1 ? "#t\r\n" : "#f\r\n", 4);
    break;
  case 7:
    gen_put(g, "=8\r\nmkd:abcd\r\n", 14);
    break;
  case 8:
    gen_put(g, "$-1\r\n", 5);
    break;
  default: {
    char t = aggs[k - 9];
    size_t count = rng() % 4, els;
    gen_put(g, &t, 1);
    gen_str(g, "%lld\r\n", (long long)count);
    els = (t == '%' || t == '|') ? 2 * count : count;
    for (i = 0; i < els; i++)
      nodes += gen_value(g, d - 1);
    if (t == '|') /* an attribute describes the value after it */
      nodes += gen_value(g, d - 1);
  }
  }
  return nodes;
}

static void test_random_replies(void **state) {
  static struct outcome o;
  static struct gen g;
  int round;

  (void)state;
  rng_state = 4242;
  for (round = 0; round < 300; round++) {
    size_t replies = 1 + rng() % 3, r, nodes = 0;
    g.len = 0;
    for (r = 0; r < replies; r++)
      nodes += gen_value(&g, 3);
    (void)nodes;
    parse_all_ways(g.buf, g.len, NULL, &o);
    if (strstr(o.text, "end\n") == NULL) {
      print_error("round %d: %s\n", round, o.text);
      fail();
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars),
      cmocka_unit_test(test_doubles),
      cmocka_unit_test(test_aggregates),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_pipelined_and_incomplete),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_need_nodes),
      cmocka_unit_test(test_linear_resume),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_encode),
      cmocka_unit_test(test_random_replies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
