/* fs_internal.h: what the file-system sources share: fs.c (requests,
 * dispatch, most operations), fs_dir.c (directory listing), fs_copy.c
 * (sendfile, copyfile), fs_file.c (the read_file / write_file chains),
 * fs_meta.c (ownership, link times, mkstemp, statfs), fs_tree.c
 * (recursive mkdir and rm) and fs_cp.c (copying trees). */
#ifndef EDDY_FS_INTERNAL_H
#define EDDY_FS_INTERNAL_H

#include <errno.h>
#include <limits.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "eddy/fs.h"
#include "pool/work_internal.h"

/* Evaluate a system call again while a signal interrupts it: EINTR is
 * never reported to the caller. r receives the call's return value. */
#define EDDY__FS_RETRY(r, call)                                                \
  do {                                                                         \
    (r) = (call);                                                              \
  } while ((r) == -1 && errno == EINTR)

/* A system call's result, or -errno when it returned -1. */
static inline ssize_t eddy__fs_ret(ssize_t r) {
  return r == -1 ? -errno : r;
}

/* The steps of a read_file / write_file chain (req->priv.step). */
enum {
  EDDY__FS_STEP_OPEN = 1,
  EDDY__FS_STEP_FSTAT,
  EDDY__FS_STEP_READ,
  EDDY__FS_STEP_WRITE,
  EDDY__FS_STEP_CLOSE
};

/* Reset req for a new operation of the given type and copy path and
 * new_path (either may be NULL) when the call is asynchronous or the type
 * writes into its path (mkdtemp). Returns 0, EDDY_EINVAL (req NULL, or a
 * callback without a loop) or EDDY_ENOMEM; req->result holds the error. */
int eddy__fs_init(eddy_loop_t *loop, eddy_fs_t *req, eddy_fs_type type,
                  const char *path, const char *new_path, eddy_fs_cb cb);

/* Run the request now (no callback) or queue it on the pool, where
 * fs.c's dispatch runs its eddy__fs_do_* function. Returns what the
 * public call returns. */
int eddy__fs_go(eddy_fs_t *req);

/* Seconds with a fraction, or EDDY_FS_UTIME_NOW / _OMIT, to a timespec
 * for utimensat(2); NaN, infinities and times out of time_t's range are
 * EDDY_EINVAL. */
struct timespec;
int eddy__fs_timespec(double t, struct timespec *ts);

/* The return value of a synchronous call: req->result as an int. */
static inline int eddy__fs_sync_result(const eddy_fs_t *req) {
  return req->result > INT_MAX ? INT_MAX : (int)req->result;
}

/* close(2) that treats EINTR as success: on Linux the descriptor is gone
 * by then, and closing it again could close someone else's. */
int eddy__fs_close_fd(int fd);

/* Operations run by fs.c's dispatch, on a pool thread or inline: each
 * returns req->result's value. */
ssize_t eddy__fs_do_scandir(eddy_fs_t *req);
ssize_t eddy__fs_do_opendir(eddy_fs_t *req);
ssize_t eddy__fs_do_readdir(eddy_fs_t *req);
ssize_t eddy__fs_do_closedir(eddy_fs_t *req);
ssize_t eddy__fs_do_sendfile(eddy_fs_t *req);
ssize_t eddy__fs_do_copyfile(eddy_fs_t *req);

/* fs_meta.c: ownership, link times, mkstemp, statfs. */
ssize_t eddy__fs_do_chown(eddy_fs_t *req);
ssize_t eddy__fs_do_fchown(eddy_fs_t *req);
ssize_t eddy__fs_do_lchown(eddy_fs_t *req);
ssize_t eddy__fs_do_lutime(eddy_fs_t *req);
ssize_t eddy__fs_do_mkstemp(eddy_fs_t *req);
ssize_t eddy__fs_do_statfs(eddy_fs_t *req);

/* fs_tree.c: recursive mkdir and rm; fs_cp.c: copying trees. */
ssize_t eddy__fs_do_mkdir_recursive(eddy_fs_t *req);
ssize_t eddy__fs_do_rm(eddy_fs_t *req);
ssize_t eddy__fs_do_cp(eddy_fs_t *req);

/* mkdir -p on p (which it may change: trailing slashes are cut), each new
 * directory with mode. *first is the length of the prefix of p that is
 * the shallowest directory it made, 0 if it made none. Returns 0 or a
 * negative error (EDDY_EEXIST, EDDY_ENOTDIR, ...). */
int eddy__fs_mkdirp(char *p, int mode, size_t *first);

/* copyfile from path to new_path with EDDY_FS_COPYFILE_* flags: the
 * operation behind eddy_fs_copyfile, for fs_cp.c's files. */
ssize_t eddy__fs_copy_path(const char *path, const char *new_path, int flags);

/* Cleanup of a finished scandir request's entries; of the first n names
 * a readdir stored in dir. */
void eddy__fs_free_scandir(eddy_fs_t *req);
void eddy__fs_free_names(eddy_dir_t *dir, size_t n);

#endif /* EDDY_FS_INTERNAL_H */
