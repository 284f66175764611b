/* libFuzzer target for the RESP reply parser (src/redis/resp.c).
 *
 * Build and run (scripts/fuzz.sh does this for `make fuzz`):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *     tests/fuzz/fuzz_resp.c src/redis/resp.c -o /tmp/fuzz_resp
 *   /tmp/fuzz_resp -max_total_time=60 tests/fuzz/corpus_resp
 *
 * Input: byte 0 picks the limits (defaults, or tiny ones that make every
 * limit reachable) and the first node array size, bytes 1-2 a split
 * point, the rest is what a server sent. Properties checked, besides the
 * sanitizers' memory checks:
 *   1. A client reading the stream reply after reply produces the same
 *      transcript (every reply's nodes, then the final code) whether the
 *      stream comes whole, in two pieces cut at the chosen point, or (for
 *      short inputs) byte by byte; each piece is parsed from a fresh copy,
 *      so the buffer moves between calls.
 *   2. Every complete reply is a well-formed tree: sizes add up, string
 *      pointers lie inside the bytes consumed, counts match the types.
 *   3. The command encoder's output parses back to the same arguments.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eddy/resp.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      abort();                                                                 \
  } while (0)

/* A growing transcript (64-bit FNV-1a of everything recorded, and the
 * number of replies), enough to compare runs. */
typedef struct {
  uint64_t hash;
  size_t replies;
  int final;
} transcript;

static void mix(transcript *t, const void *data, size_t n) {
  const unsigned char *p = data;
  size_t i;

  for (i = 0; i < n; i++) {
    t->hash ^= p[i];
    t->hash *= 0x100000001b3ull;
  }
}

/* Checks one subtree at nodes[i]; returns its size. */
static size_t check_tree(const eddy_resp_node_t *nodes, size_t count, size_t i,
                         const char *buf, size_t used) {
  const eddy_resp_node_t *n = &nodes[i];
  size_t j, k, els;

  CHECK(i < count);
  CHECK(n->size >= 1 && i + n->size <= count);
  if (n->str != NULL)
    CHECK(n->str >= buf && n->str + n->len <= buf + used);
  switch (n->type) {
  case '*':
  case '~':
  case '>':
  case '%':
  case '|':
    els = (n->type == '%' || n->type == '|') ? 2 * n->len : n->len;
    j = i + 1;
    for (k = 0; k < els; k++) {
      while (nodes[j].type == '|') /* attributes take no slot */
        j += check_tree(nodes, count, j, buf, used);
      j += check_tree(nodes, count, j, buf, used);
    }
    CHECK(j == i + n->size);
    break;
  default:
    CHECK(n->size == 1);
  }
  return n->size;
}

static void record_reply(transcript *t, const eddy_resp_parser_t *p,
                         const char *buf, int used) {
  size_t i, root = 0;

  while (root < p->count && p->nodes[root].type == '|')
    root += check_tree(p->nodes, p->count, root, buf, (size_t)used);
  CHECK(root < p->count);
  CHECK(root + check_tree(p->nodes, p->count, root, buf, (size_t)used) ==
        p->count);
  mix(t, &used, sizeof(used));
  for (i = 0; i < p->count; i++) {
    const eddy_resp_node_t *n = &p->nodes[i];
    uint64_t ln = n->len, sz = n->size;
    mix(t, &n->type, 1);
    mix(t, &ln, sizeof(ln));
    mix(t, &sz, sizeof(sz));
    mix(t, &n->integer, sizeof(n->integer));
    if (n->str != NULL)
      mix(t, n->str, n->len);
    if (n->type == '=')
      mix(t, n->format, 3);
  }
  t->replies++;
}

/* Feeds data[0 .. len) in pieces ending at cuts[] (ascending, the last one
 * len) through a parser, the way a client does: unconsumed bytes kept and
 * copied into a fresh buffer with each new piece. */
static void run(const unsigned char *data, size_t len, const size_t *cuts,
                size_t ncuts, const eddy_resp_limits_t *lim, size_t cap0,
                transcript *t) {
  eddy_resp_parser_t p;
  eddy_resp_node_t *nodes = malloc(cap0 * sizeof(*nodes));
  size_t cap = cap0, consumed = 0, c;

  CHECK(nodes != NULL);
  memset(t, 0, sizeof(*t));
  t->hash = 0xcbf29ce484222325ull;
  eddy_resp_parser_init(&p, nodes, cap);
  for (c = 0; c < ncuts; c++) {
    size_t avail = cuts[c];
    int r;
    for (;;) {
      char *copy = malloc(avail - consumed + 1);
      CHECK(copy != NULL);
      memcpy(copy, data + consumed, avail - consumed);
      r = eddy_resp_parse(&p, copy, avail - consumed, lim);
      while (r == EDDY_RESP_NEED_NODES) {
        cap *= 2;
        nodes = realloc(nodes, cap * sizeof(*nodes));
        CHECK(nodes != NULL);
        eddy_resp_parser_set_nodes(&p, nodes, cap);
        r = eddy_resp_parse(&p, copy, avail - consumed, lim);
      }
      if (r > 0) {
        CHECK((size_t)r <= avail - consumed);
        record_reply(t, &p, copy, r);
        consumed += (size_t)r;
      }
      free(copy);
      if (r > 0 && consumed < avail)
        continue;
      break;
    }
    if (r < 0 && r != EDDY_RESP_INCOMPLETE) {
      t->final = r;
      free(nodes);
      return;
    }
    t->final = r > 0 ? 0 : r;
  }
  free(nodes);
}

static int same(const transcript *a, const transcript *b) {
  return a->hash == b->hash && a->replies == b->replies && a->final == b->final;
}

/* Property 3: argv made of slices of the input. */
static void check_encoder(const unsigned char *data, size_t len) {
  const char *argv[4];
  size_t lens[4], i, need;
  eddy_resp_node_t nodes[8];
  eddy_resp_parser_t p;
  char *out;
  long n;

  for (i = 0; i < 4; i++) {
    argv[i] = (const char *)data + (len * i) / 4;
    lens[i] = len / 4;
  }
  need = eddy_resp_encoded_size(4, argv, lens);
  out = malloc(need);
  CHECK(out != NULL);
  n = eddy_resp_encode(out, need, 4, argv, lens);
  CHECK(n == (long)need);
  CHECK(eddy_resp_encode(out, need - 1, 4, argv, lens) < 0);
  eddy_resp_parser_init(&p, nodes, 8);
  CHECK(eddy_resp_parse(&p, out, need, NULL) == (int)need);
  CHECK(nodes[0].type == '*' && nodes[0].len == 4 && p.count == 5);
  for (i = 0; i < 4; i++)
    CHECK(nodes[1 + i].len == lens[i] &&
          memcmp(nodes[1 + i].str, argv[i], lens[i]) == 0);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  eddy_resp_limits_t lim = EDDY_RESP_LIMITS_INIT;
  transcript whole, split, bytes;
  size_t cuts[2], *each, len, i, cap0;

  if (size < 3)
    return 0;
  if (data[0] & 1) { /* tiny limits: each is reachable */
    lim.depth_max = 1 + (data[0] >> 1) % 4;
    lim.line_max = 1 + (data[0] >> 3) % 16;
    lim.bulk_max = 1 + (data[0] >> 4) % 16;
    lim.aggregate_max = 1 + (data[0] >> 5) % 4;
    lim.reply_max = 8 + (data[0] >> 2) % 64;
  }
  cap0 = 1 + (data[0] >> 6);
  len = size - 3;
  cuts[0] = len ? ((size_t)data[1] << 8 | data[2]) % len : 0;
  cuts[1] = len;
  data += 3;

  run(data, len, &cuts[1], 1, &lim, cap0, &whole);
  run(data, len, cuts, 2, &lim, cap0, &split);
  CHECK(same(&whole, &split));
  if (len >= 1 && len <= 512) {
    each = malloc((len + 1) * sizeof(*each));
    CHECK(each != NULL);
    for (i = 0; i < len; i++)
      each[i] = i + 1;
    run(data, len, each, len, &lim, cap0, &bytes);
    CHECK(same(&whole, &bytes));
    free(each);
  }
  if (len >= 4)
    check_encoder(data, len);
  return 0;
}
