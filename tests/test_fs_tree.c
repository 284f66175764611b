/* test_fs_tree.c: Node's recursive directory calls: mkdir with
 * { recursive }, rm with { recursive, force }, and cp (files, links and
 * trees; force, errorOnExist, dereference, verbatimSymlinks,
 * preserveTimestamps; Node's refusals), synchronous and on the pool. */
#include <dirent.h>

#include "test_fs_util.h"

/* ---- helpers ---------------------------------------------------------- */

/* snprintf that must fit. */
#define PUT(buf, cap, ...)                                                     \
  assert_true((size_t)snprintf((buf), (cap), __VA_ARGS__) < (size_t)(cap))

/* A listing of the tree under root, sorted by name, one entry per line:
 * "d name mode", "f name mode contents", "l name -> target". */
static void describe_into(const char *root, const char *rel, char *out,
                          size_t cap) {
  char path[PATH_MAX], sub[PATH_MAX], target[PATH_MAX];
  struct dirent **names;
  struct stat st;
  int n, i;
  ssize_t t;

  PUT(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
  n = scandir(path, &names, NULL, alphasort);
  assert_true(n >= 0);
  for (i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    size_t len = strlen(out);

    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
      PUT(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", name);
      PUT(path, sizeof(path), "%s/%s", root, sub);
      assert_int_equal(lstat(path, &st), 0);
      if (S_ISDIR(st.st_mode)) {
        PUT(out + len, cap - len, "d %s %o\n", sub,
            (unsigned)(st.st_mode & 07777));
        describe_into(root, sub, out, cap);
      } else if (S_ISLNK(st.st_mode)) {
        t = readlink(path, target, sizeof(target) - 1);
        assert_true(t >= 0);
        target[t] = '\0';
        PUT(out + len, cap - len, "l %s -> %s\n", sub, target);
      } else {
        PUT(out + len, cap - len, "f %s %o %s\n", sub,
            (unsigned)(st.st_mode & 07777), slurp(path));
      }
    }
    free(names[i]);
  }
  free(names);
}

static const char *describe(const char *root) {
  static char out[8192];

  out[0] = '\0';
  describe_into(root, "", out, sizeof(out));
  return out;
}

static void make_dir(const char *path, mode_t mode) {
  assert_int_equal(mkdir(path, mode), 0);
  assert_int_equal(chmod(path, mode), 0); /* past the umask */
}

static void make_file_mode(const char *path, const char *data, mode_t mode) {
  make_file(path, data);
  assert_int_equal(chmod(path, mode), 0);
}

static int is_dir(const char *path) {
  struct stat st;

  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static mode_t current_umask(void) {
  mode_t m = umask(022);

  umask(m);
  return m;
}

/* ---- mkdir recursive -------------------------------------------------- */

static void test_mkdir_recursive(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;

  assert_int_equal(
      eddy_fs_mkdir_recursive(loop, &req, tp("mk/a/b/c"), 0750, NULL), 0);
  assert_int_equal(req.fs_type, EDDY_FS_MKDIR_RECURSIVE);
  assert_string_equal(req.ptr, tp("mk")); /* the first one made */
  eddy_fs_req_cleanup(&req);
  assert_null(req.ptr);
  assert_true(is_dir(tp("mk/a/b/c")));
  assert_int_equal(stat(tp("mk/a"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0750 & ~current_umask());
  /* all there: no error, nothing made */
  assert_int_equal(
      eddy_fs_mkdir_recursive(loop, &req, tp("mk/a/b/c"), 0750, NULL), 0);
  assert_null(req.ptr);
  assert_int_equal(eddy_fs_mkdir_recursive(loop, &req, tmpdir, 0750, NULL), 0);
  assert_null(req.ptr);
  assert_int_equal(eddy_fs_mkdir_recursive(loop, &req, "/", 0750, NULL), 0);
  /* some there: the first new one is reported, trailing slashes cut */
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_mkdir_recursive(
                             loop, &req, tp("mk/a/x//y/z//"), 0755, on_fs)),
                   0);
  assert_string_equal(req.ptr, tp("mk/a/x"));
  eddy_fs_req_cleanup(&req);
  assert_true(is_dir(tp("mk/a/x/y/z")));
  /* ".." is taken as the kernel takes it */
  assert_int_equal(
      eddy_fs_mkdir_recursive(loop, &req, tp("mk2/p/../q"), 0755, NULL), 0);
  assert_string_equal(req.ptr, tp("mk2"));
  eddy_fs_req_cleanup(&req);
  assert_true(is_dir(tp("mk2/p")) && is_dir(tp("mk2/q")));
}

static void test_mkdir_recursive_relative(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  assert_true(cwd >= 0);
  assert_int_equal(chdir(tmpdir), 0);
  assert_int_equal(
      eddy_fs_mkdir_recursive(loop, &req, "rel/one/two", 0755, NULL), 0);
  assert_string_equal(req.ptr, "rel");
  eddy_fs_req_cleanup(&req);
  assert_int_equal(
      eddy_fs_mkdir_recursive(loop, &req, "rel/one/three", 0755, NULL), 0);
  assert_string_equal(req.ptr, "rel/one/three");
  eddy_fs_req_cleanup(&req);
  assert_int_equal(fchdir(cwd), 0);
  close(cwd);
  assert_true(is_dir(tp("rel/one/two")) && is_dir(tp("rel/one/three")));
}

static void test_mkdir_recursive_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char longp[PATH_MAX + 16];
  eddy_fs_t req;

  make_file(tp("mk-file"), "x");
  assert_int_equal(
      eddy_fs_mkdir_recursive(loop, &req, tp("mk-file"), 0755, NULL),
      EDDY_EEXIST);
  assert_null(req.ptr);
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_mkdir_recursive(loop, &req, tp("mk-file/a/b"),
                                                 0755, on_fs)),
                   EDDY_ENOTDIR);
  assert_null(req.ptr);
  eddy_fs_req_cleanup(&req);
  memset(longp, 'a', sizeof(longp) - 1);
  longp[0] = '/';
  longp[sizeof(longp) - 1] = '\0';
  assert_int_equal(eddy_fs_mkdir_recursive(loop, &req, longp, 0755, NULL),
                   EDDY_ENAMETOOLONG);
  assert_int_equal(eddy_fs_mkdir_recursive(loop, &req, "", 0755, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_mkdir_recursive(loop, &req, NULL, 0755, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_mkdir_recursive(loop, NULL, "x", 0755, NULL),
                   EDDY_EINVAL);
  if (geteuid() != 0) { /* root may write anywhere */
    make_dir(tp("mk-ro"), 0555);
    assert_int_equal(
        eddy_fs_mkdir_recursive(loop, &req, tp("mk-ro/a/b"), 0755, NULL),
        EDDY_EACCES);
  }
}

/* ---- rm --------------------------------------------------------------- */

/* root/ with files, a deep chain, an empty directory, a FIFO and links to
 * things outside it. */
static void make_rm_tree(const char *root) {
  char path[PATH_MAX];
  size_t len;
  int i;

  make_dir(root, 0755);
  PUT(path, sizeof(path), "%s/f", root);
  make_file(path, "f");
  PUT(path, sizeof(path), "%s/empty", root);
  make_dir(path, 0755);
  PUT(path, sizeof(path), "%s/fifo", root);
  assert_int_equal(mkfifo(path, 0600), 0);
  PUT(path, sizeof(path), "%s/to-file", root);
  assert_int_equal(symlink(tp("rm-outside-file"), path), 0);
  PUT(path, sizeof(path), "%s/to-dir", root);
  assert_int_equal(symlink(tp("rm-outside-dir"), path), 0);
  PUT(path, sizeof(path), "%s/dangling", root);
  assert_int_equal(symlink(tp("nowhere"), path), 0);
  PUT(path, sizeof(path), "%s/deep", root);
  for (i = 0; i < 64; i++) {
    make_dir(path, i == 40 ? 0500 : 0755); /* one read-only level */
    len = strlen(path);
    PUT(path + len, sizeof(path) - len, "/d");
  }
  assert_int_equal(chmod(tp("rm-tree/deep"), 0755), 0);
}

static void test_rm(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  make_file(tp("rm-outside-file"), "keep");
  make_dir(tp("rm-outside-dir"), 0755);
  make_file(tp("rm-outside-dir/inner"), "keep");
  /* a file */
  make_file(tp("rm-f"), "x");
  assert_int_equal(eddy_fs_rm(loop, &req, tp("rm-f"), 0, NULL), 0);
  assert_int_equal(req.fs_type, EDDY_FS_RM);
  assert_false(exists(tp("rm-f")));
  /* a link: the link goes, never its target */
  assert_int_equal(symlink(tp("rm-outside-dir"), tp("rm-l")), 0);
  assert_int_equal(
      eddy_fs_rm(loop, &req, tp("rm-l"), EDDY_FS_RM_RECURSIVE, NULL), 0);
  assert_false(exists(tp("rm-l")));
  assert_true(exists(tp("rm-outside-dir/inner")));
  /* a tree */
  make_rm_tree(tp("rm-tree"));
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_rm(loop, &req, tp("rm-tree"), EDDY_FS_RM_RECURSIVE, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_false(exists(tp("rm-tree")));
  assert_string_equal(slurp(tp("rm-outside-file")), "keep");
  assert_string_equal(slurp(tp("rm-outside-dir/inner")), "keep");
  /* an empty directory, with and without force */
  make_dir(tp("rm-e"), 0755);
  assert_int_equal(eddy_fs_rm(loop, &req, tp("rm-e"),
                              EDDY_FS_RM_RECURSIVE | EDDY_FS_RM_FORCE, NULL),
                   0);
  assert_false(exists(tp("rm-e")));
  /* force: a missing path is no error */
  assert_int_equal(eddy_fs_rm(loop, &req, tp("nope"), EDDY_FS_RM_FORCE, NULL),
                   0);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_rm(loop, &req, tp("nope/deeper"),
                       EDDY_FS_RM_FORCE | EDDY_FS_RM_RECURSIVE, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
}

static void test_rm_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  assert_int_equal(eddy_fs_rm(loop, &req, tp("nope"), 0, NULL), EDDY_ENOENT);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_rm(loop, &req, tp("nope"), EDDY_FS_RM_RECURSIVE, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  /* a directory needs recursive, even an empty one (Node's rule) */
  make_dir(tp("rm-d"), 0755);
  assert_int_equal(eddy_fs_rm(loop, &req, tp("rm-d"), 0, NULL), EDDY_EISDIR);
  assert_int_equal(eddy_fs_rm(loop, &req, tp("rm-d"), EDDY_FS_RM_FORCE, NULL),
                   EDDY_EISDIR);
  assert_true(is_dir(tp("rm-d")));
  make_file(tp("rm-x"), "x");
  assert_int_equal(eddy_fs_rm(loop, &req, tp("rm-x/y"), EDDY_FS_RM_FORCE, NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_rm(loop, &req, tp("rm-x"), 4, NULL), EDDY_EINVAL);
  assert_true(exists(tp("rm-x")));
  assert_int_equal(eddy_fs_rm(loop, &req, "", 0, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_rm(loop, &req, NULL, 0, NULL), EDDY_EINVAL);
  if (geteuid() != 0) {
    make_dir(tp("rm-ro"), 0755);
    make_file(tp("rm-ro/f"), "x");
    assert_int_equal(chmod(tp("rm-ro"), 0555), 0);
    assert_int_equal(
        eddy_fs_rm(loop, &req, tp("rm-ro"), EDDY_FS_RM_RECURSIVE, NULL),
        EDDY_EACCES);
    assert_int_equal(chmod(tp("rm-ro"), 0755), 0);
  }
}

/* ---- cp --------------------------------------------------------------- */

static void make_cp_src(const char *root) {
  char path[PATH_MAX];

  make_dir(root, 0750);
  PUT(path, sizeof(path), "%s/a.txt", root);
  make_file_mode(path, "alpha", 0640);
  PUT(path, sizeof(path), "%s/sub", root);
  make_dir(path, 0700);
  PUT(path, sizeof(path), "%s/sub/b.txt", root);
  make_file_mode(path, "beta", 0600);
  PUT(path, sizeof(path), "%s/sub/rel-link", root);
  assert_int_equal(symlink("../a.txt", path), 0);
  PUT(path, sizeof(path), "%s/abs-link", root);
  assert_int_equal(symlink("/etc/hostname", path), 0);
}

static void test_cp_file(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;
  struct stat st;

  make_file_mode(tp("cp-f"), "hello", 0604);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cp-f"), tp("cp-g"), 0, NULL), 0);
  assert_int_equal(req.fs_type, EDDY_FS_CP);
  assert_string_equal(slurp(tp("cp-g")), "hello");
  assert_int_equal(stat(tp("cp-g"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0604);
  /* missing parents of dest are made */
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_cp(loop, &req, tp("cp-f"), tp("cp-new/p/q/g"), 0, on_fs)),
      0);
  eddy_fs_req_cleanup(&req);
  assert_string_equal(slurp(tp("cp-new/p/q/g")), "hello");
  /* an existing file: left alone, refused, or replaced */
  make_file(tp("cp-old"), "old");
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cp-f"), tp("cp-old"), 0, NULL),
                   0);
  assert_string_equal(slurp(tp("cp-old")), "old");
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cp-f"), tp("cp-old"),
                              EDDY_FS_CP_ERROR_ON_EXIST, NULL),
                   EDDY_EEXIST);
  assert_string_equal(slurp(tp("cp-old")), "old");
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cp-f"), tp("cp-old"),
                              EDDY_FS_CP_FORCE | EDDY_FS_CP_ERROR_ON_EXIST,
                              NULL),
                   0);
  assert_string_equal(slurp(tp("cp-old")), "hello");
  /* preserveTimestamps */
  assert_int_equal(eddy_fs_utime(loop, &req, tp("cp-f"), 1000, 2000.5, NULL),
                   0);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cp-f"), tp("cp-t"),
                              EDDY_FS_CP_PRESERVE_TIMESTAMPS, NULL),
                   0);
  assert_int_equal(stat(tp("cp-t"), &st), 0);
  assert_int_equal(st.st_atim.tv_sec, 1000);
  assert_int_equal(st.st_mtim.tv_sec, 2000);
  assert_int_equal(st.st_mtim.tv_nsec, 500000000);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cp-f"), tp("cp-t2"), 0, NULL), 0);
  assert_int_equal(stat(tp("cp-t2"), &st), 0);
  assert_true(st.st_mtim.tv_sec > 2000); /* a fresh time without the flag */
}

static void test_cp_tree(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char expect[4096];
  struct stat st;
  eddy_fs_t req;

  make_cp_src(tp("cp-src"));
  assert_int_equal(ASYNC(loop, &req,
                         eddy_fs_cp(loop, &req, tp("cp-src"), tp("cp-dst"),
                                    EDDY_FS_CP_RECURSIVE, on_fs)),
                   0);
  eddy_fs_req_cleanup(&req);
  /* modes kept; the relative link now points at the original's target */
  PUT(expect, sizeof(expect),
      "f a.txt 640 alpha\n"
      "l abs-link -> /etc/hostname\n"
      "d sub 700\n"
      "f sub/b.txt 600 beta\n"
      "l sub/rel-link -> %s\n",
      tp("cp-src/a.txt"));
  assert_string_equal(describe(tp("cp-dst")), expect);
  assert_int_equal(stat(tp("cp-dst"), &st), 0);
  assert_int_equal(st.st_mode & 07777, 0750);
  assert_int_equal(
      eddy_fs_cp(loop, &req, tp("cp-src"), tp("cp-verb"),
                 EDDY_FS_CP_RECURSIVE | EDDY_FS_CP_VERBATIM_SYMLINKS, NULL),
      0);
  assert_string_equal(describe(tp("cp-verb")), "f a.txt 640 alpha\n"
                                               "l abs-link -> /etc/hostname\n"
                                               "d sub 700\n"
                                               "f sub/b.txt 600 beta\n"
                                               "l sub/rel-link -> ../a.txt\n");
  /* dereference: links become copies of what they point to */
  assert_int_equal(unlink(tp("cp-src/abs-link")), 0);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cp-src"), tp("cp-deref"),
                              EDDY_FS_CP_RECURSIVE | EDDY_FS_CP_DEREFERENCE,
                              NULL),
                   0);
  assert_string_equal(describe(tp("cp-deref")), "f a.txt 640 alpha\n"
                                                "d sub 700\n"
                                                "f sub/b.txt 600 beta\n"
                                                "f sub/rel-link 640 alpha\n");
}

static void test_cp_merge(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char expect[4096];
  eddy_fs_t req;

  make_cp_src(tp("cpm-src"));
  make_dir(tp("cpm-dst"), 0755);
  make_file_mode(tp("cpm-dst/a.txt"), "mine", 0644);
  make_file_mode(tp("cpm-dst/other"), "other", 0644);
  /* into an existing directory: merged, existing files kept */
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpm-src"), tp("cpm-dst"),
                              EDDY_FS_CP_RECURSIVE, NULL),
                   0);
  PUT(expect, sizeof(expect),
      "f a.txt 644 mine\n"
      "l abs-link -> /etc/hostname\n"
      "f other 644 other\n"
      "d sub 700\n"
      "f sub/b.txt 600 beta\n"
      "l sub/rel-link -> %s\n",
      tp("cpm-src/a.txt"));
  assert_string_equal(describe(tp("cpm-dst")), expect);
  /* errorOnExist: the first existing file stops the copy */
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpm-src"), tp("cpm-dst"),
                              EDDY_FS_CP_RECURSIVE | EDDY_FS_CP_ERROR_ON_EXIST,
                              NULL),
                   EDDY_EEXIST);
  /* force replaces files and links */
  assert_int_equal(unlink(tp("cpm-dst/sub/rel-link")), 0);
  assert_int_equal(symlink("elsewhere", tp("cpm-dst/sub/rel-link")), 0);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpm-src"), tp("cpm-dst"),
                              EDDY_FS_CP_RECURSIVE | EDDY_FS_CP_FORCE |
                                  EDDY_FS_CP_VERBATIM_SYMLINKS,
                              NULL),
                   0);
  assert_string_equal(describe(tp("cpm-dst")), "f a.txt 640 alpha\n"
                                               "l abs-link -> /etc/hostname\n"
                                               "f other 644 other\n"
                                               "d sub 700\n"
                                               "f sub/b.txt 600 beta\n"
                                               "l sub/rel-link -> ../a.txt\n");
}

static void test_cp_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t req;

  make_dir(tp("cpe"), 0755);
  make_file(tp("cpe/f"), "x");
  make_dir(tp("cpe/d"), 0755);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("nope"), tp("cpe/g"), 0, NULL),
                   EDDY_ENOENT);
  assert_int_equal(
      ASYNC(loop, &req,
            eddy_fs_cp(loop, &req, tp("nope"), tp("cpe/g"), 0, on_fs)),
      EDDY_ENOENT);
  eddy_fs_req_cleanup(&req);
  /* a directory needs recursive */
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe/d"), tp("cpe/d2"), 0, NULL),
                   EDDY_EISDIR);
  assert_false(exists(tp("cpe/d2")));
  /* the same file, by name or by a link */
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe/f"), tp("cpe/f"), 0, NULL),
                   EDDY_EINVAL);
  assert_int_equal(link(tp("cpe/f"), tp("cpe/hard")), 0);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe/f"), tp("cpe/hard"),
                              EDDY_FS_CP_FORCE, NULL),
                   EDDY_EINVAL);
  assert_string_equal(slurp(tp("cpe/f")), "x");
  /* a directory into itself, by name and through a link */
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe"), tp("cpe/d/inside"),
                              EDDY_FS_CP_RECURSIVE, NULL),
                   EDDY_EINVAL);
  assert_int_equal(symlink(tp("cpe"), tp("cpe-link")), 0);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe"), tp("cpe-link/d/in"),
                              EDDY_FS_CP_RECURSIVE, NULL),
                   EDDY_EINVAL);
  assert_false(exists(tp("cpe/d/inside")));
  assert_false(exists(tp("cpe/d/in")));
  /* a directory onto a file, a file onto a directory */
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe/d"), tp("cpe/f"),
                              EDDY_FS_CP_RECURSIVE | EDDY_FS_CP_FORCE, NULL),
                   EDDY_ENOTDIR);
  assert_int_equal(
      eddy_fs_cp(loop, &req, tp("cpe/f"), tp("cpe/d"), EDDY_FS_CP_FORCE, NULL),
      EDDY_EISDIR);
  /* FIFOs (and sockets, devices) are not copied */
  assert_int_equal(mkfifo(tp("cpe/fifo"), 0600), 0);
  assert_int_equal(
      eddy_fs_cp(loop, &req, tp("cpe/fifo"), tp("cpe/fifo2"), 0, NULL),
      EDDY_EINVAL);
  assert_int_equal(eddy_fs_cp(loop, &req, "/dev/null", tp("cpe/null"), 0, NULL),
                   EDDY_EINVAL);
  /* a dangling link with dereference */
  assert_int_equal(symlink(tp("nowhere"), tp("cpe-dangling")), 0);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe-dangling"), tp("cpe/dl"),
                              EDDY_FS_CP_DEREFERENCE, NULL),
                   EDDY_ENOENT);
  assert_int_equal(
      eddy_fs_cp(loop, &req, tp("cpe-dangling"), tp("cpe/dl"), 0, NULL),
      0); /* copied as the link it is */
  /* arguments */
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe/f"), tp("cpe/g"), 64, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_cp(loop, &req, "", tp("cpe/g"), 0, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_cp(loop, &req, tp("cpe/f"), NULL, 0, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_cp(loop, &req, NULL, tp("cpe/g"), 0, on_fs),
                   EDDY_EINVAL);
  assert_false(exists(tp("cpe/g")));
}

/* A queued cp, rm and mkdir -p can be cancelled: none of them runs. */
static void test_tree_cancel(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_t cp, rm, mk;

  make_cp_src(tp("cpc-src"));
  test_gate_occupy_pool(&gate, loop);
  assert_int_equal(eddy_fs_cp(loop, &cp, tp("cpc-src"), tp("cpc-dst"),
                              EDDY_FS_CP_RECURSIVE, on_fs),
                   0);
  assert_int_equal(
      eddy_fs_rm(loop, &rm, tp("cpc-src"), EDDY_FS_RM_RECURSIVE, on_fs), 0);
  assert_int_equal(
      eddy_fs_mkdir_recursive(loop, &mk, tp("cpc-mk/a"), 0755, on_fs), 0);
  assert_int_equal(eddy_cancel(&cp.req), 0);
  assert_int_equal(eddy_cancel(&rm.req), 0);
  assert_int_equal(eddy_cancel(&mk.req), 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(fs_calls, 3);
  assert_int_equal(cp.result, EDDY_ECANCELED);
  assert_int_equal(rm.result, EDDY_ECANCELED);
  assert_int_equal(mk.result, EDDY_ECANCELED);
  assert_null(mk.ptr);
  eddy_fs_req_cleanup(&cp);
  eddy_fs_req_cleanup(&rm);
  eddy_fs_req_cleanup(&mk);
  assert_false(exists(tp("cpc-dst")));
  assert_false(exists(tp("cpc-mk")));
  assert_true(exists(tp("cpc-src/sub/b.txt")));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      FS_TEST(test_mkdir_recursive),
      FS_TEST(test_mkdir_recursive_relative),
      FS_TEST(test_mkdir_recursive_errors),
      FS_TEST(test_rm),
      FS_TEST(test_rm_errors),
      FS_TEST(test_cp_file),
      FS_TEST(test_cp_tree),
      FS_TEST(test_cp_merge),
      FS_TEST(test_cp_errors),
      FS_TEST(test_tree_cancel),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
