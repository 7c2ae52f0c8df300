# lib-sync.sh -- shared helpers for the shell tests that run the syncrepl
# consumer on its own (tests/integration/kd-sync-tool) against a sandbox
# slapd. Source it after lib-kolabd.sh and kd_init, and after sourcing the
# sandbox's sandbox.env. Users live under $people and match $ks_filter
# (KD_TEST_FILTER of syncrepl-common.h). Set ks_in (an array, e.g.
# (ip netns exec NS)) to run the LDAP client commands elsewhere.
# shellcheck shell=bash

ks_tool=$build/tests/integration/kd-sync-tool
[ -x "$ks_tool" ] || { echo "FAIL setup: $ks_tool not built"; exit 1; }
for p in ldapsearch sqlite3; do
    command -v "$p" >/dev/null || { echo "FAIL setup: $p not found"; exit 1; }
done
people="ou=People,$BASE_DN"
ks_filter="(&(objectClass=inetOrgPerson)(mail=*))"
ks_in=()

# "uuid-hex mail" lines of what LDAP holds, sorted
ks_ldap_truth() {
    "${ks_in[@]}" ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" \
        -D "$SERVICE_DN" -y "$SERVICE_PW_FILE" -b "$people" "$ks_filter" \
        entryUUID mail |
        awk '/^entryUUID: / { u = $2; gsub("-", "", u) }
             /^mail: / { m = tolower($2) }
             /^$/ { if (u != "") print u, m; u = ""; m = "" }
             END { if (u != "") print u, m }' | sort
}

# ks_store_objects STORE: the same lines for the store's present objects
ks_store_objects() {
    sqlite3 -readonly "$1" \
        "SELECT lower(hex(uuid)) || ' ' || lower(mail) FROM objects
         WHERE present = 1;" | sort
}

# ks_store_cookie STORE
ks_store_cookie() {
    sqlite3 -readonly "$1" "SELECT CAST(cookie AS TEXT) FROM sync_state;"
}

# ks_store_has STORE MAIL: a present object has this mail
ks_store_has() {
    sqlite3 -readonly "$1" "SELECT mail FROM objects WHERE present = 1" |
        grep -qix "$2"
}

# ks_matches STORE: the store's objects equal LDAP's (non-empty); leaves
# $dir/truth.txt and $dir/store.txt for diagnostics
ks_matches() {
    ks_ldap_truth >"$dir/truth.txt" && ks_store_objects "$1" >"$dir/store.txt" &&
        [ -s "$dir/truth.txt" ] && cmp -s "$dir/truth.txt" "$dir/store.txt"
}

# ks_count LOG PATTERN: lines of LOG matching the ERE
ks_count() {
    grep -cE "$2" "$1" 2>/dev/null || true
}

# ks_log_more LOG N PATTERN: more than N lines match
ks_log_more() {
    [ "$(ks_count "$1" "$3")" -gt "$2" ]
}

# ks_start LOG STORE URI [kd-sync-tool options...]: starts a persist
# consumer in the background (bound as the service DN, base $people);
# sets ks_pid and registers it for cleanup.
ks_start() {
    local log=$1 store=$2 uri=$3
    shift 3
    G_MESSAGES_DEBUG=all "${ks_in[@]}" "$ks_tool" --uri "$uri" \
        --bind-dn "$SERVICE_DN" --pw-file "$SERVICE_PW_FILE" \
        --base "$people" --store "$store" "$@" >"$log" 2>&1 &
    ks_pid=$!
    kd_pids+=("$ks_pid")
}

ks_now() { date +%s.%N; }
ks_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
