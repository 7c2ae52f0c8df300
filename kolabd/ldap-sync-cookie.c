/* ldap-sync-cookie: see ldap-sync-cookie.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ldap-sync-cookie.h"

#define MAX_SID 0xfff

int
kd_sync_csn_sid(const char *csn)
{
    g_auto(GStrv) parts = NULL;
    gsize len;
    char *end = NULL;
    long sid;

    if (csn == NULL) {
        return -1;
    }
    parts = g_strsplit(csn, "#", -1);
    if (g_strv_length(parts) != 4) {
        return -1;
    }
    len = strlen(parts[0]);
    if (len < 15 || parts[0][len - 1] != 'Z' || parts[1][0] == '\0' ||
        parts[3][0] == '\0') {
        return -1;
    }
    len = strlen(parts[2]);
    if (len == 0 || len > 3 || !g_ascii_isxdigit(parts[2][0])) {
        return -1;
    }
    sid = strtol(parts[2], &end, 16);
    if (*end != '\0' || sid < 0 || sid > MAX_SID) {
        return -1;
    }
    return (int)sid;
}

/* The cookie as a C string, or NULL when it holds a NUL byte. */
static char *
cookie_text(GBytes *cookie)
{
    gsize size = 0;
    const char *data;

    if (cookie == NULL) {
        return NULL;
    }
    data = g_bytes_get_data(cookie, &size);
    if (size == 0 || memchr(data, '\0', size) != NULL) {
        return NULL;
    }
    return g_strndup(data, size);
}

static gboolean
all_csns(char *const *csns)
{
    for (guint i = 0; csns[i] != NULL; i++) {
        if (kd_sync_csn_sid(csns[i]) < 0) {
            return FALSE;
        }
    }
    return csns[0] != NULL;
}

char **
kd_sync_cookie_csns(GBytes *cookie)
{
    g_autofree char *text = cookie_text(cookie);
    g_auto(GStrv) fields = NULL;

    if (text == NULL) {
        return NULL;
    }
    fields = g_strsplit(text, ",", -1);
    for (guint i = 0; fields[i] != NULL; i++) {
        if (g_str_has_prefix(fields[i], "csn=")) {
            char **csns = g_strsplit(fields[i] + 4, ";", -1);

            if (!all_csns(csns)) {
                g_strfreev(csns);
                return NULL;
            }
            return csns;
        }
    }
    return NULL;
}

/* The CSN of @sid in @csns, or NULL. */
static const char *
csn_of(char *const *csns, int sid)
{
    for (guint i = 0; csns != NULL && csns[i] != NULL; i++) {
        if (kd_sync_csn_sid(csns[i]) == sid) {
            return csns[i];
        }
    }
    return NULL;
}

static void
keep_newest(const char **by_sid, char *const *csns)
{
    for (guint i = 0; csns != NULL && csns[i] != NULL; i++) {
        int sid = kd_sync_csn_sid(csns[i]);

        if (sid >= 0 &&
            (by_sid[sid] == NULL || strcmp(csns[i], by_sid[sid]) > 0)) {
            by_sid[sid] = csns[i];
        }
    }
}

char **
kd_sync_csns_union(char *const *csns, char *const *more)
{
    g_autofree const char **by_sid = g_new0(const char *, MAX_SID + 1);
    GPtrArray *out = g_ptr_array_new();

    keep_newest(by_sid, csns);
    keep_newest(by_sid, more);
    for (int sid = 0; sid <= MAX_SID; sid++) {
        if (by_sid[sid] != NULL) {
            g_ptr_array_add(out, g_strdup(by_sid[sid]));
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

/* TRUE when @next has, for every SID of @base, a CSN at least as new. */
static gboolean
covers(char *const *next, char *const *base)
{
    for (guint i = 0; base[i] != NULL; i++) {
        const char *n = csn_of(next, kd_sync_csn_sid(base[i]));

        if (n == NULL || strcmp(n, base[i]) < 0) {
            return FALSE;
        }
    }
    return TRUE;
}

GBytes *
kd_sync_cookie_merge(GBytes *base, GBytes *next)
{
    g_auto(GStrv) base_csns = NULL;
    g_auto(GStrv) next_csns = NULL;
    g_auto(GStrv) merged = NULL;
    g_auto(GStrv) fields = NULL;
    g_autofree char *text = NULL;
    GString *out;

    if (next == NULL || g_bytes_get_size(next) == 0) {
        return NULL;
    }
    base_csns = kd_sync_cookie_csns(base);
    next_csns = kd_sync_cookie_csns(next);
    if (base_csns == NULL || next_csns == NULL ||
        covers(next_csns, base_csns)) {
        return g_bytes_ref(next);
    }
    merged = kd_sync_csns_union(next_csns, base_csns);
    text = cookie_text(next);
    fields = g_strsplit(text, ",", -1);
    out = g_string_new(NULL);
    for (guint i = 0; fields[i] != NULL; i++) {
        if (i > 0) {
            g_string_append_c(out, ',');
        }
        if (g_str_has_prefix(fields[i], "csn=")) {
            g_autofree char *list = g_strjoinv(";", merged);

            g_string_append_printf(out, "csn=%s", list);
        } else {
            g_string_append(out, fields[i]);
        }
    }
    return g_string_free_to_bytes(out);
}

gboolean
kd_sync_csns_ahead(char *const *context, char *const *seen,
                   char *const *accepted, int *sid_out)
{
    for (guint i = 0; context != NULL && context[i] != NULL; i++) {
        int sid = kd_sync_csn_sid(context[i]);
        const char *s, *a;

        if (sid < 0) {
            continue;
        }
        s = csn_of(seen, sid);
        a = csn_of(accepted, sid);
        if ((s == NULL || strcmp(context[i], s) > 0) &&
            (a == NULL || strcmp(context[i], a) > 0)) {
            if (sid_out != NULL) {
                *sid_out = sid;
            }
            return TRUE;
        }
    }
    return FALSE;
}
