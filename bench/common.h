/* bench/common.h: clocks and resource figures shared by every benchmark
 * program (eddy, libuv and libev sides alike), so that all sides measure
 * with the same code. Header-only; nothing here touches an event loop. */
#ifndef EDDY_BENCH_COMMON_H
#define EDDY_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* Monotonic wall clock, seconds. */
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* User + system CPU time of this process so far, seconds. */
static inline double bench_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Peak resident set size of this process, MiB (ru_maxrss is in KiB). */
static inline double bench_maxrss_mib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

/* argv[1] as a positive count, or def when absent. Exits on garbage. */
static inline long bench_arg_long(int argc, char **argv, long def) {
  if (argc < 2) return def;
  char *end;
  long v = strtol(argv[1], &end, 10);
  if (*end != '\0' || v <= 0) {
    fprintf(stderr, "bad count: %s\n", argv[1]);
    exit(2);
  }
  return v;
}

/* argv[1] as a positive number of seconds, or def when absent. */
static inline double bench_arg_double(int argc, char **argv, double def) {
  if (argc < 2) return def;
  char *end;
  double v = strtod(argv[1], &end);
  if (*end != '\0' || !(v > 0)) {
    fprintf(stderr, "bad duration: %s\n", argv[1]);
    exit(2);
  }
  return v;
}

/* Report a failed check on stderr and count it. */
#define BENCH_CHECK(cond, errs)                                        \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
              #cond);                                                  \
      (errs)++;                                                        \
    }                                                                  \
  } while (0)

#endif /* EDDY_BENCH_COMMON_H */
