# kolabd: see the top-level Makefile.am for the shared variables
# imap: libetpan sessions, quoting, METADATA parser; mupdate client; murder

kolabd_libkolabd_la_SOURCES += \
	kolabd/imap.c kolabd/imap.h kolabd/imap-private.h kolabd/imap-auth.c \
	kolabd/imap-connect.c \
	kolabd/imap-command.c kolabd/imap-error.c \
	kolabd/imap-metadata.c kolabd/imap-metadata.h \
	kolabd/imap-quote.c kolabd/imap-quote.h \
	kolabd/imap-tls.c kolabd/imap-uri.c

# imap-tls verifies server certificates with GnuTLS itself
AM_CFLAGS += $(GNUTLS_CFLAGS)
kolabd_libkolabd_la_LIBADD += $(GNUTLS_LIBS)

check_PROGRAMS += tests/unit/test-imap-uri
TESTS += tests/unit/test-imap-uri
tests_unit_test_imap_uri_SOURCES = tests/unit/test-imap-uri.c
tests_unit_test_imap_uri_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_imap_uri_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-imap-quote
TESTS += tests/unit/test-imap-quote
tests_unit_test_imap_quote_SOURCES = tests/unit/test-imap-quote.c
tests_unit_test_imap_quote_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_imap_quote_LDADD = $(KD_TESTLIBS)

check_PROGRAMS += tests/unit/test-imap-session
TESTS += tests/unit/test-imap-session
tests_unit_test_imap_session_SOURCES = tests/unit/test-imap-session.c
tests_unit_test_imap_session_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_imap_session_LDADD = $(KD_TESTLIBS) $(GLIB_LIBS)

kolabd_libkolabd_la_SOURCES += \
	kolabd/mupdate.c kolabd/mupdate-name.c kolabd/mupdate.h \
	kolabd/tls.c kolabd/tls.h

kolabd_libkolabd_la_SOURCES += kolabd/murder.c kolabd/murder.h

check_PROGRAMS += tests/integration/test-imap
TESTS += tests/integration/test-imap
tests_integration_test_imap_SOURCES = tests/integration/test-imap.c
tests_integration_test_imap_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_test_imap_LDADD = \
	tests/sandbox/libkdsandbox.la $(KD_TESTLIBS) $(GLIB_LIBS)

check_PROGRAMS += tests/integration/test-murder
TESTS += tests/integration/test-murder
tests_integration_test_murder_SOURCES = tests/integration/test-murder.c
tests_integration_test_murder_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_test_murder_LDADD = \
	tests/sandbox/libkdsandbox.la $(KD_TESTLIBS) $(GLIB_LIBS)

check_PROGRAMS += tests/integration/test-imap-tls
TESTS += tests/integration/test-imap-tls
tests_integration_test_imap_tls_SOURCES = tests/integration/test-imap-tls.c
tests_integration_test_imap_tls_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_test_imap_tls_LDADD = \
	tests/sandbox/libkdsandbox.la $(KD_TESTLIBS) $(GLIB_LIBS)

# kolabd itself against the murder over imaps:// (kd-sandbox up --tls)
TESTS += tests/integration/test-imap-tls.sh
EXTRA_DIST += tests/integration/test-imap-tls.sh

# mupdate STARTTLS against the TLS sandbox master, plus scripted peers
check_PROGRAMS += tests/integration/test-mupdate-tls
TESTS += tests/integration/test-mupdate-tls
tests_integration_test_mupdate_tls_SOURCES = \
	tests/integration/test-mupdate-tls.c
tests_integration_test_mupdate_tls_CFLAGS = $(KD_TESTCFLAGS)
tests_integration_test_mupdate_tls_LDADD = \
	tests/sandbox/libkdsandbox.la $(KD_TESTLIBS) $(GLIB_LIBS)
