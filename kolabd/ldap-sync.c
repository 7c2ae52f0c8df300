/* ldap-sync: see ldap-sync.h. The connection loop; message semantics live
 * in ldap-sync-dispatch.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldap-sync-parse.h"
#include "ldap-sync-watchdog.h"
#include "ldap-sync.h"

#define LOG_DOMAIN "kolabd-sync"

struct KdSync {
    /* owned copies of the parameters */
    KdSyncParams params;
    char *base, *filter;
    char **attrs;
    char *params_hash;

    KdStore *store;
    KdSyncDispatch *dispatch;
    KdSyncWatchdog *watchdog; /* NULL: off */

    guint64 test_delay_us;
    guint64 test_exit_after;
    guint64 n_messages;

    GMutex lock; /* protects the status below */
    gboolean connected;
    gint64 last_refresh_end;
    char *last_error;
    guint refresh_count;
    guint held_count;
};

void
kd_sync_params_init(KdSyncParams *params)
{
    memset(params, 0, sizeof(*params));
    params->scope = LDAP_SCOPE_SUBTREE;
    params->tuning.delete_max_count = 100;
    params->tuning.delete_max_percent = 10;
    params->tuning.batch_max = 100;
    params->tuning.batch_ms = 20;
    params->tuning.refresh_batch = 5000;
    params->backoff_min_ms = 1000;
    params->backoff_max_ms = 300000;
}

char *
kd_sync_params_hash(const KdSyncParams *p)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *scope = g_strdup_printf("%d", p->scope);

#define ADD(s)                                                                 \
    do {                                                                       \
        const char *s_ = (s) != NULL ? (s) : "";                               \
        g_checksum_update(sum, (const guchar *)s_, (gssize)strlen(s_) + 1);    \
    } while (0)

    ADD(p->ldap.uri);
    ADD(p->ldap.bind_dn);
    ADD(p->ldap.sasl_external ? "EXTERNAL" : "simple");
    ADD(p->base);
    ADD(scope);
    ADD(p->filter != NULL ? p->filter : "(objectClass=*)");
    for (guint i = 0; p->attrs != NULL && p->attrs[i] != NULL; i++) {
        ADD(p->attrs[i]);
    }
#undef ADD
    return g_strdup(g_checksum_get_string(sum));
}

static guint64
env_u64(const char *name)
{
    const char *v = g_getenv(name);

    return v != NULL ? g_ascii_strtoull(v, NULL, 10) : 0;
}

KdSync *
kd_sync_new(const KdSyncParams *params, const char *store_path,
            KdSyncClassifyFunc classify, gpointer classify_data, GError **error)
{
    g_autoptr(KdSync) sync = NULL;

    g_return_val_if_fail(params != NULL && params->ldap.uri != NULL, NULL);
    g_return_val_if_fail(params->base != NULL && classify != NULL, NULL);
    sync = g_new0(KdSync, 1);
    g_mutex_init(&sync->lock);
    sync->params = *params;
    kd_ldap_params_copy(&sync->params.ldap, &params->ldap);
    sync->base = g_strdup(params->base);
    sync->filter =
        g_strdup(params->filter != NULL ? params->filter : "(objectClass=*)");
    sync->attrs = g_strdupv((char **)params->attrs);
    sync->params.base = sync->base;
    sync->params.filter = sync->filter;
    sync->params.attrs = (const char *const *)sync->attrs;
    if (sync->params.backoff_min_ms == 0) {
        sync->params.backoff_min_ms = 1000;
    }
    sync->params.backoff_max_ms =
        MAX(sync->params.backoff_max_ms, sync->params.backoff_min_ms);
    sync->params_hash = kd_sync_params_hash(&sync->params);
    sync->test_delay_us = env_u64("KD_SYNC_TEST_DELAY_US");
    sync->test_exit_after = env_u64("KD_SYNC_TEST_EXIT_AFTER");

    sync->store = kd_store_open(store_path, error);
    if (sync->store == NULL) {
        return NULL;
    }
    sync->dispatch = kd_sync_dispatch_new(sync->store, &params->tuning,
                                          classify, classify_data);
    if (params->watchdog_interval_s > 0) {
        sync->watchdog = kd_sync_watchdog_new(
            &sync->params.ldap, sync->base, sync->params.scope, sync->filter,
            params->watchdog_interval_s);
    }
    return g_steal_pointer(&sync);
}

void
kd_sync_free(KdSync *sync)
{
    if (sync == NULL) {
        return;
    }
    kd_sync_watchdog_free(sync->watchdog);
    kd_sync_dispatch_free(sync->dispatch);
    kd_store_free(sync->store);
    kd_ldap_params_clear(&sync->params.ldap);
    g_free(sync->base);
    g_free(sync->filter);
    g_strfreev(sync->attrs);
    g_free(sync->params_hash);
    g_free(sync->last_error);
    g_mutex_clear(&sync->lock);
    g_free(sync);
}

void
kd_sync_set_notify(KdSync *sync, KdSyncNotifyFunc func, gpointer user_data)
{
    kd_sync_dispatch_set_notify(sync->dispatch, func, user_data);
}

/* ---- status ---------------------------------------------------------- */

static void
set_status(KdSync *sync, gboolean connected, const char *error_text)
{
    g_autoptr(GError) error = NULL;

    g_mutex_lock(&sync->lock);
    sync->connected = connected;
    if (error_text != NULL) {
        g_free(sync->last_error);
        sync->last_error = g_strdup(error_text);
    }
    sync->refresh_count = kd_sync_dispatch_refresh_count(sync->dispatch);
    sync->held_count = kd_sync_dispatch_held_count(sync->dispatch);
    g_mutex_unlock(&sync->lock);
    if (!kd_store_in_transaction(sync->store) &&
        !kd_store_set_sync_status(sync->store, connected, error_text, &error)) {
        g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "sync: %s", error->message);
    }
}

static void
refresh_ended(KdSync *sync)
{
    g_mutex_lock(&sync->lock);
    sync->last_refresh_end = g_get_real_time() / G_USEC_PER_SEC;
    sync->refresh_count = kd_sync_dispatch_refresh_count(sync->dispatch);
    sync->held_count = kd_sync_dispatch_held_count(sync->dispatch);
    g_clear_pointer(&sync->last_error, g_free);
    g_mutex_unlock(&sync->lock);
}

gboolean
kd_sync_is_connected(KdSync *sync)
{
    gboolean v;

    g_mutex_lock(&sync->lock);
    v = sync->connected;
    g_mutex_unlock(&sync->lock);
    return v;
}

gint64
kd_sync_get_last_refresh_end(KdSync *sync)
{
    gint64 v;

    g_mutex_lock(&sync->lock);
    v = sync->last_refresh_end;
    g_mutex_unlock(&sync->lock);
    return v;
}

char *
kd_sync_dup_last_error(KdSync *sync)
{
    char *v;

    g_mutex_lock(&sync->lock);
    v = g_strdup(sync->last_error);
    g_mutex_unlock(&sync->lock);
    return v;
}

guint
kd_sync_get_refresh_count(KdSync *sync)
{
    guint v;

    g_mutex_lock(&sync->lock);
    v = sync->refresh_count;
    g_mutex_unlock(&sync->lock);
    return v;
}

guint
kd_sync_get_held_count(KdSync *sync)
{
    guint v;

    g_mutex_lock(&sync->lock);
    v = sync->held_count;
    g_mutex_unlock(&sync->lock);
    return v;
}

/* ---- one search ------------------------------------------------------ */

static int
start_search(KdSync *sync, LDAP *ld, gboolean persist, GBytes *cookie,
             int *msgid_out, GError **error)
{
    LDAPControl ctrl = {0};
    LDAPControl *ctrls[2] = {&ctrl, NULL};
    int rc;

    if (!kd_sync_encode_request(persist ? LDAP_SYNC_REFRESH_AND_PERSIST
                                        : LDAP_SYNC_REFRESH_ONLY,
                                cookie, TRUE, &ctrl.ldctl_value, error)) {
        return LDAP_ENCODING_ERROR;
    }
    ctrl.ldctl_oid = (char *)LDAP_CONTROL_SYNC;
    ctrl.ldctl_iscritical = 1;
    /* No time or size limit, and never a paged-results control. */
    rc = ldap_search_ext(ld, sync->base, sync->params.scope, sync->filter,
                         sync->attrs, 0, ctrls, NULL, NULL, 0, msgid_out);
    ber_memfree(ctrl.ldctl_value.bv_val);
    if (rc != LDAP_SUCCESS) {
        kd_ldap_set_error(error, ld, rc, "cannot start the sync search");
    }
    return rc;
}

static gboolean
store_knows(const guint8 *uuid, gpointer user_data)
{
    KdSync *sync = user_data;
    gboolean present = FALSE;
    KdObject *object = kd_store_get_object(sync->store, uuid, &present, NULL);

    kd_object_free(object);
    return object != NULL && present;
}

/* Runs a due watchdog check; TRUE (with @error) when the search should be
 * dropped. */
static gboolean
watchdog_says_reconnect(KdSync *sync, GError **error)
{
    g_autoptr(GBytes) cookie = NULL;
    g_autofree char *reason = NULL;
    KdWatchdogVerdict v;

    if (sync->watchdog == NULL || !kd_sync_watchdog_due(sync->watchdog)) {
        return FALSE;
    }
    cookie = kd_sync_dispatch_dup_cookie(sync->dispatch);
    v = kd_sync_watchdog_check(sync->watchdog, sync->n_messages, cookie,
                               store_knows, sync, &reason);
    if (v == KD_WATCHDOG_OFF) {
        g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "sync watchdog: %s", reason);
    } else if (v == KD_WATCHDOG_RECONNECT) {
        g_set_error(error, KD_SYNC_ERROR, KD_SYNC_ERROR_CONNECTION,
                    "watchdog on %s: %s; reconnecting", sync->params.ldap.uri,
                    reason);
        return TRUE;
    }
    return FALSE;
}

/*
 * Runs one search until it ends; returns what to do next, with @error set
 * unless the answer is REFRESH_DONE (or CONTINUE when cancelled).
 */
static KdSyncNext
run_search(KdSync *sync, gboolean persist, gboolean use_cookie,
           GCancellable *cancel, GError **error)
{
    g_autoptr(LDAP) ld = NULL;
    g_autoptr(GBytes) cookie = NULL;
    KdSyncNext next = KD_SYNC_NEXT_CONTINUE;
    int msgid = -1;

    ld = kd_ldap_connect(&sync->params.ldap, error);
    if (ld == NULL) {
        int code = (*error)->code;

        return code == LDAP_INVALID_CREDENTIALS ||
                       code == LDAP_INAPPROPRIATE_AUTH ||
                       code == LDAP_NO_SUCH_OBJECT
                   ? KD_SYNC_NEXT_LONG_BACKOFF
                   : KD_SYNC_NEXT_RECONNECT;
    }
    if (!kd_sync_dispatch_start(sync->dispatch, sync->params_hash, persist,
                                use_cookie, &cookie, error)) {
        return KD_SYNC_NEXT_RECONNECT;
    }
    if (start_search(sync, ld, persist, cookie, &msgid, error) !=
        LDAP_SUCCESS) {
        kd_sync_dispatch_abort(sync->dispatch);
        return KD_SYNC_NEXT_RECONNECT;
    }
    set_status(sync, TRUE, NULL);
    if (sync->watchdog != NULL) {
        kd_sync_watchdog_search_started(sync->watchdog, sync->n_messages);
    }
    g_log(LOG_DOMAIN, G_LOG_LEVEL_INFO, "sync: %s search on %s started %s",
          persist ? "refreshAndPersist" : "refreshOnly", sync->params.ldap.uri,
          cookie != NULL ? "with a cookie" : "without a cookie");

    while (next == KD_SYNC_NEXT_CONTINUE) {
        g_autoptr(LDAPMessage) msg = NULL;
        g_autoptr(KdSyncEvent) event = NULL;
        gint64 due = kd_sync_dispatch_flush_due(sync->dispatch);
        struct timeval tv = {1, 0};
        guint refreshes = kd_sync_dispatch_refresh_count(sync->dispatch);
        int rc;

        if (g_cancellable_is_cancelled(cancel)) {
            kd_sync_dispatch_abort(sync->dispatch);
            break;
        }
        if (due >= 0 && due < G_USEC_PER_SEC) {
            tv.tv_sec = 0;
            tv.tv_usec = (suseconds_t)due;
        }
        rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
        if (rc == 0) {
            if (kd_sync_dispatch_flush_due(sync->dispatch) == 0 &&
                !kd_sync_dispatch_flush(sync->dispatch, error)) {
                next = KD_SYNC_NEXT_RECONNECT;
            } else if (watchdog_says_reconnect(sync, error)) {
                kd_sync_dispatch_abort(sync->dispatch);
                next = KD_SYNC_NEXT_RECONNECT;
            }
            continue;
        }
        if (rc < 0) {
            int err = LDAP_SERVER_DOWN;

            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
            kd_sync_dispatch_abort(sync->dispatch);
            g_set_error(error, KD_SYNC_ERROR, KD_SYNC_ERROR_CONNECTION,
                        "connection to %s lost: %s", sync->params.ldap.uri,
                        ldap_err2string(err));
            next = KD_SYNC_NEXT_RECONNECT;
            break;
        }
        sync->n_messages++;
        if (sync->test_delay_us > 0) {
            g_usleep(sync->test_delay_us);
        }
        if (sync->test_exit_after > 0 &&
            sync->n_messages >= sync->test_exit_after) {
            _exit(3);
        }
        event = kd_sync_event_from_message(ld, msg, error);
        if (event == NULL) {
            kd_sync_dispatch_abort(sync->dispatch);
            g_prefix_error(error, "sync protocol error from %s: ", sync->params.ldap.uri);
            next = KD_SYNC_NEXT_RECONNECT;
            break;
        }
        next = kd_sync_dispatch_event(sync->dispatch, event, error);
        if (kd_sync_dispatch_refresh_count(sync->dispatch) != refreshes) {
            refresh_ended(sync);
            g_log(LOG_DOMAIN, G_LOG_LEVEL_INFO, "sync: refresh complete");
        }
    }
    if (next == KD_SYNC_NEXT_CONTINUE && error != NULL && *error == NULL) {
        g_set_error(error, KD_SYNC_ERROR, KD_SYNC_ERROR_CANCELLED, "cancelled");
    }
    return next;
}

/* Sleeps @ms in slices, returning early when @cancel fires. */
static void
sleep_cancellable(guint ms, GCancellable *cancel)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

    while (!g_cancellable_is_cancelled(cancel)) {
        gint64 left = end - g_get_monotonic_time();

        if (left <= 0) {
            break;
        }
        g_usleep((gulong)MIN(left, 100000));
    }
}

gboolean
kd_sync_run(KdSync *sync, GCancellable *cancel, GError **error)
{
    guint backoff = 0;

    while (!g_cancellable_is_cancelled(cancel)) {
        g_autoptr(GError) local = NULL;
        guint refreshes = kd_sync_dispatch_refresh_count(sync->dispatch);
        KdSyncNext next;
        guint delay;

        next = run_search(sync, TRUE, TRUE, cancel, &local);
        if (kd_sync_dispatch_refresh_count(sync->dispatch) != refreshes) {
            backoff = 0; /* a refresh completed: the link works */
        }
        if (g_cancellable_is_cancelled(cancel)) {
            break;
        }
        set_status(sync, FALSE, local != NULL ? local->message : NULL);
        switch (next) {
        case KD_SYNC_NEXT_RESTART:
            g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "sync: %s; restarting",
                  local != NULL ? local->message : "restart");
            continue;
        case KD_SYNC_NEXT_LONG_BACKOFF:
            delay = sync->params.backoff_max_ms;
            break;
        default:
            backoff = backoff == 0
                          ? sync->params.backoff_min_ms
                          : MIN(backoff * 2, sync->params.backoff_max_ms);
            /* Full jitter over the upper half. */
            delay = backoff / 2 +
                    (guint)g_random_int_range(0, (gint32)(backoff / 2 + 1));
            break;
        }
        g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "sync: %s; retrying in %u ms",
              local != NULL ? local->message : "search ended", delay);
        sleep_cancellable(delay, cancel);
    }
    set_status(sync, FALSE, NULL);
    return TRUE;
}

gboolean
kd_sync_refresh_once(KdSync *sync, gboolean use_cookie, GCancellable *cancel,
                     GError **error)
{
    /* 4096 asks for an immediate restart; allow a few. */
    for (guint attempt = 0; attempt < 3; attempt++) {
        g_autoptr(GError) local = NULL;
        KdSyncNext next = run_search(sync, FALSE, use_cookie, cancel, &local);

        set_status(sync, FALSE, local != NULL ? local->message : NULL);
        if (next == KD_SYNC_NEXT_REFRESH_DONE) {
            return TRUE;
        }
        if (next != KD_SYNC_NEXT_RESTART) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
    }
    g_set_error(error, KD_SYNC_ERROR, KD_SYNC_ERROR_REFRESH_REQUIRED,
                "the server keeps asking for a refresh (4096)");
    return FALSE;
}
