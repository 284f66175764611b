/* shared_buffer.c: reference-counted memory shared by threads. The header
 * and the bytes are one allocation; the bytes start on a cache line of
 * their own so that counters in them do not share a line with the
 * reference count. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eddy/shared_buffer.h"

#define EDDY__SHARED_ALIGN 64

struct eddy__shared_buffer {
  unsigned refs; /* atomic */
  size_t len;
  unsigned char *bytes;
};

eddy_shared_buffer_t *eddy_shared_buffer_new(size_t len) {
  size_t head = (sizeof(struct eddy__shared_buffer) + EDDY__SHARED_ALIGN - 1) /
                EDDY__SHARED_ALIGN * EDDY__SHARED_ALIGN;
  struct eddy__shared_buffer *buf;
  size_t total;

  if (len > SIZE_MAX - head - EDDY__SHARED_ALIGN)
    return NULL;
  total = (head + len + EDDY__SHARED_ALIGN - 1) / EDDY__SHARED_ALIGN *
          EDDY__SHARED_ALIGN;
  buf = aligned_alloc(EDDY__SHARED_ALIGN, total);
  if (buf == NULL)
    return NULL;
  memset(buf, 0, total);
  buf->refs = 1;
  buf->len = len;
  buf->bytes = (unsigned char *)buf + head;
  return buf;
}

eddy_shared_buffer_t *eddy_shared_buffer_ref(eddy_shared_buffer_t *buf) {
  if (buf != NULL) {
    unsigned before = __atomic_fetch_add(&buf->refs, 1, __ATOMIC_RELAXED);

    assert(before > 0);
    (void)before;
  }
  return buf;
}

void eddy_shared_buffer_unref(eddy_shared_buffer_t *buf) {
  if (buf == NULL)
    return;
  /* Release so every thread's writes come before the free; acquire on the
   * last, so the free comes after them. */
  if (__atomic_fetch_sub(&buf->refs, 1, __ATOMIC_ACQ_REL) == 1)
    free(buf);
}

void *eddy_shared_buffer_data(const eddy_shared_buffer_t *buf) {
  return buf != NULL ? buf->bytes : NULL;
}

size_t eddy_shared_buffer_len(const eddy_shared_buffer_t *buf) {
  return buf != NULL ? buf->len : 0;
}

unsigned eddy_shared_buffer_refs(const eddy_shared_buffer_t *buf) {
  return buf != NULL ? __atomic_load_n(&buf->refs, __ATOMIC_RELAXED) : 0;
}
