/* port_internal.h: what the worker layer shares with the ports (its own
 * files only): the per-loop mailboxes other threads wake, and the port
 * handles a worker uses without putting them on the loop's handle list. */
#ifndef EDDY_WORKER_PORT_INTERNAL_H
#define EDDY_WORKER_PORT_INTERNAL_H

#include "eddy/port.h"

/* eddy_port_t.priv.flags */
enum {
  EDDY__PORT_RECEIVING = 1 << 0, /* eddy_port_start was called */
  EDDY__PORT_CLOSED = 1 << 1,    /* the close event has fired */
  EDDY__PORT_CLOSE_DUE = 1 << 2  /* fire the close event in finish_close */
};

/* Put box on loop's list of mailboxes (the loop's "port" part, created on
 * first use) with its deliver function. Loop thread. 0 or an error. */
int eddy__mailbox_open(eddy_loop_t *loop, struct eddy__mailbox *box,
                       void (*deliver)(struct eddy__mailbox *box));
/* Take box off its loop's list; idempotent. Loop thread. */
void eddy__mailbox_close(struct eddy__mailbox *box);
/* Have box's deliver function run in its loop's next poll phase. Any
 * thread, while the box is open. */
void eddy__mailbox_signal(struct eddy__mailbox *box);

/* A new pair of entangled ends, not bound to any port. 0 or EDDY_ENOMEM. */
int eddy__port_ends_new(struct eddy__port_end **a, struct eddy__port_end **b);
/* Set how many undelivered messages end queues (>= 1). */
void eddy__port_end_set_limit(struct eddy__port_end *end, size_t limit);
/* Close an end no port holds (the pair sees the close). */
void eddy__port_end_release(struct eddy__port_end *end);

/* Open port, a handle of loop, as the holder of end. 0 or an error (the
 * end is then still the caller's). Loop thread. */
int eddy__port_open(eddy_loop_t *loop, eddy_port_t *port,
                    struct eddy__port_end *end);

/* A port that is no handle of its loop (a worker's own side of its
 * parent port): bound to end, delivering through deliver, which calls
 * eddy__port_deliver. Receives at once with cb. */
int eddy__port_open_internal(eddy_loop_t *loop, eddy_port_t *port,
                             struct eddy__port_end *end,
                             void (*deliver)(struct eddy__mailbox *box),
                             eddy_port_message_cb cb);
/* Release such a port: the pair sees the close; no event fires here. */
void eddy__port_close_internal(eddy_port_t *port);
/* Deliver what is queued to port: messages, then the close event. */
void eddy__port_deliver(eddy_port_t *port);

#endif /* EDDY_WORKER_PORT_INTERNAL_H */
