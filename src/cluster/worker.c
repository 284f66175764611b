/* worker.c: a cluster worker's side. Its channel to the primary (control
 * messages taken out, the program's passed on), its TCP servers that
 * listen through the primary (the hooks of net/tcp_share.h), and its
 * answers to the connections the primary hands over. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "core/handle.h"
#include "eddy/addr.h"
#include "net/stream_internal.h"
#include "net/tcp_share.h"
#include "process/channel_internal.h"

/* How long a listen waits for the primary's answer. */
#define EDDY__CL_QUERY_TIMEOUT_S 30

/* A worker's TCP server whose bind waits for its listen. */
struct eddy__tcp_share {
  eddy_queue_t node; /* the worker's shares */
  eddy_tcp_t *tcp;
  struct sockaddr_storage addr;
  unsigned flags;
  uint32_t key;
  int mode; /* the primary's scheduling for it */
  int listening;
};

/* A control message on its way; kept on a free list for reuse. */
struct eddy__cl_ctl {
  eddy_queue_t node;
  eddy_channel_send_t send;
  struct eddy__cl_msg msg;
};

static struct eddy__cluster_priv *eddy__worker; /* this process's cluster */

static void eddy__worker_channel_close(struct eddy__cluster_priv *c);

static void eddy__cl_ctl_sent(eddy_channel_send_t *send, int status) {
  struct eddy__cl_ctl *ctl = send->req.data;
  struct eddy__cluster_priv *c = eddy__worker;

  (void)status; /* a lost channel is reported by its disconnect */
  if (c == NULL) {
    free(ctl); /* the cluster was closed meanwhile */
    return;
  }
  eddy__queue_insert_tail(&c->free_ctl, &ctl->node);
  assert(c->ctl_sending > 0);
  if (--c->ctl_sending == 0 && c->close_when_sent)
    eddy__worker_channel_close(c);
}

int eddy__cluster_worker_send_ctl(struct eddy__cluster_priv *c,
                                  const struct eddy__cl_msg *m) {
  struct eddy__cl_ctl *ctl;
  int err;

  if (!eddy__queue_empty(&c->free_ctl)) {
    ctl = eddy__container_of(c->free_ctl.next, struct eddy__cl_ctl, node);
    eddy__queue_remove(&ctl->node);
  } else if ((ctl = malloc(sizeof(*ctl))) == NULL) {
    return EDDY_ENOMEM;
  }
  ctl->msg = *m;
  ctl->send.req.data = ctl;
  err = eddy_channel_send(&c->ch, &ctl->send, ctl->msg.buf, ctl->msg.len, NULL,
                          eddy__cl_ctl_sent);
  if (err != 0)
    eddy__queue_insert_tail(&c->free_ctl, &ctl->node);
  else
    c->ctl_sending++;
  return err;
}

/* ---- the listen query (blocking, on the query socket) ------------------ */

static int eddy__cl_write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r < 0 ? -errno : EDDY_EPIPE;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Read n bytes; a descriptor that comes with them goes to *fd. */
static int eddy__cl_read_all(int qfd, unsigned char *p, size_t n, int *fd) {
  while (n > 0) {
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
    } cbuf;
    struct iovec iov = {p, n};
    struct msghdr mh;
    struct cmsghdr *cm;
    ssize_t r;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.buf;
    mh.msg_controllen = sizeof(cbuf.buf);
    r = recvmsg(qfd, &mh, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return errno == EAGAIN ? EDDY_ETIMEDOUT : -errno;
    if (r == 0)
      return EDDY_EPIPE;
    for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
        int got;
        memcpy(&got, CMSG_DATA(cm), sizeof(got));
        if (*fd == -1)
          *fd = got;
        else
          close(got);
      }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Ask the primary for the socket of share's address. Returns the
 * primary's status; on success *key, *mode, *port and (unless REUSEPORT)
 * *fd. */
static int eddy__cl_query_bind(struct eddy__cluster_priv *c,
                               const struct eddy__tcp_share *sh, uint32_t *key,
                               int *mode, int *port, int *fd) {
  unsigned char frame[EDDY_CHANNEL_HEADER_SIZE + EDDY__CL_MSG_MAX];
  unsigned char head[EDDY_CHANNEL_HEADER_SIZE];
  unsigned char body[EDDY__CL_MSG_MAX];
  struct eddy__cl_msg m;
  unsigned char ip[16] = {0};
  int family = sh->addr.ss_family;
  uint32_t len;
  int err;
  int i;

  if (family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)&sh->addr;
    memcpy(ip, &a->sin_addr, 4);
    *port = ntohs(a->sin_port);
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sh->addr;
    memcpy(ip, &a->sin6_addr, 16);
    *port = ntohs(a->sin6_port);
  }
  eddy__cl_msg_start(&m, EDDY__CL_BIND);
  eddy__cl_msg_u32(&m, (uint32_t)family);
  eddy__cl_msg_u32(&m, sh->flags);
  eddy__cl_msg_u32(&m, (uint32_t)*port);
  for (i = 0; i < 4; i++)
    eddy__cl_msg_u32(&m, eddy__cl_get_u32(ip + 4 * i));
  for (i = 0; i < 4; i++)
    frame[i] = (unsigned char)(m.len >> (24 - 8 * i));
  memset(frame + 4, 0, 4);
  memcpy(frame + EDDY_CHANNEL_HEADER_SIZE, m.buf, m.len);
  *fd = -1;
  if ((err = eddy__cl_write_all(c->query_fd, frame,
                                EDDY_CHANNEL_HEADER_SIZE + m.len)) != 0 ||
      (err = eddy__cl_read_all(c->query_fd, head, sizeof(head), fd)) != 0)
    goto fail;
  len = eddy__cl_get_u32(head);
  if (len > sizeof(body) || len < EDDY__CL_PREFIX_LEN + 1 + 16 ||
      (err = eddy__cl_read_all(c->query_fd, body, len, fd)) != 0) {
    err = err != 0 ? err : EDDY_EPROTO;
    goto fail;
  }
  {
    const unsigned char *f = body + EDDY__CL_PREFIX_LEN + 1;
    err = (int)eddy__cl_get_u32(f);
    *key = eddy__cl_get_u32(f + 4);
    *mode = (int)eddy__cl_get_u32(f + 8);
    *port = (int)eddy__cl_get_u32(f + 12);
  }
  if (err == 0 && *mode != EDDY_CLUSTER_SCHED_REUSEPORT && *fd == -1)
    err = EDDY_EPROTO;
  if (err == 0)
    return 0;
fail:
  if (*fd != -1)
    close(*fd);
  *fd = -1;
  return err;
}

/* ---- the TCP hooks ------------------------------------------------------ */

static int eddy__worker_bind(eddy_tcp_t *tcp, const struct sockaddr *addr,
                             unsigned flags) {
  struct eddy__tcp_share *sh;
  int fd = -1;

  /* A socket made already (eddy_tcp_init_ex) binds as it is. */
  if (eddy_fileno(&tcp->stream.handle, &fd) == 0 && fd != -1)
    return eddy__tcp_bind_local(tcp, addr, flags);
  sh = calloc(1, sizeof(*sh));
  if (sh == NULL)
    return EDDY_ENOMEM;
  memcpy(&sh->addr, addr, (size_t)eddy_sockaddr_len(addr));
  sh->flags = flags;
  sh->tcp = tcp;
  eddy__queue_insert_tail(&eddy__worker->shares, &sh->node);
  tcp->priv.share = sh;
  return 0;
}

static int eddy__worker_listen(eddy_tcp_t *tcp, int backlog,
                               eddy_connection_cb cb) {
  struct eddy__tcp_share *sh = tcp->priv.share;
  struct eddy__cl_msg m;
  int mode, port, fd, err;
  uint32_t key;

  if (sh->listening)
    return EDDY_EINVAL;
  err = eddy__cl_query_bind(eddy__worker, sh, &key, &mode, &port, &fd);
  if (err != 0)
    return err;
  if (mode == EDDY_CLUSTER_SCHED_REUSEPORT) {
    struct sockaddr_storage a = sh->addr;
    if (a.ss_family == AF_INET)
      ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
    else
      ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
    err = eddy__tcp_bind_local(tcp, (struct sockaddr *)&a,
                               sh->flags | EDDY_TCP_REUSEPORT);
    if (err == 0)
      err = eddy__stream_listen(&tcp->stream, backlog, cb);
  } else if ((err = eddy__tcp_adopt_shared(tcp, fd)) != 0) {
    close(fd);
  } else if (mode == EDDY_CLUSTER_SCHED_NONE) {
    err = eddy__stream_listen(&tcp->stream, backlog, cb);
  } else {
    eddy__stream_listen_remote(&tcp->stream, cb);
  }
  sh->key = key;
  sh->mode = mode;
  sh->listening = 1; /* the primary counts it bound even on failure */
  eddy__cl_msg_start(&m, err == 0 ? EDDY__CL_LISTENING : EDDY__CL_UNLISTEN);
  eddy__cl_msg_u32(&m, key);
  eddy__cluster_worker_send_ctl(eddy__worker, &m);
  if (err != 0)
    sh->listening = 0;
  return err;
}

static void eddy__worker_share_free(eddy_tcp_t *tcp) {
  struct eddy__tcp_share *sh = tcp->priv.share;

  eddy__queue_remove(&sh->node);
  free(sh);
  tcp->priv.share = NULL;
}

static int eddy__worker_unshare(eddy_tcp_t *tcp) {
  struct eddy__tcp_share *sh = tcp->priv.share;
  struct sockaddr_storage a = sh->addr;
  unsigned flags = sh->flags;

  eddy__worker_share_free(tcp);
  return eddy__tcp_bind_local(tcp, (struct sockaddr *)&a, flags);
}

static void eddy__worker_forget(eddy_tcp_t *tcp) {
  struct eddy__tcp_share *sh = tcp->priv.share;
  struct eddy__cl_msg m;

  if (sh->listening && !eddy_channel_is_disconnected(&eddy__worker->ch)) {
    eddy__cl_msg_start(&m, EDDY__CL_UNLISTEN);
    eddy__cl_msg_u32(&m, sh->key);
    eddy__cluster_worker_send_ctl(eddy__worker, &m);
  }
  eddy__worker_share_free(tcp);
}

static const struct eddy__tcp_share_hooks eddy__worker_hooks = {
    .bind = eddy__worker_bind,
    .listen = eddy__worker_listen,
    .unshare = eddy__worker_unshare,
    .forget = eddy__worker_forget,
};

/* ---- messages from the primary ------------------------------------------ */

static struct eddy__tcp_share *eddy__worker_share_of(uint32_t key) {
  eddy_queue_t *q;

  for (q = eddy__worker->shares.next; q != &eddy__worker->shares; q = q->next) {
    struct eddy__tcp_share *sh =
        eddy__container_of(q, struct eddy__tcp_share, node);
    if (sh->listening && sh->key == key)
      return sh;
  }
  return NULL;
}

/* A connection handed over in LEASTCONN mode closed: say so, so that the
 * primary's count of what each worker holds stays true. The count is per
 * worker: with several shared servers the primary takes it off any of
 * this worker's. */
static void eddy__worker_conn_closed(eddy_stream_t *client) {
  struct eddy__cl_msg m;

  (void)client;
  if (eddy__worker == NULL || eddy_channel_is_disconnected(&eddy__worker->ch))
    return;
  eddy__cl_msg_start(&m, EDDY__CL_CLOSED);
  eddy__cl_msg_u32(&m, 0);
  eddy__cluster_worker_send_ctl(eddy__worker, &m);
}

/* The answers gathered so far go out as one ANSWER. */
static void eddy__worker_answer_flush(struct eddy__cluster_priv *c) {
  struct eddy__cl_msg m;

  if (c->answer.count == 0)
    return;
  eddy__cl_msg_start(&m, EDDY__CL_ANSWER);
  eddy__cl_msg_u32(&m, c->answer.key);
  eddy__cl_msg_u32(&m, c->answer.seq);
  eddy__cl_msg_u32(&m, c->answer.count);
  eddy__cl_msg_u32(&m, c->answer.taken);
  c->answer.count = 0;
  eddy__cluster_worker_send_ctl(c, &m); /* a lost channel: the primary
                                           requeues what was unanswered */
}

static void eddy__worker_answer_due(eddy_check_t *check) {
  struct eddy__cluster_priv *c =
      eddy__container_of(check, struct eddy__cluster_priv, answer_check);

  eddy_check_stop(check);
  eddy__worker_answer_flush(c);
}

/* Answers wait for the end of the poll phase that brought their
 * hand-overs, so that a batch of connections costs the primary one wake-up
 * and one read, not one per connection. */
static void eddy__worker_answer_add(struct eddy__cluster_priv *c, uint32_t key,
                                    uint32_t seq, int taken) {
  if (c->answer.count > 0 &&
      (c->answer.key != key || c->answer.seq + c->answer.count != seq ||
       c->answer.count == EDDY__CL_ANSWER_MAX))
    eddy__worker_answer_flush(c);
  if (c->answer.count == 0) {
    c->answer.key = key;
    c->answer.seq = seq;
    c->answer.taken = 0;
    eddy_check_start(&c->answer_check, eddy__worker_answer_due);
  }
  if (taken)
    c->answer.taken |= 1u << c->answer.count;
  c->answer.count++;
}

/* A connection from the primary: offer it to the server, then say whether
 * it was taken. */
static void eddy__worker_newconn(struct eddy__cluster_priv *c,
                                 const unsigned char *f) {
  uint32_t key = eddy__cl_get_u32(f), seq = eddy__cl_get_u32(f + 4);
  struct eddy__tcp_share *sh = eddy__worker_share_of(key);
  int fd = eddy__channel_take_fd(&c->ch);
  int taken = 0;

  if (fd >= 0 && sh != NULL)
    taken = eddy__stream_deliver(&sh->tcp->stream, fd,
                                 sh->mode == EDDY_CLUSTER_SCHED_LEASTCONN
                                     ? eddy__worker_conn_closed
                                     : NULL) == 1;
  if (fd >= 0 && !taken)
    close(fd);
  eddy__worker_answer_add(c, key, seq, taken);
}

/* The channel and the answer check live in the cluster's memory: a
 * closed cluster is freed once both their closes have completed. */
static void eddy__worker_free_if_done(struct eddy__cluster_priv *c) {
  if (c->free_when_closed && c->ch_closed && c->check_closed)
    free(c);
}

static void eddy__worker_channel_closed(eddy_handle_t *h) {
  struct eddy__cluster_priv *c = h->data;

  c->ch_closed = 1;
  eddy__worker_free_if_done(c);
}

static void eddy__worker_check_closed(eddy_handle_t *h) {
  struct eddy__cluster_priv *c =
      eddy__container_of(h, struct eddy__cluster_priv, answer_check.handle);

  c->check_closed = 1;
  eddy__worker_free_if_done(c);
}

static void eddy__worker_channel_close(struct eddy__cluster_priv *c) {
  if (c->ch_closing)
    return;
  c->ch_closing = 1;
  c->ch.pipe.stream.handle.data = c;
  eddy_channel_close(&c->ch, eddy__worker_channel_closed);
}

/* Asked to go, or the primary went away: accept no more, let the program
 * close what it has, and close the channel. */
static void eddy__worker_disconnect(struct eddy__cluster_priv *c) {
  eddy_cluster_event_t ev;
  eddy_queue_t *q;

  /* Once only: the channel may still end while its close waits. */
  if (c->ch_closing || c->close_when_sent)
    return;
  for (q = c->shares.next; q != &c->shares; q = q->next) {
    struct eddy__tcp_share *sh =
        eddy__container_of(q, struct eddy__tcp_share, node);
    if (sh->listening)
      eddy__stream_listen_stop(&sh->tcp->stream);
  }
  if (c->query_fd != -1)
    close(c->query_fd);
  c->query_fd = -1;
  memset(&ev, 0, sizeof(ev));
  ev.type = EDDY_CLUSTER_EV_DISCONNECT;
  if (c->opts.on_event != NULL)
    c->opts.on_event(c->pub, &ev);
  /* The primary gives the hand-overs it has no answer for to the others
   * when the channel ends: every answer must be out before, or a
   * connection this worker took would be served twice. Closing cancels
   * what is queued, so the close waits for the control sends. */
  eddy__worker_answer_flush(c);
  if (c->ctl_sending > 0 && !eddy_channel_is_disconnected(&c->ch))
    c->close_when_sent = 1;
  else
    eddy__worker_channel_close(c);
}

static void eddy__worker_message(eddy_channel_t *ch, const void *data,
                                 size_t len, int has_handle) {
  struct eddy__cluster_priv *c = ch->data;
  const unsigned char *f;
  int op;

  if (!eddy__cl_is_control(data, len, &op)) {
    if (c->opts.on_message != NULL) {
      c->msg_channel = ch;
      c->opts.on_message(c->pub, NULL, data, len, has_handle);
      c->msg_channel = NULL;
    }
    return;
  }
  if (op == EDDY__CL_NEWCONN && (f = eddy__cl_fields(data, len, 2)) != NULL)
    eddy__worker_newconn(c, f);
  else if (op == EDDY__CL_DISCONNECT)
    eddy__worker_disconnect(c);
}

static void eddy__worker_channel_gone(eddy_channel_t *ch, int status) {
  (void)status;
  eddy__worker_disconnect(ch->data);
}

int eddy__cluster_worker_init(struct eddy__cluster_priv *c) {
  const char *q = getenv(EDDY__CL_QUERY_ENV);
  struct timeval tv = {EDDY__CL_QUERY_TIMEOUT_S, 0};
  struct eddy__cl_msg m;
  int err;

  c->is_worker = 1;
  c->self_id = eddy_cluster_worker_id();
  c->query_fd = q != NULL ? atoi(q) : -1;
  eddy__queue_init(&c->shares);
  eddy__queue_init(&c->free_ctl);
  if (c->query_fd < 0 || fcntl(c->query_fd, F_GETFD) == -1)
    return EDDY_ENOENT;
  err = eddy_channel_open_parent(c->pub->loop, &c->ch, eddy__worker_message,
                                 eddy__worker_channel_gone);
  if (err != 0)
    return err;
  c->ch.data = c;
  unsetenv(EDDY__CL_QUERY_ENV);
  fcntl(c->query_fd, F_SETFD, FD_CLOEXEC);
  fcntl(c->query_fd, F_SETFL, fcntl(c->query_fd, F_GETFL) & ~O_NONBLOCK);
  setsockopt(c->query_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  eddy_check_init(c->pub->loop, &c->answer_check);
  eddy__worker = c;
  eddy__tcp_set_share_hooks(&eddy__worker_hooks);
  eddy__cl_msg_start(&m, EDDY__CL_ONLINE);
  if ((err = eddy__cluster_worker_send_ctl(c, &m)) != 0)
    eddy__cluster_worker_close(c);
  return err;
}

void eddy__cluster_worker_close(struct eddy__cluster_priv *c) {
  eddy_queue_t *q;

  eddy__tcp_set_share_hooks(NULL);
  /* shares left are the program's open handles: they bind locally now */
  while (!eddy__queue_empty(&c->shares)) {
    struct eddy__tcp_share *sh =
        eddy__container_of(c->shares.next, struct eddy__tcp_share, node);
    sh->tcp->priv.share = NULL;
    eddy__queue_remove(&sh->node);
    free(sh);
  }
  if (c->query_fd != -1)
    close(c->query_fd);
  c->query_fd = -1;
  eddy__worker_answer_flush(c);
  eddy__worker_channel_close(c);
  while ((q = c->free_ctl.next) != &c->free_ctl) {
    eddy__queue_remove(q);
    free(eddy__container_of(q, struct eddy__cl_ctl, node));
  }
  eddy_close(&c->answer_check.handle, eddy__worker_check_closed);
  eddy__worker = NULL;
  c->free_when_closed = 1; /* by the last of the two close callbacks */
}
