# tests/demo/: `make demo` and the independent mailHost checker
noinst_PROGRAMS += tests/demo/kd-where
tests_demo_kd_where_SOURCES = tests/demo/kd-where.c
tests_demo_kd_where_LDADD = kolabd/libkolabd.la
EXTRA_DIST += tests/demo/kd-demo tests/demo/kd-conf tests/data/demo.ldif

demo: all
	KD_TOP_SRCDIR='$(abs_top_srcdir)' KD_TOP_BUILDDIR='$(abs_top_builddir)' \
	  $(SHELL) $(abs_top_srcdir)/tests/demo/kd-demo
.PHONY: demo
