/* fs_tree.c: Node's recursive directory calls: fs.mkdir with
 * { recursive: true } and fs.rm with { recursive, force }. Each is one
 * pool job (or runs inline when synchronous): a whole tree is removed by
 * one pool thread, which stays busy for as long as that takes. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_internal.h"

/* How often rm scans a directory again when entries appear while it is
 * being emptied (another process writing into it). */
#define EDDY__FS_RM_PASSES 3

/* ---- mkdir -p --------------------------------------------------------- */

static int eddy__fs_is_dir(const char *path) {
  struct stat st;

  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir(2) of p[0..end), NUL-terminated for the call. Returns 0, 1 when a
 * directory is there already, or a negative error. */
static int eddy__fs_mkdir_prefix(char *p, size_t end, size_t len, int mode) {
  char saved = p[end];
  int r;

  p[end] = '\0';
  EDDY__FS_RETRY(r, mkdir(p, (mode_t)mode));
  if (r == -1) {
    r = -errno;
    /* EEXIST, or a refusal (EACCES, EROFS) about a directory that exists
     * anyway: both fine if it is a directory. */
    if (eddy__fs_is_dir(p))
      r = 1;
    else if (r == EDDY_EEXIST && end < len)
      r = EDDY_ENOTDIR; /* a parent is a file */
  }
  p[end] = saved;
  return r;
}

/* The end of the component before end, trailing slashes dropped: the
 * parent's prefix length; 0 when there is none. A path's root "/" is a
 * prefix of length 1. */
static size_t eddy__fs_parent_end(const char *p, size_t end) {
  while (end > 0 && p[end - 1] != '/')
    end--;
  while (end > 1 && p[end - 1] == '/')
    end--;
  return end;
}

/* The end of the next component after end. */
static size_t eddy__fs_next_end(const char *p, size_t end, size_t len) {
  while (end < len && p[end] == '/')
    end++;
  while (end < len && p[end] != '/')
    end++;
  return end;
}

int eddy__fs_mkdirp(char *p, int mode, size_t *first) {
  size_t len = strlen(p);
  size_t end;
  int r;

  *first = 0;
  while (len > 1 && p[len - 1] == '/')
    len--;
  p[len] = '\0';
  if (len == 0)
    return EDDY_ENOENT;
  /* Back up to the deepest prefix that exists or can be made... */
  end = len;
  while ((r = eddy__fs_mkdir_prefix(p, end, len, mode)) == EDDY_ENOENT) {
    end = eddy__fs_parent_end(p, end);
    if (end == 0)
      return EDDY_ENOENT; /* not even the first component's parent */
  }
  if (r < 0)
    return r;
  if (r == 0)
    *first = end;
  /* ...then make the rest, parent before child. */
  while (end < len) {
    end = eddy__fs_next_end(p, end, len);
    r = eddy__fs_mkdir_prefix(p, end, len, mode);
    if (r < 0)
      return r;
    if (r == 0 && *first == 0)
      *first = end;
  }
  return 0;
}

ssize_t eddy__fs_do_mkdir_recursive(eddy_fs_t *req) {
  size_t len = strlen(req->path);
  size_t first;
  char *p = malloc(len + 1);
  int r;

  if (p == NULL)
    return EDDY_ENOMEM;
  memcpy(p, req->path, len + 1);
  r = eddy__fs_mkdirp(p, req->priv.mode, &first);
  if (r == 0 && first > 0) {
    p[first] = '\0'; /* the shallowest directory made: Node's result */
    req->ptr = p;
    return 0;
  }
  free(p);
  return r;
}

/* ---- rm --------------------------------------------------------------- */

static ssize_t eddy__fs_rm_tree(int parent, const char *name);

/* Remove one entry of the directory open as dfd. */
static ssize_t eddy__fs_rm_entry(int dfd, const struct dirent *e) {
  int r;

  if (e->d_type == DT_DIR)
    return eddy__fs_rm_tree(dfd, e->d_name);
  r = unlinkat(dfd, e->d_name, 0);
  if (r == 0 || errno == ENOENT)
    return 0;
  /* Linux says EISDIR, others EPERM, when the name (of unknown type) is
   * a directory. */
  if ((errno == EISDIR || errno == EPERM) && e->d_type == DT_UNKNOWN)
    return eddy__fs_rm_tree(dfd, e->d_name);
  return -errno;
}

/* Empty the directory open as dfd: every entry but . and .. goes. */
static ssize_t eddy__fs_rm_entries(int dfd) {
  DIR *d = fdopendir(dfd);
  struct dirent *e = NULL;
  ssize_t r = 0;

  if (d == NULL) {
    r = -errno;
    eddy__fs_close_fd(dfd);
    return r;
  }
  while (r == 0 && (errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    r = eddy__fs_rm_entry(dirfd(d), e);
  }
  if (r == 0 && e == NULL && errno != 0)
    r = -errno;
  closedir(d);
  return r;
}

/* Remove the directory name (in parent) and everything in it, without
 * following symbolic links: a link is removed, never what it points to. */
static ssize_t eddy__fs_rm_tree(int parent, const char *name) {
  ssize_t r;
  int pass;
  int fd;

  for (pass = 0; pass < EDDY__FS_RM_PASSES; pass++) {
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1) {
      if (errno == ENOENT)
        return 0;
      if (errno == ENOTDIR || errno == ELOOP) /* no longer a directory */
        return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : -errno;
      return -errno;
    }
    if ((r = eddy__fs_rm_entries(fd)) != 0)
      return r;
    if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
      return 0;
    if (errno != ENOTEMPTY && errno != EEXIST)
      return -errno;
  }
  return EDDY_ENOTEMPTY;
}

ssize_t eddy__fs_do_rm(eddy_fs_t *req) {
  int force = (req->priv.flags & EDDY_FS_RM_FORCE) != 0;
  struct stat st;
  int r;

  if (lstat(req->path, &st) == -1)
    return errno == ENOENT && force ? 0 : -errno;
  if (S_ISDIR(st.st_mode)) {
    if (!(req->priv.flags & EDDY_FS_RM_RECURSIVE))
      return EDDY_EISDIR; /* Node's ERR_FS_EISDIR */
    return eddy__fs_rm_tree(AT_FDCWD, req->path);
  }
  EDDY__FS_RETRY(r, unlink(req->path));
  if (r == -1)
    return errno == ENOENT && force ? 0 : -errno;
  return 0;
}

/* ---- the public calls ------------------------------------------------- */

int eddy_fs_mkdir_recursive(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                            int mode, eddy_fs_cb cb) {
  int err;

  if (path == NULL || path[0] == '\0')
    return req != NULL ? (int)(req->result = EDDY_EINVAL) : EDDY_EINVAL;
  err = eddy__fs_init(loop, req, EDDY_FS_MKDIR_RECURSIVE, path, NULL, cb);
  if (err != 0)
    return err;
  req->priv.mode = mode;
  return eddy__fs_go(req);
}

int eddy_fs_rm(eddy_loop_t *loop, eddy_fs_t *req, const char *path, int flags,
               eddy_fs_cb cb) {
  int err;

  if (path == NULL || path[0] == '\0' ||
      (flags & ~(EDDY_FS_RM_RECURSIVE | EDDY_FS_RM_FORCE)))
    return req != NULL ? (int)(req->result = EDDY_EINVAL) : EDDY_EINVAL;
  err = eddy__fs_init(loop, req, EDDY_FS_RM, path, NULL, cb);
  if (err != 0)
    return err;
  req->priv.flags = flags;
  return eddy__fs_go(req);
}
