#!/usr/bin/env bash
# bench/http/run.sh [BUILD_DIR]: eddy's HTTP server vs nginx vs Node, a
# 6-byte body, keep-alive. MODE picks what is measured:
#
#   MODE=c50 (default)  requests per second, wrk -t1 -c50 (CONNS=N changes
#                       the 50)
#   MODE=c1000          the same with wrk -t1 -c1000
#   MODE=idle_rss       resident memory per idle keep-alive connection
#   MODE=all            the three, one table each
#
# The eddy server and the idle client are BUILD_DIR's
# bench/bench_http_eddy_server and bench/bench_http_idle_clients when they
# are there (`make bench`, or cmake --build BUILD_DIR --target eddy_bench,
# builds them; rebuild after changing their sources); otherwise this
# script compiles bench/http/eddy_server.c against BUILD_DIR's libeddy.a
# (default build-bench; configure and build the library there first,
# Release or RelWithDebInfo, no sanitizers) and bench/http/idle_clients.c.
# Runs the servers alternately (eddy nginx node eddy ...), RUNS times each
# (default 5), each started fresh, and prints min/median/max and the ratios
# of the medians (docs/benchmarking.md: only same-run ratios mean
# anything). The server is pinned to CPU 0 and the client (wrk,
# idle_clients) to CPU 1 (PIN=0 turns that off). A missing peer (nginx,
# node) is skipped with a message; wrk is required for the req/s modes.
#
# TSV=FILE (what bench/run.sh, so `make bench`, uses): also append every
# run's figures to FILE in bench/run.sh's runs.tsv format, one
# "workload<TAB>impl<TAB>run<TAB>key<TAB>value" line each, workloads
# http_cN (N connections) and http_idle_rss, impls eddy, nginx and node:
# an rc line (0, or 1 when the run failed its checks: the server did not
# start, wrk or idle_clients failed, or wrk counted errors), the version of
# nginx and Node, req_per_s, cpu_us_per_req, errors, timeouts and requests
# (req/s modes), conn_rss_bytes (the per-connection figure below),
# conn_rss_bytes_mw (nginx: master + worker), rss_before_kib, rss_with_kib,
# server_fds and conns (idle_rss). A peer that is not installed gets a
# "skipped 1" line.
#
# Ports: every server listens on a port that is free when it starts, never
# a fixed one, so a busy machine cannot make a run measure somebody else's
# server. eddy's and Node's servers are given port 0 and print the port the
# kernel picked ("listening PORT"); nginx cannot say which port it got, so
# bench_free_port (bench/free_port.c) picks one just before it starts and,
# should another program take it first, nginx fails to bind and is started
# again on another (5 tries).
#
# Exits 1 when a run failed. A failed run (a server that does not start,
# wrk or idle_clients failing, wrk errors) is recorded as failed (rc 1 in
# the TSV, FAILED in the tables) and the next run goes on; a side without
# one good run shows FAILED in this script's tables.
#
# BENCH_PROGRESS="workload I of N" (bench/run.sh sets it) is put in front
# of the "run J of M" line printed on stderr before every run.
#
# req/s modes: a WARMUP-second warm-up (default 2), then DURATION seconds
# (default 10) of wrk.
# Beside req/s it reports the server's CPU time per request (user + system,
# from /proc/PID/stat; nginx: its worker), which still compares the servers
# when wrk is the bottleneck, wrk's errors (connect, read and write errors
# and non-2xx answers; expected 0, any fails the run) and its timeouts
# (requests still unanswered after wrk's 2 s timeout: a latency tail, not
# a failure; Node has a few hundred at c1000). eddy and Node run with their
# defaults, nginx with its default keepalive_timeout 75s.
#
# nginx's worker_connections is max(1024, C + C/8 + 64) for C connections:
# nginx (since 1.19) closes idle keep-alive connections in advance whenever
# fewer than 1/16 of worker_connections are free, so a tight value would
# cut wrk's connections (errors) and idle_rss's idle ones.
#
# idle_rss: idle_clients opens IDLE_CONNS connections (default 10000), each
# sends one request and reads the response, then stays open and idle. After
# SETTLE seconds more (default 2) the server's VmRSS is read; the figure is
# (RSS with the connections - RSS before them) / IDLE_CONNS, in bytes: the
# server's own memory per idle connection (kernel socket buffers are not in
# RSS). "Before" is read once the server answered run.sh's readiness request
# and 0.5 s passed. For nginx the per-connection figure is the worker's
# (the master does not touch connections); the master + worker sum is shown
# too (it counts the pages they share twice). Every server's keep-alive idle
# timeout is set to IDLE_KEEPALIVE seconds (default 120, far above the ~5 s
# a run holds the connections): eddy_server's KEEPALIVE_MS argument (eddy's
# default is 5 s), nginx's keepalive_timeout (75s by default), Node's
# server.keepAliveTimeout (5 s by default); idle_clients checks that the
# server closed none of them before the end. nginx allocates its
# worker_connections array at start: it raises "before", not the
# per-connection growth.
#
# Descriptors: the soft RLIMIT_NOFILE is raised for everything started here
# (the servers, wrk, idle_clients) to what the mode needs; a mode that needs
# more than the hard limit is skipped with a message. Every wrk run and
# idle_clients run is bounded in time; every process started is stopped on
# exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-bench}
mode=${MODE:-c50}
runs=${RUNS:-5}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
tsv=${TSV:-}
failed=0
pin=${PIN:-1}
port='' # the current server's, set by start()
progress=${BENCH_PROGRESS:+$BENCH_PROGRESS, }
idle_conns=${IDLE_CONNS:-10000}
idle_keepalive=${IDLE_KEEPALIVE:-120}
settle=${SETTLE:-2}

case $mode in
  c50 | c1000 | idle_rss) modes=$mode ;;
  all) modes="c50 c1000 idle_rss" ;;
  *) echo "run.sh: MODE is c50, c1000, idle_rss or all" >&2; exit 2 ;;
esac
dir=$(mktemp -d /tmp/eddy-bench-http-XXXXXX)
server='' worker='' client=''

# True while $1 runs (a zombie, exited but not yet waited for, does not).
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ -n "$state" ] && [ "$state" != Z ]
}

# Stop process $1 (a child of this shell): TERM, then KILL after 10 s.
stop_pid() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do alive "$1" || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

cleanup() {
  exec 3>&- 2>/dev/null || true
  [ -n "$client" ] && stop_pid "$client"
  [ -n "$server" ] && stop_pid "$server"
  # nginx's worker is not our child: make sure it went with its master.
  [ -n "$worker" ] && alive "$worker" && kill -KILL "$worker" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# The programs `make bench` built, else compiled here (see the header).
bindir=
for d in "$build/bench" "$build"; do
  if [ -x "$d/bench_http_eddy_server" ] && [ -x "$d/bench_http_idle_clients" ]
  then
    bindir=$d
    break
  fi
done
if [ -n "$bindir" ]; then
  cp "$bindir/bench_http_eddy_server" "$dir/eddy_server"
  cp "$bindir/bench_http_idle_clients" "$dir/idle_clients"
fi
if [ -n "$bindir" ] && [ -x "$bindir/bench_free_port" ]; then
  cp "$bindir/bench_free_port" "$dir/free_port"
else
  cc -O2 -std=c11 "$here/../free_port.c" -o "$dir/free_port"
fi
if [ -z "$bindir" ]; then
  lib=$(find "$build" -name libeddy.a | head -n 1)
  [ -n "$lib" ] || { echo "run.sh: no libeddy.a under $build" >&2; exit 2; }
  cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/include" "$here/eddy_server.c" \
    "$lib" -lpthread -o "$dir/eddy_server"
  cc -O2 -std=c11 -D_GNU_SOURCE "$here/idle_clients.c" -o "$dir/idle_clients"
fi

# TSV rows (see the header): tsv_row WORKLOAD IMPL RUN KEY VALUE.
tsv_row() {
  [ -n "$tsv" ] || return 0
  printf '%s\t%s\t%d\t%s\t%s\n' "$@" >>"$tsv"
}

# The rows of one finished run of side $2 in workload $1, run $3: rc $4,
# then the side's version, then KEY VALUE pairs.
tsv_run() {
  local w=$1 side=$2 run=$3 rc=$4 v
  shift 4
  tsv_row "$w" "$side" "$run" rc "$rc"
  case $side in
    nginx) v=$("$nginx" -v 2>&1 | sed -n 's|.*nginx/||p') ;;
    node) v=$(node --version 2>/dev/null) ;;
    *) v= ;;
  esac
  [ -z "$v" ] || tsv_row "$w" "$side" "$run" version "$v"
  while [ $# -ge 2 ]; do
    tsv_row "$w" "$side" "$run" "$1" "$2"
    shift 2
  done
}

# A peer that is not installed: a "skipped" row for workload $1.
tsv_skip() {
  tsv_row "$1" "$2" 1 skipped 1
}

sides="eddy" missing=""
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  sides="$sides nginx"
else
  echo "run.sh: nginx not found: skipped" >&2
  missing="$missing nginx"
fi
if command -v node >/dev/null; then
  sides="$sides node"
else
  echo "run.sh: node not found: skipped" >&2
  missing="$missing node"
fi
# The workload and run being measured, for the TSV rows.
cur_w='' cur_run=0

cpu0=() cpu1=()
if [ "$pin" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  cpu0=(taskset -c 0) cpu1=(taskset -c 1)
fi

# Raise the soft descriptor limit to $1; fails when the hard limit is lower.
raise_nofile() {
  local hard
  hard=$(ulimit -Hn)
  [ "$(ulimit -Sn)" = unlimited ] || [ "$(ulimit -Sn)" -ge "$1" ] && return 0
  [ "$hard" = unlimited ] || [ "$hard" -ge "$1" ] || return 1
  ulimit -Sn "$1"
}

# nginx's worker_connections for $1 client connections (see the header).
worker_conns() {
  local c=$(($1 + $1 / 8 + 64))
  echo $((c > 1024 ? c : 1024))
}

# nginx's settings for the next runs: worker_connections $1,
# keepalive_timeout $2 (nginx.conf is written at each start, with the port).
nginx_conns=1024 nginx_keepalive=75s
nginx_conf() {
  nginx_conns=$1 nginx_keepalive=$2
}

# Start server $1 once, with keep-alive idle timeout $2 ms (empty: its
# default), on a free port (sets port), and wait until it answers. Returns
# 1 when it exits or does not answer within 10 s.
start_once() {
  local got
  : >"$dir/server.out"
  case $1 in
    eddy) "${cpu0[@]}" "$dir/eddy_server" 0 ${2:+"$2"} >"$dir/server.out" & ;;
    nginx)
      port=$("$dir/free_port") || return 1
      sed "s|@PORT@|$port|; s|@DIR@|$dir|g; s|@CONNS@|$nginx_conns|;
           s|@KEEPALIVE@|$nginx_keepalive|" "$here/nginx.conf.in" \
        >"$dir/nginx.conf"
      "${cpu0[@]}" "$nginx" -c "$dir/nginx.conf" -p "$dir" \
        >/dev/null 2>&1 &
      ;;
    node) "${cpu0[@]}" node "$here/node_server.js" 0 ${2:+"$2"} \
             >"$dir/server.out" & ;;
  esac
  server=$!
  worker=
  for _ in $(seq 200); do
    alive "$server" || break
    if [ "$1" != nginx ]; then
      got=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$dir/server.out")
      [ -n "$got" ] || { sleep 0.05; continue; }
      port=$got
    fi
    if curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
      [ "$1" = nginx ] && worker=$(pgrep -P "$server" | head -n 1 || true)
      return 0
    fi
    sleep 0.05
  done
  stop
  return 1
}

# start_once, tried again (nginx: on another port) up to 5 times. A server
# that never starts fails this run: an rc 1 row, and return 1.
start() {
  local try
  for try in 1 2 3 4 5; do
    start_once "$@" && return 0
    [ "$1" = nginx ] || break
    echo "run.sh: nginx did not start on port $port (try $try of 5)" >&2
  done
  echo "run.sh: $1 did not start: this run FAILED" >&2
  tsv_row "$cur_w" "$1" "$cur_run" rc 1
  failed=1
  return 1
}

stop() {
  [ -z "$server" ] || stop_pid "$server"
  server=
  worker=
}

# The process that serves connections: nginx's worker, else the server.
measured_pid() { echo "${worker:-$server}"; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v s="$1" -v c="$2" '$1 == s {print $c}' "$3"; }
# min median max of column $2 of side $1 in file $3, formatted with $4.
stats() {
  local vals
  vals=$(col "$1" "$2" "$3")
  # shellcheck disable=SC2059 # $4 is a number format of this script
  printf "$4 $4 $4" "$(echo "$vals" | sort -n | head -n 1)" \
    "$(echo "$vals" | median)" "$(echo "$vals" | sort -n | tail -n 1)"
}

# ---- req/s with wrk -t1 -c$1 ------------------------------------------------
run_rps() {
  local conns=$1 res="$dir/rps-$1" side i pid t0 t1 out rps reqs us errs tmo
  local wc wrc w=http_c$1
  [ "$pin" = 1 ] || w=${w}_unpinned
  wc=$(worker_conns "$conns")

  command -v wrk >/dev/null || { echo "run.sh: wrk not found" >&2; exit 2; }
  if ! raise_nofile $((wc + 256)); then
    echo "run.sh: c$conns skipped: needs $((wc + 256)) descriptors," \
      "hard limit $(ulimit -Hn)" >&2
    for side in eddy nginx node; do tsv_skip "$w" "$side"; done
    return 0
  fi
  for side in $missing; do tsv_skip "$w" "$side"; done
  nginx_conf "$wc" 75s
  : >"$res"
  for ((i = 1; i <= runs; i++)); do
    for side in $sides; do
      cur_w=$w cur_run=$i
      echo "[bench] ${progress}$w run $i of $runs: $side" >&2
      start "$side" "" || continue
      # A failed warm-up shows in the measured run that follows.
      "${cpu1[@]}" timeout -k 5 $((warmup + 30)) wrk -t1 -c"$conns" \
        -d"${warmup}s" "http://127.0.0.1:$port/" >/dev/null || true
      pid=$(measured_pid)
      t0=$(cpu_ticks "$pid")
      wrc=0
      out=$("${cpu1[@]}" timeout -k 5 $((duration + 30)) wrk -t1 -c"$conns" \
              -d"${duration}s" "http://127.0.0.1:$port/") || wrc=$?
      t1=$(cpu_ticks "$pid")
      stop
      rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
      reqs=$(echo "$out" | awk '/requests in/ {print $1 + 0}')
      # "Socket errors: connect 0, read 0, write 0, timeout 0" and
      # "Non-2xx or 3xx responses: N" appear only when not zero.
      errs=$(echo "$out" | awk '
        /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8}
        /Non-2xx/ {n += $NF}
        END {print n + 0}')
      tmo=$(echo "$out" | awk '
        /Socket errors/ {gsub(",", ""); n += $10}
        END {print n + 0}')
      if [ "$wrc" != 0 ] || [ -z "$rps" ] || [ "${reqs:-0}" = 0 ]; then
        echo "c$conns run $i $side: FAILED (wrk exit $wrc, no figures)" >&2
        tsv_run "$w" "$side" "$i" 1 errors "$errs"
        failed=1
        continue
      fi
      us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" \
             'BEGIN {printf "%.2f", t / hz / n * 1e6}')
      echo "$side $rps $us $errs $tmo" >>"$res"
      echo "c$conns run $i $side: $rps req/s, $us us CPU/request," \
        "$errs errors, $tmo timeouts" >&2
      if [ "$errs" != 0 ]; then
        echo "c$conns run $i $side: FAILED ($errs errors)" >&2
        failed=1
      fi
      tsv_run "$w" "$side" "$i" $((errs == 0 ? 0 : 1)) req_per_s "$rps" \
        cpu_us_per_req "$us" errors "$errs" timeouts "$tmo" requests "$reqs"
    done
  done

  echo "== wrk -t1 -c$conns keep-alive, ${duration}s x $runs runs each"
  printf '%-6s %10s %10s %10s   %17s %7s %8s\n' side "req/s min" median \
    max "us CPU/req median" errors timeouts
  for side in $sides; do
    if [ -z "$(col "$side" 2 "$res")" ]; then
      printf '%-6s FAILED: no run succeeded\n' "$side"
      continue
    fi
    printf '%-6s %s   %17s %7s %8s\n' "$side" \
      "$(stats "$side" 2 "$res" %10.0f)" "$(col "$side" 3 "$res" | median)" \
      "$(col "$side" 4 "$res" | awk '{n += $1} END {print n + 0}')" \
      "$(col "$side" 5 "$res" | awk '{n += $1} END {print n + 0}')"
  done
  for side in $sides; do
    [ "$side" = eddy ] && continue
    awk -v e="$(col eddy 2 "$res" | median)" \
      -v p="$(col "$side" 2 "$res" | median)" \
      -v ec="$(col eddy 3 "$res" | median)" \
      -v pc="$(col "$side" 3 "$res" | median)" -v s="$side" \
      'BEGIN {if (p > 0 && pc > 0)
        printf "eddy / %s: req/s %.2fx, CPU per request %.2fx\n",
          s, e / p, ec / pc}'
  done
}

# ---- RSS with $idle_conns idle keep-alive connections -----------------------
run_idle() {
  local n=$idle_conns res="$dir/idle" side i pid m0 m1 r0 r1 fds line
  local ctimeout=$((60 + settle)) rc wc w=http_idle_rss
  wc=$(worker_conns "$n")

  if ! raise_nofile $((wc + 256)); then
    echo "run.sh: idle_rss skipped: needs $((wc + 256)) descriptors," \
      "hard limit $(ulimit -Hn)" >&2
    for side in eddy nginx node; do tsv_skip "$w" "$side"; done
    return 0
  fi
  for side in $missing; do tsv_skip "$w" "$side"; done
  nginx_conf "$wc" "${idle_keepalive}s"
  rm -f "$dir/ctl"
  mkfifo "$dir/ctl"
  : >"$res"
  for ((i = 1; i <= runs; i++)); do
    for side in $sides; do
      cur_w=$w cur_run=$i
      echo "[bench] ${progress}$w run $i of $runs: $side" >&2
      start "$side" $((idle_keepalive * 1000)) || continue
      pid=$(measured_pid)
      sleep 0.5
      r0=$(rss_kib "$pid")
      m0=$([ -n "$worker" ] && rss_kib "$server" || echo 0)
      # The client reads the fifo: it holds its connections until this
      # shell closes its end (fd 3, opened after the fork so the client
      # does not hold a writer itself). It bounds itself (alarm).
      "${cpu1[@]}" "$dir/idle_clients" "$port" "$n" "$ctimeout" \
        <"$dir/ctl" >"$dir/client.out" &
      client=$!
      exec 3<>"$dir/ctl"
      rc=0
      until grep -q '^ready=' "$dir/client.out"; do
        if ! alive "$client"; then
          rc=1
          break
        fi
        sleep 0.1
      done
      if [ "$rc" != 0 ]; then
        exec 3>&-
        wait "$client" || true
        client=
        stop
        cat "$dir/client.out" >&2
        echo "run.sh: idle_clients failed against $side: this run FAILED" >&2
        tsv_row "$w" "$side" "$i" rc 1
        failed=1
        continue
      fi
      sleep "$settle"
      r1=$(rss_kib "$pid")
      m1=$([ -n "$worker" ] && rss_kib "$server" || echo 0)
      fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
      exec 3>&-
      rc=0
      wait "$client" || rc=$?
      client=
      stop
      if [ "$rc" != 0 ]; then
        cat "$dir/client.out" >&2
        echo "run.sh: idle_clients exited $rc against $side: this run" \
          "FAILED" >&2
        tsv_row "$w" "$side" "$i" rc 1
        failed=1
        continue
      fi
      line=$(awk -v n="$n" -v r0="$r0" -v r1="$r1" -v m0="$m0" -v m1="$m1" \
        'BEGIN {printf "%d %d %.0f %d %d %.0f", r0, r1, (r1 - r0) * 1024 / n,
          r0 + m0, r1 + m1, (r1 + m1 - r0 - m0) * 1024 / n}')
      echo "$side $line $fds" >>"$res"
      # shellcheck disable=SC2086 # line is six numbers
      set -- $line
      tsv_run "$w" "$side" "$i" 0 conn_rss_bytes "$3" rss_before_kib "$1" \
        rss_with_kib "$2" server_fds "$fds" conns "$n"
      [ "$side" != nginx ] || tsv_row "$w" "$side" "$i" conn_rss_bytes_mw "$6"
      echo "idle run $i $side: RSS $r0 -> $r1 KiB" \
        "($(echo "$line" | cut -d' ' -f3) bytes/conn), $fds fds in the" \
        "server, $(grep open_ms "$dir/client.out")," \
        "$(grep closed_by_server "$dir/client.out")" >&2
    done
  done

  echo "== $n idle keep-alive connections (one request each)," \
    "keep-alive timeout ${idle_keepalive}s everywhere, $runs runs each"
  printf '%-14s %13s %13s   %26s\n' side "RSS before KiB" "RSS with KiB" \
    "bytes/conn min median max"
  for side in $sides; do
    if [ -z "$(col "$side" 2 "$res")" ]; then
      printf '%-14s FAILED: no run succeeded\n' "$side"
      continue
    fi
    printf '%-14s %13s %13s   %s\n' \
      "$side$([ "$side" = nginx ] && echo ' worker')" \
      "$(col "$side" 2 "$res" | median)" "$(col "$side" 3 "$res" | median)" \
      "$(stats "$side" 4 "$res" %8.0f)"
    [ "$side" = nginx ] && printf '%-14s %13s %13s   %s\n' "nginx m+w" \
      "$(col nginx 5 "$res" | median)" "$(col nginx 6 "$res" | median)" \
      "$(stats nginx 7 "$res" %8.0f)"
  done
  for side in $sides; do
    [ "$side" = eddy ] && continue
    awk -v e="$(col eddy 4 "$res" | median)" \
      -v p="$(col "$side" 4 "$res" | median)" -v s="$side" \
      'BEGIN {if (p > 0)
        printf "eddy / %s: bytes per idle connection %.2fx\n", s, e / p}'
  done
  echo "(server descriptors at measurement, median: $(for side in $sides; do
    printf '%s %s ' "$side" "$(col "$side" 8 "$res" | median)"; done))"
}

for m in $modes; do
  case $m in
    c50) run_rps "${CONNS:-50}" ;;
    c1000) run_rps 1000 ;;
    idle_rss) run_idle ;;
  esac
done
exit "$failed"
