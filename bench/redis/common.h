/* bench/redis/common.h: what the C sides of the Redis benchmarks share:
 * the arguments and the workload's definition, so that eddy and hiredis
 * run the same commands.
 *
 *   bench_redis_<side> PORT MODE SECONDS
 *
 * MODE: rtt          one GET at a time (round trips/s)
 *       pipelineN    batches of N commands (SET and GET alternately, on one
 *                    key), the next batch sent when the last reply came:
 *                    redis-benchmark -P N's pattern; commands/s
 *       cache        (eddy only) cached GET hits/s against uncached GETs/s,
 *                    and the invalidation delay
 * Each run prints key=value lines (bench/run.sh's format) and exits
 * non-zero when a reply was not the one expected. */
#ifndef EDDY_BENCH_REDIS_COMMON_H
#define EDDY_BENCH_REDIS_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"

#define BENCH_KEY "bench:redis:k"
#define BENCH_VALUE "xyz"

struct bench_redis_args {
  int port;
  int depth;      /* 1 for rtt, N for pipelineN, 0 for cache */
  int cache;      /* mode cache */
  double seconds; /* measured time (a warm-up of a tenth runs first) */
};

static inline struct bench_redis_args bench_redis_parse(int argc, char **argv) {
  struct bench_redis_args a;

  if (argc < 4) {
    fprintf(stderr, "usage: %s PORT rtt|pipelineN|cache SECONDS\n", argv[0]);
    exit(2);
  }
  memset(&a, 0, sizeof(a));
  a.port = atoi(argv[1]);
  if (strcmp(argv[2], "rtt") == 0)
    a.depth = 1;
  else if (strncmp(argv[2], "pipeline", 8) == 0)
    a.depth = atoi(argv[2] + 8);
  else if (strcmp(argv[2], "cache") == 0)
    a.cache = 1;
  a.seconds = atof(argv[3]);
  if (a.port <= 0 || (!a.cache && a.depth <= 0) || !(a.seconds > 0)) {
    fprintf(stderr, "bad arguments\n");
    exit(2);
  }
  return a;
}

static inline int bench_cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

#endif
