/* mailbox.c: the loop's mailboxes, through which other threads hand a
 * loop's ports and workers what they sent them.
 *
 * A loop gets one "port" part (allocated on the first mailbox, freed when
 * the loop closes) that lists its mailboxes. A sender queues its message
 * where the receiver keeps them (under that queue's own lock), sets the
 * mailbox's pending flag and, if it was the one to set it, wakes the
 * loop; after the poll phase's I/O the loop runs the deliver function of
 * every mailbox whose flag it clears, so many sends before the loop looks
 * cost one delivery round. */
#include <assert.h>
#include <stdlib.h>

#include "core/loop_internal.h"
#include "core/queue.h"
#include "core/wakeup.h"
#include "worker/port_internal.h"

struct eddy__port_part {
  struct eddy__loop_part part;
  eddy_queue_t boxes;
};

static void eddy__mailbox_wakeup(eddy_loop_t *loop,
                                 struct eddy__loop_part *part);
static void eddy__mailbox_part_close(eddy_loop_t *loop,
                                     struct eddy__loop_part *part);

static const struct eddy__loop_part_ops eddy__mailbox_part = {
    .name = "port",
    .order = EDDY__PART_PORT,
    .wakeup = eddy__mailbox_wakeup,
    .close = eddy__mailbox_part_close};

int eddy__mailbox_open(eddy_loop_t *loop, struct eddy__mailbox *box,
                       void (*deliver)(struct eddy__mailbox *box)) {
  struct eddy__loop_part *found;
  struct eddy__port_part *part;
  int err = eddy__wakeup_open(loop);

  if (err != 0)
    return err;
  found = eddy__loop_part_find(loop, &eddy__mailbox_part);
  if (found != NULL) {
    part = eddy__container_of(found, struct eddy__port_part, part);
  } else {
    part = calloc(1, sizeof(*part));
    if (part == NULL)
      return EDDY_ENOMEM;
    eddy__queue_init(&part->boxes);
    eddy__loop_part_add(loop, &part->part, &eddy__mailbox_part);
  }
  box->loop = loop;
  box->deliver = deliver;
  box->pending = 0;
  eddy__queue_insert_tail(&part->boxes, &box->node);
  return 0;
}

void eddy__mailbox_close(struct eddy__mailbox *box) {
  eddy__queue_remove(&box->node);
}

void eddy__mailbox_signal(struct eddy__mailbox *box) {
  if (__atomic_load_n(&box->pending, __ATOMIC_RELAXED) != 0)
    return;
  if (__atomic_exchange_n(&box->pending, 1, __ATOMIC_SEQ_CST) == 0)
    eddy__wakeup_signal(box->loop);
}

/* Deliver to every mailbox with something pending. A delivery may close
 * any mailbox or open new ones, so the list is walked through a
 * snapshot. */
static void eddy__mailbox_wakeup(eddy_loop_t *loop, struct eddy__loop_part *p) {
  struct eddy__port_part *part =
      eddy__container_of(p, struct eddy__port_part, part);
  eddy_queue_t batch;
  eddy_queue_t *node;

  (void)loop;
  eddy__queue_move(&part->boxes, &batch);
  while ((node = eddy__queue_next_visit(&batch, &part->boxes)) != NULL) {
    struct eddy__mailbox *box =
        eddy__container_of(node, struct eddy__mailbox, node);

    if (__atomic_exchange_n(&box->pending, 0, __ATOMIC_SEQ_CST) != 0)
      box->deliver(box);
  }
}

static void eddy__mailbox_part_close(eddy_loop_t *loop,
                                     struct eddy__loop_part *p) {
  struct eddy__port_part *part =
      eddy__container_of(p, struct eddy__port_part, part);

  (void)loop;
  assert(eddy__queue_empty(&part->boxes));
  free(part);
}
