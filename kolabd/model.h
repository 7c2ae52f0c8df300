/*
 * model: what an LDAP entry asks for in Cyrus.
 *
 * ldap-sync hands every entry it receives to kd_model_classify(), which
 * decides with the configured filters (evaluated locally, filter.h)
 * whether the entry is a user, a shared folder or neither, and derives the
 * desired state (KdObject, object.h) following pykolab's rules
 * (notes/kolab.md 3, 5, 6):
 *
 *   - user: mailbox "user/<mail lower-cased>", quota from the quota
 *     attribute (KiB; -1 unlimited; unset, 0 or negative: [kolab]
 *     default_quota), no ACL;
 *   - shared folder: path from kolabTargetFolder, else the part after '+'
 *     of the delivery address, else cn; "shared/" prefix added (and
 *     "shared/shared/" collapsed); domain from the path's "@domain", else
 *     the entry's own mail, else the delivery address, else
 *     [kolab] primary_domain; mailbox "shared/<path>@<domain>" in modified
 *     UTF-7; ACL from every acl value plus "anyone +p" when the delivery
 *     attribute is present; folder type from the type attribute;
 *   - both: mailHost (lower-cased) and the extra attributes placement
 *     plugins asked for.
 *
 * Hostile values never reach a mailbox name: a value that cannot make a
 * safe name (NUL, CR, LF, other controls, invalid UTF-8, IMAP wildcards,
 * quotes, backslash, '^', "..", empty components, leading or trailing
 * '/', names over 490 bytes, a mail with several '@', a domain with '/'),
 * an unusable quota, ACL or folder type gives object->error, one sentence
 * naming the attribute, with object->mailbox NULL. The caller logs it with
 * the DN and carries on.
 */
#ifndef KOLABD_MODEL_H
#define KOLABD_MODEL_H

#include <glib.h>

#include "config.h"
#include "entry.h"
#include "object.h"

typedef struct KdModel KdModel;

/*
 * A model for @config. Copies what it needs: @config may be freed
 * afterwards. NULL with @error set when a configured filter does not parse
 * (config normally caught that already).
 */
KdModel *kd_model_new(const KdConfig *config, GError **error);
/* Frees @model; accepts NULL. */
void kd_model_free(KdModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdModel, kd_model_free)

/*
 * Attributes whose first value is copied into KdObject.attrs for placement
 * plugins (NULL-terminated, may be NULL to clear). They are added to
 * kd_model_wanted_attrs(). Not thread-safe against concurrent classify.
 */
void kd_model_set_extra_attrs(KdModel *model, const char *const *attrs);

/*
 * Fixes "now" (Unix seconds) for the expiry of tuple ACL values; 0 (the
 * default) means the real clock. For tests.
 */
void kd_model_set_now(KdModel *model, gint64 now);

/*
 * Classifies @entry (identified by @uuid) and returns a new KdObject:
 * kind NONE when neither filter matches (only uuid and dn set), USER or
 * SHARED otherwise, with object->error set and mailbox NULL when the entry
 * is unusable. Never NULL. Thread-safe (the model is read-only here).
 */
KdObject *kd_model_classify(const KdModel *model,
                            const guint8 uuid[KD_UUID_LEN],
                            const KdEntry *entry);

/*
 * Attributes the sync search must request: objectclass, everything the
 * filters mention, mail, alias, cn, kolabtargetfolder and the configured
 * mail server, quota, ACL, folder type and delivery address attributes,
 * plus the extra attributes; lower-case, each once, NULL-terminated.
 * Owned by @model, valid until the next kd_model_set_extra_attrs().
 */
const char *const *kd_model_wanted_attrs(const KdModel *model);

/* "(|USER SHARED)": the filter of the sync search. Owned by @model. */
const char *kd_model_sync_filter(const KdModel *model);

/*
 * Checks a mail address as used for user/<mail>: exactly one '@', only
 * letters, digits and "#$'+-.=_~" (what Cyrus' mailbox-name policy allows,
 * less the characters kolabd's names reserve), a non-empty local part
 * without leading, trailing or double dots, and a DNS domain. On success returns the
 * lower-cased address, else NULL with a reason in *@why_out (static
 * string).
 */
char *kd_model_check_mail(const char *mail, const char **why_out);

#endif /* KOLABD_MODEL_H */
