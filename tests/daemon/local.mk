# tests/daemon/: integration tests of the daemon's lifecycle (readiness
# notification, reload, config errors, shutdown under load, privilege
# drop, hooks, status) against the sandbox; see tests/daemon/*.sh.
check_PROGRAMS += tests/daemon/kd-notify-listen
tests_daemon_kd_notify_listen_SOURCES = tests/daemon/kd-notify-listen.c
check_PROGRAMS += tests/daemon/kd-mailbox-where
tests_daemon_kd_mailbox_where_SOURCES = tests/daemon/kd-mailbox-where.c
tests_daemon_kd_mailbox_where_LDADD = kolabd/libkolabd.la
TESTS += \
	tests/daemon/test-notify.sh \
	tests/daemon/test-config.sh \
	tests/daemon/test-status.sh \
	tests/daemon/test-privileges.sh \
	tests/daemon/test-shutdown.sh \
	tests/daemon/test-hooks.sh
EXTRA_DIST += \
	tests/lib-proc.sh \
	tests/daemon/lib-daemon.sh \
	tests/daemon/test-notify.sh \
	tests/daemon/test-config.sh \
	tests/daemon/test-status.sh \
	tests/daemon/test-privileges.sh \
	tests/daemon/test-shutdown.sh \
	tests/daemon/test-hooks.sh
