/* syncrepl-test: see syncrepl-test.h. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ldap-conn.h"
#include "syncrepl-common.h"
#include "syncrepl-test.h"

#define WAIT_US (15 * G_USEC_PER_SEC)

static void
check(GError *error, const char *what)
{
    if (error != NULL) {
        fail_msg("%s: %s", what, error->message);
    }
}

static char *
user_ldif(guint n, const char *prefix)
{
    return g_strdup_printf("dn: uid=%s%u,ou=People,dc=example,dc=org\n"
                           "objectClass: inetOrgPerson\n"
                           "uid: %s%u\ncn: User %u\nsn: %u\n"
                           "mail: %s%u@example.org\n\n",
                           prefix, n, prefix, n, n, n, prefix, n);
}

KdSyncTest *
kd_sync_test_new(const KdSyncTestOptions *opts)
{
    KdSandboxOptions so = {.no_cyrus = TRUE};
    g_autoptr(GError) error = NULL;
    g_autofree char *bulk = NULL;
    KdSyncTest *t = g_new0(KdSyncTest, 1);

    so.sessionlog = opts->sessionlog;
    so.reloadhint = opts->reloadhint;
    if (opts->n_bulk > 0) {
        g_autoptr(GString) ldif = g_string_new(NULL);
        int fd = g_file_open_tmp("kd-sync-bulk-XXXXXX.ldif", &bulk, &error);

        check(error, "temporary LDIF");
        close(fd);
        g_autofree char *pad = g_strnfill(opts->bulk_padding, 'x');

        for (guint i = 1; i <= opts->n_bulk; i++) {
            g_autofree char *e = user_ldif(i, "b");

            g_string_append(ldif, e);
            if (opts->bulk_padding > 0) {
                /* before the blank line that ends the entry */
                g_string_truncate(ldif, ldif->len - 1);
                g_string_append_printf(ldif, "description: %s\n\n", pad);
            }
        }
        g_file_set_contents(bulk, ldif->str, (gssize)ldif->len, &error);
        check(error, "temporary LDIF");
        so.data_ldif = bulk;
    }
    t->sb = kd_sandbox_start(&so, &error);
    if (bulk != NULL) {
        g_unlink(bulk);
    }
    check(error, "kd_sandbox_start");
    t->store_path = g_build_filename(kd_sandbox_dir(t->sb), "kolabd.db", NULL);
    t->base =
        g_strdup_printf("ou=People,%s", kd_sandbox_need(t->sb, "BASE_DN"));
    t->root_pw = kd_sandbox_read_secret(t->sb, "ROOT_PW_FILE", &error);
    check(error, "root password");
    g_strchomp(t->root_pw);
    t->service_pw = kd_sandbox_read_secret(t->sb, "SERVICE_PW_FILE", &error);
    check(error, "service password");
    g_strchomp(t->service_pw);
    t->uuids = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    if (opts->n_users > 0) {
        kd_sync_test_add_users(t, 1, opts->n_users);
    }
    return t;
}

void
kd_sync_test_free(KdSyncTest *t)
{
    if (t == NULL) {
        return;
    }
    if (t->thread != NULL) {
        kd_sync_test_run_stop(t);
    }
    kd_sandbox_free(t->sb);
    g_free(t->store_path);
    g_free(t->base);
    g_free(t->root_pw);
    g_free(t->service_pw);
    g_hash_table_destroy(t->uuids);
    g_free(t);
}

void
kd_sync_test_params(KdSyncTest *t, const char *dn_key, const char *pw_key,
                    KdSyncParams *params, char **pw_out)
{
    g_autoptr(GError) error = NULL;

    *pw_out = kd_sandbox_read_secret(t->sb, pw_key, &error);
    check(error, pw_key);
    g_strchomp(*pw_out);
    kd_sync_params_init(params);
    params->ldap.uri = kd_sandbox_need(t->sb, "LDAP_URI");
    params->ldap.bind_dn = kd_sandbox_need(t->sb, dn_key);
    params->ldap.bind_pw = *pw_out;
    params->base = t->base;
    params->filter = KD_TEST_FILTER;
    params->attrs = kd_test_attrs;
    params->tuning.delete_max_percent = 20;
    params->backoff_min_ms = 100;
    params->backoff_max_ms = 1000;
}

gboolean
kd_sync_test_refresh_as(KdSyncTest *t, const char *dn_key, const char *pw_key,
                        gboolean use_cookie, GError **error)
{
    g_autofree char *pw = NULL;
    g_autoptr(KdSync) sync = NULL;
    KdSyncParams params;

    kd_sync_test_params(t, dn_key, pw_key, &params, &pw);
    sync = kd_sync_new(&params, t->store_path, kd_test_classify, NULL, error);
    if (sync == NULL) {
        return FALSE;
    }
    return kd_sync_refresh_once(sync, use_cookie, NULL, error);
}

void
kd_sync_test_refresh(KdSyncTest *t, gboolean use_cookie)
{
    g_autoptr(GError) error = NULL;

    kd_sync_test_refresh_as(t, "SERVICE_DN", "SERVICE_PW_FILE", use_cookie,
                            &error);
    check(error, "refresh");
}

char *
kd_sync_test_diff(KdSyncTest *t, const char *store_path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) truth = NULL;
    g_autoptr(GHashTable) store = NULL;

    truth = kd_test_ldap_truth(kd_sandbox_need(t->sb, "LDAP_URI"),
                               kd_sandbox_need(t->sb, "ROOT_DN"), t->root_pw,
                               t->base, KD_TEST_FILTER, &error);
    check(error, "ground truth");
    store = kd_test_store_present(store_path, &error);
    check(error, "store");
    return kd_test_diff(truth, store);
}

void
kd_sync_test_assert_same(KdSyncTest *t)
{
    g_autofree char *diff = kd_sync_test_diff(t, t->store_path);

    if (diff != NULL) {
        fail_msg("store differs from LDAP: %s", diff);
    }
}

void
kd_sync_test_wait_same(KdSyncTest *t)
{
    gint64 end = g_get_monotonic_time() + WAIT_US;
    g_autofree char *diff = NULL;

    while (g_get_monotonic_time() < end) {
        g_free(diff);
        diff = kd_sync_test_diff(t, t->store_path);
        if (diff == NULL) {
            return;
        }
        g_usleep(50000);
    }
    fail_msg("store did not converge to LDAP in 15 s: %s", diff);
}

KdSyncState *
kd_sync_test_state(KdSyncTest *t)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdStore) store = kd_store_open(t->store_path, &error);
    KdSyncState *s;

    check(error, "store");
    s = kd_store_get_sync_state(store, &error);
    check(error, "sync state");
    return s;
}

GBytes *
kd_sync_test_cookie(KdSyncTest *t)
{
    g_autoptr(KdSyncState) s = kd_sync_test_state(t);

    return s->cookie != NULL ? g_bytes_ref(s->cookie) : NULL;
}

KdStoreCounts
kd_sync_test_counts(KdSyncTest *t)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdStore) store = kd_store_open(t->store_path, &error);
    KdStoreCounts c;

    check(error, "store");
    kd_store_counts(store, &c, &error);
    check(error, "counts");
    return c;
}

static const guint8 *
user_uuid(KdSyncTest *t, guint n)
{
    guint8 *uuid = g_hash_table_lookup(t->uuids, GUINT_TO_POINTER(n));
    KdLdapParams p = {.uri = kd_sandbox_need(t->sb, "LDAP_URI"),
                      .bind_dn = kd_sandbox_need(t->sb, "ROOT_DN"),
                      .bind_pw = t->root_pw};
    g_autoptr(GError) error = NULL;
    g_autoptr(LDAP) ld = NULL;
    g_autoptr(LDAPMessage) res = NULL;
    g_autofree char *filter = g_strdup_printf("(uid=u%u)", n);
    char *attrs[] = {(char *)"entryUUID", NULL};
    struct berval **v;
    LDAPMessage *e;

    if (uuid != NULL) {
        return uuid;
    }
    ld = kd_ldap_connect(&p, &error);
    check(error, "connect");
    assert_int_equal(ldap_search_ext_s(ld, kd_sandbox_need(t->sb, "BASE_DN"),
                                       LDAP_SCOPE_SUBTREE, filter, attrs, 0,
                                       NULL, NULL, NULL, 0, &res),
                     LDAP_SUCCESS);
    e = ldap_first_entry(ld, res);
    assert_non_null(e);
    v = ldap_get_values_len(ld, e, "entryUUID");
    assert_non_null(v);
    uuid = g_malloc(KD_UUID_LEN);
    {
        g_autofree char *text = g_strndup(v[0]->bv_val, v[0]->bv_len);

        assert_true(kd_uuid_from_string(text, uuid));
    }
    ldap_value_free_len(v);
    g_hash_table_insert(t->uuids, GUINT_TO_POINTER(n), uuid);
    return uuid;
}

gint64
kd_sync_test_work_gen(KdSyncTest *t, guint n)
{
    const guint8 *uuid = user_uuid(t, n);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdStore) store = kd_store_open(t->store_path, &error);
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(KdWorkItem));

    check(error, "store");
    kd_store_work_due(store, G_MAXINT64, 1000000, items, &error);
    check(error, "work");
    for (guint i = 0; i < items->len; i++) {
        KdWorkItem *it = &g_array_index(items, KdWorkItem, i);

        if (memcmp(it->uuid, uuid, KD_UUID_LEN) == 0) {
            return it->gen;
        }
    }
    return 0;
}

static KdObject *
get_object(KdSyncTest *t, guint n, gboolean *present)
{
    const guint8 *uuid = user_uuid(t, n);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdStore) store = kd_store_open(t->store_path, &error);
    KdObject *o;

    check(error, "store");
    o = kd_store_get_object(store, uuid, present, &error);
    check(error, "object");
    return o;
}

gboolean
kd_sync_test_present(KdSyncTest *t, guint n)
{
    gboolean present = FALSE;

    kd_object_free(get_object(t, n, &present));
    return present;
}

void
kd_sync_test_ldif(KdSyncTest *t, const char *ldif)
{
    g_autoptr(GError) error = NULL;

    kd_sandbox_ldapmodify(t->sb, ldif, &error);
    check(error, "ldapmodify");
}

void
kd_sync_test_add_users(KdSyncTest *t, guint first, guint count)
{
    g_autoptr(GString) ldif = g_string_new(NULL);
    g_autoptr(GError) error = NULL;

    for (guint i = first; i < first + count; i++) {
        g_autofree char *e = user_ldif(i, "u");

        g_string_append(ldif, e);
    }
    kd_sandbox_ldapadd(t->sb, ldif->str, &error);
    check(error, "ldapadd");
}

void
kd_sync_test_delete_user(KdSyncTest *t, guint n)
{
    g_autofree char *ldif = g_strdup_printf(
        "dn: uid=u%u,ou=People,dc=example,dc=org\nchangetype: delete\n", n);

    user_uuid(t, n);
    kd_sync_test_ldif(t, ldif);
}

void
kd_sync_test_set_mail(KdSyncTest *t, guint n, const char *mail)
{
    g_autofree char *ldif = g_strdup_printf(
        "dn: uid=u%u,ou=People,dc=example,dc=org\nchangetype: modify\n"
        "replace: mail\nmail: %s\n",
        n, mail);

    kd_sync_test_ldif(t, ldif);
}

void
kd_sync_test_ctl(KdSyncTest *t, const char *cmd, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    va_list ap;
    const char *a;

    g_ptr_array_add(args, (gpointer)cmd);
    va_start(ap, cmd);
    while ((a = va_arg(ap, const char *)) != NULL) {
        g_ptr_array_add(args, (gpointer)a);
    }
    va_end(ap);
    g_ptr_array_add(args, NULL);
    kd_sandbox_ctl(t->sb, (const char *const *)args->pdata, &error);
    check(error, cmd);
}

static gpointer
run_thread(gpointer data)
{
    KdSyncTest *t = data;

    kd_sync_run(t->sync, t->cancel, NULL);
    return NULL;
}

void
kd_sync_test_run_start(KdSyncTest *t)
{
    g_autofree char *pw = NULL;
    g_autoptr(GError) error = NULL;
    KdSyncParams params;

    kd_sync_test_params(t, "SERVICE_DN", "SERVICE_PW_FILE", &params, &pw);
    t->sync =
        kd_sync_new(&params, t->store_path, kd_test_classify, NULL, &error);
    check(error, "kd_sync_new");
    t->cancel = g_cancellable_new();
    t->thread = g_thread_new("sync", run_thread, t);
}

void
kd_sync_test_run_stop(KdSyncTest *t)
{
    gint64 start = g_get_monotonic_time();

    g_cancellable_cancel(t->cancel);
    g_thread_join(t->thread);
    /* cancellation is checked at least every second */
    assert_true(g_get_monotonic_time() - start < 3 * G_USEC_PER_SEC);
    t->thread = NULL;
    g_clear_object(&t->cancel);
    g_clear_pointer(&t->sync, kd_sync_free);
}

#define WAIT_FOR(cond, what)                                                   \
    do {                                                                       \
        gint64 end_ = g_get_monotonic_time() + WAIT_US;                        \
        while (!(cond)) {                                                      \
            if (g_get_monotonic_time() > end_) {                               \
                g_autofree char *e_ =                                          \
                    t->sync ? kd_sync_dup_last_error(t->sync) : NULL;          \
                fail_msg("timed out waiting for %s (last error: %s)", what,    \
                         e_ ? e_ : "none");                                    \
            }                                                                  \
            g_usleep(20000);                                                   \
        }                                                                      \
    } while (0)

void
kd_sync_test_wait_refreshes(KdSyncTest *t, guint n)
{
    WAIT_FOR(kd_sync_get_refresh_count(t->sync) >= n, "a refresh end");
}

static gboolean
has_dn(KdSyncTest *t, guint n, const char *dn)
{
    g_autoptr(KdObject) o = get_object(t, n, NULL);

    return o != NULL && g_strcmp0(o->dn, dn) == 0;
}

void
kd_sync_test_wait_dn(KdSyncTest *t, guint n, const char *dn)
{
    WAIT_FOR(has_dn(t, n, dn), dn);
}

static gboolean
cookie_differs(KdSyncTest *t, GBytes *before)
{
    g_autoptr(GBytes) now = kd_sync_test_cookie(t);

    return now != NULL && (before == NULL || !g_bytes_equal(now, before));
}

void
kd_sync_test_wait_cookie_change(KdSyncTest *t, GBytes *before)
{
    WAIT_FOR(cookie_differs(t, before), "a new cookie");
}

static gboolean
gen_reached(KdSyncTest *t, gint64 gen)
{
    g_autoptr(KdSyncState) s = kd_sync_test_state(t);

    return s->refresh_gen >= gen;
}

void
kd_sync_test_wait_refresh_gen(KdSyncTest *t, gint64 gen)
{
    WAIT_FOR(gen_reached(t, gen), "the cookie to be dropped");
}
