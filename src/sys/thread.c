/* thread.c: eddy/thread.h's threads, locks, condition variables,
 * semaphores, barriers, once and keys over pthreads. Atomic wait/notify is
 * in atomic_wait.c.
 *
 * Each wrapper is one pthread call and a translation of its result: int
 * functions return the error negated, void functions assert on it (see the
 * header for why they cannot fail unless misused). */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eddy/thread.h"

/* Check the result of a pthread call that cannot fail unless misused. */
#define EDDY__CHECK(call)                                                      \
  do {                                                                         \
    int eddy__rc = (call);                                                     \
    assert(eddy__rc == 0);                                                     \
    (void)eddy__rc;                                                            \
  } while (0)

/* --- threads ------------------------------------------------------------ */

/* What the new thread needs before it calls entry; freed by the thread. */
struct eddy__thread_start {
  eddy_thread_cb entry;
  void *arg;
  int named;
  char name[EDDY_THREAD_NAME_MAX];
};

static void *eddy__thread_main(void *p) {
  struct eddy__thread_start start = *(struct eddy__thread_start *)p;

  free(p);
  if (start.named)
    (void)eddy_thread_setname(start.name);
  start.entry(start.arg);
  return NULL;
}

/* Round a requested stack size up to a page and to PTHREAD_STACK_MIN. */
static int eddy__stack_size(size_t want, size_t *out) {
  long page = sysconf(_SC_PAGESIZE);
  size_t p = page > 0 ? (size_t)page : 4096;

  if (want > SIZE_MAX - p)
    return EDDY_EINVAL;
  want = (want + p - 1) / p * p;
  if (want < (size_t)PTHREAD_STACK_MIN)
    want = ((size_t)PTHREAD_STACK_MIN + p - 1) / p * p;
  *out = want;
  return 0;
}

int eddy_thread_create_ex(eddy_thread_t *tid,
                          const eddy_thread_options_t *options,
                          eddy_thread_cb entry, void *arg) {
  struct eddy__thread_start *start;
  pthread_attr_t attr, *attrp = NULL;
  size_t stack = 0, n;
  int rc;

  if (tid == NULL || entry == NULL)
    return EDDY_EINVAL;
  if (options != NULL && (options->flags & EDDY_THREAD_HAS_STACK_SIZE) &&
      options->stack_size != 0) {
    rc = eddy__stack_size(options->stack_size, &stack);
    if (rc != 0)
      return rc;
  }
  start = malloc(sizeof(*start));
  if (start == NULL)
    return EDDY_ENOMEM;
  start->entry = entry;
  start->arg = arg;
  start->named = options != NULL && options->name != NULL;
  if (start->named) {
    n = strlen(options->name);
    n = n < sizeof(start->name) - 1 ? n : sizeof(start->name) - 1;
    memcpy(start->name, options->name, n);
    start->name[n] = '\0';
  }
  if (stack != 0) {
    rc = pthread_attr_init(&attr);
    if (rc == 0) {
      attrp = &attr;
      rc = pthread_attr_setstacksize(&attr, stack);
    }
  } else {
    rc = 0;
  }
  if (rc == 0)
    rc = pthread_create(tid, attrp, eddy__thread_main, start);
  if (attrp != NULL)
    pthread_attr_destroy(attrp);
  if (rc != 0) {
    free(start);
    return -rc;
  }
  return 0;
}

int eddy_thread_create(eddy_thread_t *tid, eddy_thread_cb entry, void *arg) {
  return eddy_thread_create_ex(tid, NULL, entry, arg);
}

int eddy_thread_join(eddy_thread_t *tid) {
  if (tid == NULL)
    return EDDY_EINVAL;
  return -pthread_join(*tid, NULL);
}

eddy_thread_t eddy_thread_self(void) {
  return pthread_self();
}

int eddy_thread_equal(const eddy_thread_t *t1, const eddy_thread_t *t2) {
  return pthread_equal(*t1, *t2);
}

int eddy_thread_setname(const char *name) {
  char buf[EDDY_THREAD_NAME_MAX];
  size_t n;

  if (name == NULL)
    return EDDY_EINVAL;
  n = strlen(name);
  n = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1; /* Linux says ERANGE */
  memcpy(buf, name, n);
  buf[n] = '\0';
#if defined(__linux__)
  return -pthread_setname_np(pthread_self(), buf);
#elif defined(__APPLE__)
  return -pthread_setname_np(buf);
#else
  return EDDY_ENOSYS;
#endif
}

int eddy_thread_getname(const eddy_thread_t *tid, char *name, size_t size) {
  char buf[EDDY_THREAD_NAME_MAX];
  size_t n;
  int rc;

  if (tid == NULL || name == NULL || size == 0)
    return EDDY_EINVAL;
#if defined(__linux__) || defined(__APPLE__)
  rc = pthread_getname_np(*tid, buf, sizeof(buf));
#else
  rc = ENOSYS;
#endif
  if (rc != 0)
    return -rc;
  buf[sizeof(buf) - 1] = '\0';
  n = strlen(buf);
  n = n < size - 1 ? n : size - 1;
  memcpy(name, buf, n);
  name[n] = '\0';
  return 0;
}

/* --- mutexes ------------------------------------------------------------ */

/* A mutex of the given pthread type. */
static int eddy__mutex_init_type(eddy_mutex_t *mutex, int type) {
  pthread_mutexattr_t attr;
  int rc;

  rc = pthread_mutexattr_init(&attr);
  if (rc != 0)
    return -rc;
  rc = pthread_mutexattr_settype(&attr, type);
  if (rc == 0)
    rc = pthread_mutex_init(mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  return -rc;
}

int eddy_mutex_init(eddy_mutex_t *mutex) {
#if defined(NDEBUG)
  return -pthread_mutex_init(mutex, NULL);
#else
  return eddy__mutex_init_type(mutex, PTHREAD_MUTEX_ERRORCHECK);
#endif
}

int eddy_mutex_init_recursive(eddy_mutex_t *mutex) {
  return eddy__mutex_init_type(mutex, PTHREAD_MUTEX_RECURSIVE);
}

void eddy_mutex_destroy(eddy_mutex_t *mutex) {
  EDDY__CHECK(pthread_mutex_destroy(mutex));
}

void eddy_mutex_lock(eddy_mutex_t *mutex) {
  EDDY__CHECK(pthread_mutex_lock(mutex));
}

int eddy_mutex_trylock(eddy_mutex_t *mutex) {
  int rc = pthread_mutex_trylock(mutex);

  /* EAGAIN: a recursive mutex locked too many times; busy all the same. */
  if (rc == EBUSY || rc == EAGAIN)
    return EDDY_EBUSY;
  return -rc;
}

void eddy_mutex_unlock(eddy_mutex_t *mutex) {
  EDDY__CHECK(pthread_mutex_unlock(mutex));
}

/* --- reader/writer locks -------------------------------------------------- */

_Static_assert(sizeof(pthread_rwlock_t) <= sizeof(((eddy_rwlock_t *)0)->priv),
               "eddy_rwlock_t too small for pthread_rwlock_t");
_Static_assert(_Alignof(pthread_rwlock_t) <= _Alignof(eddy_rwlock_t),
               "eddy_rwlock_t under-aligned for pthread_rwlock_t");

static pthread_rwlock_t *eddy__rw(eddy_rwlock_t *rwlock) {
  return (pthread_rwlock_t *)(void *)&rwlock->priv;
}

int eddy_rwlock_init(eddy_rwlock_t *rwlock) {
  return -pthread_rwlock_init(eddy__rw(rwlock), NULL);
}

void eddy_rwlock_destroy(eddy_rwlock_t *rwlock) {
  EDDY__CHECK(pthread_rwlock_destroy(eddy__rw(rwlock)));
}

void eddy_rwlock_rdlock(eddy_rwlock_t *rwlock) {
  EDDY__CHECK(pthread_rwlock_rdlock(eddy__rw(rwlock)));
}

int eddy_rwlock_tryrdlock(eddy_rwlock_t *rwlock) {
  int rc = pthread_rwlock_tryrdlock(eddy__rw(rwlock));

  if (rc == EBUSY || rc == EAGAIN) /* EAGAIN: the reader count is full */
    return EDDY_EBUSY;
  return -rc;
}

void eddy_rwlock_rdunlock(eddy_rwlock_t *rwlock) {
  EDDY__CHECK(pthread_rwlock_unlock(eddy__rw(rwlock)));
}

void eddy_rwlock_wrlock(eddy_rwlock_t *rwlock) {
  EDDY__CHECK(pthread_rwlock_wrlock(eddy__rw(rwlock)));
}

int eddy_rwlock_trywrlock(eddy_rwlock_t *rwlock) {
  int rc = pthread_rwlock_trywrlock(eddy__rw(rwlock));

  if (rc == EBUSY || rc == EAGAIN)
    return EDDY_EBUSY;
  return -rc;
}

void eddy_rwlock_wrunlock(eddy_rwlock_t *rwlock) {
  EDDY__CHECK(pthread_rwlock_unlock(eddy__rw(rwlock)));
}

/* --- condition variables ----------------------------------------------------
 */

int eddy_cond_init(eddy_cond_t *cond) {
#if defined(__APPLE__)
  /* No pthread_condattr_setclock: timed waits use the relative call. */
  return -pthread_cond_init(cond, NULL);
#else
  pthread_condattr_t attr;
  int rc;

  rc = pthread_condattr_init(&attr);
  if (rc != 0)
    return -rc;
  rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (rc == 0)
    rc = pthread_cond_init(cond, &attr);
  pthread_condattr_destroy(&attr);
  return -rc;
#endif
}

void eddy_cond_destroy(eddy_cond_t *cond) {
  EDDY__CHECK(pthread_cond_destroy(cond));
}

void eddy_cond_signal(eddy_cond_t *cond) {
  EDDY__CHECK(pthread_cond_signal(cond));
}

void eddy_cond_broadcast(eddy_cond_t *cond) {
  EDDY__CHECK(pthread_cond_broadcast(cond));
}

void eddy_cond_wait(eddy_cond_t *cond, eddy_mutex_t *mutex) {
  EDDY__CHECK(pthread_cond_wait(cond, mutex));
}

int eddy_cond_timedwait(eddy_cond_t *cond, eddy_mutex_t *mutex,
                        uint64_t timeout) {
  struct timespec ts;
  int rc;

#if defined(__APPLE__)
  ts.tv_sec = (time_t)(timeout / 1000000000u);
  ts.tv_nsec = (long)(timeout % 1000000000u);
  rc = pthread_cond_timedwait_relative_np(cond, mutex, &ts);
#else
  uint64_t sec = timeout / 1000000000u;
  long nsec = (long)(timeout % 1000000000u);

  clock_gettime(CLOCK_MONOTONIC, &ts);
  /* A deadline past what time_t holds is as good as none (2^63 s). */
  if (sec > (uint64_t)INT64_MAX - (uint64_t)ts.tv_sec - 1)
    sec = (uint64_t)INT64_MAX - (uint64_t)ts.tv_sec - 1;
  ts.tv_sec += (time_t)sec;
  ts.tv_nsec += nsec;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_nsec -= 1000000000L;
    ts.tv_sec++;
  }
  rc = pthread_cond_timedwait(cond, mutex, &ts);
#endif
  if (rc == ETIMEDOUT)
    return EDDY_ETIMEDOUT;
  return -rc;
}

/* --- semaphores -------------------------------------------------------------
 */

#if defined(__linux__)

int eddy_sem_init(eddy_sem_t *sem, unsigned int value) {
  if (sem_init(&sem->priv, 0, value) != 0)
    return -errno;
  return 0;
}

void eddy_sem_destroy(eddy_sem_t *sem) {
  EDDY__CHECK(sem_destroy(&sem->priv));
}

void eddy_sem_post(eddy_sem_t *sem) {
  EDDY__CHECK(sem_post(&sem->priv));
}

void eddy_sem_wait(eddy_sem_t *sem) {
  int rc;

  do
    rc = sem_wait(&sem->priv);
  while (rc != 0 && errno == EINTR);
  assert(rc == 0);
}

int eddy_sem_trywait(eddy_sem_t *sem) {
  int rc;

  do
    rc = sem_trywait(&sem->priv);
  while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : -errno;
}

#else /* no unnamed POSIX semaphores everywhere (macOS): mutex + cond */

int eddy_sem_init(eddy_sem_t *sem, unsigned int value) {
  int rc;

  if (value > INT_MAX)
    return EDDY_EINVAL;
  rc = pthread_mutex_init(&sem->priv.mutex, NULL);
  if (rc != 0)
    return -rc;
  rc = pthread_cond_init(&sem->priv.cond, NULL);
  if (rc != 0) {
    pthread_mutex_destroy(&sem->priv.mutex);
    return -rc;
  }
  sem->priv.value = value;
  return 0;
}

void eddy_sem_destroy(eddy_sem_t *sem) {
  EDDY__CHECK(pthread_cond_destroy(&sem->priv.cond));
  EDDY__CHECK(pthread_mutex_destroy(&sem->priv.mutex));
}

void eddy_sem_post(eddy_sem_t *sem) {
  EDDY__CHECK(pthread_mutex_lock(&sem->priv.mutex));
  assert(sem->priv.value < INT_MAX);
  if (sem->priv.value++ == 0)
    EDDY__CHECK(pthread_cond_signal(&sem->priv.cond));
  EDDY__CHECK(pthread_mutex_unlock(&sem->priv.mutex));
}

void eddy_sem_wait(eddy_sem_t *sem) {
  EDDY__CHECK(pthread_mutex_lock(&sem->priv.mutex));
  while (sem->priv.value == 0)
    EDDY__CHECK(pthread_cond_wait(&sem->priv.cond, &sem->priv.mutex));
  sem->priv.value--;
  EDDY__CHECK(pthread_mutex_unlock(&sem->priv.mutex));
}

int eddy_sem_trywait(eddy_sem_t *sem) {
  int r = EDDY_EAGAIN;

  EDDY__CHECK(pthread_mutex_lock(&sem->priv.mutex));
  if (sem->priv.value > 0) {
    sem->priv.value--;
    r = 0;
  }
  EDDY__CHECK(pthread_mutex_unlock(&sem->priv.mutex));
  return r;
}

#endif

/* --- barriers --------------------------------------------------------------
 * Not pthread_barrier_t: macOS has none, and its serial thread may return
 * while others are still inside, so it could not destroy the barrier at
 * once. Here the thread told "you are the one" is the last to leave. */

int eddy_barrier_init(eddy_barrier_t *barrier, unsigned int count) {
  int rc;

  if (count == 0)
    return EDDY_EINVAL;
  rc = pthread_mutex_init(&barrier->priv.mutex, NULL);
  if (rc != 0)
    return -rc;
  rc = pthread_cond_init(&barrier->priv.cond, NULL);
  if (rc != 0) {
    pthread_mutex_destroy(&barrier->priv.mutex);
    return -rc;
  }
  barrier->priv.threshold = count;
  barrier->priv.in = 0;
  barrier->priv.out = 0;
  barrier->priv.round = 0;
  return 0;
}

int eddy_barrier_wait(eddy_barrier_t *barrier) {
  unsigned long round;
  int last;

  EDDY__CHECK(pthread_mutex_lock(&barrier->priv.mutex));
  /* A thread fast enough to come back before the previous round has left
   * waits for it: the counts belong to one round at a time. */
  while (barrier->priv.out != 0)
    EDDY__CHECK(pthread_cond_wait(&barrier->priv.cond, &barrier->priv.mutex));
  round = barrier->priv.round;
  if (++barrier->priv.in == barrier->priv.threshold) {
    barrier->priv.in = 0;
    barrier->priv.out = barrier->priv.threshold;
    barrier->priv.round++;
    EDDY__CHECK(pthread_cond_broadcast(&barrier->priv.cond));
  } else {
    while (barrier->priv.round == round)
      EDDY__CHECK(pthread_cond_wait(&barrier->priv.cond, &barrier->priv.mutex));
  }
  assert(barrier->priv.out > 0);
  last = --barrier->priv.out == 0;
  if (last) /* the next round's early comers and eddy_barrier_destroy */
    EDDY__CHECK(pthread_cond_broadcast(&barrier->priv.cond));
  EDDY__CHECK(pthread_mutex_unlock(&barrier->priv.mutex));
  return last;
}

void eddy_barrier_destroy(eddy_barrier_t *barrier) {
  EDDY__CHECK(pthread_mutex_lock(&barrier->priv.mutex));
  assert(barrier->priv.in == 0); /* nobody may be waiting for a round */
  while (barrier->priv.out != 0)
    EDDY__CHECK(pthread_cond_wait(&barrier->priv.cond, &barrier->priv.mutex));
  EDDY__CHECK(pthread_mutex_unlock(&barrier->priv.mutex));
  EDDY__CHECK(pthread_cond_destroy(&barrier->priv.cond));
  EDDY__CHECK(pthread_mutex_destroy(&barrier->priv.mutex));
}

/* --- once, keys ----------------------------------------------------------- */

void eddy_once(eddy_once_t *guard, void (*callback)(void)) {
  EDDY__CHECK(pthread_once(guard, callback));
}

int eddy_key_create(eddy_key_t *key) {
  return -pthread_key_create(key, NULL);
}

void eddy_key_delete(eddy_key_t *key) {
  EDDY__CHECK(pthread_key_delete(*key));
}

void *eddy_key_get(eddy_key_t *key) {
  return pthread_getspecific(*key);
}

int eddy_key_set(eddy_key_t *key, void *value) {
  return -pthread_setspecific(*key, value);
}
