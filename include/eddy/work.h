/* eddy/work.h: the work pool.
 *
 * One pool per process, started by the first job, shared by every loop in
 * every thread. It has 4 threads, or EDDY_THREADPOOL_SIZE read once when the
 * pool starts (as Node reads UV_THREADPOOL_SIZE: a value that is 0 or not a
 * number gives 1, values above 1024 give 1024). Jobs start in submission
 * order. A job's work callback runs on a pool thread; its after-work
 * callback runs on the submitting loop's thread, in the poll phase, and
 * until then the job keeps that loop alive.
 *
 * File-system, crypto and DNS requests are jobs on the same pool, so a pool
 * kept busy by long jobs delays all of them: that is Node's model.
 */
#ifndef EDDY_WORK_H
#define EDDY_WORK_H

#include "crypto.h" /* eddy_hash_alg */
#include "export.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A job on the work pool (private; embedded in every request that uses the
 * pool). work runs on a pool thread; done runs on the loop thread with 0 or
 * EDDY_ECANCELED. */
typedef struct eddy__work_s eddy__work_t;
struct eddy__work_s {
  void (*work)(eddy__work_t *w);
  void (*done)(eddy__work_t *w, int status);
  eddy_loop_t *loop;
  eddy_queue_t node;       /* pool queue while waiting to start */
  eddy__work_t *next_done; /* loop's completion stack */
  uint64_t seq;            /* submission order across the pool's queues */
  int kind;                /* enum eddy__work_kind, src/pool/work_internal.h */
  int state;               /* enum eddy__work_state, same header */
  int req_type;            /* eddy_req_type of the request it serves */
  uint64_t queued_ns;      /* eddy_hrtime() at submission with metrics on */
  uint64_t started_ns;     /* when a thread took it (0: never, or off) */
};

typedef struct eddy_work_s eddy_work_t;
typedef void (*eddy_work_cb)(eddy_work_t *req);
typedef void (*eddy_after_work_cb)(eddy_work_t *req, int status);

struct eddy_work_s {
  eddy_req_t req; /* req.data is yours */
  eddy_loop_t *loop;
  struct {
    eddy_work_cb work_cb;
    eddy_after_work_cb after_work_cb;
    eddy__work_t work;
  } priv;
};

/* Queue work_cb to run on a pool thread; after_work_cb (may be NULL) then
 * runs on the loop's thread with status 0, or EDDY_ECANCELED if the job was
 * cancelled before it started. The request must stay valid until then.
 * Returns 0, EDDY_EINVAL (work_cb NULL), or an error starting the pool or
 * the loop's wake-up descriptor (EDDY_EAGAIN, EDDY_EMFILE, ...).
 * Call it from the loop's thread, or from a work callback of a job queued on
 * the same loop. */
EDDY_EXTERN int eddy_queue_work(eddy_loop_t *loop, eddy_work_t *req,
                                eddy_work_cb work_cb,
                                eddy_after_work_cb after_work_cb);

/* Cancel a pool request (work, file system, DNS, crypto) that has not
 * started: its completion callback runs in the loop's next poll phase with
 * EDDY_ECANCELED. Returns 0, EDDY_EBUSY if the job is running or finished,
 * or EDDY_EINVAL for a request that never uses the pool. Loop thread. */
EDDY_EXTERN int eddy_cancel(eddy_req_t *req);

/* The number of pool threads, starting the pool if it is not running.
 * Returns a negative error if the pool could not start. Any thread. */
EDDY_EXTERN int eddy_threadpool_size(void);

/* ------------------------------------------------------------------------ */
/* Crypto jobs: eddy_pbkdf2() and eddy_random_bytes() (eddy/crypto.h) on    */
/* the pool, as Node's crypto.pbkdf2 and crypto.randomBytes.                */

typedef struct eddy_crypto_req_s eddy_crypto_req_t;
/* status: 0, EDDY_ECANCELED, or the error the synchronous call returns. */
typedef void (*eddy_crypto_cb)(eddy_crypto_req_t *req, int status);

struct eddy_crypto_req_s {
  eddy_req_t req; /* req.data is yours */
  eddy_loop_t *loop;
  struct {
    eddy_crypto_cb cb;
    int op;
    eddy_hash_alg alg;
    const void *password;
    size_t pwlen;
    const void *salt;
    size_t saltlen;
    uint32_t iterations;
    void *out;
    size_t outlen;
    int status;
    eddy__work_t work;
  } priv;
};

/* eddy_pbkdf2() on a pool thread; cb runs on the loop's thread. password,
 * salt and out are borrowed, not copied: they must stay valid until cb.
 * Arguments are checked at once: the call returns what eddy_pbkdf2()
 * would for bad ones (EDDY_EINVAL), or an error starting the pool, and then
 * cb is never called. cb must not be NULL (use eddy_pbkdf2 to run inline).
 * Loop thread. Cancellable with eddy_cancel(). */
EDDY_EXTERN int eddy_queue_pbkdf2(eddy_loop_t *loop, eddy_crypto_req_t *req,
                                  eddy_hash_alg alg, const void *password,
                                  size_t pwlen, const void *salt,
                                  size_t saltlen, uint32_t iterations,
                                  uint8_t *out, size_t outlen,
                                  eddy_crypto_cb cb);

/* eddy_random_bytes() on a pool thread; cb runs on the loop's thread with
 * buf filled. buf must stay valid until cb. Returns 0, EDDY_EINVAL (buf NULL
 * with len > 0, or cb NULL), or an error starting the pool. Loop thread.
 * Cancellable with eddy_cancel(). */
EDDY_EXTERN int eddy_queue_random(eddy_loop_t *loop, eddy_crypto_req_t *req,
                                  void *buf, size_t len, eddy_crypto_cb cb);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_WORK_H */
