/* fs.c: file-system requests that are one pool job each.
 *
 * A request records its arguments in req->priv; one function per operation
 * (eddy__fs_do_*) performs it and returns the result or a negative error.
 * A synchronous call runs that function on the caller's thread; an
 * asynchronous one runs it on a pool thread and calls back on the loop.
 * Directory listing is in fs_dir.c, copying in fs_copy.c, and the
 * operations that are chains of jobs (read_file, write_file) in
 * fs_file.c. */
#include <math.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs/fs_internal.h"

typedef ssize_t (*eddy__fs_op)(eddy_fs_t *req);

/* ---- request set-up and completion ------------------------------------ */

static int eddy__fs_copy_paths(eddy_fs_t *req, const char *path,
                               const char *new_path) {
  size_t len = path != NULL ? strlen(path) + 1 : 0;
  size_t new_len = new_path != NULL ? strlen(new_path) + 1 : 0;
  char *copy = malloc(len + new_len);

  if (copy == NULL)
    return EDDY_ENOMEM;
  req->priv.paths = copy;
  if (path != NULL) {
    memcpy(copy, path, len);
    req->path = copy;
  }
  if (new_path != NULL) {
    memcpy(copy + len, new_path, new_len);
    req->priv.new_path = copy + len;
  }
  return 0;
}

int eddy__fs_init(eddy_loop_t *loop, eddy_fs_t *req, eddy_fs_type type,
                  const char *path, const char *new_path, eddy_fs_cb cb) {
  int err = 0;

  if (req == NULL)
    return EDDY_EINVAL;
  eddy__req_init_pool(&req->req, EDDY_FS, &req->priv.work);
  req->loop = loop;
  req->fs_type = type;
  req->result = 0;
  req->ptr = NULL;
  req->path = path;
  memset(&req->priv, 0, sizeof(req->priv));
  req->priv.cb = cb;
  req->priv.new_path = new_path;
  req->priv.file = -1;
  req->priv.file2 = -1;
  if (cb != NULL && loop == NULL)
    err = EDDY_EINVAL;
  else if ((cb != NULL || type == EDDY_FS_MKDTEMP || type == EDDY_FS_MKSTEMP) &&
           (path != NULL || new_path != NULL))
    err = eddy__fs_copy_paths(req, path, new_path);
  req->result = err;
  return err;
}

/* eddy__fs_init for operations that need a path (and, if two, a new_path
 * too). */
static int eddy__fs_init_path(eddy_loop_t *loop, eddy_fs_t *req,
                              eddy_fs_type type, const char *path,
                              const char *new_path, int two, eddy_fs_cb cb) {
  if (path == NULL || (two && new_path == NULL)) {
    if (req != NULL)
      req->result = EDDY_EINVAL;
    return EDDY_EINVAL;
  }
  return eddy__fs_init(loop, req, type, path, new_path, cb);
}

int eddy__fs_close_fd(int fd) {
  if (close(fd) == -1 && errno != EINTR && errno != EINPROGRESS)
    return -errno;
  return 0;
}

static ssize_t eddy__fs_run(eddy_fs_t *req);

static void eddy__fs_work(eddy__work_t *w) {
  eddy_fs_t *req = eddy__container_of(w, eddy_fs_t, priv.work);

  req->result = eddy__fs_run(req);
}

static void eddy__fs_done(eddy__work_t *w, int status) {
  eddy_fs_t *req = eddy__container_of(w, eddy_fs_t, priv.work);

  if (status != 0)
    req->result = status;
  req->priv.cb(req);
}

/* Run the request now (no callback) or queue it on the pool. */
int eddy__fs_go(eddy_fs_t *req) {
  int err;

  if (req->priv.cb == NULL) {
    req->result = eddy__fs_run(req);
    return eddy__fs_sync_result(req);
  }
  err = eddy__work_submit(req->loop, &req->priv.work, EDDY__WORK_FAST_IO,
                          eddy__fs_work, eddy__fs_done);
  if (err != 0) {
    eddy_fs_req_cleanup(req);
    req->result = err;
  }
  return err;
}

/* ---- descriptors ------------------------------------------------------ */

static ssize_t eddy__fs_do_open(eddy_fs_t *req) {
  int fd;

  EDDY__FS_RETRY(
      fd, open(req->path, req->priv.flags | O_CLOEXEC, (mode_t)req->priv.mode));
  return eddy__fs_ret(fd);
}

static ssize_t eddy__fs_do_close(eddy_fs_t *req) {
  return eddy__fs_close_fd(req->priv.file);
}

static int eddy__fs_iovcnt(const eddy_fs_t *req) {
  return req->priv.nbufs > IOV_MAX ? IOV_MAX : (int)req->priv.nbufs;
}

static ssize_t eddy__fs_do_read(eddy_fs_t *req) {
  const struct iovec *iov = (const struct iovec *)req->priv.bufs;
  int fd = req->priv.file;
  ssize_t r;

  if (req->priv.offset < 0)
    EDDY__FS_RETRY(r, readv(fd, iov, eddy__fs_iovcnt(req)));
  else
    EDDY__FS_RETRY(
        r, preadv(fd, iov, eddy__fs_iovcnt(req), (off_t)req->priv.offset));
  return eddy__fs_ret(r);
}

/* One writev/pwritev of at most IOV_MAX buffers. */
static ssize_t eddy__fs_write_once(int fd, const struct iovec *iov, int n,
                                   int64_t offset) {
  ssize_t r;

  if (offset < 0)
    EDDY__FS_RETRY(r, writev(fd, iov, n));
  else
    EDDY__FS_RETRY(r, pwritev(fd, iov, n, (off_t)offset));
  return eddy__fs_ret(r);
}

/* Writes every buffer, IOV_MAX at a time, as libuv does; stops at a short
 * write (the file is full or the pipe would block) and reports the bytes
 * written so far, or the error if nothing was. */
static ssize_t eddy__fs_do_write(eddy_fs_t *req) {
  const struct iovec *iov = (const struct iovec *)req->priv.bufs;
  unsigned left = req->priv.nbufs;
  int64_t offset = req->priv.offset;
  ssize_t total = 0;

  while (left > 0) {
    int n = left > IOV_MAX ? IOV_MAX : (int)left;
    size_t want = 0;
    ssize_t r;
    int i;

    for (i = 0; i < n; i++)
      want += iov[i].iov_len;
    r = eddy__fs_write_once(req->priv.file, iov, n, offset);
    if (r < 0)
      return total > 0 ? total : r;
    total += r;
    if ((size_t)r < want)
      break;
    if (offset >= 0)
      offset += r;
    iov += n;
    left -= (unsigned)n;
  }
  return total;
}

static ssize_t eddy__fs_do_fsync(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, fsync(req->priv.file));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_fdatasync(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, fdatasync(req->priv.file));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_ftruncate(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, ftruncate(req->priv.file, (off_t)req->priv.offset));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_fchmod(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, fchmod(req->priv.file, (mode_t)req->priv.mode));
  return eddy__fs_ret(r);
}

/* ---- stat ------------------------------------------------------------- */

static void eddy__fs_from_stat(eddy_stat_t *out, const struct stat *st) {
  memset(out, 0, sizeof(*out));
  out->dev = st->st_dev;
  out->mode = st->st_mode;
  out->nlink = st->st_nlink;
  out->uid = st->st_uid;
  out->gid = st->st_gid;
  out->rdev = st->st_rdev;
  out->ino = st->st_ino;
  out->size = (uint64_t)st->st_size;
  out->blksize = (uint64_t)st->st_blksize;
  out->blocks = (uint64_t)st->st_blocks;
  out->atim.sec = st->st_atim.tv_sec;
  out->atim.nsec = st->st_atim.tv_nsec;
  out->mtim.sec = st->st_mtim.tv_sec;
  out->mtim.nsec = st->st_mtim.tv_nsec;
  out->ctim.sec = st->st_ctim.tv_sec;
  out->ctim.nsec = st->st_ctim.tv_nsec;
}

#ifdef STATX_BTIME
static void eddy__fs_from_statx(eddy_stat_t *out, const struct statx *sx) {
  out->dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
  out->mode = sx->stx_mode;
  out->nlink = sx->stx_nlink;
  out->uid = sx->stx_uid;
  out->gid = sx->stx_gid;
  out->rdev = makedev(sx->stx_rdev_major, sx->stx_rdev_minor);
  out->ino = sx->stx_ino;
  out->size = sx->stx_size;
  out->blksize = sx->stx_blksize;
  out->blocks = sx->stx_blocks;
  out->atim.sec = sx->stx_atime.tv_sec;
  out->atim.nsec = sx->stx_atime.tv_nsec;
  out->mtim.sec = sx->stx_mtime.tv_sec;
  out->mtim.nsec = sx->stx_mtime.tv_nsec;
  out->ctim.sec = sx->stx_ctime.tv_sec;
  out->ctim.nsec = sx->stx_ctime.tv_nsec;
  out->birthtim.sec = 0;
  out->birthtim.nsec = 0;
  if (sx->stx_mask & STATX_BTIME) {
    out->birthtim.sec = sx->stx_btime.tv_sec;
    out->birthtim.nsec = sx->stx_btime.tv_nsec;
  }
}
#endif

/* stat, fstat (path "" with AT_EMPTY_PATH) or lstat into req->statbuf.
 * statx(2) gives the birth time; kernels or sandboxes without it get
 * fstatat(2). */
static ssize_t eddy__fs_statat(eddy_fs_t *req, int dirfd, const char *path,
                               int flags) {
  struct stat st;
  int r;

#ifdef STATX_BTIME
  struct statx sx;

  EDDY__FS_RETRY(
      r, statx(dirfd, path, flags, STATX_BASIC_STATS | STATX_BTIME, &sx));
  if (r == 0) {
    eddy__fs_from_statx(&req->statbuf, &sx);
    req->ptr = &req->statbuf;
    return 0;
  }
  if (errno != ENOSYS && errno != EPERM)
    return -errno;
#endif
  EDDY__FS_RETRY(r, fstatat(dirfd, path, &st, flags));
  if (r == -1)
    return -errno;
  eddy__fs_from_stat(&req->statbuf, &st);
  req->ptr = &req->statbuf;
  return 0;
}

static ssize_t eddy__fs_do_stat(eddy_fs_t *req) {
  return eddy__fs_statat(req, AT_FDCWD, req->path, 0);
}

static ssize_t eddy__fs_do_lstat(eddy_fs_t *req) {
  return eddy__fs_statat(req, AT_FDCWD, req->path, AT_SYMLINK_NOFOLLOW);
}

static ssize_t eddy__fs_do_fstat(eddy_fs_t *req) {
  return eddy__fs_statat(req, req->priv.file, "", AT_EMPTY_PATH);
}

/* ---- paths ------------------------------------------------------------ */

static ssize_t eddy__fs_do_unlink(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, unlink(req->path));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_mkdir(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, mkdir(req->path, (mode_t)req->priv.mode));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_mkdtemp(eddy_fs_t *req) {
  char *r;

  /* req->path is the request's own copy: mkdtemp fills in the X's. */
  do
    r = mkdtemp(req->priv.paths);
  while (r == NULL && errno == EINTR);
  return r == NULL ? -errno : 0;
}

static ssize_t eddy__fs_do_rmdir(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, rmdir(req->path));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_rename(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, rename(req->path, req->priv.new_path));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_chmod(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, chmod(req->path, (mode_t)req->priv.mode));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_link(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, link(req->path, req->priv.new_path));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_symlink(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, symlink(req->path, req->priv.new_path));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_access(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, access(req->path, req->priv.mode));
  return eddy__fs_ret(r);
}

/* The link's target, in a buffer doubled until the target fits with room
 * for the NUL (readlink(2) truncates silently). */
static ssize_t eddy__fs_do_readlink(eddy_fs_t *req) {
  size_t cap = 256;
  char *buf = NULL;
  char *grown;
  ssize_t n;

  for (;;) {
    grown = realloc(buf, cap);
    if (grown == NULL) {
      free(buf);
      return EDDY_ENOMEM;
    }
    buf = grown;
    EDDY__FS_RETRY(n, readlink(req->path, buf, cap));
    if (n == -1) {
      free(buf);
      return -errno;
    }
    if ((size_t)n < cap)
      break;
    if (cap >= (1u << 20)) { /* no real link target is this long */
      free(buf);
      return EDDY_ENAMETOOLONG;
    }
    cap *= 2;
  }
  buf[n] = '\0';
  req->ptr = buf;
  return 0;
}

static ssize_t eddy__fs_do_realpath(eddy_fs_t *req) {
  char *r;

  do
    r = realpath(req->path, NULL);
  while (r == NULL && errno == EINTR);
  if (r == NULL)
    return -errno;
  req->ptr = r;
  return 0;
}

int eddy__fs_timespec(double t, struct timespec *ts) {
  time_t sec;
  long nsec;

  if (t == EDDY_FS_UTIME_NOW || t == EDDY_FS_UTIME_OMIT) {
    ts->tv_sec = 0;
    ts->tv_nsec = t == EDDY_FS_UTIME_NOW ? UTIME_NOW : UTIME_OMIT;
    return 0;
  }
  if (!isfinite(t) || t < -9.2e18 || t > 9.2e18)
    return EDDY_EINVAL;
  sec = (time_t)t;
  if ((double)sec > t) /* truncation went up for negative times */
    sec--;
  nsec = (long)((t - (double)sec) * 1e9);
  ts->tv_sec = sec;
  ts->tv_nsec = nsec < 0 ? 0 : nsec > 999999999 ? 999999999 : nsec;
  return 0;
}

static ssize_t eddy__fs_utimens(eddy_fs_t *req, int fd) {
  struct timespec ts[2];
  int r;

  if (eddy__fs_timespec(req->priv.atime, &ts[0]) != 0 ||
      eddy__fs_timespec(req->priv.mtime, &ts[1]) != 0)
    return EDDY_EINVAL;
  if (fd >= 0)
    EDDY__FS_RETRY(r, futimens(fd, ts));
  else
    EDDY__FS_RETRY(r, utimensat(AT_FDCWD, req->path, ts, 0));
  return eddy__fs_ret(r);
}

static ssize_t eddy__fs_do_utime(eddy_fs_t *req) {
  return eddy__fs_utimens(req, -1);
}

static ssize_t eddy__fs_do_futime(eddy_fs_t *req) {
  if (req->priv.file < 0)
    return EDDY_EBADF;
  return eddy__fs_utimens(req, req->priv.file);
}

/* ---- dispatch --------------------------------------------------------- */

static const eddy__fs_op eddy__fs_ops[] = {
    [EDDY_FS_OPEN] = eddy__fs_do_open,
    [EDDY_FS_CLOSE] = eddy__fs_do_close,
    [EDDY_FS_READ] = eddy__fs_do_read,
    [EDDY_FS_WRITE] = eddy__fs_do_write,
    [EDDY_FS_STAT] = eddy__fs_do_stat,
    [EDDY_FS_FSTAT] = eddy__fs_do_fstat,
    [EDDY_FS_LSTAT] = eddy__fs_do_lstat,
    [EDDY_FS_UNLINK] = eddy__fs_do_unlink,
    [EDDY_FS_MKDIR] = eddy__fs_do_mkdir,
    [EDDY_FS_MKDTEMP] = eddy__fs_do_mkdtemp,
    [EDDY_FS_RMDIR] = eddy__fs_do_rmdir,
    [EDDY_FS_RENAME] = eddy__fs_do_rename,
    [EDDY_FS_SCANDIR] = eddy__fs_do_scandir,
    [EDDY_FS_OPENDIR] = eddy__fs_do_opendir,
    [EDDY_FS_READDIR] = eddy__fs_do_readdir,
    [EDDY_FS_CLOSEDIR] = eddy__fs_do_closedir,
    [EDDY_FS_FSYNC] = eddy__fs_do_fsync,
    [EDDY_FS_FDATASYNC] = eddy__fs_do_fdatasync,
    [EDDY_FS_FTRUNCATE] = eddy__fs_do_ftruncate,
    [EDDY_FS_COPYFILE] = eddy__fs_do_copyfile,
    [EDDY_FS_SENDFILE] = eddy__fs_do_sendfile,
    [EDDY_FS_CHMOD] = eddy__fs_do_chmod,
    [EDDY_FS_FCHMOD] = eddy__fs_do_fchmod,
    [EDDY_FS_UTIME] = eddy__fs_do_utime,
    [EDDY_FS_FUTIME] = eddy__fs_do_futime,
    [EDDY_FS_LINK] = eddy__fs_do_link,
    [EDDY_FS_SYMLINK] = eddy__fs_do_symlink,
    [EDDY_FS_READLINK] = eddy__fs_do_readlink,
    [EDDY_FS_REALPATH] = eddy__fs_do_realpath,
    [EDDY_FS_ACCESS] = eddy__fs_do_access,
    [EDDY_FS_CHOWN] = eddy__fs_do_chown,
    [EDDY_FS_FCHOWN] = eddy__fs_do_fchown,
    [EDDY_FS_LCHOWN] = eddy__fs_do_lchown,
    [EDDY_FS_LUTIME] = eddy__fs_do_lutime,
    [EDDY_FS_MKSTEMP] = eddy__fs_do_mkstemp,
    [EDDY_FS_STATFS] = eddy__fs_do_statfs,
    [EDDY_FS_MKDIR_RECURSIVE] = eddy__fs_do_mkdir_recursive,
    [EDDY_FS_RM] = eddy__fs_do_rm,
    [EDDY_FS_CP] = eddy__fs_do_cp,
};

static ssize_t eddy__fs_run(eddy_fs_t *req) {
  assert((size_t)req->fs_type < sizeof(eddy__fs_ops) / sizeof(eddy__fs_ops[0]));
  assert(eddy__fs_ops[req->fs_type] != NULL);
  return eddy__fs_ops[req->fs_type](req);
}

/* ---- the public calls ------------------------------------------------- */

/* Start an operation on one path. */
static int eddy__fs_path_op(eddy_loop_t *loop, eddy_fs_t *req,
                            eddy_fs_type type, const char *path, int mode,
                            eddy_fs_cb cb) {
  int err = eddy__fs_init_path(loop, req, type, path, NULL, 0, cb);

  if (err != 0)
    return err;
  req->priv.mode = mode;
  return eddy__fs_go(req);
}

/* Start an operation on two paths. */
static int eddy__fs_paths_op(eddy_loop_t *loop, eddy_fs_t *req,
                             eddy_fs_type type, const char *path,
                             const char *new_path, int flags, eddy_fs_cb cb) {
  int err = eddy__fs_init_path(loop, req, type, path, new_path, 1, cb);

  if (err != 0)
    return err;
  req->priv.flags = flags;
  return eddy__fs_go(req);
}

/* Start an operation on a descriptor. */
static int eddy__fs_file_op(eddy_loop_t *loop, eddy_fs_t *req,
                            eddy_fs_type type, eddy_file file, int mode,
                            int64_t offset, eddy_fs_cb cb) {
  int err = eddy__fs_init(loop, req, type, NULL, NULL, cb);

  if (err != 0)
    return err;
  req->priv.file = file;
  req->priv.mode = mode;
  req->priv.offset = offset;
  return eddy__fs_go(req);
}

int eddy_fs_open(eddy_loop_t *loop, eddy_fs_t *req, const char *path, int flags,
                 int mode, eddy_fs_cb cb) {
  int err = eddy__fs_init_path(loop, req, EDDY_FS_OPEN, path, NULL, 0, cb);

  if (err != 0)
    return err;
  req->priv.flags = flags;
  req->priv.mode = mode;
  return eddy__fs_go(req);
}

int eddy_fs_close(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                  eddy_fs_cb cb) {
  return eddy__fs_file_op(loop, req, EDDY_FS_CLOSE, file, 0, 0, cb);
}

/* Record the buffer array: inline if it fits, else a copy for async calls
 * (the caller's array may die) or the caller's own for sync ones. */
static int eddy__fs_rw(eddy_loop_t *loop, eddy_fs_t *req, eddy_fs_type type,
                       eddy_file file, const eddy_buf_t bufs[],
                       unsigned int nbufs, int64_t offset, eddy_fs_cb cb) {
  size_t size = nbufs * sizeof(*bufs);
  int err = eddy__fs_init(loop, req, type, NULL, NULL, cb);

  if (err != 0)
    return err;
  if (bufs == NULL || nbufs == 0)
    return (int)(req->result = EDDY_EINVAL);
  req->priv.file = file;
  req->priv.offset = offset;
  req->priv.nbufs = nbufs;
  if (nbufs <= EDDY__FS_INLINE_BUFS) {
    memcpy(req->priv.bufsml, bufs, size);
    req->priv.bufs = req->priv.bufsml;
  } else if (cb != NULL) {
    req->priv.bufs_copy = malloc(size);
    if (req->priv.bufs_copy == NULL)
      return (int)(req->result = EDDY_ENOMEM);
    memcpy(req->priv.bufs_copy, bufs, size);
    req->priv.bufs = req->priv.bufs_copy;
  } else {
    req->priv.bufs = bufs;
  }
  return eddy__fs_go(req);
}

int eddy_fs_read(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                 const eddy_buf_t bufs[], unsigned int nbufs, int64_t offset,
                 eddy_fs_cb cb) {
  return eddy__fs_rw(loop, req, EDDY_FS_READ, file, bufs, nbufs, offset, cb);
}

int eddy_fs_write(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                  const eddy_buf_t bufs[], unsigned int nbufs, int64_t offset,
                  eddy_fs_cb cb) {
  return eddy__fs_rw(loop, req, EDDY_FS_WRITE, file, bufs, nbufs, offset, cb);
}

int eddy_fs_stat(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                 eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_STAT, path, 0, cb);
}

int eddy_fs_fstat(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                  eddy_fs_cb cb) {
  return eddy__fs_file_op(loop, req, EDDY_FS_FSTAT, file, 0, 0, cb);
}

int eddy_fs_lstat(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                  eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_LSTAT, path, 0, cb);
}

int eddy_fs_unlink(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                   eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_UNLINK, path, 0, cb);
}

int eddy_fs_mkdir(eddy_loop_t *loop, eddy_fs_t *req, const char *path, int mode,
                  eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_MKDIR, path, mode, cb);
}

int eddy_fs_mkdtemp(eddy_loop_t *loop, eddy_fs_t *req, const char *tpl,
                    eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_MKDTEMP, tpl, 0, cb);
}

int eddy_fs_rmdir(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                  eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_RMDIR, path, 0, cb);
}

int eddy_fs_rename(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                   const char *new_path, eddy_fs_cb cb) {
  return eddy__fs_paths_op(loop, req, EDDY_FS_RENAME, path, new_path, 0, cb);
}

int eddy_fs_scandir(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                    int flags, eddy_fs_cb cb) {
  (void)flags; /* reserved, as in libuv */
  return eddy__fs_path_op(loop, req, EDDY_FS_SCANDIR, path, 0, cb);
}

int eddy_fs_opendir(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                    eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_OPENDIR, path, 0, cb);
}

/* Start readdir or closedir on dir. */
static int eddy__fs_dir_op(eddy_loop_t *loop, eddy_fs_t *req, eddy_fs_type type,
                           eddy_dir_t *dir, eddy_fs_cb cb) {
  int err = eddy__fs_init(loop, req, type, NULL, NULL, cb);

  if (err != 0)
    return err;
  if (dir == NULL || dir->priv.dir == NULL ||
      (type == EDDY_FS_READDIR && (dir->dirents == NULL || dir->nentries == 0)))
    return (int)(req->result = EDDY_EINVAL);
  req->priv.dir = dir;
  req->ptr = dir; /* as libuv: the callback finds its stream there */
  return eddy__fs_go(req);
}

int eddy_fs_readdir(eddy_loop_t *loop, eddy_fs_t *req, eddy_dir_t *dir,
                    eddy_fs_cb cb) {
  return eddy__fs_dir_op(loop, req, EDDY_FS_READDIR, dir, cb);
}

int eddy_fs_closedir(eddy_loop_t *loop, eddy_fs_t *req, eddy_dir_t *dir,
                     eddy_fs_cb cb) {
  return eddy__fs_dir_op(loop, req, EDDY_FS_CLOSEDIR, dir, cb);
}

int eddy_fs_fsync(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                  eddy_fs_cb cb) {
  return eddy__fs_file_op(loop, req, EDDY_FS_FSYNC, file, 0, 0, cb);
}

int eddy_fs_fdatasync(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                      eddy_fs_cb cb) {
  return eddy__fs_file_op(loop, req, EDDY_FS_FDATASYNC, file, 0, 0, cb);
}

int eddy_fs_ftruncate(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                      int64_t offset, eddy_fs_cb cb) {
  return eddy__fs_file_op(loop, req, EDDY_FS_FTRUNCATE, file, 0, offset, cb);
}

int eddy_fs_copyfile(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                     const char *new_path, int flags, eddy_fs_cb cb) {
  const int known = EDDY_FS_COPYFILE_EXCL | EDDY_FS_COPYFILE_FICLONE |
                    EDDY_FS_COPYFILE_FICLONE_FORCE;

  if (flags & ~known) {
    if (req != NULL)
      req->result = EDDY_EINVAL;
    return EDDY_EINVAL;
  }
  return eddy__fs_paths_op(loop, req, EDDY_FS_COPYFILE, path, new_path, flags,
                           cb);
}

int eddy_fs_sendfile(eddy_loop_t *loop, eddy_fs_t *req, eddy_file out_fd,
                     eddy_file in_fd, int64_t in_offset, size_t length,
                     eddy_fs_cb cb) {
  int err = eddy__fs_init(loop, req, EDDY_FS_SENDFILE, NULL, NULL, cb);

  if (err != 0)
    return err;
  req->priv.file = out_fd;
  req->priv.file2 = in_fd;
  req->priv.offset = in_offset;
  req->priv.len = length;
  return eddy__fs_go(req);
}

int eddy_fs_chmod(eddy_loop_t *loop, eddy_fs_t *req, const char *path, int mode,
                  eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_CHMOD, path, mode, cb);
}

int eddy_fs_fchmod(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file, int mode,
                   eddy_fs_cb cb) {
  return eddy__fs_file_op(loop, req, EDDY_FS_FCHMOD, file, mode, 0, cb);
}

int eddy_fs_utime(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                  double atime, double mtime, eddy_fs_cb cb) {
  int err = eddy__fs_init_path(loop, req, EDDY_FS_UTIME, path, NULL, 0, cb);

  if (err != 0)
    return err;
  req->priv.atime = atime;
  req->priv.mtime = mtime;
  return eddy__fs_go(req);
}

int eddy_fs_futime(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                   double atime, double mtime, eddy_fs_cb cb) {
  int err = eddy__fs_init(loop, req, EDDY_FS_FUTIME, NULL, NULL, cb);

  if (err != 0)
    return err;
  req->priv.file = file;
  req->priv.atime = atime;
  req->priv.mtime = mtime;
  return eddy__fs_go(req);
}

int eddy_fs_link(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                 const char *new_path, eddy_fs_cb cb) {
  return eddy__fs_paths_op(loop, req, EDDY_FS_LINK, path, new_path, 0, cb);
}

int eddy_fs_symlink(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                    const char *new_path, int flags, eddy_fs_cb cb) {
  return eddy__fs_paths_op(loop, req, EDDY_FS_SYMLINK, path, new_path, flags,
                           cb);
}

int eddy_fs_readlink(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                     eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_READLINK, path, 0, cb);
}

int eddy_fs_realpath(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                     eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_REALPATH, path, 0, cb);
}

int eddy_fs_access(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                   int mode, eddy_fs_cb cb) {
  return eddy__fs_path_op(loop, req, EDDY_FS_ACCESS, path, mode, cb);
}

/* ---- cleanup ---------------------------------------------------------- */

void eddy_fs_req_cleanup(eddy_fs_t *req) {
  if (req == NULL)
    return;
  free(req->priv.paths);
  req->priv.paths = NULL;
  req->path = NULL;
  req->priv.new_path = NULL;
  free(req->priv.bufs_copy);
  req->priv.bufs_copy = NULL;
  req->priv.bufs = NULL;
  switch (req->fs_type) {
  case EDDY_FS_READLINK:
  case EDDY_FS_REALPATH:
  case EDDY_FS_READ_FILE:
  case EDDY_FS_STATFS:
  case EDDY_FS_MKDIR_RECURSIVE:
    free(req->ptr);
    break;
  case EDDY_FS_SCANDIR:
    eddy__fs_free_scandir(req);
    break;
  case EDDY_FS_READDIR:
    if (req->priv.dir != NULL && req->result > 0)
      eddy__fs_free_names(req->priv.dir, (size_t)req->result);
    req->priv.dir = NULL;
    break;
  case EDDY_FS_OPENDIR:
    return; /* ptr is the caller's eddy_dir_t until closedir */
  default:
    break;
  }
  req->ptr = NULL;
}
