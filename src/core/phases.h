/* phases.h: what loop.c asks of the core files that run its phases
 * (timer.c, loopwatch.c, tick.c). Nothing outside src/core/ includes it,
 * except white-box tests. */
#ifndef EDDY_CORE_PHASES_H
#define EDDY_CORE_PHASES_H

#include <stdint.h>

#include "eddy/loop.h"
#include "eddy/timer.h"

/* Timers (timer.c). Start sequence numbers have this many bits; when they
 * run out, eddy__timer_renumber compacts them (exposed for tests). */
#define EDDY__TIMER_SEQ_BITS 24
void eddy__run_timers(eddy_loop_t *loop);
void eddy__timer_renumber(eddy_loop_t *loop);
void eddy__timer_loop_close(eddy_loop_t *loop); /* frees the heap array */
/* The loop's open timers (not on the open-handle list): i < count. */
uint32_t eddy__timer_open_count(const eddy_loop_t *loop);
eddy_handle_t *eddy__timer_open_at(const eddy_loop_t *loop, uint32_t i);
uint32_t eddy__timer_verify(const eddy_loop_t *loop); /* tests: 0 = sound */
/* Start a parked or active timer as eddy_timer_start does, but counting
 * timeout from now (a loop time in ms, e.g. a fresh clock read) instead of
 * the cached loop time. */
int eddy__timer_start_from(eddy_timer_t *timer, eddy_timer_cb cb,
                           uint64_t timeout, uint64_t now);
/* Give an open timer's slot back at once (stopping it first): the memory
 * is free when this returns, with no close callback (Node's timeouts). */
void eddy__timer_release(eddy_timer_t *timer);

/* Immediates (timers_node.c): run those set before the check phase began;
 * whether a referenced one waits. */
void eddy__run_immediates(eddy_loop_t *loop);
static inline int eddy__immediates_waiting(const eddy_loop_t *loop) {
  return loop->priv.immediates.refs != 0;
}

/* ms from now (a loop time, ms) until the nearest timer is due, 0 if it
 * is due, -1 if there is none. */
int eddy__next_timeout(const eddy_loop_t *loop, uint64_t now);

/* Idle, prepare and check phases (loopwatch.c). */
void eddy__run_idle(eddy_loop_t *loop);
void eddy__run_prepare(eddy_loop_t *loop);
void eddy__run_check(eddy_loop_t *loop);
static inline int eddy__idle_active(const eddy_loop_t *loop) {
  return loop->priv.watchers.idle.next != &loop->priv.watchers.idle;
}

/* The next-tick and microtask queues' memory (tick.c). */
void eddy__tick_free(eddy_loop_t *loop);

#endif /* EDDY_CORE_PHASES_H */
