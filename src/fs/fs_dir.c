/* fs_dir.c: listing directories: scandir (all entries at once, sorted)
 * and directory streams (opendir / readdir / closedir). The request
 * plumbing is in fs.c. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_internal.h"

static eddy_dirent_type eddy__fs_dirent_type(unsigned char type) {
  switch (type) {
  case DT_REG:
    return EDDY_DIRENT_FILE;
  case DT_DIR:
    return EDDY_DIRENT_DIR;
  case DT_LNK:
    return EDDY_DIRENT_LINK;
  case DT_FIFO:
    return EDDY_DIRENT_FIFO;
  case DT_SOCK:
    return EDDY_DIRENT_SOCKET;
  case DT_CHR:
    return EDDY_DIRENT_CHAR;
  case DT_BLK:
    return EDDY_DIRENT_BLOCK;
  default:
    return EDDY_DIRENT_UNKNOWN;
  }
}

static int eddy__fs_is_dot(const char *name) {
  return name[0] == '.' &&
         (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static int eddy__fs_scandir_filter(const struct dirent *d) {
  return !eddy__fs_is_dot(d->d_name);
}

/* Byte order, not the locale's collation: the same on every machine. */
static int eddy__fs_scandir_sort(const struct dirent **a,
                                 const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

ssize_t eddy__fs_do_scandir(eddy_fs_t *req) {
  struct dirent **list = NULL;
  int n;

  EDDY__FS_RETRY(n, scandir(req->path, &list, eddy__fs_scandir_filter,
                            eddy__fs_scandir_sort));
  if (n == -1)
    return -errno;
  req->ptr = list;
  return n;
}

int eddy_fs_scandir_next(eddy_fs_t *req, eddy_dirent_t *ent) {
  struct dirent **list;
  struct dirent *d;

  if (req == NULL || ent == NULL || req->fs_type != EDDY_FS_SCANDIR)
    return EDDY_EINVAL;
  if (req->result < 0)
    return (int)req->result;
  list = req->ptr;
  if (list == NULL || req->priv.next >= (size_t)req->result)
    return EDDY_EOF;
  d = list[req->priv.next++];
  ent->name = d->d_name;
  ent->type = eddy__fs_dirent_type(d->d_type);
  return 0;
}

ssize_t eddy__fs_do_opendir(eddy_fs_t *req) {
  eddy_dir_t *dir = malloc(sizeof(*dir));
  DIR *d;

  if (dir == NULL)
    return EDDY_ENOMEM;
  do
    d = opendir(req->path);
  while (d == NULL && errno == EINTR);
  if (d == NULL) {
    free(dir);
    return -errno;
  }
  dir->dirents = NULL;
  dir->nentries = 0;
  dir->priv.dir = d;
  req->ptr = dir;
  return 0;
}

void eddy__fs_free_names(eddy_dir_t *dir, size_t n) {
  while (n-- > 0) {
    free((char *)dir->dirents[n].name);
    dir->dirents[n].name = NULL;
  }
}

ssize_t eddy__fs_do_readdir(eddy_fs_t *req) {
  eddy_dir_t *dir = req->priv.dir;
  struct dirent *d;
  size_t n = 0;

  while (n < dir->nentries) {
    errno = 0;
    d = readdir(dir->priv.dir);
    if (d == NULL) {
      if (errno == 0)
        break;
      eddy__fs_free_names(dir, n);
      return -errno;
    }
    if (eddy__fs_is_dot(d->d_name))
      continue;
    dir->dirents[n].name = strdup(d->d_name);
    if (dir->dirents[n].name == NULL) {
      eddy__fs_free_names(dir, n);
      return EDDY_ENOMEM;
    }
    dir->dirents[n].type = eddy__fs_dirent_type(d->d_type);
    n++;
  }
  return (ssize_t)n;
}

ssize_t eddy__fs_do_closedir(eddy_fs_t *req) {
  eddy_dir_t *dir = req->priv.dir;

  req->priv.dir = NULL; /* gone: cleanup must not touch it */
  closedir(dir->priv.dir);
  free(dir);
  return 0;
}

void eddy__fs_free_scandir(eddy_fs_t *req) {
  struct dirent **list = req->ptr;
  ssize_t i;

  if (list == NULL)
    return;
  for (i = 0; i < req->result; i++)
    free(list[i]);
  free(list);
}
