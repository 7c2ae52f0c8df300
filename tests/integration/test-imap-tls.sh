#!/bin/bash
# test-imap-tls.sh -- kolabd against the sandbox murder over imaps:// only
# (`kd-sandbox up --tls`, `kd-conf --tls`: frontend by name, backends by
# IP, [cyrus-imap] tls_ca_file = the sandbox CA). check-config accepts it
# and, without the CA file, names each URI and "unknown issuer"; kolabd
# provisions users on both backends with mailHost = the backend's
# servername (its plain host:port, unchanged by TLS), and every admin
# LOGIN Cyrus logged came over TLS; without the mupdate master the
# locations come from the frontend, over TLS too. A daemon without the CA file keeps the
# work queued ("retrying", never held) and logs in nowhere; without
# configured servernames it does not even start, and says why. With
# [murder] mupdate_starttls = true kolabd asks the mupdate master over
# STARTTLS (the master logs "PLAIN+TLS" logins) and still provisions;
# without the CA file it never authenticates to the master. With IMAP
# STARTTLS the greeting comes in clear text, so kolabd will not take a
# backend's servername (mailHost) from it.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init imap-tls
kd_sandbox_up --tls
kd_conf=$dir/kolabd.conf
KD_TOP_BUILDDIR=$build "$src/tests/demo/kd-conf" --tls "$dir/sb" \
    "$dir/state" >"$kd_conf" || { echo "FAIL setup: kd-conf --tls"; exit 1; }
# the same, trusting only the system store (which lacks the sandbox CA)
sys_conf=$dir/kolabd-system-trust.conf
sed -e '/^tls_ca_file/d' -e "s|^state_dir = .*|state_dir = $dir/state-sys|" \
    "$kd_conf" >"$sys_conf"
# without the mupdate master kolabd asks the frontend (imaps://localhost)
fe_conf=$dir/kolabd-frontend.conf
sed -e '/^mupdate_/d' "$kd_conf" >"$fe_conf"
people="ou=People,$BASE_DN"

# Cyrus log lines of admin LOGINs on the IMAP nodes; $1: "tls" or "plain"
admin_logins() {
    local f
    for f in "$dir"/sb/cyrus/{backend1,backend2,frontend1}/log/syslog; do
        grep " login: .* $CYRUS_ADMIN " "$f" 2>/dev/null
    done | if [ "$1" = tls ]; then grep -c '+TLS '; else grep -vc '+TLS '; fi
}

# refuses_to_start CONF LOG ERE: kolabd exits non-zero at start (no
# timeout) and LOG matches ERE
refuses_to_start() {
    local rc
    timeout 30 "$kolabd" -f -c "$1" 2>"$2"
    rc=$?
    cat "$2"
    kd_check "kolabd does not start (exit $rc)" \
        [ "$rc" != 0 ] && [ "$rc" != 124 ] || return 1
    kd_check "and says why" grep -Eq "$3" "$2"
}

# add_servernames CONF: configure both backends' servernames
add_servernames() {
    sed -e "/^\[backend backend1\]/a servername = $BE1_SERVERNAME" \
        -e "/^\[backend backend2\]/a servername = $BE2_SERVERNAME" \
        "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

s1_check_config() {
    "$kolabd" check-config -c "$kd_conf" >"$dir/cc.out" 2>&1
    local rc=$?
    cat "$dir/cc.out"
    kd_check "check-config with the CA file exits 0" [ "$rc" = 0 ] || return 1
    kd_check "backend1 up with its plain servername" \
        grep -q "backend backend1: up, servername $BE1_SERVERNAME\$" \
        "$dir/cc.out" || return 1
    kd_check "frontend up (by name: SNI, DNS:localhost)" \
        grep -q "^frontend imaps://localhost:$FE_IMAPS_PORT: up\$" \
        "$dir/cc.out" || return 1
    "$kolabd" check-config -c "$sys_conf" >"$dir/cc-sys.out" 2>&1
    rc=$?
    cat "$dir/cc-sys.out"
    kd_check "check-config with the system store fails" [ "$rc" != 0 ] ||
        return 1
    kd_check "it names backend1's URI and the unknown issuer" \
        grep -q "imaps://127.0.0.1:$BE1_IMAPS_PORT: .*unknown issuer" \
        "$dir/cc-sys.out" || return 1
    kd_check "and backend2's" \
        grep -q "imaps://127.0.0.1:$BE2_IMAPS_PORT: .*unknown issuer" \
        "$dir/cc-sys.out" || return 1
    kd_check "and the frontend's" \
        grep -q "^frontend: DOWN: imaps://localhost:$FE_IMAPS_PORT: .*unknown issuer" \
        "$dir/cc-sys.out" || return 1
    # a "frontend" serving an expired certificate, one with another name
    sed -e "s|^frontend_uri = .*|frontend_uri = imaps://127.0.0.1:$EXPIRED_IMAPS_PORT|" \
        "$kd_conf" >"$dir/expired.conf"
    "$kolabd" check-config -c "$dir/expired.conf" >"$dir/cc-exp.out" 2>&1
    rc=$?
    cat "$dir/cc-exp.out"
    kd_check "check-config reports the expired certificate" \
        [ "$rc" != 0 ] && grep -q "^frontend: DOWN: imaps://127.0.0.1:$EXPIRED_IMAPS_PORT: server certificate rejected: certificate expired" \
        "$dir/cc-exp.out" || return 1
    sed -e "s|^frontend_uri = .*|frontend_uri = imaps://localhost:$BADNAME_IMAPS_PORT|" \
        "$kd_conf" >"$dir/badname.conf"
    "$kolabd" check-config -c "$dir/badname.conf" >"$dir/cc-name.out" 2>&1
    rc=$?
    cat "$dir/cc-name.out"
    kd_check "check-config reports the name mismatch" \
        [ "$rc" != 0 ] && grep -q "^frontend: DOWN: imaps://localhost:$BADNAME_IMAPS_PORT: server certificate rejected: name mismatch: localhost is not in the certificate (DNS:wrong.example.org)" \
        "$dir/cc-name.out"
}

is_backend_servername() {
    [ "$1" = "$BE1_SERVERNAME" ] || [ "$1" = "$BE2_SERVERNAME" ]
}

s2_provision() {
    local u m mh
    mkdir -p "$dir/state"
    kd_start "$kd_conf" "$dir/kolabd.log"
    for u in tls-a1 tls-a2 tls-a3 tls-a4; do
        user_ldif "$u" "$u@example.org"
    done | kd_ldapadd || { echo "ldapadd failed"; return 1; }
    kd_check "converged over imaps://" \
        kd_wait "$KD_WAIT" kd_converged "$kd_conf" || return 1
    "$where" -c "$kd_conf"
    declare -A seen=()
    for u in tls-a1 tls-a2 tls-a3 tls-a4; do
        m=user/$u@example.org
        kd_check "$m exists" kd_has_mailbox "$kd_conf" "$m" || return 1
        kd_check "$m has its Calendar" \
            kd_has_mailbox "$kd_conf" "user/$u/Calendar@example.org" ||
            return 1
        mh=$(kd_mailhost "uid=$u,$people")
        echo "$u: mailHost $mh"
        kd_check "mailHost of $u is a backend's plain servername" \
            is_backend_servername "$mh" || return 1
        seen[$mh]=1
    done
    kd_check "both backends got users (least-used placement)" \
        [ "${#seen[@]}" = 2 ] || return 1
    kd_check "admin LOGINs over TLS on the backends/frontend" \
        [ "$(admin_logins tls)" -gt 0 ] || return 1
    kd_check "no admin LOGIN without TLS" [ "$(admin_logins plain)" = 0 ] ||
        return 1
    "$where" -c "$fe_conf"
    kd_check "the frontend over imaps:// agrees on every location" \
        "$where" -c "$fe_conf" --quiet || return 1
    kd_check "the frontend logged the admin in over TLS" \
        grep -q " login: .* $CYRUS_ADMIN plaintext+TLS " \
        "$dir/sb/cyrus/frontend1/log/syslog"
}

s3_system_trust_daemon() {
    local before
    kd_stop
    before=$(admin_logins tls)
    mkdir -p "$dir/state-sys"
    # backends without a configured servername must greet at start: the
    # daemon refuses to start and names the URI and the unknown issuer
    refuses_to_start "$sys_conf" "$dir/kolabd-sys-start.log" \
        "imaps://127.0.0.1:($BE1_IMAPS_PORT|$BE2_IMAPS_PORT): server certificate rejected: unknown issuer" ||
        return 1
    # with servernames configured it runs and keeps the work queued
    add_servernames "$sys_conf" || return 1
    kd_start "$sys_conf" "$dir/kolabd-sys.log"
    user_ldif tls-b1 tls-b1@example.org | kd_ldapadd ||
        { echo "ldapadd failed"; return 1; }
    # placement finds no backend up for the new tls-b1; the mailboxes
    # kolabd finds in the murder fail on their backend's certificate
    kd_check "status shows work retrying with unknown issuer" \
        kd_wait "$KD_WAIT" sys_status_shows_tls || return 1
    "$kolabd" status -c "$sys_conf" 2>&1
    kd_check "nothing held" \
        [ "$(kd_status "$sys_conf" | sed -n 's/.*"queue":{"length":[0-9]*,"held":\([0-9]*\).*/\1/p')" = 0 ] ||
        return 1
    kd_check "no LOGIN reached Cyrus" [ "$(admin_logins tls)" = "$before" ] ||
        return 1
    kd_check "no admin LOGIN without TLS" [ "$(admin_logins plain)" = 0 ] ||
        return 1
    kd_check "the daemon log names the URI" \
        grep -Eq "imaps://127.0.0.1:($BE1_IMAPS_PORT|$BE2_IMAPS_PORT): server certificate rejected: unknown issuer" \
        "$dir/kolabd-sys.log" || return 1
    kd_stop
    kd_check "no mailbox for tls-b1" \
        kd_no_mailbox "$kd_conf" user/tls-b1@example.org
}

sys_status_shows_tls() {
    "$kolabd" status -c "$sys_conf" 2>/dev/null |
        grep -q "retrying uid=tls-a[1-4],.*unknown issuer"
}

# mupdate master log lines of logins; $1: "tls" or "all"
mupdate_logins() {
    grep " login: .* $MUPDATE_USER " "$dir/sb/cyrus/mupdate/log/syslog" |
        if [ "$1" = tls ]; then grep -c 'PLAIN+TLS '; else grep -c .; fi
}

s4_mupdate_starttls() {
    local u m mh before tls_conf=$dir/kolabd-mupdate-tls.conf
    kd_stop
    sed -e "/^\[murder\]/a mupdate_starttls = true" "$kd_conf" >"$tls_conf"
    kd_check "the master offers STARTTLS (tls_server_cert)" \
        grep -q "^tls_server_cert:" "$dir/sb/cyrus/mupdate/imapd.conf" ||
        return 1
    before=$(mupdate_logins tls)
    kd_start "$tls_conf" "$dir/kolabd-mupdate-tls.log"
    for u in tls-c1 tls-c2; do
        user_ldif "$u" "$u@example.org"
    done | kd_ldapadd || { echo "ldapadd failed"; return 1; }
    kd_check "converged with mupdate over STARTTLS" \
        kd_wait "$KD_WAIT" kd_converged "$tls_conf" || return 1
    for u in tls-c1 tls-c2; do
        m=user/$u@example.org
        kd_check "$m exists" kd_has_mailbox "$tls_conf" "$m" || return 1
        mh=$(kd_mailhost "uid=$u,$people")
        kd_check "mailHost of $u is a backend's servername ($mh)" \
            is_backend_servername "$mh" || return 1
    done
    kd_check "kd-where over mupdate STARTTLS agrees with the frontend" \
        "$where" -c "$tls_conf" --quiet || return 1
    grep " login: .*PLAIN+TLS" "$dir/sb/cyrus/mupdate/log/syslog" | tail -3
    kd_check "the master logged kolabd's logins over TLS" \
        [ "$(mupdate_logins tls)" -gt "$before" ] || return 1
    kd_stop
    # the system store only: the master is never authenticated to
    sed -e '/^tls_ca_file/d' "$tls_conf" >"$tls_conf.sys"
    before=$(mupdate_logins all)
    "$where" -c "$tls_conf.sys" >"$dir/where-sys.out" 2>&1
    cat "$dir/where-sys.out"
    kd_check "kd-where names the mupdate URI and the unknown issuer" \
        grep -q "mupdate://127.0.0.1:$MUPDATE_PORT: server certificate rejected: unknown issuer" \
        "$dir/where-sys.out" || return 1
    kd_check "and no login reached the master" \
        [ "$(mupdate_logins all)" = "$before" ]
}

# STARTTLS on the backends' plain ports: their greeting (with the
# servername that becomes mailHost) comes before TLS, so kolabd refuses to
# learn the servername from it; with servernames configured it provisions.
s5_imap_starttls() {
    local u=tls-d1 mh st_conf=$dir/kolabd-starttls.conf
    kd_stop
    sed -e "s|^uri = imaps://127.0.0.1:$BE1_IMAPS_PORT\$|uri = imap://127.0.0.1:$BE1_PORT|" \
        -e "s|^uri = imaps://127.0.0.1:$BE2_IMAPS_PORT\$|uri = imap://127.0.0.1:$BE2_PORT|" \
        -e "/^\[cyrus-imap\]/a starttls = true" \
        -e "s|^state_dir = .*|state_dir = $dir/state-st|" \
        "$kd_conf" >"$st_conf"
    mkdir -p "$dir/state-st"
    kd_check "backends by imap:// with starttls" \
        [ "$(grep -c "^uri = imap://127.0.0.1:" "$st_conf")" = 2 ] || return 1
    # without servernames: the greeting came before STARTTLS
    refuses_to_start "$st_conf" "$dir/kolabd-st-start.log" \
        "greets before STARTTLS, so its servername cannot be trusted" ||
        return 1
    add_servernames "$st_conf" || return 1
    kd_start "$st_conf" "$dir/kolabd-st.log"
    user_ldif "$u" "$u@example.org" | kd_ldapadd ||
        { echo "ldapadd failed"; return 1; }
    kd_check "with servernames it provisions over STARTTLS" \
        kd_wait "$KD_WAIT" kd_converged "$st_conf" || return 1
    mh=$(kd_mailhost "uid=$u,$people")
    kd_check "mailHost of $u is a configured servername ($mh)" \
        is_backend_servername "$mh" || return 1
    kd_check "no admin LOGIN without TLS" [ "$(admin_logins plain)" = 0 ] ||
        return 1
    kd_stop
}

kd_scenario "check-config over imaps://" s1_check_config
kd_scenario "provision over imaps://, mailHost unchanged" s2_provision
kd_scenario "system trust only: retried, nothing sent" s3_system_trust_daemon
kd_scenario "mupdate over STARTTLS" s4_mupdate_starttls
kd_scenario "IMAP STARTTLS: no servername from a clear-text greeting" \
    s5_imap_starttls
kd_finish
