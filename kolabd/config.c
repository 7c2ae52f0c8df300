/* config: see config.h. The option table is in config-options.c. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "config-private.h"
#include "folders.h"
#include "object.h"

G_DEFINE_QUARK(kd-config-error-quark, kd_config_error)

static const char *const fixed_sections[] = {"ldap", "cyrus-imap", "kolab",
                                             "kolabd", "murder", NULL};

static void
backend_free(gpointer p)
{
    KdBackendConfig *b = p;

    g_free(b->name);
    g_free(b->uri);
    g_free(b->servername);
    g_free(b->partition);
    g_free(b);
}

static void
placement_free(gpointer p)
{
    KdPlacementConfig *pl = p;

    g_free(pl->name);
    g_hash_table_unref(pl->keys);
    g_free(pl);
}

void
kd_config_free(KdConfig *config)
{
    guint n_options = 0;
    const KdOption *options = kd_config_options(&n_options);

    if (config == NULL) {
        return;
    }
    for (guint i = 0; i < n_options; i++) {
        if (g_strv_contains(fixed_sections, options[i].section)) {
            kd_config_value_clear(&options[i],
                                  (char *)config + options[i].offset);
        }
    }
    g_free(config->path);
    g_clear_pointer(&config->backends, g_ptr_array_unref);
    g_clear_pointer(&config->placements, g_ptr_array_unref);
    g_clear_pointer(&config->folders, g_ptr_array_unref);
    kd_config_source_free(config->source);
    g_free(config);
}

static gboolean
is_fixed(const char *section)
{
    return g_strv_contains(fixed_sections, section);
}

static const KdOption *
find_option(const char *section, const char *key)
{
    guint n_options = 0;
    const KdOption *options = kd_config_options(&n_options);

    for (guint i = 0; i < n_options; i++) {
        if (strcmp(options[i].section, section) == 0 &&
            strcmp(options[i].key, key) == 0) {
            return &options[i];
        }
    }
    return NULL;
}

static void
apply_defaults(const char *section, gpointer base)
{
    guint n_options = 0;
    const KdOption *options = kd_config_options(&n_options);

    for (guint i = 0; i < n_options; i++) {
        const KdOption *o = &options[i];
        g_autoptr(GError) error = NULL;

        if (strcmp(o->section, section) == 0 && o->def != NULL &&
            !kd_config_value_parse(o, o->def, "/", (char *)base + o->offset,
                                   &error)) {
            g_error("bad default for [%s] %s: %s", o->section, o->key,
                    error->message);
        }
    }
}

/* Reads the keys of @group, described by the options of @section. */
static void
read_group(KdConfigSource *src, GKeyFile *kf, const char *group,
           const char *section, gpointer base)
{
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

    for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
        const KdOption *o = find_option(section, keys[i]);
        g_autofree char *raw = g_key_file_get_value(kf, group, keys[i], NULL);
        g_autoptr(GError) error = NULL;
        gpointer field;

        if (o == NULL) {
            kd_config_source_add(src, FALSE, group, keys[i],
                                 "unknown key, ignored");
            continue;
        }
        field = (char *)base + o->offset;
        g_strstrip(raw);
        if (o->type == KD_OPT_SECRET) {
            g_autofree char *file_key = g_strconcat(keys[i], "_file", NULL);

            if (g_key_file_has_key(kf, group, file_key, NULL)) {
                kd_config_source_add(src, TRUE, group, keys[i],
                                     "set both %s and %s", keys[i],
                                     file_key);
                continue;
            }
        }
        if (*raw == '\0') {
            /* empty: unset, unless the key needs a value */
            if (o->type == KD_OPT_LIST) {
                kd_config_value_parse(o, "", src->dir, field, NULL);
            } else if (o->def == NULL && o->type != KD_OPT_BOOL &&
                       o->type != KD_OPT_ENUM && o->type != KD_OPT_UINT &&
                       o->type != KD_OPT_DURATION) {
                kd_config_value_clear(o, field);
                if (o->type == KD_OPT_QUOTA ||
                    o->type == KD_OPT_FOLDER_QUOTA) {
                    *(gint64 *)field = KD_QUOTA_UNSET;
                }
            } else {
                kd_config_source_add(src, TRUE, group, keys[i],
                                     "empty value (remove the line to get "
                                     "the default)");
            }
            continue;
        }
        if (!kd_config_value_parse(o, raw, src->dir, field, &error)) {
            kd_config_source_add(src, TRUE, group, keys[i], "%s",
                                 error->message);
        }
    }
}

static gboolean
valid_group_name(const char *name)
{
    if (*name == '\0') {
        return FALSE;
    }
    for (const char *p = name; *p != '\0'; p++) {
        if (!g_ascii_isalnum(*p) && strchr("._-", *p) == NULL) {
            return FALSE;
        }
    }
    return TRUE;
}

static char *
servername_from_uri(const char *text)
{
    g_autoptr(GUri) uri = g_uri_parse(text, G_URI_FLAGS_NONE, NULL);
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    g_autofree char *lower = NULL;

    if (host == NULL) {
        return NULL;
    }
    lower = g_ascii_strdown(host, -1);
    if (g_uri_get_port(uri) > 0) {
        return g_strdup_printf(strchr(lower, ':') ? "[%s]:%d" : "%s:%d",
                               lower, g_uri_get_port(uri));
    }
    return g_steal_pointer(&lower);
}

static void
read_backend(KdConfig *config, GKeyFile *kf, const char *group,
             const char *name)
{
    KdBackendConfig *b = g_new0(KdBackendConfig, 1);
    KdConfigSource *src = config->source;

    b->name = g_strdup(name);
    apply_defaults("backend", b);
    read_group(src, kf, group, "backend", b);
    g_ptr_array_add(config->backends, b);
    if (b->uri == NULL) {
        kd_config_source_add(src, TRUE, group, NULL, "uri is required");
        return;
    }
    if (b->servername == NULL) {
        b->servername = servername_from_uri(b->uri);
    } else {
        char *lower = g_ascii_strdown(b->servername, -1);

        g_free(b->servername);
        b->servername = lower;
        for (const char *p = lower; *p != '\0'; p++) {
            if (*p == ' ' || *p == '/' || *p == '@' || (guchar)*p > 0x7e) {
                kd_config_source_add(src, TRUE, group, "servername",
                                     "\"%s\" is not a host[:port]", lower);
                break;
            }
        }
    }
}

static void
read_folder(KdConfig *config, GKeyFile *kf, const char *group,
            const char *name)
{
    g_autoptr(GError) error = NULL;
    KdFolderSpec *spec = kd_folder_spec_new(name, &error);

    if (spec == NULL) {
        kd_config_source_add(config->source, TRUE, group, NULL,
                             "bad folder name: %s", error->message);
        return;
    }
    apply_defaults("folder", spec);
    read_group(config->source, kf, group, "folder", spec);
    g_ptr_array_add(config->folders, spec);
    config->folders_configured = TRUE;
}

static void
read_placement(KdConfig *config, GKeyFile *kf, const char *group,
               const char *name)
{
    KdPlacementConfig *pl = g_new0(KdPlacementConfig, 1);
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

    pl->name = g_strdup(name);
    pl->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
        char *raw = g_key_file_get_value(kf, group, keys[i], NULL);

        g_hash_table_insert(pl->keys, g_strdup(keys[i]), g_strstrip(raw));
    }
    g_ptr_array_add(config->placements, pl);
}

static void
read_repeated(KdConfig *config, GKeyFile *kf, const char *group)
{
    static const char *const kinds[] = {"backend", "placement", "folder"};

    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        gsize n = strlen(kinds[k]);
        g_autofree char *name = NULL;

        if (strncmp(group, kinds[k], n) != 0 ||
            (group[n] != ' ' && group[n] != '\t' && group[n] != '\0')) {
            continue;
        }
        name = g_strstrip(g_strdup(group + n));
        if (k < 2 && !valid_group_name(name)) {
            kd_config_source_add(config->source, TRUE, group, NULL,
                                 "%s name must be letters, digits, '.', "
                                 "'_' or '-'",
                                 kinds[k]);
        } else if (k == 0) {
            read_backend(config, kf, group, name);
        } else if (k == 1) {
            read_placement(config, kf, group, name);
        } else {
            read_folder(config, kf, group, name);
        }
        return;
    }
    kd_config_source_add(config->source, FALSE, group, NULL,
                         "unknown section, ignored");
}

static void
finish(KdConfig *config)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

    if (config->frontend_uri == NULL) {
        config->frontend_uri = g_strdup(config->imap_uri);
    }
    if (config->mupdate_user == NULL) {
        config->mupdate_user = g_strdup(config->admin_login);
    }
    if (config->mupdate_password == NULL) {
        config->mupdate_password = g_strdup(config->admin_password);
    }
    for (guint i = 0; i < config->backends->len; i++) {
        KdBackendConfig *b = config->backends->pdata[i];
        g_autofree char *group = g_strconcat("backend ", b->name, NULL);

        if (b->servername == NULL) {
            continue;
        }
        if (g_hash_table_contains(seen, b->servername)) {
            kd_config_source_add(config->source, TRUE, group, NULL,
                                 "servername %s is already used by [backend "
                                 "%s]",
                                 b->servername,
                                 (char *)g_hash_table_lookup(
                                     seen, b->servername));
        } else {
            g_hash_table_insert(seen, b->servername, b->name);
        }
    }
    g_hash_table_unref(seen);
    if (!config->folders_configured) {
        g_ptr_array_unref(config->folders);
        config->folders = kd_folders_default();
    }
}

static KdConfig *
fail(KdConfig *config, GError **error)
{
    GPtrArray *errors = config->source->errors;
    g_autofree char *text = NULL;

    g_ptr_array_add(errors, NULL);
    text = g_strjoinv("\n", (char **)errors->pdata);
    g_set_error_literal(error, KD_CONFIG_ERROR, KD_CONFIG_ERROR_INVALID,
                        text);
    kd_config_free(config);
    return NULL;
}

KdConfig *
kd_config_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) groups = NULL;
    KdConfig *config;
    gsize len = 0;

    g_return_val_if_fail(path != NULL, NULL);
    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, KD_CONFIG_ERROR, KD_CONFIG_ERROR_READ,
                    "cannot read config: %s", local->message);
        return NULL;
    }
    config = g_new0(KdConfig, 1);
    config->path = g_strdup(path);
    config->source = kd_config_source_new(path);
    config->backends = g_ptr_array_new_with_free_func(backend_free);
    config->placements = g_ptr_array_new_with_free_func(placement_free);
    config->folders = g_ptr_array_new_with_free_func(
        (GDestroyNotify)kd_folder_spec_free);
    config->default_quota = KD_QUOTA_UNSET;
    for (guint i = 0; fixed_sections[i] != NULL; i++) {
        apply_defaults(fixed_sections[i], config);
    }
    if (strlen(text) != len) {
        kd_config_source_add(config->source, TRUE, "file", NULL,
                             "contains a NUL byte");
        return fail(config, error);
    }
    kd_config_source_scan(config->source, text);
    if (config->source->errors->len > 0) {
        return fail(config, error);
    }
    if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &local)) {
        g_ptr_array_add(config->source->errors,
                        g_strdup_printf("%s: %s", path, local->message));
        return fail(config, error);
    }
    groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i] != NULL; i++) {
        if (is_fixed(groups[i])) {
            read_group(config->source, kf, groups[i], groups[i], config);
        } else {
            read_repeated(config, kf, groups[i]);
        }
    }
    finish(config);
    if (config->source->errors->len > 0) {
        return fail(config, error);
    }
    return config;
}

const GPtrArray *
kd_config_warnings(const KdConfig *config)
{
    return config->source->warnings;
}

char *
kd_config_where(const KdConfig *config, const char *group, const char *key)
{
    guint line = kd_config_source_line(config->source, group, key);

    if (line == 0) {
        return g_strdup(config->path);
    }
    return g_strdup_printf("%s:%u", config->path, line);
}

const KdBackendConfig *
kd_config_find_backend(const KdConfig *config, const char *name)
{
    for (guint i = 0; i < config->backends->len; i++) {
        const KdBackendConfig *b = config->backends->pdata[i];

        if (strcmp(b->name, name) == 0) {
            return b;
        }
    }
    return NULL;
}

const KdBackendConfig *
kd_config_find_backend_by_servername(const KdConfig *config,
                                     const char *servername)
{
    for (guint i = 0; i < config->backends->len; i++) {
        const KdBackendConfig *b = config->backends->pdata[i];

        if (b->servername != NULL &&
            g_ascii_strcasecmp(b->servername, servername) == 0) {
            return b;
        }
    }
    return NULL;
}

const KdPlacementConfig *
kd_config_find_placement(const KdConfig *config, const char *name)
{
    for (guint i = 0; i < config->placements->len; i++) {
        const KdPlacementConfig *pl = config->placements->pdata[i];

        if (strcmp(pl->name, name) == 0) {
            return pl;
        }
    }
    return NULL;
}

char *
kd_config_sync_filter(const KdConfig *config)
{
    return g_strdup_printf("(|%s%s)", config->user_filter,
                           config->sharedfolder_filter);
}

static gint
compare_keys(gconstpointer a, gconstpointer b, gpointer data)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
dump_section(GString *out, const char *section, const char *header,
             gconstpointer base)
{
    guint n_options = 0;
    const KdOption *options = kd_config_options(&n_options);

    g_string_append_printf(out, "\n[%s]\n", header);
    for (guint i = 0; i < n_options; i++) {
        const KdOption *o = &options[i];
        g_autofree char *value = NULL;

        if (strcmp(o->section, section) != 0 ||
            o->type == KD_OPT_SECRET_FILE) {
            continue;
        }
        value = kd_config_value_format(o, (const char *)base + o->offset);
        g_string_append_printf(out, "# %s\n%s = %s\n", o->description,
                               o->key, value);
    }
}

char *
kd_config_dump(const KdConfig *config)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "# effective configuration read from %s\n",
                           config->path);
    for (guint i = 0; fixed_sections[i] != NULL; i++) {
        dump_section(out, fixed_sections[i], fixed_sections[i], config);
    }
    for (guint i = 0; i < config->backends->len; i++) {
        const KdBackendConfig *b = config->backends->pdata[i];
        g_autofree char *header = g_strconcat("backend ", b->name, NULL);

        dump_section(out, "backend", header, b);
    }
    for (guint i = 0; i < config->placements->len; i++) {
        const KdPlacementConfig *pl = config->placements->pdata[i];
        g_autofree const char **keys = (const char **)
            g_hash_table_get_keys_as_array(pl->keys, NULL);

        g_string_append_printf(out, "\n[placement %s]\n", pl->name);
        g_qsort_with_data(keys, (gint)g_hash_table_size(pl->keys),
                          sizeof(char *), compare_keys, NULL);
        for (guint k = 0; keys[k] != NULL; k++) {
            g_string_append_printf(out, "%s = %s\n", keys[k],
                                   (const char *)g_hash_table_lookup(
                                       pl->keys, keys[k]));
        }
    }
    for (guint i = 0; i < config->folders->len; i++) {
        const KdFolderSpec *f = config->folders->pdata[i];
        g_autofree char *header = g_strconcat("folder ", f->name, NULL);

        dump_section(out, "folder", header, f);
    }
    return g_string_free(out, FALSE);
}

GPtrArray *
kd_config_check(const KdConfig *config)
{
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *ldap = kd_config_where(config, "ldap", NULL);
    g_autofree char *imap = kd_config_where(config, "cyrus-imap", NULL);

    if (config->admin_password == NULL) {
        g_ptr_array_add(problems,
                        g_strdup_printf("%s: [cyrus-imap] neither "
                                        "admin_password nor "
                                        "admin_password_file is set",
                                        imap));
    }
    if (config->bind_dn != NULL && config->bind_pw == NULL) {
        g_ptr_array_add(problems,
                        g_strdup_printf("%s: [ldap] bind_dn is set but "
                                        "neither bind_pw nor bind_pw_file",
                                        ldap));
    }
    if (config->bind_dn == NULL) {
        g_ptr_array_add(problems,
                        g_strdup_printf("%s: [ldap] bind_dn is not set; "
                                        "an anonymous bind cannot write "
                                        "%s",
                                        ldap, config->mailserver_attribute));
    }
    if (config->backends->len == 0 && config->mupdate_uri != NULL) {
        g_ptr_array_add(problems,
                        g_strdup_printf("%s: a murder is configured but "
                                        "there is no [backend NAME] group",
                                        config->path));
    }
    for (guint i = 0; config->placement[i] != NULL; i++) {
        if (config->backends->len == 0) {
            g_ptr_array_add(problems,
                            g_strdup_printf("%s: placement %s has no "
                                            "backends to choose from",
                                            config->path,
                                            config->placement[i]));
            break;
        }
    }
    return problems;
}
