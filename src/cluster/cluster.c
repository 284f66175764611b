/* cluster.c: the cluster's entry points that both sides share: which side
 * this is, options, start, and the program's messages. */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "core/handle.h"

/* One cluster per process: a worker's TCP hooks are process-wide. */
static struct eddy__cluster_priv *eddy__cluster_running;

int eddy_cluster_is_primary(void) {
  return getenv(EDDY_CLUSTER_ID_ENV) == NULL;
}

int eddy_cluster_worker_id(void) {
  const char *v = getenv(EDDY_CLUSTER_ID_ENV);

  return v == NULL ? 0 : atoi(v);
}

static int eddy__cluster_sched_from_env(eddy_cluster_sched *out) {
  static const struct {
    const char *name;
    eddy_cluster_sched sched;
  } names[] = {{"rr", EDDY_CLUSTER_SCHED_RR},
               {"none", EDDY_CLUSTER_SCHED_NONE},
               {"reuseport", EDDY_CLUSTER_SCHED_REUSEPORT},
               {"sticky", EDDY_CLUSTER_SCHED_STICKY},
               {"leastconn", EDDY_CLUSTER_SCHED_LEASTCONN}};
  const char *v = getenv(EDDY_CLUSTER_SCHED_ENV);
  size_t i;

  if (v == NULL || *v == '\0')
    return 0;
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(v, names[i].name) == 0) {
      *out = names[i].sched;
      return 0;
    }
  return EDDY_EINVAL;
}

int eddy_cluster_options_init(eddy_cluster_options_t *o) {
  if (o == NULL)
    return EDDY_EINVAL;
  memset(o, 0, sizeof(*o));
  o->sched = EDDY_CLUSTER_SCHED_RR;
  o->restart_delay_ms = 100;
  o->restart_factor = 1.5;
  o->restart_max_ms = 15000;
  o->stable_ms = 30000;
  o->max_fast_crashes = 16;
  o->fast_crash_ms = 1000;
  o->grace_ms = 10000;
  o->reload_timeout_ms = 10000;
  o->handover_timeout_ms = 30000;
  return eddy__cluster_sched_from_env(&o->sched);
}

static int eddy__cluster_options_valid(const eddy_cluster_options_t *o) {
  return o->sched >= EDDY_CLUSTER_SCHED_NONE &&
         o->sched <= EDDY_CLUSTER_SCHED_LEASTCONN && o->stdio_count >= 0 &&
         o->stdio_count <= 3 && (o->stdio_count == 0 || o->stdio != NULL) &&
         o->restart_factor >= 1.0;
}

int eddy_cluster_init(eddy_loop_t *loop, eddy_cluster_t *cluster,
                      const eddy_cluster_options_t *options) {
  struct eddy__cluster_priv *c;
  eddy_cluster_options_t defaults;
  eddy_cluster_sched env_sched;
  int err;

  if (loop == NULL || cluster == NULL)
    return EDDY_EINVAL;
  if (eddy__cluster_running != NULL)
    return EDDY_EBUSY;
  if (options == NULL) {
    if ((err = eddy_cluster_options_init(&defaults)) != 0)
      return err;
    options = &defaults;
  }
  env_sched = options->sched;
  if (eddy__cluster_sched_from_env(&env_sched) != 0 ||
      !eddy__cluster_options_valid(options))
    return EDDY_EINVAL;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return EDDY_ENOMEM;
  c->pub = cluster;
  c->opts = *options;
  c->opts.sched = env_sched;
  cluster->loop = loop;
  cluster->priv = c;
  if (eddy_cluster_is_primary()) {
    eddy__cluster_primary_init(c);
  } else if ((err = eddy__cluster_worker_init(c)) != 0) {
    if (!c->free_when_closed)
      free(c);
    cluster->priv = NULL;
    return err;
  }
  eddy__cluster_running = c;
  return 0;
}

static void eddy__cluster_sent(eddy_channel_send_t *send, int status) {
  eddy_cluster_send_t *req = send->req.data;

  if (req->priv.cb != NULL)
    req->priv.cb(req, status);
}

int eddy_cluster_send(eddy_cluster_t *cluster, eddy_cluster_worker_t *worker,
                      eddy_cluster_send_t *req, const void *data, size_t len,
                      eddy_stream_t *handle, eddy_cluster_send_cb cb) {
  struct eddy__cluster_priv *c;
  eddy_channel_t *ch;
  int op;

  if (cluster == NULL || (c = cluster->priv) == NULL || req == NULL ||
      (data == NULL && len > 0))
    return EDDY_EINVAL;
  if (len > 0 && eddy__cl_is_control(data, len, &op))
    return EDDY_EINVAL;
  if (c->is_worker) {
    if (worker != NULL)
      return EDDY_EINVAL;
    ch = &c->ch;
  } else {
    if (worker == NULL)
      return EDDY_EINVAL;
    ch = &worker->priv->ch;
  }
  req->priv.cb = cb;
  req->priv.send.req.data = req;
  return eddy_channel_send(ch, &req->priv.send, data, len, handle,
                           eddy__cluster_sent);
}

int eddy_cluster_accept(eddy_cluster_t *cluster, eddy_stream_t *into) {
  if (cluster == NULL || cluster->priv == NULL ||
      cluster->priv->msg_channel == NULL)
    return EDDY_EINVAL;
  return eddy_channel_accept(cluster->priv->msg_channel, into);
}

int eddy_cluster_ready(eddy_cluster_t *cluster) {
  struct eddy__cl_msg m;

  if (cluster == NULL || cluster->priv == NULL || !cluster->priv->is_worker)
    return EDDY_EINVAL;
  eddy__cl_msg_start(&m, EDDY__CL_READY);
  return eddy__cluster_worker_send_ctl(cluster->priv, &m);
}

int eddy_cluster_workers(const eddy_cluster_t *cluster,
                         eddy_cluster_worker_t **out, int max) {
  const struct eddy__cluster_priv *c;
  const eddy_queue_t *q;
  int n = 0;

  if (cluster == NULL || (c = cluster->priv) == NULL || c->is_worker)
    return 0;
  for (q = c->workers.next; q != &c->workers; q = q->next) {
    struct eddy__cluster_worker_priv *w =
        eddy__container_of(q, struct eddy__cluster_worker_priv, node);
    if (w->disconnected && w->exited)
      continue;
    if (n < max && out != NULL)
      out[n] = &w->pub;
    n++;
  }
  return n;
}

int eddy_cluster_close(eddy_cluster_t *cluster) {
  struct eddy__cluster_priv *c;

  if (cluster == NULL || (c = cluster->priv) == NULL)
    return EDDY_EINVAL;
  if (c->is_worker) {
    eddy__cluster_worker_close(c);
    cluster->priv = NULL;
    eddy__cluster_running = NULL;
    return 0;
  } else {
    int i;
    if (!eddy__queue_empty(&c->workers) || c->reloading ||
        !eddy__queue_empty(&c->listeners))
      return EDDY_EBUSY;
    for (i = 0; i < EDDY_CLUSTER_MAX_WORKERS; i++)
      if (c->slots[i].used)
        return EDDY_EBUSY;
  }
  free(c);
  cluster->priv = NULL;
  eddy__cluster_running = NULL;
  return 0;
}
