/* work_internal.h: the work pool as the requests on it (fs, dns, crypto,
 * eddy_queue_work) use it. */
#ifndef EDDY_POOL_WORK_INTERNAL_H
#define EDDY_POOL_WORK_INTERNAL_H

#include "eddy/work.h"

/* What a job is, for the pool's fairness rule: slow jobs (DNS) may hold at
 * most half the threads, rounded up, so they cannot starve file-system
 * jobs. */
enum eddy__work_kind {
  EDDY__WORK_CPU = 0,
  EDDY__WORK_FAST_IO,
  EDDY__WORK_SLOW_IO
};

/* Where a job is. Only the pool's lock holder changes QUEUED, RUNNING and
 * CANCELLED; the loop thread sets IDLE when it delivers the completion. */
enum eddy__work_state {
  EDDY__WORK_IDLE = 0, /* not on the pool */
  EDDY__WORK_QUEUED,   /* waiting for a thread */
  EDDY__WORK_RUNNING,  /* on a thread, or finished and not yet delivered */
  EDDY__WORK_CANCELLED /* taken off the queue; delivered with ECANCELED */
};

/* Every start of a request that runs on the pool (or could, when it is
 * called without a callback): eddy_cancel() reaches w through req, and
 * finds it idle until it is submitted. */
static inline void eddy__req_init_pool(eddy_req_t *req, eddy_req_type type,
                                       eddy__work_t *w) {
  req->type = type;
  req->priv.work = w;
  w->state = EDDY__WORK_IDLE;
  w->req_type = (int)type;
}

/* Submit w: work runs on a pool thread; done runs on the loop thread with 0
 * or EDDY_ECANCELED, and the request counts as active until then. Loop
 * thread, or a work function of a job of the same loop. */
int eddy__work_submit(eddy_loop_t *loop, eddy__work_t *w,
                      enum eddy__work_kind kind, void (*work)(eddy__work_t *w),
                      void (*done)(eddy__work_t *w, int status));
/* The pool now: threads started, of them those not asleep waiting for a
 * job, and jobs waiting for a thread. Any thread (takes the pool lock). */
void eddy__pool_stats(unsigned *threads, unsigned *busy, unsigned *queued);

/* 0, or EDDY_EBUSY when the job already started. */
int eddy__work_cancel(eddy__work_t *w);

#endif /* EDDY_POOL_WORK_INTERNAL_H */
