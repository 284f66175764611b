/* test_thread.c: eddy/thread.h: threads, mutexes, reader/writer locks,
 * condition variables, semaphores, barriers, once, keys, and atomic
 * wait/notify on both of its implementations (futex and the portable
 * table, see src/sys/atomic_internal.h).
 *
 * Helper threads never call cmocka's asserts (they jump out of the test on
 * failure, which works only on the test's own thread): they record what
 * they saw, and the test checks it after joining them. Nothing here
 * depends on timing except that a 10 ms timed wait with nobody to wake it
 * times out. Where a test needs threads to be asleep in a wait before it
 * notifies, it asks the implementation (the table's waiter count, or the
 * system call a thread is blocked in, from /proc/self/task/TID/syscall). */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "sys/atomic_internal.h"
#include "test_util.h"

static void spin_yield(void) {
  sched_yield();
}

/* --- threads ------------------------------------------------------------ */

struct thread_probe {
  int ran;
  int arg_ok;
  eddy_thread_t self;
  size_t stack;
  char name[EDDY_THREAD_NAME_MAX];
  int name_rc;
};

static void probe_entry(void *arg) {
  struct thread_probe *p = arg;
  pthread_attr_t attr;

  p->ran = 1;
  p->arg_ok = 1;
  p->self = eddy_thread_self();
  p->name_rc = eddy_thread_getname(&p->self, p->name, sizeof(p->name));
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstacksize(&attr, &p->stack);
    pthread_attr_destroy(&attr);
  }
}

static void test_thread_create_join(void **state) {
  struct thread_probe p;
  eddy_thread_t tid, self = eddy_thread_self();

  (void)state;
  memset(&p, 0, sizeof(p));
  assert_int_equal(eddy_thread_create(&tid, probe_entry, &p), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);
  assert_true(p.ran && p.arg_ok);
  assert_true(eddy_thread_equal(&p.self, &tid));
  assert_false(eddy_thread_equal(&p.self, &self));
  assert_true(eddy_thread_equal(&self, &self));
  assert_int_equal(eddy_thread_join(&self), EDDY_EDEADLK);
  assert_int_equal(eddy_thread_create(NULL, probe_entry, &p), EDDY_EINVAL);
  assert_int_equal(eddy_thread_create(&tid, NULL, &p), EDDY_EINVAL);
  assert_int_equal(eddy_thread_join(NULL), EDDY_EINVAL);
}

static void test_thread_create_ex(void **state) {
  eddy_thread_options_t opts;
  struct thread_probe p;
  eddy_thread_t tid;

  (void)state;
  /* A 1 MiB stack and a name too long for Linux: cut to 15 bytes, in place
   * before entry runs. */
  memset(&p, 0, sizeof(p));
  opts.flags = EDDY_THREAD_HAS_STACK_SIZE;
  opts.stack_size = 1u << 20;
  opts.name = "eddy-worker-with-a-long-name";
  assert_int_equal(eddy_thread_create_ex(&tid, &opts, probe_entry, &p), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);
  assert_true(p.ran);
  assert_int_equal(p.name_rc, 0);
  assert_string_equal(p.name, "eddy-worker-wit");
  assert_true(p.stack >= (1u << 20));

  /* A tiny stack is rounded up to what the system accepts. */
  memset(&p, 0, sizeof(p));
  opts.stack_size = 1;
  opts.name = NULL;
  assert_int_equal(eddy_thread_create_ex(&tid, &opts, probe_entry, &p), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);
  assert_true(p.ran);
  assert_true(p.stack >= (size_t)PTHREAD_STACK_MIN);

  /* Without the flag the size is not read; no options at all is fine. */
  opts.flags = EDDY_THREAD_NO_FLAGS;
  opts.stack_size = SIZE_MAX;
  assert_int_equal(eddy_thread_create_ex(&tid, &opts, probe_entry, &p), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);
  assert_int_equal(eddy_thread_create_ex(&tid, NULL, probe_entry, &p), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);

  opts.flags = EDDY_THREAD_HAS_STACK_SIZE; /* cannot round up */
  assert_int_equal(eddy_thread_create_ex(&tid, &opts, probe_entry, &p),
                   EDDY_EINVAL);
  assert_int_equal(eddy_thread_create_ex(&tid, NULL, NULL, &p), EDDY_EINVAL);
}

static void test_thread_names(void **state) {
  eddy_thread_t self = eddy_thread_self();
  char name[EDDY_THREAD_NAME_MAX], old[EDDY_THREAD_NAME_MAX];

  (void)state;
  assert_int_equal(eddy_thread_getname(&self, old, sizeof(old)), 0);
  assert_int_equal(eddy_thread_setname("thread-test"), 0);
  assert_int_equal(eddy_thread_getname(&self, name, sizeof(name)), 0);
  assert_string_equal(name, "thread-test");
  assert_int_equal(eddy_thread_getname(&self, name, 4), 0); /* cut */
  assert_string_equal(name, "thr");
  assert_int_equal(eddy_thread_setname("0123456789abcdefghij"), 0);
  assert_int_equal(eddy_thread_getname(&self, name, sizeof(name)), 0);
  assert_string_equal(name, "0123456789abcde");
  assert_int_equal(eddy_thread_setname(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_thread_getname(NULL, name, sizeof(name)), EDDY_EINVAL);
  assert_int_equal(eddy_thread_getname(&self, NULL, sizeof(name)), EDDY_EINVAL);
  assert_int_equal(eddy_thread_getname(&self, name, 0), EDDY_EINVAL);
  assert_int_equal(eddy_thread_setname(old), 0);
}

/* --- mutexes ------------------------------------------------------------ */

struct try_arg {
  eddy_mutex_t *mutex;
  eddy_rwlock_t *rwlock;
  int rd; /* tryrdlock (else trywrlock) for rwlocks */
  int result;
};

/* From another thread: try the lock, release it if taken. */
static void try_mutex_entry(void *arg) {
  struct try_arg *t = arg;

  t->result = eddy_mutex_trylock(t->mutex);
  if (t->result == 0)
    eddy_mutex_unlock(t->mutex);
}

static int try_mutex_elsewhere(eddy_mutex_t *m) {
  struct try_arg t = {m, NULL, 0, 1};
  eddy_thread_t tid;

  assert_int_equal(eddy_thread_create(&tid, try_mutex_entry, &t), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);
  return t.result;
}

struct counter {
  eddy_mutex_t mutex;
  long value;
};

static void count_entry(void *arg) {
  struct counter *c = arg;
  int i;

  for (i = 0; i < 10000; i++) {
    eddy_mutex_lock(&c->mutex);
    c->value++;
    eddy_mutex_unlock(&c->mutex);
  }
}

static void test_mutex(void **state) {
  struct counter c;
  eddy_thread_t tids[4];
  int i;

  (void)state;
  assert_int_equal(eddy_mutex_init(&c.mutex), 0);
  eddy_mutex_lock(&c.mutex);
  assert_int_equal(try_mutex_elsewhere(&c.mutex), EDDY_EBUSY);
  assert_int_equal(eddy_mutex_trylock(&c.mutex), EDDY_EBUSY); /* not again */
  eddy_mutex_unlock(&c.mutex);
  assert_int_equal(try_mutex_elsewhere(&c.mutex), 0);
  assert_int_equal(eddy_mutex_trylock(&c.mutex), 0);
  eddy_mutex_unlock(&c.mutex);

  c.value = 0;
  for (i = 0; i < 4; i++)
    assert_int_equal(eddy_thread_create(&tids[i], count_entry, &c), 0);
  for (i = 0; i < 4; i++)
    assert_int_equal(eddy_thread_join(&tids[i]), 0);
  assert_int_equal(c.value, 40000);
  eddy_mutex_destroy(&c.mutex);
}

static void test_mutex_recursive(void **state) {
  eddy_mutex_t m;

  (void)state;
  assert_int_equal(eddy_mutex_init_recursive(&m), 0);
  eddy_mutex_lock(&m);
  eddy_mutex_lock(&m);
  assert_int_equal(eddy_mutex_trylock(&m), 0); /* the holder may */
  assert_int_equal(try_mutex_elsewhere(&m), EDDY_EBUSY);
  eddy_mutex_unlock(&m);
  eddy_mutex_unlock(&m);
  assert_int_equal(try_mutex_elsewhere(&m), EDDY_EBUSY); /* still once */
  eddy_mutex_unlock(&m);
  assert_int_equal(try_mutex_elsewhere(&m), 0);
  eddy_mutex_destroy(&m);
}

/* --- reader/writer locks -------------------------------------------------- */

static void try_rwlock_entry(void *arg) {
  struct try_arg *t = arg;

  if (t->rd) {
    t->result = eddy_rwlock_tryrdlock(t->rwlock);
    if (t->result == 0)
      eddy_rwlock_rdunlock(t->rwlock);
  } else {
    t->result = eddy_rwlock_trywrlock(t->rwlock);
    if (t->result == 0)
      eddy_rwlock_wrunlock(t->rwlock);
  }
}

static int try_rwlock_elsewhere(eddy_rwlock_t *rw, int rd) {
  struct try_arg t = {NULL, rw, rd, 1};
  eddy_thread_t tid;

  assert_int_equal(eddy_thread_create(&tid, try_rwlock_entry, &t), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);
  return t.result;
}

/* Writers keep a == b; readers check that they never see them differ. */
struct rw_shared {
  eddy_rwlock_t lock;
  long a, b;
  int torn;
};

static void rw_writer(void *arg) {
  struct rw_shared *s = arg;
  int i;

  for (i = 0; i < 5000; i++) {
    eddy_rwlock_wrlock(&s->lock);
    s->a++;
    s->b++;
    eddy_rwlock_wrunlock(&s->lock);
  }
}

static void rw_reader(void *arg) {
  struct rw_shared *s = arg;
  int i, torn = 0;

  for (i = 0; i < 5000; i++) {
    eddy_rwlock_rdlock(&s->lock);
    torn += s->a != s->b;
    eddy_rwlock_rdunlock(&s->lock);
  }
  __atomic_fetch_add(&s->torn, torn, __ATOMIC_RELAXED);
}

static void test_rwlock(void **state) {
  struct rw_shared s;
  eddy_thread_t tids[4];
  int i;

  (void)state;
  assert_int_equal(eddy_rwlock_init(&s.lock), 0);
  eddy_rwlock_rdlock(&s.lock);
  assert_int_equal(eddy_rwlock_tryrdlock(&s.lock), 0); /* readers share */
  eddy_rwlock_rdunlock(&s.lock);
  assert_int_equal(try_rwlock_elsewhere(&s.lock, 1), 0);
  assert_int_equal(try_rwlock_elsewhere(&s.lock, 0), EDDY_EBUSY);
  eddy_rwlock_rdunlock(&s.lock);
  eddy_rwlock_wrlock(&s.lock);
  assert_int_equal(try_rwlock_elsewhere(&s.lock, 1), EDDY_EBUSY);
  assert_int_equal(try_rwlock_elsewhere(&s.lock, 0), EDDY_EBUSY);
  eddy_rwlock_wrunlock(&s.lock);
  assert_int_equal(eddy_rwlock_trywrlock(&s.lock), 0);
  assert_int_equal(try_rwlock_elsewhere(&s.lock, 1), EDDY_EBUSY);
  eddy_rwlock_wrunlock(&s.lock);

  s.a = s.b = 0;
  s.torn = 0;
  for (i = 0; i < 4; i++)
    assert_int_equal(
        eddy_thread_create(&tids[i], i < 2 ? rw_writer : rw_reader, &s), 0);
  for (i = 0; i < 4; i++)
    assert_int_equal(eddy_thread_join(&tids[i]), 0);
  assert_int_equal(s.a, 10000);
  assert_int_equal(s.b, 10000);
  assert_int_equal(s.torn, 0);
  eddy_rwlock_destroy(&s.lock);
}

/* --- condition variables ----------------------------------------------------
 */

struct cond_shared {
  eddy_mutex_t mutex;
  eddy_cond_t cond;
  int go;      /* the predicate */
  int waiting; /* threads inside the wait loop */
  int woke;
  int bad; /* timed wait results other than 0 */
};

/* Wait for go, announcing the wait first. */
static void cond_waiter(void *arg) {
  struct cond_shared *s = arg;

  eddy_mutex_lock(&s->mutex);
  s->waiting++;
  eddy_cond_broadcast(&s->cond); /* tell the test a waiter is in */
  while (!s->go)
    eddy_cond_wait(&s->cond, &s->mutex);
  s->woke++;
  eddy_mutex_unlock(&s->mutex);
}

/* The same with an "endless" timed wait, which must not overflow. */
static void cond_timed_waiter(void *arg) {
  struct cond_shared *s = arg;
  int r;

  eddy_mutex_lock(&s->mutex);
  s->waiting++;
  eddy_cond_broadcast(&s->cond);
  while (!s->go) {
    r = eddy_cond_timedwait(&s->cond, &s->mutex, UINT64_MAX);
    s->bad += r != 0;
  }
  s->woke++;
  eddy_mutex_unlock(&s->mutex);
}

static void cond_run(eddy_thread_cb entry, int n, int broadcast) {
  struct cond_shared s;
  eddy_thread_t tids[4];
  int i;

  memset(&s, 0, sizeof(s));
  assert_int_equal(eddy_mutex_init(&s.mutex), 0);
  assert_int_equal(eddy_cond_init(&s.cond), 0);
  for (i = 0; i < n; i++)
    assert_int_equal(eddy_thread_create(&tids[i], entry, &s), 0);
  eddy_mutex_lock(&s.mutex);
  while (s.waiting < n)
    eddy_cond_wait(&s.cond, &s.mutex);
  s.go = 1;
  if (broadcast)
    eddy_cond_broadcast(&s.cond);
  else
    eddy_cond_signal(&s.cond);
  eddy_mutex_unlock(&s.mutex);
  for (i = 0; i < n; i++)
    assert_int_equal(eddy_thread_join(&tids[i]), 0);
  assert_int_equal(s.woke, n);
  assert_int_equal(s.bad, 0);
  eddy_cond_destroy(&s.cond);
  eddy_mutex_destroy(&s.mutex);
}

static void test_cond_signal_broadcast(void **state) {
  (void)state;
  cond_run(cond_waiter, 1, 0);
  cond_run(cond_waiter, 4, 1);
  cond_run(cond_timed_waiter, 1, 0);
  cond_run(cond_timed_waiter, 3, 1);
}

static void test_cond_timedwait_times_out(void **state) {
  eddy_mutex_t m;
  eddy_cond_t c;
  uint64_t t0;

  (void)state;
  assert_int_equal(eddy_mutex_init(&m), 0);
  assert_int_equal(eddy_cond_init(&c), 0);
  eddy_mutex_lock(&m);
  t0 = eddy_hrtime();
  /* Spurious wake-ups are allowed: wait until the timeout is reported. */
  while (eddy_cond_timedwait(&c, &m, 10 * 1000000u) != EDDY_ETIMEDOUT)
    ;
  assert_true(eddy_hrtime() - t0 >= 10 * 1000000u);
  while (eddy_cond_timedwait(&c, &m, 0) != EDDY_ETIMEDOUT)
    ;
  eddy_mutex_unlock(&m); /* held again after the timeout */
  eddy_cond_destroy(&c);
  eddy_mutex_destroy(&m);
}

/* --- semaphores -------------------------------------------------------------
 */

struct sem_pair {
  eddy_sem_t items;
  long taken;
};

static void sem_consumer(void *arg) {
  struct sem_pair *p = arg;
  int i;

  for (i = 0; i < 10000; i++) {
    eddy_sem_wait(&p->items);
    p->taken++;
  }
}

static void test_sem(void **state) {
  struct sem_pair p;
  eddy_thread_t tid;
  eddy_sem_t s;
  int i;

  (void)state;
  assert_int_equal(eddy_sem_init(&s, 0), 0);
  assert_int_equal(eddy_sem_trywait(&s), EDDY_EAGAIN);
  eddy_sem_post(&s);
  eddy_sem_post(&s);
  assert_int_equal(eddy_sem_trywait(&s), 0);
  eddy_sem_wait(&s); /* the second token: does not block */
  assert_int_equal(eddy_sem_trywait(&s), EDDY_EAGAIN);
  eddy_sem_destroy(&s);
  assert_int_equal(eddy_sem_init(&s, 3), 0);
  for (i = 0; i < 3; i++)
    assert_int_equal(eddy_sem_trywait(&s), 0);
  assert_int_equal(eddy_sem_trywait(&s), EDDY_EAGAIN);
  eddy_sem_destroy(&s);
  assert_int_equal(eddy_sem_init(&s, (unsigned)INT_MAX + 1u), EDDY_EINVAL);

  /* 10,000 tokens through a consumer that blocks whenever it runs ahead. */
  assert_int_equal(eddy_sem_init(&p.items, 0), 0);
  p.taken = 0;
  assert_int_equal(eddy_thread_create(&tid, sem_consumer, &p), 0);
  for (i = 0; i < 10000; i++)
    eddy_sem_post(&p.items);
  assert_int_equal(eddy_thread_join(&tid), 0);
  assert_int_equal(p.taken, 10000);
  assert_int_equal(eddy_sem_trywait(&p.items), EDDY_EAGAIN);
  eddy_sem_destroy(&p.items);
}

/* --- barriers ------------------------------------------------------------ */

#define BARRIER_THREADS 4
#define BARRIER_ROUNDS 100

struct barrier_shared {
  eddy_barrier_t barrier;
  int arrived[BARRIER_ROUNDS]; /* atomic: threads that reached round r */
  int serial[BARRIER_ROUNDS];  /* atomic: non-zero returns in round r */
  int early;                   /* atomic: left round r before all came */
};

static void barrier_entry(void *arg) {
  struct barrier_shared *s = arg;
  int r;

  for (r = 0; r < BARRIER_ROUNDS; r++) {
    __atomic_fetch_add(&s->arrived[r], 1, __ATOMIC_SEQ_CST);
    if (eddy_barrier_wait(&s->barrier) != 0)
      __atomic_fetch_add(&s->serial[r], 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->arrived[r], __ATOMIC_SEQ_CST) != BARRIER_THREADS)
      __atomic_fetch_add(&s->early, 1, __ATOMIC_SEQ_CST);
  }
}

static void test_barrier(void **state) {
  struct barrier_shared s;
  eddy_thread_t tids[BARRIER_THREADS];
  eddy_barrier_t one;
  int i;

  (void)state;
  assert_int_equal(eddy_barrier_init(&one, 0), EDDY_EINVAL);
  assert_int_equal(eddy_barrier_init(&one, 1), 0);
  assert_true(eddy_barrier_wait(&one) != 0); /* alone: always the one */
  assert_true(eddy_barrier_wait(&one) != 0);
  eddy_barrier_destroy(&one);

  memset(&s, 0, sizeof(s));
  assert_int_equal(eddy_barrier_init(&s.barrier, BARRIER_THREADS), 0);
  for (i = 0; i < BARRIER_THREADS; i++)
    assert_int_equal(eddy_thread_create(&tids[i], barrier_entry, &s), 0);
  for (i = 0; i < BARRIER_THREADS; i++)
    assert_int_equal(eddy_thread_join(&tids[i]), 0);
  for (i = 0; i < BARRIER_ROUNDS; i++) {
    assert_int_equal(s.arrived[i], BARRIER_THREADS);
    assert_int_equal(s.serial[i], 1);
  }
  assert_int_equal(s.early, 0);
  eddy_barrier_destroy(&s.barrier);
}

/* The thread told it is the one frees the barrier at once; ASan would see
 * another thread still inside it. */
static void barrier_free_entry(void *arg) {
  eddy_barrier_t *b = arg;

  if (eddy_barrier_wait(b) != 0) {
    eddy_barrier_destroy(b);
    free(b);
  }
}

static void test_barrier_destroy_by_last(void **state) {
  eddy_thread_t tids[BARRIER_THREADS];
  eddy_barrier_t *b;
  int i, round;

  (void)state;
  for (round = 0; round < 50; round++) {
    b = malloc(sizeof(*b));
    assert_non_null(b);
    assert_int_equal(eddy_barrier_init(b, BARRIER_THREADS), 0);
    for (i = 0; i < BARRIER_THREADS; i++)
      assert_int_equal(eddy_thread_create(&tids[i], barrier_free_entry, b), 0);
    for (i = 0; i < BARRIER_THREADS; i++)
      assert_int_equal(eddy_thread_join(&tids[i]), 0);
  }
}

/* --- once, keys ----------------------------------------------------------- */

static eddy_once_t once_guard = EDDY_ONCE_INIT;
static int once_calls; /* written once, inside the once */
static eddy_barrier_t once_start;

static void once_cb(void) {
  once_calls++;
}

static void once_entry(void *arg) {
  int *seen = arg;

  eddy_barrier_wait(&once_start); /* all at once */
  eddy_once(&once_guard, once_cb);
  *seen = once_calls; /* eddy_once returned: the call is visible */
}

static void test_once(void **state) {
  eddy_thread_t tids[8];
  int seen[8], i;

  (void)state;
  assert_int_equal(eddy_barrier_init(&once_start, 8), 0);
  for (i = 0; i < 8; i++)
    assert_int_equal(eddy_thread_create(&tids[i], once_entry, &seen[i]), 0);
  for (i = 0; i < 8; i++)
    assert_int_equal(eddy_thread_join(&tids[i]), 0);
  assert_int_equal(once_calls, 1);
  for (i = 0; i < 8; i++)
    assert_int_equal(seen[i], 1);
  eddy_once(&once_guard, once_cb);
  assert_int_equal(once_calls, 1);
  eddy_barrier_destroy(&once_start);
}

struct key_probe {
  eddy_key_t *key;
  void *before, *after;
  int set_rc;
};

static void key_entry(void *arg) {
  struct key_probe *p = arg;

  p->before = eddy_key_get(p->key);
  p->set_rc = eddy_key_set(p->key, &p->after);
  p->after = eddy_key_get(p->key);
}

static void test_key(void **state) {
  struct key_probe p;
  eddy_thread_t tid;
  eddy_key_t key;
  int mine;

  (void)state;
  assert_int_equal(eddy_key_create(&key), 0);
  assert_null(eddy_key_get(&key));
  assert_int_equal(eddy_key_set(&key, &mine), 0);
  assert_ptr_equal(eddy_key_get(&key), &mine);
  p.key = &key;
  assert_int_equal(eddy_thread_create(&tid, key_entry, &p), 0);
  assert_int_equal(eddy_thread_join(&tid), 0);
  assert_null(p.before); /* each thread has its own value */
  assert_int_equal(p.set_rc, 0);
  assert_ptr_equal(p.after, &p.after);
  assert_ptr_equal(eddy_key_get(&key), &mine);
  assert_int_equal(eddy_key_set(&key, NULL), 0);
  assert_null(eddy_key_get(&key));
  eddy_key_delete(&key);
#ifdef __GLIBC__
  assert_int_equal(eddy_key_set(&key, &mine), EDDY_EINVAL); /* deleted */
#endif
}

/* Keys run out: EAGAIN, and every key can be given back. */
static void test_key_exhausted(void **state) {
  enum { MAX = 4096 };
  eddy_key_t *keys = malloc(MAX * sizeof(*keys));
  int n = 0, r = 0;

  (void)state;
  assert_non_null(keys);
  while (n < MAX && (r = eddy_key_create(&keys[n])) == 0)
    n++;
  assert_int_equal(r, EDDY_EAGAIN);
  assert_true(n >= 100);
  while (n > 0)
    eddy_key_delete(&keys[--n]);
  free(keys);
}

/* --- atomic wait / notify ------------------------------------------------- */

/* One implementation under test. */
struct atomic_impl {
  const char *name;
  int (*wait)(const uint32_t *addr, uint32_t expected, int64_t timeout_ns);
  int (*notify)(const uint32_t *addr, unsigned count);
  int futex; /* how to tell that a thread sleeps in a wait */
};

static const struct atomic_impl impls[] = {
#ifdef __linux__
    {"futex", eddy__atomic_wait_futex, eddy__atomic_notify_futex, 1},
#endif
    {"table", eddy__atomic_wait_table, eddy__atomic_notify_table, 0},
    {"public", eddy_atomic_wait, eddy_atomic_notify,
#ifdef __linux__
     1
#else
     0
#endif
    },
};
#define NIMPLS ((int)(sizeof(impls) / sizeof(impls[0])))

#define MS (1000 * 1000)
#define LONG_WAIT (30LL * 1000 * MS) /* "never" that cannot hang a test */

/* Is thread tid asleep in a futex wait on addr? /proc/self/task/TID/syscall
 * names the system call and its arguments only while the thread is
 * blocked in it (the kernel queued it before it went to sleep). */
static int futex_sleeping(pid_t tid, const uint32_t *addr) {
  char path[64], line[256];
  unsigned long long nr, arg0;
  int ok = 0;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
  f = fopen(path, "r");
  if (f == NULL)
    return 0;
  if (fgets(line, sizeof(line), f) != NULL &&
      sscanf(line, "%llu 0x%llx", &nr, &arg0) == 2)
    ok = nr == (unsigned long long)SYS_futex &&
         arg0 == (unsigned long long)(uintptr_t)addr;
  fclose(f);
  return ok;
}

/* A thread that waits once on a word. */
struct waiter {
  const struct atomic_impl *impl;
  uint32_t *addr;
  uint32_t expected;
  int64_t timeout;
  pid_t tid;  /* atomic: set before waiting */
  int result; /* atomic: -100 until the wait returned */
};

static void waiter_entry(void *arg) {
  struct waiter *w = arg;

  __atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
  __atomic_store_n(&w->result, w->impl->wait(w->addr, w->expected, w->timeout),
                   __ATOMIC_SEQ_CST);
}

/* Wait until n of the waiters ws sleep on their word. */
static void await_sleepers(struct waiter *ws, int n) {
  int asleep, i;

  for (;;) {
    asleep = 0;
    for (i = 0; i < n; i++) {
      pid_t tid = __atomic_load_n(&ws[i].tid, __ATOMIC_SEQ_CST);
      if (ws[i].impl->futex)
        asleep += tid != 0 && futex_sleeping(tid, ws[i].addr);
    }
    if (!ws[0].impl->futex)
      asleep = (int)eddy__atomic_table_waiters(ws[0].addr);
    if (asleep == n)
      return;
    spin_yield();
  }
}

static void waiters_start(struct waiter *ws, eddy_thread_t *tids, int n,
                          const struct atomic_impl *impl, uint32_t *addr,
                          int64_t timeout) {
  int i;

  for (i = 0; i < n; i++) {
    ws[i].impl = impl;
    ws[i].addr = addr;
    ws[i].expected = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
    ws[i].timeout = timeout;
    ws[i].tid = 0;
    ws[i].result = -100;
    assert_int_equal(eddy_thread_create(&tids[i], waiter_entry, &ws[i]), 0);
  }
}

static int waiters_done(struct waiter *ws, int n) {
  int i, done = 0;

  for (i = 0; i < n; i++)
    done += __atomic_load_n(&ws[i].result, __ATOMIC_SEQ_CST) != -100;
  return done;
}

static void test_atomic_args(void **state) {
  uint32_t words[2] = {0, 0};
  const uint32_t *odd = (const uint32_t *)(void *)((char *)words + 1);

  (void)state;
  assert_int_equal(eddy_atomic_wait(NULL, 0, 0), EDDY_EINVAL);
  assert_int_equal(eddy_atomic_wait(odd, 0, 0), EDDY_EINVAL);
  assert_int_equal(eddy_atomic_wait(&words[0], 0, -2), EDDY_EINVAL);
  assert_int_equal(eddy_atomic_wait(&words[0], 0, INT64_MIN), EDDY_EINVAL);
  assert_int_equal(eddy_atomic_notify(NULL, 1), EDDY_EINVAL);
  assert_int_equal(eddy_atomic_notify(odd, 1), EDDY_EINVAL);
  assert_int_equal(EDDY_ATOMIC_OK, 0);
  assert_true(EDDY_ATOMIC_NOT_EQUAL != EDDY_ATOMIC_TIMED_OUT);
}

static void test_atomic_not_equal_and_timeout(void **state) {
  uint32_t word = 5;
  int i;

  (void)state;
  for (i = 0; i < NIMPLS; i++) {
    const struct atomic_impl *im = &impls[i];
    assert_int_equal(im->wait(&word, 4, -1), EDDY_ATOMIC_NOT_EQUAL);
    assert_int_equal(im->wait(&word, 4, 0), EDDY_ATOMIC_NOT_EQUAL);
    assert_int_equal(im->wait(&word, 5, 0), EDDY_ATOMIC_TIMED_OUT);
    assert_int_equal(im->wait(&word, 5, 10 * MS), EDDY_ATOMIC_TIMED_OUT);
    assert_int_equal(im->wait(&word, 5, 1), EDDY_ATOMIC_TIMED_OUT);
    assert_int_equal(im->notify(&word, 1), 0); /* nobody waits */
    assert_int_equal(im->notify(&word, UINT_MAX), 0);
    assert_int_equal(im->notify(&word, 0), 0);
  }
}

/* A notify without a change wakes a waiter ("ok"); so does store + notify;
 * a forever wait (-1) is woken too. */
static void test_atomic_ok(void **state) {
  struct waiter w[1];
  eddy_thread_t tid[1];
  uint32_t word = 7;
  int i;

  (void)state;
  for (i = 0; i < NIMPLS; i++) {
    /* INT64_MAX: a deadline that must not overflow */
    waiters_start(w, tid, 1, &impls[i], &word, INT64_MAX);
    await_sleepers(w, 1);
    assert_int_equal(impls[i].notify(&word, 0), 0); /* wakes none */
    assert_int_equal(impls[i].notify(&word, 1), 1);
    assert_int_equal(eddy_thread_join(&tid[0]), 0);
    assert_int_equal(w[0].result, EDDY_ATOMIC_OK);

    w[0].impl = &impls[i];
    w[0].addr = &word;
    w[0].expected = 7;
    w[0].timeout = -1;
    w[0].tid = 0;
    w[0].result = -100;
    assert_int_equal(eddy_thread_create(&tid[0], waiter_entry, &w[0]), 0);
    await_sleepers(w, 1);
    __atomic_store_n(&word, 8, __ATOMIC_RELEASE);
    assert_int_equal(impls[i].notify(&word, UINT_MAX), 1);
    assert_int_equal(eddy_thread_join(&tid[0]), 0);
    assert_int_equal(w[0].result, EDDY_ATOMIC_OK);
    word = 7;
  }
}

/* Four waiters on one word, one on another: each notify wakes exactly what
 * it says, and the bystander only when its own word is notified. */
static void test_atomic_notify_counts(void **state) {
  struct waiter w[4], by[1];
  eddy_thread_t tids[4], btid[1];
  uint32_t words[2] = {0, 0};
  int i, j;

  (void)state;
  for (i = 0; i < NIMPLS; i++) {
    const struct atomic_impl *im = &impls[i];
    waiters_start(w, tids, 4, im, &words[0], LONG_WAIT);
    waiters_start(by, btid, 1, im, &words[1], LONG_WAIT);
    await_sleepers(w, 4);
    await_sleepers(by, 1);
    assert_int_equal(im->notify(&words[0], 1), 1);
    while (waiters_done(w, 4) != 1)
      spin_yield();
    assert_int_equal(im->notify(&words[0], 2), 2);
    while (waiters_done(w, 4) != 3)
      spin_yield();
    assert_int_equal(im->notify(&words[0], UINT_MAX), 1);
    for (j = 0; j < 4; j++) {
      assert_int_equal(eddy_thread_join(&tids[j]), 0);
      assert_int_equal(w[j].result, EDDY_ATOMIC_OK);
    }
    assert_int_equal(im->notify(&words[0], UINT_MAX), 0);
    assert_int_equal(waiters_done(by, 1), 0); /* still asleep */
    assert_int_equal(im->notify(&words[1], UINT_MAX), 1);
    assert_int_equal(eddy_thread_join(&btid[0]), 0);
    assert_int_equal(by[0].result, EDDY_ATOMIC_OK);
  }
}

/* Table only: the first waiter is woken first. */
static void test_atomic_table_fifo(void **state) {
  struct waiter w[3];
  eddy_thread_t tids[3];
  const struct atomic_impl *table = NULL;
  uint32_t word = 0;
  int i;

  (void)state;
  for (i = 0; i < NIMPLS; i++)
    if (strcmp(impls[i].name, "table") == 0)
      table = &impls[i];
  assert_non_null(table);
  for (i = 0; i < 3; i++) { /* one at a time, so the order is known */
    waiters_start(&w[i], &tids[i], 1, table, &word, LONG_WAIT);
    while (eddy__atomic_table_waiters(&word) != (unsigned)i + 1)
      spin_yield();
  }
  for (i = 0; i < 3; i++) {
    assert_int_equal(eddy__atomic_notify_table(&word, 1), 1);
    assert_int_equal(eddy_thread_join(&tids[i]), 0);
    assert_int_equal(w[i].result, EDDY_ATOMIC_OK);
  }
}

/* Ping-pong: the word counts turns; A moves it to odd values, B to even
 * ones, each waiting for the other's move. A notify lost between a
 * waiter's comparison and its sleep would stop the game (a 30 s wait then
 * reports it as a failure rather than hanging). */
#define PINGPONG_ROUNDS 100000

struct pingpong {
  const struct atomic_impl *impl;
  uint32_t word;
  int failures;
};

/* Wait until the word holds want. */
static int pingpong_await(struct pingpong *p, uint32_t want) {
  uint32_t cur;
  int r;

  while ((cur = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE)) != want) {
    r = p->impl->wait(&p->word, cur, LONG_WAIT);
    if (r != EDDY_ATOMIC_OK && r != EDDY_ATOMIC_NOT_EQUAL)
      return -1;
  }
  return 0;
}

static void pingpong_b(void *arg) {
  struct pingpong *p = arg;
  uint32_t i;

  for (i = 0; i < PINGPONG_ROUNDS; i++) {
    if (pingpong_await(p, 2 * i + 1) != 0) {
      p->failures++;
      return;
    }
    __atomic_store_n(&p->word, 2 * i + 2, __ATOMIC_RELEASE);
    p->impl->notify(&p->word, 1);
  }
}

static void test_atomic_pingpong(void **state) {
  struct pingpong p;
  eddy_thread_t tid;
  uint32_t i;
  int k, failures;

  (void)state;
  for (k = 0; k < NIMPLS; k++) {
    if (strcmp(impls[k].name, "public") == 0)
      continue; /* the same code as futex (or table) */
    memset(&p, 0, sizeof(p));
    p.impl = &impls[k];
    failures = 0;
    assert_int_equal(eddy_thread_create(&tid, pingpong_b, &p), 0);
    for (i = 0; i < PINGPONG_ROUNDS; i++) {
      __atomic_store_n(&p.word, 2 * i + 1, __ATOMIC_RELEASE);
      p.impl->notify(&p.word, 1);
      if (pingpong_await(&p, 2 * i + 2) != 0) {
        failures++;
        break;
      }
    }
    assert_int_equal(eddy_thread_join(&tid), 0);
    assert_int_equal(failures, 0);
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.word, 2 * PINGPONG_ROUNDS);
  }
}

/* Timeouts racing notifies: every waiter counted by a notify must return
 * "ok", and every "ok" must have been counted, so the sums match exactly. */
#define RACE_WAITERS 3
#define RACE_WAITS 300

struct race {
  const struct atomic_impl *impl;
  uint32_t word;
  int stop;   /* atomic */
  long oks;   /* atomic: waits that returned "ok" */
  long woken; /* what the notifies returned, summed */
  int bad;    /* atomic */
};

static void race_waiter(void *arg) {
  struct race *r = arg;
  int i, res;

  for (i = 0; i < RACE_WAITS; i++) {
    res = r->impl->wait(&r->word, 0, 200 * 1000); /* 0.2 ms */
    if (res == EDDY_ATOMIC_OK)
      __atomic_fetch_add(&r->oks, 1, __ATOMIC_SEQ_CST);
    else if (res != EDDY_ATOMIC_TIMED_OUT)
      __atomic_fetch_add(&r->bad, 1, __ATOMIC_SEQ_CST);
  }
}

static void race_notifier(void *arg) {
  struct race *r = arg;
  long woken = 0;
  int n;

  while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST)) {
    n = r->impl->notify(&r->word, 1);
    if (n < 0)
      __atomic_fetch_add(&r->bad, 1, __ATOMIC_SEQ_CST);
    else
      woken += n;
    spin_yield();
  }
  r->woken = woken; /* read after the join */
}

static void test_atomic_exact_counts_under_timeouts(void **state) {
  eddy_thread_t tids[RACE_WAITERS], ntid;
  struct race r;
  int i, k;

  (void)state;
  for (k = 0; k < NIMPLS; k++) {
    memset(&r, 0, sizeof(r));
    r.impl = &impls[k];
    for (i = 0; i < RACE_WAITERS; i++)
      assert_int_equal(eddy_thread_create(&tids[i], race_waiter, &r), 0);
    assert_int_equal(eddy_thread_create(&ntid, race_notifier, &r), 0);
    for (i = 0; i < RACE_WAITERS; i++)
      assert_int_equal(eddy_thread_join(&tids[i]), 0);
    __atomic_store_n(&r.stop, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(eddy_thread_join(&ntid), 0);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.oks, r.woken);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thread_create_join),
      cmocka_unit_test(test_thread_create_ex),
      cmocka_unit_test(test_thread_names),
      cmocka_unit_test(test_mutex),
      cmocka_unit_test(test_mutex_recursive),
      cmocka_unit_test(test_rwlock),
      cmocka_unit_test(test_cond_signal_broadcast),
      cmocka_unit_test(test_cond_timedwait_times_out),
      cmocka_unit_test(test_sem),
      cmocka_unit_test(test_barrier),
      cmocka_unit_test(test_barrier_destroy_by_last),
      cmocka_unit_test(test_once),
      cmocka_unit_test(test_key),
      cmocka_unit_test(test_key_exhausted),
      cmocka_unit_test(test_atomic_args),
      cmocka_unit_test(test_atomic_not_equal_and_timeout),
      cmocka_unit_test(test_atomic_ok),
      cmocka_unit_test(test_atomic_notify_counts),
      cmocka_unit_test(test_atomic_table_fifo),
      cmocka_unit_test(test_atomic_pingpong),
      cmocka_unit_test(test_atomic_exact_counts_under_timeouts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
