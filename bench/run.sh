#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR]: run the benchmark programs built in BUILD_DIR
# (default build-bench; the programs are looked for in BUILD_DIR/bench, then
# BUILD_DIR) and print one comparison table on stdout. Builds nothing.
#
# Each workload runs eddy and every peer that was built alternately (eddy uv
# uvnode ev event eddy uv ...; peers: libuv, the libuv inside Node, libev,
# libevent, io_uring for the ping-pongs, OpenSSL for pbkdf2, Node's
# Atomics.wait/notify between worker_threads for atomics_pingpong), RUNS times each; only medians of the same run are compared
# (docs/benchmarking.md, point 1). Before every timers_million and
# timers_mod100 run, bench_pretouch writes as much memory as the biggest side
# uses, untimed, so no side pays for re-touching memory the host took back
# (point 2).
#
# Progress goes to stderr: "workload I of N (NAME), run J of M" before each
# run, with the time so far and an estimate of the time left (each
# workload's expected share of the whole, scaled by how long the finished
# ones took).
#
# The HTTP workloads (http_c50, http_c1000: req/s under wrk with 50 and 1000
# keep-alive connections, server and wrk pinned to one CPU each;
# http_c50_unpinned: the same without pinning, docs/benchmarking.md point
# 5; http_idle_rss: server memory per idle keep-alive connection) compare eddy's server with nginx and Node through
# bench/http/run.sh, which alternates the servers itself and appends its
# runs to the same runs.tsv (impls eddy, nginx, node): RUNS runs of
# DURATION=10 s after a 2 s warm-up, 10,000 idle connections; under QUICK,
# 1 run of 2 s after 1 s, 1,000 idle connections. They need curl, and wrk
# for the req/s ones; without them they are skipped with a message.
#
# Environment:
#   RUNS=3        runs per side and workload
#   QUICK=1       1 run each, smaller N (about a minute once built)
#   WORKLOADS=... subset of "timers_million timers_mod100 loop_empty pbkdf2
#                 queue_work queue_work_1 async_pingpong atomics_pingpong
#                 fs_stat
#                 tcp_pingpong tcp_pump tcp_pound tcp_idle_rss
#                 pipe_pingpong udp_pingpong spawn
#                 http_c50 http_c50_unpinned http_c1000 http_idle_rss
#                 redis_rtt redis_pipeline16 redis_pipeline128 redis_cache
#                 worker_messages"
#                 (redis_*: bench/redis/run.sh, eddy vs hiredis, node-redis
#                 and redis-benchmark; its header says more)
#   BENCH_OUT=DIR where results.json (every run's key=value pairs, machine,
#                 date, versions), runs.tsv, table.txt and chart.svg go
#                 (default BUILD_DIR/bench-out)
#   STRICT=1      a failed peer fails the run too (see below)
#
# A run that fails its own checks or crashes is recorded as failed: its
# figures are left out of the statistics, a side with no good run shows
# FAILED in the table and in the chart, and the notes under the table say
# how many runs failed. Exits 1 when eddy's side failed (or the harness
# itself did); a failed peer (libuv, nginx, ...) is reported but fails the
# run only with STRICT=1: a peer that breaks on a busy machine says nothing
# about eddy.
set -euo pipefail

build=${1:-build-bench}
if compgen -G "$build/bench/bench_*" >/dev/null; then
  bindir=$build/bench
elif compgen -G "$build/bench_*" >/dev/null; then
  bindir=$build
else
  echo "run.sh: no bench_* programs in $build/bench or $build" >&2
  exit 2
fi

quick=${QUICK:-0}
[[ $quick == 0 || $quick == "" ]] && quick=0 || quick=1
runs=${RUNS:-3}
((quick)) && runs=1
workloads=${WORKLOADS:-"timers_million timers_mod100 loop_empty pbkdf2 \
  queue_work queue_work_1 async_pingpong atomics_pingpong fs_stat tcp_pingpong \
  tcp_pump tcp_pound \
  tcp_idle_rss pipe_pingpong udp_pingpong spawn http_c50 http_c50_unpinned \
  http_c1000 http_idle_rss redis_rtt redis_pipeline16 redis_pipeline128 \
  redis_cache worker_messages"}
out=${BENCH_OUT:-$build/bench-out}
mkdir -p "$out"
tsv=$out/runs.tsv
: >"$tsv"

# The programs a workload runs: queue_work_1 is queue_work with one job in
# flight (docs/benchmarking.md, point 4: report both figures).
prog_for() {
  case $1 in
    queue_work_1) echo queue_work ;;
    *) echo "$1" ;;
  esac
}

# Arguments per workload (empty: the program's default) and MiB to pre-touch.
args_for() {
  case $1 in
    timers_million) ((quick)) && echo 1000000 || echo "" ;;
    timers_mod100) ((quick)) && echo 200000 || echo "" ;;
    loop_empty) ((quick)) && echo 0.2 || echo "" ;;
    queue_work) ((quick)) && echo 100000 || echo "" ;;
    queue_work_1) ((quick)) && echo "20000 1" || echo "200000 1" ;;
    atomics_pingpong) ((quick)) && echo 20000 || echo "" ;;
    async_pingpong) ((quick)) && echo 5000 || echo "" ;;
    fs_stat) ((quick)) && echo 20000 || echo "" ;;
    tcp_pingpong | pipe_pingpong | udp_pingpong | tcp_pump | tcp_pound)
      ((quick)) && echo 0.5 || echo "" ;;
    tcp_idle_rss) ((quick)) && echo 2000 || echo "" ;;
    spawn) ((quick)) && echo 200 || echo "" ;;
    worker_messages) ((quick)) && echo 100000 || echo "" ;;
  esac
}
pretouch_for() {
  case $1 in
    timers_million) ((quick)) && echo 160 || echo 1600 ;;
    timers_mod100) ((quick)) && echo 40 || echo 160 ;;
    *) echo 0 ;;
  esac
}

# One HTTP workload ($1: http_c50, http_c50_unpinned, http_c1000 or
# http_idle_rss) through
# bench/http/run.sh, which writes its rows into $tsv itself.
run_http() {
  local w=$1 mode=${1#http_} need=curl rc=0 side tool pin=1
  http_rc=0
  if [[ $mode == *_unpinned ]]; then
    mode=${mode%_unpinned}
    pin=0
  fi
  [[ $mode == idle_rss ]] || need="curl wrk"
  for tool in $need; do
    if ! command -v "$tool" >/dev/null; then
      echo "[bench] $w: $tool not found, skipped (apt-get install $tool)" >&2
      for side in eddy nginx node; do
        printf '%s\t%s\t1\tskipped\t1\n' "$w" "$side" >>"$tsv"
      done
      return 0
    fi
  done
  # Its own table goes to stderr with the progress; the rows go to $tsv.
  if ((quick)); then
    TSV=$tsv MODE=$mode PIN=$pin RUNS=1 DURATION=2 WARMUP=1 IDLE_CONNS=1000 SETTLE=1 \
      "$here/http/run.sh" "$build" >&2 || rc=$?
  else
    TSV=$tsv MODE=$mode PIN=$pin RUNS=$runs DURATION=10 WARMUP=2 IDLE_CONNS=10000 \
      "$here/http/run.sh" "$build" >&2 || rc=$?
  fi
  http_rc=$rc
  if ((rc != 0)); then
    echo "[bench] $w: a run FAILED (bench/http/run.sh exit $rc)" >&2
  fi
}

# The table's rows, one per (workload, metric, peer):
# workload metric better peer target(ratio eddy/peer; "-" none) op
spec='timers_million start_s lower uv 1/3 <=
timers_million start_s lower ev 1 <=
timers_million start_s lower event - -
timers_million cpu_s lower uv 1/3 <=
timers_million cpu_s lower ev 1 <=
timers_million cpu_s lower event - -
timers_million rss_mib lower uv 1 <
timers_million rss_mib lower ev - -
timers_million rss_mib lower event - -
timers_mod100 wall_s lower uv 1/3 <=
timers_mod100 wall_s lower ev 1 <=
timers_mod100 wall_s lower event - -
timers_mod100 wall_s lower uvnode - -
timers_mod100 cpu_s lower uv - -
timers_mod100 cpu_s lower ev - -
timers_mod100 cpu_s lower event - -
loop_empty iters_per_s higher uv - -
loop_empty iters_per_s higher uvnode - -
loop_empty iters_per_s higher ev - -
loop_empty iters_per_s higher event - -
pbkdf2 time_s lower ssl 1.25 <=
queue_work jobs_per_s higher uv 2 >=
queue_work jobs_per_s higher uvnode - -
queue_work cpu_s lower uv - -
queue_work_1 jobs_per_s higher uv - -
queue_work_1 jobs_per_s higher uvnode - -
async_pingpong round_trips_per_s higher uv 1.5 >=
async_pingpong round_trips_per_s higher uvnode - -
atomics_pingpong round_trips_per_s higher node 2 >=
fs_stat stats_per_s higher uv 1.2 >=
fs_stat stats_per_s higher uvnode - -
tcp_pingpong round_trips_per_s higher uv 1.2 >=
tcp_pingpong round_trips_per_s higher uvnode - -
tcp_pingpong round_trips_per_s higher ev - -
tcp_pingpong round_trips_per_s higher event - -
tcp_pingpong round_trips_per_s higher uring - -
tcp_pump mb_per_s higher uv 1 >=
tcp_pump mb_per_s higher uvnode - -
tcp_pound connections_per_s higher uv 1.2 >=
tcp_pound connections_per_s higher uvnode - -
tcp_idle_rss conn_rss_bytes lower uv 1 <=
pipe_pingpong round_trips_per_s higher uv - -
pipe_pingpong round_trips_per_s higher uvnode - -
pipe_pingpong round_trips_per_s higher ev - -
pipe_pingpong round_trips_per_s higher event - -
pipe_pingpong round_trips_per_s higher uring - -
udp_pingpong round_trips_per_s higher uv - -
udp_pingpong round_trips_per_s higher uvnode - -
spawn spawns_per_s higher uv 1 >=
http_c50 req_per_s higher nginx 1.1 >=
http_c50 req_per_s higher node 2 >=
http_c50_unpinned req_per_s higher nginx - -
http_c50_unpinned req_per_s higher node - -
http_c1000 req_per_s higher nginx - -
http_c1000 req_per_s higher node - -
http_idle_rss conn_rss_bytes lower nginx - -
http_idle_rss conn_rss_bytes lower node - -
redis_rtt ops_per_s higher hiredis 1 >=
redis_rtt ops_per_s higher node 3 >=
redis_pipeline16 ops_per_s higher hiredis 1 >=
redis_pipeline16 ops_per_s higher redisbench 0.9 >=
redis_pipeline16 ops_per_s higher node - -
redis_pipeline128 ops_per_s higher hiredis 1 >=
redis_pipeline128 ops_per_s higher redisbench 0.9 >=
redis_pipeline128 ops_per_s higher node - -
redis_cache gets_per_s higher uncached 100 >=
redis_cache inval_p50_us lower - - -
redis_cache inval_p99_us lower - - -
worker_messages oneway_msgs_per_s higher node 5 >=
worker_messages pingpong_rt_per_s higher node 5 >=
worker_messages transfer_1k_per_s higher node - -
worker_messages transfer_1m_per_s higher node 20 >=
worker_messages start_to_first_ms lower node 1/20 <=
worker_messages rss_per_idle_worker_kib lower node 1/10 <='


# One Redis workload through bench/redis/run.sh (rows into $tsv).
run_redis() {
  redis_rc=0
  TSV=$tsv MODES=${1#redis_} QUICK=$quick RUNS=$runs \
    "$here/redis/run.sh" "$build" >&2 || redis_rc=$?
  ((redis_rc == 0)) || echo "[bench] $1 FAILED (bench/redis/run.sh exit $redis_rc)" >&2
}

# The peers the table compares workload $1 with.
peers_for() {
  awk -v w="$1" '$1 == w && !seen[$4]++ { printf "%s ", $4 }' <<<"$spec"
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
harness_failed=0

# The sides of a (non-HTTP) workload whose programs were built.
impls_for() {
  local impl prog
  prog=$(prog_for "$1")
  for impl in eddy uv uvnode ev event uring ssl node; do
    if [[ -x $bindir/bench_${prog}_$impl ]]; then printf '%s ' "$impl"; fi
  done
}

# Expected time of one run of workload $1 (all its sides), in tenths of a
# second, from a QUICK and a full run on the 2-vCPU test machine: only the
# shares matter, the estimate scales them by the time measured so far.
weight_for() {
  local q f n
  case $1 in
    timers_million) q=12 f=150 ;;
    timers_mod100) q=4 f=30 ;;
    loop_empty) q=2 f=10 ;;
    pbkdf2 | queue_work) q=1 f=6 ;;
    queue_work_1) q=10 f=65 ;;
    async_pingpong) q=2 f=23 ;;
    fs_stat) q=3 f=6 ;;
    tcp_pingpong | pipe_pingpong) q=5 f=50 ;;
    tcp_pump | tcp_pound) q=5 f=31 ;;
    tcp_idle_rss) q=5 f=8 ;;
    udp_pingpong) q=7 f=50 ;;
    spawn) q=5 f=15 ;;
    worker_messages) q=40 f=150 ;;
    http_idle_rss) q=80 f=110; n=1 ;;
    http_*) q=110 f=370; n=1 ;;
    redis_*) q=30 f=120; n=1 ;;
    *) q=5 f=30 ;;
  esac
  [[ -n ${n:-} ]] || n=$(wc -w <<<"$(impls_for "$1")")
  ((quick)) && echo $((n * q)) || echo $((n * f))
}

# m:ss (or h:mm:ss) for $1 seconds.
dur() {
  local t=$1
  if ((t >= 3600)); then
    printf '%d:%02d:%02d' $((t / 3600)) $((t % 3600 / 60)) $((t % 60))
  else
    printf '%d:%02d' $((t / 60)) $((t % 60))
  fi
}

nw=$(wc -w <<<"$workloads")
total_weight=0
for w in $workloads; do
  total_weight=$((total_weight + $(weight_for "$w") * runs))
done
done_weight=0
t0=$SECONDS

# "[bench] workload I of N (NAME), run J of M, m:ss so far, about m:ss left"
progress() {
  local msg=$1 spent=$((SECONDS - t0)) left=""
  if ((done_weight > 0 && total_weight > done_weight)); then
    left=", about $(dur $(((total_weight - done_weight) * spent / done_weight))) left"
  fi
  echo "[bench] $msg, $(dur "$spent") so far$left" >&2
}

wi=0
for w in $workloads; do
  wi=$((wi + 1))
  if [[ $w == http_* ]]; then
    wt=$(weight_for "$w")
    progress "workload $wi of $nw ($w), runs 1-$runs of $runs in bench/http/run.sh"
    rows_before=$(wc -l <"$tsv")
    BENCH_PROGRESS="workload $wi of $nw" run_http "$w"
    # A failed bench/http/run.sh that recorded no failed run failed as a
    # harness: count it as eddy's.
    if ((http_rc != 0)) && ! tail -n +$((rows_before + 1)) "$tsv" |
      awk -F'\t' '$4 == "rc" && $5 != 0 { found = 1 } END { exit !found }'
    then
      harness_failed=1
    fi
    done_weight=$((done_weight + wt * runs))
    continue
  fi
  if [[ $w == redis_* ]]; then
    progress "workload $wi of $nw ($w), runs 1-$runs of $runs in bench/redis/run.sh"
    rows_before=$(wc -l <"$tsv")
    run_redis "$w"
    if ((redis_rc != 0)) && ! tail -n +$((rows_before + 1)) "$tsv" |
      awk -F'\t' '$4 == "rc" && $5 != 0 { found = 1 } END { exit !found }'
    then
      harness_failed=1
    fi
    done_weight=$((done_weight + $(weight_for "$w") * runs))
    continue
  fi
  impls=$(impls_for "$w")
  prog=$(prog_for "$w")
  missing=""
  for impl in eddy $(peers_for "$w"); do
    [[ " $impls " != *" $impl "* ]] || continue
    # A "skipped" row: the table and the chart say so instead of leaving
    # the side out.
    printf '%s\t%s\t1\tskipped\t1\n' "$w" "$impl" >>"$tsv"
    [[ $impl != eddy ]] || harness_failed=1
    missing="$missing $impl"
  done
  if [[ -n $missing ]]; then
    echo "[bench] $w: not built:$missing (skipped; the build log says why)" >&2
  fi
  args=$(args_for "$w")
  mib=$(pretouch_for "$w")
  wt=$(weight_for "$w")
  for ((r = 1; r <= runs; r++)); do
    progress "workload $wi of $nw ($w), run $r of $runs: ${impls% }"
    for impl in $impls; do
      if ((mib > 0)) && [[ -x $bindir/bench_pretouch ]]; then
        "$bindir/bench_pretouch" "$mib" || echo "[bench] pretouch failed" >&2
      fi
      rc=0
      # shellcheck disable=SC2086  # args: empty or a few plain words
      res=$("$bindir/bench_${prog}_$impl" $args) || rc=$?
      if ((rc != 0)); then
        echo "[bench] $w $impl run $r FAILED (exit $rc)" >&2
      fi
      printf '%s\t%s\t%d\t%s\t%s\n' "$w" "$impl" "$r" rc "$rc" >>"$tsv"
      while IFS= read -r line; do
        [[ -z $line ]] && continue
        if [[ $line != *=* ]]; then
          echo "[bench] $w $impl: not key=value: $line" >&2
          continue
        fi
        printf '%s\t%s\t%d\t%s\t%s\n' "$w" "$impl" "$r" \
          "${line%%=*}" "${line#*=}" >>"$tsv"
      done <<<"$res"
    done
    done_weight=$((done_weight + wt))
  done
done
progress "all $nw workloads done"

# --- results.json ----------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null \
  || true)
ncpu=$(nproc 2>/dev/null || echo 0)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kernel=$(uname -r)
awk -F'\t' -v cpu="${cpu:-unknown}" -v ncpu="$ncpu" -v date="$now" \
  -v kernel="$kernel" -v quick="$quick" -v runs="$runs" '
function js(s) {
  if (s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) return s
  return jstr(s)
}
function jstr(s) {
  gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s)
  return "\"" s "\""
}
{
  id = $1 SUBSEP $2 SUBSEP $3
  if (!(id in seen)) { seen[id] = 1; order[++n] = id; nk[id] = 0 }
  if ($4 == "version" && !($2 in ver)) ver[$2] = $5
  keys[id, ++nk[id]] = $4; vals[id, nk[id]] = $5
}
END {
  printf "{\n  \"machine\": {\"cpu\": %s, \"nproc\": %s, \"kernel\": %s},\n",
    js(cpu), js(ncpu), js(kernel)
  printf "  \"date\": %s,\n  \"quick\": %s,\n  \"runs_per_side\": %s,\n",
    js(date), quick ? "true" : "false", runs
  printf "  \"versions\": {"
  sep = ""
  for (impl in ver) {
    printf "%s%s: %s", sep, jstr(impl), jstr(ver[impl])
    sep = ", "
  }
  printf "},\n  \"runs\": [\n"
  for (i = 1; i <= n; i++) {
    split(order[i], p, SUBSEP)
    printf "    {\"workload\": %s, \"impl\": %s, \"run\": %s, \"results\": {",
      js(p[1]), js(p[2]), p[3]
    for (k = 1; k <= nk[order[i]]; k++)
      printf "%s%s: %s", (k > 1 ? ", " : ""), jstr(keys[order[i], k]),
        (keys[order[i], k] == "version" ? jstr(vals[order[i], k]) \
                                        : js(vals[order[i], k]))
    printf "}}%s\n", (i < n ? "," : "")
  }
  printf "  ]\n}\n"
}' "$tsv" >"$out/results.json"

# --- the table ---------------------------------------------------------------
awk -F'\t' -v spec="$spec" '
function fmt(v) {
  if (v == "") return "n/a"
  if (v >= 100000) return sprintf("%.3gM", v / 1e6)
  if (v >= 100) return sprintf("%.0f", v)
  if (v >= 10) return sprintf("%.1f", v)
  return sprintf("%.3f", v)
}
# "min/median/max" of the successful runs of (workload, impl, key); sets med.
function stats(w, impl, key,   i, j, m, a, t) {
  m = 0
  for (i = 1; i <= cnt[w, impl, key]; i++) a[++m] = val[w, impl, key, i]
  med = ""
  if (m == 0)
    return ((w, impl) in skip) ? "skipped" : ((w, impl) in nrun) ? "FAILED" \
                                                                 : "n/a"
  for (i = 2; i <= m; i++)
    for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
  med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  return fmt(a[1]) "/" fmt(med) "/" fmt(a[m])
}
$4 == "skipped" && $5 == 1 { skip[$1, $2] = 1 }
$4 == "rc" {
  ok[$1, $2, $3] = ($5 == 0)
  nrun[$1, $2]++
  if ($5 != 0) nfail[$1, $2]++
  next
}
ok[$1, $2, $3] && $5 ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ {
  val[$1, $2, $4, ++cnt[$1, $2, $4]] = $5 + 0
}
END {
  f = "%-17s %-17s %-7s %-26s %-6s %-26s %-7s %-7s %s\n"
  printf f, "workload", "metric", "better", "eddy min/med/max", "peer",
    "peer min/med/max", "ratio", "target", "met"
  nrow = split(spec, rows, "\n")
  for (r = 1; r <= nrow; r++) {
    split(rows[r], s, " ")
    w = s[1]; key = s[2]; peer = s[4]
    # Rows of workloads that did not run at all are left out; a side that
    # ran and failed, or was skipped, keeps its row.
    if (!((w, "eddy", key) in cnt) && !((w, peer, key) in cnt) &&
        !((w, "eddy") in skip) && !((w, peer) in skip) &&
        !((w, "eddy") in nrun) && !((w, peer) in nrun)) continue
    e = stats(w, "eddy", key); em = med
    p = stats(w, peer, key); pm = med
    ratio = (em != "" && pm != "" && pm > 0) ? em / pm : ""
    tgt = "-"; met = "-"
    if (s[5] != "-") {
      split(s[5], q, "/"); lim = q[1] / (q[2] == "" ? 1 : q[2])
      tgt = s[6] " " (q[2] == "" ? s[5] : sprintf("%.2f", lim))
      if (ratio == "") met = "n/a"
      else if (s[6] == "<=") met = (ratio <= lim) ? "yes" : "no"
      else if (s[6] == ">=") met = (ratio >= lim) ? "yes" : "no"
      else met = (ratio < lim) ? "yes" : "no"
    }
    # No ratio: say why, so that no row disappears from the chart.
    if (ratio != "") rtext = sprintf("%.3f", ratio)
    else if (e == "FAILED" || p == "FAILED") rtext = "FAILED"
    else if (e == "skipped" || p == "skipped") rtext = "skipped"
    else rtext = "n/a"
    printf f, w, key, s[3], e, peer, p, rtext, tgt, met
  }
  print "ratio = eddy median / peer median; \"better\" says which way wins " \
    "for the metric (lower: times, RSS; higher: iterations/s)."
  print "peers: uv = libuv, uvnode = the libuv inside Node (bench/uvnode), " \
    "ev = libev, event = libevent, uring = the same ping-pong on io_uring " \
    "(an experiment), ssl = OpenSSL; http_*: nginx, node = Node.js " \
    "(bench/http/run.sh); atomics_pingpong: node = Node.js worker_threads; " \
    "redis_*: hiredis, node = node-redis, " \
    "redisbench = redis-benchmark -P, uncached = eddy without the cache " \
    "(bench/redis/run.sh)."
  for (k in nfail) {
    split(k, q, SUBSEP)
    printf "FAILED: %s %s: %d of %d runs failed their checks (their " \
      "figures are left out of min/med/max; FAILED above when none " \
      "passed)\n", q[1], q[2], nfail[k], nrun[k]
  }
}' "$tsv" | tee "$out/table.txt"

echo "[bench] raw runs: $out/results.json" >&2
# The same table as a bar chart (bench/chart.sh); a chart that cannot be
# drawn does not fail the run.
if chart=$("$(dirname "${BASH_SOURCE[0]}")/chart.sh" "$out"); then
  echo "[bench] chart: $chart" >&2
else
  echo "[bench] chart not drawn" >&2
fi

# --- the exit status -------------------------------------------------------
eddy_failed=$(awk -F'\t' '$2 == "eddy" && $4 == "rc" && $5 != 0 { n++ }
  END { print n + 0 }' "$tsv")
peers_failed=$(awk -F'\t' '$2 != "eddy" && $4 == "rc" && $5 != 0 {
  k = $1 " " $2; if (!(k in seen)) { seen[k] = 1; printf "%s%s", sep, k
  sep = ", " } }' "$tsv")
status=0
if ((eddy_failed > 0 || harness_failed)); then
  if ((harness_failed)); then
    echo "[bench] FAILED: eddy's side failed $eddy_failed run(s), or was" \
      "not built, or a harness step failed" >&2
  else
    echo "[bench] FAILED: eddy's side failed $eddy_failed run(s)" >&2
  fi
  status=1
fi
if [[ -n $peers_failed ]]; then
  if [[ ${STRICT:-0} == 1 ]]; then
    echo "[bench] FAILED (STRICT=1): peers failed: $peers_failed" >&2
    status=1
  else
    echo "[bench] peers failed: $peers_failed (shown as FAILED; not" \
      "fatal, STRICT=1 makes it so)" >&2
  fi
fi
exit "$status"
