/* acl-parse: reading ACLs from LDAP values, GETACL responses and kolabd's
 * own string form; see acl.h. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "acl-private.h"

/* Reads a Python string literal ('x', "x", u'x') at *@pp. */
static char *
tuple_string(const char **pp)
{
    const char *p = *pp;
    const char *end;
    char quote;

    if (*p == 'u' || *p == 'U') {
        p++;
    }
    quote = *p;
    if (quote != '\'' && quote != '"') {
        return NULL;
    }
    end = strchr(p + 1, quote);
    if (end == NULL || memchr(p + 1, '\\', (gsize)(end - p - 1)) != NULL) {
        return NULL;
    }
    *pp = end + 1;
    return g_strndup(p + 1, (gsize)(end - p - 1));
}

static void
skip_ws(const char **pp)
{
    while (**pp == ' ' || **pp == '\t') {
        (*pp)++;
    }
}

/*
 * Splits a tuple "('subject', 'rights'[, expiry])". *@expiry_out is -1
 * when absent. FALSE if malformed.
 */
static gboolean
split_tuple(const char *text, char **subject_out, char **rights_out,
            gint64 *expiry_out)
{
    const char *p = text + 1;
    g_autofree char *subject = NULL;
    g_autofree char *rights = NULL;

    *expiry_out = -1;
    skip_ws(&p);
    if ((subject = tuple_string(&p)) == NULL) {
        return FALSE;
    }
    skip_ws(&p);
    if (*p++ != ',') {
        return FALSE;
    }
    skip_ws(&p);
    if ((rights = tuple_string(&p)) == NULL) {
        return FALSE;
    }
    skip_ws(&p);
    if (*p == ',') {
        char *end = NULL;

        p++;
        skip_ws(&p);
        if (!g_ascii_isdigit(*p)) {
            return FALSE;
        }
        *expiry_out = g_ascii_strtoll(p, &end, 10);
        p = end;
        if (*p == '.') { /* time.time() floats */
            p++;
            while (g_ascii_isdigit(*p)) {
                p++;
            }
        }
        if (*p == 'L') { /* Python 2 long */
            p++;
        }
        skip_ws(&p);
    }
    if (*p++ != ')') {
        return FALSE;
    }
    skip_ws(&p);
    if (*p != '\0') {
        return FALSE;
    }
    *subject_out = g_steal_pointer(&subject);
    *rights_out = g_steal_pointer(&rights);
    return TRUE;
}

gboolean
kd_acl_add_ldap_value(KdAcl *acl, const char *value, gsize len, gint64 now,
                      gboolean *expired_out, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *subject = NULL;
    g_autofree char *rights = NULL;
    g_autoptr(GError) local = NULL;
    const char *why = NULL;
    char *sep;

    g_return_val_if_fail(acl != NULL && value != NULL, FALSE);
    if (expired_out != NULL) {
        *expired_out = FALSE;
    }
    if (memchr(value, '\0', len) != NULL) {
        why = "contains a NUL byte";
    } else if (memchr(value, '\r', len) || memchr(value, '\n', len)) {
        why = "contains CR or LF";
    } else if (len > 1024) {
        why = "longer than 1024 bytes";
    }
    if (why == NULL) {
        text = g_strstrip(g_strndup(value, len));
        if (text[0] == '(') {
            gint64 expiry;

            if (!split_tuple(text, &subject, &rights, &expiry)) {
                why = "malformed tuple (expected ('subject', 'rights'"
                      "[, expiry]))";
            } else if (expiry >= 0 && expiry < now) {
                if (expired_out != NULL) {
                    *expired_out = TRUE;
                }
                return TRUE;
            }
        } else if ((sep = g_strrstr(text, ", ")) != NULL) {
            subject = g_strndup(text, (gsize)(sep - text));
            rights = g_strdup(sep + 2);
        } else if ((sep = strpbrk(text, " \t")) != NULL) {
            subject = g_strndup(text, (gsize)(sep - text));
            rights = g_strdup(sep + 1);
        } else {
            why = "expected \"subject, rights\" or \"subject rights\"";
        }
    }
    if (why == NULL) {
        g_strstrip(subject);
        g_strstrip(rights);
        if (!kd_acl_add_checked(acl, subject, strlen(subject), rights, &local)) {
            why = local->message;
        }
    }
    if (why != NULL) {
        g_autofree char *q = kd_acl_quote_for_message(value, len);

        g_set_error(error, KD_ACL_ERROR,
                    local ? local->code : KD_ACL_ERROR_SYNTAX,
                    "invalid acl value \"%s\": %s", q, why);
        return FALSE;
    }
    return TRUE;
}

/* Reads one IMAP atom or quoted string at *@pp; NULL on bad quoting. */
static char *
imap_token(const char **pp)
{
    const char *p = *pp;
    GString *out;

    if (*p != '"') {
        const char *start = p;

        while (*p != '\0' && *p != ' ') {
            p++;
        }
        *pp = p;
        return g_strndup(start, (gsize)(p - start));
    }
    out = g_string_new(NULL);
    for (p++; *p != '"'; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
            p++;
        } else if (*p == '\0' || *p == '\\') {
            g_string_free(out, TRUE);
            return NULL;
        }
        g_string_append_c(out, *p);
    }
    *pp = p + 1;
    return g_string_free(out, FALSE);
}

KdAcl *
kd_acl_from_getacl(const char *text, GError **error)
{
    g_autoptr(KdAcl) acl = kd_acl_new();
    const char *p = text;

    g_return_val_if_fail(text != NULL, NULL);
    for (;;) {
        g_autofree char *id = NULL;
        g_autofree char *rights = NULL;
        g_autoptr(GError) local = NULL;
        guint32 mask;

        while (*p == ' ') {
            p++;
        }
        if (*p == '\0' || *p == '\r' || *p == '\n') {
            break;
        }
        id = imap_token(&p);
        while (*p == ' ') {
            p++;
        }
        rights = *p != '\0' ? imap_token(&p) : NULL;
        if (id == NULL || rights == NULL) {
            g_set_error(error, KD_ACL_ERROR, KD_ACL_ERROR_SYNTAX,
                        "malformed GETACL response (bad quoting or an "
                        "identifier without rights)");
            return NULL;
        }
        if (!kd_acl_letters_to_mask(rights, &mask) ||
            !kd_acl_add_checked(acl, id, strlen(id), rights, &local)) {
            g_set_error(error, KD_ACL_ERROR,
                        local ? local->code : KD_ACL_ERROR_RIGHTS,
                        "unusable GETACL entry: %s",
                        local ? local->message : "unknown right letter");
            return NULL;
        }
    }
    return g_steal_pointer(&acl);
}

KdAcl *
kd_acl_from_string(const char *text, GError **error)
{
    g_autoptr(KdAcl) acl = kd_acl_new();
    g_auto(GStrv) lines = NULL;

    if (text == NULL || *text == '\0') {
        return g_steal_pointer(&acl);
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        g_autoptr(GError) local = NULL;
        char *sp = strchr(lines[i], ' ');
        guint32 mask;

        if (sp == NULL || !kd_acl_letters_to_mask(sp + 1, &mask) ||
            !kd_acl_add_checked(acl, lines[i], (gsize)(sp - lines[i]), sp + 1,
                         &local)) {
            g_autofree char *q = kd_acl_quote_for_message(lines[i],
                                                   strlen(lines[i]));

            g_set_error(error, KD_ACL_ERROR,
                        local ? local->code : KD_ACL_ERROR_SYNTAX,
                        "bad canonical ACL line %u \"%s\"%s%s", i + 1, q,
                        local ? ": " : "", local ? local->message : "");
            return NULL;
        }
    }
    return g_steal_pointer(&acl);
}
