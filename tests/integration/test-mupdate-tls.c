/*
 * Integration tests for STARTTLS on the mupdate client (kolabd/mupdate.c,
 * kolabd/tls.c) against the real Cyrus 3.6 mupdate master of
 * `kd-sandbox up --tls` (a throwaway CA; the master has tls_server_cert),
 * plus two scripted loopback peers for what a real master never does: no
 * STARTTLS offer, and plain-text bytes injected after the OK.
 *
 * Proof from the master's side comes from its log: a verified connection
 * logs "login: ... <user> PLAIN+TLS User logged in"; a rejected one logs
 * the TLS handshake ("starttls: ...") and nothing with its user name. The
 * rejected connections use the Cyrus admin, an identity the master would
 * accept but that no Cyrus node uses towards it (the 3.6.1 master lets
 * only admins authenticate).
 *
 * Cyrus 3.6.1 bug: once a STARTTLS happened, every connection the
 * threaded master closes runs DH_free() on the same DH parameters
 * (tls_shutdown_serverengine), so its process may die with SIGSEGV after
 * the second close; the Cyrus master restarts it at once. Hence the
 * bounded retries on TRANSIENT below: they cover that restart window and
 * nothing else (a TLS error is never retried).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "imap.h"
#include "mupdate.h"
#include "murder.h"
#include "sandbox/sandbox.h"

typedef struct {
    KdSandbox *sb;
    char *password;         /* cyrus-admin */
    char *mupdate_password; /* the master accepts any identity */
    guint16 port;
    char *uri; /* mupdate://127.0.0.1:port */
    const char *ca_file;
    char *syslog; /* the master's */
    KdImapTls *trust;
} Fixture;

static int
setup(void **state)
{
    g_autoptr(GError) error = NULL;
    KdSandboxOptions opts = {0};
    Fixture *f = g_new0(Fixture, 1);

    kd_imap_global_init();
    opts.tls = TRUE;
    f->sb = kd_sandbox_start(&opts, &error);
    if (f->sb == NULL) {
        fprintf(stderr, "cannot start the sandbox: %s\n", error->message);
        g_free(f);
        return -1; /* the group fails, never skips */
    }
    f->password = kd_sandbox_read_secret(f->sb, "CYRUS_ADMIN_PW_FILE", &error);
    f->mupdate_password =
        kd_sandbox_read_secret(f->sb, "MUPDATE_PW_FILE", &error);
    if (f->password == NULL || f->mupdate_password == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return -1;
    }
    g_strchomp(f->password);
    g_strchomp(f->mupdate_password);
    f->port = (guint16)kd_sandbox_get_int(f->sb, "MUPDATE_PORT");
    f->uri = g_strdup_printf("mupdate://127.0.0.1:%u", f->port);
    f->ca_file = kd_sandbox_need(f->sb, "TLS_CA_FILE");
    f->syslog = g_build_filename(kd_sandbox_dir(f->sb), "cyrus", "mupdate",
                                 "log", "syslog", NULL);
    f->trust = kd_imap_tls_new(f->ca_file, FALSE, &error);
    if (f->trust == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;

    kd_sandbox_free(f->sb);
    kd_imap_tls_unref(f->trust);
    g_free(f->password);
    g_free(f->mupdate_password);
    g_free(f->uri);
    g_free(f->syslog);
    g_free(f);
    return 0;
}

/* Lines of the master's log containing every one of @a and @b (NULL). */
static int
count_log(Fixture *f, const char *a, const char *b)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    int n = 0;

    if (!g_file_get_contents(f->syslog, &text, NULL, NULL)) {
        return 0;
    }
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i] != NULL; i++) {
        if (strstr(lines[i], a) != NULL &&
            (b == NULL || strstr(lines[i], b) != NULL)) {
            n++;
        }
    }
    return n;
}

/* Waits (at most 5 s) until count_log(@a, @b) reaches @n. */
static gboolean
wait_log(Fixture *f, const char *a, const char *b, int n)
{
    for (int i = 0; i < 500; i++) {
        if (count_log(f, a, b) >= n) {
            return TRUE;
        }
        g_usleep(10 * 1000);
    }
    return FALSE;
}

static gboolean
count_entry(const char *name, const char *server, const char *partition,
            const char *acl, gpointer data)
{
    (void)server;
    (void)partition;
    (void)acl;
    if (strstr(name, "mtls.example.org") != NULL) {
        (*(int *)data)++;
    }
    return TRUE;
}

/* A mailbox on backend2, created through the frontend (plain IMAP);
 * retried while the mupdate master restarts (see above). */
static void
create_mailbox(Fixture *f, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *fe = g_strdup_printf("imap://127.0.0.1:%d",
                                          kd_sandbox_get_int(f->sb, "FE_PORT"));
    g_autofree char *loc =
        g_strdup_printf("%s!default", kd_sandbox_need(f->sb, "BE2_SERVERNAME"));

    for (int i = 0; i < 50; i++) {
        g_autoptr(KdImap) imap = NULL;

        g_clear_error(&error);
        imap = kd_imap_connect(fe, 10, &error);
        if (imap != NULL &&
            kd_imap_login(imap, kd_sandbox_need(f->sb, "CYRUS_ADMIN"),
                          f->password, &error) &&
            kd_imap_create(imap, name, loc, &error)) {
            return;
        }
        if (!kd_imap_error_is_transient(error)) {
            break;
        }
        g_usleep(100 * 1000);
    }
    fail_msg("create %s: %s", name, error->message);
}

/* kd_mupdate_connect_tls() with STARTTLS, retried (5 s at most) only
 * while the master is not accepting connections. */
static KdMupdate *
connect_starttls(Fixture *f, KdImapTls *trust, const char *user,
                 const char *password, GError **error)
{
    for (int i = 0; i < 50; i++) {
        KdMupdate *mu = kd_mupdate_connect_tls(
            "127.0.0.1", f->port, TRUE, trust, user, password, 10, error);

        if (mu != NULL || (*error)->code != KD_IMAP_ERROR_TRANSIENT) {
            return mu;
        }
        g_clear_error(error);
        g_usleep(100 * 1000);
    }
    return kd_mupdate_connect_tls("127.0.0.1", f->port, TRUE, trust, user,
                                  password, 10, error);
}

static void
test_mupdate_tls_starttls_with_ca(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdMupdate) mu = NULL;
    g_autofree char *server = NULL;
    int n = 0;
    int handshakes = count_log(f, "starttls: TLS", NULL);
    int logins = count_log(f, "PLAIN+TLS User logged in", NULL);

    create_mailbox(f, "user/anna@mtls.example.org");
    mu = connect_starttls(f, f->trust, kd_sandbox_need(f->sb, "MUPDATE_USER"),
                          f->mupdate_password, &error);
    if (mu == NULL) {
        fail_msg("%s", error->message);
    }
    assert_true(kd_mupdate_is_tls(mu));
    assert_string_equal(kd_mupdate_get_servername(mu), "mupdate");
    if (!kd_mupdate_list(mu, NULL, count_entry, &n, &error)) {
        fail_msg("LIST over TLS: %s", error->message);
    }
    assert_int_equal(n, 1);
    if (!kd_mupdate_find(mu, "mtls.example.org!user.anna", &server, NULL,
                         &error)) {
        fail_msg("FIND over TLS: %s", error->message);
    }
    assert_string_equal(server, kd_sandbox_need(f->sb, "BE2_SERVERNAME"));
    /* the master saw TLS, then the login over it */
    assert_true(wait_log(f, "starttls: TLS", NULL, handshakes + 1));
    assert_true(wait_log(f, kd_sandbox_need(f->sb, "MUPDATE_USER"),
                         "PLAIN+TLS User logged in", logins + 1));
}

static void
test_mupdate_tls_system_store_unknown_issuer(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    KdMupdate *mu;
    int handshakes = count_log(f, "starttls: TLS", NULL);

    mu = connect_starttls(f, NULL, kd_sandbox_need(f->sb, "CYRUS_ADMIN"),
                          f->password, &error);
    assert_null(mu);
    if (error->code != KD_IMAP_ERROR_TLS ||
        strstr(error->message, f->uri) == NULL ||
        strstr(error->message, "unknown issuer") == NULL ||
        strstr(error->message, "no credentials sent") == NULL) {
        fail_msg("expected a TLS error naming %s and the unknown issuer, "
                 "got %d: %s",
                 f->uri, error->code, error->message);
    }
    /* retried like a dead master */
    assert_true(kd_imap_error_is_transient(error));
    /* the handshake happened, then nothing: no login, no badlogin */
    assert_true(wait_log(f, "starttls: TLS", NULL, handshakes + 1));
    g_usleep(200 * 1000);
    assert_int_equal(count_log(f, kd_sandbox_need(f->sb, "CYRUS_ADMIN"), NULL),
                     0);
    assert_int_equal(count_log(f, "badlogin", NULL), 0);
}

static void
test_mupdate_tls_murder(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autofree char *be1 = g_strdup_printf(
        "imap://127.0.0.1:%d", kd_sandbox_get_int(f->sb, "BE1_PORT"));
    g_autofree char *be2 = g_strdup_printf(
        "imap://127.0.0.1:%d", kd_sandbox_get_int(f->sb, "BE2_PORT"));
    KdMurderBackendConfig backends[2] = {{"backend1", be1, NULL},
                                         {"backend2", be2, NULL}};
    KdMurderConfig cfg = {0};
    g_autoptr(KdMurder) murder = NULL;
    g_autoptr(KdMurder) untrusted = NULL;
    g_autofree char *where = NULL;
    g_autofree char *other = NULL;
    int logins = count_log(f, "PLAIN+TLS User logged in", NULL);

    create_mailbox(f, "user/bert@mtls.example.org");
    cfg.backends = backends;
    cfg.n_backends = 2;
    cfg.mupdate_host = "127.0.0.1";
    cfg.mupdate_port = f->port;
    cfg.mupdate_user = kd_sandbox_need(f->sb, "MUPDATE_USER");
    cfg.mupdate_password = f->mupdate_password;
    cfg.admin_user = kd_sandbox_need(f->sb, "CYRUS_ADMIN");
    cfg.admin_password = f->password;
    cfg.timeout_s = 10;
    cfg.tls = f->trust;
    cfg.mupdate_starttls = TRUE;
    murder = kd_murder_new(&cfg, &error);
    assert_non_null(murder);
    assert_int_equal(kd_murder_get_mode(murder), KD_MURDER_MODE_MUPDATE);
    for (int i = 0; i < 50; i++) {
        g_clear_error(&error);
        if (kd_murder_where(murder, "user/bert@mtls.example.org", &where,
                            &error) ||
            error->code != KD_IMAP_ERROR_TRANSIENT) {
            break;
        }
        g_usleep(100 * 1000); /* the master restarts, see above */
    }
    if (where == NULL) {
        fail_msg("%s", error->message);
    }
    assert_string_equal(where, kd_sandbox_need(f->sb, "BE2_SERVERNAME"));
    assert_true(wait_log(f, "PLAIN+TLS User logged in", NULL, logins + 1));
    /* without the CA: a transient TLS error, nothing guessed */
    cfg.tls = NULL;
    cfg.mupdate_user = kd_sandbox_need(f->sb, "CYRUS_ADMIN");
    untrusted = kd_murder_new(&cfg, &error);
    assert_non_null(untrusted);
    for (int i = 0; i < 50; i++) {
        g_clear_error(&error);
        assert_false(kd_murder_where(untrusted, "user/bert@mtls.example.org",
                                     &other, &error));
        if (error->code != KD_IMAP_ERROR_TRANSIENT) {
            break;
        }
        g_usleep(100 * 1000);
    }
    assert_int_equal(error->code, KD_IMAP_ERROR_TLS);
    assert_non_null(strstr(error->message, "unknown issuer"));
    assert_true(kd_imap_error_is_transient(error));
    g_usleep(200 * 1000);
    assert_int_equal(count_log(f, kd_sandbox_need(f->sb, "CYRUS_ADMIN"), NULL),
                     0);
}

/* ---- scripted peers ---------------------------------------------------- */

typedef struct {
    GSocket *listener;
    const char *script; /* sent after the banner's first read, or NULL */
    const char *banner;
    GString *received;
} Peer;

/* Accepts one client, sends the banner, reads for up to 2 s, sends the
 * script after the first bytes, and keeps what it received. */
static gpointer
peer_main(gpointer data)
{
    Peer *p = data;
    g_autoptr(GSocket) conn = NULL;
    gboolean sent = FALSE;

    g_socket_set_timeout(p->listener, 5);
    conn = g_socket_accept(p->listener, NULL, NULL);
    if (conn == NULL) {
        return NULL;
    }
    g_socket_set_timeout(conn, 2);
    (void)g_socket_send(conn, p->banner, strlen(p->banner), NULL, NULL);
    for (int i = 0; i < 50; i++) {
        char buf[512];
        gssize n = g_socket_receive(conn, buf, sizeof buf, NULL, NULL);

        if (n <= 0) {
            break;
        }
        g_string_append_len(p->received, buf, n);
        if (!sent && p->script != NULL) {
            (void)g_socket_send(conn, p->script, strlen(p->script), NULL, NULL);
            sent = TRUE;
        }
    }
    return NULL;
}

/* Runs kd_mupdate_connect_tls() against a scripted peer; returns what the
 * peer received and sets @error. */
static char *
run_peer(const char *banner, const char *script, GError **error)
{
    g_autoptr(GInetAddress) lo =
        g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_autoptr(KdMupdate) mu = NULL;
    Peer p = {0};
    GThread *thread;
    guint16 port;

    p.listener = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_TCP, NULL);
    assert_non_null(p.listener);
    assert_true(g_socket_bind(p.listener, any, TRUE, NULL));
    assert_true(g_socket_listen(p.listener, NULL));
    bound = g_socket_get_local_address(p.listener, NULL);
    port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    p.banner = banner;
    p.script = script;
    p.received = g_string_new(NULL);
    thread = g_thread_new("peer", peer_main, &p);
    mu = kd_mupdate_connect_tls("127.0.0.1", port, TRUE, NULL, "kd-peer",
                                "secret", 5, error);
    assert_null(mu);
    g_thread_join(thread);
    g_object_unref(p.listener);
    return g_string_free(p.received, FALSE);
}

#define PEER_BANNER_END                                                        \
    "* PARTIAL-UPDATE\r\n* OK MUPDATE \"peer\" \"Cyrus IMAP\" \"3.6.1\" "      \
    "\"(master)\"\r\n"

static void
test_mupdate_tls_not_offered(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;

    (void)state;
    got = run_peer("* AUTH \"PLAIN\"\r\n" PEER_BANNER_END, NULL, &error);
    assert_int_equal(error->code, KD_IMAP_ERROR_TLS);
    assert_non_null(strstr(error->message, "not offered"));
    assert_non_null(strstr(error->message, "no credentials sent"));
    /* nothing was sent, above all no AUTHENTICATE */
    assert_string_equal(got, "");
}

static void
test_mupdate_tls_plaintext_injection(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;

    (void)state;
    got = run_peer("* AUTH \"PLAIN\"\r\n* STARTTLS\r\n" PEER_BANNER_END,
                   "K1 OK go\r\n* OK MUPDATE \"evil\"\r\n", &error);
    assert_int_equal(error->code, KD_IMAP_ERROR_TLS);
    assert_non_null(strstr(error->message, "plain-text"));
    assert_string_equal(got, "K1 STARTTLS\r\n");
}

static void
test_mupdate_tls_refused(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;

    (void)state;
    got = run_peer("* AUTH \"PLAIN\"\r\n* STARTTLS\r\n" PEER_BANNER_END,
                   "K1 NO \"Error initializing TLS\"\r\n", &error);
    assert_int_equal(error->code, KD_IMAP_ERROR_TLS);
    assert_non_null(strstr(error->message, "refused"));
    assert_non_null(strstr(error->message, "Error initializing TLS"));
    assert_string_equal(got, "K1 STARTTLS\r\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mupdate_tls_starttls_with_ca),
        cmocka_unit_test(test_mupdate_tls_system_store_unknown_issuer),
        cmocka_unit_test(test_mupdate_tls_murder),
        cmocka_unit_test(test_mupdate_tls_not_offered),
        cmocka_unit_test(test_mupdate_tls_plaintext_injection),
        cmocka_unit_test(test_mupdate_tls_refused),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
