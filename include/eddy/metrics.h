/* eddy/metrics.h: what the loop did, readable while it runs.
 *
 * The figures libuv gives (uv_metrics_info, uv_metrics_idle_time), kept by
 * the loop as it goes and readable from any thread without stopping it:
 * each figure is read atomically on its own (two figures read one after
 * the other may come from different iterations). Counting costs a few
 * stores per iteration; idle time is counted only once asked for with
 * eddy_loop_configure(loop, EDDY_METRICS_IDLE_TIME), before the loop
 * runs, since it reads the clock around each wait that blocks. */
#ifndef EDDY_METRICS_H
#define EDDY_METRICS_H

#include <stdint.h>

#include "export.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_metrics_s {
  uint64_t loop_count;     /* iterations completed */
  uint64_t events;         /* I/O events dispatched, in all */
  uint64_t events_waiting; /* events the last poll wait returned */
  uint64_t reserved[13];   /* zero; room for more without a new ABI */
} eddy_metrics_t;

/* Fill *metrics. Returns 0, or EDDY_EINVAL for a NULL argument. Any
 * thread, while the loop runs. */
EDDY_EXTERN int eddy_metrics_info(const eddy_loop_t *loop,
                                  eddy_metrics_t *metrics);

/* Nanoseconds the loop spent blocked in its poll wait since
 * EDDY_METRICS_IDLE_TIME was set (0 before, or for a NULL loop). With
 * eddy_hrtime() this gives Node's event-loop utilisation: over a window,
 * 1 - idle / elapsed. Any thread, while the loop runs. */
EDDY_EXTERN uint64_t eddy_metrics_idle_time(const eddy_loop_t *loop);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_METRICS_H */
