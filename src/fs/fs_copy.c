/* fs_copy.c: moving bytes between files: sendfile (sendfile(2), or reads
 * and writes where the kernel refuses it) and copyfile (a clone where asked
 * for, else the same copy loop). The request plumbing is in fs.c. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h> /* FICLONE */
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#endif

#include "fs/fs_internal.h"

#define EDDY__FS_COPY_BUF (64u << 10)    /* read/write fallback chunk */
#define EDDY__FS_SENDFILE_MAX (1u << 30) /* bytes per sendfile(2) call */

/* Write all n bytes of buf. Returns what was written, or an error if
 * nothing was. */
static ssize_t eddy__fs_write_all(int fd, const char *buf, size_t n) {
  size_t done = 0;
  ssize_t r;

  while (done < n) {
    EDDY__FS_RETRY(r, write(fd, buf + done, n - done));
    if (r <= 0)
      return done > 0 ? (ssize_t)done : r == 0 ? EDDY_EIO : -errno;
    done += (size_t)r;
  }
  return (ssize_t)done;
}

/* sendfile with reads and writes, for kernels and descriptor kinds that
 * refuse it. Same results as eddy__fs_copy_fd. */
static ssize_t eddy__fs_copy_rw(int out, int in, int64_t off, size_t len) {
  char *buf = malloc(EDDY__FS_COPY_BUF);
  size_t total = 0;
  size_t want;
  ssize_t err = 0;
  ssize_t n;
  ssize_t w;

  if (buf == NULL)
    return EDDY_ENOMEM;
  while (total < len) {
    want = len - total < EDDY__FS_COPY_BUF ? len - total : EDDY__FS_COPY_BUF;
    if (off >= 0)
      EDDY__FS_RETRY(n, pread(in, buf, want, (off_t)(off + (int64_t)total)));
    else
      EDDY__FS_RETRY(n, read(in, buf, want));
    if (n <= 0) {
      err = n == 0 ? 0 : -errno;
      break;
    }
    w = eddy__fs_write_all(out, buf, (size_t)n);
    if (w < 0) {
      err = w;
      break;
    }
    total += (size_t)w;
    if (w < n) /* a write failed after some progress */
      break;
  }
  free(buf);
  return total > 0 ? (ssize_t)total : err;
}

#ifdef __linux__
static int eddy__fs_sendfile_refused(int err) {
  return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP ||
         err == ENOTSUP || err == EXDEV || err == EIO || err == ENOTSOCK;
}
#endif

/* Copy up to len bytes from in (at off, or its position if off < 0) to
 * out. Returns the bytes copied, or an error if nothing was. */
static ssize_t eddy__fs_copy_fd(int out, int in, int64_t off, size_t len) {
#ifdef __linux__
  size_t total = 0;
  size_t want;
  off_t pos;
  ssize_t n;

  while (total < len) {
    want = len - total;
    if (want > EDDY__FS_SENDFILE_MAX)
      want = EDDY__FS_SENDFILE_MAX;
    pos = (off_t)(off + (int64_t)total);
    EDDY__FS_RETRY(n, sendfile(out, in, off >= 0 ? &pos : NULL, want));
    if (n == 0)
      break;
    if (n == -1) {
      if (total == 0 && eddy__fs_sendfile_refused(errno))
        return eddy__fs_copy_rw(out, in, off, len);
      return total > 0 ? (ssize_t)total : -errno;
    }
    total += (size_t)n;
  }
  return (ssize_t)total;
#else
  return eddy__fs_copy_rw(out, in, off, len);
#endif
}

ssize_t eddy__fs_do_sendfile(eddy_fs_t *req) {
  size_t len = req->priv.len > SSIZE_MAX ? SSIZE_MAX : req->priv.len;

  return eddy__fs_copy_fd(req->priv.file, req->priv.file2, req->priv.offset,
                          len);
}

/* Give out (open, maybe an old file) in's mode and bytes: truncate it,
 * then clone where asked for and possible, else copy to end of file. */
static ssize_t eddy__fs_copy_body(int out, int in, const struct stat *st,
                                  int flags) {
  int r;
  ssize_t n;

  EDDY__FS_RETRY(r, fchmod(out, st->st_mode & 07777));
  if (r == 0)
    EDDY__FS_RETRY(r, ftruncate(out, 0));
  if (r == -1)
    return -errno;
#ifdef FICLONE
  if (flags & (EDDY_FS_COPYFILE_FICLONE | EDDY_FS_COPYFILE_FICLONE_FORCE)) {
    if (ioctl(out, FICLONE, in) == 0)
      return 0;
    if (flags & EDDY_FS_COPYFILE_FICLONE_FORCE)
      return -errno;
  }
#else
  if (flags & EDDY_FS_COPYFILE_FICLONE_FORCE)
    return EDDY_ENOTSUP;
#endif
  /* To end of file, not to st_size: the file may be growing, or be one
   * whose size is unknown (/proc). A pass that stopped early after some
   * progress is followed by one that reports the error. */
  do
    n = eddy__fs_copy_fd(out, in, -1, (size_t)SSIZE_MAX);
  while (n > 0);
  return n;
}

static ssize_t eddy__fs_copy_to(int in, const struct stat *st,
                                const char *new_path, int flags) {
  int excl = flags & EDDY_FS_COPYFILE_EXCL ? O_EXCL : 0;
  struct stat dst;
  ssize_t r;
  int out;

  EDDY__FS_RETRY(out, open(new_path, O_WRONLY | O_CREAT | O_CLOEXEC | excl,
                           st->st_mode & 0777));
  if (out == -1)
    return -errno;
  if (fstat(out, &dst) == -1) {
    r = -errno;
  } else if (dst.st_dev == st->st_dev && dst.st_ino == st->st_ino) {
    eddy__fs_close_fd(out); /* the same file: copying would empty it */
    return 0;
  } else {
    r = eddy__fs_copy_body(out, in, st, flags);
  }
  if (r >= 0)
    r = eddy__fs_close_fd(out);
  else
    eddy__fs_close_fd(out);
  if (r < 0)
    unlink(new_path); /* no half-copied file left behind */
  return r < 0 ? r : 0;
}

ssize_t eddy__fs_copy_path(const char *path, const char *new_path, int flags) {
  struct stat st;
  ssize_t r;
  int in;

  EDDY__FS_RETRY(in, open(path, O_RDONLY | O_CLOEXEC));
  if (in == -1)
    return -errno;
  if (fstat(in, &st) == -1)
    r = -errno;
  else if (S_ISDIR(st.st_mode))
    r = EDDY_EISDIR;
  else
    r = eddy__fs_copy_to(in, &st, new_path, flags);
  eddy__fs_close_fd(in);
  return r;
}

ssize_t eddy__fs_do_copyfile(eddy_fs_t *req) {
  return eddy__fs_copy_path(req->path, req->priv.new_path, req->priv.flags);
}
