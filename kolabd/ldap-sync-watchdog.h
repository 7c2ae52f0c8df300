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
 *    row with no sync message in between: probe. A refreshOnly search
 *    from the cookie in force, on the watchdog's connection, asks the
 *    provider what changed since. Entries or deleted UUIDs in the answer
 *    are changes the sync search should have sent: reconnect (the refresh
 *    resumes from the cookie). None: contextCSN moved for writes the
 *    search does not see (slapd sends nothing at all for a delete outside
 *    the search), and those CSNs stop counting;
 *  - anything else: fine.
 *
 * An OpenLDAP-specific heuristic (notes/syncrepl.md §9): when the
 * contextCSN cannot be read (no such attribute, no access) or the cookie
 * is not slapd's, the watchdog says so once and turns itself off.
 * kd_sync_watchdog_decide() is the pure decision, for tests.
 */
#ifndef KOLABD_LDAP_SYNC_WATCHDOG_H
#define KOLABD_LDAP_SYNC_WATCHDOG_H

#include <glib.h>

#include "ldap-conn.h"

typedef enum {
    KD_WATCHDOG_OK,
    KD_WATCHDOG_RECONNECT, /* the sync search should be dropped */
    KD_WATCHDOG_OFF,       /* the watchdog cannot work here; it stopped */
    KD_WATCHDOG_PROBE,     /* (decide only) ahead and silent: probe */
} KdWatchdogVerdict;

typedef struct KdSyncWatchdog KdSyncWatchdog;

/*
 * A watchdog checking every @interval_s seconds (> 0) with a connection
 * made from @ldap (copied, password included) to the database holding
 * @base; its probe searches @base, @scope, @filter like the sync search.
 * No network activity happens here.
 */
KdSyncWatchdog *kd_sync_watchdog_new(const KdLdapParams *ldap,
                                     const char *base, int scope,
                                     const char *filter, guint interval_s);
void kd_sync_watchdog_free(KdSyncWatchdog *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSyncWatchdog, kd_sync_watchdog_free)

/* A sync search started after @messages messages in all; the first check
 * is due one interval from now. */
void kd_sync_watchdog_search_started(KdSyncWatchdog *w, guint64 messages);

/* TRUE when a check is due (and the watchdog is not off). */
gboolean kd_sync_watchdog_due(KdSyncWatchdog *w);

/*
 * Runs a due check: @messages is the running count of sync messages and
 * @cookie the cookie in force (NULL: none). Reads the contextCSN only when
 * the search was silent since the last check, and probes when decide
 * says so; each step blocks at most the connection's network and
 * operation timeouts. Returns OK, RECONNECT or OFF; on RECONNECT and OFF,
 * @reason_out (may be NULL) gets a sentence for the log (g_free it).
 */
/* TRUE when the consumer holds a present object with this entryUUID. */
typedef gboolean (*KdWatchdogKnownFunc)(const guint8 *uuid,
                                        gpointer user_data);

KdWatchdogVerdict kd_sync_watchdog_check(KdSyncWatchdog *w, guint64 messages,
                                         GBytes *cookie,
                                         KdWatchdogKnownFunc known,
                                         gpointer known_data,
                                         char **reason_out);

/*
 * The decision of a check, without I/O: @context is the contextCSN read
 * (NULL when the read failed with @read_error, a KD_LDAP_ERROR), the rest
 * as for kd_sync_watchdog_check(). Returns PROBE instead of probing.
 * Updates @w's state.
 */
KdWatchdogVerdict kd_sync_watchdog_decide(KdSyncWatchdog *w, guint64 messages,
                                          GBytes *cookie,
                                          char *const *context,
                                          const GError *read_error,
                                          char **reason_out);

/* A probe found no changes behind @context: its CSNs stop counting. */
void kd_sync_watchdog_accept(KdSyncWatchdog *w, char *const *context);

/*
 * The probe: a refreshOnly search from @cookie (NULL: none) with no
 * attributes. Returns how many changes it reports, or -1 with @error when
 * it fails or ends with a result other than success. Changes are entries
 * and the UUIDs of syncIdSets that @known says the consumer holds: slapd
 * replays every delete of its session log, in the search or not. It stops
 * at the first change.
 */
gint64 kd_sync_watchdog_probe(KdSyncWatchdog *w, GBytes *cookie,
                              KdWatchdogKnownFunc known, gpointer known_data,
                              GError **error);

/* Reads the contextCSN values of the database holding the base (the
 * longest namingContext containing it, else the base itself); NULL with
 * @error (KD_LDAP_ERROR; LDAP_NO_SUCH_ATTRIBUTE when it has none). */
char **kd_sync_watchdog_read_context(KdSyncWatchdog *w, GError **error);

#endif /* KOLABD_LDAP_SYNC_WATCHDOG_H */
