/*
 * murder: the topology of the Cyrus servers kolabd manages, and the answer
 * to "where does mailbox X live?".
 *
 * The truth about locations comes from the murder, never from a guess. In
 * order of preference a KdMurder asks:
 *   1. the mupdate master (FIND / LIST), when one is configured;
 *   2. else the frontend (GETMETADATA .../cyrus-imapd/server, PROXY_ONLY:
 *      answered from the frontend's mupdate copy, which lags up to ~5 s for
 *      mailboxes created on a backend directly);
 *   3. else the backends themselves (LIST on each; with one backend this is
 *      the single-server, no-murder mode).
 * Answers are servernames ("127.0.0.1:38143"), the value kolabd writes to
 * mailHost. Each backend's servername is configured or learned from its
 * greeting (kd_murder_probe()).
 *
 * A KdMurder caches its connections (mupdate, frontend, backend probes)
 * and reconnects after a connection died. All calls are serialised by an
 * internal mutex, so one KdMurder may be shared by threads; the per-backend
 * worker sessions are separate (kd_murder_connect_backend()).
 * Errors use KD_IMAP_ERROR (imap.h).
 */
#ifndef KOLABD_MURDER_H
#define KOLABD_MURDER_H

#include <glib.h>

#include "imap.h"

/* One backend as configured. */
typedef struct {
    const char *name;       /* config name ("backend1"), required */
    const char *uri;        /* "imap://host:port", required */
    const char *servername; /* NULL: learn from the greeting */
} KdMurderBackendConfig;

typedef struct {
    const KdMurderBackendConfig *backends; /* at least one */
    gsize n_backends;
    const char *frontend_uri; /* NULL: no frontend */
    const char *mupdate_host; /* NULL: no mupdate master */
    guint16 mupdate_port;     /* 0 = 3905 */
    const char *mupdate_user; /* NULL = admin_user */
    const char *mupdate_password; /* NULL = admin_password */
    const char *admin_user;       /* required */
    const char *admin_password;   /* required */
    int timeout_s;                /* per I/O wait; 0 = 60 */
    KdImapTls *tls;               /* certificate checks of every IMAP
                                   * connection; NULL: system trust
                                   * (referenced by the murder) */
    gboolean mupdate_starttls;    /* upgrade the mupdate connection with
                                   * STARTTLS, verified against tls */
} KdMurderConfig;

typedef enum {
    KD_MURDER_MODE_MUPDATE,  /* ask the mupdate master */
    KD_MURDER_MODE_FRONTEND, /* ask the frontend */
    KD_MURDER_MODE_BACKENDS  /* ask every backend (one: no murder) */
} KdMurderMode;

typedef struct KdMurder KdMurder;

/* A backend as known at run time; owned by the KdMurder. */
typedef struct {
    char *name;
    char *uri;
    char *servername; /* configured or learned; NULL until known */
    gboolean up;      /* result of the last probe or connection */
    char *last_error; /* why it is down, or NULL */
} KdMurderBackend;

/*
 * Copies @cfg (strings included). Connects to nothing yet. Errors:
 * KD_IMAP_ERROR_CONFIG for a missing backend, URI or credentials, or two
 * backends with the same name or servername.
 */
KdMurder *kd_murder_new(const KdMurderConfig *cfg, GError **error);

/* Closes cached connections and frees; accepts NULL. */
void kd_murder_free(KdMurder *murder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdMurder, kd_murder_free)

KdMurderMode kd_murder_get_mode(const KdMurder *murder);

gsize kd_murder_get_n_backends(const KdMurder *murder);

/* The @index-th backend in configuration order. */
const KdMurderBackend *kd_murder_get_backend(const KdMurder *murder,
                                             gsize index);

/* The backend whose servername is @servername, or NULL. */
const KdMurderBackend *kd_murder_backend_by_servername(KdMurder *murder,
                                                       const char *servername);

/* The backend configured as @name, or NULL. */
const KdMurderBackend *kd_murder_backend_by_name(KdMurder *murder,
                                                 const char *name);

/*
 * Connects to every backend (greeting only, no login), learns missing
 * servernames and updates each backend's up/down state. A configured
 * servername that differs from the greeting is reported as a warning in
 * last_error but the backend stays up. Returns the number of backends up.
 */
gsize kd_murder_probe(KdMurder *murder);

/*
 * Connects to the frontend (greeting only, no login; TLS verified like
 * every IMAP connection). TRUE when it greets or when there is no
 * frontend; @uri_out (may be NULL) gets the frontend URI or NULL (owned
 * by @murder). Errors: those of kd_imap_connect_tls().
 */
gboolean kd_murder_probe_frontend(KdMurder *murder, const char **uri_out,
                                  GError **error);

/*
 * A new admin session (LOGIN as admin) to @backend, for a worker. Learns
 * the servername if still unknown, and marks the backend up or down.
 * Errors: those of kd_imap_connect() and kd_imap_login().
 */
KdImap *kd_murder_connect_backend(KdMurder *murder,
                                  const KdMurderBackend *backend,
                                  GError **error);

/*
 * Where does @mailbox (admin name, "user/john@example.org") live?
 * @servername_out gets a new string. Errors: NONEXISTENT when the murder
 * does not know the mailbox, TRANSIENT/CLOSED when the source of truth is
 * unreachable (never guessed around), INVALID_NAME.
 */
gboolean kd_murder_where(KdMurder *murder, const char *mailbox,
                         char **servername_out, GError **error);

/*
 * All mailboxes and their servernames: @mailbox_to_server_out gets a new
 * GHashTable (admin name -> servername, both owned by the table). One
 * mupdate LIST, or one frontend GETMETADATA "*", or LIST "*" on every
 * backend (any backend down is an error: a partial map would look like
 * deletions). Includes DELETED/... mailboxes of delayed delete.
 */
gboolean kd_murder_list_all(KdMurder *murder,
                            GHashTable **mailbox_to_server_out,
                            GError **error);

#endif /* KOLABD_MURDER_H */
