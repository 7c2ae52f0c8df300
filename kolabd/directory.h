/*
 * directory: kolabd's writes to LDAP, on a connection of their own.
 *
 * The only attribute kolabd writes is `mailHost` (the configured
 * mailserver_attribute): the servername of the backend that holds the
 * mailbox, so that Postfix routes mail there. The write never happens on
 * the syncrepl connection (notes/syncrepl.md §5). It reads the current
 * value first and writes only when it differs (ignoring ASCII case), so a
 * converged directory sees no writes at all, and the MODIFY that syncrepl
 * sends back for kolabd's own write compares equal in the store.
 *
 * A KdDirectory is used by one thread at a time; it connects on first use
 * and again after a connection error.
 */
#ifndef KOLABD_DIRECTORY_H
#define KOLABD_DIRECTORY_H

#include <glib.h>

#include "ldap-conn.h"

#define KD_DIRECTORY_ERROR (kd_directory_error_quark())
GQuark kd_directory_error_quark(void);

typedef enum {
    /* Server down, busy, timeout: retry later. */
    KD_DIRECTORY_ERROR_TRANSIENT,
    /* The entry is gone or was renamed: syncrepl will tell the new state;
     * retry later. */
    KD_DIRECTORY_ERROR_NO_SUCH_OBJECT,
    /* Refused (access rights, schema): needs the operator. */
    KD_DIRECTORY_ERROR_REFUSED,
} KdDirectoryError;

typedef struct KdDirectory KdDirectory;

/*
 * A directory writer with copies of @params' strings; @attribute is the
 * mailHost attribute name (NULL = "mailHost"). Does not connect yet.
 */
KdDirectory *kd_directory_new(const KdLdapParams *params,
                              const char *attribute);
/* Frees @dir (unbinding); accepts NULL. */
void kd_directory_free(KdDirectory *dir);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdDirectory, kd_directory_free)

/*
 * Makes the mailHost of @dn equal @value (which must be non-empty and
 * printable). *@changed_out (may be NULL) is TRUE when a write was sent.
 * Errors: KD_DIRECTORY_ERROR codes above, the message naming the DN.
 */
gboolean kd_directory_set_mailhost(KdDirectory *dir, const char *dn,
                                   const char *value, gboolean *changed_out,
                                   GError **error);

/* Reads the mailHost of @dn into *@value_out (NULL when unset). */
gboolean kd_directory_get_mailhost(KdDirectory *dir, const char *dn,
                                   char **value_out, GError **error);

#endif /* KOLABD_DIRECTORY_H */
