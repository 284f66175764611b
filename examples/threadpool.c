/* threadpool.c: five hashes on a pool of four threads.
 *
 * The program times one PBKDF2-SHA512 (100,000 iterations, 64-byte key) on
 * the main thread (best of three), then submits five of them to the work pool at once and
 * prints when each finishes, as a multiple of that single job:
 *
 *   pool=4 cpus=2 single_job_ms=104
 *   job 2 done #1 at 190ms (1.8 x single)
 *   job 1 done #2 at 205ms (2.0 x single)
 *   job 4 done #3 at 210ms (2.0 x single)
 *   job 3 done #4 at 214ms (2.1 x single)
 *   job 5 done #5 at 310ms (3.0 x single)
 *
 * Why: the pool has a fixed number of threads (4, or EDDY_THREADPOOL_SIZE
 * read once when the pool starts), and jobs start in submission order. Jobs
 * 1-4 start together; job 5 waits in the queue until a thread is free, so
 * it finishes about one job-length after the others: the second wave. On
 * two cores, four threads share two CPUs, so the first wave takes about
 * twice a single job. Run it with EDDY_THREADPOOL_SIZE=1 (five waves of
 * one: 1x, 2x ... 5x), 2 (waves at 1x, 2x, 3x) or 5 (one wave; on two cores
 * all five take about 2.5x). This is Node's crypto.pbkdf2 experiment
 * (scenario 06); the loop thread stays free the whole time.
 *
 * Exit status 0 when all five keys match the single job's key. */
#include <eddy.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define JOBS 5
#define ITERATIONS 100000
#define KEY_LEN 64

struct job {
  eddy_crypto_req_t req;
  int number;
  uint8_t key[KEY_LEN];
};

static uint8_t expected_key[KEY_LEN];
static uint64_t start_ns;
static double single_ms;
static int done_count;
static int mismatches;

static void on_hashed(eddy_crypto_req_t *req, int status) {
  struct job *job = (struct job *)req;
  double ms = (double)(eddy_hrtime() - start_ns) / 1e6;

  if (status != 0 || memcmp(job->key, expected_key, KEY_LEN) != 0)
    mismatches++;
  printf("job %d done #%d at %.0fms (%.1f x single)\n", job->number,
         ++done_count, ms, ms / single_ms);
}

int main(void) {
  eddy_loop_t *loop = eddy_default_loop();
  static struct job jobs[JOBS];
  uint64_t t0;
  int i, err;

  /* The best of three, so one preempted run does not skew every ratio. */
  for (i = 0; i < 3; i++) {
    double ms;

    t0 = eddy_hrtime();
    if (eddy_pbkdf2(EDDY_HASH_SHA512, "secret", 6, "salt", 4, ITERATIONS,
                    expected_key, KEY_LEN) != 0)
      return 1;
    ms = (double)(eddy_hrtime() - t0) / 1e6;
    if (i == 0 || ms < single_ms)
      single_ms = ms;
  }
  printf("pool=%d cpus=%ld single_job_ms=%.0f\n", eddy_threadpool_size(),
         sysconf(_SC_NPROCESSORS_ONLN), single_ms);

  start_ns = eddy_hrtime();
  for (i = 0; i < JOBS; i++) {
    jobs[i].number = i + 1;
    err = eddy_queue_pbkdf2(loop, &jobs[i].req, EDDY_HASH_SHA512, "secret", 6,
                            "salt", 4, ITERATIONS, jobs[i].key, KEY_LEN,
                            on_hashed);
    if (err != 0) {
      fprintf(stderr, "queue: %s\n", eddy_strerror(err));
      return 1;
    }
  }
  eddy_run(loop, EDDY_RUN_DEFAULT);
  eddy_loop_close(loop);
  return done_count == JOBS && mismatches == 0 ? 0 : 1;
}
