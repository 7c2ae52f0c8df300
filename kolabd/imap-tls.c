/*
 * imap-tls: trust anchors and verification of a server's certificate
 * chain with GnuTLS, since libetpan's GnuTLS build verifies nothing. See
 * KdImapTls in imap.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "imap-private.h"
#include "imap.h"

/* Certificates of a chain looked at, at most (a server sends 1 to 4). */
#define CHAIN_MAX 16

struct KdImapTls {
    gatomicrefcount ref;
    char *ca_file; /* NULL: system trust */
    gboolean starttls;
    gnutls_x509_trust_list_t trust;
    GMutex lock; /* around verification: the list is not documented as
                  * safe for concurrent readers */
};

KdImapTls *
kd_imap_tls_new(const char *ca_file, gboolean starttls, GError **error)
{
    g_autoptr(KdImapTls) tls = g_new0(KdImapTls, 1);
    int n;

    g_atomic_ref_count_init(&tls->ref);
    g_mutex_init(&tls->lock);
    tls->ca_file = g_strdup(ca_file);
    tls->starttls = starttls;
    if (gnutls_x509_trust_list_init(&tls->trust, 0) < 0) {
        tls->trust = NULL;
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                    "TLS: cannot create a trust list");
        return NULL;
    }
    if (ca_file != NULL) {
        if (!g_file_test(ca_file, G_FILE_TEST_IS_REGULAR)) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                        "TLS CA file %s: no such file", ca_file);
            return NULL;
        }
        n = gnutls_x509_trust_list_add_trust_file(tls->trust, ca_file, NULL,
                                                  GNUTLS_X509_FMT_PEM, 0, 0);
        if (n <= 0) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                        "TLS CA file %s: %s", ca_file,
                        n < 0 ? gnutls_strerror(n)
                              : "no PEM certificate in it");
            return NULL;
        }
    } else {
        n = gnutls_x509_trust_list_add_system_trust(tls->trust, 0, 0);
        if (n <= 0) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                        "TLS: cannot load the system trust store (%s); "
                        "set [cyrus-imap] tls_ca_file",
                        n < 0 ? gnutls_strerror(n) : "no certificates");
            return NULL;
        }
    }
    return g_steal_pointer(&tls);
}

KdImapTls *
kd_imap_tls_ref(KdImapTls *tls)
{
    g_atomic_ref_count_inc(&tls->ref);
    return tls;
}

void
kd_imap_tls_unref(KdImapTls *tls)
{
    if (tls == NULL || !g_atomic_ref_count_dec(&tls->ref)) {
        return;
    }
    if (tls->trust != NULL) {
        gnutls_x509_trust_list_deinit(tls->trust, 1);
    }
    g_mutex_clear(&tls->lock);
    g_free(tls->ca_file);
    g_free(tls);
}

const char *
kd_imap_tls_get_ca_file(const KdImapTls *tls)
{
    return tls->ca_file;
}

gboolean
kd_imap_tls_wants_starttls(const KdImapTls *tls)
{
    return tls->starttls;
}

/* The process-wide system-trust settings behind a NULL KdImapTls. */
KdImapTls *
kd_imap_tls_default(GError **error)
{
    static GMutex lock;
    static KdImapTls *def;
    KdImapTls *out = NULL;

    g_mutex_lock(&lock);
    if (def == NULL) {
        /* on failure, try again next time: the store may appear */
        def = kd_imap_tls_new(NULL, FALSE, error);
    }
    if (def != NULL) {
        out = kd_imap_tls_ref(def);
    }
    g_mutex_unlock(&lock);
    return out;
}

gboolean
kd_imap_tls_is_ip(const char *host)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, host, buf) == 1 ||
           inet_pton(AF_INET6, host, buf) == 1;
}

static void
append_time(GString *out, const char *what, time_t t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64)t);
    g_autofree char *s =
        dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("?");

    g_string_append_printf(out, "%s %s", what, s);
}

/* "DNS:a, IP:b" from the subject alternative names, or the subject DN. */
static char *
describe_names(gnutls_x509_crt_t crt)
{
    GString *out = g_string_new(NULL);

    for (unsigned i = 0; i < 32; i++) {
        char buf[256];
        size_t size = sizeof buf - 1;
        int type =
            gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &size, NULL);

        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (type == GNUTLS_SAN_DNSNAME) {
            buf[size] = '\0';
            g_string_append_printf(out, "%sDNS:%s", out->len ? ", " : "", buf);
        } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
            char ip[INET6_ADDRSTRLEN];

            if (inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, ip, sizeof ip) !=
                NULL) {
                g_string_append_printf(out, "%sIP:%s", out->len ? ", " : "",
                                       ip);
            }
        }
    }
    if (out->len == 0) {
        gnutls_datum_t dn = {NULL, 0};

        if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
            g_string_append_printf(out, "subject %s", (char *)dn.data);
            gnutls_free(dn.data);
        } else {
            g_string_append(out, "no names");
        }
    }
    return g_string_free(out, FALSE);
}

/* The reasons of a GnuTLS verification status, in words. */
static void
describe_status(GString *out, unsigned status, gnutls_x509_crt_t leaf,
                const KdImapTls *tls)
{
    const char *sep = "";

    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
        gnutls_datum_t dn = {NULL, 0};

        g_string_append_printf(out, "%sunknown issuer", sep);
        if (gnutls_x509_crt_get_issuer_dn3(leaf, &dn, 0) >= 0) {
            g_string_append_printf(out, " %s", (char *)dn.data);
            gnutls_free(dn.data);
        }
        g_string_append_printf(out, " (not trusted by %s%s)",
                               tls->ca_file ? "CA file " : "",
                               tls->ca_file ? tls->ca_file
                                            : "the system trust store; set "
                                              "[cyrus-imap] tls_ca_file");
        sep = "; ";
    }
    if (status & GNUTLS_CERT_EXPIRED) {
        g_string_append_printf(out, "%scertificate expired", sep);
        if (gnutls_x509_crt_get_expiration_time(leaf) < time(NULL)) {
            append_time(out, " on", gnutls_x509_crt_get_expiration_time(leaf));
        }
        sep = "; ";
    }
    if (status & GNUTLS_CERT_NOT_ACTIVATED) {
        g_string_append(out, sep);
        append_time(out, "certificate not valid before",
                    gnutls_x509_crt_get_activation_time(leaf));
        sep = "; ";
    }
    if (status & GNUTLS_CERT_REVOKED) {
        g_string_append_printf(out, "%scertificate revoked", sep);
        sep = "; ";
    }
    if (status & GNUTLS_CERT_SIGNER_NOT_CA) {
        g_string_append_printf(out, "%sissuer is not a CA", sep);
        sep = "; ";
    }
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM) {
        g_string_append_printf(out, "%sinsecure signature algorithm", sep);
        sep = "; ";
    }
    if (status & GNUTLS_CERT_SIGNATURE_FAILURE) {
        g_string_append_printf(out, "%sbad signature", sep);
        sep = "; ";
    }
    if (status & GNUTLS_CERT_PURPOSE_MISMATCH) {
        g_string_append_printf(out, "%snot a TLS server certificate", sep);
        sep = "; ";
    }
    if (*sep == '\0') {
        gnutls_datum_t text = {NULL, 0};

        if (gnutls_certificate_verification_status_print(
                status, GNUTLS_CRT_X509, &text, 0) >= 0) {
            g_string_append(out, (char *)text.data);
            gnutls_free(text.data);
        } else {
            g_string_append_printf(out, "status 0x%x", status);
        }
    }
}

/* Verifies @der (@n_der certificates, the peer's first); see imap.h. */
static gboolean
verify_der(KdImapTls *tls, const char *label, const char *host,
           const gnutls_datum_t *der, unsigned n_der, GError **error)
{
    gnutls_x509_crt_t crts[CHAIN_MAX];
    unsigned n = 0;
    unsigned status = 0;
    gboolean name_ok;
    gboolean ok = FALSE;
    int r = 0;
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER,
                                     0};
    g_autoptr(GString) why = g_string_new(NULL);

    if (n_der == 0) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                    "%s: server certificate rejected: the server sent no "
                    "certificate; no credentials sent",
                    label);
        return FALSE;
    }
    for (unsigned i = 0; i < n_der && n < CHAIN_MAX; i++) {
        if (gnutls_x509_crt_init(&crts[n]) < 0) {
            break;
        }
        r = gnutls_x509_crt_import(crts[n], &der[i], GNUTLS_X509_FMT_DER);
        if (r < 0) {
            gnutls_x509_crt_deinit(crts[n]);
            break;
        }
        n++;
    }
    if (n == 0) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                    "%s: server certificate rejected: unreadable "
                    "certificate (%s); no credentials sent",
                    label, gnutls_strerror(r));
        return FALSE;
    }
    g_mutex_lock(&tls->lock);
    r = gnutls_x509_trust_list_verify_crt2(tls->trust, crts, n, &purpose, 1, 0,
                                           &status, NULL);
    g_mutex_unlock(&tls->lock);
    /* IP literals are matched against IP addresses in the certificate */
    name_ok = gnutls_x509_crt_check_hostname2(crts[0], host, 0) != 0;
    if (r < 0) {
        g_string_append_printf(why, "verification failed: %s",
                               gnutls_strerror(r));
    } else if (status != 0) {
        describe_status(why, status, crts[0], tls);
    }
    if (!name_ok) {
        g_autofree char *names = describe_names(crts[0]);

        g_string_append_printf(why,
                               "%sname mismatch: %s is not in the "
                               "certificate (%s)",
                               why->len ? "; " : "", host, names);
    }
    if (why->len == 0) {
        ok = TRUE;
    } else {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                    "%s: server certificate rejected: %s; no credentials "
                    "sent",
                    label, why->str);
    }
    for (unsigned i = 0; i < n; i++) {
        gnutls_x509_crt_deinit(crts[i]);
    }
    return ok;
}

gboolean
kd_imap_tls_verify(KdImapTls *tls, const char *label, const char *host,
                   carray *chain, GError **error)
{
    gnutls_datum_t der[CHAIN_MAX];
    unsigned n = 0;

    for (unsigned i = 0; chain != NULL && i < carray_count(chain) &&
                         n < CHAIN_MAX;
         i++) {
        MMAPString *s = carray_get(chain, i);

        der[n].data = (unsigned char *)s->str;
        der[n].size = (unsigned)s->len;
        n++;
    }
    return verify_der(tls, label, host, der, n, error);
}

gboolean
kd_imap_tls_verify_chain(KdImapTls *tls, const char *label, const char *host,
                         GPtrArray *der_certs, GError **error)
{
    gnutls_datum_t der[CHAIN_MAX];
    unsigned n = 0;

    g_return_val_if_fail(tls != NULL && label != NULL && host != NULL,
                         FALSE);
    for (guint i = 0; der_certs != NULL && i < der_certs->len &&
                      n < CHAIN_MAX;
         i++) {
        gsize size = 0;
        const void *data = g_bytes_get_data(der_certs->pdata[i], &size);

        der[n].data = (unsigned char *)data;
        der[n].size = (unsigned)size;
        n++;
    }
    return verify_der(tls, label, host, der, n, error);
}
