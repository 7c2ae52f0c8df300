#!/bin/sh
# test-header: the installed plugin header compiles on its own, with
# nothing included before it, as strict C99 and C11 (and as C++ when a
# C++ compiler is around: plugins may be written in C++).
set -eu

src=${KD_TOP_SRCDIR:?run from make check}/plugins
cc=${KD_CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kd-header.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

warn="-Wall -Wextra -Werror -pedantic -Wstrict-prototypes
      -Wmissing-prototypes -Wshadow -Wundef -Wwrite-strings -Wconversion
      -Wsign-conversion -Wformat=2 -Wcast-qual -Wredundant-decls"

printf '#include <kolabd-plugin.h>\n' >"$tmp/only.c"
# twice: the include guard must hold
printf '#include <kolabd-plugin.h>\n#include <kolabd-plugin.h>\n' \
    >"$tmp/twice.c"

for std in c99 c11; do
    for file in only twice; do
        # shellcheck disable=SC2086 # word splitting of $cc and $warn
        $cc -std=$std $warn -fsyntax-only -x c -I"$src" "$tmp/$file.c"
    done
done
echo "ok: kolabd-plugin.h compiles alone as C99 and C11"

cxx=
for c in c++ g++ clang++; do
    if command -v "$c" >/dev/null 2>&1; then
        cxx=$c
        break
    fi
done
if [ -n "$cxx" ]; then
    "$cxx" -Wall -Wextra -Werror -fsyntax-only -x c++ -I"$src" "$tmp/only.c"
    echo "ok: kolabd-plugin.h compiles alone as C++ ($cxx)"
else
    echo "note: no C++ compiler, C++ check not run"
fi
