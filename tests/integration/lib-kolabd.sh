# lib-kolabd.sh -- shared helpers for the shell integration tests that run
# kolabd against the sandbox murder (tests/sandbox/kd-sandbox). Source it,
# call kd_init NAME, then kd_sandbox_up; run scenarios with kd_scenario and
# finish with kd_finish. Everything started here is stopped by an EXIT
# trap (kolabd by pid, the sandbox with `kd-sandbox down`; the sandbox's
# own watchdog also follows this shell's pid). Every wait is bounded.
#
# Environment (set by `make check`): KD_TOP_SRCDIR, KD_TOP_BUILDDIR,
# KD_SANDBOX. KD_WAIT (default 60) bounds each wait in seconds.
# shellcheck shell=bash

KD_WAIT=${KD_WAIT:-60}
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib-proc.sh"
kd_passed=0
kd_failed=0
kd_xfailed=0
kd_pids=()

kd_init() {
    kd_name=$1
    src=${KD_TOP_SRCDIR:?run through make check (KD_TOP_SRCDIR)}
    build=${KD_TOP_BUILDDIR:?run through make check (KD_TOP_BUILDDIR)}
    sandbox=${KD_SANDBOX:-$src/tests/sandbox/kd-sandbox}
    kolabd=$build/kolabd/kolabd
    where=$build/tests/demo/kd-where
    probe=$build/tests/integration/kd-imap-probe
    for p in "$kolabd" "$where" "$probe"; do
        [ -x "$p" ] || { echo "FAIL setup: $p not built"; exit 1; }
    done
    dir=$(mktemp -d "/tmp/kd-$kd_name.XXXXXX")
    chmod 0711 "$dir"
    trap kd_cleanup EXIT
}

kd_cleanup() {
    local rc=$? p
    for p in "${kd_pids[@]}"; do
        kd_is_child "$p" && kill -TERM "$p" 2>/dev/null && kd_wait_pid "$p"
    done
    # every sandbox of this test (sb, and e.g. a second single-server sb1):
    # their watchdogs give up once the directory is gone
    for p in "$dir"/sb*; do
        [ -f "$p/sandbox.env" ] && "$sandbox" down "$p" >/dev/null 2>&1
    done
    if [ "$rc" = 0 ] && [ -z "${KD_SANDBOX_KEEP:-}" ]; then
        rm -rf "$dir"
    else
        echo "# files kept in $dir"
    fi
    exit "$rc"
}

# Waits (bounded, 15 s) for a pid started by this shell to exit.
kd_wait_pid() {
    local p=$1 i
    for i in $(seq 1 150); do
        kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
        sleep 0.1
    done
    kd_is_child "$p" && kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 1
}

# kd_sandbox_up [kd-sandbox up options]: the sandbox in $dir/sb.
kd_sandbox_up() {
    if ! "$sandbox" up "$@" --watch-pid $$ "$dir/sb" \
        >"$dir/sandbox-up.log" 2>&1; then
        echo "FAIL setup: kd-sandbox up failed:"
        cat "$dir/sandbox-up.log"
        exit 1
    fi
    # shellcheck disable=SC1091
    . "$dir/sb/sandbox.env"
}

# kd_conf NAME: writes $dir/NAME.conf (state in $dir/state) and prints its
# path; KD_CONF_DELETE_MODE and KD_CONF_PLACEMENT pass through to kd-conf.
kd_conf() {
    local conf=$dir/$1.conf
    KD_TOP_BUILDDIR=$build "$src/tests/demo/kd-conf" "$dir/sb" \
        "$dir/state" >"$conf" || return 1
    echo "$conf"
}

# kd_start CONF LOG: runs kolabd in the foreground mode, in the background.
kd_start() {
    "$kolabd" -f -c "$1" 2>>"$2" &
    kd_pid=$!
    kd_pids+=("$kd_pid")
    kd_log=$2
}

kd_stop() {
    local p keep=()
    [ -n "${kd_pid:-}" ] || return 0
    kd_is_child "$kd_pid" && kill -TERM "$kd_pid" 2>/dev/null
    kd_wait_pid "$kd_pid"
    for p in "${kd_pids[@]}"; do
        [ "$p" = "$kd_pid" ] || keep+=("$p")
    done
    kd_pids=("${keep[@]}")
    kd_pid=
}

# kd_wait TIMEOUT CMD...: runs CMD until it succeeds, at most TIMEOUT s.
kd_wait() {
    local t=$1 end
    shift
    end=$(( $(date +%s) + t ))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(date +%s)" -lt "$end" ] || return 1
        if [ -n "${kd_pid:-}" ] && ! kill -0 "$kd_pid" 2>/dev/null; then
            echo "# kolabd (pid $kd_pid) has exited"
            return 1
        fi
        sleep 0.3
    done
}

kd_status() {
    "$kolabd" status --json -c "$1"
}

# The length of kolabd's queue (status --json), empty if unknown.
kd_queue() {
    kd_status "$1" 2>/dev/null |
        sed -n 's/.*"queue":{"length":\([0-9]*\).*/\1/p'
}

kd_queue_empty() {
    [ "$(kd_queue "$1")" = 0 ]
}

# Converged: queue empty and kd-where agrees for every object.
kd_converged() {
    kd_queue_empty "$1" && "$where" -c "$1" --quiet
}

# Settled: no work other than held work (refused entries) and kd-where
# agrees for every object it can classify.
kd_settled() {
    local st q h
    st=$(kd_status "$1" 2>/dev/null) || return 1
    q=$(echo "$st" | sed -n 's/.*"queue":{"length":\([0-9]*\).*/\1/p')
    h=$(echo "$st" | sed -n 's/.*"queue":{"length":[0-9]*,"held":\([0-9]*\).*/\1/p')
    [ -n "$q" ] && [ "$q" = "${h:-x}" ] && "$where" -c "$1" --quiet
}

# kd_mailhost DN: the entry's mailHost from LDAP (root DN, password file).
kd_mailhost() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$ROOT_DN" \
        -y "$ROOT_PW_FILE" -b "$1" -s base mailHost 2>/dev/null |
        sed -n 's/^mailHost: //p'
}

# user_ldif UID MAIL [EXTRA-LINE]: a Kolab user entry in ou=People
# (needs $BASE_DN from kd_sandbox_up).
user_ldif() {
    printf 'dn: uid=%s,ou=People,%s\nobjectClass: inetOrgPerson\n' "$1" "$BASE_DN"
    printf 'objectClass: kolabInetOrgPerson\nobjectClass: mailRecipient\n'
    printf 'uid: %s\ncn: %s\nsn: %s\nmail: %s\n' "$1" "$1" "$1" "$2"
    [ -z "${3:-}" ] || printf '%s\n' "$3"
    printf '\n'
}

kd_ldapadd() {
    "$sandbox" ldapadd "$dir/sb" >>"$dir/ldap.log" 2>&1
}

kd_ldapmodify() {
    "$sandbox" ldapmodify "$dir/sb" >>"$dir/ldap.log" 2>&1
}

# kd_probe CONF ARGS...: the IMAP probe.
kd_probe() {
    local conf=$1
    shift
    "$probe" -c "$conf" "$@"
}

# kd_has_mailbox CONF MAILBOX: the mailbox exists on some backend (LIST on
# every backend, so no mupdate lag).
kd_has_mailbox() {
    kd_probe "$1" list "$2" 2>/dev/null | grep -qF " $2"
}

kd_no_mailbox() {
    kd_probe "$1" list "$2" >"$dir/list.out" 2>&1 || return 1
    ! grep -qF " $2" "$dir/list.out"
}

# kd_done_lines LOG: how many "...: <steps> on <server> done" lines.
kd_done_lines() {
    grep -c ' on [^ ]* done$' "$1" 2>/dev/null || true
}

kd_diag() {
    echo "# ---- kolabd log ($kd_log, last 60 lines)"
    tail -60 "$kd_log" 2>/dev/null | sed 's/^/# /'
    echo "# ---- kolabd status"
    kd_status "$kd_conf" 2>&1 | sed 's/^/# /'
    echo "# ---- kd-sandbox logs"
    "$sandbox" logs "$dir/sb" 15 2>&1 | sed 's/^/# /'
}

# kd_scenario NAME FUNCTION: runs FUNCTION; a non-zero status is a failure
# (diagnostics printed). A function that prints "XFAIL <bug>" as its last
# line and returns 77 is counted as an expected failure.
kd_scenario() {
    local name=$1 fn=$2 rc
    echo "# -- $name"
    "$fn" >"$dir/scenario.out" 2>&1
    rc=$?
    sed 's/^/# /' "$dir/scenario.out"
    if [ "$rc" = 0 ]; then
        echo "PASS $name"
        kd_passed=$((kd_passed + 1))
    elif [ "$rc" = 77 ]; then
        echo "XFAIL $name: $(tail -1 "$dir/scenario.out")"
        kd_xfailed=$((kd_xfailed + 1))
    else
        echo "FAIL $name"
        kd_failed=$((kd_failed + 1))
        kd_diag
    fi
}

# Within a scenario: kd_check DESCRIPTION CMD... fails the scenario.
kd_check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
        return 0
    fi
    echo "not ok: $what"
    return 1
}

kd_finish() {
    if [ "$kd_xfailed" -gt 0 ]; then
        echo "$kd_passed passed, $kd_failed failed ($kd_xfailed expected failures)"
    else
        echo "$kd_passed passed, $kd_failed failed"
    fi
    [ "$kd_failed" = 0 ]
}
