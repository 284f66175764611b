/*
 * sha512.c - SHA-512 (FIPS 180-4 section 6.4).
 */
#include <string.h>

#include "crypto_internal.h"

/* Round constants: first 64 bits of the fractional parts of the cube roots
 * of the first 80 primes (FIPS 180-4 section 4.2.3). */
static const uint64_t K512[80] = {
  UINT64_C(0x428a2f98d728ae22), UINT64_C(0x7137449123ef65cd),
  UINT64_C(0xb5c0fbcfec4d3b2f), UINT64_C(0xe9b5dba58189dbbc),
  UINT64_C(0x3956c25bf348b538), UINT64_C(0x59f111f1b605d019),
  UINT64_C(0x923f82a4af194f9b), UINT64_C(0xab1c5ed5da6d8118),
  UINT64_C(0xd807aa98a3030242), UINT64_C(0x12835b0145706fbe),
  UINT64_C(0x243185be4ee4b28c), UINT64_C(0x550c7dc3d5ffb4e2),
  UINT64_C(0x72be5d74f27b896f), UINT64_C(0x80deb1fe3b1696b1),
  UINT64_C(0x9bdc06a725c71235), UINT64_C(0xc19bf174cf692694),
  UINT64_C(0xe49b69c19ef14ad2), UINT64_C(0xefbe4786384f25e3),
  UINT64_C(0x0fc19dc68b8cd5b5), UINT64_C(0x240ca1cc77ac9c65),
  UINT64_C(0x2de92c6f592b0275), UINT64_C(0x4a7484aa6ea6e483),
  UINT64_C(0x5cb0a9dcbd41fbd4), UINT64_C(0x76f988da831153b5),
  UINT64_C(0x983e5152ee66dfab), UINT64_C(0xa831c66d2db43210),
  UINT64_C(0xb00327c898fb213f), UINT64_C(0xbf597fc7beef0ee4),
  UINT64_C(0xc6e00bf33da88fc2), UINT64_C(0xd5a79147930aa725),
  UINT64_C(0x06ca6351e003826f), UINT64_C(0x142929670a0e6e70),
  UINT64_C(0x27b70a8546d22ffc), UINT64_C(0x2e1b21385c26c926),
  UINT64_C(0x4d2c6dfc5ac42aed), UINT64_C(0x53380d139d95b3df),
  UINT64_C(0x650a73548baf63de), UINT64_C(0x766a0abb3c77b2a8),
  UINT64_C(0x81c2c92e47edaee6), UINT64_C(0x92722c851482353b),
  UINT64_C(0xa2bfe8a14cf10364), UINT64_C(0xa81a664bbc423001),
  UINT64_C(0xc24b8b70d0f89791), UINT64_C(0xc76c51a30654be30),
  UINT64_C(0xd192e819d6ef5218), UINT64_C(0xd69906245565a910),
  UINT64_C(0xf40e35855771202a), UINT64_C(0x106aa07032bbd1b8),
  UINT64_C(0x19a4c116b8d2d0c8), UINT64_C(0x1e376c085141ab53),
  UINT64_C(0x2748774cdf8eeb99), UINT64_C(0x34b0bcb5e19b48a8),
  UINT64_C(0x391c0cb3c5c95a63), UINT64_C(0x4ed8aa4ae3418acb),
  UINT64_C(0x5b9cca4f7763e373), UINT64_C(0x682e6ff3d6b2b8a3),
  UINT64_C(0x748f82ee5defb2fc), UINT64_C(0x78a5636f43172f60),
  UINT64_C(0x84c87814a1f0ab72), UINT64_C(0x8cc702081a6439ec),
  UINT64_C(0x90befffa23631e28), UINT64_C(0xa4506cebde82bde9),
  UINT64_C(0xbef9a3f7b2c67915), UINT64_C(0xc67178f2e372532b),
  UINT64_C(0xca273eceea26619c), UINT64_C(0xd186b8c721c0c207),
  UINT64_C(0xeada7dd6cde0eb1e), UINT64_C(0xf57d4f7fee6ed178),
  UINT64_C(0x06f067aa72176fba), UINT64_C(0x0a637dc5a2c898a6),
  UINT64_C(0x113f9804bef90dae), UINT64_C(0x1b710b35131c471b),
  UINT64_C(0x28db77f523047d84), UINT64_C(0x32caab7b40c72493),
  UINT64_C(0x3c9ebe0a15c9bebc), UINT64_C(0x431d67c49c100d4c),
  UINT64_C(0x4cc5d4becb3e42b6), UINT64_C(0x597f299cfc657e2a),
  UINT64_C(0x5fcb6fab3ad6faec), UINT64_C(0x6c44198c4a475817),
};

#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define BSIG0(x) (EDDY_ROTR64(x, 28) ^ EDDY_ROTR64(x, 34) ^ EDDY_ROTR64(x, 39))
#define BSIG1(x) (EDDY_ROTR64(x, 14) ^ EDDY_ROTR64(x, 18) ^ EDDY_ROTR64(x, 41))
#define SSIG0(x) (EDDY_ROTR64(x, 1) ^ EDDY_ROTR64(x, 8) ^ ((x) >> 7))
#define SSIG1(x) (EDDY_ROTR64(x, 19) ^ EDDY_ROTR64(x, 61) ^ ((x) >> 6))

/* One round. i is a compile-time constant, so the schedule branch and all
 * W[] indices fold away; W is a rolling 16-word window of the schedule. The
 * caller rotates the variable names instead of moving values around. */
#define ROUND(a, b, c, d, e, f, g, h, i)                                    \
  do {                                                                      \
    if ((i) >= 16)                                                          \
      W[(i) & 15] += SSIG1(W[((i) - 2) & 15]) + W[((i) - 7) & 15] +         \
                     SSIG0(W[((i) - 15) & 15]);                             \
    t1 = h + BSIG1(e) + CH(e, f, g) + K512[i] + W[(i) & 15];                \
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

/* Apply the compression function to state with the 16 message words w
 * (already converted from big-endian). Fully unrolled: this is the hot
 * path of PBKDF2-HMAC-SHA512. */
void eddy__sha512_compress(uint64_t state[8], const uint64_t w[16]) {
  uint64_t W[16];
  uint64_t a, b, c, d, e, f, g, h, t1;

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
  ROUND8(64);
  ROUND8(72);

  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

/* Compress one 128-byte block given as raw bytes (the eddy__md block
 * function). */
static void sha512_block(void *state, const uint8_t *p) {
  uint64_t w[16];
  int i;

  for (i = 0; i < 16; i++)
    w[i] = eddy__load_be64(p + 8 * i);
  eddy__sha512_compress((uint64_t *)state, w);
}

/* The shape of SHA-512 for the shared buffering (crypto_internal.h). */
static const eddy__md sha512_md = {
    .block_size = EDDY_SHA512_BLOCK_SIZE,
    .length_size = 16,
    .block = sha512_block,
};

/* Set the FIPS 180-4 initial hash value (square roots of the first eight
 * primes, fractional parts). */
int eddy_sha512_init(eddy_sha512_ctx_t *ctx) {
  if (ctx == NULL)
    return EDDY_EINVAL;
  ctx->state[0] = UINT64_C(0x6a09e667f3bcc908);
  ctx->state[1] = UINT64_C(0xbb67ae8584caa73b);
  ctx->state[2] = UINT64_C(0x3c6ef372fe94f82b);
  ctx->state[3] = UINT64_C(0xa54ff53a5f1d36f1);
  ctx->state[4] = UINT64_C(0x510e527fade682d1);
  ctx->state[5] = UINT64_C(0x9b05688c2b3e6c1f);
  ctx->state[6] = UINT64_C(0x1f83d9abfb41bd6b);
  ctx->state[7] = UINT64_C(0x5be0cd19137e2179);
  ctx->count = 0;
  return 0;
}

/* Check the arguments and the length limit; eddy__md_update
 * (crypto_internal.h) buffers and compresses. */
int eddy_sha512_update(eddy_sha512_ctx_t *ctx, const void *data, size_t len) {
  if (ctx == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  if ((uint64_t) len > UINT64_MAX - ctx->count)
    return EDDY_EOVERFLOW;
  eddy__md_update(&sha512_md, ctx->state, &ctx->count, ctx->buf, data, len);
  return 0;
}

/* Pad (eddy__md_final: 0x80, zeros, the 128-bit bit length), then emit
 * the state big-endian. */
int eddy_sha512_final(eddy_sha512_ctx_t *ctx, uint8_t *out) {
  int i;

  if (ctx == NULL || out == NULL)
    return EDDY_EINVAL;
  eddy__md_final(&sha512_md, ctx->state, ctx->count, ctx->buf);
  for (i = 0; i < 8; i++)
    eddy__store_be64(out + 8 * i, ctx->state[i]);
  eddy__wipe(ctx, sizeof(*ctx));
  return 0;
}

/* One-shot convenience wrapper around init/update/final. */
int eddy_sha512(const void *data, size_t len, uint8_t *out) {
  eddy_sha512_ctx_t ctx;
  int err;

  if (out == NULL || (data == NULL && len > 0))
    return EDDY_EINVAL;
  eddy_sha512_init(&ctx);
  err = eddy_sha512_update(&ctx, data, len);
  if (err != 0) {
    eddy__wipe(&ctx, sizeof(ctx));
    return err;
  }
  return eddy_sha512_final(&ctx, out);
}
