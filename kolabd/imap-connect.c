/*
 * imap-connect: opening a session: plain, imaps:// or STARTTLS connects,
 * certificate verification before anything is sent, and the greeting
 * (servername, Cyrus version). URIs are split by imap-uri.c. See imap.h.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "imap-private.h"
#include "imap.h"

/* Bytes of received data kept to report a BYE that ended the stream. */
#define RECEIVED_KEEP 4096

static void
logger(mailimap *session, int log_type, const char *str, size_t size,
       void *context)
{
    KdImap *imap = context;

    (void) session;
    if (log_type != MAILSTREAM_LOG_TYPE_DATA_RECEIVED || str == NULL) {
        return;
    }
    g_string_append_len(imap->received, str, (gssize) size);
    if (imap->received->len > RECEIVED_KEEP) {
        g_string_erase(imap->received, 0,
                       (gssize) (imap->received->len - RECEIVED_KEEP / 2));
    }
}

static void
parse_greeting(KdImap *imap)
{
    const char *text = imap->session->imap_response;
    const char *cyrus;
    gsize n;

    if (text == NULL) {
        return;
    }
    imap->greeting = g_strdup(text);
    n = strcspn(text, " ");
    /* "server ready" alone (serverinfo: off) names no server */
    if (n > 0 && !g_str_has_prefix(text, "server ready")) {
        imap->servername = g_strndup(text, n);
    }
    cyrus = strstr(text, "Cyrus IMAP ");
    if (cyrus != NULL) {
        cyrus += strlen("Cyrus IMAP ");
        n = strcspn(cyrus, " ");
        if (n > 0 && g_ascii_isdigit(cyrus[0])) {
            imap->version = g_strndup(cyrus, n);
        }
    }
}

static KdImap *
session_new(const char *label, int timeout_s)
{
    KdImap *imap = g_new0(KdImap, 1);

    kd_imap_global_init();
    imap->label = g_strdup(label);
    imap->received = g_string_new(NULL);
    imap->session = mailimap_new(0, NULL);
    mailimap_set_timeout(imap->session, timeout_s > 0 ? timeout_s : 60);
    mailimap_set_logger(imap->session, logger, imap);
    return imap;
}

static KdImap *
finish_connect(KdImap *imap, int r, GError **error)
{
    int fd;
    int one = 1;

    if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
        r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
        g_autofree char *bye = kd_imap_find_bye(imap);

        if (r == MAILIMAP_ERROR_SSL) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                        "%s: TLS handshake failed (not a TLS port, or no "
                        "common protocol version or cipher)",
                        imap->label);
            kd_imap_free(imap);
            return NULL;
        }
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TRANSIENT,
                    "cannot connect to IMAP server %s: %s", imap->label,
                    bye ? bye
                    : r == MAILIMAP_ERROR_CONNECTION_REFUSED
                        ? "connection refused or host unreachable"
                    : r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION
                        ? "server refused the connection"
                        : "no greeting (timeout or connection closed)");
        imap->alive = TRUE;
        kd_imap_mark_dead(imap);
        kd_imap_free(imap);
        return NULL;
    }
    imap->alive = TRUE;
    fd = mailstream_low_get_fd(mailstream_get_low(imap->session->imap_stream));
    if (fd >= 0) {
        (void) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    parse_greeting(imap);
    return imap;
}

/* libetpan's TLS setup hook: SNI for DNS names (@data), none for IPs. */
static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
    if (data != NULL) {
        (void) mailstream_ssl_set_server_name(ctx, data);
    }
}

/* Frees a session that must not send anything more (no LOGOUT). */
static KdImap *
drop(KdImap *imap)
{
    kd_imap_mark_dead(imap);
    kd_imap_free(imap);
    return NULL;
}

/* Verifies the peer of @imap's TLS stream; drops @imap on failure. */
static KdImap *
verify_peer(KdImap *imap, KdImapTls *tls, const char *host, GError **error)
{
    carray *chain;
    gboolean ok;

    /* libetpan (GnuTLS): the peer's certificates as sent, DER, leaf first */
    chain = mailstream_get_certificate_chain(imap->session->imap_stream);
    ok = kd_imap_tls_verify(tls, imap->label, host, chain, error);

    if (chain != NULL) {
        mailstream_certificate_chain_free(chain);
    }
    if (!ok) {
        return drop(imap);
    }
    imap->tls = TRUE;
    return imap;
}

KdImap *
kd_imap_connect_tls(const char *uri, KdImapTls *tls, int timeout_s,
                    GError **error)
{
    g_autofree char *host = NULL;
    g_autoptr(KdImapTls) own = NULL;
    guint16 port = 0;
    gboolean implicit = FALSE;
    gboolean starttls;
    char *sni;
    KdImap *imap;
    int r;

    g_return_val_if_fail(uri != NULL, NULL);
    if (!kd_imap_parse_uri(uri, &implicit, &host, &port, error)) {
        return NULL;
    }
    starttls = !implicit && tls != NULL && kd_imap_tls_wants_starttls(tls);
    if ((implicit || starttls) && tls == NULL) {
        own = kd_imap_tls_default(error);
        if (own == NULL) {
            return NULL;
        }
        tls = own;
    }
    sni = kd_imap_tls_is_ip(host) ? NULL : host;
    imap = session_new(uri, timeout_s);
    if (implicit) {
        r = mailimap_ssl_connect_with_callback(imap->session, host, port,
                                               tls_setup, sni);
    } else {
        r = mailimap_socket_connect(imap->session, host, port);
    }
    imap = finish_connect(imap, r, error);
    if (imap == NULL || !(implicit || starttls)) {
        return imap;
    }
    if (starttls) {
        r = mailimap_socket_starttls_with_callback(imap->session, tls_setup,
                                                   sni);
        if (r != MAILIMAP_NO_ERROR) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                        "%s: STARTTLS %s (starttls = true in "
                        "[cyrus-imap]); no credentials sent",
                        uri,
                        r == MAILIMAP_ERROR_STREAM
                            ? "handshake failed or connection lost"
                            : "refused by the server");
            return drop(imap);
        }
        imap->greeting_in_clear = TRUE;
    }
    return verify_peer(imap, tls, host, error);
}

KdImap *
kd_imap_connect(const char *uri, int timeout_s, GError **error)
{
    return kd_imap_connect_tls(uri, NULL, timeout_s, error);
}

gboolean
kd_imap_is_tls(const KdImap *imap)
{
    return imap->tls;
}

gboolean
kd_imap_greeting_in_clear(const KdImap *imap)
{
    return imap->greeting_in_clear;
}

KdImap *
kd_imap_connect_fd(int fd, const char *label, int timeout_s, GError **error)
{
    KdImap *imap = session_new(label, timeout_s);
    mailstream *stream;

    stream = mailstream_socket_open_timeout(fd, timeout_s > 0 ? timeout_s
                                                              : 60);
    if (stream == NULL) {
        close(fd);
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TRANSIENT,
                    "%s: cannot open stream", label);
        kd_imap_free(imap);
        return NULL;
    }
    return finish_connect(imap, mailimap_connect(imap->session, stream),
                          error);
}
