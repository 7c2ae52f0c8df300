/*
 * mupdate: a small client for the Cyrus mupdate master (RFC 3656), the
 * authority on which backend holds which mailbox in a murder.
 *
 * libetpan cannot speak MUPDATE (replies are tagged, strings are {n+}
 * literals), so this is a line reader on a GIO socket. kolabd only reads:
 * AUTHENTICATE "PLAIN", FIND and LIST. It never sends RESERVE, ACTIVATE or
 * DELETE (the master accepts them from any authenticated user).
 *
 * Mailbox names here are Cyrus *internal* names
 * ("example.org!user.john.Calendar"); kd_mupdate_name_to_internal() and
 * kd_mupdate_name_from_internal() convert from and to the admin names
 * kolabd uses over IMAP ("user/john/Calendar@example.org").
 *
 * Errors use the KD_IMAP_ERROR domain (imap.h) so callers classify IMAP
 * and mupdate failures alike: TRANSIENT when the master cannot be reached,
 * CLOSED when the connection died (reconnect), AUTH, BUG for a BAD reply,
 * NONEXISTENT for an unknown mailbox, INVALID_NAME for a refused name,
 * TLS when STARTTLS was asked for and failed.
 *
 * TLS: mupdate has no implicit-TLS port; Cyrus offers STARTTLS ("*
 * STARTTLS" in the banner) when the master has tls_server_cert and
 * tls_server_key. kd_mupdate_connect_tls() upgrades before authenticating
 * and verifies the master's certificate exactly like IMAP connections
 * (KdImapTls, imap.h: chain to a trust anchor, validity, host name or IP),
 * so the password never goes out in clear text or to an unverified peer.
 * Each handle is for one thread at a time.
 */
#ifndef KOLABD_MUPDATE_H
#define KOLABD_MUPDATE_H

#include <glib.h>

#include "imap.h"

typedef struct KdMupdate KdMupdate;

/*
 * Connects to @host:@port, reads the banner and authenticates as @user
 * with @password (SASL PLAIN, no authzid). @timeout_s bounds every I/O
 * wait (0 = 60 s). Returns a handle to free with kd_mupdate_free().
 */
KdMupdate *kd_mupdate_connect(const char *host, guint16 port,
                              const char *user, const char *password,
                              int timeout_s, GError **error);

/*
 * Like kd_mupdate_connect(); with @starttls, upgrades the connection with
 * STARTTLS after the banner and verifies the master's certificate for
 * @host against @trust (NULL: the system trust store) before anything
 * else, credentials included, is sent. Errors as kd_mupdate_connect(),
 * plus KD_IMAP_ERROR_TLS ("mupdate://host:port: ..." with the reason: not
 * offered by the master, refused, handshake failed, "server certificate
 * rejected: unknown issuer ..." or "name mismatch ..."; always "no
 * credentials sent"). TLS is retried like a dead master
 * (kd_imap_error_is_transient()). @trust is only used during the call.
 */
KdMupdate *kd_mupdate_connect_tls(const char *host, guint16 port,
                                  gboolean starttls, KdImapTls *trust,
                                  const char *user, const char *password,
                                  int timeout_s, GError **error);

/*
 * Like kd_mupdate_connect() on an already connected socket @fd (owned by
 * the handle from now on); for tests with a scripted peer.
 */
KdMupdate *kd_mupdate_connect_fd(int fd, const char *label, const char *user,
                                 const char *password, int timeout_s,
                                 GError **error);

/* Closes (sending LOGOUT when alive) and frees; accepts NULL. */
void kd_mupdate_free(KdMupdate *mupdate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdMupdate, kd_mupdate_free)

/* The master's servername from its banner, or NULL. Owned by @mupdate. */
const char *kd_mupdate_get_servername(const KdMupdate *mupdate);

/* TRUE if the connection was upgraded with STARTTLS (and verified). */
gboolean kd_mupdate_is_tls(const KdMupdate *mupdate);

/* FALSE once the connection died; then reconnect. */
gboolean kd_mupdate_is_alive(const KdMupdate *mupdate);

/*
 * FIND @internal_name. On success @server_out gets the servername and
 * @partition_out (may be NULL) the partition ("" when mupdate holds none,
 * as after a rename), both newly allocated. A mailbox that is only
 * RESERVEd counts as found. Errors: NONEXISTENT when the master does not
 * know it, plus the connection errors above.
 */
gboolean kd_mupdate_find(KdMupdate *mupdate, const char *internal_name,
                         char **server_out, char **partition_out,
                         GError **error);

/*
 * Called once per mailbox by kd_mupdate_list(). @acl is the raw mupdate
 * ACL ("id<TAB>rights<TAB>..."), NULL for a reserved mailbox. Strings are
 * valid only during the call. Return FALSE to stop early (the rest of the
 * reply is still read).
 */
typedef gboolean (*KdMupdateListFunc)(const char *internal_name,
                                      const char *server,
                                      const char *partition, const char *acl,
                                      gpointer user_data);

/*
 * LIST, optionally restricted to locations starting with @prefix (a
 * servername, as the master filters by location). Calls @func for every
 * MAILBOX and RESERVE entry.
 */
gboolean kd_mupdate_list(KdMupdate *mupdate, const char *prefix,
                         KdMupdateListFunc func, gpointer user_data,
                         GError **error);

/*
 * Converts an admin-namespace name ("user/john.doe/Calendar@example.org")
 * to the internal form ("example.org!user.john^doe.Calendar"): the domain
 * goes first with '!', '/' becomes '.', and '.' inside a component becomes
 * '^'. A name without '@' has no domain part. Errors: INVALID_NAME (empty
 * component, '^' or '!' in the name, empty domain). Returns a new string.
 */
char *kd_mupdate_name_to_internal(const char *admin_name, GError **error);

/* The reverse of kd_mupdate_name_to_internal(). */
char *kd_mupdate_name_from_internal(const char *internal_name,
                                    GError **error);

/*
 * Splits a mupdate location "server!partition" into newly allocated parts
 * (partition "" when absent). For tests and murder.c.
 */
void kd_mupdate_split_location(const char *location, char **server_out,
                               char **partition_out);

#endif /* KOLABD_MUPDATE_H */
