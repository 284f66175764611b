/* loopwatch.c: idle, prepare and check handles.
 *
 * The three types differ only in their phase list and callback type. The
 * list work is generic over (handle, node); only setting and calling the
 * typed callback is per type. */
#include <stddef.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "core/phases.h"
#include "eddy/loopwatch.h"

/* The generic code finds the handle from its list node with one offset. */
_Static_assert(offsetof(eddy_idle_t, priv.node) ==
                       offsetof(eddy_prepare_t, priv.node) &&
                   offsetof(eddy_idle_t, priv.node) ==
                       offsetof(eddy_check_t, priv.node),
               "loop watchers must keep their list node at one offset");

static eddy_queue_t *eddy__phase_list(eddy_handle_t *h) {
  switch ((eddy_handle_type)h->priv.type) {
  case EDDY_IDLE:
    return &h->loop->priv.watchers.idle;
  case EDDY_PREPARE:
    return &h->loop->priv.watchers.prepare;
  default:
    assert(h->priv.type == EDDY_CHECK);
    return &h->loop->priv.watchers.check;
  }
}

static int eddy__watcher_start(eddy_handle_t *h, eddy_queue_t *node) {
  if (eddy__handle_active(h))
    return 0;
  eddy__queue_insert_tail(eddy__phase_list(h), node);
  eddy__handle_start(h);
  return 0;
}

static int eddy__watcher_stop(eddy_handle_t *h, eddy_queue_t *node) {
  if (!eddy__handle_active(h))
    return 0;
  eddy__queue_remove(node);
  eddy__handle_stop(h);
  return 0;
}

static void eddy__watcher_call(eddy_handle_t *h) {
  eddy__metrics_running(h->loop, h->priv.type,
                        (const void *)((eddy_idle_t *)h)->priv.cb);
  switch ((eddy_handle_type)h->priv.type) {
  case EDDY_IDLE:
    ((eddy_idle_t *)h)->priv.cb((eddy_idle_t *)h);
    break;
  case EDDY_PREPARE:
    ((eddy_prepare_t *)h)->priv.cb((eddy_prepare_t *)h);
    break;
  default:
    ((eddy_check_t *)h)->priv.cb((eddy_check_t *)h);
    break;
  }
}

/* Run one phase: each handle active when the phase began, in start order.
 * A handle started by a callback waits for the next iteration. */
static void eddy__run_phase(eddy_loop_t *loop, eddy_queue_t *list) {
  eddy_queue_t batch;
  eddy_queue_t *node;
  eddy_idle_t *w;

  eddy__queue_move(list, &batch);
  while ((node = eddy__queue_next_visit(&batch, list)) != NULL) {
    w = eddy__container_of(node, eddy_idle_t, priv.node);
    eddy__watcher_call(&w->handle);
    eddy__after_callback(loop);
  }
}

void eddy__run_idle(eddy_loop_t *loop) {
  eddy__run_phase(loop, &loop->priv.watchers.idle);
}

void eddy__run_prepare(eddy_loop_t *loop) {
  eddy__run_phase(loop, &loop->priv.watchers.prepare);
}

void eddy__run_check(eddy_loop_t *loop) {
  eddy__run_phase(loop, &loop->priv.watchers.check);
}

static void eddy__loopwatch_close(eddy_handle_t *h) {
  eddy__watcher_stop(h, &((eddy_idle_t *)h)->priv.node);
}

/* The typed public functions: the same three bodies per type. */
#define EDDY__WATCHER_API(name, type, cb_type, kind)                        \
  int eddy_##name##_init(eddy_loop_t *loop, type *w) {                      \
    eddy__handle_init(loop, &w->handle, kind);                              \
    w->priv.cb = NULL;                                                      \
    eddy__queue_init(&w->priv.node);                                        \
    return 0;                                                               \
  }                                                                         \
  int eddy_##name##_start(type *w, cb_type cb) {                            \
    if (cb == NULL || eddy__handle_closing(&w->handle))                     \
      return EDDY_EINVAL;                                                   \
    w->priv.cb = cb;                                                        \
    return eddy__watcher_start(&w->handle, &w->priv.node);                  \
  }                                                                         \
  int eddy_##name##_stop(type *w) {                                         \
    return eddy__watcher_stop(&w->handle, &w->priv.node);                   \
  }

EDDY__WATCHER_API(idle, eddy_idle_t, eddy_idle_cb, EDDY_IDLE)
EDDY__WATCHER_API(prepare, eddy_prepare_t, eddy_prepare_cb, EDDY_PREPARE)
EDDY__WATCHER_API(check, eddy_check_t, eddy_check_cb, EDDY_CHECK)

const struct eddy__handle_ops eddy__idle_ops = {.close = eddy__loopwatch_close};
const struct eddy__handle_ops eddy__prepare_ops = {.close =
                                                       eddy__loopwatch_close};
const struct eddy__handle_ops eddy__check_ops = {.close =
                                                     eddy__loopwatch_close};
