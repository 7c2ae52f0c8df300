/* syncrepl-common: see syncrepl-common.h. */
#include "config.h"

#include <string.h>

#include "ldap-conn.h"
#include "store.h"
#include "syncrepl-common.h"

const char *const kd_test_attrs[] = {"mail", NULL};

KdObject *
kd_test_classify(const guint8 uuid[KD_UUID_LEN], const KdEntry *entry,
                 gpointer user_data)
{
    const char *mail = kd_entry_first(entry, "mail");
    KdObject *o;

    if (mail == NULL) {
        return NULL;
    }
    o = kd_object_new(uuid);
    o->kind = KD_OBJECT_USER;
    o->dn = g_strdup(kd_entry_get_dn(entry));
    o->mail = g_ascii_strdown(mail, -1);
    o->mailbox = g_strdup_printf("user/%s", o->mail);
    return o;
}

GHashTable *
kd_test_ldap_truth(const char *uri, const char *bind_dn, const char *pw,
                   const char *base, const char *filter, GError **error)
{
    KdLdapParams p = {.uri = uri, .bind_dn = bind_dn, .bind_pw = pw};
    g_autoptr(LDAP) ld = kd_ldap_connect(&p, error);
    g_autoptr(LDAPMessage) res = NULL;
    char *attrs[] = {(char *)"mail", (char *)"entryUUID", NULL};
    GHashTable *truth;
    int rc;

    if (ld == NULL) {
        return NULL;
    }
    rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                           NULL, NULL, 0, &res);
    if (rc != LDAP_SUCCESS) {
        kd_ldap_set_error(error, ld, rc, "ground truth search");
        return NULL;
    }
    truth = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL;
         e = ldap_next_entry(ld, e)) {
        struct berval **u = ldap_get_values_len(ld, e, "entryUUID");
        struct berval **m = ldap_get_values_len(ld, e, "mail");
        guint8 uuid[KD_UUID_LEN];
        char hex[33];

        if (u != NULL && m != NULL && u[0] != NULL && m[0] != NULL) {
            g_autofree char *text = g_strndup(u[0]->bv_val, u[0]->bv_len);

            if (kd_uuid_from_string(text, uuid)) {
                kd_uuid_to_hex(uuid, hex);
                g_hash_table_insert(
                    truth, g_strdup(hex),
                    g_ascii_strdown(m[0]->bv_val, (gssize)m[0]->bv_len));
            }
        }
        ldap_value_free_len(u);
        ldap_value_free_len(m);
    }
    return truth;
}

typedef struct {
    KdStore *store;
    GHashTable *out;
} Collect;

static gboolean
collect(const guint8 uuid[KD_UUID_LEN], gpointer data)
{
    Collect *c = data;
    g_autoptr(KdObject) o = kd_store_get_object(c->store, uuid, NULL, NULL);
    char hex[33];

    kd_uuid_to_hex(uuid, hex);
    g_hash_table_insert(c->out, g_strdup(hex),
                        g_strdup(o != NULL && o->mail ? o->mail : "?"));
    return TRUE;
}

GHashTable *
kd_test_store_present(const char *path, GError **error)
{
    g_autoptr(KdStore) store = kd_store_open(path, error);
    Collect c;

    if (store == NULL) {
        return NULL;
    }
    c.store = store;
    c.out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!kd_store_foreach_present(store, collect, &c, error)) {
        g_hash_table_destroy(c.out);
        return NULL;
    }
    return c.out;
}

char *
kd_test_diff(GHashTable *truth, GHashTable *store)
{
    GString *diff = g_string_new(NULL);
    GHashTableIter it;
    gpointer k, v;
    guint n = 0;

    g_hash_table_iter_init(&it, truth);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *s = g_hash_table_lookup(store, k);

        if (g_strcmp0(s, v) != 0 && n++ < 5) {
            g_string_append_printf(diff, " %s: ldap %s store %s;", (char *)k,
                                   (char *)v, s ? s : "-");
        }
    }
    g_hash_table_iter_init(&it, store);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (!g_hash_table_contains(truth, k) && n++ < 10) {
            g_string_append_printf(diff, " %s: only in store (%s);", (char *)k,
                                   (char *)v);
        }
    }
    if (n == 0) {
        g_string_free(diff, TRUE);
        return NULL;
    }
    {
        g_autofree char *head =
            g_strdup_printf("%u differences (ldap %u, store %u):", n,
                            g_hash_table_size(truth), g_hash_table_size(store));

        g_string_prepend(diff, head);
    }
    return g_string_free(diff, FALSE);
}
