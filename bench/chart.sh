#!/usr/bin/env bash
# bench/chart.sh [BENCH_OUT [SVG]]: draw the comparison table of a bench run
# as an SVG bar chart. Reads BENCH_OUT/table.txt (the table bench/run.sh
# prints; BENCH_OUT defaults to $BENCH_OUT, then build-bench/bench-out) and,
# for the caption only, BENCH_OUT/results.json; writes SVG (default
# BENCH_OUT/chart.svg). Needs bash and awk only (mawk is enough).
#
# One row per table row (workload, metric, peer), named in words ("TCP
# ping-pong, round trips vs libuv"). The bar is how many times better eddy
# is: peer/eddy for "lower is better" metrics (times, memory), eddy/peer
# for rates, so right of the line at 1 always means eddy is ahead. The axis
# is logarithmic (base 2), so 2x ahead and 2x behind are the same length
# and a 70x bar does not flatten the rest. A whisker across the bar, and
# the (a-b) after the ratio, span the range the runs allow: eddy's worst
# run against the peer's best, to eddy's best against the peer's worst
# (one run per side: no range). Right of the plot, the two medians in their
# units. A black tick on a bar is its target, turned the same way: the bar
# has to reach the tick. Colour says whether the table marked the target as
# met (the table compares with the exact target; the tick sits at the
# target as the table prints it, to two decimals). A row whose side failed
# says FAILED in red, a side that was not built or not installed says
# skipped, in place of the bar: no row of the table is left out.
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
      if (quick) s = s ", QUICK smoke run (small sizes: not for comparison)"
      print s
    }' "$json")
fi

mkdir -p "$(dirname "$svg")"
awk -v caption="$caption" '
function esc(s) {
  gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
  return s
}
function log2(x) { return log(x) / log(2) }
function floor_(x) { return (x == int(x) || x >= 0) ? int(x) : int(x) - 1 }
function ceil_(x) { return (x == int(x) || x <= 0) ? int(x) : int(x) + 1 }
# x of value x on the log axis, clamped to the plot.
function xof(x,   e) {
  e = log2(x)
  if (e < elo) e = elo
  if (e > ehi) e = ehi
  return X0 + (e - elo) / (ehi - elo) * (X1 - X0)
}
function tick_label(e) {
  if (e >= 0) return sprintf("%d", 2 ^ e)
  return sprintf("%g", 2 ^ e)
}
function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
# A figure of the table ("3.8M", "0.243M", "63171", "0.156") as a number.
function val(s) {
  if (s ~ /M$/) return substr(s, 1, length(s) - 1) * 1e6
  return s + 0
}
# A number for a reader: 45.0k, 3.80M, 0.156, 613.
function human(x) {
  if (x >= 1e6) return sprintf("%.2fM", x / 1e6)
  if (x >= 1e4) return sprintf("%.1fk", x / 1e3)
  if (x >= 100) return sprintf("%.0f", x)
  if (x >= 10) return sprintf("%.1f", x)
  return sprintf("%.3g", x)
}
function ratio_text(x) {
  return (x >= 100) ? sprintf("%.0fx", x) : sprintf("%.2fx", x)
}

BEGIN {
  # Workload names in words; the program name stays in the tooltip.
  wname["timers_million"] = "Timers, all started at once"
  wname["timers_mod100"] = "Timers, due at i % 100 ms"
  wname["loop_empty"] = "Empty loop iterations"
  wname["pbkdf2"] = "PBKDF2-SHA512, 100k iterations"
  wname["queue_work"] = "Work pool, 256 jobs in flight"
  wname["queue_work_1"] = "Work pool, 1 job in flight"
  wname["async_pingpong"] = "Async ping-pong, two threads"
  wname["fs_stat"] = "stat() on the pool"
  wname["tcp_pingpong"] = "TCP ping-pong"
  wname["tcp_pump"] = "TCP pump, 64 KiB writes"
  wname["tcp_pound"] = "TCP connect and close"
  wname["tcp_idle_rss"] = "Idle TCP connections"
  wname["pipe_pingpong"] = "Unix socket ping-pong"
  wname["udp_pingpong"] = "UDP ping-pong"
  wname["spawn"] = "Spawn /bin/true and wait"
  wname["http_c50"] = "HTTP, 50 connections, pinned"
  wname["http_c50_unpinned"] = "HTTP, 50 connections"
  wname["http_c1000"] = "HTTP, 1000 connections"
  wname["http_idle_rss"] = "HTTP, idle keep-alive connections"
  # Metrics: what in the label, the unit beside the figures.
  split("start_s|start time|s;cpu_s|CPU time|s CPU;rss_mib|peak memory|MiB;" \
        "wall_s|wall time|s;iters_per_s|rate|iterations/s;" \
        "time_s|time|s;jobs_per_s|rate|jobs/s;" \
        "round_trips_per_s|rate|round trips/s;stats_per_s|rate|stats/s;" \
        "mb_per_s|throughput|MB/s;connections_per_s|rate|connections/s;" \
        "conn_rss_bytes|memory|bytes/connection;spawns_per_s|rate|spawns/s;" \
        "req_per_s|rate|requests/s", mdefs, ";")
  for (k in mdefs) {
    split(mdefs[k], f, "|")
    mwhat[f[1]] = f[2]; munit[f[1]] = f[3]
  }
  pname["uv"] = "libuv"; pname["uvnode"] = "libuv in Node"
  pname["ev"] = "libev"; pname["event"] = "libevent"
  pname["uring"] = "io_uring"; pname["ssl"] = "OpenSSL"
  pname["nginx"] = "nginx"; pname["node"] = "Node.js"
}

# table.txt: a header, one row per line, then notes. Columns (blank
# separated, none contains a blank except the target): workload metric
# better eddy-stats peer peer-stats ratio target met, where a stats column
# is min/med/max, FAILED, skipped or n/a, the ratio a number, FAILED,
# skipped or n/a, and the target "-" or two words ("<= 0.33").
NR == 1 || $1 == "workload" { next }
$1 == "ratio" || $1 == "FAILED:" || $1 == "peers:" { notes = 1 }
notes || NF < 9 { next }
{
  n++
  w[n] = $1; metric[n] = $2; lower[n] = ($3 == "lower"); peer[n] = $5
  met[n] = $NF; state[n] = "ok"
  ne = split($4, e, "/"); np = split($6, p, "/")
  label[n] = ((w[n] in wname) ? wname[w[n]] : w[n]) ", " \
             ((metric[n] in mwhat) ? mwhat[metric[n]] : metric[n]) " vs " \
             ((peer[n] in pname) ? pname[peer[n]] : peer[n])
  unit[n] = (metric[n] in munit) ? munit[metric[n]] : metric[n]
  if (!num($7) || $7 <= 0 || ne != 3 || np != 3) {
    # No ratio: which side, and why.
    who = ($4 == "FAILED" || $4 == "skipped" || $4 == "n/a") ? "eddy" : \
          ((peer[n] in pname) ? pname[peer[n]] : peer[n])
    why = ($4 == "FAILED" || $4 == "skipped" || $4 == "n/a") ? $4 : $6
    state[n] = (why == "FAILED") ? "failed" : "missing"
    note[n] = (why == "FAILED") ? "FAILED: " who " failed its checks" : \
              (why == "skipped") ? "skipped: " who " not built or not installed" \
                                 : "no figure for " who
    if (ne == 3) note[n] = note[n] "; eddy " human(val(e[2])) " " unit[n]
    if (np == 3) note[n] = note[n] "; " ((peer[n] in pname) ? \
      pname[peer[n]] : peer[n]) " " human(val(p[2])) " " unit[n]
    next
  }
  raw = $7 + 0
  v[n] = lower[n] ? 1 / raw : raw
  # The range the runs allow, turned like the bar.
  if (lower[n]) {
    rlo[n] = (val(e[3]) > 0) ? val(p[1]) / val(e[3]) : v[n]
    rhi[n] = (val(e[1]) > 0) ? val(p[3]) / val(e[1]) : v[n]
  } else {
    rlo[n] = (val(p[3]) > 0) ? val(e[1]) / val(p[3]) : v[n]
    rhi[n] = (val(p[1]) > 0) ? val(e[3]) / val(p[1]) : v[n]
  }
  if (rlo[n] <= 0) rlo[n] = v[n]
  if (rhi[n] <= 0) rhi[n] = v[n]
  emed[n] = val(e[2]); pmed[n] = val(p[2])
  tgt[n] = ""
  if (NF >= 10 && num($9) && $9 > 0) {
    tgt[n] = lower[n] ? 1 / $9 : $9 + 0
    tgttext[n] = $8 " " $9
  }
  for (k = 1; k <= 3; k++) {
    x = (k == 1) ? rlo[n] : (k == 2) ? rhi[n] : (tgt[n] != "" ? tgt[n] : v[n])
    lo = (!have || x < lo) ? x : lo
    hi = (!have || x > hi) ? x : hi
    have = 1
  }
}
END {
  W = 1240; X0 = 360; X1 = 760; ROW = 20; BAR = 12; TOP = 136
  if (!have) lo = hi = 1
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
    "times and memory, eddy/peer for rates, medians of the same run; log " \
    "scale; right of 1 = eddy ahead. Tick = target (the bar must reach " \
    "it).</text>\n"
  printf "<text x=\"16\" y=\"76\" fill=\"#555555\">Whisker and (a-b) = " \
    "the range the runs allow (eddy%s worst run against the peer%s best, " \
    "to the reverse). Right: both medians, in their units.</text>\n",
    "&#8217;s", "&#8217;s"

  # Legend.
  ly = 88
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
  lx += 100
  printf "<text x=\"%d\" y=\"%d\" fill=\"#c9302c\" font-weight=\"bold\">" \
    "FAILED</text>\n", lx, ly + 10
  printf "<text x=\"%d\" y=\"%d\">a side failed its checks</text>\n",
    lx + 56, ly + 10

  for (g = 1; g <= groups; g += 2)
    printf "<rect x=\"8\" y=\"%d\" width=\"%d\" height=\"%d\" " \
      "fill=\"#f2f4f7\"/>\n", ry[gstart[g]] - 3, W - 16,
      ry[gend[g]] + ROW - ry[gstart[g]]

  # Grid at powers of two, labelled on top and bottom.
  step = (ehi - elo > 12) ? 2 : 1
  for (ex = elo; ex <= ehi; ex += step) {
    x = xof(2 ^ ex)
    printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
      "stroke=\"#dddddd\"/>\n", x, TOP - 6, x, y
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" " \
      "fill=\"#555555\">%sx</text>\n", x, TOP - 10, tick_label(ex)
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" " \
      "fill=\"#555555\">%sx</text>\n", x, y + 14, tick_label(ex)
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
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
      X0 - 10, by + 10, esc(label[i])
    if (state[i] != "ok") {
      printf "<g><title>%s</title>\n", esc(w[i] " " metric[i] " vs " \
        peer[i] ": " note[i])
      printf "<text x=\"%d\" y=\"%d\" fill=\"%s\"%s>%s</text></g>\n",
        X0 + 6, by + 10, (state[i] == "failed") ? "#c9302c" : "#7f8fa6",
        (state[i] == "failed") ? " font-weight=\"bold\"" : "", esc(note[i])
      continue
    }
    colour = (met[i] == "yes") ? "#2e8b57" : (met[i] == "no") ? "#d9534f" \
                                                              : "#7f8fa6"
    xa = xof(1); xb = xof(v[i])
    left = (xa < xb) ? xa : xb
    width = (xa < xb) ? xb - xa : xa - xb
    if (width < 1) width = 1
    spread = (rlo[i] == rhi[i]) ? "" : " (" ratio_text(rlo[i]) "-" \
             ratio_text(rhi[i]) ")"
    figures = "eddy " human(emed[i]) " vs " human(pmed[i]) " " unit[i]
    title = w[i] " " metric[i] " vs " peer[i] ": " ratio_text(v[i]) spread \
            ", " figures " (table ratio " sprintf("%.3f", lower[i] ? \
            1 / v[i] : v[i]) (tgt[i] != "" ? ", target " tgttext[i] \
            ", met: " met[i] : "") ")"
    printf "<g><title>%s</title>\n", esc(title)
    printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" " \
      "fill=\"%s\"/>\n", left, by, width, BAR, colour
    if (spread != "") {
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
        "stroke=\"#222222\" stroke-width=\"1\"/>\n", xof(rlo[i]),
        by + BAR / 2, xof(rhi[i]), by + BAR / 2
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
        "stroke=\"#222222\"/>\n", xof(rlo[i]), by + 2, xof(rlo[i]),
        by + BAR - 2
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
        "stroke=\"#222222\"/>\n", xof(rhi[i]), by + 2, xof(rhi[i]),
        by + BAR - 2
    }
    if (tgt[i] != "")
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
        "stroke=\"#000000\" stroke-width=\"2.5\"/>\n", xof(tgt[i]), by - 3,
        xof(tgt[i]), by + BAR + 3
    printf "</g>\n"
    # Clipped bars say so with an arrow head past the end.
    if (log2(v[i]) > ehi || log2(v[i]) < elo)
      printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
        xb + (xb > xa ? 6 : -6), by + 10, (xb > xa ? "&gt;" : "&lt;")
    printf "<text x=\"%d\" y=\"%d\"><tspan font-weight=\"bold\">%s</tspan>" \
      "<tspan fill=\"#555555\">%s</tspan><tspan x=\"%d\">%s</tspan>" \
      "</text>\n", X1 + 14, by + 10, ratio_text(v[i]),
      (spread == "" ? "" : "&#160;" esc(substr(spread, 2))),
      X1 + 150, esc(figures)
  }
  printf "</svg>\n"
}' "$table" >"$svg.tmp"
mv "$svg.tmp" "$svg"
echo "$svg"
