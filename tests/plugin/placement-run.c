/*
 * placement-run: a tiny host for the shell tests. Loads a placement chain
 * through kolabd's loader and prints where each mail would go:
 *
 *     placement-run -d DIR -c "my, hash" [-s plugin.key=value]...
 *                   -b name[:weight[:down]]... MAIL...
 *     placement-run -d DIR -c CHAIN --check
 *
 * Prints "MAIL BACKEND PLUGIN" per mail; exits 1 with the error on
 * stderr when loading or a placement fails, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"

int
main(int argc, char **argv)
{
    g_autofree char *dir = NULL;
    g_autofree char *chain_list = NULL;
    g_auto(GStrv) sets = NULL;
    g_auto(GStrv) specs = NULL;
    gboolean check = FALSE;
    GOptionEntry entries[] = {
        {"dir", 'd', 0, G_OPTION_ARG_STRING, &dir, "plugin directory", "DIR"},
        {"chain", 'c', 0, G_OPTION_ARG_STRING, &chain_list, "chain", "LIST"},
        {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "setting",
         "PLUGIN.KEY=VALUE"},
        {"backend", 'b', 0, G_OPTION_ARG_STRING_ARRAY, &specs, "backend",
         "NAME[:WEIGHT[:down]]"},
        {"check", 'k', 0, G_OPTION_ARG_NONE, &check, "check only", NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("MAIL...");
    g_autoptr(KdPlacementSettings) settings = kd_placement_settings_new();
    g_autoptr(KdPlacement) chain = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree KolabdBackend *backends = NULL;
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    guint n = 0;
    int i;

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error) ||
        chain_list == NULL) {
        fprintf(stderr, "placement-run: %s\n",
                error != NULL ? error->message : "-c CHAIN is required");
        return 2;
    }
    kd_placement_settings_set_plugin_dir(settings, dir);
    if (!kd_placement_settings_set_chain(settings, chain_list, &error)) {
        fprintf(stderr, "placement-run: %s\n", error->message);
        return 2;
    }
    for (i = 0; sets != NULL && sets[i] != NULL; i++) {
        const char *dot = strchr(sets[i], '.');
        const char *eq = dot != NULL ? strchr(dot, '=') : NULL;
        g_autofree char *plugin = NULL;
        g_autofree char *key = NULL;

        if (eq == NULL) {
            fprintf(stderr, "placement-run: bad -s %s\n", sets[i]);
            return 2;
        }
        plugin = g_strndup(sets[i], (gsize)(dot - sets[i]));
        key = g_strndup(dot + 1, (gsize)(eq - dot - 1));
        kd_placement_settings_set(settings, plugin, key, eq + 1);
    }
    if (check) {
        if (!kd_placement_check(settings, &error)) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        return 0;
    }
    n = specs != NULL ? g_strv_length(specs) : 0;
    backends = g_new0(KolabdBackend, MAX(n, 1));
    for (i = 0; i < (int)n; i++) {
        g_auto(GStrv) parts = g_strsplit(specs[i], ":", 3);
        char *name = g_strdup(parts[0]);

        g_ptr_array_add(keep, name);
        backends[i].name = name;
        backends[i].servername = name;
        backends[i].weight =
            parts[1] != NULL ? (unsigned int)atoi(parts[1]) : 1;
        backends[i].up = parts[1] == NULL || parts[2] == NULL ||
                         strcmp(parts[2], "down") != 0;
        backends[i].free_kib = -1;
        kd_placement_settings_add_backend(settings, name);
    }
    chain = kd_placement_new(settings, &error);
    if (chain == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    for (i = 1; i < argc; i++) {
        g_autofree char *mailbox = g_strdup_printf("user/%s", argv[i]);
        g_autoptr(KdPlacementRequest) request = kd_placement_request_new(
            KOLABD_PLACEMENT_KIND_USER, argv[i], NULL, mailbox);
        const char *plugin = NULL;
        gsize index;

        if (!kd_placement_choose(chain, request, backends, n, &index, &plugin,
                                 &error)) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        printf("%s %s %s\n", argv[i], backends[index].name, plugin);
    }
    return 0;
}
