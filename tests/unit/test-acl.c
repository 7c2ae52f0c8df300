/* Unit tests for kolabd/acl.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "acl.h"

#define NOW 1700000000

static char *
canon(const char *rights)
{
    g_autoptr(GError) error = NULL;
    char *out = kd_acl_rights_canonical(rights, NULL, &error);

    if (out == NULL) {
        fail_msg("%s: %s", rights, error->message);
    }
    return out;
}

static void
test_acl_aliases_translate_to_letters(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"all", "lrswipkxtean"},
        {"ALL", "lrswipkxtean"},
        {"full", "lrswipkxten"},
        {"read", "lrs"},
        {"read-only", "lrs"},
        {"read-write", "lrswiten"},
        {"write", "lrswite"},
        {"semi-full", "lrswit"},
        {"append", "wip"},
        {"post", "p"},
        {"none", ""},
        {"read anon", "lr"},
        {"read hidden", "rs"},
        {"read/post", "lrsp"},
        {"lrsedntxakcpiw", "lrswipkxtean"},
        {"Read-Write", "lrswiten"},
        {"lrswipkxtecdan", "lrswipkxtean"}, /* Cyrus' owner default */
        {"c", "kx"},                        /* legacy create macro */
        {"d", "te"},                        /* legacy delete macro */
        {"kc", "k"},                        /* macro ignored: member given */
        {"td", "t"},
        {"lrs0123", "lrs0123"},
        {"srl", "lrs"},
        {"", ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = canon(cases[i].in);

        if (strcmp(got, cases[i].out) != 0) {
            fail_msg("%s -> %s, want %s", cases[i].in, got, cases[i].out);
        }
    }
}

static void
test_acl_rights_prefix_and_errors(void **state)
{
    char op = 'x';
    g_autofree char *plus = kd_acl_rights_canonical("+p", &op, NULL);
    g_autofree char *minus = NULL;
    static const char *bad[] = {"lrsz", "read-writ", "all/pos", "l r",
                                "++l", "superuser", "\xc3\xbc"};

    assert_string_equal(plus, "p");
    assert_int_equal(op, '+');
    minus = kd_acl_rights_canonical(" -w ", &op, NULL);
    assert_string_equal(minus, "w");
    assert_int_equal(op, '-');
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        char *out = kd_acl_rights_canonical(bad[i], NULL, &error);

        assert_null(out);
        assert_true(g_error_matches(error, KD_ACL_ERROR,
                                    KD_ACL_ERROR_RIGHTS));
    }
}

static char *
acl_of(const char *const *values, GError **error)
{
    g_autoptr(KdAcl) acl = kd_acl_new();

    for (guint i = 0; values[i] != NULL; i++) {
        if (!kd_acl_add_ldap_value(acl, values[i], strlen(values[i]), NOW,
                                   NULL, error)) {
            return NULL;
        }
    }
    return kd_acl_to_string(acl);
}

static void
test_acl_ldap_formats(void **state)
{
    static const char *const wap[] = {"anyone, lrs",
                                      "John.Doe@Example.org, all", NULL};
    static const char *const ucs[] = {"anyone lrs",
                                      "john.doe@example.org  full", NULL};
    static const char *const tuple[] = {
        "('anyone', 'lrs')", "(u'john.doe@example.org', \"all\", 1800000000)",
        "('expired@example.org', 'lrs', 1600000000)",
        "('float@example.org', 'p', 1800000000.5)", NULL};
    static const char *const kolab2[] = {"anyone read anon",
                                         "jane@example.org, read/post",
                                         NULL};
    g_autofree char *a = acl_of(wap, NULL);
    g_autofree char *b = acl_of(ucs, NULL);
    g_autofree char *c = acl_of(tuple, NULL);
    g_autofree char *d = acl_of(kolab2, NULL);

    assert_string_equal(a, "anyone lrs\njohn.doe@example.org lrswipkxtean");
    assert_string_equal(b, "anyone lrs\njohn.doe@example.org lrswipkxten");
    assert_string_equal(c, "anyone lrs\nfloat@example.org p\n"
                           "john.doe@example.org lrswipkxtean");
    assert_string_equal(d, "anyone lr\njane@example.org lrsp");
}

static void
test_acl_expired_tuple_is_skipped(void **state)
{
    g_autoptr(KdAcl) acl = kd_acl_new();
    const char *v = "('old@example.org', 'lrs', 1600000000)";
    gboolean expired = FALSE;

    assert_true(kd_acl_add_ldap_value(acl, v, strlen(v), NOW, &expired,
                                      NULL));
    assert_true(expired);
    assert_int_equal(kd_acl_size(acl), 0);
}

static void
test_acl_merges_duplicates_and_prefixes(void **state)
{
    static const char *const v[] = {
        "anyone, l",        "ANYONE, rs",        "anyone +p",
        "bob@example.org, all", "bob@example.org -a", "carol@example.org lrs",
        "carol@example.org -lrs", "group:Sales lrs", NULL};
    g_autofree char *s = acl_of(v, NULL);

    assert_string_equal(s, "anyone lrsp\nbob@example.org lrswipkxten\n"
                           "group:Sales lrs");
}

static void
test_acl_rejects_hostile_values(void **state)
{
    static const struct {
        const char *value;
        gsize len;
        int code;
    } bad[] = {
        {"anyone, lrs\r\nA1 DELETE x", 0, KD_ACL_ERROR_SYNTAX},
        {"any\0one, lrs", 12, KD_ACL_ERROR_SYNTAX},
        {"\"anyone\" lrs", 0, KD_ACL_ERROR_SUBJECT},
        {"john doe, lrs", 0, KD_ACL_ERROR_SUBJECT},
        {"jo\\hn lrs", 0, KD_ACL_ERROR_SUBJECT},
        {"us*r lrs", 0, KD_ACL_ERROR_SUBJECT},
        {"us%r lrs", 0, KD_ACL_ERROR_SUBJECT},
        {"j\xc3\xbcrgen@example.org lrs", 0, KD_ACL_ERROR_SUBJECT},
        {"a\x01b lrs", 0, KD_ACL_ERROR_SUBJECT},
        {", lrs", 0, KD_ACL_ERROR_SUBJECT},
        {"anyone", 0, KD_ACL_ERROR_SYNTAX},
        {"", 0, KD_ACL_ERROR_SYNTAX},
        {"anyone, lrsq", 0, KD_ACL_ERROR_RIGHTS},
        {"anyone, everything", 0, KD_ACL_ERROR_RIGHTS},
        {"('anyone', 'lrs'", 0, KD_ACL_ERROR_SYNTAX},
        {"('anyone', lrs)", 0, KD_ACL_ERROR_SYNTAX},
        {"('any\\'one', 'lrs')", 0, KD_ACL_ERROR_SYNTAX},
        {"('anyone', 'lrs', soon)", 0, KD_ACL_ERROR_SYNTAX},
        {"('anyone', 'lrs') x", 0, KD_ACL_ERROR_SYNTAX},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(KdAcl) acl = kd_acl_new();
        g_autoptr(GError) error = NULL;
        gsize len = bad[i].len ? bad[i].len : strlen(bad[i].value);
        g_autofree char *s = NULL;

        if (kd_acl_add_ldap_value(acl, bad[i].value, len, NOW, NULL,
                                  &error)) {
            fail_msg("accepted value %zu", i);
        }
        if (!g_error_matches(error, KD_ACL_ERROR, bad[i].code)) {
            fail_msg("value %zu: %s (code %d)", i, error->message,
                     error->code);
        }
        /* the message never carries raw control bytes */
        for (const char *p = error->message; *p; p++) {
            assert_true((guchar)*p >= 0x20);
        }
        s = kd_acl_to_string(acl);
        assert_string_equal(s, "");
    }
}

static void
test_acl_subject_length_limit(void **state)
{
    char subject[300];

    memset(subject, 'a', sizeof subject);
    assert_true(kd_acl_subject_check(subject, 255, NULL));
    assert_false(kd_acl_subject_check(subject, 256, NULL));
    assert_false(kd_acl_subject_check(subject, 0, NULL));
}

static void
test_acl_getacl_parses_cyrus_output(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdAcl) acl = kd_acl_from_getacl(
        "john@example.org lrswipkxtecdan anyone lrs \"x y\"z\" la", &error);
    g_autoptr(KdAcl) acl2 = NULL;
    g_autofree char *s = NULL;
    g_autofree char *s2 = NULL;

    /* "x y\"z" is a space inside a quoted identifier: refused */
    assert_null(acl);
    assert_non_null(error);
    g_clear_error(&error);

    acl2 = kd_acl_from_getacl("john@example.org lrswipkxtecdan anyone lrs "
                              "\"johnny@example.org\" la",
                              &error);
    assert_non_null(acl2);
    s2 = kd_acl_to_string(acl2);
    assert_string_equal(s2, "anyone lrs\njohn@example.org lrswipkxtean\n"
                            "johnny@example.org la");
    acl = kd_acl_from_getacl("", &error);
    s = kd_acl_to_string(acl);
    assert_string_equal(s, "");

    static const char *bad[] = {"anyone", "anyone lrs john", "anyone post",
                                "\"anyone lrs", "any\"one lrs"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        KdAcl *a = kd_acl_from_getacl(bad[i], &e);

        if (a != NULL) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_non_null(e);
    }
}

static void
test_acl_string_round_trip(void **state)
{
    const char *text = "anyone lrs\nbob@example.org lrswipkxtean";
    g_autoptr(KdAcl) acl = kd_acl_from_string(text, NULL);
    g_autofree char *s = kd_acl_to_string(acl);
    g_autofree char *bob = kd_acl_lookup(acl, "Bob@Example.org");
    g_autoptr(GError) error = NULL;

    assert_string_equal(s, text);
    assert_string_equal(bob, "lrswipkxtean");
    assert_null(kd_acl_lookup(acl, "nobody"));
    assert_null(kd_acl_from_string("anyone post", &error));
    assert_non_null(strstr(error->message, "line 1"));
    g_clear_error(&error);
    assert_null(kd_acl_from_string("anyone lrs\nbroken", &error));
    assert_non_null(strstr(error->message, "line 2"));
}

static void
test_acl_diff(void **state)
{
    g_autoptr(GPtrArray) set = NULL;
    g_autoptr(GPtrArray) remove = NULL;
    static const char *const keep[] = {"cyrus-admin", NULL};
    KdAclEntry *e;

    assert_true(kd_acl_diff("anyone lrsp\nbob@example.org lrs\n"
                            "carol@example.org lr",
                            "anyone lrs\ncarol@example.org lr\n"
                            "cyrus-admin lrswipkxtean\nold@example.org lrs",
                            keep, &set, &remove, NULL));
    assert_int_equal(set->len, 2);
    e = set->pdata[0];
    assert_string_equal(e->subject, "anyone");
    assert_string_equal(e->rights, "lrsp");
    e = set->pdata[1];
    assert_string_equal(e->subject, "bob@example.org");
    assert_string_equal(e->rights, "lrs");
    assert_int_equal(remove->len, 1);
    assert_string_equal(remove->pdata[0], "old@example.org");
    g_clear_pointer(&set, g_ptr_array_unref);
    g_clear_pointer(&remove, g_ptr_array_unref);

    /* empty desired removes everything not kept */
    assert_true(kd_acl_diff("", "anyone lrs\ncyrus-admin a", keep, &set,
                            &remove, NULL));
    assert_int_equal(set->len, 0);
    assert_int_equal(remove->len, 1);
    g_clear_pointer(&set, g_ptr_array_unref);
    g_clear_pointer(&remove, g_ptr_array_unref);

    /* identical: nothing to do */
    assert_true(kd_acl_diff("anyone lrs", "anyone lrs", NULL, &set, &remove,
                            NULL));
    assert_int_equal(set->len + remove->len, 0);
    g_clear_pointer(&set, g_ptr_array_unref);
    g_clear_pointer(&remove, g_ptr_array_unref);

    assert_false(kd_acl_diff("anyone post", "", NULL, &set, &remove, NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acl_aliases_translate_to_letters),
        cmocka_unit_test(test_acl_rights_prefix_and_errors),
        cmocka_unit_test(test_acl_ldap_formats),
        cmocka_unit_test(test_acl_expired_tuple_is_skipped),
        cmocka_unit_test(test_acl_merges_duplicates_and_prefixes),
        cmocka_unit_test(test_acl_rejects_hostile_values),
        cmocka_unit_test(test_acl_subject_length_limit),
        cmocka_unit_test(test_acl_getacl_parses_cyrus_output),
        cmocka_unit_test(test_acl_string_round_trip),
        cmocka_unit_test(test_acl_diff),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
