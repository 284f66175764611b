/* eddy/tty.h: terminals as streams (libuv's uv_tty_t, Node's tty), and
 * what kind of thing a descriptor is (eddy_guess_handle, eddy_isatty).
 *
 * A TTY handle is a stream (eddy/stream.h: read, write, shutdown is not
 * for terminals) on a terminal or, as libuv allows, on a pipe or socket.
 * It works on a descriptor of its own: for a terminal, a new open of the
 * same device (ttyname), so that making it non-blocking does not reach
 * the other processes that share the terminal (a shell, `prog | cat`).
 * Where that is impossible (a pseudo-terminal's master side, a device
 * with no name) it uses a duplicate of the descriptor and leaves it
 * blocking: writes then block until the terminal takes them, and reads
 * take one chunk per readiness event. The descriptor passed in stays the
 * caller's, open and unchanged.
 *
 * Modes (libuv's): NORMAL is the terminal as the handle found it; RAW is
 * for interactive programs (no line editing, no echo, no signals from ^C,
 * output still gets CR before LF); IO is fully raw, binary-safe, for
 * talking to another program through a terminal (no output processing
 * either); RAW_VT is RAW (it differs on Windows only). The first change
 * from NORMAL saves the terminal's settings, process-wide, for
 * eddy_tty_reset_mode(), which a program calls at exit or from a signal
 * handler. Closing a handle that is not in NORMAL mode puts its terminal
 * back as it found it.
 *
 * Loop thread only, except eddy_tty_reset_mode, eddy_guess_handle and
 * eddy_isatty (any thread; reset_mode also from a signal handler).
 */
#ifndef EDDY_TTY_H
#define EDDY_TTY_H

#include "export.h"

#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  EDDY_TTY_MODE_NORMAL = 0,
  EDDY_TTY_MODE_RAW = 1,
  EDDY_TTY_MODE_IO = 2,
  EDDY_TTY_MODE_RAW_VT = 3
} eddy_tty_mode_t;

typedef struct eddy_tty_s {
  eddy_stream_t stream;
  struct {
    /* the terminal's settings before the first mode change: a struct
     * termios, kept opaque so this header does not pull in <termios.h> */
    long long orig_termios[16];
    int mode; /* eddy_tty_mode_t */
  } priv;
} eddy_tty_t;

/* Initialise a TTY stream on fd (0, 1, 2 or any terminal, pipe or
 * socket). readable: non-zero if you will read from it (stdin); the
 * stream is readable when this is set and fd's access mode allows
 * reading, writable when fd's access mode allows writing. Returns 0,
 * EDDY_EINVAL (fd is not open, is a regular file or device other than a
 * terminal, or a directory), EDDY_EMFILE, or the reopen's error. */
EDDY_EXTERN int eddy_tty_init(eddy_loop_t *loop, eddy_tty_t *tty, int fd,
                              int readable);

/* Put the terminal in mode. Returns 0 (also when it is in mode already),
 * EDDY_EINVAL (unknown mode), EDDY_EBADF (closed), EDDY_ENOTTY (not a
 * terminal: a TTY handle on a pipe), or tcsetattr's error. */
EDDY_EXTERN int eddy_tty_set_mode(eddy_tty_t *tty, eddy_tty_mode_t mode);

/* Restore the settings the first eddy_tty_set_mode away from NORMAL
 * saved, if any handle did and it is still open. Async-signal-safe (as
 * libuv's): returns EDDY_EBUSY, doing nothing, if it interrupted an
 * eddy_tty_set_mode; else 0 or tcsetattr's error. errno is preserved.
 * Any thread, and signal handlers. */
EDDY_EXTERN int eddy_tty_reset_mode(void);

/* The terminal's size in columns and rows (TIOCGWINSZ). Returns 0,
 * EDDY_EINVAL (NULL argument), EDDY_EBADF, EDDY_ENOTTY. */
EDDY_EXTERN int eddy_tty_get_winsize(eddy_tty_t *tty, int *width, int *height);

/* Non-zero if fd is a terminal (Node's tty.isatty). Any thread. */
EDDY_EXTERN int eddy_isatty(int fd);

/* What fd is, as a handle type (libuv's uv_guess_handle): EDDY_TTY (a
 * terminal), EDDY_FILE (a regular file or a character device that is not
 * a terminal, such as /dev/null), EDDY_NAMED_PIPE (a pipe, FIFO or Unix
 * stream socket), EDDY_TCP, EDDY_UDP, or EDDY_UNKNOWN_HANDLE (not open, a
 * directory, a Unix datagram socket, anything else). Any thread. */
EDDY_EXTERN eddy_handle_type eddy_guess_handle(int fd);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_TTY_H */
