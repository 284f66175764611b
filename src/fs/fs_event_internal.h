/* fs_event_internal.h: what fs_event.c (the handles, recursion, callbacks)
 * and fs_inotify.c (the loop's inotify instance, its watches, reading
 * events) share; and the test seam for the watch limit. */
#ifndef EDDY_FS_EVENT_INTERNAL_H
#define EDDY_FS_EVENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/handle.h"
#include "eddy/fs_event.h"

struct inotify_event;

/* The loop's inotify instance (one per loop, registered as a loop part,
 * freed when the loop closes; its descriptor is open only while some
 * handle watches something). */
struct eddy__inotify;

/* One inotify watch: a watch descriptor and the handles' subscriptions on
 * it (several handles may watch one directory; inotify gives them one
 * watch descriptor). */
struct eddy__watch {
  int wd;
  unsigned busy; /* events being dispatched over subs: do not free */
  int dead;      /* out of the table (removed, or the kernel dropped it) */
  eddy_queue_t subs;
};

/* A handle's use of a watch: rel is the watched directory's path relative
 * to the handle's path ("" for the path itself, "a/b" for a subdirectory
 * of a recursive handle). */
struct eddy__fs_sub {
  eddy_fs_event_t *handle;
  struct eddy__watch *watch;
  eddy_queue_t watch_node;
  eddy_queue_t handle_node;
  size_t rel_len;
  char rel[];
};

/* The loop's instance, made if need be, and with open non-zero its
 * descriptor opened if it is not. Returns NULL with *err set
 * (EDDY_ENOMEM, EDDY_EMFILE, ...). */
struct eddy__inotify *eddy__inotify_get(eddy_loop_t *loop, int open, int *err);

/* Watch path for handle h as rel[0..rel_len). dir_only: the path must be
 * a directory and is not followed if it is a link (subdirectories of a
 * recursive handle). Returns 0 (also when h has it already) or a negative
 * error (inotify_add_watch's: EDDY_ENOSPC at the limit). */
int eddy__inotify_watch(struct eddy__inotify *st, eddy_fs_event_t *h,
                        const char *path, const char *rel, size_t rel_len,
                        int dir_only);

/* Drop one subscription (and the watch with its last one). */
void eddy__inotify_drop(struct eddy__inotify *st, struct eddy__fs_sub *sub);

/* Close the descriptor if nothing is watched and no dispatch runs. */
void eddy__inotify_idle(struct eddy__inotify *st);

/* Started handles, for the queue-overflow notice. */
void eddy__inotify_track(struct eddy__inotify *st, eddy_fs_event_t *h);

/* fs_event.c: one event on a watch, for one subscription. May run the
 * handle's callback, which may stop or close any handle. */
void eddy__fs_event_notify(struct eddy__inotify *st, struct eddy__fs_sub *sub,
                           const struct inotify_event *e);
/* fs_event.c: the kernel dropped events: tell h. */
void eddy__fs_event_overflow(eddy_fs_event_t *h);

/* inotify_add_watch(2), through a pointer that white-box tests replace to
 * reach the watch limit without lowering the system's. */
extern int (*eddy__fs_event_add_watch)(int fd, const char *path, uint32_t mask);

#endif /* EDDY_FS_EVENT_INTERNAL_H */
