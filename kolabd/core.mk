# kolabd: see the top-level Makefile.am for the shared variables
# kolabd/: shared types and the pure-logic core (config, log, filter, mutf7,
# acl, folders, model)
kolabd_libkolabd_la_SOURCES += \
	kolabd/entry.c kolabd/entry.h \
	kolabd/object.c kolabd/object.h \
	kolabd/mutf7.c kolabd/mutf7.h \
	kolabd/filter.c kolabd/filter.h \
	kolabd/acl.c kolabd/acl.h kolabd/acl-parse.c kolabd/acl-private.h \
	kolabd/folders.c kolabd/folders.h \
	kolabd/config.c kolabd/config.h kolabd/config-options.c \
	kolabd/config-value.c kolabd/config-source.c kolabd/config-private.h \
	kolabd/log.c kolabd/log.h \
	kolabd/model.c kolabd/model.h

check_PROGRAMS += tests/unit/test-mutf7
TESTS += tests/unit/test-mutf7
tests_unit_test_mutf7_SOURCES = tests/unit/test-mutf7.c
tests_unit_test_mutf7_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_mutf7_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-filter
TESTS += tests/unit/test-filter
tests_unit_test_filter_SOURCES = tests/unit/test-filter.c
tests_unit_test_filter_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_filter_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-acl
TESTS += tests/unit/test-acl
tests_unit_test_acl_SOURCES = tests/unit/test-acl.c
tests_unit_test_acl_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_acl_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-folders
TESTS += tests/unit/test-folders
tests_unit_test_folders_SOURCES = tests/unit/test-folders.c
tests_unit_test_folders_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_folders_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-config
TESTS += tests/unit/test-config
tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_config_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-log
TESTS += tests/unit/test-log
tests_unit_test_log_SOURCES = tests/unit/test-log.c
tests_unit_test_log_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_log_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-model
TESTS += tests/unit/test-model
tests_unit_test_model_SOURCES = tests/unit/test-model.c
tests_unit_test_model_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_model_LDADD = $(KD_TESTLIBS)
