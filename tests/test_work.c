/* test_work.c: the work pool: eddy_queue_work, cancellation, liveness,
 * submission from pool threads, many loops, slow-job cap, crypto jobs. */
#include <pthread.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "core/phases.h"
#include "pool/work_internal.h"
#include "test_pool.h"

/* ---- one job ------------------------------------------------------------ */

struct job_record {
  pthread_t loop_thread;
  pthread_t work_thread;
  int work_ran;
  int after_ran;
  int status;
  int alive_in_after;
};

static void record_work(eddy_work_t *req) {
  struct job_record *r = req->req.data;

  r->work_thread = pthread_self();
  r->work_ran++;
}

static void record_after(eddy_work_t *req, int status) {
  struct job_record *r = req->req.data;

  assert_true(pthread_equal(pthread_self(), r->loop_thread));
  r->after_ran++;
  r->status = status;
}

/* The work runs on a pool thread, the completion on the loop thread with
 * status 0; the job alone keeps the loop alive and busy. */
static void test_queue_work_runs_on_pool(void **state) {
  eddy_loop_t loop;
  eddy_work_t req;
  struct job_record r = {0};

  (void)state;
  r.loop_thread = pthread_self();
  req.req.data = &r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_work(&loop, &req, record_work, record_after), 0);
  assert_int_equal(req.req.type, EDDY_WORK);
  assert_ptr_equal(req.loop, &loop);
  assert_true(eddy_loop_alive(&loop));
  assert_int_equal(eddy_loop_close(&loop), EDDY_EBUSY);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.work_ran, 1);
  assert_int_equal(r.after_ran, 1);
  assert_int_equal(r.status, 0);
  assert_false(pthread_equal(r.work_thread, r.loop_thread));
  assert_false(eddy_loop_alive(&loop));
  assert_int_equal(eddy_loop_close(&loop), 0);
}

static void test_queue_work_errors(void **state) {
  eddy_loop_t loop;
  eddy_work_t req;
  eddy_req_t bogus = {NULL, EDDY_UNKNOWN_REQ, {NULL}};

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_work(&loop, &req, NULL, record_after),
                   EDDY_EINVAL);
  assert_false(eddy_loop_alive(&loop));
  assert_int_equal(eddy_cancel(&bogus), EDDY_EINVAL);
  test_assert_loop_clean(&loop);
}

static int null_after_count;
static void count_work(eddy_work_t *req) {
  (void)req;
  __atomic_fetch_add(&null_after_count, 1, __ATOMIC_RELAXED);
}

/* after_work_cb may be NULL: the job still runs and still keeps the loop
 * alive until it is done. */
static void test_queue_work_null_after(void **state) {
  eddy_loop_t loop;
  eddy_work_t req;

  (void)state;
  null_after_count = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_work(&loop, &req, count_work, NULL), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(null_after_count, 1);
  test_assert_loop_clean(&loop);
}

/* ---- cancellation and a saturated pool --------------------------------- */

/* A job queued behind a full pool has not started: cancel succeeds once,
 * its work never runs and its completion reports ECANCELED. Running and
 * finished jobs cannot be cancelled. */
static void test_cancel_queued_job(void **state) {
  eddy_loop_t loop;
  struct test_gate gate;
  eddy_work_t req;
  struct job_record r = {0};
  unsigned n;

  (void)state;
  r.loop_thread = pthread_self();
  req.req.data = &r;
  test_gate_init(&gate);
  assert_int_equal(eddy_loop_init(&loop), 0);
  n = test_gate_occupy_pool(&gate, &loop);
  assert_int_equal(eddy_queue_work(&loop, &req, record_work, record_after), 0);
  assert_int_equal(eddy_cancel(&gate.reqs[0].req), EDDY_EBUSY); /* running */
  assert_int_equal(eddy_cancel(&req.req), 0);
  assert_int_equal(eddy_cancel(&req.req), EDDY_EBUSY); /* already */
  /* The cancelled completion arrives while the pool is still blocked. */
  while (r.after_ran == 0)
    eddy_run(&loop, EDDY_RUN_ONCE);
  assert_int_equal(r.status, EDDY_ECANCELED);
  assert_int_equal(r.work_ran, 0);
  assert_int_equal(gate.finished, 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(gate.finished, n);
  assert_int_equal(eddy_cancel(&gate.reqs[0].req), EDDY_EBUSY); /* done */
  assert_int_equal(r.work_ran, 0);
  test_assert_loop_clean(&loop);
  test_gate_destroy(&gate);
}

/* Node's saturation experiment: with every thread blocked, a later job
 * does not start however long the loop runs; with one thread free, it
 * runs at once. */
static void test_blocked_pool_stalls_later_jobs(void **state) {
  eddy_loop_t loop;
  struct test_gate gate;
  eddy_work_t req;
  struct job_record r = {0};
  int i;

  (void)state;
  r.loop_thread = pthread_self();
  req.req.data = &r;
  test_gate_init(&gate);
  assert_int_equal(eddy_loop_init(&loop), 0);
  test_gate_occupy_pool(&gate, &loop);
  assert_int_equal(eddy_queue_work(&loop, &req, record_work, record_after), 0);
  for (i = 0; i < 10; i++)
    eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(r.work_ran, 0); /* cannot have started: no free thread */
  test_gate_release(&gate);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.work_ran, 1);
  assert_int_equal(r.status, 0);
  test_assert_loop_clean(&loop);
  test_gate_destroy(&gate);
}

static void test_one_free_thread_runs_job(void **state) {
  eddy_loop_t loop;
  struct test_gate gate;
  eddy_work_t req;
  struct job_record r = {0};
  int n = eddy_threadpool_size();

  (void)state;
  if (n < 2)
    skip();
  r.loop_thread = pthread_self();
  req.req.data = &r;
  test_gate_init(&gate);
  assert_int_equal(eddy_loop_init(&loop), 0);
  test_gate_occupy(&gate, &loop, (unsigned)n - 1);
  assert_int_equal(eddy_queue_work(&loop, &req, record_work, record_after), 0);
  while (r.after_ran == 0)
    eddy_run(&loop, EDDY_RUN_ONCE);
  assert_int_equal(r.status, 0);
  assert_int_equal(gate.finished, 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  test_assert_loop_clean(&loop);
  test_gate_destroy(&gate);
}

/* ---- volume, resubmission, threads ------------------------------------- */

#define CHAIN_JOBS 20000
#define CHAIN_INFLIGHT 64

struct chain {
  eddy_work_t reqs[CHAIN_INFLIGHT];
  unsigned char ran[CHAIN_JOBS];
  unsigned submitted;
  unsigned completed;
  int job_of[CHAIN_INFLIGHT];
};

static void chain_work(eddy_work_t *req) {
  struct chain *c = req->req.data;
  int slot = (int)(req - c->reqs);

  c->ran[c->job_of[slot]]++;
}

static void chain_after(eddy_work_t *req, int status) {
  struct chain *c = req->req.data;
  int slot = (int)(req - c->reqs);

  assert_int_equal(status, 0);
  c->completed++;
  if (c->submitted < CHAIN_JOBS) {
    c->job_of[slot] = (int)c->submitted++;
    assert_int_equal(
        eddy_queue_work(req->loop, req, chain_work, chain_after), 0);
  }
}

static void chain_start(struct chain *c, eddy_loop_t *loop) {
  int i;

  memset(c, 0, sizeof(*c));
  for (i = 0; i < CHAIN_INFLIGHT; i++) {
    c->reqs[i].req.data = c;
    c->job_of[i] = (int)c->submitted++;
    assert_int_equal(eddy_queue_work(loop, &c->reqs[i], chain_work,
                                     chain_after),
                     0);
  }
}

static void chain_check(const struct chain *c) {
  int i;

  assert_int_equal(c->completed, CHAIN_JOBS);
  for (i = 0; i < CHAIN_JOBS; i++)
    assert_int_equal(c->ran[i], 1);
}

/* 20,000 jobs, 64 in flight, each resubmitted from its completion: every
 * job runs exactly once and every completion arrives. */
static void test_resubmit_from_completion(void **state) {
  eddy_loop_t loop;
  static struct chain c;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  chain_start(&c, &loop);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  chain_check(&c);
  test_assert_loop_clean(&loop);
}

#define LOOP_THREADS 4
static struct chain thread_chains[LOOP_THREADS];

static void *loop_thread_main(void *arg) {
  struct chain *c = arg;
  eddy_loop_t loop;

  if (eddy_loop_init(&loop) != 0)
    return (void *)1;
  chain_start(c, &loop);
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  return (void *)(intptr_t)eddy_loop_close(&loop);
}

/* Four loops on four threads share the pool; each gets exactly its own
 * completions. */
static void test_many_loops_share_pool(void **state) {
  pthread_t threads[LOOP_THREADS];
  void *ret;
  int i;

  (void)state;
  for (i = 0; i < LOOP_THREADS; i++)
    assert_int_equal(pthread_create(&threads[i], NULL, loop_thread_main,
                                    &thread_chains[i]),
                     0);
  for (i = 0; i < LOOP_THREADS; i++) {
    assert_int_equal(pthread_join(threads[i], &ret), 0);
    assert_null(ret);
    chain_check(&thread_chains[i]);
  }
}

/* A work callback may queue more work on its own loop (the one
 * thread-safe submission). */
struct nested {
  eddy_work_t outer;
  eddy_work_t inner;
  int inner_ran;
  int completions;
};

static void nested_inner_work(eddy_work_t *req) {
  struct nested *n = req->req.data;

  n->inner_ran = 1;
}

static void nested_after(eddy_work_t *req, int status) {
  struct nested *n = req->req.data;

  assert_int_equal(status, 0);
  n->completions++;
}

static void nested_outer_work(eddy_work_t *req) {
  struct nested *n = req->req.data;

  n->inner.req.data = n;
  assert_int_equal(eddy_queue_work(req->loop, &n->inner, nested_inner_work,
                                   nested_after),
                   0);
}

static void test_queue_from_work_cb(void **state) {
  eddy_loop_t loop;
  struct nested n = {0};

  (void)state;
  n.outer.req.data = &n;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_work(&loop, &n.outer, nested_outer_work,
                                   nested_after),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(n.completions, 2);
  assert_int_equal(n.inner_ran, 1);
  test_assert_loop_clean(&loop);
}

/* ---- slow jobs may hold at most half the threads ----------------------- */

struct slow_probe {
  eddy__work_t w;
  struct test_gate *gate;
  int done;
};

static void slow_work(eddy__work_t *w) {
  test_gate_enter(eddy__container_of(w, struct slow_probe, w)->gate);
}

static void slow_done(eddy__work_t *w, int status) {
  struct slow_probe *p = eddy__container_of(w, struct slow_probe, w);

  assert_int_equal(status, 0);
  p->done = 1;
}

/* As many slow jobs as threads: only (n + 1) / 2 start, and a CPU job
 * queued after them still finds a free thread. */
static void test_slow_jobs_capped(void **state) {
  eddy_loop_t loop;
  struct test_gate gate;
  struct slow_probe probes[TEST_GATE_MAX];
  eddy_work_t req;
  struct job_record r = {0};
  int n = eddy_threadpool_size();
  unsigned cap;
  int i;

  (void)state;
  assert_true(n > 0 && n <= TEST_GATE_MAX);
  cap = ((unsigned)n + 1) / 2;
  test_gate_init(&gate);
  r.loop_thread = pthread_self();
  req.req.data = &r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < n; i++) {
    probes[i].gate = &gate;
    probes[i].done = 0;
    assert_int_equal(eddy__work_submit(&loop, &probes[i].w, EDDY__WORK_SLOW_IO,
                                       slow_work, slow_done),
                     0);
  }
  pthread_mutex_lock(&gate.mu);
  while (gate.started < cap)
    pthread_cond_wait(&gate.cv, &gate.mu);
  pthread_mutex_unlock(&gate.mu);
  if ((unsigned)n > cap) {
    assert_int_equal(eddy_queue_work(&loop, &req, record_work, record_after),
                     0);
    while (r.after_ran == 0)
      eddy_run(&loop, EDDY_RUN_ONCE);
    assert_int_equal(r.status, 0);
  }
  pthread_mutex_lock(&gate.mu);
  assert_int_equal(gate.started, cap); /* the rest wait for a slow slot */
  pthread_mutex_unlock(&gate.mu);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  for (i = 0; i < n; i++)
    assert_int_equal(probes[i].done, 1);
  assert_int_equal(gate.started, (unsigned)n);
  test_assert_loop_clean(&loop);
  test_gate_destroy(&gate);
}

/* ---- crypto jobs ------------------------------------------------------- */

struct crypto_record {
  int calls;
  int status;
};

static void crypto_done(eddy_crypto_req_t *req, int status) {
  struct crypto_record *r = req->req.data;

  r->calls++;
  r->status = status;
}

/* The pool job derives exactly what the synchronous call derives. */
static void test_pbkdf2_job(void **state) {
  eddy_loop_t loop;
  eddy_crypto_req_t req;
  struct crypto_record r = {0};
  uint8_t async_key[64], sync_key[64];

  (void)state;
  req.req.data = &r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_pbkdf2(&loop, &req, EDDY_HASH_SHA512, "secret",
                                     6, "salt", 4, 1000, async_key,
                                     sizeof(async_key), crypto_done),
                   0);
  assert_int_equal(req.req.type, EDDY_CRYPTO);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, 0);
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA512, "secret", 6, "salt", 4, 1000,
                               sync_key, sizeof(sync_key)),
                   0);
  assert_memory_equal(async_key, sync_key, sizeof(sync_key));
  test_assert_loop_clean(&loop);
}

/* Bad arguments fail at once, with no callback and no liveness. */
static void test_crypto_job_errors(void **state) {
  eddy_loop_t loop;
  eddy_crypto_req_t req;
  struct crypto_record r = {0};
  uint8_t key[32];

  (void)state;
  req.req.data = &r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_pbkdf2(&loop, &req, EDDY_HASH_SHA256, "p", 1,
                                     "s", 1, 0, key, sizeof(key), crypto_done),
                   EDDY_EINVAL);
  assert_int_equal(eddy_queue_pbkdf2(&loop, &req, (eddy_hash_alg)99, "p", 1,
                                     "s", 1, 1, key, sizeof(key), crypto_done),
                   EDDY_EINVAL);
  assert_int_equal(eddy_queue_pbkdf2(&loop, &req, EDDY_HASH_SHA256, "p", 1,
                                     "s", 1, 1, key, sizeof(key), NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_queue_random(&loop, &req, NULL, 8, crypto_done),
                   EDDY_EINVAL);
  assert_int_equal(eddy_queue_random(&loop, &req, key, 8, NULL), EDDY_EINVAL);
  assert_false(eddy_loop_alive(&loop));
  test_assert_loop_clean(&loop);
  assert_int_equal(r.calls, 0);
}

/* Random bytes from the pool: filled (a 64-byte all-zero result has
 * probability 2^-512), and cancellable behind a full pool. */
static void test_random_job_and_cancel(void **state) {
  eddy_loop_t loop;
  struct test_gate gate;
  eddy_crypto_req_t req, cancelled;
  struct crypto_record r = {0}, rc = {0};
  uint8_t buf[64] = {0}, zero[64] = {0}, untouched[64] = {0};

  (void)state;
  req.req.data = &r;
  cancelled.req.data = &rc;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_queue_random(&loop, &req, buf, sizeof(buf),
                                     crypto_done),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.status, 0);
  assert_memory_not_equal(buf, zero, sizeof(buf));

  test_gate_init(&gate);
  test_gate_occupy_pool(&gate, &loop);
  assert_int_equal(eddy_queue_random(&loop, &cancelled, untouched,
                                     sizeof(untouched), crypto_done),
                   0);
  assert_int_equal(eddy_cancel(&cancelled.req), 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(rc.calls, 1);
  assert_int_equal(rc.status, EDDY_ECANCELED);
  assert_memory_equal(untouched, zero, sizeof(zero));
  test_assert_loop_clean(&loop);
  test_gate_destroy(&gate);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_queue_work_runs_on_pool),
      cmocka_unit_test(test_queue_work_errors),
      cmocka_unit_test(test_queue_work_null_after),
      cmocka_unit_test(test_cancel_queued_job),
      cmocka_unit_test(test_blocked_pool_stalls_later_jobs),
      cmocka_unit_test(test_one_free_thread_runs_job),
      cmocka_unit_test(test_resubmit_from_completion),
      cmocka_unit_test(test_many_loops_share_pool),
      cmocka_unit_test(test_queue_from_work_cb),
      cmocka_unit_test(test_slow_jobs_capped),
      cmocka_unit_test(test_pbkdf2_job),
      cmocka_unit_test(test_crypto_job_errors),
      cmocka_unit_test(test_random_job_and_cancel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
