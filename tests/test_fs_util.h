/* test_fs_util.h: what the file-system tests past test_fs.c share: a
 * mkdtemp directory per test program, paths in it, small file helpers,
 * and a fixture that gives each test a fresh loop and checks, on the way
 * out, that the loop closes cleanly and no descriptor leaked. */
#ifndef EDDY_TEST_FS_UTIL_H
#define EDDY_TEST_FS_UTIL_H

#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "test_pool.h"
#include "test_util.h"

static char tmpdir[64];

/* tmpdir/name, from a ring of buffers so a few can be alive at once. */
static inline const char *tp(const char *name) {
  static char ring[8][PATH_MAX];
  static unsigned next;
  char *buf = ring[next++ % 8];

  snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name);
  return buf;
}

static inline void make_file(const char *path, const char *data) {
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
  assert_int_equal(fclose(f), 0);
}

/* The file's contents (up to 4 KiB) as a string in a static buffer. */
static inline const char *slurp(const char *path) {
  static char buf[4096];
  FILE *f = fopen(path, "r");
  size_t n;

  assert_non_null(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static inline int exists(const char *path) {
  struct stat st;

  return lstat(path, &st) == 0;
}

static int fs_calls;

static inline void on_fs(eddy_fs_t *req) {
  (void)req;
  fs_calls++;
}

/* Run the loop until it is idle; exactly one callback must have run.
 * Returns the request's result. */
static inline ssize_t wait_fs(eddy_loop_t *loop, eddy_fs_t *req) {
  int before = fs_calls;

  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fs_calls, before + 1);
  return req->result;
}

/* Start an async call (it must return 0) and wait for its callback. */
#define ASYNC(loop, req, call) (assert_int_equal((call), 0), wait_fs(loop, req))

/* Holds pool threads (tests/test_pool.h); set up and torn down per test. */
static struct test_gate gate;

struct fixture {
  eddy_loop_t loop;
  int fds;
};

static inline int fixture_setup(void **state) {
  static struct fixture fx;

  fx.fds = test_count_fds();
  test_gate_init(&gate);
  assert_int_equal(eddy_loop_init(&fx.loop), 0);
  fs_calls = 0;
  *state = &fx;
  return 0;
}

static inline int fixture_teardown(void **state) {
  struct fixture *fx = *state;

  test_gate_release(&gate); /* a failed test may have left threads held */
  test_teardown_loop(&fx->loop);
  test_gate_destroy(&gate);
  assert_int_equal(test_count_fds(), fx->fds);
  return 0;
}

static inline int rm_entry(const char *path, const struct stat *st, int flag,
                           struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static inline int group_setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/eddy-fsx-XXXXXX");
  return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static inline int group_teardown(void **state) {
  (void)state;
  return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define FS_TEST(name)                                                          \
  cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

#endif /* EDDY_TEST_FS_UTIL_H */
