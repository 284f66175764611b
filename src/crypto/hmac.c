/*
 * hmac.c - HMAC (RFC 2104) over SHA-1, SHA-256 and SHA-512, plus the small
 * algorithm-dispatch layer the HMAC and PBKDF2 code share.
 */
#include <assert.h>
#include <string.h>

#include "crypto_internal.h"

/* Map an algorithm to its digest size; EDDY_EINVAL if unknown. */
int eddy_hash_digest_size(eddy_hash_alg alg) {
  switch (alg) {
    case EDDY_HASH_SHA1:
      return EDDY_SHA1_DIGEST_SIZE;
    case EDDY_HASH_SHA256:
      return EDDY_SHA256_DIGEST_SIZE;
    case EDDY_HASH_SHA512:
      return EDDY_SHA512_DIGEST_SIZE;
  }
  return EDDY_EINVAL;
}

/* Map an algorithm to its block size; EDDY_EINVAL if unknown. */
int eddy_hash_block_size(eddy_hash_alg alg) {
  switch (alg) {
    case EDDY_HASH_SHA1:
      return EDDY_SHA1_BLOCK_SIZE;
    case EDDY_HASH_SHA256:
      return EDDY_SHA256_BLOCK_SIZE;
    case EDDY_HASH_SHA512:
      return EDDY_SHA512_BLOCK_SIZE;
  }
  return EDDY_EINVAL;
}

/* Initialise the union member selected by alg (alg already validated). */
static void hash_init(eddy_hash_alg alg, eddy_hash_ctx_t *h) {
  switch (alg) {
    case EDDY_HASH_SHA1:
      eddy_sha1_init(&h->sha1);
      return;
    case EDDY_HASH_SHA256:
      eddy_sha256_init(&h->sha256);
      return;
    case EDDY_HASH_SHA512:
      eddy_sha512_init(&h->sha512);
      return;
  }
  assert(0 && "hash_init: unvalidated algorithm");
}

/* Feed data to the union member selected by alg. */
static int hash_update(eddy_hash_alg alg, eddy_hash_ctx_t *h,
                       const void *data, size_t len) {
  switch (alg) {
    case EDDY_HASH_SHA1:
      return eddy_sha1_update(&h->sha1, data, len);
    case EDDY_HASH_SHA256:
      return eddy_sha256_update(&h->sha256, data, len);
    case EDDY_HASH_SHA512:
      return eddy_sha512_update(&h->sha512, data, len);
  }
  return EDDY_EINVAL;
}

/* Finish the union member selected by alg, writing its digest to out. */
static void hash_final(eddy_hash_alg alg, eddy_hash_ctx_t *h, uint8_t *out) {
  switch (alg) {
    case EDDY_HASH_SHA1:
      eddy_sha1_final(&h->sha1, out);
      return;
    case EDDY_HASH_SHA256:
      eddy_sha256_final(&h->sha256, out);
      return;
    case EDDY_HASH_SHA512:
      eddy_sha512_final(&h->sha512, out);
      return;
  }
  assert(0 && "hash_final: unvalidated algorithm");
}

/* Derive the inner and outer hash states from the key: both absorb one
 * block, K' ^ ipad and K' ^ opad respectively, where K' is the key (or its
 * digest when longer than a block) zero-padded to the block size. */
int eddy_hmac_init(eddy_hmac_ctx_t *ctx, eddy_hash_alg alg,
                   const void *key, size_t keylen) {
  uint8_t block[EDDY_HASH_MAX_BLOCK_SIZE];
  int bsize;
  int i;

  if (ctx == NULL || (key == NULL && keylen > 0))
    return EDDY_EINVAL;
  bsize = eddy_hash_block_size(alg);
  if (bsize < 0)
    return bsize;
  assert((size_t) bsize <= sizeof(block));
  /* A long key is replaced by its digest, which must fit one block. */
  assert(eddy_hash_digest_size(alg) <= bsize);

  memset(block, 0, sizeof(block));
  if (keylen > (size_t) bsize) {
    /* Reuse ctx->inner as scratch to hash the long key. */
    hash_init(alg, &ctx->inner);
    hash_update(alg, &ctx->inner, key, keylen);
    hash_final(alg, &ctx->inner, block);
  } else if (keylen > 0) {
    memcpy(block, key, keylen);
  }

  for (i = 0; i < bsize; i++)
    block[i] ^= 0x36;
  hash_init(alg, &ctx->inner);
  hash_update(alg, &ctx->inner, block, (size_t) bsize);

  /* 0x36 ^ 0x5c turns the ipad block into the opad block. */
  for (i = 0; i < bsize; i++)
    block[i] ^= 0x36 ^ 0x5c;
  hash_init(alg, &ctx->outer);
  hash_update(alg, &ctx->outer, block, (size_t) bsize);

  eddy__wipe(block, sizeof(block));
  ctx->alg = alg;
  return 0;
}

/* Message data goes to the inner hash only. */
int eddy_hmac_update(eddy_hmac_ctx_t *ctx, const void *data, size_t len) {
  if (ctx == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  if (eddy_hash_block_size(ctx->alg) < 0)
    return EDDY_EINVAL;
  return hash_update(ctx->alg, &ctx->inner, data, len);
}

/* MAC = H(K ^ opad || H(K ^ ipad || message)). */
int eddy_hmac_final(eddy_hmac_ctx_t *ctx, uint8_t *out) {
  uint8_t inner[EDDY_HASH_MAX_DIGEST_SIZE];
  int dsize;

  if (ctx == NULL || out == NULL)
    return EDDY_EINVAL;
  dsize = eddy_hash_digest_size(ctx->alg);
  if (dsize < 0)
    return EDDY_EINVAL;
  assert((size_t)dsize <= sizeof(inner));

  hash_final(ctx->alg, &ctx->inner, inner);
  hash_update(ctx->alg, &ctx->outer, inner, (size_t) dsize);
  hash_final(ctx->alg, &ctx->outer, out);
  eddy__wipe(inner, sizeof(inner));
  eddy__wipe(ctx, sizeof(*ctx));
  return 0;
}

/* One-shot HMAC. */
int eddy_hmac(eddy_hash_alg alg, const void *key, size_t keylen,
              const void *data, size_t len, uint8_t *out) {
  eddy_hmac_ctx_t ctx;
  int err;

  if (out == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  err = eddy_hmac_init(&ctx, alg, key, keylen);
  if (err != 0)
    return err;
  err = eddy_hmac_update(&ctx, data, len);
  if (err != 0) {
    eddy__wipe(&ctx, sizeof(ctx));
    return err;
  }
  return eddy_hmac_final(&ctx, out);
}
