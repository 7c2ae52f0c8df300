/*
 * imap-private: the session structure and raw helpers shared by imap.c,
 * imap-connect.c and imap-command.c. Not for other modules: they use
 * imap.h.
 */
#ifndef KOLABD_IMAP_PRIVATE_H
#define KOLABD_IMAP_PRIVATE_H

#include <glib.h>
#include <libetpan/libetpan.h>

#include "imap.h"

struct KdImap {
    mailimap *session;
    char *label;      /* URI or test label, for messages */
    char *greeting;   /* greeting text without its [code] */
    char *servername; /* first word of the greeting, or NULL */
    char *version;    /* "3.6.1-..." after "Cyrus IMAP", or NULL */
    char *identity;   /* who we act as after login (authzid or user) */
    gboolean alive;
    gboolean tls;      /* the stream runs over TLS (verified) */
    gboolean greeting_in_clear; /* STARTTLS: greeted before TLS */
    GString *received; /* recent bytes from the server, to report BYE */
};

/*
 * Sends @args (already validated and quoted) and reads the tagged reply;
 * see kd_imap_command(). @what names the command in messages; @args is
 * never put into a message (it may carry a password).
 */
gboolean kd_imap_run(KdImap *imap, const char *mailbox, const char *what,
                     const char *args, KdImapReply **reply_out,
                     GError **error);

/*
 * Sends @args, waits for a "+" continuation, sends @data as one line and
 * reads the tagged reply (AUTHENTICATE without SASL-IR). @data is secret.
 */
gboolean kd_imap_run_continued(KdImap *imap, const char *args,
                               const char *data, GError **error);

/* Closes the stream without sending anything; the session is dead. */
void kd_imap_mark_dead(KdImap *imap);

/* The text of the last "* BYE" seen on the wire (newly allocated), or
 * NULL. */
char *kd_imap_find_bye(const KdImap *imap);

/* imap-tls.c */

/* The process-wide system-trust KdImapTls (a new reference), created on
 * first use. Errors: CONFIG (no system trust store). */
KdImapTls *kd_imap_tls_default(GError **error);

/* Whether imap:// URIs must upgrade with STARTTLS. */
gboolean kd_imap_tls_wants_starttls(const KdImapTls *tls);

/* TRUE if @host is an IPv4 or IPv6 literal (no SNI for those). */
gboolean kd_imap_tls_is_ip(const char *host);

/*
 * Verifies @chain (libetpan's carray of DER MMAPStrings, the peer's
 * certificate first) against @tls's anchors, the current time and @host.
 * Errors: KD_IMAP_ERROR_TLS naming @label and every reason found.
 */
gboolean kd_imap_tls_verify(KdImapTls *tls, const char *label,
                            const char *host, carray *chain, GError **error);

#endif /* KOLABD_IMAP_PRIVATE_H */
