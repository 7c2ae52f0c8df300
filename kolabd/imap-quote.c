/* imap-quote: argument validation and quoting; see imap-quote.h. */
#include "config.h"

#include <string.h>

#include "imap-quote.h"
#include "imap.h"

static gboolean
fail(GError **error, const char *what, const char *value, const char *why)
{
    g_autofree char *shown = g_strescape(value, NULL);

    if (strlen(shown) > 200) {
        shown[200] = '\0';
    }
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_INVALID_NAME,
                "invalid %s \"%s\": %s (refused before sending)", what, shown,
                why);
    return FALSE;
}

gboolean
kd_imap_quote_check_text(const char *text, const char *what,
                         gboolean allow_empty, GError **error)
{
    gsize len;

    g_return_val_if_fail(what != NULL, FALSE);
    if (text == NULL) {
        return fail(error, what, "", "missing");
    }
    len = strlen(text);
    if (len == 0 && !allow_empty) {
        return fail(error, what, text, "empty");
    }
    if (len > KD_IMAP_QUOTE_MAX) {
        return fail(error, what, text, "too long");
    }
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if (*p >= 0x80) {
            return fail(error, what, text, "not 7-bit");
        }
        if (*p < 0x20 || *p == 0x7f) {
            return fail(error, what, text, "contains a control character");
        }
    }
    return TRUE;
}

/* Decode and re-encode: only canonical modified UTF-7 survives. */
static gboolean
is_canonical_mutf7(const char *name)
{
    g_autofree char *utf8 = NULL;
    g_autofree char *again = NULL;

    if (strchr(name, '&') == NULL) {
        return TRUE;
    }
    utf8 = g_convert(name, -1, "UTF-8", "UTF-7-IMAP", NULL, NULL, NULL);
    if (utf8 == NULL) {
        return FALSE;
    }
    again = g_convert(utf8, -1, "UTF-7-IMAP", "UTF-8", NULL, NULL, NULL);
    return again != NULL && strcmp(again, name) == 0;
}

gboolean
kd_imap_quote_check_mailbox(const char *mailbox, gboolean pattern,
                            GError **error)
{
    const char *at;

    if (!kd_imap_quote_check_text(mailbox, "mailbox name", FALSE, error)) {
        return FALSE;
    }
    if (!pattern && strpbrk(mailbox, "*%") != NULL) {
        return fail(error, "mailbox name", mailbox,
                    "contains a wildcard ('*' or '%')");
    }
    if (mailbox[0] == '/' || mailbox[strlen(mailbox) - 1] == '/' ||
        strstr(mailbox, "//") != NULL) {
        return fail(error, "mailbox name", mailbox, "empty hierarchy level");
    }
    if (g_ascii_isspace(mailbox[0]) ||
        g_ascii_isspace(mailbox[strlen(mailbox) - 1])) {
        return fail(error, "mailbox name", mailbox,
                    "leading or trailing space");
    }
    at = strrchr(mailbox, '@');
    if (at != NULL) {
        if (strchr(at, '/') != NULL) {
            return fail(error, "mailbox name", mailbox,
                        "the domain must come last (user/NAME/FOLDER@DOMAIN)");
        }
        if (at[1] == '\0' || at == mailbox || at[-1] == '/') {
            return fail(error, "mailbox name", mailbox, "empty domain or name");
        }
    }
    if (!is_canonical_mutf7(mailbox)) {
        return fail(error, "mailbox name", mailbox,
                    "not canonical modified UTF-7");
    }
    return TRUE;
}

static gboolean
is_atom_safe(const char *text)
{
    if (*text == '\0' || g_ascii_strcasecmp(text, "NIL") == 0) {
        return FALSE;
    }
    for (const char *p = text; *p; p++) {
        if (!g_ascii_isalnum(*p) && strchr("-._@/", *p) == NULL) {
            return FALSE;
        }
    }
    return TRUE;
}

void
kd_imap_quote_append(GString *out, const char *text)
{
    if (is_atom_safe(text)) {
        g_string_append(out, text);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            g_string_append_c(out, '\\');
        }
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

gboolean
kd_imap_quote_append_location(GString *out, const char *location,
                              GError **error)
{
    const char *bang;

    if (!kd_imap_quote_check_text(location, "location", FALSE, error)) {
        return FALSE;
    }
    for (const char *p = location; *p; p++) {
        if (!g_ascii_isalnum(*p) && strchr(".:_-!", *p) == NULL) {
            return fail(error, "location", location,
                        "only [A-Za-z0-9.:_-] and one '!' are allowed");
        }
    }
    bang = strchr(location, '!');
    if (bang == location || (bang != NULL && strchr(bang + 1, '!'))) {
        return fail(error, "location", location,
                    "expected server!partition or server");
    }
    if (bang == NULL) {
        g_string_append_printf(out, "(SERVER %s)", location);
    } else if (bang[1] == '\0') {
        /* "server!" (empty partition) is read as partition "" */
        g_string_append_printf(out, "(SERVER %.*s)", (int) (bang - location),
                               location);
    } else {
        g_string_append(out, location);
    }
    return TRUE;
}

gboolean
kd_imap_quote_check_rights(const char *rights, GError **error)
{
    const char *p = rights;

    if (rights == NULL) {
        return fail(error, "rights", "", "missing");
    }
    static const char *const aliases[] = {
        "all",   "full",      "read", "read-only", "read-write", "write",
        "semi-full", "append", "post", "delete",   "none",
    };

    if (*p == '+' || *p == '-') {
        p++;
    }
    /* "all", "read", "append", "delete" consist of valid letters */
    for (gsize i = 0; i < G_N_ELEMENTS(aliases); i++) {
        if (g_ascii_strcasecmp(p, aliases[i]) == 0) {
            return fail(error, "rights", rights,
                        "an alias word; translate it to letters first");
        }
    }
    if (strlen(p) > 64) {
        return fail(error, "rights", rights, "too long");
    }
    for (; *p; p++) {
        if (!g_ascii_isdigit(*p) && strchr("lrswipkxtecdan", *p) == NULL) {
            return fail(error, "rights", rights,
                        "only the letters lrswipkxtecdan and digits are "
                        "allowed (translate alias words first)");
        }
    }
    return TRUE;
}

gboolean
kd_imap_quote_check_entry(const char *entry, GError **error)
{
    if (!kd_imap_quote_check_text(entry, "metadata entry", FALSE, error)) {
        return FALSE;
    }
    if (!g_str_has_prefix(entry, "/shared/") &&
        !g_str_has_prefix(entry, "/private/")) {
        return fail(error, "metadata entry", entry,
                    "must start with /shared/ or /private/");
    }
    if (strstr(entry, "//") != NULL || g_str_has_suffix(entry, "/")) {
        return fail(error, "metadata entry", entry, "empty path component");
    }
    for (const char *p = entry; *p; p++) {
        if (!g_ascii_isalnum(*p) && strchr("._/-", *p) == NULL) {
            return fail(error, "metadata entry", entry,
                        "only [A-Za-z0-9._/-] are allowed");
        }
    }
    return TRUE;
}
