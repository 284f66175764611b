/* async.c: async handles.
 *
 * A send sets the handle's pending flag and, if it was the one to set it,
 * writes the loop's wake-up descriptor; the loop clears each flag and runs
 * the callback once, however many sends arrived: that is the coalescing.
 * The senders counter lets close wait out a send still touching the handle
 * on another thread, so memory freed after the close callback is never
 * touched again. */
#include <sched.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "core/wakeup.h"
#include "eddy/async.h"

static void eddy__async_wakeup(eddy_loop_t *loop, struct eddy__loop_part *part);

static const struct eddy__loop_part_ops eddy__async_part = {
    .name = "async", .order = EDDY__PART_ASYNC, .wakeup = eddy__async_wakeup};

int eddy_async_init(eddy_loop_t *loop, eddy_async_t *async,
                    eddy_async_cb cb) {
  int err = eddy__wakeup_open(loop);

  if (err != 0)
    return err;
  eddy__loop_part_add(loop, &loop->priv.async.part, &eddy__async_part);
  eddy__handle_init(loop, &async->handle, EDDY_ASYNC);
  async->priv.cb = cb;
  async->priv.pending = 0;
  async->priv.senders = 0;
  eddy__queue_insert_tail(&loop->priv.async.handles, &async->priv.node);
  eddy__handle_start(&async->handle);
  return 0;
}

int eddy_async_send(eddy_async_t *async) {
  /* Cheap check first: a pending handle needs nothing more. */
  if (__atomic_load_n(&async->priv.pending, __ATOMIC_RELAXED) != 0)
    return 0;
  __atomic_fetch_add(&async->priv.senders, 1, __ATOMIC_SEQ_CST);
  if (__atomic_exchange_n(&async->priv.pending, 1, __ATOMIC_SEQ_CST) == 0)
    eddy__wakeup_signal(async->handle.loop);
  __atomic_fetch_sub(&async->priv.senders, 1, __ATOMIC_SEQ_CST);
  return 0;
}

/* Run the callback of every async handle with a send pending. Callbacks may
 * close any async handle, so the list is walked through a snapshot. */
static void eddy__async_wakeup(eddy_loop_t *loop,
                               struct eddy__loop_part *part) {
  eddy_queue_t batch;
  eddy_queue_t *node;

  (void)part;
  eddy__queue_move(&loop->priv.async.handles, &batch);
  while ((node = eddy__queue_next_visit(&batch, &loop->priv.async.handles)) !=
         NULL) {
    eddy_async_t *async = eddy__container_of(node, eddy_async_t, priv.node);

    if (__atomic_exchange_n(&async->priv.pending, 0, __ATOMIC_SEQ_CST) == 0)
      continue;
    if (async->priv.cb != NULL) {
      async->priv.cb(async);
      eddy__after_callback(loop);
    }
  }
}

static void eddy__async_close(eddy_handle_t *h) {
  eddy_async_t *async = (eddy_async_t *)h;

  /* A sender on another thread may be between setting the flag and
   * writing the descriptor: let it finish before the handle can die. */
  while (__atomic_load_n(&async->priv.senders, __ATOMIC_SEQ_CST) != 0)
    sched_yield();
  eddy__queue_remove(&async->priv.node);
}

const struct eddy__handle_ops eddy__async_ops = {.close = eddy__async_close};
