/* eddy/fs.h: file-system requests (libuv's uv_fs_*, Node's fs module).
 *
 * Every operation has one shape:
 *
 *   int eddy_fs_X(eddy_loop_t *loop, eddy_fs_t *req, <args>, eddy_fs_cb cb);
 *
 * With cb NULL it runs synchronously on the calling thread and returns
 * req->result (clamped to INT_MAX; the full count is in req->result). With
 * a cb it is a job on the work pool (see eddy/work.h): the call returns 0,
 * or an error if the job could not be submitted (no callback then), and cb
 * later runs on the loop's thread with the outcome in req->result. Either
 * way req->result is a descriptor, a byte count, an entry count or 0, or a
 * negative eddy error (EDDY_ECANCELED for a cancelled request).
 *
 * The request is the caller's until its callback has run (or the
 * synchronous call returned); then eddy_fs_req_cleanup() frees whatever it
 * allocated, and the request may be reused. Asynchronous calls copy the
 * paths they are given, so the caller's strings may die at once; buffers
 * (eddy_fs_read/write) and data (eddy_fs_write_file) are not copied and
 * must stay valid until the callback.
 *
 * EINTR is retried and never reported. Descriptors are always opened with
 * O_CLOEXEC. Start asynchronous requests from the loop's thread; cancel
 * them with eddy_cancel(&req->req) while they wait for a pool thread.
 * Synchronous calls may come from any thread, and need no loop (NULL).
 * Asynchronous calls with paths allocate their copy (one malloc; failure
 * is EDDY_ENOMEM), as libuv does.
 */
#ifndef EDDY_FS_H
#define EDDY_FS_H

#include "export.h"

#include <fcntl.h> /* O_RDONLY, O_CREAT, ... for eddy_fs_open */
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "loop.h"
#include "work.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_fs_s eddy_fs_t;
typedef void (*eddy_fs_cb)(eddy_fs_t *req);

/* A file descriptor. */
typedef int eddy_file;

/* Which operation a request performs (req->fs_type). */
typedef enum {
  EDDY_FS_UNKNOWN = 0,
  EDDY_FS_OPEN,
  EDDY_FS_CLOSE,
  EDDY_FS_READ,
  EDDY_FS_WRITE,
  EDDY_FS_STAT,
  EDDY_FS_FSTAT,
  EDDY_FS_LSTAT,
  EDDY_FS_UNLINK,
  EDDY_FS_MKDIR,
  EDDY_FS_MKDTEMP,
  EDDY_FS_RMDIR,
  EDDY_FS_RENAME,
  EDDY_FS_SCANDIR,
  EDDY_FS_OPENDIR,
  EDDY_FS_READDIR,
  EDDY_FS_CLOSEDIR,
  EDDY_FS_FSYNC,
  EDDY_FS_FDATASYNC,
  EDDY_FS_FTRUNCATE,
  EDDY_FS_COPYFILE,
  EDDY_FS_SENDFILE,
  EDDY_FS_CHMOD,
  EDDY_FS_FCHMOD,
  EDDY_FS_UTIME,
  EDDY_FS_FUTIME,
  EDDY_FS_LINK,
  EDDY_FS_SYMLINK,
  EDDY_FS_READLINK,
  EDDY_FS_REALPATH,
  EDDY_FS_ACCESS,
  EDDY_FS_READ_FILE,
  EDDY_FS_WRITE_FILE,
  EDDY_FS_CHOWN,
  EDDY_FS_FCHOWN,
  EDDY_FS_LCHOWN,
  EDDY_FS_LUTIME,
  EDDY_FS_MKSTEMP,
  EDDY_FS_STATFS,
  EDDY_FS_APPEND_FILE,
  EDDY_FS_MKDIR_RECURSIVE,
  EDDY_FS_RM,
  EDDY_FS_CP
} eddy_fs_type;

/* User and group ids for eddy_fs_chown and its kin; (eddy_uid_t)-1 and
 * (eddy_gid_t)-1 leave that id as it is. */
typedef uid_t eddy_uid_t;
typedef gid_t eddy_gid_t;

/* What statfs(2) reports about the file system holding a path
 * (eddy_fs_statfs; libuv's uv_statfs_t). Sizes are in blocks of bsize
 * bytes. */
typedef struct {
  uint64_t type;   /* the file system's magic number (Linux f_type) */
  uint64_t bsize;  /* block size */
  uint64_t blocks; /* blocks in all */
  uint64_t bfree;  /* free blocks */
  uint64_t bavail; /* free blocks an unprivileged user may take */
  uint64_t files;  /* file nodes in all */
  uint64_t ffree;  /* free file nodes */
  uint64_t spare[4];
} eddy_statfs_t;

/* eddy_fs_utime, _futime and _lutime: a time argument equal to one of
 * these sets that time to now, or leaves it as it is (libuv's
 * UV_FS_UTIME_NOW / UV_FS_UTIME_OMIT; so -1 and -2 seconds cannot be set
 * as times). */
#define EDDY_FS_UTIME_NOW (-1.0)
#define EDDY_FS_UTIME_OMIT (-2.0)

typedef struct {
  int64_t sec;
  int64_t nsec;
} eddy_timespec_t;

/* What stat(2) reports. birthtim is the creation time where the file
 * system records one (Linux statx), zero otherwise. */
typedef struct {
  uint64_t dev;
  uint64_t mode;
  uint64_t nlink;
  uint64_t uid;
  uint64_t gid;
  uint64_t rdev;
  uint64_t ino;
  uint64_t size;
  uint64_t blksize;
  uint64_t blocks;
  eddy_timespec_t atim;
  eddy_timespec_t mtim;
  eddy_timespec_t ctim;
  eddy_timespec_t birthtim;
} eddy_stat_t;

typedef enum {
  EDDY_DIRENT_UNKNOWN = 0,
  EDDY_DIRENT_FILE,
  EDDY_DIRENT_DIR,
  EDDY_DIRENT_LINK,
  EDDY_DIRENT_FIFO,
  EDDY_DIRENT_SOCKET,
  EDDY_DIRENT_CHAR,
  EDDY_DIRENT_BLOCK
} eddy_dirent_type;

/* A directory entry. type is UNKNOWN where the file system does not say
 * (lstat the entry to find out). */
typedef struct {
  const char *name;
  eddy_dirent_type type;
} eddy_dirent_t;

/* An open directory stream (eddy_fs_opendir). Before each eddy_fs_readdir
 * point dirents at an array of nentries entries for it to fill. */
typedef struct {
  eddy_dirent_t *dirents; /* yours */
  size_t nentries;        /* yours: capacity of dirents */
  struct {
    void *dir; /* DIR * */
  } priv;
} eddy_dir_t;

/* eddy_fs_copyfile flags (libuv's values). */
enum {
  EDDY_FS_COPYFILE_EXCL = 1,         /* fail with EEXIST if new_path exists */
  EDDY_FS_COPYFILE_FICLONE = 2,      /* try a copy-on-write clone first */
  EDDY_FS_COPYFILE_FICLONE_FORCE = 4 /* clone or fail, never copy bytes */
};

/* eddy_fs_symlink flags: Windows-only in libuv, accepted and ignored. */
enum { EDDY_FS_SYMLINK_DIR = 1, EDDY_FS_SYMLINK_JUNCTION = 2 };

#define EDDY__FS_INLINE_BUFS 4

struct eddy_fs_s {
  eddy_req_t req; /* req.data is yours */
  eddy_loop_t *loop;
  eddy_fs_type fs_type;
  ssize_t result;   /* fd, byte count, entry count or 0; or an eddy error */
  void *ptr;        /* stat: &statbuf; readlink/realpath: the string;
                       read_file: the data; opendir: the eddy_dir_t */
  const char *path; /* the path (a copy for async calls and mkdtemp;
                       mkdtemp: the created path) */
  eddy_stat_t statbuf;
  struct {
    eddy_fs_cb cb;
    char *paths; /* the copy of path and new_path, one allocation */
    const char *new_path;
    eddy_file file;  /* the descriptor (sendfile: out_fd) */
    eddy_file file2; /* sendfile: in_fd */
    int flags;
    int mode;
    int64_t offset;
    size_t len;  /* sendfile, write_file: bytes to move; read_file: read */
    size_t cap;  /* read_file: the data buffer's capacity */
    size_t done; /* write_file: bytes written */
    double atime;
    double mtime;
    eddy_uid_t uid; /* chown, fchown, lchown */
    eddy_gid_t gid;
    const void *data;       /* write_file */
    eddy_dir_t *dir;        /* readdir, closedir */
    const eddy_buf_t *bufs; /* read, write: bufsml, bufs_copy or yours */
    eddy_buf_t *bufs_copy;  /* an async call's copy of more than 4 */
    unsigned int nbufs;
    unsigned int next; /* scandir: the next entry eddy_fs_scandir_next gives */
    int step;          /* read_file, write_file: the step queued or running */
    int eof;           /* read_file: the last read step reached the end */
    ssize_t step_result;
    ssize_t error; /* read_file, write_file: the first error */
    eddy_buf_t bufsml[EDDY__FS_INLINE_BUFS];
    eddy__work_t work;
  } priv;
};

/* Free what the request allocated: path copies, a copied buffer array,
 * readlink/realpath strings, scandir entries, readdir entry names and
 * read_file data. Pointers into them (req->ptr, req->path, names from
 * eddy_fs_scandir_next) die with it. Safe to call twice; do not call it
 * while the request is in flight. Any thread that owns the request. */
EDDY_EXTERN void eddy_fs_req_cleanup(eddy_fs_t *req);

/* open(2) path with flags (O_CLOEXEC is added) and mode (for O_CREAT).
 * result: the descriptor. Errors as open(2): EDDY_ENOENT, EDDY_EEXIST
 * (O_EXCL), EDDY_EISDIR (writing a directory), EDDY_ENOTDIR,
 * EDDY_ENAMETOOLONG, EDDY_EACCES, EDDY_EMFILE, ... close closes file; an
 * EINTR from close(2) counts as success, as the descriptor is gone. */
EDDY_EXTERN int eddy_fs_open(eddy_loop_t *loop, eddy_fs_t *req,
                             const char *path, int flags, int mode,
                             eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_close(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                              eddy_fs_cb cb);

/* Read into / write from nbufs buffers in order (readv/writev). With
 * offset >= 0 at that offset, leaving the file position alone (preadv,
 * pwritev); with offset < 0 at the current position, advancing it. result:
 * the bytes moved, which may be fewer than asked (0 at end of file for
 * reads). The buffer array is copied, the buffers are not: they must stay
 * valid until the callback. A read fills at most IOV_MAX buffers (as
 * readv); a write goes on, IOV_MAX buffers at a time, until all are
 * written or one writev comes up short (as libuv).
 * Errors: EDDY_EINVAL (nbufs 0 or bufs NULL), EDDY_EBADF, EDDY_EISDIR,
 * EDDY_ESPIPE (offset on a pipe), EDDY_ENOMEM, ... */
EDDY_EXTERN int eddy_fs_read(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                             const eddy_buf_t bufs[], unsigned int nbufs,
                             int64_t offset, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_write(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                              const eddy_buf_t bufs[], unsigned int nbufs,
                              int64_t offset, eddy_fs_cb cb);

/* stat(2) path, fstat(2) file, lstat(2) path (a symbolic link itself).
 * The result lands in req->statbuf and req->ptr points at it; result is 0.
 * Errors: EDDY_ENOENT, EDDY_ENOTDIR, EDDY_ENAMETOOLONG, EDDY_ELOOP,
 * EDDY_EACCES, EDDY_EBADF (fstat). */
EDDY_EXTERN int eddy_fs_stat(eddy_loop_t *loop, eddy_fs_t *req,
                             const char *path, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_fstat(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                              eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_lstat(eddy_loop_t *loop, eddy_fs_t *req,
                              const char *path, eddy_fs_cb cb);

/* unlink(2), mkdir(2) with mode, rmdir(2), rename(2) path to new_path.
 * result 0. Errors as the system calls: EDDY_ENOENT, EDDY_EEXIST (mkdir),
 * EDDY_EISDIR (unlink of a directory on Linux), EDDY_ENOTDIR,
 * EDDY_ENOTEMPTY (rmdir), EDDY_ENAMETOOLONG, EDDY_EACCES, ... */
EDDY_EXTERN int eddy_fs_unlink(eddy_loop_t *loop, eddy_fs_t *req,
                               const char *path, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_mkdir(eddy_loop_t *loop, eddy_fs_t *req,
                              const char *path, int mode, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_rmdir(eddy_loop_t *loop, eddy_fs_t *req,
                              const char *path, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_rename(eddy_loop_t *loop, eddy_fs_t *req,
                               const char *path, const char *new_path,
                               eddy_fs_cb cb);

/* Create a unique directory (mode 0700) from tpl, which must end in
 * "XXXXXX". tpl is copied (also for synchronous calls); req->path is the
 * created path, valid until cleanup. result 0. Errors: EDDY_EINVAL (no
 * XXXXXX), EDDY_ENOENT, EDDY_EACCES, ... */
EDDY_EXTERN int eddy_fs_mkdtemp(eddy_loop_t *loop, eddy_fs_t *req,
                                const char *tpl, eddy_fs_cb cb);

/* List a directory: result is the entry count, without "." and "..".
 * Take the entries, sorted by name (byte order), with
 * eddy_fs_scandir_next(). flags is reserved: pass 0. Errors: EDDY_ENOENT,
 * EDDY_ENOTDIR, EDDY_EACCES, EDDY_ENOMEM, ... */
EDDY_EXTERN int eddy_fs_scandir(eddy_loop_t *loop, eddy_fs_t *req,
                                const char *path, int flags, eddy_fs_cb cb);

/* Store the next entry of a finished scandir request in ent. The name
 * lives until eddy_fs_req_cleanup(). Returns 0, EDDY_EOF after the last
 * entry, or the request's own error. Loop thread (or the owner's). */
EDDY_EXTERN int eddy_fs_scandir_next(eddy_fs_t *req, eddy_dirent_t *ent);

/* Directory streams (libuv's uv_fs_opendir), for directories too large to
 * list at once. opendir: req->ptr is a new eddy_dir_t (result 0); errors
 * as scandir. readdir: fills at most dir->nentries of dir->dirents (set
 * both before each call), skipping "." and ".."; result is the number
 * filled, 0 at the end. The names belong to the readdir request: call
 * eddy_fs_req_cleanup() on it before the next readdir on the same dir.
 * closedir: closes and frees dir (result 0). One request at a time per
 * dir; req->ptr is dir for readdir and closedir (as in libuv). Errors:
 * EDDY_EINVAL (dir NULL, or no dirents array). */
EDDY_EXTERN int eddy_fs_opendir(eddy_loop_t *loop, eddy_fs_t *req,
                                const char *path, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_readdir(eddy_loop_t *loop, eddy_fs_t *req,
                                eddy_dir_t *dir, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_closedir(eddy_loop_t *loop, eddy_fs_t *req,
                                 eddy_dir_t *dir, eddy_fs_cb cb);

/* fsync(2), fdatasync(2), ftruncate(2) to offset bytes. result 0.
 * Errors: EDDY_EBADF, EDDY_EINVAL (offset < 0, or not a regular file),
 * EDDY_EIO, ... */
EDDY_EXTERN int eddy_fs_fsync(eddy_loop_t *loop, eddy_fs_t *req, eddy_file file,
                              eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_fdatasync(eddy_loop_t *loop, eddy_fs_t *req,
                                  eddy_file file, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_ftruncate(eddy_loop_t *loop, eddy_fs_t *req,
                                  eddy_file file, int64_t offset,
                                  eddy_fs_cb cb);

/* Copy the regular file path to new_path, which gets path's mode. flags:
 * EDDY_FS_COPYFILE_EXCL (fail with EDDY_EEXIST if new_path exists),
 * _FICLONE (clone where the file system can, else copy), _FICLONE_FORCE
 * (clone or fail with EDDY_ENOTSUP / EDDY_EXDEV ...). Copying a file onto
 * itself succeeds and changes nothing. If the copy fails after new_path was
 * opened, new_path is removed. result 0. Errors: EDDY_ENOENT, EDDY_EISDIR,
 * EDDY_EEXIST, EDDY_EINVAL (unknown flags), EDDY_ENOSPC, ... */
EDDY_EXTERN int eddy_fs_copyfile(eddy_loop_t *loop, eddy_fs_t *req,
                                 const char *path, const char *new_path,
                                 int flags, eddy_fs_cb cb);

/* Copy up to length bytes from in_fd, starting at in_offset (or at its
 * current position, advancing it, if in_offset < 0), to out_fd at its
 * current position. Uses sendfile(2), and plain reads and writes where the
 * kernel refuses it. result: bytes copied, fewer than length at end of
 * file or if an error followed some progress. Errors: EDDY_EBADF,
 * EDDY_EAGAIN (non-blocking out_fd), EDDY_EPIPE, ... */
EDDY_EXTERN int eddy_fs_sendfile(eddy_loop_t *loop, eddy_fs_t *req,
                                 eddy_file out_fd, eddy_file in_fd,
                                 int64_t in_offset, size_t length,
                                 eddy_fs_cb cb);

/* chmod(2) path / fchmod(2) file to mode. result 0. Errors: EDDY_ENOENT,
 * EDDY_EPERM, EDDY_EBADF (fchmod), ... */
EDDY_EXTERN int eddy_fs_chmod(eddy_loop_t *loop, eddy_fs_t *req,
                              const char *path, int mode, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_fchmod(eddy_loop_t *loop, eddy_fs_t *req,
                               eddy_file file, int mode, eddy_fs_cb cb);

/* Set access and modification times, in seconds since the epoch with a
 * fraction (nanosecond resolution where the file system has it), via
 * utimensat(2) / futimens(2). EDDY_FS_UTIME_NOW for either time sets it
 * to the current time, EDDY_FS_UTIME_OMIT leaves it alone. result 0.
 * Errors: EDDY_EINVAL (a time that is NaN or infinite), EDDY_ENOENT,
 * EDDY_EBADF (futime), EDDY_EPERM, ... */
EDDY_EXTERN int eddy_fs_utime(eddy_loop_t *loop, eddy_fs_t *req,
                              const char *path, double atime, double mtime,
                              eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_futime(eddy_loop_t *loop, eddy_fs_t *req,
                               eddy_file file, double atime, double mtime,
                               eddy_fs_cb cb);

/* link(2): a hard link new_path to path. symlink(2): new_path becomes a
 * symbolic link whose target is path (flags: EDDY_FS_SYMLINK_*, ignored on
 * POSIX). result 0. Errors: EDDY_EEXIST, EDDY_ENOENT, EDDY_EPERM (link of
 * a directory), ... */
EDDY_EXTERN int eddy_fs_link(eddy_loop_t *loop, eddy_fs_t *req,
                             const char *path, const char *new_path,
                             eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_symlink(eddy_loop_t *loop, eddy_fs_t *req,
                                const char *path, const char *new_path,
                                int flags, eddy_fs_cb cb);

/* readlink: req->ptr is the target of the symbolic link path; realpath:
 * req->ptr is the canonical absolute path (links resolved). Both are
 * NUL-terminated, malloc'd and freed by cleanup; result 0. Errors:
 * EDDY_ENOENT, EDDY_EINVAL (readlink of something not a link),
 * EDDY_ELOOP, EDDY_ENAMETOOLONG, EDDY_ENOMEM, ... */
EDDY_EXTERN int eddy_fs_readlink(eddy_loop_t *loop, eddy_fs_t *req,
                                 const char *path, eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_realpath(eddy_loop_t *loop, eddy_fs_t *req,
                                 const char *path, eddy_fs_cb cb);

/* access(2): may the process reach path with mode (F_OK, or R_OK, W_OK,
 * X_OK from <unistd.h> or'ed)? result 0. Errors: EDDY_ENOENT,
 * EDDY_EACCES, EDDY_ENOTDIR, ... */
EDDY_EXTERN int eddy_fs_access(eddy_loop_t *loop, eddy_fs_t *req,
                               const char *path, int mode, eddy_fs_cb cb);

/* Node's fs.readFile: read the whole file. Runs as a chain of pool jobs,
 * each one step: open, fstat, reads of at most 512 KiB, close. Each step's
 * completion runs on the loop and queues the next, so jobs queued
 * meanwhile run between the steps, as in Node. Reads go on until end of
 * file, so files whose size is unknown (/proc) or changes are read whole.
 * result: the byte count; req->ptr: the data (malloc'd, with a NUL after
 * the last byte; freed by cleanup). On an error the descriptor is closed
 * (also as a pool step) and result is the first error; req->ptr is NULL.
 * eddy_cancel() cancels the step that is queued (EDDY_EBUSY while one
 * runs): the chain still closes the descriptor, as a pool step, or on the
 * loop thread if the close step itself was cancelled, and then reports
 * EDDY_ECANCELED. With cb NULL every step runs inline. Errors:
 * EDDY_ENOENT, EDDY_EISDIR, EDDY_EACCES, EDDY_ENOMEM, EDDY_EFBIG (a file
 * of SSIZE_MAX / 2 bytes or more), ... */
EDDY_EXTERN int eddy_fs_read_file(eddy_loop_t *loop, eddy_fs_t *req,
                                  const char *path, eddy_fs_cb cb);

/* Node's fs.writeFile: open path O_WRONLY | O_CREAT | O_TRUNC with mode
 * (for a new file; the umask applies), write all len bytes of data in
 * steps of at most 512 KiB, close; each step a pool job as in
 * eddy_fs_read_file, with the same error and cancel rules. data is not
 * copied: it must stay valid and unchanged until the callback. result:
 * len. Errors: EDDY_EINVAL (data NULL with len > 0), EDDY_ENOENT,
 * EDDY_EISDIR, EDDY_EACCES, EDDY_ENOSPC, ... */
EDDY_EXTERN int eddy_fs_write_file(eddy_loop_t *loop, eddy_fs_t *req,
                                   const char *path, const void *data,
                                   size_t len, int mode, eddy_fs_cb cb);

/* ---- ownership, link times, temporary files, file systems ------------- */

/* chown(2) path, fchown(2) file, lchown(2) path (a symbolic link itself,
 * not its target) to uid and gid; (eddy_uid_t)-1 / (eddy_gid_t)-1 keep
 * that id. result 0. Errors: EDDY_EPERM (not allowed to give the file
 * away), EDDY_ENOENT, EDDY_EBADF (fchown), EDDY_EROFS, ... */
EDDY_EXTERN int eddy_fs_chown(eddy_loop_t *loop, eddy_fs_t *req,
                              const char *path, eddy_uid_t uid, eddy_gid_t gid,
                              eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_fchown(eddy_loop_t *loop, eddy_fs_t *req,
                               eddy_file file, eddy_uid_t uid, eddy_gid_t gid,
                               eddy_fs_cb cb);
EDDY_EXTERN int eddy_fs_lchown(eddy_loop_t *loop, eddy_fs_t *req,
                               const char *path, eddy_uid_t uid,
                               eddy_gid_t gid, eddy_fs_cb cb);

/* eddy_fs_utime on a symbolic link itself, not its target (utimensat(2)
 * with AT_SYMLINK_NOFOLLOW; libuv's uv_fs_lutime). Same times, NOW and
 * OMIT, and errors as eddy_fs_utime. */
EDDY_EXTERN int eddy_fs_lutime(eddy_loop_t *loop, eddy_fs_t *req,
                               const char *path, double atime, double mtime,
                               eddy_fs_cb cb);

/* Create and open a unique regular file (mode 0600, O_RDWR, O_CLOEXEC)
 * from tpl, which must end in "XXXXXX". tpl is copied (also for
 * synchronous calls); req->path is the created path, valid until cleanup.
 * result: the descriptor, the caller's to close. Errors: EDDY_EINVAL (no
 * XXXXXX at the end), EDDY_ENOENT, EDDY_EACCES, EDDY_EEXIST (every name
 * tried was taken), EDDY_EMFILE, ... */
EDDY_EXTERN int eddy_fs_mkstemp(eddy_loop_t *loop, eddy_fs_t *req,
                                const char *tpl, eddy_fs_cb cb);

/* statfs(2) the file system that holds path: req->ptr points at an
 * eddy_statfs_t that cleanup frees. result 0. Errors: EDDY_ENOENT,
 * EDDY_ENOTDIR, EDDY_EACCES, EDDY_ENOMEM, ... */
EDDY_EXTERN int eddy_fs_statfs(eddy_loop_t *loop, eddy_fs_t *req,
                               const char *path, eddy_fs_cb cb);

/* Node's fs.appendFile: eddy_fs_write_file with path opened O_WRONLY |
 * O_CREAT | O_APPEND (created with mode, the umask applied), so the data
 * lands after what the file holds, even if another writer appends too.
 * Same steps, data rules, cancel rules and errors. result: len. */
EDDY_EXTERN int eddy_fs_append_file(eddy_loop_t *loop, eddy_fs_t *req,
                                    const char *path, const void *data,
                                    size_t len, int mode, eddy_fs_cb cb);

/* The platform error behind a failed request (libuv's
 * uv_fs_get_system_error): the positive errno value of req->result (2 for
 * EDDY_ENOENT), or 0 when the request did not fail. eddy_translate_sys_error
 * turns it back into eddy's code. Any thread that owns the request. */
EDDY_EXTERN int eddy_fs_get_system_error(const eddy_fs_t *req);

/* ---- trees: mkdir -p, rm -r, cp -r ------------------------------------ */

/* Node's fs.mkdir(path, { recursive: true }): make path and every missing
 * parent, each with mode (the umask applies). A directory that is there
 * already is no error. req->ptr: the shallowest directory it made, as a
 * prefix of path without trailing slashes (malloc'd, freed by cleanup),
 * or NULL when every directory existed (Node's undefined). result 0.
 * Errors: EDDY_EINVAL (path NULL or empty), EDDY_EEXIST (path is a file),
 * EDDY_ENOTDIR (a parent is a file), EDDY_EACCES, EDDY_ENAMETOOLONG,
 * EDDY_ENOMEM, ... */
EDDY_EXTERN int eddy_fs_mkdir_recursive(eddy_loop_t *loop, eddy_fs_t *req,
                                        const char *path, int mode,
                                        eddy_fs_cb cb);

/* eddy_fs_rm flags (Node's fs.rm options). */
enum {
  EDDY_FS_RM_RECURSIVE = 1, /* a directory goes with everything in it */
  EDDY_FS_RM_FORCE = 2      /* a path that does not exist is no error */
};

/* Node's fs.rm: remove path. A file, a symbolic link (never what it
 * points to), a FIFO or a socket is unlinked; a directory only with
 * EDDY_FS_RM_RECURSIVE, and then with everything under it, links
 * removed and not followed. The whole tree is one pool job. Entries that
 * vanish meanwhile are no error; a directory that keeps filling up while
 * it is emptied fails with EDDY_ENOTEMPTY after three passes (Node's
 * maxRetries are not offered). result 0. Errors: EDDY_EINVAL (path NULL
 * or empty, unknown flags), EDDY_ENOENT (without FORCE), EDDY_EISDIR (a
 * directory without RECURSIVE: Node's ERR_FS_EISDIR), EDDY_EACCES,
 * EDDY_EPERM, EDDY_EMFILE (a tree deeper than the free descriptors), ... */
EDDY_EXTERN int eddy_fs_rm(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                           int flags, eddy_fs_cb cb);

/* eddy_fs_cp flags (Node's fs.cp options; all off with 0). */
enum {
  EDDY_FS_CP_RECURSIVE = 1,     /* copy directories, with their contents */
  EDDY_FS_CP_FORCE = 2,         /* replace files and links that exist
                                   (Node's default force: true) */
  EDDY_FS_CP_ERROR_ON_EXIST = 4, /* without FORCE: EDDY_EEXIST for an
                                    existing file, rather than skip it */
  EDDY_FS_CP_DEREFERENCE = 8,   /* follow symbolic links, copy targets */
  EDDY_FS_CP_VERBATIM_SYMLINKS = 16, /* keep relative link targets as they
                                        are (see below) */
  EDDY_FS_CP_PRESERVE_TIMESTAMPS = 32 /* files keep atime and mtime */
};

/* Node's fs.cp: copy src to dest, a whole tree with EDDY_FS_CP_RECURSIVE.
 * Files are copied as eddy_fs_copyfile copies them (mode included);
 * directories are created (or merged into when dest has one already) and
 * then get src's mode; symbolic links are copied as links, unless
 * EDDY_FS_CP_DEREFERENCE. A relative link target is made absolute against
 * the link's directory, as Node does, unless _VERBATIM_SYMLINKS. An
 * existing file or link in dest is replaced with _FORCE, is an
 * EDDY_EEXIST with _ERROR_ON_EXIST, and is left as it is otherwise. A
 * missing parent of dest is created. The whole copy is one pool job; it
 * stops at the first error, leaving what it copied. result 0. Errors:
 * EDDY_EINVAL (NULL or empty path, unknown flags, src and dest the same
 * file, dest inside the directory src, or src a socket, FIFO or device:
 * Node's ERR_FS_CP_EINVAL, _FIFO_PIPE, _SOCKET, _UNKNOWN), EDDY_EISDIR (a
 * directory without RECURSIVE, or a file onto a directory), EDDY_ENOTDIR
 * (a directory onto a file), EDDY_EEXIST, EDDY_ENOENT, EDDY_EACCES,
 * EDDY_ENAMETOOLONG, ... */
EDDY_EXTERN int eddy_fs_cp(eddy_loop_t *loop, eddy_fs_t *req, const char *src,
                           const char *dest, int flags, eddy_fs_cb cb);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_FS_H */
