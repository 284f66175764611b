/* histogram.c: the histogram's readers, its reset and its arithmetic.
 *
 * The record path is inline in histogram.h so that the loop pays for a
 * handful of instructions and no call. Everything here runs on readers'
 * threads or rarely (reset), and works on plain copies. */
#include "metrics/histogram.h"

#include <assert.h>
#include <sched.h>
#include <string.h>

#define OWN(p) EDDY__HIST_OWN(p)
#define PUT(p, v) EDDY__HIST_PUT(p, v)
/* Readers: acquire loads, so that nothing read later (the sequence number
 * read again) is read before them. */
#define GET(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

/* Ranks within this fraction of an integer count as that integer, so that
 * p = 99.9 (a double slightly above 99.9) of 1000 values is the 999th. */
#define RANK_SLACK 1e-12L

void eddy__hist_init(eddy__hist_t *h) {
  memset(h, 0, sizeof(*h));
  h->min = UINT64_MAX;
}

void eddy__hist_reset(eddy__hist_t *h) {
  uint64_t seq = OWN(&h->seq);
  unsigned i;

  assert((seq & 1) == 0);
  PUT(&h->seq, seq + 1);
  PUT(&h->count, 0);
  PUT(&h->min, UINT64_MAX);
  PUT(&h->max, 0);
  PUT(&h->sum_lo, 0);
  PUT(&h->sum_hi, 0);
  PUT(&h->sq_lo, 0);
  PUT(&h->sq_hi, 0);
  PUT(&h->clamped, 0);
  for (i = 0; i < EDDY__HIST_BUCKETS; i++)
    PUT(&h->buckets[i], 0);
  PUT(&h->seq, seq + 2);
}

/* The shift of bucket i: its width is 2^shift. The first 2*SUB_COUNT
 * buckets are exact; each further group of SUB_COUNT doubles the width. */
static unsigned eddy__hist_bucket_shift(unsigned i) {
  return i < 2 * EDDY__HIST_SUB_COUNT ? 0 : (i >> EDDY__HIST_SUB_BITS) - 1;
}

uint64_t eddy__hist_bucket_lo(unsigned i) {
  unsigned shift = eddy__hist_bucket_shift(i);

  assert(i < EDDY__HIST_BUCKETS);
  return (uint64_t)(i - (shift << EDDY__HIST_SUB_BITS)) << shift;
}

uint64_t eddy__hist_bucket_hi(unsigned i) {
  return eddy__hist_bucket_lo(i) +
         ((UINT64_C(1) << eddy__hist_bucket_shift(i)) - 1);
}

/* ---- snapshots ---------------------------------------------------------- */

/* Copies the scalar fields as they were at one moment between two
 * updates (the seqlock's read side) and returns the even sequence number
 * of that moment. The acquire load of seq makes every bucket store of the
 * records counted visible to the bucket copy that follows. */
static uint64_t eddy__hist_read_scalars(const eddy__hist_t *h,
                                        eddy__hist_snap_t *dst) {
  unsigned spins = 0;

  for (;;) {
    uint64_t seq = GET(&h->seq);

    if ((seq & 1) == 0) {
      dst->count = GET(&h->count);
      dst->min = GET(&h->min);
      dst->max = GET(&h->max);
      dst->sum.lo = GET(&h->sum_lo);
      dst->sum.hi = GET(&h->sum_hi);
      dst->sumsq.lo = GET(&h->sq_lo);
      dst->sumsq.hi = GET(&h->sq_hi);
      dst->clamped = GET(&h->clamped);
      if (GET(&h->seq) == seq)
        return seq;
    }
    /* The writer is inside an update (a few ns) or a reset, or was
     * preempted there: let it run. */
    if (++spins % 64 == 0)
      sched_yield();
  }
}

void eddy__hist_snapshot(const eddy__hist_t *h, eddy__hist_snap_t *dst) {
  uint64_t total = 0;
  unsigned tries, i;

  for (tries = 1;; tries++) {
    uint64_t seq = eddy__hist_read_scalars(h, dst);

    total = 0;
    for (i = 0; i < EDDY__HIST_BUCKETS; i++) {
      dst->buckets[i] = GET(&h->buckets[i]);
      total += dst->buckets[i];
    }
    /* No update since the scalars were read: buckets and count agree. */
    if (GET(&h->seq) == seq || tries == EDDY__HIST_SNAP_TRIES)
      break;
  }
  dst->total = total;
}

void eddy__hist_snap_clear(eddy__hist_snap_t *s) {
  memset(s, 0, sizeof(*s));
  s->min = UINT64_MAX;
}

/* ---- 128-bit arithmetic for the readers ---------------------------------- */

static eddy__u128_t eddy__u128_add(eddy__u128_t a, eddy__u128_t b) {
  eddy__u128_t r;

  r.lo = a.lo + b.lo;
  r.hi = a.hi + b.hi + (r.lo < a.lo);
  return r;
}

static eddy__u128_t eddy__u128_sub(eddy__u128_t a, eddy__u128_t b) {
  eddy__u128_t r;

  r.lo = a.lo - b.lo;
  r.hi = a.hi - b.hi - (a.lo < b.lo);
  return r;
}

/* a * b modulo 2^128. */
static eddy__u128_t eddy__u128_mul(eddy__u128_t a, uint64_t b) {
  eddy__u128_t r = {0, 0};

  eddy__hist_add_mul(&r.lo, &r.hi, a.lo, b);
  r.hi += a.hi * b;
  return r;
}

static long double eddy__u128_to_ld(eddy__u128_t a) {
  return (long double)a.hi * 18446744073709551616.0L + (long double)a.lo;
}

/* a read as a two's complement signed number. */
static long double eddy__u128_signed_to_ld(eddy__u128_t a) {
  eddy__u128_t zero = {0, 0};

  if (a.hi >> 63)
    return -eddy__u128_to_ld(eddy__u128_sub(zero, a));
  return eddy__u128_to_ld(a);
}

/* Square root by Newton's method from above (no libm): g starts at a power
 * of two >= sqrt(x) and decreases until it stops decreasing. */
static long double eddy__hist_sqrt(long double x) {
  long double g = 1, next;

  if (!(x > 0))
    return 0;
  while (g * g < x)
    g *= 2;
  for (;;) {
    next = (g + x / g) / 2;
    if (!(next < g))
      return g;
    g = next;
  }
}

/* ---- statistics -----------------------------------------------------------
 */

uint64_t eddy__hist_snap_count(const eddy__hist_snap_t *s) {
  return s->count;
}

uint64_t eddy__hist_snap_min(const eddy__hist_snap_t *s) {
  return s->count ? s->min : 0;
}

uint64_t eddy__hist_snap_max(const eddy__hist_snap_t *s) {
  return s->count ? s->max : 0;
}

double eddy__hist_snap_mean(const eddy__hist_snap_t *s) {
  if (s->count == 0)
    return 0;
  return (double)(eddy__u128_to_ld(s->sum) / (long double)s->count);
}

/* With m an integer next to the mean and r = S - n*m (small: |r| < 2n),
 *   Sum (v - m)^2    = Q - 2mS + n*m^2       exact, modulo 2^128
 *   Sum (v - mean)^2 = Sum (v - m)^2 - r^2/n
 * so the only rounding is in the last step, on a number that is already
 * the centred sum: no cancellation between two large sums. Any m works;
 * the closer to the mean, the smaller r. */
double eddy__hist_snap_stddev(const eddy__hist_snap_t *s) {
  eddy__u128_t mm = {0, 0}, centred, r, cnt = {s->count, 0};
  long double n = (long double)s->count, dev;
  uint64_t m;

  if (s->count == 0)
    return 0;
  m = (uint64_t)(eddy__u128_to_ld(s->sum) / n);
  eddy__hist_add_mul(&mm.lo, &mm.hi, m, m);
  centred = eddy__u128_sub(s->sumsq, eddy__u128_mul(s->sum, 2 * m));
  centred = eddy__u128_add(centred, eddy__u128_mul(mm, s->count));
  r = eddy__u128_sub(s->sum, eddy__u128_mul(cnt, m));
  dev = eddy__u128_to_ld(centred) -
        eddy__u128_signed_to_ld(r) * eddy__u128_signed_to_ld(r) / n;
  return (double)eddy__hist_sqrt(dev > 0 ? dev / n : 0);
}

/* Nearest rank of p among total values: ceil(p/100 * total), in
 * [1, total]. */
static uint64_t eddy__hist_rank(double p, uint64_t total) {
  long double want;
  uint64_t rank;

  if (!(p > 0)) /* NaN too */
    p = 0;
  if (p > 100)
    p = 100;
  want = (long double)p * (long double)total / 100;
  want -= want * RANK_SLACK;
  rank = (uint64_t)want;
  if ((long double)rank < want)
    rank++;
  if (rank < 1)
    rank = 1;
  return rank < total ? rank : total;
}

uint64_t eddy__hist_snap_percentile(const eddy__hist_snap_t *s, double p) {
  int scalars = s->count > 0 && s->min <= s->max;
  uint64_t rank, seen = 0, v;
  unsigned i;

  if (s->total == 0)
    return 0;
  rank = eddy__hist_rank(p, s->total);
  if (scalars && rank == 1)
    return s->min;
  if (scalars && rank == s->total)
    return s->max;
  /* The buckets add up to total >= rank, so the walk stops inside. */
  for (i = 0; seen + s->buckets[i] < rank; i++) {
    seen += s->buckets[i];
    assert(i + 1 < EDDY__HIST_BUCKETS);
  }
  v = eddy__hist_bucket_hi(i);
  if (scalars) {
    v = v < s->min ? s->min : v;
    v = v > s->max ? s->max : v;
  }
  return v;
}

void eddy__hist_snap_merge(eddy__hist_snap_t *dst,
                           const eddy__hist_snap_t *src) {
  unsigned i;

  dst->count += src->count;
  dst->clamped += src->clamped;
  dst->total += src->total;
  dst->min = src->min < dst->min ? src->min : dst->min;
  dst->max = src->max > dst->max ? src->max : dst->max;
  dst->sum = eddy__u128_add(dst->sum, src->sum);
  dst->sumsq = eddy__u128_add(dst->sumsq, src->sumsq);
  for (i = 0; i < EDDY__HIST_BUCKETS; i++)
    dst->buckets[i] += src->buckets[i];
}

/* ---- iteration ------------------------------------------------------------
 */

void eddy__hist_iter_init(eddy__hist_iter_t *it, const eddy__hist_snap_t *s) {
  memset(it, 0, sizeof(*it));
  it->snap = s;
}

int eddy__hist_iter_next(eddy__hist_iter_t *it) {
  const uint64_t *b = it->snap->buckets;
  unsigned i = it->next;

  while (i < EDDY__HIST_BUCKETS && b[i] == 0)
    i++;
  if (i == EDDY__HIST_BUCKETS) {
    it->next = i;
    return 0;
  }
  it->index = i;
  it->lo = eddy__hist_bucket_lo(i);
  it->hi = eddy__hist_bucket_hi(i);
  it->count = b[i];
  it->cumulative += b[i];
  it->next = i + 1;
  return 1;
}
