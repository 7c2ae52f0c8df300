/*
 * acl-private: what acl.c (the ACL model, canonical form and diff) shares
 * with acl-parse.c (reading LDAP values, GETACL and the string form); not
 * for other modules.
 */
#ifndef KOLABD_ACL_PRIVATE_H
#define KOLABD_ACL_PRIVATE_H

#include "acl.h"

/* A printable copy of untrusted bytes (at most 80 shown) for messages. */
char *kd_acl_quote_for_message(const char *data, gsize len);
/* Cyrus' rights letters to a mask; FALSE on a letter Cyrus does not know. */
gboolean kd_acl_letters_to_mask(const char *letters, guint32 *mask_out);
/* Adds @len bytes of @subject with @rights ("+x", "-x", letters or an
 * alias), checking both. */
gboolean kd_acl_add_checked(KdAcl *acl, const char *subject, gsize len,
                            const char *rights, GError **error);

#endif /* KOLABD_ACL_PRIVATE_H */
