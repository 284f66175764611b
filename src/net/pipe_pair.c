/* pipe_pair.c: descriptor pairs for a program to use as it likes: pipe(2)
 * and socketpair(2), close-on-exec and optionally non-blocking per end
 * (libuv's uv_pipe and uv_socketpair). No loop is involved. */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/io.h"
#include "eddy/pipe.h"

/* Make each end non-blocking where its flags ask; on failure both are
 * closed, as the caller never saw them. */
static int eddy__pair_finish(int fds[2], int flags0, int flags1) {
  int err = 0;

  if (flags0 & EDDY_NONBLOCK_PIPE)
    err = eddy__set_nonblock(fds[0], 1);
  if (err == 0 && (flags1 & EDDY_NONBLOCK_PIPE))
    err = eddy__set_nonblock(fds[1], 1);
  if (err != 0) {
    close(fds[0]);
    close(fds[1]);
    fds[0] = fds[1] = -1;
  }
  return err;
}

int eddy_pipe(int fds[2], int read_flags, int write_flags) {
  int p[2];

  if (fds == NULL || ((read_flags | write_flags) & ~EDDY_NONBLOCK_PIPE))
    return EDDY_EINVAL;
  if (pipe2(p, O_CLOEXEC) != 0)
    return -errno;
  fds[0] = p[0];
  fds[1] = p[1];
  return eddy__pair_finish(fds, read_flags, write_flags);
}

int eddy_socketpair(int type, int protocol, int socket_vector[2], int flags0,
                    int flags1) {
  int s[2];

  if (socket_vector == NULL || ((flags0 | flags1) & ~EDDY_NONBLOCK_PIPE))
    return EDDY_EINVAL;
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, protocol, s) != 0)
    return -errno;
  socket_vector[0] = s[0];
  socket_vector[1] = s[1];
  return eddy__pair_finish(socket_vector, flags0, flags1);
}
