/*
 * test-placement-abi: dlopens every plugin the build produced
 * (plugins/.libs/placement-*.so) and checks its ABI the way kolabd's
 * loader does, plus what the loader cannot see: the struct is exactly
 * this header's size, and nothing but kolabd_placement_plugin leaks out
 * of the module (the shared rendezvous code stays private).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <gmodule.h>

#include "placement-module.h"
#include "placement.h"
#include "unit/placement-fixture.h"

static const char *const builtins[] = {"static", "attribute", "domain", "hash",
                                       "least-used"};

static void
test_placement_abi_every_built_plugin_loads(void **state)
{
    const char *dir = placement_fixture_plugin_dir();
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *suffix = g_strdup_printf(".%s", G_MODULE_SUFFIX);
    const char *file;
    guint i;

    (void)state;
    if (d == NULL) {
        fail_msg("%s", error->message);
    }
    while ((file = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = NULL;
        g_autofree char *name = NULL;
        g_autoptr(KdPlacementModule) module = NULL;
        const KolabdPlacementPlugin *plugin;

        if (!g_str_has_prefix(file, "placement-") ||
            !g_str_has_suffix(file, suffix)) {
            continue;
        }
        path = g_build_filename(dir, file, NULL);
        name = g_strndup(file + strlen("placement-"),
                         strlen(file) - strlen("placement-") - strlen(suffix));
        module = kd_placement_module_open(path, name, &error);
        if (module == NULL) {
            fail_msg("%s", error->message);
        }
        plugin = kd_placement_module_get_plugin(module);
        assert_int_equal(plugin->abi_version, KOLABD_PLACEMENT_ABI_VERSION);
        assert_int_equal(plugin->struct_size, sizeof(KolabdPlacementPlugin));
        assert_string_equal(plugin->name, name);
        assert_non_null(plugin->init);
        assert_non_null(plugin->choose);
        assert_non_null(plugin->deinit);
        assert_true(kd_placement_module_check_file(path, name, NULL));
        g_ptr_array_add(seen, g_steal_pointer(&name));
    }
    for (i = 0; i < G_N_ELEMENTS(builtins); i++) {
        if (!g_ptr_array_find_with_equal_func(seen, builtins[i], g_str_equal,
                                              NULL)) {
            fail_msg("built-in plugin %s was not built in %s", builtins[i],
                     dir);
        }
    }
}

static void
test_placement_abi_exports_only_the_plugin(void **state)
{
    static const char *const private_symbols[] = {
        "kd_rendezvous_pick", "kd_rendezvous_hash", "kd_rendezvous_score",
        "static_init",        "domain_choose",      "kolabd_error_set"};
    guint i, j;

    (void)state;
    for (i = 0; i < G_N_ELEMENTS(builtins); i++) {
        g_autofree char *path = kd_placement_module_path(
            placement_fixture_plugin_dir(), builtins[i]);
        GModule *module = g_module_open(path, G_MODULE_BIND_LOCAL);
        gpointer symbol = NULL;

        if (module == NULL) {
            fail_msg("%s", g_module_error());
        }
        assert_true(
            g_module_symbol(module, "kolabd_placement_plugin", &symbol));
        for (j = 0; j < G_N_ELEMENTS(private_symbols); j++) {
            if (g_module_symbol(module, private_symbols[j], &symbol)) {
                fail_msg("%s exports %s", path, private_symbols[j]);
            }
        }
        g_module_close(module);
    }
}

/* The loader's minimum size is the size of this header's struct. */
static void
test_placement_abi_min_size_is_full_struct(void **state)
{
    (void)state;
    assert_int_equal(KD_PLACEMENT_PLUGIN_MIN_SIZE,
                     sizeof(KolabdPlacementPlugin));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_abi_every_built_plugin_loads),
        cmocka_unit_test(test_placement_abi_exports_only_the_plugin),
        cmocka_unit_test(test_placement_abi_min_size_is_full_struct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
