/* async_progress.c: a thread reports its progress to the loop.
 *
 * A worker thread (a plain pthread, not the work pool) does 10 steps of
 * about 10 ms each. After each step it stores the step number in an
 * atomic counter and calls eddy_async_send(), the one eddy call that is
 * safe from any thread. The loop's async callback reads the counter and
 * prints it. When it has seen step 3 the callback blocks the loop for
 * 35 ms, as a busy handler would. Typical output:
 *
 *   worker: 10 steps of 10 ms
 *   progress: 1 of 10
 *   progress: 2 of 10
 *   progress: 3 of 10, now the loop is busy for 35 ms
 *   progress: 6 of 10, 3 steps in one wake-up
 *   progress: 7 of 10
 *   progress: 8 of 10
 *   progress: 9 of 10
 *   progress: 10 of 10
 *   done: 10 steps, 8 wake-ups for 10 sends
 *
 * What it shows: sends coalesce. However many eddy_async_send() calls
 * arrive while the loop is busy, the callback runs once for them, on the
 * loop's thread, in the poll phase. So the async handle carries no data of
 * its own: the data goes through memory both threads share (here an
 * atomic counter), and the callback reads the latest state, not one
 * message per send. The exact lines depend on timing (a slow machine may
 * merge more steps); the last line always reports step 10.
 *
 * The worker's last send comes before the callback that sees step 10
 * closes the handle, and a send that overlaps eddy_close() is safe; the
 * thread is joined after the loop ends. Exit status 0 when the progress
 * seen only went up and ended at 10. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <eddy.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define STEPS 10
#define STEP_MS 10
#define BUSY_AT 3
#define BUSY_MS 35

static eddy_async_t progress_async;
static atomic_int progress;
static int last_seen, wakeups, failed;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* The worker thread: one step, one report, STEPS times. */
static void *worker(void *arg) {
  int step;

  (void)arg;
  for (step = 1; step <= STEPS; step++) {
    sleep_ms(STEP_MS); /* the work of one step */
    atomic_store(&progress, step);
    eddy_async_send(&progress_async);
  }
  return NULL;
}

/* On the loop's thread, once per wake-up, however many sends it covers. */
static void on_progress(eddy_async_t *async) {
  int now = atomic_load(&progress);

  wakeups++;
  if (now < last_seen)
    failed = 1; /* progress never goes back */
  if (now <= last_seen)
    return; /* a send that came after this step was already read */
  if (now - last_seen > 1)
    printf("progress: %d of %d, %d steps in one wake-up\n", now, STEPS,
           now - last_seen);
  else if (now == BUSY_AT)
    printf("progress: %d of %d, now the loop is busy for %d ms\n", now, STEPS,
           BUSY_MS);
  else
    printf("progress: %d of %d\n", now, STEPS);
  fflush(stdout);
  last_seen = now;
  if (now == BUSY_AT)
    sleep_ms(BUSY_MS); /* blocks the loop: the next sends pile up */
  if (now == STEPS)
    eddy_close(&async->handle, NULL);
}

int main(void) {
  eddy_loop_t loop;
  pthread_t thread;

  if (eddy_loop_init(&loop) != 0 ||
      eddy_async_init(&loop, &progress_async, on_progress) != 0)
    return 1;
  printf("worker: %d steps of %d ms\n", STEPS, STEP_MS);
  if (pthread_create(&thread, NULL, worker, NULL) != 0)
    return 1;
  /* The async handle keeps the loop alive until it is closed. */
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  pthread_join(thread, NULL);
  if (eddy_loop_close(&loop) != 0)
    failed = 1;
  printf("done: %d steps, %d wake-ups for %d sends\n", last_seen, wakeups,
         STEPS);
  return !failed && last_seen == STEPS ? 0 : 1;
}
