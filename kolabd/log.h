/*
 * log: kolabd's logging, on GLib structured logging.
 *
 * Modules log with g_message()/g_warning()/g_info()/g_debug() (or
 * g_log_structured() with extra fields such as KOLABD_MAILBOX) under their
 * G_LOG_DOMAIN. kd_log_init() installs the writer once, at start-up: when
 * kolabd runs under systemd with stderr connected to the journal, records
 * go to journald natively (with priority and fields); otherwise one line
 * per record goes to stderr, with an ISO 8601 UTC time, the level and the
 * domain. Records above the configured level are dropped. g_error() and
 * g_critical() are always written.
 *
 * Secrets: nothing here can recognise a password, so callers must never
 * pass one; config keeps them out of every message it builds.
 */
#ifndef KOLABD_LOG_H
#define KOLABD_LOG_H

#include <glib.h>

typedef enum {
    KD_LOG_ERROR = 0,   /* g_error, g_critical */
    KD_LOG_WARNING = 1, /* g_warning */
    KD_LOG_NOTICE = 2,  /* g_message: one line per change kolabd makes */
    KD_LOG_INFO = 3,    /* g_info */
    KD_LOG_DEBUG = 4,   /* g_debug: protocol detail */
} KdLogLevel;

/*
 * Installs the writer. @use_journal: send to journald when stderr is the
 * journal's stream ($JOURNAL_STREAM matches it); FALSE: always stderr.
 * May be called again (e.g. after -d parsing) to change both settings.
 */
void kd_log_init(KdLogLevel level, gboolean use_journal);

/* Changes the level (SIGHUP reload). Thread-safe. */
void kd_log_set_level(KdLogLevel level);
KdLogLevel kd_log_get_level(void);

/*
 * Maps kolabd's -d 0..9 (as pykolab's -d) to a level: 0 notice, 1-4 info,
 * 5-9 debug. Negative: warning.
 */
KdLogLevel kd_log_level_from_debug(int debug);

/*
 * Parses "error", "warning", "notice", "info", "debug" (case-insensitive).
 * FALSE when @text is none of them.
 */
gboolean kd_log_level_parse(const char *text, KdLogLevel *level_out);

/*
 * Formats one stderr line (without newline) for a record: "TIME LEVEL
 * [DOMAIN] MESSAGE", where control characters in MESSAGE are escaped so
 * that hostile LDAP values cannot forge log lines. Newly allocated.
 * Exposed for tests.
 */
char *kd_log_format_line(GDateTime *time, GLogLevelFlags flags,
                         const char *domain, const char *message);

#endif /* KOLABD_LOG_H */
