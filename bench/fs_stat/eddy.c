/* fs_stat, eddy side: 100,000 asynchronous stats (argv[1] overrides) of one
 * regular file of FILE_SIZE bytes, created in a fresh mkdtemp directory and
 * removed at the end; 32 in flight, each completion issuing the next until
 * the total is reached.
 * Verifies: every completion arrived with result 0 and the file's size,
 * exactly n completions, the loop closes cleanly. Exits 1 if any check
 * fails.
 * Output: impl, version, n, inflight, wall_s, cpu_s, stats_per_s (higher is
 * better). */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <eddy.h>
#include <eddy/fs.h>

#include "../common.h"

#define INFLIGHT 32
#define FILE_SIZE 12345

static char path[PATH_MAX];
static long n, issued, completed, bad_result, bad_size;

static void on_stat(eddy_fs_t *req) {
  eddy_loop_t *loop = req->req.data;

  if (req->result != 0) bad_result++;
  else if (req->statbuf.size != FILE_SIZE) bad_size++;
  eddy_fs_req_cleanup(req);
  completed++;
  if (issued < n) {
    issued++;
    if (eddy_fs_stat(loop, req, path, on_stat) != 0) bad_result++;
  }
}

/* The untimed warm-up stat: checked like the others, issues nothing. */
static void on_warm(eddy_fs_t *req) {
  if (req->result != 0) bad_result++;
  else if (req->statbuf.size != FILE_SIZE) bad_size++;
  eddy_fs_req_cleanup(req);
}

/* A directory and a FILE_SIZE-byte file in it; 0 or -1. */
static int make_file(char *dir) {
  static char buf[FILE_SIZE];
  int fd;

  if (mkdtemp(dir) == NULL) return -1;
  snprintf(path, sizeof path, "%s/file", dir);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd == -1) return -1;
  memset(buf, 'x', sizeof buf);
  if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
    close(fd);
    return -1;
  }
  return close(fd);
}

int main(int argc, char **argv) {
  char dir[] = "/tmp/eddy-bench-fs-XXXXXX";
  eddy_fs_t reqs[INFLIGHT];
  long inflight = INFLIGHT, errs = 0;
  n = bench_arg_long(argc, argv, 100000L);
  if (inflight > n) inflight = n;

  eddy_loop_t loop;
  if (eddy_loop_init(&loop) != 0) return 1;
  if (make_file(dir) != 0) {
    perror("fs_stat: creating the file");
    return 1;
  }
  /* The pool starts on the first request: one stat, run untimed (as on
   * the libuv side). */
  BENCH_CHECK(eddy_fs_stat(&loop, &reqs[0], path, on_warm) == 0, errs);
  eddy_run(&loop, EDDY_RUN_DEFAULT);

  double cpu0 = bench_cpu(), w0 = bench_now();
  for (long i = 0; i < inflight; i++) {
    reqs[i].req.data = &loop;
    issued++;
    if (eddy_fs_stat(&loop, &reqs[i], path, on_stat) != 0) bad_result++;
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  double w1 = bench_now(), cpu1 = bench_cpu();

  BENCH_CHECK(completed == n, errs);
  BENCH_CHECK(bad_result == 0, errs);
  BENCH_CHECK(bad_size == 0, errs);
  BENCH_CHECK(eddy_loop_close(&loop) == 0, errs);
  BENCH_CHECK(unlink(path) == 0 && rmdir(dir) == 0, errs);
  printf("impl=eddy\nversion=%s\nn=%ld\ninflight=%ld\n",
         eddy_version_string(), n, inflight);
  printf("wall_s=%.4f\ncpu_s=%.4f\nstats_per_s=%.0f\n", w1 - w0,
         cpu1 - cpu0, (double)n / (w1 - w0));
  return errs ? 1 : 0;
}
