/* udp_internal.h: what udp.c shares with udp_options.c. */
#ifndef EDDY_UDP_INTERNAL_H
#define EDDY_UDP_INTERNAL_H

#include "eddy/udp.h"

/* Make the handle's socket if there is none yet, bound to the wildcard
 * address of family, port 0, with eddy_udp_bind flags (libuv does the
 * same before a send, a connect, recv_start or a membership change).
 * Returns 0 or a negative error; the handle has no socket after an
 * error. */
int eddy__udp_lazy(eddy_udp_t *udp, int family, unsigned flags);

#endif /* EDDY_UDP_INTERNAL_H */
