/* entry: see entry.h. */

#include <string.h>

#include "entry.h"

struct KdEntry {
    char *dn;
    /* lower-cased name -> GArray of KdValue (data owned) */
    GHashTable *attrs;
};

static void
value_array_free(gpointer p)
{
    GArray *values = p;

    for (guint i = 0; i < values->len; i++) {
        g_free((char *)g_array_index(values, KdValue, i).data);
    }
    g_array_free(values, TRUE);
}

KdEntry *
kd_entry_new(const char *dn)
{
    KdEntry *entry = g_new0(KdEntry, 1);

    entry->dn = g_strdup(dn ? dn : "");
    entry->attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         value_array_free);
    return entry;
}

void
kd_entry_free(KdEntry *entry)
{
    if (entry == NULL) {
        return;
    }
    g_hash_table_unref(entry->attrs);
    g_free(entry->dn);
    g_free(entry);
}

const char *
kd_entry_get_dn(const KdEntry *entry)
{
    return entry->dn;
}

void
kd_entry_set_dn(KdEntry *entry, const char *dn)
{
    g_free(entry->dn);
    entry->dn = g_strdup(dn ? dn : "");
}

static GArray *
lookup(const KdEntry *entry, const char *attr)
{
    char buf[128];
    gsize n = strlen(attr);

    if (n < sizeof buf) {
        for (gsize i = 0; i <= n; i++) {
            buf[i] = g_ascii_tolower(attr[i]);
        }
        return g_hash_table_lookup(entry->attrs, buf);
    } else {
        g_autofree char *lower = g_ascii_strdown(attr, -1);
        return g_hash_table_lookup(entry->attrs, lower);
    }
}

void
kd_entry_add_value(KdEntry *entry, const char *attr, const char *data,
                   gsize len)
{
    GArray *values = lookup(entry, attr);
    KdValue v;
    char *copy;

    if (values == NULL) {
        values = g_array_new(FALSE, FALSE, sizeof(KdValue));
        g_hash_table_insert(entry->attrs, g_ascii_strdown(attr, -1), values);
    }
    copy = g_malloc(len + 1);
    if (len > 0) {
        memcpy(copy, data, len);
    }
    copy[len] = '\0';
    v.data = copy;
    v.len = len;
    g_array_append_val(values, v);
}

void
kd_entry_add(KdEntry *entry, const char *attr, const char *text)
{
    kd_entry_add_value(entry, attr, text, strlen(text));
}

guint
kd_entry_count(const KdEntry *entry, const char *attr)
{
    GArray *values = lookup(entry, attr);

    return values ? values->len : 0;
}

const KdValue *
kd_entry_value(const KdEntry *entry, const char *attr, guint index)
{
    GArray *values = lookup(entry, attr);

    if (values == NULL || index >= values->len) {
        return NULL;
    }
    return &g_array_index(values, KdValue, index);
}

const char *
kd_entry_first(const KdEntry *entry, const char *attr)
{
    const KdValue *v = kd_entry_value(entry, attr, 0);

    if (v == NULL || strlen(v->data) != v->len) {
        return NULL;
    }
    return v->data;
}

gboolean
kd_entry_has_value_ci(const KdEntry *entry, const char *attr,
                      const char *text)
{
    GArray *values = lookup(entry, attr);
    gsize n = strlen(text);

    if (values == NULL) {
        return FALSE;
    }
    for (guint i = 0; i < values->len; i++) {
        const KdValue *v = &g_array_index(values, KdValue, i);

        if (v->len == n && g_ascii_strncasecmp(v->data, text, n) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

const char **
kd_entry_attrs(const KdEntry *entry, guint *n_out)
{
    return (const char **)g_hash_table_get_keys_as_array(entry->attrs, n_out);
}
