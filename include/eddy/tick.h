/* eddy/tick.h: process.nextTick and queueMicrotask.
 *
 * After every callback the loop invokes (and at the start of eddy_run, for
 * work queued before it), eddy drains both queues in Node's order: every
 * next-tick (FIFO, including ticks queued while draining), then every
 * microtask (FIFO, including nested ones), and again while ticks remain.
 * Queued callbacks do not keep the loop alive on their own, but run before
 * eddy_run returns. Queueing allocates nothing except amortised growth of a
 * loop-owned ring. Loop thread only.
 */
#ifndef EDDY_TICK_H
#define EDDY_TICK_H

#include "export.h"

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*eddy_task_cb)(eddy_loop_t *loop, void *arg);

/* Queue cb(loop, arg) on the next-tick queue. Returns EDDY_EINVAL for a
 * NULL cb, EDDY_ENOMEM if the ring cannot grow. */
EDDY_EXTERN int eddy_next_tick(eddy_loop_t *loop, eddy_task_cb cb, void *arg);

/* Queue cb(loop, arg) on the microtask queue. Same errors. */
EDDY_EXTERN int eddy_queue_microtask(eddy_loop_t *loop, eddy_task_cb cb,
                                     void *arg);

/* Drain both queues now, as the loop does after each callback. For code
 * that calls into the loop from outside a callback (e.g. at the end of a
 * "main" function before eddy_run). */
EDDY_EXTERN void eddy_drain_ticks(eddy_loop_t *loop);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_TICK_H */
