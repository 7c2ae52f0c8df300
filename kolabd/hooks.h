/*
 * hooks: provisioning hooks, the operator's scripts run on events.
 *
 * For an event EVENT, kolabd runs the executables in hooks_dir/EVENT.d/ in
 * byte-wise name order (run-parts style: dotfiles, names ending in '~' and
 * package manager leftovers such as *.dpkg-old or *.rpmnew are skipped, so
 * are files that are not executable). Each hook is started directly with
 * posix_spawn() - never through a shell - in its own process group, with
 * its working directory "/", default signal dispositions and a clean
 * environment:
 *   PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 *   HOME=/, KOLABD_EVENT, KOLABD_EVENT_ID (stable across retries),
 *   KOLABD_ATTEMPT (1 on the first try), and where known KOLABD_UUID,
 *   KOLABD_DN, KOLABD_MAIL, KOLABD_MAILBOX, KOLABD_MAILHOST,
 *   KOLABD_OLD_MAILBOX, KOLABD_OLD_MAILHOST, KOLABD_DETAIL.
 * Nothing else is inherited (no secrets, no NOTIFY_SOCKET, no open file
 * descriptors besides 0-2). The event as JSON (see hooks-json.h) is
 * written to the hook's stdin, a UNIX stream socket (so a hook that does
 * not read it cannot hurt kolabd with SIGPIPE). stdout and
 * stderr are captured together, the first output_max bytes are kept and
 * logged with the hook's path. A hook that outlives timeout_ms gets
 * SIGTERM, one second later SIGKILL, both sent to its whole process group.
 *
 * Safety: a hook file (after following symlinks) and its EVENT.d directory
 * must be owned by root or by the daemon's effective user and must not be
 * group- or world-writable; otherwise the hook is refused (logged) and
 * counts as failed. With forbid_root (a user was configured) no hook ever
 * runs while the process is uid 0: such a run counts as failed too.
 *
 * Post-event hooks (every event except pre-delete) are delivered at least
 * once, even across a crash: the engine enqueues the event in the SQLite
 * store, in the same transaction as the state change that causes it
 * (table hook_events, owned by this module), and kd_hooks_run_due()
 * delivers it later. A failing event is retried with exponential backoff
 * and never dropped; hooks of a failed event that had already succeeded
 * are not run again on the retry (but a crash between a hook and the
 * bookkeeping can run one twice: hooks must be idempotent). Events of one
 * object (same uuid) are delivered in the order they were enqueued: a
 * failing one holds back the later ones.
 *
 * pre-delete runs synchronously: any hook exiting non-zero, being killed,
 * timing out or refused vetoes the delete.
 *
 * If hooks_dir is unset or EVENT.d does not exist there is nothing to run,
 * and that counts as success.
 */
#ifndef KOLABD_HOOKS_H
#define KOLABD_HOOKS_H

#include <gio/gio.h>
#include <sqlite3.h>

#include "object.h"

#define KD_HOOKS_ERROR (kd_hooks_error_quark())
GQuark kd_hooks_error_quark(void);

typedef enum {
    KD_HOOKS_ERROR_EVENT, /* unknown event name */
    KD_HOOKS_ERROR_DB,    /* SQLite failed; message has sqlite3_errmsg */
} KdHooksError;

/* The event names kolabd emits (also the EVENT.d directory names). */
#define KD_HOOK_MAILBOX_CREATED "mailbox-created"
#define KD_HOOK_MAILBOX_RENAMED "mailbox-renamed"
#define KD_HOOK_MAILBOX_DELETED "mailbox-deleted"
#define KD_HOOK_MAILHOST_CHANGED "mailhost-changed"
#define KD_HOOK_QUOTA_CHANGED "quota-changed"
#define KD_HOOK_ACL_CHANGED "acl-changed"
#define KD_HOOK_SYNC_ERROR "sync-error"
#define KD_HOOK_PRE_DELETE "pre-delete"

/* TRUE when @event (may be NULL) is one of the names above. */
gboolean kd_hooks_event_is_valid(const char *event);

/*
 * One event. All strings are borrowed and may be NULL unless stated; they
 * can hold any bytes (they reach hooks as data only).
 */
typedef struct {
    const char *event;    /* required: one of KD_HOOK_* */
    const char *event_id; /* NULL: a random UUID is generated. Give a
                           * deterministic one (e.g. derived from the
                           * work item) to make re-enqueueing after a
                           * replay a no-op. */
    const char *uuid;     /* entryUUID as 32 hex digits (kd_uuid_to_hex) */
    const char *dn;
    const char *mail;
    const char *mailbox; /* admin-namespace name */
    const char *mailhost;
    const char *old_mailbox;  /* mailbox-renamed */
    const char *old_mailhost; /* mailhost-changed */
    const char *detail;       /* free text, e.g. the error of sync-error */
    const KdObject *object;   /* optional: put into the JSON as "object" */
} KdHookEvent;

typedef struct {
    const char *hooks_dir; /* NULL or "": no hooks, everything succeeds */
    guint timeout_ms;      /* per hook; 0: 60 s */
    gsize output_max;      /* bytes of output kept per hook; 0: 4096 */
    guint retry_base_s;    /* first retry delay; 0: 30 s */
    guint retry_max_s;     /* backoff cap; 0: 3600 s */
    gboolean forbid_root;  /* a user is configured: never run as uid 0 */
} KdHooksOptions;

typedef struct KdHooks KdHooks;

/*
 * Opens the hook runner. @db_path (may be NULL: no queue, only
 * kd_hooks_run_pre_delete() works) is the SQLite store file; the runner
 * opens its own connection (WAL, synchronous=FULL, busy timeout 5 s) and
 * creates its table if missing. @options is copied (NULL: all defaults).
 * Returns NULL with KD_HOOKS_ERROR_DB on failure.
 *
 * One thread at a time may use a KdHooks for run_due/queue functions;
 * kd_hooks_set_options() and kd_hooks_run_pre_delete() are thread-safe.
 */
KdHooks *kd_hooks_open(const char *db_path, const KdHooksOptions *options,
                       GError **error);
void kd_hooks_free(KdHooks *hooks);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdHooks, kd_hooks_free)

/* Replaces the options (SIGHUP). @options is copied; NULL: defaults. */
void kd_hooks_set_options(KdHooks *hooks, const KdHooksOptions *options);

/*
 * Creates the hook_events table and its indexes if missing, on the
 * caller's connection @db. Idempotent; call it where the store creates
 * its schema so that kd_hooks_enqueue() works on any connection.
 */
gboolean kd_hooks_queue_init_schema(sqlite3 *db, GError **error);

/*
 * Enqueues @ev for delivery by kd_hooks_run_due(). @db is the caller's
 * connection, normally inside the caller's open transaction so that the
 * event commits (or rolls back) with the state change; NULL means the
 * runner's own connection (then @hooks is required). @hooks may be NULL
 * when @db is given; when @hooks is given and has no hooks_dir the event
 * is not stored at all (returns TRUE). An event whose event_id is already
 * queued is ignored. pre-delete cannot be enqueued.
 * Errors: KD_HOOKS_ERROR_EVENT, KD_HOOKS_ERROR_DB.
 */
gboolean kd_hooks_enqueue(KdHooks *hooks, sqlite3 *db, const KdHookEvent *ev,
                          GError **error);

/*
 * Delivers up to @limit queued events whose next try is due at @now
 * (seconds since the epoch, g_get_real_time() / G_USEC_PER_SEC), oldest
 * first, one per object. Runs hooks synchronously: it blocks for at most
 * about @limit * (hooks per event) * (timeout_ms + 1 s). A delivered
 * event is deleted; a failed one gets attempts+1, last_error and a next
 * try at @now + min(retry_base_s * 2^(attempts-1), retry_max_s); each
 * failure is logged with the hook's path, the event and its mail.
 * @cancellable (may be NULL), when cancelled, kills the running hook and
 * returns early; the interrupted event stays queued without counting an
 * attempt. Returns the number of events delivered or rescheduled, or -1
 * with KD_HOOKS_ERROR_DB.
 */
gint kd_hooks_run_due(KdHooks *hooks, gint64 now, guint limit,
                      GCancellable *cancellable, GError **error);

typedef struct {
    gint64 pending;  /* events queued */
    gint64 failing;  /* of which failed at least once */
    gint64 next_try; /* earliest next try (epoch seconds); 0: none queued */
} KdHooksQueueStats;

/* Queue figures for status and for scheduling kd_hooks_run_due(). */
gboolean kd_hooks_queue_stats(KdHooks *hooks, KdHooksQueueStats *stats_out,
                              GError **error);

/*
 * Last error of the oldest failing event, or NULL (g_free). For status.
 */
char *kd_hooks_queue_last_error(KdHooks *hooks, GError **error);

/*
 * Runs the pre-delete hooks for @ev (its event member is ignored and
 * taken as "pre-delete") synchronously. Returns TRUE when the delete may
 * go ahead (every hook exited 0, or there was none). Returns FALSE when
 * vetoed, with @veto_reason_out (may be NULL; g_free) set to a one-line
 * reason naming the hook, e.g. "/etc/.../10-keep exited with status 1:
 * <first output>", "... timed out after 60 s", "... refused: ...".
 */
gboolean kd_hooks_run_pre_delete(KdHooks *hooks, const KdHookEvent *ev,
                                 char **veto_reason_out);

#endif /* KOLABD_HOOKS_H */
