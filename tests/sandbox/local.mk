# tests/sandbox: see the top-level Makefile.am for the shared variables
#
# kd-sandbox starts slapd + a Cyrus murder for integration tests; it
# compiles syslog2file.c and kd-sandbox-probe.c itself (without the
# project's sanitizer flags) into each sandbox directory.
EXTRA_DIST += \
	tests/sandbox/kd-sandbox \
	tests/sandbox/syslog2file.c \
	tests/sandbox/kd-sandbox-probe.c \
	tests/sandbox/test-schema.sh \
	tests/sandbox/README.md

TESTS += tests/sandbox/test-schema.sh

# C API for integration tests: #include "sandbox/sandbox.h" and link
# tests/sandbox/libkdsandbox.la.
check_LTLIBRARIES += tests/sandbox/libkdsandbox.la
tests_sandbox_libkdsandbox_la_SOURCES = \
	tests/sandbox/sandbox.c tests/sandbox/sandbox.h
tests_sandbox_libkdsandbox_la_CFLAGS = $(KD_TESTCFLAGS)
tests_sandbox_libkdsandbox_la_LIBADD = $(GLIB_LIBS)

check_PROGRAMS += tests/integration/test-sandbox
TESTS += tests/integration/test-sandbox
tests_integration_test_sandbox_SOURCES = tests/integration/test-sandbox.c
tests_integration_test_sandbox_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_test_sandbox_LDADD = \
	tests/sandbox/libkdsandbox.la $(CMOCKA_LIBS) $(LDAP_LIBS) $(GLIB_LIBS)
CLEANFILES += tests/sandbox/.cache/*-syslog2file.so tests/sandbox/.cache/*-kd-sandbox-probe
