/* phases.h: what loop.c asks of the core files that run its phases
 * (timer.c, loopwatch.c, tick.c). Nothing outside src/core/ includes it,
 * except white-box tests. */
#ifndef EDDY_CORE_PHASES_H
#define EDDY_CORE_PHASES_H

#include <stdint.h>

#include "eddy/loop.h"

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
