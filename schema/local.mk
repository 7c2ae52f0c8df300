# schema: see the top-level Makefile.am for the shared variables
#
# kolab.schema (slapd.conf form) and kolab.ldif (cn=config form, generated
# from kolab.schema by schema2ldif.sh) are installed side by side into
# $(datadir)/kolabd/schema.  tests/sandbox/test-schema.sh keeps them in sync.
kolabschemadir = $(pkgdatadir)/schema
dist_kolabschema_DATA = schema/kolab.schema schema/kolab.ldif
EXTRA_DIST += schema/schema2ldif.sh
