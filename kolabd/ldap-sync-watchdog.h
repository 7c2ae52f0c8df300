/*
 * ldap-sync-watchdog: notices a sync search that has stopped delivering.
 *
 * TCP keepalive and TCP_USER_TIMEOUT find a dead peer, but not a provider
 * that still acknowledges packets and sends nothing: slapd stopped with
 * SIGSTOP, a slapd thread stuck, a middlebox that keeps the connection
 * half alive. slapd sends nothing on an idle persistent search, so
 * silence alone proves nothing. The watchdog therefore asks the provider
 * on a second, short-lived connection for the contextCSN of the database
 * that holds the search base, and only while the sync search is silent
 * (no message since the last check):
 *
 *  - the read gets no answer (timeout, connection refused or lost): the
 *    provider is not answering; reconnect the sync search (with several
 *    URIs this fails over; otherwise reconnecting shows the outage in
 *    status and resumes from the cookie once the provider answers);
 *  - a contextCSN is newer than the cookie in force, at two checks in a
 *    row with no sync message in between: the provider has changes it is
 *    not sending; reconnect (the refresh resumes from the cookie);
 *  - anything else: fine.
 *
 * contextCSN also moves for writes the search does not cover (another
 * subtree of the same database). If, after a reconnect the watchdog
 * forced, the refresh ends and the cookie still does not reach the
 * contextCSN seen at that time, those CSNs are accepted as "not ours" and
 * only newer ones count. An OpenLDAP-specific heuristic (notes/syncrepl.md
 * §9): when the contextCSN cannot be read (no such attribute, no access)
 * or the cookie is not slapd's, the watchdog says so once and turns
 * itself off. kd_sync_watchdog_decide() is the pure decision, for tests.
 */
#ifndef KOLABD_LDAP_SYNC_WATCHDOG_H
#define KOLABD_LDAP_SYNC_WATCHDOG_H

#include <glib.h>

#include "ldap-conn.h"

typedef enum {
    KD_WATCHDOG_OK,
    KD_WATCHDOG_RECONNECT, /* the sync search should be dropped */
    KD_WATCHDOG_OFF,       /* the watchdog cannot work here; it stopped */
} KdWatchdogVerdict;

typedef struct KdSyncWatchdog KdSyncWatchdog;

/*
 * A watchdog checking every @interval_s seconds (> 0) with a connection
 * made from @ldap (copied, password included) to the database holding
 * @base. No network activity happens here.
 */
KdSyncWatchdog *kd_sync_watchdog_new(const KdLdapParams *ldap,
                                     const char *base, guint interval_s);
void kd_sync_watchdog_free(KdSyncWatchdog *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSyncWatchdog, kd_sync_watchdog_free)

/* A sync search started after @messages messages in all; the first check
 * is due one interval from now. */
void kd_sync_watchdog_search_started(KdSyncWatchdog *w, guint64 messages);

/* TRUE when a check is due (and the watchdog is not off). */
gboolean kd_sync_watchdog_due(KdSyncWatchdog *w);

/*
 * Runs a due check: @messages is the running count of sync messages,
 * @cookie the cookie in force (NULL: none), @refreshing whether the
 * search is still in its refresh stage. Reads the contextCSN only when
 * the search was silent since the last check; blocks at most the
 * connection's network and operation timeouts. On RECONNECT and OFF,
 * @reason_out (may be NULL) gets a sentence for the log (g_free it).
 */
KdWatchdogVerdict kd_sync_watchdog_check(KdSyncWatchdog *w, guint64 messages,
                                         GBytes *cookie, gboolean refreshing,
                                         char **reason_out);

/*
 * The decision of a check, without I/O: @context is the contextCSN read
 * (NULL when the read failed with @read_error, a KD_LDAP_ERROR), the rest
 * as for kd_sync_watchdog_check(). Updates @w's state.
 */
KdWatchdogVerdict kd_sync_watchdog_decide(KdSyncWatchdog *w, guint64 messages,
                                          GBytes *cookie, gboolean refreshing,
                                          char *const *context,
                                          const GError *read_error,
                                          char **reason_out);

/* Reads the contextCSN values of the database holding the base (the
 * longest namingContext containing it, else the base itself); NULL with
 * @error (KD_LDAP_ERROR; LDAP_NO_SUCH_ATTRIBUTE when it has none). */
char **kd_sync_watchdog_read_context(KdSyncWatchdog *w, GError **error);

#endif /* KOLABD_LDAP_SYNC_WATCHDOG_H */
