/*
 * tls: a verified GnuTLS client session on an already connected GSocket,
 * for kolabd's own line protocols to Cyrus (the mupdate client's
 * STARTTLS). IMAP sessions get TLS from libetpan instead (imap.h).
 *
 * kd_tls_client_new() does the handshake on the socket (sending SNI for a
 * DNS name) and verifies the server's chain and name with
 * kd_imap_tls_verify_chain(), the same check as for IMAP, before it
 * returns; so a caller that only writes through the returned streams
 * never sends anything, credentials included, to an unverified peer.
 * Reads and writes then go through GIO streams that encrypt with the
 * session; every I/O wait is bounded by the socket's GSocket:timeout.
 *
 * Errors use KD_IMAP_ERROR_TLS (imap.h): a failed handshake or a rejected
 * certificate; the message names the label and the reason. A client is
 * used by one thread at a time.
 */
#ifndef KOLABD_TLS_H
#define KOLABD_TLS_H

#include <gio/gio.h>

#include "imap.h"

typedef struct KdTlsClient KdTlsClient;

/*
 * Starts TLS as a client on @socket (connected, nothing pending to read
 * in plain text) and verifies the server for @host (DNS name or IP
 * literal) against @trust (NULL: the system trust store). @label names
 * the connection in messages ("mupdate://host:port"). The client keeps a
 * reference to @socket but does not close it. Errors: KD_IMAP_ERROR_TLS
 * (handshake failed or timed out, certificate rejected), CONFIG (@trust
 * NULL and no system trust store).
 */
KdTlsClient *kd_tls_client_new(GSocket *socket, KdImapTls *trust,
                               const char *host, const char *label,
                               GError **error);

/* Frees the session (no close_notify is sent); accepts NULL. Free the
 * streams' users (e.g. a GDataInputStream around the input) first. */
void kd_tls_client_free(KdTlsClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdTlsClient, kd_tls_client_free)

/* The decrypted input and the encrypting output; owned by @client. Read
 * and write errors are G_IO_ERROR_FAILED or G_IO_ERROR_TIMED_OUT. */
GInputStream *kd_tls_client_get_input_stream(KdTlsClient *client);
GOutputStream *kd_tls_client_get_output_stream(KdTlsClient *client);

/* The negotiated protocol and cipher ("TLS1.3/AES-256-GCM"), owned by
 * @client; for logs. */
const char *kd_tls_client_get_description(const KdTlsClient *client);

#endif /* KOLABD_TLS_H */
