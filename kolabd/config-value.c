/* config-value: value parsers; see config-private.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "config-private.h"
#include "filter.h"
#include "folders.h"
#include "object.h"

/* ---- value parsers ---- */

static gboolean
reason(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
reason(GError **error, const char *format, ...)
{
    va_list ap;

    if (error != NULL && *error == NULL) {
        va_start(ap, format);
        *error = g_error_new_valist(KD_CONFIG_ERROR, KD_CONFIG_ERROR_INVALID,
                                    format, ap);
        va_end(ap);
    }
    return FALSE;
}

static gboolean
has_control(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((guchar)*s < 0x20 || *s == 0x7f) {
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
parse_uint(const char *text, guint64 min, guint64 max, guint64 *out,
           GError **error)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(text, 10, min, max, &v, NULL)) {
        return reason(error,
                      "\"%s\" is not a whole number from %" G_GUINT64_FORMAT
                      " to %" G_GUINT64_FORMAT,
                      text, min, max);
    }
    *out = v;
    return TRUE;
}

gboolean
kd_config_value_parse_duration(const char *text, guint64 *out,
                               GError **error)
{
    const char *p = text;
    guint64 total = 0;

    if (*p == '\0') {
        return reason(error, "empty duration");
    }
    while (*p != '\0') {
        guint64 n = 0;
        guint64 unit = 1;
        int digits = 0;

        while (g_ascii_isdigit(*p) && digits < 9) {
            n = n * 10 + (guint64)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || g_ascii_isdigit(*p)) {
            return reason(error, "\"%s\" is not a duration (e.g. 30, 30s, "
                                 "5m, 2h, 7d, 1w, 1d12h)",
                          text);
        }
        switch (*p) {
        case 's': unit = 1; p++; break;
        case 'm': unit = 60; p++; break;
        case 'h': unit = 3600; p++; break;
        case 'd': unit = 86400; p++; break;
        case 'w': unit = 7 * 86400; p++; break;
        case '\0': break;
        default:
            return reason(error, "\"%s\" has an unknown unit (use s, m, h, "
                                 "d or w)",
                          text);
        }
        total += n * unit;
        if (total > G_GUINT64_CONSTANT(10) * 366 * 86400) {
            return reason(error, "\"%s\" is longer than ten years", text);
        }
    }
    *out = total;
    return TRUE;
}

static gboolean
parse_uri(const KdOption *opt, const char *text, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GUri) uri = g_uri_parse(text, G_URI_FLAGS_NONE, &local);
    g_auto(GStrv) schemes = NULL;
    const char *scheme;

    if (uri == NULL) {
        return reason(error, "\"%s\" is not a URI: %s", text,
                      local->message);
    }
    scheme = g_uri_get_scheme(uri);
    schemes = g_strsplit(opt->extra, ",", -1);
    if (!g_strv_contains((const char *const *)schemes, scheme)) {
        return reason(error, "URI scheme \"%s\" not allowed here (use %s)",
                      scheme, opt->extra);
    }
    if (strcmp(scheme, "ldapi") != 0 &&
        (g_uri_get_host(uri) == NULL || *g_uri_get_host(uri) == '\0')) {
        return reason(error, "URI \"%s\" has no host", text);
    }
    return TRUE;
}

static gboolean
parse_attribute(const char *text, GError **error)
{
    gboolean ok = g_ascii_isalpha(text[0]);

    for (const char *p = text; ok && *p != '\0'; p++) {
        ok = g_ascii_isalnum(*p) || *p == '-';
    }
    return ok || reason(error, "\"%s\" is not an LDAP attribute name",
                        text);
}

static gboolean
parse_domain(const char *text, GError **error)
{
    gboolean ok = *text != '\0' && strlen(text) <= 253 && text[0] != '.' &&
                  text[0] != '-' && strstr(text, "..") == NULL &&
                  text[strlen(text) - 1] != '.';

    for (const char *p = text; ok && *p != '\0'; p++) {
        ok = g_ascii_isalnum(*p) || *p == '-' || *p == '.';
    }
    return ok || reason(error, "\"%s\" is not a domain name", text);
}

/*
 * Secrets read so far, by file: kolabd reads its *_file secrets as root
 * and then drops privileges, so on SIGHUP a secret file that is no longer
 * readable (mode 0600 root) is taken from here. Only permission errors
 * fall back; a missing file is still an error.
 */
static GMutex secret_lock;
static GHashTable *secret_cache; /* full path -> secret */

static void
remember_secret(const char *full, const char *secret)
{
    g_mutex_lock(&secret_lock);
    if (secret_cache == NULL) {
        secret_cache =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    }
    g_hash_table_insert(secret_cache, g_strdup(full), g_strdup(secret));
    g_mutex_unlock(&secret_lock);
}

static char *
remembered_secret(const char *full)
{
    char *secret = NULL;

    g_mutex_lock(&secret_lock);
    if (secret_cache != NULL) {
        secret = g_strdup(g_hash_table_lookup(secret_cache, full));
    }
    g_mutex_unlock(&secret_lock);
    return secret;
}

static gboolean
read_secret_file(const char *path, const char *dir, char **out,
                 GError **error)
{
    g_autofree char *full =
        g_path_is_absolute(path) ? g_strdup(path)
                                 : g_build_filename(dir, path, NULL);
    g_autofree char *data = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;

    if (!g_file_get_contents(full, &data, &len, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_ACCES) &&
            (*out = remembered_secret(full)) != NULL) {
            return TRUE;
        }
        return reason(error, "cannot read secret file: %s", local->message);
    }
    if (len > 0 && data[len - 1] == '\n') {
        data[--len] = '\0';
        if (len > 0 && data[len - 1] == '\r') {
            data[--len] = '\0';
        }
    }
    if (len == 0 || strlen(data) != len || has_control(data)) {
        memset(data, 0, len);
        return reason(error, "secret file %s is empty or holds control "
                             "characters",
                      full);
    }
    remember_secret(full, data);
    *out = g_steal_pointer(&data);
    return TRUE;
}

static gboolean
parse_bool(const char *text, gboolean *out, GError **error)
{
    static const char *yes[] = {"true", "yes", "on", "1", NULL};
    static const char *no[] = {"false", "no", "off", "0", NULL};
    g_autofree char *lower = g_ascii_strdown(text, -1);

    if (g_strv_contains(yes, lower)) {
        *out = TRUE;
    } else if (g_strv_contains(no, lower)) {
        *out = FALSE;
    } else {
        return reason(error, "\"%s\" is not a boolean (true or false)",
                      text);
    }
    return TRUE;
}

static gboolean
parse_quota(const char *text, gboolean folder, gint64 *out, GError **error)
{
    gint64 v;

    if (!g_ascii_string_to_signed(text, 10, -1, G_MAXINT64 / 1024, &v,
                                  NULL)) {
        return reason(error, "\"%s\" is not a quota in KiB (a whole number, "
                             "-1 for unlimited)",
                      text);
    }
    if (v == -1) {
        *out = KD_QUOTA_UNLIMITED;
    } else if (v == 0 && !folder) {
        *out = KD_QUOTA_UNSET;
    } else {
        *out = v;
    }
    return TRUE;
}

static gboolean
parse_list(const char *text, char ***out, GError **error)
{
    g_auto(GStrv) parts = g_regex_split_simple("[,;\\s]+", text, 0, 0);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; parts[i] != NULL; i++) {
        if (*parts[i] == '\0') {
            continue;
        }
        for (const char *p = parts[i]; *p != '\0'; p++) {
            if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
                return reason(error, "\"%s\" is not a valid name", parts[i]);
            }
        }
        g_ptr_array_add(names, g_strdup(parts[i]));
    }
    g_ptr_array_add(names, NULL);
    *out = (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
    return TRUE;
}

static gboolean
parse_acl(const char *text, char **out, GError **error)
{
    g_autoptr(KdAcl) acl = kd_acl_new();
    g_auto(GStrv) parts = g_strsplit(text, ";", -1);

    for (guint i = 0; parts[i] != NULL; i++) {
        g_autoptr(GError) local = NULL;
        char *part = g_strstrip(parts[i]);

        if (*part == '\0') {
            continue;
        }
        if (!kd_acl_add_ldap_value(acl, part, strlen(part), 0, NULL,
                                   &local)) {
            return reason(error, "%s", local->message);
        }
    }
    *out = kd_acl_to_string(acl);
    return TRUE;
}

static gboolean
parse_string(const KdOption *opt, const char *text, const char *dir,
             char **out, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (has_control(text)) {
        return reason(error, "value contains control characters");
    }
    switch (opt->type) {
    case KD_OPT_STRING:
    case KD_OPT_SECRET:
        break;
    case KD_OPT_SECRET_FILE:
        return read_secret_file(text, dir, out, error);
    case KD_OPT_URI:
        if (!parse_uri(opt, text, error)) {
            return FALSE;
        }
        break;
    case KD_OPT_URI_LIST: {
        g_auto(GStrv) uris = g_strsplit_set(text, " \t", -1);
        guint n = 0;

        for (guint i = 0; uris[i] != NULL; i++) {
            if (*uris[i] != '\0' && !parse_uri(opt, uris[i], error)) {
                return FALSE;
            }
            n += *uris[i] != '\0';
        }
        if (n == 0) {
            return reason(error, "no URI given");
        }
        break;
    }
    case KD_OPT_FILTER: {
        g_autoptr(KdFilter) f = kd_filter_parse(text, &local);

        if (f == NULL) {
            return reason(error, "%s", local->message);
        }
        *out = kd_filter_to_string(f);
        return TRUE;
    }
    case KD_OPT_ATTRIBUTE:
        if (!parse_attribute(text, error)) {
            return FALSE;
        }
        *out = g_ascii_strdown(text, -1);
        return TRUE;
    case KD_OPT_DOMAIN:
        if (!parse_domain(text, error)) {
            return FALSE;
        }
        *out = g_ascii_strdown(text, -1);
        return TRUE;
    case KD_OPT_PATH:
        if (!g_path_is_absolute(text)) {
            return reason(error, "\"%s\" is not an absolute path", text);
        }
        break;
    case KD_OPT_NAME:
    case KD_OPT_ATOM:
        for (const char *p = text; *p != '\0'; p++) {
            if (*p == ' ' || (guchar)*p > 0x7e ||
                (opt->type == KD_OPT_ATOM &&
                 strchr("(){}%*\"\\!", *p) != NULL)) {
                return reason(error, "\"%s\" contains a character that is "
                                     "not allowed here",
                              text);
            }
        }
        break;
    case KD_OPT_FOLDER_TYPE:
        if (!kd_folders_check_type(text, strlen(text), &local)) {
            return reason(error, "%s", local->message);
        }
        break;
    case KD_OPT_ACL:
        return parse_acl(text, out, error);
    default:
        g_assert_not_reached();
    }
    *out = g_strdup(text);
    return TRUE;
}

gboolean
kd_config_value_parse(const KdOption *opt, const char *raw, const char *dir,
                      gpointer field, GError **error)
{
    switch (opt->type) {
    case KD_OPT_UINT: {
        guint64 min = 0;
        guint64 max = G_MAXUINT32;

        if (opt->extra != NULL) {
            sscanf(opt->extra, "%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
                   &min, &max);
        }
        return parse_uint(raw, min, max, field, error);
    }
    case KD_OPT_DURATION:
        return kd_config_value_parse_duration(raw, field, error);
    case KD_OPT_QUOTA:
    case KD_OPT_FOLDER_QUOTA:
        return parse_quota(raw, opt->type == KD_OPT_FOLDER_QUOTA, field,
                           error);
    case KD_OPT_BOOL:
        return parse_bool(raw, field, error);
    case KD_OPT_ENUM: {
        g_auto(GStrv) values = g_strsplit(opt->extra, "|", -1);
        g_autofree char *lower = g_ascii_strdown(raw, -1);

        for (guint i = 0; values[i] != NULL; i++) {
            if (strcmp(values[i], lower) == 0) {
                *(int *)field = (int)i;
                return TRUE;
            }
        }
        return reason(error, "\"%s\" is not one of %s", raw, opt->extra);
    }
    case KD_OPT_LIST: {
        char **list = NULL;

        if (!parse_list(raw, &list, error)) {
            return FALSE;
        }
        g_strfreev(*(char ***)field);
        *(char ***)field = list;
        return TRUE;
    }
    default: {
        char *value = NULL;

        if (!parse_string(opt, raw, dir, &value, error)) {
            return FALSE;
        }
        kd_config_value_clear(opt, field);
        *(char **)field = value;
        return TRUE;
    }
    }
}

void
kd_config_value_clear(const KdOption *opt, gpointer field)
{
    char **s = field;

    switch (opt->type) {
    case KD_OPT_UINT:
    case KD_OPT_DURATION:
    case KD_OPT_QUOTA:
    case KD_OPT_FOLDER_QUOTA:
    case KD_OPT_BOOL:
    case KD_OPT_ENUM:
        return;
    case KD_OPT_LIST:
        g_clear_pointer((char ***)field, g_strfreev);
        return;
    case KD_OPT_SECRET:
    case KD_OPT_SECRET_FILE:
        if (*s != NULL) {
            memset(*s, 0, strlen(*s));
        }
        break;
    default:
        break;
    }
    g_clear_pointer(s, g_free);
}

char *
kd_config_value_format(const KdOption *opt, gconstpointer field)
{
    switch (opt->type) {
    case KD_OPT_UINT:
    case KD_OPT_DURATION:
        return g_strdup_printf("%" G_GUINT64_FORMAT,
                               *(const guint64 *)field);
    case KD_OPT_QUOTA:
    case KD_OPT_FOLDER_QUOTA: {
        gint64 v = *(const gint64 *)field;

        return g_strdup_printf("%" G_GINT64_FORMAT,
                               v == KD_QUOTA_UNSET ? 0 : v);
    }
    case KD_OPT_BOOL:
        return g_strdup(*(const gboolean *)field ? "true" : "false");
    case KD_OPT_ENUM: {
        g_auto(GStrv) values = g_strsplit(opt->extra, "|", -1);

        return g_strdup(values[*(const int *)field]);
    }
    case KD_OPT_LIST: {
        char *const *list = *(char *const *const *)field;

        return list ? g_strjoinv(", ", (char **)list) : g_strdup("");
    }
    case KD_OPT_SECRET:
    case KD_OPT_SECRET_FILE:
        return g_strdup(*(char *const *)field ? "<hidden>" : "");
    case KD_OPT_ACL: {
        const char *acl = *(char *const *)field;
        g_auto(GStrv) lines = g_strsplit(acl ? acl : "", "\n", -1);

        return g_strjoinv("; ", lines);
    }
    default: {
        const char *s = *(char *const *)field;

        return g_strdup(s ? s : "");
    }
    }
}
