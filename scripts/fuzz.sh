#!/usr/bin/env bash
# Short libFuzzer runs under ASan+UBSan: the HTTP request parser and
# chunked decoder (tests/fuzz/fuzz_http_parser.c), then the RESP reply
# parser and command encoder (tests/fuzz/fuzz_resp.c). Installs clang and its
# fuzzer runtime with apt-get when missing (root or password-less sudo).
# FUZZ_SECONDS (default 30) bounds each target's run. The seeds in
# tests/fuzz/corpus_http and corpus_resp are copied, never modified. Exits non-zero on a
# crash or a failed property; the reproducer is left in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
out=build-fuzz
mkdir -p "$out"

probe() {
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
    >"$out/probe.c"
  clang -fsanitize=fuzzer "$out/probe.c" -o "$out/probe" 2>/dev/null
}
if ! command -v clang >/dev/null || ! probe; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "fuzz: clang with libFuzzer is missing (apt-get install clang libclang-rt-dev)" >&2
    exit 1
  fi
  echo "fuzz: installing clang and libclang-rt-dev" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq clang libclang-rt-dev >/dev/null
  probe
fi

# fuzz_one NAME CORPUS SOURCES...: build tests/fuzz/NAME.c with SOURCES and
# run it for $seconds on a copy of tests/fuzz/CORPUS.
fuzz_one() {
  local name=$1 corpus=$2
  shift 2
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Iinclude "tests/fuzz/$name.c" "$@" -o "$out/$name"
  rm -rf "$out/corpus_$name" && mkdir -p "$out/corpus_$name"
  cp "tests/fuzz/$corpus"/* "$out/corpus_$name/"
  echo "fuzz: $seconds s of $name" >&2
  (cd "$out" && "./$name" -max_total_time="$seconds" -print_final_stats=1 \
    "corpus_$name" 2>"$name.log") || { tail -40 "$out/$name.log"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$name.log"
}

fuzz_one fuzz_http_parser corpus_http src/http/parser.c src/http/chunked.c
fuzz_one fuzz_resp corpus_resp src/redis/resp.c
echo "fuzz: no crash"
