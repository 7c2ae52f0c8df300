# kolabd/: shared types and the engine (reconcile, directory, daemon, cli)
kolabd_libkolabd_la_SOURCES += \
	kolabd/entry.c kolabd/entry.h \
	kolabd/object.c kolabd/object.h
kolabd_libkolabd_la_SOURCES += \
	kolabd/reconcile.c kolabd/reconcile.h

check_PROGRAMS += tests/unit/test-reconcile
TESTS += tests/unit/test-reconcile
tests_unit_test_reconcile_SOURCES = tests/unit/test-reconcile.c
tests_unit_test_reconcile_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_reconcile_LDADD = $(KD_TESTLIBS)
kolabd_libkolabd_la_SOURCES += \
	kolabd/provision.c kolabd/provision.h
kolabd_libkolabd_la_SOURCES += \
	kolabd/directory.c kolabd/directory.h
kolabd_libkolabd_la_SOURCES += \
	kolabd/engine.c kolabd/engine.h kolabd/engine-private.h \
	kolabd/engine-dispatch.c kolabd/engine-record.c kolabd/engine-folders.c \
	kolabd/worker.c
kolabd_libkolabd_la_SOURCES += \
	kolabd/app.c kolabd/app.h \
	kolabd/cli.c kolabd/cli.h kolabd/cli-daemon.c kolabd/cli-resync.c \
	kolabd/cli-status.c

check_PROGRAMS += tests/unit/test-engine-folders
TESTS += tests/unit/test-engine-folders
tests_unit_test_engine_folders_SOURCES = tests/unit/test-engine-folders.c
tests_unit_test_engine_folders_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_engine_folders_LDADD = $(KD_TESTLIBS)
