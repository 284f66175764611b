/* test_histogram.c: the latency histogram (src/metrics/histogram.h):
 * bucket layout, percentiles against an exact reference computed here by
 * sorting the values, statistics, merge, iteration, and readers on other
 * threads while the writer records. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/histogram.h"
#include "test_util.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define THREAD_RECORDS 2000000u
#else
#define THREAD_RECORDS 20000000u
#endif

static uint64_t splitmix(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static eddy__hist_t *hist_new(void) {
  eddy__hist_t *h = aligned_alloc(64, sizeof(*h));
  assert_non_null(h);
  eddy__hist_init(h);
  return h;
}

static eddy__hist_snap_t *snap_new(void) {
  eddy__hist_snap_t *s = malloc(sizeof(*s));
  assert_non_null(s);
  eddy__hist_snap_clear(s);
  return s;
}

/* Percentiles in thousandths of a percent, so that the reference rank is
 * computed in integers: ceil(q * n / 100000), at least 1. */
static const uint64_t quantiles[] = {0,     1,     100,   1000,  10000,
                                     25000, 50000, 75000, 90000, 95000,
                                     99000, 99900, 99990, 99999, 100000};

static uint64_t ref_rank(uint64_t q, uint64_t n) {
  uint64_t rank = (q * n + 99999) / 100000;
  return rank < 1 ? 1 : rank;
}

/* The value reported for the value of rank x: never below it, above it by
 * less than x/128 (exact below 256). */
static void assert_within_bound(uint64_t got, uint64_t x) {
  if (got < x || (got - x) * 128 > x) {
    print_error("percentile %llu for exact %llu\n", (unsigned long long)got,
                (unsigned long long)x);
    fail();
  }
  if (x < 256)
    assert_true(got == x);
}

/* Mean and population variance by two passes in long double. */
static void ref_stats(const uint64_t *v, size_t n, long double *mean,
                      long double *var) {
  long double sum = 0, dev = 0;
  size_t i;

  for (i = 0; i < n; i++)
    sum += (long double)v[i];
  *mean = sum / (long double)n;
  for (i = 0; i < n; i++)
    dev += ((long double)v[i] - *mean) * ((long double)v[i] - *mean);
  *var = dev / (long double)n;
}

static void assert_close(long double got, long double want, long double rel) {
  long double diff = got > want ? got - want : want - got;
  long double mag = want < 0 ? -want : want;

  if (diff > rel * (mag > 1 ? mag : 1)) {
    print_error("got %.12Lg want %.12Lg\n", got, want);
    fail();
  }
}

/* Records values (each clamped as the histogram clamps them for the
 * reference) and checks every statistic against the sorted copy. */
static void check_values(const uint64_t *values, size_t n) {
  eddy__hist_t *h = hist_new();
  eddy__hist_snap_t *s = snap_new();
  uint64_t *sorted = malloc(n * sizeof(*sorted));
  long double mean, var, sd;
  uint64_t clamped = 0;
  size_t i, q;

  assert_non_null(sorted);
  for (i = 0; i < n; i++) {
    eddy__hist_record(h, values[i]);
    clamped += values[i] > EDDY__HIST_VALUE_MAX;
    sorted[i] =
        values[i] > EDDY__HIST_VALUE_MAX ? EDDY__HIST_VALUE_MAX : values[i];
  }
  qsort(sorted, n, sizeof(*sorted), cmp_u64);
  eddy__hist_snapshot(h, s);
  assert_true(eddy__hist_snap_count(s) == n);
  assert_true(s->total == n);
  assert_true(s->clamped == clamped);
  assert_true(eddy__hist_snap_min(s) == sorted[0]);
  assert_true(eddy__hist_snap_max(s) == sorted[n - 1]);
  for (q = 0; q < sizeof(quantiles) / sizeof(quantiles[0]); q++) {
    uint64_t x = sorted[ref_rank(quantiles[q], n) - 1];
    assert_within_bound(
        eddy__hist_snap_percentile(s, (double)quantiles[q] / 1000), x);
  }
  assert_true(eddy__hist_snap_percentile(s, 0) == sorted[0]);
  assert_true(eddy__hist_snap_percentile(s, 100) == sorted[n - 1]);
  ref_stats(sorted, n, &mean, &var);
  assert_close(eddy__hist_snap_mean(s), mean, 1e-12L);
  sd = eddy__hist_snap_stddev(s);
  assert_close(sd * sd, var, 1e-9L);
  free(sorted);
  free(s);
  free(h);
}

static void test_bucket_layout(void **state) {
  unsigned i;

  (void)state;
  assert_true(eddy__hist_bucket_lo(0) == 0);
  assert_true(eddy__hist_bucket_hi(EDDY__HIST_BUCKETS - 1) ==
              EDDY__HIST_VALUE_MAX);
  assert_true(eddy__hist_index(EDDY__HIST_VALUE_MAX) == EDDY__HIST_BUCKETS - 1);
  for (i = 0; i < EDDY__HIST_BUCKETS; i++) {
    uint64_t lo = eddy__hist_bucket_lo(i), hi = eddy__hist_bucket_hi(i);

    assert_true(lo <= hi);
    assert_true(eddy__hist_index(lo) == i);
    assert_true(eddy__hist_index(hi) == i);
    assert_true(eddy__hist_index(lo + (hi - lo) / 2) == i);
    if (i + 1 < EDDY__HIST_BUCKETS)
      assert_true(eddy__hist_bucket_lo(i + 1) == hi + 1);
    /* The width bound the percentile error rests on. */
    if (lo < 256)
      assert_true(lo == hi);
    else
      assert_true((hi - lo + 1) * 128 <= lo);
  }
}

static void test_empty(void **state) {
  eddy__hist_t *h = hist_new();
  eddy__hist_snap_t *s = snap_new();
  eddy__hist_iter_t it;

  (void)state;
  eddy__hist_snapshot(h, s);
  assert_true(eddy__hist_snap_count(s) == 0);
  assert_true(s->total == 0);
  assert_true(eddy__hist_snap_min(s) == 0);
  assert_true(eddy__hist_snap_max(s) == 0);
  assert_true(eddy__hist_snap_mean(s) == 0);
  assert_true(eddy__hist_snap_stddev(s) == 0);
  assert_true(eddy__hist_snap_percentile(s, 50) == 0);
  assert_true(eddy__hist_snap_percentile(s, 100) == 0);
  eddy__hist_iter_init(&it, s);
  assert_int_equal(eddy__hist_iter_next(&it), 0);
  assert_int_equal(eddy__hist_iter_next(&it), 0);
  free(s);
  free(h);
}

static void test_single_value(void **state) {
  static const uint64_t one[] = {123456789};
  static const uint64_t zero[] = {0};

  (void)state;
  check_values(one, 1);
  check_values(zero, 1);
}

static void test_uniform(void **state) {
  size_t n = 200000, i;
  uint64_t *v = malloc(n * sizeof(*v)), rng = 1;

  (void)state;
  assert_non_null(v);
  for (i = 0; i < n; i++)
    v[i] = 1 + splitmix(&rng) % 1000000;
  check_values(v, n);
  for (i = 0; i < n; i++) /* small values: the exact buckets */
    v[i] = splitmix(&rng) % 300;
  check_values(v, n);
  free(v);
}

/* Geometric in the exponent: each doubling half as likely, a long tail
 * from 1 ns to ~2^40 ns, as latencies look on a log scale. */
static void test_exponential_like(void **state) {
  size_t n = 200000, i;
  uint64_t *v = malloc(n * sizeof(*v)), rng = 2;

  (void)state;
  assert_non_null(v);
  for (i = 0; i < n; i++) {
    unsigned e = (unsigned)__builtin_ctzll(splitmix(&rng) | (1ull << 30));
    v[i] = (1 + splitmix(&rng) % 1024) << e;
  }
  check_values(v, n);
  free(v);
}

/* Fast callbacks around 50 us and slow ones around 20 ms: p90 and p99 sit
 * in different modes. */
static void test_bimodal(void **state) {
  size_t n = 100000, i;
  uint64_t *v = malloc(n * sizeof(*v)), rng = 3;

  (void)state;
  assert_non_null(v);
  for (i = 0; i < n; i++) {
    uint64_t r = splitmix(&rng);
    v[i] = r % 100 < 95 ? 45000 + r % 10000 : 19000000 + r % 2000000;
  }
  check_values(v, n);
  free(v);
}

/* Every bucket's first and last value, and the values around them. */
static void test_bucket_edges(void **state) {
  size_t n = 0, i;
  uint64_t *v = malloc(4 * EDDY__HIST_BUCKETS * sizeof(*v));

  (void)state;
  assert_non_null(v);
  for (i = 0; i < EDDY__HIST_BUCKETS; i++) {
    uint64_t lo = eddy__hist_bucket_lo((unsigned)i);
    uint64_t hi = eddy__hist_bucket_hi((unsigned)i);
    v[n++] = lo;
    v[n++] = hi;
    if (lo > 0)
      v[n++] = lo - 1;
    v[n++] = hi + 1; /* the last one is above the range */
  }
  check_values(v, n);
  free(v);
}

/* 0, 1, the largest tracked value and values above it (clamped). */
static void test_extremes(void **state) {
  static const uint64_t v[] = {0,
                               1,
                               1,
                               2,
                               EDDY__HIST_VALUE_MAX,
                               EDDY__HIST_VALUE_MAX + 1,
                               UINT64_C(1) << 50,
                               UINT64_MAX};
  eddy__hist_t *h = hist_new();
  eddy__hist_snap_t *s = snap_new();
  size_t i;

  (void)state;
  check_values(v, sizeof(v) / sizeof(v[0]));
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
    eddy__hist_record(h, v[i]);
  eddy__hist_snapshot(h, s);
  assert_true(s->clamped == 3);
  assert_true(eddy__hist_snap_max(s) == EDDY__HIST_VALUE_MAX);
  assert_true(s->buckets[EDDY__HIST_BUCKETS - 1] == 4);
  assert_true(eddy__hist_snap_percentile(s, 100) == EDDY__HIST_VALUE_MAX);
  assert_true(eddy__hist_snap_percentile(s, 12.5) == 0);
  assert_true(eddy__hist_snap_percentile(s, 25) == 1);
  free(s);
  free(h);
}

/* Every percentile from 0 to 100 in steps of 0.007, on one data set. */
static void test_percentile_sweep(void **state) {
  size_t n = 5000, i;
  uint64_t *v = malloc(n * sizeof(*v)), rng = 4, q;
  eddy__hist_t *h = hist_new();
  eddy__hist_snap_t *s = snap_new();
  uint64_t prev = 0;

  (void)state;
  assert_non_null(v);
  for (i = 0; i < n; i++) {
    v[i] = splitmix(&rng) % 100000000;
    eddy__hist_record(h, v[i]);
  }
  qsort(v, n, sizeof(*v), cmp_u64);
  eddy__hist_snapshot(h, s);
  for (q = 0; q <= 100000; q += 7) {
    uint64_t got = eddy__hist_snap_percentile(s, (double)q / 1000);
    assert_within_bound(got, v[ref_rank(q, n) - 1]);
    assert_true(got >= prev); /* monotone in p */
    prev = got;
  }
  free(s);
  free(h);
  free(v);
}

/* Out-of-range p is clamped; NaN counts as 0. */
static void test_percentile_arguments(void **state) {
  eddy__hist_t *h = hist_new();
  eddy__hist_snap_t *s = snap_new();
  uint64_t i;

  (void)state;
  for (i = 1; i <= 100; i++)
    eddy__hist_record(h, i * 1000);
  eddy__hist_snapshot(h, s);
  assert_true(eddy__hist_snap_percentile(s, -5) == 1000);
  assert_true(eddy__hist_snap_percentile(s, 0) == 1000);
  assert_true(eddy__hist_snap_percentile(s, __builtin_nan("")) == 1000);
  assert_true(eddy__hist_snap_percentile(s, 100) == 100000);
  assert_true(eddy__hist_snap_percentile(s, 1e300) == 100000);
  /* rank 50 of 100: 50000 lies in bucket [49920, 50175] */
  assert_true(eddy__hist_snap_percentile(s, 50) == 50175);
  free(s);
  free(h);
}

/* record_n(v, k) is k records of v; record_n(v, 0) records nothing. */
static void test_record_n(void **state) {
  eddy__hist_t *a = hist_new(), *b = hist_new();
  eddy__hist_snap_t *sa = snap_new(), *sb = snap_new();
  uint64_t rng = 5;
  int i, k;

  (void)state;
  for (i = 0; i < 200; i++) {
    uint64_t v = splitmix(&rng) % 5000000;
    int times = (int)(splitmix(&rng) % 5);
    eddy__hist_record_n(a, v, (uint64_t)times);
    for (k = 0; k < times; k++)
      eddy__hist_record(b, v);
  }
  eddy__hist_record_n(a, EDDY__HIST_VALUE_MAX + 7, 3);
  for (k = 0; k < 3; k++)
    eddy__hist_record(b, EDDY__HIST_VALUE_MAX + 7);
  eddy__hist_snapshot(a, sa);
  eddy__hist_snapshot(b, sb);
  assert_memory_equal(sa, sb, sizeof(*sa));
  free(sa);
  free(sb);
  free(a);
  free(b);
}

/* Counts too large for 64-bit sums of squares, or for a double's 53
 * bits: the sums are exact and the deviation is computed around the mean,
 * so it stays exact. */
static void test_stddev_large_counts(void **state) {
  eddy__hist_t *h = hist_new();
  eddy__hist_snap_t *s = snap_new();
  uint64_t n = UINT64_C(1) << 34;

  (void)state;
  eddy__hist_record_n(h, 1000000000, n);
  eddy__hist_record_n(h, 1000000001, n);
  eddy__hist_snapshot(h, s);
  assert_true(eddy__hist_snap_count(s) == 2 * n);
  assert_close(eddy__hist_snap_mean(s), 1000000000.5L, 1e-15L);
  assert_close(eddy__hist_snap_stddev(s), 0.5L, 1e-12L);
  /* sum = (2e9 + 1) * 2^34, above 2^64 */
  assert_true(s->sum.hi == 2000000001u >> 30);
  assert_true(s->sum.lo == 2000000001ull << 34);
  eddy__hist_reset(h);
  /* Huge n at the top of the range: sum of squares in two products. */
  eddy__hist_record_n(h, EDDY__HIST_VALUE_MAX, UINT64_C(1) << 40);
  eddy__hist_snapshot(h, s);
  assert_close(eddy__hist_snap_mean(s), (long double)EDDY__HIST_VALUE_MAX,
               1e-15L);
  assert_true(eddy__hist_snap_stddev(s) == 0);
  eddy__hist_reset(h);
  eddy__hist_record_n(h, 7, 1000);
  eddy__hist_snapshot(h, s);
  assert_true(eddy__hist_snap_stddev(s) == 0);
  assert_true(eddy__hist_snap_mean(s) == 7);
  free(s);
  free(h);
}

static void test_reset(void **state) {
  eddy__hist_t *h = hist_new(), *fresh = hist_new();
  eddy__hist_snap_t *s = snap_new(), *f = snap_new();
  int i;

  (void)state;
  for (i = 0; i < 1000; i++)
    eddy__hist_record(h, (uint64_t)i * 977);
  eddy__hist_reset(h);
  eddy__hist_snapshot(h, s);
  eddy__hist_snapshot(fresh, f);
  assert_memory_equal(s, f, sizeof(*s));
  eddy__hist_record(h, 42);
  eddy__hist_snapshot(h, s);
  assert_true(eddy__hist_snap_count(s) == 1);
  assert_true(eddy__hist_snap_min(s) == 42);
  assert_true(eddy__hist_snap_percentile(s, 50) == 42);
  free(s);
  free(f);
  free(h);
  free(fresh);
}

/* merge(A, B) is the snapshot of one histogram that recorded both sets. */
static void test_merge(void **state) {
  eddy__hist_t *a = hist_new(), *b = hist_new(), *both = hist_new();
  eddy__hist_snap_t *sa = snap_new(), *sb = snap_new(), *sboth = snap_new();
  eddy__hist_snap_t *acc = snap_new();
  uint64_t rng = 6;
  int i;

  (void)state;
  for (i = 0; i < 50000; i++) {
    uint64_t v = splitmix(&rng) % 3000000;
    eddy__hist_record(a, v);
    eddy__hist_record(both, v);
  }
  for (i = 0; i < 30000; i++) {
    uint64_t v = 2000000 + splitmix(&rng) % 90000000;
    eddy__hist_record(b, v);
    eddy__hist_record(both, v);
  }
  eddy__hist_record(b, UINT64_MAX);
  eddy__hist_record(both, UINT64_MAX);
  eddy__hist_snapshot(a, sa);
  eddy__hist_snapshot(b, sb);
  eddy__hist_snapshot(both, sboth);
  eddy__hist_snap_merge(acc, sa); /* into an empty snapshot */
  assert_memory_equal(acc, sa, sizeof(*acc));
  eddy__hist_snap_merge(sa, sb);
  assert_memory_equal(sa, sboth, sizeof(*sa));
  assert_true(eddy__hist_snap_percentile(sa, 99) ==
              eddy__hist_snap_percentile(sboth, 99));
  free(sa);
  free(sb);
  free(sboth);
  free(acc);
  free(a);
  free(b);
  free(both);
}

/* The iterator visits each non-empty bucket once, in order, with its
 * range, its count and the running total. */
static void test_iterator(void **state) {
  eddy__hist_t *h = hist_new();
  eddy__hist_snap_t *s = snap_new();
  eddy__hist_iter_t it;
  uint64_t rng = 7, prev_hi = 0, sum = 0;
  unsigned visited = 0, nonempty = 0, i;
  int first = 1;

  (void)state;
  for (i = 0; i < 10000; i++)
    eddy__hist_record(h, splitmix(&rng) % 50000000);
  eddy__hist_record(h, 0);
  eddy__hist_record(h, EDDY__HIST_VALUE_MAX);
  eddy__hist_snapshot(h, s);
  for (i = 0; i < EDDY__HIST_BUCKETS; i++)
    nonempty += s->buckets[i] != 0;
  eddy__hist_iter_init(&it, s);
  while (eddy__hist_iter_next(&it)) {
    assert_true(it.count > 0);
    assert_true(it.count == s->buckets[it.index]);
    assert_true(it.lo == eddy__hist_bucket_lo(it.index));
    assert_true(it.hi == eddy__hist_bucket_hi(it.index));
    assert_true(first || it.lo > prev_hi);
    sum += it.count;
    assert_true(it.cumulative == sum);
    prev_hi = it.hi;
    first = 0;
    visited++;
  }
  assert_int_equal(visited, nonempty);
  assert_true(sum == s->total);
  assert_true(prev_hi == EDDY__HIST_VALUE_MAX);
  assert_int_equal(eddy__hist_iter_next(&it), 0);
  free(s);
  free(h);
}

/* ---- one writer, readers on other threads ------------------------------ */

#define READERS 2
#define MID_SNAPSHOTS 4 /* per reader, while the writer runs */

struct shared {
  eddy__hist_t *h;
  int go;           /* atomic: the writer started */
  int done;         /* atomic: the writer finished */
  int snaps_during; /* atomic: snapshots completed while writing */
  uint64_t written; /* records made (set before done) */
  int failures;     /* atomic */
  unsigned long long taken[READERS];
};

static uint64_t thread_value(uint64_t i) {
  uint64_t r = i * UINT64_C(0x9e3779b97f4a7c15);
  return 1 + (r >> 40) % 2000000; /* [1, 2e6] */
}

static void *writer_main(void *arg) {
  struct shared *sh = arg;
  uint64_t i;

  __atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
  /* Keep writing until the readers have each seen the writer at work a
   * few times (bounded, in case a reader never runs). */
  for (i = 0; i < THREAD_RECORDS ||
              (__atomic_load_n(&sh->snaps_during, __ATOMIC_ACQUIRE) <
                   READERS * MID_SNAPSHOTS &&
               i < 20 * (uint64_t)THREAD_RECORDS);
       i++)
    eddy__hist_record(sh->h, thread_value(i));
  sh->written = i;
  __atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Everything a snapshot must satisfy on its own and against the previous
 * one from the same reader (counts only grow: there is no reset). */
static int snapshot_sane(const eddy__hist_snap_t *s,
                         const eddy__hist_snap_t *prev) {
  static const double ps[] = {0, 10, 50, 90, 99, 99.9, 100};
  uint64_t last = 0, mn, mx;
  unsigned i;

  if (s->count < prev->count || s->total < prev->total || s->total < s->count)
    return 0;
  for (i = 0; i < EDDY__HIST_BUCKETS; i++)
    if (s->buckets[i] < prev->buckets[i])
      return 0;
  if (s->count == 0)
    return eddy__hist_snap_mean(s) == 0 && eddy__hist_snap_stddev(s) == 0;
  mn = eddy__hist_snap_min(s);
  mx = eddy__hist_snap_max(s);
  if (mn < 1 || mn > mx || mx > 2000000 ||
      (prev->count && (mn > prev->min || mx < prev->max)))
    return 0;
  if (eddy__hist_snap_mean(s) < (double)mn ||
      eddy__hist_snap_mean(s) > (double)mx ||
      eddy__hist_snap_stddev(s) > (double)(mx - mn))
    return 0;
  for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
    uint64_t v = eddy__hist_snap_percentile(s, ps[i]);
    if (v < mn || v > mx || v < last)
      return 0;
    last = v;
  }
  return 1;
}

struct reader {
  struct shared *sh;
  int id;
};

/* Snapshots until the writer is done, checking each one; failures are
 * counted, not asserted (cmocka's asserts belong to the main thread). */
static void *reader_main(void *arg) {
  struct shared *sh = ((struct reader *)arg)->sh;
  int id = ((struct reader *)arg)->id, cur = 0, i, done;
  eddy__hist_snap_t *bufs[2];

  bufs[0] = malloc(sizeof(eddy__hist_snap_t));
  bufs[1] = malloc(sizeof(eddy__hist_snap_t));
  if (bufs[0] == NULL || bufs[1] == NULL)
    abort();
  eddy__hist_snap_clear(bufs[1]);
  while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
    sched_yield();
  for (i = 0;; i++) {
    done = __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE);
    eddy__hist_snapshot(sh->h, bufs[cur]);
    if (!snapshot_sane(bufs[cur], bufs[!cur]))
      __atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
    if (!done && i < MID_SNAPSHOTS)
      __atomic_fetch_add(&sh->snaps_during, 1, __ATOMIC_RELEASE);
    cur = !cur;
    sh->taken[id]++;
    if (done)
      break;
  }
  free(bufs[0]);
  free(bufs[1]);
  return NULL;
}

static void test_concurrent_readers(void **state) {
  struct shared sh;
  struct reader args[READERS];
  pthread_t w, r[READERS];
  eddy__hist_t *ref = hist_new();
  eddy__hist_snap_t *got = snap_new(), *want = snap_new();
  uint64_t i;
  int k;

  (void)state;
  memset(&sh, 0, sizeof(sh));
  sh.h = hist_new();
  for (k = 0; k < READERS; k++) {
    args[k].sh = &sh;
    args[k].id = k;
    assert_int_equal(pthread_create(&r[k], NULL, reader_main, &args[k]), 0);
  }
  assert_int_equal(pthread_create(&w, NULL, writer_main, &sh), 0);
  pthread_join(w, NULL);
  for (k = 0; k < READERS; k++)
    pthread_join(r[k], NULL);
  assert_int_equal(sh.failures, 0);
  assert_true(sh.taken[0] >= 1 && sh.taken[1] >= 1);
  /* The final state is exactly what one thread recording the same
   * values would hold. */
  for (i = 0; i < sh.written; i++)
    eddy__hist_record(ref, thread_value(i));
  eddy__hist_snapshot(sh.h, got);
  eddy__hist_snapshot(ref, want);
  assert_memory_equal(got, want, sizeof(*got));
  print_message("    %llu records, %llu + %llu snapshots, %d during\n",
                (unsigned long long)sh.written, sh.taken[0], sh.taken[1],
                sh.snaps_during);
  free(got);
  free(want);
  free(ref);
  free(sh.h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bucket_layout),
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_single_value),
      cmocka_unit_test(test_uniform),
      cmocka_unit_test(test_exponential_like),
      cmocka_unit_test(test_bimodal),
      cmocka_unit_test(test_bucket_edges),
      cmocka_unit_test(test_extremes),
      cmocka_unit_test(test_percentile_sweep),
      cmocka_unit_test(test_percentile_arguments),
      cmocka_unit_test(test_record_n),
      cmocka_unit_test(test_stddev_large_counts),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_merge),
      cmocka_unit_test(test_iterator),
      cmocka_unit_test(test_concurrent_readers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
