/* demo_http.h: the small request helpers the demo servers (http_server.c,
 * cluster_server.c) share: a plain-text answer, the path of the
 * request-target, and the ?ms=N of /timer. Public API only. */
#ifndef EDDY_EXAMPLES_DEMO_HTTP_H
#define EDDY_EXAMPLES_DEMO_HTTP_H

#include <eddy.h>
#include <string.h>

static const eddy_http_field_t text_plain[] = {{"Content-Type", "text/plain"}};

static void reply(eddy_http_exchange_t *ex, int status, const char *text) {
  eddy_http_respond(ex, status, text_plain, 1, text, strlen(text));
}

/* True if the request-target's path is exactly path. */
static int path_is(const eddy_http_request_t *req, const char *path) {
  size_t n = strlen(path), len = req->target_len;
  const char *q = memchr(req->target, '?', len);

  if (q != NULL)
    len = (size_t)(q - req->target);
  return len == n && memcmp(req->target, path, n) == 0;
}

/* The value of ?ms=N in the target, or def. */
static long query_ms(const eddy_http_request_t *req, long def) {
  const char *end = req->target + req->target_len;
  const char *p = memchr(req->target, '?', req->target_len);
  long v = 0;

  if (p == NULL || end - p < 5 || memcmp(p, "?ms=", 4) != 0)
    return def;
  for (p += 4; p < end && *p >= '0' && *p <= '9'; p++)
    if (v < 1000000)
      v = v * 10 + (*p - '0');
  return v;
}

#endif /* EDDY_EXAMPLES_DEMO_HTTP_H */
