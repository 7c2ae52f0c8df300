/* ldap-sync-dispatch: see ldap-sync-dispatch.h. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "ldap-sync-cookie.h"
#include "ldap-sync-dispatch-private.h"

G_DEFINE_QUARK(kd - sync - error - quark, kd_sync_error)

#define LOG_DOMAIN KD_SYNC_LOG_DOMAIN

static guint
uuid_hash(gconstpointer key)
{
    const guint8 *p = key;
    guint32 h = 2166136261u;

    /* FNV-1a over all bytes: time-based entryUUIDs share their node part
     * and differ in the time fields, so no part alone is a good hash. */
    for (int i = 0; i < KD_UUID_LEN; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

static gboolean
uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, KD_UUID_LEN) == 0;
}

static GHashTable *
uuid_set_new(void)
{
    return g_hash_table_new_full(uuid_hash, uuid_equal, g_free, NULL);
}

void
kd_sync_dispatch_set_add(GHashTable *set, const guint8 *uuid)
{
    if (!g_hash_table_contains(set, uuid)) {
        g_hash_table_add(set, g_memdup2(uuid, KD_UUID_LEN));
    }
}

KdSyncDispatch *
kd_sync_dispatch_new(KdStore *store, const KdSyncTuning *tuning,
                     KdSyncClassifyFunc classify, gpointer classify_data)
{
    KdSyncDispatch *d = g_new0(KdSyncDispatch, 1);

    g_return_val_if_fail(store != NULL && classify != NULL, NULL);
    d->store = store;
    d->tuning = *tuning;
    d->tuning.batch_max = MAX(d->tuning.batch_max, 1);
    d->tuning.refresh_batch = MAX(d->tuning.refresh_batch, 1);
    d->classify = classify;
    d->classify_data = classify_data;
    d->present_set = uuid_set_new();
    d->pending_deletes = uuid_set_new();
    return d;
}

void
kd_sync_dispatch_free(KdSyncDispatch *d)
{
    if (d == NULL) {
        return;
    }
    kd_store_rollback(d->store);
    g_hash_table_destroy(d->present_set);
    g_hash_table_destroy(d->pending_deletes);
    g_clear_pointer(&d->staged_cookie, g_bytes_unref);
    g_clear_pointer(&d->current_cookie, g_bytes_unref);
    g_clear_pointer(&d->restart_cookie, g_bytes_unref);
    g_free(d->hold_reason);
    g_free(d);
}

void
kd_sync_dispatch_set_notify(KdSyncDispatch *d, KdSyncNotifyFunc func,
                            gpointer user_data)
{
    d->notify = func;
    d->notify_data = user_data;
}

gboolean
kd_sync_dispatch_refreshing(KdSyncDispatch *d)
{
    return d->refreshing;
}

guint
kd_sync_dispatch_refresh_count(KdSyncDispatch *d)
{
    return d->refresh_count;
}

guint
kd_sync_dispatch_held_count(KdSyncDispatch *d)
{
    return d->held_count;
}

/* Stages @cookie merged with the one it follows: a persist cookie of a
 * multi-provider carries only its own SID's CSN (ldap-sync-cookie.h). */
static void
stage_cookie(KdSyncDispatch *d, GBytes *cookie)
{
    GBytes *merged;

    if (cookie == NULL || g_bytes_get_size(cookie) == 0) {
        return; /* zero-length: keep what we have (scenario 8) */
    }
    merged = kd_sync_cookie_merge(
        d->staged_cookie != NULL ? d->staged_cookie : d->current_cookie,
        cookie);
    g_clear_pointer(&d->staged_cookie, g_bytes_unref);
    d->staged_cookie = merged;
}

void
kd_sync_dispatch_cookie_committed(KdSyncDispatch *d)
{
    if (d->staged_cookie != NULL) {
        g_clear_pointer(&d->current_cookie, g_bytes_unref);
        d->current_cookie = g_steal_pointer(&d->staged_cookie);
    }
}

GBytes *
kd_sync_dispatch_dup_cookie(KdSyncDispatch *d)
{
    GBytes *c = d->staged_cookie != NULL ? d->staged_cookie
                                         : d->current_cookie;

    return c != NULL ? g_bytes_ref(c) : NULL;
}

static void
reset_search(KdSyncDispatch *d)
{
    g_hash_table_remove_all(d->present_set);
    g_hash_table_remove_all(d->pending_deletes);
    g_clear_pointer(&d->staged_cookie, g_bytes_unref);
    d->present_semantics = FALSE;
    d->refreshing = FALSE;
    d->store_empty = FALSE;
}

gboolean
kd_sync_dispatch_start(KdSyncDispatch *d, const char *params_hash,
                       gboolean persist, gboolean use_cookie,
                       GBytes **cookie_out, GError **error)
{
    g_autoptr(KdSyncState) state = NULL;

    *cookie_out = NULL;
    kd_store_rollback(d->store);
    reset_search(d);
    state = kd_store_get_sync_state(d->store, error);
    if (state == NULL) {
        return FALSE;
    }
    if (g_strcmp0(state->params_hash, params_hash) != 0) {
        /* A cookie does not encode base, scope, filter or attributes. */
        const char *reason = state->params_hash != NULL
                                 ? "search parameters changed"
                                 : state->hold_reason;

        if (state->params_hash != NULL) {
            g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                  "sync: search parameters changed, dropping the cookie;"
                  " deletes of the next refresh will be held");
        }
        if (!kd_store_drop_cookie(d->store, params_hash, reason, error)) {
            return FALSE;
        }
        g_clear_pointer(&state, kd_sync_state_free);
        state = kd_store_get_sync_state(d->store, error);
        if (state == NULL) {
            return FALSE;
        }
        g_clear_pointer(&d->restart_cookie, g_bytes_unref);
    }
    g_free(d->hold_reason);
    d->hold_reason = g_strdup(state->hold_reason);
    d->persist = persist;
    d->refreshing = TRUE;
    if (d->restart_cookie != NULL) {
        *cookie_out = g_steal_pointer(&d->restart_cookie);
    } else if (use_cookie && state->cookie != NULL) {
        *cookie_out = g_bytes_ref(state->cookie);
    }
    d->req_had_cookie = *cookie_out != NULL;
    d->store_empty = kd_store_count_objects(d->store, -1, NULL) == 0;
    g_clear_pointer(&d->current_cookie, g_bytes_unref);
    if (*cookie_out != NULL) {
        d->current_cookie = g_bytes_ref(*cookie_out);
    }
    d->search_started = g_get_real_time();
    return TRUE;
}

/* ---- transactions ---------------------------------------------------- */

gboolean
kd_sync_dispatch_ensure_tx(KdSyncDispatch *d, GError **error)
{
    if (kd_store_in_transaction(d->store)) {
        return TRUE;
    }
    if (!kd_store_begin(d->store, error)) {
        return FALSE;
    }
    d->batch_n = 0;
    d->batch_dirty = 0;
    d->batch_start = g_get_monotonic_time();
    return TRUE;
}

gboolean
kd_sync_dispatch_commit(KdSyncDispatch *d, GError **error)
{
    guint dirty = d->batch_dirty;

    if (!kd_store_in_transaction(d->store)) {
        return TRUE;
    }
    if (!d->refreshing && d->staged_cookie != NULL) {
        if (!kd_store_set_cookie(d->store, d->staged_cookie, error)) {
            kd_store_rollback(d->store);
            return FALSE;
        }
    }
    if (!kd_store_commit(d->store, error)) {
        return FALSE;
    }
    if (!d->refreshing) {
        kd_sync_dispatch_cookie_committed(d);
    }
    d->batch_n = 0;
    d->batch_dirty = 0;
    if (dirty > 0 && d->notify != NULL) {
        d->notify(dirty, d->notify_data);
    }
    return TRUE;
}

gint64
kd_sync_dispatch_flush_due(KdSyncDispatch *d)
{
    gint64 left;

    if (!kd_store_in_transaction(d->store) || d->refreshing) {
        return -1;
    }
    left = d->batch_start + (gint64)d->tuning.batch_ms * 1000 -
           g_get_monotonic_time();
    return MAX(left, 0);
}

gboolean
kd_sync_dispatch_flush(KdSyncDispatch *d, GError **error)
{
    return kd_sync_dispatch_commit(d, error);
}

void
kd_sync_dispatch_abort(KdSyncDispatch *d)
{
    g_autoptr(GError) error = NULL;

    if (d->refreshing) {
        kd_store_rollback(d->store);
    } else if (!kd_sync_dispatch_commit(d, &error)) {
        g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "sync: %s", error->message);
    }
    reset_search(d);
}

/* ---- applying changes ------------------------------------------------ */

gboolean
kd_sync_dispatch_apply_absent(KdSyncDispatch *d, const guint8 *uuid,
                              const char *hold, GError **error)
{
    gboolean changed = FALSE;

    if (!kd_store_mark_absent(d->store, uuid, hold, &changed, error)) {
        return FALSE;
    }
    if (changed) {
        d->batch_dirty++;
        if (hold != NULL) {
            d->held_count++;
        }
    }
    return TRUE;
}

static gboolean
apply_entry(KdSyncDispatch *d, const KdSyncEvent *ev, GError **error)
{
    g_autoptr(KdObject) object = NULL;
    gboolean changed = FALSE;

    if (ev->state == KD_SYNC_STATE_DELETE) {
        /* The DN is empty or the new, out-of-scope one: ignore it. */
        g_hash_table_remove(d->present_set, ev->uuid);
        g_hash_table_remove(d->pending_deletes, ev->uuid);
        return kd_sync_dispatch_apply_absent(d, ev->uuid, NULL, error);
    }
    if (d->refreshing) {
        kd_sync_dispatch_set_add(d->present_set, ev->uuid);
        g_hash_table_remove(d->pending_deletes, ev->uuid);
    }
    if (ev->state == KD_SYNC_STATE_PRESENT) {
        return TRUE;
    }
    object = d->classify(ev->uuid, ev->entry, d->classify_data);
    if (object == NULL || object->kind == KD_OBJECT_NONE) {
        return kd_sync_dispatch_apply_absent(d, ev->uuid, NULL, error);
    }
    memcpy(object->uuid, ev->uuid, KD_UUID_LEN);
    if (d->refreshing && d->store_empty) {
        if (!kd_store_add_object(d->store, object, error)) {
            return FALSE;
        }
        changed = TRUE;
    } else if (!kd_store_put_object(d->store, object, &changed, error)) {
        return FALSE;
    }
    if (changed) {
        d->batch_dirty++;
    }
    return TRUE;
}

/* ---- results --------------------------------------------------------- */

static KdSyncNext fail(KdSyncDispatch *d, KdSyncNext next, GError **error,
                       int code, const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static KdSyncNext
fail(KdSyncDispatch *d, KdSyncNext next, GError **error, int code,
     const char *fmt, ...)
{
    va_list ap;

    kd_sync_dispatch_abort(d);
    va_start(ap, fmt);
    if (error != NULL) {
        *error = g_error_new_valist(KD_SYNC_ERROR, code, fmt, ap);
    }
    va_end(ap);
    return next;
}

static KdSyncNext
drop_cookie_and(KdSyncDispatch *d, KdSyncNext next, const char *reason,
                GError **error)
{
    g_autoptr(GError) local = NULL;

    kd_store_rollback(d->store);
    reset_search(d);
    if (!kd_store_drop_cookie(d->store, NULL, reason, &local)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return KD_SYNC_NEXT_RECONNECT;
    }
    return next;
}

static KdSyncNext
apply_done(KdSyncDispatch *d, const KdSyncEvent *ev, GError **error)
{
    const char *text = ev->text != NULL ? ev->text : "";

    switch (ev->rc) {
    case LDAP_SUCCESS:
        if (!d->refreshing) {
            return fail(d, KD_SYNC_NEXT_RECONNECT, error,
                        KD_SYNC_ERROR_SEARCH_ENDED,
                        "the server ended the persistent search %s", text);
        }
        if (!ev->has_done_control) {
            return fail(d, KD_SYNC_NEXT_RECONNECT, error,
                        KD_SYNC_ERROR_PROTOCOL,
                        "refresh ended without a Sync Done control");
        }
        stage_cookie(d, ev->cookie);
        if (!ev->refresh_deletes || !d->req_had_cookie) {
            d->present_semantics = TRUE;
        }
        if (!kd_sync_sweep_end_refresh(d, error)) {
            reset_search(d);
            return KD_SYNC_NEXT_RECONNECT;
        }
        if (d->persist) {
            g_set_error(error, KD_SYNC_ERROR, KD_SYNC_ERROR_SEARCH_ENDED,
                        "the server ended the persistent search");
            return KD_SYNC_NEXT_RECONNECT;
        }
        return KD_SYNC_NEXT_REFRESH_DONE;
    case LDAP_SYNC_REFRESH_REQUIRED:
        kd_sync_dispatch_abort(d);
        g_set_error(error, KD_SYNC_ERROR, KD_SYNC_ERROR_REFRESH_REQUIRED,
                    "sync refresh required (4096) %s", text);
        if (ev->cookie != NULL && g_bytes_get_size(ev->cookie) > 0) {
            d->restart_cookie = g_bytes_ref(ev->cookie);
            return KD_SYNC_NEXT_RESTART;
        }
        g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING,
              "sync: refresh required (%s): dropping the cookie, full"
              " refresh with deletes held",
              text);
        return drop_cookie_and(d, KD_SYNC_NEXT_RESTART,
                               "a sync refresh required (4096)", error);
    case LDAP_UNWILLING_TO_PERFORM: /* 53 */
        g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING,
              "sync: provider refused our cookie (53: %s); was it restored"
              " from a backup? Full refresh with every delete held",
              text);
        kd_sync_dispatch_abort(d);
        g_set_error(error, KD_SYNC_ERROR, KD_SYNC_ERROR_PROVIDER_RESET,
                    "provider state is older than our cookie (53) %s", text);
        return drop_cookie_and(d, KD_SYNC_NEXT_RECONNECT,
                               "a provider reset (53)", error);
    case LDAP_SIZELIMIT_EXCEEDED:
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_ADMINLIMIT_EXCEEDED:
        return fail(d, KD_SYNC_NEXT_LONG_BACKOFF, error,
                    KD_SYNC_ERROR_TRUNCATED,
                    "refresh truncated: %s (%d) %s; does the sync identity"
                    " have \"limits ... size=unlimited time=unlimited\"?",
                    ldap_err2string(ev->rc), ev->rc, text);
    default:
        return fail(d, KD_SYNC_NEXT_RECONNECT, error, KD_SYNC_ERROR_RESULT,
                    "sync search failed: %s (%d) %s", ldap_err2string(ev->rc),
                    ev->rc, text);
    }
}

KdSyncNext
kd_sync_dispatch_event(KdSyncDispatch *d, const KdSyncEvent *ev, GError **error)
{
    gboolean ok = TRUE;
    gboolean end = FALSE;

    if (ev->type == KD_SYNC_EV_DONE) {
        return apply_done(d, ev, error);
    }
    if (ev->type == KD_SYNC_EV_REFERENCE) {
        g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
              "sync: ignoring a search reference");
        return KD_SYNC_NEXT_CONTINUE;
    }
    if (!kd_sync_dispatch_ensure_tx(d, error)) {
        return fail(d, KD_SYNC_NEXT_RECONNECT, NULL, 0, "store");
    }
    switch (ev->type) {
    case KD_SYNC_EV_ENTRY:
        ok = apply_entry(d, ev, error);
        stage_cookie(d, ev->cookie);
        break;
    case KD_SYNC_EV_NEWCOOKIE:
        stage_cookie(d, ev->cookie);
        break;
    case KD_SYNC_EV_ID_SET:
        ok = kd_sync_sweep_id_set(d, ev, error);
        if (!d->refreshing) {
            /* during a refresh it is csn=<old>,delcsn=...: not ours */
            stage_cookie(d, ev->cookie);
        }
        break;
    case KD_SYNC_EV_REFRESH_PRESENT:
        d->present_semantics = TRUE;
        stage_cookie(d, ev->cookie);
        end = ev->refresh_done;
        break;
    case KD_SYNC_EV_REFRESH_DELETE:
        if (!d->req_had_cookie) {
            d->present_semantics = TRUE; /* a cookie-less refresh is
                                          * authoritative (1b) */
        }
        stage_cookie(d, ev->cookie);
        end = ev->refresh_done;
        break;
    default:
        break;
    }
    if (ok && end) {
        if (!d->refreshing) {
            return fail(d, KD_SYNC_NEXT_RECONNECT, error,
                        KD_SYNC_ERROR_PROTOCOL,
                        "refresh end outside a refresh");
        }
        ok = kd_sync_sweep_end_refresh(d, error);
        return ok ? KD_SYNC_NEXT_CONTINUE
                  : fail(d, KD_SYNC_NEXT_RECONNECT, NULL, 0, "store");
    }
    if (!ok) {
        kd_store_rollback(d->store);
        return fail(d, KD_SYNC_NEXT_RECONNECT, NULL, 0, "store");
    }
    d->batch_n++;
    if (d->refreshing ? d->batch_n >= d->tuning.refresh_batch
                      : (d->batch_n >= d->tuning.batch_max ||
                         kd_sync_dispatch_flush_due(d) == 0)) {
        if (!kd_sync_dispatch_commit(d, error)) {
            return fail(d, KD_SYNC_NEXT_RECONNECT, NULL, 0, "store");
        }
    }
    return KD_SYNC_NEXT_CONTINUE;
}
