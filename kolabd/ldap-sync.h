/*
 * ldap-sync: kolabd's syncrepl consumer (RFC 4533), a loop of its own on
 * ldap_search_ext() + ldap_result(LDAP_MSG_ONE) rather than libldap's
 * ldap_sync_* API (see notes/syncrepl.md §4).
 *
 * A KdSync owns one LDAP connection for the sync search and one store
 * connection; it is meant to run on a dedicated reader thread with
 * kd_sync_run(), which does refreshAndPersist forever, reconnecting with
 * exponential backoff and jitter (reset after each refresh end), until the
 * GCancellable is cancelled. kd_sync_refresh_once() does one refreshOnly
 * search (for `kolabd resync` and tests). Every entry is classified by the
 * caller's KdSyncClassifyFunc into a KdObject and stored; objects whose
 * desired state changed become dirty in the work queue and the notify
 * callback tells the reconciler. The reader never waits on anything but
 * LDAP and SQLite. Durability, batching and the delete guard are
 * described in ldap-sync-dispatch.h.
 *
 * With watchdog_interval_s set, a KdSyncWatchdog (ldap-sync-watchdog.h)
 * reads the provider's contextCSN while the search is silent and makes
 * the loop reconnect when the provider does not answer or is ahead.
 *
 * The request always carries reloadHint TRUE and never a paged-results
 * control. The hash of (uri, bind identity, base, scope, filter, attrs) is
 * stored with the cookie; a different hash drops the cookie.
 *
 * Test hooks (environment): KD_SYNC_TEST_DELAY_US=N sleeps N microseconds
 * after each message; KD_SYNC_TEST_EXIT_AFTER=N calls _exit(3) after N
 * messages.
 */
#ifndef KOLABD_LDAP_SYNC_H
#define KOLABD_LDAP_SYNC_H

#include <gio/gio.h>
#include <glib.h>

#include "ldap-conn.h"
#include "ldap-sync-dispatch.h"

typedef struct {
    KdLdapParams ldap;
    const char *base;
    int scope;                /* LDAP_SCOPE_SUBTREE, ... */
    const char *filter;       /* NULL: "(objectClass=*)" */
    const char *const *attrs; /* NULL-terminated; NULL: all user attrs */
    KdSyncTuning tuning;      /* guard and batching */
    guint backoff_min_ms;     /* first retry delay */
    guint backoff_max_ms;     /* cap; also the delay after 4/3/11 */
    guint watchdog_interval_s; /* contextCSN watchdog; 0: off */
} KdSyncParams;

/*
 * Fills @params with defaults: subtree scope, "(objectClass=*)", guard 100
 * deletes / 10 %, persist batches of 100 messages or 20 ms, refresh
 * batches of 5000 entries, backoff 1 s .. 5 min, no watchdog. Strings
 * stay NULL.
 */
void kd_sync_params_init(KdSyncParams *params);
/* Hex SHA-256 of the parameters a cookie depends on. */
char *kd_sync_params_hash(const KdSyncParams *params);

typedef struct KdSync KdSync;

/*
 * Copies @params (strings included) and opens the store at @store_path.
 * @classify is required. Returns NULL with @error set when the store
 * cannot be opened. No network activity happens here.
 */
KdSync *kd_sync_new(const KdSyncParams *params, const char *store_path,
                    KdSyncClassifyFunc classify, gpointer classify_data,
                    GError **error);
void kd_sync_free(KdSync *sync);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSync, kd_sync_free)

/* Sets the callback fired on the reader thread after each commit that
 * made objects dirty. Call before kd_sync_run. */
void kd_sync_set_notify(KdSync *sync, KdSyncNotifyFunc func,
                        gpointer user_data);

/*
 * refreshAndPersist until @cancel is cancelled (checked at least every
 * second). Errors are logged and retried; returns TRUE when cancelled.
 */
gboolean kd_sync_run(KdSync *sync, GCancellable *cancel, GError **error);

/*
 * One refreshOnly search: with the stored cookie if @use_cookie, else a
 * full, authoritative refresh (deletes still pass the guard). Returns
 * TRUE once the refresh end is committed; FALSE with @error
 * (KD_LDAP_ERROR for connection/bind failures, KD_SYNC_ERROR otherwise).
 * Do not run it on a store that a kd_sync_run() of another process or
 * thread is writing: an object the other consumer adds after this
 * search's snapshot would be swept as absent (and come back only with
 * its next change).
 */
gboolean kd_sync_refresh_once(KdSync *sync, gboolean use_cookie,
                              GCancellable *cancel, GError **error);

/* Status, safe to call from any thread. */
gboolean kd_sync_is_connected(KdSync *sync);
/* Unix seconds of the last refresh end of this process, 0 if none. */
gint64 kd_sync_get_last_refresh_end(KdSync *sync);
/* Last error message (NULL if none); free with g_free. */
char *kd_sync_dup_last_error(KdSync *sync);
/* Refresh ends and held deletes since kd_sync_new. */
guint kd_sync_get_refresh_count(KdSync *sync);
guint kd_sync_get_held_count(KdSync *sync);

#endif /* KOLABD_LDAP_SYNC_H */
