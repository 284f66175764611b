/* eddy/resp.h: the Redis protocol (RESP2 and RESP3), standalone.
 *
 * A reply parser and a command encoder that need only the C library, so
 * they can be used, tested and fuzzed without the rest of eddy (the Redis
 * client in eddy/redis.h is built on them).
 *
 * The parser (model: eddy/http_parser.h):
 *   - Zero copy, no allocation. The caller owns the bytes and an array of
 *     nodes; a parsed reply is a tree laid out flat in that array in
 *     pre-order (an aggregate is followed by its elements), and string
 *     nodes point into the caller's buffer.
 *   - Incremental. eddy_resp_parse returns EDDY_RESP_INCOMPLETE until a
 *     whole reply is there; the caller keeps the unconsumed bytes, appends
 *     what the next read brings (the buffer may move: the parser keeps
 *     offsets, not pointers) and calls again. It resumes where it stopped,
 *     so the total work is linear in the reply's size however the bytes
 *     are split, and the result is the same for every split.
 *   - Bounded: nesting depth, line length, bulk length, aggregate length
 *     and the whole reply's size are limits with documented defaults. A
 *     reply over a limit is refused at a fixed byte (the first one that
 *     shows it), so the outcome never depends on the split either.
 *   - Every RESP3 type: simple string, simple error, integer, bulk string,
 *     bulk error, array, null, double, boolean, big number, verbatim
 *     string, map, set, attribute and push; RESP2's null bulk ($-1) and
 *     null array (*-1) are nulls. RESP3's streamed strings and aggregates
 *     ($? and *?), which Redis never sends, are refused
 *     (EDDY_RESP_E_UNSUPPORTED).
 *
 * Typical client loop:
 *
 *   eddy_resp_node_t nodes[64];
 *   eddy_resp_parser_t p;
 *   eddy_resp_parser_init(&p, nodes, 64);
 *   ... on every read, with buf/len the unconsumed bytes:
 *   int r = eddy_resp_parse(&p, buf, len, NULL);
 *   if (r > 0) use nodes[0 .. p.count), consume r bytes, parse again;
 *   else if (r == EDDY_RESP_INCOMPLETE) keep the bytes, read more;
 *   else if (r == EDDY_RESP_NEED_NODES) give a bigger array, parse again;
 *   else the stream is corrupt: drop the connection.
 *
 * Thread safety: every function is reentrant; all state is in the structs
 * the caller passes. No global mutable state.
 */
#ifndef EDDY_RESP_H
#define EDDY_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Results. Their own range (-3200...) so they never clash with eddy's
 * errno codes, the HTTP parser's (-3000...) or the resolver's (-3100...). */
#define EDDY_RESP_INCOMPLETE (-3200) /* need more bytes */
#define EDDY_RESP_NEED_NODES (-3201) /* the node array is full; see below */

typedef enum eddy_resp_error {
  EDDY_RESP_E_BAD_TYPE = -3210,    /* unknown type byte */
  EDDY_RESP_E_BAD_NEWLINE = -3211, /* CR not followed by LF, bare LF, or
                                      no CRLF after bulk data */
  EDDY_RESP_E_BAD_LENGTH = -3212,  /* bulk/aggregate length syntax */
  EDDY_RESP_E_BAD_INTEGER = -3213, /* not a 64-bit signed integer */
  EDDY_RESP_E_BAD_DOUBLE = -3214,
  EDDY_RESP_E_BAD_BOOLEAN = -3215,         /* not #t or #f */
  EDDY_RESP_E_BAD_BIGNUM = -3216,          /* not [-]digits */
  EDDY_RESP_E_BAD_VERBATIM = -3217,        /* no "xxx:" format prefix */
  EDDY_RESP_E_BAD_NULL = -3218,            /* "_" followed by bytes */
  EDDY_RESP_E_LINE_TOO_LONG = -3219,       /* a line over line_max */
  EDDY_RESP_E_BULK_TOO_LARGE = -3220,      /* a bulk over bulk_max */
  EDDY_RESP_E_AGGREGATE_TOO_LARGE = -3221, /* more elements than
                                              aggregate_max */
  EDDY_RESP_E_TOO_DEEP = -3222,            /* nesting over depth_max */
  EDDY_RESP_E_REPLY_TOO_LARGE = -3223,     /* the reply over reply_max */
  EDDY_RESP_E_UNSUPPORTED = -3224          /* streamed string or aggregate */
} eddy_resp_error;

/* Node types; the value is the RESP type byte. */
typedef enum eddy_resp_type {
  EDDY_RESP_STRING = '+',     /* simple string: str, len */
  EDDY_RESP_ERROR = '-',      /* simple error: str, len */
  EDDY_RESP_INTEGER = ':',    /* integer */
  EDDY_RESP_BULK = '$',       /* bulk string: str, len (binary safe) */
  EDDY_RESP_ARRAY = '*',      /* len elements follow */
  EDDY_RESP_NULL = '_',       /* also RESP2's $-1 and *-1 */
  EDDY_RESP_DOUBLE = ',',     /* number; str, len: the text as sent */
  EDDY_RESP_BOOLEAN = '#',    /* integer 1 (true) or 0 (false) */
  EDDY_RESP_BIGNUM = '(',     /* str, len: [-]digits */
  EDDY_RESP_BULK_ERROR = '!', /* str, len (binary safe) */
  EDDY_RESP_VERBATIM = '=',   /* format (3 bytes), str, len: the text */
  EDDY_RESP_MAP = '%',        /* len pairs: 2 * len elements follow */
  EDDY_RESP_SET = '~',        /* len elements follow */
  EDDY_RESP_ATTRIBUTE = '|',  /* len pairs; see below */
  EDDY_RESP_PUSH = '>'        /* len elements follow (out-of-band data) */
} eddy_resp_type;

/* One value of a reply. Aggregates (array, map, set, attribute, push) are
 * followed in the array by their elements, each with its own subtree;
 * `size` is the number of nodes of the subtree (1 for a scalar), so
 * node + node->size is the next sibling.
 *
 * An attribute (RESP3 "|") describes the value after it: it appears as an
 * EDDY_RESP_ATTRIBUTE node (with its pairs) directly before that value,
 * and does not count in the enclosing aggregate's len. A reply may so
 * start with an attribute; eddy_resp_skip_attributes() finds the value. */
typedef struct eddy_resp_node {
  const char *str;    /* strings: the bytes, not NUL-terminated; NULL else */
  size_t len;         /* strings: bytes; aggregates: elements (maps: pairs) */
  int64_t integer;    /* EDDY_RESP_INTEGER; EDDY_RESP_BOOLEAN (0 or 1) */
  double number;      /* EDDY_RESP_DOUBLE ("inf", "-inf", "nan" included) */
  uint32_t size;      /* nodes in this subtree, this one included */
  unsigned char type; /* eddy_resp_type */
  char format[4];     /* EDDY_RESP_VERBATIM: "txt", "mkd", ... (NUL ended) */
  struct {            /* private */
    size_t off;       /* str's offset from the reply's first byte */
  } priv;
} eddy_resp_node_t;

/* Largest depth_max: the parser keeps one frame per open aggregate. */
#define EDDY_RESP_DEPTH_CAP 64
/* Largest reply_max, so that every result fits an int. */
#define EDDY_RESP_REPLY_CAP ((size_t)0x7fffffff)

/* Limits. Start from EDDY_RESP_LIMITS_INIT or eddy_resp_limits_default().
 * 0 in any field means its default. */
typedef struct eddy_resp_limits {
  /* Aggregates open at once (an attribute counts). Over it:
   * EDDY_RESP_E_TOO_DEEP. Default 32, at most EDDY_RESP_DEPTH_CAP. */
  unsigned depth_max;
  /* Bytes in a line (simple string, error, double, big number, integer,
   * length), CRLF excluded. Default 65536. */
  size_t line_max;
  /* Bytes in a bulk string, bulk error or verbatim string. Default
   * 512 MiB, Redis's own proto-max-bulk-len. */
  size_t bulk_max;
  /* Elements announced by one aggregate (pairs for maps). Default
   * 2^32 - 1. Nodes are only used as elements arrive, so a large
   * announcement costs nothing by itself. */
  uint64_t aggregate_max;
  /* Bytes of one whole reply. Default and maximum EDDY_RESP_REPLY_CAP. A
   * bulk whose announced length would pass it is refused at its header. */
  size_t reply_max;
} eddy_resp_limits_t;

#define EDDY_RESP_LIMITS_INIT                                                  \
  { 32, 65536, (size_t)512 << 20, 0xffffffffu, EDDY_RESP_REPLY_CAP }

/* Returns the default limits (EDDY_RESP_LIMITS_INIT). */
EDDY_EXTERN eddy_resp_limits_t eddy_resp_limits_default(void);

/* Parser state. `nodes`, `cap` and `count` are public: after a complete
 * parse, nodes[0 .. count) hold the reply (nodes[0] is its root, or an
 * attribute before it). The rest is private. */
typedef struct eddy_resp_parser {
  eddy_resp_node_t *nodes;
  size_t cap;
  size_t count;
  struct {
    size_t pos;     /* offset where parsing resumes */
    size_t mark;    /* offset of the current element's first byte */
    size_t need;    /* bulk: offset just past its data and CRLF */
    int64_t length; /* the current element's announced length */
    unsigned depth;
    unsigned char state;
    unsigned char type; /* the current element's type byte */
    struct {            /* one per open aggregate */
      uint32_t node;    /* its index in nodes */
      uint64_t left;    /* elements still to come */
    } stack[EDDY_RESP_DEPTH_CAP];
  } priv;
} eddy_resp_parser_t;

/* Prepares p; replies go to nodes[0 .. cap) (cap >= 1). The caller owns
 * both. Call once; each complete or failed parse restarts by itself. */
EDDY_EXTERN void eddy_resp_parser_init(eddy_resp_parser_t *p,
                                       eddy_resp_node_t *nodes, size_t cap);

/* After EDDY_RESP_NEED_NODES: go on with a larger array that begins with
 * a copy of the first p->count nodes of the old one (realloc does that).
 * The parse continues where it stopped. cap must exceed p->count. */
EDDY_EXTERN void eddy_resp_parser_set_nodes(eddy_resp_parser_t *p,
                                            eddy_resp_node_t *nodes,
                                            size_t cap);

/* Parses one reply from buf[0 .. len).
 *
 * Returns the bytes it took (> 0) when the reply is complete: nodes[0 ..
 * p->count) hold it, with str pointers into buf, valid while buf is. The
 * next reply starts at buf + result. Returns EDDY_RESP_INCOMPLETE when
 * more bytes are needed (call again with a buffer that starts with the
 * same len bytes followed by new ones; it may be at another address),
 * EDDY_RESP_NEED_NODES when the reply needs more nodes than cap (call
 * eddy_resp_parser_set_nodes, then again with the same bytes), or a
 * negative eddy_resp_error, after which the stream cannot be resynchronised
 * (drop the connection). limits may be NULL (defaults); pass the same ones
 * for every call of one reply. Reads only buf[0 .. len); writes only p and
 * its nodes. */
EDDY_EXTERN int eddy_resp_parse(eddy_resp_parser_t *p, const char *buf,
                                size_t len, const eddy_resp_limits_t *limits);

/* The first node after any attributes in front of node: the value they
 * describe. */
EDDY_EXTERN const eddy_resp_node_t *
eddy_resp_skip_attributes(const eddy_resp_node_t *node);

/* The i-th element (0-based) of an aggregate (for maps: of its 2 * len
 * keys and values), attributes skipped; NULL if i is out of range or node
 * is not an aggregate. O(i). */
EDDY_EXTERN const eddy_resp_node_t *
eddy_resp_element(const eddy_resp_node_t *node, size_t i);

/* Non-zero for EDDY_RESP_ERROR and EDDY_RESP_BULK_ERROR nodes. */
EDDY_EXTERN int eddy_resp_is_error(const eddy_resp_node_t *node);

/* The bytes eddy_resp_encode needs for a command of argc arguments (argc
 * >= 1; argvlen NULL: each argv[i] is a NUL-terminated string). */
EDDY_EXTERN size_t eddy_resp_encoded_size(int argc, const char *const *argv,
                                          const size_t *argvlen);

/* Encodes a command as a RESP array of bulk strings (binary safe) into
 * out[0 .. cap). Returns the bytes written (the command's size), -EINVAL
 * (argc < 1, argv NULL, or a command over LONG_MAX bytes) or -ENOSPC
 * (cap smaller than eddy_resp_encoded_size()); these equal EDDY_EINVAL
 * and EDDY_ENOSPC of eddy/errno.h. */
EDDY_EXTERN long eddy_resp_encode(char *out, size_t cap, int argc,
                                  const char *const *argv,
                                  const size_t *argvlen);

/* A static description of a result of this API, or "unknown". */
EDDY_EXTERN const char *eddy_resp_strerror(int err);

/* A static name of a type ("bulk", "map", ...), or "unknown". */
EDDY_EXTERN const char *eddy_resp_type_name(int type);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_RESP_H */
