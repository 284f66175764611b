/* metrics.c: reading the loop's counters (kept by loop.c and io.c). */
#include <string.h>

#include "eddy/metrics.h"

int eddy_metrics_info(const eddy_loop_t *loop, eddy_metrics_t *metrics) {
  if (loop == NULL || metrics == NULL)
    return EDDY_EINVAL;
  memset(metrics, 0, sizeof(*metrics));
  metrics->loop_count =
      __atomic_load_n(&loop->priv.metrics.loop_count, __ATOMIC_RELAXED);
  metrics->events = __atomic_load_n(&loop->priv.metrics.events,
                                    __ATOMIC_RELAXED);
  metrics->events_waiting =
      __atomic_load_n(&loop->priv.metrics.events_waiting, __ATOMIC_RELAXED);
  return 0;
}

uint64_t eddy_metrics_idle_time(const eddy_loop_t *loop) {
  if (loop == NULL)
    return 0;
  return __atomic_load_n(&loop->priv.metrics.idle_ns, __ATOMIC_RELAXED);
}
