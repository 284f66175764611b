/* timer.c: timer handles on the loop's 4-ary min-heap.
 *
 * The heap is one array of slots {due, seq, timer}: the key lives beside the
 * pointer (as in libev), so sifting compares keys without touching the
 * timers, and a timer remembers its slot index so stop is O(log n). seq is a
 * 64-bit start counter that never wraps: it orders timers due in the same
 * millisecond by start order, and it lets the timers phase tell timers
 * started before the phase from those started during it. */
#include <limits.h>
#include <stdlib.h>

#include "eddy/timer.h"
#include "internal.h"

#define EDDY__HEAP_D 4

struct eddy_timer_slot {
  uint64_t due;
  uint64_t seq;
  eddy_timer_t *timer;
};

static inline int eddy__slot_less(const struct eddy_timer_slot *a,
                                  const struct eddy_timer_slot *b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static inline void eddy__slot_put(struct eddy_timer_slot *heap, uint32_t i,
                                  struct eddy_timer_slot s) {
  heap[i] = s;
  s.timer->priv.heap_index = i;
}

/* Move the hole at i up until s fits there. */
static void eddy__heap_sift_up(struct eddy_timer_slot *heap, uint32_t i,
                               struct eddy_timer_slot s) {
  while (i > 0) {
    uint32_t parent = (i - 1) / EDDY__HEAP_D;
    if (!eddy__slot_less(&s, &heap[parent]))
      break;
    eddy__slot_put(heap, i, heap[parent]);
    i = parent;
  }
  eddy__slot_put(heap, i, s);
}

/* Move the hole at i down until s fits there. */
static void eddy__heap_sift_down(struct eddy_timer_slot *heap, uint32_t n,
                                 uint32_t i, struct eddy_timer_slot s) {
  for (;;) {
    uint32_t first = i * EDDY__HEAP_D + 1;
    uint32_t end, best, k;

    if (first >= n)
      break;
    end = n - first > EDDY__HEAP_D ? first + EDDY__HEAP_D : n;
    best = first;
    for (k = first + 1; k < end; k++)
      if (eddy__slot_less(&heap[k], &heap[best]))
        best = k;
    if (!eddy__slot_less(&heap[best], &s))
      break;
    eddy__slot_put(heap, i, heap[best]);
    i = best;
  }
  eddy__slot_put(heap, i, s);
}

/* Take the slot at index i out of the heap. */
static void eddy__heap_remove(eddy_loop_t *loop, uint32_t i) {
  struct eddy_timer_slot *heap = loop->priv.timer_heap;
  uint32_t n = --loop->priv.timer_count;
  struct eddy_timer_slot last;

  assert(i <= n);
  if (i == n)
    return;
  last = heap[n];
  if (i > 0 && eddy__slot_less(&last, &heap[(i - 1) / EDDY__HEAP_D]))
    eddy__heap_sift_up(heap, i, last);
  else
    eddy__heap_sift_down(heap, n, i, last);
}

/* Make room for one more slot (amortised doubling). */
static int eddy__heap_reserve(eddy_loop_t *loop) {
  struct eddy_timer_slot *grown;
  uint32_t cap;

  if (loop->priv.timer_count < loop->priv.timer_cap)
    return 0;
  if (loop->priv.timer_cap >= UINT32_MAX / 2)
    return EDDY_ENOMEM;
  cap = loop->priv.timer_cap != 0 ? loop->priv.timer_cap * 2 : 64;
  grown = realloc(loop->priv.timer_heap, (size_t)cap * sizeof(*grown));
  if (grown == NULL)
    return EDDY_ENOMEM;
  loop->priv.timer_heap = grown;
  loop->priv.timer_cap = cap;
  return 0;
}

int eddy_timer_init(eddy_loop_t *loop, eddy_timer_t *timer) {
  eddy__handle_init(loop, &timer->handle, EDDY_TIMER);
  timer->priv.cb = NULL;
  timer->priv.repeat = 0;
  timer->priv.heap_index = 0;
  return 0;
}

int eddy_timer_start(eddy_timer_t *timer, eddy_timer_cb cb, uint64_t timeout,
                     uint64_t repeat) {
  eddy_loop_t *loop = timer->handle.loop;
  struct eddy_timer_slot slot;
  int err;

  if (cb == NULL || eddy__handle_closing(&timer->handle))
    return EDDY_EINVAL;
  eddy_timer_stop(timer);
  err = eddy__heap_reserve(loop);
  if (err != 0)
    return err;
  slot.due = loop->priv.time + timeout;
  if (slot.due < loop->priv.time)
    slot.due = UINT64_MAX;
  slot.seq = loop->priv.timer_seq++;
  slot.timer = timer;
  timer->priv.cb = cb;
  timer->priv.repeat = repeat;
  eddy__heap_sift_up(loop->priv.timer_heap, loop->priv.timer_count++, slot);
  eddy__handle_start(&timer->handle);
  return 0;
}

int eddy_timer_stop(eddy_timer_t *timer) {
  if (!eddy__handle_active(&timer->handle))
    return 0;
  assert(timer->handle.loop->priv.timer_heap[timer->priv.heap_index].timer ==
         timer);
  eddy__heap_remove(timer->handle.loop, timer->priv.heap_index);
  eddy__handle_stop(&timer->handle);
  return 0;
}

int eddy_timer_again(eddy_timer_t *timer) {
  if (timer->priv.cb == NULL)
    return EDDY_EINVAL;
  if (timer->priv.repeat == 0)
    return 0;
  return eddy_timer_start(timer, timer->priv.cb, timer->priv.repeat,
                          timer->priv.repeat);
}

void eddy_timer_set_repeat(eddy_timer_t *timer, uint64_t repeat) {
  timer->priv.repeat = repeat;
}

uint64_t eddy_timer_get_repeat(const eddy_timer_t *timer) {
  return timer->priv.repeat;
}

uint64_t eddy_timer_get_due_in(const eddy_timer_t *timer) {
  const eddy_loop_t *loop = timer->handle.loop;
  uint64_t due;

  if (!eddy__handle_active(&timer->handle))
    return 0;
  due = loop->priv.timer_heap[timer->priv.heap_index].due;
  return due > loop->priv.time ? due - loop->priv.time : 0;
}

void eddy__timer_close(eddy_handle_t *h) {
  eddy_timer_stop((eddy_timer_t *)h);
}

/* The timers phase: run every timer due by the cached time that was started
 * before the phase began, in (due, seq) order. A timer started (or
 * restarted) by a callback gets a seq at or above the limit and waits for
 * the next timers phase; since it is due no earlier than now, every older
 * due timer sorts before it, so meeting one at the top ends the phase. */
void eddy__run_timers(eddy_loop_t *loop) {
  uint64_t limit = loop->priv.timer_seq;

  while (loop->priv.timer_count != 0) {
    struct eddy_timer_slot *top = &loop->priv.timer_heap[0];
    eddy_timer_t *timer = top->timer;

    if (top->due > loop->priv.time || top->seq >= limit)
      break;
    eddy__heap_remove(loop, 0);
    eddy__handle_stop(&timer->handle);
    /* Re-arm from the callback's start; cannot fail: a slot was just freed. */
    if (timer->priv.repeat != 0)
      eddy_timer_start(timer, timer->priv.cb, timer->priv.repeat,
                       timer->priv.repeat);
    timer->priv.cb(timer);
    eddy__after_callback(loop);
  }
}

int eddy__next_timeout(const eddy_loop_t *loop) {
  uint64_t due, diff;

  if (loop->priv.timer_count == 0)
    return -1;
  due = loop->priv.timer_heap[0].due;
  if (due <= loop->priv.time)
    return 0;
  diff = due - loop->priv.time;
  return diff > INT_MAX ? INT_MAX : (int)diff;
}
