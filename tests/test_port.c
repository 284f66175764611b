/* test_port.c: message ports on one loop: order, copy and transfer,
 * detached and duplicate buffers, close on both ends, ports posted over
 * ports, the bounded queue and its drain callback, unref. */
#include <stdlib.h>

#include "test_util.h"

static struct test_log log_;
static eddy_port_t a, b, c, d, e;

static void log_message(eddy_port_t *port, eddy_port_message_t *m) {
  unsigned i;

  test_log_printf(&log_, "%c:",
                  port == &a   ? 'a'
                  : port == &b ? 'b'
                  : port == &e ? 'e'
                               : '?');
  for (i = 0; i < m->nbufs; i++)
    test_log_printf(&log_, "%.*s;", (int)m->bufs[i].len,
                    (const char *)m->bufs[i].base);
  test_log_printf(&log_, "\n");
}

static void log_close(eddy_port_t *port) {
  test_log_printf(&log_, "close %c\n",
                  port == &a   ? 'a'
                  : port == &b ? 'b'
                  : port == &c ? 'c'
                  : port == &d ? 'd'
                               : 'e');
}

static int post_str(eddy_port_t *port, const char *s) {
  eddy_buf_t buf = eddy_buf_init((void *)s, strlen(s));

  return eddy_port_post(port, &buf, 0);
}

static void close_on_message(eddy_port_t *port, eddy_port_message_t *m) {
  log_message(port, m);
  if (m->nbufs == 1 && m->bufs[0].len == 3 &&
      memcmp(m->bufs[0].base, "end", 3) == 0)
    eddy_close(&port->handle, NULL);
}

/* Messages arrive in order, after the posting call, and closing one end
 * fires close on both: the closing one first, in its close phase. */
static void test_order_and_close(void **state) {
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_port_pair(&loop, &a, &b), 0);
  assert_int_equal(eddy_handle_get_type(&a.handle), EDDY_PORT);
  assert_string_equal(eddy_handle_type_name(EDDY_PORT), "port");
  assert_false(eddy_is_active(&b.handle));
  assert_int_equal(eddy_port_set_close_cb(&a, log_close), 0);
  assert_int_equal(eddy_port_set_close_cb(&b, log_close), 0);
  assert_int_equal(post_str(&a, "one"), 0);
  assert_int_equal(post_str(&a, "two"), 0);
  assert_int_equal(eddy_port_start(&b, close_on_message), 0);
  assert_true(eddy_is_active(&b.handle));
  assert_int_equal(post_str(&a, "end"), 0);
  assert_int_equal(post_str(&a, "lost"), 0);
  assert_int_equal(log_.len, 0); /* nothing inside the calls */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  /* a, not receiving, does not keep the loop for its close event... */
  assert_string_equal(log_.buf, "b:one;\nb:two;\nb:end;\nclose b\n");
  assert_int_equal(post_str(&a, "x"), EDDY_EPIPE);
  /* ...which comes once it looks. */
  assert_int_equal(eddy_port_start(&a, log_message), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(log_.buf, "b:one;\nb:two;\nb:end;\nclose b\nclose a\n");
  assert_false(eddy_is_active(&a.handle));
  test_teardown_loop(&loop);
}

/* A transfer moves the buffer: the sender's entry is cleared, the receiver
 * gets the very pointer and may keep it; posting the cleared (detached)
 * buffer again fails, and so does a buffer listed twice. */
static void *received;
static void take_message(eddy_port_t *port, eddy_port_message_t *m) {
  assert_int_equal(m->nbufs, 1);
  assert_int_equal(m->bufs[0].len, 4096);
  received = eddy_port_message_take(m, 0);
  assert_null(eddy_port_message_take(m, 0));
  assert_null(eddy_port_message_take(m, 1));
  eddy_close(&port->handle, NULL);
}

static void test_transfer_detaches(void **state) {
  eddy_loop_t loop;
  void *mem = malloc(4096);
  eddy_buf_t buf = eddy_buf_init(mem, 4096);
  eddy_buf_t two[2];

  (void)state;
  received = NULL;
  memset(mem, 7, 4096);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_port_pair(&loop, &a, &b), 0);
  /* The same base twice in a transfer: rejected, nothing moved. */
  two[0] = buf;
  two[1] = buf;
  assert_int_equal(eddy_port_postv(&a, two, 2, NULL, 0, EDDY_PORT_TRANSFER),
                   EDDY_EINVAL);
  assert_ptr_equal(two[0].base, mem);
  assert_int_equal(eddy_port_post(&a, &buf, 42), EDDY_EINVAL); /* flags */
  assert_int_equal(eddy_port_post(&a, &buf, EDDY_PORT_TRANSFER), 0);
  assert_null(buf.base);
  assert_int_equal(buf.len, 0);
  assert_int_equal(eddy_port_post(&a, &buf, EDDY_PORT_TRANSFER), EDDY_EINVAL);
  assert_int_equal(eddy_port_post(&a, &buf, 0), EDDY_EINVAL);
  assert_int_equal(eddy_port_start(&b, take_message), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_ptr_equal(received, mem);
  assert_int_equal(((unsigned char *)received)[4095], 7);
  free(received);
  test_teardown_loop(&loop);
}

static void log_and_close(eddy_port_t *port, eddy_port_message_t *m) {
  log_message(port, m);
  eddy_close(&port->handle, NULL);
}

/* A copy may be taken too (a copy of the message's bytes). */
static void test_copy_take(void **state) {
  eddy_loop_t loop;
  char text[] = "copied";
  eddy_buf_t bufs[2] = {eddy_buf_init(text, 6), eddy_buf_init(text, 3)};

  (void)state;
  received = NULL;
  memset(&log_, 0, sizeof(log_));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_port_pair(&loop, &a, &b), 0);
  assert_int_equal(eddy_port_postv(&a, bufs, 2, NULL, 0, 0), 0);
  assert_ptr_equal(bufs[0].base, text); /* a copy leaves the sender's */
  text[0] = 'X';
  assert_int_equal(eddy_port_start(&b, log_and_close), 0);
  eddy_unref(&b.handle);
  assert_false(eddy_has_ref(&b.handle));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0); /* unref'd */
  eddy_ref(&b.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(log_.buf, "b:copied;cop;\n");
  test_teardown_loop(&loop);
}

/* A port posted over a port goes on working where it is accepted, and its
 * pair's close reaches it there. */
static void e_message(eddy_port_t *port, eddy_port_message_t *m) {
  log_message(port, m);
  if (m->bufs[0].len == 5 && memcmp(m->bufs[0].base, "after", 5) == 0)
    eddy_close(&port->handle, NULL);
}

static void accept_message(eddy_port_t *port, eddy_port_message_t *m) {
  log_message(port, m);
  assert_int_equal(m->nports, 1);
  assert_int_equal(eddy_port_accept(m, 1, port->handle.loop, &e), EDDY_EINVAL);
  assert_int_equal(eddy_port_accept(m, 0, port->handle.loop, &e), 0);
  assert_int_equal(eddy_port_accept(m, 0, port->handle.loop, &e), EDDY_EINVAL);
  assert_int_equal(eddy_port_set_close_cb(&e, log_close), 0);
  assert_int_equal(eddy_port_start(&e, e_message), 0);
  eddy_close(&port->handle, NULL);
}

static void test_port_over_port(void **state) {
  eddy_loop_t loop;
  eddy_port_t *list[2];
  char hello[] = "take d";

  (void)state;
  memset(&log_, 0, sizeof(log_));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_port_pair(&loop, &a, &b), 0);
  assert_int_equal(eddy_port_pair(&loop, &c, &d), 0);
  assert_int_equal(post_str(&c, "queued before"), 0);
  list[0] = &a;
  assert_int_equal(eddy_port_postv(&a, NULL, 0, list, 1, 0), EDDY_EINVAL);
  list[0] = &b;
  assert_int_equal(eddy_port_postv(&a, NULL, 0, list, 1, 0), EDDY_EINVAL);
  list[0] = &d;
  list[1] = &d;
  assert_int_equal(eddy_port_postv(&a, NULL, 0, list, 2, 0), EDDY_EINVAL);
  {
    eddy_buf_t buf = eddy_buf_init(hello, strlen(hello));

    assert_int_equal(eddy_port_postv(&a, &buf, 1, list, 1, 0), 0);
  }
  assert_int_equal(post_str(&d, "x"), EDDY_EINVAL); /* posted away */
  assert_int_equal(eddy_port_start(&d, log_message), EDDY_EINVAL);
  eddy_close(&d.handle, NULL);
  assert_int_equal(eddy_port_start(&b, accept_message), 0);
  assert_int_equal(eddy_port_set_close_cb(&c, log_close), 0);
  assert_int_equal(eddy_port_start(&c, log_message), 0);
  assert_int_equal(post_str(&c, "after"), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(log_.buf, "b:take d;\ne:queued before;\ne:after;\n"
                                "close c\nclose e\n");
  test_teardown_loop(&loop);
}

/* A full queue refuses a post with EDDY_EAGAIN, and the sender's drain
 * callback runs once the receiver took its queue. */
static unsigned drains, got;
static void on_drain(eddy_port_t *port) {
  drains++;
  assert_int_equal(post_str(port, "after drain"), 0);
}
static void count_message(eddy_port_t *port, eddy_port_message_t *m) {
  (void)m;
  if (++got == 4)
    return;
  if (got == 5)
    eddy_close(&port->handle, NULL);
}

static void test_bounded_queue(void **state) {
  eddy_loop_t loop;
  int i;

  (void)state;
  drains = got = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_port_pair(&loop, &a, &b), 0);
  assert_int_equal(eddy_port_set_queue_limit(&b, 0), EDDY_EINVAL);
  assert_int_equal(eddy_port_set_queue_limit(&b, 4), 0);
  assert_int_equal(eddy_port_set_drain_cb(&a, on_drain), 0);
  for (i = 0; i < 4; i++)
    assert_int_equal(post_str(&a, "m"), 0);
  assert_int_equal(post_str(&a, "m"), EDDY_EAGAIN);
  assert_int_equal(eddy_port_start(&b, count_message), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(drains, 1);
  assert_int_equal(got, 5);
  test_teardown_loop(&loop);
}

/* A callback that stops the port keeps the rest queued, in order, for
 * the next start; a copied buffer taken is a copy of its own. */
static void stop_after_one(eddy_port_t *port, eddy_port_message_t *m) {
  char *mine = eddy_port_message_take(m, 0);

  assert_non_null(mine);
  assert_null(m->bufs[0].base);
  test_log_printf(&log_, "%.*s;", 1, mine);
  free(mine);
  eddy_port_stop(port);
}

static void test_stop_requeues(void **state) {
  eddy_loop_t loop;
  int i;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_port_pair(&loop, &a, &b), 0);
  assert_int_equal(post_str(&a, "1"), 0);
  assert_int_equal(post_str(&a, "2"), 0);
  assert_int_equal(post_str(&a, "3"), 0);
  for (i = 0; i < 3; i++) {
    assert_int_equal(eddy_port_start(&b, stop_after_one), 0);
    assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  }
  assert_string_equal(log_.buf, "1;2;3;");
  test_teardown_loop(&loop);
}

/* Bad arguments. */
static void test_errors(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_port_pair(NULL, &a, &b), EDDY_EINVAL);
  assert_int_equal(eddy_port_pair(&loop, &a, &a), EDDY_EINVAL);
  assert_int_equal(eddy_port_pair(&loop, NULL, &b), EDDY_EINVAL);
  assert_int_equal(eddy_port_start(NULL, log_message), EDDY_EINVAL);
  assert_int_equal(eddy_port_stop(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_port_set_close_cb(NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_port_set_drain_cb(NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_port_set_queue_limit(NULL, 1), EDDY_EINVAL);
  assert_int_equal(eddy_port_post(NULL, NULL, 0), EDDY_EINVAL);
  assert_null(eddy_port_message_take(NULL, 0));
  assert_int_equal(eddy_port_accept(NULL, 0, &loop, &a), EDDY_EINVAL);
  assert_int_equal(eddy_port_pair(&loop, &a, &b), 0);
  assert_int_equal(eddy_port_start(&a, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_port_post(&a, NULL, 0), EDDY_EINVAL);
  assert_int_equal(eddy_port_stop(&a), 0);
  eddy_close(&a.handle, NULL);
  assert_int_equal(post_str(&a, "closing"), EDDY_EINVAL);
  test_teardown_loop(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order_and_close),
      cmocka_unit_test(test_transfer_detaches),
      cmocka_unit_test(test_copy_take),
      cmocka_unit_test(test_port_over_port),
      cmocka_unit_test(test_bounded_queue),
      cmocka_unit_test(test_stop_requeues),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
