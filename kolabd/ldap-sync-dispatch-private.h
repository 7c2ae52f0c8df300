/*
 * ldap-sync-dispatch-private: the dispatcher's state, shared by
 * ldap-sync-dispatch.c (message handling, transactions) and
 * ldap-sync-sweep.c (refresh end, sweep and delete guard). Not for other
 * modules.
 */
#ifndef KOLABD_LDAP_SYNC_DISPATCH_PRIVATE_H
#define KOLABD_LDAP_SYNC_DISPATCH_PRIVATE_H

#include "ldap-sync-dispatch.h"

#define KD_SYNC_LOG_DOMAIN "kolabd-sync"

struct KdSyncDispatch {
    KdStore *store;
    KdSyncTuning tuning;
    KdSyncClassifyFunc classify;
    gpointer classify_data;
    KdSyncNotifyFunc notify;
    gpointer notify_data;

    /* per search */
    gboolean persist;
    gboolean refreshing;
    gboolean req_had_cookie;
    gboolean present_semantics;
    gboolean store_empty; /* no objects when this refresh started */
    GHashTable *present_set;     /* uuid (16 bytes) set */
    GHashTable *pending_deletes; /* delete-phase uuids, applied at the end */
    GBytes *staged_cookie;  /* to commit with the open batch */
    GBytes *current_cookie; /* the one in force: sent or last committed */
    GBytes *restart_cookie; /* from a 4096 Sync Done */
    char *hold_reason;      /* hold every inferred delete */
    gint64 search_started;  /* unix us: the sweep spares objects
                             * written since (by another consumer) */

    /* open batch */
    guint batch_n;
    gint64 batch_start; /* monotonic us */
    guint batch_dirty;

    guint refresh_count;
    guint held_count;
};

/* Adds a copy of @uuid to a uuid set (no-op when present). */
void kd_sync_dispatch_set_add(GHashTable *set, const guint8 *uuid);
/* Opens the batch transaction unless one is open. */
gboolean kd_sync_dispatch_ensure_tx(KdSyncDispatch *d, GError **error);
/* Commits the open batch: with the staged cookie outside a refresh, and
 * notifies when objects became dirty. */
gboolean kd_sync_dispatch_commit(KdSyncDispatch *d, GError **error);
/* The staged cookie was committed: it becomes the one in force. */
void kd_sync_dispatch_cookie_committed(KdSyncDispatch *d);
/* Marks @uuid absent (held with @hold when non-NULL) and counts it. */
gboolean kd_sync_dispatch_apply_absent(KdSyncDispatch *d, const guint8 *uuid,
                                       const char *hold, GError **error);

/* ldap-sync-sweep.c: commits the refresh end (sweep, delete-phase
 * deletes through the guard, cookie) in one transaction. */
gboolean kd_sync_sweep_end_refresh(KdSyncDispatch *d, GError **error);
/* Applies a syncIdSet: present list or (guarded) deletes. */
gboolean kd_sync_sweep_id_set(KdSyncDispatch *d, const KdSyncEvent *ev,
                              GError **error);

#endif /* KOLABD_LDAP_SYNC_DISPATCH_PRIVATE_H */
