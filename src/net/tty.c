/* tty.c: TTY streams (libuv's uv_tty_t): a stream.c stream on a
 * descriptor of the handle's own, terminal modes with the first settings
 * saved for eddy_tty_reset_mode(), window size, and eddy_guess_handle.
 *
 * The saved settings are process-wide and read from signal handlers, so
 * they sit behind a one-word lock taken with an atomic exchange: the
 * mode setter spins on it (briefly: the holder is a reset in progress),
 * eddy_tty_reset_mode() never waits and answers EDDY_EBUSY instead, as a
 * signal handler that interrupted the setter on its own thread must. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "eddy/tty.h"
#include "net/stream_internal.h"

_Static_assert(sizeof(struct termios) <=
                   sizeof(((eddy_tty_t *)0)->priv.orig_termios),
               "eddy_tty_t's room for struct termios");

static int eddy__tty_lock; /* atomic: 1 while the saved settings change */
static int eddy__tty_saved_fd = -1;
static struct termios eddy__tty_saved;

static void eddy__tty_lock_take(void) {
  while (__atomic_exchange_n(&eddy__tty_lock, 1, __ATOMIC_ACQUIRE))
    sched_yield();
}

static void eddy__tty_lock_give(void) {
  __atomic_store_n(&eddy__tty_lock, 0, __ATOMIC_RELEASE);
}

static int eddy__tty_fd(const eddy_tty_t *tty) {
  return eddy__stream_fd(&tty->stream);
}

/* ---- what a descriptor is --------------------------------------------- */

int eddy_isatty(int fd) {
  return fd >= 0 && isatty(fd);
}

eddy_handle_type eddy_guess_handle(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  struct stat st;
  socklen_t tlen;
  int type;

  if (fd < 0)
    return EDDY_UNKNOWN_HANDLE;
  if (isatty(fd))
    return EDDY_TTY;
  if (fstat(fd, &st) != 0)
    return EDDY_UNKNOWN_HANDLE;
  if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))
    return EDDY_FILE;
  if (S_ISFIFO(st.st_mode))
    return EDDY_NAMED_PIPE;
  if (!S_ISSOCK(st.st_mode))
    return EDDY_UNKNOWN_HANDLE;
  tlen = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
      getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
    return EDDY_UNKNOWN_HANDLE;
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
    if (type == SOCK_DGRAM)
      return EDDY_UDP;
    if (type == SOCK_STREAM)
      return EDDY_TCP;
  }
  if (ss.ss_family == AF_UNIX && type == SOCK_STREAM)
    return EDDY_NAMED_PIPE;
  return EDDY_UNKNOWN_HANDLE;
}

/* ---- init ------------------------------------------------------------- */

/* A pseudo-terminal's master side cannot be reopened by name (opening
 * /dev/ptmx makes a new pair): only a slave or a real terminal can. */
static int eddy__tty_reopenable(int fd) {
#ifdef TIOCGPTN
  unsigned n;

  return ioctl(fd, TIOCGPTN, &n) != 0; /* masters answer, slaves do not */
#else
  (void)fd;
  return 1;
#endif
}

/* A descriptor of the terminal's own, or -1. */
static int eddy__tty_reopen(int fd, int access) {
  char path[PATH_MAX];
  int r;

  if (!eddy__tty_reopenable(fd) || ttyname_r(fd, path, sizeof(path)) != 0)
    return -1;
  do
    r = open(path, access | O_NOCTTY | O_CLOEXEC);
  while (r == -1 && errno == EINTR);
  return r;
}

int eddy_tty_init(eddy_loop_t *loop, eddy_tty_t *tty, int fd, int readable) {
  eddy_handle_type type = eddy_guess_handle(fd);
  unsigned flags = 0;
  struct stat st;
  int access;
  int own = -1;
  int blocking = 0;
  int err;

  if (type == EDDY_FILE || type == EDDY_UNKNOWN_HANDLE)
    return EDDY_EINVAL;
  if ((access = fcntl(fd, F_GETFL)) == -1 || fstat(fd, &st) != 0)
    return EDDY_EINVAL;
  access &= O_ACCMODE;
  if (type == EDDY_TTY) {
    own = eddy__tty_reopen(fd, access);
    /* Shared with others: O_NONBLOCK would reach them too. libuv keeps
     * such a terminal blocking when it is written to. */
    blocking = own == -1 && access != O_RDONLY;
  }
  if (own == -1 && (own = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
    return -errno;
  if (!blocking && (err = eddy__set_nonblock(own, 1)) != 0) {
    close(own);
    return err;
  }
  if (readable && access != O_WRONLY)
    flags |= EDDY__STREAM_READABLE;
  if (access != O_RDONLY)
    flags |= EDDY__STREAM_WRITABLE;
  if (S_ISSOCK(st.st_mode))
    flags |= EDDY__STREAM_SOCKET;
  if (blocking)
    flags |= EDDY__STREAM_BLOCKING;
  eddy__stream_init(loop, &tty->stream, EDDY_TTY);
  eddy__stream_open(&tty->stream, own, flags);
  tty->priv.mode = EDDY_TTY_MODE_NORMAL;
  return 0;
}

/* ---- modes ------------------------------------------------------------ */

static int eddy__tty_apply(int fd, int when, const struct termios *t) {
  int r;

  do
    r = tcsetattr(fd, when, t);
  while (r == -1 && errno == EINTR);
  return r == 0 ? 0 : -errno;
}

/* The first departure from NORMAL: keep the settings, for this handle and
 * (if no handle did before) for eddy_tty_reset_mode. */
static int eddy__tty_save(eddy_tty_t *tty, int fd) {
  struct termios orig;
  int r;

  do
    r = tcgetattr(fd, &orig);
  while (r == -1 && errno == EINTR);
  if (r != 0)
    return -errno;
  memcpy(tty->priv.orig_termios, &orig, sizeof(orig));
  eddy__tty_lock_take();
  if (eddy__tty_saved_fd == -1) {
    eddy__tty_saved = orig;
    eddy__tty_saved_fd = fd;
  }
  eddy__tty_lock_give();
  return 0;
}

int eddy_tty_set_mode(eddy_tty_t *tty, eddy_tty_mode_t mode) {
  int fd = eddy__tty_fd(tty);
  struct termios t;
  int err;

  if ((int)mode < EDDY_TTY_MODE_NORMAL || mode > EDDY_TTY_MODE_RAW_VT)
    return EDDY_EINVAL;
  if (fd == -1)
    return EDDY_EBADF;
  if (tty->priv.mode == (int)mode)
    return 0;
  if (tty->priv.mode == EDDY_TTY_MODE_NORMAL &&
      (err = eddy__tty_save(tty, fd)) != 0)
    return err;
  memcpy(&t, tty->priv.orig_termios, sizeof(t));
  switch (mode) {
  case EDDY_TTY_MODE_NORMAL:
    break; /* as found */
  case EDDY_TTY_MODE_RAW:
  case EDDY_TTY_MODE_RAW_VT:
    /* bytes as typed, one at a time: no line editing, echo, ^C/^Z
     * signals, CR translation or flow control; output keeps LF -> CRLF */
    t.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    t.c_oflag |= ONLCR;
    t.c_cflag |= CS8;
    t.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    break;
  case EDDY_TTY_MODE_IO:
    cfmakeraw(&t); /* no processing at all, either way */
    break;
  }
  /* TCSADRAIN: output already written goes out under the old settings. */
  if ((err = eddy__tty_apply(fd, TCSADRAIN, &t)) != 0)
    return err;
  tty->priv.mode = (int)mode;
  return 0;
}

int eddy_tty_reset_mode(void) {
  int saved_errno = errno;
  int err = 0;

  if (__atomic_exchange_n(&eddy__tty_lock, 1, __ATOMIC_ACQUIRE))
    return EDDY_EBUSY;
  if (eddy__tty_saved_fd != -1 &&
      tcsetattr(eddy__tty_saved_fd, TCSANOW, &eddy__tty_saved) != 0)
    err = -errno;
  eddy__tty_lock_give();
  errno = saved_errno;
  return err;
}

int eddy_tty_get_winsize(eddy_tty_t *tty, int *width, int *height) {
  struct winsize ws;
  int fd;
  int r;

  if (tty == NULL || width == NULL || height == NULL)
    return EDDY_EINVAL;
  if ((fd = eddy__tty_fd(tty)) == -1)
    return EDDY_EBADF;
  do
    r = ioctl(fd, TIOCGWINSZ, &ws);
  while (r == -1 && errno == EINTR);
  if (r != 0)
    return -errno;
  *width = ws.ws_col;
  *height = ws.ws_row;
  return 0;
}

/* ---- close ------------------------------------------------------------ */

/* Leave the terminal as the handle found it, and let reset_mode forget a
 * descriptor that is about to close. */
static void eddy__tty_close(eddy_handle_t *h) {
  eddy_tty_t *tty = (eddy_tty_t *)h;
  int fd = eddy__tty_fd(tty);
  struct termios orig;

  if (fd != -1 && tty->priv.mode != EDDY_TTY_MODE_NORMAL) {
    memcpy(&orig, tty->priv.orig_termios, sizeof(orig));
    eddy__tty_apply(fd, TCSANOW, &orig);
    tty->priv.mode = EDDY_TTY_MODE_NORMAL;
  }
  eddy__tty_lock_take();
  if (fd != -1 && eddy__tty_saved_fd == fd)
    eddy__tty_saved_fd = -1;
  eddy__tty_lock_give();
  eddy__stream_close(h);
}

const struct eddy__handle_ops eddy__tty_ops = {
    .close = eddy__tty_close,
    .finish_close = eddy__stream_finish_close,
    .fileno = eddy__stream_handle_fd,
};
