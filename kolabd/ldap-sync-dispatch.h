/*
 * ldap-sync-dispatch: the RFC 4533 state machine, without a network.
 *
 * One KdSyncDispatch follows one sync search at a time: kd_sync_dispatch_
 * start() decides which cookie to send (dropping it when the search
 * parameters changed), then every parsed message is fed to
 * kd_sync_dispatch_event(), which applies it to the store and says what
 * the connection loop must do next. Everything that touches the store
 * happens here, so unit tests drive it with hand-built events and a real
 * in-memory store.
 *
 * Durability rules (kolabd's cookie invariant): the stored cookie never
 * covers a message whose effect is not committed in the same transaction.
 * During a refresh, entries are committed in batches but the cookie is not
 * moved; at the refresh end the sweep of absent objects (present
 * semantics), the delete-phase deletes and the new cookie are committed in
 * one transaction. In the persist stage, messages are committed in batches
 * bounded by count and time together with the last cookie of the batch.
 *
 * Deletes inferred from absence (the sweep, syncIdSet deletes) pass the
 * delete guard: they are held (work row held, with a reason) when they
 * exceed a count or a share of the present objects, when the present set
 * is empty while the store is not, or when the refresh follows a dropped
 * cookie (4096, 53, changed parameters). Explicit DELETE entries are not
 * guarded.
 */
#ifndef KOLABD_LDAP_SYNC_DISPATCH_H
#define KOLABD_LDAP_SYNC_DISPATCH_H

#include <glib.h>

#include "entry.h"
#include "ldap-sync-parse.h"
#include "object.h"
#include "store.h"

/*
 * Classifies an entry (ADD/MODIFY) into the desired state of its object.
 * Returns a new KdObject (the dispatcher frees it) whose uuid is @uuid;
 * NULL or kind KD_OBJECT_NONE means "not ours": a known object with that
 * uuid is then marked absent (an explicit, unguarded delete).
 */
typedef KdObject *(*KdSyncClassifyFunc)(const guint8 uuid[KD_UUID_LEN],
                                        const KdEntry *entry,
                                        gpointer user_data);

/* Called after each commit that made objects dirty, from the thread that
 * feeds the dispatcher; @n_dirty is the number of objects made dirty. */
typedef void (*KdSyncNotifyFunc)(guint n_dirty, gpointer user_data);

#define KD_SYNC_ERROR (kd_sync_error_quark())
GQuark kd_sync_error_quark(void);

typedef enum {
    KD_SYNC_ERROR_PROTOCOL,         /* malformed or unexpected message */
    KD_SYNC_ERROR_CONNECTION,       /* connection lost or cannot connect */
    KD_SYNC_ERROR_SEARCH_ENDED,     /* SearchResultDone rc 0 in persist */
    KD_SYNC_ERROR_REFRESH_REQUIRED, /* 4096 */
    KD_SYNC_ERROR_PROVIDER_RESET,   /* 53: provider older than cookie */
    KD_SYNC_ERROR_TRUNCATED,        /* 4 / 3 / 11: refresh incomplete */
    KD_SYNC_ERROR_RESULT,           /* any other result code */
    KD_SYNC_ERROR_CANCELLED,
} KdSyncError;

typedef struct {
    guint delete_max_count;   /* hold when more; 0 = no limit */
    guint delete_max_percent; /* hold when more than this % of the present
                               * objects; 0 = no limit */
    guint batch_max;          /* persist: messages per commit (>= 1) */
    guint batch_ms;           /* persist: max age of a batch */
    guint refresh_batch;      /* refresh: entries per commit (>= 1) */
} KdSyncTuning;

typedef enum {
    KD_SYNC_NEXT_CONTINUE,     /* keep reading */
    KD_SYNC_NEXT_REFRESH_DONE, /* refreshOnly search finished and committed */
    KD_SYNC_NEXT_RESTART,      /* reconnect at once (4096) */
    KD_SYNC_NEXT_RECONNECT,    /* reconnect after backoff (error set) */
    KD_SYNC_NEXT_LONG_BACKOFF, /* needs an operator (4/3/11): long backoff,
                                * error set */
} KdSyncNext;

typedef struct KdSyncDispatch KdSyncDispatch;

/* @store is borrowed and must outlive the dispatcher. */
KdSyncDispatch *kd_sync_dispatch_new(KdStore *store, const KdSyncTuning *tuning,
                                     KdSyncClassifyFunc classify,
                                     gpointer classify_data);
void kd_sync_dispatch_free(KdSyncDispatch *dispatch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSyncDispatch, kd_sync_dispatch_free)

void kd_sync_dispatch_set_notify(KdSyncDispatch *dispatch,
                                 KdSyncNotifyFunc func, gpointer user_data);

/*
 * Prepares a new search. When @params_hash differs from the stored one,
 * the stored cookie is dropped durably (deletes of the next refresh are
 * held, except on the very first run). *@cookie_out receives the cookie to
 * send (NULL: none; a reference the caller unrefs): the stored one if
 * @use_cookie, or a cookie handed over by a 4096 Sync Done.
 */
gboolean kd_sync_dispatch_start(KdSyncDispatch *dispatch,
                                const char *params_hash, gboolean persist,
                                gboolean use_cookie, GBytes **cookie_out,
                                GError **error);

/*
 * Applies @event. Returns what to do next; RECONNECT and LONG_BACKOFF set
 * @error to the reason (store failures give RECONNECT too, after a
 * rollback).
 */
KdSyncNext kd_sync_dispatch_event(KdSyncDispatch *dispatch,
                                  const KdSyncEvent *event, GError **error);

/*
 * Microseconds until the open persist batch must be committed (0: now),
 * or -1 when nothing is pending.
 */
gint64 kd_sync_dispatch_flush_due(KdSyncDispatch *dispatch);
/* Commits the open batch (with its last cookie in the persist stage; never
 * a cookie during a refresh). */
gboolean kd_sync_dispatch_flush(KdSyncDispatch *dispatch, GError **error);
/*
 * The search ended abnormally (connection lost, cancelled, protocol
 * error): a persist batch is committed (its messages are complete), a
 * partial refresh is discarded (no sweep, no cookie).
 */
void kd_sync_dispatch_abort(KdSyncDispatch *dispatch);

/* TRUE from start until the refresh end. */
gboolean kd_sync_dispatch_refreshing(KdSyncDispatch *dispatch);
/* Number of refresh ends committed since creation. */
guint kd_sync_dispatch_refresh_count(KdSyncDispatch *dispatch);
/* Number of deletes the guard held since creation. */
guint kd_sync_dispatch_held_count(KdSyncDispatch *dispatch);
/* The cookie in force (staged or committed, merged per SID), a new
 * reference, or NULL when the search started without one and none came. */
GBytes *kd_sync_dispatch_dup_cookie(KdSyncDispatch *dispatch);

#endif /* KOLABD_LDAP_SYNC_DISPATCH_H */
