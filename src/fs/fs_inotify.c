/* fs_inotify.c: a loop's inotify instance: its descriptor on the loop's
 * backend, a table of its watches by watch descriptor, and the reading
 * of events, each handed to fs_event.c once per subscription.
 *
 * Dispatch is built to survive callbacks that stop, close or start any
 * handle: a watch's subscriptions are visited through a moved-away list
 * (each is put back before its callback, so one removed meanwhile simply
 * is not met), a watch is freed only when no dispatch is over it (busy),
 * and the descriptor stays open until the read batch is done, so the wds
 * still in the buffer cannot meet a new instance's. */
#ifdef __linux__
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/io.h"
#include "core/loop_internal.h"
#include "fs/fs_event_internal.h"

/* What every watch asks for (libuv's set). */
#define EDDY__INOTIFY_MASK                                                     \
  (IN_ATTRIB | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF |            \
   IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO)

/* Reads per readiness event, so that a flood of events cannot keep the
 * loop in this callback. */
#define EDDY__INOTIFY_READS 16

int (*eddy__fs_event_add_watch)(int fd, const char *path,
                                uint32_t mask) = inotify_add_watch;

struct eddy__inotify {
  struct eddy__loop_part part;
  eddy_loop_t *loop;
  eddy_io_t io;                 /* fd -1 while nothing is watched */
  struct eddy__watch **watches; /* sorted by wd */
  size_t nwatches;
  size_t cap;
  eddy_queue_t handles; /* started handles */
  int dispatching;
};

static void eddy__inotify_loop_close(eddy_loop_t *loop,
                                     struct eddy__loop_part *part);

static const struct eddy__loop_part_ops eddy__inotify_part = {
    .name = "fs_event",
    .order = EDDY__PART_FS_EVENT,
    .wakeup = NULL,
    .close = eddy__inotify_loop_close,
};

/* ---- the watch table -------------------------------------------------- */

/* The index where wd is or would go. */
static size_t eddy__inotify_slot(const struct eddy__inotify *st, int wd) {
  size_t lo = 0, hi = st->nwatches;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (st->watches[mid]->wd < wd)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static struct eddy__watch *eddy__inotify_find(const struct eddy__inotify *st,
                                              int wd) {
  size_t i = eddy__inotify_slot(st, wd);

  return i < st->nwatches && st->watches[i]->wd == wd ? st->watches[i] : NULL;
}

static int eddy__inotify_insert(struct eddy__inotify *st,
                                struct eddy__watch *w) {
  size_t i = eddy__inotify_slot(st, w->wd);

  if (st->nwatches == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 16;
    struct eddy__watch **grown = realloc(st->watches, cap * sizeof(*grown));

    if (grown == NULL)
      return EDDY_ENOMEM;
    st->watches = grown;
    st->cap = cap;
  }
  memmove(st->watches + i + 1, st->watches + i,
          (st->nwatches - i) * sizeof(*st->watches));
  st->watches[i] = w;
  st->nwatches++;
  return 0;
}

/* Take w out of the table (it stays allocated while busy). */
static void eddy__inotify_unlist(struct eddy__inotify *st,
                                 struct eddy__watch *w) {
  size_t i;

  if (w->dead)
    return;
  i = eddy__inotify_slot(st, w->wd);
  assert(i < st->nwatches && st->watches[i] == w);
  memmove(st->watches + i, st->watches + i + 1,
          (st->nwatches - i - 1) * sizeof(*st->watches));
  st->nwatches--;
  w->dead = 1;
}

static void eddy__inotify_maybe_free(struct eddy__watch *w) {
  if (w->dead && w->busy == 0 && eddy__queue_empty(&w->subs))
    free(w);
}

/* ---- the instance ----------------------------------------------------- */

static void eddy__inotify_io(eddy_loop_t *loop, eddy_io_t *io, unsigned events);

static int eddy__inotify_open(struct eddy__inotify *st) {
  int fd;
  int err;

  if (st->io.fd != -1)
    return 0;
  fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd == -1)
    return -errno;
  eddy__io_init(&st->io, eddy__inotify_io, fd);
  err = eddy__io_start(st->loop, &st->io, EDDY__IO_READ);
  if (err != 0) {
    eddy__io_close(st->loop, &st->io);
    close(fd);
    st->io.fd = -1;
  }
  return err;
}

void eddy__inotify_idle(struct eddy__inotify *st) {
  if (st->io.fd == -1 || st->nwatches != 0 || st->dispatching)
    return;
  eddy__io_close(st->loop, &st->io);
  close(st->io.fd);
  st->io.fd = -1;
}

struct eddy__inotify *eddy__inotify_get(eddy_loop_t *loop, int open, int *err) {
  struct eddy__loop_part *part =
      eddy__loop_part_find(loop, &eddy__inotify_part);
  struct eddy__inotify *st;

  if (part != NULL) {
    st = eddy__container_of(part, struct eddy__inotify, part);
  } else {
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
      *err = EDDY_ENOMEM;
      return NULL;
    }
    st->loop = loop;
    st->io.fd = -1;
    eddy__queue_init(&st->handles);
    eddy__loop_part_add(loop, &st->part, &eddy__inotify_part);
  }
  *err = open ? eddy__inotify_open(st) : 0;
  return *err == 0 ? st : NULL;
}

/* eddy_loop_close: no handle is open, so nothing is watched. */
static void eddy__inotify_loop_close(eddy_loop_t *loop,
                                     struct eddy__loop_part *part) {
  struct eddy__inotify *st =
      eddy__container_of(part, struct eddy__inotify, part);

  (void)loop;
  assert(st->nwatches == 0 && eddy__queue_empty(&st->handles));
  eddy__inotify_idle(st);
  free(st->watches);
  free(st);
}

void eddy__inotify_track(struct eddy__inotify *st, eddy_fs_event_t *h) {
  eddy__queue_insert_tail(&st->handles, &h->priv.node);
}

/* ---- subscriptions ---------------------------------------------------- */

int eddy__inotify_watch(struct eddy__inotify *st, eddy_fs_event_t *h,
                        const char *path, const char *rel, size_t rel_len,
                        int dir_only) {
  uint32_t mask = EDDY__INOTIFY_MASK;
  struct eddy__fs_sub *sub;
  struct eddy__watch *w;
  eddy_queue_t *q;
  int wd;

  if (dir_only)
    mask |= IN_ONLYDIR | IN_DONT_FOLLOW;
  wd = eddy__fs_event_add_watch(st->io.fd, path, mask);
  if (wd == -1)
    return -errno;
  w = eddy__inotify_find(st, wd);
  if (w == NULL) {
    w = calloc(1, sizeof(*w));
    if (w != NULL) {
      w->wd = wd;
      eddy__queue_init(&w->subs);
      if (eddy__inotify_insert(st, w) != 0) {
        free(w);
        w = NULL;
      }
    }
    if (w == NULL) { /* a new wd, used by no one else: give it back */
      inotify_rm_watch(st->io.fd, wd);
      return EDDY_ENOMEM;
    }
  }
  for (q = w->subs.next; q != &w->subs; q = q->next) {
    sub = eddy__container_of(q, struct eddy__fs_sub, watch_node);
    if (sub->handle == h && sub->rel_len == rel_len &&
        memcmp(sub->rel, rel, rel_len) == 0)
      return 0; /* h sees this directory already, under this name */
  }
  sub = malloc(sizeof(*sub) + rel_len + 1);
  if (sub == NULL) {
    if (eddy__queue_empty(&w->subs)) {
      inotify_rm_watch(st->io.fd, wd);
      eddy__inotify_unlist(st, w);
      eddy__inotify_maybe_free(w);
    }
    return EDDY_ENOMEM;
  }
  sub->handle = h;
  sub->watch = w;
  sub->rel_len = rel_len;
  memcpy(sub->rel, rel, rel_len);
  sub->rel[rel_len] = '\0';
  eddy__queue_insert_tail(&w->subs, &sub->watch_node);
  eddy__queue_insert_tail(&h->priv.subs, &sub->handle_node);
  return 0;
}

void eddy__inotify_drop(struct eddy__inotify *st, struct eddy__fs_sub *sub) {
  struct eddy__watch *w = sub->watch;

  eddy__queue_remove(&sub->watch_node);
  eddy__queue_remove(&sub->handle_node);
  free(sub);
  if (eddy__queue_empty(&w->subs) && !w->dead) {
    /* The kernel answers with IN_IGNORED for wd, found in no table. */
    inotify_rm_watch(st->io.fd, w->wd);
    eddy__inotify_unlist(st, w);
  }
  eddy__inotify_maybe_free(w);
}

/* ---- events ----------------------------------------------------------- */

/* The kernel dropped events: one notice per started handle. */
static void eddy__inotify_overflow(struct eddy__inotify *st) {
  eddy_queue_t pending;

  eddy__queue_move(&st->handles, &pending);
  while (!eddy__queue_empty(&pending)) {
    eddy_fs_event_t *h =
        eddy__container_of(pending.next, eddy_fs_event_t, priv.node);

    eddy__queue_remove(&h->priv.node);
    eddy__queue_insert_tail(&st->handles, &h->priv.node);
    eddy__fs_event_overflow(h);
  }
}

static void eddy__inotify_event(struct eddy__inotify *st,
                                const struct inotify_event *e) {
  struct eddy__watch *w;
  eddy_queue_t pending;

  if (e->wd == -1) {
    if (e->mask & IN_Q_OVERFLOW)
      eddy__inotify_overflow(st);
    return;
  }
  w = eddy__inotify_find(st, e->wd);
  if (w == NULL)
    return; /* a watch removed since the kernel queued this */
  w->busy++;
  eddy__queue_move(&w->subs, &pending);
  while (!eddy__queue_empty(&pending)) {
    eddy_queue_t *q = pending.next;

    eddy__queue_remove(q);
    eddy__queue_insert_tail(&w->subs, q);
    eddy__fs_event_notify(
        st, eddy__container_of(q, struct eddy__fs_sub, watch_node), e);
  }
  w->busy--;
  if (e->mask & IN_IGNORED) {
    /* The kernel dropped the watch (its file went, or its file system):
     * so do its subscriptions. */
    eddy__inotify_unlist(st, w);
    while (!eddy__queue_empty(&w->subs)) {
      struct eddy__fs_sub *sub =
          eddy__container_of(w->subs.next, struct eddy__fs_sub, watch_node);

      eddy__queue_remove(&sub->watch_node);
      eddy__queue_remove(&sub->handle_node);
      free(sub);
    }
  }
  eddy__inotify_maybe_free(w);
}

static void eddy__inotify_io(eddy_loop_t *loop, eddy_io_t *io,
                             unsigned events) {
  struct eddy__inotify *st = eddy__container_of(io, struct eddy__inotify, io);
  union {
    char bytes[8192];
    struct inotify_event align;
  } buf;
  int reads;
  ssize_t n;

  (void)loop;
  (void)events;
  st->dispatching++;
  for (reads = 0; reads < EDDY__INOTIFY_READS; reads++) {
    const char *p;

    do
      n = read(st->io.fd, buf.bytes, sizeof(buf.bytes));
    while (n == -1 && errno == EINTR);
    if (n <= 0)
      break; /* EAGAIN: all read */
    for (p = buf.bytes; p < buf.bytes + n;) {
      const struct inotify_event *e = (const struct inotify_event *)p;

      eddy__inotify_event(st, e);
      p += sizeof(*e) + e->len;
    }
  }
  st->dispatching--;
  eddy__inotify_idle(st);
}

#endif /* __linux__ */
