/* Unit tests for kolabd/filter.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "filter.h"

static KdEntry *
user_entry(void)
{
    KdEntry *e = kd_entry_new("uid=john,ou=People,dc=example,dc=org");

    kd_entry_add(e, "objectClass", "top");
    kd_entry_add(e, "objectClass", "inetOrgPerson");
    kd_entry_add(e, "objectClass", "kolabInetOrgPerson");
    kd_entry_add(e, "mail", "John.Doe@Example.org");
    kd_entry_add(e, "cn", "John Doe (Sales)");
    kd_entry_add(e, "mailQuota", "1048576");
    kd_entry_add_value(e, "binary", "a\0b*", 4);
    return e;
}

static gboolean
matches(const char *text, const KdEntry *e)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdFilter) f = kd_filter_parse(text, &error);

    if (f == NULL) {
        fail_msg("parse of %s failed: %s", text, error->message);
    }
    return kd_filter_match(f, e);
}

static void
test_filter_equality_ignores_case(void **state)
{
    g_autoptr(KdEntry) e = user_entry();

    assert_true(matches("(objectclass=kolabinetorgperson)", e));
    assert_true(matches("(OBJECTCLASS=KOLABINETORGPERSON)", e));
    assert_false(matches("(objectclass=kolabsharedfolder)", e));
    assert_false(matches("(objectclass=kolabinetorgperso)", e));
    assert_true(matches("objectclass=top", e)); /* no outer parens */
    assert_true(matches("(mail~=john.doe@example.org)", e));
    assert_false(matches("(nosuch=x)", e));
}

static void
test_filter_boolean_operators(void **state)
{
    g_autoptr(KdEntry) e = user_entry();

    assert_true(matches("(&(objectclass=top)(mail=*))", e));
    assert_false(matches("(&(objectclass=top)(alias=*))", e));
    assert_true(matches("(|(objectclass=kolabsharedfolder)"
                        "(objectclass=kolabinetorgperson))", e));
    assert_false(matches("(|(objectclass=a)(objectclass=b))", e));
    assert_true(matches("(!(objectclass=kolabsharedfolder))", e));
    assert_false(matches("(!(objectclass=top))", e));
    assert_true(matches("(&)", e));
    assert_false(matches("(|)", e));
    assert_true(matches("( & (objectclass=top) (!(cn=x)) )", e));
    assert_true(matches("(&(objectClass=kolabInetOrgPerson)"
                        "(|(mail=*@example.org)(alias=*@example.org))"
                        "(!(kolabDeleteflag=*)))", e));
}

static void
test_filter_substrings(void **state)
{
    g_autoptr(KdEntry) e = user_entry();

    assert_true(matches("(mail=john*)", e));
    assert_true(matches("(mail=*@EXAMPLE.ORG)", e));
    assert_true(matches("(mail=j*doe*org)", e));
    assert_true(matches("(mail=*.*@*)", e));
    assert_false(matches("(mail=*@example.com)", e));
    assert_false(matches("(mail=john*john*)", e));
    /* initial and final must not overlap */
    kd_entry_add(e, "short", "ab");
    assert_false(matches("(short=ab*b)", e));
    assert_true(matches("(short=a*b)", e));
    assert_false(matches("(short=*ab*b)", e));
    assert_true(matches("(cn=*\\28sales\\29)", e));
    assert_false(matches("(mail=John.Doe@Example.org*g)", e));
    assert_true(matches("(binary=a\\00b\\2a)", e));
    assert_true(matches("(binary=*\\2a)", e));
}

static void
test_filter_ordering(void **state)
{
    g_autoptr(KdEntry) e = user_entry();

    assert_true(matches("(mailquota>=1048576)", e));
    assert_true(matches("(mailquota>=999999)", e)); /* numeric, not text */
    assert_false(matches("(mailquota<=999999)", e));
    assert_false(matches("(mailquota<=-1)", e));
    assert_true(matches("(cn>=john)", e));
    assert_true(matches("(cn<=zzz)", e));
}

static void
test_filter_parse_errors(void **state)
{
    static const char *bad[] = {
        "",
        "(",
        "()",
        "(objectclass=x",
        "(objectclass=x))",
        "(objectclass=x)(cn=y)",
        "(objectclass=(x))",
        "(=x)",
        "(cn~x)",
        "(cn>x)",
        "(cn=a**b)",
        "(cn=\\zz)",
        "(cn=\\4)",
        "(cn:dn:=x)",
        "(!(a=b)(c=d))",
        "(!)",
        "(&(a=b)x)",
        "(cn>=a*b)",
        "(1.2.=x)",
        "(cn;=x)",
        "(cn=x\r\n)x",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        KdFilter *f = kd_filter_parse(bad[i], &error);

        if (f != NULL) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_true(g_error_matches(error, KD_FILTER_ERROR,
                                    KD_FILTER_ERROR_PARSE));
        assert_non_null(strstr(error->message, "offset"));
    }
}

static void
test_filter_depth_limit(void **state)
{
    g_autoptr(GString) deep = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    KdFilter *f;

    for (int i = 0; i < 100; i++) {
        g_string_append(deep, "(!");
    }
    g_string_append(deep, "(a=b)");
    for (int i = 0; i < 100; i++) {
        g_string_append_c(deep, ')');
    }
    f = kd_filter_parse(deep->str, &error);
    assert_null(f);
    assert_non_null(strstr(error->message, "deeply"));
}

static void
test_filter_to_string_is_canonical(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"objectclass=kolabinetorgperson", "(objectclass=kolabinetorgperson)"},
        {"( & (a=b) (c=*) )", "(&(a=b)(c=*))"},
        {"(cn=a\\2A*b*\\28c)", "(cn=a\\2a*b*\\28c)"},
        {"(cn=*x*)", "(cn=*x*)"},
        {"(cn=*)", "(cn=*)"},
        {"(x~=y)", "(x~=y)"},
        {"(x>=5)", "(x>=5)"},
        {"(!(x<=5))", "(!(x<=5))"},
        {"(cn=\\c3\\bc)", "(cn=\\c3\\bc)"},
        {"(&)", "(&)"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(KdFilter) f = kd_filter_parse(cases[i].in, NULL);
        g_autofree char *s = NULL;

        assert_non_null(f);
        s = kd_filter_to_string(f);
        assert_string_equal(s, cases[i].out);
    }
}

static void
test_filter_collect_attrs(void **state)
{
    g_autoptr(KdFilter) f = kd_filter_parse(
        "(&(objectClass=a)(|(Mail=*x)(objectclass=b))(cn;lang-de=c)"
        "(!(MAIL=y)))",
        NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(names, g_strdup("cn"));
    kd_filter_collect_attrs(f, names);
    assert_int_equal(names->len, 3);
    assert_string_equal(names->pdata[0], "cn");
    assert_string_equal(names->pdata[1], "objectclass");
    assert_string_equal(names->pdata[2], "mail");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_equality_ignores_case),
        cmocka_unit_test(test_filter_boolean_operators),
        cmocka_unit_test(test_filter_substrings),
        cmocka_unit_test(test_filter_ordering),
        cmocka_unit_test(test_filter_parse_errors),
        cmocka_unit_test(test_filter_depth_limit),
        cmocka_unit_test(test_filter_to_string_is_canonical),
        cmocka_unit_test(test_filter_collect_attrs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
