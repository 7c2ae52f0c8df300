/* store: see store.h. Connection, schema, transactions, sync_state. */
#include "config.h"

#include <string.h>

#include "store-private.h"

G_DEFINE_QUARK(kd - store - error - quark, kd_store_error)

/* Migration N brings user_version from N-1 to N. */
static const char *const migrations[] = {
    NULL,
    "CREATE TABLE sync_state ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " cookie BLOB,"
    " params_hash TEXT,"
    " refresh_gen INTEGER NOT NULL DEFAULT 0,"
    " last_refresh_end INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " connected INTEGER NOT NULL DEFAULT 0,"
    " hold_reason TEXT,"
    " cookie_updated_at INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO sync_state (id) VALUES (1);"
    "CREATE TABLE objects ("
    " uuid BLOB PRIMARY KEY CHECK (length(uuid) = 16),"
    " kind INTEGER NOT NULL,"
    " dn TEXT, mail TEXT, domain TEXT, mailbox TEXT,"
    " quota INTEGER NOT NULL DEFAULT -2,"
    " acl TEXT, folder_type TEXT, mailhost TEXT, attrs TEXT, error TEXT,"
    " present INTEGER NOT NULL DEFAULT 1,"
    " absent_since INTEGER,"
    /* updated_at: unix microseconds of the last write */
    " updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX objects_mail ON objects (mail);"
    "CREATE INDEX objects_mailbox ON objects (mailbox);"
    "CREATE TABLE applied ("
    " uuid BLOB PRIMARY KEY CHECK (length(uuid) = 16),"
    " kind INTEGER NOT NULL,"
    " mailbox TEXT, server TEXT,"
    " quota INTEGER NOT NULL DEFAULT -2,"
    " acl TEXT, folder_type TEXT,"
    " folders_done INTEGER NOT NULL DEFAULT 0,"
    " applied_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE work ("
    " uuid BLOB PRIMARY KEY CHECK (length(uuid) = 16),"
    " gen INTEGER NOT NULL DEFAULT 1,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_try INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " hold INTEGER NOT NULL DEFAULT 0,"
    " hold_reason TEXT,"
    " enqueued_at INTEGER NOT NULL);"
    "CREATE INDEX work_due ON work (hold, next_try, enqueued_at);"
    "CREATE TABLE backends ("
    " name TEXT PRIMARY KEY,"
    " servername TEXT,"
    " mailboxes INTEGER NOT NULL DEFAULT 0,"
    " up INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER NOT NULL DEFAULT 0);",
    /* 2: no query looks objects up by mail or mailbox; the two indexes
     * only cost a third of the refresh's SQLite time (bench-sync). */
    "DROP INDEX IF EXISTS objects_mail;"
    "DROP INDEX IF EXISTS objects_mailbox;",
    /* 3: what status says about a backend besides up/down */
    "ALTER TABLE backends ADD COLUMN note TEXT;",
};

void
kd_store_set_error(KdStore *store, GError **error, const char *what)
{
    int code = sqlite3_extended_errcode(store->db);

    g_set_error(error, KD_STORE_ERROR, code & 0xff, "%s (%s): %s", what,
                store->path, sqlite3_errmsg(store->db));
}

static void
stmt_finalize(gpointer data)
{
    sqlite3_finalize(data);
}

sqlite3_stmt *
kd_store_stmt(KdStore *store, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = g_hash_table_lookup(store->stmts, sql);

    if (stmt != NULL) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }
    if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                           NULL) != SQLITE_OK) {
        kd_store_set_error(store, error, "cannot prepare statement");
        return NULL;
    }
    g_hash_table_insert(store->stmts, (gpointer)sql, stmt);
    return stmt;
}

gboolean
kd_store_exec(KdStore *store, const char *sql, GError **error)
{
    if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        kd_store_set_error(store, error, "SQL failed");
        return FALSE;
    }
    return TRUE;
}

gboolean
kd_store_step_done(KdStore *store, sqlite3_stmt *stmt, const char *what,
                   GError **error)
{
    int rc = sqlite3_step(stmt);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        kd_store_set_error(store, error, what);
        sqlite3_reset(stmt);
        return FALSE;
    }
    sqlite3_reset(stmt);
    return TRUE;
}

void
kd_store_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text == NULL) {
        sqlite3_bind_null(stmt, index);
    } else {
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
    }
}

char *
kd_store_column_dup(sqlite3_stmt *stmt, int index)
{
    const unsigned char *text = sqlite3_column_text(stmt, index);

    return text == NULL ? NULL : g_strdup((const char *)text);
}

gint64
kd_store_now(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

static gboolean
migrate(KdStore *store, GError **error)
{
    sqlite3_stmt *stmt;
    gint64 version;
    guint latest = G_N_ELEMENTS(migrations) - 1;

    G_STATIC_ASSERT(G_N_ELEMENTS(migrations) - 1 == KD_STORE_SCHEMA_VERSION);
    if (!kd_store_begin(store, error)) {
        return FALSE;
    }
    stmt = kd_store_stmt(store, "PRAGMA user_version", error);
    if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW) {
        if (stmt != NULL) {
            kd_store_set_error(store, error, "cannot read schema version");
        }
        kd_store_rollback(store);
        return FALSE;
    }
    version = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    if (version > latest) {
        kd_store_rollback(store);
        g_set_error(error, KD_STORE_ERROR, KD_STORE_ERROR_SCHEMA,
                    "%s: schema version %" G_GINT64_FORMAT
                    " is newer than this kolabd supports (%u)",
                    store->path, version, latest);
        return FALSE;
    }
    for (guint v = (guint)version + 1; v <= latest; v++) {
        g_autofree char *set = g_strdup_printf("PRAGMA user_version = %u", v);

        if (!kd_store_exec(store, migrations[v], error) ||
            !kd_store_exec(store, set, error)) {
            g_prefix_error(error, "schema migration to version %u: ", v);
            kd_store_rollback(store);
            return FALSE;
        }
    }
    return kd_store_commit(store, error);
}

KdStore *
kd_store_open(const char *path, GError **error)
{
    g_autoptr(KdStore) store = g_new0(KdStore, 1);
    gboolean memory = g_strcmp0(path, ":memory:") == 0;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

    g_return_val_if_fail(path != NULL, NULL);
    store->path = g_strdup(path);
    store->stmts =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, stmt_finalize);
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        if (store->db == NULL) {
            g_set_error(error, KD_STORE_ERROR, SQLITE_NOMEM,
                        "cannot open %s: out of memory", path);
        } else {
            kd_store_set_error(store, error, "cannot open database");
        }
        return NULL;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, 10000);
    if (!memory && !kd_store_exec(store, "PRAGMA journal_mode = WAL", error)) {
        return NULL;
    }
    if (!kd_store_exec(store,
                       "PRAGMA synchronous = FULL;"
                       "PRAGMA foreign_keys = ON;"
                       "PRAGMA temp_store = MEMORY;",
                       error)) {
        return NULL;
    }
    if (!migrate(store, error)) {
        return NULL;
    }
    return g_steal_pointer(&store);
}

void
kd_store_free(KdStore *store)
{
    if (store == NULL) {
        return;
    }
    if (store->db != NULL) {
        kd_store_rollback(store);
    }
    if (store->stmts != NULL) {
        g_hash_table_destroy(store->stmts);
    }
    if (store->db != NULL) {
        sqlite3_close(store->db);
    }
    g_free(store->path);
    g_free(store);
}

sqlite3 *
kd_store_get_db(KdStore *store)
{
    return store->db;
}

/* ---- transactions ---------------------------------------------------- */

gboolean
kd_store_in_transaction(KdStore *store)
{
    return !sqlite3_get_autocommit(store->db);
}

gboolean
kd_store_begin(KdStore *store, GError **error)
{
    g_return_val_if_fail(!kd_store_in_transaction(store), FALSE);
    return kd_store_exec(store, "BEGIN IMMEDIATE", error);
}

gboolean
kd_store_commit(KdStore *store, GError **error)
{
    if (!kd_store_exec(store, "COMMIT", error)) {
        kd_store_rollback(store);
        return FALSE;
    }
    return TRUE;
}

void
kd_store_rollback(KdStore *store)
{
    if (kd_store_in_transaction(store)) {
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

gboolean
kd_store_auto_begin(KdStore *store, gboolean *owned_out, GError **error)
{
    *owned_out = !kd_store_in_transaction(store);
    return *owned_out ? kd_store_begin(store, error) : TRUE;
}

gboolean
kd_store_auto_end(KdStore *store, gboolean owned, gboolean ok, GError **error)
{
    if (!owned) {
        return ok;
    }
    if (!ok) {
        kd_store_rollback(store);
        return FALSE;
    }
    return kd_store_commit(store, error);
}

/* ---- sync_state ------------------------------------------------------ */

void
kd_sync_state_free(KdSyncState *state)
{
    if (state == NULL) {
        return;
    }
    if (state->cookie != NULL) {
        g_bytes_unref(state->cookie);
    }
    g_free(state->params_hash);
    g_free(state->last_error);
    g_free(state->hold_reason);
    g_free(state);
}

KdSyncState *
kd_store_get_sync_state(KdStore *store, GError **error)
{
    g_autoptr(KdSyncState) state = g_new0(KdSyncState, 1);
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "SELECT cookie, params_hash, refresh_gen, last_refresh_end,"
        " last_error, connected, hold_reason, cookie_updated_at"
        " FROM sync_state WHERE id = 1",
        error);

    if (stmt == NULL) {
        return NULL;
    }
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        kd_store_set_error(store, error, "cannot read sync_state");
        sqlite3_reset(stmt);
        return NULL;
    }
    if (sqlite3_column_type(stmt, 0) == SQLITE_BLOB &&
        sqlite3_column_bytes(stmt, 0) > 0) {
        state->cookie = g_bytes_new(sqlite3_column_blob(stmt, 0),
                                    (gsize)sqlite3_column_bytes(stmt, 0));
    }
    state->params_hash = kd_store_column_dup(stmt, 1);
    state->refresh_gen = sqlite3_column_int64(stmt, 2);
    state->last_refresh_end = sqlite3_column_int64(stmt, 3);
    state->last_error = kd_store_column_dup(stmt, 4);
    state->connected = sqlite3_column_int(stmt, 5) != 0;
    state->hold_reason = kd_store_column_dup(stmt, 6);
    state->cookie_updated_at = sqlite3_column_int64(stmt, 7);
    sqlite3_reset(stmt);
    return g_steal_pointer(&state);
}

gboolean
kd_store_set_cookie(KdStore *store, GBytes *cookie, GError **error)
{
    sqlite3_stmt *stmt;
    gsize len = 0;
    const void *data;

    if (cookie == NULL) {
        return TRUE;
    }
    data = g_bytes_get_data(cookie, &len);
    if (len == 0) {
        return TRUE;
    }
    stmt = kd_store_stmt(store,
                         "UPDATE sync_state SET cookie = ?,"
                         " cookie_updated_at = ? WHERE id = 1",
                         error);
    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_blob(stmt, 1, data, (int)len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, kd_store_now());
    return kd_store_step_done(store, stmt, "cannot store cookie", error);
}

gboolean
kd_store_drop_cookie(KdStore *store, const char *params_hash,
                     const char *hold_reason, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "UPDATE sync_state SET cookie = NULL, refresh_gen = refresh_gen + 1,"
        " params_hash = coalesce(?, params_hash), hold_reason = ?,"
        " cookie_updated_at = ? WHERE id = 1",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    kd_store_bind_text(stmt, 1, params_hash);
    kd_store_bind_text(stmt, 2, hold_reason);
    sqlite3_bind_int64(stmt, 3, kd_store_now());
    return kd_store_step_done(store, stmt, "cannot drop cookie", error);
}

gboolean
kd_store_set_params_hash(KdStore *store, const char *params_hash,
                         GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store, "UPDATE sync_state SET params_hash = ? WHERE id = 1", error);

    if (stmt == NULL) {
        return FALSE;
    }
    kd_store_bind_text(stmt, 1, params_hash);
    return kd_store_step_done(store, stmt, "cannot store params hash", error);
}

gboolean
kd_store_refresh_ended(KdStore *store, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "UPDATE sync_state SET hold_reason = NULL, last_refresh_end = ?"
        " WHERE id = 1",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_int64(stmt, 1, kd_store_now());
    return kd_store_step_done(store, stmt, "cannot record refresh end", error);
}

gboolean
kd_store_set_sync_status(KdStore *store, gboolean connected,
                         const char *last_error, GError **error)
{
    sqlite3_stmt *stmt = kd_store_stmt(
        store,
        "UPDATE sync_state SET connected = ?, last_error = ? WHERE id = 1",
        error);

    if (stmt == NULL) {
        return FALSE;
    }
    sqlite3_bind_int(stmt, 1, connected ? 1 : 0);
    kd_store_bind_text(stmt, 2, last_error);
    return kd_store_step_done(store, stmt, "cannot store sync status", error);
}
