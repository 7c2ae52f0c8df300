#!/bin/bash
# test-resync.sh -- `kolabd resync` repairs drift made behind kolabd's back
# while it was stopped (a mailbox deleted on its backend, a wrong mailHost
# in LDAP, a quota changed over IMAP, a shared folder's ACL edited over
# IMAP, a default folder deleted); `--dry-run` reports it (exit 1) and
# changes nothing.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init resync
kd_sandbox_up
kd_conf=$(kd_conf kolabd)
people="ou=People,$BASE_DN"

r_user() {
    printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\n' "$1" "$people"
    printf 'objectClass: kolabInetOrgPerson\nobjectClass: mailRecipient\n'
    printf 'uid: %s\ncn: %s\nsn: %s\nmail: %s@example.org\n' "$1" "$1" "$1" "$1"
    [ -z "${2:-}" ] || printf '%s\n' "$2"
    printf '\n'
}

quota_of() {
    kd_probe "$kd_conf" quota "$1" 2>/dev/null | cut -d' ' -f2
}

gone=user/r-gone@example.org
moved="uid=r-moved,$people"
quota=user/r-quota@example.org
wrong_host=127.0.0.1:1
folder=shared/r-shared@example.org
calm_sent=user/r-calm/Sent@example.org

acl_of() {
    kd_probe "$kd_conf" acl "$folder" 2>/dev/null | sort | tr '\n' ';'
}

r1_converge() {
    {
        r_user r-gone
        r_user r-moved
        r_user r-quota 'mailQuota: 204800'
        r_user r-calm
        printf 'dn: cn=r-shared,ou=Shared Folders,%s\n' "$BASE_DN"
        printf 'objectClass: kolabSharedFolder\ncn: r-shared\n'
        printf 'kolabTargetFolder: %s\nacl: anyone, lrs\n' "$folder"
        printf 'acl: r-calm@example.org, all\n\n'
    } | kd_ldapadd || return 1
    kd_check "converged" kd_wait "$KD_WAIT" kd_converged "$kd_conf" || return 1
    kd_check "quota 204800" test "$(quota_of "$quota")" = 204800 ||
        return 1
    acl_good=$(acl_of)
    echo "acl: $acl_good"
    kd_check "folder ACL from LDAP" \
        test "$acl_good" = "anyone lrs;r-calm@example.org lrswipkxtecdan;"
}

r2_drift() {
    kd_stop
    kd_check "delete $gone on its backend" \
        kd_probe "$kd_conf" delete "$gone" || return 1
    kd_check "$gone gone" kd_wait "$KD_WAIT" kd_no_mailbox "$kd_conf" "$gone" ||
        return 1
    kd_check "delete $calm_sent (a default folder) on its backend" \
        kd_probe "$kd_conf" delete "$calm_sent" || return 1
    kd_check "$calm_sent gone" \
        kd_wait "$KD_WAIT" kd_no_mailbox "$kd_conf" "$calm_sent" || return 1
    printf 'dn: %s\nchangetype: modify\nreplace: mailHost\nmailHost: %s\n\n' \
        "$moved" "$wrong_host" | kd_ldapmodify || return 1
    kd_check "mailHost of r-moved is wrong" \
        test "$(kd_mailhost "$moved")" = "$wrong_host" || return 1
    kd_check "set quota over IMAP" kd_probe "$kd_conf" setquota "$quota" 1234 ||
        return 1
    kd_check "quota now 1234" test "$(quota_of "$quota")" = 1234 || return 1
    kd_check "grant an intruder on the folder over IMAP" \
        kd_probe "$kd_conf" setacl "$folder" intruder@example.org=lrswi ||
        return 1
    kd_check "widen anyone over IMAP" \
        kd_probe "$kd_conf" setacl "$folder" anyone=lrsp || return 1
    kd_check "ACL drifted" test "$(acl_of)" != "$acl_good" || return 1
    kd_check "kd-where sees the drift" sh -c "! '$where' -c '$kd_conf' --quiet"
}

r3_dry_run() {
    local rc=0
    "$kolabd" resync --dry-run -c "$kd_conf" >"$dir/dry.out" 2>&1 || rc=$?
    cat "$dir/dry.out"
    kd_check "resync --dry-run exits 1 (rc $rc)" test "$rc" = 1 || return 1
    kd_check "dry run names r-gone" grep -q 'create.*r-gone@' "$dir/dry.out" ||
        return 1
    kd_check "dry run names r-moved's mailhost" \
        grep -q 'mailhost.*r-moved@' "$dir/dry.out" || return 1
    kd_check "mailbox still missing" kd_no_mailbox "$kd_conf" "$gone" ||
        return 1
    kd_check "mailHost still wrong" \
        test "$(kd_mailhost "$moved")" = "$wrong_host" || return 1
    kd_check "quota still 1234" test "$(quota_of "$quota")" = 1234 ||
        return 1
    kd_check "dry run names the folder's ACL" \
        grep -q "acl.*$folder" "$dir/dry.out" || return 1
    kd_check "dry run names r-calm's folders" \
        grep -q 'folders.*r-calm@' "$dir/dry.out" || return 1
    kd_check "and no other user's folders (the murder lists them)" \
        sh -c "! grep 'folders' '$dir/dry.out' | grep -v r-calm@ | grep -q user" ||
        return 1
    kd_check "ACL still drifted" test "$(acl_of)" != "$acl_good"
}

r4_resync() {
    local rc=0
    "$kolabd" resync -c "$kd_conf" >"$dir/resync.out" 2>&1 || rc=$?
    cat "$dir/resync.out"
    kd_log=$dir/resync.out
    kd_check "resync exits 0 (rc $rc)" test "$rc" = 0 || return 1
    kd_check "kd-where exits 0" "$where" -c "$kd_conf" || return 1
    kd_check "mailbox recreated" kd_has_mailbox "$kd_conf" "$gone" || return 1
    kd_check "its folders too" \
        kd_has_mailbox "$kd_conf" user/r-gone/Sent@example.org || return 1
    kd_check "r-calm's deleted Sent recreated" \
        kd_has_mailbox "$kd_conf" "$calm_sent" || return 1
    kd_check "quota back to 204800" test "$(quota_of "$quota")" = 204800 ||
        return 1
    kd_check "folder ACL back to LDAP's ($(acl_of))" test "$(acl_of)" = "$acl_good"
}

# After a repair, a dry run must find nothing to do and exit 0.
r5_clean_dry_run() {
    local rc=0
    "$kolabd" resync --dry-run -c "$kd_conf" >"$dir/dry2.out" 2>&1 || rc=$?
    cat "$dir/dry2.out"
    kd_check "second dry run exits 0 (rc $rc)" test "$rc" = 0
}

r6_only_named() {
    local rc=0
    { r_user r-one; r_user r-two; } | kd_ldapadd || return 1
    "$kolabd" resync -c "$kd_conf" r-one@example.org >"$dir/r6.out" 2>&1 ||
        rc=$?
    tail -2 "$dir/r6.out"
    kd_check "resync r-one exits 0 (rc $rc)" test "$rc" = 0 || return 1
    kd_check "r-one provisioned" \
        kd_has_mailbox "$kd_conf" user/r-one@example.org || return 1
    kd_check "r-two left alone" \
        kd_no_mailbox "$kd_conf" user/r-two@example.org || return 1
    "$kolabd" resync -c "$kd_conf" >"$dir/r6b.out" 2>&1 || return 1
    kd_check "a full resync does r-two" \
        kd_has_mailbox "$kd_conf" user/r-two@example.org
}

kd_start "$kd_conf" "$dir/kolabd.log"
kd_scenario "r1 converge" r1_converge
kd_scenario "r2 drift behind kolabd's back" r2_drift
kd_scenario "r3 resync --dry-run reports and changes nothing" r3_dry_run
kd_scenario "r4 resync repairs" r4_resync
kd_scenario "r5 dry run after repair finds nothing" r5_clean_dry_run
kd_scenario "r6 resync MAIL... works on those accounts only" r6_only_named
kd_finish
