/* Unit tests for kolabd/imap-uri.c (kd_imap_parse_uri). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "imap.h"

static void
assert_uri(const char *uri, gboolean tls, const char *host, guint16 port)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *h = NULL;
    gboolean t = !tls;
    guint16 p = 0;

    if (!kd_imap_parse_uri(uri, &t, &h, &p, &error)) {
        fail_msg("%s refused: %s", uri, error->message);
    }
    assert_int_equal(t, tls);
    assert_string_equal(h, host);
    assert_int_equal(p, port);
}

static void
assert_refused(const char *uri)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *h = NULL;
    guint16 p = 0;

    if (kd_imap_parse_uri(uri, NULL, &h, &p, &error)) {
        fail_msg("%s accepted as host %s port %u", uri, h, p);
    }
    assert_int_equal(error->code, KD_IMAP_ERROR_CONFIG);
    assert_non_null(strstr(error->message, uri));
}

static void
test_imap_uri_default_ports(void **state)
{
    (void)state;
    assert_uri("imap://localhost", FALSE, "localhost", 143);
    assert_uri("imap://localhost/", FALSE, "localhost", 143);
    assert_uri("imaps://localhost", TRUE, "localhost", 993);
    assert_uri("imaps://mail.example.org/", TRUE, "mail.example.org", 993);
}

static void
test_imap_uri_explicit_ports(void **state)
{
    (void)state;
    assert_uri("imap://127.0.0.1:38143", FALSE, "127.0.0.1", 38143);
    assert_uri("imaps://127.0.0.1:38993/", TRUE, "127.0.0.1", 38993);
    assert_uri("imaps://Backend2.Example.org:1", TRUE, "Backend2.Example.org",
               1);
    assert_uri("imap://h:65535", FALSE, "h", 65535);
}

static void
test_imap_uri_ipv6_brackets(void **state)
{
    (void)state;
    assert_uri("imaps://[::1]", TRUE, "::1", 993);
    assert_uri("imaps://[::1]:9930", TRUE, "::1", 9930);
    assert_uri("imap://[2001:db8::17]:143/", FALSE, "2001:db8::17", 143);
    assert_uri("imaps://[::ffff:127.0.0.1]:993", TRUE, "::ffff:127.0.0.1", 993);
}

static void
test_imap_uri_refuses_bad_uris(void **state)
{
    (void)state;
    assert_refused("");
    assert_refused("imap:/localhost");
    assert_refused("http://localhost");
    assert_refused("IMAPS//localhost");
    assert_refused("imaps://");
    assert_refused("imaps://:993");
    assert_refused("imaps://localhost:");
    assert_refused("imaps://localhost:0");
    assert_refused("imaps://localhost:65536");
    assert_refused("imaps://localhost:99x");
    assert_refused("imaps://localhost:-1");
    assert_refused("imaps://user@localhost");
    assert_refused("imaps://localhost/INBOX");
    assert_refused("imaps://localhost?x");
    assert_refused("imaps://local host");
    assert_refused("imaps://[::1");
    assert_refused("imaps://[::1]x");
    assert_refused("imaps://[::1]:");
    assert_refused("imaps://[]:993");
    assert_refused("imaps://[localhost]:993");
    assert_refused("imaps://::1:993");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_uri_default_ports),
        cmocka_unit_test(test_imap_uri_explicit_ports),
        cmocka_unit_test(test_imap_uri_ipv6_brackets),
        cmocka_unit_test(test_imap_uri_refuses_bad_uris),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
