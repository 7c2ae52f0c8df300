#!/bin/bash
# test-mpr.sh -- the notes' optional "MPR" case (issue #3): two slapd
# providers of one database in multi-provider replication (serverID 1 and
# 2, `kd-sandbox up --mpr`); the consumer (kd-sync-tool) reads from
# provider 1 only while writes happen on both. slapd's persist cookies
# carry only the CSN of that one change, so a consumer that stores "the
# last cookie" loses the other server's CSN; on reconnect slapd logs
# "consumer cookie is missing a csn we track" and resends everything with
# a present phase. With per-SID merging the reconnect is a delete phase.
#
# Asserts: persist changes from both providers arrive; the stored cookie
# names CSNs of SIDs 001 and 002; changes made on both providers while
# the consumer was down arrive after a restart through a delete phase
# (not a present phase, and slapd does not complain about the cookie);
# the store equals an ldapsearch of the filter.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init mpr
kd_sandbox_up --no-cyrus --mpr
[ -n "${LDAP2_URI:-}" ] || { echo "FAIL setup: no LDAP2_URI"; exit 1; }
. "$src/tests/integration/lib-sync.sh"

store=$dir/store.db
N=40

kd_ldapmodify2() {
    "$sandbox" ldapmodify2 "$dir/sb" >>"$dir/ldap.log" 2>&1
}

set_mail_ldif() { # UID MAIL
    printf 'dn: uid=%s,%s\nchangetype: modify\nreplace: mail\nmail: %s\n\n' \
        "$1" "$people" "$2"
}

delete_ldif() { # UID
    printf 'dn: uid=%s,%s\nchangetype: delete\n\n' "$1" "$people"
}

store_count() { # N: the store has N present objects
    [ "$(ks_store_objects "$store" | wc -l)" = "$1" ]
}

# The SIDs (third field of each CSN) in the stored cookie, sorted.
cookie_sids() {
    ks_store_cookie "$store" |
        grep -oE '[0-9]{14}\.[0-9]{6}Z#[0-9a-f]{6}#[0-9a-f]{3}#' |
        cut -d'#' -f3 | sort -u | tr '\n' ' '
}

cookie_has_both_sids() {
    local s
    s=$(cookie_sids)
    [[ " $s" == *" 001 "* ]] && [[ " $s" == *" 002 "* ]]
}

# same_on_both: both providers return the same (non-empty) entries
same_on_both() {
    ks_ldap_truth >"$dir/truth1.txt" &&
        ks_ldap_truth "$LDAP2_URI" >"$dir/truth2.txt" &&
        [ -s "$dir/truth1.txt" ] && cmp -s "$dir/truth1.txt" "$dir/truth2.txt"
}

# tool_start LOG: the consumer in persist mode against provider 1 only
# (GLib writes info and debug messages to stdout, warnings to stderr).
tool_start() {
    ks_start "$1" "$store" "$LDAP_URI"
    kd_pid=$ks_pid
    kd_log=$1
}

# tool_stop: SIGTERM; true if the consumer exited by itself within 15 s.
tool_stop() {
    local p=$kd_pid
    kd_pid=
    ks_stop "$p"
}

# refresh_ended LOG: the refresh at the start of this run has ended.
refresh_ended() {
    ks_log_more "$1" 0 'sync: refresh (done|ended)'
}

# refresh_phase LOG: "delete" or "present" for the (first) refresh end of
# LOG: the dispatcher's "refresh done: <phase> phase" line, else the
# semantics named by its "refresh ended (..., <x> semantics)" line.
refresh_phase() {
    local l
    l=$(grep -m1 -oE 'refresh done: (delete|present) phase' "$1")
    if [ -n "$l" ]; then
        l=${l#refresh done: }
        echo "${l% phase}"
        return
    fi
    grep -m1 -oE 'refresh ended \([^)]*\)' "$1" |
        sed -nE 's/.*(delete|present) semantics.*/\1/p'
}

# Diagnostics on a failed scenario (replaces lib-kolabd's kolabd ones).
kd_diag() {
    echo "# ---- consumer log ($kd_log, last 40 lines)"
    tail -40 "$kd_log" 2>/dev/null | sed 's/^/# /'
    echo "# ---- stored cookie: $(ks_store_cookie "$store")"
    echo "# ---- slapd log lines about cookies (provider 1, last 10)"
    grep -E 'cookie|missing a csn' "$SLAPD_LOG" 2>/dev/null | tail -10 |
        sed 's/^/# /'
}

s1_initial_and_persist_from_both() {
    local i
    for i in $(seq 1 $N); do
        user_ldif "mpr$i" "mpr$i@example.org"
    done | kd_ldapadd || return 1
    kd_check "provider 2 has the $N users" kd_wait 30 same_on_both || return 1
    tool_start "$dir/sync1.log"
    kd_check "initial refresh ends" kd_wait 30 refresh_ended "$dir/sync1.log" ||
        return 1
    kd_check "store has the $N users" kd_wait 30 store_count $N || return 1
    echo "cookie after the initial refresh: $(ks_store_cookie "$store")"
    # one change on each provider, provider 2 last: a consumer that keeps
    # only the last persist cookie now holds SID 002 alone
    set_mail_ldif mpr1 "p1-mpr1@example.org" | kd_ldapmodify || return 1
    kd_check "a change on provider 1 arrives" \
        kd_wait 30 ks_store_has "$store" p1-mpr1@example.org || return 1
    set_mail_ldif mpr2 "p2-mpr2@example.org" | kd_ldapmodify2 || return 1
    kd_check "a change on provider 2 arrives (through provider 1)" \
        kd_wait 30 ks_store_has "$store" p2-mpr2@example.org || return 1
    echo "cookie after the persist changes: $(ks_store_cookie "$store")"
    kd_check "the stored cookie names CSNs of SIDs 001 and 002" \
        cookie_has_both_sids
}

s2_reconnect_is_a_delete_phase() {
    local mark phase rc=0
    kd_check "the consumer stops on SIGTERM" tool_stop || return 1
    echo "cookie at the stop: $(ks_store_cookie "$store")"
    # while the consumer is away: a delete on provider 2, a modify on 1
    delete_ldif mpr3 | kd_ldapmodify2 || return 1
    set_mail_ldif mpr4 "p1-mpr4@example.org" | kd_ldapmodify || return 1
    kd_check "both providers agree again" kd_wait 30 same_on_both || return 1
    mark=$(wc -l <"$SLAPD_LOG")
    tool_start "$dir/sync2.log"
    kd_check "the reconnect refresh ends" \
        kd_wait 30 refresh_ended "$dir/sync2.log" || return 1
    kd_check "the delete made on provider 2 arrives" \
        kd_wait 30 ks_store_lacks "$store" mpr3@example.org || return 1
    kd_check "the modify made on provider 1 arrives" \
        kd_wait 30 ks_store_has "$store" p1-mpr4@example.org || return 1
    kd_check "the store equals an ldapsearch of the filter" \
        kd_wait 10 ks_matches "$store" || {
        diff "$dir/truth.txt" "$dir/store.txt" | head -20
        return 1
    }
    # the three below all run, so that a failure shows the whole picture
    grep -E 'refresh (done|ended)' "$dir/sync2.log"
    phase=$(refresh_phase "$dir/sync2.log")
    kd_check "the reconnect refresh was a delete phase (got: $phase)" \
        test "$phase" = delete || rc=1
    tail -n +$((mark + 1)) "$SLAPD_LOG" | grep -E 'cookie' | head -5 |
        cut -c1-300
    kd_check "slapd accepted the cookie (no 'missing a csn we track')" \
        sh -c "! tail -n +$((mark + 1)) '$SLAPD_LOG' |
            grep -q 'consumer cookie is missing a csn we track'" || rc=1
    echo "cookie after the reconnect: $(ks_store_cookie "$store")"
    kd_check "the stored cookie still names SIDs 001 and 002" \
        cookie_has_both_sids || rc=1
    return $rc
}

kd_scenario "s1 initial refresh and persist changes from both providers" \
    s1_initial_and_persist_from_both
kd_scenario "s2 the reconnect after writes on both is a delete phase" \
    s2_reconnect_is_a_delete_phase
[ -z "${kd_pid:-}" ] || tool_stop
kd_finish
