/* fs_cp.c: Node's fs.cp: copy a file, a symbolic link or (recursive) a
 * directory tree. One pool job walks the whole tree, keeping the source
 * and destination paths in two buffers that grow and shrink by one name
 * per level, so a deep tree costs one directory stream per level and no
 * path copies. The checks before copying are Node's: src and dest not the
 * same file, no directory copied into itself, no directory onto a file or
 * file onto a directory. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_internal.h"

struct eddy__cp {
  int flags;
  size_t src_len;
  size_t dst_len;
  char src[PATH_MAX];
  char dst[PATH_MAX];
};

enum {
  EDDY__CP_FLAGS = EDDY_FS_CP_RECURSIVE | EDDY_FS_CP_FORCE |
                   EDDY_FS_CP_ERROR_ON_EXIST | EDDY_FS_CP_DEREFERENCE |
                   EDDY_FS_CP_VERBATIM_SYMLINKS | EDDY_FS_CP_PRESERVE_TIMESTAMPS
};

/* stat or, unless dereferencing, lstat. */
static int eddy__cp_stat(const struct eddy__cp *cp, const char *path,
                         struct stat *st) {
  int r =
      (cp->flags & EDDY_FS_CP_DEREFERENCE) ? stat(path, st) : lstat(path, st);

  return r == 0 ? 0 : -errno;
}

/* ---- paths ------------------------------------------------------------ */

/* Append "/name" to buf (holding len bytes). */
static int eddy__cp_join(char *buf, size_t *len, const char *name) {
  size_t n = strlen(name);

  if (*len + 1 + n >= PATH_MAX)
    return EDDY_ENAMETOOLONG;
  buf[(*len)++] = '/';
  memcpy(buf + *len, name, n + 1);
  *len += n;
  return 0;
}

/* Normalise the absolute path in buf in place, as Node's path.resolve
 * does: no empty or "." components, ".." takes the previous one away
 * (and stays at the root), no trailing slash. */
static void eddy__cp_normalise(char *buf) {
  char *out = buf;
  const char *in = buf;

  assert(buf[0] == '/');
  while (*in != '\0') {
    const char *end;
    size_t n;

    while (*in == '/')
      in++;
    end = in;
    while (*end != '\0' && *end != '/')
      end++;
    n = (size_t)(end - in);
    if (n == 0 || (n == 1 && in[0] == '.')) {
      /* nothing */
    } else if (n == 2 && in[0] == '.' && in[1] == '.') {
      while (out > buf && *--out != '/')
        ;
    } else {
      *out++ = '/';
      memmove(out, in, n);
      out += n;
    }
    in = end;
  }
  if (out == buf)
    *out++ = '/';
  *out = '\0';
}

/* The absolute, normalised form of rel taken from base (a directory;
 * NULL: the working directory), without looking at the file system. */
static int eddy__cp_resolve(const char *base, const char *rel, char *out) {
  size_t len = 0;
  int err;

  out[0] = '\0';
  if (rel[0] != '/') {
    if (base == NULL || base[0] != '/') {
      if (getcwd(out, PATH_MAX) == NULL)
        return -errno;
      len = strlen(out);
    }
    if (base != NULL && (err = eddy__cp_join(out, &len, base)) != 0)
      return err;
  }
  if ((err = eddy__cp_join(out, &len, rel)) != 0)
    return err;
  eddy__cp_normalise(out);
  return 0;
}

/* Is the resolved path in inside (or equal to) the resolved dir? */
static int eddy__cp_inside(const char *dir, const char *in) {
  size_t n = strlen(dir);

  if (n == 1) /* the root holds everything */
    return 1;
  return strncmp(dir, in, n) == 0 && (in[n] == '/' || in[n] == '\0');
}

/* path's directory (lexically: "." when it has no slash) into out. */
static void eddy__cp_dirname(const char *path, char *out) {
  size_t n = strlen(path);

  while (n > 1 && path[n - 1] == '/')
    n--;
  while (n > 0 && path[n - 1] != '/')
    n--;
  while (n > 1 && path[n - 1] == '/')
    n--;
  if (n == 0) {
    strcpy(out, ".");
    return;
  }
  memcpy(out, path, n);
  out[n] = '\0';
}

/* ---- copying one entry ------------------------------------------------ */

static ssize_t eddy__cp_item(struct eddy__cp *cp, const struct stat *sst);

/* dest exists: replace it (FORCE: remove it first, return 1), refuse
 * (ERROR_ON_EXIST) or leave it (return 0). */
static int eddy__cp_existing(const struct eddy__cp *cp) {
  if (cp->flags & EDDY_FS_CP_FORCE)
    return unlink(cp->dst) == 0 || errno == ENOENT ? 1 : -errno;
  return cp->flags & EDDY_FS_CP_ERROR_ON_EXIST ? EDDY_EEXIST : 0;
}

static ssize_t eddy__cp_file(struct eddy__cp *cp, const struct stat *sst,
                             int have_dst) {
  struct timespec times[2];
  ssize_t r;

  if (have_dst && (r = eddy__cp_existing(cp)) <= 0)
    return r;
  if ((r = eddy__fs_copy_path(cp->src, cp->dst, 0)) != 0)
    return r;
  if (cp->flags & EDDY_FS_CP_PRESERVE_TIMESTAMPS) {
    times[0] = sst->st_atim;
    times[1] = sst->st_mtim;
    if (utimensat(AT_FDCWD, cp->dst, times, 0) != 0)
      return -errno;
  }
  return 0;
}

static ssize_t eddy__cp_link(struct eddy__cp *cp, int have_dst) {
  char target[PATH_MAX];
  char dir[PATH_MAX];
  char resolved[PATH_MAX];
  const char *to = target;
  ssize_t n;
  int r;

  n = readlink(cp->src, target, sizeof(target) - 1);
  if (n == -1)
    return -errno;
  if ((size_t)n == sizeof(target) - 1)
    return EDDY_ENAMETOOLONG;
  target[n] = '\0';
  if (!(cp->flags & EDDY_FS_CP_VERBATIM_SYMLINKS) && target[0] != '/') {
    /* Node points the copy where the original points. */
    eddy__cp_dirname(cp->src, dir);
    if ((r = eddy__cp_resolve(dir, target, resolved)) != 0)
      return r;
    to = resolved;
  }
  if (have_dst && (r = eddy__cp_existing(cp)) <= 0)
    return r;
  return symlink(to, cp->dst) == 0 ? 0 : -errno;
}

/* Copy every entry of the directory cp->src into cp->dst. */
static ssize_t eddy__cp_entries(struct eddy__cp *cp) {
  size_t src_mark = cp->src_len, dst_mark = cp->dst_len;
  DIR *d = opendir(cp->src);
  struct dirent *e = NULL;
  struct stat st;
  ssize_t r = 0;

  if (d == NULL)
    return -errno;
  while (r == 0 && (errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if ((r = eddy__cp_join(cp->src, &cp->src_len, e->d_name)) == 0 &&
        (r = eddy__cp_join(cp->dst, &cp->dst_len, e->d_name)) == 0) {
      r = eddy__cp_stat(cp, cp->src, &st);
      if (r == 0)
        r = eddy__cp_item(cp, &st);
      else if (r == EDDY_ENOENT)
        r = 0; /* gone since the listing: nothing to copy */
    }
    cp->src_len = src_mark;
    cp->dst_len = dst_mark;
    cp->src[src_mark] = '\0';
    cp->dst[dst_mark] = '\0';
  }
  if (r == 0 && e == NULL && errno != 0)
    r = -errno;
  closedir(d);
  return r;
}

/* A new directory is made private (0700) while it fills, then gets src's
 * mode, so a read-only source directory can still be copied into. */
static ssize_t eddy__cp_dir(struct eddy__cp *cp, const struct stat *sst,
                            int have_dst) {
  ssize_t r;

  if (!(cp->flags & EDDY_FS_CP_RECURSIVE))
    return EDDY_EISDIR; /* Node's ERR_FS_EISDIR */
  if (!have_dst && mkdir(cp->dst, 0700) != 0)
    return -errno;
  r = eddy__cp_entries(cp);
  if (r == 0 && !have_dst && chmod(cp->dst, sst->st_mode & 07777) != 0)
    r = -errno;
  return r;
}

static ssize_t eddy__cp_item(struct eddy__cp *cp, const struct stat *sst) {
  struct stat dst;
  int have_dst;
  int r;

  r = eddy__cp_stat(cp, cp->dst, &dst);
  if (r != 0 && r != EDDY_ENOENT)
    return r;
  have_dst = r == 0;
  if (have_dst && dst.st_dev == sst->st_dev && dst.st_ino == sst->st_ino)
    return EDDY_EINVAL; /* ERR_FS_CP_EINVAL: the same file */
  if (S_ISDIR(sst->st_mode)) {
    if (have_dst && !S_ISDIR(dst.st_mode))
      return EDDY_ENOTDIR; /* ERR_FS_CP_DIR_TO_NON_DIR */
    return eddy__cp_dir(cp, sst, have_dst);
  }
  if (have_dst && S_ISDIR(dst.st_mode))
    return EDDY_EISDIR; /* ERR_FS_CP_NON_DIR_TO_DIR */
  if (S_ISREG(sst->st_mode))
    return eddy__cp_file(cp, sst, have_dst);
  if (S_ISLNK(sst->st_mode))
    return eddy__cp_link(cp, have_dst);
  return EDDY_EINVAL; /* a socket, FIFO or device */
}

/* ---- the top ---------------------------------------------------------- */

/* Copying the directory src into itself: dest lies inside src by name,
 * or one of dest's parents is src (a path through a link). */
static int eddy__cp_into_itself(const struct eddy__cp *cp,
                                const struct stat *sst, char *a, char *b) {
  struct stat st;
  size_t n;
  int err;

  if ((err = eddy__cp_resolve(NULL, cp->src, a)) != 0 ||
      (err = eddy__cp_resolve(NULL, cp->dst, b)) != 0)
    return err;
  if (eddy__cp_inside(a, b))
    return EDDY_EINVAL;
  for (n = strlen(b); n > 1;) {
    while (n > 0 && b[n - 1] != '/')
      n--;
    if (n > 1)
      n--;
    b[n] = '\0';
    if (stat(b, &st) == 0 && st.st_dev == sst->st_dev &&
        st.st_ino == sst->st_ino)
      return EDDY_EINVAL;
  }
  return 0;
}

/* Node makes dest's parent when it is missing. */
static int eddy__cp_make_parent(const struct eddy__cp *cp, char *buf) {
  struct stat st;
  size_t first;

  eddy__cp_dirname(cp->dst, buf);
  if (stat(buf, &st) == 0)
    return 0;
  if (errno != ENOENT)
    return -errno;
  return eddy__fs_mkdirp(buf, 0777, &first);
}

static ssize_t eddy__cp_run(struct eddy__cp *cp, char *a, char *b) {
  struct stat sst;
  ssize_t r;

  if ((r = eddy__cp_stat(cp, cp->src, &sst)) != 0)
    return r;
  if (S_ISDIR(sst.st_mode) && (cp->flags & EDDY_FS_CP_RECURSIVE) &&
      (r = eddy__cp_into_itself(cp, &sst, a, b)) != 0)
    return r;
  if ((r = eddy__cp_make_parent(cp, a)) != 0)
    return r;
  return eddy__cp_item(cp, &sst);
}

ssize_t eddy__fs_do_cp(eddy_fs_t *req) {
  struct eddy__cp *cp;
  char *scratch;
  ssize_t r;

  cp = malloc(sizeof(*cp) + 2 * PATH_MAX);
  if (cp == NULL)
    return EDDY_ENOMEM;
  scratch = (char *)(cp + 1);
  cp->flags = req->priv.flags;
  cp->src_len = strlen(req->path);
  cp->dst_len = strlen(req->priv.new_path);
  if (cp->src_len >= PATH_MAX || cp->dst_len >= PATH_MAX) {
    free(cp);
    return EDDY_ENAMETOOLONG;
  }
  memcpy(cp->src, req->path, cp->src_len + 1);
  memcpy(cp->dst, req->priv.new_path, cp->dst_len + 1);
  r = eddy__cp_run(cp, scratch, scratch + PATH_MAX);
  free(cp);
  return r;
}

int eddy_fs_cp(eddy_loop_t *loop, eddy_fs_t *req, const char *src,
               const char *dest, int flags, eddy_fs_cb cb) {
  int err;

  if (src == NULL || dest == NULL || src[0] == '\0' || dest[0] == '\0' ||
      (flags & ~EDDY__CP_FLAGS))
    return req != NULL ? (int)(req->result = EDDY_EINVAL) : EDDY_EINVAL;
  err = eddy__fs_init(loop, req, EDDY_FS_CP, src, dest, cb);
  if (err != 0)
    return err;
  req->priv.flags = flags;
  return eddy__fs_go(req);
}
