/* eddy/pipe.h: Unix domain stream sockets and pipes (eddy/stream.h has
 * reading, writing and listen).
 *
 * A name is a filesystem path, or on Linux an abstract name: one starting
 * with a NUL byte, given with its length to eddy_pipe_bind2 and
 * eddy_pipe_connect2. In IPC mode, descriptors travel with the data:
 * eddy_write2 sends a TCP or pipe handle's descriptor along with bytes, and
 * the receiver, in its read callback, sees eddy_pipe_pending_count() > 0
 * and takes each with eddy_accept() into a handle of
 * eddy_pipe_pending_type(). Received descriptors not accepted are closed
 * with the pipe.
 */
#ifndef EDDY_PIPE_H
#define EDDY_PIPE_H

#include "export.h"

#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_pipe_s {
  eddy_stream_t stream;
  int ipc; /* read only */
} eddy_pipe_t;

enum { EDDY_PIPE_READABLE = 1, EDDY_PIPE_WRITABLE = 2 };

/* Initialise a pipe handle; ipc non-zero for IPC mode. Returns 0. */
EDDY_EXTERN int eddy_pipe_init(eddy_loop_t *loop, eddy_pipe_t *pipe, int ipc);

/* Adopt a descriptor: a Unix socket, or one end of a pipe(2) (readable or
 * writable according to its access mode). Made non-blocking. Returns 0,
 * EDDY_EBUSY (already has one), EDDY_EEXIST (a started handle of this loop
 * watches fd), EDDY_EINVAL (closing) or EDDY_EBADF. */
EDDY_EXTERN int eddy_pipe_open(eddy_pipe_t *pipe, int fd);

/* Bind to a path (the file must not exist: EDDY_EADDRINUSE), or with
 * bind2 to name[0..namelen), which may be abstract. Returns 0,
 * EDDY_EINVAL, EDDY_ENAMETOOLONG (longer than sockaddr_un allows: names
 * are never truncated), EDDY_ENOENT (a directory of the path is missing),
 * EDDY_EACCES, EDDY_EADDRINUSE, EDDY_EBUSY (already bound or open). The
 * codes are the kernel's; libuv reports EACCES for the missing directory
 * and EINVAL for the open handle, and truncates long names unless told
 * not to (UV_PIPE_NO_TRUNCATE, the only behaviour here). */
EDDY_EXTERN int eddy_pipe_bind(eddy_pipe_t *pipe, const char *path);
EDDY_EXTERN int eddy_pipe_bind2(eddy_pipe_t *pipe, const char *name,
                                size_t namelen);

/* Connect to a path or name; cb gets 0 or the error (EDDY_ENOENT,
 * EDDY_ECONNREFUSED, EDDY_EAGAIN when the server's backlog is full),
 * never before the call returns. Returns 0 or an argument error as bind. */
EDDY_EXTERN int eddy_pipe_connect(eddy_connect_t *req, eddy_pipe_t *pipe,
                                  const char *path, eddy_connect_cb cb);
EDDY_EXTERN int eddy_pipe_connect2(eddy_connect_t *req, eddy_pipe_t *pipe,
                                   const char *name, size_t namelen,
                                   eddy_connect_cb cb);

/* The bound (sockname) or peer name into buf, *len its size on entry and
 * the name's length on return (abstract names start with NUL and are not
 * terminated; paths are). Returns 0, EDDY_EBADF, EDDY_ENOBUFS (too small:
 * *len is then the size needed). */
EDDY_EXTERN int eddy_pipe_getsockname(const eddy_pipe_t *pipe, char *buf,
                                      size_t *len);
EDDY_EXTERN int eddy_pipe_getpeername(const eddy_pipe_t *pipe, char *buf,
                                      size_t *len);

/* Make a bound socket file readable and/or writable by everyone
 * (EDDY_PIPE_READABLE | EDDY_PIPE_WRITABLE). Returns 0, EDDY_EINVAL (bad
 * flags, abstract or unbound) or chmod(2)'s error. */
EDDY_EXTERN int eddy_pipe_chmod(eddy_pipe_t *pipe, int flags);

/* Descriptors received and not yet accepted, and the kind of handle the
 * oldest one needs (EDDY_TCP, EDDY_NAMED_PIPE, EDDY_UDP;
 * EDDY_UNKNOWN_HANDLE when none). */
EDDY_EXTERN int eddy_pipe_pending_count(const eddy_pipe_t *pipe);
EDDY_EXTERN eddy_handle_type eddy_pipe_pending_type(const eddy_pipe_t *pipe);

/* eddy_write, sending send_handle's descriptor with the bytes (stream must
 * be an IPC pipe; send_handle a TCP or pipe handle with a descriptor). The
 * descriptor is duplicated by the kernel: the sender still owns its handle
 * and usually closes it after cb. Returns as eddy_write, or EDDY_EINVAL
 * (not IPC), EDDY_EBADF (send_handle has no descriptor). */
EDDY_EXTERN int eddy_write2(eddy_write_t *req, eddy_stream_t *stream,
                            const eddy_buf_t bufs[], unsigned nbufs,
                            eddy_stream_t *send_handle, eddy_write_cb cb);

/* eddy_pipe / eddy_socketpair flags (libuv's UV_NONBLOCK_PIPE). */
enum { EDDY_NONBLOCK_PIPE = 0x40 /* that end is O_NONBLOCK */ };

/* A new pipe(2), close-on-exec at both ends (libuv's uv_pipe): fds[0] is
 * the read end, fds[1] the write end. read_flags and write_flags are 0 or
 * EDDY_NONBLOCK_PIPE for that end. The descriptors are the caller's:
 * adopt them with eddy_pipe_open, hand them to a child, or close them.
 * Errors: EDDY_EINVAL (fds NULL, unknown flags), EDDY_EMFILE,
 * EDDY_ENFILE. Any thread. */
EDDY_EXTERN int eddy_pipe(int fds[2], int read_flags, int write_flags);

/* A new connected pair of Unix domain sockets of type (SOCK_STREAM,
 * SOCK_DGRAM or SOCK_SEQPACKET) and protocol (0), close-on-exec at both
 * ends (libuv's uv_socketpair); flags0 and flags1 are 0 or
 * EDDY_NONBLOCK_PIPE for socket_vector[0] and [1]. The descriptors are the
 * caller's (eddy_pipe_open adopts a stream one). Errors: EDDY_EINVAL
 * (socket_vector NULL, unknown flags, or a type socketpair refuses),
 * EDDY_EPROTONOSUPPORT, EDDY_EMFILE, EDDY_ENFILE. Any thread. */
EDDY_EXTERN int eddy_socketpair(int type, int protocol, int socket_vector[2],
                                int flags0, int flags1);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_PIPE_H */
