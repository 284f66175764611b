#!/usr/bin/env bash
# bench/http/run.sh [BUILD_DIR]: HTTP requests per second, eddy vs nginx vs
# Node, with wrk -t1 -c50 (keep-alive), a 6-byte body.
#
# Builds bench/http/eddy_server.c against BUILD_DIR's libeddy.a (default
# build-bench; configure and build the library there first, Release or
# RelWithDebInfo, no sanitizers). Runs the servers alternately (eddy nginx
# node eddy ...), RUNS times each (default 5), DURATION seconds each
# (default 10), and prints min/median/max and the ratios of the medians
# (shared/BENCHMARKING.md: only same-run ratios mean anything). The server
# is pinned to CPU 0 and wrk to CPU 1 (PIN=0 turns that off). Beside req/s
# it reports the server's CPU time per request (user + system, from
# /proc/PID/stat; nginx: its worker), which still compares the servers when
# wrk is the bottleneck. A missing peer (nginx, node) is skipped with a
# message; wrk is required.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-bench}
runs=${RUNS:-5}
duration=${DURATION:-10}
conns=${CONNS:-50}
pin=${PIN:-1}
port=${PORT:-18080}

command -v wrk >/dev/null || { echo "run.sh: wrk not found" >&2; exit 2; }
lib=$(find "$build" -name libeddy.a | head -n 1)
[ -n "$lib" ] || { echo "run.sh: no libeddy.a under $build" >&2; exit 2; }

dir=$(mktemp -d /tmp/eddy-bench-http-XXXXXX)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/include" "$here/eddy_server.c" \
  "$lib" -lpthread -o "$dir/eddy_server"

sides="eddy"
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  sed "s|@PORT@|$port|; s|@DIR@|$dir|g" "$here/nginx.conf.in" >"$dir/nginx.conf"
  sides="$sides nginx"
else
  echo "run.sh: nginx not found: skipped" >&2
fi
if command -v node >/dev/null; then
  sides="$sides node"
else
  echo "run.sh: node not found: skipped" >&2
fi

cpu0=() cpu1=()
if [ "$pin" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  cpu0=(taskset -c 0) cpu1=(taskset -c 1)
fi

start() {
  case $1 in
    eddy) "${cpu0[@]}" "$dir/eddy_server" "$port" >/dev/null & ;;
    nginx) "${cpu0[@]}" "$nginx" -c "$dir/nginx.conf" -p "$dir" \
             >/dev/null 2>&1 & ;;
    node) "${cpu0[@]}" node "$here/node_server.js" "$port" >/dev/null & ;;
  esac
  server=$!
  for _ in $(seq 200); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "run.sh: $1 did not start" >&2
  exit 1
}

# The process whose CPU time counts: nginx's worker, else the server.
measured_pid() {
  local kid
  kid=$(pgrep -P "$server" | head -n 1 || true)
  if [ "$1" = nginx ] && [ -n "$kid" ]; then echo "$kid"; else echo "$server"; fi
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}

: >"$dir/results"
for ((i = 1; i <= runs; i++)); do
  for side in $sides; do
    start "$side"
    "${cpu1[@]}" wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$port/" >/dev/null
    pid=$(measured_pid "$side")
    t0=$(cpu_ticks "$pid")
    out=$("${cpu1[@]}" wrk -t1 -c"$conns" -d"${duration}s" \
            "http://127.0.0.1:$port/")
    t1=$(cpu_ticks "$pid")
    stop
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" \
           'BEGIN {printf "%.2f", t / hz / n * 1e6}')
    echo "$side $rps $us" >>"$dir/results"
    echo "run $i $side: $rps req/s, $us us CPU/request" >&2
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v s="$1" -v c="$2" '$1 == s {print $c}' "$dir/results"; }
printf '%-6s %10s %10s %10s   %s\n' side "req/s min" median max \
  "us CPU/req median"
for side in $sides; do
  vals=$(col "$side" 2)
  printf '%-6s %10.0f %10.0f %10.0f   %s\n' "$side" \
    "$(echo "$vals" | sort -n | head -n 1)" "$(echo "$vals" | median)" \
    "$(echo "$vals" | sort -n | tail -n 1)" "$(col "$side" 3 | median)"
done
for side in $sides; do
  [ "$side" = eddy ] && continue
  awk -v e="$(col eddy 2 | median)" -v p="$(col "$side" 2 | median)" \
    -v ec="$(col eddy 3 | median)" -v pc="$(col "$side" 3 | median)" \
    -v s="$side" 'BEGIN {printf "eddy / %s: req/s %.2fx, CPU per request %.2fx\n", s, e / p, ec / pc}'
done
