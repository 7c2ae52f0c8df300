/* placement-module: loading and checking a plugin; see placement-module.h */

#include "placement-module.h"

#include <dlfcn.h>
#include <gmodule.h>
#include <stddef.h>
#include <string.h>

#include "placement.h"

struct KdPlacementModule {
    GModule *module;
    char *path;
    const KolabdPlacementPlugin *plugin;
};

char *
kd_placement_module_path(const char *dir, const char *name)
{
    g_autofree char *file =
        g_strdup_printf("placement-%s.%s", name, G_MODULE_SUFFIX);

    return g_build_filename(dir, file, NULL);
}

static gboolean
check_plugin(const char *path, const char *name,
             const KolabdPlacementPlugin *plugin, GError **error)
{
    /* abi_version and struct_size are first in every version */
    if (plugin->abi_version != KOLABD_PLACEMENT_ABI_VERSION) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: plugin is for placement ABI version %u, kolabd "
                    "needs version %u (rebuild it against this kolabd)",
                    path, plugin->abi_version, KOLABD_PLACEMENT_ABI_VERSION);
        return FALSE;
    }
    if (plugin->struct_size < KD_PLACEMENT_PLUGIN_MIN_SIZE) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: plugin struct is %zu bytes, ABI version %u needs "
                    "at least %zu",
                    path, plugin->struct_size, KOLABD_PLACEMENT_ABI_VERSION,
                    (size_t)KD_PLACEMENT_PLUGIN_MIN_SIZE);
        return FALSE;
    }
    if (plugin->name == NULL || plugin->name[0] == '\0') {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: plugin has no name", path);
        return FALSE;
    }
    if (name != NULL && strcmp(plugin->name, name) != 0) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: plugin calls itself '%s', expected '%s'", path,
                    plugin->name, name);
        return FALSE;
    }
    if (plugin->init == NULL || plugin->choose == NULL ||
        plugin->deinit == NULL) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: plugin '%s' lacks %s", path, plugin->name,
                    plugin->init == NULL     ? "init"
                    : plugin->choose == NULL ? "choose"
                                             : "deinit");
        return FALSE;
    }
    return TRUE;
}

/*
 * TRUE when @path is already loaded in this process: a SIGHUP after the
 * daemon dropped root may no longer be allowed to look at the plugin
 * directory, but a plugin the chain holds can still be opened again.
 */
static gboolean
resident(const char *path)
{
    void *handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);

    if (handle == NULL) {
        return FALSE;
    }
    dlclose(handle);
    return TRUE;
}

KdPlacementModule *
kd_placement_module_open(const char *path, const char *name, GError **error)
{
    GModule *module;
    gpointer symbol = NULL;
    KdPlacementModule *self;

    g_return_val_if_fail(path != NULL, NULL);

    if (!g_file_test(path, G_FILE_TEST_EXISTS) && !resident(path)) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: no such plugin file", path);
        return NULL;
    }
    /* resolve every symbol now, so a broken file fails here, not later */
    module = g_module_open(path, G_MODULE_BIND_LOCAL);
    if (module == NULL) {
        /* g_module_error() already names the file */
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: cannot load plugin: %s", path, g_module_error());
        return NULL;
    }
    if (!g_module_symbol(module, "kolabd_placement_plugin", &symbol) ||
        symbol == NULL) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_LOAD,
                    "%s: not a kolabd placement plugin (no symbol "
                    "kolabd_placement_plugin)",
                    path);
        g_module_close(module);
        return NULL;
    }
    if (!check_plugin(path, name, symbol, error)) {
        g_module_close(module);
        return NULL;
    }
    self = g_new0(KdPlacementModule, 1);
    self->module = module;
    self->path = g_strdup(path);
    self->plugin = symbol;
    return self;
}

void
kd_placement_module_free(KdPlacementModule *module)
{
    if (module == NULL) {
        return;
    }
    g_module_close(module->module);
    g_free(module->path);
    g_free(module);
}

const KolabdPlacementPlugin *
kd_placement_module_get_plugin(const KdPlacementModule *module)
{
    return module->plugin;
}

const char *
kd_placement_module_get_path(const KdPlacementModule *module)
{
    return module->path;
}

gboolean
kd_placement_module_check_file(const char *path, const char *name,
                               GError **error)
{
    g_autoptr(KdPlacementModule) module =
        kd_placement_module_open(path, name, error);

    return module != NULL;
}
