/* worker_shared.c: workers adding into shared memory, and a wait for a
 * notify.
 *
 * Four workers each add 1 to a counter in a shared buffer 1,000,000 times
 * with an atomic add; a fifth worker waits (eddy_atomic_wait, Atomics.wait)
 * until the main thread, having seen every adder exit, stores the total in
 * a second word and notifies it. Expected output:
 *
 *   counter = 4000000 (expected 4000000)
 *   waiter woke with 4000000
 *
 * Why: a shared buffer is not copied to the workers: each holds a
 * reference to the same memory, and atomics make the concurrent adds
 * exact. The waiter blocks its own thread (and its loop) only; the main
 * loop goes on. Exit status 0 when both figures are right. */
#include <eddy.h>

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ADDERS 4
#define ADDS 1000000

static eddy_worker_t adders[ADDERS], waiter;
static eddy_shared_buffer_t *shared;
static int exited, woke_right;

static eddy_shared_buffer_t *buffer_of(const eddy_buf_t *data) {
  eddy_shared_buffer_t *buf;

  memcpy(&buf, data->base, sizeof(buf));
  return buf;
}

static int add(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_shared_buffer_t *buf = buffer_of(data);
  uint32_t *words = eddy_shared_buffer_data(buf);
  int i;

  (void)ctx;
  for (i = 0; i < ADDS; i++)
    __atomic_fetch_add(&words[0], 1, __ATOMIC_RELAXED);
  eddy_shared_buffer_unref(buf);
  return 0;
}

static int wait_for_total(eddy_worker_ctx_t *ctx, const eddy_buf_t *data) {
  eddy_shared_buffer_t *buf = buffer_of(data);
  uint32_t *words = eddy_shared_buffer_data(buf);
  uint32_t total;
  eddy_buf_t msg;

  while ((total = __atomic_load_n(&words[1], __ATOMIC_ACQUIRE)) == 0)
    eddy_atomic_wait(&words[1], 0, -1);
  msg = eddy_buf_init(&total, sizeof(total));
  eddy_port_post(eddy_worker_parent_port(ctx), &msg, 0);
  eddy_shared_buffer_unref(buf);
  return 0;
}

static void on_total(eddy_worker_t *w, eddy_port_message_t *m) {
  uint32_t total;

  (void)w;
  memcpy(&total, m->bufs[0].base, sizeof(total));
  printf("waiter woke with %u\n", total);
  woke_right = total == ADDERS * ADDS;
}

static void on_exit_(eddy_worker_t *w, int code) {
  uint32_t *words = eddy_shared_buffer_data(shared);

  (void)code;
  eddy_close(&w->handle, NULL);
  if (w != &waiter && ++exited == ADDERS) {
    uint32_t total = __atomic_load_n(&words[0], __ATOMIC_SEQ_CST);

    printf("counter = %u (expected %u)\n", total, ADDERS * ADDS);
    __atomic_store_n(&words[1], total, __ATOMIC_RELEASE);
    eddy_atomic_notify(&words[1], 1); /* a waiter not yet asleep sees it */
  }
}

static int start(eddy_loop_t *loop, eddy_worker_t *w, eddy_worker_entry entry) {
  eddy_worker_options_t opts;
  eddy_shared_buffer_t *ref = eddy_shared_buffer_ref(shared);
  eddy_buf_t data = eddy_buf_init(&ref, sizeof(ref));

  memset(&opts, 0, sizeof(opts));
  opts.events.message = on_total;
  opts.events.exit = on_exit_;
  return eddy_worker_start(loop, w, entry, &data, &opts);
}

int main(void) {
  eddy_loop_t *loop = eddy_default_loop();
  int i;

  shared = eddy_shared_buffer_new(2 * sizeof(uint32_t));
  if (shared == NULL || start(loop, &waiter, wait_for_total) != 0)
    return 1;
  for (i = 0; i < ADDERS; i++)
    if (start(loop, &adders[i], add) != 0)
      return 1;
  eddy_run(loop, EDDY_RUN_DEFAULT);
  i = ((uint32_t *)eddy_shared_buffer_data(shared))[0] == ADDERS * ADDS &&
      woke_right;
  eddy_shared_buffer_unref(shared);
  return i ? 0 : 1;
}
