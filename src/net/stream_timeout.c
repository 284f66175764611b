/* stream_timeout.c: idle timeouts on streams (Node's socket.setTimeout).
 *
 * A stream with a timeout owns a small block with one timer. Activity (a
 * read that got bytes, a write queued or finished) only stores the loop
 * time in the block: the timer is never moved on the hot path. When it
 * fires, it looks at the last activity and, if the stream was busy since,
 * sleeps again for what is left of the period; so a busy connection costs
 * one timer-heap operation per period, whatever its traffic. Once it
 * reports, it waits for the next activity to start a new period. */
#include <stdlib.h>

#include "core/handle.h"
#include "core/loop_internal.h"
#include "eddy/timer.h"
#include "net/stream_internal.h"

struct eddy__stream_timeout {
  eddy_timer_t timer;
  eddy_stream_t *stream; /* NULL once the stream let go of the block */
  eddy_stream_timeout_cb cb;
  uint64_t ms;
  uint64_t last_active; /* loop time of the last activity */
  int reported;         /* this idle period was reported already */
};

static void eddy__stream_timeout_fire(eddy_timer_t *timer) {
  struct eddy__stream_timeout *t =
      eddy__container_of(timer, struct eddy__stream_timeout, timer);
  uint64_t now = eddy_now(timer->handle.loop);
  uint64_t due = t->last_active + t->ms;

  assert(t->stream != NULL && !t->reported);
  if (now < due) { /* busy meanwhile: the rest of the period */
    eddy_timer_start(&t->timer, eddy__stream_timeout_fire, due - now, 0);
    return;
  }
  t->reported = 1;
  t->cb(t->stream);
  eddy__after_callback(timer->handle.loop);
}

static void eddy__stream_timeout_free(eddy_handle_t *h) {
  free(eddy__container_of((eddy_timer_t *)h, struct eddy__stream_timeout,
                          timer));
}

void eddy__stream_timeout_touch_slow(eddy_stream_t *s) {
  struct eddy__stream_timeout *t = s->priv.timeout;

  t->last_active = eddy_now(s->handle.loop);
  if (t->reported) { /* a new idle period starts */
    t->reported = 0;
    eddy_timer_start(&t->timer, eddy__stream_timeout_fire, t->ms, 0);
  }
}

void eddy__stream_timeout_close(eddy_stream_t *s) {
  struct eddy__stream_timeout *t = s->priv.timeout;

  if (t == NULL)
    return;
  s->priv.timeout = NULL;
  t->stream = NULL;
  eddy_close(&t->timer.handle, eddy__stream_timeout_free);
}

int eddy_stream_set_timeout(eddy_stream_t *s, uint64_t ms,
                            eddy_stream_timeout_cb cb) {
  struct eddy__stream_timeout *t;

  if (s == NULL || eddy__handle_closing(&s->handle) || (ms != 0 && cb == NULL))
    return EDDY_EINVAL;
  if (ms == 0) {
    eddy__stream_timeout_close(s);
    return 0;
  }
  t = s->priv.timeout;
  if (t == NULL) {
    t = calloc(1, sizeof(*t));
    if (t == NULL)
      return EDDY_ENOMEM;
    eddy_timer_init(s->handle.loop, &t->timer);
    t->timer.handle.priv.flags |= EDDY__HANDLE_INTERNAL;
    eddy_unref(&t->timer.handle); /* the stream keeps the loop, not this */
    t->stream = s;
    s->priv.timeout = t;
  }
  t->cb = cb;
  t->ms = ms;
  t->reported = 0;
  t->last_active = eddy_now(s->handle.loop);
  eddy_timer_start(&t->timer, eddy__stream_timeout_fire, ms, 0);
  return 0;
}
