/* Unit tests for kolabd/mutf7.c against the vectors of notes/cyrus.md 8. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mutf7.h"

static const struct {
    const char *utf8;
    const char *mutf7;
} vectors[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"&", "&-"},
    {"a&b", "a&-b"},
    {"ab&-cd", "ab&--cd"},
    {"\xc3\xbc&\xc3\xbc", "&APw-&-&APw-"},
    {"Gel\xc3\xb6schte Objekte", "Gel&APY-schte Objekte"},
    {"\xc3\x89l\xc3\xa9ments envoy\xc3\xa9s", "&AMk-l&AOk-ments envoy&AOk-s"},
    {"\xd0\x9a\xd0\xbe\xd1\x80\xd0\xb7\xd0\xb8\xd0\xbd\xd0\xb0",
     "&BBoEPgRABDcEOAQ9BDA-"},
    {"\xe5\x8f\xb0\xe5\x8c\x97\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "&U,BTF2XlZyyKng-"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"\xe2\x98\xba!", "&Jjo-!"},
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},
    {"a\tb", "a&AAk-b"},
    {"~/\\+", "~/\\+"},
    {"\xc3\xbc", "&APw-"},
    {"\xc3\xbc\xc3\xbc", "&APwA,A-"},
    {"\xc3\xbc\xc3\xbc\xc3\xbc", "&APwA,AD8-"},
};

static void
test_mutf7_encode_vectors(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vectors); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *out = kd_mutf7_encode(vectors[i].utf8, &error);

        assert_null(error);
        assert_string_equal(out, vectors[i].mutf7);
    }
}

static void
test_mutf7_decode_vectors(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vectors); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *out = kd_mutf7_decode(vectors[i].mutf7, &error);

        assert_null(error);
        assert_string_equal(out, vectors[i].utf8);
    }
}

static void
test_mutf7_round_trip_all_bmp_and_astral(void **state)
{
    /* Every code point class: strings of 1..4 characters, stepping
     * through the Unicode range, must survive encode -> decode. */
    for (gunichar c = 1; c < 0x110000; c += 97) {
        char buf[32];
        int n = 0;
        g_autofree char *enc = NULL;
        g_autofree char *dec = NULL;

        if (c >= 0xd800 && c <= 0xdfff) {
            continue;
        }
        for (gunichar d = c; d < c + 3 && d < 0x110000; d++) {
            if (d >= 0xd800 && d <= 0xdfff) {
                continue;
            }
            n += g_unichar_to_utf8(d, buf + n);
        }
        buf[n] = '\0';
        enc = kd_mutf7_encode(buf, NULL);
        assert_non_null(enc);
        dec = kd_mutf7_decode(enc, NULL);
        assert_non_null(dec);
        assert_string_equal(dec, buf);
    }
}

static void
test_mutf7_encode_rejects_invalid_utf8(void **state)
{
    static const char *bad[] = {
        "\xff", "a\xc3", "\xc3\x28", "\xed\xa0\x80", /* surrogate */
        "\xc0\xaf",                                   /* overlong '/' */
        "\xf4\x90\x80\x80",                           /* > U+10FFFF */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        char *out = kd_mutf7_encode(bad[i], &error);

        assert_null(out);
        assert_true(g_error_matches(error, KD_MUTF7_ERROR,
                                    KD_MUTF7_ERROR_INVALID_UTF8));
    }
}

static void
test_mutf7_decode_rejects_invalid(void **state)
{
    static const char *bad[] = {
        "&U,BTFw-&ZeVnLIqe-", /* adjacent runs */
        "&AGE-",              /* encoded 'a' */
        "&",                  /* unterminated */
        "abc&APw",            /* unterminated */
        "&APx-",              /* non-zero padding bits */
        "&APwA-",             /* excess bits (not a full unit) */
        "&A-",                /* too short */
        "&2D0-",              /* lone high surrogate */
        "&2D3YPQ-",           /* high surrogate followed by high */
        "&3gA-",              /* lone low surrogate */
        "&AAA-",              /* encoded NUL */
        "&AP?-",              /* bad base64 char */
        "&AP=-",              /* padding is not allowed */
        "a\tb",               /* raw control character */
        "Entw\xc3\xbcrfe",    /* raw 8-bit */
        "a\r\nb",             /* CR LF injection */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        char *out = kd_mutf7_decode(bad[i], &error);

        if (out != NULL) {
            fail_msg("accepted %s as %s", bad[i], out);
        }
        assert_true(g_error_matches(error, KD_MUTF7_ERROR,
                                    KD_MUTF7_ERROR_INVALID_MUTF7));
    }
}

static void
test_mutf7_null_shift_only_as_ampersand(void **state)
{
    g_autofree char *a = kd_mutf7_decode("&-&-", NULL);
    g_autofree char *b = kd_mutf7_encode("&&", NULL);

    assert_string_equal(a, "&&");
    assert_string_equal(b, "&-&-");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutf7_encode_vectors),
        cmocka_unit_test(test_mutf7_decode_vectors),
        cmocka_unit_test(test_mutf7_round_trip_all_bmp_and_astral),
        cmocka_unit_test(test_mutf7_encode_rejects_invalid_utf8),
        cmocka_unit_test(test_mutf7_decode_rejects_invalid),
        cmocka_unit_test(test_mutf7_null_shift_only_as_ampersand),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
