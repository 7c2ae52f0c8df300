/*
 * syncrepl-test: the harness of the syncrepl integration tests. A
 * KdSyncTest is a slapd-only sandbox with users uid=uN,ou=People (mail
 * uN@example.org), a store in the sandbox directory, and the consumer
 * configured with the test filter, bound as the service DN. Every helper
 * fails the current cmocka test on error; every wait is bounded (15 s).
 */
#ifndef KOLABD_TESTS_SYNCREPL_TEST_H
#define KOLABD_TESTS_SYNCREPL_TEST_H

#include <glib.h>

#include "ldap-sync.h"
#include "sandbox/sandbox.h"
#include "store.h"

typedef struct {
    guint sessionlog; /* 0: sandbox default */
    gboolean reloadhint;
    guint n_users;      /* added with ldapadd: u1..uN */
    guint n_bulk;       /* loaded with slapadd before start: b1..bN */
    guint bulk_padding; /* bytes of "description" per bulk entry */
} KdSyncTestOptions;

typedef struct {
    KdSandbox *sb;
    char *store_path;
    char *base; /* ou=People,<BASE_DN> */
    char *root_pw;
    char *service_pw;
    GHashTable *uuids; /* user number -> 16-byte uuid (cache) */
    /* background consumer (kd_sync_test_run_start) */
    KdSync *sync;
    GCancellable *cancel;
    GThread *thread;
} KdSyncTest;

KdSyncTest *kd_sync_test_new(const KdSyncTestOptions *opts);
void kd_sync_test_free(KdSyncTest *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSyncTest, kd_sync_test_free)

/* Consumer parameters bound as the identity in sandbox keys @dn_key /
 * @pw_key (e.g. "SERVICE_DN", "SERVICE_PW_FILE"); strings owned by @t or
 * static. The password is stored in *@pw_out (g_free). */
void kd_sync_test_params(KdSyncTest *t, const char *dn_key, const char *pw_key,
                         KdSyncParams *params, char **pw_out);

/* One refreshOnly as the service DN; fails the test on error. */
void kd_sync_test_refresh(KdSyncTest *t, gboolean use_cookie);
gboolean kd_sync_test_refresh_as(KdSyncTest *t, const char *dn_key,
                                 const char *pw_key, gboolean use_cookie,
                                 GError **error);

/* Store present objects == plain search (fail / wait up to 15 s). */
void kd_sync_test_assert_same(KdSyncTest *t);
void kd_sync_test_wait_same(KdSyncTest *t);
/* Same, with a store at @store_path; returns the diff or NULL. */
char *kd_sync_test_diff(KdSyncTest *t, const char *store_path);

GBytes *kd_sync_test_cookie(KdSyncTest *t);
KdSyncState *kd_sync_test_state(KdSyncTest *t);
KdStoreCounts kd_sync_test_counts(KdSyncTest *t);
/* gen of the work row of user @n (0: none); whether it is present. */
gint64 kd_sync_test_work_gen(KdSyncTest *t, guint n);
gboolean kd_sync_test_present(KdSyncTest *t, guint n);

/* Directory writes as the root DN. */
void kd_sync_test_ldif(KdSyncTest *t, const char *ldif);
void kd_sync_test_add_users(KdSyncTest *t, guint first, guint count);
void kd_sync_test_delete_user(KdSyncTest *t, guint n);
void kd_sync_test_set_mail(KdSyncTest *t, guint n, const char *mail);
/* kd-sandbox CMD DIR ARGS... (NULL-terminated). */
void kd_sync_test_ctl(KdSyncTest *t, const char *cmd,
                      ...) G_GNUC_NULL_TERMINATED;

/* kd_sync_run on a thread with backoff 100 ms .. 1 s; stop joins it. */
void kd_sync_test_run_start(KdSyncTest *t);
void kd_sync_test_run_stop(KdSyncTest *t);
void kd_sync_test_wait_refreshes(KdSyncTest *t, guint n);
void kd_sync_test_wait_dn(KdSyncTest *t, guint n, const char *dn);
void kd_sync_test_wait_cookie_change(KdSyncTest *t, GBytes *before);
void kd_sync_test_wait_refresh_gen(KdSyncTest *t, gint64 gen);

#endif /* KOLABD_TESTS_SYNCREPL_TEST_H */
