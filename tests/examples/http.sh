#!/usr/bin/env bash
# http.sh BIN_DIR: start examples/http_server on an ephemeral port and check
# "/", "/hash", a 404, and that "/" still answers at once while a "/hash"
# runs on the pool; then stop it with SIGTERM and expect a clean exit.
# Needs curl: installed with apt-get if missing and possible, else the test
# is skipped (exit 77).
set -euo pipefail
bin=$1

if ! command -v curl >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq curl >/dev/null 2>&1 || true
  fi
  command -v curl >/dev/null 2>&1 || { echo "curl not available: skipped"; exit 77; }
fi

dir=$(mktemp -d /tmp/eddy-http-XXXXXX)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$dir"' EXIT

"$bin/http_server" 0 >"$dir/out" 2>"$dir/err" &
server=$!
for _ in $(seq 100); do
  grep -q listening "$dir/out" 2>/dev/null && break
  sleep 0.05
done
url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$dir/out")
[ -n "$url" ] || { echo "server did not start"; cat "$dir/out" "$dir/err"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }

# "/" answers 200 with its text, kept alive between two requests.
out=$(curl -sS --max-time 10 -w '%{http_code} %{num_connects}' "$url" "$url")
case "$out" in
  *"hello from eddy"*"hello from eddy"*"200 0"*) ;;
  *) fail "/ gave: $out" ;;
esac

# "/hash" answers 200 once PBKDF2 is done; "/" answers meanwhile.
curl -sS --max-time 30 -o "$dir/hash" -w '%{http_code}' "${url}hash" >"$dir/hash_code" &
hash=$!
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$url")
[ "$code" = 200 ] || fail "/ during /hash gave $code"
wait "$hash"
[ "$(cat "$dir/hash_code")" = 200 ] || fail "/hash gave $(cat "$dir/hash_code")"
grep -q '^pbkdf2 done in [0-9]* ms: [0-9a-f]\{32\}' "$dir/hash" ||
  fail "/hash body: $(cat "$dir/hash")"

# Unknown paths are 404; HEAD keeps Content-Length and sends no body.
code=$(curl -sS --max-time 10 -o "$dir/nf" -w '%{http_code}' "${url}nope")
[ "$code" = 404 ] || fail "/nope gave $code"
grep -q 'not found' "$dir/nf" || fail "404 body: $(cat "$dir/nf")"
head=$(curl -sS --max-time 10 -I "$url")
echo "$head" | grep -qi '^content-length: 16' || fail "HEAD gave: $head"

# /timer blocks the loop for the time asked.
out=$(curl -sS --max-time 10 "${url}timer?ms=50")
[ "$out" = "blocked the loop for 50 ms" ] || fail "/timer gave: $out"

kill -TERM "$server"
wait "$server" || fail "server exit status $?"
server=
echo "http example ok"
