#!/bin/bash
# test-config: configuration errors.
#  - at start: `kolabd -c bad.conf` exits 2 and names file, line and key;
#    `kolabd check-config` exits 0 on a good file (and says so), 2 on a
#    bad one, 1 when LDAP is unreachable;
#  - on SIGHUP: a broken file (invalid value, garbage line, unknown
#    placement plugin) is refused with a file:line log line, kolabd keeps
#    running on the old configuration and still provisions new LDAP
#    entries (tests/demo/kd-where exits 0); a good file reloads again.
set -uo pipefail
# shellcheck source=tests/daemon/lib-daemon.sh
. "$(dirname "$0")/lib-daemon.sh"
kd_setup

# bad_conf OUT SED-SCRIPT: the good config edited; prints nothing.
bad_conf() { sed "$2" "$KD_CONF" >"$1"; }
# line_of FILE ERE: number of the first line matching.
line_of() { grep -En -- "$2" "$1" | head -n 1 | cut -d: -f1; }

# expect_start_error NAME FILE LINE KEY [XFAIL-BUG]
expect_start_error() {
    local name=$1 file=$2 line=$3 key=$4 bug=${5:-} rc=0
    timeout 30 "$KD_KOLABD" -f -c "$file" >"$KD_DIR/out" 2>&1 || rc=$?
    if [ "$rc" = 2 ]; then
        kd_ok "$name-exit-2"
    else
        kd_fail "$name-exit-2" "exit $rc: $(cat "$KD_DIR/out")"
    fi
    if grep -Fq -- "$file:$line:" "$KD_DIR/out" &&
        grep -Fq -- "$key" "$KD_DIR/out"; then
        kd_ok "$name-names-file-line-key"
    elif [ -n "$bug" ]; then
        kd_xfail "$name-names-file-line-key" "$bug; got: $(cat "$KD_DIR/out")"
    else
        kd_fail "$name-names-file-line-key" \
            "expected $file:$line: and $key in: $(cat "$KD_DIR/out")"
    fi
}

# ---- start-up errors
bad_conf "$KD_DIR/bad-value.conf" \
    's/^delete_mode = .*/delete_mode = sometimes/'
expect_start_error bad-enum "$KD_DIR/bad-value.conf" \
    "$(line_of "$KD_DIR/bad-value.conf" '^delete_mode')" delete_mode

bad_conf "$KD_DIR/bad-number.conf" \
    '/^\[kolabd\]/a workers_per_backend = lots'
expect_start_error bad-number "$KD_DIR/bad-number.conf" \
    "$(line_of "$KD_DIR/bad-number.conf" '^workers_per_backend')" \
    workers_per_backend

bad_conf "$KD_DIR/garbage.conf" '/^\[kolab\]/a @@@ this is not a key'
expect_start_error garbage "$KD_DIR/garbage.conf" \
    "$(line_of "$KD_DIR/garbage.conf" '^@@@')" "key"

bad_conf "$KD_DIR/bad-secret.conf" \
    "s|^bind_pw_file = .*|bind_pw_file = $KD_DIR/no-such.pw|"
expect_start_error missing-secret "$KD_DIR/bad-secret.conf" \
    "$(line_of "$KD_DIR/bad-secret.conf" '^bind_pw_file')" bind_pw_file

bad_conf "$KD_DIR/bad-plugin.conf" \
    's/^placement = .*/placement = attribute, no-such-plugin/'
expect_start_error bad-plugin "$KD_DIR/bad-plugin.conf" \
    "$(line_of "$KD_DIR/bad-plugin.conf" '^placement')" placement

rc=0
"$KD_KOLABD" -f -c "$KD_DIR/no-such.conf" >"$KD_DIR/out" 2>&1 || rc=$?
if [ "$rc" = 2 ] && grep -Fq "$KD_DIR/no-such.conf" "$KD_DIR/out"; then
    kd_ok "missing-file-exit-2"
else
    kd_fail "missing-file-exit-2" "exit $rc: $(cat "$KD_DIR/out")"
fi
if [ ! -e "$KD_DIR/state/kolabd.db" ]; then
    kd_ok "bad-config-touches-no-state"
else
    kd_fail "bad-config-touches-no-state" "state database created"
fi

# ---- check-config
rc=0
"$KD_KOLABD" check-config -c "$KD_CONF" >"$KD_DIR/out" 2>&1 || rc=$?
if [ "$rc" = 0 ] && grep -q 'configuration OK' "$KD_DIR/out" &&
    grep -q "LDAP: bind as $SERVICE_DN works" "$KD_DIR/out" &&
    grep -q 'backend backend2: up' "$KD_DIR/out"; then
    kd_ok "check-config-good"
else
    kd_fail "check-config-good" "exit $rc: $(cat "$KD_DIR/out")"
fi
rc=0
"$KD_KOLABD" check-config -c "$KD_DIR/bad-value.conf" >"$KD_DIR/out" 2>&1 ||
    rc=$?
l=$(line_of "$KD_DIR/bad-value.conf" '^delete_mode')
if [ "$rc" = 2 ] && grep -Fq "$KD_DIR/bad-value.conf:$l:" "$KD_DIR/out" &&
    grep -q 'delete_mode' "$KD_DIR/out" &&
    ! grep -q 'configuration OK' "$KD_DIR/out"; then
    kd_ok "check-config-bad-exit-2"
else
    kd_fail "check-config-bad-exit-2" "exit $rc: $(cat "$KD_DIR/out")"
fi
bad_conf "$KD_DIR/unknown-key.conf" '/^\[kolabd\]/a frobnicate = 1'
rc=0
"$KD_KOLABD" check-config -c "$KD_DIR/unknown-key.conf" >"$KD_DIR/out" \
    2>&1 || rc=$?
l=$(line_of "$KD_DIR/unknown-key.conf" '^frobnicate')
if [ "$rc" = 0 ] &&
    grep -Fq "$KD_DIR/unknown-key.conf:$l: [kolabd] frobnicate: unknown key" \
        "$KD_DIR/out"; then
    kd_ok "check-config-unknown-key-warns"
else
    kd_fail "check-config-unknown-key-warns" "exit $rc: $(cat "$KD_DIR/out")"
fi

# ---- reload with a broken file keeps the daemon and its configuration
kd_start
if ! kd_wait_log 30 'kolabd .* ready'; then
    kd_fail "daemon-ready" "no ready line within 30 s"
    kd_finish
fi
cp "$KD_CONF" "$KD_DIR/good.conf"
n=0
KD_CHECK_CONF=$KD_DIR/good.conf
# reload_broken NAME SED-SCRIPT KEY-OR-TEXT [XFAIL-BUG]: the running
# config file replaced by a broken one, SIGHUP, the error logged with
# file:line, and the daemon still provisions a new user.
reload_broken() {
    local name=$1 script=$2 what=$3 bug=${4:-} line
    n=$((n + 1))
    sed "$script" "$KD_DIR/good.conf" >"$KD_CONF"
    line=$(line_of "$KD_CONF" "$what")
    kd_mark_log
    kd_is_child "$KD_PID" && kill -HUP "$KD_PID"
    if kd_wait_since 15 \
        "reload failed, keeping the running configuration: $KD_CONF:$line:"; then
        kd_ok "$name-logged-file-line"
    elif [ -n "$bug" ] && kd_since_has 'reload failed, keeping the running'; then
        kd_xfail "$name-logged-file-line" "$bug; log: $(kd_log_since_mark | grep -m1 "reload failed")"
    else
        kd_fail "$name-logged-file-line" \
            "no 'reload failed ... $KD_CONF:$line:' line; log: $(kd_log_since_mark)"
    fi
    kd_user_ldif "reload$n" "reload$n@example.org" | kd_ldapadd ||
        kd_fail "$name-ldapadd" "ldapadd failed"
    if kd_until 60 kd_converged "$n" && kd_where; then
        kd_ok "$name-still-provisions"
    else
        kd_fail "$name-still-provisions" \
            "user reload$n not provisioned: $(kd_status_json) $(cat "$KD_DIR/where.out")"
    fi
    if kd_is_child "$KD_PID"; then
        kd_ok "$name-still-running"
    else
        kd_fail "$name-still-running" "kolabd exited"
    fi
}
reload_broken reload-bad-value 's/^delete_mode = .*/delete_mode = sometimes/' \
    '^delete_mode'
reload_broken reload-garbage '/^\[kolab\]/a @@@ this is not a key' '^@@@'
reload_broken reload-bad-plugin \
    's/^placement = .*/placement = attribute, no-such-plugin/' '^placement'

# the good file again: reloads, and kolabd still works
cp "$KD_DIR/good.conf" "$KD_CONF"
kd_mark_log
kd_is_child "$KD_PID" && kill -HUP "$KD_PID"
if kd_wait_since 15 'configuration reloaded'; then
    kd_ok "reload-good-again"
else
    kd_fail "reload-good-again" "log: $(kd_log_since_mark)"
fi
# secrets as the sandbox keeps them (root:root 0600, the mode that
# packaging/kolabd.conf.example recommends): kolabd reads them as root at
# start, drops to nobody, and a SIGHUP must still reload (it keeps the
# secrets it read; a new file it cannot read would still be an error).
if kd_stop 30; then
    kd_ok "sigterm-before-root-only-secrets"
else
    kd_fail "sigterm-before-root-only-secrets" "exit $KD_EXIT_RC"
fi
KD_TOP_BUILDDIR=$KD_BUILD "$KD_SRC/tests/demo/kd-conf" "$KD_DIR/sb" \
    "$KD_DIR/state" >"$KD_CONF"
kd_mark_log
kd_start
if kd_wait_since 30 'ready'; then
    kd_mark_log
    kd_is_child "$KD_PID" && kill -HUP "$KD_PID"
    if kd_wait_since 15 'configuration reloaded'; then
        kd_ok "reload-root-only-secrets"
    else
        kd_fail "reload-root-only-secrets" "$(kd_log_since_mark)"
    fi
else
    kd_fail "reload-root-only-secrets" "not ready: $(kd_log_since_mark)"
fi
cp "$KD_DIR/good.conf" "$KD_CONF"

if kd_stop 30; then
    kd_ok "sigterm-exit-0"
else
    kd_fail "sigterm-exit-0" "exit $KD_EXIT_RC"
fi

# check-config with LDAP down: exit 1 and an LDAP error.
"$KD_SB" stop "$KD_DIR/sb" slapd >/dev/null 2>&1
rc=0
timeout 60 "$KD_KOLABD" check-config -c "$KD_CONF" >"$KD_DIR/out" 2>&1 || rc=$?
if [ "$rc" = 1 ] && grep -q '^LDAP: ' "$KD_DIR/out" &&
    ! grep -q 'configuration OK' "$KD_DIR/out"; then
    kd_ok "check-config-ldap-down-exit-1"
else
    kd_fail "check-config-ldap-down-exit-1" "exit $rc: $(cat "$KD_DIR/out")"
fi
kd_finish
