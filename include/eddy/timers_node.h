/* eddy/timers_node.h: Node's timer functions: setTimeout, setInterval,
 * setImmediate and their clear functions.
 *
 * eddy_timer_t keeps libuv's rules (a timer counts from the loop's cached
 * time; 0 ms means 0). These keep Node's, on the same heap:
 *
 *  - A timeout counts from the clock at the call, not from the cached
 *    loop time, so a timeout set after slow work in the same callback is
 *    not shortened by it.
 *  - A delay of 0, or above EDDY_TIMEOUT_MAX (2^31 - 1 ms), becomes 1 ms,
 *    as in Node. Timeouts due at the same millisecond run in the order
 *    they were set (a 1 ms timeout set before a 0 ms one runs first), and
 *    eddy_set_interval(..., 0) repeats every 1 ms.
 *  - An interval is re-armed from the clock at the start of its callback:
 *    a callback slower than the period runs again at once, never in a
 *    burst of catch-up calls.
 *  - Immediates run once, in the order they were set, in the check phase
 *    (before the check handles). One set while the check phase runs waits
 *    for the next iteration. Next-ticks and microtasks drain after each
 *    one. While a referenced immediate waits, the poll phase does not
 *    block, and the loop stays alive.
 *
 * The structs are the caller's: no close is needed. The library refers to
 * a timeout's memory only while it is armed (from set until it fired once,
 * for a timeout, or until it is cleared) and to an immediate's only while
 * it is pending; after that, or inside its own callback, the memory may be
 * reused or freed. Before its first use a struct must be zero-filled
 * (`eddy_timeout_t t = {0};`, static or calloc'd storage): that is what
 * "not armed" looks like. An armed
 * timeout or a pending immediate makes eddy_loop_close() return
 * EDDY_EBUSY, as an open handle does; they are not handles and eddy_walk()
 * does not visit them. All functions: loop thread only.
 */
#ifndef EDDY_TIMERS_NODE_H
#define EDDY_TIMERS_NODE_H

#include "export.h"

#include "loop.h"
#include "timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest delay Node accepts: 2^31 - 1 ms (about 24.8 days). */
#define EDDY_TIMEOUT_MAX 2147483647u

typedef struct eddy_timeout_s eddy_timeout_t;
typedef void (*eddy_timeout_cb)(eddy_timeout_t *timeout);

struct eddy_timeout_s {
  void *data;        /* yours */
  eddy_loop_t *loop; /* read only: the loop it was last set on */
  struct {
    eddy_timer_t timer; /* on the loop's heap while armed */
    eddy_timeout_cb cb;
    uint64_t delay; /* ms, after Node's coercion */
    int interval;   /* eddy_set_interval */
    int armed;
    int unref;
  } priv;
};

typedef struct eddy_immediate_s eddy_immediate_t;
typedef void (*eddy_immediate_cb)(eddy_immediate_t *immediate);

struct eddy_immediate_s {
  void *data;        /* yours */
  eddy_loop_t *loop; /* read only */
  struct {
    eddy_queue_t node; /* the loop's immediate queue while pending */
    eddy_immediate_cb cb;
    int pending;
    int unref;
  } priv;
};

/* setTimeout(cb, ms): cb(timeout) runs once, ms after now (Node's
 * coercion above). A timeout already armed is cleared first; it keeps its
 * ref state. Returns 0, EDDY_EINVAL (loop, timeout or cb NULL) or
 * EDDY_ENOMEM (the timer heap could not grow; the timeout is not armed). */
EDDY_EXTERN int eddy_set_timeout(eddy_loop_t *loop, eddy_timeout_t *timeout,
                                 eddy_timeout_cb cb, uint64_t ms);

/* setInterval(cb, ms): cb(timeout) every ms (at least 1), re-armed from
 * the start of each call, until cleared. Same errors. */
EDDY_EXTERN int eddy_set_interval(eddy_loop_t *loop, eddy_timeout_t *timeout,
                                  eddy_timeout_cb cb, uint64_t ms);

/* clearTimeout and clearInterval (either clears either): the callback will
 * not run again. Does nothing for a timeout that is not armed. Safe inside
 * any callback, the timeout's own included. */
EDDY_EXTERN void eddy_clear_timeout(eddy_timeout_t *timeout);
EDDY_EXTERN void eddy_clear_interval(eddy_timeout_t *timeout);

/* timeout.refresh(): re-arm an armed timeout or interval for its delay,
 * counted from now, with the same callback. Returns EDDY_EINVAL if it is
 * not armed. */
EDDY_EXTERN int eddy_timeout_refresh(eddy_timeout_t *timeout);

/* Non-zero while the timeout is armed. */
EDDY_EXTERN int eddy_timeout_is_armed(const eddy_timeout_t *timeout);

/* timeout.unref() / ref() / hasRef(): an unreferenced timeout still fires
 * while something else keeps the loop alive, but does not keep it alive
 * itself. Timeouts start referenced; the state lasts across sets. */
EDDY_EXTERN void eddy_timeout_unref(eddy_timeout_t *timeout);
EDDY_EXTERN void eddy_timeout_ref(eddy_timeout_t *timeout);
EDDY_EXTERN int eddy_timeout_has_ref(const eddy_timeout_t *timeout);

/* setImmediate(cb): cb(immediate) runs once in the next check phase. An
 * immediate already pending is moved to the back of the queue. Returns 0
 * or EDDY_EINVAL (loop, immediate or cb NULL). */
EDDY_EXTERN int eddy_set_immediate(eddy_loop_t *loop,
                                   eddy_immediate_t *immediate,
                                   eddy_immediate_cb cb);

/* clearImmediate: the callback will not run. Does nothing for an immediate
 * that is not pending. */
EDDY_EXTERN void eddy_clear_immediate(eddy_immediate_t *immediate);

/* Non-zero while the immediate waits to run. */
EDDY_EXTERN int eddy_immediate_is_pending(const eddy_immediate_t *immediate);

/* immediate.unref() / ref() / hasRef(): an unreferenced immediate does not
 * keep the loop alive nor the poll phase from blocking; it still runs in
 * the next check phase the loop reaches. The state lasts across sets. */
EDDY_EXTERN void eddy_immediate_unref(eddy_immediate_t *immediate);
EDDY_EXTERN void eddy_immediate_ref(eddy_immediate_t *immediate);
EDDY_EXTERN int eddy_immediate_has_ref(const eddy_immediate_t *immediate);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_TIMERS_NODE_H */
