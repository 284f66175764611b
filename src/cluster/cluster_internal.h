/* cluster_internal.h: what the cluster's files share (src/cluster/ only).
 *
 *   cluster.c   the public entry points both sides use, options, messages
 *   primary.c   forking workers, their life cycle, restart, reload
 *   balance.c   the primary's shared listening sockets and the hand-over
 *   worker.c    the worker's side: its channel, shared servers, answers
 *
 * Control messages (both channels) are PREFIX, one op byte, then
 * big-endian 32-bit fields:
 *   worker -> primary, channel: ONLINE; READY; LISTENING key;
 *     UNLISTEN key; ANSWER key seq count taken; CLOSED key
 *   primary -> worker, channel: NEWCONN key seq (+ the connection);
 *     DISCONNECT
 *   worker -> primary, query socket: BIND family flags port addr[16];
 *     the answer BOUND status key mode port (+ the socket unless the mode
 *     is REUSEPORT or status is an error)
 * An ANSWER covers count hand-overs of one listener with consecutive
 * sequence numbers from seq on; bit i of taken is 1 if the worker took
 * the connection numbered seq + i.
 */
#ifndef EDDY_CLUSTER_CLUSTER_INTERNAL_H
#define EDDY_CLUSTER_CLUSTER_INTERNAL_H

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "core/queue.h"
#include "eddy/cluster.h"
#include "eddy/loopwatch.h"
#include "eddy/tcp.h"

#define EDDY__CL_PREFIX "\0ECL"
#define EDDY__CL_PREFIX_LEN 4
/* The environment variable naming the worker's query socket. */
#define EDDY__CL_QUERY_ENV "EDDY_CLUSTER_QUERY_FD"
/* A control message's largest size. */
#define EDDY__CL_MSG_MAX 48
/* The most connections one hand-over gives a free worker at once. */
#define EDDY__CL_BATCH_MAX 16
/* The most hand-overs one ANSWER covers: the bits of its taken field. */
#define EDDY__CL_ANSWER_MAX 32

enum {
  EDDY__CL_ONLINE = 'o',
  EDDY__CL_READY = 'r',
  EDDY__CL_LISTENING = 'l',
  EDDY__CL_UNLISTEN = 'u',
  EDDY__CL_ANSWER = 'a',
  EDDY__CL_CLOSED = 'c',
  EDDY__CL_NEWCONN = 'n',
  EDDY__CL_DISCONNECT = 'd',
  EDDY__CL_BIND = 'b',
  EDDY__CL_BOUND = 'B'
};

/* A control message being built or read. */
struct eddy__cl_msg {
  unsigned char buf[EDDY__CL_MSG_MAX];
  size_t len;
};

static inline void eddy__cl_msg_start(struct eddy__cl_msg *m, int op) {
  memcpy(m->buf, EDDY__CL_PREFIX, EDDY__CL_PREFIX_LEN);
  m->buf[EDDY__CL_PREFIX_LEN] = (unsigned char)op;
  m->len = EDDY__CL_PREFIX_LEN + 1;
}

static inline void eddy__cl_msg_u32(struct eddy__cl_msg *m, uint32_t v) {
  m->buf[m->len++] = (unsigned char)(v >> 24);
  m->buf[m->len++] = (unsigned char)(v >> 16);
  m->buf[m->len++] = (unsigned char)(v >> 8);
  m->buf[m->len++] = (unsigned char)v;
}

static inline uint32_t eddy__cl_get_u32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* Non-zero if data is a control message; *op gets its op byte. */
static inline int eddy__cl_is_control(const void *data, size_t len, int *op) {
  if (len <= EDDY__CL_PREFIX_LEN ||
      memcmp(data, EDDY__CL_PREFIX, EDDY__CL_PREFIX_LEN) != 0)
    return 0;
  *op = ((const unsigned char *)data)[EDDY__CL_PREFIX_LEN];
  return 1;
}

/* The fields after the op byte: n 32-bit values expected. */
static inline const unsigned char *eddy__cl_fields(const void *data, size_t len,
                                                   size_t n) {
  if (len < EDDY__CL_PREFIX_LEN + 1 + 4 * n)
    return NULL;
  return (const unsigned char *)data + EDDY__CL_PREFIX_LEN + 1;
}

struct eddy__cluster_listener;
struct eddy__cluster_conn;

/* A worker slot: its backoff lives on after the worker. */
struct eddy__cluster_slot {
  int used;    /* a worker (or its restart timer) holds it */
  int errored; /* crashed too often: not restarted */
  uint64_t delay_ms;
  unsigned fast_crashes;
  eddy_timer_t restart_timer;
  struct eddy__cluster_priv *cluster;
};

struct eddy__cluster_worker_priv {
  eddy_cluster_worker_t pub;
  eddy_cluster_t *cluster;
  eddy_queue_t node; /* cluster's workers, in id order */
  eddy_process_t proc;
  eddy_channel_t ch;    /* messages, ours and the program's */
  eddy_channel_t query; /* the worker's synchronous binds */
  eddy_channel_send_t query_send;
  struct eddy__cl_msg query_reply;
  int query_busy;               /* query_send is out */
  eddy_channel_send_t ctl_send; /* DISCONNECT */
  struct eddy__cl_msg ctl_msg;
  eddy_timer_t grace_timer;
  eddy_timer_t answer_timer; /* runs while a hand-over awaits its answer */
  eddy_queue_t inflight;     /* conns handed over, answer awaited, in order */
  uint64_t started_ms;
  uint32_t bound[16]; /* keys of the listeners it bound */
  int nbound;
  int disconnected, exited, gone_from_listeners;
  int reaped; /* its exit is known; reported after its disconnect */
  int64_t exit_status;
  int term_signal;
  int closes;      /* handle closes still to come before it is freed */
  int reload_role; /* 1: a reload's replacement, 2: the worker it replaces */
  int routed_off;  /* a reload stopped sending it connections */
};

struct eddy__cluster_priv {
  eddy_cluster_t *pub;
  eddy_cluster_options_t opts;
  int is_worker;
  /* primary */
  eddy_queue_t workers;
  int next_id;
  int nlive;
  int stopping; /* eddy_cluster_disconnect: no more restarts */
  struct eddy__cluster_slot slots[EDDY_CLUSTER_MAX_WORKERS];
  eddy_queue_t listeners;
  uint32_t next_key;
  eddy_channel_t *msg_channel; /* the channel of the message being given */
  /* reload */
  int reloading;
  int reload_end_id;    /* workers with an id below it are to replace */
  int reload_new_ready; /* reload_new listens or said it is ready */
  struct eddy__cluster_worker_priv *reload_old, *reload_new;
  eddy_timer_t reload_timer;
  /* worker */
  eddy_channel_t ch;
  int query_fd;
  eddy_queue_t shares;
  eddy_queue_t free_ctl; /* spare control sends */
  /* Answers not sent yet: a run of consecutive hand-overs of one
   * listener, sent by answer_check after the poll phase that brought
   * them. */
  struct {
    uint32_t key, seq, count, taken;
  } answer;
  eddy_check_t answer_check;
  int self_id;
  int ctl_sending;     /* control sends that have not called back */
  int close_when_sent; /* disconnected: close once ctl_sending is 0 */
  int ch_closing, ch_closed, check_closed, free_when_closed;
};

/* primary.c */
void eddy__cluster_primary_init(struct eddy__cluster_priv *c);
int eddy__cluster_primary_fork(struct eddy__cluster_priv *c, int slot,
                               struct eddy__cluster_worker_priv **out);
void eddy__cluster_emit(struct eddy__cluster_priv *c, eddy_cluster_event_t *ev);
/* A worker's state moved on (balance.c reports LISTENING this way). */
void eddy__cluster_worker_listening(struct eddy__cluster_worker_priv *w,
                                    const struct sockaddr *addr);
void eddy__cluster_reload_step(struct eddy__cluster_priv *c);
/* reload.c: w is being released; a reload waiting on it goes on. */
void eddy__cluster_reload_forget(struct eddy__cluster_priv *c,
                                 struct eddy__cluster_worker_priv *w);
/* reload.c: w listens or is ready. */
void eddy__cluster_reload_ready(struct eddy__cluster_priv *c,
                                struct eddy__cluster_worker_priv *w);

/* balance.c */
void eddy__balance_bind(struct eddy__cluster_worker_priv *w, const void *data,
                        size_t len);
void eddy__balance_control(struct eddy__cluster_worker_priv *w, int op,
                           const void *data, size_t len);
/* The worker can take no more connections: give its hand-overs to others,
 * drop its registrations. Idempotent. */
void eddy__balance_worker_gone(struct eddy__cluster_worker_priv *w);
/* The connections w took and has not reported closed (LEASTCONN). */
unsigned eddy__balance_conns(const struct eddy__cluster_worker_priv *w);
/* Hand-overs to w whose answer has not come yet, over every listener. */
unsigned eddy__balance_inflight(const struct eddy__cluster_worker_priv *w);
/* Connections the primary holds over every listener (waiting for a
 * worker or handed over, not answered); *paused gets how many listeners
 * have stopped accepting because all their slots are in use. */
unsigned eddy__balance_held(const struct eddy__cluster_priv *c, int *paused);
/* Stop giving w new connections (a reload retires it). */
void eddy__balance_route_off(struct eddy__cluster_worker_priv *w);

/* worker.c */
/* 0, or an error; c is then freed by the caller unless free_when_closed
 * is set (it had handles open, and frees itself once they closed). */
int eddy__cluster_worker_init(struct eddy__cluster_priv *c);
/* c frees itself once its handles have closed. */
void eddy__cluster_worker_close(struct eddy__cluster_priv *c);
int eddy__cluster_worker_send_ctl(struct eddy__cluster_priv *c,
                                  const struct eddy__cl_msg *m);

#endif /* EDDY_CLUSTER_CLUSTER_INTERNAL_H */
