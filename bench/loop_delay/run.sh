#!/usr/bin/env bash
# bench/loop_delay/run.sh [BUILD_DIR]: the same blocking workload (see
# eddy.c and node.js here) measured by eddy's timer-based delay mode and by
# Node's monitorEventLoopDelay, both at a 10 ms resolution, alternating
# eddy, node, eddy ... RUNS times (default 3) of SECS seconds (default 5);
# prints the medians of p50, p99 and max and the ratio eddy/node of the
# p99 (target: within 10%). Needs node; the eddy program comes from an
# EDDY_BUILD_BENCH build (default build-bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-bench}
runs=${RUNS:-3}
secs=${SECS:-5}
command -v node >/dev/null || { echo "node not found: skipped" >&2; exit 0; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
  else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A vals
for i in $(seq "$runs"); do
  echo "[loop_delay] run $i of $runs" >&2
  for side in eddy node; do
    if [ $side = eddy ]; then out=$("$build/bench/bench_loop_delay_eddy" "$secs")
    else out=$(node "$here/node.js" "$secs"); fi
    for k in p50_ms p99_ms max_ms count; do
      vals[$side.$k]+="$(echo "$out" | sed -n "s/^$k=//p") "
    done
  done
done
printf '%-6s %10s %10s %10s %8s\n' side p50_ms p99_ms max_ms count
for side in eddy node; do
  printf '%-6s' $side
  for k in p50_ms p99_ms max_ms count; do
    printf ' %10s' "$(echo ${vals[$side.$k]} | tr ' ' '\n' | median)"
  done
  echo
done
e=$(echo ${vals[eddy.p99_ms]} | tr ' ' '\n' | median)
n=$(echo ${vals[node.p99_ms]} | tr ' ' '\n' | median)
awk -v e="$e" -v n="$n" 'BEGIN { printf "p99 eddy/node: %.4f\n", e / n }'
echo "[loop_delay] eddy p99s: ${vals[eddy.p99_ms]}; node p99s: ${vals[node.p99_ms]}" >&2
