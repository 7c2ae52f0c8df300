/*
 * hooks-queue: the durable queue of post-event hooks, table hook_events in
 * the SQLite store. hooks.c decides what to run; this file only stores,
 * selects and updates rows. The public part (schema creation, figures) is
 * declared in hooks.h.
 *
 * The table, created by kd_hooks_queue_init_schema():
 *   seq INTEGER PRIMARY KEY        -- enqueue order
 *   id TEXT UNIQUE                 -- event id, stable across retries
 *   event, uuid, dn, mail, mailbox, mailhost, old_mailbox, old_mailhost,
 *   detail TEXT                    -- what the hooks' environment needs
 *   payload_json TEXT              -- what the hooks read on stdin
 *   done_hooks TEXT                -- names of hooks already successful,
 *                                     each followed by '\n'
 *   attempts, next_try, last_error, created_at
 */
#ifndef KOLABD_HOOKS_QUEUE_H
#define KOLABD_HOOKS_QUEUE_H

#include "hooks.h"

typedef struct {
    gint64 seq;
    char *id;
    char *event;
    char *uuid;
    char *dn;
    char *mail;
    char *mailbox;
    char *mailhost;
    char *old_mailbox;
    char *old_mailhost;
    char *detail;
    char *payload_json;
    char *done_hooks;
    gint64 attempts;
} KdHooksQueueRow;

void kd_hooks_queue_row_free(KdHooksQueueRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdHooksQueueRow, kd_hooks_queue_row_free)

/*
 * Inserts @ev with @event_id and @payload_json, due at @now. An existing
 * row with the same id is kept unchanged. Errors: KD_HOOKS_ERROR_DB.
 */
gboolean kd_hooks_queue_insert(sqlite3 *db, const KdHookEvent *ev,
                               const char *event_id, const char *payload_json,
                               gint64 now, GError **error);

/*
 * Up to @limit rows due at @now, each the oldest queued row of its uuid,
 * ordered by next_try then seq. Returns an array of KdHooksQueueRow
 * (freeing them), or NULL with KD_HOOKS_ERROR_DB.
 */
GPtrArray *kd_hooks_queue_fetch_due(sqlite3 *db, gint64 now, guint limit,
                                    GError **error);

gboolean kd_hooks_queue_delete(sqlite3 *db, gint64 seq, GError **error);

/*
 * Records progress: @done_hooks always; with @last_error (not NULL) also
 * a failed attempt, next try at @next_try.
 */
gboolean kd_hooks_queue_update(sqlite3 *db, gint64 seq, const char *done_hooks,
                               const char *last_error, gint64 next_try,
                               GError **error);

gboolean kd_hooks_queue_stats_db(sqlite3 *db, KdHooksQueueStats *stats_out,
                                 GError **error);
char *kd_hooks_queue_last_error_db(sqlite3 *db, GError **error);

#endif /* KOLABD_HOOKS_QUEUE_H */
