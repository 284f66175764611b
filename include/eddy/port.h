/* eddy/port.h: message ports between loops (Node's MessageChannel and
 * MessagePort).
 *
 * eddy_port_pair() makes two entangled ports: what is posted on one is
 * delivered, in order, to the other, on the thread of the loop the
 * receiving port belongs to, in that loop's poll phase. A port may be
 * posted over another port, which moves its end to the receiver's loop
 * (eddy_port_accept), so the two ends of a pair can live on two threads:
 * a worker's parent port (eddy/worker.h) is one end of such a pair.
 *
 * A message is a list of buffers and a list of ports. Buffers are copied
 * by default; with EDDY_PORT_TRANSFER their ownership moves: each base
 * must come from malloc(), the receiver gets the same pointer (no copy,
 * whatever its size) and the sender's eddy_buf_t is cleared (base NULL,
 * len 0), as Node detaches a transferred ArrayBuffer. A buffer whose base
 * is NULL is a detached one: posting it is EDDY_EINVAL (DataCloneError).
 *
 * Each port queues at most its limit of undelivered messages
 * (EDDY_PORT_QUEUE_DEFAULT unless eddy_port_set_queue_limit says
 * otherwise); a post to a port whose queue is full fails with EDDY_EAGAIN
 * and nothing is queued, and the sender's drain callback then runs once
 * the receiver has taken its queue: a fast sender cannot grow memory
 * without end. The receiver takes its whole queue at once, so at most
 * twice the limit is held at any time.
 *
 * Closing either end (eddy_close) fires the close callback on both ends:
 * on the closing one just before its close callback, on the other, on its
 * own thread, after the messages already queued to it are delivered. A
 * port is active (it keeps its loop alive) while it receives
 * (eddy_port_start) and its pair is open; eddy_unref() lets the loop end
 * anyway.
 *
 * Threads: every function here is for the thread of the port's loop; a
 * port pair is the one way the loops of two threads talk, and all the
 * locking is inside.
 */
#ifndef EDDY_PORT_H
#define EDDY_PORT_H

#include "export.h"

#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_port_s eddy_port_t;
typedef struct eddy_port_message_s eddy_port_message_t;

/* eddy_port_post flags. */
enum {
  EDDY_PORT_TRANSFER = 1 /* move the buffers' ownership, do not copy */
};

/* Undelivered messages a port queues unless told otherwise. */
#define EDDY_PORT_QUEUE_DEFAULT 65536

typedef void (*eddy_port_message_cb)(eddy_port_t *port,
                                     eddy_port_message_t *message);
typedef void (*eddy_port_event_cb)(eddy_port_t *port);

/* A received message, valid for the message callback only. bufs[i].base
 * stays the library's (freed after the callback) unless taken with
 * eddy_port_message_take; ports arrive as ends that eddy_port_accept binds
 * to a handle, and those not accepted are closed after the callback. */
struct eddy_port_message_s {
  eddy_buf_t *bufs;
  unsigned nbufs;
  unsigned nports;
  struct {
    struct eddy__port_msg *msg;
  } priv;
};

/* Where a loop's thread collects what other threads sent it (private;
 * ports and workers embed one). */
struct eddy__mailbox {
  eddy_queue_t node; /* the loop's mailboxes */
  eddy_loop_t *loop;
  void (*deliver)(struct eddy__mailbox *box);
  unsigned pending; /* atomic: something to deliver */
};

struct eddy_port_s {
  eddy_handle_t handle;
  struct {
    struct eddy__mailbox box;
    struct eddy__port_end *end; /* NULL once posted away */
    eddy_port_message_cb message_cb;
    eddy_port_event_cb close_cb;
    eddy_port_event_cb drain_cb;
    unsigned flags; /* EDDY__PORT_* in src/worker/port_internal.h */
  } priv;
};

/* Make two entangled ports on loop, both open and not yet receiving. The
 * handles are the caller's. Returns 0, EDDY_EINVAL (NULL arguments, the
 * same handle twice), EDDY_ENOMEM, or an error creating the loop's wake-up
 * descriptor. Loop thread. */
EDDY_EXTERN int eddy_port_pair(eddy_loop_t *loop, eddy_port_t *a,
                               eddy_port_t *b);

/* Start delivering messages to cb (messages queued before are delivered
 * first, in order, in a later poll phase, never inside this call). The
 * port becomes active. Returns 0, EDDY_EINVAL (NULL, a closing port, a
 * port posted away). */
EDDY_EXTERN int eddy_port_start(eddy_port_t *port, eddy_port_message_cb cb);

/* Stop delivering; messages keep queueing (up to the limit). Returns 0 or
 * EDDY_EINVAL (NULL). */
EDDY_EXTERN int eddy_port_stop(eddy_port_t *port);

/* The callback that runs when the pair closes (either end); NULL: none.
 * Returns 0 or EDDY_EINVAL (NULL port). */
EDDY_EXTERN int eddy_port_set_close_cb(eddy_port_t *port,
                                       eddy_port_event_cb cb);

/* The callback that runs, once, after a post on this port failed with
 * EDDY_EAGAIN and the receiver has since taken its queue; NULL: none.
 * Returns 0 or EDDY_EINVAL (NULL port). */
EDDY_EXTERN int eddy_port_set_drain_cb(eddy_port_t *port,
                                       eddy_port_event_cb cb);

/* At most limit (>= 1) undelivered messages queued to this port: posts
 * from its pair beyond that fail with EDDY_EAGAIN. Returns 0 or
 * EDDY_EINVAL (NULL, a port posted away, limit 0). */
EDDY_EXTERN int eddy_port_set_queue_limit(eddy_port_t *port, size_t limit);

/* Post one buffer to the port's pair (eddy_port_postv with one buffer and
 * no port). */
EDDY_EXTERN int eddy_port_post(eddy_port_t *port, eddy_buf_t *buf,
                               unsigned flags);

/* Post a message of nbufs buffers and nports ports to the port's pair.
 * Buffers are copied, or with EDDY_PORT_TRANSFER moved (each base from
 * malloc(); the caller's eddy_buf_t entries are cleared). The ports move
 * always: each leaves its loop, goes inactive and is left open for the
 * caller to eddy_close (its close callback fires no close event, the pair
 * lives on where it is accepted). Nothing is sent or changed on error:
 * EDDY_EINVAL (NULL port, a NULL base, the same base twice in a transfer,
 * the same port twice, the port itself or its pair among ports, a port
 * already posted away or closing), EDDY_EPIPE (the pair is closed),
 * EDDY_EAGAIN (the pair's queue is full: see the drain callback),
 * EDDY_ENOMEM. Loop thread of the port (and of each posted port). */
EDDY_EXTERN int eddy_port_postv(eddy_port_t *port, eddy_buf_t *bufs,
                                unsigned nbufs, eddy_port_t **ports,
                                unsigned nports, unsigned flags);

/* Take buffer index of a message being delivered: the returned memory is
 * the caller's, to free(); the message's entry is cleared. A transferred
 * buffer comes back as it was sent; a copied one is copied once more if it
 * shares memory with the message. Returns NULL for a bad index, an entry
 * already taken or no memory. Message callback only. */
EDDY_EXTERN void *eddy_port_message_take(eddy_port_message_t *message,
                                         unsigned index);

/* Bind port index of a message being delivered to port, a handle of the
 * caller's on loop (the calling thread's loop), which becomes that end of
 * its pair, not yet receiving. Returns 0, EDDY_EINVAL (NULL arguments, a
 * bad index, an index already accepted), EDDY_ENOMEM or an error creating
 * the loop's wake-up descriptor. Message callback only. */
EDDY_EXTERN int eddy_port_accept(eddy_port_message_t *message, unsigned index,
                                 eddy_loop_t *loop, eddy_port_t *port);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_PORT_H */
