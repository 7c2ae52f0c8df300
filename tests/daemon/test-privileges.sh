#!/bin/bash
# test-privileges: started as root with `user = nobody` / `group = nogroup`
# (what kd-conf writes), the running daemon's real, effective, saved and
# filesystem IDs (every thread) are nobody/nogroup, it has no
# supplementary groups besides nogroup and no effective capabilities, and
# the state directory and database belong to nobody (also when a root-owned
# database was left behind). Without a usable user it refuses to run:
# no user line (the default user "kolab" does not exist here), user or
# group root, an unknown user, an empty value -- each with a non-zero exit
# and a clear message, and no READY=1.
set -uo pipefail
# shellcheck source=tests/daemon/lib-daemon.sh
. "$(dirname "$0")/lib-daemon.sh"
kd_setup

if [ "$(id -u)" != 0 ]; then
    kd_fail "root" "this test must run as root (the sandbox needs it too)"
    kd_finish
fi
nobody_uid=$(id -u nobody)
nogroup_gid=$(getent group nogroup | cut -d: -f3)

# ids_are FILE UID GID: a /proc status file shows only UID and GID.
ids_are() {
    local f=$1 u=$2 g=$3
    grep -Eq "^Uid:[[:space:]]+$u[[:space:]]+$u[[:space:]]+$u[[:space:]]+$u$" "$f" &&
        grep -Eq "^Gid:[[:space:]]+$g[[:space:]]+$g[[:space:]]+$g[[:space:]]+$g$" "$f"
}

check_running_ids() {
    local pid=$KD_PID bad=0 t
    cp "/proc/$pid/status" "$KD_DIR/proc-status" 2>/dev/null
    if ids_are "$KD_DIR/proc-status" "$nobody_uid" "$nogroup_gid"; then
        kd_ok "$1-uid-gid-nobody"
    else
        kd_fail "$1-uid-gid-nobody" "$(grep -E '^(Uid|Gid):' "$KD_DIR/proc-status")"
    fi
    for t in /proc/"$pid"/task/*/status; do
        ids_are "$t" "$nobody_uid" "$nogroup_gid" || bad=$((bad + 1))
    done
    if [ "$bad" = 0 ] && [ "$(ls /proc/"$pid"/task | wc -l)" -gt 1 ]; then
        kd_ok "$1-all-threads-nobody"
    else
        kd_fail "$1-all-threads-nobody" "$bad thread(s) with other ids"
    fi
    groups=$(sed -n 's/^Groups:[[:space:]]*//p' "$KD_DIR/proc-status" | xargs)
    if [ -z "$groups" ] || [ "$groups" = "$nogroup_gid" ]; then
        kd_ok "$1-no-extra-groups"
    else
        kd_fail "$1-no-extra-groups" "Groups: $groups"
    fi
    if grep -Eq '^CapEff:[[:space:]]+0+$' "$KD_DIR/proc-status" &&
        grep -Eq '^CapPrm:[[:space:]]+0+$' "$KD_DIR/proc-status"; then
        kd_ok "$1-no-capabilities"
    else
        kd_fail "$1-no-capabilities" "$(grep -E '^Cap' "$KD_DIR/proc-status")"
    fi
    if [ "$(stat -c %U "$KD_DIR/state")" = nobody ] &&
        [ "$(stat -c %U "$KD_DIR/state/kolabd.db")" = nobody ]; then
        kd_ok "$1-state-owned-by-nobody"
    else
        kd_fail "$1-state-owned-by-nobody" "$(ls -ln "$KD_DIR/state")"
    fi
}

# the daemon as configured by kd-conf
kd_user_ldif priv1 priv1@example.org | kd_ldapadd || kd_fail ldapadd "failed"
kd_start
if kd_wait_log 30 'kolabd .* ready'; then
    kd_ok "ready"
else
    kd_fail "ready" "no ready line"
fi
check_running_ids first
if kd_until 60 kd_converged 1 && kd_where; then
    kd_ok "works-as-nobody"
else
    kd_fail "works-as-nobody" "$(kd_status_json)"
fi
kd_stop 30 || kd_fail "sigterm-exit-0" "exit $KD_EXIT_RC"

# a database left by a root run is handed back to nobody
chown root:root "$KD_DIR/state" "$KD_DIR"/state/*
kd_mark_log
kd_start
if kd_wait_since 30 'kolabd .* ready'; then
    kd_ok "root-owned-state-ready"
else
    kd_fail "root-owned-state-ready" "$(kd_log_since_mark)"
fi
check_running_ids second
kd_stop 30 || kd_fail "sigterm-exit-0" "exit $KD_EXIT_RC"

# refuse_with NAME SED-SCRIPT EXIT MESSAGE-ERE: kolabd started as root
# with the edited config exits EXIT (any non-zero when "nz") within 30 s,
# says MESSAGE and never sends READY=1.
cp "$KD_CONF" "$KD_DIR/good.conf"
refuse_with() {
    local name=$1 script=$2 want=$3 msg=$4 rc pid
    sed "$script" "$KD_DIR/good.conf" >"$KD_CONF"
    kd_start_listener || kd_fail "$name-listener" "no socket"
    kd_mark_log
    kd_start
    pid=$KD_PID
    if kd_wait_exit "$pid" 30; then
        KD_PID=
        rc=$KD_EXIT_RC
        if [ "$rc" != 0 ] && { [ "$want" = nz ] || [ "$rc" = "$want" ]; }; then
            kd_ok "$name-exit-$rc"
        else
            kd_fail "$name-exit" "exit $rc, wanted $want"
        fi
    else
        kd_fail "$name-exit" "still running after 30 s as $(grep -E '^Uid' /proc/"$pid"/status)"
        kd_stop 5
    fi
    if kd_since_has "$msg"; then
        kd_ok "$name-message"
    else
        kd_fail "$name-message" "wanted /$msg/, got: $(kd_log_since_mark)"
    fi
    sleep 0.2
    if kd_notify_has 'READY=1'; then
        kd_fail "$name-no-ready" "READY=1 sent"
    else
        kd_ok "$name-no-ready"
    fi
    kd_stop_listener
}
refuse_with no-user-line '/^user =/d' 1 'kolabd: user "kolab" not found'
refuse_with no-user-no-group '/^user =/d;/^group =/d' 1 \
    'kolabd: user "kolab" not found'
refuse_with user-root 's/^user = .*/user = root/' 1 \
    'kolabd: refusing to run as user "root" \(id 0\)'
refuse_with group-root 's/^group = .*/group = root/' 1 \
    'kolabd: refusing to run as group "root" \(id 0\)'
refuse_with unknown-user 's/^user = .*/user = no-such-user-kd/' 1 \
    'kolabd: user "no-such-user-kd" not found'
line=$(grep -n '^user =' "$KD_DIR/good.conf" | cut -d: -f1)
refuse_with empty-user 's/^user = .*/user =/' 2 \
    "kolabd: $KD_CONF:$line: \\[kolabd\\] user: empty value"
cp "$KD_DIR/good.conf" "$KD_CONF"
kd_finish
