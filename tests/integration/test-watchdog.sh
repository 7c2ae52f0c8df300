#!/bin/bash
# test-watchdog.sh -- the "hung provider" cases of issue #3: a provider
# that keeps the TCP connection alive but sends nothing. TCP keepalive
# cannot see it (the peer's kernel answers the probes); only the contextCSN
# watchdog (kolabd/ldap-sync-watchdog.h) can. Each scenario runs two
# consumers (tests/integration/kd-sync-tool) side by side: W with the
# watchdog every 2 s, N without it, so the test shows what the watchdog
# adds rather than assuming it.
#
# w1 wedged connection: both consumers reach slapd through
#    kd-freeze-proxy; SIGUSR1 freezes the open connections (silent, still
#    ACKed), then a user is added on slapd. W must notice (contextCSN ahead,
#    no message), reconnect through the proxy and get the user from its
#    cookie; N must still lack it.
# w2 hung slapd: kill -STOP slapd. W's contextCSN read times out, so it
#    drops the search and shows "not connected" with the reason; N still
#    believes it is connected. After kill -CONT both get a new user, W
#    from its cookie.
# w3 a delete outside the search base moves contextCSN but slapd sends
#    nothing for it: W's probe (a refresh from its cookie on a second
#    connection) finds no change, so W keeps its search.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init watchdog
proxy=$build/tests/integration/kd-freeze-proxy
[ -x "$proxy" ] || { echo "FAIL setup: $proxy not built"; exit 1; }
slapd_stopped=

wd_cleanup() {
    local rc=$?
    # a stopped slapd would ignore the sandbox's SIGTERM
    [ -z "$slapd_stopped" ] || kill -CONT "$SLAPD_PID" 2>/dev/null
    (exit "$rc")
    kd_cleanup
}
trap wd_cleanup EXIT

kd_sandbox_up --no-cyrus
. "$src/tests/integration/lib-sync.sh"
interval=2
opts=(--ldap-timeout 2 --backoff-max-ms 1000)

for i in $(seq 1 20); do
    user_ldif "wd$i" "wd$i@example.org"
done | kd_ldapadd || { echo "FAIL setup: cannot add users"; exit 1; }

kd_diag() {
    local f
    for f in "$dir"/*.log; do
        case $f in */ldap.log | */sandbox-up.log) continue ;; esac
        echo "# ---- $f (last 25 lines)"
        tail -25 "$f" 2>/dev/null | sed 's/^/# /'
    done
    echo "# ---- store vs LDAP"
    diff "$dir/truth.txt" "$dir/store.txt" 2>&1 | head -20 | sed 's/^/# /'
    echo "# ---- kd-sandbox logs"
    "$sandbox" logs "$dir/sb" 15 2>&1 | sed 's/^/# /'
}

# sync_status STORE: "connected|last_error" as the consumer recorded it
sync_status() {
    sqlite3 -readonly "$1" "SELECT connected, last_error FROM sync_state;"
}

# disconnected_with_reason STORE: connected = 0 and a last error that
# names the timeout
disconnected_with_reason() {
    sync_status "$1" | grep -qE '^0\|.*(contextCSN|[Tt]imed out|timeout)'
}

# start_pair NAME URI: consumers W (watchdog) and N (none) on URI, both
# through their first refresh and equal to LDAP.
start_pair() {
    ks_start "$dir/$1-w.log" "$dir/$1-w.db" "$2" \
        --watchdog-interval "$interval" "${opts[@]}"
    w_pid=$ks_pid
    ks_start "$dir/$1-n.log" "$dir/$1-n.db" "$2" \
        --watchdog-interval 0 "${opts[@]}"
    n_pid=$ks_pid
    kd_check "W refreshed" \
        kd_wait 20 ks_log_more "$dir/$1-w.log" 0 'sync: refresh complete' &&
        kd_check "N refreshed" \
            kd_wait 20 ks_log_more "$dir/$1-n.log" 0 'sync: refresh complete' &&
        kd_check "W == LDAP" kd_wait 10 ks_matches "$dir/$1-w.db" &&
        kd_check "N == LDAP" kd_wait 10 ks_matches "$dir/$1-n.db"
}

stop_pair() {
    ks_stop "$w_pid"
    ks_stop "$n_pid"
}

w1_wedged_connection() {
    local port t0 t1 w=$dir/w1-w.log
    "$proxy" --target "$LDAP_PORT" --port-file "$dir/proxy.port" \
        2>"$dir/proxy.err" &
    proxy_pid=$!
    kd_pids+=("$proxy_pid")
    kd_check "the proxy listens" kd_wait 5 test -s "$dir/proxy.port" ||
        return 1
    port=$(cat "$dir/proxy.port")
    start_pair w1 "ldap://127.0.0.1:$port/" || return 1
    kill -USR1 "$proxy_pid"
    sleep 0.5
    user_ldif wd21 wd21@example.org | kd_ldapadd || return 1
    t0=$(ks_now)
    kd_check "W gets the add made behind the wedged connection (<= 20 s)" \
        kd_wait 20 ks_store_has "$dir/w1-w.db" wd21@example.org || return 1
    t1=$(ks_now)
    echo "# W had it $(ks_secs "$t0" "$t1") s after the add (interval ${interval} s)"
    kd_check "W says why it reconnected" \
        ks_log_more "$w" 0 'watchdog on .*contextCSN .* ahead of our cookie' ||
        return 1
    grep -m1 'watchdog on' "$w" | sed 's/^/# /'
    kd_check "W's new search started with a cookie" \
        ks_log_more "$w" 0 'started with a cookie' || return 1
    kd_check "W never searched without a cookie after its first refresh" \
        test "$(ks_count "$w" 'started without a cookie')" = 1 || return 1
    kd_check "W's catch-up was a delete phase from its cookie" \
        ks_log_more "$w" 0 'refresh done: delete phase \(with a cookie\)' ||
        return 1
    kd_check "W == LDAP" kd_wait 10 ks_matches "$dir/w1-w.db" || return 1
    kd_check "N (no watchdog) still lacks the user" \
        sh -c "! sqlite3 -readonly '$dir/w1-n.db' \
               'SELECT mail FROM objects' | grep -qx wd21@example.org" ||
        return 1
    kd_check "N noticed nothing" \
        test "$(ks_count "$dir/w1-n.log" 'lost|retrying|watchdog')" = 0 ||
        return 1
    stop_pair
    kill -TERM "$proxy_pid"
    kd_wait_pid "$proxy_pid"
}

w2_hung_slapd() {
    local t0 t1 w=$dir/w2-w.log n_with
    start_pair w2 "$LDAP_URI" || return 1
    n_with=$(ks_count "$w" 'started with a cookie')
    kill -STOP "$SLAPD_PID" && slapd_stopped=1
    t0=$(ks_now)
    kd_check "W finds slapd not answering (<= 20 s)" \
        kd_wait 20 ks_log_more "$w" 0 'does not answer a contextCSN read' ||
        return 1
    t1=$(ks_now)
    echo "# noticed after $(ks_secs "$t0" "$t1") s:"
    grep -m1 'does not answer' "$w" | sed 's/^/# /'
    kd_check "W keeps retrying, bounded" \
        kd_wait 20 ks_log_more "$w" 1 'retrying in [0-9]+ ms' || return 1
    kd_check "W's store says not connected, with the reason" \
        kd_wait 10 disconnected_with_reason "$dir/w2-w.db" || return 1
    sync_status "$dir/w2-w.db" | sed 's/^/# W status: /'
    kd_check "N (no watchdog) still believes it is connected" \
        sh -c "sqlite3 -readonly '$dir/w2-n.db' \
               'SELECT connected FROM sync_state;' | grep -qx 1" || return 1
    kd_check "N noticed nothing" \
        test "$(ks_count "$dir/w2-n.log" 'lost|retrying|watchdog')" = 0 ||
        return 1
    kill -CONT "$SLAPD_PID" && slapd_stopped=
    user_ldif wd22 wd22@example.org | kd_ldapadd || return 1
    kd_check "W gets a user added after kill -CONT (<= 20 s)" \
        kd_wait 20 ks_store_has "$dir/w2-w.db" wd22@example.org || return 1
    kd_check "N gets it too (its connection resumes)" \
        kd_wait 20 ks_store_has "$dir/w2-n.db" wd22@example.org || return 1
    kd_check "W resumed from its cookie" \
        ks_log_more "$w" "$n_with" 'started with a cookie' || return 1
    kd_check "W never searched without a cookie after its first refresh" \
        test "$(ks_count "$w" 'started without a cookie')" = 1 || return 1
    kd_check "W == LDAP" kd_wait 10 ks_matches "$dir/w2-w.db" || return 1
    kd_check "N == LDAP" kd_wait 10 ks_matches "$dir/w2-n.db" || return 1
    kd_check "W is connected again" \
        kd_wait 10 sh -c "sqlite3 -readonly '$dir/w2-w.db' \
               'SELECT connected FROM sync_state;' | grep -qx 1" || return 1
    stop_pair
}

w3_delete_outside_the_search() {
    local w=$dir/w3-w.log
    start_pair w3 "$LDAP_URI" || return 1
    # slapd sends a newcookie for an add outside the base, but nothing at
    # all for a delete there: contextCSN moves past every cookie.
    printf 'dn: cn=wd-role,ou=Special Users,%s\nobjectClass: organizationalRole\ncn: wd-role\n\n' \
        "$BASE_DN" | kd_ldapadd || return 1
    sleep 1
    printf 'dn: cn=wd-role,ou=Special Users,%s\nchangetype: delete\n\n' \
        "$BASE_DN" | kd_ldapmodify || return 1
    kd_check "W's probe finds nothing behind the moved contextCSN (<= 20 s)" \
        kd_wait 20 ks_log_more "$w" 0 'writes this search does not see' ||
        return 1
    kd_check "so W did not reconnect" \
        test "$(ks_count "$w" 'watchdog on|retrying|started with a cookie')" = 0 ||
        return 1
    sleep $((3 * interval))
    kd_check "nor later (the CSN is accepted, not probed again)" \
        test "$(ks_count "$w" 'watchdog|retrying')" = 1 || return 1
    user_ldif wd23 wd23@example.org | kd_ldapadd || return 1
    kd_check "W's search still delivers" \
        kd_wait 10 ks_store_has "$dir/w3-w.db" wd23@example.org || return 1
    kd_check "W == LDAP" kd_wait 10 ks_matches "$dir/w3-w.db" || return 1
    stop_pair
}

kd_scenario "w1 wedged connection: only the watchdog catches up" \
    w1_wedged_connection
kd_scenario "w2 slapd stopped: the watchdog drops the search, CONT resumes" \
    w2_hung_slapd
kd_scenario "w3 a delete outside the search: probed, no reconnect" \
    w3_delete_outside_the_search
kd_finish
