/*
 * entry: an LDAP entry as kolabd received it, independent of libldap.
 *
 * ldap-sync builds a KdEntry from each SearchResultEntry; model classifies it
 * and derives a KdObject from it; unit tests build entries by hand. Attribute
 * names are compared case-insensitively (they are stored lower-cased).
 * Values are binary-safe byte strings: LDAP may send NUL, CR or LF inside a
 * value, and it is model's job to refuse such values, so nothing here
 * assumes text. Every stored value is followed by a NUL byte that is not
 * part of its length, so text consumers may use it as a C string after
 * checking that strlen() equals the length.
 */
#ifndef KOLABD_ENTRY_H
#define KOLABD_ENTRY_H

#include <glib.h>

typedef struct KdEntry KdEntry;

/* One attribute value: data[len] is always NUL. */
typedef struct {
    const char *data;
    gsize len;
} KdValue;

/* A new entry with a copy of @dn (may be NULL or empty for a DELETE). */
KdEntry *kd_entry_new(const char *dn);
/* Frees @entry; accepts NULL. */
void kd_entry_free(KdEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdEntry, kd_entry_free)

const char *kd_entry_get_dn(const KdEntry *entry);
void kd_entry_set_dn(KdEntry *entry, const char *dn);

/* Appends a copy of @len bytes at @data to @attr (case-insensitive). */
void kd_entry_add_value(KdEntry *entry, const char *attr, const char *data,
                        gsize len);
/* Convenience for tests: adds a NUL-terminated text value. */
void kd_entry_add(KdEntry *entry, const char *attr, const char *text);

/* Number of values of @attr (0 if absent). */
guint kd_entry_count(const KdEntry *entry, const char *attr);
/* Value @index of @attr, or NULL if there is none. Owned by @entry. */
const KdValue *kd_entry_value(const KdEntry *entry, const char *attr,
                              guint index);
/*
 * First value of @attr as a C string, or NULL when the attribute is absent
 * or its first value contains a NUL byte. Owned by @entry.
 */
const char *kd_entry_first(const KdEntry *entry, const char *attr);
/* TRUE when some value of @attr equals @text ignoring ASCII case. */
gboolean kd_entry_has_value_ci(const KdEntry *entry, const char *attr,
                               const char *text);
/* Lower-cased attribute names, in no particular order; free with g_free
 * (the strings are owned by @entry). */
const char **kd_entry_attrs(const KdEntry *entry, guint *n_out);

#endif /* KOLABD_ENTRY_H */
