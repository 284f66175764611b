/* eddy/fs_event.h: file-system events (libuv's uv_fs_event_t, Node's
 * fs.watch), on Linux's inotify.
 *
 * A handle watches one path: a file, or a directory and the entries in it.
 * The callback gets the name of what changed and EDDY_RENAME (created,
 * removed, moved in or out: Node's 'rename') and/or EDDY_CHANGE (written,
 * or its attributes changed: Node's 'change'). For a directory the name is
 * the entry's, relative to the watched directory; for the watched path
 * itself (a watched file written, a watched directory removed) it is the
 * path's last component.
 *
 * EDDY_FS_EVENT_RECURSIVE watches the subdirectories too, at any depth:
 * inotify is not recursive, so the handle adds a watch for every
 * subdirectory it finds at start and for every one that appears later
 * (created or moved in), and drops those that go. Names are then relative
 * to the watched directory ("sub/dir/file"). A directory made and filled
 * in the instant before its watch is added has those first entries
 * unreported; entries made after its own creation event was delivered are
 * reported. Symbolic links to directories are not followed.
 *
 * Removal: when the watched path itself is removed (or its file system
 * unmounted) the callback gets EDDY_RENAME with its name, and the handle
 * then watches nothing (it stays active, as libuv's does, until stopped).
 * When the kernel dropped events (its queue overflowed) every handle of
 * the loop gets one callback with filename NULL and both events: look
 * again yourself.
 *
 * Limits: each watched directory costs one inotify watch; at
 * fs.inotify.max_user_watches start fails with EDDY_ENOSPC (as libuv
 * reports it), or, for a subdirectory that appears later, the callback
 * gets status EDDY_ENOSPC with that directory's name. Each loop uses one
 * inotify instance (fs.inotify.max_user_instances: EDDY_EMFILE).
 *
 * Platforms: inotify only. kqueue (BSD, macOS) and FSEvents (macOS) are
 * not implemented: they cannot be built or tested on the Linux machines
 * this project is made on; elsewhere start returns EDDY_ENOSYS. Use
 * eddy/fs_poll.h where inotify sees nothing (network file systems).
 *
 * Loop thread only.
 */
#ifndef EDDY_FS_EVENT_H
#define EDDY_FS_EVENT_H

#include "export.h"

#include <stddef.h>

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_fs_event_s eddy_fs_event_t;

/* The callback's events (libuv's uv_fs_event). */
enum { EDDY_RENAME = 1, EDDY_CHANGE = 2 };

/* eddy_fs_event_start flags (libuv's uv_fs_event_flags). WATCH_ENTRY and
 * STAT are accepted and, as in libuv on Linux, change nothing. */
enum {
  EDDY_FS_EVENT_WATCH_ENTRY = 1,
  EDDY_FS_EVENT_STAT = 2,
  EDDY_FS_EVENT_RECURSIVE = 4
};

/* status 0: filename (valid during the callback; NULL after an overflow)
 * had events. status < 0: a subdirectory could not be watched (filename
 * names it; events is 0). */
typedef void (*eddy_fs_event_cb)(eddy_fs_event_t *handle, const char *filename,
                                 int events, int status);

struct eddy_fs_event_s {
  eddy_handle_t handle;
  struct {
    eddy_fs_event_cb cb;
    char *path; /* the copy start made */
    unsigned flags;
    eddy_queue_t subs; /* one entry per inotify watch the handle uses */
    eddy_queue_t node; /* on the loop's list of started handles */
  } priv;
};

/* Initialise a handle; inactive until started. Returns 0. */
EDDY_EXTERN int eddy_fs_event_init(eddy_loop_t *loop, eddy_fs_event_t *handle);

/* Watch path (copied) with flags (EDDY_FS_EVENT_*). Symbolic links in path
 * are followed. Returns 0, EDDY_EINVAL (cb or path NULL, unknown flags, a
 * handle started or closing), EDDY_ENOENT, EDDY_ENOTDIR, EDDY_EACCES,
 * EDDY_ENOSPC (the inotify watch limit), EDDY_EMFILE (the inotify
 * instance limit, or out of descriptors), EDDY_ENOMEM, EDDY_ENOSYS (no
 * inotify). On an error nothing is watched. */
EDDY_EXTERN int eddy_fs_event_start(eddy_fs_event_t *handle,
                                    eddy_fs_event_cb cb, const char *path,
                                    unsigned int flags);

/* Stop watching; the callback will not run again (also when called from
 * it). Returns 0, also when not started. */
EDDY_EXTERN int eddy_fs_event_stop(eddy_fs_event_t *handle);

/* The watched path into buffer, with eddy/os.h's rules (*size in: the
 * buffer's size; out: the length, or the size needed with EDDY_ENOBUFS).
 * Errors: EDDY_EINVAL (not started, or a NULL argument), EDDY_ENOBUFS. */
EDDY_EXTERN int eddy_fs_event_getpath(eddy_fs_event_t *handle, char *buffer,
                                      size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_FS_EVENT_H */
