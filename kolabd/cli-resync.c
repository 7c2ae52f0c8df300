/* cli-resync: `kolabd resync`, a one-shot full reconcile. */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "app.h"
#include "cli.h"
#include "hooks-json.h"

typedef struct {
    GPtrArray *uuids; /* guint8[16] copies */
    char **mails;     /* lower-cased filter, or NULL for all */
} Selection;

static gboolean
selected(const Selection *sel, const char *mail)
{
    if (sel->mails == NULL) {
        return TRUE;
    }
    for (char **m = sel->mails; *m != NULL; m++) {
        if (mail != NULL && g_ascii_strcasecmp(*m, mail) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
collect(const guint8 uuid[KD_UUID_LEN], KdObjectKind kind, const char *mail,
        const char *mailbox, gpointer data)
{
    Selection *sel = data;

    (void)kind;
    (void)mailbox;
    if (selected(sel, mail)) {
        g_ptr_array_add(sel->uuids, g_memdup2(uuid, KD_UUID_LEN));
    }
    return TRUE;
}

/* Marks every selected object dirty so the engine plans it afresh against
 * the murder's current map. */
static gboolean
touch_selected(KdStore *store, char **mails, GHashTable *only, guint *n_out,
               GError **error)
{
    Selection sel = {g_ptr_array_new_with_free_func(g_free), mails};
    g_autoptr(GPtrArray) uuids = sel.uuids;

    *n_out = 0;
    if (!kd_store_foreach_present_names(store, collect, &sel, error) ||
        !kd_store_begin(store, error)) {
        return FALSE;
    }
    for (guint i = 0; i < uuids->len; i++) {
        const guint8 *uuid = g_ptr_array_index(uuids, i);

        if (!kd_store_work_touch(store, uuid, error)) {
            kd_store_rollback(store);
            return FALSE;
        }
        if (only != NULL) {
            char hex[33];

            kd_uuid_to_hex(uuid, hex);
            g_hash_table_add(only, g_strdup(hex));
        }
        (*n_out)++;
    }
    return kd_store_commit(store, error);
}

/* Adds the mailbox names of a present object to the claimed set. */
static gboolean
claim(const guint8 uuid[KD_UUID_LEN], KdObjectKind kind, const char *mail,
      const char *mailbox, gpointer data)
{
    GHashTable *claimed = data;

    (void)uuid;
    (void)mail;
    if (mailbox != NULL) {
        g_hash_table_add(claimed, g_strdup(mailbox));
        if (kind == KD_OBJECT_SHARED) {
            /* "shared/A/B@dom" also claims its parent "shared/A@dom". */
            const char *at = strrchr(mailbox, '@');
            gsize len = at ? (gsize)(at - mailbox) : strlen(mailbox);
            g_autofree char *local = g_strndup(mailbox, len);
            char *slash;

            while ((slash = strrchr(local, '/')) != NULL) {
                *slash = '\0';
                g_hash_table_add(claimed,
                                 g_strconcat(local, at ? at : "", NULL));
            }
        }
    }
    return TRUE;
}

/*
 * Orphans: user INBOXes and shared folders in the murder that no LDAP
 * object claims. Reported, never deleted here: an orphan may be a mailbox
 * whose entry a filter or ACL change hid. A new array of "mailbox\tserver".
 */
static GPtrArray *
find_orphans(KdStore *store, KdEngine *engine, GError **error)
{
    g_autoptr(GHashTable) where = kd_engine_dup_locations(engine);
    g_autoptr(GHashTable) claimed =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) orphans = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer k, v;

    if (!kd_store_foreach_present_names(store, claim, claimed, error)) {
        return NULL;
    }
    g_hash_table_iter_init(&it, where);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *mailbox = k;
        const char *at = strrchr(mailbox, '@');
        gsize local = at ? (gsize)(at - mailbox) : strlen(mailbox);

        /* The domain's shared parent is kolabd's own scaffolding. */
        if (local == strlen("shared") && g_str_has_prefix(mailbox, "shared")) {
            continue;
        }
        if (!g_hash_table_contains(claimed, mailbox)) {
            g_ptr_array_add(orphans, g_strdup_printf("%s\t%s", mailbox,
                                                     (char *)v));
        }
    }
    g_ptr_array_sort(orphans, (GCompareFunc)g_strcmp0);
    return g_steal_pointer(&orphans);
}

/* --dry-run works on a copy of the store, so the real one is untouched. */
static char *
copy_store(const char *path, GError **error)
{
    g_autofree char *dir = g_dir_make_tmp("kolabd-dry-run-XXXXXX", error);
    g_autofree char *copy = NULL;
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *backup;
    int rc;

    if (dir == NULL) {
        return NULL;
    }
    copy = g_build_filename(dir, "kolabd.db", NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        return g_steal_pointer(&copy);
    }
    rc = sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_open(copy, &dst);
    }
    if (rc == SQLITE_OK) {
        backup = sqlite3_backup_init(dst, "main", src, "main");
        rc = backup ? sqlite3_backup_step(backup, -1) : sqlite3_errcode(dst);
        if (backup != NULL) {
            sqlite3_backup_finish(backup);
        }
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "copying the store %s for a dry run: %s", path,
                    sqlite3_errstr(rc));
    }
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc == SQLITE_OK ? g_steal_pointer(&copy) : NULL;
}

int
kd_cli_resync(const char *config_path, int argc, char **argv)
{
    gboolean dry_run = FALSE, json = FALSE, fast = FALSE;
    g_autoptr(GPtrArray) mails = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    g_autoptr(KdSync) sync = NULL;
    g_autoptr(KdEngine) engine = NULL;
    g_autoptr(KdStore) store = NULL;
    g_autofree char *dry_path = NULL;
    g_autoptr(GPtrArray) report = NULL;
    g_autoptr(GPtrArray) orphans = NULL;
    g_autoptr(GHashTable) only = NULL;
    KdStoreCounts counts = {0};
    KdEngineStats stats;
    guint touched = 0;
    gboolean idle;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) {
            dry_run = TRUE;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = TRUE;
        } else if (strcmp(argv[i], "--fast") == 0) {
            fast = TRUE;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "kolabd resync: unknown option %s\n", argv[i]);
            return KD_EXIT_USAGE;
        } else {
            g_ptr_array_add(mails, argv[i]);
        }
    }
    g_ptr_array_add(mails, NULL);
    app = kd_app_new(config_path, &error);
    if (app == NULL) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_USAGE;
    }
    if (dry_run) {
        dry_path = copy_store(kd_app_get_store_path(app), &error);
        if (dry_path == NULL) {
            fprintf(stderr, "kolabd: %s\n", error->message);
            return KD_EXIT_FAILURE;
        }
        kd_app_set_store_path(app, dry_path);
    }
    /* 1. A full, cookie-less reading of LDAP into the store. */
    sync = kd_app_new_sync(app, &error);
    if (sync == NULL || !kd_sync_refresh_once(sync, FALSE, NULL, &error)) {
        fprintf(stderr, "kolabd: reading LDAP: %s\n", error->message);
        return KD_EXIT_FAILURE;
    }
    /* 2. The murder's complete mailbox list (one listing). With MAIL...
     * arguments the engine works on those accounts only. */
    if (mails->len > 1) {
        only = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        kd_app_set_only(app, only);
    }
    /* --fast trusts the applied state for quota, ACL and folders and
     * checks only what LDAP, the store and the one listing show. */
    engine = kd_app_new_engine(app, !fast, dry_run, &error);
    if (engine == NULL) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_FAILURE;
    }
    /* 3. Plan every selected object against it, and do the work. */
    store = kd_store_open(kd_app_get_store_path(app), &error);
    if (store == NULL ||
        !touch_selected(store, mails->len > 1 ? (char **)mails->pdata : NULL,
                        only, &touched, &error)) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_FAILURE;
    }
    idle = kd_engine_run_until_idle(engine, 3600);
    kd_engine_stop(engine, 20000);
    kd_engine_get_stats(engine, &stats);
    report = kd_engine_dup_plan_report(engine);
    if (!kd_store_counts(store, &counts, &error) ||
        (orphans = find_orphans(store, engine, &error)) == NULL) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_FAILURE;
    }
    if (json) {
        g_autoptr(GString) out = g_string_new("{");

        g_string_append_printf(
            out,
            "\"dry_run\":%s,\"checked\":%u,\"repaired\":%" G_GUINT64_FORMAT
            ",\"failed\":%" G_GUINT64_FORMAT ",\"created\":%" G_GUINT64_FORMAT
            ",\"mailhost_writes\":%" G_GUINT64_FORMAT
            ",\"held\":%" G_GINT64_FORMAT ",\"queue\":%" G_GINT64_FORMAT
            ",\"plan\":[",
            dry_run ? "true" : "false", touched, stats.jobs_changed,
            stats.jobs_failed, stats.creates, stats.mailhost_writes,
            counts.held, counts.queue);
        for (guint i = 0; i < report->len; i++) {
            g_auto(GStrv) f = g_strsplit(g_ptr_array_index(report, i), "\t",
                                         3);

            g_string_append(out, i ? ",{\"steps\":" : "{\"steps\":");
            kd_hooks_json_append_string(out, f[0]);
            g_string_append(out, ",\"object\":");
            kd_hooks_json_append_string(out, f[1]);
            g_string_append(out, ",\"server\":");
            kd_hooks_json_append_string(out, f[2]);
            g_string_append_c(out, '}');
        }
        g_string_append(out, "],\"orphans\":[");
        for (guint i = 0; i < orphans->len; i++) {
            g_auto(GStrv) f = g_strsplit(g_ptr_array_index(orphans, i), "\t",
                                         2);

            g_string_append(out, i ? ",{\"mailbox\":" : "{\"mailbox\":");
            kd_hooks_json_append_string(out, f[0]);
            g_string_append(out, ",\"server\":");
            kd_hooks_json_append_string(out, f[1]);
            g_string_append_c(out, '}');
        }
        g_string_append(out, "]}\n");
        fputs(out->str, stdout);
    } else {
        for (guint i = 0; i < report->len; i++) {
            g_auto(GStrv) f = g_strsplit(g_ptr_array_index(report, i), "\t",
                                         3);

            printf("would %s: %s on %s\n", f[0], f[1], f[2]);
        }
        for (guint i = 0; i < orphans->len; i++) {
            g_auto(GStrv) f = g_strsplit(g_ptr_array_index(orphans, i), "\t",
                                         2);

            printf("orphan: %s on %s (no LDAP object; kept)\n", f[0], f[1]);
        }
        printf("resync%s: %u objects checked, %" G_GUINT64_FORMAT
               " repaired, %" G_GUINT64_FORMAT " failed, %" G_GINT64_FORMAT
               " held, %" G_GINT64_FORMAT " left in the queue\n",
               dry_run ? " (dry run)" : "", touched,
               dry_run ? (guint64)report->len : stats.jobs_changed,
               stats.jobs_failed, counts.held, counts.queue);
    }
    if (dry_path != NULL) {
        g_autofree char *dir = g_path_get_dirname(dry_path);
        g_autofree char *wal = g_strconcat(dry_path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(dry_path, "-shm", NULL);

        kd_store_free(g_steal_pointer(&store));
        g_clear_pointer(&engine, kd_engine_free);
        g_clear_pointer(&sync, kd_sync_free);
        g_unlink(dry_path);
        g_unlink(wal);
        g_unlink(shm);
        g_rmdir(dir);
        return report->len == 0 && counts.held == 0 ? KD_EXIT_OK
                                                     : KD_EXIT_FAILURE;
    }
    /* With MAIL... only the named accounts count; others may stay queued
     * for the daemon. */
    if (only != NULL) {
        return idle && stats.jobs_failed == 0 ? KD_EXIT_OK : KD_EXIT_FAILURE;
    }
    return idle && counts.queue == 0 ? KD_EXIT_OK : KD_EXIT_FAILURE;
}
