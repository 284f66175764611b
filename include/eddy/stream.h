/* eddy/stream.h: the byte-stream base shared by TCP and Unix pipes.
 *
 * A stream handle (eddy_tcp_t, eddy_pipe_t) starts with an eddy_stream_t,
 * so &tcp->stream is the stream and &tcp->stream.handle the handle. All of
 * this runs on the loop's thread; network I/O never uses the work pool.
 *
 * Reading: eddy_read_start() asks the allocator for a buffer, reads into
 * it and hands it to the read callback: nread > 0 bytes; 0 (nothing to
 * read now: the buffer comes back unused); EDDY_EOF once the peer has shut
 * its side (reading stops); EDDY_ENOBUFS if the allocator gave no buffer;
 * or another negative error (EDDY_ECONNRESET, ...), after which the program
 * should close the stream. The callback owns the buffer in every case.
 *
 * Writing: eddy_write() tries to write at once when nothing is queued and
 * queues whatever the kernel did not take; write_queue_size is the number
 * of bytes queued and is the measure for backpressure. Write callbacks never
 * run inside eddy_write: a write done at once completes in the loop's next
 * pending phase. Writes complete in order. Closing a stream completes the
 * writes it still has with EDDY_ECANCELED, in order, and a pending connect
 * or shutdown with EDDY_ECANCELED, all before the close callback.
 */
#ifndef EDDY_STREAM_H
#define EDDY_STREAM_H

#include "export.h"

#include <sys/types.h>

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_stream_s eddy_stream_t;
typedef struct eddy_write_s eddy_write_t;
typedef struct eddy_connect_s eddy_connect_t;
typedef struct eddy_shutdown_s eddy_shutdown_t;

typedef void (*eddy_read_cb)(eddy_stream_t *stream, ssize_t nread,
                             const eddy_buf_t *buf);
typedef void (*eddy_write_cb)(eddy_write_t *req, int status);
typedef void (*eddy_connect_cb)(eddy_connect_t *req, int status);
typedef void (*eddy_shutdown_cb)(eddy_shutdown_t *req, int status);
/* A connection is waiting: call eddy_accept() (status 0), or a negative
 * error: EDDY_EMFILE/EDDY_ENFILE mean the process ran out of descriptors;
 * the connections waiting were accepted and closed at once so that their
 * clients are not left hanging, and the server keeps listening. */
typedef void (*eddy_connection_cb)(eddy_stream_t *server, int status);
/* The stream was idle for its timeout (eddy_stream_set_timeout). */
typedef void (*eddy_stream_timeout_cb)(eddy_stream_t *stream);

struct eddy_stream_s {
  eddy_handle_t handle;
  size_t write_queue_size; /* bytes accepted by eddy_write, not yet sent */
  struct {
    eddy_io_t io;
    eddy_alloc_cb alloc_cb;
    eddy_read_cb read_cb;
    eddy_connection_cb connection_cb;
    eddy_queue_t write_queue; /* waiting; the head may be partly written */
    eddy_queue_t write_done;  /* finished; callbacks due */
    eddy_connect_t *connect_req;
    eddy_shutdown_t *shutdown_req;
    int accepted_fd; /* a connection waiting for eddy_accept, or -1 */
    int delayed_error;
    unsigned flags;
    /* what a layer built on the stream (a channel) releases at close */
    void (*close_hook)(eddy_stream_t *stream);
    /* pipes in IPC mode: descriptors received, waiting for eddy_accept */
    int *ipc_fds;
    unsigned ipc_nfds;
    unsigned ipc_cap;
    struct eddy__stream_timeout *timeout; /* eddy_stream_set_timeout */
  } priv;
};

struct eddy_write_s {
  eddy_req_t req; /* req.data is yours */
  eddy_stream_t *handle;
  struct {
    eddy_write_cb cb;
    eddy_queue_t node;
    eddy_buf_t *bufs;
    unsigned nbufs;
    unsigned index; /* first buffer not completely written */
    int error;
    int send_fd; /* eddy_write2: the descriptor to pass, or -1 */
    eddy_buf_t bufsml[4];
  } priv;
};

struct eddy_connect_s {
  eddy_req_t req;
  eddy_stream_t *handle;
  struct {
    eddy_connect_cb cb;
  } priv;
};

struct eddy_shutdown_s {
  eddy_req_t req;
  eddy_stream_t *handle;
  struct {
    eddy_shutdown_cb cb;
  } priv;
};

/* Start accepting connections; cb runs once per waiting connection.
 * backlog is listen(2)'s. Returns 0, EDDY_EINVAL (cb NULL, or not a
 * listening kind of stream), or listen(2)'s error (EDDY_EADDRINUSE). */
EDDY_EXTERN int eddy_listen(eddy_stream_t *server, int backlog,
                            eddy_connection_cb cb);

/* Take the waiting connection into client, an initialised stream of the
 * same kind with no descriptor yet. Call it from the connection callback
 * (a connection not taken pauses accepting until it is). For an IPC pipe,
 * takes the oldest received descriptor instead (see eddy/pipe.h).
 * Returns 0, EDDY_EAGAIN (nothing waiting), EDDY_EBUSY (client already has
 * a descriptor) or EDDY_EINVAL (kinds differ). */
EDDY_EXTERN int eddy_accept(eddy_stream_t *server, eddy_stream_t *client);

/* Start reading. Returns 0, EDDY_EALREADY (reading already: call
 * eddy_read_stop() first to change the callbacks), EDDY_EINVAL (a callback
 * NULL, a listening or closing stream), EDDY_ENOTCONN (no descriptor, or
 * the stream is not readable: it is connecting, or EOF was read, which
 * clears readable as in libuv). */
EDDY_EXTERN int eddy_read_start(eddy_stream_t *stream, eddy_alloc_cb alloc_cb,
                                eddy_read_cb read_cb);

/* Stop reading; safe to call when not reading, and from the read
 * callback. Returns 0. */
EDDY_EXTERN int eddy_read_stop(eddy_stream_t *stream);

/* Write nbufs buffers, in order, as one request; cb (may be NULL) runs when
 * all are written or the write failed. The buffers' memory must stay valid
 * until cb; the array itself is copied. Returns 0, EDDY_EINVAL (nbufs 0),
 * EDDY_EPIPE (shut down or not writable), EDDY_EBADF (no descriptor) or
 * EDDY_ENOMEM. Errors of the write itself (EDDY_EPIPE, EDDY_ECONNRESET)
 * come to cb. SIGPIPE is never raised for sockets. */
EDDY_EXTERN int eddy_write(eddy_write_t *req, eddy_stream_t *stream,
                           const eddy_buf_t bufs[], unsigned nbufs,
                           eddy_write_cb cb);

/* Write what the kernel takes now without queueing: returns the byte count
 * (possibly partial), EDDY_EAGAIN if nothing could be written or writes are
 * already queued (ordering), or another negative error. */
EDDY_EXTERN ssize_t eddy_try_write(eddy_stream_t *stream,
                                   const eddy_buf_t bufs[], unsigned nbufs);

/* Half-close: once every queued write is done, shut the write side
 * (shutdown(SHUT_WR)); cb gets 0 or an error. Later writes fail with
 * EDDY_EPIPE; reading goes on. Returns 0, EDDY_ENOTCONN (no descriptor,
 * already shut or shutting). */
EDDY_EXTERN int eddy_shutdown(eddy_shutdown_t *req, eddy_stream_t *stream,
                              eddy_shutdown_cb cb);

/* Non-zero while the stream can be read from: it has a descriptor opened
 * for reading (connected, accepted, or adopted with read access) and has
 * not read EOF or a read error, and it is not closing. Reading or not
 * (eddy_read_start) does not change it. */
EDDY_EXTERN int eddy_is_readable(const eddy_stream_t *stream);

/* Non-zero while eddy_write can queue data on the stream: it has a
 * descriptor opened for writing, is connected, has not been shut down
 * (eddy_shutdown clears it at once, not when the shutdown completes), has
 * had no read or write error that ends it, and is not closing. */
EDDY_EXTERN int eddy_is_writable(const eddy_stream_t *stream);

/* The write_queue_size field: bytes eddy_write accepted that the kernel has
 * not taken yet. It grows when the peer reads slower than the program
 * writes; stop writing above a limit of your own and go on in a write
 * callback, when it has fallen (backpressure, as Node's writableLength). */
EDDY_EXTERN size_t
eddy_stream_get_write_queue_size(const eddy_stream_t *stream);

/* The stream's descriptor (0) or EDDY_EBADF when it has none. Do not read
 * from or close it behind the stream's back. */
EDDY_EXTERN int eddy_stream_fileno(const eddy_stream_t *stream, int *fd);

/* Blocking mode (libuv's uv_stream_set_blocking): the descriptor is made
 * blocking, so a write completes inside eddy_write() (the loop thread
 * waits for the peer to take every byte); callbacks still run later from
 * the loop, and reads still happen on readiness, one per event. Meant for
 * a process's own stdout/stderr pipes, where output must not be lost at
 * exit. Off again with blocking 0. Returns 0, EDDY_EINVAL (NULL or
 * closing), EDDY_EBADF (no descriptor) or fcntl's error. */
EDDY_EXTERN int eddy_stream_set_blocking(eddy_stream_t *stream, int blocking);

/* Node's socket.setTimeout: cb runs once the stream has been idle for ms
 * milliseconds (no bytes read, no write queued or finished), then again
 * only after new activity and another ms of quiet. It closes nothing: the
 * callback decides (eddy_close, a shutdown, a keep-alive probe). Calling
 * it again replaces ms and cb and starts a new period; ms 0 removes the
 * timeout. The timeout does not keep the loop alive and costs nothing per
 * read or write beyond storing the time. Returns 0, EDDY_EINVAL (NULL
 * stream, NULL cb with ms > 0, a closing stream) or EDDY_ENOMEM. */
EDDY_EXTERN int eddy_stream_set_timeout(eddy_stream_t *stream, uint64_t ms,
                                        eddy_stream_timeout_cb cb);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_STREAM_H */
