#!/usr/bin/env bash
# bench/scaling.sh [BUILD_DIR]: how the cost of one timer and of one idle
# connection changes with their number, eddy against libuv. Runs the
# timers_million programs built in BUILD_DIR (default build-bench; programs
# looked for in BUILD_DIR/bench, then BUILD_DIR) at 1k, 10k, 100k and 1M
# timers (10M too when SCALING_MAX allows), and the tcp_idle_rss programs at
# 10, 100, 1,000 and 10,000 connections. Prints one table per shape on
# stdout and writes it to BENCH_OUT/scaling.txt, and as data (kind n metric
# eddy uv ratio) to BENCH_OUT/scaling.tsv; every run's figures go to
# BENCH_OUT/scaling-runs.tsv. Builds nothing; `make bench-scaling` builds
# and runs it.
#
# Per timer: CPU time (user+sys over start, dispatch and close, as
# timers_million measures it) divided by the count, and peak RSS above the
# same program's peak with one timer, divided by the count (so the
# program's own pages are not spread over the timers). Wall time is not
# used: the last deadline is n/1000 ms away for every side. Per
# connection: tcp_idle_rss's own conn_rss_bytes (RSS growth from listen to
# all accepted, divided by the count). Sides alternate (eddy uv eddy uv
# ...) and medians of the same run are compared (docs/benchmarking.md,
# point 1); bench_pretouch runs before every big timer run (point 2).
# Progress goes to stderr.
#
# Environment:
#   RUNS=3                runs per side and size (five times as many up to
#                         10,000 timers and 100 connections)
#   SCALING_MAX=1000000   largest timer count (10000000 adds 10M: about two
#                         more minutes)
#   CONN_MAX=10000        largest connection count
#   BENCH_OUT=DIR         where scaling.tsv goes (default BUILD_DIR/bench-out)
# Exits 1 if any program failed its own checks or crashed, 2 if the
# programs are not built.
set -euo pipefail

build=${1:-build-bench}
if compgen -G "$build/bench/bench_*" >/dev/null; then
  bindir=$build/bench
elif compgen -G "$build/bench_*" >/dev/null; then
  bindir=$build
else
  echo "scaling.sh: no bench_* programs in $build/bench or $build" >&2
  exit 2
fi
runs=${RUNS:-3}
max_timers=${SCALING_MAX:-1000000}
max_conns=${CONN_MAX:-10000}
out=${BENCH_OUT:-$build/bench-out}
mkdir -p "$out"
raw=$out/scaling-runs.tsv
: >"$raw"

impls=""
for impl in eddy uv; do
  if [[ -x $bindir/bench_timers_million_$impl &&
    -x $bindir/bench_tcp_idle_rss_$impl ]]; then
    impls="$impls $impl"
  else
    echo "[scaling] $impl programs not built, $impl skipped" >&2
  fi
done

failed=0
# run KIND N IMPL RUN PROGRAM [MIB]: one run, its key=value lines appended
# to the raw file as "kind n impl run key value".
run() {
  local kind=$1 n=$2 impl=$3 r=$4 prog=$5 mib=${6:-0} rc=0 res line
  echo "[scaling] $kind $n $impl run $r/$nr" >&2
  if ((mib > 0)) && [[ -x $bindir/bench_pretouch ]]; then
    "$bindir/bench_pretouch" "$mib" || echo "[scaling] pretouch failed" >&2
  fi
  res=$("$bindir/$prog" "$n") || rc=$?
  if ((rc != 0)); then
    echo "[scaling] $kind $n $impl run $r FAILED (exit $rc)" >&2
    failed=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$n" "$impl" "$r" rc "$rc" \
    >>"$raw"
  while IFS= read -r line; do
    [[ $line == *=* ]] || continue
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$n" "$impl" "$r" \
      "${line%%=*}" "${line#*=}" >>"$raw"
  done <<<"$res"
}

# One timer: the program's own peak RSS, subtracted from the others.
for n in 1 1000 10000 100000 1000000 10000000; do
  ((n <= max_timers)) || continue
  # The biggest side (libuv) peaks near 150 bytes per timer; small runs
  # need no pretouch.
  mib=$((n * 160 / 1000000))
  ((mib >= 16)) || mib=0
  # Small counts take milliseconds and their RSS moves by whole pages:
  # five times the runs.
  nr=$((n <= 10000 ? 5 * runs : runs))
  for ((r = 1; r <= nr; r++)); do
    for impl in $impls; do
      run timers "$n" "$impl" "$r" "bench_timers_million_$impl" "$mib"
    done
  done
done
for n in 10 100 1000 10000; do
  ((n <= max_conns)) || continue
  nr=$((n <= 100 ? 5 * runs : runs))
  for ((r = 1; r <= nr; r++)); do
    for impl in $impls; do
      run connections "$n" "$impl" "$r" "bench_tcp_idle_rss_$impl"
    done
  done
done

awk -F'\t' -v tsv="$out/scaling.tsv" '
function median(kind, n, impl, key,   i, j, m, a, t) {
  m = cnt[kind, n, impl, key]
  if (m == 0) return ""
  for (i = 1; i <= m; i++) a[i] = val[kind, n, impl, key, i]
  for (i = 2; i <= m; i++)
    for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function fmt(v) {
  if (v == "") return "n/a"
  return (v >= 100 || v <= -100) ? sprintf("%.0f", v) : sprintf("%.1f", v)
}
function ratio(e, u) {
  return (e == "" || u == "" || u <= 0) ? "" : e / u
}
function fmtr(r) { return r == "" ? "n/a" : sprintf("%.2f", r) }
# One row of the table and of scaling.tsv for each of two metrics.
function row(kind, n, m1, e1, u1, m2, e2, u2,   r1, r2) {
  r1 = ratio(e1, u1); r2 = ratio(e2, u2)
  if (m2 == "")
    printf "%-12s %12s %12s %8s\n", n, fmt(e1), fmt(u1), fmtr(r1)
  else
    printf "%-12s %12s %12s %8s %12s %12s %8s\n", n, fmt(e1), fmt(u1),
      fmtr(r1), fmt(e2), fmt(u2), fmtr(r2)
  printf "%s\t%s\t%s\t%s\t%s\t%s\n", kind, n, m1, e1, u1, r1 >tsv
  if (m2 != "")
    printf "%s\t%s\t%s\t%s\t%s\t%s\n", kind, n, m2, e2, u2, r2 >tsv
}
$5 == "rc" { ok[$1, $2, $3, $4] = ($6 == 0); next }
$5 == "skipped" && $6 == 1 { ok[$1, $2, $3, $4] = 0; skipped = 1; next }
ok[$1, $2, $3, $4] && $6 ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ {
  if (!(($1, $2) in seen)) { seen[$1, $2] = 1; sizes[$1, ++ns[$1]] = $2 }
  v = $6 + 0
  # Per-run figures whose median is taken.
  if ($1 == "timers" && $5 == "cpu_s") { key = "cpu_ns"; v = v * 1e9 / $2 }
  else if ($1 == "timers" && $5 == "rss_mib") key = "rss_mib"
  else if ($1 == "connections" && $5 == "conn_rss_bytes") key = "conn"
  else next
  val[$1, $2, $3, key, ++cnt[$1, $2, $3, key]] = v
}
END {
  printf "kind\tn\tmetric\teddy\tuv\tratio\n" >tsv
  base_e = median("timers", 1, "eddy", "rss_mib")
  base_u = median("timers", 1, "uv", "rss_mib")
  print "Timers (timers_million shape): cost per timer, medians; " \
    "ratio = eddy/uv, lower is better"
  printf "%-12s %12s %12s %8s %12s %12s %8s\n", "timers", "eddy ns", "uv ns",
    "ratio", "eddy bytes", "uv bytes", "ratio"
  for (i = 1; i <= ns["timers"]; i++) {
    n = sizes["timers", i]
    if (n + 0 == 1) continue
    re = median("timers", n, "eddy", "rss_mib")
    ru = median("timers", n, "uv", "rss_mib")
    re = (re == "" || base_e == "") ? "" : (re - base_e) * 1048576 / n
    ru = (ru == "" || base_u == "") ? "" : (ru - base_u) * 1048576 / n
    row("timers", n, "cpu_ns_per_timer", median("timers", n, "eddy", "cpu_ns"),
        median("timers", n, "uv", "cpu_ns"), "rss_bytes_per_timer", re, ru)
  }
  print ""
  print "Idle connections (tcp_idle_rss): server RSS growth per " \
    "connection, medians; ratio = eddy/uv"
  printf "%-12s %12s %12s %8s\n", "connections", "eddy bytes", "uv bytes",
    "ratio"
  for (i = 1; i <= ns["connections"]; i++) {
    n = sizes["connections", i]
    row("connections", n, "rss_bytes_per_conn",
        median("connections", n, "eddy", "conn"),
        median("connections", n, "uv", "conn"), "", "", "")
  }
  print "ns: CPU time / timers. bytes per timer: peak RSS above the " \
    "one-timer run / timers. RSS moves in 4 KiB pages: at the smallest " \
    "counts fixed costs dominate."
  if (skipped) print "Some runs printed skipped=1 (descriptor limit): n/a."
}' "$raw" | tee "$out/scaling.txt"

echo "[scaling] table: $out/scaling.tsv, raw runs: $raw" >&2
exit "$failed"
