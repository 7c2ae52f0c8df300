/* placement-settings: the chain's configuration; see placement.h */

#include <string.h>

#include "placement.h"

typedef struct {
    char *title;   /* "placement NAME" */
    GArray *items; /* KolabdConfigItem, strings owned */
} Group;

struct KdPlacementSettings {
    char *plugin_dir;     /* explicit, or NULL */
    char *resolved_dir;   /* what get_plugin_dir returns */
    GPtrArray *chain;     /* names, NULL-terminated */
    GHashTable *groups;   /* plugin name -> Group */
    GHashTable *backends; /* names of [backend NAME], or NULL */
};

static void
group_free(gpointer data)
{
    Group *group = data;
    guint i;

    for (i = 0; i < group->items->len; i++) {
        KolabdConfigItem *item =
            &g_array_index(group->items, KolabdConfigItem, i);

        g_free((char *)item->key);
        g_free((char *)item->value);
    }
    g_array_unref(group->items);
    g_free(group->title);
    g_free(group);
}

static void
resolve_dir(KdPlacementSettings *settings)
{
    const char *env = g_getenv("KD_PLUGIN_DIR");

    g_free(settings->resolved_dir);
    if (settings->plugin_dir != NULL) {
        settings->resolved_dir = g_strdup(settings->plugin_dir);
    } else if (env != NULL && env[0] != '\0') {
        settings->resolved_dir = g_strdup(env);
    } else {
        settings->resolved_dir = g_strdup(KD_PLUGINDIR);
    }
}

KdPlacementSettings *
kd_placement_settings_new(void)
{
    KdPlacementSettings *settings = g_new0(KdPlacementSettings, 1);

    settings->chain = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(settings->chain, NULL);
    settings->groups =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, group_free);
    resolve_dir(settings);
    return settings;
}

void
kd_placement_settings_free(KdPlacementSettings *settings)
{
    if (settings == NULL) {
        return;
    }
    g_free(settings->plugin_dir);
    g_free(settings->resolved_dir);
    g_ptr_array_unref(settings->chain);
    g_hash_table_unref(settings->groups);
    if (settings->backends != NULL) {
        g_hash_table_unref(settings->backends);
    }
    g_free(settings);
}

void
kd_placement_settings_set_plugin_dir(KdPlacementSettings *settings,
                                     const char *dir)
{
    g_free(settings->plugin_dir);
    settings->plugin_dir = g_strdup(dir);
    resolve_dir(settings);
}

const char *
kd_placement_settings_get_plugin_dir(const KdPlacementSettings *settings)
{
    return settings->resolved_dir;
}

static gboolean
name_valid(const char *name)
{
    const char *p;

    if (name[0] == '\0') {
        return FALSE;
    }
    for (p = name; *p != '\0'; p++) {
        if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-' &&
            *p != '_') {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
kd_placement_settings_set_chain_names(KdPlacementSettings *settings,
                                      const char *const *names, GError **error)
{
    g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func(g_free);
    guint i, j;

    for (i = 0; names != NULL && names[i] != NULL; i++) {
        const char *name = names[i];

        if (!name_valid(name)) {
            g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_CONFIG,
                        "placement: '%s' is not a plugin name (use "
                        "lower-case letters, digits, '-' and '_', "
                        "separated by commas)",
                        name);
            return FALSE;
        }
        for (j = 0; j < chain->len; j++) {
            if (strcmp(g_ptr_array_index(chain, j), name) == 0) {
                g_set_error(error, KD_PLACEMENT_ERROR,
                            KD_PLACEMENT_ERROR_CONFIG,
                            "placement: plugin '%s' is listed twice", name);
                return FALSE;
            }
        }
        g_ptr_array_add(chain, g_strdup(name));
    }
    if (chain->len == 0) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_CONFIG,
                    "placement: the list of plugins is empty");
        return FALSE;
    }
    g_ptr_array_add(chain, NULL);
    g_ptr_array_unref(settings->chain);
    settings->chain = g_steal_pointer(&chain);
    return TRUE;
}

gboolean
kd_placement_settings_set_chain(KdPlacementSettings *settings, const char *list,
                                GError **error)
{
    g_auto(GStrv) parts = g_strsplit(list != NULL ? list : "", ",", -1);
    guint i;

    for (i = 0; parts[i] != NULL; i++) {
        g_strstrip(parts[i]);
    }
    if (parts[0] != NULL && parts[0][0] == '\0' && parts[1] == NULL) {
        /* a blank list: reported as empty */
        g_clear_pointer(&parts[0], g_free);
    }
    return kd_placement_settings_set_chain_names(
        settings, (const char *const *)parts, error);
}

const char *const *
kd_placement_settings_get_chain(const KdPlacementSettings *settings)
{
    return (const char *const *)settings->chain->pdata;
}

static Group *
get_group(KdPlacementSettings *settings, const char *plugin)
{
    Group *group = g_hash_table_lookup(settings->groups, plugin);

    if (group == NULL) {
        group = g_new0(Group, 1);
        group->title = g_strdup_printf("placement %s", plugin);
        group->items = g_array_new(FALSE, TRUE, sizeof(KolabdConfigItem));
        g_hash_table_insert(settings->groups, g_strdup(plugin), group);
    }
    return group;
}

void
kd_placement_settings_set(KdPlacementSettings *settings, const char *plugin,
                          const char *key, const char *value)
{
    Group *group;
    KolabdConfigItem item;
    guint i;

    g_return_if_fail(plugin != NULL && key != NULL && value != NULL);

    group = get_group(settings, plugin);
    for (i = 0; i < group->items->len; i++) {
        KolabdConfigItem *old =
            &g_array_index(group->items, KolabdConfigItem, i);

        if (strcmp(old->key, key) == 0) {
            g_free((char *)old->value);
            old->value = g_strdup(value);
            return;
        }
    }
    item.key = g_strdup(key);
    item.value = g_strdup(value);
    g_array_append_val(group->items, item);
}

void
kd_placement_settings_set_group(KdPlacementSettings *settings,
                                const char *plugin, const char *const *keys,
                                const char *const *values)
{
    guint i;

    get_group(settings, plugin);
    for (i = 0; keys != NULL && keys[i] != NULL; i++) {
        g_return_if_fail(values[i] != NULL);
        kd_placement_settings_set(settings, plugin, keys[i], values[i]);
    }
}

void
kd_placement_settings_set_table(KdPlacementSettings *settings,
                                const char *plugin, GHashTable *keys)
{
    GHashTableIter iter;
    gpointer key, value;

    get_group(settings, plugin);
    if (keys == NULL) {
        return;
    }
    g_hash_table_iter_init(&iter, keys);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        if (key != NULL && value != NULL) {
            kd_placement_settings_set(settings, plugin, key, value);
        }
    }
}

void
kd_placement_settings_add_backend(KdPlacementSettings *settings,
                                  const char *name)
{
    if (settings->backends == NULL) {
        settings->backends =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    g_hash_table_add(settings->backends, g_strdup(name));
}

KdPlacementSettings *
kd_placement_settings_copy(const KdPlacementSettings *settings)
{
    KdPlacementSettings *copy = kd_placement_settings_new();
    GHashTableIter iter;
    gpointer key, value;
    guint i;

    kd_placement_settings_set_plugin_dir(copy, settings->plugin_dir);
    g_ptr_array_set_size(copy->chain, 0);
    for (i = 0; i + 1 < settings->chain->len; i++) {
        g_ptr_array_add(copy->chain,
                        g_strdup(g_ptr_array_index(settings->chain, i)));
    }
    g_ptr_array_add(copy->chain, NULL);
    g_hash_table_iter_init(&iter, settings->groups);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        Group *group = value;

        get_group(copy, key);
        for (i = 0; i < group->items->len; i++) {
            KolabdConfigItem *item =
                &g_array_index(group->items, KolabdConfigItem, i);

            kd_placement_settings_set(copy, key, item->key, item->value);
        }
    }
    if (settings->backends != NULL) {
        g_hash_table_iter_init(&iter, settings->backends);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
            kd_placement_settings_add_backend(copy, key);
        }
    }
    /* every plugin of the chain gets a group, if only an empty one */
    for (i = 0; i + 1 < copy->chain->len; i++) {
        get_group(copy, g_ptr_array_index(copy->chain, i));
    }
    return copy;
}

void
kd_placement_settings_get_group(const KdPlacementSettings *settings,
                                const char *plugin, KolabdConfig *group_out)
{
    Group *group = g_hash_table_lookup(settings->groups, plugin);

    if (group == NULL) {
        /* copies always have one (see kd_placement_settings_copy) */
        group_out->group = "placement";
        group_out->n_items = 0;
        group_out->items = NULL;
        return;
    }
    group_out->group = group->title;
    group_out->n_items = group->items->len;
    group_out->items = (const KolabdConfigItem *)group->items->data;
}

int
kd_placement_settings_backend_known(const KdPlacementSettings *settings,
                                    const char *name)
{
    if (settings->backends == NULL) {
        return -1;
    }
    return g_hash_table_contains(settings->backends, name) ? 1 : 0;
}

KdPlacementSettings *
kd_placement_settings_new_from_key_file(GKeyFile *key_file,
                                        const char *file_name, GError **error)
{
    g_autoptr(KdPlacementSettings) settings = kd_placement_settings_new();
    g_autofree char *chain = NULL;
    g_autofree char *dir = NULL;
    g_auto(GStrv) groups = g_key_file_get_groups(key_file, NULL);
    g_autoptr(GError) local = NULL;
    guint i, j;

    chain = g_key_file_get_string(key_file, "kolabd", "placement", NULL);
    if (!kd_placement_settings_set_chain(
            settings, chain != NULL ? chain : KD_PLACEMENT_DEFAULT_CHAIN,
            &local)) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_CONFIG,
                    "%s: [kolabd] %s", file_name, local->message);
        return NULL;
    }
    dir = g_key_file_get_string(key_file, "kolabd", "plugin_dir", NULL);
    if (dir != NULL && dir[0] != '\0') {
        kd_placement_settings_set_plugin_dir(settings, dir);
    }
    for (i = 0; groups[i] != NULL; i++) {
        g_auto(GStrv) keys = NULL;

        if (g_str_has_prefix(groups[i], "backend ")) {
            kd_placement_settings_add_backend(settings,
                                              groups[i] + strlen("backend "));
            continue;
        }
        if (!g_str_has_prefix(groups[i], "placement ")) {
            continue;
        }
        keys = g_key_file_get_keys(key_file, groups[i], NULL, NULL);
        get_group(settings, groups[i] + strlen("placement "));
        for (j = 0; keys != NULL && keys[j] != NULL; j++) {
            g_autofree char *value =
                g_key_file_get_string(key_file, groups[i], keys[j], NULL);

            if (value != NULL) {
                kd_placement_settings_set(
                    settings, groups[i] + strlen("placement "), keys[j], value);
            }
        }
    }
    return g_steal_pointer(&settings);
}
