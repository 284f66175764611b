#!/usr/bin/env bash
# consumer/run.sh SOURCE_DIR CONSUMER_DIR: what a user does with eddy,
# checked step by step (the install_consumer test).
#
#  1. make install PREFIX=/usr DESTDIR=STAGE with the multi-level libdir
#     lib/x86_64-linux-gnu, then make install PREFIX=OTHER into a plain
#     prefix from the same build; each installed file list holds only the
#     libraries, headers, pkg-config files and CMake package files.
#  2. version.h, the SONAME (readelf -d), both .pc files and the CMake
#     package agree on the version; the SONAME is libeddy.so.MAJOR.MINOR
#     while MAJOR is 0; find_package refuses the next minor version.
#  3. the C consumer (main.c) and the C++ one (main.cpp, g++ -pedantic)
#     are built against the staged tree through pkg-config (eddy.pc
#     shared, eddy-static.pc static) and find_package (eddy::eddy,
#     eddy::eddy_static), and each is run.
#  4. a project that add_subdirectory()s eddy builds with eddy's tests,
#     examples and install rules off.
#  5. configuring without cmocka succeeds and says the suite is skipped.
set -euo pipefail
src=$(cd "$1" && pwd)
here=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/eddy-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT
# Run from ctest under `make test`: the outer make's job server is not
# ours, and a DESTDIR from outside must not leak into the installs.
unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR

step() { echo "== $*"; }
fail() {
  echo "FAIL: $*"
  exit 1
}
# Run "$@" with its output in a log, shown only when it fails.
quiet() {
  local log=$work/log.$RANDOM
  "$@" >"$log" 2>&1 || {
    cat "$log"
    fail "$*"
  }
}

# ---- 1. install ------------------------------------------------------------
multiarch=lib/x86_64-linux-gnu # a libdir two levels deep, as Debian's
stage=$work/stage
step "make install PREFIX=/usr DESTDIR=$stage, libdir $multiarch"
quiet make -C "$src" install BUILD_DIR="$work/build" PREFIX=/usr \
  DESTDIR="$stage" CMAKE_FLAGS="-DCMAKE_INSTALL_LIBDIR=$multiarch"
prefix=$stage/usr
libdir=$prefix/$multiarch
[ -f "$prefix/include/eddy.h" ] || fail "no $prefix/include/eddy.h"

# Only these may be installed: no test, example or bench program.
check_files() { # ROOT LIBDIR_REGEX [PREFIX_IN_ROOT]
  local bad
  bad=$(cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' |
    grep -Ev "^(usr/)?(include/eddy\.h|include/eddy/[a-z0-9_]+\.h|$2/libeddy\.(a|so|so\.[0-9.]+)|$2/pkgconfig/eddy(-static)?\.pc|$2/cmake/eddy/eddy[A-Za-z-]*\.cmake)$" ||
    true)
  [ -z "$bad" ] || fail "installed beyond the library in $1: $bad"
  for h in "$src"/include/eddy/*.h; do
    [ -f "$1/${3:-}include/eddy/${h##*/}" ] || fail "not installed: ${h##*/}"
  done
}
check_files "$stage" "$multiarch" usr/
step "installed: $(cd "$stage" && find . -type f | wc -l) files, only the" \
  "library's"

plain=$work/plain
step "make install PREFIX=$plain (same build, no DESTDIR)"
quiet make -C "$src" install BUILD_DIR="$work/build" PREFIX="$plain"
# (GNUInstallDirs may turn the libdir back to lib for a prefix other than
# /usr.)
check_files "$plain" "lib(/$multiarch)?"

# ---- 2. one version everywhere -----------------------------------------------
ver_part() {
  sed -n "s/^#define EDDY_VERSION_$1 \([0-9][0-9]*\)\$/\1/p" \
    "$src/include/eddy/version.h"
}
major=$(ver_part MAJOR) minor=$(ver_part MINOR) patch=$(ver_part PATCH)
version=$major.$minor.$patch
if [ "$major" = 0 ]; then want_soname=libeddy.so.$major.$minor; else
  want_soname=libeddy.so.$major; fi
[ -f "$libdir/libeddy.so.$version" ] || fail "no libeddy.so.$version"
soname=$(readelf -d "$libdir/libeddy.so.$version" |
  sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "$want_soname" ] || fail "SONAME $soname, want $want_soname"
[ -L "$libdir/$soname" ] || fail "no $soname link"
export PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR=$libdir/pkgconfig
for pc in eddy eddy-static; do
  v=$(pkg-config --modversion "$pc")
  [ "$v" = "$version" ] || fail "$pc.pc says $v, version.h $version"
done
cmv=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' \
  "$libdir/cmake/eddy/eddyConfigVersion.cmake")
[ "$cmv" = "$version" ] || fail "eddyConfigVersion.cmake says $cmv"
step "version $version in version.h, SONAME $soname, eddy.pc," \
  "eddy-static.pc and eddyConfigVersion.cmake"

# ---- 3. consumers --------------------------------------------------------------
# pkg-config's paths must lead to the staged tree, for the multi-level
# libdir too (not LIBDIR/../include).
inc=$(pkg-config --variable=includedir eddy)
[ "$(cd "$inc" && pwd -P)" = "$(cd "$prefix/include" && pwd -P)" ] ||
  fail "eddy.pc includedir $inc is not $prefix/include"
pkg-config --static --libs eddy | grep -q -- -pthread ||
  fail "pkg-config --static --libs eddy lacks -pthread"

expect="eddy $version"
run_consumer() { # NAME BINARY [LD_LIBRARY_PATH]
  local out
  out=$(LD_LIBRARY_PATH=${3:-} "$2") || fail "$1 exited $?: $out"
  case $out in *"$expect"*) ;; *) fail "$1 printed: $out" ;; esac
  echo "$1: $out"
}
# The static builds must not need the shared library at all.
no_shared() {
  ! readelf -d "$1" | grep -q 'NEEDED.*libeddy' || fail "$1 needs libeddy.so"
}

cxx=
if command -v c++ >/dev/null; then cxx=c++; else
  echo "no C++ compiler (c++): the C++ consumer is skipped"; fi
for lang in c cpp; do
  case $lang in
    c) compile=(cc -std=c11 -Wall -Wextra -Werror -pedantic) ;;
    cpp)
      [ -n "$cxx" ] || continue
      compile=("$cxx" -std=c++11 -Wall -Wextra -Werror -pedantic)
      ;;
  esac
  # shellcheck disable=SC2046 # pkg-config's flags are words
  "${compile[@]}" -o "$work/pc_$lang" "$here/main.$lang" \
    $(pkg-config --cflags --libs eddy)
  run_consumer "pkg-config eddy, $lang" "$work/pc_$lang" "$libdir"
  # shellcheck disable=SC2046
  "${compile[@]}" -o "$work/pc_static_$lang" "$here/main.$lang" \
    $(pkg-config --cflags --libs eddy-static)
  no_shared "$work/pc_static_$lang"
  run_consumer "pkg-config eddy-static, $lang" "$work/pc_static_$lang"
done

step "find_package(eddy $major.$minor)"
quiet cmake -S "$here" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
  -DEDDY_WANT="$major.$minor"
quiet cmake --build "$work/cm" -j2
for lang in c cpp; do
  [ "$lang" = c ] || [ -n "$cxx" ] || continue
  run_consumer "find_package eddy::eddy, $lang" "$work/cm/consumer_$lang" \
    "$libdir"
  no_shared "$work/cm/consumer_static_$lang"
  run_consumer "find_package eddy::eddy_static, $lang" \
    "$work/cm/consumer_static_$lang"
done
next=$major.$((minor + 1))
if cmake -S "$here" -B "$work/cm-next" -DCMAKE_PREFIX_PATH="$prefix" \
  -DEDDY_WANT="$next" >"$work/next.log" 2>&1; then
  fail "find_package(eddy $next) accepted $version"
fi
step "find_package(eddy $next) refuses $version, as the SONAME does"

# ---- 4. add_subdirectory -----------------------------------------------------
step "add_subdirectory(eddy) in another project"
quiet cmake -S "$here/subproject" -B "$work/sub" -DEDDY_SOURCE_DIR="$src"
quiet cmake --build "$work/sub" -j2
run_consumer "add_subdirectory eddy::eddy_static" "$work/sub/app"
quiet cmake --install "$work/sub" --prefix "$work/subinst"
[ -z "$(find "$work/subinst" -type f 2>/dev/null)" ] ||
  fail "the subproject's install installed eddy's files"

# ---- 5. no cmocka ---------------------------------------------------------------
step "configure without cmocka"
mkdir -p "$work/no-pc"
if ! PKG_CONFIG_LIBDIR=$work/no-pc cmake -S "$src" -B "$work/nocmocka" \
  >"$work/nocmocka.log" 2>&1; then
  cat "$work/nocmocka.log"
  fail "configuring without cmocka failed"
fi
grep -q 'cmocka not found' "$work/nocmocka.log" ||
  fail "no message about the skipped suite"
! (cd "$work/nocmocka" && ctest -N) | grep -q 'Test.*: loop$' ||
  fail "cmocka tests registered without cmocka"
grep -A2 'cmocka not found' "$work/nocmocka.log" | head -n 3

echo "install consumer: all checks passed"
