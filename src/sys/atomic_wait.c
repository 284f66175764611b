/* atomic_wait.c: eddy_atomic_wait / eddy_atomic_notify (Atomics.wait and
 * Atomics.notify on a 32-bit word).
 *
 * Two implementations, both always compiled (the tests run both on Linux):
 *
 * - futex (Linux): the kernel compares the word and queues the thread
 *   under its hash-bucket lock, and FUTEX_WAKE takes the same lock, so a
 *   store followed by a wake cannot slip between a waiter's comparison and
 *   its sleep. The kernel counts the threads it dequeues, and a waiter whose
 *   timeout races with a wake returns 0 if the wake dequeued it first: the
 *   count notify returns is exact. Private futexes: one process only.
 *
 * - table (elsewhere): 64 buckets hashed by address, each a mutex and a
 *   FIFO list of waiters; every waiter sleeps on a condition variable of its
 *   own (on its stack), so notify wakes exactly the waiters it takes off the
 *   list. A waiter compares the word and joins the list under the bucket's
 *   mutex; notify takes the same mutex after the caller's store, which is
 *   what orders the two. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "eddy/thread.h"
#include "sys/atomic_internal.h"

/* --- futex ---------------------------------------------------------------- */

#ifdef __linux__

int eddy__atomic_wait_futex(const uint32_t *addr, uint32_t expected,
                            int64_t timeout_ns) {
  struct timespec deadline, *dp = NULL;
  long r;

  if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected)
    return EDDY_ATOMIC_NOT_EQUAL;
  if (timeout_ns == 0)
    return EDDY_ATOMIC_TIMED_OUT;
  if (timeout_ns > 0) {
    /* An absolute deadline, so that a wait resumed after a signal handler
     * keeps its original end. */
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(timeout_ns / 1000000000);
    deadline.tv_nsec += (long)(timeout_ns % 1000000000);
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_nsec -= 1000000000L;
      deadline.tv_sec++;
    }
    dp = &deadline;
  }
  for (;;) {
    /* The kernel only reads the word; the cast drops const for the ABI. */
    r = syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_BITSET_PRIVATE,
                expected, dp, NULL, FUTEX_BITSET_MATCH_ANY);
    if (r == 0)
      return EDDY_ATOMIC_OK;
    switch (errno) {
    case EAGAIN: /* the word changed before the kernel compared it */
      return EDDY_ATOMIC_NOT_EQUAL;
    case ETIMEDOUT:
      return EDDY_ATOMIC_TIMED_OUT;
    case EINTR:
      continue;
    default:
      return -errno;
    }
  }
}

int eddy__atomic_notify_futex(const uint32_t *addr, unsigned count) {
  long r;

  if (count == 0)
    return 0;
  r = syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE,
              count > INT_MAX ? INT_MAX : (int)count, NULL, NULL, 0);
  return r < 0 ? -errno : (int)r;
}

#endif /* __linux__ */

/* --- table ---------------------------------------------------------------- */

#define EDDY__BUCKETS 64 /* a power of two */

/* One waiting thread, on its own stack. */
struct eddy__waiter {
  const uint32_t *addr;
  struct eddy__waiter *next;
  struct eddy__waiter *prev;
  eddy_cond_t cond;
  int woken; /* set by notify, under the bucket mutex */
};

/* A bucket per cache line: threads waiting on words that hash apart do not
 * slow each other down. */
struct eddy__bucket {
  eddy_mutex_t mutex;
  struct eddy__waiter *head; /* oldest waiter */
  struct eddy__waiter *tail;
} __attribute__((aligned(64)));

static struct eddy__bucket eddy__buckets[EDDY__BUCKETS];
static eddy_once_t eddy__buckets_once = EDDY_ONCE_INIT;

static void eddy__buckets_init(void) {
  int i;

  for (i = 0; i < EDDY__BUCKETS; i++) {
    /* A mutex init fails only for want of memory at start-up, where
     * nothing sensible remains to be done. */
    int rc = eddy_mutex_init(&eddy__buckets[i].mutex);
    assert(rc == 0);
    (void)rc;
  }
}

static struct eddy__bucket *eddy__bucket_of(const uint32_t *addr) {
  uintptr_t h = (uintptr_t)addr >> 2;

  eddy_once(&eddy__buckets_once, eddy__buckets_init);
  /* Fibonacci hashing: neighbouring words land in different buckets. */
  h = (uintptr_t)((uint64_t)h * 0x9E3779B97F4A7C15ull >> 58);
  return &eddy__buckets[h & (EDDY__BUCKETS - 1)];
}

static void eddy__waiter_unlink(struct eddy__bucket *b,
                                struct eddy__waiter *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    b->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    b->tail = w->prev;
  w->next = w->prev = NULL;
}

/* Sleep until notified or, with timeout_ns >= 0, until the deadline;
 * bucket mutex held. Returns the wait's result. */
static int eddy__waiter_sleep(struct eddy__bucket *b, struct eddy__waiter *w,
                              int64_t timeout_ns) {
  struct timespec now;
  uint64_t deadline = 0, t;

  if (timeout_ns > 0) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    deadline = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec +
               (uint64_t)timeout_ns;
  }
  while (!w->woken) {
    if (timeout_ns < 0) {
      eddy_cond_wait(&w->cond, &b->mutex);
      continue;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    t = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    if (t >= deadline) {
      eddy__waiter_unlink(b, w); /* not woken: still on the list */
      return EDDY_ATOMIC_TIMED_OUT;
    }
    (void)eddy_cond_timedwait(&w->cond, &b->mutex, deadline - t);
  }
  return EDDY_ATOMIC_OK; /* notify took it off the list */
}

int eddy__atomic_wait_table(const uint32_t *addr, uint32_t expected,
                            int64_t timeout_ns) {
  struct eddy__bucket *b = eddy__bucket_of(addr);
  struct eddy__waiter w;
  int r;

  eddy_mutex_lock(&b->mutex);
  if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected) {
    eddy_mutex_unlock(&b->mutex);
    return EDDY_ATOMIC_NOT_EQUAL;
  }
  if (timeout_ns == 0) {
    eddy_mutex_unlock(&b->mutex);
    return EDDY_ATOMIC_TIMED_OUT;
  }
  r = eddy_cond_init(&w.cond);
  if (r != 0) {
    eddy_mutex_unlock(&b->mutex);
    return r;
  }
  w.addr = addr;
  w.woken = 0;
  w.next = NULL;
  w.prev = b->tail;
  if (b->tail != NULL)
    b->tail->next = &w;
  else
    b->head = &w;
  b->tail = &w;
  r = eddy__waiter_sleep(b, &w, timeout_ns);
  eddy_mutex_unlock(&b->mutex);
  /* notify signalled under the mutex and never touches w after it: the
   * condition variable is idle now. */
  eddy_cond_destroy(&w.cond);
  return r;
}

int eddy__atomic_notify_table(const uint32_t *addr, unsigned count) {
  struct eddy__bucket *b = eddy__bucket_of(addr);
  struct eddy__waiter *w, *next;
  unsigned n = 0;

  eddy_mutex_lock(&b->mutex);
  for (w = b->head; w != NULL && n < count && n < INT_MAX; w = next) {
    next = w->next;
    if (w->addr != addr)
      continue; /* another word in the same bucket */
    eddy__waiter_unlink(b, w);
    w->woken = 1;
    eddy_cond_signal(&w->cond);
    n++;
  }
  eddy_mutex_unlock(&b->mutex);
  return (int)n;
}

unsigned eddy__atomic_table_waiters(const uint32_t *addr) {
  struct eddy__bucket *b = eddy__bucket_of(addr);
  struct eddy__waiter *w;
  unsigned n = 0;

  eddy_mutex_lock(&b->mutex);
  for (w = b->head; w != NULL; w = w->next)
    n += w->addr == addr;
  eddy_mutex_unlock(&b->mutex);
  return n;
}

/* --- public --------------------------------------------------------------- */

/* The word must be a real, aligned 32-bit location (the futex call
 * requires it; the table would work but the rule is kept the same). */
static int eddy__word_ok(const uint32_t *addr) {
  return addr != NULL && ((uintptr_t)addr & 3) == 0;
}

int eddy_atomic_wait(const uint32_t *addr, uint32_t expected,
                     int64_t timeout_ns) {
  if (!eddy__word_ok(addr) || timeout_ns < -1)
    return EDDY_EINVAL;
#ifdef __linux__
  return eddy__atomic_wait_futex(addr, expected, timeout_ns);
#else
  return eddy__atomic_wait_table(addr, expected, timeout_ns);
#endif
}

int eddy_atomic_notify(const uint32_t *addr, unsigned count) {
  if (!eddy__word_ok(addr))
    return EDDY_EINVAL;
#ifdef __linux__
  return eddy__atomic_notify_futex(addr, count);
#else
  return eddy__atomic_notify_table(addr, count);
#endif
}
