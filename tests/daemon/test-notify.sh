#!/bin/bash
# test-notify: kolabd's sd_notify messages, received by a test-owned
# NOTIFY_SOCKET (kd-notify-listen):
#  - with slapd stopped, kolabd never sends READY=1: it exits non-zero at
#    once (the start-up LDAP bind check fails; it does not wait);
#  - with slapd up, READY=1 arrives (after the "ready" log line, i.e.
#    after the LDAP bind, store and engine start);
#  - SIGHUP gives RELOADING=1 (with MONOTONIC_USEC) and then READY=1;
#  - SIGTERM gives STOPPING=1 and exit 0 within 30 s.
set -uo pipefail
# shellcheck source=tests/daemon/lib-daemon.sh
. "$(dirname "$0")/lib-daemon.sh"
kd_setup

# 1. slapd down: no READY, kolabd gives up with a non-zero exit.
"$KD_SB" stop "$KD_DIR/sb" slapd >/dev/null 2>&1 ||
    kd_fail slapd-stop "kd-sandbox stop slapd failed"
kd_start_listener || kd_fail listener "kd-notify-listen did not bind"
kd_mark_log
kd_start
pid=$KD_PID
if kd_wait_exit "$pid" 40; then
    KD_PID=
    if [ "$KD_EXIT_RC" != 0 ]; then
        kd_ok "no-ldap-exits-nonzero"
    else
        kd_fail "no-ldap-exits-nonzero" "exit status 0 without LDAP"
    fi
    if kd_since_has 'kolabd: .*(ldap|LDAP|connect|127\.0\.0\.1)'; then
        kd_ok "no-ldap-says-why"
    else
        kd_fail "no-ldap-says-why" "no LDAP error on stderr"
    fi
else
    kd_fail "no-ldap-exits-nonzero" "still running after 40 s"
    kd_stop 5
fi
sleep 0.3
if kd_notify_has 'READY=1'; then
    kd_fail "no-ldap-no-ready" "READY=1 sent without LDAP: $(cat "$KD_DIR/notify.out")"
else
    kd_ok "no-ldap-no-ready"
fi

# 2. slapd up: READY=1.
"$KD_SB" slapd-restart "$KD_DIR/sb" >/dev/null 2>&1 ||
    kd_fail slapd-restart "kd-sandbox slapd-restart failed"
. "$KD_DIR/sb/sandbox.env"
kd_write_conf "$KD_CONF"
kd_start_listener || kd_fail listener "kd-notify-listen did not bind"
kd_mark_log
kd_start
if kd_until 30 kd_notify_has '^READY=1$'; then
    kd_ok "ready-sent"
    # READY only once the daemon says it is ready (bind checked before).
    if kd_since_has 'kolabd .* ready'; then
        kd_ok "ready-after-startup"
    else
        kd_fail "ready-after-startup" "READY=1 before the ready log line"
    fi
else
    kd_fail "ready-sent" "no READY=1 within 30 s: $(cat "$KD_DIR/notify.out")"
fi
if kd_is_child "$KD_PID"; then
    kd_ok "running-after-ready"
else
    kd_fail "running-after-ready" "kolabd exited"
fi

# 3. SIGHUP: RELOADING=1 then READY=1 again.
n_before=$(wc -l <"$KD_DIR/notify.out")
kd_mark_log
kd_is_child "$KD_PID" && kill -HUP "$KD_PID"
got_reload() {
    tail -n +"$((n_before + 1))" "$KD_DIR/notify.out" | grep -q '^READY=1$'
}
if kd_until 20 got_reload; then
    after=$(tail -n +"$((n_before + 1))" "$KD_DIR/notify.out")
    first=$(head -n 1 <<<"$after")
    if [[ $first == RELOADING=1* ]] &&
        [[ $first =~ MONOTONIC_USEC=[0-9]+ ]]; then
        kd_ok "sighup-reloading-first"
    else
        kd_fail "sighup-reloading-first" "after SIGHUP got: $after"
    fi
    if [ "$(grep -c . <<<"$after")" = 2 ]; then
        kd_ok "sighup-two-messages"
    else
        kd_fail "sighup-two-messages" "after SIGHUP got: $after"
    fi
else
    kd_fail "sighup-ready-again" "no READY=1 after SIGHUP: $(cat "$KD_DIR/notify.out")"
fi
if kd_wait_since 10 'configuration reloaded'; then
    kd_ok "sighup-reloaded"
else
    kd_fail "sighup-reloaded" "no 'configuration reloaded' log line"
fi

# 4. SIGTERM: STOPPING=1, exit 0 within 30 s.
start=$(date +%s)
if kd_stop 30; then
    kd_ok "sigterm-exit-0 ($(($(date +%s) - start)) s)"
else
    kd_fail "sigterm-exit-0" "exit status $KD_EXIT_RC"
fi
sleep 0.3
if kd_notify_has '^STOPPING=1$'; then
    kd_ok "sigterm-stopping"
else
    kd_fail "sigterm-stopping" "no STOPPING=1: $(cat "$KD_DIR/notify.out")"
fi
kd_stop_listener
kd_finish
