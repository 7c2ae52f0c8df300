/* provision: see provision.h. */

#include <string.h>

#include "acl.h"
#include "imap-quote.h"
#include "provision.h"

#define FOLDER_TYPE_ENTRY_SHARED "/shared/vendor/kolab/folder-type"
#define FOLDER_TYPE_ENTRY_PRIVATE "/private/vendor/kolab/folder-type"

static gboolean
create_one(KdImap *imap, const char *mailbox, const char *location,
           GError **error)
{
    g_autoptr(GError) local = NULL;

    if (kd_imap_create(imap, mailbox, location, &local)) {
        return TRUE;
    }
    if (g_error_matches(local, KD_IMAP_ERROR, KD_IMAP_ERROR_EXISTS)) {
        return TRUE;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* "shared/A/B@dom" -> creates "shared@dom", "shared/A@dom" if missing. */
static gboolean
create_shared_ancestors(KdImap *imap, const char *mailbox, GError **error)
{
    const char *at = strrchr(mailbox, '@');
    g_autofree char *local = g_strndup(mailbox, at ? (gsize)(at - mailbox)
                                                   : strlen(mailbox));
    const char *domain = at ? at : "";

    for (char *p = strchr(local, '/'); p != NULL; p = strchr(p + 1, '/')) {
        g_autofree char *parent = g_strdup_printf(
            "%.*s%s", (int)(p - local), local, domain);

        if (!create_one(imap, parent, NULL, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
kd_provision_create(KdImap *imap, const KdObject *object,
                    const char *partition, GError **error)
{
    g_autofree char *location = NULL;
    const char *servername = kd_imap_get_servername(imap);

    if (object->kind == KD_OBJECT_SHARED &&
        !create_shared_ancestors(imap, object->mailbox, error)) {
        return FALSE;
    }
    if (partition != NULL && servername != NULL) {
        location = g_strdup_printf("%s!%s", servername, partition);
    }
    return create_one(imap, object->mailbox, location, error);
}

/*
 * How the user sees its folders: "INBOX/Sent" with altnamespace off,
 * "Sent" with it on. A server-wide setting: learned once with a LIST of
 * one folder and kept in *@auth->namespace_hint.
 */
static gboolean
learn_user_namespace(KdImap *user, const KdProvisionAuth *auth,
                     const char *folder_mutf7, gint *hint_out,
                     GError **error)
{
    g_autofree char *inbox_form = g_strdup_printf("INBOX/%s", folder_mutf7);
    g_autoptr(GPtrArray) names = NULL;
    gint hint = auth->namespace_hint ? g_atomic_int_get(auth->namespace_hint)
                                     : KD_NAMESPACE_UNKNOWN;

    if (hint == KD_NAMESPACE_UNKNOWN) {
        if (!kd_imap_list(user, inbox_form, &names, error)) {
            return FALSE;
        }
        hint = names->len > 0 ? KD_NAMESPACE_INBOX : KD_NAMESPACE_ALT;
        if (auth->namespace_hint != NULL) {
            g_atomic_int_set(auth->namespace_hint, hint);
        }
    }
    *hint_out = hint;
    return TRUE;
}

static gboolean
subscribe(KdImap *imap, const char *name, GError **error)
{
    g_autoptr(GString) args = g_string_new("SUBSCRIBE ");

    if (!kd_imap_quote_check_mailbox(name, FALSE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(args, name);
    return kd_imap_command(imap, name, args->str, NULL, error);
}

/* Private folder types and subscriptions, as the user. */
static gboolean
provision_as_user(const KdObject *object, const GPtrArray *folders,
                  const KdProvisionAuth *auth, GError **error)
{
    g_autoptr(KdImap) user = NULL;
    const KdFolderSpec *first = NULL;
    gint hint;

    for (guint i = 0; i < folders->len && first == NULL; i++) {
        const KdFolderSpec *spec = g_ptr_array_index(folders, i);

        if (spec->private_type != NULL || spec->subscribe) {
            first = spec;
        }
    }
    if (first == NULL) {
        return TRUE;
    }
    user = kd_imap_connect_tls(auth->backend_uri, auth->tls, auth->timeout_s,
                               error);
    if (user == NULL ||
        !kd_imap_authenticate_plain(user, object->mail, auth->admin_user,
                                    auth->admin_password, error) ||
        !learn_user_namespace(user, auth, first->name_mutf7, &hint, error)) {
        g_prefix_error(error, "as %s: ", object->mail);
        return FALSE;
    }
    for (guint i = 0; i < folders->len; i++) {
        const KdFolderSpec *spec = g_ptr_array_index(folders, i);
        g_autofree char *name =
            hint == KD_NAMESPACE_INBOX
                ? g_strdup_printf("INBOX/%s", spec->name_mutf7)
                : g_strdup(spec->name_mutf7);

        g_autoptr(GError) local = NULL;

        if (spec->private_type != NULL &&
            !kd_imap_setmetadata(user, name, FOLDER_TYPE_ENTRY_PRIVATE,
                                 spec->private_type, &local)) {
            if (g_error_matches(local, KD_IMAP_ERROR,
                                KD_IMAP_ERROR_NONEXISTENT) &&
                auth->namespace_hint != NULL) {
                /* The server's namespace changed: learn it again. */
                g_atomic_int_set(auth->namespace_hint, KD_NAMESPACE_UNKNOWN);
            }
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (spec->subscribe && !subscribe(user, name, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* TRUE into *@all_out when every default folder exists already. */
static gboolean
all_folders_exist(KdImap *imap, const KdObject *object,
                  const GPtrArray *folders, gboolean *all_out,
                  GError **error)
{
    g_autofree char *pattern = kd_folders_mailbox(object->mailbox, "*");
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GHashTable) set = NULL;

    *all_out = FALSE;
    if (!kd_imap_list(imap, pattern, &names, error)) {
        return FALSE;
    }
    set = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < names->len; i++) {
        g_hash_table_add(set, g_ptr_array_index(names, i));
    }
    for (guint i = 0; i < folders->len; i++) {
        const KdFolderSpec *spec = g_ptr_array_index(folders, i);
        g_autofree char *mailbox =
            kd_folders_mailbox(object->mailbox, spec->name_mutf7);

        if (!g_hash_table_contains(set, mailbox)) {
            return TRUE;
        }
    }
    *all_out = TRUE;
    return TRUE;
}

gboolean
kd_provision_folders(KdImap *imap, const KdObject *object,
                     const GPtrArray *folders,
                     const KdProvisionAuth *auth, gboolean created,
                     gboolean dry_run, gboolean *changed_out, GError **error)
{
    gboolean complete = FALSE;

    g_return_val_if_fail(object->kind == KD_OBJECT_USER, FALSE);

    *changed_out = FALSE;
    /* Complete already (a retry, a resync): nothing to send. A partial set
     * is redone whole, annotations included, since a crash may have cut
     * it between a CREATE and its annotation. */
    if (folders->len == 0) {
        return TRUE;
    }
    if (!created &&
        !all_folders_exist(imap, object, folders, &complete, error)) {
        return FALSE;
    }
    if (complete) {
        return TRUE;
    }
    *changed_out = TRUE;
    if (dry_run) {
        return TRUE;
    }
    for (guint i = 0; i < folders->len; i++) {
        const KdFolderSpec *spec = g_ptr_array_index(folders, i);
        g_autofree char *mailbox =
            kd_folders_mailbox(object->mailbox, spec->name_mutf7);

        if (!create_one(imap, mailbox, NULL, error)) {
            return FALSE;
        }
        if (spec->shared_type != NULL &&
            !kd_imap_setmetadata(imap, mailbox, FOLDER_TYPE_ENTRY_SHARED,
                                 spec->shared_type, error)) {
            return FALSE;
        }
        if (spec->acl != NULL &&
            !kd_provision_acl(imap, mailbox, spec->acl, NULL, FALSE, NULL,
                              error)) {
            return FALSE;
        }
        if (spec->quota_kib > 0 &&
            !kd_imap_setquota(imap, mailbox, spec->quota_kib, error)) {
            return FALSE;
        }
    }
    return provision_as_user(object, folders, auth, error);
}

gboolean
kd_provision_quota(KdImap *imap, const char *mailbox, gint64 quota_kib,
                   gboolean dry_run, gboolean *changed_out, GError **error)
{
    g_autofree char *root = NULL;
    gint64 limit = -1;
    gint64 want = quota_kib == KD_QUOTA_UNLIMITED ? -1 : quota_kib;

    *changed_out = FALSE;
    if (!kd_imap_getquotaroot(imap, mailbox, &root, NULL, &limit, error)) {
        return FALSE;
    }
    if (root != NULL && strcmp(root, mailbox) == 0 && limit == want) {
        return TRUE;
    }
    *changed_out = TRUE;
    return dry_run || kd_imap_setquota(imap, mailbox, want, error);
}

static char *
getacl_canonical(KdImap *imap, const char *mailbox, GError **error)
{
    g_autoptr(GPtrArray) aces = NULL;
    g_autoptr(KdAcl) acl = kd_acl_new();

    if (!kd_imap_getacl(imap, mailbox, &aces, error)) {
        return NULL;
    }
    for (guint i = 0; i < aces->len; i++) {
        const KdImapAce *ace = g_ptr_array_index(aces, i);

        if (!kd_acl_add(acl, ace->identifier, ace->rights, error)) {
            g_prefix_error(error, "GETACL %s: ", mailbox);
            return NULL;
        }
    }
    return kd_acl_to_string(acl);
}

gboolean
kd_provision_acl(KdImap *imap, const char *mailbox, const char *acl,
                 const char *const *keep, gboolean dry_run,
                 gboolean *changed_out, GError **error)
{
    g_autofree char *actual = NULL;
    g_autoptr(GPtrArray) set = NULL;
    g_autoptr(GPtrArray) remove = NULL;

    if (changed_out != NULL) {
        *changed_out = FALSE;
    }
    actual = getacl_canonical(imap, mailbox, error);
    if (actual == NULL ||
        !kd_acl_diff(acl, actual, keep, &set, &remove, error)) {
        return FALSE;
    }
    if (changed_out != NULL) {
        *changed_out = set->len > 0 || remove->len > 0;
    }
    if (dry_run) {
        return TRUE;
    }
    for (guint i = 0; i < set->len; i++) {
        const KdAclEntry *e = g_ptr_array_index(set, i);

        if (!kd_imap_setacl(imap, mailbox, e->subject, e->rights, error)) {
            return FALSE;
        }
    }
    for (guint i = 0; i < remove->len; i++) {
        const char *subject = g_ptr_array_index(remove, i);

        if (!kd_imap_deleteacl(imap, mailbox, subject, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
kd_provision_folder_type(KdImap *imap, const char *mailbox,
                         const char *folder_type, GError **error)
{
    return kd_imap_setmetadata(imap, mailbox, FOLDER_TYPE_ENTRY_SHARED,
                               folder_type, error);
}

static gboolean
exists(KdImap *imap, const char *mailbox, gboolean *exists_out,
       GError **error)
{
    g_autoptr(GPtrArray) names = NULL;

    if (!kd_imap_list(imap, mailbox, &names, error)) {
        return FALSE;
    }
    *exists_out = names->len > 0;
    return TRUE;
}

gboolean
kd_provision_rename(KdImap *imap, const char *from, const char *to,
                    GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean from_exists, to_exists;

    if (kd_imap_rename(imap, from, to, NULL, &local)) {
        return TRUE;
    }
    /* A repeated rename: done when the source is gone and the target
     * exists. Anything else is the original error. */
    if (!g_error_matches(local, KD_IMAP_ERROR, KD_IMAP_ERROR_NONEXISTENT) &&
        !g_error_matches(local, KD_IMAP_ERROR, KD_IMAP_ERROR_EXISTS)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!exists(imap, from, &from_exists, error) ||
        !exists(imap, to, &to_exists, error)) {
        return FALSE;
    }
    if (!from_exists && to_exists) {
        return TRUE;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

gboolean
kd_provision_delete(KdImap *imap, const char *mailbox, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (kd_imap_delete(imap, mailbox, &local) ||
        g_error_matches(local, KD_IMAP_ERROR, KD_IMAP_ERROR_NONEXISTENT)) {
        return TRUE;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}
