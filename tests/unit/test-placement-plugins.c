/*
 * test-placement-plugins: the behaviour of each built-in plugin, loaded
 * from the build tree through the real loader and chain: static,
 * attribute, domain, hash and least-used, including their configuration
 * errors and their handling of down backends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "placement.h"
#include "unit/placement-fixture.h"

#define DIR placement_fixture_plugin_dir()

static void
assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL) {
        fail_msg("'%s' does not contain '%s'", text, part);
    }
}

/* Expects kd_placement_new to fail with @part in the message. */
static void
assert_new_fails(KdPlacementSettings *settings, const char *part)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdPlacement) chain = kd_placement_new(settings, &error);

    assert_null(chain);
    assert_non_null(error);
    assert_contains(error->message, part);
}

/* Expects choose to fail with @code and @part in the message. */
static void
assert_choose_fails(KdPlacement *chain, const KdPlacementRequest *request,
                    KolabdBackend *backends, gsize n, int code,
                    const char *part)
{
    g_autoptr(GError) error = NULL;
    gsize index;

    assert_false(
        kd_placement_choose(chain, request, backends, n, &index, NULL, &error));
    assert_true(g_error_matches(error, KD_PLACEMENT_ERROR, code));
    assert_contains(error->message, part);
}

static void
three_backends(KolabdBackend b[3])
{
    placement_fixture_backend(&b[0], "b1", 1);
    placement_fixture_backend(&b[1], "b2", 1);
    placement_fixture_backend(&b[2], "b3", 1);
}

/* ---- static --------------------------------------------------------- */

static void
test_placement_static_chooses_its_backend(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "static", "static.backend", "b3", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.org");
    KolabdBackend b[3];

    (void)state;
    three_backends(b);
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 2);
    b[2].up = 0;
    assert_choose_fails(chain, request, b, 3, KD_PLACEMENT_ERROR_PLUGIN,
                        "backend 'b3' is down");
    assert_choose_fails(chain, request, b, 2, KD_PLACEMENT_ERROR_PLUGIN,
                        "backend 'b3' is not configured");
}

static void
test_placement_static_config_errors(void **state)
{
    g_autoptr(KdPlacementSettings) none =
        placement_fixture_settings(DIR, "static", NULL);
    g_autoptr(KdPlacementSettings) unknown =
        placement_fixture_settings(DIR, "static", "static.backend", "b9", NULL);

    (void)state;
    assert_new_fails(none, "[placement static] needs 'backend = NAME'");
    kd_placement_settings_add_backend(unknown, "b1");
    assert_new_fails(unknown, "[placement static] backend 'b9' is not "
                              "configured");
}

/* ---- attribute ------------------------------------------------------ */

static void
test_placement_attribute_follows_mailhost(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "attribute", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.org");
    KolabdBackend b[3];

    (void)state;
    three_backends(b);
    /* by servername, ignoring case */
    kd_placement_request_set_attribute(request, "mailHost", "B2.Example.NET");
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 1);
    /* by kolabd's backend name */
    kd_placement_request_set_attribute(request, "mailhost", "b3");
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 2);
    /* down: wait for it rather than go elsewhere */
    b[2].up = 0;
    assert_choose_fails(chain, request, b, 3, KD_PLACEMENT_ERROR_PLUGIN,
                        "'b3' named by mailhost is down");
}

static void
test_placement_attribute_no_opinion(void **state)
{
    g_autoptr(KdPlacement) chain = placement_fixture_chain(
        DIR, "attribute, static", "static.backend", "b1", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.org");
    const char *plugin = NULL;
    KolabdBackend b[3];
    gsize index;

    (void)state;
    three_backends(b);
    /* unset */
    assert_true(
        kd_placement_choose(chain, request, b, 3, &index, &plugin, NULL));
    assert_string_equal(plugin, "static");
    /* names no backend */
    kd_placement_request_set_attribute(request, "mailhost", "old.example.net");
    assert_true(
        kd_placement_choose(chain, request, b, 3, &index, &plugin, NULL));
    assert_string_equal(plugin, "static");
    assert_int_equal(index, 0);
}

static void
test_placement_attribute_other_attribute(void **state)
{
    g_autoptr(KdPlacement) chain = placement_fixture_chain(
        DIR, "attribute", "attribute.attribute", "kolabHomeServer", NULL);
    g_autoptr(KdPlacementSettings) bad = placement_fixture_settings(
        DIR, "attribute", "attribute.attribute", "mail host", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.org");
    KolabdBackend b[3];

    (void)state;
    three_backends(b);
    kd_placement_request_set_attribute(request, "mailhost", "b1");
    kd_placement_request_set_attribute(request, "kolabhomeserver", "b2");
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 1);
    assert_new_fails(bad, "'mail host' is not an LDAP attribute name");
}

/* ---- domain --------------------------------------------------------- */

static void
test_placement_domain_keeps_shared_folders_together(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "domain", "domain.example.org", "b2, b3",
                                "domain.example.net", "b1", NULL);
    KolabdBackend b[3];
    guint i;

    (void)state;
    three_backends(b);
    for (i = 0; i < 50; i++) {
        g_autofree char *mailbox =
            g_strdup_printf("shared/folder%u@example.org", i);
        g_autofree char *mail = g_strdup_printf("folder%u@example.org", i);
        g_autoptr(KdPlacementRequest) request = kd_placement_request_new(
            KOLABD_PLACEMENT_KIND_SHARED, i % 2 ? mail : NULL, "example.org",
            mailbox);

        assert_int_equal(placement_fixture_choose(chain, request, b, 3), 1);
    }
    /* the first backend is down: shared folders wait for it */
    b[1].up = 0;
    {
        g_autoptr(KdPlacementRequest) request =
            kd_placement_request_new(KOLABD_PLACEMENT_KIND_SHARED, NULL,
                                     "example.org", "shared/x@example.org");

        assert_choose_fails(chain, request, b, 3, KD_PLACEMENT_ERROR_PLUGIN,
                            "for shared folders of example.org is down");
    }
}

static void
test_placement_domain_spreads_users_over_its_backends(void **state)
{
    g_autoptr(KdPlacement) chain = placement_fixture_chain(
        DIR, "domain", "domain.Example.ORG", "b2, b3", NULL);
    KolabdBackend b[3];
    guint counts[3] = {0, 0, 0};
    guint i;

    (void)state;
    three_backends(b);
    for (i = 0; i < 400; i++) {
        g_autofree char *mail = g_strdup_printf("user%u@EXAMPLE.org", i);
        g_autoptr(KdPlacementRequest) request = placement_fixture_user(mail);

        counts[placement_fixture_choose(chain, request, b, 3)]++;
    }
    assert_int_equal(counts[0], 0);
    assert_in_range(counts[1], 140, 260);
    assert_in_range(counts[2], 140, 260);
    /* b2 down: users go to b3 only */
    b[1].up = 0;
    for (i = 0; i < 100; i++) {
        g_autofree char *mail = g_strdup_printf("user%u@example.org", i);
        g_autoptr(KdPlacementRequest) request = placement_fixture_user(mail);

        assert_int_equal(placement_fixture_choose(chain, request, b, 3), 2);
    }
    b[2].up = 0;
    {
        g_autoptr(KdPlacementRequest) request =
            placement_fixture_user("z@example.org");

        assert_choose_fails(chain, request, b, 3, KD_PLACEMENT_ERROR_PLUGIN,
                            "no backend of domain example.org is up");
    }
}

static void
test_placement_domain_unknown_domain_no_opinion(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "domain, static", "domain.example.org",
                                "b2", "static.backend", "b1", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.com");
    const char *plugin = NULL;
    KolabdBackend b[3];
    gsize index;

    (void)state;
    three_backends(b);
    assert_true(
        kd_placement_choose(chain, request, b, 3, &index, &plugin, NULL));
    assert_string_equal(plugin, "static");
}

static void
test_placement_domain_config_errors(void **state)
{
    static const char *const bad[][3] = {
        {"domain.example.org", "b1, , b2", "empty backend name"},
        {"domain.example.org", "b1,", "trailing comma"},
        {"domain.example.org", "b1, b1", "listed twice"},
        {"domain.exa mple.org", "b1", "is not a mail domain"},
        {"domain.example.org", "b7", "backend 'b7' is not configured"},
    };
    guint i;

    (void)state;
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(KdPlacementSettings) settings = placement_fixture_settings(
            DIR, "domain", bad[i][0], bad[i][1], NULL);

        kd_placement_settings_add_backend(settings, "b1");
        kd_placement_settings_add_backend(settings, "b2");
        assert_new_fails(settings, bad[i][2]);
    }
    {
        g_autoptr(KdPlacementSettings) empty =
            placement_fixture_settings(DIR, "domain", NULL);

        assert_new_fails(empty, "[placement domain] maps no domain");
    }
}

/* ---- hash ----------------------------------------------------------- */

static void
test_placement_hash_by_domain_keeps_domain_together(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "hash", "hash.key", "domain", NULL);
    KolabdBackend b[3];
    gsize first = G_MAXSIZE;
    guint i;

    (void)state;
    three_backends(b);
    for (i = 0; i < 100; i++) {
        g_autofree char *mail = g_strdup_printf("u%u@example.org", i);
        g_autoptr(KdPlacementRequest) request = placement_fixture_user(mail);
        gsize index = placement_fixture_choose(chain, request, b, 3);

        if (first == G_MAXSIZE) {
            first = index;
        }
        assert_int_equal(index, first);
    }
}

static void
test_placement_hash_errors(void **state)
{
    g_autoptr(KdPlacementSettings) bad =
        placement_fixture_settings(DIR, "hash", "hash.key", "uid", NULL);
    g_autoptr(KdPlacement) chain = placement_fixture_chain(DIR, "hash", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.org");
    KolabdBackend b[3];

    (void)state;
    assert_new_fails(bad, "key must be 'mail' or 'domain', not 'uid'");
    three_backends(b);
    b[0].up = 0;
    b[1].up = 0;
    b[2].weight = 0;
    assert_choose_fails(chain, request, b, 3, KD_PLACEMENT_ERROR_PLUGIN,
                        "no backend is up");
}

/* ---- least-used ----------------------------------------------------- */

static void
test_placement_least_used_fewest_per_weight(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "least-used", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.org");
    KolabdBackend b[3];

    (void)state;
    three_backends(b);
    b[0].mailbox_count = 10;
    b[1].mailbox_count = 20;
    b[1].weight = 3; /* 6.7 per weight */
    b[2].mailbox_count = 7;
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 1);
    /* ties go to the smaller name, whatever the order */
    b[0].name = "zz";
    b[0].mailbox_count = 7;
    b[1].mailbox_count = 21; /* 7 per weight */
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 1);
    /* huge counts compare exactly */
    b[0].mailbox_count = G_MAXUINT64 - 1;
    b[0].weight = G_MAXUINT;
    b[1].mailbox_count = G_MAXUINT64;
    b[1].weight = G_MAXUINT;
    b[2].up = 0;
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 0);
}

static void
test_placement_least_used_skips_down_and_zero_weight(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "least-used", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("a@example.org");
    KolabdBackend b[3];

    (void)state;
    three_backends(b);
    b[0].up = 0;
    b[1].weight = 0;
    b[2].mailbox_count = 1000;
    assert_int_equal(placement_fixture_choose(chain, request, b, 3), 2);
    b[2].up = 0;
    assert_choose_fails(chain, request, b, 3, KD_PLACEMENT_ERROR_PLUGIN,
                        "no backend is up");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_static_chooses_its_backend),
        cmocka_unit_test(test_placement_static_config_errors),
        cmocka_unit_test(test_placement_attribute_follows_mailhost),
        cmocka_unit_test(test_placement_attribute_no_opinion),
        cmocka_unit_test(test_placement_attribute_other_attribute),
        cmocka_unit_test(test_placement_domain_keeps_shared_folders_together),
        cmocka_unit_test(test_placement_domain_spreads_users_over_its_backends),
        cmocka_unit_test(test_placement_domain_unknown_domain_no_opinion),
        cmocka_unit_test(test_placement_domain_config_errors),
        cmocka_unit_test(test_placement_hash_by_domain_keeps_domain_together),
        cmocka_unit_test(test_placement_hash_errors),
        cmocka_unit_test(test_placement_least_used_fewest_per_weight),
        cmocka_unit_test(test_placement_least_used_skips_down_and_zero_weight),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
