/* fs_event.c: fs_event handles (libuv's uv_fs_event_t) on the loop's
 * inotify instance (fs_inotify.c): starting and stopping, the recursive
 * mode's upkeep of one watch per subdirectory, and turning each inotify
 * event into the handle's callback. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "core/loop_internal.h"
#include "fs/fs_event_internal.h"

#define EDDY__FS_EVENT_FLAGS                                                   \
  (EDDY_FS_EVENT_WATCH_ENTRY | EDDY_FS_EVENT_STAT | EDDY_FS_EVENT_RECURSIVE)

int eddy_fs_event_init(eddy_loop_t *loop, eddy_fs_event_t *handle) {
  eddy__handle_init(loop, &handle->handle, EDDY_FS_EVENT);
  handle->priv.cb = NULL;
  handle->priv.path = NULL;
  handle->priv.flags = 0;
  eddy__queue_init(&handle->priv.subs);
  eddy__queue_init(&handle->priv.node);
  return 0;
}

static int eddy__fs_event_started(const eddy_fs_event_t *h) {
  return h->priv.path != NULL;
}

int eddy_fs_event_getpath(eddy_fs_event_t *handle, char *buffer, size_t *size) {
  size_t len;

  if (handle == NULL || buffer == NULL || size == NULL)
    return EDDY_EINVAL;
  if (!eddy__fs_event_started(handle)) {
    *size = 0;
    return EDDY_EINVAL;
  }
  len = strlen(handle->priv.path);
  if (len >= *size) {
    *size = len + 1;
    return EDDY_ENOBUFS;
  }
  memcpy(buffer, handle->priv.path, len + 1);
  *size = len;
  return 0;
}

#ifdef __linux__

static void eddy__fs_event_report(eddy_fs_event_t *h, const char *name,
                                  int events, int status) {
  h->priv.cb(h, name, events, status);
  eddy__after_callback(h->handle.loop);
}

/* ---- recursive upkeep ------------------------------------------------- */

/* A walk over a directory tree: path is the handle's path, then "/rel";
 * base is the handle path's length. One buffer for the whole walk. */
struct eddy__fs_walk {
  struct eddy__inotify *st;
  eddy_fs_event_t *h;
  size_t base;
  size_t len;
  char path[PATH_MAX];
};

static const char *eddy__fs_walk_rel(const struct eddy__fs_walk *w) {
  return w->len > w->base ? w->path + w->base + 1 : "";
}

static int eddy__fs_walk_push(struct eddy__fs_walk *w, const char *name) {
  size_t n = strlen(name);

  if (w->len + 1 + n >= sizeof(w->path))
    return EDDY_ENAMETOOLONG;
  w->path[w->len++] = '/';
  memcpy(w->path + w->len, name, n + 1);
  w->len += n;
  return 0;
}

static void eddy__fs_walk_pop(struct eddy__fs_walk *w, size_t len) {
  w->len = len;
  w->path[len] = '\0';
}

static int eddy__fs_walk_tree(struct eddy__fs_walk *w);

/* Watch every directory below w->path (a directory). Entries that vanish
 * or turn out not to be directories meanwhile are no error. */
static int eddy__fs_walk_children(struct eddy__fs_walk *w) {
  size_t mark = w->len;
  DIR *d = opendir(w->path);
  struct dirent *e;
  struct stat st;
  int err = 0;

  if (d == NULL)
    return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
  while (err == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
      continue;
    if ((err = eddy__fs_walk_push(w, e->d_name)) != 0)
      break;
    if (e->d_type == DT_DIR ||
        (lstat(w->path, &st) == 0 && S_ISDIR(st.st_mode)))
      err = eddy__fs_walk_tree(w);
    eddy__fs_walk_pop(w, mark);
  }
  closedir(d);
  return err;
}

/* Watch the directory w->path, then what is below it. */
static int eddy__fs_walk_tree(struct eddy__fs_walk *w) {
  const char *rel = eddy__fs_walk_rel(w);
  int err = eddy__inotify_watch(w->st, w->h, w->path, rel, strlen(rel), 1);

  if (err == EDDY_ENOENT || err == EDDY_ENOTDIR)
    return 0; /* gone, or replaced by a file (or a link) meanwhile */
  return err != 0 ? err : eddy__fs_walk_children(w);
}

/* Start a walk for h at its path joined with rel. */
static struct eddy__fs_walk *eddy__fs_walk_new(struct eddy__inotify *st,
                                               eddy_fs_event_t *h,
                                               const char *rel, int *err) {
  struct eddy__fs_walk *w = malloc(sizeof(*w));

  *err = 0;
  if (w == NULL) {
    *err = EDDY_ENOMEM;
    return NULL;
  }
  w->st = st;
  w->h = h;
  w->base = strlen(h->priv.path);
  if (w->base >= sizeof(w->path)) {
    free(w);
    *err = EDDY_ENAMETOOLONG;
    return NULL;
  }
  memcpy(w->path, h->priv.path, w->base + 1);
  w->len = w->base;
  if (rel[0] != '\0' && (*err = eddy__fs_walk_push(w, rel)) != 0) {
    free(w);
    return NULL;
  }
  return w;
}

/* A directory rel appeared under recursive h: watch it and below. */
static int eddy__fs_event_grow(struct eddy__inotify *st, eddy_fs_event_t *h,
                               const char *rel) {
  struct eddy__fs_walk *w;
  int err;

  if ((w = eddy__fs_walk_new(st, h, rel, &err)) == NULL)
    return err;
  err = eddy__fs_walk_tree(w);
  free(w);
  return err;
}

/* The directory rel went from recursive h (removed, or moved away): drop
 * its watches and those below it. */
static void eddy__fs_event_prune(struct eddy__inotify *st, eddy_fs_event_t *h,
                                 const char *rel) {
  size_t n = strlen(rel);
  eddy_queue_t *q = h->priv.subs.next;

  while (q != &h->priv.subs) {
    struct eddy__fs_sub *sub =
        eddy__container_of(q, struct eddy__fs_sub, handle_node);

    q = q->next;
    if (sub->rel_len >= n && memcmp(sub->rel, rel, n) == 0 &&
        (sub->rel[n] == '\0' || sub->rel[n] == '/'))
      eddy__inotify_drop(st, sub);
  }
}

/* ---- events ----------------------------------------------------------- */

/* The path's last component, as the name of events on the path itself
 * (libuv's). Trailing slashes are not part of it. */
static const char *eddy__fs_event_basename(const char *path, char *buf,
                                           size_t cap) {
  size_t end = strlen(path);
  size_t start;

  while (end > 1 && path[end - 1] == '/')
    end--;
  start = end;
  while (start > 0 && path[start - 1] != '/')
    start--;
  if (end - start >= cap)
    end = start + cap - 1;
  memcpy(buf, path + start, end - start);
  buf[end - start] = '\0';
  return buf;
}

static int eddy__fs_event_events(uint32_t mask) {
  int events = 0;

  if (mask & (IN_ATTRIB | IN_MODIFY))
    events |= EDDY_CHANGE;
  if (mask & (IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |
              IN_MOVED_FROM | IN_MOVED_TO | IN_UNMOUNT))
    events |= EDDY_RENAME;
  return events;
}

void eddy__fs_event_notify(struct eddy__inotify *st, struct eddy__fs_sub *sub,
                           const struct inotify_event *e) {
  eddy_fs_event_t *h = sub->handle;
  int events = eddy__fs_event_events(e->mask);
  char name[PATH_MAX + NAME_MAX + 2];
  int err = 0;

  if (e->len == 0) {
    /* The watched directory itself. A recursive handle's subdirectory is
     * reported by its parent's watch, by name: not twice. */
    if (sub->rel_len != 0 || events == 0)
      return;
    eddy__fs_event_report(
        h, eddy__fs_event_basename(h->priv.path, name, sizeof(name)), events,
        0);
    return;
  }
  if (sub->rel_len != 0)
    snprintf(name, sizeof(name), "%s/%s", sub->rel, e->name);
  else
    snprintf(name, sizeof(name), "%s", e->name);
  /* Keep the tree's watches in step first, so that what the callback
   * does in a new directory is seen. sub may be freed from here on. */
  if ((h->priv.flags & EDDY_FS_EVENT_RECURSIVE) && (e->mask & IN_ISDIR)) {
    if (e->mask & (IN_DELETE | IN_MOVED_FROM))
      eddy__fs_event_prune(st, h, name);
    if (e->mask & (IN_CREATE | IN_MOVED_TO))
      err = eddy__fs_event_grow(st, h, name);
  }
  if (events != 0)
    eddy__fs_event_report(h, name, events, 0);
  if (err != 0 && eddy__fs_event_started(h))
    eddy__fs_event_report(h, name, 0, err);
}

void eddy__fs_event_overflow(eddy_fs_event_t *h) {
  eddy__fs_event_report(h, NULL, EDDY_RENAME | EDDY_CHANGE, 0);
}

/* ---- start and stop --------------------------------------------------- */

static void eddy__fs_event_unwatch(struct eddy__inotify *st,
                                   eddy_fs_event_t *h) {
  while (!eddy__queue_empty(&h->priv.subs))
    eddy__inotify_drop(st,
                       eddy__container_of(h->priv.subs.next,
                                          struct eddy__fs_sub, handle_node));
}

/* Watch h's path, and with RECURSIVE every directory below it. */
static int eddy__fs_event_watch_all(struct eddy__inotify *st,
                                    eddy_fs_event_t *h) {
  struct eddy__fs_walk *w;
  struct stat sb;
  int err = eddy__inotify_watch(st, h, h->priv.path, "", 0, 0);

  if (err != 0 || !(h->priv.flags & EDDY_FS_EVENT_RECURSIVE) ||
      stat(h->priv.path, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return err;
  if ((w = eddy__fs_walk_new(st, h, "", &err)) == NULL)
    return err;
  err = eddy__fs_walk_children(w);
  free(w);
  return err;
}

int eddy_fs_event_start(eddy_fs_event_t *handle, eddy_fs_event_cb cb,
                        const char *path, unsigned int flags) {
  struct eddy__inotify *st;
  int err;

  if (cb == NULL || path == NULL || (flags & ~EDDY__FS_EVENT_FLAGS) ||
      eddy__handle_closing(&handle->handle) || eddy__fs_event_started(handle))
    return EDDY_EINVAL;
  if ((st = eddy__inotify_get(handle->handle.loop, 1, &err)) == NULL)
    return err;
  handle->priv.path = strdup(path);
  if (handle->priv.path == NULL) {
    eddy__inotify_idle(st);
    return EDDY_ENOMEM;
  }
  handle->priv.cb = cb;
  handle->priv.flags = flags;
  if ((err = eddy__fs_event_watch_all(st, handle)) != 0) {
    eddy__fs_event_unwatch(st, handle);
    free(handle->priv.path);
    handle->priv.path = NULL;
    handle->priv.cb = NULL;
    eddy__inotify_idle(st);
    return err;
  }
  eddy__inotify_track(st, handle);
  eddy__handle_start(&handle->handle);
  return 0;
}

int eddy_fs_event_stop(eddy_fs_event_t *handle) {
  struct eddy__inotify *st;
  int err;

  if (!eddy__fs_event_started(handle))
    return 0;
  st = eddy__inotify_get(handle->handle.loop, 0, &err);
  assert(st != NULL); /* it exists while a handle is started */
  eddy__fs_event_unwatch(st, handle);
  eddy__queue_remove(&handle->priv.node);
  free(handle->priv.path);
  handle->priv.path = NULL;
  handle->priv.cb = NULL;
  eddy__handle_stop(&handle->handle);
  eddy__inotify_idle(st);
  return 0;
}

#else /* no inotify: kqueue and FSEvents are not written (see the header) */

int eddy_fs_event_start(eddy_fs_event_t *handle, eddy_fs_event_cb cb,
                        const char *path, unsigned int flags) {
  if (cb == NULL || path == NULL || (flags & ~EDDY__FS_EVENT_FLAGS) ||
      eddy__handle_closing(&handle->handle) || eddy__fs_event_started(handle))
    return EDDY_EINVAL;
  return EDDY_ENOSYS;
}

int eddy_fs_event_stop(eddy_fs_event_t *handle) {
  (void)handle;
  return 0;
}

#endif /* __linux__ */

static void eddy__fs_event_close(eddy_handle_t *h) {
  eddy_fs_event_stop((eddy_fs_event_t *)h);
}

const struct eddy__handle_ops eddy__fs_event_ops = {
    .close = eddy__fs_event_close,
};
