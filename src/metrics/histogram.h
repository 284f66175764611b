/* histogram.h: a latency histogram with one writer and lock-free readers.
 *
 * Values are nanoseconds, from 0 to EDDY__HIST_VALUE_MAX (2^41 - 1 ns,
 * about 36 minutes). A larger value is recorded as EDDY__HIST_VALUE_MAX (the
 * top bucket, and the maximum, the sum and the sum of squares see that
 * value) and counted in `clamped`.
 *
 * Buckets (log-linear, as HdrHistogram's): values below 2^(K+1) (K =
 * EDDY__HIST_SUB_BITS = 7, so below 256) have one bucket each; above, every
 * power of two [2^e, 2^(e+1)) is split into 2^K = 128 buckets of width
 * 2^(e-K). From 256 up, a bucket's width is at most 1/128 of any value
 * in it.
 *
 * Error bound. A percentile is the value of nearest rank: the rank-th
 * smallest recorded value x, rank = ceil(p/100 * n) (at least 1; a rank
 * within 1e-12 of an integer counts as that integer, so p = 99.9 of 1000
 * values is the 999th, although the double 99.9 is slightly more). It is
 * reported as the highest value of x's bucket (HdrHistogram's "highest
 * equivalent value"), clamped to [min, max]; the smallest and the largest
 * rank report min and max themselves. So a percentile never under-reports:
 *     x <= reported < x + x/128,   relative error < 2^-7 = 0.79% (<= 1%),
 * and it is exact below 256 ns, for rank 1 and for rank n.
 *
 * Threads. One writer (the thread that owns the histogram: the loop
 * thread) calls init, reset, record and record_n. Any number of threads
 * may call eddy__hist_snapshot at any moment, without stopping the writer;
 * everything else works on a snapshot, which is a plain caller-owned copy.
 * No lock and no locked read-modify-write: the writer reads its own fields
 * with relaxed atomic loads and writes them with plain atomic stores,
 * inside a sequence counter (a seqlock) that it makes odd before and even
 * after each update. The stores are release stores and the readers' loads
 * acquire loads: that is the ordering a seqlock needs, without a fence
 * (which ThreadSanitizer cannot see), and on x86-64 every one of them is an
 * ordinary mov; weakly ordered CPUs pay an ordered store per field.
 *
 * What a snapshot taken during writes shows:
 *   - count, min, max, clamped, sum and sum of squares always come from
 *     one state between two records (the reader retries its copy of them
 *     while the sequence is odd or changed), so mean and stddev agree with
 *     count exactly;
 *   - the buckets are copied after those fields. If a record happened
 *     during the copy (tried EDDY__HIST_SNAP_TRIES times) the buckets hold
 *     the counted records plus some of those made during the copy: then
 *     `total` (the sum of the copied buckets) exceeds `count` by those, and
 *     a bucket may hold a value outside [min, max]. A reset during the copy
 *     can leave buckets partly cleared (total < count).
 * The reader is robust to all of it: percentiles and the iterator use
 * `total`, percentiles are clamped to [min, max], and nothing divides by
 * a zero count.
 *
 * Mean and stddev come from exact 128-bit integer sums (sum of values, sum
 * of squares: exact until about 2^46 values at the top of the range). The
 * standard deviation (population: divides by n) is computed exactly in
 * integers around an integer next to the mean, Sum (v - m)^2, and then
 * divided once in long double: no cancellation, whatever the count. Not
 * Welford: it would need a division per record on the writer.
 *
 * Cost of eddy__hist_record: about 45 instructions, 11 stores and no
 * branch (the clamp, min and max are conditional moves); 4-5 ns on this
 * project's x86-64 test machine, in a loop of 10^8 records.
 *
 * Memory: EDDY__HIST_BUCKETS (4480) 64-bit counters, about 35 KiB per
 * histogram and per snapshot. Nothing allocates.
 */
#ifndef EDDY_METRICS_HISTOGRAM_H
#define EDDY_METRICS_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define EDDY__HIST_SUB_BITS 7 /* 2^7 = 128 linear buckets per power of 2 */
#define EDDY__HIST_SUB_COUNT (1u << EDDY__HIST_SUB_BITS)
#define EDDY__HIST_RANGE_BITS 41 /* values below 2^41 ns are tracked */
#define EDDY__HIST_VALUE_MAX ((UINT64_C(1) << EDDY__HIST_RANGE_BITS) - 1)
/* Shifts 0 .. RANGE_BITS-1-SUB_BITS, each beyond 0 adding SUB_COUNT
 * buckets to the 2*SUB_COUNT exact ones: (41 - 7 + 1) * 128 = 4480. */
#define EDDY__HIST_BUCKETS                                                     \
  ((EDDY__HIST_RANGE_BITS - EDDY__HIST_SUB_BITS + 1) * EDDY__HIST_SUB_COUNT)
/* Whole copies a snapshot attempts before it accepts torn buckets. */
#define EDDY__HIST_SNAP_TRIES 4

/* An unsigned 128-bit integer as two words, so the sums stay exact on
 * targets without __int128. */
typedef struct eddy__u128 {
  uint64_t lo;
  uint64_t hi;
} eddy__u128_t;

/* The live histogram. Its fields belong to the writer; readers only call
 * eddy__hist_snapshot. The scalar fields share the first cache line. */
typedef struct eddy__hist {
  _Alignas(64) uint64_t seq; /* odd while the writer updates */
  uint64_t count;
  uint64_t min; /* UINT64_MAX while empty */
  uint64_t max;
  uint64_t sum_lo, sum_hi;
  uint64_t sq_lo, sq_hi;
  uint64_t clamped; /* values recorded above EDDY__HIST_VALUE_MAX */
  uint64_t buckets[EDDY__HIST_BUCKETS];
} eddy__hist_t;

/* A copy to read: plain fields, owned by the caller. */
typedef struct eddy__hist_snap {
  uint64_t count;   /* values recorded */
  uint64_t min;     /* UINT64_MAX while empty; see eddy__hist_snap_min */
  uint64_t max;     /* 0 while empty */
  uint64_t clamped; /* values that were above EDDY__HIST_VALUE_MAX */
  eddy__u128_t sum;
  eddy__u128_t sumsq;
  uint64_t total; /* sum of buckets[]: == count unless torn (see above) */
  uint64_t buckets[EDDY__HIST_BUCKETS];
} eddy__hist_snap_t;

/* Walks the non-empty buckets of a snapshot in increasing order. After
 * eddy__hist_iter_next returns 1, lo..hi (inclusive) is the bucket's range
 * of values, count the values in it and cumulative the values in it and
 * every bucket below (a Prometheus "le" bucket for hi). */
typedef struct eddy__hist_iter {
  const eddy__hist_snap_t *snap;
  unsigned next; /* next bucket index to look at */
  unsigned index;
  uint64_t lo, hi;
  uint64_t count;
  uint64_t cumulative;
} eddy__hist_iter_t;

/* ---- the writer ---------------------------------------------------------
 * Only the owning thread calls these, never two threads at once. */

/* Makes h empty. Not concurrent with anything: call it before readers can
 * see h. */
void eddy__hist_init(eddy__hist_t *h);

/* Empties h. Writer thread only. Readers may snapshot concurrently: they
 * wait for the reset to finish before copying the scalar fields (seq is
 * odd during it), and a bucket copy that overlaps it is retried and at
 * worst shows buckets partly cleared. Costs one store per bucket. */
void eddy__hist_reset(eddy__hist_t *h);

/* Bucket of a value (<= EDDY__HIST_VALUE_MAX): the exact values below
 * 2*SUB_COUNT are their own bucket; above, the top SUB_BITS+1 bits of the
 * value select it. The OR makes count-leading-zeros see at least bit
 * SUB_BITS, so shift is never negative and clz never sees 0. */
static inline unsigned eddy__hist_index(uint64_t v) {
  unsigned log2 = 63u - (unsigned)__builtin_clzll(
                            v | ((UINT64_C(2) << EDDY__HIST_SUB_BITS) - 1));
  unsigned shift = log2 - EDDY__HIST_SUB_BITS;

  return (shift << EDDY__HIST_SUB_BITS) + (unsigned)(v >> shift);
}

/* Smallest and largest value of bucket i (i < EDDY__HIST_BUCKETS). */
uint64_t eddy__hist_bucket_lo(unsigned i);
uint64_t eddy__hist_bucket_hi(unsigned i);

/* The writer's accesses to its own fields: it reads what it wrote itself
 * (relaxed), and each store is a release store, so that a reader that sees
 * any of an update's stores also sees the odd sequence number before it. */
#define EDDY__HIST_OWN(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define EDDY__HIST_PUT(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* (hi:lo) += a * b, modulo 2^128. */
static inline void eddy__hist_add_mul(uint64_t *lo, uint64_t *hi, uint64_t a,
                                      uint64_t b) {
#if defined(__SIZEOF_INT128__)
  unsigned __int128 t = ((unsigned __int128)*hi << 64) | *lo;
  t += (unsigned __int128)a * b;
  *lo = (uint64_t)t;
  *hi = (uint64_t)(t >> 64);
#else
  uint64_t a0 = a & 0xffffffffu, a1 = a >> 32;
  uint64_t b0 = b & 0xffffffffu, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
  uint64_t plo = (mid << 32) | (p00 & 0xffffffffu);
  uint64_t phi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  uint64_t old = *lo;
  *lo = old + plo;
  *hi += phi + (*lo < old);
#endif
}

/* Records n occurrences of value v (nanoseconds). Writer thread only.
 * O(1), no allocation, no lock; n == 0 records nothing. */
static inline void eddy__hist_record_n(eddy__hist_t *h, uint64_t v,
                                       uint64_t n) {
  uint64_t over = v > EDDY__HIST_VALUE_MAX;
  uint64_t seq, lo, hi, sq_lo, sq_hi, mn, mx;
  unsigned i;

  if (n == 0)
    return;
  v = over ? EDDY__HIST_VALUE_MAX : v;
  i = eddy__hist_index(v);
  seq = EDDY__HIST_OWN(&h->seq);
  EDDY__HIST_PUT(&h->seq, seq + 1); /* odd: an update is under way */
  EDDY__HIST_PUT(&h->buckets[i], EDDY__HIST_OWN(&h->buckets[i]) + n);
  EDDY__HIST_PUT(&h->count, EDDY__HIST_OWN(&h->count) + n);
  mn = EDDY__HIST_OWN(&h->min);
  mx = EDDY__HIST_OWN(&h->max);
  EDDY__HIST_PUT(&h->min, v < mn ? v : mn);
  EDDY__HIST_PUT(&h->max, v > mx ? v : mx);
  lo = EDDY__HIST_OWN(&h->sum_lo);
  hi = EDDY__HIST_OWN(&h->sum_hi);
  eddy__hist_add_mul(&lo, &hi, v, n);
  EDDY__HIST_PUT(&h->sum_lo, lo);
  EDDY__HIST_PUT(&h->sum_hi, hi);
  /* v^2 < 2^82: add (v*v)*n as v*(v*n) when v*n fits 64 bits (always for
   * n == 1: v < 2^41), else as two products. */
  sq_lo = EDDY__HIST_OWN(&h->sq_lo);
  sq_hi = EDDY__HIST_OWN(&h->sq_hi);
  if (n <= (UINT64_C(1) << 23))
    eddy__hist_add_mul(&sq_lo, &sq_hi, v, v * n);
  else {
    uint64_t vv_lo = 0, vv_hi = 0;
    eddy__hist_add_mul(&vv_lo, &vv_hi, v, v);
    eddy__hist_add_mul(&sq_lo, &sq_hi, vv_lo, n);
    sq_hi += vv_hi * n;
  }
  EDDY__HIST_PUT(&h->sq_lo, sq_lo);
  EDDY__HIST_PUT(&h->sq_hi, sq_hi);
  EDDY__HIST_PUT(&h->clamped, EDDY__HIST_OWN(&h->clamped) + over * n);
  EDDY__HIST_PUT(&h->seq, seq + 2);
}

/* Records one value (nanoseconds). Writer thread only. */
static inline void eddy__hist_record(eddy__hist_t *h, uint64_t v) {
  eddy__hist_record_n(h, v, 1);
}

/* ---- readers ------------------------------------------------------------
 * Any thread, at any moment, concurrently with the writer. */

/* Copies h into dst (see "What a snapshot taken during writes shows").
 * Waits only while the writer is inside one update (spinning, yielding
 * the CPU after a while). */
void eddy__hist_snapshot(const eddy__hist_t *h, eddy__hist_snap_t *dst);

/* ---- on a snapshot: plain functions of a caller-owned copy ----------- */

/* Makes s an empty snapshot (to merge others into). */
void eddy__hist_snap_clear(eddy__hist_snap_t *s);

/* Values recorded. */
uint64_t eddy__hist_snap_count(const eddy__hist_snap_t *s);

/* Smallest and largest value recorded (exact); 0 when empty. */
uint64_t eddy__hist_snap_min(const eddy__hist_snap_t *s);
uint64_t eddy__hist_snap_max(const eddy__hist_snap_t *s);

/* Mean of the values (exact sum / count, in long double); 0 when empty. */
double eddy__hist_snap_mean(const eddy__hist_snap_t *s);

/* Population standard deviation (see above); 0 when empty. */
double eddy__hist_snap_stddev(const eddy__hist_snap_t *s);

/* The p-th percentile, p in [0, 100] (outside or NaN: clamped to the
 * range, NaN as 0), within the error bound above. 0 when empty. The rank
 * is counted in `total`, so a torn snapshot still gives a value in
 * [min, max]. */
uint64_t eddy__hist_snap_percentile(const eddy__hist_snap_t *s, double p);

/* Adds src to dst: the result is the snapshot of a histogram that recorded
 * both sets of values. */
void eddy__hist_snap_merge(eddy__hist_snap_t *dst,
                           const eddy__hist_snap_t *src);

/* Starts an iteration over the non-empty buckets of s. */
void eddy__hist_iter_init(eddy__hist_iter_t *it, const eddy__hist_snap_t *s);

/* Moves to the next non-empty bucket: returns 1 and fills its fields, or
 * 0 when there is none left. */
int eddy__hist_iter_next(eddy__hist_iter_t *it);

#endif /* EDDY_METRICS_HISTOGRAM_H */
