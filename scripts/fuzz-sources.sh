#!/usr/bin/env bash
# fuzz-sources.sh FILE.cc... — the library sources a program built from FILE.cc
# needs, found by following #include "..." lines: a header X.h brings in X.cc and
# any X_*.cc or *_X.cc beside it that includes it (lsm/db_impl.h: db_impl_open.cc,
# ...; base/env.h: posix_env.cc), and those sources' own includes in turn. Prints them, one a line, without FILE.cc. The
# fuzz build compiles only these (scripts/run-fuzz.sh, make fuzz), not every
# library: that is most of what keeps `make fuzz-ci` short.
set -u
declare -A seen
queue=("$@")
out=()
while [ ${#queue[@]} -gt 0 ]; do
  f=${queue[0]}; queue=("${queue[@]:1}")
  [ -n "${seen[$f]:-}" ] && continue
  seen[$f]=1
  case $f in *.cc) out+=("$f");; esac
  for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
    [ -f "$inc" ] || continue
    queue+=("$inc")
    base=${inc%.h}
    [ -f "$base.cc" ] && queue+=("$base.cc")
    for cc in "$base"_*.cc "$(dirname "$base")"/*_"$(basename "$base")".cc; do
      [ -f "$cc" ] && grep -q "#include \"$inc\"" "$cc" && queue+=("$cc")
    done
  done
done
for f in "${out[@]}"; do
  skip=0
  for a in "$@"; do [ "$f" = "$a" ] && skip=1; done
  [ $skip = 0 ] && echo "$f"
done | sort
