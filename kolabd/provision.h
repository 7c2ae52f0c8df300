/*
 * provision: the IMAP side of one reconcile step, on one backend session.
 *
 * The engine's workers call these with the admin session they hold to the
 * backend that has (or gets) the mailbox. Every function is idempotent, as
 * DESIGN.md requires: "already exists" after CREATE, "does not exist" after
 * DELETE and a rename whose target exists and source is gone all count as
 * done, so a crash between an IMAP call and the store update only repeats
 * harmless work. Errors are the KD_IMAP_ERROR codes from imap.h; the
 * caller decides between retry (kd_imap_error_is_transient) and hold.
 *
 * With @dry_run the folder, quota and ACL functions only read and say in
 * *changed_out whether they would change anything (`resync --dry-run`).
 *
 * METADATA is always written on the backend (Cyrus 3.6.1 drops it through a
 * frontend); private folder types are written in a second, short session
 * authenticated as the admin with the user as authorization identity,
 * because /private values belong to the authenticated user.
 */
#ifndef KOLABD_PROVISION_H
#define KOLABD_PROVISION_H

#include <glib.h>

#include "folders.h"
#include "imap.h"
#include "object.h"

/* How a backend shows users their folders (KdProvisionAuth). */
#define KD_NAMESPACE_UNKNOWN 0
#define KD_NAMESPACE_INBOX 1 /* "INBOX/Sent" (altnamespace: no) */
#define KD_NAMESPACE_ALT 2   /* "Sent" (altnamespace: yes) */

/* How to open the extra per-user session for private annotations. */
typedef struct {
    const char *backend_uri;    /* the same backend as the admin session */
    const char *admin_user;
    const char *admin_password;
    int timeout_s;
    gint *namespace_hint;       /* KD_NAMESPACE_*, shared by the backend's
                                 * workers (atomic); NULL: learn each time */
    KdImapTls *tls;             /* borrowed; NULL: system trust */
} KdProvisionAuth;

/*
 * CREATE @mailbox on the session's server (@partition NULL = default).
 * Shared folders get their missing ancestors first, each with its domain
 * and top-down (`shared@dom`, `shared/A@dom`, ...), working around Cyrus
 * 3.6.1 creating a domain-less `shared`. EXISTS counts as done;
 * EXISTS_ELSEWHERE is returned to the caller (the mailbox lives on another
 * backend).
 */
gboolean kd_provision_create(KdImap *imap, const KdObject *object,
                             const char *partition, GError **error);

/*
 * Creates the default @folders under the user's INBOX, sets their shared
 * folder types as admin, then their private folder types and subscriptions
 * as the user (@auth). When every folder exists already, nothing is sent
 * but one LIST; *@changed_out tells whether anything was. @created says
 * the caller has just created the INBOX (no LIST needed). @object must be
 * a user.
 */
gboolean kd_provision_folders(KdImap *imap, const KdObject *object,
                              const GPtrArray *folders,
                              const KdProvisionAuth *auth, gboolean created,
                              gboolean dry_run, gboolean *changed_out,
                              GError **error);

/*
 * Makes the mailbox its own quota root with the STORAGE limit @quota_kib
 * (KD_QUOTA_UNLIMITED: no limit). Reads GETQUOTAROOT first and sends
 * SETQUOTA only when it differs; *@changed_out tells whether it did.
 */
gboolean kd_provision_quota(KdImap *imap, const char *mailbox,
                            gint64 quota_kib, gboolean dry_run,
                            gboolean *changed_out, GError **error);

/*
 * Makes the mailbox's ACL equal @acl (canonical form, acl.h): GETACL, then
 * SETACL for missing or different subjects and DELETEACL for subjects LDAP
 * does not list. @keep (NULL-terminated, may be NULL) names identifiers
 * never removed (the admin). *@changed_out (may be NULL) tells whether
 * anything was sent.
 */
gboolean kd_provision_acl(KdImap *imap, const char *mailbox, const char *acl,
                          const char *const *keep, gboolean dry_run,
                          gboolean *changed_out, GError **error);

/* /shared/vendor/kolab/folder-type of a (shared) mailbox. */
gboolean kd_provision_folder_type(KdImap *imap, const char *mailbox,
                                  const char *folder_type, GError **error);

/*
 * RENAME @from to @to on the same server. When @from no longer exists and
 * @to does, the rename happened already and this returns TRUE.
 */
gboolean kd_provision_rename(KdImap *imap, const char *from, const char *to,
                             GError **error);

/* DELETE (granting the admin 'x' first); a missing mailbox is done. */
gboolean kd_provision_delete(KdImap *imap, const char *mailbox,
                             GError **error);

#endif /* KOLABD_PROVISION_H */
