/*
 * imap-quote: validation and quoting of every argument kolabd puts on an
 * IMAP command line.
 *
 * libetpan's own senders may fall back to literals and do not refuse CR/LF;
 * kolabd builds its admin commands itself (see imap.c), so everything that
 * reaches the wire passes through here first. A value that is not safe is
 * refused with KD_IMAP_ERROR_INVALID_NAME before anything is sent: a CR or
 * LF would end the command and inject another one.
 *
 * Mailbox names are expected in modified UTF-7 (RFC 3501 5.1.3) and in the
 * admin namespace with '/' as separator and the domain last
 * ("user/john/Calendar@example.org"). They are checked to be canonical
 * mUTF-7 (decode, re-encode, compare), free of wildcards and control
 * characters, and to put the domain after the last '/'.
 */
#ifndef KOLABD_IMAP_QUOTE_H
#define KOLABD_IMAP_QUOTE_H

#include <glib.h>

/* Longest mailbox name, identifier or value accepted (bytes). */
#define KD_IMAP_QUOTE_MAX 4096

/*
 * TRUE if @mailbox is a safe admin-namespace mailbox name (see above). With
 * @pattern TRUE the wildcards '*' and '%' are allowed (LIST, GETMETADATA
 * over many mailboxes). On FALSE sets KD_IMAP_ERROR_INVALID_NAME naming the
 * mailbox and the reason.
 */
gboolean kd_imap_quote_check_mailbox(const char *mailbox, gboolean pattern,
                                     GError **error);

/*
 * TRUE if @text may be sent as an astring: non-empty unless @allow_empty,
 * 7-bit, no control characters (so no CR, LF, NUL), at most
 * KD_IMAP_QUOTE_MAX bytes. @what names the argument in the error
 * ("identifier", "metadata value" ...). Errors: KD_IMAP_ERROR_INVALID_NAME.
 */
gboolean kd_imap_quote_check_text(const char *text, const char *what,
                                  gboolean allow_empty, GError **error);

/*
 * Appends @text to @out as an atom when it consists only of
 * [A-Za-z0-9-._@/] characters that are safe everywhere, else as a quoted
 * string with '"' and '\' escaped. Never a literal. The caller must have
 * checked @text with one of the functions above.
 */
void kd_imap_quote_append(GString *out, const char *text);

/*
 * Appends @location ("server!partition" or "server") to @out as a bare
 * atom, as Cyrus requires for CREATE/RENAME locations (a quoted location
 * gives "BAD Unexpected extra arguments"). A location without '!' is sent
 * as "(SERVER server)" because "CREATE name server" makes the 3.6.1
 * frontend crash. Allowed: [A-Za-z0-9.:_-] and one '!' not at the start.
 * Errors: KD_IMAP_ERROR_INVALID_NAME.
 */
gboolean kd_imap_quote_append_location(GString *out, const char *location,
                                       GError **error);

/*
 * TRUE if @rights is a Cyrus rights string: optional leading '+' or '-',
 * then only letters from "lrswipkxtecdan" and digits. Alias words ("all")
 * are refused: Cyrus would read them letter by letter.
 * Errors: KD_IMAP_ERROR_INVALID_NAME.
 */
gboolean kd_imap_quote_check_rights(const char *rights, GError **error);

/*
 * TRUE if @entry is a METADATA entry name: starts with "/shared/" or
 * "/private/", then [A-Za-z0-9._/-], no "//", no trailing '/'.
 * Errors: KD_IMAP_ERROR_INVALID_NAME.
 */
gboolean kd_imap_quote_check_entry(const char *entry, GError **error);

#endif /* KOLABD_IMAP_QUOTE_H */
