/*
 * ldap-sync-cookie: what kolabd reads out of an OpenLDAP sync cookie.
 *
 * RFC 4533 calls the cookie opaque, and kolabd sends back whatever the
 * provider gave it, with one exception. slapd's cookies look like
 * `rid=NNN[,sid=SSS],csn=CSN[;CSN...][,delcsn=CSN]`, one CSN per server
 * ID (SID) of a multi-provider setup, and a CSN is
 * `YYYYmmddHHMMSS.uuuuuuZ#count#SID#mod` (fixed width, so CSNs of one SID
 * order as strings). A persist-stage cookie carries only the CSN of the
 * change it comes with; a consumer that stores "the last cookie" against
 * several providers forgets the other SIDs and gets a full present phase
 * on every reconnect (notes/syncrepl.md §3). kd_sync_cookie_merge() keeps
 * the newest CSN of every SID instead.
 *
 * The same CSN lists let the contextCSN watchdog (ldap-sync-watchdog.h)
 * tell whether the provider has changes the consumer has not seen.
 *
 * Cookies that do not parse as slapd's are left alone: merging returns the
 * newer cookie unchanged and the CSN functions report "unknown".
 */
#ifndef KOLABD_LDAP_SYNC_COOKIE_H
#define KOLABD_LDAP_SYNC_COOKIE_H

#include <glib.h>

/*
 * The SID of @csn (0..4095), or -1 when @csn is not a slapd CSN.
 */
int kd_sync_csn_sid(const char *csn);

/*
 * The CSNs of @cookie (the values of its `csn=` field), NULL-terminated;
 * NULL when @cookie is NULL, has no csn field or any CSN is malformed.
 * Free with g_strfreev.
 */
char **kd_sync_cookie_csns(GBytes *cookie);

/*
 * The cookie to keep after @next arrived when @base was the one in
 * force (either may be NULL). Returns a new reference: @next itself when
 * it already holds, for every SID of @base, a CSN at least as new (always
 * the case with a single provider), or when either cookie is not a slapd
 * cookie; otherwise @next with its csn field replaced by the newest CSN of
 * every SID of both, ordered by SID. Returns NULL only when @next is NULL
 * or empty.
 */
GBytes *kd_sync_cookie_merge(GBytes *base, GBytes *next);

/*
 * TRUE when some CSN of @context (the provider's contextCSN values) is
 * newer than both the CSN of its SID in @seen (missing counts as older)
 * and the CSN of its SID in @accepted (NULL or missing: no effect). Values
 * of @context that are not CSNs are ignored. On TRUE, *@sid_out (may be
 * NULL) is the first SID found ahead.
 */
gboolean kd_sync_csns_ahead(char *const *context, char *const *seen,
                            char *const *accepted, int *sid_out);

/*
 * Merges CSN list @more into @csns (newest per SID, ordered by SID);
 * returns a new list (@csns and @more may be NULL). Free with g_strfreev.
 */
char **kd_sync_csns_union(char *const *csns, char *const *more);

#endif /* KOLABD_LDAP_SYNC_COOKIE_H */
