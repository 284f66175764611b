/* eddy/loopwatch.h: idle, prepare and check handles.
 *
 * Each runs its callback once per loop iteration while active: idle handles
 * just before prepare, prepare handles just before poll, check handles just
 * after poll (Node's setImmediate phase). An active idle handle makes poll
 * return at once. Handles of one kind run in the order they were started
 * (libuv runs the most recently started first). Handles started during
 * their own phase first run in the next iteration. All functions: loop thread only.
 */
#ifndef EDDY_LOOPWATCH_H
#define EDDY_LOOPWATCH_H

#include "export.h"

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_idle_s eddy_idle_t;
typedef struct eddy_prepare_s eddy_prepare_t;
typedef struct eddy_check_s eddy_check_t;
typedef void (*eddy_idle_cb)(eddy_idle_t *idle);
typedef void (*eddy_prepare_cb)(eddy_prepare_t *prepare);
typedef void (*eddy_check_cb)(eddy_check_t *check);

struct eddy_idle_s {
  eddy_handle_t handle;
  struct {
    eddy_idle_cb cb;
    eddy_queue_t node; /* on the loop's idle list while active */
  } priv;
};

struct eddy_prepare_s {
  eddy_handle_t handle;
  struct {
    eddy_prepare_cb cb;
    eddy_queue_t node;
  } priv;
};

struct eddy_check_s {
  eddy_handle_t handle;
  struct {
    eddy_check_cb cb;
    eddy_queue_t node;
  } priv;
};

/* Idle handles: cb runs once per iteration, just before the prepare
 * phase, and while any idle handle is active the poll phase does not block
 * (the loop spins: use one only for work that must go on without events).
 * init returns 0. start returns EDDY_EINVAL for a NULL cb or a closing
 * handle, 0 otherwise (starting an active handle only replaces cb). stop
 * returns 0 and is a no-op on an inactive handle. */
EDDY_EXTERN int eddy_idle_init(eddy_loop_t *loop, eddy_idle_t *idle);
EDDY_EXTERN int eddy_idle_start(eddy_idle_t *idle, eddy_idle_cb cb);
EDDY_EXTERN int eddy_idle_stop(eddy_idle_t *idle);

/* Prepare handles: cb runs once per iteration just before the loop polls
 * for I/O (after timers, pending callbacks and idle handles), which is the
 * last moment to change what the poll phase waits for. An active prepare
 * handle does not keep poll from blocking. init, start and stop return as
 * the idle ones do: init 0; start EDDY_EINVAL for a NULL cb or a closing
 * handle, else 0 (a started handle only gets the new cb); stop 0. */
EDDY_EXTERN int eddy_prepare_init(eddy_loop_t *loop, eddy_prepare_t *prepare);
EDDY_EXTERN int eddy_prepare_start(eddy_prepare_t *prepare, eddy_prepare_cb cb);
EDDY_EXTERN int eddy_prepare_stop(eddy_prepare_t *prepare);

/* Check handles: cb runs once per iteration just after the poll phase has
 * run the I/O callbacks, before the close phase: Node's setImmediate
 * phase (eddy/timers_node.h's immediates run here). An active check handle
 * does not keep poll from blocking. init, start and stop return as the
 * idle and prepare ones do. */
EDDY_EXTERN int eddy_check_init(eddy_loop_t *loop, eddy_check_t *check);
EDDY_EXTERN int eddy_check_start(eddy_check_t *check, eddy_check_cb cb);
EDDY_EXTERN int eddy_check_stop(eddy_check_t *check);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_LOOPWATCH_H */
