/* test_loop.c: loop lifecycle, run modes, phases, liveness, close, walk,
 * ref counting, time and error names. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "core/phases.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "test_util.h"

static void test_init_close_empty(void **state) {
  eddy_loop_t loop;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_false(eddy_loop_alive(&loop));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_ONCE), 0);
  test_assert_loop_clean(&loop);
}

static void test_close_busy_while_handle_open(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY);
  assert_int_equal(eddy_close(&timer.handle, NULL), 0);
  /* Still busy until the close callback has run. */
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY);
  test_assert_loop_clean(&loop);
}

static void test_default_loop(void **state) {
  eddy_loop_t *a = eddy_default_loop();

  (void)state;
  assert_non_null(a);
  assert_ptr_equal(a, eddy_default_loop());
  assert_int_equal(eddy_loop_close(a), 0);
  /* A closed default loop comes back initialised. */
  a = eddy_default_loop();
  assert_non_null(a);
  assert_int_equal(eddy_loop_close(a), 0);
}

/* One iteration visits the phases in Node's order. */
static struct test_log phase_log;
static eddy_io_t phase_io;

static void phase_timer(eddy_timer_t *t) {
  test_log_printf(&phase_log, "timer ");
  eddy_close(&t->handle, NULL);
}
static void phase_pending(eddy_loop_t *loop, eddy_io_t *io, unsigned ev) {
  (void)loop;
  (void)io;
  (void)ev;
  test_log_printf(&phase_log, "pending ");
}
static void phase_idle(eddy_idle_t *h) {
  test_log_printf(&phase_log, "idle ");
  eddy_close(&h->handle, NULL);
}
static void phase_prepare(eddy_prepare_t *h) {
  test_log_printf(&phase_log, "prepare ");
  eddy_close(&h->handle, NULL);
}
static void phase_poll(eddy_poll_t *h, int status, int events) {
  assert_int_equal(status, 0);
  assert_true(events & EDDY_READABLE);
  test_log_printf(&phase_log, "poll ");
  eddy_close(&h->handle, NULL);
}
static void phase_check(eddy_check_t *h) {
  test_log_printf(&phase_log, "check ");
  eddy_close(&h->handle, NULL);
}
static void phase_close(eddy_handle_t *h) {
  (void)h;
  test_log_printf(&phase_log, "close ");
}

static void test_phase_order(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;
  eddy_idle_t idle;
  eddy_prepare_t prepare;
  eddy_poll_t poll;
  eddy_check_t check, closing;
  int fds[2];

  (void)state;
  phase_log.len = 0;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_int_equal(eddy_timer_start(&timer, phase_timer, 0, 0), 0);
  eddy__io_init(&phase_io, phase_pending, -1);
  eddy__io_feed(&loop, &phase_io);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, phase_idle), 0);
  assert_int_equal(eddy_prepare_init(&loop, &prepare), 0);
  assert_int_equal(eddy_prepare_start(&prepare, phase_prepare), 0);
  assert_int_equal(eddy_poll_init(&loop, &poll, fds[0]), 0);
  assert_int_equal(eddy_poll_start(&poll, EDDY_READABLE, phase_poll), 0);
  assert_int_equal(eddy_check_init(&loop, &check), 0);
  assert_int_equal(eddy_check_start(&check, phase_check), 0);
  assert_int_equal(eddy_check_init(&loop, &closing), 0);
  assert_int_equal(eddy_close(&closing.handle, phase_close), 0);
  /* ONCE has no timers pass before the first iteration: the due timer runs
   * at the end of it. */
  eddy_run(&loop, EDDY_RUN_ONCE);
  phase_log.buf[phase_log.len] = '\0';
  assert_string_equal(phase_log.buf,
                      "pending idle prepare poll check close timer ");
  test_teardown_loop(&loop);
  close(fds[0]);
  close(fds[1]);
}

static void noop_idle(eddy_idle_t *h) {
  (void)h;
}
static void noop_timer(eddy_timer_t *t) {
  (void)t;
}

/* An active idle handle means poll must not block, even with a far timer. */
static void test_poll_timeout_zero_with_idle(void **state) {
  eddy_loop_t loop;
  eddy_timer_t far;
  eddy_idle_t idle;
  uint64_t start;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &far), 0);
  assert_int_equal(eddy_timer_start(&far, noop_timer, 60000, 0), 0);
  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_idle_start(&idle, noop_idle), 0);
  start = eddy_hrtime();
  assert_int_not_equal(eddy_run(&loop, EDDY_RUN_ONCE), 0);
  assert_true(eddy_hrtime() - start < 30000000000ull);
  test_teardown_loop(&loop);
}

/* A pending close means poll must not block either. */
static int closed_count;
static void count_close(eddy_handle_t *h) {
  (void)h;
  closed_count++;
}

static void test_poll_timeout_zero_with_closing(void **state) {
  eddy_loop_t loop;
  eddy_timer_t far;
  eddy_check_t check;

  (void)state;
  closed_count = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &far), 0);
  assert_int_equal(eddy_timer_start(&far, noop_timer, 60000, 0), 0);
  assert_int_equal(eddy_check_init(&loop, &check), 0);
  assert_int_equal(eddy_close(&check.handle, count_close), 0);
  assert_int_not_equal(eddy_run(&loop, EDDY_RUN_ONCE), 0);
  assert_int_equal(closed_count, 1);
  test_teardown_loop(&loop);
}

/* NOWAIT never blocks; ONCE blocks until the timer is due. */
static int timer_fired;
static void count_timer(eddy_timer_t *t) {
  (void)t;
  timer_fired++;
}

static void test_run_modes(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;

  (void)state;
  timer_fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  /* 200 ms: long enough that a stalled CI machine cannot make it due
   * before the NOWAIT pass. */
  assert_int_equal(eddy_timer_start(&timer, count_timer, 200, 0), 0);
  assert_int_not_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  assert_int_equal(timer_fired, 0);
  /* ONCE blocks in poll until the timer is due, then runs it. */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_ONCE), 0);
  assert_int_equal(timer_fired, 1);
  test_teardown_loop(&loop);
}

static void stop_from_timer(eddy_timer_t *t) {
  timer_fired++;
  eddy_stop(t->handle.loop);
}

static void test_stop(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;

  (void)state;
  timer_fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_int_equal(eddy_timer_start(&timer, stop_from_timer, 1, 1), 0);
  /* The repeating timer would run forever; stop ends eddy_run. */
  assert_int_not_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(timer_fired, 1);
  assert_int_not_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(timer_fired, 2);
  test_teardown_loop(&loop);
}

static void test_ref_unref(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;

  (void)state;
  timer_fired = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_true(eddy_has_ref(&timer.handle));
  assert_false(eddy_is_active(&timer.handle));
  assert_false(eddy_loop_alive(&loop)); /* inactive handles do not count */
  assert_int_equal(eddy_timer_start(&timer, count_timer, 10, 0), 0);
  assert_true(eddy_is_active(&timer.handle));
  assert_true(eddy_loop_alive(&loop));
  eddy_unref(&timer.handle);
  eddy_unref(&timer.handle); /* idempotent */
  assert_false(eddy_has_ref(&timer.handle));
  assert_false(eddy_loop_alive(&loop));
  /* Nothing referenced: run returns at once, the timer never fires. */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(timer_fired, 0);
  assert_true(eddy_is_active(&timer.handle));
  eddy_ref(&timer.handle);
  eddy_ref(&timer.handle);
  assert_true(eddy_loop_alive(&loop));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(timer_fired, 1);
  test_teardown_loop(&loop);
}

static void test_close_twice_and_flags(void **state) {
  eddy_loop_t loop;
  eddy_check_t check;

  (void)state;
  closed_count = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_check_init(&loop, &check), 0);
  assert_int_equal(eddy_handle_get_type(&check.handle), EDDY_CHECK);
  assert_false(eddy_is_closing(&check.handle));
  assert_int_equal(eddy_close(&check.handle, count_close), 0);
  assert_true(eddy_is_closing(&check.handle));
  assert_int_equal(eddy_close(&check.handle, count_close), EDDY_EINVAL);
  test_assert_loop_clean(&loop);
  assert_int_equal(closed_count, 1);
}

/* eddy_close refuses what is not a handle type that closes: unknown,
 * EDDY_FILE (a guess about a descriptor, never a handle) and values past
 * the last type. Nothing is queued, so the loop stays empty. */
static void test_close_not_a_handle(void **state) {
  eddy_loop_t loop;
  eddy_handle_t h;
  const uint16_t types[] = {EDDY_UNKNOWN_HANDLE, EDDY_FILE,
                            EDDY_HANDLE_TYPE_MAX, 0xffff};
  size_t i;

  (void)state;
  closed_count = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < sizeof types / sizeof types[0]; i++) {
    memset(&h, 0, sizeof h);
    h.loop = &loop;
    h.priv.type = types[i];
    assert_int_equal(eddy_close(&h, count_close), EDDY_EINVAL);
    assert_false(eddy_is_closing(&h));
  }
  assert_false(eddy_loop_alive(&loop));
  test_assert_loop_clean(&loop);
  assert_int_equal(closed_count, 0);
}

/* Close callbacks run in close order; a close issued from a close callback
 * waits for the next iteration. */
static struct test_log close_log;
static eddy_check_t late;
static void log_close_late(eddy_handle_t *h) {
  (void)h;
  test_log_printf(&close_log, "late ");
}
static void log_close_and_close_late(eddy_handle_t *h) {
  test_log_printf(&close_log, "%s ", (const char *)h->data);
  if (!eddy_is_closing(&late.handle))
    eddy_close(&late.handle, log_close_late);
}

static void test_close_order_and_nested_close(void **state) {
  eddy_loop_t loop;
  eddy_check_t a, b;

  (void)state;
  close_log.len = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_check_init(&loop, &a), 0);
  assert_int_equal(eddy_check_init(&loop, &b), 0);
  assert_int_equal(eddy_check_init(&loop, &late), 0);
  a.handle.data = "a";
  b.handle.data = "b";
  eddy_close(&b.handle, log_close_and_close_late);
  eddy_close(&a.handle, log_close_and_close_late);
  assert_int_not_equal(eddy_run(&loop, EDDY_RUN_ONCE), 0);
  close_log.buf[close_log.len] = '\0';
  assert_string_equal(close_log.buf, "b a ");
  assert_int_equal(eddy_run(&loop, EDDY_RUN_ONCE), 0);
  close_log.buf[close_log.len] = '\0';
  assert_string_equal(close_log.buf, "b a late ");
  test_assert_loop_clean(&loop);
}

static int walk_visits;
static void walk_close_all(eddy_handle_t *h, void *arg) {
  eddy_handle_t **all = arg;
  int i;

  (void)h;
  walk_visits++;
  /* Close every handle, including ones not visited yet. */
  for (i = 0; all[i] != NULL; i++)
    if (!eddy_is_closing(all[i]))
      eddy_close(all[i], NULL);
}

static void test_walk(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;
  eddy_idle_t i;
  eddy_check_t c;
  eddy_handle_t *all[] = {&t.handle, &i.handle, &c.handle, NULL};

  (void)state;
  walk_visits = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_timer_init(&loop, &t);
  eddy_idle_init(&loop, &i);
  eddy_check_init(&loop, &c);
  eddy_walk(&loop, walk_close_all, all);
  assert_int_equal(walk_visits, 3);
  assert_true(eddy_is_closing(&t.handle) && eddy_is_closing(&i.handle) &&
              eddy_is_closing(&c.handle));
  /* Closing handles are still walked until their callbacks have run. */
  walk_visits = 0;
  eddy_walk(&loop, walk_close_all, all);
  assert_int_equal(walk_visits, 3);
  test_assert_loop_clean(&loop);
}

static void test_time(void **state) {
  eddy_loop_t loop;
  uint64_t h1, h2, n1;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  h1 = eddy_hrtime();
  n1 = eddy_now(&loop);
  test_busy_wait_ms(5);
  /* The cached time does not move by itself. */
  assert_int_equal(eddy_now(&loop), n1);
  eddy_update_time(&loop);
  h2 = eddy_hrtime();
  assert_true(h2 - h1 >= 5000000u);
  assert_true(eddy_now(&loop) - n1 >= 4);
  test_assert_loop_clean(&loop);
}

static void test_error_names(void **state) {
  (void)state;
  assert_int_equal(EDDY_ENOENT, -ENOENT);
  assert_int_equal(EDDY_EAGAIN, -EAGAIN);
  assert_string_equal(eddy_err_name(EDDY_ENOENT), "ENOENT");
  assert_string_equal(eddy_strerror(EDDY_ENOENT), "no such file or directory");
  assert_string_equal(eddy_err_name(EDDY_ECANCELED), "ECANCELED");
  assert_string_equal(eddy_err_name(EDDY_EOF), "EOF");
  assert_string_equal(eddy_strerror(EDDY_EOF), "end of file");
  assert_string_equal(eddy_err_name(EDDY_EMAXBUFFER), "EMAXBUFFER");
  assert_string_equal(eddy_strerror(EDDY_EMAXBUFFER),
                      "maximum buffer size exceeded");
  assert_string_equal(eddy_err_name(EDDY_EAI_NONAME), "EAI_NONAME");
  assert_string_equal(eddy_strerror(EDDY_EAI_NONAME),
                      "unknown host name or service");
  assert_string_equal(eddy_err_name(EDDY_EAI_AGAIN), "EAI_AGAIN");
  assert_string_equal(eddy_err_name(-123456), "UNKNOWN");
  assert_string_equal(eddy_strerror(12345), "unknown error");
  assert_string_equal(eddy_version_string(), "0.1.0");
}

static void test_backend_from_environment(void **state) {
  eddy_loop_t loop;
  const char *saved = getenv("EDDY_BACKEND");
  char *copy = saved != NULL ? strdup(saved) : NULL;

  (void)state;
  setenv("EDDY_BACKEND", "poll", 1);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_string_equal(eddy_backend_name(&loop), "poll");
  test_assert_loop_clean(&loop);
  unsetenv("EDDY_BACKEND");
  assert_int_equal(eddy_loop_init(&loop), 0);
#ifdef __linux__
  assert_string_equal(eddy_backend_name(&loop), "epoll");
#else
  assert_string_equal(eddy_backend_name(&loop), "poll");
#endif
  test_assert_loop_clean(&loop);
  if (copy != NULL)
    setenv("EDDY_BACKEND", copy, 1);
  free(copy);
}

/* Every handle and request type has a name; values that are not a type
 * have none. */
static void test_type_names(void **state) {
  int t;

  (void)state;
  assert_string_equal(eddy_handle_type_name(EDDY_TIMER), "timer");
  assert_string_equal(eddy_handle_type_name(EDDY_NAMED_PIPE), "pipe");
  assert_string_equal(eddy_handle_type_name(EDDY_PROCESS), "process");
  assert_string_equal(eddy_req_type_name(EDDY_FS), "fs");
  assert_string_equal(eddy_req_type_name(EDDY_UDP_SEND), "udp_send");
  for (t = EDDY_UNKNOWN_HANDLE + 1; t < EDDY_HANDLE_TYPE_MAX; t++)
    assert_non_null(eddy_handle_type_name((eddy_handle_type)t));
  for (t = EDDY_UNKNOWN_REQ + 1; t < EDDY_REQ_TYPE_MAX; t++)
    assert_non_null(eddy_req_type_name((eddy_req_type)t));
  assert_null(eddy_handle_type_name(EDDY_UNKNOWN_HANDLE));
  assert_null(eddy_handle_type_name(EDDY_HANDLE_TYPE_MAX));
  assert_null(eddy_handle_type_name((eddy_handle_type)-1));
  assert_null(eddy_req_type_name(EDDY_UNKNOWN_REQ));
  assert_null(eddy_req_type_name(EDDY_REQ_TYPE_MAX));
}

/* beforeExit: runs when eddy_run(DEFAULT) is about to return for lack of
 * work, again after the work it started ran out, never after eddy_stop()
 * or in the other modes; a tick it queues runs before the decision. */
static int before_exit_calls, before_exit_ticks;
static eddy_timer_t before_exit_timer;

static void before_exit_tick(eddy_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  before_exit_ticks++;
}

static void before_exit_timer_cb(eddy_timer_t *t) {
  eddy_close(&t->handle, NULL);
}

static void before_exit_cb(eddy_loop_t *loop) {
  before_exit_calls++;
  eddy_next_tick(loop, before_exit_tick, NULL);
  if (before_exit_calls == 1) {
    assert_int_equal(eddy_timer_init(loop, &before_exit_timer), 0);
    assert_int_equal(
        eddy_timer_start(&before_exit_timer, before_exit_timer_cb, 1, 0), 0);
  }
}

static void stop_in_timer(eddy_timer_t *t) {
  eddy_stop(t->handle.loop);
  eddy_close(&t->handle, NULL);
}

static void test_before_exit(void **state) {
  eddy_loop_t loop;
  eddy_timer_t t;

  (void)state;
  before_exit_calls = before_exit_ticks = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_loop_set_before_exit(&loop, before_exit_cb), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_ONCE), 0);
  assert_int_equal(before_exit_calls, 0);
  /* An empty loop: once, starting the timer; again once it ran. */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(before_exit_calls, 2);
  assert_int_equal(before_exit_ticks, 2);
  /* Stopped, not empty: no call. */
  assert_int_equal(eddy_timer_init(&loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, stop_in_timer, 1, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 1); /* closing */
  assert_int_equal(before_exit_calls, 2);
  assert_int_equal(eddy_loop_set_before_exit(&loop, NULL), 0);
  assert_int_equal(eddy_loop_set_before_exit(NULL, before_exit_cb),
                   EDDY_EINVAL);
  test_assert_loop_clean(&loop);
  assert_int_equal(before_exit_calls, 2);
}

/* eddy_loop_init leaves the caller's data alone, as handle init does; 0
 * has a message and a name of its own. */
static void test_init_keeps_data_and_success_message(void **state) {
  eddy_loop_t loop;
  int mine;

  (void)state;
  loop.data = &mine;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_ptr_equal(loop.data, &mine);
  assert_string_equal(eddy_strerror(0), "success");
  assert_string_equal(eddy_err_name(0), "OK");
  test_assert_loop_clean(&loop);
}

/* Every call that would start or change a handle after eddy_close() is
 * refused with EDDY_EINVAL, in every handle type: none may reopen what the
 * close released (a bind or open on a closing TCP or pipe handle used to
 * make a new descriptor that nobody closed). */
static void noop_prepare(eddy_prepare_t *h) {
  (void)h;
}
static void noop_check(eddy_check_t *h) {
  (void)h;
}
static void noop_poll(eddy_poll_t *h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
}
static void noop_signal(eddy_signal_t *h, int signum) {
  (void)h;
  (void)signum;
}
static void noop_connection(eddy_stream_t *s, int status) {
  (void)s;
  (void)status;
}
static void noop_alloc(eddy_handle_t *h, size_t n, eddy_buf_t *b) {
  (void)h;
  (void)n;
  (void)b;
}
static void noop_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *b) {
  (void)s;
  (void)n;
  (void)b;
}
static void noop_connect(eddy_connect_t *r, int status) {
  (void)r;
  (void)status;
}
static void noop_udp_recv(eddy_udp_t *u, ssize_t n, const eddy_buf_t *b,
                          const struct sockaddr *addr, unsigned flags) {
  (void)u;
  (void)n;
  (void)b;
  (void)addr;
  (void)flags;
}
static void noop_fs_event(eddy_fs_event_t *h, const char *name, int events,
                          int status) {
  (void)h;
  (void)name;
  (void)events;
  (void)status;
}
static void noop_fs_poll(eddy_fs_poll_t *h, int status, const eddy_stat_t *prev,
                         const eddy_stat_t *curr) {
  (void)h;
  (void)status;
  (void)prev;
  (void)curr;
}

static void test_closing_handles_refuse_calls(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;
  eddy_idle_t idle;
  eddy_prepare_t prepare;
  eddy_check_t check;
  eddy_poll_t poll;
  eddy_signal_t sig;
  eddy_tcp_t tcp, tcp_open;
  eddy_pipe_t pipe_, pipe_open;
  eddy_udp_t udp;
  eddy_fs_event_t fse;
  eddy_fs_poll_t fsp;
  eddy_connect_t creq;
  eddy_write_t wreq;
  eddy_shutdown_t sreq;
  eddy_buf_t buf = eddy_buf_init("x", 1);
  struct sockaddr_in addr = test_loopback4(0);
  int fds[2], sock;

  (void)state;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);

  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  eddy_close(&timer.handle, NULL);
  assert_int_equal(eddy_timer_start(&timer, noop_timer, 1, 0), EDDY_EINVAL);
  assert_int_equal(eddy_timer_again(&timer), EDDY_EINVAL);

  assert_int_equal(eddy_idle_init(&loop, &idle), 0);
  assert_int_equal(eddy_prepare_init(&loop, &prepare), 0);
  assert_int_equal(eddy_check_init(&loop, &check), 0);
  eddy_close(&idle.handle, NULL);
  eddy_close(&prepare.handle, NULL);
  eddy_close(&check.handle, NULL);
  assert_int_equal(eddy_idle_start(&idle, noop_idle), EDDY_EINVAL);
  assert_int_equal(eddy_prepare_start(&prepare, noop_prepare), EDDY_EINVAL);
  assert_int_equal(eddy_check_start(&check, noop_check), EDDY_EINVAL);

  assert_int_equal(eddy_poll_init(&loop, &poll, fds[0]), 0);
  eddy_close(&poll.handle, NULL);
  assert_int_equal(eddy_poll_start(&poll, EDDY_READABLE, noop_poll),
                   EDDY_EINVAL);

  assert_int_equal(eddy_signal_init(&loop, &sig), 0);
  eddy_close(&sig.handle, NULL);
  assert_int_equal(eddy_signal_start(&sig, noop_signal, SIGUSR1), EDDY_EINVAL);
  assert_int_equal(eddy_signal_start_oneshot(&sig, noop_signal, SIGUSR1),
                   EDDY_EINVAL);

  /* TCP: closed before it had a socket, and closed with one. */
  assert_int_equal(eddy_tcp_init(&loop, &tcp), 0);
  eddy_close(&tcp.stream.handle, NULL);
  sock = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(eddy_tcp_open(&tcp, sock), EDDY_EINVAL);
  close(sock);
  assert_int_equal(eddy_tcp_bind(&tcp, (struct sockaddr *)&addr, 0),
                   EDDY_EINVAL);
  assert_int_equal(
      eddy_tcp_connect(&creq, &tcp, (struct sockaddr *)&addr, noop_connect),
      EDDY_EINVAL);
  assert_int_equal(eddy_tcp_nodelay(&tcp, 1), EDDY_EINVAL);
  assert_int_equal(eddy_tcp_keepalive(&tcp, 1, 10), EDDY_EINVAL);
  assert_int_equal(eddy_tcp_close_reset(&tcp, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_listen(&tcp.stream, 1, noop_connection), EDDY_EINVAL);
  assert_int_equal(eddy_read_start(&tcp.stream, noop_alloc, noop_read),
                   EDDY_EINVAL);
  assert_int_equal(eddy_write(&wreq, &tcp.stream, &buf, 1, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_try_write(&tcp.stream, &buf, 1), EDDY_EINVAL);
  assert_int_equal(eddy_shutdown(&sreq, &tcp.stream, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_tcp_init(&loop, &tcp_open), 0);
  assert_int_equal(eddy_tcp_bind(&tcp_open, (struct sockaddr *)&addr, 0), 0);
  eddy_close(&tcp_open.stream.handle, NULL);
  assert_int_equal(eddy_tcp_bind(&tcp_open, (struct sockaddr *)&addr, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_accept(&tcp_open.stream, &tcp.stream), EDDY_EINVAL);

  /* Pipes. */
  assert_int_equal(eddy_pipe_init(&loop, &pipe_, 0), 0);
  eddy_close(&pipe_.stream.handle, NULL);
  assert_int_equal(eddy_pipe_open(&pipe_, fds[1]), EDDY_EINVAL);
  assert_int_equal(eddy_pipe_bind(&pipe_, "/tmp/eddy-closing-test"),
                   EDDY_EINVAL);
  assert_int_equal(eddy_pipe_bind2(&pipe_, "/tmp/eddy-closing-test", 22),
                   EDDY_EINVAL);
  assert_int_equal(
      eddy_pipe_connect(&creq, &pipe_, "/tmp/eddy-none", noop_connect),
      EDDY_EINVAL);
  assert_int_equal(eddy_pipe_chmod(&pipe_, EDDY_READABLE), EDDY_EINVAL);
  assert_int_equal(eddy_write2(&wreq, &pipe_.stream, &buf, 1, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_pipe_init(&loop, &pipe_open, 0), 0);
  assert_int_equal(eddy_pipe_open(&pipe_open, dup(fds[1])), 0);
  eddy_close(&pipe_open.stream.handle, NULL);
  assert_int_equal(eddy_pipe_open(&pipe_open, fds[1]), EDDY_EINVAL);

  /* UDP. */
  assert_int_equal(eddy_udp_init(&loop, &udp), 0);
  eddy_close(&udp.handle, NULL);
  assert_int_equal(eddy_udp_bind(&udp, (struct sockaddr *)&addr, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_recv_start(&udp, noop_alloc, noop_udp_recv),
                   EDDY_EINVAL);

  /* File watching. */
  assert_int_equal(eddy_fs_event_init(&loop, &fse), 0);
  eddy_close(&fse.handle, NULL);
  assert_int_equal(eddy_fs_event_start(&fse, noop_fs_event, "/tmp", 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_poll_init(&loop, &fsp), 0);
  eddy_close(&fsp.handle, NULL);
  assert_int_equal(eddy_fs_poll_start(&fsp, noop_fs_poll, "/tmp", 100),
                   EDDY_EINVAL);

  test_assert_loop_clean(&loop);
  /* The descriptors the refused calls were given are still ours. */
  assert_true(fcntl(fds[1], F_GETFD) != -1);
  close(fds[0]);
  close(fds[1]);
}

/* ---- embedding: the backend descriptor; a signal blocked in the wait -- */

static int pipe_bytes;

static void embed_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char space[8];

  (void)h;
  (void)size;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void embed_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *buf) {
  (void)s;
  (void)buf;
  if (n > 0)
    pipe_bytes += (int)n;
}

/* Another loop (here poll(2) on the backend descriptor) learns that eddy
 * has I/O, then eddy_run(NOWAIT) handles it. */
static void test_backend_fd_embedding(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t p;
  struct pollfd pfd;
  int fds[2];

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  if (strcmp(eddy_backend_name(&loop), "poll") == 0) {
    assert_int_equal(eddy_backend_fd(&loop), -1); /* none to give */
    assert_int_equal(eddy_loop_close(&loop), 0);
    return;
  }
  assert_true(eddy_backend_fd(&loop) >= 0);
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_pipe_init(&loop, &p, 0), 0);
  assert_int_equal(eddy_pipe_open(&p, fds[0]), 0);
  assert_int_equal(eddy_read_start(&p.stream, embed_alloc, embed_read), 0);
  pipe_bytes = 0;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 1); /* registers */
  assert_int_equal(eddy_backend_timeout(&loop), -1);     /* only I/O */
  pfd.fd = eddy_backend_fd(&loop);
  pfd.events = POLLIN;
  assert_int_equal(poll(&pfd, 1, 0), 0); /* nothing yet */
  assert_int_equal(write(fds[1], "abc", 3), 3);
  assert_int_equal(poll(&pfd, 1, 10000), 1);
  assert_int_equal(pipe_bytes, 0);
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(pipe_bytes, 3);
  close(fds[1]);
  eddy_close(&p.stream.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Set by the handler on the loop thread, read by the prober thread: an
 * atomic (lock-free, so safe in a handler), not only volatile. */
static int usr1_taken;
static pid_t loop_tid;
static eddy_async_t block_wake;

static int usr1_was_taken(void) {
  return __atomic_load_n(&usr1_taken, __ATOMIC_SEQ_CST);
}

static void on_usr1(int sig) {
  int saved = errno; /* a handler leaves errno as it found it */

  (void)sig;
  __atomic_store_n(&usr1_taken, 1, __ATOMIC_SEQ_CST);
  errno = saved;
}

static void on_block_wake(eddy_async_t *a) {
  eddy_close(&a->handle, NULL);
}

/* The loop thread's system call while it is blocked (the first field of
 * /proc/self/task/TID/syscall), or -1 while it runs. */
static long thread_syscall(pid_t tid) {
  char path[64];
  long nr = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
  f = fopen(path, "r");
  assert_non_null(f);
  if (fscanf(f, "%ld", &nr) != 1)
    nr = -1;
  fclose(f);
  return nr;
}

/* Whether signal sig is pending for thread tid (SigPnd in its status). */
static int thread_has_pending(pid_t tid, int sig) {
  char path[64], line[256];
  unsigned long long mask = 0;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
  f = fopen(path, "r");
  assert_non_null(f);
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "SigPnd: %llx", &mask) == 1)
      break;
  fclose(f);
  return (mask >> (sig - 1)) & 1;
}

/* What the prober thread saw (asserted on the loop thread: cmocka's
 * asserts belong to the thread that runs the test). */
static int probe_saw_wait, probe_saw_pending, probe_saw_taken;

static void *block_prober(void *arg) {
  pthread_t loop_thread = *(pthread_t *)arg;
  int i;

  /* Wait (bounded) until the loop thread sleeps in its poll wait. */
  for (i = 0; i < 10000 && !probe_saw_wait; i++) {
    long nr = thread_syscall(loop_tid);

    probe_saw_wait = nr == SYS_epoll_pwait || nr == SYS_ppoll;
    if (!probe_saw_wait)
      usleep(1000);
  }
  if (probe_saw_wait) {
    pthread_kill(loop_thread, SIGUSR1);
    /* Blocked in the wait: it stays pending, the handler does not run. */
    for (i = 0; i < 1000 && !probe_saw_pending && !usr1_was_taken(); i++) {
      probe_saw_pending = thread_has_pending(loop_tid, SIGUSR1);
      if (!probe_saw_pending)
        usleep(1000);
    }
    probe_saw_taken = usr1_was_taken();
  }
  eddy_async_send(&block_wake);
  return NULL;
}

static void test_loop_configure_block_signal(void **state) {
  struct sigaction sa, old;
  eddy_loop_t loop;
  pthread_t self = pthread_self(), prober;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_loop_configure(NULL, EDDY_LOOP_BLOCK_SIGNAL, SIGUSR1),
                   EDDY_EINVAL);
  assert_int_equal(eddy_loop_configure(&loop, EDDY_LOOP_BLOCK_SIGNAL, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_loop_configure(&loop, EDDY_LOOP_BLOCK_SIGNAL, 65),
                   EDDY_EINVAL);
  assert_int_equal(eddy_loop_configure(&loop, EDDY_LOOP_BLOCK_SIGNAL, SIGKILL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_loop_configure(&loop, EDDY_LOOP_BLOCK_SIGNAL, SIGSEGV),
                   EDDY_EINVAL);
  assert_int_equal(eddy_loop_configure(&loop, (eddy_loop_option)42),
                   EDDY_ENOSYS);
  assert_int_equal(eddy_loop_configure(&loop, EDDY_LOOP_BLOCK_SIGNAL, SIGUSR1),
                   0);

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  __atomic_store_n(&usr1_taken, 0, __ATOMIC_SEQ_CST);
  probe_saw_wait = probe_saw_pending = probe_saw_taken = 0;
  loop_tid = (pid_t)syscall(SYS_gettid);
  assert_int_equal(eddy_async_init(&loop, &block_wake, on_block_wake), 0);
  assert_int_equal(pthread_create(&prober, NULL, block_prober, &self), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(pthread_join(prober, NULL), 0);
  assert_true(probe_saw_wait);
  assert_true(probe_saw_pending);
  assert_false(probe_saw_taken);
  /* out of the wait, the thread's own mask lets it in */
  assert_int_equal(usr1_was_taken(), 1);
  assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_close_empty),
      cmocka_unit_test(test_close_busy_while_handle_open),
      cmocka_unit_test(test_default_loop),
      cmocka_unit_test(test_close_not_a_handle),
      cmocka_unit_test(test_phase_order),
      cmocka_unit_test(test_poll_timeout_zero_with_idle),
      cmocka_unit_test(test_poll_timeout_zero_with_closing),
      cmocka_unit_test(test_run_modes),
      cmocka_unit_test(test_stop),
      cmocka_unit_test(test_ref_unref),
      cmocka_unit_test(test_close_twice_and_flags),
      cmocka_unit_test(test_close_order_and_nested_close),
      cmocka_unit_test(test_walk),
      cmocka_unit_test(test_time),
      cmocka_unit_test(test_error_names),
      cmocka_unit_test(test_backend_from_environment),
      cmocka_unit_test(test_type_names),
      cmocka_unit_test(test_before_exit),
      cmocka_unit_test(test_init_keeps_data_and_success_message),
      cmocka_unit_test(test_closing_handles_refuse_calls),
      cmocka_unit_test(test_backend_fd_embedding),
      cmocka_unit_test(test_loop_configure_block_signal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
