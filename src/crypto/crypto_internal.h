/*
 * crypto_internal.h - helpers shared by the eddy crypto sources.
 * Not installed; nothing here is part of the public API.
 */
#ifndef EDDY_CRYPTO_INTERNAL_H
#define EDDY_CRYPTO_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eddy/crypto.h"

/* Rotations; gcc and clang turn these patterns into single instructions. */
#define EDDY_ROTL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define EDDY_ROTR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define EDDY_ROTR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

/* Read a big-endian 32-bit word (compiles to a load + bswap). */
static inline uint32_t eddy__load_be32(const uint8_t *p) {
  return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
         ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

/* Read a big-endian 64-bit word. */
static inline uint64_t eddy__load_be64(const uint8_t *p) {
  return ((uint64_t) eddy__load_be32(p) << 32) | eddy__load_be32(p + 4);
}

/* Write v as a big-endian 32-bit word. */
static inline void eddy__store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

/* Write v as a big-endian 64-bit word. */
static inline void eddy__store_be64(uint8_t *p, uint64_t v) {
  eddy__store_be32(p, (uint32_t) (v >> 32));
  eddy__store_be32(p + 4, (uint32_t) v);
}

/* Zero n bytes in a way the optimiser may not elide (used to scrub keys
 * and intermediate state before they go out of scope). */
static inline void eddy__wipe(void *p, size_t n) {
  volatile uint8_t *v = (volatile uint8_t *) p;
  while (n--)
    *v++ = 0;
}

/*
 * The buffering SHA-1, SHA-256 and SHA-512 share (FIPS 180-4 sections 5.1
 * and 6): input is cut into blocks for the hash's block function, the
 * partial tail waits in the context's buf, and the last block carries the
 * 0x80 marker, zero padding and the message length in bits, big-endian, in
 * its last length_size bytes. Each hash describes itself with one static
 * const eddy__md and passes it to every call; the helpers are static, so
 * each hash file gets its own copy in which the sizes are constants and
 * the block function is a direct call (measured: no slower than the three
 * hand-written copies these replace).
 */
typedef void (*eddy__md_block_fn)(void *state, const uint8_t *block);

typedef struct eddy__md {
  size_t block_size;       /* 64 or 128 */
  size_t length_size;      /* 8 or 16: bytes of the length field */
  eddy__md_block_fn block; /* compresses one block from raw bytes */
} eddy__md;

/* Out of line, and no warning in the files that do not hash. */
#if defined(__GNUC__) || defined(__clang__)
#define EDDY__MD_OUTLINE __attribute__((noinline, unused))
#else
#define EDDY__MD_OUTLINE
#endif

/* The part of eddy__md_update that compresses: the used buffered bytes
 * and p[0..len) complete at least one block. Out of line so that a small
 * update (bytes that fit the pending block) saves no registers for it. */
static EDDY__MD_OUTLINE void eddy__md_blocks(const eddy__md *md, void *state,
                                             uint8_t *buf, size_t used,
                                             const uint8_t *p, size_t len) {
  const size_t bsize = md->block_size;
  const uint8_t *end;

  assert(used < bsize && len >= bsize - used);
  if (used > 0) {
    memcpy(buf + used, p, bsize - used);
    md->block(state, buf);
    p += bsize - used;
    len -= bsize - used;
  }
  /* Whole blocks straight from the caller's buffer, then the tail. */
  for (end = p + len / bsize * bsize; p != end; p += bsize)
    md->block(state, p);
  len %= bsize;
  if (len > 0)
    memcpy(buf, p, len);
}

/* Absorb p[0..len): complete the buffered block first, compress whole
 * blocks straight from p, keep the rest in buf. *count is the number of
 * bytes absorbed so far (buf holds *count % block_size of them); the
 * caller has checked that *count + len does not overflow its limit. */
static inline void eddy__md_update(const eddy__md *md, void *state,
                                   uint64_t *count, uint8_t *buf,
                                   const uint8_t *p, size_t len) {
  const size_t bsize = md->block_size;
  size_t used;

  assert(bsize == 64 || bsize == 128);
  assert(p != NULL || len == 0);
  if (len == 0)
    return; /* also keeps a NULL p away from memcpy */
  used = (size_t)(*count % bsize);
  *count += len;
  if (len < bsize - used)
    memcpy(buf + used, p, len); /* it all fits the pending block */
  else
    eddy__md_blocks(md, state, buf, used, p, len);
}

/* Pad the count bytes absorbed so far (the tail is in buf) and compress
 * the final block or two; the digest is then in state. */
static inline void eddy__md_final(const eddy__md *md, void *state,
                                  uint64_t count, uint8_t *buf) {
  const size_t bsize = md->block_size;
  const size_t lsize = md->length_size;
  size_t used = (size_t)(count % bsize);

  assert(lsize == 8 || lsize == 16);
  assert(lsize < bsize);
  assert(used < bsize); /* the buffer never holds a whole block */
  buf[used++] = 0x80;
  if (used > bsize - lsize) {
    /* No room for the length: pad this block out, put it in the next. */
    memset(buf + used, 0, bsize - used);
    md->block(state, buf);
    used = 0;
  }
  memset(buf + used, 0, bsize - lsize - used);
  /* The bit count is count * 8; a 16-byte field gets its top bits too. */
  if (lsize == 16)
    eddy__store_be64(buf + bsize - 16, count >> 61);
  eddy__store_be64(buf + bsize - 8, count << 3);
  md->block(state, buf);
}

/*
 * Compression functions operating on pre-loaded big-endian message words.
 * They update state in place with one 16-word block and do not modify w.
 * PBKDF2 calls them directly on fixed, pre-padded single blocks so its inner
 * loop skips the buffering and byte-swapping of the streaming API.
 */
void eddy__sha1_compress(uint32_t state[5], const uint32_t w[16]);
void eddy__sha256_compress(uint32_t state[8], const uint32_t w[16]);
void eddy__sha512_compress(uint64_t state[8], const uint64_t w[16]);

/* Read /dev/urandom directly; the fallback path of eddy_random_bytes,
 * exposed so tests can exercise it. Same contract as eddy_random_bytes. */
int eddy__random_bytes_urandom(void *buf, size_t len);

/* The argument checks of eddy_pbkdf2 (pbkdf2.c), also run before a PBKDF2
 * job is queued so bad arguments fail at once. */
int eddy__pbkdf2_check(eddy_hash_alg alg, const void *password, size_t pwlen,
                       const void *salt, size_t saltlen, uint32_t iterations,
                       const uint8_t *out, size_t outlen);

#endif /* EDDY_CRYPTO_INTERNAL_H */
