/*
 * store: kolabd's durable state in one SQLite database.
 *
 * The database holds the syncrepl position (`sync_state`: cookie, hash of
 * the search parameters, status), the desired state mirrored from LDAP
 * (`objects`: one KdObject per entryUUID plus a presence flag), what kolabd
 * last confirmed in Cyrus (`applied`, written by the reconciler), the dirty
 * queue (`work`: one row per object that needs reconciling, with a
 * generation counter, retries and holds) and the known backends
 * (`backends`). It is opened in WAL mode with synchronous=FULL so that a
 * committed transaction survives a crash or power loss; the schema is
 * versioned with `PRAGMA user_version` and migrated on open.
 *
 * A KdStore wraps one SQLite connection and must be used from one thread
 * only; every thread opens its own. Writers serialise through SQLite's lock
 * with a busy timeout. Functions that write more than one row run inside
 * the caller's transaction when there is one (kd_store_begin), else in
 * their own. Errors are KD_STORE_ERROR with sqlite3_errmsg() in the
 * message; the code is the SQLite result code (or KD_STORE_ERROR_SCHEMA).
 *
 * The generation rule of the work queue: every change that makes an object
 * dirty bumps `gen`. The reconciler reads (uuid, gen), works, and calls
 * kd_store_work_done(uuid, gen), which removes the row only if no newer
 * change arrived meanwhile; so a change is never lost.
 */
#ifndef KOLABD_STORE_H
#define KOLABD_STORE_H

#include <glib.h>
#include <sqlite3.h>

#include "object.h"

#define KD_STORE_ERROR (kd_store_error_quark())
GQuark kd_store_error_quark(void);

/* Besides SQLite result codes. */
#define KD_STORE_ERROR_SCHEMA 1000 /* database newer than this kolabd */

/* Current schema version (PRAGMA user_version). */
#define KD_STORE_SCHEMA_VERSION 3

typedef struct KdStore KdStore;

/*
 * Opens (creating and migrating as needed) the database at @path, or a
 * private in-memory one for ":memory:". Returns NULL with @error set when
 * the file cannot be opened or its schema is newer than this program.
 */
KdStore *kd_store_open(const char *path, GError **error);
/* Closes the connection; accepts NULL. An open transaction is rolled
 * back. */
void kd_store_free(KdStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdStore, kd_store_free)

/*
 * The store's SQLite connection, for modules that keep tables of their own
 * in the same database (hooks queue) and must write them in the store's
 * transactions. Owned by @store; do not close it.
 */
sqlite3 *kd_store_get_db(KdStore *store);

/* ---- transactions ---------------------------------------------------- */

/* BEGIN IMMEDIATE (takes the write lock at once). Not nestable. */
gboolean kd_store_begin(KdStore *store, GError **error);
gboolean kd_store_commit(KdStore *store, GError **error);
/* Rolls back if a transaction is open; never fails visibly. */
void kd_store_rollback(KdStore *store);
/* TRUE between kd_store_begin and commit/rollback. */
gboolean kd_store_in_transaction(KdStore *store);

/* ---- sync_state ------------------------------------------------------ */

typedef struct {
    GBytes *cookie;          /* NULL: none */
    char *params_hash;       /* NULL: never synced */
    gint64 refresh_gen;      /* bumped whenever the cookie is dropped */
    gint64 last_refresh_end; /* unix seconds, 0 = never */
    char *last_error;        /* NULL: none */
    gboolean connected;
    char *hold_reason;        /* non-NULL: hold the next refresh's inferred
                               * deletes (after 53, 4096, changed params) */
    gint64 cookie_updated_at; /* unix seconds of the last cookie write */
} KdSyncState;

void kd_sync_state_free(KdSyncState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSyncState, kd_sync_state_free)

/* Reads the single sync_state row into a new KdSyncState (never NULL on
 * success). */
KdSyncState *kd_store_get_sync_state(KdStore *store, GError **error);

/*
 * Stores @cookie. A NULL or zero-length @cookie is refused (returns TRUE
 * and changes nothing): "no cookie" must be set with kd_store_drop_cookie.
 * Call it in the same transaction as the effects the cookie covers.
 */
gboolean kd_store_set_cookie(KdStore *store, GBytes *cookie, GError **error);
/*
 * Sets cookie = NULL, bumps refresh_gen and records @hold_reason (may be
 * NULL) for the next refresh. @params_hash, when non-NULL, is stored too.
 */
gboolean kd_store_drop_cookie(KdStore *store, const char *params_hash,
                              const char *hold_reason, GError **error);
/* Stores the params hash (keeps the cookie: use drop_cookie to change
 * both). */
gboolean kd_store_set_params_hash(KdStore *store, const char *params_hash,
                                  GError **error);
/* Clears hold_reason and sets last_refresh_end = now. */
gboolean kd_store_refresh_ended(KdStore *store, GError **error);
/* Status columns; @last_error may be NULL to clear it. */
gboolean kd_store_set_sync_status(KdStore *store, gboolean connected,
                                  const char *last_error, GError **error);

/* ---- objects (desired state) ----------------------------------------- */

/*
 * Upserts @object (kind must not be KD_OBJECT_NONE) as present. When the
 * object was unknown, absent, or kd_object_same_desired() says it differs
 * from the stored one, it is marked dirty (work row created, or gen
 * bumped, next_try cleared, any hold released: a hold concerned the old
 * state, e.g. a refused value the operator has fixed or a held delete of
 * an object that came back) and @changed_out (may be NULL) is TRUE. A
 * DN-only change updates the row without making it dirty.
 */
gboolean kd_store_put_object(KdStore *store, const KdObject *object,
                             gboolean *changed_out, GError **error);
/*
 * Writes @object as new and makes it dirty, without reading what the
 * store held: for a refresh into a store that had no objects at all (the
 * first start), where kd_store_put_object()'s read always misses. An
 * existing row with the same uuid is replaced.
 */
gboolean kd_store_add_object(KdStore *store, const KdObject *object,
                             GError **error);
/*
 * Marks @uuid absent (present = 0, absent_since = now) and dirty. With a
 * non-NULL @hold_reason the work row is held (a guarded, inferred
 * delete); without one any earlier hold is released (a real delete). Unknown or already absent
 * objects are left alone and @changed_out is FALSE.
 */
gboolean kd_store_mark_absent(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                              const char *hold_reason, gboolean *changed_out,
                              GError **error);
/*
 * The stored object for @uuid, or NULL (without error) when unknown.
 * @present_out (may be NULL) receives the presence flag. Free with
 * kd_object_free.
 */
KdObject *kd_store_get_object(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                              gboolean *present_out, GError **error);
/*
 * When @uuid is known and absent, sets *@absent_since_out to the unix
 * time it was marked absent; otherwise leaves it unchanged. FALSE only on
 * database errors.
 */
gboolean kd_store_get_absent_since(KdStore *store,
                                   const guint8 uuid[KD_UUID_LEN],
                                   gint64 *absent_since_out, GError **error);
/* Deletes the object row (the reconciler does this once an absent object
 * is fully handled). */
gboolean kd_store_delete_object(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                                GError **error);

typedef gboolean (*KdStoreUuidFunc)(const guint8 uuid[KD_UUID_LEN],
                                    gpointer user_data);
/*
 * Calls @func for the uuid of every present object (in uuid order); @func
 * returns FALSE to stop. @func must not write to @store.
 */
gboolean kd_store_foreach_present(KdStore *store, KdStoreUuidFunc func,
                                  gpointer user_data, GError **error);
/*
 * The same for present objects last written before @before (unix
 * microseconds, as g_get_real_time()). The refresh sweep uses it with the time its search started,
 * so that an object another consumer (a `kolabd resync` beside the
 * daemon, or the daemon beside a resync) wrote meanwhile is never taken
 * for deleted.
 */
gboolean kd_store_foreach_present_before(KdStore *store, gint64 before,
                                         KdStoreUuidFunc func,
                                         gpointer user_data, GError **error);
typedef gboolean (*KdStoreNamesFunc)(const guint8 uuid[KD_UUID_LEN],
                                     KdObjectKind kind, const char *mail,
                                     const char *mailbox,
                                     gpointer user_data);
/*
 * Calls @func with the kind, mail and mailbox (either may be NULL) of
 * every present object, in uuid order, in one query; @func returns FALSE
 * to stop and must not write to @store.
 */
gboolean kd_store_foreach_present_names(KdStore *store, KdStoreNamesFunc func,
                                        gpointer user_data, GError **error);
/* Number of objects with the given presence (-1: all). */
gint64 kd_store_count_objects(KdStore *store, int present, GError **error);

/* ---- work queue ------------------------------------------------------ */

typedef struct {
    guint8 uuid[KD_UUID_LEN];
    gint64 gen;
    gint attempts;
} KdWorkItem;

/*
 * Appends to @items_out (a GArray of KdWorkItem the caller created) up to
 * @limit items that are not held and due (next_try <= @now, unix seconds),
 * oldest first. Returns the number appended, or -1 with @error set.
 */
gint kd_store_work_due(KdStore *store, gint64 now, guint limit,
                       GArray *items_out, GError **error);
/* Removes the work row of @uuid if its gen is still @gen; else keeps it
 * (a newer change is pending). */
gboolean kd_store_work_done(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                            gint64 gen, GError **error);
/* Records a failure: attempts += 1, next_try, last_error. When the gen
 * moved meanwhile, only last_error is recorded (the new change is due at
 * once). */
gboolean kd_store_work_retry(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                             gint64 gen, gint64 next_try,
                             const char *error_text, GError **error);
/*
 * Claims the work row of @uuid at @gen until @until (unix seconds) by
 * moving its next_try: another engine on the same store (a resync beside
 * the daemon) does not take it meanwhile. The claimer's done/retry ends the
 * lease; after a crash the item is due again at @until. A newer change
 * (gen bumped) clears it at once.
 */
gboolean kd_store_work_lease(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                             gint64 gen, gint64 until, GError **error);
/* Holds (creating the row if needed) / releases the work row of @uuid. */
gboolean kd_store_work_hold(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                            const char *reason, GError **error);
gboolean kd_store_work_release(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                               GError **error);
/* Marks @uuid dirty (used by the reconciler to requeue; not held). */
gboolean kd_store_work_touch(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                             GError **error);

/* ---- applied state (written by the reconciler) ----------------------- */

typedef struct {
    guint8 uuid[KD_UUID_LEN];
    KdObjectKind kind;
    char *mailbox; /* NULL: none created */
    char *server;  /* servername holding it */
    gint64 quota_kib;
    char *acl;
    char *folder_type;
    gboolean folders_done;
    gint64 applied_at; /* unix seconds; set by put when 0 */
} KdApplied;

void kd_applied_free(KdApplied *applied);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdApplied, kd_applied_free)

/* NULL without error when there is no row. */
KdApplied *kd_store_get_applied(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                                GError **error);
gboolean kd_store_put_applied(KdStore *store, const KdApplied *applied,
                              GError **error);
gboolean kd_store_delete_applied(KdStore *store, const guint8 uuid[KD_UUID_LEN],
                                 GError **error);

/* ---- backends -------------------------------------------------------- */

typedef struct {
    char *name;
    char *servername;
    gint64 mailboxes;
    gboolean up;
    gint64 updated_at;
    char *note;        /* for status, e.g. a server bug worked around;
                        * NULL: none */
} KdBackendRow;

void kd_backend_row_free(KdBackendRow *row);
gboolean kd_store_put_backend(KdStore *store, const KdBackendRow *row,
                              GError **error);
/* A new GPtrArray of KdBackendRow (free function set), by name. */
GPtrArray *kd_store_list_backends(KdStore *store, GError **error);

/* ---- status ---------------------------------------------------------- */

typedef struct {
    gint64 users_present;
    gint64 shared_present;
    gint64 absent;
    gint64 refused;         /* present objects with an error */
    gint64 queue;           /* work rows */
    gint64 held;            /* held work rows */
    gint64 failing;         /* work rows with attempts > 0 */
    gint64 oldest_enqueued; /* unix seconds, 0 when the queue is empty */
} KdStoreCounts;

gboolean kd_store_counts(KdStore *store, KdStoreCounts *counts_out,
                         GError **error);

typedef struct {
    guint8 uuid[KD_UUID_LEN];
    char *dn;   /* may be NULL */
    char *text; /* last_error or hold_reason */
    gboolean held;
    gint attempts;
} KdWorkProblem;

void kd_work_problem_free(KdWorkProblem *problem);
/* Up to @limit held or failing work rows (held first, then by attempts),
 * as a new GPtrArray of KdWorkProblem. */
GPtrArray *kd_store_work_problems(KdStore *store, guint limit, GError **error);

#endif /* KOLABD_STORE_H */
