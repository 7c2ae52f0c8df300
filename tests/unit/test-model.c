/* Unit tests for kolabd/model.c, including hostile entries. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

static const guint8 uuid[KD_UUID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8,
                                         9, 10, 11, 12, 13, 14, 15, 16};

typedef struct {
    KdConfig *config;
    KdModel *model;
} Fixture;

static KdConfig *
config_from(const char *text)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("kd-test-model-XXXXXX.conf", &path, NULL);
    KdConfig *c;
    g_autoptr(GError) error = NULL;

    assert_true(fd >= 0);
    close(fd);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    c = kd_config_load(path, &error);
    g_unlink(path);
    if (c == NULL) {
        fail_msg("%s", error->message);
    }
    return c;
}

static int
setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->config = config_from("[kolab]\nprimary_domain = example.org\n"
                            "default_quota = 1048576\n");
    f->model = kd_model_new(f->config, NULL);
    assert_non_null(f->model);
    kd_model_set_now(f->model, 1700000000);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;

    kd_model_free(f->model);
    kd_config_free(f->config);
    g_free(f);
    return 0;
}

static KdEntry *
user(const char *mail)
{
    KdEntry *e = kd_entry_new("uid=x,ou=People,dc=example,dc=org");

    kd_entry_add(e, "objectClass", "top");
    kd_entry_add(e, "objectClass", "inetOrgPerson");
    kd_entry_add(e, "objectClass", "kolabInetOrgPerson");
    if (mail != NULL) {
        kd_entry_add(e, "mail", mail);
    }
    return e;
}

static KdEntry *
shared(const char *cn)
{
    KdEntry *e = kd_entry_new("cn=x,ou=Shared Folders,dc=example,dc=org");

    kd_entry_add(e, "objectClass", "top");
    kd_entry_add(e, "objectClass", "kolabSharedFolder");
    if (cn != NULL) {
        kd_entry_add(e, "cn", cn);
    }
    return e;
}

static void
test_model_user_basic(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdEntry) e = user("John.Doe@Example.ORG");
    g_autoptr(KdObject) o = NULL;

    kd_entry_add(e, "mailHost", "IMAP1.Example.org");
    o = kd_model_classify(f->model, uuid, e);
    assert_int_equal(o->kind, KD_OBJECT_USER);
    assert_null(o->error);
    assert_memory_equal(o->uuid, uuid, KD_UUID_LEN);
    assert_string_equal(o->dn, "uid=x,ou=People,dc=example,dc=org");
    assert_string_equal(o->mail, "john.doe@example.org");
    assert_string_equal(o->domain, "example.org");
    assert_string_equal(o->mailbox, "user/john.doe@example.org");
    assert_int_equal(o->quota_kib, 1048576);
    assert_null(o->acl);
    assert_null(o->folder_type);
    assert_string_equal(o->mailhost, "imap1.example.org");
}

static void
test_model_user_quota_rules(void **state)
{
    Fixture *f = *state;
    static const struct {
        const char *value;
        gint64 want;
    } cases[] = {
        {NULL, 1048576}, {"2048", 2048},       {"-1", KD_QUOTA_UNLIMITED},
        {"0", 1048576},  {"-5", 1048576},      {"+10", 10},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(KdEntry) e = user("a@example.org");
        g_autoptr(KdObject) o = NULL;

        if (cases[i].value != NULL) {
            kd_entry_add(e, "mailQuota", cases[i].value);
        }
        o = kd_model_classify(f->model, uuid, e);
        assert_null(o->error);
        assert_int_equal(o->quota_kib, cases[i].want);
    }
    {
        g_autoptr(KdEntry) e = user("a@example.org");
        g_autoptr(KdObject) o = NULL;

        kd_entry_add(e, "mailquota", "1 GB");
        o = kd_model_classify(f->model, uuid, e);
        assert_non_null(o->error);
        assert_non_null(strstr(o->error, "mailquota"));
        assert_null(o->mailbox);
    }
}

static void
test_model_user_quota_without_default(void **state)
{
    g_autoptr(KdConfig) c = config_from("[kolab]\n");
    g_autoptr(KdModel) m = kd_model_new(c, NULL);
    g_autoptr(KdEntry) e = user("a@example.org");
    g_autoptr(KdObject) o = kd_model_classify(m, uuid, e);

    assert_int_equal(o->quota_kib, KD_QUOTA_UNSET);
}

static void
test_model_user_hostile_mail(void **state)
{
    Fixture *f = *state;
    static const struct {
        const char *mail;
        gsize len;
    } bad[] = {
        {"a@b@example.org", 0},
        {"noatsign", 0},
        {"@example.org", 0},
        {"a@", 0},
        {"a@example..org", 0},
        {"a@exa/mple.org", 0},
        {"a/b@example.org", 0},
        {"a%@example.org", 0},
        {"a*@example.org", 0},
        {"a\"b@example.org", 0},
        {"a\\b@example.org", 0},
        {"a^b@example.org", 0},
        {"a b@example.org", 0},
        {"a..b@example.org", 0},
        {".a@example.org", 0},
        {"a.@example.org", 0},
        {"a@example.org\r\nA1 DELETE user/x", 0},
        {"a\0b@example.org", 15},
        {"j\xc3\xbcrgen@example.org", 0},
        {"\xff@example.org", 0},
        {"", 0},
        {"a@-example.org", 0},
        /* refused by Cyrus 3.6.1 (CREATE "Invalid mailbox name", or login
         * fails), so refused before any IMAP command */
        {"a!b@example.org", 0},
        {"a|b@example.org", 0},
        {"a&b@example.org", 0},
        {"a`b@example.org", 0},
        {"a?b@example.org", 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(KdEntry) e = user(NULL);
        g_autoptr(KdObject) o = NULL;
        gsize len = bad[i].len ? bad[i].len : strlen(bad[i].mail);

        kd_entry_add_value(e, "mail", bad[i].mail, len);
        o = kd_model_classify(f->model, uuid, e);
        assert_int_equal(o->kind, KD_OBJECT_USER);
        if (o->error == NULL) {
            fail_msg("accepted mail %zu as %s", i, o->mailbox);
        }
        assert_true(g_str_has_prefix(o->error, "mail: "));
        assert_null(o->mailbox);
        for (const char *p = o->error; *p; p++) {
            assert_true((guchar)*p >= 0x20);
        }
    }
}

static void
test_model_user_without_mail(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdEntry) e = user(NULL);
    g_autoptr(KdObject) o = kd_model_classify(f->model, uuid, e);

    assert_int_equal(o->kind, KD_OBJECT_USER);
    assert_non_null(o->error);
    assert_non_null(strstr(o->error, "mail: missing"));
    assert_null(o->mailbox);
}

static void
test_model_user_overlong_mailbox(void **state)
{
    Fixture *f = *state;
    g_autoptr(GString) local = g_string_new(NULL);
    g_autoptr(GString) domain = g_string_new(NULL);
    g_autofree char *mail = NULL;
    g_autoptr(KdEntry) e = NULL;
    g_autoptr(KdObject) o = NULL;

    /* a 254-byte address is fine */
    for (int i = 0; i < 60; i++) {
        g_string_append(domain, "abc.");
    }
    g_string_append(domain, "org");
    g_string_append(local, "me");
    mail = g_strdup_printf("%s@%s", local->str, domain->str);
    e = user(mail);
    o = kd_model_classify(f->model, uuid, e);
    assert_null(o->error);
    assert_true(strlen(o->mailbox) < 490);
    g_clear_pointer(&o, kd_object_free);
    g_clear_pointer(&e, kd_entry_free);
    /* a longer one is not */
    g_string_append(local, "xxxxxxxxxxxxxxxxxxxx");
    g_free(mail);
    mail = g_strdup_printf("%s@%s", local->str, domain->str);
    e = user(mail);
    o = kd_model_classify(f->model, uuid, e);
    assert_non_null(o->error);
    assert_null(o->mailbox);
}

static void
test_model_none(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdEntry) e = kd_entry_new("cn=group,dc=example,dc=org");
    g_autoptr(KdObject) o = NULL;

    kd_entry_add(e, "objectClass", "kolabGroupOfUniqueNames");
    kd_entry_add(e, "mail", "group@example.org");
    o = kd_model_classify(f->model, uuid, e);
    assert_int_equal(o->kind, KD_OBJECT_NONE);
    assert_null(o->error);
    assert_null(o->mailbox);
    assert_string_equal(o->dn, "cn=group,dc=example,dc=org");
}

static void
test_model_shared_names(void **state)
{
    Fixture *f = *state;
    static const struct {
        const char *cn, *target, *mail;
        const char *mailbox, *domain;
    } cases[] = {
        {"memo", NULL, NULL, "shared/memo@example.org", "example.org"},
        {"memo", NULL, "memo@Kolab.Test", "shared/memo@kolab.test",
         "kolab.test"},
        {"x", "shared/Resources/Car1@example.com", NULL,
         "shared/Resources/Car1@example.com", "example.com"},
        {"x", "Projects/Alpha", "alpha@kolab.test",
         "shared/Projects/Alpha@kolab.test", "kolab.test"},
        {"x", "shared/shared/dup@Example.org", NULL,
         "shared/dup@example.org", "example.org"},
        {"x", "Entw\xc3\xbcrfe & Co", NULL,
         "shared/Entw&APw-rfe &- Co@example.org", "example.org"},
        {"x", NULL, "shared+lists@example.net", "shared/lists@example.net",
         "example.net"},
        {"Project.X", NULL, NULL, "shared/Project.X@example.org",
         "example.org"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(KdEntry) e = shared(cases[i].cn);
        g_autoptr(KdObject) o = NULL;

        if (cases[i].target != NULL) {
            kd_entry_add(e, "kolabTargetFolder", cases[i].target);
        }
        if (cases[i].mail != NULL) {
            kd_entry_add(e, "mail", cases[i].mail);
        }
        o = kd_model_classify(f->model, uuid, e);
        assert_int_equal(o->kind, KD_OBJECT_SHARED);
        if (o->error != NULL) {
            fail_msg("case %zu refused: %s", i, o->error);
        }
        assert_string_equal(o->mailbox, cases[i].mailbox);
        assert_string_equal(o->domain, cases[i].domain);
        assert_int_equal(o->quota_kib, KD_QUOTA_UNSET);
    }
}

static void
test_model_shared_acl_and_type(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdEntry) e = shared("memo");
    g_autoptr(KdObject) o = NULL;
    g_autoptr(KdEntry) e2 = shared("memo");
    g_autoptr(KdObject) o2 = NULL;

    kd_entry_add(e, "acl", "anyone, read");
    kd_entry_add(e, "acl", "John@Example.org all");
    kd_entry_add(e, "acl", "('old@example.org', 'lrs', 1600000000)");
    kd_entry_add(e, "kolabFolderType", "mail");
    kd_entry_add(e, "mail", "memo@example.org");
    o = kd_model_classify(f->model, uuid, e);
    assert_null(o->error);
    assert_string_equal(o->acl, "anyone lrsp\njohn@example.org lrswipkxtean");
    assert_string_equal(o->folder_type, "mail");
    assert_string_equal(o->mail, "memo@example.org");

    /* no acl values and no delivery address: an empty ACL, not NULL */
    o2 = kd_model_classify(f->model, uuid, e2);
    assert_null(o2->error);
    assert_string_equal(o2->acl, "");
    assert_null(o2->folder_type);
    assert_null(o2->mail);
}

static void
test_model_shared_hostile(void **state)
{
    Fixture *f = *state;
    static const struct {
        const char *attr, *value, *needle;
    } bad[] = {
        {"kolabTargetFolder", "shared/a@b/c", "domain containing '/'"},
        {"kolabTargetFolder", "shared/a\r\nb", "CR or LF"},
        {"kolabTargetFolder", "shared/a*", "wildcard"},
        {"kolabTargetFolder", "shared/a%b", "wildcard"},
        {"kolabTargetFolder", "shared/a/../b", ".."},
        {"kolabTargetFolder", "shared/a//b", "empty component"},
        {"kolabTargetFolder", "shared/b/", "'/'"},
        {"kolabTargetFolder", "/b", "'/'"},
        {"kolabTargetFolder", "shared/a^b", "'^'"},
        {"kolabTargetFolder", "shared/a\"b", "quote"},
        {"kolabTargetFolder", "shared/", "empty"},
        {"kolabTargetFolder", "shared/x@", "invalid domain"},
        {"kolabTargetFolder", "\xc3", "UTF-8"},
        {"acl", "anyone lrs\r\n", "acl: value 1"},
        {"acl", "bad subject, lrs", "acl: value 1"},
        {"acl", "anyone, superpowers", "acl: value 1"},
        {"kolabFolderType", "mail\"", "kolabfoldertype"},
        {"mail", "a@b@c", "mail:"},
        {"cn", "a\tb", "control"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(KdEntry) e = shared(strcmp(bad[i].attr, "cn") ? "ok"
                                                                : NULL);
        g_autoptr(KdObject) o = NULL;

        kd_entry_add(e, bad[i].attr, bad[i].value);
        o = kd_model_classify(f->model, uuid, e);
        assert_int_equal(o->kind, KD_OBJECT_SHARED);
        if (o->error == NULL) {
            fail_msg("accepted %s=%s as %s", bad[i].attr, bad[i].value,
                     o->mailbox);
        }
        if (strstr(o->error, bad[i].needle) == NULL) {
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, o->error,
                     bad[i].needle);
        }
        assert_null(o->mailbox);
    }
    {
        g_autoptr(KdEntry) e = shared(NULL);
        g_autoptr(KdObject) o = kd_model_classify(f->model, uuid, e);

        assert_non_null(strstr(o->error, "cn: missing"));
    }
    {
        g_autoptr(GString) longname = g_string_new("shared/");
        g_autoptr(KdEntry) e = shared("x");
        g_autoptr(KdObject) o = NULL;

        /* 100 x U+00FC is 200 bytes of UTF-8 but 270 of mUTF-7 */
        for (int i = 0; i < 180; i++) {
            g_string_append(longname, "\xc3\xbc");
        }
        kd_entry_add(e, "kolabTargetFolder", longname->str);
        o = kd_model_classify(f->model, uuid, e);
        assert_non_null(o->error);
        assert_non_null(strstr(o->error, "490"));
    }
}

static void
test_model_mailhost_and_extras(void **state)
{
    Fixture *f = *state;
    static const char *const extra[] = {"departmentNumber", "l", NULL};
    g_autoptr(KdEntry) e = user("a@example.org");
    g_autoptr(KdEntry) e2 = user("b@example.org");
    g_autoptr(KdObject) o = NULL;
    g_autoptr(KdObject) o2 = NULL;

    kd_model_set_extra_attrs(f->model, extra);
    kd_entry_add(e, "departmentnumber", "Sales");
    kd_entry_add(e, "mailhost", "127.0.0.1:38143");
    o = kd_model_classify(f->model, uuid, e);
    assert_string_equal(o->mailhost, "127.0.0.1:38143");
    assert_non_null(o->attrs);
    assert_string_equal(g_hash_table_lookup(o->attrs, "departmentnumber"),
                        "Sales");
    assert_null(g_hash_table_lookup(o->attrs, "l"));

    /* a hostile mailHost is ignored (kolabd will overwrite it) */
    kd_entry_add(e2, "mailhost", "evil\r\nhost");
    kd_entry_add(e2, "l", "x\ny");
    o2 = kd_model_classify(f->model, uuid, e2);
    assert_null(o2->error);
    assert_null(o2->mailhost);
    assert_null(o2->attrs);
}

static gboolean
has(const char *const *list, const char *name)
{
    return g_strv_contains(list, name);
}

static void
test_model_wanted_attrs_and_filter(void **state)
{
    g_autoptr(KdConfig) c = config_from(
        "[ldap]\nkolab_user_filter = (&(objectclass=kolabinetorgperson)"
        "(!(nsRoleDN=cn=disabled)))\nquota_attribute = KolabQuota\n");
    g_autoptr(KdModel) m = kd_model_new(c, NULL);
    static const char *const extra[] = {"Mail", "departmentNumber", NULL};
    const char *const *w = kd_model_wanted_attrs(m);
    guint n;

    assert_true(has(w, "objectclass"));
    assert_true(has(w, "mail"));
    assert_true(has(w, "alias"));
    assert_true(has(w, "cn"));
    assert_true(has(w, "mailhost"));
    assert_true(has(w, "kolabquota"));
    assert_true(has(w, "acl"));
    assert_true(has(w, "kolabfoldertype"));
    assert_true(has(w, "kolabtargetfolder"));
    assert_true(has(w, "nsroledn"));
    assert_false(has(w, "mailquota"));
    kd_model_set_extra_attrs(m, extra);
    w = kd_model_wanted_attrs(m);
    assert_true(has(w, "departmentnumber"));
    n = g_strv_length((char **)w);
    for (guint i = 0; i < n; i++) {
        for (guint j = i + 1; j < n; j++) {
            assert_true(strcmp(w[i], w[j]) != 0);
        }
    }
    assert_string_equal(kd_model_sync_filter(m),
                        "(|(&(objectclass=kolabinetorgperson)"
                        "(!(nsRoleDN=cn=disabled)))"
                        "(objectclass=kolabsharedfolder))");
}

static void
test_model_user_filter_wins(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdEntry) e = user("both@example.org");
    g_autoptr(KdObject) o = NULL;

    kd_entry_add(e, "objectClass", "kolabSharedFolder");
    o = kd_model_classify(f->model, uuid, e);
    assert_int_equal(o->kind, KD_OBJECT_USER);
}

static void
test_model_same_entry_same_object(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdEntry) a = shared("memo");
    g_autoptr(KdEntry) b = shared("memo");
    g_autoptr(KdObject) oa = NULL;
    g_autoptr(KdObject) ob = NULL;

    kd_entry_add(a, "acl", "bob@example.org, read");
    kd_entry_add(a, "acl", "anyone, post");
    kd_entry_add(b, "acl", "anyone p");
    kd_entry_add(b, "acl", "Bob@Example.org lrs");
    kd_entry_add(b, "description", "unrelated");
    oa = kd_model_classify(f->model, uuid, a);
    ob = kd_model_classify(f->model, uuid, b);
    assert_true(kd_object_same_desired(oa, ob));
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_model_user_basic),
        T(test_model_user_quota_rules),
        cmocka_unit_test(test_model_user_quota_without_default),
        T(test_model_user_hostile_mail),
        T(test_model_user_without_mail),
        T(test_model_user_overlong_mailbox),
        T(test_model_none),
        T(test_model_shared_names),
        T(test_model_shared_acl_and_type),
        T(test_model_shared_hostile),
        T(test_model_mailhost_and_extras),
        cmocka_unit_test(test_model_wanted_attrs_and_filter),
        T(test_model_user_filter_wins),
        T(test_model_same_entry_same_object),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
