#!/usr/bin/env bash
# echo.sh BIN_DIR: start examples/echo_server on an ephemeral port and a
# socket in a fresh directory, run echo_client against both, stop the
# server with SIGTERM and expect a clean exit from all three.
set -euo pipefail
bin=$1
dir=$(mktemp -d /tmp/eddy-echo-XXXXXX)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT

"$bin/echo_server" 0 "$dir/echo.sock" >"$dir/out" &
server=$!
for _ in $(seq 100); do
  grep -q listening "$dir/out" 2>/dev/null && break
  sleep 0.05
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$dir/out")
[ -n "$port" ] || { echo "server did not start"; cat "$dir/out"; exit 1; }

"$bin/echo_client" "$port" "over tcp"
"$bin/echo_client" "$dir/echo.sock" "over a unix socket"
big=$(head -c 100000 /dev/zero | tr '\0' x) # past any fixed buffer
"$bin/echo_client" "$port" "$big" >/dev/null

kill -TERM "$server"
wait "$server"
[ ! -e "$dir/echo.sock" ] || { echo "socket file left behind"; exit 1; }
echo "echo example ok"
