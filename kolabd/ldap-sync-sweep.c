/* ldap-sync-sweep: the end of a refresh and the delete guard. See
 * ldap-sync-dispatch.h for the rules. */
#include "config.h"

#include <string.h>

#include "ldap-sync-dispatch-private.h"

#define LOG_DOMAIN KD_SYNC_LOG_DOMAIN

/* The guard's verdict for @n deletes: NULL to apply, or a hold reason
 * (newly allocated). */
static char *
guard_verdict(KdSyncDispatch *d, guint n, gint64 n_present,
              gboolean empty_present_set)
{
    if (n == 0) {
        return NULL;
    }
    if (d->hold_reason != NULL) {
        return g_strdup_printf("held after %s", d->hold_reason);
    }
    if (empty_present_set && n_present > 0) {
        return g_strdup("refresh listed no entries while the store has"
                        " some");
    }
    if (d->tuning.delete_max_count > 0 && n > d->tuning.delete_max_count) {
        return g_strdup_printf("%u inferred deletes exceed the limit of %u", n,
                               d->tuning.delete_max_count);
    }
    if (d->tuning.delete_max_percent > 0 &&
        (gint64)n * 100 > (gint64)d->tuning.delete_max_percent * n_present) {
        return g_strdup_printf(
            "%u inferred deletes exceed %u%% of %" G_GINT64_FORMAT " objects",
            n, d->tuning.delete_max_percent, n_present);
    }
    return NULL;
}

typedef struct {
    KdSyncDispatch *d;
    GPtrArray *deletes;
} SweepCtx;

static gboolean
sweep_one(const guint8 uuid[KD_UUID_LEN], gpointer data)
{
    SweepCtx *ctx = data;

    if (!g_hash_table_contains(ctx->d->present_set, uuid) &&
        !g_hash_table_contains(ctx->d->pending_deletes, uuid)) {
        g_ptr_array_add(ctx->deletes, g_memdup2(uuid, KD_UUID_LEN));
    }
    return TRUE;
}

/* Marks @deletes absent through the guard. */
static gboolean
guarded_deletes(KdSyncDispatch *d, GPtrArray *deletes,
                gboolean empty_present_set, GError **error)
{
    g_autofree char *hold = NULL;
    gint64 n_present = kd_store_count_objects(d->store, 1, error);

    if (n_present < 0) {
        return FALSE;
    }
    hold = guard_verdict(d, deletes->len, n_present, empty_present_set);
    if (hold != NULL) {
        g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING,
              "sync: holding %u inferred deletes: %s", deletes->len, hold);
    }
    for (guint i = 0; i < deletes->len; i++) {
        if (!kd_sync_dispatch_apply_absent(d, deletes->pdata[i], hold, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
kd_sync_sweep_end_refresh(KdSyncDispatch *d, GError **error)
{
    g_autoptr(GPtrArray) deletes = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key;
    SweepCtx ctx = {d, deletes};
    gboolean empty;

    if (!kd_sync_dispatch_ensure_tx(d, error)) {
        return FALSE;
    }
    g_hash_table_iter_init(&it, d->pending_deletes);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_ptr_array_add(deletes, g_memdup2(key, KD_UUID_LEN));
    }
    if (d->present_semantics &&
        !kd_store_foreach_present_before(d->store, d->search_started,
                                         sweep_one, &ctx, error)) {
        kd_store_rollback(d->store);
        return FALSE;
    }
    empty = d->present_semantics && g_hash_table_size(d->present_set) == 0;
    if (!guarded_deletes(d, deletes, empty, error) ||
        !kd_store_set_cookie(d->store, d->staged_cookie, error) ||
        !kd_store_refresh_ended(d->store, error)) {
        kd_store_rollback(d->store);
        return FALSE;
    }
    d->refreshing = FALSE;
    kd_sync_dispatch_cookie_committed(d);
    if (!kd_sync_dispatch_commit(d, error)) {
        return FALSE;
    }
    g_log(LOG_DOMAIN, G_LOG_LEVEL_INFO,
          "sync: refresh done: %s phase (%s): %u listed present, %u"
          " delete-phase deletes, %u absent in total",
          d->present_semantics ? "present" : "delete",
          d->req_had_cookie ? "with a cookie" : "without a cookie",
          g_hash_table_size(d->present_set),
          g_hash_table_size(d->pending_deletes), deletes->len);
    g_hash_table_remove_all(d->present_set);
    g_hash_table_remove_all(d->pending_deletes);
    g_clear_pointer(&d->hold_reason, g_free);
    d->present_semantics = FALSE;
    d->refresh_count++;
    return TRUE;
}

gboolean
kd_sync_sweep_id_set(KdSyncDispatch *d, const KdSyncEvent *ev, GError **error)
{
    guint n = kd_sync_event_n_uuids(ev);
    g_autoptr(GPtrArray) deletes = NULL;

    for (guint i = 0; i < n && d->refreshing; i++) {
        const guint8 *uuid = ev->uuids->data + i * KD_UUID_LEN;

        if (ev->refresh_deletes) {
            kd_sync_dispatch_set_add(d->pending_deletes, uuid);
            g_hash_table_remove(d->present_set, uuid);
        } else {
            kd_sync_dispatch_set_add(d->present_set, uuid);
        }
    }
    if (d->refreshing || !ev->refresh_deletes) {
        return TRUE; /* a present list outside a refresh means nothing */
    }
    deletes = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++) {
        g_ptr_array_add(
            deletes, g_memdup2(ev->uuids->data + i * KD_UUID_LEN, KD_UUID_LEN));
    }
    return guarded_deletes(d, deletes, FALSE, error);
}
