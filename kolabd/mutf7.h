/*
 * mutf7: UTF-8 <-> IMAP modified UTF-7 (RFC 3501 section 5.1.3).
 *
 * Mailbox names travel on the IMAP wire in modified UTF-7; LDAP, the
 * config file and the logs use UTF-8. model and folders convert every name
 * with kd_mutf7_encode() before it becomes part of a KdObject or a command;
 * imap uses kd_mutf7_decode() to show names from LIST in logs.
 *
 * The encoder always produces the single canonical form (printable ASCII
 * as itself, "&" as "&-", maximal encoded runs, no padding). The decoder is
 * strict: it accepts only that canonical form, so a decoded name always
 * re-encodes to the same bytes and two different wire names never decode
 * to the same UTF-8 string. Neither function allocates on error.
 */
#ifndef KOLABD_MUTF7_H
#define KOLABD_MUTF7_H

#include <glib.h>

#define KD_MUTF7_ERROR (kd_mutf7_error_quark())
GQuark kd_mutf7_error_quark(void);

typedef enum {
    KD_MUTF7_ERROR_INVALID_UTF8,  /* input to encode is not valid UTF-8 */
    KD_MUTF7_ERROR_INVALID_MUTF7, /* input to decode is not canonical mUTF-7 */
} KdMutf7Error;

/*
 * Encodes the NUL-terminated UTF-8 string @utf8. Returns a newly allocated
 * string, or NULL with @error set when @utf8 is not valid UTF-8 (NUL and
 * other control characters are valid UTF-8 and get encoded: refusing them
 * is the caller's policy).
 */
char *kd_mutf7_encode(const char *utf8, GError **error);

/*
 * Decodes the NUL-terminated modified UTF-7 string @mutf7. Returns a newly
 * allocated UTF-8 string, or NULL with @error set when @mutf7 contains
 * bytes outside 0x20..0x7e, a malformed or non-canonical shift sequence
 * (unterminated, empty "&" run other than "&-", adjacent runs, encoded
 * printable ASCII, non-zero padding bits, lone surrogates) or an encoded
 * U+0000.
 */
char *kd_mutf7_decode(const char *mutf7, GError **error);

#endif /* KOLABD_MUTF7_H */
