/* eddy/fs_poll.h: watch a path by polling its stat (libuv's uv_fs_poll_t,
 * Node's fs.watchFile).
 *
 * Every interval milliseconds the handle stats the path (an
 * eddy_fs_stat request on the work pool) and compares the result with the
 * last one. The callback runs only when something changed: the status
 * changed (the path went missing, came back, or failed for another
 * reason), or the stat did (ctime, mtime, birth time, size, mode, owner,
 * inode or device). The first stat only records: a path that exists gives
 * no callback at start; a path that is missing gives one callback with
 * the error, and no more until the error changes or the path appears.
 * Polls are spaced from the start time, so a slow stat does not shift the
 * ones after it. Works on any file system, network ones included, where
 * eddy/fs_event.h's inotify cannot see changes; for portability use
 * intervals of seconds (some file systems keep times in whole seconds).
 *
 * The handle keeps the loop alive while started. Its timer is a timer
 * handle of its own and shows in eddy_walk() (closing the fs_poll handle
 * closes it; do not close it yourself). Loop thread only.
 */
#ifndef EDDY_FS_POLL_H
#define EDDY_FS_POLL_H

#include "export.h"

#include <stddef.h>

#include "fs.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_fs_poll_s eddy_fs_poll_t;

/* status 0: the path changed; prev is the stat before, curr the stat now
 * (prev is all zeros when the path has just appeared after being missing
 * from the start). status < 0: the stat failed (EDDY_ENOENT, ...); prev is
 * the last good stat (zeros if none), curr all zeros. Both point to
 * memory valid during the callback only. */
typedef void (*eddy_fs_poll_cb)(eddy_fs_poll_t *handle, int status,
                                const eddy_stat_t *prev,
                                const eddy_stat_t *curr);

struct eddy__fs_poll_ctx;

struct eddy_fs_poll_s {
  eddy_handle_t handle;
  struct {
    /* what a started handle polls with; lives on after a stop until its
     * stat comes back and its timer has closed */
    struct eddy__fs_poll_ctx *ctx;
  } priv;
};

/* Initialise a handle; it is inactive until started. Returns 0. */
EDDY_EXTERN int eddy_fs_poll_init(eddy_loop_t *loop, eddy_fs_poll_t *handle);

/* Check path every interval ms (0 counts as 1). path is copied. The first
 * stat starts at once. Starting a started handle changes nothing and
 * returns 0 (as libuv). Returns 0, EDDY_EINVAL (cb or path NULL, or the
 * handle is closing), EDDY_ENOMEM, or the pool's error. */
EDDY_EXTERN int eddy_fs_poll_start(eddy_fs_poll_t *handle, eddy_fs_poll_cb cb,
                                   const char *path, unsigned int interval);

/* Stop polling: the callback will not run again (also when called from
 * the callback). Returns 0, also when not started. */
EDDY_EXTERN int eddy_fs_poll_stop(eddy_fs_poll_t *handle);

/* The polled path into buffer, with eddy/os.h's rules: *size is the
 * buffer's size; on success the path is NUL-terminated and *size its
 * length. Errors: EDDY_EINVAL (not started, or a NULL argument),
 * EDDY_ENOBUFS (too small: *size becomes the size needed, NUL
 * included). */
EDDY_EXTERN int eddy_fs_poll_getpath(eddy_fs_poll_t *handle, char *buffer,
                                     size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_FS_POLL_H */
