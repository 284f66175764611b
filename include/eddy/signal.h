/* eddy/signal.h: receive POSIX signals on a loop.
 *
 * Any number of handles, on any number of loops in any threads, may watch
 * the same signal; every one of them sees it. The process-wide handler only
 * marks the signal and wakes each interested loop; callbacks run on their
 * loop's thread in the poll phase. Signals that arrive more than once before
 * a loop gets to them are coalesced into one callback, as the kernel does for
 * standard signals. When the last handle for a signal stops, its disposition
 * goes back to what it was before eddy installed its handler. Loop thread
 * only.
 */
#ifndef EDDY_SIGNAL_H
#define EDDY_SIGNAL_H

#include "export.h"

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_signal_s eddy_signal_t;
typedef void (*eddy_signal_cb)(eddy_signal_t *signal, int signum);

struct eddy_signal_s {
  eddy_handle_t handle;
  int signum; /* read only: the signal watched, 0 when stopped */
  struct {
    eddy_signal_cb cb;
    eddy_queue_t node; /* loop's signal list while active */
    int oneshot;
  } priv;
};

/* Initialise a signal handle. Returns 0, or an error creating the loop's
 * wake-up descriptor or signal state (EDDY_ENOMEM, EDDY_EMFILE). */
EDDY_EXTERN int eddy_signal_init(eddy_loop_t *loop, eddy_signal_t *signal);

/* Watch signum; starting an active handle switches it to the new signal.
 * Returns EDDY_EINVAL for a NULL cb, a closing handle, or a signal that
 * cannot be caught (SIGKILL, SIGSTOP, out of range). */
EDDY_EXTERN int eddy_signal_start(eddy_signal_t *signal, eddy_signal_cb cb,
                                  int signum);

/* Like eddy_signal_start, but the handle stops itself just before its
 * callback runs, so the callback runs at most once per start. */
EDDY_EXTERN int eddy_signal_start_oneshot(eddy_signal_t *signal,
                                          eddy_signal_cb cb, int signum);

/* Stop watching. Returns 0. */
EDDY_EXTERN int eddy_signal_stop(eddy_signal_t *signal);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_SIGNAL_H */
