/*
 * imap-auth: LOGIN and AUTHENTICATE PLAIN (with an authorization id, for
 * acting as a user) for imap.h. Passwords never reach a log or an error
 * message.
 */
#include "config.h"

#include <string.h>

#include "imap-private.h"
#include "imap-quote.h"
#include "imap.h"

static void
logged_in(KdImap *imap, const char *identity)
{
    g_free(imap->identity);
    imap->identity = g_strdup(identity);
    imap->session->imap_state = MAILIMAP_STATE_AUTHENTICATED;
}

static gboolean
auth_error(KdImap *imap, const char *user, GError **error)
{
    if (error != NULL && *error != NULL && (*error)->code != KD_IMAP_ERROR_CLOSED) {
        (*error)->code = KD_IMAP_ERROR_AUTH;
    }
    g_prefix_error(error, "login as %s: ", user);
    return FALSE;
}

gboolean
kd_imap_login(KdImap *imap, const char *user, const char *password,
              GError **error)
{
    g_autoptr(GString) cmd = g_string_new("LOGIN ");

    if (!kd_imap_quote_check_text(user, "user name", FALSE, error)) {
        return FALSE;
    }
    if (password == NULL || strpbrk(password, "\r\n") != NULL ||
        !kd_imap_quote_check_text(password, "password", TRUE, NULL)) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_INVALID_NAME,
                    "login as %s: the password is not 7-bit printable; "
                    "use AUTHENTICATE PLAIN",
                    user);
        return FALSE;
    }
    kd_imap_quote_append(cmd, user);
    g_string_append_c(cmd, ' ');
    /* always quoted: an atom-looking password is still a password */
    g_string_append_c(cmd, '"');
    for (const char *p = password; *p; p++) {
        if (*p == '"' || *p == '\\') {
            g_string_append_c(cmd, '\\');
        }
        g_string_append_c(cmd, *p);
    }
    g_string_append_c(cmd, '"');
    if (!kd_imap_run(imap, NULL, "LOGIN", cmd->str, NULL, error)) {
        return auth_error(imap, user, error);
    }
    logged_in(imap, user);
    return TRUE;
}

gboolean
kd_imap_authenticate_plain(KdImap *imap, const char *authzid,
                           const char *authcid, const char *password,
                           GError **error)
{
    g_autoptr(GByteArray) raw = g_byte_array_new();
    g_autofree char *b64 = NULL;
    g_autofree char *cmd = NULL;
    const char *who = authzid && *authzid ? authzid : authcid;

    if (!kd_imap_quote_check_text(authcid, "authentication id", FALSE,
                                  error) ||
        (authzid != NULL &&
         !kd_imap_quote_check_text(authzid, "authorization id", TRUE,
                                   error))) {
        return FALSE;
    }
    g_return_val_if_fail(password != NULL, FALSE);
    if (authzid != NULL) {
        g_byte_array_append(raw, (const guint8 *) authzid, strlen(authzid));
    }
    g_byte_array_append(raw, (const guint8 *) "", 1);
    g_byte_array_append(raw, (const guint8 *) authcid, strlen(authcid));
    g_byte_array_append(raw, (const guint8 *) "", 1);
    g_byte_array_append(raw, (const guint8 *) password, strlen(password));
    b64 = g_base64_encode(raw->data, raw->len);
    memset(raw->data, 0, raw->len);
    if (kd_imap_has_capability(imap, "SASL-IR")) {
        cmd = g_strdup_printf("AUTHENTICATE PLAIN %s", b64);
        if (!kd_imap_run(imap, NULL, "AUTHENTICATE", cmd, NULL, error)) {
            return auth_error(imap, authcid, error);
        }
    } else if (!kd_imap_run_continued(imap, "AUTHENTICATE PLAIN", b64,
                                      error)) {
        return auth_error(imap, authcid, error);
    }
    logged_in(imap, who);
    return TRUE;
}
