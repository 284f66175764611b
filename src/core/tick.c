/* tick.c: the next-tick and microtask queues.
 *
 * Each queue is a ring of {cb, arg} with a power-of-two capacity that only
 * grows (amortised; no allocation per call once warm). Draining follows
 * Node's processTicksAndRejections: all ticks, then all microtasks, repeated
 * while ticks were queued meanwhile. */
#include <stdlib.h>
#include <string.h>

#include "core/loop_internal.h"
#include "core/phases.h"
#include "eddy/tick.h"

struct eddy_task {
  eddy_task_cb cb;
  void *arg;
};

static int eddy__ring_grow(struct eddy_task_ring *ring) {
  uint32_t cap = ring->cap != 0 ? ring->cap * 2 : 64;
  struct eddy_task *tasks;
  uint32_t first;

  if (ring->cap >= UINT32_MAX / 2)
    return EDDY_ENOMEM;
  tasks = malloc((size_t)cap * sizeof(*tasks));
  if (tasks == NULL)
    return EDDY_ENOMEM;
  /* Unroll the ring so the queued tasks start at index 0. */
  first = ring->cap - ring->head < ring->count ? ring->cap - ring->head
                                               : ring->count;
  if (ring->count != 0) {
    memcpy(tasks, ring->tasks + ring->head, first * sizeof(*tasks));
    memcpy(tasks + first, ring->tasks, (ring->count - first) * sizeof(*tasks));
  }
  free(ring->tasks);
  ring->tasks = tasks;
  ring->cap = cap;
  ring->head = 0;
  return 0;
}

static int eddy__ring_push(struct eddy_task_ring *ring, eddy_task_cb cb,
                           void *arg) {
  struct eddy_task *slot;

  if (cb == NULL)
    return EDDY_EINVAL;
  if (ring->count == ring->cap && eddy__ring_grow(ring) != 0)
    return EDDY_ENOMEM;
  slot = &ring->tasks[(ring->head + ring->count) & (ring->cap - 1)];
  slot->cb = cb;
  slot->arg = arg;
  ring->count++;
  return 0;
}

/* Run queued tasks until the ring is empty, including tasks they queue. */
static void eddy__ring_run(eddy_loop_t *loop, struct eddy_task_ring *ring) {
  while (ring->count != 0) {
    struct eddy_task task = ring->tasks[ring->head];
    ring->head = (ring->head + 1) & (ring->cap - 1);
    ring->count--;
    task.cb(loop, task.arg);
  }
}

int eddy_next_tick(eddy_loop_t *loop, eddy_task_cb cb, void *arg) {
  return eddy__ring_push(&loop->priv.ticks.ticks, cb, arg);
}

int eddy_queue_microtask(eddy_loop_t *loop, eddy_task_cb cb, void *arg) {
  return eddy__ring_push(&loop->priv.ticks.microtasks, cb, arg);
}

void eddy__drain_ticks_slow(eddy_loop_t *loop) {
  /* A task that calls eddy_drain_ticks() is already inside the drain. */
  if (loop->priv.ticks.draining)
    return;
  loop->priv.ticks.draining = 1;
  do {
    eddy__ring_run(loop, &loop->priv.ticks.ticks);
    eddy__ring_run(loop, &loop->priv.ticks.microtasks);
  } while (loop->priv.ticks.ticks.count != 0);
  loop->priv.ticks.draining = 0;
}

void eddy_drain_ticks(eddy_loop_t *loop) {
  eddy__after_callback(loop);
}

void eddy__tick_free(eddy_loop_t *loop) {
  free(loop->priv.ticks.ticks.tasks);
  free(loop->priv.ticks.microtasks.tasks);
  memset(&loop->priv.ticks.ticks, 0, sizeof(loop->priv.ticks.ticks));
  memset(&loop->priv.ticks.microtasks, 0, sizeof(loop->priv.ticks.microtasks));
}
