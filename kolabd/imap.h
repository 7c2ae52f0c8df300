/*
 * imap: one administrative IMAP session to a Cyrus server (backend or
 * frontend), built on libetpan 1.9.4.
 *
 * kolabd creates, deletes, renames mailboxes and sets their ACLs, quota and
 * METADATA as the Cyrus admin. libetpan's wrappers cannot send a location
 * with CREATE, have no METADATA and no SETQUOTA, and its custom-command
 * helper appends a space Cyrus rejects; so every command here goes through
 * one raw-command helper (kd_imap_command) that writes a pre-validated,
 * pre-quoted line (imap-quote.h), waits for the tagged reply, and keeps the
 * untagged "* OK"/"* NO" texts.
 *
 * Failures are classified into the KD_IMAP_ERROR codes below by the
 * server's text (Cyrus 3.6 sends no RFC 5530 codes); the message always
 * carries the command's mailbox and the server's text. After an I/O error,
 * a parse error, a timeout or a BYE the session is dead: every later call
 * fails with KD_IMAP_ERROR_CLOSED and the caller must reconnect.
 *
 * Connections are imap:// (optionally upgraded with STARTTLS) or imaps://;
 * libetpan's GnuTLS build checks no certificate, so this module verifies
 * the server's chain and host name with GnuTLS itself (KdImapTls) before
 * anything is sent, and fails with KD_IMAP_ERROR_TLS otherwise.
 *
 * Threads: call kd_imap_global_init() once before starting threads. A
 * session may be used by one thread at a time; sessions are independent.
 * No call pipelines: each sends one command and blocks until its tagged
 * reply, bounded per I/O wait by the connect timeout.
 */
#ifndef KOLABD_IMAP_H
#define KOLABD_IMAP_H

#include <glib.h>

#define KD_IMAP_ERROR (kd_imap_error_quark())
GQuark kd_imap_error_quark(void);

typedef enum {
    /* "Mailbox already exists": the server asked has the mailbox. */
    KD_IMAP_ERROR_EXISTS,
    /* "unable to reserve mailbox on mupdate server": exists on another
     * backend (or a stale mupdate entry). */
    KD_IMAP_ERROR_EXISTS_ELSEWHERE,
    /* "Mailbox does not exist" (also when a frontend lags behind). */
    KD_IMAP_ERROR_NONEXISTENT,
    /* "Permission denied": missing right, undefined annotation. */
    KD_IMAP_ERROR_PERMISSION,
    /* Refused locally by imap-quote, or "Invalid mailbox name". */
    KD_IMAP_ERROR_INVALID_NAME,
    /* Retry later: "no connection to server" (mupdate master down),
     * "Server(s) unavailable", connect failures, timeouts. */
    KD_IMAP_ERROR_TRANSIENT,
    /* Cyrus configuration: partition, "not supported", hierarchy not on a
     * single backend, [REFERRAL]. */
    KD_IMAP_ERROR_CONFIG,
    /* A kolabd bug: tagged BAD, wrong command, unknown quota resource. */
    KD_IMAP_ERROR_BUG,
    /* The session died (stream error, parse error, BYE); reconnect. The
     * command may or may not have taken effect. */
    KD_IMAP_ERROR_CLOSED,
    /* LOGIN/AUTHENTICATE refused. */
    KD_IMAP_ERROR_AUTH,
    /* "NO [HASCHILDREN]": a non-user mailbox with children. */
    KD_IMAP_ERROR_HAS_CHILDREN,
    /* Any other NO. */
    KD_IMAP_ERROR_FAILED,
    /* TLS: handshake failed, or the server's certificate was rejected
     * (unknown issuer, expired, name mismatch) or STARTTLS is missing.
     * Nothing was sent after the greeting, no credentials. An operator
     * must fix the server's certificate or [cyrus-imap] tls_ca_file; it is
     * retried with backoff like TRANSIENT (kd_imap_error_is_transient) so
     * that work heals by itself once the certificate is fixed. */
    KD_IMAP_ERROR_TLS
} KdImapError;

/*
 * Classifies a server reply. @status is "NO" or "BAD" (or "BYE"), @code the
 * resp-text-code atom without brackets or NULL, @text the human text or
 * NULL. Pure function, exposed for tests.
 */
KdImapError kd_imap_error_classify(const char *status, const char *code,
                                   const char *text);

/* TRUE for TRANSIENT, CLOSED and TLS: worth retrying later with backoff
 * (TLS needs an operator first, but holding every object's work would
 * need a resync after the certificate is fixed). */
gboolean kd_imap_error_is_transient(const GError *error);

/*
 * Process-wide setup, once, before any thread starts: ignores SIGPIPE
 * (libetpan writes with send() without MSG_NOSIGNAL) and registers the
 * METADATA response parser. Idempotent.
 */
void kd_imap_global_init(void);

typedef struct KdImap KdImap;

/*
 * Splits an IMAP URI: "imap://host[:port][/]" (default port 143) or
 * "imaps://host[:port][/]" (implicit TLS, default port 993); an IPv6
 * literal goes in brackets ("imaps://[::1]:993"), @host_out gets it
 * without them. @tls_out (may be NULL) is TRUE for imaps://. No user
 * info, path, query or fragment. Errors: KD_IMAP_ERROR_CONFIG naming
 * @uri. Pure function, exposed for tests.
 */
gboolean kd_imap_parse_uri(const char *uri, gboolean *tls_out,
                           char **host_out, guint16 *port_out,
                           GError **error);

/*
 * TLS settings shared by every IMAP connection of a process (frontend and
 * backends): the trust anchors server certificates are verified against,
 * and whether imap:// URIs must upgrade with STARTTLS. libetpan's GnuTLS
 * build verifies nothing, so kolabd verifies the peer's chain itself with
 * GnuTLS, after the handshake and before anything is sent: the chain must
 * lead to a trust anchor and be valid now, and the URI's host (DNS name
 * or IP literal) must match the certificate. SNI is sent for DNS names.
 * Immutable once created, reference counted, usable from any thread.
 */
typedef struct KdImapTls KdImapTls;

/*
 * Loads the trust anchors: every certificate of the PEM file @ca_file, or,
 * with @ca_file NULL, the system trust store (/etc/ssl/certs via GnuTLS).
 * A CA file replaces the system store, it does not add to it. With
 * @starttls, kd_imap_connect_tls() on an imap:// URI sends STARTTLS and
 * fails if the server does not offer it. Errors: KD_IMAP_ERROR_CONFIG
 * (unreadable file, no certificate in it, no system store).
 */
KdImapTls *kd_imap_tls_new(const char *ca_file, gboolean starttls,
                           GError **error);
KdImapTls *kd_imap_tls_ref(KdImapTls *tls);
/* Accepts NULL. */
void kd_imap_tls_unref(KdImapTls *tls);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdImapTls, kd_imap_tls_unref)

/* The CA file given to kd_imap_tls_new(), or NULL (system trust). */
const char *kd_imap_tls_get_ca_file(const KdImapTls *tls);

/*
 * Verifies a peer's certificate chain exactly as kd_imap_connect_tls()
 * does, for kolabd's other TLS connections to Cyrus (mupdate STARTTLS,
 * tls.h). @der_certs holds GBytes, the DER certificates as the peer sent
 * them (its own first). @label names the connection in messages, @host is
 * the DNS name or IP literal the certificate must match. Errors:
 * KD_IMAP_ERROR_TLS naming @label and every reason found ("unknown
 * issuer", "expired", "name mismatch", ...; "no credentials sent").
 */
gboolean kd_imap_tls_verify_chain(KdImapTls *tls, const char *label,
                                  const char *host, GPtrArray *der_certs,
                                  GError **error);

/*
 * Connects to @uri (see kd_imap_parse_uri()) and reads the greeting.
 * imaps:// does a TLS handshake first; with @tls asking for STARTTLS,
 * imap:// upgrades after the greeting. Either way the certificate is
 * verified against @tls (NULL: the system trust store, no STARTTLS) before
 * the session is returned, so no command and no credential ever reaches
 * an unverified server. @timeout_s bounds every I/O wait (connect, TLS
 * handshake, each read and write; 0 = 60 s). TCP keepalive is enabled.
 * Errors: TRANSIENT (refused, timeout, BYE greeting), CONFIG (bad URI),
 * TLS (handshake failed; certificate rejected: the message names @uri and
 * the reason: "unknown issuer", "expired", "not valid before ...", "name
 * mismatch"). Returns a session in the not-authenticated state; free with
 * kd_imap_free(). @tls is only used during the call.
 */
KdImap *kd_imap_connect_tls(const char *uri, KdImapTls *tls, int timeout_s,
                            GError **error);

/* kd_imap_connect_tls() with @tls NULL: system trust for imaps://. */
KdImap *kd_imap_connect(const char *uri, int timeout_s, GError **error);

/* TRUE if the session runs over TLS (imaps:// or after STARTTLS). */
gboolean kd_imap_is_tls(const KdImap *imap);

/*
 * Wraps an already connected socket @fd (the session owns it from now on)
 * and reads the greeting; for tests with a scripted peer. @label names the
 * peer in messages. Same errors as kd_imap_connect().
 */
KdImap *kd_imap_connect_fd(int fd, const char *label, int timeout_s,
                           GError **error);

/* Sends LOGOUT if alive, closes, frees. Accepts NULL. */
void kd_imap_free(KdImap *imap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdImap, kd_imap_free)

/* The URI or label given at connect time. */
const char *kd_imap_get_label(const KdImap *imap);

/*
 * The servername from the greeting's first word ("127.0.0.1:38143"), or
 * NULL when the server hides it (serverinfo: off). Owned by @imap.
 */
const char *kd_imap_get_servername(const KdImap *imap);
/* TRUE when the session switched to TLS with STARTTLS: its greeting (and
 * the servername in it) came in clear text and may have been forged. */
gboolean kd_imap_greeting_in_clear(const KdImap *imap);

/*
 * The server version from the greeting ("3.6.1-Debian-3.6.1-4+deb12u5"
 * after "Cyrus IMAP"), or NULL if the greeting does not show one.
 */
const char *kd_imap_server_version(const KdImap *imap);

/*
 * TRUE if the greeting shows a Cyrus version affected by cyrus-imapd#4611:
 * any annotation write on a non-user mailbox kills the session (3.6.0 to
 * 3.6.2 and 3.7.x). FALSE when the version is unknown.
 */
gboolean kd_imap_has_shared_annotation_bug(const KdImap *imap);

/* FALSE once the session is dead (see above). */
gboolean kd_imap_is_alive(const KdImap *imap);

/* TRUE if the server advertises @capability (ask after logging in). */
gboolean kd_imap_has_capability(KdImap *imap, const char *capability);

/*
 * LOGIN with @user and @password sent as quoted strings; both must be
 * 7-bit without control characters (else INVALID_NAME, nothing sent).
 * Errors: AUTH, CLOSED, TRANSIENT.
 */
gboolean kd_imap_login(KdImap *imap, const char *user, const char *password,
                       GError **error);

/*
 * AUTHENTICATE PLAIN as @authcid with @password, acting as @authzid (NULL
 * or "" = as @authcid). With an admin authcid and a user's authzid the
 * session sees the user's namespace and sets the user's /private
 * annotations. Uses SASL-IR when advertised, else a continuation.
 * Errors: AUTH, CLOSED, TRANSIENT.
 */
gboolean kd_imap_authenticate_plain(KdImap *imap, const char *authzid,
                                    const char *authcid, const char *password,
                                    GError **error);

/* The result of one raw command. */
typedef struct {
    char *status;         /* "OK" (failures become a GError) */
    char *code;           /* tagged resp-text-code atom, or NULL */
    char *code_value;     /* its argument text, or NULL */
    char *text;           /* tagged human text, never NULL */
    GPtrArray *untagged;  /* char *: "OK text" / "NO text" / "BAD text" */
} KdImapReply;

void kd_imap_reply_free(KdImapReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdImapReply, kd_imap_reply_free)

/*
 * Sends "<tag> @args CRLF" and waits for the tagged reply. @args must be
 * built with imap-quote.h (it is checked once more for CR/LF/NUL/8-bit).
 * @mailbox (may be NULL) only names the object in error messages. On OK
 * returns TRUE and, if @reply_out is not NULL, the reply. On NO/BAD returns
 * FALSE with a classified error. Untagged data the parsers understand
 * (LIST, ACL, QUOTA, METADATA) is left in the libetpan session for the
 * command functions below.
 */
gboolean kd_imap_command(KdImap *imap, const char *mailbox, const char *args,
                         KdImapReply **reply_out, GError **error);

gboolean kd_imap_noop(KdImap *imap, GError **error);

/*
 * CREATE @mailbox. @location NULL lets the server choose (sub-folders
 * must be created without a location: they follow their parent); else
 * "server!partition" (sent as an atom) or "server" (sent as
 * "(SERVER server)"). Errors: EXISTS, EXISTS_ELSEWHERE, TRANSIENT, CONFIG,
 * PERMISSION, INVALID_NAME, CLOSED.
 */
gboolean kd_imap_create(KdImap *imap, const char *mailbox,
                        const char *location, GError **error);

/*
 * Grants the logged-in user the 'x' right on @mailbox (admins do not hold
 * it implicitly) and DELETEs it. With delete_mode: delayed Cyrus renames it
 * to DELETED/...; a user INBOX takes its sub-folders along.
 * Errors: NONEXISTENT (already gone: the caller may count it as done),
 * HAS_CHILDREN, PERMISSION, TRANSIENT, CLOSED.
 */
gboolean kd_imap_delete(KdImap *imap, const char *mailbox, GError **error);

/*
 * RENAME @from to @to; with @location (see kd_imap_create) and @to equal
 * to @from this moves the mailbox to another backend (XFER via a
 * frontend). Untagged "* NO" lines (failed XFER steps with a tagged OK)
 * turn into KD_IMAP_ERROR_FAILED. User renames need allowusermoves: yes
 * (else CONFIG).
 */
gboolean kd_imap_rename(KdImap *imap, const char *from, const char *to,
                        const char *location, GError **error);

/* SETACL @mailbox @identifier @rights (letters only, see imap-quote.h). */
gboolean kd_imap_setacl(KdImap *imap, const char *mailbox,
                        const char *identifier, const char *rights,
                        GError **error);

/* DELETEACL @mailbox @identifier. */
gboolean kd_imap_deleteacl(KdImap *imap, const char *mailbox,
                           const char *identifier, GError **error);

/* One ACL entry. */
typedef struct {
    char *identifier;
    char *rights;
} KdImapAce;

void kd_imap_ace_free(KdImapAce *ace);

/*
 * GETACL @mailbox into @acl_out, a new GPtrArray of KdImapAce (in server
 * order; frees its elements).
 */
gboolean kd_imap_getacl(KdImap *imap, const char *mailbox,
                        GPtrArray **acl_out, GError **error);

/* MYRIGHTS @mailbox into @rights_out (newly allocated). */
gboolean kd_imap_myrights(KdImap *imap, const char *mailbox,
                          char **rights_out, GError **error);

/*
 * SETQUOTA @root (STORAGE @storage_kib); @storage_kib < 0 removes every
 * limit ("()": the quota root stays).
 */
gboolean kd_imap_setquota(KdImap *imap, const char *root, gint64 storage_kib,
                          GError **error);

/*
 * GETQUOTAROOT @mailbox. @root_out (may be NULL) gets the first quota root
 * or NULL if there is none; @usage_kib_out and @limit_kib_out (may be
 * NULL) get the STORAGE usage and limit, -1 when there is no STORAGE
 * limit.
 */
gboolean kd_imap_getquotaroot(KdImap *imap, const char *mailbox,
                              char **root_out, gint64 *usage_kib_out,
                              gint64 *limit_kib_out, GError **error);

/*
 * SETMETADATA @mailbox (@entry @value); @value NULL removes the entry
 * (NIL). Values are sent as quoted strings (7-bit, no control characters).
 * Do this on the backend, never through a 3.6.1 frontend (it drops
 * values). On an affected server (kd_imap_has_shared_annotation_bug) a
 * write on a non-user mailbox ends in KD_IMAP_ERROR_CLOSED.
 */
gboolean kd_imap_setmetadata(KdImap *imap, const char *mailbox,
                             const char *entry, const char *value,
                             GError **error);

/* One METADATA item of a GETMETADATA reply. */
typedef struct {
    char *mailbox;
    char *entry;
    char *value; /* NULL for NIL */
} KdImapMetadata;

void kd_imap_metadata_free(KdImapMetadata *item);

/*
 * GETMETADATA @mailbox (@entries...). @entries is NULL-terminated and
 * non-empty. With @pattern TRUE @mailbox may contain '*' and '%'. @items_out
 * gets a new GPtrArray of KdImapMetadata, one per (mailbox, entry) the
 * server printed (NIL values included as value NULL).
 */
gboolean kd_imap_getmetadata(KdImap *imap, const char *mailbox,
                             gboolean pattern, const char *const *entries,
                             GPtrArray **items_out, GError **error);

/*
 * LIST "" @pattern; @names_out gets a new GPtrArray of mUTF-7 names
 * (char *). Never RLIST: it breaks proxying on the session.
 */
gboolean kd_imap_list(KdImap *imap, const char *pattern,
                      GPtrArray **names_out, GError **error);

#endif /* KOLABD_IMAP_H */
