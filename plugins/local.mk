# plugins: see the top-level Makefile.am for the shared variables
#
# The placement plugin API (the only installed header, with its .pc), the
# placement chain in libkolabd, the built-in plugins, and their tests.

# ---- the installed API ------------------------------------------------
kolabdincludedir = $(includedir)/kolabd
kolabdinclude_HEADERS = plugins/kolabd-plugin.h
pkgconfig_DATA += plugins/kolabd-plugin.pc
EXTRA_DIST += plugins/kolabd-plugin.pc.in

# ---- the loader and the chain (kolabd/placement*) ---------------------
kolabd_libkolabd_la_SOURCES += \
	kolabd/placement.c kolabd/placement.h \
	kolabd/placement-settings.c \
	kolabd/placement-request.c \
	kolabd/placement-module.c kolabd/placement-module.h

# ---- built-in plugins -------------------------------------------------
# Plain C, no GLib: each exports kolabd_placement_plugin and nothing else.
KD_PLUGIN_CFLAGS = $(KD_CFLAGS)
KD_PLUGIN_LDFLAGS = $(KD_LDFLAGS) -module -avoid-version -shared \
	-no-undefined -export-symbols-regex '^kolabd_placement_plugin$$'

plugin_LTLIBRARIES += \
	plugins/placement-static.la \
	plugins/placement-attribute.la \
	plugins/placement-domain.la \
	plugins/placement-hash.la \
	plugins/placement-least-used.la

plugins_placement_static_la_SOURCES = plugins/placement-static.c \
	plugins/kolabd-plugin.h
plugins_placement_static_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
plugins_placement_static_la_LDFLAGS = $(KD_PLUGIN_LDFLAGS)

plugins_placement_attribute_la_SOURCES = plugins/placement-attribute.c \
	plugins/kolabd-plugin.h
plugins_placement_attribute_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
plugins_placement_attribute_la_LDFLAGS = $(KD_PLUGIN_LDFLAGS)

plugins_placement_domain_la_SOURCES = plugins/placement-domain.c \
	plugins/rendezvous.c plugins/rendezvous.h plugins/kolabd-plugin.h
plugins_placement_domain_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
plugins_placement_domain_la_LDFLAGS = $(KD_PLUGIN_LDFLAGS)
plugins_placement_domain_la_LIBADD = -lm

plugins_placement_hash_la_SOURCES = plugins/placement-hash.c \
	plugins/rendezvous.c plugins/rendezvous.h plugins/kolabd-plugin.h
plugins_placement_hash_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
plugins_placement_hash_la_LDFLAGS = $(KD_PLUGIN_LDFLAGS)
plugins_placement_hash_la_LIBADD = -lm

plugins_placement_least_used_la_SOURCES = plugins/placement-least-used.c \
	plugins/kolabd-plugin.h
plugins_placement_least_used_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
plugins_placement_least_used_la_LDFLAGS = $(KD_PLUGIN_LDFLAGS)

# ---- check-only plugins: one that obeys its config, and broken ones ----
# -rpath makes libtool build them shared although they are not installed.
KD_TESTPLUGIN_LDFLAGS = $(KD_PLUGIN_LDFLAGS) -rpath $(abs_builddir)/tests/plugin

check_LTLIBRARIES += \
	tests/plugin/placement-testing.la \
	tests/plugin/placement-badabi.la \
	tests/plugin/placement-nosym.la \
	tests/plugin/placement-nullfn.la \
	tests/plugin/placement-small.la \
	tests/plugin/placement-misnamed.la

tests_plugin_placement_testing_la_SOURCES = tests/plugin/testing-plugin.c
tests_plugin_placement_testing_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
tests_plugin_placement_testing_la_LDFLAGS = $(KD_TESTPLUGIN_LDFLAGS)

tests_plugin_placement_badabi_la_SOURCES = tests/plugin/bad-plugin.c
tests_plugin_placement_badabi_la_CPPFLAGS = $(AM_CPPFLAGS) -DKD_BAD_ABI
tests_plugin_placement_badabi_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
tests_plugin_placement_badabi_la_LDFLAGS = $(KD_TESTPLUGIN_LDFLAGS)

tests_plugin_placement_nosym_la_SOURCES = tests/plugin/bad-plugin.c
tests_plugin_placement_nosym_la_CPPFLAGS = $(AM_CPPFLAGS) -DKD_BAD_NOSYM
tests_plugin_placement_nosym_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
# exports nothing: no -export-symbols-regex that names a missing symbol
tests_plugin_placement_nosym_la_LDFLAGS = $(KD_LDFLAGS) -module \
	-avoid-version -shared -no-undefined -rpath $(abs_builddir)/tests/plugin

tests_plugin_placement_nullfn_la_SOURCES = tests/plugin/bad-plugin.c
tests_plugin_placement_nullfn_la_CPPFLAGS = $(AM_CPPFLAGS) -DKD_BAD_NULLFN
tests_plugin_placement_nullfn_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
tests_plugin_placement_nullfn_la_LDFLAGS = $(KD_TESTPLUGIN_LDFLAGS)

tests_plugin_placement_small_la_SOURCES = tests/plugin/bad-plugin.c
tests_plugin_placement_small_la_CPPFLAGS = $(AM_CPPFLAGS) -DKD_BAD_SIZE
tests_plugin_placement_small_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
tests_plugin_placement_small_la_LDFLAGS = $(KD_TESTPLUGIN_LDFLAGS)

tests_plugin_placement_misnamed_la_SOURCES = tests/plugin/bad-plugin.c
tests_plugin_placement_misnamed_la_CPPFLAGS = $(AM_CPPFLAGS) -DKD_BAD_NAME
tests_plugin_placement_misnamed_la_CFLAGS = $(KD_PLUGIN_CFLAGS)
tests_plugin_placement_misnamed_la_LDFLAGS = $(KD_TESTPLUGIN_LDFLAGS)

# ---- unit tests -------------------------------------------------------
KD_PLACEMENT_TEST_SOURCES = tests/unit/placement-fixture.c \
	tests/unit/placement-fixture.h

check_PROGRAMS += \
	tests/unit/test-placement \
	tests/unit/test-placement-abi \
	tests/unit/test-placement-plugins \
	tests/unit/test-placement-props \
	tests/plugin/placement-run
TESTS += \
	tests/unit/test-placement \
	tests/unit/test-placement-abi \
	tests/unit/test-placement-plugins \
	tests/unit/test-placement-props \
	tests/plugin/test-header.sh \
	tests/plugin/test-out-of-tree.sh

tests_unit_test_placement_SOURCES = tests/unit/test-placement.c \
	$(KD_PLACEMENT_TEST_SOURCES)
tests_unit_test_placement_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_placement_LDADD = $(KD_TESTLIBS)

tests_unit_test_placement_abi_SOURCES = tests/unit/test-placement-abi.c \
	$(KD_PLACEMENT_TEST_SOURCES)
tests_unit_test_placement_abi_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_placement_abi_LDADD = $(KD_TESTLIBS)

tests_unit_test_placement_plugins_SOURCES = \
	tests/unit/test-placement-plugins.c $(KD_PLACEMENT_TEST_SOURCES)
tests_unit_test_placement_plugins_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_placement_plugins_LDADD = $(KD_TESTLIBS)

# the rendezvous hash is also tested directly, outside any plugin
tests_unit_test_placement_props_SOURCES = tests/unit/test-placement-props.c \
	plugins/rendezvous.c plugins/rendezvous.h $(KD_PLACEMENT_TEST_SOURCES)
tests_unit_test_placement_props_CFLAGS = $(KD_TESTCFLAGS)
tests_unit_test_placement_props_LDADD = $(KD_TESTLIBS) -lm

# a tiny host for the shell tests: loads a chain and places mailboxes
tests_plugin_placement_run_SOURCES = tests/plugin/placement-run.c
tests_plugin_placement_run_LDADD = kolabd/libkolabd.la

# ---- shell tests: header on its own, a plugin built out of tree -------
# They need the compiler and the build tree's make; install only the
# plugin API pieces into a private DESTDIR.
AM_TESTS_ENVIRONMENT += \
	KD_CC='$(CC)'; export KD_CC; \
	KD_MAKE='$(MAKE)'; export KD_MAKE; \
	KD_PKG_CONFIG='$(PKG_CONFIG)'; export KD_PKG_CONFIG; \
	KD_LIBDIR='$(libdir)'; export KD_LIBDIR; \
	KD_PLUGINDIR='$(plugindir)'; export KD_PLUGINDIR;

EXTRA_DIST += \
	tests/plugin/test-header.sh \
	tests/plugin/test-out-of-tree.sh \
	tests/plugin/my-placement.c \
	tests/plugin/Makefile.example
