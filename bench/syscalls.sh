#!/usr/bin/env bash
# bench/syscalls.sh [BUILD_DIR] [N]: system calls per round trip of the
# ping-pong workloads, for each side, counted with `strace -c -f`.
#
# Each program runs twice under strace, for exactly N round trips (default
# 20000) and for 1; the difference of the counts divided by N - 1 is the
# steady cost of one round trip, without start-up and tear-down. Prints one
# line per workload and side: the total per round trip and each system
# call that occurs at least once per 100 round trips, then whether eddy's
# total is at or below libuv's. Slow (strace stops the program at every
# call) but exact; builds nothing, looks for the programs like run.sh.
#
# Environment: WORKLOADS=... subset of "tcp_pingpong pipe_pingpong
# udp_pingpong". Exits 1 if a program failed, 2 if strace is missing.
set -euo pipefail
export LC_ALL=C # sort and join must agree on the order

build=${1:-build-bench}
n=${2:-20000}
if compgen -G "$build/bench/bench_*" >/dev/null; then
  bindir=$build/bench
elif compgen -G "$build/bench_*" >/dev/null; then
  bindir=$build
else
  echo "syscalls.sh: no bench_* programs in $build/bench or $build" >&2
  exit 2
fi
command -v strace >/dev/null || {
  echo "syscalls.sh: strace missing (apt-get install strace)" >&2
  exit 2
}
((n >= 2)) || { echo "syscalls.sh: N must be >= 2" >&2; exit 2; }
workloads=${WORKLOADS:-"tcp_pingpong pipe_pingpong udp_pingpong"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# strace -c's table as "name calls" lines (the errors column may be empty,
# so the count is the 4th field and the name the last).
counts() {
  awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4 }' "$1"
}

failed=0
printf '%-14s %-5s %-9s %s\n' workload impl per_rt "calls per round trip"
for w in $workloads; do
  declare -A total=()
  for impl in eddy uv; do
    prog=$bindir/bench_${w}_$impl
    if [[ ! -x $prog ]]; then
      echo "[syscalls] $w: no bench_${w}_$impl, skipped" >&2
      continue
    fi
    for count in 1 "$n"; do
      if ! strace -c -f -o "$tmp/$impl.$count" "$prog" 60 "$count" \
        >"$tmp/out" 2>&1; then
        echo "[syscalls] $w $impl ($count round trips) FAILED:" >&2
        cat "$tmp/out" >&2
        failed=1
      fi
    done
    line=$(join -a1 -a2 -e 0 -o 0,1.2,2.2 \
      <(counts "$tmp/$impl.$n" | sort) <(counts "$tmp/$impl.1" | sort) |
      awk -v n="$n" '
        { d = ($2 - $3) / (n - 1); sum += d
          if (d >= 0.01) list = list sprintf(" %s=%.2f", $1, d) }
        END { printf "%.2f%s", sum, list }')
    total[$impl]=${line%% *}
    printf '%-14s %-5s %-9s %s\n' "$w" "$impl" "${line%% *}" \
      "${line#* }"
  done
  if [[ -n ${total[eddy]:-} && -n ${total[uv]:-} ]]; then
    awk -v e="${total[eddy]}" -v u="${total[uv]}" -v w="$w" 'BEGIN {
      printf "%-14s eddy/uv %.3f: eddy %s libuv\n", w, e / u,
        (e <= u ? "at or below" : "ABOVE") }'
  fi
  unset total
done
exit "$failed"
