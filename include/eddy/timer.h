/* eddy/timer.h: timers (setTimeout / setInterval).
 *
 * Timers live in the loop's 4-ary min-heap keyed by (due time, start
 * order): timers due at the same millisecond run in the order they were
 * started. Timers started during the timers phase join the heap when the
 * phase ends, so a 0 ms timer started inside a timer callback runs in the
 * next iteration, after that iteration's check phase. Due times are kept
 * in ms since the loop was initialised, up to 2^40 ms (about 34 years);
 * later ones saturate there. All functions: loop thread only.
 */
#ifndef EDDY_TIMER_H
#define EDDY_TIMER_H

#include "export.h"

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_timer_s eddy_timer_t;
typedef void (*eddy_timer_cb)(eddy_timer_t *timer);

/* 48 bytes: the callback and repeat live in the handle header (see
 * eddy_handle_t). */
struct eddy_timer_s {
  eddy_handle_t handle;
};

/* Initialise a timer; it is inactive until started. Returns 0, or
 * EDDY_ENOMEM if the loop's timer array cannot grow (the timer is then not
 * initialised and needs no close). */
EDDY_EXTERN int eddy_timer_init(eddy_loop_t *loop, eddy_timer_t *timer);

/* Start (or restart) the timer: cb runs timeout ms after the loop's cached
 * time, then every repeat ms if repeat is non-zero. A repeating timer is
 * re-armed from the moment its callback starts, so a slow callback causes no
 * burst of catch-up calls. Returns EDDY_EINVAL if cb is NULL or the timer is
 * closing, EDDY_ENOMEM if the heap cannot grow (the timer is then left
 * stopped). */
EDDY_EXTERN int eddy_timer_start(eddy_timer_t *timer, eddy_timer_cb cb,
                                 uint64_t timeout, uint64_t repeat);

/* Stop the timer; its callback will not run. Returns 0 (also when the timer
 * was not active). O(log n). */
EDDY_EXTERN int eddy_timer_stop(eddy_timer_t *timer);

/* Restart a repeating timer with its repeat as the timeout; a timer with no
 * repeat is left as it is. Returns EDDY_EINVAL if it was never started. */
EDDY_EXTERN int eddy_timer_again(eddy_timer_t *timer);

/* Set or get the repeat interval in ms; takes effect at the next re-arm. */
EDDY_EXTERN void eddy_timer_set_repeat(eddy_timer_t *timer, uint64_t repeat);
EDDY_EXTERN uint64_t eddy_timer_get_repeat(const eddy_timer_t *timer);

/* Milliseconds until the timer is due from the loop's cached time; 0 if it
 * is due or not active. */
EDDY_EXTERN uint64_t eddy_timer_get_due_in(const eddy_timer_t *timer);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_TIMER_H */
