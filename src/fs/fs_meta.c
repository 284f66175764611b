/* fs_meta.c: what a file carries besides its bytes: owners (chown, fchown,
 * lchown), a symbolic link's own times (lutime), a fresh temporary file
 * (mkstemp), the file system it sits on (statfs), and the errno behind a
 * failed request. Each operation is one pool job through fs.c's
 * dispatch, or runs inline for a synchronous call. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#else
#include <sys/statvfs.h>
#endif

#include "fs/fs_internal.h"

/* ---- the operations (pool thread, or inline) -------------------------- */

ssize_t eddy__fs_do_chown(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, chown(req->path, req->priv.uid, req->priv.gid));
  return eddy__fs_ret(r);
}

ssize_t eddy__fs_do_fchown(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, fchown(req->priv.file, req->priv.uid, req->priv.gid));
  return eddy__fs_ret(r);
}

ssize_t eddy__fs_do_lchown(eddy_fs_t *req) {
  int r;

  EDDY__FS_RETRY(r, lchown(req->path, req->priv.uid, req->priv.gid));
  return eddy__fs_ret(r);
}

ssize_t eddy__fs_do_lutime(eddy_fs_t *req) {
  struct timespec ts[2];
  int r;

  if (eddy__fs_timespec(req->priv.atime, &ts[0]) != 0 ||
      eddy__fs_timespec(req->priv.mtime, &ts[1]) != 0)
    return EDDY_EINVAL;
  EDDY__FS_RETRY(r, utimensat(AT_FDCWD, req->path, ts, AT_SYMLINK_NOFOLLOW));
  return eddy__fs_ret(r);
}

/* The template is the request's own copy (eddy__fs_init copies it for
 * MKSTEMP even when synchronous): mkostemp fills in the X's, so req->path
 * names the file afterwards. */
ssize_t eddy__fs_do_mkstemp(eddy_fs_t *req) {
  size_t len = strlen(req->priv.paths);
  int fd;

  if (len < 6 || strcmp(req->priv.paths + len - 6, "XXXXXX") != 0)
    return EDDY_EINVAL;
  EDDY__FS_RETRY(fd, mkostemp(req->priv.paths, O_CLOEXEC));
  return eddy__fs_ret(fd);
}

ssize_t eddy__fs_do_statfs(eddy_fs_t *req) {
  eddy_statfs_t *out;
  int r;
#ifdef __linux__
  struct statfs st;

  EDDY__FS_RETRY(r, statfs(req->path, &st));
#else
  struct statvfs st;

  EDDY__FS_RETRY(r, statvfs(req->path, &st));
#endif
  if (r == -1)
    return -errno;
  out = calloc(1, sizeof(*out));
  if (out == NULL)
    return EDDY_ENOMEM;
#ifdef __linux__
  out->type = (uint64_t)st.f_type;
  out->bsize = (uint64_t)st.f_bsize;
#else
  out->type = 0; /* statvfs has no file-system type number */
  out->bsize = (uint64_t)st.f_frsize;
#endif
  out->blocks = (uint64_t)st.f_blocks;
  out->bfree = (uint64_t)st.f_bfree;
  out->bavail = (uint64_t)st.f_bavail;
  out->files = (uint64_t)st.f_files;
  out->ffree = (uint64_t)st.f_ffree;
  req->ptr = out;
  return 0;
}

/* ---- the public calls ------------------------------------------------- */

/* Start an operation on a path that must not be NULL. */
static int eddy__fs_meta_path(eddy_loop_t *loop, eddy_fs_t *req,
                              eddy_fs_type type, const char *path,
                              eddy_fs_cb cb) {
  if (path == NULL)
    return req != NULL ? (int)(req->result = EDDY_EINVAL) : EDDY_EINVAL;
  return eddy__fs_init(loop, req, type, path, NULL, cb);
}

static int eddy__fs_owner(eddy_loop_t *loop, eddy_fs_t *req, eddy_fs_type type,
                          const char *path, eddy_uid_t uid, eddy_gid_t gid,
                          eddy_fs_cb cb) {
  int err = eddy__fs_meta_path(loop, req, type, path, cb);

  if (err != 0)
    return err;
  req->priv.uid = uid;
  req->priv.gid = gid;
  return eddy__fs_go(req);
}

int eddy_fs_chown(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                  eddy_uid_t uid, eddy_gid_t gid, eddy_fs_cb cb) {
  return eddy__fs_owner(loop, req, EDDY_FS_CHOWN, path, uid, gid, cb);
}

int eddy_fs_lchown(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                   eddy_uid_t uid, eddy_gid_t gid, eddy_fs_cb cb) {
  return eddy__fs_owner(loop, req, EDDY_FS_LCHOWN, path, uid, gid, cb);
}

int eddy_fs_fchown(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                   eddy_uid_t uid, eddy_gid_t gid, eddy_fs_cb cb) {
  int err = eddy__fs_init(loop, req, EDDY_FS_FCHOWN, NULL, NULL, cb);

  if (err != 0)
    return err;
  req->priv.file = file;
  req->priv.uid = uid;
  req->priv.gid = gid;
  return eddy__fs_go(req);
}

int eddy_fs_lutime(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                   double atime, double mtime, eddy_fs_cb cb) {
  int err = eddy__fs_meta_path(loop, req, EDDY_FS_LUTIME, path, cb);

  if (err != 0)
    return err;
  req->priv.atime = atime;
  req->priv.mtime = mtime;
  return eddy__fs_go(req);
}

int eddy_fs_mkstemp(eddy_loop_t *loop, eddy_fs_t *req, const char *tpl,
                    eddy_fs_cb cb) {
  int err = eddy__fs_meta_path(loop, req, EDDY_FS_MKSTEMP, tpl, cb);

  return err != 0 ? err : eddy__fs_go(req);
}

int eddy_fs_statfs(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                   eddy_fs_cb cb) {
  int err = eddy__fs_meta_path(loop, req, EDDY_FS_STATFS, path, cb);

  return err != 0 ? err : eddy__fs_go(req);
}

int eddy_fs_get_system_error(const eddy_fs_t *req) {
  /* eddy's codes are negated errno values on POSIX; its own codes (EOF,
   * the resolver's and the parser's) lie below -3000 and are not system
   * errors. */
  if (req == NULL || req->result >= 0 || req->result <= -3000)
    return 0;
  return (int)-req->result;
}
