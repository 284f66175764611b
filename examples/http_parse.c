/* http_parse.c: the standalone HTTP/1.1 parser, fed one byte at a time.
 *
 * No loop and no socket: eddy/http_parser.h needs only the C library. The
 * program receives a chunked POST as if it trickled in byte by byte, the
 * worst a network can do: each byte is appended to one buffer and the
 * parser is asked again; it resumes where it stopped, so the whole head
 * costs linear time. Then the chunked body is decoded, again byte by byte,
 * and a bad request is refused. Output:
 *
 *   head complete at byte 106, after 105 calls that returned INCOMPLETE
 *   POST /notes?draft=1 HTTP/1.1
 *     Host: example.test
 *     Content-Type: text/plain
 *     Transfer-Encoding: chunked
 *   keep-alive: yes, body: chunked
 *   body: 11 bytes from 2 chunks: "hello world"
 *   bare LF: 400 (bare CR or LF)
 *
 * What it shows: results are pointers into the caller's buffer (nothing
 * copied, nothing allocated: the caller owns every byte and the header
 * array); one integer says "consumed N bytes", "need more"
 * (EDDY_HTTP_INCOMPLETE) or which error, and eddy_http_error_status()
 * turns an error into the status to answer with before closing. The
 * result is the same however the bytes are split. The body decoder keeps
 * its own state, so it is fed each new byte alone and never needs old
 * ones again. This is the parser eddy's HTTP server runs on its streams.
 *
 * Exit status 0 when every field and the body came out as sent. */
#include <eddy/http_parser.h>
#include <stdio.h>
#include <string.h>

static const char request[] = "POST /notes?draft=1 HTTP/1.1\r\n"
                              "Host: example.test\r\n"
                              "Content-Type: text/plain\r\n"
                              "Transfer-Encoding: chunked\r\n"
                              "\r\n"
                              "5\r\nhello\r\n"
                              "6\r\n world\r\n"
                              "0\r\n\r\n";

struct body {
  char text[64];
  size_t len;
};

/* Body data as the decoder finds it, a span inside the buffer it was
 * given (here always one byte). */
static void on_data(void *arg, const char *data, size_t len) {
  struct body *b = arg;

  if (len <= sizeof(b->text) - b->len) {
    memcpy(b->text + b->len, data, len);
    b->len += len;
  }
}

/* Decode the chunked body in buf[0..len) one byte at a time, each byte in
 * a call of its own. Returns 0 when the body ended exactly at the last
 * byte, -1 otherwise. */
static int decode_body(const char *buf, size_t len, struct body *b) {
  eddy_http_chunked_decoder_t dec;
  int r = EDDY_HTTP_INCOMPLETE;
  size_t i;

  eddy_http_chunked_init(&dec, NULL);
  for (i = 0; i < len && r == EDDY_HTTP_INCOMPLETE; i++)
    r = eddy_http_chunked_decode(&dec, buf + i, 1, on_data, b);
  return r == 1 && i == len && dec.body_len == b->len ? 0 : -1;
}

int main(void) {
  static char buf[sizeof(request)];
  eddy_http_header_t headers[8];
  eddy_http_request_t req;
  eddy_http_limits_t limits = eddy_http_limits_default();
  struct body body = {{0}, 0};
  static const char bad[] = "GET / HTTP/1.1\nHost: x\r\n\r\n";
  size_t i, len = 0, incomplete = 0;
  int r = EDDY_HTTP_INCOMPLETE, body_ok, bad_r, ok;

  eddy_http_request_init(&req, headers, 8);
  /* The bytes arrive one by one, appended in place: same buffer address,
   * so every call resumes where the last one stopped. */
  while (r == EDDY_HTTP_INCOMPLETE && len < sizeof(request) - 1) {
    buf[len] = request[len];
    len++;
    r = eddy_http_parse_request(buf, len, &req, &limits);
    if (r == EDDY_HTTP_INCOMPLETE)
      incomplete++;
  }
  if (r < 0) {
    printf("parse error: %s\n", eddy_http_strerror(r));
    return 1;
  }
  printf("head complete at byte %d, after %zu calls that returned "
         "INCOMPLETE\n",
         r, incomplete);
  printf("%.*s %.*s HTTP/1.%d\n", (int)req.method_len, req.method_str,
         (int)req.target_len, req.target, req.version_minor);
  for (i = 0; i < req.num_headers; i++)
    printf("  %.*s: %.*s\n", (int)req.headers[i].name_len, req.headers[i].name,
           (int)req.headers[i].value_len, req.headers[i].value);
  printf("keep-alive: %s, body: %s\n", req.keep_alive ? "yes" : "no",
         req.body == EDDY_HTTP_BODY_CHUNKED ? "chunked" : "not chunked");

  /* The body is whatever follows the head: the rest of the request. */
  body_ok = decode_body(request + r, sizeof(request) - 1 - (size_t)r, &body);
  printf("body: %zu bytes from 2 chunks: \"%.*s\"\n", body.len, (int)body.len,
         body.text);
  ok = body_ok == 0 && body.len == 11 &&
       memcmp(body.text, "hello world", 11) == 0 &&
       req.method == EDDY_HTTP_POST && req.num_headers == 3 &&
       req.body == EDDY_HTTP_BODY_CHUNKED && req.keep_alive &&
       req.target_len == 14 && memcmp(req.target, "/notes?draft=1", 14) == 0;

  /* A request line ended by a bare LF is refused: 400, then close. */
  eddy_http_request_init(&req, headers, 8);
  bad_r = eddy_http_parse_request(bad, sizeof(bad) - 1, &req, &limits);
  printf("bare LF: %d (%s)\n", eddy_http_error_status(bad_r),
         eddy_http_strerror(bad_r));
  return ok && bad_r == EDDY_HTTP_E_BAD_NEWLINE ? 0 : 1;
}
