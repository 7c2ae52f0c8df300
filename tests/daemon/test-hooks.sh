#!/bin/bash
# test-hooks: provisioning hooks end to end, with kolabd running as nobody.
# hooks_dir (root-owned, 0755) holds
#   mailbox-created.d/10-record  appends the KOLABD_* variables, the
#                                environment and the stdin JSON to a file
#   mailbox-created.d/20-flaky   fails once for flaky@example.org
#   mailbox-deleted.d/10-record  as above
#   pre-delete.d/10-veto         exits 1 for keep@example.org
# Checked: the hook runs once per event with the right values, also for a
# mail full of shell metacharacters (taken literally: no expansion, no
# command substitution); nothing secret or kolabd's NOTIFY_SOCKET leaks
# into its environment; a failing hook is retried (KOLABD_ATTEMPT=2, same
# event id, the hook that had succeeded is not run again); a pre-delete
# veto keeps the mailbox and `kolabd status --json` shows the held item
# with the hook's reason; an allowed delete goes through and fires
# mailbox-deleted; a group-writable pre-delete hook is refused and so
# vetoes. delete_mode = delete, delete thresholds off.
set -uo pipefail
# shellcheck source=tests/daemon/lib-daemon.sh
. "$(dirname "$0")/lib-daemon.sh"
kd_setup
MBWHERE=$KD_BUILD/tests/daemon/kd-mailbox-where
[ -x "$MBWHERE" ] || { kd_fail build "$MBWHERE not built"; kd_finish; }

hooks=$KD_DIR/hooks
out=$KD_DIR/hookout
mkdir -m 0755 "$hooks" "$hooks/mailbox-created.d" "$hooks/mailbox-deleted.d" \
    "$hooks/pre-delete.d"
mkdir -m 0755 "$out"
chown nobody "$out"

cat >"$hooks/mailbox-created.d/10-record" <<EOF
#!/bin/sh
# records one event: variables, environment, stdin
{
    printf 'event=%s\\n' "\$KOLABD_EVENT"
    printf 'mail=%s\\n' "\$KOLABD_MAIL"
    printf 'mailbox=%s\\n' "\$KOLABD_MAILBOX"
    printf 'mailhost=%s\\n' "\$KOLABD_MAILHOST"
    printf 'attempt=%s\\n' "\$KOLABD_ATTEMPT"
    printf 'id=%s\\n' "\$KOLABD_EVENT_ID"
    printf 'uid=%s\\n' "\$(id -u)"
    printf 'json='
    cat
    printf '\\n'
    env | sed 's/^/env:/'
    printf -- '--\\n'
} >>"$out/record.log"
EOF
cp "$hooks/mailbox-created.d/10-record" "$hooks/mailbox-deleted.d/10-record"
cat >"$hooks/mailbox-created.d/20-flaky" <<EOF
#!/bin/sh
[ "\$KOLABD_MAIL" = flaky@example.org ] || exit 0
printf '%s %s\\n' "\$KOLABD_ATTEMPT" "\$KOLABD_EVENT_ID" >>"$out/flaky.log"
if [ ! -e "$out/flaky.marker" ]; then
    : >"$out/flaky.marker"
    echo "flaky hook fails on purpose"
    exit 1
fi
exit 0
EOF
cat >"$hooks/pre-delete.d/10-veto" <<EOF
#!/bin/sh
printf '%s %s\\n' "\$KOLABD_MAIL" "\$KOLABD_MAILBOX" >>"$out/pre-delete.log"
if [ "\$KOLABD_MAIL" = keep@example.org ]; then
    echo "keep@example.org is protected"
    exit 1
fi
exit 0
EOF
chmod 0755 "$hooks"/*.d/*
chown -R root:root "$hooks"
sed -i -e "/^hooks_dir = /d" -e "/^\\[kolabd\\]/a hooks_dir = $hooks\\
hook_timeout = 10\\
delete_threshold = 0\\
delete_threshold_percent = 0" "$KD_CONF"
grep -q "^hooks_dir = $hooks\$" "$KD_CONF" || kd_fail conf "hooks_dir not set"

# the user with shell metacharacters that both kolabd's model and Cyrus
# accept (Cyrus 3.6 refuses ` | & ! in mailbox names, and a '?' mailbox
# is created but the user cannot log in): an unbalanced quote, parameter
# expansions, a tilde, a comment sign. Lower case, as kolabd lower-cases
# mail addresses.
meta="o'n\$home\$ifs~#x@example.org"
meta_mailbox="user/$meta"
{
    kd_user_ldif plain plain@example.org
    kd_user_ldif meta "$meta"
    kd_user_ldif flaky flaky@example.org
    kd_user_ldif keep keep@example.org
    kd_user_ldif gone gone@example.org
    kd_user_ldif gone2 gone2@example.org
} | kd_ldapadd || kd_fail ldapadd "ldapadd failed"

kd_start_listener || kd_fail listener "no notify socket"
kd_start
kd_wait_log 30 'kolabd .* ready' || kd_fail ready "no ready line in 30 s"
if kd_until 60 kd_converged 6 && kd_where; then
    kd_ok "converged"
else
    kd_fail "converged" "$(kd_status_json) $(cat "$KD_DIR/where.out")"
fi

# records MAIL: the blocks of record.log for MAIL (event=mailbox-created)
records() {
    awk -v m="mail=$1" -v e="event=$2" '
        /^--$/ { if (hit && ev) print blk; blk = ""; hit = 0; ev = 0; next }
        { blk = blk $0 "\n"; if ($0 == m) hit = 1; if ($0 == e) ev = 1 }
    ' "$out/record.log" 2>/dev/null
}
n_records() { records "$1" "$2" | grep -c "^mail="; }
created_recorded() {
    [ "$(n_records plain@example.org mailbox-created)" -ge 1 ] &&
        [ "$(n_records "$meta" mailbox-created)" -ge 1 ]
}
if kd_until 30 created_recorded; then
    kd_ok "created-hooks-ran"
else
    kd_fail "created-hooks-ran" "record.log: $(cat "$out/record.log" 2>/dev/null)"
fi
sleep 2 # a duplicate run would show up by now

# plain user: once, right values
r=$(records plain@example.org mailbox-created)
server=$("$MBWHERE" -c "$KD_CONF" user/plain@example.org)
if [ "$(n_records plain@example.org mailbox-created)" = 1 ] &&
    grep -qx "mailbox=user/plain@example.org" <<<"$r" &&
    grep -qx "mailhost=$server" <<<"$r" && [ -n "$server" ] &&
    grep -qx "attempt=1" <<<"$r" && grep -qx "uid=$(id -u nobody)" <<<"$r"; then
    kd_ok "plain-once-right-env (on $server, as nobody)"
else
    kd_fail "plain-once-right-env" "server $server; records: $r"
fi
if grep -q '^json={.*"event":"mailbox-created".*"mail":"plain@example.org"' <<<"$r"; then
    kd_ok "plain-stdin-json"
else
    kd_fail "plain-stdin-json" "$(grep '^json=' <<<"$r")"
fi
envs=$(grep '^env:' <<<"$r" | sed 's/^env://' | cut -d= -f1 | sort -u | xargs)
bad=$(tr ' ' '\n' <<<"$envs" | grep -Ev '^(PATH|HOME|PWD|SHLVL|_|KOLABD_[A-Z_]+)$' | xargs)
if [ -z "$bad" ] && grep -qx 'env:HOME=/' <<<"$r" && grep -qx 'env:PWD=/' <<<"$r"; then
    kd_ok "clean-environment"
else
    kd_fail "clean-environment" "unexpected variables: $bad (all: $envs)"
fi
if ! grep -Fq "$(cat "$KD_DIR/secrets/service.pw")" "$out/record.log" &&
    ! grep -q 'NOTIFY_SOCKET' "$out/record.log"; then
    kd_ok "no-secret-no-notify-socket"
else
    kd_fail "no-secret-no-notify-socket" "a secret or NOTIFY_SOCKET reached a hook"
fi

# metacharacters: taken literally
r=$(records "$meta" mailbox-created)
if [ "$(n_records "$meta" mailbox-created)" = 1 ] &&
    grep -qxF "mail=$meta" <<<"$r" && grep -qxF "mailbox=$meta_mailbox" <<<"$r"; then
    kd_ok "meta-literal-env"
else
    kd_fail "meta-literal-env" "wanted mail=$meta; records: $r"
fi
if grep -qF "\"mail\":\"$meta\"" <<<"$r"; then
    kd_ok "meta-literal-json"
else
    kd_fail "meta-literal-json" "$(grep '^json=' <<<"$r")"
fi
if ! grep -q '^mail=o.n/' "$out/record.log" &&
    grep -qxF "mail=$meta" "$out/record.log"; then
    kd_ok "meta-no-expansion"
else
    kd_fail "meta-no-expansion" "id or \$HOME expanded: $(grep '^mail=o' "$out/record.log")"
fi
if "$MBWHERE" -c "$KD_CONF" "$meta_mailbox" >/dev/null; then
    kd_ok "meta-mailbox-exists"
else
    kd_fail "meta-mailbox-exists" "$meta_mailbox not in the murder"
fi

# the flaky hook: retried (backoff 30 s), 10-record not run again
retried() { [ "$(grep -c . "$out/flaky.log" 2>/dev/null)" -ge 2 ]; }
if kd_until 90 retried; then
    a1=$(sed -n 1p "$out/flaky.log")
    a2=$(sed -n 2p "$out/flaky.log")
    if [ "${a1%% *}" = 1 ] && [ "${a2%% *}" = 2 ] && [ "${a1#* }" = "${a2#* }" ]; then
        kd_ok "flaky-retried-same-event"
    else
        kd_fail "flaky-retried-same-event" "attempts: $a1 / $a2"
    fi
else
    kd_fail "flaky-retried-same-event" "no retry within 90 s: $(cat "$out/flaky.log" 2>/dev/null)"
fi
sleep 1
if [ "$(grep -c . "$out/flaky.log" 2>/dev/null)" = 2 ]; then
    kd_ok "flaky-not-run-after-success"
else
    kd_fail "flaky-not-run-after-success" "$(cat "$out/flaky.log")"
fi
if [ "$(n_records flaky@example.org mailbox-created)" = 1 ]; then
    kd_ok "succeeded-hook-not-rerun"
else
    kd_fail "succeeded-hook-not-rerun" \
        "10-record ran $(n_records flaky@example.org mailbox-created) times for flaky"
fi
if kd_log_has "20-flaky.*flaky@example.org|flaky@example.org.*20-flaky"; then
    kd_ok "failure-logged-with-hook-and-mail"
else
    kd_fail "failure-logged-with-hook-and-mail" "no log line naming 20-flaky and the mail"
fi

# pre-delete veto for keep, allowed delete for gone
printf 'dn: uid=keep,ou=People,%s\nchangetype: delete\n\ndn: uid=gone,ou=People,%s\nchangetype: delete\n' \
    "$BASE_DN" "$BASE_DN" | kd_ldapmodify || kd_fail ldapdelete "failed"
gone_deleted() { ! "$MBWHERE" -c "$KD_CONF" user/gone@example.org >/dev/null; }
if kd_until 60 gone_deleted; then
    kd_ok "allowed-delete-done"
else
    kd_fail "allowed-delete-done" "user/gone@example.org still exists"
fi
held() { kd_status_json | grep -q '"held":[1-9]'; }
if kd_until 60 held; then
    kd_ok "veto-held-in-status"
else
    kd_fail "veto-held-in-status" "$(kd_status_json)"
fi
js=$(kd_status_json)
if grep -q "{\"dn\":\"uid=keep,ou=People,$BASE_DN\",\"error\":\"[^\"]*10-veto[^\"]*\",\"held\":true" <<<"$js"; then
    kd_ok "veto-reason-names-hook"
else
    kd_fail "veto-reason-names-hook" "$js"
fi
if "$MBWHERE" -c "$KD_CONF" user/keep@example.org >/dev/null; then
    kd_ok "vetoed-mailbox-stays"
else
    kd_fail "vetoed-mailbox-stays" "user/keep@example.org is gone"
fi
if grep -qx 'keep@example.org user/keep@example.org' "$out/pre-delete.log" &&
    grep -qx 'gone@example.org user/gone@example.org' "$out/pre-delete.log"; then
    kd_ok "pre-delete-env"
else
    kd_fail "pre-delete-env" "$(cat "$out/pre-delete.log")"
fi
deleted_recorded() { [ "$(n_records gone@example.org mailbox-deleted)" -ge 1 ]; }
if kd_until 30 deleted_recorded &&
    [ "$(n_records keep@example.org mailbox-deleted)" = 0 ]; then
    kd_ok "mailbox-deleted-hook"
else
    kd_fail "mailbox-deleted-hook" "$(grep -A1 'event=mailbox-deleted' "$out/record.log")"
fi

# an unsafe (group-writable) pre-delete hook is refused: the delete is vetoed
chmod g+w "$hooks/pre-delete.d/10-veto"
kd_mark_log
printf 'dn: uid=gone2,ou=People,%s\nchangetype: delete\n' "$BASE_DN" |
    kd_ldapmodify || kd_fail ldapdelete "failed"
gone2_held() {
    kd_status_json | grep -q "{\"dn\":\"uid=gone2,ou=People,$BASE_DN\",\"error\":\"[^\"]*writable[^\"]*\",\"held\":true"
}
if kd_until 60 gone2_held; then
    kd_ok "unsafe-hook-refused-vetoes"
else
    kd_fail "unsafe-hook-refused-vetoes" "$(kd_status_json)"
fi
if "$MBWHERE" -c "$KD_CONF" user/gone2@example.org >/dev/null &&
    ! grep -q '^gone2@' "$out/pre-delete.log"; then
    kd_ok "unsafe-hook-not-run-mailbox-stays"
else
    kd_fail "unsafe-hook-not-run-mailbox-stays" "$(cat "$out/pre-delete.log")"
fi
chmod g-w "$hooks/pre-delete.d/10-veto"

if kd_stop 30; then
    kd_ok "sigterm-exit-0"
else
    kd_fail "sigterm-exit-0" "exit $KD_EXIT_RC"
fi
kd_finish
