/*
 * eddy/crypto.h - dependency-free cryptographic primitives.
 *
 * SHA-1, SHA-256 and SHA-512 (FIPS 180-4), HMAC (RFC 2104), PBKDF2
 * (RFC 8018), a CSPRNG front-end over getrandom(2) / /dev/urandom and a
 * constant-time memory comparison.
 *
 * Conventions shared by every function in this header:
 *
 *  - Functions returning int return 0 on success or a negative error code
 *    from eddy/errno.h (e.g. EDDY_EINVAL) on failure. Bad caller input never
 *    aborts the process. eddy_timingsafe_equal() is the one exception: it
 *    returns 1 or 0.
 *  - Contexts are plain structs owned by the caller (stack,
 *    heap or embedded); nothing here allocates memory. Treat their fields as
 *    private. A context may be copied with memcpy/assignment to fork a
 *    computation (e.g. hash a common prefix once).
 *  - Every function is reentrant and thread-safe as long as a given context
 *    is not used by two threads at the same time. Contexts are never shared
 *    implicitly; there is no global state except the file descriptor
 *    briefly opened by the /dev/urandom fallback.
 *  - Input buffers are borrowed for the duration of the call only. A NULL
 *    data pointer is accepted when the matching length is 0.
 *  - Output buffers must hold at least the documented number of bytes.
 *
 * Nothing here knows the event loop. eddy_pbkdf2() and eddy_random_bytes()
 * as jobs on the work pool (eddy_queue_pbkdf2, eddy_queue_random) are in
 * eddy/work.h.
 */
#ifndef EDDY_CRYPTO_H
#define EDDY_CRYPTO_H

#include "export.h"

#include <stddef.h>
#include <stdint.h>

#include "errno.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EDDY_SHA1_DIGEST_SIZE 20
#define EDDY_SHA1_BLOCK_SIZE 64
#define EDDY_SHA256_DIGEST_SIZE 32
#define EDDY_SHA256_BLOCK_SIZE 64
#define EDDY_SHA512_DIGEST_SIZE 64
#define EDDY_SHA512_BLOCK_SIZE 128

/* Largest digest / block size of any supported algorithm. */
#define EDDY_HASH_MAX_DIGEST_SIZE EDDY_SHA512_DIGEST_SIZE
#define EDDY_HASH_MAX_BLOCK_SIZE EDDY_SHA512_BLOCK_SIZE

/* Hash algorithm selector for HMAC and PBKDF2. */
typedef enum eddy_hash_alg {
  EDDY_HASH_SHA1 = 1,
  EDDY_HASH_SHA256 = 2,
  EDDY_HASH_SHA512 = 3
} eddy_hash_alg;

/* SHA-1 streaming state. Private fields; initialise with eddy_sha1_init. */
typedef struct eddy_sha1_ctx_s {
  uint32_t state[5];
  uint64_t count;                       /* bytes hashed so far */
  uint8_t buf[EDDY_SHA1_BLOCK_SIZE];    /* pending partial block */
} eddy_sha1_ctx_t;

/* SHA-256 streaming state. Private fields; initialise with eddy_sha256_init. */
typedef struct eddy_sha256_ctx_s {
  uint32_t state[8];
  uint64_t count;
  uint8_t buf[EDDY_SHA256_BLOCK_SIZE];
} eddy_sha256_ctx_t;

/* SHA-512 streaming state. Private fields; initialise with eddy_sha512_init. */
typedef struct eddy_sha512_ctx_s {
  uint64_t state[8];
  uint64_t count;
  uint8_t buf[EDDY_SHA512_BLOCK_SIZE];
} eddy_sha512_ctx_t;

/* Any one of the hash contexts; which member is live is tracked elsewhere. */
typedef union eddy_hash_ctx_s {
  eddy_sha1_ctx_t sha1;
  eddy_sha256_ctx_t sha256;
  eddy_sha512_ctx_t sha512;
} eddy_hash_ctx_t;

/* HMAC streaming state. Private fields; initialise with eddy_hmac_init. */
typedef struct eddy_hmac_ctx_s {
  eddy_hash_alg alg;
  eddy_hash_ctx_t inner;  /* H(K ^ ipad || message ...) */
  eddy_hash_ctx_t outer;  /* H(K ^ opad || ...), already fed the key block */
} eddy_hmac_ctx_t;

/* ------------------------------------------------------------------------ */
/* SHA-1. Provided for interoperability (RFC 6455, TOTP, legacy PBKDF2);    */
/* it is not collision resistant and must not be used for new signatures.   */

/* Reset ctx to the SHA-1 initial state.
 * Errors: EDDY_EINVAL if ctx is NULL. */
EDDY_EXTERN int eddy_sha1_init(eddy_sha1_ctx_t *ctx);

/* Absorb len bytes of data into ctx. May be called any number of times.
 * Errors: EDDY_EINVAL if ctx is NULL or data is NULL with len > 0;
 * EDDY_EOVERFLOW if the total message would exceed 2^61 - 1 bytes. On error
 * the context is left unchanged. */
EDDY_EXTERN int eddy_sha1_update(eddy_sha1_ctx_t *ctx, const void *data,
                                 size_t len);

/* Finish the hash and write EDDY_SHA1_DIGEST_SIZE bytes to out. The
 * context is wiped afterwards; call eddy_sha1_init to reuse it.
 * Errors: EDDY_EINVAL if ctx or out is NULL. */
EDDY_EXTERN int eddy_sha1_final(eddy_sha1_ctx_t *ctx, uint8_t *out);

/* One-shot SHA-1 of data[0..len) into out (EDDY_SHA1_DIGEST_SIZE bytes).
 * Errors: EDDY_EINVAL if out is NULL or data is NULL with len > 0. */
EDDY_EXTERN int eddy_sha1(const void *data, size_t len, uint8_t *out);

/* ------------------------------------------------------------------------ */
/* SHA-256. Same contract as the SHA-1 functions above.                     */

/* Reset ctx to the SHA-256 initial state.
 * Errors: EDDY_EINVAL if ctx is NULL. */
EDDY_EXTERN int eddy_sha256_init(eddy_sha256_ctx_t *ctx);

/* Absorb len bytes. Errors: EDDY_EINVAL (NULL ctx, or NULL data with
 * len > 0), EDDY_EOVERFLOW (total message over 2^61 - 1 bytes); ctx
 * unchanged on error. */
EDDY_EXTERN int eddy_sha256_update(eddy_sha256_ctx_t *ctx, const void *data,
                                   size_t len);

/* Write EDDY_SHA256_DIGEST_SIZE bytes to out and wipe ctx.
 * Errors: EDDY_EINVAL if ctx or out is NULL. */
EDDY_EXTERN int eddy_sha256_final(eddy_sha256_ctx_t *ctx, uint8_t *out);

/* One-shot SHA-256 into out (EDDY_SHA256_DIGEST_SIZE bytes).
 * Errors: EDDY_EINVAL if out is NULL or data is NULL with len > 0. */
EDDY_EXTERN int eddy_sha256(const void *data, size_t len, uint8_t *out);

/* ------------------------------------------------------------------------ */
/* SHA-512. Same contract as the SHA-1 functions above.                     */

/* Reset ctx to the SHA-512 initial state.
 * Errors: EDDY_EINVAL if ctx is NULL. */
EDDY_EXTERN int eddy_sha512_init(eddy_sha512_ctx_t *ctx);

/* Absorb len bytes. Errors: EDDY_EINVAL (NULL ctx, or NULL data with
 * len > 0), EDDY_EOVERFLOW (total message over 2^64 - 1 bytes); ctx
 * unchanged on error. */
EDDY_EXTERN int eddy_sha512_update(eddy_sha512_ctx_t *ctx, const void *data,
                                   size_t len);

/* Write EDDY_SHA512_DIGEST_SIZE bytes to out and wipe ctx.
 * Errors: EDDY_EINVAL if ctx or out is NULL. */
EDDY_EXTERN int eddy_sha512_final(eddy_sha512_ctx_t *ctx, uint8_t *out);

/* One-shot SHA-512 into out (EDDY_SHA512_DIGEST_SIZE bytes).
 * Errors: EDDY_EINVAL if out is NULL or data is NULL with len > 0. */
EDDY_EXTERN int eddy_sha512(const void *data, size_t len, uint8_t *out);

/* ------------------------------------------------------------------------ */
/* Algorithm metadata.                                                      */

/* Digest size in bytes of alg (20, 32 or 64).
 * Errors: EDDY_EINVAL for a value that is not an eddy_hash_alg. */
EDDY_EXTERN int eddy_hash_digest_size(eddy_hash_alg alg);

/* Block size in bytes of alg (64 or 128).
 * Errors: EDDY_EINVAL for a value that is not an eddy_hash_alg. */
EDDY_EXTERN int eddy_hash_block_size(eddy_hash_alg alg);

/* ------------------------------------------------------------------------ */
/* HMAC (RFC 2104) over SHA-1 / SHA-256 / SHA-512.                          */

/* Start an HMAC computation with the given key. Keys longer than the
 * algorithm's block size are hashed first, as RFC 2104 requires. The key
 * is not retained by pointer; ctx holds only derived hash states, so the
 * caller may wipe the key immediately. A zero-length key is valid.
 * Errors: EDDY_EINVAL if ctx is NULL, alg is unknown, or key is NULL with
 * keylen > 0. */
EDDY_EXTERN int eddy_hmac_init(eddy_hmac_ctx_t *ctx, eddy_hash_alg alg,
                               const void *key, size_t keylen);

/* Absorb len bytes of message data.
 * Errors: EDDY_EINVAL if ctx is NULL or holds no valid algorithm (as after
 * eddy_hmac_final wiped it), or data is NULL with len > 0; EDDY_EOVERFLOW as
 * for the underlying hash's update. */
EDDY_EXTERN int eddy_hmac_update(eddy_hmac_ctx_t *ctx, const void *data,
                                 size_t len);

/* Write the MAC (eddy_hash_digest_size(alg) bytes) to out and wipe ctx;
 * call eddy_hmac_init again to reuse it. Compare MACs with
 * eddy_timingsafe_equal, never memcmp.
 * Errors: EDDY_EINVAL if ctx or out is NULL or ctx holds no valid algorithm. */
EDDY_EXTERN int eddy_hmac_final(eddy_hmac_ctx_t *ctx, uint8_t *out);

/* One-shot HMAC: out receives eddy_hash_digest_size(alg) bytes.
 * Errors: EDDY_EINVAL for an unknown alg, NULL out, or a NULL key/data pointer
 * with a non-zero length. */
EDDY_EXTERN int eddy_hmac(eddy_hash_alg alg, const void *key, size_t keylen,
                          const void *data, size_t len, uint8_t *out);

/* ------------------------------------------------------------------------ */
/* PBKDF2 (RFC 8018 section 5.2) with HMAC-alg as the PRF.                  */

/* Derive outlen bytes from password and salt with the given iteration
 * count, writing them to out. Runs synchronously and takes time linear in
 * iterations * ceil(outlen / digest size): call it from a worker thread if
 * the caller must stay responsive. Empty passwords and salts are accepted.
 * Errors: EDDY_EINVAL if alg is unknown, iterations == 0, out is NULL,
 * outlen == 0, outlen exceeds the RFC limit (2^32 - 1) * digest size, or
 * password/salt is NULL with a non-zero length. out is untouched on error. */
EDDY_EXTERN int eddy_pbkdf2(eddy_hash_alg alg, const void *password,
                            size_t pwlen, const void *salt, size_t saltlen,
                            uint32_t iterations, uint8_t *out, size_t outlen);

/* ------------------------------------------------------------------------ */
/* Randomness and comparison.                                               */

/* Fill buf with len cryptographically secure random bytes from the kernel
 * CSPRNG: getrandom(2) (blocking only until the pool is first seeded),
 * retried on EINTR and looped for large requests; if the system call is
 * unavailable (ENOSYS, or EPERM from a seccomp filter) it falls back to
 * reading /dev/urandom, opened with O_CLOEXEC and closed before returning.
 * len == 0 succeeds without touching buf.
 * Errors: EDDY_EINVAL if buf is NULL with len > 0; EDDY_EIO if /dev/urandom
 * hits end of file; otherwise the error of the failing system call
 * (EDDY_EMFILE, EDDY_EACCES, ...).
 * On error the contents of buf are unspecified and must not be used. */
EDDY_EXTERN int eddy_random_bytes(void *buf, size_t len);

/* Compare a[0..len) with b[0..len) in time that depends only on len, not
 * on the contents or position of the first difference.
 * Returns 1 if equal, 0 otherwise. len == 0 returns 1. If len > 0 and
 * either pointer is NULL the buffers are treated as unequal (returns 0). */
EDDY_EXTERN int eddy_timingsafe_equal(const void *a, const void *b, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_CRYPTO_H */
