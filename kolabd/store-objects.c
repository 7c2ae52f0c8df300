/* store-objects: the `objects` table (desired state) and marking objects
 * dirty. See store.h. */
#include "config.h"

#include <string.h>

#include "store-private.h"

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* attrs as a GVariant text of type a{ss}, keys sorted; NULL when empty. */
static char *
attrs_to_text(GHashTable *attrs)
{
    g_autoptr(GPtrArray) keys = NULL;
    GVariantBuilder builder;
    GHashTableIter it;
    gpointer k;
    GVariant *v;
    char *text;

    if (attrs == NULL || g_hash_table_size(attrs) == 0) {
        return NULL;
    }
    keys = g_ptr_array_new();
    g_hash_table_iter_init(&it, attrs);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        g_ptr_array_add(keys, k);
    }
    g_ptr_array_sort(keys, cmp_str);
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a{ss}"));
    for (guint i = 0; i < keys->len; i++) {
        const char *key = keys->pdata[i];
        const char *value = g_hash_table_lookup(attrs, key);

        g_variant_builder_add(&builder, "{ss}", key,
                              value != NULL ? value : "");
    }
    v = g_variant_ref_sink(g_variant_builder_end(&builder));
    text = g_variant_print(v, FALSE);
    g_variant_unref(v);
    return text;
}

static GHashTable *
attrs_from_text(const char *text)
{
    g_autoptr(GVariant) v = NULL;
    GHashTable *attrs;
    GVariantIter it;
    const char *key, *value;

    if (text == NULL) {
        return NULL;
    }
    v = g_variant_parse(G_VARIANT_TYPE("a{ss}"), text, NULL, NULL, NULL);
    if (v == NULL) {
        return NULL;
    }
    attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_variant_iter_init(&it, v);
    while (g_variant_iter_next(&it, "{&s&s}", &key, &value)) {
        g_hash_table_insert(attrs, g_strdup(key), g_strdup(value));
    }
    return attrs;
}

gboolean
kd_store_mark_dirty(KdStore *store, const guint8 uuid[KD_UUID_LEN], int hold,
                    const char *reason, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "INSERT INTO work (uuid, gen, enqueued_at, hold, hold_reason)"
        " VALUES (?1, 1, ?2, ?3 > 0, CASE WHEN ?3 > 0 THEN ?4 END)"
        " ON CONFLICT (uuid) DO UPDATE SET gen = gen + 1, next_try = 0,"
        " attempts = 0,"
        " hold = CASE WHEN ?3 < 0 THEN hold ELSE ?3 > 0 END,"
        " hold_reason = CASE WHEN ?3 < 0 THEN hold_reason"
        "  WHEN ?3 > 0 THEN ?4 END",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, kd_store_now());
    sqlite3_bind_int(stmt, 3, hold);
    kd_store_bind_text(stmt, 4, reason);
    return kd_store_step_done(store, stmt, "cannot queue work", error);
}

KdObject *
kd_store_get_object(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                    gboolean *present_out, GError **error)
{
    KdObject *object;
    int rc;
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "SELECT kind, dn, mail, domain, mailbox, quota, acl, folder_type,"
        " mailhost, attrs, error, present FROM objects WHERE uuid = ?",
        error);

    if (present_out != NULL) {
        *present_out = FALSE;
    }
    if (stmt == NULL) {
        return NULL;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(stmt);
        return NULL;
    }
    if (rc != SQLITE_ROW) {
        kd_store_set_error(store, error, "cannot read object");
        sqlite3_reset(stmt);
        return NULL;
    }
    object = kd_object_new(uuid);
    object->kind = (KdObjectKind)sqlite3_column_int(stmt, 0);
    object->dn = kd_store_column_dup(stmt, 1);
    object->mail = kd_store_column_dup(stmt, 2);
    object->domain = kd_store_column_dup(stmt, 3);
    object->mailbox = kd_store_column_dup(stmt, 4);
    object->quota_kib = sqlite3_column_int64(stmt, 5);
    object->acl = kd_store_column_dup(stmt, 6);
    object->folder_type = kd_store_column_dup(stmt, 7);
    object->mailhost = kd_store_column_dup(stmt, 8);
    object->attrs = attrs_from_text((const char *)sqlite3_column_text(stmt, 9));
    object->error = kd_store_column_dup(stmt, 10);
    if (present_out != NULL) {
        *present_out = sqlite3_column_int(stmt, 11) != 0;
    }
    sqlite3_reset(stmt);
    return object;
}

static gboolean
write_object(KdStore *store, const KdObject *object, GError **error)
{
    g_autofree char *attrs = attrs_to_text(object->attrs);
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "INSERT OR REPLACE INTO objects (uuid, kind, dn, mail, domain,"
        " mailbox, quota, acl, folder_type, mailhost, attrs, error, present,"
        " absent_since, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, ?)",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, object->uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int(stmt, 2, object->kind);
    kd_store_bind_text(stmt, 3, object->dn);
    kd_store_bind_text(stmt, 4, object->mail);
    kd_store_bind_text(stmt, 5, object->domain);
    kd_store_bind_text(stmt, 6, object->mailbox);
    sqlite3_bind_int64(stmt, 7, object->quota_kib);
    kd_store_bind_text(stmt, 8, object->acl);
    kd_store_bind_text(stmt, 9, object->folder_type);
    kd_store_bind_text(stmt, 10, object->mailhost);
    kd_store_bind_text(stmt, 11, attrs);
    kd_store_bind_text(stmt, 12, object->error);
    /* microseconds: the refresh sweep compares it with its start */
    sqlite3_bind_int64(stmt, 13, g_get_real_time());
    return kd_store_step_done(store, stmt, "cannot store object", error);
}

gboolean
kd_store_put_object(KdStore *store, const KdObject *object,
                    gboolean *changed_out, GError **error)
{
    g_autoptr(KdObject) old = NULL;
    g_autoptr(GError) local = NULL;
    gboolean present = FALSE, changed, owned, ok;

    g_return_val_if_fail(object != NULL, FALSE);
    g_return_val_if_fail(object->kind != KD_OBJECT_NONE, FALSE);
    if (changed_out != NULL) {
        *changed_out = FALSE;
    }
    if (!kd_store_auto_begin(store, &owned, error)) {
        return FALSE;
    }
    old = kd_store_get_object(store, object->uuid, &present, &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return kd_store_auto_end(store, owned, FALSE, NULL);
    }
    changed = old == NULL || !present || !kd_object_same_desired(old, object);
    ok = TRUE;
    if (changed || g_strcmp0(old->dn, object->dn) != 0) {
        ok = write_object(store, object, error);
    }
    if (ok && changed) {
        /* A changed object is planned afresh: a hold was about the old
         * state (a refused value the operator fixed, a held delete of an
         * object that came back). */
        ok = kd_store_mark_dirty(store, object->uuid, 0, NULL, error);
    }
    if (!kd_store_auto_end(store, owned, ok, error)) {
        return FALSE;
    }
    if (changed_out != NULL) {
        *changed_out = changed;
    }
    return TRUE;
}

gboolean
kd_store_add_object(KdStore *store, const KdObject *object, GError **error)
{
    gboolean owned, ok;

    g_return_val_if_fail(object != NULL, FALSE);
    g_return_val_if_fail(object->kind != KD_OBJECT_NONE, FALSE);
    if (!kd_store_auto_begin(store, &owned, error)) {
        return FALSE;
    }
    ok = write_object(store, object, error) &&
         kd_store_mark_dirty(store, object->uuid, 0, NULL, error);
    return kd_store_auto_end(store, owned, ok, error);
}

gboolean
kd_store_mark_absent(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                     const char *hold_reason, gboolean *changed_out,
                     GError **error)
{
    sqlite3_stmt *stmt;
    gboolean owned, ok;
    int n;

    if (changed_out != NULL) {
        *changed_out = FALSE;
    }
    if (!kd_store_auto_begin(store, &owned, error)) {
        return FALSE;
    }
    stmt = kd_store_stmt(store,
                         "UPDATE objects SET present = 0, absent_since = ?,"
                         " updated_at = ? WHERE uuid = ? AND present = 1",
                         error);
    ok = stmt != NULL;
    if (ok) {
        sqlite3_bind_int64(stmt, 1, kd_store_now());
        sqlite3_bind_int64(stmt, 2, g_get_real_time());
        sqlite3_bind_blob(stmt, 3, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
        ok =
            kd_store_step_done(store, stmt, "cannot mark object absent", error);
    }
    n = ok ? sqlite3_changes(store->db) : 0;
    if (ok && n > 0) {
        /* Without a reason it is a real delete: plan it, whatever held
         * the object before. */
        ok = kd_store_mark_dirty(store, uuid, hold_reason != NULL ? 1 : 0,
                                 hold_reason, error);
    }
    if (!kd_store_auto_end(store, owned, ok, error)) {
        return FALSE;
    }
    if (changed_out != NULL) {
        *changed_out = n > 0;
    }
    return TRUE;
}

gboolean
kd_store_get_absent_since(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                          gint64 *absent_since_out, GError **error)
{
    int rc;
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "SELECT absent_since FROM objects WHERE uuid = ? AND present = 0"
        " AND absent_since IS NOT NULL",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *absent_since_out = sqlite3_column_int64(stmt, 0);
    } else if (rc != SQLITE_DONE) {
        kd_store_set_error(store, error, "cannot read object");
        sqlite3_reset(stmt);
        return FALSE;
    }
    sqlite3_reset(stmt);
    return TRUE;
}

gboolean
kd_store_delete_object(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                       GError **error)
{
    sqlite3_stmt *stmt =
        kd_store_stmt(store, "DELETE FROM objects WHERE uuid = ?", error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    return kd_store_step_done(store, stmt, "cannot delete object", error);
}

gboolean
kd_store_foreach_present(KdStore *store, KdStoreUuidFunc func,
                         gpointer user_data, GError **error)
{
    return kd_store_foreach_present_before(store, G_MAXINT64, func,
                                           user_data, error);
}

gboolean
kd_store_foreach_present_before(KdStore *store, gint64 before,
                                KdStoreUuidFunc func, gpointer user_data,
                                GError **error)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    /* Not cached: @func may use cached statements of its own. */
    if (sqlite3_prepare_v2(store->db,
                           "SELECT uuid FROM objects WHERE present = 1"
                           " AND (updated_at IS NULL OR updated_at < ?)"
                           " ORDER BY uuid",
                           -1, &stmt, NULL) != SQLITE_OK) {
        kd_store_set_error(store, error, "cannot list objects");
        return FALSE;
    }
    sqlite3_bind_int64(stmt, 1, before);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(stmt, 0) != KD_UUID_LEN) {
            continue;
        }
        if (!func(sqlite3_column_blob(stmt, 0), user_data)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        kd_store_set_error(store, error, "cannot list objects");
        sqlite3_finalize(stmt);
        return FALSE;
    }
    sqlite3_finalize(stmt);
    return TRUE;
}

gboolean
kd_store_foreach_present_names(KdStore *store, KdStoreNamesFunc func,
                               gpointer user_data, GError **error)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (sqlite3_prepare_v2(store->db,
                           "SELECT uuid, kind, mail, mailbox FROM objects"
                           " WHERE present = 1 ORDER BY uuid",
                           -1, &stmt, NULL) != SQLITE_OK) {
        kd_store_set_error(store, error, "cannot list objects");
        return FALSE;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(stmt, 0) != KD_UUID_LEN) {
            continue;
        }
        if (!func(sqlite3_column_blob(stmt, 0),
                  (KdObjectKind)sqlite3_column_int(stmt, 1),
                  (const char *)sqlite3_column_text(stmt, 2),
                  (const char *)sqlite3_column_text(stmt, 3), user_data)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        kd_store_set_error(store, error, "cannot list objects");
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE;
}

gint64
kd_store_count_objects(KdStore *store, int present, GError **error)
{
    gint64 n;
    sqlite3_stmt *stmt = kd_store_stmt(
        store, "SELECT count(*) FROM objects WHERE ?1 < 0 OR present = ?1",
        error);

    if (stmt == NULL) {
        return -1;
    }
    sqlite3_bind_int(stmt, 1, present < 0 ? -1 : present != 0);
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        kd_store_set_error(store, error, "cannot count objects");
        sqlite3_reset(stmt);
        return -1;
    }
    n = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return n;
}
