/* eddy/async.h: wake a loop from another thread.
 *
 * eddy_async_send() may be called from any thread (and from a signal
 * handler). Sends coalesce: however many arrive before the loop gets to the
 * handle, its callback runs once, on the loop thread, in the poll phase.
 * An async handle is active from init until closed.
 */
#ifndef EDDY_ASYNC_H
#define EDDY_ASYNC_H

#include "export.h"

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_async_s eddy_async_t;
typedef void (*eddy_async_cb)(eddy_async_t *async);

struct eddy_async_s {
  eddy_handle_t handle;
  struct {
    eddy_async_cb cb;
    eddy_queue_t node;       /* loop's async list */
    unsigned pending;        /* atomic: 1 while a wake-up is undelivered */
    unsigned senders;        /* atomic: threads inside eddy_async_send */
  } priv;
};

/* Initialise and start an async handle (loop thread). cb may be NULL.
 * Returns 0, EDDY_ENOMEM, or an error creating the loop's wake-up
 * descriptor (EDDY_EMFILE, ...). */
EDDY_EXTERN int eddy_async_init(eddy_loop_t *loop, eddy_async_t *async,
                                eddy_async_cb cb);

/* Ask the loop to run the handle's callback. Thread-safe and
 * async-signal-safe. Returns 0. A send that overlaps eddy_close() is safe
 * (close waits for it), but the program must stop sending before calling
 * eddy_close(): a send begun after the close callback touches freed memory. */
EDDY_EXTERN int eddy_async_send(eddy_async_t *async);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_ASYNC_H */
