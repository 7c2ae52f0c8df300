/*
 * acl: Kolab `acl` attribute values and Cyrus ACLs in one canonical form.
 *
 * A shared folder's ACL is desired state (KdObject.acl) derived from the
 * LDAP attribute, and reconcile compares it with what GETACL reports. Both
 * sides go through a KdAcl so that they compare as text:
 *
 *   - kd_acl_add_ldap_value() parses one LDAP value in any of the three
 *     Kolab formats ("subject, rights", "subject rights" and the tuple
 *     "('subject', 'rights'[, expiry])"), translates alias words (Kolab 3
 *     table first, then the Kolab 2 extras "none", "read anon",
 *     "read hidden" and the "/post" suffix) into Cyrus letters, and refuses
 *     hostile subjects or rights with a reason;
 *   - kd_acl_from_getacl() parses the identifier/rights pairs of a Cyrus
 *     `* ACL` response;
 *   - kd_acl_to_string() prints the canonical form: one "subject rights"
 *     line per subject, joined by '\n' (no trailing newline), sorted by
 *     subject (byte order), rights in Cyrus order from "lrswipkxtean0-9".
 *
 * Rights are interpreted as Cyrus does (deleteright "c"): the legacy macro
 * `c` means `kx` and `d` means `te` unless a member right is also given,
 * and Cyrus' virtual `c`/`d` letters in GETACL output are dropped. So
 * "all", "lrsedntxakcpiw" and Cyrus' "lrswipkxtecdan" are all
 * "lrswipkxtean". Subjects are lower-cased (Kolab runs Cyrus with
 * username_tolower), except the name after a "group:" prefix. Several
 * values for one subject merge: plain and "+" rights are united, "-" rights
 * are removed afterwards; a subject left without rights is dropped.
 */
#ifndef KOLABD_ACL_H
#define KOLABD_ACL_H

#include <glib.h>

#define KD_ACL_ERROR (kd_acl_error_quark())
GQuark kd_acl_error_quark(void);

typedef enum {
    KD_ACL_ERROR_SYNTAX,  /* value not in any known format */
    KD_ACL_ERROR_SUBJECT, /* unsafe or empty subject */
    KD_ACL_ERROR_RIGHTS,  /* unknown alias or letter */
} KdAclError;

/* Canonical right letters in Cyrus' order. */
#define KD_ACL_LETTERS "lrswipkxtean0123456789"

typedef struct KdAcl KdAcl;

/* One subject's rights, as in the diff result. */
typedef struct {
    char *subject;
    char *rights; /* canonical letters, never empty */
} KdAclEntry;

void kd_acl_entry_free(KdAclEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdAclEntry, kd_acl_entry_free)

KdAcl *kd_acl_new(void);
/* Frees @acl; accepts NULL. */
void kd_acl_free(KdAcl *acl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdAcl, kd_acl_free)

/*
 * Checks that @subject (@len bytes, may contain NUL) is safe to send as a
 * Cyrus identifier: 1..255 bytes of printable 7-bit ASCII without space,
 * quotes, backslash, IMAP wildcards (% *), parentheses, braces, comma or
 * semicolon. FALSE with KD_ACL_ERROR_SUBJECT and the reason otherwise.
 */
gboolean kd_acl_subject_check(const char *subject, gsize len,
                              GError **error);

/*
 * Translates @rights (an alias word or Cyrus letters, with an optional
 * leading '+' or '-') into canonical letters. Returns a new string (empty
 * for "none" or ""), or NULL with KD_ACL_ERROR_RIGHTS. *@op_out (may be
 * NULL) receives '+', '-' or '\0'.
 */
char *kd_acl_rights_canonical(const char *rights, char *op_out,
                              GError **error);

/*
 * Adds @rights for @subject (both validated as above). On error @acl is
 * unchanged.
 */
gboolean kd_acl_add(KdAcl *acl, const char *subject, const char *rights,
                    GError **error);

/*
 * Parses one LDAP `acl` value (@len bytes at @value, may contain NUL) and
 * merges it into @acl. A tuple value whose expiry (Unix seconds) is before
 * @now is ignored and *@expired_out (may be NULL) set to TRUE. Returns
 * FALSE with @error set, @acl unchanged, when the value is unusable; the
 * message quotes the value with control bytes escaped.
 */
gboolean kd_acl_add_ldap_value(KdAcl *acl, const char *value, gsize len,
                               gint64 now, gboolean *expired_out,
                               GError **error);

/*
 * Parses the identifier/rights pairs of a GETACL response, i.e. the text
 * after the mailbox name of "* ACL <mailbox> id rights id rights ...".
 * Tokens are IMAP atoms or quoted strings. Returns a new KdAcl, or NULL
 * with @error set (odd token count, bad quoting, unsafe identifier, unknown
 * letter).
 */
KdAcl *kd_acl_from_getacl(const char *text, GError **error);

/*
 * Parses a canonical string as produced by kd_acl_to_string() (NULL or ""
 * give an empty ACL). Returns a new KdAcl or NULL with @error set.
 */
KdAcl *kd_acl_from_string(const char *text, GError **error);

/* The canonical string of @acl, newly allocated; "" when empty. */
char *kd_acl_to_string(const KdAcl *acl);

/* Number of subjects with rights in @acl. */
guint kd_acl_size(const KdAcl *acl);

/*
 * Canonical rights of @subject (compared after the same lower-casing as on
 * input), newly allocated, or NULL when the subject has none.
 */
char *kd_acl_lookup(const KdAcl *acl, const char *subject);

/*
 * What must change to turn @actual into @desired (both canonical strings,
 * NULL = empty). *@set_out receives KdAclEntry* for subjects to SETACL
 * (missing or different rights), *@remove_out char* subjects to
 * DELETEACL; both arrays are new, sorted by subject and free their
 * elements. Subjects listed in @keep (NULL-terminated, may be NULL; e.g.
 * the admin identity) are never removed or changed unless @desired names
 * them. Returns FALSE with @error when either string does not parse.
 */
gboolean kd_acl_diff(const char *desired, const char *actual,
                     const char *const *keep, GPtrArray **set_out,
                     GPtrArray **remove_out, GError **error);

#endif /* KOLABD_ACL_H */
