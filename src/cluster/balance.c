/* balance.c: the primary's listening sockets, one per (family, address,
 * port) asked for, shared by the workers that ask; and, for the modes
 * where the primary accepts (RR, STICKY, LEASTCONN), the hand-over of
 * each connection to a worker.
 *
 * A connection lives in one of a listener's EDDY_CLUSTER_PENDING_MAX
 * slots from accept until a worker took it: waiting in the listener's
 * FIFO, or on a worker's in-flight list (handed over, answer awaited).
 * The worker answers in order, so an answer is for the head of that
 * list; one answer may cover several hand-overs. A no, or the worker's
 * end, puts the connection back at the head of the FIFO. With no free
 * slot the listener's connection is left in the kernel and accepting
 * pauses (net/stream.c) until one frees.
 *
 * In round-robin mode a free worker is given what is pending at once, up
 * to an equal share per free worker (eddy__batch_size), and it is free
 * again only when it has answered for all of them. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "core/handle.h"

struct eddy__cluster_member {
  struct eddy__cluster_worker_priv *w;
  unsigned inflight; /* handed over, not answered */
  unsigned conns;    /* taken, not reported closed */
};

struct eddy__cluster_conn {
  eddy_queue_t node; /* free, pending, or the worker's in-flight */
  struct eddy__cluster_listener *l;
  struct eddy__cluster_worker_priv *to;
  eddy_tcp_t tcp;
  eddy_channel_send_t send;
  struct eddy__cl_msg msg;
  uint32_t seq;
  uint32_t hash;  /* of the client's address (STICKY) */
  unsigned tries; /* hand-overs refused */
  int sending;    /* the send has not called back */
  int answer;     /* -1 none yet, 0 refused, 1 taken */
  int open;       /* tcp is initialised and not closing */
  int closing;    /* tcp's close has begun, its callback is to come */
};

struct eddy__cluster_listener {
  eddy_queue_t node; /* the cluster's listeners */
  struct eddy__cluster_priv *c;
  uint32_t key;
  int family;
  unsigned char ip[16];
  int port; /* asked for (0 stays 0: the key) */
  int mode;
  eddy_tcp_t tcp;
  struct sockaddr_storage bound; /* the real address */
  int refs;                      /* worker binds not given back */
  struct eddy__cluster_member members[EDDY_CLUSTER_MAX_WORKERS];
  int nmembers;
  unsigned cursor;
  struct eddy__cluster_conn conns[EDDY_CLUSTER_PENDING_MAX];
  eddy_queue_t free;
  eddy_queue_t pending;
  int paused;  /* a connection waits in the kernel for a free slot */
  int closing; /* refs reached 0 */
  int closes;  /* handle closes still to come */
  uint32_t next_seq;
};

static int eddy__mode_accepts(int mode) {
  return mode == EDDY_CLUSTER_SCHED_RR || mode == EDDY_CLUSTER_SCHED_STICKY ||
         mode == EDDY_CLUSTER_SCHED_LEASTCONN;
}

static struct eddy__cluster_listener *
eddy__listener_by_key(struct eddy__cluster_priv *c, uint32_t key) {
  eddy_queue_t *q;

  for (q = c->listeners.next; q != &c->listeners; q = q->next) {
    struct eddy__cluster_listener *l =
        eddy__container_of(q, struct eddy__cluster_listener, node);
    if (l->key == key && !l->closing)
      return l;
  }
  return NULL;
}

static struct eddy__cluster_member *
eddy__member_of(struct eddy__cluster_listener *l,
                const struct eddy__cluster_worker_priv *w) {
  int i;

  for (i = 0; i < l->nmembers; i++)
    if (l->members[i].w == w)
      return &l->members[i];
  return NULL;
}

/* ---- choosing a worker --------------------------------------------------- */

static uint32_t eddy__mix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x7feb352dU;
  h ^= h >> 15;
  h *= 0x846ca68bU;
  h ^= h >> 16;
  return h;
}

/* The client's IP address (not its port), hashed. */
static uint32_t eddy__conn_hash(struct eddy__cluster_conn *conn) {
  struct sockaddr_storage a;
  const unsigned char *p;
  int len = sizeof(a), n, i;
  uint32_t h = 2166136261U;

  if (eddy_tcp_getpeername(&conn->tcp, (struct sockaddr *)&a, &len) != 0)
    return 0;
  if (a.ss_family == AF_INET) {
    p = (const unsigned char *)&((struct sockaddr_in *)&a)->sin_addr;
    n = 4;
  } else {
    p = (const unsigned char *)&((struct sockaddr_in6 *)&a)->sin6_addr;
    n = 16;
  }
  for (i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619U;
  return h;
}

/* Rendezvous hashing over the members' slots: the highest weight wins,
 * so a slot's addresses stay with it and a new worker in the slot of a
 * dead one inherits exactly its addresses. */
static int eddy__pick_sticky(struct eddy__cluster_listener *l, uint32_t hash) {
  uint32_t best = 0, wgt;
  int i, pick = -1;

  for (i = 0; i < l->nmembers; i++) {
    if (l->members[i].w->routed_off)
      continue;
    wgt = eddy__mix(hash ^ eddy__mix((uint32_t)l->members[i].w->pub.slot + 1));
    if (pick == -1 || wgt > best) {
      best = wgt;
      pick = i;
    }
  }
  return pick;
}

/* Free: no answer awaited from it, and not being retired by a reload. */
static int eddy__member_free(const struct eddy__cluster_member *m) {
  return m->inflight == 0 && !m->w->routed_off;
}

/* The next member with no answer awaited, from the cursor on; for
 * LEASTCONN the one of those with the fewest connections. */
static int eddy__pick_free(struct eddy__cluster_listener *l, int least) {
  int i, idx, pick = -1;

  for (i = 0; i < l->nmembers; i++) {
    idx = (int)((l->cursor + (unsigned)i) % (unsigned)l->nmembers);
    if (!eddy__member_free(&l->members[idx]))
      continue;
    if (pick == -1 || (least && l->members[idx].conns < l->members[pick].conns))
      pick = idx;
    if (!least)
      break;
  }
  if (pick != -1)
    l->cursor = (unsigned)pick + 1;
  return pick;
}

/* ---- the hand-over ---------------------------------------------------------
 */

static void eddy__listener_dispatch(struct eddy__cluster_listener *l);
static void eddy__listener_resume(struct eddy__cluster_listener *l);

static void eddy__conn_closed(eddy_handle_t *h) {
  struct eddy__cluster_conn *conn = h->data;
  struct eddy__cluster_listener *l = conn->l;

  assert(conn->closing);
  conn->closing = 0;
  eddy__queue_insert_tail(&l->free, &conn->node);
  if (l->closing) {
    if (--l->closes == 0)
      free(l);
    return;
  }
  eddy__listener_resume(l);
}

static void eddy__conn_close(struct eddy__cluster_conn *conn) {
  assert(conn->open && !conn->sending);
  conn->open = 0;
  conn->closing = 1;
  conn->to = NULL;
  eddy__queue_remove(&conn->node);
  conn->tcp.stream.handle.data = conn;
  eddy_close(&conn->tcp.stream.handle, eddy__conn_closed);
}

/* Back to the head of the FIFO: it was refused, or its worker is gone. */
static void eddy__conn_requeue(struct eddy__cluster_conn *conn) {
  struct eddy__cluster_listener *l = conn->l;

  eddy__queue_remove(&conn->node);
  conn->to = NULL;
  conn->answer = -1;
  if (l->closing || ++conn->tries > 2u * EDDY_CLUSTER_MAX_WORKERS) {
    eddy__conn_close(conn); /* nobody takes it: the client sees it end */
    return;
  }
  eddy__queue_insert_tail(l->pending.next, &conn->node);
}

/* The worker answered (or the send failed with answer 0). */
static void eddy__conn_resolve(struct eddy__cluster_conn *conn) {
  if (conn->answer == 1)
    eddy__conn_close(conn); /* the worker has it: our copy goes */
  else
    eddy__conn_requeue(conn);
}

static void eddy__conn_settle(struct eddy__cluster_conn *conn) {
  struct eddy__cluster_listener *l = conn->l;

  eddy__conn_resolve(conn);
  if (!l->closing)
    eddy__listener_dispatch(l);
}

static void eddy__conn_sent(eddy_channel_send_t *send, int status) {
  struct eddy__cluster_conn *conn = send->req.data;

  conn->sending = 0;
  if (status != 0 && conn->answer == -1 && conn->to != NULL) {
    struct eddy__cluster_member *m = eddy__member_of(conn->l, conn->to);
    if (m != NULL && m->inflight > 0)
      m->inflight--;
    conn->answer = 0;
  }
  if (conn->answer != -1 || conn->to == NULL)
    eddy__conn_settle(conn);
}

static void eddy__answer_overdue(eddy_timer_t *t) {
  struct eddy__cluster_worker_priv *w =
      eddy__container_of(t, struct eddy__cluster_worker_priv, answer_timer);

  /* its hand-overs go to the others once its channel ends */
  eddy_process_kill(&w->proc, SIGKILL);
}

/* The answer timer runs from the oldest unanswered hand-over. */
static void eddy__answer_timer_update(struct eddy__cluster_worker_priv *w) {
  uint64_t ms = w->cluster->priv->opts.handover_timeout_ms;

  if (eddy__queue_empty(&w->inflight) || ms == 0)
    eddy_timer_stop(&w->answer_timer);
  else
    eddy_timer_start(&w->answer_timer, eddy__answer_overdue, ms, 0);
}

static int eddy__conn_hand(struct eddy__cluster_listener *l,
                           struct eddy__cluster_conn *conn,
                           struct eddy__cluster_member *m) {
  int first, err;

  conn->seq = l->next_seq++;
  eddy__cl_msg_start(&conn->msg, EDDY__CL_NEWCONN);
  eddy__cl_msg_u32(&conn->msg, l->key);
  eddy__cl_msg_u32(&conn->msg, conn->seq);
  conn->send.req.data = conn;
  err = eddy_channel_send(&m->w->ch, &conn->send, conn->msg.buf, conn->msg.len,
                          &conn->tcp.stream, eddy__conn_sent);
  if (err != 0)
    return err;
  first = eddy__queue_empty(&m->w->inflight);
  eddy__queue_remove(&conn->node);
  eddy__queue_insert_tail(&m->w->inflight, &conn->node);
  if (first)
    eddy__answer_timer_update(m->w);
  conn->to = m->w;
  conn->sending = 1;
  conn->answer = -1;
  m->inflight++;
  return 0;
}

static void eddy__member_drop(struct eddy__cluster_listener *l,
                              struct eddy__cluster_member *m) {
  *m = l->members[--l->nmembers];
}

/* How many pending connections a free round-robin worker gets at once:
 * an equal share for each free worker, at most EDDY__CL_BATCH_MAX. A
 * batch costs the worker one wake-up and the primary one answer, and
 * only forms when connections queue, so that an idle cluster still hands
 * them out one by one. */
static unsigned eddy__batch_size(const struct eddy__cluster_listener *l) {
  const eddy_queue_t *q;
  unsigned npending = 0, nfree = 0;
  int i;

  for (i = 0; i < l->nmembers; i++)
    nfree += (unsigned)eddy__member_free(&l->members[i]);
  if (nfree == 0)
    return 1;
  for (q = l->pending.next;
       q != &l->pending && npending < nfree * EDDY__CL_BATCH_MAX; q = q->next)
    npending++;
  return (npending + nfree - 1) / nfree;
}

static void eddy__listener_dispatch(struct eddy__cluster_listener *l) {
  while (!eddy__queue_empty(&l->pending) && l->nmembers > 0) {
    struct eddy__cluster_conn *conn =
        eddy__container_of(l->pending.next, struct eddy__cluster_conn, node);
    unsigned batch = 1, i;
    int pick;

    if (l->mode == EDDY_CLUSTER_SCHED_STICKY) {
      pick = eddy__pick_sticky(l, conn->hash);
    } else {
      if (l->mode == EDDY_CLUSTER_SCHED_RR)
        batch = eddy__batch_size(l);
      pick = eddy__pick_free(l, l->mode == EDDY_CLUSTER_SCHED_LEASTCONN);
    }
    if (pick == -1)
      return;
    for (i = 0; i < batch && !eddy__queue_empty(&l->pending); i++) {
      conn =
          eddy__container_of(l->pending.next, struct eddy__cluster_conn, node);
      if (eddy__conn_hand(l, conn, &l->members[pick]) != 0) {
        eddy__member_drop(l, &l->members[pick]); /* its channel is gone */
        break;
      }
    }
  }
}

static void eddy__listener_take(struct eddy__cluster_listener *l) {
  struct eddy__cluster_conn *conn;

  if (eddy__queue_empty(&l->free)) {
    l->paused = 1; /* it waits in the listener; accepting stops */
    return;
  }
  conn = eddy__container_of(l->free.next, struct eddy__cluster_conn, node);
  eddy_tcp_init(l->c->pub->loop, &conn->tcp);
  if (eddy_accept(&l->tcp.stream, &conn->tcp.stream) != 0) {
    conn->open = 1;
    eddy__conn_close(conn);
    return;
  }
  conn->open = 1;
  conn->tries = 0;
  conn->answer = -1;
  conn->hash = l->mode == EDDY_CLUSTER_SCHED_STICKY ? eddy__conn_hash(conn) : 0;
  eddy__queue_remove(&conn->node);
  eddy__queue_insert_tail(&l->pending, &conn->node);
  eddy__listener_dispatch(l);
}

static void eddy__listener_resume(struct eddy__cluster_listener *l) {
  if (l->paused) {
    l->paused = 0;
    eddy__listener_take(l);
  }
}

static void eddy__listener_connection(eddy_stream_t *server, int status) {
  struct eddy__cluster_listener *l = server->handle.data;

  if (status == 0)
    eddy__listener_take(l);
}

/* ---- listeners --------------------------------------------------------- */

static void eddy__listener_closed(eddy_handle_t *h) {
  struct eddy__cluster_listener *l = h->data;

  if (--l->closes == 0)
    free(l);
}

/* No worker holds the socket any more: close it and what waits on it.
 * The listener is freed once its socket and every open connection slot
 * have closed (those in a send or awaiting an answer close when that
 * ends). */
static void eddy__listener_release(struct eddy__cluster_listener *l) {
  int i;

  l->closing = 1;
  l->closes = 1;
  eddy__queue_remove(&l->node);
  /* Every slot whose close callback is still to come frees nothing until
   * it came: those open now, and those whose close has already begun. */
  for (i = 0; i < EDDY_CLUSTER_PENDING_MAX; i++)
    if (l->conns[i].open || l->conns[i].closing)
      l->closes++;
  while (!eddy__queue_empty(&l->pending))
    eddy__conn_close(
        eddy__container_of(l->pending.next, struct eddy__cluster_conn, node));
  l->tcp.stream.handle.data = l;
  eddy_close(&l->tcp.stream.handle, eddy__listener_closed);
}

static void eddy__listener_unref(struct eddy__cluster_listener *l) {
  assert(l->refs > 0);
  if (--l->refs == 0)
    eddy__listener_release(l);
}

static int eddy__listener_open(struct eddy__cluster_listener *l,
                               unsigned flags) {
  struct sockaddr_storage a;
  int len = sizeof(a), err, fd;

  memset(&a, 0, sizeof(a));
  a.ss_family = (sa_family_t)l->family;
  if (l->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&a;
    memcpy(&in->sin_addr, l->ip, 4);
    in->sin_port = htons((uint16_t)l->port);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
    memcpy(&in6->sin6_addr, l->ip, 16);
    in6->sin6_port = htons((uint16_t)l->port);
  }
  eddy_tcp_init(l->c->pub->loop, &l->tcp);
  l->tcp.stream.handle.data = l;
  if (l->mode == EDDY_CLUSTER_SCHED_REUSEPORT)
    flags |= EDDY_TCP_REUSEPORT;
  if ((err = eddy_tcp_bind(&l->tcp, (struct sockaddr *)&a, flags)) != 0)
    return err;
  if (eddy__mode_accepts(l->mode))
    err = eddy_listen(&l->tcp.stream, 511, eddy__listener_connection);
  else if (l->mode == EDDY_CLUSTER_SCHED_NONE &&
           eddy_fileno(&l->tcp.stream.handle, &fd) == 0)
    err = listen(fd, 511) == 0 ? 0 : -errno;
  /* REUSEPORT: bound, never listening: it only holds the port for the
   * workers' own sockets (a listening one would take connections). */
  if (err == 0)
    err = eddy_tcp_getsockname(&l->tcp, (struct sockaddr *)&l->bound, &len);
  return err;
}

static struct eddy__cluster_listener *
eddy__listener_find(struct eddy__cluster_priv *c, int family,
                    const unsigned char ip[16], int port) {
  eddy_queue_t *q;

  for (q = c->listeners.next; q != &c->listeners; q = q->next) {
    struct eddy__cluster_listener *l =
        eddy__container_of(q, struct eddy__cluster_listener, node);
    if (l->family == family && l->port == port && memcmp(l->ip, ip, 16) == 0)
      return l;
  }
  return NULL;
}

static int eddy__listener_get(struct eddy__cluster_priv *c, int family,
                              unsigned flags, const unsigned char ip[16],
                              int port, struct eddy__cluster_listener **out) {
  struct eddy__cluster_listener *l = eddy__listener_find(c, family, ip, port);
  int i, err;

  if (l != NULL) {
    *out = l;
    return 0;
  }
  l = calloc(1, sizeof(*l));
  if (l == NULL)
    return EDDY_ENOMEM;
  l->c = c;
  l->key = c->next_key++;
  l->family = family;
  memcpy(l->ip, ip, 16);
  l->port = port;
  l->mode = c->opts.sched;
  eddy__queue_init(&l->free);
  eddy__queue_init(&l->pending);
  for (i = 0; i < EDDY_CLUSTER_PENDING_MAX; i++) {
    l->conns[i].l = l;
    eddy__queue_insert_tail(&l->free, &l->conns[i].node);
  }
  if ((err = eddy__listener_open(l, flags)) != 0) {
    l->closing = 1;
    l->closes = 1;
    eddy_close(&l->tcp.stream.handle, eddy__listener_closed);
    return err;
  }
  eddy__queue_insert_tail(&c->listeners, &l->node);
  *out = l;
  return 0;
}

static void eddy__bind_answered(eddy_channel_send_t *send, int status) {
  struct eddy__cluster_worker_priv *w =
      eddy__container_of(send, struct eddy__cluster_worker_priv, query_send);

  (void)status;
  w->query_busy = 0;
}

/* A worker's listen: find or make the socket, answer with it. */
void eddy__balance_bind(struct eddy__cluster_worker_priv *w, const void *data,
                        size_t len) {
  struct eddy__cluster_priv *c = w->cluster->priv;
  const unsigned char *f = eddy__cl_fields(data, len, 7);
  struct eddy__cluster_listener *l = NULL;
  unsigned char ip[16];
  int family, port, err, i;
  unsigned flags;

  if (f == NULL || w->query_busy)
    return; /* garbage, or a second ask before our answer: not answered */
  family = (int)eddy__cl_get_u32(f);
  flags = eddy__cl_get_u32(f + 4) &
          (unsigned)(EDDY_TCP_IPV6ONLY | EDDY_TCP_REUSEPORT);
  port = (int)eddy__cl_get_u32(f + 8);
  memcpy(ip, f + 12, 16);
  if ((family != AF_INET && family != AF_INET6) || port < 0 || port > 65535)
    err = EDDY_EINVAL;
  else if (w->nbound == (int)(sizeof(w->bound) / sizeof(w->bound[0])))
    err = EDDY_ENOBUFS;
  else
    err = eddy__listener_get(c, family, flags, ip, port, &l);
  if (family == AF_INET)
    memset(ip + 4, 0, 12);
  eddy__cl_msg_start(&w->query_reply, EDDY__CL_BOUND);
  eddy__cl_msg_u32(&w->query_reply, (uint32_t)err);
  eddy__cl_msg_u32(&w->query_reply, l != NULL ? l->key : 0);
  eddy__cl_msg_u32(&w->query_reply, l != NULL ? (uint32_t)l->mode : 0);
  port = 0;
  if (l != NULL)
    port = ntohs(l->bound.ss_family == AF_INET
                     ? ((struct sockaddr_in *)&l->bound)->sin_port
                     : ((struct sockaddr_in6 *)&l->bound)->sin6_port);
  eddy__cl_msg_u32(&w->query_reply, (uint32_t)port);
  if (l != NULL) {
    l->refs++;
    w->bound[w->nbound++] = l->key;
  }
  w->query_busy = 1;
  i = eddy_channel_send(
      &w->query, &w->query_send, w->query_reply.buf, w->query_reply.len,
      l != NULL && l->mode != EDDY_CLUSTER_SCHED_REUSEPORT ? &l->tcp.stream
                                                           : NULL,
      eddy__bind_answered);
  if (i != 0)
    w->query_busy = 0; /* a lost query socket: the worker's listen fails */
}

/* The worker gives one bind back. */
static void eddy__worker_unbind(struct eddy__cluster_worker_priv *w,
                                uint32_t key) {
  struct eddy__cluster_listener *l;
  struct eddy__cluster_member *m;
  int i;

  for (i = 0; i < w->nbound; i++)
    if (w->bound[i] == key)
      break;
  if (i == w->nbound)
    return;
  w->bound[i] = w->bound[--w->nbound];
  l = eddy__listener_by_key(w->cluster->priv, key);
  if (l == NULL)
    return;
  if ((m = eddy__member_of(l, w)) != NULL)
    eddy__member_drop(l, m);
  eddy__listener_unref(l);
}

/* Hand-overs of w still unanswered go back to their FIFOs, in order. */
static void eddy__worker_requeue_inflight(struct eddy__cluster_worker_priv *w) {
  while (!eddy__queue_empty(&w->inflight)) {
    struct eddy__cluster_conn *conn =
        eddy__container_of(w->inflight.prev, struct eddy__cluster_conn, node);
    struct eddy__cluster_member *m = eddy__member_of(conn->l, w);
    if (m != NULL && m->inflight > 0)
      m->inflight--;
    if (conn->sending) {
      /* on no list until its send calls back, which requeues it */
      eddy__queue_remove(&conn->node);
      conn->to = NULL;
      conn->answer = -1;
      continue;
    }
    eddy__conn_requeue(conn);
  }
}

void eddy__balance_worker_gone(struct eddy__cluster_worker_priv *w) {
  struct eddy__cluster_priv *c = w->cluster->priv;
  eddy_queue_t *q, *next;

  if (w->gone_from_listeners)
    return;
  w->gone_from_listeners = 1;
  eddy__worker_requeue_inflight(w);
  while (w->nbound > 0)
    eddy__worker_unbind(w, w->bound[w->nbound - 1]);
  for (q = c->listeners.next; q != &c->listeners; q = next) {
    next = q->next;
    eddy__listener_dispatch(
        eddy__container_of(q, struct eddy__cluster_listener, node));
  }
}

void eddy__balance_route_off(struct eddy__cluster_worker_priv *w) {
  w->routed_off = 1;
}

/* An answer covers the oldest hand-overs awaiting one, in order; one
 * that does not match them is nonsense, and only its worker pays. An
 * answer when none is awaited is ignored. */
static void eddy__worker_answer(struct eddy__cluster_worker_priv *w,
                                const unsigned char *f) {
  uint32_t key = eddy__cl_get_u32(f), seq = eddy__cl_get_u32(f + 4);
  uint32_t count = eddy__cl_get_u32(f + 8), taken = eddy__cl_get_u32(f + 12);
  struct eddy__cluster_conn *run[EDDY__CL_ANSWER_MAX], *conn;
  struct eddy__cluster_listener *l;
  struct eddy__cluster_member *m;
  eddy_queue_t *q = w->inflight.next;
  uint32_t i;

  if (eddy__queue_empty(&w->inflight))
    return;
  if (count == 0 || count > EDDY__CL_ANSWER_MAX)
    goto nonsense;
  for (i = 0; i < count; i++, q = q->next) {
    if (q == &w->inflight)
      goto nonsense;
    conn = eddy__container_of(q, struct eddy__cluster_conn, node);
    if (conn->l->key != key || conn->seq != seq + i)
      goto nonsense;
    run[i] = conn;
  }
  l = run[0]->l;
  m = eddy__member_of(l, w);
  /* From the last: a refused one goes back to the head of the FIFO, so
   * the refused keep their order there. */
  for (i = count; i-- > 0;) {
    conn = run[i];
    conn->answer = (taken >> i) & 1;
    if (m != NULL && m->inflight > 0) {
      m->inflight--;
      m->conns += (unsigned)conn->answer;
    }
    if (conn->sending) {
      eddy__queue_remove(&conn->node); /* settles in its send callback */
      conn->to = NULL;
    } else {
      eddy__conn_resolve(conn);
    }
  }
  eddy__answer_timer_update(w);
  if (!l->closing)
    eddy__listener_dispatch(l);
  return;
nonsense:
  eddy_process_kill(&w->proc, SIGKILL);
}

/* Sum over every listener of a member figure of w: its connections
 * (inflight 0) or its hand-overs awaiting an answer (inflight 1). */
static unsigned eddy__member_sum(const struct eddy__cluster_worker_priv *w,
                                 int inflight) {
  const struct eddy__cluster_priv *c = w->cluster->priv;
  const eddy_queue_t *q;
  unsigned n = 0;
  int i;

  for (q = c->listeners.next; q != &c->listeners; q = q->next) {
    const struct eddy__cluster_listener *l =
        eddy__container_of(q, struct eddy__cluster_listener, node);
    for (i = 0; i < l->nmembers; i++)
      if (l->members[i].w == w)
        n += inflight ? l->members[i].inflight : l->members[i].conns;
  }
  return n;
}

unsigned eddy__balance_conns(const struct eddy__cluster_worker_priv *w) {
  return eddy__member_sum(w, 0);
}

unsigned eddy__balance_inflight(const struct eddy__cluster_worker_priv *w) {
  return eddy__member_sum(w, 1);
}

unsigned eddy__balance_held(const struct eddy__cluster_priv *c, int *paused) {
  const eddy_queue_t *q;
  unsigned n = 0;
  int i;

  *paused = 0;
  for (q = c->listeners.next; q != &c->listeners; q = q->next) {
    const struct eddy__cluster_listener *l =
        eddy__container_of(q, struct eddy__cluster_listener, node);
    for (i = 0; i < EDDY_CLUSTER_PENDING_MAX; i++)
      n += l->conns[i].open;
    *paused += l->paused;
  }
  return n;
}

/* One of w's connections closed (it does not say of which listener). */
static void eddy__worker_closed_one(struct eddy__cluster_worker_priv *w) {
  struct eddy__cluster_priv *c = w->cluster->priv;
  struct eddy__cluster_member *m;
  eddy_queue_t *q;

  for (q = c->listeners.next; q != &c->listeners; q = q->next) {
    struct eddy__cluster_listener *l =
        eddy__container_of(q, struct eddy__cluster_listener, node);
    if ((m = eddy__member_of(l, w)) != NULL && m->conns > 0) {
      m->conns--;
      return;
    }
  }
}

void eddy__balance_control(struct eddy__cluster_worker_priv *w, int op,
                           const void *data, size_t len) {
  struct eddy__cluster_listener *l;
  const unsigned char *f;
  uint32_t key;

  if (op == EDDY__CL_ANSWER && (f = eddy__cl_fields(data, len, 4)) != NULL) {
    eddy__worker_answer(w, f);
    return;
  }
  if ((f = eddy__cl_fields(data, len, 1)) == NULL)
    return;
  key = eddy__cl_get_u32(f);
  l = eddy__listener_by_key(w->cluster->priv, key);
  if (op == EDDY__CL_UNLISTEN) {
    eddy__worker_unbind(w, key);
  } else if (op == EDDY__CL_CLOSED) {
    eddy__worker_closed_one(w);
  } else if (op == EDDY__CL_LISTENING && l != NULL && !w->disconnected &&
             eddy__member_of(l, w) == NULL) {
    if (eddy__mode_accepts(l->mode)) {
      l->members[l->nmembers].w = w;
      l->members[l->nmembers].inflight = 0;
      l->members[l->nmembers].conns = 0;
      l->nmembers++;
    }
    eddy__cluster_worker_listening(w, (struct sockaddr *)&l->bound);
    eddy__listener_dispatch(l);
  }
}
