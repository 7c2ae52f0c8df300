/* Unit tests for kolabd/imap-quote.c and kolabd/imap-error.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "imap-quote.h"
#include "imap.h"

static void
assert_mailbox_refused(const char *name)
{
    g_autoptr(GError) error = NULL;

    if (kd_imap_quote_check_mailbox(name, FALSE, &error)) {
        fail_msg("accepted hostile mailbox name \"%s\"", name);
    }
    assert_non_null(error);
    assert_int_equal(error->code, KD_IMAP_ERROR_INVALID_NAME);
}

static void
test_imap_quote_refuses_hostile_mailboxes(void **state)
{
    (void) state;
    assert_mailbox_refused("");
    assert_mailbox_refused("user/x@example.org\r\nA1 DELETE user/y");
    assert_mailbox_refused("user/x\n@example.org");
    assert_mailbox_refused("user/x\t@example.org");
    assert_mailbox_refused("user/j\xc3\xbcrgen@example.org");
    assert_mailbox_refused("user/*@example.org");
    assert_mailbox_refused("user/%@example.org");
    assert_mailbox_refused("/user/x@example.org");
    assert_mailbox_refused("user//x@example.org");
    assert_mailbox_refused("user/x/@example.org");
    assert_mailbox_refused("user/jane@example.com/Calendar");
    assert_mailbox_refused("user/x@");
    assert_mailbox_refused(" user/x@example.org");
    assert_mailbox_refused("user/x@example.org ");
    /* not canonical modified UTF-7 */
    assert_mailbox_refused("user/&U,BTFw-&ZeVnLIqe-@example.org");
    assert_mailbox_refused("user/&AGE-@example.org");
    assert_mailbox_refused("user/a&b@example.org");
}

static void
test_imap_quote_accepts_good_mailboxes(void **state)
{
    const char *good[] = {
        "user/john@example.org",
        "user/john/Calendar@example.org",
        "user/john.doe/Sent Items@example.org",
        "user/john/Entw&APw-rfe@example.org",
        "user/john/&U,BTF2XlZyyKng-@example.org",
        "shared/Resources/Car1@example.org",
        "shared@example.org",
        "user/john",
        "a&-b",
    };
    GError *error = NULL;

    (void) state;
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        if (!kd_imap_quote_check_mailbox(good[i], FALSE, &error)) {
            fail_msg("refused %s: %s", good[i], error->message);
        }
    }
    assert_true(kd_imap_quote_check_mailbox("*", TRUE, &error));
    assert_true(kd_imap_quote_check_mailbox("user/%@example.org", TRUE,
                                            &error));
}

static char *
quoted(const char *text)
{
    GString *out = g_string_new(NULL);

    kd_imap_quote_append(out, text);
    return g_string_free(out, FALSE);
}

static void
test_imap_quote_quotes_astrings(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"user/john@example.org", "user/john@example.org"},
        {"anyone", "anyone"},
        {"Sent Items", "\"Sent Items\""},
        {"a\"b", "\"a\\\"b\""},
        {"a\\b", "\"a\\\\b\""},
        {"NIL", "\"NIL\""},
        {"nil", "\"nil\""},
        {"", "\"\""},
        {"a(b)", "\"a(b)\""},
        {"x{5}", "\"x{5}\""},
        {"*", "\"*\""},
        {"&-", "\"&-\""},
    };

    (void) state;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = quoted(cases[i].in);

        assert_string_equal(got, cases[i].out);
    }
}

static void
test_imap_quote_formats_locations(void **state)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: refused */
    } cases[] = {
        {"127.0.0.1:38143!default", "127.0.0.1:38143!default"},
        {"imap1.example.org!part-2", "imap1.example.org!part-2"},
        {"127.0.0.1:38143", "(SERVER 127.0.0.1:38143)"},
        {"127.0.0.1:38143!", "(SERVER 127.0.0.1:38143)"},
        {"!default", NULL},
        {"a!b!c", NULL},
        {"host default", NULL},
        {"host!default ", NULL},
        {"\"host\"!x", NULL},
        {"host\r\n!x", NULL},
        {"", NULL},
    };

    (void) state;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        gboolean ok;

        ok = kd_imap_quote_append_location(out, cases[i].in, &error);
        if (cases[i].out == NULL) {
            assert_false(ok);
            assert_int_equal(error->code, KD_IMAP_ERROR_INVALID_NAME);
        } else {
            assert_true(ok);
            assert_string_equal(out->str, cases[i].out);
        }
    }
}

static void
test_imap_quote_checks_rights_and_entries(void **state)
{
    (void) state;
    assert_true(kd_imap_quote_check_rights("lrswipkxtecdan", NULL));
    assert_true(kd_imap_quote_check_rights("+x", NULL));
    assert_true(kd_imap_quote_check_rights("-x", NULL));
    assert_true(kd_imap_quote_check_rights("", NULL));
    assert_false(kd_imap_quote_check_rights("all", NULL));
    assert_false(kd_imap_quote_check_rights("read", NULL));
    assert_false(kd_imap_quote_check_rights("+append", NULL));
    assert_false(kd_imap_quote_check_rights("Delete", NULL));
    assert_false(kd_imap_quote_check_rights("lrs x", NULL));
    assert_false(kd_imap_quote_check_rights("lrs\r\n", NULL));
    assert_false(kd_imap_quote_check_rights(NULL, NULL));

    assert_true(
        kd_imap_quote_check_entry("/shared/vendor/kolab/folder-type", NULL));
    assert_true(
        kd_imap_quote_check_entry("/private/vendor/kolab/folder-type", NULL));
    assert_false(kd_imap_quote_check_entry("/vendor/kolab/folder-type", NULL));
    assert_false(kd_imap_quote_check_entry("/shared/a b", NULL));
    assert_false(kd_imap_quote_check_entry("/shared/a\"b", NULL));
    assert_false(kd_imap_quote_check_entry("/shared//a", NULL));
    assert_false(kd_imap_quote_check_entry("/shared/a/", NULL));
    assert_false(kd_imap_quote_check_entry("/shared/*", NULL));

    assert_true(kd_imap_quote_check_text("event.default", "v", FALSE, NULL));
    assert_true(kd_imap_quote_check_text("", "v", TRUE, NULL));
    assert_false(kd_imap_quote_check_text("", "v", FALSE, NULL));
    assert_false(kd_imap_quote_check_text("a\x7f", "v", FALSE, NULL));
    assert_false(kd_imap_quote_check_text("a\x01", "v", FALSE, NULL));
}

static void
test_imap_error_classifies_cyrus_texts(void **state)
{
    static const struct {
        const char *status;
        const char *code;
        const char *text;
        KdImapError expect;
    } cases[] = {
        {"NO", NULL, "Mailbox already exists", KD_IMAP_ERROR_EXISTS},
        {"NO", NULL, "unable to reserve mailbox on mupdate server",
         KD_IMAP_ERROR_EXISTS_ELSEWHERE},
        {"NO", NULL, "Mailbox does not exist", KD_IMAP_ERROR_NONEXISTENT},
        {"NO", NULL, "Permission denied", KD_IMAP_ERROR_PERMISSION},
        {"NO", NULL, "Invalid mailbox name", KD_IMAP_ERROR_INVALID_NAME},
        {"NO", NULL, "no connection to server", KD_IMAP_ERROR_TRANSIENT},
        {"NO", NULL, "Server(s) unavailable to complete operation",
         KD_IMAP_ERROR_TRANSIENT},
        {"NO", NULL, "Unknown/invalid partition", KD_IMAP_ERROR_CONFIG},
        {"NO", NULL, "Operation is not supported on mailbox",
         KD_IMAP_ERROR_CONFIG},
        {"NO", NULL,
         "This mailbox hierarchy does not exist on a single backend server.",
         KD_IMAP_ERROR_CONFIG},
        {"NO", NULL,
         "Cross-server or cross-partition move w/rename not supported",
         KD_IMAP_ERROR_BUG},
        {"NO", NULL, "Unsupported quota resource", KD_IMAP_ERROR_BUG},
        {"NO", "HASCHILDREN", "Mailbox has inferior hierarchical names",
         KD_IMAP_ERROR_HAS_CHILDREN},
        {"NO", "REFERRAL", "Remote mailbox.", KD_IMAP_ERROR_CONFIG},
        {"NO", "ALREADYEXISTS", "whatever", KD_IMAP_ERROR_EXISTS},
        {"NO", "NONEXISTENT", "whatever", KD_IMAP_ERROR_NONEXISTENT},
        {"NO", NULL, "authentication failure", KD_IMAP_ERROR_AUTH},
        {"BAD", NULL, "Unexpected extra arguments to Create",
         KD_IMAP_ERROR_BUG},
        {"BAD", NULL, "Mailbox does not exist", KD_IMAP_ERROR_BUG},
        {"BYE", NULL, "Fatal error: Internal error: assertion failed",
         KD_IMAP_ERROR_CLOSED},
        {"NO", NULL, "Over quota", KD_IMAP_ERROR_FAILED},
        {"NO", NULL, NULL, KD_IMAP_ERROR_FAILED},
    };

    (void) state;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        KdImapError got = kd_imap_error_classify(
            cases[i].status, cases[i].code, cases[i].text);

        if (got != cases[i].expect) {
            fail_msg("%s [%s] %s: got %d, want %d", cases[i].status,
                     cases[i].code ? cases[i].code : "",
                     cases[i].text ? cases[i].text : "", got,
                     cases[i].expect);
        }
    }
}

static void
test_imap_error_transient(void **state)
{
    g_autoptr(GError) t = g_error_new(KD_IMAP_ERROR, KD_IMAP_ERROR_TRANSIENT,
                                      "x");
    g_autoptr(GError) c = g_error_new(KD_IMAP_ERROR, KD_IMAP_ERROR_CLOSED,
                                      "x");
    g_autoptr(GError) e = g_error_new(KD_IMAP_ERROR, KD_IMAP_ERROR_EXISTS,
                                      "x");
    g_autoptr(GError) other = g_error_new(G_FILE_ERROR, KD_IMAP_ERROR_TRANSIENT,
                                          "x");

    (void) state;
    assert_true(kd_imap_error_is_transient(t));
    assert_true(kd_imap_error_is_transient(c));
    assert_false(kd_imap_error_is_transient(e));
    assert_false(kd_imap_error_is_transient(other));
    assert_false(kd_imap_error_is_transient(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_quote_refuses_hostile_mailboxes),
        cmocka_unit_test(test_imap_quote_accepts_good_mailboxes),
        cmocka_unit_test(test_imap_quote_quotes_astrings),
        cmocka_unit_test(test_imap_quote_formats_locations),
        cmocka_unit_test(test_imap_quote_checks_rights_and_entries),
        cmocka_unit_test(test_imap_error_classifies_cyrus_texts),
        cmocka_unit_test(test_imap_error_transient),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
