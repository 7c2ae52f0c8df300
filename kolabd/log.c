/* log: see log.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static gint current_level = KD_LOG_NOTICE;
static gint journal_wanted = FALSE;
static gsize writer_installed = 0;

static KdLogLevel
level_of(GLogLevelFlags flags)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        return KD_LOG_ERROR;
    }
    if (flags & G_LOG_LEVEL_WARNING) {
        return KD_LOG_WARNING;
    }
    if (flags & G_LOG_LEVEL_MESSAGE) {
        return KD_LOG_NOTICE;
    }
    if (flags & G_LOG_LEVEL_INFO) {
        return KD_LOG_INFO;
    }
    return KD_LOG_DEBUG;
}

static const char *
level_name(GLogLevelFlags flags)
{
    static const char *const names[] = {"ERROR", "WARNING", "NOTICE", "INFO",
                                        "DEBUG"};

    return names[level_of(flags)];
}

char *
kd_log_format_line(GDateTime *time, GLogLevelFlags flags, const char *domain,
                   const char *message)
{
    g_autofree char *stamp = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "%s.%03dZ %s", stamp,
                           g_date_time_get_microsecond(time) / 1000,
                           level_name(flags));
    if (domain != NULL && *domain != '\0') {
        g_string_append_printf(out, " [%s]", domain);
    }
    g_string_append_c(out, ' ');
    for (const char *p = message ? message : ""; *p != '\0'; p++) {
        guchar c = (guchar)*p;

        if (c < 0x20 || c == 0x7f) {
            g_string_append_printf(out, "\\x%02x", c);
        } else {
            g_string_append_c(out, (char)c);
        }
    }
    return g_string_free(out, FALSE);
}

static GLogWriterOutput
write_stderr(GLogLevelFlags flags, const GLogField *fields, gsize n_fields)
{
    const char *message = NULL;
    const char *domain = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *line = NULL;

    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0) {
            message = fields[i].value;
        } else if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0 &&
                   fields[i].length < 0) {
            domain = fields[i].value;
        }
    }
    line = kd_log_format_line(now, flags, domain, message);
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

static GLogWriterOutput
writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields,
       gpointer data)
{
    if ((gint)level_of(flags) > g_atomic_int_get(&current_level)) {
        return G_LOG_WRITER_HANDLED;
    }
    if (g_atomic_int_get(&journal_wanted) &&
        g_log_writer_journald(flags, fields, n_fields, NULL) ==
            G_LOG_WRITER_HANDLED) {
        return G_LOG_WRITER_HANDLED;
    }
    return write_stderr(flags, fields, n_fields);
}

void
kd_log_init(KdLogLevel level, gboolean use_journal)
{
    g_atomic_int_set(&current_level, (gint)level);
    g_atomic_int_set(&journal_wanted,
                     use_journal && g_log_writer_is_journald(STDERR_FILENO));
    if (g_once_init_enter(&writer_installed)) {
        g_log_set_writer_func(writer, NULL, NULL);
        g_once_init_leave(&writer_installed, 1);
    }
}

void
kd_log_set_level(KdLogLevel level)
{
    g_atomic_int_set(&current_level, (gint)level);
}

KdLogLevel
kd_log_get_level(void)
{
    return (KdLogLevel)g_atomic_int_get(&current_level);
}

KdLogLevel
kd_log_level_from_debug(int debug)
{
    if (debug < 0) {
        return KD_LOG_WARNING;
    }
    if (debug == 0) {
        return KD_LOG_NOTICE;
    }
    return debug < 5 ? KD_LOG_INFO : KD_LOG_DEBUG;
}

gboolean
kd_log_level_parse(const char *text, KdLogLevel *level_out)
{
    static const char *const names[] = {"error", "warning", "notice", "info",
                                        "debug"};

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(text, names[i]) == 0) {
            *level_out = (KdLogLevel)i;
            return TRUE;
        }
    }
    return FALSE;
}
