/* test_fs_meta.c: ownership (chown, fchown, lchown), times with NOW and
 * OMIT (utime, futime, lutime), mkstemp, statfs, appendFile, the system
 * error behind a failed request and its translation, and cancellation of
 * every kind of queued fs request. Synchronous and on the pool, success
 * and error paths. */
#include <math.h>
#include <time.h>

#include "test_fs_util.h"

/* ---- chown, fchown, lchown -------------------------------------------- */

static void test_chown(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;
  int fd;

  if (geteuid() != 0)
    skip(); /* giving files away needs root */
  make_file(tp("own"), "x");
  assert_int_equal(eddy_fs_chown(loop, &req, tp("own"), 1234, 5678, NULL), 0);
  assert_int_equal(req.fs_type, EDDY_FS_CHOWN);
  assert_int_equal(stat(tp("own"), &st), 0);
  assert_int_equal(st.st_uid, 1234);
  assert_int_equal(st.st_gid, 5678);
  /* -1 keeps an id */
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_chown(loop, &req, tp("own"), (eddy_uid_t)-1, 4321, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("own"), &st), 0);
  assert_int_equal(st.st_uid, 1234);
  assert_int_equal(st.st_gid, 4321);

  fd = open(tp("own"), O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(eddy_fs_fchown(loop, &req, fd, 11, (eddy_gid_t)-1, NULL), 0);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_fchown(loop, &req, fd, 12, 13, on_fs)), 0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_uid, 12);
  assert_int_equal(st.st_gid, 13);
  close(fd);

  /* lchown changes the link, not its target */
  assert_int_equal(symlink(tp("own"), tp("own-link")), 0);
  assert_int_equal(eddy_fs_lchown(loop, &req, tp("own-link"), 77, 88, NULL), 0);
  assert_int_equal(lstat(tp("own-link"), &st), 0);
  assert_int_equal(st.st_uid, 77);
  assert_int_equal(st.st_gid, 88);
  assert_int_equal(stat(tp("own-link"), &st), 0);
  assert_int_equal(st.st_uid, 12);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_lchown(loop, &req, tp("own-link"), 0, 0, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(lstat(tp("own-link"), &st), 0);
  assert_int_equal(st.st_uid, 0);
  /* chown follows the link */
  assert_int_equal(eddy_fs_chown(loop, &req, tp("own-link"), 5, 5, NULL), 0);
  assert_int_equal(stat(tp("own"), &st), 0);
  assert_int_equal(st.st_uid, 5);
}

static void test_chown_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  assert_int_equal(eddy_fs_chown(loop, &req, tp("nope"), 1, 1, NULL),
                   EDDY_ENOENT);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_chown(loop, &req, tp("nope"), 1, 1, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_lchown(loop, &req, tp("nope"), 1, 1, NULL),
                   EDDY_ENOENT);
  assert_int_equal(eddy_fs_fchown(loop, &req, -1, 1, 1, NULL), EDDY_EBADF);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_fchown(loop, &req, -1, 1, 1, on_fs)),
      EDDY_EBADF);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_chown(loop, &req, NULL, 1, 1, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_lchown(loop, &req, NULL, 1, 1, on_fs), EDDY_EINVAL);
  assert_int_equal(eddy_fs_chown(NULL, &req, tp("x"), 1, 1, on_fs),
                   EDDY_EINVAL);
  eddy_fs_req_cleanup(&req);
  /* a file under a regular file */
  make_file(tp("own-file"), "x");
  assert_int_equal(eddy_fs_chown(loop, &req, tp("own-file/x"), 1, 1, NULL),
                   EDDY_ENOTDIR);
}

/* ---- times: NOW and OMIT, lutime -------------------------------------- */

/* The kernel stamps files from its coarse clock, which can trail time()
 * across a second boundary, so "now" is checked with a second of slack. */
static int64_t now_s(void) {
  return (int64_t)time(NULL);
}

static int64_t before_s(void) {
  return now_s() - 1;
}

static void test_utime_now_omit(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;
  int64_t before;
  int fd;

  make_file(tp("t"), "x");
  assert_int_equal(eddy_fs_utime(loop, &req, tp("t"), 1000, 2000, NULL), 0);
  /* OMIT keeps the access time; the new mtime lands */
  assert_int_equal(
      eddy_fs_utime(loop, &req, tp("t"), EDDY_FS_UTIME_OMIT, 3000.5, NULL), 0);
  assert_int_equal(stat(tp("t"), &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 1000);
  assert_int_equal(st.st_mtim.tv_sec, 3000);
  assert_int_equal(st.st_mtim.tv_nsec, 500000000);
  /* NOW sets the current time; OMIT keeps the mtime */
  before = before_s();
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_utime(loop, &req, tp("t"), EDDY_FS_UTIME_NOW,
                                       EDDY_FS_UTIME_OMIT, on_fs)),
                   0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("t"), &st), 0);
  assert_true(st.st_atim.tv_sec >= before && st.st_atim.tv_sec <= now_s());
  assert_int_equal(st.st_mtim.tv_sec, 3000);

  fd = open(tp("t"), O_RDWR | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(eddy_fs_futime(loop, &req, fd, 50, EDDY_FS_UTIME_NOW, NULL),
                   0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 50);
  assert_true(st.st_mtim.tv_sec >= before);
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_futime(loop, &req, fd, EDDY_FS_UTIME_OMIT,
                                        EDDY_FS_UTIME_OMIT, on_fs)),
                   0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 50);
  close(fd);
}

static void test_lutime(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;

  make_file(tp("lt"), "x");
  assert_int_equal(eddy_fs_utime(loop, &req, tp("lt"), 100, 200, NULL), 0);
  assert_int_equal(symlink(tp("lt"), tp("lt-link")), 0);
  assert_int_equal(eddy_fs_lutime(loop, &req, tp("lt-link"), 7, 8.25, NULL), 0);
  assert_int_equal(req.fs_type, EDDY_FS_LUTIME);
  assert_int_equal(lstat(tp("lt-link"), &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 7);
  assert_int_equal(st.st_mtim.tv_sec, 8);
  assert_int_equal(st.st_mtim.tv_nsec, 250000000);
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_lutime(loop, &req, tp("lt-link"),
                                        EDDY_FS_UTIME_OMIT, 9, on_fs)),
                   0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(lstat(tp("lt-link"), &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 7);
  assert_int_equal(st.st_mtim.tv_sec, 9);
  /* The target is untouched. (Following the link reads it, which may
   * update the link's own access time: so this comes last.) */
  assert_int_equal(stat(tp("lt-link"), &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 100);
  assert_int_equal(st.st_mtim.tv_sec, 200);
  /* on a plain file it is utime */
  assert_int_equal(eddy_fs_lutime(loop, &req, tp("lt"), 1, 2, NULL), 0);
  assert_int_equal(stat(tp("lt"), &st), 0);
  assert_int_equal(st.st_mtim.tv_sec, 2);
}

static void test_lutime_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  assert_int_equal(eddy_fs_lutime(loop, &req, tp("nope"), 1, 1, NULL),
                   EDDY_ENOENT);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_lutime(loop, &req, tp("nope"), 1, 1, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  make_file(tp("lt-bad"), "x");
  assert_int_equal(eddy_fs_lutime(loop, &req, tp("lt-bad"), NAN, 1, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_lutime(loop, &req, tp("lt-bad"), 1, -INFINITY, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_lutime(loop, &req, NULL, 1, 1, NULL), EDDY_EINVAL);
}

/* ---- mkstemp ---------------------------------------------------------- */

static void check_temp_file(const eddy_fs_t *req, int fd) {
  struct stat st;

  assert_true(fd >= 0);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
  assert_non_null(req->path);
  assert_null(strstr(req->path, "XXXXXX"));
  assert_int_equal(strncmp(req->path, tp("tmp-"), strlen(tp("tmp-"))), 0);
  assert_int_equal(stat(req->path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(write(fd, "ab", 2), 2);
  close(fd);
}

static void test_mkstemp(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char tpl[PATH_MAX];
  char first[PATH_MAX];
  eddy_fs_t req;
  int fd;

  snprintf(tpl, sizeof(tpl), "%s", tp("tmp-XXXXXX"));
  fd = eddy_fs_mkstemp(loop, &req, tpl, NULL);
  assert_int_equal(req.fs_type, EDDY_FS_MKSTEMP);
  assert_int_equal(req.result, fd);
  check_temp_file(&req, fd);
  assert_string_equal(tpl, tp("tmp-XXXXXX")); /* the caller's: untouched */
  snprintf(first, sizeof(first), "%s", req.path);
  eddy_fs_req_cleanup(&req);
  assert_null(req.path);

  fd = (int)ASYNC(loop, &req, eddy_fs_mkstemp(loop, &req, tpl, on_fs));
  check_temp_file(&req, fd);
  assert_string_not_equal(req.path, first);
  assert_string_equal(slurp(req.path), "ab");
  eddy_fs_req_cleanup(&req);
}

static void test_mkstemp_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  assert_int_equal(eddy_fs_mkstemp(loop, &req, tp("tmp-XXXXX"), NULL),
                   EDDY_EINVAL);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_mkstemp(loop, &req, "XX", NULL), EDDY_EINVAL);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_mkstemp(loop, &req, tp("tmp-XXXXXXy"), on_fs)),
      EDDY_EINVAL);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_mkstemp(loop, &req, tp("no-dir/tmp-XXXXXX"), NULL),
                   EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_mkstemp(loop, &req, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_mkstemp(loop, NULL, tp("x-XXXXXX"), NULL),
                   EDDY_EINVAL);
}

/* ---- statfs ----------------------------------------------------------- */

static void test_statfs(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  const eddy_statfs_t *sf;
  eddy_fs_t req;

  assert_int_equal(eddy_fs_statfs(loop, &req, tmpdir, NULL), 0);
  assert_int_equal(req.fs_type, EDDY_FS_STATFS);
  sf = req.ptr;
  assert_non_null(sf);
  assert_true(sf->bsize > 0);
  assert_true(sf->blocks > 0);
  assert_true(sf->bfree <= sf->blocks);
  assert_true(sf->bavail <= sf->bfree);
  assert_true(sf->ffree <= sf->files);
  eddy_fs_req_cleanup(&req);
  assert_null(req.ptr);

  assert_int_equal(ASYNC(loop, &req, eddy_fs_statfs(loop, &req, "/", on_fs)),
                   0);
  sf = req.ptr;
  assert_true(sf->bsize > 0);
  eddy_fs_req_cleanup(&req);
  eddy_fs_req_cleanup(&req); /* twice is fine */

  /* /proc is its own file system: another magic number */
  assert_int_equal(eddy_fs_statfs(loop, &req, "/proc", NULL), 0);
  assert_int_equal(((const eddy_statfs_t *)req.ptr)->type, 0x9fa0);
  eddy_fs_req_cleanup(&req);
}

static void test_statfs_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  assert_int_equal(eddy_fs_statfs(loop, &req, tp("nope"), NULL), EDDY_ENOENT);
  assert_null(req.ptr);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_statfs(loop, &req, tp("nope"), on_fs)),
      EDDY_ENOENT);
  assert_null(req.ptr);
  eddy_fs_req_cleanup(&req);
  make_file(tp("sf"), "x");
  assert_int_equal(eddy_fs_statfs(loop, &req, tp("sf/x"), NULL), EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_statfs(loop, &req, NULL, NULL), EDDY_EINVAL);
}

/* ---- appendFile ------------------------------------------------------- */

static void test_append_file(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  static unsigned char big[(1u << 20) + 3];
  mode_t mask;
  eddy_fs_t req;
  struct stat st;
  size_t i;

  assert_int_equal(
      eddy_fs_append_file(loop, &req, tp("ap"), "one\n", 4, 0640, NULL), 4);
  assert_int_equal(req.fs_type, EDDY_FS_APPEND_FILE);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(stat(tp("ap"), &st), 0);
  mask = umask(022);
  umask(mask);
  assert_int_equal(st.st_mode & 0777, 0640 & ~mask);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_append_file(loop, &req, tp("ap"), "two\n", 4, 0600, on_fs)),
      4);
  eddy_fs_req_cleanup(&req);
  assert_string_equal(slurp(tp("ap")), "one\ntwo\n");
  /* nothing to append: the file is still created */
  assert_int_equal(
      eddy_fs_append_file(loop, &req, tp("ap-empty"), NULL, 0, 0644, NULL), 0);
  assert_true(exists(tp("ap-empty")));
  /* more than one 512 KiB step */
  for (i = 0; i < sizeof(big); i++)
    big[i] = (unsigned char)(i * 7);
  make_file(tp("ap-big"), "head");
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_append_file(loop, &req, tp("ap-big"), big,
                                             sizeof(big), 0644, on_fs)),
                   (ssize_t)sizeof(big));
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("ap-big"), NULL),
                   (int)sizeof(big) + 4);
  assert_memory_equal(req.ptr, "head", 4);
  assert_memory_equal((char *)req.ptr + 4, big, sizeof(big));
  eddy_fs_req_cleanup(&req);
}

static void test_append_file_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  assert_int_equal(eddy_fs_append_file(loop, &req, tmpdir, "x", 1, 0644, NULL),
                   EDDY_EISDIR);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_append_file(loop, &req, tp("no-dir/f"), "x", 1,
                                             0644, on_fs)),
                   EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      eddy_fs_append_file(loop, &req, tp("ap-x"), NULL, 1, 0644, NULL),
      EDDY_EINVAL);
  assert_int_equal(eddy_fs_append_file(loop, &req, NULL, "x", 1, 0644, NULL),
                   EDDY_EINVAL);
  assert_false(exists(tp("ap-x")));
}

/* ---- the system error behind a result --------------------------------- */

static void test_system_error(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  int sys;

  assert_int_equal(eddy_fs_stat(loop, &req, tp("nope"), NULL), EDDY_ENOENT);
  sys = eddy_fs_get_system_error(&req);
  assert_int_equal(sys, ENOENT);
  assert_int_equal(eddy_translate_sys_error(sys), EDDY_ENOENT);
  assert_int_equal(eddy_translate_sys_error(sys), req.result);
  eddy_fs_req_cleanup(&req);

  assert_int_equal(
      ASYNC(loop, &req, eddy_fs_open(loop, &req, tmpdir, O_WRONLY, 0, on_fs)),
      EDDY_EISDIR);
  assert_int_equal(eddy_fs_get_system_error(&req), EISDIR);
  eddy_fs_req_cleanup(&req);

  /* success: no system error, whatever the result's value */
  make_file(tp("se"), "abc");
  assert_int_equal(eddy_fs_stat(loop, &req, tp("se"), NULL), 0);
  assert_int_equal(eddy_fs_get_system_error(&req), 0);
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("se"), NULL), 3);
  assert_int_equal(eddy_fs_get_system_error(&req), 0);
  eddy_fs_req_cleanup(&req);
  assert_int_equal(eddy_fs_get_system_error(NULL), 0);
  /* eddy's own codes are not system errors */
  req.result = EDDY_EOF;
  assert_int_equal(eddy_fs_get_system_error(&req), 0);
  req.result = EDDY_EAI_NONAME;
  assert_int_equal(eddy_fs_get_system_error(&req), 0);
  req.result = EDDY_ECANCELED;
  assert_int_equal(eddy_fs_get_system_error(&req), ECANCELED);

  /* translation: positive errno to eddy's code; 0 and codes unchanged */
  assert_int_equal(eddy_translate_sys_error(EACCES), EDDY_EACCES);
  assert_int_equal(eddy_translate_sys_error(ENOTTY), EDDY_ENOTTY);
  assert_string_equal(eddy_err_name(eddy_translate_sys_error(ENOTTY)),
                      "ENOTTY");
  assert_int_equal(eddy_translate_sys_error(0), 0);
  assert_int_equal(eddy_translate_sys_error(EDDY_EPIPE), EDDY_EPIPE);
  assert_int_equal(eddy_translate_sys_error(EDDY_EOF), EDDY_EOF);
}

/* ---- cancelling queued requests of every kind ------------------------- */

enum { NCANCEL = 24 };

static void test_cancel_every_kind(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  static eddy_fs_t reqs[NCANCEL];
  static char data[] = "data";
  static eddy_dirent_t dirents[2];
  eddy_dir_t fake_dir;
  eddy_buf_t buf = eddy_buf_init(data, 4);
  unsigned n = 0, i;
  int fd;

  make_file(tp("cx"), "x");
  fd = open(tp("cx"), O_RDWR | O_CLOEXEC);
  assert_true(fd >= 0);
  test_gate_occupy_pool(&gate, loop);
  /* Every pool thread is held: each of these waits in the queue. */
#define Q(call) assert_int_equal((call), 0), n++
  Q(eddy_fs_open(loop, &reqs[n], tp("c-open"), O_CREAT | O_WRONLY, 0644,
                 on_fs));
  Q(eddy_fs_close(loop, &reqs[n], fd, on_fs));
  Q(eddy_fs_read(loop, &reqs[n], fd, &buf, 1, 0, on_fs));
  Q(eddy_fs_write(loop, &reqs[n], fd, &buf, 1, 0, on_fs));
  Q(eddy_fs_stat(loop, &reqs[n], tp("cx"), on_fs));
  Q(eddy_fs_fstat(loop, &reqs[n], fd, on_fs));
  Q(eddy_fs_unlink(loop, &reqs[n], tp("cx"), on_fs));
  Q(eddy_fs_mkdir(loop, &reqs[n], tp("c-dir"), 0755, on_fs));
  Q(eddy_fs_mkdtemp(loop, &reqs[n], tp("c-XXXXXX"), on_fs));
  Q(eddy_fs_rename(loop, &reqs[n], tp("cx"), tp("c-renamed"), on_fs));
  Q(eddy_fs_scandir(loop, &reqs[n], tmpdir, 0, on_fs));
  Q(eddy_fs_opendir(loop, &reqs[n], tmpdir, on_fs));
  Q(eddy_fs_ftruncate(loop, &reqs[n], fd, 0, on_fs));
  Q(eddy_fs_copyfile(loop, &reqs[n], tp("cx"), tp("c-copy"), 0, on_fs));
  Q(eddy_fs_chmod(loop, &reqs[n], tp("cx"), 0600, on_fs));
  Q(eddy_fs_utime(loop, &reqs[n], tp("cx"), 1, 1, on_fs));
  Q(eddy_fs_symlink(loop, &reqs[n], tp("cx"), tp("c-link"), 0, on_fs));
  Q(eddy_fs_chown(loop, &reqs[n], tp("cx"), 0, 0, on_fs));
  Q(eddy_fs_lutime(loop, &reqs[n], tp("cx"), 1, 1, on_fs));
  Q(eddy_fs_mkstemp(loop, &reqs[n], tp("c-tmp-XXXXXX"), on_fs));
  Q(eddy_fs_statfs(loop, &reqs[n], tmpdir, on_fs));
  Q(eddy_fs_append_file(loop, &reqs[n], tp("c-append"), data, 4, 0644, on_fs));
  Q(eddy_fs_write_file(loop, &reqs[n], tp("c-write"), data, 4, 0644, on_fs));
  Q(eddy_fs_read_file(loop, &reqs[n], tp("cx"), on_fs));
#undef Q
  assert_int_equal(n, NCANCEL);
  for (i = 0; i < n; i++)
    assert_int_equal(eddy_cancel(&reqs[i].req), 0);
  for (i = 0; i < n; i++) /* a second cancel finds them cancelled */
    assert_int_equal(eddy_cancel(&reqs[i].req), EDDY_EBUSY);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fs_calls, (int)n);
  for (i = 0; i < n; i++) {
    assert_int_equal(reqs[i].result, EDDY_ECANCELED);
    assert_int_equal(eddy_fs_get_system_error(&reqs[i]), ECANCELED);
    assert_null(reqs[i].ptr);
    eddy_fs_req_cleanup(&reqs[i]);
  }
  /* None ran: nothing was created, moved, removed or changed. */
  assert_false(exists(tp("c-open")));
  assert_false(exists(tp("c-dir")));
  assert_false(exists(tp("c-renamed")));
  assert_false(exists(tp("c-copy")));
  assert_false(exists(tp("c-link")));
  assert_false(exists(tp("c-append")));
  assert_false(exists(tp("c-write")));
  assert_true(exists(tp("cx")));
  assert_string_equal(slurp(tp("cx")), "x");
  /* the close was cancelled too: the descriptor is still open */
  assert_true(fcntl(fd, F_GETFD) != -1);
  close(fd);
  /* requests that never reach the pool cannot be cancelled */
  memset(&fake_dir, 0, sizeof(fake_dir));
  fake_dir.dirents = dirents;
  fake_dir.nentries = 2;
  assert_int_equal(eddy_fs_readdir(loop, &reqs[0], &fake_dir, on_fs),
                   EDDY_EINVAL);
  assert_int_equal(eddy_cancel(&reqs[0].req), EDDY_EBUSY);
  assert_int_equal(eddy_cancel(NULL), EDDY_EINVAL);
}

/* A cancelled mkstemp leaves no file behind and its template unfilled. */
static void test_cancel_mkstemp(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  eddy_fs_t st;

  test_gate_occupy_pool(&gate, loop);
  assert_int_equal(eddy_fs_mkstemp(loop, &req, tp("cm-XXXXXX"), on_fs), 0);
  assert_int_equal(eddy_fs_statfs(loop, &st, tmpdir, on_fs), 0);
  assert_int_equal(eddy_cancel(&req.req), 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(req.result, EDDY_ECANCELED);
  assert_string_equal(req.path, tp("cm-XXXXXX"));
  assert_int_equal(st.result, 0); /* the one not cancelled ran */
  assert_non_null(st.ptr);
  eddy_fs_req_cleanup(&req);
  eddy_fs_req_cleanup(&st);
  assert_int_equal(fs_calls, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      FS_TEST(test_chown),
      FS_TEST(test_chown_errors),
      FS_TEST(test_utime_now_omit),
      FS_TEST(test_lutime),
      FS_TEST(test_lutime_errors),
      FS_TEST(test_mkstemp),
      FS_TEST(test_mkstemp_errors),
      FS_TEST(test_statfs),
      FS_TEST(test_statfs_errors),
      FS_TEST(test_append_file),
      FS_TEST(test_append_file_errors),
      FS_TEST(test_system_error),
      FS_TEST(test_cancel_every_kind),
      FS_TEST(test_cancel_mkstemp),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
