/* test_pipe_pair.c: eddy_pipe and eddy_socketpair: both ends close-on-exec,
 * non-blocking exactly where asked, data flows, the flags are checked, and
 * a pipe end works with eddy_pipe_open on the loop. */
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "test_util.h"

static int is_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);

  assert_true(fl != -1);
  return (fl & O_NONBLOCK) != 0;
}

static int is_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFD);

  assert_true(fl != -1);
  return (fl & FD_CLOEXEC) != 0;
}

static void test_pipe_flags(void **state) {
  int fds[2];
  char c = 0;

  (void)state;
  assert_int_equal(eddy_pipe(fds, 0, 0), 0);
  assert_true(is_cloexec(fds[0]) && is_cloexec(fds[1]));
  assert_false(is_nonblock(fds[0]) || is_nonblock(fds[1]));
  assert_int_equal(write(fds[1], "x", 1), 1);
  assert_int_equal(read(fds[0], &c, 1), 1);
  assert_int_equal(c, 'x');
  close(fds[0]);
  close(fds[1]);

  assert_int_equal(eddy_pipe(fds, EDDY_NONBLOCK_PIPE, 0), 0);
  assert_true(is_nonblock(fds[0]));
  assert_false(is_nonblock(fds[1]));
  assert_int_equal(read(fds[0], &c, 1), -1); /* empty, and does not block */
  assert_int_equal(errno, EAGAIN);
  close(fds[0]);
  close(fds[1]);

  assert_int_equal(eddy_pipe(fds, 0, EDDY_NONBLOCK_PIPE), 0);
  assert_false(is_nonblock(fds[0]));
  assert_true(is_nonblock(fds[1]));
  close(fds[0]);
  close(fds[1]);
}

static void test_pipe_errors(void **state) {
  struct test_fd_fill fill;
  int fds[2];
  int r;

  (void)state;
  assert_int_equal(eddy_pipe(NULL, 0, 0), EDDY_EINVAL);
  assert_int_equal(eddy_pipe(fds, 1, 0), EDDY_EINVAL);
  assert_int_equal(eddy_pipe(fds, 0, ~0), EDDY_EINVAL);
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  r = eddy_pipe(fds, 0, 0);
  assert_int_equal(test_fds_release(&fill), 0);
  assert_true(r == EDDY_EMFILE || r == EDDY_ENFILE);
}

static void test_socketpair_flags(void **state) {
  int sv[2];
  int type;
  socklen_t len = sizeof(type);
  char buf[4];

  (void)state;
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 0, EDDY_NONBLOCK_PIPE),
                   0);
  assert_true(is_cloexec(sv[0]) && is_cloexec(sv[1]));
  assert_false(is_nonblock(sv[0]));
  assert_true(is_nonblock(sv[1]));
  assert_int_equal(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len), 0);
  assert_int_equal(type, SOCK_STREAM);
  assert_int_equal(write(sv[0], "ab", 2), 2);
  assert_int_equal(read(sv[1], buf, sizeof(buf)), 2);
  assert_int_equal(write(sv[1], "c", 1), 1); /* both ways */
  assert_int_equal(read(sv[0], buf, sizeof(buf)), 1);
  assert_int_equal(read(sv[1], buf, sizeof(buf)), -1);
  assert_int_equal(errno, EAGAIN);
  close(sv[0]);
  close(sv[1]);

  assert_int_equal(eddy_socketpair(SOCK_DGRAM, 0, sv, EDDY_NONBLOCK_PIPE, 0),
                   0);
  assert_true(is_nonblock(sv[0]));
  assert_false(is_nonblock(sv[1]));
  assert_int_equal(getsockopt(sv[1], SOL_SOCKET, SO_TYPE, &type, &len), 0);
  assert_int_equal(type, SOCK_DGRAM);
  close(sv[0]);
  close(sv[1]);
}

static void test_socketpair_errors(void **state) {
  int sv[2];

  (void)state;
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, NULL, 0, 0), EDDY_EINVAL);
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 2, 0), EDDY_EINVAL);
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 0, 8), EDDY_EINVAL);
  /* socketpair(2)'s own refusals come through. */
  assert_true(eddy_socketpair(SOCK_STREAM, 99, sv, 0, 0) < 0);
  assert_true(eddy_socketpair(12345, 0, sv, 0, 0) < 0);
}

/* The read end on the loop: what is written to the other end arrives. */
static char got[16];
static size_t got_len;

static void on_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char space[16];

  (void)h;
  (void)size;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void on_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *buf) {
  if (n > 0) {
    memcpy(got + got_len, buf->base, (size_t)n);
    got_len += (size_t)n;
  }
  if (n == EDDY_EOF)
    eddy_close(&s->handle, NULL);
}

static void test_pipe_on_loop(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t p;
  int fds[2];

  (void)state;
  got_len = 0;
  assert_int_equal(eddy_pipe(fds, EDDY_NONBLOCK_PIPE, 0), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &p, 0), 0);
  assert_int_equal(eddy_pipe_open(&p, fds[0]), 0);
  assert_int_equal(eddy_read_start(&p.stream, on_alloc, on_read), 0);
  /* as libuv: reading already; once stopped, reading may start again */
  assert_int_equal(eddy_read_start(&p.stream, on_alloc, on_read),
                   EDDY_EALREADY);
  assert_int_equal(eddy_read_stop(&p.stream), 0);
  assert_int_equal(eddy_read_start(&p.stream, on_alloc, on_read), 0);
  assert_int_equal(write(fds[1], "hello", 5), 5);
  close(fds[1]);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(got_len, 5);
  assert_memory_equal(got, "hello", 5);
  test_teardown_loop(&loop);
}

/* A descriptor that a started handle of the loop watches cannot be opened
 * by another handle (as libuv): EDDY_EEXIST from every kind of open. Once
 * the owner stops, it can. */
static void test_fd_owned_by_another_handle(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t owner, other;
  eddy_tcp_t tcp;
  eddy_udp_t udp;
  eddy_poll_t poll;
  int sv[2];

  (void)state;
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 0, 0), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &owner, 0), 0);
  assert_int_equal(eddy_pipe_open(&owner, sv[0]), 0);
  assert_int_equal(eddy_read_start(&owner.stream, on_alloc, on_read), 0);
  assert_int_equal(eddy_pipe_init(&loop, &other, 0), 0);
  assert_int_equal(eddy_pipe_open(&other, sv[0]), EDDY_EEXIST);
  assert_int_equal(eddy_tcp_init(&loop, &tcp), 0);
  assert_int_equal(eddy_tcp_open(&tcp, sv[0]), EDDY_EEXIST);
  assert_int_equal(eddy_udp_init(&loop, &udp), 0);
  assert_int_equal(eddy_udp_open(&udp, sv[0]), EDDY_EEXIST);
  assert_int_equal(eddy_poll_init(&loop, &poll, sv[0]), EDDY_EEXIST);
  /* stopped, the owner no longer holds it */
  assert_int_equal(eddy_read_stop(&owner.stream), 0);
  assert_int_equal(eddy_poll_init(&loop, &poll, sv[0]), 0);
  eddy_close(&poll.handle, NULL);
  eddy_close(&owner.stream.handle, NULL);
  eddy_close(&other.stream.handle, NULL);
  eddy_close(&tcp.stream.handle, NULL);
  eddy_close(&udp.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  close(sv[1]);
  test_teardown_loop(&loop);
}

/* eddy_fileno for every kind that has a descriptor; socket buffer sizes
 * read and set on TCP, pipe and UDP handles, refused elsewhere. */
static void test_fileno_and_buffer_sizes(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;
  eddy_pipe_t sock, plain;
  eddy_tcp_t tcp;
  eddy_udp_t udp;
  struct sockaddr_in any;
  int sv[2], fds[2], fd = -1, v;

  (void)state;
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 0, 0), 0);
  assert_int_equal(eddy_pipe(fds, 0, 0), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_int_equal(eddy_fileno(&timer.handle, &fd), EDDY_EINVAL);
  v = 0;
  assert_int_equal(eddy_send_buffer_size(&timer.handle, &v), EDDY_ENOTSUP);

  assert_int_equal(eddy_pipe_init(&loop, &sock, 0), 0);
  assert_int_equal(eddy_pipe_open(&sock, sv[0]), 0);
  assert_int_equal(eddy_fileno(&sock.stream.handle, &fd), 0);
  assert_int_equal(fd, sv[0]);
  assert_int_equal(eddy_fileno(&sock.stream.handle, NULL), EDDY_EINVAL);
  v = 0;
  assert_int_equal(eddy_send_buffer_size(&sock.stream.handle, &v), 0);
  assert_true(v > 0);
  v = 65536;
  assert_int_equal(eddy_send_buffer_size(&sock.stream.handle, &v), 0);
  v = 0;
  assert_int_equal(eddy_send_buffer_size(&sock.stream.handle, &v), 0);
  assert_true(v >= 65536); /* Linux reports twice what was set */
  v = 0;
  assert_int_equal(eddy_recv_buffer_size(&sock.stream.handle, &v), 0);
  assert_true(v > 0);
  assert_int_equal(eddy_recv_buffer_size(&sock.stream.handle, NULL),
                   EDDY_EINVAL);
  v = -1;
  assert_int_equal(eddy_recv_buffer_size(&sock.stream.handle, &v),
                   EDDY_EINVAL);

  assert_int_equal(eddy_pipe_init(&loop, &plain, 0), 0);
  assert_int_equal(eddy_pipe_open(&plain, fds[0]), 0);
  v = 0;
  assert_int_equal(eddy_recv_buffer_size(&plain.stream.handle, &v),
                   EDDY_ENOTSOCK);

  assert_int_equal(eddy_tcp_init(&loop, &tcp), 0);
  assert_int_equal(eddy_fileno(&tcp.stream.handle, &fd), EDDY_EBADF);
  v = 0;
  assert_int_equal(eddy_send_buffer_size(&tcp.stream.handle, &v), EDDY_EBADF);

  assert_int_equal(eddy_udp_init(&loop, &udp), 0);
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 0, &any), 0);
  assert_int_equal(eddy_udp_bind(&udp, (struct sockaddr *)&any, 0), 0);
  assert_int_equal(eddy_fileno(&udp.handle, &fd), 0);
  assert_int_equal(fd, eddy_udp_fileno(&udp));
  v = 0;
  assert_int_equal(eddy_recv_buffer_size(&udp.handle, &v), 0);
  assert_true(v > 0);

  eddy_close(&sock.stream.handle, NULL);
  assert_int_equal(eddy_fileno(&sock.stream.handle, &fd), EDDY_EINVAL);
  eddy_close(&plain.stream.handle, NULL);
  eddy_close(&tcp.stream.handle, NULL);
  eddy_close(&udp.handle, NULL);
  eddy_close(&timer.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  close(sv[1]);
  close(fds[1]);
  test_teardown_loop(&loop);
}

/* Blocking mode: a write bigger than the socket buffer completes inside
 * eddy_write (a thread drains the other end); its callback still runs from
 * the loop. */
enum { BLOCKING_BYTES = 1 << 20 };

static void *drain_peer(void *arg) {
  static char sink[65536];
  int fd = *(int *)arg;
  size_t total = 0;
  ssize_t n;

  while (total < BLOCKING_BYTES && (n = read(fd, sink, sizeof(sink))) > 0)
    total += (size_t)n;
  return (void *)(uintptr_t)total;
}

static int blocking_status = 1;

static void on_blocking_write(eddy_write_t *req, int status) {
  (void)req;
  blocking_status = status;
}

static void test_set_blocking(void **state) {
  static char data[BLOCKING_BYTES];
  eddy_loop_t loop;
  eddy_pipe_t p, unopened;
  eddy_write_t req;
  eddy_buf_t buf = eddy_buf_init(data, sizeof(data));
  pthread_t drainer;
  void *drained;
  int sv[2];

  (void)state;
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 0, 0), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &p, 0), 0);
  assert_int_equal(eddy_pipe_init(&loop, &unopened, 0), 0);
  assert_int_equal(eddy_stream_set_blocking(NULL, 1), EDDY_EINVAL);
  assert_int_equal(eddy_stream_set_blocking(&unopened.stream, 1), EDDY_EBADF);
  assert_int_equal(eddy_pipe_open(&p, sv[0]), 0);
  assert_true(is_nonblock(sv[0]));
  assert_int_equal(eddy_stream_set_blocking(&p.stream, 1), 0);
  assert_false(is_nonblock(sv[0]));
  assert_int_equal(pthread_create(&drainer, NULL, drain_peer, &sv[1]), 0);
  assert_int_equal(eddy_write(&req, &p.stream, &buf, 1, on_blocking_write), 0);
  assert_int_equal(eddy_stream_get_write_queue_size(&p.stream), 0);
  assert_int_equal(blocking_status, 1); /* not yet: from the loop */
  assert_int_equal(pthread_join(drainer, &drained), 0);
  assert_int_equal((uintptr_t)drained, BLOCKING_BYTES);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(blocking_status, 0);
  assert_int_equal(eddy_stream_set_blocking(&p.stream, 0), 0);
  assert_true(is_nonblock(sv[0]));
  eddy_close(&p.stream.handle, NULL);
  assert_int_equal(eddy_stream_set_blocking(&p.stream, 1), EDDY_EINVAL);
  eddy_close(&unopened.stream.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  close(sv[1]);
  test_teardown_loop(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(name, test_fd_setup, test_fd_teardown)
      T(test_pipe_flags),        T(test_pipe_errors),  T(test_socketpair_flags),
      T(test_socketpair_errors), T(test_pipe_on_loop),
      T(test_fd_owned_by_another_handle), T(test_fileno_and_buffer_sizes),
      T(test_set_blocking),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
