#!/usr/bin/env bash
# Install the built library into a scratch prefix, then build and run a
# consumer through find_package(eddy) and through pkg-config.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -n1)

cmake -S "$src" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cm/consumer"
"$work/cm/consumer_static"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -o "$work/pc_consumer" "$src/main.c" $(pkg-config --cflags --libs eddy)
LD_LIBRARY_PATH="$libdir" "$work/pc_consumer"
# shellcheck disable=SC2046
cc -o "$work/pc_consumer_static" "$src/main.c" \
  $(pkg-config --cflags eddy) "$libdir/libeddy.a" -pthread
"$work/pc_consumer_static"
echo "install consumer: find_package and pkg-config both ok"
