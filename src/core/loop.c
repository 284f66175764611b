/* loop.c: the event loop core: lifecycle, the phase sequence of eddy_run,
 * liveness, time, and the handle bookkeeping every handle type shares. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eddy/timer.h"
#include "eddy/stream.h"
#include "eddy/tick.h"
#include "backend/backend.h"
#include "internal.h"

/* How many extra rounds of pending callbacks one poll phase may run (libuv
 * runs up to 8 so writes completed by callbacks do not wait an iteration). */
#define EDDY__PENDING_ROUNDS 8

static const struct eddy_backend *eddy__choose_backend(void) {
  const char *forced = getenv("EDDY_BACKEND");
  if (forced != NULL && strcmp(forced, "poll") == 0)
    return &eddy__backend_poll;
#ifdef __linux__
  return &eddy__backend_epoll;
#else
  return &eddy__backend_poll;
#endif
}

static eddy_loop_t eddy__default_loop_storage;
static eddy_loop_t *eddy__default_loop_ptr;
static pthread_mutex_t eddy__default_loop_lock = PTHREAD_MUTEX_INITIALIZER;

/* A closed default loop is made anew by the next eddy_default_loop(). */
static void eddy__forget_default_loop(eddy_loop_t *loop) {
  pthread_mutex_lock(&eddy__default_loop_lock);
  if (eddy__default_loop_ptr == loop)
    eddy__default_loop_ptr = NULL;
  pthread_mutex_unlock(&eddy__default_loop_lock);
}

int eddy_loop_init(eddy_loop_t *loop) {
  int err;

  memset(loop, 0, sizeof(*loop));
  eddy__queue_init(&loop->priv.handles);
  eddy__queue_init(&loop->priv.closing);
  eddy__queue_init(&loop->priv.idle);
  eddy__queue_init(&loop->priv.prepare);
  eddy__queue_init(&loop->priv.check);
  eddy__queue_init(&loop->priv.pending);
  eddy__queue_init(&loop->priv.io_changes);
  eddy__queue_init(&loop->priv.async_handles);
  eddy__queue_init(&loop->priv.work_batch);
  loop->priv.wakeup_io.fd = -1;
  loop->priv.wakeup_wfd = -1;
  loop->priv.reserve_fd = -1;
  loop->priv.backend = eddy__choose_backend();
  err = loop->priv.backend->init(loop);
  if (err != 0)
    return err;
  eddy_update_time(loop);
  loop->priv.timer_base = loop->priv.time;
  return 0;
}

int eddy_loop_close(eddy_loop_t *loop) {
  if (!eddy__queue_empty(&loop->priv.handles) ||
      eddy__timer_open_count(loop) != 0 ||
      !eddy__queue_empty(&loop->priv.closing) || eddy__reqs_active(loop) != 0)
    return EDDY_EBUSY;
  eddy__work_loop_close(loop);
  eddy__process_loop_close(loop);
  eddy__signal_loop_close(loop);
  eddy__wakeup_close(loop);
  if (loop->priv.reserve_fd != -1)
    close(loop->priv.reserve_fd);
  loop->priv.reserve_fd = -1;
  loop->priv.backend->close(loop);
  eddy__io_free(loop);
  eddy__tick_free(loop);
  eddy__timer_loop_close(loop);
  eddy__forget_default_loop(loop);
  return 0;
}

eddy_loop_t *eddy_default_loop(void) {
  eddy_loop_t *loop;

  pthread_mutex_lock(&eddy__default_loop_lock);
  if (eddy__default_loop_ptr == NULL &&
      eddy_loop_init(&eddy__default_loop_storage) == 0)
    eddy__default_loop_ptr = &eddy__default_loop_storage;
  loop = eddy__default_loop_ptr;
  pthread_mutex_unlock(&eddy__default_loop_lock);
  return loop;
}

int eddy_loop_alive(const eddy_loop_t *loop) {
  return loop->priv.active_handles != 0 || eddy__reqs_active(loop) != 0 ||
         !eddy__queue_empty(&loop->priv.closing);
}

/* How long poll may block: not at all when something is already waiting to
 * run or nothing could ever wake it; else until the nearest timer. */
static int eddy__poll_timeout(const eddy_loop_t *loop) {
  if (loop->priv.stop_flag != 0)
    return 0;
  if (loop->priv.active_handles == 0 && eddy__reqs_active(loop) == 0)
    return 0;
  if (!eddy__queue_empty(&loop->priv.idle) ||
      !eddy__queue_empty(&loop->priv.pending) ||
      !eddy__queue_empty(&loop->priv.closing))
    return 0;
  return eddy__next_timeout(loop);
}

/* Run the pending (deferred I/O) callbacks queued so far; callbacks queued
 * meanwhile wait for the next round. Returns non-zero if any ran. */
static int eddy__run_pending(eddy_loop_t *loop) {
  eddy_queue_t batch;
  eddy_queue_t *node;
  eddy_io_t *io;

  if (eddy__queue_empty(&loop->priv.pending))
    return 0;
  eddy__queue_move(&loop->priv.pending, &batch);
  while (!eddy__queue_empty(&batch)) {
    node = batch.next;
    eddy__queue_remove(node);
    io = eddy__container_of(node, eddy_io_t, pending_node);
    io->cb(loop, io, EDDY__IO_WRITE);
  }
  return 1;
}

/* Requests a handle still had when it was closed get their callbacks
 * (EDDY_ECANCELED for those never done) just before its close callback. */
static void eddy__finish_close(eddy_handle_t *h) {
  switch ((eddy_handle_type)h->priv.type) {
  case EDDY_TCP:
  case EDDY_NAMED_PIPE:
    eddy__stream_finish_close((eddy_stream_t *)h);
    break;
  case EDDY_UDP:
    eddy__udp_finish_close(h);
    break;
  default:
    break;
  }
}

/* Close phase: run the close callbacks of handles closed so far. Handles
 * closed from a close callback wait for the next iteration. */
static void eddy__run_closing(eddy_loop_t *loop) {
  eddy_queue_t batch;
  eddy_queue_t *node;
  eddy_handle_t *h;

  eddy__queue_move(&loop->priv.closing, &batch);
  while (!eddy__queue_empty(&batch)) {
    node = batch.next;
    eddy__queue_remove(node);
    h = eddy__container_of(node, eddy_handle_t, priv.u.node);
    assert(h->priv.flags & EDDY__HANDLE_CLOSING);
    eddy__finish_close(h);
    if (h->priv.close_cb != NULL) {
      h->priv.close_cb(h);
      eddy__after_callback(loop);
    }
  }
}

int eddy_run(eddy_loop_t *loop, eddy_run_mode mode) {
  int alive;
  int rounds;

  /* Work queued before the loop started (Node: after the main script). */
  eddy__after_callback(loop);
  alive = eddy_loop_alive(loop);
  if (!alive)
    eddy_update_time(loop);
  /* As in libuv >= 1.45, DEFAULT runs due timers once before the first
   * iteration; afterwards timers run at the end of each iteration. */
  if (mode == EDDY_RUN_DEFAULT && alive && loop->priv.stop_flag == 0) {
    eddy_update_time(loop);
    eddy__run_timers(loop);
  }
  while (alive && loop->priv.stop_flag == 0) {
    int can_block = eddy__queue_empty(&loop->priv.pending) &&
                    eddy__queue_empty(&loop->priv.idle);
    int timeout = 0;

    eddy__run_pending(loop);
    eddy__run_idle(loop);
    eddy__run_prepare(loop);
    /* Registering changed watchers may report a dead fd (a callback), so
     * the poll timeout is decided after it. */
    eddy__io_apply_changes(loop);
    if ((mode == EDDY_RUN_ONCE && can_block) || mode == EDDY_RUN_DEFAULT)
      timeout = eddy__poll_timeout(loop);
    timeout = eddy__wakeup_before_wait(loop, timeout);
    loop->priv.backend->wait(loop, timeout);
    eddy__wakeup_after_wait(loop);
    for (rounds = 0; rounds < EDDY__PENDING_ROUNDS; rounds++)
      if (!eddy__run_pending(loop))
        break;
    eddy__run_check(loop);
    eddy__run_closing(loop);
    eddy_update_time(loop);
    eddy__run_timers(loop);
    alive = eddy_loop_alive(loop);
    if (mode != EDDY_RUN_DEFAULT)
      break;
  }
  loop->priv.stop_flag = 0;
  return alive;
}

void eddy_stop(eddy_loop_t *loop) {
  loop->priv.stop_flag = 1;
}

uint64_t eddy_hrtime(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t eddy_now(const eddy_loop_t *loop) {
  return loop->priv.time;
}

void eddy_update_time(eddy_loop_t *loop) {
  loop->priv.time = eddy_hrtime() / 1000000u;
}

int eddy_close(eddy_handle_t *h, eddy_close_cb close_cb) {
  if (h->priv.flags & EDDY__HANDLE_CLOSING)
    return EDDY_EINVAL;
  switch ((eddy_handle_type)h->priv.type) {
  case EDDY_TIMER:
    eddy__timer_close(h);
    break;
  case EDDY_IDLE:
  case EDDY_PREPARE:
  case EDDY_CHECK:
    eddy__loopwatch_close(h);
    break;
  case EDDY_ASYNC:
    eddy__async_close(h);
    break;
  case EDDY_POLL:
    eddy__poll_close(h);
    break;
  case EDDY_SIGNAL:
    eddy__signal_close(h);
    break;
  case EDDY_UDP:
    eddy__udp_close(h);
    break;
  case EDDY_TCP:
  case EDDY_NAMED_PIPE:
    eddy__stream_close((eddy_stream_t *)h);
    break;
  case EDDY_PROCESS:
    eddy__process_close(h);
    break;
  default:
    return EDDY_EINVAL;
  }
  eddy__handle_stop(h);
  h->priv.flags |= EDDY__HANDLE_CLOSING;
  h->priv.close_cb = close_cb;
  eddy__queue_remove(&h->priv.u.node);
  eddy__queue_insert_tail(&h->loop->priv.closing, &h->priv.u.node);
  return 0;
}

static void eddy__walk_visit(eddy_handle_t *h, eddy_walk_cb cb, void *arg) {
  if (h->priv.flags & EDDY__HANDLE_WALKED)
    return;
  h->priv.flags |= EDDY__HANDLE_WALKED;
  cb(h, arg);
}

/* Visit every handle of list once, tolerating callbacks that close handles
 * (which moves them to the closing list, where the second pass meets them;
 * the WALKED mark keeps it from visiting a handle twice) or open new ones
 * (not visited). */
static void eddy__walk_list(eddy_queue_t *list, eddy_walk_cb cb, void *arg) {
  eddy_queue_t snapshot;
  eddy_queue_t *node;
  eddy_handle_t *h;

  eddy__queue_move(list, &snapshot);
  while ((node = eddy__queue_next_visit(&snapshot, list)) != NULL) {
    h = eddy__container_of(node, eddy_handle_t, priv.u.node);
    eddy__walk_visit(h, cb, arg);
  }
}

static void eddy__walk_unmark(eddy_queue_t *list) {
  eddy_queue_t *node;

  for (node = list->next; node != list; node = node->next)
    eddy__container_of(node, eddy_handle_t, priv.u.node)->priv.flags &=
        ~EDDY__HANDLE_WALKED;
}

/* Visit the open timers. Callbacks that start, stop or close timers move
 * slots around the timer array, so the timers are copied first; timers
 * closed meanwhile are still valid memory (their close callbacks have not
 * run) and are met once, here or on the closing list. Without memory for
 * the copy, rescan from the start after every callback: slower, same
 * visits. */
static void eddy__walk_timers(eddy_loop_t *loop, eddy_walk_cb cb, void *arg) {
  uint32_t n = eddy__timer_open_count(loop), i;
  eddy_handle_t **copy = n != 0 ? malloc(n * sizeof(*copy)) : NULL;

  if (copy != NULL) {
    for (i = 0; i < n; i++)
      copy[i] = eddy__timer_open_at(loop, i);
    for (i = 0; i < n; i++)
      eddy__walk_visit(copy[i], cb, arg);
    free(copy);
    return;
  }
  for (i = 0; i < eddy__timer_open_count(loop); i++) {
    eddy_handle_t *h = eddy__timer_open_at(loop, i);
    if (!(h->priv.flags & EDDY__HANDLE_WALKED)) {
      eddy__walk_visit(h, cb, arg);
      i = (uint32_t)-1; /* the loop's i++ makes it 0 */
    }
  }
}

/* Every open or closing handle once: the open-handle list, the open timers,
 * then the closing list. */
void eddy_walk(eddy_loop_t *loop, eddy_walk_cb walk_cb, void *arg) {
  uint32_t i;

  eddy__walk_list(&loop->priv.handles, walk_cb, arg);
  eddy__walk_timers(loop, walk_cb, arg);
  eddy__walk_list(&loop->priv.closing, walk_cb, arg);
  eddy__walk_unmark(&loop->priv.handles);
  for (i = 0; i < eddy__timer_open_count(loop); i++)
    eddy__timer_open_at(loop, i)->priv.flags &= ~EDDY__HANDLE_WALKED;
  eddy__walk_unmark(&loop->priv.closing);
}

void eddy_ref(eddy_handle_t *h) {
  if (h->priv.flags & EDDY__HANDLE_REF)
    return;
  h->priv.flags |= EDDY__HANDLE_REF;
  if (h->priv.flags & EDDY__HANDLE_ACTIVE)
    h->loop->priv.active_handles++;
}

void eddy_unref(eddy_handle_t *h) {
  if (!(h->priv.flags & EDDY__HANDLE_REF))
    return;
  h->priv.flags &= ~EDDY__HANDLE_REF;
  if (h->priv.flags & EDDY__HANDLE_ACTIVE) {
    assert(h->loop->priv.active_handles > 0);
    h->loop->priv.active_handles--;
  }
}

int eddy_has_ref(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_REF) != 0;
}

int eddy_is_active(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_ACTIVE) != 0;
}

int eddy_is_closing(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_CLOSING) != 0;
}

eddy_handle_type eddy_handle_get_type(const eddy_handle_t *h) {
  return (eddy_handle_type)h->priv.type;
}

const char *eddy_backend_name(const eddy_loop_t *loop) {
  return loop->priv.backend->name;
}
