/* store-work: the work queue, applied state, backends and status counts.
 * See store.h. */
#include "config.h"

#include <string.h>

#include "store-private.h"

gint
kd_store_work_due(KdStore *store, gint64 now, guint limit, GArray *items_out,
                  GError **error)
{
    gint n = 0;
    int rc;
    sqlite3_stmt *stmt = kd_store_stmt(store,
                                       "SELECT uuid, gen, attempts FROM work"
                                       " WHERE hold = 0 AND next_try <= ?"
                                       " ORDER BY enqueued_at, rowid LIMIT ?",
                                       error);

    g_return_val_if_fail(items_out != NULL, -1);
    if (stmt == NULL) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, limit);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        KdWorkItem item;

        if (sqlite3_column_bytes(stmt, 0) != KD_UUID_LEN) {
            continue;
        }
        memcpy(item.uuid, sqlite3_column_blob(stmt, 0), KD_UUID_LEN);
        item.gen = sqlite3_column_int64(stmt, 1);
        item.attempts = sqlite3_column_int(stmt, 2);
        g_array_append_val(items_out, item);
        n++;
    }
    if (rc != SQLITE_DONE) {
        kd_store_set_error(store, error, "cannot read work queue");
        sqlite3_reset(stmt);
        return -1;
    }
    sqlite3_reset(stmt);
    return n;
}

gboolean
kd_store_work_done(KdStore *store, const guint8 uuid[KD_UUID_LEN], gint64 gen,
                   GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store, "DELETE FROM work WHERE uuid = ? AND gen = ?", error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, gen);
    return kd_store_step_done(store, stmt, "cannot finish work", error);
}

gboolean
kd_store_work_retry(KdStore *store, const guint8 uuid[KD_UUID_LEN], gint64 gen,
                    gint64 next_try, const char *error_text, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "UPDATE work SET last_error = ?3,"
        " attempts = CASE WHEN gen = ?2 THEN attempts + 1 ELSE attempts END,"
        " next_try = CASE WHEN gen = ?2 THEN ?4 ELSE next_try END"
        " WHERE uuid = ?1",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, gen);
    kd_store_bind_text(stmt, 3, error_text);
    sqlite3_bind_int64(stmt, 4, next_try);
    return kd_store_step_done(store, stmt, "cannot record work failure", error);
}

gboolean
kd_store_work_lease(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                    gint64 gen, gint64 until, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store, "UPDATE work SET next_try = ?3 WHERE uuid = ?1 AND gen = ?2",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, gen);
    sqlite3_bind_int64(stmt, 3, until);
    return kd_store_step_done(store, stmt, "cannot lease work", error);
}

gboolean
kd_store_work_hold(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                   const char *reason, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "INSERT INTO work (uuid, gen, enqueued_at, hold, hold_reason)"
        " VALUES (?1, 1, ?2, 1, ?3)"
        " ON CONFLICT (uuid) DO UPDATE SET hold = 1, hold_reason = ?3",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, kd_store_now());
    kd_store_bind_text(stmt, 3, reason != NULL ? reason : "held");
    return kd_store_step_done(store, stmt, "cannot hold work", error);
}

gboolean
kd_store_work_release(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                      GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "UPDATE work SET hold = 0, hold_reason = NULL, next_try = 0"
        " WHERE uuid = ?",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    return kd_store_step_done(store, stmt, "cannot release work", error);
}

gboolean
kd_store_work_touch(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                    GError **error)
{
    return kd_store_mark_dirty(store, uuid, -1, NULL, error);
}

/* ---- applied --------------------------------------------------------- */

void
kd_applied_free(KdApplied *applied)
{
    if (applied == NULL) {
        return;
    }
    g_free(applied->mailbox);
    g_free(applied->server);
    g_free(applied->acl);
    g_free(applied->folder_type);
    g_free(applied);
}

KdApplied *
kd_store_get_applied(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                     GError **error)
{
    KdApplied *applied;
    int rc;
    sqlite3_stmt *stmt =
        kd_store_stmt(store,
                      "SELECT kind, mailbox, server, quota, acl, folder_type,"
                      " folders_done, applied_at FROM applied WHERE uuid = ?",
                      error);

    if (stmt == NULL) {
        return NULL;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE) {
            kd_store_set_error(store, error, "cannot read applied state");
        }
        sqlite3_reset(stmt);
        return NULL;
    }
    applied = g_new0(KdApplied, 1);
    memcpy(applied->uuid, uuid, KD_UUID_LEN);
    applied->kind = (KdObjectKind)sqlite3_column_int(stmt, 0);
    applied->mailbox = kd_store_column_dup(stmt, 1);
    applied->server = kd_store_column_dup(stmt, 2);
    applied->quota_kib = sqlite3_column_int64(stmt, 3);
    applied->acl = kd_store_column_dup(stmt, 4);
    applied->folder_type = kd_store_column_dup(stmt, 5);
    applied->folders_done = sqlite3_column_int(stmt, 6) != 0;
    applied->applied_at = sqlite3_column_int64(stmt, 7);
    sqlite3_reset(stmt);
    return applied;
}

gboolean
kd_store_put_applied(KdStore *store, const KdApplied *applied, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "INSERT OR REPLACE INTO applied (uuid, kind, mailbox, server, quota,"
        " acl, folder_type, folders_done, applied_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, applied->uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int(stmt, 2, applied->kind);
    kd_store_bind_text(stmt, 3, applied->mailbox);
    kd_store_bind_text(stmt, 4, applied->server);
    sqlite3_bind_int64(stmt, 5, applied->quota_kib);
    kd_store_bind_text(stmt, 6, applied->acl);
    kd_store_bind_text(stmt, 7, applied->folder_type);
    sqlite3_bind_int(stmt, 8, applied->folders_done ? 1 : 0);
    sqlite3_bind_int64(stmt, 9,
                       applied->applied_at != 0 ? applied->applied_at
                                                : kd_store_now());
    return kd_store_step_done(store, stmt, "cannot store applied state", error);
}

gboolean
kd_store_delete_applied(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                        GError **error)
{
    sqlite3_stmt *stmt =
        kd_store_stmt(store, "DELETE FROM applied WHERE uuid = ?", error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, uuid, KD_UUID_LEN, SQLITE_TRANSIENT);
    return kd_store_step_done(store, stmt, "cannot delete applied state",
                              error);
}

/* ---- backends -------------------------------------------------------- */

void
kd_backend_row_free(KdBackendRow *row)
{
    if (row == NULL) {
        return;
    }
    g_free(row->name);
    g_free(row->servername);
    g_free(row->note);
    g_free(row);
}

gboolean
kd_store_put_backend(KdStore *store, const KdBackendRow *row, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "INSERT OR REPLACE INTO backends (name, servername, mailboxes, up,"
        " updated_at, note) VALUES (?, ?, ?, ?, ?, ?)",
        error);

    g_return_val_if_fail(row != NULL && row->name != NULL, FALSE);
    if (stmt == NULL) {
        return FALSE;
    }
    kd_store_bind_text(stmt, 1, row->name);
    kd_store_bind_text(stmt, 2, row->servername);
    sqlite3_bind_int64(stmt, 3, row->mailboxes);
    sqlite3_bind_int(stmt, 4, row->up ? 1 : 0);
    sqlite3_bind_int64(stmt, 5,
                       row->updated_at != 0 ? row->updated_at : kd_store_now());
    kd_store_bind_text(stmt, 6, row->note);
    return kd_store_step_done(store, stmt, "cannot store backend", error);
}

GPtrArray *
kd_store_list_backends(KdStore *store, GError **error)
{
    g_autoptr(GPtrArray) rows = NULL;
    int rc;
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "SELECT name, servername, mailboxes, up, updated_at, note"
        " FROM backends ORDER BY name",
        error);

    if (stmt == NULL) {
        return NULL;
    }
    rows = g_ptr_array_new_with_free_func((GDestroyNotify)kd_backend_row_free);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        KdBackendRow *row = g_new0(KdBackendRow, 1);

        row->name = kd_store_column_dup(stmt, 0);
        row->servername = kd_store_column_dup(stmt, 1);
        row->mailboxes = sqlite3_column_int64(stmt, 2);
        row->up = sqlite3_column_int(stmt, 3) != 0;
        row->updated_at = sqlite3_column_int64(stmt, 4);
        row->note = kd_store_column_dup(stmt, 5);
        g_ptr_array_add(rows, row);
    }
    if (rc != SQLITE_DONE) {
        kd_store_set_error(store, error, "cannot list backends");
        sqlite3_reset(stmt);
        return NULL;
    }
    sqlite3_reset(stmt);
    return g_steal_pointer(&rows);
}

/* ---- status ---------------------------------------------------------- */

gboolean
kd_store_counts(KdStore *store, KdStoreCounts *counts_out, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "SELECT"
        " (SELECT count(*) FROM objects WHERE present = 1 AND kind = 1),"
        " (SELECT count(*) FROM objects WHERE present = 1 AND kind = 2),"
        " (SELECT count(*) FROM objects WHERE present = 0),"
        " (SELECT count(*) FROM objects WHERE present = 1"
        "   AND error IS NOT NULL),"
        " (SELECT count(*) FROM work),"
        " (SELECT count(*) FROM work WHERE hold = 1),"
        " (SELECT count(*) FROM work WHERE attempts > 0),"
        " (SELECT coalesce(min(enqueued_at), 0) FROM work)",
        error);

    memset(counts_out, 0, sizeof(*counts_out));
    if (stmt == NULL) {
        return FALSE;
    }
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        kd_store_set_error(store, error, "cannot count");
        sqlite3_reset(stmt);
        return FALSE;
    }
    counts_out->users_present = sqlite3_column_int64(stmt, 0);
    counts_out->shared_present = sqlite3_column_int64(stmt, 1);
    counts_out->absent = sqlite3_column_int64(stmt, 2);
    counts_out->refused = sqlite3_column_int64(stmt, 3);
    counts_out->queue = sqlite3_column_int64(stmt, 4);
    counts_out->held = sqlite3_column_int64(stmt, 5);
    counts_out->failing = sqlite3_column_int64(stmt, 6);
    counts_out->oldest_enqueued = sqlite3_column_int64(stmt, 7);
    sqlite3_reset(stmt);
    return TRUE;
}

void
kd_work_problem_free(KdWorkProblem *problem)
{
    if (problem == NULL) {
        return;
    }
    g_free(problem->dn);
    g_free(problem->text);
    g_free(problem);
}

GPtrArray *
kd_store_work_problems(KdStore *store, guint limit, GError **error)
{
    g_autoptr(GPtrArray) rows = NULL;
    int rc;
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "SELECT w.uuid, o.dn, CASE WHEN w.hold THEN w.hold_reason"
        " ELSE w.last_error END, w.hold, w.attempts"
        " FROM work w LEFT JOIN objects o ON o.uuid = w.uuid"
        " WHERE w.hold = 1 OR w.attempts > 0"
        " ORDER BY w.hold DESC, w.attempts DESC, w.enqueued_at LIMIT ?",
        error);

    if (stmt == NULL) {
        return NULL;
    }
    sqlite3_bind_int64(stmt, 1, limit);
    rows = g_ptr_array_new_with_free_func((GDestroyNotify)kd_work_problem_free);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        KdWorkProblem *p;

        if (sqlite3_column_bytes(stmt, 0) != KD_UUID_LEN) {
            continue;
        }
        p = g_new0(KdWorkProblem, 1);
        memcpy(p->uuid, sqlite3_column_blob(stmt, 0), KD_UUID_LEN);
        p->dn = kd_store_column_dup(stmt, 1);
        p->text = kd_store_column_dup(stmt, 2);
        p->held = sqlite3_column_int(stmt, 3) != 0;
        p->attempts = sqlite3_column_int(stmt, 4);
        g_ptr_array_add(rows, p);
    }
    if (rc != SQLITE_DONE) {
        kd_store_set_error(store, error, "cannot list work problems");
        sqlite3_reset(stmt);
        return NULL;
    }
    sqlite3_reset(stmt);
    return g_steal_pointer(&rows);
}
