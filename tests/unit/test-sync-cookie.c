/* Unit tests for kolabd/ldap-sync-cookie.c (per-SID cookie merging) and
 * the decision of kolabd/ldap-sync-watchdog.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ldap-sync-cookie.h"
#include "ldap-sync-watchdog.h"

#define CSN(t, sid) "20261130" t ".000000Z#000000#" sid "#000000"

static GBytes *
cookie(const char *text)
{
    return g_bytes_new(text, strlen(text));
}

static char *
text_of(GBytes *b)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(b, &len);

    return g_strndup(data, len);
}

static void
test_sync_cookie_csn_sid(void **state)
{
    (void)state;
    assert_int_equal(kd_sync_csn_sid(CSN("101010", "001")), 1);
    assert_int_equal(kd_sync_csn_sid(CSN("101010", "fff")), 0xfff);
    assert_int_equal(kd_sync_csn_sid(CSN("101010", "000")), 0);
    assert_int_equal(kd_sync_csn_sid("20261130101010.000000Z#000000#1g#0"),
                     -1);
    assert_int_equal(kd_sync_csn_sid("20261130101010.000000Z#000000#001"),
                     -1);
    assert_int_equal(kd_sync_csn_sid("20261130101010#000000#001#000000"), -1);
    assert_int_equal(kd_sync_csn_sid("garbage"), -1);
    assert_int_equal(kd_sync_csn_sid(""), -1);
    assert_int_equal(kd_sync_csn_sid(NULL), -1);
}

static void
test_sync_cookie_csns_parse(void **state)
{
    g_autoptr(GBytes) c1 = cookie("rid=000,sid=001,csn=" CSN("101010", "001")
                                  ";" CSN("101011", "002"));
    g_autoptr(GBytes) c2 = cookie("rid=000,csn=" CSN("101010", "000")
                                  ",delcsn=" CSN("101009", "000"));
    g_autoptr(GBytes) bad = cookie("rid=000,csn=notacsn");
    g_autoptr(GBytes) none = cookie("rid=000");
    g_autoptr(GBytes) nul = g_bytes_new("rid=000\0,csn=x", 14);
    g_auto(GStrv) l1 = kd_sync_cookie_csns(c1);
    g_auto(GStrv) l2 = kd_sync_cookie_csns(c2);

    (void)state;
    assert_non_null(l1);
    assert_int_equal(g_strv_length(l1), 2);
    assert_string_equal(l1[1], CSN("101011", "002"));
    assert_non_null(l2);
    assert_int_equal(g_strv_length(l2), 1);
    assert_string_equal(l2[0], CSN("101010", "000"));
    assert_null(kd_sync_cookie_csns(bad));
    assert_null(kd_sync_cookie_csns(none));
    assert_null(kd_sync_cookie_csns(nul));
    assert_null(kd_sync_cookie_csns(NULL));
}

/* A single provider: the newer cookie is kept byte for byte. */
static void
test_sync_cookie_merge_single_provider_keeps_next(void **state)
{
    g_autoptr(GBytes) base = cookie("rid=000,csn=" CSN("101010", "000"));
    g_autoptr(GBytes) next = cookie("rid=000,csn=" CSN("101011", "000"));
    g_autoptr(GBytes) out = kd_sync_cookie_merge(base, next);
    g_autoptr(GBytes) first = kd_sync_cookie_merge(NULL, next);

    (void)state;
    assert_true(out == next);
    assert_true(first == next);
    assert_null(kd_sync_cookie_merge(base, NULL));
}

/* A persist cookie of SID 2 must not drop SID 1's CSN. */
static void
test_sync_cookie_merge_keeps_every_sid(void **state)
{
    g_autoptr(GBytes) base = cookie("rid=000,sid=001,csn=" CSN("101010", "001")
                                    ";" CSN("101010", "002"));
    g_autoptr(GBytes) next = cookie("rid=000,sid=001,csn=" CSN("101020",
                                                               "002"));
    g_autoptr(GBytes) out = kd_sync_cookie_merge(base, next);
    g_autofree char *text = text_of(out);
    g_autoptr(GBytes) next2 = cookie("rid=000,sid=001,csn=" CSN("101030",
                                                                "001"));
    g_autoptr(GBytes) out2 = kd_sync_cookie_merge(out, next2);
    g_autofree char *text2 = text_of(out2);

    (void)state;
    assert_string_equal(text, "rid=000,sid=001,csn=" CSN("101010", "001") ";"
                              CSN("101020", "002"));
    assert_string_equal(text2, "rid=000,sid=001,csn=" CSN("101030", "001") ";"
                               CSN("101020", "002"));
}

/* An older CSN of a SID never replaces a newer one. */
static void
test_sync_cookie_merge_never_goes_back(void **state)
{
    g_autoptr(GBytes) base = cookie("rid=000,csn=" CSN("101050", "001") ";"
                                    CSN("101050", "002"));
    g_autoptr(GBytes) next = cookie("rid=000,csn=" CSN("101040", "002"));
    g_autoptr(GBytes) out = kd_sync_cookie_merge(base, next);
    g_autofree char *text = text_of(out);

    (void)state;
    assert_string_equal(text, "rid=000,csn=" CSN("101050", "001") ";"
                              CSN("101050", "002"));
}

/* Cookies that are not slapd's are opaque: the newer one wins. */
static void
test_sync_cookie_merge_opaque(void **state)
{
    g_autoptr(GBytes) base = cookie("rid=000,csn=" CSN("101050", "001"));
    g_autoptr(GBytes) next = cookie("opaque-token-17");
    g_autoptr(GBytes) out = kd_sync_cookie_merge(base, next);
    g_autoptr(GBytes) out2 = kd_sync_cookie_merge(next, base);

    (void)state;
    assert_true(out == next);
    assert_true(out2 == base);
}

static void
test_sync_cookie_csns_ahead(void **state)
{
    char *ctx[] = {(char *)CSN("101050", "001"), (char *)CSN("101040", "002"), NULL};
    char *seen_all[] = {(char *)CSN("101050", "001"), (char *)CSN("101040", "002"), NULL};
    char *seen_old[] = {(char *)CSN("101050", "001"), (char *)CSN("101030", "002"), NULL};
    char *seen_one[] = {(char *)CSN("101050", "001"), NULL};
    char *accepted[] = {(char *)CSN("101040", "002"), NULL};
    char *junk[] = {(char *)"garbage", NULL};
    int sid = -1;

    (void)state;
    assert_false(kd_sync_csns_ahead(ctx, seen_all, NULL, NULL));
    assert_true(kd_sync_csns_ahead(ctx, seen_old, NULL, &sid));
    assert_int_equal(sid, 2);
    assert_true(kd_sync_csns_ahead(ctx, seen_one, NULL, NULL));
    assert_true(kd_sync_csns_ahead(ctx, NULL, NULL, NULL));
    assert_false(kd_sync_csns_ahead(ctx, seen_old, accepted, NULL));
    assert_false(kd_sync_csns_ahead(junk, NULL, NULL, NULL));
}

/* ---- watchdog decision ------------------------------------------------ */

static KdSyncWatchdog *
watchdog(void)
{
    KdLdapParams p = {0};

    p.uri = "ldap://127.0.0.1:9/";
    return kd_sync_watchdog_new(&p, "ou=People,dc=example,dc=org",
                                LDAP_SCOPE_SUBTREE, NULL, 60);
}

/* Messages flowing: no read needed, never a reconnect. */
static void
test_sync_watchdog_busy_search_is_fine(void **state)
{
    g_autoptr(KdSyncWatchdog) w = watchdog();
    g_autoptr(GBytes) c = cookie("rid=000,csn=" CSN("101010", "000"));
    char *ctx[] = {(char *)CSN("101050", "000"), NULL};

    (void)state;
    kd_sync_watchdog_search_started(w, 10);
    for (guint64 m = 11; m < 20; m++) {
        assert_int_equal(
            kd_sync_watchdog_decide(w, m, c, ctx, NULL, NULL),
            KD_WATCHDOG_OK);
    }
}

/* Ahead and silent at two checks in a row: probe, not before. */
static void
test_sync_watchdog_ahead_and_silent_twice(void **state)
{
    g_autoptr(KdSyncWatchdog) w = watchdog();
    g_autoptr(GBytes) c = cookie("rid=000,csn=" CSN("101010", "000"));
    char *ctx[] = {(char *)CSN("101050", "000"), NULL};
    char *same[] = {(char *)CSN("101010", "000"), NULL};
    g_autofree char *reason = NULL;

    (void)state;
    kd_sync_watchdog_search_started(w, 5);
    /* idle and up to date: fine however often */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            kd_sync_watchdog_decide(w, 5, c, same, NULL, NULL),
            KD_WATCHDOG_OK);
    }
    assert_int_equal(kd_sync_watchdog_decide(w, 5, c, ctx, NULL, NULL),
                     KD_WATCHDOG_OK);
    assert_int_equal(kd_sync_watchdog_decide(w, 5, c, ctx, NULL, &reason),
                     KD_WATCHDOG_PROBE);
    assert_null(reason);
}

/* A message between the two checks clears the suspicion. */
static void
test_sync_watchdog_message_clears_suspicion(void **state)
{
    g_autoptr(KdSyncWatchdog) w = watchdog();
    g_autoptr(GBytes) c = cookie("rid=000,csn=" CSN("101010", "000"));
    char *ctx[] = {(char *)CSN("101050", "000"), NULL};

    (void)state;
    kd_sync_watchdog_search_started(w, 5);
    assert_int_equal(kd_sync_watchdog_decide(w, 5, c, ctx, NULL, NULL),
                     KD_WATCHDOG_OK);
    assert_int_equal(kd_sync_watchdog_decide(w, 6, c, ctx, NULL, NULL),
                     KD_WATCHDOG_OK);
    assert_int_equal(kd_sync_watchdog_decide(w, 6, c, ctx, NULL, NULL),
                     KD_WATCHDOG_OK);
    assert_int_equal(kd_sync_watchdog_decide(w, 6, c, ctx, NULL, NULL),
                     KD_WATCHDOG_PROBE);
}

/* No answer at all while silent: reconnect at once; a refusal turns the
 * watchdog off instead (a dead sync must not follow a bad ACL). */
static void
test_sync_watchdog_read_failures(void **state)
{
    g_autoptr(KdSyncWatchdog) w = watchdog();
    g_autoptr(KdSyncWatchdog) w2 = watchdog();
    g_autoptr(GBytes) c = cookie("rid=000,csn=" CSN("101010", "000"));
    g_autoptr(GError) timeout =
        g_error_new(KD_LDAP_ERROR, LDAP_TIMEOUT, "timed out");
    g_autoptr(GError) refused =
        g_error_new(KD_LDAP_ERROR, LDAP_NO_SUCH_ATTRIBUTE, "no contextCSN");
    g_autofree char *reason = NULL;

    (void)state;
    kd_sync_watchdog_search_started(w, 5);
    assert_int_equal(
        kd_sync_watchdog_decide(w, 5, c, NULL, timeout, &reason),
        KD_WATCHDOG_RECONNECT);
    assert_non_null(strstr(reason, "timed out"));
    /* not silent: a failed read means nothing */
    assert_int_equal(
        kd_sync_watchdog_decide(w, 9, c, NULL, timeout, NULL),
        KD_WATCHDOG_OK);
    kd_sync_watchdog_search_started(w2, 5);
    assert_int_equal(
        kd_sync_watchdog_decide(w2, 5, c, NULL, refused, NULL),
        KD_WATCHDOG_OFF);
    assert_false(kd_sync_watchdog_due(w2));
}

/* A probe that found nothing behind a contextCSN makes it stop counting
 * (writes the search does not see); newer CSNs count again. */
static void
test_sync_watchdog_accepts_foreign_writes(void **state)
{
    g_autoptr(KdSyncWatchdog) w = watchdog();
    g_autoptr(GBytes) c = cookie("rid=000,csn=" CSN("101010", "000"));
    char *ctx[] = {(char *)CSN("101050", "000"), NULL};
    char *later[] = {(char *)CSN("101060", "000"), NULL};

    (void)state;
    kd_sync_watchdog_search_started(w, 1);
    kd_sync_watchdog_decide(w, 1, c, ctx, NULL, NULL);
    assert_int_equal(kd_sync_watchdog_decide(w, 1, c, ctx, NULL, NULL),
                     KD_WATCHDOG_PROBE);
    kd_sync_watchdog_accept(w, ctx);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(kd_sync_watchdog_decide(w, 1, c, ctx, NULL, NULL),
                         KD_WATCHDOG_OK);
    }
    kd_sync_watchdog_decide(w, 1, c, later, NULL, NULL);
    assert_int_equal(kd_sync_watchdog_decide(w, 1, c, later, NULL, NULL),
                     KD_WATCHDOG_PROBE);
}

/* A cookie that is not slapd's: the watchdog cannot compare; it stops. */
static void
test_sync_watchdog_opaque_cookie_turns_off(void **state)
{
    g_autoptr(KdSyncWatchdog) w = watchdog();
    g_autoptr(GBytes) c = cookie("opaque");
    char *ctx[] = {(char *)CSN("101050", "000"), NULL};

    (void)state;
    kd_sync_watchdog_search_started(w, 1);
    assert_int_equal(kd_sync_watchdog_decide(w, 1, c, ctx, NULL, NULL),
                     KD_WATCHDOG_OFF);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_cookie_csn_sid),
        cmocka_unit_test(test_sync_cookie_csns_parse),
        cmocka_unit_test(test_sync_cookie_merge_single_provider_keeps_next),
        cmocka_unit_test(test_sync_cookie_merge_keeps_every_sid),
        cmocka_unit_test(test_sync_cookie_merge_never_goes_back),
        cmocka_unit_test(test_sync_cookie_merge_opaque),
        cmocka_unit_test(test_sync_cookie_csns_ahead),
        cmocka_unit_test(test_sync_watchdog_busy_search_is_fine),
        cmocka_unit_test(test_sync_watchdog_ahead_and_silent_twice),
        cmocka_unit_test(test_sync_watchdog_message_clears_suspicion),
        cmocka_unit_test(test_sync_watchdog_read_failures),
        cmocka_unit_test(test_sync_watchdog_accepts_foreign_writes),
        cmocka_unit_test(test_sync_watchdog_opaque_cookie_turns_off),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
