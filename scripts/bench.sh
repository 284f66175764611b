#!/usr/bin/env bash
# scripts/bench.sh: what `make bench` runs. Makes sure the peers are
# installed (libuv1-dev, libev-dev, libevent-dev; libssl-dev for pbkdf2;
# liburing-dev for the io_uring ping-pongs; nginx, wrk and curl for the HTTP
# workloads; redis-server, redis-tools and libhiredis-dev for the Redis
# workloads, whose node-redis side bench/redis/run.sh installs with npm into
# the build tree; nodejs and npm, optional, only when apt has them), installing them with apt-get when running as root or with
# password-less sudo, and says which peers it has to skip; configures a
# Release build with -DEDDY_BUILD_BENCH=ON in build-bench/ (BUILD_DIR
# overrides), builds the bench programs (eddy's HTTP server among them) and
# runs bench/run.sh on them. A package apt cannot install is skipped, never
# fatal. (Debian's nginx package also starts the nginx service on port 80;
# the bench runs its own nginx on a free port of 127.0.0.1.)
# The output of apt-get and of the build goes to BUILD_DIR/bench-build.log,
# not the terminal (the log's last lines are shown when a step fails); the
# terminal gets what was installed or skipped, the progress and the table.
# RUNS, QUICK, WORKLOADS, STRICT and BENCH_OUT pass through to bench/run.sh.
# `scripts/bench.sh scaling` (make bench-scaling) runs bench/scaling.sh
# instead (RUNS, SCALING_MAX, CONN_MAX, BENCH_OUT pass through).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
mkdir -p "$build"
log=$build/bench-build.log
: >"$log"

# Run "$@" with its output appended to the log; on failure show the log's
# end and stop.
logged() {
  echo "+ $*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    echo "bench.sh: failed: $* (last lines of $log:)" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}

have_uv() { pkg-config --exists libuv 2>/dev/null; }
have_ev() {
  local prog='#include <ev.h>
int main(void) { return ev_version_major() > 0 ? 0 : 1; }'
  cc -x c -o /dev/null - -lev -lm <<<"$prog" >/dev/null 2>&1
}

have_event() {
  pkg-config --exists libevent_core 2>/dev/null ||
    pkg-config --exists libevent 2>/dev/null
}
have_ssl() { pkg-config --exists libcrypto 2>/dev/null; }
have_uring() { pkg-config --exists liburing 2>/dev/null; }
have_nginx() { command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; }
have() { command -v "$1" >/dev/null 2>&1; }

missing=()
have pkg-config || missing+=(pkg-config)
have cmake || missing+=(cmake)
have_uv || missing+=(libuv1-dev)
have_ev || missing+=(libev-dev)
have_event || missing+=(libevent-dev)
have_ssl || missing+=(libssl-dev)
have_uring || missing+=(liburing-dev)
have_nginx || missing+=(nginx)
have wrk || missing+=(wrk)
have curl || missing+=(curl)
have redis-server || [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
have redis-benchmark || missing+=(redis-tools)
[[ -f /usr/include/hiredis/adapters/libev.h ]] || missing+=(libhiredis-dev)
# Node is an optional peer: asked for only when apt knows the package.
if ! have node && have apt-cache &&
  apt-cache policy nodejs 2>/dev/null |
  grep 'Candidate: [0-9]' >/dev/null; then
  missing+=(nodejs)
fi
if ! have npm && have apt-cache &&
  apt-cache policy npm 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then
  missing+=(npm)
fi

if ((${#missing[@]} > 0)); then
  sudo=()
  can_install=0
  if ((EUID == 0)); then
    can_install=1
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
    can_install=1
  fi
  if ((can_install)) && command -v apt-get >/dev/null 2>&1; then
    echo "bench.sh: installing ${missing[*]} (apt-get, output in $log)" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y -q "${missing[@]}" >>"$log" 2>&1; then
      "${sudo[@]}" apt-get update -q >>"$log" 2>&1 || true
      # One at a time, so that a package this release lacks does not keep
      # the others out.
      for pkg in "${missing[@]}"; do
        "${sudo[@]}" apt-get install -y -q "$pkg" >>"$log" 2>&1 ||
          echo "bench.sh: apt-get install $pkg failed (see $log)" >&2
      done
    fi
  else
    echo "bench.sh: cannot install ${missing[*]} (not root, no sudo -n," \
      "or no apt-get)" >&2
  fi
fi

if ! command -v cmake >/dev/null 2>&1; then
  echo "bench.sh: cmake missing" >&2
  exit 1
fi
have_uv || echo "bench.sh: libuv not available: uv side skipped" >&2
have_ev || echo "bench.sh: libev not available: ev side skipped" >&2
have_event || echo "bench.sh: libevent not available: event side skipped" >&2
have_ssl || echo "bench.sh: OpenSSL not available: pbkdf2 ssl side skipped" >&2
have_uring || echo "bench.sh: liburing not available: uring side skipped" >&2
have_nginx || echo "bench.sh: nginx not available: HTTP nginx side skipped" >&2
have node || echo "bench.sh: node not available: HTTP node side skipped" >&2
have wrk || echo "bench.sh: wrk not available: http_c50 and http_c1000" \
  "skipped" >&2
have curl || echo "bench.sh: curl not available: HTTP workloads skipped" >&2
have redis-server || [[ -x /usr/bin/redis-server ]] ||
  echo "bench.sh: redis-server not available: Redis workloads fail" >&2
[[ -f /usr/include/hiredis/adapters/libev.h ]] ||
  echo "bench.sh: libhiredis-dev not available: hiredis side skipped" >&2
have npm || echo "bench.sh: npm not available: node-redis side skipped" >&2

# The library at -O2 like the peers' distribution builds, no sanitizers, and
# none of the tests or examples (the bench needs only eddy_static).
echo "bench.sh: building the bench programs in $build (log: $log)" >&2
logged cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DEDDY_SANITIZE= \
  -DEDDY_BUILD_TESTS=OFF -DEDDY_BUILD_EXAMPLES=OFF -DEDDY_BUILD_BENCH=ON
logged cmake --build "$build" --target eddy_bench -j "$(nproc)"
if [[ ${1:-} == scaling ]]; then
  exec "$root/bench/scaling.sh" "$build"
fi
exec "$root/bench/run.sh" "$build"
