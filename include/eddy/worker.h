/* eddy/worker.h: worker threads (Node's worker_threads).
 *
 * eddy_worker_start() starts a thread with an eddy loop of its own and
 * runs entry(ctx, data) on it, then that loop until nothing keeps it
 * alive. The parent and the worker talk through the worker's parent port
 * (eddy/port.h): eddy_worker_post() on the parent's side,
 * eddy_worker_parent_port(ctx) on the worker's. The worker shares the
 * process, its descriptors and the work pool; data (Node's workerData) is
 * copied once at start. Shared memory is eddy/shared_buffer.h.
 *
 * Events on the parent's loop, in this order: online (the worker is about
 * to run entry), message (every message the worker posted, in order),
 * error (the worker reported one: entry returned a negative error, or a
 * callback called eddy_worker_report_error), exit (code). The exit code
 * is 0 when the loop ran out of work, the code given to eddy_worker_exit,
 * or 1 after an error or eddy_worker_terminate.
 *
 * Stopping. C cannot be interrupted in the middle of a function, so a
 * worker stops where it gives control back: eddy_worker_terminate() (or
 * eddy_worker_exit) makes eddy_worker_should_stop() true at once, for the
 * callback in progress to notice, and stops the worker's loop when that
 * callback returns (callbacks already due in that same loop iteration
 * still run, and see should_stop true). The worker then closes every
 * handle still open on its loop (close callbacks NULL: memory the program
 * gave its handles stays the program's), waits for the pool jobs it
 * submitted, frees its loop, its parent port and every message still
 * queued, and the parent gets exit.
 *
 * The worker handle is active, and keeps the parent's loop alive, until
 * exit has been delivered; eddy_unref() lets the loop end anyway.
 * eddy_close() on a worker that still runs terminates it and waits for its
 * thread to finish (a worker stuck in its own code blocks the parent
 * there); no event fires after eddy_close.
 *
 * Threads: the eddy_worker_t functions are for the parent loop's thread;
 * the functions taking no worker handle are for the worker's own thread.
 */
#ifndef EDDY_WORKER_H
#define EDDY_WORKER_H

#include "export.h"

#include "loop.h"
#include "port.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_worker_s eddy_worker_t;
typedef struct eddy__worker_ctx eddy_worker_ctx_t;

/* What the worker runs first, on its thread, with its loop: data is the
 * copy of the start data, valid until the worker ends. Return 0 to go on
 * with the loop, or a negative error to report it (error, then exit 1). */
typedef int (*eddy_worker_entry)(eddy_worker_ctx_t *ctx,
                                 const eddy_buf_t *data);

/* The parent's events (any may be NULL). message owns its buffers as in
 * eddy/port.h; error's message may be NULL and lives for the call. */
typedef struct eddy_worker_events_s {
  void (*online)(eddy_worker_t *worker);
  void (*message)(eddy_worker_t *worker, eddy_port_message_t *message);
  void (*error)(eddy_worker_t *worker, int err, const char *message);
  void (*exit)(eddy_worker_t *worker, int code);
} eddy_worker_events_t;

/* eddy_worker_options_t.env */
enum {
  EDDY_WORKER_ENV_COPY = 0, /* a copy of the parent's environment at start */
  EDDY_WORKER_ENV_SHARE = 1 /* the process environment itself */
};

typedef struct eddy_worker_options_s {
  eddy_worker_events_t events;
  size_t stack_size; /* bytes, 0: the system's default */
  const char *name;  /* the thread's name (cut to 15 bytes), NULL: none */
  int env;           /* EDDY_WORKER_ENV_* */
  /* Undelivered messages each side of the parent port queues (see
   * eddy_port_set_queue_limit); 0: EDDY_PORT_QUEUE_DEFAULT. */
  size_t queue_limit;
} eddy_worker_options_t;

struct eddy_worker_s {
  eddy_handle_t handle;
  struct {
    eddy_port_t port; /* the parent's side of the parent port */
    eddy_worker_events_t events;
    eddy_worker_ctx_t *ctx; /* NULL once the thread is joined */
  } priv;
};

/* Start a worker thread running entry with a copy of data (NULL: empty)
 * and options (NULL: defaults). The handle is the caller's. Returns 0,
 * EDDY_EINVAL (NULL loop, worker or entry; an unknown env), EDDY_ENOMEM,
 * EDDY_EAGAIN (no thread could be made), or an error creating the loop's
 * wake-up descriptor. Loop thread. */
EDDY_EXTERN int eddy_worker_start(eddy_loop_t *loop, eddy_worker_t *worker,
                                  eddy_worker_entry entry,
                                  const eddy_buf_t *data,
                                  const eddy_worker_options_t *options);

/* Post to the worker's parent port, as eddy_port_postv (same flags, same
 * errors; EDDY_EPIPE once the worker closed its port or ended). Parent's
 * loop thread. */
EDDY_EXTERN int eddy_worker_postv(eddy_worker_t *worker, eddy_buf_t *bufs,
                                  unsigned nbufs, eddy_port_t **ports,
                                  unsigned nports, unsigned flags);

/* eddy_worker_postv with one buffer and no port. */
EDDY_EXTERN int eddy_worker_post(eddy_worker_t *worker, eddy_buf_t *buf,
                                 unsigned flags);

/* Stop the worker (see "Stopping" above); its exit event reports 1.
 * Returns 0 (also when it has already ended) or EDDY_EINVAL (NULL, a
 * closing handle). Parent's loop thread. */
EDDY_EXTERN int eddy_worker_terminate(eddy_worker_t *worker);

/* The calling thread's worker context, NULL outside a worker (Node's
 * parentPort is null on the main thread). Any thread. */
EDDY_EXTERN eddy_worker_ctx_t *eddy_worker_self(void);

/* The worker's loop. Worker thread. */
EDDY_EXTERN eddy_loop_t *eddy_worker_loop(eddy_worker_ctx_t *ctx);

/* The worker's side of its parent port, a port handle of the worker's
 * loop: eddy_port_start it to receive what the parent posts, post on it to
 * reach the parent's message event. The library closes it when the worker
 * ends; the worker may close it sooner. Worker thread. */
EDDY_EXTERN eddy_port_t *eddy_worker_parent_port(eddy_worker_ctx_t *ctx);

/* End the calling worker with code (Node's process.exit in a worker):
 * should_stop becomes true and its loop stops when the running callback
 * returns; only this thread ends. Returns 0 or EDDY_EINVAL (not a worker
 * thread). */
EDDY_EXTERN int eddy_worker_exit(int code);

/* Non-zero once the calling worker was told to stop (terminate, exit, a
 * reported error): long-running code should return to its loop. 0 outside
 * a worker. Worker thread (or any: it reads the caller's own worker). */
EDDY_EXTERN int eddy_worker_should_stop(void);

/* Report an error from the calling worker (an uncaught exception): the
 * parent gets error(err, message) and then exit 1; the worker stops as
 * for eddy_worker_exit. Only the first report is kept. message (may be
 * NULL) is copied. Returns 0, EDDY_EINVAL (not a worker thread, err not
 * negative) or EDDY_ENOMEM (the message could not be copied; the error is
 * still reported, without it). */
EDDY_EXTERN int eddy_worker_report_error(int err, const char *message);

/* An environment variable as the calling worker sees it: from its copy
 * of the parent's environment (EDDY_WORKER_ENV_COPY) or the process's
 * (EDDY_WORKER_ENV_SHARE, or outside a worker). NULL if unset. The string
 * lives as long as the worker (copy) or until the environment changes. */
EDDY_EXTERN const char *eddy_worker_getenv(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_WORKER_H */
