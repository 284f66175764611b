/* test_stream_timeout.c: eddy_stream_set_timeout (Node's
 * socket.setTimeout) on a socketpair: once per idle period, activity
 * postpones it, removal, no hold on the loop, close with it armed. Times
 * are checked only as lower bounds (a timer never fires early). */
#include <sys/socket.h>

#include "test_util.h"

struct idle {
  eddy_pipe_t pipe;
  int fd_peer;
  int fired;
  int close_at; /* close the stream at this many reports */
  uint64_t armed_at, fired_at[4];
  uint64_t last_activity;
};

static struct idle w;

static void on_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char space[64];

  (void)h;
  (void)size;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void on_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *buf) {
  (void)buf;
  if (n > 0)
    w.last_activity = eddy_now(s->handle.loop);
}

static void on_idle(eddy_stream_t *s) {
  assert_true(w.fired < 4);
  w.fired_at[w.fired++] = eddy_now(s->handle.loop);
  if (w.fired == w.close_at)
    eddy_close(&s->handle, NULL);
}

static void open_pair(eddy_loop_t *loop) {
  int sv[2];

  memset(&w, 0, sizeof(w));
  assert_int_equal(eddy_socketpair(SOCK_STREAM, 0, sv, 0, 0), 0);
  assert_int_equal(eddy_pipe_init(loop, &w.pipe, 0), 0);
  assert_int_equal(eddy_pipe_open(&w.pipe, sv[0]), 0);
  w.fd_peer = sv[1];
  assert_int_equal(eddy_read_start(&w.pipe.stream, on_alloc, on_read), 0);
}

static void test_fires_once_when_idle(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop);
  w.close_at = 1;
  w.armed_at = eddy_now(&loop);
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 20, on_idle), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.fired, 1);
  assert_true(w.fired_at[0] >= w.armed_at + 20);
  close(w.fd_peer);
  test_teardown_loop(&loop);
}

/* The peer writes every 10 ms, five times: the 30 ms timeout waits for
 * the quiet after the last write. */
static int writes_left;

static void on_peer_tick(eddy_timer_t *t) {
  assert_int_equal(write(w.fd_peer, "x", 1), 1);
  if (--writes_left == 0)
    eddy_close(&t->handle, NULL);
}

static void test_activity_postpones(void **state) {
  eddy_loop_t loop;
  eddy_timer_t peer;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop);
  w.close_at = 1;
  writes_left = 5;
  assert_int_equal(eddy_timer_init(&loop, &peer), 0);
  assert_int_equal(eddy_timer_start(&peer, on_peer_tick, 10, 10), 0);
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 30, on_idle), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(writes_left, 0);
  assert_int_equal(w.fired, 1);
  assert_true(w.last_activity != 0);
  assert_true(w.fired_at[0] >= w.last_activity + 30);
  close(w.fd_peer);
  test_teardown_loop(&loop);
}

/* After a report, nothing until new activity; then a new period. */
static void on_first_idle(eddy_stream_t *s) {
  on_idle(s);
  if (w.fired == 1)
    assert_int_equal(write(w.fd_peer, "y", 1), 1);
}

static void test_once_per_idle_period(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop);
  w.close_at = 2;
  assert_int_equal(
      eddy_stream_set_timeout(&w.pipe.stream, 15, on_first_idle), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.fired, 2);
  assert_true(w.last_activity >= w.fired_at[0]);
  assert_true(w.fired_at[1] >= w.last_activity + 15);
  close(w.fd_peer);
  test_teardown_loop(&loop);
}

/* ms 0 removes it; the timeout alone keeps no loop alive; a stream closed
 * with its timeout armed frees it. */
static void on_stop(eddy_timer_t *t) {
  eddy_close(&w.pipe.stream.handle, NULL);
  eddy_close(&t->handle, NULL);
}

static void test_remove_unref_close(void **state) {
  eddy_loop_t loop;
  eddy_timer_t stop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop);
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 10, on_idle), 0);
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 0, NULL), 0);
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 0, NULL), 0);
  assert_int_equal(eddy_timer_init(&loop, &stop), 0);
  assert_int_equal(eddy_timer_start(&stop, on_stop, 40, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.fired, 0);
  close(w.fd_peer);

  open_pair(&loop);
  assert_int_equal(eddy_read_stop(&w.pipe.stream), 0);
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 10, on_idle), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0); /* nothing holds */
  assert_int_equal(w.fired, 0);
  eddy_close(&w.pipe.stream.handle, NULL); /* armed: freed with it */
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 10, on_idle),
                   EDDY_EINVAL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.fired, 0);
  close(w.fd_peer);
  test_teardown_loop(&loop);
}

static void test_errors(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop);
  assert_int_equal(eddy_stream_set_timeout(NULL, 10, on_idle), EDDY_EINVAL);
  assert_int_equal(eddy_stream_set_timeout(&w.pipe.stream, 10, NULL),
                   EDDY_EINVAL);
  eddy_close(&w.pipe.stream.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  close(w.fd_peer);
  test_teardown_loop(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fires_once_when_idle),
      cmocka_unit_test(test_activity_postpones),
      cmocka_unit_test(test_once_per_idle_period),
      cmocka_unit_test(test_remove_unref_close),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
