/* Chunked transfer coding decoder (RFC 9112 §7.1), incremental, zero copy.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted ) ] )
 *
 * The decoder keeps only counters between calls, never bytes, so every call
 * consumes all of its input until the body ends. Data spans are handed to
 * the caller's callback as pointers into its buffer. Byte-at-a-time states
 * handle the short framing parts; chunk data is passed through in one span
 * per call and chunk.
 */
#include "eddy/http_parser.h"

#include <assert.h>
#include <limits.h>

#include "http_chars.h"

/* Decoder states (dec->priv.state). The extension states C_SIZE_BWS to
 * C_EXT_VALUE_WS count their bytes against chunk_ext_max; the trailer states
 * C_TRAILER to C_END_LF count theirs against header_max. */
enum {
  C_SIZE = 0,      /* first hex digit of a chunk-size */
  C_SIZE_MORE,     /* more hex digits, or what ends them */
  C_SIZE_BWS,      /* SP/HTAB after the size: a ';' must follow */
  C_EXT_NAME_BWS,  /* after ';': BWS, then a token */
  C_EXT_NAME,      /* inside an extension name */
  C_EXT_NAME_WS,   /* BWS after a name: '=' or ';' must follow */
  C_EXT_VALUE_BWS, /* after '=': BWS, then token or quoted-string */
  C_EXT_TOKEN,     /* inside a token value */
  C_EXT_QUOTED,    /* inside a quoted-string value */
  C_EXT_ESCAPE,    /* after a backslash in a quoted-string */
  C_EXT_VALUE_END, /* after a closing quote */
  C_EXT_VALUE_WS,  /* BWS after a value: ';' must follow */
  C_SIZE_LF,       /* CR ending the chunk line seen, LF must follow */
  C_DATA,          /* chunk data */
  C_DATA_CR,       /* CR after the data */
  C_DATA_LF,       /* LF after the data */
  C_TRAILER,       /* start of a trailer field line or of the final CRLF */
  C_TRAILER_NAME,
  C_TRAILER_VALUE,
  C_TRAILER_LF,
  C_END_LF, /* CR of the final CRLF seen, LF must follow */
  C_DONE,
  C_ERROR
};

/* A chunk-size may have this many hex digits, leading zeros included. */
#define MAX_SIZE_DIGITS 32

/* Cap on the trailer section so the byte count stays far from overflow. */
#define TRAILER_MAX_CAP ((size_t)1 << 30)

/* Public: see the header. */
void eddy_http_chunked_init(eddy_http_chunked_decoder_t *dec,
                            const eddy_http_limits_t *limits) {
  eddy_http_limits_t def = EDDY_HTTP_LIMITS_INIT;

  assert(dec != NULL);
  if (limits == NULL)
    limits = &def;
  *dec = (eddy_http_chunked_decoder_t){0};
  dec->priv.state = C_SIZE;
  dec->priv.body_max = limits->body_max;
  dec->priv.ext_max = limits->chunk_ext_max;
  dec->priv.trailer_max = limits->header_max < TRAILER_MAX_CAP
                              ? limits->header_max
                              : TRAILER_MAX_CAP;
  dec->priv.trailers_max = limits->headers_max;
}

/* Value of a hex digit already known to be one. */
static unsigned hex_value(unsigned char c) {
  assert(eddy__http_is(c, EDDY__HTTP_HEX));
  if (c <= '9')
    return (unsigned)(c - '0');
  return (unsigned)((c | 0x20) - 'a' + 10);
}

/* Next state after a complete extension value: ';' starts another
 * extension, CR ends the line, BWS may only lead to ';'. */
static int after_ext_value(unsigned char c) {
  if (c == ';')
    return C_EXT_NAME_BWS;
  if (c == '\r')
    return C_SIZE_LF;
  if (c == ' ' || c == '\t')
    return C_EXT_VALUE_WS;
  return -1;
}

/* Handles one byte of the chunk line after the size (BWS and extensions).
 * Returns the next state, or -1 if the byte breaks the chunk-ext grammar. */
static int ext_step(int state, unsigned char c) {
  int sp = c == ' ' || c == '\t';
  int tchar = eddy__http_is(c, EDDY__HTTP_TOKEN);

  switch (state) {
  case C_SIZE_BWS:
    if (sp)
      return C_SIZE_BWS;
    return c == ';' ? C_EXT_NAME_BWS : -1;
  case C_EXT_NAME_BWS:
    if (sp)
      return C_EXT_NAME_BWS;
    return tchar ? C_EXT_NAME : -1;
  case C_EXT_NAME:
    if (tchar)
      return C_EXT_NAME;
    if (c == '=')
      return C_EXT_VALUE_BWS;
    if (c == ';')
      return C_EXT_NAME_BWS;
    if (c == '\r')
      return C_SIZE_LF;
    return sp ? C_EXT_NAME_WS : -1;
  case C_EXT_NAME_WS:
    if (sp)
      return C_EXT_NAME_WS;
    if (c == '=')
      return C_EXT_VALUE_BWS;
    return c == ';' ? C_EXT_NAME_BWS : -1;
  case C_EXT_VALUE_BWS:
    if (sp)
      return C_EXT_VALUE_BWS;
    if (c == '"')
      return C_EXT_QUOTED;
    return tchar ? C_EXT_TOKEN : -1;
  case C_EXT_TOKEN:
    return tchar ? C_EXT_TOKEN : after_ext_value(c);
  case C_EXT_QUOTED:
    if (c == '"')
      return C_EXT_VALUE_END;
    if (c == '\\')
      return C_EXT_ESCAPE;
    return eddy__http_is(c, EDDY__HTTP_QDTEXT) ? C_EXT_QUOTED : -1;
  case C_EXT_ESCAPE: /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
    return eddy__http_is(c, EDDY__HTTP_VALUE) ? C_EXT_QUOTED : -1;
  case C_EXT_VALUE_END:
    return after_ext_value(c);
  case C_EXT_VALUE_WS:
    if (sp)
      return C_EXT_VALUE_WS;
    return c == ';' ? C_EXT_NAME_BWS : -1;
  }
  assert(0 && "not an extension state");
  return -1;
}

/* Handles one byte of the trailer section (field lines, then CRLF).
 * Returns the next state, C_DONE at the end, or a negative error. */
static int trailer_step(eddy_http_chunked_decoder_t *dec, unsigned char c) {
  switch (dec->priv.state) {
  case C_TRAILER:
    if (c == '\r')
      return C_END_LF;
    if (c == '\n')
      return EDDY_HTTP_E_BAD_NEWLINE;
    if (c == ' ' || c == '\t')
      return EDDY_HTTP_E_OBS_FOLD;
    if (!eddy__http_is(c, EDDY__HTTP_TOKEN))
      return EDDY_HTTP_E_BAD_HEADER_NAME;
    if (dec->priv.trailers >= dec->priv.trailers_max)
      return EDDY_HTTP_E_TOO_MANY_HEADERS;
    dec->priv.trailers++;
    assert(dec->priv.trailers <= dec->priv.trailers_max);
    return C_TRAILER_NAME;
  case C_TRAILER_NAME:
    if (c == ':')
      return C_TRAILER_VALUE;
    return eddy__http_is(c, EDDY__HTTP_TOKEN) ? C_TRAILER_NAME
                                              : EDDY_HTTP_E_BAD_HEADER_NAME;
  case C_TRAILER_VALUE:
    if (c == '\r')
      return C_TRAILER_LF;
    if (c == '\n')
      return EDDY_HTTP_E_BAD_NEWLINE;
    return eddy__http_is(c, EDDY__HTTP_VALUE) ? C_TRAILER_VALUE
                                              : EDDY_HTTP_E_BAD_HEADER_VALUE;
  case C_TRAILER_LF:
    return c == '\n' ? C_TRAILER : EDDY_HTTP_E_BAD_NEWLINE;
  case C_END_LF:
    return c == '\n' ? C_DONE : EDDY_HTTP_E_BAD_NEWLINE;
  }
  assert(0 && "not a trailer state");
  return EDDY_HTTP_E_BAD_HEADER_NAME;
}

/* Ends the hex digits of a chunk-size: applies the body limit, then
 * returns the state for the byte c that followed them, or an error. */
static int size_end(eddy_http_chunked_decoder_t *dec, unsigned char c) {
  uint64_t max = dec->priv.body_max;

  if (max != 0 && dec->priv.remaining > max - dec->body_len)
    return EDDY_HTTP_E_BODY_TOO_LARGE;
  if (c == '\r')
    return C_SIZE_LF;
  /* "2   " CRLF is refused: BWS is only allowed before a ';'. */
  if (c == ';' || c == ' ' || c == '\t')
    return C_SIZE_BWS;
  if (c == '\n')
    return EDDY_HTTP_E_BAD_NEWLINE;
  return EDDY_HTTP_E_BAD_CHUNK_SIZE; /* "zz", "0x2", ... */
}

/* Public: see the header. */
int eddy_http_chunked_decode(eddy_http_chunked_decoder_t *dec, const char *buf,
                             size_t len, eddy_http_data_cb on_data, void *arg) {
  const char *p, *end;
  int next;

  assert(dec != NULL);
  assert(buf != NULL || len == 0);
  assert(len <= INT_MAX);
  if (dec->priv.state == C_DONE)
    return 0;
  if (dec->priv.state == C_ERROR)
    return dec->priv.error;
  if (len == 0)
    return EDDY_HTTP_INCOMPLETE;
  p = buf;
  end = buf + len;

  while (p < end) {
    unsigned char c = (unsigned char)*p;
    int state = dec->priv.state;

    assert(state < C_DONE);
    if (state >= C_SIZE_BWS && state <= C_EXT_VALUE_WS && c != '\r' &&
        ++dec->priv.count > dec->priv.ext_max) {
      next = EDDY_HTTP_E_CHUNK_EXT_TOO_LARGE;
      goto fail;
    }
    if (state >= C_TRAILER && state <= C_END_LF &&
        ++dec->priv.count > dec->priv.trailer_max) {
      next = EDDY_HTTP_E_HEADERS_TOO_LARGE;
      goto fail;
    }

    switch (state) {
    case C_SIZE:
    case C_SIZE_MORE:
      if (eddy__http_is(c, EDDY__HTTP_HEX)) {
        if ((dec->priv.remaining >> 60) != 0 ||
            dec->priv.digits == MAX_SIZE_DIGITS) {
          next = EDDY_HTTP_E_BAD_CHUNK_SIZE; /* over 2^64 */
          goto fail;
        }
        dec->priv.remaining = dec->priv.remaining << 4 | hex_value(c);
        dec->priv.digits++;
        assert(dec->priv.digits <= MAX_SIZE_DIGITS);
        next = C_SIZE_MORE;
      } else if (state == C_SIZE) {
        next = EDDY_HTTP_E_BAD_CHUNK_SIZE; /* no digit at all */
      } else {
        next = size_end(dec, c);
        if (next == C_SIZE_BWS) {
          dec->priv.state = C_SIZE_BWS;
          dec->priv.count = 0;
          continue; /* the BWS state counts and checks this byte */
        }
      }
      break;

    case C_SIZE_LF:
      if (c != '\n') {
        next = EDDY_HTTP_E_BAD_NEWLINE;
        goto fail;
      }
      dec->priv.count = 0;
      next = dec->priv.remaining == 0 ? C_TRAILER : C_DATA;
      break;

    case C_DATA: {
      size_t avail = (size_t)(end - p);
      size_t n =
          dec->priv.remaining < avail ? (size_t)dec->priv.remaining : avail;
      /* size_end checked the whole chunk against body_max. */
      assert(n > 0 && (dec->priv.body_max == 0 ||
                       dec->body_len + n <= dec->priv.body_max));
      if (on_data != NULL)
        on_data(arg, p, n);
      dec->priv.remaining -= n;
      dec->body_len += n;
      p += n;
      if (dec->priv.remaining == 0)
        dec->priv.state = C_DATA_CR;
      continue;
    }

    case C_DATA_CR:
      next = c == '\r' ? C_DATA_LF : EDDY_HTTP_E_BAD_CHUNK_DATA;
      break;

    case C_DATA_LF:
      next = c == '\n' ? C_SIZE : EDDY_HTTP_E_BAD_CHUNK_DATA;
      dec->priv.digits = 0;
      break;

    case C_TRAILER:
    case C_TRAILER_NAME:
    case C_TRAILER_VALUE:
    case C_TRAILER_LF:
    case C_END_LF:
      next = trailer_step(dec, c);
      if (next == C_DONE) {
        dec->priv.state = C_DONE;
        p++;
        assert((size_t)(p - buf) <= len);
        return (int)(p - buf);
      }
      break;

    default:
      next = ext_step(state, c);
      if (next < 0)
        next = state == C_SIZE_BWS ? EDDY_HTTP_E_BAD_CHUNK_SIZE
                                   : EDDY_HTTP_E_BAD_CHUNK_EXT;
      break;
    }
    if (next < 0)
      goto fail;
    dec->priv.state = (unsigned char)next;
    p++;
  }
  return EDDY_HTTP_INCOMPLETE;

fail:
  assert(next < 0 && next != EDDY_HTTP_INCOMPLETE);
  dec->priv.state = C_ERROR;
  dec->priv.error = next;
  return next;
}
