/* reload.c: the rolling reload. One worker at a time: fork its
 * replacement, wait until the replacement listens or says it is ready,
 * then disconnect the old one (it gets no new connections from then on,
 * finishes the ones it has) and wait until it is gone before the next.
 * At every moment at least one worker of the set serves the port, and the
 * shared socket itself never closes, so no connection is refused. */
#include <signal.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "core/handle.h"

static void eddy__reload_end(struct eddy__cluster_priv *c, int status) {
  eddy_cluster_event_t ev;

  c->reloading = 0;
  c->reload_old = NULL;
  c->reload_new = NULL;
  eddy_close(&c->reload_timer.handle, NULL);
  memset(&ev, 0, sizeof(ev));
  ev.type = EDDY_CLUSTER_EV_RELOADED;
  ev.status = status;
  eddy__cluster_emit(c, &ev);
}

static void eddy__reload_timeout(eddy_timer_t *t) {
  struct eddy__cluster_priv *c = t->handle.data;
  struct eddy__cluster_worker_priv *w = c->reload_new;

  /* The replacement never got ready: keep the old worker. */
  if (w != NULL)
    eddy_cluster_worker_kill(&w->pub, SIGKILL);
  eddy__reload_end(c, EDDY_ETIMEDOUT);
}

/* The oldest worker the reload has still to replace. */
static struct eddy__cluster_worker_priv *
eddy__reload_next_old(struct eddy__cluster_priv *c) {
  eddy_queue_t *q;

  for (q = c->workers.next; q != &c->workers; q = q->next) {
    struct eddy__cluster_worker_priv *w =
        eddy__container_of(q, struct eddy__cluster_worker_priv, node);
    if (w->pub.id < c->reload_end_id && !w->pub.exited_after_disconnect &&
        !w->disconnected && !w->exited)
      return w;
  }
  return NULL;
}

void eddy__cluster_reload_step(struct eddy__cluster_priv *c) {
  struct eddy__cluster_worker_priv *old, *fresh;
  int slot, err;

  if (!c->reloading)
    return;
  if (c->reload_new != NULL) {
    if (!c->reload_new_ready)
      return;
    eddy_timer_stop(&c->reload_timer);
    c->reload_new = NULL;
    if (c->reload_old != NULL)
      eddy_cluster_worker_disconnect(&c->reload_old->pub);
    return; /* on with the next once the old one is gone */
  }
  if (c->reload_old != NULL)
    return;
  if ((old = eddy__reload_next_old(c)) == NULL) {
    eddy__reload_end(c, 0);
    return;
  }
  for (slot = 0; slot < EDDY_CLUSTER_MAX_WORKERS; slot++)
    if (!c->slots[slot].used && !c->slots[slot].errored)
      break;
  err = slot == EDDY_CLUSTER_MAX_WORKERS
            ? EDDY_EBUSY
            : eddy__cluster_primary_fork(c, slot, &fresh);
  if (err != 0) {
    eddy__reload_end(c, err);
    return;
  }
  c->reload_old = old;
  c->reload_new = fresh;
  c->reload_new_ready = 0;
  eddy_timer_start(&c->reload_timer, eddy__reload_timeout,
                   c->opts.reload_timeout_ms, 0);
}

void eddy__cluster_reload_ready(struct eddy__cluster_priv *c,
                                struct eddy__cluster_worker_priv *w) {
  if (c->reloading && c->reload_new == w) {
    c->reload_new_ready = 1;
    eddy__cluster_reload_step(c);
  }
}

void eddy__cluster_reload_forget(struct eddy__cluster_priv *c,
                                 struct eddy__cluster_worker_priv *w) {
  if (!c->reloading)
    return;
  if (w == c->reload_new) {
    /* the replacement died before it was ready: keep the old one */
    c->reload_new = NULL;
    eddy__reload_end(c, EDDY_ECHILD);
    return;
  }
  if (w == c->reload_old) {
    c->reload_old = NULL;
    eddy__cluster_reload_step(c);
  }
}

int eddy_cluster_reload(eddy_cluster_t *cluster) {
  struct eddy__cluster_priv *c;

  if (cluster == NULL || (c = cluster->priv) == NULL || c->is_worker ||
      c->stopping)
    return EDDY_EINVAL;
  if (c->reloading)
    return EDDY_EALREADY;
  c->reloading = 1;
  c->reload_end_id = c->next_id;
  eddy_timer_init(cluster->loop, &c->reload_timer);
  c->reload_timer.handle.data = c;
  eddy__cluster_reload_step(c);
  return 0;
}
