# tests/sandbox: see the top-level Makefile.am for the shared variables
#
# kd-sandbox starts slapd + a Cyrus murder for integration tests; it
# compiles syslog2file.c and kd-sandbox-probe.c itself (without the
# project's sanitizer flags) into each sandbox directory.
EXTRA_DIST += \
	tests/sandbox/kd-sandbox \
	tests/sandbox/syslog2file.c \
	tests/sandbox/kd-sandbox-probe.c \
	tests/sandbox/test-schema.sh

TESTS += tests/sandbox/test-schema.sh
