/* test_worker.c: worker threads: events and their order, exit codes,
 * error reports, terminate of a busy worker, workerData and env copies,
 * 100,000 messages in order between two threads, a worker terminated
 * with messages and pool jobs in flight, a port posted into a worker, and
 * shared buffers with atomic wait / notify. */
#include <sched.h>
#include <stdlib.h>

#include "test_util.h"

static struct test_log log_;
static eddy_worker_t worker;

/* Checks made on a worker's thread: a cmocka assert there would jump
 * into the test's thread, so they count failures instead, which the test
 * thread asserts to be none once the worker has ended. */
static unsigned worker_failures; /* atomic */
#define WCHECK(cond)                                                           \
  ((cond) ? (void)0                                                            \
          : (void)__atomic_fetch_add(&worker_failures, 1, __ATOMIC_RELAXED))
#define WCHECK_EQ(a, b) WCHECK((a) == (b))
static int exit_code;

static void on_online(eddy_worker_t *w) {
  (void)w;
  test_log_printf(&log_, "online\n");
}
static void on_message(eddy_worker_t *w, eddy_port_message_t *m) {
  (void)w;
  test_log_printf(&log_, "message %.*s\n", (int)m->bufs[0].len,
                  (const char *)m->bufs[0].base);
}
static void on_error(eddy_worker_t *w, int err, const char *message) {
  (void)w;
  test_log_printf(&log_, "error %s %s\n", eddy_err_name(err),
                  message != NULL ? message : "-");
}
static void on_exit_(eddy_worker_t *w, int code) {
  exit_code = code;
  test_log_printf(&log_, "exit %d\n", code);
  eddy_close(&w->handle, NULL);
}

static const eddy_worker_options_t logged = {
    .events = {on_online, on_message, on_error, on_exit_}, .name = "test"};

static int post_str(eddy_port_t *port, const char *s) {
  eddy_buf_t buf = eddy_buf_init((void *)s, strlen(s));

  return eddy_port_post(port, &buf, 0);
}

static void run_worker(eddy_worker_entry entry, const eddy_buf_t *data) {
  eddy_loop_t loop;

  memset(&log_, 0, sizeof(log_));
  exit_code = -1;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry, data, &logged), 0);
  assert_true(eddy_is_active(&worker.handle));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
  assert_int_equal(__atomic_load_n(&worker_failures, __ATOMIC_RELAXED), 0);
}

/* --- exit codes and errors ------------------------------------------------ */

/* Worker entries post what they see instead of asserting: a cmocka
 * failure must happen on the test's own thread. */
static int entry_hello(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_thread_t self = eddy_thread_self();
  char name[EDDY_THREAD_NAME_MAX];

  post_str(eddy_worker_parent_port(ctx),
           eddy_worker_self() == ctx ? "hello" : "not self");
  post_str(eddy_worker_parent_port(ctx), (const char *)data->base);
  if (eddy_thread_getname(&self, name, sizeof(name)) == 0)
    post_str(eddy_worker_parent_port(ctx), name);
  return 0; /* nothing keeps its loop alive: exit 0 */
}

static void test_events_in_order(void **state) {
  char data[] = "data";
  eddy_buf_t buf = eddy_buf_init(data, sizeof(data));

  (void)state;
  run_worker(entry_hello, &buf);
  assert_string_equal(log_.buf,
                      "online\nmessage hello\nmessage data\nmessage test\n"
                      "exit 0\n");
}

static int entry_exit7(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  (void)data;
  WCHECK_EQ(post_str(eddy_worker_parent_port(ctx), "bye"), 0);
  WCHECK_EQ(eddy_worker_exit(7), 0);
  WCHECK(eddy_worker_should_stop());
  return 0;
}

static void test_exit_code(void **state) {
  (void)state;
  run_worker(entry_exit7, NULL);
  assert_string_equal(log_.buf, "online\nmessage bye\nexit 7\n");
}

static void report_later(eddy_timer_t *t) {
  WCHECK_EQ(eddy_worker_report_error(EDDY_ENOENT, "boom"), 0);
  WCHECK_EQ(eddy_worker_report_error(EDDY_EIO, "second"), 0);
  (void)t;
}
static eddy_timer_t worker_timer;
static int entry_error(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  (void)data;
  WCHECK_EQ(eddy_worker_report_error(0, NULL), EDDY_EINVAL);
  WCHECK_EQ(eddy_timer_init(eddy_worker_loop(ctx), &worker_timer), 0);
  WCHECK_EQ(eddy_timer_start(&worker_timer, report_later, 1, 1), 0);
  return 0;
}

static int entry_fails(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  (void)ctx;
  (void)data;
  return EDDY_EACCES;
}

static void test_errors_reported(void **state) {
  (void)state;
  run_worker(entry_error, NULL);
  assert_string_equal(log_.buf, "online\nerror ENOENT boom\nexit 1\n");
  run_worker(entry_fails, NULL);
  assert_string_equal(log_.buf, "online\nerror EACCES -\nexit 1\n");
}

/* --- terminate ------------------------------------------------------------ */

static int entry_spin(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  (void)data;
  WCHECK_EQ(post_str(eddy_worker_parent_port(ctx), "spinning"), 0);
  while (!eddy_worker_should_stop())
    ;
  return 0;
}

static void terminate_on_message(eddy_worker_t *w, eddy_port_message_t *m) {
  on_message(w, m);
  assert_int_equal(eddy_worker_terminate(w), 0);
  assert_int_equal(eddy_worker_terminate(w), 0);
}

static void run_terminated(eddy_worker_entry entry) {
  eddy_worker_options_t opts = logged;
  eddy_loop_t loop;

  memset(&log_, 0, sizeof(log_));
  opts.events.message = terminate_on_message;
  opts.stack_size = 256 * 1024;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry, NULL, &opts), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* A worker spinning in its own code, checking should_stop. */
static void test_terminate_spinning(void **state) {
  (void)state;
  run_terminated(entry_spin);
  assert_string_equal(log_.buf, "online\nmessage spinning\nexit 1\n");
}

/* A worker that never checks should_stop: a repeating timer posting, a
 * pool job out. Its handles' memory is the program's (static here): the
 * library closes them when the worker ends. */
static eddy_timer_t tick_timer;
static eddy_work_t slow_req;
static int slow_done_status;
static void tick(eddy_timer_t *t) {
  (void)t;
  post_str(eddy_worker_parent_port(eddy_worker_self()), "tick");
}
static void slow_work(eddy_work_t *req) {
  (void)req;
  usleep(20000);
}
static void slow_done(eddy_work_t *req, int status) {
  (void)req;
  slow_done_status = status;
}
static int entry_ticking(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_loop_t *loop = eddy_worker_loop(ctx);

  (void)data;
  slow_done_status = 1;
  WCHECK_EQ(eddy_timer_init(loop, &tick_timer), 0);
  WCHECK_EQ(eddy_timer_start(&tick_timer, tick, 0, 1), 0);
  WCHECK_EQ(eddy_queue_work(loop, &slow_req, slow_work, slow_done), 0);
  return 0;
}

static void test_terminate_non_checking(void **state) {
  (void)state;
  run_terminated(entry_ticking);
  assert_true(strncmp(log_.buf, "online\nmessage tick\n", 20) == 0);
  assert_int_equal(exit_code, 1);
  assert_true(slow_done_status == 0 || slow_done_status == EDDY_ECANCELED);
}

/* Messages queued to a terminated worker (copied and transferred) are
 * freed with it: ASan's leak check is the assertion. */
static void test_terminate_with_messages(void **state) {
  eddy_worker_options_t opts = logged;
  eddy_loop_t loop;
  int i;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  opts.events.message = terminate_on_message;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_spin, NULL, &opts),
                   0);
  for (i = 0; i < 1000; i++) {
    char big[2048];
    eddy_buf_t buf = eddy_buf_init(big, sizeof(big));

    memset(big, 'x', sizeof(big));
    assert_int_equal(eddy_worker_post(&worker, &buf, 0), 0);
  }
  {
    void *moved = malloc(1 << 20);
    eddy_buf_t buf = eddy_buf_init(moved, 1 << 20);

    assert_int_equal(eddy_worker_post(&worker, &buf, EDDY_PORT_TRANSFER), 0);
    assert_null(buf.base);
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(exit_code, 1);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* --- many messages, both ways --------------------------------------------- */

#define MANY 100000
static unsigned next_expected, sent, drains_seen;

static void ignore_message(eddy_port_t *port, eddy_port_message_t *m);
static void send_more(eddy_port_t *port) {
  if (sent > 0)
    drains_seen++; /* called again: as the drain callback */
  while (sent < MANY) {
    uint32_t n = sent;
    eddy_buf_t buf = eddy_buf_init(&n, sizeof(n));
    int err = eddy_port_post(port, &buf, 0);

    if (err == EDDY_EAGAIN)
      return; /* the drain callback comes back here */
    WCHECK_EQ(err, 0);
    sent++;
  }
  eddy_port_stop(port);
}

static void ignore_message(eddy_port_t *port, eddy_port_message_t *m) {
  (void)port;
  (void)m;
}

static int entry_many(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_port_t *port = eddy_worker_parent_port(ctx);

  (void)data;
  sent = 0;
  drains_seen = 0;
  eddy_port_set_drain_cb(port, send_more);
  /* Receiving keeps the port, so the loop, alive for the drain callback;
   * send_more stops it when all is sent. */
  eddy_port_start(port, ignore_message);
  send_more(port);
  return 0;
}

static void count_in_order(eddy_worker_t *w, eddy_port_message_t *m) {
  uint32_t n;

  (void)w;
  assert_int_equal(m->bufs[0].len, sizeof(n));
  memcpy(&n, m->bufs[0].base, sizeof(n));
  assert_int_equal(n, next_expected);
  next_expected++;
}

static void test_many_in_order(void **state) {
  eddy_worker_options_t opts = logged;
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  next_expected = 0;
  opts.events.message = count_in_order;
  opts.events.online = NULL;
  opts.queue_limit = 64; /* the sender must wait for its drain callback */
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_many, NULL, &opts),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(next_expected, MANY);
  assert_int_equal(exit_code, 0);
  assert_true(drains_seen > 0); /* read after the join: no race */
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* --- data, env, ports into a worker, close -----------------------------------
 */

static int entry_echo(eddy_worker_ctx_t *ctx, const eddy_buf_t *data);
static void echo_back(eddy_port_t *port, eddy_port_message_t *m) {
  eddy_port_t *parent = eddy_worker_parent_port(eddy_worker_self());

  if (m->nports == 1) {
    /* A port from the parent: answer on it, then close it. */
    static eddy_port_t got;

    WCHECK_EQ(eddy_port_accept(m, 0, port->handle.loop, &got), 0);
    WCHECK_EQ(post_str(&got, "over the sent port"), 0);
    eddy_close(&got.handle, NULL);
    return;
  }
  if (m->bufs[0].len == 4 && memcmp(m->bufs[0].base, "quit", 4) == 0) {
    eddy_close(&port->handle, NULL);
    return;
  }
  WCHECK_EQ(eddy_port_postv(parent, m->bufs, m->nbufs, NULL, 0, 0), 0);
}
static int entry_echo(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  const char *env = eddy_worker_getenv("EDDY_TEST_WORKER_ENV");

  WCHECK_EQ(post_str(eddy_worker_parent_port(ctx), (const char *)data->base),
            0);
  WCHECK_EQ(post_str(eddy_worker_parent_port(ctx), env != NULL ? env : "unset"),
            0);
  return eddy_port_start(eddy_worker_parent_port(ctx), echo_back);
}

/* workerData and the environment are copies taken at start; a port posted
 * to the worker works from there; the worker ends when it closes its port. */
static eddy_port_t mine, theirs;
static void on_mine(eddy_port_t *port, eddy_port_message_t *m) {
  test_log_printf(&log_, "mine %.*s\n", (int)m->bufs[0].len,
                  (const char *)m->bufs[0].base);
  eddy_close(&port->handle, NULL);
  {
    eddy_buf_t quit = eddy_buf_init("quit", 4);

    assert_int_equal(eddy_worker_post(&worker, &quit, 0), 0);
  }
}

static void test_copies_and_ports(void **state) {
  char data[] = "start data";
  eddy_buf_t buf = eddy_buf_init(data, sizeof(data));
  eddy_port_t *list[1] = {&theirs};
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  setenv("EDDY_TEST_WORKER_ENV", "copied", 1);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_echo, &buf, &logged),
                   0);
  data[0] = 'X';
  setenv("EDDY_TEST_WORKER_ENV", "changed", 1);
  assert_int_equal(eddy_port_pair(&loop, &mine, &theirs), 0);
  assert_int_equal(eddy_port_start(&mine, on_mine), 0);
  assert_int_equal(eddy_worker_postv(&worker, NULL, 0, list, 1, 0), 0);
  eddy_close(&theirs.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  /* Two channels: each keeps its order, not one with the other. */
  assert_true(strncmp(log_.buf, "online\nmessage start data\n", 26) == 0);
  assert_non_null(strstr(log_.buf, "\nmessage copied\n"));
  assert_non_null(strstr(log_.buf, "\nmine over the sent port\n"));
  assert_int_equal(strlen(log_.buf), strlen("online\nmessage start data\n"
                                            "message copied\nmine over the "
                                            "sent port\nexit 0\n"));
  assert_non_null(strstr(log_.buf, "\nexit 0\n"));
  assert_int_equal(eddy_loop_close(&loop), 0);
  unsetenv("EDDY_TEST_WORKER_ENV");
}

/* eddy_close on a running worker stops it and waits; no event after. */
static void test_close_running(void **state) {
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_spin, NULL, &logged),
                   0);
  assert_int_equal(eddy_close(&worker.handle, NULL), 0);
  assert_int_equal(eddy_worker_terminate(&worker), EDDY_EINVAL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(log_.len, 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

static void test_api_errors(void **state) {
  eddy_loop_t loop;
  eddy_worker_options_t bad = logged;
  eddy_buf_t nobase = eddy_buf_init(NULL, 3);

  (void)state;
  bad.env = 9;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(NULL, &worker, entry_hello, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_worker_start(&loop, NULL, entry_hello, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_worker_start(&loop, &worker, NULL, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_hello, NULL, &bad),
                   EDDY_EINVAL);
  assert_int_equal(
      eddy_worker_start(&loop, &worker, entry_hello, &nobase, NULL),
      EDDY_EINVAL);
  assert_int_equal(eddy_worker_post(NULL, NULL, 0), EDDY_EINVAL);
  assert_int_equal(eddy_worker_terminate(NULL), EDDY_EINVAL);
  assert_null(eddy_worker_self());
  assert_null(eddy_worker_loop(NULL));
  assert_null(eddy_worker_parent_port(NULL));
  assert_int_equal(eddy_worker_exit(0), EDDY_EINVAL);
  assert_false(eddy_worker_should_stop());
  assert_int_equal(eddy_worker_report_error(EDDY_EIO, "x"), EDDY_EINVAL);
  assert_null(eddy_worker_getenv(NULL));
  assert_non_null(eddy_worker_getenv("PATH"));
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* --- shared buffers
 * ----------------------------------------------------------- */

#define ADDERS 4
#define ADDS 10000
static eddy_shared_buffer_t *shared;

static int entry_add(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_shared_buffer_t *buf;
  uint32_t *words;
  int i;

  (void)ctx;
  memcpy(&buf, data->base, sizeof(buf));
  words = eddy_shared_buffer_data(buf);
  for (i = 0; i < ADDS; i++)
    __atomic_fetch_add(&words[0], 1, __ATOMIC_RELAXED);
  eddy_shared_buffer_unref(buf);
  return 0;
}

static int entry_waiter(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_shared_buffer_t *buf;
  uint32_t *words;
  char answer[32];

  memcpy(&buf, data->base, sizeof(buf));
  words = eddy_shared_buffer_data(buf);
  /* No cmocka assert off the test's thread: the results go back. */
  int ne = eddy_atomic_wait(&words[1], 5, 0);
  int to = eddy_atomic_wait(&words[1], 0, 1000000);

  __atomic_store_n(&words[2], 1, __ATOMIC_SEQ_CST); /* about to wait */
  while (__atomic_load_n(&words[1], __ATOMIC_ACQUIRE) == 0)
    eddy_atomic_wait(&words[1], 0, -1);
  snprintf(answer, sizeof(answer), "%d %d woken %u", ne, to,
           __atomic_load_n(&words[1], __ATOMIC_ACQUIRE));
  post_str(eddy_worker_parent_port(ctx), answer);
  eddy_shared_buffer_unref(buf);
  return 0;
}

static unsigned exits;
static void count_exit(eddy_worker_t *w, int code) {
  assert_int_equal(code, 0);
  exits++;
  eddy_close(&w->handle, NULL);
}

static void test_shared_counter_and_wait(void **state) {
  eddy_worker_options_t opts = logged;
  eddy_worker_t adders[ADDERS];
  eddy_loop_t loop;
  uint32_t *words;
  int i;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  exits = 0;
  opts.events.exit = count_exit;
  opts.events.online = NULL;
  opts.env = EDDY_WORKER_ENV_SHARE;
  shared = eddy_shared_buffer_new(64);
  assert_non_null(shared);
  assert_int_equal(eddy_shared_buffer_len(shared), 64);
  assert_int_equal((uintptr_t)eddy_shared_buffer_data(shared) % 64, 0);
  words = eddy_shared_buffer_data(shared);
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i <= ADDERS; i++) {
    eddy_shared_buffer_t *ref = eddy_shared_buffer_ref(shared);
    eddy_buf_t data = eddy_buf_init(&ref, sizeof(ref));

    assert_int_equal(eddy_worker_start(&loop, i < ADDERS ? &adders[i] : &worker,
                                       i < ADDERS ? entry_add : entry_waiter,
                                       &data, &opts),
                     0);
  }
  /* Wake the waiter once it is waiting: notify until it counted one. */
  while (__atomic_load_n(&words[2], __ATOMIC_SEQ_CST) == 0)
    sched_yield();
  /* A waiter not asleep yet sees the new value and does not sleep. */
  __atomic_store_n(&words[1], 42, __ATOMIC_RELEASE);
  assert_true(eddy_atomic_notify(&words[1], 1) <= 1);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(exits, ADDERS + 1);
  assert_int_equal(words[0], ADDERS * ADDS);
  assert_string_equal(log_.buf, "message 1 2 woken 42\n");
  assert_int_equal(eddy_shared_buffer_refs(shared), 1);
  eddy_shared_buffer_unref(shared);
  assert_null(eddy_shared_buffer_ref(NULL));
  assert_null(eddy_shared_buffer_new(SIZE_MAX));
  assert_int_equal(eddy_shared_buffer_refs(NULL), 0);
  eddy_shared_buffer_unref(NULL);
  assert_int_equal(eddy_shared_buffer_len(NULL), 0);
  assert_null(eddy_shared_buffer_data(NULL));
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* --- a port made in a worker, posted to the parent ------------------------ */

static eddy_port_t w_keep, w_send, p_got;
static int w_errors;
static void w_reply(eddy_port_t *port, eddy_port_message_t *m) {
  (void)m;
  if (post_str(port, "pong") != 0)
    w_errors++;
  eddy_close(&port->handle, NULL);
}
static int entry_make_port(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_port_t *list[1] = {&w_send};

  (void)data;
  w_errors = 0;
  if (eddy_port_pair(eddy_worker_loop(ctx), &w_keep, &w_send) != 0 ||
      eddy_port_start(&w_keep, w_reply) != 0 ||
      eddy_port_postv(eddy_worker_parent_port(ctx), NULL, 0, list, 1, 0) != 0)
    w_errors++;
  eddy_close(&w_send.handle, NULL);
  return 0;
}
static void p_pong(eddy_port_t *port, eddy_port_message_t *m) {
  test_log_printf(&log_, "got %.*s\n", (int)m->bufs[0].len,
                  (const char *)m->bufs[0].base);
  (void)port;
}
static void p_close(eddy_port_t *port) {
  test_log_printf(&log_, "close\n");
  eddy_close(&port->handle, NULL);
}
static void p_accept(eddy_worker_t *w, eddy_port_message_t *m) {
  (void)w;
  assert_int_equal(m->nports, 1);
  assert_int_equal(eddy_port_accept(m, 0, w->handle.loop, &p_got), 0);
  assert_int_equal(eddy_port_start(&p_got, p_pong), 0);
  assert_int_equal(eddy_port_set_close_cb(&p_got, p_close), 0);
  assert_int_equal(post_str(&p_got, "ping"), 0);
}
static void exit_then_post(eddy_worker_t *w, int code) {
  eddy_buf_t buf = eddy_buf_init("late", 4);

  assert_int_equal(eddy_worker_post(w, &buf, 0), EDDY_EPIPE);
  on_exit_(w, code);
}

static void test_port_from_worker(void **state) {
  eddy_worker_options_t opts = logged;
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  opts.events.online = NULL;
  opts.events.message = p_accept;
  opts.events.exit = exit_then_post;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(
      eddy_worker_start(&loop, &worker, entry_make_port, NULL, &opts), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w_errors, 0);
  /* The pong and the close come over the accepted port; exit over the
   * worker: two channels, so only each one's own order is fixed. */
  assert_non_null(strstr(log_.buf, "got pong\n"));
  assert_non_null(strstr(log_.buf, "close\n"));
  assert_true(strstr(log_.buf, "got pong\n") < strstr(log_.buf, "close\n"));
  assert_non_null(strstr(log_.buf, "exit 0\n"));
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* An unreferenced worker does not keep the parent's loop; closing it
 * stops it and waits for its thread. */
static void test_unref(void **state) {
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_spin, NULL, &logged),
                   0);
  eddy_unref(&worker.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_close(&worker.handle, NULL), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* With EDDY_WORKER_ENV_SHARE the worker reads the process's environment
 * as it is now. */
static int entry_env(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  const char *v = eddy_worker_getenv("EDDY_TEST_WORKER_ENV");

  (void)data;
  post_str(eddy_worker_parent_port(ctx), v != NULL ? v : "unset");
  return 0;
}

static void test_env_shared(void **state) {
  eddy_worker_options_t opts = logged;
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  opts.env = EDDY_WORKER_ENV_SHARE;
  opts.events.online = NULL;
  setenv("EDDY_TEST_WORKER_ENV", "shared", 1);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_env, NULL, &opts),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(log_.buf, "message shared\nexit 0\n");
  assert_int_equal(eddy_loop_close(&loop), 0);
  unsetenv("EDDY_TEST_WORKER_ENV");
}

/* Terminated at once, perhaps before it ran anything: exit 1 all the
 * same. */
static void test_terminate_at_start(void **state) {
  eddy_loop_t loop;

  (void)state;
  memset(&log_, 0, sizeof(log_));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_worker_start(&loop, &worker, entry_spin, NULL, &logged),
                   0);
  assert_int_equal(eddy_worker_terminate(&worker), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(exit_code, 1);
  assert_non_null(strstr(log_.buf, "exit 1\n"));
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Every check a worker made held. */
static int no_worker_failures(void **state) {
  (void)state;
  assert_int_equal(__atomic_load_n(&worker_failures, __ATOMIC_RELAXED), 0);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_events_in_order, no_worker_failures),
      cmocka_unit_test_teardown(test_exit_code, no_worker_failures),
      cmocka_unit_test_teardown(test_errors_reported, no_worker_failures),
      cmocka_unit_test_teardown(test_terminate_spinning, no_worker_failures),
      cmocka_unit_test_teardown(test_terminate_non_checking,
                                no_worker_failures),
      cmocka_unit_test_teardown(test_terminate_with_messages,
                                no_worker_failures),
      cmocka_unit_test_teardown(test_many_in_order, no_worker_failures),
      cmocka_unit_test_teardown(test_copies_and_ports, no_worker_failures),
      cmocka_unit_test_teardown(test_close_running, no_worker_failures),
      cmocka_unit_test_teardown(test_api_errors, no_worker_failures),
      cmocka_unit_test_teardown(test_shared_counter_and_wait,
                                no_worker_failures),
      cmocka_unit_test_teardown(test_port_from_worker, no_worker_failures),
      cmocka_unit_test_teardown(test_terminate_at_start, no_worker_failures),
      cmocka_unit_test_teardown(test_unref, no_worker_failures),
      cmocka_unit_test_teardown(test_env_shared, no_worker_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
