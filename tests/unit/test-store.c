/* Unit tests for store: a real SQLite database (in memory or in a
 * temporary directory). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store.h"

static void
uuid_n(guint8 uuid[KD_UUID_LEN], guint n)
{
    memset(uuid, 0, KD_UUID_LEN);
    uuid[0] = 0xaa;
    uuid[14] = (guint8)(n >> 8);
    uuid[15] = (guint8)n;
}

static KdObject *
user(guint n, const char *mail)
{
    guint8 uuid[KD_UUID_LEN];
    KdObject *o;

    uuid_n(uuid, n);
    o = kd_object_new(uuid);
    o->kind = KD_OBJECT_USER;
    o->mail = g_strdup(mail);
    o->mailbox = g_strdup_printf("user/%s", mail);
    o->dn = g_strdup_printf("uid=u%u,ou=People,dc=example,dc=org", n);
    return o;
}

static KdStore *
open_mem(void)
{
    g_autoptr(GError) error = NULL;
    KdStore *store = kd_store_open(":memory:", &error);

    assert_null(error);
    assert_non_null(store);
    return store;
}

static gint64
work_gen(KdStore *store, const guint8 uuid[KD_UUID_LEN])
{
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(KdWorkItem));

    assert_true(kd_store_work_due(store, G_MAXINT64, 1000, items, NULL) >= 0);
    for (guint i = 0; i < items->len; i++) {
        KdWorkItem *it = &g_array_index(items, KdWorkItem, i);

        if (memcmp(it->uuid, uuid, KD_UUID_LEN) == 0) {
            return it->gen;
        }
    }
    return 0;
}

static void
test_store_cookie_rules(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdSyncState) s0 = NULL, s1 = NULL, s2 = NULL, s3 = NULL;
    g_autoptr(GBytes) cookie = g_bytes_new_static("rid=000,csn=1", 13);
    g_autoptr(GBytes) empty = g_bytes_new_static("", 0);

    s0 = kd_store_get_sync_state(store, NULL);
    assert_non_null(s0);
    assert_null(s0->cookie);
    assert_null(s0->params_hash);
    assert_true(kd_store_set_cookie(store, cookie, NULL));
    assert_true(kd_store_set_params_hash(store, "h1", NULL));
    /* A zero-length cookie never replaces a real one. */
    assert_true(kd_store_set_cookie(store, empty, NULL));
    assert_true(kd_store_set_cookie(store, NULL, NULL));
    s1 = kd_store_get_sync_state(store, NULL);
    assert_true(g_bytes_equal(s1->cookie, cookie));
    assert_string_equal(s1->params_hash, "h1");
    assert_true(kd_store_drop_cookie(store, "h2", "params changed", NULL));
    s2 = kd_store_get_sync_state(store, NULL);
    assert_null(s2->cookie);
    assert_string_equal(s2->params_hash, "h2");
    assert_string_equal(s2->hold_reason, "params changed");
    assert_int_equal(s2->refresh_gen, s1->refresh_gen + 1);
    assert_true(kd_store_refresh_ended(store, NULL));
    assert_true(kd_store_set_sync_status(store, TRUE, "boom", NULL));
    s3 = kd_store_get_sync_state(store, NULL);
    assert_null(s3->hold_reason);
    assert_true(s3->last_refresh_end > 0);
    assert_true(s3->connected);
    assert_string_equal(s3->last_error, "boom");
}

static void
test_store_put_object_dirty_only_on_change(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdObject) a = user(1, "a@example.org");
    g_autoptr(KdObject) got = NULL;
    gboolean changed = FALSE, present = FALSE;
    gint64 gen;

    g_hash_table_insert(a->attrs = g_hash_table_new_full(
                            g_str_hash, g_str_equal, g_free, g_free),
                        g_strdup("l"), g_strdup("Berlin \"quoted\""));
    assert_true(kd_store_put_object(store, a, &changed, NULL));
    assert_true(changed);
    gen = work_gen(store, a->uuid);
    assert_int_equal(gen, 1);

    /* Same desired state: no work. */
    assert_true(kd_store_put_object(store, a, &changed, NULL));
    assert_false(changed);
    assert_int_equal(work_gen(store, a->uuid), 1);

    /* DN-only change: stored, no work. */
    g_free(a->dn);
    a->dn = g_strdup("uid=renamed,dc=example,dc=org");
    assert_true(kd_store_put_object(store, a, &changed, NULL));
    assert_false(changed);
    got = kd_store_get_object(store, a->uuid, &present, NULL);
    assert_non_null(got);
    assert_true(present);
    assert_string_equal(got->dn, "uid=renamed,dc=example,dc=org");
    assert_string_equal(g_hash_table_lookup(got->attrs, "l"),
                        "Berlin \"quoted\"");
    assert_true(kd_object_same_desired(got, a));

    /* Quota change: work, gen bumped. */
    a->quota_kib = 1024;
    assert_true(kd_store_put_object(store, a, &changed, NULL));
    assert_true(changed);
    assert_int_equal(work_gen(store, a->uuid), 2);
}

static void
test_store_mark_absent_and_hold(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdObject) a = user(1, "a@example.org");
    g_autoptr(KdObject) b = user(2, "b@example.org");
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(KdWorkItem));
    KdStoreCounts counts;
    guint8 unknown[KD_UUID_LEN];
    gboolean changed, present = TRUE;

    assert_true(kd_store_put_object(store, a, NULL, NULL));
    assert_true(kd_store_put_object(store, b, NULL, NULL));
    assert_true(kd_store_work_done(store, a->uuid, 1, NULL));
    assert_true(kd_store_work_done(store, b->uuid, 1, NULL));

    uuid_n(unknown, 99);
    assert_true(kd_store_mark_absent(store, unknown, NULL, &changed, NULL));
    assert_false(changed);

    assert_true(kd_store_mark_absent(store, a->uuid, NULL, &changed, NULL));
    assert_true(changed);
    assert_true(kd_store_mark_absent(store, b->uuid, "too many deletes",
                                     &changed, NULL));
    assert_true(changed);
    /* Idempotent. */
    assert_true(kd_store_mark_absent(store, b->uuid, NULL, &changed, NULL));
    assert_false(changed);
    kd_object_free(kd_store_get_object(store, a->uuid, &present, NULL));
    assert_false(present);
    {
        gint64 since = -1, untouched = -1;

        assert_true(kd_store_get_absent_since(store, a->uuid, &since, NULL));
        assert_true(since > 0);
        assert_true(
            kd_store_get_absent_since(store, unknown, &untouched, NULL));
        assert_int_equal(untouched, -1);
    }
    assert_non_null(kd_store_get_db(store));

    assert_int_equal(kd_store_work_due(store, G_MAXINT64, 10, items, NULL), 1);
    assert_memory_equal(g_array_index(items, KdWorkItem, 0).uuid, a->uuid,
                        KD_UUID_LEN);
    assert_true(kd_store_counts(store, &counts, NULL));
    assert_int_equal(counts.absent, 2);
    assert_int_equal(counts.held, 1);
    assert_int_equal(counts.queue, 2);
    assert_int_equal(kd_store_count_objects(store, 1, NULL), 0);
    assert_int_equal(kd_store_count_objects(store, -1, NULL), 2);

    /* b comes back: present, and the held delete is released. */
    assert_true(kd_store_put_object(store, b, &changed, NULL));
    assert_true(changed);
    assert_true(kd_store_counts(store, &counts, NULL));
    assert_int_equal(counts.held, 0);
    assert_int_equal(counts.users_present, 1);

    /* The reconciler held b (say, a refused value); the operator fixes the
     * entry: planned afresh. Held again and then deleted: a real delete
     * is planned too, nothing stays held for good. */
    assert_true(kd_store_work_hold(store, b->uuid, "refused", NULL));
    b->quota_kib = 77;
    assert_true(kd_store_put_object(store, b, &changed, NULL));
    assert_true(kd_store_counts(store, &counts, NULL));
    assert_int_equal(counts.held, 0);
    assert_true(kd_store_work_hold(store, b->uuid, "refused", NULL));
    assert_true(kd_store_mark_absent(store, b->uuid, NULL, &changed, NULL));
    assert_true(kd_store_counts(store, &counts, NULL));
    assert_int_equal(counts.held, 0);
}

static void
test_store_work_gen_keeps_newer_change(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdObject) a = user(1, "a@example.org");
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(KdWorkItem));
    g_autoptr(GPtrArray) problems = NULL;
    KdStoreCounts counts;

    assert_true(kd_store_put_object(store, a, NULL, NULL));
    assert_int_equal(kd_store_work_due(store, 100, 10, items, NULL), 1);
    /* A change arrives while the reconciler works on gen 1. */
    a->quota_kib = 5;
    assert_true(kd_store_put_object(store, a, NULL, NULL));
    assert_true(kd_store_work_done(store, a->uuid, 1, NULL));
    assert_int_equal(work_gen(store, a->uuid), 2);

    /* Failure: not due until next_try. */
    assert_true(kd_store_work_retry(store, a->uuid, 2, 500, "IMAP down", NULL));
    g_array_set_size(items, 0);
    assert_int_equal(kd_store_work_due(store, 499, 10, items, NULL), 0);
    assert_int_equal(kd_store_work_due(store, 500, 10, items, NULL), 1);
    assert_int_equal(g_array_index(items, KdWorkItem, 0).attempts, 1);
    problems = kd_store_work_problems(store, 10, NULL);
    assert_int_equal(problems->len, 1);
    assert_string_equal(((KdWorkProblem *)problems->pdata[0])->text,
                        "IMAP down");

    /* Hold and release. */
    assert_true(kd_store_work_hold(store, a->uuid, "conflict", NULL));
    g_array_set_size(items, 0);
    assert_int_equal(kd_store_work_due(store, 1000, 10, items, NULL), 0);
    assert_true(kd_store_work_release(store, a->uuid, NULL));
    assert_int_equal(kd_store_work_due(store, 0, 10, items, NULL), 1);

    assert_true(kd_store_work_done(store, a->uuid, 2, NULL));
    assert_true(kd_store_counts(store, &counts, NULL));
    assert_int_equal(counts.queue, 0);
    assert_int_equal(counts.oldest_enqueued, 0);
    assert_true(kd_store_work_touch(store, a->uuid, NULL));
    assert_int_equal(work_gen(store, a->uuid), 1);
}

static void
test_store_work_lease_hides_claimed_items(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdObject) a = user(1, "a@example.org");
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(KdWorkItem));

    assert_true(kd_store_put_object(store, a, NULL, NULL));
    /* Claimed by one engine: another sees nothing due until it expires. */
    assert_true(kd_store_work_lease(store, a->uuid, 1, 200, NULL));
    assert_int_equal(kd_store_work_due(store, 199, 10, items, NULL), 0);
    assert_int_equal(kd_store_work_due(store, 200, 10, items, NULL), 1);
    assert_int_equal(g_array_index(items, KdWorkItem, 0).attempts, 0);
    /* A newer change is due at once, lease or not. */
    a->quota_kib = 7;
    assert_true(kd_store_put_object(store, a, NULL, NULL));
    g_array_set_size(items, 0);
    assert_int_equal(kd_store_work_due(store, 0, 10, items, NULL), 1);
    /* A lease on an old generation does not hide the new one. */
    assert_true(kd_store_work_lease(store, a->uuid, 1, 500, NULL));
    g_array_set_size(items, 0);
    assert_int_equal(kd_store_work_due(store, 0, 10, items, NULL), 1);
}

static void
test_store_work_due_oldest_first(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(KdWorkItem));

    for (guint i = 10; i > 0; i--) {
        g_autoptr(KdObject) o = user(i, "x@example.org");

        assert_true(kd_store_put_object(store, o, NULL, NULL));
    }
    assert_int_equal(kd_store_work_due(store, 0, 3, items, NULL), 3);
    assert_int_equal(g_array_index(items, KdWorkItem, 0).uuid[15], 10);
    assert_int_equal(g_array_index(items, KdWorkItem, 2).uuid[15], 8);
}

static gboolean
collect(const guint8 uuid[KD_UUID_LEN], gpointer data)
{
    g_ptr_array_add(data, g_memdup2(uuid, KD_UUID_LEN));
    return TRUE;
}

static void
test_store_transaction_rollback(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdObject) a = user(1, "a@example.org");
    g_autoptr(KdObject) b = user(2, "b@example.org");
    g_autoptr(GBytes) cookie = g_bytes_new_static("c1", 2);
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(KdSyncState) s = NULL;

    assert_true(kd_store_put_object(store, a, NULL, NULL));
    assert_true(kd_store_begin(store, NULL));
    assert_true(kd_store_in_transaction(store));
    assert_true(kd_store_put_object(store, b, NULL, NULL));
    assert_true(kd_store_set_cookie(store, cookie, NULL));
    kd_store_rollback(store);
    assert_false(kd_store_in_transaction(store));
    assert_true(kd_store_foreach_present(store, collect, seen, NULL));
    assert_int_equal(seen->len, 1);
    assert_memory_equal(seen->pdata[0], a->uuid, KD_UUID_LEN);
    s = kd_store_get_sync_state(store, NULL);
    assert_null(s->cookie);
}

/* add_object: written and dirty without a read; replaces a same-uuid row. */
static void
test_store_add_object(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdObject) a = user(1, "a@example.org");
    g_autoptr(KdObject) a2 = user(1, "a2@example.org");
    g_autoptr(KdObject) got = NULL;
    gboolean present = FALSE;
    gint64 gen1, gen2;

    (void)state;
    assert_true(kd_store_add_object(store, a, NULL));
    gen1 = work_gen(store, a->uuid);
    assert_true(gen1 > 0);
    assert_true(kd_store_add_object(store, a2, NULL));
    gen2 = work_gen(store, a->uuid);
    assert_true(gen2 > gen1);
    got = kd_store_get_object(store, a->uuid, &present, NULL);
    assert_non_null(got);
    assert_true(present);
    assert_string_equal(got->mail, "a2@example.org");
    assert_int_equal(kd_store_count_objects(store, -1, NULL), 1);
}

static gboolean
collect_names(const guint8 uuid[KD_UUID_LEN], KdObjectKind kind,
              const char *mail, const char *mailbox, gpointer data)
{
    g_ptr_array_add(data, g_strdup_printf("%u %d %s %s", uuid[15], kind,
                                          mail, mailbox));
    return TRUE;
}

static void
test_store_foreach_present_names(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdObject) a = user(1, "a@example.org");
    g_autoptr(KdObject) b = user(2, "b@example.org");
    g_autoptr(KdObject) c = user(3, "c@example.org");
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *want_a = NULL;
    g_autofree char *want_b = NULL;

    (void)state;
    b->kind = KD_OBJECT_SHARED;
    g_free(b->mailbox);
    b->mailbox = g_strdup("shared/b@example.org");
    assert_true(kd_store_put_object(store, c, NULL, NULL));
    assert_true(kd_store_put_object(store, b, NULL, NULL));
    assert_true(kd_store_put_object(store, a, NULL, NULL));
    assert_true(kd_store_mark_absent(store, c->uuid, NULL, NULL, NULL));
    assert_true(kd_store_foreach_present_names(store, collect_names, seen,
                                               NULL));
    assert_int_equal(seen->len, 2);
    want_a = g_strdup_printf("1 %d a@example.org user/a@example.org",
                             KD_OBJECT_USER);
    want_b = g_strdup_printf("2 %d b@example.org shared/b@example.org",
                             KD_OBJECT_SHARED);
    assert_string_equal(seen->pdata[0], want_a);
    assert_string_equal(seen->pdata[1], want_b);
}

static void
test_store_applied_and_backends(void **state)
{
    g_autoptr(KdStore) store = open_mem();
    g_autoptr(KdApplied) got = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    KdApplied ap = {0};
    KdBackendRow be = {0};

    uuid_n(ap.uuid, 7);
    ap.kind = KD_OBJECT_SHARED;
    ap.mailbox = (char *)"shared/x@example.org";
    ap.server = (char *)"imap1";
    ap.quota_kib = KD_QUOTA_UNLIMITED;
    ap.acl = (char *)"anyone lrs";
    ap.folders_done = TRUE;
    assert_true(kd_store_put_applied(store, &ap, NULL));
    got = kd_store_get_applied(store, ap.uuid, NULL);
    assert_non_null(got);
    assert_int_equal(got->kind, KD_OBJECT_SHARED);
    assert_string_equal(got->server, "imap1");
    assert_string_equal(got->acl, "anyone lrs");
    assert_null(got->folder_type);
    assert_int_equal(got->quota_kib, KD_QUOTA_UNLIMITED);
    assert_true(got->folders_done);
    assert_true(got->applied_at > 0);
    assert_true(kd_store_delete_applied(store, ap.uuid, NULL));
    assert_null(kd_store_get_applied(store, ap.uuid, NULL));

    be.name = (char *)"b2";
    be.servername = (char *)"imap2.example.org";
    be.mailboxes = 3;
    be.up = TRUE;
    assert_true(kd_store_put_backend(store, &be, NULL));
    be.name = (char *)"b1";
    be.up = FALSE;
    assert_true(kd_store_put_backend(store, &be, NULL));
    rows = kd_store_list_backends(store, NULL);
    assert_int_equal(rows->len, 2);
    assert_string_equal(((KdBackendRow *)rows->pdata[0])->name, "b1");
    assert_true(((KdBackendRow *)rows->pdata[1])->up);
}

static void
test_store_file_survives_reopen_and_refuses_newer_schema(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("kd-store-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "state.db", NULL);
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);
    g_autoptr(GBytes) cookie = g_bytes_new_static("rid=1", 5);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdSyncState) s = NULL;
    KdStore *store;
    sqlite3 *db;

    store = kd_store_open(path, &error);
    assert_non_null(store);
    assert_true(kd_store_set_cookie(store, cookie, NULL));
    kd_store_free(store);

    store = kd_store_open(path, &error);
    assert_non_null(store);
    s = kd_store_get_sync_state(store, NULL);
    assert_true(g_bytes_equal(s->cookie, cookie));
    kd_store_free(store);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    store = kd_store_open(path, &error);
    assert_null(store);
    assert_true(g_error_matches(error, KD_STORE_ERROR, KD_STORE_ERROR_SCHEMA));
    assert_non_null(strstr(error->message, "state.db"));

    g_unlink(wal);
    g_unlink(shm);
    g_unlink(path);
    g_rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_cookie_rules),
        cmocka_unit_test(test_store_put_object_dirty_only_on_change),
        cmocka_unit_test(test_store_mark_absent_and_hold),
        cmocka_unit_test(test_store_work_gen_keeps_newer_change),
        cmocka_unit_test(test_store_work_lease_hides_claimed_items),
        cmocka_unit_test(test_store_work_due_oldest_first),
        cmocka_unit_test(test_store_transaction_rollback),
        cmocka_unit_test(test_store_add_object),
        cmocka_unit_test(test_store_foreach_present_names),
        cmocka_unit_test(test_store_applied_and_backends),
        cmocka_unit_test(
            test_store_file_survives_reopen_and_refuses_newer_schema),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
