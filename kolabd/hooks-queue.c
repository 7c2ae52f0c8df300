/* hooks-queue: see hooks-queue.h. */
#include <config.h>

#include "hooks-queue.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS hook_events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE,"
    " event TEXT NOT NULL,"
    " uuid TEXT, dn TEXT, mail TEXT, mailbox TEXT, mailhost TEXT,"
    " old_mailbox TEXT, old_mailhost TEXT, detail TEXT,"
    " payload_json TEXT NOT NULL,"
    " done_hooks TEXT NOT NULL DEFAULT '',"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_try INTEGER NOT NULL,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS hook_events_due"
    " ON hook_events(next_try);"
    "CREATE INDEX IF NOT EXISTS hook_events_uuid"
    " ON hook_events(uuid, seq);";

static gboolean
db_error(sqlite3 *db, GError **error, const char *what)
{
    g_set_error(error, KD_HOOKS_ERROR, KD_HOOKS_ERROR_DB, "hook queue: %s: %s",
                what, sqlite3_errmsg(db));
    return FALSE;
}

static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        db_error(db, error, "prepare");
        return NULL;
    }
    return stmt;
}

static void
bind_text(sqlite3_stmt *stmt, int idx, const char *text)
{
    if (text == NULL) {
        sqlite3_bind_null(stmt, idx);
    } else {
        sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
    }
}

static char *
column_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    return text != NULL ? g_strdup((const char *)text) : NULL;
}

gboolean
kd_hooks_queue_init_schema(sqlite3 *db, GError **error)
{
    g_return_val_if_fail(db != NULL, FALSE);

    if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        return db_error(db, error, "creating table hook_events");
    }
    return TRUE;
}

void
kd_hooks_queue_row_free(KdHooksQueueRow *row)
{
    if (row == NULL) {
        return;
    }
    g_free(row->id);
    g_free(row->event);
    g_free(row->uuid);
    g_free(row->dn);
    g_free(row->mail);
    g_free(row->mailbox);
    g_free(row->mailhost);
    g_free(row->old_mailbox);
    g_free(row->old_mailhost);
    g_free(row->detail);
    g_free(row->payload_json);
    g_free(row->done_hooks);
    g_free(row);
}

gboolean
kd_hooks_queue_insert(sqlite3 *db, const KdHookEvent *ev, const char *event_id,
                      const char *payload_json, gint64 now, GError **error)
{
    g_autoptr(sqlite3_stmt) stmt = prepare(
        db,
        "INSERT OR IGNORE INTO hook_events (id, event, uuid, dn, mail,"
        " mailbox, mailhost, old_mailbox, old_mailhost, detail,"
        " payload_json, next_try, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    bind_text(stmt, 1, event_id);
    bind_text(stmt, 2, ev->event);
    bind_text(stmt, 3, ev->uuid);
    bind_text(stmt, 4, ev->dn);
    bind_text(stmt, 5, ev->mail);
    bind_text(stmt, 6, ev->mailbox);
    bind_text(stmt, 7, ev->mailhost);
    bind_text(stmt, 8, ev->old_mailbox);
    bind_text(stmt, 9, ev->old_mailhost);
    bind_text(stmt, 10, ev->detail);
    bind_text(stmt, 11, payload_json);
    sqlite3_bind_int64(stmt, 12, now);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        return db_error(db, error, "enqueueing an event");
    }
    return TRUE;
}

GPtrArray *
kd_hooks_queue_fetch_due(sqlite3 *db, gint64 now, guint limit, GError **error)
{
    g_autoptr(GPtrArray) rows =
        g_ptr_array_new_with_free_func((GDestroyNotify)kd_hooks_queue_row_free);
    g_autoptr(sqlite3_stmt) stmt =
        prepare(db,
                "SELECT seq, id, event, uuid, dn, mail, mailbox, mailhost,"
                " old_mailbox, old_mailhost, detail, payload_json, done_hooks,"
                " attempts FROM hook_events e"
                " WHERE next_try <= ?1 AND (uuid IS NULL OR NOT EXISTS"
                "  (SELECT 1 FROM hook_events p"
                "   WHERE p.uuid = e.uuid AND p.seq < e.seq))"
                " ORDER BY next_try, seq LIMIT ?2",
                error);
    int rc;

    if (stmt == NULL) {
        return NULL;
    }
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, limit);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        KdHooksQueueRow *row = g_new0(KdHooksQueueRow, 1);
        row->seq = sqlite3_column_int64(stmt, 0);
        row->id = column_text(stmt, 1);
        row->event = column_text(stmt, 2);
        row->uuid = column_text(stmt, 3);
        row->dn = column_text(stmt, 4);
        row->mail = column_text(stmt, 5);
        row->mailbox = column_text(stmt, 6);
        row->mailhost = column_text(stmt, 7);
        row->old_mailbox = column_text(stmt, 8);
        row->old_mailhost = column_text(stmt, 9);
        row->detail = column_text(stmt, 10);
        row->payload_json = column_text(stmt, 11);
        row->done_hooks = column_text(stmt, 12);
        row->attempts = sqlite3_column_int64(stmt, 13);
        g_ptr_array_add(rows, row);
    }
    if (rc != SQLITE_DONE) {
        db_error(db, error, "reading due events");
        return NULL;
    }
    return g_steal_pointer(&rows);
}

gboolean
kd_hooks_queue_delete(sqlite3 *db, gint64 seq, GError **error)
{
    g_autoptr(sqlite3_stmt) stmt =
        prepare(db, "DELETE FROM hook_events WHERE seq = ?1", error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_int64(stmt, 1, seq);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        return db_error(db, error, "deleting a delivered event");
    }
    return TRUE;
}

gboolean
kd_hooks_queue_update(sqlite3 *db, gint64 seq, const char *done_hooks,
                      const char *last_error, gint64 next_try, GError **error)
{
    g_autoptr(sqlite3_stmt) stmt =
        prepare(db,
                "UPDATE hook_events SET done_hooks = ?2,"
                " attempts = attempts + (?3 IS NOT NULL),"
                " last_error = coalesce(?3, last_error),"
                " next_try = CASE WHEN ?3 IS NULL THEN next_try ELSE ?4 END"
                " WHERE seq = ?1",
                error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_int64(stmt, 1, seq);
    bind_text(stmt, 2, done_hooks != NULL ? done_hooks : "");
    bind_text(stmt, 3, last_error);
    sqlite3_bind_int64(stmt, 4, next_try);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        return db_error(db, error, "recording a hook attempt");
    }
    return TRUE;
}

gboolean
kd_hooks_queue_stats_db(sqlite3 *db, KdHooksQueueStats *stats_out,
                        GError **error)
{
    g_autoptr(sqlite3_stmt) stmt =
        prepare(db,
                "SELECT count(*), coalesce(sum(attempts > 0), 0),"
                " coalesce(min(next_try), 0) FROM hook_events",
                error);

    if (stmt == NULL) {
        return FALSE;
    }
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        return db_error(db, error, "counting events");
    }
    stats_out->pending = sqlite3_column_int64(stmt, 0);
    stats_out->failing = sqlite3_column_int64(stmt, 1);
    stats_out->next_try = sqlite3_column_int64(stmt, 2);
    return TRUE;
}

char *
kd_hooks_queue_last_error_db(sqlite3 *db, GError **error)
{
    g_autoptr(sqlite3_stmt) stmt = prepare(
        db,
        "SELECT last_error FROM hook_events WHERE last_error IS NOT NULL"
        " ORDER BY seq LIMIT 1",
        error);
    int rc;

    if (stmt == NULL) {
        return NULL;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        return column_text(stmt, 0);
    }
    if (rc != SQLITE_DONE) {
        db_error(db, error, "reading the last error");
    }
    return NULL;
}
