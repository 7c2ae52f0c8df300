#!/bin/bash
# test-schema.sh -- schema/kolab.schema and schema/kolab.ldif load into slapd
#
# Checks, with the real OpenLDAP tools:
#  1. kolab.ldif is exactly what schema2ldif.sh makes of kolab.schema;
#  2. kolab.schema loads beside core, cosine and inetorgperson (slaptest -u);
#  3. kolab.ldif loads into an empty cn=config (slapadd -n0, then slaptest);
#  4. Kolab entries (user, STRUCTURAL shared folder, group, resource) pass
#     schema checks (slapadd -u), and misc.schema clashes as documented.
set -u
top=${KD_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
slapd=${KD_SLAPD:-}
[ -n "$slapd" ] || slapd=$(command -v slapd || echo /usr/sbin/slapd)
sbin=$(dirname "$slapd")
schemadir=${KD_LDAP_SCHEMA_DIR:-/etc/ldap/schema}
modpath=${KD_LDAP_MODULEPATH:-/usr/lib/ldap}
fails=0
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

for t in slaptest slapadd; do
    if [ ! -x "$sbin/$t" ]; then
        echo "Bail out! $sbin/$t not found (install slapd)"
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kd-schema.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# 1. the two files are in sync
if "$top/schema/schema2ldif.sh" "$top/schema/kolab.schema" >"$tmp/gen.ldif" &&
    diff -u "$top/schema/kolab.ldif" "$tmp/gen.ldif" >"$tmp/diff"; then
    ok "kolab.ldif matches kolab.schema"
else
    cat "$tmp/diff"
    not_ok "kolab.ldif matches kolab.schema (run schema/schema2ldif.sh)"
fi

# 2. slapd.conf form
conf() { # conf FILE EXTRA-INCLUDES...
    local f=$1
    shift
    {
        echo "include $schemadir/core.schema"
        echo "include $schemadir/cosine.schema"
        echo "include $schemadir/inetorgperson.schema"
        for i in "$@"; do echo "include $i"; done
        echo "include $top/schema/kolab.schema"
        echo "modulepath $modpath"
        echo "moduleload back_mdb"
        echo "database mdb"
        echo "suffix dc=example,dc=org"
        echo "directory $tmp/data"
    } >"$f"
}
mkdir -p "$tmp/data"
conf "$tmp/slapd.conf"
if "$sbin/slaptest" -u -f "$tmp/slapd.conf" >"$tmp/out" 2>&1; then
    ok "kolab.schema loads beside core/cosine/inetorgperson"
else
    cat "$tmp/out"
    not_ok "kolab.schema loads beside core/cosine/inetorgperson"
fi

conf "$tmp/misc.conf" "$schemadir/misc.schema"
if "$sbin/slaptest" -u -f "$tmp/misc.conf" >"$tmp/out" 2>&1; then
    not_ok "misc.schema + kolab.schema is rejected (duplicate mailHost)"
elif grep -q -i 'mailHost\|duplicate\|2.16.840.1.113730.3.1.18' "$tmp/out"; then
    ok "misc.schema + kolab.schema is rejected (duplicate mailHost)"
else
    cat "$tmp/out"
    not_ok "misc.schema + kolab.schema fails for the documented reason"
fi

# 3. cn=config form
{
    printf 'dn: cn=config\nobjectClass: olcGlobal\ncn: config\n\n'
    printf 'dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\n'
    printf 'cn: schema\n\n'
    for s in core cosine inetorgperson; do
        cat "$schemadir/$s.ldif"
        echo
    done
    cat "$top/schema/kolab.ldif"
    echo
    printf 'dn: cn=module{0},cn=config\nobjectClass: olcModuleList\n'
    printf 'cn: module{0}\nolcModulePath: %s\nolcModuleLoad: back_mdb\n\n' \
        "$modpath"
    printf 'dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n'
    printf 'objectClass: olcMdbConfig\nolcDatabase: {1}mdb\n'
    printf 'olcSuffix: dc=example,dc=org\nolcDbDirectory: %s/data\n' "$tmp"
} >"$tmp/config.ldif"
mkdir -p "$tmp/slapd.d"
if "$sbin/slapadd" -n0 -F "$tmp/slapd.d" -l "$tmp/config.ldif" \
    >"$tmp/out" 2>&1 &&
    "$sbin/slaptest" -u -F "$tmp/slapd.d" >>"$tmp/out" 2>&1 &&
    grep -q "kolabTargetFolder" "$tmp/slapd.d/cn=config/cn=schema/cn={3}kolab.ldif"
then
    ok "kolab.ldif loads into cn=config"
else
    cat "$tmp/out"
    not_ok "kolab.ldif loads into cn=config"
fi

# 4. entries as Kolab writes them
cat >"$tmp/entries.ldif" <<'LDIF'
dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: uid=john,dc=example,dc=org
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: mailRecipient
objectClass: kolabInetOrgPerson
uid: john
cn: John Doe
sn: Doe
mail: john@example.org
alias: j.doe@example.org
mailHost: 127.0.0.1:2143
mailQuota: 1048576
kolabInvitationPolicy: ACT_MANUAL
kolabResourceAction: ACT_ACCEPT
kolabVacationBeginDateTime: 20240101000000Z
kolabVacationResendInterval: 7
kolabVacationReplyToUCE: FALSE
kolabHomeServerOnly: TRUE
kolabAllowSMTPSender: example.org
kolabAllowSMTPRecipient: -spam@example.com
kolabDelegate: jane@example.org
kolabDeleteflag: imap1.example.org

dn: cn=memo,dc=example,dc=org
objectClass: top
objectClass: kolabSharedFolder
objectClass: mailRecipient
cn: memo
kolabFolderType: mail
kolabTargetFolder: shared/Memo@example.org
mail: memo@example.org
acl: anyone, lrs
acl: john@example.org, all

dn: cn=room,dc=example,dc=org
objectClass: top
objectClass: kolabSharedFolder
objectClass: kolabResource
objectClass: mailRecipient
cn: room
kolabTargetFolder: shared/Resources/room@example.org
kolabInvitationPolicy: ACT_ACCEPT_IF_NO_CONFLICT
kolabDescAttribute: seats=12
owner: uid=john,dc=example,dc=org

dn: cn=team,dc=example,dc=org
objectClass: top
objectClass: groupOfUniqueNames
objectClass: kolabGroupOfUniqueNames
cn: team
mail: team@example.org
uniqueMember: uid=john,dc=example,dc=org
LDIF
if "$sbin/slapadd" -u -f "$tmp/slapd.conf" -l "$tmp/entries.ldif" \
    >"$tmp/out" 2>&1; then
    ok "user, shared folder, resource and group entries pass schema checks"
else
    cat "$tmp/out"
    not_ok "user, shared folder, resource and group entries pass schema checks"
fi

# kolabFolderType and kolabTargetFolder are single-valued
cat >"$tmp/bad.ldif" <<'LDIF'
dn: cn=bad,dc=example,dc=org
objectClass: kolabSharedFolder
cn: bad
kolabTargetFolder: shared/a@example.org
kolabTargetFolder: shared/b@example.org
LDIF
if "$sbin/slapadd" -u -f "$tmp/slapd.conf" -l "$tmp/bad.ldif" \
    >"$tmp/out" 2>&1; then
    not_ok "a second kolabTargetFolder value is rejected"
elif grep -q "kolabTargetFolder' cannot have multiple values" "$tmp/out"; then
    ok "a second kolabTargetFolder value is rejected"
else
    cat "$tmp/out"
    not_ok "a second kolabTargetFolder value is rejected as multi-valued"
fi

echo "1..$n"
[ "$fails" = 0 ]
