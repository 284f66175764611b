/* bench/metrics.h: eddy programs only. EDDY_BENCH_METRICS=1 in the
 * environment runs the program with the loop's metrics on
 * (eddy_metrics_enable(loop, EDDY_METRICS_LOOP)), so that
 * bench/metrics_cost.sh can run the same program on and off in one run.
 * EDDY_BENCH_METRICS=phases adds EDDY_METRICS_PHASES. */
#ifndef EDDY_BENCH_METRICS_H
#define EDDY_BENCH_METRICS_H

#include <eddy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int bench_eddy_metrics(eddy_loop_t *loop) {
  const char *on = getenv("EDDY_BENCH_METRICS");
  unsigned flags = EDDY_METRICS_LOOP;
  int err;

  if (on == NULL || strcmp(on, "0") == 0 || on[0] == '\0')
    return 0;
  if (strcmp(on, "phases") == 0)
    flags |= EDDY_METRICS_PHASES;
  if ((err = eddy_metrics_enable(loop, flags)) != 0) {
    fprintf(stderr, "eddy_metrics_enable: %s\n", eddy_strerror(err));
    return 1;
  }
  return 0;
}

#endif /* EDDY_BENCH_METRICS_H */
