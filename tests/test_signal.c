/* test_signal.c: signal handles, several per signal and several loops. */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "test_util.h"

static int calls_a, calls_b, last_signum;

static void on_signal_a(eddy_signal_t *s, int signum) {
  calls_a++;
  last_signum = signum;
  eddy_signal_stop(s);
}
static void on_signal_b(eddy_signal_t *s, int signum) {
  (void)signum;
  calls_b++;
  eddy_signal_stop(s);
}

static void test_two_handles_one_signal(void **state) {
  eddy_loop_t loop;
  eddy_signal_t a, b;

  (void)state;
  calls_a = calls_b = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_signal_init(&loop, &a), 0);
  assert_int_equal(eddy_signal_init(&loop, &b), 0);
  assert_int_equal(eddy_handle_get_type(&a.handle), EDDY_SIGNAL);
  assert_int_equal(eddy_signal_start(&a, on_signal_a, SIGUSR1), 0);
  assert_int_equal(eddy_signal_start(&b, on_signal_b, SIGUSR1), 0);
  assert_int_equal(a.signum, SIGUSR1);
  assert_int_equal(raise(SIGUSR1), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(calls_a, 1);
  assert_int_equal(calls_b, 1);
  assert_int_equal(last_signum, SIGUSR1);
  assert_int_equal(a.signum, 0);
  test_teardown_loop(&loop);
}

static void test_errors(void **state) {
  eddy_loop_t loop;
  eddy_signal_t s;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_signal_init(&loop, &s), 0);
  assert_int_equal(eddy_signal_start(&s, NULL, SIGUSR1), EDDY_EINVAL);
  assert_int_equal(eddy_signal_start(&s, on_signal_a, 0), EDDY_EINVAL);
  assert_int_equal(eddy_signal_start(&s, on_signal_a, NSIG), EDDY_EINVAL);
  assert_int_equal(eddy_signal_start(&s, on_signal_a, SIGKILL), EDDY_EINVAL);
  assert_int_equal(eddy_signal_start(&s, on_signal_a, SIGSTOP), EDDY_EINVAL);
  assert_int_equal(eddy_signal_stop(&s), 0); /* not started: no-op */
  eddy_close(&s.handle, NULL);
  assert_int_equal(eddy_signal_start(&s, on_signal_a, SIGUSR1), EDDY_EINVAL);
  test_teardown_loop(&loop);
}

/* The previous disposition comes back when the last handle stops. */
static void test_disposition_restored(void **state) {
  eddy_loop_t loop;
  eddy_signal_t s;
  struct sigaction before, during, after;

  (void)state;
  assert_int_equal(sigaction(SIGUSR2, NULL, &before), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_signal_init(&loop, &s), 0);
  assert_int_equal(eddy_signal_start(&s, on_signal_a, SIGUSR2), 0);
  assert_int_equal(sigaction(SIGUSR2, NULL, &during), 0);
  assert_ptr_not_equal(during.sa_handler, before.sa_handler);
  /* Switching the handle to another signal releases the first one. */
  assert_int_equal(eddy_signal_start(&s, on_signal_a, SIGHUP), 0);
  assert_int_equal(sigaction(SIGUSR2, NULL, &after), 0);
  assert_ptr_equal(after.sa_handler, before.sa_handler);
  test_teardown_loop(&loop);
}

/* A one-shot handle stops itself before its callback: a second signal is
 * not delivered to it. */
static void count_a(eddy_signal_t *s, int signum) {
  (void)s;
  (void)signum;
  calls_a++;
}

static void test_oneshot(void **state) {
  eddy_loop_t loop;
  eddy_signal_t once, keep;

  (void)state;
  calls_a = calls_b = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_signal_init(&loop, &once);
  eddy_signal_init(&loop, &keep);
  assert_int_equal(eddy_signal_start_oneshot(&once, count_a, SIGUSR1), 0);
  assert_int_equal(eddy_signal_start(&keep, on_signal_b, SIGUSR1), 0);
  eddy_unref(&keep.handle);
  raise(SIGUSR1);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(calls_a, 1);
  assert_false(eddy_is_active(&once.handle));
  test_teardown_loop(&loop);
}

static void close_in_cb(eddy_signal_t *s, int signum) {
  (void)signum;
  calls_a++;
  eddy_close(&s->handle, NULL);
}

static void test_close_in_callback(void **state) {
  eddy_loop_t loop;
  eddy_signal_t s;

  (void)state;
  calls_a = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  eddy_signal_init(&loop, &s);
  eddy_signal_start(&s, close_in_cb, SIGUSR1);
  raise(SIGUSR1);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(calls_a, 1);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* One signal reaches handles on two loops running in two threads. */
struct sigloop {
  eddy_loop_t loop;
  eddy_signal_t sig;
  eddy_async_t ready; /* tells main the loop is running */
  int got;
};
static unsigned loops_ready; /* atomic */

static void sigloop_cb(eddy_signal_t *s, int signum) {
  struct sigloop *l = s->handle.data;
  assert_int_equal(signum, SIGUSR1);
  l->got++;
  eddy_close(&s->handle, NULL);
}

static void sigloop_prepare_done(eddy_async_t *a) {
  eddy_close(&a->handle, NULL);
}

static void *run_sigloop(void *arg) {
  struct sigloop *l = arg;
  __atomic_fetch_add(&loops_ready, 1, __ATOMIC_SEQ_CST);
  eddy_run(&l->loop, EDDY_RUN_DEFAULT);
  return NULL;
}

static void test_signal_reaches_two_loops(void **state) {
  static struct sigloop l[2];
  pthread_t t[2];
  int i;

  (void)state;
  loops_ready = 0;
  for (i = 0; i < 2; i++) {
    l[i].got = 0;
    assert_int_equal(eddy_loop_init(&l[i].loop), 0);
    assert_int_equal(eddy_signal_init(&l[i].loop, &l[i].sig), 0);
    l[i].sig.handle.data = &l[i];
    assert_int_equal(eddy_signal_start(&l[i].sig, sigloop_cb, SIGUSR1), 0);
    eddy_async_init(&l[i].loop, &l[i].ready, sigloop_prepare_done);
  }
  for (i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, run_sigloop, &l[i]);
  /* The handlers are installed already; the signal may arrive before or
   * after a loop blocks: either way it is seen. */
  kill(getpid(), SIGUSR1);
  for (i = 0; i < 2; i++)
    eddy_async_send(&l[i].ready);
  for (i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  for (i = 0; i < 2; i++) {
    assert_int_equal(l[i].got, 1);
    assert_int_equal(eddy_loop_close(&l[i].loop), 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_handles_one_signal),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_disposition_restored),
      cmocka_unit_test(test_oneshot),
      cmocka_unit_test(test_close_in_callback),
      cmocka_unit_test(test_signal_reaches_two_loops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
