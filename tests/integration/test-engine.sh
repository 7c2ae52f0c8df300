#!/bin/bash
# test-engine.sh -- the engine under operators' conditions, against the
# sandbox murder: least-used placement of 200 users over both backends, a
# down backend gets nothing new, the mupdate master down while users are
# added, a non-ASCII shared folder path, delete_mode delayed with its
# grace, `kolabd resync` beside a running daemon, a dry run that leaves
# LDAP's contextCSN and the murder's mailbox list alone, and the
# single-server (no murder) mode. Each scenario uses its own names.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init engine
kd_sandbox_up
kd_conf=$(kd_conf kolabd)
people="ou=People,$BASE_DN"
shared="ou=Shared Folders,$BASE_DN"


# users PREFIX N: N users PREFIX1..PREFIXN @example.org
users() {
    local i
    for i in $(seq 1 "$2"); do
        user_ldif "$1$i" "$1$i@example.org"
    done
}

# on_backend SERVERNAME PREFIX: how many PREFIX* users kd-where puts there
on_backend() {
    "$where" -c "$kd_conf" | grep -E "^$2[0-9]+@example.org " |
        awk -v s="$1" '$3 == s' | wc -l
}

backend_down_in_status() {
    kd_status "$kd_conf" |
        grep -q "\"name\":\"$1\",\"servername\":\"[^\"]*\",\"mailboxes\":[0-9]*,\"up\":false"
}

e1_least_used() {
    users lu 200 | kd_ldapadd || return 1
    kd_check "200 users converge" kd_wait 240 kd_converged "$kd_conf" ||
        return 1
    local b1 b2
    b1=$(on_backend "$BE1_SERVERNAME" lu)
    b2=$(on_backend "$BE2_SERVERNAME" lu)
    echo "backend1 $b1, backend2 $b2"
    kd_check "all 200 placed" test $((b1 + b2)) = 200 || return 1
    # least-used fills the emptier backend first; the two backends held
    # nothing before this scenario, so they end within a few mailboxes
    kd_check "spread over both backends (|b1 - b2| <= 4)" \
        test $((b1 > b2 ? b1 - b2 : b2 - b1)) -le 4
}

e2_down_backend_gets_nothing() {
    "$sandbox" stop "$dir/sb" backend2 || return 1
    kd_check "status shows backend2 down" \
        kd_wait 40 backend_down_in_status backend2 || return 1
    users dn 10 | kd_ldapadd || return 1
    kd_check "the 10 new users converge on backend1" \
        kd_wait "$KD_WAIT" sh -c "[ \"\$('$where' -c '$kd_conf' | grep -cE '^dn[0-9]+@example.org .* $BE1_SERVERNAME +$BE1_SERVERNAME +ok')\" = 10 ]"
    local rc=$?
    "$sandbox" start "$dir/sb" backend2 || return 1
    return $rc
}

e3_mupdate_down() {
    local m=user/mu1@example.org
    "$sandbox" stop "$dir/sb" mupdate || return 1
    users mu 1 | kd_ldapadd || return 1
    sleep 4
    kd_check "nothing created while the mupdate master is down" \
        kd_no_mailbox "$kd_conf" "$m" || { "$sandbox" start "$dir/sb" mupdate; return 1; }
    kd_check "the work waits in the queue" \
        sh -c "[ \"\$('$kolabd' status --json -c '$kd_conf' | sed -n 's/.*\"queue\":{\"length\":\\([0-9]*\\).*/\\1/p')\" -gt 0 ]" ||
        { "$sandbox" start "$dir/sb" mupdate; return 1; }
    "$sandbox" start "$dir/sb" mupdate || return 1
    kd_check "created once the master is back" \
        kd_wait 90 kd_has_mailbox "$kd_conf" "$m" || return 1
    kd_check "converged" kd_wait "$KD_WAIT" kd_converged "$kd_conf"
}

e4_non_ascii_folder() {
    # kolabTargetFolder: shared/Projekte/Übersicht@example.org
    printf 'dn: cn=e4-folder,%s\nobjectClass: kolabSharedFolder\n' "$shared" |
        cat - <(printf 'cn: e4-folder\nkolabFolderType: mail\n') \
            <(printf 'kolabTargetFolder:: %s\n' \
                "$(printf 'shared/Projekte/\303\234bersicht@example.org' | base64 -w0)") \
            <(printf 'acl: anyone, lrs\n\n') | kd_ldapadd || return 1
    kd_check "created with its modified UTF-7 name" \
        kd_wait "$KD_WAIT" kd_has_mailbox "$kd_conf" \
        'shared/Projekte/&ANw-bersicht@example.org' || return 1
    kd_check "its parent with the domain (Cyrus 3.6.1 bug 3 workaround)" \
        kd_has_mailbox "$kd_conf" 'shared/Projekte@example.org' || return 1
    kd_check "kd-where decodes it back" \
        sh -c "'$where' -c '$kd_conf' | grep -q 'shared/Projekte/Übersicht@example.org .* ok'" ||
        return 1
    kd_check "converged" kd_wait "$KD_WAIT" kd_converged "$kd_conf"
}

e5_delayed_delete() {
    local m=user/dd1@example.org conf
    conf=$(KD_CONF_DELETE_MODE=delayed kd_conf kolabd-delayed) || return 1
    sed -i 's/^delete_mode = delayed$/delete_mode = delayed\ndelete_grace = 12s/' \
        "$conf"
    kd_stop
    kd_start "$conf" "$dir/kolabd-delayed.log"
    users dd 1 | kd_ldapadd || return 1
    kd_check "created" kd_wait "$KD_WAIT" kd_converged "$conf" || return 1
    printf 'dn: uid=dd1,%s\nchangetype: delete\n\n' "$people" |
        kd_ldapmodify || return 1
    sleep 5
    kd_check "still there within the grace period" \
        kd_has_mailbox "$conf" "$m" || return 1
    kd_check "deleted after the grace period" \
        kd_wait 60 kd_no_mailbox "$conf" "$m" || return 1
    kd_stop
    kd_start "$kd_conf" "$dir/kolabd.log"
}

e6_resync_beside_daemon() {
    local rc=0
    users rb 30 | kd_ldapadd || return 1
    "$kolabd" resync -c "$kd_conf" >"$dir/resync-beside.out" 2>&1 || rc=$?
    tail -3 "$dir/resync-beside.out"
    kd_check "resync exits 0 or 1 (work left to the daemon), not $rc" \
        test "$rc" -le 1 || return 1
    kd_check "converged" kd_wait 120 kd_converged "$kd_conf" || return 1
    kd_check "no failing or held work" \
        sh -c "'$kolabd' status --json -c '$kd_conf' | grep -q '\"held\":0,\"failing\":0'" ||
        return 1
    local n
    n=$("$where" -c "$kd_conf" | grep -cE '^rb[0-9]+@example.org .* ok$')
    kd_check "all 30 users right ($n)" test "$n" = 30
}

context_csn() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$ROOT_DN" \
        -y "$ROOT_PW_FILE" -b "$BASE_DN" -s base contextCSN |
        sed -n 's/^contextCSN: //p'
}

e7_dry_run_changes_nothing() {
    local csn1 csn2 list1 list2 rc=0
    kd_stop
    printf 'dn: uid=lu1,%s\nchangetype: modify\nreplace: mailHost\nmailHost: wrong.example.org\n\n' \
        "$people" | kd_ldapmodify || return 1
    sleep 1
    csn1=$(context_csn)
    list1=$(kd_probe "$kd_conf" list '*' | sort | md5sum)
    "$kolabd" resync --dry-run --json -c "$kd_conf" >"$dir/dry.json" 2>&1 ||
        rc=$?
    cat "$dir/dry.json" | tail -1 | cut -c1-300
    csn2=$(context_csn)
    list2=$(kd_probe "$kd_conf" list '*' | sort | md5sum)
    kd_check "dry run exits 1 on drift" test "$rc" = 1 || return 1
    kd_check "it reports the wrong mailHost" \
        grep -q '"steps":"mailhost","object":"lu1@example.org"' "$dir/dry.json" ||
        return 1
    kd_check "contextCSN unchanged ($csn1)" test -n "$csn1" -a "$csn1" = "$csn2" ||
        return 1
    kd_check "the murder's mailbox list unchanged" test "$list1" = "$list2" ||
        return 1
    kd_check "the wrong mailHost is still there" \
        test "$(kd_mailhost "uid=lu1,$people")" = wrong.example.org || return 1
    kd_start "$kd_conf" "$dir/kolabd.log"
    kd_check "the daemon repairs it" kd_wait "$KD_WAIT" kd_converged "$kd_conf"
}

e8_single_server() {
    local conf m=user/solo1@example.org
    if ! "$sandbox" up --single --watch-pid $$ "$dir/sb1" >"$dir/sb1-up.log" 2>&1; then
        cat "$dir/sb1-up.log"
        return 1
    fi
    conf=$dir/single.conf
    KD_TOP_BUILDDIR=$build "$src/tests/demo/kd-conf" "$dir/sb1" \
        "$dir/state1" >"$conf" || return 1
    "$kolabd" -f -c "$conf" 2>>"$dir/kolabd-single.log" &
    local pid=$!
    kd_pids+=("$pid")
    printf 'dn: uid=solo1,ou=People,%s\nobjectClass: inetOrgPerson\nobjectClass: kolabInetOrgPerson\nuid: solo1\ncn: solo1\nsn: solo1\nmail: solo1@example.org\n\n' \
        "$BASE_DN" | "$sandbox" ldapadd "$dir/sb1" >>"$dir/ldap.log" 2>&1 ||
        return 1
    local servername
    servername=$(. "$dir/sb1/sandbox.env" && echo "$IMAP_SERVERNAME")
    kd_check "converged without a murder" \
        kd_wait "$KD_WAIT" sh -c "'$kolabd' status --json -c '$conf' | grep -q '\"queue\":{\"length\":0' && '$where' -c '$conf' --quiet" ||
        { tail -20 "$dir/kolabd-single.log"; return 1; }
    kd_check "mailbox on the single server" kd_has_mailbox "$conf" "$m" ||
        return 1
    local mh
    # shellcheck disable=SC1091
    mh=$(. "$dir/sb1/sandbox.env" &&
        ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$ROOT_DN" \
            -y "$ROOT_PW_FILE" -b "uid=solo1,ou=People,$BASE_DN" -s base \
            mailHost | sed -n 's/^mailHost: //p')
    kd_check "mailHost is the server's servername ($mh)" \
        test "$mh" = "$servername"
    kill -TERM "$pid"
    kd_wait_pid "$pid"
    "$sandbox" down "$dir/sb1" >/dev/null 2>&1
}

e9_sigusr1_reconnects() {
    local before
    before=$(grep -c 'SIGUSR1: reconnecting' "$kd_log" || true)
    kill -USR1 "$kd_pid"
    kd_check "kolabd logs the reconnect" \
        kd_wait 10 sh -c "[ \$(grep -c 'SIGUSR1: reconnecting' '$kd_log') -gt $before ]" ||
        return 1
    kd_check "sync connected again" \
        kd_wait 20 sh -c "'$kolabd' status --json -c '$kd_conf' | grep -q '\"connected\":true'" ||
        return 1
    users us 3 | kd_ldapadd || return 1
    kd_check "new users provisioned after the reconnect" \
        kd_wait "$KD_WAIT" kd_converged "$kd_conf"
}

kd_start "$kd_conf" "$dir/kolabd.log"
kd_scenario "e1 least-used spreads 200 users over both backends" e1_least_used
kd_scenario "e2 a down backend gets nothing new" e2_down_backend_gets_nothing
kd_scenario "e3 mupdate master down, then back" e3_mupdate_down
kd_scenario "e4 non-ASCII shared folder path" e4_non_ascii_folder
kd_scenario "e5 delete_mode delayed honours the grace" e5_delayed_delete
kd_scenario "e6 resync beside the running daemon" e6_resync_beside_daemon
kd_scenario "e7 resync --dry-run changes nothing" e7_dry_run_changes_nothing
kd_scenario "e8 single server, no murder" e8_single_server
kd_scenario "e9 SIGUSR1 reconnects and work goes on" e9_sigusr1_reconnects
kd_stop
kd_finish
