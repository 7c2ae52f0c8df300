/* config-source: the line scanner and message list of a configuration
 * file (GKeyFile gives no line numbers); see config-private.h. */
#include "config.h"

#include <string.h>

#include "config-private.h"

KdConfigSource *
kd_config_source_new(const char *path)
{
    KdConfigSource *source = g_new0(KdConfigSource, 1);

    source->path = g_strdup(path);
    source->dir = g_path_get_dirname(path);
    source->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          NULL);
    source->warnings = g_ptr_array_new_with_free_func(g_free);
    source->errors = g_ptr_array_new_with_free_func(g_free);
    return source;
}

void
kd_config_source_free(KdConfigSource *source)
{
    if (source == NULL) {
        return;
    }
    g_free(source->path);
    g_free(source->dir);
    g_hash_table_unref(source->lines);
    g_ptr_array_unref(source->warnings);
    g_ptr_array_unref(source->errors);
    g_free(source);
}

static char *
line_key(const char *group, const char *key)
{
    return key ? g_strconcat(group, "\n", key, NULL) : g_strdup(group);
}

guint
kd_config_source_line(const KdConfigSource *source, const char *group,
                      const char *key)
{
    g_autofree char *k = line_key(group, key);

    return GPOINTER_TO_UINT(g_hash_table_lookup(source->lines, k));
}

static void
add_at_line(KdConfigSource *source, gboolean is_error, guint line,
            const char *message)
{
    GPtrArray *list = is_error ? source->errors : source->warnings;

    if (line > 0) {
        g_ptr_array_add(list, g_strdup_printf("%s:%u: %s", source->path,
                                              line, message));
    } else {
        g_ptr_array_add(list,
                        g_strdup_printf("%s: %s", source->path, message));
    }
}

void
kd_config_source_add(KdConfigSource *source, gboolean is_error,
                     const char *group, const char *key, const char *format,
                     ...)
{
    g_autofree char *message = NULL;
    g_autofree char *full = NULL;
    va_list ap;

    va_start(ap, format);
    message = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (key != NULL) {
        full = g_strdup_printf("[%s] %s: %s", group, key, message);
    } else {
        full = g_strdup_printf("[%s]: %s", group, message);
    }
    add_at_line(source, is_error, kd_config_source_line(source, group, key),
                full);
}

void
kd_config_source_scan(KdConfigSource *source, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *group = NULL;

    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];
        guint n = i + 1;
        g_autofree char *msg = NULL;

        while (g_ascii_isspace(*l)) {
            l++;
        }
        if (*l == '\0' || *l == '#') {
            continue;
        }
        if (*l == '[') {
            const char *end = strrchr(l, ']');

            if (end == NULL || strchr(l + 1, '[') != NULL ||
                strchr(l + 1, ']') != end || end == l + 1) {
                add_at_line(source, TRUE, n, "malformed [section] line");
                continue;
            }
            g_free(group);
            group = g_strndup(l + 1, (gsize)(end - l - 1));
            if (g_hash_table_contains(source->lines, group)) {
                msg = g_strdup_printf("section [%s] repeated; its keys "
                                      "are merged",
                                      group);
                add_at_line(source, FALSE, n, msg);
            } else {
                g_hash_table_insert(source->lines, g_strdup(group),
                                    GUINT_TO_POINTER(n));
            }
            continue;
        }
        const char *eq = strchr(l, '=');
        if (eq == NULL || eq == l) {
            add_at_line(source, TRUE, n,
                        "expected key=value, [section] or # comment");
            continue;
        }
        if (group == NULL) {
            add_at_line(source, TRUE, n, "key=value before any [section]");
            continue;
        }
        g_autofree char *key = g_strndup(l, (gsize)(eq - l));
        g_strchomp(key);
        g_autofree char *k = line_key(group, key);
        if (g_hash_table_contains(source->lines, k)) {
            msg = g_strdup_printf("[%s] %s: set again; this value wins",
                                  group, key);
            add_at_line(source, FALSE, n, msg);
        }
        g_hash_table_insert(source->lines, g_steal_pointer(&k),
                            GUINT_TO_POINTER(n));
    }
}
