/* worker.c: worker threads.
 *
 * Each worker has a context on the heap, shared by the parent and the
 * worker's thread and freed by the parent once it has joined the thread.
 * The context's lock guards what both threads touch: the stop request,
 * the events the thread has for the parent (online, error, exit), and
 * whether the thread's stopper (an async handle of the worker's loop,
 * which turns a terminate into eddy_stop on the worker's own thread) may
 * still be sent to. Messages do not pass through the context: they go
 * over the parent port (port.c), whose parent side is a port kept inside
 * the worker handle and delivered through the handle's own mailbox, so
 * that online comes before the first message and exit after the last. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "eddy/async.h"
#include "eddy/thread.h"
#include "eddy/worker.h"
#include "worker/port_internal.h"

extern char **environ;

enum {
  EDDY__WORKER_STARTING, /* the thread has no loop yet */
  EDDY__WORKER_RUNNING,  /* the stopper may be sent to */
  EDDY__WORKER_DONE      /* the loop is going or gone */
};

struct eddy__worker_ctx {
  eddy_loop_t loop;
  eddy_port_t parent_port; /* the worker's side */
  eddy_async_t stopper;
  eddy_thread_t tid;
  eddy_mutex_t lock;
  int state;      /* EDDY__WORKER_*, under lock */
  int stop;       /* atomic: should_stop */
  int terminated; /* under lock */
  int exit_code;  /* worker thread only */
  int online_due; /* under lock: events for the parent */
  int error_due;
  int error_code;
  char *error_message;
  int exit_due;
  int exit_status;
  struct eddy__port_end *end; /* the worker's end until its port holds it */
  eddy_worker_entry entry;
  eddy_buf_t data;
  char **env; /* NULL: the process's */
  eddy_worker_t *worker;
};

static _Thread_local struct eddy__worker_ctx *eddy__worker_current;

/* --- the environment ----------------------------------------------------- */

static void eddy__env_free(char **env) {
  size_t i;

  if (env == NULL)
    return;
  for (i = 0; env[i] != NULL; i++)
    free(env[i]);
  free(env);
}

static char **eddy__env_copy(void) {
  size_t n = 0, i;
  char **env;

  while (environ != NULL && environ[n] != NULL)
    n++;
  env = calloc(n + 1, sizeof(*env));
  if (env == NULL)
    return NULL;
  for (i = 0; i < n; i++)
    if ((env[i] = strdup(environ[i])) == NULL) {
      eddy__env_free(env);
      return NULL;
    }
  return env;
}

const char *eddy_worker_getenv(const char *name) {
  struct eddy__worker_ctx *ctx = eddy__worker_current;
  size_t len, i;

  if (name == NULL)
    return NULL;
  if (ctx == NULL || ctx->env == NULL)
    return getenv(name);
  len = strlen(name);
  for (i = 0; ctx->env[i] != NULL; i++)
    if (strncmp(ctx->env[i], name, len) == 0 && ctx->env[i][len] == '=')
      return ctx->env[i] + len + 1;
  return NULL;
}

/* --- the worker's thread ------------------------------------------------- */

static void eddy__worker_tell_parent(struct eddy__worker_ctx *ctx) {
  eddy__mailbox_signal(&ctx->worker->priv.port.priv.box);
}

static void eddy__worker_request_stop(struct eddy__worker_ctx *ctx) {
  __atomic_store_n(&ctx->stop, 1, __ATOMIC_SEQ_CST);
  eddy_stop(&ctx->loop);
}

static void eddy__worker_on_stopper(eddy_async_t *async) {
  struct eddy__worker_ctx *ctx =
      eddy__container_of(async, struct eddy__worker_ctx, stopper);

  eddy_stop(&ctx->loop);
}

static void eddy__worker_close_walk(eddy_handle_t *h, void *arg) {
  (void)arg;
  if (!eddy_is_closing(h))
    eddy_close(h, NULL);
}

/* Close what is left on the worker's loop (handles the library hides from
 * eddy_walk included) and run it until it can be freed: close callbacks
 * and the completions of pool jobs still out. */
static void eddy__worker_teardown(struct eddy__worker_ctx *ctx) {
  eddy_mutex_lock(&ctx->lock);
  ctx->state = EDDY__WORKER_DONE;
  eddy_mutex_unlock(&ctx->lock);
  if (!eddy_is_closing(&ctx->stopper.handle))
    eddy_close(&ctx->stopper.handle, NULL);
  if (!eddy_is_closing(&ctx->parent_port.handle))
    eddy_close(&ctx->parent_port.handle, NULL);
  do {
    eddy_walk(&ctx->loop, eddy__worker_close_walk, NULL);
    eddy_run(&ctx->loop, EDDY_RUN_DEFAULT);
  } while (eddy_loop_close(&ctx->loop) == EDDY_EBUSY);
}

/* Set up the loop, the stopper and the parent port. */
static int eddy__worker_setup(struct eddy__worker_ctx *ctx) {
  int err = eddy_loop_init(&ctx->loop);

  if (err != 0)
    return err;
  if ((err = eddy_async_init(&ctx->loop, &ctx->stopper,
                             eddy__worker_on_stopper)) != 0)
    goto fail_loop;
  eddy_unref(&ctx->stopper.handle);
  ctx->stopper.handle.priv.flags |= EDDY__HANDLE_INTERNAL;
  if ((err = eddy__port_open(&ctx->loop, &ctx->parent_port, ctx->end)) != 0)
    goto fail_async;
  ctx->end = NULL;
  return 0;
fail_async:
  eddy_close(&ctx->stopper.handle, NULL);
  eddy_run(&ctx->loop, EDDY_RUN_DEFAULT);
fail_loop:
  eddy_loop_close(&ctx->loop);
  return err;
}

static void eddy__worker_report(struct eddy__worker_ctx *ctx, int err,
                                const char *message, int *status) {
  eddy_mutex_lock(&ctx->lock);
  if (!ctx->error_due) {
    ctx->error_due = 1;
    ctx->error_code = err;
    ctx->error_message = message != NULL ? strdup(message) : NULL;
    if (message != NULL && ctx->error_message == NULL)
      *status = EDDY_ENOMEM;
  }
  eddy_mutex_unlock(&ctx->lock);
  ctx->exit_code = 1;
}

static void eddy__worker_main(void *arg) {
  struct eddy__worker_ctx *ctx = arg;
  int err, status = 0, code;

  eddy__worker_current = ctx;
  err = eddy__worker_setup(ctx);
  if (err != 0) {
    eddy__worker_report(ctx, err, "the worker's loop could not start", &status);
  } else {
    eddy_mutex_lock(&ctx->lock);
    ctx->state = EDDY__WORKER_RUNNING;
    ctx->online_due = !ctx->terminated;
    eddy_mutex_unlock(&ctx->lock);
    if (!eddy_worker_should_stop()) {
      eddy__worker_tell_parent(ctx);
      err = ctx->entry(ctx, &ctx->data);
      eddy__after_callback(&ctx->loop);
      if (err < 0)
        eddy__worker_report(ctx, err, NULL, &status);
      if (!eddy_worker_should_stop())
        eddy_run(&ctx->loop, EDDY_RUN_DEFAULT);
    }
    eddy__worker_teardown(ctx);
  }
  if (ctx->end != NULL) { /* setup failed before the port held it */
    eddy__port_end_release(ctx->end);
    ctx->end = NULL;
  }
  eddy_mutex_lock(&ctx->lock);
  code = ctx->terminated ? 1 : ctx->exit_code;
  ctx->exit_status = code;
  ctx->exit_due = 1;
  eddy_mutex_unlock(&ctx->lock);
  eddy__worker_current = NULL;
  eddy__worker_tell_parent(ctx);
}

/* --- inside a worker ----------------------------------------------------- */

eddy_worker_ctx_t *eddy_worker_self(void) {
  return eddy__worker_current;
}

eddy_loop_t *eddy_worker_loop(eddy_worker_ctx_t *ctx) {
  return ctx != NULL ? &ctx->loop : NULL;
}

eddy_port_t *eddy_worker_parent_port(eddy_worker_ctx_t *ctx) {
  return ctx != NULL ? &ctx->parent_port : NULL;
}

int eddy_worker_exit(int code) {
  struct eddy__worker_ctx *ctx = eddy__worker_current;

  if (ctx == NULL)
    return EDDY_EINVAL;
  ctx->exit_code = code;
  eddy__worker_request_stop(ctx);
  return 0;
}

int eddy_worker_should_stop(void) {
  struct eddy__worker_ctx *ctx = eddy__worker_current;

  return ctx != NULL && __atomic_load_n(&ctx->stop, __ATOMIC_SEQ_CST) != 0;
}

int eddy_worker_report_error(int err, const char *message) {
  struct eddy__worker_ctx *ctx = eddy__worker_current;
  int status = 0;

  if (ctx == NULL || err >= 0)
    return EDDY_EINVAL;
  eddy__worker_report(ctx, err, message, &status);
  eddy__worker_request_stop(ctx);
  return status;
}

/* --- the parent's side --------------------------------------------------- */

static void eddy__worker_ctx_free(struct eddy__worker_ctx *ctx) {
  eddy_mutex_destroy(&ctx->lock);
  free(ctx->data.base);
  free(ctx->error_message);
  eddy__env_free(ctx->env);
  free(ctx);
}

/* Join the thread (it has told its exit, or was made to stop) and free
 * everything the worker had. */
static void eddy__worker_reap(eddy_worker_t *worker) {
  struct eddy__worker_ctx *ctx = worker->priv.ctx;
  int err = eddy_thread_join(&ctx->tid);

  assert(err == 0);
  (void)err;
  eddy__port_close_internal(&worker->priv.port);
  worker->priv.ctx = NULL;
  eddy__worker_ctx_free(ctx);
}

static void eddy__worker_on_message(eddy_port_t *port,
                                    eddy_port_message_t *message) {
  eddy_worker_t *worker = port->handle.data;

  if (worker->priv.events.message != NULL)
    worker->priv.events.message(worker, message);
}

static int eddy__worker_gone(const eddy_worker_t *worker) {
  return worker->priv.ctx == NULL || eddy__handle_closing(&worker->handle);
}

/* The parent's mailbox: online, the messages, then error and exit. */
static void eddy__worker_deliver(struct eddy__mailbox *box) {
  eddy_worker_t *worker =
      eddy__container_of(box, eddy_worker_t, priv.port.priv.box);
  struct eddy__worker_ctx *ctx = worker->priv.ctx;
  eddy_loop_t *loop = worker->handle.loop;
  int online, exiting, code = 0, error = 0, error_code = 0;
  char *error_message = NULL;

  if (eddy__worker_gone(worker))
    return;
  eddy_mutex_lock(&ctx->lock);
  online = ctx->online_due;
  ctx->online_due = 0;
  eddy_mutex_unlock(&ctx->lock);
  if (online && worker->priv.events.online != NULL) {
    worker->priv.events.online(worker);
    eddy__after_callback(loop);
  }
  if (eddy__worker_gone(worker))
    return;
  eddy__port_deliver(&worker->priv.port);
  if (eddy__worker_gone(worker))
    return;
  eddy_mutex_lock(&ctx->lock);
  exiting = ctx->exit_due;
  eddy_mutex_unlock(&ctx->lock);
  if (!exiting)
    return;
  /* Everything the thread posted was queued before it said exit. */
  eddy__port_deliver(&worker->priv.port);
  if (eddy__worker_gone(worker))
    return;
  eddy_mutex_lock(&ctx->lock);
  code = ctx->exit_status;
  error = ctx->error_due;
  error_code = ctx->error_code;
  error_message = ctx->error_message;
  ctx->error_message = NULL;
  eddy_mutex_unlock(&ctx->lock);
  eddy__worker_reap(worker);
  eddy__handle_stop(&worker->handle);
  if (error && worker->priv.events.error != NULL) {
    worker->priv.events.error(worker, error_code, error_message);
    eddy__after_callback(loop);
  }
  free(error_message);
  if (!eddy__handle_closing(&worker->handle) &&
      worker->priv.events.exit != NULL) {
    worker->priv.events.exit(worker, code);
    eddy__after_callback(loop);
  }
}

static struct eddy__worker_ctx *
eddy__worker_ctx_new(eddy_worker_entry entry, const eddy_buf_t *data, int env) {
  struct eddy__worker_ctx *ctx = calloc(1, sizeof(*ctx));

  if (ctx == NULL)
    return NULL;
  if (eddy_mutex_init(&ctx->lock) != 0) {
    free(ctx);
    return NULL;
  }
  ctx->entry = entry;
  if (data != NULL && data->len > 0) {
    if (data->base == NULL || (ctx->data.base = malloc(data->len)) == NULL)
      goto fail;
    memcpy(ctx->data.base, data->base, data->len);
    ctx->data.len = data->len;
  }
  if (env == EDDY_WORKER_ENV_COPY && (ctx->env = eddy__env_copy()) == NULL)
    goto fail;
  return ctx;
fail:
  eddy__worker_ctx_free(ctx);
  return NULL;
}

int eddy_worker_start(eddy_loop_t *loop, eddy_worker_t *worker,
                      eddy_worker_entry entry, const eddy_buf_t *data,
                      const eddy_worker_options_t *options) {
  static const eddy_worker_options_t defaults;
  eddy_thread_options_t topts;
  struct eddy__worker_ctx *ctx;
  struct eddy__port_end *mine;
  int err;

  if (options == NULL)
    options = &defaults;
  if (loop == NULL || worker == NULL || entry == NULL ||
      (options->env != EDDY_WORKER_ENV_COPY &&
       options->env != EDDY_WORKER_ENV_SHARE) ||
      (data != NULL && data->len > 0 && data->base == NULL))
    return EDDY_EINVAL;
  if ((ctx = eddy__worker_ctx_new(entry, data, options->env)) == NULL)
    return EDDY_ENOMEM;
  if ((err = eddy__port_ends_new(&mine, &ctx->end)) != 0)
    goto fail_ctx;
  if (options->queue_limit > 0) {
    eddy__port_end_set_limit(mine, options->queue_limit);
    eddy__port_end_set_limit(ctx->end, options->queue_limit);
  }
  err = eddy__port_open_internal(loop, &worker->priv.port, mine,
                                 eddy__worker_deliver, eddy__worker_on_message);
  if (err != 0) {
    eddy__port_end_release(mine);
    goto fail_ctx;
  }
  worker->priv.port.handle.data = worker;
  worker->priv.events = options->events;
  worker->priv.ctx = ctx;
  ctx->worker = worker;
  topts.flags = options->stack_size > 0 ? EDDY_THREAD_HAS_STACK_SIZE : 0;
  topts.stack_size = options->stack_size;
  topts.name = options->name;
  if ((err = eddy_thread_create_ex(&ctx->tid, &topts, eddy__worker_main,
                                   ctx)) != 0) {
    eddy__port_close_internal(&worker->priv.port);
    goto fail_ctx;
  }
  eddy__handle_init(loop, &worker->handle, EDDY_WORKER);
  eddy__handle_start(&worker->handle);
  return 0;
fail_ctx:
  if (ctx->end != NULL)
    eddy__port_end_release(ctx->end);
  eddy__worker_ctx_free(ctx);
  return err;
}

int eddy_worker_postv(eddy_worker_t *worker, eddy_buf_t *bufs, unsigned nbufs,
                      eddy_port_t **ports, unsigned nports, unsigned flags) {
  if (worker == NULL || eddy__handle_closing(&worker->handle))
    return EDDY_EINVAL;
  if (worker->priv.port.priv.end == NULL)
    return EDDY_EPIPE;
  return eddy_port_postv(&worker->priv.port, bufs, nbufs, ports, nports, flags);
}

int eddy_worker_post(eddy_worker_t *worker, eddy_buf_t *buf, unsigned flags) {
  return eddy_worker_postv(worker, buf, 1, NULL, 0, flags);
}

int eddy_worker_terminate(eddy_worker_t *worker) {
  struct eddy__worker_ctx *ctx;

  if (worker == NULL || eddy__handle_closing(&worker->handle))
    return EDDY_EINVAL;
  if ((ctx = worker->priv.ctx) == NULL)
    return 0;
  eddy_mutex_lock(&ctx->lock);
  ctx->terminated = 1;
  __atomic_store_n(&ctx->stop, 1, __ATOMIC_SEQ_CST);
  if (ctx->state == EDDY__WORKER_RUNNING)
    eddy_async_send(&ctx->stopper);
  eddy_mutex_unlock(&ctx->lock);
  return 0;
}

/* eddy_close on a worker: stop it if it runs, wait for its thread, and
 * free what it had; no event fires after this. */
static void eddy__worker_close(eddy_handle_t *h) {
  eddy_worker_t *worker = (eddy_worker_t *)h;

  if (worker->priv.ctx == NULL)
    return;
  eddy_worker_terminate(worker);
  eddy__worker_reap(worker);
}

const struct eddy__handle_ops eddy__worker_ops = {.close = eddy__worker_close};
