#!/usr/bin/env bash
# bench/chart.sh [BENCH_OUT [SVG]]: draw the comparison table of a bench run
# as an SVG bar chart. Reads BENCH_OUT/table.txt (the table bench/run.sh
# prints; BENCH_OUT defaults to $BENCH_OUT, then build-bench/bench-out) and,
# for the caption only, BENCH_OUT/results.json; writes SVG (default
# BENCH_OUT/chart.svg). Needs bash and awk only (mawk is enough).
#
# One bar per table row that has a ratio (workload, metric, peer). The bar
# is how many times better eddy is: peer/eddy for "lower is better" metrics
# (times, memory), eddy/peer for rates, so right of the line at 1 always
# means eddy is ahead. The axis is logarithmic (base 2), so 2x ahead and 2x
# behind are the same length and a 70x bar does not flatten the rest. A
# black tick on a bar is its target, turned the same way: the bar has to
# reach the tick. Colour says whether the table marked the target as met
# (the table compares with the exact target; the tick sits at the target
# as the table prints it, to two decimals).
set -euo pipefail

out=${1:-${BENCH_OUT:-build-bench/bench-out}}
svg=${2:-$out/chart.svg}
table=$out/table.txt
json=$out/results.json

if [[ ! -r $table ]]; then
  echo "chart.sh: no $table (run bench/run.sh first)" >&2
  exit 2
fi

# Caption: date, machine and runs per side from results.json, when there.
caption=""
if [[ -r $json ]]; then
  caption=$(awk '
    function str(line) { sub(/^[^:]*: *"?/, "", line); sub(/"?,? *$/, "", line)
                         return line }
    /^  "date":/ { date = str($0) }
    /^  "runs_per_side":/ { runs = str($0) }
    /^  "quick": true/ { quick = 1 }
    /^  "machine":/ {
      if (match($0, /"cpu": "[^"]*"/)) cpu = substr($0, RSTART + 8,
                                                    RLENGTH - 9)
      if (match($0, /"nproc": [0-9]+/)) ncpu = substr($0, RSTART + 9,
                                                      RLENGTH - 9)
    }
    END {
      s = date
      if (cpu != "") s = s ", " cpu
      if (ncpu != "") s = s " (" ncpu " CPUs)"
      if (runs != "") s = s ", median of " runs " run" (runs == 1 ? "" : "s") \
                          " per side"
      if (quick) s = s ", QUICK smoke run"
      print s
    }' "$json")
fi

mkdir -p "$(dirname "$svg")"
awk -v caption="$caption" '
function esc(s) {
  gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
  return s
}
function log2(v) { return log(v) / log(2) }
function floor_(v) { return (v == int(v) || v >= 0) ? int(v) : int(v) - 1 }
function ceil_(v) { return (v == int(v) || v <= 0) ? int(v) : int(v) + 1 }
# x of value v on the log axis, clamped to the plot.
function xof(v,   e) {
  e = log2(v)
  if (e < elo) e = elo
  if (e > ehi) e = ehi
  return X0 + (e - elo) / (ehi - elo) * (X1 - X0)
}
function tick_label(e) {
  if (e >= 0) return sprintf("%d", 2 ^ e)
  return sprintf("%g", 2 ^ e)
}
function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }

# table.txt: a header, one row per line, then notes. Columns (blank
# separated, none contains a blank except the target): workload metric
# better eddy-stats peer peer-stats ratio target met, where target is "-"
# or two words ("<= 0.33").
NR == 1 || $1 == "workload" { next }
$1 == "ratio" || $1 == "FAILED:" { notes = 1 }
notes || NF < 9 || !num($7) || $7 <= 0 { next }
{
  n++
  w[n] = $1; metric[n] = $2; peer[n] = $5; met[n] = $NF
  raw[n] = $7 + 0
  v[n] = ($3 == "lower") ? 1 / raw[n] : raw[n]
  tgt[n] = ""
  if (NF >= 10 && num($9) && $9 > 0) {
    tgt[n] = ($3 == "lower") ? 1 / $9 : $9 + 0
    tgttext[n] = $8 " " $9
  }
  lo = (n == 1 || v[n] < lo) ? v[n] : lo
  hi = (n == 1 || v[n] > hi) ? v[n] : hi
  if (tgt[n] != "") {
    if (tgt[n] < lo) lo = tgt[n]
    if (tgt[n] > hi) hi = tgt[n]
  }
}
END {
  W = 940; X0 = 330; X1 = 820; ROW = 20; BAR = 12; TOP = 118
  if (n == 0) {
    lo = hi = 1
  }
  elo = floor_(log2(lo < 1 ? lo : 1)); ehi = ceil_(log2(hi > 1 ? hi : 1))
  if (elo > -1) elo = -1
  if (ehi < 1) ehi = 1
  if (elo < -10) elo = -10
  if (ehi > 10) ehi = 10
  # A band behind every other workload; a small gap between workloads.
  y = TOP; groups = 0
  for (i = 1; i <= n; i++) {
    if (i > 1 && w[i] != w[i - 1]) y += 6
    if (i == 1 || w[i] != w[i - 1]) gstart[++groups] = i
    ry[i] = y; y += ROW
    gend[groups] = i
  }
  H = y + 46

  printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" " \
    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" " \
    "font-size=\"12\">\n", W, H, W, H
  printf "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H
  printf "<text x=\"16\" y=\"24\" font-size=\"16\" font-weight=\"bold\">" \
    "eddy against its peers: how many times better eddy is</text>\n"
  if (caption != "")
    printf "<text x=\"16\" y=\"42\" fill=\"#555555\">%s</text>\n",
      esc(caption)
  printf "<text x=\"16\" y=\"60\" fill=\"#555555\">Bar = peer/eddy for " \
    "times and memory, eddy/peer for rates; log scale; right of 1 = eddy " \
    "ahead. Tick = target (the bar must reach it).</text>\n"

  # Legend.
  ly = 72
  split("#2e8b57 #d9534f #7f8fa6", colours, " ")
  split("target met|target missed|no target", names, "|")
  lx = 16
  for (k = 1; k <= 3; k++) {
    printf "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"%d\" " \
      "fill=\"%s\"/>\n", lx, ly, BAR, colours[k]
    printf "<text x=\"%d\" y=\"%d\">%s</text>\n", lx + 20, ly + 10, names[k]
    lx += 130
  }
  printf "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"%d\" " \
    "fill=\"#c9ced6\"/>\n", lx, ly, BAR
  printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000000\" " \
    "stroke-width=\"2.5\"/>\n", lx + 9, ly - 2, lx + 9, ly + BAR + 2
  printf "<text x=\"%d\" y=\"%d\">target</text>\n", lx + 20, ly + 10
  lx += 90
  printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333333\" " \
    "stroke-width=\"1.5\" stroke-dasharray=\"4 2\"/>\n", lx + 7, ly - 2,
    lx + 7, ly + BAR + 2
  printf "<text x=\"%d\" y=\"%d\">parity (1)</text>\n", lx + 16, ly + 10

  for (g = 1; g <= groups; g += 2)
    printf "<rect x=\"8\" y=\"%d\" width=\"%d\" height=\"%d\" " \
      "fill=\"#f2f4f7\"/>\n", ry[gstart[g]] - 3, W - 16,
      ry[gend[g]] + ROW - ry[gstart[g]]

  # Grid at powers of two, labelled on top and bottom.
  step = (ehi - elo > 12) ? 2 : 1
  for (e = elo; e <= ehi; e += step) {
    x = xof(2 ^ e)
    printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
      "stroke=\"#dddddd\"/>\n", x, TOP - 6, x, y
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" " \
      "fill=\"#555555\">%sx</text>\n", x, TOP - 10, tick_label(e)
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" " \
      "fill=\"#555555\">%sx</text>\n", x, y + 14, tick_label(e)
  }
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555555\">" \
    "eddy behind</text>\n", xof(1) - 8, y + 30
  printf "<text x=\"%d\" y=\"%d\" fill=\"#555555\">eddy ahead</text>\n",
    xof(1) + 8, y + 30
  # Parity under the bars, so that a target of 1 still shows its tick.
  printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
    "stroke=\"#333333\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"/>\n",
    xof(1), TOP - 6, xof(1), y

  for (i = 1; i <= n; i++) {
    by = ry[i] + (ROW - BAR) / 2 - 3
    colour = (met[i] == "yes") ? "#2e8b57" : (met[i] == "no") ? "#d9534f" \
                                                              : "#7f8fa6"
    label = w[i] "  " metric[i] "  vs " peer[i]
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
      X0 - 10, by + 10, esc(label)
    xa = xof(1); xb = xof(v[i])
    left = (xa < xb) ? xa : xb
    width = (xa < xb) ? xb - xa : xa - xb
    if (width < 1) width = 1
    title = label ": " sprintf("%.3g", v[i]) "x (table ratio " raw[i] \
            (tgt[i] != "" ? ", target " tgttext[i] ", met: " met[i] : "") ")"
    printf "<g><title>%s</title>\n", esc(title)
    printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" " \
      "fill=\"%s\"/>\n", left, by, width, BAR, colour
    if (tgt[i] != "")
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
        "stroke=\"#000000\" stroke-width=\"2.5\"/>\n", xof(tgt[i]), by - 3,
        xof(tgt[i]), by + BAR + 3
    printf "</g>\n"
    # Clipped bars say so with an arrow head past the end.
    if (log2(v[i]) > ehi || log2(v[i]) < elo)
      printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
        xb + (xb > xa ? 6 : -6), by + 10, (xb > xa ? "&gt;" : "&lt;")
    printf "<text x=\"%d\" y=\"%d\">%s</text>\n", X1 + 14, by + 10,
      (v[i] >= 100 ? sprintf("%.0fx", v[i]) : sprintf("%.2fx", v[i]))
  }
  printf "</svg>\n"
}' "$table" >"$svg.tmp"
mv "$svg.tmp" "$svg"
echo "$svg"
