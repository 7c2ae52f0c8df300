/* Unit tests for kolabd/config.c and config-value.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>

#include "config-private.h"
#include "folders.h"
#include "object.h"

typedef struct {
    char *dir;
} Fixture;

static int
setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->dir = g_dir_make_tmp("kd-test-config-XXXXXX", NULL);
    assert_non_null(f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *p = g_build_filename(f->dir, name, NULL);

        g_unlink(p);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static char *
write_file(Fixture *f, const char *name, const char *text)
{
    char *path = g_build_filename(f->dir, name, NULL);

    assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static KdConfig *
load_text(Fixture *f, const char *text, GError **error)
{
    g_autofree char *path = write_file(f, "kolabd.conf", text);

    return kd_config_load(path, error);
}

static void
test_config_defaults(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdConfig) c = load_text(*state, "# nothing\n", &error);
    g_autofree char *sync = NULL;

    assert_non_null(c);
    assert_string_equal(c->ldap_uri, "ldap://localhost:389");
    assert_string_equal(c->base_dn, "dc=example,dc=org");
    assert_null(c->bind_dn);
    assert_null(c->bind_pw);
    assert_string_equal(c->user_filter, "(objectclass=kolabinetorgperson)");
    assert_string_equal(c->sharedfolder_filter,
                        "(objectclass=kolabsharedfolder)");
    assert_string_equal(c->mailserver_attribute, "mailhost");
    assert_string_equal(c->quota_attribute, "mailquota");
    assert_string_equal(c->acl_attribute, "acl");
    assert_string_equal(c->folder_type_attribute, "kolabfoldertype");
    assert_string_equal(c->delivery_address_attribute, "mail");
    assert_int_equal(c->ldap_timeout, 10);
    assert_string_equal(c->imap_uri, "imaps://localhost:993");
    assert_string_equal(c->admin_login, "cyrus-admin");
    assert_string_equal(c->primary_domain, "example.org");
    assert_int_equal(c->default_quota, KD_QUOTA_UNSET);
    assert_int_equal(c->delete_mode, KD_DELETE_DELAYED);
    assert_int_equal(c->delete_grace, 7 * 86400);
    assert_int_equal(c->workers_per_backend, 4);
    assert_int_equal(c->annotate_shared_folders, KD_TRISTATE_AUTO);
    assert_string_equal(c->placement[0], "attribute");
    assert_string_equal(c->placement[1], "hash");
    assert_null(c->placement[2]);
    assert_string_equal(c->frontend_uri, c->imap_uri);
    assert_string_equal(c->mupdate_user, "cyrus-admin");
    assert_false(c->folders_configured);
    assert_int_equal(c->folders->len, 11);
    assert_int_equal(c->backends->len, 0);
    sync = kd_config_sync_filter(c);
    assert_string_equal(sync, "(|(objectclass=kolabinetorgperson)"
                              "(objectclass=kolabsharedfolder))");
}

static void
test_config_full_file(void **state)
{
    Fixture *f = *state;
    g_autofree char *pw = write_file(f, "ldap.pw", "s3cret\n");
    g_autofree char *apw = write_file(f, "imap.pw", "adm1n\r\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(KdConfig) c = load_text(
        f,
        "[ldap]\n"
        "ldap_uri = ldap://127.0.0.1:3890 ldapi://%2Frun%2Fslapd.sock\n"
        "base_dn = dc=kolab,dc=test\n"
        "bind_dn = cn=kolabd,dc=kolab,dc=test\n"
        "bind_pw_file = ldap.pw\n"
        "kolab_user_filter = (&(objectClass=kolabInetOrgPerson)"
        "(!(cn=\\2a)))\n"
        "quota_attribute = MailQuota\n"
        "timeout = 2m\n"
        "[cyrus-imap]\n"
        "uri = imap://127.0.0.1:38343\n"
        "admin_password_file = imap.pw\n"
        "[kolab]\n"
        "primary_domain = Kolab.TEST\n"
        "default_quota = 1048576\n"
        "[kolabd]\n"
        "placement = hash; least-used\n"
        "delete_mode = Keep\n"
        "delete_grace = 1d12h\n"
        "state_dir = /var/lib/kolabd-test\n"
        "annotate_shared_folders = no\n"
        "[murder]\n"
        "mupdate_uri = mupdate://127.0.0.1:3905\n"
        "[backend one]\n"
        "uri = imap://127.0.0.1:38143\n"
        "[backend two]\n"
        "uri = imaps://Backend2.Example.org\n"
        "servername = BE2.example.org\n"
        "partition = data2\n"
        "weight = 50\n"
        "[placement hash]\n"
        "salt = x y\n"
        "[folder Sent]\n"
        "private_type = mail.sentitems\n"
        "[folder Entw\xc3\xbcrfe]\n"
        "private_type = mail.drafts\n"
        "subscribe = no\n"
        "quota = 0\n"
        "acl = anyone, read; bob@example.org lrs\n",
        &error);
    const KdBackendConfig *b;
    const KdFolderSpec *spec;
    const KdPlacementConfig *pl;

    if (c == NULL) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(kd_config_warnings(c)->len, 0);
    assert_string_equal(c->bind_pw, "s3cret");
    assert_string_equal(c->admin_password, "adm1n");
    assert_string_equal(c->mupdate_password, "adm1n");
    assert_string_equal(c->user_filter,
                        "(&(objectClass=kolabInetOrgPerson)(!(cn=\\2a)))");
    assert_string_equal(c->quota_attribute, "mailquota");
    assert_int_equal(c->ldap_timeout, 120);
    assert_string_equal(c->primary_domain, "kolab.test");
    assert_int_equal(c->default_quota, 1048576);
    assert_string_equal(c->placement[0], "hash");
    assert_string_equal(c->placement[1], "least-used");
    assert_int_equal(c->delete_mode, KD_DELETE_KEEP);
    assert_int_equal(c->delete_grace, 36 * 3600);
    assert_int_equal(c->annotate_shared_folders, KD_TRISTATE_NO);
    assert_int_equal(c->backends->len, 2);
    b = kd_config_find_backend(c, "one");
    assert_string_equal(b->servername, "127.0.0.1:38143");
    assert_null(b->partition);
    assert_int_equal(b->weight, 100);
    b = kd_config_find_backend_by_servername(c, "be2.EXAMPLE.org");
    assert_non_null(b);
    assert_string_equal(b->name, "two");
    assert_string_equal(b->partition, "data2");
    assert_int_equal(b->weight, 50);
    assert_null(kd_config_find_backend(c, "three"));
    pl = kd_config_find_placement(c, "hash");
    assert_string_equal(g_hash_table_lookup(pl->keys, "salt"), "x y");
    assert_true(c->folders_configured);
    assert_int_equal(c->folders->len, 2);
    spec = c->folders->pdata[1];
    assert_string_equal(spec->name_mutf7, "Entw&APw-rfe");
    assert_false(spec->subscribe);
    assert_int_equal(spec->quota_kib, 0);
    assert_string_equal(spec->acl, "anyone lrs\nbob@example.org lrs");
    spec = c->folders->pdata[0];
    assert_true(spec->subscribe);
    assert_int_equal(spec->quota_kib, KD_QUOTA_UNSET);
    {
        g_autofree char *where = kd_config_where(c, "backend two", "weight");
        g_autofree char *want = g_strdup_printf("%s:29", c->path);

        assert_string_equal(where, want);
    }
}

/* Loads @text, expects failure, and checks that @needle (with the
 * "file:LINE" prefix substituted for %s) is in the message. */
static void
expect_error(Fixture *f, const char *text, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdConfig) c = load_text(f, text, &error);
    g_autofree char *path = g_build_filename(f->dir, "kolabd.conf", NULL);
    g_auto(GStrv) parts = g_strsplit(needle, "%s", 2);
    g_autofree char *want = g_strjoinv(path, parts);

    if (c != NULL) {
        fail_msg("accepted: %s", text);
    }
    assert_true(g_error_matches(error, KD_CONFIG_ERROR,
                                KD_CONFIG_ERROR_INVALID));
    if (strstr(error->message, want) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", error->message, want);
    }
}

static void
test_config_errors_name_file_and_line(void **state)
{
    Fixture *f = *state;

    expect_error(f, "[ldap]\n\ntimeout = soon\n",
                 "%s:3: [ldap] timeout: \"soon\" is not a duration");
    expect_error(f, "[ldap]\nldap_uri = http://x\n",
                 "%s:2: [ldap] ldap_uri: URI scheme \"http\" not allowed");
    expect_error(f, "[ldap]\nkolab_user_filter = (objectclass=x\n",
                 "%s:2: [ldap] kolab_user_filter: invalid LDAP filter");
    expect_error(f, "[kolabd]\ndelete_mode = never\n",
                 "%s:2: [kolabd] delete_mode: \"never\" is not one of "
                 "keep|delayed|delete");
    expect_error(f, "[kolabd]\nworkers_per_backend = 0\n",
                 "%s:2: [kolabd] workers_per_backend: \"0\" is not a whole "
                 "number from 1 to 64");
    expect_error(f, "[kolabd]\nworkers_per_backend = -3\n",
                 "%s:2: [kolabd] workers_per_backend");
    expect_error(f, "[kolab]\ndefault_quota = lots\n",
                 "%s:2: [kolab] default_quota");
    expect_error(f, "[kolab]\ndefault_quota = -2\n",
                 "%s:2: [kolab] default_quota");
    expect_error(f, "[kolab]\nprimary_domain = exa mple.org\n",
                 "%s:2: [kolab] primary_domain");
    expect_error(f, "[kolabd]\nstate_dir = relative/dir\n",
                 "%s:2: [kolabd] state_dir: \"relative/dir\" is not an "
                 "absolute path");
    expect_error(f, "[kolabd]\nplacement = hash, b@d\n",
                 "%s:2: [kolabd] placement: \"b@d\" is not a valid name");
    expect_error(f, "[ldap]\nmailserver_attribute = mail host\n",
                 "%s:2: [ldap] mailserver_attribute");
    expect_error(f, "[ldap]\nbind_pw_file = /nonexistent/kd-pw\n",
                 "%s:2: [ldap] bind_pw_file: cannot read secret file");
    expect_error(f, "[ldap]\nbind_pw = a\nbind_pw_file = /x\n",
                 "%s:2: [ldap] bind_pw: set both bind_pw and bind_pw_file");
    expect_error(f, "[ldap]\ntimeout =\n",
                 "%s:2: [ldap] timeout: empty value");
    expect_error(f, "key = value\n", "%s:1: key=value before any [section]");
    expect_error(f, "[ldap]\njunk line\n", "%s:2: expected key=value");
    expect_error(f, "[ldap\n", "%s:1: malformed [section] line");
    expect_error(f, "[backend one]\nweight = 3\n",
                 "%s:1: [backend one]: uri is required");
    expect_error(f, "[backend b/1]\nuri = imap://x\n",
                 "%s:1: [backend b/1]: backend name must be");
    expect_error(f,
                 "[backend a]\nuri = imap://h:1\n"
                 "[backend b]\nuri = imap://x\nservername = h:1\n",
                 "%s:3: [backend b]: servername h:1 is already used by "
                 "[backend a]");
    expect_error(f, "[backend a]\nuri = imap://h\npartition = a b\n",
                 "%s:3: [backend a] partition");
    expect_error(f, "[folder a/../b]\n", "%s:1: [folder a/../b]: bad folder");
    expect_error(f, "[folder X]\nacl = anyone, everything\n",
                 "%s:2: [folder X] acl: invalid acl value");
    expect_error(f, "[folder X]\nprivate_type = a\"b\n",
                 "%s:2: [folder X] private_type");
    expect_error(f, "[folder X]\nsubscribe = maybe\n",
                 "%s:2: [folder X] subscribe");
    /* several errors are all reported */
    expect_error(f, "[ldap]\ntimeout = x\n[kolabd]\nuser = a b\n",
                 "%s:4: [kolabd] user");
}

static void
test_config_warnings_for_unknown(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdConfig) c = load_text(*state,
                                      "[ldap]\nbind_dn = cn=x\nfoo = 1\n"
                                      "[kolab]\nsync_interval = 300\n"
                                      "[example.org]\ndefault_quota = 1\n"
                                      "[ldap]\nbind_dn = cn=y\n",
                                      &error);
    const GPtrArray *w;
    g_autofree char *all = NULL;

    assert_non_null(c);
    w = kd_config_warnings(c);
    g_ptr_array_add((GPtrArray *)w, NULL);
    all = g_strjoinv("|", (char **)w->pdata);
    g_ptr_array_remove_index((GPtrArray *)w, w->len - 1);
    assert_non_null(strstr(all, ":3: [ldap] foo: unknown key"));
    assert_non_null(strstr(all, ":5: [kolab] sync_interval: unknown key"));
    assert_non_null(strstr(all, ":6: [example.org]: unknown section"));
    assert_non_null(strstr(all, ":8: section [ldap] repeated"));
    assert_non_null(strstr(all, ":9: [ldap] bind_dn: set again"));
    assert_string_equal(c->bind_dn, "cn=y");
}

static void
test_config_secrets_never_printed(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdConfig) c = load_text(
        f, "[ldap]\nbind_dn = cn=x\nbind_pw = Pa55word!\n"
           "[cyrus-imap]\nadmin_password = Adm1nPw\n",
        &error);
    g_autofree char *dump = NULL;
    g_autoptr(GPtrArray) problems = NULL;

    assert_non_null(c);
    dump = kd_config_dump(c);
    assert_null(strstr(dump, "Pa55word"));
    assert_null(strstr(dump, "Adm1nPw"));
    assert_non_null(strstr(dump, "bind_pw = <hidden>"));
    assert_non_null(strstr(dump, "[folder Calendar]"));
    problems = kd_config_check(c);
    /* placement without backends */
    assert_int_equal(problems->len, 1);

    /* a bad value next to a secret: the message shows neither secret */
    g_clear_error(&error);
    {
        g_autoptr(KdConfig) bad = load_text(
            f, "[ldap]\nbind_pw = Pa55word!\ntimeout = x\n", &error);

        assert_null(bad);
        assert_null(strstr(error->message, "Pa55word"));
    }
}

static void
test_config_secret_file_rules(void **state)
{
    Fixture *f = *state;
    g_autofree char *empty = write_file(f, "empty.pw", "\n");
    g_autofree char *two = write_file(f, "two.pw", "a\nb\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(KdConfig) c = NULL;

    expect_error(f, "[ldap]\nbind_pw_file = empty.pw\n",
                 "%s:2: [ldap] bind_pw_file: secret file");
    expect_error(f, "[ldap]\nbind_pw_file = two.pw\n",
                 "%s:2: [ldap] bind_pw_file: secret file");
    c = load_text(f, "[cyrus-imap]\n", &error);
    assert_non_null(c);
    assert_null(c->admin_password);
    {
        g_autoptr(GPtrArray) problems = kd_config_check(c);

        assert_true(problems->len >= 2);
        assert_non_null(strstr(problems->pdata[0], "admin_password"));
    }
}

static void
test_config_durations(void **state)
{
    static const struct {
        const char *in;
        guint64 out;
    } good[] = {{"0", 0},      {"30", 30},        {"30s", 30},
                {"5m", 300},   {"2h", 7200},      {"7d", 604800},
                {"1w", 604800}, {"1d12h", 129600}, {"1h30m15s", 5415}};
    static const char *bad[] = {"", "x", "5x", "m", "-1", "1.5h",
                                "99999999999", "5000w"};

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        guint64 v = 0;

        assert_true(kd_config_value_parse_duration(good[i].in, &v, NULL));
        assert_int_equal(v, good[i].out);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        guint64 v = 0;

        if (kd_config_value_parse_duration(bad[i], &v, NULL)) {
            fail_msg("accepted duration %s", bad[i]);
        }
    }
}

static void
test_config_unreadable_file(void **state)
{
    g_autoptr(GError) error = NULL;

    assert_null(kd_config_load("/nonexistent/kolabd.conf", &error));
    assert_true(g_error_matches(error, KD_CONFIG_ERROR,
                                KD_CONFIG_ERROR_READ));
}

static void
test_config_option_table_complete(void **state)
{
    guint n = 0;
    const KdOption *o = kd_config_options(&n);

    assert_true(n > 40);
    for (guint i = 0; i < n; i++) {
        assert_non_null(o[i].description);
        if (o[i].type == KD_OPT_URI || o[i].type == KD_OPT_URI_LIST ||
            o[i].type == KD_OPT_ENUM || o[i].type == KD_OPT_SECRET_FILE) {
            assert_non_null(o[i].extra);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_defaults, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_full_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_config_errors_name_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_warnings_for_unknown,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_secrets_never_printed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_secret_file_rules, setup,
                                        teardown),
        cmocka_unit_test(test_config_durations),
        cmocka_unit_test(test_config_unreadable_file),
        cmocka_unit_test(test_config_option_table_complete),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
