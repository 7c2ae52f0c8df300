/*
 * hooks-json: the JSON document a provisioning hook reads on stdin.
 *
 * LDAP values can hold anything: quotes, backslashes, control characters,
 * invalid UTF-8. The writer here always produces valid JSON in valid
 * UTF-8: it escapes what JSON requires, escapes every control character
 * and U+2028/U+2029, and replaces each byte that is not part of a valid
 * UTF-8 sequence with U+FFFD. No JSON library is needed for this.
 *
 * Document (members with a NULL value are written as null):
 *   {"event": "...", "event_id": "...", "uuid": "...", "dn": "...",
 *    "mail": "...", "mailbox": "...", "mailhost": "...",
 *    "old_mailbox": "...", "old_mailhost": "...", "detail": "...",
 *    "object": null | {"kind": "user"|"shared"|"none", "uuid", "dn",
 *       "mail", "domain", "mailbox", "quota_kib": N|null, "acl",
 *       "folder_type", "mailhost", "attrs": {name: value, ...} (sorted),
 *       "error"}}
 * quota_kib is the limit in KiB, -1 for unlimited, null when unset.
 */
#ifndef KOLABD_HOOKS_JSON_H
#define KOLABD_HOOKS_JSON_H

#include <glib.h>

#include "hooks.h"

/*
 * Appends @value as a JSON string literal (with the quotes) to @out, or
 * `null` when @value is NULL. Never fails.
 */
void kd_hooks_json_append_string(GString *out, const char *value);

/*
 * The document above for @ev, with @event_id (not NULL) as its event_id.
 * Returns a newly allocated string (g_free).
 */
char *kd_hooks_json_payload(const KdHookEvent *ev, const char *event_id);

#endif /* KOLABD_HOOKS_JSON_H */
