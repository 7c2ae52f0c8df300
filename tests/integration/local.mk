# tests/integration/: provisioning integration tests (see Makefile.am):
# shell scenarios that run kolabd against the sandbox murder, and the
# probe they use to look at (and tamper with) the backends.
check_PROGRAMS += tests/integration/kd-imap-probe \
	tests/integration/kd-stall-listen
tests_integration_kd_stall_listen_SOURCES = \
	tests/integration/kd-stall-listen.c
tests_integration_kd_imap_probe_SOURCES = tests/integration/kd-imap-probe.c
tests_integration_kd_imap_probe_LDADD = kolabd/libkolabd.la
TESTS += \
	tests/integration/test-provision.sh \
	tests/integration/test-resync.sh \
	tests/integration/test-engine.sh \
	tests/integration/test-slow-imap.sh \
	tests/integration/test-mpr.sh
EXTRA_DIST += \
	tests/integration/lib-kolabd.sh \
	tests/integration/test-provision.sh \
	tests/integration/test-resync.sh \
	tests/integration/test-engine.sh \
	tests/integration/test-slow-imap.sh \
	tests/integration/test-mpr.sh
# the network partition case (ip netns; skipped without CAP_SYS_ADMIN)
TESTS += tests/integration/test-partition.sh
EXTRA_DIST += tests/integration/test-partition.sh
