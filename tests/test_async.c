/* test_async.c: async handles: cross-thread wake-ups and coalescing. */
#include <pthread.h>

#include "test_util.h"

#define SENDERS 4
#define SENDS_PER_THREAD 10000

static eddy_async_t async;
static unsigned callbacks;
static unsigned done_senders; /* atomic */

static void *sender(void *arg) {
  int i;

  (void)arg;
  for (i = 0; i < SENDS_PER_THREAD; i++)
    eddy_async_send(&async);
  __atomic_fetch_add(&done_senders, 1, __ATOMIC_SEQ_CST);
  eddy_async_send(&async); /* the last word: the loop sees the count */
  return NULL;
}

static void on_async(eddy_async_t *h) {
  callbacks++;
  if (__atomic_load_n(&done_senders, __ATOMIC_SEQ_CST) == SENDERS)
    eddy_close(&h->handle, NULL);
}

/* 40,000 sends from 4 threads coalesce into far fewer callbacks, and the
 * last send after every thread finished is never lost. */
static void test_coalescing_from_threads(void **state) {
  eddy_loop_t loop;
  pthread_t threads[SENDERS];
  int i;

  (void)state;
  callbacks = 0;
  done_senders = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_async_init(&loop, &async, on_async), 0);
  assert_int_equal(eddy_handle_get_type(&async.handle), EDDY_ASYNC);
  assert_true(eddy_is_active(&async.handle));
  for (i = 0; i < SENDERS; i++)
    assert_int_equal(pthread_create(&threads[i], NULL, sender, NULL), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  for (i = 0; i < SENDERS; i++)
    pthread_join(threads[i], NULL);
  assert_true(callbacks >= 1);
  assert_true(callbacks <= SENDERS * SENDS_PER_THREAD);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

/* Several sends before the loop runs: one callback. */
static void count_async(eddy_async_t *h) {
  (void)h;
  callbacks++;
}

static void test_coalescing_same_thread(void **state) {
  eddy_loop_t loop;
  eddy_async_t a;

  (void)state;
  callbacks = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_async_init(&loop, &a, count_async), 0);
  assert_int_equal(eddy_async_send(&a), 0);
  assert_int_equal(eddy_async_send(&a), 0);
  assert_int_equal(eddy_async_send(&a), 0);
  eddy_run(&loop, EDDY_RUN_ONCE);
  assert_int_equal(callbacks, 1);
  /* Nothing pending now: a NOWAIT run calls nothing. */
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(callbacks, 1);
  test_teardown_loop(&loop);
}

/* An async handle keeps the loop alive until closed or unreferenced. */
static void test_ref_and_close_in_callback(void **state) {
  eddy_loop_t loop;
  eddy_async_t a, b;

  (void)state;
  callbacks = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_async_init(&loop, &a, count_async), 0);
  assert_int_equal(eddy_async_init(&loop, &b, NULL), 0); /* NULL cb is ok */
  eddy_unref(&a.handle);
  eddy_unref(&b.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  eddy_ref(&a.handle);
  assert_true(eddy_loop_alive(&loop));
  eddy_async_send(&b);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 1);
  assert_int_equal(callbacks, 0);
  test_teardown_loop(&loop);
}

/* Two loops on two threads, each woken by the other's thread. */
struct ping {
  eddy_loop_t loop;
  eddy_async_t async;
  struct ping *peer;
  int count;
};
#define PINGS 1000

/* Strict alternation A1 B1 A2 B2 ... A closes after its last send; B
 * closes at its last ping without sending, so no send ever reaches a
 * closed handle. */
static void on_ping_a(eddy_async_t *h) {
  struct ping *p = h->handle.data;

  p->count++;
  eddy_async_send(&p->peer->async);
  if (p->count == PINGS)
    eddy_close(&h->handle, NULL);
}

static void on_ping_b(eddy_async_t *h) {
  struct ping *p = h->handle.data;

  if (++p->count == PINGS)
    eddy_close(&h->handle, NULL);
  else
    eddy_async_send(&p->peer->async);
}

static void *run_ping(void *arg) {
  struct ping *p = arg;
  eddy_run(&p->loop, EDDY_RUN_DEFAULT);
  return NULL;
}

static void test_ping_pong_between_loops(void **state) {
  static struct ping a, b;
  pthread_t ta, tb;

  (void)state;
  a.peer = &b;
  b.peer = &a;
  a.count = b.count = 0;
  assert_int_equal(eddy_loop_init(&a.loop), 0);
  assert_int_equal(eddy_loop_init(&b.loop), 0);
  eddy_async_init(&a.loop, &a.async, on_ping_a);
  eddy_async_init(&b.loop, &b.async, on_ping_b);
  a.async.handle.data = &a;
  b.async.handle.data = &b;
  pthread_create(&ta, NULL, run_ping, &a);
  pthread_create(&tb, NULL, run_ping, &b);
  eddy_async_send(&a.async);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  assert_int_equal(a.count, PINGS);
  assert_int_equal(b.count, PINGS);
  assert_int_equal(eddy_loop_close(&a.loop), 0);
  assert_int_equal(eddy_loop_close(&b.loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_coalescing_from_threads),
      cmocka_unit_test(test_coalescing_same_thread),
      cmocka_unit_test(test_ref_and_close_in_callback),
      cmocka_unit_test(test_ping_pong_between_loops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
