# kolabd: see the top-level Makefile.am for the shared variables
# Area "sync": SQLite store, LDAP connection, RFC 4533 consumer.
kolabd_libkolabd_la_SOURCES += \
	kolabd/store.c kolabd/store.h kolabd/store-private.h \
	kolabd/store-objects.c kolabd/store-work.c

check_PROGRAMS += tests/unit/test-store
TESTS += tests/unit/test-store
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_store_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_store_LDADD = $(KD_TESTLIBS)
