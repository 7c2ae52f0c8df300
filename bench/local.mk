# bench: provisioning speed against the Cyrus floor (bench/RESULTS.md).
# `bench/kd-bench SCENARIO` drives everything; the helpers below are the
# floor client, the steady-state latency probe and a NOTIFY_SOCKET
# listener. `make check` runs `kd-bench smoke` (tiny sizes, no timing
# asserts).
noinst_PROGRAMS += bench/kd-bench-floor bench/kd-bench-latency \
	bench/kd-bench-notify bench/kd-bench-refresh
bench_kd_bench_floor_SOURCES = bench/kd-bench-floor.c
bench_kd_bench_floor_LDADD = kolabd/libkolabd.la
bench_kd_bench_latency_SOURCES = bench/kd-bench-latency.c
bench_kd_bench_latency_LDADD = kolabd/libkolabd.la
bench_kd_bench_notify_SOURCES = bench/kd-bench-notify.c
bench_kd_bench_refresh_SOURCES = bench/kd-bench-refresh.c
bench_kd_bench_refresh_LDADD = kolabd/libkolabd.la
TESTS += bench/kd-bench-smoke
EXTRA_DIST += bench/kd-bench bench/kd-bench-smoke bench/kd-bench-sync \
	bench/RESULTS.md

bench: all
	KD_TOP_SRCDIR='$(abs_top_srcdir)' KD_TOP_BUILDDIR='$(abs_top_builddir)' \
	  $(SHELL) $(abs_top_srcdir)/bench/kd-bench $(BENCH_ARGS)
.PHONY: bench
