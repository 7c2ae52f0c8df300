# lib-sync.sh -- shared helpers for the shell tests that run the syncrepl
# consumer on its own (tests/integration/kd-sync-tool) against a sandbox
# slapd. Source it after lib-kolabd.sh and kd_init, and after sourcing the
# sandbox's sandbox.env. Users live under $people and match $ks_filter
# (KD_TEST_FILTER of syncrepl-common.h, the tool's default filter).
#
# Two arrays (empty by default, set them after sourcing) say where commands
# run, e.g. in network namespaces:
#   ks_in       prefix of the LDAP client commands (ldapsearch), e.g.
#               (ip netns exec NS-OF-SLAPD)
#   ks_tool_in  prefix of the consumer started by ks_start; it must exec
#               its arguments (as `ip netns exec` does) so that $ks_pid is
#               the tool's own pid (ks_is_tool checks it)
# shellcheck shell=bash

ks_tool=$build/tests/integration/kd-sync-tool
[ -x "$ks_tool" ] || { echo "FAIL setup: $ks_tool not built"; exit 1; }
for p in ldapsearch sqlite3; do
    command -v "$p" >/dev/null || { echo "FAIL setup: $p not found"; exit 1; }
done
people="ou=People,$BASE_DN"
ks_filter="(&(objectClass=inetOrgPerson)(mail=*))"
ks_in=()
ks_tool_in=()

# ks_ldap_truth [URI]: "uuid-hex mail" lines (lower case, uuid without
# dashes) of the entries under $people matching $ks_filter, sorted, as the
# service DN sees them on URI (default $LDAP_URI). Fails when ldapsearch
# fails.
ks_ldap_truth() {
    local -
    set -o pipefail
    "${ks_in[@]}" ldapsearch -x -LLL -o ldif-wrap=no -H "${1:-$LDAP_URI}" \
        -D "$SERVICE_DN" -y "$SERVICE_PW_FILE" -b "$people" "$ks_filter" \
        entryUUID mail |
        awk '/^dn: / { u = ""; m = "" }
             /^entryUUID: / { u = tolower($2); gsub("-", "", u) }
             /^mail: / { m = tolower($2) }
             /^$/ { if (u != "") print u, m; u = ""; m = "" }
             END { if (u != "") print u, m }' | sort
}

# ks_store_objects STORE: the same lines for the store's present objects;
# the mail as stored (kolabd stores it in lower case), so that the lines
# equal LDAP's only if it did
ks_store_objects() {
    sqlite3 -readonly "$1" \
        "SELECT lower(hex(uuid)) || ' ' || mail FROM objects
         WHERE present = 1;" | sort
}

# ks_store_cookie STORE: the stored cookie as text (empty if none)
ks_store_cookie() {
    sqlite3 -readonly "$1" \
        "SELECT CAST(cookie AS TEXT) FROM sync_state WHERE id = 1;" 2>/dev/null
}

# ks_store_mail_count STORE MAIL: prints how many present objects have
# exactly this mail (whole value, case-sensitive); fails, printing
# nothing, when the store cannot be read
ks_store_mail_count() {
    local mails
    mails=$(sqlite3 -readonly "$1" \
        "SELECT mail FROM objects WHERE present = 1;" 2>/dev/null) ||
        return 1
    printf '%s\n' "$mails" | grep -cxF -- "$2"
}

# ks_store_has STORE MAIL: exactly one present object has this mail
ks_store_has() {
    [ "$(ks_store_mail_count "$1" "$2")" = 1 ]
}

# ks_store_lacks STORE MAIL: the store is readable and no present object
# has this mail
ks_store_lacks() {
    [ "$(ks_store_mail_count "$1" "$2")" = 0 ]
}

# ks_matches STORE: the store's objects equal LDAP's (non-empty); leaves
# $dir/truth.txt and $dir/store.txt for diagnostics
ks_matches() {
    ks_ldap_truth "$LDAP_URI" >"$dir/truth.txt" &&
        ks_store_objects "$1" >"$dir/store.txt" && [ -s "$dir/truth.txt" ] &&
        cmp -s "$dir/truth.txt" "$dir/store.txt"
}

# ks_count LOG PATTERN: prints how many lines of LOG match the ERE
ks_count() {
    grep -cE "$2" "$1" 2>/dev/null || true
}

# ks_log_more LOG N PATTERN: more than N lines match
ks_log_more() {
    [ "$(ks_count "$1" "$3")" -gt "$2" ]
}

# ks_start LOG STORE URI [kd-sync-tool options...]: starts a persist
# consumer in the background (through ks_tool_in; bound as the service DN,
# base $people, the default filter; GLib debug messages on), stdout and
# stderr to LOG; sets ks_pid and registers it for cleanup (kd_pids).
ks_start() {
    local log=$1 store=$2 uri=$3
    shift 3
    G_MESSAGES_DEBUG=all "${ks_tool_in[@]}" "$ks_tool" --uri "$uri" \
        --bind-dn "$SERVICE_DN" --pw-file "$SERVICE_PW_FILE" \
        --base "$people" --store "$store" "$@" >"$log" 2>&1 &
    ks_pid=$!
    kd_pids+=("$ks_pid")
}

# ks_is_tool PID: PID's executable is kd-sync-tool (not a wrapper that
# merely names it in its arguments)
ks_is_tool() {
    [ "$(readlink -f "/proc/$1/exe" 2>/dev/null)" = \
        "$(readlink -f "$ks_tool")" ]
}

# ks_stop PID: SIGTERM to a consumer from ks_start; true if it exited by
# itself within 15 s (else it is killed). Either way PID leaves kd_pids, so
# the cleanup never signals a pid that may have been reused.
ks_stop() {
    local p=$1 rc=0 i
    kd_is_child "$p" && kill -TERM "$p" 2>/dev/null || rc=1
    kd_wait_pid "$p" || rc=1
    for i in "${!kd_pids[@]}"; do
        [ "${kd_pids[$i]}" = "$p" ] && unset "kd_pids[$i]"
    done
    return $rc
}

# ks_now: the time in seconds (with fraction); ks_secs T0 T1: T1 - T0 to
# one decimal
ks_now() { date +%s.%N; }
ks_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
