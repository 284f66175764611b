#!/usr/bin/env bash
# bench/fidelity/run.sh [EDDY_BIN...]: Node's timing and ordering, eddy
# against Node 20 on the same programs (bench/fidelity/eddy.c, node.js).
# Each eddy binary (default: build-bench/bench/bench_fidelity_eddy; pass an
# older build's too for a before/after table) runs on both backends.
# RUNS=50 repeats per row; each cell is the median of the runs (for
# exit_order: how often the exit came first, over all runs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-50}
bins=("$@")
((${#bins[@]})) || bins=("$here/../../build-bench/bench/bench_fidelity_eddy")

# median of each whitespace-separated column of the lines on stdin
medians() {
  awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i; if (NF > nf) nf = NF }
       END { for (i = 1; i <= nf; i++) {
               n = 0; for (r = 1; r <= NR; r++) a[++n] = v[i, r]
               for (x = 2; x <= n; x++) { y = a[x]; j = x - 1
                 while (j > 0 && a[j] > y) { a[j + 1] = a[j]; j-- } a[j + 1] = y }
               printf "%s%s", (i > 1 ? " " : ""), (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }
             print "" }'
}

row() { # label, command...
  local label=$1 out
  shift
  out=$(for ((r = 0; r < runs; r++)); do "$@"; done | medians)
  printf '  %-28s %s\n' "$label" "$out"
}

cases=("interval 20 15" "interval 30 30" "behind")
for c in "${cases[@]}"; do
  echo "$c (ms, median of $runs)"
  if command -v node >/dev/null; then
    # shellcheck disable=SC2086
    row "node $(node --version)" node "$here/node.js" $c
  fi
  for b in "${bins[@]}"; do
    for be in epoll poll; do
      # shellcheck disable=SC2086
      row "$(basename "$(dirname "$(dirname "$b")")")/$be" env EDDY_BACKEND=$be "$b" $c
    done
  done
done
echo "exit_order: exit reported before the output's end, of $runs children"
if command -v node >/dev/null; then
  printf '  %-28s %s\n' "node $(node --version)" "$(node "$here/node.js" exit_order "$runs")"
fi
for b in "${bins[@]}"; do
  for be in epoll poll; do
    printf '  %-28s %s\n' "$(basename "$(dirname "$(dirname "$b")")")/$be" \
      "$(EDDY_BACKEND=$be "$b" exit_order "$runs")"
  done
done
