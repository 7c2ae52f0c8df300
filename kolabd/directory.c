/* directory: see directory.h. */

#include <string.h>

#include <ldap.h>

#include "directory.h"

G_DEFINE_QUARK(kd-directory-error-quark, kd_directory_error)

struct KdDirectory {
    KdLdapParams params; /* owned copy */
    char *attribute;
    LDAP *ld;
};

KdDirectory *
kd_directory_new(const KdLdapParams *params, const char *attribute)
{
    KdDirectory *dir = g_new0(KdDirectory, 1);

    kd_ldap_params_copy(&dir->params, params);
    dir->attribute = g_strdup(attribute ? attribute : "mailHost");
    return dir;
}

void
kd_directory_free(KdDirectory *dir)
{
    if (dir == NULL) {
        return;
    }
    kd_ldap_unbind(dir->ld);
    kd_ldap_params_clear(&dir->params);
    g_free(dir->attribute);
    g_free(dir);
}

static gboolean
is_transient(int rc)
{
    return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
           rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED ||
           rc == LDAP_BUSY || rc == LDAP_UNAVAILABLE ||
           rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_OTHER ||
           rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY;
}

/* Classifies @rc into a KD_DIRECTORY_ERROR, dropping the connection when it
 * may be broken. */
static void
set_error(KdDirectory *dir, GError **error, int rc, const char *what,
          const char *dn)
{
    g_autoptr(GError) ldap_error = NULL;
    int code;

    kd_ldap_set_error(&ldap_error, dir->ld, rc, what);
    if (rc == LDAP_NO_SUCH_OBJECT) {
        code = KD_DIRECTORY_ERROR_NO_SUCH_OBJECT;
    } else if (is_transient(rc)) {
        code = KD_DIRECTORY_ERROR_TRANSIENT;
        kd_ldap_unbind(dir->ld);
        dir->ld = NULL;
    } else {
        code = KD_DIRECTORY_ERROR_REFUSED;
    }
    g_set_error(error, KD_DIRECTORY_ERROR, code, "%s of %s: %s", dir->attribute,
                dn, ldap_error->message);
}

static gboolean
ensure_connected(KdDirectory *dir, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (dir->ld != NULL) {
        return TRUE;
    }
    dir->ld = kd_ldap_connect(&dir->params, &local);
    if (dir->ld == NULL) {
        g_set_error(error, KD_DIRECTORY_ERROR,
                    is_transient(local->code) || local->code == 0 ||
                            local->code == LDAP_SERVER_DOWN
                        ? KD_DIRECTORY_ERROR_TRANSIENT
                        : KD_DIRECTORY_ERROR_REFUSED,
                    "%s", local->message);
        return FALSE;
    }
    return TRUE;
}

gboolean
kd_directory_get_mailhost(KdDirectory *dir, const char *dn, char **value_out,
                          GError **error)
{
    char *attrs[] = {dir->attribute, NULL};
    struct timeval tv = {dir->params.op_timeout_s > 0
                             ? dir->params.op_timeout_s
                             : 30,
                         0};
    g_autoptr(LDAPMessage) res = NULL;
    LDAPMessage *entry;
    struct berval **values;
    int rc;

    *value_out = NULL;
    if (!ensure_connected(dir, error)) {
        return FALSE;
    }
    rc = ldap_search_ext_s(dir->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
                           attrs, 0, NULL, NULL, &tv, 1, &res);
    if (rc != LDAP_SUCCESS) {
        set_error(dir, error, rc, "read", dn);
        return FALSE;
    }
    entry = ldap_first_entry(dir->ld, res);
    if (entry == NULL) {
        set_error(dir, error, LDAP_NO_SUCH_OBJECT, "read", dn);
        return FALSE;
    }
    values = ldap_get_values_len(dir->ld, entry, dir->attribute);
    if (values != NULL && values[0] != NULL) {
        *value_out = g_strndup(values[0]->bv_val, values[0]->bv_len);
    }
    ldap_value_free_len(values);
    return TRUE;
}

static gboolean set_mailhost_once(KdDirectory *dir, const char *dn,
                                  const char *value, gboolean *changed_out,
                                  GError **error);

gboolean
kd_directory_set_mailhost(KdDirectory *dir, const char *dn,
                          const char *value, gboolean *changed_out,
                          GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean reused = dir->ld != NULL;

    if (set_mailhost_once(dir, dn, value, changed_out, &local)) {
        return TRUE;
    }
    /* A kept connection the server closed meanwhile (restart, idle
     * timeout): the write compares first, so trying once more on a new
     * connection is safe. */
    if (reused && dir->ld == NULL &&
        g_error_matches(local, KD_DIRECTORY_ERROR,
                        KD_DIRECTORY_ERROR_TRANSIENT)) {
        g_clear_error(&local);
        if (set_mailhost_once(dir, dn, value, changed_out, &local)) {
            return TRUE;
        }
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

static gboolean
set_mailhost_once(KdDirectory *dir, const char *dn, const char *value,
                  gboolean *changed_out, GError **error)
{
    g_autofree char *current = NULL;
    char *vals[] = {(char *)value, NULL};
    LDAPMod mod = {LDAP_MOD_REPLACE, dir->attribute, {vals}};
    LDAPMod *mods[] = {&mod, NULL};
    int rc;

    if (changed_out != NULL) {
        *changed_out = FALSE;
    }
    if (value == NULL || value[0] == '\0') {
        g_set_error(error, KD_DIRECTORY_ERROR, KD_DIRECTORY_ERROR_REFUSED,
                    "%s of %s: refusing to write an empty value",
                    dir->attribute, dn);
        return FALSE;
    }
    if (!kd_directory_get_mailhost(dir, dn, &current, error)) {
        return FALSE;
    }
    if (current != NULL && g_ascii_strcasecmp(current, value) == 0) {
        return TRUE;
    }
    rc = ldap_modify_ext_s(dir->ld, dn, mods, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        set_error(dir, error, rc, "write", dn);
        return FALSE;
    }
    if (changed_out != NULL) {
        *changed_out = TRUE;
    }
    return TRUE;
}
