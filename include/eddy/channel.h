/* eddy/channel.h: framed message channels over IPC pipes, and fork.
 *
 * A channel carries whole messages (byte strings) between two processes
 * over one end of a Unix socketpair, and can pass a TCP or pipe handle
 * with a message. It is Node's child_process IPC channel with the
 * 'advanced' (length-prefixed) framing: the bytes are the program's, eddy
 * adds only the frame.
 *
 * Wire format, one frame per message:
 *
 *   4 bytes  body length, big-endian (at most the channel's maximum)
 *   4 bytes  flags, big-endian: bit 0 = a handle rides with this message;
 *            every other bit must be 0
 *   length   the body
 *
 * A frame goes out as one write; with a handle, through eddy_write2, so
 * the descriptor rides with the sendmsg that starts with the frame's
 * header. The kernel hands a passed descriptor to the read that contains
 * the first byte of that sendmsg and ends the read there or earlier (such
 * a read may begin with older bytes, so the descriptor is not always at
 * the start of its read). The reader therefore gives a descriptor to the
 * last frame that starts in the read that brought it, and checks that
 * this frame has the handle bit: a descriptor with no frame starting in
 * its read, several descriptors at once, or a handle bit without one is
 * a protocol error. Frames are delivered in order, so the descriptor of
 * the message being delivered is always the oldest the pipe holds.
 *
 * Limits: the maximum message body is per channel, default
 * EDDY_CHANNEL_MAX_MESSAGE (64 MiB). Sending more fails at once with
 * EDDY_EMSGSIZE; a received header announcing more disconnects the channel
 * with EDDY_EMSGSIZE before any of the body is buffered.
 *
 * Disconnect: the disconnect callback runs once, when the peer closes
 * (status 0), after every complete message has been delivered, or when the
 * channel fails:
 *   EDDY_ECONNRESET  the peer closed in the middle of a frame (it died
 *                    mid-message); the partial frame is dropped, never
 *                    delivered; also a reset reported by the socket
 *   EDDY_EMSGSIZE    a frame above the maximum was announced
 *   EDDY_EPROTO      a malformed frame (unknown flag bits, a descriptor
 *                    out of place, more than one descriptor per frame)
 *   EDDY_ENOMEM      no memory for the receive buffer
 *   other            a read error of the socket
 * After a failure (not a clean EOF) eddy shuts the socket down both ways
 * so that the peer learns at once: a channel that lost its framing cannot
 * resynchronise. After disconnect the channel reads no more, sends fail
 * with EDDY_EPIPE (Node: ERR_IPC_CHANNEL_CLOSED), it no longer keeps the
 * loop alive, and the program still closes it with eddy_channel_close.
 * Closing a channel locally does not run its disconnect callback.
 *
 * Liveness: a channel that is reading keeps the loop alive, as a live IPC
 * channel keeps a Node process alive, unless eddy_channel_unref'd. Sends
 * in flight keep the loop alive on their own (they are requests).
 *
 * Fork: eddy_fork starts a child with an extra descriptor that is the
 * other end of the channel, and tells it which one with EDDY_CHANNEL_FD in
 * its environment; the child calls eddy_channel_open_parent.
 *
 * Everything here runs on the loop's thread. Callbacks never run inside
 * the call that caused them.
 */
#ifndef EDDY_CHANNEL_H
#define EDDY_CHANNEL_H

#include "export.h"

#include <stddef.h>
#include <stdint.h>

#include "pipe.h"
#include "process.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default maximum message body, in bytes (Node has no fixed limit; a
 * bound keeps a broken or hostile peer from making us allocate without
 * end). */
#define EDDY_CHANNEL_MAX_MESSAGE ((size_t)64 * 1024 * 1024)
/* The largest maximum that can be set: the length field's range. */
#define EDDY_CHANNEL_MAX_LIMIT ((size_t)UINT32_MAX)
/* Bytes of frame header before each message body. */
#define EDDY_CHANNEL_HEADER_SIZE 8
/* The environment variable that names the child's channel descriptor. */
#define EDDY_CHANNEL_ENV "EDDY_CHANNEL_FD"

typedef struct eddy_channel_s eddy_channel_t;
typedef struct eddy_channel_send_s eddy_channel_send_t;

/* A whole message: data[0..len) is valid during the callback only (copy
 * what you keep). has_handle: a handle came with it; take it with
 * eddy_channel_accept during this callback, or eddy closes it when the
 * callback returns. The callback may send, close the channel, or change
 * its maximum. */
typedef void (*eddy_channel_message_cb)(eddy_channel_t *channel,
                                        const void *data, size_t len,
                                        int has_handle);
/* The channel ended: 0 for a clean EOF, else the error (see above). Runs
 * at most once per channel. */
typedef void (*eddy_channel_disconnect_cb)(eddy_channel_t *channel,
                                           int status);
/* The message (and its handle's descriptor) was handed to the kernel
 * (0), or failed: EDDY_EPIPE / EDDY_ECONNRESET (the peer is gone),
 * EDDY_ECANCELED (the channel was closed first). */
typedef void (*eddy_channel_send_cb)(eddy_channel_send_t *req, int status);

struct eddy_channel_s {
  /* The IPC pipe, first so that (eddy_handle_t *)channel is its handle:
   * the close callback gets that pointer. Do not read, write or close it
   * directly. */
  eddy_pipe_t pipe;
  void *data; /* yours */
  struct {
    eddy_channel_message_cb message_cb;
    eddy_channel_disconnect_cb disconnect_cb;
    eddy_close_cb close_cb;
    char *buf;       /* received bytes; a frame starts at buf[0] */
    size_t len;      /* bytes held in buf */
    size_t cap;      /* buf's size */
    size_t max_message;
    unsigned flags;  /* EDDY__CHANNEL_* in channel.c */
  } priv;
};

/* One message on its way; the caller owns it until cb. */
struct eddy_channel_send_s {
  eddy_req_t req; /* req.data is yours; req.type is EDDY_WRITE */
  eddy_channel_t *channel;
  struct {
    eddy_write_t write;
    eddy_channel_send_cb cb;
    unsigned char header[EDDY_CHANNEL_HEADER_SIZE];
  } priv;
};

/* Initialise a channel without a descriptor. message_cb and disconnect_cb
 * may be NULL (messages are then dropped, their handles closed). Returns
 * 0 or EDDY_EINVAL (loop or channel NULL). The channel is a handle: close
 * it with eddy_channel_close (eddy_close on its handle, as a teardown by
 * eddy_walk does, releases everything too). */
EDDY_EXTERN int eddy_channel_init(eddy_loop_t *loop, eddy_channel_t *channel,
                                  eddy_channel_message_cb message_cb,
                                  eddy_channel_disconnect_cb disconnect_cb);

/* Adopt fd, one end of a Unix stream socketpair (made non-blocking and
 * close-on-exec), and start reading. Returns 0 (the channel owns fd),
 * EDDY_EBADF (not a descriptor), EDDY_ENOTSOCK (not a socket),
 * EDDY_EPROTOTYPE (not a stream socket), EDDY_EBUSY (the channel has one
 * already, or is closing), EDDY_EINVAL (NULL), and in all those cases fd
 * stays the caller's; or EDDY_ENOMEM when reading cannot start, after
 * which the channel owns fd (close the channel). */
EDDY_EXTERN int eddy_channel_open_fd(eddy_channel_t *channel, int fd);

/* Send data[0..len) as one message, with handle's descriptor if handle is
 * not NULL (an eddy_tcp_t or eddy_pipe_t with a descriptor: a connection,
 * a listening server, ...). data must stay valid until cb; the header
 * lives in req. handle must stay open until cb: its descriptor is
 * duplicated into the message when the frame is written, and the sender
 * usually closes its own copy in cb. cb may be NULL. Messages go out in
 * order. Returns 0, or at once: EDDY_EMSGSIZE (len above the maximum),
 * EDDY_EPIPE (disconnected or closing), EDDY_EBADF (the channel, or
 * handle, has no descriptor), EDDY_EINVAL (NULL channel or req, data NULL
 * with len > 0, handle not a TCP or pipe stream), EDDY_ENOMEM. */
EDDY_EXTERN int eddy_channel_send(eddy_channel_t *channel,
                                  eddy_channel_send_t *req, const void *data,
                                  size_t len, eddy_stream_t *handle,
                                  eddy_channel_send_cb cb);

/* In a message callback with has_handle: open the handle that came with
 * the message into into, an initialised handle of
 * eddy_channel_pending_type() with no descriptor (eddy_tcp_init /
 * eddy_pipe_init). A connection is ready to read and write; a listening
 * socket is ready for eddy_listen. Returns 0, EDDY_EAGAIN (no handle
 * waiting: outside the callback, the message had none, or it was taken),
 * EDDY_EINVAL (NULL, or into's type is not the pending type), EDDY_EBUSY
 * (into already has a descriptor). */
EDDY_EXTERN int eddy_channel_accept(eddy_channel_t *channel,
                                    eddy_stream_t *into);

/* The kind of handle waiting for eddy_channel_accept: EDDY_TCP,
 * EDDY_NAMED_PIPE, EDDY_UDP (not accepted by this API: UDP handles are not
 * streams), or EDDY_UNKNOWN_HANDLE when none is waiting. */
EDDY_EXTERN eddy_handle_type
eddy_channel_pending_type(const eddy_channel_t *channel);

/* Set the maximum message body for both directions of this end, in bytes
 * (0 allows only empty messages). Takes effect for the next send and the
 * next header read. Returns 0 or EDDY_EINVAL (above
 * EDDY_CHANNEL_MAX_LIMIT). */
EDDY_EXTERN int eddy_channel_set_max_message(eddy_channel_t *channel,
                                             size_t bytes);
EDDY_EXTERN size_t eddy_channel_get_max_message(const eddy_channel_t *channel);

/* Close the channel: reading stops, the descriptor and any received
 * handles not taken are closed, sends still queued complete with
 * EDDY_ECANCELED, and close_cb (may be NULL) runs in the close phase with
 * (eddy_handle_t *)channel; the channel's memory may be reused after it.
 * The disconnect callback does not run. Safe inside any channel callback.
 * Closing a channel twice does nothing the second time. */
EDDY_EXTERN void eddy_channel_close(eddy_channel_t *channel,
                                    eddy_close_cb close_cb);

/* Make the channel keep the loop alive (the default) or not, as Node's
 * channel.ref() / unref(). Idempotent. */
EDDY_EXTERN void eddy_channel_ref(eddy_channel_t *channel);
EDDY_EXTERN void eddy_channel_unref(eddy_channel_t *channel);

/* Non-zero once the channel has disconnected (EOF, error) or is closing:
 * sends would fail with EDDY_EPIPE. */
EDDY_EXTERN int eddy_channel_is_disconnected(const eddy_channel_t *channel);

/* Start a child with a channel to it, like Node's child_process.fork.
 * channel: initialised with eddy_channel_init and without a descriptor.
 * options: as for eddy_spawn, with these differences: descriptors 0-2
 * are options->stdio's when given, else inherited from the parent (not
 * /dev/null); the channel's end goes in the slot after the last one given
 * (3 when stdio_count <= 3); and the child's environment (a copy of
 * options->env, or of ours) gets EDDY_CHANNEL_FD=<that slot>, replacing
 * any such entry. On success the channel is reading; the child opens its
 * end with eddy_channel_open_parent. Returns 0, eddy_spawn's errors
 * (nothing started, the channel left without a descriptor),
 * EDDY_EINVAL (NULL, or the channel already has a descriptor),
 * EDDY_ENOMEM; or, if reading cannot start once the child runs (only
 * EDDY_ENOMEM), the child has been sent SIGKILL and process is a live
 * handle that reports its exit as usual. Loop thread. */
EDDY_EXTERN int eddy_fork(eddy_loop_t *loop, eddy_process_t *process,
                          eddy_channel_t *channel,
                          const eddy_process_options_t *options);

/* In a child started by eddy_fork: initialise channel and open the
 * descriptor that EDDY_CHANNEL_FD names, then remove the variable from
 * the environment so that our own children do not inherit it (the
 * descriptor itself is close-on-exec). Returns 0, or with nothing
 * initialised: EDDY_ENOENT (no EDDY_CHANNEL_FD: not forked with a
 * channel), EDDY_EINVAL (the variable is not a descriptor number, or NULL
 * arguments), EDDY_EBADF / EDDY_ENOTSOCK / EDDY_EPROTOTYPE (it names no
 * open stream socket); the variable is removed in those cases too. Only
 * EDDY_ENOMEM (reading cannot start) leaves the channel initialised and
 * owning the descriptor: close it. Reads and changes the
 * environment: call it from the main thread, before starting others. */
EDDY_EXTERN int
eddy_channel_open_parent(eddy_loop_t *loop, eddy_channel_t *channel,
                         eddy_channel_message_cb message_cb,
                         eddy_channel_disconnect_cb disconnect_cb);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_CHANNEL_H */
