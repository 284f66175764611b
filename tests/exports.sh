#!/usr/bin/env bash
# tests/exports.sh LIB INCLUDE_DIR: the shared library exports exactly the
# public API: every defined dynamic symbol is a function declared with
# EDDY_EXTERN in the headers, and every such function is exported.
set -euo pipefail
lib=$1
inc=$2

exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort -u)
declared=$(cat "$inc"/eddy/*.h |
  perl -0pe 's{/\*.*?\*/}{}gs; s{^\s*#.*$}{}gm' |
  perl -0ne 'print "$1\n" while /EDDY_EXTERN\b[^;]*?\b(eddy_\w+)\s*\(/g' |
  sort -u)

status=0
# A public prototype without the mark would be hidden from the library.
unmarked=$(cat "$inc"/eddy/*.h |
  perl -0pe 's{/\*.*?\*/}{}gs; s{^#ifdef __cplusplus\n.*?^#endif}{}gms;
    s{^\s*#.*$}{}gm; s/\{[^{}]*\}//g while /\{[^{}]*\}/' |
  perl -0ne 'for (split /;/) { s/^\s+//; next if /^(typedef|static|EDDY_EXTERN)\b/;
    print "$1\n" if /^[\w\s\*]*?\b(eddy_\w+)\s*\(/ }' | sort -u)
if [ -n "$unmarked" ]; then
  echo "public prototypes without EDDY_EXTERN:" >&2
  echo "$unmarked" | sed 's/^/  /' >&2
  status=1
fi
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [ -n "$extra" ]; then
  echo "exported but not declared with EDDY_EXTERN in include/:" >&2
  echo "$extra" | sed 's/^/  /' >&2
  status=1
fi
if [ -n "$missing" ]; then
  echo "declared with EDDY_EXTERN but not exported (undefined?):" >&2
  echo "$missing" | sed 's/^/  /' >&2
  status=1
fi
[ $status -eq 0 ] &&
  echo "exports: $(echo "$exported" | wc -l) symbols, all declared" >&2
exit $status
