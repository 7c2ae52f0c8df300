/*
 * placement-module: loading one placement plugin file and checking its
 * ABI before anything in it runs.
 *
 * A plugin file placement-NAME.so must export the symbol
 * kolabd_placement_plugin, a KolabdPlacementPlugin whose abi_version is
 * ours, whose struct_size covers every field we read, whose name is NAME
 * and whose init, choose and deinit are set (reload may be NULL). Every
 * refusal is a KD_PLACEMENT_ERROR_LOAD whose message starts with the
 * file's path, as Dovecot does for its modules.
 */
#ifndef KOLABD_PLACEMENT_MODULE_H
#define KOLABD_PLACEMENT_MODULE_H

#include <glib.h>

#include "kolabd-plugin.h"

/* The smallest struct_size with every field of ABI version 1. */
#define KD_PLACEMENT_PLUGIN_MIN_SIZE                                           \
    (offsetof(KolabdPlacementPlugin, deinit) +                                 \
     sizeof(((KolabdPlacementPlugin *)NULL)->deinit))

typedef struct KdPlacementModule KdPlacementModule;

/*
 * The path of plugin @name in @dir ("DIR/placement-NAME.so"); free with
 * g_free.
 */
char *kd_placement_module_path(const char *dir, const char *name);

/*
 * Opens the plugin file @path and checks it as described above. When
 * @name is not NULL the plugin must call itself @name. NULL with
 * KD_PLACEMENT_ERROR_LOAD on any refusal; nothing in the file has run
 * then except its ELF constructors.
 */
KdPlacementModule *kd_placement_module_open(const char *path, const char *name,
                                            GError **error);
/* Unloads @module; accepts NULL. Every state of it must be gone. */
void kd_placement_module_free(KdPlacementModule *module);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdPlacementModule, kd_placement_module_free)

/* The checked plugin struct; owned by @module. */
const KolabdPlacementPlugin *
kd_placement_module_get_plugin(const KdPlacementModule *module);
/* The path it was opened from; owned by @module. */
const char *kd_placement_module_get_path(const KdPlacementModule *module);

/* Opens and closes @path: TRUE when kd_placement_module_open would load
 * it. For check-config and the ABI test. */
gboolean kd_placement_module_check_file(const char *path, const char *name,
                                        GError **error);

#endif /* KOLABD_PLACEMENT_MODULE_H */
