#!/bin/sh
# test-out-of-tree: a plugin built outside the tree, against the installed
# kolabd-plugin.h and kolabd-plugin.pc only, loads through kolabd's loader
# next to the installed built-in plugins.
#
# Installs only the plugin API and the plugins (not the whole tree) into
# a private DESTDIR, builds tests/plugin/my-placement.c there with
# tests/plugin/Makefile.example and pkg-config, and runs placement-run.
set -eu

top_src=${KD_TOP_SRCDIR:?run from make check}
top_build=${KD_TOP_BUILDDIR:?run from make check}
make=${KD_MAKE:-make}
pkg_config=${KD_PKG_CONFIG:-pkg-config}
libdir=${KD_LIBDIR:?run from make check}
run=$top_build/tests/plugin/placement-run
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kd-oot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dest=$tmp/dest

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# a sub-make of the build tree, not of this make check (no jobserver)
(
    unset MAKEFLAGS MFLAGS MAKELEVEL
    $make -s -C "$top_build" DESTDIR="$dest" install-kolabdincludeHEADERS \
        install-pkgconfigDATA install-pluginLTLIBRARIES >"$tmp/install.log" 2>&1
) || {
    cat "$tmp/install.log" >&2
    fail "make install of the plugin API"
}

pcdir=$dest$libdir/pkgconfig
[ -f "$pcdir/kolabd-plugin.pc" ] || fail "no kolabd-plugin.pc in $pcdir"
PKG_CONFIG_PATH=$pcdir
PKG_CONFIG_LIBDIR=$pcdir
PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

cflags=$($pkg_config --cflags kolabd-plugin)
case $cflags in
*"$dest"*) ;;
*) fail "pkg-config --cflags kolabd-plugin gave '$cflags'" ;;
esac
# shellcheck disable=SC2086 # one -I flag, blanks around it dropped
set -- $cflags
[ -f "${1#-I}/kolabd-plugin.h" ] || fail "no header at '$cflags'"
plugindir=$($pkg_config --variable=plugindir kolabd-plugin)
case $plugindir in
"$dest"/*) ;;
*) plugindir=$dest$plugindir ;; # pkg-config without sysroot on variables
esac
for name in static attribute domain hash least-used; do
    [ -f "$plugindir/placement-$name.so" ] ||
        fail "placement-$name.so not installed in $plugindir"
done

mkdir "$tmp/build"
(
    unset MAKEFLAGS MFLAGS MAKELEVEL
    cd "$tmp/build"
    $make -s -f "$top_src/tests/plugin/Makefile.example" \
        SRCDIR="$top_src/tests/plugin" CC="${KD_CC:-cc}" \
        PKG_CONFIG="$pkg_config" PLUGINDIR="$plugindir" install
) || fail "building my-placement.c out of tree"
[ -f "$plugindir/placement-my.so" ] || fail "placement-my.so not installed"
echo "ok: built placement-my.so against $cflags"

# the chain: my first, then the installed hash plugin
"$run" -d "$plugindir" -c "my, hash" -s my.prefix=vip- -s my.backend=imap2 \
    -b imap1 -b imap2 -b imap3 \
    vip-anna@example.org bob@example.org vip-carl@example.org \
    >"$tmp/out" 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    fail "placement-run with the out-of-tree plugin"
}
cat "$tmp/out"
grep -qx 'vip-anna@example.org imap2 my' "$tmp/out" || fail "vip-anna not by my"
grep -qx 'vip-carl@example.org imap2 my' "$tmp/out" || fail "vip-carl not by my"
grep -q '^bob@example.org imap[123] hash$' "$tmp/out" || fail "bob not by hash"

# its init error reaches check-config, naming the file
if "$run" -d "$plugindir" -c "my, hash" --check 2>"$tmp/err"; then
    fail "check accepted my without its settings"
fi
grep -q "placement-my.so" "$tmp/err" || fail "check did not name the file"
grep -q "needs prefix and backend" "$tmp/err" || fail "check lost the reason"
echo "ok: out-of-tree plugin loads, decides, and reports its errors"
