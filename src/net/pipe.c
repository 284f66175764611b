/* pipe.c: Unix domain stream sockets and pipe(2) ends, with descriptor
 * passing in IPC mode. Reading and writing are stream.c's; this file makes
 * the sockets and names them. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "eddy/pipe.h"
#include "net/stream_internal.h"

static int eddy__pipe_fd(const eddy_pipe_t *pipe) {
  return eddy__stream_fd(&pipe->stream);
}

int eddy_pipe_init(eddy_loop_t *loop, eddy_pipe_t *pipe, int ipc) {
  eddy__stream_init(loop, &pipe->stream, EDDY_NAMED_PIPE);
  pipe->ipc = ipc != 0;
  if (pipe->ipc)
    pipe->stream.priv.flags |= EDDY__STREAM_IPC;
  return 0;
}

int eddy_pipe_open(eddy_pipe_t *pipe, int fd) {
  struct stat st;
  unsigned flags = 0;
  int mode;
  int err;

  if (eddy__handle_closing(&pipe->stream.handle))
    return EDDY_EINVAL;
  if (eddy__pipe_fd(pipe) != -1)
    return EDDY_EBUSY;
  if (eddy__io_fd_in_use(pipe->stream.handle.loop, fd))
    return EDDY_EEXIST;
  if (fstat(fd, &st) != 0 || (mode = fcntl(fd, F_GETFL)) == -1)
    return EDDY_EBADF;
  if ((err = eddy__set_nonblock(fd, 1)) != 0)
    return err;
  eddy__set_cloexec(fd, 1);
  mode &= O_ACCMODE;
  if (S_ISSOCK(st.st_mode)) {
    flags = eddy__stream_socket_state(fd);
  } else {
    if (mode == O_RDONLY || mode == O_RDWR)
      flags |= EDDY__STREAM_READABLE;
    if (mode == O_WRONLY || mode == O_RDWR)
      flags |= EDDY__STREAM_WRITABLE;
  }
  return eddy__stream_open(&pipe->stream, fd, flags);
}

/* Fill a sockaddr_un from name[0..namelen). A path gets its terminator;
 * an abstract name (leading NUL) is taken as is. */
static int eddy__pipe_addr(struct sockaddr_un *sun, socklen_t *len,
                           const char *name, size_t namelen) {
  int abstract;

  if (name == NULL || namelen == 0)
    return EDDY_EINVAL;
  abstract = name[0] == '\0';
#ifndef __linux__
  if (abstract)
    return EDDY_EINVAL;
#endif
  if (!abstract && memchr(name, '\0', namelen) != NULL)
    return EDDY_EINVAL;
  if (namelen + !abstract > sizeof(sun->sun_path))
    return EDDY_ENAMETOOLONG;
  memset(sun, 0, sizeof(*sun));
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, name, namelen);
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + namelen +
                     !abstract);
  return 0;
}

static int eddy__pipe_socket(eddy_pipe_t *pipe) {
  int fd;

  if (eddy__pipe_fd(pipe) != -1)
    return 0;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return -errno;
  return eddy__stream_open(&pipe->stream, fd, EDDY__STREAM_SOCKET);
}

int eddy_pipe_bind2(eddy_pipe_t *pipe, const char *name, size_t namelen) {
  struct sockaddr_un sun;
  socklen_t len;
  int err;

  if (eddy__handle_closing(&pipe->stream.handle))
    return EDDY_EINVAL;
  if ((err = eddy__pipe_addr(&sun, &len, name, namelen)) != 0)
    return err;
  if (eddy__pipe_fd(pipe) != -1)
    return EDDY_EBUSY;
  if ((err = eddy__pipe_socket(pipe)) != 0)
    return err;
  if (bind(eddy__pipe_fd(pipe), (struct sockaddr *)&sun, len) != 0) {
    err = -errno;
    /* Leave the handle as it was: no socket. */
    close(eddy__pipe_fd(pipe));
    pipe->stream.priv.io.fd = -1;
    pipe->stream.priv.flags &= ~(unsigned)EDDY__STREAM_SOCKET;
    return err;
  }
  return 0;
}

int eddy_pipe_bind(eddy_pipe_t *pipe, const char *path) {
  return eddy_pipe_bind2(pipe, path, path != NULL ? strlen(path) : 0);
}

int eddy_pipe_connect2(eddy_connect_t *req, eddy_pipe_t *pipe,
                       const char *name, size_t namelen, eddy_connect_cb cb) {
  struct sockaddr_un sun;
  socklen_t len;
  int err;
  int r;

  if (eddy__handle_closing(&pipe->stream.handle))
    return EDDY_EINVAL;
  if ((err = eddy__pipe_addr(&sun, &len, name, namelen)) != 0)
    return err;
  if (pipe->stream.priv.connect_req != NULL)
    return EDDY_EALREADY;
  if (pipe->stream.priv.flags &
      (EDDY__STREAM_LISTENING | EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE))
    return EDDY_EISCONN;
  if ((err = eddy__pipe_socket(pipe)) != 0)
    return err;
  do
    r = connect(eddy__pipe_fd(pipe), (struct sockaddr *)&sun, len);
  while (r == -1 && errno == EINTR);
  eddy__stream_connect(&pipe->stream, req, r == 0 ? 0 : -errno, cb);
  return 0;
}

int eddy_pipe_connect(eddy_connect_t *req, eddy_pipe_t *pipe,
                      const char *path, eddy_connect_cb cb) {
  return eddy_pipe_connect2(req, pipe, path, path != NULL ? strlen(path) : 0,
                            cb);
}

static int eddy__pipe_listen(eddy_stream_t *s, int backlog,
                             eddy_connection_cb cb) {
  if (eddy__stream_fd(s) == -1)
    return EDDY_EINVAL; /* bind first: there is no ephemeral pipe name */
  return eddy__stream_listen(s, backlog, cb);
}

static int eddy__pipe_name(const eddy_pipe_t *pipe, char *buf, size_t *len,
                           int peer) {
  struct sockaddr_un sun;
  socklen_t slen = sizeof(sun);
  size_t n;
  int r;

  if (buf == NULL || len == NULL)
    return EDDY_EINVAL;
  if (eddy__pipe_fd(pipe) == -1)
    return EDDY_EBADF;
  memset(&sun, 0, sizeof(sun));
  r = peer ? getpeername(eddy__pipe_fd(pipe), (struct sockaddr *)&sun, &slen)
           : getsockname(eddy__pipe_fd(pipe), (struct sockaddr *)&sun, &slen);
  if (r != 0)
    return -errno;
  n = slen > offsetof(struct sockaddr_un, sun_path)
          ? slen - offsetof(struct sockaddr_un, sun_path)
          : 0;
  if (n > 0 && sun.sun_path[0] != '\0') /* a path: up to its terminator */
    n = strnlen(sun.sun_path, n);
  if (n + (n == 0 || sun.sun_path[0] != '\0') > *len) {
    *len = n + 1;
    return EDDY_ENOBUFS;
  }
  memcpy(buf, sun.sun_path, n);
  if (n == 0 || sun.sun_path[0] != '\0')
    buf[n] = '\0';
  *len = n;
  return 0;
}

int eddy_pipe_getsockname(const eddy_pipe_t *pipe, char *buf, size_t *len) {
  return eddy__pipe_name(pipe, buf, len, 0);
}

int eddy_pipe_getpeername(const eddy_pipe_t *pipe, char *buf, size_t *len) {
  return eddy__pipe_name(pipe, buf, len, 1);
}

int eddy_pipe_chmod(eddy_pipe_t *pipe, int flags) {
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  size_t len = sizeof(path);
  mode_t mode = 0;
  struct stat st;
  int err;

  if (eddy__handle_closing(&pipe->stream.handle))
    return EDDY_EINVAL;
  if (flags == 0 || (flags & ~(EDDY_PIPE_READABLE | EDDY_PIPE_WRITABLE)))
    return EDDY_EINVAL;
  if ((err = eddy_pipe_getsockname(pipe, path, &len)) != 0)
    return err == EDDY_EBADF ? EDDY_EINVAL : err;
  if (len == 0 || path[0] == '\0')
    return EDDY_EINVAL; /* unbound or abstract: no file */
  if (flags & EDDY_PIPE_READABLE)
    mode |= S_IRUSR | S_IRGRP | S_IROTH;
  if (flags & EDDY_PIPE_WRITABLE)
    mode |= S_IWUSR | S_IWGRP | S_IWOTH;
  if (stat(path, &st) != 0)
    return -errno;
  return chmod(path, (st.st_mode & 07777) | mode) != 0 ? -errno : 0;
}

int eddy_pipe_pending_count(const eddy_pipe_t *pipe) {
  return (int)pipe->stream.priv.ipc_nfds;
}

eddy_handle_type eddy_pipe_pending_type(const eddy_pipe_t *pipe) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int type;
  socklen_t tlen = sizeof(type);
  int fd;

  if (pipe->stream.priv.ipc_nfds == 0)
    return EDDY_UNKNOWN_HANDLE;
  fd = pipe->stream.priv.ipc_fds[0];
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0)
    return EDDY_NAMED_PIPE; /* not a socket: a pipe(2) end */
  if (ss.ss_family == AF_UNIX)
    return EDDY_NAMED_PIPE;
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
    return type == SOCK_DGRAM ? EDDY_UDP : EDDY_TCP;
  return EDDY_UNKNOWN_HANDLE;
}

int eddy_write2(eddy_write_t *req, eddy_stream_t *stream,
                const eddy_buf_t bufs[], unsigned nbufs,
                eddy_stream_t *send_handle, eddy_write_cb cb) {
  int fd = -1;

  if (send_handle != NULL) {
    if (!(stream->priv.flags & EDDY__STREAM_IPC))
      return EDDY_EINVAL;
    if ((fd = eddy__stream_fd(send_handle)) == -1)
      return EDDY_EBADF;
  }
  return eddy__stream_write2(req, stream, bufs, nbufs, fd, cb);
}

const struct eddy__handle_ops eddy__pipe_ops = {
    .close = eddy__stream_close,
    .finish_close = eddy__stream_finish_close,
    .listen = eddy__pipe_listen,
    .fileno = eddy__stream_handle_fd,
};
