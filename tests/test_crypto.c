/*
 * test_crypto.c - cmocka tests for the eddy crypto primitives.
 *
 * Expected values come from FIPS 180-4 (examples), RFC 2202, RFC 4231 and
 * RFC 6070; the rest were computed independently with Python's hashlib /
 * hmac modules and are hard-coded here.
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -Iinclude \
 *          tests/test_crypto.c src/crypto/[a-z]*.c -lcmocka
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eddy/crypto.h"
#include "../src/crypto/crypto_internal.h"

/* ------------------------------------------------------------------------ */
/* Helpers.                                                                 */

/* Assert that got[0..len) renders as the lowercase hex string want. */
static void assert_hex_eq(const uint8_t *got, size_t len, const char *want) {
  char hex[2 * 256 + 1];
  size_t i;

  assert_true(len <= 256);
  assert_int_equal(strlen(want), 2 * len);
  for (i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", got[i]);
  hex[2 * len] = '\0';
  assert_string_equal(hex, want);
}

/* The streaming API of one hash, behind a common signature so the same
 * test bodies run against SHA-1, SHA-256 and SHA-512. */
typedef struct hash_ops {
  eddy_hash_alg alg;
  size_t digest_size;
  int (*init)(eddy_hash_ctx_t *c);
  int (*update)(eddy_hash_ctx_t *c, const void *data, size_t len);
  int (*final)(eddy_hash_ctx_t *c, uint8_t *out);
  int (*oneshot)(const void *data, size_t len, uint8_t *out);
} hash_ops;

static int sha1_init_u(eddy_hash_ctx_t *c) { return eddy_sha1_init(&c->sha1); }
static int sha1_update_u(eddy_hash_ctx_t *c, const void *d, size_t n) {
  return eddy_sha1_update(&c->sha1, d, n);
}
static int sha1_final_u(eddy_hash_ctx_t *c, uint8_t *o) {
  return eddy_sha1_final(&c->sha1, o);
}
static int sha256_init_u(eddy_hash_ctx_t *c) {
  return eddy_sha256_init(&c->sha256);
}
static int sha256_update_u(eddy_hash_ctx_t *c, const void *d, size_t n) {
  return eddy_sha256_update(&c->sha256, d, n);
}
static int sha256_final_u(eddy_hash_ctx_t *c, uint8_t *o) {
  return eddy_sha256_final(&c->sha256, o);
}
static int sha512_init_u(eddy_hash_ctx_t *c) {
  return eddy_sha512_init(&c->sha512);
}
static int sha512_update_u(eddy_hash_ctx_t *c, const void *d, size_t n) {
  return eddy_sha512_update(&c->sha512, d, n);
}
static int sha512_final_u(eddy_hash_ctx_t *c, uint8_t *o) {
  return eddy_sha512_final(&c->sha512, o);
}

static const hash_ops SHA1_OPS = {
  EDDY_HASH_SHA1, EDDY_SHA1_DIGEST_SIZE, sha1_init_u, sha1_update_u,
  sha1_final_u, eddy_sha1
};
static const hash_ops SHA256_OPS = {
  EDDY_HASH_SHA256, EDDY_SHA256_DIGEST_SIZE, sha256_init_u, sha256_update_u,
  sha256_final_u, eddy_sha256
};
static const hash_ops SHA512_OPS = {
  EDDY_HASH_SHA512, EDDY_SHA512_DIGEST_SIZE, sha512_init_u, sha512_update_u,
  sha512_final_u, eddy_sha512
};

/* FIPS 180-4 example messages. */
static const char MSG_448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char MSG_896[] =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

/* One-shot hash of a C string, compared with want. */
static void check_oneshot(const hash_ops *h, const char *msg,
                          const char *want) {
  uint8_t out[EDDY_HASH_MAX_DIGEST_SIZE];

  assert_int_equal(h->oneshot(msg, strlen(msg), out), 0);
  assert_hex_eq(out, h->digest_size, want);
}

/* Hash one million 'a' fed through update in pieces of every size the
 * buffering logic cares about; every split must give the known digest. */
static void check_million_a_chunked(const hash_ops *h, const char *want) {
  static const size_t chunks[] = {1, 3, 63, 64, 65, 127, 128, 129, 1000};
  static uint8_t as[1000];
  uint8_t out[EDDY_HASH_MAX_DIGEST_SIZE];
  eddy_hash_ctx_t ctx;
  size_t left, n, i;

  memset(as, 'a', sizeof(as));
  for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
    assert_int_equal(h->init(&ctx), 0);
    for (left = 1000000; left > 0; left -= n) {
      n = left < chunks[i] ? left : chunks[i];
      assert_int_equal(h->update(&ctx, as, n), 0);
    }
    assert_int_equal(h->final(&ctx, out), 0);
    assert_hex_eq(out, h->digest_size, want);
  }
}

/* Deterministic many-block test input: byte i is (7i + 3) mod 251. */
static void fill_pattern(uint8_t *buf, size_t len) {
  size_t i;

  for (i = 0; i < len; i++)
    buf[i] = (uint8_t) ((i * 7 + 3) % 251);
}

/* One-shot hash of the 10007-byte pattern (156+ blocks, odd tail). */
static void check_many_blocks(const hash_ops *h, const char *want) {
  static uint8_t buf[10007];
  uint8_t out[EDDY_HASH_MAX_DIGEST_SIZE];

  fill_pattern(buf, sizeof(buf));
  assert_int_equal(h->oneshot(buf, sizeof(buf), out), 0);
  assert_hex_eq(out, h->digest_size, want);
}

/* For every split point of a 300-byte message, two updates must give the
 * same digest as one-shot hashing. */
static void check_split_points(const hash_ops *h) {
  uint8_t msg[300];
  uint8_t want[EDDY_HASH_MAX_DIGEST_SIZE];
  uint8_t got[EDDY_HASH_MAX_DIGEST_SIZE];
  eddy_hash_ctx_t ctx;
  size_t split;

  fill_pattern(msg, sizeof(msg));
  assert_int_equal(h->oneshot(msg, sizeof(msg), want), 0);
  for (split = 0; split <= sizeof(msg); split++) {
    assert_int_equal(h->init(&ctx), 0);
    assert_int_equal(h->update(&ctx, msg, split), 0);
    assert_int_equal(h->update(&ctx, msg + split, sizeof(msg) - split), 0);
    assert_int_equal(h->final(&ctx, got), 0);
    assert_memory_equal(got, want, h->digest_size);
  }
}

/* Bad arguments are rejected with -EINVAL; NULL data with len 0 is fine. */
static void check_hash_bad_args(const hash_ops *h) {
  uint8_t out[EDDY_HASH_MAX_DIGEST_SIZE];
  eddy_hash_ctx_t ctx;

  assert_int_equal(h->oneshot(NULL, 1, out), -EINVAL);
  assert_int_equal(h->oneshot("abc", 3, NULL), -EINVAL);
  assert_int_equal(h->init(&ctx), 0);
  assert_int_equal(h->update(&ctx, NULL, 5), -EINVAL);
  assert_int_equal(h->update(&ctx, NULL, 0), 0);
  assert_int_equal(h->final(&ctx, NULL), -EINVAL);
  assert_int_equal(h->final(&ctx, out), 0);
  assert_int_equal(h->oneshot(NULL, 0, out), 0);
}

/* ------------------------------------------------------------------------ */
/* SHA-1.                                                                   */

static void test_sha1_abc(void **state) {
  (void) state;
  check_oneshot(&SHA1_OPS, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
}

static void test_sha1_empty(void **state) {
  (void) state;
  check_oneshot(&SHA1_OPS, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

static void test_sha1_448bit_two_blocks(void **state) {
  (void) state;
  check_oneshot(&SHA1_OPS, MSG_448,
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void test_sha1_896bit(void **state) {
  (void) state;
  check_oneshot(&SHA1_OPS, MSG_896,
                "a49b2446a02c645bf419f995b67091253a04a259");
}

static void test_sha1_million_a_chunked(void **state) {
  (void) state;
  check_million_a_chunked(&SHA1_OPS,
                          "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_sha1_many_blocks(void **state) {
  (void) state;
  check_many_blocks(&SHA1_OPS, "af18c356bbd8ec1f8a1ccb4d4cca06d2e85af7fe");
}

static void test_sha1_split_points_match_oneshot(void **state) {
  (void) state;
  check_split_points(&SHA1_OPS);
}

static void test_sha1_bad_args(void **state) {
  (void) state;
  check_hash_bad_args(&SHA1_OPS);
}

/* ------------------------------------------------------------------------ */
/* SHA-256.                                                                 */

static void test_sha256_abc(void **state) {
  (void) state;
  check_oneshot(&SHA256_OPS, "abc",
                "ba7816bf8f01cfea414140de5dae2223"
                "b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_empty(void **state) {
  (void) state;
  check_oneshot(&SHA256_OPS, "",
                "e3b0c44298fc1c149afbf4c8996fb924"
                "27ae41e4649b934ca495991b7852b855");
}

static void test_sha256_448bit_two_blocks(void **state) {
  (void) state;
  check_oneshot(&SHA256_OPS, MSG_448,
                "248d6a61d20638b8e5c026930c3e6039"
                "a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_896bit(void **state) {
  (void) state;
  check_oneshot(&SHA256_OPS, MSG_896,
                "cf5b16a778af8380036ce59e7b049237"
                "0b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a_chunked(void **state) {
  (void) state;
  check_million_a_chunked(&SHA256_OPS,
                          "cdc76e5c9914fb9281a1c7e284d73e67"
                          "f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_many_blocks(void **state) {
  (void) state;
  check_many_blocks(&SHA256_OPS,
                    "fa86a58330225123cec00deb4a4c8acb"
                    "077518b77d44f4a4475fb252c1b1393d");
}

static void test_sha256_split_points_match_oneshot(void **state) {
  (void) state;
  check_split_points(&SHA256_OPS);
}

static void test_sha256_bad_args(void **state) {
  (void) state;
  check_hash_bad_args(&SHA256_OPS);
}

/* ------------------------------------------------------------------------ */
/* SHA-512.                                                                 */

static void test_sha512_abc(void **state) {
  (void) state;
  check_oneshot(&SHA512_OPS, "abc",
                "ddaf35a193617abacc417349ae204131"
                "12e6fa4e89a97ea20a9eeee64b55d39a"
                "2192992a274fc1a836ba3c23a3feebbd"
                "454d4423643ce80e2a9ac94fa54ca49f");
}

static void test_sha512_empty(void **state) {
  (void) state;
  check_oneshot(&SHA512_OPS, "",
                "cf83e1357eefb8bdf1542850d66d8007"
                "d620e4050b5715dc83f4a921d36ce9ce"
                "47d0d13c5d85f2b0ff8318d2877eec2f"
                "63b931bd47417a81a538327af927da3e");
}

static void test_sha512_448bit(void **state) {
  (void) state;
  check_oneshot(&SHA512_OPS, MSG_448,
                "204a8fc6dda82f0a0ced7beb8e08a416"
                "57c16ef468b228a8279be331a703c335"
                "96fd15c13b1b07f9aa1d3bea57789ca0"
                "31ad85c7a71dd70354ec631238ca3445");
}

static void test_sha512_896bit_two_blocks(void **state) {
  (void) state;
  check_oneshot(&SHA512_OPS, MSG_896,
                "8e959b75dae313da8cf4f72814fc143f"
                "8f7779c6eb9f7fa17299aeadb6889018"
                "501d289e4900f7e4331b99dec4b5433a"
                "c7d329eeb6dd26545e96e55b874be909");
}

static void test_sha512_million_a_chunked(void **state) {
  (void) state;
  check_million_a_chunked(&SHA512_OPS,
                          "e718483d0ce769644e2e42c7bc15b463"
                          "8e1f98b13b2044285632a803afa973eb"
                          "de0ff244877ea60a4cb0432ce577c31b"
                          "eb009c5c2c49aa2e4eadb217ad8cc09b");
}

static void test_sha512_many_blocks(void **state) {
  (void) state;
  check_many_blocks(&SHA512_OPS,
                    "0b2c76ae549e8337e0de919422e738ec"
                    "069ebf39bb993237226c8de753824056"
                    "be5eb7507e803632709eee7e1d463e0f"
                    "01d6a0f060735e22270c185ec2aeee92");
}

static void test_sha512_split_points_match_oneshot(void **state) {
  (void) state;
  check_split_points(&SHA512_OPS);
}

static void test_sha512_bad_args(void **state) {
  (void) state;
  check_hash_bad_args(&SHA512_OPS);
}

/* ------------------------------------------------------------------------ */
/* Algorithm metadata.                                                      */

static void test_hash_digest_size_known_algs(void **state) {
  (void) state;
  assert_int_equal(eddy_hash_digest_size(EDDY_HASH_SHA1), 20);
  assert_int_equal(eddy_hash_digest_size(EDDY_HASH_SHA256), 32);
  assert_int_equal(eddy_hash_digest_size(EDDY_HASH_SHA512), 64);
  assert_int_equal(eddy_hash_block_size(EDDY_HASH_SHA256), 64);
  assert_int_equal(eddy_hash_block_size(EDDY_HASH_SHA512), 128);
}

static void test_hash_digest_size_bad_alg(void **state) {
  (void) state;
  assert_int_equal(eddy_hash_digest_size((eddy_hash_alg) 0), -EINVAL);
  assert_int_equal(eddy_hash_digest_size((eddy_hash_alg) 99), -EINVAL);
  assert_int_equal(eddy_hash_block_size((eddy_hash_alg) 99), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* HMAC.                                                                    */

/* Test case inputs shared by RFC 2202 and RFC 4231 (cases 1-5 are the same
 * in both; 6 and 7 differ in key length and data). */
typedef struct hmac_case {
  uint8_t key[131];
  size_t keylen;
  uint8_t data[160];
  size_t datalen;
} hmac_case;

/* Fill c with a key of n copies of byte k (or the bytes of s if non-NULL). */
static void case_key(hmac_case *c, const char *s, uint8_t k, size_t n) {
  if (s != NULL) {
    n = strlen(s);
    memcpy(c->key, s, n);
  } else {
    memset(c->key, k, n);
  }
  c->keylen = n;
}

/* Fill c with data of n copies of byte d (or the bytes of s if non-NULL). */
static void case_data(hmac_case *c, const char *s, uint8_t d, size_t n) {
  if (s != NULL) {
    n = strlen(s);
    memcpy(c->data, s, n);
  } else {
    memset(c->data, d, n);
  }
  c->datalen = n;
}

/* Cases 1-5 common to RFC 2202 (SHA-1) and RFC 4231 (SHA-2). */
static void common_case(int n, hmac_case *c) {
  size_t i;

  switch (n) {
    case 1:
      case_key(c, NULL, 0x0b, 20);
      case_data(c, "Hi There", 0, 0);
      break;
    case 2:
      case_key(c, "Jefe", 0, 0);
      case_data(c, "what do ya want for nothing?", 0, 0);
      break;
    case 3:
      case_key(c, NULL, 0xaa, 20);
      case_data(c, NULL, 0xdd, 50);
      break;
    case 4:
      for (i = 0; i < 25; i++)
        c->key[i] = (uint8_t) (i + 1);
      c->keylen = 25;
      case_data(c, NULL, 0xcd, 50);
      break;
    case 5:
      case_key(c, NULL, 0x0c, 20);
      case_data(c, "Test With Truncation", 0, 0);
      break;
    default:
      fail_msg("no common HMAC case %d", n);
  }
}

/* RFC 4231 test case n (1-7). */
static void rfc4231_case(int n, hmac_case *c) {
  if (n <= 5) {
    common_case(n, c);
    return;
  }
  case_key(c, NULL, 0xaa, 131);
  if (n == 6)
    case_data(c, "Test Using Larger Than Block-Size Key - Hash Key First", 0,
              0);
  else
    case_data(c, "This is a test using a larger than block-size key and a "
                 "larger than block-size data. The key needs to be hashed "
                 "before being used by the HMAC algorithm.", 0, 0);
}

/* RFC 2202 SHA-1 test case n (1-7). */
static void rfc2202_case(int n, hmac_case *c) {
  if (n <= 5) {
    common_case(n, c);
    return;
  }
  case_key(c, NULL, 0xaa, 80);
  if (n == 6)
    case_data(c, "Test Using Larger Than Block-Size Key - Hash Key First", 0,
              0);
  else
    case_data(c, "Test Using Larger Than Block-Size Key and Larger "
                 "Than One Block-Size Data", 0, 0);
}

/* One-shot HMAC of case c; compare the first outlen bytes with want. */
static void check_hmac(eddy_hash_alg alg, const hmac_case *c,
                       size_t outlen, const char *want) {
  uint8_t out[EDDY_HASH_MAX_DIGEST_SIZE];

  assert_int_equal(eddy_hmac(alg, c->key, c->keylen, c->data, c->datalen,
                             out), 0);
  assert_hex_eq(out, outlen, want);
}

static void test_hmac_sha1_rfc2202(void **state) {
  static const char *want[7] = {
    "b617318655057264e28bc0b6fb378c8ef146be00",
    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
    "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
    "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
    "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
    "aa4ae5e15272d00e95705637ce8a3b55ed402112",
    "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
  };
  hmac_case c;
  int n;

  (void) state;
  for (n = 1; n <= 7; n++) {
    rfc2202_case(n, &c);
    check_hmac(EDDY_HASH_SHA1, &c, 20, want[n - 1]);
  }
}

static void test_hmac_sha256_rfc4231(void **state) {
  static const char *want[7] = {
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    "a3b6167473100ee06e0c796c2955552b", /* case 5: truncated to 128 bits */
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  };
  hmac_case c;
  int n;

  (void) state;
  for (n = 1; n <= 7; n++) {
    rfc4231_case(n, &c);
    check_hmac(EDDY_HASH_SHA256, &c, n == 5 ? 16 : 32, want[n - 1]);
  }
}

static void test_hmac_sha512_rfc4231(void **state) {
  static const char *want[7] = {
    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
    "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
    "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
    "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
    "415fad6271580a531d4179bc891d87a6", /* case 5: truncated to 128 bits */
    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
    "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
  };
  hmac_case c;
  int n;

  (void) state;
  for (n = 1; n <= 7; n++) {
    rfc4231_case(n, &c);
    check_hmac(EDDY_HASH_SHA512, &c, n == 5 ? 16 : 64, want[n - 1]);
  }
}

/* Feeding RFC 4231 case 7 byte by byte gives the one-shot MAC. */
static void test_hmac_streaming_matches_oneshot(void **state) {
  static const eddy_hash_alg algs[] = {
    EDDY_HASH_SHA1, EDDY_HASH_SHA256, EDDY_HASH_SHA512
  };
  uint8_t want[EDDY_HASH_MAX_DIGEST_SIZE];
  uint8_t got[EDDY_HASH_MAX_DIGEST_SIZE];
  eddy_hmac_ctx_t ctx;
  hmac_case c;
  size_t a, i;

  (void) state;
  rfc4231_case(7, &c);
  for (a = 0; a < 3; a++) {
    assert_int_equal(eddy_hmac(algs[a], c.key, c.keylen, c.data, c.datalen,
                               want), 0);
    assert_int_equal(eddy_hmac_init(&ctx, algs[a], c.key, c.keylen), 0);
    for (i = 0; i < c.datalen; i++)
      assert_int_equal(eddy_hmac_update(&ctx, c.data + i, 1), 0);
    assert_int_equal(eddy_hmac_final(&ctx, got), 0);
    assert_memory_equal(got, want,
                        (size_t) eddy_hash_digest_size(algs[a]));
  }
}

/* An empty key and empty message are valid (value from Python hmac). */
static void test_hmac_empty_key_and_message(void **state) {
  uint8_t out[EDDY_SHA256_DIGEST_SIZE];

  (void) state;
  assert_int_equal(eddy_hmac(EDDY_HASH_SHA256, NULL, 0, NULL, 0, out), 0);
  assert_hex_eq(out, sizeof(out),
                "b613679a0814d9ec772f95d778c35fc5"
                "ff1697c493715653c6c712144292c5ad");
}

static void test_hmac_bad_args(void **state) {
  uint8_t out[EDDY_HASH_MAX_DIGEST_SIZE];
  eddy_hmac_ctx_t ctx;

  (void) state;
  assert_int_equal(eddy_hmac((eddy_hash_alg) 42, "k", 1, "d", 1, out),
                   -EINVAL);
  assert_int_equal(eddy_hmac(EDDY_HASH_SHA256, "k", 1, "d", 1, NULL),
                   -EINVAL);
  assert_int_equal(eddy_hmac(EDDY_HASH_SHA256, NULL, 1, "d", 1, out),
                   -EINVAL);
  assert_int_equal(eddy_hmac(EDDY_HASH_SHA256, "k", 1, NULL, 1, out),
                   -EINVAL);
  assert_int_equal(eddy_hmac_init(NULL, EDDY_HASH_SHA1, "k", 1), -EINVAL);
  assert_int_equal(eddy_hmac_init(&ctx, (eddy_hash_alg) 0, "k", 1), -EINVAL);
}

/* final wipes the context, so further use is rejected, not undefined. */
static void test_hmac_ctx_rejected_after_final(void **state) {
  uint8_t out[EDDY_HASH_MAX_DIGEST_SIZE];
  eddy_hmac_ctx_t ctx;

  (void) state;
  assert_int_equal(eddy_hmac_init(&ctx, EDDY_HASH_SHA512, "k", 1), 0);
  assert_int_equal(eddy_hmac_final(&ctx, out), 0);
  assert_int_equal(eddy_hmac_update(&ctx, "x", 1), -EINVAL);
  assert_int_equal(eddy_hmac_final(&ctx, out), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* PBKDF2.                                                                  */

typedef struct pbkdf2_vector {
  const char *password;
  size_t pwlen;
  const char *salt;
  size_t saltlen;
  uint32_t iterations;
  size_t outlen;
  const char *want;
} pbkdf2_vector;

/* Derive every vector in v[0..n) with alg and compare. */
static void check_pbkdf2(eddy_hash_alg alg, const pbkdf2_vector *v,
                         size_t n) {
  uint8_t out[128];
  size_t i;

  for (i = 0; i < n; i++) {
    assert_true(v[i].outlen <= sizeof(out));
    assert_int_equal(eddy_pbkdf2(alg, v[i].password, v[i].pwlen, v[i].salt,
                                 v[i].saltlen, v[i].iterations, out,
                                 v[i].outlen), 0);
    assert_hex_eq(out, v[i].outlen, v[i].want);
  }
}

#define STR(s) s, sizeof(s) - 1
#define LONG_PW "passwordPASSWORDpassword"
#define LONG_SALT "saltSALTsaltSALTsaltSALTsaltSALTsalt"

/* RFC 6070. The 16,777,216-iteration vector (eefe3d61...) is skipped to
 * keep the suite fast. */
static void test_pbkdf2_sha1_rfc6070(void **state) {
  static const pbkdf2_vector v[] = {
    {STR("password"), STR("salt"), 1, 20,
     "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
    {STR("password"), STR("salt"), 2, 20,
     "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
    {STR("password"), STR("salt"), 4096, 20,
     "4b007901b765489abead49d926f721d065a429c1"},
    {STR(LONG_PW), STR(LONG_SALT), 4096, 25,
     "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"},
    {STR("pass\0word"), STR("sa\0lt"), 4096, 16,
     "56fa6aa75548099dcc37d7f03425e0c3"},
  };

  (void) state;
  check_pbkdf2(EDDY_HASH_SHA1, v, sizeof(v) / sizeof(v[0]));
}

/* RFC 6070-style inputs with HMAC-SHA256 (values cross-checked with
 * Python's hashlib.pbkdf2_hmac); the 40-byte one spans two blocks. */
static void test_pbkdf2_sha256_vectors(void **state) {
  static const pbkdf2_vector v[] = {
    {STR("password"), STR("salt"), 1, 32,
     "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
    {STR("password"), STR("salt"), 2, 32,
     "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"},
    {STR("password"), STR("salt"), 4096, 32,
     "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
    {STR(LONG_PW), STR(LONG_SALT), 4096, 40,
     "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1"
     "c635518c7dac47e9"},
    {STR("pass\0word"), STR("sa\0lt"), 4096, 16,
     "89b69d0516f829893c696226650a8687"},
  };

  (void) state;
  check_pbkdf2(EDDY_HASH_SHA256, v, sizeof(v) / sizeof(v[0]));
}

/* Same inputs with HMAC-SHA512; the 100-byte one spans two blocks. */
static void test_pbkdf2_sha512_vectors(void **state) {
  static const pbkdf2_vector v[] = {
    {STR("password"), STR("salt"), 1, 64,
     "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
     "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"},
    {STR("password"), STR("salt"), 2, 64,
     "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53c"
     "f76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e"},
    {STR("password"), STR("salt"), 4096, 64,
     "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5"
     "143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5"},
    {STR(LONG_PW), STR(LONG_SALT), 4096, 100,
     "8c0511f4c6e597c6ac6315d8f0362e225f3c501495ba23b868c005174dc4ee71"
     "115b59f9e60cd9532fa33e0f75aefe30225c583a186cd82bd4daea9724a3d3b8"
     "04f75bdd41494fa324cab24bcc680fb3b96a30cf5d21fac3c2875913919f3399"
     "b1d9ce7e"},
    {STR("pass\0word"), STR("sa\0lt"), 4096, 16,
     "9d9e9c4cd21fe4be24d5b8244c759665"},
  };

  (void) state;
  check_pbkdf2(EDDY_HASH_SHA512, v, sizeof(v) / sizeof(v[0]));
}

/* A 200-byte password (longer than every block size, so it is hashed
 * first) with an empty NULL salt, 3 iterations, 33-byte output. */
static void test_pbkdf2_long_password_empty_salt(void **state) {
  static const char *want[3] = {
    "5824bc48f01cc6fafa11ad897a32f6055591e8ec16c4030ccbb1e7e96e3a8b8266",
    "aa71d4f13c0d0ed5f34b2ca24b0b0306d667f1fc63c00fa2d7d1736df59fd24135",
    "01dac8f6342e74e0198e41dc947652cf2ced7de44eb501d56bfb75b78a55a3145f",
  };
  static const eddy_hash_alg algs[3] = {
    EDDY_HASH_SHA1, EDDY_HASH_SHA256, EDDY_HASH_SHA512
  };
  uint8_t pw[200];
  uint8_t out[33];
  int a;

  (void) state;
  memset(pw, 'K', sizeof(pw));
  for (a = 0; a < 3; a++) {
    assert_int_equal(eddy_pbkdf2(algs[a], pw, sizeof(pw), NULL, 0, 3, out,
                                 sizeof(out)), 0);
    assert_hex_eq(out, sizeof(out), want[a]);
  }
}

static void test_pbkdf2_rejects_zero_iterations(void **state) {
  uint8_t out[32];

  (void) state;
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA256, "p", 1, "s", 1, 0, out,
                               sizeof(out)), -EINVAL);
}

static void test_pbkdf2_rejects_zero_outlen(void **state) {
  uint8_t out[32];

  (void) state;
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA256, "p", 1, "s", 1, 1, out, 0),
                   -EINVAL);
}

static void test_pbkdf2_rejects_bad_alg(void **state) {
  uint8_t out[32];

  (void) state;
  assert_int_equal(eddy_pbkdf2((eddy_hash_alg) 7, "p", 1, "s", 1, 1, out,
                               sizeof(out)), -EINVAL);
}

static void test_pbkdf2_rejects_null_out(void **state) {
  (void) state;
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA256, "p", 1, "s", 1, 1, NULL,
                               32), -EINVAL);
}

static void test_pbkdf2_rejects_null_password_or_salt(void **state) {
  uint8_t out[32];

  (void) state;
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA256, NULL, 1, "s", 1, 1, out,
                               sizeof(out)), -EINVAL);
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA256, "p", 1, NULL, 1, 1, out,
                               sizeof(out)), -EINVAL);
}

/* outlen over (2^32 - 1) * hLen is refused up front, before any output is
 * written (so a small buffer is safe here), and out stays untouched. */
static void test_pbkdf2_rejects_outlen_over_rfc_limit(void **state) {
  uint8_t out[8];
  size_t too_long;

  (void) state;
  if (SIZE_MAX / EDDY_SHA1_DIGEST_SIZE <= UINT32_MAX)
    skip(); /* 32-bit size_t cannot express the limit. */
  too_long = (size_t) UINT32_MAX * EDDY_SHA1_DIGEST_SIZE + 1;
  memset(out, 0x5a, sizeof(out));
  assert_int_equal(eddy_pbkdf2(EDDY_HASH_SHA1, "p", 1, "s", 1, 1, out,
                               too_long), -EINVAL);
  assert_int_equal(out[0], 0x5a);
}

/* ------------------------------------------------------------------------ */
/* Random bytes.                                                            */

/* True if buf[0..len) is all zero bytes. */
static int all_zero(const uint8_t *buf, size_t len) {
  size_t i;

  for (i = 0; i < len; i++)
    if (buf[i] != 0)
      return 0;
  return 1;
}

static void test_random_two_draws_differ_and_nonzero(void **state) {
  uint8_t a[64];
  uint8_t b[64];

  (void) state;
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  assert_int_equal(eddy_random_bytes(a, sizeof(a)), 0);
  assert_int_equal(eddy_random_bytes(b, sizeof(b)), 0);
  assert_false(all_zero(a, sizeof(a)));
  assert_false(all_zero(b, sizeof(b)));
  assert_memory_not_equal(a, b, sizeof(a));
}

/* 1 MiB in one call succeeds and fills the whole buffer (the last 64
 * bytes, zeroed beforehand, come back non-zero). */
static void test_random_large_request(void **state) {
  static uint8_t buf[1 << 20];

  (void) state;
  memset(buf, 0, sizeof(buf));
  assert_int_equal(eddy_random_bytes(buf, sizeof(buf)), 0);
  assert_false(all_zero(buf, 64));
  assert_false(all_zero(buf + sizeof(buf) - 64, 64));
}

static void test_random_len_zero(void **state) {
  uint8_t b = 0x77;

  (void) state;
  assert_int_equal(eddy_random_bytes(&b, 0), 0);
  assert_int_equal(b, 0x77);
  assert_int_equal(eddy_random_bytes(NULL, 0), 0);
}

static void test_random_null_buf(void **state) {
  (void) state;
  assert_int_equal(eddy_random_bytes(NULL, 16), -EINVAL);
}

/* The /dev/urandom fallback (used when getrandom is missing) works too. */
static void test_random_urandom_fallback(void **state) {
  uint8_t a[64];
  uint8_t b[64];

  (void) state;
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  assert_int_equal(eddy__random_bytes_urandom(a, sizeof(a)), 0);
  assert_int_equal(eddy__random_bytes_urandom(b, sizeof(b)), 0);
  assert_false(all_zero(a, sizeof(a)));
  assert_memory_not_equal(a, b, sizeof(a));
  assert_int_equal(eddy__random_bytes_urandom(NULL, 1), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Constant-time comparison.                                                */

static void test_timingsafe_equal_same(void **state) {
  uint8_t a[33];
  uint8_t b[33];

  (void) state;
  fill_pattern(a, sizeof(a));
  memcpy(b, a, sizeof(b));
  assert_int_equal(eddy_timingsafe_equal(a, b, sizeof(a)), 1);
}

static void test_timingsafe_equal_differ_first_byte(void **state) {
  uint8_t a[33];
  uint8_t b[33];

  (void) state;
  fill_pattern(a, sizeof(a));
  memcpy(b, a, sizeof(b));
  b[0] ^= 0x01;
  assert_int_equal(eddy_timingsafe_equal(a, b, sizeof(a)), 0);
}

static void test_timingsafe_equal_differ_last_byte(void **state) {
  uint8_t a[33];
  uint8_t b[33];

  (void) state;
  fill_pattern(a, sizeof(a));
  memcpy(b, a, sizeof(b));
  b[sizeof(b) - 1] ^= 0x80;
  assert_int_equal(eddy_timingsafe_equal(a, b, sizeof(a)), 0);
}

static void test_timingsafe_equal_len_zero(void **state) {
  (void) state;
  assert_int_equal(eddy_timingsafe_equal("x", "y", 0), 1);
  assert_int_equal(eddy_timingsafe_equal(NULL, NULL, 0), 1);
}

static void test_timingsafe_equal_null_is_unequal(void **state) {
  (void) state;
  assert_int_equal(eddy_timingsafe_equal(NULL, "abc", 3), 0);
  assert_int_equal(eddy_timingsafe_equal("abc", NULL, 3), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sha1_abc),
    cmocka_unit_test(test_sha1_empty),
    cmocka_unit_test(test_sha1_448bit_two_blocks),
    cmocka_unit_test(test_sha1_896bit),
    cmocka_unit_test(test_sha1_million_a_chunked),
    cmocka_unit_test(test_sha1_many_blocks),
    cmocka_unit_test(test_sha1_split_points_match_oneshot),
    cmocka_unit_test(test_sha1_bad_args),
    cmocka_unit_test(test_sha256_abc),
    cmocka_unit_test(test_sha256_empty),
    cmocka_unit_test(test_sha256_448bit_two_blocks),
    cmocka_unit_test(test_sha256_896bit),
    cmocka_unit_test(test_sha256_million_a_chunked),
    cmocka_unit_test(test_sha256_many_blocks),
    cmocka_unit_test(test_sha256_split_points_match_oneshot),
    cmocka_unit_test(test_sha256_bad_args),
    cmocka_unit_test(test_sha512_abc),
    cmocka_unit_test(test_sha512_empty),
    cmocka_unit_test(test_sha512_448bit),
    cmocka_unit_test(test_sha512_896bit_two_blocks),
    cmocka_unit_test(test_sha512_million_a_chunked),
    cmocka_unit_test(test_sha512_many_blocks),
    cmocka_unit_test(test_sha512_split_points_match_oneshot),
    cmocka_unit_test(test_sha512_bad_args),
    cmocka_unit_test(test_hash_digest_size_known_algs),
    cmocka_unit_test(test_hash_digest_size_bad_alg),
    cmocka_unit_test(test_hmac_sha1_rfc2202),
    cmocka_unit_test(test_hmac_sha256_rfc4231),
    cmocka_unit_test(test_hmac_sha512_rfc4231),
    cmocka_unit_test(test_hmac_streaming_matches_oneshot),
    cmocka_unit_test(test_hmac_empty_key_and_message),
    cmocka_unit_test(test_hmac_bad_args),
    cmocka_unit_test(test_hmac_ctx_rejected_after_final),
    cmocka_unit_test(test_pbkdf2_sha1_rfc6070),
    cmocka_unit_test(test_pbkdf2_sha256_vectors),
    cmocka_unit_test(test_pbkdf2_sha512_vectors),
    cmocka_unit_test(test_pbkdf2_long_password_empty_salt),
    cmocka_unit_test(test_pbkdf2_rejects_zero_iterations),
    cmocka_unit_test(test_pbkdf2_rejects_zero_outlen),
    cmocka_unit_test(test_pbkdf2_rejects_bad_alg),
    cmocka_unit_test(test_pbkdf2_rejects_null_out),
    cmocka_unit_test(test_pbkdf2_rejects_null_password_or_salt),
    cmocka_unit_test(test_pbkdf2_rejects_outlen_over_rfc_limit),
    cmocka_unit_test(test_random_two_draws_differ_and_nonzero),
    cmocka_unit_test(test_random_large_request),
    cmocka_unit_test(test_random_len_zero),
    cmocka_unit_test(test_random_null_buf),
    cmocka_unit_test(test_random_urandom_fallback),
    cmocka_unit_test(test_timingsafe_equal_same),
    cmocka_unit_test(test_timingsafe_equal_differ_first_byte),
    cmocka_unit_test(test_timingsafe_equal_differ_last_byte),
    cmocka_unit_test(test_timingsafe_equal_len_zero),
    cmocka_unit_test(test_timingsafe_equal_null_is_unequal),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
