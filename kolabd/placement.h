/*
 * placement: the chain of placement plugins that picks a backend for a
 * mailbox that has no home yet.
 *
 * The operator names the plugins to ask, in order ([kolabd] placement =
 * attribute, domain, least-used), and gives each its own group
 * ([placement NAME]). kd_placement_new() loads plugins/placement-NAME.so
 * from the plugin directory, checks its ABI (see plugins/kolabd-plugin.h
 * and placement-module.h) and initialises it with its group. Then
 * kd_placement_choose() asks each plugin in turn; the first one with an
 * opinion decides. The chain never returns a backend that is down, even
 * from a misbehaving plugin. kd_placement_reload() switches a running
 * chain to a new configuration, all or nothing (SIGHUP keeps the old
 * chain when the new one is invalid), and kd_placement_check() serves
 * `kolabd check-config`.
 *
 * The configuration arrives through a KdPlacementSettings that the caller
 * fills (from the config module, from a GKeyFile, or by hand in tests), so
 * this module does not depend on how kolabd.conf is parsed.
 *
 * Threads: a chain may be shared; choose and reload take its lock.
 */
#ifndef KOLABD_PLACEMENT_H
#define KOLABD_PLACEMENT_H

#include <glib.h>

#include "kolabd-plugin.h"
#include "object.h"

#define KD_PLACEMENT_ERROR (kd_placement_error_quark())
GQuark kd_placement_error_quark(void);

typedef enum {
    KD_PLACEMENT_ERROR_LOAD,      /* a plugin file is missing or refused */
    KD_PLACEMENT_ERROR_CONFIG,    /* the chain or a group is invalid */
    KD_PLACEMENT_ERROR_PLUGIN,    /* a plugin failed (message is its own) */
    KD_PLACEMENT_ERROR_NO_CHOICE, /* every plugin had no opinion */
    KD_PLACEMENT_ERROR_BAD_ANSWER /* a plugin chose a bad or down backend */
} KdPlacementError;

/* Default chain when [kolabd] placement is not set. */
#define KD_PLACEMENT_DEFAULT_CHAIN "attribute, hash"

/* ---- configuration -------------------------------------------------- */

typedef struct KdPlacementSettings KdPlacementSettings;

/* An empty configuration: no plugin, default plugin directory. */
KdPlacementSettings *kd_placement_settings_new(void);
/* Frees @settings; accepts NULL. */
void kd_placement_settings_free(KdPlacementSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdPlacementSettings, kd_placement_settings_free)

/*
 * Where plugins are looked up: @dir when not NULL, else the environment
 * variable KD_PLUGIN_DIR when set (tests point it at the build tree's
 * plugins/.libs), else KD_PLUGINDIR from configure.
 */
void kd_placement_settings_set_plugin_dir(KdPlacementSettings *settings,
                                          const char *dir);
/* The directory as resolved above; owned by @settings. */
const char *
kd_placement_settings_get_plugin_dir(const KdPlacementSettings *settings);

/*
 * Sets the chain from a comma-separated list like "attribute, least-used"
 * (blanks ignored). FALSE with KD_PLACEMENT_ERROR_CONFIG when the list is
 * empty, a name is not [a-z0-9_-]+, or a name repeats; @settings is then
 * unchanged.
 */
gboolean kd_placement_settings_set_chain(KdPlacementSettings *settings,
                                         const char *list, GError **error);
/* The same from a NULL-terminated list of names (e.g. the config
 * module's [kolabd] placement list). */
gboolean kd_placement_settings_set_chain_names(KdPlacementSettings *settings,
                                               const char *const *names,
                                               GError **error);
/* The chain's names, NULL-terminated; owned by @settings. */
const char *const *
kd_placement_settings_get_chain(const KdPlacementSettings *settings);

/*
 * Sets @key = @value (copied) in the group of plugin @plugin, replacing an
 * earlier value of @key. Groups of plugins not in the chain are kept but
 * unused.
 */
void kd_placement_settings_set(KdPlacementSettings *settings,
                               const char *plugin, const char *key,
                               const char *value);
/* Sets every @keys[i] = @values[i] (NULL-terminated, same length). */
void kd_placement_settings_set_group(KdPlacementSettings *settings,
                                     const char *plugin,
                                     const char *const *keys,
                                     const char *const *values);

/*
 * Sets every key = value of @keys (char * -> char *, e.g. the keys of the
 * config module's [placement NAME] group) in the group of @plugin.
 */
void kd_placement_settings_set_table(KdPlacementSettings *settings,
                                     const char *plugin, GHashTable *keys);

/*
 * Declares a [backend NAME] group so plugins can refuse an unknown
 * backend at init. Without any, plugins learn of unknown names only when
 * choosing.
 */
void kd_placement_settings_add_backend(KdPlacementSettings *settings,
                                       const char *name);

/*
 * Reads [kolabd] placement (default KD_PLACEMENT_DEFAULT_CHAIN) and
 * plugin_dir, every [placement NAME] group and the names of the [backend
 * NAME] groups from @key_file. @file_name is for messages. NULL with
 * KD_PLACEMENT_ERROR_CONFIG naming @file_name on a bad chain.
 */
KdPlacementSettings *
kd_placement_settings_new_from_key_file(GKeyFile *key_file,
                                        const char *file_name, GError **error);

/* For the chain: a deep copy of @settings. */
KdPlacementSettings *
kd_placement_settings_copy(const KdPlacementSettings *settings);
/*
 * For the chain: the group of @plugin as the ABI passes it (empty when
 * there is none). @group_out borrows from @settings.
 */
void kd_placement_settings_get_group(const KdPlacementSettings *settings,
                                     const char *plugin,
                                     KolabdConfig *group_out);
/*
 * For KolabdHost.backend_known: 1 when kd_placement_settings_add_backend()
 * declared @name, 0 when it declared others only, -1 when none.
 */
int kd_placement_settings_backend_known(const KdPlacementSettings *settings,
                                        const char *name);

/* ---- requests ------------------------------------------------------- */

/* The host side of the ABI's opaque KolabdPlacementRequest. */
typedef struct KolabdPlacementRequest KdPlacementRequest;

/*
 * A request for a mailbox of @kind. Strings are copied; @mail, @domain and
 * @mailbox may be NULL. @domain NULL is derived from @mail.
 */
KdPlacementRequest *kd_placement_request_new(KolabdPlacementKind kind,
                                             const char *mail,
                                             const char *domain,
                                             const char *mailbox);
/* A request from a user or shared folder @object, with its attributes. */
KdPlacementRequest *kd_placement_request_new_from_object(const KdObject *o);
/* Frees @request; accepts NULL. */
void kd_placement_request_free(KdPlacementRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdPlacementRequest, kd_placement_request_free)
/* Sets attribute @name (case-insensitive) to @value (copied). */
void kd_placement_request_set_attribute(KdPlacementRequest *request,
                                        const char *name, const char *value);

/*
 * Getters, also handed to plugins through KolabdHost. Strings are owned by
 * the request; NULL when unset. Attribute names are case-insensitive.
 */
KolabdPlacementKind kd_placement_request_get_kind(const KdPlacementRequest *r);
const char *kd_placement_request_get_mail(const KdPlacementRequest *r);
const char *kd_placement_request_get_domain(const KdPlacementRequest *r);
const char *kd_placement_request_get_mailbox(const KdPlacementRequest *r);
const char *kd_placement_request_get_attribute(const KdPlacementRequest *r,
                                               const char *name);
/* The mail, or else the mailbox, or "(unnamed)": for messages. */
const char *kd_placement_request_describe(const KdPlacementRequest *r);

/* ---- the chain ------------------------------------------------------ */

typedef struct KdPlacement KdPlacement;

/*
 * Loads and initialises every plugin of @settings's chain. NULL on the
 * first failure, with KD_PLACEMENT_ERROR_LOAD (message names the file),
 * _CONFIG (a bad key, naming the group) or _PLUGIN (init failed, with the
 * plugin's message).
 */
KdPlacement *kd_placement_new(const KdPlacementSettings *settings,
                              GError **error);
/* Deinitialises the plugins and unloads them; accepts NULL. */
void kd_placement_free(KdPlacement *chain);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdPlacement, kd_placement_free)

/* Number of plugins in @chain, and the name of plugin @index. */
guint kd_placement_get_length(KdPlacement *chain);
const char *kd_placement_get_name(KdPlacement *chain, guint index);

/*
 * Asks the plugins in order for a backend among @backends (@n_backends
 * entries, may be 0) for @request. On success stores the chosen index in
 * *@index_out and the deciding plugin's name in *@plugin_out (owned by
 * the chain until the next reload; @plugin_out may be NULL), adds 1 to
 * the chosen backend's mailbox_count (so that a run of placements sees
 * its own effect) and returns TRUE. FALSE with:
 * KD_PLACEMENT_ERROR_PLUGIN when a plugin fails (later plugins are not
 * asked); _BAD_ANSWER when a plugin chose an index out of range or a
 * backend that is down; _NO_CHOICE when no plugin had an opinion ("no
 * placement plugin chose a backend for MAIL").
 */
gboolean kd_placement_choose(KdPlacement *chain,
                             const KdPlacementRequest *request,
                             KolabdBackend *backends, gsize n_backends,
                             gsize *index_out, const char **plugin_out,
                             GError **error);

/*
 * Switches @chain to @settings. A plugin that stays in the chain and has a
 * reload function keeps its state and gets the new group; the others are
 * initialised anew. All or nothing: on failure (errors as for
 * kd_placement_new) @chain keeps working with its old configuration.
 */
gboolean kd_placement_reload(KdPlacement *chain,
                             const KdPlacementSettings *settings,
                             GError **error);

/*
 * For `kolabd check-config`: loads, initialises and frees the chain of
 * @settings, collecting every problem instead of stopping at the first. On
 * failure the error message has one problem per line.
 */
gboolean kd_placement_check(const KdPlacementSettings *settings,
                            GError **error);

#endif /* KOLABD_PLACEMENT_H */
