#!/usr/bin/env bash
# bench/ab.sh DIR_A DIR_B [WORKLOAD...]: compare two builds of eddy on the
# same workloads, alternating A B A B ... in one sitting, and print the
# median of each side and the ratio B/A (>1: B is better, whatever the
# metric's direction). DIR_A and DIR_B hold bench_<workload>_eddy and
# bench_http_eddy_server (a build's bench/ directory). For checking that a
# change made nothing slower: build the bench before and after it, then
#   bench/ab.sh before/build-bench/bench after/build-bench/bench
# Workloads: timers_million timers_mod100 loop_empty tcp_pingpong
# pipe_pingpong queue_work http_c50 (default: all). RUNS=5 runs per side.
# http_c50 needs wrk; server and wrk are pinned to CPUs 0 and 1.
set -euo pipefail

a=$1
b=$2
shift 2
workloads=${*:-"timers_million timers_mod100 loop_empty tcp_pingpong \
pipe_pingpong queue_work http_c50"}
runs=${RUNS:-5}

# The metric to read and whether more is better (1) or less (0).
metric_of() {
  case $1 in
    timers_million) echo "cpu_s 0" ;;
    timers_mod100) echo "wall_s 0" ;;
    loop_empty) echo "iters_per_s 1" ;;
    tcp_pingpong | pipe_pingpong) echo "round_trips_per_s 1" ;;
    queue_work) echo "jobs_per_s 1" ;;
    http_c50) echo "requests_per_s 1" ;;
  esac
}

args_of() {
  case $1 in
    timers_million) echo 2000000 ;;
    timers_mod100) echo 500000 ;;
    loop_empty) echo 1 ;;
    tcp_pingpong | pipe_pingpong) echo 2 ;;
    queue_work) echo 500000 ;;
  esac
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    ss -ltn 2>/dev/null | grep -q ":$p " || { echo "$p"; return; }
  done
}

# One run of workload $1 with the programs in $2: prints the metric.
run_one() {
  local w=$1 dir=$2 key=$3 port pid out
  if [[ $w == http_c50 ]]; then
    port=$(free_port)
    taskset -c 0 "$dir/bench_http_eddy_server" "$port" >/dev/null &
    pid=$!
    for _ in $(seq 50); do
      curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/" && break
      sleep 0.1
    done
    taskset -c 1 wrk -t1 -c50 -d1s "http://127.0.0.1:$port/" >/dev/null
    out=$(taskset -c 1 wrk -t1 -c50 -d5s "http://127.0.0.1:$port/")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$out" | awk '/^Requests\/sec:/ {print $2}'
    return
  fi
  # shellcheck disable=SC2046
  "$dir/bench_${w}_eddy" $(args_of "$w") | awk -F= -v k="$key" '$1 == k {print $2}'
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-16s %-18s %12s %12s %8s\n' workload metric A B B/A
for w in $workloads; do
  read -r key more <<<"$(metric_of "$w")"
  ra=() rb=()
  for ((i = 1; i <= runs; i++)); do
    ra+=("$(run_one "$w" "$a" "$key")")
    rb+=("$(run_one "$w" "$b" "$key")")
    echo "[ab] $w run $i/$runs: A ${ra[-1]} B ${rb[-1]}" >&2
  done
  ma=$(printf '%s\n' "${ra[@]}" | median)
  mb=$(printf '%s\n' "${rb[@]}" | median)
  ratio=$(awk -v a="$ma" -v b="$mb" -v m="$more" \
    'BEGIN {printf "%.3f", m ? b / a : a / b}')
  printf '%-16s %-18s %12s %12s %8s\n' "$w" "$key" "$ma" "$mb" "$ratio"
done
