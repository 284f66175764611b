/* channel.c: framed messages over an IPC pipe, and fork.
 *
 * Receiving: the pipe reads into one growable buffer owned by the
 * channel. After each read the complete frames at its front are delivered
 * in place (zero copy), then the partial frame that is left, if any, moves
 * to the front. A frame larger than the usual read size gets a buffer
 * sized for the whole frame once its header is known, so its body is read
 * straight into place; a buffer grown beyond EDDY__CHANNEL_KEEP is given
 * back once empty, so one huge message does not pin its memory.
 *
 * Descriptors: eddy_write2 attaches the descriptor to the sendmsg that
 * starts with the frame's header. On Linux a recvmsg that meets a message
 * carrying descriptors takes them and ends with (part of) that message;
 * but it may begin with earlier bytes that carried none (a read can be
 * "aaaa" + "BBBB"+fd; checked on 6.x, and it is what
 * unix_stream_read_generic does). So a descriptor belongs to the last
 * frame that starts in the read that brought it, and a read brings at
 * most one sendmsg's descriptors. A descriptor with no frame starting in
 * its read, more than one, a handle bit without a descriptor or a
 * descriptor without the bit is EDDY_EPROTO. Frames are delivered in
 * order, so the descriptor of the frame being delivered is always the
 * oldest in the pipe's queue. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "eddy/channel.h"
#include "net/stream_internal.h"
#include "process/channel_internal.h"

extern char **environ;

/* Free space offered to each read. */
#define EDDY__CHANNEL_READ_SIZE 65536
/* A receive buffer larger than this is freed once it is empty. */
#define EDDY__CHANNEL_KEEP ((size_t)1024 * 1024)
/* Frame flag bits. */
#define EDDY__FRAME_HANDLE 1u

/* eddy_channel_t.priv.flags */
enum {
  EDDY__CHANNEL_DISCONNECTED = 1 << 0,
  EDDY__CHANNEL_FD_FRAME = 1 << 1,     /* the frame at buf[0] brought the
                                          descriptor held by the pipe */
  EDDY__CHANNEL_HANDLE_READY = 1 << 2, /* in a message callback: the
                                          message's handle is not taken */
  EDDY__CHANNEL_ALLOC_FAILED = 1 << 3  /* the last alloc found no memory */
};

static eddy_handle_t *eddy__channel_handle(eddy_channel_t *ch) {
  return &ch->pipe.stream.handle;
}

static int eddy__channel_closing(const eddy_channel_t *ch) {
  return eddy__handle_closing(&ch->pipe.stream.handle);
}

static void eddy__put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static uint32_t eddy__get_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

/* A descriptor fit to carry a channel: an open Unix stream socket. */
static int eddy__channel_check_fd(int fd) {
  struct stat st;
  int type;
  socklen_t len = sizeof(type);

  if (fd < 0 || fstat(fd, &st) != 0)
    return EDDY_EBADF;
  if (!S_ISSOCK(st.st_mode))
    return EDDY_ENOTSOCK;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return -errno;
  return type == SOCK_STREAM ? 0 : EDDY_EPROTOTYPE;
}

/* Close the oldest descriptor the pipe received. The pipe has no public
 * way to drop one without opening it into a handle, which would cost a
 * close cycle, so this reaches into its queue (stream.c keeps it FIFO). */
static void eddy__channel_drop_fd(eddy_channel_t *ch) {
  eddy_stream_t *s = &ch->pipe.stream;
  int fd;

  if (s->priv.ipc_nfds == 0)
    return;
  fd = s->priv.ipc_fds[0];
  s->priv.ipc_nfds--;
  memmove(s->priv.ipc_fds, s->priv.ipc_fds + 1,
          s->priv.ipc_nfds * sizeof(*s->priv.ipc_fds));
  close(fd);
}

static void eddy__channel_free_buf(eddy_channel_t *ch) {
  free(ch->priv.buf);
  ch->priv.buf = NULL;
  ch->priv.len = 0;
  ch->priv.cap = 0;
}

/* ---- disconnect ---------------------------------------------------------- */

/* Stop for good: no more reads, nothing held, and the disconnect callback
 * once. A failure also shuts the socket so that the peer learns now. */
static void eddy__channel_disconnect(eddy_channel_t *ch, int status) {
  eddy_loop_t *loop = ch->pipe.stream.handle.loop;

  if (ch->priv.flags & EDDY__CHANNEL_DISCONNECTED)
    return;
  ch->priv.flags |= EDDY__CHANNEL_DISCONNECTED;
  ch->priv.flags &= ~(unsigned)EDDY__CHANNEL_FD_FRAME;
  eddy_read_stop(&ch->pipe.stream);
  while (eddy_pipe_pending_count(&ch->pipe) > 0)
    eddy__channel_drop_fd(ch);
  eddy__channel_free_buf(ch);
  if (status != 0)
    shutdown(eddy__stream_fd(&ch->pipe.stream), SHUT_RDWR);
  if (ch->priv.disconnect_cb != NULL) {
    ch->priv.disconnect_cb(ch, status);
    eddy__after_callback(loop);
  }
}

/* ---- receiving ----------------------------------------------------------- */

/* Before parsing the read that filled buf[len_before..len): if it brought
 * a descriptor, find its frame: the last one that starts in this read.
 * *new_at: that frame's offset, or SIZE_MAX when nothing arrived. */
static int eddy__channel_check_arrivals(eddy_channel_t *ch, size_t len_before,
                                        size_t *new_at) {
  int held = (ch->priv.flags & EDDY__CHANNEL_FD_FRAME) ? 1 : 0;
  int pending = eddy_pipe_pending_count(&ch->pipe);
  size_t off = 0;

  *new_at = SIZE_MAX;
  if (pending == held)
    return 0;
  if (pending != held + 1)
    return EDDY_EPROTO; /* several at once: not from eddy_channel_send */
  while (off < ch->priv.len) {
    size_t body;

    if (off >= len_before)
      *new_at = off;
    if (ch->priv.len - off < EDDY_CHANNEL_HEADER_SIZE)
      break;
    body = eddy__get_be32((unsigned char *)ch->priv.buf + off);
    if (ch->priv.len - off - EDDY_CHANNEL_HEADER_SIZE < body)
      break;
    off += EDDY_CHANNEL_HEADER_SIZE + body;
  }
  /* None starts here: it came in the middle of a frame. */
  return *new_at == SIZE_MAX ? EDDY_EPROTO : 0;
}

/* Hand one message to the program; its handle, if not taken, is closed. */
static void eddy__channel_deliver(eddy_channel_t *ch, const char *data,
                                  size_t len, int has_handle) {
  eddy_loop_t *loop = ch->pipe.stream.handle.loop;

  if (has_handle)
    ch->priv.flags |= EDDY__CHANNEL_HANDLE_READY;
  if (ch->priv.message_cb != NULL) {
    ch->priv.message_cb(ch, data, len, has_handle);
    eddy__after_callback(loop);
  }
  if ((ch->priv.flags & EDDY__CHANNEL_HANDLE_READY) &&
      !eddy__channel_closing(ch))
    eddy__channel_drop_fd(ch);
  ch->priv.flags &= ~(unsigned)EDDY__CHANNEL_HANDLE_READY;
}

/* Deliver every complete frame at the front of the buffer. A frame owns a
 * descriptor if it is the partial frame a descriptor came with earlier
 * (at offset 0, EDDY__CHANNEL_FD_FRAME), or the frame at *new_at. The
 * descriptors are delivered in order, so the one a frame owns is always
 * the oldest the pipe holds. Returns 0, or the error that ends the
 * channel. *used: bytes consumed. */
static int eddy__channel_parse(eddy_channel_t *ch, size_t *new_at,
                               size_t *used) {
  size_t off = 0;

  *used = 0;
  while (!eddy__channel_closing(ch) &&
         !(ch->priv.flags & EDDY__CHANNEL_DISCONNECTED)) {
    const unsigned char *p = (const unsigned char *)ch->priv.buf + off;
    size_t avail = ch->priv.len - off;
    uint32_t body, flags;
    int has_handle, owns_fd;

    if (avail < EDDY_CHANNEL_HEADER_SIZE)
      break;
    body = eddy__get_be32(p);
    flags = eddy__get_be32(p + 4);
    if (flags & ~EDDY__FRAME_HANDLE)
      return EDDY_EPROTO;
    if (body > ch->priv.max_message)
      return EDDY_EMSGSIZE;
    has_handle = (flags & EDDY__FRAME_HANDLE) != 0;
    owns_fd = (off == 0 && (ch->priv.flags & EDDY__CHANNEL_FD_FRAME)) ||
              off == *new_at;
    if (has_handle != owns_fd)
      return EDDY_EPROTO;
    if (avail - EDDY_CHANNEL_HEADER_SIZE < body)
      break;
    if (off == 0)
      ch->priv.flags &= ~(unsigned)EDDY__CHANNEL_FD_FRAME;
    if (off == *new_at)
      *new_at = SIZE_MAX;
    eddy__channel_deliver(ch, (const char *)p + EDDY_CHANNEL_HEADER_SIZE,
                          body, has_handle);
    off += EDDY_CHANNEL_HEADER_SIZE + (size_t)body;
    *used = off;
  }
  return 0;
}

static void eddy__channel_alloc(eddy_handle_t *h, size_t suggested,
                                eddy_buf_t *buf) {
  eddy_channel_t *ch = (eddy_channel_t *)h;
  size_t want = ch->priv.len + EDDY__CHANNEL_READ_SIZE;

  (void)suggested;
  /* A known frame larger than that gets room for all of it. Its length
   * was checked against the maximum when the header was parsed. */
  if (ch->priv.len >= EDDY_CHANNEL_HEADER_SIZE) {
    size_t frame = EDDY_CHANNEL_HEADER_SIZE +
                   (size_t)eddy__get_be32((unsigned char *)ch->priv.buf);

    if (frame > want)
      want = frame;
  }
  if (want > ch->priv.cap) {
    char *grown = realloc(ch->priv.buf, want);

    if (grown == NULL) {
      ch->priv.flags |= EDDY__CHANNEL_ALLOC_FAILED;
      *buf = eddy_buf_init(NULL, 0);
      return;
    }
    ch->priv.buf = grown;
    ch->priv.cap = want;
  }
  *buf = eddy_buf_init(ch->priv.buf + ch->priv.len,
                       ch->priv.cap - ch->priv.len);
}

static void eddy__channel_on_read(eddy_stream_t *s, ssize_t nread,
                                  const eddy_buf_t *buf) {
  eddy_channel_t *ch = eddy__container_of(s, eddy_channel_t, pipe.stream);
  size_t len_before, new_at, used = 0;
  int err;

  (void)buf; /* always the free end of ch->priv.buf */
  if (nread == 0)
    return;
  if (nread < 0) {
    if (nread == EDDY_EOF)
      err = ch->priv.len > 0 ? EDDY_ECONNRESET : 0;
    else if (nread == EDDY_ENOBUFS &&
             (ch->priv.flags & EDDY__CHANNEL_ALLOC_FAILED))
      err = EDDY_ENOMEM;
    else
      err = (int)nread;
    eddy__channel_disconnect(ch, err);
    return;
  }
  len_before = ch->priv.len;
  ch->priv.len += (size_t)nread;
  err = eddy__channel_check_arrivals(ch, len_before, &new_at);
  if (err == 0)
    err = eddy__channel_parse(ch, &new_at, &used);
  if (eddy__channel_closing(ch) ||
      (ch->priv.flags & EDDY__CHANNEL_DISCONNECTED))
    return; /* the buffer goes with the close, or went already */
  if (err != 0) {
    eddy__channel_disconnect(ch, err);
    return;
  }
  /* A frame whose descriptor came with this read and that is not complete
   * yet is the partial frame left, about to move to the front. */
  assert(new_at == SIZE_MAX || new_at == used);
  if (new_at != SIZE_MAX)
    ch->priv.flags |= EDDY__CHANNEL_FD_FRAME;
  ch->priv.len -= used;
  if (used > 0 && ch->priv.len > 0)
    memmove(ch->priv.buf, ch->priv.buf + used, ch->priv.len);
  if (ch->priv.len == 0 && ch->priv.cap > EDDY__CHANNEL_KEEP)
    eddy__channel_free_buf(ch);
}

static int eddy__channel_start(eddy_channel_t *ch) {
  return eddy_read_start(&ch->pipe.stream, eddy__channel_alloc,
                         eddy__channel_on_read);
}

/* ---- the public API ------------------------------------------------------ */

/* Close phase, however the pipe was closed (eddy_channel_close, or
 * eddy_close on the handle, as eddy_walk-based teardown does). */
static void eddy__channel_release(eddy_stream_t *s) {
  eddy__channel_free_buf((eddy_channel_t *)s);
}

int eddy_channel_init(eddy_loop_t *loop, eddy_channel_t *ch,
                      eddy_channel_message_cb message_cb,
                      eddy_channel_disconnect_cb disconnect_cb) {
  if (loop == NULL || ch == NULL)
    return EDDY_EINVAL;
  eddy_pipe_init(loop, &ch->pipe, 1);
  ch->pipe.stream.priv.close_hook = eddy__channel_release;
  memset(&ch->priv, 0, sizeof(ch->priv));
  ch->data = NULL;
  ch->priv.message_cb = message_cb;
  ch->priv.disconnect_cb = disconnect_cb;
  ch->priv.max_message = EDDY_CHANNEL_MAX_MESSAGE;
  return 0;
}

int eddy_channel_open_fd(eddy_channel_t *ch, int fd) {
  int err;

  if (ch == NULL)
    return EDDY_EINVAL;
  if (eddy__channel_closing(ch) || eddy__stream_fd(&ch->pipe.stream) != -1)
    return EDDY_EBUSY;
  if ((err = eddy__channel_check_fd(fd)) != 0 ||
      (err = eddy_pipe_open(&ch->pipe, fd)) != 0)
    return err;
  return eddy__channel_start(ch);
}

static void eddy__channel_sent(eddy_write_t *w, int status) {
  eddy_channel_send_t *req =
      eddy__container_of(w, eddy_channel_send_t, priv.write);

  if (req->priv.cb != NULL)
    req->priv.cb(req, status);
}

int eddy_channel_send(eddy_channel_t *ch, eddy_channel_send_t *req,
                      const void *data, size_t len, eddy_stream_t *handle,
                      eddy_channel_send_cb cb) {
  eddy_buf_t bufs[2];
  eddy_handle_type type;

  if (ch == NULL || req == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  if (handle != NULL) {
    type = eddy_handle_get_type(&handle->handle);
    if (type != EDDY_TCP && type != EDDY_NAMED_PIPE)
      return EDDY_EINVAL;
  }
  if (eddy__channel_closing(ch) ||
      (ch->priv.flags & EDDY__CHANNEL_DISCONNECTED))
    return EDDY_EPIPE;
  if (len > ch->priv.max_message)
    return EDDY_EMSGSIZE;
  eddy__put_be32(req->priv.header, (uint32_t)len);
  eddy__put_be32(req->priv.header + 4, handle != NULL ? EDDY__FRAME_HANDLE : 0);
  eddy__req_init(&req->req, EDDY_WRITE);
  req->channel = ch;
  req->priv.cb = cb;
  bufs[0] = eddy_buf_init(req->priv.header, sizeof(req->priv.header));
  bufs[1] = eddy_buf_init((void *)data, len);
  /* One write, so frames never interleave and a descriptor rides with
   * the header. */
  return eddy_write2(&req->priv.write, &ch->pipe.stream, bufs,
                     len > 0 ? 2 : 1, handle, eddy__channel_sent);
}

int eddy_channel_accept(eddy_channel_t *ch, eddy_stream_t *into) {
  int err;

  if (ch == NULL || into == NULL)
    return EDDY_EINVAL;
  if (!(ch->priv.flags & EDDY__CHANNEL_HANDLE_READY))
    return EDDY_EAGAIN;
  if (eddy_handle_get_type(&into->handle) != eddy_pipe_pending_type(&ch->pipe))
    return EDDY_EINVAL;
  err = eddy_accept(&ch->pipe.stream, into);
  if (err == 0)
    ch->priv.flags &= ~(unsigned)EDDY__CHANNEL_HANDLE_READY;
  return err;
}

int eddy__channel_take_fd(eddy_channel_t *ch) {
  eddy_stream_t *s = &ch->pipe.stream;
  int fd;

  if (!(ch->priv.flags & EDDY__CHANNEL_HANDLE_READY) || s->priv.ipc_nfds == 0)
    return EDDY_EAGAIN;
  fd = s->priv.ipc_fds[0];
  s->priv.ipc_nfds--;
  memmove(s->priv.ipc_fds, s->priv.ipc_fds + 1,
          s->priv.ipc_nfds * sizeof(*s->priv.ipc_fds));
  ch->priv.flags &= ~(unsigned)EDDY__CHANNEL_HANDLE_READY;
  return fd;
}

eddy_handle_type eddy_channel_pending_type(const eddy_channel_t *ch) {
  if (ch == NULL || !(ch->priv.flags & EDDY__CHANNEL_HANDLE_READY))
    return EDDY_UNKNOWN_HANDLE;
  return eddy_pipe_pending_type(&ch->pipe);
}

int eddy_channel_set_max_message(eddy_channel_t *ch, size_t bytes) {
  if (ch == NULL || bytes > EDDY_CHANNEL_MAX_LIMIT)
    return EDDY_EINVAL;
  ch->priv.max_message = bytes;
  return 0;
}

size_t eddy_channel_get_max_message(const eddy_channel_t *ch) {
  return ch->priv.max_message;
}

static void eddy__channel_closed(eddy_handle_t *h) {
  eddy_channel_t *ch = (eddy_channel_t *)h;

  if (ch->priv.close_cb != NULL)
    ch->priv.close_cb(h);
}


void eddy_channel_close(eddy_channel_t *ch, eddy_close_cb close_cb) {
  if (ch == NULL || eddy__channel_closing(ch))
    return;
  ch->priv.close_cb = close_cb;
  ch->priv.flags &= ~(unsigned)(EDDY__CHANNEL_FD_FRAME |
                                EDDY__CHANNEL_HANDLE_READY);
  /* The pipe closes the descriptors it holds; the buffer may be in use by
   * the message callback that is closing us, so it goes in the close
   * phase. */
  eddy_close(eddy__channel_handle(ch), eddy__channel_closed);
}

void eddy_channel_ref(eddy_channel_t *ch) {
  eddy_ref(eddy__channel_handle(ch));
}

void eddy_channel_unref(eddy_channel_t *ch) {
  eddy_unref(eddy__channel_handle(ch));
}

int eddy_channel_is_disconnected(const eddy_channel_t *ch) {
  return eddy__channel_closing(ch) ||
         (ch->priv.flags & EDDY__CHANNEL_DISCONNECTED) != 0;
}

/* ---- fork ---------------------------------------------------------------- */

/* The child's environment: base without any EDDY_CHANNEL_FD entry, plus
 * var. The strings are borrowed; free the array. */
static char **eddy__channel_env(char *const *base, char *var) {
  static const char prefix[] = EDDY_CHANNEL_ENV "=";
  size_t n = 0, i, j = 0;
  char **env;

  while (base != NULL && base[n] != NULL)
    n++;
  env = malloc((n + 2) * sizeof(*env));
  if (env == NULL)
    return NULL;
  for (i = 0; i < n; i++)
    if (strncmp(base[i], prefix, sizeof(prefix) - 1) != 0)
      env[j++] = base[i];
  env[j++] = var;
  env[j] = NULL;
  return env;
}

/* Descriptors 0..slot-1 as the options give them, 0-2 inherited when not
 * given (or /dev/null if we have none there), and the channel at slot. */
static eddy_stdio_container_t *eddy__channel_stdio(
    const eddy_process_options_t *o, eddy_channel_t *ch, int slot) {
  eddy_stdio_container_t *stdio = calloc((size_t)slot + 1, sizeof(*stdio));
  int i;

  if (stdio == NULL)
    return NULL;
  for (i = 0; i < slot; i++) {
    if (i < o->stdio_count) {
      stdio[i] = o->stdio[i];
    } else if (fcntl(i, F_GETFD) != -1) {
      stdio[i].flags = EDDY_INHERIT_FD;
      stdio[i].data.fd = i;
    } else {
      stdio[i].flags = EDDY_IGNORE;
    }
  }
  stdio[slot].flags = EDDY_CREATE_PIPE | EDDY_READABLE_PIPE |
                      EDDY_WRITABLE_PIPE;
  stdio[slot].data.stream = &ch->pipe.stream;
  return stdio;
}

int eddy_fork(eddy_loop_t *loop, eddy_process_t *process,
              eddy_channel_t *ch, const eddy_process_options_t *options) {
  char var[sizeof(EDDY_CHANNEL_ENV) + 16];
  eddy_process_options_t o;
  eddy_stdio_container_t *stdio;
  char **env;
  int slot;
  int err;

  if (loop == NULL || process == NULL || ch == NULL || options == NULL ||
      options->stdio_count < 0 ||
      (options->stdio_count > 0 && options->stdio == NULL) ||
      eddy__channel_closing(ch) || eddy__stream_fd(&ch->pipe.stream) != -1)
    return EDDY_EINVAL;
  slot = options->stdio_count > 3 ? options->stdio_count : 3;
  snprintf(var, sizeof(var), "%s=%d", EDDY_CHANNEL_ENV, slot);
  stdio = eddy__channel_stdio(options, ch, slot);
  env = eddy__channel_env(options->env != NULL ? options->env : environ, var);
  if (stdio == NULL || env == NULL) {
    free(stdio);
    free(env);
    return EDDY_ENOMEM;
  }
  o = *options;
  o.stdio = stdio;
  o.stdio_count = slot + 1;
  o.env = env;
  err = eddy_spawn(loop, process, &o);
  free(stdio);
  free(env);
  if (err != 0)
    return err;
  err = eddy__channel_start(ch);
  if (err != 0)
    eddy_process_kill(process, SIGKILL); /* it could never talk to us */
  return err;
}

int eddy_channel_open_parent(eddy_loop_t *loop, eddy_channel_t *ch,
                             eddy_channel_message_cb message_cb,
                             eddy_channel_disconnect_cb disconnect_cb) {
  const char *value;
  char *end;
  long fd;
  int err;

  if (loop == NULL || ch == NULL)
    return EDDY_EINVAL;
  value = getenv(EDDY_CHANNEL_ENV);
  if (value == NULL)
    return EDDY_ENOENT;
  errno = 0;
  fd = strtol(value, &end, 10);
  err = end == value || *end != '\0' || errno != 0 || fd < 0 || fd > INT_MAX
            ? EDDY_EINVAL
            : 0;
  /* Gone before anything else, so our own children never see it. */
  unsetenv(EDDY_CHANNEL_ENV);
  if (err == 0)
    err = eddy__channel_check_fd((int)fd);
  if (err != 0)
    return err;
  eddy_channel_init(loop, ch, message_cb, disconnect_cb);
  return eddy_channel_open_fd(ch, (int)fd);
}
