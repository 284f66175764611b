/* work.c: the process-wide work pool.
 *
 * Waiting jobs sit in two FIFO queues under one mutex: one for CPU and
 * file-system jobs, one for slow jobs (DNS). A free thread takes whichever
 * head was submitted first, except that slow jobs may occupy at most
 * (n + 1) / 2 threads. Idle threads sleep on one condition variable and a
 * submission wakes one of them only if one is asleep.
 *
 * A finished job is pushed onto its loop's completion stack, a lock-free
 * list; the push that finds the stack empty writes the loop's wake-up
 * descriptor, so a burst of completions costs the loop one wake-up. The loop
 * takes the whole stack with one exchange and runs the callbacks in
 * completion order. Jobs those callbacks queue (the usual way to keep N
 * jobs in flight) are collected and handed to the pool under one lock
 * when the callbacks are done, instead of one lock round trip each. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "core/wakeup.h"
#include "pool/work_internal.h"

#define EDDY__POOL_DEFAULT 4
#define EDDY__POOL_MAX 1024
#define EDDY__POOL_STACK (8u << 20) /* as libuv: deep recursion in jobs */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  eddy_queue_t queue; /* CPU and file-system jobs */
  eddy_queue_t slow;  /* DNS jobs */
  uint64_t seq;
  unsigned idle;         /* threads asleep on cond */
  unsigned queued;       /* jobs on the two queues */
  unsigned slow_running;
  unsigned slow_max;
  unsigned nthreads;
  int started; /* atomic: read without the lock on the fast path */
  pthread_t threads[EDDY__POOL_MAX];
} eddy__pool = {
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .cond = PTHREAD_COND_INITIALIZER,
};

/* Node's rules for UV_THREADPOOL_SIZE: unset gives the default; 0 or
 * anything that is not a positive number gives 1; at most 1024. */
static unsigned eddy__pool_size_from_env(void) {
  const char *val = getenv("EDDY_THREADPOOL_SIZE");
  long n;

  if (val == NULL)
    return EDDY__POOL_DEFAULT;
  n = strtol(val, NULL, 10);
  if (n < 1)
    return 1;
  return n > EDDY__POOL_MAX ? EDDY__POOL_MAX : (unsigned)n;
}

/* The next job this thread may start, or NULL. Pool lock held. */
static eddy__work_t *eddy__pool_next(void) {
  eddy__work_t *fast = NULL;
  eddy__work_t *slow = NULL;

  if (!eddy__queue_empty(&eddy__pool.queue))
    fast = eddy__container_of(eddy__pool.queue.next, eddy__work_t, node);
  if (!eddy__queue_empty(&eddy__pool.slow) &&
      eddy__pool.slow_running < eddy__pool.slow_max)
    slow = eddy__container_of(eddy__pool.slow.next, eddy__work_t, node);
  if (fast == NULL)
    return slow;
  if (slow == NULL)
    return fast;
  return slow->seq < fast->seq ? slow : fast;
}

/* Hand a finished or cancelled job to its loop. The loop may run the
 * callback, free the request and even close as soon as the push lands, so
 * nothing of the job is read after it, and the senders count keeps the loop
 * itself from being closed under us. */
static void eddy__work_complete(eddy__work_t *w) {
  eddy_loop_t *loop = w->loop;
  eddy__work_t *head = __atomic_load_n(&loop->priv.work.done, __ATOMIC_RELAXED);

  /* Onto a non-empty stack: the loop has a wake-up coming already, and
   * nothing of the loop is touched after the push, so no sender count is
   * needed (two locked instructions fewer per job under load). */
  while (head != NULL) {
    w->next_done = head;
    if (__atomic_compare_exchange_n(&loop->priv.work.done, &head, w, 1,
                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
      return;
  }
  __atomic_fetch_add(&loop->priv.work.senders, 1, __ATOMIC_SEQ_CST);
  head = __atomic_load_n(&loop->priv.work.done, __ATOMIC_RELAXED);
  do
    w->next_done = head;
  while (!__atomic_compare_exchange_n(&loop->priv.work.done, &head, w, 1,
                                      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
  if (head == NULL)
    eddy__wakeup_signal(loop);
  __atomic_fetch_sub(&loop->priv.work.senders, 1, __ATOMIC_SEQ_CST);
}

static void *eddy__pool_thread(void *arg) {
  eddy__work_t *w;
  int slow;

  (void)arg;
  pthread_mutex_lock(&eddy__pool.lock);
  for (;;) {
    w = eddy__pool_next();
    if (w == NULL) {
      eddy__pool.idle++;
      pthread_cond_wait(&eddy__pool.cond, &eddy__pool.lock);
      eddy__pool.idle--;
      continue;
    }
    assert(w->state == EDDY__WORK_QUEUED);
    eddy__queue_remove(&w->node);
    eddy__pool.queued--;
    w->state = EDDY__WORK_RUNNING;
    if (w->queued_ns != 0) /* the loop has metrics on */
      w->started_ns = eddy_hrtime();
    slow = w->kind == EDDY__WORK_SLOW_IO;
    if (slow)
      eddy__pool.slow_running++;
    assert(eddy__pool.slow_running <= eddy__pool.slow_max);
    pthread_mutex_unlock(&eddy__pool.lock);

    w->work(w);
    eddy__work_complete(w);

    pthread_mutex_lock(&eddy__pool.lock);
    if (slow) {
      assert(eddy__pool.slow_running > 0);
      eddy__pool.slow_running--;
      /* A slow job may have been waiting for this slot while every other
       * thread slept. */
      if (!eddy__queue_empty(&eddy__pool.slow) && eddy__pool.idle > 0)
        pthread_cond_signal(&eddy__pool.cond);
    }
  }
  return NULL;
}

/* A forked child has none of the parent's threads: it starts its own pool
 * on first use. Jobs the parent had queued are not the child's to run. */
static void eddy__pool_after_fork(void) {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

  eddy__pool.lock = lock;
  eddy__pool.cond = cond;
  eddy__queue_init(&eddy__pool.queue);
  eddy__queue_init(&eddy__pool.slow);
  eddy__pool.idle = 0;
  eddy__pool.queued = 0;
  eddy__pool.slow_running = 0;
  eddy__pool.nthreads = 0;
  __atomic_store_n(&eddy__pool.started, 0, __ATOMIC_RELEASE);
}

/* Create the threads. Pool lock held. Fails only if no thread at all could
 * be created; a pool that got fewer threads than asked for runs with them. */
static int eddy__pool_create(void) {
  static int atfork_registered;
  pthread_attr_t attr;
  unsigned want = eddy__pool_size_from_env();
  unsigned i;
  int err = 0;

  if (!atfork_registered) {
    if (pthread_atfork(NULL, NULL, eddy__pool_after_fork) != 0)
      return EDDY_ENOMEM;
    atfork_registered = 1;
  }
  eddy__queue_init(&eddy__pool.queue);
  eddy__queue_init(&eddy__pool.slow);
  if (pthread_attr_init(&attr) != 0)
    return EDDY_ENOMEM;
  pthread_attr_setstacksize(&attr, EDDY__POOL_STACK);
  for (i = 0; i < want; i++) {
    err = pthread_create(&eddy__pool.threads[i], &attr, eddy__pool_thread,
                         NULL);
    if (err != 0)
      break;
#ifdef __linux__
    pthread_setname_np(eddy__pool.threads[i], "eddy-worker");
#endif
  }
  pthread_attr_destroy(&attr);
  if (i == 0)
    return -err;
  eddy__pool.nthreads = i;
  eddy__pool.slow_max = (i + 1) / 2;
  return 0;
}

static int eddy__pool_start(void) {
  int err = 0;

  if (__atomic_load_n(&eddy__pool.started, __ATOMIC_ACQUIRE))
    return 0;
  pthread_mutex_lock(&eddy__pool.lock);
  if (!eddy__pool.started) {
    err = eddy__pool_create();
    if (err == 0)
      __atomic_store_n(&eddy__pool.started, 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&eddy__pool.lock);
  return err;
}

void eddy__pool_stats(unsigned *threads, unsigned *busy, unsigned *queued) {
  pthread_mutex_lock(&eddy__pool.lock);
  *threads = eddy__pool.nthreads;
  *busy = eddy__pool.nthreads - eddy__pool.idle;
  *queued = eddy__pool.queued;
  pthread_mutex_unlock(&eddy__pool.lock);
}

int eddy_threadpool_size(void) {
  int err = eddy__pool_start();

  return err != 0 ? err : (int)eddy__pool.nthreads;
}

/* The loop whose completions this thread is running, if any. */
static _Thread_local eddy_loop_t *eddy__dispatching;

/* Put a job on the pool's queues. Pool lock held. */
static void eddy__pool_enqueue(eddy__work_t *w) {
  w->seq = eddy__pool.seq++;
  eddy__pool.queued++;
  eddy__queue_insert_tail(
      w->kind == EDDY__WORK_SLOW_IO ? &eddy__pool.slow : &eddy__pool.queue,
      &w->node);
}

static void eddy__work_wakeup(eddy_loop_t *loop, struct eddy__loop_part *part);
static void eddy__work_loop_close(eddy_loop_t *loop,
                                  struct eddy__loop_part *part);

static const struct eddy__loop_part_ops eddy__work_part = {
    .name = "work",
    .order = EDDY__PART_WORK,
    .wakeup = eddy__work_wakeup,
    .close = eddy__work_loop_close,
};

int eddy__work_submit(eddy_loop_t *loop, eddy__work_t *w,
                      enum eddy__work_kind kind, void (*work)(eddy__work_t *w),
                      void (*done)(eddy__work_t *w, int status)) {
  int err;

  if ((err = eddy__pool_start()) != 0 || (err = eddy__wakeup_open(loop)) != 0)
    return err;
  /* The first job comes from the loop's thread (later ones may come from
   * its jobs' work functions, after the registration). */
  if (loop->priv.work.part.ops == NULL)
    eddy__loop_part_add(loop, &loop->priv.work.part, &eddy__work_part);
  w->work = work;
  w->done = done;
  w->loop = loop;
  w->kind = kind;
  w->next_done = NULL;
  w->state = EDDY__WORK_QUEUED;
  /* Queue wait is measured for loops with metrics on; the state pointer
   * is set on the loop's thread and read here by its jobs too. */
  w->started_ns = 0;
  w->queued_ns =
      __atomic_load_n(&loop->priv.metrics.state, __ATOMIC_RELAXED) != NULL
          ? eddy_hrtime()
          : 0;
  eddy__req_register(loop, (eddy_req_type)w->req_type);
  if (eddy__dispatching == loop) {
    /* From a completion callback: joins the batch eddy__work_dispatch
     * hands over when the callbacks are done. Only this thread touches
     * the batch; eddy__work_cancel may unlink it (same thread). */
    eddy__queue_insert_tail(&loop->priv.work.batch, &w->node);
    return 0;
  }
  pthread_mutex_lock(&eddy__pool.lock);
  eddy__pool_enqueue(w);
  if (eddy__pool.idle > 0)
    pthread_cond_signal(&eddy__pool.cond);
  pthread_mutex_unlock(&eddy__pool.lock);
  return 0;
}

/* Hand the batch to the pool, in order, waking as many sleeping threads
 * as there are new jobs. */
static void eddy__work_flush_batch(eddy_loop_t *loop) {
  unsigned n = 0;

  pthread_mutex_lock(&eddy__pool.lock);
  while (!eddy__queue_empty(&loop->priv.work.batch)) {
    eddy__work_t *w =
        eddy__container_of(loop->priv.work.batch.next, eddy__work_t, node);

    eddy__queue_remove(&w->node);
    eddy__pool_enqueue(w);
    n++;
  }
  if (n >= eddy__pool.idle)
    pthread_cond_broadcast(&eddy__pool.cond);
  else
    while (n-- > 0)
      pthread_cond_signal(&eddy__pool.cond);
  pthread_mutex_unlock(&eddy__pool.lock);
}

int eddy__work_cancel(eddy__work_t *w) {
  pthread_mutex_lock(&eddy__pool.lock);
  if (w->state != EDDY__WORK_QUEUED) {
    pthread_mutex_unlock(&eddy__pool.lock);
    return EDDY_EBUSY;
  }
  eddy__queue_remove(&w->node);
  eddy__pool.queued--;
  w->state = EDDY__WORK_CANCELLED;
  pthread_mutex_unlock(&eddy__pool.lock);
  eddy__work_complete(w);
  return 0;
}

/* Run the completions that arrived, oldest first. Callbacks may queue and
 * cancel jobs; those complete through a later wake-up. */
static void eddy__work_wakeup(eddy_loop_t *loop, struct eddy__loop_part *part) {
  eddy__work_t *w =
      __atomic_exchange_n(&loop->priv.work.done, NULL, __ATOMIC_ACQUIRE);
  eddy__work_t *ordered = NULL;
  eddy__work_t *next;
  eddy_loop_t *outer = eddy__dispatching; /* a loop run from a callback */

  (void)part;
  while (w != NULL) { /* the stack is newest first: reverse it */
    next = w->next_done;
    w->next_done = ordered;
    ordered = w;
    w = next;
  }
  if (ordered == NULL)
    return;
  eddy__dispatching = loop;
  for (w = ordered; w != NULL; w = next) {
    int status = w->state == EDDY__WORK_CANCELLED ? EDDY_ECANCELED : 0;

    assert(w->loop == loop);
    assert(w->state == EDDY__WORK_RUNNING || w->state == EDDY__WORK_CANCELLED);
    next = w->next_done;
    w->state = EDDY__WORK_IDLE;
    eddy__req_unregister(loop, (eddy_req_type)w->req_type);
    if (w->started_ns != 0)
      eddy__metrics_pool_job(loop, w->kind, w->started_ns - w->queued_ns);
    eddy__metrics_running(loop, EDDY__METRICS_RUN_REQ + (unsigned)w->req_type,
                          (const void *)w->done);
    w->done(w, status);
    eddy__after_callback(loop);
  }
  eddy__dispatching = outer;
  if (!eddy__queue_empty(&loop->priv.work.batch))
    eddy__work_flush_batch(loop);
}

/* eddy_loop_close runs only with no request in flight, but a pool thread
 * may still be returning from the push that completed the last one. */
static void eddy__work_loop_close(eddy_loop_t *loop,
                                  struct eddy__loop_part *part) {
  (void)part;
  assert(loop->priv.work.done == NULL);
  assert(eddy__queue_empty(&loop->priv.work.batch));
  while (__atomic_load_n(&loop->priv.work.senders, __ATOMIC_SEQ_CST) != 0)
    sched_yield();
}

static void eddy__queue_work_run(eddy__work_t *w) {
  eddy_work_t *req = eddy__container_of(w, eddy_work_t, priv.work);

  req->priv.work_cb(req);
}

static void eddy__queue_work_done(eddy__work_t *w, int status) {
  eddy_work_t *req = eddy__container_of(w, eddy_work_t, priv.work);

  if (req->priv.after_work_cb != NULL)
    req->priv.after_work_cb(req, status);
}

int eddy_queue_work(eddy_loop_t *loop, eddy_work_t *req, eddy_work_cb work_cb,
                    eddy_after_work_cb after_work_cb) {
  if (work_cb == NULL)
    return EDDY_EINVAL;
  eddy__req_init_pool(&req->req, EDDY_WORK, &req->priv.work);
  req->loop = loop;
  req->priv.work_cb = work_cb;
  req->priv.after_work_cb = after_work_cb;
  return eddy__work_submit(loop, &req->priv.work, EDDY__WORK_CPU,
                           eddy__queue_work_run, eddy__queue_work_done);
}

int eddy_cancel(eddy_req_t *req) {
  if (req == NULL || req->priv.work == NULL)
    return EDDY_EINVAL;
  return eddy__work_cancel(req->priv.work);
}
