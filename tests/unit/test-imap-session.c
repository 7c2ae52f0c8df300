/*
 * Unit tests for kolabd/imap.c, imap-metadata.c and mupdate*.c with a
 * scripted peer: the server's lines (recorded from Cyrus 3.6.1, see
 * notes/cyrus.md) are written into one end of a socketpair before the
 * client runs; afterwards the test reads what the client sent.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imap.h"
#include "mupdate.h"

#define GREETING                                                              \
    "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE AUTH=PLAIN SASL-IR] "      \
    "127.0.0.1:38143 Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready\r\n"

/* Writes @script to a new socketpair; returns the client end. */
static int
scripted(const char *script, int *peer_out)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], script, strlen(script)),
                     (ssize_t) strlen(script));
    *peer_out = sv[1];
    return sv[0];
}

/* Everything the client wrote (the peer end must not block). */
static char *
sent(int peer)
{
    GString *out = g_string_new(NULL);
    char buf[4096];
    ssize_t n;

    shutdown(peer, SHUT_WR);
    while ((n = recv(peer, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        g_string_append_len(out, buf, n);
    }
    close(peer);
    return g_string_free(out, FALSE);
}

static void
test_imap_session_parses_greeting_and_metadata(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = NULL;
    g_autoptr(GPtrArray) items = NULL;
    g_autofree char *wire = NULL;
    const char *const entries[] = {"/shared/vendor/kolab/folder-type",
                                   "/private/vendor/kolab/folder-type", NULL};
    int peer;
    int fd = scripted(
        GREETING "1 OK [CAPABILITY IMAP4rev1 METADATA] User logged in "
                 "SESSIONID=<127.0.0.1:38143-1-2-3>\r\n"
                 "* METADATA user/john/Calendar@example.org "
                 "(\"/shared/vendor/kolab/folder-type\" \"event\" "
                 "\"/private/vendor/kolab/folder-type\" NIL)\r\n"
                 "* METADATA \"user/john/Sent Items@example.org\" "
                 "(/shared/vendor/kolab/folder-type {4}\r\nmail)\r\n"
                 "* METADATA user/john@example.org "
                 "/shared/vendor/kolab/folder-type\r\n"
                 "2 OK Completed\r\n"
                 "3 OK Completed\r\n",
        &peer);

    kd_imap_global_init();
    imap = kd_imap_connect_fd(fd, "scripted", 5, &error);
    assert_non_null(imap);
    assert_string_equal(kd_imap_get_servername(imap), "127.0.0.1:38143");
    assert_string_equal(kd_imap_server_version(imap),
                        "3.6.1-Debian-3.6.1-4+deb12u5");
    assert_true(kd_imap_has_shared_annotation_bug(imap));
    assert_true(kd_imap_login(imap, "cyrus-admin", "pw \"x\"", &error));
    assert_true(kd_imap_has_capability(imap, "METADATA"));
    assert_true(kd_imap_getmetadata(imap, "user/john/%@example.org", TRUE,
                                    entries, &items, &error));
    assert_int_equal(items->len, 3);
    {
        KdImapMetadata *a = items->pdata[0];
        KdImapMetadata *b = items->pdata[1];
        KdImapMetadata *c = items->pdata[2];

        assert_string_equal(a->mailbox, "user/john/Calendar@example.org");
        assert_string_equal(a->value, "event");
        assert_string_equal(b->entry, "/private/vendor/kolab/folder-type");
        assert_null(b->value);
        assert_string_equal(c->mailbox, "user/john/Sent Items@example.org");
        assert_string_equal(c->value, "mail");
    }
    /* the stream stayed in step */
    assert_true(kd_imap_noop(imap, &error));
    g_clear_pointer(&imap, kd_imap_free);
    wire = sent(peer);
    assert_non_null(strstr(wire, "1 LOGIN cyrus-admin \"pw \\\"x\\\"\"\r\n"));
    assert_non_null(strstr(
        wire, "2 GETMETADATA \"user/john/%@example.org\" "
              "(/shared/vendor/kolab/folder-type "
              "/private/vendor/kolab/folder-type)\r\n"));
    assert_non_null(strstr(wire, "3 NOOP\r\n"));
}

static void
test_imap_session_classifies_replies(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = NULL;
    g_autofree char *wire = NULL;
    int peer;
    int fd = scripted(
        GREETING "1 OK User logged in\r\n"
                 "2 NO unable to reserve mailbox on mupdate server\r\n"
                 "3 BAD Unexpected extra arguments to Create\r\n"
                 "4 NO [HASCHILDREN] Mailbox has inferior hierarchical "
                 "names\r\n"
                 "* NO USER john@example.org (Server(s) unavailable)\r\n"
                 "5 OK Completed\r\n"
                 "* BYE Fatal error: Internal error: assertion failed: "
                 "imap/mboxlist.c: 1088: user_isnamespacelocked(userid)\r\n",
        &peer);

    imap = kd_imap_connect_fd(fd, "scripted", 5, &error);
    assert_non_null(imap);
    assert_true(kd_imap_login(imap, "cyrus-admin", "pw", &error));
    assert_false(kd_imap_create(imap, "user/jane@example.org",
                                "127.0.0.1:38143!default", &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_EXISTS_ELSEWHERE);
    assert_non_null(strstr(error->message, "user/jane@example.org"));
    assert_non_null(strstr(error->message, "unable to reserve"));
    g_clear_error(&error);
    assert_false(kd_imap_create(imap, "user/jim@example.org", NULL, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_BUG);
    g_clear_error(&error);
    assert_false(kd_imap_command(imap, "shared@example.org",
                                 "DELETE shared@example.org", NULL, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_HAS_CHILDREN);
    g_clear_error(&error);
    /* XFER: untagged NO, tagged OK */
    assert_false(kd_imap_rename(imap, "user/john@example.org",
                                "user/john@example.org",
                                "127.0.0.1:38243!default", &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_FAILED);
    assert_non_null(strstr(error->message, "Server(s) unavailable"));
    g_clear_error(&error);
    assert_true(kd_imap_is_alive(imap));
    /* bug 1: BYE then end of stream */
    close(peer);
    peer = -1;
    assert_false(kd_imap_setmetadata(imap, "shared/memo@example.org",
                                     "/shared/vendor/kolab/folder-type",
                                     "mail", &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_CLOSED);
    assert_non_null(strstr(error->message, "user_isnamespacelocked"));
    g_clear_error(&error);
    assert_false(kd_imap_is_alive(imap));
    assert_false(kd_imap_noop(imap, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_CLOSED);
    (void) wire;
}

static void
test_imap_session_sends_locations_as_atoms(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = NULL;
    g_autofree char *wire = NULL;
    int peer;
    int fd = scripted(GREETING "1 OK [MAILBOXID (x)] Completed\r\n"
                               "2 OK Completed\r\n"
                               "3 OK Completed\r\n"
                               "4 OK Completed\r\n",
                      &peer);

    imap = kd_imap_connect_fd(fd, "scripted", 5, &error);
    assert_non_null(imap);
    assert_true(kd_imap_create(imap, "user/jane@example.org",
                               "127.0.0.1:38243!default", &error));
    assert_true(kd_imap_create(imap, "user/jane/Sent Items@example.org",
                               NULL, &error));
    assert_true(kd_imap_create(imap, "user/jim@example.org",
                               "127.0.0.1:38243", &error));
    assert_true(kd_imap_setquota(imap, "user/jane@example.org", -1, &error));
    g_clear_pointer(&imap, kd_imap_free);
    wire = sent(peer);
    assert_non_null(strstr(
        wire, "1 CREATE user/jane@example.org 127.0.0.1:38243!default\r\n"));
    assert_non_null(
        strstr(wire, "2 CREATE \"user/jane/Sent Items@example.org\"\r\n"));
    assert_non_null(strstr(
        wire, "3 CREATE user/jim@example.org (SERVER 127.0.0.1:38243)\r\n"));
    assert_non_null(strstr(wire, "4 SETQUOTA user/jane@example.org ()\r\n"));
}

static void
test_imap_session_rejects_bye_greeting(void **state)
{
    g_autoptr(GError) error = NULL;
    int peer;
    int fd = scripted("* BYE Too many connections\r\n", &peer);

    assert_null(kd_imap_connect_fd(fd, "scripted", 5, &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_TRANSIENT);
    close(peer);
}

static gboolean
collect(const char *name, const char *server, const char *partition,
        const char *acl, gpointer data)
{
    g_ptr_array_add(data, g_strdup_printf("%s|%s|%s|%s", name, server,
                                          partition, acl ? acl : "(none)"));
    return TRUE;
}

static void
test_mupdate_parses_literals(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdMupdate) mu = NULL;
    g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *server = NULL;
    g_autofree char *partition = NULL;
    g_autofree char *wire = NULL;
    int peer;
    int fd = scripted(
        "* AUTH \"PLAIN\" \"LOGIN\"\r\n"
        "* PARTIAL-UPDATE\r\n"
        "* OK MUPDATE \"mupdate\" \"Cyrus IMAP\" \"3.6.1\" \"(master)\"\r\n"
        "K1 OK \"Authenticated\"\r\n"
        "K2 MAILBOX {21+}\r\nexample.org!user.john {23+}\r\n"
        "127.0.0.1:38143!default {32+}\r\n"
        "john@example.org\tlrswipkxtecdan\t\r\n"
        "K2 OK \"Search completed\"\r\n"
        "K3 OK \"Search completed\"\r\n"
        "K4 MAILBOX {21+}\r\nexample.org!user.john {23+}\r\n"
        "127.0.0.1:38143!default {32+}\r\n"
        "john@example.org\tlrswipkxtecdan\t\r\n"
        "K4 RESERVE {20+}\r\nexample.org!user.jim {16+}\r\n"
        "127.0.0.1:38243!\r\n"
        "K4 OK \"list complete\"\r\n"
        "K5 BAD \"Unrecognized command\"\r\n",
        &peer);

    mu = kd_mupdate_connect_fd(fd, "scripted", "mupduser", "mupdpass", 5,
                               &error);
    assert_non_null(mu);
    assert_string_equal(kd_mupdate_get_servername(mu), "mupdate");
    assert_true(kd_mupdate_find(mu, "example.org!user.john", &server,
                                &partition, &error));
    assert_string_equal(server, "127.0.0.1:38143");
    assert_string_equal(partition, "default");
    assert_false(kd_mupdate_find(mu, "example.org!user.nobody", &server, NULL,
                                 &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_NONEXISTENT);
    g_clear_error(&error);
    assert_true(kd_mupdate_list(mu, NULL, collect, got, &error));
    assert_int_equal(got->len, 2);
    assert_string_equal(got->pdata[0],
                        "example.org!user.john|127.0.0.1:38143|default|"
                        "john@example.org\tlrswipkxtecdan\t");
    assert_string_equal(got->pdata[1],
                        "example.org!user.jim|127.0.0.1:38243||(none)");
    assert_false(kd_mupdate_list(mu, "127.0.0.1:38143", collect, got,
                                 &error));
    assert_int_equal(error->code, KD_IMAP_ERROR_BUG);
    g_clear_error(&error);
    g_clear_pointer(&mu, kd_mupdate_free);
    wire = sent(peer);
    /* base64("\0mupduser\0mupdpass") */
    assert_non_null(strstr(
        wire, "K1 AUTHENTICATE \"PLAIN\" \"AG11cGR1c2VyAG11cGRwYXNz\"\r\n"));
    assert_non_null(strstr(wire, "K2 FIND \"example.org!user.john\"\r\n"));
    assert_non_null(strstr(wire, "K4 LIST\r\n"));
    assert_non_null(strstr(wire, "K5 LIST \"127.0.0.1:38143\"\r\n"));
}

static void
test_mupdate_converts_names(void **state)
{
    static const struct {
        const char *admin;
        const char *internal;
    } cases[] = {
        {"user/john@example.org", "example.org!user.john"},
        {"user/john/Calendar@example.org", "example.org!user.john.Calendar"},
        {"user/john.doe/Sent Items@example.org",
         "example.org!user.john^doe.Sent Items"},
        {"shared@example.org", "example.org!shared"},
        {"shared/Resources/Car1@example.org",
         "example.org!shared.Resources.Car1"},
        {"user/john", "user.john"},
        {"user/john/Entw&APw-rfe@example.org",
         "example.org!user.john.Entw&APw-rfe"},
        {"DELETED/user/johnny/6B0CDC37@example.org",
         "example.org!DELETED.user.johnny.6B0CDC37"},
    };
    const char *bad_admin[] = {"user//x@example.org", "user/x^y@example.org",
                               "user/x@", "user/a!b@example.org", "/user"};
    const char *bad_internal[] = {"example.org!user..x", "!user.x",
                                  "a!b!user.x", "example.org!user.a/b"};

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *in = kd_mupdate_name_to_internal(cases[i].admin,
                                                          &error);
        g_autofree char *back = NULL;

        assert_non_null(in);
        assert_string_equal(in, cases[i].internal);
        back = kd_mupdate_name_from_internal(in, &error);
        assert_non_null(back);
        assert_string_equal(back, cases[i].admin);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad_admin); i++) {
        g_autoptr(GError) error = NULL;

        assert_null(kd_mupdate_name_to_internal(bad_admin[i], &error));
        assert_int_equal(error->code, KD_IMAP_ERROR_INVALID_NAME);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad_internal); i++) {
        g_autoptr(GError) error = NULL;

        assert_null(kd_mupdate_name_from_internal(bad_internal[i], &error));
        assert_int_equal(error->code, KD_IMAP_ERROR_INVALID_NAME);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_session_parses_greeting_and_metadata),
        cmocka_unit_test(test_imap_session_classifies_replies),
        cmocka_unit_test(test_imap_session_sends_locations_as_atoms),
        cmocka_unit_test(test_imap_session_rejects_bye_greeting),
        cmocka_unit_test(test_mupdate_parses_literals),
        cmocka_unit_test(test_mupdate_converts_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
