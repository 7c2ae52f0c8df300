/*
 * Integration tests for kolabd/imap*.c against a real Cyrus 3.6 murder
 * started by the sandbox (tests/sandbox). Each test uses its own domain so
 * that tests do not see each other's mailboxes.
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
#include "sandbox/sandbox.h"

typedef struct {
    KdSandbox *sb;
    char *admin;
    char *password;
    char *be1_uri;
    char *be2_uri;
    char *fe_uri;
    const char *be1;
    const char *be2;
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

    kd_imap_global_init();
    f->sb = kd_sandbox_start(NULL, &error);
    if (f->sb == NULL) {
        fprintf(stderr, "cannot start the sandbox: %s\n", error->message);
        g_free(f);
        return -1; /* the group fails, never skips */
    }
    f->admin = g_strdup(kd_sandbox_need(f->sb, "CYRUS_ADMIN"));
    f->password = read_secret(kd_sandbox_need(f->sb, "CYRUS_ADMIN_PW_FILE"));
    f->be1_uri = g_strdup_printf("imap://127.0.0.1:%d",
                                 kd_sandbox_get_int(f->sb, "BE1_PORT"));
    f->be2_uri = g_strdup_printf("imap://127.0.0.1:%d",
                                 kd_sandbox_get_int(f->sb, "BE2_PORT"));
    f->fe_uri = g_strdup_printf("imap://127.0.0.1:%d",
                                kd_sandbox_get_int(f->sb, "FE_PORT"));
    f->be1 = kd_sandbox_need(f->sb, "BE1_SERVERNAME");
    f->be2 = kd_sandbox_need(f->sb, "BE2_SERVERNAME");
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
    g_free(f->be1_uri);
    g_free(f->be2_uri);
    g_free(f->fe_uri);
    g_free(f);
    return 0;
}

static KdImap *
admin_session(Fixture *f, const char *uri)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = kd_imap_connect(uri, 10, &error);

    if (imap == NULL || !kd_imap_login(imap, f->admin, f->password, &error)) {
        fail_msg("%s: %s", uri, error->message);
    }
    return g_steal_pointer(&imap);
}

#define assert_ok(call, err)                                                  \
    do {                                                                      \
        if (!(call)) {                                                        \
            fail_msg("%s: %s", #call, (err) ? (err)->message : "?");          \
        }                                                                     \
    } while (0)

static void
assert_fails_with(gboolean ok, GError **error, int code)
{
    if (ok) {
        fail_msg("expected error %d, got success", code);
    }
    if ((*error)->code != code) {
        fail_msg("expected error %d, got %d: %s", code, (*error)->code,
                 (*error)->message);
    }
    g_clear_error(error);
}

static gboolean
listed(KdImap *imap, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) names = NULL;

    assert_ok(kd_imap_list(imap, name, &names, &error), error);
    for (guint i = 0; i < names->len; i++) {
        if (strcmp(names->pdata[i], name) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

static void
test_imap_greeting_and_login(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = kd_imap_connect(f->be1_uri, 10, &error);

    assert_ok(imap != NULL, error);
    assert_string_equal(kd_imap_get_servername(imap), f->be1);
    assert_non_null(kd_imap_server_version(imap));
    assert_true(g_str_has_prefix(kd_imap_server_version(imap), "3."));
    assert_false(kd_imap_login(imap, "no\r\nA1 LOGOUT", "x", &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_INVALID_NAME);
    g_clear_error(&error);
    assert_ok(kd_imap_login(imap, f->admin, f->password, &error), error);
    assert_true(kd_imap_has_capability(imap, "METADATA"));
    assert_ok(kd_imap_noop(imap, &error), error);

    /* nothing listens on port 1 */
    assert_null(kd_imap_connect("imap://127.0.0.1:1", 5, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_TRANSIENT);
    assert_true(kd_imap_error_is_transient(error));
    g_clear_error(&error);
    assert_null(kd_imap_connect("imaps://127.0.0.1:1", 5, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_TRANSIENT);
    g_clear_error(&error);
    assert_null(kd_imap_connect("imaps://127.0.0.1:1/INBOX", 5, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_CONFIG);
}

static void
test_imap_create_with_location_and_idempotency(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->fe_uri);
    g_autoptr(KdImap) be1 = admin_session(f, f->be1_uri);
    g_autoptr(KdImap) be2 = admin_session(f, f->be2_uri);
    g_autofree char *loc2 = g_strdup_printf("%s!default", f->be2);
    g_autofree char *loc1 = g_strdup_printf("%s!default", f->be1);
    const char *inbox = "user/alice@create.example.org";
    const char *cal = "user/alice/Calendar@create.example.org";

    assert_ok(kd_imap_create(fe, inbox, loc2, &error), error);
    assert_ok(kd_imap_create(fe, cal, NULL, &error), error);
    /* sub-folder follows its parent to backend2 */
    assert_true(listed(be2, inbox));
    assert_true(listed(be2, cal));
    assert_false(listed(be1, inbox));

    /*
     * Idempotency: a second CREATE fails with an "exists" code. Through
     * the frontend that knows the mailbox (its own CREATE kicked its
     * mupdate copy) it is "Mailbox already exists" whatever the location;
     * "unable to reserve" comes when the frontend has not seen it yet.
     */
    assert_false(kd_imap_create(fe, inbox, loc2, &error));
    assert_true(error->code == KD_IMAP_ERROR_EXISTS ||
                error->code == KD_IMAP_ERROR_EXISTS_ELSEWHERE);
    g_clear_error(&error);
    assert_false(kd_imap_create(fe, inbox, loc1, &error));
    assert_true(error->code == KD_IMAP_ERROR_EXISTS ||
                error->code == KD_IMAP_ERROR_EXISTS_ELSEWHERE);
    g_clear_error(&error);
    /* on the other backend directly: mupdate refuses the reservation */
    assert_fails_with(kd_imap_create(be1, inbox, NULL, &error), &error,
                      KD_IMAP_ERROR_EXISTS_ELSEWHERE);
    assert_fails_with(kd_imap_create(be2, cal, NULL, &error), &error,
                      KD_IMAP_ERROR_EXISTS);
    /* location given as a bare server goes out as (SERVER ...) */
    assert_ok(kd_imap_create(fe, "user/bert@create.example.org", f->be1,
                             &error),
              error);
    assert_true(listed(be1, "user/bert@create.example.org"));
    /* a bad partition is a configuration error */
    assert_fails_with(kd_imap_create(be1, "user/carl@create.example.org",
                                     "127.0.0.1:1!nosuchpart", &error),
                      &error, KD_IMAP_ERROR_CONFIG);
    assert_true(kd_imap_is_alive(fe));
}

static void
test_imap_hostile_names_refused_locally(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->fe_uri);
    const char *hostile[] = {
        "user/x@h.example.org\r\nA1 DELETE user/y@h.example.org",
        "user/jane@h.example.com/Calendar",
        "user/*@h.example.org",
        "user/j\xc3\xbcrgen@h.example.org",
        "user/x@h.example.org\"",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
        if (i == 4) {
            /* a quote is legal in a name; it is quoted, not refused */
            continue;
        }
        assert_fails_with(kd_imap_create(fe, hostile[i], NULL, &error),
                          &error, KD_IMAP_ERROR_INVALID_NAME);
    }
    assert_fails_with(kd_imap_setacl(fe, "user/x@h.example.org",
                                     "anyone\r\nA1 LOGOUT", "lrs", &error),
                      &error, KD_IMAP_ERROR_INVALID_NAME);
    assert_fails_with(kd_imap_setacl(fe, "user/x@h.example.org", "anyone",
                                     "all", &error),
                      &error, KD_IMAP_ERROR_INVALID_NAME);
    assert_fails_with(kd_imap_create(fe, "user/x@h.example.org",
                                     "srv default", &error),
                      &error, KD_IMAP_ERROR_INVALID_NAME);
    /* nothing was sent: the session is fine and nothing was created */
    assert_ok(kd_imap_noop(fe, &error), error);
    assert_false(listed(fe, "user/x@h.example.org"));
    assert_false(listed(fe, "user/jane@h.example.com"));
}

static void
test_imap_acl_and_quota_round_trip(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->fe_uri);
    g_autoptr(GPtrArray) acl = NULL;
    g_autofree char *root = NULL;
    g_autofree char *rights = NULL;
    const char *inbox = "user/dora@acl.example.org";
    const char *cal = "user/dora/Calendar@acl.example.org";
    gint64 usage = -2;
    gint64 limit = -2;
    gboolean seen = FALSE;

    assert_ok(kd_imap_create(fe, inbox, NULL, &error), error);
    assert_ok(kd_imap_create(fe, cal, NULL, &error), error);
    assert_ok(kd_imap_setacl(fe, cal, "anyone", "lrs", &error), error);
    assert_ok(kd_imap_setacl(fe, cal, "eve@acl.example.org", "lrswi",
                             &error),
              error);
    assert_ok(kd_imap_getacl(fe, cal, &acl, &error), error);
    for (guint i = 0; i < acl->len; i++) {
        KdImapAce *ace = acl->pdata[i];

        if (strcmp(ace->identifier, "anyone") == 0) {
            assert_string_equal(ace->rights, "lrs");
            seen = TRUE;
        }
        if (strcmp(ace->identifier, "dora@acl.example.org") == 0) {
            assert_string_equal(ace->rights, "lrswipkxtecdan");
        }
    }
    assert_true(seen);
    g_clear_pointer(&acl, g_ptr_array_unref);
    assert_ok(kd_imap_deleteacl(fe, cal, "eve@acl.example.org", &error),
              error);
    assert_ok(kd_imap_getacl(fe, cal, &acl, &error), error);
    for (guint i = 0; i < acl->len; i++) {
        KdImapAce *ace = acl->pdata[i];

        assert_string_not_equal(ace->identifier, "eve@acl.example.org");
    }
    assert_ok(kd_imap_myrights(fe, cal, &rights, &error), error);
    assert_non_null(strchr(rights, 'a'));
    assert_fails_with(kd_imap_getacl(fe, "user/nobody@acl.example.org", &acl,
                                     &error),
                      &error, KD_IMAP_ERROR_NONEXISTENT);

    assert_ok(kd_imap_setquota(fe, inbox, 1024, &error), error);
    assert_ok(kd_imap_getquotaroot(fe, cal, &root, &usage, &limit, &error),
              error);
    assert_string_equal(root, inbox);
    assert_int_equal(limit, 1024);
    assert_int_equal(usage, 0);
    g_clear_pointer(&root, g_free);
    assert_ok(kd_imap_setquota(fe, inbox, -1, &error), error);
    assert_ok(kd_imap_getquotaroot(fe, inbox, &root, &usage, &limit, &error),
              error);
    assert_int_equal(limit, -1);
    assert_fails_with(kd_imap_setquota(fe, "user/nobody@acl.example.org", 1,
                                       &error),
                      &error, KD_IMAP_ERROR_NONEXISTENT);
}

static const char *
metadata_value(GPtrArray *items, const char *entry)
{
    for (guint i = 0; i < items->len; i++) {
        KdImapMetadata *it = items->pdata[i];

        if (strcmp(it->entry, entry) == 0) {
            return it->value ? it->value : "(nil)";
        }
    }
    return NULL;
}

static void
test_imap_metadata_on_backend(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->fe_uri);
    g_autoptr(KdImap) be = admin_session(f, f->be1_uri);
    g_autoptr(KdImap) user = NULL;
    g_autoptr(GPtrArray) items = NULL;
    g_autofree char *loc = g_strdup_printf("%s!default", f->be1);
    const char *shared = "/shared/vendor/kolab/folder-type";
    const char *priv = "/private/vendor/kolab/folder-type";
    const char *const both[] = {shared, priv, NULL};
    const char *cal = "user/fred/Calendar@meta.example.org";

    assert_ok(kd_imap_create(fe, "user/fred@meta.example.org", loc, &error),
              error);
    assert_ok(kd_imap_create(fe, cal, NULL, &error), error);
    assert_ok(kd_imap_setmetadata(be, cal, shared, "event", &error), error);
    assert_ok(kd_imap_getmetadata(be, cal, FALSE, both, &items, &error),
              error);
    assert_string_equal(metadata_value(items, shared), "event");
    assert_string_equal(metadata_value(items, priv), "(nil)");
    g_clear_pointer(&items, g_ptr_array_unref);

    /* /private as the user: admin authcid, user authzid, user's names */
    user = kd_imap_connect(f->be1_uri, 10, &error);
    assert_ok(user != NULL, error);
    assert_ok(kd_imap_authenticate_plain(user, "fred@meta.example.org",
                                         f->admin, f->password, &error),
              error);
    assert_true(listed(user, "INBOX/Calendar"));
    assert_ok(kd_imap_setmetadata(user, "INBOX/Calendar", priv,
                                  "event.default", &error),
              error);
    assert_ok(kd_imap_getmetadata(user, "INBOX/Calendar", FALSE, both,
                                  &items, &error),
              error);
    assert_string_equal(metadata_value(items, priv), "event.default");
    assert_string_equal(metadata_value(items, shared), "event");
    g_clear_pointer(&items, g_ptr_array_unref);

    /* a value with quotes and backslashes survives */
    assert_ok(kd_imap_setmetadata(be, cal, shared, "a \"b\" \\c", &error),
              error);
    assert_ok(kd_imap_getmetadata(be, cal, FALSE, both, &items, &error),
              error);
    assert_string_equal(metadata_value(items, shared), "a \"b\" \\c");
    g_clear_pointer(&items, g_ptr_array_unref);
    /* remove */
    assert_ok(kd_imap_setmetadata(be, cal, shared, NULL, &error), error);
    assert_ok(kd_imap_getmetadata(be, cal, FALSE, both, &items, &error),
              error);
    assert_string_equal(metadata_value(items, shared), "(nil)");
    g_clear_pointer(&items, g_ptr_array_unref);
    /* undefined annotation: Permission denied, session survives */
    assert_fails_with(kd_imap_setmetadata(be, cal,
                                          "/shared/vendor/kolab/not-defined",
                                          "x", &error),
                      &error, KD_IMAP_ERROR_PERMISSION);
    assert_ok(kd_imap_noop(be, &error), error);
    /* a non-admin authcid may not act as another user */
    {
        g_autoptr(KdImap) bad = kd_imap_connect(f->be1_uri, 10, &error);

        assert_ok(bad != NULL, error);
        assert_fails_with(
            kd_imap_authenticate_plain(bad, "fred@meta.example.org",
                                       "eve@meta.example.org", "x", &error),
            &error, KD_IMAP_ERROR_AUTH);
    }
}

static void
test_imap_rename_and_delete(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->fe_uri);
    const char *bob = "user/bob@ren.example.org";
    const char *robert = "user/robert@ren.example.org";

    assert_ok(kd_imap_create(fe, bob, NULL, &error), error);
    assert_ok(kd_imap_create(fe, "user/bob/Tasks@ren.example.org", NULL,
                             &error),
              error);
    assert_ok(kd_imap_rename(fe, bob, robert, NULL, &error), error);
    assert_true(listed(fe, robert));
    assert_true(listed(fe, "user/robert/Tasks@ren.example.org"));
    assert_false(listed(fe, bob));
    assert_fails_with(kd_imap_rename(fe, bob, robert, NULL, &error), &error,
                      KD_IMAP_ERROR_NONEXISTENT);

    assert_ok(kd_imap_delete(fe, robert, &error), error);
    assert_false(listed(fe, robert));
    assert_false(listed(fe, "user/robert/Tasks@ren.example.org"));
    assert_fails_with(kd_imap_delete(fe, robert, &error), &error,
                      KD_IMAP_ERROR_NONEXISTENT);

    /* a non-user parent with children */
    assert_ok(kd_imap_create(fe, "shared@ren.example.org", NULL, &error),
              error);
    assert_ok(kd_imap_create(fe, "shared/memo@ren.example.org", NULL, &error),
              error);
    assert_fails_with(kd_imap_delete(fe, "shared@ren.example.org", &error),
                      &error, KD_IMAP_ERROR_HAS_CHILDREN);
}

static void
test_imap_mutf7_names_round_trip(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->fe_uri);
    const char *utf8[] = {
        "Entw\xc3\xbcrfe",
        "\xe5\x8f\xb0\xe5\x8c\x97\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "a&b",
        "\xf0\x9f\x98\x80",
    };

    assert_ok(kd_imap_create(fe, "user/gina@utf.example.org", NULL, &error),
              error);
    for (gsize i = 0; i < G_N_ELEMENTS(utf8); i++) {
        g_autofree char *enc = g_convert(utf8[i], -1, "UTF-7-IMAP", "UTF-8",
                                         NULL, NULL, NULL);
        g_autofree char *name = NULL;
        g_autoptr(GPtrArray) names = NULL;
        g_autofree char *pattern = NULL;
        g_autofree char *back = NULL;
        g_autofree char *folder = NULL;

        assert_non_null(enc);
        name = g_strdup_printf("user/gina/%s@utf.example.org", enc);
        assert_ok(kd_imap_create(fe, name, NULL, &error), error);
        pattern = g_strdup_printf("user/gina/%%@utf.example.org");
        assert_ok(kd_imap_list(fe, name, &names, &error), error);
        assert_int_equal(names->len, 1);
        assert_string_equal(names->pdata[0], name);
        folder = g_strndup((char *) names->pdata[0] + strlen("user/gina/"),
                           strlen(enc));
        back = g_convert(folder, -1, "UTF-8", "UTF-7-IMAP", NULL, NULL, NULL);
        assert_string_equal(back, utf8[i]);
    }
}

static void
test_imap_bug1_shared_annotation_kills_session(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) fe = admin_session(f, f->fe_uri);
    g_autoptr(KdImap) be = admin_session(f, f->be1_uri);
    g_autofree char *loc = g_strdup_printf("%s!default", f->be1);
    const char *memo = "shared/memo@bug.example.org";
    gboolean ok;

    assert_ok(kd_imap_create(fe, "shared@bug.example.org", loc, &error),
              error);
    assert_ok(kd_imap_create(fe, memo, NULL, &error), error);
    ok = kd_imap_setmetadata(be, memo, "/shared/vendor/kolab/folder-type",
                             "mail", &error);
    if (!kd_imap_has_shared_annotation_bug(be)) {
        /* fixed servers (3.6.3+, 3.8+) store it */
        assert_ok(ok, error);
        return;
    }
    /*
     * XFAIL on Cyrus 3.6.0-3.6.2 (cyrus-imapd#4611): "* BYE Fatal error:
     * Internal error: assertion failed: imap/mboxlist.c: 1088:
     * user_isnamespacelocked(userid)". The API must report CLOSED cleanly.
     */
    assert_false(ok);
    assert_int_equal(error->domain, KD_IMAP_ERROR);
    assert_int_equal(error->code, KD_IMAP_ERROR_CLOSED);
    assert_true(kd_imap_error_is_transient(error));
    assert_non_null(strstr(error->message, memo));
    assert_non_null(strstr(error->message, "* BYE Fatal error"));
    g_clear_error(&error);
    assert_false(kd_imap_is_alive(be));
    assert_fails_with(kd_imap_noop(be, &error), &error, KD_IMAP_ERROR_CLOSED);
    /* a fresh session works again */
    g_clear_pointer(&be, kd_imap_free);
    be = admin_session(f, f->be1_uri);
    assert_ok(kd_imap_noop(be, &error), error);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_greeting_and_login),
        cmocka_unit_test(test_imap_create_with_location_and_idempotency),
        cmocka_unit_test(test_imap_hostile_names_refused_locally),
        cmocka_unit_test(test_imap_acl_and_quota_round_trip),
        cmocka_unit_test(test_imap_metadata_on_backend),
        cmocka_unit_test(test_imap_rename_and_delete),
        cmocka_unit_test(test_imap_mutf7_names_round_trip),
        cmocka_unit_test(test_imap_bug1_shared_annotation_kills_session),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
