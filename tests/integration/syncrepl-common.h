/*
 * syncrepl-common: helpers shared by the syncrepl integration tests and
 * kd-sync-tool: the test classifier (an entry with mail is a user whose
 * mailbox is user/<mail>), ground truth from a plain LDAP search, and the
 * present objects of a store, both as hex uuid -> lower-cased mail.
 */
#ifndef KOLABD_TESTS_SYNCREPL_COMMON_H
#define KOLABD_TESTS_SYNCREPL_COMMON_H

#include <glib.h>

#include "entry.h"
#include "object.h"

/* The test filter and attributes. */
#define KD_TEST_FILTER "(&(objectClass=inetOrgPerson)(mail=*))"
extern const char *const kd_test_attrs[];

KdObject *kd_test_classify(const guint8 uuid[KD_UUID_LEN], const KdEntry *entry,
                           gpointer user_data);

/* A plain (non-sync) subtree search of @base with @filter, bound as
 * @bind_dn/@pw: a new table hex uuid -> mail, or NULL with @error. */
GHashTable *kd_test_ldap_truth(const char *uri, const char *bind_dn,
                               const char *pw, const char *base,
                               const char *filter, GError **error);

/* Present objects of the store at @path: hex uuid -> mail. */
GHashTable *kd_test_store_present(const char *path, GError **error);

/* NULL when @a and @b hold the same pairs, else a description of the
 * first differences (g_free). */
char *kd_test_diff(GHashTable *truth, GHashTable *store);

#endif /* KOLABD_TESTS_SYNCREPL_COMMON_H */
