/*
 * sha256.c - SHA-256 (FIPS 180-4 section 6.2).
 */
#include <string.h>

#include "crypto_internal.h"

/* Round constants: first 32 bits of the fractional parts of the cube roots
 * of the first 64 primes (FIPS 180-4 section 4.2.2). */
static const uint32_t K256[64] = {
  0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u,
  0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
  0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u,
  0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
  0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
  0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
  0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
  0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
  0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u,
  0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
  0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u,
  0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
  0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u,
  0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
  0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
  0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* The largest message FIPS 180-4 allows is 2^64 - 1 bits. */
#define SHA256_MAX_BYTES ((UINT64_C(1) << 61) - 1)

#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define BSIG0(x) (EDDY_ROTR32(x, 2) ^ EDDY_ROTR32(x, 13) ^ EDDY_ROTR32(x, 22))
#define BSIG1(x) (EDDY_ROTR32(x, 6) ^ EDDY_ROTR32(x, 11) ^ EDDY_ROTR32(x, 25))
#define SSIG0(x) (EDDY_ROTR32(x, 7) ^ EDDY_ROTR32(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (EDDY_ROTR32(x, 17) ^ EDDY_ROTR32(x, 19) ^ ((x) >> 10))

/* One round; i is a compile-time constant so the schedule branch and the
 * rolling-window indices fold away. Callers rotate the variable names. */
#define ROUND(a, b, c, d, e, f, g, h, i)                                    \
  do {                                                                      \
    if ((i) >= 16)                                                          \
      W[(i) & 15] += SSIG1(W[((i) - 2) & 15]) + W[((i) - 7) & 15] +         \
                     SSIG0(W[((i) - 15) & 15]);                             \
    t1 = h + BSIG1(e) + CH(e, f, g) + K256[i] + W[(i) & 15];                \
    d += t1;                                                                \
    h = t1 + BSIG0(a) + MAJ(a, b, c);                                       \
  } while (0)

/* Eight rounds, after which the variable names are back in place. */
#define ROUND8(i)                                                           \
  do {                                                                      \
    ROUND(a, b, c, d, e, f, g, h, (i) + 0);                                 \
    ROUND(h, a, b, c, d, e, f, g, (i) + 1);                                 \
    ROUND(g, h, a, b, c, d, e, f, (i) + 2);                                 \
    ROUND(f, g, h, a, b, c, d, e, (i) + 3);                                 \
    ROUND(e, f, g, h, a, b, c, d, (i) + 4);                                 \
    ROUND(d, e, f, g, h, a, b, c, (i) + 5);                                 \
    ROUND(c, d, e, f, g, h, a, b, (i) + 6);                                 \
    ROUND(b, c, d, e, f, g, h, a, (i) + 7);                                 \
  } while (0)

/* Apply the compression function to state with 16 pre-loaded message
 * words. Fully unrolled for PBKDF2-HMAC-SHA256. */
void eddy__sha256_compress(uint32_t state[8], const uint32_t w[16]) {
  uint32_t W[16];
  uint32_t a, b, c, d, e, f, g, h, t1;

  memcpy(W, w, sizeof(W));
  a = state[0];
  b = state[1];
  c = state[2];
  d = state[3];
  e = state[4];
  f = state[5];
  g = state[6];
  h = state[7];

  ROUND8(0);
  ROUND8(8);
  ROUND8(16);
  ROUND8(24);
  ROUND8(32);
  ROUND8(40);
  ROUND8(48);
  ROUND8(56);

  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

/* Compress one 64-byte block given as raw bytes (the eddy__md block
 * function). */
static void sha256_block(void *state, const uint8_t *p) {
  uint32_t w[16];
  int i;

  for (i = 0; i < 16; i++)
    w[i] = eddy__load_be32(p + 4 * i);
  eddy__sha256_compress((uint32_t *)state, w);
}

/* The shape of SHA-256 for the shared buffering (crypto_internal.h). */
static const eddy__md sha256_md = {
    .block_size = EDDY_SHA256_BLOCK_SIZE,
    .length_size = 8,
    .block = sha256_block,
};

/* Set the FIPS 180-4 initial hash value. */
int eddy_sha256_init(eddy_sha256_ctx_t *ctx) {
  if (ctx == NULL)
    return EDDY_EINVAL;
  ctx->state[0] = 0x6a09e667u;
  ctx->state[1] = 0xbb67ae85u;
  ctx->state[2] = 0x3c6ef372u;
  ctx->state[3] = 0xa54ff53au;
  ctx->state[4] = 0x510e527fu;
  ctx->state[5] = 0x9b05688cu;
  ctx->state[6] = 0x1f83d9abu;
  ctx->state[7] = 0x5be0cd19u;
  ctx->count = 0;
  return 0;
}

/* Check the arguments and the length limit; eddy__md_update
 * (crypto_internal.h) buffers and compresses. */
int eddy_sha256_update(eddy_sha256_ctx_t *ctx, const void *data, size_t len) {
  if (ctx == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  if ((uint64_t) len > SHA256_MAX_BYTES - ctx->count)
    return EDDY_EOVERFLOW;
  eddy__md_update(&sha256_md, ctx->state, &ctx->count, ctx->buf, data, len);
  return 0;
}

/* Pad (eddy__md_final: 0x80, zeros, the 64-bit bit length), then emit
 * the state big-endian. */
int eddy_sha256_final(eddy_sha256_ctx_t *ctx, uint8_t *out) {
  int i;

  if (ctx == NULL || out == NULL)
    return EDDY_EINVAL;
  eddy__md_final(&sha256_md, ctx->state, ctx->count, ctx->buf);
  for (i = 0; i < 8; i++)
    eddy__store_be32(out + 4 * i, ctx->state[i]);
  eddy__wipe(ctx, sizeof(*ctx));
  return 0;
}

/* One-shot convenience wrapper around init/update/final. */
int eddy_sha256(const void *data, size_t len, uint8_t *out) {
  eddy_sha256_ctx_t ctx;
  int err;

  if (out == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  eddy_sha256_init(&ctx);
  err = eddy_sha256_update(&ctx, data, len);
  if (err != 0) {
    eddy__wipe(&ctx, sizeof(ctx));
    return err;
  }
  return eddy_sha256_final(&ctx, out);
}
