/* test_tty.c: TTY streams under a pseudo-terminal (posix_openpt): the
 * handle's own descriptor (a reopen of the slave, leaving the caller's
 * blocking; a blocking duplicate for the master side), reading and
 * writing, the modes (raw, io, normal) as termios shows them and as the
 * data shows them (echo, CR before LF), eddy_tty_reset_mode (also from a
 * signal handler), the restore at close, window size, TTY handles on
 * pipes; eddy_guess_handle for every kind of descriptor; eddy_isatty. */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>

#include "test_util.h"

/* ---- a pseudo-terminal ------------------------------------------------ */

struct pty {
  int master;
  int slave;
};

static void pty_open(struct pty *p) {
  const char *name;

  p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(p->master >= 0);
  assert_int_equal(grantpt(p->master), 0);
  assert_int_equal(unlockpt(p->master), 0);
  name = ptsname(p->master);
  assert_non_null(name);
  p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(p->slave >= 0);
}

static void pty_close(struct pty *p) {
  close(p->slave);
  close(p->master);
}

/* Read from fd until want bytes came (or 5 s passed: then fail). */
static void read_exact(int fd, char *buf, size_t want) {
  size_t got = 0;
  struct pollfd pfd = {fd, POLLIN, 0};
  ssize_t n;

  while (got < want) {
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    n = read(fd, buf + got, want - got);
    assert_true(n > 0);
    got += (size_t)n;
  }
  buf[got] = '\0';
}

/* Nothing more to read from fd right now. */
static void assert_nothing(int fd) {
  struct pollfd pfd = {fd, POLLIN, 0};

  assert_int_equal(poll(&pfd, 1, 50), 0);
}

static struct termios attrs(int fd) {
  struct termios t;

  assert_int_equal(tcgetattr(fd, &t), 0);
  return t;
}

/* ---- the stream's side ------------------------------------------------ */

static char got[256];
static size_t got_len;

static void on_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char space[64];

  (void)h;
  (void)size;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void on_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *buf) {
  (void)s;
  if (n > 0) {
    assert_true(got_len + (size_t)n < sizeof(got));
    memcpy(got + got_len, buf->base, (size_t)n);
    got_len += (size_t)n;
    got[got_len] = '\0';
  }
}

static void read_until(eddy_loop_t *loop, size_t want) {
  uint64_t end = eddy_hrtime() + 5000000000u;

  while (got_len < want) {
    assert_true(eddy_hrtime() < end);
    eddy_run(loop, EDDY_RUN_ONCE);
  }
}

static int writes_done;

static void on_write(eddy_write_t *req, int status) {
  (void)req;
  assert_int_equal(status, 0);
  writes_done++;
}

static void tty_write(eddy_loop_t *loop, eddy_tty_t *tty, const char *text) {
  eddy_write_t req;
  eddy_buf_t b = eddy_buf_init((void *)text, strlen(text));
  int before = writes_done;

  assert_int_equal(eddy_write(&req, &tty->stream, &b, 1, on_write), 0);
  while (writes_done == before)
    eddy_run(loop, EDDY_RUN_ONCE);
}

static void close_now(eddy_loop_t *loop, eddy_tty_t *tty) {
  eddy_close(&tty->stream.handle, NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

/* ---- tests ------------------------------------------------------------ */

static void test_init_slave(void **state) {
  eddy_loop_t loop;
  struct pty p;
  eddy_tty_t tty;
  char buf[64];
  int fd;

  (void)state;
  pty_open(&p);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, p.slave, 1), 0);
  assert_int_equal(eddy_handle_get_type(&tty.stream.handle), EDDY_TTY);
  assert_string_equal(eddy_handle_type_name(EDDY_TTY), "tty");
  assert_int_equal(eddy_stream_fileno(&tty.stream, &fd), 0);
  assert_true(fd != p.slave); /* its own open of the terminal */
  assert_true(eddy_isatty(fd));
  assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
  assert_false(fcntl(p.slave, F_GETFL) & O_NONBLOCK); /* ours: untouched */
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  assert_true(eddy_is_readable(&tty.stream));
  assert_true(eddy_is_writable(&tty.stream));
  /* writes: normal mode turns LF into CR LF */
  writes_done = 0;
  tty_write(&loop, &tty, "hi\n");
  read_exact(p.master, buf, 4);
  assert_string_equal(buf, "hi\r\n");
  /* reads: a line, echoed back to the master */
  got_len = 0;
  assert_int_equal(eddy_read_start(&tty.stream, on_alloc, on_read), 0);
  assert_int_equal(write(p.master, "hello\n", 6), 6);
  read_until(&loop, 6);
  assert_string_equal(got, "hello\n");
  read_exact(p.master, buf, 7);
  assert_string_equal(buf, "hello\r\n");
  close_now(&loop, &tty);
  assert_true(fcntl(p.slave, F_GETFD) != -1); /* the caller's: still open */
  assert_int_equal(fcntl(fd, F_GETFD), -1);   /* the handle's: closed */
  assert_int_equal(eddy_loop_close(&loop), 0);
  pty_close(&p);
}

static void test_modes(void **state) {
  eddy_loop_t loop;
  struct termios t, orig;
  struct pty p;
  eddy_tty_t tty;
  char buf[64];

  (void)state;
  pty_open(&p);
  orig = attrs(p.slave);
  assert_true(orig.c_lflag & ICANON);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, p.slave, 1), 0);
  /* raw: no canonical input, no echo, no signals; output still CR LF */
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_RAW), 0);
  t = attrs(p.slave);
  assert_false(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN));
  assert_false(t.c_iflag & (ICRNL | IXON));
  assert_true(t.c_oflag & ONLCR);
  assert_int_equal(t.c_cc[VMIN], 1);
  assert_int_equal(t.c_cc[VTIME], 0);
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_RAW), 0); /* again */
  got_len = 0;
  assert_int_equal(eddy_read_start(&tty.stream, on_alloc, on_read), 0);
  assert_int_equal(write(p.master, "ab", 2), 2); /* no newline needed */
  read_until(&loop, 2);
  assert_string_equal(got, "ab");
  assert_nothing(p.master); /* no echo */
  writes_done = 0;
  tty_write(&loop, &tty, "x\n");
  read_exact(p.master, buf, 3);
  assert_string_equal(buf, "x\r\n");
  /* io: no output processing either */
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_IO), 0);
  t = attrs(p.slave);
  assert_false(t.c_oflag & OPOST);
  tty_write(&loop, &tty, "y\n");
  read_exact(p.master, buf, 2);
  assert_string_equal(buf, "y\n");
  /* raw_vt is raw here */
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_RAW_VT), 0);
  t = attrs(p.slave);
  assert_false(t.c_lflag & ICANON);
  assert_true(t.c_oflag & OPOST);
  /* normal: as found */
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_NORMAL), 0);
  t = attrs(p.slave);
  assert_int_equal(t.c_lflag, orig.c_lflag);
  assert_int_equal(t.c_iflag, orig.c_iflag);
  assert_int_equal(t.c_oflag, orig.c_oflag);
  /* errors */
  assert_int_equal(eddy_tty_set_mode(&tty, (eddy_tty_mode_t)4), EDDY_EINVAL);
  assert_int_equal(eddy_tty_set_mode(&tty, (eddy_tty_mode_t)-1), EDDY_EINVAL);
  close_now(&loop, &tty);
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_RAW), EDDY_EBADF);
  assert_int_equal(eddy_loop_close(&loop), 0);
  pty_close(&p);
}

static void test_reset_mode_and_close(void **state) {
  eddy_loop_t loop;
  struct termios t;
  struct pty p;
  eddy_tty_t tty;

  (void)state;
  pty_open(&p);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, p.slave, 1), 0);
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_RAW), 0);
  assert_false(attrs(p.slave).c_lflag & ICANON);
  errno = 1234;
  assert_int_equal(eddy_tty_reset_mode(), 0);
  assert_int_equal(errno, 1234); /* preserved */
  assert_true(attrs(p.slave).c_lflag & ICANON);
  /* closing a raw handle leaves the terminal as found */
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_NORMAL), 0);
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_IO), 0);
  t = attrs(p.slave);
  assert_false(t.c_oflag & OPOST);
  close_now(&loop, &tty);
  t = attrs(p.slave);
  assert_true(t.c_oflag & OPOST);
  assert_true(t.c_lflag & ICANON);
  /* nothing saved any more: a reset does nothing */
  assert_int_equal(eddy_tty_reset_mode(), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
  pty_close(&p);
}

static void on_usr1(int sig) {
  (void)sig;
  eddy_tty_reset_mode();
}

/* What a program does on SIGINT or SIGTERM: reset from the handler. */
static void test_reset_mode_from_signal(void **state) {
  struct sigaction sa, old;
  eddy_loop_t loop;
  struct pty p;
  eddy_tty_t tty;

  (void)state;
  pty_open(&p);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, p.slave, 1), 0);
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_RAW), 0);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  assert_int_equal(raise(SIGUSR1), 0);
  assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
  assert_true(attrs(p.slave).c_lflag & ICANON);
  close_now(&loop, &tty);
  assert_int_equal(eddy_loop_close(&loop), 0);
  pty_close(&p);
}

static void test_winsize(void **state) {
  struct winsize ws = {24, 80, 0, 0};
  eddy_loop_t loop;
  struct pty p;
  eddy_tty_t tty;
  int w = 0, h = 0;

  (void)state;
  pty_open(&p);
  assert_int_equal(ioctl(p.master, TIOCSWINSZ, &ws), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, p.slave, 0), 0);
  assert_int_equal(eddy_tty_get_winsize(&tty, &w, &h), 0);
  assert_int_equal(w, 80);
  assert_int_equal(h, 24);
  ws.ws_col = 132;
  ws.ws_row = 50;
  assert_int_equal(ioctl(p.master, TIOCSWINSZ, &ws), 0);
  assert_int_equal(eddy_tty_get_winsize(&tty, &w, &h), 0);
  assert_int_equal(w, 132);
  assert_int_equal(h, 50);
  assert_int_equal(eddy_tty_get_winsize(&tty, NULL, &h), EDDY_EINVAL);
  assert_int_equal(eddy_tty_get_winsize(&tty, &w, NULL), EDDY_EINVAL);
  /* not readable: reading is refused */
  assert_false(eddy_is_readable(&tty.stream));
  assert_int_equal(eddy_read_start(&tty.stream, on_alloc, on_read),
                   EDDY_ENOTCONN);
  close_now(&loop, &tty);
  assert_int_equal(eddy_tty_get_winsize(&tty, &w, &h), EDDY_EBADF);
  assert_int_equal(eddy_loop_close(&loop), 0);
  pty_close(&p);
}

/* The master side cannot be reopened: a blocking duplicate. */
static void test_master_side(void **state) {
  eddy_loop_t loop;
  struct termios t;
  struct pty p;
  eddy_tty_t tty;
  char buf[64];
  int fd;

  (void)state;
  pty_open(&p);
  t = attrs(p.slave); /* no echo: the master reads only what we write */
  t.c_lflag &= ~(tcflag_t)ECHO;
  assert_int_equal(tcsetattr(p.slave, TCSANOW, &t), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, p.master, 1), 0);
  assert_int_equal(eddy_stream_fileno(&tty.stream, &fd), 0);
  assert_true(fd != p.master);
  assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
  writes_done = 0;
  tty_write(&loop, &tty, "to slave\n");
  read_exact(p.slave, buf, 9);
  assert_string_equal(buf, "to slave\n");
  got_len = 0;
  assert_int_equal(eddy_read_start(&tty.stream, on_alloc, on_read), 0);
  assert_int_equal(write(p.slave, "back\n", 5), 5);
  read_until(&loop, 6);
  assert_string_equal(got, "back\r\n");
  close_now(&loop, &tty);
  assert_true(fcntl(p.master, F_GETFD) != -1);
  assert_int_equal(eddy_loop_close(&loop), 0);
  pty_close(&p);
}

/* As libuv allows: a TTY handle on a pipe. Modes and size need a
 * terminal. */
static void test_on_pipe(void **state) {
  eddy_loop_t loop;
  eddy_tty_t tty;
  int fds[2], w, h;

  (void)state;
  assert_int_equal(eddy_pipe(fds, 0, 0), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, fds[0], 1), 0);
  assert_true(eddy_is_readable(&tty.stream));
  assert_false(eddy_is_writable(&tty.stream));
  got_len = 0;
  assert_int_equal(eddy_read_start(&tty.stream, on_alloc, on_read), 0);
  assert_int_equal(write(fds[1], "piped", 5), 5);
  read_until(&loop, 5);
  assert_string_equal(got, "piped");
  assert_int_equal(eddy_tty_set_mode(&tty, EDDY_TTY_MODE_RAW), EDDY_ENOTTY);
  assert_int_equal(eddy_tty_get_winsize(&tty, &w, &h), EDDY_ENOTTY);
  close_now(&loop, &tty);
  assert_int_equal(eddy_loop_close(&loop), 0);
  close(fds[0]);
  close(fds[1]);
}

static void test_init_errors(void **state) {
  eddy_loop_t loop;
  eddy_tty_t tty;
  char path[] = "/tmp/eddy-tty-XXXXXX";
  int fd;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, -1, 1), EDDY_EINVAL);
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(eddy_tty_init(&loop, &tty, fd, 1), EDDY_EINVAL);
  close(fd);
  unlink(path);
  assert_int_equal(eddy_tty_init(&loop, &tty, fd, 1), EDDY_EINVAL); /* closed */
  fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  assert_int_equal(eddy_tty_init(&loop, &tty, fd, 1), EDDY_EINVAL);
  close(fd);
  assert_int_equal(eddy_loop_close(&loop), 0); /* nothing was opened */
}

static void test_guess_handle(void **state) {
  struct pty p;
  int fds[2], sv[2], s;
  char path[] = "/tmp/eddy-guess-XXXXXX";

  (void)state;
  assert_int_equal(eddy_guess_handle(-1), EDDY_UNKNOWN_HANDLE);
  pty_open(&p);
  assert_int_equal(eddy_guess_handle(p.slave), EDDY_TTY);
  assert_int_equal(eddy_guess_handle(p.master), EDDY_TTY);
  assert_true(eddy_isatty(p.slave));
  pty_close(&p);
  assert_int_equal(eddy_guess_handle(p.slave), EDDY_UNKNOWN_HANDLE);
  assert_false(eddy_isatty(p.slave));
  assert_false(eddy_isatty(-1));
  assert_int_equal(eddy_pipe(fds, 0, 0), 0);
  assert_int_equal(eddy_guess_handle(fds[0]), EDDY_NAMED_PIPE);
  assert_int_equal(eddy_guess_handle(fds[1]), EDDY_NAMED_PIPE);
  assert_false(eddy_isatty(fds[0]));
  close(fds[0]);
  close(fds[1]);
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 0, 0), 0);
  assert_int_equal(eddy_guess_handle(sv[0]), EDDY_NAMED_PIPE);
  close(sv[0]);
  close(sv[1]);
  assert_int_equal(eddy_socketpair(SOCK_DGRAM, 0, sv, 0, 0), 0);
  assert_int_equal(eddy_guess_handle(sv[0]), EDDY_UNKNOWN_HANDLE);
  close(sv[0]);
  close(sv[1]);
  s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal(eddy_guess_handle(s), EDDY_TCP);
  close(s);
  s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s >= 0) {
    assert_int_equal(eddy_guess_handle(s), EDDY_TCP);
    close(s);
  }
  s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_int_equal(eddy_guess_handle(s), EDDY_UDP);
  close(s);
  s = mkstemp(path);
  assert_int_equal(eddy_guess_handle(s), EDDY_FILE);
  close(s);
  unlink(path);
  s = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_int_equal(eddy_guess_handle(s), EDDY_FILE);
  close(s);
  s = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal(eddy_guess_handle(s), EDDY_UNKNOWN_HANDLE);
  close(s);
  assert_string_equal(eddy_handle_type_name(EDDY_FILE), "file");
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(name, test_fd_setup, test_fd_teardown)
      T(test_init_slave),
      T(test_modes),
      T(test_reset_mode_and_close),
      T(test_reset_mode_from_signal),
      T(test_winsize),
      T(test_master_side),
      T(test_on_pipe),
      T(test_init_errors),
      T(test_guess_handle),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
