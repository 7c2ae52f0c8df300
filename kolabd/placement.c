/* placement: the chain of placement plugins; see placement.h */

#define G_LOG_DOMAIN "kolabd"

#include "placement.h"

#include <string.h>

#include "placement-module.h"

typedef struct {
    char *name;
    KdPlacementModule *module;
    const KolabdPlacementPlugin *plugin;
    void *state;     /* NULL until init succeeded */
    KolabdHost host; /* plugins keep &host: a Link never moves */
    const KdPlacementSettings *config; /* for host.backend_known */
} Link;

struct KdPlacement {
    GMutex lock;
    KdPlacementSettings *config; /* our copy */
    GPtrArray *links;            /* Link *, in chain order */
};

G_DEFINE_QUARK(kd - placement - error - quark, kd_placement_error)

/* ---- what a plugin may call ----------------------------------------- */

static void
host_log(const KolabdHost *host, KolabdLogLevel level, const char *message)
{
    const Link *link = host->host_data;
    g_autofree char *clean = g_strdup(message != NULL ? message : "");
    GLogLevelFlags flags;
    char *p;

    /* one event, one line: a plugin's text must not forge log lines */
    for (p = clean; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    switch (level) {
    case KOLABD_LOG_ERROR:
    case KOLABD_LOG_WARNING:
        flags = G_LOG_LEVEL_WARNING;
        break;
    case KOLABD_LOG_INFO:
        flags = G_LOG_LEVEL_INFO;
        break;
    case KOLABD_LOG_DEBUG:
    default:
        flags = G_LOG_LEVEL_DEBUG;
        break;
    }
    g_log(G_LOG_DOMAIN, flags, "placement %s: %s", link->name, clean);
}

static int
host_backend_known(const KolabdHost *host, const char *name)
{
    const Link *link = host->host_data;

    return name == NULL
               ? 0
               : kd_placement_settings_backend_known(link->config, name);
}

/* ---- links ---------------------------------------------------------- */

static void
link_free(Link *link)
{
    if (link == NULL) {
        return;
    }
    if (link->state != NULL) {
        link->plugin->deinit(link->state);
    }
    kd_placement_module_free(link->module);
    g_free(link->name);
    g_free(link);
}

static Link *
link_open(const KdPlacementSettings *config, const char *name, GError **error)
{
    g_autofree char *path = kd_placement_module_path(
        kd_placement_settings_get_plugin_dir(config), name);
    KdPlacementModule *module = kd_placement_module_open(path, name, error);
    Link *link;

    if (module == NULL) {
        return NULL;
    }
    link = g_new0(Link, 1);
    link->name = g_strdup(name);
    link->module = module;
    link->plugin = kd_placement_module_get_plugin(module);
    link->config = config;
    link->host.abi_version = KOLABD_PLACEMENT_ABI_VERSION;
    link->host.struct_size = sizeof link->host;
    link->host.log = host_log;
    link->host.backend_known = host_backend_known;
    link->host.request_kind = kd_placement_request_get_kind;
    link->host.request_mail = kd_placement_request_get_mail;
    link->host.request_domain = kd_placement_request_get_domain;
    link->host.request_mailbox = kd_placement_request_get_mailbox;
    link->host.request_attribute = kd_placement_request_get_attribute;
    link->host.host_data = link;
    return link;
}

/* Refuses keys the plugin did not declare (when it declares them). */
static gboolean
link_check_keys(const Link *link, const KolabdConfig *group, GError **error)
{
    const char *const *known = link->plugin->config_keys;
    size_t i;

    if (known == NULL) {
        return TRUE;
    }
    for (i = 0; i < group->n_items; i++) {
        if (!g_strv_contains(known, group->items[i].key)) {
            g_autofree char *list = g_strjoinv(", ", (char **)known);

            g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_CONFIG,
                        "[%s] unknown key '%s' (plugin %s accepts: %s)",
                        group->group, group->items[i].key, link->name,
                        list[0] != '\0' ? list : "no keys");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
link_init(Link *link, GError **error)
{
    KolabdConfig group;
    KolabdError err = {{0}};

    kd_placement_settings_get_group(link->config, link->name, &group);
    if (!link_check_keys(link, &group, error)) {
        return FALSE;
    }
    link->state = link->plugin->init(&link->host, &group, &err);
    if (link->state == NULL) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_PLUGIN,
                    "%s: %s", kd_placement_module_get_path(link->module),
                    err.message[0] != '\0' ? err.message
                                           : "init failed without a reason");
        return FALSE;
    }
    return TRUE;
}

static Link *
link_new(const KdPlacementSettings *config, const char *name, GError **error)
{
    Link *link = link_open(config, name, error);

    if (link != NULL && !link_init(link, error)) {
        link_free(link);
        return NULL;
    }
    return link;
}

/* ---- the chain ------------------------------------------------------ */

KdPlacement *
kd_placement_new(const KdPlacementSettings *config, GError **error)
{
    g_autoptr(KdPlacement) chain = g_new0(KdPlacement, 1);
    const char *const *names;
    guint i;

    g_return_val_if_fail(config != NULL, NULL);

    g_mutex_init(&chain->lock);
    chain->config = kd_placement_settings_copy(config);
    chain->links = g_ptr_array_new_with_free_func((GDestroyNotify)link_free);
    names = kd_placement_settings_get_chain(chain->config);
    if (names[0] == NULL) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_CONFIG,
                    "placement: the list of plugins is empty");
        return NULL;
    }
    for (i = 0; names[i] != NULL; i++) {
        Link *link = link_new(chain->config, names[i], error);

        if (link == NULL) {
            return NULL;
        }
        g_ptr_array_add(chain->links, link);
    }
    return g_steal_pointer(&chain);
}

void
kd_placement_free(KdPlacement *chain)
{
    if (chain == NULL) {
        return;
    }
    if (chain->links != NULL) {
        g_ptr_array_unref(chain->links);
    }
    kd_placement_settings_free(chain->config);
    g_mutex_clear(&chain->lock);
    g_free(chain);
}

guint
kd_placement_get_length(KdPlacement *chain)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&chain->lock);

    return chain->links->len;
}

const char *
kd_placement_get_name(KdPlacement *chain, guint index)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&chain->lock);
    const Link *link;

    g_return_val_if_fail(index < chain->links->len, NULL);
    link = g_ptr_array_index(chain->links, index);
    return link->name;
}

gboolean
kd_placement_choose(KdPlacement *chain, const KdPlacementRequest *request,
                    KolabdBackend *backends, gsize n_backends, gsize *index_out,
                    const char **plugin_out, GError **error)
{
    g_autoptr(GMutexLocker) locker = NULL;
    g_autofree const KolabdBackend **view = NULL;
    const char *what;
    guint i;

    g_return_val_if_fail(chain != NULL && request != NULL, FALSE);
    g_return_val_if_fail(backends != NULL || n_backends == 0, FALSE);
    g_return_val_if_fail(index_out != NULL, FALSE);

    what = kd_placement_request_describe(request);
    if (n_backends == 0) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_NO_CHOICE,
                    "no placement plugin chose a backend for %s: no "
                    "backend is configured",
                    what);
        return FALSE;
    }
    view = g_new(const KolabdBackend *, n_backends);
    for (i = 0; i < n_backends; i++) {
        view[i] = &backends[i];
    }
    locker = g_mutex_locker_new(&chain->lock);
    for (i = 0; i < chain->links->len; i++) {
        const Link *link = g_ptr_array_index(chain->links, i);
        KolabdError err = {{0}};
        size_t choice = G_MAXSIZE;
        KolabdPlacementResult result;

        result = link->plugin->choose(link->state, request, view, n_backends,
                                      &choice, &err);
        if (result == KOLABD_PLACEMENT_NO_OPINION) {
            continue;
        }
        if (result == KOLABD_PLACEMENT_ERROR) {
            g_set_error(
                error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_PLUGIN,
                "placement plugin %s failed for %s: %s", link->name, what,
                err.message[0] != '\0' ? err.message : "no reason given");
            return FALSE;
        }
        if (result != KOLABD_PLACEMENT_CHOSEN) {
            g_set_error(error, KD_PLACEMENT_ERROR,
                        KD_PLACEMENT_ERROR_BAD_ANSWER,
                        "placement plugin %s returned unknown result %d "
                        "for %s",
                        link->name, (int)result, what);
            return FALSE;
        }
        if (choice >= n_backends) {
            g_set_error(error, KD_PLACEMENT_ERROR,
                        KD_PLACEMENT_ERROR_BAD_ANSWER,
                        "placement plugin %s chose backend #%zu of %zu for "
                        "%s",
                        link->name, choice, (size_t)n_backends, what);
            return FALSE;
        }
        if (!backends[choice].up) {
            g_set_error(error, KD_PLACEMENT_ERROR,
                        KD_PLACEMENT_ERROR_BAD_ANSWER,
                        "placement plugin %s chose backend %s for %s, but "
                        "it is down",
                        link->name, backends[choice].name, what);
            return FALSE;
        }
        backends[choice].mailbox_count++;
        *index_out = choice;
        if (plugin_out != NULL) {
            *plugin_out = link->name;
        }
        return TRUE;
    }
    g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_NO_CHOICE,
                "no placement plugin chose a backend for %s", what);
    return FALSE;
}

/* ---- reload and check ----------------------------------------------- */

static Link *
find_reloadable(GPtrArray *links, const char *name)
{
    guint i;

    for (i = 0; i < links->len; i++) {
        Link *link = g_ptr_array_index(links, i);

        if (strcmp(link->name, name) == 0 && link->plugin->reload != NULL) {
            return link;
        }
    }
    return NULL;
}

/* Calls @link's reload with its group in @config; sets link->config. */
static gboolean
link_reload(Link *link, const KdPlacementSettings *config, GError **error)
{
    const KdPlacementSettings *old = link->config;
    KolabdConfig group;
    KolabdError err = {{0}};

    kd_placement_settings_get_group(config, link->name, &group);
    link->config = config;
    if (link->plugin->reload(link->state, &group, &err) != 0) {
        link->config = old;
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_PLUGIN,
                    "%s: %s", kd_placement_module_get_path(link->module),
                    err.message[0] != '\0' ? err.message
                                           : "reload failed without a "
                                             "reason");
        return FALSE;
    }
    return TRUE;
}

/*
 * Phase one of a reload: the new links, where a plugin that stays and can
 * reload is its old Link (not yet reloaded; listed in @kept) and every
 * other one is opened and initialised anew. Nothing old changes here.
 */
static GPtrArray *
reload_prepare(KdPlacement *chain, const KdPlacementSettings *config,
               GPtrArray *kept, GError **error)
{
    const char *const *names = kd_placement_settings_get_chain(config);
    g_autoptr(GPtrArray) links = g_ptr_array_new();
    guint i;

    if (names[0] == NULL) {
        g_set_error(error, KD_PLACEMENT_ERROR, KD_PLACEMENT_ERROR_CONFIG,
                    "placement: the list of plugins is empty");
        return NULL;
    }
    for (i = 0; names[i] != NULL; i++) {
        Link *link = find_reloadable(chain->links, names[i]);
        KolabdConfig group;

        if (link != NULL) {
            kd_placement_settings_get_group(config, names[i], &group);
            if (!link_check_keys(link, &group, error)) {
                break;
            }
            g_ptr_array_add(kept, link);
        } else if ((link = link_new(config, names[i], error)) == NULL) {
            break;
        }
        g_ptr_array_add(links, link);
    }
    if (names[i] != NULL) {
        for (i = 0; i < links->len; i++) {
            Link *link = g_ptr_array_index(links, i);

            if (!g_ptr_array_find(kept, link, NULL)) {
                link_free(link);
            }
        }
        return NULL;
    }
    return g_steal_pointer(&links);
}

gboolean
kd_placement_reload(KdPlacement *chain, const KdPlacementSettings *config,
                    GError **error)
{
    g_autoptr(GMutexLocker) locker = NULL;
    g_autoptr(KdPlacementSettings) copy = NULL;
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    g_autoptr(GPtrArray) links = NULL;
    guint i, j;

    g_return_val_if_fail(chain != NULL && config != NULL, FALSE);

    copy = kd_placement_settings_copy(config);
    locker = g_mutex_locker_new(&chain->lock);
    links = reload_prepare(chain, copy, kept, error);
    if (links == NULL) {
        return FALSE;
    }
    /* phase two: reload the kept plugins; undo them all if one fails */
    for (i = 0; i < kept->len; i++) {
        if (!link_reload(g_ptr_array_index(kept, i), copy, error)) {
            for (j = 0; j < i; j++) {
                Link *link = g_ptr_array_index(kept, j);
                g_autoptr(GError) undo = NULL;

                if (!link_reload(link, chain->config, &undo)) {
                    g_warning("placement %s: cannot restore the old "
                              "configuration: %s",
                              link->name, undo->message);
                }
            }
            for (j = 0; j < links->len; j++) {
                Link *link = g_ptr_array_index(links, j);

                if (!g_ptr_array_find(kept, link, NULL)) {
                    link_free(link);
                }
            }
            return FALSE;
        }
    }
    /* commit: drop what is no longer in the chain */
    for (i = 0; i < chain->links->len; i++) {
        Link *link = g_ptr_array_index(chain->links, i);

        if (!g_ptr_array_find(kept, link, NULL)) {
            link_free(link);
        }
    }
    g_ptr_array_set_free_func(chain->links, NULL);
    g_ptr_array_unref(chain->links);
    chain->links = g_ptr_array_new_with_free_func((GDestroyNotify)link_free);
    for (i = 0; i < links->len; i++) {
        Link *link = g_ptr_array_index(links, i);

        link->config = copy;
        g_ptr_array_add(chain->links, link);
    }
    kd_placement_settings_free(chain->config);
    chain->config = g_steal_pointer(&copy);
    return TRUE;
}

gboolean
kd_placement_check(const KdPlacementSettings *config, GError **error)
{
    g_autoptr(KdPlacementSettings) copy = kd_placement_settings_copy(config);
    const char *const *names = kd_placement_settings_get_chain(copy);
    g_autoptr(GString) problems = g_string_new(NULL);
    guint i;

    if (names[0] == NULL) {
        g_string_append(problems, "placement: the list of plugins is empty");
    }
    for (i = 0; names[i] != NULL; i++) {
        g_autoptr(GError) local = NULL;
        Link *link = link_new(copy, names[i], &local);

        if (link == NULL) {
            g_string_append_printf(problems, "%s%s",
                                   problems->len > 0 ? "\n" : "",
                                   local->message);
        }
        link_free(link);
    }
    if (problems->len > 0) {
        g_set_error_literal(error, KD_PLACEMENT_ERROR,
                            KD_PLACEMENT_ERROR_CONFIG, problems->str);
        return FALSE;
    }
    return TRUE;
}
