/*
 * app: one running kolabd, assembled from its configuration.
 *
 * cli.c's commands (the daemon, resync, status, check-config) all start
 * from a KdApp: the loaded config, the model that classifies entries, the
 * placement chain, the murder topology, the hook runner, and the path of
 * the store. The syncrepl reader and the engine are created on demand,
 * since `status` needs neither and `resync` needs them differently.
 */
#ifndef KOLABD_APP_H
#define KOLABD_APP_H

#include <glib.h>

#include "config.h"
#include "engine.h"
#include "ldap-sync.h"
#include "model.h"

typedef struct KdApp KdApp;

/*
 * Loads @config_path (NULL: KD_CONFIG_DEFAULT_PATH) and builds the model,
 * placement chain, murder and hooks. Nothing connects yet. Errors name the
 * file and line (config) or the plugin file (placement).
 */
KdApp *kd_app_new(const char *config_path, GError **error);
void kd_app_free(KdApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdApp, kd_app_free)

const KdConfig *kd_app_get_config(KdApp *app);
const char *kd_app_get_store_path(KdApp *app);
/* Points everything created later at another store (resync --dry-run). */
void kd_app_set_store_path(KdApp *app, const char *path);
KdHooks *kd_app_get_hooks(KdApp *app);
KdMurder *kd_app_get_murder(KdApp *app);
KdPlacement *kd_app_get_placement(KdApp *app);
KdModel *kd_app_get_model(KdApp *app);

/* The syncrepl parameters from the config (strings owned by @app). */
void kd_app_sync_params(KdApp *app, KdSyncParams *params_out);
/* A syncrepl consumer that classifies with the app's model. */
KdSync *kd_app_new_sync(KdApp *app, GError **error);
/* Binds once to LDAP with the configured identity (readiness check). */
gboolean kd_app_check_ldap(KdApp *app, GError **error);

/*
 * An engine (probes backends, reads the murder's map). With @resync it
 * checks every setting in Cyrus instead of trusting the applied state;
 * with @dry_run it only plans.
 */
KdEngine *kd_app_new_engine(KdApp *app, gboolean resync, gboolean dry_run,
                            GError **error);
/* Limits engines created later to these objects (uuid hex strings; the
 * table is referenced); NULL: all. */
void kd_app_set_only(KdApp *app, GHashTable *only);

/*
 * SIGHUP: loads the config again and switches placement and hooks to it.
 * On any error @app keeps its old configuration and the error says why.
 * Settings that need a restart (LDAP, backends) are reported as warnings.
 */
gboolean kd_app_reload(KdApp *app, GError **error);

#endif /* KOLABD_APP_H */
