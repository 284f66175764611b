/* echo_client.c: send a message to echo_server and check the echo.
 *
 *   echo_client PORT|SOCKET_PATH [MESSAGE]
 *
 * A number is a TCP port on 127.0.0.1, anything else the path of a Unix
 * socket. The client connects, writes MESSAGE (default "hello, eddy"),
 * shuts down its write side so the server sees EOF once it has read
 * everything, reads until the server closes, and prints what came back.
 * The message may be of any length the command line allows: the client
 * keeps a buffer of the message's size for the echo (more bytes back than
 * were sent is a failure). Exit status 0 when the echo equals the
 * message. */
#include <ctype.h>
#include <eddy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static union {
  eddy_tcp_t tcp;
  eddy_pipe_t pipe;
} client;
static eddy_stream_t *stream;
static eddy_connect_t connect_req;
static eddy_write_t write_req;
static eddy_shutdown_t shutdown_req;
static const char *message = "hello, eddy";
static char *echo; /* strlen(message) bytes */
static size_t echo_len;
static int failed;

static void alloc_buffer(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  static char space[65536];

  (void)h;
  (void)suggested;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void on_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  if (nread == EDDY_EOF || nread < 0) {
    if (nread != EDDY_EOF) {
      fprintf(stderr, "read: %s\n", eddy_strerror((int)nread));
      failed = 1;
    }
    eddy_close(&s->handle, NULL);
    return;
  }
  if ((size_t)nread > strlen(message) - echo_len) {
    failed = 1; /* more than was sent */
    eddy_close(&s->handle, NULL);
    return;
  }
  memcpy(echo + echo_len, buf->base, (size_t)nread);
  echo_len += (size_t)nread;
}

static void on_written(eddy_write_t *req, int status) {
  if (status != 0) {
    fprintf(stderr, "write: %s\n", eddy_strerror(status));
    failed = 1;
    eddy_close(&req->handle->handle, NULL);
  }
}

static void on_connect(eddy_connect_t *req, int status) {
  eddy_buf_t buf = eddy_buf_init((void *)message, strlen(message));

  if (status != 0) {
    fprintf(stderr, "connect: %s\n", eddy_strerror(status));
    failed = 1;
    eddy_close(&req->handle->handle, NULL);
    return;
  }
  if (eddy_read_start(stream, alloc_buffer, on_read) != 0 ||
      eddy_write(&write_req, stream, &buf, 1, on_written) != 0 ||
      eddy_shutdown(&shutdown_req, stream, NULL) != 0) {
    failed = 1;
    eddy_close(&stream->handle, NULL);
  }
}

static int is_port(const char *s) {
  for (; *s != '\0'; s++)
    if (!isdigit((unsigned char)*s))
      return 0;
  return 1;
}

int main(int argc, char **argv) {
  eddy_loop_t *loop = eddy_default_loop();
  int err;

  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT|SOCKET_PATH [MESSAGE]\n", argv[0]);
    return 2;
  }
  if (argc > 2)
    message = argv[2];
  echo = malloc(strlen(message) + 1);
  if (echo == NULL) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  if (is_port(argv[1])) {
    struct sockaddr_in addr;

    eddy_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    eddy_tcp_init(loop, &client.tcp);
    stream = &client.tcp.stream;
    err = eddy_tcp_connect(&connect_req, &client.tcp, (struct sockaddr *)&addr,
                           on_connect);
  } else {
    eddy_pipe_init(loop, &client.pipe, 0);
    stream = &client.pipe.stream;
    err = eddy_pipe_connect(&connect_req, &client.pipe, argv[1], on_connect);
  }
  if (err != 0) {
    fprintf(stderr, "connect: %s\n", eddy_strerror(err));
    return 1;
  }
  eddy_run(loop, EDDY_RUN_DEFAULT);
  printf("echoed: %.*s\n", (int)echo_len, echo);
  if (eddy_loop_close(loop) != 0)
    failed = 1;
  failed |= echo_len != strlen(message) || memcmp(echo, message, echo_len);
  free(echo);
  return failed ? 1 : 0;
}
