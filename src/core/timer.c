/* timer.c: timer handles on the loop's 4-ary min-heap.
 *
 * The heap is one array of 16-byte slots {key, timer}. The key packs the
 * due time (ms since the loop was initialised, 40 bits) above a start
 * sequence number (24 bits), so one integer compare orders timers by due
 * time and then by start order, and sifting never touches the timers
 * themselves except to record a moved timer's new index (as in libev).
 * When the sequence runs out, the live timers are renumbered in order
 * (rarely: once per 16.7 million starts).
 *
 * Timers started during the timers phase are not put in the heap at once:
 * they wait in the same array just past the heap (the "deferred" slots) and
 * are sifted in when the phase ends. So the phase runs exactly the timers
 * that were due and in the heap when it began, and a 0 ms timer started by
 * a callback runs in the next iteration, as libuv >= 1.48 and Node do.
 *
 * Open timers that are not started ("parked") fill the rest of the array,
 * after the deferred slots: every open timer owns one slot from init to
 * close. That is how the loop finds its timers (eddy_walk, eddy_loop_close)
 * without putting them on the open-handle list, whose node a timer reuses
 * for its callback and repeat: a timer is 48 bytes. The three regions move
 * by swapping slots at their borders, so stop, start and close stay O(1)
 * besides the heap's own O(log n).
 *
 *   [ heap: count | deferred | parked ] ... cap */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "core/phases.h"
#include "eddy/timer.h"

#define EDDY__HEAP_D 4
#define EDDY__SEQ_BITS EDDY__TIMER_SEQ_BITS
#define EDDY__SEQ_LIMIT ((uint64_t)1 << EDDY__SEQ_BITS)
#define EDDY__DUE_MAX (((uint64_t)1 << (64 - EDDY__SEQ_BITS)) - 1)

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(eddy_timer_t) == 48, "a timer is its handle header");
#endif

struct eddy_timer_slot {
  uint64_t key; /* due << SEQ_BITS | seq */
  eddy_timer_t *timer;
};

static inline uint64_t eddy__slot_due(const struct eddy_timer_slot *s) {
  return s->key >> EDDY__SEQ_BITS;
}

static inline void eddy__slot_put(struct eddy_timer_slot *heap, uint32_t i,
                                  struct eddy_timer_slot s) {
  heap[i] = s;
  s.timer->handle.priv.index = i;
}

/* Move the hole at i up until s fits there. */
static void eddy__heap_sift_up(struct eddy_timer_slot *heap, uint32_t i,
                               struct eddy_timer_slot s) {
  while (i > 0) {
    uint32_t parent = (i - 1) / EDDY__HEAP_D;
    if (s.key >= heap[parent].key)
      break;
    eddy__slot_put(heap, i, heap[parent]);
    i = parent;
  }
  eddy__slot_put(heap, i, s);
}

/* The smallest child of i, or n if i has none. A slot with all four
 * children (nearly all of them in a big heap) takes the branch-free
 * tournament: two pairs, then their winners. */
static inline uint32_t eddy__heap_min_child(const struct eddy_timer_slot *heap,
                                            uint32_t n, uint32_t i) {
  uint32_t first = i * EDDY__HEAP_D + 1;
  uint32_t best, k;

  if (first + EDDY__HEAP_D <= n) {
    const struct eddy_timer_slot *c = heap + first;
    uint64_t k01 = c[1].key < c[0].key ? c[1].key : c[0].key;
    uint64_t k23 = c[3].key < c[2].key ? c[3].key : c[2].key;
    uint32_t i01 = c[1].key < c[0].key ? 1 : 0;
    uint32_t i23 = c[3].key < c[2].key ? 3 : 2;
    return first + (k23 < k01 ? i23 : i01);
  }
  if (first >= n)
    return n;
  best = first;
  for (k = first + 1; k < n; k++)
    if (heap[k].key < heap[best].key)
      best = k;
  return best;
}

/* Move the hole at i down until s fits there. */
static void eddy__heap_sift_down(struct eddy_timer_slot *heap, uint32_t n,
                                 uint32_t i, struct eddy_timer_slot s) {
  for (;;) {
    uint32_t best = eddy__heap_min_child(heap, n, i);
    if (best == n || heap[best].key >= s.key)
      break;
    eddy__slot_put(heap, i, heap[best]);
    i = best;
  }
  eddy__slot_put(heap, i, s);
}

/* The deferred slots sit just past the heap; keep them there when the heap
 * shrinks by one (the slot at the old heap end is now free). Afterwards
 * the free slot is the one just before the parked region. */
static void eddy__deferred_shift_down(eddy_loop_t *loop) {
  uint32_t n = loop->priv.timers.count;
  uint32_t d = loop->priv.timers.deferred;

  if (d != 0)
    eddy__slot_put(loop->priv.timers.heap, n, loop->priv.timers.heap[n + d]);
}

/* Take the heap slot at index i out of the heap. */
static void eddy__heap_remove(eddy_loop_t *loop, uint32_t i) {
  struct eddy_timer_slot *heap = loop->priv.timers.heap;
  uint32_t n = --loop->priv.timers.count;
  struct eddy_timer_slot last;

  assert(i <= n);
  if (i != n) {
    last = heap[n];
    if (i > 0 && last.key < heap[(i - 1) / EDDY__HEAP_D].key)
      eddy__heap_sift_up(heap, i, last);
    else
      eddy__heap_sift_down(heap, n, i, last);
  }
  eddy__deferred_shift_down(loop);
}

/* Take the minimum out of the heap. The replacement (the last slot) almost
 * always belongs near the bottom, so the hole is first walked all the way
 * down along the smaller children, then the last slot is sifted up from
 * there: one compare per level fewer than a plain sift-down. */
static void eddy__heap_pop(eddy_loop_t *loop) {
  struct eddy_timer_slot *heap = loop->priv.timers.heap;
  uint32_t n = --loop->priv.timers.count;
  uint32_t hole = 0, child;

  if (n != 0) {
    while ((child = eddy__heap_min_child(heap, n, hole)) != n) {
      eddy__slot_put(heap, hole, heap[child]);
      hole = child;
    }
    eddy__heap_sift_up(heap, hole, heap[n]);
  }
  eddy__deferred_shift_down(loop);
}

/* Take a deferred slot out (swap with the last deferred one). */
static void eddy__deferred_remove(eddy_loop_t *loop, uint32_t i) {
  uint32_t last = loop->priv.timers.count + --loop->priv.timers.deferred;

  assert(i >= loop->priv.timers.count && i <= last);
  if (i != last)
    eddy__slot_put(loop->priv.timers.heap, i, loop->priv.timers.heap[last]);
}

/* Put a timer that just left the heap or the deferred slots at the front
 * of the parked region (the slot its removal freed). */
static void eddy__park(eddy_loop_t *loop, eddy_timer_t *timer) {
  struct eddy_timer_slot slot;

  slot.key = 0;
  slot.timer = timer;
  eddy__slot_put(loop->priv.timers.heap,
                 loop->priv.timers.count + loop->priv.timers.deferred, slot);
}

/* Take a parked timer out of the parked region, whose front is slot front:
 * the slot there moves to the timer's place, leaving front free for it. */
static inline void eddy__unpark(struct eddy_timer_slot *heap, uint32_t front,
                                eddy_timer_t *timer) {
  uint32_t i = timer->handle.priv.index;

  assert(heap[i].timer == timer && i >= front);
  if (i != front) {
    struct eddy_timer_slot moved = heap[front];
    eddy__slot_put(heap, i, moved);
  }
}

/* Sift every deferred slot into the heap (in start order, so ties keep
 * their order whatever the array held). */
static void eddy__deferred_flush(eddy_loop_t *loop) {
  struct eddy_timer_slot *heap = loop->priv.timers.heap;

  while (loop->priv.timers.deferred != 0) {
    uint32_t n = loop->priv.timers.count++;
    loop->priv.timers.deferred--;
    eddy__heap_sift_up(heap, n, heap[n]);
  }
}

/* The heap array's storage. Two things make sifting through millions of
 * timers cheaper than a plain realloc'd array would:
 *
 * - Cache lines. The root sits EDDY__HEAP_PAD slots past a 64-byte
 *   boundary, so the four children of any slot (4i+1 .. 4i+4) fill exactly
 *   one cache line: a sift touches one line per level, not two.
 * - Pages. Where there are madvise(MADV_HUGEPAGE) and mremap (Linux), an
 *   array of EDDY__HEAP_HUGE_MIN bytes or more is its own mapping, aligned
 *   to 2 MiB and advised for transparent huge pages: a growing heap then
 *   takes one page fault per 2 MiB instead of one per 4 KiB, and a sift
 *   misses the TLB far less. It grows with mremap (no copy); smaller
 *   arrays, and all of them elsewhere, grow by copying (doubling keeps the
 *   copies together under the final size).
 *
 * Which of the two allocators holds an array depends only on its capacity,
 * so eddy__heap_release knows how to give it back. */
#define EDDY__HEAP_PAD 3
#define EDDY__HEAP_HUGE ((size_t)2 << 20)
#if defined(MADV_HUGEPAGE) && defined(MREMAP_MAYMOVE)
#define EDDY__HEAP_CAN_MAP 1
#define EDDY__HEAP_HUGE_MIN EDDY__HEAP_HUGE
#else
#define EDDY__HEAP_CAN_MAP 0
#define EDDY__HEAP_HUGE_MIN SIZE_MAX /* every array from posix_memalign */
#endif

static int eddy__heap_is_mapped(size_t bytes) {
  return bytes >= EDDY__HEAP_HUGE_MIN;
}

static size_t eddy__heap_bytes(uint32_t cap) {
  size_t bytes = ((size_t)cap + EDDY__HEAP_PAD) * sizeof(struct eddy_timer_slot);

  if (eddy__heap_is_mapped(bytes)) /* whole huge pages */
    bytes = (bytes + EDDY__HEAP_HUGE - 1) & ~(EDDY__HEAP_HUGE - 1);
  return bytes;
}

/* A mapping of bytes on a 2 MiB boundary, advised for huge pages, or NULL. */
static void *eddy__heap_map(size_t bytes) {
#if EDDY__HEAP_CAN_MAP
  size_t len = bytes + EDDY__HEAP_HUGE;
  char *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *start, *end;

  if (map == MAP_FAILED)
    return NULL;
  start = (char *)(((uintptr_t)map + EDDY__HEAP_HUGE - 1) &
                   ~(uintptr_t)(EDDY__HEAP_HUGE - 1));
  end = start + bytes;
  if (start != map)
    munmap(map, (size_t)(start - map));
  if (end != map + len)
    munmap(end, (size_t)(map + len - end));
  (void)madvise(start, bytes, MADV_HUGEPAGE); /* advice only */
  return start;
#else
  (void)bytes;
  return NULL;
#endif
}

/* bytes from eddy__heap_bytes; returns the first slot (the root), or NULL. */
static struct eddy_timer_slot *eddy__heap_acquire(size_t bytes) {
  void *base;

  if (eddy__heap_is_mapped(bytes))
    base = eddy__heap_map(bytes);
  else if (posix_memalign(&base, 64, bytes) != 0)
    base = NULL;
  return base != NULL ? (struct eddy_timer_slot *)base + EDDY__HEAP_PAD
                      : NULL;
}

static void eddy__heap_release(struct eddy_timer_slot *heap, uint32_t cap) {
  size_t bytes = eddy__heap_bytes(cap);
  void *base;

  if (heap == NULL)
    return;
  base = heap - EDDY__HEAP_PAD;
  if (eddy__heap_is_mapped(bytes))
    munmap(base, bytes);
  else
    free(base);
}

/* Grow a mapped array in place or by moving its pages (Linux mremap: no
 * copy). NULL when the array is not mapped yet or mremap fails: the caller
 * copies instead. A moved array stays page aligned, so the cache-line
 * layout holds; Linux places moved mappings of 2 MiB and more on a 2 MiB
 * boundary, so the huge pages move along. */
static struct eddy_timer_slot *eddy__heap_remap(struct eddy_timer_slot *heap,
                                                uint32_t old_cap,
                                                uint32_t cap) {
#if EDDY__HEAP_CAN_MAP
  size_t old_bytes = eddy__heap_bytes(old_cap), bytes = eddy__heap_bytes(cap);
  void *base;

  if (heap == NULL || !eddy__heap_is_mapped(old_bytes))
    return NULL;
  base = mremap(heap - EDDY__HEAP_PAD, old_bytes, bytes, MREMAP_MAYMOVE);
  if (base == MAP_FAILED)
    return NULL;
  (void)madvise(base, bytes, MADV_HUGEPAGE); /* advice only */
  return (struct eddy_timer_slot *)base + EDDY__HEAP_PAD;
#else
  (void)heap;
  (void)old_cap;
  (void)cap;
  return NULL;
#endif
}

/* Double the array (out of line: the common init only checks the room). */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int eddy__heap_grow(eddy_loop_t *loop, uint32_t used) {
  struct eddy_timer_slot *grown;
  uint32_t cap;

  if (loop->priv.timers.cap >= UINT32_MAX / 2)
    return EDDY_ENOMEM;
  cap = loop->priv.timers.cap != 0 ? loop->priv.timers.cap * 2 : 64;
  grown = eddy__heap_remap(loop->priv.timers.heap, loop->priv.timers.cap, cap);
  if (grown == NULL) {
    grown = eddy__heap_acquire(eddy__heap_bytes(cap));
    if (grown == NULL)
      return EDDY_ENOMEM;
    if (used != 0)
      memcpy(grown, loop->priv.timers.heap, (size_t)used * sizeof(*grown));
    eddy__heap_release(loop->priv.timers.heap, loop->priv.timers.cap);
  }
  loop->priv.timers.heap = grown;
  loop->priv.timers.cap = cap;
  return 0;
}

/* Make room for one more slot (amortised doubling). */
static inline int eddy__heap_reserve(eddy_loop_t *loop) {
  uint32_t used = loop->priv.timers.open;

  return used < loop->priv.timers.cap ? 0 : eddy__heap_grow(loop, used);
}

void eddy__timer_loop_close(eddy_loop_t *loop) {
  eddy__heap_release(loop->priv.timers.heap, loop->priv.timers.cap);
  loop->priv.timers.heap = NULL;
  loop->priv.timers.cap = 0;
}

static int eddy__slot_order(const void *a, const void *b) {
  uint64_t ka = ((const struct eddy_timer_slot *)a)->key;
  uint64_t kb = ((const struct eddy_timer_slot *)b)->key;
  return ka < kb ? -1 : ka > kb;
}

/* The sequence ran out: give every live timer a new, small sequence number
 * that keeps its order among timers due at the same time. A sorted array is
 * a valid heap, so sorting the heap region in place keeps it a heap.
 * Deferred timers were started after every heap timer, so they are
 * numbered after all of them. If more than 2^24 live timers share one due
 * time (never in practice), the excess share the last number and their
 * relative order is unspecified. */
void eddy__timer_renumber(eddy_loop_t *loop) {
  struct eddy_timer_slot *heap = loop->priv.timers.heap;
  uint32_t n = loop->priv.timers.count;
  uint32_t total = n + loop->priv.timers.deferred;
  uint64_t next = 0, rank = 0, prev_due = UINT64_MAX;
  uint32_t i;

  qsort(heap, n, sizeof(*heap), eddy__slot_order);
  qsort(heap + n, total - n, sizeof(*heap), eddy__slot_order);
  for (i = 0; i < total; i++) {
    uint64_t due = eddy__slot_due(&heap[i]);
    if (i < n) {
      rank = due == prev_due ? rank + 1 : 0;
      prev_due = due;
      if (rank + 1 > next)
        next = rank + 1;
    } else {
      rank = next++;
    }
    if (rank >= EDDY__SEQ_LIMIT)
      rank = EDDY__SEQ_LIMIT - 1;
    heap[i].key = due << EDDY__SEQ_BITS | rank;
    heap[i].timer->handle.priv.index = i;
  }
  loop->priv.timers.seq = next < EDDY__SEQ_LIMIT ? next : EDDY__SEQ_LIMIT - 1;
}

int eddy_timer_init(eddy_loop_t *loop, eddy_timer_t *timer) {
  struct eddy_timer_slot slot;
  int err = eddy__heap_reserve(loop);

  if (err != 0)
    return err;
  eddy__handle_setup(loop, &timer->handle, EDDY_TIMER);
  timer->handle.priv.u.timer.cb = NULL;
  timer->handle.priv.u.timer.repeat = 0;
  slot.key = 0;
  slot.timer = timer;
  eddy__slot_put(loop->priv.timers.heap, loop->priv.timers.open++, slot);
  return 0;
}

/* Start a parked timer (the sequence has room): no calls but a rare sift,
 * so the common start needs no stack frame. */
static inline void eddy__timer_arm(eddy_timer_t *timer, eddy_timer_cb cb,
                                   uint64_t timeout, uint64_t repeat,
                                   uint64_t from) {
  eddy_handle_t *h = &timer->handle;
  eddy_loop_t *loop = h->loop;
  struct eddy_timer_slot *heap;
  struct eddy_timer_slot slot;
  uint64_t now, due;
  uint32_t front;
  int phase;

  /* In this order, so that few values are live at once (no stack frame):
   * the loop fields are read before the stores into the timer and the
   * array, which could alias them as far as the compiler knows. */
  h->priv.u.timer.cb = cb;
  h->priv.u.timer.repeat = repeat;
  now = from - loop->priv.timers.base;
  due = timeout > EDDY__DUE_MAX - now ? EDDY__DUE_MAX : now + timeout;
  slot.key = due << EDDY__SEQ_BITS | loop->priv.timers.seq++;
  slot.timer = timer;
  front = loop->priv.timers.count + loop->priv.timers.deferred;
  phase = loop->priv.timers.phase;
  if (phase)
    loop->priv.timers.deferred++; /* sifted in when the phase ends */
  else
    loop->priv.timers.count++; /* no deferred slots outside the phase */
  eddy__handle_start(h);
  heap = loop->priv.timers.heap;
  /* The timer leaves the parked region: the parked slot at its front takes
   * the timer's old place, and the front becomes the timer's. */
  eddy__unpark(heap, front, timer);
  /* Most starts belong at the bottom (due no earlier than the parent's):
   * test that here instead of calling the sift. */
  if (phase || front == 0 || slot.key >= heap[(front - 1) / EDDY__HEAP_D].key)
    eddy__slot_put(heap, front, slot);
  else
    eddy__heap_sift_up(heap, front, slot);
}

/* A restart of an active timer, or a start that needs the sequence
 * renumbered first. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int
eddy__timer_restart(eddy_timer_t *timer, eddy_timer_cb cb, uint64_t timeout,
                    uint64_t repeat, uint64_t from) {
  if (eddy__handle_active(&timer->handle))
    eddy_timer_stop(timer);
  if (timer->handle.loop->priv.timers.seq >= EDDY__SEQ_LIMIT)
    eddy__timer_renumber(timer->handle.loop);
  eddy__timer_arm(timer, cb, timeout, repeat, from);
  return 0;
}

int eddy_timer_start(eddy_timer_t *timer, eddy_timer_cb cb, uint64_t timeout,
                     uint64_t repeat) {
  if (cb == NULL || eddy__handle_closing(&timer->handle))
    return EDDY_EINVAL;
  if (eddy__handle_active(&timer->handle) ||
      timer->handle.loop->priv.timers.seq >= EDDY__SEQ_LIMIT)
    return eddy__timer_restart(timer, cb, timeout, repeat,
                               timer->handle.loop->priv.core.time);
  eddy__timer_arm(timer, cb, timeout, repeat,
                  timer->handle.loop->priv.core.time);
  return 0;
}

int eddy__timer_start_from(eddy_timer_t *timer, eddy_timer_cb cb,
                           uint64_t timeout, uint64_t now) {
  eddy_loop_t *loop = timer->handle.loop;

  assert(cb != NULL && !eddy__handle_closing(&timer->handle));
  /* Never earlier than the loop's own clock says (the heap is relative to
   * the loop's start). */
  if (now < loop->priv.timers.base)
    now = loop->priv.timers.base;
  return eddy__timer_restart(timer, cb, timeout, 0, now);
}

int eddy_timer_stop(eddy_timer_t *timer) {
  eddy_loop_t *loop = timer->handle.loop;
  uint32_t i = timer->handle.priv.index;

  if (!eddy__handle_active(&timer->handle))
    return 0;
  assert(loop->priv.timers.heap[i].timer == timer);
  if (i < loop->priv.timers.count)
    eddy__heap_remove(loop, i);
  else
    eddy__deferred_remove(loop, i);
  eddy__park(loop, timer);
  eddy__handle_stop(&timer->handle);
  return 0;
}

int eddy_timer_again(eddy_timer_t *timer) {
  uint64_t repeat = timer->handle.priv.u.timer.repeat;

  if (eddy__handle_closing(&timer->handle) ||
      timer->handle.priv.u.timer.cb == NULL)
    return EDDY_EINVAL;
  if (repeat == 0)
    return 0;
  return eddy_timer_start(timer, timer->handle.priv.u.timer.cb, repeat,
                          repeat);
}

/* A closing timer's repeat is gone (its bytes hold the closing-list link):
 * setting it is ignored and reading it gives 0. */
void eddy_timer_set_repeat(eddy_timer_t *timer, uint64_t repeat) {
  if (!eddy__handle_closing(&timer->handle))
    timer->handle.priv.u.timer.repeat = repeat;
}

uint64_t eddy_timer_get_repeat(const eddy_timer_t *timer) {
  if (eddy__handle_closing(&timer->handle))
    return 0;
  return timer->handle.priv.u.timer.repeat;
}

uint64_t eddy_timer_get_due_in(const eddy_timer_t *timer) {
  const eddy_loop_t *loop = timer->handle.loop;
  uint64_t due, now;

  if (!eddy__handle_active(&timer->handle))
    return 0;
  due = eddy__slot_due(&loop->priv.timers.heap[timer->handle.priv.index]);
  now = loop->priv.core.time - loop->priv.timers.base;
  return due > now ? due - now : 0;
}

void eddy__timer_release(eddy_timer_t *timer) {
  eddy_handle_t *h = &timer->handle;
  eddy_loop_t *loop = h->loop;
  struct eddy_timer_slot *heap;
  uint32_t last;

  if (eddy__handle_active(h))
    eddy_timer_stop(timer);
  heap = loop->priv.timers.heap;
  last = --loop->priv.timers.open;
  assert(heap[h->priv.index].timer == timer);
  if (h->priv.index != last)
    eddy__slot_put(heap, h->priv.index, heap[last]);
}

/* Stop the timer and give its slot back (the last parked slot fills the
 * gap), so the closing-list link can take over the callback's bytes. */
static void eddy__timer_close(eddy_handle_t *h) {
  eddy__timer_release((eddy_timer_t *)h);
  /* The callback's bytes become a list node, self-linked like the node of
   * a handle off every list, for eddy_close to move to the closing list. */
  eddy__queue_init(&h->priv.u.node);
}

/* The array's invariants (for tests): 0 if they hold, else the first bad
 * slot + 1. */
uint32_t eddy__timer_verify(const eddy_loop_t *loop) {
  const struct eddy_timer_slot *heap = loop->priv.timers.heap;
  uint32_t n = loop->priv.timers.count;
  uint32_t started = n + loop->priv.timers.deferred;
  uint32_t i;

  if (loop->priv.timers.open < started)
    return UINT32_MAX;
  for (i = 0; i < loop->priv.timers.open; i++) {
    const eddy_handle_t *h = &heap[i].timer->handle;

    if (h->priv.index != i || h->priv.type != EDDY_TIMER ||
        eddy__handle_closing(h) || eddy__handle_active(h) != (i < started) ||
        (i > 0 && i < n && heap[(i - 1) / EDDY__HEAP_D].key > heap[i].key))
      return i + 1;
  }
  return 0;
}

uint32_t eddy__timer_open_count(const eddy_loop_t *loop) {
  return loop->priv.timers.open;
}

eddy_handle_t *eddy__timer_open_at(const eddy_loop_t *loop, uint32_t i) {
  assert(i < eddy__timer_open_count(loop));
  return &loop->priv.timers.heap[i].timer->handle;
}

/* The timers phase: run every timer in the heap whose due time has come,
 * in (due, start) order. Timers started meanwhile are deferred (see the top
 * of this file) and join the heap at the end. */
void eddy__run_timers(eddy_loop_t *loop) {
  assert(!loop->priv.timers.phase);
  loop->priv.timers.phase = 1;
  if (loop->priv.metrics.state != NULL && loop->priv.timers.count != 0)
    eddy__metrics_timer_late(loop, loop->priv.timers.base +
                                       eddy__slot_due(&loop->priv.timers.heap[0]));
  while (loop->priv.timers.count != 0) {
    struct eddy_timer_slot *top = &loop->priv.timers.heap[0];
    eddy_timer_t *timer = top->timer;

    if (eddy__slot_due(top) > loop->priv.core.time - loop->priv.timers.base)
      break;
    eddy_timer_cb cb = timer->handle.priv.u.timer.cb;
    uint64_t repeat = timer->handle.priv.u.timer.repeat;

    eddy__heap_pop(loop);
    eddy__park(loop, timer);
    eddy__handle_stop(&timer->handle);
    /* Re-arm from the callback's start. */
    if (repeat != 0)
      eddy_timer_start(timer, cb, repeat, repeat);
    eddy__metrics_running(loop, EDDY_TIMER, (const void *)cb);
    cb(timer);
    eddy__after_callback(loop);
  }
  loop->priv.timers.phase = 0;
  eddy__deferred_flush(loop);
}

int eddy__next_timeout(const eddy_loop_t *loop, uint64_t now) {
  uint64_t due, diff;

  if (loop->priv.timers.count == 0)
    return -1;
  due = eddy__slot_due(&loop->priv.timers.heap[0]);
  now = now > loop->priv.timers.base ? now - loop->priv.timers.base : 0;
  if (due <= now)
    return 0;
  diff = due - now;
  return diff > INT_MAX ? INT_MAX : (int)diff;
}

const struct eddy__handle_ops eddy__timer_ops = {.close = eddy__timer_close};
