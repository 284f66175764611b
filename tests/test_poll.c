/* test_poll.c: poll handles on pipes and sockets. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_util.h"

static int seen_events, seen_status, poll_calls;

static void record_and_stop(eddy_poll_t *p, int status, int events) {
  poll_calls++;
  seen_status = status;
  seen_events |= events;
  eddy_poll_stop(p);
}

static void test_readable_and_writable(void **state) {
  eddy_loop_t loop;
  eddy_poll_t reader, writer;
  int fds[2];

  (void)state;
  seen_events = poll_calls = 0;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &reader, fds[0]), 0);
  assert_int_equal(eddy_poll_init(&loop, &writer, fds[1]), 0);
  assert_int_equal(eddy_handle_get_type(&reader.handle), EDDY_POLL);
  assert_int_equal(eddy_poll_fileno(&reader), fds[0]);
  /* The write end is writable at once. */
  assert_int_equal(eddy_poll_start(&writer, EDDY_WRITABLE, record_and_stop), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(seen_events, EDDY_WRITABLE);
  assert_int_equal(seen_status, 0);
  /* The read end becomes readable once a byte is written. */
  seen_events = 0;
  assert_int_equal(eddy_poll_start(&reader, EDDY_READABLE, record_and_stop), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 1);
  assert_int_equal(seen_events, 0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(seen_events, EDDY_READABLE);
  assert_int_equal(poll_calls, 2);
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

static void test_errors(void **state) {
  eddy_loop_t loop;
  eddy_poll_t p, q;
  int fds[2];

  (void)state;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, -1), EDDY_EBADF);
  assert_int_equal(eddy_poll_init(&loop, &p, 1000000), EDDY_EBADF);
  assert_int_equal(eddy_poll_init(&loop, &p, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_poll_start(&p, 64, record_and_stop), EDDY_EINVAL);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, record_and_stop), 0);
  /* A second handle on the same fd is refused while the first watches,
   * at init as in libuv. */
  assert_int_equal(eddy_poll_init(&loop, &q, fds[0]), EDDY_EEXIST);
  /* A zero mask stops; then the fd is free for another handle, and the
   * first may not start again while that one watches. */
  assert_int_equal(eddy_poll_start(&p, 0, record_and_stop), 0);
  assert_false(eddy_is_active(&p.handle));
  assert_int_equal(eddy_poll_init(&loop, &q, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&q, EDDY_READABLE, record_and_stop), 0);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, record_and_stop),
                   EDDY_EEXIST);
  eddy_close(&q.handle, NULL);
  eddy_close(&p.handle, NULL);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, record_and_stop),
                   EDDY_EINVAL);
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

/* epoll cannot watch regular files: refused at init. poll(2) can. */
static void test_regular_file(void **state) {
  eddy_loop_t loop;
  eddy_poll_t p;
  char path[] = "/tmp/eddy-poll-XXXXXX";
  int fd = mkstemp(path);
  int err;

  (void)state;
  assert_true(fd >= 0);
  unlink(path);
  assert_int_equal(eddy_loop_init(&loop), 0);
  err = eddy_poll_init(&loop, &p, fd);
  if (strcmp(eddy_backend_name(&loop), "epoll") == 0)
    assert_int_equal(err, EDDY_EPERM);
  else
    assert_int_equal(err, 0);
  test_teardown_loop(&loop);
  close(fd);
}

/* The peer closing its side is reported as DISCONNECT (and readable). */
static void test_disconnect(void **state) {
  eddy_loop_t loop;
  eddy_poll_t p;
  int sv[2];

  (void)state;
  seen_events = 0;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, sv[0]), 0);
  assert_int_equal(
      eddy_poll_start(&p, EDDY_READABLE | EDDY_DISCONNECT, record_and_stop), 0);
  shutdown(sv[1], SHUT_WR);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_true(seen_events & EDDY_READABLE);
#ifdef POLLRDHUP
  assert_true(seen_events & EDDY_DISCONNECT);
#endif
  test_teardown_loop(&loop);
  close(sv[0]);
  close(sv[1]);
}

/* Closing a handle (and its fd) inside its own callback, then reusing the
 * fd number for a new handle in the same callback. */
static eddy_poll_t second;
static int second_fds[2];
static int closed;
static void on_closed(eddy_handle_t *h) {
  (void)h;
  closed++;
}
static void second_cb(eddy_poll_t *p, int status, int events) {
  assert_int_equal(status, 0);
  seen_events |= events;
  eddy_close(&p->handle, on_closed);
}
static void close_self_and_reuse(eddy_poll_t *p, int status, int events) {
  int fd = eddy_poll_fileno(p);

  (void)status;
  (void)events;
  poll_calls++;
  eddy_close(&p->handle, on_closed);
  close(fd);
  assert_int_equal(pipe(second_fds), 0);
  assert_int_equal(eddy_poll_init(p->handle.loop, &second, second_fds[0]), 0);
  assert_int_equal(eddy_poll_start(&second, EDDY_READABLE, second_cb), 0);
  assert_int_equal(write(second_fds[1], "y", 1), 1);
}

static void test_close_in_callback_and_fd_reuse(void **state) {
  eddy_loop_t loop;
  eddy_poll_t p;
  int fds[2];

  (void)state;
  poll_calls = closed = seen_events = 0;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, close_self_and_reuse), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(poll_calls, 1);
  assert_int_equal(closed, 2);
  assert_int_equal(seen_events, EDDY_READABLE);
  assert_int_equal(eddy_loop_close(&loop), 0);
  close(fds[1]);
  close(second_fds[0]);
  close(second_fds[1]);
}

/* An fd closed behind the handle's back is reported as EDDY_EBADF and
 * the handle stops. */
static void test_fd_closed_behind_back(void **state) {
  eddy_loop_t loop;
  eddy_poll_t p;
  int fds[2];

  (void)state;
  seen_status = 0;
  poll_calls = 0;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, record_and_stop), 0);
  close(fds[0]);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(poll_calls, 1);
  assert_int_equal(seen_status, EDDY_EBADF);
  assert_false(eddy_is_active(&p.handle));
  test_teardown_loop(&loop);
  close(fds[1]);
}

static void test_unref(void **state) {
  eddy_loop_t loop;
  eddy_poll_t p;
  int fds[2];

  (void)state;
  poll_calls = 0;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&p, EDDY_READABLE, record_and_stop), 0);
  eddy_unref(&p.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(poll_calls, 0);
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

/* A stopped poll handle gives its descriptor back: a second handle on the
 * same fd may start (and gets the events) while the first is stopped; the
 * first cannot start again until the second stops. */
static int shared_calls;
static void shared_readable(eddy_poll_t *p, int status, int events) {
  assert_int_equal(status, 0);
  assert_true(events & EDDY_READABLE);
  shared_calls++;
  eddy_poll_stop(p);
}

static void unexpected(eddy_poll_t *p, int status, int events) {
  (void)p;
  (void)status;
  (void)events;
  fail();
}

static void test_stopped_handle_frees_the_fd(void **state) {
  eddy_loop_t loop;
  eddy_poll_t a, b;
  int fds[2];

  (void)state;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &a, fds[0]), 0);
  assert_int_equal(eddy_poll_init(&loop, &b, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&a, EDDY_READABLE, unexpected), 0);
  assert_int_equal(eddy_poll_start(&b, EDDY_READABLE, unexpected),
                   EDDY_EEXIST);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 1);
  assert_int_equal(eddy_poll_stop(&a), 0);
  assert_int_equal(eddy_poll_start(&b, EDDY_READABLE, shared_readable), 0);
  assert_int_equal(eddy_poll_start(&a, EDDY_READABLE, unexpected),
                   EDDY_EEXIST);
  assert_int_equal(write(fds[1], "x", 1), 1);
  shared_calls = 0;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(shared_calls, 1);
  /* b stopped itself: a may have the fd back. */
  assert_int_equal(eddy_poll_start(&a, EDDY_READABLE, shared_readable), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(shared_calls, 2);
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

/* TCP urgent data is priority data: EDDY_PRIORITIZED, and only for a
 * handle that asked for it. */
static void test_prioritized(void **state) {
  eddy_loop_t loop;
  eddy_poll_t p;
  struct sockaddr_in addr = test_loopback4(0);
  socklen_t len = sizeof(addr);
  int lfd, cfd, sfd;
  char c = 0;

  (void)state;
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(lfd >= 0);
  assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  assert_int_equal(listen(lfd, 1), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
  cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(cfd >= 0);
  assert_int_equal(connect(cfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  sfd = accept(lfd, NULL, NULL);
  assert_true(sfd >= 0);

  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_poll_init(&loop, &p, sfd), 0);
  seen_events = 0;
  assert_int_equal(send(cfd, "!", 1, MSG_OOB), 1);
  assert_int_equal(eddy_poll_start(&p, EDDY_PRIORITIZED, record_and_stop), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(seen_status, 0);
  assert_int_equal(seen_events, EDDY_PRIORITIZED);
  assert_int_equal(recv(sfd, &c, 1, MSG_OOB), 1);
  assert_int_equal(c, '!');
  eddy_close(&p.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  test_teardown_loop(&loop);
  close(sfd);
  close(cfd);
  close(lfd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_readable_and_writable),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_regular_file),
      cmocka_unit_test(test_disconnect),
      cmocka_unit_test(test_close_in_callback_and_fd_reuse),
      cmocka_unit_test(test_fd_closed_behind_back),
      cmocka_unit_test(test_unref),
      cmocka_unit_test(test_stopped_handle_frees_the_fd),
      cmocka_unit_test(test_prioritized),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
