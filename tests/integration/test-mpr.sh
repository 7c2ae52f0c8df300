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
tool=$build/tests/integration/kd-sync-tool
[ -x "$tool" ] || { echo "FAIL setup: $tool not built"; exit 1; }
command -v sqlite3 >/dev/null || { echo "FAIL setup: no sqlite3"; exit 1; }
if ! "$sandbox" up --no-cyrus --mpr --watch-pid $$ "$dir/sb" \
    >"$dir/sandbox-up.log" 2>&1; then
    echo "FAIL setup: kd-sandbox up --no-cyrus --mpr failed:"
    cat "$dir/sandbox-up.log"
    exit 1
fi
. "$dir/sb/sandbox.env"
[ -n "${LDAP2_URI:-}" ] || { echo "FAIL setup: no LDAP2_URI"; exit 1; }

filter='(&(objectClass=inetOrgPerson)(mail=*))'
store=$dir/store.db
people="ou=People,$BASE_DN"
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

# search URI [ATTRS...]: the filter's entries, "uuid-without-dashes mail"
# (lower case) per line, sorted.
truth() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$1" -D "$ROOT_DN" \
        -y "$ROOT_PW_FILE" -b "$BASE_DN" "$filter" entryUUID mail |
        awk '/^dn: / { u = ""; m = "" }
             /^entryUUID: / { u = $2; gsub("-", "", u) }
             /^mail: / { m = $2 }
             /^$/ && u != "" { print tolower(u) " " tolower(m); u = "" }
             END { if (u != "") print tolower(u) " " tolower(m) }' |
        sort
}

store_present() {
    sqlite3 -readonly "$store" "SELECT lower(hex(uuid)) || ' ' || mail
        FROM objects WHERE present = 1" 2>/dev/null | sort
}

store_has_mail() { # MAIL
    [ "$(sqlite3 -readonly "$store" "SELECT count(*) FROM objects
        WHERE present = 1 AND mail = '$1'" 2>/dev/null)" = 1 ]
}

store_lacks_mail() { # MAIL
    [ "$(sqlite3 -readonly "$store" "SELECT count(*) FROM objects
        WHERE present = 1 AND mail = '$1'" 2>/dev/null)" = 0 ]
}

store_count() {
    [ "$(sqlite3 -readonly "$store" \
        "SELECT count(*) FROM objects WHERE present = 1" 2>/dev/null)" = "$1" ]
}

stored_cookie() {
    sqlite3 -readonly "$store" \
        "SELECT CAST(cookie AS TEXT) FROM sync_state WHERE id = 1" 2>/dev/null
}

# The SIDs (third field of each CSN) in the stored cookie, sorted.
cookie_sids() {
    stored_cookie | grep -oE '[0-9]{14}\.[0-9]{6}Z#[0-9a-f]{6}#[0-9a-f]{3}#' |
        cut -d'#' -f3 | sort -u | tr '\n' ' '
}

cookie_has_both_sids() {
    local s
    s=$(cookie_sids)
    [[ " $s" == *" 001 "* ]] && [[ " $s" == *" 002 "* ]]
}

same_on_both() {
    [ "$(truth "$LDAP_URI")" = "$(truth "$LDAP2_URI")" ]
}

store_equals_truth() {
    [ "$(truth "$LDAP_URI")" = "$(store_present)" ]
}

# tool_start LOG: the consumer in persist mode against provider 1 only
# (GLib writes info and debug messages to stdout, warnings to stderr).
tool_start() {
    G_MESSAGES_DEBUG=all "$tool" --uri "$LDAP_URI" --bind-dn "$SERVICE_DN" \
        --pw-file "$SERVICE_PW_FILE" --base "$BASE_DN" --store "$store" \
        --filter "$filter" >"$1" 2>&1 &
    kd_pid=$!
    kd_pids+=("$kd_pid")
    kd_log=$1
}

# tool_stop: SIGTERM; true if the consumer exited by itself within 15 s.
tool_stop() {
    local p=$kd_pid rc=0 i
    kill -TERM "$p" 2>/dev/null || return 1
    kd_wait_pid "$p" || rc=1
    # waited for: never signal that pid again (it may be reused)
    for i in "${!kd_pids[@]}"; do
        [ "${kd_pids[$i]}" = "$p" ] && unset "kd_pids[$i]"
    done
    kd_pid=
    return $rc
}

# refresh_ended LOG: the refresh at the start of this run has ended.
refresh_ended() {
    grep -qE 'sync: refresh (done|ended)' "$1"
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
    echo "# ---- stored cookie: $(stored_cookie)"
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
    echo "cookie after the initial refresh: $(stored_cookie)"
    # one change on each provider, provider 2 last: a consumer that keeps
    # only the last persist cookie now holds SID 002 alone
    set_mail_ldif mpr1 "p1-mpr1@example.org" | kd_ldapmodify || return 1
    kd_check "a change on provider 1 arrives" \
        kd_wait 30 store_has_mail "p1-mpr1@example.org" || return 1
    set_mail_ldif mpr2 "p2-mpr2@example.org" | kd_ldapmodify2 || return 1
    kd_check "a change on provider 2 arrives (through provider 1)" \
        kd_wait 30 store_has_mail "p2-mpr2@example.org" || return 1
    echo "cookie after the persist changes: $(stored_cookie)"
    kd_check "the stored cookie names CSNs of SIDs 001 and 002" \
        cookie_has_both_sids
}

s2_reconnect_is_a_delete_phase() {
    local mark phase rc=0
    kd_check "the consumer stops on SIGTERM" tool_stop || return 1
    echo "cookie at the stop: $(stored_cookie)"
    # while the consumer is away: a delete on provider 2, a modify on 1
    delete_ldif mpr3 | kd_ldapmodify2 || return 1
    set_mail_ldif mpr4 "p1-mpr4@example.org" | kd_ldapmodify || return 1
    kd_check "both providers agree again" kd_wait 30 same_on_both || return 1
    mark=$(wc -l <"$SLAPD_LOG")
    tool_start "$dir/sync2.log"
    kd_check "the reconnect refresh ends" \
        kd_wait 30 refresh_ended "$dir/sync2.log" || return 1
    kd_check "the delete made on provider 2 arrives" \
        kd_wait 30 store_lacks_mail mpr3@example.org || return 1
    kd_check "the modify made on provider 1 arrives" \
        kd_wait 30 store_has_mail "p1-mpr4@example.org" || return 1
    kd_check "the store equals an ldapsearch of the filter" \
        kd_wait 10 store_equals_truth || {
        diff <(truth "$LDAP_URI") <(store_present) | head -20
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
    echo "cookie after the reconnect: $(stored_cookie)"
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
