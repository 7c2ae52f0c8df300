/* object: see object.h. */

#include <string.h>

#include "object.h"

KdObject *
kd_object_new(const guint8 uuid[KD_UUID_LEN])
{
    KdObject *object = g_new0(KdObject, 1);

    if (uuid != NULL) {
        memcpy(object->uuid, uuid, KD_UUID_LEN);
    }
    object->quota_kib = KD_QUOTA_UNSET;
    return object;
}

void
kd_object_free(KdObject *object)
{
    if (object == NULL) {
        return;
    }
    g_free(object->dn);
    g_free(object->mail);
    g_free(object->domain);
    g_free(object->mailbox);
    g_free(object->acl);
    g_free(object->folder_type);
    g_free(object->mailhost);
    g_free(object->error);
    if (object->attrs != NULL) {
        g_hash_table_unref(object->attrs);
    }
    g_free(object);
}

KdObject *
kd_object_copy(const KdObject *object)
{
    KdObject *copy = kd_object_new(object->uuid);

    copy->kind = object->kind;
    copy->dn = g_strdup(object->dn);
    copy->mail = g_strdup(object->mail);
    copy->domain = g_strdup(object->domain);
    copy->mailbox = g_strdup(object->mailbox);
    copy->quota_kib = object->quota_kib;
    copy->acl = g_strdup(object->acl);
    copy->folder_type = g_strdup(object->folder_type);
    copy->mailhost = g_strdup(object->mailhost);
    copy->error = g_strdup(object->error);
    if (object->attrs != NULL) {
        GHashTableIter it;
        gpointer k, v;

        copy->attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            g_free);
        g_hash_table_iter_init(&it, object->attrs);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            g_hash_table_insert(copy->attrs, g_strdup(k), g_strdup(v));
        }
    }
    return copy;
}

static gboolean
attrs_equal(GHashTable *a, GHashTable *b)
{
    GHashTableIter it;
    gpointer k, v;
    guint na = a ? g_hash_table_size(a) : 0;
    guint nb = b ? g_hash_table_size(b) : 0;

    if (na != nb) {
        return FALSE;
    }
    if (na == 0) {
        return TRUE;
    }
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (g_strcmp0(v, g_hash_table_lookup(b, k)) != 0) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
kd_object_same_desired(const KdObject *a, const KdObject *b)
{
    return a->kind == b->kind && a->quota_kib == b->quota_kib &&
           g_strcmp0(a->mail, b->mail) == 0 &&
           g_strcmp0(a->domain, b->domain) == 0 &&
           g_strcmp0(a->mailbox, b->mailbox) == 0 &&
           g_strcmp0(a->acl, b->acl) == 0 &&
           g_strcmp0(a->folder_type, b->folder_type) == 0 &&
           g_strcmp0(a->mailhost, b->mailhost) == 0 &&
           g_strcmp0(a->error, b->error) == 0 &&
           attrs_equal(a->attrs, b->attrs);
}

void
kd_uuid_to_hex(const guint8 uuid[KD_UUID_LEN], char buf[33])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < KD_UUID_LEN; i++) {
        buf[2 * i] = hex[uuid[i] >> 4];
        buf[2 * i + 1] = hex[uuid[i] & 0xf];
    }
    buf[32] = '\0';
}

gboolean
kd_uuid_from_string(const char *text, guint8 uuid_out[KD_UUID_LEN])
{
    int n = 0;

    for (const char *p = text; *p != '\0'; p++) {
        int hi, lo;

        if (*p == '-') {
            continue;
        }
        if (n == KD_UUID_LEN || !g_ascii_isxdigit(p[0]) ||
            !g_ascii_isxdigit(p[1])) {
            return FALSE;
        }
        hi = g_ascii_xdigit_value(p[0]);
        lo = g_ascii_xdigit_value(p[1]);
        uuid_out[n++] = (guint8)(hi << 4 | lo);
        p++;
    }
    return n == KD_UUID_LEN;
}
