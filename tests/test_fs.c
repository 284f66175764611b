/* test_fs.c: file-system requests, synchronous and on the pool: every
 * operation's success and error paths, vectored I/O, read_file and
 * write_file chains (100 MB, empty, /proc), cancellation, cleanup.
 *
 * Every test runs in a fresh loop and checks on the way out that the loop
 * closes cleanly and that no descriptor leaked (the count of entries in
 * /proc/self/fd is the same as before). Files live in one mkdtemp
 * directory under /tmp, removed at the end. */
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_pool.h"
#include "test_util.h"

#include "fs/fs_internal.h" /* white box: EDDY__FS_STEP_* for the chain tests */

/* ---- helpers ---------------------------------------------------------- */

static char tmpdir[64];

/* tmpdir/name, from a ring of buffers so a few can be alive at once. */
static const char *tp(const char *name) {
  static char ring[8][PATH_MAX];
  static unsigned next;
  char *buf = ring[next++ % 8];

  snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name);
  return buf;
}

static void make_file(const char *path, const char *data) {
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
  assert_int_equal(fclose(f), 0);
}

/* The file's contents (up to 4 KiB) as a string in a static buffer. */
static const char *slurp(const char *path) {
  static char buf[4096];
  FILE *f = fopen(path, "r");
  size_t n;

  assert_non_null(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static int exists(const char *path) {
  struct stat st;

  return lstat(path, &st) == 0;
}

/* A path component longer than NAME_MAX. */
static const char *long_path(void) {
  static char buf[PATH_MAX];
  char name[NAME_MAX + 10];

  memset(name, 'a', sizeof(name) - 1);
  name[sizeof(name) - 1] = '\0';
  snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
  return buf;
}

static int fs_calls;

static void on_fs(eddy_fs_t *req) {
  (void)req;
  fs_calls++;
}

/* Run the loop until it is idle; exactly one callback must have run.
 * Returns the request's result. */
static ssize_t wait_fs(eddy_loop_t *loop, eddy_fs_t *req) {
  int before = fs_calls;

  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fs_calls, before + 1);
  return req->result;
}

/* Start an async call (it must return 0) and wait for its callback. */
#define ASYNC(loop, req, call) (assert_int_equal((call), 0), wait_fs(loop, req))

/* Holds pool threads (tests/test_pool.h); one per test, set up and torn
 * down by the fixture. */
static struct test_gate gate;

/* Per test: a fresh loop, and the descriptor count to compare at the end. */
struct fixture {
  eddy_loop_t loop;
  int fds;
};

static int fixture_setup(void **state) {
  static struct fixture fx;

  fx.fds = test_count_fds();
  test_gate_init(&gate);
  assert_int_equal(eddy_loop_init(&fx.loop), 0);
  fs_calls = 0;
  *state = &fx;
  return 0;
}

static int fixture_teardown(void **state) {
  struct fixture *fx = *state;

  test_gate_release(&gate); /* a failed test may have left threads held */
  test_assert_loop_clean(&fx->loop);
  test_gate_destroy(&gate);
  assert_int_equal(test_count_fds(), fx->fds);
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int group_setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/eddy-fs-XXXXXX");
  return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state) {
  (void)state;
  return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- open, close ------------------------------------------------------ */

static void test_open_close(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  const char *p = tp("open");
  eddy_fs_t req;
  int fd;

  fd = eddy_fs_open(loop, &req, p, O_RDWR | O_CREAT, 0644, NULL);
  assert_true(fd >= 0);
  assert_int_equal(req.result, fd);
  assert_int_equal(req.fs_type, EDDY_FS_OPEN);
  assert_int_equal(req.req.type, EDDY_FS);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_close(loop, &req, fd, NULL), 0);
  eddy_fs_req_cleanup(&req);

  fd = (int)ASYNC(loop, &req, eddy_fs_open(loop, &req, p, O_RDONLY, 0, on_fs));
  assert_true(fd >= 0);
  assert_string_equal(req.path, p);
  assert_true(req.path != p); /* the request's own copy */
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_close(loop, &req, fd, on_fs)), 0);
  eddy_fs_req_cleanup(&req);
}

/* Out of descriptors: open fails with EMFILE, synchronously and on the
 * pool, and works again once descriptors free up. (The first request has
 * opened the loop's wake-up descriptor, which pool requests need.) */
static void test_open_out_of_descriptors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  struct test_fd_fill fill;
  eddy_fs_t req;
  ssize_t sync_r, async_r;
  int fd;

  make_file(tp("fill"), "x");
  fd = (int)ASYNC(loop, &req,
                  eddy_fs_open(loop, &req, tp("fill"), O_RDONLY, 0, on_fs));
  assert_true(fd >= 0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(close(fd), 0);
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  sync_r = eddy_fs_open(loop, &req, tp("fill"), O_RDONLY, 0, NULL);
  eddy_fs_req_cleanup(&req);
  async_r = eddy_fs_open(loop, &req, tp("fill"), O_RDONLY, 0, on_fs);
  if (async_r == 0)
    async_r = wait_fs(loop, &req);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(test_fds_release(&fill), 0);
  assert_true(sync_r == EDDY_EMFILE || sync_r == EDDY_ENFILE);
  assert_true(async_r == EDDY_EMFILE || async_r == EDDY_ENFILE);
  fd = (int)ASYNC(loop, &req,
                  eddy_fs_open(loop, &req, tp("fill"), O_RDONLY, 0, on_fs));
  assert_true(fd >= 0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(close(fd), 0);
}

static void test_open_close_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  make_file(tp("exists"), "x");
  assert_int_equal(eddy_fs_open(loop, &req, tp("nope"), O_RDONLY, 0, NULL),
                   EDDY_ENOENT);
  assert_int_equal(req.result, EDDY_ENOENT);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_open(loop, &req, tp("nope"), O_RDONLY, 0, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_open(loop, &req, tp("exists"),
                                O_WRONLY | O_CREAT | O_EXCL, 0644, NULL),
                   EDDY_EEXIST);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_open(loop, &req, tmpdir, O_WRONLY, 0, on_fs)),
      EDDY_EISDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_open(loop, &req, tp("exists/x"), O_RDONLY, 0, NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_open(loop, &req, long_path(), O_RDONLY, 0, NULL),
                   EDDY_ENAMETOOLONG);
  assert_int_equal(eddy_fs_open(loop, &req, NULL, O_RDONLY, 0, NULL),
                   EDDY_EINVAL);
  /* A callback without a loop: refused, and no callback ever runs. */
  assert_int_equal(eddy_fs_open(NULL, &req, tp("exists"), O_RDONLY, 0, on_fs),
                   EDDY_EINVAL);
  eddy_fs_req_cleanup(&req);

  assert_int_equal(eddy_fs_close(loop, &req, -1, NULL), EDDY_EBADF);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_close(loop, &req, -1, on_fs)),
                   EDDY_EBADF);
  eddy_fs_req_cleanup(&req);
}

/* ---- read, write ------------------------------------------------------ */

static void test_read_write_vectored(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char a[] = "hello", b[] = ", ", c[] = "world";
  char r1[4], r2[8], r3[32];
  eddy_buf_t out[3], in[3];
  eddy_fs_t req;
  int fd;

  fd = eddy_fs_open(loop, &req, tp("rw"), O_RDWR | O_CREAT | O_TRUNC, 0644,
                    NULL);
  assert_true(fd >= 0);
  out[0] = eddy_buf_init(a, 5);
  out[1] = eddy_buf_init(b, 2);
  out[2] = eddy_buf_init(c, 5);
  /* At the current position (writev), which advances. */
  assert_int_equal(eddy_fs_write(loop, &req, fd, out, 3, -1, NULL), 12);
  assert_int_equal(lseek(fd, 0, SEEK_CUR), 12);
  /* At an offset (pwritev): the position stays. */
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_write(loop, &req, fd, out, 1, 12, on_fs)), 5);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(lseek(fd, 0, SEEK_CUR), 12);
  assert_string_equal(slurp(tp("rw")), "hello, worldhello");

  /* preadv at an offset, spread over three buffers. */
  memset(r3, 0, sizeof(r3));
  in[0] = eddy_buf_init(r1, sizeof(r1));
  in[1] = eddy_buf_init(r2, sizeof(r2));
  in[2] = eddy_buf_init(r3, sizeof(r3));
  assert_int_equal(eddy_fs_read(loop, &req, fd, in, 3, 2, NULL), 15);
  assert_memory_equal(r1, "llo,", 4);
  assert_memory_equal(r2, " worldhe", 8);
  assert_string_equal(r3, "llo");
  /* readv at the position (12), async; then end of file gives 0. */
  memset(r3, 0, sizeof(r3));
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read(loop, &req, fd, &in[2], 1, -1, on_fs)), 5);
  eddy_fs_req_cleanup(&req);
  assert_string_equal(r3, "hello");
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read(loop, &req, fd, in, 3, -1, on_fs)), 0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_read(loop, &req, fd, in, 3, 100, NULL), 0);
  assert_int_equal(eddy_fs_close(loop, &req, fd, NULL), 0);
}

/* More buffers than fit inline: async calls copy the array (the caller's
 * may die at once), sync calls use it as it is; cleanup frees the copy. */
static void test_read_write_many_bufs(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char data[10] = "0123456789";
  char back[10];
  eddy_buf_t *bufs = malloc(10 * sizeof(*bufs));
  eddy_fs_t req;
  int fd, i;

  fd = eddy_fs_open(loop, &req, tp("many"), O_RDWR | O_CREAT | O_TRUNC, 0644,
                    NULL);
  assert_true(fd >= 0);
  for (i = 0; i < 10; i++)
    bufs[i] = eddy_buf_init(&data[i], 1);
  assert_int_equal(eddy_fs_write(loop, &req, fd, bufs, 10, 0, on_fs), 0);
  memset(bufs, 0, 10 * sizeof(*bufs)); /* the caller's array changes */
  free(bufs);
  assert_int_equal(wait_fs(loop, &req), 10);
  eddy_fs_req_cleanup(&req);
  eddy_fs_req_cleanup(&req); /* twice is harmless */

  bufs = malloc(10 * sizeof(*bufs));
  for (i = 0; i < 10; i++)
    bufs[i] = eddy_buf_init(&back[9 - i], 1);
  assert_int_equal(eddy_fs_read(loop, &req, fd, bufs, 10, 0, NULL), 10);
  assert_memory_equal(back, "9876543210", 10);
  free(bufs);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_close(loop, &req, fd, NULL), 0);
}

/* More buffers than one writev takes: all are written, in order (as
 * libuv); a read fills at most IOV_MAX of them, as readv does. */
static void test_write_beyond_iov_max(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  enum { N = 2500 };
  static char data[N], back[N];
  static eddy_buf_t bufs[N];
  eddy_fs_t req;
  int fd, i, async;
  long iov_max = sysconf(_SC_IOV_MAX);

  assert_true(iov_max > 0 && iov_max < N);
  for (i = 0; i < N; i++) {
    data[i] = (char)('a' + i % 26);
    bufs[i] = eddy_buf_init(&data[i], 1);
  }
  for (async = 0; async <= 1; async++) {
    fd = eddy_fs_open(loop, &req, tp("iov"), O_RDWR | O_CREAT | O_TRUNC, 0644,
                      NULL);
    assert_true(fd >= 0);
    /* at the current position, then at an offset after it */
    if (async)
      assert_int_equal(
          ASYNC(loop, &req, eddy_fs_write(loop, &req, fd, bufs, N, -1, on_fs)),
          N);
    else
      assert_int_equal(eddy_fs_write(loop, &req, fd, bufs, N, -1, NULL), N);
    eddy_fs_req_cleanup(&req);
    assert_int_equal(eddy_fs_write(loop, &req, fd, bufs, N, N, NULL), N);
    eddy_fs_req_cleanup(&req);
    for (i = 0; i < N; i++)
      bufs[i] = eddy_buf_init(&back[i], 1);
    memset(back, 0, sizeof(back));
    assert_int_equal(eddy_fs_read(loop, &req, fd, bufs, N, 0, NULL), iov_max);
    eddy_fs_req_cleanup(&req);
    assert_memory_equal(back, data, (size_t)iov_max);
    assert_int_equal(eddy_fs_read(loop, &req, fd, bufs, 1, N, NULL), 1);
    assert_int_equal(back[0], data[0]); /* the second copy follows */
    eddy_fs_req_cleanup(&req);
    for (i = 0; i < N; i++)
      bufs[i] = eddy_buf_init(&data[i], 1);
    assert_int_equal(eddy_fs_close(loop, &req, fd, NULL), 0);
  }
}

static void test_read_write_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char buf[8] = "abc";
  eddy_buf_t b = eddy_buf_init(buf, sizeof(buf));
  eddy_fs_t req;
  int fd, dfd, pfd[2];

  make_file(tp("ro"), "data");
  assert_int_equal(eddy_fs_read(loop, &req, -1, &b, 1, -1, NULL), EDDY_EBADF);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_write(loop, &req, -1, &b, 1, 0, on_fs)),
      EDDY_EBADF);
  eddy_fs_req_cleanup(&req);
  fd = eddy_fs_open(loop, &req, tp("ro"), O_RDONLY, 0, NULL);
  assert_true(fd >= 0);
  assert_int_equal(eddy_fs_write(loop, &req, fd, &b, 1, -1, NULL), EDDY_EBADF);
  assert_int_equal(eddy_fs_read(loop, &req, fd, &b, 0, -1, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_read(loop, &req, fd, NULL, 1, -1, on_fs),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_close(loop, &req, fd, NULL), 0);
  dfd = eddy_fs_open(loop, &req, tmpdir, O_RDONLY, 0, NULL);
  assert_true(dfd >= 0);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read(loop, &req, dfd, &b, 1, -1, on_fs)),
      EDDY_EISDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_close(loop, &req, dfd, NULL), 0);
  assert_int_equal(pipe(pfd), 0);
  assert_int_equal(eddy_fs_write(loop, &req, pfd[1], &b, 1, 0, NULL),
                   EDDY_ESPIPE);
  close(pfd[0]);
  close(pfd[1]);
}

/* ---- stat ------------------------------------------------------------- */

static void test_stat(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  struct stat st;
  eddy_fs_t req;
  int fd;

  make_file(tp("st"), "12345");
  assert_int_equal(symlink(tp("st"), tp("st-link")), 0);
  assert_int_equal(stat(tp("st"), &st), 0);

  assert_int_equal(eddy_fs_stat(loop, &req, tp("st"), NULL), 0);
  assert_ptr_equal(req.ptr, &req.statbuf);
  assert_int_equal(req.statbuf.size, 5);
  assert_true(S_ISREG(req.statbuf.mode));
  assert_int_equal(req.statbuf.ino, st.st_ino);
  assert_int_equal(req.statbuf.dev, st.st_dev);
  assert_int_equal(req.statbuf.nlink, 1);
  assert_int_equal(req.statbuf.mtim.sec, st.st_mtim.tv_sec);
  assert_int_equal(req.statbuf.mtim.nsec, st.st_mtim.tv_nsec);
  eddy_fs_req_cleanup(&req);
  /* Synchronous calls need no loop. */
  assert_int_equal(eddy_fs_stat(NULL, &req, tp("st"), NULL), 0);
  assert_int_equal(req.statbuf.size, 5);

  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_stat(loop, &req, tp("st-link"), on_fs)), 0);
  assert_true(S_ISREG(req.statbuf.mode)); /* followed */
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_lstat(loop, &req, tp("st-link"), NULL), 0);
  assert_true(S_ISLNK(req.statbuf.mode));
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_lstat(loop, &req, tp("st-link"), on_fs)), 0);
  assert_true(S_ISLNK(req.statbuf.mode));
  eddy_fs_req_cleanup(&req);

  fd = open(tp("st"), O_RDONLY);
  assert_int_equal(eddy_fs_fstat(loop, &req, fd, NULL), 0);
  assert_int_equal(req.statbuf.ino, st.st_ino);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_fstat(loop, &req, fd, on_fs)), 0);
  assert_int_equal(req.statbuf.size, 5);
  assert_ptr_equal(req.ptr, &req.statbuf);
  eddy_fs_req_cleanup(&req);
  close(fd);
}

static void test_stat_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  make_file(tp("st-file"), "x");
  assert_int_equal(eddy_fs_stat(loop, &req, tp("nope"), NULL), EDDY_ENOENT);
  assert_null(req.ptr);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_stat(loop, &req, tp("nope"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_stat(loop, &req, tp("st-file/x"), NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_lstat(loop, &req, long_path(), NULL),
                   EDDY_ENAMETOOLONG);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_lstat(loop, &req, tp("nope"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_fstat(loop, &req, -1, NULL), EDDY_EBADF);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_fstat(loop, &req, -1, on_fs)),
                   EDDY_EBADF);
  assert_int_equal(eddy_fs_stat(loop, &req, NULL, NULL), EDDY_EINVAL);
}

/* ---- directories and names -------------------------------------------- */

static void test_mkdir_rmdir(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;

  make_file(tp("md-file"), "x");
  assert_int_equal(eddy_fs_mkdir(loop, &req, tp("md1"), 0755, NULL), 0);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_mkdir(loop, &req, tp("md2"), 0700, on_fs)), 0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("md2"), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(eddy_fs_mkdir(loop, &req, tp("md1"), 0755, NULL),
                   EDDY_EEXIST);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_mkdir(loop, &req, tp("no/dir"), 0755, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_mkdir(loop, &req, tp("md-file/d"), 0755, NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_mkdir(loop, &req, long_path(), 0755, NULL),
                   EDDY_ENAMETOOLONG);

  make_file(tp("md1/inside"), "x");
  assert_int_equal(eddy_fs_rmdir(loop, &req, tp("md1"), NULL), EDDY_ENOTEMPTY);
  assert_int_equal(eddy_fs_rmdir(loop, &req, tp("md-file"), NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(unlink(tp("md1/inside")), 0);
  assert_int_equal(eddy_fs_rmdir(loop, &req, tp("md1"), NULL), 0);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_rmdir(loop, &req, tp("md2"), on_fs)), 0);
  eddy_fs_req_cleanup(&req);
  assert_false(exists(tp("md2")));
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_rmdir(loop, &req, tp("md2"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
}

static void test_mkdtemp(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char tpl[PATH_MAX];
  eddy_fs_t req;
  struct stat st;

  snprintf(tpl, sizeof(tpl), "%s/tmp-XXXXXX", tmpdir);
  assert_int_equal(eddy_fs_mkdtemp(loop, &req, tpl, NULL), 0);
  assert_string_not_equal(req.path, tpl); /* a copy, filled in */
  assert_memory_equal(tpl + strlen(tpl) - 6, "XXXXXX", 6);
  assert_int_equal(stat(req.path, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(rmdir(req.path), 0);
  eddy_fs_req_cleanup(&req);
  assert_null(req.path);

  assert_int_equal(eddy_fs_mkdtemp(loop, &req, tpl, on_fs), 0);
  tpl[0] = '\0'; /* the caller's string may die */
  assert_int_equal(wait_fs(loop, &req), 0);
  assert_int_equal(strncmp(req.path, tmpdir, strlen(tmpdir)), 0);
  assert_int_equal(rmdir(req.path), 0);
  eddy_fs_req_cleanup(&req);

  snprintf(tpl, sizeof(tpl), "%s/no-x", tmpdir);
  assert_int_equal(eddy_fs_mkdtemp(loop, &req, tpl, NULL), EDDY_EINVAL);
  eddy_fs_req_cleanup(&req);
  snprintf(tpl, sizeof(tpl), "%s/no/tmp-XXXXXX", tmpdir);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_mkdtemp(loop, &req, tpl, on_fs)),
                   EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
}

static void test_unlink_rename(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  make_file(tp("un1"), "1");
  make_file(tp("un2"), "2");
  assert_int_equal(eddy_fs_unlink(loop, &req, tp("un1"), NULL), 0);
  assert_false(exists(tp("un1")));
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_unlink(loop, &req, tp("un2"), on_fs)), 0);
  eddy_fs_req_cleanup(&req);
  assert_false(exists(tp("un2")));
  assert_int_equal(eddy_fs_unlink(loop, &req, tp("un1"), NULL), EDDY_ENOENT);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_unlink(loop, &req, tmpdir, on_fs)),
                   EDDY_EISDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_unlink(loop, &req, long_path(), NULL),
                   EDDY_ENAMETOOLONG);

  make_file(tp("rn-a"), "A");
  assert_int_equal(eddy_fs_rename(loop, &req, tp("rn-a"), tp("rn-b"), NULL), 0);
  assert_string_equal(slurp(tp("rn-b")), "A");
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_rename(loop, &req, tp("rn-b"), tp("rn-c"), on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_false(exists(tp("rn-b")));
  assert_string_equal(slurp(tp("rn-c")), "A");
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_rename(loop, &req, tp("rn-b"), tp("rn-d"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_rename(loop, &req, tp("rn-c"), tp("rn-c/x"), NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_rename(loop, &req, tp("rn-c"), NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(unlink(tp("rn-c")), 0);
}

static void check_listing(eddy_fs_t *req) {
  eddy_dirent_t ent;

  assert_int_equal(req->result, 3);
  assert_int_equal(eddy_fs_scandir_next(req, &ent), 0);
  assert_string_equal(ent.name, "a");
  assert_int_equal(ent.type, EDDY_DIRENT_FILE);
  assert_int_equal(eddy_fs_scandir_next(req, &ent), 0);
  assert_string_equal(ent.name, "b");
  assert_int_equal(ent.type, EDDY_DIRENT_LINK);
  assert_int_equal(eddy_fs_scandir_next(req, &ent), 0);
  assert_string_equal(ent.name, "c");
  assert_int_equal(ent.type, EDDY_DIRENT_DIR);
  assert_int_equal(eddy_fs_scandir_next(req, &ent), EDDY_EOF);
  assert_int_equal(eddy_fs_scandir_next(req, &ent), EDDY_EOF);
}

static void test_scandir(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_dirent_t ent;
  eddy_fs_t req;

  assert_int_equal(mkdir(tp("sd"), 0755), 0);
  assert_int_equal(mkdir(tp("sd/c"), 0755), 0);
  assert_int_equal(symlink("a", tp("sd/b")), 0);
  make_file(tp("sd/a"), "x");

  assert_int_equal(eddy_fs_scandir(loop, &req, tp("sd"), 0, NULL), 3);
  check_listing(&req);
  eddy_fs_req_cleanup(&req);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_scandir(loop, &req, tp("sd"), 0, on_fs)), 3);
  check_listing(&req);
  eddy_fs_req_cleanup(&req);
  /* Entries not taken are freed by cleanup too. */
  assert_int_equal(eddy_fs_scandir(loop, &req, tp("sd"), 0, NULL), 3);
  eddy_fs_req_cleanup(&req);

  assert_int_equal(eddy_fs_scandir(loop, &req, tp("sd/c"), 0, NULL), 0);
  assert_int_equal(eddy_fs_scandir_next(&req, &ent), EDDY_EOF);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_scandir(loop, &req, tp("nope"), 0, on_fs)),
      EDDY_ENOENT);
  assert_int_equal(eddy_fs_scandir_next(&req, &ent), EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_scandir(loop, &req, tp("sd/a"), 0, NULL),
                   EDDY_ENOTDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_stat(loop, &req, tp("sd"), NULL), 0);
  assert_int_equal(eddy_fs_scandir_next(&req, &ent), EDDY_EINVAL);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(a, b);
}

/* Read the directory two entries at a time; returns the names seen as a
 * sorted, comma-separated string. */
static const char *read_dir_stream(eddy_loop_t *loop, eddy_dir_t *dir,
                                   int async) {
  static char seen[256];
  char names[8][16];
  eddy_dirent_t ents[2];
  eddy_fs_t req;
  int n = 0, i, j;
  ssize_t got;

  do {
    dir->dirents = ents;
    dir->nentries = 2;
    if (async)
      got = ASYNC(loop, &req, eddy_fs_readdir(loop, &req, dir, on_fs));
    else
      got = eddy_fs_readdir(loop, &req, dir, NULL);
    assert_true(got >= 0 && got <= 2);
    assert_ptr_equal(req.ptr, dir);
    for (i = 0; i < got; i++) {
      assert_true(n < 8);
      snprintf(names[n++], sizeof(names[0]), "%s", ents[i].name);
    }
    eddy_fs_req_cleanup(&req);
  } while (got > 0);
  qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
  seen[0] = '\0';
  for (j = 0; j < n; j++) {
    strcat(seen, names[j]);
    strcat(seen, j + 1 < n ? "," : "");
  }
  return seen;
}

static void test_opendir(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_dir_t *dir;
  eddy_fs_t req;
  int async;

  assert_int_equal(mkdir(tp("od"), 0755), 0);
  make_file(tp("od/x"), "1");
  make_file(tp("od/y"), "2");
  make_file(tp("od/z"), "3");
  for (async = 0; async <= 1; async++) {
    if (async)
      assert_int_equal(
          ASYNC(loop, &req, eddy_fs_opendir(loop, &req, tp("od"), on_fs)), 0);
    else
      assert_int_equal(eddy_fs_opendir(loop, &req, tp("od"), NULL), 0);
    dir = req.ptr;
    assert_non_null(dir);
    eddy_fs_req_cleanup(&req);
    assert_string_equal(read_dir_stream(loop, dir, async), "x,y,z");
    if (async)
      assert_int_equal(
          ASYNC(loop, &req, eddy_fs_closedir(loop, &req, dir, on_fs)), 0);
    else
      assert_int_equal(eddy_fs_closedir(loop, &req, dir, NULL), 0);
    eddy_fs_req_cleanup(&req);
  }

  assert_int_equal(eddy_fs_opendir(loop, &req, tp("nope"), NULL), EDDY_ENOENT);
  assert_null(req.ptr);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_opendir(loop, &req, tp("od/x"), on_fs)),
      EDDY_ENOTDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_readdir(loop, &req, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_closedir(loop, &req, NULL, on_fs), EDDY_EINVAL);
  /* readdir needs somewhere to put the entries. */
  assert_int_equal(eddy_fs_opendir(loop, &req, tp("od"), NULL), 0);
  dir = req.ptr;
  dir->dirents = NULL;
  assert_int_equal(eddy_fs_readdir(loop, &req, dir, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_closedir(loop, &req, dir, NULL), 0);
}

/* ---- fsync, fdatasync, ftruncate -------------------------------------- */

static void test_sync_truncate(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;
  int fd;

  make_file(tp("tr"), "0123456789");
  fd = open(tp("tr"), O_RDWR);
  assert_true(fd >= 0);
  assert_int_equal(eddy_fs_fsync(loop, &req, fd, NULL), 0);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_fsync(loop, &req, fd, on_fs)), 0);
  assert_int_equal(eddy_fs_fdatasync(loop, &req, fd, NULL), 0);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_fdatasync(loop, &req, fd, on_fs)),
                   0);
  assert_int_equal(eddy_fs_ftruncate(loop, &req, fd, 4, NULL), 0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_size, 4);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_ftruncate(loop, &req, fd, 1 << 20, on_fs)), 0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_size, 1 << 20);
  assert_int_equal(eddy_fs_ftruncate(loop, &req, fd, -1, NULL), EDDY_EINVAL);
  close(fd);

  assert_int_equal(eddy_fs_fsync(loop, &req, -1, NULL), EDDY_EBADF);
  assert_int_equal(ASYNC(loop, &req, eddy_fs_fdatasync(loop, &req, -1, on_fs)),
                   EDDY_EBADF);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_ftruncate(loop, &req, -1, 0, on_fs)),
      EDDY_EBADF);
  fd = open(tp("tr"), O_RDONLY);
  assert_int_equal(eddy_fs_ftruncate(loop, &req, fd, 0, NULL), EDDY_EINVAL);
  close(fd);
}

/* ---- copyfile, sendfile ----------------------------------------------- */

static void test_copyfile(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;
  int r;

  make_file(tp("cp-src"), "copy me");
  assert_int_equal(chmod(tp("cp-src"), 0640), 0);
  assert_int_equal(
      eddy_fs_copyfile(loop, &req, tp("cp-src"), tp("cp-1"), 0, NULL), 0);
  assert_string_equal(slurp(tp("cp-1")), "copy me");
  assert_int_equal(stat(tp("cp-1"), &st), 0);
  assert_int_equal(st.st_mode & 07777, 0640);
  /* Over an existing, longer file: truncated, then the same bytes. */
  make_file(tp("cp-2"), "a much longer old content");
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_copyfile(loop, &req, tp("cp-src"), tp("cp-2"),
                                          EDDY_FS_COPYFILE_FICLONE, on_fs)),
                   0);
  eddy_fs_req_cleanup(&req);
  assert_string_equal(slurp(tp("cp-2")), "copy me");
  /* Onto itself: nothing changes. */
  assert_int_equal(
      eddy_fs_copyfile(loop, &req, tp("cp-src"), tp("cp-src"), 0, NULL), 0);
  assert_string_equal(slurp(tp("cp-src")), "copy me");
  /* A clone or nothing: ext4 and tmpfs cannot clone, and the destination
   * the failed attempt created is gone. */
  r = eddy_fs_copyfile(loop, &req, tp("cp-src"), tp("cp-3"),
                       EDDY_FS_COPYFILE_FICLONE_FORCE, NULL);
  if (r == 0)
    assert_string_equal(slurp(tp("cp-3")), "copy me");
  else
    assert_false(exists(tp("cp-3")));
  /* /proc reports size 0: copied to end of file all the same. */
  assert_int_equal(
      eddy_fs_copyfile(loop, &req, "/proc/self/status", tp("cp-4"), 0, NULL),
      0);
  assert_int_equal(strncmp(slurp(tp("cp-4")), "Name:", 5), 0);
}

static void test_copyfile_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  make_file(tp("ce-src"), "new");
  make_file(tp("ce-dst"), "old");
  assert_int_equal(eddy_fs_copyfile(loop, &req, tp("ce-src"), tp("ce-dst"),
                                    EDDY_FS_COPYFILE_EXCL, NULL),
                   EDDY_EEXIST);
  assert_string_equal(slurp(tp("ce-dst")), "old"); /* not removed */
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_copyfile(loop, &req, tp("nope"), tp("ce-x"), 0, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_false(exists(tp("ce-x")));
  assert_int_equal(eddy_fs_copyfile(loop, &req, tmpdir, tp("ce-x"), 0, NULL),
                   EDDY_EISDIR);
  assert_false(exists(tp("ce-x")));
  assert_int_equal(
      eddy_fs_copyfile(loop, &req, tp("ce-src"), tp("no/x"), 0, NULL),
      EDDY_ENOENT);
  assert_int_equal(eddy_fs_copyfile(loop, &req, tp("ce-src"), tmpdir, 0, NULL),
                   EDDY_EISDIR);
  assert_int_equal(
      eddy_fs_copyfile(loop, &req, tp("ce-src"), tp("ce-y"), 64, on_fs),
      EDDY_EINVAL);
  assert_int_equal(eddy_fs_copyfile(loop, &req, tp("ce-src"), NULL, 0, NULL),
                   EDDY_EINVAL);
}

static void test_sendfile(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char buf[32];
  eddy_fs_t req;
  int in, out, pfd[2];

  make_file(tp("sf-in"), "0123456789");
  in = open(tp("sf-in"), O_RDONLY);
  out = open(tp("sf-out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(in >= 0 && out >= 0);
  /* At an offset: in's position stays. */
  assert_int_equal(eddy_fs_sendfile(loop, &req, out, in, 3, 4, NULL), 4);
  assert_int_equal(lseek(in, 0, SEEK_CUR), 0);
  /* At the position (offset < 0), which advances; stops at end of file. */
  assert_int_equal(lseek(in, 8, SEEK_SET), 8);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_sendfile(loop, &req, out, in, -1, 100, on_fs)),
      2);
  assert_int_equal(lseek(in, 0, SEEK_CUR), 10);
  assert_string_equal(slurp(tp("sf-out")), "345689");
  assert_int_equal(eddy_fs_sendfile(loop, &req, out, in, 10, 5, NULL), 0);
  close(out);

  /* O_APPEND makes the kernel refuse sendfile: reads and writes instead. */
  out = open(tp("sf-out"), O_WRONLY | O_APPEND);
  assert_true(out >= 0);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_sendfile(loop, &req, out, in, 0, 3, on_fs)), 3);
  assert_string_equal(slurp(tp("sf-out")), "345689012");
  assert_int_equal(eddy_fs_sendfile(loop, &req, out, in, -1, 3, NULL), 0);
  close(out);

  /* To a pipe. */
  assert_int_equal(pipe(pfd), 0);
  assert_int_equal(eddy_fs_sendfile(loop, &req, pfd[1], in, 5, 5, NULL), 5);
  assert_int_equal(read(pfd[0], buf, sizeof(buf)), 5);
  assert_memory_equal(buf, "56789", 5);
  close(pfd[0]);
  close(pfd[1]);

  assert_int_equal(eddy_fs_sendfile(loop, &req, -1, in, 0, 5, NULL),
                   EDDY_EBADF);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_sendfile(loop, &req, in, -1, 0, 5, on_fs)),
      EDDY_EBADF);
  close(in);
}

/* ---- chmod, utime ----------------------------------------------------- */

static void test_chmod(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;
  int fd;

  make_file(tp("ch"), "x");
  assert_int_equal(eddy_fs_chmod(loop, &req, tp("ch"), 0600, NULL), 0);
  assert_int_equal(stat(tp("ch"), &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_chmod(loop, &req, tp("ch"), 0751, on_fs)), 0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("ch"), &st), 0);
  assert_int_equal(st.st_mode & 07777, 0751);
  fd = open(tp("ch"), O_RDONLY);
  assert_int_equal(eddy_fs_fchmod(loop, &req, fd, 0644, NULL), 0);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_fchmod(loop, &req, fd, 0640, on_fs)), 0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0640);
  close(fd);

  assert_int_equal(eddy_fs_chmod(loop, &req, tp("nope"), 0600, NULL),
                   EDDY_ENOENT);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_chmod(loop, &req, tp("ch/x"), 0600, on_fs)),
      EDDY_ENOTDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_fchmod(loop, &req, -1, 0600, NULL), EDDY_EBADF);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_fchmod(loop, &req, -1, 0600, on_fs)),
      EDDY_EBADF);
}

static void test_utime(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;
  int fd;

  make_file(tp("ut"), "x");
  assert_int_equal(
      eddy_fs_utime(loop, &req, tp("ut"), 1000000000.25, 1500000000.5, NULL),
      0);
  assert_int_equal(stat(tp("ut"), &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 1000000000);
  assert_int_equal(st.st_atim.tv_nsec, 250000000);
  assert_int_equal(st.st_mtim.tv_sec, 1500000000);
  assert_int_equal(st.st_mtim.tv_nsec, 500000000);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_utime(loop, &req, tp("ut"), 10, -1.5, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("ut"), &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 10);
  assert_int_equal(st.st_mtim.tv_sec, -2); /* -1.5 is 0.5 s after -2 */
  assert_int_equal(st.st_mtim.tv_nsec, 500000000);

  fd = open(tp("ut"), O_RDONLY);
  assert_int_equal(eddy_fs_futime(loop, &req, fd, 20, 30, NULL), 0);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_futime(loop, &req, fd, 40, 50, on_fs)), 0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 40);
  assert_int_equal(st.st_mtim.tv_sec, 50);
  assert_int_equal(eddy_fs_futime(loop, &req, fd, NAN, 1, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_utime(loop, &req, tp("ut"), 1, INFINITY, NULL),
                   EDDY_EINVAL);
  close(fd);

  assert_int_equal(eddy_fs_utime(loop, &req, tp("nope"), 1, 1, NULL),
                   EDDY_ENOENT);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_utime(loop, &req, long_path(), 1, 1, on_fs)),
      EDDY_ENAMETOOLONG);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_futime(loop, &req, -1, 1, 1, NULL), EDDY_EBADF);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_futime(loop, &req, -1, 1, 1, on_fs)),
      EDDY_EBADF);
}

/* ---- links, realpath, access ------------------------------------------ */

static void test_link_symlink_readlink(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char target[600];
  eddy_fs_t req;
  struct stat st;

  make_file(tp("ln"), "x");
  assert_int_equal(eddy_fs_link(loop, &req, tp("ln"), tp("ln-hard"), NULL), 0);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_link(loop, &req, tp("ln"), tp("ln-hard2"), on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("ln"), &st), 0);
  assert_int_equal(st.st_nlink, 3);
  assert_int_equal(eddy_fs_link(loop, &req, tp("ln"), tp("ln-hard"), NULL),
                   EDDY_EEXIST);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_link(loop, &req, tp("nope"), tp("ln-x"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);

  assert_int_equal(eddy_fs_symlink(loop, &req, "ln", tp("ln-sym"), 0, NULL), 0);
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_symlink(loop, &req, "dangling", tp("ln-dang"),
                                         EDDY_FS_SYMLINK_DIR, on_fs)),
                   0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_symlink(loop, &req, "ln", tp("ln-sym"), 0, NULL),
                   EDDY_EEXIST);

  assert_int_equal(eddy_fs_readlink(loop, &req, tp("ln-sym"), NULL), 0);
  assert_string_equal(req.ptr, "ln");
  eddy_fs_req_cleanup(&req);
  assert_null(req.ptr);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_readlink(loop, &req, tp("ln-dang"), on_fs)), 0);
  assert_string_equal(req.ptr, "dangling");
  eddy_fs_req_cleanup(&req);
  eddy_fs_req_cleanup(&req);
  /* A target longer than the first buffer. */
  memset(target, 't', sizeof(target) - 1);
  target[sizeof(target) - 1] = '\0';
  assert_int_equal(symlink(target, tp("ln-long")), 0);
  assert_int_equal(eddy_fs_readlink(loop, &req, tp("ln-long"), NULL), 0);
  assert_string_equal(req.ptr, target);
  eddy_fs_req_cleanup(&req);

  assert_int_equal(eddy_fs_readlink(loop, &req, tp("ln"), NULL), EDDY_EINVAL);
  assert_null(req.ptr);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_readlink(loop, &req, tp("nope"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
}

static void test_realpath_access(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char *expect;
  eddy_fs_t req;

  make_file(tp("rp"), "x");
  assert_int_equal(chmod(tp("rp"), 0644), 0);
  assert_int_equal(symlink("rp", tp("rp-link")), 0);
  expect = realpath(tp("rp"), NULL);
  assert_non_null(expect);
  assert_int_equal(eddy_fs_realpath(loop, &req, tp("./rp-link"), NULL), 0);
  assert_string_equal(req.ptr, expect);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_realpath(loop, &req, tp("nope/../rp"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_realpath(loop, &req, tp("rp-link"), on_fs)), 0);
  assert_string_equal(req.ptr, expect);
  eddy_fs_req_cleanup(&req);
  free(expect);
  assert_int_equal(eddy_fs_realpath(loop, &req, tp("rp/x"), NULL),
                   EDDY_ENOTDIR);
  eddy_fs_req_cleanup(&req);

  assert_int_equal(eddy_fs_access(loop, &req, tp("rp"), F_OK, NULL), 0);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_access(loop, &req, tp("rp"), R_OK | W_OK, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  /* No execute bit at all: refused even to root. */
  assert_int_equal(eddy_fs_access(loop, &req, tp("rp"), X_OK, NULL),
                   EDDY_EACCES);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_access(loop, &req, tp("nope"), F_OK, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_access(loop, &req, tp("rp/x"), F_OK, NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_access(loop, &req, long_path(), F_OK, NULL),
                   EDDY_ENAMETOOLONG);
}

/* ---- read_file, write_file -------------------------------------------- */

#define BIG (100u << 20)

static void fill_pattern(unsigned char *p, size_t n) {
  uint32_t x = 2463534242u;
  size_t i;

  for (i = 0; i < n; i++) {
    x ^= x << 13; /* xorshift32: cheap bytes that are not periodic */
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (unsigned char)x;
  }
}

static void test_read_file_100mb(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  unsigned char *data = malloc(BIG);
  eddy_fs_t req;

  assert_non_null(data);
  fill_pattern(data, BIG);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_write_file(loop, &req, tp("big"), data, BIG, 0644, on_fs)),
      BIG);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read_file(loop, &req, tp("big"), on_fs)), BIG);
  assert_non_null(req.ptr);
  assert_int_equal(((char *)req.ptr)[BIG], '\0');
  assert_true(memcmp(req.ptr, data, BIG) == 0);
  eddy_fs_req_cleanup(&req);
  assert_null(req.ptr);
  eddy_fs_req_cleanup(&req);
  free(data);
  assert_int_equal(unlink(tp("big")), 0);
}

static void test_write_read_file_round_trip(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char text[] = "round trip\n";
  struct stat st;
  eddy_fs_t req;
  mode_t mask = umask(022);

  assert_int_equal(
      eddy_fs_write_file(loop, &req, tp("wf"), text, strlen(text), 0640, NULL),
      (int)strlen(text));
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("wf"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640);
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("wf"), NULL),
                   (int)strlen(text));
  assert_string_equal(req.ptr, text);
  eddy_fs_req_cleanup(&req);
  /* Rewriting truncates: a shorter content leaves nothing of the old. */
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_write_file(loop, &req, tp("wf"), "ab", 2, 0600, on_fs)),
      2);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read_file(loop, &req, tp("wf"), on_fs)), 2);
  assert_string_equal(req.ptr, "ab");
  eddy_fs_req_cleanup(&req);
  umask(mask);
}

static void test_read_file_empty_and_proc(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_write_file(loop, &req, tp("empty"), NULL, 0, 0644, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_true(exists(tp("empty")));
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("empty"), NULL), 0);
  assert_non_null(req.ptr);
  assert_string_equal(req.ptr, "");
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read_file(loop, &req, tp("empty"), on_fs)), 0);
  eddy_fs_req_cleanup(&req);

  /* fstat says 0 bytes; the reads go on to end of file. */
  assert_true(eddy_fs_read_file(loop, &req, "/proc/self/status", NULL) > 0);
  assert_int_equal(strlen(req.ptr), req.result);
  assert_int_equal(strncmp(req.ptr, "Name:", 5), 0);
  assert_non_null(strstr(req.ptr, "\nPid:"));
  eddy_fs_req_cleanup(&req);
  assert_true(ASYNC(loop, &req,
                    eddy_fs_read_file(loop, &req, "/proc/self/maps", on_fs)) >
              0);
  assert_int_equal(strlen(req.ptr), req.result);
  eddy_fs_req_cleanup(&req);
}

static void test_read_write_file_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  make_file(tp("rf-file"), "x");
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("nope"), NULL),
                   EDDY_ENOENT);
  assert_null(req.ptr);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read_file(loop, &req, tp("nope"), on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  /* A directory opens, fails at fstat, and is closed by the chain (the
   * fixture checks that no descriptor is left). */
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_read_file(loop, &req, tmpdir, on_fs)),
      EDDY_EISDIR);
  assert_null(req.ptr);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_read_file(loop, &req, tmpdir, NULL), EDDY_EISDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("rf-file/x"), NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_read_file(loop, &req, long_path(), NULL),
                   EDDY_ENAMETOOLONG);
  assert_int_equal(eddy_fs_read_file(loop, &req, NULL, NULL), EDDY_EINVAL);

  assert_int_equal(eddy_fs_write_file(loop, &req, tmpdir, "x", 1, 0644, NULL),
                   EDDY_EISDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_write_file(loop, &req, tp("no/x"), "x", 1, 0644, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      eddy_fs_write_file(loop, &req, tp("w"), NULL, 1, 0644, on_fs),
      EDDY_EINVAL);
  /* Writing to /dev/full fails at the first write; the chain closes. */
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_write_file(loop, &req, "/dev/full", "x", 1, 0644, on_fs)),
      EDDY_ENOSPC);
  eddy_fs_req_cleanup(&req);
}

/* ---- the pool: ordering and cancellation ------------------------------ */

static char order[64];

static void order_work(eddy_work_t *w) {
  (void)w;
}

static void order_after_work(eddy_work_t *w, int status) {
  (void)w;
  assert_int_equal(status, 0);
  strcat(order, "work ");
}

static void order_fs(eddy_fs_t *req) {
  fs_calls++;
  strcat(order, req->fs_type == EDDY_FS_READ_FILE ? "read_file " : "stat ");
}

/* With one pool thread free, a job queued after read_file runs after its
 * open step, not after the whole chain: read_file's callback comes last. */
static void test_read_file_steps_interleave(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  int n = eddy_threadpool_size();
  static unsigned char data[2 << 20];
  eddy_work_t w;
  eddy_fs_t req;

  assert_true(n >= 1);
  fill_pattern(data, sizeof(data));
  assert_int_equal(eddy_fs_write_file(loop, &req, tp("steps"), data,
                                      sizeof(data), 0644, NULL),
                   (int)sizeof(data));
  eddy_fs_req_cleanup(&req);
  order[0] = '\0';
  test_gate_occupy(&gate, loop, (unsigned)(n - 1));
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("steps"), order_fs), 0);
  assert_int_equal(eddy_queue_work(loop, &w, order_work, order_after_work), 0);
  /* The free thread runs open, then the work (queued before the fstat
   * step), then the rest of the chain. */
  while (fs_calls == 0)
    eddy_run(loop, EDDY_RUN_ONCE);
  assert_string_equal(order, "work read_file ");
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(req.result, (ssize_t)sizeof(data));
  assert_true(memcmp(req.ptr, data, sizeof(data)) == 0);
  eddy_fs_req_cleanup(&req);
}

static void test_cancel_queued(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  int n = eddy_threadpool_size();
  eddy_fs_t st, rf, wf;

  make_file(tp("cq"), "x");
  test_gate_occupy(&gate, loop, (unsigned)(n));
  /* Every thread is held: these wait in the queue. */
  assert_int_equal(eddy_fs_stat(loop, &st, tp("cq"), on_fs), 0);
  assert_int_equal(eddy_fs_read_file(loop, &rf, tp("cq"), on_fs), 0);
  assert_int_equal(
      eddy_fs_write_file(loop, &wf, tp("cq-w"), "x", 1, 0644, on_fs), 0);
  assert_int_equal(eddy_cancel(&st.req), 0);
  assert_int_equal(eddy_cancel(&st.req), EDDY_EBUSY); /* already cancelled */
  assert_int_equal(eddy_cancel(&rf.req), 0);
  assert_int_equal(eddy_cancel(&wf.req), 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fs_calls, 3);
  assert_int_equal(st.result, EDDY_ECANCELED);
  assert_int_equal(rf.result, EDDY_ECANCELED);
  assert_null(rf.ptr);
  assert_int_equal(wf.result, EDDY_ECANCELED);
  assert_false(exists(tp("cq-w"))); /* cancelled before its open */
  /* Finished requests cannot be cancelled. */
  assert_int_equal(eddy_cancel(&st.req), EDDY_EBUSY);
  assert_int_equal(eddy_cancel(&rf.req), EDDY_EBUSY);
  eddy_fs_req_cleanup(&st);
  eddy_fs_req_cleanup(&rf);
  eddy_fs_req_cleanup(&wf);
  /* A synchronous request was never queued. */
  assert_int_equal(eddy_fs_stat(loop, &st, tp("cq"), NULL), 0);
  assert_int_equal(eddy_cancel(&st.req), EDDY_EBUSY);
}

/* A job that is running cannot be cancelled. A FIFO's open blocks until a
 * writer comes, and a non-blocking writer's open fails with ENXIO until
 * the reader is inside its open: then the job is certainly running. */
static void test_cancel_running(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  int wfd;

  assert_int_equal(mkfifo(tp("fifo"), 0600), 0);
  assert_int_equal(eddy_fs_open(loop, &req, tp("fifo"), O_RDONLY, 0, on_fs), 0);
  while ((wfd = open(tp("fifo"), O_WRONLY | O_NONBLOCK)) < 0) {
    assert_int_equal(errno, ENXIO);
    sched_yield();
  }
  assert_int_equal(eddy_cancel(&req.req), EDDY_EBUSY);
  assert_true(wait_fs(loop, &req) >= 0);
  close((int)req.result);
  close(wfd);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(unlink(tp("fifo")), 0);
}

/* Node's saturation experiment with FIFOs: `blocked` opens of FIFOs that
 * have no writer hold `blocked` pool threads. With all n threads held, a
 * stat queued after them cannot start (start order is FIFO) until a writer
 * releases one; with n - 1 held, it completes while the others still
 * wait. */
static void fifo_saturation(eddy_loop_t *loop, int blocked, int stat_waits) {
  eddy_fs_t opens[64], st;
  char name[32];
  int wfd[64];
  int i;

  assert_true(blocked <= 64);
  fs_calls = 0;
  for (i = 0; i < blocked; i++) {
    snprintf(name, sizeof(name), "sat-fifo-%d", i);
    assert_int_equal(mkfifo(tp(name), 0600), 0);
    assert_int_equal(eddy_fs_open(loop, &opens[i], tp(name), O_RDONLY, 0,
                                  on_fs),
                     0);
  }
  assert_int_equal(eddy_fs_stat(loop, &st, tp("sat-fifo-0"), on_fs), 0);
  if (stat_waits) {
    for (i = 0; i < 20; i++)
      eddy_run(loop, EDDY_RUN_NOWAIT);
    assert_int_equal(fs_calls, 0); /* no thread could take the stat */
  } else {
    while (fs_calls == 0)
      eddy_run(loop, EDDY_RUN_ONCE);
    assert_int_equal(st.result, 0); /* done while the opens still wait */
  }
  /* A writer releases each reader (blocking until the reader is there). */
  for (i = 0; i < blocked; i++) {
    snprintf(name, sizeof(name), "sat-fifo-%d", i);
    wfd[i] = open(tp(name), O_WRONLY | O_CLOEXEC);
    assert_true(wfd[i] >= 0);
  }
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fs_calls, blocked + 1);
  assert_int_equal(st.result, 0);
  for (i = 0; i < blocked; i++) {
    assert_true(opens[i].result >= 0);
    close((int)opens[i].result);
    close(wfd[i]);
    eddy_fs_req_cleanup(&opens[i]);
    snprintf(name, sizeof(name), "sat-fifo-%d", i);
    assert_int_equal(unlink(tp(name)), 0);
  }
  eddy_fs_req_cleanup(&st);
}

static void test_blocked_pool_stalls_stat(void **state) {
  fifo_saturation(&((struct fixture *)*state)->loop, eddy_threadpool_size(),
                  1);
}

static void test_one_free_thread_serves_stat(void **state) {
  int n = eddy_threadpool_size();

  if (n < 2)
    skip();
  fifo_saturation(&((struct fixture *)*state)->loop, n - 1, 0);
}

/* Cancel a read_file after its open: the chain still closes the file, on
 * the pool (close_on_pool) or, if the close step is cancelled too, on the
 * loop thread. Either way no descriptor is left and the callback reports
 * EDDY_ECANCELED. */
static void cancel_mid_chain(eddy_loop_t *loop, int cancel_close) {
  int n = eddy_threadpool_size();
  eddy_fs_t req;
  int fds;

  make_file(tp("mid"), "some data");
  /* A first job gives the loop its wake-up descriptor: count after it. */
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_stat(loop, &req, tp("mid"), on_fs)), 0);
  eddy_fs_req_cleanup(&req);
  fs_calls = 0;
  fds = test_count_fds();
  test_gate_occupy(&gate, loop, (unsigned)(n - 1));
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("mid"), on_fs), 0);
  /* Queued behind the open step: takes the last thread once open is done,
   * so the next step waits in the queue. */
  gate.reqs[n - 1].req.data = &gate;
  assert_int_equal(eddy_queue_work(loop, &gate.reqs[n - 1], test_gate_work,
                                   test_gate_after),
                   0);
  while (req.priv.file < 0)
    eddy_run(loop, EDDY_RUN_ONCE);
  assert_int_equal(req.priv.step, EDDY__FS_STEP_FSTAT);
  assert_int_equal(test_count_fds(), fds + 1);
  assert_int_equal(eddy_cancel(&req.req), 0);
  while (req.priv.step != EDDY__FS_STEP_CLOSE)
    eddy_run(loop, EDDY_RUN_ONCE);
  assert_int_equal(fs_calls, 0);
  if (cancel_close)
    assert_int_equal(eddy_cancel(&req.req), 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fs_calls, 1);
  assert_int_equal(req.result, EDDY_ECANCELED);
  assert_null(req.ptr);
  assert_int_equal(test_count_fds(), fds);
  eddy_fs_req_cleanup(&req);
}

static void test_cancel_read_file_mid_chain(void **state) {
  cancel_mid_chain(&((struct fixture *)*state)->loop, 0);
}

static void test_cancel_read_file_close_step(void **state) {
  cancel_mid_chain(&((struct fixture *)*state)->loop, 1);
}

/* Paths are copied for async calls: the caller's buffer may change. */
static void test_async_path_copied(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char path[PATH_MAX], link_path[PATH_MAX];
  eddy_fs_t req;

  make_file(tp("pc"), "x");
  snprintf(path, sizeof(path), "%s", tp("pc"));
  snprintf(link_path, sizeof(link_path), "%s", tp("pc-link"));
  assert_int_equal(eddy_fs_symlink(loop, &req, path, link_path, 0, on_fs), 0);
  memset(path, 'z', 16);
  memset(link_path, 'z', 16);
  assert_int_equal(wait_fs(loop, &req), 0);
  assert_string_equal(req.priv.new_path, tp("pc-link"));
  eddy_fs_req_cleanup(&req);
  eddy_fs_req_cleanup(&req);
  assert_true(exists(tp("pc-link")));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
      T(test_open_close),
      T(test_open_close_errors),
      T(test_open_out_of_descriptors),
      T(test_read_write_vectored),
      T(test_read_write_many_bufs), T(test_write_beyond_iov_max),
      T(test_read_write_errors),
      T(test_stat),
      T(test_stat_errors),
      T(test_mkdir_rmdir),
      T(test_mkdtemp),
      T(test_unlink_rename),
      T(test_scandir),
      T(test_opendir),
      T(test_sync_truncate),
      T(test_copyfile),
      T(test_copyfile_errors),
      T(test_sendfile),
      T(test_chmod),
      T(test_utime),
      T(test_link_symlink_readlink),
      T(test_realpath_access),
      T(test_read_file_100mb),
      T(test_write_read_file_round_trip),
      T(test_read_file_empty_and_proc),
      T(test_read_write_file_errors),
      T(test_read_file_steps_interleave),
      T(test_cancel_queued),
      T(test_cancel_running),
      T(test_blocked_pool_stalls_stat),
      T(test_one_free_thread_serves_stat),
      T(test_cancel_read_file_mid_chain),
      T(test_cancel_read_file_close_step),
      T(test_async_path_copied),
#undef T
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
