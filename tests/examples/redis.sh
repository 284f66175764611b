#!/usr/bin/env bash
# redis.sh PROGRAM [ARGS...]: start a redis-server of its own (127.0.0.1, a
# free port, no persistence, in a mkdtemp directory), run PROGRAM
# HOST:PORT [ARGS...] against it, stop the server and remove the directory.
# Exits with PROGRAM's status; fails with a clear message when redis-server
# is not installed (scripts/deps.sh installs it).
set -euo pipefail
prog=$1
shift

bin=$(command -v redis-server || true)
[ -n "$bin" ] || [ ! -x /usr/bin/redis-server ] || bin=/usr/bin/redis-server
if [ -z "$bin" ]; then
  echo "redis-server not found: apt-get install redis-server (make test installs it)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/eddy-redis-example-XXXXXX)
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# A port that is free now; a clash (another program took it) is retried.
for try in 1 2 3 4 5; do
  port=$((20000 + (RANDOM % 20000)))
  "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
  server=$!
  for _ in $(seq 200); do
    grep -q "Ready to accept connections" "$dir/redis.log" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.02
  done
  if grep -q "Ready to accept connections" "$dir/redis.log" 2>/dev/null; then
    break
  fi
  wait "$server" 2>/dev/null || true
  server=
  : >"$dir/redis.log"
done
[ -n "$server" ] || { echo "redis-server did not start" >&2; exit 1; }

"$prog" "127.0.0.1:$port" "$@"
