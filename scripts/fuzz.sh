#!/usr/bin/env bash
# A short libFuzzer run of the HTTP request parser and chunked decoder
# (tests/fuzz/fuzz_http_parser.c) under ASan+UBSan. Installs clang and its
# fuzzer runtime with apt-get when missing (root or password-less sudo).
# FUZZ_SECONDS (default 30) bounds the run. The seeds in
# tests/fuzz/corpus_http are copied, never modified. Exits non-zero on a
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

clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Iinclude tests/fuzz/fuzz_http_parser.c src/http/parser.c \
  src/http/chunked.c -o "$out/fuzz_http_parser"
rm -rf "$out/corpus" && mkdir -p "$out/corpus"
cp tests/fuzz/corpus_http/* "$out/corpus/"
echo "fuzz: $seconds s of fuzz_http_parser" >&2
cd "$out"
./fuzz_http_parser -max_total_time="$seconds" -print_final_stats=1 \
  corpus 2>fuzz.log || { tail -40 fuzz.log; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" fuzz.log
echo "fuzz: no crash"
