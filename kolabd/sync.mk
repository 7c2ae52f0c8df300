# kolabd: see the top-level Makefile.am for the shared variables
# Area "sync": SQLite store, LDAP connection, RFC 4533 consumer.
kolabd_libkolabd_la_SOURCES += \
	kolabd/store.c kolabd/store.h kolabd/store-private.h \
	kolabd/store-objects.c kolabd/store-work.c \
	kolabd/ldap-conn.c kolabd/ldap-conn.h \
	kolabd/ldap-sync.c kolabd/ldap-sync.h \
	kolabd/ldap-sync-dispatch.c kolabd/ldap-sync-dispatch.h \
	kolabd/ldap-sync-dispatch-private.h kolabd/ldap-sync-sweep.c \
	kolabd/ldap-sync-parse.c kolabd/ldap-sync-parse.h \
	kolabd/ldap-sync-cookie.c kolabd/ldap-sync-cookie.h \
	kolabd/ldap-sync-watchdog.c kolabd/ldap-sync-watchdog.h

check_PROGRAMS += tests/unit/test-store
TESTS += tests/unit/test-store
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_store_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_store_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-sync-cookie
TESTS += tests/unit/test-sync-cookie
tests_unit_test_sync_cookie_SOURCES = tests/unit/test-sync-cookie.c
tests_unit_test_sync_cookie_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_sync_cookie_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-ldap-sync
TESTS += tests/unit/test-ldap-sync
tests_unit_test_ldap_sync_SOURCES = tests/unit/test-ldap-sync.c
tests_unit_test_ldap_sync_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_ldap_sync_LDADD = $(KD_TESTLIBS)

# Integration tests against a real slapd (tests/sandbox).
KD_SYNCREPL_TEST_SOURCES = \
	tests/integration/syncrepl-common.c tests/integration/syncrepl-common.h \
	tests/integration/syncrepl-test.c tests/integration/syncrepl-test.h
KD_SYNCREPL_TEST_LIBS = tests/sandbox/libkdsandbox.la $(KD_TESTLIBS)

check_PROGRAMS += tests/integration/test-syncrepl
TESTS += tests/integration/test-syncrepl
tests_integration_test_syncrepl_SOURCES = \
	tests/integration/test-syncrepl.c $(KD_SYNCREPL_TEST_SOURCES)
tests_integration_test_syncrepl_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_test_syncrepl_LDADD = $(KD_SYNCREPL_TEST_LIBS)

# A consumer in its own process, for the kill tests.
check_PROGRAMS += tests/integration/kd-sync-tool
tests_integration_kd_sync_tool_SOURCES = \
	tests/integration/kd-sync-tool.c \
	tests/integration/syncrepl-common.c tests/integration/syncrepl-common.h
tests_integration_kd_sync_tool_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_kd_sync_tool_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/integration/test-syncrepl-crash
TESTS += tests/integration/test-syncrepl-crash
tests_integration_test_syncrepl_crash_SOURCES = \
	tests/integration/test-syncrepl-crash.c $(KD_SYNCREPL_TEST_SOURCES)
tests_integration_test_syncrepl_crash_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_test_syncrepl_crash_LDADD = $(KD_SYNCREPL_TEST_LIBS)

# The contextCSN watchdog against a hung slapd and a wedged connection.
check_PROGRAMS += tests/integration/kd-freeze-proxy
tests_integration_kd_freeze_proxy_SOURCES = \
	tests/integration/kd-freeze-proxy.c
tests_integration_kd_freeze_proxy_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_kd_freeze_proxy_LDADD = $(KD_TESTLIBS)
TESTS += tests/integration/test-watchdog.sh
EXTRA_DIST += tests/integration/test-watchdog.sh tests/integration/lib-sync.sh
