#!/usr/bin/env bash
# bench/cluster/distribution.sh [BUILD_DIR]: how CONNS short connections
# (default 1000, one request each, one after the other) spread over
# WORKERS workers (default 4) in each of eddy's modes and in Node's rr and
# none. Prints a table: connections per worker, and max/min (1.00 is
# even; "inf" when a worker got none).
# LOAD=1: instead, wrk keeps 50 connections busy for 3 s, one request per
# connection (tally.lua counts who answered): the spread under load, where
# round-robin hands a free worker its share of the queue at once.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
CONNS=${CONNS:-1000}
WORKERS=${WORKERS:-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -I"$root/include" "$here/eddy_cluster_server.c" "$build/libeddy.a" \
  -lpthread -o "$tmp/eddy_server" || exit 1

count() {
  if [ -n "${LOAD:-}" ]; then
    wrk -t1 -c50 -d3s -s "$here/tally.lua" -H "Connection: close" \
      "http://127.0.0.1:$1/" 2>&1 >/dev/null |
      sed -n 's/^TALLY [0-9]* //p' | tail -1
    return
  fi
  python3 - "$1" "$CONNS" <<'PY'
import socket, sys, collections
port, n = int(sys.argv[1]), int(sys.argv[2])
seen = collections.Counter()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    seen[data.split(b"hello ")[-1].strip().decode()] += 1
print(" ".join(str(v) for v in sorted(seen.values(), reverse=True)))
PY
}

printf "%-16s %-28s %8s\n" mode "connections per worker" "max/min"
for impl in eddy_rr eddy_none eddy_reuseport eddy_sticky eddy_leastconn node_rr node_none; do
  : >"$tmp/out"
  case $impl in
    eddy_*) EDDY_CLUSTER_SCHED=${impl#eddy_} "$tmp/eddy_server" 0 "$WORKERS" pid >"$tmp/out" 2>&1 & ;;
    node_*) command -v node >/dev/null || continue
            NODE_CLUSTER_SCHED_POLICY=${impl#node_} node "$here/node_cluster.js" 0 "$WORKERS" pid >"$tmp/out" 2>&1 & ;;
  esac
  pid=$!
  port=
  for i in $(seq 100); do
    port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  counts=$(count "$port")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null
  ratio=$(echo "$counts" | awk -v w="$WORKERS" '{ if (NF < w) { print "inf"; exit }
    printf "%.2f", $1 / $NF }')
  printf "%-16s %-28s %8s\n" "$impl" "$counts" "$ratio"
done
