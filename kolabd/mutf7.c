/* mutf7: see mutf7.h. */
#include "config.h"

#include <string.h>

#include "mutf7.h"

G_DEFINE_QUARK(kd-mutf7-error-quark, kd_mutf7_error)

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static gboolean
is_direct(gunichar c)
{
    return c >= 0x20 && c <= 0x7e;
}

/* Appends the 16-bit @unit to the shift state, emitting full sextets. */
static void
put_unit(GString *out, guint32 *bits, int *n_bits, guint16 unit)
{
    *bits = (*bits << 16) | unit;
    *n_bits += 16;
    while (*n_bits >= 6) {
        *n_bits -= 6;
        g_string_append_c(out, b64[(*bits >> *n_bits) & 0x3f]);
    }
    *bits &= (1u << *n_bits) - 1;
}

static void
end_shift(GString *out, guint32 *bits, int *n_bits)
{
    if (*n_bits > 0) {
        g_string_append_c(out, b64[(*bits << (6 - *n_bits)) & 0x3f]);
    }
    *bits = 0;
    *n_bits = 0;
    g_string_append_c(out, '-');
}

char *
kd_mutf7_encode(const char *utf8, GError **error)
{
    g_autoptr(GString) out = NULL;
    gboolean shifted = FALSE;
    guint32 bits = 0;
    int n_bits = 0;
    const char *end = NULL;

    g_return_val_if_fail(utf8 != NULL, NULL);
    if (!g_utf8_validate(utf8, -1, &end)) {
        g_set_error(error, KD_MUTF7_ERROR, KD_MUTF7_ERROR_INVALID_UTF8,
                    "invalid UTF-8 at byte %" G_GSIZE_FORMAT,
                    (gsize)(end - utf8));
        return NULL;
    }
    out = g_string_sized_new(strlen(utf8) + 8);
    for (const char *p = utf8; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (is_direct(c)) {
            if (shifted) {
                end_shift(out, &bits, &n_bits);
                shifted = FALSE;
            }
            g_string_append_c(out, (char)c);
            if (c == '&') {
                g_string_append_c(out, '-');
            }
            continue;
        }
        if (!shifted) {
            g_string_append_c(out, '&');
            shifted = TRUE;
        }
        if (c > 0xffff) {
            c -= 0x10000;
            put_unit(out, &bits, &n_bits, (guint16)(0xd800 | (c >> 10)));
            put_unit(out, &bits, &n_bits, (guint16)(0xdc00 | (c & 0x3ff)));
        } else {
            put_unit(out, &bits, &n_bits, (guint16)c);
        }
    }
    if (shifted) {
        end_shift(out, &bits, &n_bits);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static int
b64_value(char c)
{
    const char *p = c != '\0' ? strchr(b64, c) : NULL;

    return p != NULL ? (int)(p - b64) : -1;
}

static gboolean
fail(GError **error, const char *input, const char *at, const char *why)
{
    g_set_error(error, KD_MUTF7_ERROR, KD_MUTF7_ERROR_INVALID_MUTF7,
                "invalid modified UTF-7 at byte %" G_GSIZE_FORMAT ": %s",
                (gsize)(at - input), why);
    return FALSE;
}

/*
 * Decodes the run after '&' at *@pp up to and including its '-', appending
 * UTF-8 to @out. On success *@pp points after the '-'.
 */
static gboolean
decode_run(const char *input, const char **pp, GString *out, GError **error)
{
    const char *p = *pp;
    guint32 bits = 0;
    int n_bits = 0;
    guint32 high = 0; /* pending high surrogate, 0 if none */
    guint n_units = 0;

    for (; *p != '-'; p++) {
        int v = b64_value(*p);

        if (v < 0) {
            return fail(error, input, p, *p == '\0'
                                             ? "unterminated shift sequence"
                                             : "bad character in shift");
        }
        bits = (bits << 6) | (guint32)v;
        n_bits += 6;
        if (n_bits < 16) {
            continue;
        }
        n_bits -= 16;
        guint32 unit = (bits >> n_bits) & 0xffff;
        bits &= (1u << n_bits) - 1;
        n_units++;
        if (high != 0) {
            if (unit < 0xdc00 || unit > 0xdfff) {
                return fail(error, input, p, "unpaired high surrogate");
            }
            g_string_append_unichar(
                out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
            high = 0;
        } else if (unit >= 0xd800 && unit <= 0xdbff) {
            high = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            return fail(error, input, p, "unpaired low surrogate");
        } else if (unit == 0 || is_direct(unit)) {
            return fail(error, input, p,
                        unit == 0 ? "encoded NUL" : "encoded printable ASCII");
        } else {
            g_string_append_unichar(out, unit);
        }
    }
    if (n_units == 0) {
        return fail(error, input, p, "empty or too short shift sequence");
    }
    if (high != 0) {
        return fail(error, input, p, "unpaired high surrogate");
    }
    if (n_bits >= 6 || bits != 0) {
        return fail(error, input, p, "non-zero or excess padding bits");
    }
    *pp = p + 1;
    return TRUE;
}

char *
kd_mutf7_decode(const char *mutf7, GError **error)
{
    g_autoptr(GString) out = NULL;
    const char *p = mutf7;

    g_return_val_if_fail(mutf7 != NULL, NULL);
    out = g_string_sized_new(strlen(mutf7) + 8);
    while (*p != '\0') {
        if ((guchar)*p < 0x20 || (guchar)*p > 0x7e) {
            fail(error, mutf7, p, "byte outside printable ASCII");
            return NULL;
        }
        if (*p != '&') {
            g_string_append_c(out, *p++);
            continue;
        }
        if (p[1] == '-') {
            g_string_append_c(out, '&');
            p += 2;
            continue;
        }
        p++;
        if (!decode_run(mutf7, &p, out, error)) {
            return NULL;
        }
        if (p[0] == '&' && p[1] != '-') {
            fail(error, mutf7, p, "adjacent shift sequences");
            return NULL;
        }
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}
