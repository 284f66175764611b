/* clock.c: eddy_clock_gettime, the two clocks a program asks for by name
 * (libuv's uv_clock_gettime). */
#include <errno.h>
#include <time.h>

#include "eddy/os.h"

int eddy_clock_gettime(eddy_clock_id clock_id, eddy_timespec64_t *ts) {
  struct timespec t;
  clockid_t id;

  if (ts == NULL)
    return EDDY_EINVAL;
  switch (clock_id) {
  case EDDY_CLOCK_MONOTONIC:
    id = CLOCK_MONOTONIC;
    break;
  case EDDY_CLOCK_REALTIME:
    id = CLOCK_REALTIME;
    break;
  default:
    return EDDY_EINVAL;
  }
  if (clock_gettime(id, &t) != 0)
    return -errno;
  ts->tv_sec = (int64_t)t.tv_sec;
  ts->tv_nsec = (int32_t)t.tv_nsec;
  return 0;
}
