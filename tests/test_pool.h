/* test_pool.h: occupy work-pool threads on purpose. A gate is a condition
 * the jobs queued through it wait on: the test learns when they have
 * started, and releases them. With every pool thread inside a gate, later
 * jobs cannot start, which makes queue states deterministic. */
#ifndef EDDY_TEST_POOL_H
#define EDDY_TEST_POOL_H

#include <pthread.h>

#include "test_util.h"

#define TEST_GATE_MAX 64

struct test_gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned started;
  unsigned finished; /* after-work callbacks run, on the loop thread */
  int released;
  eddy_work_t reqs[TEST_GATE_MAX];
};

static inline void test_gate_init(struct test_gate *g) {
  memset(g, 0, sizeof(*g));
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
}

static inline void test_gate_destroy(struct test_gate *g) {
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->cv);
}

/* On a pool thread: count in, then wait until the gate is released. */
static inline void test_gate_enter(struct test_gate *g) {
  pthread_mutex_lock(&g->mu);
  g->started++;
  pthread_cond_broadcast(&g->cv);
  while (!g->released)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static void test_gate_work(eddy_work_t *req) {
  test_gate_enter(req->req.data);
}

static void test_gate_after(eddy_work_t *req, int status) {
  struct test_gate *g = req->req.data;

  assert_int_equal(status, 0);
  g->finished++;
}

/* Queue n jobs that wait at the gate, and wait until all have started. */
static inline void test_gate_occupy(struct test_gate *g, eddy_loop_t *loop,
                                    unsigned n) {
  unsigned i;

  assert_true(n <= TEST_GATE_MAX);
  for (i = 0; i < n; i++) {
    g->reqs[i].req.data = g;
    assert_int_equal(
        eddy_queue_work(loop, &g->reqs[i], test_gate_work, test_gate_after),
        0);
  }
  pthread_mutex_lock(&g->mu);
  while (g->started < n)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

/* Occupy every pool thread. */
static inline unsigned test_gate_occupy_pool(struct test_gate *g,
                                             eddy_loop_t *loop) {
  int n = eddy_threadpool_size();

  assert_true(n > 0);
  test_gate_occupy(g, loop, (unsigned)n);
  return (unsigned)n;
}

static inline void test_gate_release(struct test_gate *g) {
  pthread_mutex_lock(&g->mu);
  g->released = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

#endif /* EDDY_TEST_POOL_H */
