/*
 * Integration tests for kolabd/murder.c and kolabd/mupdate.c against the
 * sandbox murder: locations via the mupdate master, via the frontend and
 * via the backends agree with where the mailboxes were created; dead
 * servers give transient errors. The destructive tests (stopping servers)
 * run last.
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
#include "mupdate.h"
#include "murder.h"
#include "sandbox/sandbox.h"

typedef struct {
    KdSandbox *sb;
    char *password;
    char *mupdate_password;
    char *uri[3]; /* backend1, backend2, frontend */
    KdMurderBackendConfig backends[2];
    KdMurderConfig cfg;
} Fixture;

static char *
read_secret(const char *file)
{
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    if (!g_file_get_contents(file, &text, NULL, &error)) {
        fail_msg("%s", error->message);
    }
    g_strchomp(text);
    return text;
}

static int
setup(void **state)
{
    g_autoptr(GError) error = NULL;
    Fixture *f = g_new0(Fixture, 1);
    const char *ports[] = {"BE1_PORT", "BE2_PORT", "FE_PORT"};

    kd_imap_global_init();
    f->sb = kd_sandbox_start(NULL, &error);
    if (f->sb == NULL) {
        fprintf(stderr, "cannot start the sandbox: %s\n", error->message);
        g_free(f);
        return -1;
    }
    f->password = read_secret(kd_sandbox_need(f->sb, "CYRUS_ADMIN_PW_FILE"));
    f->mupdate_password =
        read_secret(kd_sandbox_need(f->sb, "MUPDATE_PW_FILE"));
    for (int i = 0; i < 3; i++) {
        f->uri[i] = g_strdup_printf("imap://127.0.0.1:%d",
                                    kd_sandbox_get_int(f->sb, ports[i]));
    }
    /* servernames are learned from the greetings */
    f->backends[0] = (KdMurderBackendConfig){"backend1", f->uri[0], NULL};
    f->backends[1] = (KdMurderBackendConfig){"backend2", f->uri[1], NULL};
    f->cfg.backends = f->backends;
    f->cfg.n_backends = 2;
    f->cfg.admin_user = kd_sandbox_need(f->sb, "CYRUS_ADMIN");
    f->cfg.admin_password = f->password;
    f->cfg.timeout_s = 10;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;

    kd_sandbox_free(f->sb);
    g_free(f->password);
    g_free(f->mupdate_password);
    for (int i = 0; i < 3; i++) {
        g_free(f->uri[i]);
    }
    g_free(f);
    return 0;
}

static KdMurder *
murder_in_mode(Fixture *f, KdMurderMode mode)
{
    g_autoptr(GError) error = NULL;
    KdMurderConfig cfg = f->cfg;
    KdMurder *m;

    if (mode == KD_MURDER_MODE_MUPDATE) {
        cfg.mupdate_host = "127.0.0.1";
        cfg.mupdate_port = (guint16) kd_sandbox_get_int(f->sb, "MUPDATE_PORT");
        cfg.mupdate_user = kd_sandbox_need(f->sb, "MUPDATE_USER");
        cfg.mupdate_password = f->mupdate_password;
    } else if (mode == KD_MURDER_MODE_FRONTEND) {
        cfg.frontend_uri = f->uri[2];
    }
    m = kd_murder_new(&cfg, &error);
    if (m == NULL) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(kd_murder_get_mode(m), mode);
    return m;
}

static KdImap *
admin_session(Fixture *f, const char *uri)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = kd_imap_connect(uri, 10, &error);

    if (imap == NULL ||
        !kd_imap_login(imap, f->cfg.admin_user, f->password, &error)) {
        fail_msg("%s: %s", uri, error->message);
    }
    return g_steal_pointer(&imap);
}

static void
create_at(KdImap *fe, const char *mailbox, const char *servername)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *loc = servername
                               ? g_strdup_printf("%s!default", servername)
                               : NULL;

    if (!kd_imap_create(fe, mailbox, loc, &error)) {
        fail_msg("%s", error->message);
    }
}

static void
test_murder_where_and_list_all_agree(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdImap) fe = admin_session(f, f->uri[2]);
    const char *be1 = kd_sandbox_need(f->sb, "BE1_SERVERNAME");
    const char *be2 = kd_sandbox_need(f->sb, "BE2_SERVERNAME");
    g_autofree char *ent = g_convert("Entw\xc3\xbcrfe", -1, "UTF-7-IMAP",
                                     "UTF-8", NULL, NULL, NULL);
    g_autofree char *ent_name =
        g_strdup_printf("user/hans/%s@where.example.org", ent);
    const struct {
        const char *mailbox;
        const char *server;
    } truth[] = {
        {"user/hans@where.example.org", be1},
        {"user/hans/Calendar@where.example.org", be1},
        {ent_name, be1},
        {"user/ina.maria@where.example.org", be2},
        {"user/ina.maria/Sent Items@where.example.org", be2},
        {"shared@where.example.org", be2},
        {"shared/memo@where.example.org", be2},
    };
    const KdMurderMode modes[] = {KD_MURDER_MODE_MUPDATE,
                                  KD_MURDER_MODE_FRONTEND,
                                  KD_MURDER_MODE_BACKENDS};

    for (gsize i = 0; i < G_N_ELEMENTS(truth); i++) {
        /* sub-folders follow their parent: no location */
        gboolean top = strchr(strchr(truth[i].mailbox, '/')
                                  ? strchr(truth[i].mailbox, '/') + 1
                                  : truth[i].mailbox,
                              '/') == NULL;

        create_at(fe, truth[i].mailbox, top ? truth[i].server : NULL);
    }
    for (gsize m = 0; m < G_N_ELEMENTS(modes); m++) {
        g_autoptr(KdMurder) murder = murder_in_mode(f, modes[m]);
        g_autoptr(GHashTable) all = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *where = NULL;

        for (gsize i = 0; i < G_N_ELEMENTS(truth); i++) {
            g_autofree char *server = NULL;

            if (!kd_murder_where(murder, truth[i].mailbox, &server, &error)) {
                fail_msg("mode %d: %s", modes[m], error->message);
            }
            assert_string_equal(server, truth[i].server);
        }
        assert_false(kd_murder_where(murder, "user/nobody@where.example.org",
                                     &where, &error));
        assert_int_equal(error->code, KD_IMAP_ERROR_NONEXISTENT);
        g_clear_error(&error);
        if (!kd_murder_list_all(murder, &all, &error)) {
            fail_msg("mode %d: %s", modes[m], error->message);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(truth); i++) {
            const char *server = g_hash_table_lookup(all, truth[i].mailbox);

            if (server == NULL) {
                fail_msg("mode %d: list_all misses %s", modes[m],
                         truth[i].mailbox);
            }
            assert_string_equal(server, truth[i].server);
        }
        /* backends are known by their learned servernames */
        kd_murder_probe(murder);
        assert_string_equal(
            kd_murder_backend_by_servername(murder, be2)->name, "backend2");
        assert_non_null(kd_murder_backend_by_name(murder, "backend1"));
        assert_null(kd_murder_backend_by_servername(murder, "nosuch:1"));
    }
}

static gboolean
count_entry(const char *name, const char *server, const char *partition,
            const char *acl, gpointer data)
{
    (void) server;
    (void) partition;
    (void) acl;
    if (strstr(name, "mupd.example.org") != NULL) {
        (*(int *) data)++;
    }
    return TRUE;
}

static void
test_murder_mupdate_client(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->uri[2]);
    const char *be2 = kd_sandbox_need(f->sb, "BE2_SERVERNAME");
    g_autoptr(KdMupdate) mu = NULL;
    g_autofree char *server = NULL;
    g_autofree char *partition = NULL;
    int n = 0;

    create_at(fe, "user/john.doe@mupd.example.org", be2);
    create_at(fe, "user/john.doe/Calendar@mupd.example.org", NULL);
    mu = kd_mupdate_connect("127.0.0.1",
                            (guint16) kd_sandbox_get_int(f->sb,
                                                         "MUPDATE_PORT"),
                            kd_sandbox_need(f->sb, "MUPDATE_USER"),
                            f->mupdate_password, 10, &error);
    if (mu == NULL) {
        fail_msg("%s", error->message);
    }
    if (!kd_mupdate_find(mu, "mupd.example.org!user.john^doe.Calendar",
                         &server, &partition, &error)) {
        fail_msg("%s", error->message);
    }
    assert_string_equal(server, be2);
    assert_string_equal(partition, "default");
    assert_false(kd_mupdate_find(mu, "mupd.example.org!user.nobody", &server,
                                 NULL, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_NONEXISTENT);
    g_clear_error(&error);
    assert_false(kd_mupdate_find(mu, "bad\"name", &server, NULL, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_INVALID_NAME);
    g_clear_error(&error);
    if (!kd_mupdate_list(mu, be2, count_entry, &n, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(n, 2);
    assert_true(kd_mupdate_is_alive(mu));
    /* wrong port: transient */
    assert_null(kd_mupdate_connect("127.0.0.1", 1, "x", "y", 5, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_TRANSIENT);
}

static void
test_murder_stopped_backend_is_transient(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->uri[2]);
    g_autoptr(KdMurder) murder = murder_in_mode(f, KD_MURDER_MODE_BACKENDS);
    g_autoptr(GHashTable) all = NULL;
    g_autofree char *loc = g_strdup_printf(
        "%s!default", kd_sandbox_need(f->sb, "BE1_SERVERNAME"));
    g_autofree char *where = NULL;
    const char *const stop[] = {"stop", "backend1", NULL};
    const char *const start[] = {"start", "backend1", NULL};

    assert_int_equal(kd_murder_probe(murder), 2);
    if (!kd_sandbox_ctl(f->sb, stop, &error)) {
        fail_msg("%s", error->message);
    }
    assert_false(kd_imap_create(fe, "user/kim@down.example.org", loc,
                                &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_TRANSIENT);
    assert_non_null(strstr(error->message, "user/kim@down.example.org"));
    g_clear_error(&error);
    assert_null(kd_imap_connect(f->uri[0], 5, &error));
    assert_true(kd_imap_error_is_transient(error));
    g_clear_error(&error);
    assert_int_equal(kd_murder_probe(murder), 1);
    assert_false(kd_murder_get_backend(murder, 0)->up);
    assert_non_null(kd_murder_get_backend(murder, 0)->last_error);
    assert_true(kd_murder_get_backend(murder, 1)->up);
    /* a partial map would look like deletions: refuse it */
    assert_false(kd_murder_list_all(murder, &all, &error));
    assert_true(kd_imap_error_is_transient(error));
    g_clear_error(&error);
    assert_false(kd_murder_where(murder, "user/kim@down.example.org", &where,
                                 &error));
    assert_true(kd_imap_error_is_transient(error));
    g_clear_error(&error);
    if (!kd_sandbox_ctl(f->sb, start, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(kd_murder_probe(murder), 2);
}

static void
test_murder_stopped_mupdate_is_transient(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->uri[2]);
    g_autoptr(KdMurder) murder = murder_in_mode(f, KD_MURDER_MODE_MUPDATE);
    g_autofree char *where = NULL;
    const char *const stop[] = {"stop", "mupdate", NULL};

    /* a cached connection first, so the murder must notice it died */
    if (!kd_murder_where(murder, "user/hans@where.example.org", &where,
                         &error)) {
        fail_msg("%s", error->message);
    }
    g_clear_pointer(&where, g_free);
    if (!kd_sandbox_ctl(f->sb, stop, &error)) {
        fail_msg("%s", error->message);
    }
    assert_false(kd_imap_create(fe, "user/lou@nomupd.example.org", NULL,
                                &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_TRANSIENT);
    assert_non_null(strstr(error->message, "no connection to server"));
    g_clear_error(&error);
    assert_false(kd_murder_where(murder, "user/hans@where.example.org",
                                 &where, &error));
    assert_true(kd_imap_error_is_transient(error));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_murder_where_and_list_all_agree),
        cmocka_unit_test(test_murder_mupdate_client),
        cmocka_unit_test(test_murder_stopped_backend_is_transient),
        cmocka_unit_test(test_murder_stopped_mupdate_is_transient),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
