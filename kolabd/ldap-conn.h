/*
 * ldap-conn: opening an authenticated LDAP connection, and LDAP errors.
 *
 * Every LDAP user in kolabd (the syncrepl reader, directory lookups and
 * the mailHost write-back) gets its own LDAP* from kd_ldap_connect(). The
 * connection is set up the way a long-lived replication client needs it:
 * protocol v3, referrals off, aliases never dereferenced, a connect
 * timeout, an operation timeout, TCP keepalive and TCP_USER_TIMEOUT so a
 * dead peer is noticed on an idle persistent search. ldap://, ldaps:// and
 * ldapi:// URIs are accepted; StartTLS is optional for ldap://. Binding is
 * simple with a DN and password, anonymous when bind_dn is NULL, or SASL
 * EXTERNAL over ldapi:// when bind_dn is NULL and sasl_external is set.
 *
 * The password is taken from memory only and is never logged or put into
 * an error message. LDAP failures become GErrors in KD_LDAP_ERROR whose
 * code is the LDAP result code and whose message includes the server's
 * diagnostic message (LDAP_OPT_DIAGNOSTIC_MESSAGE).
 */
#ifndef KOLABD_LDAP_CONN_H
#define KOLABD_LDAP_CONN_H

#include <glib.h>
#include <ldap.h>

#define KD_LDAP_ERROR (kd_ldap_error_quark())
GQuark kd_ldap_error_quark(void);

typedef struct {
    const char *uri;          /* one or more LDAP URIs, space separated */
    const char *bind_dn;      /* NULL: anonymous (or SASL EXTERNAL) */
    const char *bind_pw;      /* in memory; never logged */
    gboolean starttls;        /* ldap:// only: StartTLS, required */
    gboolean sasl_external;   /* bind with SASL EXTERNAL (ldapi://) */
    const char *tls_cacert;   /* CA file for TLS; NULL: system default */
    int network_timeout_s;    /* connect; 0 = 10 */
    int op_timeout_s;         /* bind and synchronous operations; 0 = 30 */
    int keepalive_idle_s;     /* 0 = 60 */
    int keepalive_probes;     /* 0 = 5 */
    int keepalive_interval_s; /* 0 = 10 */
    int tcp_user_timeout_ms;  /* 0 = 120000 */
} KdLdapParams;

/*
 * Fills @dst with a copy of @src whose strings @dst owns; release them with
 * kd_ldap_params_clear(), which also wipes the password.
 */
void kd_ldap_params_copy(KdLdapParams *dst, const KdLdapParams *src);
void kd_ldap_params_clear(KdLdapParams *params);

/*
 * Connects and binds. Returns a new handle (free with ldap_unbind_ext) or
 * NULL with @error set (KD_LDAP_ERROR, code = LDAP result code; the message
 * names the URI and, for bind failures, the bind DN).
 */
LDAP *kd_ldap_connect(const KdLdapParams *params, GError **error);

/*
 * Sets @error to a KD_LDAP_ERROR with code @rc: "@what: <ldap_err2string>
 * (<diagnostic message>)". @ld may be NULL. Does nothing when @error is
 * NULL.
 */
void kd_ldap_set_error(GError **error, LDAP *ld, int rc, const char *what);

/* Unbinds @ld; accepts NULL. For g_autoptr(LDAP). */
void kd_ldap_unbind(LDAP *ld);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LDAP, kd_ldap_unbind)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LDAPMessage, ldap_msgfree)

#endif /* KOLABD_LDAP_CONN_H */
