/*
 * imap-command: the admin commands of imap.h (CREATE, DELETE, RENAME, ACL,
 * QUOTA, METADATA, LIST) built on the raw helper. Each validates and quotes
 * its arguments with imap-quote before anything is sent, and reads the
 * untagged data libetpan's parsers left in the session.
 */
#include "config.h"

#include <string.h>

#include "imap-metadata.h"
#include "imap-private.h"
#include "imap-quote.h"
#include "imap.h"

static clist *
extension_list(KdImap *imap)
{
    if (imap->session->imap_response_info == NULL) {
        return NULL;
    }
    return imap->session->imap_response_info->rsp_extension_list;
}

gboolean
kd_imap_create(KdImap *imap, const char *mailbox, const char *location,
               GError **error)
{
    g_autoptr(GString) cmd = g_string_new("CREATE ");

    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, mailbox);
    if (location != NULL) {
        g_string_append_c(cmd, ' ');
        if (!kd_imap_quote_append_location(cmd, location, error)) {
            g_prefix_error(error, "CREATE %s: ", mailbox);
            return FALSE;
        }
    }
    return kd_imap_run(imap, mailbox, "CREATE", cmd->str, NULL, error);
}

gboolean
kd_imap_delete(KdImap *imap, const char *mailbox, GError **error)
{
    g_autoptr(GString) cmd = g_string_new("DELETE ");

    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error)) {
        return FALSE;
    }
    if (imap->identity == NULL) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_BUG,
                    "DELETE %s on %s: not logged in", mailbox, imap->label);
        return FALSE;
    }
    /* admins do not hold 'x' implicitly */
    if (!kd_imap_setacl(imap, mailbox, imap->identity, "+x", error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, mailbox);
    return kd_imap_run(imap, mailbox, "DELETE", cmd->str, NULL, error);
}

gboolean
kd_imap_rename(KdImap *imap, const char *from, const char *to,
               const char *location, GError **error)
{
    g_autoptr(GString) cmd = g_string_new("RENAME ");
    g_autoptr(KdImapReply) reply = NULL;

    if (!kd_imap_quote_check_mailbox(from, FALSE, error) ||
        !kd_imap_quote_check_mailbox(to, FALSE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, from);
    g_string_append_c(cmd, ' ');
    kd_imap_quote_append(cmd, to);
    if (location != NULL) {
        g_string_append_c(cmd, ' ');
        if (!kd_imap_quote_append_location(cmd, location, error)) {
            g_prefix_error(error, "RENAME %s: ", from);
            return FALSE;
        }
    }
    if (!kd_imap_run(imap, from, "RENAME", cmd->str, &reply, error)) {
        return FALSE;
    }
    /* XFER may report a failed step untagged and still say OK */
    for (guint i = 0; i < reply->untagged->len; i++) {
        const char *line = reply->untagged->pdata[i];

        if (g_str_has_prefix(line, "NO ") || g_str_has_prefix(line, "BAD ")) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_FAILED,
                        "RENAME %s to %s on %s: tagged OK but untagged %s",
                        from, to, imap->label, line);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
acl_command(KdImap *imap, const char *verb, const char *mailbox,
            const char *identifier, const char *rights, GError **error)
{
    g_autoptr(GString) cmd = g_string_new(verb);

    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error) ||
        !kd_imap_quote_check_text(identifier, "identifier", FALSE, error) ||
        (rights != NULL && !kd_imap_quote_check_rights(rights, error))) {
        return FALSE;
    }
    g_string_append_c(cmd, ' ');
    kd_imap_quote_append(cmd, mailbox);
    g_string_append_c(cmd, ' ');
    kd_imap_quote_append(cmd, identifier);
    if (rights != NULL) {
        g_string_append_c(cmd, ' ');
        /* "" would be an empty atom; quote explicitly */
        if (*rights == '\0') {
            g_string_append(cmd, "\"\"");
        } else {
            g_string_append(cmd, rights);
        }
    }
    return kd_imap_run(imap, mailbox, verb, cmd->str, NULL, error);
}

gboolean
kd_imap_setacl(KdImap *imap, const char *mailbox, const char *identifier,
               const char *rights, GError **error)
{
    return acl_command(imap, "SETACL", mailbox, identifier, rights, error);
}

gboolean
kd_imap_deleteacl(KdImap *imap, const char *mailbox, const char *identifier,
                  GError **error)
{
    return acl_command(imap, "DELETEACL", mailbox, identifier, NULL, error);
}

void
kd_imap_ace_free(KdImapAce *ace)
{
    if (ace == NULL) {
        return;
    }
    g_free(ace->identifier);
    g_free(ace->rights);
    g_free(ace);
}

gboolean
kd_imap_getacl(KdImap *imap, const char *mailbox, GPtrArray **acl_out,
               GError **error)
{
    g_autoptr(GString) cmd = g_string_new("GETACL ");
    g_autoptr(GPtrArray) acl = NULL;
    clist *list;

    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, mailbox);
    if (!kd_imap_run(imap, mailbox, "GETACL", cmd->str, NULL, error)) {
        return FALSE;
    }
    acl = g_ptr_array_new_with_free_func((GDestroyNotify) kd_imap_ace_free);
    list = extension_list(imap);
    for (clistiter *it = list ? clist_begin(list) : NULL; it != NULL;
         it = clist_next(it)) {
        struct mailimap_extension_data *ext = clist_content(it);
        struct mailimap_acl_acl_data *data;

        if (ext->ext_extension->ext_id != MAILIMAP_EXTENSION_ACL ||
            ext->ext_type != MAILIMAP_ACL_TYPE_ACL_DATA) {
            continue;
        }
        data = ext->ext_data;
        for (clistiter *r = clist_begin(data->idrights_list); r != NULL;
             r = clist_next(r)) {
            struct mailimap_acl_identifier_rights *ir = clist_content(r);
            KdImapAce *ace = g_new0(KdImapAce, 1);

            ace->identifier = g_strdup(ir->identifer);
            ace->rights = g_strdup(ir->rights);
            g_ptr_array_add(acl, ace);
        }
    }
    *acl_out = g_steal_pointer(&acl);
    return TRUE;
}

gboolean
kd_imap_myrights(KdImap *imap, const char *mailbox, char **rights_out,
                 GError **error)
{
    g_autoptr(GString) cmd = g_string_new("MYRIGHTS ");
    clist *list;

    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, mailbox);
    if (!kd_imap_run(imap, mailbox, "MYRIGHTS", cmd->str, NULL, error)) {
        return FALSE;
    }
    list = extension_list(imap);
    for (clistiter *it = list ? clist_begin(list) : NULL; it != NULL;
         it = clist_next(it)) {
        struct mailimap_extension_data *ext = clist_content(it);

        if (ext->ext_extension->ext_id == MAILIMAP_EXTENSION_ACL &&
            ext->ext_type == MAILIMAP_ACL_TYPE_MYRIGHTS_DATA) {
            struct mailimap_acl_myrights_data *d = ext->ext_data;

            *rights_out = g_strdup(d->rights);
            return TRUE;
        }
    }
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_FAILED,
                "MYRIGHTS %s on %s: no MYRIGHTS data in the reply", mailbox,
                imap->label);
    return FALSE;
}

gboolean
kd_imap_setquota(KdImap *imap, const char *root, gint64 storage_kib,
                 GError **error)
{
    g_autoptr(GString) cmd = g_string_new("SETQUOTA ");

    if (!kd_imap_quote_check_mailbox(root, FALSE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, root);
    if (storage_kib < 0) {
        g_string_append(cmd, " ()");
    } else {
        g_string_append_printf(cmd, " (STORAGE %" G_GINT64_FORMAT ")",
                               storage_kib);
    }
    return kd_imap_run(imap, root, "SETQUOTA", cmd->str, NULL, error);
}

gboolean
kd_imap_getquotaroot(KdImap *imap, const char *mailbox, char **root_out,
                     gint64 *usage_kib_out, gint64 *limit_kib_out,
                     GError **error)
{
    g_autoptr(GString) cmd = g_string_new("GETQUOTAROOT ");
    g_autofree char *root = NULL;
    gint64 usage = -1;
    gint64 limit = -1;
    clist *list;

    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, mailbox);
    if (!kd_imap_run(imap, mailbox, "GETQUOTAROOT", cmd->str, NULL, error)) {
        return FALSE;
    }
    list = extension_list(imap);
    for (clistiter *it = list ? clist_begin(list) : NULL; it != NULL;
         it = clist_next(it)) {
        struct mailimap_extension_data *ext = clist_content(it);

        if (ext->ext_extension->ext_id != MAILIMAP_EXTENSION_QUOTA) {
            continue;
        }
        if (ext->ext_type == MAILIMAP_QUOTA_TYPE_QUOTAROOT_DATA) {
            struct mailimap_quota_quotaroot_data *d = ext->ext_data;

            if (root == NULL && d->quotaroot_list != NULL &&
                clist_begin(d->quotaroot_list) != NULL) {
                root = g_strdup(clist_content(clist_begin(d->quotaroot_list)));
            }
        } else if (ext->ext_type == MAILIMAP_QUOTA_TYPE_QUOTA_DATA) {
            struct mailimap_quota_quota_data *d = ext->ext_data;

            /* only the first root's STORAGE counts */
            if (root != NULL && strcmp(d->quotaroot, root) != 0) {
                continue;
            }
            for (clistiter *q = clist_begin(d->quota_list); q != NULL;
                 q = clist_next(q)) {
                struct mailimap_quota_quota_resource *res = clist_content(q);

                if (g_ascii_strcasecmp(res->resource_name, "STORAGE") == 0) {
                    usage = res->usage;
                    limit = res->limit;
                }
            }
        }
    }
    if (root_out != NULL) {
        *root_out = g_steal_pointer(&root);
    }
    if (usage_kib_out != NULL) {
        *usage_kib_out = usage;
    }
    if (limit_kib_out != NULL) {
        *limit_kib_out = limit;
    }
    return TRUE;
}

gboolean
kd_imap_setmetadata(KdImap *imap, const char *mailbox, const char *entry,
                    const char *value, GError **error)
{
    g_autoptr(GString) cmd = g_string_new("SETMETADATA ");

    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error) ||
        !kd_imap_quote_check_entry(entry, error) ||
        (value != NULL &&
         !kd_imap_quote_check_text(value, "metadata value", TRUE, error))) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, mailbox);
    g_string_append(cmd, " (");
    g_string_append(cmd, entry);
    if (value == NULL) {
        g_string_append(cmd, " NIL)");
    } else {
        /* always quoted: a 3.6.1 frontend loses atoms, and NIL is NIL */
        g_string_append(cmd, " \"");
        for (const char *p = value; *p; p++) {
            if (*p == '"' || *p == '\\') {
                g_string_append_c(cmd, '\\');
            }
            g_string_append_c(cmd, *p);
        }
        g_string_append(cmd, "\")");
    }
    return kd_imap_run(imap, mailbox, "SETMETADATA", cmd->str, NULL, error);
}

gboolean
kd_imap_getmetadata(KdImap *imap, const char *mailbox, gboolean pattern,
                    const char *const *entries, GPtrArray **items_out,
                    GError **error)
{
    g_autoptr(GString) cmd = g_string_new("GETMETADATA ");
    g_autoptr(GPtrArray) items = NULL;

    g_return_val_if_fail(entries != NULL && entries[0] != NULL, FALSE);
    if (!kd_imap_quote_check_mailbox(mailbox, pattern, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, mailbox);
    g_string_append(cmd, " (");
    for (gsize i = 0; entries[i] != NULL; i++) {
        if (!kd_imap_quote_check_entry(entries[i], error)) {
            return FALSE;
        }
        g_string_append_printf(cmd, "%s%s", i ? " " : "", entries[i]);
    }
    g_string_append_c(cmd, ')');
    if (!kd_imap_run(imap, mailbox, "GETMETADATA", cmd->str, NULL, error)) {
        return FALSE;
    }
    items =
        g_ptr_array_new_with_free_func((GDestroyNotify) kd_imap_metadata_free);
    kd_imap_metadata_collect(imap->session, items);
    *items_out = g_steal_pointer(&items);
    return TRUE;
}

gboolean
kd_imap_list(KdImap *imap, const char *pattern, GPtrArray **names_out,
             GError **error)
{
    g_autoptr(GString) cmd = g_string_new("LIST \"\" ");
    g_autoptr(GPtrArray) names = NULL;
    clist *list = NULL;

    if (!kd_imap_quote_check_mailbox(pattern, TRUE, error)) {
        return FALSE;
    }
    kd_imap_quote_append(cmd, pattern);
    if (!kd_imap_run(imap, pattern, "LIST", cmd->str, NULL, error)) {
        return FALSE;
    }
    names = g_ptr_array_new_with_free_func(g_free);
    if (imap->session->imap_response_info != NULL) {
        list = imap->session->imap_response_info->rsp_mailbox_list;
    }
    for (clistiter *it = list ? clist_begin(list) : NULL; it != NULL;
         it = clist_next(it)) {
        struct mailimap_mailbox_list *mb = clist_content(it);

        g_ptr_array_add(names, g_strdup(mb->mb_name));
    }
    *names_out = g_steal_pointer(&names);
    return TRUE;
}
