#!/usr/bin/env bash
# http.sh BIN_DIR: start examples/http_server on an ephemeral port and check
# "/", "/hash", a 404, and that "/" still answers at once while a "/hash"
# runs on the pool, that a long /timer is reported by the watchdog, and that
# /metrics parses as Prometheus text; then stop it with SIGTERM and expect a
# clean exit.
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

# A longer one is reported by the watchdog (threshold 100 ms) on stderr,
# naming the loop's stack with the request handler in it.
curl -sS --max-time 10 -o /dev/null "${url}timer?ms=400"
for _ in $(seq 100); do
  grep -q 'back in its poll wait' "$dir/err" && break
  sleep 0.05
done
grep -q 'eddy watchdog: loop .* blocked for [0-9]* ms in tcp callback' "$dir/err" ||
  fail "no watchdog report: $(cat "$dir/err")"
grep -q 'back in its poll wait' "$dir/err" || fail "no end of stall: $(cat "$dir/err")"

# /metrics is Prometheus text: comments, or "name{labels} value"; every
# sample's family has a TYPE line; the delay histograms saw the 400 ms.
code=$(curl -sS --max-time 10 -o "$dir/metrics" -w '%{http_code}' "${url}metrics")
[ "$code" = 200 ] || fail "/metrics gave $code"
awk '
  /^# HELP / { next }
  /^# TYPE / { type[$3] = $4; next }
  {
    if ($0 !~ /^[a-z_][a-z0-9_]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$/) {
      print "bad line: " $0; bad = 1; next
    }
    name = $1; sub(/\{.*/, "", name)
    fam = name
    while (!(fam in type) && fam ~ /_/) sub(/_[a-z0-9]+$/, "", fam)
    if (!(fam in type)) { print "no TYPE for " name; bad = 1 }
    samples++
  }
  END { if (samples < 40) { print "only " samples " samples"; bad = 1 }; exit bad }
' "$dir/metrics" || fail "/metrics does not parse"
max=$(sed -n 's/^eddy_loop_delay_seconds_max //p' "$dir/metrics")
awk -v m="$max" 'BEGIN { exit !(m >= 0.4) }' || fail "delay max $max < 0.4 s"
max=$(sed -n 's/^eddy_loop_delay_timer_seconds_max //p' "$dir/metrics")
awk -v m="$max" 'BEGIN { exit !(m >= 0.4) }' || fail "timer delay max $max < 0.4 s"
grep -q '^eddy_loop_active_handles{type="tcp"} [1-9]' "$dir/metrics" ||
  fail "no active tcp handle in /metrics"

kill -TERM "$server"
wait "$server" || fail "server exit status $?"
server=
echo "http example ok"
