/*
 * object: the desired state of one LDAP object, keyed by entryUUID.
 *
 * model derives a KdObject from a KdEntry; store persists it (table
 * `objects`) and compares it with the previous version to decide whether
 * the object needs work; reconcile turns the difference between a KdObject
 * and what was last applied in Cyrus into IMAP and LDAP operations.
 *
 * Only fields that drive provisioning live here, so that a MODIFY of an
 * unrelated attribute compares equal and causes no work. `mailhost` is
 * LDAP's current value: it is not desired state but kolabd must see it to
 * know whether to write it (and to honour a preset value on creation).
 */
#ifndef KOLABD_OBJECT_H
#define KOLABD_OBJECT_H

#include <glib.h>

#define KD_UUID_LEN 16

typedef enum {
    KD_OBJECT_NONE = 0,   /* matches no filter: not (or no longer) ours */
    KD_OBJECT_USER = 1,   /* kolabInetOrgPerson with mail */
    KD_OBJECT_SHARED = 2, /* kolabSharedFolder */
} KdObjectKind;

/* quota_kib values besides a positive limit */
#define KD_QUOTA_UNSET (-2) /* leave the mailbox's quota alone */
#define KD_QUOTA_UNLIMITED (-1)

typedef struct {
    guint8 uuid[KD_UUID_LEN];
    KdObjectKind kind;
    char *dn;          /* current DN, for logs and the mailHost write */
    char *mail;        /* primary address, lower-cased; NULL if none */
    char *domain;      /* domain part of mail (or of the folder) */
    char *mailbox;     /* admin-namespace name, modified UTF-7, e.g.
                        * "user/john@example.org"; NULL when refused */
    gint64 quota_kib;  /* > 0 limit, or KD_QUOTA_UNSET / _UNLIMITED */
    char *acl;         /* canonical ACL: "subject rights" lines joined by
                        * '\n', sorted by subject, Cyrus letters only;
                        * NULL when LDAP defines none (users) */
    char *folder_type; /* shared folders: /vendor/kolab/folder-type */
    char *mailhost;    /* LDAP's current mailHost (lower-cased), or NULL */
    GHashTable *attrs; /* extra attributes kept for placement plugins:
                        * lower-cased name -> first value; may be NULL */
    char *error;       /* non-NULL: the entry was refused, and why */
} KdObject;

KdObject *kd_object_new(const guint8 uuid[KD_UUID_LEN]);
void kd_object_free(KdObject *object);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdObject, kd_object_free)
KdObject *kd_object_copy(const KdObject *object);

/*
 * TRUE when @a and @b ask for the same thing in Cyrus and LDAP (kind,
 * mailbox, quota, acl, folder type, mailhost, attrs, error). The DN is not
 * compared: a rename that keeps the mailbox name needs no work.
 */
gboolean kd_object_same_desired(const KdObject *a, const KdObject *b);

/* Lower-case hex of the UUID (32 chars) into @buf (33 bytes). */
void kd_uuid_to_hex(const guint8 uuid[KD_UUID_LEN], char buf[33]);
/* Parses 32 hex digits (dashes allowed, RFC 4122 form). FALSE if invalid. */
gboolean kd_uuid_from_string(const char *text, guint8 uuid_out[KD_UUID_LEN]);

#endif /* KOLABD_OBJECT_H */
