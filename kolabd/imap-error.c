/*
 * imap-error: classification of Cyrus replies into KD_IMAP_ERROR codes.
 *
 * Cyrus 3.6 sends none of the RFC 5530 codes (ALREADYEXISTS, NONEXISTENT,
 * NOPERM ...), so the human text decides; the table follows
 * notes/cyrus.md section 4. Codes are still honoured first in case a newer
 * server sends them.
 */
#include "config.h"

#include <string.h>

#include "imap.h"

G_DEFINE_QUARK(kd-imap-error-quark, kd_imap_error)

static const struct {
    const char *needle; /* case-insensitive substring of the text */
    KdImapError code;
} text_table[] = {
    {"Mailbox already exists", KD_IMAP_ERROR_EXISTS},
    {"unable to reserve mailbox on mupdate server",
     KD_IMAP_ERROR_EXISTS_ELSEWHERE},
    {"Mailbox does not exist", KD_IMAP_ERROR_NONEXISTENT},
    {"Mailbox has inferior hierarchical names", KD_IMAP_ERROR_HAS_CHILDREN},
    {"Permission denied", KD_IMAP_ERROR_PERMISSION},
    {"Invalid mailbox name", KD_IMAP_ERROR_INVALID_NAME},
    {"no connection to server", KD_IMAP_ERROR_TRANSIENT},
    {"Server(s) unavailable", KD_IMAP_ERROR_TRANSIENT},
    {"System I/O error", KD_IMAP_ERROR_TRANSIENT},
    {"Mailbox is locked", KD_IMAP_ERROR_TRANSIENT},
    {"invalid partition", KD_IMAP_ERROR_CONFIG},
    {"Operation is not supported", KD_IMAP_ERROR_CONFIG},
    {"does not exist on a single backend", KD_IMAP_ERROR_CONFIG},
    {"Remote mailbox", KD_IMAP_ERROR_CONFIG},
    {"move w/rename not supported", KD_IMAP_ERROR_BUG},
    {"Unsupported quota resource", KD_IMAP_ERROR_BUG},
    {"authentication failure", KD_IMAP_ERROR_AUTH},
    {"Login failed", KD_IMAP_ERROR_AUTH},
    {"Authentication failed", KD_IMAP_ERROR_AUTH},
};

static const struct {
    const char *code;
    KdImapError error;
} code_table[] = {
    {"ALREADYEXISTS", KD_IMAP_ERROR_EXISTS},
    {"NONEXISTENT", KD_IMAP_ERROR_NONEXISTENT},
    {"NOPERM", KD_IMAP_ERROR_PERMISSION},
    {"HASCHILDREN", KD_IMAP_ERROR_HAS_CHILDREN},
    {"REFERRAL", KD_IMAP_ERROR_CONFIG},
    {"UNAVAILABLE", KD_IMAP_ERROR_TRANSIENT},
    {"INUSE", KD_IMAP_ERROR_TRANSIENT},
    {"SERVERBUG", KD_IMAP_ERROR_TRANSIENT},
    {"AUTHENTICATIONFAILED", KD_IMAP_ERROR_AUTH},
    {"AUTHORIZATIONFAILED", KD_IMAP_ERROR_AUTH},
    {"CANNOT", KD_IMAP_ERROR_CONFIG},
};

static gboolean
contains_ci(const char *haystack, const char *needle)
{
    gsize n = strlen(needle);

    for (const char *p = haystack; *p; p++) {
        if (g_ascii_strncasecmp(p, needle, n) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

KdImapError
kd_imap_error_classify(const char *status, const char *code, const char *text)
{
    if (status != NULL && g_ascii_strcasecmp(status, "BYE") == 0) {
        return KD_IMAP_ERROR_CLOSED;
    }
    if (status != NULL && g_ascii_strcasecmp(status, "BAD") == 0) {
        return KD_IMAP_ERROR_BUG;
    }
    if (code != NULL) {
        for (gsize i = 0; i < G_N_ELEMENTS(code_table); i++) {
            if (g_ascii_strcasecmp(code, code_table[i].code) == 0) {
                return code_table[i].error;
            }
        }
    }
    if (text != NULL) {
        for (gsize i = 0; i < G_N_ELEMENTS(text_table); i++) {
            if (contains_ci(text, text_table[i].needle)) {
                return text_table[i].code;
            }
        }
    }
    return KD_IMAP_ERROR_FAILED;
}

gboolean
kd_imap_error_is_transient(const GError *error)
{
    return error != NULL && error->domain == KD_IMAP_ERROR &&
           (error->code == KD_IMAP_ERROR_TRANSIENT ||
            error->code == KD_IMAP_ERROR_CLOSED ||
            error->code == KD_IMAP_ERROR_TLS);
}
