/* store-extra: see store-extra.h. */

#include "store-extra.h"
#include "store-private.h"

gboolean
kd_store_get_absent_since(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                          gint64 *since_out, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store, "SELECT absent_since FROM objects WHERE uuid = ? AND present = 0",
        error);
    int rc;

    *since_out = g_get_real_time() / G_USEC_PER_SEC;
    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
            *since_out = sqlite3_column_int64(stmt, 0);
        }
    } else if (rc != SQLITE_DONE) {
        kd_store_set_error(store, error, "reading absent_since");
        sqlite3_reset(stmt);
        return FALSE;
    }
    sqlite3_reset(stmt);
    return TRUE;
}

sqlite3 *
kd_store_get_db(KdStore *store)
{
    return store->db;
}
