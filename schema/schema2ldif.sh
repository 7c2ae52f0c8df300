#!/bin/sh
# schema2ldif.sh -- convert schema/kolab.schema into its cn=config form.
#
# Usage: schema/schema2ldif.sh kolab.schema > kolab.ldif
#
# Every attributetype/objectclass definition becomes one
# olcAttributeTypes/olcObjectClasses value (whitespace collapsed, numbered
# in file order, folded at 76 columns).  The output is what schema/kolab.ldif
# must contain; tests/sandbox/test-schema.sh compares the two.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 FILE.schema" >&2; exit 2; }
[ -r "$1" ] || { echo "$0: cannot read $1" >&2; exit 1; }
cat <<'HDR'
# kolab.ldif -- LDAP schema for kolabd, cn=config form.
#
# GENERATED from schema/kolab.schema by schema/schema2ldif.sh; edit
# kolab.schema (its comments explain every definition) and regenerate.
# Load with:  ldapadd -Y EXTERNAL -H ldapi:/// -f kolab.ldif
# after core, cosine and inetorgperson.  Do not load misc.ldif as well:
# both define mailHost (2.16.840.1.113730.3.1.18).
#
dn: cn=kolab,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: kolab
HDR
awk '
function flush(   line, first) {
    if (def == "") return
    gsub(/[ \t]+/, " ", def); sub(/^ /, "", def); sub(/ $/, "", def)
    if (kind == "attributetype") line = "olcAttributeTypes: {" na++ "}" def
    else line = "olcObjectClasses: {" no++ "}" def
    first = 1
    while (length(line) > (first ? 76 : 75)) {
        n = first ? 76 : 75
        print (first ? "" : " ") substr(line, 1, n)
        line = substr(line, n + 1); first = 0
    }
    print (first ? "" : " ") line
    def = ""
}
BEGIN { na = 0; no = 0; def = ""; depth = 0 }
/^[ \t]*#/ || /^[ \t]*$/ { next }
{
    l = $0
    if (depth == 0) {
        if (match(tolower(l), /^[ \t]*(attributetype|objectclass)[ \t]/)) {
            kind = tolower(l); sub(/^[ \t]*/, "", kind); sub(/[ \t].*/, "", kind)
            sub(/^[ \t]*[A-Za-z]+[ \t]+/, "", l)
        } else {
            printf "schema2ldif: %s:%d: unexpected line\n", FILENAME, NR > "/dev/stderr"
            exit 1
        }
    }
    def = def " " l
    o = l; c = l
    depth += gsub(/\(/, "", o) - gsub(/\)/, "", c)
    if (depth == 0) flush()
}
END { if (depth != 0) { print "schema2ldif: unbalanced parentheses" > "/dev/stderr"; exit 1 } }
' "$1"
