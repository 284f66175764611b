#!/usr/bin/env bash
# bench/cluster/run.sh [BUILD_DIR]: eddy's cluster against Node's cluster
# and nginx, 2 workers each, on one port, wrk as the client.
#
#   MODE=keepalive  HTTP hello over keep-alive connections (wrk -c CONNS)
#   MODE=newconn    one request per connection (Connection: close): the
#                   primary's hand-over is the cost being measured
#   MODE=reload     keep-alive load for RELOAD_S seconds (default 20)
#                   while the server is reloaded every 2 s: eddy's
#                   eddy_cluster_reload (SIGHUP), Node's naive kill and
#                   fork of every worker (SIGHUP), nginx -s reload
#                   (SIGHUP); the figure is wrk's failed requests.
#                   RELOAD_CLOSE=1: one request per connection, so that a
#                   keep-alive connection the server closes between two
#                   requests (wrk counts the race as an error) is not
#                   part of it
#   MODE=all        keepalive and newconn (default)
#   IMPLS="eddy_rr nginx"  only these servers (names as in the table)
#
# Servers: eddy rr, eddy reuseport (EDDY_CLUSTER_SCHED; IMPLS may name
# any mode as eddy_MODE, e.g. eddy_sticky), Node rr and none
# (NODE_CLUSTER_SCHED_POLICY), nginx (worker_processes 2). They run in
# turn, RUNS times each (default 3), DURATION seconds of wrk each (default
# 5, after a 1 s warm-up), and the table shows the medians and the ratios
# of eddy's medians to the peers' (only same-run ratios mean anything:
# docs/benchmarking.md). CPU per request is the server's whole process
# tree (primary and workers; nginx: master and workers), user + system,
# from /proc, over the measured seconds.
#
# As the headline HTTP figures of bench/run.sh, the server (its whole
# process tree) runs on CPU 0 and wrk on CPU 1 (taskset), so the client
# never takes the server's core: every server has exactly one core, and
# the primary's hand-overs to its workers never cross CPUs. PIN=0 pins
# nothing: the servers and wrk then share both cores, and a server that
# needs little CPU is capped by what wrk can do beside it.
#
# The eddy server is compiled here from bench/cluster/eddy_cluster_server.c
# against BUILD_DIR's libeddy.a (default build). A missing peer is skipped.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
MODE=${MODE:-all}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
srv_pin=() wrk_pin=() pinning=unpinned
if [ "${PIN:-1}" != 0 ]; then
  command -v taskset >/dev/null || { echo "pinning needs taskset (PIN=0: none)" >&2; exit 1; }
  srv_pin=(taskset -c 0) wrk_pin=(taskset -c 1)
  pinning="pinned (server CPU 0, wrk CPU 1)"
fi

command -v wrk >/dev/null || { echo "wrk is required" >&2; exit 1; }
cc -O2 -I"$root/include" "$here/eddy_cluster_server.c" "$build/libeddy.a" \
  -lpthread -o "$tmp/eddy_server" || exit 1

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The pids of a process and all its descendants.
tree() {
  local p
  echo "$1"
  for p in $(pgrep -P "$1"); do tree "$p"; done
}

ticks() {
  local sum=0 p
  for p in $(tree "$1"); do
    [ -r /proc/$p/stat ] || continue
    set -- $(sed 's/^.*) //' /proc/$p/stat)
    sum=$((sum + ${12} + ${13}))
  done
  echo $sum
}

# start IMPL: sets PID and PORT, or returns 1.
start() {
  local impl=$1 i
  PID=
  : >"$tmp/out"
  case $impl in
    eddy_*)
      EDDY_CLUSTER_SCHED=${impl#eddy_} "${srv_pin[@]}" "$tmp/eddy_server" 0 2 >"$tmp/out" 2>&1 &
      PID=$! ;;
    node_rr|node_none)
      command -v node >/dev/null || return 1
      NODE_CLUSTER_SCHED_POLICY=${impl#node_} "${srv_pin[@]}" node "$here/node_cluster.js" 0 2 >"$tmp/out" 2>&1 &
      PID=$! ;;
    nginx)
      command -v nginx >/dev/null || return 1
      PORT=$(free_port)
      mkdir -p "$tmp/ngx"
      sed -e "s|@PORT@|$PORT|" -e "s|@DIR@|$tmp/ngx|g" "$here/nginx.conf.in" >"$tmp/ngx/nginx.conf"
      "${srv_pin[@]}" nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/out" 2>&1 &
      PID=$!
      for i in $(seq 100); do
        curl -s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && return 0
        sleep 0.1
      done
      return 1 ;;
  esac
  for i in $(seq 100); do
    PORT=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  return 1
}

# Ask the server to go; after 5 s kill its whole tree (Node's primary can
# hang in cluster.disconnect after the naive reload).
stop() {
  local i p
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null
  [ "$1" = nginx ] && kill -QUIT "$PID" 2>/dev/null
  for i in $(seq 50); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$PID" 2>/dev/null; then
    for p in $(tree "$PID"); do kill -KILL "$p" 2>/dev/null; done
  fi
  wait "$PID" 2>/dev/null
}

# reloads IMPL: wrk for RELOAD_S seconds, a SIGHUP every 2 s; one line
# "impl reload run req_s 0 errors".
reloads() {
  local impl=$1 secs=${RELOAD_S:-20} out wpid req errs i
  start "$impl" || { echo "$impl reload $2 skipped"; stop "$impl"; return; }
  local hdr=()
  [ -n "${RELOAD_CLOSE:-}" ] && hdr=(-H "Connection: close")
  "${wrk_pin[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" "${hdr[@]}" "http://127.0.0.1:$PORT/" >"$tmp/wrk" 2>&1 &
  wpid=$!
  for i in $(seq $((secs / 2 - 1))); do
    sleep 2
    kill -HUP "$PID"
  done
  wait "$wpid"
  stop "$impl"
  out=$(cat "$tmp/wrk")
  req=$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
  errs=$(echo "$out" | awk '/Non-2xx/ {s += $NF}
    /Socket errors/ {gsub(",", ""); s += $4 + $6 + $8} END {print s + 0}')
  echo "$impl reload $2 ${req:-0} 0 $errs"
}

# measure IMPL MODE RUN: one line "impl mode run req_s cpu_us errors".
measure() {
  local impl=$1 mode=$2 hdr=() t0 t1 out req n errs
  [ "$mode" = newconn ] && hdr=(-H "Connection: close")
  start "$impl" || { echo "$impl $mode $3 skipped"; stop "$impl"; return; }
  "${wrk_pin[@]}" wrk -t1 -c"$CONNS" -d1s "${hdr[@]}" "http://127.0.0.1:$PORT/" >/dev/null 2>&1
  t0=$(ticks "$PID")
  out=$("${wrk_pin[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" "${hdr[@]}" "http://127.0.0.1:$PORT/" 2>&1)
  t1=$(ticks "$PID")
  stop "$impl"
  req=$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
  n=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
  errs=$(echo "$out" | awk '/Non-2xx/ {s += $NF}
    /Socket errors/ {gsub(",", ""); s += $4 + $6 + $8} END {print s + 0}')
  echo "$impl $mode $3 ${req:-0} $(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="${n:-0}" 'BEGIN { printf "%.2f", (n > 0 ? d * 1e6 / hz / n : 0) }') $errs"
}

modes=$MODE
[ "$MODE" = all ] && modes="keepalive newconn"
impls="eddy_rr eddy_reuseport node_rr node_none nginx"
[ "$MODE" = reload ] && impls="eddy_rr eddy_reuseport eddy_none node_rr nginx"
[ -n "${IMPLS:-}" ] && impls=$IMPLS
for mode in $modes; do
  for run in $(seq "$RUNS"); do
    for impl in $impls; do
      echo "$mode run $run of $RUNS: $impl" >&2
      if [ "$mode" = reload ]; then
        reloads "$impl" "$run" >>"$tmp/results"
      else
        measure "$impl" "$mode" "$run" >>"$tmp/results"
      fi
    done
  done
done

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }
for mode in $modes; do
  echo "== $mode, c$CONNS, 2 workers, medians of $RUNS, $pinning =="
  printf "%-16s %12s %12s %8s\n" server "req/s" "cpu us/req" "errors (sum)"
  for impl in $impls; do
    grep -q "^$impl $mode .* skipped" "$tmp/results" && { printf "%-16s skipped\n" "$impl"; continue; }
    r=$(awk -v i="$impl" -v m="$mode" '$1==i && $2==m {print $4}' "$tmp/results" | median)
    c=$(awk -v i="$impl" -v m="$mode" '$1==i && $2==m {print $5}' "$tmp/results" | median)
    e=$(awk -v i="$impl" -v m="$mode" '$1==i && $2==m {s+=$6} END {print s+0}' "$tmp/results")
    printf "%-16s %12s %12s %8s\n" "$impl" "$r" "$c" "$e"
    eval "R_$impl=$r C_$impl=$c"
  done
  # only the ratios whose two sides ran (IMPLS may leave some out)
  awk -v a="${R_eddy_rr:-0}" -v b="${R_node_rr:-0}" -v c="${C_eddy_rr:-0}" -v d="${C_nginx:-0}" \
    'BEGIN { if (a > 0 && b > 0) printf "eddy rr / node rr req/s: %.2fx\n", a / b;
             if (c > 0 && d > 0) printf "eddy rr / nginx cpu per request: %.2fx\n", c / d }'
done
