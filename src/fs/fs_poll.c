/* fs_poll.c: stat polling (libuv's uv_fs_poll_t) on a timer and the fs
 * requests.
 *
 * A started handle owns a context (malloc'd with the path): the last good
 * stat, the status of the last poll, a timer and the stat request. The
 * context outlives a stop: its stat may still be on the pool and its
 * timer must close, so the handle forgets it (parent = NULL) and the
 * context frees itself when both are done. A handle may therefore be
 * stopped, closed or started again at once. */
#include <stdlib.h>
#include <string.h>

#include "eddy/fs_poll.h"
#include "eddy/timer.h"
#include "fs/fs_internal.h"

struct eddy__fs_poll_ctx {
  eddy_fs_poll_t *parent; /* NULL once the handle stopped */
  eddy_loop_t *loop;
  eddy_fs_poll_cb cb;
  uint64_t start_time; /* polls are due at start_time + k * interval */
  unsigned interval;
  /* 0 before the first stat, 1 after a good one, else the last error */
  int busy;
  int stat_in_flight;
  int timer_closed;
  eddy_timer_t timer;
  eddy_fs_t req;
  eddy_stat_t statbuf; /* the last good stat */
  char path[];
};

static const eddy_stat_t eddy__fs_poll_zero;

static void eddy__fs_poll_on_stat(eddy_fs_t *req);

/* Free the context once nothing of it is in use. */
static void eddy__fs_poll_release(struct eddy__fs_poll_ctx *ctx) {
  assert(ctx->parent == NULL);
  if (ctx->timer_closed && !ctx->stat_in_flight)
    free(ctx);
}

static void eddy__fs_poll_timer_closed(eddy_handle_t *h) {
  struct eddy__fs_poll_ctx *ctx = h->data;

  ctx->timer_closed = 1;
  eddy__fs_poll_release(ctx);
}

/* The handle let go of ctx: its timer closes now (so that nothing else,
 * eddy_walk's callers included, closes it first), ctx is freed when the
 * timer has closed and no stat is out. */
static void eddy__fs_poll_detach(struct eddy__fs_poll_ctx *ctx) {
  ctx->parent = NULL;
  eddy_timer_stop(&ctx->timer);
  if (!eddy_is_closing(&ctx->timer.handle))
    eddy_close(&ctx->timer.handle, eddy__fs_poll_timer_closed);
}

static int eddy__fs_poll_same(const eddy_stat_t *a, const eddy_stat_t *b) {
  return a->ctim.sec == b->ctim.sec && a->ctim.nsec == b->ctim.nsec &&
         a->mtim.sec == b->mtim.sec && a->mtim.nsec == b->mtim.nsec &&
         a->birthtim.sec == b->birthtim.sec &&
         a->birthtim.nsec == b->birthtim.nsec && a->size == b->size &&
         a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
         a->ino == b->ino && a->dev == b->dev;
}

/* Tell the program about a poll's outcome (status 0 with st, or an error)
 * if it differs from the last one, and remember it. */
static void eddy__fs_poll_report(struct eddy__fs_poll_ctx *ctx, int status,
                                 const eddy_stat_t *st) {
  eddy_fs_poll_t *handle = ctx->parent;

  if (status != 0) {
    if (ctx->busy != status) {
      ctx->busy = status;
      ctx->cb(handle, status, &ctx->statbuf, &eddy__fs_poll_zero);
      eddy__after_callback(ctx->loop);
    }
    return;
  }
  if (ctx->busy != 0 &&
      (ctx->busy < 0 || !eddy__fs_poll_same(&ctx->statbuf, st))) {
    eddy_stat_t prev = ctx->statbuf;

    ctx->statbuf = *st;
    ctx->busy = 1;
    ctx->cb(handle, 0, &prev, st);
    eddy__after_callback(ctx->loop);
    return;
  }
  ctx->statbuf = *st;
  ctx->busy = 1;
}

/* The next poll, on the grid of start_time + k * interval. */
static void eddy__fs_poll_schedule(struct eddy__fs_poll_ctx *ctx);

static void eddy__fs_poll_on_timer(eddy_timer_t *timer) {
  struct eddy__fs_poll_ctx *ctx = timer->handle.data;
  int err;

  assert(ctx->parent != NULL && !ctx->stat_in_flight);
  err = eddy_fs_stat(ctx->loop, &ctx->req, ctx->path, eddy__fs_poll_on_stat);
  if (err == 0) {
    ctx->stat_in_flight = 1;
    return;
  }
  /* The pool refused: that is this poll's outcome. */
  eddy_fs_req_cleanup(&ctx->req);
  eddy__fs_poll_report(ctx, err, NULL);
  if (ctx->parent != NULL)
    eddy__fs_poll_schedule(ctx);
}

static void eddy__fs_poll_schedule(struct eddy__fs_poll_ctx *ctx) {
  uint64_t late = (eddy_now(ctx->loop) - ctx->start_time) % ctx->interval;

  /* Only fails without memory for the timer heap: then poll no more, and
   * say so once. */
  if (eddy_timer_start(&ctx->timer, eddy__fs_poll_on_timer,
                       ctx->interval - late, 0) != 0)
    eddy__fs_poll_report(ctx, EDDY_ENOMEM, NULL);
}

static void eddy__fs_poll_on_stat(eddy_fs_t *req) {
  struct eddy__fs_poll_ctx *ctx =
      eddy__container_of(req, struct eddy__fs_poll_ctx, req);
  eddy_stat_t st = req->statbuf;
  int status = req->result < 0 ? (int)req->result : 0;

  eddy_fs_req_cleanup(req);
  ctx->stat_in_flight = 0;
  if (ctx->parent == NULL) { /* stopped meanwhile */
    eddy__fs_poll_release(ctx);
    return;
  }
  eddy__fs_poll_report(ctx, status, &st);
  if (ctx->parent == NULL) { /* stopped by the callback */
    eddy__fs_poll_release(ctx);
    return;
  }
  eddy__fs_poll_schedule(ctx);
}

int eddy_fs_poll_init(eddy_loop_t *loop, eddy_fs_poll_t *handle) {
  eddy__handle_init(loop, &handle->handle, EDDY_FS_POLL);
  handle->priv.ctx = NULL;
  return 0;
}

int eddy_fs_poll_start(eddy_fs_poll_t *handle, eddy_fs_poll_cb cb,
                       const char *path, unsigned int interval) {
  eddy_loop_t *loop = handle->handle.loop;
  struct eddy__fs_poll_ctx *ctx;
  size_t len;
  int err;

  if (cb == NULL || path == NULL || eddy__handle_closing(&handle->handle))
    return EDDY_EINVAL;
  if (eddy__handle_active(&handle->handle))
    return 0;
  len = strlen(path);
  ctx = calloc(1, sizeof(*ctx) + len + 1);
  if (ctx == NULL)
    return EDDY_ENOMEM;
  memcpy(ctx->path, path, len + 1);
  ctx->loop = loop;
  ctx->cb = cb;
  ctx->interval = interval != 0 ? interval : 1;
  ctx->start_time = eddy_now(loop);
  if ((err = eddy_timer_init(loop, &ctx->timer)) != 0) {
    free(ctx);
    return err;
  }
  ctx->timer.handle.data = ctx;
  eddy_unref(&ctx->timer.handle); /* the fs_poll handle keeps the loop */
  err = eddy_fs_stat(loop, &ctx->req, ctx->path, eddy__fs_poll_on_stat);
  if (err != 0) {
    eddy_fs_req_cleanup(&ctx->req);
    eddy__fs_poll_detach(ctx);
    return err;
  }
  ctx->stat_in_flight = 1;
  ctx->parent = handle;
  handle->priv.ctx = ctx;
  eddy__handle_start(&handle->handle);
  return 0;
}

int eddy_fs_poll_stop(eddy_fs_poll_t *handle) {
  struct eddy__fs_poll_ctx *ctx = handle->priv.ctx;

  if (ctx == NULL)
    return 0;
  assert(ctx->parent == handle);
  handle->priv.ctx = NULL;
  eddy__handle_stop(&handle->handle);
  eddy__fs_poll_detach(ctx);
  return 0;
}

int eddy_fs_poll_getpath(eddy_fs_poll_t *handle, char *buffer, size_t *size) {
  size_t len;

  if (handle == NULL || buffer == NULL || size == NULL)
    return EDDY_EINVAL;
  if (handle->priv.ctx == NULL) {
    *size = 0;
    return EDDY_EINVAL;
  }
  len = strlen(handle->priv.ctx->path);
  if (len >= *size) {
    *size = len + 1;
    return EDDY_ENOBUFS;
  }
  memcpy(buffer, handle->priv.ctx->path, len + 1);
  *size = len;
  return 0;
}

static void eddy__fs_poll_close(eddy_handle_t *h) {
  eddy_fs_poll_stop((eddy_fs_poll_t *)h);
}

const struct eddy__handle_ops eddy__fs_poll_ops = {
    .close = eddy__fs_poll_close,
};
