/* acl: see acl.h. */
#include "config.h"

#include <string.h>

#include "acl-private.h"

G_DEFINE_QUARK(kd-acl-error-quark, kd_acl_error)

#define MAX_SUBJECT 255

typedef struct {
    guint32 plus;
    guint32 minus;
} Rights;

struct KdAcl {
    GHashTable *subjects; /* canonical subject -> Rights* */
};

static const struct {
    const char *alias;
    const char *letters;
} aliases[] = {
    /* Kolab 3 (pykolab) */
    {"all", "lrsedntxakcpiw"},
    {"full", "lrswipkxtecdn"},
    {"read", "lrs"},
    {"read-only", "lrs"},
    {"read-write", "lrswitedn"},
    {"write", "lrswite"},
    {"semi-full", "lrswit"},
    {"append", "wip"},
    {"post", "p"},
    /* Kolab 2 extras (its conflicting meanings of all/write/append lose) */
    {"none", ""},
    {"read anon", "lr"},
    {"read hidden", "rs"},
};

void
kd_acl_entry_free(KdAclEntry *entry)
{
    if (entry == NULL) {
        return;
    }
    g_free(entry->subject);
    g_free(entry->rights);
    g_free(entry);
}

KdAcl *
kd_acl_new(void)
{
    KdAcl *acl = g_new0(KdAcl, 1);

    acl->subjects =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return acl;
}

void
kd_acl_free(KdAcl *acl)
{
    if (acl == NULL) {
        return;
    }
    g_hash_table_unref(acl->subjects);
    g_free(acl);
}

/* A printable, bounded copy of untrusted bytes for error messages. */
char *
kd_acl_quote_for_message(const char *data, gsize len)
{
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < len && i < 80; i++) {
        guchar c = (guchar)data[i];

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            g_string_append_printf(out, "\\x%02x", c);
        } else {
            g_string_append_c(out, (char)c);
        }
    }
    if (len > 80) {
        g_string_append(out, "...");
    }
    return g_string_free(out, FALSE);
}

gboolean
kd_acl_subject_check(const char *subject, gsize len, GError **error)
{
    const char *why = NULL;

    if (len == 0) {
        why = "empty subject";
    } else if (len > MAX_SUBJECT) {
        why = "subject longer than 255 bytes";
    }
    for (gsize i = 0; why == NULL && i < len; i++) {
        guchar c = (guchar)subject[i];

        if (c == '\0') {
            why = "subject contains NUL";
        } else if (c == '\r' || c == '\n') {
            why = "subject contains CR or LF";
        } else if (c < 0x20 || c == 0x7f) {
            why = "subject contains a control character";
        } else if (c > 0x7f) {
            why = "subject is not 7-bit ASCII";
        } else if (c == ' ') {
            why = "subject contains a space";
        } else if (strchr("\"'\\", c) != NULL) {
            why = "subject contains a quote or backslash";
        } else if (strchr("%*", c) != NULL) {
            why = "subject contains an IMAP wildcard";
        } else if (strchr("(){},;", c) != NULL) {
            why = "subject contains one of ( ) { } , ;";
        }
    }
    if (why != NULL) {
        g_autofree char *q = kd_acl_quote_for_message(subject, len);

        g_set_error(error, KD_ACL_ERROR, KD_ACL_ERROR_SUBJECT,
                    "%s: \"%s\"", why, q);
        return FALSE;
    }
    return TRUE;
}

static char *
canonical_subject(const char *subject)
{
    if (g_ascii_strncasecmp(subject, "group:", 6) == 0) {
        return g_strconcat("group:", subject + 6, NULL);
    }
    return g_ascii_strdown(subject, -1);
}

static guint32
bit(char letter)
{
    const char *p = strchr(KD_ACL_LETTERS, letter);

    return p != NULL && letter != '\0' ? 1u << (p - KD_ACL_LETTERS) : 0;
}

/* Cyrus' cyrus_acl_strtomask() with deleteright "c". */
gboolean
kd_acl_letters_to_mask(const char *letters, guint32 *mask_out)
{
    guint32 mask = 0;
    guint32 legacy_create = 0;
    guint32 legacy_delete = 0;

    for (const char *p = letters; *p != '\0'; p++) {
        if (*p == 'c') {
            legacy_create = bit('k') | bit('x');
        } else if (*p == 'd') {
            legacy_delete = bit('t') | bit('e');
        } else if (bit(*p) != 0) {
            mask |= bit(*p);
        } else {
            return FALSE;
        }
    }
    if ((mask & legacy_create) == 0) {
        mask |= legacy_create;
    }
    if ((mask & legacy_delete) == 0) {
        mask |= legacy_delete;
    }
    *mask_out = mask;
    return TRUE;
}

static char *
mask_to_letters(guint32 mask)
{
    GString *out = g_string_new(NULL);

    for (int i = 0; KD_ACL_LETTERS[i] != '\0'; i++) {
        if (mask & (1u << i)) {
            g_string_append_c(out, KD_ACL_LETTERS[i]);
        }
    }
    return g_string_free(out, FALSE);
}

static gboolean
rights_to_mask(const char *rights, char *op_out, guint32 *mask_out,
               GError **error)
{
    g_autofree char *word = g_strstrip(g_ascii_strdown(rights, -1));
    const char *w = word;
    char op = '\0';
    gboolean post = FALSE;
    gsize n;

    if (*w == '+' || *w == '-') {
        op = *w++;
    }
    n = strlen(w);
    if (n > 5 && strcmp(w + n - 5, "/post") == 0) {
        post = TRUE;
        word[(w - word) + n - 5] = '\0';
    }
    for (gsize i = 0; i < G_N_ELEMENTS(aliases); i++) {
        if (strcmp(w, aliases[i].alias) == 0) {
            w = aliases[i].letters;
            break;
        }
    }
    if (!kd_acl_letters_to_mask(w, mask_out)) {
        g_autofree char *q =
            kd_acl_quote_for_message(rights, strlen(rights));

        g_set_error(error, KD_ACL_ERROR, KD_ACL_ERROR_RIGHTS,
                    "unknown rights \"%s\" (expected Cyrus letters from "
                    "lrswipkxtecdan0-9 or a Kolab alias such as read, "
                    "read-write, full, all, post)",
                    q);
        return FALSE;
    }
    if (post) {
        *mask_out |= bit('p');
    }
    if (op_out != NULL) {
        *op_out = op;
    }
    return TRUE;
}

char *
kd_acl_rights_canonical(const char *rights, char *op_out, GError **error)
{
    guint32 mask;

    g_return_val_if_fail(rights != NULL, NULL);
    if (!rights_to_mask(rights, op_out, &mask, error)) {
        return NULL;
    }
    return mask_to_letters(mask);
}

gboolean
kd_acl_add_checked(KdAcl *acl, const char *subject, gsize len,
                   const char *rights, GError **error)
{
    guint32 mask;
    char op;
    Rights *r;

    if (!kd_acl_subject_check(subject, len, error) ||
        !rights_to_mask(rights, &op, &mask, error)) {
        return FALSE;
    }
    g_autofree char *copy = g_strndup(subject, len);
    g_autofree char *key = canonical_subject(copy);
    r = g_hash_table_lookup(acl->subjects, key);
    if (r == NULL) {
        r = g_new0(Rights, 1);
        g_hash_table_insert(acl->subjects, g_steal_pointer(&key), r);
    }
    if (op == '-') {
        r->minus |= mask;
    } else {
        r->plus |= mask;
    }
    return TRUE;
}

gboolean
kd_acl_add(KdAcl *acl, const char *subject, const char *rights,
           GError **error)
{
    g_return_val_if_fail(acl != NULL && subject != NULL && rights != NULL,
                         FALSE);
    return kd_acl_add_checked(acl, subject, strlen(subject), rights, error);
}


static guint32
effective(const Rights *r)
{
    return r->plus & ~r->minus;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Subjects with rights, sorted; the strings are owned by @acl. */
static GPtrArray *
sorted_subjects(const KdAcl *acl)
{
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, acl->subjects);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (effective(v) != 0) {
            g_ptr_array_add(keys, k);
        }
    }
    g_ptr_array_sort(keys, compare_strings);
    return keys;
}

char *
kd_acl_to_string(const KdAcl *acl)
{
    g_autoptr(GPtrArray) keys = NULL;
    GString *out = g_string_new(NULL);

    g_return_val_if_fail(acl != NULL, NULL);
    keys = sorted_subjects(acl);
    for (guint i = 0; i < keys->len; i++) {
        const Rights *r = g_hash_table_lookup(acl->subjects, keys->pdata[i]);
        g_autofree char *letters = mask_to_letters(effective(r));

        g_string_append_printf(out, "%s%s %s", i > 0 ? "\n" : "",
                               (const char *)keys->pdata[i], letters);
    }
    return g_string_free(out, FALSE);
}

guint
kd_acl_size(const KdAcl *acl)
{
    g_autoptr(GPtrArray) keys = sorted_subjects(acl);

    return keys->len;
}

char *
kd_acl_lookup(const KdAcl *acl, const char *subject)
{
    g_autofree char *key = canonical_subject(subject);
    const Rights *r = g_hash_table_lookup(acl->subjects, key);

    if (r == NULL || effective(r) == 0) {
        return NULL;
    }
    return mask_to_letters(effective(r));
}

static gboolean
in_list(const char *const *list, const char *subject)
{
    for (guint i = 0; list != NULL && list[i] != NULL; i++) {
        g_autofree char *key = canonical_subject(list[i]);

        if (strcmp(key, subject) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
kd_acl_diff(const char *desired, const char *actual,
            const char *const *keep, GPtrArray **set_out,
            GPtrArray **remove_out, GError **error)
{
    g_autoptr(KdAcl) want = kd_acl_from_string(desired, error);
    g_autoptr(KdAcl) have = want ? kd_acl_from_string(actual, error) : NULL;
    g_autoptr(GPtrArray) want_keys = NULL;
    g_autoptr(GPtrArray) have_keys = NULL;
    g_autoptr(GPtrArray) set = NULL;
    g_autoptr(GPtrArray) remove = NULL;

    g_return_val_if_fail(set_out != NULL && remove_out != NULL, FALSE);
    if (have == NULL) {
        return FALSE;
    }
    set = g_ptr_array_new_with_free_func((GDestroyNotify)kd_acl_entry_free);
    remove = g_ptr_array_new_with_free_func(g_free);
    want_keys = sorted_subjects(want);
    have_keys = sorted_subjects(have);
    for (guint i = 0; i < want_keys->len; i++) {
        const char *subject = want_keys->pdata[i];
        guint32 w = effective(g_hash_table_lookup(want->subjects, subject));
        const Rights *h = g_hash_table_lookup(have->subjects, subject);

        if (h == NULL || effective(h) != w) {
            KdAclEntry *e = g_new0(KdAclEntry, 1);

            e->subject = g_strdup(subject);
            e->rights = mask_to_letters(w);
            g_ptr_array_add(set, e);
        }
    }
    for (guint i = 0; i < have_keys->len; i++) {
        const char *subject = have_keys->pdata[i];
        const Rights *w = g_hash_table_lookup(want->subjects, subject);

        if ((w == NULL || effective(w) == 0) && !in_list(keep, subject)) {
            g_ptr_array_add(remove, g_strdup(subject));
        }
    }
    *set_out = g_steal_pointer(&set);
    *remove_out = g_steal_pointer(&remove);
    return TRUE;
}
