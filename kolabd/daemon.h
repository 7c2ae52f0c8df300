/*
 * daemon: the reusable pieces of the daemon's lifecycle.
 *
 * main wires them together in this order (nslcd's order):
 *   1. parse config, open the log;
 *   2. as root: kd_daemon_prepare_state_dir() (creates the state directory
 *      and hands it to the daemon user), then kd_daemon_drop_privileges();
 *      kd_daemon_check_not_root() refuses to carry on as root when no user
 *      is configured and we are not under systemd;
 *   3. open store, plugins, bind LDAP, then kd_notify_ready();
 *   4. kd_daemon_install_signals() and run the main loop;
 *   5. on stop: kd_notify_stopping(), kd_daemon_wait_bounded() for the
 *      in-flight work, exit.
 * This module decides nothing about what a reload reloads: it calls back.
 *
 * Signals are delivered through g_unix_signal_source_new(): the callbacks
 * run in the main loop, never inside a signal handler, so they may do any
 * work (but should not block the loop for long).
 */
#ifndef KOLABD_DAEMON_H
#define KOLABD_DAEMON_H

#include <glib.h>

#define KD_DAEMON_ERROR (kd_daemon_error_quark())
GQuark kd_daemon_error_quark(void);

typedef enum {
    KD_DAEMON_ERROR_NO_USER,   /* user or group not found */
    KD_DAEMON_ERROR_ROOT,      /* would run as root; refused */
    KD_DAEMON_ERROR_NOT_ROOT,  /* must be root to switch to that user */
    KD_DAEMON_ERROR_SYSCALL,   /* initgroups/setgid/setuid/mkdir/chown */
    KD_DAEMON_ERROR_VERIFY,    /* the drop did not stick (could regain) */
    KD_DAEMON_ERROR_STATE_DIR, /* state_dir is not a usable directory */
} KdDaemonError;

/*
 * Drops root for @user (not NULL) and @group (NULL: the user's primary
 * group), in this order: initgroups(), setresgid(), setresuid(). Then it
 * verifies that real, effective and saved IDs are the target ones, that
 * no supplementary group is 0 unless the user is a member of it, and that
 * setuid(0) and setgid(0) fail.
 *
 * Not root (euid != 0): nothing can be dropped; returns TRUE if the
 * process already runs as @user, else KD_DAEMON_ERROR_NOT_ROOT.
 * Errors: KD_DAEMON_ERROR_NO_USER (unknown user/group),
 * KD_DAEMON_ERROR_ROOT (@user is uid 0 or @group gid 0),
 * KD_DAEMON_ERROR_SYSCALL, KD_DAEMON_ERROR_VERIFY. After a failure the
 * process may be in a half-dropped state: the caller must exit.
 * Call it before starting threads.
 */
gboolean kd_daemon_drop_privileges(const char *user, const char *group,
                                   GError **error);

/*
 * Makes sure @state_dir (not NULL, absolute) is a real directory (not a
 * symlink), creating it with mode 0750 if missing (the parent must
 * exist). As root with @user set (group as in drop_privileges), chowns
 * the directory and the regular files directly inside it (the SQLite
 * store and its -wal/-shm files, possibly left by an earlier run as root)
 * to the user; symlinks are not followed. Without root, it checks that
 * the directory is writable by the process.
 * Errors: KD_DAEMON_ERROR_STATE_DIR, KD_DAEMON_ERROR_NO_USER,
 * KD_DAEMON_ERROR_SYSCALL; the message names the path.
 */
gboolean kd_daemon_prepare_state_dir(const char *state_dir, const char *user,
                                     const char *group, GError **error);

/*
 * TRUE when the service manager started us ($NOTIFY_SOCKET or
 * $INVOCATION_ID set), where the unit's User= decides the user.
 */
gboolean kd_daemon_under_systemd(void);

/*
 * KD_DAEMON_ERROR_ROOT when the effective uid is 0 and we are not under
 * systemd: the daemon must then refuse to start (configure a user, or let
 * systemd run it). TRUE otherwise.
 */
gboolean kd_daemon_check_not_root(GError **error);

/*
 * What the daemon does on signals. Every callback is optional and runs
 * in the main loop's context with @data.
 *   on_reload:    SIGHUP.
 *   on_stop:      SIGTERM or SIGINT; @signum says which, @count counts
 *                 stop signals so far (1 on the first; a second one may
 *                 mean "hurry"). NULL: quit the loop.
 *   on_reconnect: SIGUSR1.
 */
typedef struct {
    void (*on_reload)(gpointer data);
    void (*on_stop)(int signum, guint count, gpointer data);
    void (*on_reconnect)(gpointer data);
    gpointer data;
} KdDaemonCallbacks;

typedef struct KdDaemonSignals KdDaemonSignals;

/*
 * Installs SIGHUP, SIGTERM, SIGINT and SIGUSR1 sources in @loop's context
 * (@loop not NULL, referenced) and ignores SIGPIPE (writes to a closed
 * socket then fail with EPIPE instead of killing the daemon; hooks get
 * default dispositions back). @callbacks is copied. Returns a handle that
 * kd_daemon_signals_free() removes again.
 */
KdDaemonSignals *kd_daemon_install_signals(GMainLoop *loop,
                                           const KdDaemonCallbacks *callbacks);
void kd_daemon_signals_free(KdDaemonSignals *signals);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdDaemonSignals, kd_daemon_signals_free)

/*
 * Bounded shutdown: iterates @context (NULL: default) until @done(@data)
 * returns TRUE or @timeout_ms passed. @done is polled after each
 * iteration and at least every 50 ms. Returns TRUE when the work
 * finished in time, FALSE when the caller must abandon it.
 */
gboolean kd_daemon_wait_bounded(GMainContext *context, guint timeout_ms,
                                gboolean (*done)(gpointer data), gpointer data);

#endif /* KOLABD_DAEMON_H */
