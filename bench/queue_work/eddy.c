/* queue_work, eddy side: 1,000,000 trivial pool jobs by default (argv[1]
 * overrides), 256 in flight (argv[2] overrides, e.g. 1 for the
 * one-at-a-time figure). The work callback only counts the job; each
 * completion submits the next job until the total is reached, so the cost
 * measured is the pool's hand-over both ways, not the work.
 * Verifies: every job's work callback ran exactly once, every completion
 * arrived once with status 0, the loop closes cleanly. Exits 1 if any check
 * fails.
 * Output: impl, version, n, inflight, wall_s, cpu_s, jobs_per_s (higher is
 * better). */
#include <eddy.h>

#include "../common.h"

struct job {
  eddy_work_t req;
  long id;
};

static unsigned char *ran; /* per job id: work callbacks run */
static long n, next_id, completed, bad_status, bad_ran;

static void on_work(eddy_work_t *req) {
  struct job *job = req->req.data;

  /* One pool thread per job at a time: a plain increment is enough, and
   * the completion's hand-over publishes it to the loop thread. */
  ran[job->id]++;
}

static void on_done(eddy_work_t *req, int status) {
  struct job *job = req->req.data;

  if (status != 0) bad_status++;
  if (ran[job->id] != 1) bad_ran++;
  completed++;
  if (next_id < n) {
    job->id = next_id++;
    if (eddy_queue_work(req->loop, req, on_work, on_done) != 0) bad_status++;
  }
}

/* The pool starts on the first job: one job, run untimed (as on the libuv
 * side). */
static void warm_work(eddy_work_t *req) { (void)req; }
static void warm_done(eddy_work_t *req, int status) {
  (void)req;
  if (status != 0) bad_status++;
}

int main(int argc, char **argv) {
  long inflight = 256, errs = 0;
  n = bench_arg_long(argc, argv, 1000000L);
  if (argc > 2) inflight = strtol(argv[2], NULL, 10);
  if (inflight < 1) inflight = 1;
  if (inflight > n) inflight = n;

  eddy_loop_t loop;
  if (eddy_loop_init(&loop) != 0) return 1;
  ran = calloc((size_t)n, 1);
  struct job *jobs = calloc((size_t)inflight, sizeof *jobs);
  if (ran == NULL || jobs == NULL) return 1;
  eddy_work_t warm;
  BENCH_CHECK(eddy_queue_work(&loop, &warm, warm_work, warm_done) == 0,
              errs);
  eddy_run(&loop, EDDY_RUN_DEFAULT);

  double cpu0 = bench_cpu(), w0 = bench_now();
  for (long i = 0; i < inflight; i++) {
    jobs[i].req.req.data = &jobs[i];
    jobs[i].id = next_id++;
    if (eddy_queue_work(&loop, &jobs[i].req, on_work, on_done) != 0)
      bad_status++;
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  double w1 = bench_now(), cpu1 = bench_cpu();

  long once = 0;
  for (long i = 0; i < n; i++) once += ran[i] == 1;
  BENCH_CHECK(once == n, errs);
  BENCH_CHECK(completed == n, errs);
  BENCH_CHECK(bad_status == 0, errs);
  BENCH_CHECK(bad_ran == 0, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  printf("impl=eddy\nversion=%s\nn=%ld\ninflight=%ld\n",
         eddy_version_string(), n, inflight);
  printf("wall_s=%.4f\ncpu_s=%.4f\njobs_per_s=%.0f\n", w1 - w0, cpu1 - cpu0,
         (double)n / (w1 - w0));
  free(jobs);
  free(ran);
  return errs ? 1 : 0;
}
