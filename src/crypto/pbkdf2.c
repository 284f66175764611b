/*
 * pbkdf2.c - PBKDF2 (RFC 8018 section 5.2) with HMAC-SHA1/256/512 as PRF.
 *
 * T_i = U_1 ^ U_2 ^ ... ^ U_c,  U_1 = PRF(P, S || INT(i)),
 * U_j = PRF(P, U_{j-1}).
 *
 * U_1 goes through the generic HMAC code. For U_2..U_c the message is a
 * single digest, so both the inner and the outer hash of every HMAC are
 * exactly one compression of a block whose padding and length never
 * change. The per-algorithm loops below therefore start from the inner and
 * outer states captured once (after the ipad/opad blocks) and call the
 * compression function directly on pre-padded word arrays: no buffering,
 * no byte swapping, no per-iteration context copies.
 */
#include <assert.h>
#include <string.h>

#include "crypto_internal.h"

/* Run iterations 2..c for SHA-1. u holds U_1 on entry and T_i on exit. */
static void pbkdf2_sha1_loop(const uint32_t istate[5],
                             const uint32_t ostate[5],
                             uint8_t u[EDDY_SHA1_DIGEST_SIZE],
                             uint32_t iterations) {
  uint32_t w[16];
  uint32_t s[5];
  uint32_t t[5];
  uint32_t n;
  int i;

  for (i = 0; i < 5; i++)
    w[i] = t[i] = eddy__load_be32(u + 4 * i);
  /* Padding for a 20-byte message after one 64-byte key block. */
  w[5] = 0x80000000u;
  for (i = 6; i < 15; i++)
    w[i] = 0;
  w[15] = (EDDY_SHA1_BLOCK_SIZE + EDDY_SHA1_DIGEST_SIZE) * 8;

  for (n = 1; n < iterations; n++) {
    memcpy(s, istate, sizeof(s));
    eddy__sha1_compress(s, w);
    memcpy(w, s, sizeof(s));
    memcpy(s, ostate, sizeof(s));
    eddy__sha1_compress(s, w);
    memcpy(w, s, sizeof(s));
    for (i = 0; i < 5; i++)
      t[i] ^= s[i];
  }

  for (i = 0; i < 5; i++)
    eddy__store_be32(u + 4 * i, t[i]);
  eddy__wipe(w, sizeof(w));
  eddy__wipe(s, sizeof(s));
  eddy__wipe(t, sizeof(t));
}

/* Run iterations 2..c for SHA-256. u holds U_1 on entry and T_i on exit. */
static void pbkdf2_sha256_loop(const uint32_t istate[8],
                               const uint32_t ostate[8],
                               uint8_t u[EDDY_SHA256_DIGEST_SIZE],
                               uint32_t iterations) {
  uint32_t w[16];
  uint32_t s[8];
  uint32_t t[8];
  uint32_t n;
  int i;

  for (i = 0; i < 8; i++)
    w[i] = t[i] = eddy__load_be32(u + 4 * i);
  w[8] = 0x80000000u;
  for (i = 9; i < 15; i++)
    w[i] = 0;
  w[15] = (EDDY_SHA256_BLOCK_SIZE + EDDY_SHA256_DIGEST_SIZE) * 8;

  for (n = 1; n < iterations; n++) {
    memcpy(s, istate, sizeof(s));
    eddy__sha256_compress(s, w);
    memcpy(w, s, sizeof(s));
    memcpy(s, ostate, sizeof(s));
    eddy__sha256_compress(s, w);
    memcpy(w, s, sizeof(s));
    for (i = 0; i < 8; i++)
      t[i] ^= s[i];
  }

  for (i = 0; i < 8; i++)
    eddy__store_be32(u + 4 * i, t[i]);
  eddy__wipe(w, sizeof(w));
  eddy__wipe(s, sizeof(s));
  eddy__wipe(t, sizeof(t));
}

/* Run iterations 2..c for SHA-512. u holds U_1 on entry and T_i on exit. */
static void pbkdf2_sha512_loop(const uint64_t istate[8],
                               const uint64_t ostate[8],
                               uint8_t u[EDDY_SHA512_DIGEST_SIZE],
                               uint32_t iterations) {
  uint64_t w[16];
  uint64_t s[8];
  uint64_t t[8];
  uint32_t n;
  int i;

  for (i = 0; i < 8; i++)
    w[i] = t[i] = eddy__load_be64(u + 8 * i);
  /* Padding for a 64-byte message after one 128-byte key block; the upper
   * half of the 128-bit length field (w[14]) is zero. */
  w[8] = UINT64_C(0x8000000000000000);
  for (i = 9; i < 15; i++)
    w[i] = 0;
  w[15] = (EDDY_SHA512_BLOCK_SIZE + EDDY_SHA512_DIGEST_SIZE) * 8;

  for (n = 1; n < iterations; n++) {
    memcpy(s, istate, sizeof(s));
    eddy__sha512_compress(s, w);
    memcpy(w, s, sizeof(s));
    memcpy(s, ostate, sizeof(s));
    eddy__sha512_compress(s, w);
    memcpy(w, s, sizeof(s));
    for (i = 0; i < 8; i++)
      t[i] ^= s[i];
  }

  for (i = 0; i < 8; i++)
    eddy__store_be64(u + 8 * i, t[i]);
  eddy__wipe(w, sizeof(w));
  eddy__wipe(s, sizeof(s));
  eddy__wipe(t, sizeof(t));
}

/* Compute block T_index into t (digest-size bytes). prf is the HMAC
 * context right after eddy_hmac_init(password); it is not modified. */
static int pbkdf2_block(const eddy_hmac_ctx_t *prf, const void *salt,
                        size_t saltlen, uint32_t index, uint32_t iterations,
                        uint8_t *t) {
  eddy_hmac_ctx_t c;
  uint8_t counter[4];
  int err;

  /* U_1 = PRF(P, S || INT(index)) via the generic path. */
  c = *prf;
  eddy__store_be32(counter, index);
  err = eddy_hmac_update(&c, salt, saltlen);
  if (err == 0)
    err = eddy_hmac_update(&c, counter, sizeof(counter));
  if (err == 0)
    err = eddy_hmac_final(&c, t);
  eddy__wipe(&c, sizeof(c));
  if (err != 0)
    return err;

  /* The key blocks were absorbed and nothing is buffered, so each state
   * array is exactly the chaining value after K ^ ipad / K ^ opad. */
  switch (prf->alg) {
    case EDDY_HASH_SHA1:
      assert(prf->inner.sha1.count == EDDY_SHA1_BLOCK_SIZE);
      assert(prf->outer.sha1.count == EDDY_SHA1_BLOCK_SIZE);
      pbkdf2_sha1_loop(prf->inner.sha1.state, prf->outer.sha1.state, t,
                       iterations);
      return 0;
    case EDDY_HASH_SHA256:
      assert(prf->inner.sha256.count == EDDY_SHA256_BLOCK_SIZE);
      assert(prf->outer.sha256.count == EDDY_SHA256_BLOCK_SIZE);
      pbkdf2_sha256_loop(prf->inner.sha256.state, prf->outer.sha256.state,
                         t, iterations);
      return 0;
    case EDDY_HASH_SHA512:
      assert(prf->inner.sha512.count == EDDY_SHA512_BLOCK_SIZE);
      assert(prf->outer.sha512.count == EDDY_SHA512_BLOCK_SIZE);
      pbkdf2_sha512_loop(prf->inner.sha512.state, prf->outer.sha512.state,
                         t, iterations);
      return 0;
  }
  return EDDY_EINVAL;
}

/* Validate arguments, set up the PRF once, then emit T_1, T_2, ...
 * truncating the last block to fit outlen. */
int eddy__pbkdf2_check(eddy_hash_alg alg, const void *password, size_t pwlen,
                       const void *salt, size_t saltlen, uint32_t iterations,
                       const uint8_t *out, size_t outlen) {
  int hlen = eddy_hash_digest_size(alg);

  if (hlen < 0)
    return EDDY_EINVAL;
  if (iterations == 0 || out == NULL || outlen == 0)
    return EDDY_EINVAL;
  if ((password == NULL && pwlen > 0) || (salt == NULL && saltlen > 0))
    return EDDY_EINVAL;
  /* RFC 8018: dkLen > (2^32 - 1) * hLen is "derived key too long". */
  if ((uint64_t) outlen > (uint64_t) UINT32_MAX * (uint64_t) hlen)
    return EDDY_EINVAL;
  return 0;
}

int eddy_pbkdf2(eddy_hash_alg alg, const void *password, size_t pwlen,
                const void *salt, size_t saltlen, uint32_t iterations,
                uint8_t *out, size_t outlen) {
  eddy_hmac_ctx_t prf;
  uint8_t t[EDDY_HASH_MAX_DIGEST_SIZE];
  uint32_t index;
  size_t n;
  int hlen;
  int err;

  err = eddy__pbkdf2_check(alg, password, pwlen, salt, saltlen, iterations,
                           out, outlen);
  if (err != 0)
    return err;
  hlen = eddy_hash_digest_size(alg);
  assert(hlen > 0 && (size_t)hlen <= sizeof(t));
  err = eddy_hmac_init(&prf, alg, password, pwlen);
  if (err != 0)
    return err;

  for (index = 1; outlen > 0; index++) {
    assert(index != 0); /* outlen <= (2^32 - 1) * hlen: the index never wraps */
    err = pbkdf2_block(&prf, salt, saltlen, index, iterations, t);
    if (err != 0)
      break;
    n = outlen < (size_t) hlen ? outlen : (size_t) hlen;
    memcpy(out, t, n);
    out += n;
    outlen -= n;
  }

  eddy__wipe(&prf, sizeof(prf));
  eddy__wipe(t, sizeof(t));
  return err;
}
