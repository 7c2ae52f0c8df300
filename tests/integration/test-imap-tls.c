/*
 * Integration tests for IMAP over TLS (kolabd/imap-tls.c, imap.c) against
 * a real standalone Cyrus 3.6 started by `kd-sandbox up --single --tls`:
 * a throwaway CA, imaps listeners with a good, a wrong-name and an expired
 * certificate, and STARTTLS on the plain port.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "imap.h"
#include "murder.h"
#include "sandbox/sandbox.h"

typedef struct {
    KdSandbox *sb;
    char *admin;
    char *password;
    const char *ca_file;
    const char *servername;
    char *imaps_uri; /* 127.0.0.1, good certificate */
    char *local_uri; /* localhost (DNS name: SNI), good certificate */
    char *plain_uri; /* imap:// (STARTTLS offered) */
    char *badname_uri;
    char *expired_uri;
    char *chain_uri; /* leaf + intermediate; the CA file has the root */
    char *syslog;
} Fixture;

static int
setup(void **state)
{
    g_autoptr(GError) error = NULL;
    KdSandboxOptions opts = {0};
    Fixture *f = g_new0(Fixture, 1);
    char *pw = NULL;

    kd_imap_global_init();
    opts.single = TRUE;
    opts.tls = TRUE;
    f->sb = kd_sandbox_start(&opts, &error);
    if (f->sb == NULL) {
        fprintf(stderr, "cannot start the sandbox: %s\n", error->message);
        g_free(f);
        return -1; /* the group fails, never skips */
    }
    f->admin = g_strdup(kd_sandbox_need(f->sb, "CYRUS_ADMIN"));
    if (!g_file_get_contents(kd_sandbox_need(f->sb, "CYRUS_ADMIN_PW_FILE"), &pw,
                             NULL, &error)) {
        fprintf(stderr, "%s\n", error->message);
        return -1;
    }
    f->password = g_strchomp(pw);
    f->ca_file = kd_sandbox_need(f->sb, "TLS_CA_FILE");
    f->servername = kd_sandbox_need(f->sb, "IMAP_SERVERNAME");
    f->imaps_uri = g_strdup(kd_sandbox_need(f->sb, "IMAP_IMAPS_URI"));
    f->local_uri = g_strdup_printf(
        "imaps://localhost:%d/", kd_sandbox_get_int(f->sb, "IMAP_IMAPS_PORT"));
    f->plain_uri = g_strdup_printf("imap://127.0.0.1:%d",
                                   kd_sandbox_get_int(f->sb, "IMAP_PORT"));
    f->badname_uri =
        g_strdup_printf("imaps://127.0.0.1:%d",
                        kd_sandbox_get_int(f->sb, "BADNAME_IMAPS_PORT"));
    f->expired_uri =
        g_strdup_printf("imaps://127.0.0.1:%d",
                        kd_sandbox_get_int(f->sb, "EXPIRED_IMAPS_PORT"));
    f->chain_uri = g_strdup_printf(
        "imaps://127.0.0.1:%d", kd_sandbox_get_int(f->sb, "CHAIN_IMAPS_PORT"));
    f->syslog = g_build_filename(kd_sandbox_dir(f->sb), "cyrus", "imap", "log",
                                 "syslog", NULL);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;

    kd_sandbox_free(f->sb);
    g_free(f->admin);
    g_free(f->password);
    g_free(f->imaps_uri);
    g_free(f->local_uri);
    g_free(f->plain_uri);
    g_free(f->badname_uri);
    g_free(f->expired_uri);
    g_free(f->chain_uri);
    g_free(f->syslog);
    g_free(f);
    return 0;
}

#define assert_ok(call, err)                                                   \
    do {                                                                       \
        if (!(call)) {                                                         \
            fail_msg("%s: %s", #call, (err) ? (err)->message : "?");           \
        }                                                                      \
    } while (0)

/* The connection failed with a TLS error naming @uri and @reason. */
static void
assert_tls_refused(KdImap *imap, GError **error, const char *uri,
                   const char *reason)
{
    if (imap != NULL) {
        fail_msg("%s: connected, expected a TLS error (%s)", uri, reason);
    }
    if ((*error)->code != KD_IMAP_ERROR_TLS ||
        strstr((*error)->message, uri) == NULL ||
        strstr((*error)->message, reason) == NULL) {
        fail_msg("%s: expected TLS error with \"%s\", got %d: %s", uri, reason,
                 (*error)->code, (*error)->message);
    }
    assert_true(kd_imap_error_is_transient(*error));
    g_clear_error(error);
}

/* Lines of the Cyrus log that record a LOGIN (good or bad). */
static guint
count_logins(Fixture *f)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint n = 0;

    if (!g_file_get_contents(f->syslog, &text, NULL, NULL)) {
        return 0;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (strstr(lines[i], " login: ") != NULL ||
            strstr(lines[i], "badlogin: ") != NULL) {
            n++;
        }
    }
    return n;
}

/* Waits (bounded) until the Cyrus log shows @n logins. */
static guint
wait_logins(Fixture *f, guint n)
{
    guint seen = 0;

    for (int i = 0; i < 200 && (seen = count_logins(f)) < n; i++) {
        g_usleep(10000);
    }
    return seen;
}

static void
test_imap_tls_login_with_ca_file(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImapTls) tls = kd_imap_tls_new(f->ca_file, FALSE, &error);
    g_autoptr(KdImap) imap = NULL;
    g_autoptr(KdImap) local = NULL;
    g_autoptr(GPtrArray) names = NULL;

    assert_ok(tls != NULL, error);
    assert_string_equal(kd_imap_tls_get_ca_file(tls), f->ca_file);
    imap = kd_imap_connect_tls(f->imaps_uri, tls, 10, &error);
    assert_ok(imap != NULL, error);
    assert_true(kd_imap_is_tls(imap));
    /* servername unchanged by TLS: the mailHost contract */
    assert_string_equal(kd_imap_get_servername(imap), f->servername);
    assert_ok(kd_imap_login(imap, f->admin, f->password, &error), error);
    assert_ok(kd_imap_create(imap, "user/tls@tls.example.org", NULL, &error),
              error);
    assert_ok(kd_imap_list(imap, "user/tls@tls.example.org", &names, &error),
              error);
    assert_int_equal(names->len, 1);

    /* a DNS name (with SNI) matches DNS:localhost */
    local = kd_imap_connect_tls(f->local_uri, tls, 10, &error);
    assert_ok(local != NULL, error);
    assert_ok(kd_imap_login(local, f->admin, f->password, &error), error);
    assert_ok(kd_imap_noop(local, &error), error);
}

static void
test_imap_tls_system_trust_refuses_unknown_issuer(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImapTls) tls = kd_imap_tls_new(f->ca_file, FALSE, &error);
    g_autoptr(KdImapTls) sys = kd_imap_tls_new(NULL, FALSE, &error);
    KdMurderBackendConfig backend = {"imap", NULL, NULL};
    KdMurderConfig mc = {0};
    g_autoptr(KdMurder) trusting = NULL;
    g_autoptr(KdMurder) system = NULL;
    g_autoptr(KdImap) imap = NULL;
    guint before;

    assert_ok(tls != NULL && sys != NULL, error);
    assert_null(kd_imap_tls_get_ca_file(sys));
    /* kd_imap_connect(): the system store does not know the sandbox CA */
    assert_tls_refused(kd_imap_connect(f->imaps_uri, 10, &error), &error,
                       f->imaps_uri, "unknown issuer");

    /* The murder's connect + LOGIN path: with the system store nothing
     * reaches the server, with the CA file the LOGIN shows in its log
     * (so the log would show a leaked one). */
    backend.uri = f->imaps_uri;
    mc.backends = &backend;
    mc.n_backends = 1;
    mc.admin_user = f->admin;
    mc.admin_password = f->password;
    mc.timeout_s = 10;
    mc.tls = sys;
    system = kd_murder_new(&mc, &error);
    assert_ok(system != NULL, error);
    mc.tls = tls;
    trusting = kd_murder_new(&mc, &error);
    assert_ok(trusting != NULL, error);

    before = count_logins(f);
    for (int i = 0; i < 3; i++) {
        assert_tls_refused(
            kd_murder_connect_backend(system, kd_murder_get_backend(system, 0),
                                      &error),
            &error, f->imaps_uri, "unknown issuer");
    }
    assert_false(kd_murder_get_backend(system, 0)->up);
    assert_non_null(
        strstr(kd_murder_get_backend(system, 0)->last_error, "unknown issuer"));
    imap = kd_murder_connect_backend(
        trusting, kd_murder_get_backend(trusting, 0), &error);
    assert_ok(imap != NULL, error);
    assert_ok(kd_imap_noop(imap, &error), error);
    /* exactly the one trusted LOGIN; none of the three refused ones */
    assert_int_equal(wait_logins(f, before + 1), before + 1);
    g_usleep(200000);
    assert_int_equal(count_logins(f), before + 1);
}

static void
test_imap_tls_name_mismatch(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImapTls) tls = kd_imap_tls_new(f->ca_file, FALSE, &error);
    KdImap *imap;

    assert_ok(tls != NULL, error);
    imap = kd_imap_connect_tls(f->badname_uri, tls, 10, &error);
    assert_non_null(error);
    assert_non_null(strstr(error->message, "wrong.example.org"));
    assert_null(strstr(error->message, "unknown issuer"));
    assert_tls_refused(imap, &error, f->badname_uri, "name mismatch");
}

static void
test_imap_tls_expired(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImapTls) tls = kd_imap_tls_new(f->ca_file, FALSE, &error);

    assert_ok(tls != NULL, error);
    assert_tls_refused(kd_imap_connect_tls(f->expired_uri, tls, 10, &error),
                       &error, f->expired_uri, "expired");
}

/* The server sends leaf + intermediate; the CA file holds only the root:
 * verified, and the session works. The system store does not know the
 * intermediate's issuer. */
static void
test_imap_tls_intermediate_chain(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImapTls) tls = kd_imap_tls_new(f->ca_file, FALSE, &error);
    g_autoptr(KdImap) imap = NULL;

    assert_ok(tls != NULL, error);
    imap = kd_imap_connect_tls(f->chain_uri, tls, 10, &error);
    assert_ok(imap != NULL, error);
    assert_true(kd_imap_is_tls(imap));
    assert_ok(kd_imap_login(imap, f->admin, f->password, &error), error);
    assert_ok(kd_imap_noop(imap, &error), error);
    assert_tls_refused(kd_imap_connect(f->chain_uri, 10, &error), &error,
                       f->chain_uri, "unknown issuer");
}

static void
test_imap_tls_handshake_on_plain_port(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImapTls) tls = kd_imap_tls_new(f->ca_file, FALSE, &error);
    g_autofree char *uri = g_strdup_printf(
        "imaps://127.0.0.1:%d", kd_sandbox_get_int(f->sb, "IMAP_PORT"));

    assert_ok(tls != NULL, error);
    assert_tls_refused(kd_imap_connect_tls(uri, tls, 5, &error), &error, uri,
                       "handshake failed");
}

static void
test_imap_tls_starttls(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImapTls) tls = kd_imap_tls_new(f->ca_file, TRUE, &error);
    g_autoptr(KdImapTls) sys = kd_imap_tls_new(NULL, TRUE, &error);
    g_autoptr(KdImapTls) no_starttls =
        kd_imap_tls_new(f->ca_file, FALSE, &error);
    g_autoptr(KdImap) imap = NULL;
    g_autoptr(KdImap) plain = NULL;

    assert_ok(tls != NULL && sys != NULL && no_starttls != NULL, error);
    imap = kd_imap_connect_tls(f->plain_uri, tls, 10, &error);
    assert_ok(imap != NULL, error);
    assert_true(kd_imap_is_tls(imap));
    assert_string_equal(kd_imap_get_servername(imap), f->servername);
    /* ... but that greeting came before TLS: not to be trusted */
    assert_true(kd_imap_greeting_in_clear(imap));
    assert_ok(kd_imap_login(imap, f->admin, f->password, &error), error);
    assert_ok(kd_imap_noop(imap, &error), error);

    assert_tls_refused(kd_imap_connect_tls(f->plain_uri, sys, 10, &error),
                       &error, f->plain_uri, "unknown issuer");

    /* without starttls, imap:// stays plain */
    plain = kd_imap_connect_tls(f->plain_uri, no_starttls, 10, &error);
    assert_ok(plain != NULL, error);
    assert_false(kd_imap_is_tls(plain));
    assert_false(kd_imap_greeting_in_clear(plain));
}

static void
test_imap_tls_bad_ca_file(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autofree char *empty =
        g_build_filename(kd_sandbox_dir(f->sb), "empty-ca.pem", NULL);

    assert_null(kd_imap_tls_new("/nonexistent/ca.pem", FALSE, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_CONFIG);
    assert_non_null(strstr(error->message, "/nonexistent/ca.pem"));
    g_clear_error(&error);
    assert_true(g_file_set_contents(empty, "not a certificate\n", -1, NULL));
    assert_null(kd_imap_tls_new(empty, FALSE, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_CONFIG);
    assert_non_null(strstr(error->message, empty));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_tls_login_with_ca_file),
        cmocka_unit_test(test_imap_tls_system_trust_refuses_unknown_issuer),
        cmocka_unit_test(test_imap_tls_name_mismatch),
        cmocka_unit_test(test_imap_tls_expired),
        cmocka_unit_test(test_imap_tls_intermediate_chain),
        cmocka_unit_test(test_imap_tls_handshake_on_plain_port),
        cmocka_unit_test(test_imap_tls_starttls),
        cmocka_unit_test(test_imap_tls_bad_ca_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
