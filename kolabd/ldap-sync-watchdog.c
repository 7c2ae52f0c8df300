/* ldap-sync-watchdog: see ldap-sync-watchdog.h. */
#include "config.h"

#include <string.h>

#include "ldap-sync-cookie.h"
#include "ldap-sync-parse.h"
#include "ldap-sync-watchdog.h"

#define LOG_DOMAIN "kolabd-sync"

struct KdSyncWatchdog {
    KdLdapParams ldap; /* owned copy */
    char *base, *filter;
    int scope;
    char *suffix; /* where contextCSN lives, found on the first read */
    guint interval_s;

    gint64 next_due; /* monotonic us */
    guint64 last_messages;
    gboolean suspect; /* ahead and silent at the last check */
    char **accepted;  /* contextCSNs with nothing for this search */
    gboolean off;
};

KdSyncWatchdog *
kd_sync_watchdog_new(const KdLdapParams *ldap, const char *base, int scope,
                     const char *filter, guint interval_s)
{
    KdSyncWatchdog *w = g_new0(KdSyncWatchdog, 1);

    g_return_val_if_fail(ldap != NULL && base != NULL && interval_s > 0,
                         NULL);
    kd_ldap_params_copy(&w->ldap, ldap);
    w->base = g_strdup(base);
    w->scope = scope;
    w->filter = g_strdup(filter != NULL ? filter : "(objectClass=*)");
    w->interval_s = interval_s;
    w->next_due = g_get_monotonic_time() + (gint64)interval_s * G_USEC_PER_SEC;
    return w;
}

void
kd_sync_watchdog_free(KdSyncWatchdog *w)
{
    if (w == NULL) {
        return;
    }
    kd_ldap_params_clear(&w->ldap);
    g_free(w->base);
    g_free(w->filter);
    g_free(w->suffix);
    g_strfreev(w->accepted);
    g_free(w);
}

void
kd_sync_watchdog_search_started(KdSyncWatchdog *w, guint64 messages)
{
    w->last_messages = messages;
    w->suspect = FALSE;
    w->next_due = g_get_monotonic_time() +
                  (gint64)w->interval_s * G_USEC_PER_SEC;
}

gboolean
kd_sync_watchdog_due(KdSyncWatchdog *w)
{
    return !w->off && g_get_monotonic_time() >= w->next_due;
}

/* ---- reading contextCSN ---------------------------------------------- */

/* TRUE when DN @dn is @suffix or lies below it (ASCII case-insensitive,
 * as written; good enough to pick among the server's naming contexts). */
static gboolean
dn_within(const char *dn, const char *suffix)
{
    gsize n = strlen(dn), s = strlen(suffix);

    if (s == 0 || s > n || g_ascii_strcasecmp(dn + n - s, suffix) != 0) {
        return FALSE;
    }
    return s == n || dn[n - s - 1] == ',';
}

static char **
read_values(LDAP *ld, const char *dn, const char *attr, int timeout_s,
            GError **error)
{
    g_autoptr(LDAPMessage) res = NULL;
    char *attrs[] = {(char *)attr, NULL};
    struct timeval tv = {timeout_s, 0};
    struct berval **vals;
    LDAPMessage *entry;
    GPtrArray *out;
    int rc;

    rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs,
                           0, NULL, NULL, &tv, 1, &res);
    if (rc != LDAP_SUCCESS) {
        g_autofree char *what = g_strdup_printf("reading %s of \"%s\"", attr,
                                                dn[0] ? dn : "the root DSE");

        kd_ldap_set_error(error, ld, rc, what);
        return NULL;
    }
    entry = ldap_first_entry(ld, res);
    vals = entry != NULL ? ldap_get_values_len(ld, entry, attr) : NULL;
    if (vals == NULL || vals[0] == NULL) {
        ldap_value_free_len(vals);
        g_set_error(error, KD_LDAP_ERROR, LDAP_NO_SUCH_ATTRIBUTE,
                    "\"%s\" shows no %s to %s", dn[0] ? dn : "the root DSE",
                    attr, "the sync identity");
        return NULL;
    }
    out = g_ptr_array_new();
    for (guint i = 0; vals[i] != NULL; i++) {
        g_ptr_array_add(out, g_strndup(vals[i]->bv_val, vals[i]->bv_len));
    }
    g_ptr_array_add(out, NULL);
    ldap_value_free_len(vals);
    return (char **)g_ptr_array_free(out, FALSE);
}

static gboolean unanswered(const GError *error);

/* The longest naming context holding the base, else the base; NULL with
 * @error when the server does not answer. */
static char *
find_suffix(KdSyncWatchdog *w, LDAP *ld, int timeout_s, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) contexts = read_values(ld, "", "namingContexts",
                                         timeout_s, &local);
    const char *best = NULL;

    if (contexts == NULL && unanswered(local)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    for (guint i = 0; contexts != NULL && contexts[i] != NULL; i++) {
        if (dn_within(w->base, contexts[i]) &&
            (best == NULL || strlen(contexts[i]) > strlen(best))) {
            best = contexts[i];
        }
    }
    return g_strdup(best != NULL ? best : w->base);
}

char **
kd_sync_watchdog_read_context(KdSyncWatchdog *w, GError **error)
{
    g_autoptr(LDAP) ld = kd_ldap_connect(&w->ldap, error);
    int timeout_s = w->ldap.op_timeout_s > 0 ? w->ldap.op_timeout_s : 30;

    if (ld == NULL) {
        return NULL;
    }
    if (w->suffix == NULL) {
        w->suffix = find_suffix(w, ld, timeout_s, error);
        if (w->suffix == NULL) {
            return NULL;
        }
    }
    return read_values(ld, w->suffix, "contextCSN", timeout_s, error);
}

/* ---- the decision ---------------------------------------------------- */

/* The provider did not answer at all (as opposed to refusing). */
static gboolean
unanswered(const GError *error)
{
    if (error->domain != KD_LDAP_ERROR) {
        return FALSE;
    }
    switch (error->code) {
    case LDAP_TIMEOUT:
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
        return TRUE;
    default:
        return FALSE;
    }
}

static KdWatchdogVerdict
verdict(KdWatchdogVerdict v, char **reason_out, char *reason)
{
    if (reason_out != NULL) {
        *reason_out = reason;
    } else {
        g_free(reason);
    }
    return v;
}

static KdWatchdogVerdict
turn_off(KdSyncWatchdog *w, char **reason_out, char *reason)
{
    w->off = TRUE;
    return verdict(KD_WATCHDOG_OFF, reason_out, reason);
}

KdWatchdogVerdict
kd_sync_watchdog_decide(KdSyncWatchdog *w, guint64 messages, GBytes *cookie,
                        char *const *context, const GError *read_error,
                        char **reason_out)
{
    gboolean silent = messages == w->last_messages;
    g_auto(GStrv) seen = NULL;

    w->last_messages = messages;
    w->next_due = g_get_monotonic_time() +
                  (gint64)w->interval_s * G_USEC_PER_SEC;
    if (!silent) {
        w->suspect = FALSE;
        return KD_WATCHDOG_OK; /* the search delivers */
    }
    if (context == NULL) {
        if (read_error != NULL && unanswered(read_error)) {
            return verdict(KD_WATCHDOG_RECONNECT, reason_out,
                           g_strdup_printf("the provider does not answer a"
                                           " contextCSN read (%s) and the"
                                           " sync search is silent",
                                           read_error->message));
        }
        return turn_off(w, reason_out,
                        g_strdup_printf("cannot read the contextCSN (%s); the"
                                        " sync watchdog is off",
                                        read_error != NULL
                                            ? read_error->message
                                            : "no value"));
    }
    seen = kd_sync_cookie_csns(cookie);
    if (cookie != NULL && seen == NULL) {
        return turn_off(w, reason_out,
                        g_strdup("the sync cookie is not slapd's; the sync"
                                 " watchdog is off"));
    }
    if (!kd_sync_csns_ahead(context, seen, w->accepted, NULL)) {
        w->suspect = FALSE;
        return KD_WATCHDOG_OK;
    }
    if (!w->suspect) {
        w->suspect = TRUE;
        return KD_WATCHDOG_OK;
    }
    w->suspect = FALSE;
    return KD_WATCHDOG_PROBE;
}

void
kd_sync_watchdog_accept(KdSyncWatchdog *w, char *const *context)
{
    char **u = kd_sync_csns_union(w->accepted, context);

    g_strfreev(w->accepted);
    w->accepted = u;
}

/* ---- the probe ------------------------------------------------------- */

/* Changes one message of the probe reports; -1 at its end (with @error
 * set unless it ended well). */
static gint64
probe_message(LDAP *ld, LDAPMessage *msg, KdWatchdogKnownFunc known,
              gpointer known_data, GError **error)
{
    g_autoptr(KdSyncEvent) ev = kd_sync_event_from_message(ld, msg, error);
    gint64 n = 0;

    if (ev == NULL) {
        return -1;
    }
    switch (ev->type) {
    case KD_SYNC_EV_ENTRY:
        return 1;
    case KD_SYNC_EV_ID_SET:
        for (guint i = 0; i < kd_sync_event_n_uuids(ev); i++) {
            if (known == NULL ||
                known(ev->uuids->data + i * KD_UUID_LEN, known_data)) {
                n++;
            }
        }
        return n;
    case KD_SYNC_EV_DONE:
        if (ev->rc != LDAP_SUCCESS) {
            g_set_error(error, KD_LDAP_ERROR, ev->rc, "probe ended: %s (%d)",
                        ldap_err2string(ev->rc), ev->rc);
        }
        return -1;
    default:
        return 0;
    }
}

gint64
kd_sync_watchdog_probe(KdSyncWatchdog *w, GBytes *cookie,
                       KdWatchdogKnownFunc known, gpointer known_data,
                       GError **error)
{
    g_autoptr(LDAP) ld = kd_ldap_connect(&w->ldap, error);
    int timeout_s = w->ldap.op_timeout_s > 0 ? w->ldap.op_timeout_s : 30;
    char *attrs[] = {(char *)LDAP_NO_ATTRS, NULL};
    LDAPControl ctrl = {0};
    LDAPControl *ctrls[2] = {&ctrl, NULL};
    gint64 changes = 0;
    int msgid = -1, rc;

    if (ld == NULL ||
        !kd_sync_encode_request(LDAP_SYNC_REFRESH_ONLY, cookie, TRUE,
                                &ctrl.ldctl_value, error)) {
        return -1;
    }
    ctrl.ldctl_oid = (char *)LDAP_CONTROL_SYNC;
    ctrl.ldctl_iscritical = 1;
    rc = ldap_search_ext(ld, w->base, w->scope, w->filter, attrs, 0, ctrls,
                         NULL, NULL, 0, &msgid);
    ber_memfree(ctrl.ldctl_value.bv_val);
    if (rc != LDAP_SUCCESS) {
        kd_ldap_set_error(error, ld, rc, "probe search");
        return -1;
    }
    while (changes == 0) {
        g_autoptr(LDAPMessage) msg = NULL;
        struct timeval tv = {timeout_s, 0};
        gint64 n;

        rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
        if (rc <= 0) {
            kd_ldap_set_error(error, ld, rc == 0 ? LDAP_TIMEOUT : rc,
                              "probe search");
            return -1;
        }
        n = probe_message(ld, msg, known, known_data, error);
        if (n < 0) {
            return error != NULL && *error != NULL ? -1 : 0;
        }
        changes += n;
    }
    return changes; /* unbinding abandons the rest */
}

KdWatchdogVerdict
kd_sync_watchdog_check(KdSyncWatchdog *w, guint64 messages, GBytes *cookie,
                       KdWatchdogKnownFunc known, gpointer known_data,
                       char **reason_out)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) context = NULL;
    KdWatchdogVerdict v;
    gint64 changes;

    if (messages == w->last_messages) {
        context = kd_sync_watchdog_read_context(w, &error);
    }
    v = kd_sync_watchdog_decide(w, messages, cookie, context, error,
                                reason_out);
    if (v != KD_WATCHDOG_PROBE) {
        return v;
    }
    changes = kd_sync_watchdog_probe(w, cookie, known, known_data, &error);
    if (changes == 0) {
        g_log(LOG_DOMAIN, G_LOG_LEVEL_INFO,
              "sync watchdog: contextCSN moved for writes this search does"
              " not see (a refresh from our cookie finds nothing)");
        kd_sync_watchdog_accept(w, context);
        return KD_WATCHDOG_OK;
    }
    return verdict(
        KD_WATCHDOG_RECONNECT, reason_out,
        changes > 0
            ? g_strdup_printf("the provider's contextCSN is ahead of our"
                              " cookie at two checks %u s apart, the sync"
                              " search sent nothing, and a refresh from our"
                              " cookie on a second connection finds changes",
                              w->interval_s)
            : g_strdup_printf("the provider's contextCSN is ahead of our"
                              " cookie at two checks %u s apart, the sync"
                              " search sent nothing, and a refresh from our"
                              " cookie failed (%s)",
                              w->interval_s, error->message));
}
