/* timers_node.c: Node's setTimeout, setInterval and setImmediate.
 *
 * A timeout is an eddy_timer_t on the loop's heap, but only while armed:
 * it takes a slot when set and gives it back when it fires (a timeout) or
 * is cleared, so the caller's struct needs no close and is free again
 * inside its own callback. Its timer is marked internal, so eddy_walk()
 * never hands it to a program that closes every handle it sees.
 *
 * Immediates are a queue on the loop, run at the start of the check phase
 * from a snapshot: one set meanwhile waits for the next iteration. */
#include "eddy/timers_node.h"
#include "core/handle.h"
#include "core/loop_internal.h"
#include "core/phases.h"

/* Node's rule: a delay that is not in [1, TIMEOUT_MAX] becomes 1. */
static uint64_t eddy__node_delay(uint64_t ms) {
  return ms >= 1 && ms <= EDDY_TIMEOUT_MAX ? ms : 1;
}

static uint64_t eddy__clock_ms(void) {
  return eddy_hrtime() / 1000000u;
}

static void eddy__timeout_release(eddy_timeout_t *t) {
  assert(t->priv.armed);
  eddy__timer_release(&t->priv.timer);
  t->priv.armed = 0;
}

static void eddy__timeout_fire(eddy_timer_t *timer) {
  eddy_timeout_t *t = eddy__container_of(timer, eddy_timeout_t, priv.timer);

  assert(t->priv.armed);
  if (t->priv.interval)
    /* Re-armed before the call, from the clock at its start; a clear in
     * the callback undoes it. */
    eddy__timer_start_from(timer, eddy__timeout_fire, t->priv.delay,
                           eddy__clock_ms());
  else
    eddy__timeout_release(t); /* the memory is the caller's again */
  t->priv.cb(t);
}

static int eddy__timeout_set(eddy_loop_t *loop, eddy_timeout_t *t,
                             eddy_timeout_cb cb, uint64_t ms, int interval) {
  int err;

  if (loop == NULL || t == NULL || cb == NULL)
    return EDDY_EINVAL;
  if (t->priv.armed)
    eddy__timeout_release(t);
  err = eddy_timer_init(loop, &t->priv.timer);
  if (err != 0)
    return err;
  t->priv.timer.handle.priv.flags |= EDDY__HANDLE_INTERNAL;
  if (t->priv.unref)
    eddy_unref(&t->priv.timer.handle);
  t->loop = loop;
  t->priv.cb = cb;
  t->priv.delay = eddy__node_delay(ms);
  t->priv.interval = interval;
  t->priv.armed = 1;
  return eddy__timer_start_from(&t->priv.timer, eddy__timeout_fire,
                                t->priv.delay, eddy__clock_ms());
}

int eddy_set_timeout(eddy_loop_t *loop, eddy_timeout_t *timeout,
                     eddy_timeout_cb cb, uint64_t ms) {
  return eddy__timeout_set(loop, timeout, cb, ms, 0);
}

int eddy_set_interval(eddy_loop_t *loop, eddy_timeout_t *timeout,
                      eddy_timeout_cb cb, uint64_t ms) {
  return eddy__timeout_set(loop, timeout, cb, ms, 1);
}

void eddy_clear_timeout(eddy_timeout_t *timeout) {
  if (timeout != NULL && timeout->priv.armed)
    eddy__timeout_release(timeout);
}

void eddy_clear_interval(eddy_timeout_t *timeout) {
  eddy_clear_timeout(timeout);
}

int eddy_timeout_refresh(eddy_timeout_t *timeout) {
  if (timeout == NULL || !timeout->priv.armed)
    return EDDY_EINVAL;
  return eddy__timer_start_from(&timeout->priv.timer, eddy__timeout_fire,
                                timeout->priv.delay, eddy__clock_ms());
}

int eddy_timeout_is_armed(const eddy_timeout_t *timeout) {
  return timeout->priv.armed;
}

void eddy_timeout_unref(eddy_timeout_t *timeout) {
  timeout->priv.unref = 1;
  if (timeout->priv.armed)
    eddy_unref(&timeout->priv.timer.handle);
}

void eddy_timeout_ref(eddy_timeout_t *timeout) {
  timeout->priv.unref = 0;
  if (timeout->priv.armed)
    eddy_ref(&timeout->priv.timer.handle);
}

int eddy_timeout_has_ref(const eddy_timeout_t *timeout) {
  return !timeout->priv.unref;
}

/* ---- immediates ---------------------------------------------------------- */

/* Take a pending immediate off the queue. */
static void eddy__immediate_unqueue(eddy_immediate_t *im) {
  eddy_loop_t *loop = im->loop;

  assert(im->priv.pending);
  eddy__queue_remove(&im->priv.node);
  im->priv.pending = 0;
  if (!im->priv.unref) {
    assert(loop->priv.immediates.refs > 0);
    loop->priv.immediates.refs--;
  }
}

int eddy_set_immediate(eddy_loop_t *loop, eddy_immediate_t *immediate,
                       eddy_immediate_cb cb) {
  if (loop == NULL || immediate == NULL || cb == NULL)
    return EDDY_EINVAL;
  if (immediate->priv.pending)
    eddy__immediate_unqueue(immediate);
  immediate->loop = loop;
  immediate->priv.cb = cb;
  immediate->priv.pending = 1;
  if (!immediate->priv.unref)
    loop->priv.immediates.refs++;
  eddy__queue_insert_tail(&loop->priv.immediates.queue, &immediate->priv.node);
  return 0;
}

void eddy_clear_immediate(eddy_immediate_t *immediate) {
  if (immediate != NULL && immediate->priv.pending)
    eddy__immediate_unqueue(immediate);
}

int eddy_immediate_is_pending(const eddy_immediate_t *immediate) {
  return immediate->priv.pending;
}

void eddy_immediate_unref(eddy_immediate_t *immediate) {
  if (immediate->priv.unref)
    return;
  immediate->priv.unref = 1;
  if (immediate->priv.pending)
    immediate->loop->priv.immediates.refs--;
}

void eddy_immediate_ref(eddy_immediate_t *immediate) {
  if (!immediate->priv.unref)
    return;
  immediate->priv.unref = 0;
  if (immediate->priv.pending)
    immediate->loop->priv.immediates.refs++;
}

int eddy_immediate_has_ref(const eddy_immediate_t *immediate) {
  return !immediate->priv.unref;
}

void eddy__run_immediates(eddy_loop_t *loop) {
  eddy_queue_t batch;

  if (eddy__queue_empty(&loop->priv.immediates.queue))
    return;
  /* Those set from now on wait for the next check phase; one cleared by a
   * callback leaves the batch. */
  eddy__queue_move(&loop->priv.immediates.queue, &batch);
  while (!eddy__queue_empty(&batch)) {
    eddy_immediate_t *im =
        eddy__container_of(batch.next, eddy_immediate_t, priv.node);

    eddy__immediate_unqueue(im);
    eddy__metrics_running(loop, EDDY_CHECK, (const void *)im->priv.cb);
    im->priv.cb(im);
    eddy__after_callback(loop);
  }
}
