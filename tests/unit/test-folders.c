/* Unit tests for kolabd/folders.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "folders.h"
#include "object.h"

static const KdFolderSpec *
find(GPtrArray *list, const char *name)
{
    for (guint i = 0; i < list->len; i++) {
        const KdFolderSpec *s = list->pdata[i];

        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

static void
test_folders_default_table(void **state)
{
    g_autoptr(GPtrArray) list = kd_folders_default();
    static const struct {
        const char *name, *priv, *shared;
    } want[] = {
        {"Calendar", "event.default", "event"},
        {"Configuration", "configuration.default", "configuration"},
        {"Contacts", "contact.default", "contact"},
        {"Drafts", "mail.drafts", NULL},
        {"Files", "file.default", "file"},
        {"Journal", "journal.default", "journal"},
        {"Notes", "note.default", "note"},
        {"Sent", "mail.sentitems", NULL},
        {"Spam", "mail.junkemail", NULL},
        {"Tasks", "task.default", "task"},
        {"Trash", "mail.wastebasket", NULL},
    };

    assert_int_equal(list->len, G_N_ELEMENTS(want));
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const KdFolderSpec *s = find(list, want[i].name);

        assert_non_null(s);
        assert_string_equal(s->name_mutf7, want[i].name);
        assert_string_equal(s->private_type, want[i].priv);
        if (want[i].shared == NULL) {
            assert_null(s->shared_type);
        } else {
            assert_string_equal(s->shared_type, want[i].shared);
        }
        assert_true(s->subscribe);
        assert_int_equal(s->quota_kib, KD_QUOTA_UNSET);
        assert_null(s->partition);
        assert_null(s->acl);
        assert_true(kd_folders_check_type(s->private_type,
                                          strlen(s->private_type), NULL));
    }
    assert_null(find(list, "Archive"));
}

static void
test_folders_spec_encodes_utf8(void **state)
{
    g_autoptr(KdFolderSpec) s = kd_folder_spec_new("Entw\xc3\xbcrfe/Alt & Neu",
                                                   NULL);
    g_autoptr(KdFolderSpec) copy = NULL;

    assert_non_null(s);
    assert_string_equal(s->name_mutf7, "Entw&APw-rfe/Alt &- Neu");
    copy = kd_folder_spec_copy(s);
    assert_string_equal(copy->name, s->name);
    assert_string_equal(copy->name_mutf7, s->name_mutf7);
}

static void
test_folders_check_path_rejects_hostile(void **state)
{
    static const struct {
        const char *path;
        gsize len;
    } bad[] = {
        {"", 0},
        {"/Sent", 0},
        {"Sent/", 0},
        {"a//b", 0},
        {"a/./b", 0},
        {"..", 0},
        {"a/../b", 0},
        {"a..b", 0},
        {"Sent\r\nA1 DELETE user/x", 0},
        {"Se\0nt", 5},
        {"Sent*", 0},
        {"Sent%", 0},
        {"Se\"nt", 0},
        {"Se\\nt", 0},
        {"a^b", 0},
        {"a@example.org", 0},
        {"\xff\xfe", 0},
        {"a\xc2\x85" "b", 0}, /* U+0085 NEL */
        {"a\tb", 0},
        {"a\x7f", 0},
    };
    char long_name[600];

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        gsize len = bad[i].len ? bad[i].len : strlen(bad[i].path);

        if (kd_folders_check_path(bad[i].path, len, &error)) {
            fail_msg("accepted path %zu", i);
        }
        assert_true(g_error_matches(error, KD_FOLDERS_ERROR,
                                    KD_FOLDERS_ERROR_NAME));
    }
    memset(long_name, 'a', sizeof long_name);
    assert_true(kd_folders_check_path(long_name, 490, NULL));
    assert_false(kd_folders_check_path(long_name, 491, NULL));
    assert_null(kd_folder_spec_new("bad*name", NULL));
}

static void
test_folders_check_path_accepts_ordinary(void **state)
{
    static const char *good[] = {
        "Sent", "Calendar/Personal Calendar", "john.doe", ".hidden",
        "Gel\xc3\xb6schte Objekte", "a.b/c-d_e+f", "~x", "&",
        "\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;

        if (!kd_folders_check_path(good[i], strlen(good[i]), &error)) {
            fail_msg("refused %s: %s", good[i], error->message);
        }
    }
}

static void
test_folders_check_type(void **state)
{
    assert_true(kd_folders_check_type("mail", 4, NULL));
    assert_true(kd_folders_check_type("event.default", 13, NULL));
    assert_false(kd_folders_check_type("", 0, NULL));
    assert_false(kd_folders_check_type("ev\"ent", 6, NULL));
    assert_false(kd_folders_check_type("event\r\n", 7, NULL));
    assert_false(kd_folders_check_type("a b", 3, NULL));
}

static void
test_folders_mailbox_name(void **state)
{
    g_autofree char *a = kd_folders_mailbox("user/john@example.org", "Sent");
    g_autofree char *b = kd_folders_mailbox("user/john", "Calendar/Work");
    g_autofree char *c =
        kd_folders_mailbox("user/john.doe@example.org", "Entw&APw-rfe");

    assert_string_equal(a, "user/john/Sent@example.org");
    assert_string_equal(b, "user/john/Calendar/Work");
    assert_string_equal(c, "user/john.doe/Entw&APw-rfe@example.org");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folders_default_table),
        cmocka_unit_test(test_folders_spec_encodes_utf8),
        cmocka_unit_test(test_folders_check_path_rejects_hostile),
        cmocka_unit_test(test_folders_check_path_accepts_ordinary),
        cmocka_unit_test(test_folders_check_type),
        cmocka_unit_test(test_folders_mailbox_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
