/*
 * notify: service manager readiness notification (sd_notify protocol).
 *
 * kolabd runs under systemd as Type=notify. The daemon tells the service
 * manager when it is ready (config, store, plugins and the LDAP bind are
 * good), when it reloads (around SIGHUP) and when it stops. Messages go to
 * the AF_UNIX datagram socket named by $NOTIFY_SOCKET; without that
 * variable (not started by systemd) every call is a cheap no-op.
 *
 * With libsystemd (HAVE_LIBSYSTEMD) the messages go through sd_notify();
 * otherwise through kd_notify_send_to(), a small implementation of the
 * same datagram protocol that also understands abstract socket names
 * ("@name"). kd_notify_send_to() is always built so that it can be tested.
 *
 * The functions never fail the caller: a notification that cannot be
 * delivered is logged at debug level and reported by the return value.
 * They are safe to call from any thread.
 */
#ifndef KOLABD_NOTIFY_H
#define KOLABD_NOTIFY_H

#include <glib.h>

#define KD_NOTIFY_ERROR (kd_notify_error_quark())
GQuark kd_notify_error_quark(void);

typedef enum {
    KD_NOTIFY_ERROR_ADDRESS, /* socket name empty, too long or relative */
    KD_NOTIFY_ERROR_SEND,    /* socket() or sendmsg() failed */
} KdNotifyError;

/*
 * Sends @state (newline-separated VAR=VALUE assignments, not NULL) to
 * $NOTIFY_SOCKET. Returns TRUE when the message was sent, FALSE when
 * $NOTIFY_SOCKET is unset or sending failed (logged at debug level).
 */
gboolean kd_notify_send(const char *state);

/* "READY=1": startup or a reload finished. */
gboolean kd_notify_ready(void);

/*
 * "RELOADING=1" with "MONOTONIC_USEC=<now>" as systemd >= 253 expects for
 * Type=notify-reload; older managers ignore the extra line. Follow it with
 * kd_notify_ready() once the reload is done (also when it failed and the
 * old configuration was kept).
 */
gboolean kd_notify_reloading(void);

/* "STOPPING=1": the daemon is shutting down. */
gboolean kd_notify_stopping(void);

/*
 * "STATUS=<text>", shown by systemctl status. @text (not NULL) is copied
 * with newlines and other control characters replaced by spaces, so that
 * it cannot inject further assignments, and cut to 512 bytes.
 */
gboolean kd_notify_status(const char *text);

/*
 * The datagram protocol itself, independent of libsystemd: sends @state
 * to the AF_UNIX socket @socket_path, a filesystem path ("/run/...") or an
 * abstract name ("@name"). Returns FALSE with @error set
 * (KD_NOTIFY_ERROR_ADDRESS or _SEND) on failure.
 */
gboolean kd_notify_send_to(const char *socket_path, const char *state,
                           GError **error);

#endif /* KOLABD_NOTIFY_H */
