/* hooks: see hooks.h. */
#include <config.h>

#include "hooks.h"

#include <string.h>
#include <unistd.h>

#include "hooks-exec.h"
#include "hooks-json.h"
#include "hooks-queue.h"

#define KD_HOOKS_PATH                                                          \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define KD_HOOKS_BUSY_TIMEOUT_MS 5000

G_DEFINE_QUARK(kd - hooks - error - quark, kd_hooks_error)

struct KdHooks {
    sqlite3 *db; /* own connection to the store; NULL: no queue */
    GMutex lock; /* guards the options, changed on reload */
    KdHooksOptions options;
    char *hooks_dir;
};

/* The options one run works with, taken under the lock. */
typedef struct {
    char *hooks_dir;
    guint timeout_ms;
    gsize output_max;
    guint retry_base_s;
    guint retry_max_s;
    gboolean forbid_root;
} Snapshot;

typedef enum { RUN_OK, RUN_FAILED, RUN_CANCELLED } RunOutcome;

gboolean
kd_hooks_event_is_valid(const char *event)
{
    static const char *const events[] = {
        KD_HOOK_MAILBOX_CREATED,
        KD_HOOK_MAILBOX_RENAMED,
        KD_HOOK_MAILBOX_DELETED,
        KD_HOOK_MAILHOST_CHANGED,
        KD_HOOK_QUOTA_CHANGED,
        KD_HOOK_ACL_CHANGED,
        KD_HOOK_SYNC_ERROR,
        KD_HOOK_PRE_DELETE,
        NULL,
    };
    int i;

    for (i = 0; event != NULL && events[i] != NULL; i++) {
        if (strcmp(event, events[i]) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

void
kd_hooks_set_options(KdHooks *hooks, const KdHooksOptions *options)
{
    KdHooksOptions o = {0};

    g_return_if_fail(hooks != NULL);
    if (options != NULL) {
        o = *options;
    }
    g_mutex_lock(&hooks->lock);
    g_free(hooks->hooks_dir);
    hooks->hooks_dir = o.hooks_dir != NULL && o.hooks_dir[0] != '\0'
                           ? g_strdup(o.hooks_dir)
                           : NULL;
    hooks->options = o;
    hooks->options.hooks_dir = hooks->hooks_dir;
    g_mutex_unlock(&hooks->lock);
}

static void
snapshot_take(KdHooks *hooks, Snapshot *snap)
{
    g_mutex_lock(&hooks->lock);
    snap->hooks_dir = g_strdup(hooks->hooks_dir);
    snap->timeout_ms =
        hooks->options.timeout_ms ? hooks->options.timeout_ms : 60000;
    snap->output_max =
        hooks->options.output_max ? hooks->options.output_max : 4096;
    snap->retry_base_s =
        hooks->options.retry_base_s ? hooks->options.retry_base_s : 30;
    snap->retry_max_s =
        hooks->options.retry_max_s ? hooks->options.retry_max_s : 3600;
    snap->forbid_root = hooks->options.forbid_root;
    g_mutex_unlock(&hooks->lock);
}

KdHooks *
kd_hooks_open(const char *db_path, const KdHooksOptions *options,
              GError **error)
{
    g_autoptr(KdHooks) hooks = g_new0(KdHooks, 1);

    g_mutex_init(&hooks->lock);
    kd_hooks_set_options(hooks, options);
    if (db_path == NULL) {
        return g_steal_pointer(&hooks);
    }
    if (sqlite3_open_v2(db_path, &hooks->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        g_set_error(error, KD_HOOKS_ERROR, KD_HOOKS_ERROR_DB,
                    "hook queue: cannot open %s: %s", db_path,
                    hooks->db ? sqlite3_errmsg(hooks->db) : "out of memory");
        return NULL;
    }
    sqlite3_busy_timeout(hooks->db, KD_HOOKS_BUSY_TIMEOUT_MS);
    if (sqlite3_exec(hooks->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL,
                     NULL, NULL) != SQLITE_OK) {
        g_set_error(error, KD_HOOKS_ERROR, KD_HOOKS_ERROR_DB,
                    "hook queue: %s: %s", db_path, sqlite3_errmsg(hooks->db));
        return NULL;
    }
    if (!kd_hooks_queue_init_schema(hooks->db, error)) {
        return NULL;
    }
    return g_steal_pointer(&hooks);
}

void
kd_hooks_free(KdHooks *hooks)
{
    if (hooks == NULL) {
        return;
    }
    if (hooks->db != NULL) {
        sqlite3_close(hooks->db);
    }
    g_free(hooks->hooks_dir);
    g_mutex_clear(&hooks->lock);
    g_free(hooks);
}

/* A copy of @s fit for one log line (no control characters). */
static char *
printable(const char *s)
{
    char *copy;
    char *p;

    if (s == NULL) {
        return g_strdup("-");
    }
    copy = g_utf8_make_valid(s, -1);
    for (p = copy; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    return copy;
}

static void
env_add(GPtrArray *env, const char *name, const char *value)
{
    if (value != NULL) {
        g_ptr_array_add(env, g_strconcat(name, "=", value, NULL));
    }
}

static char **
build_env(const KdHookEvent *ev, const char *event_id, gint64 attempt)
{
    GPtrArray *env = g_ptr_array_new();
    char num[32];

    g_snprintf(num, sizeof num, "%" G_GINT64_FORMAT, attempt);
    env_add(env, "PATH", KD_HOOKS_PATH);
    env_add(env, "HOME", "/");
    env_add(env, "KOLABD_EVENT", ev->event);
    env_add(env, "KOLABD_EVENT_ID", event_id);
    env_add(env, "KOLABD_ATTEMPT", num);
    env_add(env, "KOLABD_UUID", ev->uuid);
    env_add(env, "KOLABD_DN", ev->dn);
    env_add(env, "KOLABD_MAIL", ev->mail);
    env_add(env, "KOLABD_MAILBOX", ev->mailbox);
    env_add(env, "KOLABD_MAILHOST", ev->mailhost);
    env_add(env, "KOLABD_OLD_MAILBOX", ev->old_mailbox);
    env_add(env, "KOLABD_OLD_MAILHOST", ev->old_mailhost);
    env_add(env, "KOLABD_DETAIL", ev->detail);
    g_ptr_array_add(env, NULL);
    return (char **)g_ptr_array_free(env, FALSE);
}

static gboolean
done_contains(const GString *done, const char *name)
{
    g_autofree char *needle = g_strconcat("\n", name, "\n", NULL);
    g_autofree char *hay = g_strconcat("\n", done->str, NULL);
    return strstr(hay, needle) != NULL;
}

/*
 * Runs the hooks of @ev->event in name order, skipping those listed in
 * @done (NULL: none) and adding each success to it. Stops at the first
 * failure, described in @failure_out.
 */
static RunOutcome
run_event(const Snapshot *snap, const KdHookEvent *ev, const char *event_id,
          gint64 attempt, const char *json, GString *done,
          GCancellable *cancellable, char **failure_out)
{
    g_autofree char *event_dir = NULL;
    g_autofree char *mail = printable(ev->mail ? ev->mail : ev->mailbox);
    g_autoptr(GPtrArray) paths = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) envp = NULL;
    guint i;

    if (snap->hooks_dir == NULL) {
        return RUN_OK;
    }
    event_dir = g_strconcat(snap->hooks_dir, "/", ev->event, ".d", NULL);
    paths = kd_hooks_exec_list(event_dir, &error);
    if (paths == NULL) {
        *failure_out = g_strdup_printf("hooks for %s not run: %s", ev->event,
                                       error->message);
        g_warning("%s (event %s, %s)", *failure_out, event_id, mail);
        return RUN_FAILED;
    }
    envp = build_env(ev, event_id, attempt);
    for (i = 0; i < paths->len; i++) {
        const char *path = paths->pdata[i];
        g_autofree char *name = g_path_get_basename(path);
        g_autofree char *what = NULL;
        KdHooksExecResult result;
        RunOutcome outcome;

        if (done != NULL && done_contains(done, name)) {
            continue;
        }
        if (snap->forbid_root && geteuid() == 0) {
            *failure_out = g_strdup_printf(
                "%s refused: kolabd runs as root but a user is configured "
                "(privileges were not dropped)",
                path);
            g_warning("hook %s (event %s, %s)", *failure_out, event_id, mail);
            return RUN_FAILED;
        }
        if (!kd_hooks_exec_check_owner(path, &error)) {
            *failure_out = g_strdup_printf("hook %s", error->message);
            g_warning("%s (event %s %s, %s)", *failure_out, ev->event, event_id,
                      mail);
            return RUN_FAILED;
        }
        kd_hooks_exec_run(path, envp, json, strlen(json), snap->timeout_ms,
                          snap->output_max, cancellable, &result);
        what = kd_hooks_exec_describe(&result, snap->timeout_ms);
        if (result.status == KD_HOOKS_EXEC_OK) {
            g_info("hook %s (event %s %s, %s) %s in %" G_GINT64_FORMAT " ms",
                   path, ev->event, event_id, mail, what, result.elapsed_ms);
            if (done != NULL) {
                g_string_append_printf(done, "%s\n", name);
            }
            outcome = RUN_OK;
        } else {
            g_warning("hook %s (event %s %s, %s, attempt %" G_GINT64_FORMAT
                      ") %s",
                      path, ev->event, event_id, mail, attempt, what);
            *failure_out = g_strdup_printf("%s %s", path, what);
            outcome = result.status == KD_HOOKS_EXEC_CANCELLED ? RUN_CANCELLED
                                                               : RUN_FAILED;
        }
        kd_hooks_exec_result_clear(&result);
        if (outcome != RUN_OK) {
            return outcome;
        }
    }
    return RUN_OK;
}

gboolean
kd_hooks_enqueue(KdHooks *hooks, sqlite3 *db, const KdHookEvent *ev,
                 GError **error)
{
    g_autofree char *event_id = NULL;
    g_autofree char *json = NULL;

    g_return_val_if_fail(ev != NULL, FALSE);
    g_return_val_if_fail(hooks != NULL || db != NULL, FALSE);

    if (!kd_hooks_event_is_valid(ev->event) ||
        strcmp(ev->event, KD_HOOK_PRE_DELETE) == 0) {
        g_set_error(error, KD_HOOKS_ERROR, KD_HOOKS_ERROR_EVENT,
                    "cannot queue hook event \"%s\"",
                    ev->event ? ev->event : "(null)");
        return FALSE;
    }
    if (hooks != NULL) {
        gboolean none;
        g_mutex_lock(&hooks->lock);
        none = hooks->hooks_dir == NULL;
        g_mutex_unlock(&hooks->lock);
        if (none) {
            return TRUE;
        }
        if (db == NULL) {
            db = hooks->db;
        }
    }
    if (db == NULL) {
        g_set_error(error, KD_HOOKS_ERROR, KD_HOOKS_ERROR_DB,
                    "hook queue: no database");
        return FALSE;
    }
    event_id =
        ev->event_id != NULL ? g_strdup(ev->event_id) : g_uuid_string_random();
    json = kd_hooks_json_payload(ev, event_id);
    return kd_hooks_queue_insert(db, ev, event_id, json,
                                 g_get_real_time() / G_USEC_PER_SEC, error);
}

static gint64
backoff(const Snapshot *snap, gint64 attempts)
{
    gint64 delay = snap->retry_base_s;
    gint64 i;

    for (i = 1; i < attempts && delay < snap->retry_max_s; i++) {
        delay *= 2;
    }
    return MIN(delay, (gint64)snap->retry_max_s);
}

gint
kd_hooks_run_due(KdHooks *hooks, gint64 now, guint limit,
                 GCancellable *cancellable, GError **error)
{
    g_autoptr(GPtrArray) rows = NULL;
    Snapshot snap;
    gint handled = 0;
    guint i;

    g_return_val_if_fail(hooks != NULL, -1);
    if (hooks->db == NULL) {
        g_set_error(error, KD_HOOKS_ERROR, KD_HOOKS_ERROR_DB,
                    "hook queue: no database");
        return -1;
    }
    rows = kd_hooks_queue_fetch_due(hooks->db, now, limit, error);
    if (rows == NULL) {
        return -1;
    }
    snapshot_take(hooks, &snap);
    for (i = 0; i < rows->len; i++) {
        KdHooksQueueRow *row = rows->pdata[i];
        KdHookEvent ev = {
            .event = row->event,
            .uuid = row->uuid,
            .dn = row->dn,
            .mail = row->mail,
            .mailbox = row->mailbox,
            .mailhost = row->mailhost,
            .old_mailbox = row->old_mailbox,
            .old_mailhost = row->old_mailhost,
            .detail = row->detail,
        };
        g_autoptr(GString) done = g_string_new(row->done_hooks);
        g_autofree char *failure = NULL;
        RunOutcome outcome;
        gboolean ok;

        if (g_cancellable_is_cancelled(cancellable)) {
            break;
        }
        outcome = run_event(&snap, &ev, row->id, row->attempts + 1,
                            row->payload_json, done, cancellable, &failure);
        if (outcome == RUN_OK) {
            ok = kd_hooks_queue_delete(hooks->db, row->seq, error);
        } else if (outcome == RUN_FAILED) {
            ok = kd_hooks_queue_update(hooks->db, row->seq, done->str, failure,
                                       now + backoff(&snap, row->attempts + 1),
                                       error);
        } else {
            /* Interrupted, not failed: keep the progress, count nothing. */
            kd_hooks_queue_update(hooks->db, row->seq, done->str, NULL, 0,
                                  NULL);
            break;
        }
        if (!ok) {
            handled = -1;
            break;
        }
        handled++;
    }
    g_free(snap.hooks_dir);
    return handled;
}

gboolean
kd_hooks_queue_stats(KdHooks *hooks, KdHooksQueueStats *stats_out,
                     GError **error)
{
    g_return_val_if_fail(hooks != NULL && stats_out != NULL, FALSE);

    memset(stats_out, 0, sizeof *stats_out);
    if (hooks->db == NULL) {
        return TRUE;
    }
    return kd_hooks_queue_stats_db(hooks->db, stats_out, error);
}

char *
kd_hooks_queue_last_error(KdHooks *hooks, GError **error)
{
    g_return_val_if_fail(hooks != NULL, NULL);

    if (hooks->db == NULL) {
        return NULL;
    }
    return kd_hooks_queue_last_error_db(hooks->db, error);
}

gboolean
kd_hooks_run_pre_delete(KdHooks *hooks, const KdHookEvent *ev,
                        char **veto_reason_out)
{
    g_autofree char *event_id = NULL;
    g_autofree char *json = NULL;
    g_autofree char *failure = NULL;
    KdHookEvent pre;
    Snapshot snap;
    RunOutcome outcome;

    g_return_val_if_fail(ev != NULL, FALSE);

    if (veto_reason_out != NULL) {
        *veto_reason_out = NULL;
    }
    if (hooks == NULL) {
        return TRUE;
    }
    pre = *ev;
    pre.event = KD_HOOK_PRE_DELETE;
    event_id =
        ev->event_id != NULL ? g_strdup(ev->event_id) : g_uuid_string_random();
    json = kd_hooks_json_payload(&pre, event_id);
    snapshot_take(hooks, &snap);
    outcome = run_event(&snap, &pre, event_id, 1, json, NULL, NULL, &failure);
    g_free(snap.hooks_dir);
    if (outcome == RUN_OK) {
        return TRUE;
    }
    if (veto_reason_out != NULL) {
        *veto_reason_out = g_steal_pointer(&failure);
    }
    return FALSE;
}
