/*
 * folders: the default folders created in every new user mailbox, and the
 * rules for safe folder names.
 *
 * After reconcile creates user/<mail>, it creates each default folder
 * below it, sets the Kolab folder-type annotations (/private as the user,
 * /shared as admin), the folder ACL and quota, and subscribes the user.
 * The list is Kolab's shipped `autocreate_folders` default (notes/kolab.md
 * 4, without Archive, which needs an "archive" partition, and without the
 * "Personal Calendar"/"Personal Contacts" sub-folders) unless the config
 * has [folder NAME] groups, which then replace it entirely.
 *
 * Names are UTF-8 relative to the user's INBOX with '/' as separator;
 * each spec carries the modified UTF-7 form for the wire.
 * kd_folders_check_path() is also what model uses for the path of shared
 * folders, so that one set of rules keeps hostile names out of IMAP.
 */
#ifndef KOLABD_FOLDERS_H
#define KOLABD_FOLDERS_H

#include <glib.h>

#define KD_FOLDERS_ERROR (kd_folders_error_quark())
GQuark kd_folders_error_quark(void);

typedef enum {
    KD_FOLDERS_ERROR_NAME,  /* unsafe folder name */
    KD_FOLDERS_ERROR_VALUE, /* unsafe annotation value */
} KdFoldersError;

/* Longest mailbox name Cyrus accepts (MAX_MAILBOX_NAME), wire form. */
#define KD_MAILBOX_NAME_MAX 490

typedef struct {
    char *name;         /* UTF-8, e.g. "Sent" or "Calendar/Work" */
    char *name_mutf7;   /* the same in modified UTF-7 */
    char *private_type; /* /private/vendor/kolab/folder-type, or NULL */
    char *shared_type;  /* /shared/vendor/kolab/folder-type, or NULL */
    char *acl;          /* canonical ACL (see acl.h) or NULL: inherit */
    gboolean subscribe; /* subscribe the user (default TRUE) */
    gint64 quota_kib;   /* KD_QUOTA_UNSET (object.h): no own quota root;
                         * 0: own root without limit; > 0: limit */
    char *partition;    /* Cyrus partition, or NULL for the default */
} KdFolderSpec;

/*
 * A new spec for @name (validated with kd_folders_check_path(), then
 * encoded), with subscribe TRUE, quota KD_QUOTA_UNSET and everything else
 * NULL. NULL with @error set when the name is unsafe.
 */
KdFolderSpec *kd_folder_spec_new(const char *name, GError **error);
/* Frees @spec; accepts NULL. */
void kd_folder_spec_free(KdFolderSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdFolderSpec, kd_folder_spec_free)
KdFolderSpec *kd_folder_spec_copy(const KdFolderSpec *spec);

/* Kolab's default folders: a new array of KdFolderSpec* that frees them. */
GPtrArray *kd_folders_default(void);

/*
 * Checks a '/'-separated UTF-8 mailbox path (@len bytes at @path, may hold
 * NUL): valid UTF-8; no NUL, control characters, '%', '*', '"', '\\',
 * '^' (Cyrus stores '.' as '^') or '@' (it would be read as a domain); no
 * empty component, leading or trailing '/', "." or ".." component or "..";
 * at most KD_MAILBOX_NAME_MAX bytes. FALSE with KD_FOLDERS_ERROR_NAME and
 * the reason otherwise.
 */
gboolean kd_folders_check_path(const char *path, gsize len, GError **error);

/*
 * Checks a folder-type annotation value: 1..64 bytes of [A-Za-z0-9._-].
 * FALSE with KD_FOLDERS_ERROR_VALUE otherwise.
 */
gboolean kd_folders_check_type(const char *value, gsize len, GError **error);

/*
 * The admin-namespace name of folder @folder_mutf7 of the user whose INBOX
 * is @user_mailbox ("user/john@example.org" + "Sent" ->
 * "user/john/Sent@example.org"; without a domain: "user/john/Sent").
 * Newly allocated.
 */
char *kd_folders_mailbox(const char *user_mailbox, const char *folder_mutf7);

#endif /* KOLABD_FOLDERS_H */
