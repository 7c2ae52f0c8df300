/* app: see app.h. */
#include <string.h>

#include <ldap.h>

#include "app.h"

struct KdApp {
    char *config_path;
    KdConfig *config;
    KdModel *model;
    KdPlacement *placement;
    KdMurder *murder;
    KdHooks *hooks;
    KdImapTls *imap_tls; /* tls_ca_file/starttls, or NULL: system trust */
    char *store_path;
    char *sync_filter;
    GPtrArray *engine_backends; /* KdEngineBackend* */
    GHashTable *only;           /* resync MAIL...: uuid hex, or NULL */
};

static void
engine_backend_free(gpointer data)
{
    KdEngineBackend *b = data;

    g_free(b->name);
    g_free(b->uri);
    g_free(b->servername);
    g_free(b->partition);
    g_free(b);
}

void
kd_app_free(KdApp *app)
{
    if (app == NULL) {
        return;
    }
    kd_hooks_free(app->hooks);
    kd_murder_free(app->murder);
    kd_imap_tls_unref(app->imap_tls);
    kd_placement_free(app->placement);
    kd_model_free(app->model);
    kd_config_free(app->config);
    g_clear_pointer(&app->engine_backends, g_ptr_array_unref);
    g_clear_pointer(&app->only, g_hash_table_unref);
    g_free(app->sync_filter);
    g_free(app->store_path);
    g_free(app->config_path);
    g_free(app);
}

/* TRUE when [backend NAME] sets servername itself (not the default taken
 * from the URI): only then does it override the server's greeting. */
static gboolean
servername_explicit(const KdConfig *config, const char *name)
{
    g_autofree char *group = g_strdup_printf("backend %s", name);
    g_autofree char *where = kd_config_where(config, group, "servername");

    return g_strcmp0(where, config->path) != 0;
}

static KdPlacementSettings *
placement_settings(const KdConfig *config, GError **error)
{
    g_autoptr(KdPlacementSettings) settings = kd_placement_settings_new();
    g_autofree char *chain = NULL;

    g_autofree char *where = kd_config_where(config, "kolabd", "plugin_dir");

    /* Unset in the file: KD_PLUGIN_DIR (tests) or the built-in default. */
    kd_placement_settings_set_plugin_dir(
        settings,
        g_strcmp0(where, config->path) != 0 ? config->plugin_dir : NULL);
    chain = config->placement && config->placement[0]
                ? g_strjoinv(",", config->placement)
                : g_strdup(KD_PLACEMENT_DEFAULT_CHAIN);
    if (!kd_placement_settings_set_chain(settings, chain, error)) {
        g_prefix_error(error, "%s: [kolabd] placement: ", config->path);
        return NULL;
    }
    for (guint i = 0; i < config->placements->len; i++) {
        const KdPlacementConfig *p = g_ptr_array_index(config->placements, i);

        kd_placement_settings_set_table(settings, p->name, p->keys);
    }
    for (guint i = 0; i < config->backends->len; i++) {
        const KdBackendConfig *b = g_ptr_array_index(config->backends, i);

        kd_placement_settings_add_backend(settings, b->name);
    }
    return g_steal_pointer(&settings);
}

/* The backends: the [backend NAME] groups, or without any (no murder) the
 * one server of [cyrus-imap] uri. */
static GPtrArray *
engine_backends(const KdConfig *config)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(engine_backend_free);

    for (guint i = 0; i < config->backends->len; i++) {
        const KdBackendConfig *b = g_ptr_array_index(config->backends, i);
        KdEngineBackend *e = g_new0(KdEngineBackend, 1);

        e->name = g_strdup(b->name);
        e->uri = g_strdup(b->uri);
        e->servername = servername_explicit(config, b->name)
                            ? g_strdup(b->servername)
                            : NULL;
        e->partition = g_strdup(b->partition);
        e->weight = (guint)MIN(b->weight, G_MAXUINT);
        g_ptr_array_add(out, e);
    }
    if (out->len == 0) {
        KdEngineBackend *e = g_new0(KdEngineBackend, 1);

        e->name = g_strdup("imap");
        e->uri = g_strdup(config->imap_uri);
        e->weight = 100;
        g_ptr_array_add(out, e);
    }
    return out;
}

static gboolean
parse_mupdate_uri(const char *uri, char **host_out, guint16 *port_out,
                  GError **error)
{
    const char *rest;
    const char *colon;
    guint64 port = 3905;

    if (!g_str_has_prefix(uri, "mupdate://")) {
        g_set_error(error, KD_CONFIG_ERROR, KD_CONFIG_ERROR_INVALID,
                    "[murder] mupdate_uri %s: expected mupdate://host[:port]",
                    uri);
        return FALSE;
    }
    rest = uri + strlen("mupdate://");
    colon = strrchr(rest, ':');
    if (colon != NULL && strchr(rest, ']') < colon) {
        if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port,
                                        NULL)) {
            g_set_error(error, KD_CONFIG_ERROR, KD_CONFIG_ERROR_INVALID,
                        "[murder] mupdate_uri %s: bad port", uri);
            return FALSE;
        }
        *host_out = g_strndup(rest, colon - rest);
    } else {
        *host_out = g_strdup(rest);
    }
    g_strdelimit(*host_out, "/", '\0');
    *port_out = (guint16)port;
    return TRUE;
}

static KdMurder *
murder_new(const KdConfig *config, GPtrArray *backends, KdImapTls *tls,
           GError **error)
{
    g_autofree KdMurderBackendConfig *mb =
        g_new0(KdMurderBackendConfig, backends->len);
    g_autofree char *mupdate_host = NULL;
    KdMurderConfig mc = {0};

    for (guint i = 0; i < backends->len; i++) {
        const KdEngineBackend *b = g_ptr_array_index(backends, i);

        mb[i].name = b->name;
        mb[i].uri = b->uri;
        mb[i].servername = b->servername;
    }
    mc.backends = mb;
    mc.n_backends = backends->len;
    if (config->backends->len > 0) {
        mc.frontend_uri = config->frontend_uri;
    }
    if (config->mupdate_uri != NULL &&
        !parse_mupdate_uri(config->mupdate_uri, &mupdate_host,
                           &mc.mupdate_port, error)) {
        return NULL;
    }
    mc.mupdate_host = mupdate_host;
    mc.mupdate_user = config->mupdate_user;
    mc.mupdate_password = config->mupdate_password;
    mc.admin_user = config->admin_login;
    mc.admin_password = config->admin_password;
    mc.timeout_s = 30;
    mc.tls = tls;
    mc.mupdate_starttls = config->mupdate_starttls;
    return kd_murder_new(&mc, error);
}

static KdHooks *
hooks_new(const KdConfig *config, const char *store_path, GError **error)
{
    KdHooksOptions options = {0};

    options.hooks_dir = config->hooks_dir;
    options.timeout_ms = (guint)MIN(config->hook_timeout * 1000, G_MAXUINT);
    options.forbid_root = config->user != NULL;
    return kd_hooks_open(store_path, &options, error);
}

KdApp *
kd_app_new(const char *config_path, GError **error)
{
    g_autoptr(KdApp) app = g_new0(KdApp, 1);
    g_autoptr(KdPlacementSettings) settings = NULL;

    app->config_path = g_strdup(config_path ? config_path
                                            : KD_CONFIG_DEFAULT_PATH);
    app->config = kd_config_load(app->config_path, error);
    if (app->config == NULL) {
        return NULL;
    }
    for (guint i = 0; i < kd_config_warnings(app->config)->len; i++) {
        g_warning("%s",
                  (char *)g_ptr_array_index(kd_config_warnings(app->config),
                                            i));
    }
    app->model = kd_model_new(app->config, error);
    if (app->model == NULL) {
        return NULL;
    }
    settings = placement_settings(app->config, error);
    if (settings == NULL) {
        return NULL;
    }
    app->placement = kd_placement_new(settings, error);
    if (app->placement == NULL) {
        g_autofree char *where =
            kd_config_where(app->config, "kolabd", "placement");

        g_prefix_error(error, "%s: [kolabd] placement: ", where);
        return NULL;
    }
    app->store_path = g_build_filename(app->config->state_dir, "kolabd.db",
                                       NULL);
    app->sync_filter = kd_config_sync_filter(app->config);
    app->engine_backends = engine_backends(app->config);
    if (app->config->imap_tls_ca_file != NULL ||
        app->config->imap_starttls) {
        /* without either, the system store loads on the first imaps:// */
        app->imap_tls = kd_imap_tls_new(app->config->imap_tls_ca_file,
                                        app->config->imap_starttls, error);
        if (app->imap_tls == NULL) {
            g_autofree char *where =
                kd_config_where(app->config, "cyrus-imap", "tls_ca_file");

            g_prefix_error(error, "%s: [cyrus-imap] tls_ca_file: ", where);
            return NULL;
        }
    }
    app->murder = murder_new(app->config, app->engine_backends,
                             app->imap_tls, error);
    if (app->murder == NULL) {
        return NULL;
    }
    return g_steal_pointer(&app);
}

const KdConfig *
kd_app_get_config(KdApp *app)
{
    return app->config;
}

const char *
kd_app_get_store_path(KdApp *app)
{
    return app->store_path;
}

void
kd_app_set_only(KdApp *app, GHashTable *only)
{
    g_clear_pointer(&app->only, g_hash_table_unref);
    app->only = only ? g_hash_table_ref(only) : NULL;
}

void
kd_app_set_store_path(KdApp *app, const char *path)
{
    g_free(app->store_path);
    app->store_path = g_strdup(path);
}

KdHooks *
kd_app_get_hooks(KdApp *app)
{
    return app->hooks;
}

KdMurder *
kd_app_get_murder(KdApp *app)
{
    return app->murder;
}

KdModel *
kd_app_get_model(KdApp *app)
{
    return app->model;
}

KdPlacement *
kd_app_get_placement(KdApp *app)
{
    return app->placement;
}

static void
ldap_params(const KdConfig *config, KdLdapParams *params)
{
    memset(params, 0, sizeof *params);
    params->uri = config->ldap_uri;
    params->bind_dn = config->bind_dn;
    params->bind_pw = config->bind_pw;
    params->network_timeout_s = (int)MIN(config->ldap_timeout, 600);
    params->op_timeout_s = (int)MIN(config->ldap_timeout, 600);
    params->keepalive_idle_s = (int)MIN(config->ldap_keepalive_idle, 86400);
    params->keepalive_interval_s =
        (int)MIN(config->ldap_keepalive_interval, 86400);
    params->keepalive_probes = (int)config->ldap_keepalive_probes;
    params->tcp_user_timeout_ms =
        (int)MIN(config->ldap_tcp_user_timeout, 86400) * 1000;
}

void
kd_app_sync_params(KdApp *app, KdSyncParams *params)
{
    const KdConfig *config = app->config;

    kd_sync_params_init(params);
    ldap_params(config, &params->ldap);
    params->base = config->base_dn;
    params->scope = LDAP_SCOPE_SUBTREE;
    params->filter = app->sync_filter;
    params->attrs = kd_model_wanted_attrs(app->model);
    params->tuning.delete_max_count = (guint)MIN(config->delete_threshold,
                                                 G_MAXUINT);
    params->tuning.delete_max_percent =
        (guint)MIN(config->delete_threshold_percent, 100);
    params->watchdog_interval_s =
        (guint)MIN(config->ldap_watchdog_interval, 86400);
}

static KdObject *
classify(const guint8 uuid[KD_UUID_LEN], const KdEntry *entry,
         gpointer user_data)
{
    KdApp *app = user_data;

    return kd_model_classify(app->model, uuid, entry);
}

KdSync *
kd_app_new_sync(KdApp *app, GError **error)
{
    KdSyncParams params;

    kd_app_sync_params(app, &params);
    return kd_sync_new(&params, app->store_path, classify, app, error);
}

gboolean
kd_app_check_ldap(KdApp *app, GError **error)
{
    KdLdapParams params;
    LDAP *ld;

    ldap_params(app->config, &params);
    ld = kd_ldap_connect(&params, error);
    if (ld == NULL) {
        return FALSE;
    }
    kd_ldap_unbind(ld);
    return TRUE;
}

KdEngine *
kd_app_new_engine(KdApp *app, gboolean resync, gboolean dry_run,
                  GError **error)
{
    const KdConfig *config = app->config;
    KdEngineConfig ec = {0};

    if (app->hooks == NULL && !dry_run) {
        app->hooks = hooks_new(config, app->store_path, error);
        if (app->hooks == NULL) {
            return NULL;
        }
    }
    ec.store_path = app->store_path;
    ldap_params(config, &ec.ldap);
    ec.mailhost_attr = config->mailserver_attribute;
    ec.admin_user = config->admin_login;
    ec.admin_password = config->admin_password;
    ec.imap_timeout_s = 30;
    ec.imap_tls = app->imap_tls;
    ec.backends = app->engine_backends;
    ec.workers_per_backend = (guint)MIN(config->workers_per_backend, 64);
    ec.policy.delete_mode = config->delete_mode;
    ec.policy.delete_grace_s = (gint64)config->delete_grace;
    ec.policy.verify = resync;
    ec.policy.annotate_shared =
        config->annotate_shared_folders != KD_TRISTATE_NO;
    ec.folders = config->folders;
    ec.placement = app->placement;
    ec.murder = app->murder;
    ec.hooks = dry_run ? NULL : app->hooks;
    ec.dry_run = dry_run;
    ec.only = app->only;
    return kd_engine_new(&ec, error);
}

gboolean
kd_app_reload(KdApp *app, GError **error)
{
    g_autoptr(KdConfig) config = kd_config_load(app->config_path, error);
    g_autoptr(KdPlacementSettings) settings = NULL;
    KdHooksOptions options = {0};

    if (config == NULL) {
        return FALSE;
    }
    settings = placement_settings(config, error);
    if (settings == NULL) {
        return FALSE;
    }
    if (!kd_placement_reload(app->placement, settings, error)) {
        g_autofree char *where = kd_config_where(config, "kolabd", "placement");

        g_prefix_error(error, "%s: [kolabd] placement: ", where);
        return FALSE;
    }
    if (g_strcmp0(config->ldap_uri, app->config->ldap_uri) != 0 ||
        g_strcmp0(config->base_dn, app->config->base_dn) != 0 ||
        config->backends->len != app->config->backends->len ||
        g_strcmp0(config->imap_tls_ca_file,
                  app->config->imap_tls_ca_file) != 0 ||
        config->imap_starttls != app->config->imap_starttls ||
        config->mupdate_starttls != app->config->mupdate_starttls ||
        config->ldap_timeout != app->config->ldap_timeout ||
        config->ldap_keepalive_idle != app->config->ldap_keepalive_idle ||
        config->ldap_keepalive_interval !=
            app->config->ldap_keepalive_interval ||
        config->ldap_keepalive_probes != app->config->ldap_keepalive_probes ||
        config->ldap_tcp_user_timeout != app->config->ldap_tcp_user_timeout ||
        config->ldap_watchdog_interval !=
            app->config->ldap_watchdog_interval) {
        g_warning("%s: LDAP (connection, keepalive, watchdog), backend and "
                  "TLS changes take effect after a restart",
                  app->config_path);
    }
    if (app->hooks != NULL) {
        options.hooks_dir = config->hooks_dir;
        options.timeout_ms =
            (guint)MIN(config->hook_timeout * 1000, G_MAXUINT);
        options.forbid_root = config->user != NULL;
        kd_hooks_set_options(app->hooks, &options);
    }
    return TRUE;
}
