/*
 * test-placement: the loader and the chain (kolabd/placement*.c) with the
 * real built-in plugins and the check-only plugins in tests/plugin: ABI
 * refusals name the file, the first opinion wins, a down or unknown
 * answer is refused, reload is all or nothing, check collects everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "placement-module.h"
#include "placement.h"
#include "unit/placement-fixture.h"

#define BUILTIN placement_fixture_plugin_dir()
#define CHECKDIR placement_fixture_check_dir()

static void
assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL) {
        fail_msg("'%s' does not contain '%s'", text, part);
    }
}

/* Opens check-only plugin @name and expects a refusal naming its file. */
static void
assert_refused(const char *name, const char *reason)
{
    g_autofree char *path = kd_placement_module_path(CHECKDIR, name);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdPlacementModule) module = NULL;

    assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    module = kd_placement_module_open(path, name, &error);
    assert_null(module);
    assert_true(
        g_error_matches(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD));
    assert_contains(error->message, path);
    assert_contains(error->message, reason);
}

static void
test_placement_refuses_wrong_abi(void **state)
{
    (void)state;
    assert_refused("badabi", "ABI version 42");
}

static void
test_placement_refuses_missing_symbol(void **state)
{
    (void)state;
    assert_refused("nosym", "no symbol kolabd_placement_plugin");
}

static void
test_placement_refuses_null_function(void **state)
{
    (void)state;
    assert_refused("nullfn", "lacks choose");
}

static void
test_placement_refuses_small_struct(void **state)
{
    (void)state;
    assert_refused("small", "at least");
}

static void
test_placement_refuses_wrong_name(void **state)
{
    (void)state;
    assert_refused("misnamed", "calls itself 'someone-else'");
}

static void
test_placement_refuses_missing_file(void **state)
{
    g_autoptr(KdPlacementSettings) settings =
        placement_fixture_settings(BUILTIN, "nonexistent", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdPlacement) chain = NULL;

    (void)state;
    chain = kd_placement_new(settings, &error);
    assert_null(chain);
    assert_true(
        g_error_matches(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD));
    assert_contains(error->message, "placement-nonexistent.so");
}

static void
test_placement_new_refuses_bad_plugin_in_chain(void **state)
{
    g_autoptr(KdPlacementSettings) settings =
        placement_fixture_settings(CHECKDIR, "testing, badabi", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdPlacement) chain = NULL;

    (void)state;
    chain = kd_placement_new(settings, &error);
    assert_null(chain);
    assert_contains(error->message, "placement-badabi.so");
}

static void
test_placement_loads_builtin_chain(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(BUILTIN, "attribute, domain, least-used",
                                "domain.example.org", "b1, b2", NULL);

    (void)state;
    assert_int_equal(kd_placement_get_length(chain), 3);
    assert_string_equal(kd_placement_get_name(chain, 0), "attribute");
    assert_string_equal(kd_placement_get_name(chain, 1), "domain");
    assert_string_equal(kd_placement_get_name(chain, 2), "least-used");
}

static void
test_placement_refuses_unknown_key(void **state)
{
    g_autoptr(KdPlacementSettings) settings = placement_fixture_settings(
        BUILTIN, "least-used", "least-used.weight", "3", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdPlacement) chain = NULL;

    (void)state;
    chain = kd_placement_new(settings, &error);
    assert_null(chain);
    assert_true(
        g_error_matches(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_CONFIG));
    assert_contains(error->message,
                    "[placement least-used] unknown key 'weight'");
}

static void
test_placement_init_failure_names_file(void **state)
{
    g_autoptr(KdPlacementSettings) settings = placement_fixture_settings(
        CHECKDIR, "testing", "testing.fail_init", "yes", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdPlacement) chain = NULL;

    (void)state;
    chain = kd_placement_new(settings, &error);
    assert_null(chain);
    assert_true(
        g_error_matches(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_PLUGIN));
    assert_contains(error->message, "placement-testing.so");
    assert_contains(error->message, "[placement testing] init fails");
}

/* A chain mixing a check-only plugin with built-in ones. */
static KdPlacement *
mixed_chain(const char *chain_list, ...)
{
    g_autoptr(KdPlacementSettings) settings = kd_placement_settings_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *dir =
        g_build_filename(g_get_tmp_dir(), "kd-pl-XXXXXX", NULL);
    KdPlacement *chain;
    const char *key;
    va_list args;

    /* one directory with both kinds: symlinks to the built files */
    assert_non_null(g_mkdtemp(dir));
    {
        const char *names[] = {"testing", "static", "attribute", "least-used",
                               "hash"};
        guint i;

        for (i = 0; i < G_N_ELEMENTS(names); i++) {
            g_autofree char *target =
                kd_placement_module_path(i == 0 ? CHECKDIR : BUILTIN, names[i]);
            g_autofree char *link = kd_placement_module_path(dir, names[i]);

            assert_int_equal(symlink(target, link), 0);
        }
    }
    kd_placement_settings_set_plugin_dir(settings, dir);
    assert_true(kd_placement_settings_set_chain(settings, chain_list, NULL));
    va_start(args, chain_list);
    while ((key = va_arg(args, const char *)) != NULL) {
        const char *value = va_arg(args, const char *);
        const char *dot = strchr(key, '.');
        g_autofree char *plugin = g_strndup(key, (gsize)(dot - key));

        kd_placement_settings_set(settings, plugin, dot + 1, value);
    }
    va_end(args);
    chain = kd_placement_new(settings, &error);
    if (chain == NULL) {
        fail_msg("%s", error->message);
    }
    /* the modules are open now; the directory may go */
    {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
            g_autofree char *path = g_build_filename(dir, name, NULL);

            g_unlink(path);
        }
        g_rmdir(dir);
    }
    return chain;
}

static void
test_placement_no_opinion_passes_on(void **state)
{
    g_autoptr(KdPlacement) chain =
        mixed_chain("testing, static", "testing.answer", "none",
                    "static.backend", "b2", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    KolabdBackend backends[2];
    const char *plugin = NULL;
    gsize index = 9;

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    placement_fixture_backend(&backends[1], "b2", 1);
    assert_true(kd_placement_choose(chain, request, backends, 2, &index,
                                    &plugin, NULL));
    assert_int_equal(index, 1);
    assert_string_equal(plugin, "static");
    /* the host counts its own placements */
    assert_int_equal(backends[1].mailbox_count, 1);
    assert_int_equal(backends[0].mailbox_count, 0);
}

static void
test_placement_first_opinion_wins(void **state)
{
    g_autoptr(KdPlacement) chain =
        mixed_chain("testing, static", "testing.answer", "index",
                    "testing.index", "0", "static.backend", "b2", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    KolabdBackend backends[2];

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    placement_fixture_backend(&backends[1], "b2", 1);
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 0);
}

static void
test_placement_no_choice_names_mail(void **state)
{
    g_autoptr(KdPlacement) chain =
        mixed_chain("testing, attribute", "testing.answer", "none", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("Jane@Example.org");
    g_autoptr(GError) error = NULL;
    KolabdBackend backends[1];
    gsize index;

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    assert_false(
        kd_placement_choose(chain, request, backends, 1, &index, NULL, &error));
    assert_true(g_error_matches(error, KD_PLACEMENT_ERROR,
                                KD_PLACEMENT_ERROR_NO_CHOICE));
    assert_string_equal(
        error->message,
        "no placement plugin chose a backend for jane@example.org");
    assert_int_equal(backends[0].mailbox_count, 0);
}

static void
test_placement_plugin_error_stops_chain(void **state)
{
    g_autoptr(KdPlacement) chain =
        mixed_chain("testing, static", "testing.answer", "error",
                    "static.backend", "b1", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    g_autoptr(GError) error = NULL;
    KolabdBackend backends[1];
    gsize index;

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    assert_false(
        kd_placement_choose(chain, request, backends, 1, &index, NULL, &error));
    assert_true(
        g_error_matches(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_PLUGIN));
    assert_contains(error->message, "testing");
    assert_contains(error->message, "jane@example.org");
    assert_contains(error->message, "fails as asked");
}

static void
test_placement_refuses_down_answer(void **state)
{
    g_autoptr(KdPlacement) chain = mixed_chain(
        "testing", "testing.answer", "index", "testing.index", "1", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    g_autoptr(GError) error = NULL;
    KolabdBackend backends[2];
    gsize index = 7;

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    placement_fixture_backend(&backends[1], "b2", 1);
    backends[1].up = 0;
    assert_false(
        kd_placement_choose(chain, request, backends, 2, &index, NULL, &error));
    assert_true(g_error_matches(error, KD_PLACEMENT_ERROR,
                                KD_PLACEMENT_ERROR_BAD_ANSWER));
    assert_contains(error->message, "b2");
    assert_contains(error->message, "down");
    assert_int_equal(index, 7);
    assert_int_equal(backends[1].mailbox_count, 0);
}

static void
test_placement_refuses_index_out_of_range(void **state)
{
    g_autoptr(KdPlacement) chain = mixed_chain(
        "testing", "testing.answer", "index", "testing.index", "2", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    g_autoptr(GError) error = NULL;
    KolabdBackend backends[2];
    gsize index;

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    placement_fixture_backend(&backends[1], "b2", 1);
    assert_false(
        kd_placement_choose(chain, request, backends, 2, &index, NULL, &error));
    assert_true(g_error_matches(error, KD_PLACEMENT_ERROR,
                                KD_PLACEMENT_ERROR_BAD_ANSWER));
    assert_contains(error->message, "#2 of 2");
}

static void
test_placement_no_backends(void **state)
{
    g_autoptr(KdPlacement) chain =
        mixed_chain("static", "static.backend", "b1", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    g_autoptr(GError) error = NULL;
    gsize index;

    (void)state;
    assert_false(
        kd_placement_choose(chain, request, NULL, 0, &index, NULL, &error));
    assert_true(g_error_matches(error, KD_PLACEMENT_ERROR,
                                KD_PLACEMENT_ERROR_NO_CHOICE));
}

static void
test_placement_reload_applies_new_settings(void **state)
{
    g_autoptr(KdPlacement) chain = mixed_chain(
        "testing", "testing.answer", "index", "testing.index", "0", NULL);
    g_autoptr(KdPlacementSettings) settings =
        placement_fixture_settings(CHECKDIR, "testing", "testing.answer",
                                   "index", "testing.index", "1", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    g_autoptr(GError) error = NULL;
    KolabdBackend backends[2];

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    placement_fixture_backend(&backends[1], "b2", 1);
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 0);
    if (!kd_placement_reload(chain, settings, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 1);
}

static void
test_placement_reload_keeps_old_chain_on_failure(void **state)
{
    g_autoptr(KdPlacement) chain =
        mixed_chain("static, testing", "static.backend", "b1", "testing.answer",
                    "none", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    KolabdBackend backends[2];

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    placement_fixture_backend(&backends[1], "b2", 1);

    /* static reloads fine first, then testing fails: static rolls back */
    {
        g_autoptr(KdPlacementSettings) bad = placement_fixture_settings(
            CHECKDIR, "static, testing", "static.backend", "b2",
            "testing.fail_reload", "yes", NULL);
        g_autoptr(GError) error = NULL;

        /* static lives elsewhere: find it through the built-in dir */
        kd_placement_settings_set_plugin_dir(bad, BUILTIN);
        assert_false(kd_placement_reload(chain, bad, &error));
        assert_contains(error->message, "reload fails as asked");
    }
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 0);

    /* a missing plugin leaves the chain as it was */
    {
        g_autoptr(KdPlacementSettings) bad = placement_fixture_settings(
            BUILTIN, "static, nonexistent", "static.backend", "b2", NULL);
        g_autoptr(GError) error = NULL;

        assert_false(kd_placement_reload(chain, bad, &error));
        assert_contains(error->message, "placement-nonexistent.so");
    }
    /* an invalid group of a kept plugin is refused before any reload */
    {
        g_autoptr(KdPlacementSettings) bad =
            placement_fixture_settings(BUILTIN, "static", "static.backend",
                                       "b2", "static.colour", "blue", NULL);
        g_autoptr(GError) error = NULL;

        assert_false(kd_placement_reload(chain, bad, &error));
        assert_contains(error->message, "unknown key 'colour'");
    }
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 0);
    assert_int_equal(kd_placement_get_length(chain), 2);
}

static void
test_placement_reload_changes_chain(void **state)
{
    g_autoptr(KdPlacement) chain =
        mixed_chain("static", "static.backend", "b1", NULL);
    g_autoptr(KdPlacementSettings) settings =
        placement_fixture_settings(BUILTIN, "least-used", NULL);
    g_autoptr(KdPlacementRequest) request =
        placement_fixture_user("jane@example.org");
    g_autoptr(GError) error = NULL;
    KolabdBackend backends[2];

    (void)state;
    placement_fixture_backend(&backends[0], "b1", 1);
    placement_fixture_backend(&backends[1], "b2", 1);
    backends[0].mailbox_count = 5;
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 0);
    if (!kd_placement_reload(chain, settings, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(kd_placement_get_length(chain), 1);
    assert_string_equal(kd_placement_get_name(chain, 0), "least-used");
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 1);
    /* least-used has no reload function: it is initialised anew */
    if (!kd_placement_reload(chain, settings, &error)) {
        fail_msg("%s", error->message);
    }
    assert_int_equal(placement_fixture_choose(chain, request, backends, 2), 1);
}

static void
test_placement_check_collects_every_problem(void **state)
{
    g_autoptr(KdPlacementSettings) settings =
        placement_fixture_settings(CHECKDIR, "badabi, nosym, testing, nullfn",
                                   "testing.fail_init", "yes", NULL);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) lines = NULL;

    (void)state;
    assert_false(kd_placement_check(settings, &error));
    lines = g_strsplit(error->message, "\n", -1);
    assert_int_equal(g_strv_length(lines), 4);
    assert_contains(lines[0], "placement-badabi.so");
    assert_contains(lines[1], "placement-nosym.so");
    assert_contains(lines[2], "init fails as asked");
    assert_contains(lines[3], "placement-nullfn.so");
}

static void
test_placement_check_accepts_good_chain(void **state)
{
    g_autoptr(KdPlacementSettings) settings = placement_fixture_settings(
        BUILTIN, "attribute, hash, least-used", "hash.key", "domain", NULL);
    g_autoptr(GError) error = NULL;

    (void)state;
    if (!kd_placement_check(settings, &error)) {
        fail_msg("%s", error->message);
    }
}

static void
test_placement_plugin_dir_from_env(void **state)
{
    g_autofree char *old = g_strdup(g_getenv("KD_PLUGIN_DIR"));
    g_autoptr(KdPlacementSettings) settings = NULL;

    (void)state;
    g_setenv("KD_PLUGIN_DIR", "/nonexistent/kd-plugins", TRUE);
    settings = kd_placement_settings_new();
    assert_string_equal(kd_placement_settings_get_plugin_dir(settings),
                        "/nonexistent/kd-plugins");
    kd_placement_settings_set_plugin_dir(settings, "/explicit");
    assert_string_equal(kd_placement_settings_get_plugin_dir(settings),
                        "/explicit");
    g_unsetenv("KD_PLUGIN_DIR");
    kd_placement_settings_set_plugin_dir(settings, NULL);
    assert_string_equal(kd_placement_settings_get_plugin_dir(settings),
                        KD_PLUGINDIR);
    if (old != NULL) {
        g_setenv("KD_PLUGIN_DIR", old, TRUE);
    }
}

static void
test_placement_settings_chain_errors(void **state)
{
    g_autoptr(KdPlacementSettings) settings = kd_placement_settings_new();
    const char *const *chain;
    GError *error = NULL;

    (void)state;
    assert_true(kd_placement_settings_set_chain(
        settings, " attribute ,domain,least-used ", NULL));
    assert_false(kd_placement_settings_set_chain(settings, " ", &error));
    assert_contains(error->message, "empty");
    g_clear_error(&error);
    assert_false(
        kd_placement_settings_set_chain(settings, "hash, hash", &error));
    assert_contains(error->message, "'hash' is listed twice");
    g_clear_error(&error);
    assert_false(
        kd_placement_settings_set_chain(settings, "hash, ../evil", &error));
    assert_contains(error->message, "'../evil' is not a plugin name");
    g_clear_error(&error);
    assert_false(kd_placement_settings_set_chain(settings, "a,,b", &error));
    g_clear_error(&error);
    {
        static const char *const dup[] = {"hash", "hash", NULL};
        static const char *const none[] = {NULL};
        static const char *const good[] = {"attribute", "domain", "least-used",
                                           NULL};

        assert_false(
            kd_placement_settings_set_chain_names(settings, dup, NULL));
        assert_false(
            kd_placement_settings_set_chain_names(settings, none, NULL));
        assert_true(
            kd_placement_settings_set_chain_names(settings, good, NULL));
    }
    /* unchanged by the failures */
    chain = kd_placement_settings_get_chain(settings);
    assert_string_equal(chain[0], "attribute");
    assert_string_equal(chain[1], "domain");
    assert_string_equal(chain[2], "least-used");
    assert_null(chain[3]);
}

static void
test_placement_settings_from_key_file(void **state)
{
    static const char text[] = "[kolabd]\n"
                               "placement = static\n"
                               "[placement static]\n"
                               "backend = imap9\n"
                               "[backend imap1]\n"
                               "uri = imap://localhost\n";
    g_autoptr(GKeyFile) key_file = g_key_file_new();
    g_autoptr(KdPlacementSettings) settings = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdPlacement) chain = NULL;

    (void)state;
    assert_true(g_key_file_load_from_data(key_file, text, sizeof text - 1,
                                          G_KEY_FILE_NONE, NULL));
    settings =
        kd_placement_settings_new_from_key_file(key_file, "t.conf", &error);
    assert_non_null(settings);
    kd_placement_settings_set_plugin_dir(settings, BUILTIN);
    assert_int_equal(kd_placement_settings_backend_known(settings, "imap1"), 1);
    /* imap9 is no [backend] group: static refuses at init */
    chain = kd_placement_new(settings, &error);
    assert_null(chain);
    assert_contains(error->message, "backend 'imap9' is not configured");
    g_clear_error(&error);
    kd_placement_settings_set(settings, "static", "backend", "imap1");
    chain = kd_placement_new(settings, &error);
    assert_non_null(chain);
}

static void
test_placement_request_from_object(void **state)
{
    static const guint8 uuid[KD_UUID_LEN] = {1};
    g_autoptr(KdObject) object = kd_object_new(uuid);
    g_autoptr(KdPlacementRequest) request = NULL;

    (void)state;
    object->kind = KD_OBJECT_SHARED;
    object->mail = g_strdup("team@example.org");
    object->domain = g_strdup("example.org");
    object->mailbox = g_strdup("shared/team@example.org");
    object->mailhost = g_strdup("imap2.example.net");
    object->attrs =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(object->attrs, g_strdup("kolabhomeserver"),
                        g_strdup("imap3"));
    request = kd_placement_request_new_from_object(object);
    assert_int_equal(kd_placement_request_get_kind(request),
                     KOLABD_PLACEMENT_KIND_SHARED);
    assert_string_equal(kd_placement_request_get_mail(request),
                        "team@example.org");
    assert_string_equal(kd_placement_request_get_domain(request),
                        "example.org");
    assert_string_equal(kd_placement_request_get_mailbox(request),
                        "shared/team@example.org");
    assert_string_equal(kd_placement_request_get_attribute(request, "mailHost"),
                        "imap2.example.net");
    assert_string_equal(
        kd_placement_request_get_attribute(request, "kolabHomeServer"),
        "imap3");
    assert_null(kd_placement_request_get_attribute(request, "cn"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_refuses_wrong_abi),
        cmocka_unit_test(test_placement_refuses_missing_symbol),
        cmocka_unit_test(test_placement_refuses_null_function),
        cmocka_unit_test(test_placement_refuses_small_struct),
        cmocka_unit_test(test_placement_refuses_wrong_name),
        cmocka_unit_test(test_placement_refuses_missing_file),
        cmocka_unit_test(test_placement_new_refuses_bad_plugin_in_chain),
        cmocka_unit_test(test_placement_loads_builtin_chain),
        cmocka_unit_test(test_placement_refuses_unknown_key),
        cmocka_unit_test(test_placement_init_failure_names_file),
        cmocka_unit_test(test_placement_no_opinion_passes_on),
        cmocka_unit_test(test_placement_first_opinion_wins),
        cmocka_unit_test(test_placement_no_choice_names_mail),
        cmocka_unit_test(test_placement_plugin_error_stops_chain),
        cmocka_unit_test(test_placement_refuses_down_answer),
        cmocka_unit_test(test_placement_refuses_index_out_of_range),
        cmocka_unit_test(test_placement_no_backends),
        cmocka_unit_test(test_placement_reload_applies_new_settings),
        cmocka_unit_test(test_placement_reload_keeps_old_chain_on_failure),
        cmocka_unit_test(test_placement_reload_changes_chain),
        cmocka_unit_test(test_placement_check_collects_every_problem),
        cmocka_unit_test(test_placement_check_accepts_good_chain),
        cmocka_unit_test(test_placement_plugin_dir_from_env),
        cmocka_unit_test(test_placement_settings_chain_errors),
        cmocka_unit_test(test_placement_settings_from_key_file),
        cmocka_unit_test(test_placement_request_from_object),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
