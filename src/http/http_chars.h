/* Character classes shared by the HTTP request parser and chunked decoder,
 * and the one ASCII case-insensitive comparison of src/http/. Internal to
 * src/http/; never installed. One 256-entry table so the hot scanning loops
 * are a load and a test per byte. */
#ifndef EDDY_HTTP_CHARS_H
#define EDDY_HTTP_CHARS_H

#include <stddef.h>

enum {
  EDDY__HTTP_TOKEN = 1,  /* tchar (RFC 9110 §5.6.2) */
  EDDY__HTTP_VALUE = 2,  /* field-vchar, obs-text, SP, HTAB (§5.5) */
  EDDY__HTTP_TARGET = 4, /* request-target byte: VCHAR 0x21-0x7e */
  EDDY__HTTP_QDTEXT = 8, /* qdtext: HTAB SP ! #-[ ]-~ obs-text (§5.6.4) */
  EDDY__HTTP_HEX = 16    /* HEXDIG */
};

/* Generated from the definitions above; tests/test_http_parser.c checks
 * every entry against them. */
/* clang-format off */
static const unsigned char eddy__http_cc[256] = {
  /* 00 */  0,  0,  0,  0,  0,  0,  0,  0,  0, 10,  0,  0,  0,  0,  0,  0,
  /* 10 */  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
  /* 20 */ 10, 15,  6, 15, 15, 15, 15, 15, 14, 14, 15, 15, 14, 15, 15, 14,
  /* 30 */ 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 14, 14, 14, 14, 14, 14,
  /* 40 */ 14, 31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15,
  /* 50 */ 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14,  6, 14, 15, 15,
  /* 60 */ 15, 31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15,
  /* 70 */ 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 15, 14, 15,  0,
  /* 80 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
  /* 90 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
  /* a0 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
  /* b0 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
  /* c0 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
  /* d0 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
  /* e0 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
  /* f0 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
};
/* clang-format on */

/* True if byte c is in class cls. */
static inline int eddy__http_is(unsigned char c, unsigned cls) {
  return (eddy__http_cc[c] & cls) != 0;
}

/* ASCII lower case of c, whatever the locale: field names, and the tokens
 * compared in field values, are ASCII (RFC 9110 §5.1). */
static inline unsigned char eddy__http_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* True if a[0..an) equals b[0..bn), ignoring ASCII case. Bytes that are
 * equal as they stand (most of them) skip the case folding. */
static inline int eddy__http_equals_ci(const char *a, size_t an, const char *b,
                                       size_t bn) {
  size_t i;

  if (an != bn)
    return 0;
  for (i = 0; i < an; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x != y && eddy__http_lower(x) != eddy__http_lower(y))
      return 0;
  }
  return 1;
}

/* A string literal as the (pointer, length) pair eddy__http_equals_ci
 * takes: eddy__http_equals_ci(s, n, EDDY__HTTP_LIT("close")). */
#define EDDY__HTTP_LIT(lit) (lit), (sizeof(lit) - 1)

#endif /* EDDY_HTTP_CHARS_H */
