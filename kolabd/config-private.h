/*
 * config-private: helpers shared by config.c, config-source.c and
 * config-value.c; not for other modules.
 *
 * config-source.c holds the line scanner (GKeyFile gives no line numbers)
 * and the message list; config-value.c one parser per KdOptionType. A value parser returns FALSE and sets a
 * bare reason in @error ("not a number"); config.c prefixes it with
 * "file:LINE: [section] key: ".
 */
#ifndef KOLABD_CONFIG_PRIVATE_H
#define KOLABD_CONFIG_PRIVATE_H

#include <glib.h>

#include "config.h"

struct KdConfigSource {
    char *path;
    char *dir;         /* directory of path, for relative secret files */
    GHashTable *lines; /* "group\nkey" or "group" -> line (GUINT_TO_POINTER) */
    GPtrArray *warnings;
    GPtrArray *errors;
};

KdConfigSource *kd_config_source_new(const char *path);
void kd_config_source_free(KdConfigSource *source);

/*
 * Scans @text line by line as GKeyFile would, recording the line of each
 * group header and key; syntax problems are added to source->errors,
 * duplicate groups and keys to source->warnings.
 */
void kd_config_source_scan(KdConfigSource *source, const char *text);

/* Line of @key in @group (@key NULL: header), 0 if absent. */
guint kd_config_source_line(const KdConfigSource *source, const char *group,
                            const char *key);

/* Adds "file[:LINE]: [group] key: message" to errors or warnings. */
void kd_config_source_add(KdConfigSource *source, gboolean is_error,
                          const char *group, const char *key,
                          const char *format, ...) G_GNUC_PRINTF(5, 6);

/*
 * Parses @raw (already stripped) according to @option into @field (a
 * pointer into the target struct; the old value is freed). Secret files
 * are resolved relative to @dir.
 */
gboolean kd_config_value_parse(const KdOption *option, const char *raw,
                               const char *dir, gpointer field,
                               GError **error);

/* Frees the value @option stored at @field (wiping secrets). */
void kd_config_value_clear(const KdOption *option, gpointer field);

/* The value at @field as config text (secrets as "<hidden>"). */
char *kd_config_value_format(const KdOption *option, gconstpointer field);

/* Parses "30", "5m", "1d12h" ... into seconds. */
gboolean kd_config_value_parse_duration(const char *text, guint64 *out,
                                        GError **error);

#endif /* KOLABD_CONFIG_PRIVATE_H */
