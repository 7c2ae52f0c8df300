/* Unit tests for ldap-sync-parse (BER of the RFC 4533 controls) and
 * ldap-sync-dispatch (the state machine, fed hand-built events, on a real
 * in-memory store). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ldap-sync-dispatch.h"
#include "ldap-sync-parse.h"
#include "ldap-sync.h"
#include "store.h"

/* ---- helpers --------------------------------------------------------- */

static void
uuid_n(guint8 uuid[KD_UUID_LEN], guint n)
{
    memset(uuid, 0x11, KD_UUID_LEN);
    uuid[14] = (guint8)(n >> 8);
    uuid[15] = (guint8)n;
}

/* Test classifier: an entry with mail is a user, anything else not ours. */
static KdObject *
classify(const guint8 uuid[KD_UUID_LEN], const KdEntry *entry, gpointer data)
{
    const char *mail = kd_entry_first(entry, "mail");
    KdObject *o;

    if (mail == NULL) {
        return NULL;
    }
    o = kd_object_new(uuid);
    o->kind = KD_OBJECT_USER;
    o->dn = g_strdup(kd_entry_get_dn(entry));
    o->mail = g_ascii_strdown(mail, -1);
    o->mailbox = g_strdup_printf("user/%s", o->mail);
    return o;
}

static GBytes *
bytes(const char *s)
{
    return s != NULL ? g_bytes_new(s, strlen(s)) : NULL;
}

static KdSyncEvent *
ev_entry(int state, guint n, const char *mail, const char *cookie)
{
    KdSyncEvent *ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);
    g_autofree char *dn = g_strdup_printf("uid=u%u,dc=example,dc=org", n);

    ev->state = state;
    uuid_n(ev->uuid, n);
    ev->entry = kd_entry_new(state == KD_SYNC_STATE_DELETE ? "" : dn);
    if (mail != NULL) {
        kd_entry_add(ev->entry, "mail", mail);
    }
    ev->cookie = bytes(cookie);
    return ev;
}

static KdSyncEvent *
ev_info(KdSyncEventType type, const char *cookie, gboolean done)
{
    KdSyncEvent *ev = kd_sync_event_new(type);

    ev->cookie = bytes(cookie);
    ev->refresh_done = done;
    return ev;
}

static KdSyncEvent *
ev_idset(gboolean deletes, const char *cookie, guint first, guint count)
{
    KdSyncEvent *ev = kd_sync_event_new(KD_SYNC_EV_ID_SET);

    ev->refresh_deletes = deletes;
    ev->cookie = bytes(cookie);
    ev->uuids = g_byte_array_new();
    for (guint i = 0; i < count; i++) {
        guint8 u[KD_UUID_LEN];

        uuid_n(u, first + i);
        g_byte_array_append(ev->uuids, u, KD_UUID_LEN);
    }
    return ev;
}

static KdSyncEvent *
ev_done(int rc, const char *cookie, gboolean deletes, gboolean control)
{
    KdSyncEvent *ev = kd_sync_event_new(KD_SYNC_EV_DONE);

    ev->rc = rc;
    ev->cookie = bytes(cookie);
    ev->refresh_deletes = deletes;
    ev->has_done_control = control;
    return ev;
}

typedef struct {
    KdStore *store;
    KdSyncDispatch *d;
    guint notified;
} Fixture;

static int
setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    KdSyncTuning tuning = {
        .delete_max_count = 0,
        .delete_max_percent = 0,
        .batch_max = 3,
        .batch_ms = 60000,
        .refresh_batch = 2,
    };

    f->store = kd_store_open(":memory:", NULL);
    assert_non_null(f->store);
    f->d = kd_sync_dispatch_new(f->store, &tuning, classify, NULL);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;

    kd_sync_dispatch_free(f->d);
    kd_store_free(f->store);
    g_free(f);
    return 0;
}

static void
on_notify(guint n, gpointer data)
{
    ((Fixture *)data)->notified += n;
}

/* Feeds @ev (taking ownership) and returns the verdict. */
static KdSyncNext
feed(Fixture *f, KdSyncEvent *ev)
{
    g_autoptr(KdSyncEvent) owned = ev;
    g_autoptr(GError) error = NULL;
    KdSyncNext next = kd_sync_dispatch_event(f->d, owned, &error);

    if (next == KD_SYNC_NEXT_CONTINUE || next == KD_SYNC_NEXT_REFRESH_DONE) {
        assert_null(error);
    } else {
        assert_non_null(error);
    }
    return next;
}

static void
start(Fixture *f, const char *hash, gboolean persist, const char *expect_cookie)
{
    g_autoptr(GBytes) cookie = NULL;
    g_autoptr(GError) error = NULL;

    assert_true(
        kd_sync_dispatch_start(f->d, hash, persist, TRUE, &cookie, &error));
    if (expect_cookie == NULL) {
        assert_null(cookie);
    } else {
        g_autoptr(GBytes) want = bytes(expect_cookie);

        assert_non_null(cookie);
        assert_true(g_bytes_equal(cookie, want));
    }
}

static char *
stored_cookie(Fixture *f)
{
    g_autoptr(KdSyncState) s = kd_store_get_sync_state(f->store, NULL);

    if (s->cookie == NULL) {
        return NULL;
    }
    return g_strndup(g_bytes_get_data(s->cookie, NULL),
                     g_bytes_get_size(s->cookie));
}

static gboolean
present(Fixture *f, guint n)
{
    guint8 u[KD_UUID_LEN];
    gboolean p = FALSE;

    uuid_n(u, n);
    kd_object_free(kd_store_get_object(f->store, u, &p, NULL));
    return p;
}

static void
assert_cookie(Fixture *f, const char *want)
{
    g_autofree char *got = stored_cookie(f);

    if (want == NULL) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static KdStoreCounts
counts(Fixture *f)
{
    KdStoreCounts c;

    assert_true(kd_store_counts(f->store, &c, NULL));
    return c;
}

/* Initial load of users 1..n with cookie "c1" (refreshAndPersist). */
static void
load(Fixture *f, guint n)
{
    start(f, "h", TRUE, NULL);
    for (guint i = 1; i <= n; i++) {
        g_autofree char *mail = g_strdup_printf("u%u@example.org", i);

        assert_int_equal(feed(f, ev_entry(KD_SYNC_STATE_ADD, i, mail, NULL)),
                         KD_SYNC_NEXT_CONTINUE);
    }
    assert_int_equal(feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, "c1", TRUE)),
                     KD_SYNC_NEXT_CONTINUE);
    assert_false(kd_sync_dispatch_refreshing(f->d));
}

/* ---- BER ------------------------------------------------------------- */

static void
test_ldap_sync_encode_request(void **state)
{
    struct berval v;
    BerElement *ber;
    ber_int_t mode, hint;
    struct berval cookie;
    g_autoptr(GBytes) c = bytes("rid=000,csn=x");

    assert_true(kd_sync_encode_request(LDAP_SYNC_REFRESH_AND_PERSIST, c, TRUE,
                                       &v, NULL));
    ber = ber_init(&v);
    assert_int_not_equal(ber_scanf(ber, "{emb}", &mode, &cookie, &hint),
                         LBER_ERROR);
    assert_int_equal(mode, LDAP_SYNC_REFRESH_AND_PERSIST);
    assert_int_equal(cookie.bv_len, 13);
    assert_memory_equal(cookie.bv_val, "rid=000,csn=x", 13);
    assert_true(hint);
    ber_free(ber, 1);
    ber_memfree(v.bv_val);

    /* No (or an empty) cookie: the field is omitted. */
    g_bytes_unref(c);
    c = bytes("");
    assert_true(
        kd_sync_encode_request(LDAP_SYNC_REFRESH_ONLY, c, TRUE, &v, NULL));
    ber = ber_init(&v);
    assert_int_not_equal(ber_scanf(ber, "{eb}", &mode, &hint), LBER_ERROR);
    assert_int_equal(mode, LDAP_SYNC_REFRESH_ONLY);
    assert_true(hint);
    ber_free(ber, 1);
    ber_memfree(v.bv_val);
}

static struct berval *
flatten(BerElement *ber)
{
    struct berval *bv = NULL;

    assert_int_not_equal(ber_flatten(ber, &bv), -1);
    ber_free(ber, 1);
    return bv;
}

static void
test_ldap_sync_decode_state(void **state)
{
    guint8 u[KD_UUID_LEN];
    struct berval uuid = {KD_UUID_LEN, (char *)u};
    struct berval short_uuid = {15, (char *)u};
    struct berval cookie = {3, (char *)"c42"};
    BerElement *ber;
    struct berval *bv;
    g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);
    g_autoptr(KdSyncEvent) ev2 = kd_sync_event_new(KD_SYNC_EV_ENTRY);
    g_autoptr(GError) error = NULL;

    uuid_n(u, 7);
    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{eOO}", (ber_int_t)2, &uuid, &cookie);
    bv = flatten(ber);
    assert_true(kd_sync_decode_state(bv, ev, NULL));
    ber_bvfree(bv);
    assert_int_equal(ev->state, KD_SYNC_STATE_MODIFY);
    assert_memory_equal(ev->uuid, u, KD_UUID_LEN);
    assert_int_equal(g_bytes_get_size(ev->cookie), 3);

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{eO}", (ber_int_t)1, &short_uuid);
    bv = flatten(ber);
    assert_false(kd_sync_decode_state(bv, ev2, &error));
    ber_bvfree(bv);
    assert_true(g_error_matches(error, KD_SYNC_PARSE_ERROR, 0));
    assert_non_null(strstr(error->message, "15 bytes"));
}

static void
test_ldap_sync_decode_info(void **state)
{
    struct berval cookie = {2, (char *)"c9"};
    BerVarray set = NULL;
    BerElement *ber;
    struct berval *bv;
    guint8 u[KD_UUID_LEN];

    /* newcookie */
    {
        g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);

        ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "tO", (ber_tag_t)0x80, &cookie);
        bv = flatten(ber);
        assert_true(kd_sync_decode_info(bv, ev, NULL));
        ber_bvfree(bv);
        assert_int_equal(ev->type, KD_SYNC_EV_NEWCOOKIE);
        assert_int_equal(g_bytes_get_size(ev->cookie), 2);
    }
    /* refreshPresent without fields: refreshDone defaults to TRUE */
    {
        g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);

        ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "t{}", (ber_tag_t)0xa2);
        bv = flatten(ber);
        assert_true(kd_sync_decode_info(bv, ev, NULL));
        ber_bvfree(bv);
        assert_int_equal(ev->type, KD_SYNC_EV_REFRESH_PRESENT);
        assert_true(ev->refresh_done);
        assert_null(ev->cookie);
    }
    /* refreshDelete with cookie and refreshDone FALSE */
    {
        g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);

        ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "t{Ob}", (ber_tag_t)0xa1, &cookie, (ber_int_t)0);
        bv = flatten(ber);
        assert_true(kd_sync_decode_info(bv, ev, NULL));
        ber_bvfree(bv);
        assert_int_equal(ev->type, KD_SYNC_EV_REFRESH_DELETE);
        assert_false(ev->refresh_done);
        assert_non_null(ev->cookie);
    }
    /* syncIdSet with refreshDeletes TRUE and 300 UUIDs */
    {
        g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);

        for (guint i = 0; i < 300; i++) {
            struct berval one = {KD_UUID_LEN, (char *)u};
            struct berval copy;

            uuid_n(u, i);
            ber_bvarray_add(&set, ber_dupbv(&copy, &one));
        }
        ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "t{Ob[W]}", (ber_tag_t)0xa3, &cookie, (ber_int_t)1,
                   set);
        ber_bvarray_free(set);
        bv = flatten(ber);
        assert_true(kd_sync_decode_info(bv, ev, NULL));
        ber_bvfree(bv);
        assert_int_equal(ev->type, KD_SYNC_EV_ID_SET);
        assert_true(ev->refresh_deletes);
        assert_int_equal(kd_sync_event_n_uuids(ev), 300);
        assert_int_equal(ev->uuids->data[299 * KD_UUID_LEN + 15], 299 & 0xff);
    }
    /* syncIdSet without refreshDeletes: FALSE */
    {
        g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);
        struct berval one = {KD_UUID_LEN, (char *)u};
        struct berval copy;

        set = NULL;
        ber_bvarray_add(&set, ber_dupbv(&copy, &one));
        ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "t{[W]}", (ber_tag_t)0xa3, set);
        ber_bvarray_free(set);
        bv = flatten(ber);
        assert_true(kd_sync_decode_info(bv, ev, NULL));
        ber_bvfree(bv);
        assert_false(ev->refresh_deletes);
        assert_int_equal(kd_sync_event_n_uuids(ev), 1);
    }
    /* unknown tag and garbage */
    {
        g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_ENTRY);
        struct berval junk = {3, (char *)"\xa7\x01\x00"};
        struct berval trunc = {4, (char *)"\xa3\x10\x04\x05"};

        assert_false(kd_sync_decode_info(&junk, ev, NULL));
        assert_false(kd_sync_decode_info(&trunc, ev, NULL));
    }
}

static void
test_ldap_sync_decode_done(void **state)
{
    struct berval cookie = {2, (char *)"c5"};
    BerElement *ber;
    struct berval *bv;
    g_autoptr(KdSyncEvent) ev = kd_sync_event_new(KD_SYNC_EV_DONE);
    g_autoptr(KdSyncEvent) ev2 = kd_sync_event_new(KD_SYNC_EV_DONE);

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{Ob}", &cookie, (ber_int_t)1);
    bv = flatten(ber);
    assert_true(kd_sync_decode_done(bv, ev, NULL));
    ber_bvfree(bv);
    assert_true(ev->has_done_control);
    assert_true(ev->refresh_deletes);
    assert_int_equal(g_bytes_get_size(ev->cookie), 2);

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{}");
    bv = flatten(ber);
    assert_true(kd_sync_decode_done(bv, ev2, NULL));
    ber_bvfree(bv);
    assert_false(ev2->refresh_deletes);
    assert_null(ev2->cookie);
}

/* ---- dispatcher ------------------------------------------------------ */

static void
test_ldap_sync_initial_load_sweeps_bogus(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdObject) bogus = NULL;
    guint8 u[KD_UUID_LEN];

    uuid_n(u, 999);
    bogus = kd_object_new(u);
    bogus->kind = KD_OBJECT_USER;
    bogus->mail = g_strdup("bogus@example.org");
    assert_true(kd_store_put_object(f->store, bogus, NULL, NULL));
    kd_sync_dispatch_set_notify(f->d, on_notify, f);

    start(f, "h", TRUE, NULL);
    for (guint i = 1; i <= 5; i++) {
        g_autofree char *mail = g_strdup_printf("u%u@example.org", i);

        feed(f, ev_entry(KD_SYNC_STATE_ADD, i, mail, NULL));
        /* entries are committed in batches, the cookie is not */
        assert_cookie(f, NULL);
    }
    assert_true(present(f, 1));
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, "c1", TRUE));
    assert_cookie(f, "c1");
    assert_false(present(f, 999));
    assert_int_equal(counts(f).users_present, 5);
    assert_int_equal(counts(f).absent, 1);
    assert_int_equal(f->notified, 6);
    assert_int_equal(kd_sync_dispatch_refresh_count(f->d), 1);
}

static void
test_ldap_sync_lost_connection_discards_refresh(void **state)
{
    Fixture *f = *state;

    load(f, 3);
    start(f, "h", TRUE, "c1");
    feed(f, ev_idset(FALSE, NULL, 1, 1));
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 4, "u4@example.org", "c2"));
    kd_sync_dispatch_abort(f->d);
    /* no sweep (2 and 3 were not listed), no cookie */
    assert_true(present(f, 2));
    assert_true(present(f, 3));
    assert_cookie(f, "c1");
    assert_false(kd_store_in_transaction(f->store));
}

static void
test_ldap_sync_delete_phase(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdObject) o = NULL;
    guint8 u[KD_UUID_LEN];

    load(f, 4);
    start(f, "h", FALSE, "c1");
    feed(f, ev_idset(TRUE, "c1,delcsn=x", 1, 1));
    feed(f, ev_idset(TRUE, "c1,delcsn=y", 2, 1));
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 3, "new3@example.org", NULL));
    assert_cookie(f, "c1");
    assert_int_equal(feed(f, ev_done(0, "c2", TRUE, TRUE)),
                     KD_SYNC_NEXT_REFRESH_DONE);
    assert_false(present(f, 1));
    assert_false(present(f, 2));
    assert_true(present(f, 4)); /* delete phase: no sweep */
    uuid_n(u, 3);
    o = kd_store_get_object(f->store, u, NULL, NULL);
    assert_string_equal(o->mail, "new3@example.org");
    assert_cookie(f, "c2");
}

static void
test_ldap_sync_present_phase(void **state)
{
    Fixture *f = *state;

    load(f, 6);
    start(f, "h", TRUE, "c1");
    feed(f, ev_idset(FALSE, NULL, 2, 3)); /* 2, 3, 4 */
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 6, "u6@example.org", NULL));
    feed(f, ev_entry(KD_SYNC_STATE_PRESENT, 5, NULL, NULL));
    feed(f, ev_info(KD_SYNC_EV_REFRESH_PRESENT, "c3", TRUE));
    assert_false(present(f, 1));
    for (guint i = 2; i <= 6; i++) {
        assert_true(present(f, i));
    }
    assert_cookie(f, "c3");
    assert_int_equal(counts(f).held, 0);
}

/* `kolabd resync` and the daemon may both consume into one store: a
 * refresh must not take an object another consumer wrote after this
 * refresh's search started for deleted. */
static void
test_ldap_sync_sweep_spares_concurrent_writes(void **state)
{
    Fixture *f = *state;
    static const guint8 other_uuid[KD_UUID_LEN] = {0xee, 7};
    g_autoptr(KdObject) other = kd_object_new(other_uuid);

    load(f, 4);
    start(f, "h", TRUE, "c1");
    g_usleep(2000);
    other->kind = KD_OBJECT_USER;
    other->mail = g_strdup("late@example.org");
    other->mailbox = g_strdup("user/late@example.org");
    assert_true(kd_store_put_object(f->store, other, NULL, NULL));
    feed(f, ev_idset(FALSE, NULL, 2, 3)); /* 2, 3, 4 */
    feed(f, ev_info(KD_SYNC_EV_REFRESH_PRESENT, "c3", TRUE));
    assert_false(present(f, 1));
    for (guint i = 2; i <= 4; i++) {
        assert_true(present(f, i));
    }
    {
        gboolean p = FALSE;

        kd_object_free(kd_store_get_object(f->store, other_uuid, &p, NULL));
        assert_true(p);
    }
}

static void
test_ldap_sync_guard_holds_mass_delete(void **state)
{
    Fixture *f = *state;
    KdSyncTuning tuning = {
        .delete_max_count = 3, .batch_max = 1, .refresh_batch = 10};
    KdSyncDispatch *d2;

    load(f, 10);
    kd_sync_dispatch_free(f->d);
    f->d = d2 = kd_sync_dispatch_new(f->store, &tuning, classify, NULL);
    start(f, "h", FALSE, "c1");
    feed(f, ev_idset(FALSE, NULL, 1, 2));
    assert_int_equal(feed(f, ev_done(0, "c2", FALSE, TRUE)),
                     KD_SYNC_NEXT_REFRESH_DONE);
    /* 8 inferred deletes > 3: marked absent but held */
    assert_int_equal(counts(f).absent, 8);
    assert_int_equal(counts(f).held, 8);
    assert_int_equal(kd_sync_dispatch_held_count(d2), 8);
    assert_cookie(f, "c2");
}

static void
test_ldap_sync_guard_percent_and_empty_set(void **state)
{
    Fixture *f = *state;
    KdSyncTuning tuning = {
        .delete_max_percent = 25, .batch_max = 1, .refresh_batch = 10};

    load(f, 8);
    kd_sync_dispatch_free(f->d);
    f->d = kd_sync_dispatch_new(f->store, &tuning, classify, NULL);
    /* 2 of 8 = 25 %: allowed */
    start(f, "h", FALSE, "c1");
    feed(f, ev_idset(FALSE, NULL, 1, 6));
    feed(f, ev_done(0, "c2", FALSE, TRUE));
    assert_int_equal(counts(f).absent, 2);
    assert_int_equal(counts(f).held, 0);
    /* 3 of 6 = 50 %: held */
    start(f, "h", FALSE, "c2");
    feed(f, ev_idset(FALSE, NULL, 1, 3));
    feed(f, ev_done(0, "c3", FALSE, TRUE));
    assert_int_equal(counts(f).held, 3);

    /* An empty present set is held even without limits. */
    tuning.delete_max_percent = 0;
    kd_sync_dispatch_free(f->d);
    f->d = kd_sync_dispatch_new(f->store, &tuning, classify, NULL);
    start(f, "h", FALSE, "c3");
    feed(f, ev_done(0, "c4", FALSE, TRUE));
    assert_int_equal(counts(f).users_present, 0);
    assert_int_equal(counts(f).held, 6);
}

static void
test_ldap_sync_persist_batches_cookie(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;

    load(f, 2);
    kd_sync_dispatch_set_notify(f->d, on_notify, f);
    f->notified = 0;
    feed(f, ev_entry(KD_SYNC_STATE_MODIFY, 1, "x1@example.org", "c2"));
    feed(f, ev_info(KD_SYNC_EV_NEWCOOKIE, "c3", TRUE));
    assert_cookie(f, "c1");
    assert_true(kd_sync_dispatch_flush_due(f->d) >= 0);
    /* third message closes the batch (batch_max 3) with its cookie */
    feed(f, ev_entry(KD_SYNC_STATE_DELETE, 2, NULL, "c4"));
    assert_cookie(f, "c4");
    assert_false(present(f, 2));
    assert_int_equal(f->notified, 2);
    assert_int_equal(kd_sync_dispatch_flush_due(f->d), -1);

    /* newcookie only: no work, cookie after a flush */
    feed(f, ev_info(KD_SYNC_EV_NEWCOOKIE, "c5", TRUE));
    assert_cookie(f, "c4");
    assert_true(kd_sync_dispatch_flush(f->d, &error));
    assert_cookie(f, "c5");
    assert_int_equal(f->notified, 2);

    /* filter match lost: classifier says "not ours" -> absent */
    feed(f, ev_entry(KD_SYNC_STATE_MODIFY, 1, NULL, "c6"));
    kd_sync_dispatch_abort(f->d); /* persist batch is complete: kept */
    assert_false(present(f, 1));
    assert_cookie(f, "c6");
}

#define MPR_CSN(t, sid) "20261130" t ".000000Z#000000#" sid "#000000"

/* Against two providers (SIDs 1 and 2) every persist cookie carries only
 * its own SID's CSN; the stored cookie must keep both, also across a
 * reconnect (else slapd answers with a full present phase). */
static void
test_ldap_sync_persist_merges_sids(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    const char *both = "rid=000,csn=" MPR_CSN("100000", "001") ";"
                       MPR_CSN("100000", "002");

    start(f, "h", TRUE, NULL);
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 1, "u1@example.org", NULL));
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, both, TRUE));
    assert_cookie(f, both);
    feed(f, ev_entry(KD_SYNC_STATE_MODIFY, 1, "x1@example.org",
                     "rid=000,csn=" MPR_CSN("100010", "002")));
    assert_true(kd_sync_dispatch_flush(f->d, &error));
    assert_cookie(f, "rid=000,csn=" MPR_CSN("100000", "001") ";"
                     MPR_CSN("100010", "002"));
    feed(f, ev_info(KD_SYNC_EV_NEWCOOKIE,
                    "rid=000,csn=" MPR_CSN("100020", "001"), TRUE));
    kd_sync_dispatch_abort(f->d); /* connection lost: batch kept */
    assert_cookie(f, "rid=000,csn=" MPR_CSN("100020", "001") ";"
                     MPR_CSN("100010", "002"));
    /* the reconnect sends the merged cookie; a delta refresh follows */
    start(f, "h", TRUE,
          "rid=000,csn=" MPR_CSN("100020", "001") ";"
          MPR_CSN("100010", "002"));
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 2, "u2@example.org", NULL));
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE,
                    "rid=000,csn=" MPR_CSN("100030", "002"), TRUE));
    assert_cookie(f, "rid=000,csn=" MPR_CSN("100020", "001") ";"
                     MPR_CSN("100030", "002"));
    assert_true(present(f, 1));
    assert_true(present(f, 2));
}

static void
test_ldap_sync_persist_idset_is_guarded(void **state)
{
    Fixture *f = *state;
    KdSyncTuning tuning = {
        .delete_max_count = 2, .batch_max = 1, .refresh_batch = 10};

    load(f, 10);
    kd_sync_dispatch_free(f->d);
    f->d = kd_sync_dispatch_new(f->store, &tuning, classify, NULL);
    start(f, "h", TRUE, "c1");
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, NULL, TRUE));
    feed(f, ev_idset(TRUE, "c2", 1, 5));
    assert_int_equal(counts(f).held, 5);
    feed(f, ev_idset(TRUE, "c3", 6, 1));
    assert_int_equal(counts(f).held, 5);
    assert_false(present(f, 6));
    /* explicit deletes are never held */
    feed(f, ev_entry(KD_SYNC_STATE_DELETE, 7, NULL, "c4"));
    feed(f, ev_entry(KD_SYNC_STATE_DELETE, 8, NULL, "c5"));
    feed(f, ev_entry(KD_SYNC_STATE_DELETE, 9, NULL, "c6"));
    assert_int_equal(counts(f).held, 5);
    assert_int_equal(counts(f).absent, 9);
    assert_cookie(f, "c6");
}

static void
test_ldap_sync_refresh_required_drops_cookie(void **state)
{
    Fixture *f = *state;

    load(f, 3);
    /* 4096 with a cookie in Sync Done: restart with it, keep ours */
    start(f, "h", TRUE, "c1");
    assert_int_equal(
        feed(f, ev_done(LDAP_SYNC_REFRESH_REQUIRED, "cx", FALSE, TRUE)),
        KD_SYNC_NEXT_RESTART);
    assert_cookie(f, "c1");
    start(f, "h", TRUE, "cx");
    /* 4096 without: the cookie is dropped durably */
    assert_int_equal(
        feed(f, ev_done(LDAP_SYNC_REFRESH_REQUIRED, NULL, FALSE, FALSE)),
        KD_SYNC_NEXT_RESTART);
    assert_cookie(f, NULL);
    start(f, "h", TRUE, NULL);
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 1, "u1@example.org", NULL));
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, "c9", TRUE));
    /* authoritative refresh, but every inferred delete held */
    assert_int_equal(counts(f).absent, 2);
    assert_int_equal(counts(f).held, 2);
    assert_cookie(f, "c9");
    {
        g_autoptr(KdSyncState) s = kd_store_get_sync_state(f->store, NULL);

        assert_null(s->hold_reason);
    }
}

static void
test_ldap_sync_provider_reset_53(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdSyncState) s = NULL;

    load(f, 3);
    start(f, "h", TRUE, "c1");
    assert_int_equal(
        feed(f, ev_done(LDAP_UNWILLING_TO_PERFORM, NULL, FALSE, FALSE)),
        KD_SYNC_NEXT_RECONNECT);
    s = kd_store_get_sync_state(f->store, NULL);
    assert_null(s->cookie);
    assert_non_null(strstr(s->hold_reason, "53"));
    start(f, "h", TRUE, NULL);
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, "c2", TRUE));
    assert_int_equal(counts(f).held, 3);
}

static void
test_ldap_sync_size_limit_changes_nothing(void **state)
{
    Fixture *f = *state;

    load(f, 5);
    start(f, "h", FALSE, "c1");
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 1, "u1@example.org", NULL));
    assert_int_equal(
        feed(f, ev_done(LDAP_SIZELIMIT_EXCEEDED, NULL, FALSE, FALSE)),
        KD_SYNC_NEXT_LONG_BACKOFF);
    assert_int_equal(counts(f).users_present, 5);
    assert_cookie(f, "c1");
    /* a refresh cut short without Sync Done is a protocol error too */
    start(f, "h", FALSE, "c1");
    assert_int_equal(feed(f, ev_done(0, NULL, FALSE, FALSE)),
                     KD_SYNC_NEXT_RECONNECT);
    assert_int_equal(counts(f).users_present, 5);
}

static void
test_ldap_sync_params_change_holds(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdSyncState) s = NULL;

    load(f, 3); /* first run with hash "h": nothing held */
    assert_int_equal(counts(f).held, 0);
    start(f, "other", TRUE, NULL); /* cookie dropped */
    s = kd_store_get_sync_state(f->store, NULL);
    assert_string_equal(s->params_hash, "other");
    feed(f, ev_entry(KD_SYNC_STATE_ADD, 1, "u1@example.org", NULL));
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, "c2", TRUE));
    assert_int_equal(counts(f).held, 2);
}

static void
test_ldap_sync_empty_cookie_keeps_old(void **state)
{
    Fixture *f = *state;

    load(f, 2);
    start(f, "h", FALSE, "c1");
    assert_int_equal(feed(f, ev_done(0, "", TRUE, TRUE)),
                     KD_SYNC_NEXT_REFRESH_DONE);
    assert_cookie(f, "c1");
    /* up to date: no cookie at all */
    start(f, "h", TRUE, "c1");
    feed(f, ev_info(KD_SYNC_EV_REFRESH_DELETE, NULL, TRUE));
    assert_cookie(f, "c1");
    assert_int_equal(counts(f).users_present, 2);
    /* the server ends the persistent search: reconnect */
    assert_int_equal(feed(f, ev_done(0, NULL, FALSE, FALSE)),
                     KD_SYNC_NEXT_RECONNECT);
}

static void
test_ldap_sync_refresh_end_outside_refresh(void **state)
{
    Fixture *f = *state;

    load(f, 1);
    assert_int_equal(feed(f, ev_info(KD_SYNC_EV_REFRESH_PRESENT, "c2", TRUE)),
                     KD_SYNC_NEXT_RECONNECT);
    assert_int_equal(counts(f).users_present, 1);
    assert_int_equal(feed(f, ev_done(LDAP_OTHER, NULL, FALSE, FALSE)),
                     KD_SYNC_NEXT_RECONNECT);
}

static void
test_ldap_sync_params_hash(void **state)
{
    KdSyncParams p;
    g_autofree char *h1 = NULL, *h2 = NULL, *h3 = NULL;
    const char *attrs[] = {"mail", NULL};

    kd_sync_params_init(&p);
    p.ldap.uri = "ldap://127.0.0.1:1/";
    p.base = "dc=example,dc=org";
    h1 = kd_sync_params_hash(&p);
    p.ldap.bind_pw = "secret"; /* not part of the identity */
    h2 = kd_sync_params_hash(&p);
    p.attrs = attrs;
    h3 = kd_sync_params_hash(&p);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_int_equal(strlen(h1), 64);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ldap_sync_encode_request),
        cmocka_unit_test(test_ldap_sync_decode_state),
        cmocka_unit_test(test_ldap_sync_decode_info),
        cmocka_unit_test(test_ldap_sync_decode_done),
        cmocka_unit_test(test_ldap_sync_params_hash),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_ldap_sync_initial_load_sweeps_bogus),
        T(test_ldap_sync_lost_connection_discards_refresh),
        T(test_ldap_sync_delete_phase),
        T(test_ldap_sync_present_phase),
        T(test_ldap_sync_sweep_spares_concurrent_writes),
        T(test_ldap_sync_guard_holds_mass_delete),
        T(test_ldap_sync_guard_percent_and_empty_set),
        T(test_ldap_sync_persist_batches_cookie),
        T(test_ldap_sync_persist_merges_sids),
        T(test_ldap_sync_persist_idset_is_guarded),
        T(test_ldap_sync_refresh_required_drops_cookie),
        T(test_ldap_sync_provider_reset_53),
        T(test_ldap_sync_size_limit_changes_nothing),
        T(test_ldap_sync_params_change_holds),
        T(test_ldap_sync_empty_cookie_keeps_old),
        T(test_ldap_sync_refresh_end_outside_refresh),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
