/*
 * test-sandbox.c -- the test sandbox itself works (tests/sandbox).
 *
 * Integration tests for kd-sandbox and its C API against the real
 * servers: syncprov delivers an LDAP add to a refreshAndPersist search of
 * the service DN; a mailbox created directly on backend1 shows up on the
 * frontend after a kick, with backend1's servername in its server
 * metadata; a standalone Cyrus server greets; stop/start of services keeps
 * ports and data; two sandboxes run side by side.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <lber.h>
#include <ldap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define TEST_TIMEOUT_US (15 * G_USEC_PER_SEC)

static void check_no_error(const GError *error, const char *what)
{
    if (error != NULL) {
        fail_msg("%s: %s", what, error->message);
    }
}

static KdSandbox *start_or_fail(const KdSandboxOptions *opts)
{
    g_autoptr(GError) error = NULL;
    KdSandbox *sb = kd_sandbox_start(opts, &error);

    check_no_error(error, "kd_sandbox_start");
    assert_non_null(sb);
    return sb;
}

/* ---- a tiny IMAP client ------------------------------------------------ */

typedef struct {
    GSocketClient *client;
    GSocketConnection *conn;
    GDataInputStream *in;
    GOutputStream *out;
    char *greeting;
    unsigned tag;
} Imap;

static void imap_close(Imap *imap)
{
    if (imap == NULL) {
        return;
    }
    g_clear_object(&imap->in);
    g_clear_object(&imap->conn);
    g_clear_object(&imap->client);
    g_free(imap->greeting);
    g_free(imap);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Imap, imap_close)

static char *imap_line(Imap *imap)
{
    g_autoptr(GError) error = NULL;
    char *line = g_data_input_stream_read_line(imap->in, NULL, NULL, &error);

    check_no_error(error, "IMAP read");
    assert_non_null(line);
    g_strchomp(line);
    return line;
}

static Imap *imap_connect(int port)
{
    g_autoptr(GError) error = NULL;
    Imap *imap = g_new0(Imap, 1);

    imap->client = g_socket_client_new();
    /* every read and write gives up after 10 s */
    g_socket_client_set_timeout(imap->client, 10);
    imap->conn = g_socket_client_connect_to_host(imap->client, "127.0.0.1",
                                                 (guint16)port, NULL, &error);
    check_no_error(error, "IMAP connect");
    imap->in = g_data_input_stream_new(
        g_io_stream_get_input_stream(G_IO_STREAM(imap->conn)));
    g_data_input_stream_set_newline_type(imap->in,
                                         G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
    imap->out = g_io_stream_get_output_stream(G_IO_STREAM(imap->conn));
    imap->greeting = imap_line(imap);
    return imap;
}

/*
 * Sends "<tag> <cmd>" and reads up to the tagged answer.  Returns TRUE if
 * it is OK; untagged lines are appended to untagged (may be NULL).
 */
static gboolean imap_cmd(Imap *imap, GString *untagged, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean imap_cmd(Imap *imap, GString *untagged, const char *fmt, ...)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = NULL;
    g_autofree char *tag = g_strdup_printf("T%u", ++imap->tag);
    g_autofree char *wire = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    wire = g_strdup_printf("%s %s\r\n", tag, cmd);
    g_output_stream_write_all(imap->out, wire, strlen(wire), NULL, NULL,
                              &error);
    check_no_error(error, "IMAP write");
    for (int i = 0; i < 10000; i++) {
        g_autofree char *line = imap_line(imap);

        if (g_str_has_prefix(line, tag) && line[strlen(tag)] == ' ') {
            gboolean ok = g_str_has_prefix(line + strlen(tag) + 1, "OK");

            if (!ok) {
                fprintf(stderr, "IMAP %s -> %s\n", cmd, line);
            }
            return ok;
        }
        if (untagged != NULL) {
            g_string_append_printf(untagged, "%s\n", line);
        }
    }
    fail_msg("IMAP: no tagged answer to %s", cmd);
    return FALSE;
}

static Imap *imap_login(KdSandbox *sb, int port)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *pw = kd_sandbox_read_secret(sb, "CYRUS_ADMIN_PW_FILE",
                                                 &error);
    Imap *imap;

    check_no_error(error, "admin password");
    imap = imap_connect(port);
    assert_true(g_str_has_prefix(imap->greeting, "* OK"));
    assert_true(imap_cmd(imap, NULL, "LOGIN %s \"%s\"",
                         kd_sandbox_need(sb, "CYRUS_ADMIN"), pw));
    return imap;
}

/* ---- LDAP -------------------------------------------------------------- */

static LDAP *ldap_bind_as(KdSandbox *sb, const char *dn_key,
                          const char *pw_key)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *pw = kd_sandbox_read_secret(sb, pw_key, &error);
    struct berval cred;
    struct timeval tv = { 10, 0 };
    int version = LDAP_VERSION3;
    LDAP *ld = NULL;
    int rc;

    check_no_error(error, pw_key);
    rc = ldap_initialize(&ld, kd_sandbox_need(sb, "LDAP_URI"));
    assert_int_equal(rc, LDAP_SUCCESS);
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    cred.bv_val = pw;
    cred.bv_len = strlen(pw);
    rc = ldap_sasl_bind_s(ld, kd_sandbox_need(sb, dn_key), LDAP_SASL_SIMPLE,
                          &cred, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        fail_msg("bind as %s: %s", kd_sandbox_need(sb, dn_key),
                 ldap_err2string(rc));
    }
    return ld;
}

/* The RFC 4533 sync state of an entry message, or -1. */
static int sync_state(LDAP *ld, LDAPMessage *msg)
{
    LDAPControl **ctrls = NULL;
    LDAPControl *c;
    int state = -1;

    if (ldap_get_entry_controls(ld, msg, &ctrls) != LDAP_SUCCESS) {
        return -1;
    }
    c = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL);
    if (c != NULL) {
        BerElement *ber = ber_init(&c->ldctl_value);
        ber_int_t e;

        if (ber != NULL && ber_scanf(ber, "{e", &e) != LBER_ERROR) {
            state = e;
        }
        if (ber != NULL) {
            ber_free(ber, 1);
        }
    }
    ldap_controls_free(ctrls);
    return state;
}

static void test_sandbox_syncrepl_sees_add(void **state)
{
    KdSandboxOptions opts = { .no_cyrus = TRUE };
    g_autoptr(KdSandbox) sb = start_or_fail(&opts);
    g_autoptr(GError) error = NULL;
    LDAP *ld = ldap_bind_as(sb, "SERVICE_DN", "SERVICE_PW_FILE");
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    struct berval *bv = NULL;
    LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
    g_autofree char *dn = NULL, *ldif = NULL;
    gint64 deadline;
    gboolean refresh_done = FALSE, seen = FALSE;
    int msgid = -1, rc;

    (void)state;
    /* syncRequestValue: mode refreshAndPersist (3), no cookie */
    assert_non_null(ber);
    assert_true(ber_printf(ber, "{e}", (ber_int_t)3) != -1);
    assert_int_equal(ber_flatten(ber, &bv), 0);
    ber_free(ber, 1);
    rc = ldap_control_create(LDAP_CONTROL_SYNC, 1, bv, 1, &ctrl);
    ber_bvfree(bv);
    assert_int_equal(rc, LDAP_SUCCESS);
    ctrls[0] = ctrl;
    rc = ldap_search_ext(ld, kd_sandbox_need(sb, "BASE_DN"), LDAP_SCOPE_SUBTREE,
                         "(objectClass=kolabInetOrgPerson)", NULL, 0, ctrls,
                         NULL, NULL, 0, &msgid);
    ldap_control_free(ctrl);
    assert_int_equal(rc, LDAP_SUCCESS);

    dn = g_strdup_printf("uid=sync-%d,ou=People,%s", (int)getpid(),
                         kd_sandbox_need(sb, "BASE_DN"));
    ldif = g_strdup_printf("dn: %s\nobjectClass: inetOrgPerson\n"
                           "objectClass: kolabInetOrgPerson\n"
                           "objectClass: mailRecipient\n"
                           "cn: Sync Test\nsn: Test\n"
                           "mail: sync@example.org\nmailQuota: 1024\n",
                           dn);
    deadline = g_get_monotonic_time() + TEST_TIMEOUT_US;
    while (!seen && g_get_monotonic_time() < deadline) {
        struct timeval tv = { 0, 200000 };
        LDAPMessage *res = NULL;

        rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &res);
        assert_true(rc >= 0);
        if (rc == LDAP_RES_INTERMEDIATE && !refresh_done) {
            /* end of the (empty) refresh phase: now add the entry */
            refresh_done = TRUE;
            assert_true(kd_sandbox_ldapadd(sb, ldif, &error));
            check_no_error(error, "ldapadd");
        } else if (rc == LDAP_RES_SEARCH_ENTRY) {
            char *got = ldap_get_dn(ld, res);

            /* LDAP_SYNC_ADD = 1 */
            if (refresh_done && got != NULL && g_ascii_strcasecmp(got, dn) == 0
                && sync_state(ld, res) == 1) {
                seen = TRUE;
            }
            ldap_memfree(got);
        } else if (rc == LDAP_RES_SEARCH_RESULT) {
            fail_msg("refreshAndPersist search ended");
        }
        ldap_msgfree(res);
    }
    assert_true(refresh_done);
    assert_true(seen);
    ldap_unbind_ext_s(ld, NULL, NULL);
}

static void test_sandbox_service_dn_writes_only_mailhost(void **state)
{
    KdSandboxOptions opts = { .no_cyrus = TRUE };
    g_autoptr(KdSandbox) sb = start_or_fail(&opts);
    g_autoptr(GError) error = NULL;
    g_autofree char *dn = g_strdup_printf("uid=john,ou=People,%s",
                                          kd_sandbox_need(sb, "BASE_DN"));
    g_autofree char *ldif = g_strdup_printf(
        "dn: %s\nobjectClass: inetOrgPerson\nobjectClass: kolabInetOrgPerson"
        "\ncn: John\nsn: Doe\nmail: john@example.org\n", dn);
    LDAP *ld;
    char host_v[] = "127.0.0.1:1", sn_v[] = "Other";
    char host_a[] = "mailHost", sn_a[] = "sn";
    char *host[] = { host_v, NULL };
    char *sn[] = { sn_v, NULL };
    LDAPMod mod_host = { LDAP_MOD_REPLACE, host_a, { host } };
    LDAPMod mod_sn = { LDAP_MOD_REPLACE, sn_a, { sn } };
    LDAPMod *mods[2] = { NULL, NULL };

    (void)state;
    assert_true(kd_sandbox_ldapadd(sb, ldif, &error));
    ld = ldap_bind_as(sb, "SERVICE_DN", "SERVICE_PW_FILE");
    mods[0] = &mod_host;
    assert_int_equal(ldap_modify_ext_s(ld, dn, mods, NULL, NULL),
                     LDAP_SUCCESS);
    mods[0] = &mod_sn;
    assert_int_equal(ldap_modify_ext_s(ld, dn, mods, NULL, NULL),
                     LDAP_INSUFFICIENT_ACCESS);
    ldap_unbind_ext_s(ld, NULL, NULL);
}

static void test_sandbox_murder_kick_shows_backend_mailbox(void **state)
{
    g_autoptr(KdSandbox) sb = start_or_fail(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) untagged = g_string_new(NULL);
    g_autofree char *mbox = g_strdup_printf("user/kick%d@example.org",
                                            (int)getpid());
    g_autofree char *expect = NULL;
    const char *kick[] = { "kick", NULL };
    g_autoptr(Imap) be1 = NULL;
    g_autoptr(Imap) fe = NULL;

    (void)state;
    be1 = imap_login(sb, kd_sandbox_get_int(sb, "BE1_PORT"));
    /* the greeting names the servername the murder knows the backend by */
    assert_non_null(strstr(be1->greeting,
                           kd_sandbox_need(sb, "BE1_SERVERNAME")));
    assert_true(imap_cmd(be1, NULL, "CREATE %s", mbox));

    assert_true(kd_sandbox_ctl(sb, kick, &error));
    check_no_error(error, "kick");

    fe = imap_login(sb, kd_sandbox_get_int(sb, "FE_PORT"));
    assert_true(imap_cmd(fe, untagged, "LIST \"\" \"%s\"", mbox));
    assert_non_null(strstr(untagged->str, mbox));
    g_string_truncate(untagged, 0);
    assert_true(imap_cmd(fe, untagged, "GETMETADATA %s "
                         "/shared/vendor/cmu/cyrus-imapd/server", mbox));
    expect = g_strdup_printf("\"%s\"", kd_sandbox_need(sb, "BE1_SERVERNAME"));
    assert_non_null(strstr(untagged->str, expect));
}

static void test_sandbox_stop_start_keeps_port_and_data(void **state)
{
    g_autoptr(KdSandbox) sb = start_or_fail(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) untagged = g_string_new(NULL);
    const char *stop[] = { "stop", "backend1", "--kill", NULL };
    const char *start[] = { "start", "backend1", NULL };
    const char *kill_slapd[] = { "stop", "slapd", "--kill", NULL };
    const char *start_slapd[] = { "start", "slapd", NULL };
    g_autofree char *old_pid = g_strdup(kd_sandbox_need(sb, "SLAPD_PID"));
    int port = kd_sandbox_get_int(sb, "BE1_PORT");
    g_autoptr(Imap) be1 = imap_login(sb, port);
    LDAP *ld;

    (void)state;
    assert_true(imap_cmd(be1, NULL, "CREATE user/keep@example.org"));
    g_clear_pointer(&be1, imap_close);
    assert_true(kd_sandbox_ctl(sb, stop, &error));
    assert_true(kd_sandbox_ctl(sb, start, &error));
    check_no_error(error, "restart backend1");
    assert_int_equal(kd_sandbox_get_int(sb, "BE1_PORT"), port);
    be1 = imap_login(sb, port);
    assert_true(imap_cmd(be1, untagged, "LIST \"\" user/keep@example.org"));
    assert_non_null(strstr(untagged->str, "user/keep@example.org"));

    assert_true(kd_sandbox_ctl(sb, kill_slapd, &error));
    assert_true(kd_sandbox_ctl(sb, start_slapd, &error));
    check_no_error(error, "restart slapd");
    assert_string_not_equal(kd_sandbox_need(sb, "SLAPD_PID"), old_pid);
    ld = ldap_bind_as(sb, "NOLIMIT_DN", "NOLIMIT_PW_FILE");
    ldap_unbind_ext_s(ld, NULL, NULL);
}

static void test_sandbox_single_server_greets(void **state)
{
    KdSandboxOptions opts = { .single = TRUE };
    g_autoptr(KdSandbox) sb = start_or_fail(&opts);
    g_autoptr(Imap) imap = NULL;

    (void)state;
    assert_string_equal(kd_sandbox_need(sb, "MODE"), "single");
    assert_null(kd_sandbox_get(sb, "MUPDATE_PORT"));
    imap = imap_login(sb, kd_sandbox_get_int(sb, "IMAP_PORT"));
    assert_non_null(strstr(imap->greeting,
                           kd_sandbox_need(sb, "IMAP_SERVERNAME")));
    assert_true(imap_cmd(imap, NULL, "CREATE user/single@example.org"));
}

static gpointer start_thread(gpointer data)
{
    g_autoptr(GError) error = NULL;
    KdSandbox *sb = kd_sandbox_start(NULL, &error);

    (void)data;
    if (sb == NULL) {
        fprintf(stderr, "parallel start: %s\n", error->message);
    }
    return sb;
}

static void test_sandbox_two_run_at_once(void **state)
{
    static const char *const keys[] = { "LDAP_PORT", "MUPDATE_PORT",
                                        "BE1_PORT", "BE2_PORT", "FE_PORT" };
    GThread *t1 = g_thread_new("sb1", start_thread, NULL);
    GThread *t2 = g_thread_new("sb2", start_thread, NULL);
    g_autoptr(KdSandbox) a = g_thread_join(t1);
    g_autoptr(KdSandbox) b = g_thread_join(t2);
    g_autoptr(GHashTable) ports = g_hash_table_new(g_str_hash, g_str_equal);

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(kd_sandbox_dir(a), kd_sandbox_dir(b));
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *pa = kd_sandbox_need(a, keys[i]);
        const char *pb = kd_sandbox_need(b, keys[i]);

        assert_false(g_hash_table_contains(ports, pa));
        g_hash_table_add(ports, (gpointer)pa);
        assert_false(g_hash_table_contains(ports, pb));
        g_hash_table_add(ports, (gpointer)pb);
    }
    for (int i = 0; i < 2; i++) {
        KdSandbox *sb = i == 0 ? a : b;
        g_autoptr(Imap) fe = imap_login(sb, kd_sandbox_get_int(sb, "FE_PORT"));
        LDAP *ld = ldap_bind_as(sb, "SERVICE_DN", "SERVICE_PW_FILE");

        ldap_unbind_ext_s(ld, NULL, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sandbox_syncrepl_sees_add),
        cmocka_unit_test(test_sandbox_service_dn_writes_only_mailhost),
        cmocka_unit_test(test_sandbox_murder_kick_shows_backend_mailbox),
        cmocka_unit_test(test_sandbox_stop_start_keeps_port_and_data),
        cmocka_unit_test(test_sandbox_single_server_greets),
        cmocka_unit_test(test_sandbox_two_run_at_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
