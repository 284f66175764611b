/* echo_server.c: echo every byte back, over TCP and over a Unix socket.
 *
 *   echo_server [PORT] [SOCKET_PATH]
 *
 * Listens on 127.0.0.1:PORT (default 0: the kernel picks a free port) and
 * on SOCKET_PATH (default /tmp/eddy-echo.sock), prints both addresses, and
 * serves until SIGINT or SIGTERM, then closes everything and exits 0.
 *
 * One loop serves every connection: each read hands its buffer straight to
 * a write, and the buffer is freed when the write completes. A client that
 * sends faster than it reads fills the server's write queue; the server
 * stops reading from that client until the queue drains below a limit
 * (backpressure), so a slow reader cannot make the server's memory grow
 * without bound. */
#include <arpa/inet.h>
#include <eddy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIGH_WATER (1u << 20) /* bytes queued before reading pauses */

struct conn {
  union { /* a TCP or a pipe connection: both start with a stream */
    eddy_tcp_t tcp;
    eddy_pipe_t pipe;
  } h;
  eddy_stream_t *stream;
};

struct echo_write {
  eddy_write_t req;
  struct conn *conn;
  void *data;
};

static eddy_tcp_t tcp_server;
static eddy_pipe_t pipe_server;
static eddy_signal_t sigint, sigterm;
static const char *socket_path = "/tmp/eddy-echo.sock";

static void alloc_buffer(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  (void)h;
  *buf = eddy_buf_init(malloc(suggested), suggested);
}

static void conn_closed(eddy_handle_t *h) {
  free(h->data);
}

static void close_conn(struct conn *c) {
  if (!eddy_is_closing(&c->stream->handle))
    eddy_close(&c->stream->handle, conn_closed);
}

static void on_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf);

static void on_written(eddy_write_t *req, int status) {
  struct echo_write *w = (struct echo_write *)req;
  struct conn *c = w->conn;

  free(w->data);
  free(w);
  if (status == EDDY_ECANCELED)
    return; /* the connection is closing */
  if (status != 0) {
    close_conn(c);
    return;
  }
  /* The queue drained below the limit: read again. */
  if (eddy_stream_get_write_queue_size(c->stream) < HIGH_WATER &&
      eddy_is_readable(c->stream))
    eddy_read_start(c->stream, alloc_buffer, on_read);
}

static void on_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  struct conn *c = s->handle.data;
  struct echo_write *w;
  eddy_buf_t out;

  if (nread <= 0) {
    free(buf->base);
    if (nread == EDDY_EOF || nread < 0)
      close_conn(c); /* EOF, a reset, or ENOBUFS: done with this client */
    return;
  }
  w = malloc(sizeof(*w));
  if (w == NULL) {
    free(buf->base);
    close_conn(c);
    return;
  }
  w->conn = c;
  w->data = buf->base;
  out = eddy_buf_init(buf->base, (size_t)nread);
  if (eddy_write(&w->req, s, &out, 1, on_written) != 0) {
    free(w->data);
    free(w);
    close_conn(c);
    return;
  }
  if (eddy_stream_get_write_queue_size(s) >= HIGH_WATER)
    eddy_read_stop(s);
}

static void on_connection(eddy_stream_t *server, int status) {
  struct conn *c;

  if (status != 0) {
    fprintf(stderr, "accept: %s\n", eddy_strerror(status));
    return; /* e.g. EMFILE: the server keeps listening */
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return;
  if (server == &tcp_server.stream) {
    eddy_tcp_init(server->handle.loop, &c->h.tcp);
    c->stream = &c->h.tcp.stream;
  } else {
    eddy_pipe_init(server->handle.loop, &c->h.pipe, 0);
    c->stream = &c->h.pipe.stream;
  }
  c->stream->handle.data = c;
  if (eddy_accept(server, c->stream) != 0 ||
      eddy_read_start(c->stream, alloc_buffer, on_read) != 0)
    close_conn(c);
}

static void close_any(eddy_handle_t *h, void *arg) {
  (void)arg;
  if (!eddy_is_closing(h))
    eddy_close(h, h->data != NULL ? conn_closed : NULL);
}

static void on_signal(eddy_signal_t *sig, int signum) {
  printf("signal %d: closing\n", signum);
  eddy_walk(sig->handle.loop, close_any, NULL);
}

int main(int argc, char **argv) {
  eddy_loop_t *loop = eddy_default_loop();
  struct sockaddr_in addr;
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int len = sizeof(addr);
  int err;

  if (argc > 2)
    socket_path = argv[2];
  eddy_ip4_addr("127.0.0.1", port, &addr);
  eddy_tcp_init(loop, &tcp_server);
  if ((err = eddy_tcp_bind(&tcp_server, (struct sockaddr *)&addr, 0)) != 0 ||
      (err = eddy_listen(&tcp_server.stream, 511, on_connection)) != 0 ||
      (err = eddy_tcp_getsockname(&tcp_server, (struct sockaddr *)&addr,
                                  &len)) != 0) {
    fprintf(stderr, "tcp: %s\n", eddy_strerror(err));
    return 1;
  }
  unlink(socket_path); /* a stale socket file from an earlier run */
  eddy_pipe_init(loop, &pipe_server, 0);
  if ((err = eddy_pipe_bind(&pipe_server, socket_path)) != 0 ||
      (err = eddy_listen(&pipe_server.stream, 511, on_connection)) != 0) {
    fprintf(stderr, "pipe %s: %s\n", socket_path, eddy_strerror(err));
    return 1;
  }
  eddy_signal_init(loop, &sigint);
  eddy_signal_start(&sigint, on_signal, SIGINT);
  eddy_signal_init(loop, &sigterm);
  eddy_signal_start(&sigterm, on_signal, SIGTERM);
  printf("listening on 127.0.0.1:%d and %s\n", ntohs(addr.sin_port),
         socket_path);
  fflush(stdout);
  eddy_run(loop, EDDY_RUN_DEFAULT);
  unlink(socket_path);
  return eddy_loop_close(loop) == 0 ? 0 : 1;
}
