/*
 * imap-uri: splits imap:// and imaps:// URIs into host and port. See
 * kd_imap_parse_uri() in imap.h.
 */
#include "config.h"

#include <string.h>

#include "imap.h"

static gboolean
bad_uri(const char *uri, GError **error)
{
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                "%s: expected imap://host[:port] or imaps://host[:port]", uri);
    return FALSE;
}

/* A host name or an IPv4 literal: letters, digits, '-', '.', '_'. */
static gboolean
valid_name(const char *host)
{
    if (*host == '\0') {
        return FALSE;
    }
    for (const char *p = host; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_') {
            return FALSE;
        }
    }
    return TRUE;
}

/* An IPv6 literal (without brackets): hex digits, ':' and '.' only. */
static gboolean
valid_ipv6(const char *host)
{
    if (strchr(host, ':') == NULL) {
        return FALSE;
    }
    for (const char *p = host; *p; p++) {
        if (!g_ascii_isxdigit(*p) && *p != ':' && *p != '.') {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
kd_imap_parse_uri(const char *uri, gboolean *tls_out, char **host_out,
                  guint16 *port_out, GError **error)
{
    const char *rest;
    const char *end;
    const char *colon;
    gboolean tls;
    guint64 port;
    g_autofree char *host = NULL;

    g_return_val_if_fail(uri != NULL, FALSE);
    if (g_str_has_prefix(uri, "imaps://")) {
        tls = TRUE;
        port = 993;
        rest = uri + strlen("imaps://");
    } else if (g_str_has_prefix(uri, "imap://")) {
        tls = FALSE;
        port = 143;
        rest = uri + strlen("imap://");
    } else {
        return bad_uri(uri, error);
    }
    end = rest + strcspn(rest, "/?#");
    if (*end != '\0' && strcmp(end, "/") != 0) {
        return bad_uri(uri, error);
    }
    if (rest[0] == '[') {
        const char *close = memchr(rest, ']', (gsize)(end - rest));

        if (close == NULL) {
            return bad_uri(uri, error);
        }
        host = g_strndup(rest + 1, (gsize)(close - rest - 1));
        if (!valid_ipv6(host)) {
            return bad_uri(uri, error);
        }
        if (close + 1 == end) {
            colon = NULL;
        } else if (close[1] == ':') {
            colon = close + 1;
        } else {
            return bad_uri(uri, error);
        }
    } else {
        colon = memchr(rest, ':', (gsize)(end - rest));
        host = g_strndup(rest, (gsize)((colon ? colon : end) - rest));
        if (!valid_name(host)) {
            return bad_uri(uri, error);
        }
    }
    if (colon != NULL) {
        g_autofree char *num = g_strndup(colon + 1, (gsize)(end - colon - 1));

        if (!g_ascii_string_to_unsigned(num, 10, 1, 65535, &port, NULL)) {
            return bad_uri(uri, error);
        }
    }
    if (tls_out != NULL) {
        *tls_out = tls;
    }
    *host_out = g_steal_pointer(&host);
    *port_out = (guint16)port;
    return TRUE;
}
