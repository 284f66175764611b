/*
 * crypto_internal.h - helpers shared by the eddy crypto sources.
 * Not installed; nothing here is part of the public API.
 */
#ifndef EDDY_CRYPTO_INTERNAL_H
#define EDDY_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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
