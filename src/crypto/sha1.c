/*
 * sha1.c - SHA-1 (FIPS 180-4 section 6.1).
 *
 * SHA-1 is broken for collision resistance; it is here for protocols that
 * mandate it (WebSocket handshake, HOTP/TOTP, legacy PBKDF2 / HMAC users).
 */
#include <string.h>

#include "crypto_internal.h"

/* The largest message FIPS 180-4 allows is 2^64 - 1 bits. */
#define SHA1_MAX_BYTES ((UINT64_C(1) << 61) - 1)

/* Round function f_t and constant K_t for round i (FIPS 180-4 4.1.1 and
 * 4.2.1). i is always a compile-time constant, so the selection folds. */
#define F_CH(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define F_PARITY(b, c, d) ((b) ^ (c) ^ (d))
#define F_MAJ(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))
#define F(i, b, c, d)                                                       \
  ((i) < 20 ? F_CH(b, c, d) :                                               \
   (i) < 40 ? F_PARITY(b, c, d) :                                           \
   (i) < 60 ? F_MAJ(b, c, d) : F_PARITY(b, c, d))
#define K(i)                                                                \
  ((i) < 20 ? 0x5a827999u :                                                 \
   (i) < 40 ? 0x6ed9eba1u :                                                 \
   (i) < 60 ? 0x8f1bbcdcu : 0xca62c1d6u)

/* One round with the message schedule kept in a rolling 16-word window.
 * Instead of shifting a..e, callers rotate the argument names; the new "a"
 * ends up in the variable passed as e. */
#define ROUND(a, b, c, d, e, i)                                             \
  do {                                                                      \
    if ((i) >= 16) {                                                        \
      uint32_t x_ = W[((i) - 3) & 15] ^ W[((i) - 8) & 15] ^                 \
                    W[((i) - 14) & 15] ^ W[(i) & 15];                       \
      W[(i) & 15] = EDDY_ROTL32(x_, 1);                                     \
    }                                                                       \
    e += EDDY_ROTL32(a, 5) + F(i, b, c, d) + K(i) + W[(i) & 15];            \
    b = EDDY_ROTL32(b, 30);                                                 \
  } while (0)

/* Five rounds, after which the variable names are back in place. */
#define ROUND5(i)                                                           \
  do {                                                                      \
    ROUND(a, b, c, d, e, (i) + 0);                                          \
    ROUND(e, a, b, c, d, (i) + 1);                                          \
    ROUND(d, e, a, b, c, (i) + 2);                                          \
    ROUND(c, d, e, a, b, (i) + 3);                                          \
    ROUND(b, c, d, e, a, (i) + 4);                                          \
  } while (0)

/* Apply the compression function to state with 16 pre-loaded message
 * words. Fully unrolled for PBKDF2-HMAC-SHA1. */
void eddy__sha1_compress(uint32_t state[5], const uint32_t w[16]) {
  uint32_t W[16];
  uint32_t a, b, c, d, e;

  memcpy(W, w, sizeof(W));
  a = state[0];
  b = state[1];
  c = state[2];
  d = state[3];
  e = state[4];

  ROUND5(0);
  ROUND5(5);
  ROUND5(10);
  ROUND5(15);
  ROUND5(20);
  ROUND5(25);
  ROUND5(30);
  ROUND5(35);
  ROUND5(40);
  ROUND5(45);
  ROUND5(50);
  ROUND5(55);
  ROUND5(60);
  ROUND5(65);
  ROUND5(70);
  ROUND5(75);

  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
}

/* Compress one 64-byte block given as raw bytes (the eddy__md block
 * function). */
static void sha1_block(void *state, const uint8_t *p) {
  uint32_t w[16];
  int i;

  for (i = 0; i < 16; i++)
    w[i] = eddy__load_be32(p + 4 * i);
  eddy__sha1_compress((uint32_t *)state, w);
}

/* The shape of SHA-1 for the shared buffering (crypto_internal.h). */
static const eddy__md sha1_md = {
    .block_size = EDDY_SHA1_BLOCK_SIZE,
    .length_size = 8,
    .block = sha1_block,
};

/* Set the FIPS 180-4 initial hash value. */
int eddy_sha1_init(eddy_sha1_ctx_t *ctx) {
  if (ctx == NULL)
    return EDDY_EINVAL;
  ctx->state[0] = 0x67452301u;
  ctx->state[1] = 0xefcdab89u;
  ctx->state[2] = 0x98badcfeu;
  ctx->state[3] = 0x10325476u;
  ctx->state[4] = 0xc3d2e1f0u;
  ctx->count = 0;
  return 0;
}

/* Check the arguments and the length limit; eddy__md_update
 * (crypto_internal.h) buffers and compresses. */
int eddy_sha1_update(eddy_sha1_ctx_t *ctx, const void *data, size_t len) {
  if (ctx == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  if ((uint64_t) len > SHA1_MAX_BYTES - ctx->count)
    return EDDY_EOVERFLOW;
  eddy__md_update(&sha1_md, ctx->state, &ctx->count, ctx->buf, data, len);
  return 0;
}

/* Pad (eddy__md_final: 0x80, zeros, the 64-bit bit length), then emit
 * the state big-endian. */
int eddy_sha1_final(eddy_sha1_ctx_t *ctx, uint8_t *out) {
  int i;

  if (ctx == NULL || out == NULL)
    return EDDY_EINVAL;
  eddy__md_final(&sha1_md, ctx->state, ctx->count, ctx->buf);
  for (i = 0; i < 5; i++)
    eddy__store_be32(out + 4 * i, ctx->state[i]);
  eddy__wipe(ctx, sizeof(*ctx));
  return 0;
}

/* One-shot convenience wrapper around init/update/final. */
int eddy_sha1(const void *data, size_t len, uint8_t *out) {
  eddy_sha1_ctx_t ctx;
  int err;

  if (out == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  eddy_sha1_init(&ctx);
  err = eddy_sha1_update(&ctx, data, len);
  if (err != 0) {
    eddy__wipe(&ctx, sizeof(ctx));
    return err;
  }
  return eddy_sha1_final(&ctx, out);
}
