/* eddy/shared_buffer.h: memory shared by threads (Node's
 * SharedArrayBuffer).
 *
 * A shared buffer is never copied: every thread that holds a reference
 * sees the same bytes, and the memory is freed when the last reference is
 * dropped. To hand one to a worker, take a reference for it
 * (eddy_shared_buffer_ref) and post the pointer (its bytes, or in the
 * start data); the receiver drops that reference when done. The bytes
 * themselves are plain memory: threads that touch the same bytes
 * synchronise with atomics (__atomic_* or <stdatomic.h>) or with the
 * locks of eddy/thread.h, and wait for a change of a 32-bit word with
 * eddy_atomic_wait / eddy_atomic_notify (Atomics.wait / Atomics.notify).
 * Waiting on a loop's thread blocks that loop, its timers and I/O, until
 * the wait returns, as Atomics.wait does on Node's main thread.
 */
#ifndef EDDY_SHARED_BUFFER_H
#define EDDY_SHARED_BUFFER_H

#include "export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy__shared_buffer eddy_shared_buffer_t;

/* A new shared buffer of len bytes (0 allowed), zeroed, aligned to 64
 * bytes, with one reference, the caller's. Returns NULL if there is no
 * memory. Any thread. */
EDDY_EXTERN eddy_shared_buffer_t *eddy_shared_buffer_new(size_t len);

/* Take one more reference; returns buf (NULL for NULL). Any thread. */
EDDY_EXTERN eddy_shared_buffer_t *
eddy_shared_buffer_ref(eddy_shared_buffer_t *buf);

/* Drop a reference; the last one frees the memory, which no thread may
 * touch after that. NULL is ignored. Any thread. */
EDDY_EXTERN void eddy_shared_buffer_unref(eddy_shared_buffer_t *buf);

/* The bytes (NULL for NULL), valid while the caller holds a reference.
 * Any thread. */
EDDY_EXTERN void *eddy_shared_buffer_data(const eddy_shared_buffer_t *buf);

/* The length in bytes (0 for NULL). Any thread. */
EDDY_EXTERN size_t eddy_shared_buffer_len(const eddy_shared_buffer_t *buf);

/* The references held now (0 for NULL): a snapshot, for tests and
 * diagnostics. Any thread. */
EDDY_EXTERN unsigned eddy_shared_buffer_refs(const eddy_shared_buffer_t *buf);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_SHARED_BUFFER_H */
