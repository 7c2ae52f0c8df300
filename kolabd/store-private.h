/*
 * store-private: helpers shared by the store-*.c files; not for other
 * modules. KdStore keeps one sqlite3 connection and a cache of prepared
 * statements keyed by their SQL text.
 */
#ifndef KOLABD_STORE_PRIVATE_H
#define KOLABD_STORE_PRIVATE_H

#include <sqlite3.h>

#include "store.h"

struct KdStore {
    sqlite3 *db;
    GHashTable *stmts; /* SQL text -> sqlite3_stmt* (finalized on free) */
    char *path;
};

/* Sets @error from the connection's last error, prefixed with @what. */
void kd_store_set_error(KdStore *store, GError **error, const char *what);
/*
 * A cached, reset statement for @sql (a string literal), or NULL with
 * @error set. Owned by the store; do not finalize.
 */
sqlite3_stmt *kd_store_stmt(KdStore *store, const char *sql, GError **error);
/* Runs @sql (no results). */
gboolean kd_store_exec(KdStore *store, const char *sql, GError **error);
/* Steps @stmt to SQLITE_DONE; sets @error otherwise. */
gboolean kd_store_step_done(KdStore *store, sqlite3_stmt *stmt,
                            const char *what, GError **error);
/*
 * Starts a transaction unless one is open; *@owned_out says whether the
 * matching kd_store_auto_end must commit (ok) or roll back (!ok).
 */
gboolean kd_store_auto_begin(KdStore *store, gboolean *owned_out,
                             GError **error);
gboolean kd_store_auto_end(KdStore *store, gboolean owned, gboolean ok,
                           GError **error);
/* Binds a text or NULL. */
void kd_store_bind_text(sqlite3_stmt *stmt, int index, const char *text);
/* Copies a text column (NULL stays NULL). */
char *kd_store_column_dup(sqlite3_stmt *stmt, int index);
/* Seconds since the epoch. */
gint64 kd_store_now(void);
/* Marks @uuid dirty: creates the work row or bumps its gen and makes it
 * due now. @hold: 1 hold with @reason, 0 release, -1 keep as is. */
gboolean kd_store_mark_dirty(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                             int hold, const char *reason, GError **error);

#endif /* KOLABD_STORE_PRIVATE_H */
