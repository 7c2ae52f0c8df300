/*
 * test-placement-props: statistical properties of the built-in plugins
 * over 10,000 synthetic mails, through the real loader and chain:
 *
 * - hash is stable: two independent chains agree on every mail;
 * - adding a third equal backend moves mails only onto the new backend,
 *   and 30-37% of them (a third is expected);
 * - weights 1:3 give shares within 2 points of 25%/75%;
 * - least-used keeps counts within 1 while filling empty backends;
 * - a down backend never gets a mailbox from any plugin.
 *
 * The mails are a fixed sequence, so every run sees the same numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "placement.h"
#include "rendezvous.h"
#include "unit/placement-fixture.h"

#define DIR placement_fixture_plugin_dir()
#define N_MAILS 10000

static KdPlacementRequest *requests[N_MAILS];

static int
setup(void **state)
{
    guint i;

    (void)state;
    for (i = 0; i < N_MAILS; i++) {
        g_autofree char *mail = g_strdup_printf("user%05u.%c@dom%u.example.org",
                                                i, 'a' + (i % 26), i % 37);

        requests[i] = placement_fixture_user(mail);
    }
    return 0;
}

static int
teardown(void **state)
{
    guint i;

    (void)state;
    for (i = 0; i < N_MAILS; i++) {
        g_clear_pointer(&requests[i], kd_placement_request_free);
    }
    return 0;
}

/* Places every mail; @out[i] gets the index chosen for mail i. */
static void
place_all(KdPlacement *chain, KolabdBackend *b, gsize n, gsize *out)
{
    guint i;

    for (i = 0; i < N_MAILS; i++) {
        out[i] = placement_fixture_choose(chain, requests[i], b, n);
    }
}

static void
test_placement_props_hash_is_stable(void **state)
{
    g_autoptr(KdPlacement) one = placement_fixture_chain(DIR, "hash", NULL);
    g_autoptr(KdPlacement) two = placement_fixture_chain(DIR, "hash", NULL);
    g_autofree gsize *first = g_new(gsize, N_MAILS);
    g_autofree gsize *second = g_new(gsize, N_MAILS);
    g_autofree gsize *again = g_new(gsize, N_MAILS);
    KolabdBackend b[3], c[3];
    guint i;

    (void)state;
    placement_fixture_backend(&b[0], "imap1", 100);
    placement_fixture_backend(&b[1], "imap2", 100);
    placement_fixture_backend(&b[2], "imap3", 100);
    memcpy(c, b, sizeof b);
    /* the second host lists its backends in another order */
    c[0] = b[2];
    c[2] = b[0];
    place_all(one, b, 3, first);
    place_all(two, c, 3, second);
    place_all(one, b, 3, again);
    for (i = 0; i < N_MAILS; i++) {
        assert_string_equal(b[first[i]].name, c[second[i]].name);
        assert_int_equal(first[i], again[i]);
    }
}

static void
test_placement_props_hash_adding_backend_moves_its_share(void **state)
{
    g_autoptr(KdPlacement) chain = placement_fixture_chain(DIR, "hash", NULL);
    g_autofree gsize *before = g_new(gsize, N_MAILS);
    g_autofree gsize *after = g_new(gsize, N_MAILS);
    KolabdBackend b[3];
    guint moved = 0;
    guint i;

    (void)state;
    placement_fixture_backend(&b[0], "imap1", 1);
    placement_fixture_backend(&b[1], "imap2", 1);
    placement_fixture_backend(&b[2], "imap3", 1);
    place_all(chain, b, 2, before);
    place_all(chain, b, 3, after);
    for (i = 0; i < N_MAILS; i++) {
        if (before[i] != after[i]) {
            /* a mail moves only to the new backend */
            assert_int_equal(after[i], 2);
            moved++;
        }
    }
    print_message("moved %u of %u mails (%.1f%%)\n", moved, N_MAILS,
                  100.0 * moved / N_MAILS);
    assert_in_range(moved, N_MAILS * 30 / 100, N_MAILS * 37 / 100);
}

static void
test_placement_props_hash_follows_weights(void **state)
{
    g_autoptr(KdPlacement) chain = placement_fixture_chain(DIR, "hash", NULL);
    g_autofree gsize *out = g_new(gsize, N_MAILS);
    KolabdBackend b[2];
    guint light = 0;
    guint i;

    (void)state;
    placement_fixture_backend(&b[0], "small", 1);
    placement_fixture_backend(&b[1], "large", 3);
    place_all(chain, b, 2, out);
    for (i = 0; i < N_MAILS; i++) {
        light += out[i] == 0;
    }
    print_message("weight 1: %u, weight 3: %u\n", light, N_MAILS - light);
    assert_in_range(light, N_MAILS * 23 / 100, N_MAILS * 27 / 100);
}

static void
test_placement_props_least_used_fills_evenly(void **state)
{
    g_autoptr(KdPlacement) chain =
        placement_fixture_chain(DIR, "least-used", NULL);
    KolabdBackend b[3];
    guint i, j;

    (void)state;
    placement_fixture_backend(&b[0], "imap1", 1);
    placement_fixture_backend(&b[1], "imap2", 1);
    placement_fixture_backend(&b[2], "imap3", 1);
    for (i = 0; i < N_MAILS; i++) {
        guint64 lo = G_MAXUINT64, hi = 0;

        placement_fixture_choose(chain, requests[i], b, 3);
        for (j = 0; j < 3; j++) {
            lo = MIN(lo, b[j].mailbox_count);
            hi = MAX(hi, b[j].mailbox_count);
        }
        assert_true(hi - lo <= 1);
    }
    assert_int_equal(
        b[0].mailbox_count + b[1].mailbox_count + b[2].mailbox_count, N_MAILS);
}

static void
test_placement_props_down_backend_gets_nothing(void **state)
{
    static const char *const chains[] = {"hash", "least-used", "domain",
                                         "attribute, hash"};
    g_autofree gsize *out = g_new(gsize, N_MAILS);
    guint c, i;

    (void)state;
    for (c = 0; c < G_N_ELEMENTS(chains); c++) {
        g_autoptr(KdPlacement) chain = NULL;
        KolabdBackend b[3];

        placement_fixture_backend(&b[0], "imap1", 1);
        placement_fixture_backend(&b[1], "imap2", 5);
        placement_fixture_backend(&b[2], "imap3", 1);
        b[1].up = 0;
        chain =
            placement_fixture_chain(DIR, chains[c], "domain.dom1.example.org",
                                    "imap2, imap1, imap3", NULL);
        if (strcmp(chains[c], "domain") == 0) {
            guint placed = 0;

            /* only dom1 (every 37th mail) has a rule: others get none */
            for (i = 0; i < N_MAILS; i++) {
                gsize index;

                if (kd_placement_choose(chain, requests[i], b, 3, &index, NULL,
                                        NULL)) {
                    assert_int_not_equal(index, 1);
                    placed++;
                }
            }
            assert_int_equal(placed, (N_MAILS + 35) / 37);
            assert_int_equal(b[1].mailbox_count, 0);
            continue;
        }
        place_all(chain, b, 3, out);
        for (i = 0; i < N_MAILS; i++) {
            assert_int_not_equal(out[i], 1);
        }
        assert_int_equal(b[1].mailbox_count, 0);
    }
}

/* The hash itself: deterministic and spread over all 64 bits. */
static void
test_placement_props_rendezvous_hash_mixes(void **state)
{
    guint ones[64] = {0};
    guint i, bit;

    (void)state;
    assert_true(kd_rendezvous_hash("abc", 3) == kd_rendezvous_hash("abc", 3));
    assert_true(kd_rendezvous_hash("abc", 3) != kd_rendezvous_hash("abd", 3));
    assert_true(kd_rendezvous_hash("", 0) != kd_rendezvous_hash("\0", 1));
    for (i = 0; i < N_MAILS; i++) {
        g_autofree char *text = g_strdup_printf("key%u", i);
        guint64 h = kd_rendezvous_hash(text, strlen(text));

        for (bit = 0; bit < 64; bit++) {
            ones[bit] += (h >> bit) & 1;
        }
    }
    for (bit = 0; bit < 64; bit++) {
        assert_in_range(ones[bit], N_MAILS * 47 / 100, N_MAILS * 53 / 100);
    }
    /* a long name and key still hash (through the long path) */
    {
        g_autofree char *longname = g_strnfill(600, 'n');

        assert_true(kd_rendezvous_score(longname, 1, "k") > 0.0);
        assert_true(kd_rendezvous_score("n", 0, "k") == 0.0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_props_hash_is_stable),
        cmocka_unit_test(
            test_placement_props_hash_adding_backend_moves_its_share),
        cmocka_unit_test(test_placement_props_hash_follows_weights),
        cmocka_unit_test(test_placement_props_least_used_fills_evenly),
        cmocka_unit_test(test_placement_props_down_backend_gets_nothing),
        cmocka_unit_test(test_placement_props_rendezvous_hash_mixes),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
