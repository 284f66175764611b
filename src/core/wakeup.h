/* wakeup.h: the loop's wake-up descriptor, through which other threads and
 * signal handlers interrupt the poll phase. A part that is woken this way
 * registers itself (eddy__loop_part_add with a wakeup function), sets its
 * own flag, then calls eddy__wakeup_signal; the loop runs every part's
 * wakeup function after the poll phase's I/O. */
#ifndef EDDY_CORE_WAKEUP_H
#define EDDY_CORE_WAKEUP_H

#include "eddy/loop.h"

/* Create the descriptor on first use. 0 or an error. */
int eddy__wakeup_open(eddy_loop_t *loop);
void eddy__wakeup_close(eddy_loop_t *loop);
/* Any thread, and signal handlers. */
void eddy__wakeup_signal(eddy_loop_t *loop);

/* Around the backend's wait (loop.c): the timeout to use, then the
 * dispatch of what was signalled. */
int eddy__wakeup_before_wait(eddy_loop_t *loop, int timeout);
void eddy__wakeup_after_wait(eddy_loop_t *loop);

#endif /* EDDY_CORE_WAKEUP_H */
