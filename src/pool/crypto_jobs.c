/* crypto_jobs.c: PBKDF2 and random bytes as work-pool jobs (Node's async
 * crypto.pbkdf2 and crypto.randomBytes). The job runs the synchronous
 * function on a pool thread and keeps its result for the callback. The
 * primitives (src/crypto/) know nothing of the loop; this file is the glue. */
#include "core/handle.h"
#include "crypto/crypto_internal.h"
#include "pool/work_internal.h"

enum { EDDY__CRYPTO_PBKDF2 = 1, EDDY__CRYPTO_RANDOM };

static void eddy__crypto_work(eddy__work_t *w) {
  eddy_crypto_req_t *req = eddy__container_of(w, eddy_crypto_req_t, priv.work);

  if (req->priv.op == EDDY__CRYPTO_PBKDF2)
    req->priv.status =
        eddy_pbkdf2(req->priv.alg, req->priv.password, req->priv.pwlen,
                    req->priv.salt, req->priv.saltlen, req->priv.iterations,
                    req->priv.out, req->priv.outlen);
  else
    req->priv.status = eddy_random_bytes(req->priv.out, req->priv.outlen);
}

static void eddy__crypto_done(eddy__work_t *w, int status) {
  eddy_crypto_req_t *req = eddy__container_of(w, eddy_crypto_req_t, priv.work);

  req->priv.cb(req, status != 0 ? status : req->priv.status);
}

static int eddy__crypto_submit(eddy_loop_t *loop, eddy_crypto_req_t *req,
                               int op, eddy_crypto_cb cb) {
  eddy__req_init_pool(&req->req, EDDY_CRYPTO, &req->priv.work);
  req->loop = loop;
  req->priv.op = op;
  req->priv.cb = cb;
  req->priv.status = 0;
  return eddy__work_submit(loop, &req->priv.work, EDDY__WORK_CPU,
                           eddy__crypto_work, eddy__crypto_done);
}

int eddy_queue_pbkdf2(eddy_loop_t *loop, eddy_crypto_req_t *req,
                      eddy_hash_alg alg, const void *password, size_t pwlen,
                      const void *salt, size_t saltlen, uint32_t iterations,
                      uint8_t *out, size_t outlen, eddy_crypto_cb cb) {
  int err = eddy__pbkdf2_check(alg, password, pwlen, salt, saltlen, iterations,
                               out, outlen);

  if (err != 0)
    return err;
  if (cb == NULL)
    return EDDY_EINVAL;
  req->priv.alg = alg;
  req->priv.password = password;
  req->priv.pwlen = pwlen;
  req->priv.salt = salt;
  req->priv.saltlen = saltlen;
  req->priv.iterations = iterations;
  req->priv.out = out;
  req->priv.outlen = outlen;
  return eddy__crypto_submit(loop, req, EDDY__CRYPTO_PBKDF2, cb);
}

int eddy_queue_random(eddy_loop_t *loop, eddy_crypto_req_t *req, void *buf,
                      size_t len, eddy_crypto_cb cb) {
  if ((buf == NULL && len > 0) || cb == NULL)
    return EDDY_EINVAL;
  req->priv.out = buf;
  req->priv.outlen = len;
  return eddy__crypto_submit(loop, req, EDDY__CRYPTO_RANDOM, cb);
}
