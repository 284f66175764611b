/* eddy/fs_stream.h: file read and write streams with backpressure
 * (Node's fs.createReadStream and fs.createWriteStream), built on the
 * requests of eddy/fs.h: each open, read, write and close is one pool job,
 * one at a time per stream, as in Node.
 *
 * A read stream reads chunks of at most high_water_mark bytes into a
 * buffer of its own and hands each to the read callback, which may use it
 * until it returns. The next read starts when the callback returns, unless
 * the stream was paused: eddy_fs_read_stream_pause() stops the flow (a
 * read already running completes, and its data waits for resume), and
 * eddy_fs_read_stream_resume() starts it again. At the end the callback
 * gets EDDY_EOF once (or an error once), the stream closes its descriptor,
 * and the close callback runs.
 *
 * A write stream queues writes (caller-owned requests whose buffers are
 * not copied) and writes them in order, one pool job at a time, each write
 * whole. write_queue_size counts the bytes accepted and not yet written.
 * When a write brings it to high_water_mark or more, need_drain is set:
 * stop writing (Node's write() returning false) until the drain callback,
 * which runs once the queue has emptied. eddy_fs_write_stream_end() closes
 * the file after the queued writes; the close callback then reports the
 * first error or 0.
 *
 * Either stream's close callback runs exactly once, whatever happened
 * (also after a failed open or eddy_*_destroy()), and after it the stream
 * may be freed or opened again. No callback runs inside the call that
 * caused it. Every function here: the loop's thread only.
 */
#ifndef EDDY_FS_STREAM_H
#define EDDY_FS_STREAM_H

#include "export.h"

#include <stdint.h>
#include <sys/types.h>

#include "fs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_fs_read_stream_s eddy_fs_read_stream_t;
typedef struct eddy_fs_write_stream_s eddy_fs_write_stream_t;
typedef struct eddy_fs_stream_write_s eddy_fs_stream_write_t;

/* nread > 0: buf holds that many bytes, valid until the callback returns;
 * EDDY_EOF: the end (once); another negative value: the error that ended
 * the stream (once). After EOF or an error the close callback follows. */
typedef void (*eddy_fs_read_stream_cb)(eddy_fs_read_stream_t *rs, ssize_t nread,
                                       const eddy_buf_t *buf);
/* The descriptor is closed; status is 0, the error the stream ended with,
 * or close(2)'s error. The stream is the caller's again. */
typedef void (*eddy_fs_read_stream_close_cb)(eddy_fs_read_stream_t *rs,
                                             int status);
/* A write finished: status 0 (all of it is written), the write's error,
 * or EDDY_ECANCELED (the stream failed or was destroyed first). */
typedef void (*eddy_fs_stream_write_cb)(eddy_fs_stream_write_t *req,
                                        int status);
/* The queue emptied after need_drain was set: write again. */
typedef void (*eddy_fs_write_stream_drain_cb)(eddy_fs_write_stream_t *ws);
/* The descriptor is closed; status is 0 when every write went out, else
 * the first error (an open, write or close error, or EDDY_ECANCELED when
 * eddy_fs_write_stream_destroy dropped writes). */
typedef void (*eddy_fs_write_stream_close_cb)(eddy_fs_write_stream_t *ws,
                                              int status);

/* How to open a stream. Start from eddy_fs_stream_options_init(), or pass
 * NULL for the defaults. */
typedef struct eddy_fs_stream_options_s {
  int flags;     /* open(2) flags; 0 for the default: O_RDONLY to read,
                    O_WRONLY | O_CREAT | O_TRUNC to write (Node's 'r', 'w') */
  int mode;      /* for a file O_CREAT makes: 0666 (the umask applies) */
  eddy_file fd;  /* -1: open the path; else use this descriptor instead
                    (the path is then ignored), closed at the end */
  int64_t start; /* offset of the first byte read or written; -1: the
                    descriptor's current position (Node's undefined) */
  int64_t end;   /* read: offset of the last byte read (inclusive, as
                    Node's), -1: to end of file; ignored for writes */
  size_t high_water_mark; /* 0 for the default: 64 KiB to read (the chunk
                             size), 16 KiB to write */
} eddy_fs_stream_options_t;

/* The defaults: flags 0, mode 0666, fd -1, start -1, end -1,
 * high_water_mark 0. */
EDDY_EXTERN void eddy_fs_stream_options_init(eddy_fs_stream_options_t *opts);

struct eddy_fs_read_stream_s {
  void *data;         /* yours */
  eddy_loop_t *loop;  /* read only */
  eddy_file fd;       /* read only: -1 until open, and once closing */
  int64_t bytes_read; /* read only: Node's bytesRead */
  struct {
    eddy_fs_read_stream_cb read_cb;
    eddy_fs_read_stream_close_cb close_cb;
    eddy_fs_t req; /* the one open, read or close in flight */
    char *buf;     /* high_water_mark bytes */
    size_t hwm;
    int64_t pos;   /* where the next read starts; -1: current position */
    int64_t limit; /* bytes to read in all, or -1 */
    ssize_t held;  /* a result waiting for resume (EDDY__RS_HELD) */
    int status;    /* for the close callback */
    int state;
    unsigned flags;
  } priv;
};

/* Open path (or use opts->fd) and start reading: read_cb gets the data,
 * then EDDY_EOF or an error; then close_cb (may be NULL) runs. A failed
 * open arrives at read_cb as its error. The path is copied. Pause at once
 * after this call to start paused. Allocates the chunk buffer. Returns 0,
 * or EDDY_EINVAL (NULL stream, loop or read_cb; no path and no fd; start
 * after end; start or end below -1), EDDY_ENOMEM, or the pool's error:
 * then no callback runs. */
EDDY_EXTERN int eddy_fs_read_stream_open(eddy_loop_t *loop,
                                         eddy_fs_read_stream_t *rs,
                                         const char *path,
                                         const eddy_fs_stream_options_t *opts,
                                         eddy_fs_read_stream_cb read_cb,
                                         eddy_fs_read_stream_close_cb close_cb);

/* Stop and restart the flow of data (Node's pause / resume). A paused
 * stream starts no read; the data of a read that was running, and the
 * end, wait for resume; errors are reported at once. Both return 0, or
 * EDDY_EINVAL once the stream is closed or destroyed. */
EDDY_EXTERN int eddy_fs_read_stream_pause(eddy_fs_read_stream_t *rs);
EDDY_EXTERN int eddy_fs_read_stream_resume(eddy_fs_read_stream_t *rs);
EDDY_EXTERN int eddy_fs_read_stream_is_paused(const eddy_fs_read_stream_t *rs);

/* Stop early (Node's destroy): no read callback runs any more; a queued
 * read is cancelled, a running one is waited for; the descriptor is
 * closed and close_cb runs. Safe inside the read callback. Returns 0, or
 * EDDY_EINVAL when already destroyed or closed. */
EDDY_EXTERN int eddy_fs_read_stream_destroy(eddy_fs_read_stream_t *rs);

struct eddy_fs_stream_write_s {
  eddy_req_t req; /* req.data is yours */
  eddy_fs_write_stream_t *stream;
  struct {
    eddy_fs_stream_write_cb cb;
    eddy_queue_t node;
    eddy_buf_t *bufs; /* bufsml, or a copy of more than four */
    unsigned nbufs;
    unsigned index; /* the first buffer not completely written */
    size_t left;    /* bytes not yet written */
    eddy_buf_t bufsml[4];
  } priv;
};

struct eddy_fs_write_stream_s {
  void *data;              /* yours */
  eddy_loop_t *loop;       /* read only */
  eddy_file fd;            /* read only: -1 until open, and once closing */
  int64_t bytes_written;   /* read only: Node's bytesWritten */
  size_t write_queue_size; /* read only: bytes accepted, not yet written */
  size_t high_water_mark;  /* read only */
  int need_drain;          /* read only: wait for the drain callback */
  struct {
    eddy_fs_write_stream_drain_cb drain_cb;
    eddy_fs_write_stream_close_cb close_cb;
    eddy_fs_t req;      /* the one open, write or close in flight */
    eddy_queue_t queue; /* writes in order; the head may be in flight */
    int64_t pos;        /* where the next write goes; -1: current */
    int status;         /* the first error */
    int state;
    unsigned flags;
  } priv;
};

/* Open path (or use opts->fd) for writing. Writes may be queued at once;
 * they wait for the open. drain_cb and close_cb may be NULL. The path is
 * copied. Returns 0, or EDDY_EINVAL (NULL stream or loop; no path and no
 * fd; start below -1), or the pool's error: then no callback runs. A
 * failed open arrives at close_cb (queued writes get EDDY_ECANCELED). */
EDDY_EXTERN int
eddy_fs_write_stream_open(eddy_loop_t *loop, eddy_fs_write_stream_t *ws,
                          const char *path,
                          const eddy_fs_stream_options_t *opts,
                          eddy_fs_write_stream_drain_cb drain_cb,
                          eddy_fs_write_stream_close_cb close_cb);

/* Queue nbufs buffers as one write (cb may be NULL). The array is copied,
 * the bytes are not: they must stay valid until cb. Sets need_drain when
 * write_queue_size reaches high_water_mark (the write is queued all the
 * same). Returns 0, EDDY_EINVAL (nbufs 0 or bufs NULL), EDDY_EPIPE (after
 * end, destroy or an error), EDDY_ENOMEM. */
EDDY_EXTERN int eddy_fs_write_stream_write(eddy_fs_write_stream_t *ws,
                                           eddy_fs_stream_write_t *req,
                                           const eddy_buf_t bufs[],
                                           unsigned nbufs,
                                           eddy_fs_stream_write_cb cb);

/* No more writes (Node's end): once the queued ones are written, close the
 * file; close_cb reports. Returns 0, or EDDY_EINVAL when already ended or
 * destroyed. */
EDDY_EXTERN int eddy_fs_write_stream_end(eddy_fs_write_stream_t *ws);

/* Stop at once (Node's destroy): writes not yet started get
 * EDDY_ECANCELED (a queued job is cancelled, a running one is waited
 * for), the file is closed and close_cb runs. Safe inside a write
 * callback. Returns 0, or EDDY_EINVAL when already destroyed or closed. */
EDDY_EXTERN int eddy_fs_write_stream_destroy(eddy_fs_write_stream_t *ws);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_FS_STREAM_H */
