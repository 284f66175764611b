/* handle.h: the bookkeeping every handle and request type shares, and the
 * table through which the loop asks a handle type what only it knows.
 *
 * Each type keeps its row (struct eddy__handle_ops) in its own source file,
 * named eddy__<name>_ops after its entry in EDDY_HANDLE_TYPE_MAP
 * (include/eddy/loop.h); src/handles.c gathers the rows into the table. So
 * the loop names no handle type, and a new type is its own files plus one
 * line in that map. */
#ifndef EDDY_CORE_HANDLE_H
#define EDDY_CORE_HANDLE_H

#include <assert.h>
#include <stddef.h>

#include "core/queue.h"
#include "eddy/loop.h"

/* eddy_handle_t.priv.flags */
enum {
  EDDY__HANDLE_ACTIVE = 1 << 0,
  EDDY__HANDLE_REF = 1 << 1,
  EDDY__HANDLE_CLOSING = 1 << 2,
  EDDY__HANDLE_WALKED = 1 << 3,  /* visited by the running eddy_walk */
  EDDY__HANDLE_INTERNAL = 1 << 4 /* the library's own: eddy_walk skips it */
};

struct eddy_stream_s;

/* What the loop asks of a handle type. */
struct eddy__handle_ops {
  /* eddy_close(): stop the handle and release what it holds, before it is
   * queued for its close callback. */
  void (*close)(eddy_handle_t *h);
  /* Close phase, just before the close callback (NULL: nothing to do):
   * callbacks of requests the handle still had, with EDDY_ECANCELED. */
  void (*finish_close)(eddy_handle_t *h);
  /* eddy_listen() on a stream of this type (NULL: the type cannot
   * listen). */
  int (*listen)(struct eddy_stream_s *s, int backlog,
                void (*cb)(struct eddy_stream_s *server, int status));
  /* eddy_fileno(): the descriptor, -1 if none yet (NULL: the type has no
   * descriptor of its own). */
  int (*fileno)(const eddy_handle_t *h);
};

/* Indexed by eddy_handle_type (src/handles.c). */
extern const struct eddy__handle_ops
    *const eddy__handle_ops[EDDY_HANDLE_TYPE_MAX];

static inline const struct eddy__handle_ops *
eddy__handle_ops_of(const eddy_handle_t *h) {
  assert(h->priv.type > EDDY_UNKNOWN_HANDLE &&
         h->priv.type < EDDY_HANDLE_TYPE_MAX &&
         eddy__handle_ops[h->priv.type] != NULL);
  return eddy__handle_ops[h->priv.type];
}

/* Handle lifecycle. Inline: timers are initialised by the million. Timers
 * use eddy__handle_setup alone (they are not on the open-handle list). */
static inline void eddy__handle_setup(eddy_loop_t *loop, eddy_handle_t *h,
                                      eddy_handle_type type) {
  h->loop = loop;
  h->priv.close_cb = NULL;
  h->priv.type = (uint16_t)type;
  h->priv.flags = EDDY__HANDLE_REF;
}

static inline void eddy__handle_init(eddy_loop_t *loop, eddy_handle_t *h,
                                     eddy_handle_type type) {
  eddy__handle_setup(loop, h, type);
  eddy__queue_insert_tail(&loop->priv.core.handles, &h->priv.u.node);
}

static inline int eddy__handle_active(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_ACTIVE) != 0;
}

static inline int eddy__handle_closing(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_CLOSING) != 0;
}

/* Active handles by type, for eddy_metrics_loop (any thread reads them):
 * one plain atomic store, no locked add, since only the loop writes. */
static inline void eddy__handle_count_active(eddy_handle_t *h, int delta) {
  unsigned *n = &h->loop->priv.metrics.active[h->priv.type];

  __atomic_store_n(n, __atomic_load_n(n, __ATOMIC_RELAXED) + (unsigned)delta,
                   __ATOMIC_RELAXED);
}

/* Mark active / inactive, keeping the loop's count of referenced active
 * handles (its liveness) in step. Idempotent. A closing handle is never
 * started again. */
static inline void eddy__handle_start(eddy_handle_t *h) {
  assert(!(h->priv.flags & EDDY__HANDLE_CLOSING));
  if (h->priv.flags & EDDY__HANDLE_ACTIVE)
    return;
  h->priv.flags |= EDDY__HANDLE_ACTIVE;
  eddy__handle_count_active(h, 1);
  if (h->priv.flags & EDDY__HANDLE_REF)
    h->loop->priv.core.active_handles++;
}

static inline void eddy__handle_stop(eddy_handle_t *h) {
  if (!(h->priv.flags & EDDY__HANDLE_ACTIVE))
    return;
  h->priv.flags &= ~EDDY__HANDLE_ACTIVE;
  eddy__handle_count_active(h, -1);
  if (h->priv.flags & EDDY__HANDLE_REF) {
    assert(h->loop->priv.core.active_handles > 0);
    h->loop->priv.core.active_handles--;
  }
}

/* Every request start: its type, and no pool job yet (the pool sets one
 * while the request is on it). */
static inline void eddy__req_init(eddy_req_t *req, eddy_req_type type) {
  req->type = type;
  req->priv.work = NULL;
}

/* Requests in flight keep the loop alive. Pool jobs may be queued from a
 * pool thread, so the count is atomic. */
/* With metrics on, they are also counted by type (eddy_metrics_loop);
 * the counts are signed, since a request in flight when metrics were
 * enabled is uncounted when it ends. Stream and UDP requests start and
 * end on the loop's thread only: a plain store (the type is a constant
 * at every call, so the test folds away); pool requests may start on a
 * pool thread: a locked add. */
static inline void eddy__req_count(eddy_loop_t *loop, eddy_req_type type,
                                   int delta) {
  int *n = &loop->priv.metrics.reqs[type];

  if (__atomic_load_n(&loop->priv.metrics.state, __ATOMIC_RELAXED) == NULL)
    return;
  if (type == EDDY_WRITE || type == EDDY_CONNECT || type == EDDY_SHUTDOWN ||
      type == EDDY_UDP_SEND)
    __atomic_store_n(n, __atomic_load_n(n, __ATOMIC_RELAXED) + delta,
                     __ATOMIC_RELAXED);
  else
    __atomic_fetch_add(n, delta, __ATOMIC_RELAXED);
}
static inline void eddy__req_register(eddy_loop_t *loop, eddy_req_type type) {
  __atomic_fetch_add(&loop->priv.core.active_reqs, 1, __ATOMIC_RELAXED);
  eddy__req_count(loop, type, 1);
}
static inline void eddy__req_unregister(eddy_loop_t *loop,
                                        eddy_req_type type) {
  assert(__atomic_load_n(&loop->priv.core.active_reqs, __ATOMIC_RELAXED) > 0);
  __atomic_fetch_sub(&loop->priv.core.active_reqs, 1, __ATOMIC_RELAXED);
  eddy__req_count(loop, type, -1);
}
static inline unsigned eddy__reqs_active(const eddy_loop_t *loop) {
  return __atomic_load_n(&loop->priv.core.active_reqs, __ATOMIC_RELAXED);
}

#endif /* EDDY_CORE_HANDLE_H */
