/* handle.c: what every handle shares: close, walk, ref/unref and the state
 * queries. What differs per type is reached through the handle-ops table
 * (core/handle.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/handle.h"
#include "core/phases.h"

int eddy_close(eddy_handle_t *h, eddy_close_cb close_cb) {
  if (h->priv.flags & EDDY__HANDLE_CLOSING)
    return EDDY_EINVAL;
  if (h->priv.type <= EDDY_UNKNOWN_HANDLE ||
      h->priv.type >= EDDY_HANDLE_TYPE_MAX ||
      eddy__handle_ops[h->priv.type] == NULL)
    return EDDY_EINVAL; /* not a handle (EDDY_FILE is a guess, not a type) */
  eddy__handle_ops_of(h)->close(h);
  eddy__handle_stop(h);
  h->priv.flags |= EDDY__HANDLE_CLOSING;
  h->priv.close_cb = close_cb;
  eddy__queue_remove(&h->priv.u.node);
  eddy__queue_insert_tail(&h->loop->priv.core.closing, &h->priv.u.node);
  return 0;
}

int eddy_fileno(const eddy_handle_t *h, int *fd) {
  int (*get)(const eddy_handle_t *);

  if (h == NULL || fd == NULL || (h->priv.flags & EDDY__HANDLE_CLOSING) ||
      h->priv.type <= EDDY_UNKNOWN_HANDLE ||
      h->priv.type >= EDDY_HANDLE_TYPE_MAX ||
      eddy__handle_ops[h->priv.type] == NULL ||
      (get = eddy__handle_ops_of(h)->fileno) == NULL)
    return EDDY_EINVAL;
  if ((*fd = get(h)) < 0)
    return EDDY_EBADF;
  return 0;
}

/* Get (*value 0) or set a socket buffer size, as libuv does. */
static int eddy__buffer_size(eddy_handle_t *h, int *value, int option) {
  socklen_t len = sizeof(*value);
  int fd, err;

  if (h == NULL || value == NULL || *value < 0)
    return EDDY_EINVAL;
  if (h->priv.type != EDDY_TCP && h->priv.type != EDDY_NAMED_PIPE &&
      h->priv.type != EDDY_UDP)
    return EDDY_ENOTSUP;
  if ((err = eddy_fileno(h, &fd)) != 0)
    return err;
  if (*value == 0)
    return getsockopt(fd, SOL_SOCKET, option, value, &len) != 0 ? -errno : 0;
  return setsockopt(fd, SOL_SOCKET, option, value, len) != 0 ? -errno : 0;
}

int eddy_send_buffer_size(eddy_handle_t *h, int *value) {
  return eddy__buffer_size(h, value, SO_SNDBUF);
}

int eddy_recv_buffer_size(eddy_handle_t *h, int *value) {
  return eddy__buffer_size(h, value, SO_RCVBUF);
}

static void eddy__walk_visit(eddy_handle_t *h, eddy_walk_cb cb, void *arg) {
  if (h->priv.flags & (EDDY__HANDLE_WALKED | EDDY__HANDLE_INTERNAL))
    return;
  h->priv.flags |= EDDY__HANDLE_WALKED;
  cb(h, arg);
}

/* Visit every handle of list once, tolerating callbacks that close handles
 * (which moves them to the closing list, where the second pass meets them;
 * the WALKED mark keeps it from visiting a handle twice) or open new ones
 * (not visited). */
static void eddy__walk_list(eddy_queue_t *list, eddy_walk_cb cb, void *arg) {
  eddy_queue_t snapshot;
  eddy_queue_t *node;
  eddy_handle_t *h;

  eddy__queue_move(list, &snapshot);
  while ((node = eddy__queue_next_visit(&snapshot, list)) != NULL) {
    h = eddy__container_of(node, eddy_handle_t, priv.u.node);
    eddy__walk_visit(h, cb, arg);
  }
}

static void eddy__walk_unmark(eddy_queue_t *list) {
  eddy_queue_t *node;

  for (node = list->next; node != list; node = node->next)
    eddy__container_of(node, eddy_handle_t, priv.u.node)->priv.flags &=
        ~EDDY__HANDLE_WALKED;
}

/* Visit the open timers. Callbacks that start, stop or close timers move
 * slots around the timer array, so the timers are copied first; timers
 * closed meanwhile are still valid memory (their close callbacks have not
 * run) and are met once, here or on the closing list. Without memory for
 * the copy, rescan from the start after every callback: slower, same
 * visits. */
static void eddy__walk_timers(eddy_loop_t *loop, eddy_walk_cb cb, void *arg) {
  uint32_t n = eddy__timer_open_count(loop), i;
  eddy_handle_t **copy = n != 0 ? malloc(n * sizeof(*copy)) : NULL;

  if (copy != NULL) {
    for (i = 0; i < n; i++)
      copy[i] = eddy__timer_open_at(loop, i);
    for (i = 0; i < n; i++)
      eddy__walk_visit(copy[i], cb, arg);
    free(copy);
    return;
  }
  for (i = 0; i < eddy__timer_open_count(loop); i++) {
    eddy_handle_t *h = eddy__timer_open_at(loop, i);
    if (!(h->priv.flags & EDDY__HANDLE_WALKED)) {
      eddy__walk_visit(h, cb, arg);
      i = (uint32_t)-1; /* the loop's i++ makes it 0 */
    }
  }
}

/* Every open or closing handle once: the open-handle list, the open timers,
 * then the closing list. */
void eddy_walk(eddy_loop_t *loop, eddy_walk_cb walk_cb, void *arg) {
  uint32_t i;

  eddy__walk_list(&loop->priv.core.handles, walk_cb, arg);
  eddy__walk_timers(loop, walk_cb, arg);
  eddy__walk_list(&loop->priv.core.closing, walk_cb, arg);
  eddy__walk_unmark(&loop->priv.core.handles);
  for (i = 0; i < eddy__timer_open_count(loop); i++)
    eddy__timer_open_at(loop, i)->priv.flags &= ~EDDY__HANDLE_WALKED;
  eddy__walk_unmark(&loop->priv.core.closing);
}

void eddy_ref(eddy_handle_t *h) {
  if (h->priv.flags & EDDY__HANDLE_REF)
    return;
  h->priv.flags |= EDDY__HANDLE_REF;
  if (h->priv.flags & EDDY__HANDLE_ACTIVE)
    h->loop->priv.core.active_handles++;
}

void eddy_unref(eddy_handle_t *h) {
  if (!(h->priv.flags & EDDY__HANDLE_REF))
    return;
  h->priv.flags &= ~EDDY__HANDLE_REF;
  if (h->priv.flags & EDDY__HANDLE_ACTIVE) {
    assert(h->loop->priv.core.active_handles > 0);
    h->loop->priv.core.active_handles--;
  }
}

int eddy_has_ref(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_REF) != 0;
}

int eddy_is_active(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_ACTIVE) != 0;
}

int eddy_is_closing(const eddy_handle_t *h) {
  return (h->priv.flags & EDDY__HANDLE_CLOSING) != 0;
}

eddy_handle_type eddy_handle_get_type(const eddy_handle_t *h) {
  return (eddy_handle_type)h->priv.type;
}
