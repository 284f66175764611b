#!/usr/bin/env bash
# bench/redis/run.sh [BUILD_DIR]: eddy's Redis client against hiredis 0.14
# (async, on libev), node-redis (npm) and redis-benchmark -P, on one
# redis-server of its own, pinned to CPU 0, the clients pinned to CPU 1
# (PIN=0 turns that off; docs/benchmarking.md point 5).
#
# MODES (default "rtt pipeline16 pipeline128 cache"):
#   rtt          one GET at a time: round trips/s (ops_per_s)
#   pipelineN    batches of N commands (SET and GET alternately), the next
#                batch once the last reply came: commands/s (ops_per_s);
#                redis-benchmark -c 1 -P N -t set,get is the server's own
#                ceiling for it (the rate of a half-SET half-GET mix of its
#                two figures)
#   cache        eddy only: cached GET hits/s (gets_per_s) against uncached
#                GETs/s, one at a time (reported as the side "uncached"),
#                and the delay from a SET on one connection to the
#                invalidation seen by another (inval_p50_us, inval_p99_us)
#
# The programs: BUILD_DIR's bench/bench_redis_eddy and bench_redis_hiredis
# (`make bench` builds them; the hiredis one when libhiredis-dev and
# libev-dev are there), bench/redis/node_redis.js with node-redis installed
# by npm into BUILD_DIR/bench/redis-node (once; never in the source tree).
# A missing peer is skipped with a message; redis-server is required.
# Sides run alternately (eddy hiredis node redisbench eddy ...), RUNS times
# each (default 3), SECONDS each (default 2, after a tenth as warm-up);
# QUICK=1: 1 run of 0.3 s. Prints min/median/max and the median ratios;
# with TSV=FILE also appends bench/run.sh's rows (workload redis_MODE,
# impl eddy/hiredis/node/redisbench/uncached). Exits 1 when a run failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-bench}
[ -d "$build" ] || { echo "redis/run.sh: no build directory $build" >&2; exit 2; }
build=$(cd "$build" && pwd)
modes=${MODES:-"rtt pipeline16 pipeline128 cache"}
quick=${QUICK:-0}
[[ $quick == 0 || $quick == "" ]] && quick=0 || quick=1
runs=${RUNS:-3}
secs=${SECONDS_RUN:-2}
if ((quick)); then runs=1; secs=0.3; fi
tsv=${TSV:-}
pin=${PIN:-1}
failed=0

bindir=
for d in "$build/bench" "$build"; do
  [ -x "$d/bench_redis_eddy" ] && { bindir=$d; break; }
done
[ -n "$bindir" ] || { echo "redis/run.sh: no bench_redis_eddy in $build" >&2; exit 2; }

server_bin=$(command -v redis-server || true)
[ -n "$server_bin" ] || [ ! -x /usr/bin/redis-server ] || server_bin=/usr/bin/redis-server
[ -n "$server_bin" ] || { echo "redis/run.sh: redis-server not found (apt-get install redis-server)" >&2; exit 2; }

cpu0=() cpu1=()
if [ "$pin" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  cpu0=(taskset -c 0) cpu1=(taskset -c 1)
fi

dir=$(mktemp -d /tmp/eddy-bench-redis-XXXXXX)
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# The server: a random free port, retried if taken.
for _ in 1 2 3 4 5; do
  port=$((20000 + (RANDOM % 20000)))
  : >"$dir/redis.log"
  "${cpu0[@]}" "$server_bin" --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
  server=$!
  for _ in $(seq 200); do
    grep -q "Ready to accept" "$dir/redis.log" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.02
  done
  grep -q "Ready to accept" "$dir/redis.log" 2>/dev/null && break
  wait "$server" 2>/dev/null || true
  server=
done
[ -n "$server" ] || { echo "redis/run.sh: redis-server did not start" >&2; exit 2; }
server_version=$("$server_bin" --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')

# The peers that are there.
sides="eddy"
if [ -x "$bindir/bench_redis_hiredis" ]; then
  sides="$sides hiredis"
else
  echo "redis/run.sh: bench_redis_hiredis not built (apt-get install libhiredis-dev libev-dev): hiredis skipped" >&2
fi
nodedir=$build/bench/redis-node
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -f "$nodedir/node_modules/redis/package.json" ]; then
    echo "redis/run.sh: npm install redis into $nodedir" >&2
    mkdir -p "$nodedir"
    timeout 300 npm install --prefix "$nodedir" --no-audit --no-fund \
      --loglevel=error redis >&2 || true
  fi
  if [ -f "$nodedir/node_modules/redis/package.json" ]; then
    sides="$sides node"
  else
    echo "redis/run.sh: node-redis could not be installed: node skipped" >&2
  fi
else
  echo "redis/run.sh: node or npm not found: node skipped" >&2
fi
have_rb=0
if command -v redis-benchmark >/dev/null; then
  have_rb=1
else
  echo "redis/run.sh: redis-benchmark not found (apt-get install redis-tools): skipped" >&2
fi

tsv_row() {
  [ -n "$tsv" ] || return 0
  printf '%s\t%s\t%d\t%s\t%s\n' "$@" >>"$tsv"
}

res=$dir/results
: >"$res"

# Records the key=value output $4 of side $2 in mode $1, run $3, rc $5.
record() {
  local mode=$1 side=$2 run=$3 out=$4 rc=$5 line
  tsv_row "redis_$mode" "$side" "$run" rc "$rc"
  tsv_row "redis_$mode" "$side" "$run" server_version "$server_version"
  while IFS= read -r line; do
    [[ $line == *=* ]] || continue
    tsv_row "redis_$mode" "$side" "$run" "${line%%=*}" "${line#*=}"
    [ "$rc" = 0 ] && echo "$mode $side ${line%%=*} ${line#*=}" >>"$res"
  done <<<"$out"
  if [ "$rc" != 0 ]; then
    echo "redis/run.sh: $mode $side run $run FAILED (exit $rc)" >&2
    failed=1
  fi
}

# redis-benchmark -P N: SET and GET rates, combined as the rate of a
# half-and-half mix.
run_rb() {
  local depth=$1 n out set get
  n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1500000 }')
  out=$("${cpu1[@]}" timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" \
    -c 1 -P "$depth" -n "$n" -t set,get -q 2>/dev/null | tr '\r' '\n') || return 1
  set=$(echo "$out" | awk -F'[: ]+' '/^SET: [0-9.]+ requests per second/ { print $2; exit }')
  get=$(echo "$out" | awk -F'[: ]+' '/^GET: [0-9.]+ requests per second/ { print $2; exit }')
  [ -n "$set" ] && [ -n "$get" ] || return 1
  awk -v s="$set" -v g="$get" 'BEGIN {
    printf "ops_per_s=%.0f\nset_per_s=%.0f\nget_per_s=%.0f\n", 2 / (1 / s + 1 / g), s, g }'
  redis-benchmark --version | sed -n 's/^redis-benchmark \([0-9.]*\).*/version=\1/p'
}

for mode in $modes; do
  msides=$sides
  [ "$mode" = cache ] && msides=eddy
  if [[ $mode == pipeline* ]] && ((have_rb)); then msides="$msides redisbench"; fi
  for ((r = 1; r <= runs; r++)); do
    for side in $msides; do
      echo "[redis] $mode $side run $r/$runs" >&2
      rc=0
      case $side in
        eddy | hiredis)
          out=$("${cpu1[@]}" timeout 120 "$bindir/bench_redis_$side" "$port" \
            "$mode" "$secs") || rc=$? ;;
        node)
          out=$("${cpu1[@]}" timeout 120 node "$here/node_redis.js" "$nodedir" \
            "$port" "$mode" "$secs") || rc=$? ;;
        redisbench)
          out=$(run_rb "${mode#pipeline}") || rc=$? ;;
      esac
      if [ "$mode" = cache ]; then
        # the uncached figure is the side "uncached", same metric name
        record "$mode" eddy "$r" "$(echo "$out" | grep -v '^uncached_')" "$rc"
        record "$mode" uncached "$r" \
          "$(echo "$out" | sed -n 's/^uncached_gets_per_s=/gets_per_s=/p')" "$rc"
      else
        record "$mode" "$side" "$r" "$out" "$rc"
      fi
    done
  done
done

# ---- the table ------------------------------------------------------------
echo "== Redis client, redis-server $server_version pinned to CPU 0, clients on CPU 1 ($runs run(s) x ${secs}s)"
awk '
function sort(a, n,   i, j, t) {
  for (i = 2; i <= n; i++)
    for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
}
function med(k,   n, a, i) {
  n = cnt[k]; for (i = 1; i <= n; i++) a[i] = v[k, i]
  sort(a, n); return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function mm(k,   n, a, i) {
  n = cnt[k]; for (i = 1; i <= n; i++) a[i] = v[k, i]
  sort(a, n); return sprintf("%.0f/%.0f/%.0f", a[1], med(k), a[n])
}
{ k = $1 SUBSEP $2 SUBSEP $3; v[k, ++cnt[k]] = $4
  if (!(($1, $3) in seenm)) { seenm[$1, $3] = 1; ml[++nm] = $1 SUBSEP $3 }
  if (!(($1, $3, $2) in seens)) { seens[$1, $3, $2] = 1; sl[$1, $3, ++ns[$1, $3]] = $2 } }
END {
  for (i = 1; i <= nm; i++) {
    split(ml[i], p, SUBSEP); m = p[1]; key = p[2]
    if (key !~ /^(ops_per_s|gets_per_s|inval_p50_us|inval_p99_us)$/) continue
    for (j = 1; j <= ns[m, key]; j++) {
      s = sl[m, key, j]; k = m SUBSEP s SUBSEP key
      line = sprintf("%-12s %-13s %-10s %s", m, key, s, mm(k))
      e = m SUBSEP "eddy" SUBSEP key
      if (s != "eddy" && (e in cnt) && med(k) > 0)
        line = line sprintf("   eddy/%s %.2fx", s, med(e) / med(k))
      print line
    }
  }
}' "$res"
exit "$failed"
