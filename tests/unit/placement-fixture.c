/* placement-fixture: see placement-fixture.h */

#include "unit/placement-fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const char *
builddir(void)
{
    const char *top = g_getenv("KD_TOP_BUILDDIR");

    if (top == NULL) {
        /* run by hand from the build directory */
        top = ".";
    }
    return top;
}

const char *
placement_fixture_plugin_dir(void)
{
    static char *dir;

    if (dir == NULL) {
        dir = g_build_filename(builddir(), "plugins", ".libs", NULL);
    }
    return dir;
}

const char *
placement_fixture_check_dir(void)
{
    static char *dir;

    if (dir == NULL) {
        dir = g_build_filename(builddir(), "tests", "plugin", ".libs", NULL);
    }
    return dir;
}

static KdPlacementSettings *
config_va(const char *dir, const char *chain, va_list args)
{
    KdPlacementSettings *config = kd_placement_settings_new();
    g_autoptr(GError) error = NULL;
    const char *what;

    kd_placement_settings_set_plugin_dir(config, dir);
    if (!kd_placement_settings_set_chain(config, chain, &error)) {
        fail_msg("bad chain '%s': %s", chain, error->message);
    }
    while ((what = va_arg(args, const char *)) != NULL) {
        const char *value = va_arg(args, const char *);
        const char *dot = strchr(what, '.');
        g_autofree char *plugin = NULL;

        assert_non_null(dot);
        assert_non_null(value);
        plugin = g_strndup(what, (gsize)(dot - what));
        kd_placement_settings_set(config, plugin, dot + 1, value);
    }
    return config;
}

KdPlacementSettings *
placement_fixture_settings(const char *dir, const char *chain, ...)
{
    KdPlacementSettings *config;
    va_list args;

    va_start(args, chain);
    config = config_va(dir, chain, args);
    va_end(args);
    return config;
}

KdPlacement *
placement_fixture_chain(const char *dir, const char *chain, ...)
{
    g_autoptr(KdPlacementSettings) config = NULL;
    g_autoptr(GError) error = NULL;
    KdPlacement *placement;
    va_list args;

    va_start(args, chain);
    config = config_va(dir, chain, args);
    va_end(args);
    placement = kd_placement_new(config, &error);
    if (placement == NULL) {
        fail_msg("chain '%s': %s", chain, error->message);
    }
    return placement;
}

void
placement_fixture_backend(KolabdBackend *b, const char *name,
                          unsigned int weight)
{
    /* tests use literals or strings that outlive the backends */
    static GHashTable *servernames;
    char *servername;

    if (servernames == NULL) {
        servernames =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    }
    servername = g_hash_table_lookup(servernames, name);
    if (servername == NULL) {
        servername = g_strdup_printf("%s.example.net", name);
        g_hash_table_insert(servernames, g_strdup(name), servername);
    }
    memset(b, 0, sizeof *b);
    b->name = name;
    b->servername = servername;
    b->weight = weight;
    b->mailbox_count = 0;
    b->up = 1;
    b->free_kib = -1;
}

KdPlacementRequest *
placement_fixture_user(const char *mail)
{
    g_autofree char *mailbox = g_strdup_printf("user/%s", mail);

    return kd_placement_request_new(KOLABD_PLACEMENT_KIND_USER, mail, NULL,
                                    mailbox);
}

gsize
placement_fixture_choose(KdPlacement *chain, const KdPlacementRequest *request,
                         KolabdBackend *backends, gsize n)
{
    g_autoptr(GError) error = NULL;
    gsize index = G_MAXSIZE;

    if (!kd_placement_choose(chain, request, backends, n, &index, NULL,
                             &error)) {
        fail_msg("placing %s: %s", kd_placement_request_describe(request),
                 error->message);
    }
    assert_true(index < n);
    return index;
}
