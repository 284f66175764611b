/* queue.h: the intrusive doubly linked list every subsystem shares.
 *
 * A list head is an eddy_queue_t whose next/prev point to itself when empty.
 * Nodes are embedded in the structures they link; eddy__container_of gets
 * the structure back. */
#ifndef EDDY_QUEUE_H
#define EDDY_QUEUE_H

#include <stddef.h>

#include "eddy/loop.h"

#define eddy__container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void eddy__queue_init(eddy_queue_t *q) {
  q->next = q;
  q->prev = q;
}

static inline int eddy__queue_empty(const eddy_queue_t *q) {
  return q->next == q;
}

/* Insert node at the tail of the list headed by q. */
static inline void eddy__queue_insert_tail(eddy_queue_t *q, eddy_queue_t *node) {
  node->next = q;
  node->prev = q->prev;
  q->prev->next = node;
  q->prev = node;
}

/* Unlink node and make it a self-linked (empty) node again, so removing it
 * twice is harmless. */
static inline void eddy__queue_remove(eddy_queue_t *node) {
  node->prev->next = node->next;
  node->next->prev = node->prev;
  node->next = node;
  node->prev = node;
}

/* Move every node of src to the (empty) list dst; src becomes empty. */
static inline void eddy__queue_move(eddy_queue_t *src, eddy_queue_t *dst) {
  if (eddy__queue_empty(src)) {
    eddy__queue_init(dst);
    return;
  }
  dst->next = src->next;
  dst->prev = src->prev;
  dst->next->prev = dst;
  dst->prev->next = dst;
  eddy__queue_init(src);
}

/* Visiting a list while callbacks change it: move the list to a local
 * snapshot with eddy__queue_move, then take nodes with this until it returns
 * NULL. Each node goes back to its home list before the caller sees it, so a
 * callback may remove any node (visited or not: it leaves the snapshot) and
 * nodes added meanwhile wait for the next visit. */
static inline eddy_queue_t *eddy__queue_next_visit(eddy_queue_t *snapshot,
                                                   eddy_queue_t *home) {
  eddy_queue_t *node = snapshot->next;

  if (node == snapshot)
    return NULL;
  eddy__queue_remove(node);
  eddy__queue_insert_tail(home, node);
  return node;
}

#endif /* EDDY_QUEUE_H */
