/* fs_stream.c: Node's fs.ReadStream and fs.WriteStream on eddy's fs
 * requests.
 *
 * Each stream owns one eddy_fs_t and has at most one request in flight:
 * an open, then reads (or writes), then a close. Everything else happens
 * on the loop thread in the requests' callbacks. A state says what is in
 * flight (OPENING, BUSY) or that nothing is (IDLE); CLOSING and CLOSED
 * follow. Where a public call must lead to a callback (resuming onto data
 * that waits, destroying a write stream with writes queued, a close with
 * no descriptor), the stream queues itself on the loop's next-tick queue
 * and does it from there, so that no callback runs inside the call that
 * caused it. The close callback runs last, once, from the close request's
 * callback or from that tick. */
#include <stdlib.h>
#include <string.h>

#include "eddy/fs_stream.h"
#include "eddy/tick.h"
#include "fs/fs_internal.h"

#define EDDY__RS_HWM (64u << 10) /* Node's default highWaterMark, reading */
#define EDDY__WS_HWM (16u << 10) /* and writing */

enum { /* priv.state */
       EDDY__ST_OPENING = 1,
       EDDY__ST_IDLE,
       EDDY__ST_BUSY,
       EDDY__ST_SETTLING, /* write stream: failing its queue */
       EDDY__ST_CLOSING,
       EDDY__ST_CLOSED
};

enum { /* priv.flags, both kinds */
       EDDY__FS_DESTROYED = 1 << 0,
       EDDY__FS_TICK = 1 << 1,      /* queued on the next-tick queue */
       EDDY__FS_CLOSE_DUE = 1 << 2, /* closed: the close callback is due */
       /* read streams */
       EDDY__RS_PAUSED = 1 << 3,
       EDDY__RS_HELD = 1 << 4,  /* priv.held waits to be delivered */
       EDDY__RS_ENDED = 1 << 5, /* EOF or an error was delivered */
       /* write streams */
       EDDY__WS_ENDING = 1 << 6,
       EDDY__WS_FAILED = 1 << 7 /* a write or submission failed */
};

void eddy_fs_stream_options_init(eddy_fs_stream_options_t *opts) {
  if (opts == NULL)
    return;
  opts->flags = 0;
  opts->mode = 0666;
  opts->fd = -1;
  opts->start = -1;
  opts->end = -1;
  opts->high_water_mark = 0;
}

static const eddy_fs_stream_options_t *
eddy__fs_stream_opts(const eddy_fs_stream_options_t *opts,
                     eddy_fs_stream_options_t *defaults) {
  if (opts != NULL)
    return opts;
  eddy_fs_stream_options_init(defaults);
  return defaults;
}

/* ==== read streams ====================================================== */

static void eddy__rs_on_open(eddy_fs_t *req);
static void eddy__rs_on_read(eddy_fs_t *req);
static void eddy__rs_on_close(eddy_fs_t *req);
static void eddy__rs_tick(eddy_loop_t *loop, void *arg);
static void eddy__rs_result(eddy_fs_read_stream_t *rs, ssize_t r);

static eddy_fs_read_stream_t *eddy__rs_of(eddy_fs_t *req) {
  return eddy__container_of(req, eddy_fs_read_stream_t, priv.req);
}

/* Continue from the next-tick queue. Without memory for the queue to grow
 * the tick runs now: progress matters more than the order rule then. */
static void eddy__rs_defer(eddy_fs_read_stream_t *rs) {
  if (rs->priv.flags & EDDY__FS_TICK)
    return;
  rs->priv.flags |= EDDY__FS_TICK;
  if (eddy_next_tick(rs->loop, eddy__rs_tick, rs) != 0)
    eddy__rs_tick(rs->loop, rs);
}

static void eddy__rs_finish(eddy_fs_read_stream_t *rs) {
  free(rs->priv.buf);
  rs->priv.buf = NULL;
  rs->priv.state = EDDY__ST_CLOSED;
  if (rs->priv.flags & EDDY__FS_TICK) { /* the tick comes first */
    rs->priv.flags |= EDDY__FS_CLOSE_DUE;
    return;
  }
  rs->priv.flags &= ~(unsigned)EDDY__FS_CLOSE_DUE;
  if (rs->priv.close_cb != NULL) {
    rs->priv.close_cb(rs, rs->priv.status);
    eddy__after_callback(rs->loop);
  }
}

/* Close the descriptor on the pool (inline if the pool refuses); without
 * one, finish from a tick. */
static void eddy__rs_close(eddy_fs_read_stream_t *rs) {
  int fd = rs->fd;
  int err;

  if (rs->priv.state == EDDY__ST_CLOSING || rs->priv.state == EDDY__ST_CLOSED)
    return;
  rs->fd = -1;
  if (fd >= 0) {
    err = eddy_fs_close(rs->loop, &rs->priv.req, fd, eddy__rs_on_close);
    if (err == 0) {
      rs->priv.state = EDDY__ST_CLOSING;
      return;
    }
    err = eddy__fs_close_fd(fd);
    if (rs->priv.status == 0)
      rs->priv.status = err;
  }
  rs->priv.state = EDDY__ST_CLOSED;
  rs->priv.flags |= EDDY__FS_CLOSE_DUE;
  eddy__rs_defer(rs);
}

static void eddy__rs_on_close(eddy_fs_t *req) {
  eddy_fs_read_stream_t *rs = eddy__rs_of(req);

  if (req->result < 0 && rs->priv.status == 0)
    rs->priv.status = (int)req->result;
  eddy_fs_req_cleanup(req);
  eddy__rs_finish(rs);
}

/* Start the next read if the stream is flowing and nothing is in flight.
 * Never calls back: a read the pool refuses is reported from a tick. */
static void eddy__rs_kick(eddy_fs_read_stream_t *rs) {
  size_t want = rs->priv.hwm;
  eddy_buf_t buf;
  int err;

  if (rs->priv.state != EDDY__ST_IDLE ||
      (rs->priv.flags &
       (EDDY__FS_DESTROYED | EDDY__RS_PAUSED | EDDY__RS_HELD | EDDY__RS_ENDED)))
    return;
  if (rs->priv.limit >= 0) {
    /* All read: the end comes from eddy__rs_deliver, after the data
     * callback (which may have resumed the stream and so brought us
     * here). */
    if (rs->bytes_read >= rs->priv.limit)
      return;
    if ((uint64_t)(rs->priv.limit - rs->bytes_read) < want)
      want = (size_t)(rs->priv.limit - rs->bytes_read);
  }
  buf = eddy_buf_init(rs->priv.buf, want);
  err = eddy_fs_read(rs->loop, &rs->priv.req, rs->fd, &buf, 1, rs->priv.pos,
                     eddy__rs_on_read);
  if (err == 0) {
    rs->priv.state = EDDY__ST_BUSY;
    return;
  }
  eddy_fs_req_cleanup(&rs->priv.req);
  rs->priv.held = err;
  rs->priv.flags |= EDDY__RS_HELD;
  eddy__rs_defer(rs);
}

/* The last read callback (EOF or an error), then the close. */
static void eddy__rs_end(eddy_fs_read_stream_t *rs, ssize_t r) {
  eddy_buf_t none = eddy_buf_init(NULL, 0);

  if (rs->priv.flags & EDDY__RS_ENDED)
    return;
  rs->priv.flags |= EDDY__RS_ENDED;
  if (r != EDDY_EOF)
    rs->priv.status = (int)r;
  rs->priv.read_cb(rs, r, &none);
  eddy__after_callback(rs->loop);
  eddy__rs_close(rs);
}

/* Hand data (r > 0) or the end to the program, then read on. */
static void eddy__rs_deliver(eddy_fs_read_stream_t *rs, ssize_t r) {
  eddy_buf_t buf;

  if (r == EDDY_EOF) {
    eddy__rs_end(rs, r);
    return;
  }
  buf = eddy_buf_init(rs->priv.buf, (size_t)r);
  rs->priv.read_cb(rs, r, &buf);
  eddy__after_callback(rs->loop);
  if (rs->priv.flags & (EDDY__FS_DESTROYED | EDDY__RS_ENDED))
    return; /* destroy() took it from here */
  if (rs->priv.limit >= 0 && rs->bytes_read >= rs->priv.limit) {
    eddy__rs_result(rs, 0); /* Node's end option: the end, as at EOF */
    return;
  }
  eddy__rs_kick(rs);
}

/* A read's outcome: errors end the stream at once; data and the end
 * (r == 0) wait while the stream is paused. */
static void eddy__rs_result(eddy_fs_read_stream_t *rs, ssize_t r) {
  if (r < 0 && r != EDDY_EOF) {
    eddy__rs_end(rs, r);
    return;
  }
  if (r == 0)
    r = EDDY_EOF;
  if (rs->priv.flags & EDDY__RS_PAUSED) {
    rs->priv.held = r;
    rs->priv.flags |= EDDY__RS_HELD;
    return;
  }
  eddy__rs_deliver(rs, r);
}

static void eddy__rs_on_read(eddy_fs_t *req) {
  eddy_fs_read_stream_t *rs = eddy__rs_of(req);
  ssize_t r = req->result;

  eddy_fs_req_cleanup(req);
  assert(rs->priv.state == EDDY__ST_BUSY);
  rs->priv.state = EDDY__ST_IDLE;
  if (rs->priv.flags & EDDY__FS_DESTROYED) {
    eddy__rs_close(rs);
    return;
  }
  if (r > 0) {
    rs->bytes_read += r;
    if (rs->priv.pos >= 0)
      rs->priv.pos += r;
  }
  eddy__rs_result(rs, r);
}

static void eddy__rs_on_open(eddy_fs_t *req) {
  eddy_fs_read_stream_t *rs = eddy__rs_of(req);
  ssize_t r = req->result;

  eddy_fs_req_cleanup(req);
  rs->priv.state = EDDY__ST_IDLE;
  if (r >= 0)
    rs->fd = (eddy_file)r;
  if (rs->priv.flags & EDDY__FS_DESTROYED)
    eddy__rs_close(rs);
  else if (r < 0)
    eddy__rs_end(rs, r);
  else
    eddy__rs_kick(rs);
}

static void eddy__rs_tick(eddy_loop_t *loop, void *arg) {
  eddy_fs_read_stream_t *rs = arg;
  ssize_t r;

  (void)loop;
  rs->priv.flags &= ~(unsigned)EDDY__FS_TICK;
  if (rs->priv.flags & EDDY__FS_CLOSE_DUE) {
    eddy__rs_finish(rs);
    return;
  }
  if (!(rs->priv.flags & EDDY__RS_HELD) ||
      (rs->priv.flags & EDDY__FS_DESTROYED))
    return;
  r = rs->priv.held;
  if ((rs->priv.flags & EDDY__RS_PAUSED) && (r > 0 || r == EDDY_EOF))
    return; /* paused again before the tick: keep waiting */
  rs->priv.flags &= ~(unsigned)EDDY__RS_HELD;
  if (r < 0 && r != EDDY_EOF)
    eddy__rs_end(rs, r);
  else
    eddy__rs_deliver(rs, r);
}

int eddy_fs_read_stream_open(eddy_loop_t *loop, eddy_fs_read_stream_t *rs,
                             const char *path,
                             const eddy_fs_stream_options_t *opts,
                             eddy_fs_read_stream_cb read_cb,
                             eddy_fs_read_stream_close_cb close_cb) {
  eddy_fs_stream_options_t defaults;
  const eddy_fs_stream_options_t *o = eddy__fs_stream_opts(opts, &defaults);
  int err;

  if (loop == NULL || rs == NULL || read_cb == NULL ||
      (path == NULL && o->fd < 0) || o->start < -1 || o->end < -1 ||
      (o->start >= 0 && o->end >= 0 && o->start > o->end))
    return EDDY_EINVAL;
  memset(&rs->priv, 0, sizeof(rs->priv));
  rs->loop = loop;
  rs->fd = -1;
  rs->bytes_read = 0;
  rs->priv.read_cb = read_cb;
  rs->priv.close_cb = close_cb;
  rs->priv.hwm = o->high_water_mark != 0 ? o->high_water_mark : EDDY__RS_HWM;
  rs->priv.pos = o->start;
  rs->priv.limit = o->end < 0 ? -1 : o->end - (o->start > 0 ? o->start : 0) + 1;
  rs->priv.buf = malloc(rs->priv.hwm);
  if (rs->priv.buf == NULL)
    return EDDY_ENOMEM;
  if (o->fd >= 0) {
    rs->fd = o->fd;
    rs->priv.state = EDDY__ST_IDLE;
    eddy__rs_kick(rs);
    return 0;
  }
  err = eddy_fs_open(loop, &rs->priv.req, path, o->flags, o->mode,
                     eddy__rs_on_open);
  if (err != 0) {
    eddy_fs_req_cleanup(&rs->priv.req);
    free(rs->priv.buf);
    rs->priv.buf = NULL;
    return err;
  }
  rs->priv.state = EDDY__ST_OPENING;
  return 0;
}

static int eddy__rs_usable(const eddy_fs_read_stream_t *rs) {
  return rs != NULL &&
         !(rs->priv.flags & (EDDY__FS_DESTROYED | EDDY__RS_ENDED)) &&
         rs->priv.state != EDDY__ST_CLOSING &&
         rs->priv.state != EDDY__ST_CLOSED && rs->priv.state != 0;
}

int eddy_fs_read_stream_pause(eddy_fs_read_stream_t *rs) {
  if (!eddy__rs_usable(rs))
    return EDDY_EINVAL;
  rs->priv.flags |= EDDY__RS_PAUSED;
  return 0;
}

int eddy_fs_read_stream_resume(eddy_fs_read_stream_t *rs) {
  if (!eddy__rs_usable(rs))
    return EDDY_EINVAL;
  rs->priv.flags &= ~(unsigned)EDDY__RS_PAUSED;
  if (rs->priv.flags & EDDY__RS_HELD)
    eddy__rs_defer(rs); /* the data that waited comes from a tick */
  else
    eddy__rs_kick(rs);
  return 0;
}

int eddy_fs_read_stream_is_paused(const eddy_fs_read_stream_t *rs) {
  return rs != NULL && (rs->priv.flags & EDDY__RS_PAUSED) != 0;
}

int eddy_fs_read_stream_destroy(eddy_fs_read_stream_t *rs) {
  if (rs == NULL || (rs->priv.flags & EDDY__FS_DESTROYED) ||
      rs->priv.state == EDDY__ST_CLOSED || rs->priv.state == 0)
    return EDDY_EINVAL;
  rs->priv.flags |= EDDY__FS_DESTROYED;
  rs->priv.flags &= ~(unsigned)EDDY__RS_HELD;
  if (rs->priv.state == EDDY__ST_IDLE)
    eddy__rs_close(rs);
  else if (rs->priv.state == EDDY__ST_OPENING ||
           rs->priv.state == EDDY__ST_BUSY)
    eddy_cancel(&rs->priv.req.req); /* EDDY_EBUSY when running: wait */
  return 0;
}

/* ==== write streams ===================================================== */

static void eddy__ws_on_open(eddy_fs_t *req);
static void eddy__ws_on_write(eddy_fs_t *req);
static void eddy__ws_on_close(eddy_fs_t *req);
static void eddy__ws_tick(eddy_loop_t *loop, void *arg);

static eddy_fs_write_stream_t *eddy__ws_of(eddy_fs_t *req) {
  return eddy__container_of(req, eddy_fs_write_stream_t, priv.req);
}

static eddy_fs_stream_write_t *eddy__ws_head(eddy_fs_write_stream_t *ws) {
  if (eddy__queue_empty(&ws->priv.queue))
    return NULL;
  return eddy__container_of(ws->priv.queue.next, eddy_fs_stream_write_t,
                            priv.node);
}

static void eddy__ws_defer(eddy_fs_write_stream_t *ws) {
  if (ws->priv.flags & EDDY__FS_TICK)
    return;
  ws->priv.flags |= EDDY__FS_TICK;
  if (eddy_next_tick(ws->loop, eddy__ws_tick, ws) != 0)
    eddy__ws_tick(ws->loop, ws); /* see eddy__rs_defer */
}

static void eddy__ws_fail_status(eddy_fs_write_stream_t *ws, int err) {
  if (ws->priv.status == 0)
    ws->priv.status = err;
}

static void eddy__ws_finish(eddy_fs_write_stream_t *ws) {
  ws->priv.state = EDDY__ST_CLOSED;
  if (ws->priv.flags & EDDY__FS_TICK) {
    ws->priv.flags |= EDDY__FS_CLOSE_DUE;
    return;
  }
  ws->priv.flags &= ~(unsigned)EDDY__FS_CLOSE_DUE;
  if (ws->priv.close_cb != NULL) {
    ws->priv.close_cb(ws, ws->priv.status);
    eddy__after_callback(ws->loop);
  }
}

static void eddy__ws_close(eddy_fs_write_stream_t *ws) {
  int fd = ws->fd;
  int err;

  if (ws->priv.state == EDDY__ST_CLOSING || ws->priv.state == EDDY__ST_CLOSED)
    return;
  ws->fd = -1;
  if (fd >= 0) {
    err = eddy_fs_close(ws->loop, &ws->priv.req, fd, eddy__ws_on_close);
    if (err == 0) {
      ws->priv.state = EDDY__ST_CLOSING;
      return;
    }
    eddy__ws_fail_status(ws, eddy__fs_close_fd(fd));
  }
  ws->priv.state = EDDY__ST_CLOSED;
  ws->priv.flags |= EDDY__FS_CLOSE_DUE;
  eddy__ws_defer(ws);
}

static void eddy__ws_on_close(eddy_fs_t *req) {
  eddy_fs_write_stream_t *ws = eddy__ws_of(req);

  if (req->result < 0)
    eddy__ws_fail_status(ws, (int)req->result);
  eddy_fs_req_cleanup(req);
  eddy__ws_finish(ws);
}

/* Take w off the queue and run its callback. */
static void eddy__ws_complete(eddy_fs_write_stream_t *ws,
                              eddy_fs_stream_write_t *w, int status) {
  assert(ws->write_queue_size >= w->priv.left);
  ws->write_queue_size -= w->priv.left;
  w->priv.left = 0;
  eddy__queue_remove(&w->priv.node);
  if (w->priv.bufs != w->priv.bufsml)
    free(w->priv.bufs);
  w->priv.bufs = NULL;
  if (w->priv.cb != NULL) {
    w->priv.cb(w, status);
    eddy__after_callback(ws->loop);
  }
}

/* The stream failed or was destroyed: failed (if not NULL) gets err, the
 * other queued writes EDDY_ECANCELED, in order; then the close. */
static void eddy__ws_settle(eddy_fs_write_stream_t *ws,
                            eddy_fs_stream_write_t *failed, int err) {
  eddy_fs_stream_write_t *w;

  if (ws->priv.state != EDDY__ST_IDLE)
    return; /* settling, closing or closed already; or a job in flight */
  ws->priv.state = EDDY__ST_SETTLING;
  ws->need_drain = 0;
  while ((w = eddy__ws_head(ws)) != NULL) {
    int status = w == failed ? err : EDDY_ECANCELED;

    eddy__ws_fail_status(ws, status);
    eddy__ws_complete(ws, w, status);
  }
  ws->priv.state = EDDY__ST_IDLE;
  eddy__ws_close(ws);
}

/* Start writing the head of the queue if nothing is in flight. A write
 * the pool refuses fails the stream from a tick. */
static void eddy__ws_kick(eddy_fs_write_stream_t *ws) {
  eddy_fs_stream_write_t *w = eddy__ws_head(ws);
  int err;

  if (w == NULL || ws->priv.state != EDDY__ST_IDLE ||
      (ws->priv.flags & (EDDY__FS_DESTROYED | EDDY__WS_FAILED)))
    return;
  err = eddy_fs_write(
      ws->loop, &ws->priv.req, ws->fd, w->priv.bufs + w->priv.index,
      w->priv.nbufs - w->priv.index, ws->priv.pos, eddy__ws_on_write);
  if (err == 0) {
    ws->priv.state = EDDY__ST_BUSY;
    return;
  }
  eddy_fs_req_cleanup(&ws->priv.req);
  eddy__ws_fail_status(ws, err);
  ws->priv.flags |= EDDY__WS_FAILED;
  eddy__ws_defer(ws);
}

/* Move w past n written bytes. */
static void eddy__ws_advance(eddy_fs_write_stream_t *ws,
                             eddy_fs_stream_write_t *w, size_t n) {
  assert(n <= w->priv.left && n <= ws->write_queue_size);
  w->priv.left -= n;
  ws->write_queue_size -= n;
  ws->bytes_written += (int64_t)n;
  if (ws->priv.pos >= 0)
    ws->priv.pos += (int64_t)n;
  while (w->priv.index < w->priv.nbufs) {
    eddy_buf_t *b = &w->priv.bufs[w->priv.index];

    if (n < b->len) {
      b->base = (char *)b->base + n;
      b->len -= n;
      return;
    }
    n -= b->len;
    w->priv.index++;
  }
}

/* After a write callback: drain, end, or the next write. */
static void eddy__ws_next(eddy_fs_write_stream_t *ws) {
  if (ws->priv.flags & (EDDY__FS_DESTROYED | EDDY__WS_FAILED)) {
    eddy__ws_settle(ws, NULL, 0);
    return;
  }
  if (eddy__queue_empty(&ws->priv.queue)) {
    if (ws->need_drain && !(ws->priv.flags & EDDY__WS_ENDING)) {
      ws->need_drain = 0; /* Node emits no drain once ending */
      if (ws->priv.drain_cb != NULL) {
        ws->priv.drain_cb(ws);
        eddy__after_callback(ws->loop);
      }
      if (ws->priv.flags & (EDDY__FS_DESTROYED | EDDY__WS_FAILED)) {
        eddy__ws_settle(ws, NULL, 0);
        return;
      }
    }
    if (eddy__queue_empty(&ws->priv.queue) &&
        (ws->priv.flags & EDDY__WS_ENDING)) {
      eddy__ws_close(ws);
      return;
    }
  }
  eddy__ws_kick(ws);
}

static void eddy__ws_on_write(eddy_fs_t *req) {
  eddy_fs_write_stream_t *ws = eddy__ws_of(req);
  eddy_fs_stream_write_t *w = eddy__ws_head(ws);
  ssize_t r = req->result;

  eddy_fs_req_cleanup(req);
  assert(ws->priv.state == EDDY__ST_BUSY && w != NULL);
  ws->priv.state = EDDY__ST_IDLE;
  if (r == 0 && w->priv.left > 0)
    r = EDDY_EIO; /* no progress and no error: do not spin */
  if (r < 0) {    /* an error, or the job cancelled by destroy */
    ws->priv.flags |= EDDY__WS_FAILED;
    eddy__ws_settle(ws, w, (int)r);
    return;
  }
  eddy__ws_advance(ws, w, (size_t)r);
  if (w->priv.left == 0)
    eddy__ws_complete(ws, w, 0);
  eddy__ws_next(ws);
}

static void eddy__ws_on_open(eddy_fs_t *req) {
  eddy_fs_write_stream_t *ws = eddy__ws_of(req);
  ssize_t r = req->result;

  eddy_fs_req_cleanup(req);
  ws->priv.state = EDDY__ST_IDLE;
  if (r >= 0)
    ws->fd = (eddy_file)r;
  else if (!(ws->priv.flags & EDDY__FS_DESTROYED))
    eddy__ws_fail_status(ws, (int)r);
  if (r < 0)
    ws->priv.flags |= EDDY__WS_FAILED;
  eddy__ws_next(ws);
}

static void eddy__ws_tick(eddy_loop_t *loop, void *arg) {
  eddy_fs_write_stream_t *ws = arg;

  (void)loop;
  ws->priv.flags &= ~(unsigned)EDDY__FS_TICK;
  if (ws->priv.flags & EDDY__FS_CLOSE_DUE) {
    eddy__ws_finish(ws);
    return;
  }
  if (ws->priv.flags & EDDY__WS_FAILED) /* the pool refused the head */
    eddy__ws_settle(ws, eddy__ws_head(ws), ws->priv.status);
  else if (ws->priv.flags & EDDY__FS_DESTROYED)
    eddy__ws_settle(ws, NULL, 0);
}

int eddy_fs_write_stream_open(eddy_loop_t *loop, eddy_fs_write_stream_t *ws,
                              const char *path,
                              const eddy_fs_stream_options_t *opts,
                              eddy_fs_write_stream_drain_cb drain_cb,
                              eddy_fs_write_stream_close_cb close_cb) {
  eddy_fs_stream_options_t defaults;
  const eddy_fs_stream_options_t *o = eddy__fs_stream_opts(opts, &defaults);
  int flags = o->flags != 0 ? o->flags : O_WRONLY | O_CREAT | O_TRUNC;
  int err;

  if (loop == NULL || ws == NULL || (path == NULL && o->fd < 0) ||
      o->start < -1)
    return EDDY_EINVAL;
  memset(&ws->priv, 0, sizeof(ws->priv));
  ws->loop = loop;
  ws->fd = -1;
  ws->bytes_written = 0;
  ws->write_queue_size = 0;
  ws->need_drain = 0;
  ws->high_water_mark =
      o->high_water_mark != 0 ? o->high_water_mark : EDDY__WS_HWM;
  ws->priv.drain_cb = drain_cb;
  ws->priv.close_cb = close_cb;
  ws->priv.pos = o->start;
  eddy__queue_init(&ws->priv.queue);
  if (o->fd >= 0) {
    ws->fd = o->fd;
    ws->priv.state = EDDY__ST_IDLE;
    return 0;
  }
  err =
      eddy_fs_open(loop, &ws->priv.req, path, flags, o->mode, eddy__ws_on_open);
  if (err != 0) {
    eddy_fs_req_cleanup(&ws->priv.req);
    return err;
  }
  ws->priv.state = EDDY__ST_OPENING;
  return 0;
}

static int eddy__ws_closed(const eddy_fs_write_stream_t *ws) {
  return ws->priv.state == 0 || ws->priv.state == EDDY__ST_CLOSING ||
         ws->priv.state == EDDY__ST_CLOSED;
}

int eddy_fs_write_stream_write(eddy_fs_write_stream_t *ws,
                               eddy_fs_stream_write_t *req,
                               const eddy_buf_t bufs[], unsigned nbufs,
                               eddy_fs_stream_write_cb cb) {
  size_t len = 0;
  unsigned i;

  if (ws == NULL || req == NULL || bufs == NULL || nbufs == 0)
    return EDDY_EINVAL;
  if (eddy__ws_closed(ws) ||
      (ws->priv.flags &
       (EDDY__WS_ENDING | EDDY__FS_DESTROYED | EDDY__WS_FAILED)))
    return EDDY_EPIPE;
  req->priv.bufs = req->priv.bufsml;
  if (nbufs > sizeof(req->priv.bufsml) / sizeof(req->priv.bufsml[0])) {
    req->priv.bufs = malloc(nbufs * sizeof(*bufs));
    if (req->priv.bufs == NULL)
      return EDDY_ENOMEM;
  }
  memcpy(req->priv.bufs, bufs, nbufs * sizeof(*bufs));
  for (i = 0; i < nbufs; i++)
    len += bufs[i].len;
  eddy__req_init(&req->req, EDDY_FS); /* no pool job of its own */
  req->stream = ws;
  req->priv.cb = cb;
  req->priv.nbufs = nbufs;
  req->priv.index = 0;
  req->priv.left = len;
  eddy__queue_insert_tail(&ws->priv.queue, &req->priv.node);
  ws->write_queue_size += len;
  if (ws->write_queue_size >= ws->high_water_mark)
    ws->need_drain = 1; /* Node's write() returning false */
  eddy__ws_kick(ws);
  return 0;
}

int eddy_fs_write_stream_end(eddy_fs_write_stream_t *ws) {
  if (ws == NULL || eddy__ws_closed(ws) ||
      (ws->priv.flags & (EDDY__WS_ENDING | EDDY__FS_DESTROYED)))
    return EDDY_EINVAL;
  ws->priv.flags |= EDDY__WS_ENDING;
  if (ws->priv.state == EDDY__ST_IDLE && eddy__queue_empty(&ws->priv.queue) &&
      !(ws->priv.flags & EDDY__WS_FAILED))
    eddy__ws_close(ws);
  return 0;
}

int eddy_fs_write_stream_destroy(eddy_fs_write_stream_t *ws) {
  if (ws == NULL || ws->priv.state == 0 || ws->priv.state == EDDY__ST_CLOSED ||
      (ws->priv.flags & EDDY__FS_DESTROYED))
    return EDDY_EINVAL;
  ws->priv.flags |= EDDY__FS_DESTROYED;
  if (ws->priv.state == EDDY__ST_IDLE)
    eddy__ws_defer(ws); /* the queue's callbacks come from a tick */
  else if (ws->priv.state == EDDY__ST_OPENING ||
           ws->priv.state == EDDY__ST_BUSY)
    eddy_cancel(&ws->priv.req.req);
  return 0;
}
