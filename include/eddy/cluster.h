/* eddy/cluster.h: one program on every core, behind one port.
 *
 * Node's cluster module. A primary process forks workers that run the
 * same program again (same argv); eddy_cluster_is_primary() tells the two
 * apart. Every worker has an IPC channel to the primary (eddy/channel.h);
 * the cluster's own control messages travel on it too, marked with a
 * reserved prefix, and are never delivered to the program.
 *
 * Shared listening: in a worker that called eddy_cluster_init, a TCP
 * server (eddy_tcp_bind then eddy_listen, and so the HTTP server) does
 * not bind a socket of its own. The bind is only remembered; the listen
 * asks the primary, which owns one listening socket per (address, port,
 * family) and shares it with every worker that asks for the same one, so
 * port 0 in several workers gives all of them one port. The primary's
 * bind or listen error (EDDY_EADDRINUSE, EDDY_EACCES, ...) is what the
 * worker's eddy_listen returns. The listen waits for the primary's answer
 * (on a second socket pair made for that, so the channel's messages keep
 * their order). A socket bound this way that connects instead binds for
 * real first. A shared server's eddy_tcp_getsockname is the shared
 * socket's address once it listens.
 *
 * Scheduling (per cluster; EDDY_CLUSTER_SCHED=rr|none|reuseport|sticky|
 * leastconn in the primary's environment overrides the option):
 *   EDDY_CLUSTER_SCHED_RR (default): the primary accepts and hands each
 *     connection to the next worker that has answered its previous one.
 *     When connections queue, a free worker is handed its share of them
 *     at once (at most 16) and answers for them together: under load a
 *     hand-over then costs a fraction of a wake-up, and an idle cluster
 *     still hands connections out one by one, in turn.
 *     The worker's connection callback runs as for a local server; a
 *     worker that does not eddy_accept the connection in that callback
 *     (closing, at a limit of its own) answers no, and the primary gives
 *     the connection to another worker. The primary keeps its copy until
 *     a worker said yes, so a worker that dies mid-hand-over loses no
 *     connection. Connections waiting for a worker sit in a bounded FIFO
 *     (EDDY_CLUSTER_PENDING_MAX per socket, O(1) per connection); when it
 *     is full the primary stops accepting until it drains (backpressure:
 *     clients wait in the kernel's backlog).
 *   EDDY_CLUSTER_SCHED_NONE: the primary sends the listening socket to
 *     each worker; all accept on it and the kernel picks (unevenly).
 *   EDDY_CLUSTER_SCHED_REUSEPORT: each worker binds a socket of its own
 *     with SO_REUSEPORT on the port the primary reserved; the kernel
 *     spreads connections by a hash of the client's address and port.
 *   EDDY_CLUSTER_SCHED_STICKY: as RR, but the worker is chosen by a hash
 *     of the client's IP address over the worker slots (rendezvous
 *     hashing): an address keeps its worker, and a replaced worker's
 *     successor inherits its slot and so its addresses. The socket is
 *     handed over unread.
 *   EDDY_CLUSTER_SCHED_LEASTCONN: as RR, to the worker with the fewest
 *     connections it was handed and has not closed (workers report
 *     closes).
 *
 * Life cycle, per worker, in Node's order: FORK (in a next tick after
 * eddy_cluster_fork), ONLINE (the worker called eddy_cluster_init),
 * LISTENING (a server of the worker listens; with its address), READY
 * (eddy_cluster_ready), DISCONNECT (its channel ended), EXIT (with exit
 * code and signal). States: NONE -> ONLINE -> LISTENING -> DISCONNECTED
 * -> DEAD. A worker leaves eddy_cluster_workers after both DISCONNECT and
 * EXIT; its struct is freed after the EXIT callback returns.
 *
 * Restart: a worker that exits without having been asked to (no
 * eddy_cluster_worker_disconnect / kill / reload) is forked again in its
 * slot when options.restart is set, after a delay that starts at
 * restart_delay_ms and grows by restart_factor up to restart_max_ms, back
 * to the start once a worker stayed up stable_ms. After max_fast_crashes
 * exits in a row within fast_crash_ms of their start the slot is
 * "errored": not restarted, reported with EDDY_CLUSTER_EV_ERRORED.
 * Defaults are PM2's: 100 ms x1.5 up to 15 s, reset after 30 s, 16 exits
 * under 1 s.
 *
 * Bad workers cost only themselves: a control message that makes no
 * sense is dropped, an answer out of order or a hand-over left
 * unanswered (handover_timeout_ms) gets the worker killed, a broken frame
 * ends its channel; its connections in hand-over go to the others.
 *
 * One cluster per process. Everything here runs on the loop's thread;
 * callbacks never run inside the call that caused them.
 */
#ifndef EDDY_CLUSTER_H
#define EDDY_CLUSTER_H

#include "export.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "channel.h"
#include "process.h"
#include "stream.h"
#include "timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Workers one cluster can hold at once (slots). */
#define EDDY_CLUSTER_MAX_WORKERS 64
/* Connections the primary holds per listening socket, waiting for a
 * worker or in hand-over, before it stops accepting. */
#define EDDY_CLUSTER_PENDING_MAX 128
/* The environment variable a worker's number is in (1, 2, ...). */
#define EDDY_CLUSTER_ID_ENV "EDDY_CLUSTER_ID"
/* The environment variable that selects the scheduling. */
#define EDDY_CLUSTER_SCHED_ENV "EDDY_CLUSTER_SCHED"

typedef enum {
  EDDY_CLUSTER_SCHED_NONE = 1, /* Node's SCHED_NONE */
  EDDY_CLUSTER_SCHED_RR = 2,   /* Node's SCHED_RR */
  EDDY_CLUSTER_SCHED_REUSEPORT = 3,
  EDDY_CLUSTER_SCHED_STICKY = 4,
  EDDY_CLUSTER_SCHED_LEASTCONN = 5
} eddy_cluster_sched;

typedef enum {
  EDDY_WORKER_NONE = 0,
  EDDY_WORKER_ONLINE,
  EDDY_WORKER_LISTENING,
  EDDY_WORKER_DISCONNECTED,
  EDDY_WORKER_DEAD
} eddy_worker_state;

typedef enum {
  EDDY_CLUSTER_EV_FORK = 1,
  EDDY_CLUSTER_EV_ONLINE,
  EDDY_CLUSTER_EV_LISTENING,
  EDDY_CLUSTER_EV_READY,
  EDDY_CLUSTER_EV_DISCONNECT, /* in a worker: the primary asked it to
                                 disconnect, or went away */
  EDDY_CLUSTER_EV_EXIT,
  EDDY_CLUSTER_EV_ERRORED, /* a slot crashed too often: not restarted */
  EDDY_CLUSTER_EV_RELOADED /* eddy_cluster_reload ended; status says how */
} eddy_cluster_event_type;

typedef struct eddy_cluster_s eddy_cluster_t;
typedef struct eddy_cluster_worker_s eddy_cluster_worker_t;
typedef struct eddy_cluster_send_s eddy_cluster_send_t;

/* One worker as the primary sees it. Read-only but for data. */
struct eddy_cluster_worker_s {
  int id;   /* 1, 2, ...: never reused within a cluster */
  int slot; /* 0 .. EDDY_CLUSTER_MAX_WORKERS-1; a replacement keeps it */
  int pid;
  eddy_worker_state state;
  int exited_after_disconnect; /* it was asked to go (Node's name) */
  void *data;                  /* yours */
  struct eddy__cluster_worker_priv *priv;
};

typedef struct eddy_cluster_event_s {
  eddy_cluster_event_type type;
  eddy_cluster_worker_t *worker; /* NULL in a worker, and for RELOADED */
  /* LISTENING: the shared socket's address */
  const struct sockaddr *address;
  /* EXIT: exit code and signal; RELOADED: 0 or the error (EDDY_ETIMEDOUT:
   * a replacement never got ready, the old worker was kept) */
  int64_t exit_status;
  int term_signal;
  int status;
} eddy_cluster_event_t;

typedef void (*eddy_cluster_event_cb)(eddy_cluster_t *cluster,
                                      const eddy_cluster_event_t *event);
/* A program message: from worker (in the primary) or from the primary
 * (worker NULL, in a worker). data[0..len) is valid during the call only;
 * has_handle: take the handle with eddy_cluster_accept in this call. */
typedef void (*eddy_cluster_message_cb)(eddy_cluster_t *cluster,
                                        eddy_cluster_worker_t *worker,
                                        const void *data, size_t len,
                                        int has_handle);
typedef void (*eddy_cluster_send_cb)(eddy_cluster_send_t *req, int status);

typedef struct eddy_cluster_options_s {
  eddy_cluster_sched sched;
  eddy_cluster_event_cb on_event;     /* may be NULL */
  eddy_cluster_message_cb on_message; /* may be NULL */
  /* Workers' argv: NULL for this program's own (/proc/self/cmdline). */
  char *const *args;
  /* Extra "NAME=value" entries added to each worker's environment. */
  char *const *env;
  /* Workers' descriptors 0..2 (stdio_count <= 3): NULL inherits ours. */
  int stdio_count;
  const eddy_stdio_container_t *stdio;
  /* Restart policy (see above). */
  int restart;
  uint64_t restart_delay_ms;
  double restart_factor;
  uint64_t restart_max_ms;
  uint64_t stable_ms;
  unsigned max_fast_crashes;
  uint64_t fast_crash_ms;
  /* Graceful disconnect: kill (SIGKILL) a worker still running this long
   * after it was asked to disconnect. 0: never. */
  uint64_t grace_ms;
  /* Rolling reload: how long a replacement may take to listen or be
   * ready. */
  uint64_t reload_timeout_ms;
  /* A worker that has not answered a hand-over this long (its loop is
   * stuck, or it ignores the protocol) is killed with SIGKILL, and the
   * connection goes to another worker. It cannot be given away while the
   * worker lives: the worker holds it and could still serve it. 0: never.
   * Keep it above the longest a handler may block a worker's loop. */
  uint64_t handover_timeout_ms;
} eddy_cluster_options_t;

struct eddy_cluster_s {
  eddy_loop_t *loop;
  void *data; /* yours */
  struct eddy__cluster_priv *priv;
};

/* A program message on its way; the caller owns it until cb. */
struct eddy_cluster_send_s {
  void *data; /* yours */
  struct {
    eddy_channel_send_t send;
    eddy_cluster_send_cb cb;
  } priv;
};

/* Non-zero in a process that is not a cluster worker (no
 * EDDY_CLUSTER_ID in its environment). Any thread. */
EDDY_EXTERN int eddy_cluster_is_primary(void);

/* The worker's number (1, 2, ...) in a worker, 0 in the primary. Any
 * thread. */
EDDY_EXTERN int eddy_cluster_worker_id(void);

/* Fill options with the defaults: RR (or EDDY_CLUSTER_SCHED's), restart
 * off with PM2's backoff figures, grace_ms 10000, reload_timeout_ms
 * 10000, handover_timeout_ms 30000, workers inherit stdio and argv. Returns 0
 * or EDDY_EINVAL (NULL, or EDDY_CLUSTER_SCHED names no scheduling). */
EDDY_EXTERN int eddy_cluster_options_init(eddy_cluster_options_t *options);

/* Start the cluster on loop. In the primary: ready to fork. In a worker:
 * opens the channel to the primary, reports ONLINE, and from then on
 * routes TCP listens through the primary. options is copied (NULL: the
 * defaults). Returns 0, EDDY_EINVAL (NULL loop or cluster, bad options),
 * EDDY_EBUSY (a cluster is running in this process already), EDDY_ENOMEM,
 * or in a worker the channel's errors (EDDY_ENOENT: not started by a
 * primary). Loop thread. */
EDDY_EXTERN int eddy_cluster_init(eddy_loop_t *loop, eddy_cluster_t *cluster,
                                  const eddy_cluster_options_t *options);

/* Primary: fork one worker, in the lowest free slot. *worker (may be
 * NULL) gets it; it is the cluster's, valid until its EXIT callback
 * returns. Returns 0, EDDY_EINVAL (in a worker, or closing), EDDY_EBUSY
 * (every slot taken), or eddy_fork's and socketpair's errors. */
EDDY_EXTERN int eddy_cluster_fork(eddy_cluster_t *cluster,
                                  eddy_cluster_worker_t **worker);

/* Primary: up to max live workers (not yet both disconnected and exited)
 * into out, in id order; returns how many there are (which may exceed
 * max). */
EDDY_EXTERN int eddy_cluster_workers(const eddy_cluster_t *cluster,
                                     eddy_cluster_worker_t **out, int max);

/* Send a program message: from the primary to worker, or (worker NULL)
 * from a worker to the primary; handle as for eddy_channel_send. data and
 * handle must stay valid until cb (may be NULL). A message may not start
 * with the cluster's reserved prefix (a zero byte then "ECL"). Returns 0,
 * EDDY_EINVAL (that prefix, NULL req, worker NULL in the primary),
 * EDDY_EPIPE (the channel is gone), or eddy_channel_send's errors. */
EDDY_EXTERN int eddy_cluster_send(eddy_cluster_t *cluster,
                                  eddy_cluster_worker_t *worker,
                                  eddy_cluster_send_t *req, const void *data,
                                  size_t len, eddy_stream_t *handle,
                                  eddy_cluster_send_cb cb);

/* In a message callback with has_handle: open the handle into into, as
 * eddy_channel_accept. Returns its results; EDDY_EINVAL outside a
 * message. */
EDDY_EXTERN int eddy_cluster_accept(eddy_cluster_t *cluster,
                                    eddy_stream_t *into);

/* Worker: tell the primary it is ready (PM2's process.send('ready')); the
 * primary reports READY, and a reload waiting for this worker goes on.
 * Returns 0, EDDY_EINVAL (in the primary), EDDY_EPIPE. */
EDDY_EXTERN int eddy_cluster_ready(eddy_cluster_t *cluster);

/* Primary: ask worker to go, gracefully. The worker stops accepting on
 * its shared servers (they no longer keep its loop alive), gets
 * EDDY_CLUSTER_EV_DISCONNECT (close your servers there), closes its
 * channel, and exits when its loop has nothing left (open connections
 * finish first). Still running options.grace_ms later (unless 0), it is
 * killed with SIGKILL. No restart follows. Returns 0, EDDY_EINVAL (NULL, a
 * worker of no live cluster), EDDY_EALREADY (asked already). */
EDDY_EXTERN int eddy_cluster_worker_disconnect(eddy_cluster_worker_t *worker);

/* Primary: send signum (0: SIGTERM) to worker at once, with no graceful
 * step, as Node's worker.kill. Marks it as asked to go (no restart).
 * Returns 0, EDDY_EINVAL, EDDY_ESRCH (it exited). */
EDDY_EXTERN int eddy_cluster_worker_kill(eddy_cluster_worker_t *worker,
                                         int signum);

/* Primary: disconnect every worker and stop restarting; the cluster keeps
 * no handle of its own alive, so the loop ends once the workers are gone.
 * Returns 0 or EDDY_EINVAL. */
EDDY_EXTERN int eddy_cluster_disconnect(eddy_cluster_t *cluster);

/* Primary: rolling reload. For each live worker in turn: fork its
 * replacement, wait until it listens or is ready (reload_timeout_ms),
 * stop routing new connections to the old one, disconnect it gracefully
 * (grace_ms), and go on with the next once it exited. If a replacement
 * never gets ready, it is killed, the old worker kept, and the reload
 * ends with EDDY_ETIMEDOUT. EDDY_CLUSTER_EV_RELOADED reports the end.
 * Returns 0, EDDY_EINVAL (in a worker), EDDY_EALREADY (a reload runs). */
EDDY_EXTERN int eddy_cluster_reload(eddy_cluster_t *cluster);

/* Release the cluster so that another may start in this process (tests,
 * a program that runs several in turn). In the primary every worker must
 * be gone (EDDY_EBUSY otherwise); in a worker its channel is closed and
 * TCP listens no longer go through a primary. Returns 0, EDDY_EINVAL
 * (NULL, not started), EDDY_EBUSY. */
EDDY_EXTERN int eddy_cluster_close(eddy_cluster_t *cluster);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_CLUSTER_H */
