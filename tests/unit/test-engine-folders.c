/* Unit tests for kolabd/engine-folders.c: which users the murder's
 * listing shows with every default folder. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine-private.h"
#include "folders.h"

static KdFolderSpec specs[] = {
    {.name = (char *)"Sent", .name_mutf7 = (char *)"Sent"},
    {.name = (char *)"Drafts", .name_mutf7 = (char *)"Drafts"},
    {.name = (char *)"Gel\xc3\xb6schte Objekte",
     .name_mutf7 = (char *)"Gel&APY-schte Objekte"},
};

static GPtrArray *
folder_list(guint n)
{
    GPtrArray *folders = g_ptr_array_new();

    for (guint i = 0; i < n; i++) {
        g_ptr_array_add(folders, &specs[i % G_N_ELEMENTS(specs)]);
    }
    return folders;
}

static GHashTable *
listing(const char *const *pairs)
{
    GHashTable *all = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; pairs[i] != NULL; i += 2) {
        g_hash_table_insert(all, (char *)pairs[i], (char *)pairs[i + 1]);
    }
    return all;
}

static void
test_engine_folders_complete_users(void **state)
{
    static const char *const pairs[] = {
        /* a: complete, with a nested folder that does not matter */
        "user/a@d.org", "s1", "user/a/Sent@d.org", "s1",
        "user/a/Drafts@d.org", "s1", "user/a/Gel&APY-schte Objekte@d.org",
        "s1", "user/a/Sent/old@d.org", "s1",
        /* b: Sent lives on another server than the INBOX */
        "user/b@d.org", "s1", "user/b/Sent@d.org", "S2",
        "user/b/Drafts@d.org", "s1", "user/b/Gel&APY-schte Objekte@d.org",
        "s1",
        /* c: Drafts missing */
        "user/c@d.org", "s2", "user/c/Sent@d.org", "s2",
        "user/c/Gel&APY-schte Objekte@d.org", "s2",
        /* e: no domain, server names differ only in case */
        "user/e", "s1", "user/e/Sent", "S1", "user/e/Drafts", "s1",
        "user/e/Gel&APY-schte Objekte", "s1",
        /* f: folders but no INBOX in the listing */
        "user/f/Sent@d.org", "s1", "user/f/Drafts@d.org", "s1",
        "user/f/Gel&APY-schte Objekte@d.org", "s1",
        "shared/x@d.org", "s1", "user/@d.org", "s1", "user//@d.org", "s1",
        NULL};
    g_autoptr(GPtrArray) folders = folder_list(3);
    g_autoptr(GHashTable) all = listing(pairs);
    KdFolderIndex *index = kd_folder_index_new(folders, all);

    (void)state;
    assert_non_null(index);
    assert_true(kd_folder_index_complete(index, "user/a@d.org"));
    assert_false(kd_folder_index_complete(index, "user/b@d.org"));
    assert_false(kd_folder_index_complete(index, "user/c@d.org"));
    assert_true(kd_folder_index_complete(index, "user/e"));
    assert_false(kd_folder_index_complete(index, "user/f@d.org"));
    assert_false(kd_folder_index_complete(index, "user/zz@d.org"));
    assert_false(kd_folder_index_complete(index, NULL));
    assert_false(kd_folder_index_complete(NULL, "user/a@d.org"));
    kd_folder_index_free(index);
}

/* No default folders, or more than a mask holds: no index (ask Cyrus). */
static void
test_engine_folders_no_index(void **state)
{
    static const char *const pairs[] = {"user/a@d.org", "s1", NULL};
    g_autoptr(GPtrArray) none = folder_list(0);
    g_autoptr(GPtrArray) many = folder_list(65);
    g_autoptr(GHashTable) all = listing(pairs);

    (void)state;
    assert_null(kd_folder_index_new(none, all));
    assert_null(kd_folder_index_new(many, all));
    assert_null(kd_folder_index_new(NULL, all));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_folders_complete_users),
        cmocka_unit_test(test_engine_folders_no_index),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
