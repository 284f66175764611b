/* stream_internal.h: the byte-stream base (stream.c) as tcp.c, pipe.c and
 * the layers on streams (processes, channels) use it. */
#ifndef EDDY_NET_STREAM_INTERNAL_H
#define EDDY_NET_STREAM_INTERNAL_H

#include "eddy/stream.h"

/* eddy_stream_t.priv.flags */
enum {
  EDDY__STREAM_READING = 1 << 0,
  EDDY__STREAM_READABLE = 1 << 1, /* connected, no EOF yet */
  EDDY__STREAM_WRITABLE = 1 << 2, /* connected, not shut down */
  EDDY__STREAM_LISTENING = 1 << 3,
  EDDY__STREAM_SHUTTING = 1 << 4,
  EDDY__STREAM_SHUT = 1 << 5,
  EDDY__STREAM_SOCKET = 1 << 6, /* sendmsg/recvmsg rather than writev/read */
  EDDY__STREAM_IPC = 1 << 7,    /* descriptors travel with the data */
  /* left blocking (a terminal shared with other processes, tty.c): one
   * read per readiness event, as a second could block */
  EDDY__STREAM_BLOCKING = 1 << 8,
  /* listening, but its connections come from elsewhere (a cluster
   * worker's server fed by the primary): the descriptor is not watched */
  EDDY__STREAM_REMOTE_ACCEPT = 1 << 9
};

void eddy__stream_init(eddy_loop_t *loop, eddy_stream_t *s,
                       eddy_handle_type type);
/* Idle timeouts (stream_timeout.c): activity stores the time, nothing
 * more, and only on streams that have a timeout. */
void eddy__stream_timeout_touch_slow(eddy_stream_t *s);
void eddy__stream_timeout_close(eddy_stream_t *s);
static inline void eddy__stream_touch(eddy_stream_t *s) {
  if (s->priv.timeout != NULL)
    eddy__stream_timeout_touch_slow(s);
}

/* The ops rows' fileno for every stream type. */
int eddy__stream_handle_fd(const eddy_handle_t *h);
/* Give the stream its descriptor; flags: EDDY__STREAM_* it starts with. */
int eddy__stream_open(eddy_stream_t *s, int fd, unsigned flags);
/* The EDDY__STREAM_* flags an adopted socket starts with, from its real
 * state: connected (readable and writable), or listening or unconnected
 * (neither). */
unsigned eddy__stream_socket_state(int fd);
/* listen(2) on the stream's descriptor and start accepting. */
int eddy__stream_listen(eddy_stream_t *s, int backlog, eddy_connection_cb cb);
/* Listen with connections handed in by eddy__stream_deliver only. */
void eddy__stream_listen_remote(eddy_stream_t *s, eddy_connection_cb cb);
/* Offer connection fd to a listening stream: runs its connection
 * callback. Returns 1 if the program took fd (eddy_accept), 0 if not
 * (fd is the caller's again), EDDY_EINVAL (not listening, or closing).
 * closed_hook (may be NULL) becomes the close hook of the stream that
 * takes it (a cluster worker reports closes so). */
int eddy__stream_deliver(eddy_stream_t *s, int fd,
                         void (*closed_hook)(eddy_stream_t *client));
/* Stop listening (accepting and keeping the loop alive), the handle
 * staying open. */
void eddy__stream_listen_stop(eddy_stream_t *s);
/* Track a connect(2) that returned err (0, -EINPROGRESS or an error). */
void eddy__stream_connect(eddy_stream_t *s, eddy_connect_t *req, int err,
                          eddy_connect_cb cb);
int eddy__stream_write2(eddy_write_t *req, eddy_stream_t *s,
                        const eddy_buf_t bufs[], unsigned nbufs, int send_fd,
                        eddy_write_cb cb);
/* The handle-ops rows of stream types (tcp.c, pipe.c) use these two. */
void eddy__stream_close(eddy_handle_t *h);
void eddy__stream_finish_close(eddy_handle_t *h);
static inline int eddy__stream_fd(const eddy_stream_t *s) {
  return s->priv.io.fd;
}

#endif /* EDDY_NET_STREAM_INTERNAL_H */
