#!/usr/bin/env bash
# bench/metrics_instr.sh [BUILD_DIR [BASE_BUILD_DIR]]: the metrics' cost in
# instructions, which a shared, noisy machine does not blur: each program
# runs under valgrind's callgrind, counting only inside eddy_run
# (--toggle-collect), with metrics off and on (EDDY_BENCH_METRICS=1), and
# the count is divided by the work done (iterations, round trips,
# requests). With BASE_BUILD_DIR (the same bench programs built from the
# commit before the metrics) a third column shows what "off" costs against
# it. Instructions are not time: system calls count as one, so the ratio
# overstates the cost of a workload dominated by system calls less than it
# would a pure-CPU one. Needs valgrind (and wrk for http_c50).
set -euo pipefail
build=${1:-build-bench}
base=${2:-}
cg() { # cg OUT_FILE CMD...: callgrind inside eddy_run; prints the count
  local out=$1; shift
  valgrind --tool=callgrind --toggle-collect='eddy_run*' --callgrind-out-file="$out" "$@" \
    2>&1 >"$out.stdout" | sed -n 's/.*Collected : //p'
}
tmp=$(mktemp -d /tmp/eddy-minstr-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

loop_empty() { # BIN_DIR METRICS: instructions per iteration
  local ir n
  ir=$(EDDY_BENCH_METRICS=$2 cg "$tmp/le" "$1/bench_loop_empty_eddy" 0.3)
  n=$(sed -n 's/^iters=//p' "$tmp/le.stdout")
  awk -v a="$ir" -v b="$n" 'BEGIN { printf "%.1f", a / b }'
}
tcp_pingpong() { # per round trip
  local ir n
  ir=$(EDDY_BENCH_METRICS=$2 cg "$tmp/tp" "$1/bench_tcp_pingpong_eddy" 1)
  n=$(sed -n 's/^round_trips=//p' "$tmp/tp.stdout")
  awk -v a="$ir" -v b="$n" 'BEGIN { printf "%.1f", a / b }'
}
http_c50() { # per request answered
  local srv port n ir
  EDDY_BENCH_METRICS=$2 valgrind --tool=callgrind --toggle-collect='eddy_run*' \
    --callgrind-out-file="$tmp/hs" "$1/bench_http_eddy_server" 0 >"$tmp/hs.stdout" 2>"$tmp/hs.err" &
  srv=$!
  for _ in $(seq 200); do grep -q listening "$tmp/hs.stdout" && break; sleep 0.1; done
  port=$(awk '/listening/ { print $2 }' "$tmp/hs.stdout")
  n=$(wrk -t1 -c50 -d3s "http://127.0.0.1:$port/" | awk '/requests in/ { print $1 }')
  kill -TERM "$srv"; wait "$srv" || true
  ir=$(sed -n 's/.*Collected : //p' "$tmp/hs.err")
  awk -v a="$ir" -v b="$n" 'BEGIN { printf "%.1f", a / b }'
}

workloads="loop_empty tcp_pingpong"
command -v wrk >/dev/null && workloads="$workloads http_c50"
printf '%-14s %-14s %10s %10s %8s' workload per off on on/off
[ -n "$base" ] && printf ' %10s %8s' base off/base
echo
for w in $workloads; do
  off=$($w "$build/bench" 0)
  on=$($w "$build/bench" 1)
  case $w in loop_empty) per=iteration ;; tcp_pingpong) per=round_trip ;; *) per=request ;; esac
  printf '%-14s %-14s %10s %10s %8s' "$w" "$per" "$off" "$on" \
    "$(awk -v a="$off" -v b="$on" 'BEGIN { printf "%.4f", b / a }')"
  if [ -n "$base" ]; then
    b=$($w "$base/bench" 0)
    printf ' %10s %8s' "$b" "$(awk -v a="$off" -v b="$b" 'BEGIN { printf "%.4f", a / b }')"
  fi
  echo
done
