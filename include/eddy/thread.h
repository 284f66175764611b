/* eddy/thread.h: threads and what they synchronise with.
 *
 * Thin wrappers over pthreads with libuv's names and semantics
 * (uv_thread_create becomes eddy_thread_create, uv_mutex_lock
 * eddy_mutex_lock, ...): threads, mutexes, reader/writer locks, condition
 * variables, semaphores, barriers, once, thread-local keys; and, beyond
 * libuv, Atomics.wait / Atomics.notify on a 32-bit word
 * (eddy_atomic_wait, eddy_atomic_notify). None of them needs a loop. The
 * objects are the caller's; each may be used from any thread once it is
 * initialised. Blocking in any of them on a loop's thread blocks that loop
 * (its timers, I/O and callbacks wait too), exactly as Atomics.wait on
 * Node's main thread would.
 *
 * Errors. Functions that return int report every failure as a negative
 * errno (libuv aborts on the failures it does not expect; eddy returns
 * them). The void functions (lock, unlock, wait, signal, destroy, ...) can
 * fail only when misused: unlocking a mutex the thread does not hold,
 * destroying a lock that is held or a condition variable that is waited on,
 * posting a semaphore past its maximum. eddy checks their result with
 * assert(): a debug build (NDEBUG not defined) stops at the misuse, a
 * release build carries on and the behaviour is what POSIX leaves
 * undefined. In a debug build mutexes are error-checking (as libuv's are),
 * so that an unlock by a thread that does not hold the mutex is caught.
 *
 * The types are pthreads' own where <pthread.h> declares them under every
 * feature set; the reader/writer lock is storage for a pthread_rwlock_t
 * (<pthread.h> hides that type under strict ISO C), so that this header
 * works with -std=c11 too.
 */
#ifndef EDDY_THREAD_H
#define EDDY_THREAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__linux__)
#include <semaphore.h>
#endif

#include "errno.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- threads -------------------------------------------------------------- */

typedef pthread_t eddy_thread_t;
typedef void (*eddy_thread_cb)(void *arg);

enum {
  EDDY_THREAD_NO_FLAGS = 0,
  EDDY_THREAD_HAS_STACK_SIZE = 1 /* stack_size below is meant */
};

/* Bytes of a thread name, NUL included (Linux's limit); longer names are
 * cut to EDDY_THREAD_NAME_MAX - 1 bytes. */
#define EDDY_THREAD_NAME_MAX 16

typedef struct eddy_thread_options_s {
  unsigned int flags;
  /* With EDDY_THREAD_HAS_STACK_SIZE: the stack size in bytes, rounded up to
   * a page and to at least PTHREAD_STACK_MIN; 0 means the default. */
  size_t stack_size;
  /* eddy's addition: a name the thread takes before entry runs (as
   * eddy_thread_setname would set it); NULL: none. Copied. */
  const char *name;
} eddy_thread_options_t;

/* Start a thread that runs entry(arg); its id goes to *tid. The default
 * stack is the system's (glibc: RLIMIT_STACK, usually 8 MiB). Errors:
 * EDDY_EINVAL (NULL tid or entry), EDDY_EAGAIN (no resources for another
 * thread), EDDY_ENOMEM. Any thread. */
EDDY_EXTERN int eddy_thread_create(eddy_thread_t *tid, eddy_thread_cb entry,
                                   void *arg);

/* eddy_thread_create with options (NULL: none). Errors: also EDDY_EINVAL
 * for a stack size that cannot be rounded up without overflow. */
EDDY_EXTERN int eddy_thread_create_ex(eddy_thread_t *tid,
                                      const eddy_thread_options_t *options,
                                      eddy_thread_cb entry, void *arg);

/* Wait for thread *tid to finish. Errors: EDDY_EINVAL (NULL, or a thread
 * not joinable), EDDY_EDEADLK (*tid is the caller), EDDY_ESRCH. Joining a
 * thread twice is undefined in POSIX: a thread is joined once. */
EDDY_EXTERN int eddy_thread_join(eddy_thread_t *tid);

/* The calling thread's id. */
EDDY_EXTERN eddy_thread_t eddy_thread_self(void);

/* Non-zero if both ids name the same thread. */
EDDY_EXTERN int eddy_thread_equal(const eddy_thread_t *t1,
                                  const eddy_thread_t *t2);

/* Name the calling thread (what top -H, ps -L and debuggers show); names
 * longer than EDDY_THREAD_NAME_MAX - 1 bytes are cut. Errors: EDDY_EINVAL
 * (NULL), EDDY_ENOSYS where the system cannot name threads. */
EDDY_EXTERN int eddy_thread_setname(const char *name);

/* The name of thread *tid into name (size bytes, NUL included, cut if it
 * is longer, as libuv's uv_thread_getname). Errors: EDDY_EINVAL (NULL or
 * size 0), EDDY_ESRCH, EDDY_ENOSYS. */
EDDY_EXTERN int eddy_thread_getname(const eddy_thread_t *tid, char *name,
                                    size_t size);

/* --- mutexes ------------------------------------------------------------ */

typedef pthread_mutex_t eddy_mutex_t;

/* A mutex (error-checking in debug builds). Errors: EDDY_ENOMEM,
 * EDDY_EAGAIN. */
EDDY_EXTERN int eddy_mutex_init(eddy_mutex_t *mutex);

/* A mutex its holder may lock again (and must unlock as many times). */
EDDY_EXTERN int eddy_mutex_init_recursive(eddy_mutex_t *mutex);

/* Destroy an unlocked mutex. */
EDDY_EXTERN void eddy_mutex_destroy(eddy_mutex_t *mutex);
EDDY_EXTERN void eddy_mutex_lock(eddy_mutex_t *mutex);

/* Lock if free: 0, or EDDY_EBUSY when another thread (or, unless
 * recursive, the caller) holds it; any other failure as a negative errno. */
EDDY_EXTERN int eddy_mutex_trylock(eddy_mutex_t *mutex);
EDDY_EXTERN void eddy_mutex_unlock(eddy_mutex_t *mutex);

/* --- reader/writer locks ------------------------------------------------ */

#if defined(__APPLE__)
#define EDDY_RWLOCK_SIZE 200 /* sizeof(pthread_rwlock_t) on macOS */
#else
#define EDDY_RWLOCK_SIZE 64 /* glibc and musl: 56 on 64-bit, 32 on 32-bit */
#endif

typedef struct eddy_rwlock_s {
  union {
    unsigned char bytes[EDDY_RWLOCK_SIZE]; /* a pthread_rwlock_t */
    void *align_pointer;
    long long align_long;
    double align_double;
  } priv;
} eddy_rwlock_t;

/* Errors: EDDY_ENOMEM, EDDY_EAGAIN. */
EDDY_EXTERN int eddy_rwlock_init(eddy_rwlock_t *rwlock);
EDDY_EXTERN void eddy_rwlock_destroy(eddy_rwlock_t *rwlock);
EDDY_EXTERN void eddy_rwlock_rdlock(eddy_rwlock_t *rwlock);

/* 0, or EDDY_EBUSY when a writer holds the lock (or too many readers do). */
EDDY_EXTERN int eddy_rwlock_tryrdlock(eddy_rwlock_t *rwlock);
EDDY_EXTERN void eddy_rwlock_rdunlock(eddy_rwlock_t *rwlock);
EDDY_EXTERN void eddy_rwlock_wrlock(eddy_rwlock_t *rwlock);

/* 0, or EDDY_EBUSY when anyone holds the lock. */
EDDY_EXTERN int eddy_rwlock_trywrlock(eddy_rwlock_t *rwlock);
EDDY_EXTERN void eddy_rwlock_wrunlock(eddy_rwlock_t *rwlock);

/* --- condition variables ---------------------------------------------------
 * Waits may wake without a signal: wait in a loop on your condition. */

typedef pthread_cond_t eddy_cond_t;

/* A condition variable whose timed waits run on CLOCK_MONOTONIC, so that a
 * change of the wall clock does not stretch or cut them. Errors:
 * EDDY_ENOMEM, EDDY_EAGAIN. */
EDDY_EXTERN int eddy_cond_init(eddy_cond_t *cond);
EDDY_EXTERN void eddy_cond_destroy(eddy_cond_t *cond);
EDDY_EXTERN void eddy_cond_signal(eddy_cond_t *cond);
EDDY_EXTERN void eddy_cond_broadcast(eddy_cond_t *cond);

/* Release mutex (held by the caller), wait, and lock it again. */
EDDY_EXTERN void eddy_cond_wait(eddy_cond_t *cond, eddy_mutex_t *mutex);

/* eddy_cond_wait for at most timeout nanoseconds from now. Returns 0 (woken,
 * perhaps spuriously) or EDDY_ETIMEDOUT; the mutex is held again either
 * way. */
EDDY_EXTERN int eddy_cond_timedwait(eddy_cond_t *cond, eddy_mutex_t *mutex,
                                    uint64_t timeout);

/* --- semaphores --------------------------------------------------------- */

typedef struct eddy_sem_s {
#if defined(__linux__)
  sem_t priv;
#else
  struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    unsigned int value;
  } priv;
#endif
} eddy_sem_t;

/* A semaphore with value tokens. Errors: EDDY_EINVAL (value above the
 * system's maximum, INT_MAX on Linux), EDDY_ENOMEM. */
EDDY_EXTERN int eddy_sem_init(eddy_sem_t *sem, unsigned int value);
EDDY_EXTERN void eddy_sem_destroy(eddy_sem_t *sem);

/* Add a token, waking one waiter if any. */
EDDY_EXTERN void eddy_sem_post(eddy_sem_t *sem);

/* Take a token, waiting for one. */
EDDY_EXTERN void eddy_sem_wait(eddy_sem_t *sem);

/* Take a token if there is one: 0, or EDDY_EAGAIN. */
EDDY_EXTERN int eddy_sem_trywait(eddy_sem_t *sem);

/* --- barriers ------------------------------------------------------------ */

typedef struct eddy_barrier_s {
  struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    unsigned int threshold;
    unsigned int in;  /* arrived in the current round */
    unsigned int out; /* released, not yet left */
    unsigned long round;
  } priv;
} eddy_barrier_t;

/* A barrier for count threads; it may be used for any number of rounds.
 * Errors: EDDY_EINVAL (count 0), EDDY_ENOMEM, EDDY_EAGAIN. */
EDDY_EXTERN int eddy_barrier_init(eddy_barrier_t *barrier, unsigned int count);

/* Destroy the barrier; waits for the threads of the last round to leave
 * eddy_barrier_wait, so any of them may call it at once. */
EDDY_EXTERN void eddy_barrier_destroy(eddy_barrier_t *barrier);

/* Wait until count threads wait. Returns non-zero in exactly one of them
 * per round (the last to leave, which may destroy the barrier at once) and
 * 0 in the others. */
EDDY_EXTERN int eddy_barrier_wait(eddy_barrier_t *barrier);

/* --- once ------------------------------------------------------------------
 */

typedef pthread_once_t eddy_once_t;
#define EDDY_ONCE_INIT PTHREAD_ONCE_INIT

/* Run callback exactly once per guard (initialised with EDDY_ONCE_INIT),
 * whichever thread gets there first; every caller returns after it ran. */
EDDY_EXTERN void eddy_once(eddy_once_t *guard, void (*callback)(void));

/* --- thread-local keys ------------------------------------------------- */

typedef pthread_key_t eddy_key_t;

/* A key whose value is NULL in every thread until set. No destructor runs
 * at thread exit. Errors: EDDY_EAGAIN (the process has no key left: POSIX
 * promises 128, glibc has 1024), EDDY_ENOMEM. */
EDDY_EXTERN int eddy_key_create(eddy_key_t *key);
EDDY_EXTERN void eddy_key_delete(eddy_key_t *key);

/* The calling thread's value. */
EDDY_EXTERN void *eddy_key_get(eddy_key_t *key);

/* Set the calling thread's value. libuv's uv_key_set returns nothing and
 * aborts on failure; eddy returns 0 or the error: EDDY_ENOMEM (glibc
 * allocates for keys past the first 32 on a thread's first set),
 * EDDY_EINVAL (a key not created, on systems that check). */
EDDY_EXTERN int eddy_key_set(eddy_key_t *key, void *value);

/* --- atomic wait / notify (Atomics.wait, Atomics.notify) -------------------
 * A thread waits on a 32-bit word while it holds an expected value; another
 * thread changes the word and notifies the waiters. Node's Atomics.wait on
 * an Int32Array of a SharedArrayBuffer, in C.
 *
 * Ordering: eddy_atomic_wait compares the word with expected and joins the
 * word's waiters as one step with respect to eddy_atomic_notify, so a wait
 * cannot miss a notify that follows a store of a new value. The notifier
 * must store first (any atomic store, e.g.
 *   __atomic_store_n(word, v, __ATOMIC_RELEASE);  eddy_atomic_notify(...)),
 * and the waiter, once woken, learns what changed by loading the word (or
 * other atomics) with acquire ordering: treat the return of OK as "look
 * again", not as a memory fence (it also happens without a change when a
 * notify is sent without one). The word is read with a sequentially
 * consistent load; waiting and notifying are full barriers on both
 * implementations.
 *
 * Implementations: Linux: the futex system call (FUTEX_WAIT_BITSET with an
 * absolute CLOCK_MONOTONIC deadline, FUTEX_WAKE), process-private: waiters
 * and notifiers must be threads of one process. A word in memory shared
 * between processes (MAP_SHARED, shm_open) is not supported: a notify in
 * one process does not wake a waiter in another. Other systems: a table of
 * 64 buckets hashed by address, each a mutex and a FIFO list of waiters
 * with a condition variable each (same process-only rule). Both wake in
 * the order the kernel or the list keeps (FIFO for the table).
 *
 * Signals: a signal handler that runs during a wait does not end it (the
 * wait resumes with the time left), but on Linux, if the word no longer
 * holds expected when the wait resumes, it returns EDDY_ATOMIC_NOT_EQUAL:
 * while the handler ran the thread was not a waiter, so a notify then did
 * not count it. */

enum {
  EDDY_ATOMIC_OK = 0,        /* woken by eddy_atomic_notify: "ok" */
  EDDY_ATOMIC_NOT_EQUAL = 1, /* the word did not hold expected: "not-equal" */
  EDDY_ATOMIC_TIMED_OUT = 2  /* the timeout passed first: "timed-out" */
};

/* If *addr == expected, sleep until a notify on addr wakes this thread or
 * timeout_ns nanoseconds pass (-1: no timeout; 0: only the comparison).
 * addr must be 4-byte aligned. Returns EDDY_ATOMIC_OK, _NOT_EQUAL or
 * _TIMED_OUT, or EDDY_EINVAL (NULL or misaligned addr, timeout below -1).
 * Any thread; on a loop's thread the loop stops until it returns. */
EDDY_EXTERN int eddy_atomic_wait(const uint32_t *addr, uint32_t expected,
                                 int64_t timeout_ns);

/* Wake up to count threads waiting on addr (UINT_MAX: all; 0: none), the
 * longest waiting first where the implementation keeps an order. Returns
 * the exact number of waiters woken (each of them returns EDDY_ATOMIC_OK),
 * or EDDY_EINVAL (NULL or misaligned addr). Any thread. */
EDDY_EXTERN int eddy_atomic_notify(const uint32_t *addr, unsigned count);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_THREAD_H */
