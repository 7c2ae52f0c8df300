#!/bin/bash
# test-slow-imap.sh -- a backend that accepts connections but never
# answers (the notes' "slow IMAP" case): the syncrepl reader keeps
# committing while the work for that backend waits, the LDAP connection
# stays up, and once the backend is a real one again everything converges.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init slow-imap
kd_sandbox_up
stall=$build/tests/integration/kd-stall-listen
people="ou=People,$BASE_DN"

"$stall" 300 >"$dir/stall.port" &
kd_pids+=("$!")
kd_wait 10 test -s "$dir/stall.port" || { echo "FAIL setup: no stub"; exit 1; }
stall_port=$(cat "$dir/stall.port")

good_conf=$(kd_conf kolabd)
kd_conf=$dir/stalled.conf
# backend2's servername stays configured, its URI points at the stub
sed "/^\[backend backend2\]/,/^\[/ s|^uri = .*|uri = imap://127.0.0.1:$stall_port\nservername = $BE2_SERVERNAME|" \
    "$good_conf" >"$kd_conf"

users_ldif() { # PREFIX N [EXTRA]
    local i
    for i in $(seq 1 "$2"); do
        printf 'dn: uid=%s%d,%s\nobjectClass: inetOrgPerson\n' "$1" "$i" "$people"
        printf 'objectClass: kolabInetOrgPerson\nuid: %s%d\ncn: x\nsn: x\n' "$1" "$i"
        printf 'mail: %s%d@example.org\n%s\n\n' "$1" "$i" "${3:-}"
    done
}

users_present() {
    kd_status "$kd_conf" | grep -q "\"users\":$1,"
}

s1_reader_keeps_committing() {
    kd_start "$kd_conf" "$dir/kolabd.log"
    kd_check "kolabd ready despite the silent backend" \
        kd_wait 90 grep -q 'ready' "$dir/kolabd.log" || return 1
    # all of them preset on the stalled backend: their work must wait
    users_ldif slow 100 "mailHost: $BE2_SERVERNAME" | kd_ldapadd || return 1
    kd_check "the reader stored all 100 while IMAP stalls" \
        kd_wait 20 users_present 100 || return 1
    kd_check "their work waits in the queue" \
        sh -c "[ \"\$('$kolabd' status --json -c '$kd_conf' | sed -n 's/.*\"queue\":{\"length\":\\([0-9]*\\).*/\\1/p')\" -ge 90 ]" ||
        return 1
    kd_check "the LDAP connection stays up" \
        sh -c "'$kolabd' status --json -c '$kd_conf' | grep -q '\"connected\":true'" ||
        return 1
    users_ldif more 20 | kd_ldapadd || return 1
    kd_check "later adds are stored too" kd_wait 20 users_present 120
}

s2_converges_with_a_real_backend() {
    kd_stop
    kd_start "$good_conf" "$dir/kolabd-good.log"
    kd_log=$dir/kolabd-good.log
    kd_check "everything converges once backend2 answers" \
        kd_wait 240 kd_converged "$good_conf" || return 1
    local n
    n=$("$where" -c "$good_conf" | grep -cE "^slow[0-9]+@example.org .* $BE2_SERVERNAME +$BE2_SERVERNAME +ok")
    kd_check "the 100 preset users are on backend2 ($n)" test "$n" = 100
}

kd_scenario "s1 the reader keeps committing while IMAP stalls" \
    s1_reader_keeps_committing
kd_scenario "s2 converges once the backend answers" \
    s2_converges_with_a_real_backend
kd_stop
kd_finish
