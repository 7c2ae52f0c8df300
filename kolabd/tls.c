/* tls: GnuTLS client session on a GSocket, verified; see tls.h. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "tls.h"

/* Retries of a record call interrupted by a non-fatal GnuTLS code. */
#define MAX_RETRIES 100

struct KdTlsClient {
    gnutls_session_t session;
    gnutls_certificate_credentials_t cred;
    GSocket *socket;
    GInputStream *input;
    GOutputStream *output;
    char *label;
    char *description;
    gboolean timed_out; /* the last transport error was a timeout */
    char *io_error;     /* the last transport error, or NULL */
};

/* ---- transport: GnuTLS reads and writes through the GSocket ---------- */

static void
transport_failed(KdTlsClient *c, GError *e)
{
    c->timed_out = g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    g_free(c->io_error);
    c->io_error = g_strdup(e->message);
    gnutls_transport_set_errno(c->session, c->timed_out ? ETIMEDOUT : EIO);
    g_error_free(e);
}

static ssize_t
push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
    KdTlsClient *c = ptr;
    GError *e = NULL;
    gssize n = g_socket_send(c->socket, data, len, NULL, &e);

    if (n < 0) {
        transport_failed(c, e);
        return -1;
    }
    return n;
}

static ssize_t
pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
    KdTlsClient *c = ptr;
    GError *e = NULL;
    gssize n = g_socket_receive(c->socket, data, len, NULL, &e);

    if (n < 0) {
        transport_failed(c, e);
        return -1;
    }
    return n;
}

/* 1 when readable within @ms, 0 on timeout, -1 on error. */
static int
pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    KdTlsClient *c = ptr;
    GError *e = NULL;
    gint64 us = ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (gint64)ms * 1000;

    if (g_socket_condition_timed_wait(c->socket, G_IO_IN | G_IO_HUP, us, NULL,
                                      &e)) {
        return 1;
    }
    if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
        g_error_free(e);
        return 0;
    }
    transport_failed(c, e);
    return -1;
}

/* A GIO error for GnuTLS code @r on @c. */
static void
set_io_error(KdTlsClient *c, const char *what, int r, GError **error)
{
    gboolean timeout = (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR)
                           ? c->timed_out
                           : FALSE;

    g_set_error(error, G_IO_ERROR,
                timeout ? G_IO_ERROR_TIMED_OUT : G_IO_ERROR_FAILED,
                "TLS %s on %s: %s", what, c->label,
                (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR) &&
                        c->io_error != NULL
                    ? c->io_error
                    : gnutls_strerror(r));
}

/* ---- GIO streams over the session ------------------------------------- */

G_DECLARE_FINAL_TYPE(KdTlsInputStream, kd_tls_input_stream, KD,
                     TLS_INPUT_STREAM, GInputStream)

struct _KdTlsInputStream {
    GInputStream parent_instance;
    KdTlsClient *client; /* not a reference: the client owns the stream */
};

G_DEFINE_TYPE(KdTlsInputStream, kd_tls_input_stream, G_TYPE_INPUT_STREAM)

static gssize
input_read(GInputStream *stream, void *buffer, gsize count,
           GCancellable *cancellable, GError **error)
{
    KdTlsClient *c = KD_TLS_INPUT_STREAM(stream)->client;
    ssize_t r = GNUTLS_E_AGAIN;

    (void)cancellable;
    for (int i = 0; i < MAX_RETRIES; i++) {
        r = gnutls_record_recv(c->session, buffer, count);
        if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
            break;
        }
    }
    if (r == GNUTLS_E_PREMATURE_TERMINATION) {
        return 0; /* the peer closed without close_notify: end of stream */
    }
    if (r < 0) {
        set_io_error(c, "read", (int)r, error);
        return -1;
    }
    return r;
}

static void
kd_tls_input_stream_class_init(KdTlsInputStreamClass *klass)
{
    G_INPUT_STREAM_CLASS(klass)->read_fn = input_read;
}

static void
kd_tls_input_stream_init(KdTlsInputStream *self)
{
    (void)self;
}

G_DECLARE_FINAL_TYPE(KdTlsOutputStream, kd_tls_output_stream, KD,
                     TLS_OUTPUT_STREAM, GOutputStream)

struct _KdTlsOutputStream {
    GOutputStream parent_instance;
    KdTlsClient *client; /* not a reference: the client owns the stream */
};

G_DEFINE_TYPE(KdTlsOutputStream, kd_tls_output_stream, G_TYPE_OUTPUT_STREAM)

static gssize
output_write(GOutputStream *stream, const void *buffer, gsize count,
             GCancellable *cancellable, GError **error)
{
    KdTlsClient *c = KD_TLS_OUTPUT_STREAM(stream)->client;
    ssize_t r = GNUTLS_E_AGAIN;

    (void)cancellable;
    for (int i = 0; i < MAX_RETRIES; i++) {
        r = gnutls_record_send(c->session, buffer, count);
        if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
            break;
        }
    }
    if (r < 0) {
        set_io_error(c, "write", (int)r, error);
        return -1;
    }
    return r;
}

static void
kd_tls_output_stream_class_init(KdTlsOutputStreamClass *klass)
{
    G_OUTPUT_STREAM_CLASS(klass)->write_fn = output_write;
}

static void
kd_tls_output_stream_init(KdTlsOutputStream *self)
{
    (void)self;
}

/* ---- the client ------------------------------------------------------- */

static gboolean
handshake(KdTlsClient *c, GError **error)
{
    int r = GNUTLS_E_AGAIN;

    for (int i = 0; i < MAX_RETRIES; i++) {
        r = gnutls_handshake(c->session);
        if (r >= 0 || gnutls_error_is_fatal(r)) {
            break;
        }
    }
    if (r < 0) {
        g_set_error(
            error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
            "%s: TLS handshake failed: %s; no credentials sent", c->label,
            r == GNUTLS_E_TIMEDOUT ||
                    ((r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR) &&
                     c->timed_out)
                ? "timed out"
            : (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR) &&
                    c->io_error != NULL
                ? c->io_error
                : gnutls_strerror(r));
        return FALSE;
    }
    return TRUE;
}

static gboolean
verify(KdTlsClient *c, KdImapTls *trust, const char *host, GError **error)
{
    g_autoptr(GPtrArray) der =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    unsigned n = 0;
    const gnutls_datum_t *peers = NULL;

    if (gnutls_certificate_type_get(c->session) == GNUTLS_CRT_X509) {
        peers = gnutls_certificate_get_peers(c->session, &n);
    }
    for (unsigned i = 0; peers != NULL && i < n; i++) {
        g_ptr_array_add(der, g_bytes_new(peers[i].data, peers[i].size));
    }
    return kd_imap_tls_verify_chain(trust, c->label, host, der, error);
}

KdTlsClient *
kd_tls_client_new(GSocket *socket, KdImapTls *trust, const char *host,
                  const char *label, GError **error)
{
    g_autoptr(KdTlsClient) c = NULL;
    g_autoptr(KdImapTls) own = NULL;
    guint timeout_s;
    char *desc;

    g_return_val_if_fail(G_IS_SOCKET(socket) && host != NULL && label != NULL,
                         NULL);
    if (trust == NULL) {
        own = kd_imap_tls_new(NULL, FALSE, error);
        if (own == NULL) {
            return NULL;
        }
        trust = own;
    }
    c = g_new0(KdTlsClient, 1);
    c->socket = g_object_ref(socket);
    c->label = g_strdup(label);
    if (gnutls_certificate_allocate_credentials(&c->cred) < 0) {
        c->cred = NULL;
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                    "%s: TLS: out of memory", label);
        return NULL;
    }
    if (gnutls_init(&c->session, GNUTLS_CLIENT) < 0) {
        c->session = NULL;
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                    "%s: TLS: cannot create a session", label);
        return NULL;
    }
    (void)gnutls_set_default_priority(c->session);
    (void)gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred);
    if (!g_hostname_is_ip_address(host)) {
        (void)gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, host,
                                     strlen(host));
    }
    gnutls_transport_set_ptr(c->session, c);
    gnutls_transport_set_push_function(c->session, push);
    gnutls_transport_set_pull_function(c->session, pull);
    gnutls_transport_set_pull_timeout_function(c->session, pull_timeout);
    timeout_s = g_socket_get_timeout(socket);
    gnutls_handshake_set_timeout(c->session,
                                 (timeout_s > 0 ? timeout_s : 60) * 1000);
    if (!handshake(c, error) || !verify(c, trust, host, error)) {
        return NULL;
    }
    desc = gnutls_session_get_desc(c->session);
    c->description = g_strdup(desc != NULL ? desc : "TLS");
    gnutls_free(desc);
    c->input = g_object_new(kd_tls_input_stream_get_type(), NULL);
    KD_TLS_INPUT_STREAM(c->input)->client = c;
    c->output = g_object_new(kd_tls_output_stream_get_type(), NULL);
    KD_TLS_OUTPUT_STREAM(c->output)->client = c;
    return g_steal_pointer(&c);
}

void
kd_tls_client_free(KdTlsClient *client)
{
    if (client == NULL) {
        return;
    }
    g_clear_object(&client->input);
    g_clear_object(&client->output);
    if (client->session != NULL) {
        gnutls_deinit(client->session);
    }
    if (client->cred != NULL) {
        gnutls_certificate_free_credentials(client->cred);
    }
    g_clear_object(&client->socket);
    g_free(client->label);
    g_free(client->description);
    g_free(client->io_error);
    g_free(client);
}

GInputStream *
kd_tls_client_get_input_stream(KdTlsClient *client)
{
    return client->input;
}

GOutputStream *
kd_tls_client_get_output_stream(KdTlsClient *client)
{
    return client->output;
}

const char *
kd_tls_client_get_description(const KdTlsClient *client)
{
    return client->description;
}
