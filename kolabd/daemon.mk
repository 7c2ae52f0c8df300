# kolabd/: hooks and daemon lifecycle (see the top-level Makefile.am)
kolabd_libkolabd_la_SOURCES += \
	kolabd/daemon.c kolabd/daemon.h \
	kolabd/notify.c kolabd/notify.h \
	kolabd/hooks.c kolabd/hooks.h \
	kolabd/hooks-exec.c kolabd/hooks-exec.h \
	kolabd/hooks-json.c kolabd/hooks-json.h \
	kolabd/hooks-queue.c kolabd/hooks-queue.h

check_PROGRAMS += tests/unit/test-hooks
TESTS += tests/unit/test-hooks
tests_unit_test_hooks_SOURCES = tests/unit/test-hooks.c
tests_unit_test_hooks_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_hooks_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-daemon
TESTS += tests/unit/test-daemon
tests_unit_test_daemon_SOURCES = tests/unit/test-daemon.c
tests_unit_test_daemon_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_daemon_LDADD = $(KD_TESTLIBS)
