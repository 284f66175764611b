/* channel_internal.h: what the cluster (src/cluster/) takes from a
 * channel beyond its public API. */
#ifndef EDDY_PROCESS_CHANNEL_INTERNAL_H
#define EDDY_PROCESS_CHANNEL_INTERNAL_H

#include "eddy/channel.h"

/* In a message callback with a handle: take its raw descriptor (the
 * caller owns it) instead of opening it into a handle. Returns the
 * descriptor or EDDY_EAGAIN (no handle waiting). */
int eddy__channel_take_fd(eddy_channel_t *channel);

#endif /* EDDY_PROCESS_CHANNEL_INTERNAL_H */
