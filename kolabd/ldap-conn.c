/* ldap-conn: see ldap-conn.h. */
#include "config.h"

#include <string.h>

#include "ldap-conn.h"

G_DEFINE_QUARK(kd - ldap - error - quark, kd_ldap_error)

void
kd_ldap_set_error(GError **error, LDAP *ld, int rc, const char *what)
{
    char *diag = NULL;

    if (error == NULL) {
        return;
    }
    if (ld != NULL) {
        ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    }
    if (diag != NULL && diag[0] != '\0') {
        g_set_error(error, KD_LDAP_ERROR, rc, "%s: %s (%s)", what,
                    ldap_err2string(rc), diag);
    } else {
        g_set_error(error, KD_LDAP_ERROR, rc, "%s: %s", what,
                    ldap_err2string(rc));
    }
    ldap_memfree(diag);
}

void
kd_ldap_unbind(LDAP *ld)
{
    if (ld != NULL) {
        ldap_unbind_ext(ld, NULL, NULL);
    }
}

void
kd_ldap_params_copy(KdLdapParams *dst, const KdLdapParams *src)
{
    *dst = *src;
    dst->uri = g_strdup(src->uri);
    dst->bind_dn = g_strdup(src->bind_dn);
    dst->bind_pw = g_strdup(src->bind_pw);
    dst->tls_cacert = g_strdup(src->tls_cacert);
}

void
kd_ldap_params_clear(KdLdapParams *params)
{
    char *pw = (char *)params->bind_pw;

    if (pw != NULL) {
        memset(pw, 0, strlen(pw));
    }
    g_free(pw);
    g_free((char *)params->uri);
    g_free((char *)params->bind_dn);
    g_free((char *)params->tls_cacert);
    memset(params, 0, sizeof *params);
}

static int
or_default(int value, int fallback)
{
    return value > 0 ? value : fallback;
}

/* Sets the connection options; the TLS ones before the first connect. */
static int
set_options(LDAP *ld, const KdLdapParams *p, const char **what_out)
{
    int version = LDAP_VERSION3;
    int deref = LDAP_DEREF_NEVER;
    int idle = or_default(p->keepalive_idle_s, 60);
    int probes = or_default(p->keepalive_probes, 5);
    int interval = or_default(p->keepalive_interval_s, 10);
    unsigned int user_timeout =
        (unsigned int)or_default(p->tcp_user_timeout_ms, 120000);
    struct timeval net = {or_default(p->network_timeout_s, 10), 0};
    struct timeval op = {or_default(p->op_timeout_s, 30), 0};
    int demand = LDAP_OPT_X_TLS_DEMAND;
    int rc;

#define SET(opt, val)                                                          \
    do {                                                                       \
        rc = ldap_set_option(ld, (opt), (val));                                \
        if (rc != LDAP_OPT_SUCCESS) {                                          \
            *what_out = #opt;                                                  \
            return rc;                                                         \
        }                                                                      \
    } while (0)

    SET(LDAP_OPT_PROTOCOL_VERSION, &version);
    SET(LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    SET(LDAP_OPT_DEREF, &deref);
    SET(LDAP_OPT_NETWORK_TIMEOUT, &net);
    SET(LDAP_OPT_TIMEOUT, &op);
    SET(LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
    SET(LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
    SET(LDAP_OPT_X_KEEPALIVE_INTERVAL, &interval);
    SET(LDAP_OPT_TCP_USER_TIMEOUT, &user_timeout);
    SET(LDAP_OPT_RESTART, LDAP_OPT_ON);
    if (p->tls_cacert != NULL) {
        int newctx = 0;

        SET(LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
        SET(LDAP_OPT_X_TLS_CACERTFILE, p->tls_cacert);
        SET(LDAP_OPT_X_TLS_NEWCTX, &newctx);
    }
#undef SET
    return LDAP_SUCCESS;
}

LDAP *
kd_ldap_connect(const KdLdapParams *params, GError **error)
{
    g_autoptr(LDAP) ld = NULL;
    const char *what = NULL;
    struct berval cred = {0, NULL};
    int rc;

    g_return_val_if_fail(params != NULL && params->uri != NULL, NULL);
    rc = ldap_initialize(&ld, params->uri);
    if (rc != LDAP_SUCCESS) {
        g_autofree char *msg =
            g_strdup_printf("invalid LDAP URI \"%s\"", params->uri);

        kd_ldap_set_error(error, NULL, rc, msg);
        return NULL;
    }
    rc = set_options(ld, params, &what);
    if (rc != LDAP_SUCCESS) {
        g_autofree char *msg =
            g_strdup_printf("%s: cannot set %s", params->uri, what);

        kd_ldap_set_error(error, ld, rc, msg);
        return NULL;
    }
    if (params->starttls && strncmp(params->uri, "ldap://", 7) == 0) {
        rc = ldap_start_tls_s(ld, NULL, NULL);
        if (rc != LDAP_SUCCESS) {
            g_autofree char *msg =
                g_strdup_printf("%s: StartTLS failed", params->uri);

            kd_ldap_set_error(error, ld, rc, msg);
            return NULL;
        }
    }
    if (params->bind_dn == NULL && params->sasl_external) {
        rc = ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &cred, NULL, NULL, NULL);
    } else {
        if (params->bind_pw != NULL) {
            cred.bv_val = (char *)params->bind_pw;
            cred.bv_len = strlen(params->bind_pw);
        }
        rc = ldap_sasl_bind_s(ld, params->bind_dn, LDAP_SASL_SIMPLE, &cred,
                              NULL, NULL, NULL);
    }
    if (rc != LDAP_SUCCESS) {
        g_autofree char *msg =
            g_strdup_printf("%s: bind as \"%s\" failed", params->uri,
                            params->bind_dn != NULL ? params->bind_dn
                            : params->sasl_external ? "SASL EXTERNAL"
                                                    : "anonymous");

        kd_ldap_set_error(error, ld, rc, msg);
        return NULL;
    }
    return g_steal_pointer(&ld);
}
