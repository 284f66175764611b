/* eddy HTTP/1.1 request parser: strict, incremental, zero copy.
 *
 * This header stands alone (it needs only the C library) so the parser can
 * be used, tested and fuzzed without the rest of eddy.
 *
 * Model (picohttpparser's, made incremental):
 *   - The caller owns the bytes. Results are pointers into the caller's
 *     buffer; nothing is copied and nothing is allocated.
 *   - One integer result: bytes consumed (> 0) when a request head is
 *     complete, EDDY_HTTP_INCOMPLETE when more bytes are needed, or a
 *     negative EDDY_HTTP_E_* code; eddy_http_error_status() maps each code
 *     to the HTTP status to answer with (400, 413, 414, 431, 417, 501, 505).
 *     Every error means "answer with that status and close the connection".
 *   - Incremental: when a call returns EDDY_HTTP_INCOMPLETE the caller keeps
 *     the bytes, appends what the next read brings and calls again with the
 *     whole unconsumed region. The parser resumes where it stopped, so a
 *     request that trickles in byte by byte costs linear time. The result is
 *     the same whether the bytes arrive at once or split at any point.
 *   - Strict framing (RFC 9112 and RFC 9110): bare CR or LF,
 *     obs-fold, ambiguous or invalid Content-Length / Transfer-Encoding, a
 *     missing or repeated Host, unknown methods and oversized parts are all
 *     rejected. Transfer-Encoding must be exactly "chunked": chunked not
 *     last (or twice) is 400, another coding before it ("gzip, chunked") is
 *     501. Content-Length is 1*DIGIT, once; "2, 2" and repeats are 400.
 *
 * Typical server loop:
 *
 *   eddy_http_header_t hdrs[100];
 *   eddy_http_request_t req;
 *   eddy_http_request_init(&req, hdrs, 100);
 *   ... on every read, with buf/len the unconsumed bytes:
 *   int r = eddy_http_parse_request(buf, len, &req, &limits);
 *   if (r == EDDY_HTTP_INCOMPLETE) keep the bytes, read more;
 *   else if (r < 0) answer eddy_http_error_status(r), then close;
 *   else handle req; the body (if any) starts at buf + r.
 *
 * Thread safety: every function is reentrant; the parser keeps all of its
 * state in the structs the caller passes and has no global mutable state.
 */
#ifndef EDDY_HTTP_PARSER_H
#define EDDY_HTTP_PARSER_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results. The values sit in their own range (-3000...) so they never clash
 * with eddy's negative errno codes when a server passes them on. */
#define EDDY_HTTP_INCOMPLETE (-3000) /* need more bytes */

typedef enum eddy_http_error {
  EDDY_HTTP_E_BAD_METHOD = -3001,      /* 400: method is not a token */
  EDDY_HTTP_E_UNKNOWN_METHOD = -3002,  /* 501: a token, but not known */
  EDDY_HTTP_E_BAD_TARGET = -3003,      /* 400: request-target syntax/form */
  EDDY_HTTP_E_TARGET_TOO_LONG = -3004, /* 414 */
  EDDY_HTTP_E_BAD_VERSION = -3005,     /* 400: not "HTTP/" DIGIT "." DIGIT */
  EDDY_HTTP_E_VERSION_UNSUPPORTED = -3006, /* 505: major version not 1 */
  EDDY_HTTP_E_BAD_NEWLINE = -3007,         /* 400: bare CR or bare LF */
  EDDY_HTTP_E_EMPTY_LINES = -3008,         /* 400: too many leading CRLF */
  EDDY_HTTP_E_BAD_HEADER_NAME = -3009,     /* 400: not a token, or no colon */
  EDDY_HTTP_E_BAD_HEADER_VALUE = -3010,    /* 400: NUL, CTL or DEL in a value */
  EDDY_HTTP_E_OBS_FOLD = -3011,            /* 400: line starts with SP/HT */
  EDDY_HTTP_E_HEADERS_TOO_LARGE = -3012,   /* 431: header block over limit */
  EDDY_HTTP_E_TOO_MANY_HEADERS = -3013,    /* 431 */
  EDDY_HTTP_E_BAD_CONTENT_LENGTH = -3014,  /* 400: syntax, repeated, > 2^64 */
  EDDY_HTTP_E_BAD_TRANSFER_ENCODING = -3015, /* 400: chunked not last */
  EDDY_HTTP_E_CODING_UNSUPPORTED = -3016,    /* 501: "gzip, chunked" */
  EDDY_HTTP_E_AMBIGUOUS_FRAMING = -3017,     /* 400: CL + TE, or 1.0 + TE */
  EDDY_HTTP_E_BAD_HOST = -3018,           /* 400: missing (HTTP/1.1) or twice */
  EDDY_HTTP_E_BODY_TOO_LARGE = -3019,     /* 413 */
  EDDY_HTTP_E_EXPECTATION_FAILED = -3020, /* 417: Expect not 100-continue */
  EDDY_HTTP_E_BAD_CHUNK_SIZE = -3021,     /* 400: not 1*HEXDIG, or >= 2^64 */
  EDDY_HTTP_E_BAD_CHUNK_EXT = -3022,      /* 400: chunk-ext syntax */
  EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE = -3023, /* 413 */
  EDDY_HTTP_E_BAD_CHUNK_DATA = -3024       /* 400: data not followed by CRLF */
} eddy_http_error;

/* At most this many empty lines (CRLF) before a request-line are skipped
 * (RFC 9112 §2.2 SHOULD ignore at least one); one more is a 400. */
#define EDDY_HTTP_MAX_EMPTY_LINES 4

/* Limits. Every one is a named setting; its comment gives its default.
 * Start from eddy_http_limits_default() or EDDY_HTTP_LIMITS_INIT. */
typedef struct eddy_http_limits {
  /* Request line + header fields + the final empty line, in bytes
   * (leading empty lines excluded). Also bounds a chunked body's trailer
   * section. Over it: 431. Default 16384. Values above 1 GiB are clamped. */
  size_t header_max;
  /* Request-target alone, in bytes. Over it: 414. Default 8192. */
  size_t target_max;
  /* Number of header fields (and of trailer fields). Over it: 431.
   * Default 100. The caller's header array caps it as well. */
  size_t headers_max;
  /* Body bytes: a larger Content-Length is refused when the head is parsed,
   * a chunked body as soon as a chunk-size would pass it. 413. Default
   * 1 MiB (nginx's client_max_body_size); 0 means no limit. */
  uint64_t body_max;
  /* Chunk extensions: bytes after the chunk-size on one chunk line. Over
   * it: 413. Default 16384. */
  size_t chunk_ext_max;
} eddy_http_limits_t;

#define EDDY_HTTP_LIMITS_INIT                                                  \
  { 16384, 8192, 100, 1048576, 16384 }

/* Returns the default limits (the values of EDDY_HTTP_LIMITS_INIT). */
EDDY_EXTERN eddy_http_limits_t eddy_http_limits_default(void);

/* Methods the parser knows. Any other valid token is refused with
 * EDDY_HTTP_E_UNKNOWN_METHOD (501); methods are case-sensitive, so "get"
 * is unknown too. */
typedef enum eddy_http_method {
  EDDY_HTTP_GET = 1,
  EDDY_HTTP_HEAD,
  EDDY_HTTP_POST,
  EDDY_HTTP_PUT,
  EDDY_HTTP_DELETE,
  EDDY_HTTP_CONNECT,
  EDDY_HTTP_OPTIONS,
  EDDY_HTTP_TRACE,
  EDDY_HTTP_PATCH
} eddy_http_method;

/* How the request body is framed. */
typedef enum eddy_http_body {
  EDDY_HTTP_BODY_NONE = 0, /* no body */
  EDDY_HTTP_BODY_LENGTH,   /* exactly content_length bytes (may be 0) */
  EDDY_HTTP_BODY_CHUNKED   /* Transfer-Encoding: chunked; decode it with
                              eddy_http_chunked_decode() */
} eddy_http_body;

/* One header field: pointers into the caller's buffer, not NUL-terminated.
 * The value has its leading and trailing whitespace (OWS) removed. */
typedef struct eddy_http_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} eddy_http_header_t;

/* A request head. The public fields are valid after eddy_http_parse_request
 * returned a byte count, and only while the caller's buffer is unchanged. */
typedef struct eddy_http_request {
  eddy_http_method method;
  const char *method_str; /* the method as sent, e.g. "GET" */
  size_t method_len;
  const char *target; /* request-target as sent, e.g. "/a?b=c" */
  size_t target_len;
  int version_minor;           /* 0 or 1 (HTTP/1.2..1.9 are read as 1.1) */
  eddy_http_header_t *headers; /* the caller's array, in arrival order */
  size_t num_headers;
  size_t max_headers; /* capacity of headers, set by eddy_http_request_init */
  eddy_http_body body;
  uint64_t content_length; /* when body == EDDY_HTTP_BODY_LENGTH */
  bool keep_alive;         /* 1.1: unless "Connection: close";
                              1.0: only with "Connection: keep-alive" */
  bool expect_continue;    /* HTTP/1.1 "Expect: 100-continue" */
  bool has_host;           /* a Host field was present (exactly once) */
  struct {                 /* parser state: private, do not touch */
    uintptr_t base;        /* address of buf in the previous call */
    size_t pos;            /* offset where parsing resumes */
    size_t start;          /* offset of the request line */
    size_t mark;           /* offset of the token being parsed */
    unsigned flags;        /* framing facts collected from the fields */
    unsigned char state;
    unsigned char empty_lines;
  } priv;
} eddy_http_request_t;

/* Prepares req for parsing; headers[0..max_headers) receives the fields.
 * Call once; afterwards each new request restarts by itself (see
 * eddy_http_parse_request). The caller owns req and headers. */
EDDY_EXTERN void eddy_http_request_init(eddy_http_request_t *req,
                                        eddy_http_header_t *headers,
                                        size_t max_headers);

/* Parses a request line and header section from buf[0..len).
 *
 * Returns the number of bytes consumed (> 0, leading empty lines included)
 * when the head is complete: req is filled in and the body, or the next
 * pipelined request, starts at buf + result. Returns EDDY_HTTP_INCOMPLETE
 * when more bytes are needed, or a negative eddy_http_error.
 *
 * Incremental use: after EDDY_HTTP_INCOMPLETE, call again with the same req
 * and a buffer that starts with the same bytes followed by new ones. If the
 * buffer is at the same address, parsing resumes where it stopped (linear
 * total cost); if it moved (realloc, compaction), the parser starts over on
 * the new buffer, which gives the same result (pointers are therefore never
 * left pointing into an old buffer). After a complete or failed parse, the
 * next call starts a new request. limits may be NULL (defaults); pass the
 * same limits for every call of one request. The parser reads only
 * buf[0..len) and writes only req and its headers.
 *
 * Errors are reported at the first offending byte, so a request is refused
 * as soon as it is known to be bad (a 20 KiB target is 414 once its
 * 8193rd byte arrives, a head still incomplete at header_max bytes is 431). */
EDDY_EXTERN int eddy_http_parse_request(const char *buf, size_t len,
                                        eddy_http_request_t *req,
                                        const eddy_http_limits_t *limits);

/* Called with each span of chunk data; data points into the buffer given to
 * eddy_http_chunked_decode and is valid as long as that buffer is. */
typedef void (*eddy_http_data_cb)(void *arg, const char *data, size_t len);

/* Incremental decoder for a chunked request body (RFC 9112 §7.1). */
typedef struct eddy_http_chunked_decoder {
  uint64_t body_len;     /* data bytes decoded so far (public, read-only) */
  struct {               /* decoder state: private, do not touch */
    uint64_t remaining;  /* chunk-size, then data bytes left in the chunk */
    uint64_t body_max;   /* 0: unlimited */
    size_t ext_max;      /* chunk extension bytes allowed per chunk line */
    size_t trailer_max;  /* trailer section bytes allowed */
    size_t trailers_max; /* trailer fields allowed */
    size_t count;        /* bytes in the current extension/trailer section */
    size_t trailers;     /* trailer fields seen */
    int error;           /* the error returned, repeated on later calls */
    unsigned char state;
    unsigned char digits; /* hex digits of the current chunk-size */
  } priv;
} eddy_http_chunked_decoder_t;

/* Prepares dec for a new chunked body; limits may be NULL (defaults).
 * body_max, chunk_ext_max, header_max (for the trailer section) and
 * headers_max (trailer fields) apply. */
EDDY_EXTERN void eddy_http_chunked_init(eddy_http_chunked_decoder_t *dec,
                                        const eddy_http_limits_t *limits);

/* Decodes body bytes from buf[0..len) (len at most INT_MAX), calling
 * on_data(arg, span, n) for each span of chunk data inside buf (on_data may
 * be NULL to discard the data). The body limit is enforced here: a chunk
 * whose size would take body_len past body_max is refused (413) before any
 * of its data is delivered.
 *
 * Returns the number of bytes consumed (> 0) when the body ended (last
 * chunk, trailer section and final CRLF): the next request starts at
 * buf + result. Returns EDDY_HTTP_INCOMPLETE when all len bytes were
 * consumed and the body continues: call again with the next bytes only
 * (nothing needs to be kept; the decoder holds its state). Returns 0 if the
 * body had already ended. Errors: EDDY_HTTP_E_BAD_CHUNK_SIZE (not hex, over
 * 2^64), EDDY_HTTP_E_BAD_CHUNK_EXT, EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE,
 * EDDY_HTTP_E_BAD_CHUNK_DATA (no CRLF after data), EDDY_HTTP_E_BAD_NEWLINE,
 * EDDY_HTTP_E_BODY_TOO_LARGE, and the header errors for a bad trailer
 * section (431 when over header_max bytes or headers_max fields). Trailer
 * fields are validated, then dropped. Data passed to on_data before an error
 * stays delivered. After an error, later calls return the same error.
 *
 * Note the contrast with eddy_http_parse_request: the decoder never needs
 * bytes again, so EDDY_HTTP_INCOMPLETE here means "all consumed". */
EDDY_EXTERN int eddy_http_chunked_decode(eddy_http_chunked_decoder_t *dec,
                                         const char *buf, size_t len,
                                         eddy_http_data_cb on_data, void *arg);

/* Maps a result of this API to the HTTP status code to answer with:
 * 400, 413, 414, 417, 431, 501 or 505. Returns 0 for EDDY_HTTP_INCOMPLETE
 * and other non-error values, 500 for unknown codes. */
EDDY_EXTERN int eddy_http_error_status(int err);

/* Returns a static, human-readable description of a result code. */
EDDY_EXTERN const char *eddy_http_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_HTTP_PARSER_H */
