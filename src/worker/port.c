/* port.c: message ports.
 *
 * A pair is one heap object, the channel: a lock and two ends. Each end
 * holds the queue of messages posted to it by the other end and, while a
 * port handle holds it, that port's mailbox (mailbox.c), which a poster
 * signals after queueing. An end belongs to exactly one owner at a time:
 * a port handle, or a message in flight when the port was posted away;
 * the channel is freed when both ends are released. Every access to an
 * end's queue or binding is under the channel's lock, which is never held
 * across a callback or while another channel's lock is taken: what must be
 * freed (queues holding further ends) is taken out and freed after the
 * unlock, so chains of ports inside messages release without deadlock. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "eddy/thread.h"
#include "worker/port_internal.h"

struct eddy__port_msg {
  struct eddy__port_msg *next;
  unsigned nbufs;
  unsigned nports;
  int transferred;  /* bufs own malloc'd memory */
  eddy_buf_t *bufs; /* in the same allocation */
  struct eddy__port_end **ends;
};

struct eddy__port_chan;

struct eddy__port_end {
  struct eddy__port_chan *chan;
  struct eddy__port_msg *head; /* posted to this end, oldest first */
  struct eddy__port_msg *tail;
  size_t count;
  size_t limit;
  struct eddy__mailbox *box; /* the holder's, while a port holds the end */
  int sender_waits;          /* the pair got EDDY_EAGAIN from this queue */
  int drain_due;             /* this end's drain callback should run */
};

struct eddy__port_chan {
  eddy_mutex_t lock;
  int closed;
  unsigned refs; /* ends not yet released */
  struct eddy__port_end end[2];
};

static struct eddy__port_end *eddy__port_peer(struct eddy__port_end *end) {
  struct eddy__port_chan *chan = end->chan;

  return end == &chan->end[0] ? &chan->end[1] : &chan->end[0];
}

/* --- messages ------------------------------------------------------------ */

static void eddy__port_msg_free(struct eddy__port_msg *msg) {
  unsigned i;

  if (msg->transferred)
    for (i = 0; i < msg->nbufs; i++)
      free(msg->bufs[i].base);
  for (i = 0; i < msg->nports; i++)
    if (msg->ends[i] != NULL)
      eddy__port_end_release(msg->ends[i]);
  free(msg);
}

static void eddy__port_msg_list_free(struct eddy__port_msg *msg) {
  while (msg != NULL) {
    struct eddy__port_msg *next = msg->next;

    eddy__port_msg_free(msg);
    msg = next;
  }
}

/* One allocation: the header, the buffer table, the end table, then (when
 * copying) the bytes. */
static struct eddy__port_msg *eddy__port_msg_new(const eddy_buf_t *bufs,
                                                 unsigned nbufs,
                                                 unsigned nports,
                                                 int transfer) {
  size_t bytes = 0;
  size_t head = sizeof(struct eddy__port_msg) + nbufs * sizeof(eddy_buf_t) +
                nports * sizeof(struct eddy__port_end *);
  struct eddy__port_msg *msg;
  char *at;
  unsigned i;

  if (!transfer)
    for (i = 0; i < nbufs; i++) {
      if (bufs[i].len > SIZE_MAX - head - bytes)
        return NULL;
      bytes += bufs[i].len;
    }
  msg = malloc(head + bytes);
  if (msg == NULL)
    return NULL;
  msg->next = NULL;
  msg->nbufs = nbufs;
  msg->nports = nports;
  msg->transferred = transfer;
  msg->bufs = (eddy_buf_t *)(msg + 1);
  msg->ends = (struct eddy__port_end **)(msg->bufs + nbufs);
  at = (char *)(msg->ends + nports);
  for (i = 0; i < nbufs; i++) {
    msg->bufs[i].len = bufs[i].len;
    if (transfer) {
      msg->bufs[i].base = bufs[i].base;
    } else {
      msg->bufs[i].base = at;
      memcpy(at, bufs[i].base, bufs[i].len);
      at += bufs[i].len;
    }
  }
  return msg;
}

/* --- ends ---------------------------------------------------------------- */

int eddy__port_ends_new(struct eddy__port_end **a, struct eddy__port_end **b) {
  struct eddy__port_chan *chan = calloc(1, sizeof(*chan));
  int i;

  if (chan == NULL)
    return EDDY_ENOMEM;
  if (eddy_mutex_init(&chan->lock) != 0) {
    free(chan);
    return EDDY_ENOMEM;
  }
  chan->refs = 2;
  for (i = 0; i < 2; i++) {
    chan->end[i].chan = chan;
    chan->end[i].limit = EDDY_PORT_QUEUE_DEFAULT;
  }
  *a = &chan->end[0];
  *b = &chan->end[1];
  return 0;
}

/* Take an end's queue (under the lock). */
static struct eddy__port_msg *eddy__port_end_take(struct eddy__port_end *end) {
  struct eddy__port_msg *list = end->head;

  end->head = end->tail = NULL;
  end->count = 0;
  return list;
}

void eddy__port_end_release(struct eddy__port_end *end) {
  struct eddy__port_chan *chan = end->chan;
  struct eddy__port_end *peer = eddy__port_peer(end);
  struct eddy__port_msg *mine, *theirs = NULL;
  int last;

  eddy_mutex_lock(&chan->lock);
  chan->closed = 1;
  end->box = NULL;
  mine = eddy__port_end_take(end);
  /* A peer in flight inside a message will never see its queue delivered
   * (only the close): drop it now, so no cycle of ports in messages keeps
   * itself alive. A bound peer delivers what it has, then the close. */
  if (peer->box != NULL)
    eddy__mailbox_signal(peer->box);
  else
    theirs = eddy__port_end_take(peer);
  last = --chan->refs == 0;
  eddy_mutex_unlock(&chan->lock);
  if (last) {
    eddy_mutex_destroy(&chan->lock);
    free(chan);
  }
  eddy__port_msg_list_free(mine);
  eddy__port_msg_list_free(theirs);
}

/* Bind end to box (or unbind with NULL); a bound end with something to
 * deliver signals at once. */
static void eddy__port_end_bind(struct eddy__port_end *end,
                                struct eddy__mailbox *box) {
  eddy_mutex_lock(&end->chan->lock);
  end->box = box;
  if (box != NULL && (end->head != NULL || end->chan->closed))
    eddy__mailbox_signal(box);
  eddy_mutex_unlock(&end->chan->lock);
}

/* Queue msg to the peer of from. 0, EDDY_EPIPE or EDDY_EAGAIN. */
static int eddy__port_end_post(struct eddy__port_end *from,
                               struct eddy__port_msg *msg) {
  struct eddy__port_chan *chan = from->chan;
  struct eddy__port_end *to = eddy__port_peer(from);
  int err = 0;

  eddy_mutex_lock(&chan->lock);
  if (chan->closed) {
    err = EDDY_EPIPE;
  } else if (to->count >= to->limit) {
    to->sender_waits = 1;
    err = EDDY_EAGAIN;
  } else {
    if (to->tail != NULL)
      to->tail->next = msg;
    else
      to->head = msg;
    to->tail = msg;
    to->count++;
    if (to->box != NULL)
      eddy__mailbox_signal(to->box);
  }
  eddy_mutex_unlock(&chan->lock);
  return err;
}

/* --- port handles -------------------------------------------------------- */

static void eddy__port_box_deliver(struct eddy__mailbox *box) {
  eddy__port_deliver(eddy__container_of(box, eddy_port_t, priv.box));
}

static int eddy__port_bind(eddy_loop_t *loop, eddy_port_t *port,
                           struct eddy__port_end *end,
                           void (*deliver)(struct eddy__mailbox *box)) {
  int err = eddy__mailbox_open(loop, &port->priv.box, deliver);

  if (err != 0)
    return err;
  port->priv.end = end;
  port->priv.message_cb = NULL;
  port->priv.close_cb = NULL;
  port->priv.drain_cb = NULL;
  port->priv.flags = 0;
  return 0;
}

int eddy__port_open(eddy_loop_t *loop, eddy_port_t *port,
                    struct eddy__port_end *end) {
  int err = eddy__port_bind(loop, port, end, eddy__port_box_deliver);

  if (err != 0)
    return err;
  eddy__handle_init(loop, &port->handle, EDDY_PORT);
  eddy__port_end_bind(end, &port->priv.box);
  return 0;
}

int eddy_port_pair(eddy_loop_t *loop, eddy_port_t *a, eddy_port_t *b) {
  struct eddy__port_end *ea, *eb;
  int err;

  if (loop == NULL || a == NULL || b == NULL || a == b)
    return EDDY_EINVAL;
  if ((err = eddy__port_ends_new(&ea, &eb)) != 0)
    return err;
  if ((err = eddy__port_open(loop, a, ea)) != 0) {
    eddy__port_end_release(ea);
    eddy__port_end_release(eb);
    return err;
  }
  if ((err = eddy__port_open(loop, b, eb)) != 0) {
    eddy__port_end_release(eb);
    eddy_close(&a->handle, NULL);
    return err;
  }
  return 0;
}

int eddy__port_open_internal(eddy_loop_t *loop, eddy_port_t *port,
                             struct eddy__port_end *end,
                             void (*deliver)(struct eddy__mailbox *box),
                             eddy_port_message_cb cb) {
  int err = eddy__port_bind(loop, port, end, deliver);

  if (err != 0)
    return err;
  eddy__handle_setup(loop, &port->handle, EDDY_PORT);
  port->handle.priv.flags |= EDDY__HANDLE_INTERNAL;
  port->priv.message_cb = cb;
  port->priv.flags = EDDY__PORT_RECEIVING;
  eddy__port_end_bind(end, &port->priv.box);
  return 0;
}

static int eddy__port_usable(const eddy_port_t *port) {
  return port != NULL && port->priv.end != NULL &&
         !eddy__handle_closing(&port->handle);
}

int eddy_port_start(eddy_port_t *port, eddy_port_message_cb cb) {
  if (!eddy__port_usable(port) || cb == NULL)
    return EDDY_EINVAL;
  port->priv.message_cb = cb;
  port->priv.flags |= EDDY__PORT_RECEIVING;
  if (!(port->priv.flags & EDDY__PORT_CLOSED))
    eddy__handle_start(&port->handle);
  /* What was queued meanwhile is delivered in the next poll phase. */
  eddy__mailbox_signal(&port->priv.box);
  return 0;
}

int eddy_port_stop(eddy_port_t *port) {
  if (port == NULL)
    return EDDY_EINVAL;
  port->priv.flags &= ~EDDY__PORT_RECEIVING;
  eddy__handle_stop(&port->handle);
  return 0;
}

int eddy_port_set_close_cb(eddy_port_t *port, eddy_port_event_cb cb) {
  if (port == NULL)
    return EDDY_EINVAL;
  port->priv.close_cb = cb;
  return 0;
}

int eddy_port_set_drain_cb(eddy_port_t *port, eddy_port_event_cb cb) {
  if (port == NULL)
    return EDDY_EINVAL;
  port->priv.drain_cb = cb;
  return 0;
}

void eddy__port_end_set_limit(struct eddy__port_end *end, size_t limit) {
  assert(limit > 0);
  eddy_mutex_lock(&end->chan->lock);
  end->limit = limit;
  eddy_mutex_unlock(&end->chan->lock);
}

int eddy_port_set_queue_limit(eddy_port_t *port, size_t limit) {
  if (port == NULL || port->priv.end == NULL || limit == 0)
    return EDDY_EINVAL;
  eddy__port_end_set_limit(port->priv.end, limit);
  return 0;
}

/* The checks that make a post all-or-nothing. */
static int eddy__port_post_check(eddy_port_t *port, const eddy_buf_t *bufs,
                                 unsigned nbufs, eddy_port_t **ports,
                                 unsigned nports, unsigned flags) {
  struct eddy__port_end *peer;
  unsigned i, j;

  if (!eddy__port_usable(port) || (nbufs > 0 && bufs == NULL) ||
      (nports > 0 && ports == NULL) || (flags & ~EDDY_PORT_TRANSFER) != 0)
    return EDDY_EINVAL;
  for (i = 0; i < nbufs; i++) {
    if (bufs[i].base == NULL)
      return EDDY_EINVAL; /* a detached buffer */
    if (flags & EDDY_PORT_TRANSFER)
      for (j = 0; j < i; j++)
        if (bufs[j].base == bufs[i].base)
          return EDDY_EINVAL;
  }
  peer = eddy__port_peer(port->priv.end);
  for (i = 0; i < nports; i++) {
    if (ports[i] == port || !eddy__port_usable(ports[i]) ||
        ports[i]->priv.end == peer)
      return EDDY_EINVAL;
    for (j = 0; j < i; j++)
      if (ports[j] == ports[i])
        return EDDY_EINVAL;
  }
  return 0;
}

int eddy_port_post(eddy_port_t *port, eddy_buf_t *buf, unsigned flags) {
  return eddy_port_postv(port, buf, 1, NULL, 0, flags);
}

int eddy_port_postv(eddy_port_t *port, eddy_buf_t *bufs, unsigned nbufs,
                    eddy_port_t **ports, unsigned nports, unsigned flags) {
  int transfer = (flags & EDDY_PORT_TRANSFER) != 0;
  struct eddy__port_msg *msg;
  unsigned i;
  int err = eddy__port_post_check(port, bufs, nbufs, ports, nports, flags);

  if (err != 0)
    return err;
  msg = eddy__port_msg_new(bufs, nbufs, nports, transfer);
  if (msg == NULL)
    return EDDY_ENOMEM;
  /* Unbind the posted ports first: once queued, their ends may be
   * accepted on another thread at any moment. */
  for (i = 0; i < nports; i++) {
    msg->ends[i] = ports[i]->priv.end;
    eddy__port_end_bind(msg->ends[i], NULL);
  }
  err = eddy__port_end_post(port->priv.end, msg);
  if (err != 0) {
    for (i = 0; i < nports; i++)
      eddy__port_end_bind(msg->ends[i], &ports[i]->priv.box);
    free(msg); /* nothing in it is its own yet */
    return err;
  }
  for (i = 0; i < nports; i++) {
    eddy__mailbox_close(&ports[i]->priv.box);
    ports[i]->priv.end = NULL;
    eddy__handle_stop(&ports[i]->handle);
  }
  if (transfer)
    for (i = 0; i < nbufs; i++)
      bufs[i] = eddy_buf_init(NULL, 0);
  return 0;
}

void *eddy_port_message_take(eddy_port_message_t *message, unsigned index) {
  struct eddy__port_msg *msg;
  void *mem;

  if (message == NULL || index >= message->nbufs ||
      message->bufs[index].base == NULL)
    return NULL;
  msg = message->priv.msg;
  if (msg->transferred) {
    mem = msg->bufs[index].base;
  } else {
    size_t len = msg->bufs[index].len;

    mem = malloc(len > 0 ? len : 1);
    if (mem == NULL)
      return NULL;
    memcpy(mem, msg->bufs[index].base, len);
  }
  msg->bufs[index] = eddy_buf_init(NULL, 0);
  return mem;
}

int eddy_port_accept(eddy_port_message_t *message, unsigned index,
                     eddy_loop_t *loop, eddy_port_t *port) {
  struct eddy__port_msg *msg;
  int err;

  if (message == NULL || loop == NULL || port == NULL ||
      index >= message->nports || message->priv.msg->ends[index] == NULL)
    return EDDY_EINVAL;
  msg = message->priv.msg;
  if ((err = eddy__port_open(loop, port, msg->ends[index])) != 0)
    return err;
  msg->ends[index] = NULL;
  return 0;
}

/* --- delivery ------------------------------------------------------------ */

/* Run one message through the callback and free it. */
static void eddy__port_deliver_one(eddy_port_t *port,
                                   struct eddy__port_msg *msg) {
  eddy_port_message_t m;

  m.bufs = msg->bufs;
  m.nbufs = msg->nbufs;
  m.nports = msg->nports;
  m.priv.msg = msg;
  port->priv.message_cb(port, &m);
  eddy__after_callback(port->handle.loop);
  eddy__port_msg_free(msg);
}

/* Put back what a callback's eddy_port_stop left undelivered, ahead of
 * what arrived since. */
static void eddy__port_requeue(struct eddy__port_end *end,
                               struct eddy__port_msg *list) {
  struct eddy__port_msg *last = list;
  size_t n = 1;

  while (last->next != NULL) {
    last = last->next;
    n++;
  }
  eddy_mutex_lock(&end->chan->lock);
  last->next = end->head;
  if (end->tail == NULL)
    end->tail = last;
  end->head = list;
  end->count += n;
  eddy_mutex_unlock(&end->chan->lock);
}

static void eddy__port_fire_close(eddy_port_t *port) {
  port->priv.flags |= EDDY__PORT_CLOSED;
  eddy__handle_stop(&port->handle);
  if (port->priv.close_cb != NULL) {
    port->priv.close_cb(port);
    eddy__after_callback(port->handle.loop);
  }
}

void eddy__port_deliver(eddy_port_t *port) {
  struct eddy__port_end *end = port->priv.end;
  struct eddy__port_end *peer;
  struct eddy__port_msg *list = NULL;
  int closed, drain;

  if (end == NULL || eddy__handle_closing(&port->handle))
    return;
  peer = eddy__port_peer(end);
  eddy_mutex_lock(&end->chan->lock);
  if (port->priv.flags & EDDY__PORT_RECEIVING) {
    list = eddy__port_end_take(end);
    if (end->sender_waits) {
      /* The pair may post again: tell it on its own thread. */
      end->sender_waits = 0;
      peer->drain_due = 1;
      if (peer->box != NULL)
        eddy__mailbox_signal(peer->box);
    }
  }
  drain = end->drain_due;
  end->drain_due = 0;
  closed = end->chan->closed && end->head == NULL;
  eddy_mutex_unlock(&end->chan->lock);

  if (drain && port->priv.drain_cb != NULL) {
    port->priv.drain_cb(port);
    eddy__after_callback(port->handle.loop);
  }
  while (list != NULL) {
    struct eddy__port_msg *msg = list;

    if (port->priv.end == NULL || eddy__handle_closing(&port->handle)) {
      eddy__port_msg_list_free(list); /* closed by a callback */
      return;
    }
    if (!(port->priv.flags & EDDY__PORT_RECEIVING)) {
      eddy__port_requeue(end, list);
      return;
    }
    list = msg->next;
    msg->next = NULL;
    eddy__port_deliver_one(port, msg);
  }
  if (closed && port->priv.end != NULL &&
      !eddy__handle_closing(&port->handle) &&
      !(port->priv.flags & EDDY__PORT_CLOSED))
    eddy__port_fire_close(port);
}

/* --- closing ------------------------------------------------------------- */

void eddy__port_close_internal(eddy_port_t *port) {
  eddy__mailbox_close(&port->priv.box);
  if (port->priv.end != NULL) {
    eddy__port_end_release(port->priv.end);
    port->priv.end = NULL;
  }
}

static void eddy__port_close(eddy_handle_t *h) {
  eddy_port_t *port = (eddy_port_t *)h;

  if (port->priv.end != NULL && !(port->priv.flags & EDDY__PORT_CLOSED))
    port->priv.flags |= EDDY__PORT_CLOSE_DUE;
  eddy__port_close_internal(port);
}

/* The closing end's close event, just before its close callback. */
static void eddy__port_finish_close(eddy_handle_t *h) {
  eddy_port_t *port = (eddy_port_t *)h;

  if (!(port->priv.flags & EDDY__PORT_CLOSE_DUE))
    return;
  port->priv.flags =
      (port->priv.flags & ~EDDY__PORT_CLOSE_DUE) | EDDY__PORT_CLOSED;
  if (port->priv.close_cb != NULL) {
    port->priv.close_cb(port);
    eddy__after_callback(h->loop);
  }
}

const struct eddy__handle_ops eddy__port_ops = {
    .close = eddy__port_close, .finish_close = eddy__port_finish_close};
