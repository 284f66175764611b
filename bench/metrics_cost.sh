#!/usr/bin/env bash
# bench/metrics_cost.sh [BUILD_DIR]: what the loop's metrics cost. Runs
# loop_empty, tcp_pingpong and http_c50 (eddy's HTTP server under wrk -t1
# -c50, keep-alive) with metrics off and on (EDDY_BENCH_METRICS=1:
# eddy_metrics_enable(loop, EDDY_METRICS_LOOP)), alternating off, on, off,
# on ... RUNS times each in the same run, and prints the medians, the
# ratio on/off and the cost in per cent (target: under 2%), and the median
# of the costs of each back-to-back pair of runs.
#
# Environment: RUNS=5, SECS=2 (seconds per loop_empty and tcp_pingpong
# run), HTTP_SECS=5 (per wrk run, after a 1 s warm-up), METRICS=1 (what
# "on" sets EDDY_BENCH_METRICS to; "phases" adds the per-phase clocks).
# The server and wrk are pinned to CPUs 0 and 1 when taskset exists.
# Needs the programs of an EDDY_BUILD_BENCH build (default build-bench),
# and wrk for http_c50 (skipped without it).
set -euo pipefail
build=${1:-build-bench}
bin=$build/bench
runs=${RUNS:-5}
secs=${SECS:-2}
http_secs=${HTTP_SECS:-5}
on=${METRICS:-1}
pin0=() pin1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin0=(taskset -c 0) pin1=(taskset -c 1)
fi

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
  else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
key() { sed -n "s/^$1=//p"; }

# One run of a workload, metrics $1 (0 or $on): prints its figure.
run_loop_empty() { EDDY_BENCH_METRICS=$1 "${pin0[@]}" "$bin/bench_loop_empty_eddy" "$secs" | key iters_per_s; }
run_tcp_pingpong() { EDDY_BENCH_METRICS=$1 "${pin0[@]}" "$bin/bench_tcp_pingpong_eddy" "$secs" | key round_trips_per_s; }
run_http_c50() {
  local dir port srv rps
  dir=$(mktemp -d /tmp/eddy-mcost-XXXXXX)
  EDDY_BENCH_METRICS=$1 "${pin0[@]}" "$bin/bench_http_eddy_server" 0 >"$dir/out" &
  srv=$!
  for _ in $(seq 100); do grep -q listening "$dir/out" && break; sleep 0.05; done
  port=$(awk '/listening/ { print $2 }' "$dir/out")
  "${pin1[@]}" wrk -t1 -c50 -d1s "http://127.0.0.1:$port/" >/dev/null
  rps=$("${pin1[@]}" wrk -t1 -c50 -d"${http_secs}s" "http://127.0.0.1:$port/" |
    awk '/^Requests\/sec:/ { print $2 }')
  kill -TERM "$srv"; wait "$srv" || true
  rm -rf "$dir"
  echo "$rps"
}

workloads="loop_empty tcp_pingpong http_c50"
command -v wrk >/dev/null || { echo "wrk not found: http_c50 skipped" >&2; workloads="loop_empty tcp_pingpong"; }
printf '%-14s %-18s %14s %14s %8s %8s %10s\n' workload metric off on on/off cost pair_cost
for w in $workloads; do
  off_v=() on_v=()
  for i in $(seq "$runs"); do
    echo "[metrics_cost] $w run $i of $runs" >&2
    off_v+=("$(run_$w 0)")
    on_v+=("$(run_$w "$on")")
  done
  m_off=$(printf '%s\n' "${off_v[@]}" | median)
  m_on=$(printf '%s\n' "${on_v[@]}" | median)
  case $w in loop_empty) metric=iters/s ;; tcp_pingpong) metric=round_trips/s ;; *) metric=req/s ;; esac
  # pair_cost: the median over runs i of 1 - on_i / off_i, each pair run
  # back to back, so load that drifts over the run cancels out.
  m_pair=$(for i in $(seq 0 $((runs - 1))); do
    awk -v a="${off_v[$i]}" -v b="${on_v[$i]}" 'BEGIN { print (1 - b / a) * 100 }'
  done | median)
  awk -v w="$w" -v m="$metric" -v a="$m_off" -v b="$m_on" -v p="$m_pair" 'BEGIN {
    printf "%-14s %-18s %14.0f %14.0f %8.4f %7.2f%% %9.2f%%\n", w, m, a, b, b / a, (1 - b / a) * 100, p }'
  echo "[metrics_cost] $w off: ${off_v[*]}; on: ${on_v[*]}" >&2
done
