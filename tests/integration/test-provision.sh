#!/bin/bash
# test-provision.sh -- kolabd's provisioning engine against the sandbox
# murder (slapd + mupdate + two backends + frontend): users and shared
# folders are created, changed, renamed, deleted and placed as LDAP says;
# restarts change nothing; hostile entries are refused; a dead backend
# delays work until it is back. Each scenario uses its own names.
# shellcheck disable=SC1091
. "${KD_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib-kolabd.sh"

kd_init provision
kd_sandbox_up
kd_conf=$(kd_conf kolabd)
people="ou=People,$BASE_DN"
shared="ou=Shared Folders,$BASE_DN"


# mailhost_is_location DN MAILBOX: LDAP's mailHost is where the murder
# keeps MAILBOX.
mailhost_is_location() {
    local mh loc
    mh=$(kd_mailhost "$1")
    loc=$(kd_probe "$kd_conf" where "$2") || return 1
    [ -n "$mh" ] && [ "$mh" = "$loc" ]
}

quota_is() {
    [ "$(kd_probe "$kd_conf" quota "$1" 2>/dev/null | cut -d' ' -f2)" = "$2" ]
}

acl_has() { # MAILBOX IDENTIFIER RIGHTS-REGEX
    kd_probe "$kd_conf" acl "$1" 2>/dev/null | grep -Eq "^$2 $3\$"
}

acl_lacks() {
    kd_probe "$kd_conf" acl "$1" >"$dir/acl.out" 2>&1 &&
        ! grep -q "^$2 " "$dir/acl.out"
}

s1_create() {
    local m=user/t1-anna@example.org f
    {
        printf 'dn: uid=t1-anna,%s\nobjectClass: inetOrgPerson\n' "$people"
        printf 'objectClass: kolabInetOrgPerson\nobjectClass: mailRecipient\n'
        # cn: "Ånna Müller"
        printf 'uid: t1-anna\ncn:: w4VubmEgTcO8bGxlcg==\nsn: Anna\n'
        printf 'mail: t1-anna@example.org\n\n'
        user_ldif t1-ben t1-ben@example.org 'mailQuota: 204800'
        printf 'dn: cn=t1-folder,%s\nobjectClass: kolabSharedFolder\n' "$shared"
        printf 'cn: t1-folder\nkolabFolderType: mail\n'
        printf 'kolabTargetFolder: shared/t1-folder@example.org\n'
        printf 'acl: anyone, lrs\nacl: t1-ben@example.org all\n\n'
    } | kd_ldapadd || { echo "ldapadd failed"; return 1; }
    kd_check "converged (kd-where exits 0)" \
        kd_wait "$KD_WAIT" kd_converged "$kd_conf" || return 1
    "$where" -c "$kd_conf"
    kd_check "user mailbox exists" kd_has_mailbox "$kd_conf" "$m" || return 1
    for f in Sent Trash Drafts Calendar Contacts; do
        kd_check "default folder $f" kd_has_mailbox "$kd_conf" \
            "user/t1-anna/$f@example.org" || return 1
    done
    kd_check "mailHost of t1-anna is its location" \
        mailhost_is_location "uid=t1-anna,$people" "$m" || return 1
    kd_check "t1-ben quota 204800" \
        quota_is user/t1-ben@example.org 204800 || return 1
    kd_check "t1-anna default quota 1048576" quota_is "$m" 1048576 || return 1
    kd_probe "$kd_conf" acl shared/t1-folder@example.org
    kd_check "folder acl anyone lrs" \
        acl_has shared/t1-folder@example.org anyone lrs || return 1
    kd_check "folder acl t1-ben all" \
        acl_has shared/t1-folder@example.org t1-ben@example.org \
        'lrswipk?x?tecdan|lrswipkxte?c?d?an' || return 1
    kd_check "mailHost of the folder is its location" \
        mailhost_is_location "cn=t1-folder,$shared" \
        shared/t1-folder@example.org
}

s2_quota() {
    local m=user/t2-cora@example.org
    user_ldif t2-cora t2-cora@example.org 'mailQuota: 102400' | kd_ldapadd
    kd_check "created with quota 102400" \
        kd_wait "$KD_WAIT" quota_is "$m" 102400 || return 1
    printf 'dn: uid=t2-cora,%s\nchangetype: modify\nreplace: mailQuota\nmailQuota: 307200\n\n' \
        "$people" | kd_ldapmodify || return 1
    kd_check "quota follows to 307200" \
        kd_wait "$KD_WAIT" quota_is "$m" 307200
}

s3_acl() {
    local m=shared/t3-folder@example.org
    {
        printf 'dn: cn=t3-folder,%s\nobjectClass: kolabSharedFolder\n' "$shared"
        printf 'cn: t3-folder\nkolabFolderType: mail\n'
        printf 'kolabTargetFolder: %s\n' "$m"
        printf 'acl: t3-a@example.org, read-only\nacl: t3-b@example.org lrs\n\n'
    } | kd_ldapadd || return 1
    kd_check "created with t3-b" \
        kd_wait "$KD_WAIT" acl_has "$m" t3-b@example.org lrs || return 1
    kd_check "created with t3-a" \
        kd_wait "$KD_WAIT" acl_has "$m" t3-a@example.org 'lrs' || return 1
    printf 'dn: cn=t3-folder,%s\nchangetype: modify\nreplace: acl\nacl: t3-a@example.org, all\nacl: t3-c@example.org lr\n\n' \
        "$shared" | kd_ldapmodify || return 1
    kd_check "t3-c added" \
        kd_wait "$KD_WAIT" acl_has "$m" t3-c@example.org lr || return 1
    kd_check "t3-a changed to all" \
        kd_wait "$KD_WAIT" acl_has "$m" t3-a@example.org 'lrswip.*' || return 1
    kd_check "t3-b removed" kd_wait "$KD_WAIT" acl_lacks "$m" t3-b@example.org
    kd_probe "$kd_conf" acl "$m"
}

s4_rename() {
    local old=user/t4-dora@example.org new=user/t4-dorothea@example.org mh
    user_ldif t4-dora t4-dora@example.org | kd_ldapadd || return 1
    kd_check "created" kd_wait "$KD_WAIT" kd_has_mailbox "$kd_conf" "$old" ||
        return 1
    kd_check "mailHost written" \
        kd_wait "$KD_WAIT" mailhost_is_location "uid=t4-dora,$people" "$old" ||
        return 1
    mh=$(kd_mailhost "uid=t4-dora,$people")
    printf 'dn: uid=t4-dora,%s\nchangetype: modify\nreplace: mail\nmail: t4-dorothea@example.org\n\n' \
        "$people" | kd_ldapmodify || return 1
    kd_check "new name present" \
        kd_wait "$KD_WAIT" kd_has_mailbox "$kd_conf" "$new" || return 1
    kd_check "old name gone" kd_no_mailbox "$kd_conf" "$old" || return 1
    kd_check "sub-folder renamed too" kd_wait "$KD_WAIT" \
        kd_has_mailbox "$kd_conf" user/t4-dorothea/Sent@example.org || return 1
    kd_check "mailHost unchanged ($mh)" \
        test "$(kd_mailhost "uid=t4-dora,$people")" = "$mh" || return 1
    kd_check "still at its mailHost" \
        mailhost_is_location "uid=t4-dora,$people" "$new"
}

s5_delete() {
    local m=user/t5-emil@example.org
    user_ldif t5-emil t5-emil@example.org | kd_ldapadd || return 1
    kd_check "created" kd_wait "$KD_WAIT" kd_has_mailbox "$kd_conf" "$m" ||
        return 1
    kd_check "mailHost written" kd_wait "$KD_WAIT" mailhost_is_location \
        "uid=t5-emil,$people" "$m" || return 1
    printf 'dn: uid=t5-emil,%s\nchangetype: delete\n\n' "$people" |
        kd_ldapmodify || return 1
    kd_check "deleted (delete_mode delete)" \
        kd_wait "$KD_WAIT" kd_no_mailbox "$kd_conf" "$m" || return 1
    kd_check "sub-folders deleted" kd_wait "$KD_WAIT" \
        kd_no_mailbox "$kd_conf" user/t5-emil/Sent@example.org
}

s6_preset() {
    local m=user/t6-fred@example.org
    user_ldif t6-fred t6-fred@example.org "mailHost: $BE2_SERVERNAME" |
        kd_ldapadd || return 1
    kd_check "created" kd_wait "$KD_WAIT" kd_has_mailbox "$kd_conf" "$m" ||
        return 1
    kd_check "on backend2 ($BE2_SERVERNAME)" \
        test "$(kd_probe "$kd_conf" where "$m")" = "$BE2_SERVERNAME"
}

refused_count() {
    kd_status "$kd_conf" | sed -n 's/.*"refused":\([0-9]*\).*/\1/p'
}

refused_at_least() {
    [ "$(refused_count)" -ge "$1" ] 2>/dev/null
}

s8_hostile() {
    local before m=user/t8-good@example.org
    before=$(refused_count)
    {
        user_ldif t8-star 't8*star@example.org'
        # mail "t8-nl\r\nx@example.org" (base64: a newline in a value)
        printf 'dn: uid=t8-nl,%s\nobjectClass: inetOrgPerson\n' "$people"
        printf 'objectClass: kolabInetOrgPerson\nobjectClass: mailRecipient\n'
        printf 'uid: t8-nl\ncn: t8-nl\nsn: t8-nl\n'
        printf 'mail:: %s\n\n' "$(printf 't8-nl\r\nx@example.org' | base64 -w0)"
        printf 'dn: cn=t8-dots,%s\nobjectClass: kolabSharedFolder\n' "$shared"
        printf 'cn: t8-dots\nkolabFolderType: mail\n'
        printf 'kolabTargetFolder: shared/../user/t1-anna@example.org\n\n'
        user_ldif t8-good t8-good@example.org
    } | kd_ldapadd || return 1
    kd_check "good entry created" \
        kd_wait "$KD_WAIT" kd_has_mailbox "$kd_conf" "$m" || return 1
    kd_check "good entry's mailHost written" \
        kd_wait "$KD_WAIT" mailhost_is_location "uid=t8-good,$people" "$m" ||
        return 1
    kd_check "3 more refused (was $before)" \
        kd_wait "$KD_WAIT" refused_at_least $((before + 3)) || return 1
    kd_status "$kd_conf"
    kd_check "no mailbox with a '*'" kd_no_mailbox "$kd_conf" 'user/t8*' ||
        return 1
    kd_check "no mailHost on the hostile user" \
        test -z "$(kd_mailhost "uid=t8-star,$people")" || return 1
    kd_check "status problems name the entries" \
        sh -c "'$kolabd' status --json -c '$kd_conf' | grep -q 'cn=t8-dots' &&
               '$kolabd' status --json -c '$kd_conf' | grep -q 'uid=t8-star'"
}

# The log must name each refused entry (DN or uid), not "(unnamed)".
s8b_refusal_log() {
    local e missing=
    for e in uid=t8-star uid=t8-nl cn=t8-dots; do
        grep 'held:' "$kd_log" | grep -q "$e" || missing="$missing $e"
    done
    grep 'held:' "$kd_log"
    [ -z "$missing" ] && return 0
    echo "refusals logged without naming:$missing"
    return 1
}

# Removes the hostile entries again (whatever scenario 8 found), so that
# the later scenarios can wait for an empty queue.
s8c_cleanup() {
    printf 'dn: uid=t8-star,%s\nchangetype: delete\n\ndn: uid=t8-nl,%s\nchangetype: delete\n\ndn: cn=t8-dots,%s\nchangetype: delete\n\n' \
        "$people" "$people" "$shared" | kd_ldapmodify || return 1
    kd_check "settled after removing them" \
        kd_wait "$KD_WAIT" kd_settled "$kd_conf" || return 1
    kd_check "no problems left" kd_wait 10 sh -c \
        "'$kolabd' status --json -c '$kd_conf' | grep -q '\"problems\":\\[\\]'" &&
        kd_check "queue empty" kd_queue_empty "$kd_conf" && return 0
    kd_status "$kd_conf"
    return 1
}

queue_nonempty() {
    local q
    q=$(kd_queue "$kd_conf")
    [ -n "$q" ] && [ "$q" -gt 0 ]
}

s9_backend_down() {
    local m=user/t9-gina@example.org
    "$sandbox" stop "$dir/sb" backend2 || return 1
    user_ldif t9-gina t9-gina@example.org "mailHost: $BE2_SERVERNAME" |
        kd_ldapadd || return 1
    kd_check "work waits while backend2 is down" \
        kd_wait "$KD_WAIT" queue_nonempty || return 1
    sleep 3
    kd_check "still waiting after 3 s" queue_nonempty || return 1
    kd_status "$kd_conf"
    "$sandbox" start "$dir/sb" backend2 || return 1
    kd_check "created once backend2 is back" \
        kd_wait $((KD_WAIT * 2)) kd_has_mailbox "$kd_conf" "$m" || return 1
    kd_check "on backend2" \
        test "$(kd_probe "$kd_conf" where "$m")" = "$BE2_SERVERNAME" || return 1
    kd_check "settled" kd_wait "$KD_WAIT" kd_settled "$kd_conf"
}

s7_restart() {
    kd_check "settled before the restart" \
        kd_wait "$KD_WAIT" kd_settled "$kd_conf" || return 1
    kd_stop
    kd_start "$kd_conf" "$dir/kolabd-2.log"
    sleep 6
    kd_check "no work but held work after restart" \
        kd_wait "$KD_WAIT" kd_settled "$kd_conf" || return 1
    kd_check "sync connected after restart" \
        kd_wait "$KD_WAIT" sh -c "'$kolabd' status --json -c '$kd_conf' | grep -q '\"connected\":true'" ||
        return 1
    grep ' done$' "$kd_log"
    kd_check "no IMAP work done after restart" \
        test "$(kd_done_lines "$kd_log")" = 0 || return 1
    kd_check "still converged" "$where" -c "$kd_conf" --quiet
}

s5_keep() {
    local m=user/t5-kurt@example.org keep_conf
    keep_conf=$(KD_CONF_DELETE_MODE=keep kd_conf kolabd-keep)
    kd_stop
    kd_start "$keep_conf" "$dir/kolabd-keep.log"
    user_ldif t5-kurt t5-kurt@example.org | kd_ldapadd || return 1
    kd_check "created" kd_wait "$KD_WAIT" kd_has_mailbox "$kd_conf" "$m" ||
        return 1
    kd_check "mailHost written" kd_wait "$KD_WAIT" mailhost_is_location \
        "uid=t5-kurt,$people" "$m" || return 1
    printf 'dn: uid=t5-kurt,%s\nchangetype: delete\n\n' "$people" |
        kd_ldapmodify || return 1
    kd_check "deletion processed (logged as kept)" \
        kd_wait "$KD_WAIT" grep -q "$m.*kept (delete_mode keep)" "$kd_log" ||
        return 1
    kd_check "mailbox kept" kd_has_mailbox "$kd_conf" "$m" || return 1
    kd_check "queue 0" kd_wait "$KD_WAIT" kd_queue_empty "$keep_conf"
}

kd_start "$kd_conf" "$dir/kolabd.log"
kd_scenario "1 create users and a shared folder" s1_create
kd_scenario "2 quota change follows" s2_quota
kd_scenario "3 acl change follows" s3_acl
kd_scenario "4 mail change renames" s4_rename
kd_scenario "5 delete in delete_mode delete" s5_delete
kd_scenario "6 preset mailHost on backend2" s6_preset
kd_scenario "8 hostile entries refused" s8_hostile
kd_scenario "8b refusals logged by name" s8b_refusal_log
kd_scenario "8c hostile entries removed" s8c_cleanup
kd_scenario "9 backend down then up" s9_backend_down
kd_scenario "7 restart changes nothing" s7_restart
kd_scenario "5b delete in delete_mode keep" s5_keep
kd_stop
kd_finish
