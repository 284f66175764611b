/* primary.c: the primary's side. Forking workers (the program again, with
 * a channel and a query socket), their life-cycle events in Node's order,
 * graceful disconnect and kill, restart with backoff, rolling reload. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "core/handle.h"
#include "eddy/tick.h"

extern char **environ;

/* The slot (3) where a worker finds its query socket: after stdio. */
#define EDDY__CL_QUERY_SLOT 3

void eddy__cluster_primary_init(struct eddy__cluster_priv *c) {
  int i;

  eddy__queue_init(&c->workers);
  eddy__queue_init(&c->listeners);
  c->next_id = 1;
  c->next_key = 1;
  for (i = 0; i < EDDY_CLUSTER_MAX_WORKERS; i++) {
    c->slots[i].cluster = c;
    c->slots[i].delay_ms = c->opts.restart_delay_ms;
  }
}

void eddy__cluster_emit(struct eddy__cluster_priv *c,
                        eddy_cluster_event_t *ev) {
  if (c->opts.on_event != NULL)
    c->opts.on_event(c->pub, ev);
}

static void eddy__cluster_emit_simple(struct eddy__cluster_worker_priv *w,
                                      eddy_cluster_event_type type) {
  eddy_cluster_event_t ev;

  memset(&ev, 0, sizeof(ev));
  ev.type = type;
  ev.worker = &w->pub;
  eddy__cluster_emit(w->cluster->priv, &ev);
}

/* ---- argv and environment of a worker ----------------------------------- */

/* This program's argv, from /proc/self/cmdline (read once). */
static char *const *eddy__cluster_own_args(void) {
  static char buf[8192];
  static char *args[128];
  static int done;
  size_t n = 0, i;
  int fd, k = 0;
  ssize_t r;

  if (done)
    return args;
  fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return NULL;
  while (n < sizeof(buf) - 1 &&
         (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
    n += (size_t)r;
  close(fd);
  buf[n] = '\0';
  for (i = 0; i < n && k < 127; i += strlen(buf + i) + 1)
    args[k++] = buf + i;
  args[k] = NULL;
  done = 1;
  return args;
}

static int eddy__env_is_ours(const char *e) {
  return strncmp(e, EDDY_CLUSTER_ID_ENV "=", sizeof(EDDY_CLUSTER_ID_ENV)) ==
             0 ||
         strncmp(e, EDDY__CL_QUERY_ENV "=", sizeof(EDDY__CL_QUERY_ENV)) == 0;
}

/* environ, then the options' entries, then the worker's own two. */
static char **eddy__cluster_env(const struct eddy__cluster_priv *c, int id,
                                char idbuf[32], char qbuf[48]) {
  size_t n = 0, extra = 0, k = 0, i;
  char **env;

  while (environ[n] != NULL)
    n++;
  if (c->opts.env != NULL)
    while (c->opts.env[extra] != NULL)
      extra++;
  env = malloc((n + extra + 3) * sizeof(*env));
  if (env == NULL)
    return NULL;
  for (i = 0; i < n; i++)
    if (!eddy__env_is_ours(environ[i]))
      env[k++] = environ[i];
  for (i = 0; i < extra; i++)
    env[k++] = c->opts.env[i];
  snprintf(idbuf, 32, "%s=%d", EDDY_CLUSTER_ID_ENV, id);
  snprintf(qbuf, 48, "%s=%d", EDDY__CL_QUERY_ENV, EDDY__CL_QUERY_SLOT);
  env[k++] = idbuf;
  env[k++] = qbuf;
  env[k] = NULL;
  return env;
}

/* ---- a worker's end ------------------------------------------------------ */

static void eddy__worker_closed(eddy_handle_t *h) {
  struct eddy__cluster_worker_priv *w = h->data;

  if (--w->closes == 0)
    free(w);
}

/* Both its channel ended and it exited: release it (after the EXIT
 * callback, which may still read it). */
static void eddy__worker_release(struct eddy__cluster_worker_priv *w) {
  struct eddy__cluster_priv *c = w->cluster->priv;

  eddy__queue_remove(&w->node);
  c->nlive--;
  w->closes = 5;
  w->proc.handle.data = w;
  w->ch.pipe.stream.handle.data = w;
  w->query.pipe.stream.handle.data = w;
  w->grace_timer.handle.data = w;
  w->answer_timer.handle.data = w;
  eddy_close(&w->answer_timer.handle, eddy__worker_closed);
  eddy_close(&w->proc.handle, eddy__worker_closed);
  eddy_channel_close(&w->ch, eddy__worker_closed);
  eddy_channel_close(&w->query, eddy__worker_closed);
  eddy_close(&w->grace_timer.handle, eddy__worker_closed);
}

static void eddy__cluster_restart_due(eddy_timer_t *t);

/* The slot of a worker that exited unasked: restart it after the backoff,
 * or mark it errored. Returns 1 if a restart is scheduled. */
static int eddy__slot_after_crash(struct eddy__cluster_priv *c,
                                  struct eddy__cluster_worker_priv *w) {
  struct eddy__cluster_slot *s = &c->slots[w->pub.slot];
  uint64_t up = eddy_now(c->pub->loop) - w->started_ms;
  eddy_cluster_event_t ev;

  if (!c->opts.restart || c->stopping || w->pub.exited_after_disconnect)
    return 0;
  if (up >= c->opts.stable_ms)
    s->delay_ms = c->opts.restart_delay_ms;
  if (up < c->opts.fast_crash_ms)
    s->fast_crashes++;
  else
    s->fast_crashes = 0;
  if (s->fast_crashes >= c->opts.max_fast_crashes) {
    s->errored = 1;
    memset(&ev, 0, sizeof(ev));
    ev.type = EDDY_CLUSTER_EV_ERRORED;
    ev.worker = &w->pub;
    eddy__cluster_emit(c, &ev);
    return 0;
  }
  eddy_timer_init(c->pub->loop, &s->restart_timer);
  s->restart_timer.handle.data = s;
  eddy_timer_start(&s->restart_timer, eddy__cluster_restart_due, s->delay_ms,
                   0);
  s->delay_ms = (uint64_t)((double)s->delay_ms * c->opts.restart_factor);
  if (s->delay_ms > c->opts.restart_max_ms)
    s->delay_ms = c->opts.restart_max_ms;
  return 1;
}

static void eddy__cluster_restart_due(eddy_timer_t *t) {
  struct eddy__cluster_slot *s = t->handle.data;
  struct eddy__cluster_priv *c = s->cluster;
  int slot = (int)(s - c->slots);

  eddy_close(&t->handle, NULL);
  s->used = 0;
  if (!c->stopping && eddy__cluster_primary_fork(c, slot, NULL) != 0)
    s->used = 0;
}

static void eddy__worker_maybe_done(struct eddy__cluster_worker_priv *w) {
  struct eddy__cluster_priv *c = w->cluster->priv;

  if (!w->disconnected || !w->exited || w->closes != 0)
    return;
  w->closes = -1; /* once */
  if (!eddy__slot_after_crash(c, w))
    c->slots[w->pub.slot].used = 0;
  eddy__cluster_reload_forget(c, w);
  eddy__worker_release(w);
}

static void eddy__worker_emit_exit(struct eddy__cluster_worker_priv *w) {
  eddy_cluster_event_t ev;

  w->exited = 1;
  w->pub.state = EDDY_WORKER_DEAD;
  memset(&ev, 0, sizeof(ev));
  ev.type = EDDY_CLUSTER_EV_EXIT;
  ev.worker = &w->pub;
  ev.exit_status = w->exit_status;
  ev.term_signal = w->term_signal;
  eddy__cluster_emit(w->cluster->priv, &ev);
  eddy__worker_maybe_done(w);
}

static void eddy__worker_channel_gone(eddy_channel_t *ch, int status) {
  struct eddy__cluster_worker_priv *w = ch->data;

  (void)status;
  if (w->disconnected)
    return;
  w->disconnected = 1;
  w->pub.state = EDDY_WORKER_DISCONNECTED;
  eddy__balance_worker_gone(w);
  eddy__cluster_emit_simple(w, EDDY_CLUSTER_EV_DISCONNECT);
  if (w->reaped)
    eddy__worker_emit_exit(w);
}

/* Reaped. The channel of a dead process ends too, and its last messages
 * are still to be read: EXIT waits for that DISCONNECT, as in Node. */
static void eddy__worker_exit(eddy_process_t *p, int64_t status, int sig) {
  struct eddy__cluster_worker_priv *w =
      eddy__container_of(p, struct eddy__cluster_worker_priv, proc);

  eddy_timer_stop(&w->grace_timer);
  eddy_timer_stop(&w->answer_timer);
  w->reaped = 1;
  w->exit_status = status;
  w->term_signal = sig;
  if (w->disconnected)
    eddy__worker_emit_exit(w);
}

/* ---- messages from a worker ---------------------------------------------- */

static void eddy__worker_message(eddy_channel_t *ch, const void *data,
                                 size_t len, int has_handle) {
  struct eddy__cluster_worker_priv *w = ch->data;
  struct eddy__cluster_priv *c = w->cluster->priv;
  int op;

  if (!eddy__cl_is_control(data, len, &op)) {
    if (c->opts.on_message != NULL) {
      c->msg_channel = ch;
      c->opts.on_message(c->pub, &w->pub, data, len, has_handle);
      c->msg_channel = NULL;
    }
    return;
  }
  if (op == EDDY__CL_ONLINE && w->pub.state == EDDY_WORKER_NONE) {
    w->pub.state = EDDY_WORKER_ONLINE;
    eddy__cluster_emit_simple(w, EDDY_CLUSTER_EV_ONLINE);
  } else if (op == EDDY__CL_READY) {
    eddy__cluster_emit_simple(w, EDDY_CLUSTER_EV_READY);
    eddy__cluster_reload_ready(c, w);
  } else {
    eddy__balance_control(w, op, data, len);
  }
}

static void eddy__worker_query(eddy_channel_t *ch, const void *data, size_t len,
                               int has_handle) {
  int op;

  (void)has_handle;
  if (eddy__cl_is_control(data, len, &op) && op == EDDY__CL_BIND)
    eddy__balance_bind(ch->data, data, len);
}

void eddy__cluster_worker_listening(struct eddy__cluster_worker_priv *w,
                                    const struct sockaddr *addr) {
  struct eddy__cluster_priv *c = w->cluster->priv;
  eddy_cluster_event_t ev;

  if (w->pub.state == EDDY_WORKER_ONLINE)
    w->pub.state = EDDY_WORKER_LISTENING;
  memset(&ev, 0, sizeof(ev));
  ev.type = EDDY_CLUSTER_EV_LISTENING;
  ev.worker = &w->pub;
  ev.address = addr;
  eddy__cluster_emit(c, &ev);
  eddy__cluster_reload_ready(c, w);
}

/* ---- forking --------------------------------------------------------------
 */

static void eddy__worker_fork_tick(eddy_loop_t *loop, void *arg) {
  struct eddy__cluster_worker_priv *w = arg;

  (void)loop;
  eddy__cluster_emit_simple(w, EDDY_CLUSTER_EV_FORK);
}

/* Start the worker's process with stdio, the query socket's end in slot 3
 * and the channel after it. */
static int eddy__worker_spawn(struct eddy__cluster_priv *c,
                              struct eddy__cluster_worker_priv *w, int qfd) {
  eddy_stdio_container_t stdio[EDDY__CL_QUERY_SLOT + 1];
  eddy_process_options_t po;
  char idbuf[32], qbuf[48];
  char **env;
  int i, err;

  for (i = 0; i < EDDY__CL_QUERY_SLOT; i++) {
    if (i < c->opts.stdio_count) {
      stdio[i] = c->opts.stdio[i];
    } else {
      stdio[i].flags = EDDY_INHERIT_FD;
      stdio[i].data.fd = i;
    }
  }
  stdio[EDDY__CL_QUERY_SLOT].flags = EDDY_INHERIT_FD;
  stdio[EDDY__CL_QUERY_SLOT].data.fd = qfd;
  env = eddy__cluster_env(c, w->pub.id, idbuf, qbuf);
  if (env == NULL)
    return EDDY_ENOMEM;
  memset(&po, 0, sizeof(po));
  po.exit_cb = eddy__worker_exit;
  po.file = "/proc/self/exe";
  po.args = c->opts.args != NULL ? c->opts.args : eddy__cluster_own_args();
  po.env = env;
  po.stdio = stdio;
  po.stdio_count = EDDY__CL_QUERY_SLOT + 1;
  err = eddy_fork(c->pub->loop, &w->proc, &w->ch, &po);
  free(env);
  return err;
}

int eddy__cluster_primary_fork(struct eddy__cluster_priv *c, int slot,
                               struct eddy__cluster_worker_priv **out) {
  eddy_loop_t *loop = c->pub->loop;
  struct eddy__cluster_worker_priv *w;
  int sv[2];
  int err;

  if (c->slots[slot].used || c->slots[slot].errored)
    return EDDY_EBUSY;
  w = calloc(1, sizeof(*w));
  if (w == NULL)
    return EDDY_ENOMEM;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    err = -errno;
    free(w);
    return err;
  }
  w->cluster = c->pub;
  w->pub.priv = w;
  w->pub.id = c->next_id;
  w->pub.slot = slot;
  w->pub.state = EDDY_WORKER_NONE;
  eddy__queue_init(&w->inflight);
  eddy_channel_init(loop, &w->ch, eddy__worker_message,
                    eddy__worker_channel_gone);
  w->ch.data = w;
  err = eddy__worker_spawn(c, w, sv[1]);
  close(sv[1]);
  if (err != 0) {
    close(sv[0]);
    /* the channel never had a descriptor; free w after its close */
    w->closes = 1;
    w->ch.pipe.stream.handle.data = w;
    eddy_channel_close(&w->ch, eddy__worker_closed);
    return err;
  }
  c->next_id++;
  c->nlive++;
  c->slots[slot].used = 1;
  w->pub.pid = w->proc.pid;
  w->started_ms = eddy_now(loop);
  eddy_channel_init(loop, &w->query, eddy__worker_query, NULL);
  w->query.data = w;
  if (eddy_channel_open_fd(&w->query, sv[0]) != 0)
    close(sv[0]);
  eddy_channel_unref(&w->query);
  eddy_timer_init(loop, &w->grace_timer);
  eddy_unref(&w->grace_timer.handle);
  eddy_timer_init(loop, &w->answer_timer);
  eddy_unref(&w->answer_timer.handle);
  eddy__queue_insert_tail(&c->workers, &w->node);
  eddy_next_tick(loop, eddy__worker_fork_tick, w);
  if (out != NULL)
    *out = w;
  return 0;
}

int eddy_cluster_fork(eddy_cluster_t *cluster, eddy_cluster_worker_t **worker) {
  struct eddy__cluster_priv *c;
  struct eddy__cluster_worker_priv *w;
  int slot, err;

  if (cluster == NULL || (c = cluster->priv) == NULL || c->is_worker ||
      c->stopping)
    return EDDY_EINVAL;
  for (slot = 0; slot < EDDY_CLUSTER_MAX_WORKERS; slot++)
    if (!c->slots[slot].used && !c->slots[slot].errored)
      break;
  if (slot == EDDY_CLUSTER_MAX_WORKERS)
    return EDDY_EBUSY;
  err = eddy__cluster_primary_fork(c, slot, &w);
  if (err == 0 && worker != NULL)
    *worker = &w->pub;
  return err;
}

/* ---- going ----------------------------------------------------------------
 */

static void eddy__worker_grace_over(eddy_timer_t *t) {
  struct eddy__cluster_worker_priv *w =
      eddy__container_of(t, struct eddy__cluster_worker_priv, grace_timer);

  eddy_process_kill(&w->proc, SIGKILL);
}

static int eddy__worker_live(const eddy_cluster_worker_t *worker) {
  return worker != NULL && worker->priv != NULL && !worker->priv->exited;
}

int eddy_cluster_worker_disconnect(eddy_cluster_worker_t *worker) {
  struct eddy__cluster_worker_priv *w;
  struct eddy__cluster_priv *c;

  if (!eddy__worker_live(worker))
    return EDDY_EINVAL;
  w = worker->priv;
  c = w->cluster->priv;
  if (worker->exited_after_disconnect)
    return EDDY_EALREADY;
  worker->exited_after_disconnect = 1;
  eddy__balance_route_off(w);
  if (c->opts.grace_ms > 0)
    eddy_timer_start(&w->grace_timer, eddy__worker_grace_over, c->opts.grace_ms,
                     0);
  if (w->disconnected)
    return 0;
  eddy__cl_msg_start(&w->ctl_msg, EDDY__CL_DISCONNECT);
  if (eddy_channel_send(&w->ch, &w->ctl_send, w->ctl_msg.buf, w->ctl_msg.len,
                        NULL, NULL) != 0)
    eddy_process_kill(&w->proc, SIGKILL);
  return 0;
}

int eddy_cluster_worker_kill(eddy_cluster_worker_t *worker, int signum) {
  if (!eddy__worker_live(worker))
    return EDDY_EINVAL;
  worker->exited_after_disconnect = 1;
  return eddy_process_kill(&worker->priv->proc, signum == 0 ? SIGTERM : signum);
}

int eddy_cluster_disconnect(eddy_cluster_t *cluster) {
  struct eddy__cluster_priv *c;
  eddy_queue_t *q;
  int i;

  if (cluster == NULL || (c = cluster->priv) == NULL || c->is_worker)
    return EDDY_EINVAL;
  c->stopping = 1;
  for (i = 0; i < EDDY_CLUSTER_MAX_WORKERS; i++)
    if (c->slots[i].used && eddy_is_active(&c->slots[i].restart_timer.handle)) {
      eddy_close(&c->slots[i].restart_timer.handle, NULL);
      c->slots[i].used = 0;
    }
  for (q = c->workers.next; q != &c->workers; q = q->next) {
    struct eddy__cluster_worker_priv *w =
        eddy__container_of(q, struct eddy__cluster_worker_priv, node);
    if (!w->pub.exited_after_disconnect && !w->exited)
      eddy_cluster_worker_disconnect(&w->pub);
  }
  return 0;
}
