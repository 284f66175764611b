#!/usr/bin/env bash
# Install what building and testing eddy needs, if it is missing: cmake, a C
# compiler, make, pkg-config, cmocka, redis-server (the Redis client's
# tests start their own server; Debian's package also starts a service on
# port 6379, which the tests do not use) and a C++ compiler (only the C++
# consumer test uses it; the library never does). `deps.sh build` (what
# make install runs) asks only for what building the library needs: cmake,
# a C compiler and make. Uses apt-get as root, or through sudo when that
# works without a password; otherwise says what is missing.
set -euo pipefail

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v cc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
if [ "${1:-}" != build ]; then
  command -v c++ >/dev/null || missing+=(g++)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  if ! pkg-config --exists cmocka 2>/dev/null; then
    missing+=(libcmocka-dev)
  fi
  if ! command -v redis-server >/dev/null && [ ! -x /usr/bin/redis-server ]; then
    missing+=(redis-server)
  fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "deps: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
