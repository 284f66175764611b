/* test_pool_env.c: the pool's size comes from EDDY_THREADPOOL_SIZE, read
 * once per process, so ctest runs this program once per value (see
 * tests/CMakeLists.txt) with the expected thread count as argv[1]. It also
 * checks what the size means: how many jobs run at once, scenario 06's
 * waves, and with one thread scenario 10's strict FIFO order. */
#include <stdlib.h>

#include "test_pool.h"

static int expected_size;

/* The size is the environment's, and later changes to the environment do
 * not resize a running pool. */
static void test_size_from_env(void **state) {
  (void)state;
  assert_int_equal(eddy_threadpool_size(), expected_size);
  assert_int_equal(setenv("EDDY_THREADPOOL_SIZE", "7", 1), 0);
  assert_int_equal(eddy_threadpool_size(), expected_size);
}

/* Exactly size jobs run at once: with every thread held, one more job
 * stays queued until a thread is released. */
static void test_size_jobs_run_at_once(void **state) {
  eddy_loop_t loop;
  struct test_gate gate, extra;
  int i;

  (void)state;
  if (expected_size > 16)
    skip(); /* the bound is the same code; keep the run short */
  test_gate_init(&gate);
  test_gate_init(&extra);
  assert_int_equal(eddy_loop_init(&loop), 0);
  test_gate_occupy(&gate, &loop, (unsigned)expected_size);
  extra.released = 1;
  extra.reqs[0].req.data = &extra;
  assert_int_equal(eddy_queue_work(&loop, &extra.reqs[0], test_gate_work,
                                   test_gate_after),
                   0);
  for (i = 0; i < 10; i++)
    eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(extra.started, 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(extra.finished, 1);
  assert_int_equal(gate.finished, (unsigned)expected_size);
  test_assert_loop_clean(&loop);
  test_gate_destroy(&gate);
  test_gate_destroy(&extra);
}

/* Scenario 06: five PBKDF2-SHA512 jobs at once. Whatever the timing, no
 * more than size of them overlap, and job k (k > size) starts only after
 * k - size jobs have ended: the waves. */
#define WAVE_JOBS 5

struct wave {
  eddy_work_t reqs[WAVE_JOBS];
  unsigned events; /* atomic: start and end events, numbered */
  unsigned running;
  unsigned max_running;
  unsigned ended_before_start[WAVE_JOBS];
  unsigned ended;
  pthread_mutex_t mu;
};

static void wave_work(eddy_work_t *req) {
  struct wave *w = req->req.data;
  int k = (int)(req - w->reqs);
  uint8_t key[64];

  pthread_mutex_lock(&w->mu);
  w->ended_before_start[k] = w->ended;
  if (++w->running > w->max_running)
    w->max_running = w->running;
  pthread_mutex_unlock(&w->mu);
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA512, "secret", 6, "salt", 4,
                               20000, key, sizeof(key)),
                   0);
  pthread_mutex_lock(&w->mu);
  w->running--;
  w->ended++;
  pthread_mutex_unlock(&w->mu);
}

static void test_scenario06_waves(void **state) {
  eddy_loop_t loop;
  static struct wave w;
  unsigned size = (unsigned)expected_size;
  int k;

  (void)state;
  memset(&w, 0, sizeof(w));
  pthread_mutex_init(&w.mu, NULL);
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (k = 0; k < WAVE_JOBS; k++) {
    w.reqs[k].req.data = &w;
    assert_int_equal(eddy_queue_work(&loop, &w.reqs[k], wave_work, NULL), 0);
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.ended, WAVE_JOBS);
  assert_true(w.max_running <= size);
  for (k = 0; k < WAVE_JOBS; k++)
    if ((unsigned)k + 1 > size)
      assert_true(w.ended_before_start[k] >= (unsigned)k + 1 - size);
  pthread_mutex_destroy(&w.mu);
  test_assert_loop_clean(&loop);
}

/* Scenario 06 with one thread, line by line where Node's output does not
 * depend on timing: five equal PBKDF2 jobs end in the order they were
 * queued, "job k done #k", each a job-length after the one before (the
 * times after " at" vary; the order does not). */
static struct test_log wave_log;
static int wave_done;

static void wave_line(eddy_crypto_req_t *req, int status) {
  assert_int_equal(status, 0);
  test_log_printf(&wave_log, "job %d done #%d\n", (int)(intptr_t)req->req.data,
                  ++wave_done);
}

static void test_scenario06_lines(void **state) {
  static eddy_crypto_req_t reqs[WAVE_JOBS];
  static uint8_t keys[WAVE_JOBS][64];
  char expected[4096], node[4096];
  size_t n = 0;
  const char *line;
  eddy_loop_t loop;
  int k;

  (void)state;
  if (expected_size != 1)
    skip();
  memset(&wave_log, 0, sizeof(wave_log));
  wave_done = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (k = 0; k < WAVE_JOBS; k++) {
    reqs[k].req.data = (void *)(intptr_t)(k + 1);
    assert_int_equal(eddy_queue_pbkdf2(&loop, &reqs[k], EDDY_HASH_SHA512,
                                       "secret", 6, "salt", 4, 20000, keys[k],
                                       sizeof(keys[k]), wave_line),
                     0);
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  /* Node's pool=1 block, each job line cut before " at". */
  test_read_scenario("06_threadpool_pbkdf2.out", expected, sizeof(expected));
  line = strstr(expected, "UV_THREADPOOL_SIZE=1");
  assert_non_null(line);
  line = strchr(line, '\n') + 1;
  assert_true(strncmp(line, "pool=1 ", 7) == 0);
  for (line = strchr(line, '\n') + 1; strncmp(line, "job ", 4) == 0;
       line = strchr(line, '\n') + 1) {
    size_t len = (size_t)(strstr(line, " at ") - line);

    memcpy(node + n, line, len);
    n += len;
    node[n++] = '\n';
  }
  node[n] = '\0';
  assert_int_equal(n > 0, 1);
  wave_log.buf[wave_log.len] = '\0';
  assert_string_equal(wave_log.buf, node);
  test_assert_loop_clean(&loop);
}

/* Scenario 10 with one thread: jobs finish strictly in submission order,
 * whatever their sizes. Compared with Node's pool=1 output. */
static const uint32_t fifo_iters[] = {200000, 1000, 100000, 10, 50000};

struct fifo_job {
  eddy_crypto_req_t req;
  int index;
  uint8_t key[32];
};

static struct test_log fifo_log;

static void fifo_done(eddy_crypto_req_t *req, int status) {
  struct fifo_job *j = (struct fifo_job *)req;

  assert_int_equal(status, 0);
  test_log_printf(&fifo_log, "job %d (iter=%u) done\n", j->index,
                  (unsigned)fifo_iters[j->index]);
}

static void test_scenario10_fifo(void **state) {
  eddy_loop_t loop;
  struct fifo_job jobs[5];
  char expected[4096];
  const char *block;
  int i;

  (void)state;
  if (expected_size != 1)
    skip();
  memset(&fifo_log, 0, sizeof(fifo_log));
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < 5; i++) {
    jobs[i].index = i;
    assert_int_equal(eddy_queue_pbkdf2(&loop, &jobs[i].req, EDDY_HASH_SHA256,
                                       "p", 1, "s", 1, fifo_iters[i],
                                       jobs[i].key, sizeof(jobs[i].key),
                                       fifo_done),
                     0);
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  test_read_scenario("10_threadpool_fifo.out", expected, sizeof(expected));
  /* The first block is the pool=1 run: from after its header line to the
   * blank line. */
  block = strstr(expected, "UV_THREADPOOL_SIZE=1");
  assert_non_null(block);
  block = strchr(block, '\n') + 1;
  *strstr(block, "\n\n") = '\0';
  fifo_log.buf[fifo_log.len - 1] = '\0'; /* the last newline */
  assert_string_equal(fifo_log.buf, block);
  test_assert_loop_clean(&loop);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_size_from_env),
      cmocka_unit_test(test_size_jobs_run_at_once),
      cmocka_unit_test(test_scenario06_waves),
      cmocka_unit_test(test_scenario06_lines),
      cmocka_unit_test(test_scenario10_fifo),
  };

  if (argc != 2 || (expected_size = atoi(argv[1])) < 1) {
    fprintf(stderr, "usage: %s EXPECTED_POOL_SIZE\n", argv[0]);
    return 2;
  }
  return cmocka_run_group_tests(tests, NULL, NULL);
}
