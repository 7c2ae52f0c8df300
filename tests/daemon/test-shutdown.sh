#!/bin/bash
# test-shutdown: SIGTERM in the middle of heavy work. 300 users are added
# in one go; once kolabd logged its first few "... done" lines it gets
# SIGTERM and must exit 0 within 30 s (in-flight jobs finish, queued ones
# stay dirty in the store). After a restart the queue drains: all 300 users
# are known, the queue is empty and tests/demo/kd-where exits 0 (every
# mailbox exists once, in the murder, and mailHost names its backend).
set -uo pipefail
# shellcheck source=tests/daemon/lib-daemon.sh
. "$(dirname "$0")/lib-daemon.sh"
kd_setup

N=${KD_SHUTDOWN_USERS:-300}
kd_start
kd_wait_log 30 'kolabd .* ready' || kd_fail ready "no ready line in 30 s"
for i in $(seq 1 "$N"); do kd_user_ldif "load$i" "load$i@example.org"; done \
    >"$KD_DIR/load.ldif"
kd_ldapadd <"$KD_DIR/load.ldif" || kd_fail ldapadd "ldapadd of $N users failed"

n_done() { grep -c '@example.org: .* done$' "$KD_DIR/kolabd.log"; }
some_done() { [ "$(n_done)" -ge 5 ]; }
if kd_until 60 some_done; then
    kd_ok "work-started"
else
    kd_fail "work-started" "fewer than 5 'done' lines after 60 s"
fi
start=$(date +%s.%N)
if kd_stop 30; then
    kd_ok "sigterm-exit-0-in-time ($(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s)"
else
    kd_fail "sigterm-exit-0-in-time" "exit $KD_EXIT_RC"
fi
if kd_log_has 'kolabd stopped'; then
    kd_ok "stopped-logged"
else
    kd_fail "stopped-logged" "no 'kolabd stopped' line"
fi
at_stop=$(n_done)
js=$(kd_status_json)
queue=$(sed -n 's/.*"queue":{"length":\([0-9]*\).*/\1/p' <<<"$js")
kd_log "$at_stop of $N users done when kolabd stopped; queue ${queue:-?}"
if [ "$at_stop" -lt "$N" ] && [ "${queue:-0}" -gt 0 ]; then
    kd_ok "stopped-mid-work ($at_stop/$N done, $queue queued)"
else
    kd_fail "stopped-mid-work" \
        "the SIGTERM did not land in the middle of the work ($at_stop done, queue ${queue:-?}): test ineffective"
fi

kd_mark_log
kd_start
kd_wait_since 30 'kolabd .* ready' || kd_fail restart-ready "no ready line"
t0=$(date +%s)
if kd_until 300 kd_converged "$N"; then
    kd_ok "queue-drains-after-restart ($(($(date +%s) - t0)) s)"
else
    kd_fail "queue-drains-after-restart" "$(kd_status_json)"
fi
if kd_where; then
    kd_ok "kd-where-all-right"
else
    kd_fail "kd-where-all-right" "$(grep -v ' ok$' "$KD_DIR/where.out" | head -n 20)"
fi
js=$(kd_status_json)
if grep -q "\"users\":$N," <<<"$js" && grep -q '"refused":0' <<<"$js" &&
    grep -q '"failing":0' <<<"$js"; then
    kd_ok "status-all-users"
else
    kd_fail "status-all-users" "$js"
fi
# every user created exactly once (a create after the restart of a
# mailbox finished before it would log "already exists")
total=$(grep -c '@example.org: .*create.* done$' "$KD_DIR/kolabd.log")
dups=$(grep -o 'load[0-9]*@example.org: [^ ]*create[^ ]* on' "$KD_DIR/kolabd.log" |
    cut -d: -f1 | sort | uniq -d | wc -l)
if [ "$dups" = 0 ] && [ "$total" = "$N" ]; then
    kd_ok "each-created-once"
else
    kd_fail "each-created-once" "$total creates, $dups users created twice"
fi
if kd_stop 30; then
    kd_ok "second-sigterm-exit-0"
else
    kd_fail "second-sigterm-exit-0" "exit $KD_EXIT_RC"
fi
kd_finish
