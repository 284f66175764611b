/* signal.c: signal handles.
 *
 * One process-wide handler per signal, installed when the first handle
 * anywhere starts watching it and removed (the previous disposition
 * restored) when the last stops. The handler does only async-signal-safe
 * things: it marks the signal as caught in every loop that watches it and
 * writes that loop's wake-up descriptor. The loops then run their handles'
 * callbacks on their own threads.
 *
 * The list of loops is guarded by a spin lock that the handler takes too.
 * Code that changes the list blocks every signal in its own thread first,
 * so a handler can never interrupt the lock's holder on the holder's
 * thread; a handler on another thread spins for the few instructions the
 * holder needs. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "core/wakeup.h"
#include "eddy/signal.h"

struct eddy_signal_state {
  struct eddy__loop_part part; /* the loop finds its state through it */
  eddy_loop_t *loop;
  struct eddy_signal_state *next; /* global list, under the lock */
  unsigned watching[NSIG];        /* active handles per signal, under the lock */
  unsigned caught[NSIG];          /* atomic: set by the handler */
  unsigned any_caught;            /* atomic: some caught[] is set */
  eddy_queue_t handles;           /* this loop's active signal handles */
};

static struct {
  int lock; /* atomic spin lock */
  struct eddy_signal_state *loops;
  unsigned handles[NSIG]; /* active handles per signal, all loops */
  struct sigaction saved[NSIG];
} eddy__signals;

static void eddy__signal_lock_raw(void) {
  while (__atomic_exchange_n(&eddy__signals.lock, 1, __ATOMIC_ACQUIRE) != 0)
    sched_yield();
}

static void eddy__signal_unlock_raw(void) {
  __atomic_store_n(&eddy__signals.lock, 0, __ATOMIC_RELEASE);
}

/* Take the lock from normal code: block signals in this thread first. */
static void eddy__signal_lock(sigset_t *saved_mask) {
  sigset_t all;

  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, saved_mask);
  eddy__signal_lock_raw();
}

static void eddy__signal_unlock(const sigset_t *saved_mask) {
  eddy__signal_unlock_raw();
  pthread_sigmask(SIG_SETMASK, saved_mask, NULL);
}

static void eddy__signal_handler(int signum) {
  int saved_errno = errno;
  struct eddy_signal_state *st;

  eddy__signal_lock_raw();
  for (st = eddy__signals.loops; st != NULL; st = st->next) {
    if (st->watching[signum] == 0)
      continue;
    __atomic_store_n(&st->caught[signum], 1, __ATOMIC_RELEASE);
    __atomic_store_n(&st->any_caught, 1, __ATOMIC_RELEASE);
    eddy__wakeup_signal(st->loop);
  }
  eddy__signal_unlock_raw();
  errno = saved_errno;
}

/* Count one more (delta 1) or one fewer (delta -1) watcher of signum in st,
 * installing or restoring the process-wide handler at the first and last.
 * Caller holds the lock. */
static int eddy__signal_account(struct eddy_signal_state *st, int signum,
                                int delta) {
  if (delta > 0 && eddy__signals.handles[signum] == 0) {
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = eddy__signal_handler;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(signum, &sa, &eddy__signals.saved[signum]) != 0)
      return -errno;
  }
  if (delta < 0 && eddy__signals.handles[signum] == 1)
    sigaction(signum, &eddy__signals.saved[signum], NULL);
  eddy__signals.handles[signum] += (unsigned)delta;
  st->watching[signum] += (unsigned)delta;
  return 0;
}

static void eddy__signal_wakeup(eddy_loop_t *loop,
                                struct eddy__loop_part *part);
static void eddy__signal_loop_close(eddy_loop_t *loop,
                                    struct eddy__loop_part *part);

static const struct eddy__loop_part_ops eddy__signal_part = {
    .name = "signal",
    .order = EDDY__PART_SIGNAL,
    .wakeup = eddy__signal_wakeup,
    .close = eddy__signal_loop_close,
};

/* The loop's signal state, or NULL before its first signal handle. */
static struct eddy_signal_state *eddy__signal_state_of(eddy_loop_t *loop) {
  struct eddy__loop_part *p = eddy__loop_part_find(loop, &eddy__signal_part);

  return p != NULL ? eddy__container_of(p, struct eddy_signal_state, part)
                   : NULL;
}

/* The loop's signal state, created with the first signal handle. */
static int eddy__signal_state(eddy_loop_t *loop) {
  struct eddy_signal_state *st;
  sigset_t mask;
  int err;

  if (eddy__signal_state_of(loop) != NULL)
    return 0;
  err = eddy__wakeup_open(loop);
  if (err != 0)
    return err;
  st = calloc(1, sizeof(*st));
  if (st == NULL)
    return EDDY_ENOMEM;
  st->loop = loop;
  eddy__queue_init(&st->handles);
  eddy__signal_lock(&mask);
  st->next = eddy__signals.loops;
  eddy__signals.loops = st;
  eddy__signal_unlock(&mask);
  eddy__loop_part_add(loop, &st->part, &eddy__signal_part);
  return 0;
}

static void eddy__signal_loop_close(eddy_loop_t *loop,
                                    struct eddy__loop_part *part) {
  struct eddy_signal_state *st =
      eddy__container_of(part, struct eddy_signal_state, part);
  struct eddy_signal_state **p;
  sigset_t mask;

  (void)loop;
  assert(eddy__queue_empty(&st->handles));
  eddy__signal_lock(&mask);
  for (p = &eddy__signals.loops; *p != NULL; p = &(*p)->next)
    if (*p == st) {
      *p = st->next;
      break;
    }
  eddy__signal_unlock(&mask);
  free(st);
}

int eddy_signal_init(eddy_loop_t *loop, eddy_signal_t *handle) {
  int err = eddy__signal_state(loop);

  if (err != 0)
    return err;
  eddy__handle_init(loop, &handle->handle, EDDY_SIGNAL);
  handle->signum = 0;
  handle->priv.cb = NULL;
  handle->priv.oneshot = 0;
  eddy__queue_init(&handle->priv.node);
  return 0;
}

static int eddy__signal_start(eddy_signal_t *handle, eddy_signal_cb cb,
                              int signum, int oneshot) {
  struct eddy_signal_state *st = eddy__signal_state_of(handle->handle.loop);
  sigset_t mask;
  int err;

  if (cb == NULL || eddy__handle_closing(&handle->handle) || signum <= 0 ||
      signum >= NSIG || signum == SIGKILL || signum == SIGSTOP)
    return EDDY_EINVAL;
  handle->priv.cb = cb;
  handle->priv.oneshot = oneshot;
  if (handle->signum == signum)
    return 0;
  eddy_signal_stop(handle);
  eddy__signal_lock(&mask);
  err = eddy__signal_account(st, signum, 1);
  eddy__signal_unlock(&mask);
  if (err != 0)
    return err;
  handle->signum = signum;
  eddy__queue_insert_tail(&st->handles, &handle->priv.node);
  eddy__handle_start(&handle->handle);
  return 0;
}

int eddy_signal_start(eddy_signal_t *handle, eddy_signal_cb cb, int signum) {
  return eddy__signal_start(handle, cb, signum, 0);
}

int eddy_signal_start_oneshot(eddy_signal_t *handle, eddy_signal_cb cb,
                              int signum) {
  return eddy__signal_start(handle, cb, signum, 1);
}

int eddy_signal_stop(eddy_signal_t *handle) {
  sigset_t mask;

  if (handle->signum == 0)
    return 0;
  eddy__signal_lock(&mask);
  eddy__signal_account(eddy__signal_state_of(handle->handle.loop),
                       handle->signum, -1);
  eddy__signal_unlock(&mask);
  handle->signum = 0;
  eddy__queue_remove(&handle->priv.node);
  eddy__handle_stop(&handle->handle);
  return 0;
}

static void eddy__signal_close(eddy_handle_t *h) {
  eddy_signal_stop((eddy_signal_t *)h);
}

/* Run the handles of every signal caught since the last dispatch. */
static void eddy__signal_deliver(eddy_loop_t *loop,
                                 struct eddy_signal_state *st, int signum) {
  eddy_queue_t batch;
  eddy_queue_t *node;

  eddy__queue_move(&st->handles, &batch);
  while ((node = eddy__queue_next_visit(&batch, &st->handles)) != NULL) {
    eddy_signal_t *handle = eddy__container_of(node, eddy_signal_t, priv.node);

    if (handle->signum != signum)
      continue;
    if (handle->priv.oneshot)
      eddy_signal_stop(handle);
    handle->priv.cb(handle, signum);
    eddy__after_callback(loop);
  }
}

static void eddy__signal_wakeup(eddy_loop_t *loop,
                                struct eddy__loop_part *part) {
  struct eddy_signal_state *st =
      eddy__container_of(part, struct eddy_signal_state, part);
  int signum;

  if (__atomic_exchange_n(&st->any_caught, 0, __ATOMIC_ACQUIRE) == 0)
    return;
  for (signum = 1; signum < NSIG; signum++)
    if (__atomic_exchange_n(&st->caught[signum], 0, __ATOMIC_ACQUIRE) != 0)
      eddy__signal_deliver(loop, st, signum);
}

const struct eddy__handle_ops eddy__signal_ops = {.close = eddy__signal_close};
