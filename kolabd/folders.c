/* folders: see folders.h. */
#include "config.h"

#include <string.h>

#include "folders.h"
#include "mutf7.h"
#include "object.h"

G_DEFINE_QUARK(kd-folders-error-quark, kd_folders_error)

static const struct {
    const char *name;
    const char *private_type;
    const char *shared_type;
} defaults[] = {
    {"Calendar", "event.default", "event"},
    {"Configuration", "configuration.default", "configuration"},
    {"Contacts", "contact.default", "contact"},
    {"Drafts", "mail.drafts", NULL},
    {"Files", "file.default", "file"},
    {"Journal", "journal.default", "journal"},
    {"Notes", "note.default", "note"},
    {"Sent", "mail.sentitems", NULL},
    {"Spam", "mail.junkemail", NULL},
    {"Tasks", "task.default", "task"},
    {"Trash", "mail.wastebasket", NULL},
};

KdFolderSpec *
kd_folder_spec_new(const char *name, GError **error)
{
    g_autoptr(KdFolderSpec) spec = g_new0(KdFolderSpec, 1);

    g_return_val_if_fail(name != NULL, NULL);
    if (!kd_folders_check_path(name, strlen(name), error)) {
        return NULL;
    }
    spec->name = g_strdup(name);
    spec->name_mutf7 = kd_mutf7_encode(name, error);
    if (spec->name_mutf7 == NULL) {
        return NULL;
    }
    spec->subscribe = TRUE;
    spec->quota_kib = KD_QUOTA_UNSET;
    return g_steal_pointer(&spec);
}

void
kd_folder_spec_free(KdFolderSpec *spec)
{
    if (spec == NULL) {
        return;
    }
    g_free(spec->name);
    g_free(spec->name_mutf7);
    g_free(spec->private_type);
    g_free(spec->shared_type);
    g_free(spec->acl);
    g_free(spec->partition);
    g_free(spec);
}

KdFolderSpec *
kd_folder_spec_copy(const KdFolderSpec *spec)
{
    KdFolderSpec *copy = g_new0(KdFolderSpec, 1);

    copy->name = g_strdup(spec->name);
    copy->name_mutf7 = g_strdup(spec->name_mutf7);
    copy->private_type = g_strdup(spec->private_type);
    copy->shared_type = g_strdup(spec->shared_type);
    copy->acl = g_strdup(spec->acl);
    copy->subscribe = spec->subscribe;
    copy->quota_kib = spec->quota_kib;
    copy->partition = g_strdup(spec->partition);
    return copy;
}

GPtrArray *
kd_folders_default(void)
{
    GPtrArray *list =
        g_ptr_array_new_with_free_func((GDestroyNotify)kd_folder_spec_free);

    for (gsize i = 0; i < G_N_ELEMENTS(defaults); i++) {
        KdFolderSpec *spec = kd_folder_spec_new(defaults[i].name, NULL);

        g_assert(spec != NULL);
        spec->private_type = g_strdup(defaults[i].private_type);
        spec->shared_type = g_strdup(defaults[i].shared_type);
        g_ptr_array_add(list, spec);
    }
    return list;
}

static gboolean
name_error(GError **error, const char *why)
{
    g_set_error(error, KD_FOLDERS_ERROR, KD_FOLDERS_ERROR_NAME, "%s", why);
    return FALSE;
}

gboolean
kd_folders_check_path(const char *path, gsize len, GError **error)
{
    const char *p;
    const char *start;

    if (len == 0) {
        return name_error(error, "empty name");
    }
    if (len > KD_MAILBOX_NAME_MAX) {
        return name_error(error, "name longer than 490 bytes");
    }
    if (memchr(path, '\0', len) != NULL) {
        return name_error(error, "name contains a NUL byte");
    }
    if (!g_utf8_validate_len(path, len, NULL)) {
        return name_error(error, "name is not valid UTF-8");
    }
    for (gsize i = 0; i < len; i++) {
        guchar c = (guchar)path[i];

        if (c == '\r' || c == '\n') {
            return name_error(error, "name contains CR or LF");
        }
        if (c < 0x20 || c == 0x7f) {
            return name_error(error, "name contains a control character");
        }
        if (c == '%' || c == '*') {
            return name_error(error, "name contains an IMAP wildcard");
        }
        if (c == '"' || c == '\\') {
            return name_error(error, "name contains a quote or backslash");
        }
        if (c == '^') {
            return name_error(error, "name contains '^'");
        }
        if (c == '@') {
            return name_error(error, "name contains '@'");
        }
    }
    /* C1 controls (U+0080..U+009F) are as dangerous in logs as C0 */
    for (p = path; p < path + len; p = g_utf8_next_char(p)) {
        gunichar u = g_utf8_get_char(p);

        if (u >= 0x80 && u <= 0x9f) {
            return name_error(error, "name contains a control character");
        }
    }
    if (path[0] == '/' || path[len - 1] == '/') {
        return name_error(error, "name starts or ends with '/'");
    }
    if (g_strstr_len(path, (gssize)len, "..") != NULL) {
        return name_error(error, "name contains \"..\"");
    }
    start = path;
    for (p = path; p <= path + len; p++) {
        if (p == path + len || *p == '/') {
            gsize n = (gsize)(p - start);

            if (n == 0) {
                return name_error(error, "name has an empty component");
            }
            if (n == 1 && start[0] == '.') {
                return name_error(error, "name has a \".\" component");
            }
            start = p + 1;
        }
    }
    return TRUE;
}

gboolean
kd_folders_check_type(const char *value, gsize len, GError **error)
{
    gboolean ok = len > 0 && len <= 64;

    for (gsize i = 0; ok && i < len; i++) {
        ok = g_ascii_isalnum(value[i]) || value[i] == '.' ||
             value[i] == '_' || value[i] == '-';
    }
    if (!ok) {
        g_set_error(error, KD_FOLDERS_ERROR, KD_FOLDERS_ERROR_VALUE,
                    "folder type must be 1..64 characters from "
                    "[A-Za-z0-9._-]");
    }
    return ok;
}

char *
kd_folders_mailbox(const char *user_mailbox, const char *folder_mutf7)
{
    const char *at = strrchr(user_mailbox, '@');

    if (at == NULL) {
        return g_strconcat(user_mailbox, "/", folder_mutf7, NULL);
    }
    return g_strdup_printf("%.*s/%s%s", (int)(at - user_mailbox),
                           user_mailbox, folder_mutf7, at);
}
