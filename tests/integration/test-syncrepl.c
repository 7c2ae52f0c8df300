/*
 * test-syncrepl: kolabd's syncrepl consumer against a real slapd 2.5 with
 * syncprov (tests/sandbox). After every scenario the store's present
 * objects must equal a plain search of the same base and filter.
 *
 * Covered here (notes/syncrepl.md §11): initial load with a bogus uuid in
 * the store, delete phase, present phase by session-log overflow and by
 * provider restart, idle reconnect keeping the cookie, size limit
 * (identity without limits), a stale cookie against syncprov-reloadhint,
 * and the persist edge cases (add, modify, delete, modrdn in scope, move
 * out of scope and back, filter match lost and regained, newcookie-only
 * writes, unrequested attributes, 4096 after renaming the search base).
 * The crash scenarios live in test-syncrepl-crash.c.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>

#include "ldap-sync.h"
#include "sandbox/sandbox.h"
#include "store.h"
#include "syncrepl-common.h"
#include "syncrepl-test.h"

/* ---- refresh phases -------------------------------------------------- */

static void
test_syncrepl_refresh_phases(void **state)
{
    KdSyncTestOptions o = {.sessionlog = 5, .n_users = 520};
    g_autoptr(KdSyncTest) t = kd_sync_test_new(&o);
    g_autoptr(KdObject) bogus = NULL;
    g_autoptr(GBytes) c1 = NULL, c2 = NULL;
    g_autoptr(GError) error = NULL;
    guint8 u[KD_UUID_LEN];

    /* initial load; a uuid slapd does not know is swept */
    memset(u, 0xee, sizeof(u));
    bogus = kd_object_new(u);
    bogus->kind = KD_OBJECT_USER;
    bogus->mail = g_strdup("bogus@example.org");
    {
        g_autoptr(KdStore) store = kd_store_open(t->store_path, NULL);

        assert_true(kd_store_put_object(store, bogus, NULL, NULL));
    }
    kd_sync_test_refresh(t, TRUE);
    kd_sync_test_assert_same(t);
    c1 = kd_sync_test_cookie(t);
    assert_non_null(c1);

    /* delete phase: 2 deletes, 1 modify, 1 add (session log holds 5) */
    kd_sync_test_delete_user(t, 1);
    kd_sync_test_delete_user(t, 2);
    kd_sync_test_set_mail(t, 3, "changed3@example.org");
    kd_sync_test_add_users(t, 1000, 1);
    kd_sync_test_refresh(t, TRUE);
    kd_sync_test_assert_same(t);

    /* present phase: 7 deletes and a modify overflow the session log */
    for (guint i = 10; i < 17; i++) {
        kd_sync_test_delete_user(t, i);
    }
    kd_sync_test_set_mail(t, 20, "changed20@example.org");
    kd_sync_test_refresh(t, TRUE);
    kd_sync_test_assert_same(t);
    assert_int_equal(kd_sync_test_counts(t).held, 0);

    /* present phase after a provider restart with an unseen delete */
    kd_sync_test_delete_user(t, 30);
    kd_sync_test_ctl(t, "slapd-restart", NULL);
    kd_sync_test_refresh(t, TRUE);
    kd_sync_test_assert_same(t);

    /* idle: nothing changed, the cookie stays */
    c1 = (g_bytes_unref(c1), kd_sync_test_cookie(t));
    kd_sync_test_refresh(t, TRUE);
    c2 = kd_sync_test_cookie(t);
    assert_true(g_bytes_equal(c1, c2));

    /* size limit: the identity without limits gets rc 4 and changes
     * nothing (no sweep, no cookie) */
    {
        KdStoreCounts before = kd_sync_test_counts(t);
        KdStoreCounts after;
        g_autoptr(GBytes) c3 = NULL;

        kd_sync_test_delete_user(t, 40);
        assert_false(kd_sync_test_refresh_as(t, "NOLIMIT_DN", "NOLIMIT_PW_FILE",
                                             FALSE, &error));
        assert_true(
            g_error_matches(error, KD_SYNC_ERROR, KD_SYNC_ERROR_TRUNCATED));
        after = kd_sync_test_counts(t);
        assert_int_equal(after.users_present, before.users_present);
        assert_int_equal(after.absent, before.absent);
        /* another bind identity is another search: the cookie was
         * dropped at the start, and no new one stored */
        c3 = kd_sync_test_cookie(t);
        assert_null(c3);
    }
    /* the service identity gets the delete afterwards; after the change
     * of parameters the inferred delete is held */
    kd_sync_test_refresh(t, TRUE);
    kd_sync_test_assert_same(t);
    assert_int_equal(kd_sync_test_counts(t).held, 1);
    {
        g_autoptr(KdSyncState) s = kd_sync_test_state(t);

        assert_non_null(s->cookie);
        assert_null(s->hold_reason);
    }
}

static void
test_syncrepl_stale_cookie_with_reloadhint(void **state)
{
    KdSyncTestOptions o = {.reloadhint = TRUE, .n_users = 20};
    g_autoptr(KdSyncTest) t = kd_sync_test_new(&o);
    const char *old = "rid=000,csn=20000101000000.000000Z#000000#000#000000";
    g_autoptr(GBytes) stale = g_bytes_new(old, strlen(old));
    g_autoptr(GBytes) now = NULL;

    kd_sync_test_refresh(t, TRUE);
    kd_sync_test_delete_user(t, 5);
    {
        g_autoptr(KdStore) store = kd_store_open(t->store_path, NULL);

        assert_true(kd_store_set_cookie(store, stale, NULL));
    }
    /* reloadHint TRUE: full content instead of 4096 */
    kd_sync_test_refresh(t, TRUE);
    kd_sync_test_assert_same(t);
    now = kd_sync_test_cookie(t);
    assert_false(g_bytes_equal(now, stale));
}

/* ---- persist stage --------------------------------------------------- */

static void
test_syncrepl_persist_edge_cases(void **state)
{
    KdSyncTestOptions o = {.n_users = 30};
    g_autoptr(KdSyncTest) t = kd_sync_test_new(&o);
    g_autoptr(GBytes) before = NULL;
    gint64 gen;

    kd_sync_test_run_start(t);
    kd_sync_test_wait_refreshes(t, 1);
    kd_sync_test_wait_same(t);

    kd_sync_test_set_mail(t, 1, "new1@example.org"); /* modify */
    kd_sync_test_add_users(t, 100, 2);               /* add */
    kd_sync_test_delete_user(t, 2);                  /* delete */
    kd_sync_test_wait_same(t);

    /* modrdn inside the scope: same uuid, new DN, no new work */
    gen = kd_sync_test_work_gen(t, 4);
    kd_sync_test_ldif(t, "dn: uid=u4,ou=People,dc=example,dc=org\n"
                         "changetype: modrdn\nnewrdn: uid=u4renamed\n"
                         "deleteoldrdn: 1\n");
    kd_sync_test_wait_dn(t, 4, "uid=u4renamed,ou=People,dc=example,dc=org");
    assert_int_equal(kd_sync_test_work_gen(t, 4), gen);
    kd_sync_test_wait_same(t);

    /* move out of the scope (DELETE), then back in (ADD) */
    kd_sync_test_ldif(t, "dn: uid=u5,ou=People,dc=example,dc=org\n"
                         "changetype: modrdn\nnewrdn: uid=u5\n"
                         "deleteoldrdn: 1\n"
                         "newsuperior: ou=Special Users,dc=example,dc=org\n");
    kd_sync_test_wait_same(t);
    assert_false(kd_sync_test_present(t, 5));
    kd_sync_test_ldif(t, "dn: uid=u5,ou=Special Users,dc=example,dc=org\n"
                         "changetype: modrdn\nnewrdn: uid=u5\n"
                         "deleteoldrdn: 1\n"
                         "newsuperior: ou=People,dc=example,dc=org\n");
    kd_sync_test_wait_same(t);
    assert_true(kd_sync_test_present(t, 5));

    /* filter match lost (DELETE) and regained (ADD) */
    kd_sync_test_ldif(t, "dn: uid=u6,ou=People,dc=example,dc=org\n"
                         "changetype: modify\ndelete: mail\n");
    kd_sync_test_wait_same(t);
    assert_false(kd_sync_test_present(t, 6));
    kd_sync_test_set_mail(t, 6, "back6@example.org");
    kd_sync_test_wait_same(t);
    assert_true(kd_sync_test_present(t, 6));

    /* an attribute we did not request: MODIFY, but no work */
    gen = kd_sync_test_work_gen(t, 7);
    before = kd_sync_test_cookie(t);
    kd_sync_test_ldif(t, "dn: uid=u7,ou=People,dc=example,dc=org\n"
                         "changetype: modify\nreplace: sn\nsn: Other\n");
    kd_sync_test_wait_cookie_change(t, before);
    assert_int_equal(kd_sync_test_work_gen(t, 7), gen);

    /* write outside the base: only the cookie moves (newcookie) */
    g_clear_pointer(&before, g_bytes_unref);
    before = kd_sync_test_cookie(t);
    {
        KdStoreCounts c0 = kd_sync_test_counts(t), c1;

        kd_sync_test_ldif(t, "dn: uid=kolab-nolimit,ou=Special Users,"
                             "dc=example,dc=org\n"
                             "changetype: modify\nreplace: sn\nsn: X\n");
        kd_sync_test_wait_cookie_change(t, before);
        c1 = kd_sync_test_counts(t);
        assert_int_equal(c1.queue, c0.queue);
    }

    /* 4096: rename the search base, then write */
    {
        g_autoptr(KdSyncState) s0 = kd_sync_test_state(t);
        guint refreshes = kd_sync_get_refresh_count(t->sync);

        kd_sync_test_ldif(t, "dn: ou=People,dc=example,dc=org\n"
                             "changetype: modrdn\nnewrdn: ou=Moved\n"
                             "deleteoldrdn: 1\n");
        kd_sync_test_ldif(t, "dn: uid=u8,ou=Moved,dc=example,dc=org\n"
                             "changetype: modify\nreplace: sn\nsn: Y\n");
        kd_sync_test_wait_refresh_gen(t, s0->refresh_gen + 1);
        /* base gone: nothing may be deleted meanwhile */
        g_usleep(500000);
        assert_true(kd_sync_test_present(t, 8));
        kd_sync_test_ldif(t, "dn: ou=Moved,dc=example,dc=org\n"
                             "changetype: modrdn\nnewrdn: ou=People\n"
                             "deleteoldrdn: 1\n");
        kd_sync_test_wait_refreshes(t, refreshes + 1);
        kd_sync_test_wait_same(t);
    }
    kd_sync_test_run_stop(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syncrepl_refresh_phases),
        cmocka_unit_test(test_syncrepl_stale_cookie_with_reloadhint),
        cmocka_unit_test(test_syncrepl_persist_edge_cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
