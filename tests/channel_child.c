/* channel_child.c: the child that test_channel's fork tests start with
 * eddy_fork. It opens its channel to the parent and answers messages:
 *
 *   "ping"        -> "pong"
 *   "env NAME"    -> the value of NAME in our environment, or "(null)"
 *   "serve" + a TCP connection -> reads one chunk from the connection,
 *                    answers "child:<chunk>" on it and closes it, then
 *                    sends "served" to the parent
 *   "exit N"      -> closes the channel and exits with code N
 *   "truncate"    -> writes a frame header promising 100 bytes and 10 of
 *                    them, then exits 3 at once (a death mid-message)
 *   anything else -> echoed back unchanged
 *
 * When the parent disconnects, the child closes the channel and exits 0.
 * Run without a channel, it exits 2 if eddy_channel_open_parent says
 * EDDY_ENOENT and 1 on any other failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eddy.h"

static eddy_loop_t loop;
static eddy_channel_t channel;
static eddy_tcp_t conn;
static int exit_code;

struct reply {
  eddy_channel_send_t req;
  size_t len;
  char data[]; /* the copy being sent */
};

static void reply_sent(eddy_channel_send_t *req, int status) {
  (void)status;
  free(req->req.data);
}

static void reply(const void *data, size_t len) {
  struct reply *r = malloc(sizeof(*r) + len + 1);

  if (r == NULL)
    exit(1);
  memcpy(r->data, data, len);
  r->len = len;
  r->req.req.data = r;
  if (eddy_channel_send(&channel, &r->req, r->data, len, NULL,
                        reply_sent) != 0)
    free(r);
}

static void reply_str(const char *s) {
  reply(s, strlen(s));
}

/* ---- serving a connection the parent passed ------------------------------ */

static char conn_buf[4096];
static char conn_out[4096 + 6];
static eddy_write_t conn_write;

static void conn_closed(eddy_handle_t *h) {
  (void)h;
  reply_str("served");
}

static void conn_written(eddy_write_t *req, int status) {
  (void)req;
  (void)status;
  eddy_close(&conn.stream.handle, conn_closed);
}

static void conn_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = eddy_buf_init(conn_buf, sizeof(conn_buf));
}

static void conn_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  eddy_buf_t out;

  (void)buf;
  if (nread == 0)
    return;
  eddy_read_stop(s);
  if (nread < 0) {
    eddy_close(&s->handle, conn_closed);
    return;
  }
  memcpy(conn_out, "child:", 6);
  memcpy(conn_out + 6, conn_buf, (size_t)nread);
  out = eddy_buf_init(conn_out, 6 + (size_t)nread);
  if (eddy_write(&conn_write, s, &out, 1, conn_written) != 0)
    eddy_close(&s->handle, conn_closed);
}

static void serve(void) {
  if (eddy_channel_pending_type(&channel) != EDDY_TCP ||
      eddy_tcp_init(&loop, &conn) != 0 ||
      eddy_channel_accept(&channel, &conn.stream) != 0 ||
      eddy_read_start(&conn.stream, conn_alloc, conn_read) != 0)
    reply_str("serve failed");
}

/* ---- the channel ----------------------------------------------------------- */

static void truncate_and_die(void) {
  static const unsigned char frame[8 + 10] = {0, 0, 0, 100, 0, 0, 0, 0};
  int fd;

  if (eddy_stream_fileno(&channel.pipe.stream, &fd) == 0 &&
      write(fd, frame, sizeof(frame)) == (ssize_t)sizeof(frame))
    _exit(3);
  _exit(1);
}

static void on_message(eddy_channel_t *ch, const void *data, size_t len,
                       int has_handle) {
  char text[256];

  (void)ch;
  if (len >= sizeof(text)) {
    reply(data, len);
    return;
  }
  memcpy(text, data, len);
  text[len] = '\0';
  if (has_handle && strcmp(text, "serve") == 0) {
    serve();
  } else if (strcmp(text, "ping") == 0) {
    reply_str("pong");
  } else if (strncmp(text, "env ", 4) == 0) {
    const char *v = getenv(text + 4);
    reply_str(v != NULL ? v : "(null)");
  } else if (strncmp(text, "exit ", 5) == 0) {
    exit_code = atoi(text + 5);
    eddy_channel_close(&channel, NULL);
  } else if (strcmp(text, "truncate") == 0) {
    truncate_and_die();
  } else {
    reply(data, len);
  }
}

static void on_disconnect(eddy_channel_t *ch, int status) {
  (void)status;
  eddy_channel_close(ch, NULL);
}

int main(void) {
  int err;

  if (eddy_loop_init(&loop) != 0)
    return 1;
  err = eddy_channel_open_parent(&loop, &channel, on_message, on_disconnect);
  if (err != 0) {
    eddy_loop_close(&loop);
    return err == EDDY_ENOENT ? 2 : 1;
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0)
    return 1;
  return exit_code;
}
